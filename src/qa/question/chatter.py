"""Chatter around a question (greetings, thanks, apologies, framing) and how to drop it."""

# Every word list of chat English is here, compiled once; none names anything in a corpus.

import re
from collections.abc import Callable

from qa.text import words

# Tokens of chat that are neither typos nor content: the spelling corrector leaves them to
# `strip_chatter` ("pls" is not a misspelt "plus").
CHAT_WORDS = frozenset(
    "hi hii hiya heya hey hello helo howdy yo lol lmao rofl haha hahaha hehe xd xx xo ok okay "
    "um umm uh uhh hmm hmmm er erm btw thx thnx thanx tnx ty tia pls plz ta cheers sup np "
    "imo imho idk tbh fyi".split()
)
# Chat spellings of ordinary words, written out so the question reads as English.
SLANG = {
    "u": "you",
    "ur": "your",
    "ppl": "people",
    "abt": "about",
    "cuz": "because",
    "coz": "because",
    "govt": "government",
    "thru": "through",
    "smth": "something",
    "yr": "year",
    "yrs": "years",
    "tmrw": "tomorrow",
}

_WH = r"(?:what|what's|whats|which|who|who's|whom|whose|when|where|where's|why|how|how's)"
_AUX = (
    r"(?:is|are|was|were|am|do|does|did|can|could|will|would|should|shall|may|might|has|have|"
    r"had|isn't|aren't|wasn't|weren't|don't|doesn't|didn't|can't|won't)"
)
_YOU = r"(?:you|u|ya)"
_PLEASE = r"(?:please|pls|plz|kindly)"
# What an indirect question's frame is followed by: "do you know | (roughly) how many ...".
_HEDGE = r"(?:(?:roughly|approximately|about|exactly|precisely|just|actually|really)\s+)?"
_ASKED = rf"(?=\s*{_HEDGE}(?:{_WH}|if|whether)\b)"

