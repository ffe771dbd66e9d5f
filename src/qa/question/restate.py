"""A question restated as the clause a decline names: "how many people live there?" →
"how many people live there", as in "The corpus doesn't say how many people live there."

Only forms that need no change of word order or verb are restated: a question word, or a
question phrase, followed directly by its verb ("who founded it", "how many came") or by a
form of "be" and what it is said of, with no verb after it ("what is the capital" → "what
the capital is"). Any other form (yes/no questions, "do"-support, keywords) gives None, and
the decline quotes the question as typed instead; a wrong clause would read worse than a
quote.
"""

import re

# A question phrase: "how many", "how much", "how old", "what year", "which city", ...
_WH = (
    r"(?:how(?: many| much| \w+)?|what(?: \w+)?|which(?: \w+)?|who|whom|whose(?: \w+)?"
    r"|where|when|why)"
)
_BE = frozenset({"is", "are", "was", "were"})
# Words after the question phrase that make the question inverted (needs a change of words).
_AUXILIARIES = frozenset(
    "do does did can could will would shall should may might must has have had "
    "isn't aren't wasn't weren't don't doesn't didn't can't couldn't won't wouldn't".split()
)
# "what about X", "what if X": no clause to restate.
_NOT_A_PHRASE = frozenset({"about", "if", "else", "of"})
_QUESTION = re.compile(rf"^(?P<wh>{_WH})\s+(?P<rest>.+)$", re.I)
_TRAILING = re.compile(r"[\s?!.。,;:]+$")
_VERB_FORM = re.compile(r"\w(?:ed|ing|en)$")


def indirect(question: str) -> str | None:
    """The question as an indirect clause (lower-case question word, no "?"), or None when
    its form would need a change of words."""
    text = _TRAILING.sub("", " ".join(question.split()))
    match = _QUESTION.match(text)
    if match is None:
        return None
    wh, rest = match.group("wh"), match.group("rest")
    words = rest.split()
    phrase = wh.split()
    # "what is ..." matches the phrase "what is": a phrase's second word must not be a verb.
    if len(phrase) == 2 and phrase[1].casefold() in _BE | _AUXILIARIES:
        words = [phrase[1], *words]
        wh = phrase[0]
    first = words[0].casefold()
    if (
        first in _AUXILIARIES
        or first in ("there", "it")
        or (len(phrase) == 2 and phrase[1].casefold() in _NOT_A_PHRASE)
    ):
        return None
    if len(words) > 2 and words[1].casefold() in _BE and words[2].casefold() == "there":
        # "how many people are there in X" → "how many people there are in X"
        words = [words[0], words[2], words[1], *words[3:]]
    if first in _BE:
        subject = words[1:]
        if not subject or subject[0].casefold() == "there":
            return None
        # "where is the museum located": moving "is" would need it before the participle.
        if any(w.islower() and _VERB_FORM.search(w) for w in subject[1:]):
            return None
        return " ".join([_lower_first(wh), *subject, words[0]])
    return " ".join([_lower_first(wh), *words])


def _lower_first(phrase: str) -> str:
    """The question phrase in lower case ("How many" → "how many")."""
    return phrase.casefold()
