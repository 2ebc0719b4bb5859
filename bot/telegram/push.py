"""Sending the queued notifications of followed stories, paced within Telegram's limits.

Each round (on the JobQueue, every NEWSBOT_FOLLOW_TICK_S) claims, per user whose news may go out now (not in
quiet hours; a digest user's once their digest time has passed), what is queued for them, and sends it as one
message. Claims are transactions in the shared SQLite, so bot processes sharing a data dir never send the same
notification twice, and a claim is never resent (see `bot/follow/notifications.py`).

Pacing: at most NEWSBOT_FOLLOW_PUSH_PER_S messages a second overall (Telegram allows about 30, and answers
need some), one a second per private chat and one every three seconds per group (20 a minute). A 429 is
retried by the application's AIORateLimiter after the delay Telegram gives; if it persists the notifications
go back to the queue until then. A 403 (the user blocked the bot, or left the group) drops them with a log
line and pauses the user's topics until they follow again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Bot
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot.follow.schedule import deliverable
from bot.follow.store import FollowStore
from bot.telegram.render.follow import notification_keyboard, render_notification
from bot.telegram.sending import send_parts

if TYPE_CHECKING:
    from bot.follow.models import Batch
    from bot.settings import Settings

log = logging.getLogger(__name__)

JOB_NAME = "push-followed-stories"
PRIVATE_CHAT_INTERVAL_S = 1.0  # Telegram: about one message a second per chat
GROUP_CHAT_INTERVAL_S = 3.0  # Telegram: 20 messages a minute per group
IN_FLIGHT = 8  # messages being sent at once: enough to keep the pace with a slow Bot API
MAX_ITEMS_PER_MESSAGE = 8  # one message per user per round; more waits for the next round
# A claim older than this belongs to a sender that died mid-send (a send with retries takes seconds): its
# notifications are marked failed, never sent again.
CLAIM_EXPIRY_S = 600.0


class Pacer:
    """Spaces sends: `per_s` overall, and per chat Telegram's interval. Slots are reserved under a lock and
    waited for outside it, so sends overlap while their starts keep the pace."""

    def __init__(self, per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._gap = 1.0 / per_s
        self._clock = clock
        self._next = 0.0
        self._chat_next: dict[int, float] = {}
        self._lock = asyncio.Lock()

    async def wait(self, chat_id: int) -> None:
        async with self._lock:
            now = self._clock()
            start = max(now, self._next, self._chat_next.get(chat_id, 0.0))
            self._next = start + self._gap
            self._chat_next[chat_id] = start + (GROUP_CHAT_INTERVAL_S if chat_id < 0 else PRIVATE_CHAT_INTERVAL_S)
            if len(self._chat_next) > 10_000:  # forget chats whose interval has passed
                self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        await asyncio.sleep(max(0.0, start - now))


@dataclass
class Round:
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    retried: int = 0
    waiting: int = 0  # users whose news waits for their digest or the end of their quiet hours
    seconds: float = 0.0


def sender_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Pusher:
    """Sends what is queued; one per bot process."""

    bot: Bot
    follows: FollowStore
    settings: Settings
    claimer: str = field(default_factory=sender_id)
    pacer: Pacer | None = None
    _busy: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.pacer = self.pacer or Pacer(self.settings.follow_push_per_s)

    async def run_once(self, now: float | None = None) -> Round:
        """One round; `now` (epoch seconds) is for the schedule (tests move it to a digest time)."""
        async with self._busy:  # a long round is never overlapped by the next
            return await self._round(time.time() if now is None else now)

    async def _round(self, now: float) -> Round:
        started = time.perf_counter()
        outcome = Round()
        follows = self.follows
        if await asyncio.to_thread(follows.pushes_paused):
            return outcome
        expired = await asyncio.to_thread(follows.expire_claims, time.time() - CLAIM_EXPIRY_S)
        if expired:
            log.warning("%d notification batches were interrupted mid-send; marked failed, not resent", expired)
        users = await asyncio.to_thread(self._ready, now)
        outcome.waiting = users[1]
        slots = asyncio.Semaphore(IN_FLIGHT)

        async def one(user_id: int) -> None:
            async with slots:
                batch = await asyncio.to_thread(follows.claim, user_id, self.claimer, MAX_ITEMS_PER_MESSAGE, now)
                if batch is not None:
                    await self._send(batch, outcome)

        await asyncio.gather(*(one(u) for u in users[0]))
        outcome.seconds = time.perf_counter() - started
        if outcome.sent or outcome.failed or outcome.dropped or outcome.retried:
            log.info(
                "notifications: sent=%d failed=%d dropped=%d retried=%d waiting=%d seconds=%.1f",
                outcome.sent, outcome.failed, outcome.dropped, outcome.retried, outcome.waiting, outcome.seconds,
            )  # fmt: skip
        return outcome

    def _ready(self, now: float) -> tuple[list[int], int]:
        """The users whose news goes out now, and how many wait for their digest or quiet hours' end."""
        offset = self.settings.follow_utc_offset_min
        ready, waiting = [], 0
        for pending in self.follows.pending_users(now):
            if deliverable(self.follows.preferences(pending.user_id), pending.oldest, now, offset):
                ready.append(pending.user_id)
            else:
                waiting += 1
        return ready, waiting

    async def _send(self, batch: Batch, outcome: Round) -> None:
        assert self.pacer is not None
        await self.pacer.wait(batch.chat_id)
        try:
            await send_parts(self.bot, batch.chat_id, render_notification(batch), notification_keyboard(batch))
        except RetryAfter as exc:  # the rate limiter's retries ran out: back to the queue until Telegram says
            delay = exc.retry_after if isinstance(exc.retry_after, int | float) else exc.retry_after.total_seconds()
            await asyncio.to_thread(self.follows.retry_later, batch.id, time.time() + float(delay))
            outcome.retried += 1
            log.info("notification batch=%s to chat=%s: flood control, retry in %.0f s", batch.id, batch.chat_id, delay)
        except Forbidden:
            await asyncio.to_thread(self.follows.finish, batch.id, "dropped")
            await asyncio.to_thread(self.follows.pause_user, batch.user_id)
            outcome.dropped += 1
            log.warning(
                "notification batch=%s dropped: Telegram refused chat=%s (blocked); user=%s's topics paused",
                batch.id, batch.chat_id, batch.user_id,
            )  # fmt: skip
        except TelegramError as exc:  # it may have arrived (a timeout): failed, never resent
            await asyncio.to_thread(self.follows.finish, batch.id, "failed")
            outcome.failed += 1
            log.warning("notification batch=%s to chat=%s failed: %s", batch.id, batch.chat_id, type(exc).__name__)
        else:
            await asyncio.to_thread(self.follows.finish, batch.id, "sent")
            outcome.sent += 1

    async def job(self, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if not self._busy.locked():  # a round waiting on flood control is not queued behind, nor warned about
            await self.run_once()


def schedule_pushes(application: Application[Any, Any, Any, Any, Any, Any], pusher: Pusher) -> None:
    """Look for queued notifications every NEWSBOT_FOLLOW_TICK_S on the application's JobQueue."""
    if application.job_queue is None:
        log.warning("pushing followed stories needs python-telegram-bot[job-queue]; nothing will be pushed")
        return
    application.job_queue.run_repeating(
        pusher.job,
        interval=pusher.settings.follow_tick_s,
        first=pusher.settings.follow_tick_s,
        name=JOB_NAME,
        job_kwargs={"max_instances": 2, "coalesce": True},  # the second returns at once while a round runs
    )
