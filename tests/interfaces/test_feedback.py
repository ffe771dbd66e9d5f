"""`POST /api/feedback` and `qa feedback export`: stored beside the index, validated, behind
the keys and the rate limit, never a 500; exported as the contract's gold format."""

import json
import logging
import subprocess
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import REPO, run, served, write_corpus
from qa.config import FEEDBACK_FILE, Settings
from qa.interfaces.http import create_app
from qa.learning.evaluate import load_gold
from qa.learning.feedback import Feedback, FeedbackStore, Span
from qa.pipeline import Pipeline, build

LAKES = "lakes.txt"
CORPUS = {
    LAKES: (
        "Lakes of the North\n\nBlue Lake\n"
        "Blue Lake is 40 metres deep. It freezes every January.\n\n"
        "Green Lake\nGreen Lake is shallow and warm. Swimmers visit it in summer.\n"
    )
}
QUESTION = "How deep is Blue Lake?"
KEY = "sk-feedback-5b1e"


@pytest.fixture(scope="module")
def lakes(tmp_path_factory, embedder):
    corpus = write_corpus(tmp_path_factory.mktemp("corpus"), CORPUS)
    settings = Settings(corpus=corpus, index=tmp_path_factory.mktemp("index"))
    build(settings, embedder=embedder)
    return settings, Pipeline.load(settings, embedder=embedder)


@contextmanager
def app_client(lakes, tmp_path, **update):
    """The real app over the lakes index, its feedback in `tmp_path` unless `update` says."""
    settings, pipeline = lakes
    update.setdefault("feedback", tmp_path / FEEDBACK_FILE)
    with TestClient(create_app(settings.model_copy(update=update), pipeline=pipeline)) as c:
        yield c


@pytest.fixture
def client(lakes, tmp_path):
    with app_client(lakes, tmp_path) as c:
        yield c


@pytest.fixture(scope="module")
def asked(lakes, tmp_path_factory):
    """What `/api/ask` returned for QUESTION, and the body a page sends back with it."""
    with app_client(lakes, tmp_path_factory.mktemp("ask")) as c:
        reply = c.post("/api/ask", json={"question": QUESTION}).json()
    assert reply["answered"] and reply["citations"]
    body = {
        "question": reply["question"],
        "history": [],
        "answer": reply["answer"],
        "citations": reply["citations"],
        "rating": "up",
    }
    return reply, body


def stored(tmp_path):
    return FeedbackStore(tmp_path / FEEDBACK_FILE).all()


def test_feedback_is_stored_with_the_chosen_span_and_the_build(client, asked, lakes, tmp_path):
    reply, body = asked
    first = reply["citations"][0]
    span = {"doc_id": first["doc_id"], "start": first["start"], "end": first["end"]}
    response = client.post("/api/feedback", json={**body, "rating": "down", **span})
    assert response.status_code == 201
    assert response.json() == {"id": 1}
    assert client.post("/api/feedback", json=body).json() == {"id": 2}
    spanned, plain = stored(tmp_path)
    text = lakes[1].index.documents[first["doc_id"]].text
    assert spanned.span == Span(first["doc_id"], first["start"], first["end"], first["quote"])
    assert spanned.span.text == text[first["start"] : first["end"]]
    assert spanned.rating == "down" and plain.rating == "up" and plain.span is None
    built = client.get("/api/health").json()["built_at"]
    assert spanned.built == plain.built == built
    assert plain.question == QUESTION and plain.answer == reply["answer"]
    assert [c["quote"] for c in plain.citations] == [c["quote"] for c in reply["citations"]]


def test_fields_beyond_a_citations_own_are_accepted_and_not_kept(client, asked, tmp_path):
    _, body = asked
    citations = [
        {**c, "best": {"text": c["quote"], "start": c["start"], "end": c["end"]}, "x": 1}
        for c in body["citations"]
    ]
    assert client.post("/api/feedback", json={**body, "citations": citations}).status_code == 201
    (row,) = stored(tmp_path)
    assert row.citations and all("best" not in c and "x" not in c for c in row.citations)
    assert row.citations[0]["quote"] == body["citations"][0]["quote"]


def _span(start, end, doc_id=LAKES):
    return {"doc_id": doc_id, "start": start, "end": end}


CITATION = {"doc_id": LAKES, "quote": "Blue Lake is 40 metres deep.", "start": 30, "end": 58}
TOO_LONG = len(CORPUS[LAKES]) + 1
MISSING = object()


