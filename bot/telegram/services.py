"""What the handlers share: the `Services` built once in `build_application`, and the typed handler context."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from telegram import User
from telegram.ext import CallbackContext, ExtBot

from bot.answer.models import Answer
from bot.telegram.feedback import FeedbackStore
from bot.telegram.i18n import Texts, choose_language, texts
from bot.telegram.language_store import LanguageStore
from bot.telegram.memory import ChatMemory
from bot.telegram.ratelimit import RateLimiter

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.settings import Settings
    from vectorstore.models import StoredArticle


@dataclass
class Services:
    """What the handlers share: built once in `build_application`, closed in its post_shutdown."""

    settings: Settings
    runtime: Runtime
    feedback: FeedbackStore
    memory: ChatMemory
    limiter: RateLimiter
    answer_workers: ThreadPoolExecutor
    languages: LanguageStore
    admin_job: asyncio.Lock = field(default_factory=asyncio.Lock)
    _answering: int = 0  # answers being computed right now, in the workers
    _answering_lock: threading.Lock = field(default_factory=threading.Lock)

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.admin_ids

    def answer(self, question: str, history: Sequence[str]) -> tuple[Answer, int]:
        """Run in an answer worker: the answer, and how many answers were being computed as it started (itself
        included), which the answer log reports as the load the pool was under."""
        with self._answering_lock:
            self._answering += 1
            concurrent = self._answering
        try:
            return self.runtime.engine.answer(question, history), concurrent
        finally:
            with self._answering_lock:
                self._answering -= 1

    async def texts(self, user: User | None) -> Texts:
        """The texts in the user's language: their /language choice, else their Telegram app's, else English."""
        if user is None:
            return texts(choose_language(None, None))
        chosen = await asyncio.to_thread(self.languages.chosen, user.id)
        return texts(choose_language(chosen, user.language_code))

    async def catalog(self) -> dict[str, StoredArticle]:
        """The stored articles, read in a worker thread."""
        return await asyncio.to_thread(self.runtime.store.catalog)


class BotData:
    """The application's `bot_data` (see `ContextTypes`): the services, set in `build_application`."""

    services: Services


Context: TypeAlias = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
