"""Followed topics, queued notifications and users' preferences, in the bot's SQLite database beside the store.

Exactly once: a notification is one row, unique per (user, article, matching sentence), inserted by whichever
process ingested the article and claimed, in one transaction, by the one process that sends it. A claim is
never handed to another sender: a process killed mid-send leaves its claim, which expires as failed, so a
message is sent at most once even when nobody knows whether it arrived.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.database import Migration, connect, migrate, now_iso
from bot.follow.models import Batch, FollowStats, Item, Match, Preferences, Topic

MIGRATIONS: tuple[Migration, ...] = (
    (
        "follow_001_topics",
        """
        CREATE TABLE topics (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            text TEXT NOT NULL,
            vector BLOB NOT NULL,              -- float32, unit length: the text embedded as a query
            created_at TEXT NOT NULL,
            stopped_at TEXT                    -- set by "Stop" (rows stay: notifications name them)
        );
        CREATE INDEX topics_user ON topics (user_id) WHERE stopped_at IS NULL;
        CREATE UNIQUE INDEX topics_live_text ON topics (user_id, chat_id, text) WHERE stopped_at IS NULL;
        """,
    ),
    (
        "follow_002_notifications",
        """
        CREATE TABLE batches (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            claimed_by TEXT NOT NULL,
            claimed_at REAL NOT NULL,          -- epoch seconds
            finished_at REAL,
            outcome TEXT,                      -- sent, failed, dropped, retry, interrupted
            rating INTEGER CHECK (rating IN (-1, 1))
        );
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            topic_id INTEGER NOT NULL REFERENCES topics (id),
            article_id TEXT NOT NULL,
            sentence_key TEXT NOT NULL,        -- hash of the matching sentence: an update tells again if it changed
            title TEXT NOT NULL,
            url TEXT,
            date TEXT,
            source TEXT,
            sentence TEXT NOT NULL,
            score REAL NOT NULL,
            updated INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dropped')),
            created_at REAL NOT NULL,
            due_at REAL NOT NULL DEFAULT 0,    -- not before (Telegram asked to wait)
            batch_id INTEGER REFERENCES batches (id),
            UNIQUE (user_id, article_id, sentence_key)
        );
        CREATE INDEX notifications_status ON notifications (status, user_id);
        """,
    ),
    (
        "follow_003_preferences",
        """
        CREATE TABLE preferences (
            user_id INTEGER PRIMARY KEY,
            paused INTEGER NOT NULL DEFAULT 0, -- the bot was blocked: nothing is sent until they follow again
            digest_at TEXT,                    -- HH:MM local: one message a day
            quiet_from TEXT,                   -- HH:MM local
            quiet_to TEXT,
            utc_offset_min INTEGER
        );
        CREATE TABLE follow_flags (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    ),
)

PUSHES_PAUSED = "pushes_paused"


