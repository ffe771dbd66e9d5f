"""Extraction libraries compared on the seed article as the tests make it (`make
bench-extractors`, which installs the alternatives into the venv first).

For each format, every candidate reads the same file. Reported: the median time of 10
reads; the share of the article's paragraphs found whole in the extracted text (white space
collapsed, Hangul set aside: Chromium's PDF text layer drops one of its characters); whether
the headings came out as headings (where the library says so); and how many of the page's
furniture strings (navigation, cookie notice, sidebar, footer; for the PDF, Chromium's
running header and footer) were extracted with the text. Licences are the packages' own.
"""

import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from qa.corpus.formats import read_docx, read_html, read_pdf  # noqa: E402
from samples import ARTICLE, FURNITURE, SECTIONS, make_samples  # noqa: E402

# Chromium's running header (date and time, then the title) and footer (address, "1/3").
PDF_FURNITURE = (r"file://", r"\d+/\d+/\d+, \d+:\d+ [AP]M", r"\b\d/\d\b")


def flat(text: str) -> str:
    return " ".join("".join(c for c in text if not "\uac00" <= c <= "\ud7a3").split())


def paragraphs_found(text: str) -> float:
    lines = [line for line in ARTICLE.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    body = [line for line in lines if line not in SECTIONS]
    found = flat(text)
    return sum(flat(line) in found for line in body) / len(body)


def blocks_text(blocks: list) -> tuple[str, set[str]]:
    return "\n\n".join(b.text for b in blocks), {b.text for b in blocks if b.level}


def ours_pdf(path: Path) -> tuple[str, set[str]]:
    return blocks_text(read_pdf(path))


def pdfplumber_text(path: Path) -> tuple[str, set[str]]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages), set()


def pypdf_text(path: Path) -> tuple[str, set[str]]:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages), set()


def joined(text: str) -> str:
    """Lines joined as one would before searching: hyphens at line ends closed up."""
    return re.sub(r"(?<=[a-z])-\n(?=[a-z])", "", text).replace("\n", " ")


def ours_html(path: Path) -> tuple[str, set[str]]:
    return blocks_text(read_html(path))


def trafilatura_text(path: Path) -> tuple[str, set[str]]:
    import trafilatura

    page = path.read_text(encoding="utf-8")
    text = trafilatura.extract(page, output_format="txt") or ""
    marked = trafilatura.extract(page, output_format="markdown") or ""  # headings as "# ..."
    headings = {line.lstrip("#").strip() for line in marked.splitlines() if line.startswith("#")}
    return text, headings


def trafilatura_timed(path: Path) -> str:
    """What a build would call: the text alone (the headings run above is for the table)."""
    import trafilatura

    return trafilatura.extract(path.read_text(encoding="utf-8"), output_format="txt") or ""


def ours_docx(path: Path) -> tuple[str, set[str]]:
    return blocks_text(read_docx(path))


def mammoth_text(path: Path) -> tuple[str, set[str]]:
    import mammoth

    with path.open("rb") as f:
        out = mammoth.convert_to_html(f).value
    headings = {re.sub("<[^>]+>", "", h) for h in re.findall(r"<h[1-6]>(.*?)</h[1-6]>", out)}
    text = re.sub(r"<[^>]+>", "\n", out)
    import html

    return html.unescape(text), {html.unescape(h) for h in headings}


CANDIDATES: dict[str, list[tuple[str, str, Callable[[Path], tuple[str, set[str]]]]]] = {
    "pdf": [
        ("pypdfium2 + qa's layout (shipped)", "Apache-2.0/BSD-3", ours_pdf),
        ("pdfplumber extract_text", "MIT", pdfplumber_text),
        ("pypdf extract_text", "BSD-3", pypdf_text),
    ],
    "html": [
        ("selectolax + qa's blocks (shipped)", "MIT", ours_html),
        ("trafilatura extract", "Apache-2.0", trafilatura_text),
    ],
    "docx": [
        ("python-docx + qa's blocks (shipped)", "MIT", ours_docx),
        ("mammoth convert_to_html", "BSD-2", mammoth_text),
    ],
}


def median_ms(call: Callable[[], object], repeat: int = 10) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folders = make_samples(Path(tmp))
        print("| format | library | licence | ms | paragraphs whole | headings | furniture |")
        print("|---|---|---|---|---|---|---|")
        for kind, candidates in CANDIDATES.items():
            path = next(folders[kind].iterdir())
            furniture = PDF_FURNITURE if kind == "pdf" else tuple(map(re.escape, FURNITURE))
            for name, licence, read in candidates:
                text, headings = read(path)
                if kind == "pdf" and "qa's" not in name:
                    text = joined(text)
                timed = trafilatura_timed if read is trafilatura_text else read
                ms = median_ms(lambda timed=timed, path=path: timed(path))
                found = paragraphs_found(text)
                heads = f"{len(set(SECTIONS) & headings)}/{len(SECTIONS)}" if headings else "–"
                leaked = sum(re.search(f, text) is not None for f in furniture)
                print(
                    f"| {kind} | {name} | {licence} | {ms:.1f} | {found:.2f} | {heads} | "
                    f"{leaked}/{len(furniture)} |"
                )


if __name__ == "__main__":
    main()
