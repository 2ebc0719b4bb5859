"""The transport-agnostic answer engine (placeholder signature; the real one lands next)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import Answer
from vectorstore.store import Filters


class AnswerEngine:
    def answer(self, question: str, history: Sequence[str] = (), filters: Filters | None = None) -> Answer:
        raise NotImplementedError
