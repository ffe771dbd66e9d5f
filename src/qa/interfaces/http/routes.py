"""JSON API routes: a few lines each; the pipeline does the work."""

import json
import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from qa.errors import DocumentNotFoundError
from qa.interfaces.http.deps import PipelineDep
from qa.interfaces.http.schemas import (
    MAX_QUESTION_CHARS,
    MAX_SEARCH_K,
    AskRequest,
    AskResponse,
    DocumentResponse,
    ErrorResponse,
    HealthResponse,
    SearchResponse,
    SearchResult,
)
from qa.pipeline import Pipeline
from qa.question.conversation import Turn

log = logging.getLogger("qa.questions")
router = APIRouter(prefix="/api", tags=["qa"])


ERRORS = {
    400: {"model": ErrorResponse, "description": "The body is not valid JSON text."},
    413: {"model": ErrorResponse, "description": "The body is over the size limit."},
}


@router.post("/ask", response_model=AskResponse, responses=ERRORS)
async def ask(body: AskRequest, pipeline: PipelineDep, request: Request) -> Response:
    """Answer a question from the corpus, with verbatim citations."""
    if request.app.state.settings.log_questions:
        log.info("question: %s", json.dumps(body.question))
    try:
        result = await run_in_threadpool(
            pipeline.ask,
            body.question,
            history=[Turn(t.question, t.answer) for t in body.history],
            top_k=body.top_k,
            doc_ids=body.doc_ids,
        )
    except DocumentNotFoundError as exc:
        raise _unknown_documents(exc, ["body", "doc_ids"]) from None
    return _json(AskResponse.from_result(result))


def _unknown_documents(exc: DocumentNotFoundError, loc: list[str]) -> HTTPException:
    """422 in the shape of FastAPI's own validation errors, naming the unknown ids."""
    return HTTPException(422, [{"type": "value_error", "loc": loc, "msg": str(exc)}])


def split_ids(values: list[str] | None, pipeline: Pipeline) -> list[str] | None:
    """`doc_ids` of a query string or form: repeated, comma-separated, or both. A value that
    is a document id as it stands (a file name with a comma) is not split."""
    ids = []
    for value in values or []:
        if value in pipeline.index.documents:
            ids.append(value)
        else:
            ids += [part.strip() for part in value.split(",") if part.strip()]
    return ids or None


def _json(model: BaseModel) -> Response:
    """A model serialised once, by pydantic's own encoder: FastAPI would validate the
    returned object against `response_model` again and encode it a second time."""
    return Response(model.model_dump_json(), media_type="application/json")


@router.get("/search", response_model=SearchResponse)
async def search(
    pipeline: PipelineDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=r"\S")],
    k: Annotated[int, Query(ge=1, le=MAX_SEARCH_K)] = 5,
    doc_ids: Annotated[
        list[str] | None,
        Query(
            description=(
                "Search these documents only: `doc_ids` repeated, or one comma-separated value."
            )
        ),
    ] = None,
) -> SearchResponse:
    """The passages closest to a query, best first."""
    try:
        hits, took_ms = await run_in_threadpool(
            pipeline.search, q.strip(), k, doc_ids=split_ids(doc_ids, pipeline)
        )
    except DocumentNotFoundError as exc:
        raise _unknown_documents(exc, ["query", "doc_ids"]) from None
    return SearchResponse(
        query=q, results=[SearchResult.from_hit(h) for h in hits], took_ms=took_ms
    )


@router.get(
    "/documents/{doc_id:path}",
    response_model=DocumentResponse,
    responses={404: {"model": ErrorResponse, "description": "Not a document of the corpus."}},
)
async def document(doc_id: str, pipeline: PipelineDep) -> DocumentResponse:
    """A document of the corpus, whole; 404 for anything else."""
    try:
        doc = pipeline.document(doc_id)
    except DocumentNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    return DocumentResponse(doc_id=doc.doc_id, title=doc.title, text=doc.text)


@router.get("/health", response_model=HealthResponse)
async def health(request: Request, pipeline: PipelineDep) -> HealthResponse:
    index = pipeline.index
    watcher = getattr(request.app.state, "watcher", None)
    return HealthResponse(
        watching=watcher is not None,
        building=watcher is not None and watcher.building,
        status="ok",
        documents=len(index.documents),
        chunks=len(index.passages),
        model=pipeline.embedder.name,
        built_at=index.built_at,
        engine=pipeline.embedder.model.engine,
        backend=index.passage_search.backend,
    )
