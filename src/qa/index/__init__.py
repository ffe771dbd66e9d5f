"""Stage 3: passages indexed (FAISS + BM25, or Milvus). May import: the base, stages 1–2."""
