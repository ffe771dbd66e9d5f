"""Recall@1/@5 and MRR of dense, BM25 and fused passage retrieval on a SQuAD v2 file."""

import argparse
import re
import tempfile
import time
from pathlib import Path

from qa.answer.retrieve import retrieve
from qa.embedding.embed import load_embedder
from qa.index.build import build_index, load_index
from qa.learning.squad import read_squad, write_squad_corpus
from qa.text import content_terms


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("squad", type=Path)
    parser.add_argument("--max-passage-chars", type=int, default=800)
    args = parser.parse_args()
    embedder = load_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index_dir = Path(tmp, "corpus"), Path(tmp, "index")
        items = [i for i in write_squad_corpus(read_squad(args.squad), corpus) if i.answerable]
        t = time.perf_counter()
        build_index(corpus, index_dir, embedder, max_passage_chars=args.max_passage_chars)
        print(f"build {time.perf_counter() - t:.1f}s")
        index = load_index(index_dir)
        texts = [_norm(index.passage_text(p)) for p in index.passages]
        vectors = embedder.encode([i.question for i in items])
        configs = {
            "dense": dict(fusion="combine", w=1.0),
            "bm25": dict(fusion="combine", w=0.0),
            "rrf": dict(fusion="rrf", w=0.5),
            **{f"combine{w}": dict(fusion="combine", w=w) for w in (0.4, 0.5, 0.6, 0.7, 0.8)},
        }
        import qa.answer.retrieve as r

        for name, cfg in configs.items():
            r.DENSE_WEIGHT = cfg["w"]
            r1 = r5 = mrr = 0.0
            for item, vec in zip(items, vectors, strict=True):
                hits = retrieve(
                    index, vec[None, :], content_terms(item.question), 10, fusion=cfg["fusion"]
                )
                answers = [_norm(a) for a in item.answers]
                for rank, hit in enumerate(hits, 1):
                    if any(a in texts[hit.passage_id] for a in answers):
                        r1 += rank == 1
                        r5 += rank <= 5
                        mrr += 1 / rank
                        break
            n = len(items)
            print(f"{name:12s} recall@1 {r1 / n:.3f} recall@5 {r5 / n:.3f} mrr {mrr / n:.3f}")


if __name__ == "__main__":
    main()
