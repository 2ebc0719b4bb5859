"""Cognates across languages by their letters (bot/answer/cognates.py): which words of a question in another
language are taken for the coverage's words, and which are not."""

from __future__ import annotations

import pytest

from bot.answer.cognates import CognateIndex, CognateRule, shape
from bot.answer.engine import EngineConfig

RULE = EngineConfig().cognates
assert RULE is not None

COVERAGE = (
    "parliament Ukrainian Ukraine president minister sanctions inflation nominations products election articles "
    "popular final government promoted season service deputy chair cited political"
).split()


@pytest.mark.parametrize(
    ("word", "cognate"),
    [
        ("Parlamento", "parliament"),  # Italian
        ("парламенту", "parliament"),  # Ukrainian, inflected
        ("президент", "president"),
        ("міністр", "minister"),
        ("санкції", "sanctions"),  # -ції, -zione and -tion are one ending
        ("інфляція", "inflation"),
        ("inflazione", "inflation"),
        ("номінацій", "nominations"),
        ("prodotti", "products"),  # Italian -tt- for English -ct-
        ("продуктів", "products"),
        ("elezioni", "election"),
        ("articoli", "articles"),
        ("ucraino", "Ukraine"),  # the closest of "Ukraine" and "Ukrainian"
        ("governo", "government"),  # the start of the other, at 6 letters or more
    ],
)
def test_a_loan_word_is_found_as_the_coverages_word(word: str, cognate: str) -> None:
    assert CognateIndex(COVERAGE, RULE).cognates(word)[0] == cognate


@pytest.mark.parametrize(
    "word",
    [
        "голови",  # "chair": translated, no cognate
        "заступником",  # "deputy"
        "citato",  # "cited": "sitat" and "sited", two letters apart in five
        "шоу",  # "show": too short to tell
        "сезон",  # "season": two letters apart in six
        "stagione",
        "пообіцяла",  # promised: not "political" ("pobitsial", "politikal")
        "promessa",  # not "promoted": "promes" and "promoted", 4 letters apart
    ],
)
def test_a_word_with_no_cognate_in_the_coverage_finds_none(word: str) -> None:
    assert CognateIndex(COVERAGE, RULE).cognates(word) == []


def test_shapes_merge_spellings_and_drop_inflection() -> None:
    assert shape("Parlamento") == "parlament" and shape("parliament") == "parliament"
    assert shape("inflazione") == shape("inflation") == "inflation"
    assert shape("articoli") == "artikol" and shape("articles") == "artikl"


def test_the_rule_needs_the_first_letter_and_enough_letters() -> None:
    rule = CognateRule(min_letters=5, max_edits=0.25, min_prefix_letters=6)
    assert rule.same("parlament", "parliament")
    assert not rule.same("barlament", "parliament")  # first letters differ
    assert not rule.same("final", "fina")  # too short
    assert rule.same("ukrain", "ukrainian") and not rule.same("ukrai", "ukrainian")  # a start of 6 letters