# Phrases that open a segment without carrying anything; a frame that announces a question
# ("could you tell me", "I was wondering whether") is `_FRAMES`, which also makes the rest
# a question.
_OPENERS = [
    r"(?:hi+|hello|helo|hey+|heya|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening|"
    r"day))(?: (?:there|all|everyone|everybody|guys|folks|friend|mate|bot))?",
    r"(?:so )?(?:sorry|apologies|excuse me|pardon me)(?: (?:to|for) (?:bother(?:ing)?|"
    r"disturb(?:ing)?|troubl(?:e|ing)|interrupt(?:ing)?|asking)(?: you)?(?: again)?)?",
    r"(?:it's |its )?me again|(?:i'm|i am) back",
    r"(?:thanks|thank you|thx|ty)(?: (?:so|very) much| a lot| again)?",
    r"(?:(?:a|one|just a|another|one more|my) )?(?:quick|small|simple|silly|dumb|random|"
    r"another|last|follow-up) (?:question|one|thing|q)(?: for you)?",
    r"(?:(?:a|one|another|my) )?question(?: for you)?(?=\s*[:\-–—])",
    r"i (?:have|had|'ve got|got) (?:a |one |another )?(?:quick |small |simple )?"
    r"(?:question|query)(?: for you)?",
    r"(?:can|could|may) i ask(?: you)?(?: (?:something|a (?:quick )?question))?",
    r"(?:if )?(?:this|it)(?:'s| is| might be| may be| could be| is probably)(?: a| an)? (?:dumb|"
    r"stupid|silly|weird|strange|basic|naive|odd|obvious)(?: question| one| q)?(?:,? but)?",
    rf"{_PLEASE}(?-i:(?=\s*(?:,|[a-z])))",  # not "Please Please Me"
    r"(?:ok|okay|um+|uh+|hmm+|erm?|oh|ah|anyway|anyways|btw|alright|lol|haha+|hehe+)",
    # These can be content ("well water", "right whale"): only before a comma or an ask.
    rf"(?:so|well|right|yeah|yes|yep|now|also)(?=\s*,|\s+(?:{_WH}|{_AUX}|i|i'm|my|we|"
    r"someone|people)\b)",
    # Politeness before a request, which stays: "could you | explain how ...".
    rf"(?:can|could|would|will) {_YOU}(?: {_PLEASE})?(?=\s+(?:tell|explain|describe|list|name|"
    r"give|show|say|find)\b)",
]
_FRAMES = [
    r"(?:i (?:was|am|'m) (?:just )?(?:wondering|curious)|i wonder|just wondering|wondering)"
    rf"(?: (?:if|whether)\b|{_ASKED})",
    rf"(?:(?:do|does|would|did) )?(?:{_YOU}|anyone|anybody|someone|somebody) (?:happen to )?"
    rf"know(?: {_PLEASE})?{_ASKED}",
    rf"(?:(?:do )?{_YOU} have )?any ?(?:idea|ideas|clue)(?: {_PLEASE})?{_ASKED}",
    rf"i(?:'d| would) (?:like|love) to (?:know|find out|ask|learn){_ASKED}",
    rf"i (?:want|wanna|need) to (?:know|find out){_ASKED}",
    rf"(?:i'm |i am )?trying to (?:find|figure|work) out{_ASKED}",
    rf"(?:(?:can|could|would|will) )?{_YOU} (?:(?:could|can|would|might) )?(?:{_PLEASE} )?"
    rf"(?:tell|let) me(?: know)?(?: {_PLEASE})?{_ASKED}",
    rf"(?:tell|let) me(?: know)?{_ASKED}",
]
_CLOSERS = [
    r"(?:many |much )?(?:thanks|thank you|thank u|thanx|thnx|thx|tnx|ty|tia|much appreciated|"
    r"appreciate it|i appreciate it)(?: (?:so|very) much| a lot| again| heaps| guys| all|"
    r" in advance| for (?:your|the|any) help)*",
    r"(?-i:please|pls|plz)",  # a capitalised "Please" may end a title
    r"lol|lmao|rofl|haha+|hehe+|xd|xx+|x+o+",
    rf"if (?:{_YOU}|anyone) (?:know|knows|can|could)|if possible|(?:any|all) help "
    r"(?:is |would be )?(?:appreciated|great)",
    r"see ya|cya|have a (?:good|nice|great) (?:day|one)",
]
# Segments that are chatter through and through, even when they ask ("how are you?").
_ALL_CHATTER = [
    rf"(?:i (?:was wondering|wonder|hope) (?:if )?)?(?:{_YOU}|anyone|someone|somebody) "
    rf"(?:can|could|would|might|will) (?:{_PLEASE} )?(?:help|assist)(?: me)?(?: out)?"
    r"(?: (?:with|on) (?:something|this|that|a question|my question))?",
    rf"(?:(?:can|could|would|will) (?:{_YOU}|anyone|someone) (?:{_PLEASE} )?)?(?:help|assist)"
    r"(?: me)?(?: out)?(?: (?:with|on) (?:something|this|that|a question|my question))?",
    r"(?:i )?hope\b(?!.*\b(?:what|which|who|whom|whose|when|where|why|how)\b).*",
    rf"how (?:are|r) {_YOU}(?: doing)?(?: today)?|how's it going|how is it going|what'?s up|"
    r"sup|how do you do|nice to meet you|good to see you|(?:are )?you there|(?:is )?anyone there",
    r"i (?:have|'ve got|got) (?:a |one |another |some |a few |a couple of )?(?:quick |small )?"
    r"(?:questions?|queries)(?: for you)?",
    r"no worries|no problem|np|cool|great|nice|awesome|perfect|got it|i see|that's all",
    # What the asker is doing, not asking: "doing a school project on trains".
    r"(?:(?:i'm|i am|im|i was|we're|we are|we were) )?(?:(?:currently|just) )?(?:doing|working on|"
    r"writing|making|researching|preparing|recording)\b.*\b(?:project|report|essay|homework|"
    r"assignment|podcast|ep|episode|class|course|thesis|dissertation|paper|video|presentation|"
    r"quiz|exam|blog|article)\b.*",
    r"cheers|ta|bye",  # only alone: "Cheers" is also a title
]
# Reported speech before a claim the asker wants checked: "my friend told me (that) ...".
_HEARSAY = re.compile(
    r"^(?:(?:my|a|our|some|this) (?:\w+ ){0,2}?(?:told me|tells me|told us|said|says|"
    r"keeps? saying|kept saying|claims?|claimed|reckons?|thinks?|insists?|swears?|"
    r"(?:keeps? |kept |was |is )?(?:talking|talks|talked) about|mentioned|asked me about)|"
    r"(?:someone|somebody|people|they|everyone|everybody|i|we) (?:told me|tell me|said|say|"
    r"says|claim|claims|(?:have |'ve )?heard|read|was told|were told|saw|think|thought|"
    r"believe|remember(?: reading| hearing)?)(?: somewhere| online| once)?)(?: that)?\s+",
    re.I,
)
# An ask that only checks what came before: "..., is that right?", "Is this true?".
_CONFIRM = re.compile(
    r"(?:(?:^|,\s*|\s)(?:(?:is|was|isn't|wasn't) (?:that|this|it|he|she|this claim|that claim) "
    r"(?:really )?(?:right|true|correct|so|accurate|the case|a myth|real)|(?:am i|is he|is she|"
    r"are they) (?:right|wrong|correct))|(?:^|,\s*)(?:right|true|really|correct))\s*\?+\s*$",
    re.I,
)
# An ask that leans on the segment before it for what it is about.
_REFERS = re.compile(
    r"\b(?:it|its|he|she|they|them|their|his|her|there|this|these|those)\b|\bthat\s*\?*$", re.I
)
_ASKS = re.compile(
    rf"\?|^(?:{_WH}|{_AUX})\b|\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.I
)

