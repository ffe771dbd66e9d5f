"""Stage 6: `qa train` fits the answerer, `qa eval` scores it. May import: all but interfaces."""
