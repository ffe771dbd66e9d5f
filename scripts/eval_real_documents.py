"""`qa eval` on the real-document set (`make eval`): every question of the gold sets
tests/gold/real-documents*.jsonl asked of the whole real-document corpus (indexed once into
.cache/eval/real-documents), with figures per document, per format and overall.

- extraction: the share of reference sentences found whole in the text qa indexes (white
  space collapsed), and the soft-hyphen marks left in it;
- answers: answer accuracy (the contract's: answered, and containing one of `answers`);
  whole-sentence answers (a quote holds the whole reference sentence); right page (of the
  PDF answers that are right, the quote holding the answer starts on the gold page);
  unanswerable questions declined; answerable ones declined;
- quotes that look like site furniture (a heuristic, not a gate): a short body quote with
  no verb-like word, a browser's print header or footer, "Page n of m", a byline.

`--json FILE` writes every figure, every item and the reference sentences not found whole;
`--before FILE` prints an earlier run beside this one.
"""

import argparse
import json
import os
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from eval_sets import asker, table
from qa.answer.templates import Citation
from qa.config import Settings
from qa.corpus.blocks import Kind
from qa.embedding.embed import load_embedder
from qa.learning.evaluate import ItemResult, contains_answer, evaluate, load_gold
from qa.pipeline import AskResult, Pipeline
from qa.question.conversation import Turn
from reference_sentences import (
    DEFAULT_CORPUS,
    REPO,
    flat,
    format_of,
    found,
    gold_files,
    read_items,
    references_by_doc,
    share,
    soft_hyphens,
)

COLUMNS = (
    ("references", "refs"),
    ("whole_in_text", "whole in text"),
    ("soft_hyphens", "soft hyphens"),
    ("answer_accuracy", "answer"),
    ("whole_sentence", "whole sentence"),
    ("right_page", "right page"),
    ("declined", "unanswerable declined"),
    ("false_declines", "false declines"),
    ("furniture_quotes", "furniture quoted"),
)
_VERB_LIKE = re.compile(
    r"\b(?:is|are|was|were|be|been|has|have|had|do|does|did|can|could|will|would|shall|"
    r"should|may|might|must|\w{2,}(?:ed|es|ing))\b",
    re.IGNORECASE,
)
_FURNITURE = re.compile(
    r"\d{1,2}/\d{1,2}/\d{2,4},? \d{1,2}:\d{2}"  # a browser's print header: date and time
    r"|^\S+://\S+(?: \d+/\d+)?$"  # its footer: the address, the page number
    r"|\b[Pp]age \d+ of \d+\b|^\d+ ?/ ?\d+$"
    r"|\b\d+ min(?:ute)?s? read\b|^(?:By|Posted by|Written by) [A-Z][a-z]+ [A-Z][a-z]+\b"
)


@dataclass(frozen=True, slots=True)
class Scored:
    """One gold item, asked and scored beyond what `evaluate` scores."""

    doc: str
    result: ItemResult
    whole_sentence: bool | None  # None: no reference sentence to look for
    right_page: bool | None  # None: not a PDF answer that is right, with a gold page
    quotes: int
    furniture: list[str]


def furniture(pipeline: Pipeline, citation: Citation) -> bool:
    """Whether a quote looks like site or print furniture rather than a sentence."""
    quote = flat(citation.quote)
    if _FURNITURE.search(quote):
        return True
    kind = pipeline.index.documents[citation.doc_id].kind_at(citation.start)
    return kind == Kind.BODY and len(quote) < 40 and not _VERB_LIKE.search(quote)


def score(pipeline: Pipeline, gold: dict[str, Any], result: ItemResult, asked: AskResult) -> Scored:
    citations = asked.answer.citations if asked.answer.answered else []
    reference = gold.get("reference")
    whole = any(flat(reference) in flat(c.quote) for c in citations) if reference else None
    right_page = None
    if result.correct and result.answerable and gold.get("page") and gold["doc"].endswith(".pdf"):
        holding = next((c for c in citations if contains_answer(c.quote, gold["answers"])), None)
        right_page = holding is not None and holding.page == gold["page"]
    odd = [c.quote for c in citations if furniture(pipeline, c)]
    return Scored(gold["doc"], result, whole, right_page, len(citations), odd)


