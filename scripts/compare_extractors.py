"""Extraction libraries compared (`make bench-extractors`, which installs the alternatives
into the venv first): on the seed article as the tests make it, then on every file of the
real-document corpus.

The seed article: every candidate reads the same file of each format. Reported: the median
time of 10 reads; the share of the article's paragraphs found whole in the extracted text
(white space collapsed, Hangul set aside: Chromium's PDF text layer drops one of its
characters); whether the headings came out as headings (where the library says so); and
how many of the page's furniture strings (navigation, cookie notice, sidebar, footer; for
the PDF, Chromium's running header and footer) were extracted with the text.

The real-document corpus (`--corpus`): per file and reader, the seconds of one read, the
characters and soft-hyphen marks in the text, and the share of the file's reference
sentences (from the gold sets, `--gold`) found whole in it, as it is and joined
(reference_sentences.py); then the same summed per format. `--json FILE` writes every row.
PyMuPDF (AGPL) is measured here only; it is never a dependency. Licences are the packages'.
"""

import argparse
import html
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from qa.corpus.formats import read_docx, read_html, read_pdf  # noqa: E402
from reference_sentences import (  # noqa: E402
    DEFAULT_CORPUS,
    FORMATS,
    format_of,
    found,
    gold_files,
    joined,
    read_items,
    references_by_doc,
    share,
    soft_hyphens,
)
from samples import ARTICLE, FURNITURE, SECTIONS, make_samples  # noqa: E402

# Chromium's running header (date and time, then the title) and footer (address, "1/3").
PDF_FURNITURE = (r"file://", r"\d+/\d+/\d+, \d+:\d+ [AP]M", r"\b\d/\d\b")
Read = Callable[[Path], tuple[str, set[str]]]


def flat(text: str) -> str:
    return " ".join("".join(c for c in text if not "\uac00" <= c <= "\ud7a3").split())


def paragraphs_found(text: str) -> float:
    lines = [line for line in ARTICLE.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    body = [line for line in lines if line not in SECTIONS]
    found = flat(text)
    return sum(flat(line) in found for line in body) / len(body)


def blocks_text(blocks: list) -> tuple[str, set[str]]:
    return "\n\n".join(b.text for b in blocks), {b.text for b in blocks if b.level}


def html_text(markup: str) -> str:
    """A fragment's text: block elements on lines of their own, inline tags joined."""
    block = r"</?(?:p|div|h[1-6]|li|ul|ol|tr|td|th|table|pre|br|blockquote|dd|dt|section)\b[^>]*>"
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(block, "\n", markup)))


def ours_pdf(path: Path) -> tuple[str, set[str]]:
    return blocks_text(read_pdf(path))


def pdfplumber_text(path: Path) -> tuple[str, set[str]]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages), set()


def pypdf_text(path: Path) -> tuple[str, set[str]]:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages), set()


def pymupdf_text(path: Path) -> tuple[str, set[str]]:
    import pymupdf

    with pymupdf.open(path) as pdf:
        return "\n".join(page.get_text() for page in pdf), set()


def pdftotext_text(path: Path) -> tuple[str, set[str]]:
    run = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True)
    return run.stdout.decode("utf-8", "replace"), set()


def pdfminer_text(path: Path) -> tuple[str, set[str]]:
    from pdfminer.high_level import extract_text

    return extract_text(path), set()


def ours_html(path: Path) -> tuple[str, set[str]]:
    return blocks_text(read_html(path))


def trafilatura_text(path: Path) -> tuple[str, set[str]]:
    import trafilatura

    page = path.read_bytes()
    text = trafilatura.extract(page, output_format="txt") or ""
    marked = trafilatura.extract(page, output_format="markdown") or ""  # headings as "# ..."
    headings = {line.lstrip("#").strip() for line in marked.splitlines() if line.startswith("#")}
    return text, headings


def trafilatura_timed(path: Path) -> tuple[str, set[str]]:
    """What a build would call: the text alone (the headings run above is for the table)."""
    import trafilatura

    return trafilatura.extract(path.read_bytes(), output_format="txt") or "", set()


def readability_text(path: Path) -> tuple[str, set[str]]:
    from readability import Document

    return html_text(Document(path.read_bytes()).summary(html_partial=True)), set()


def ours_docx(path: Path) -> tuple[str, set[str]]:
    return blocks_text(read_docx(path))


def mammoth_text(path: Path) -> tuple[str, set[str]]:
    import mammoth

    with path.open("rb") as f:
        out = mammoth.convert_to_html(f).value
    headings = {html_text(h).strip() for h in re.findall(r"<h[1-6]>(.*?)</h[1-6]>", out)}
    return html_text(out), headings


def docx2python_text(path: Path) -> tuple[str, set[str]]:
    from docx2python import docx2python

    with docx2python(path) as document:
        return document.text, set()


