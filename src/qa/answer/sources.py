"""An answer as one text, its short answer leading and its sources listed under it: for
clients that show text only (OpenAI-compatible chat UIs, MCP assistants). It reads as plain
text and as Markdown.

A source names its document and section (and page), linked to the source view when the
client can open one; offsets stay in the citations' structured form, out of the reader's
way. The sources of a declined answer are the closest passages: each shows its best
sentence, since the answer's words do not."""

import re
from collections.abc import Callable

from qa.answer.templates import Answer, Citation

SHORT_LABEL = "Short answer: "
LABELS = ("Sources:", "Closest passages:")
_MARKDOWN = re.compile(r"([\\`*_])")
_LINK_TEXT = re.compile(r"([\\\[\]])")


def source_name(citation: Citation) -> str:
    """The document's title and the section, as a reader names where a quote is."""
    if citation.section and citation.section != citation.title:
        return f"{citation.title} — {citation.section}"
    return citation.title


def with_sources(answer: Answer, link: Callable[[Citation], str] | None = None) -> str:
    """The short answer in bold when there is one, the answer with its `[n]` markers, then
    one line per citation: `[n]`, its title and section (a Markdown link to `link(citation)`
    when given) and the page of a PDF; for a declined answer, its quote first."""
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
        name = source_name(c)
        if link is not None:
            escaped = _LINK_TEXT.sub(r"\\\1", name)  # a bracket in a title ends no link
            name = f"[{escaped}]({link(c)})"
        source = name + (f", page {c.page}" if c.page is not None else "")
        if not answer.answered:  # the closest passage's best sentence, then where it is
            words = c.best.text if c.best is not None else c.quote
            source = f"“{' '.join(words.split())}” ({source})"
        lines.append(f"- [{c.n}] {source}")
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
