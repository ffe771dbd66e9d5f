"""What users said of answers (`POST /api/feedback`): kept in SQLite, exported as a gold set.

The database lives beside the index (`index/feedback.sqlite3`, or `QA_FEEDBACK`), outside the
builds that a rebuild replaces and outside what `make clean` removes. Each row keeps the
index build it was given on (the manifest's `built_at`) and, when the user chose the span
that answers, that span's text as the document read then, so the row still teaches after
the document changes.

`gold_items` turns rows into the contract's gold format (what `qa eval` scores and
`qa train --feedback` fits on), with the extension fields `wrong_answers`, `source`,
`built`, `rating` and `created`.
"""

import json
import logging
import re
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from qa.errors import QAError

log = logging.getLogger(__name__)

Rating = Literal["up", "down"]
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    question TEXT NOT NULL,
    history TEXT NOT NULL,
    answer TEXT NOT NULL,
    answered INTEGER,
    citations TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT,
    doc_id TEXT,
    span_start INTEGER,
    span_end INTEGER,
    span_text TEXT,
    built TEXT NOT NULL
)
"""
COLUMNS = (
    "id, created, question, history, answer, answered, citations, rating, comment, doc_id, "
    "span_start, span_end, span_text, built"
)
# Several writers (the server's threads, or another server on the same index) wait this
# long for each other's transaction rather than fail.
BUSY_SECONDS = 10.0
# The `[n]` marker after each quoted span of an answer.
MARKER = re.compile(r"\s*\[\d+\]")


class FeedbackError(QAError):
    """The feedback database cannot be opened, read or written."""


@dataclass(frozen=True, slots=True)
class Span:
    """The span the user said answers the question: `text` is `document[start:end]`."""

    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Feedback:
    """One user's verdict on one answer, as posted (and, once stored, its id and time)."""

    question: str
    answer: str
    rating: Rating
    built: str  # the index build the answer came from: its manifest's `built_at`
    history: list[dict[str, str]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    answered: bool | None = None  # None: not said; read from the answer's `[n]` markers
    comment: str | None = None
    span: Span | None = None
    id: int | None = None
    created: str | None = None

    @property
    def was_answered(self) -> bool:
        """Whether the answer answered (rather than declined): as posted, else whether it
        carries `[n]` markers, which only answers do."""
        if self.answered is not None:
            return self.answered
        return MARKER.search(self.answer) is not None

    def quotes(self) -> list[str]:
        """The sentences the answer quoted: its citations' quotes, else its own text cut at
        its `[n]` markers."""
        quotes = [c["quote"] for c in self.citations if str(c.get("quote") or "").strip()]
        if quotes:
            return quotes
        return [part.strip() for part in MARKER.split(self.answer)[:-1] if part.strip()]


class FeedbackStore:
    """The feedback database: created on the first write; a connection per call, so any
    thread may use one store, and WAL, so reading never blocks a writer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # one writer at a time in this process

    def add(self, feedback: Feedback) -> int:
        """Store `feedback`; its new id. FeedbackError when the database cannot be written."""
        span = feedback.span
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            feedback.question,
            json.dumps(feedback.history, ensure_ascii=False),
            feedback.answer,
            None if feedback.answered is None else int(feedback.answered),
            json.dumps(feedback.citations, ensure_ascii=False),
            feedback.rating,
            feedback.comment,
            span.doc_id if span else None,
            span.start if span else None,
            span.end if span else None,
            span.text if span else None,
            feedback.built,
        )
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS)
                try:
                    self._prepare(conn)
                    with conn:
                        cursor = conn.execute(
                            f"INSERT INTO feedback ({COLUMNS.removeprefix('id, ')}) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            row,
                        )
                    return int(cursor.lastrowid or 0)
                finally:
                    conn.close()
            except (sqlite3.Error, OSError) as exc:
                raise FeedbackError(
                    f"cannot write the feedback database {self.path}: {exc}"
                ) from exc

    def all(self) -> list[Feedback]:
        """Every stored feedback, oldest first; none when the database is not made yet."""
        if not self.path.exists():
            return []
        try:
            # mode=rw: reading never creates a database where there was none.
            conn = sqlite3.connect(
                self.path.resolve().as_uri() + "?mode=rw", uri=True, timeout=BUSY_SECONDS
            )
            try:
                rows = conn.execute(f"SELECT {COLUMNS} FROM feedback ORDER BY id").fetchall()
            finally:
                conn.close()
            return [_feedback(row) for row in rows]
        except (sqlite3.Error, OSError, ValueError, TypeError) as exc:
            raise FeedbackError(f"cannot read the feedback database {self.path}: {exc}") from exc

    @staticmethod
    def _prepare(conn: sqlite3.Connection) -> None:
        """The table, made once; WAL is kept by the file itself once set."""
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"the database's schema is version {version}; this qa reads {SCHEMA_VERSION}"
            )
        conn.execute("PRAGMA journal_mode=WAL")
        with conn:
            conn.execute(SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _feedback(row: tuple[Any, ...]) -> Feedback:
    (id_, created, question, history, answer, answered, citations, rating, comment,
     doc_id, start, end, text, built) = row  # fmt: skip
    return Feedback(
        id=id_,
        created=created,
        question=question,
        history=json.loads(history),
        answer=answer,
        answered=None if answered is None else bool(answered),
        citations=json.loads(citations),
        rating=rating,
        comment=comment,
        span=Span(doc_id, start, end, text) if doc_id is not None else None,
        built=built,
    )


# --- as a gold set ---------------------------------------------------------------------------

SKIP_DECLINE_DOWN = "'not helpful' on a decline, with no passage chosen"
SKIP_NO_QUOTES = "an answer without quoted sentences"


@dataclass(slots=True)
class GoldExport:
    """The gold items the feedback makes, and how many rows taught nothing, by reason."""

    items: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def gold_items(rows: list[Feedback]) -> GoldExport:
    """Each row that teaches something, as a gold item:

    - a chosen span: answerable, and the span's text is the answer (quotes are whole
      sentences, so an answer quoting that sentence again is right);
    - "helpful" on an answer: answerable, its quoted sentences the answers (the user judged
      each part of the answer; an answer that quotes any of them again is right);
    - "helpful" on a decline: unanswerable;
    - "not helpful" on an answer, nothing chosen: `wrong_answers` lists its quoted sentences
      and `answerable` is false, which is what the user said as far as `qa eval` can score
      it (declining beats that answer); `qa train` learns from it only that those sentences
      do not answer the question (see training.collect);
    - "not helpful" on a decline with nothing chosen says an answer exists but not where,
      and is skipped.
    """
    export = GoldExport()
    for row in rows:
        item: dict[str, Any] = {"id": f"feedback-{row.id}", "question": row.question}
        quotes = row.quotes()
        if row.span is not None:
            item |= {"answers": [row.span.text], "answerable": True}
        elif not row.was_answered:
            if row.rating == "down":
                export.skipped[SKIP_DECLINE_DOWN] += 1
                continue
            item |= {"answers": [], "answerable": False}
        elif not quotes:
            export.skipped[SKIP_NO_QUOTES] += 1
            continue
        elif row.rating == "up":
            item |= {"answers": quotes, "answerable": True}
        else:
            item |= {"answers": [], "answerable": False, "wrong_answers": quotes}
        item["history"] = [
            {"question": t.get("question", ""), "answer": t.get("answer", "")} for t in row.history
        ]
        if row.span is not None:
            item["doc"] = row.span.doc_id
        item |= {"source": "feedback", "built": row.built, "rating": row.rating}
        item["created"] = row.created
        if row.comment:
            item["comment"] = row.comment
        export.items.append(item)
    return export


def write_jsonl(path: Path, items: list[dict[str, Any]]) -> None:
    """One item a line, UTF-8; an empty file for no items."""
    path.write_text(
        "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), encoding="utf-8"
    )
