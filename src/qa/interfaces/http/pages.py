"""The web chat and the source view, rendered by jinja2 (and working without JavaScript)."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from qa.corpus.ingest import Document
from qa.errors import DocumentNotFoundError
from qa.examples import examples as example_questions
from qa.interfaces.http.deps import PipelineDep
from qa.interfaces.http.routes import split_ids
from qa.interfaces.http.schemas import (
    MAX_HISTORY_TURNS,
    MAX_QUESTION_CHARS,
    AskResponse,
    Citation,
    ShortAnswer,
)
from qa.pipeline import Pipeline
from qa.question.conversation import Turn

# A chat's URL carries its questions; past this length (uvicorn's h11 refuses a request line
# over 16 KB) the page is rendered in reply to the post instead of after a redirect.
MAX_CHAT_URL_CHARS = 8000
_MARKER = re.compile(r"\[(\d+)\]")

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a line of the source view; `marked` pieces are the cited span."""

    text: str
    marked: bool
    first_mark: bool = False


@dataclass(frozen=True, slots=True)
class Block:
    """A heading or a paragraph line of the source view."""

    level: int | None  # None for a paragraph, 1.. for a heading
    segments: list[Segment]


def templates_for(web_dir: Path) -> Jinja2Templates:
    """Templates with autoescape on, and the helpers the pages need."""
    templates = Jinja2Templates(directory=web_dir / "templates")
    templates.env.filters["answer_html"] = answer_html
    templates.env.filters["quote_html"] = quote_html
    templates.env.filters["passage_html"] = passage_html
    templates.env.filters["source_url"] = source_url
    return templates


def short_span(citation: Citation, short: ShortAnswer | None) -> tuple[int, int] | None:
    """Where the short answer is in the citation's quote, or None when it is not inside it.
    The quote is verbatim, so the document offsets of both place it."""
    if short is None or short.doc_id != citation.doc_id:
        return None
    lo, hi = short.start - citation.start, short.end - citation.start
    quote = citation.quote
    return (lo, hi) if 0 <= lo < hi <= len(quote) and quote[lo:hi] == short.text else None


def _mark(text: str) -> Markup:
    return Markup('<mark class="short">{}</mark>').format(text)


def quote_html(citation: Citation, short: ShortAnswer | None) -> Markup:
    """A citation's quote, escaped, the short answer in <mark class="short"> when it is
    inside it."""
    quote, span = citation.quote, short_span(citation, short)
    if span is None:
        return escape(quote)
    lo, hi = span
    return escape(quote[:lo]) + _mark(quote[lo:hi]) + escape(quote[hi:])


def passage_html(citation: Citation) -> Markup:
    """A decline's closest passage (the citation's quote), whole and escaped, its best
    sentence in <mark class="best"> when the citation names one inside it."""
    text, best = citation.quote, getattr(citation, "best", None)
    if best is None:
        return escape(text)
    lo, hi = best.start - citation.start, best.end - citation.start
    if not (0 <= lo < hi <= len(text) and text[lo:hi] == best.text):
        return escape(text)
    marked = Markup('<mark class="best">{}</mark>').format(text[lo:hi])
    return escape(text[:lo]) + marked + escape(text[hi:])


def answer_html(response: AskResponse, turn: int) -> Markup:
    """The answer, escaped, with each [n] a link to citation n of this turn and the short
    answer in <mark class="short"> where the answer quotes the first citation."""
    answer = response.answer
    if not response.citations:
        return with_markers(answer, turn)
    first = response.citations[0]
    span = short_span(first, response.short_answer)
    at = answer.find(first.quote)
    if span is None or at < 0:
        return with_markers(answer, turn)
    lo, hi = at + span[0], at + span[1]
    return with_markers(answer[:lo], turn) + _mark(answer[lo:hi]) + with_markers(answer[hi:], turn)


def with_markers(answer: str, turn: int) -> Markup:
    """The answer, escaped, with each [n] a link to citation n of this turn."""
    parts = []
    last = 0
    for match in _MARKER.finditer(answer):
        parts.append(escape(answer[last : match.start()]))
        n = match.group(1)
        parts.append(Markup('<a class="marker" href="#c{}-{}">[{}]</a>').format(turn, n, n))
        last = match.end()
    parts.append(escape(answer[last:]))
    return Markup("").join(parts)


