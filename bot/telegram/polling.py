"""`newsbot serve` polls the registered sources on python-telegram-bot's JobQueue (APScheduler), off the event
loop: each round runs `Poller.cycle` in a worker thread, so answering never waits for a feed or the embedder.

NEWSBOT_POLL_SOURCES=false makes an instance answer only. One poller per store: an instance that finds another
poller (a `newsbot watch`, or another bot) says so once and keeps answering; it takes over if that one stops.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, ContextTypes

from bot.polling import Poller
from vectorstore.errors import StoreError, StoreLockedError

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.settings import Settings

log = logging.getLogger(__name__)

JOB_NAME = "poll-sources"
FIRST_POLL_S = 2.0  # after start-up, so the first subscribers meet a warm engine


class _SourcePolling:
    """The job's state: one Poller for the life of the bot, and whether the refusal was logged already."""

    def __init__(self, runtime: Runtime) -> None:
        self.poller = Poller(runtime)
        self.standby_logged = False

    def round(self) -> None:
        """One polling round; runs in a worker thread."""
        try:
            results = self.poller.cycle()
        except StoreLockedError as exc:
            if not self.standby_logged:
                log.warning("not polling sources, this instance only answers: %s", exc)
                self.standby_logged = True
            return
        except StoreError as exc:
            log.warning("source polling round failed: %s", exc)
            return
        if results is None:
            if not self.standby_logged:
                log.info("not polling sources: another poller holds the lease in the store")
                self.standby_logged = True
            return
        self.standby_logged = False
        for result in results:
            log.info(
                "source %s: ok=%s added=%d updated=%d", result.source_id, result.ok, result.added, result.updated
            )

    async def job(self, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await asyncio.to_thread(self.round)


def schedule_source_polling(application: Application[Any, Any, Any, Any, Any, Any], settings: Settings) -> None:
    """Poll due sources every NEWSBOT_POLL_TICK_S on the application's JobQueue, unless turned off."""
    if not settings.poll_sources:
        log.info("source polling is off (NEWSBOT_POLL_SOURCES=false)")
        return
    if application.job_queue is None:
        log.warning("source polling needs python-telegram-bot[job-queue] (APScheduler); this instance only answers")
        return
    polling = _SourcePolling(application.bot_data.services.runtime)
    application.job_queue.run_repeating(
        polling.job,
        interval=settings.poll_tick_s,
        first=min(FIRST_POLL_S, settings.poll_tick_s),
        name=JOB_NAME,
        job_kwargs={"max_instances": 1, "coalesce": True},  # a long round is never overlapped by the next
    )
