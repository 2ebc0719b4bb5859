"""The error proxy around Chroma: a server that stops answering becomes a StoreError (one line in the CLI, a named
reason in the bot), not a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from vectorstore.errors import StoreError

_F = TypeVar("_F", bound=Callable[..., Any])


def guard(func: _F) -> _F:
    """`func`, raising StoreError when the Chroma server cannot be reached."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except httpx.TransportError as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise StoreError(f"lost the connection to the Chroma server ({reason}); is it running?") from exc

    return wrapper  # type: ignore[return-value]


class GuardedCollection:
    """A Chroma collection whose calls raise StoreError when the server is unreachable."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._collection, name)
        return guard(value) if callable(value) else value
