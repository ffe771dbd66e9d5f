"""The ONNX engine: PyTorch's vectors and answers, a checked export, no torch when serving."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import CORPUS, REPO
from qa.config import Settings
from qa.embedding.embed import Embedder, load_model
from qa.embedding.onnx_model import (
    ExportError,
    OnnxModel,
    check_export,
    export,
    export_folder,
    load_onnx_model,
)
from qa.embedding.torch_model import TorchModel
from qa.learning.evaluate import load_gold
from qa.pipeline import Pipeline, build
from qa.question.conversation import Turn

GOLD = REPO / "tests" / "gold" / "defectors.jsonl"

TEXTS = [
    "How many people live there?",
    "The river floods every spring, and the town moved uphill in 1850.",
    "",
    "ÉCOLE, naïve café — 漢字 and emoji 🙂",
    "word " * 400,  # truncated at the model's 256 tokens
]


@pytest.fixture(scope="module")
def torch_model() -> TorchModel:
    return TorchModel()


@pytest.fixture(scope="module")
def fresh_cache(tmp_path_factory, torch_model):
    """A model cache holding only an export made in this test session."""
    cache = tmp_path_factory.mktemp("model-cache")
    export(export_folder(cache), torch_model)
    return cache


@pytest.fixture(scope="module")
def fresh_export(fresh_cache) -> OnnxModel:
    return load_onnx_model(fresh_cache)


def test_the_default_engine_is_onnx_with_the_torch_models_vectors(embedder, torch_model):
    assert embedder.model.engine == "onnx"
    assert (embedder.dimension, embedder.max_seq_length) == (384, 256)
    onnx_vectors = embedder.encode(TEXTS)
    assert np.allclose(onnx_vectors, torch_model.encode_batch(TEXTS), atol=1e-5)
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1, atol=1e-5)
    assert embedder.model.token_lengths(TEXTS) == torch_model.token_lengths(TEXTS)
    assert embedder.model.token_lengths(TEXTS)[-1] == 256


def test_both_engines_count_whole_texts_alike_for_usage(embedder, torch_model):
    counts = embedder.model.token_counts(TEXTS)
    assert counts == torch_model.token_counts(TEXTS)
    # Whole: the long text is counted past what the model reads, without [CLS] and [SEP].
    assert counts[-1] > 256
    lengths = embedder.model.token_lengths(TEXTS)
    assert [min(c + 2, 256) for c in counts] == lengths
    assert embedder.count_tokens(TEXTS) == sum(counts)


def test_vectors_do_not_depend_on_the_batch(embedder):
    together = embedder.model.encode_batch(TEXTS)
    for i, text in enumerate(TEXTS):
        assert np.allclose(embedder.model.encode_batch([text])[0], together[i], atol=1e-6)


def test_a_fresh_export_is_published_with_checksums_and_loads(fresh_cache, fresh_export):
    folder = export_folder(fresh_cache)
    manifest = json.loads((folder / "export.json").read_text())
    assert check_export(folder) is None
    assert set(manifest["sha256"]) == {"model.onnx", "tokenizer.json"}
    assert manifest["max_difference_to_torch"] < 1e-5
    assert [p.name for p in fresh_cache.iterdir()] == [folder.name]  # no work folder left
    assert fresh_export.encode_batch(["a question"]).shape == (1, 384)


def test_a_damaged_export_is_detected_and_made_again(tmp_path, torch_model):
    folder = export_folder(tmp_path)
    export(folder, torch_model)
    model_file = folder / "model.onnx"
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))
    assert "checksum" in check_export(folder)
    reloaded = load_onnx_model(tmp_path)
    assert check_export(folder) is None
    assert np.allclose(reloaded.encode_batch(TEXTS), torch_model.encode_batch(TEXTS), atol=1e-5)


def test_an_export_that_embeds_differently_is_never_published(tmp_path, torch_model, monkeypatch):
    import qa.embedding.onnx_model

    monkeypatch.setattr(
        qa.embedding.onnx_model, "_largest_difference", lambda model, reference: 0.01
    )
    with pytest.raises(ExportError, match="differ"):
        export(export_folder(tmp_path), torch_model)
    assert list(tmp_path.iterdir()) == []


def test_an_unusable_model_cache_falls_back_to_pytorch(tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    model = load_model(Settings(model_cache=blocker / "cache"))
    assert model.engine == "torch"
    assert "ONNX engine is unavailable" in caplog.text


def test_the_torch_engine_can_be_chosen():
    assert load_model(Settings(engine="torch")).engine == "torch"


def test_gold_answers_are_the_same_on_both_engines(tmp_path, settings, pipeline, torch_model):
    """Index built and questions embedded by PyTorch, against the ONNX pipeline."""
    torch_settings = Settings(corpus=CORPUS, index=tmp_path / "index")
    torch_embedder = Embedder(torch_model, cache_size=0)
    build(torch_settings, embedder=torch_embedder)
    torch_pipeline = Pipeline.load(torch_settings, embedder=torch_embedder)
    items = load_gold(GOLD)
    assert len(items) >= 60
    for item in items:
        history = [Turn(t["question"], t.get("answer", "")) for t in item.history]
        onnx_result = pipeline.ask(item.question, history=history)
        torch_result = torch_pipeline.ask(item.question, history=history)
        onnx_answer, torch_answer = onnx_result.answer, torch_result.answer
        assert onnx_answer.answer == torch_answer.answer, item.question
        assert onnx_answer.answered == torch_answer.answered, item.question
        assert onnx_answer.citations == torch_answer.citations, item.question
        assert onnx_answer.confidence == pytest.approx(torch_answer.confidence, abs=1e-4)
        assert onnx_result.retrieved == torch_result.retrieved, item.question


def test_serving_never_imports_torch(settings):
    """A process that loads the index and answers, with the export cached, as `qa serve` does."""
    script = (
        "import sys\n"
        "from qa.config import Settings\n"
        "from qa.pipeline import Pipeline\n"
        f"pipeline = Pipeline.load(Settings(index={str(settings.index)!r}))\n"
        "pipeline.warm_up()\n"
        "result = pipeline.ask('What is this about?')\n"
        "heavy = sorted(m for m in ('torch', 'sentence_transformers', 'transformers')"
        " if m in sys.modules)\n"
        "print(pipeline.embedder.model.engine, heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        check=True,
    ).stdout
    assert out.split("\n")[-2] == "onnx []"


def test_exporting_again_keeps_the_published_export(tmp_path, torch_model):
    """Two processes may export at once: the later one keeps what the first published."""
    folder = export_folder(tmp_path)
    export(folder, torch_model)
    first = (folder / "export.json").read_text()
    export(folder, torch_model)
    assert (folder / "export.json").read_text() == first
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]


def test_engine_threads_are_passed_to_onnxruntime(fresh_cache, fresh_export):
    model = load_model(Settings(model_cache=fresh_cache, engine_threads=1))
    assert model.engine == "onnx"
    assert model._session.get_session_options().intra_op_num_threads == 1
    assert np.allclose(model.encode_batch(TEXTS), fresh_export.encode_batch(TEXTS), atol=1e-6)
