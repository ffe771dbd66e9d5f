"""`POST /api/feedback`: a user's "helpful" or "not helpful" on an answer, and optionally the
span that answers it, kept for `qa feedback export` and `qa train --feedback`."""

import json
import logging
from typing import Annotated, Literal, Self

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from qa.interfaces.http.deps import PipelineDep
from qa.interfaces.http.routes import ERRORS
from qa.interfaces.http.schemas import (
    MAX_HISTORY_TURNS,
    ErrorResponse,
    QuestionText,
    Turn,
    _integral,
)
from qa.learning.feedback import Feedback, FeedbackError, FeedbackStore, Span

log = logging.getLogger("qa.feedback")
router = APIRouter(prefix="/api", tags=["qa"])

# Limits well above what `/api/ask` returns (answers of about 600 characters, quotes of a
# few sentences), low enough that a body stays far under the size limit.
MAX_ANSWER_CHARS = 10_000
MAX_CITATIONS = 20
MAX_QUOTE_CHARS = 10_000
MAX_NAME_CHARS = 1_000
MAX_COMMENT_CHARS = 2_000


# The bound before the validator, so that OpenAPI says `minimum: 0` (after it, pydantic
# writes an unknown `ge` key, and clients and fuzzers think negative offsets valid).
Offset = Annotated[int, Field(ge=0, strict=True), BeforeValidator(_integral)]


class FeedbackCitation(BaseModel):
    """A citation as `/api/ask` returned it; fields beyond these (`passage` ...) are accepted
    and not kept."""

    model_config = ConfigDict(extra="ignore")

    doc_id: str = Field(max_length=MAX_NAME_CHARS)
    quote: str = Field(max_length=MAX_QUOTE_CHARS)
    start: Offset
    end: Offset
    n: int | None = None
    title: str | None = Field(None, max_length=MAX_NAME_CHARS)
    section: str | None = Field(None, max_length=MAX_NAME_CHARS)


class FeedbackRequest(BaseModel):
    """A verdict on one answer of `/api/ask`, sent back with the question, history, answer and
    citations it was given on."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "question": "How many people live in the town?",
                    "history": [],
                    "answer": "The corpus doesn't say.",
                    "citations": [],
                    "rating": "down",
                    "comment": "The census section says it.",
                    "doc_id": "town.txt",
                    "start": 120,
                    "end": 180,
                }
            ]
        }
    )

    question: QuestionText = Field(description="1 to 1,000 characters after trimming.")
    history: list[Turn] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_TURNS,
        description="The earlier turns the question was asked with (at most 20).",
    )
    answer: str = Field(max_length=MAX_ANSWER_CHARS, description="The answer as returned.")
    answered: bool | None = Field(
        None,
        description=(
            "Extension: `answered` as returned. Absent: an answer with `[n]` markers is taken "
            "as answered, one without as declined."
        ),
    )
    citations: list[FeedbackCitation] = Field(
        default_factory=list,
        max_length=MAX_CITATIONS,
        description="The citations as returned (at most 20); other fields are ignored.",
    )
    rating: Literal["up", "down"] = Field(description='"up": helpful; "down": not helpful.')
    comment: str | None = Field(None, max_length=MAX_COMMENT_CHARS)
    doc_id: str | None = Field(
        None,
        max_length=MAX_NAME_CHARS,
        description=(
            "With `start` and `end`, or none of the three: the span the user says answers the "
            "question, `text[start:end]` of a document of the corpus (a citation's quote, or "
            "a closest passage's best sentence)."
        ),
    )
    start: Offset | None = None
    end: Offset | None = None

    @model_validator(mode="after")
    def _span_whole(self) -> Self:
        given = [self.doc_id is not None, self.start is not None, self.end is not None]
        if any(given) and not all(given):
            raise ValueError("give doc_id, start and end together, or none of them")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError("start must be less than end")
        return self


class FeedbackResponse(BaseModel):
    id: int = Field(description="The stored feedback's id.")


@router.post(
    "/feedback",
    status_code=201,
    summary="Keep a user's verdict on an answer",
    response_model=FeedbackResponse,
    responses={
        **ERRORS,
        503: {"model": ErrorResponse, "description": "The feedback could not be stored."},
    },
)
async def feedback(body: FeedbackRequest, pipeline: PipelineDep, request: Request) -> Response:
    """Keep a "helpful" (`up`) or "not helpful" (`down`) on an answer, and optionally the span
    that answers it, in the feedback database beside the index (`QA_FEEDBACK` overrides its
    path), with the index build the answer came from. `qa feedback export` writes them as a
    gold set (a chosen span is the answer; "not helpful" with none marks the answer's quotes
    as `wrong_answers`) and `qa train --feedback` fits on it. 422 names a document not in the
    corpus or a span outside it; 503 when the database cannot be written."""
    index = pipeline.index
    span = None
    if body.doc_id is not None and body.start is not None and body.end is not None:
        document = index.documents.get(body.doc_id)
        if document is None:
            raise _invalid("doc_id", f"no document {body.doc_id!r} in the corpus")
        if body.end > len(document.text):
            raise _invalid(
                "end", f"the span ends after the document ({len(document.text)} characters)"
            )
        span = Span(body.doc_id, body.start, body.end, document.text[body.start : body.end])
    store: FeedbackStore = request.app.state.feedback
    row = Feedback(
        question=body.question,
        history=[t.model_dump() for t in body.history],
        answer=body.answer,
        answered=body.answered,
        citations=[c.model_dump(exclude_none=True) for c in body.citations],
        rating=body.rating,
        comment=body.comment or None,
        span=span,
        built=index.built_at,
    )
    try:
        feedback_id = await run_in_threadpool(store.add, row)
    except FeedbackError as exc:
        log.error("%s", exc)
        raise HTTPException(
            503,
            "The feedback could not be stored (the server's feedback database is not "
            "writable); the server's log says why.",
        ) from None
    record = {"feedback": feedback_id, "rating": body.rating, "span": span is not None}
    if request.app.state.settings.log_questions:
        record["question"] = body.question
    log.info(json.dumps(record, ensure_ascii=False))
    return Response(
        FeedbackResponse(id=feedback_id).model_dump_json(),
        status_code=201,
        media_type="application/json",
    )


def _invalid(field: str, message: str) -> HTTPException:
    """422 in the shape of FastAPI's own validation errors."""
    return HTTPException(422, [{"type": "value_error", "loc": ["body", field], "msg": message}])
