"""An answer as one text, its short answer leading and its sources listed under it: for
clients that show text only (OpenAI-compatible chat UIs, MCP assistants). It reads as plain
text and as Markdown."""

import re
from collections.abc import Callable

from qa.answer.templates import Answer, Citation

SHORT_LABEL = "Short answer: "
LABELS = ("Sources:", "Closest passages:")
_MARKDOWN = re.compile(r"([\\`*_])")


def location(citation: Citation) -> str:
    """Where the quote is: `doc_id:start-end`, and its page for a PDF."""
    page = f", page {citation.page}" if citation.page is not None else ""
    return f"{citation.doc_id}:{citation.start}-{citation.end}{page}"


def with_sources(answer: Answer, link: Callable[[Citation], str] | None = None) -> str:
    """The short answer in bold when there is one, the answer with its `[n]` markers, then
    one line per citation: title, section and location, the title a Markdown link to
    `link(citation)` when given."""
    lines = []
    if answer.short_answer is not None:
        # Escaped so that a phrase holding * or _ stays inside its bold.
        short = _MARKDOWN.sub(r"\\\1", answer.short_answer.text)
        lines += [f"{SHORT_LABEL}**{short}**", ""]
    lines.append(answer.answer)
    if not answer.citations:
        return "\n".join(lines)
    label = LABELS[0] if answer.answered else LABELS[1]
    lines += ["", label, ""]
    for c in answer.citations:
        name = f"{c.title} — {c.section}" if c.section else c.title
        if link is not None:
            name = f"[{name}]({link(c)})"
        lines.append(f"- [{c.n}] {name} ({location(c)})")
    return "\n".join(lines)


def without_sources(text: str) -> str:
    """An answer as `with_sources` wrote it, its short answer and sources left off (a chat
    sends earlier answers back as they were shown)."""
    head, found, rest = text.partition("\n\n")
    if found and head.startswith(SHORT_LABEL) and "\n" not in head:
        text = rest
    for label in LABELS:
        head, found, _ = text.partition(f"\n\n{label}\n")
        if found:
            return head.strip()
    return text.strip()
