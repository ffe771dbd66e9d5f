"""A table row as one line of text: its cells in order, each cell's text whole.

Cells are separated by a tab. A tab is white space, so a row reads "cell one cell two" once
white space is collapsed, which is how a reader quotes a row (and how the reference
sentences of table rows are written); yet, unlike a plain space, it keeps where each cell
ends, and unlike " | " or "; " it adds no punctuation to a quote or to the words the
sentence splitter and the retriever see.
"""

from collections.abc import Iterable

from qa.corpus.blocks import clean

CELL_SEPARATOR = "\t"


def row_text(cells: Iterable[str]) -> str:
    """The row's non-empty cells in order, each with its white space collapsed."""
    return CELL_SEPARATOR.join(text for text in map(clean, cells) if text)
