"""Fit the answerer's confidence model (a logistic regression) on a SQuAD v2 file.

For every question, the pipeline's best sentence is labelled 1 when the question is
answerable and the sentence holds a gold answer, else 0; the model learns P(label) from
`Evidence.features()`. Prints the weights to paste into `qa/answer.py`, and the accuracy
that each decision threshold would give. Needs the `tune` extra: `pip install -e '.[tune]'`.
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from qa.answer import FEATURES
from qa.config import Settings
from qa.evaluate import contains_answer
from qa.followup import resolve_turn
from qa.pipeline import Pipeline, build
from qa.question import parse_question
from qa.retrieve import retrieve
from qa.squad import read_squad, write_squad_corpus

ROOT = Path(__file__).resolve().parent.parent


def collect(pipeline: Pipeline, items: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features of the best candidate, its label, and whether the item is answerable."""
    rows, labels, answerable = [], [], []
    for item in items:
        question = parse_question(resolve_turn(item.question, []).text)
        if not question.terms:
            continue
        vector = pipeline.embedder.encode_one(question.text)
        hits = retrieve(pipeline.index, vector, question.terms, 5)
        candidates = pipeline.answerer.score(question, vector, hits)
        if not candidates:
            continue
        evidence = pipeline.answerer.evidence(question, candidates)
        sentence = pipeline.index.sentences[evidence.best.sentence_id]
        right = item.answerable and contains_answer(
            pipeline.index.sentence_text(sentence), item.answers
        )
        rows.append(evidence.features())
        labels.append(int(right))
        answerable.append(item.answerable)
    return np.array(rows), np.array(labels), np.array(answerable)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "squad", type=Path, nargs="?", default=ROOT.parent / "shared/benchmarks/squad2-dev-A.json"
    )
    parser.add_argument("--c", type=float, default=1.0, help="Inverse regularisation strength.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(corpus=Path(tmp, "corpus"), index=Path(tmp, "index"))
        items = write_squad_corpus(read_squad(args.squad), settings.corpus)
        build(settings)
        pipeline = Pipeline.load(settings)
        x, y, answerable = collect(pipeline, items)
    model = LogisticRegression(C=args.c, max_iter=1000).fit(x, y)
    print(f"{len(y)} questions, {y.mean():.3f} with a right best sentence")
    print("CONFIDENCE_WEIGHTS = (")
    for name, weight in zip(FEATURES, model.coef_[0], strict=True):
        print(f"    {weight:.3f},  # {name}")
    print(")")
    print(f"CONFIDENCE_BIAS = {model.intercept_[0]:.3f}")
    p = model.predict_proba(x)[:, 1]
    print("threshold  answer_acc  abstention_acc  false_abstention")
    for t in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
        answered = p >= t
        answer_acc = np.mean((answered & (y == 1))[answerable])
        abstention = np.mean(~answered[~answerable])
        false_abst = np.mean(~answered[answerable])
        print(f"{t:9.2f}  {answer_acc:10.3f}  {abstention:14.3f}  {false_abst:16.3f}")


if __name__ == "__main__":
    main()
