"""`qa train`: fit the answerer from labelled question sets, validated on held-out documents.

Every question of every set goes through the pipeline as it serves (cleaning, reading,
retrieval, evidence), so the model learns from exactly the features it will see. Folds are
grouped by document: no document's questions are in both the fitting and the scoring half
of a fold, and every set's held-out scores are reported on their own.
"""

import gzip
import hashlib
import json
import logging
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np

from qa import __version__
from qa.answer.answerer import within_length
from qa.answer.evidence import FEATURES, MORE_IS_BETTER, MORE_IS_WORSE, Candidates
from qa.answer.model import (
    DECISION_FEATURES,
    LIST_SENTENCES,
    MODEL_FORMAT,
    AnswerModel,
    Combiner,
    Decider,
    choose,
    decision_features,
    top_read,
)
from qa.answer.reader import HELD_OUT_FILE, READER_DIR, SERVE_READ, held_out_key
from qa.answer.templates import quote
from qa.config import Settings
from qa.embedding.embed import Embedder
from qa.errors import QAError
from qa.learning.evaluate import contains_answer, load_gold, normalise
from qa.learning.squad import GoldItem, read_squad, write_squad_corpus
from qa.learning.squad_metrics import official_scores
from qa.pipeline import Pipeline
from qa.question.conversation import Turn
from qa.question.parse import AnswerType

log = logging.getLogger(__name__)

FOLDS = 5
SEED = 13
# The ranker's gradient-boosted trees: small leaves with many examples each, because a
# question's candidates are alike and the sets are small; deterministic, for `make train`.
# Every tree sees every row and column: with row and column sampling (0.8) the held-out
# scores moved by up to 1.5 points from one seed to the next, and were no better on average.
LIGHTGBM = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 40,
    "reg_lambda": 1.0,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "seed": SEED,
    "verbose": -1,
    "monotone_constraints_method": "advanced",
}
RANKER_TREES = 300
# The decider's L2 strengths (scikit-learn's C) the folds choose between. Logistic regression
# held out as well as trees on every set and better on most, and is a few dozen numbers.
DECIDER_CS = (0.01, 0.03, 0.1, 0.3, 1.0)
# Candidate settings the folds choose between: how close to the best sentence the second
# must come to be quoted too, and the bar the decider's probability must reach.
RUNNER_UP_RATIOS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 1.01)
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.05, 0.951, 0.01))
# A product limit, not a fitted value: answers quote 1.5 sentences or fewer on average.
MAX_MEAN_SENTENCES = 1.5
MAX_SENTENCES = 2
# Candidates are the sentences of this many best passages, in training and in service.
CANDIDATE_PASSAGES = 5


class TrainingError(QAError):
    """The training data is missing or unusable."""


@dataclass(frozen=True, slots=True)
class QuestionSet:
    """A labelled question set and the corpus its questions are about."""

    name: str
    path: Path  # the gold file (JSON Lines, or SQuAD v2 JSON)
    corpus: Path
    items: list[GoldItem]
    source: str  # where it is described: its file name, or the listing that names it
    # An index to ask as it is (the served one, for feedback), instead of one built in the
    # training folder from `corpus`.
    index: Path | None = None
    # Its answers are quotes of the corpus, which may hold several sentences: a sentence
    # inside one holds the answer too.
    quoted: bool = False

    @property
    def where(self) -> Path:
        """What its pipeline is loaded from: the index, or the corpus."""
        return self.index or self.corpus


@dataclass(slots=True)
class Example:
    """One question after every stage before the model, with its labels."""

    set: str
    item: GoldItem
    group: str  # the document: folds never split one
    pipeline: Pipeline
    candidates: Candidates
    hits: list[Any]
    labels: np.ndarray  # each candidate holds a gold answer
    list_question: bool
    vector: np.ndarray  # the question's, as retrieval used it
    text: str = ""  # the question as read (cleaned, resolved against the chat)
    previous: str | None = None  # the previous question, for a follow-up
    short: bool = True  # a phrase may answer it (not a reason or a list)
    # Which candidates' labels are known; None: all. An item with `wrong_answers` and no
    # answer knows only that those quotes do not answer it.
    known: np.ndarray | None = None

    @property
    def label_weights(self) -> np.ndarray:
        """1 for each candidate whose label is known, else 0."""
        if self.known is None:
            return np.ones(len(self.candidates))
        return self.known.astype(float)


