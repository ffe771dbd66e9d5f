"""Exact match and F1 as the official SQuAD v2.0 script defines them.

The official script (evaluate-v2.0.py, published with SQuAD 2.0 on CodaLab) states no
licence, so it is not vendored here: each expected figure below is worked out by hand from
its rules, with the working in a comment.
"""

import pytest

from qa.learning.squad_metrics import (
    exact_match,
    no_answer_probability,
    normalize_answer,
    official_scores,
    token_f1,
)


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("The Moon", "moon"),
        ("  an   apple, a pear!  ", "apple pear"),
        ("Theory of the atom", "theory of atom"),  # articles only as whole words
        ("A.D. 1066", "ad 1066"),  # punctuation goes first, so "A." is no article
        ("the-the", "thethe"),  # the hyphen goes, and "thethe" is one word
        ("Ça coûte 5 €", "ça coûte 5 €"),  # only ASCII punctuation is removed
        ("the", ""),
    ],
)
def test_normalisation_is_the_scripts(text, normalised):
    assert normalize_answer(text) == normalised


def test_exact_match_compares_normalised_answers():
    assert exact_match("the Moon", "moon.") == 1
    assert exact_match("the Moon", "the Sun") == 0


def test_f1_is_over_normalised_tokens_counted_with_repeats():
    # gold "moon", predicted "tides are caused by moon": 1 token in common,
    # precision 1/5, recall 1/1, F1 = 2 * 0.2 * 1 / 1.2 = 1/3.
    assert token_f1("the Moon", "Tides are caused by the Moon.") == pytest.approx(1 / 3)
    # gold "new york new york" (4), predicted "new york" (2): common {new: 1, york: 1} = 2,
    # precision 2/2, recall 2/4, F1 = 2 * 1 * 0.5 / 1.5 = 2/3.
    assert token_f1("New York, New York", "New York") == pytest.approx(2 / 3)
    assert token_f1("Moon", "Sun") == 0.0


def test_f1_with_an_empty_side_is_one_only_when_both_are_empty():
    assert token_f1("", "") == 1.0
    assert token_f1("", "the") == 1.0  # "the" normalises to nothing
    assert token_f1("", "Moon") == 0.0
    assert token_f1("Moon", "") == 0.0


def test_official_scores_over_answerable_and_unanswerable_questions():
    gold = {
        "a": ["the Moon", "Moon's pull"],  # best of the two golds
        "b": ["2021"],
        "c": [],  # unanswerable: its only gold answer is ""
        "d": [],
    }
    predictions = {"a": "moon pull", "b": "in 2021", "c": "", "d": "Sicily"}
    scores = official_scores(gold, predictions)
    # a: exact 0 (neither gold normalises to "moon pull"); F1 against "moon", 1 common of
    #    2 predicted and 1 gold: 2/3; against "moons pull" ("'" removed), 1 common
    #    ("pull") of 2 and 2: 1/2. Best 2/3.
    # b: exact 0; F1 1 common of 2 predicted and 1 gold: 2/3.
    # c: "" against "": exact 1, F1 1.   d: "sicily" against "": exact 0, F1 0.
    assert scores == {
        "exact": pytest.approx(100 * 1 / 4),
        "f1": pytest.approx(100 * (2 / 3 + 2 / 3 + 1 + 0) / 4),
        "total": 4,
        "HasAns_exact": 0.0,
        "HasAns_f1": pytest.approx(100 * 2 / 3),
        "HasAns_total": 2,
        "NoAns_exact": 50.0,
        "NoAns_f1": 50.0,
        "NoAns_total": 2,
    }


def test_a_gold_answer_that_normalises_to_nothing_counts_as_no_answer():
    # The script drops gold answers that normalise to "" and, with none left, takes [""]; the
    # question still counts as answerable, because its list of answers was not empty.
    scores = official_scores({"q": ["The"]}, {"q": ""})
    assert scores["exact"] == scores["f1"] == 100.0
    assert scores["HasAns_total"] == 1


def test_a_block_without_questions_is_left_out_as_the_script_does():
    scores = official_scores({"q": ["Moon"]}, {"q": "Moon"})
    assert scores["exact"] == scores["HasAns_f1"] == 100.0
    assert not any(key.startswith("NoAns_") for key in scores)


def test_every_question_needs_a_prediction():
    with pytest.raises(KeyError, match="no prediction for 1 questions"):
        official_scores({"q": ["Moon"], "r": []}, {"q": "Moon"})


@pytest.mark.parametrize(
    ("confidence", "probability"),
    [(0.9, 0.1), (0.0, 1.0), (1.0, 0.0), (1.2, 0.0), (0.12344, 0.8766)],
)
def test_no_answer_probability_is_one_minus_confidence_in_the_unit_interval(
    confidence, probability
):
    assert no_answer_probability(confidence) == probability