_EDGE = r"[\s,;:.!\-–—]*"
_OPENER = re.compile(rf"^(?:{'|'.join(_OPENERS)})(?![\w'’-]){_EDGE}", re.I)
_FRAME = re.compile(rf"^(?:{'|'.join(_FRAMES)})(?![\w'’-]){_EDGE}", re.I)
# Once a frame is gone, its "if" may be left: "I was wondering, if the ...".
_LEFT_OVER = re.compile(rf"^(?:if|whether)\b{_EDGE}", re.I)
_CLOSER = re.compile(rf"(?:^|[\s,;:.!?\-–—]+)(?:{'|'.join(_CLOSERS)})[\s.!]*$", re.I)
_CHATTER_ONLY = re.compile(rf"(?:{'|'.join(_ALL_CHATTER)})[\s.!?]*", re.I)

_EMOTICON = re.compile(
    r"(?:(?<=\s)|^)(?:[:;=][-'^o]?[)(\]\[dDpPoO3/\\|*]+|[xX]D+|8\)|<3+|\^_*\^|[-oO0T]_+[-oO0T])"
    r"(?=\s|$)|[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]+"
)
# Segments end at . ! ? (runs of them) before a space, at a line break, and at a spaced dash.
_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\n+|\s+[-–—]+\s+")
# A full stop after these does not end a sentence ("the U.S. Army").
_ABBREVIATION = re.compile(
    r"(?:\b[A-Za-z]|\b(?:mr|mrs|ms|dr|st|vs|etc|no|jr|sr|prof|gen|col|lt|mt|ft|approx|"
    r"e\.g|i\.e))\.$",
    re.I,
)
_CLAUSE = re.compile(r",\s+")
_REPEATED_MARK = re.compile(r"([?!])[?!]+")
_BLANKS = re.compile(r"[^\S\n]+")


