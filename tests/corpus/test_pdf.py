"""PDFs read as a careful reader reads them, on real files: pages of the Debian Policy Manual
(LaTeX, running headers and footers, footnotes, a contents page, words hyphenated at line
ends), two two-column LaTeX papers (pandoc and pdflatex: columns, footnotes, a chart, code
lines running over the gutter) and a Chromium print of a pandoc page (the browser's header
and footer, a table with wrapped cells). The committed files and how they were made:
tests/corpus/files/SOURCES.md."""

import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from qa.corpus.blocks import TITLE, Block, Kind
from qa.corpus.ingest import read_document
from qa.corpus.pdf import read_pdf
from samples import print_pdf

FILES = Path(__file__).parent / "files"
POLICY = FILES / "debian-policy-excerpt.pdf"
PAPER = FILES / "two-column-paper.pdf"
CODE_PAPER = FILES / "two-column-code.pdf"
PILOTS = FILES / "harbour-pilots.pdf"
MARKS = "\ufffe\u00ad\u0002"


def flat(text: str) -> str:
    return " ".join(text.split())


def page_texts(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [flat(pdf[i].get_textpage().get_text_range()) for i in range(len(pdf))]
    finally:
        pdf.close()


def of_kind(blocks: list[Block], *kinds: Kind) -> list[Block]:
    return [b for b in blocks if b.kind in kinds and b.level is None]


def test_words_broken_at_a_line_end_are_joined_without_pdfium_s_marks():
    blocks = read_pdf(POLICY)
    text = "\n\n".join(b.text for b in blocks)
    raw = "".join(page_texts(POLICY))
    assert "\ufffe" in raw  # pdfium marks the hyphens LaTeX put at line ends
    assert not any(mark in text for mark in MARKS)
    assert "render a package unsuitable for distribution." in text
    assert "im\ufffeport" not in text


def test_running_headers_footers_and_page_numbers_are_left_out():
    blocks = read_pdf(POLICY)
    for block in blocks:
        assert "Release 4.6.2.0" not in block.text  # the running header of even pages
        assert "Chapter 1. About this manual" not in block.text  # a running footer
        assert not re.fullmatch(r"[ivx\d]+", block.text)  # a page number alone
    body = " ".join(b.text for b in of_kind(blocks, Kind.BODY))
    assert "Summary of ways maintainer scripts are called 51" not in body


def test_footnotes_are_their_own_blocks_and_the_paragraph_goes_on_across_them():
    blocks = read_pdf(POLICY)
    notes = of_kind(blocks, Kind.FOOTNOTE)
    assert any(n.text.startswith("1 Informally, the criteria used") for n in notes)
    assert any(n.text.startswith("2 Compare RFC 2119.") for n in notes)
    assert any(n.text.startswith("3 For example, suppose packages foo and bar") for n in notes)
    body = of_kind(blocks, Kind.BODY)
    for block in body:
        assert "Informally, the criteria" not in block.text
        assert "Compare RFC 2119" not in block.text
    # page 4's last paragraph runs on to page 5 over the two footnotes between them
    over = next(b for b in body if "The postrm script is called after the package’s" in b.text)
    assert [page for _, page in over.pages] == [4, 5]
    assert "is being called may have previously been deconfigured" in over.text
    after = blocks.index(over) + 1
    assert blocks[after].kind == Kind.FOOTNOTE and blocks[after].text.startswith("2 This can")


def test_contents_lines_are_contents_not_paragraphs():
    blocks = read_pdf(POLICY)
    contents = [b for b in blocks if b.kind == Kind.CONTENTS]
    assert len(contents) > 20
    assert any(re.match(r"1\.1 Scope( \.)+ 3$", b.text) for b in contents)
    for block in of_kind(blocks, Kind.BODY):
        assert ". . . . ." not in block.text


def test_the_title_is_the_metadata_s_and_each_block_starts_on_its_page():
    blocks = read_pdf(POLICY)
    assert blocks[0].level == TITLE and blocks[0].text == "Debian Policy Manual"
    pages = page_texts(POLICY)
    for block in blocks[1:]:
        for n, (offset, page) in enumerate(block.pages):
            end = block.pages[n + 1][0] if n + 1 < len(block.pages) else len(block.text)
            words = " ".join(block.text[offset:end].split()[:3])
            assert words in pages[page - 1], (words, page)


def paper_paragraphs(name: str = "two-column-paper.md") -> tuple[list[str], list[str]]:
    """A paper's body paragraphs and its footnotes, from its pandoc source."""
    source = (FILES / name).read_text(encoding="utf-8")
    notes = [flat(n) for n in re.findall(r"^\[\^\w+\]: (.+)$", source, re.MULTILINE)]
    body = re.sub(r"^\[\^\w+\]: .+$", "", source.split("---", 2)[2], flags=re.MULTILINE)
    body = re.sub(r"^```\n.*?^```\n", "", body, flags=re.MULTILINE | re.DOTALL)
    paragraphs = []
    for part in body.split("\n\n"):
        part = flat(re.sub(r"\[\^\w+\]", "", part))
        if part and not part.startswith(("#", "!")):
            paragraphs.append(part)
    return paragraphs, notes


def test_two_columns_are_read_left_then_right_and_paragraphs_go_on_across_breaks():
    blocks = read_pdf(PAPER)
    assert blocks[0].level == TITLE
    assert blocks[0].text == "Tidal Streams as a Source of Steady Power"
    paragraphs, notes = paper_paragraphs()
    body = of_kind(blocks, Kind.BODY)
    texts = [re.sub(r"(?<=[a-z.])\d\b", "", b.text) for b in body]  # footnote marks out
    found = [next(i for i, t in enumerate(texts) if p in t) for p in paragraphs]
    assert found == sorted(found)  # every paragraph whole, and in the order written
    spans = {tuple(p for _, p in b.pages) for b in body}
    assert (1, 2) in spans  # one goes on over the page break
    footnotes = of_kind(blocks, Kind.FOOTNOTE)
    # each note keeps its mark (set small and raised), parted from its first word
    assert [n.text for n in footnotes] == [f"{i} {note}" for i, note in enumerate(notes, 1)]
    for note in notes:
        assert not any(note[:40] in t for t in texts)


def test_a_line_of_code_over_the_gutter_is_read_whole_in_its_own_column():
    """pdflatex prints a verbatim line wider than its column as it is, over the gutter and
    over the other column's text: the columns are still found, the line is read whole (a
    comment after it too) in its column's code block, and the paragraph it runs over in the
    other column stays whole."""
    source = (FILES / "two-column-code.md").read_text(encoding="utf-8")
    listing = re.search(r"^```\n(.*?)^```", source, re.MULTILINE | re.DOTALL)
    assert listing is not None
    code = listing.group(1).splitlines()
    blocks = read_pdf(CODE_PAPER)
    assert [b.text for b in blocks if b.kind == Kind.CODE] == [flat(" ".join(code))]
    assert not [b for b in blocks if b.kind == Kind.TABLE]
    paragraphs, notes = paper_paragraphs("two-column-code.md")
    body = [b.text for b in of_kind(blocks, Kind.BODY)]
    texts = [re.sub(r"(?<=[a-z.])\d\b", "", t) for t in body]  # footnote marks out
    found = [next((i for i, t in enumerate(texts) if p in t), None) for p in paragraphs]
    assert None not in found and found == sorted(found)  # each whole, in the order written
    beside = next(t for t in texts if t.startswith("Scientists who study waves"))
    assert beside in paragraphs  # the paragraph the code runs over, alone and whole
    assert [b.text for b in of_kind(blocks, Kind.FOOTNOTE)] == [f"1 {n}" for n in notes]


def test_a_chart_s_labels_are_figure_text():
    blocks = read_pdf(PAPER)
    figure = " ".join(b.text for b in blocks if b.kind == Kind.FIGURE)
    for label in ("Output by season (MWh)", "Spring", "Winter", "150"):
        assert label in figure
    body = " ".join(b.text for b in of_kind(blocks, Kind.BODY, Kind.TABLE))
    assert "Spring Summer" not in body and "Output by season (MWh)" not in body


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    """A pandoc page with a table, printed by Chromium with its header and footer."""
    import pypandoc

    folder = tmp_path_factory.mktemp("printed")
    rows = "\n".join(
        f"| {part} | {interval} | {task} |"
        for part, interval, task in (
            (
                "Wire ropes",
                "Weekly",
                "Measure the diameter at the three most worn sections and replace the rope "
                "when it has lost a tenth of its original size",
            ),
            ("Brake linings", "Monthly", "Check the lining thickness and the air gap"),
            (
                "Slew ring bolts",
                "Every six months",
                "Torque every bolt to the value on the drawing",
            ),
        )
    )
    filler = "\n\n".join(
        f"Routine note {n}: the crane log records every inspection, repair and test, and is "
        "kept for the working life of the crane and for five years after it is scrapped."
        for n in range(1, 13)
    )
    markdown = f"""---
title: Harbour Crane Maintenance
pagetitle: Microsoft Word - schedule.docx
---

# Inspection intervals

Every crane on the quay is inspected by the duty engineer at the start of each shift.

| Component | Interval | Task |
|-----------|----------|------|
{rows}

Lubrication follows a separate plan.

# Records

{filler}
"""
    page = folder / "schedule.html"
    pypandoc.convert_text(markdown, "html", format="md", outputfile=str(page), extra_args=["-s"])
    pdf = folder / "schedule.pdf"
    print_pdf(page, pdf)  # header and footer on
    return pdf


def test_a_browser_s_print_header_and_footer_are_left_out(printed):
    blocks = read_pdf(printed)
    assert len(page_texts(printed)) >= 2
    raw = " ".join(page_texts(printed))
    assert "file://" in raw and "Microsoft Word - schedule.docx" in raw
    text = "\n\n".join(b.text for b in blocks)
    assert "file://" not in text and "schedule.docx" not in text
    assert not re.search(r"\b\d+/\d+/\d+, \d+:\d+", text)  # the print date
    assert not re.search(r"\b\d/\d\b", text)  # "1/2"
    note = next(b for b in blocks if "Routine note 1:" in b.text)
    assert note.text.endswith("after it is scrapped.")


def test_a_file_name_in_the_metadata_gives_way_to_the_largest_heading(printed):
    blocks = read_pdf(printed)
    assert (blocks[0].level, blocks[0].text) == (TITLE, "Harbour Crane Maintenance")


def test_a_title_in_body_type_above_the_abstract_is_the_title_not_the_abstract():
    # pdflatex, no metadata title: the title in bold body-sized type, "Abstract" larger.
    blocks = read_pdf(PILOTS)
    assert (blocks[0].level, blocks[0].text) == (TITLE, "Scheduling Harbour Pilots Around the Tide")
    headings = [b.text for b in blocks if b.level is not None and b.level > TITLE]
    assert headings[:3] == ["Abstract", "1 Pilot rosters", "2 Tidal windows"]


def test_a_pdf_that_starts_with_its_abstract_is_named_after_its_file(tmp_path):
    page = tmp_path / "harbour-pilot-rosters.html"
    page.write_text(
        "<!doctype html><html><body><h1>Abstract</h1>"
        "<p>Harbour pilots guide large ships through narrow channels.</p>"
        "<h2>1. Rosters</h2><p>The port keeps four pilots on duty at any hour.</p>"
        "<h2>2. Windows</h2><p>Deep ships enter two hours either side of high water.</p>"
        "</body></html>",
        encoding="utf-8",
    )
    pdf = tmp_path / "harbour-pilot-rosters.pdf"
    print_pdf(page, pdf, "--no-pdf-header-footer")  # Chromium's metadata title: the file
    document = read_document(pdf.name, pdf)
    assert document.title == "Harbour pilot rosters"
    assert document.text.startswith("Abstract\n\nHarbour pilots guide")
    assert [document.text[h.start : h.end] for h in document.headings][:2] == [
        "Abstract",
        "1. Rosters",
    ]


def test_a_table_row_is_one_line_with_its_cells_whole(printed):
    rows = [b.text for b in read_pdf(printed) if b.kind == Kind.TABLE]
    assert rows == [
        "Component Interval Task",
        "Wire ropes Weekly Measure the diameter at the three most worn sections and replace "
        "the rope when it has lost a tenth of its original size",
        "Brake linings Monthly Check the lining thickness and the air gap",
        "Slew ring bolts Every six months Torque every bolt to the value on the drawing",
    ]


def test_lines_become_paragraphs_with_broken_words_joined_and_real_hyphens_kept():
    from qa.corpus.pdf import _blocks
    from qa.corpus.pdf_layout import Line

    def line(text: str, page: int, top: float, size: float = 11.0) -> Line:
        return Line(text, page, top=top, bottom=top - size, size=size, cells=(text,), chars=40)

    lines = [
        line("Steam at sea", 1, 700, size=18),
        line("Marine engines grew more effi\ufffe", 1, 670),
        line("cient as pressures rose, in US\ufffe", 1, 657),
        line("ASCII as in well-", 1, 644),
        line("known yards.", 1, 631),
        line("Turbines followed them", 1, 600),  # a paragraph's step down above
        line("into the navies of the world.", 2, 760),  # goes on over the page break
    ]
    blocks = _blocks(lines, {}, "")
    joined = "Marine engines grew more efficient as pressures rose, in US-ASCII as in wellknown"
    joined += " yards."  # a hyphen before a lower-case letter goes, as it always did
    assert [(b.text, b.level) for b in blocks] == [
        ("Steam at sea", 0),
        (joined, None),
        ("Turbines followed them into the navies of the world.", None),
    ]
    assert blocks[2].pages == ((0, 1), (len("Turbines followed them "), 2))


def test_lines_in_a_typewriter_font_are_code():
    blocks = read_pdf(POLICY)
    code = [b.text for b in blocks if b.kind == Kind.CODE]
    assert "old-prerm upgrade new-version" in code
    assert all(b.text != "old-prerm upgrade new-version" for b in of_kind(blocks, Kind.BODY))


def test_a_one_page_print_loses_its_header_and_footer_too(tmp_path):
    page = tmp_path / "note.html"
    page.write_text(
        "<!doctype html><html><head><title>Quay note</title></head><body><h1>Quay note</h1>"
        "<p>The night shift found the spreader's twist locks worn and replaced them.</p>"
        "</body></html>",
        encoding="utf-8",
    )
    print_pdf(page, tmp_path / "note.pdf")
    assert len(page_texts(tmp_path / "note.pdf")) == 1
    blocks = read_pdf(tmp_path / "note.pdf")
    assert [(b.text, b.level) for b in blocks] == [
        ("Quay note", TITLE),
        ("The night shift found the spreader's twist locks worn and replaced them.", None),
    ]


def test_a_vector_chart_s_labels_in_a_print_are_figure_text(tmp_path):
    bars = "".join(
        f'<rect x="{60 + 70 * i}" y="{190 - h}" width="40" height="{h}" fill="#69c"/>'
        f'<text x="{60 + 70 * i}" y="205">{season}</text>'
        for i, (season, h) in enumerate((("Spring", 100), ("Summer", 130), ("Autumn", 70)))
    )
    ticks = "".join(f'<text x="8" y="{193 - v}">{v}</text>' for v in (0, 50, 100, 150))
    page = tmp_path / "chart.html"
    page.write_text(
        "<!doctype html><html><head><title>Seasonal report</title></head><body>"
        "<p>The array produced most of its energy in summer, as the chart shows.</p>"
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="220" font-size="11">'
        '<line x1="40" y1="190" x2="280" y2="190" stroke="black"/>'
        '<line x1="40" y1="20" x2="40" y2="190" stroke="black"/>'
        f'{bars}{ticks}<text x="120" y="14">Output by season (MWh)</text></svg>'
        "<p>Output was lower in autumn because of planned maintenance.</p></body></html>",
        encoding="utf-8",
    )
    print_pdf(page, tmp_path / "chart.pdf", "--no-pdf-header-footer")
    blocks = read_pdf(tmp_path / "chart.pdf")
    figure = [b.text for b in blocks if b.kind == Kind.FIGURE]
    assert "Output by season (MWh)" in figure and "150" in figure
    assert any("Spring" in f and "Autumn" in f for f in figure)
    body = [b.text for b in of_kind(blocks, Kind.BODY)]
    assert body == [
        "The array produced most of its energy in summer, as the chart shows.",
        "Output was lower in autumn because of planned maintenance.",
    ]


def test_a_contents_page_with_numbers_first_is_contents(tmp_path):
    entries = ("2 Letter from the chair", "12 Our harbours", "34 Community fund", "41 Accounts")
    page = tmp_path / "report.html"
    page.write_text(
        "<!doctype html><html><head><title>Annual report</title></head><body>"
        "<h1>Annual report</h1><h2>Contents</h2>"
        + "".join(f"<div>{entry}</div>" for entry in entries)
        + "<p>The year brought record traffic through all three harbours.</p></body></html>",
        encoding="utf-8",
    )
    print_pdf(page, tmp_path / "report.pdf", "--no-pdf-header-footer")
    blocks = read_pdf(tmp_path / "report.pdf")
    assert [b.text for b in blocks if b.kind == Kind.CONTENTS] == list(entries)
    assert [b.text for b in of_kind(blocks, Kind.BODY)] == [
        "The year brought record traffic through all three harbours."
    ]


def test_text_turned_in_the_margin_is_not_read_into_the_page(tmp_path):
    page = tmp_path / "stamp.html"
    page.write_text(
        "<!doctype html><html><head><title>Stamp test</title></head>"
        '<body style="margin-left:60px"><div style="position:absolute;left:-40px;top:300px;'
        'transform:rotate(-90deg);font-size:20px">PREPRINT NOT REVIEWED</div>'
        "<h1>Stamp test</h1><p>The body of the page is read as it stands.</p></body></html>",
        encoding="utf-8",
    )
    print_pdf(page, tmp_path / "stamp.pdf", "--no-pdf-header-footer")
    assert "PREPRINT" in page_texts(tmp_path / "stamp.pdf")[0]
    blocks = read_pdf(tmp_path / "stamp.pdf")
    assert [b.text for b in blocks] == ["Stamp test", "The body of the page is read as it stands."]


def test_an_indented_line_after_a_short_one_starts_a_paragraph():
    from qa.corpus.pdf import _blocks
    from qa.corpus.pdf_layout import Line

    def line(text: str, top: float, left: float, right: float) -> Line:
        return Line(text, 1, top, top - 10, 10.0, left, right, (text,), (left,), (right,), 40)

    lines = [  # set as LaTeX does without space between paragraphs: by indentation only
        line("Tides turn twice a day in every coastal", 700, 72, 300),
        line("sea, as the moon passes over it.", 688, 72, 220),
        line("Engineers judge a site first by", 676, 87, 300),
        line("the speed of its current.", 664, 72, 200),
    ]
    assert [b.text for b in _blocks(lines, {}, "")] == [
        "Tides turn twice a day in every coastal sea, as the moon passes over it.",
        "Engineers judge a site first by the speed of its current.",
    ]


def test_a_character_beyond_the_basic_plane_is_one_character(tmp_path):
    """pdfium gives an emoji or a rare CJK character as two UTF-16 halves: joined, or the
    document's text could not even be written as UTF-8."""
    page = tmp_path / "faces.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Faces</title></head><body>"
        "<p>The code point 1F600 is GRINNING FACE \U0001f600 and 2000B is \U0002000b here.</p>"
        "</body></html>",
        encoding="utf-8",
    )
    print_pdf(page, tmp_path / "faces.pdf", "--no-pdf-header-footer")
    text = "\n".join(b.text for b in read_pdf(tmp_path / "faces.pdf"))
    assert not re.search("[\ud800-\udfff]", text)
    text.encode("utf-8")
    assert "GRINNING FACE" in text and "1F600" in text