@pytest.mark.parametrize(
    ("change", "loc", "says"),
    [
        ({"question": ""}, ["body", "question"], "at least 1"),
        ({"question": "   "}, ["body", "question"], "at least 1"),
        ({"question": "x" * 1001}, ["body", "question"], "characters"),
        ({"history": [{"question": "q", "answer": "a"}] * 21}, ["body", "history"], "20"),
        ({"history": [{"question": "q" * 1001}]}, ["body", "history", 0, "question"], "characters"),
        ({"answer": "x" * 10_001}, ["body", "answer"], "10000"),
        ({"answer": None}, ["body", "answer"], "string"),
        ({"citations": [CITATION] * 21}, ["body", "citations"], "20"),
        ({"citations": [{"quote": "q", "start": 0, "end": 1}]}, ["body", "citations", 0, "doc_id"],
         "required"),
        ({"rating": "meh"}, ["body", "rating"], "'up' or 'down'"),
        ({"rating": None}, ["body", "rating"], "'up' or 'down'"),
        ({"rating": MISSING}, ["body", "rating"], "required"),
        ({"comment": "x" * 2001}, ["body", "comment"], "2000"),
        ({"doc_id": LAKES}, ["body"], "doc_id, start and end together"),
        ({"start": 0, "end": 4}, ["body"], "doc_id, start and end together"),
        (_span(9, 9), ["body"], "start must be less than end"),
        (_span(-1, 4), ["body", "start"], "greater than or equal to 0"),
        (_span(1.5, 4), ["body", "start"], "integer"),
        (_span("1", 4), ["body", "start"], "integer"),
        (_span(0, 4, "nowhere.txt"), ["body", "doc_id"], "no document 'nowhere.txt'"),
        (_span(0, TOO_LONG), ["body", "end"], f"({TOO_LONG - 1} characters)"),
    ],
)  # fmt: skip
def test_bad_feedback_gets_422_naming_what_is_wrong(client, asked, tmp_path, change, loc, says):
    _, body = asked
    sent = {k: v for k, v in {**body, **change}.items() if v is not MISSING}
    response = client.post("/api/feedback", json=sent)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"] == loc and says in e["msg"] for e in errors), errors
    assert stored(tmp_path) == []


def test_a_span_given_as_whole_numbers_in_json_floats_is_kept(client, asked, tmp_path):
    _, body = asked
    assert client.post("/api/feedback", json={**body, **_span(30.0, 58.0)}).status_code == 201
    assert stored(tmp_path)[0].span.text == "Blue Lake is 40 metres deep."


def test_the_database_is_made_beside_the_index_on_the_first_post(lakes, asked, tmp_path):
    """No QA_FEEDBACK: index/feedback.sqlite3, outside the builds a rebuild replaces."""
    settings, pipeline = lakes
    index = tmp_path / "index"
    build(settings.model_copy(update={"index": index}), embedder=pipeline.embedder)
    served_settings = settings.model_copy(update={"index": index})
    with TestClient(create_app(served_settings, pipeline=pipeline)) as c:
        assert not (index / FEEDBACK_FILE).exists()
        assert c.post("/api/feedback", json=asked[1]).status_code == 201
    assert (index / FEEDBACK_FILE).is_file()
    assert len(FeedbackStore(index / FEEDBACK_FILE).all()) == 1


def test_qa_feedback_overrides_the_path(lakes, asked, tmp_path, monkeypatch):
    settings, pipeline = lakes
    elsewhere = tmp_path / "kept" / "answers.db"
    monkeypatch.setenv("QA_FEEDBACK", str(elsewhere))
    overridden = Settings(corpus=settings.corpus, index=settings.index)
    assert overridden.feedback_path == elsewhere
    with TestClient(create_app(overridden, pipeline=pipeline)) as c:
        assert c.post("/api/feedback", json=asked[1]).status_code == 201
    assert len(FeedbackStore(elsewhere).all()) == 1
    assert not (settings.index / FEEDBACK_FILE).exists()
    monkeypatch.setenv("QA_FEEDBACK", "")
    assert Settings(index=tmp_path).feedback_path == tmp_path / FEEDBACK_FILE