def strip_chatter(text: str, *, keep: Callable[[str], bool] = lambda word: False) -> str:
    """The part of a chat message that asks, without chatter; "" if it is all chatter."""
    # A word for which `keep` is true (a name in the corpus, like "Hello" for a song) is never
    # dropped as chatter. An empty result is for the caller to decline: nothing was asked.
    text = _BLANKS.sub(" ", _EMOTICON.sub("\n", text))  # an emoticon ends what it follows
    segments = []
    for raw in _segments(text):
        segment, framed = _strip_edges(raw, keep)
        segment = _drop_lead_in(segment, keep)
        if segment and not _is_chatter(segment, keep):
            segments.append((segment, framed))
    if not segments:
        return ""
    asking = [i for i, (segment, _) in enumerate(segments) if _ASKS.search(segment)]
    chosen = set(asking) if asking else set(range(len(segments)))
    for i in asking:
        segment = segments[i][0]
        if i > 0 and i - 1 not in asking and (_CONFIRM.search(segment) or _REFERS.search(segment)):
            chosen.add(i - 1)  # "my friend says X. Is that true?" needs X
    kept = [_finish(*segments[i], checked=_has_confirmation(segments, i)) for i in sorted(chosen)]
    return " ".join(kept)


def _segments(text: str) -> list[str]:
    """Sentences and dash-separated parts of a message, abbreviations mended."""
    parts: list[str] = []
    for part in _BOUNDARY.split(text):
        part = part.strip()
        if not part:
            continue
        if parts and _ABBREVIATION.search(parts[-1]):
            parts[-1] += " " + part
        else:
            parts.append(part)
    return parts


def _strip_edges(segment: str, keep: Callable[[str], bool]) -> tuple[str, bool]:
    """The segment without chatter at its start and end, and whether a question frame went."""
    framed = False
    while True:
        before = segment
        for pattern in (_OPENER, _FRAME, _LEFT_OVER) if framed else (_OPENER, _FRAME):
            match = pattern.match(segment)
            if match and match.end() and not _kept(match.group(), keep):
                segment = segment[match.end() :]
                framed = framed or pattern is _FRAME
        match = _CLOSER.search(segment)
        if match and match.start() < len(segment) and not _kept(match.group(), keep):
            segment = segment[: match.start()].rstrip(" ,;:-–—")
        if segment == before:
            return segment, framed


def _drop_lead_in(segment: str, keep: Callable[[str], bool]) -> str:
    """A segment without the chatter clauses before its ask: "i'm writing a report, how ..."."""
    clauses = _CLAUSE.split(segment)
    i = next((i for i, clause in enumerate(clauses) if _ASKS.search(clause)), 0)
    # Only chatter goes: in "uk or france, which ...?" the clause before the ask is the ask's.
    if i and all(_is_chatter(_strip_edges(c, keep)[0], keep) for c in clauses[:i]):
        return ", ".join(clauses[i:])
    return segment


def _kept(phrase: str, keep: Callable[[str], bool]) -> bool:
    return any(keep(word) for word in words(phrase))


def _is_chatter(segment: str, keep: Callable[[str], bool]) -> bool:
    """Whether a segment is nothing but chatter (or punctuation)."""
    if not words(segment):
        return True
    return bool(_CHATTER_ONLY.fullmatch(segment)) and not _kept(segment, keep)


def _has_confirmation(segments: list[tuple[str, bool]], i: int) -> bool:
    """Whether segment `i` holds a claim to be checked, by itself or by the next segment."""
    own = _CONFIRM.search(segments[i][0])
    following = i + 1 < len(segments) and _CONFIRM.fullmatch(segments[i + 1][0].strip())
    return bool(own or following)


def _finish(segment: str, framed: bool, *, checked: bool) -> str:
    """A kept segment tidied: hearsay before a checked claim dropped, one closing mark."""
    if checked:
        segment = _HEARSAY.sub("", segment, count=1)
    segment = _REPEATED_MARK.sub(r"\1", segment).strip()
    if framed and not segment.endswith("?"):
        segment = segment.rstrip(".!;: ") + "?"  # what a frame announced was a question
    return segment
