"""A per-user sliding-window limit on questions, so no one user takes the answer workers from the rest."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: float = 0.0
    first_refusal: bool = False  # tell the user once per window, then stay quiet instead of flooding back


class RateLimiter:
    """At most `limit` questions per user in any `window_s` seconds; a limit of 0 turns it off."""

    def __init__(
        self,
        limit: int,
        window_s: float = 60.0,
        max_users: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._max_users = max_users
        self._clock = clock
        self._hits: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}  # user -> when the refusal was sent
        self._lock = threading.Lock()

    def check(self, user_id: int) -> Verdict:
        """Count a question by `user_id` if it is allowed."""
        if self.limit <= 0:
            return Verdict(True)
        now = self._clock()
        with self._lock:
            hits = self._hits.pop(user_id, None) or deque()
            self._hits[user_id] = hits  # most recently active last
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) < self.limit:
                hits.append(now)
                self._warned.pop(user_id, None)
                self._bound()
                return Verdict(True)
            retry_after = hits[0] + self.window_s - now
            warned_at = self._warned.get(user_id)
            first = warned_at is None or warned_at <= now - self.window_s
            if first:
                self._warned[user_id] = now
            return Verdict(False, retry_after_s=max(retry_after, 0.0), first_refusal=first)

    def _bound(self) -> None:
        while len(self._hits) > self._max_users:
            user_id = next(iter(self._hits))
            self._hits.pop(user_id)
            self._warned.pop(user_id, None)
