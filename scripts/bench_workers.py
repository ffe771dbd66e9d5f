"""One `qa serve` process against several uvicorn workers: throughput and memory on 2 cores.

A measurement for issue 7 ("uvicorn workers vs one process"), not a product path: `qa serve`
runs one process. Workers here are `uvicorn qa.api:create_app --factory --workers N` over one
index, each with its own model; QA_ENGINE_THREADS shares the cores out between them. Every
request runs the model (QA_QUESTION_CACHE=0), 8 keep-alive clients, rotating questions.

    .venv/bin/python scripts/bench_workers.py [--seconds 10]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import CORPUS, QUESTIONS, Client, free_port, load, p50_p95, timed
from qa.config import Settings
from qa.pipeline import build

UVICORN = Path(sys.executable).with_name("uvicorn")
# (workers, engine threads per worker)
SETUPS = [(1, 0), (1, 1), (2, 1), (2, 2)]


def measure(index: Path, workers: int, threads: int, seconds: float) -> dict[str, float]:
    port = free_port()
    env = {
        **os.environ,
        "QA_INDEX": str(index),
        "QA_CORPUS": str(CORPUS),
        "QA_QUESTION_CACHE": "0",
        "QA_ENGINE_THREADS": str(threads),
        "HF_HUB_OFFLINE": "1",
    }
    command = [str(UVICORN), "qa.api:create_app", "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        client = Client(port)
        deadline = time.monotonic() + 120
        while not client.healthy():
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("server did not start")
            time.sleep(0.2)
        for _ in range(4 * workers):  # each worker warms up on its own first requests
            load(port, QUESTIONS, requests=50)
        p50, _ = p50_p95(timed(client.ask, 100))
        rate = load(port, QUESTIONS, seconds=seconds)
        parent = psutil.Process(process.pid)
        rss = sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])
        return {
            "p50_ms": p50,
            "per_s": rate["per_s"],
            "errors": rate["errors"],
            "rss_mib": rss / 2**20,
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qa-workers-") as tmp:
        index = Path(tmp) / "index"
        build(Settings(corpus=CORPUS, index=index))
        print(f"{'workers':>7} {'threads':>7} {'1-client p50':>12} {'8 clients':>10} {'RSS':>8}")
        for workers, threads in SETUPS:
            m = measure(index, workers, threads, args.seconds)
            print(
                f"{workers:>7} {threads or 'cores':>7} {m['p50_ms']:>9.2f} ms "
                f"{m['per_s']:>8.1f}/s {m['rss_mib']:>5.0f} MiB  errors {m['errors']}"
            )


if __name__ == "__main__":
    main()
