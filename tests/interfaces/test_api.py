"""The HTTP API through FastAPI's client: every contract field and limit."""

import pytest

from conftest import CORPUS_DOC

QUESTION = "How many North Koreans reside in Canada?"


def ask(client, **body):
    return client.post("/api/ask", json=body)


def test_ask_returns_every_contract_field(client):
    response = ask(client, question=QUESTION)
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= {"question", "answer", "answered", "confidence", "citations", "took_ms"}
    assert data["question"] == QUESTION
    assert data["answered"] is True
    assert "970" in data["answer"]
    assert 0 <= data["confidence"] <= 1
    assert data["took_ms"] > 0
    citation = data["citations"][0]
    assert set(citation) == {
        "n", "doc_id", "title", "section", "quote", "start", "end", "score", "page", "best"
    }  # fmt: skip
    assert citation["page"] is None  # a .txt has no pages
    assert citation["best"] is None  # only a decline's closest passages name one
    assert citation["n"] == 1
    assert citation["doc_id"] == CORPUS_DOC
    assert citation["title"] == "Destinations of North Korean Defectors"
    assert citation["section"] == "Canada"


@pytest.mark.parametrize(
    "question",
    [
        QUESTION,
        "What benefits does South Korea offer?",
        "Who won the 2018 World Cup?",
        "Why do North Koreans stay in China?",
        "refugee",
    ],
)
def test_every_citation_is_verbatim_in_the_served_document(client, question):
    data = ask(client, question=question, top_k=8).json()
    for citation in data["citations"]:
        doc = client.get(f"/api/documents/{citation['doc_id']}").json()
        assert doc["text"][citation["start"] : citation["end"]] == citation["quote"]
    if data["short_answer"] is not None:
        assert_short_answer_is_verbatim_in_the_first_citation(client, data)


def assert_short_answer_is_verbatim_in_the_first_citation(client, data):
    short, first = data["short_answer"], data["citations"][0]
    assert set(short) == {"text", "doc_id", "start", "end"}
    assert data["answered"] is True and short["text"]
    doc = client.get(f"/api/documents/{short['doc_id']}").json()
    assert doc["text"][short["start"] : short["end"]] == short["text"]
    assert short["doc_id"] == first["doc_id"]
    assert first["start"] <= short["start"] < short["end"] <= first["end"]


def test_a_declined_answer_has_no_short_answer(client):
    data = ask(client, question="Who won the 2018 World Cup?").json()
    assert data["answered"] is False
    assert "short_answer" in data and data["short_answer"] is None


def test_the_short_answer_is_returned_with_document_offsets(client):
    data = ask(client, question=QUESTION).json()
    assert data["short_answer"] is not None
    assert_short_answer_is_verbatim_in_the_first_citation(client, data)
    first = data["citations"][0]
    inside = first["quote"][data["short_answer"]["start"] - first["start"] :]
    assert inside.startswith(data["short_answer"]["text"])


def test_question_is_trimmed(client):
    assert ask(client, question=f"  {QUESTION}\n").json()["question"] == QUESTION


def test_history_resolves_a_follow_up(client):
    data = ask(
        client,
        question="And in Canada?",
        history=[{"question": "How many North Koreans live in the US?",
                  "answer": "More than 170 [1]"}],
    ).json()  # fmt: skip
    assert data["resolved_question"] == "How many North Koreans live in Canada?"
    assert "970" in data["answer"]


def test_top_k_limits_the_closest_passages_of_a_decline(client):
    data = ask(client, question="Who won the 2018 World Cup?", top_k=1).json()
    assert data["answered"] is False
    assert len(data["citations"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": "   \n\t "}, "question"),
        ({"question": "x" * 1001}, "question"),
        ({"question": 42}, "question"),
        ({"question": QUESTION, "top_k": 0}, "top_k"),
        ({"question": QUESTION, "top_k": 21}, "top_k"),
        ({"question": QUESTION, "top_k": "5"}, "top_k"),
        ({"question": QUESTION, "top_k": 2.5}, "top_k"),
        ({"question": QUESTION, "history": [{"question": "q"}] * 21}, "history"),
        ({"question": QUESTION, "history": "not a list"}, "history"),
        ({"question": QUESTION, "history": [{"answer": "no question"}]}, "history"),
    ],
)
def test_bad_input_gets_422_naming_the_field(client, body, field):
    response = ask(client, **body)
    assert response.status_code == 422
    assert any(field in err["loc"] for err in response.json()["detail"])


