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


@pytest.mark.skip(
    reason="server mode keeps dead chunks for NEWSBOT_GC_GRACE_S (another writer may be mid-commit), so the "
    "rerun does not collect them at once; test_store_modes covers the grace period in both modes"
)
def test_crash_after_the_flip_leaves_the_new_version_and_gc_removes_the_old() -> None:
    pass
