"""`qa mcp`, driven over stdio by the official MCP client, as an assistant would run it.

Each module fixture starts the real command once and records one session's replies; the
tests then read the record. Starting a server takes a few seconds, so there are three.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import CallToolResult

from conftest import CORPUS, CORPUS_DOC, STEAM_DOC, write_corpus
from qa.config import Settings
from qa.interfaces.mcp_server import create_server, document_uri

QA = Path(sys.executable).parent / "qa"
BENEFITS = "What benefits does South Korea offer?"
CANADA = "How many North Koreans reside in Canada?"
STEAM_QUESTION = "Who invented the atmospheric engine?"


def server_env() -> dict[str, str]:
    """What the server needs beyond the few variables the client passes on by itself."""
    env = {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "QA_MODEL_CACHE": os.environ["QA_MODEL_CACHE"],
    }
    if "PYTHONPATH" in os.environ:  # the server runs the code under test (a worktree's)
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def server(settings: Settings) -> StdioServerParameters:
    return StdioServerParameters(
        command=str(QA),
        args=["mcp", "--index", str(settings.index), "--corpus", str(settings.corpus)],
        env=server_env(),
    )


def text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


@dataclass
class Session:
    """What one session with the server said, by the name of each request."""

    replies: dict[str, Any] = field(default_factory=dict)
    stderr: str = ""

    def __getitem__(self, name: str) -> Any:
        return self.replies[name]


# --- one session over the repo's corpus, as most assistants open it (initialize) --------------


@pytest.fixture(scope="module")
def corpus_session(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Session:
    session = Session()
    errlog = tmp_path_factory.mktemp("mcp") / "stderr.txt"

    async def talk() -> None:
        r = session.replies
        with errlog.open("w") as err:
            transport = stdio_client(server(settings), errlog=err)
            async with Client(transport, mode="legacy") as client:
                r["info"] = client.server_info
                r["instructions"] = client.instructions
                r["tools"] = {t.name: t for t in (await client.list_tools()).tools}
                r["ask"] = await client.call_tool("ask", {"question": BENEFITS})
                r["resources"] = (await client.list_resources()).resources
                r["document"] = await client.read_resource(document_uri(CORPUS_DOC))
                try:
                    await client.read_resource("qa://documents/no-such.txt")
                except MCPError as exc:
                    r["no_document"] = exc
                first = "How many North Koreans live in New Malden?"
                r["us"] = await client.call_tool("ask", {"question": first})
                turn = {"question": first, "answer": r["us"].structured_content["answer"]}
                r["canada"] = await client.call_tool(
                    "ask", {"question": "And in Canada?", "history": [turn]}
                )
                r["off_topic"] = await client.call_tool(
                    "ask", {"question": "Who won the 2018 World Cup?"}
                )
                r["blank"] = await client.call_tool("ask", {"question": "   "})
                r["too_long"] = await client.call_tool("ask", {"question": "why " * 300})
                r["unknown_doc"] = await client.call_tool(
                    "ask", {"question": BENEFITS, "doc_ids": ["no-such.txt"]}
                )
                r["long_history"] = await client.call_tool(
                    "ask", {"question": BENEFITS, "history": [turn] * 21}
                )
                r["search"] = await client.call_tool(
                    "search", {"query": "resettlement benefits", "k": 4}
                )
                r["search_k0"] = await client.call_tool("search", {"query": "benefits", "k": 0})
                r["again"] = await client.call_tool("ask", {"question": BENEFITS})

    anyio.run(talk)
    session.stderr = errlog.read_text(encoding="utf-8")
    return session


def test_the_server_introduces_itself(corpus_session):
    import qa

    assert corpus_session["info"].name == "qa"
    assert corpus_session["info"].version == qa.__version__
    instructions = corpus_session["instructions"]
    assert "verbatim" in instructions and "does not hold the answer" in instructions


def test_tools_are_listed_with_schemas_and_read_only(corpus_session):
    tools = corpus_session["tools"]
    assert set(tools) == {"ask", "search"}
    ask, search = tools["ask"], tools["search"]
    props = ask.input_schema["properties"]
    assert ask.input_schema["required"] == ["question"]
    assert props["question"]["minLength"] == 1 and props["question"]["maxLength"] == 1000
    assert props["history"]["anyOf"][0]["maxItems"] == 20
    assert props["doc_ids"]["anyOf"][0]["items"] == {"type": "string"}
    assert set(ask.output_schema["properties"]) == {
        "question",
        "resolved_question",
        "read_as",
        "answer",
        "short_answer",
        "answered",
        "confidence",
        "citations",
        "took_ms",
    }
    k = search.input_schema["properties"]["k"]
    assert (k["minimum"], k["maximum"], k["default"]) == (1, 100, 5)
    assert search.input_schema["required"] == ["query"]
    for tool in (ask, search):
        assert tool.description and tool.title
        assert tool.annotations.read_only_hint is True
        assert tool.annotations.idempotent_hint is True


def test_ask_quotes_the_served_document_verbatim(corpus_session):
    result = corpus_session["ask"]
    assert not result.is_error
    answer = result.structured_content
    assert answer["answered"] is True and answer["question"] == BENEFITS
    assert 0 < answer["confidence"] <= 1
    document = corpus_session["document"].contents[0].text
    assert answer["citations"]
    for c in answer["citations"]:
        assert c["doc_id"] == CORPUS_DOC
        assert document[c["start"] : c["end"]] == c["quote"]
        assert c["quote"] in answer["answer"]
    readable = text(result)
    short = answer["short_answer"]
    assert readable.startswith(
        (f"Short answer: **{short['text']}**\n\n" if short else "") + answer["answer"]
    )
    assert "[1]" in readable and "Sources:" in readable
    # Each source by its title and section, without the offsets (they are structured).
    for c in answer["citations"]:
        assert f"\n- [{c['n']}] {c['title']} — {c['section']}" in readable
    assert (
        f"{CORPUS_DOC}:" not in readable and f"{answer['citations'][0]['start']}-" not in readable
    )


def test_a_follow_up_is_read_through_history(corpus_session):
    assert corpus_session["us"].structured_content["answered"] is True
    canada = corpus_session["canada"].structured_content
    assert canada["answered"] is True
    assert "970" in canada["answer"]
    assert "Canada" in canada["resolved_question"]


def test_a_question_the_corpus_does_not_answer_is_declined(corpus_session):
    result = corpus_session["off_topic"]
    assert not result.is_error
    assert result.structured_content["answered"] is False
    assert result.structured_content["short_answer"] is None
    assert "Sources:" not in text(result) and "Short answer" not in text(result)
    # As in /v1: the decline, then each closest passage as its best sentence and where it is.
    declined = result.structured_content
    assert declined["citations"]
    head, _, listed = text(result).partition("\n\nClosest passages:\n\n")
    assert head == declined["answer"]
    assert listed.splitlines() == [
        f"- [{c['n']}] “{' '.join(c['best']['text'].split())}” ({c['title']} — {c['section']})"
        for c in declined["citations"]
    ]


def test_the_short_answer_is_structured_and_leads_the_text(settings):
    """The server in process (the official client connects to it directly), so that its
    real answers carry a short answer: a number of their first quote."""

    async def talk() -> tuple[CallToolResult, str]:
        async with Client(create_server(settings)) as client:
            result = await client.call_tool("ask", {"question": CANADA})
            document = await client.read_resource(document_uri(CORPUS_DOC))
            return result, document.contents[0].text

    result, document = anyio.run(talk)
    answer = result.structured_content
    short, first = answer["short_answer"], answer["citations"][0]
    assert short is not None and set(short) == {"text", "doc_id", "start", "end"}
    assert document[short["start"] : short["end"]] == short["text"]
    assert short["doc_id"] == first["doc_id"] == CORPUS_DOC
    assert first["start"] <= short["start"] < short["end"] <= first["end"]
    assert text(result).startswith(f"Short answer: **{short['text']}**\n\n{answer['answer']}")


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("blank", "question: String should have at least 1 character"),
        ("too_long", "The question is 1,199 characters long; the limit is 1,000 characters."),
        ("unknown_doc", "no document 'no-such.txt' in the corpus"),
        ("long_history", "history: List should have at most 20 items"),
        ("search_k0", "k: Input should be greater than or equal to 1"),
    ],
)
def test_bad_arguments_are_one_line_tool_errors(corpus_session, name, says):
    result = corpus_session[name]
    assert result.is_error is True
    assert result.structured_content is None
    message = text(result)
    assert says in message
    assert "\n" not in message


def test_bad_arguments_leave_the_server_serving(corpus_session):
    again = corpus_session["again"]
    assert not again.is_error
    first = corpus_session["ask"].structured_content
    assert again.structured_content["answer"] == first["answer"]  # idempotent, as annotated
    assert "Traceback" not in corpus_session.stderr


def test_search_returns_passages_best_first(corpus_session):
    result = corpus_session["search"]
    assert not result.is_error
    found = result.structured_content
    assert found["query"] == "resettlement benefits"
    results = found["results"]
    assert len(results) == 4
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    document = corpus_session["document"].contents[0].text
    for r in results:
        assert r["doc_id"] == CORPUS_DOC
        assert r["text"].strip() in document
    readable = text(result)
    assert readable.startswith("1. ") and "\n4. " in readable
    assert results[0]["text"].split("\n")[0] in readable


def test_documents_are_resources(corpus_session, pipeline):
    (resource,) = corpus_session["resources"]
    assert resource.name == CORPUS_DOC
    assert resource.uri == f"qa://documents/{CORPUS_DOC}"
    assert resource.title == pipeline.document(CORPUS_DOC).title
    assert resource.mime_type == "text/plain"
    (contents,) = corpus_session["document"].contents
    assert contents.mime_type == "text/plain"
    assert contents.text == pipeline.document(CORPUS_DOC).text
    assert "qa://documents/no-such.txt" in str(corpus_session["no_document"])


# --- one session over a library of two documents, on the current protocol (discover) ---------


@pytest.fixture(scope="module")
def library_session(library_settings: Settings) -> Session:
    session = Session()

    async def talk() -> None:
        r = session.replies
        async with Client(server(library_settings)) as client:
            r["protocol"] = client.protocol_version
            r["resources"] = (await client.list_resources()).resources
            r["steam"] = await client.read_resource(document_uri(STEAM_DOC))
            for name, doc_ids in (("all", None), ("steam_only", [STEAM_DOC])):
                r[name] = await client.call_tool(
                    "ask", {"question": STEAM_QUESTION, "doc_ids": doc_ids}
                )
            r["elsewhere"] = await client.call_tool(
                "ask", {"question": STEAM_QUESTION, "doc_ids": [CORPUS_DOC]}
            )
            r["one_unknown"] = await client.call_tool(
                "ask", {"question": STEAM_QUESTION, "doc_ids": [CORPUS_DOC, "nope.md"]}
            )
            r["search_steam"] = await client.call_tool(
                "search", {"query": "engine", "k": 10, "doc_ids": [STEAM_DOC]}
            )

    anyio.run(talk)
    return session


def test_the_library_lists_every_document(library_session, library):
    resources = {r.name: r for r in library_session["resources"]}
    assert set(resources) == {CORPUS_DOC, STEAM_DOC} == set(library.index.documents)
    for doc_id, resource in resources.items():
        assert resource.uri == document_uri(doc_id)
        assert resource.title == library.document(doc_id).title
    assert library_session["steam"].contents[0].text == library.document(STEAM_DOC).text


def test_doc_ids_keep_answers_within_those_documents(library_session):
    assert library_session["protocol"] >= "2026"  # the modern era: no initialize
    for name in ("all", "steam_only"):
        answer = library_session[name].structured_content
        assert answer["answered"] is True and "Newcomen" in answer["answer"]
    steam_only = library_session["steam_only"].structured_content
    assert {c["doc_id"] for c in steam_only["citations"]} == {STEAM_DOC}
    elsewhere = library_session["elsewhere"].structured_content
    assert {c["doc_id"] for c in elsewhere["citations"]} <= {CORPUS_DOC}
    assert elsewhere["answered"] is False or "Newcomen" not in elsewhere["answer"]


def test_an_unknown_doc_id_is_named(library_session):
    result = library_session["one_unknown"]
    assert result.is_error is True
    assert "'nope.md'" in text(result) and CORPUS_DOC not in text(result)


def test_search_within_a_document(library_session):
    results = library_session["search_steam"].structured_content["results"]
    assert results and {r["doc_id"] for r in results} == {STEAM_DOC}


# --- the wire itself, with an index still to build ----------------------------------------------


def test_handshake_does_not_wait_for_the_index_and_stdout_is_only_protocol(tmp_path):
    """Raw JSON-RPC lines, no SDK: the server answers `initialize` while it is still building
    the index, its stdout carries nothing but JSON-RPC, a document whose id holds a folder
    and a space is a resource, and the process never loads torch."""
    doc_id = "travel notes/north korea.txt"
    corpus = write_corpus(tmp_path / "corpus", {doc_id: (CORPUS / CORPUS_DOC).read_text("utf-8")})
    index = tmp_path / "index"
    env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ} | server_env()
    proc = subprocess.Popen(
        [str(QA), "mcp", "--index", str(index), "--corpus", str(corpus)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin and proc.stdout
    lines: list[str] = []

    def request(n: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
        message = {"jsonrpc": "2.0", "id": n, "method": method, "params": params}
        proc.stdin.write(json.dumps(message).encode() + b"\n")
        proc.stdin.flush()
        lines.append(proc.stdout.readline().decode())
        reply = json.loads(lines[-1])
        assert reply["id"] == n, reply
        return reply["result"]

    try:
        init = request(
            1,
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"},
            },
        )
        index_at_handshake = (index / "current").exists()
        proc.stdin.write(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
        asked = request(2, "tools/call", {"name": "ask", "arguments": {"question": BENEFITS}})
        listed = request(3, "resources/list", {})
        uri = "qa://documents/travel%20notes/north%20korea.txt"
        read = request(4, "resources/read", {"uri": uri})
        maps = Path(f"/proc/{proc.pid}/maps")
        mapped = maps.read_text() if maps.exists() else ""
    finally:
        try:
            rest, stderr = proc.communicate(timeout=30)  # closes stdin: the server's cue to exit
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    lines += rest.decode().splitlines()

    assert init["serverInfo"]["name"] == "qa" and "tools" in init["capabilities"]
    assert not index_at_handshake  # answered before the build was done
    assert all(json.loads(line)["jsonrpc"] == "2.0" for line in lines if line.strip())
    assert "building it from" in stderr.decode()
    # A first run's steps are said at info, not as warnings.
    said = stderr.decode().splitlines()
    assert any(line.startswith("info: no index in ") for line in said), said
    assert not any(line.startswith("warning:") for line in said), said
    answer = asked["structuredContent"]
    assert answer["answered"] is True and not asked.get("isError")
    assert [r["uri"] for r in listed["resources"]] == [uri]
    assert listed["resources"][0]["name"] == doc_id
    document = read["contents"][0]["text"]
    for c in answer["citations"]:
        assert c["doc_id"] == doc_id and document[c["start"] : c["end"]] == c["quote"]
    assert "libtorch" not in mapped and "/torch/" not in mapped
    assert proc.returncode == 0


def test_importing_the_server_does_not_import_torch():
    code = (
        "import sys, qa.interfaces.mcp_server; "
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