def test_an_over_long_question_is_told_its_length_and_the_limit(client):
    response = ask(client, question="x" * 1234)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "question"]
    assert error["msg"] == "The question is 1,234 characters long; the limit is 1,000 characters."


def test_a_decline_names_what_was_asked_and_quotes_best_sentences(client):
    data = ask(client, question="How many North Koreans live in Australia?").json()
    assert data["answered"] is False
    assert data["answer"] == "The corpus doesn't say how many North Koreans live in Australia."
    assert data["read_as"] is None
    for c in data["citations"]:
        best = c["best"]
        text = client.get(f"/api/documents/{c['doc_id']}").json()["text"]
        assert text[c["start"] : c["end"]] == c["quote"]
        assert text[best["start"] : best["end"]] == best["text"]
        assert c["start"] <= best["start"] < best["end"] <= c["end"]


def test_read_as_shows_sure_corrections_and_filled_in_follow_ups(client):
    typo = ask(client, question="How many North Koreans live in Cnada?").json()
    assert typo["read_as"] == "How many North Koreans live in Canada?"
    plain = ask(client, question="how many north koreans live in canada?").json()
    assert plain["read_as"] is None  # the same words: nothing to show
    chatter = ask(client, question="hi! How many North Koreans live in Canada?").json()
    assert chatter["read_as"] is None
    history = [{"question": "How many North Koreans live in Canada?", "answer": typo["answer"]}]
    follow = ask(client, question="And in the UK?", history=history).json()
    assert follow["read_as"] is not None and "UK" in follow["read_as"]
    assert follow["read_as"] != "And in the UK?"


def test_limits_are_inclusive(client):
    assert ask(client, question="x" * 1000).status_code == 200
    assert ask(client, question=QUESTION, top_k=20).status_code == 200
    history = [{"question": "How many live in the US?", "answer": ""}] * 20
    assert ask(client, question="And Canada?", history=history).status_code == 200


def test_invalid_json_gets_422(client):
    response = client.post(
        "/api/ask", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_search_returns_passages_best_first(client):
    response = client.get("/api/search", params={"q": "resettlement benefits", "k": 3})
    assert response.status_code == 200
    data = response.json()
    assert data["query"] == "resettlement benefits"
    assert len(data["results"]) == 3
    first = data["results"][0]
    assert set(first) == {"doc_id", "title", "section", "text", "start", "end", "score"}
    assert first["section"] == "South Korea"
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)
    assert data["took_ms"] > 0


@pytest.mark.parametrize(
    "params",
    [{}, {"q": ""}, {"q": "   "}, {"q": "x" * 1001}, {"q": "a", "k": 0}, {"q": "a", "k": 101}],
)
def test_search_rejects_bad_queries(client, params):
    assert client.get("/api/search", params=params).status_code == 422


def test_document_is_served_whole(client):
    response = client.get(f"/api/documents/{CORPUS_DOC}")
    assert response.status_code == 200
    data = response.json()
    assert data["doc_id"] == CORPUS_DOC
    assert data["title"] == "Destinations of North Korean Defectors"
    with open(f"corpus/{CORPUS_DOC}", encoding="utf-8") as f:
        assert data["text"] == f.read()


@pytest.mark.parametrize(
    "doc_id",
    [
        "nope.txt",
        "../pyproject.toml",
        "..%2Fpyproject.toml",
        "%2E%2E/%2E%2E/etc/passwd",
        "/etc/passwd",
        f"{CORPUS_DOC}/..",
    ],
)
def test_unknown_documents_and_paths_outside_the_corpus_get_404(client, doc_id):
    assert client.get(f"/api/documents/{doc_id}").status_code == 404


