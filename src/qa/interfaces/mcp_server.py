"""The Model Context Protocol over stdio (`qa mcp`): tools to ask and to search the corpus, and
its documents as resources, for assistants that run `qa mcp` as a subprocess.

The index loads (or builds, when missing or stale) in a thread of its own, started once the
protocol owns stdout, so that the handshake does not wait for it: calls wait instead. While
serving, the SDK points file descriptor 1 at stderr, so stray output cannot corrupt the wire.
"""

import inspect
import logging
import sys
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import quote

import anyio.to_thread
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError, UnexpectedToolError
from mcp.server.mcpserver.resources import TextResource
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INTERNAL_ERROR,
    CallToolResult,
    InputRequiredResult,
    TextContent,
    ToolAnnotations,
)
from mcp_types import Resource as MCPResource
from pydantic import Field, StringConstraints, ValidationError

from qa import __version__
from qa.answer.sources import with_sources
from qa.config import Settings
from qa.errors import QAError
from qa.interfaces.http.schemas import (
    MAX_DOC_IDS,
    MAX_HISTORY_TURNS,
    MAX_QUESTION_CHARS,
    MAX_SEARCH_K,
    AskResponse,
    QuestionText,
    SearchResponse,
    SearchResult,
    Turn,
    too_long,
)
from qa.pipeline import Pipeline
from qa.question.conversation import Turn as ChatTurn

log = logging.getLogger(__name__)

DOCUMENT_URI = "qa://documents/"

INSTRUCTIONS = (
    "Answers questions from one fixed corpus of documents, in sentences quoted verbatim from "
    "them, each cited [n] with its document, section and character offsets. When the corpus "
    "does not hold the answer it says so (answered: false) rather than guess, and lists the "
    "closest passages. Use `ask` for an answer (pass the earlier turns as `history` for a "
    "follow-up), `search` to find where the corpus speaks of something, and the "
    "qa://documents/... resources for a document's full text."
)

# Reading the corpus changes nothing, and the same call gives the same result.
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

DocIds = Annotated[
    list[str] | None,
    Field(
        max_length=MAX_DOC_IDS,
        description=(
            "Only these documents (ids as `doc_id` in citations, or the names of the "
            "qa://documents/ resources); absent or empty: the whole corpus."
        ),
    ),
]


# The limit stays in the schema, but the tool checks it itself, so that an over-long question
# is told its length and the limit rather than a validator's words.
AskedQuestion = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, pattern=r"\S"),
    Field(
        description="1 to 1,000 characters.", json_schema_extra={"maxLength": MAX_QUESTION_CHARS}
    ),
]


def document_uri(doc_id: str) -> str:
    """The resource URI of a document: its id (a path in the corpus folder) URL-quoted."""
    return DOCUMENT_URI + quote(doc_id, safe="/")


class PipelineLoader:
    """The pipeline, loaded once in a thread of its own; `get()` waits for it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._future: Future[Pipeline] = Future()

    def start(self) -> None:
        threading.Thread(target=self._load, name="qa-mcp-load", daemon=True).start()

    def _load(self) -> None:
        try:
            pipeline = Pipeline.load_or_build(self.settings)
            pipeline.warm_up()
        except QAError as exc:
            log.error("cannot serve the corpus: %s", exc)  # every call will say so too
            self._future.set_exception(exc)
        except BaseException as exc:
            log.exception("loading the index failed")
            self._future.set_exception(exc)
        else:
            self._future.set_result(pipeline)

    def get(self) -> Pipeline:
        return self._future.result()


def one_line(error: ValidationError) -> str:
    """Pydantic's report of bad arguments on one line: `field: problem; ...`."""
    problems = []
    for e in error.errors(include_url=False):
        where = ".".join(str(part) for part in e["loc"]) or "arguments"
        problems.append(f"{where}: {e['msg']}")
    return "invalid arguments: " + "; ".join(problems)


