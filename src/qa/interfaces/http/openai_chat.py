"""OpenAI-compatible chat: `POST /v1/chat/completions` and `GET /v1/models`.

Chat UIs and the official `openai` client ask `qa` as they would ask a model. Nothing is
generated: the reply is `qa`'s short answer in bold when there is one, its answer with the
`[n]` markers and then its sources, each a Markdown link to the source view; the short answer
and the citations travel whole in the extension field `qa` (the body of `POST /api/ask`).
The last user message is the question; the earlier user and assistant messages are its
history. `usage` counts tokens with the packaged model's own tokenizer.
"""

import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal, Self

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.sse import EventSourceResponse, format_sse_event
from pydantic import BaseModel, ConfigDict, Field, model_validator

from qa import __version__
from qa.answer.sources import with_sources, without_sources
from qa.errors import DocumentNotFoundError
from qa.interfaces.http.deps import PipelineDep
from qa.interfaces.http.pages import source_url
from qa.interfaces.http.schemas import (
    MAX_ANSWER_CHARS_IN_HISTORY,
    MAX_DOC_IDS,
    MAX_HISTORY_TURNS,
    MAX_QUESTION_CHARS,
    AskResponse,
    too_long,
)
from qa.pipeline import Pipeline
from qa.question.conversation import Turn

MODEL_ID = "qa"
CHAT_ROLES = ("user", "assistant")  # system, developer and tool messages are not read

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])


class ContentPart(BaseModel):
    """A part of a message's content; only text parts are read."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content or () if p.type == "text" and p.text)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = Field(
        False, description="Send a last chunk, before [DONE], with `usage` and no choices."
    )


class ChatRequest(BaseModel):
    """OpenAI's request body. Parameters that mean nothing here (temperature, max_tokens,
    tools, n ...) are accepted and ignored."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": MODEL_ID,
                    "messages": [
                        {"role": "user", "content": "When was the first bridge built?"},
                        {"role": "assistant", "content": "..."},
                        {"role": "user", "content": "And the other one?"},
                    ],
                }
            ]
        },
    )

    model: str = Field(MODEL_ID, description=f"Any name; the answer is `{MODEL_ID}`'s.")
    messages: list[Message] = Field(min_length=1)
    stream: bool = Field(False, description="Answer as server-sent events ending with [DONE].")
    stream_options: StreamOptions | None = None
    doc_ids: list[str] | None = Field(
        None,
        max_length=MAX_DOC_IDS,
        description="Extension: answer from these documents only, as in `POST /api/ask`.",
    )

    @model_validator(mode="after")
    def _ends_with_a_question(self) -> Self:
        chat = [m for m in self.messages if m.role in CHAT_ROLES]
        if not chat or chat[-1].role != "user":
            raise ValueError("the last user or assistant message must be the user's question")
        if not chat[-1].text.strip():
            raise ValueError("the question (the last user message's text) is empty")
        return self  # an over-long question is refused by the route, naming its length

    def question(self) -> str:
        return [m for m in self.messages if m.role in CHAT_ROLES][-1].text.strip()

    def history(self) -> list[Turn]:
        """Earlier turns, oldest first: each user message with the assistant reply after it
        (its sources left off), the latest `MAX_HISTORY_TURNS` of them, clipped to the
        API's limits."""
        turns: list[Turn] = []
        for message in [m for m in self.messages if m.role in CHAT_ROLES][:-1]:
            if message.role == "user":
                turns.append(Turn(message.text.strip()[:MAX_QUESTION_CHARS]))
            elif turns and not turns[-1].answer:
                reply = without_sources(message.text)[:MAX_ANSWER_CHARS_IN_HISTORY]
                turns[-1] = Turn(turns[-1].question, reply)
        return turns[-MAX_HISTORY_TURNS:]


