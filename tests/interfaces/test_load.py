"""The real server under concurrent load, the shared pipeline across threads, and shutdown.

Bounded: every loop has a count or a deadline, servers listen only on 127.0.0.1, and no
assertion is on speed (the machine is shared); the figures are printed and recorded instead.
"""

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest

from conftest import CORPUS_DOC, free_port, wait_healthy
from qa.interfaces.http.schemas import AskResponse
from qa.question.conversation import Turn

CLIENTS = 32
DURATION_S = 8.0
HEALTH_EVERY_S = 0.2
# A liveness bound, not a benchmark: /api/health runs on the event loop while the asks run
# in the thread pool, so it must keep answering under load; 5 s is far above any healthy
# figure on a loaded 2-core machine, and only a blocked event loop would exceed it.
HEALTH_MAX_S = 5.0
REQUEST_TIMEOUT_S = 30.0

US = "How many North Koreans live in the US?"
CANADA = "How many North Koreans reside in Canada?"
ASKED = [
    CANADA,
    "What benefits does South Korea offer?",
    "How many North Koreans settled in the EU between 2007 and 2016?",
    "How many North Koreans live in New Malden?",
    "How many asylum applications did the UK reject in 2013?",
    "What is Hanawon?",
]
FOLLOW_UPS = ["And in Canada?", "What about in China?", "And in Japan?"]
UNANSWERABLE = ["Who won the 2018 World Cup?", "Who won the 2018 FIFA World Cup?"]
ASK_FIELDS = {
    "question", "resolved_question", "answer", "answered", "confidence", "citations", "took_ms"
}  # fmt: skip
CITATION_FIELDS = {
    "n", "doc_id", "title", "section", "quote", "start", "end", "score", "page", "best"
}  # fmt: skip


def comparable(response: dict) -> dict:
    """An /api/ask body without its timing, which differs between identical answers."""
    return {k: v for k, v in response.items() if k != "took_ms"}


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@pytest.fixture(scope="module")
def requests_and_expected(pipeline):
    """The rotating bodies, each with the answer the pipeline gives it when asked alone."""
    us = pipeline.ask(US)
    history = [{"question": US, "answer": us.answer.answer}]
    bodies = [{"question": q} for q in ASKED + UNANSWERABLE]
    bodies += [{"question": q, "history": history} for q in FOLLOW_UPS]
    bodies.append({"question": CANADA, "top_k": 8})
    expected = []
    for body in bodies:
        turns = [Turn(t["question"], t["answer"]) for t in body.get("history", [])]
        result = pipeline.ask(body["question"], history=turns, top_k=body.get("top_k", 5))
        expected.append(comparable(AskResponse.from_result(result).model_dump(mode="json")))
    return bodies, expected


@dataclass
class LoadRun:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    responses: list[tuple[int, dict]] = field(default_factory=list)  # (body index, json)
    health_latencies: list[float] = field(default_factory=list)
    health_errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0


def poll_health(base_url, stop: threading.Event, run: LoadRun):
    """Polls /api/health every HEALTH_EVERY_S from its own thread until `stop` (bounded)."""
    deadline = time.monotonic() + DURATION_S + REQUEST_TIMEOUT_S
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        while not stop.is_set() and time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                response = client.get("/api/health")
                run.health_latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or response.json().get("status") != "ok":
                    run.health_errors.append(f"{response.status_code}: {response.text[:200]}")
            except httpx.HTTPError as exc:
                run.health_errors.append(repr(exc))
            stop.wait(HEALTH_EVERY_S)


async def drive(base_url, bodies, run: LoadRun):
    """CLIENTS clients, each asking in a loop (from its own offset) until the duration ends."""
    end = time.monotonic() + DURATION_S

    async def client_loop(offset):
        async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
            i = offset
            while time.monotonic() < end:
                index = i % len(bodies)
                i += 1
                started = time.perf_counter()
                try:
                    response = await client.post("/api/ask", json=bodies[index])
                except httpx.HTTPError as exc:
                    run.errors.append(f"{bodies[index]}: {exc!r}")
                    continue
                run.latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    run.errors.append(f"{bodies[index]}: {response.status_code} {response.text}")
                    continue
                try:
                    run.responses.append((index, response.json()))
                except ValueError:
                    run.errors.append(f"{bodies[index]}: not JSON: {response.text[:200]}")

    started = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(*(client_loop(n) for n in range(CLIENTS))),
        timeout=DURATION_S + 2 * REQUEST_TIMEOUT_S,
    )
    run.elapsed = time.perf_counter() - started


