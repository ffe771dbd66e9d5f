"""Web pages: the text of the page's main content as a careful reader reads it.

The page is walked in document order. Inline elements (links, emphasis, code, spans,
superscripts) join their text with nothing added; block elements (paragraphs, list items,
headings, cells, line breaks) end a block. Headings keep their level; each table row is one
block of kind TABLE, its cells in order (`tables.row_text`); preformatted text is kept as
written, as CODE blocks, without the page furniture of a paged plain-text document
(`preformatted`); footnotes are FOOTNOTE blocks, a table of contents CONTENTS lines and
captions FIGURE text. Navigation, site headers and footers, sidebars, cookie notes, share
bars, bylines, citation marks, edit links and lists of references are left out
(`furniture`).
"""

import re
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from qa.corpus import furniture, preformatted
from qa.corpus.blocks import Block, Kind, UnreadableError, clean, with_title
from qa.corpus.tables import row_text

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section "
    "summary table tbody thead tfoot tr td th caption legend menu ul br html".split()
)
_HEADING = re.compile(r"^h([1-6])$")
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")  # soft hyphen, zero widths
_MARK = "\x00"  # where a citation mark was left out
# A left-out mark and the space before it, when punctuation follows: "powers [1]:" → "powers:".
_MARK_BEFORE_PUNCTUATION = re.compile(r"\s*\x00+(?=[.,;:!?)\]])")
_CAPTION_WORDS = frozenset({"caption", "thumbcaption", "wp-caption-text", "figcaption"})
_MAIN_SHARE = 0.25  # a main element with less of the page's text than this is not the page
_FURNITURE_SHARE = 0.5  # an element holding this much of the text is content, whatever its name


def read_html(path: Path) -> list[Block]:
    """The title, headings and paragraphs of a page's main content, in order."""
    return blocks_of_page(path.read_bytes())


def blocks_of_page(page: bytes | str) -> list[Block]:
    """The title, headings and paragraphs of a page's main content, in order."""
    tree = LexborHTMLParser(page)
    title_node = tree.css_first("title")  # read before <head> and <title> are stripped
    page_title = clean(title_node.text()) if title_node is not None else ""
    tree.strip_tags(sorted(furniture.NEVER))
    body = tree.body
    if body is None:
        return []
    root = _main(tree, body)
    walker = _Walker(len(clean(root.text())))
    try:
        walker.walk(root, Kind.BODY)
    except RecursionError as exc:  # thousands of elements deep: no document is written so
        raise UnreadableError("elements nested too deep to read") from exc
    walker.flush(Kind.BODY)
    blocks = _without_source_sections(walker.blocks)
    blocks = [b for b in blocks if not (b.level is None and furniture.is_byline(b.text)) and b.text]
    return with_title(blocks, page_title)


def _main(tree: LexborHTMLParser, body: LexborNode) -> LexborNode:
    """The element that holds the document: the page's main element (or its one article)
    when it holds a fair share of the page's text, else the body."""
    total = len(clean(body.text()))
    for selector in ("main, [role=main]", "article"):
        candidates = tree.css(selector)
        if not candidates:
            continue
        if selector == "article" and len(candidates) > 1:
            break  # a list of articles: the page itself is the document
        best = max(candidates, key=lambda n: len(clean(n.text())))
        if len(clean(best.text())) >= _MAIN_SHARE * total:
            return best
    return body


