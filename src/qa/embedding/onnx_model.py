"""The packaged model as an ONNX graph run by onnxruntime: the same vectors, without torch.

Measured on this project's 2-core machines (issue 7): a question embeds in about a third of
PyTorch's time, and a process that never imports torch starts about 4.5 s sooner.

sentence-transformers' own ONNX backend needs optimum, which pins transformers below the
version sentence-transformers 6 needs. So the model's transformer is exported here with
`torch.onnx.export`, once per machine, into the model cache; mean pooling and normalisation,
the packaged model's other two modules, are a few lines of numpy below. An export is checked
against the PyTorch model on probe texts before it is published (atomically, by renaming its
folder), and its checksum is verified whenever it is loaded: a damaged export is made again.
"""

import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from qa.embedding.torch_model import MODEL_PACKAGE, TorchModel, packaged_model_dir

log = logging.getLogger(__name__)

# Raise when the export (its graph, inputs or the pooling here) changes: older exports are
# then made again, never loaded.
EXPORT_FORMAT = 2
# Largest difference allowed between an export's vectors and PyTorch's (measured: 3e-7).
MAX_EXPORT_DIFF = 1e-5
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Texts an export must embed as PyTorch does: short, long (truncated), odd characters.
PROBE_TEXTS = (
    "Why?",
    "How many people moved to the city between 1990 and 2010?",
    "Café owners in São Paulo pay 12.5% tax — don't they?",
    "Emoji 🙂, tabs\tand\nnewlines, CJK 漢字, Cyrillic кириллица.",
    " ".join(f"word{n} and another clause" for n in range(120)),  # beyond 256 tokens
)


class ExportError(RuntimeError):
    """The model could not be exported, or its export embeds differently from PyTorch."""


def export_folder(cache: Path) -> Path:
    """Where the export of the installed model package lives in the model cache."""
    version = importlib.metadata.version(MODEL_PACKAGE)
    return cache / f"{MODEL_PACKAGE}-{version}-onnx-{EXPORT_FORMAT}"


def load_onnx_model(cache: Path, *, threads: int = 0) -> "OnnxModel":
    """The model from its cached export, exported first if the cache has none (or a bad one)."""
    folder = export_folder(cache)
    problem = check_export(folder)
    if problem is not None:
        # Said (at info, which the command line shows) because this once a command takes
        # ~10 s more: a normal first run, not a problem.
        log.info("exporting the model to ONNX in %s (%s): once per machine, ~10 s", folder, problem)
        export(folder, TorchModel())
    return OnnxModel(folder, threads=threads)