@pytest.fixture(scope="module")
def load_run(base_url, requests_and_expected):
    """One load run, with /api/health polled alongside; the tests below read its record."""
    bodies, _ = requests_and_expected
    run = LoadRun()
    stop = threading.Event()
    poller = threading.Thread(target=poll_health, args=(base_url, stop, run), daemon=True)
    poller.start()
    try:
        asyncio.run(drive(base_url, bodies, run))
    finally:
        stop.set()
        poller.join(timeout=REQUEST_TIMEOUT_S + 5)
    return run


def test_load_has_no_errors_and_every_citation_is_verbatim(
    base_url, requests_and_expected, load_run, record_property
):
    bodies, expected = requests_and_expected
    run = load_run
    done = len(run.latencies)
    p50, p95 = percentile(run.latencies, 50) * 1000, percentile(run.latencies, 95) * 1000
    throughput = done / run.elapsed
    print(
        f"\nload: {CLIENTS} clients, {run.elapsed:.1f} s, {done} requests, "
        f"{throughput:.1f} req/s, p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
        f"max {max(run.latencies) * 1000:.0f} ms, errors {len(run.errors)}"
    )
    for name, value in [
        ("load_requests", done),
        ("load_throughput_rps", round(throughput, 1)),
        ("load_p50_ms", round(p50)),
        ("load_p95_ms", round(p95)),
        ("load_errors", len(run.errors)),
    ]:
        record_property(name, value)

    assert run.errors == []
    assert done >= CLIENTS  # every client completed at least one request
    assert len(run.responses) == done
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        doc_ids = {c["doc_id"] for _, data in run.responses for c in data["citations"]}
        texts = {}
        for doc_id in doc_ids:
            response = client.get(f"/api/documents/{doc_id}")
            assert response.status_code == 200
            texts[doc_id] = response.json()["text"]
    assert set(texts) == {CORPUS_DOC}
    seen = set()
    for index, data in run.responses:
        assert set(data) >= ASK_FIELDS
        assert data["question"] == bodies[index]["question"]
        for citation in data["citations"]:
            assert set(citation) == CITATION_FIELDS
            text = texts[citation["doc_id"]]
            assert text[citation["start"] : citation["end"]] == citation["quote"]
            if (best := citation["best"]) is not None:
                assert text[best["start"] : best["end"]] == best["text"]
        # Under load, each answer is the one the pipeline gives the same body asked alone.
        assert comparable(data) == expected[index], bodies[index]
        seen.add(index)
    assert seen == set(range(len(bodies)))  # the rotation covered every question


def test_answers_under_load_are_right(requests_and_expected):
    """The expectations the load run compared against are themselves right."""
    bodies, expected = requests_and_expected
    by_question = {
        (b["question"], bool(b.get("history")), b.get("top_k", 5)): e
        for b, e in zip(bodies, expected, strict=True)
    }
    assert "970" in by_question[(CANADA, False, 5)]["answer"]
    canada = by_question[("And in Canada?", True, 5)]
    assert canada["resolved_question"] == "How many North Koreans live in Canada?"
    assert "970" in canada["answer"]
    for question in ASKED:
        assert by_question[(question, False, 5)]["answered"] is True
    for question in UNANSWERABLE:
        assert by_question[(question, False, 5)]["answered"] is False


def test_health_stays_responsive_under_load(load_run, record_property):
    run = load_run
    worst = max(run.health_latencies)
    print(
        f"\nhealth under load: {len(run.health_latencies)} polls, "
        f"p50 {statistics.median(run.health_latencies) * 1000:.0f} ms, max {worst * 1000:.0f} ms"
    )
    record_property("health_polls", len(run.health_latencies))
    record_property("health_max_ms", round(worst * 1000))
    assert run.health_errors == []
    # At one poll per ~0.2 s over ~8 s, even a slow machine gets well over a handful in.
    assert len(run.health_latencies) >= 5
    assert worst < HEALTH_MAX_S


@pytest.mark.parametrize("with_history", [False, True], ids=["question", "follow-up"])
def test_shared_pipeline_gives_identical_answers_across_threads(pipeline, with_history):
    question, history = CANADA, ()
    if with_history:
        history = (Turn(US, pipeline.ask(US).answer.answer),)
        question = "And in Canada?"

    def ask(_):
        result = pipeline.ask(question, history=history)
        return comparable(AskResponse.from_result(result).model_dump(mode="json"))

    alone = ask(None)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(ask, range(64), timeout=120))
    assert len(results) == 64
    assert all(r == alone for r in results)
    assert "970" in alone["answer"]


