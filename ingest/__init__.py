"""Ingest: turn files, pages and feeds into clean articles, chunk them, embed them and write them to the store.

This module is ingest's public API: `bot/` imports only the names below, never ingest's modules, so those can be
split or renamed freely. Names are loaded on first use (PEP 562), so `import ingest` for a registry type does not
pull in trafilatura, feedparser and the embedder, which only an ingest run needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.errors import ItemError, ItemWarning
    from ingest.fetch_policy import AllowList, parse_allow_entry
    from ingest.fetching import FetchOptions, SitemapLimits, Validators
    from ingest.pipeline import IngestOptions, IngestReport, Progress, ingest
    from ingest.registry import (
        DEFAULT_EVERY_S,
        Lease,
        Outcome,
        Source,
        SourceRegistry,
        after_poll,
        format_every,
        is_due,
        lease_available,
        new_source,
        parse_every,
        pending_seeds,
    )
    from ingest.sources import is_url

__all__ = [
    "DEFAULT_EVERY_S",
    "AllowList",
    "FetchOptions",
    "IngestOptions",
    "IngestReport",
    "ItemError",
    "ItemWarning",
    "Lease",
    "Outcome",
    "Progress",
    "SitemapLimits",
    "Source",
    "SourceRegistry",
    "Validators",
    "after_poll",
    "format_every",
    "ingest",
    "is_due",
    "is_url",
    "lease_available",
    "new_source",
    "parse_allow_entry",
    "parse_every",
    "pending_seeds",
]

# Where the names above live, cheapest import first: a name is looked up module by module.
_MODULES = (
    "ingest.errors",
    "ingest.fetch_policy",
    "ingest.registry",
    "ingest.fetching",
    "ingest.sources",
    "ingest.pipeline",
)


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module_name in _MODULES:
            module = importlib.import_module(module_name)
            if hasattr(module, name):
                return getattr(module, name)
    raise AttributeError(f"module 'ingest' has no attribute {name!r}")
