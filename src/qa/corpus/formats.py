"""Web pages, Word files and PDFs read as blocks: the title, headings and paragraphs, in order.

Each reader keeps what the format says about structure (`<h1>`–`<h6>`, Word's heading
styles, a PDF's font sizes) and leaves out what is not the document's own text: a web page's
navigation, header, footer, sidebars and cookie notices; a PDF's running headers and footers
(lines repeated at the top or bottom of most pages, page numbers and dates included). A
paragraph wrapped over lines or pages is one block, with hyphens broken at line ends joined.
`ingest.document_from_blocks` lays the blocks out as the document's text.
"""

import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import CorpusError

if TYPE_CHECKING:
    import pypdfium2

TITLE = 0  # the level of a document title; headings are 1 to 6


@dataclass(frozen=True, slots=True)
class Block:
    """A title (level 0), a heading (1–6) or a paragraph (level None), as one line of text.
    `pages` marks where each page of a PDF begins in `text`: (offset, 1-based page)."""

    text: str
    level: int | None = None
    pages: tuple[tuple[int, int], ...] = field(default=())


class UnreadableError(CorpusError):
    """A file of a known format whose text cannot be read (damaged, encrypted, scanned)."""


_SPACE = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


# --- web pages -----------------------------------------------------------------------------

# Elements that are never the page's own text.
_NOT_CONTENT = (
    "script, style, noscript, template, svg, iframe, form, button, nav, header, footer, aside, "
    "[role=navigation], [role=banner], [role=contentinfo], [role=complementary], "
    "[aria-hidden=true], [hidden]"
)
# Class or id words of cookie notices, menus and other page furniture.
_FURNITURE = re.compile(
    r"(?:^|[\s_-])(cookie|consent|gdpr|nav|navbar|menu|breadcrumbs?|sidebar|footer|header|"
    r"banner|share|social|related|newsletter|subscribe|advert|ads?|popup|modal|skip)(?:$|[\s_-])",
    re.I,
)
_BLOCKS = "h1, h2, h3, h4, h5, h6, p, li, blockquote, pre, dt, dd, figcaption, td, th"


def read_html(path: Path) -> list[Block]:
    """The title and the headings and paragraphs of a page's main content."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(path.read_bytes())
    for node in tree.css(_NOT_CONTENT):
        node.decompose()
    for node in tree.css("[class], [id]"):
        words = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
        if _FURNITURE.search(words) and node.tag not in ("html", "body", "main", "article"):
            node.decompose()
    root = tree.css_first("main") or tree.css_first("article") or tree.body
    if root is None:
        return []
    blocks: list[Block] = []
    for node in root.css(_BLOCKS):
        if len(node.css(_BLOCKS)) > 1:  # lexbor's matches include the node itself
            continue  # its inner blocks are read on their own
        text = _clean(node.text(separator=" "))
        if not text:
            continue
        level = int(node.tag[1]) if re.fullmatch(r"h[1-6]", node.tag) else None
        blocks.append(Block(text, level))
    title_node = tree.css_first("title")
    page_title = _clean(title_node.text()) if title_node is not None else ""
    return _with_title(blocks, page_title)


def _with_title(blocks: list[Block], fallback: str) -> list[Block]:
    """The first top-level heading becomes the title; else `fallback`, if any."""
    levels = [b.level for b in blocks if b.level is not None]
    if levels:
        top = min(levels)
        first = next(i for i, b in enumerate(blocks) if b.level == top)
        if all(b.level is not None for b in blocks[:first]):  # nothing but headings above
            title = blocks[first]
            rest = blocks[:first] + blocks[first + 1 :]
            return [Block(title.text, TITLE, title.pages), *rest]
    return ([Block(fallback, TITLE)] if fallback else []) + blocks


# --- Word files ----------------------------------------------------------------------------

_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.I)


def read_docx(path: Path) -> list[Block]:
    """Paragraphs in body order; Word's Title and Heading styles make the structure."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise UnreadableError(f"not a Word document ({exc})") from exc
    blocks: list[Block] = []
    for paragraph in document.paragraphs:
        text = _clean(paragraph.text)
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        heading = _HEADING_STYLE.match(style)
        if style.lower() == "title":
            blocks.append(Block(text, TITLE))
        elif heading:
            blocks.append(Block(text, min(int(heading.group(1)), 6)))
        else:
            blocks.append(Block(text))
    if not any(b.level == TITLE for b in blocks):
        title = _clean(document.core_properties.title or "")
        blocks = _with_title(blocks, title)
    return blocks


# --- PDFs ----------------------------------------------------------------------------------


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
        return _DIGITS.sub("#", _clean(line.text))

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
            if not (at_edge and shape(line) in running) and _clean(line.text):
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
        piece = _clean(line.text)
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
    return _with_title(blocks, "")


def _line_height(line: _Line) -> float:
    return max(line.top - line.bottom, line.size * 0.7)


def _gap(previous: _Line, line: _Line) -> float:
    """White space between two lines of a page (PDF y grows upwards)."""
    return previous.bottom - line.top


READERS: dict[str, Callable[[Path], list[Block]]] = {
    ".html": read_html,
    ".htm": read_html,
    ".docx": read_docx,
    ".pdf": read_pdf,
}