CANDIDATES: dict[str, list[tuple[str, str, Read]]] = {
    "PDF": [
        ("pypdfium2 + qa's layout (shipped)", "Apache-2.0/BSD-3", ours_pdf),
        ("pdfplumber extract_text", "MIT", pdfplumber_text),
        ("pdfminer.six extract_text", "MIT", pdfminer_text),
        ("pypdf extract_text", "BSD-3", pypdf_text),
        ("PyMuPDF get_text (measured only)", "AGPL-3.0", pymupdf_text),
        ("pdftotext (poppler-utils)", "GPL-2/3", pdftotext_text),
    ],
    "web page": [
        ("selectolax + qa's blocks (shipped)", "MIT", ours_html),
        ("trafilatura extract", "Apache-2.0", trafilatura_text),
        ("readability-lxml summary", "Apache-2.0", readability_text),
    ],
    "Word": [
        ("mammoth + qa's blocks (shipped)", "BSD-2", ours_docx),
        ("mammoth convert_to_html", "BSD-2", mammoth_text),
        ("docx2python text", "MIT", docx2python_text),
    ],
}
SEED_FOLDERS = {"PDF": "pdf", "web page": "html", "Word": "docx"}
TIMED: dict[Read, Read] = {trafilatura_text: trafilatura_timed}


def median_ms(call: Callable[[], object], repeat: int = 10) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def seed_table() -> None:
    """The seed article in each format, read by every candidate."""
    with tempfile.TemporaryDirectory() as tmp:
        folders = make_samples(Path(tmp))
        print("| format | library | licence | ms | paragraphs whole | headings | furniture |")
        print("|---|---|---|---|---|---|---|")
        for kind, candidates in CANDIDATES.items():
            path = next(folders[SEED_FOLDERS[kind]].iterdir())
            furniture = PDF_FURNITURE if kind == "PDF" else tuple(map(re.escape, FURNITURE))
            for name, licence, read in candidates:
                try:
                    text, headings = read(path)
                except (ImportError, FileNotFoundError) as exc:
                    print(f"{name}: not installed ({exc})", file=sys.stderr)
                    continue
                if kind == "PDF" and "qa's" not in name:
                    text = joined(text)
                timed = TIMED.get(read, read)
                ms = median_ms(lambda timed=timed, path=path: timed(path))
                whole = paragraphs_found(text)
                heads = f"{len(set(SECTIONS) & headings)}/{len(SECTIONS)}" if headings else "–"
                leaked = sum(re.search(f, text) is not None for f in furniture)
                print(
                    f"| {kind} | {name} | {licence} | {ms:.1f} | {whole:.2f} | {heads} | "
                    f"{leaked}/{len(furniture)} |"
                )


def measure_corpus(corpus: Path, references: dict[str, list[str]]) -> list[dict[str, Any]]:
    """One row per file and reader: seconds, characters, soft hyphens, references found."""
    rows = []
    files = sorted(p for p in corpus.iterdir() if p.suffix.lower() in FORMATS)
    for path in files:
        refs = references.get(path.name, [])
        kind = format_of(path.name)
        for name, _, read in CANDIDATES[kind]:
            started = time.perf_counter()
            try:
                text = TIMED.get(read, read)(path)[0]
            except Exception as exc:  # a reader missing, or failing on this file
                print(f"{path.name}, {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            seconds = round(time.perf_counter() - started, 3)
            whole, either = found(text, refs)
            rows.append(
                {"file": path.name, "format": kind, "reader": name, "seconds": seconds}
                | {"chars": len(text), "soft_hyphens": soft_hyphens(text)}
                | {"references": len(refs), "whole": whole, "joined": either}
            )
        print(f"read {path.name}", file=sys.stderr)
    return rows


def by_format(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows summed per format and reader."""
    sums: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["format"], row["reader"])
        total = sums.setdefault(key, {"format": key[0], "reader": key[1], "files": 0})
        total["files"] += 1
        for field in ("seconds", "chars", "soft_hyphens", "references", "whole", "joined"):
            total[field] = round(total.get(field, 0) + row[field], 3)
    return list(sums.values())


def corpus_table(rows: list[dict[str, Any]], first: str) -> str:
    """Markdown: a row per `first` (file or format) and reader."""
    lines = [
        f"| {first} | reader | s | chars | soft hyphens | references | whole | joined |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        whole, either = (share(row[k], row["references"]) for k in ("whole", "joined"))
        lines.append(
            f"| {row[first]} | {row['reader']} | {row['seconds']:.2f} | {row['chars']} | "
            f"{row['soft_hyphens']} | {row['references']} | "
            f"{'–' if whole is None else whole} | {'–' if either is None else either} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--gold", type=Path, nargs="*", help="real-document gold sets")
    parser.add_argument("--json", type=Path, help="write every corpus row to this file")
    parser.add_argument("--no-seed", action="store_true", help="skip the seed article")
    args = parser.parse_args()
    if not args.no_seed:
        seed_table()
    if not args.corpus.is_dir():
        print(f"\nno corpus at {args.corpus} (`make real-documents` fetches it)", file=sys.stderr)
        return
    references = references_by_doc(read_items(gold_files() if args.gold is None else args.gold))
    rows = measure_corpus(args.corpus, references)
    formats = by_format(rows)
    print(f"\n{corpus_table(rows, 'file')}\n\n{corpus_table(formats, 'format')}")
    if args.json:
        results = {"files": rows, "formats": formats}
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
