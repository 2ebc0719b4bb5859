"""Admins' handlers: /ingest, /reindex, /remove, /stats (and `admin_only`, which guards every admin command).

Jobs run in a worker thread, one at a time; their progress edits one status message; a failure for a known reason
says which (`failures.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from typing import Any

from telegram import Message, Update
from telegram.error import TelegramError

from bot.telegram.failures import STORE_LOCKED, failure_reason
from bot.telegram.i18n import N_
from bot.telegram.render import (
    Coverage,
    render_failure,
    render_progress,
    render_reading,
    render_removed,
    render_report,
    render_stats,
)
from bot.telegram.sending import send_parts
from bot.telegram.services import Context
from ingest import is_url

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 1.5  # edits of a progress message, at most
# Admins' texts stay in English; this one is what a subscriber meets, so it is translated.
NOT_ALLOWED = N_("Sorry, you're not allowed to use that command: it is for the newsroom's admins.")


def admin_only(
    handler: Callable[[Update, Context], Any],
) -> Callable[[Update, Context], Any]:
    """Run `handler` for configured admins; everyone else is told no, and the attempt is logged."""

    async def guarded(update: Update, context: Context) -> None:
        user, message = update.effective_user, update.effective_message
        if context.bot_data.services.is_admin(user.id if user else None):
            await handler(update, context)
            return
        command = (message.text or "").split(maxsplit=1)[0] if message else "?"
        log.warning("refused admin command %s from user=%s", command[:32], user.id if user else None)
        if message is not None:
            await message.reply_html((await context.bot_data.services.texts(user))._(NOT_ALLOWED))

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


class IngestProgress:
    """Reports an ingest's progress by editing one message, from the ingest thread, at most every 1.5 s."""

    def __init__(self, status: Message, loop: asyncio.AbstractEventLoop, what: str) -> None:
        self._status = status
        self._loop = loop
        self._what = what
        self._last = 0.0
        self._pending: Future[Any] | None = None

    def __call__(self, done: int, total: int) -> None:  # called in the ingest thread
        now = time.monotonic()
        if now - self._last < PROGRESS_EVERY_S or (self._pending is not None and not self._pending.done()):
            return
        self._last = now
        html = render_progress(self._what, done, total)
        self._pending = asyncio.run_coroutine_threadsafe(self._edit(html), self._loop)

    async def _edit(self, html: str) -> None:
        try:
            await self._status.edit_text(html)
        except TelegramError as exc:
            log.debug("progress edit failed: %s", type(exc).__name__)

    async def finish(self, html: str) -> None:
        if self._pending is not None:
            with suppress(Exception):
                await asyncio.wrap_future(self._pending)
        await self._edit(html)


async def _ingest_job(update: Update, context: Context, what: str, ingest_sources: list[str]) -> None:
    services = context.bot_data.services
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    if services.admin_job.locked():
        await message.reply_html("Another ingest is running; please try again when it has finished.")
        return
    async with services.admin_job:
        status = await message.reply_html(render_reading(what, len(ingest_sources)))
        progress = IngestProgress(status, asyncio.get_running_loop(), what)
        started = time.perf_counter()
        try:
            report = await asyncio.to_thread(services.runtime.ingest, ingest_sources, False, progress)
        except Exception as exc:
            reason = failure_reason(exc)
            if reason == STORE_LOCKED:  # expected, and the lock's message says who holds it
                log.warning("%s by admin=%s refused: %s", what, user.id if user else None, exc)
            else:
                log.exception("%s by admin=%s failed", what, user.id if user else None)
            reason = reason or "The details are in the bot's log."
            await progress.finish(render_failure(what, reason))
            return
        await progress.finish(render_report(what, report))
        log.info(
            "%s by admin=%s: sources=%d added=%d updated=%d removed=%d failed=%d chunks=%d seconds=%.1f",
            what, user.id if user else None, len(ingest_sources), len(report.added), len(report.updated),
            len(report.removed), len(report.failed), report.chunks_embedded, time.perf_counter() - started,
        )  # fmt: skip


@admin_only
async def ingest(update: Update, context: Context) -> None:
    """/ingest URL_OR_FEED [...]: add or update articles from web pages or feeds."""
    message = update.effective_message
    if message is None:
        return
    urls = (message.text or "").split()[1:]
    if not urls or not all(is_url(u) for u in urls):
        await message.reply_html(
            "Usage: /ingest <i>URL or feed URL</i> [more…]\nOnly http(s) links; files are ingested with "
            "<code>newsbot ingest</code> on the server."
        )
        return
    await _ingest_job(update, context, "Ingest", urls)


@admin_only
async def reindex(update: Update, context: Context) -> None:
    """/reindex: re-ingest the configured sources (NEWSBOT_SOURCES)."""
    message = update.effective_message
    configured = list(context.bot_data.services.settings.sources)
    if not configured:
        if message is not None:
            await message.reply_html("No sources are configured (set <code>NEWSBOT_SOURCES</code>).")
        return
    await _ingest_job(update, context, "Reindex", configured)


@admin_only
async def remove(update: Update, context: Context) -> None:
    """/remove ARTICLE_ID [...]: remove articles (ids as in /stats or `newsbot articles`)."""
    services = context.bot_data.services
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    ids = (message.text or "").split()[1:]
    if not ids:
        await message.reply_html("Usage: /remove <i>article id</i> [more…]")
        return
    catalog = await services.catalog()
    found = [i for i in ids if i in catalog]
    missing = [i for i in ids if i not in catalog]
    try:
        removed = await asyncio.to_thread(services.runtime.remove, found) if found else 0
    except Exception as exc:
        reason = failure_reason(exc)
        if reason is None:
            raise  # the error handler logs it and apologises
        log.warning("remove by admin=%s failed: %s", user.id if user else None, type(exc).__name__)
        await message.reply_html(render_failure("Remove", reason))
        return
    await send_parts(context.bot, message.chat_id, render_removed(removed, found, missing, catalog))
    log.info("remove by admin=%s: removed=%d missing=%d", user.id if user else None, removed, len(missing))


@admin_only
async def stats(update: Update, context: Context) -> None:
    """/stats: articles, chunks, today's questions and declines, feedback counts."""
    services = context.bot_data.services
    message = update.effective_message
    if message is None:
        return
    coverage = Coverage.of(await services.catalog())
    numbers = await asyncio.to_thread(services.feedback.stats)
    follows = await asyncio.to_thread(services.runtime.follows.stats)
    await message.reply_html(render_stats(coverage, numbers, follows))
