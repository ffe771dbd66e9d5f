"""The first stage of a question: typos corrected against the corpus's words, chatter dropped."""

import json

import pytest

from conftest import CORPUS, CORPUS_DOC
from qa.index.vocabulary import Vocabulary
from qa.question.clean import Cleaned, Cleaner, is_sure

CORPUS_FILE = CORPUS / CORPUS_DOC

TEXT = """The Railway Locomotive
Engineers invented the railway locomotive in England. Many guests were invited to the opening.
The invited guests rode behind the locomotive, and more guests were invited the next year.
In 1825 Stephenson built a better boiler, and the boiler made the locomotive faster.
Later, Stephenson also built bridges. Engineers then invented the steam turbine, which
turns faster than any engine.
"""


@pytest.fixture(scope="module")
def small() -> Cleaner:
    return Cleaner(Vocabulary.from_texts([TEXT]))


@pytest.fixture(scope="module")
def corpus() -> Cleaner:
    return Cleaner(Vocabulary.from_texts([CORPUS_FILE.read_text(encoding="utf-8")]))


# Vocabulary


def test_vocabulary_counts_words_in_any_case_without_numbers():
    vocabulary = Vocabulary.from_texts([TEXT])
    assert vocabulary.count("locomotive") == 4
    assert vocabulary.count("Locomotive") == 4
    assert vocabulary.count("1825") == 0
    assert "1825" not in vocabulary.counts


def test_vocabulary_json_round_trip():
    vocabulary = Vocabulary.from_texts([CORPUS_FILE.read_text(encoding="utf-8")])
    data = json.loads(json.dumps(vocabulary.to_json()))
    assert Vocabulary.from_json(data) == vocabulary
    empty = Vocabulary.from_texts([])
    assert Vocabulary.from_json(json.loads(json.dumps(empty.to_json()))) == empty


def test_vocabulary_json_refuses_another_format():
    with pytest.raises(ValueError, match="format"):
        Vocabulary.from_json({"format": 99, "words": "", "counts": [], "capitalised": []})


def test_is_name_for_a_word_written_capitalised_mid_sentence():
    vocabulary = Vocabulary.from_texts([TEXT])
    assert vocabulary.is_name("stephenson")
    assert vocabulary.is_name("England")


def test_is_name_not_for_a_word_capitalised_only_at_sentence_starts():
    vocabulary = Vocabulary.from_texts([TEXT])
    assert not vocabulary.is_name("engineers")  # "Engineers invented ..." starts a sentence
    assert not vocabulary.is_name("later")
    assert not vocabulary.is_name("locomotive")  # in the title once, lower-case three times
    assert not vocabulary.is_name("unheard")


def test_is_name_not_for_the_pronoun_i():
    vocabulary = Vocabulary.from_texts(["Then I left, and I'm glad I did."])
    assert not vocabulary.is_name("i")
    assert not vocabulary.is_name("i'm")


def test_is_name_in_the_repo_corpus():
    vocabulary = Vocabulary.from_texts([CORPUS_FILE.read_text(encoding="utf-8")])
    assert vocabulary.is_name("hanawon")
    assert vocabulary.is_name("canada")
    assert not vocabulary.is_name("refugees")


# Typos


def test_typos_corrected_to_corpus_words(small):
    cleaned = small.clean("who built the bolier for the locomotve")
    assert cleaned.text == "who built the boiler for the locomotive"
    assert cleaned.corrections == (("bolier", "boiler"), ("locomotve", "locomotive"))


def test_a_dropped_letter_beats_a_commoner_word_one_edit_away(small):
    # "invited" is commoner in the text, but "invnted" is "invented" with a letter dropped.
    assert small.clean("who invnted the turbine").text == "who invented the turbine"


def test_names_typed_lower_case_corrected_and_capitalised(corpus):
    assert corpus.clean("what is hanwon").text == "what is Hanawon"
    assert corpus.clean("defectors in belgum").text == "defectors in Belgium"


def test_the_briefs_example_reads_as_the_corpus_writes_it(corpus):
    cleaned = corpus.clean("hw many defecters live in canda")
    assert cleaned.text == "how many defectors live in Canada"
    assert cleaned.corrections == (("hw", "how"), ("defecters", "defectors"), ("canda", "Canada"))


def test_real_english_words_left_alone(corpus):
    for question in ("what devise do they use", "do defectors settle in austria"):
        assert corpus.clean(question) == Cleaned(question, ())


def test_corpus_words_left_alone_whatever_their_case(corpus):
    question = "how many north koreans live in canada"
    assert corpus.clean(question) == Cleaned(question, ())


def test_question_word_typos_fixed(small):
    assert small.clean("hw many guests came").text == "how many guests came"
    assert small.clean("wat is a boiler").text == "what is a boiler"
    assert small.clean("whn was the turbine invented").text == "when was the turbine invented"
    assert small.clean("wich boiler was better").text == "which boiler was better"


def test_a_short_word_stays_when_no_question_follows(small):
    question = "what colour is a hen"
    assert small.clean(question).text == question


def test_rare_dictionary_word_a_letter_short_of_a_corpus_word_fixed(small):
    # "engin" is in the English list, if rarely: it is "engine" cut short.
    assert small.clean("steam engin inventor").text == "steam engine inventor"


def test_numbers_untouched(corpus):
    question = "refugees in the 1980s, 33,000 or 970 in 2014?"
    assert corpus.clean(question) == Cleaned(question, ())


