"""The `qa` command: a thin layer over the pipeline; user mistakes get one line, not a trace."""

import ipaddress
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qa.config import Settings
from qa.errors import QAError

if TYPE_CHECKING:
    from qa.learning.evaluate import Report
    from qa.pipeline import AskResult, Pipeline
    from qa.question.conversation import Turn

_STARTED = time.perf_counter()  # when this module was imported: close to process start

app = typer.Typer(
    help="Answer questions from a folder of documents, quoting and citing it.",
    add_completion=False,
    pretty_exceptions_enable=False,
)

CorpusOpt = Annotated[
    Path | None, typer.Option("--corpus", help="Corpus folder (default corpus/, or $QA_CORPUS).")
]
IndexOpt = Annotated[
    Path | None, typer.Option("--index", help="Index folder (default index/, or $QA_INDEX).")
]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="Where the index lives: local (the index folder, default) or milvus ($QA_BACKEND).",
    ),
]
MilvusUriOpt = Annotated[
    str | None,
    typer.Option(
        "--milvus-uri",
        help="A Milvus server's URI, or a Milvus Lite file (default index/milvus.db; "
        "$QA_MILVUS_URI).",
    ),
]


def _settings(corpus: Path | None = None, index: Path | None = None, **kw: object) -> Settings:
    from pydantic import ValidationError

    overrides = {k: v for k, v in {"corpus": corpus, "index": index, **kw}.items() if v}
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise QAError(f"bad setting: {problems}") from None


@app.command("index")
def index_cmd(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    backend: BackendOpt = None,
    milvus_uri: MilvusUriOpt = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="ADDRESS",
            help="Embed on Ray Data: local (starts a Ray on this machine), auto (joins the "
            "running cluster) or a cluster's address.",
        ),
    ] = None,
) -> None:
    """Build or refresh the index from the corpus."""
    from qa.interfaces.progress import build_progress
    from qa.pipeline import build

    settings = _settings(corpus, index, backend=backend, milvus_uri=milvus_uri)
    with build_progress() as progress:  # files, sentences and texts embedded, on stderr
        report = build(settings, ray=ray, progress=progress)
    typer.echo(
        f"documents: {report.documents}  chunks: {report.chunks}  "
        f"sentences: {report.sentences}  seconds: {report.seconds:.1f}"
    )


@app.command("ask")
def ask_cmd(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    index: IndexOpt = None,
    corpus: CorpusOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
    top_k: Annotated[
        int, typer.Option("--top-k", min=1, max=20, help="Closest passages a decline lists.")
    ] = 5,
    doc: Annotated[
        list[str] | None,
        typer.Option("--doc", help="Answer from this document only (doc_id; repeatable)."),
    ] = None,
) -> None:
    """Answer a question with numbered citations, the short answer first when there is one."""
    from qa.interfaces.http.schemas import MAX_QUESTION_CHARS, AskResponse, too_long
    from qa.pipeline import Pipeline

    question = question.strip()
    if not question:
        raise QAError('the question is empty: ask it in quotes, e.g. qa ask "What is …?"')
    if len(question) > MAX_QUESTION_CHARS:
        raise QAError(too_long(len(question)))
    settings = _settings(corpus, index)
    pipeline = Pipeline.load(settings)
    _warn_if_stale(pipeline, settings, corpus, hint="; run `qa index`")
    result = pipeline.ask(question, top_k=top_k, doc_ids=doc)
    if as_json:
        typer.echo(AskResponse.from_result(result).model_dump_json(indent=2))
        return
    if result.answer.short_answer is not None:
        typer.echo(f"Short answer: {result.answer.short_answer.text}")
        typer.echo("")
    typer.echo(result.answer.answer)
    if result.answer.citations:
        typer.echo("")
        label = "Sources:" if result.answer.answered else "Closest passages:"
        typer.echo(label)
    for c in result.answer.citations:
        page = f", page {c.page}" if c.page is not None else ""
        # A closest passage is shown by its best sentence, and placed by it.
        shown = c.best if c.best is not None else c
        start, end = shown.start, shown.end
        text = shown.text if c.best is not None else c.quote
        typer.echo(f"[{c.n}] {c.title} — {c.section} ({c.doc_id}:{start}-{end}{page})")
        typer.echo(f"    “{text}”")


