"""Fuzzing the HTTP API: schemathesis against the app's own OpenAPI schema, then hostile input
written by hand. Nothing may answer 5xx, break the schema or serve a file outside the corpus."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from conftest import CORPUS, CORPUS_DOC, REPO
from qa.interfaces.http import create_app
from qa.interfaces.http.schemas import (
    MAX_ANSWER_CHARS_IN_HISTORY,
    MAX_HISTORY_TURNS,
    MAX_QUESTION_CHARS,
    MAX_SEARCH_K,
)

# --- schemathesis ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def api_schema(settings, pipeline):
    """The real app's schema, loaded from its own /openapi.json."""
    app = create_app(settings, pipeline=pipeline)
    app.state.pipeline = pipeline  # in case the transport does not run the lifespan
    return schemathesis.openapi.from_asgi("/openapi.json", app)


# Each operation and the modes it can be fuzzed in (a path-typed string or no parameter at all
# has no negative case); a new operation fails the check below until it is listed here.
CASES = [
    ("POST /api/ask", GenerationMode.POSITIVE),
    ("POST /api/ask", GenerationMode.NEGATIVE),
    ("GET /api/search", GenerationMode.POSITIVE),
    ("GET /api/search", GenerationMode.NEGATIVE),
    ("GET /api/documents/{doc_id}", GenerationMode.POSITIVE),
    ("GET /api/health", GenerationMode.POSITIVE),
    ("POST /v1/chat/completions", GenerationMode.POSITIVE),
    ("POST /v1/chat/completions", GenerationMode.NEGATIVE),
    ("GET /v1/models", GenerationMode.POSITIVE),
    ("POST /api/feedback", GenerationMode.POSITIVE),
    ("POST /api/feedback", GenerationMode.NEGATIVE),
]


def test_the_schema_has_exactly_the_fuzzed_operations(api_schema):
    labels = {result.ok().label for result in api_schema.get_all_operations()}
    assert labels == {label for label, _ in CASES}


def _documented_statuses(api_schema, label):
    method, path = label.split(" ", 1)
    return {int(code) for code in api_schema.raw_schema["paths"][path][method.lower()]["responses"]}


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{lb} {m.value}" for lb, m in CASES])
def test_api_conforms_to_its_schema(api_schema, label, mode):
    """Every default check: no server error, every status and body as the schema says."""
    operation = api_schema.find_operation_by_label(label)
    allowed = _documented_statuses(api_schema, label)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        derandomize=True,  # the same examples on every run: CI is not a lottery
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        # doc_ids (and feedback's doc_id) must name documents of the corpus, and a chat must
        # end with the user's question, which a schema cannot say: such requests get a
        # documented 422, not a 2xx.
        semantic = _names_documents(case) or label.startswith("POST /v1/")
        excluded = [positive_data_acceptance] if semantic else []
        if "doc_ids" in (case.query or {}):
            # Any query string is a valid doc_ids value once serialised (an empty one asks
            # the whole corpus), so a "negative" one cannot be told from a positive one.
            excluded.append(negative_data_rejection)
        response = case.call_and_validate(excluded_checks=excluded)
        assert response.status_code < 500, case.as_curl_command()
        assert response.status_code in allowed, (response.status_code, case.as_curl_command())

    run()


def _names_documents(case) -> bool:
    body = case.body if isinstance(case.body, dict) else {}
    spans = any(body.get(k) is not None for k in ("doc_id", "start", "end"))
    return bool(body.get("doc_ids") or (case.query or {}).get("doc_ids") or spans)


def test_ask_accepts_an_integral_float_top_k(client):
    response = client.post("/api/ask", json={"question": "Canada?", "top_k": 20.0})
    assert response.status_code == 200


def test_schema_documents_the_documents_404(api_schema):
    assert 404 in _documented_statuses(api_schema, "GET /api/documents/{doc_id}")