def sentence_key(sentence: str) -> str:
    """What identifies a matching sentence across re-ingests: its words, whitespace and case aside."""
    return hashlib.sha256(" ".join(sentence.lower().split()).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Followed:
    topic: Topic


@dataclass(frozen=True)
class TooMany:
    limit: int


@dataclass(frozen=True)
class AlreadyFollowed:
    topic: Topic


@dataclass(frozen=True)
class TopicMatrix:
    """Every live topic of users not paused, as one matrix (one row per topic) for a batch of new articles."""

    ids: npt.NDArray[np.int64]
    user_ids: npt.NDArray[np.int64]
    chat_ids: npt.NDArray[np.int64]
    texts: list[str]
    vectors: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class PendingUser:
    user_id: int
    chat_id: int
    oldest: float  # when the oldest pending notification was queued (epoch seconds)


_TOPIC = "id, user_id, chat_id, text, created_at"


class FollowStore:
    """One connection shared by threads under a lock; every call is a short transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
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

    # ---- topics ----------------------------------------------------------------------------------------

    def follow(
        self, user_id: int, chat_id: int, text: str, vector: Sequence[float], limit: int
    ) -> Followed | TooMany | AlreadyFollowed:
        """Follow `text` (at most `limit` live topics per user); following again resumes a paused user."""
        blob = np.asarray(vector, dtype=np.float32).tobytes()
        with self._transaction():
            row = self._db.execute(
                f"SELECT {_TOPIC} FROM topics WHERE user_id = ? AND chat_id = ? AND text = ? AND stopped_at IS NULL",
                (user_id, chat_id, text),
            ).fetchone()
            self._db.execute("UPDATE preferences SET paused = 0 WHERE user_id = ?", (user_id,))
            if row is not None:
                return AlreadyFollowed(Topic(*row))
            (count,) = self._db.execute(
                "SELECT COUNT(*) FROM topics WHERE user_id = ? AND stopped_at IS NULL", (user_id,)
            ).fetchone()
            if count >= limit:
                return TooMany(limit)
            created = now_iso()
            cur = self._db.execute(
                "INSERT INTO topics (user_id, chat_id, text, vector, created_at) VALUES (?, ?, ?, ?, ?)",
                (user_id, chat_id, text, blob, created),
            )
            return Followed(Topic(int(cur.lastrowid or 0), user_id, chat_id, text, created))

    def topics(self, user_id: int) -> list[Topic]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_TOPIC} FROM topics WHERE user_id = ? AND stopped_at IS NULL ORDER BY id", (user_id,)
            ).fetchall()
        return [Topic(*row) for row in rows]

    def topic(self, topic_id: int) -> Topic | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_TOPIC} FROM topics WHERE id = ?", (topic_id,)).fetchone()
        return Topic(*row) if row else None

    def stop(self, user_id: int, topic_id: int) -> Topic | None:
        """Stop following a topic of this user's (None: not theirs, or stopped already); its pending
        notifications are dropped."""
        with self._transaction():
            row = self._db.execute(
                f"SELECT {_TOPIC} FROM topics WHERE id = ? AND user_id = ? AND stopped_at IS NULL",
                (topic_id, user_id),
            ).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE topics SET stopped_at = ? WHERE id = ?", (now_iso(), topic_id))
            self._db.execute(
                "UPDATE notifications SET status = 'dropped' WHERE topic_id = ? AND status = 'pending'", (topic_id,)
            )
        return Topic(*row)

    def topic_matrix(self) -> TopicMatrix:
        """The live topics of users who are not paused; one read, one matrix."""
        with self._lock:
            rows = self._db.execute(
                "SELECT t.id, t.user_id, t.chat_id, t.text, t.vector FROM topics t"
                " LEFT JOIN preferences p ON p.user_id = t.user_id"
                " WHERE t.stopped_at IS NULL AND COALESCE(p.paused, 0) = 0 ORDER BY t.id"
            ).fetchall()
        vectors = (
            np.vstack([np.frombuffer(r[4], dtype=np.float32) for r in rows])
            if rows
            else np.zeros((0, 0), dtype=np.float32)
        )
        return TopicMatrix(
            ids=np.array([r[0] for r in rows], dtype=np.int64),
            user_ids=np.array([r[1] for r in rows], dtype=np.int64),
            chat_ids=np.array([r[2] for r in rows], dtype=np.int64),
            texts=[r[3] for r in rows],
            vectors=vectors,
        )

    def has_topics(self) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM topics WHERE stopped_at IS NULL LIMIT 1").fetchone() is not None

    # ---- the queue -------------------------------------------------------------------------------------

    def queue(self, matches: Sequence[Match], now: float | None = None) -> int:
        """Queue notifications for matches, at most one per (user, article) and matching sentence: an article
        already told of is told again only as an update whose matching sentence changed. Returns how many."""
        now = time.time() if now is None else now
        queued = 0
        with self._transaction():
            for m in matches:
                key = sentence_key(m.sentence)
                told = {
                    row[0]
                    for row in self._db.execute(
                        "SELECT sentence_key FROM notifications WHERE user_id = ? AND article_id = ?",
                        (m.user_id, m.article_id),
                    )
                }
                if key in told or (told and not m.updated):
                    continue
                self._db.execute(
                    "INSERT INTO notifications (user_id, chat_id, topic_id, article_id, sentence_key, title, url,"
                    " date, source, sentence, score, updated, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        m.user_id, m.chat_id, m.topic_id, m.article_id, key, m.title, m.url, m.date, m.source,
                        m.sentence, m.score, int(m.updated), now,
                    ),
                )  # fmt: skip
                queued += 1
        return queued

    def pending_users(self, now: float) -> list[PendingUser]:
        """Users with notifications ready to send (not waiting on Telegram, not paused), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT n.user_id, MIN(n.chat_id), MIN(n.created_at) FROM notifications n"
                " LEFT JOIN preferences p ON p.user_id = n.user_id"
                " WHERE n.status = 'pending' AND n.due_at <= ? AND COALESCE(p.paused, 0) = 0"
                " GROUP BY n.user_id ORDER BY MIN(n.created_at)",
                (now,),
            ).fetchall()
        return [PendingUser(int(u), int(c), float(t)) for u, c, t in rows]

    def claim(self, user_id: int, claimer: str, max_items: int, now: float | None = None) -> Batch | None:
        """Claim a user's ready notifications for one message; None when another sender got them first."""
        now = time.time() if now is None else now
        with self._transaction():
            rows = self._db.execute(
                "SELECT n.id, n.topic_id, t.text, n.article_id, n.title, n.url, n.date, n.source, n.sentence,"
                " n.updated, n.chat_id FROM notifications n JOIN topics t ON t.id = n.topic_id"
                " WHERE n.user_id = ? AND n.status = 'pending' AND n.due_at <= ? ORDER BY n.score DESC LIMIT ?",
                (user_id, now, max_items),
            ).fetchall()
            if not rows:
                return None
            chat_id = int(rows[0][10])
            cur = self._db.execute(
                "INSERT INTO batches (user_id, chat_id, claimed_by, claimed_at) VALUES (?, ?, ?, ?)",
                (user_id, chat_id, claimer, now),
            )
            batch_id = int(cur.lastrowid or 0)
            self._db.executemany(
                "UPDATE notifications SET status = 'sending', batch_id = ? WHERE id = ?",
                [(batch_id, row[0]) for row in rows],
            )
        items = tuple(
            Item(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], updated=bool(row[9]))
            for row in rows
        )
        return Batch(batch_id, user_id, chat_id, items)

    def finish(self, batch_id: int, outcome: str) -> None:
        """`sent`, `failed` or `dropped` (Telegram refused the chat): the batch's notifications end so."""
        status = {"sent": "sent", "failed": "failed", "dropped": "dropped"}[outcome]
        with self._transaction():
            self._db.execute(
                "UPDATE batches SET finished_at = ?, outcome = ? WHERE id = ?", (time.time(), outcome, batch_id)
            )
            self._db.execute("UPDATE notifications SET status = ? WHERE batch_id = ?", (status, batch_id))

    def retry_later(self, batch_id: int, due_at: float) -> None:
        """Telegram asked to wait (429): nothing was sent, so the notifications go back to the queue."""
        with self._transaction():
            self._db.execute(
                "UPDATE batches SET finished_at = ?, outcome = 'retry' WHERE id = ?", (time.time(), batch_id)
            )
            self._db.execute(
                "UPDATE notifications SET status = 'pending', batch_id = NULL, due_at = ? WHERE batch_id = ?",
                (due_at, batch_id),
            )

    def expire_claims(self, before: float) -> int:
        """Claims older than `before` whose sender died mid-send: failed, never resent (it may have arrived)."""
        with self._transaction():
            stale = [
                row[0]
                for row in self._db.execute(
                    "SELECT id FROM batches WHERE finished_at IS NULL AND claimed_at < ?", (before,)
                )
            ]
            for batch_id in stale:
                self._db.execute(
                    "UPDATE batches SET finished_at = ?, outcome = 'interrupted' WHERE id = ?", (time.time(), batch_id)
                )
                self._db.execute(
                    "UPDATE notifications SET status = 'failed' WHERE batch_id = ? AND status = 'sending'", (batch_id,)
                )
        return len(stale)

    def rate(self, batch_id: int, user_id: int, rating: int) -> bool:
        """A user's 👍/👎 on a notification of theirs; False for anyone else's or an unknown one."""
        with self._transaction():
            cur = self._db.execute(
                "UPDATE batches SET rating = ? WHERE id = ? AND user_id = ?", (rating, batch_id, user_id)
            )
        return cur.rowcount == 1

    def sent_items(self, user_id: int) -> list[tuple[str, str]]:
        """(article id, status) of a user's notifications, oldest first: what tests and admins check."""
        with self._lock:
            rows = self._db.execute(
                "SELECT article_id, status FROM notifications WHERE user_id = ? ORDER BY id", (user_id,)
            ).fetchall()
        return [(str(a), str(s)) for a, s in rows]

    # ---- preferences and the admin's switch ------------------------------------------------------------

    def preferences(self, user_id: int) -> Preferences:
        with self._lock:
            row = self._db.execute(
                "SELECT user_id, paused, digest_at, quiet_from, quiet_to, utc_offset_min FROM preferences"
                " WHERE user_id = ?",
                (user_id,),
            ).fetchone()
        if row is None:
            return Preferences(user_id)
        return Preferences(row[0], bool(row[1]), row[2], row[3], row[4], row[5])

    def set_preferences(self, prefs: Preferences) -> None:
        names = [f.name for f in fields(Preferences)]
        values = [getattr(prefs, n) for n in names]
        values[names.index("paused")] = int(prefs.paused)
        updates = ", ".join(f"{n} = excluded.{n}" for n in names[1:])
        with self._transaction():
            self._db.execute(
                f"INSERT INTO preferences ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
                f" ON CONFLICT (user_id) DO UPDATE SET {updates}",
                values,
            )

    def pause_user(self, user_id: int) -> None:
        """The user blocked the bot: their topics stop matching and what was queued for them is dropped."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO preferences (user_id, paused) VALUES (?, 1)"
                " ON CONFLICT (user_id) DO UPDATE SET paused = 1",
                (user_id,),
            )
            self._db.execute(
                "UPDATE notifications SET status = 'dropped' WHERE user_id = ? AND status = 'pending'", (user_id,)
            )

    def pushes_paused(self) -> bool:
        with self._lock:
            row = self._db.execute("SELECT value FROM follow_flags WHERE name = ?", (PUSHES_PAUSED,)).fetchone()
        return row is not None and row[0] == "1"

    def set_pushes_paused(self, paused: bool) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT INTO follow_flags (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (PUSHES_PAUSED, "1" if paused else "0"),
            )

    def stats(self) -> FollowStats:
        paused = self.pushes_paused()
        with self._lock:
            topics, followers = self._db.execute(
                "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM topics WHERE stopped_at IS NULL"
            ).fetchone()
            counts = dict(
                self._db.execute("SELECT status, COUNT(*) FROM notifications GROUP BY status").fetchall()
            )
            (paused_users,) = self._db.execute("SELECT COUNT(*) FROM preferences WHERE paused = 1").fetchone()
        return FollowStats(
            topics=int(topics),
            followers=int(followers),
            sent=int(counts.get("sent", 0)),
            failed=int(counts.get("failed", 0)) + int(counts.get("dropped", 0)),
            pending=int(counts.get("pending", 0)) + int(counts.get("sending", 0)),
            paused_users=int(paused_users),
            pushes_paused=paused,
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()
