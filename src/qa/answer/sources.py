"""An answer as one text, its sources listed under it: for clients that show text only
(OpenAI-compatible chat UIs, MCP assistants). It reads as plain text and as Markdown."""

from collections.abc import Callable

from qa.answer.templates import Answer, Citation


def location(citation: Citation) -> str:
    """Where the quote is: `doc_id:start-end`, and its page for a PDF."""
    page = f", page {citation.page}" if citation.page is not None else ""
    return f"{citation.doc_id}:{citation.start}-{citation.end}{page}"


LABELS = ("Sources:", "Closest passages:")


def with_sources(answer: Answer, link: Callable[[Citation], str] | None = None) -> str:
    """The answer with its `[n]` markers, then one line per citation: title, section and
    location, the title a Markdown link to `link(citation)` when given."""
    if not answer.citations:
        return answer.answer
    label = LABELS[0] if answer.answered else LABELS[1]
    lines = [answer.answer, "", label, ""]
    for c in answer.citations:
        name = f"{c.title} — {c.section}" if c.section else c.title
        if link is not None:
            name = f"[{name}]({link(c)})"
        lines.append(f"- [{c.n}] {name} ({location(c)})")
    return "\n".join(lines)


def without_sources(text: str) -> str:
    """An answer as `with_sources` wrote it, its sources left off (a chat sends earlier
    answers back as they were shown)."""
    for label in LABELS:
        head, found, _ = text.partition(f"\n\n{label}\n")
        if found:
            return head.strip()
    return text.strip()
