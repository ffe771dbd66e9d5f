"""Stage 6: `qa train` fits the answerer, `qa eval` scores it. May import: base, 1–5, pipeline."""
