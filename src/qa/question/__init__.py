"""Stage 4: a question cleaned, read, set in its conversation. May import: the base, stages 1–3."""
