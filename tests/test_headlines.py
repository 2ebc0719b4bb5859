"""Site names trailing a headline: the outlet's, and only the outlet's, go."""

from __future__ import annotations

import pytest

from ingest.headlines import without_site_name


@pytest.mark.parametrize(
    ("title", "url", "source", "expected"),
    [
        ("Average US gas price hits $5 for first time - CNN", "https://www.cnn.com/x", None,
         "Average US gas price hits $5 for first time"),
        ("Senate seats most likely to flip - CNNPolitics", "https://edition.cnn.com/x", "cnn.com",
         "Senate seats most likely to flip"),
        ("BYD shrugs off China's lockdowns | CNN ...", None, "cnn.com", "BYD shrugs off China's lockdowns"),
        ("Why gas prices are falling | The Week UK", "https://theweek.com/x", None, "Why gas prices are falling"),
        # Not the outlet: a section, another site, or a headline with a dash of its own.
        ("Ukraine war - live updates", "https://www.cnn.com/x", None, "Ukraine war - live updates"),
        ("Oil slips - OilPrice.com", "https://www.cnn.com/x", None, "Oil slips - OilPrice.com"),
        ("Italy - Ukraine talks resume", None, None, "Italy - Ukraine talks resume"),
        ("Kyiv - CNN", "https://www.cnn.com/x", None, "Kyiv - CNN"),  # nothing left but a word
    ],
)
def test_without_site_name(title: str, url: str | None, source: str | None, expected: str) -> None:
    assert without_site_name(title, url, source) == expected
