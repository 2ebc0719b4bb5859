"""Admins manage the sources newsbot follows from the chat: /sources_add URL [every], /sources_remove ID.

The same registry as `newsbot sources` (ingest/registry.py); only http(s) links from the chat, as for /ingest
(local paths are added with `newsbot sources add` on the server). Store calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from telegram import Message, Update
from telegram.ext import Application, CommandHandler, filters

from bot.telegram.admin import admin_only
from bot.telegram.failures import STORE_UNREACHABLE, failure_reason
from bot.telegram.render import esc, render_failure, render_source_added, render_source_removed
from bot.telegram.sending import send_parts
from bot.telegram.services import Context, Services
from ingest import DEFAULT_EVERY_S, Source, is_url, new_source, parse_every
from vectorstore.errors import StoreError

log = logging.getLogger(__name__)

ADD_USAGE = (
    "Usage: /sources_add <i>feed or page URL</i> [<i>every</i>, e.g. 10m, 2h, 1d; 1m at least]\n"
    "Directories and exports are added with <code>newsbot sources add</code> on the server."
)
REMOVE_USAGE = "Usage: /sources_remove <i>source id</i> (the ids are in /sources_add's list)"


def _add(services: Services, url: str, every_s: int) -> tuple[Source, bool, list[Source]]:
    runtime = services.runtime
    source = new_source(url, every_s, time.time())
    with runtime.writing():
        existing = runtime.registry.get(source.id)
        if existing is None:
            runtime.registry.put(source)
        return existing or source, existing is None, runtime.registry.all()


def _remove(services: Services, source_id: str) -> tuple[bool, list[Source]]:
    runtime = services.runtime
    with runtime.writing():
        removed = runtime.registry.remove(source_id)
        return removed, runtime.registry.all()


async def _refuse(message: Message, what: str, exc: StoreError, command: str, admin: int | None) -> None:
    """A store failure, named as for the other admin commands (`failure_reason`)."""
    log.warning("%s by admin=%s failed: %s", command, admin, type(exc).__name__)
    await message.reply_html(render_failure(what, failure_reason(exc) or STORE_UNREACHABLE))


@admin_only
async def sources_add(update: Update, context: Context) -> None:
    """/sources_add URL [EVERY]: follow a feed or a page."""
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    args = (message.text or "").split()[1:]
    if not args or len(args) > 2 or not is_url(args[0]):
        await message.reply_html(ADD_USAGE)
        return
    try:
        every_s = parse_every(args[1]) if len(args) == 2 else DEFAULT_EVERY_S
        source, added, everything = await asyncio.to_thread(_add, context.bot_data.services, args[0], every_s)
    except ValueError as exc:
        await message.reply_html(f"{esc(str(exc))}\n\n{ADD_USAGE}")
        return
    except StoreError as exc:
        await _refuse(message, "Follow", exc, "sources_add", user.id if user else None)
        return
    await send_parts(context.bot, message.chat_id, render_source_added(source, added, everything, time.time()))
    log.info("sources_add by admin=%s: source=%s added=%s", user.id if user else None, source.id, added)


@admin_only
async def sources_remove(update: Update, context: Context) -> None:
    """/sources_remove ID: stop following a source (its articles stay)."""
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    args = (message.text or "").split()[1:]
    if len(args) != 1:
        await message.reply_html(REMOVE_USAGE)
        return
    try:
        removed, everything = await asyncio.to_thread(_remove, context.bot_data.services, args[0])
    except StoreError as exc:
        await _refuse(message, "Unfollow", exc, "sources_remove", user.id if user else None)
        return
    await send_parts(context.bot, message.chat_id, render_source_removed(args[0], removed, everything, time.time()))
    log.info("sources_remove by admin=%s: removed=%s", user.id if user else None, removed)


def register_source_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    new = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("sources_add", sources_add, filters=new))
    application.add_handler(CommandHandler("sources_remove", sources_remove, filters=new))
