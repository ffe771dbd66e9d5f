"""Word files read whole and in document order: pandoc's Word file of a markdown document
with tables, footnotes and lists (made here), and LibreOffice's of a document with a text
box, merged and nested table cells, a footnote, an endnote, a house heading style and a
table of contents (files/harbour.docx, made from files/harbour.fodt, see SOURCES.md)."""

from pathlib import Path

import docx
import pypandoc
import pytest

from qa.corpus.blocks import TITLE, Block, Kind
from qa.corpus.tables import CELL_SEPARATOR
from qa.corpus.word import read_docx

FILES = Path(__file__).parent / "files"

MARKDOWN = """\
---
title: Ferry Timetable Notes
---

# Crossing times

The morning ferry leaves at seven[^1] and the crossing takes **forty** minutes, *weather
permitting*.

| Route | Departs | Duration |
|-------|---------|----------|
| North pier to Isle | 07:00 | 40 min. Longer in winter. |
| Isle to North pier | 17:30 | 45 min |

The evening ferry waits for the last train.

## Tickets

- Adults pay the full fare.
- Children under five travel free.
  1. Proof of age may be asked.

```
$ ferry --book 2
booked
```

[^1]: Except on Sundays, when it leaves at nine.
"""


@pytest.fixture(scope="module")
def pandoc_docx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("word") / "notes.docx"
    pypandoc.convert_text(MARKDOWN, "docx", format="md", outputfile=str(path))
    return path


def test_pandoc_word_file_reads_in_document_order_with_each_kind(pandoc_docx):
    assert [(b.text, b.level, b.kind) for b in read_docx(pandoc_docx)] == [
        ("Ferry Timetable Notes", TITLE, Kind.BODY),
        ("Crossing times", 1, Kind.BODY),
        (
            "The morning ferry leaves at seven and the crossing takes forty minutes, weather "
            "permitting.",
            None,
            Kind.BODY,
        ),
        ("Route\tDeparts\tDuration", None, Kind.TABLE),
        ("North pier to Isle\t07:00\t40 min. Longer in winter.", None, Kind.TABLE),
        ("Isle to North pier\t17:30\t45 min", None, Kind.TABLE),
        ("The evening ferry waits for the last train.", None, Kind.BODY),
        ("Tickets", 2, Kind.BODY),
        ("Adults pay the full fare.", None, Kind.BODY),
        ("Children under five travel free.", None, Kind.BODY),
        ("Proof of age may be asked.", None, Kind.BODY),
        ("$ ferry --book 2\nbooked", None, Kind.CODE),
        ("Except on Sundays, when it leaves at nine.", None, Kind.FOOTNOTE),
    ]


def test_every_cell_python_docx_sees_is_read_whole(pandoc_docx):
    rows = [b.text.split(CELL_SEPARATOR) for b in read_docx(pandoc_docx) if b.kind == Kind.TABLE]
    (table,) = docx.Document(str(pandoc_docx)).tables
    assert rows == [[cell.text for cell in row.cells] for row in table.rows]


@pytest.fixture(scope="module")
def harbour() -> list[Block]:
    return read_docx(FILES / "harbour.docx")


def test_a_text_box_is_read_once_in_its_place(harbour):
    texts = [b.text for b in harbour]
    box = "Works stop during the spring nesting season."
    assert texts.count(box) == 1  # Word stores it twice: the shape and its fallback
    assert texts.index("Crews start on the northern arm.") < texts.index(box)
    assert texts.index(box) < texts.index("Costs of the works")


def test_merged_and_nested_cells_are_read_once(harbour):
    assert [b.text for b in harbour if b.kind == Kind.TABLE] == [
        "Phase costs in euros",  # one cell across three columns
        f"Northern arm{CELL_SEPARATOR}Stone{CELL_SEPARATOR}1.2 million",
        "Labour",  # "Northern arm" spans this row too; the next cell holds a table
        f"Day shift{CELL_SEPARATOR}0.4 million",
        f"Night shift{CELL_SEPARATOR}0.3 million",
    ]


def test_the_table_of_contents_is_contents_lines(harbour):
    assert [(b.text, b.kind) for b in harbour[1:4]] == [
        ("Contents", Kind.CONTENTS),
        ("Harbour Works Plan 1", Kind.CONTENTS),
        ("Costs of the works 1", Kind.CONTENTS),
    ]


def test_headings_notes_and_marks(harbour):
    assert harbour[0] == Block("Harbour Works Plan", TITLE)
    assert Block("Costs of the works", 2) in harbour  # a style with an outline level
    body = [b.text for b in harbour if b.kind == Kind.BODY]
    assert "The harbour wall will be raised by two metres before the winter storms." in body
    assert "The council reviews progress every quarter." in body  # the endnote's mark gone
    assert [b.text for b in harbour[-2:]] == [
        "Measured from the mean high water mark.",
        "Reviews are published on the council notice board.",
    ]
    assert {b.kind for b in harbour[-2:]} == {Kind.FOOTNOTE}