# The shared SQuAD 2.0 files, each its own set (other articles), by the name model.json gives.
SQUAD_SETS = {"squad-A": "squad2-dev-A.json", "squad-C": "squad2-dev-C.json"}


def question_sets(repo: Path, benchmarks: Path, work: Path) -> list[QuestionSet]:
    """Every development set: the shared ones and the project's own gold sets."""
    if not benchmarks.is_dir():
        raise TrainingError(f"the development sets are not in {benchmarks}")
    sets = [_squad(name, benchmarks / file, work) for name, file in SQUAD_SETS.items()]
    sets += [
        _jsonl(
            "quac-dev", benchmarks / "quac-dev" / "gold.jsonl", benchmarks / "quac-dev" / "corpus"
        ),
        _jsonl("nq-dev", benchmarks / "nq-dev" / "gold.jsonl", benchmarks / "nq-dev" / "corpus"),
    ]
    return sets + project_sets(repo / "tests" / "gold" / "sets.json")


def project_sets(listing: Path) -> list[QuestionSet]:
    """The project's own gold sets, as `tests/gold/sets.json` lists them. A set whose corpus
    is made by a command (`made_by`, e.g. the real documents fetched from Debian's packages)
    is left out, with a warning naming the command, until that corpus is there."""
    try:
        entries = json.loads(listing.read_text(encoding="utf-8"))["sets"]
        sets = []
        for e in entries:
            corpus = listing.parent / e["corpus"]
            if "made_by" in e and not corpus.is_dir():
                log.warning("leaving out %s: its corpus is not built (%s)", e["name"], e["made_by"])
                continue
            source = "tests/gold/sets.json"
            sets.append(_jsonl(e["name"], listing.parent / e["file"], corpus, source))
        return sets
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TrainingError(f"cannot read the gold sets listed in {listing}: {exc}") from exc


def _squad(name: str, path: Path, work: Path) -> QuestionSet:
    """A SQuAD v2 file, its articles written as a corpus of their own under `work`."""
    corpus = work / f"{path.stem}-corpus"
    return QuestionSet(name, path, corpus, write_squad_corpus(read_squad(path), corpus), path.name)


def _jsonl(name: str, path: Path, corpus: Path, source: str | None = None) -> QuestionSet:
    return QuestionSet(
        name, path, corpus, load_gold(path), source or f"{path.parent.name}/{path.name}"
    )


# Users' verdicts on answers (`qa feedback export`), asked of the index they were given on.
FEEDBACK_SET = "feedback"
# A few verdicts should not weigh as much as a set of hundreds of questions: the feedback
# set's share of the weight grows with its size, to a whole set's at this many items.
FEEDBACK_FULL_WEIGHT = 100


def feedback_set(path: Path, index: Path) -> QuestionSet | None:
    """The set `qa feedback export` wrote, asked of `index`; None (with a warning) when the
    file holds no items."""
    try:
        empty = not path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainingError(f"cannot read the feedback file {path}: {exc}") from exc
    if empty:
        log.warning("%s holds no feedback items: training without them", path)
        return None
    items = load_gold(path)
    return QuestionSet(FEEDBACK_SET, path, index, items, path.name, index=index, quoted=True)


def set_share(name: str, n: int) -> float:
    """A set's share of the total weight: a whole one, but the feedback set's grows with its
    size (see FEEDBACK_FULL_WEIGHT)."""
    return min(1.0, n / FEEDBACK_FULL_WEIGHT) if name == FEEDBACK_SET else 1.0


def load_pipelines(
    sets: list[QuestionSet], work: Path, embedder: Embedder, model: AnswerModel | None
) -> dict[Path, Pipeline]:
    """One pipeline per corpus, over an index kept in `work` (rebuilt only when stale)."""
    pipelines: dict[Path, Pipeline] = {}
    for s in sets:
        if s.where in pipelines:
            continue
        if s.index is not None:
            settings = Settings(index=s.index)
            pipelines[s.where] = Pipeline.load(settings, embedder=embedder, model=model)
            continue
        name = hashlib.sha256(str(s.corpus.resolve()).encode()).hexdigest()[:12]
        settings = Settings(corpus=s.corpus, index=work / "indexes" / name)
        pipelines[s.where] = Pipeline.load_or_build(settings, embedder=embedder, model=model)
    return pipelines


