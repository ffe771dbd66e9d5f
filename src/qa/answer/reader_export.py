"""The shipped reader made runnable: LoRA merged into the packaged encoder, then ONNX.

Run once per machine, at first use (like the embedding export): peft merges the adapters
into the encoder's weights, the heads are attached, and `torch.onnx.export` writes one graph
whose outputs are checked against PyTorch's on probe pairs before the export is published.
"""

import importlib.metadata
import json
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from qa.answer.reader_inputs import HEADS_FILE, INT8_FILE, READER_EXPORT_FORMAT, ReaderTokenizer
from qa.embedding.onnx_model import ExportError, publish
from qa.embedding.torch_model import MODEL_PACKAGE, packaged_model_dir

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = ("answer", "start", "end")
MAX_EXPORT_DIFF = 1e-3  # logits, measured ~1e-5
MAX_INT8_DIFF = 1.0  # the int8 graph's answer logits against float32's (measured ~0.1)
PROBES = (
    ("How many people live there?", "About 12,000 people live in the town.", "Population"),
    ("why? [SEP] When did it open?", "It opened in 1901 because trade grew.", ""),
    ("Café owners pay what tax?", "Owners in São Paulo pay 12.5% — don't they? 🙂", "Taxes"),
    ("who", " ".join(f"word{n} and another clause" for n in range(60)), "A long heading " * 8),
)


def load_network(reader_dir: Path) -> Any:
    """The shipped reader in PyTorch: the packaged encoder with its adapters merged in."""
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModel

    from qa.answer.reader_net import ReaderNet

    encoder = AutoModel.from_pretrained(str(packaged_model_dir()))
    merged = PeftModel.from_pretrained(encoder, str(reader_dir)).merge_and_unload()
    net = ReaderNet(merged)
    net.load_heads(load_file(str(reader_dir / HEADS_FILE)))
    net.eval()
    return net


def export_reader(reader_dir: Path, folder: Path) -> None:
    """Export the reader in `reader_dir` to `folder`, checked against PyTorch."""
    import torch

    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".reader-export-", dir=folder.parent))
    try:
        net = load_network(reader_dir)
        net.encoder.set_attn_implementation("eager")
        shutil.copyfile(packaged_model_dir() / "tokenizer.json", work / "tokenizer.json")
        tokenizer = ReaderTokenizer(work / "tokenizer.json")
        pairs = [tokenizer.encode(*p) for p in PROBES]
        batch = tokenizer.batch(pairs)
        sample = tuple(torch.from_numpy(getattr(batch, n)) for n in INPUTS)
        axes = {0: "pairs", 1: "tokens"}
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    net,
                    sample,
                    str(work / "reader.onnx"),
                    input_names=list(INPUTS),
                    output_names=list(OUTPUTS),
                    dynamic_axes={
                        **{n: axes for n in INPUTS},
                        "answer": {0: "pairs"},
                        "start": axes,
                        "end": axes,
                    },
                    opset_version=17,
                    dynamo=False,
                )
        except Exception as exc:
            raise ExportError(f"torch.onnx.export failed for the reader: {exc}") from exc
        with torch.no_grad():
            expected = [t.numpy() for t in net(*sample)]
        import onnxruntime

        session = onnxruntime.InferenceSession(
            str(work / "reader.onnx"), providers=["CPUExecutionProvider"]
        )
        got = session.run(None, {n: getattr(batch, n) for n in INPUTS})
        mask = batch.attention_mask.astype(bool)
        difference = max(
            float(np.abs(expected[0] - got[0]).max()),
            *(
                float(np.abs(e[mask] - g[mask]).max())
                for e, g in zip(expected[1:], got[1:], strict=True)
            ),
        )
        if difference > MAX_EXPORT_DIFF:
            raise ExportError(f"the reader's ONNX export differs from PyTorch by {difference}")
        # The int8 graph: weights quantised, activations at run time (onnxruntime's dynamic
        # quantisation); how far its logits move from float32's is recorded.
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(
            str(work / "reader.onnx"), str(work / INT8_FILE), weight_type=QuantType.QInt8
        )
        int8 = onnxruntime.InferenceSession(
            str(work / INT8_FILE), providers=["CPUExecutionProvider"]
        ).run(None, {n: getattr(batch, n) for n in INPUTS})
        int8_difference = float(np.abs(int8[0] - got[0]).max())
        if int8_difference > MAX_INT8_DIFF:
            raise ExportError(f"the reader's int8 export differs from float32 by {int8_difference}")
        manifest = {
            "format": READER_EXPORT_FORMAT,
            "model_package": MODEL_PACKAGE,
            "model_package_version": importlib.metadata.version(MODEL_PACKAGE),
            "torch": importlib.metadata.version("torch"),
            "reader": json.loads((reader_dir / "reader.json").read_text(encoding="utf-8")).get(
                "trained_at"
            ),
            "max_difference_to_torch": difference,
            "int8_answer_logit_difference": int8_difference,
        }
        publish(work, folder, manifest, ("reader.onnx", INT8_FILE, "tokenizer.json"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
