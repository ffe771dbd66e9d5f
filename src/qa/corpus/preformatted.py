"""Preformatted text as a careful reader reads it: a paged plain-text document (an RFC or an
Internet-Draft in a <pre>) without its page furniture, so a paragraph cut by a page break
reads on across it, and long listings cut into pieces at their blank lines."""

import re

# A page's footer line: "Author, et al.   Expires June 2, 2022   [Page 8]".
_FOOTER = re.compile(r"\[Page\s+\d+\]\s*$", re.I)
# A running header line: three or more columns set apart by runs of spaces
# ("RFC 9110   HTTP Semantics   June 2022"), or a document number at its start.
_COLUMNS = re.compile(r"\S(?: {3,}|\t)\S.*\S(?: {3,}|\t)\S")
_DOCUMENT_NUMBER = re.compile(r"^(?:RFC \d+|Internet[- ]Draft)\b", re.I)
PAGE_BREAK = "\f"
LONG = 40  # lines: a longer preformatted text is cut at its blank lines


def without_page_furniture(text: str) -> str:
    """`text` without page footers, form feeds and the running header after each page
    break; the lines on either side of a break are joined with no blank line between."""
    text = re.sub(r"\n?\f\n?", "\n\f\n", text.replace("\r\n", "\n"))  # a break on a line of its own
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if PAGE_BREAK in line or _FOOTER.search(line):
            if _FOOTER.search(line.replace(PAGE_BREAK, "")):
                pass  # the footer itself
            elif line.replace(PAGE_BREAK, "").strip():
                out.append(line.replace(PAGE_BREAK, ""))
            while out and not out[-1].strip():
                out.pop()  # the blank lines above the footer
            i = _after_header(lines, i + 1)
            continue
        out.append(line)
        i += 1
    return "\n".join(out).strip("\n")


def ends_a_page(text: str) -> bool:
    """Whether the last line of `text` is a page footer ("... [Page 8]")."""
    lines = [line for line in text.split("\n") if line.strip()]
    return bool(lines) and _FOOTER.search(lines[-1]) is not None


def _after_header(lines: list[str], i: int) -> int:
    """The index of the first line of text after a page break at `i`: past blank lines and
    form feeds, the running header line if there is one, and the blank lines after it."""
    while i < len(lines) and not lines[i].replace(PAGE_BREAK, "").strip():
        i += 1
    if i < len(lines):
        head = lines[i].replace(PAGE_BREAK, "").strip()
        if _COLUMNS.search(head) or _DOCUMENT_NUMBER.match(head):
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
    return i


def pieces(text: str) -> list[str]:
    """A preformatted text whole, or cut at its blank lines when it is long (a paged
    document or a long listing), each piece without trailing spaces or blank edge lines."""
    text = "\n".join(line.rstrip() for line in without_page_furniture(text).split("\n"))
    text = text.strip("\n")
    if not text.strip():
        return []
    if text.count("\n") < LONG:
        return [text]
    return [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]
