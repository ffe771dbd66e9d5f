"""Example questions for the chat page: questions the corpus answers, written from its own
headings and sentences, and kept only if the pipeline answers each from where it came.

Nothing here knows a corpus. A few sentence shapes of English turn into questions:
- a count: "..., an estimated 400 engineers work in Leeds (...)" → "How many engineers work
  in Leeds?";
- a date: "The Old Bridge opened in 1887." → "When did the Old Bridge open?", and "The mill
  was built in 1790." → "When was the mill built?";
- an agent: "The pump was improved by James Watt." → "Who improved the pump?";
- a definition: "A socket is an endpoint ..." → "What is a socket?";
and a heading that is a task ("Creating a Socket" → "How do you create a socket?", "How to
install a module" → "How do you install a module?") or a question already. Section numbers
are never part of a question. Each candidate is then asked once through the pipeline, in the
scope the page asks in, and kept only when the answer quotes the sentence it was written
from (or, for a heading, a sentence of its section): so an example never leads to a decline
or to an answer from elsewhere. The result is cached per loaded index (a rebuild loads a new
one) and per scope.
"""

import re
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from qa.corpus.blocks import Kind, names_a_part
from qa.corpus.ingest import Document, Sentence
from qa.index.build import Index
from qa.index.vocabulary import Vocabulary
from qa.pipeline import Pipeline
from qa.question.clean import (
    COMMON,
    english_counts,
)
from qa.text import STOP_WORDS

MAX_EXAMPLES = 4
# What finding them may cost, once per index and scope: candidates asked at most (a question
# takes ~25 ms on the seed corpus, ~50 ms on a 1,000-page corpus, on 2 idle cores).
MAX_ASKED = 16
MAX_QUESTION_WORDS = 14
_SCOPES_KEPT = 64  # scopes whose examples are kept per index

