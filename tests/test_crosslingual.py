"""The pure parts of answering across languages (bot/answer/crosslingual.py): which missing names decline a
question for certain. The engine's answers across languages are tested in test_multilingual.py."""

from __future__ import annotations

import pytest

from bot.answer.crosslingual import mapped_with_certainty


@pytest.mark.parametrize(
    ("group", "language", "certain"),
    [
        (("Португалія",), "uk", (True,)),  # a country, by CLDR
        (("Portogallo",), "it", (True,)),
        (("Лісабона",), "uk", (True,)),  # a big city, by GeoNames, inflected
        (("G7",), "uk", (True,)),  # a code
        (("NFL",), "it", (True,)),
        (("Champions", "League"), "it", (True, True)),  # English words: an English name, kept as written
        (("Champions", "League"), "en", (False, False)),  # ... but Italian coverage may translate an English one
        (("Casa", "Bianca"), "it", (False, False)),  # Italian words: the coverage says "White House"
        (("Camera",), "it", (False,)),  # one word that is also English proves little
        (("Parlamento",), "it", (False,)),  # a common noun the coverage translates ("Parliament")
        (("Верховної", "Ради", "України"), "uk", (False, False, True)),
        (("ППО", "Італія"), "uk", (False, True)),  # an abbreviation in another script: "air defence"
        (("Мелоні",), "uk", (False,)),  # a name no list holds: transliteration may find it, its absence proves little
    ],
)
def test_names_we_can_map_decline_for_certain(group: tuple[str, ...], language: str, certain: tuple[bool, ...]) -> None:
    assert mapped_with_certainty(group, language) == certain
