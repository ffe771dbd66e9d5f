"""Web pages read as a careful reader reads them: real pages (Sphinx and DocBook documentation
with their sidebars, navigation and footers, committed under files/, see SOURCES.md), a page
pandoc makes with footnotes, a table, lists and code, and an Internet-Draft as xml2rfc
paginates it, shown in one <pre> or, as the IETF's rfc2html shows it, in one <pre> a page."""

import html
from pathlib import Path

import pypandoc
import pytest

from qa.corpus.blocks import TITLE, Block, Kind, UnreadableError
from qa.corpus.web import blocks_of_page, read_html

FILES = Path(__file__).parent / "files"


def flat(blocks: list[Block], *kinds: Kind) -> str:
    """The blocks' text (of `kinds`, if given) with white space collapsed."""
    chosen = [b.text for b in blocks if not kinds or b.kind in kinds]
    return " ".join(" ".join(chosen).split())


def kind_of(blocks: list[Block], text: str) -> Kind:
    """The kind of the first block that holds `text` whole."""
    return next(b.kind for b in blocks if text in " ".join(b.text.split()))


@pytest.fixture(scope="module")
def sphinx() -> list[Block]:
    return read_html(FILES / "python-tutorial-introduction.html")


@pytest.fixture(scope="module")
def docbook() -> list[Block]:
    return read_html(FILES / "maint-guide-build.en.html")


def test_a_sphinx_page_is_its_body_without_sidebar_navigation_or_footer(sphinx):
    assert sphinx[0] == Block("3. An Informal Introduction to Python", TITLE)
    text = flat(sphinx)
    for furniture in (
        "Navigation",
        "Table of Contents",
        "Previous topic",
        "This Page",
        "Report a Bug",
        "Show Source",
        "Copyright",
        "licensed under",
        "¶",  # the headings' permalinks
        "Quick search",
    ):
        assert furniture not in text
    assert [b.text for b in sphinx if b.level == 3][:2] == ["3.1.1. Numbers", "3.1.2. Strings"]


def test_inline_markup_and_footnote_marks_add_no_spaces(sphinx):
    text = flat(sphinx, Kind.BODY)
    # <code> and links inside sentences, and a footnote mark [1] dropped with its space.
    assert "With Python, it is possible to use the ** operator to calculate powers:" in text
    assert "The integer numbers (e.g. 2, 4, 20) have type int, the ones with a" in text
    assert " ," not in text and "[1]" not in text and "[2]" not in text


def test_footnotes_and_code_keep_their_kind(sphinx):
    footnote = "Since ** has higher precedence than -, -3**2 will be interpreted as -(3**2)"
    assert kind_of(sphinx, footnote) == Kind.FOOTNOTE
    code = [b.text for b in sphinx if b.kind == Kind.CODE]
    assert ">>> 2 + 2\n4\n>>> 50 - 5*6\n20" in code[1]  # lines as written
    assert len(code) >= 20


def test_a_docbook_page_drops_its_navigation_and_marks_its_contents(docbook):
    assert docbook[0] == Block("Chapter 6. Building the package", TITLE)
    text = flat(docbook, Kind.BODY, Kind.TABLE, Kind.CODE, Kind.FOOTNOTE)
    for furniture in ("Prev", "Next", "Home", "Table of Contents"):
        assert furniture not in text
    assert kind_of(docbook, "6.4. pbuilder package") == Kind.CONTENTS  # the chapter's contents
    assert kind_of(docbook, "$ dpkg-buildpackage -us -uc") == Kind.CODE
    # A footnote mark ("[70]", a link in a <sup>) is not part of the sentence that cites it.
    sentence = (
        "If your upstream uses a source code management system (VCS) to maintain their "
        "code, you should consider using it as well."
    )
    assert kind_of(docbook, sentence) == Kind.BODY
    note = "This assumes HOOKDIR=/var/cache/pbuilder/hooks."
    assert kind_of(docbook, note) == Kind.FOOTNOTE
    assert "[68]" not in flat(docbook)


