"""Reading large real files (`make bench-large`): an ~800-page Word handbook and a folder of a
few hundred PDFs, read as `qa index` reads them, with the memory in use sampled as the files
go by (it should stay flat: each file's parser is released before the next) and the time
locally and, when Ray is installed, on a local Ray (`qa index --ray local`).

The files are made from the real-document set's Debian packages (`make real-documents`
unpacks them into .cache/real-documents/debs): the handbook is pandoc's Word file of every
chapter of the Debian Policy Manual, the Developer's Reference and Python's tutorial, HOWTOs
and library reference pages, in that order, until it holds 400,000 words (about 800 pages at
500 words a page); the PDF folder is the real-document set's PDFs cut into two-page files
with pypdf. Each measurement runs in a fresh process, so its peak memory is its own.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "real-documents"
WORK = REPO / ".cache" / "bench-large"
HANDBOOK_WORDS = 400_000
WORDS_PER_PAGE = 500


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def make_handbook(out: Path) -> int:
    """pandoc's .docx of real HTML chapters, HANDBOOK_WORDS words long; its word count."""
    import pypandoc
    from selectolax.lexbor import LexborHTMLParser

    debs = CACHE / "debs"
    sources = [
        *sorted((debs / "debian-policy/usr/share/doc/debian-policy/policy.html").glob("*.html")),
        *sorted(debs.glob("developers-reference/usr/share/developers-reference/*.html")),
        *sorted(debs.glob("python3.11-doc/usr/share/doc/python3.11/html/tutorial/*.html")),
        *sorted(debs.glob("python3.11-doc/usr/share/doc/python3.11/html/howto/*.html")),
        *sorted(debs.glob("python3.11-doc/usr/share/doc/python3.11/html/library/*.html")),
    ]
    # Not chapters: a whole-book page repeating them, contents, search and index pages.
    skip = {"developers-reference.html", "index.html", "search.html", "genindex.html"}
    bodies, words = [], 0
    for path in (p for p in sources if p.name not in skip):
        tree = LexborHTMLParser(path.read_bytes())
        body = tree.css_first("div[role=main]") or tree.css_first("div.body") or tree.body
        if body is None:
            continue
        bodies.append(body.html or "")
        words += len(body.text().split())
        if words >= HANDBOOK_WORDS:
            break
    if words < HANDBOOK_WORDS:
        raise SystemExit(f"only {words} words in {len(sources)} pages: run make real-documents")
    html = out.with_suffix(".html")
    html.write_text("<html><body>" + "\n".join(bodies) + "</body></html>", encoding="utf-8")
    pypandoc.convert_file(str(html), "docx", outputfile=str(out))
    html.unlink()
    return words


def make_pdf_folder(out: Path) -> int:
    """The real-document set's PDFs cut into two-page files; how many."""
    from pypdf import PdfReader, PdfWriter

    out.mkdir(parents=True)
    count = 0
    for pdf in sorted((CACHE / "corpus").glob("*.pdf")):
        reader = PdfReader(pdf)
        for first in range(0, len(reader.pages), 2):
            writer = PdfWriter()
            for page in reader.pages[first : first + 2]:
                writer.add_page(page)
            writer.write(out / f"{pdf.stem}-{first + 1:03d}.pdf")
            count += 1
    return count


def child(folder: Path, ray: bool) -> None:
    """Read `folder` as qa index does; print seconds, memory samples and sizes as JSON."""
    from qa.corpus.ingest import load_corpus, read_each

    reader = read_each
    if ray:
        from qa.index.ray_build import RayReader, connect

        connect("local", num_cpus=2)
        reader = RayReader()
    samples: list[tuple[int, float]] = []
    start_mb = _rss_mb()
    started = time.perf_counter()
    documents = load_corpus(
        folder, reader=reader, progress=lambda done, total, _: samples.append((done, _rss_mb()))
    )
    seconds = time.perf_counter() - started
    total = len(samples)
    picks = sorted({max(0, round(total * q) - 1) for q in (0.1, 0.25, 0.5, 0.75, 1.0)})
    print(
        json.dumps(
            {
                "files": total,
                "documents": len(documents),
                "text_mb": round(sum(len(d.text) for d in documents) / 2**20, 1),
                "seconds": round(seconds, 1),
                "rss_before_mb": round(start_mb),
                "rss_mb_after_files": {samples[i][0]: round(samples[i][1]) for i in picks},
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


def measure(folder: Path, ray: bool = False) -> dict:
    args = [sys.executable, __file__, "--child", str(folder)] + (["--ray"] if ray else [])
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ray", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child, options.ray)
        return
    handbook_dir, pdf_dir = WORK / "handbook", WORK / "pdfs"
    if not handbook_dir.is_dir():
        handbook_dir.mkdir(parents=True)
        words = make_handbook(handbook_dir / "handbook.docx")
        print(f"handbook.docx: {words} words, about {words // WORDS_PER_PAGE} pages")
    if not pdf_dir.is_dir():
        print(f"pdfs/: {make_pdf_folder(pdf_dir)} two-page PDFs")
    rows = {
        "800-page Word handbook": measure(handbook_dir),
        "few hundred PDFs": measure(pdf_dir),
    }
    try:
        import ray  # noqa: F401

        rows["few hundred PDFs, --ray local"] = measure(pdf_dir, ray=True)
    except ImportError:
        print("(Ray is not installed: make bench-large installs the scale extra)")
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
