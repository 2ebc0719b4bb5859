"""Per-item ingest failures and warnings: reported in one line each, never fatal to the rest of a run."""

from __future__ import annotations


class ItemError(Exception):
    """One source item (file, record, page, feed) could not be ingested."""

    def __init__(self, item: str, reason: str) -> None:
        super().__init__(f"{item}: {reason}")
        self.item = item
        self.reason = reason


class ItemWarning(ItemError):
    """An item that was stored, but not quite as given (a date that is not a date was left out)."""