def test_schema_documents_the_400_for_an_unreadable_body(client, api_schema):
    response = client.post(
        "/api/ask", content=b"\xff", headers={"content-type": "application/json"}
    )
    assert response.status_code in _documented_statuses(api_schema, "POST /api/ask")


# --- hand-written hostile input -------------------------------------------------------------

HOSTILE = {
    "control": "What\x00 about\x01\x07\x08 Canada\x1b[31m?\x7f",
    "rtl-and-zero-width": "\u202eWhere\u200f do\u200b defectors\u200d go\ufeff?\u2066x\u2069",
    "emoji": "🇰🇷 How many 👩‍👩‍👧 defectors live in Canada? 😀",
    "max-length": ("How many North Koreans live in Canada? " * 30)[:MAX_QUESTION_CHARS],
    "korean": "캐나다에 사는 탈북자는 몇 명입니까?",
    "arabic": "كم عدد الكوريين الشماليين الذين يعيشون في كندا؟",
    "russian": "Сколько северокорейцев живёт в Канаде?",
    "template": "{{7*7}} ${7*7} {% for x in y %}{{x}}{% endfor %} #{7*7}",
    "sql": "'; DROP TABLE passages; -- \" OR 1=1 --",
    "html": "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "traversal": "../../../../etc/passwd",
    "markers": "[1] [2] [999999999999999999999] [-1]",
    "only-punctuation": "?!.,;:…",
    "newlines": "How many\r\n\r\nNorth Koreans\n\n\nlive in Canada?",
}
BLANK = [" ", "\t\n\r ", "\u3000", "\u200b"]


def assert_handled(response, *, ok=(200,)):
    """A deliberate answer: one of `ok`, or a 4xx whose JSON body has a `detail`."""
    status = response.status_code
    assert status < 500, (status, response.text[:500])
    assert status in ok or 400 <= status < 500, (status, response.text[:500])
    if status >= 400:
        assert response.headers["content-type"].startswith("application/json"), response.headers
        assert "detail" in response.json(), response.text[:500]
    return response


def ask(client, body):
    return client.post("/api/ask", json=body)


@pytest.mark.parametrize("question", HOSTILE.values(), ids=HOSTILE.keys())
def test_ask_handles_hostile_questions(client, question):
    response = assert_handled(ask(client, {"question": question}))
    assert response.status_code == 200
    assert response.json()["question"] == question.strip()


@pytest.mark.parametrize("question", BLANK)
def test_ask_refuses_blank_questions(client, question):
    # "\u200b" is not white space to Python, so it may be asked; anything else is 422.
    response = assert_handled(ask(client, {"question": question}))
    assert response.status_code == (200 if question.strip() else 422)


def test_ask_refuses_an_overlong_question(client):
    response = assert_handled(ask(client, {"question": "a" * (MAX_QUESTION_CHARS + 1)}))
    assert response.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        b'{"question": "\\ud800"}',
        b'{"question": "What about \\udfff Canada?"}',
        b'{"question": "\\udc00\\ud800"}',
        b'{"question": "ok", "history": [{"question": "\\ud800", "answer": "\\udfff"}]}',
    ],
    ids=["high", "low-in-text", "reversed-pair", "in-history"],
)
def test_ask_handles_lone_surrogates(client, body):
    response = client.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert_handled(response)
    response.json()  # whatever came back is valid JSON


@pytest.mark.parametrize(
    "body",
    [
        b'{"question": "\xed\xa0\x80"}',  # a surrogate as UTF-8 bytes: json lets it through
        b'{"question": "\xff\xfe"}',
        b'{"question": "unterminated',
        b"",
        b"question=hello",
        b"null",
        b'"just a string"',
        b"42",
        b'{"question": "x", "question": 7}',
        b'{"question": NaN}',
    ],
)
def test_ask_handles_malformed_json(client, body):
    response = client.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert_handled(response, ok=())