# A sentence this short inside a quoted answer may be found anywhere: it does not count.
MIN_QUOTED_WORDS = 3


def holds(sentence: str, answers: list[str], *, quoted: bool = False) -> bool:
    """Whether a sentence holds one of `answers`; with `quoted` (answers that quote the
    corpus, a span of several sentences perhaps), also whether it is inside one."""
    if contains_answer(sentence, answers):
        return True
    if not quoted:
        return False
    text = normalise(sentence)
    return len(text.split()) >= MIN_QUOTED_WORDS and any(text in normalise(a) for a in answers)


def collect(question_set: QuestionSet, pipeline: Pipeline) -> list[Example]:
    """Every question of a set through the pipeline up to the model, labelled."""
    examples = []
    for item in question_set.items:
        history = [Turn(t["question"], t.get("answer", "")) for t in item.history]
        reading = pipeline.read(item.question, history=history)
        hits = reading.hits[:CANDIDATE_PASSAGES]
        candidates = pipeline.candidates(reading, CANDIDATE_PASSAGES)
        index = pipeline.index
        texts = [index.sentence_text(index.sentences[sid]) for sid in candidates.sentence_ids]
        quoted = question_set.quoted
        labels = np.array(
            [item.answerable and holds(t, item.answers, quoted=quoted) for t in texts],
            dtype=bool,
        )
        known = None
        if item.wrong_answers and not item.answerable:
            # "Not this answer" says nothing of the other candidates: only the quotes judged
            # wrong are labelled (negative); the decision learns that declining beats them.
            known = np.array([holds(t, item.wrong_answers, quoted=True) for t in texts], bool)
        examples.append(
            Example(
                set=question_set.name,
                item=item,
                group=item.doc or question_set.name,
                pipeline=pipeline,
                candidates=candidates,
                hits=hits,
                labels=labels,
                list_question=reading.question.answer_type is AnswerType.LIST,
                vector=reading.vector[0],
                text=reading.text,
                previous=reading.previous,
                short=reading.question.answer_type not in (AnswerType.REASON, AnswerType.LIST),
                known=known,
            )
        )
    return examples


def collect_all(
    repo: Path,
    benchmarks: Path,
    work: Path,
    embedder: Embedder,
    echo: Callable[[str], None],
    extra: Sequence[QuestionSet] = (),
) -> tuple[list[QuestionSet], list[Example]]:
    """Every question of every set (and of `extra`: the feedback) through the pipeline,
    labelled (indexes kept in `work`)."""
    work.mkdir(parents=True, exist_ok=True)
    sets = question_sets(repo, benchmarks, work) + list(extra)
    # Features do not depend on the model: none is loaded while collecting them.
    pipelines = load_pipelines(sets, work, embedder, None)
    examples: list[Example] = []
    for s in sets:
        t = time.perf_counter()
        examples += collect(s, pipelines[s.where])
        echo(f"{s.name}: {len(s.items)} questions read in {time.perf_counter() - t:.1f} s")
    return sets, examples


# --- fitting -------------------------------------------------------------------------------


def set_weights(examples: list[Example]) -> np.ndarray:
    """One weight per example: every set weighs the same in total, whatever its size (the
    feedback set, its `set_share`)."""
    sizes = Counter(e.set for e in examples)
    weights = np.array([set_share(e.set, sizes[e.set]) / sizes[e.set] for e in examples])
    return weights * len(weights) / weights.sum()


# The sign each feature may take in the ranker (see evidence.MORE_IS_BETTER).
MONOTONE = [1 if n in MORE_IS_BETTER else -1 if n in MORE_IS_WORSE else 0 for n in FEATURES]


def fit_ranker(
    examples: list[Example], weights: np.ndarray, trees: int = RANKER_TREES
) -> lightgbm.Booster:
    """P(a candidate holds the answer), from every question's candidates: those of a
    question the corpus does not answer are all negatives, so the probability falls there."""
    rows = [(e, w) for e, w in zip(examples, weights, strict=True) if len(e.candidates)]
    x = np.vstack([e.candidates.features for e, _ in rows])
    y = np.concatenate([e.labels for e, _ in rows])
    w = np.concatenate([wt * e.label_weights for e, wt in rows])
    params = {**LIGHTGBM, "monotone_constraints": MONOTONE}
    return lightgbm.train(params, lightgbm.Dataset(x, label=y.astype(float), weight=w), trees)


