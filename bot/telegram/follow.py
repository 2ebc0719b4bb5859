"""Telegram handlers for following a story: the 🔔 button under answers, /follow, /following, /unfollow,
/digest and /quiet for subscribers, /pushes for admins, and the buttons on notifications.

A topic is embedded once, when followed, in an answer worker (off the event loop); everything else is a short
SQLite call in a thread. Sending the notifications is `bot/telegram/push.py`'s job.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.follow.schedule import parse_clock, parse_offset
from bot.follow.store import AlreadyFollowed, FollowStore, TooMany
from bot.telegram.admin import admin_only
from bot.telegram.buttons import RATED
from bot.telegram.i18n import N_
from bot.telegram.push import Pusher, schedule_pushes
from bot.telegram.render.follow import (
    DIGEST_USAGE,
    FOLLOW_USAGE,
    QUIET_USAGE,
    following_keyboard,
    rating_row,
    render_already,
    render_digest,
    render_followed,
    render_following,
    render_quiet,
    render_stopped,
    render_too_many,
)
from bot.telegram.services import Context, Services

if TYPE_CHECKING:
    from bot.follow.models import Topic

log = logging.getLogger(__name__)

MAX_TOPIC_CHARS = 300  # a topic is a question or a headline's worth of words
FOLLOW_GONE = N_("Sorry, I can't find that answer any more. Use /follow <i>topic</i> instead.")
NOT_YOURS = N_("Only the person who asked can follow this from here; use /follow <i>topic</i>.")
STOPPED_ALREADY = N_("That story is no longer followed.")
UNFOLLOW_USAGE = N_("Usage: /unfollow <i>number</i> (as in /following) or /unfollow all")
STOPPED = N_("🔕 Stopped.")


def _follows(context: Context) -> FollowStore:
    return context.bot_data.services.runtime.follows


def _args(message: Message) -> list[str]:
    return (message.text or "").split()[1:]


async def follow_text(update: Update, context: Context, text: str) -> None:
    """Follow `text` for the user in this chat, and say how it went."""
    s: Services = context.bot_data.services
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or user is None or message is None:
        return
    text = " ".join(text.split())[:MAX_TOPIC_CHARS]
    t = await s.texts(user)
    # Notifications go out when the user is not writing: they are sent in the language of their app as of now.
    await asyncio.to_thread(s.languages.saw, user.id, user.language_code)
    loop = asyncio.get_running_loop()
    vector = await loop.run_in_executor(s.answer_workers, s.runtime.embedder.embed_query, text)
    limit = s.settings.follow_max_topics
    result = await asyncio.to_thread(s.runtime.follows.follow, user.id, chat.id, text, vector, limit)
    if isinstance(result, TooMany):
        reply = render_too_many(result.limit, t)
    elif isinstance(result, AlreadyFollowed):
        reply = render_already(result.topic, t)
    else:
        count = len(await asyncio.to_thread(s.runtime.follows.topics, user.id))
        reply = render_followed(result.topic, count, limit, t)
        log.info("followed topic=%s user=%s chat=%s topics=%d", result.topic.id, user.id, chat.id, count)
    await context.bot.send_message(chat.id, reply)


async def follow_command(update: Update, context: Context) -> None:
    """/follow TOPIC: be told when new coverage matches."""
    message = update.effective_message
    if message is None:
        return
    text = (message.text or "").partition(" ")[2].strip()
    if not text:
        t = await context.bot_data.services.texts(update.effective_user)
        await message.reply_html(t._(FOLLOW_USAGE))
        return
    await follow_text(update, context, text)


async def _show_following(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    follows = _follows(context)
    topics = await asyncio.to_thread(follows.topics, user.id)
    prefs = await asyncio.to_thread(follows.preferences, user.id)
    offset = context.bot_data.services.settings.follow_utc_offset_min
    t = await context.bot_data.services.texts(user)
    await message.reply_html(
        render_following(topics, prefs, offset, t), reply_markup=following_keyboard(topics, t)
    )


async def following(update: Update, context: Context) -> None:
    """/following: the stories you follow, each with a Stop button."""
    await _show_following(update, context)


async def unfollow(update: Update, context: Context) -> None:
    """/unfollow N (as numbered in /following) or /unfollow all; alone, the list with Stop buttons."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    args = _args(message)
    if not args:
        await _show_following(update, context)
        return
    follows = _follows(context)
    topics = await asyncio.to_thread(follows.topics, user.id)
    chosen: list[Topic] = []
    if args[0].lower() == "all":
        chosen = topics
    elif args[0].isdigit() and 1 <= int(args[0]) <= len(topics):
        chosen = [topics[int(args[0]) - 1]]
    t = await context.bot_data.services.texts(user)
    if not chosen:
        await message.reply_html(t._(UNFOLLOW_USAGE))
        return
    stopped = [topic for topic in [await asyncio.to_thread(follows.stop, user.id, c.id) for c in chosen] if topic]
    log.info("unfollowed user=%s topics=%d", user.id, len(stopped))
    await message.reply_html("\n".join(render_stopped(topic, t) for topic in stopped) or t._(STOPPED_ALREADY))


async def _set_preferences(update: Update, context: Context, change: dict[str, Any], offset: str | None) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    follows = _follows(context)
    prefs = await asyncio.to_thread(follows.preferences, user.id)
    if offset is not None:
        change["utc_offset_min"] = parse_offset(offset)
    prefs = replace(prefs, **change)
    await asyncio.to_thread(follows.set_preferences, prefs)
    default = context.bot_data.services.settings.follow_utc_offset_min
    t = await context.bot_data.services.texts(user)
    shown = render_digest(prefs, default, t) if "digest_at" in change else render_quiet(prefs, default, t)
    await message.reply_html(shown)


