"""What subscribers asked, what the bot answered, and their 👍/👎, in SQLite next to the store.

The schema grows through small, named, append-only migrations; each runs once, in order, recorded in
`migrations`. Never edit one that has shipped: add the next.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.database import connect, migrate, now_iso

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "001_answers",
        """
        CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            asked_at TEXT NOT NULL,            -- UTC, ISO 8601
            chat_id INTEGER NOT NULL,
            user_id INTEGER,
            question TEXT NOT NULL,
            answer TEXT NOT NULL,              -- plain text with [n] markers
            declined INTEGER NOT NULL,
            article_ids TEXT NOT NULL,         -- JSON list, in citation order
            latency_ms REAL NOT NULL
        );
        CREATE INDEX answers_asked_at ON answers (asked_at);
        """,
    ),
    (
        "002_feedback",
        """
        CREATE TABLE feedback (
            answer_id INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL,
            rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
            rated_at TEXT NOT NULL,
            PRIMARY KEY (answer_id, user_id)
        );
        """,
    ),
)


@dataclass(frozen=True)
class Stats:
    questions_today: int
    declines_today: int
    thumbs_up: int
    thumbs_down: int
    median_latency_ms_today: float | None


@dataclass(frozen=True)
class Rated:
    answer_id: int
    user_id: int
    rating: int
    question: str
    answer: str


@dataclass(frozen=True)
class NotTheAsker:
    """A rating refused: the answer was for someone else (or, in an old record, for nobody known)."""

    answer_id: int
    user_id: int


class FeedbackStore:
    """One connection shared by threads under a lock; every call is a short transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = connect(path)
        self.migrate()

    def migrate(self) -> list[str]:
        """Apply the migrations not applied yet; returns their names."""
        return migrate(self._db, self._lock, MIGRATIONS)

    def record_answer(
        self,
        *,
        chat_id: int,
        user_id: int | None,
        question: str,
        answer: str,
        declined: bool,
        article_ids: Sequence[str],
        latency_ms: float,
    ) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO answers"
                " (asked_at, chat_id, user_id, question, answer, declined, article_ids, latency_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now_iso(),
                    chat_id,
                    user_id,
                    question,
                    answer,
                    int(declined),
                    json.dumps(list(article_ids)),
                    latency_ms,
                ),
            )
            return int(cur.lastrowid or 0)

    def rate(self, answer_id: int, user_id: int, rating: int) -> Rated | NotTheAsker | None:
        """Store (or change) a user's rating of an answer; None if the answer is unknown.

        Only the user the answer was for may rate it: a callback's data can be forged, and in a group everyone
        sees the buttons, so anyone else's rating is refused and nothing is stored.
        """
        if rating not in (-1, 1):
            raise ValueError("rating must be -1 or 1")
        with self._lock:
            row = self._db.execute(
                "SELECT question, answer, user_id FROM answers WHERE id = ?", (answer_id,)
            ).fetchone()
            if row is None:
                return None
            if row[2] != user_id:
                return NotTheAsker(answer_id, user_id)
            self._db.execute(
                "INSERT INTO feedback (answer_id, user_id, rating, rated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (answer_id, user_id)"
                " DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at",
                (answer_id, user_id, rating, now_iso()),
            )
            return Rated(answer_id, user_id, rating, row[0], row[1])

    def asked(self, answer_id: int) -> tuple[int | None, str] | None:
        """Who asked what, for an answer id (the 🔔 button follows the question); None if unknown."""
        with self._lock:
            row = self._db.execute("SELECT user_id, question FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def rating(self, answer_id: int, user_id: int) -> int | None:
        with self._lock:
            row = self._db.execute(
                "SELECT rating FROM feedback WHERE answer_id = ? AND user_id = ?", (answer_id, user_id)
            ).fetchone()
        return int(row[0]) if row else None

    def stats(self, day: str | None = None) -> Stats:
        """Counts for `day` (UTC date, default today) and feedback totals."""
        day = day or datetime.now(UTC).date().isoformat()
        with self._lock:
            questions, declines = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(declined), 0) FROM answers"
                " WHERE asked_at >= ? AND asked_at < ?",
                (day, day + "~"),
            ).fetchone()
            up, down = self._db.execute(
                "SELECT COALESCE(SUM(rating = 1), 0), COALESCE(SUM(rating = -1), 0) FROM feedback"
            ).fetchone()
            latencies = [
                r[0]
                for r in self._db.execute(
                    "SELECT latency_ms FROM answers WHERE asked_at >= ? AND asked_at < ? ORDER BY latency_ms",
                    (day, day + "~"),
                )
            ]
        median = latencies[len(latencies) // 2] if latencies else None
        return Stats(int(questions), int(declines), int(up), int(down), median)

    def close(self) -> None:
        with self._lock:
            self._db.close()
