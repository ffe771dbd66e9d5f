"""The OpenAI-compatible routes, driven by the official `openai` client against the real
server: plain, streamed, multi-turn, within documents, and its errors."""

import re
import shutil
from functools import cache
from pathlib import Path

import httpx
import openai
import pytest
from tokenizers import Tokenizer

from conftest import CORPUS_DOC, STEAM_DOC, served
from qa.config import Settings
from qa.embedding.torch_model import packaged_model_dir
from qa.interfaces.http.openai_chat import ChatRequest
from qa.pipeline import Pipeline, build

PILOTS = Path(__file__).parents[1] / "corpus/files/harbour-pilots.pdf"
US = "How many North Koreans live in the US?"
CANADA = "How many North Koreans reside in Canada?"
DECLINED = "Who won the 2018 World Cup?"


@pytest.fixture(scope="module")
def chat(base_url):
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)


def ask(chat, *messages, **kwargs):
    turns = [{"role": r, "content": c} for r, c in messages]
    return chat.chat.completions.create(model="qa", messages=turns, **kwargs)


@cache
def packaged_tokenizer() -> Tokenizer:
    """The packaged model's tokenizer.json, read here on its own, to count as usage must."""
    tokenizer = Tokenizer.from_file(str(packaged_model_dir() / "tokenizer.json"))
    tokenizer.no_padding()  # the file pads and truncates at 128: whole texts are counted
    tokenizer.no_truncation()
    return tokenizer


def tokens(text: str) -> int:
    return len(packaged_tokenizer().encode(text, add_special_tokens=False).ids)


def document_text(base_url, doc_id):
    return httpx.get(f"{base_url}/api/documents/{doc_id}").json()["text"]


def lead(extension):
    """What the content starts with: the short answer in bold when there is one, then the
    answer."""
    short = extension["short_answer"]
    return (f"Short answer: **{short['text']}**\n\n" if short else "") + extension["answer"]


def test_models_lists_qa(chat):
    models = chat.models.list().data
    assert [m.id for m in models] == ["qa"]
    assert models[0].owned_by == "qa" and models[0].created > 0


def test_answer_quotes_verbatim_and_lists_its_sources(chat, base_url):
    reply = ask(chat, ("user", "What benefits does South Korea offer?"), temperature=0.7)
    content = reply.choices[0].message.content
    extension = reply.model_extra["qa"]
    assert reply.object == "chat.completion" and reply.choices[0].finish_reason == "stop"
    assert extension["answered"] is True and extension["citations"]
    # The content is the API's answer, then one line per citation: a Markdown link named by
    # its title and section that opens the source view at the quote.
    assert content.startswith(lead(extension))
    assert "\nSources:\n" in content
    text = document_text(base_url, CORPUS_DOC)
    for c in extension["citations"]:
        assert text[c["start"] : c["end"]] == c["quote"]
        assert f"[{c['n']}]" in extension["answer"]
        url = f"{base_url}/documents/{c['doc_id']}?start={c['start']}&end={c['end']}#cited"
        assert f"\n- [{c['n']}] [{c['title']} — {c['section']}]({url})" in content
        assert httpx.get(url).status_code == 200
        assert set(c) >= {"n", "doc_id", "title", "section", "quote", "start", "end", "score"}
    # No raw offsets in the text: they are the link's and the extension's.
    sources = content.partition("\nSources:\n")[2]
    assert not re.search(r"\.txt:\d+-\d+", content)
    assert all(line.count("(") == 1 for line in sources.strip().splitlines())


def test_a_pdf_source_names_its_page(tmp_path, embedder):
    settings = Settings(corpus=tmp_path / "corpus", index=tmp_path / "index")
    settings.corpus.mkdir()
    shutil.copy(PILOTS, settings.corpus / PILOTS.name)
    build(settings, embedder=embedder)
    with served(settings, Pipeline.load(settings, embedder=embedder)) as url:
        chat = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        reply = ask(chat, ("user", "How many pilots are on duty at any hour?"))
    first = reply.model_extra["qa"]["citations"][0]
    assert first["page"] == 1
    assert (
        f"- [1] [{first['title']} — {first['section']}]({url}/documents/{PILOTS.name}"
        f"?start={first['start']}&end={first['end']}#cited), page 1"
    ) in reply.choices[0].message.content


