"""The conversation so far, read once: what the next question leans on, and what was quoted.

Two things come from the history. The question's words: "And in Lyon?" after "How many
students live in Paris?" becomes "How many students live in Lyon?" (the fragment replaces
the matching phrase of the previous question), without a language model. And the sentences
earlier answers quoted, found in the index whoever wrote the answer: `qa`'s own answers
with `[n]` markers, a client's copy without them, a span cut short, or a placeholder such
as "CANNOTANSWER" that quotes nothing. The evidence of each candidate sentence then says
whether it was quoted already and how far it follows the last quote; the fitted model
learns from conversations what those mean.
"""

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from qa.index.build import Index
from qa.question.parse import QUESTION_WORD, NameTest, salient_terms
from qa.text import content_terms

_ELLIPSIS = re.compile(
    r"^\s*(?:(?:and|but|also|so|ok|okay)[,\s]+)?(?:(?:what|how)\s+about|and)\s+(?P<rest>.+?)"
    r"[\s?.!]*$",
    re.I,
)
_BARE_FRAGMENT = re.compile(r"^\s*(?P<rest>[^?]{1,60}?)[\s?.!]*$")
_QUESTION_START = re.compile(
    r"^\s*(what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could|"
    r"would|should|will|has|have|had|tell|list|name|give|describe|explain)\b",
    re.I,
)
_PREPOSITIONS = (
    "in|into|to|from|for|at|on|of|with|by|about|during|since|after|before|between|under|over|"
    "within|outside|across|among|through|toward|towards|against"
)
_LEADING_PREPOSITION = re.compile(rf"^(?P<prep>{_PREPOSITIONS})\s+\S", re.I)
_ENTITY = re.compile(
    r"(?:\bthe\s+)?(?:[A-Z][\w.’'-]*|\d[\d,.]*)(?:\s+(?:of\s+|and\s+|the\s+)?(?:[A-Z][\w.’'-]*|\d[\d,.]*))*"
)
_PRONOUN = re.compile(r"\b(there|they|them|their|it|its|he|she|him|his|her)\b", re.I)
_THERE = re.compile(r"\bthere\b", re.I)
_PERSONAL = re.compile(r"they|them|their|he|she|him|his|her", re.I)
# Words that point back at the previous turn ("In which year was that?").
_ANAPHOR = re.compile(
    r"\b(there|they|them|their|theirs|it|its|he|she|him|his|her|hers|that|this|those|these)\b",
    re.I,
)
_MAX_FRAGMENT_WORDS = 6
_LOWER_WORD = re.compile(r"\b[a-z][\w’'-]*")
# A question with this few content words and no name of its own leans on the previous turn.
_MAX_BARE_TERMS = 2


@dataclass(frozen=True, slots=True)
class Turn:
    """An earlier turn of a chat."""

    question: str
    answer: str = ""


@dataclass(frozen=True, slots=True)
class Resolution:
    """A question as read in its chat: its text, the previous turn it leans on, if any, and
    the words an elliptical follow-up ("and in Brazil?") typed as what is new."""

    text: str
    previous: Turn | None = None
    fragment: str | None = None

    @property
    def follow_up(self) -> bool:
        return self.previous is not None


@dataclass(frozen=True, slots=True)
class Quotes:
    """Sentences the earlier answers of a chat quoted."""

    earlier: frozenset[int] = frozenset()  # by any earlier answer
    last: tuple[int, ...] = ()  # by the last answer, in the order of the text

    def passages(self, index: Index) -> frozenset[int]:
        """The passages the last answer quoted from."""
        return frozenset(index.sentences[s].passage_id for s in self.last)


NO_QUOTES = Quotes()  # a first question
_MARKER = re.compile(r"\s*\[\d+\]\s*")
_ELLIPSIS_MARK = re.compile(r"^(?:\.\.\.|…)\s*|\s*(?:\.\.\.|…)$")
# A piece of an answer with fewer content words than this is too short to say which
# sentence it came from ("I don't know", "Yes.").
MIN_QUOTE_TERMS = 3
# When a piece is not found whole (cut short, or edited at one end), its first and its
# last characters are looked for on their own.
_END_CHARS = 60


