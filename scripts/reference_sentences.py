"""The real-document gold sets' reference sentences, and how a text is searched for them:
shared by compare_extractors.py (every reader's text) and eval_real_documents.py (qa's).

A reference sentence is found whole when it is in the text with white space collapsed on
both sides. "Joined" also counts it when it is found once the text's soft-hyphen marks are
removed and hyphens at line ends closed up, as a reader of the text would join them.
"""

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO / ".cache" / "real-documents" / "corpus"
# The marks a PDF text layer leaves where a word was hyphenated at a line end: PDFium's
# U+FFFE, the soft hyphen U+00AD, and U+0002 (some producers' hyphen glyph).
SOFT_HYPHENS = ("\ufffe", "\u00ad", "\u0002")
FORMATS = {".pdf": "PDF", ".docx": "Word", ".html": "web page", ".htm": "web page"}
_MARK_AND_BREAK = re.compile("[" + "".join(SOFT_HYPHENS) + r"]\s*")
_LINE_END_HYPHEN = re.compile(r"(?<=[a-z])-\n(?=[a-z])")


def gold_files() -> list[Path]:
    """Every real-document gold set in tests/gold/."""
    return sorted((REPO / "tests" / "gold").glob("real-documents*.jsonl"))


def read_items(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """The gold items as written (reference, page and doc included), by id."""
    items = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                items[str(item["id"])] = item
    return items


def references_by_doc(items: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Each document's reference sentences."""
    found: dict[str, list[str]] = defaultdict(list)
    for item in items.values():
        if item.get("reference"):
            found[item["doc"]].append(item["reference"])
    return found


def format_of(doc_id: str) -> str:
    return FORMATS.get(Path(doc_id).suffix.lower(), "text")


def flat(text: str) -> str:
    return " ".join(text.split())


def soft_hyphens(text: str) -> int:
    return sum(text.count(mark) for mark in SOFT_HYPHENS)


def joined(text: str) -> str:
    """Soft-hyphen marks removed with the line break after them; line-end hyphens closed."""
    return _LINE_END_HYPHEN.sub("", _MARK_AND_BREAK.sub("", text))


def found(text: str, references: list[str]) -> tuple[int, int]:
    """How many references are in the text whole, and how many once it is joined."""
    as_is, as_joined = flat(text), flat(joined(text))
    whole = [flat(r) in as_is for r in references]
    either = [w or flat(r) in as_joined for w, r in zip(whole, references, strict=True)]
    return sum(whole), sum(either)


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
