"""PDFs read from their text layer: lines joined into paragraphs until a gap wider than the
line spacing, larger type as headings, running headers and footers (lines repeated at the
top or bottom of most pages, page numbers and dates included) left out, hyphens broken at
line ends joined, and a paragraph kept whole over a page break."""

import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.corpus.blocks import Block, UnreadableError, clean, with_title

if TYPE_CHECKING:
    import pypdfium2


@dataclass(slots=True)
class _Line:
    text: str
    page: int  # 1-based
    top: float
    bottom: float
    size: float  # font size


# A line is page furniture when it is among the first or last few of a page and, with its
# digits ignored, the same line sits there on at least half the pages (and on two or more).
_EDGE_LINES = 3
_DIGITS = re.compile(r"\d+")
_SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*$")


def read_pdf(path: Path) -> list[Block]:
    """Paragraphs from the text layer: lines joined until a gap wider than the line spacing,
    larger type as headings, running headers and footers left out."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise UnreadableError(f"not a readable PDF ({exc})") from exc
    try:
        pages = [_page_lines(pdf, i) for i in range(len(pdf))]
    finally:
        pdf.close()
    if not any(line.text.strip() for page in pages for line in page):
        raise UnreadableError("no text layer (a scanned PDF?)")
    lines = _drop_running_lines(pages)
    return _paragraphs(lines)


def _page_lines(pdf: "pypdfium2.PdfDocument", index: int) -> list[_Line]:
    """The lines of a page, each with its page, vertical extent and median font size."""
    import pypdfium2.raw as raw

    page = pdf[index]
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        lines: list[_Line] = []
        start = 0
        for piece in text.split("\r\n"):
            end = start + len(piece)
            boxes, sizes = [], []
            for i in range(start, end):
                if not piece[i - start].isspace():
                    boxes.append(textpage.get_charbox(i))
                    sizes.append(raw.FPDFText_GetFontSize(textpage.raw, i))
            if boxes:
                lines.append(
                    _Line(
                        piece,
                        index + 1,
                        top=max(b[3] for b in boxes),
                        bottom=min(b[1] for b in boxes),
                        size=statistics.median(sizes),
                    )
                )
            start = end + 2
        return lines
    finally:
        textpage.close()
        page.close()


def _drop_running_lines(pages: list[list[_Line]]) -> list[_Line]:
    def shape(line: _Line) -> str:
        return _DIGITS.sub("#", clean(line.text))

    edges: Counter[str] = Counter()
    for page in pages:
        edge = page[:_EDGE_LINES] + page[-_EDGE_LINES:]
        edges.update({shape(line) for line in edge})
    needed = max(2, (len(pages) + 1) // 2)
    running = {s for s, n in edges.items() if n >= needed} if len(pages) > 1 else set()
    kept = []
    for page in pages:
        for i, line in enumerate(page):
            at_edge = i < _EDGE_LINES or i >= len(page) - _EDGE_LINES
            if not (at_edge and shape(line) in running) and clean(line.text):
                kept.append(line)
    return kept


def _paragraphs(lines: list[_Line]) -> list[Block]:
    if not lines:
        return []
    body = statistics.median(line.size for line in lines)
    blocks: list[Block] = []
    text = ""
    pages: list[tuple[int, int]] = []
    level: int | None = None
    sizes = sorted({round(line.size, 1) for line in lines if line.size > body * 1.15}, reverse=True)

    def close() -> None:
        nonlocal text, pages
        if text:
            blocks.append(Block(text, level, tuple(pages)))
        text, pages = "", []

    previous: _Line | None = None
    for line in lines:
        line_level = sizes.index(round(line.size, 1)) + 1 if line.size > body * 1.15 else None
        piece = clean(line.text)
        if previous is None or line_level != level:
            new_block = True
        elif line.page == previous.page:
            new_block = _gap(previous, line) > 0.6 * _line_height(line)
        else:  # over a page break, a paragraph goes on unless its sentence ended
            new_block = _SENTENCE_END.search(text) is not None
        if new_block:
            close()
            level = line_level
        if not text:
            mark, text = 0, piece
        elif text.endswith("-") and len(text) > 1 and text[-2].isalpha() and piece[:1].islower():
            mark, text = len(text) - 1, text[:-1] + piece  # a word broken at the line's end
        else:
            mark, text = len(text) + 1, f"{text} {piece}"
        if not pages or pages[-1][1] != line.page:
            pages.append((mark, line.page))
        previous = line
    close()
    return with_title(blocks, "")


def _line_height(line: _Line) -> float:
    return max(line.top - line.bottom, line.size * 0.7)


def _gap(previous: _Line, line: _Line) -> float:
    """White space between two lines of a page (PDF y grows upwards)."""
    return previous.bottom - line.top