class QAServer(MCPServer[None]):
    """MCPServer, with the corpus's documents as resources once the index is loaded, and
    bad arguments reported on one line."""

    def __init__(self, loader: PipelineLoader, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loader = loader
        self._listed = False

    async def loaded(self) -> Pipeline:
        """The loaded pipeline (waiting for it without blocking the event loop), its
        documents registered as resources the first time."""
        pipeline = await anyio.to_thread.run_sync(self.loader.get)
        if not self._listed:
            for doc_id, document in pipeline.index.documents.items():
                self.add_resource(
                    TextResource(
                        uri=document_uri(doc_id),
                        name=doc_id,
                        title=document.title,
                        description=f"The text of {doc_id}, as citations' offsets index it.",
                        mime_type="text/plain",
                        text=document.text,
                    )
                )
            self._listed = True
        return pipeline

    async def list_resources(self) -> list[MCPResource]:
        try:
            await self.loaded()
        except QAError as exc:
            raise MCPError(code=INTERNAL_ERROR, message=str(exc)) from exc
        return await super().list_resources()

    async def read_resource(
        self, uri: Any, context: Context[None, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        try:
            await self.loaded()
        except QAError as exc:
            raise ResourceError(str(exc)) from exc
        return await super().read_resource(uri, context)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[None, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(exc, UnexpectedToolError) or not isinstance(cause, ValidationError):
                raise
            raise ToolError(f"Error executing tool {name}: {one_line(cause)}") from cause


def create_server(settings: Settings) -> QAServer:
    """The server, its tools registered; the index loads when it starts serving."""
    loader = PipelineLoader(settings)

    @asynccontextmanager
    async def loading(_: MCPServer[None]) -> AsyncIterator[None]:
        # The transport now writes the wire through a copy of fd 1 and has pointed fd 1 at
        # stderr; print() goes there too, or text left in its buffer would reach the wire
        # when fd 1 is restored at exit.
        sys.stdout.flush()
        stdout, sys.stdout = sys.stdout, sys.stderr
        loader.start()
        try:
            yield
        finally:
            sys.stdout = stdout

    server = QAServer(
        loader,
        name="qa",
        title="Cited answers from a corpus",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=loading,
        log_level="WARNING",
    )

    def ask(
        question: AskedQuestion,
        history: Annotated[
            list[Turn] | None,
            Field(
                max_length=MAX_HISTORY_TURNS,
                description=(
                    "Earlier turns of this chat, oldest first (at most 20): each question and "
                    "the answer it got, so that a follow-up such as 'and the other one?' is read "
                    "in context."
                ),
            ),
        ] = None,
        doc_ids: DocIds = None,
    ) -> Annotated[CallToolResult, AskResponse]:
        """Answer a question from the corpus in sentences quoted verbatim from its documents,
        each cited [n] (document, section, character offsets; `quote` is
        `text[start:end]` of the document). `short_answer`, when the question asks for a
        phrase (a number, name, date, place), is that phrase quoted from the first citation,
        with its offsets; it leads the text. When the corpus does not hold the answer,
        `answered` is false and the closest passages are listed instead: say that the
        corpus does not answer it rather than answering from elsewhere."""
        if len(question) > MAX_QUESTION_CHARS:
            raise ToolError(too_long(len(question)))
        try:
            result = loader.get().ask(
                question,
                history=[ChatTurn(t.question, t.answer) for t in history or ()],
                doc_ids=doc_ids,
            )
        except QAError as exc:  # an unknown doc id, or an index that could not be loaded
            raise ToolError(str(exc)) from exc
        response = AskResponse.from_result(result)
        return CallToolResult(
            content=[TextContent(type="text", text=with_sources(result.answer))],
            structured_content=response.model_dump(mode="json"),
        )

    def search(
        query: Annotated[QuestionText, Field(description="Words or a question.")],
        k: Annotated[int, Field(ge=1, le=MAX_SEARCH_K, description="How many passages.")] = 5,
        doc_ids: DocIds = None,
    ) -> Annotated[CallToolResult, SearchResponse]:
        """The passages of the corpus closest to a query, best first, each with its document,
        section and character offsets: to find where the corpus speaks of something (for an
        answer, use `ask`)."""
        try:
            hits, took_ms = loader.get().search(query, k, doc_ids=doc_ids)
        except QAError as exc:
            raise ToolError(str(exc)) from exc
        results = [SearchResult.from_hit(hit) for hit in hits]
        response = SearchResponse(query=query, results=results, took_ms=took_ms)
        return CallToolResult(
            content=[TextContent(type="text", text=passages_text(results))],
            structured_content=response.model_dump(mode="json"),
        )

    for tool, title in ((ask, "Ask the corpus"), (search, "Search the corpus")):
        description = inspect.cleandoc(tool.__doc__ or "")
        server.add_tool(tool, title=title, description=description, annotations=READ_ONLY)
    return server


def passages_text(results: Sequence[SearchResult]) -> str:
    """Search results as text: one heading line per passage, its text indented below."""
    if not results:
        return "No passages."
    lines = []
    for n, r in enumerate(results, 1):
        name = f"{r.title} — {r.section}" if r.section else r.title
        lines.append(f"{n}. {name} ({r.doc_id}:{r.start}-{r.end}, score {r.score:.3f})")
        lines.append("   " + r.text.replace("\n", "\n   "))
    return "\n".join(lines)


def serve(settings: Settings) -> None:
    """Serve the Model Context Protocol over stdin and stdout until the client closes stdin."""
    create_server(settings).run("stdio")
