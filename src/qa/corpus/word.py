"""Word files (.docx): the body in document order, as mammoth reads it, then read as a page.

mammoth turns the document into plain HTML: paragraphs, tables and text boxes in body order
(a text box read once, although Word stores it twice, as a shape and as its fallback), a
merged cell once, nested tables inside their cell, list items as their own items, footnotes
and endnotes at the end with a mark where they are cited. `web.blocks_of_page` then reads that
page as any other: each table row one TABLE block (a nested table's rows after the row that
holds it), headings by level, footnotes and endnotes FOOTNOTE blocks, their marks left out of
the sentence that cites them. Measured beside python-docx's own API (tables, but no text
boxes, notes or nested tables, and a merged cell once per grid column) and docx2python (a text
box and a merged cell read several times), mammoth alone reads every one whole and once.
"""

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from qa.corpus.blocks import TITLE, Block, UnreadableError, clean, with_title
from qa.corpus.web import blocks_of_page

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DC = "{http://purl.org/dc/elements/1.1/}"
# Word's own names for these styles (and pandoc's for code); mammoth maps Heading 1-6 to h1-h6
# by itself. Consecutive code paragraphs make one preformatted block.
_STYLE_MAP = [
    "p[style-name='Title'] => h1:fresh",
    "p[style-name='Subtitle'] => p:fresh",
    *(
        f"p[style-name='{name}'] => pre:separator('\\n')"
        for name in ("Source Code", "HTML Preformatted", "Plain Text", "Macro Text")
    ),
    # A table of contents (Word's "TOC 1".."TOC 9" styles, the names LibreOffice writes too):
    # contents lines, never quoted. (LibreOffice's "Table Contents" is a cell's text.)
    "p[style-name='TOC Heading'] => p.toc:fresh",
    *(f"p[style-name='TOC {n}'] => p.toc:fresh" for n in range(1, 10)),
]
_HEADING_STYLE = re.compile(r"^heading\s*[1-9]$", re.I)
_NOTE_ITEM = re.compile(r'<li id="((?:foot|end)note-[^"]*)"')


def read_docx(path: Path) -> list[Block]:
    """Title, headings, paragraphs, table rows, text boxes and notes, in document order."""
    import mammoth

    try:
        with zipfile.ZipFile(path) as archive:
            style_map = _STYLE_MAP + _outline_styles(archive)
            title = _core_title(archive)
        with path.open("rb") as file:
            page = mammoth.convert_to_html(file, style_map="\n".join(style_map)).value
    except (zipfile.BadZipFile, KeyError, ValueError, ElementTree.ParseError) as exc:
        raise UnreadableError(f"not a Word document ({exc})") from exc
    # mammoth lists the notes at the end, each item named "footnote-N" or "endnote-N".
    page = _NOTE_ITEM.sub(r'<li class="footnote" id="\1"', page)
    blocks = blocks_of_page(f"<html><body>{page}</body></html>")
    if not any(b.level == TITLE for b in blocks):
        blocks = with_title(blocks, title)
    return blocks


def _outline_styles(archive: zipfile.ZipFile) -> list[str]:
    """Style-map lines that make a heading of each paragraph style with an outline level
    (a house style's "Chapter" or "Section Title"), besides Word's own Heading styles."""
    try:
        styles = ElementTree.fromstring(archive.read("word/styles.xml"))
    except KeyError:
        return []
    lines = []
    for style in styles.iter(f"{_W}style"):
        name = style.find(f"{_W}name")
        level = style.find(f"{_W}pPr/{_W}outlineLvl")
        if name is None or level is None or style.get(f"{_W}type") != "paragraph":
            continue
        label = name.get(f"{_W}val") or ""
        value = level.get(f"{_W}val") or ""
        if not value.isdigit() or int(value) > 5 or "'" in label or _HEADING_STYLE.match(label):
            continue  # level 9 is body text; mammoth maps Heading N by itself
        lines.append(f"p[style-name='{label}'] => h{int(value) + 1}:fresh")
    return lines


def _core_title(archive: zipfile.ZipFile) -> str:
    """The title in the file's properties, if any."""
    try:
        core = ElementTree.fromstring(archive.read("docProps/core.xml"))
    except KeyError:
        return ""
    node = core.find(f"{_DC}title")
    return clean(node.text or "") if node is not None else ""
