"""The fast polite-fetching tests of tests/test_polite_fetch.py, run again against a `chroma run` server: the
registry's validators, the manifest's `from_summary` and `checked_at` go through Chroma's HTTP client there.

The 20-feed test is left to embedded mode (where it lives): it shows request counts, which the store's mode does
not change, and embedding 1,000 articles twice would only make the suite slower.
"""

from __future__ import annotations

import pytest
from test_polite_fetch import (  # noqa: F401 (the tests and fixtures to run again)
    _test_site,
    test_a_page_followed_directly_answers_304_and_a_prune_keeps_its_article,
    test_last_modified_alone_makes_the_request_conditional,
    test_robots_txt_is_read_once_per_host_and_a_disallowed_page_is_skipped,
    test_stored_entries_are_not_fetched_again_unless_stamped_later,
)

from bot.settings import Settings

pytest_plugins = ["chroma_server"]
pytestmark = pytest.mark.server


@pytest.fixture
def settings(server_settings: Settings) -> Settings:
    return server_settings
