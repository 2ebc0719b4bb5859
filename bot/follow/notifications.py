"""The notification queue: what matching found, queued once per (user, article, matching sentence), claimed for
one message by one sender and finished as sent, failed or dropped.

Exactly once: a notification is one row, unique per (user, article, matching sentence), inserted by whichever
process ingested the article and claimed, in one transaction, by the one process that sends it. A claim is
never handed to another sender: a process killed mid-send leaves its claim, which expires as failed, so a
message is sent at most once even when nobody knows whether it arrived.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bot.follow.connection import Connection
from bot.follow.models import Batch, Item, Match


def sentence_key(sentence: str) -> str:
    """What identifies a matching sentence across re-ingests: its words, whitespace and case aside."""
    return hashlib.sha256(" ".join(sentence.lower().split()).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class PendingUser:
    user_id: int
    chat_id: int
    oldest: float  # when the oldest pending notification was queued (epoch seconds)


class NotificationQueue(Connection):
    """Notifications from queued to sent: `queue`, then per user `claim` and `finish` (or `retry_later`)."""

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
        """(article id, status) of a user's notifications, oldest first: what the tests and the benchmark check."""
        with self._lock:
            rows = self._db.execute(
                "SELECT article_id, status FROM notifications WHERE user_id = ? ORDER BY id", (user_id,)
            ).fetchall()
        return [(str(a), str(s)) for a, s in rows]
