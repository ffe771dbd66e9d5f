"""Chats asked as a user has them: each turn with `qa`'s own earlier answers as history.

`qa eval` asks a follow-up with the gold set's history, the answers a person wrote. A chat
with `qa` carries `qa`'s answers instead, right or wrong, so a chain holds only when every
turn does. `tests/gold/chains-defectors.jsonl` holds such chats on the seed article, typed
in lower case, with bare "why?" and "and in X?" for places the article never names; one
line per chat: `{"id", "doc", "turns": [{"question", "answers", "answerable"}]}`.

Prints every turn (OK or XX, the question as read, the answer) and the count of first and
later turns handled right: answered with a gold answer, or declined when unanswerable.
"""

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.config import Settings
from qa.embedding.embed import load_embedder
from qa.learning.evaluate import contains_answer
from qa.pipeline import Pipeline
from qa.question.conversation import Turn

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chains", type=Path, default=REPO / "tests/gold/chains-defectors.jsonl")
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--work", type=Path, default=REPO / ".cache" / "eval")
    args = parser.parse_args()
    settings = Settings(corpus=args.corpus, index=args.work / "chains")
    pipeline = Pipeline.load_or_build(settings, embedder=load_embedder())
    right = {"first": 0, "later": 0}
    asked = {"first": 0, "later": 0}
    for line in args.chains.read_text(encoding="utf-8").splitlines():
        chat = json.loads(line)
        history: list[Turn] = []
        for n, turn in enumerate(chat["turns"]):
            result = pipeline.ask(turn["question"], history=history)
            answer = result.answer
            if turn["answerable"]:
                ok = answer.answered and contains_answer(answer.answer, turn["answers"])
            else:
                ok = not answer.answered
            which = "later" if n else "first"
            asked[which] += 1
            right[which] += ok
            shown = " ".join(answer.answer.split())[:110]
            print(f"{'OK' if ok else 'XX'} {chat['id']} {result.resolved_question!r} → {shown}")
            history.append(Turn(turn["question"], answer.answer))
    for which in ("first", "later"):
        print(f"{which} turns: {right[which]} of {asked[which]} right")


if __name__ == "__main__":
    main()
