"""Web pages: the title and the headings and paragraphs of the page's main content, leaving
out navigation, header, footer, sidebars and cookie notices."""

import re
from pathlib import Path

from qa.corpus.blocks import Block, clean, with_title

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
        text = clean(node.text(separator=" "))
        if not text:
            continue
        level = int(node.tag[1]) if re.fullmatch(r"h[1-6]", node.tag) else None
        blocks.append(Block(text, level))
    title_node = tree.css_first("title")
    page_title = clean(title_node.text()) if title_node is not None else ""
    return with_title(blocks, page_title)
