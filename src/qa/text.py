"""Word-level text handling shared by BM25 and the answerer: tokens, stems, stop words."""

import re
import unicodedata
from functools import cache, lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

# Words that shape a question but never carry its topic.
QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how much many does did do is are was were "
    "can could would should will shall may might tell give name describe explain kind type "
    "according".split()
)
# bm25s's list is Lucene's 33 words; these are the other common function words.
FUNCTION_WORDS = frozenset(
    "about above after again against all am any because been before being below between both "
    "cannot could did does doing down during each few from further had has have having he her "
    "here hers herself him himself his i i'm its itself just me more most my myself nor now "
    "off once only other ought our ours ourselves out over own same she should so some than "
    "that's them themselves those through too under until up very we were what when where "
    "which while who whom why would you your yours yourself yourselves also s get got".split()
)
STOP_WORDS = frozenset(STOPWORDS_EN) | FUNCTION_WORDS | QUESTION_WORDS

# Spelled-out small numbers meet their digits: "three libraries" and "3 libraries".
_NUMBER_WORDS = {
    w: str(n)
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_WORDS.pop("one")  # mostly a pronoun ("one of the ...")

_WORD = re.compile(r"\w+(?:[.,'’]\w+)*", re.UNICODE)


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def any_of(*alternatives: str) -> re.Pattern[str]:
    """A case-blind pattern for any of these phrases (regular expressions) as whole words."""
    return re.compile(r"\b(" + "|".join(alternatives) + r")\b", re.I)


def words(text: str) -> list[str]:
    """Words of `text` as written (numbers keep their inner commas and dots)."""
    return _WORD.findall(text)


@lru_cache(maxsize=1 << 16)  # pure, and called for every word of every candidate sentence
def normalise(word: str) -> str:
    """Lower-case a word, drop accents, thousands separators and possessives."""
    if not word.isascii():
        decomposed = unicodedata.normalize("NFKD", word)
        stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
        word = unicodedata.normalize("NFKC", stripped)
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if any(c.isdigit() for c in word):
        word = word.replace(",", "")
        if word[:-1].isdigit() and word.endswith("s"):
            word = word[:-1]  # "the 1990s" is about 1990
    word = _NUMBER_WORDS.get(word, word)
    return word


def stem(word: str) -> str:
    """Light stemming so that 'settled' and 'settle' meet."""
    return _stemmer().stemWord(word)


def content_terms(text: str) -> list[str]:
    """Stemmed words of `text` without stop words: what BM25 and term coverage compare."""
    terms = []
    for word in words(text):
        if "." in word and not any(c.isdigit() for c in word):
            word = word.replace(".", "")  # "U.S." and "US" are one term
        norm = normalise(word)
        if len(word) > 1 and word.isupper():
            terms.append(norm)  # an acronym ("US", "UN") is never a stop word
        elif norm not in STOP_WORDS and (len(norm) > 1 or norm.isdigit()):
            terms.append(stem(norm))
    return terms
