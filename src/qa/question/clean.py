"""The text as typed, cleaned: typos corrected against the corpus's words, chatter dropped."""

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from symspellpy import SymSpell, Verbosity

from qa.index.vocabulary import Vocabulary, key
from qa.question.chatter import CHAT_WORDS, SLANG, strip_chatter
from qa.text import STOP_WORDS, words

# An English word at least this frequent in symspellpy's list (about its 22,000 most common)
# is taken as meant; rarer entries are mostly names, foreign words and variant spellings, and
# one ("engin", 400,063) is a word the asker cut short.
COMMON = 1_000_000
# A rare entry is read as a dropped letter when the word with it put back is this many times
# more common (engine/engin 195, friend/fiend 231) and the corpus uses it: the asker is
# asking about the corpus.
DROPPED_RATIO = 100
# A very short English word one letter short of a question word, right before what follows a
# question word ("wat is", "hen did"), is that question word when the question word is this
# many times more common: of the list's words, only hat (33), hen (174), wat (280), wen (364)
# and whee (1,579) qualify, and "hat is", "hen did" are no English.
QUESTION_RATIO = 30
_QUESTION_WORDS = ("what", "which", "who", "whom", "whose", "when", "where", "why", "how")
_AFTER_QUESTION_WORD = frozenset(
    "is are was were am do does did can could will would should has have had 's many much "
    "long old far often big large kind type sort year".split()
)
# SymSpell keeps every delete of a word's first PREFIX letters; 5 rather than its default 7
# halves building (0.6 s against 1.2 s for 22,000 words) for lookups of about 0.5 ms.
PREFIX = 5
MAX_DISTANCE = 2
LONG = 10  # letters from which a typed word may be two edits from its correction
# Up to SHORT letters, a typed word is corrected by a dropped or swapped letter put right (a
# "slip") or, if the corpus has it, to a common English word the corpus uses MIN_USES times.
# Measured on QuAC's corpus (800 typos of its running words, mostly slips, near keys and
# vowels; 201 and 270 NQ words that neither it nor the English list has, i.e. names it
# lacks): at 4 letters this fixes 77% of typos and changes 52% of unknown words; any one edit
# 79% and 67%; slips alone 34% and 25%. At 5 letters: 87%/49%, 91%/62%, 35%/31%.
SHORT = 5
MIN_USES = 3


def max_distance(length: int) -> int:
    """How many edits a typed word of `length` letters may be from its correction."""
    # Measured on QuAC's corpus (random typos of its words, and 2,031 NQ words that neither it
    # nor the English list has, i.e. names it lacks): two edits fix 91% of double typos in
    # 10-letter words and change 11% of unknown ones (one edit: 5%); at 8 letters it would
    # be 78% against 36% (10%). Short words reach too many others with a second edit.
    return 1 if length < LONG else 2


@dataclass(frozen=True, slots=True)
class Cleaned:
    """A question as cleaned, with each typed word that was corrected and its correction."""

    text: str
    corrections: tuple[tuple[str, str], ...] = ()

    @property
    def sure(self) -> bool:
        """Whether every correction is one a reader would make without doubt (`is_sure`)."""
        return all(is_sure(typed, fixed) for typed, fixed in self.corrections)


def is_sure(typed: str, fixed: str) -> bool:
    """Whether a correction is beyond doubt: a slip put right (a dropped letter or two
    swapped neighbours), words split or run together, a chat spelling or contraction
    written out ("u", "dont"), or one edit in a word longer than SHORT letters, the length
    from which one-edit corrections were measured right (see SHORT). A second edit, or an
    edit in a short word, is a guess."""
    a, b = key(typed), key(fixed)
    if a.replace("-", "").replace(" ", "") == b.replace(" ", ""):
        return True
    if a in SLANG or a in _contractions() or _is_slip(a, b):
        return True
    return len(a) > SHORT and _one_edit(a, b)


def _one_edit(a: str, b: str) -> bool:
    """Whether `b` is `a` with one letter changed, added or dropped."""
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return len(long) == len(short) + 1 and any(
        long[:i] + long[i + 1 :] == short for i in range(len(long))
    )


