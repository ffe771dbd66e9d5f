"""Quantities a question asks for in a unit, and whether a sentence states one.

"How much did the bridge cost?" is answered by an amount of money, not by the year it opened
or the number of its arches; "how fast", by a speed. A sentence about the right subject that
states no quantity of the asked kind is a near miss. These are words of English units, not
of any corpus; the fitted model decides how much their absence counts.
"""

import re
from enum import StrEnum
from functools import lru_cache

from qa.text import any_of


class Measure(StrEnum):
    MONEY = "money"
    PERCENT = "percent"
    TEMPERATURE = "temperature"
    SPEED = "speed"
    SIZE = "size"  # a length, height or distance
    DURATION = "duration"
    POWER = "power"
    WEIGHT = "weight"
    AGE = "age"


_MONEY_WORDS = (
    r"costs?|price[sd]?|pay|pays|paid|charges?|charged|salary|salaries|wages?|fees?|spend|"
    r"spent|money|worth|budget|afford|funds?|funding|invest(ed)?|earns?|earned|sold|sell|buy|"
    r"bought|revenue|profit|fines?|bribes?|tax|taxes|dollars|pounds|sum|loans?|grants?|"
    r"compensation|raised?|donated?"
)
# What a question's words ask for; the first that matches wins.
_ASKS: list[tuple[Measure, re.Pattern[str]]] = [
    (
        Measure.MONEY,
        re.compile(
            rf"\bhow much\b.*\b({_MONEY_WORDS})\b|"
            r"\b(what|how much)\b.*\b(cost|price|budget|salary|fee|wage)s?\b",
            re.I,
        ),
    ),
    (
        Measure.PERCENT,
        any_of(r"what (percent|percentage|proportion|share|fraction)", "how many percent"),
    ),
    (Measure.TEMPERATURE, any_of("temperature", "how hot", "how cold")),
    (Measure.SPEED, any_of("speed", "how fast", "velocity")),
    (
        Measure.DURATION,
        re.compile(
            r"\bhow long (did|does|do|will|would|has|have|had|can|could|should|must)\b|"
            r"\bhow (many|much) (years|months|weeks|days|hours|minutes|time)\b|\bfor how long\b",
            re.I,
        ),
    ),
    (
        Measure.SIZE,
        any_of(
            "how far",
            "how tall",
            "how high",
            "how deep",
            "how wide",
            "how long (is|was|are|were)",
            "height",
            "distance",
            "elevation",
            "altitude",
            "length",
            "diameter",
        ),
    ),
    (Measure.POWER, any_of("horsepower", "how powerful", "power output", "wattage")),
    (Measure.WEIGHT, any_of("how heavy", "weigh", "weighs", "weighed", "weight", "mass of")),
    (Measure.AGE, any_of("how old", "what age", "at what age")),
]

_AMOUNT = (
    r"(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"twenty|thirty|forty|fifty|sixty|hundred|hundreds|thousand|thousands|several|few|many|a|an)"
)
_TIME_UNITS = r"seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centuries|century"
_SIZE_UNITS = (
    r"m|km|cm|mm|ft|feet|foot|miles?|metres?|meters?|kilometres?|kilometers?|inches|inch|yards?"
)
# How a sentence states a quantity of each kind.
_STATES: dict[Measure, re.Pattern[str]] = {
    Measure.MONEY: re.compile(
        r"[$£€¥₩]|\b(dollars?|pounds? sterling|euros?|yen|yuan|renminbi|francs?|marks|rupees?|"
        r"cents?|pence|shillings?|guineas?|usd|gbp|eur|rubles?|roubles?|pesos?|lira|crowns?|"
        r"kronor|won)\b",
        re.I,
    ),
    Measure.PERCENT: re.compile(
        r"%|\b(percent|per cent|percentage|half|third|quarter|fifth|tenth|majority|minority|"
        r"one in \w+|\d+ (in|of) (every )?\d+)\b",
        re.I,
    ),
    Measure.TEMPERATURE: re.compile(
        r"°|\b(degrees?|kelvin|celsius|fahrenheit|centigrade)\b|\d\s?[CFK]\b", re.I
    ),
    Measure.SPEED: re.compile(
        r"\b(mph|km/h|kph|kmh|knots?|m/s|mach|(miles|kilometres|kilometers) (an|per) hour|"
        r"feet per second|per (hour|second|minute))\b",
        re.I,
    ),
    Measure.DURATION: re.compile(
        rf"\b{_AMOUNT}[\s-]*({_TIME_UNITS})\b|\b(until|till|since|from \d{{4}}|between \d{{4}})\b",
        re.I,
    ),
    Measure.SIZE: re.compile(rf"\b{_AMOUNT}[\s-]*({_SIZE_UNITS})\b", re.I),
    Measure.POWER: re.compile(
        r"\b(hp|bhp|horsepower|kw|kilowatts?|mw|megawatts?|watts?|gw)\b", re.I
    ),
    Measure.WEIGHT: re.compile(
        rf"\b{_AMOUNT}[\s-]*(kg|kilograms?|grams?|g|lb|lbs|pounds?|tons?|tonnes?|ounces?|oz)\b",
        re.I,
    ),
    Measure.AGE: re.compile(
        r"\b(aged?|\d+[\s-]years?[\s-]old|\d+-year-old|\d{4}|born|age of|\d+ years)\b", re.I
    ),
}
# "How long" asks for a time or a length, and either answers it.
_ALSO: dict[Measure, tuple[Measure, ...]] = {
    Measure.DURATION: (Measure.SIZE,),
    Measure.SIZE: (Measure.DURATION,),
}


def asked_measure(question: str) -> Measure | None:
    """The kind of quantity the question asks for, if it asks for one in a unit."""
    for measure, pattern in _ASKS:
        if pattern.search(question):
            return measure
    return None


@lru_cache(maxsize=1 << 14)  # the same corpus sentences are read for question after question
def states(sentence: str, measure: Measure) -> bool:
    """Whether the sentence states a quantity of this kind."""
    return any(_STATES[m].search(sentence) is not None for m in (measure, *_ALSO.get(measure, ())))
