"""Errors the store raises; the CLI and the bot turn them into one-line messages."""


class StoreError(Exception):
    """A store problem the user can act on; the message says what to do."""


class StoreLockedError(StoreError):
    """Another process is writing to the same embedded store."""


class StoreMissingError(StoreError):
    """A read-only command found no store (or no collection) where the settings point: it never creates one."""


class ModelMismatchError(StoreError):
    """The store was built with another embedding model than the one configured."""


class InvalidFilterError(StoreError, ValueError):
    """A search filter names no real day (or is otherwise malformed)."""
