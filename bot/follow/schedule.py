"""When a user may be told: at once, outside their quiet hours, or once a day at their digest time. Pure
functions over epoch seconds and "HH:MM" local times; the offset from UTC is the user's, else the setting's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.follow.models import Preferences

_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?([0-5]\d))?$", re.IGNORECASE)
MAX_OFFSET_MIN = 14 * 60  # UTC-12:00 to UTC+14:00, the world's range


def parse_clock(text: str) -> str | None:
    """'8:00', '08.00', '8h00' -> '08:00'; None for anything else."""
    m = _CLOCK.match(text.strip())
    return f"{int(m.group(1)):02d}:{m.group(2)}" if m else None


def parse_offset(text: str) -> int | None:
    """'+2', '-05:30', 'UTC+1', 'GMT-3' -> minutes east of UTC; None for anything else or out of range."""
    m = _OFFSET.match(text.strip())
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    minutes = -minutes if m.group(1) == "-" else minutes
    return minutes if -12 * 60 <= minutes <= MAX_OFFSET_MIN else None


def format_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _local(now: float, offset_min: int) -> datetime:
    return datetime.fromtimestamp(now, UTC) + timedelta(minutes=offset_min)


def in_quiet_hours(prefs: Preferences, now: float, default_offset_min: int) -> bool:
    """Whether `now` falls in the user's quiet hours (from <= t < to, wrapping past midnight)."""
    if not prefs.quiet_from or not prefs.quiet_to:
        return False
    local = _local(now, prefs.utc_offset_min if prefs.utc_offset_min is not None else default_offset_min)
    t, start, end = local.hour * 60 + local.minute, _minutes(prefs.quiet_from), _minutes(prefs.quiet_to)
    return start <= t < end if start <= end else (t >= start or t < end)


def last_digest(prefs: Preferences, now: float, default_offset_min: int) -> float | None:
    """The latest digest time at or before `now` (epoch seconds); None without a digest."""
    if not prefs.digest_at:
        return None
    offset = prefs.utc_offset_min if prefs.utc_offset_min is not None else default_offset_min
    local = _local(now, offset)
    at = _minutes(prefs.digest_at)
    moment = local.replace(hour=at // 60, minute=at % 60, second=0, microsecond=0)
    if moment > local:
        moment -= timedelta(days=1)
    return (moment - timedelta(minutes=offset)).timestamp()


def deliverable(prefs: Preferences, oldest: float, now: float, default_offset_min: int) -> bool:
    """Whether a user's pending notifications (the oldest queued at `oldest`) go out now: a digest user's once a
    digest time has passed since they were queued; anyone's outside their quiet hours."""
    if prefs.paused or in_quiet_hours(prefs, now, default_offset_min):
        return False
    digest = last_digest(prefs, now, default_offset_min)
    return digest is None or oldest <= digest
