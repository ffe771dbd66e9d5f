"""Web pages, Word files and PDFs made by real tools from the seed article: read with their
structure, without their furniture, cited verbatim (PDFs to the page), answered as well as
the .txt; and bad files skipped with a warning that names them."""

import logging
import re
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfWriter

from conftest import CORPUS
from qa.config import Settings
from qa.corpus.ingest import load_corpus
from qa.interfaces.cli import main
from qa.interfaces.http.app import create_app
from qa.learning.evaluate import evaluate, load_gold
from qa.pipeline import AskResult, Pipeline, build
from qa.question.conversation import Turn
from samples import ARTICLE, FURNITURE, SECTIONS, make_samples, print_pdf

GOLD = load_gold(CORPUS.parent / "tests" / "gold" / "defectors.jsonl")


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One corpus folder per format, each holding the seed article alone."""
    return make_samples(tmp_path_factory.mktemp("formats"))


@pytest.fixture(scope="module")
def settings_of(corpora, embedder, tmp_path_factory) -> dict[str, Settings]:
    out = {}
    for kind, folder in {"txt": CORPUS, **corpora}.items():
        out[kind] = Settings(corpus=folder, index=tmp_path_factory.mktemp(f"index-{kind}"))
        build(out[kind], embedder=embedder)
    return out


@pytest.fixture(scope="module")
def pipelines(settings_of, embedder) -> dict[str, Pipeline]:
    return {kind: Pipeline.load(s, embedder=embedder) for kind, s in settings_of.items()}


@pytest.fixture(scope="module")
def pdf_client(settings_of, pipelines) -> Iterator[TestClient]:
    with TestClient(create_app(settings_of["pdf"], pipeline=pipelines["pdf"])) as client:
        yield client


def only_document(pipeline: Pipeline):
    (document,) = pipeline.index.documents.values()
    return document


@pytest.mark.parametrize("kind", ["html", "pdf", "docx"])
def test_structure_is_kept_and_every_paragraph_read_whole(pipelines, kind):
    document = only_document(pipelines[kind])
    assert document.title == "Destinations of North Korean Defectors"
    sections = {p.section for p in pipelines[kind].index.passages}
    assert set(SECTIONS) <= sections
    flat = latin(document.text)
    for line in ARTICLE.read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip():
            assert latin(line) in flat, line[:60]


def latin(text: str) -> str:
    """Text without Hangul (Chromium's PDF text layer drops a character of "피난민") and
    with white space collapsed."""
    return " ".join("".join(c for c in text if not "\uac00" <= c <= "\ud7a3").split())


@pytest.mark.parametrize("kind", ["html", "pdf", "docx"])
def test_no_furniture_is_indexed(pipelines, kind):
    text = only_document(pipelines[kind]).text
    for words in (*FURNITURE, "file://", "World Refugee Review"):
        assert words not in text
    if kind == "pdf":
        assert "/2" not in text and "AM " not in text and "PM " not in text  # footer, header


def test_a_question_only_the_navigation_answers_is_declined(pipelines):
    answer = pipelines["html"].ask("How much is a subscription?").answer
    assert not answer.answered


def test_pdf_citations_carry_the_page_their_quote_starts_on(pipelines, corpora):
    pipeline = pipelines["pdf"]
    document = only_document(pipeline)
    pdf = pdfium.PdfDocument(str(corpora["pdf"] / "article.pdf"))
    pages = [" ".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf))]
    assert len(pages) >= 2 and document.pages[0] == (0, 1)
    assert [p for _, p in document.pages] == list(range(1, len(pages) + 1))
    seen = set()
    for question in ("How many North Koreans live in Canada?", "What does Pinanmin mean?"):
        answer = pipeline.ask(question).answer
        assert answer.answered
        for c in answer.citations:
            assert document.text[c.start : c.end] == c.quote
            assert c.page is not None
            assert " ".join(c.quote.split()[:4]) in pages[c.page - 1]
            seen.add(c.page)
    assert len(seen) >= 2  # the article's first and last pages
    txt = pipelines["txt"].ask("How many North Koreans live in Canada?").answer
    assert all(c.page is None for c in txt.citations)


def test_the_source_view_names_the_page_and_opens_the_original_file_there(pdf_client, corpora):
    data = pdf_client.post("/api/ask", json={"question": "How many North Koreans live in Canada?"})
    citation = data.json()["citations"][0]
    page = citation["page"]
    assert page is not None
    view = pdf_client.get(f"/documents/article.pdf?start={citation['start']}&end={citation['end']}")
    assert view.status_code == 200
    assert f"page {page}" in view.text
    assert f'href="/documents/article.pdf/file#page={page}"' in view.text
    original = pdf_client.get("/documents/article.pdf/file")
    assert original.status_code == 200
    assert original.headers["content-type"] == "application/pdf"
    assert original.content == (corpora["pdf"] / "article.pdf").read_bytes()
    text = pdf_client.get("/api/documents/article.pdf")
    assert original.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in original.headers["content-security-policy"]
    for header in ("x-content-type-options", "content-security-policy", "referrer-policy"):
        assert original.headers[header] == text.headers[header]
    assert pdf_client.get("/documents/nothing.pdf/file").status_code == 404
    chat = pdf_client.post("/", data={"question": "How many North Koreans live in Canada?"})
    assert f"(page {page})" in chat.text


@pytest.mark.parametrize("kind", ["html", "pdf", "docx"])
def test_gold_answers_as_well_as_from_the_txt(pipelines, kind):
    def scored(pipeline: Pipeline) -> float:
        def ask(question: str, history: list[Turn], doc_ids: list[str] | None) -> AskResult:
            return pipeline.ask(question, history=history)

        report = evaluate(pipeline, GOLD, ask, name=kind)
        for item in report.items:
            assert item.correct or item.id  # every item was asked
        return report.metrics["answer_accuracy"]

    assert scored(pipelines[kind]) >= scored(pipelines["txt"]) - 0.03


@pytest.mark.parametrize("kind", ["html", "pdf", "docx"])
def test_every_gold_citation_is_verbatim_and_a_pdf_s_has_its_page(pipelines, kind):
    pipeline = pipelines[kind]
    document = only_document(pipeline)
    for item in GOLD:
        history = [Turn(t["question"], t.get("answer", "")) for t in item.history]
        for c in pipeline.ask(item.question, history=history).answer.citations:
            assert document.text[c.start : c.end] == c.quote
            assert (c.page is not None) == (kind == "pdf")


def test_qa_ask_prints_the_page(settings_of, monkeypatch, capsys):
    index = str(settings_of["pdf"].index)
    monkeypatch.setattr(sys, "argv", ["qa", "ask", "How many live in Canada?", "--index", index])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert re.search(r"\(article\.pdf:\d+-\d+, page \d\)", out), out


@pytest.fixture()
def bad_corpus(tmp_path, corpora) -> Path:
    """The HTML article beside files that cannot be read."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "article.html").write_bytes((corpora["html"] / "article.html").read_bytes())
    scanned = tmp_path / "scanned.html"
    scanned.write_text("<div style='width:400px;height:300px;background:#333'></div>")
    print_pdf(scanned, folder / "scanned.pdf", "--no-pdf-header-footer")  # a scan has none
    damaged = (corpora["pdf"] / "article.pdf").read_bytes()
    (folder / "damaged.pdf").write_bytes(damaged[: len(damaged) // 3])
    with zipfile.ZipFile(folder / "photos.docx", "w") as archive:
        archive.writestr("holiday/notes.txt", "not a Word document")
    writer = PdfWriter(clone_from=corpora["pdf"] / "article.pdf")
    writer.encrypt(user_password="secret", algorithm="RC4-128")  # pure Python in pypdf
    writer.write(folder / "locked.pdf")
    return folder


def test_bad_files_are_skipped_with_a_warning_naming_each(bad_corpus, caplog):
    with caplog.at_level(logging.WARNING, logger="qa.corpus.ingest"):
        documents = load_corpus(bad_corpus)
    assert [d.doc_id for d in documents] == ["article.html"]
    warnings = [r.getMessage() for r in caplog.records]
    for name in ("scanned.pdf", "damaged.pdf", "photos.docx", "locked.pdf"):
        (line,) = [w for w in warnings if name in w]
        assert line.startswith(f"skipping {name}: ")
    assert any("no text layer" in w for w in warnings)


def test_a_huge_web_page_is_skipped(tmp_path, corpora, caplog):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "article.html").write_bytes((corpora["html"] / "article.html").read_bytes())
    (folder / "dump.html").write_bytes(b"<p>" + b"word " * 5_000_000 + b"</p>")  # 25 MB
    with caplog.at_level(logging.WARNING, logger="qa.corpus.ingest"):
        documents = load_corpus(folder)
    assert [d.doc_id for d in documents] == ["article.html"]
    assert any(r.getMessage().startswith("skipping dump.html: ") for r in caplog.records)