_SPACE = re.compile(r"\s+")
_NUMBERING = re.compile(
    r"^(?:(?:chapter|section|part|appendix)\s+)?(?:\d+(?:\.\d+)*|[IVXLC]+|[A-Z])[.):]?\s+", re.I
)
_WORD = r"[A-Za-z][\w'’-]*"
# What may stand before a count and is left out of the question.
_QUALIFIER = (
    r"(?:(?:an estimated|estimated|a total of|about|around|approximately|roughly|nearly|almost"
    r"|over|more than|less than|fewer than|at least|up to|some)\s+)*"
)
_COUNT = re.compile(
    r"(?<![\w.,$€£¥%-])"
    + _QUALIFIER
    + r"(?P<number>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+\s+(?:thousand|million|billion)"
    + r"|\s+(?:thousand|million|billion))?)\s+"
    + rf"(?P<noun>(?:{_WORD}\s+){{0,3}}{_WORD}s)\s+"
    + rf"(?P<verb>{_WORD})(?P<rest>[^,;:()\[\]“”\"]*)"
)
_NUMBER = (
    r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+\s+(?:thousand|million|billion)|\s+(?:thousand|million"
    r"|billion))?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty"
    r"|thirty|forty|fifty|hundreds|thousands|dozens)"
)
_OBJECT_COUNT = re.compile(
    _QUALIFIER + rf"{_NUMBER}\s+(?P<noun>(?:{_WORD}\s+){{0,2}}{_WORD}s)\b(?P<rest>.*)$"
)
_UNIT = re.compile(
    r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centuries|miles?|metres?"
    r"|meters?|kilometres?|kilometers?|km|feet|foot|inches|yards?|percent|per|cent|dollars?"
    r"|pounds?|euros?|tons?|tonnes?|kilograms?|kg|grams?|litres?|liters?|times|bytes?|bits?"
    r"|dpi|pixels?|points?|characters?|lines?|pages?)",
    re.I,
)
_DURATION = re.compile(
    _QUALIFIER + rf"(?:{_NUMBER}|an?|one)\s+(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?"
    r"|decades?|centuries|century)\b"
)
_YEAR = r"(?:1[0-9]{3}|20[0-9]{2})"
_DATE = re.compile(
    rf"^(?P<object>(?:[\w'’-]+\s+){{0,5}}?)in\s+(?:(?:early|late|mid)\s+)?(?:[A-Z][a-z]+\s+)?"
    rf"{_YEAR}\b"
)
_PASSIVE_DATE = re.compile(
    rf"^(?:first\s+)?(?P<verb>[a-z]+ed|built|made|written|founded|born)\s+in\s+"
    rf"(?:[A-Z][a-z]+\s+)?{_YEAR}\b"
)
_AGENT = re.compile(r"^(?:first\s+)?(?P<verb>[a-z]+ed)\s+by\s+[A-Z]")
_MEANS = re.compile(
    r"^(?P<object>(?:[\w'’-]+\s+){1,5}?)(?:first\s+|mainly\s+|mostly\s+|largely\s+|usually\s+)?"
    r"by\s+(?:the|a|an|its|their|his|her|\w+ing)\b"
)
_USED = re.compile(r"^(?:mainly\s+|mostly\s+|often\s+|commonly\s+)?used\s+(?:to|for)\s+\w")
_DEFINES = re.compile(r"^(?:a|an|the|one of the)\s+[a-z]")
_TASK = re.compile(rf"^(?P<verb>[A-Z][a-z]+ing)\s+(?P<rest>(?:{_WORD}\s*){{1,7}})$")
_HOW_TO = re.compile(r"^how to\s+(?P<rest>.+)$", re.I)
# A count after one of these is the object of something else ("30 out of 40 applications").
_PREPOSITIONS = frozenset(
    "of by to from with for at on in into among between per than out about under over without "
    "within upon across along around behind beyond during except inside outside since toward "
    "towards via like unlike".split()
)
# Nouns that point at something said elsewhere: "the latter", "the first case".
_POINTING = frozenset(
    "following above below latter former first second third last next other another same "
    "case example rationale reason result answer problem solution idea way point thing one "
    "ones rest remainder syntax list reverse opposite alternative table figure section "
    "chapter page paragraph always perhaps sometimes nevertheless otherwise thus hence".split()
)
_FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|must|should|can|could|will|would|may)\b")
_DETERMINERS = frozenset(
    "a an the your its their his her this these that those our my each every most many some".split()
)
_NOUN = re.compile(r"[A-Za-z][\w'’/.+-]*[\w]|[A-Za-z]")
_AUXILIARIES = frozenset("are were have had did do".split())
# Verbs that link a subject to what it is ("remains the most popular"), not to an object.
_LINKING = frozenset("have remain become seem appear stay look sound feel prove".split())
_BE_OR_HAVE = frozenset("is are was were has have had".split())
_PRONOUNS = frozenset("it this that these those there he she they we you i one".split())
# Words that end a count's clause: its subject's verb phrase goes no further.
_CLAUSE_ENDS = re.compile(r"\s+(?:as of|and|but|which|who|whereas|while|although|because)\s+.*$")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A question, and where its answer must come from: the sentence it was written from
    (`start`, `end` in `doc_id`), or any sentence of `section` for a heading's."""

    question: str
    doc_id: str
    start: int
    end: int
    section: str | None = None


# --- writing questions ---------------------------------------------------------------------


def without_numbering(heading: str) -> str:
    """A heading without its section number: "3.2. Costs" → "Costs"."""
    return _NUMBERING.sub("", _SPACE.sub(" ", heading).strip())


@dataclass(frozen=True, slots=True)
class Clause:
    """A sentence read as subject, verb and the rest: enough to ask about it. `aux` and
    `base` turn the verb around a question's subject ("keeps" → "does", "keep"); a form of
    "to be" is its own `aux`, with no `base`."""

    subject: str
    verb: str
    rest: str
    aux: str
    base: str | None


