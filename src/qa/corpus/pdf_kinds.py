"""What each line of a PDF is, by where it sits and how it looks: page furniture (running
headers and footers, page numbers, a browser's print header and footer), a footnote (smaller
type at the bottom of a column, starting with its mark), code (a fixed-pitch font), a
contents or index line, a figure's
text (inside an image) or a table row (cells parted by wide gaps, aligned with the rows
around it); anything else is body text."""

import re
from collections import Counter

from qa.corpus.blocks import Kind, clean
from qa.corpus.pdf_layout import Box, Figures, Line

_EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be furniture
_NUMBER = re.compile(r"\d+|\b[ivxlcdm]+\b", re.IGNORECASE)
# A page number alone ("12", "iv", "- 3 -", "Page 3 of 7", "3/12"), a web address, a date.
_PAGE_NUMBER = re.compile(
    r"^[-–— ]*(page\s*)?(\d+|[ivxlcdm]+)(\s*(/|of)\s*\d+)?[-–— ]*$", re.IGNORECASE
)
_ADDRESS = re.compile(r"^(https?|file)://\S+(\s+\d+\s*/\s*\d+)?$")
_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4},?\s+\d{1,2}:\d{2}(\s*[AP]M)?\b")
_MARK = re.compile(r"^([0-9]{1,3}|[*†‡§¶⁰¹²³⁴⁵⁶⁷⁸⁹]+)(?=\s|[A-Za-z(“\"'])")
_LEADER = re.compile(r"(\.\s?){4,}\s*\S{1,8}$|(\s\.){3,}")
_NUMBERED = re.compile(r"^\d+(\.\d+)*\s+\S|\s(\d+|[ivxlcdm]+)$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?:;][\"'”’)\]]*$")


def drop_furniture(pages: list[list[Line]]) -> list[list[Line]]:
    """Each page's lines without its running header and footer: a line among the top or
    bottom few of a page whose shape (numbers blanked) sits at an edge of three or more pages
    (two in a short document), or a lone page number, web address or print date there; none
    in type larger than the body's."""
    edges: Counter[str] = Counter()
    body: Counter[float] = Counter()
    for page in pages:
        edges.update({_shape(line) for line in _edges(page)})
        for line in page:
            body[round(line.size, 1)] += line.chars
    needed = 3 if len(pages) >= 6 else 2
    running = {s for s, n in edges.items() if n >= needed and len(pages) > 1}
    usual = body.most_common(1)[0][0] if body else 0.0
    kept = []
    for page in pages:
        edge = {id(line) for line in _edges(page)}
        apart = {id(line) for line in _set_apart(page)}
        kept.append([line for line in page if not _furniture(line, edge, apart, running, usual)])
    return kept


def _furniture(
    line: Line, edge: set[int], apart: set[int], running: set[str], usual: float
) -> bool:
    """An edge line in a running header's shape and no larger than body type (a chapter's
    heading atop its first page is not furniture), or a lone page number there."""
    if id(line) not in edge or line.size > 1.15 * usual:
        return False
    if _shape(line) in running:
        return True
    return _lone_furniture(line, id(line) in apart)


def _set_apart(page: list[Line]) -> list[Line]:
    """The top and the bottom line of a page when white space wider than two lines parts
    them from the rest (where a running header or footer sits)."""
    by_height = sorted(page, key=lambda line: -line.top)
    if len(by_height) < 2:
        return by_height
    first, second, last, before = by_height[0], by_height[1], by_height[-1], by_height[-2]
    apart = []
    if first.bottom - second.top > 2 * first.size:
        apart.append(first)
    if before.bottom - last.top > 2 * last.size:
        apart.append(last)
    return apart


def _edges(page: list[Line]) -> list[Line]:
    by_height = sorted(page, key=lambda line: -line.top)
    return by_height[:_EDGE_LINES] + by_height[-_EDGE_LINES:]


