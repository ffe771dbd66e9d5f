"""Build the real-document development set: `.cache/real-documents/corpus/`.

Every document is made by others or by a real toolchain from a real source, and every
source comes from Debian's package archive through `apt-get download` (no other network).
The folder is flat; a document's id is its file name. The script is idempotent: it skips
what exists and prints what it makes. `make real-documents` installs the tools first.

Documents (source package, tool chain, licence):

- policy.pdf, fhs-3.0.pdf, copyright-format-1.0.html -- debian-policy (4.6.2.0 in
  bookworm), as shipped (the PDFs gunzipped); GPL-2+, the FHS under its own permissive
  licence (the FHS 3.0 copyright notice in the package).
- developers-reference.pdf, best-pkging-practices.html -- developers-reference (12.18),
  as shipped; GPL-2+.
- maint-guide.en.pdf, build.en.html -- maint-guide (1.2.53), as shipped; GPL-2+ (MIT-style
  dual licence, see the package's copyright file).
- python-tutorial-classes.html, python-howto-sockets.html -- python3.11-doc (3.11.2-6+deb12u9),
  Sphinx HTML pages as shipped, with the site's sidebars, navigation bars and footer;
  PSF License Agreement (Python documentation licence).
- python-howto-urllib2.pdf -- python3.11-doc's reStructuredText source of the "HOWTO
  Fetch Internet Resources Using The urllib Package" (Michael Foord), pandoc (rst -> LaTeX,
  `classoption=twocolumn`) then pdflatex: a two-column paper with footnotes; PSF licence.
- python-install-legacy.docx -- python3.11-doc's reStructuredText source of "Installing
  Python Modules (Legacy version)" (Greg Ward), pandoc (rst -> docx): tables, footnotes,
  lists; PSF licence.
- python-asyncio-llapi-index.docx -- python3.11-doc's HTML page "Low-level API Index"
  (asyncio), LibreOffice Writer headless (HTML -> docx): a Word document whose content is
  in tables (with the page's converted navigation around them); PSF licence.
- python-howto-unicode-printed.pdf -- python3.11-doc's HTML page "Unicode HOWTO",
  printed by headless Chromium (`--print-to-pdf`): the browser's print header and footer
  (date, title, file URL, page n/m) on every page; PSF licence.

Usage: python scripts/fetch_real_documents.py [--out DIR]
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "real-documents"
PYDOC = "usr/share/doc/python3.11/html"


@dataclass(frozen=True)
class Shipped:
    """A file taken as shipped from a Debian package (gunzipped when it ends in .gz)."""

    name: str
    package: str
    path: str


@dataclass(frozen=True)
class Made:
    """A file made by a tool chain from a file of a Debian package."""

    name: str
    package: str
    path: str
    make: Callable[[Path, Path], None]


def run(command: list[str], cwd: str | Path | None = None, timeout: float | None = None) -> None:
    """Run a command, failing loudly with its output when it fails."""
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=timeout)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"failed: {' '.join(command)}")


def pandoc() -> str:
    """The pandoc binary: pypandoc-binary's (dev extra) or one on PATH."""
    try:
        import pypandoc  # optional: only the dev extra has it

        return str(pypandoc.get_pandoc_path())
    except (ImportError, OSError):
        found = shutil.which("pandoc")
        if found is None:
            raise SystemExit("pandoc not found: pip install pypandoc-binary") from None
        return found


def need(tool: str) -> str:
    """The path of a command the build needs, or a clear stop naming the make target."""
    found = shutil.which(tool)
    if found is None:
        raise SystemExit(f"{tool} not found: run `make real-documents` (it installs it)")
    return found


def extracted(package: str) -> Path:
    """The package's files, downloaded with apt-get and unpacked once into the cache."""
    root = CACHE / "debs" / package
    if root.is_dir():
        return root
    with tempfile.TemporaryDirectory() as temp:
        run(["apt-get", "download", package], cwd=temp)
        (deb,) = Path(temp).glob("*.deb")
        version = subprocess.run(
            ["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True, check=True
        ).stdout.strip()
        partial = root.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.parent.mkdir(parents=True, exist_ok=True)
        run(["dpkg-deb", "-x", str(deb), str(partial)])
        (partial / "VERSION").write_text(version + "\n")
        partial.rename(root)
    print(f"unpacked {package} {version}")
    return root


def twocolumn_paper(source: Path, out: Path) -> None:
    """reStructuredText -> LaTeX (pandoc, two-column article) -> PDF (pdflatex)."""
    pdflatex = need("pdflatex")
    with tempfile.TemporaryDirectory() as temp:
        tex = Path(temp) / "paper.tex"
        run(
            [
                pandoc(),
                "--standalone",
                "--from=rst",
                "--to=latex",
                "--variable=classoption=twocolumn",
                "--variable=fontsize=10pt",
                "--variable=geometry:margin=2cm",
                f"--output={tex}",
                str(source),
            ]
        )
        for _ in range(2):  # twice, so references and footnote marks settle
            run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=temp)
        shutil.copyfile(tex.with_suffix(".pdf"), out)


