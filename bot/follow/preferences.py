"""Users' preferences (paused, a daily digest time, quiet hours, their offset from UTC) and the admin's switch that
pauses every push."""

from __future__ import annotations

from dataclasses import fields

from bot.follow.connection import Connection
from bot.follow.models import Preferences

PUSHES_PAUSED = "pushes_paused"


class PreferenceStore(Connection):
    """How and when each user is told, and whether anyone is (`/pushes off`)."""

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