def test_feedback_outlives_a_rebuild_and_make_clean(lakes, asked, tmp_path):
    """Rebuilt from a changed corpus, the old build is removed and the rows stay; `make clean`
    (the Makefile's own recipe, run in a copy of the layout) keeps the database too."""
    _, pipeline = lakes
    corpus = write_corpus(tmp_path / "corpus", CORPUS)
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    build(settings, embedder=pipeline.embedder)
    old_build = (settings.index / "current").resolve()
    served_pipeline = Pipeline.load(settings, embedder=pipeline.embedder)
    with TestClient(create_app(settings, pipeline=served_pipeline)) as c:
        assert c.post("/api/feedback", json=asked[1]).status_code == 201
    write_corpus(corpus, {"rivers.txt": "Rivers\n\nThe Long River is 300 km long.\n"})
    build(settings, embedder=pipeline.embedder)
    assert not old_build.exists()
    assert len(FeedbackStore(settings.feedback_path).all()) == 1
    done = subprocess.run(
        ["make", "-s", "-f", str(REPO / "Makefile"), "-C", str(tmp_path), "clean"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert not (settings.index / "current").exists() and not (settings.index / "builds").exists()
    assert len(FeedbackStore(settings.feedback_path).all()) == 1


@pytest.mark.parametrize("kind", ["under a file", "not a database"])
def test_a_database_that_cannot_be_written_gets_503_not_500(lakes, asked, tmp_path, kind, caplog):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder, not a database\n" * 100)
    path = blocker / FEEDBACK_FILE if kind == "under a file" else blocker
    with (
        app_client(lakes, tmp_path, feedback=path) as c,
        caplog.at_level(logging.ERROR, logger="qa.feedback"),
    ):
        response = c.post("/api/feedback", json=asked[1])
        assert c.post("/api/ask", json={"question": QUESTION}).status_code == 200
    assert response.status_code == 503
    assert "feedback could not be stored" in response.json()["detail"]
    assert str(path) in caplog.text  # the operator's log names the file; the client's not


def test_with_keys_only_keyed_clients_and_signed_in_pages_may_post(lakes, asked, tmp_path):
    with app_client(lakes, tmp_path, api_keys=KEY) as c:
        assert c.post("/api/feedback", json=asked[1]).status_code == 401
        wrong = {"Authorization": "Bearer sk-guess"}
        assert c.post("/api/feedback", json=asked[1], headers=wrong).status_code == 401
        keyed = {"Authorization": f"Bearer {KEY}"}
        assert c.post("/api/feedback", json=asked[1], headers=keyed).status_code == 201
        signed_in = c.post("/signin", data={"key": KEY, "next": "/"}, follow_redirects=False)
        assert signed_in.status_code == 303
        assert c.post("/api/feedback", json=asked[1]).status_code == 201
    assert len(stored(tmp_path)) == 2


def test_feedback_is_rate_limited_like_the_other_routes(lakes, asked, tmp_path):
    with app_client(lakes, tmp_path, rate_limit="2/minute") as c:
        assert [c.post("/api/feedback", json=asked[1]).status_code for _ in range(2)] == [201] * 2
        refused = c.post("/api/feedback", json=asked[1])
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "limit is 2 per 1 minute" in refused.json()["detail"]
    assert len(stored(tmp_path)) == 2


def test_concurrent_posts_are_all_kept_with_their_own_ids(lakes, asked, tmp_path):
    settings, pipeline = lakes
    update = {"feedback": tmp_path / FEEDBACK_FILE}
    with served(settings.model_copy(update=update), pipeline) as url:

        def post(i):
            body = {**asked[1], "comment": f"thread {i}"}
            return httpx.post(f"{url}/api/feedback", json=body, timeout=30)

        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(post, range(24)))
    assert [r.status_code for r in responses] == [201] * 24
    ids = sorted(r.json()["id"] for r in responses)
    assert ids == list(range(1, 25))
    assert sorted(r.comment for r in stored(tmp_path)) == sorted(f"thread {i}" for i in range(24))


def test_the_log_leaves_the_question_out_unless_asked(lakes, asked, tmp_path, caplog):
    for log_questions in (False, True):
        with (
            app_client(lakes, tmp_path, log_questions=log_questions) as c,
            caplog.at_level(logging.INFO, logger="qa.feedback"),
        ):
            caplog.clear()
            assert c.post("/api/feedback", json=asked[1]).status_code == 201
        (record,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "qa.feedback"]
        assert record["rating"] == "up" and record["span"] is False and record["feedback"] >= 1
        assert ("question" in record) is log_questions
        assert (QUESTION in caplog.text) is log_questions


def test_the_route_is_in_openapi_with_its_limits(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/feedback"]["post"]
    assert {"201", "400", "413", "422", "503"} <= set(operation["responses"])
    assert "QA_FEEDBACK" in operation["description"]
    schema = spec["components"]["schemas"]["FeedbackRequest"]
    assert schema["properties"]["rating"]["enum"] == ["up", "down"]
    assert schema["properties"]["comment"]["anyOf"][0]["maxLength"] == 2000
    assert set(schema["required"]) == {"question", "answer", "rating"}


# --- qa feedback export ----------------------------------------------------------------------


ANSWERED = "Blue Lake is 40 metres deep. [1] It freezes every January. [2]"
QUOTES = ["Blue Lake is 40 metres deep.", "It freezes every January."]
DECLINE = "The corpus doesn't say. The closest passages are listed below."


def _row(rating, answer, **kw):
    citations = kw.pop("citations", [{"n": 1, "doc_id": LAKES, "quote": q} for q in QUOTES])
    return Feedback(
        question=kw.pop("question", QUESTION),
        answer=answer,
        rating=rating,
        built="2026-01-01T00:00:00+00:00",
        citations=citations if answer != DECLINE else [],
        **kw,
    )


def test_export_writes_each_kind_of_feedback_as_gold(tmp_path, monkeypatch, capsys):
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    span = Span(LAKES, 30, 58, "Blue Lake is 40 metres deep.")
    history = [{"question": "Which lakes are there?", "answer": "Blue Lake [1]"}]
    rows = [
        _row("down", DECLINE, span=span, history=history, comment="it is in Blue Lake"),
        _row("up", ANSWERED),
        _row("up", DECLINE, question="Who owns Blue Lake?"),
        _row("down", ANSWERED, question="How cold is Blue Lake?"),
        _row("down", DECLINE, question="How old is Blue Lake?"),  # says nothing usable
        _row("up", "Blue Lake is 40 metres deep. [1]", citations=[]),  # quotes from the text
        _row("down", "A client's own words, no markers.", answered=True, citations=[]),
    ]
    for row in rows:
        store.add(row)
    out = tmp_path / "feedback.jsonl"
    code, printed, err = run(
        monkeypatch, capsys, "feedback", "export", "--out", str(out), "--index", str(tmp_path)
    )
    assert code == 0, err
    assert printed.splitlines() == [
        f"wrote 5 items to {out} (from {store.path})",
        "skipped 2 that teach nothing (1: 'not helpful' on a decline, with no passage chosen; "
        "1: an answer without quoted sentences)",
    ]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    common = {"source": "feedback", "built": "2026-01-01T00:00:00+00:00"}
    for item in items:
        assert item.items() >= common.items() and item["created"]
    chosen, helpful, declined, wrong, quoted = items
    assert chosen["id"] == "feedback-1" and chosen["doc"] == LAKES
    assert (chosen["answers"], chosen["answerable"]) == (["Blue Lake is 40 metres deep."], True)
    assert chosen["history"] == history and chosen["comment"] == "it is in Blue Lake"
    assert (helpful["answers"], helpful["answerable"], helpful["rating"]) == (QUOTES, True, "up")
    assert "doc" not in helpful and "wrong_answers" not in helpful
    assert (declined["answers"], declined["answerable"]) == ([], False)
    assert (wrong["answers"], wrong["answerable"], wrong["wrong_answers"]) == ([], False, QUOTES)
    assert quoted["id"] == "feedback-6" and quoted["answers"] == [QUOTES[0]]
    # The file is a gold set that `qa eval` reads.
    gold = load_gold(out)
    assert [g.id for g in gold] == [i["id"] for i in items]
    assert gold[3].wrong_answers == QUOTES and gold[0].doc == LAKES


def test_export_of_no_feedback_writes_an_empty_file_and_says_so(tmp_path, monkeypatch, capsys):
    out = tmp_path / "none.jsonl"
    code, printed, _ = run(
        monkeypatch, capsys, "feedback", "export", "--out", str(out), "--index", str(tmp_path)
    )
    assert code == 0
    assert printed == f"no feedback in {tmp_path / FEEDBACK_FILE}: wrote an empty {out}\n"
    assert out.read_text() == ""
    assert not (tmp_path / FEEDBACK_FILE).exists()  # reading never makes a database


def test_export_reads_qa_feedback_and_refuses_a_missing_folder(tmp_path, monkeypatch, capsys):
    path = tmp_path / "elsewhere.sqlite3"
    FeedbackStore(path).add(_row("up", ANSWERED))
    monkeypatch.setenv("QA_FEEDBACK", str(path))
    out = tmp_path / "out.jsonl"
    code, printed, _ = run(monkeypatch, capsys, "feedback", "export", "--out", str(out))
    assert code == 0 and printed.startswith(f"wrote 1 item to {out} (from {path})")
    code, _, err = run(
        monkeypatch, capsys, "feedback", "export", "--out", str(tmp_path / "no" / "x.jsonl")
    )
    assert code == 1
    assert (
        err == f"error: cannot write {tmp_path / 'no' / 'x.jsonl'}: no folder {tmp_path / 'no'}\n"
    )
    path.write_text("not a database")
    code, _, err = run(monkeypatch, capsys, "feedback", "export", "--out", str(out))
    assert code == 1 and err.startswith(f"error: cannot read the feedback database {path}")