def pandoc_docx(source: Path, out: Path) -> None:
    """reStructuredText -> Word (pandoc)."""
    run([pandoc(), "--from=rst", "--to=docx", f"--output={out}", str(source)])


def libreoffice_docx(source: Path, out: Path) -> None:
    """HTML -> Word (LibreOffice Writer, headless, its own user profile)."""
    soffice = need("soffice")
    with tempfile.TemporaryDirectory() as temp:
        run(
            [
                soffice,
                f"-env:UserInstallation=file://{temp}/profile",
                "--headless",
                "--infilter=HTML (StarWriter)",
                "--convert-to",
                "docx:MS Word 2007 XML",
                "--outdir",
                temp,
                str(source),
            ]
        )
        shutil.copyfile(Path(temp) / (source.stem + ".docx"), out)


def chromium_pdf(source: Path, out: Path) -> None:
    """HTML page -> PDF as the browser prints it (header and footer kept)."""
    chromium = need("chromium")
    with tempfile.TemporaryDirectory() as temp:
        pdf = Path(temp) / "page.pdf"
        run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                f"--user-data-dir={temp}/profile",
                f"--print-to-pdf={pdf}",
                source.as_uri(),
            ],
            timeout=300,
        )
        shutil.copyfile(pdf, out)


DOCUMENTS: tuple[Shipped | Made, ...] = (
    Shipped("policy.pdf", "debian-policy", "usr/share/doc/debian-policy/policy.pdf.gz"),
    Shipped("fhs-3.0.pdf", "debian-policy", "usr/share/doc/debian-policy/fhs/fhs-3.0.pdf.gz"),
    Shipped(
        "copyright-format-1.0.html",
        "debian-policy",
        "usr/share/doc/debian-policy/copyright-format-1.0.html",
    ),
    Shipped(
        "developers-reference.pdf",
        "developers-reference",
        "usr/share/developers-reference/developers-reference.pdf",
    ),
    Shipped(
        "best-pkging-practices.html",
        "developers-reference",
        "usr/share/developers-reference/best-pkging-practices.html",
    ),
    Shipped("maint-guide.en.pdf", "maint-guide", "usr/share/doc/maint-guide/maint-guide.en.pdf"),
    Shipped("build.en.html", "maint-guide", "usr/share/doc/maint-guide/html/build.en.html"),
    Shipped("python-tutorial-classes.html", "python3.11-doc", f"{PYDOC}/tutorial/classes.html"),
    Shipped("python-howto-sockets.html", "python3.11-doc", f"{PYDOC}/howto/sockets.html"),
    Made(
        "python-howto-urllib2.pdf",
        "python3.11-doc",
        f"{PYDOC}/_sources/howto/urllib2.rst.txt",
        twocolumn_paper,
    ),
    Made(
        "python-install-legacy.docx",
        "python3.11-doc",
        f"{PYDOC}/_sources/install/index.rst.txt",
        pandoc_docx,
    ),
    Made(
        "python-asyncio-llapi-index.docx",
        "python3.11-doc",
        f"{PYDOC}/library/asyncio-llapi-index.html",
        libreoffice_docx,
    ),
    Made(
        "python-howto-unicode-printed.pdf",
        "python3.11-doc",
        f"{PYDOC}/howto/unicode.html",
        chromium_pdf,
    ),
)


def build(out: Path) -> list[Path]:
    """Make each missing document in `out`; return the ones made."""
    out.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    for document in DOCUMENTS:
        target = out / document.name
        if target.exists():
            continue
        source = extracted(document.package) / document.path
        partial = target.with_name(target.name + ".partial")
        if isinstance(document, Made):
            document.make(source, partial)
            how = document.make.__name__
        elif source.suffix == ".gz":
            with gzip.open(source, "rb") as compressed, partial.open("wb") as plain:
                shutil.copyfileobj(compressed, plain)
            how = "gunzipped"
        else:
            shutil.copyfile(source, partial)
            how = "as shipped"
        partial.rename(target)
        version = (extracted(document.package) / "VERSION").read_text().strip()
        print(f"made {target} ({document.package} {version}, {how}, {target.stat().st_size} B)")
        made.append(target)
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CACHE / "corpus", help="corpus folder")
    args = parser.parse_args()
    made = build(args.out)
    print(f"{len(made)} made, {len(DOCUMENTS) - len(made)} already there, in {args.out}")


if __name__ == "__main__":
    main()
