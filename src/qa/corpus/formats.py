"""The reader of each file format, by suffix: web pages, Word files and PDFs, each read as
blocks (`blocks.Block`); `.txt` and `.md` are read by `ingest` itself."""

from collections.abc import Callable
from pathlib import Path

from qa.corpus.blocks import Block
from qa.corpus.pdf import read_pdf
from qa.corpus.web import read_html
from qa.corpus.word import read_docx

READERS: dict[str, Callable[[Path], list[Block]]] = {
    ".html": read_html,
    ".htm": read_html,
    ".docx": read_docx,
    ".pdf": read_pdf,
}
