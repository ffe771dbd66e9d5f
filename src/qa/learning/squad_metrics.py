"""Exact match and F1 as the official SQuAD v2.0 evaluation script (evaluate-v2.0.py) defines them.

Written from the script's rules, not copied: answers are compared after its normalisation
(lower case, punctuation removed, the articles a/an/the removed as words, white space
collapsed); a question scores its best over the gold answers; an unanswerable question's
only gold answer is "" (so only a prediction of "" scores on it); scores are percentages.
The script's no-answer threshold defaults to 1.0, which no probability exceeds, so the
probabilities of no answer do not change these scores.
"""

import re
import string
from collections import Counter
from collections.abc import Mapping

_PUNCTUATION = frozenset(string.punctuation)  # ASCII only, as the script's
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text: str) -> str:
    """The script's normalisation, in its order: lower case, punctuation, articles, spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(gold: str, predicted: str) -> int:
    return int(normalize_answer(gold) == normalize_answer(predicted))


def token_f1(gold: str, predicted: str) -> float:
    """F1 over normalised tokens; when either side is empty, 1 if both are, else 0."""
    gold_tokens = normalize_answer(gold).split()
    predicted_tokens = normalize_answer(predicted).split()
    if not gold_tokens or not predicted_tokens:
        return float(gold_tokens == predicted_tokens)
    same = sum((Counter(gold_tokens) & Counter(predicted_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(predicted_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def no_answer_probability(confidence: float) -> float:
    """What NA.json holds for an answer of this confidence: 1 - confidence, in [0, 1]."""
    return round(min(1.0, max(0.0, 1.0 - confidence)), 4)


def official_scores(
    gold: Mapping[str, list[str]], predictions: Mapping[str, str]
) -> dict[str, float | int]:
    """`exact`, `f1` and `total` over every question of `gold` (its id → its gold answers,
    empty when unanswerable), then the same prefixed `HasAns_` and `NoAns_` for the questions
    with and without an answer, each present only when it has questions, as in the script."""
    missing = [qid for qid in gold if qid not in predictions]
    if missing:
        raise KeyError(f"no prediction for {len(missing)} questions, such as {missing[0]}")
    exact: dict[str, float] = {}
    f1: dict[str, float] = {}
    for qid, answers in gold.items():
        # An answer that normalises to nothing is no answer; none left leaves "".
        candidates = [a for a in answers if normalize_answer(a)] or [""]
        exact[qid] = max(exact_match(a, predictions[qid]) for a in candidates)
        f1[qid] = max(token_f1(a, predictions[qid]) for a in candidates)

    def block(ids: list[str], prefix: str = "") -> dict[str, float | int]:
        return {
            f"{prefix}exact": 100.0 * sum(exact[i] for i in ids) / len(ids),
            f"{prefix}f1": 100.0 * sum(f1[i] for i in ids) / len(ids),
            f"{prefix}total": len(ids),
        }

    scores = block(list(gold)) if gold else {"exact": 0.0, "f1": 0.0, "total": 0}
    has_answer = [qid for qid, answers in gold.items() if answers]
    no_answer = [qid for qid, answers in gold.items() if not answers]
    if has_answer:
        scores |= block(has_answer, "HasAns_")
    if no_answer:
        scores |= block(no_answer, "NoAns_")
    return scores
