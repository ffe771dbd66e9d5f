"""Stage 1: files of every format → sections, passages, sentences. May import: the base."""