def _shape(line: Line) -> str:
    return _NUMBER.sub("#", clean(line.text)).lower()


def _lone_furniture(line: Line, apart: bool) -> bool:
    text = clean(line.text)
    first, last = line.cells[0] if line.cells else text, line.cells[-1] if line.cells else text
    numbered = bool(_PAGE_NUMBER.match(first) or _PAGE_NUMBER.match(last))
    return bool(
        _PAGE_NUMBER.match(text)
        or (apart and len(line.cells) > 1 and numbered)
        or _ADDRESS.match(text)
        or _DATE.match(text)
        or (len(line.cells) > 1 and numbered and (_ADDRESS.match(first) or _DATE.match(first)))
    )


def kinds(lines: list[Line], body_size: float, figures: dict[int, Figures]) -> list[Kind]:
    """The kind of each line of the document, in reading order."""
    result = [Kind.BODY] * len(lines)
    by_page: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        by_page.setdefault(line.page, []).append(i)
    for page, indices in by_page.items():
        found = figures.get(page, Figures())
        charts = _charts(found, [lines[i] for i in indices])
        for i in indices:
            if _in_figure(lines[i], found.images, charts, body_size):
                result[i] = Kind.FIGURE
    _mark_footnotes(lines, body_size, result)
    _mark_contents(lines, result)
    _mark_tables(lines, result)
    for i, line in enumerate(lines):  # a heading may be set in a typewriter font
        if result[i] == Kind.BODY and line.mono and line.size <= 1.15 * body_size:
            result[i] = Kind.CODE
    return result


def _charts(figures: Figures, lines: list[Line]) -> list[tuple[Box, list[Box]]]:
    """The drawings that are charts: one of their shapes at least is a sizeable one that
    holds no text (a bar, a slice, a curve's area), where a shaded code block or a striped
    table holds text in each."""
    return [
        (box, shapes)
        for box, shapes in figures.drawings
        if any(_empty(shape, lines) for shape in shapes)
    ]


def _empty(shape: Box, lines: list[Line]) -> bool:
    left, bottom, right, top = shape
    return right - left >= 8 and top - bottom >= 8 and not any(_inside(x, shape) for x in lines)


def _in_figure(
    line: Line, images: list[Box], charts: list[tuple[Box, list[Box]]], body_size: float
) -> bool:
    """Text on an image, or a chart's label: a short line (a few words, no sentence, not
    code) within three lines' reach of a chart, not inside one of its shapes."""
    if any(_inside(line, box) for box in images):
        return True
    text = clean(line.text)
    if len(text.split()) > 5 or _SENTENCE_END.search(text) or line.mono:
        return False
    return any(
        _inside(line, box, 3 * body_size) and not any(_inside(line, s) for s in shapes)
        for box, shapes in charts
    )


def _inside(line: Line, box: Box, reach: float = 0.0) -> bool:
    left, bottom, right, top = box
    x, y = (line.left + line.right) / 2, (line.top + line.bottom) / 2
    return left - reach <= x <= right + reach and bottom - reach <= y <= top + reach


def column_break(previous: Line, line: Line) -> bool:
    """Whether reading goes on at a new page or at the top of the next column."""
    return line.page != previous.page or line.top > previous.top + 1


def _mark_footnotes(lines: list[Line], body_size: float, result: list[Kind]) -> None:
    """Footnotes: a stretch of smaller type ending a column (or page), its first line
    starting with a footnote mark."""
    i = 0
    while i < len(lines):
        if (
            result[i] != Kind.BODY
            or not _small(lines[i], body_size)
            or not _MARK.match(clean(lines[i].text))
        ):
            i += 1
            continue
        end = i + 1
        while end < len(lines) and _small(lines[end], body_size):
            if column_break(lines[end - 1], lines[end]):
                break
            end += 1
        if end == len(lines) or column_break(lines[end - 1], lines[end]):
            result[i:end] = [Kind.FOOTNOTE] * (end - i)
        i = end


