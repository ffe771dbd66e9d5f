"""Quantities in a unit: what a question asks for, and whether a sentence states one."""

import pytest

from qa.question.measures import Measure, asked_measure, states


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("How much did the bridge cost to build?", Measure.MONEY),
        ("how much money does the council pay a family", Measure.MONEY),
        ("what was the price of a ticket in 1900", Measure.MONEY),
        ("What percentage of voters stayed home?", Measure.PERCENT),
        ("what temperature does tin melt at", Measure.TEMPERATURE),
        ("top speed of the first locomotive", Measure.SPEED),
        ("How long did the siege last?", Measure.DURATION),
        ("how long is the river", Measure.SIZE),
        ("How tall is the tower?", Measure.SIZE),
        ("how many horsepower did it make", Measure.POWER),
        ("How heavy was the anchor?", Measure.WEIGHT),
        ("how old was she when she left", Measure.AGE),
        ("How many people live in the city?", None),
        ("how much do they like it", None),
        ("When did the war end?", None),
        ("Who built the bridge?", None),
    ],
)
def test_the_quantity_a_question_asks_for(question, measure):
    assert asked_measure(question) is measure


@pytest.mark.parametrize(
    ("sentence", "measure", "stated"),
    [
        ("The bridge cost $4.5 million.", Measure.MONEY, True),
        ("Tickets were sold for 3 shillings each.", Measure.MONEY, True),
        ("The bridge opened in 1890 with 12 arches.", Measure.MONEY, False),
        ("Turnout fell to 48 percent.", Measure.PERCENT, True),
        ("Nearly half of them stayed.", Measure.PERCENT, True),
        ("Turnout fell sharply in 1990.", Measure.PERCENT, False),
        ("Tin melts at 232 °C.", Measure.TEMPERATURE, True),
        ("It reached 29 miles per hour on the trial.", Measure.SPEED, True),
        ("It won the trial in 1829.", Measure.SPEED, False),
        ("The siege lasted eleven months.", Measure.DURATION, True),
        ("The siege ended in a treaty.", Measure.DURATION, False),
        ("The river is 300 km long.", Measure.SIZE, True),
        ("The river rises in the hills.", Measure.SIZE, False),
        ("The engine made 50 hp.", Measure.POWER, True),
        ("The anchor weighed 3 tonnes.", Measure.WEIGHT, True),
        ("She left at the age of 17.", Measure.AGE, True),
    ],
)
def test_whether_a_sentence_states_it(sentence, measure, stated):
    assert states(sentence, measure) is stated


def test_a_time_or_a_length_answers_how_long():
    assert states("It runs for 3 miles along the coast.", Measure.DURATION)
    assert states("The course runs for six weeks.", Measure.SIZE)