class Usage(BaseModel):
    """Tokens as the packaged model's tokenizer counts them: the chat's messages as read
    (its user and assistant messages) and the reply's content."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ReplyMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ReplyMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Reply(BaseModel):
    """What a whole reply and each of its streamed chunks carry alike."""

    id: str
    created: int
    model: str
    system_fingerprint: str = f"qa-{__version__}"


class ChatCompletion(Reply):
    object: Literal["chat.completion"] = "chat.completion"
    choices: list[Choice]
    usage: Usage
    qa: AskResponse = Field(
        description="Extension: the answer with its short answer and citations, whole."
    )


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(Reply):
    """One server-sent event of a streamed answer; the last carries `qa` (the short answer
    and the citations)."""

    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    choices: list[ChunkChoice]
    usage: Usage | None = Field(
        None, description="Only on the last chunk (no choices), with `include_usage`."
    )
    qa: AskResponse | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "qa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class OpenAIErrorBody(BaseModel):
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    error: OpenAIErrorBody


def openai_error(
    status: int, message: str, param: str | None = None, code: str | None = None
) -> Response:
    """An error in the shape OpenAI's clients read."""
    body = OpenAIError(error=OpenAIErrorBody(message=message, param=param, code=code))
    return JSONResponse(body.model_dump(), status_code=status)


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OpenAIError, "description": "The body is not valid JSON text."},
    401: {"model": OpenAIError, "description": "API keys are set and none was given."},
    413: {"description": "The body is over the size limit."},
    422: {"model": OpenAIError, "description": "The request is not one `qa` can answer."},
}


@router.get("/models", response_model=ModelList, responses=ERRORS)
async def models(pipeline: PipelineDep) -> ModelList:
    """The one model: `qa` over this corpus."""
    built = datetime.fromisoformat(pipeline.index.built_at)
    return ModelList(data=[ModelCard(id=MODEL_ID, created=int(built.timestamp()))])


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        **ERRORS,
        200: {
            "description": "The answer; with `stream: true`, server-sent events of "
            "`ChatCompletionChunk` ending with `data: [DONE]`.",
            "content": {"text/event-stream": {"schema": ChatCompletionChunk.model_json_schema()}},
        },
    },
)
async def chat_completions(body: ChatRequest, pipeline: PipelineDep, request: Request) -> Response:
    """Answer the last user message, the earlier messages as its history."""
    question = body.question()
    if len(question) > MAX_QUESTION_CHARS:
        return openai_error(
            422, too_long(len(question)), param="messages", code="question_too_long"
        )
    try:
        result = await run_in_threadpool(
            pipeline.ask, question, history=body.history(), doc_ids=body.doc_ids
        )
    except DocumentNotFoundError as exc:
        return openai_error(422, str(exc), param="doc_ids")
    site = str(request.base_url).rstrip("/")
    content = with_sources(
        result.answer, link=lambda c: site + source_url(c.doc_id, c.start, c.end)
    )
    extension = AskResponse.from_result(result)
    usage = await run_in_threadpool(_usage, pipeline, body, content)
    reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:
        include_usage = body.stream_options is not None and body.stream_options.include_usage
        # The answer is whole already: its events go out in one write, not one each.
        events = b"".join(
            _events(
                reply_id, created, body.model, content, extension, usage if include_usage else None
            )
        )
        return EventSourceResponse(
            iter([events]), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
    completion = ChatCompletion(
        id=reply_id,
        created=created,
        model=body.model,
        choices=[Choice(message=ReplyMessage(content=content))],
        usage=usage,
        qa=extension,
    )
    return Response(completion.model_dump_json(), media_type="application/json")


def _usage(pipeline: Pipeline, body: ChatRequest, content: str) -> Usage:
    """The tokens of the messages read and of the reply, by the model's own tokenizer."""
    messages = [m.text for m in body.messages if m.role in CHAT_ROLES]
    prompt = pipeline.embedder.count_tokens(messages)
    completion = pipeline.embedder.count_tokens([content])
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def _events(
    reply_id: str,
    created: int,
    model: str,
    content: str,
    extension: AskResponse,
    usage: Usage | None = None,
) -> Iterator[bytes]:
    """The reply as OpenAI streams it: the role, the content a line at a time, the end with
    the citations, the usage when asked for (a chunk without choices), then [DONE]."""

    def chunk(
        delta: Delta | None,
        finish: Literal["stop"] | None = None,
        qa: AskResponse | None = None,
        usage: Usage | None = None,
    ) -> bytes:
        event = ChatCompletionChunk(
            id=reply_id,
            created=created,
            model=model,
            choices=[ChunkChoice(delta=delta, finish_reason=finish)] if delta is not None else [],
            usage=usage,
            qa=qa,
        )
        # OpenAI sends `usage: null` on every chunk when usage is asked for, and none else.
        exclude = ({"qa"} if qa is None else set()) | (set() if include else {"usage"})
        return format_sse_event(data_str=event.model_dump_json(exclude=exclude or None))

    include = usage is not None
    yield chunk(Delta(role="assistant", content=""))
    for line in content.splitlines(keepends=True):
        yield chunk(Delta(content=line))
    yield chunk(Delta(), finish="stop", qa=extension)
    if usage is not None:
        yield chunk(None, usage=usage)
    yield format_sse_event(data_str="[DONE]")