MARKDOWN = """\
---
title: Ferry Timetable Notes
---

# Crossing times

The morning ferry leaves at seven[^1] and the crossing takes **forty** minutes, *weather
permitting*, from the [north pier](https://example.org/pier).

| Route | Departs | Duration |
|-------|---------|----------|
| North pier to Isle | 07:00 | 40 min. Longer in `winter`. |
| Isle to North pier | 17:30 | 45 min |

## Tickets

- Adults pay the full fare.
- Children under five travel free.
  1. Proof of age may be asked.

Return ticket
:   Valid for one month from the day of issue.

```
$ ferry --book 2
booked
```

[^1]: Except on Sundays, when it leaves at nine.
"""


@pytest.fixture(scope="module")
def pandoc_page(tmp_path_factory) -> list[Block]:
    page = tmp_path_factory.mktemp("pandoc") / "notes.html"
    pypandoc.convert_text(
        MARKDOWN, "html", format="md", outputfile=str(page), extra_args=["--standalone"]
    )
    return read_html(page)


def test_pandoc_page_reads_in_order_with_each_kind(pandoc_page):
    assert [(b.text, b.level, b.kind) for b in pandoc_page] == [
        ("Ferry Timetable Notes", TITLE, Kind.BODY),
        ("Crossing times", 1, Kind.BODY),
        (
            "The morning ferry leaves at seven and the crossing takes forty minutes, weather "
            "permitting, from the north pier.",
            None,
            Kind.BODY,
        ),
        ("Route\tDeparts\tDuration", None, Kind.TABLE),
        ("North pier to Isle\t07:00\t40 min. Longer in winter.", None, Kind.TABLE),
        ("Isle to North pier\t17:30\t45 min", None, Kind.TABLE),
        ("Tickets", 2, Kind.BODY),
        ("Adults pay the full fare.", None, Kind.BODY),
        ("Children under five travel free.", None, Kind.BODY),
        ("Proof of age may be asked.", None, Kind.BODY),
        ("Return ticket", None, Kind.BODY),
        ("Valid for one month from the day of issue.", None, Kind.BODY),
        ("$ ferry --book 2\nbooked", None, Kind.CODE),
        ("Except on Sundays, when it leaves at nine.", None, Kind.FOOTNOTE),
    ]


@pytest.fixture(scope="module")
def draft_pages() -> dict[str, list[Block]]:
    """The draft as xml2rfc pages it, in one <pre>; and as the IETF's rfc2html shows it on
    the web, one <pre> a page, each page's footer and the next one's header in grey."""
    draft = (FILES / "draft-example-tide-tables-00.txt").read_text(encoding="utf-8")
    assert draft.count("\f") >= 5 and "[Page 5]" in draft
    page = f"<html><body><h1>A draft</h1><pre>{html.escape(draft)}</pre></body></html>"
    return {
        "one pre": blocks_of_page(page),
        "a pre a page": read_html(FILES / "draft-example-tide-tables-00.html"),
    }


@pytest.mark.parametrize("shown", ["one pre", "a pre a page"])
def test_a_paginated_draft_reads_on_across_its_page_breaks(draft_pages, shown):
    blocks = draft_pages[shown]
    assert {b.kind for b in blocks if b.level is None} == {Kind.CODE}
    text = flat(blocks)
    assert "[Page" not in text and "Expires 9 June 2027" not in text  # the footers
    assert "Tide Tables December 2026" not in text  # the running header after each break
    # Page 5 ends inside this sentence; it reads whole, in one block.
    sentence = (
        "Rule 9 of the long paragraph: a table published for a berth stays on the server for "
        "ten years after the year it covers, so that a reader can check what was announced "
        "for any day in that time."
    )
    assert kind_of(blocks, sentence) == Kind.CODE


def test_a_page_whose_first_heading_is_its_abstract_takes_its_title_element():
    blocks = blocks_of_page(
        "<html><head><title>Harbour pilot rosters</title></head><body><h1>Abstract</h1>"
        "<p>Pilots guide ships.</p><h1>1. Rosters</h1><p>Four are on duty.</p></body></html>"
    )
    assert blocks[0] == Block("Harbour pilot rosters", TITLE)
    assert [b.text for b in blocks if b.level == 1] == ["Abstract", "1. Rosters"]


def test_a_page_nested_thousands_deep_is_unreadable_not_a_crash(tmp_path):
    page = tmp_path / "deep.html"
    page.write_text("<body>" + "<div><span>" * 5000 + "text" + "</span></div>" * 5000)
    with pytest.raises(UnreadableError, match="nested too deep"):
        read_html(page)
