"""The follow tables' one SQLite connection (in the bot's database beside the store), shared by threads under a
lock; the topics, the notification queue and the preferences each work through it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.database import connect, migrate
from bot.follow.migrations import MIGRATIONS


class Connection:
    """One connection shared by threads under a lock; every call is a short transaction."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = connect(path)
        migrate(self._db, self._lock, MIGRATIONS)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """An immediate transaction: check-then-write is atomic across the processes sharing the file."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()