def fit_decider(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float) -> Decider:
    """P(the answer is right), a logistic regression on standardised features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x, sample_weight=w)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit((x - scaler.mean_) / scale, y, sample_weight=w)
    return Decider(scaler.mean_, scale, model.coef_[0], float(model.intercept_[0]))


def folds(examples: list[Example]) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold

    groups = np.array([e.group for e in examples])
    splitter = GroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    return list(splitter.split(np.zeros(len(examples)), groups=groups))


def held_out_probabilities(
    examples: list[Example],
    weights: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    trees: int = RANKER_TREES,
) -> list[np.ndarray]:
    """Each example's candidate probabilities from a ranker that never saw its document."""
    out: list[np.ndarray] = [np.zeros(0)] * len(examples)
    for train, test in splits:
        ranker = fit_ranker([examples[i] for i in train], weights[train], trees)
        for i in test:
            if len(examples[i].candidates):
                out[i] = np.asarray(ranker.predict(examples[i].candidates.features))
    return out


def answer_text(example: Example, chosen: list[int], probabilities: np.ndarray) -> tuple[str, int]:
    """The answer the templates would write for these candidates, and its sentence count."""
    index = example.pipeline.index
    ids, scores = within_length(
        index, example.candidates, chosen, probabilities, is_list=example.list_question
    )
    return quote(index, ids, scores, 1.0).answer, len(ids)


@dataclass(frozen=True, slots=True)
class Outcome:
    """Per example under one runner-up ratio: decider inputs, whether right, sentences."""

    features: np.ndarray
    right: np.ndarray
    sentences: np.ndarray


def outcomes(
    examples: list[Example],
    probabilities: list[np.ndarray],
    ratio: float,
    reader: list[np.ndarray] | None = None,
    ranker: list[np.ndarray] | None = None,
) -> Outcome:
    """Each example answered from `probabilities` (the ranker's, or combined with the
    reader's logits, NaN where it did not read: then only what it read is quoted)."""
    width = len(DECISION_FEATURES)
    features = np.zeros((len(examples), width), dtype=np.float32)
    right = np.zeros(len(examples), dtype=bool)
    sentences = np.zeros(len(examples))
    for i, (e, p) in enumerate(zip(examples, probabilities, strict=True)):
        if not len(e.candidates):
            continue
        chosen = choose(p, ratio, LIST_SENTENCES if e.list_question else MAX_SENTENCES)
        chosen = [j for j in chosen if p[j] > 0]  # the reader alone quotes only what it read
        text, count = answer_text(e, chosen, p)
        features[i] = decision_features(
            e.candidates,
            p,
            reader[i] if reader is not None else None,
            ranker[i] if ranker is not None else None,
        )
        right[i] = e.item.answerable and contains_answer(text, e.item.answers)
        sentences[i] = count
    return Outcome(features, right, sentences)


def held_out_confidence(
    outcome: Outcome,
    weights: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    c: float,
) -> np.ndarray:
    confidence = np.zeros(len(weights))
    for train, test in splits:
        decider = fit_decider(outcome.features[train], outcome.right[train], weights[train], c)
        confidence[test] = [decider.probability(f) for f in outcome.features[test]]
    return confidence


def scores(
    examples: list[Example], outcome: Outcome, confidence: np.ndarray, threshold: float
) -> dict[str, dict[str, float]]:
    """The contract's answer metrics of each set, had the model answered at `threshold`."""
    answered = confidence >= threshold
    answered &= np.array([len(e.candidates) > 0 for e in examples])
    out = {}
    for name in dict.fromkeys(e.set for e in examples):
        idx = [i for i, e in enumerate(examples) if e.set == name]
        yes = [i for i in idx if examples[i].item.answerable]
        no = [i for i in idx if not examples[i].item.answerable]
        correct = sum(bool(answered[i] and outcome.right[i]) for i in yes)
        declined = sum(not answered[i] for i in no)
        shown = [outcome.sentences[i] for i in idx if answered[i]]
        out[name] = {
            "n": len(idx),
            "answer_accuracy": _share(correct, len(yes)),
            "abstention_accuracy": _share(declined, len(no)),
            "false_abstention_rate": _share(sum(not answered[i] for i in yes), len(yes)),
            "overall_accuracy": _share(correct + declined, len(idx)),
            "sentences_per_answer": round(statistics.fmean(shown), 3) if shown else 0.0,
        }
    return out