def check_export(folder: Path, export_format: int = EXPORT_FORMAT) -> str | None:
    """Why the export in `folder` cannot be used, or None when it can."""
    try:
        manifest = json.loads((folder / "export.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "no export yet"
    except (OSError, ValueError) as exc:
        return f"unreadable export manifest: {exc}"
    if manifest.get("format") != export_format:
        return "an export of another format"
    for name, digest in manifest.get("sha256", {}).items():
        try:
            if _sha256(folder / name) != digest:
                return f"{name} does not match its checksum"
        except OSError as exc:
            return f"{name} cannot be read: {exc}"
    return None if manifest.get("sha256") else "an export without checksums"


def export(folder: Path, reference: TorchModel) -> None:
    """Export `reference`'s transformer to `folder`, checked against `reference` itself."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    try:
        export_graph(reference, work / "model.onnx")
        shutil.copyfile(packaged_model_dir() / "tokenizer.json", work / "tokenizer.json")
        manifest: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "model_package": MODEL_PACKAGE,
            "model_package_version": importlib.metadata.version(MODEL_PACKAGE),
            "torch": importlib.metadata.version("torch"),
            "dimension": reference.dimension,
            "max_seq_length": reference.max_seq_length,
        }
        (work / "export.json").write_text(json.dumps(manifest), encoding="utf-8")
        difference = _largest_difference(OnnxModel(work), reference)
        if difference > MAX_EXPORT_DIFF:
            raise ExportError(f"the ONNX export's vectors differ from PyTorch's by {difference}")
        manifest["max_difference_to_torch"] = difference
        publish(work, folder, manifest, ("model.onnx", "tokenizer.json"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def publish(work: Path, folder: Path, manifest: dict[str, Any], files: tuple[str, ...]) -> None:
    """Publish a checked export made in `work` as `folder`, atomically, with its manifest
    and the checksums of its `files` (written last: a folder without them is never loaded)."""
    manifest["sha256"] = {n: _sha256(work / n) for n in files}
    (work / "export.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if folder.exists():  # a bad export, or one another process has just published
        if check_export(folder, manifest["format"]) is None:
            return
        shutil.rmtree(folder)
    try:
        os.replace(work, folder)
    except OSError:  # another process published between the check and here
        if check_export(folder, manifest["format"]) is not None:
            raise


def export_graph(reference: TorchModel, path: Path) -> None:
    """Write `reference`'s transformer to `path` as ONNX (last hidden state); unchecked."""
    import torch

    transformer = reference.model[0].auto_model.eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.transformer(**dict(zip(INPUTS, tensors, strict=True))).last_hidden_state

    sample = reference.model.tokenizer(
        ["a short sentence", "a somewhat longer sentence than that one"],
        padding=True,
        return_tensors="pt",
    )
    axes = {0: "texts", 1: "tokens"}
    # Attention exported as plain matmul and softmax rather than from PyTorch's fused
    # scaled_dot_product_attention: onnxruntime ran that graph ~1.2x faster over an index's
    # texts (8,000-8,700 against 6,400-7,100 tokens/s, interleaved), with the same vectors.
    attention = transformer.config._attn_implementation
    transformer.set_attn_implementation("eager")
    try:
        # The tracer warns about Python conditions it freezes (transformers' causal-mask and
        # padding checks, always false for this encoder) and negative indices (none here).
        # The trace is taken on a padded batch, and every export is checked on texts of
        # other lengths, alone and batched, before it is used.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHiddenState(),
                tuple(sample[name] for name in INPUTS),
                str(path),
                input_names=list(INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes={name: axes for name in (*INPUTS, "last_hidden_state")},
                opset_version=17,
                dynamo=False,  # the TorchScript exporter: no onnxscript, and it takes ~1 s
            )
    except Exception as exc:
        raise ExportError(f"torch.onnx.export failed: {exc}") from exc
    finally:
        transformer.set_attn_implementation(attention)  # the reference runs as before


def _largest_difference(model: "OnnxModel", reference: TorchModel) -> float:
    texts = list(PROBE_TEXTS)
    together = model.encode_batch(texts)
    alone = np.vstack([model.encode_batch([text]) for text in texts])
    expected = reference.encode_batch(texts)
    if model.token_lengths(texts) != reference.token_lengths(texts):
        raise ExportError("the tokenizer counts tokens differently from the model's own")
    return float(max(np.abs(together - expected).max(), np.abs(alone - expected).max()))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class OnnxModel:
    """Unit-length float32 vectors from an exported model: onnxruntime and `tokenizers`."""

    engine = "onnx"

    def __init__(self, folder: Path, *, threads: int = 0) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        manifest = json.loads((folder / "export.json").read_text(encoding="utf-8"))
        self.dimension = int(manifest["dimension"])
        self.max_seq_length = int(manifest["max_seq_length"])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0: one per core
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        self._session = onnxruntime.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        # The packaged tokenizer.json pads and truncates at a fixed 128 tokens; read texts as
        # sentence-transformers does instead: truncated at max_seq_length, padded to the
        # longest text of the batch.
        self._counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._counter.no_padding()
        self._counter.no_truncation()  # counts whole texts; token_lengths truncates
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.max_seq_length)
        pad = self._tokenizer.token_to_id("[PAD]")
        self._tokenizer.enable_padding(pad_id=0 if pad is None else pad, pad_token="[PAD]")

    def token_lengths(self, texts: list[str]) -> list[int]:
        """Tokens of each text as the model reads it (special tokens included, truncated)."""
        # Truncation keeps the special tokens and cuts the text's own: min() is the same.
        return [min(len(e.ids), self.max_seq_length) for e in self._counter.encode_batch(texts)]

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens of each whole text, without special tokens or truncation."""
        encodings = self._counter.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        """The texts in one forward pass, as a (len(texts), dimension) array."""
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self._session.run(None, feed)
        # Mean over the text's own tokens, then unit length: as the packaged model's Pooling
        # and Normalize modules do (their clamps included).
        weights = mask.astype(np.float32)
        pooled = np.einsum("btd,bt->bd", hidden, weights)
        pooled /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(pooled, dtype=np.float32)
