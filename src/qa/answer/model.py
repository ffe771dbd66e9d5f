"""The fitted answerer: which candidate sentences answer, and whether to answer at all.

Two models, fitted by `qa train` from labelled question sets: the ranker (gradient-boosted
trees, LightGBM) gives each candidate the probability that it holds the answer; the decider
(a logistic regression, fitted by scikit-learn and applied here with numpy) gives the
probability that the answer made of the best candidates is right, and the question is
answered when that reaches the fitted threshold. Their files, the data they were fitted on
and the scores they reached are in `models/answerer/`.
"""

import json
import math
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from qa.answer.evidence import FEATURES, Candidates
from qa.errors import QAError


def _import_lightgbm() -> Any:
    """LightGBM, without the scikit-learn it imports for its optional estimator classes.

    The service only reads a Booster; importing scikit-learn as well added 1.1 s to every
    start (measured: 1.6 s against 0.3 s). Where scikit-learn is already loaded (`qa train`)
    this changes nothing; afterwards `import sklearn` works as usual.
    """
    if "lightgbm" in sys.modules or "sklearn" in sys.modules:
        import lightgbm
    else:
        sys.modules["sklearn"] = None  # type: ignore[assignment]  # reads as not installed
        try:
            import lightgbm
        finally:
            del sys.modules["sklearn"]
    return lightgbm


lightgbm = _import_lightgbm()

MODEL_DIR = Path(__file__).resolve().parent / "models" / "answerer"
# Bump when the meaning of the model files changes; `qa train` writes it, loading checks it.
MODEL_FORMAT = 1
# Evidence the best candidate of any question should have much of, and little of.
_STRONGEST = ("dense", "coverage", "coverage_passage", "passage_score", "passage_dense")
_WEAKEST = (
    "salient_missing",
    "salient_missing_passage",
    "rarest_missing",
    "rarest_missing_passage",
)
_STRONGEST_COLUMNS = [FEATURES.index(n) for n in _STRONGEST]
_WEAKEST_COLUMNS = [FEATURES.index(n) for n in _WEAKEST]
LIST_SENTENCES = 3  # a list question may quote this many sentences
# What the decider reads besides the best candidate's own evidence.
DECISION_FEATURES: tuple[str, ...] = (
    "best",  # the ranker's probability for the best candidate
    "runner_up",  # ... for the second
    "margin",  # best minus runner-up
    "top3",  # sum of the three best probabilities
    "candidates",  # log of the number of candidates
    *(f"best_{name}" for name in FEATURES),
    # The learned reader (0 in a model fitted without it):
    "reader_best",  # its logit that the best candidate answers
    "reader_top",  # its highest logit over the candidates it read
    "ranker_best",  # the feature ranker's probability for the best candidate
)


class ModelError(QAError):
    """The fitted model's files are missing or do not match this code."""


@dataclass(frozen=True, slots=True)
class Selection:
    """What to quote (candidate positions, best first) and how sure the model is."""

    chosen: list[int]
    confidence: float
    answered: bool
    probabilities: np.ndarray  # the ranker's, one per candidate


@dataclass(frozen=True, slots=True)
class Decider:
    """A logistic regression over standardised decision features."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, features: np.ndarray) -> float:
        z = float(((features - self.mean) / self.scale) @ self.coef) + self.intercept
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict[str, Any]:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Decider":
        arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
        if any(a.shape != (len(DECISION_FEATURES),) for a in arrays):
            raise ModelError("the decider's weights do not match its features")
        return cls(*arrays, float(data["intercept"]))


@dataclass(frozen=True, slots=True)
class Policy:
    """The fitted settings that turn probabilities into an answer."""

    threshold: float  # answer when the decider's probability reaches this
    runner_up_ratio: float  # quote the second sentence too when its probability is this
    # share of the best's, or more
    max_sentences: int  # ... and never more sentences than this (3 for a list question)
    passages: int  # candidates are the sentences of this many best passages
    read: int = 0  # the learned reader reads this many of the ranker's best (0: no reader)


@dataclass(frozen=True, slots=True)
class Combiner:
    """P(a candidate holds the answer): a logistic regression on the ranker's logit and the
    reader's. A candidate the reader did not read (its logit NaN) is given the reader's mean
    logit over the candidates it was fitted on, so every candidate stays on one scale and a
    runner-up the reader did not read can still be quoted."""

    coef: tuple[float, float]
    intercept: float
    unread: float  # the reader logit assumed where it did not read

    def to_json(self) -> dict[str, Any]:
        return {"coef": list(self.coef), "intercept": self.intercept, "unread": self.unread}

    def probabilities(self, ranker: np.ndarray, reader: np.ndarray) -> np.ndarray:
        read = np.where(np.isnan(reader), self.unread, reader)
        z = self.coef[0] * _logit(ranker) + self.coef[1] * read + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def top_read(probabilities: np.ndarray, read: int) -> list[int]:
    """The candidates the reader reads: the ranker's `read` best."""
    return [int(i) for i in np.argsort(-probabilities, kind="stable")[:read]]