@app.command("serve")
def serve_cmd(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    backend: BackendOpt = None,
    milvus_uri: MilvusUriOpt = None,
    host: Annotated[str | None, typer.Option("--host", help="Default 127.0.0.1.")] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Default 8000.")
    ] = None,
    watch_corpus: Annotated[
        bool,
        typer.Option(
            "--watch/--no-watch",
            help="Rebuild the index in the background when the corpus folder changes.",
        ),
    ] = True,
) -> None:
    """Build the index if it is missing or stale, then serve the API and the web chat; files
    added, changed or removed in the corpus folder are indexed while serving."""
    watch = Stopwatch(_STARTED)
    import uvicorn

    from qa.embedding.embed import load_embedder
    from qa.interfaces.http import create_app
    from qa.pipeline import Pipeline

    settings = _settings(
        corpus,
        index,
        host=host,
        port=port,
        watch=watch_corpus,
        backend=backend,
        milvus_uri=milvus_uri,
    )
    from qa.interfaces.http.auth import read_keys

    warning = exposure_warning(settings.host, keys=bool(read_keys(settings.api_keys)))
    if warning:
        typer.echo(f"warning: {warning}", err=True)
    watch.lap("web_imports")
    embedder = load_embedder(settings.question_cache)
    watch.lap("model")  # onnxruntime reading the cached export (exporting it if none yet)
    pipeline = Pipeline.load_or_build(settings, embedder=embedder)
    watch.lap("index")  # reading and checking it (or building it, when stale)
    pipeline.warm_up()
    watch.lap("warm_up")  # the first forward pass and search pay one-off set-up costs
    from qa.examples import examples

    examples(pipeline)  # the chat page's example questions, asked once before a user comes
    watch.lap("examples")
    _log_requests()
    logging.getLogger("qa.access").info(json.dumps({"startup_s": watch.laps}))
    uvicorn.run(
        create_app(settings, pipeline=pipeline),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,  # uvicorn's would log query strings, and so questions
        timeout_graceful_shutdown=30,  # on SIGTERM, finish in-flight requests first
    )


@app.command("mcp")
def mcp_cmd(corpus: CorpusOpt = None, index: IndexOpt = None) -> None:
    """Serve the Model Context Protocol over stdio: tools to ask and to search the corpus, and
    its documents as resources, for assistants that run `qa mcp` as a subprocess."""
    from qa.interfaces.mcp_server import serve

    serve(_settings(corpus, index))