def scores_by_turn(
    examples: list[Example], outcome: Outcome, confidence: np.ndarray, threshold: float
) -> dict[str, dict[str, dict[str, float]]]:
    """`scores` of each set with follow-ups, for first turns and later turns apart."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in dict.fromkeys(e.set for e in examples if e.item.history):
        idx = [i for i, e in enumerate(examples) if e.set == name]
        out[name] = {}
        for turn, later in (("first", False), ("later", True)):
            part = [i for i in idx if bool(examples[i].item.history) is later]
            by_set = scores(
                [examples[i] for i in part],
                Outcome(outcome.features[part], outcome.right[part], outcome.sentences[part]),
                confidence[part],
                threshold,
            )
            out[name][turn] = by_set[name]
    return out


def objective(by_set: dict[str, dict[str, float]]) -> float:
    """What the settings are chosen for: the mean over sets of the share of questions
    handled right (answered correctly, or declined when unanswerable); sets count alike
    (the feedback set, its `set_share`)."""
    return statistics.fmean(
        [m["overall_accuracy"] for m in by_set.values()],
        [set_share(name, int(m["n"])) for name, m in by_set.items()],
    )


def _share(k: int, n: int) -> float:
    return round(k / n, 4) if n else 0.0


@dataclass(frozen=True, slots=True)
class Search:
    """The best settings found for one answerer, with its held-out scores."""

    ratio: float
    c: float
    threshold: float
    held_out: dict[str, dict[str, float]]
    outcome: Outcome
    confidence: np.ndarray  # held out, per example
    probabilities: list[np.ndarray]  # what chose the sentences


def search(
    examples: list[Example],
    weights: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    probabilities: list[np.ndarray],
    reader: list[np.ndarray] | None = None,
    ranker: list[np.ndarray] | None = None,
    *,
    alone: bool = False,
) -> Search:
    """Every runner-up ratio, decider strength and threshold, scored on the held-out folds;
    the best by the objective (on a tie, the first tried). `alone`: the confidence is the
    best candidate's probability itself, without the decider."""
    trials = []
    for ratio in RUNNER_UP_RATIOS:
        outcome = outcomes(examples, probabilities, ratio, reader, ranker)
        for c in (DECIDER_CS[0],) if alone else DECIDER_CS:
            if alone:
                confidence = outcome.features[:, DECISION_FEATURES.index("best")].astype(float)
            else:
                confidence = held_out_confidence(outcome, weights, splits, c)
            for threshold in THRESHOLDS:
                by_set = scores(examples, outcome, confidence, threshold)
                sentences = statistics.fmean(m["sentences_per_answer"] for m in by_set.values())
                if sentences <= MAX_MEAN_SENTENCES:
                    trials.append(
                        Search(ratio, c, threshold, by_set, outcome, confidence, probabilities)
                    )
    if not trials:
        raise TrainingError("no setting keeps answers short enough")
    return max(trials, key=lambda t: objective(t.held_out))


@dataclass(frozen=True, slots=True)
class HeldOutReader:
    """The reader's held-out outputs on each example's candidates."""

    logits: list[np.ndarray]  # NaN where it did not read
    spans: list[dict[int, tuple[int, int]]]  # candidate position → short answer's characters


def held_out_reader(
    examples: list[Example], probabilities: list[np.ndarray], reader_dir: Path, read: int
) -> HeldOutReader | None:
    """Each example's reader logits from `qa train-reader`'s held-out outputs (readers that
    never saw its document), on the ranker's `read` best candidates; NaN elsewhere. None when
    there are none (no reader trained yet)."""
    path = reader_dir / HELD_OUT_FILE
    if not path.is_file():
        log.warning("no held-out reader outputs in %s: fitting without the reader", path)
        return None
    found = _held_out_rows(path)
    out, spans, missing = [], [], 0
    for e, p in zip(examples, probabilities, strict=True):
        logits = np.full(len(e.candidates), np.nan)
        span: dict[int, tuple[int, int]] = {}
        if len(e.candidates):
            index = e.pipeline.index
            for i in top_read(p, read):
                sentence = index.sentences[e.candidates.sentence_ids[i]]
                row = found.get(held_out_key(e.set, e.item.id, index.sentence_text(sentence)))
                if row is None:
                    missing += 1
                    continue
                logits[i] = row["logit"]
                span[i] = (int(row["span"][0]), int(row["span"][1]))
        out.append(logits)
        spans.append(span)
    if not any(spans):
        log.warning("the held-out reader outputs in %s are of other questions", path)
        return None
    if missing:
        log.warning("%d candidates have no held-out reader output: read as unread", missing)
    return HeldOutReader(out, spans)


