"""Request and response bodies of the JSON API, with the contract's limits."""

from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from qa.pipeline import AskResult, SearchHit

MAX_QUESTION_CHARS = 1000
MAX_ANSWER_CHARS_IN_HISTORY = 4000
MAX_HISTORY_TURNS = 20
MAX_TOP_K = 20
MAX_DOC_IDS = 100
# The contract gives no limit for search's k; allow a generous page rather than refuse.
MAX_SEARCH_K = 100


def too_long(length: int) -> str:
    """What an over-long question is told: its length and the limit, never a silent cut."""
    return (
        f"The question is {length:,} characters long; "
        f"the limit is {MAX_QUESTION_CHARS:,} characters."
    )


def _within_limit(value: object) -> object:
    """An over-long question's error names its length and the limit."""
    if isinstance(value, str) and len(value.strip()) > MAX_QUESTION_CHARS:
        raise PydanticCustomError("string_too_long", too_long(len(value.strip())))
    return value


# The pattern says in the schema what trimming means: at least one non-space character.
QuestionText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_QUESTION_CHARS, pattern=r"\S"
    ),
    BeforeValidator(_within_limit),
]


class ErrorResponse(BaseModel):
    """An error that is not about one field."""

    detail: str


def _integral(value: object) -> object:
    """20.0 is the integer 20 in JSON; 20.5, "20" and true are not integers."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class Turn(BaseModel):
    """An earlier turn of the same chat."""

    question: Annotated[str, StringConstraints(max_length=MAX_QUESTION_CHARS)]
    answer: Annotated[str, StringConstraints(max_length=MAX_ANSWER_CHARS_IN_HISTORY)] = ""


class AskRequest(BaseModel):
    """A question, with the earlier turns of the chat for follow-ups."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"question": "What does the corpus say about housing?", "top_k": 5}]
        }
    )

    question: QuestionText = Field(description="1 to 1,000 characters after trimming.")
    history: list[Turn] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_TURNS,
        description="Earlier turns, oldest first (at most 20).",
    )
    top_k: Annotated[int, BeforeValidator(_integral)] = Field(
        5,
        ge=1,
        le=MAX_TOP_K,
        strict=True,
        description=(
            "Closest passages a declined answer lists (at most 3 are shown). The answer itself "
            "reads the 5 best passages, the depth its fitted model was trained on."
        ),
    )
    doc_ids: list[str] | None = Field(
        None,
        max_length=MAX_DOC_IDS,
        description=(
            "Answer from these documents only (ids as `doc_id` in citations; at most 100). "
            "Absent, null or empty: the whole corpus. An id not in the corpus gets 422."
        ),
    )


class Span(BaseModel):
    """A stretch of a document, verbatim: `text[start:end] == text`."""

    text: str
    start: int
    end: int


class Citation(BaseModel):
    """A verbatim quote: `text[start:end] == quote` in the document `doc_id`."""

    n: int
    doc_id: str
    title: str
    section: str
    quote: str
    start: int
    end: int
    score: float
    page: int | None = Field(
        None,
        description="The 1-based page of a PDF where the quote starts; null for other formats.",
    )
    best: Span | None = Field(
        None,
        description=(
            "On a declined answer, whose citations quote the closest passages whole: the "
            "passage's best sentence, inside the quote (for a short view). Null on an "
            "answer's citations."
        ),
    )


class ShortAnswer(BaseModel):
    """The phrase that answers, verbatim: `text[start:end] == text` in the document
    `doc_id`, inside the first citation's span."""

    text: str
    doc_id: str
    start: int
    end: int


class AskResponse(BaseModel):
    question: str
    resolved_question: str = Field(description="The question with follow-ups filled in.")
    read_as: str | None = Field(
        None,
        description=(
            "How the question was read, for the asker to see: only when reading changed its "
            "words (a follow-up filled in, or typos corrected beyond doubt); else null."
        ),
    )
    answer: str
    short_answer: ShortAnswer | None = Field(
        None,
        description=(
            "The phrase that answers (a number, name, date, place or short clause), quoted "
            "from the first citation; null when the answer is declined or the question asks "
            "for more than a phrase (a reason, a description, a list)."
        ),
    )
    answered: bool
    confidence: float = Field(ge=0, le=1)
    citations: list[Citation]
    took_ms: float

    @classmethod
    def from_result(cls, result: AskResult) -> Self:
        answer = result.answer
        return cls(
            question=result.question,
            resolved_question=result.resolved_question,
            read_as=result.read_as,
            answer=answer.answer,
            short_answer=(
                ShortAnswer.model_validate(answer.short_answer, from_attributes=True)
                if answer.short_answer is not None
                else None
            ),
            answered=answer.answered,
            confidence=answer.confidence,
            citations=[Citation.model_validate(c, from_attributes=True) for c in answer.citations],
            took_ms=result.took_ms,
        )


class SearchResult(BaseModel):
    doc_id: str
    title: str
    section: str
    text: str
    start: int
    end: int
    score: float

    @classmethod
    def from_hit(cls, hit: SearchHit) -> Self:
        return cls.model_validate(hit, from_attributes=True)


class SearchResponse(BaseModel):
    query: str
    results: list[SearchResult]
    took_ms: float


class DocumentResponse(BaseModel):
    doc_id: str
    title: str
    text: str


class HealthResponse(BaseModel):
    status: str
    documents: int
    chunks: int
    model: str
    built_at: str
    # Beyond the contract: the engine running the model, "onnx" or "torch" (the fallback).
    engine: str
    # Beyond the contract: whether the corpus folder is watched (`qa serve`, unless
    # --no-watch), and whether a rebuild after a change to it is running now.
    watching: bool = False
    building: bool = False
    # Where the index lives: "local" (FAISS and BM25 files in the index folder) or
    # "milvus" (collections in Milvus, `QA_BACKEND=milvus`).
    backend: Literal["local", "milvus"] = "local"
