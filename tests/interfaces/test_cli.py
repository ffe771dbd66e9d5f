"""The `qa` command, run in process through its entry point."""

import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run, write_corpus

QA = str(Path(sys.executable).parent / "qa")

CORPUS = {
    "lakes.txt": (
        "Lakes of the North\n\nBlue Lake\n"
        "Blue Lake is 40 metres deep. It freezes every January.\n\n"
        "Green Lake\nGreen Lake is shallow and warm. Swimmers visit it in summer.\n"
    )
}


@pytest.fixture
def lakes(tmp_path, monkeypatch, capsys):
    corpus = write_corpus(tmp_path / "corpus", CORPUS)
    index = tmp_path / "index"
    code, out, err = run(
        monkeypatch, capsys, "index", "--corpus", str(corpus), "--index", str(index)
    )
    assert code == 0, out
    return corpus, index, out, err


def test_index_prints_counts_and_seconds(lakes):
    _, _, out, _ = lakes
    assert out.startswith("documents: 1  chunks: 2  sentences: 4  seconds: ")


def test_index_shows_files_sentences_and_texts_embedded_on_stderr(
    lakes, tmp_path, monkeypatch, capsys
):
    """Not a terminal (a log, CI): a line every few seconds and one at the end of each step."""
    assert lakes[3].splitlines() == [
        "read 1/1 files (lakes.txt)",
        "1 document: 2 passages, 4 sentences",
        "embedded 6/6 texts",
    ]
    corpus = write_corpus(
        tmp_path / "many", {f"lake-{i:02d}.txt": CORPUS["lakes.txt"] for i in range(12)}
    )
    index = tmp_path / "i2"
    code, _, err = run(monkeypatch, capsys, "index", "--corpus", str(corpus), "--index", str(index))
    assert code == 0
    lines = err.splitlines()
    assert lines[-3:-1] == [
        "read 12/12 files (lake-11.txt)",
        "12 documents: 24 passages, 48 sentences",
    ]
    # Twelve copies of one text: each distinct text is embedded once.
    assert lines[-1] == "embedded 6/6 texts"
    code, _, err = run(monkeypatch, capsys, "index", "--corpus", str(corpus), "--index", str(index))
    assert err.splitlines()[-1] == "nothing new to embed: every text is in the previous build"


def test_index_on_a_terminal_draws_bars(lakes, tmp_path):
    corpus, *_ = lakes
    primary, replica = pty.openpty()
    try:
        done = subprocess.run(
            [QA, "index", "--corpus", str(corpus), "--index", str(tmp_path / "tty-index")],
            stdout=subprocess.PIPE,
            stderr=replica,
            env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
            timeout=120,
            check=True,
        )
        os.close(replica)
        shown = b""
        while select.select([primary], [], [], 0.5)[0]:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode(errors="replace"))
    assert "━" in text and "reading" in text and "embedding" in text  # rich's bars
    assert "1 document: 2 passages, 4 sentences" in text
    assert "read 1/1 files" not in text  # the plain lines are for logs
    assert done.stdout.decode().startswith("documents: 1  chunks: 2  sentences: 4  seconds: ")


def test_ask_prints_the_answer_then_numbered_citations(lakes, monkeypatch, capsys):
    corpus, index, *_ = lakes
    code, out, err = run(
        monkeypatch, capsys, "ask", "How deep is Blue Lake?", "--index", str(index),
        "--corpus", str(corpus),
    )  # fmt: skip
    assert code == 0, err
    # The short answer's line and a blank one come first when there is one.
    lines = out.splitlines()[2:] if out.startswith("Short answer: ") else out.splitlines()
    assert lines[0] == "Blue Lake is 40 metres deep. [1]"
    assert lines[2] == "Sources:"
    assert lines[3] == "[1] Lakes of the North — Blue Lake (lakes.txt:30-58)"
    assert lines[4] == "    “Blue Lake is 40 metres deep.”"
    assert err == ""


def test_ask_prints_the_short_answer_first(lakes, monkeypatch, capsys):
    corpus, index, *_ = lakes
    args = ["ask", "How deep is Blue Lake?", "--index", str(index), "--corpus", str(corpus)]
    code, out, err = run(monkeypatch, capsys, *args)
    assert code == 0, err
    lines = out.splitlines()
    # The learned reader's span: the depth with its unit.
    assert lines[:3] == ["Short answer: 40 metres", "", "Blue Lake is 40 metres deep. [1]"]
    assert lines[4:6] == ["Sources:", "[1] Lakes of the North — Blue Lake (lakes.txt:30-58)"]
    code, out, _ = run(monkeypatch, capsys, *args, "--json")
    short = json.loads(out)["short_answer"]
    text = (corpus / "lakes.txt").read_text(encoding="utf-8")
    assert short == {"text": "40 metres", "doc_id": "lakes.txt", "start": 43, "end": 52}
    assert text[short["start"] : short["end"]] == short["text"]


