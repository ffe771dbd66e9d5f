"""Corpus → documents → sections, passages and sentences, each with character offsets.

Every unit keeps `start` and `end` into its document's text, so `text[start:end]` is the
unit verbatim: that is what makes citations exact.
"""

import bisect
import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa.corpus.blocks import QUOTED, TITLE, Block, Kind, clean, names_a_part
from qa.corpus.formats import READERS
from qa.corpus.sentences import split_sentences
from qa.errors import CorpusError

log = logging.getLogger(__name__)

DOCUMENT_SUFFIXES = (".txt", ".md", *READERS)
# A larger file is skipped with a warning: most likely a data dump, not prose to quote.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
_HEADING_MAX_CHARS = 80
_HEADING_MAX_WORDS = 12
# A line ending in one of these closes a sentence, so it is not a heading and the next
# line does not continue it.
_CLOSING = tuple(".!?:;,…\"”’'")
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_MD_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_MD_FENCE = re.compile(r"^\s*(```|~~~)")
# A YAML metadata block at the top of the file (pandoc, static site generators).
_MD_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_MD_FRONT_TITLE = re.compile(r"^title:[ \t]*(['\"]?)(.+?)\1[ \t]*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading line: where it is and how deep (0 is the document title)."""

    start: int
    end: int
    level: int


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph's span and the section it sits in."""

    section: str
    start: int
    end: int


@dataclass(slots=True)
class Document:
    """One corpus file as read, with its structure."""

    doc_id: str
    title: str
    text: str
    headings: list[Heading] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)
    # Where each page of a PDF begins in `text`: (offset, 1-based page), in order.
    pages: list[tuple[int, int]] = field(default_factory=list)
    # The blocks that are not body prose: (start, end, kind), in order (formats.Kind).
    kinds: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def page_at(self, offset: int) -> int | None:
        """The page `text[offset]` is on; None for a format without pages."""
        if not self.pages:
            return None
        i = bisect.bisect_right(self.pages, (offset, float("inf"))) - 1
        return self.pages[max(i, 0)][1]

    def kind_at(self, offset: int) -> Kind:
        """The kind of block `text[offset]` is in: body prose unless marked otherwise."""
        i = bisect.bisect_right(self.kinds, (offset, float("inf"), "")) - 1
        if i >= 0 and self.kinds[i][0] <= offset < self.kinds[i][1]:
            return Kind(self.kinds[i][2])
        return Kind.BODY


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieval unit: a paragraph, or a run of sentences of a long one."""

    id: int
    doc_id: str
    section: str
    start: int
    end: int
    sentence_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Sentence:
    """An answer unit: one sentence of a passage."""

    id: int
    passage_id: int
    doc_id: str
    start: int
    end: int


@dataclass(slots=True)
class Chunks:
    """All passages and sentences of a corpus, numbered in document order."""

    passages: list[Passage]
    sentences: list[Sentence]


# --- reading the corpus -------------------------------------------------------------------


def is_document_name(rel: Path) -> bool:
    """Whether a path relative to the corpus folder names a document: a known suffix, and
    no hidden file or folder on the way."""
    return rel.suffix.lower() in DOCUMENT_SUFFIXES and not any(
        part.startswith(".") for part in rel.parts
    )


def corpus_files(corpus_dir: Path) -> Iterator[tuple[str, Path]]:
    """(doc_id, path) of every document under `corpus_dir`, sorted, never outside it."""
    root = corpus_dir.resolve()
    for path in sorted(corpus_dir.rglob("*")):
        rel = path.relative_to(corpus_dir)
        if not is_document_name(rel) or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            log.warning("skipping %s: it points outside the corpus folder", rel.as_posix())
            continue
        yield rel.as_posix(), path


def read_text(path: Path) -> str:
    """The file's text as the contract defines it: UTF-8, universal newlines."""
    with path.open(encoding="utf-8", newline=None) as f:
        return f.read()


class SkippedError(CorpusError):
    """A corpus file that is not indexed, and why (huge, unreadable, binary or empty)."""


