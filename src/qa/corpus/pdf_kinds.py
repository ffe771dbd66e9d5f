"""What each line of a PDF is, by where it sits and how it looks: page furniture (running
headers and footers, page numbers, a browser's print header and footer), a footnote (smaller
type at the bottom of a column, starting with its mark), a contents or index line, a figure's
text (inside an image) or a table row (cells parted by wide gaps, aligned with the rows
around it); anything else is body text."""

import re
from collections import Counter

from qa.corpus.blocks import Kind, clean
from qa.corpus.pdf_layout import Line

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
    (two in a short document) in its usual size, or a lone page number, web address or print
    date there."""
    edges: Counter[str] = Counter()
    sizes: dict[str, float] = {}
    for page in pages:
        edges.update({_shape(line) for line in _edges(page)})
        for line in _edges(page):
            sizes[_shape(line)] = min(line.size, sizes.get(_shape(line), line.size))
    needed = 3 if len(pages) >= 6 else 2
    kept = []
    for page in pages:
        edge = {id(line) for line in _edges(page)}
        apart = {id(line) for line in _set_apart(page)}

        def furniture(line: Line) -> bool:
            if id(line) not in edge:
                return False
            shape = _shape(line)
            running = edges[shape] >= needed and len(pages) > 1
            if running and line.size <= 1.3 * sizes[shape]:  # not a title page's title
                return True
            return _lone_furniture(line, id(line) in apart)

        kept.append([line for line in page if not furniture(line)])
    return kept


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


def kinds(lines: list[Line], body_size: float, figures: dict[int, list[tuple]]) -> list[Kind]:
    """The kind of each line of the document, in reading order."""
    result = [Kind.BODY] * len(lines)
    for i, line in enumerate(lines):
        if any(_inside(line, box) for box in figures.get(line.page, ())):
            result[i] = Kind.FIGURE
    _mark_footnotes(lines, body_size, result)
    _mark_contents(lines, result)
    _mark_tables(lines, result)
    return result


def _inside(line: Line, box: tuple) -> bool:
    left, bottom, right, top = box
    x, y = (line.left + line.right) / 2, (line.top + line.bottom) / 2
    return left <= x <= right and bottom <= y <= top


def column_break(previous: Line, line: Line) -> bool:
    """Whether reading goes on at a new page or at the top of the next column."""
    return line.page != previous.page or line.top > previous.top + 1


def _mark_footnotes(lines: list[Line], body_size: float, result: list[Kind]) -> None:
    """Footnotes: a stretch of smaller type ending a column (or page), its first line
    starting with a footnote mark."""
    i = 0
    while i < len(lines):
        if result[i] != Kind.BODY or not _small(lines[i], body_size) or not _MARK.match(
            clean(lines[i].text)
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
            if result[i] == Kind.BODY and previous is not None and result[previous] == Kind.CONTENTS:
                if lines[i].page == lines[previous].page and _numbered(lines[i]):
                    result[i] = Kind.CONTENTS
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
    return len(text) < 70 and len(line.cells) <= 2 and _numbered(line)


def _mark_tables(lines: list[Line], result: list[Kind]) -> None:
    """Table rows: lines of two or more cells, two or more in a row sharing cell edges, and
    the one-cell lines among them that start at one of those edges (a cell's next line)."""
    i = 0
    while i < len(lines):
        if result[i] != Kind.BODY or len(lines[i].cells) < 2:
            i += 1
            continue
        columns = list(lines[i].starts)
        end = i + 1
        while end < len(lines) and result[end] == Kind.BODY:
            line = lines[end]
            if column_break(lines[end - 1], line) or not _aligned(line, columns):
                break
            end += 1
        rows = [line for line in lines[i:end] if len(line.cells) >= 2]
        if len(rows) >= 2 and _shared_edges(rows) >= 2:
            result[i:end] = [Kind.TABLE] * (end - i)
        i = end


def _aligned(line: Line, columns: list[float]) -> bool:
    return all(any(abs(start - c) < 3 for c in columns) for start in line.starts) and (
        len(line.cells) >= 2 or line.starts[0] > columns[0] + 3
    )


def _shared_edges(rows: list[Line]) -> int:
    first, *rest = rows
    return sum(1 for s in first.starts if all(any(abs(s - t) < 3 for t in r.starts) for r in rest))
