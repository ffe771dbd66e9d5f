"""PDFs read from their text layer as a careful reader reads them: lines in reading order (a
two-column page's left column first; `pdf_layout`), page furniture left out and each line's
kind told (footnote, table row, contents line, figure text; `pdf_kinds`), then body lines
joined into paragraphs until a gap wider than the line spacing, larger type as headings,
words broken at a line's end joined (pdfium's soft-hyphen marks dropped), and a paragraph
kept whole over a page or column break and the footnotes that interrupt it."""

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from qa.corpus.blocks import TITLE, Block, Kind, UnreadableError, clean, names_a_part, numbered
from qa.corpus.pdf_columns import page_lines
from qa.corpus.pdf_kinds import column_break, drop_furniture, kinds
from qa.corpus.pdf_layout import Figures, Line, page_figures, page_runs

if TYPE_CHECKING:
    import pypdfium2

# pdfium's marks of a word broken at a line's end: U+FFFE for the hyphen it saw there,
# sometimes a soft hyphen (U+00AD) or U+0002.
_BREAK_MARKS = "\ufffe\u00ad\u0002"
_STRAY_MARK = re.compile(f"[{_BREAK_MARKS}]\\s*")
_SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*$")
_MARK = re.compile(r"^([0-9]{1,3}|[*†‡§¶⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
_FILE_NAME = re.compile(
    r"^(microsoft \w+ - |untitled|title$|document\d*$|slide \d+$)|\.(docx?|odt|rtf|pdf|tex|dvi"
    r"|txt|html?|pptx?|xlsx?|indd|qxd|ps)$",
    re.IGNORECASE,
)
_TITLE_PAGES = 3  # a title without metadata is the largest type on the first pages
_TITLE_MAX_CHARS, _TITLE_MAX_WORDS = 150, 20


def read_pdf(path: Path) -> list[Block]:
    """The PDF's blocks: its title, headings and paragraphs of each kind, in reading order."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise UnreadableError(f"not a readable PDF ({exc})") from exc
    try:
        pages, figures = [], {}
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                pages.append(page_lines(page_runs(page), index + 1))
                figures[index + 1] = page_figures(page)
            finally:
                page.close()
        title = _metadata_title(pdf)
    finally:
        pdf.close()
    if not any(line.text.strip() for page in pages for line in page):
        raise UnreadableError("no text layer (a scanned PDF?)")
    lines = [line for page in drop_furniture(pages) for line in page if clean(line.text)]
    return _blocks(lines, figures, title)


def _metadata_title(pdf: "pypdfium2.PdfDocument") -> str:
    """The document's title from its metadata, unless it is empty, a file's name or the
    name of a part of a document ("Abstract")."""
    title = clean(pdf.get_metadata_dict().get("Title", "") or "")
    if len(title) < 3 or _FILE_NAME.search(title) or not any(c.isalpha() for c in title):
        return ""
    if names_a_part(title):
        return ""
    return title


def _blocks(lines: list[Line], figures: dict[int, Figures], title: str) -> list[Block]:
    if not lines:
        return [Block(title, TITLE, ((0, 1),))] if title else []
    body = _body_size(lines)
    line_kinds = kinds(lines, body, figures)
    sizes = sorted({round(line.size, 1) for line in lines if line.size > body * 1.15}, reverse=True)

    def level_of(line: Line) -> int | None:
        return sizes.index(round(line.size, 1)) + 1 if line.size > body * 1.15 else None

    builder = _Builder(_leading(lines))
    for line, kind in zip(lines, line_kinds, strict=True):
        if kind == Kind.BODY:
            builder.body(line, level_of(line))
        elif kind == Kind.FOOTNOTE:
            builder.footnote(line)
        elif kind == Kind.TABLE:
            builder.table(line)
        elif kind == Kind.CODE:
            builder.code(line)
        else:
            builder.single(line, kind)
    blocks = builder.finish()
    return _with_title(blocks, title)


def _body_size(lines: list[Line]) -> float:
    """The size of most of the document's characters."""
    counts: Counter[float] = Counter()
    for line in lines:
        counts[round(line.size, 1)] += line.chars
    return counts.most_common(1)[0][0]


def _leading(lines: list[Line]) -> float:
    """The usual distance from a line's baseline to the next one's, in font sizes."""
    counts: Counter[float] = Counter()
    for previous, line in pairwise(lines):
        if line.page == previous.page and abs(line.size - previous.size) < 0.1:
            ratio = (previous.bottom - line.bottom) / line.size
            if 0.8 < ratio < 3:
                counts[round(ratio, 2)] += 1
    return counts.most_common(1)[0][0] if counts else 1.2


@dataclass(slots=True)
class _Paragraph:
    """A block being read: its text so far, where pages begin in it, its last line."""

    kind: Kind
    level: int | None = None
    text: str = ""
    pages: list[tuple[int, int]] = field(default_factory=list)
    last: Line | None = None
    columns: tuple[float, ...] = ()  # a row's column separators; a footnote's first x
    cells: list[str] = field(default_factory=list)
    right: float = 0.0  # where its longest line ends

    def add(self, line: Line, piece: str) -> None:
        text = self.text
        if not text:
            mark, text = 0, piece
        elif self.kind != Kind.CODE and _broken_word(text, piece):
            mark, text = len(text) - 1, text[:-1] + piece
        else:
            mark, text = len(text) + 1, f"{text} {piece}"
        if not self.pages or self.pages[-1][1] != line.page:
            self.pages.append((mark, line.page))
        self.text, self.last, self.right = text, line, max(self.right, line.right)

    def block(self) -> Block:
        text, pages = self.text, self.pages
        if self.cells:
            text, pages = " ".join(c for c in self.cells if c), [(0, self.last.page)]  # type: ignore[union-attr]
        text, pages = _without_marks(text, pages)
        return Block(text, self.level, tuple(pages), self.kind)


def _broken_word(text: str, piece: str) -> bool:
    """A word broken over the line's end: a hyphen (or pdfium's mark of one) after a letter,
    and a lower-case letter going on."""
    return (
        len(text) > 1
        and text[-1] in "-" + _BREAK_MARKS
        and text[-2].isalpha()
        and piece[:1].islower()
    )


def _without_marks(text: str, pages: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """A hyphen mark left before a capital or a digit (a real hyphen at a line's end:
    US-ASCII) becomes a hyphen; any other stray mark goes; page marks shift to match."""
    if not any(c in text for c in _BREAK_MARKS):
        return text, pages
    out, cuts, position = [], [], 0
    for match in _STRAY_MARK.finditer(text):
        following = text[match.end() : match.end() + 1]
        keep = "-" if following.isupper() or following.isdigit() else ""
        out += [text[position : match.start()], keep]
        cuts.append((match.end(), len(match.group()) - len(keep)))
        position = match.end()
    out.append(text[position:])
    moved = [(offset - sum(n for end, n in cuts if end <= offset), page) for offset, page in pages]
    return "".join(out), moved


class _Builder:
    """Blocks from lines in reading order: a body paragraph goes on over a page or column
    break and over the footnotes, which follow it as their own blocks."""

    def __init__(self, leading: float) -> None:
        self.leading = leading  # a wider step from line to line starts a paragraph
        self.blocks: list[Block] = []
        self.open: _Paragraph | None = None  # the body paragraph or heading being read
        self.notes: list[_Paragraph] = []  # footnotes met while it was open
        self.row: _Paragraph | None = None

    def body(self, line: Line, level: int | None) -> None:
        self._close_row()
        current = self.open
        if current is not None and not self._continues(current, line, level):
            self._close()
            current = None
        if current is None:
            self._flush_notes()  # footnotes met while no paragraph was open
            current = self.open = _Paragraph(Kind.BODY, level)
        current.add(line, clean(line.text))

    def _continues(self, current: _Paragraph, line: Line, level: int | None) -> bool:
        previous = current.last
        if previous is None or level != current.level or current.kind != Kind.BODY:
            return False
        ended = _SENTENCE_END.search(current.text) is not None
        if column_break(previous, line):  # over a page or column break: unless it ended
            return not ended
        # an indented line after a short one that ended a sentence starts a paragraph
        indented = line.left > previous.left + 0.8 * line.size
        if ended and indented and previous.right < current.right - 2 * line.size:
            return False
        return previous.bottom - line.bottom <= (self.leading + 0.3) * line.size

    def code(self, line: Line) -> None:
        """Lines of code: one block until a wider step down (over page breaks too)."""
        self._close_row()
        current = self.open
        if current is not None and current.last is not None:
            previous = current.last
            step = previous.bottom - line.bottom > (self.leading + 0.3) * line.size
            if current.kind != Kind.CODE or (step and not column_break(previous, line)):
                self._close()
                current = None
        if current is None:
            self._flush_notes()
            current = self.open = _Paragraph(Kind.CODE)
        current.add(line, clean(line.text))

    def footnote(self, line: Line) -> None:
        self._close_row()
        text = clean(line.text)
        aligned = self.notes and abs(line.left - self.notes[-1].columns[0]) < 0.5 * line.size
        if not self.notes or (_MARK.match(text) and aligned):  # a mark where the last began
            self.notes.append(_Paragraph(Kind.FOOTNOTE, columns=(line.left,)))
        self.notes[-1].add(line, text)

    def table(self, line: Line) -> None:
        """A table row's lines: its cells' text put in their columns, line by line, until
        the next row starts: after a wider step down, in another type size (a header row),
        with a first cell where the row has one, or in a new stretch of table."""
        self._close()
        row = self.row
        columns = [
            sum(1 for x in line.separators if x < (s + e) / 2)
            for s, e in zip(line.starts, line.ends, strict=True)
        ]
        if (
            row is None
            or row.last is None
            or row.columns != line.separators
            or column_break(row.last, line)
            or row.last.bottom - line.bottom > (self.leading + 0.2) * line.size
            or abs(row.last.size - line.size) > 0.05 * line.size
            or (len(columns) > 1 and columns[0] == 0 and row.cells[0] != "")
        ):
            self._close_row()
            row = self.row = _Paragraph(Kind.TABLE, columns=line.separators)
            row.cells = [""] * (len(line.separators) + 1)
            row.pages = [(0, line.page)]
        for column, cell in zip(columns, line.cells, strict=True):
            row.cells[column] = _joined(row.cells[column], cell)
        row.last = line

    def single(self, line: Line, kind: Kind) -> None:
        self._close()
        self._close_row()
        paragraph = _Paragraph(kind)
        paragraph.add(line, clean(line.text))
        self.blocks.append(paragraph.block())

    def _close(self) -> None:
        if self.open is not None and self.open.text:
            self.blocks.append(self.open.block())
        self.open = None
        self._flush_notes()

    def _flush_notes(self) -> None:
        self.blocks += [note.block() for note in self.notes if note.text]
        self.notes = []

    def _close_row(self) -> None:
        if self.row is not None:
            self.blocks.append(self.row.block())
        self.row = None

    def finish(self) -> list[Block]:
        self._close()
        self._close_row()
        return self.blocks


def _joined(text: str, piece: str) -> str:
    if not text:
        return piece
    if _broken_word(text, piece):
        return text[:-1] + piece
    return f"{text} {piece}"


_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


def _same(text: str, title: str) -> bool:
    """Whether two titles are the same but for case and the quotes' shapes."""
    return text.translate(_QUOTES).casefold() == title.translate(_QUOTES).casefold()


def _with_title(blocks: list[Block], title: str) -> list[Block]:
    """The metadata's title, if meaningful (a heading that repeats it goes); else the first
    heading of the largest type on the first pages above any heading that names a part of a
    document ("Abstract", "Contents"), and not one of a run of numbered sections ("1 Methods",
    "2 Results"); else a short line above the abstract or contents, set in body type. None:
    the document is named after its file."""
    if title:  # the heading repeating it, if any, is the title as the page prints it
        for i, block in enumerate(blocks[:5]):
            if block.level is not None and _same(block.text, title):
                return [Block(block.text, TITLE, block.pages), *blocks[:i], *blocks[i + 1 :]]
        return [Block(title, TITLE, ((0, 1),)), *blocks]
    # A title stands above the abstract or the contents, and is not one of a run of
    # numbered sections.
    parts = [i for i, b in enumerate(blocks) if b.level is not None and names_a_part(b.text)]
    above = parts[0] if parts else len(blocks)
    runs = Counter(b.level for b in blocks if b.level is not None and numbered(b.text))
    headings = [
        (b.level, i)
        for i, b in enumerate(blocks[:above])
        if b.level is not None
        and b.pages
        and b.pages[0][1] <= _TITLE_PAGES
        and not (numbered(b.text) and runs[b.level] > 1)
    ]
    if not headings:
        return _first_line_as_title(blocks, above) if parts else blocks
    _, first = min(headings)
    heading = blocks[first]
    return [Block(heading.text, TITLE, heading.pages), *blocks[:first], *blocks[first + 1 :]]


def _first_line_as_title(blocks: list[Block], above: int) -> list[Block]:
    """The first block above the first part of a document (its abstract, its contents), as
    its title when it reads as one: a short line of prose on the first page that ends no
    sentence (a title set in bold body type, not larger)."""
    first = next((i for i, b in enumerate(blocks[:above]) if b.level is None), None)
    if first is None:
        return blocks
    block = blocks[first]
    short = len(block.text) <= _TITLE_MAX_CHARS and len(block.text.split()) <= _TITLE_MAX_WORDS
    if (
        block.kind != Kind.BODY
        or not short
        or _SENTENCE_END.search(block.text)
        or not any(c.isalpha() for c in block.text)
        or (block.pages and block.pages[0][1] != 1)
    ):
        return blocks
    return [Block(block.text, TITLE, block.pages), *blocks[:first], *blocks[first + 1 :]]