def _small(line: Line, body_size: float) -> bool:
    return line.size < 0.9 * body_size


def _mark_contents(lines: list[Line], result: list[Kind]) -> None:
    """Contents lines: dot leaders to a page number, and the lines ending (or starting) with
    a number among them; three or more short numbered lines in a row (an index)."""
    for i, line in enumerate(lines):
        if result[i] == Kind.BODY and _LEADER.search(clean(line.text)):
            result[i] = Kind.CONTENTS
    for order in (range(len(lines)), range(len(lines) - 1, -1, -1)):
        previous = None
        for i in order:
            after_contents = previous is not None and result[previous] == Kind.CONTENTS
            if after_contents and result[i] == Kind.BODY and _numbered(lines[i]):
                result[i] = Kind.CONTENTS if lines[i].page == lines[previous].page else result[i]
            previous = i
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and result[end] == Kind.BODY and _index_line(lines[end]):
            end += 1
        if end - start >= 3:
            result[start:end] = [Kind.CONTENTS] * (end - start)
        start = max(end, start + 1)


def _numbered(line: Line) -> bool:
    text = clean(line.text)
    return bool(_NUMBERED.search(text)) and not _SENTENCE_END.search(text)


def _index_line(line: Line) -> bool:
    text = clean(line.text)
    return len(text) < 70 and len(line.cells) <= 2 and _numbered(line) and not line.mono


def _mark_tables(lines: list[Line], result: list[Kind]) -> None:
    """Table rows: a stretch of lines of one page and column holding two or more lines of
    two or more cells whose edges line up, and the one-cell lines among them that start at
    one of those edges (a cell's next line). Each gets the x of the white strips parting
    the stretch's columns, by which its cells are put in their columns."""
    i = 0
    while i < len(lines):
        if result[i] != Kind.BODY or len(lines[i].cells) < 2:
            i += 1
            continue
        start, end = i, i + 1
        edges = set(lines[i].starts)
        while end < len(lines) and _in_table(lines, end, end - 1, result, edges):
            edges |= set(lines[end].starts) if len(lines[end].cells) > 1 else set()
            end += 1
        while start > 0 and _in_table(lines, start - 1, start, result, edges):
            start -= 1
        rows = [line for line in lines[start:end] if len(line.cells) >= 2]
        listing = all(line.mono for line in rows)  # aligned code is code
        if len(rows) >= 2 and _shared_edges(rows) >= 2 and not listing:
            separators = _separators(lines[start:end])
            for k in range(start, end):
                result[k] = Kind.TABLE
                lines[k].separators = separators
        i = end


def _in_table(lines: list[Line], k: int, neighbour: int, result: list[Kind], edges: set) -> bool:
    line = lines[k]
    if result[k] != Kind.BODY or column_break(*sorted((lines[k], lines[neighbour]), key=_order)):
        return False
    if len(line.cells) >= 2:
        return True
    return any(abs(line.starts[0] - e) < 3 for e in edges) and line.starts[0] > min(edges) + 3


def _order(line: Line) -> tuple[int, float]:
    return line.page, -line.top


def _shared_edges(rows: list[Line]) -> int:
    """How many cell edges two or more of a stretch's multi-cell lines share."""
    shared: list[float] = []
    for k, row in enumerate(rows):
        for start in row.starts:
            others = rows[:k] + rows[k + 1 :]
            seen = any(abs(start - t) < 3 for r in others for t in r.starts)
            if seen and not any(abs(start - s) < 3 for s in shared):
                shared.append(start)
    return len(shared)


def _separators(lines: list[Line]) -> tuple[float, ...]:
    """The x of each white strip that no cell of the lines crosses."""
    spans = sorted((s, e) for line in lines for s, e in zip(line.starts, line.ends, strict=True))
    separators = []
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start > reach:
            separators.append((reach + start) / 2)
        reach = max(reach, end)
    return tuple(separators)
