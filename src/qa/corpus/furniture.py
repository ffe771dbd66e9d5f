"""What on a web page is not the document's own text: navigation, headers and footers of the
site, sidebars, cookie notes, share bars, bylines, edit links and citation marks, reference
lists; and what is a footnote or a table of contents. Rules on tags, ARIA roles and the
words of class and id names, matched as whole words, never as parts of longer words."""

import re

from selectolax.lexbor import LexborNode

# Never the page's text, wherever they are.
NEVER = frozenset(
    "script style noscript template svg iframe object embed canvas button input select "
    "textarea option datalist meter progress dialog map head title link meta".split()
)
# The site around the document: out when outside the document's main element.
SITE = frozenset({"nav", "header", "footer", "aside"})
_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar"}
    | {"toolbar", "tablist", "dialog", "alertdialog", "doc-backlink", "doc-noteref"}
    | {"doc-bibliography", "doc-pagelist"}
)
# Words of class and id names that mark furniture. A name is cut into words at "-", "_" and
# capitals ("mw-editsection", "navFrame"); a word also matches when it starts with "nav" or
# ends with one of _SUFFIXES ("navheader", "sphinxsidebar", "pagefooter").
_WORDS = frozenset(
    "cookie cookies consent gdpr nav menu breadcrumb breadcrumbs sidebar footer header masthead "
    "banner share sharing social related newsletter subscribe subscription advert advertisement "
    "ad ads popup modal skip jump editsection catlinks printfooter noprint byline dateline "
    "author authors readtime reading-time read-time pagination pager toolbar widget promo "
    "sponsored comments "
    "comment hatnote searchaux mwe sr srOnly references reflist refbegin bibliography "
    "citations backlinks backrefs backref".lower().split()
)
_SUFFIXES = ("sidebar", "footer", "header", "navbar", "menu", "share", "banner")
# Names of sections that are lists of sources or links rather than the document's text.
_SOURCE_SECTIONS = re.compile(
    r"^(?:[\d.]+\s*)?(?:references|bibliography|works cited|further reading|external links|"
    r"see also|(?:notes|footnotes) and references|references and notes)$",
    re.I,
)
# Named so only at the top of an article's outline; deeper down they are topics of their own
# (a section about the "Notes" of some tool).
_TOP_SOURCE_SECTIONS = re.compile(r"^(?:[\d.]+\s*)?(?:notes|sources|citations)$", re.I)
# A short line that is a byline or a reading time, not a sentence.
_BYLINE = re.compile(
    r"^(?:(?:by|posted by|written by)\s+\S.*|.*\b\d+\s*(?:min|minute)s?\s+read\b.*)$", re.I
)
# A citation mark: "[5]", "[a]", "[citation needed]", "[edit]".
_MARK = re.compile(r"^\[[^\[\]]{1,40}\]$")
# A heading's permalink, or a footnote's link back to its mark: "¶", "#", "↩︎", "↑", "^".
_LINK_SIGNS = frozenset("¶§#🔗↩↑^\ufe0e\ufe0f")


def words(node: LexborNode) -> set[str]:
    """The words of a node's class and id names, lowercased."""
    names = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
    out: set[str] = set()
    for name in names.split():
        parts = re.split(r"[-_\s]+|(?<=[a-z])(?=[A-Z])", name)
        out.update(p.lower() for p in parts if p)
        out.add(name.lower())
    return out


def is_furniture_name(node: LexborNode) -> bool:
    """Whether the node's class or id names say it is page furniture."""
    for word in words(node):
        if word in _WORDS or word.startswith("nav") or word.endswith(_SUFFIXES):
            return True
    return False


def role(node: LexborNode) -> str:
    return (node.attributes.get("role") or "").strip().lower()


def is_hidden(node: LexborNode) -> bool:
    """Hidden from every reader: the hidden attribute, aria-hidden, display:none."""
    attributes = node.attributes
    if "hidden" in attributes or (attributes.get("aria-hidden") or "").lower() == "true":
        return True
    style = (attributes.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def is_furniture_role(node: LexborNode) -> bool:
    return role(node) in _ROLES


def is_mark(node: LexborNode) -> bool:
    """A citation or footnote mark, a back link, an edit link or a heading's permalink: an
    inline element that is not part of the sentence it sits in."""
    names = words(node)
    if names & {"footnote-ref", "footnote-reference", "footnote-back", "fn-backref"}:
        return True
    text = node.text().strip()
    if node.tag == "sup":
        return bool(names & {"reference", "footnote", "noteref", "fn"}) or bool(_MARK.match(text))
    if node.tag == "a":
        if names & {"headerlink", "anchor", "permalink"} and len(text) <= 2:
            return True  # a heading's link to itself, "¶" or "#" or an icon
        if names & {"footnote", "fn"} and len(text) <= 6:
            return True  # "1", "[12]"
        return bool(text) and all(c in _LINK_SIGNS for c in text)
    if node.tag == "span" and names & {"label", "fn-bracket", "backrefs"}:
        return _MARK.match(text) is not None or text.isdigit()
    return False


def is_footnotes(node: LexborNode) -> bool:
    """A footnote or the list of a page's footnotes (not the mark that cites one)."""
    if node.tag in ("sup", "a", "span"):
        return False
    if role(node) in ("doc-endnotes", "doc-footnote", "doc-endnote"):
        return True
    return bool(words(node) & {"footnote", "footnotes", "endnote", "endnotes", "footnote-list"})


def is_contents(node: LexborNode) -> bool:
    """A table of contents: a list of the document's own headings."""
    return role(node) == "doc-toc" or bool(words(node) & {"toc", "contents", "toctree-wrapper"})


def is_source_section(heading: str, level: int) -> bool:
    """A section that lists sources or links: References, External links, See also."""
    text = heading.strip()
    return bool(_SOURCE_SECTIONS.match(text) or (level <= 2 and _TOP_SOURCE_SECTIONS.match(text)))


def is_byline(text: str) -> bool:
    """A short line that names the author or the reading time, not a sentence."""
    return len(text) <= 100 and not text.endswith(".") and _BYLINE.match(text) is not None