def answer_figures(rows: list[Scored]) -> dict[str, Any]:
    answerable = [r.result for r in rows if r.result.answerable]
    unanswerable = [r.result for r in rows if not r.result.answerable]
    wholes = [r.whole_sentence for r in rows if r.whole_sentence is not None]
    pages = [r.right_page for r in rows if r.right_page is not None]
    return {
        "n": len(rows),
        "answer_accuracy": share(sum(r.correct for r in answerable), len(answerable)),
        "whole_sentence": share(sum(wholes), len(wholes)),
        "right_page": share(sum(pages), len(pages)),
        "declined": share(sum(r.correct for r in unanswerable), len(unanswerable)),
        "false_declines": share(sum(not r.answered for r in answerable), len(answerable)),
        "quotes": sum(r.quotes for r in rows),
        "furniture_quotes": sum(len(r.furniture) for r in rows),
    }


def extraction_figures(pipeline: Pipeline, docs: list[str], refs: dict[str, list[str]]) -> dict:
    indexed = [d for d in docs if d in pipeline.index.documents]
    texts = {d: pipeline.index.documents[d].text for d in indexed}
    references = sum(len(refs.get(d, [])) for d in docs)
    whole = sum(found(texts[d], refs.get(d, []))[0] for d in indexed)
    return {
        "references": references,
        "whole_in_text": share(whole, references),
        "soft_hyphens": sum(soft_hyphens(t) for t in texts.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--gold", type=Path, nargs="*", help="real-document gold sets")
    parser.add_argument("--work", type=Path, default=REPO / ".cache" / "eval")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--before", type=Path, help="a --json file to print beside this run")
    args = parser.parse_args()
    paths = gold_files() if args.gold is None else args.gold
    if not args.corpus.is_dir() or not paths:
        print("real documents: no corpus or gold set (`make real-documents`)", file=sys.stderr)
        return
    gold = read_items(paths)
    items = [item for path in paths for item in load_gold(path)]
    settings = Settings(corpus=args.corpus, index=args.work / "real-documents")
    pipeline = Pipeline.load_or_build(settings, embedder=load_embedder(0))
    asked: list[AskResult] = []
    ask = asker(pipeline)

    def recorded(question: str, history: list[Turn], doc_ids: list[str] | None) -> AskResult:
        asked.append(ask(question, history, doc_ids))
        return asked[-1]

    report = evaluate(pipeline, items, recorded, name="qa")
    rows = [score(pipeline, gold[r.id], r, a) for r, a in zip(report.items, asked, strict=True)]
    missing = sorted({r.doc for r in rows} - set(pipeline.index.documents))
    if missing:
        print(f"gold documents not in the index: {', '.join(missing)}", file=sys.stderr)
    refs = references_by_doc(gold)
    docs = sorted({*pipeline.index.documents, *refs}, key=lambda d: (format_of(d), d))
    groups = {d: [d] for d in docs}
    for kind in sorted({format_of(d) for d in docs}):
        groups[f"all {kind}"] = [d for d in docs if format_of(d) == kind]
    groups["overall"] = docs
    results = {
        name: {
            "qa": extraction_figures(pipeline, members, refs)
            | answer_figures([r for r in rows if r.doc in members])
        }
        for name, members in groups.items()
    }
    before = json.loads(args.before.read_text()) if args.before else {}
    print(table(results, before.get("figures", {}), COLUMNS))
    quoted = [q for r in rows for q in r.furniture]
    if quoted:
        shown = list(dict.fromkeys(quoted))[:10]
        print(f"\n{len(quoted)} quotes look like furniture: " + " · ".join(map(repr, shown)))
    if args.json:
        texts = {d: flat(pipeline.index.documents[d].text) for d in pipeline.index.documents}
        lost = {d: [r for r in refs[d] if flat(r) not in texts.get(d, "")] for d in refs}
        data = {"figures": results, "items": [asdict(r) for r in rows], "not_whole": lost}
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
