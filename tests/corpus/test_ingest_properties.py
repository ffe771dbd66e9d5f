"""Property tests of ingest: any text parses, and every unit's offsets are verbatim and ordered."""

from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.corpus.ingest import Chunks, Document, chunk, parse_document
from qa.corpus.sentences import split_sentences

PROPERTY = settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
MAX_PASSAGE_CHARS = (1, 40, 200, 1200)

_LINES = st.sampled_from(
    [
        "",
        " ",
        "\t",
        "Background",
        "Part 1",
        "# Title",
        "## Section two ##",
        "###### deep",
        "#no space",
        "North Koreans in Canada",
        "The first sentence. The second one!",
        "Mr. Smith went to Washington, D.C. in 1999.",
        "It continues on the next line",
        "and ends here.",
        "defines a refugee as:",
        "- a list item",
        "* another item",
        "1. numbered",
        "2) numbered too",
        "```",
        "~~~",
        "“Quoted.”",
        '"',
        "...",
        "…",
        "?!",
        "(see above)",
        "e.g. this, i.e. that; etc.",
        "탈북자는 캐나다에 산다.",
        "Беженцы живут в Канаде.",
        "اللاجئون يعيشون في كندا.",
        "\u200bzero\u200fwidth\u202e",
        "emoji 😀 here.",
        "\x00\x01 control",
    ]
)
_BREAKS = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r", "\n\n", "\u2028", "\x0c", "\x85"])


@st.composite
def _structured_text(draw) -> str:
    """Text built from short lines, blank lines, headings and punctuation."""
    lines = draw(st.lists(st.one_of(_LINES, st.text(max_size=30)), max_size=25))
    out = []
    for line in lines:
        out.append(line)
        out.append(draw(_BREAKS))
    if out and draw(st.booleans()):
        out.pop()  # sometimes no final line break
    return "".join(out)


TEXTS = st.one_of(st.text(), _structured_text())
DOC_IDS = st.sampled_from(["x.txt", "x.md"])


def _chunks(doc_id: str, text: str, max_chars: int) -> tuple[Document, Chunks]:
    document = parse_document(doc_id, text)
    return document, chunk([document], max_chars)


def _is_trimmed_and_nonempty(text: str, start: int, end: int) -> bool:
    piece = text[start:end]
    return bool(piece) and piece == piece.strip()


@PROPERTY
@given(text=TEXTS)
def test_plain_text_parsing_never_raises(text):
    document = parse_document("x.txt", text)
    assert document.text == text


@PROPERTY
@given(text=TEXTS)
def test_markdown_parsing_never_raises(text):
    document = parse_document("x.md", text)
    assert document.text == text


@PROPERTY
@given(doc_id=DOC_IDS, text=TEXTS, max_chars=st.sampled_from(MAX_PASSAGE_CHARS))
def test_passages_are_nonempty_and_trimmed(doc_id, text, max_chars):
    document, chunks = _chunks(doc_id, text, max_chars)
    for p in chunks.passages:
        assert _is_trimmed_and_nonempty(document.text, p.start, p.end), (p, text)


@PROPERTY
@given(doc_id=DOC_IDS, text=TEXTS, max_chars=st.sampled_from(MAX_PASSAGE_CHARS))
def test_sentences_are_nonempty_and_trimmed(doc_id, text, max_chars):
    document, chunks = _chunks(doc_id, text, max_chars)
    for s in chunks.sentences:
        assert _is_trimmed_and_nonempty(document.text, s.start, s.end), (s, text)


@PROPERTY
@given(doc_id=DOC_IDS, text=TEXTS, max_chars=st.sampled_from(MAX_PASSAGE_CHARS))
def test_sentences_lie_inside_their_passage(doc_id, text, max_chars):
    _, chunks = _chunks(doc_id, text, max_chars)
    for p in chunks.passages:
        assert p.sentence_ids, p
        for sid in p.sentence_ids:
            s = chunks.sentences[sid]
            assert s.passage_id == p.id
            assert p.start <= s.start < s.end <= p.end, (p, s, text)


@PROPERTY
@given(doc_id=DOC_IDS, text=TEXTS, max_chars=st.sampled_from(MAX_PASSAGE_CHARS))
def test_passages_lie_inside_the_document(doc_id, text, max_chars):
    document, chunks = _chunks(doc_id, text, max_chars)
    for p in chunks.passages:
        assert p.doc_id == document.doc_id
        assert 0 <= p.start < p.end <= len(document.text), (p, text)


@PROPERTY
@given(doc_id=DOC_IDS, text=TEXTS, max_chars=st.sampled_from(MAX_PASSAGE_CHARS))
def test_passages_are_ordered_without_overlap(doc_id, text, max_chars):
    _, chunks = _chunks(doc_id, text, max_chars)
    for a, b in pairwise(chunks.passages):
        assert a.end <= b.start, (a, b, text)


@PROPERTY
@given(doc_id=DOC_IDS, text=TEXTS, max_chars=st.sampled_from(MAX_PASSAGE_CHARS))
def test_sentences_are_ordered_without_overlap(doc_id, text, max_chars):
    _, chunks = _chunks(doc_id, text, max_chars)
    assert [s.id for s in chunks.sentences] == list(range(len(chunks.sentences)))
    for a, b in pairwise(chunks.sentences):
        assert a.end <= b.start, (a, b, text)


@PROPERTY
@given(text=TEXTS)
def test_split_sentences_spans_are_verbatim(text):
    for s, e in split_sentences(text):
        assert _is_trimmed_and_nonempty(text, s, e), ((s, e), text)


@PROPERTY
@given(text=TEXTS)
def test_split_sentences_spans_are_ordered(text):
    spans = split_sentences(text)
    for (_, e1), (s2, _) in pairwise(spans):
        assert e1 <= s2, (spans, text)
    assert all(0 <= s < e <= len(text) for s, e in spans), (spans, text)