def test_usage_counts_tokens_with_the_model_s_own_tokenizer(chat):
    reply = ask(
        chat, ("system", "Be brief."), ("user", US), ("assistant", "About 200."), ("user", CANADA)
    )
    usage = reply.usage
    read = [US, "About 200.", CANADA]  # the chat's user and assistant messages
    assert usage.prompt_tokens == sum(tokens(m) for m in read) > 0
    assert usage.completion_tokens == tokens(reply.choices[0].message.content) > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_streamed_answer_is_the_plain_answer_in_chunks(chat):
    plain = ask(chat, ("user", US))
    chunks = list(ask(chat, ("user", US), stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed == plain.choices[0].message.content
    assert len(chunks) > 3 and len({c.id for c in chunks}) == 1
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert chunks[-1].model_extra["qa"]["citations"] == plain.model_extra["qa"]["citations"]
    assert all(c.usage is None for c in chunks)


def test_a_stream_asked_for_usage_ends_with_it_as_openai_does(chat):
    plain = ask(chat, ("user", US))
    chunks = list(ask(chat, ("user", US), stream=True, stream_options={"include_usage": True}))
    *answer, last = chunks
    assert last.choices == [] and last.usage == plain.usage
    assert all(c.usage is None for c in answer)
    assert answer[-1].choices[0].finish_reason == "stop"
    streamed = "".join(c.choices[0].delta.content or "" for c in answer)
    assert streamed == plain.choices[0].message.content
    assert last.usage.completion_tokens == tokens(streamed)


def test_the_short_answer_leads_the_content_and_travels_in_the_extension(chat, base_url):
    reply = ask(chat, ("user", CANADA))
    extension = reply.model_extra["qa"]
    short, first = extension["short_answer"], extension["citations"][0]
    assert short is not None and set(short) == {"text", "doc_id", "start", "end"}
    content = reply.choices[0].message.content
    assert content.startswith(f"Short answer: **{short['text']}**\n\n{extension['answer']}")
    text = document_text(base_url, short["doc_id"])
    assert text[short["start"] : short["end"]] == short["text"]
    assert short["doc_id"] == first["doc_id"]
    assert first["start"] <= short["start"] < short["end"] <= first["end"]
    # Streamed alike: the same content, and the short answer in the last chunk's extension.
    chunks = list(ask(chat, ("user", CANADA), stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == content
    assert chunks[-1].model_extra["qa"]["short_answer"] == short
    assert all("qa" not in (c.model_extra or {}) for c in chunks[:-1])


def test_a_reply_sent_back_is_read_without_its_short_answer_and_sources(chat):
    reply = ask(chat, ("user", CANADA))
    assert reply.model_extra["qa"]["short_answer"] is not None
    request = ChatRequest.model_validate(
        {
            "messages": [
                {"role": "user", "content": CANADA},
                {"role": "assistant", "content": reply.choices[0].message.content},
                {"role": "user", "content": "And in the US?"},
            ]
        }
    )
    assert request.history()[0].answer == reply.model_extra["qa"]["answer"]


def test_stream_ends_with_done(base_url):
    body = {"model": "qa", "stream": True, "messages": [{"role": "user", "content": US}]}
    with httpx.stream("POST", f"{base_url}/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"


def test_follow_up_reads_the_earlier_messages(chat):
    first = ask(chat, ("user", US)).choices[0].message.content
    # A chat UI sends the whole chat back, system prompt and sources included.
    reply = ask(
        chat,
        ("system", "You are a helpful assistant."),
        ("user", US),
        ("assistant", first),
        ("user", "And in Canada?"),
    )
    assert "970" in reply.model_extra["qa"]["answer"]
    assert reply.model_extra["qa"]["resolved_question"] == "How many North Koreans live in Canada?"


def test_streamed_follow_up(chat):
    first = ask(chat, ("user", US)).choices[0].message.content
    chunks = ask(chat, ("user", US), ("assistant", first), ("user", "And in Canada?"), stream=True)
    assert "970" in "".join(c.choices[0].delta.content or "" for c in chunks)


def test_content_given_as_parts_is_read(chat):
    reply = chat.chat.completions.create(
        model="qa",
        messages=[{"role": "user", "content": [{"type": "text", "text": CANADA}]}],
    )
    assert reply.model_extra["qa"]["answered"] is True


def test_a_question_the_corpus_does_not_answer_is_declined(chat, base_url):
    reply = ask(chat, ("user", DECLINED))
    extension = reply.model_extra["qa"]
    assert extension["answered"] is False
    assert extension["short_answer"] is None
    assert extension["citations"]
    # The decline's statement, then each closest passage as its best sentence and a link to it.
    head, _, listed = reply.choices[0].message.content.partition("\n\nClosest passages:\n\n")
    assert head == extension["answer"] and head.startswith("The corpus doesn't")
    assert listed.splitlines() == [
        f"- [{c['n']}] “{' '.join(c['best']['text'].split())}” ([{c['title']} — {c['section']}]"
        f"({base_url}/documents/{c['doc_id']}?start={c['start']}&end={c['end']}#cited))"
        for c in extension["citations"]
    ]
    streamed = list(ask(chat, ("user", DECLINED), stream=True))
    assert streamed[-1].model_extra["qa"]["short_answer"] is None


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        ([], "messages"),
        ([{"role": "user", "content": "   "}], None),
        ([{"role": "user", "content": US}, {"role": "assistant", "content": "..."}], None),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}], None),
        ([{"role": "wizard", "content": US}], "messages.0.role"),
    ],
)
def test_malformed_requests_get_openai_errors(chat, messages, param):
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        chat.chat.completions.create(model="qa", messages=messages)
    error = caught.value.body
    assert error["type"] == "invalid_request_error" and error["message"]
    if param:
        assert error["param"] == param