def source_url(doc_id: str, start: int, end: int) -> str:
    return f"/documents/{quote(doc_id, safe='/')}?start={start}&end={end}#cited"


def examples(pipeline: Pipeline, doc_ids: list[str] | None = None) -> list[str]:
    """A few questions that the corpus (or the documents `doc_ids`) answers, written from its
    headings and sentences and spread across it (`qa.examples`; found once per index)."""
    return example_questions(pipeline, doc_ids)


def source_blocks(document: Document, start: int | None, end: int | None) -> list[Block]:
    """The document as headings and paragraph lines, with text[start:end] marked."""
    text = document.text
    headings = {h.start: h for h in document.headings}
    blocks = []
    first = True
    pos = 0
    for line in text.splitlines(keepends=True):
        line_start, line_end = pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)
        if not text[line_start:line_end].strip():
            continue
        heading = next((headings[s] for s in range(line_start, line_end) if s in headings), None)
        if heading is not None:
            segment = Segment(text[heading.start : heading.end], marked=False)
            blocks.append(Block(heading.level + 1, [segment]))
            continue
        segments = []
        lo = max(line_start, start) if start is not None else line_end
        hi = min(line_end, end) if end is not None else line_end
        if start is not None and lo < hi:
            segments = [
                Segment(text[line_start:lo], marked=False),
                Segment(text[lo:hi], marked=True, first_mark=first),
                Segment(text[hi:line_end], marked=False),
            ]
            first = False
        else:
            segments = [Segment(text[line_start:line_end], marked=False)]
        blocks.append(Block(None, [s for s in segments if s.text]))
    return blocks


def _page(
    request: Request, name: str, context: dict[str, object], status: int = 200
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=status)


def _chat_context(pipeline: Pipeline, doc_ids: list[str] | None) -> dict[str, object]:
    documents = pipeline.index.documents
    return {
        "titles": [d.title for d in documents.values()],
        "scope": [documents[d] for d in doc_ids or []],
        "scope_url": chat_url(doc_ids),
        "examples": examples(pipeline, doc_ids),
        "max_chars": MAX_QUESTION_CHARS,
    }


def chat_url(doc_ids: list[str] | None, questions: list[str] | None = None) -> str:
    """The chat page, asking within these documents (or the whole corpus); with
    `questions`, the chat of those questions, asked in order."""
    query = urlencode({"doc_ids": doc_ids or [], "q": questions or []}, doseq=True)
    return f"/?{query}" if query else "/"


def back_to_chat(request: Request) -> str:
    """The chat the reader came from (its URL carries the chat), else an empty chat: the
    Referer of a page of this site, when it is the chat page."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.headers.get("host") and referer.path == "/" and referer.query:
        return f"/?{referer.query}"
    return "/"


def too_long(length: int) -> str:
    """What the page says of an over-long question, rather than cutting it."""
    return f"Your question is {length:,} characters long; the limit is {MAX_QUESTION_CHARS:,}."


def _scope(pipeline: Pipeline, values: list[str] | None) -> tuple[list[str] | None, str | None]:
    """The documents a page asks within, or the whole corpus and an error naming the ids
    that are not documents of the corpus."""
    doc_ids = split_ids(values, pipeline)
    try:
        pipeline.scope(doc_ids)
    except DocumentNotFoundError as exc:
        return None, f"{str(exc)[0].upper()}{str(exc)[1:]}: asking the whole corpus instead."
    return (list(dict.fromkeys(doc_ids)) if doc_ids else None), None


@router.get("/", response_class=HTMLResponse)
async def chat(
    request: Request,
    pipeline: PipelineDep,
    doc_ids: Annotated[list[str] | None, Query()] = None,
    q: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    """The chat page; with `doc_ids`, asking within those documents; with `q` (repeated),
    the chat of those questions, each answered in order with the turns before it: a
    reloaded or shared chat, and where the form's post leads."""
    scope, error = _scope(pipeline, doc_ids)
    questions = [x.strip() for x in q or [] if x.strip()][-(MAX_HISTORY_TURNS + 1) :]
    over = [x for x in questions if len(x) > MAX_QUESTION_CHARS]
    if over:
        error = too_long(len(over[0]))
        questions = [x for x in questions if len(x) <= MAX_QUESTION_CHARS]
    turns = await run_in_threadpool(_answer_all, pipeline, questions, scope)
    context = {**_chat_context(pipeline, scope), "turns": turns, "error": error}
    return _page(request, "chat.html", context, status=422 if error else 200)