@app.command("eval")
def eval_cmd(
    gold: Annotated[Path, typer.Argument(help="Gold set (JSON Lines), or a SQuAD v2 file.")],
    index: IndexOpt = None,
    corpus: CorpusOpt = None,
    squad: Annotated[
        bool, typer.Option("--squad", help="GOLD is SQuAD v2: index its articles in a temp folder.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Score a seeded sample of N items.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample.")] = 0,
    compare: Annotated[
        bool,
        typer.Option("--compare", help="Also score the BM25 and dense top-sentence baselines."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    scoped: Annotated[
        bool, typer.Option("--scoped", help="Ask each item within its `doc` (doc_ids).")
    ] = False,
    predictions: Annotated[
        Path | None,
        typer.Option(
            "--predictions",
            help="With --squad: write the official script's predictions, question id → short "
            'answer ("" when declined), for every question scored.',
        ),
    ] = None,
    na_probs: Annotated[
        Path | None,
        typer.Option(
            "--na-probs",
            help="With --squad: write the official script's question id → probability of no "
            "answer.",
        ),
    ] = None,
) -> None:
    """Score the pipeline on a gold set: answers, citations, abstention, retrieval, latency;
    with --squad, also the official SQuAD v2.0 exact match and F1 of its short answers."""
    import tempfile

    from rich.console import Console

    from qa.learning.baselines import bm25_top_sentence, dense_top_sentence
    from qa.learning.evaluate import add_official_scores, evaluate, load_gold, sample
    from qa.learning.report import print_reports
    from qa.learning.squad import read_squad, write_squad_corpus
    from qa.pipeline import Pipeline, build

    if not gold.is_file():
        raise QAError(f"gold file not found: {gold}")
    if squad and index is not None:
        raise QAError("--squad builds its own index: do not pass --index with it")
    if not squad and (predictions or na_probs):
        raise QAError("--predictions and --na-probs are SQuAD files: pass --squad with them")
    for out_file in (predictions, na_probs):
        if out_file is not None and not out_file.parent.is_dir():
            raise QAError(f"cannot write {out_file}: no folder {out_file.parent}")
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        if squad:
            data = read_squad(gold)
            settings = _settings(Path(tmp, "corpus"), Path(tmp, "index"))
            items = write_squad_corpus(data, settings.corpus)
            if not as_json:
                typer.echo(f"indexing {len(data['data'])} articles…", err=True)
            build(settings)
            pipeline = Pipeline.load(settings)
        else:
            items = load_gold(gold)
            settings = _settings(corpus, index)
            pipeline = Pipeline.load(settings)
            _warn_if_stale(pipeline, settings, corpus)
        items = sample(items, limit, seed)

        def ask(question: str, history: "list[Turn]", doc_ids: list[str] | None) -> "AskResult":
            return pipeline.ask(question, history=history, doc_ids=doc_ids)

        reports = [evaluate(pipeline, items, ask, name="qa", scoped=scoped)]
        if compare:
            for name, baseline in (
                ("bm25-top-sentence", bm25_top_sentence(pipeline)),
                ("dense-top-sentence", dense_top_sentence(pipeline)),
            ):
                reports.append(evaluate(pipeline, items, baseline.ask, name=name, scoped=scoped))
    if squad:
        for report in reports:
            add_official_scores(report, items)
        _write_official_files(reports[0], predictions, na_probs)
    if as_json:
        out = reports[0].to_json()
        if compare:
            out["baselines"] = {r.system: r.metrics for r in reports[1:]}
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    print_reports(Console(), reports)


def _write_official_files(
    report: "Report", predictions: Path | None, na_probs: Path | None
) -> None:
    """The two files evaluate-v2.0.py reads: every scored question's short answer ("" when
    declined), and its probability of no answer (1 - the answer's confidence)."""
    from qa.learning.squad_metrics import no_answer_probability

    files = (
        (predictions, {r.id: r.short_answer for r in report.items}),
        (na_probs, {r.id: no_answer_probability(r.confidence) for r in report.items}),
    )
    for path, content in files:
        if path is not None:
            try:
                path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n")
            except OSError as exc:
                raise QAError(f"cannot write {path}: {exc.strerror or exc}") from exc


# --- qa feedback: what users said of answers (POST /api/feedback) ----------------------------

feedback_app = typer.Typer(
    help="The feedback users gave on answers, kept beside the index ($QA_FEEDBACK overrides).",
)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export_cmd(
    out: Annotated[Path, typer.Option("--out", help="The gold set to write (JSON Lines).")],
    index: IndexOpt = None,
) -> None:
    """Write the feedback as a gold set for `qa eval` and `qa train --feedback`: a chosen span
    is the answer, "not helpful" with none marks the answer's quotes as wrong_answers."""
    from qa.learning.feedback import FeedbackStore, gold_items, write_jsonl

    settings = _settings(None, index)
    if not out.parent.is_dir():
        raise QAError(f"cannot write {out}: no folder {out.parent}")
    store = FeedbackStore(settings.feedback_path)
    export = gold_items(store.all())
    try:
        write_jsonl(out, export.items)
    except OSError as exc:
        raise QAError(f"cannot write {out}: {exc.strerror or exc}") from exc
    if not export.items and not export.skipped:
        typer.echo(f"no feedback in {store.path}: wrote an empty {out}")
        return
    count = len(export.items)
    typer.echo(f"wrote {count} item{'s' * (count != 1)} to {out} (from {store.path})")
    skipped = sum(export.skipped.values())
    if skipped:
        reasons = "; ".join(f"{n}: {why}" for why, n in export.skipped.most_common())
        typer.echo(f"skipped {skipped} that teach nothing ({reasons})")


# The options `qa train` and `qa train-reader` share.
BenchmarksOption = Annotated[
    Path, typer.Option("--benchmarks", help="The shared development sets.")
]
TrainingWorkOption = Annotated[
    Path, typer.Option("--work", help="Indexes and corpora made for training (kept).")
]


@app.command("train")
def train_cmd(
    benchmarks: BenchmarksOption = Path("../shared/benchmarks"),
    work: TrainingWorkOption = Path(".cache/train"),
    out: Annotated[
        Path | None, typer.Option("--out", help="Model folder (default: the package's own).")
    ] = None,
    reader: Annotated[
        Path | None,
        typer.Option(
            "--reader", help="The reader's folder, for its held-out outputs (default: shipped)."
        ),
    ] = None,
    feedback: Annotated[
        Path | None,
        typer.Option(
            "--feedback",
            help="A `qa feedback export` file: a further set, asked of the index (--index).",
        ),
    ] = None,
    index: IndexOpt = None,
) -> None:
    """Fit the answerer on every development set, validated on folds grouped by document."""
    from qa.answer.model import MODEL_DIR
    from qa.answer.reader import READER_DIR
    from qa.embedding.embed import load_embedder
    from qa.learning.training import train

    if feedback is not None and not feedback.is_file():
        raise QAError(f"feedback file not found: {feedback}")
    repo = Path(__file__).resolve().parents[3]
    meta = train(
        repo,
        benchmarks,
        work,
        out or MODEL_DIR,
        load_embedder(0),
        echo=lambda m: typer.echo(m, err=True),
        reader_dir=reader or READER_DIR,
        feedback=(feedback, _settings(None, index).index) if feedback is not None else None,
    )
    typer.echo(
        json.dumps(
            {
                k: meta[k]
                for k in (
                    "policy",
                    "shipped_variant",
                    "held_out",
                    "held_out_by_turn",
                    "held_out_variants",
                    "held_out_official",
                    "seconds",
                )
            },
            indent=2,
        )
    )


@app.command("train-reader")
def train_reader_cmd(
    benchmarks: BenchmarksOption = Path("../shared/benchmarks"),
    work: TrainingWorkOption = Path(".cache/train"),
    out: Annotated[
        Path | None, typer.Option("--out", help="Reader folder (default: the package's own).")
    ] = None,
) -> None:
    """Fine-tune the learned reader (LoRA on the packaged model), validated on halves grouped
    by document; writes its adapters, heads and held-out outputs (~1 h on 2 cores)."""
    from qa.answer.reader import READER_DIR
    from qa.embedding.embed import load_embedder
    from qa.learning.reader_training import train_reader

    repo = Path(__file__).resolve().parents[3]
    meta = train_reader(
        repo,
        benchmarks,
        work,
        out or READER_DIR,
        embedder=load_embedder(0),
        echo=lambda m: typer.echo(m, err=True),
    )
    typer.echo(json.dumps({k: meta[k] for k in ("held_out", "training", "seconds")}, indent=2))


def _warn_if_stale(
    pipeline: "Pipeline", settings: Settings, corpus: Path | None, *, hint: str = ""
) -> None:
    """Warn when the index no longer matches its corpus: the one named with --corpus (or
    $QA_CORPUS), else the folder the index was built from, as its manifest records."""
    built_from = pipeline.index.manifest.get("corpus_dir")
    explicit = corpus is not None or "QA_CORPUS" in os.environ
    folder = settings.corpus if explicit or not built_from else Path(built_from)
    reasons = pipeline.stale_reasons(folder, max_passage_chars=settings.max_passage_chars)
    if reasons:
        typer.echo(f"warning: the index is stale ({'; '.join(reasons)}){hint}", err=True)


def exposure_warning(host: str, *, keys: bool) -> str | None:
    """What to tell someone serving beyond this machine with no API keys, or None."""
    if keys or host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass  # a host name: only localhost is known to stay on this machine
    return (
        f"serving on {host} without API keys: anyone who reaches this address can read the "
        "corpus; set QA_API_KEYS"
    )


class Stopwatch:
    """Seconds spent in each step of start-up, from `started` (a `time.perf_counter`)."""

    def __init__(self, started: float) -> None:
        self.last = started
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 3)
        self.last = now


def _log_requests() -> None:
    """Request logs (one JSON line each) and, if enabled, questions, on stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("qa.access", "qa.questions", "qa.feedback"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.propagate = False


def _qa_info_and_all_warnings(record: logging.LogRecord) -> bool:
    """qa's own steps (a first build, a model's one-off export, a live re-index) at info;
    other libraries' only from warning up (some lower their own loggers' levels)."""
    return record.levelno >= logging.WARNING or record.name.split(".")[0] == "qa"


def main() -> None:
    """Entry point: run the app, turning user mistakes into one line on stderr."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.INFO)
        handler.addFilter(_qa_info_and_all_warnings)
    logging.getLogger("qa").setLevel(logging.INFO)
    logging.addLevelName(logging.INFO, "info")
    logging.addLevelName(logging.WARNING, "warning")
    logging.addLevelName(logging.ERROR, "error")
    try:
        code = app(args=sys.argv[1:] or ["--help"], prog_name="qa", standalone_mode=False)
    except typer.Abort:
        typer.echo("aborted", err=True)
        code = 130
    except typer.TyperException as exc:
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        typer.echo(f"error: {message} (see `qa --help`)", err=True)
        code = getattr(exc, "exit_code", 2)
    except QAError as exc:
        typer.echo(f"error: {exc}", err=True)
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