def oversize(path: Path, max_bytes: int) -> SkippedError | None:
    """Why a file is too large to read, or None when it is not."""
    size = path.stat().st_size
    return (
        SkippedError(f"{size} bytes, over the {max_bytes}-byte limit") if size > max_bytes else None
    )


def read_document(doc_id: str, path: Path, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> Document:
    """One corpus file read and parsed; raises SkippedError saying why it cannot be indexed."""
    too_large = oversize(path, max_bytes)
    if too_large is not None:
        raise too_large
    reader = READERS.get(path.suffix.lower())
    if reader is not None:
        try:
            document = document_from_blocks(doc_id, reader(path))
        except Exception as exc:  # a damaged file can fail any way inside its parser
            raise SkippedError(str(exc)) from exc
    else:
        try:
            text = read_text(path)
        except (UnicodeDecodeError, OSError) as exc:
            raise SkippedError(f"not readable as UTF-8 text ({exc})") from exc
        if "\x00" in text:
            raise SkippedError("binary content")
        document = parse_document(doc_id, text)
    if not document.paragraphs:
        raise SkippedError("no text to index")
    return document


# Reads (doc_id, path) pairs, skipping files over a size in bytes, and yields in their order
# each one's Document or the SkippedError that says why not: locally (`read_each`) or on a
# cluster (`index.ray_build.RayReader`).
DocumentReader = Callable[[list[tuple[str, Path]], int], Iterator["Document | SkippedError"]]
# Told after each file: how many are read, of how many, and the last one's doc_id.
Progress = Callable[[int, int, str], None]


def read_each(
    files: list[tuple[str, Path]], max_bytes: int = MAX_DOCUMENT_BYTES
) -> Iterator[Document | SkippedError]:
    """The files read one after another in this process."""
    for doc_id, path in files:
        try:
            yield read_document(doc_id, path, max_bytes=max_bytes)
        except SkippedError as exc:
            yield exc


def load_corpus(
    corpus_dir: Path,
    *,
    reader: DocumentReader = read_each,
    progress: Progress | None = None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> list[Document]:
    """Parse every document of the corpus; skip unreadable, huge or empty files with a warning.

    Only the documents' text and structure are kept: each file's parser (a PDF's pages, a
    Word file's XML) is released before the next file is read, so memory grows with the
    text of the corpus, not with the size of its files."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    files = list(corpus_files(corpus_dir))
    documents = []
    for done, ((doc_id, _), result) in enumerate(
        zip(files, reader(files, max_bytes), strict=True), 1
    ):
        if isinstance(result, SkippedError):
            log.warning("skipping %s: %s", doc_id, result)
        else:
            documents.append(result)
        if progress is not None:
            progress(done, len(files), doc_id)
    if not documents:
        kinds = ", ".join(DOCUMENT_SUFFIXES)
        raise CorpusError(f"no documents with text ({kinds}) in {corpus_dir}")
    return documents


def document_from_blocks(doc_id: str, blocks: list[Block]) -> Document:
    """A document whose text is its blocks, one a line with a blank line between them: the
    title first, each paragraph in the section of the heading above it."""
    parts: list[str] = []
    position = 0
    title = next((b.text for b in blocks if b.level == TITLE), _fallback_title(doc_id))
    document = Document(doc_id, title, "")
    section = title
    for block in blocks:
        start = position + (2 if parts else 0)
        end = start + len(block.text)
        # A parser's lone UTF-16 half would make the text unwritable: one character for one.
        parts.append(_LONE_SURROGATE.sub("\ufffd", block.text))
        position = end
        document.pages += [(start + offset, page) for offset, page in block.pages]
        previous = document.paragraphs[-1] if document.paragraphs else None
        if block.level is None and block.kind != Kind.BODY:
            document.kinds.append((start, end, block.kind.value))
        if block.level is None and block.kind not in QUOTED:
            pass  # a figure's labels or a contents line: in the text, never a paragraph
        elif (
            block.level is None
            and block.kind == Kind.BODY
            and previous
            and previous.end == start - 2
            and parts[-2].endswith(":")
            and document.kind_at(previous.start) == Kind.BODY
        ):
            # "... defines a refugee as:" belongs with what follows, as in a .txt file.
            document.paragraphs[-1] = Paragraph(section, previous.start, end)
        elif block.level is None:
            document.paragraphs.append(Paragraph(section, start, end))
        else:
            document.headings.append(Heading(start, end, block.level))
            if block.level != TITLE:
                section = block.text
    document.text = "\n\n".join(parts)
    # Every block marks its first page; only where the page changes is kept.
    document.pages = [
        m for i, m in enumerate(document.pages) if not i or m[1] != document.pages[i - 1][1]
    ]
    return document


def parse_document(doc_id: str, text: str) -> Document:
    """Title, headings and paragraphs of one document, by its file type."""
    if doc_id.lower().endswith(".md"):
        return _parse_markdown(doc_id, text)
    return _parse_plain_text(doc_id, text)


# --- structure ---------------------------------------------------------------------------


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, without its line break."""
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        spans.append((pos, pos + len(body)))
        pos += len(line)
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span so that it has no white space at either end."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def looks_like_heading(line: str) -> bool:
    """A short line that does not end a sentence."""
    line = line.strip()
    return (
        0 < len(line) <= _HEADING_MAX_CHARS
        and len(line.split()) <= _HEADING_MAX_WORDS
        and not line.endswith(_CLOSING)
        and any(c.isalpha() for c in line)
    )


def _parse_plain_text(doc_id: str, text: str) -> Document:
    """First line is the title; a short unpunctuated line before a paragraph is a heading."""
    lines = [_trim(text, s, e) for s, e in _lines(text)]
    nonblank = [(s, e) for s, e in lines if e > s]
    if not nonblank:
        return Document(doc_id, _fallback_title(doc_id), text)
    title_span = nonblank[0]
    title = text[title_span[0] : title_span[1]]
    document = Document(doc_id, title, text, headings=[Heading(*title_span, level=0)])
    body = nonblank[1:]
    heading_flags = _plain_text_headings(text, body)
    section = title
    para: list[int] | None = None  # [start, end] of the paragraph being read
    prev_end = title_span[1]
    for (s, e), is_heading in zip(body, heading_flags, strict=True):
        blank_between = text[prev_end:s].count("\n") > 1
        last_char = text[prev_end - 1 : prev_end]
        continues = para is not None and (
            last_char == ":"  # "... defines a refugee as:" belongs with what follows
            or (not blank_between and not last_char.endswith((*_CLOSING, ")")))
        )
        if is_heading:
            _close(document, section, para)
            para = None
            section = text[s:e]
            document.headings.append(Heading(s, e, level=1))
        elif continues and para is not None:
            para[1] = e  # a hard-wrapped line of the same paragraph
        else:
            _close(document, section, para)
            para = [s, e]
        prev_end = e
    _close(document, section, para)
    return document


def _plain_text_headings(text: str, lines: list[tuple[int, int]]) -> list[bool]:
    """Which lines are headings: heading-like lines that start a block and precede a paragraph.

    A run of heading-like lines ("Part 1" above "Background") counts as headings when a
    paragraph follows the run.
    """
    like = [looks_like_heading(text[s:e]) for s, e in lines]
    flags = [False] * len(lines)
    paragraph_follows = False
    for i in range(len(lines) - 1, -1, -1):
        if not like[i]:
            paragraph_follows = True
            continue
        s = lines[i][0]
        prev_end = lines[i - 1][1] if i else 0
        starts_block = (
            i == 0
            or text[prev_end:s].count("\n") > 1
            or text[prev_end - 1] in '.!?:;”")…'
            or like[i - 1]
        )
        next_line = text[lines[i + 1][0] : lines[i + 1][1]] if i + 1 < len(lines) else ""
        continued = next_line[:1].islower()  # a hard-wrapped sentence, not a heading
        flags[i] = paragraph_follows and starts_block and not continued
    return flags


def _parse_markdown(doc_id: str, text: str) -> Document:
    """`#` headings make sections; blank lines and list items separate paragraphs. The title
    is the metadata block's `title:`, else the first `#` heading unless it names a part of a
    document ("# Abstract")."""
    document = Document(doc_id, _fallback_title(doc_id), text)
    front_title = _front_matter_title(text)
    if front_title:
        document.title = front_title
    section = document.title
    title_found = bool(front_title)  # only the first `#` heading may be the title
    para: list[int] | None = None
    in_fence = False
    for s, e in _lines(text):
        line = text[s:e]
        if _MD_FENCE.match(line):
            in_fence = not in_fence
            _close(document, section, para)
            para = None
            continue
        if in_fence:
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            _close(document, section, para)
            para = None
            level = len(heading.group(1))
            hs = s + heading.start(2)
            he = s + heading.end(2)
            is_title = not title_found and level == 1 and not names_a_part(text[hs:he])
            title_found = title_found or level == 1
            if is_title:
                document.title = section = text[hs:he]
                document.headings.append(Heading(hs, he, level=0))
            else:
                section = text[hs:he]
                document.headings.append(Heading(hs, he, level=level))
            continue
        ts, te = _trim(text, s, e)
        if ts == te:
            _close(document, section, para)
            para = None
        elif para is None or _MD_LIST_ITEM.match(line):
            _close(document, section, para)
            para = [ts, te]
        else:
            para[1] = te
    _close(document, section, para)
    fallback = _fallback_title(doc_id)
    if not title_found and document.paragraphs:
        first = document.paragraphs[0]
        document.title = text[first.start : first.end].split("\n")[0][:_HEADING_MAX_CHARS]
    # Text above the title heading belongs to the document as a whole.
    document.paragraphs = [
        Paragraph(document.title, p.start, p.end) if p.section == fallback else p
        for p in document.paragraphs
    ]
    return document


def _front_matter_title(text: str) -> str:
    """The `title:` of a Markdown file's YAML metadata block, if any."""
    front = _MD_FRONT_MATTER.match(text)
    title = _MD_FRONT_TITLE.search(front.group(1)) if front else None
    return clean(title.group(2)) if title else ""


def _close(document: Document, section: str, para: list[int] | None) -> None:
    if para is not None and para[1] > para[0]:
        document.paragraphs.append(Paragraph(section, para[0], para[1]))


def _fallback_title(doc_id: str) -> str:
    return Path(doc_id).stem.replace("-", " ").replace("_", " ").strip().capitalize()


# --- passages and sentences --------------------------------------------------------------


def chunk(documents: list[Document], max_passage_chars: int) -> Chunks:
    """Split paragraphs into passages (at sentence boundaries) and sentences."""
    passages: list[Passage] = []
    sentences: list[Sentence] = []
    for document in documents:
        for para in document.paragraphs:
            spans = split_sentences(document.text, para.start, para.end)
            for group in _group_sentences(spans, max_passage_chars):
                passage_id = len(passages)
                first_id = len(sentences)
                for s, e in group:
                    sentences.append(Sentence(len(sentences), passage_id, document.doc_id, s, e))
                passages.append(
                    Passage(
                        id=passage_id,
                        doc_id=document.doc_id,
                        section=para.section,
                        start=group[0][0],
                        end=group[-1][1],
                        sentence_ids=tuple(range(first_id, len(sentences))),
                    )
                )
    return Chunks(passages, sentences)


def _group_sentences(spans: list[tuple[int, int]], max_chars: int) -> list[list[tuple[int, int]]]:
    """Greedy runs of consecutive sentences no longer than `max_chars` (one may exceed it)."""
    groups: list[list[tuple[int, int]]] = []
    for span in spans:
        if groups and span[1] - groups[-1][0][0] <= max_chars:
            groups[-1].append(span)
        else:
            groups.append([span])
    return groups
