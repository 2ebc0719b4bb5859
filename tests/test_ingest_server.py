"""The incremental-ingest tests of tests/test_ingest_incremental.py, run again against a `chroma run` server.

Nothing is copied: the test functions and their fixtures are imported, and `settings` is overridden so the
shared `runtime` fixture uses a fresh collection on the session's server. Embedded mode is covered where the
tests live.
"""

from __future__ import annotations

import pytest
from test_ingest_incremental import *  # noqa: F403 (the tests and fixtures to run again)

from bot.settings import Settings

pytest_plugins = ["chroma_server"]
pytestmark = pytest.mark.server


@pytest.fixture
def settings(server_settings: Settings) -> Settings:
    return server_settings
