"""Place names in sentences: what the extractive answerer credits for "where" questions."""

from __future__ import annotations

import pytest

from bot.answer.places import places_in


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("The Thwaites Glacier, located in West Antarctica, is retreating.", ["Antarctica"]),
        ("Antarctica’s so-called doomsday glacier", ["Antarctica"]),
        ("Aid reached the U.S. and the Democratic Republic of the Congo.",
         ["U.S.", "Democratic Republic of the Congo"]),
        ("Shelling hit Kyiv; in New York City, Los Angeles and California people marched.",
         ["Kyiv", "New York City", "Los Angeles", "California"]),
        ("Twitter and Stephen King argued on Monday.", []),
        # US copy names its mid-size cities bare; elsewhere a city that size is a name more often than a place.
        ("Rents rose most in Miami, then Boston and Seattle.", ["Miami", "Boston", "Seattle"]),
        ("Batman and Bimbo topped the costume charts.", []),
        ("a man from georgia", []),  # lowercase is not a name
    ],
)
def test_places_in(text: str, places: list[str]) -> None:
    assert list(places_in(text)) == places


def test_places_of_a_kind() -> None:
    text = "Cases in the US rose, most of them in California and New York City; Georgia reported few."
    assert list(places_in(text, ("state",))) == ["California", "Georgia"]
    assert list(places_in(text, ("country",))) == ["US", "Georgia"]
    assert list(places_in(text, ("city",))) == ["New York City"]