def test_health_reports_the_index(client):
    data = client.get("/api/health").json()
    assert data["status"] == "ok"
    assert data["documents"] == 1
    assert data["chunks"] > 10
    assert data["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert data["built_at"]
    assert data["engine"] == "onnx"


def test_openapi_documents_the_limits(client):
    schema = client.get("/openapi.json").json()
    ask_request = schema["components"]["schemas"]["AskRequest"]["properties"]
    assert ask_request["question"]["maxLength"] == 1000
    assert ask_request["top_k"]["minimum"] == 1
    assert ask_request["top_k"]["maximum"] == 20
    assert ask_request["history"]["maxItems"] == 20
    assert client.get("/docs").status_code == 200


def test_openapi_documents_the_short_answer(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    field = schemas["AskResponse"]["properties"]["short_answer"]
    assert {"$ref": "#/components/schemas/ShortAnswer"} in field["anyOf"]
    assert {"type": "null"} in field["anyOf"]
    assert "null when the answer is declined" in field["description"]
    assert set(schemas["ShortAnswer"]["required"]) == {"text", "doc_id", "start", "end"}


# --- asking within documents (doc_ids) ---------------------------------------------------------

STEAM_QUESTION = "Who invented the atmospheric engine?"


def test_doc_ids_keep_answer_and_citations_within_those_documents(library_client):
    from conftest import STEAM_DOC

    within = ask(library_client, question=STEAM_QUESTION, doc_ids=[STEAM_DOC]).json()
    assert within["answered"] is True
    assert "Newcomen" in within["answer"]
    assert {c["doc_id"] for c in within["citations"]} == {STEAM_DOC}
    elsewhere = ask(library_client, question=STEAM_QUESTION, doc_ids=[CORPUS_DOC]).json()
    assert elsewhere["answered"] is False
    assert elsewhere["citations"]
    assert {c["doc_id"] for c in elsewhere["citations"]} == {CORPUS_DOC}


def test_absent_null_or_empty_doc_ids_ask_the_whole_library(library_client):
    answers = [
        ask(library_client, question=STEAM_QUESTION, **extra).json()
        for extra in ({}, {"doc_ids": None}, {"doc_ids": []})
    ]
    assert all(a["answered"] and "Newcomen" in a["answer"] for a in answers)
    assert len({a["answer"] for a in answers}) == 1


def test_unknown_doc_id_gets_422_naming_it(library_client):
    response = ask(library_client, question=STEAM_QUESTION, doc_ids=[CORPUS_DOC, "no-such.txt"])
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", "doc_ids"]
    assert "'no-such.txt'" in detail[0]["msg"]
    assert CORPUS_DOC not in detail[0]["msg"]


@pytest.mark.parametrize("doc_ids", [[1], "one.txt", [None]])
def test_doc_ids_of_the_wrong_type_get_422(library_client, doc_ids):
    response = ask(library_client, question=STEAM_QUESTION, doc_ids=doc_ids)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "doc_ids"]


def test_search_within_documents_repeated_or_comma_separated(library_client):
    from conftest import STEAM_DOC

    def docs(params):
        response = library_client.get("/api/search", params=params)
        assert response.status_code == 200, response.text
        return [r["doc_id"] for r in response.json()["results"]]

    query = [("q", "engine pressure cylinder"), ("k", "100")]
    assert set(docs([*query, ("doc_ids", CORPUS_DOC)])) == {CORPUS_DOC}
    both = set(docs(query))
    assert both == {CORPUS_DOC, STEAM_DOC}
    assert set(docs([*query, ("doc_ids", CORPUS_DOC), ("doc_ids", STEAM_DOC)])) == both
    assert set(docs([*query, ("doc_ids", f"{CORPUS_DOC},{STEAM_DOC}")])) == both


def test_search_with_an_unknown_doc_id_gets_422(library_client):
    response = library_client.get("/api/search", params={"q": "engine", "doc_ids": "zzz.txt"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "doc_ids"]
    assert "'zzz.txt'" in response.json()["detail"][0]["msg"]


def test_openapi_documents_doc_ids(client):
    schema = client.get("/openapi.json").json()
    field = schema["components"]["schemas"]["AskRequest"]["properties"]["doc_ids"]
    assert "422" in field["description"]
    search = schema["paths"]["/api/search"]["get"]["parameters"]
    assert any(p["name"] == "doc_ids" and "comma" in p["description"] for p in search)