class Writer:
    """Writes questions in the corpus's own words, cased as the corpus writes them."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary

    # --- words

    def cased(self, phrase: str) -> str:
        """A phrase as it reads mid-sentence: names and acronyms kept, other words (a title
        case heading's, a sentence's first) in lower case."""
        english = english_counts()
        out = []
        for word in phrase.split():
            bare = word.strip("'’").lower()
            lower = word[:1].isupper() and (
                bare in STOP_WORDS
                # a common English word, unless the corpus writes it as a name; a word it
                # does not know ("Christoph") is more likely a name than not
                or (english.get(bare, 0) >= COMMON and not self.vocabulary.is_name(bare))
            )
            acronym = len(word) > 1 and word.isupper()
            out.append(word.lower() if lower and not acronym else word)
        return " ".join(out)

    def base_form(self, inflected: str, suffix: str) -> str | None:
        """The base form of a verb in `-ing` or `-ed`, if the corpus writes it (so that a
        noun in -ing is not taken for a task): "creating" → "create", "opened" → "open"."""
        stem = inflected[: -len(suffix)].lower()
        if len(stem) < 2:
            return None
        forms = [stem + "e", stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else "", stem]
        if suffix == "ed" and stem.endswith("i"):
            forms.insert(0, stem[:-1] + "y")  # "carried" → "carry"
        for form in forms:
            if form and form in self.vocabulary and form not in STOP_WORDS:
                return form
        return None

    def subject(self, words: list[str]) -> str | None:
        """Words that open a sentence as a question's subject, or None when they are not a
        plain noun phrase that stands on its own: a pronoun, a word that points elsewhere
        ("the latter", "the first case", "another possibility"), a function word, a clause."""
        if not words or words[0].lower() in _PRONOUNS:
            return None
        head = words[1:] if words[0].lower() in _DETERMINERS else words
        if (
            not head
            or any(w.lower() in STOP_WORDS | _POINTING for w in head)
            or any(not _NOUN.fullmatch(w) for w in head)
            or len(head[-1]) < 2
            or (head[0].endswith("ing") and not self.vocabulary.is_name(head[0]))
        ):
            return None
        return self.cased(" ".join(words))

    def clause(self, text: str) -> Clause | None:
        """The sentence's subject (up to five words) and its verb, if it opens with them: a
        form of "to be" or "to have" first ("The longest recorded wait was ..."), else a verb
        that an object, a preposition or the end follows ("Direct drive generators remove
        the gearbox")."""
        words = text.split()
        found: list[Clause] = []
        for k in range(1, min(6, len(words) - 1) + 1):
            subject = self.subject(words[:k])
            if subject is None:
                continue
            verb, rest = words[k], " ".join(words[k + 1 :])
            after = words[k + 1].lower() if k + 1 < len(words) else ""
            turned = self._turned(verb, _plural(words[k - 1]))
            if turned is None:
                continue
            if verb in _BE_OR_HAVE:
                return Clause(subject, verb, rest, *turned)
            if not after or after in _DETERMINERS | _PREPOSITIONS or re.match(_NUMBER, after):
                found.append(Clause(subject, verb, rest, *turned))
        return found[0] if found else None

    def _turned(self, verb: str, plural: bool) -> tuple[str, str | None] | None:
        """(auxiliary, base form) that ask with this verb after a subject, if it is one."""
        if not (verb.isalpha() and verb.islower()):
            return None
        if verb in ("is", "was", "are", "were"):
            return verb, None
        if verb in ("has", "have", "had"):
            return {"has": "does", "have": "do", "had": "did"}[verb], "have"
        if verb in STOP_WORDS | _PREPOSITIONS or verb.endswith(("ly", "ing")):
            return None
        if verb.endswith("ed") and len(verb) > 4:
            return "did", self.base_form(verb, "ed") or _regular_base(verb[:-2])
        if not plural and verb.endswith("s") and not verb.endswith(("ss", "us", "is")):
            if verb.endswith("ies"):
                return "does", verb[:-3] + "y"
            if re.search(r"(sh|ch|x|z|o)es$", verb):
                return "does", verb[:-2]
            return "does", verb[:-1]
        if plural and verb in self.vocabulary and not verb.endswith("s"):
            return "do", verb
        return None

    # --- questions

    def from_sentence(self, sentence: str) -> str | None:
        """A question the sentence answers, if it has one of the shapes this knows."""
        text = _SPACE.sub(" ", sentence).strip().rstrip(".!…")
        clause = self.clause(text)
        shapes = (
            self._count(text),
            *(
                (
                    self._how_many(clause),
                    self._how_long(clause),
                    self._when(clause),
                    self._who(clause),
                    self._used_for(clause),
                    self._what(clause),
                    self._how(clause),
                    self._what_does(clause),
                )
                if clause
                else ()
            ),
        )
        for question in shapes:
            if question and len(question.split()) <= MAX_QUESTION_WORDS:
                return question
        return None

    def from_heading(self, heading: str) -> str | None:
        """A question a heading asks: itself when it is one, or a task as "How do you ...?"."""
        text = without_numbering(heading)
        if names_a_part(text) or len(text.split()) > MAX_QUESTION_WORDS:
            return None
        if text.endswith("?") and len(text.split()) >= 3:
            return text[0].upper() + text[1:]
        how_to = _HOW_TO.match(text)
        if how_to:
            return f"How do you {self.cased(how_to['rest'].rstrip('.:'))}?"
        task = _TASK.match(text)
        if task is None:
            return None
        rest = task["rest"].split()
        # "Creating a Socket", "Installing Python Modules"; not "Housing Benefits" (a noun).
        if rest[0].lower() not in _DETERMINERS and not self.vocabulary.is_name(rest[0]):
            return None
        verb = self.base_form(task["verb"], "ing")
        return f"How do you {verb} {self.cased(task['rest'])}?" if verb else None

    def _count(self, text: str) -> str | None:
        """ "..., an estimated 400 engineers work in Leeds" → "How many engineers work in
        Leeds?": a count that is its clause's subject."""
        for match in _COUNT.finditer(text):
            noun, verb = match["noun"], match["verb"]
            before = text[: match.start()].split()[-1:]
            rest = _phrase(match["rest"])
            if (
                # the object of something else ("30 out of 40 claims"), or a label's number
                # ("Line 11 shows", "Table 2 lists")
                (before and before[0].strip("(").lower() in _PREPOSITIONS)
                or (before and before[0][:1].isupper() and not before[0].endswith((",", ";")))
                or not _is_plural_verb(verb)
                or any(w.lower() in STOP_WORDS for w in noun.split())
                or _UNIT.fullmatch(noun.split()[0])
                or noun.endswith(("'s", "’s"))
                or rest is None
                or (not rest and not verb.endswith("ed"))  # "7 days delay": a noun
                # "12 programs executed after /usr is mounted": a participle, not the verb
                or (verb.endswith("ed") and _FINITE.search(rest))
            ):
                continue
            return f"How many {self.cased(noun)} {verb}{' ' + rest if rest else ''}?"
        return None

    def _how_many(self, clause: Clause) -> str | None:
        """ "The port keeps four pilots on duty" → "How many pilots does the port keep on
        duty?": a count that is the verb's object."""
        found = _OBJECT_COUNT.match(clause.rest)
        if clause.base is None or found is None or _UNIT.fullmatch(found["noun"].split()[0]):
            return None
        if any(w.lower() in STOP_WORDS for w in found["noun"].split()):
            return None
        rest = _phrase(found["rest"])
        if rest is None:
            return None
        tail = f" {rest}" if rest else ""
        return f"How many {found['noun']} {clause.aux} {clause.subject} {clause.base}{tail}?"

    def _how_long(self, clause: Clause) -> str | None:
        """ "The longest wait was three days" → "How long was the longest wait?"."""
        if not _DURATION.match(clause.rest):
            return None
        if clause.base is None:
            return f"How long {clause.aux} {clause.subject}?"
        if clause.base in ("take", "last"):
            return f"How long {clause.aux} {clause.subject} {clause.base}?"
        return None

    def _when(self, clause: Clause) -> str | None:
        """ "The mill was built in 1790" → "When was the mill built?"; "Watt patented his
        engine in 1769" → "When did Watt patent his engine?"."""
        if clause.base is None:
            found = _PASSIVE_DATE.match(clause.rest)
            return f"When {clause.aux} {clause.subject} {found['verb']}?" if found else None
        if not clause.verb.endswith("ed"):
            return None
        found = _DATE.match(clause.rest)
        if found is None or _phrase(found["object"]) is None:
            return None
        tail = f" {found['object'].strip()}" if found["object"].strip() else ""
        return f"When {clause.aux} {clause.subject} {clause.base}{tail}?"

    def _who(self, clause: Clause) -> str | None:
        """ "The pump was improved by James Watt" → "Who improved the pump?"."""
        found = _AGENT.match(clause.rest) if clause.base is None else None
        return f"Who {found['verb']} {clause.subject}?" if found else None

    def _used_for(self, clause: Clause) -> str | None:
        """ "A gauge is used to log the tide" → "What is a gauge used for?"."""
        if clause.base is None and _USED.match(clause.rest):
            return f"What {clause.aux} {clause.subject} used for?"
        return None

    def _how(self, clause: Clause) -> str | None:
        """ "Engineers judge a site by the speed of its current" → "How do engineers judge a
        site?"."""
        found = _MEANS.match(clause.rest) if clause.base is not None else None
        if found is None or not _plain_subject(clause.subject):
            return None
        thing = found["object"].strip()
        if _phrase(thing) != thing:
            return None
        return f"How {clause.aux} {clause.subject} {clause.base} {thing}?"

    def _what_does(self, clause: Clause) -> str | None:
        """ "The debuild command runs the lintian command" → "What does the debuild command
        run?": what a subject does to an object."""
        if clause.base is None or clause.base in _LINKING or not _plain_subject(clause.subject):
            return None
        if clause.rest.split()[:1] and clause.rest.split()[0].lower() in ("a", "an", "the"):
            return f"What {clause.aux} {clause.subject} {clause.base}?"
        return None

    def _what(self, clause: Clause) -> str | None:
        """ "A socket is an endpoint ..." → "What is a socket?"."""
        if clause.base is not None or clause.aux not in ("is", "are"):
            return None
        if not _DEFINES.match(clause.rest):
            return None
        first = clause.subject.split()[0]
        head = clause.subject.split()[-1]
        if first.lower() in _DETERMINERS - {"a", "an", "the"}:
            return None  # "What is each value?" asks nothing
        if first.lower() not in _DETERMINERS and not (
            self.vocabulary.is_name(first) or not head.isalpha()
        ):
            return None  # "module is the name of ...": a term from a list, not a subject
        return f"What {clause.aux} {clause.subject}?"


def _plain_subject(subject: str) -> bool:
    """A subject named by a noun, an article or a name, not a quantifier ("each pilot")."""
    first = subject.split()[0].lower()
    return first in ("a", "an", "the") or first not in _DETERMINERS


def _regular_base(stem: str) -> str:
    """A regular verb's base from its past form less "ed", by English spelling: "patent",
    "create", "stop"."""
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsfz":
        return stem[:-1]
    if re.search(r"(at|iz|is|ur|ut|bl|pl|tl|dl|iv|ic|ac|uc|ag|ng|nc|us|os|rs|ns|v)$", stem):
        return stem + "e"
    return stem


def _plural(word: str) -> bool:
    """Whether a noun reads as plural: "pilots", not "process", "analysis" or "its"."""
    return (
        word.endswith("s") and not word.endswith(("ss", "us", "is", "'s", "’s"))
    ) or word.lower() in ("people", "children", "men", "women", "data")


def _phrase(rest: str) -> str | None:
    """The rest of a clause as the end of a question: cut where another clause starts (a
    comma, "and", "which", "as of"), or None when what is left does not belong in one (a
    number, a pronoun, too many words)."""
    rest = _CLAUSE_ENDS.sub("", re.split(r"[,;:()\[\]“”\"]", rest, maxsplit=1)[0])
    rest = re.sub(rf"(?:^|\s+)in\s+(?:[A-Z][a-z]+\s+)?{_YEAR}$", "", rest.strip())
    rest = rest.rstrip(" .!?…")
    words = rest.split()
    if (
        len(words) > 7
        or any(c.isdigit() for c in rest)  # a comparison: "24 bytes compared to 6"
        or any(w.lower() in _PRONOUNS for w in words)  # a clause of its own
    ):
        return None
    return rest


def _is_plural_verb(word: str) -> bool:
    """Whether a word after a count's noun may be its verb: a plural subject's ("work",
    "settled", "have"), not a function word, an adverb or a participle in -ing."""
    lower = word.lower()
    return (
        word.isalpha()
        and word.islower()
        and (lower not in STOP_WORDS or lower in _AUXILIARIES)
        and not lower.endswith(("ly", "ing"))
        and not (lower.endswith("s") and not lower.endswith("ss"))
    )


def candidates(index: Index, doc_ids: Sequence[str]) -> list[list[Candidate]]:
    """Every question written from each document, in its order: a section's heading first,
    then its sentences."""
    writer = Writer(index.vocabulary)
    sentences: dict[str, list[Sentence]] = {doc_id: [] for doc_id in doc_ids}
    for sentence in index.sentences:
        if sentence.doc_id in sentences:
            sentences[sentence.doc_id].append(sentence)
    return [_written(writer, index.documents[d], sentences[d]) for d in doc_ids]


def _written(writer: Writer, document: Document, sentences: list[Sentence]) -> list[Candidate]:
    found: list[Candidate] = []
    headings = sorted((h for h in document.headings if h.level > 0), key=lambda h: h.start)
    h = 0
    for sentence in sentences:
        while h < len(headings) and headings[h].start < sentence.start:
            heading = headings[h]
            text = document.text[heading.start : heading.end]
            question = writer.from_heading(text)
            if question:
                found.append(Candidate(question, document.doc_id, heading.end, heading.end, text))
            h += 1
        if document.kind_at(sentence.start) != Kind.BODY:
            continue  # a table row, code or a footnote: not where a question's answer reads
        question = writer.from_sentence(document.text[sentence.start : sentence.end])
        if question:
            found.append(Candidate(question, document.doc_id, sentence.start, sentence.end))
    # A question written twice is asked once, from its first place.
    return list({c.question.casefold(): c for c in reversed(found)}.values())[::-1]


def spread(by_document: Sequence[list[Candidate]]) -> Iterator[Candidate]:
    """Candidates in the order to try them: one document after another, and within a
    document, over its sections from first to last (halving the gaps), not its first few."""
    orders = [_spread_order(len(found)) for found in by_document]
    for rank in range(max(map(len, orders), default=0)):
        for found, order in zip(by_document, orders, strict=True):
            if rank < len(order):
                yield found[order[rank]]


def _spread_order(n: int) -> list[int]:
    """0, n-1, then the middles of the gaps: indices spread over a list of n."""
    if n <= 2:
        return list(range(n))
    order, seen = [0, n - 1], {0, n - 1}
    gaps = [(0, n - 1)]
    while gaps:
        next_gaps = []
        for lo, hi in gaps:
            mid = (lo + hi) // 2
            if mid not in seen:
                seen.add(mid)
                order.append(mid)
            if mid - lo > 1:
                next_gaps.append((lo, mid))
            if hi - mid > 1:
                next_gaps.append((mid, hi))
        gaps = next_gaps
    return order


# --- keeping what the pipeline answers ---------------------------------------------------


def answered_from(pipeline: Pipeline, candidate: Candidate, doc_ids: Sequence[str] | None) -> bool:
    """Whether the pipeline answers the question from where it was written."""
    answer = pipeline.ask(candidate.question, doc_ids=doc_ids).answer
    if not answer.answered or not answer.citations:
        return False
    first = answer.citations[0]
    if first.doc_id != candidate.doc_id:
        return False
    if candidate.section is not None:
        return first.section == candidate.section
    return first.start <= candidate.start < first.end


@dataclass(frozen=True, slots=True)
class Examples:
    questions: list[str]
    asked: int  # candidates asked through the pipeline
    seconds: float


def find_examples(
    pipeline: Pipeline, doc_ids: Sequence[str] | None = None, *, limit: int = MAX_EXAMPLES
) -> Examples:
    """Up to `limit` questions the pipeline answers, spread over the documents (those of
    `doc_ids`, or the whole corpus), each asked once, `MAX_ASKED` at most."""
    started = time.perf_counter()
    index = pipeline.index
    chosen = list(dict.fromkeys(doc_ids)) if doc_ids else list(index.documents)
    kept: list[str] = []
    asked = 0
    for candidate in spread(candidates(index, chosen)):
        if len(kept) >= limit or asked >= MAX_ASKED:
            break
        asked += 1
        if answered_from(pipeline, candidate, doc_ids):
            kept.append(candidate.question)
    return Examples(kept, asked, round(time.perf_counter() - started, 3))


_cache: "weakref.WeakKeyDictionary[Pipeline, dict[tuple[str, ...], Examples]]" = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def examples(pipeline: Pipeline, doc_ids: Sequence[str] | None = None) -> list[str]:
    """The example questions for a page asking in this scope: found once per loaded index
    and scope, then served from memory."""
    scope = tuple(sorted(set(doc_ids))) if doc_ids else ()
    with _lock:
        found = _cache.setdefault(pipeline, {})
        if scope not in found:
            if len(found) >= _SCOPES_KEPT:
                found.pop(next(iter(found)))
            found[scope] = find_examples(pipeline, list(scope) or None)
        return list(found[scope].questions)