class _Walker:
    """Blocks of a subtree, walked in document order."""

    def __init__(self, root_length: int, *, in_cell: bool = False) -> None:
        self.root_length = max(root_length, 1)
        self.in_cell = in_cell  # inside a table cell, tables are read after the row
        self.blocks: list[Block] = []
        self.deferred: list[LexborNode] = []
        self._buffer: list[str] = []

    def flush(self, kind: Kind) -> None:
        text = _MARK_BEFORE_PUNCTUATION.sub("", "".join(self._buffer)).replace(_MARK, "")
        text = clean(_INVISIBLE.sub("", text))
        self._buffer = []
        if text:
            self.blocks.append(Block(text, kind=kind))

    def walk(self, node: LexborNode, kind: Kind) -> None:
        children = list(node.iter(include_text=True))
        skip_to = 0
        for i, child in enumerate(children):
            if i < skip_to:
                continue  # a page of a paged text, read with the page before it
            tag = child.tag
            if tag == "-text":
                self._buffer.append(child.text_content or "")
            elif tag is None or tag.startswith("-"):
                continue
            elif furniture.is_mark(child):
                self._buffer.append(_MARK)
            elif self._left_out(child):
                continue
            elif tag in ("br", "hr"):
                self.flush(kind)
            elif tag == "pre":
                self.flush(kind)
                code = Kind.CODE if kind == Kind.BODY else kind
                text, skip_to = _paged_text(children, i)
                self.blocks += [Block(p, kind=code) for p in preformatted.pieces(text)]
            elif tag == "table":
                self.flush(kind)
                if self.in_cell:
                    self.deferred.append(child)
                else:
                    self.table(child, kind)
            elif _HEADING.match(tag):
                self.flush(kind)
                text = self.flat_text(child)[0]
                if text:
                    level = int(tag[1]) if kind == Kind.BODY else None
                    self.blocks.append(Block(text, level, kind=kind))
            else:
                inner = _kind_of(child, kind)
                if tag in _BLOCK_TAGS or inner != kind:
                    self.flush(kind)
                    self.walk(child, inner)
                    self.flush(inner)
                else:
                    self.walk(child, kind)

    def _left_out(self, node: LexborNode) -> bool:
        """Hidden, or page furniture."""
        if furniture.is_hidden(node):
            return True
        if furniture.is_footnotes(node):
            return False
        tag = node.tag
        if tag in furniture.SITE:
            return not (tag == "header" and node.css_first("h1") is not None)
        if furniture.is_furniture_role(node):
            return True
        if tag == "form" or furniture.is_furniture_name(node):
            return not self._holds_the_document(node)
        return False

    def _holds_the_document(self, node: LexborNode) -> bool:
        """A wrapper of the document whose name only looks like furniture ("page-header",
        "has-sidebar"): it holds the main heading, the main element or most of the text."""
        if node.css_first("h1, main, article, [role=main]") is not None:
            return True
        text = clean(node.text())
        if len(text) < _FURNITURE_SHARE * self.root_length:
            return False
        links = sum(len(clean(a.text())) for a in node.css("a"))
        return links < 0.5 * len(text)

    def flat_text(self, node: LexborNode) -> tuple[str, list[LexborNode]]:
        """A node's text on one line (its blocks joined by spaces), and the tables inside
        it, which are left to be read on their own."""
        inner = _Walker(self.root_length, in_cell=True)
        inner.walk(node, Kind.BODY)
        inner.flush(Kind.BODY)
        return clean(" ".join(b.text for b in inner.blocks)), inner.deferred

    def table(self, node: LexborNode, kind: Kind) -> None:
        """One block per row, its cells in order, and the rows of a table inside a cell after
        the row. A table none of whose rows has two cells of text (a layout table, a boxed
        note) is read as ordinary content."""
        rows: list[tuple[list[LexborNode], list[tuple[str, list[LexborNode]]]]] = []
        for part in node.iter():
            if part.tag == "caption":
                caption = self.flat_text(part)[0]
                if caption:
                    self.blocks.append(Block(caption, kind=Kind.FIGURE))
                continue
            for row in [part] if part.tag == "tr" else [r for r in part.iter() if r.tag == "tr"]:
                cells = [c for c in row.iter() if c.tag in ("td", "th")]
                cells = [c for c in cells if not furniture.is_hidden(c)]
                rows.append((cells, [self.flat_text(c) for c in cells]))
        if all(sum(1 for text, _ in read if text) <= 1 for _, read in rows):
            for cells, _ in rows:
                for cell in cells:
                    self.walk(cell, kind)
                    self.flush(kind)
            return
        row_kind = Kind.TABLE if kind == Kind.BODY else kind
        for _, read in rows:
            text = row_text(text for text, _ in read)
            if text:
                self.blocks.append(Block(text, kind=row_kind))
            for _, nested in read:
                for inner in nested:
                    self.table(inner, kind)


def _paged_text(children: list[LexborNode], i: int) -> tuple[str, int]:
    """The text of the <pre> at `children[i]`, and of the <pre> elements after it while each
    one before ends in a page footer (a paged text shown one page a <pre>, as the IETF shows
    an RFC), joined by page breaks; and the index of the first child after them."""
    texts = [_preformatted_text(children[i])]
    j = i + 1
    while j < len(children) and preformatted.ends_a_page(texts[-1]):
        child = children[j]
        if child.tag == "pre":
            texts.append(_preformatted_text(child))
        elif not (
            child.tag in ("-comment", "hr", "br")
            or (child.tag == "-text" and not (child.text_content or "").strip())
        ):
            break
        j += 1
    last = max(k for k in range(i, j) if children[k].tag == "pre")
    return _INVISIBLE.sub("", preformatted.PAGE_BREAK.join(texts)), last + 1


def _preformatted_text(node: LexborNode) -> str:
    """The text of a <pre> as written, its <br> elements as line breaks."""
    parts = []
    for inner in node.traverse(include_text=True):
        if inner.tag == "-text":
            parts.append(inner.text_content or "")
        elif inner.tag == "br":
            parts.append("\n")
    return "".join(parts)


def _kind_of(node: LexborNode, kind: Kind) -> Kind:
    """The kind of the blocks inside `node`, given the kind of the blocks around it."""
    if kind != Kind.BODY:
        return kind
    if furniture.is_footnotes(node):
        return Kind.FOOTNOTE
    if furniture.is_contents(node):
        return Kind.CONTENTS
    if node.tag == "figcaption" or furniture.words(node) & _CAPTION_WORDS:
        return Kind.FIGURE
    return kind


def _without_source_sections(blocks: list[Block]) -> list[Block]:
    """Without the sections that list sources or links (References, Notes, External
    links, See also): each heading so named and all below it up to the next heading of
    its level or above."""
    out: list[Block] = []
    skipping: int | None = None
    for block in blocks:
        if block.level is not None:
            if skipping is not None and block.level <= skipping:
                skipping = None
            if skipping is None and furniture.is_source_section(block.text, block.level):
                skipping = block.level
        if skipping is None:
            out.append(block)
    return out
