"""Short per-chat memory: the chat's recent questions, so follow-ups ("And what did Canada do?") have context.

Questions expire `ttl_s` after they were asked; a chat that goes quiet is forgotten entirely.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

SWEEP_EVERY = 1000  # remembered questions between sweeps of expired chats


class ChatMemory:
    """Recent questions per chat, oldest first; thread-safe, bounded in turns per chat and in chats."""

    def __init__(
        self,
        ttl_s: float,
        max_turns: int = 4,
        max_chats: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_turns = max_turns
        self._max_chats = max_chats
        self._clock = clock
        self._chats: dict[int, deque[tuple[float, str]]] = {}
        self._lock = threading.Lock()
        self._writes = 0

    def history(self, chat_id: int) -> list[str]:
        """The chat's unexpired questions, oldest first."""
        with self._lock:
            turns = self._chats.get(chat_id)
            if not turns:
                return []
            self._expire(chat_id, turns)
            return [q for _, q in turns]

    def remember(self, chat_id: int, question: str) -> None:
        with self._lock:
            turns = self._chats.pop(chat_id, None) or deque(maxlen=self._max_turns)
            turns.append((self._clock(), question))
            self._chats[chat_id] = turns  # re-inserted: dict order is least recently active first
            if len(self._chats) > self._max_chats:
                self._chats.pop(next(iter(self._chats)))
            self._writes += 1
            sweep = self._writes % SWEEP_EVERY == 0
        if sweep:  # quiet chats are dropped now and then, not only when they speak again
            self.sweep()

    def forget(self, chat_id: int) -> None:
        with self._lock:
            self._chats.pop(chat_id, None)

    def sweep(self) -> int:
        """Drop every expired question; returns how many chats were forgotten."""
        with self._lock:
            before = len(self._chats)
            for chat_id, turns in list(self._chats.items()):
                self._expire(chat_id, turns)
            return before - len(self._chats)

    def __len__(self) -> int:
        return len(self._chats)

    def _expire(self, chat_id: int, turns: deque[tuple[float, str]]) -> None:
        oldest_kept = self._clock() - self._ttl_s
        while turns and turns[0][0] < oldest_kept:
            turns.popleft()
        if not turns:
            self._chats.pop(chat_id, None)