def test_a_declined_answer_prints_no_short_answer(lakes, monkeypatch, capsys):
    corpus, index, *_ = lakes
    args = ["ask", "Who won the 2018 World Cup?", "--index", str(index), "--corpus", str(corpus)]
    code, out, _ = run(monkeypatch, capsys, *args)
    assert code == 0 and out.startswith("The corpus doesn't say who won the 2018 World Cup.")
    assert "Short answer" not in out
    code, out, _ = run(monkeypatch, capsys, *args, "--json")
    data = json.loads(out)
    assert data["answered"] is False and data["short_answer"] is None


def test_ask_json_prints_the_api_object(lakes, monkeypatch, capsys):
    corpus, index, *_ = lakes
    code, out, _ = run(
        monkeypatch, capsys, "ask", "How deep is Blue Lake?", "--json", "--index", str(index),
        "--corpus", str(corpus),
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["answered"] is True
    assert data["citations"][0]["quote"] == "Blue Lake is 40 metres deep."
    assert set(data) >= {"question", "answer", "answered", "confidence", "citations", "took_ms"}
    assert "short_answer" in data


def test_environment_names_the_index_and_corpus(lakes, monkeypatch, capsys):
    corpus, index, *_ = lakes
    monkeypatch.setenv("QA_INDEX", str(index))
    monkeypatch.setenv("QA_CORPUS", str(corpus))
    code, out, _ = run(monkeypatch, capsys, "ask", "When does Blue Lake freeze?")
    assert code == 0
    assert "January" in out


def test_ask_with_a_stale_index_warns_on_stderr(lakes, monkeypatch, capsys):
    corpus, index, *_ = lakes
    (corpus / "lakes.txt").write_text("Lakes\n\nAll the lakes dried up.", encoding="utf-8")
    code, out, err = run(
        monkeypatch, capsys, "ask", "How deep is Blue Lake?", "--index", str(index),
        "--corpus", str(corpus),
    )  # fmt: skip
    assert code == 0
    assert "stale" in err and "qa index" in err
    assert "40 metres" in out  # it still answers from the index it has


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["ask", "Anything?", "--index", "/no/such/index"], 1, "error: no index in /no/such/index"),
        (["index", "--corpus", "/no/such/corpus", "--index", "/tmp/x"], 1, "error: corpus folder"),
        (["ask", "   "], 1, "error: the question is empty"),
        (
            ["ask", "x" * 1234],
            1,
            "error: The question is 1,234 characters long; the limit is 1,000 characters.",
        ),
        (["ask"], 2, "error: Missing argument"),
        (["ask", "q", "--top-k", "50"], 2, "error: Invalid value for '--top-k'"),
        (["frobnicate"], 2, "error: No such command"),
    ],
)
def test_user_mistakes_get_one_line_and_no_traceback(monkeypatch, capsys, args, code, message):
    exit_code, out, err = run(monkeypatch, capsys, *args)
    assert exit_code == code
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err


def test_no_arguments_prints_help(monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys)
    assert code == 0
    for command in ("index", "ask", "serve"):
        assert command in out


def test_damaged_index_is_reported_in_one_line(lakes, monkeypatch, capsys):
    corpus, index, *_ = lakes
    vectors = next((index / "builds").iterdir()) / "sentences.npy"
    vectors.write_bytes(vectors.read_bytes()[:-10])  # truncated
    code, out, err = run(
        monkeypatch, capsys, "ask", "How deep is Blue Lake?", "--index", str(index),
        "--corpus", str(corpus),
    )  # fmt: skip
    assert code == 1
    assert err.startswith("error: index file sentences.npy is missing or damaged")
    assert len(err.strip().splitlines()) == 1
    assert out == ""


def test_ask_within_a_document(monkeypatch, capsys, library_settings):
    from conftest import CORPUS_DOC, STEAM_DOC

    base = ["ask", "Who invented the atmospheric engine?", "--index",
            str(library_settings.index), "--corpus", str(library_settings.corpus)]  # fmt: skip
    code, out, _ = run(monkeypatch, capsys, *base, "--doc", STEAM_DOC)
    assert code == 0 and "Newcomen" in out.splitlines()[0]
    code, out, _ = run(monkeypatch, capsys, *base, "--doc", CORPUS_DOC)
    assert code == 0 and out.startswith("The corpus doesn't say who invented")
    assert f"({CORPUS_DOC}:" in out and f"({STEAM_DOC}:" not in out
    code, _, err = run(monkeypatch, capsys, *base, "--doc", "zzz.txt")
    assert code != 0 and err.strip() == "error: no document 'zzz.txt' in the corpus"
