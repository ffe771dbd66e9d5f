"""Stage 7: the command line, HTTP (JSON, OpenAI, pages), MCP. May import: base, 1–6, pipeline."""
