"""The corpus's own words: how often each is written, and how often as a name."""

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qa.text import words

FORMAT = 1

# A sentence ends at . ! ? (with any closing quote or bracket) before a space, or at a line
# break: a heading or list item is a line of its own.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+|\n")


def key(word: str) -> str:
    """The form a word is counted under: lower case, typographic apostrophes made plain."""
    return word.lower().replace("’", "'")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Each word form of a corpus with its count and its capitalised mid-sentence count."""

    counts: Mapping[str, int] = field(default_factory=dict)
    capitalised: Mapping[str, int] = field(default_factory=dict)  # only words with any

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "Vocabulary":
        """Count the words of `texts`; pure numbers are not words here."""
        counts: Counter[str] = Counter()
        capitalised: Counter[str] = Counter()
        for text in texts:
            for sentence in _SENTENCE_END.split(text):
                found = words(sentence)
                counts.update(found)
                # The first word is capitalised by grammar whatever it is, so it says nothing.
                capitalised.update(w for w in found[1:] if w[0].isupper())
        merged: Counter[str] = Counter()
        merged_caps: Counter[str] = Counter()
        for word, n in counts.items():
            if any(c.isalpha() for c in word):
                merged[key(word)] += n
        for word, n in capitalised.items():
            merged_caps[key(word)] += n
        return cls(dict(merged), {w: n for w, n in merged_caps.items() if w in merged})

    def to_json(self) -> dict[str, Any]:
        """A compact JSON form: one string of words, most frequent first, and parallel counts."""
        ordered = sorted(self.counts, key=lambda w: (-self.counts[w], w))
        return {
            "format": FORMAT,
            "words": " ".join(ordered),  # a word never holds a space
            "counts": [self.counts[w] for w in ordered],
            "capitalised": [self.capitalised.get(w, 0) for w in ordered],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Vocabulary":
        """The vocabulary `to_json` wrote."""
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown vocabulary format {data.get('format')!r}")
        ordered = data["words"].split(" ") if data["words"] else []
        if not len(ordered) == len(data["counts"]) == len(data["capitalised"]):
            raise ValueError("vocabulary words and counts differ in length")
        return cls(
            dict(zip(ordered, data["counts"], strict=True)),
            {w: n for w, n in zip(ordered, data["capitalised"], strict=True) if n},
        )

    def __len__(self) -> int:
        return len(self.counts)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and key(word) in self.counts

    def count(self, word: str) -> int:
        """How often the corpus writes `word`, in any case."""
        return self.counts.get(key(word), 0)

    def is_name(self, word: str) -> bool:
        """Whether the corpus mostly writes `word` capitalised mid-sentence, as a name."""
        form = key(word)
        if form == "i" or form.startswith("i'"):
            return False  # the pronoun is capitalised by grammar, not because it names anything
        # More than half of all its uses, sentence starts included (they say nothing either way,
        # so they count against): an ordinary word is capitalised mid-sentence only in a
        # title-case heading or a title, never most of the time, while a name almost always is.
        return 2 * self.capitalised.get(form, 0) > self.counts.get(form, 0)
