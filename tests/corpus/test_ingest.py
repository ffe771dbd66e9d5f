"""Ingest: titles, headings, passages and sentences, all with verbatim offsets."""

import pytest

from conftest import CORPUS, CORPUS_DOC, write_corpus
from qa.corpus.ingest import chunk, load_corpus, parse_document
from qa.errors import CorpusError
from samples import SECTIONS

EXPECTED_SECTIONS = list(SECTIONS)


@pytest.fixture(scope="module")
def corpus_docs():
    return load_corpus(CORPUS)


def test_corpus_document_id_is_its_relative_path(corpus_docs):
    assert [d.doc_id for d in corpus_docs] == [CORPUS_DOC]


def test_corpus_text_is_the_file_read_as_utf8(corpus_docs):
    with (CORPUS / CORPUS_DOC).open(encoding="utf-8") as f:
        assert corpus_docs[0].text == f.read()


def test_txt_title_is_the_first_line(corpus_docs):
    assert corpus_docs[0].title == "Destinations of North Korean Defectors"


def test_txt_headings_are_found(corpus_docs):
    doc = corpus_docs[0]
    headings = [doc.text[h.start : h.end] for h in doc.headings if h.level > 0]
    assert headings == EXPECTED_SECTIONS


def test_every_paragraph_belongs_to_the_section_above_it(corpus_docs):
    doc = corpus_docs[0]
    sections = [p.section for p in doc.paragraphs]
    assert sorted(set(sections), key=sections.index) == EXPECTED_SECTIONS


@pytest.mark.parametrize("max_chars", [200, 800, 3000])
def test_every_passage_and_sentence_offset_is_verbatim(corpus_docs, max_chars):
    doc = corpus_docs[0]
    chunks = chunk(corpus_docs, max_chars)
    assert chunks.passages and chunks.sentences
    for passage in chunks.passages:
        text = doc.text[passage.start : passage.end]
        assert text == text.strip() and text
        first = chunks.sentences[passage.sentence_ids[0]]
        last = chunks.sentences[passage.sentence_ids[-1]]
        assert (first.start, last.end) == (passage.start, passage.end)
    for sentence in chunks.sentences:
        text = doc.text[sentence.start : sentence.end]
        assert text == text.strip() and text
        passage = chunks.passages[sentence.passage_id]
        assert passage.start <= sentence.start < sentence.end <= passage.end


def test_sentences_cover_each_paragraph_without_overlap(corpus_docs):
    doc = corpus_docs[0]
    chunks = chunk(corpus_docs, 800)
    covered = "".join(doc.text[s.start : s.end] for s in chunks.sentences)
    body = "".join(doc.text[p.start : p.end] for p in doc.paragraphs)
    assert "".join(covered.split()) == "".join(body.split())


def test_long_paragraphs_are_split_at_sentence_boundaries(corpus_docs):
    chunks = chunk(corpus_docs, 300)
    paragraphs = corpus_docs[0].paragraphs
    assert len(chunks.passages) > len(paragraphs)
    for passage in chunks.passages:
        if len(passage.sentence_ids) > 1:
            assert passage.end - passage.start <= 300


def test_heading_needs_a_paragraph_after_it():
    text = "Title\n\nIntro paragraph that ends properly.\nA short last line"
    doc = parse_document("a.txt", text)
    assert [doc.text[h.start : h.end] for h in doc.headings] == ["Title"]
    assert doc.text[doc.paragraphs[-1].start : doc.paragraphs[-1].end] == "A short last line"


def test_punctuated_short_line_is_not_a_heading():
    text = "Title\nIt rained.\nThe river rose over the banks and the town was flooded."
    doc = parse_document("a.txt", text)
    assert [h.level for h in doc.headings] == [0]
    assert len(doc.paragraphs) == 2


def test_hard_wrapped_lines_form_one_paragraph():
    text = (
        "Title\n\nHistory\n\nThe town was founded by settlers who came\n"
        "from the coast in search of farmland.\n\nIt grew quickly.\n"
    )
    doc = parse_document("a.txt", text)
    paragraphs = [doc.text[p.start : p.end] for p in doc.paragraphs]
    assert paragraphs == [
        "The town was founded by settlers who came\nfrom the coast in search of farmland.",
        "It grew quickly.",
    ]
    assert {p.section for p in doc.paragraphs} == {"History"}


def test_markdown_title_sections_and_list_items():
    text = (
        "Intro line before the title.\n\n# The Guide\n\nFirst paragraph.\n\n## Costs\n\n"
        "- Rent is high.\n- Food is cheap.\n\n```\ncode is skipped\n```\nLast words.\n"
    )
    doc = parse_document("guide.md", text)
    assert doc.title == "The Guide"
    paragraphs = [(p.section, doc.text[p.start : p.end]) for p in doc.paragraphs]
    assert paragraphs == [
        ("The Guide", "Intro line before the title."),
        ("The Guide", "First paragraph."),
        ("Costs", "- Rent is high."),
        ("Costs", "- Food is cheap."),
        ("Costs", "Last words."),
    ]


