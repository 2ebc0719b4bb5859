"""The sitemap tests whose state lives in the registry, run again against a `chroma run` server: the source's
validators and its nested sitemaps' validators (set, then cleared) go through Chroma's HTTP client there."""

from __future__ import annotations

import pytest
from test_sitemaps import (  # noqa: F401 (the tests and fixtures to run again)
    _test_site,
    test_an_index_asks_its_sitemaps_conditionally_and_an_unchanged_one_costs_one_request,
    test_an_unchanged_sitemap_polled_twice_fetches_no_page_and_a_dropped_url_deletes_nothing,
)

from bot.settings import Settings

pytest_plugins = ["chroma_server"]
pytestmark = pytest.mark.server


@pytest.fixture
def settings(server_settings: Settings) -> Settings:
    return server_settings