def _offset_arg(args: list[str]) -> tuple[str | None, bool]:
    """The optional offset argument, and whether it is valid."""
    if not args:
        return None, True
    return args[0], parse_offset(args[0]) is not None


async def digest(update: Update, context: Context) -> None:
    """/digest daily HH:MM [offset] | /digest off."""
    message = update.effective_message
    if message is None:
        return
    args = _args(message)
    if args[:1] == ["off"] and len(args) == 1:
        await _set_preferences(update, context, {"digest_at": None}, None)
        return
    clock = parse_clock(args[1]) if len(args) >= 2 and args[0].lower() == "daily" else None
    offset, ok = _offset_arg(args[2:3])
    if clock is None or not ok or len(args) > 3:
        await message.reply_html((await context.bot_data.services.texts(update.effective_user))._(DIGEST_USAGE))
        return
    await _set_preferences(update, context, {"digest_at": clock}, offset)


async def quiet(update: Update, context: Context) -> None:
    """/quiet HH:MM HH:MM [offset] | /quiet off."""
    message = update.effective_message
    if message is None:
        return
    args = _args(message)
    if args[:1] == ["off"] and len(args) == 1:
        await _set_preferences(update, context, {"quiet_from": None, "quiet_to": None}, None)
        return
    start, end = (parse_clock(args[0]), parse_clock(args[1])) if len(args) >= 2 else (None, None)
    offset, ok = _offset_arg(args[2:3])
    if start is None or end is None or start == end or not ok or len(args) > 3:
        await message.reply_html((await context.bot_data.services.texts(update.effective_user))._(QUIET_USAGE))
        return
    await _set_preferences(update, context, {"quiet_from": start, "quiet_to": end}, offset)


@admin_only
async def pushes(update: Update, context: Context) -> None:
    """/pushes off|on: pause or resume every notification (they queue meanwhile)."""
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    args = _args(message)
    follows = _follows(context)
    if args in (["off"], ["on"]):
        await asyncio.to_thread(follows.set_pushes_paused, args[0] == "off")
        state = "paused" if args[0] == "off" else "resumed"
        log.warning("notifications %s by admin=%s", state, user.id if user else None)
    elif args:
        await message.reply_html("Usage: /pushes off | /pushes on")
        return
    paused = await asyncio.to_thread(follows.pushes_paused)
    await message.reply_html(
        "⏸ Notifications are paused for everyone; they queue until /pushes on."
        if paused
        else "▶️ Notifications are being sent. /pushes off pauses them for everyone."
    )


async def button(update: Update, context: Context) -> None:
    """`fo:ANSWER` follows the answer's question, `fs:TOPIC` stops a topic, `nf:BATCH:±1` rates a notification."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    kind, _, rest = query.data.partition(":")
    try:
        first, _, second = rest.partition(":")
        number, rating = int(first), int(second or 0)
    except ValueError:
        await query.answer()
        return
    follows = _follows(context)
    t = await context.bot_data.services.texts(user)
    if kind == "fo":
        asked = await asyncio.to_thread(context.bot_data.services.feedback.asked, number)
        if asked is None or asked[0] != user.id:
            await query.answer(t._(NOT_YOURS) if asked else None)
            if asked is None and update.effective_chat is not None:
                await context.bot.send_message(update.effective_chat.id, t._(FOLLOW_GONE))
            return
        await query.answer()
        await follow_text(update, context, asked[1])
    elif kind == "fs":
        stopped = await asyncio.to_thread(follows.stop, user.id, number)
        await query.answer(t._(STOPPED) if stopped else t._(STOPPED_ALREADY))
        if stopped is not None:
            log.info("unfollowed topic=%s user=%s", number, user.id)
            if update.effective_chat is not None:
                await context.bot.send_message(update.effective_chat.id, render_stopped(stopped, t))
    elif kind == "nf" and rating in (-1, 1):
        rated = await asyncio.to_thread(follows.rate, number, user.id, rating)
        await query.answer(t._(RATED[rating]) if rated else None)
        message = query.message
        if rated and isinstance(message, Message) and message.reply_markup is not None:
            rows = [
                rating_row(number, rating) if any(str(b.callback_data).startswith("nf:") for b in row) else list(row)
                for row in message.reply_markup.inline_keyboard
            ]
            with suppress(BadRequest):  # "message is not modified" when the same button is tapped again
                await message.edit_reply_markup(InlineKeyboardMarkup(rows))
    else:
        await query.answer()


def register_follow(application: Application[Any, Any, Any, Any, Any, Any]) -> Pusher:
    """The commands and buttons of following, and the pushing job; before `register_handlers`, whose catch-all
    answers unknown commands and whose button handler takes every other callback."""
    new = filters.UpdateType.MESSAGE
    for name, callback in [
        ("follow", follow_command),
        ("following", following),
        ("unfollow", unfollow),
        ("digest", digest),
        ("quiet", quiet),
        ("pushes", pushes),
    ]:
        application.add_handler(CommandHandler(name, callback, filters=new))
    application.add_handler(CallbackQueryHandler(button, pattern=r"^(fo|fs|nf):"))
    services: Services = application.bot_data.services
    pusher = Pusher(application.bot, services.runtime.follows, services.settings, services.languages)
    schedule_pushes(application, pusher)
    return pusher