def test_markdown_title_is_the_metadata_block_s_title_first():
    text = (
        "---\ntitle: 'Tidal Power'\nauthor: A. N. Example\n---\n\n# Introduction\n\nTides turn.\n"
    )
    doc = parse_document("paper.md", text)
    assert doc.title == "Tidal Power"
    assert [(p.section, doc.text[p.start : p.end]) for p in doc.paragraphs][-1] == (
        "Introduction",
        "Tides turn.",
    )


@pytest.mark.parametrize("first", ["Abstract", "1. Introduction", "Table of Contents"])
def test_a_markdown_file_whose_first_heading_names_a_part_is_named_after_its_file(first):
    doc = parse_document("tidal-power.md", f"# {first}\n\nTides turn.\n\n# Turbines\n\nBlades.\n")
    assert doc.title == "Tidal power"
    assert [doc.text[h.start : h.end] for h in doc.headings] == [first, "Turbines"]


def test_corpus_reads_txt_and_md_in_subfolders_and_skips_others(tmp_path):
    corpus = write_corpus(
        tmp_path / "c",
        {
            "a.txt": "A\n\nSome text here.",
            "sub/b.md": "# B\n\nMore text here.",
            "notes.json": "{}",
            ".hidden/c.txt": "C\n\nHidden text.",
        },
    )
    assert [d.doc_id for d in load_corpus(corpus)] == ["a.txt", "sub/b.md"]


def test_unreadable_and_empty_files_are_skipped_with_a_warning(tmp_path, caplog):
    corpus = write_corpus(tmp_path / "c", {"good.txt": "Good\n\nReal text.", "empty.txt": ""})
    (corpus / "latin1.txt").write_bytes("Caf\xe9 au lait.".encode("latin-1"))
    docs = load_corpus(corpus)
    assert [d.doc_id for d in docs] == ["good.txt"]
    assert "latin1.txt" in caplog.text and "empty.txt" in caplog.text


def test_symlink_out_of_the_corpus_is_skipped(tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret\n\nDo not serve.", encoding="utf-8")
    corpus = write_corpus(tmp_path / "c", {"a.txt": "A\n\nSome text here."})
    (corpus / "link.txt").symlink_to(outside)
    assert [d.doc_id for d in load_corpus(corpus)] == ["a.txt"]


def test_missing_or_empty_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match=r"no documents with text \(\.txt, \.md, \.html"):
        load_corpus(tmp_path / "empty")


def test_windows_newlines_are_read_as_universal_newlines(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "w.txt").write_bytes(b"Title\r\n\r\nHeading\r\nA paragraph of text.\r\n")
    doc = load_corpus(corpus)[0]
    assert "\r" not in doc.text
    assert doc.paragraphs[0].section == "Heading"


def test_binary_and_huge_files_are_skipped_with_a_warning(tmp_path, caplog):
    corpus = write_corpus(tmp_path / "c", {"good.txt": "Good\n\nReal text here."})
    (corpus / "image.txt").write_bytes(b"GIF89a\x00\x01\x02\x00binary")
    (corpus / "dump.md").write_text("# Dump\n\n" + "Words here. " * 200, encoding="utf-8")
    docs = load_corpus(corpus, max_bytes=1000)
    assert [d.doc_id for d in docs] == ["good.txt"]
    assert "image.txt" in caplog.text and "binary" in caplog.text
    assert "dump.md" in caplog.text and "limit" in caplog.text


def test_figure_text_and_contents_lines_are_in_the_text_but_never_paragraphs():
    from qa.corpus.blocks import TITLE, Block, Kind
    from qa.corpus.ingest import document_from_blocks

    blocks = [
        Block("Annual report", TITLE),
        Block("1 Results . . . . . 3", kind=Kind.CONTENTS),
        Block("Results", 1),
        Block("Sales rose by a tenth in the year.", pages=((0, 3),)),
        Block("North South East", kind=Kind.FIGURE),
        Block("Region Sales Change", kind=Kind.TABLE),
        Block("1 Unaudited figures.", kind=Kind.FOOTNOTE),
    ]
    document = document_from_blocks("report.pdf", blocks)
    quoted = [document.text[p.start : p.end] for p in document.paragraphs]
    assert quoted == [
        "Sales rose by a tenth in the year.",
        "Region Sales Change",
        "1 Unaudited figures.",
    ]
    assert "1 Results . . . . . 3" in document.text and "North South East" in document.text
    kinds = {document.text[s:e]: kind for s, e, kind in document.kinds}
    assert kinds == {
        "1 Results . . . . . 3": "contents",
        "North South East": "figure",
        "Region Sales Change": "table",
        "1 Unaudited figures.": "footnote",
    }
    for paragraph, kind in zip(document.paragraphs, ("body", "table", "footnote"), strict=True):
        assert document.kind_at(paragraph.start) == kind
        assert document.kind_at(paragraph.end - 1) == kind
    assert all(p.section == "Results" for p in document.paragraphs)
    chunks = chunk([document], 500)
    assert len(chunks.passages) == 3  # no passage spans two blocks of different kinds


def test_a_lone_utf16_half_from_a_parser_cannot_break_the_document():
    from qa.corpus.blocks import Block
    from qa.corpus.ingest import document_from_blocks

    document = document_from_blocks("x.pdf", [Block("Face \ud83d here. Next one.")])
    assert document.text == "Face \ufffd here. Next one."
    document.text.encode("utf-8")