class AnswerModel:
    """The ranker, the decider and the policy, loaded from their files."""

    def __init__(
        self,
        ranker: lightgbm.Booster,
        decider: Decider,
        policy: Policy,
        combiner: Combiner | None = None,
    ) -> None:
        self.ranker = ranker
        self.decider = decider
        self.policy = policy
        self.combiner = combiner if policy.read else None

    @classmethod
    def load(cls, folder: Path = MODEL_DIR) -> "AnswerModel":
        meta = read_metadata(folder)
        if meta.get("format") != MODEL_FORMAT:
            raise ModelError(
                f"{folder} holds model format {meta.get('format')}, not {MODEL_FORMAT}"
            )
        if (
            tuple(meta.get("features", ())) != FEATURES
            or tuple(meta.get("decision_features", ())) != DECISION_FEATURES
        ):
            raise ModelError(f"{folder} was fitted on other features: run `make train`")
        try:
            ranker = lightgbm.Booster(model_file=str(folder / "ranker.txt"))
            decider = Decider.from_json(meta["decider"])
            policy = Policy(**meta["policy"])
            combiner = meta.get("combiner")
            combiner = (
                Combiner(tuple(combiner["coef"]), combiner["intercept"], combiner["unread"])
                if combiner
                else None
            )
        except (OSError, lightgbm.basic.LightGBMError, KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"cannot read the fitted model in {folder}: {exc}") from exc
        return cls(ranker, decider, policy, combiner)

    def probabilities(self, candidates: Candidates) -> np.ndarray:
        """The probability that each candidate holds the answer."""
        # One thread: a few dozen rows are scored faster than threads can start.
        return np.asarray(self.ranker.predict(candidates.features, num_threads=1))

    def select(
        self,
        candidates: Candidates,
        ranker: np.ndarray,
        reader: np.ndarray | None = None,
        *,
        list_question: bool = False,
    ) -> Selection:
        """The sentences to quote and whether to answer with them, from the ranker's
        probabilities and (NaN where it did not read) the reader's logits."""
        p = ranker
        if self.combiner is not None and reader is not None:
            p = self.combiner.probabilities(ranker, reader)
        limit = LIST_SENTENCES if list_question else self.policy.max_sentences
        chosen = choose(p, self.policy.runner_up_ratio, limit)
        confidence = self.decider.probability(decision_features(candidates, p, reader, ranker))
        return Selection(chosen, confidence, confidence >= self.policy.threshold, p)


def choose(probabilities: np.ndarray, ratio: float, limit: int) -> list[int]:
    """Candidate positions to quote, best first: the best, and up to `limit` in all whose
    probability is at least `ratio` times the best's."""
    order = np.argsort(-probabilities, kind="stable")
    best = probabilities[order[0]]
    return [int(order[0])] + [int(i) for i in order[1:limit] if probabilities[i] >= ratio * best]


def decision_features(
    candidates: Candidates,
    probabilities: np.ndarray,
    reader: np.ndarray | None = None,
    ranker: np.ndarray | None = None,
) -> np.ndarray:
    """The decider's input: how the best candidates stand, the best one's evidence, and
    what the reader made of them."""
    top = np.sort(probabilities)[::-1]
    best = int(np.argmax(probabilities))
    best_row = candidates.features[best]
    runner_up = float(top[1]) if len(top) > 1 else 0.0
    head = [top[0], runner_up, top[0] - runner_up, top[:3].sum(), math.log(len(top))]
    read = [0.0, 0.0, 0.0]
    if reader is not None and ranker is not None and not np.isnan(reader).all():
        best_logit = reader[best]
        read = [
            float(best_logit) if not np.isnan(best_logit) else float(np.nanmin(reader)),
            float(np.nanmax(reader)),
            float(ranker[best]),
        ]
    tail = np.asarray(read, dtype=np.float32)
    return np.concatenate([np.asarray(head, dtype=np.float32), best_row, tail])


def read_metadata(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"no fitted model in {folder} ({exc}): run `make train`") from exc


@cache
def default_model() -> AnswerModel:
    """The model shipped with the package, loaded once per process."""
    return AnswerModel.load()
