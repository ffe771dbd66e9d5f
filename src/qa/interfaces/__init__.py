"""Stage 7: the command line, HTTP (JSON, OpenAI, pages) and MCP. May import: everything else."""