class QuoteFinder:
    """Finds the sentences of an index that an answer's text quotes, in any client's form."""

    def __init__(self, index: Index) -> None:
        self.index = index
        flat = [" ".join(index.sentence_text(s).split()) for s in index.sentences]
        self._starts = []
        position = 0
        for text in flat:
            self._starts.append(position)
            position += len(text) + 1
        self._text = " ".join(flat)
        self.sentences = lru_cache(maxsize=4096)(self._sentences)

    def quotes(self, history: Sequence[Turn]) -> Quotes:
        """What the earlier answers of a chat quoted."""
        if not history:
            return NO_QUOTES
        found = [self.sentences(t.answer) for t in history]
        return Quotes(frozenset(s for turn in found for s in turn), found[-1])

    def _sentences(self, answer: str) -> tuple[int, ...]:
        """Sentence ids an answer quotes, in the order it quotes them."""
        ids: list[int] = []
        for piece in _MARKER.split(answer):
            piece = _ELLIPSIS_MARK.sub("", " ".join(piece.split()))
            if len(content_terms(piece)) < MIN_QUOTE_TERMS:
                continue
            for sid in self._span(piece):
                if sid not in ids:
                    ids.append(sid)
        return tuple(ids)

    def _span(self, piece: str) -> range:
        """The sentences a piece covers: found whole, or by its two ends."""
        start = self._text.find(piece)
        if start >= 0:
            return self._covering(start, start + len(piece))
        if len(piece) <= _END_CHARS:
            return range(0)
        head = self._text.find(piece[:_END_CHARS])
        tail = self._text.find(piece[-_END_CHARS:])
        if head >= 0 and tail >= head:
            covered = self._covering(head, tail + _END_CHARS)
            if len(covered) <= len(piece) // _END_CHARS + 2:  # the ends belong together
                return covered
        if head >= 0:
            return self._covering(head, head + _END_CHARS)
        if tail >= 0:
            return self._covering(tail, tail + _END_CHARS)
        return range(0)

    def _covering(self, start: int, end: int) -> range:
        first = bisect.bisect_right(self._starts, start) - 1
        last = bisect.bisect_right(self._starts, end - 1) - 1
        return range(first, last + 1)


def resolve_turn(
    question: str, history: Sequence[Turn], is_name: NameTest | None = None
) -> Resolution:
    """Read a question in the light of the chat so far (turns oldest first). `is_name` tells
    the corpus's names, so that a chat typed in lower case ("and china?") is read like one
    typed with capitals."""
    if not history:
        return Resolution(question)
    if is_name is not None:
        question = truecase(question, is_name)
        history = [Turn(truecase(t.question, is_name), t.answer) for t in history]
    questions = [t.question for t in history]
    text = resolve(question, questions)
    if not is_follow_up(question):
        return Resolution(text)
    previous_text = resolve(questions[-1], questions[:-1])
    if not content_terms(text):
        # "Why?", "When was that?", "How so?": the question is about the previous one.
        text = f"{question.strip().rstrip('?.! ')}? ({previous_text.rstrip(' ?.!')}?)"
    return Resolution(text, Turn(previous_text, history[-1].answer), _fragment(question))


def truecase(text: str, is_name: NameTest) -> str:
    """`text` with each word typed in lower case that the corpus writes as a name capitalised."""
    return _LOWER_WORD.sub(
        lambda m: m.group(0)[0].upper() + m.group(0)[1:] if is_name(m.group(0)) else m.group(0),
        text,
    )


def is_follow_up(question: str) -> bool:
    """Whether a question needs the previous turn to be understood."""
    if _fragment(question) is not None or _ANAPHOR.search(question):
        return True
    return not salient_terms(question) and len(content_terms(question)) <= _MAX_BARE_TERMS


def resolve(question: str, previous_questions: list[str]) -> str:
    """The question with its ellipsis or pronouns filled in from the previous questions."""
    if not previous_questions:
        return question
    previous = resolve(previous_questions[-1], previous_questions[:-1])
    fragment = _fragment(question)
    if fragment is not None:
        return _substitute(previous, fragment)
    return _replace_pronouns(question, previous)


