"""What every reader makes of a file: blocks of text, each a title, a heading or a paragraph
of a kind (body prose, a table row, code, a footnote, a figure's text, a contents line).

`ingest.document_from_blocks` lays the blocks out as the document's text. Body, table, code
and footnote blocks are the document's paragraphs, which are indexed and quoted; a figure's
text and a contents page stay in the text (so a citation's offsets and the document page
show them where they were) but are never indexed or quoted as if they were sentences.
"""

import re
from dataclasses import dataclass, field
from enum import StrEnum

from qa.errors import CorpusError

TITLE = 0  # the level of a document title; headings are 1 to 6


class Kind(StrEnum):
    """What a paragraph block is."""

    BODY = "body"  # prose of the document
    TABLE = "table"  # one row of a table, its cells in order
    CODE = "code"  # preformatted text: code, a command, a listing
    FOOTNOTE = "footnote"  # a footnote or endnote, after the body it annotates
    FIGURE = "figure"  # text inside a figure or chart: labels, not sentences
    CONTENTS = "contents"  # a line of a table of contents or an index


# Kinds that are the document's own statements, which an answer may quote.
QUOTED = frozenset({Kind.BODY, Kind.TABLE, Kind.CODE, Kind.FOOTNOTE})


@dataclass(frozen=True, slots=True)
class Block:
    """A title (level 0), a heading (1–6) or a paragraph (level None) of a `kind`, as one line
    of text. `pages` marks where each page of a PDF begins in `text`: (offset, 1-based page)."""

    text: str
    level: int | None = None
    pages: tuple[tuple[int, int], ...] = field(default=())
    kind: Kind = Kind.BODY


class UnreadableError(CorpusError):
    """A file of a known format whose text cannot be read (damaged, encrypted, scanned)."""


_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """White space collapsed to single spaces, none at either end."""
    return _SPACE.sub(" ", text).strip()


# Headings that name a part of any document rather than the document: never its title.
_PART_NAMES = frozenset(
    {
        "abstract",
        "summary",
        "executive summary",
        "synopsis",
        "contents",
        "table of contents",
        "introduction",
        "preface",
        "foreword",
        "acknowledgements",
        "acknowledgments",
        "overview",
        "background",
        "keywords",
        "conclusion",
        "conclusions",
        "references",
        "bibliography",
        "appendix",
        "glossary",
        "index",
        "notes",
    }
)
_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVXLC]+\.)\s+(?=\S)")


def names_a_part(heading: str) -> bool:
    """Whether a heading is the name of a part of a document ("Abstract", "1. Introduction"),
    which a document whose first heading it is must not be titled."""
    name = _NUMBER.sub("", clean(heading)).rstrip(":.")
    return name.casefold() in _PART_NAMES


def numbered(heading: str) -> bool:
    """Whether a heading starts with a section number ("2 Methods", "3.1. Data", "IV. Costs")."""
    return bool(_NUMBER.match(clean(heading)))


def with_title(blocks: list[Block], fallback: str) -> list[Block]:
    """The first top-level heading becomes the title, unless it names a part of a document
    ("Abstract"); else `fallback`, if any."""
    levels = [b.level for b in blocks if b.level is not None]
    if levels:
        top = min(levels)
        first = next(i for i, b in enumerate(blocks) if b.level == top)
        heading_only_above = all(b.level is not None for b in blocks[:first])
        if heading_only_above and not names_a_part(blocks[first].text):
            title = blocks[first]
            rest = blocks[:first] + blocks[first + 1 :]
            return [Block(title.text, TITLE, title.pages), *rest]
    return ([Block(fallback, TITLE)] if fallback else []) + blocks