def test_ask_refuses_a_list_instead_of_an_object(client):
    response = assert_handled(ask(client, [{"question": "How many live in Canada?"}]), ok=())
    assert response.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"question": None},
        {"question": 42},
        {"question": 4.2},
        {"question": True},
        {"question": ["How many?"]},
        {"question": {"text": "How many?"}},
        {"question": "Canada?", "history": "earlier"},
        {"question": "Canada?", "history": 3},
        {"question": "Canada?", "history": {"question": "a", "answer": "b"}},
        {"question": "Canada?", "history": [1]},
        {"question": "Canada?", "history": ["earlier question"]},
        {"question": "Canada?", "history": [None]},
        {"question": "Canada?", "history": [{"answer": "no question"}]},
        {"question": "Canada?", "history": [{"question": 1, "answer": "a"}]},
        {"question": "Canada?", "history": [{"question": "a", "answer": 1}]},
        {"question": "Canada?", "history": [{"question": "a", "answer": None}]},
        {"question": "Canada?", "top_k": "5"},
        {"question": "Canada?", "top_k": 5.5},
        {"question": "Canada?", "top_k": True},
        {"question": "Canada?", "top_k": None},
        {"question": "Canada?", "top_k": [5]},
        {"question": "Canada?", "top_k": 0},
        {"question": "Canada?", "top_k": -1},
        {"question": "Canada?", "top_k": 10**30},
        {"question": "Canada?", "top_k": -(10**30)},
    ],
)
def test_ask_refuses_wrong_types_and_ranges(client, body):
    response = assert_handled(ask(client, body), ok=())
    assert response.status_code == 422


def test_ask_accepts_huge_top_k_only_as_422(client):
    response = client.post(
        "/api/ask",
        content=b'{"question": "Canada?", "top_k": 1' + b"0" * 4000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert_handled(response, ok=())


def test_ask_refuses_too_many_history_turns(client):
    history = [{"question": f"Question {i}?", "answer": "An answer."} for i in range(21)]
    assert len(history) == MAX_HISTORY_TURNS + 1
    response = assert_handled(ask(client, {"question": "And Canada?", "history": history}))
    assert response.status_code == 422


def test_ask_accepts_the_most_history_turns(client):
    history = [
        {"question": "How many live in Canada?", "answer": "x" * MAX_ANSWER_CHARS_IN_HISTORY}
    ] * MAX_HISTORY_TURNS
    response = assert_handled(ask(client, {"question": "And in Japan?", "history": history}))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "turn",
    [
        {"question": "Canada?", "answer": "x" * (MAX_ANSWER_CHARS_IN_HISTORY + 1)},
        {"question": "Canada?", "answer": "x" * 1_000_000},
        {"question": "q" * (MAX_QUESTION_CHARS + 1), "answer": "An answer."},
    ],
    ids=["answer-just-over", "answer-megabyte", "question-over"],
)
def test_ask_refuses_overlong_history_turns(client, turn):
    response = assert_handled(ask(client, {"question": "And Japan?", "history": [turn]}), ok=())
    assert response.status_code in (413, 422)


@pytest.mark.parametrize("question", HOSTILE.values(), ids=HOSTILE.keys())
def test_ask_handles_hostile_history(client, question):
    history = [{"question": question, "answer": question}]
    response = assert_handled(ask(client, {"question": "And then?", "history": history}))
    assert response.status_code == 200


# --- GET /api/search ------------------------------------------------------------------------


@pytest.mark.parametrize("q", HOSTILE.values(), ids=HOSTILE.keys())
def test_search_handles_hostile_queries(client, q):
    response = assert_handled(client.get("/api/search", params={"q": q}))
    assert response.status_code == 200
    assert response.json()["query"] == q


@pytest.mark.parametrize("q", ["", " ", "\t\n", "a" * (MAX_QUESTION_CHARS + 1)])
def test_search_refuses_blank_or_overlong_queries(client, q):
    response = assert_handled(client.get("/api/search", params={"q": q}), ok=())
    assert response.status_code == 422


