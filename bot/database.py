"""The bot's SQLite database beside the store (feedback, followed topics, notifications): one file, opened by
each store that keeps state in it, and grown by small, named, append-only migrations.

Each migration runs once, in its own transaction, recorded by name in `migrations`; never edit one that has
shipped, add the next. Stores keep their own lists (names prefixed by what they hold) in the one table.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

Migration = tuple[str, str]  # (name, SQL statements separated by ';')


def now_iso() -> str:
    """UTC now, ISO 8601 to the second: how every table records a time."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def connect(path: Path) -> sqlite3.Connection:
    """A connection shared by threads (callers hold a lock), autocommit, WAL so readers never wait for writers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    return db


def migrate(db: sqlite3.Connection, lock: threading.Lock, migrations: Sequence[Migration]) -> list[str]:
    """Apply the migrations not applied yet, in order; returns their names."""
    applied: list[str] = []
    with lock:
        db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {row[0] for row in db.execute("SELECT name FROM migrations")}
        for name, sql in migrations:
            if name in done:
                continue
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone() is None:
                    for statement in sql.split(";"):  # another process may have applied it meanwhile
                        if statement.strip():
                            db.execute(statement)
                    db.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, now_iso()))
                    applied.append(name)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
    return applied