def test_an_over_long_question_is_refused_naming_its_length_and_the_limit(chat):
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        ask(chat, ("user", "  " + "x" * 1234 + "  "))
    error = caught.value.body
    assert error["type"] == "invalid_request_error" and error["param"] == "messages"
    assert (
        error["message"] == "The question is 1,234 characters long; the limit is 1,000 characters."
    )
    assert error["code"] == "question_too_long"
    assert ask(chat, ("user", "x" * 1000)).model_extra["qa"]["question"] == "x" * 1000


def test_unknown_routes_get_openai_errors(base_url):
    response = httpx.get(f"{base_url}/v1/embeddings")
    assert response.status_code == 404
    assert response.json()["error"]["message"]


def test_doc_ids_keep_the_answer_within_those_documents(library_url):
    chat = openai.OpenAI(base_url=f"{library_url}/v1", api_key="unused", max_retries=0)
    reply = ask(
        chat, ("user", "Who improved the steam engine?"), extra_body={"doc_ids": [STEAM_DOC]}
    )
    citations = reply.model_extra["qa"]["citations"]
    assert citations and {c["doc_id"] for c in citations} == {STEAM_DOC}
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        ask(chat, ("user", US), extra_body={"doc_ids": ["nowhere.txt"]})
    assert caught.value.body["param"] == "doc_ids"
    assert "nowhere.txt" in caught.value.body["message"]


def test_openapi_documents_the_openai_routes(client):
    schema = client.get("/openapi.json").json()
    assert {"/v1/models", "/v1/chat/completions"} <= set(schema["paths"])
    chat = schema["paths"]["/v1/chat/completions"]["post"]
    assert "text/event-stream" in chat["responses"]["200"]["content"]
    assert "doc_ids" in schema["components"]["schemas"]["ChatRequest"]["properties"]
