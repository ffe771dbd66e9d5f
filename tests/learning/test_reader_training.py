"""Fitting the reader: labels from gold answers, a real (tiny) fit, saved, exported, read."""

import json
from pathlib import Path

import numpy as np
import pytest

from qa.answer.reader import Reader, held_out_key
from qa.answer.reader_export import export_reader
from qa.answer.reader_inputs import ReaderTokenizer
from qa.embedding.torch_model import packaged_model_dir
from qa.learning.reader_training import Pair, answer_span, fit, save_reader, token_span


@pytest.fixture(scope="module")
def tokenizer() -> ReaderTokenizer:
    return ReaderTokenizer(packaged_model_dir() / "tokenizer.json")


def test_a_short_gold_answer_labels_its_span() -> None:
    sentence = "The bridge opened in  1901 after nine years."
    assert answer_span(sentence, ["in 1901"]) == (18, 26)
    assert answer_span(sentence, ["NINE years"]) == (33, 43)
    assert answer_span(sentence, ["1902"]) is None
    # A long answer labels the sentence (it answers), not a span.
    long = "It opened in 1901, after nine years of work by three hundred men from the two towns."
    assert answer_span(long, [long]) is None


def test_a_span_maps_to_the_tokens_that_cover_it(tokenizer: ReaderTokenizer) -> None:
    sentence = "The bridge opened in 1901 after nine years."
    pair = tokenizer.encode("When?", sentence)
    first, last = token_span(pair, (21, 25))
    assert sentence[pair.offsets[first][0] : pair.offsets[last][1]] == "1901"


def test_held_out_keys_ignore_white_space_only() -> None:
    assert held_out_key("s", "q1", "A  b\nc.") == held_out_key("s", "q1", "A b c.")
    assert held_out_key("s", "q1", "A b c.") != held_out_key("s", "q2", "A b c.")


def test_a_fitted_reader_saves_exports_and_reads(tmp_path: Path, tokenizer) -> None:
    """A real fit (two steps on the packaged model with LoRA), saved as shipped, exported to
    ONNX and checked against PyTorch by the export itself, then read by onnxruntime."""
    sentence = "The bridge opened in 1901 after nine years of work."
    pairs = [
        Pair(
            0,
            i,
            "When did the bridge open?",
            sentence,
            "History",
            True,
            (21, 25),
            True,
            1.0,
            "g",
            "k",
        )
        if i % 2 == 0
        else Pair(
            0,
            i,
            "When did the bridge open?",
            "It is painted red.",
            "Looks",
            False,
            None,
            True,
            1.0,
            "g",
            "k",
        )
        for i in range(40)
    ]
    net = fit(pairs, tokenizer, seed=1, echo=lambda m: None)
    reader_dir = tmp_path / "reader"
    save_reader(net, reader_dir)
    (reader_dir / "reader.json").write_text(json.dumps({"trained_at": "test"}))
    assert {"adapter_config.json", "adapter_model.safetensors", "heads.safetensors"} <= {
        p.name for p in reader_dir.iterdir()
    }
    # A few MB at most: adapters and heads, never the encoder's own weights.
    assert sum(p.stat().st_size for p in reader_dir.iterdir()) < 5_000_000
    export = tmp_path / "export"
    export_reader(reader_dir, export)
    manifest = json.loads((export / "export.json").read_text())
    assert manifest["max_difference_to_torch"] < 1e-3
    assert manifest["int8_answer_logit_difference"] < 1.0
    question, texts = "When did the bridge open?", [sentence, "It is painted red."]
    full = Reader(export).read(question, texts, ["History", "Looks"])
    int8 = Reader(export, int8=True).read(question, texts, ["History", "Looks"])
    for out in (full, int8):
        assert np.isfinite(out.logits).all() and len(out.spans) == 2
        for (a, b), text in zip(out.spans, texts, strict=True):
            assert 0 <= a < b <= len(text)
    assert np.abs(full.logits - int8.logits).max() <= manifest["int8_answer_logit_difference"] + 0.5