@cache
def _held_out_rows(path: Path) -> dict[str, dict[str, Any]]:
    """The reader's held-out outputs by key, read once for every number of candidates tried."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return {row["key"]: row for row in map(json.loads, f)}


# How many of the ranker's best candidates the validation tries having the reader read.
READ_CHOICES = (1, 3)


def held_out_official(
    examples: list[Example], found: Search, spans: HeldOutReader | None
) -> dict[str, dict[str, float]]:
    """The official SQuAD v2.0 EM and F1 of each SQuAD set, held out: the prediction is the
    reader's short answer in the best sentence where it gives one, else that sentence."""
    confidence = found.confidence
    out = {}
    for name in dict.fromkeys(e.set for e in examples if e.set.startswith("squad")):
        gold, predictions = {}, {}
        for i, e in enumerate(examples):
            if e.set != name:
                continue
            gold[e.item.id] = e.item.answers if e.item.answerable else []
            predictions[e.item.id] = ""
            if confidence[i] < found.threshold or not len(e.candidates):
                continue
            p = found.probabilities[i]
            best = int(np.argmax(p))
            index = e.pipeline.index
            text = index.sentence_text(index.sentences[e.candidates.sentence_ids[best]])
            span = spans.spans[i].get(best) if spans is not None and e.short else None
            predictions[e.item.id] = text[span[0] : span[1]] if span and span[1] > span[0] else text
        out[name] = {k: round(v, 2) for k, v in official_scores(gold, predictions).items()}
    return out


def _reader_alone(logits: np.ndarray) -> np.ndarray:
    """The reader's own probabilities, 0 where it did not read."""
    return np.where(np.isnan(logits), 0.0, 1.0 / (1.0 + np.exp(-np.nan_to_num(logits))))