# --- graceful shutdown of `qa serve` -----------------------------------------------------

SHUTDOWN_THREADS = 16
SHUTDOWN_PER_THREAD = 5
SIGNAL_AFTER = 4  # responses, so that the others are being answered when SIGTERM lands
# A request whose body was fully written this long before SIGTERM was read by the server's
# event loop before the signal (which that same loop handles), so it counts as accepted.
ACCEPTED_MARGIN_S = 0.05
LONG_CONTEXT = " ".join(["the people who left and where they settled in the end"] * 14)


@dataclass
class Attempt:
    sent_at: float | None = None  # when the request body was fully written
    done_at: float | None = None
    status: int | None = None
    error: str | None = None


def test_sigterm_finishes_in_flight_requests_and_exits(settings, tmp_path, record_property):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-c", "from qa.interfaces.cli import main; main()", "serve",
        "--index", str(settings.index), "--corpus", str(settings.corpus),
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    # Every request must run the model and take a while, or none is in flight at the signal:
    # no question cache, and long questions (a forward pass grows with the tokens).
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["QA_QUESTION_CACHE"] = "0"
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=err)
    try:
        wait_healthy(url, proc, timeout=90)
        attempts = [
            [Attempt() for _ in range(SHUTDOWN_PER_THREAD)] for _ in range(SHUTDOWN_THREADS)
        ]
        ready = threading.Barrier(SHUTDOWN_THREADS + 1, timeout=30)
        responded = threading.Semaphore(0)

        def worker(mine):
            with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
                client.get("/api/health")  # the connection is open and accepted beforehand
                ready.wait()
                for n, attempt in enumerate(mine):

                    def trace(event, _info, attempt=attempt):
                        if event == "http11.send_request_body.complete":
                            attempt.sent_at = time.monotonic()

                    question = f"{ASKED[n % len(ASKED)]} {LONG_CONTEXT} ({id(mine)}, {n})"
                    body = {"question": question, "top_k": 20}
                    try:
                        response = client.post("/api/ask", json=body, extensions={"trace": trace})
                        attempt.status = response.status_code
                    except httpx.HTTPError as exc:
                        attempt.error = repr(exc)
                    attempt.done_at = time.monotonic()
                    responded.release()

        threads = [threading.Thread(target=worker, args=(a,), daemon=True) for a in attempts]
        for thread in threads:
            thread.start()
        ready.wait()
        for _ in range(SIGNAL_AFTER):
            assert responded.acquire(timeout=60), "no responses before the signal"
        signalled_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        exited_after = time.monotonic() - signalled_at
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT_S + 5)
            assert not thread.is_alive()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    flat = [a for mine in attempts for a in mine]
    accepted = [
        a
        for a in flat
        if a.sent_at is not None
        and a.sent_at <= signalled_at - ACCEPTED_MARGIN_S
        and (a.done_at is None or a.done_at > signalled_at)
    ]
    answered = [a for a in flat if a.status is not None]
    refused = [a for a in flat if a.error is not None]
    log = stderr.read_text(encoding="utf-8", errors="replace")
    print(
        f"\nshutdown: {len(flat)} requests, {len(accepted)} in flight at SIGTERM, "
        f"{len(answered)} answered, {len(refused)} refused after it; "
        f"exit code {code} after {exited_after:.2f} s"
    )
    record_property("shutdown_in_flight", len(accepted))
    record_property("shutdown_exit_code", code)
    record_property("shutdown_seconds", round(exited_after, 2))

    # There were requests in flight at the signal, or the test would prove nothing.
    assert accepted, "no request was in flight at SIGTERM"
    # Every request the server had accepted before the signal was answered, with a 200.
    assert all(a.status == 200 for a in accepted), [vars(a) for a in accepted]
    # Any response at all is a 200: nothing is cut short into a 5xx.
    assert all(a.status == 200 for a in answered)
    # Only requests sent after the signal may fail, and only because nobody listens any more.
    for a in refused:
        assert a.sent_at is None or a.sent_at > signalled_at - ACCEPTED_MARGIN_S, vars(a)
    assert "Application shutdown complete" in log, log[-2000:]
    # uvicorn shuts down gracefully, then re-raises the captured SIGTERM with the default
    # handler restored (uvicorn.Server.capture_signals), so the process ends *by* SIGTERM:
    # -SIGTERM here (143 in a shell). Anything else (1, a traceback, a hang) is a failure.
    assert code in (0, -signal.SIGTERM), log[-2000:]
    assert exited_after < 30