@router.post("/", response_class=HTMLResponse)
async def chat_post(
    request: Request,
    pipeline: PipelineDep,
    question: Annotated[str, Form()] = "",
    history: Annotated[list[str] | None, Form()] = None,
    doc_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """The chat without JavaScript: the form posts the question, the earlier questions and
    the documents it asks within, and is sent on to the chat's own URL (`GET /?q=...`),
    so that Back, reload and a shared link keep the chat.

    Earlier turns are answered again rather than trusted from the form, so the page shows
    only what the corpus says.
    """
    earlier = [q.strip() for q in history or [] if q.strip()][-MAX_HISTORY_TURNS:]
    question = question.strip()
    scope, error = _scope(pipeline, doc_ids)
    if not question:
        error = "Please type a question."
    elif len(question) > MAX_QUESTION_CHARS:
        error = too_long(len(question))
    asked = earlier + ([question] if error is None else [])
    if error is None:
        url = f"{chat_url(scope, asked)}#t{len(asked)}"
        if len(url) <= MAX_CHAT_URL_CHARS:
            return RedirectResponse(url, status_code=303)
    turns = await run_in_threadpool(_answer_all, pipeline, asked, scope)
    context = {**_chat_context(pipeline, scope), "turns": turns, "error": error}
    if error:
        context["draft"] = question  # give the rejected text back, whole; a sent one is done
    return _page(request, "chat.html", context, status=422 if error else 200)


def _answer_all(
    pipeline: Pipeline, questions: list[str], doc_ids: list[str] | None
) -> list[AskResponse]:
    """Answer each question with the turns before it, as the chat saw them."""
    turns: list[Turn] = []
    responses = []
    for question in questions:
        result = pipeline.ask(question, history=turns, doc_ids=doc_ids)
        turns.append(Turn(question, result.answer.answer))
        responses.append(AskResponse.from_result(result))
    return responses


@router.get("/documents/{doc_id:path}/file", response_class=FileResponse)
async def original_file(request: Request, doc_id: str, pipeline: PipelineDep) -> FileResponse:
    """The file a document was read from, as it is in the corpus folder (a PDF opens at
    `#page=N`); only documents of the index are served."""
    try:
        pipeline.document(doc_id)
    except DocumentNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    corpus = Path(request.app.state.settings.corpus).resolve()
    path = (corpus / doc_id).resolve()
    if not path.is_relative_to(corpus) or not path.is_file():
        raise HTTPException(404, f"the file of {doc_id!r} is no longer in the corpus folder")
    return FileResponse(
        path,
        media_type=_MEDIA_TYPES.get(path.suffix.lower()),
        filename=path.name,
        content_disposition_type="inline",
    )


_MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}


@router.get("/documents/{doc_id:path}", response_class=HTMLResponse)
async def source(
    request: Request,
    doc_id: str,
    pipeline: PipelineDep,
    start: Annotated[int | None, Query(ge=0)] = None,
    end: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    """The whole document with the cited span in <mark>, scrolled into view."""
    try:
        document = pipeline.document(doc_id)
    except DocumentNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    valid = start is not None and end is not None and start < end <= len(document.text)
    span = (start, end) if valid else (None, None)
    page = document.page_at(span[0]) if span[0] is not None else None
    file_url = f"/documents/{quote(document.doc_id, safe='/')}/file"
    context = {
        "document": document,
        "page": page,
        "file_url": f"{file_url}#page={page}" if page else file_url,
        "ask_url": chat_url([document.doc_id]),
        "back_url": back_to_chat(request),
        "blocks": source_blocks(document, *span),
        "bad_range": (start is not None or end is not None) and not valid,
    }
    return _page(request, "document.html", context)
