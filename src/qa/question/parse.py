"""What a question asks for: its content terms, its salient terms and its expected answer type."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from qa.question.measures import Measure, asked_measure
from qa.text import any_of, content_terms, normalise, words

# Whether the corpus writes a word as a name (`Vocabulary.is_name`).
NameTest = Callable[[str], bool]


class AnswerType(StrEnum):
    NUMBER = "number"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"
    REASON = "reason"
    LIST = "list"
    OTHER = "other"


# First match wins: "when" questions before "how many", "why" before "who".
_TYPE_PATTERNS: list[tuple[AnswerType, re.Pattern[str]]] = [
    (
        AnswerType.DATE,
        any_of(
            "when",
            "since when",
            r"(what|which) (year|date|month|day|decade|century)",
        ),
    ),
    (
        AnswerType.NUMBER,
        any_of(
            "how (many|much|old|long|far|large|big|often|high)",
            "what (percentage|percent|share|proportion|number|amount|fraction|portion|size)",
        ),
    ),
    (
        AnswerType.REASON,
        any_of(
            "why",
            "for what reason",
            r"what (made|makes|caused|causes|led|leads|drove|drives|motivat\w*)",
            "what (is|was|are|were) the reasons?",
        ),
    ),
    (AnswerType.PERSON, any_of("who", "whom", "whose")),
    (
        AnswerType.PLACE,
        any_of("where", "which (country|countries|city|cities|place|places|region|town|state)"),
    ),
    (
        AnswerType.LIST,
        any_of(
            r"(what|which) (are|were) (the )?\w+s",
            "(list|name) (the|all|some)",
            r"what \w+s (do|does|did|are|were)",
        ),
    ),
]

_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
    "hundred hundreds thousand thousands million millions billion billions dozen dozens half "
    "quarter third percent".split()
)
_MONTHS = frozenset(
    "january february march april may june july august september october november december".split()
)
_REASON_MARKERS = re.compile(
    r"\b(because|due to|owing to|since|as a result|reasons?|so that|in order to|led to|"
    r"caused?|motivat\w*|driv\w*|fear\w*|thus|therefore)\b",
    re.I,
)
_DIGIT = re.compile(r"\d")
# A question word anywhere in the text ("as of when?", "says who?").
QUESTION_WORD = re.compile(r"\b(what|which|who|whom|whose|when|where|why|how)\b", re.I)
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b")


@dataclass(frozen=True, slots=True)
class Question:
    """A parsed question."""

    text: str
    terms: list[str]
    salient: frozenset[str]
    answer_type: AnswerType
    asked: frozenset[str] = frozenset()  # normalised words as typed
    required: frozenset[str] = frozenset()  # what a follow-up typed new: the answer must hold it
    capitalised: frozenset[str] = frozenset()  # the salient terms typed as names or numbers
    measure: Measure | None = None  # the kind of quantity asked for in a unit ("how fast")


def parse_question(
    text: str,
    *,
    as_asked: str | None = None,
    is_name: NameTest | None = None,
    new: str | None = None,
) -> Question:
    """Parse a question as read; names and numbers count only if the asker typed them.

    A follow-up ("What about Belgium?") is read with words of the previous question, but
    only what was typed (`as_asked`) must appear next to the answer: its names, and every
    word of what an elliptical follow-up typed as `new` ("and in brazil?"). A follow-up's
    own question word says what it asks for ("When?" after "Who ...?"). `is_name` tells the
    corpus's names, so that a name typed in lower case ("china") is still one.
    """
    typed = as_asked if as_asked is not None else text
    required = frozenset[str]()
    if as_asked is not None:
        required = salient_terms(as_asked, is_name) | frozenset(content_terms(new or ""))
    # "How so?" asks what "how" asks whatever the previous question asked; "And in 2015?"
    # asks what the previous question did.
    own_type = as_asked is not None and QUESTION_WORD.search(as_asked) is not None
    return Question(
        text=text,
        terms=list(dict.fromkeys(content_terms(text))),
        salient=salient_terms(typed, is_name),
        answer_type=expected_type(as_asked if own_type and as_asked else text),
        asked=frozenset(normalise(w) for w in words(typed)),
        required=required,
        capitalised=salient_terms(typed),
        measure=asked_measure(text),
    )


def expected_type(question: str) -> AnswerType:
    """The kind of answer the question's form asks for."""
    for answer_type, pattern in _TYPE_PATTERNS:
        if pattern.search(question):
            return answer_type
    return AnswerType.OTHER


def salient_terms(question: str, is_name: NameTest | None = None) -> frozenset[str]:
    """Terms the answer must be about: numbers, and names (capitalised words past the first,
    or words the corpus writes as names however they were typed)."""
    salient = set()
    for i, word in enumerate(words(question)):
        if any(c.isdigit() for c in word):
            salient.add(normalise(word))
        elif (i > 0 and word[:1].isupper()) or (is_name is not None and is_name(word)):
            salient.update(content_terms(word))
    return frozenset(salient)


@dataclass(frozen=True, slots=True)
class NewValues:
    """What a sentence holds that the question did not already say, by kind."""

    number: bool
    date: bool
    name: bool
    reason: bool

    def has(self, answer_type: "AnswerType") -> bool:
        """Whether it holds what a question of this type asks for (anything, for OTHER)."""
        if answer_type is AnswerType.NUMBER:
            return self.number
        if answer_type is AnswerType.DATE:
            return self.date
        if answer_type is AnswerType.REASON:
            return self.reason
        if answer_type in (AnswerType.PERSON, AnswerType.PLACE):
            return self.name
        return True


def new_values(sentence: str, asked: frozenset[str] = frozenset()) -> NewValues:
    """Numbers, dates and names of a sentence that the question (`asked`: its normalised
    words) did not give: "in 2010" does not answer "how many ... in 2010?"."""
    numbers, dates, names, reason = _values_in(sentence)
    return NewValues(
        number=not numbers <= asked,
        date=not dates <= asked,
        name=not names <= asked,
        reason=reason,
    )


@lru_cache(maxsize=1 << 14)  # the same corpus sentences are read for question after question
def _values_in(sentence: str) -> tuple[frozenset[str], frozenset[str], frozenset[str], bool]:
    """The normalised forms of a sentence's numbers, dates and names (capitalised words
    other than its first), and whether it gives a reason."""
    written = [(w, normalise(w)) for w in words(sentence)]
    first = written[0][0] if written else None
    return (
        frozenset(n for w, n in written if _DIGIT.search(w) or w.lower() in _NUMBER_WORDS),
        frozenset(n for w, n in written if _YEAR.fullmatch(w) or w.lower() in _MONTHS),
        frozenset(n for w, n in written if w[:1].isupper() and w != first),
        bool(_REASON_MARKERS.search(sentence)),
    )
