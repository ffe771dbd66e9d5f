"""The seed article as the files people have: a news site's web page around it, Chromium's
print of it to PDF (running header and footer on), and pandoc's Word file of it. Used by
tests/corpus/test_formats.py and by `make bench-build`."""

import html
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARTICLE = REPO / "corpus" / "destinations-of-north-korean-defectors.txt"
SECTIONS = (
    "North Korean defector activity and definitions",
    "South Korea",
    "China",
    "Japan",
    "Europe and the United Kingdom",
    "United States",
    "Canada",
)
# What a news site puts around an article: none of it may be indexed or quoted.
FURNITURE = (
    "Subscribe",
    "a subscription is $5 a month",
    "cookies",
    "Most read",
    "All rights reserved",
    "editor@example.org",
)


def article_html(*, furniture: bool) -> str:
    lines = [line.strip() for line in ARTICLE.read_text(encoding="utf-8").splitlines()]
    title, body = lines[0], [line for line in lines[1:] if line]
    parts = [
        f"<h2>{html.escape(line)}</h2>" if line in SECTIONS else f"<p>{html.escape(line)}</p>"
        for line in body
    ]
    article = f"<article><h1>{html.escape(title)}</h1>\n" + "\n".join(parts) + "</article>"
    if not furniture:
        head = f"<head><meta charset='utf-8'><title>{title}</title></head>"
        return f"<!doctype html><html>{head}<body>{article}</body></html>"
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>{html.escape(title)} | World Refugee Review</title></head><body>
<header><a href="/">World Refugee Review</a><nav><ul><li><a href="/news">News</a></li>
<li><a href="/subscribe">Subscribe: a subscription is $5 a month</a></li></ul></nav></header>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies?</div>
<main>{article}</main>
<aside><h3>Most read</h3><p>How much is a subscription? Only $5 a month.</p></aside>
<footer><p>© 2021 World Refugee Review. All rights reserved. editor@example.org</p></footer>
</body></html>"""


def print_pdf(page: Path, pdf: Path, *flags: str) -> None:
    """Chromium's print to PDF, with its running header (date, title) and footer (address,
    page number) on unless `flags` turn them off."""
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            f"--print-to-pdf={pdf}",
            *flags,
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def make_samples(root: Path) -> dict[str, Path]:
    """One folder per format under `root`, each holding the seed article alone."""
    folders = {kind: root / kind for kind in ("html", "pdf", "docx")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    (folders["html"] / "article.html").write_text(article_html(furniture=True), encoding="utf-8")
    plain = root / "plain.html"
    plain.write_text(article_html(furniture=False), encoding="utf-8")
    print_pdf(plain, folders["pdf"] / "article.pdf")
    import pypandoc  # imported here: the section list above is used without pandoc

    pypandoc.convert_file(str(plain), "docx", outputfile=str(folders["docx"] / "article.docx"))
    return folders