def _fragment(question: str) -> str | None:
    """The new part of an elliptical follow-up ("in Lyon"), or None for a full question."""
    match = _ELLIPSIS.match(question)
    if match is None and not _QUESTION_START.match(question) and not QUESTION_WORD.search(question):
        match = _BARE_FRAGMENT.match(question)
    if match is None:
        return None
    rest = match.group("rest").strip()
    if not rest or len(rest.split()) > _MAX_FRAGMENT_WORDS or _QUESTION_START.match(rest):
        return None
    return rest


def _substitute(previous: str, fragment: str) -> str:
    """Put the fragment in place of the previous question's phrase of the same kind."""
    body = previous.rstrip(" ?.!")
    lead = _LEADING_PREPOSITION.match(fragment)
    if lead:
        # Replace the last phrase led by the same preposition, up to the end of the clause.
        prep = lead.group("prep")
        phrase = re.compile(rf"\b{re.escape(prep)}\s+[^,;?]+$", re.I)
        match = phrase.search(body) or _last_entity_phrase(body)
        if match:
            fragment = fragment[0].lower() + fragment[1:]
            return f"{body[: match.start()]}{fragment}{body[match.end() :]}?"
        # No phrase with that preposition ("Does China grant them asylum?" + "and in
        # Brazil?"): the place named takes the new one's place.
        fragment = fragment[lead.end("prep") :].strip()
    entities = [m for m in _ENTITY.finditer(body) if m.start() > 0]
    numeric = fragment[:1].isdigit()
    same_kind = [m for m in entities if _is_number(m.group(0)) == numeric]
    if (fragment.removeprefix("the ")[:1].isupper() or numeric) and same_kind:
        last = same_kind[-1]
        return f"{body[: last.start()]}{fragment}{body[last.end() :]}?"
    return f"{body}, about {fragment}?"


def _last_entity_phrase(body: str) -> re.Match[str] | None:
    """The last preposition phrase whose object is a name ("in the US")."""
    phrase = re.compile(rf"\b(?:{_PREPOSITIONS})\s+(?:the\s+)?[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*)*")
    matches = list(phrase.finditer(body))
    return matches[-1] if matches else None


def _replace_pronouns(question: str, previous: str) -> str:
    """Replace 'there' by the previous question's last place and 'they'/'it' by its subject."""
    pronoun = _PRONOUN.search(question)
    if not pronoun or any(w[:1].isupper() for w in question[: pronoun.start()].split()[1:]):
        return question  # no pronoun, or the question names its own subject before it
    if _PERSONAL.fullmatch(pronoun.group(0)) is None and any(
        w[:1].isupper() for w in question.split()[1:]
    ):
        return question  # "Why is it hard to settle in Lisbon?": "it" stands for nothing
    body = previous.rstrip(" ?.!")
    entities = [
        _with_head_noun(body, m)
        for m in _ENTITY.finditer(body)
        if m.start() > 0 and not _is_number(m.group(0))
    ]
    if not entities:
        return question
    place = _last_entity_phrase(body)

    def swap(match: re.Match[str]) -> str:
        word = match.group(0).lower()
        if word == "there":
            return place.group(0) if place else f"in {entities[-1]}"
        if word in ("their", "its", "his", "her"):
            return f"{entities[0]}’s" if word != "her" else match.group(0)
        if word in ("they", "them"):
            return entities[0]
        return entities[-1]  # it, he, she, him

    # One pronoun for whom or what, and one "there" for where ("Why do they go there?").
    swapped = _PRONOUN.sub(swap, question, count=1)
    if pronoun.group(0).lower() != "there":
        swapped = _THERE.sub(swap, swapped, count=1)
    return swapped


def _is_number(entity: str) -> bool:
    return entity.removeprefix("the ")[:1].isdigit()


def _with_head_noun(body: str, match: re.Match[str]) -> str:
    """A name with the plural noun it qualifies: "Dutch farmers", "New York lawyers"."""
    following = re.match(r"\s+([a-z]+s)\b", body[match.end() :])
    if following and following.group(1) not in _NOT_NOUNS:
        return match.group(0) + following.group(0)
    return match.group(0)


_NOT_NOUNS = frozenset("is was has does goes as this thus its his always perhaps".split())
