"""Stage 5: passages retrieved, sentences chosen and cited. May import: the base, stages 1–4."""