@pytest.mark.parametrize(
    "query", ["q=%ED%A0%80", "q=%FF%FE", "q=%00", "q=a&q=b", "q=%", "q=%zz", "k=3", ""]
)
def test_search_handles_raw_query_strings(client, query):
    assert_handled(client.get(f"/api/search?{query}"))


@pytest.mark.parametrize(
    "k", ["0", "-1", str(MAX_SEARCH_K + 1), str(10**30), "abc", "1.5", "", "NaN", "1e3", "0x10"]
)
def test_search_refuses_bad_k(client, k):
    response = assert_handled(client.get("/api/search", params={"q": "Canada", "k": k}), ok=())
    assert response.status_code == 422


def test_search_accepts_the_largest_k(client):
    response = client.get("/api/search", params={"q": "Canada", "k": MAX_SEARCH_K})
    assert assert_handled(response).status_code == 200


# --- documents: only the corpus, never a file outside it ------------------------------------

OUTSIDE_MARKERS = ("[tool.ruff]", "root:x:0:0", "[project]", "import pytest")
TRAVERSALS = [
    "..%2Fpyproject.toml",
    "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "%2E%2E%2Fpyproject.toml",
    "%2E%2E/%2E%2E/pyproject.toml",
    "..%5Cpyproject.toml",
    "..%252Fpyproject.toml",
    "%2Fetc%2Fpasswd",
    "/etc/passwd",
    "%2F" + str(REPO / "pyproject.toml").lstrip("/").replace("/", "%2F"),
    str(CORPUS / CORPUS_DOC).lstrip("/"),
    "/" + str(CORPUS / CORPUS_DOC).lstrip("/"),
    "corpus/" + CORPUS_DOC,
    "%2E%2F" + CORPUS_DOC,
    CORPUS_DOC + "%00",
    CORPUS_DOC + "%00.md",
    "%00",
    "..%00/pyproject.toml",
    CORPUS_DOC.upper(),
    CORPUS_DOC + "/",
    CORPUS_DOC + "/..%2F..%2Fpyproject.toml",
    "file:%2F%2F%2Fetc%2Fpasswd",
    "~%2F.ssh%2Fid_rsa",
    "C:%5CWindows%5Cwin.ini",
    "tests%2Ftest_fuzz.py",
    "a" * 10_000,
    "%2E%2E%2F" * 2_000 + "etc%2Fpasswd",
]


def _assert_not_outside(response):
    for marker in OUTSIDE_MARKERS:
        assert marker not in response.text, marker


@pytest.mark.parametrize("doc_id", TRAVERSALS)
def test_api_documents_refuse_traversal(client, doc_id):
    response = assert_handled(client.get(f"/api/documents/{doc_id}"), ok=())
    assert response.status_code == 404
    _assert_not_outside(response)


@pytest.mark.parametrize("doc_id", TRAVERSALS)
def test_source_pages_refuse_traversal(client, doc_id):
    response = client.get(f"/documents/{doc_id}")
    assert response.status_code == 404, response.text[:500]
    _assert_not_outside(response)


@pytest.mark.parametrize("prefix", ["/api/documents/", "/documents/"])
def test_the_corpus_document_itself_is_served(client, prefix):
    """The control for the traversal tests: the real id is found by both routes."""
    assert client.get(prefix + CORPUS_DOC).status_code == 200


@pytest.mark.parametrize(
    "query",
    ["start=-1&end=5", "start=5&end=1", f"start=0&end={10**30}", "start=abc", "start=&end="],
)
def test_source_page_handles_bad_ranges(client, query):
    response = client.get(f"/documents/{CORPUS_DOC}?{query}")
    assert response.status_code in (200, 422), (response.status_code, response.text[:500])


def test_search_blank_query_error_matches_the_schema(client, api_schema):
    response = client.get("/api/search", params={"q": " "})
    assert response.status_code == 422
    operation = api_schema.find_operation_by_label("GET /api/search")
    operation.validate_response(response)
