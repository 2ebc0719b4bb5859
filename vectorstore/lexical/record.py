"""The SQLite file beside the tantivy index: which generation of the index is current, the store token it was
brought to, and the version of each article it holds."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from vectorstore.lexical.index import FORMAT


@dataclass(frozen=True)
class IndexState:
    generation: str
    token: str


class IndexRecord:
    """The SQLite file beside the tantivy index: the index's format, generation and token, and the version of
    each article it holds. Its write lock serialises updates across processes; readers never wait (WAL)."""

    def __init__(self, path: Path, format: str = FORMAT) -> None:
        self.format = format  # of the index this process reads and writes (`Analysis.format`)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0.0)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self.db.execute("CREATE TABLE IF NOT EXISTS article (id TEXT PRIMARY KEY, version TEXT NOT NULL)")

    def state(self) -> IndexState | None:
        meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format") != self.format or not meta.get("generation"):
            return None
        return IndexState(meta["generation"], meta.get("token", ""))

    def begin(self, timeout_s: float) -> bool:
        """Take the write lock; False if another process holds it longer than `timeout_s`."""
        self.db.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return False
            raise
        return True

    def versions(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT id, version FROM article").fetchall())

    def apply(self, gone: Iterable[str], live: Iterable[tuple[str, str]]) -> None:
        self.db.executemany("DELETE FROM article WHERE id = ?", [(a,) for a in gone])
        self.db.executemany("INSERT OR REPLACE INTO article (id, version) VALUES (?, ?)", list(live))

    def replace_all(self, versions: Mapping[str, str], generation: str) -> None:
        self.db.execute("DELETE FROM article")
        self.db.executemany("INSERT INTO article (id, version) VALUES (?, ?)", list(versions.items()))
        self.set(format=self.format, generation=generation)

    def claim_compaction(self, expires_s: float = 3600.0) -> bool:
        """True if no other process claimed a compaction within `expires_s` (a killed one's claim expires);
        False too if the record is busy (the next update asks again)."""
        if not self.begin(timeout_s=1.0):
            return False
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'compacting'").fetchone()
            if row and row[0] and time.time() - float(row[0]) < expires_s:
                self.db.execute("ROLLBACK")
                return False
            self.set(compacting=str(time.time()))
            self.db.execute("COMMIT")
            return True
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def set(self, **values: str) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items()))


