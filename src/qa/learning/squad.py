"""SQuAD v2 files as a corpus (one document per article) and as gold items."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import CorpusError


@dataclass(frozen=True, slots=True)
class GoldItem:
    """One question with its accepted answers, in the contract's gold-set shape."""

    id: str
    question: str
    answers: list[str]
    answerable: bool
    history: list[dict[str, str]] = field(default_factory=list)
    kind: str | None = None
    doc: str | None = None  # the document it is about, when known
    # An extension (feedback): quotes judged not to answer it, whatever `answerable` says.
    wrong_answers: list[str] = field(default_factory=list)


def _slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower() or "article"


def read_squad(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorpusError(f"{path} is not a SQuAD v2 JSON file ({exc})") from exc
    return data


def write_squad_corpus(squad: dict, corpus_dir: Path) -> list[GoldItem]:
    """Write each article as `<slug>.txt` (title line, then its contexts); return its items."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    items: list[GoldItem] = []
    for article in squad["data"]:
        title = article.get("title", "").replace("_", " ").strip() or "Untitled"
        contexts = [p["context"].strip() for p in article["paragraphs"]]
        body = "\n\n".join(" ".join(c.split()) for c in contexts)
        doc_id = f"{_slug(title)}.txt"
        (corpus_dir / doc_id).write_text(f"{title}\n\n{body}\n", encoding="utf-8")
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                impossible = bool(qa.get("is_impossible", False))
                answers = list(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                items.append(
                    GoldItem(
                        id=qa["id"],
                        question=qa["question"],
                        answers=[] if impossible else answers,
                        answerable=not impossible and bool(answers),
                        doc=doc_id,
                    )
                )
    return items
