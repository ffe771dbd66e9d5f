"""Word files (.docx): paragraphs in body order; Word's Title and Heading styles make the
structure."""

import re
from pathlib import Path

from qa.corpus.blocks import TITLE, Block, UnreadableError, clean, with_title

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
        text = clean(paragraph.text)
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
        title = clean(document.core_properties.title or "")
        blocks = with_title(blocks, title)
    return blocks
