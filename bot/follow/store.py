"""Followed topics and the whole follow store, in the bot's SQLite database beside the store.

`FollowStore` is what the bot and the poller use: the topics here, the notification queue
(`notifications.py`) and the preferences (`preferences.py`), on one connection (`connection.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.database import now_iso
from bot.follow.models import FollowStats, Topic
from bot.follow.notifications import NotificationQueue
from bot.follow.preferences import PreferenceStore


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


_TOPIC = "id, user_id, chat_id, text, created_at"


class FollowStore(NotificationQueue, PreferenceStore):
    """Topics, notifications and preferences; every call is a short transaction (see `Connection`)."""

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