def test_plural_of_a_corpus_word_left_alone(corpus):
    question = "what did the 33yo woman find out about nks in south korea"
    assert corpus.clean(question) == Cleaned(question, ())


def test_acronyms_untouched(small):
    question = "what did the RNLI do with the HMS locomotive"
    assert small.clean(question).text == question


def test_punctuation_kept_around_a_correction(corpus):
    assert corpus.clean("how many live in canda?").text == "how many live in Canada?"


def test_words_run_together_split(small):
    cleaned = small.clean("who built the steamturbine")
    assert cleaned.text == "who built the steam turbine"
    assert cleaned.corrections == (("steamturbine", "steam turbine"),)


def test_a_corpus_word_typed_in_two_parts_joined(small):
    assert small.clean("who built the loco motive").text == "who built the loco motive"
    assert small.clean("who built the locom otive").text == "who built the locomotive"


def test_chat_spellings_written_out(small):
    assert small.clean("can u ride a locomotive").text == "can you ride a locomotive"
    assert small.clean("dont locomotives need a boiler").text == ("don't locomotives need a boiler")


# Chatter


def test_greeting_and_thanks_dropped(small):
    assert small.clean("hi! who built the boiler? thanks").text == "who built the boiler?"
    assert small.clean("hello, who built the boiler thanks so much").text == (
        "who built the boiler"
    )


def test_indirect_question_frame_dropped(small):
    message = (
        "hi! sorry to bother you, I was wondering whether you know how many people live "
        "there? thanks"
    )
    assert small.clean(message).text == "how many people live there?"


def test_a_hedged_indirect_question_keeps_its_hedge(small):
    message = "i was wondering roughly how many guests came? thanks"
    assert small.clean(message).text == "roughly how many guests came?"


def test_a_framed_question_ends_with_a_question_mark(small):
    message = "could you tell me when the turbine was invented please"
    assert small.clean(message).text == "when the turbine was invented?"


def test_the_asking_sentence_kept_from_several(small):
    message = (
        "Good morning! I was wondering if you could help me. What's the boiler for? "
        "Many thanks in advance."
    )
    assert small.clean(message).text == "What's the boiler for?"


def test_context_before_a_dash_dropped(small):
    message = "hiya, me again sorry. doing a school project - who built bridges?? ta"
    assert small.clean(message).text == "who built bridges?"


def test_a_chatter_clause_before_the_ask_dropped(small):
    message = "hey so i'm writing a school report lol, how many guests were invited?"
    assert small.clean(message).text == "how many guests were invited?"
    message = "sorry if this is a weird one, but who built bridges?"
    assert small.clean(message).text == "who built bridges?"


def test_a_clause_that_belongs_to_the_ask_kept(small):
    question = "boiler or turbine, which came first?"
    assert small.clean(question).text == question


def test_emoticons_dropped(small):
    message = "hey there, hope your day is going well :) quick one - who built bridges? cheers"
    assert small.clean(message).text == "who built bridges?"


def test_a_claim_to_check_kept_with_its_check(small):
    message = "ok so my friend told me Stephenson built bridges, is that right?"
    assert small.clean(message).text == "Stephenson built bridges, is that right?"
    message = "my dad says Stephenson built bridges. Is that true?"
    assert small.clean(message).text == "Stephenson built bridges. Is that true?"


def test_a_sentence_an_ask_refers_to_kept(small):
    message = "I'm reading about the turbine. who invented it?"
    assert small.clean(message).text == message


def test_yes_no_questions_unchanged(small):
    for question in (
        "Is it right that Stephenson built bridges?",
        "did engineers invent the turbine",
        "were guests invited to the opening?",
    ):
        assert small.clean(question).text == question


def test_please_inside_a_title_kept(small):
    for question in ("who sang Please Please Me", "Please Please Me release year"):
        assert small.clean(question).text == question


def test_a_message_of_only_chatter_comes_back_empty(small):
    for message in ("hello!", "Hi there :)", "thanks so much!", "how are you?"):
        assert small.clean(message) == Cleaned("", ())


def test_chatter_word_that_the_corpus_uses_as_a_name_kept():
    cleaner = Cleaner(Vocabulary.from_texts(["Her song Hello topped the charts in 2015."]))
    assert cleaner.clean("when did Hello top the charts").text == "when did Hello top the charts"
    assert cleaner.clean("hello").text == "hello"


@pytest.mark.parametrize(
    "query",
    [
        "steam turbine inventor year",
        "Stephenson boiler 1825",
        "railway locomotive England opening",
        "well water depth",
    ],
)
def test_keyword_queries_unchanged(small, query):
    assert small.clean(query) == Cleaned(query, ())


def test_corrections_in_dropped_chatter_not_reported(small):
    cleaned = small.clean("my project is on locomotve history. who built bridges?")
    assert cleaned == Cleaned("who built bridges?", ())


@pytest.mark.parametrize(
    ("typed", "fixed", "sure"),
    [
        ("defecters", "defectors", True),  # one edit in a long word
        ("invnted", "invented", True),  # a dropped letter put back
        ("teh", "the", True),  # swapped neighbours
        ("u", "you", True),  # chat spelling
        ("farm house", "farmhouse", True),  # run together
        ("ofer", "offer", True),  # a dropped letter
        ("cnada", "canada", True),
        ("bost", "best", False),  # one changed letter in a short word: a guess
        ("defactorz", "defectors", False),  # two edits
    ],
)
def test_sure_corrections(typed, fixed, sure):
    assert is_sure(typed, fixed) is sure
