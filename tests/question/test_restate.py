"""Questions restated as the clause a decline names."""

import pytest

from qa.question.restate import indirect


@pytest.mark.parametrize(
    ("question", "clause"),
    [
        ("how many defectors live in Brazil?", "how many defectors live in Brazil"),
        ("Who won the 2018 World Cup?", "who won the 2018 World Cup"),
        ("How old is the museum?", "how old the museum is"),
        ("What is the capital of France", "what the capital of France is"),
        ("what happened in 1990?", "what happened in 1990"),
        ("How many people are there in the town?", "how many people there are in the town"),
        ("What year is it?", "what year it is"),
    ],
)
def test_questions_in_subject_order_are_restated(question, clause):
    assert indirect(question) == clause


@pytest.mark.parametrize(
    "question",
    [
        "What benefits does the state offer?",  # "do"-support: the verb would change
        "Why do they stay?",
        "When was it founded?",
        "Where is the museum located?",  # "is" would move before the participle
        "Is there a museum?",  # yes/no
        "What about the town?",
        "museum opening hours",  # keywords
        "",
    ],
)
def test_other_forms_are_not_restated(question):
    assert indirect(question) is None
