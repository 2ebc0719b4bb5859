"""Which language the bot speaks to each user, in the bot's SQLite database: the one they chose with /language,
and the Telegram `language_code` they last followed a story with, for notifications sent when they are not
writing (a notification has no update to read it from)."""

from __future__ import annotations

import threading
from pathlib import Path

from bot.database import Migration, connect, migrate, now_iso

MIGRATIONS: tuple[Migration, ...] = (
    (
        "language_001_users",
        """
        CREATE TABLE user_languages (
            user_id INTEGER PRIMARY KEY,
            chosen TEXT,                       -- set by /language, else NULL: Telegram's language_code decides
            seen TEXT,                         -- the language_code Telegram last gave when they followed a story
            updated_at TEXT NOT NULL
        );
        """,
    ),
)


class LanguageStore:
    """One connection shared by threads under a lock; every call is one short statement."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = connect(path)
        migrate(self._db, self._lock, MIGRATIONS)

    def chosen(self, user_id: int) -> str | None:
        """The language the user chose with /language, or None."""
        with self._lock:
            row = self._db.execute("SELECT chosen FROM user_languages WHERE user_id = ?", (user_id,)).fetchone()
        return row[0] if row else None

    def for_notifications(self, user_id: int) -> tuple[str | None, str | None]:
        """(chosen, the language_code last seen) for a message the user did not just ask for."""
        with self._lock:
            row = self._db.execute(
                "SELECT chosen, seen FROM user_languages WHERE user_id = ?", (user_id,)
            ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def choose(self, user_id: int, language: str | None) -> None:
        """Remember the user's choice; None goes back to Telegram's language_code."""
        with self._lock:
            self._db.execute(
                "INSERT INTO user_languages (user_id, chosen, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET chosen = excluded.chosen, updated_at = excluded.updated_at",
                (user_id, language, now_iso()),
            )

    def saw(self, user_id: int, telegram_code: str | None) -> None:
        """Remember the language_code Telegram gave for the user, when it changed."""
        with self._lock:
            self._db.execute(
                "INSERT INTO user_languages (user_id, seen, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET seen = excluded.seen, updated_at = excluded.updated_at "
                "WHERE seen IS NOT excluded.seen",
                (user_id, telegram_code, now_iso()),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