class Cleaner:
    """Cleans typed questions against one corpus's vocabulary."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._symspell: SymSpell | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Build the spelling dictionaries now rather than on the first typo a user makes."""
        self._corpus()
        _english_symspell()

    def clean(self, text: str) -> Cleaned:
        """`text` with typos corrected and chatter dropped ("" when it was all chatter)."""
        corrected, corrections = self._correct(text)
        # Typos first: "wat is ..." must read as a question when chatter is told from the ask.
        cleaned = strip_chatter(corrected, keep=self.vocabulary.is_name)
        left = {key(w) for w in words(cleaned)}
        kept = tuple(c for c in corrections if all(key(w) in left for w in words(c[1])))
        return Cleaned(cleaned, kept)

    def _correct(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """`text` with each misspelt word replaced, and the replacements."""
        found = words(text)
        spans, at = [], 0
        for word in found:
            start = text.index(word, at)
            spans.append((start, start + len(word)))
            at = start + len(word)
        pieces, corrections, at, i = [], [], 0, 0
        while i < len(found):
            start, end = spans[i]
            typed, nxt = found[i], found[i + 1] if i + 1 < len(found) else None
            if nxt and text[end : spans[i + 1][0]] in (" ", "-") and self._joins(typed, nxt):
                end, typed, fixed = spans[i + 1][1], text[start : spans[i + 1][1]], typed + nxt
                i += 1
            elif text[start - 1 : start] == "-" or text[end : end + 1] == "-":
                fixed = self._fix(typed, nxt, slang=False)  # "u" in "u-boat" is no "you"
            else:
                fixed = self._fix(typed, nxt)
            i += 1
            if fixed is None or fixed == typed:
                continue
            fixed = self._cased(typed, fixed)
            pieces += [text[at:start], fixed]
            corrections.append((typed, fixed))
            at = end
        return "".join([*pieces, text[at:]]), corrections

    def _joins(self, first: str, second: str) -> bool:
        """Whether two typed words are one corpus word split by a stray space or hyphen."""
        glued = key(first + second)
        unknown = (w for w in (first, second) if w.isalpha() and not self._known(key(w)))
        return any(unknown) and glued in self.vocabulary.counts and glued.isalpha()

    def _fix(self, typed: str, following: str | None, *, slang: bool = True) -> str | None:
        """The correction of one typed word, or None to leave it as typed."""
        form = key(typed)
        vocabulary = self.vocabulary
        # "u" is "you" unless the corpus writes "u" as a word (as a name, "U", it does not).
        plain = vocabulary.count(form) > 0 and not vocabulary.is_name(form)
        if slang and form in SLANG and typed.islower() and not plain:
            return SLANG[form]
        if len(form) < 2 or form in CHAT_WORDS or not form.replace("'", "").isalpha():
            return None  # numbers, "U.S", initials: nothing to correct
        if typed.isupper():
            return None  # an acronym is typed on purpose
        stem, suffix = (form[:-2], typed[-2:]) if form.endswith("'s") else (form, "")
        if form in vocabulary.counts or stem in vocabulary.counts:
            return None
        if form in _contractions():
            return _contractions()[form]
        if form.endswith("s") and form[:-1] in vocabulary.counts and form[:-1] not in STOP_WORDS:
            return None  # the plural of a corpus word ("nks" of "NK")
        if stem in _english():
            fixed = self._short_question_word(stem, following if not suffix else "is")
            fixed = fixed or self._dropped_letter(stem)
        elif "'" in stem or (suffix and self._known(stem)):
            return None  # an unknown contraction; a known word's possessive
        else:
            fixed = self._from_corpus(stem) or self._split(stem) or self._from_english(stem)
        return fixed + suffix if fixed else None

    def _known(self, form: str) -> bool:
        """Whether a word is the corpus's or a common English word, so meant as typed."""
        return form in self.vocabulary.counts or _english().get(form, 0) >= COMMON

    def _short_question_word(self, form: str, following: str | None) -> str | None:
        """A question word typed a letter short, before what follows one ("wat is")."""
        if len(form) > 4 or following is None or key(following) not in _AFTER_QUESTION_WORD:
            return None
        english = _english()
        for word in _QUESTION_WORDS:
            if _is_slip(form, word) and english[word] >= QUESTION_RATIO * english[form]:
                return word
        return None

    def _dropped_letter(self, form: str) -> str | None:
        """A rare dictionary word that is a much commoner corpus word short of a letter."""
        english = _english()
        if english[form] >= COMMON:
            return None
        found = [
            s.term
            for s in self._corpus().lookup(form, Verbosity.CLOSEST, 1)
            if len(s.term) == len(form) + 1
            and _is_slip(form, s.term)
            and english.get(s.term, 0) >= DROPPED_RATIO * english[form]
        ]
        return max(found, key=self.vocabulary.count, default=None)

    def _from_corpus(self, form: str) -> str | None:
        """The closest corpus word: fewest edits, then a slip, then the most used."""
        suggestions = self._corpus().lookup(form, Verbosity.CLOSEST, max_distance(len(form)))
        return _best(form, [(s.term, s.count) for s in suggestions], corpus=True)

    def _split(self, form: str) -> str | None:
        """Two corpus words run together, if symspellpy splits them without changing a letter."""
        if len(form) < 8:
            return None
        parts = self._corpus().word_segmentation(form, max_edit_distance=0).corrected_string
        split = parts.split()
        # Both common English words of 4 letters or more, which the corpus uses: "farmhouse"
        # is two, but "masterson" is not "masters on", nor "nathanson" "nat hanson".
        if len(split) != 2 or "".join(split) != form:
            return None
        english = _english()
        if any(len(p) < 4 or p in STOP_WORDS or english.get(p, 0) < COMMON for p in split):
            return None
        return parts

    def _from_english(self, form: str) -> str | None:
        """The closest common English word one edit away, for words the corpus lacks."""
        suggestions = _english_symspell().lookup(form, Verbosity.CLOSEST, 1)
        return _best(form, [(s.term, s.count) for s in suggestions], corpus=False)

    def _corpus(self) -> SymSpell:
        """The corpus's SymSpell, built on the first word that needs it."""
        if self._symspell is None:
            with self._lock:
                if self._symspell is None:
                    self._symspell = _symspell(self.vocabulary.counts.items())
        return self._symspell

    def _cased(self, typed: str, fixed: str) -> str:
        """A correction written as the corpus writes names, else in the typed word's case."""
        out = []
        for word in fixed.split(" "):
            pronoun = word == "i" or word.startswith("i'")
            if pronoun or self.vocabulary.is_name(word) or typed[:1].isupper():
                word = word[:1].upper() + word[1:]
            out.append(word)
        return " ".join(out)


def _best(typed: str, candidates: list[tuple[str, int]], *, corpus: bool) -> str | None:
    """The word to prefer among equally distant candidates (word, count), or None."""
    fit = [(w, n) for w, n in candidates if _may_fix(typed, w, n, corpus=corpus)]
    # Among equally distant words, the one a slip explains wins: "invnted" is "invented" (a
    # dropped letter), not the commoner "invited" (a changed one).
    return max(fit, key=lambda c: (_is_slip(typed, c[0]), c[1]))[0] if fit else None


def _may_fix(typed: str, word: str, uses: int, *, corpus: bool) -> bool:
    """Whether `word` may correct `typed`, given its length (see SHORT)."""
    if len(typed) == 2:
        return word in _QUESTION_WORDS and _is_slip(typed, word)  # "hw", but "eg" is no "egg"
    if _is_slip(typed, word) or len(typed) > SHORT:
        return True
    return len(typed) > 3 and corpus and uses >= MIN_USES and _english().get(word, 0) >= COMMON


def _is_slip(typed: str, word: str) -> bool:
    """Whether `word` is `typed` with a dropped letter put back or two neighbours swapped."""
    if len(word) == len(typed) + 1:
        return any(word[:i] + word[i + 1 :] == typed for i in range(len(word)))
    if len(word) == len(typed):
        diff = [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and typed[diff[0]] == word[diff[1]]
            and typed[diff[1]] == word[diff[0]]
        )
    return False


def _symspell(counts: Iterable[tuple[str, int]]) -> SymSpell:
    """A SymSpell of words and counts; words with digits or dots are never corrections."""
    symspell = SymSpell(max_dictionary_edit_distance=MAX_DISTANCE, prefix_length=PREFIX)
    for word, count in counts:
        if word.replace("'", "").isalpha():
            symspell.create_dictionary_entry(word, count)
    return symspell


@cache
def _english() -> dict[str, int]:
    """symspellpy's English word frequencies (82,765 words), loaded once per process."""
    path = files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    fields = path.read_text(encoding="utf-8").split()
    english = dict(zip(fields[::2], map(int, fields[1::2]), strict=True))
    # Its 65 contractions ("don't", "you've") all carry a made-up 300,000: they are common.
    return {w: max(n, COMMON) if "'" in w else n for w, n in english.items()}


def english_counts() -> dict[str, int]:
    """Common English words and their frequencies, as the typo reader knows them."""
    return _english()


@cache
def _contractions() -> dict[str, str]:
    """Contractions typed without their apostrophe ("dont"), where that spells no word."""
    english = _english()
    bare = {w.replace("'", ""): w for w in english if "'" in w}
    return {b: w for b, w in bare.items() if b not in english}


@cache
def _english_symspell() -> SymSpell:
    """The common English words, one edit deep, built once per process on first need."""
    symspell = SymSpell(max_dictionary_edit_distance=1, prefix_length=PREFIX)
    for word, count in _english().items():
        if count >= COMMON and word.replace("'", "").isalpha():
            symspell.create_dictionary_entry(word, count)
    return symspell
