"""Latency report: index build, the bare model, `Pipeline.ask` in process and over HTTP.

Run with `make bench`, or `.venv/bin/python scripts/bench.py --n 100 --json`. Every figure is
wall-clock time (`time.perf_counter`); latencies are medians (p50) and 95th percentiles over
warm runs of a rotating list of questions, and ratios are to the median of a bare
`Embedder.encode_one`. Nothing is asserted: this is a report, and on a busy machine it is noisy.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import torch

from qa.config import Settings
from qa.embed import Embedder, load_embedder
from qa.pipeline import Pipeline, build
from qa.squad import read_squad, write_squad_corpus

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SQUAD = ROOT / ".." / "shared" / "benchmarks" / "squad2-dev-A.json"
WARMUP = 5
THROUGHPUT_CLIENTS = 8
THROUGHPUT_SECONDS = 5.0
HEALTH_TIMEOUT_S = 60.0

QUESTIONS = [
    "How many North Koreans reside in Canada?",
    "What benefits does South Korea offer?",
    "How many North Korean refugees have resettled in South Korea?",
    "How many North Koreans are hiding in China?",
    "Does China grant refugee status to North Koreans?",
    "How long is the adaptation training at Hanawon?",
    "How much is the housing subsidy for North Korean refugees?",
    "What does Saeteomin mean?",
    "How does the 1951 Refugee Convention define a refugee?",
    "When did Kim Jong-un take power?",
    "How many North Koreans obtained citizenship in the EU between 2007 and 2016?",
    "How many asylum applications did the UK reject in 2013?",
    "Where is New Malden?",
    "When did the US first grant refugee status to North Koreans?",
    "How many North Koreans settled illegally in Los Angeles?",
    "Why do North Korean refugees choose Canada?",
    # Not answerable from the corpus.
    "How many North Korean defectors live in Australia?",
    "What is the population of Pyongyang?",
    "Who won the 2018 FIFA World Cup?",
    "What is the capital of Mongolia?",
]


def build_figures(corpus: Path, index: Path, embedder: Embedder) -> dict[str, float]:
    """Build the index of `corpus` into `index` once; its size and wall-clock time."""
    started = time.perf_counter()
    report = build(Settings(corpus=corpus, index=index), embedder=embedder)
    seconds = time.perf_counter() - started
    return {
        "documents": report.documents,
        "sentences": report.sentences,
        "seconds": round(seconds, 3),
        "sentences_per_s": round(report.sentences / seconds, 1),
    }


def timed(call: Callable[[str], object], n: int) -> tuple[list[float], list[str]]:
    """Times in ms of `n` calls on the rotating questions after warm-up, and any errors."""
    times: list[float] = []
    errors: list[str] = []
    for i in range(-WARMUP, n):
        question = QUESTIONS[i % len(QUESTIONS)]
        started = time.perf_counter()
        try:
            call(question)
        except Exception as exc:
            errors.append(f"{question!r}: {type(exc).__name__}: {exc}")
            continue
        if i >= 0:
            times.append((time.perf_counter() - started) * 1000)
    return times, errors


def summary(times: list[float], baseline: float | None = None) -> dict[str, float]:
    p50, p95 = np.percentile(times, [50, 95]) if times else (float("nan"), float("nan"))
    ratio = round(p50 / baseline, 2) if baseline else 1.0
    return {"n": len(times), "p50_ms": round(p50, 2), "p95_ms": round(p95, 2), "ratio": ratio}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(client: httpx.Client, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the server exited with {server.returncode}:\n{tail}")
        try:
            if client.get("/api/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no healthy server after {HEALTH_TIMEOUT_S:.0f} s (log: {log})")


def throughput(base: str, clients: int, seconds: float) -> tuple[float, int]:
    """Answers per second from `clients` concurrent keep-alive clients for `seconds`; errors."""
    stop = time.monotonic() + seconds
    counts = [0] * clients
    errors = [0] * clients

    def run(i: int) -> None:
        with httpx.Client(base_url=base, timeout=30, trust_env=False) as client:
            j = i
            while time.monotonic() < stop:
                body = {"question": QUESTIONS[j % len(QUESTIONS)]}
                j += 1
                try:
                    ok = client.post("/api/ask", json=body).status_code == 200
                except httpx.HTTPError:
                    ok = False
                counts[i] += ok
                errors[i] += not ok

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started), sum(errors)


def http_times(
    index: Path, n: int, log: Path, *, question_cache: int
) -> tuple[list[float], list[str], float]:
    """Start `qa serve` on a free local port; time `POST /api/ask` from one client, then
    measure throughput with THROUGHPUT_CLIENTS concurrent clients."""
    port = free_port()
    qa = Path(sys.executable).with_name("qa")
    command = [qa, "serve", "--index", index, "--corpus", CORPUS]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["QA_QUESTION_CACHE"] = str(question_cache)
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=30, trust_env=False) as client:
                wait_healthy(client, server, log)

                def post(question: str) -> None:
                    client.post("/api/ask", json={"question": question}).raise_for_status()

                times, errors = timed(post, n)
                rate, failed = throughput(base, THROUGHPUT_CLIENTS, THROUGHPUT_SECONDS)
                if failed:
                    errors.append(f"{failed} failed requests under load")
                return times, errors, rate
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)


def print_report(builds: dict[str, dict[str, float]], latency: dict[str, dict[str, float]]) -> None:
    print(f"{'index build':<34}{'docs':>6}{'sentences':>11}{'seconds':>10}{'sentences/s':>13}")
    for name, b in builds.items():
        print(
            f"{name:<34}{b['documents']:>6}{b['sentences']:>11}"
            f"{b['seconds']:>10.2f}{b['sentences_per_s']:>13.1f}"
        )
    print()
    print(f"{'latency (warm)':<40}{'n':>6}{'p50 ms':>11}{'p95 ms':>10}{'p50/embed':>13}")
    for name, s in latency.items():
        print(f"{name:<40}{s['n']:>6}{s['p50_ms']:>11.2f}{s['p95_ms']:>10.2f}{s['ratio']:>12.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="Timed runs per stage (default 200).")
    parser.add_argument("--squad", type=Path, default=SQUAD, help="SQuAD v2 file to build too.")
    parser.add_argument("--json", action="store_true", help="Also print the figures as JSON.")
    args = parser.parse_args()

    embedder = load_embedder()
    load_start = os.getloadavg()[0]
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        index = Path(tmp, "index")
        builds = {"corpus/": build_figures(CORPUS, index, embedder)}
        if args.squad.is_file():
            squad_corpus = Path(tmp, "squad-corpus")
            write_squad_corpus(read_squad(args.squad), squad_corpus)
            builds[args.squad.name] = build_figures(squad_corpus, Path(tmp, "squad"), embedder)
        else:
            notes.append(f"SQuAD build skipped: no file {args.squad}")

        # The bare model: one uncached embedding per question.
        embed_times, errors = timed(lambda q: embedder.encode([q], batch_size=1), args.n)
        bare = summary(embed_times)
        latency = {"bare embed (model.encode, 1 question)": bare}
        rates = {}
        settings = Settings(corpus=CORPUS, index=index)
        for cache in (0, 4096):
            label = "no question cache" if cache == 0 else "question cache"
            pipeline = Pipeline(Pipeline.load(settings).index, load_embedder(cache))
            ask_times, ask_errors = timed(pipeline.ask, args.n)
            log = Path(tmp, f"server-{cache}.log")
            http, http_errors, rate = http_times(index, args.n, log, question_cache=cache)
            latency[f"Pipeline.ask, {label}"] = summary(ask_times, bare["p50_ms"])
            latency[f"POST /api/ask, {label}"] = summary(http, bare["p50_ms"])
            rates[f"{THROUGHPUT_CLIENTS} clients, {label}"] = round(rate, 1)
            errors += [f"ask {e}" for e in ask_errors] + [f"http {e}" for e in http_errors]

    load = f"{load_start:.2f} -> {os.getloadavg()[0]:.2f}"
    machine = {"cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "load_avg": load}
    print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in machine.items()), end="\n\n")
    print_report(builds, latency)
    print()
    for name, rate in rates.items():
        print(f"{'throughput, ' + name:<48}{rate:>8.1f} answers/s")
    for line in notes + errors:
        print(f"note: {line}")
    if args.json:
        figures = {"machine": machine, "build": builds, "latency": latency, "errors": errors}
        figures["throughput"] = rates
        print(json.dumps(figures | {"notes": notes}))


if __name__ == "__main__":
    main()