def _combiner_rows(
    examples: list[Example],
    weights: np.ndarray,
    probabilities: list[np.ndarray],
    reader: list[np.ndarray],
    which: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y, w = [], [], []
    for i in which:
        read = ~np.isnan(reader[i])
        if not read.any():
            continue
        p = np.clip(probabilities[i][read], 1e-6, 1 - 1e-6)
        x.append(np.column_stack([np.log(p / (1 - p)), reader[i][read]]))
        y.append(examples[i].labels[read])
        w.append(weights[i] * examples[i].label_weights[read])
    return np.vstack(x), np.concatenate(y), np.concatenate(w)


def fit_combiner(
    examples: list[Example],
    weights: np.ndarray,
    probabilities: list[np.ndarray],
    reader: list[np.ndarray],
    which: np.ndarray | None = None,
) -> Combiner:
    from sklearn.linear_model import LogisticRegression

    rows = np.arange(len(examples)) if which is None else which
    x, y, w = _combiner_rows(examples, weights, probabilities, reader, rows)
    model = LogisticRegression(max_iter=1000).fit(x, y, sample_weight=w)
    unread = float(np.average(x[:, 1], weights=w))
    return Combiner(
        (float(model.coef_[0][0]), float(model.coef_[0][1])), float(model.intercept_[0]), unread
    )


def held_out_combined(
    examples: list[Example],
    weights: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    probabilities: list[np.ndarray],
    reader: list[np.ndarray],
) -> list[np.ndarray]:
    """Each example's combined probabilities from a combiner fitted on the other folds."""
    out: list[np.ndarray] = [np.zeros(0)] * len(examples)
    for train, test in splits:
        combiner = fit_combiner(examples, weights, probabilities, reader, train)
        for i in test:
            out[i] = combiner.probabilities(probabilities[i], reader[i])
    return out


# --- the command ---------------------------------------------------------------------------


def train(
    repo: Path,
    benchmarks: Path,
    work: Path,
    out: Path,
    embedder: Embedder,
    *,
    echo: Callable[[str], None] = print,
    ranker_trees: int = RANKER_TREES,
    reader_dir: Path = READER_DIR,
    read: int = SERVE_READ,
    feedback: tuple[Path, Path] | None = None,
) -> dict[str, Any]:
    """Collect, validate on grouped folds, fit on everything, write the model; its metadata.

    With the reader's held-out outputs (`qa train-reader`) three answerers are validated:
    the features alone, the reader alone, and both (the reader reading the ranker's `read`
    best candidates); the combination ships when it holds out better than the features.
    `feedback`: a `qa feedback export` file and the index its questions are asked of, a
    further set named "feedback"."""
    started = time.perf_counter()
    found = feedback_set(*feedback) if feedback is not None else None
    extra = [found] if found is not None else []
    sets, examples = collect_all(repo, benchmarks, work, embedder, echo, extra)
    weights = set_weights(examples)
    splits = folds(examples)
    probabilities = held_out_probabilities(examples, weights, splits, ranker_trees)
    variants: dict[str, Search] = {"features": search(examples, weights, splits, probabilities)}
    echo(f"features alone: {objective(variants['features'].held_out):.4f}")
    combiner, spans = None, None
    for k in READ_CHOICES:
        found = held_out_reader(examples, probabilities, reader_dir, k)
        if found is None:
            break
        reader = found.logits
        if k == max(READ_CHOICES):
            alone = [_reader_alone(x) for x in reader]
            variants["reader"] = search(
                examples, weights, splits, alone, reader, probabilities, alone=True
            )
            echo(f"reader alone (its {k} read): {objective(variants['reader'].held_out):.4f}")
        combined = held_out_combined(examples, weights, splits, probabilities, reader)
        name = f"combined-{k}"
        variants[name] = search(examples, weights, splits, combined, reader, probabilities)
        echo(f"combined, reading {k}: {objective(variants[name].held_out):.4f}")
        if k == read:
            combiner = fit_combiner(examples, weights, probabilities, reader)
        spans = found  # the short answers of every candidate read, at most
    # The reader ships, reading `read` candidates (a limit set by speed, see READ), when
    # that combination holds out better than the features alone.
    chosen = f"combined-{read}" if combiner is not None else "features"
    if objective(variants[chosen].held_out) <= objective(variants["features"].held_out):
        chosen = "features"
    best = variants[chosen]
    ratio, c, threshold, held_out, outcome = (
        best.ratio,
        best.c,
        best.threshold,
        best.held_out,
        best.outcome,
    )
    confidence = held_out_confidence(outcome, weights, splits, c)
    by_turn = scores_by_turn(examples, outcome, confidence, threshold)

    # The final models: the ranker on every example; the decider on the held-out ranker's
    # probabilities, which are what it meets in service (questions it was not fitted on).
    ranker = fit_ranker(examples, weights, ranker_trees)
    decider = fit_decider(outcome.features, outcome.right, weights, c)
    out.mkdir(parents=True, exist_ok=True)
    ranker.save_model(str(out / "ranker.txt"))
    meta = {
        "format": MODEL_FORMAT,
        "features": list(FEATURES),
        "decision_features": list(DECISION_FEATURES),
        "decider": decider.to_json(),
        "policy": {
            "threshold": threshold,
            "runner_up_ratio": ratio,
            "max_sentences": MAX_SENTENCES,
            "passages": CANDIDATE_PASSAGES,
            "read": read if chosen != "features" else 0,
        },
        "combiner": combiner.to_json() if combiner and chosen != "features" else None,
        "held_out": held_out,
        "held_out_variants": {
            name: {"objective": round(objective(v.held_out), 4), "scores": v.held_out}
            for name, v in variants.items()
        },
        "shipped_variant": chosen,
        "held_out_official": {
            name: held_out_official(examples, v, spans)
            for name, v in variants.items()
            if name in ("features", chosen)
        },
        "held_out_by_turn": by_turn,
        "validation": f"GroupKFold({FOLDS}) by document, seed {SEED}",
        "objective": "mean over sets of overall accuracy, answers of 1.5 sentences or fewer",
        "data": {
            s.name: {
                "source": s.source,
                "questions": len(s.items),
                "sha256": _sha(s.path),
            }
            for s in sets
        },
        "lightgbm": {**LIGHTGBM, "version": lightgbm.__version__},
        "ranker_trees": ranker_trees,
        "decider_c": c,
        "code": {"qa": __version__, "commit": _commit(repo)},
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "model.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _commit(repo: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()
