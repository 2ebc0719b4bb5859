"""/language: the language the bot speaks to a user. By default their Telegram app's (`language_code`) when the
bot speaks it, else English; `/language uk|it|en` or a tap on the keyboard overrides it, `/language auto` goes
back. The choice is stored per user (`language_store.py`), so it holds in groups and after a restart.

Callback data: `lg:CODE` (`lg:auto` for the app's language).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.telegram.i18n import LANGUAGES, N_, Texts, choose_language, language_label, texts
from bot.telegram.services import Context

log = logging.getLogger(__name__)

AUTO = "auto"
CALLBACK = "lg"
USAGE = N_("Usage: /language, or /language <i>%(codes)s</i> (<i>auto</i>: your Telegram app's language).")


def language_keyboard(t: Texts) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(language_label(code), callback_data=f"{CALLBACK}:{code}")] for code in LANGUAGES]
    rows.append([InlineKeyboardButton(t._("🔄 As my Telegram app"), callback_data=f"{CALLBACK}:{AUTO}")])
    return InlineKeyboardMarkup(rows)


def render_current(t: Texts, chosen: bool) -> str:
    name = language_label(t.language)
    if chosen:
        return t._("🌐 I speak to you in <b>%(language)s</b>, as you chose. Choose another:", language=name)
    return t._("🌐 I speak to you in <b>%(language)s</b>, your Telegram app's language. Choose another:", language=name)


def render_set(t: Texts, chosen: bool) -> str:
    name = language_label(t.language)
    if chosen:
        return t._("🌐 From now on I speak to you in <b>%(language)s</b>. /language changes it.", language=name)
    return t._(
        "🌐 From now on I speak to you in your Telegram app's language (<b>%(language)s</b> for now).",
        language=name,
    )


async def _choose(update: Update, context: Context, code: str) -> str | None:
    """Store the choice (`AUTO` forgets it) and say so in the language now chosen; None for an unknown code."""
    user = update.effective_user
    if user is None or (code != AUTO and code not in LANGUAGES):
        return None
    services = context.bot_data.services
    chosen = None if code == AUTO else code
    await asyncio.to_thread(services.languages.choose, user.id, chosen)
    log.info("language user=%s chosen=%s", user.id, chosen or AUTO)
    return render_set(texts(choose_language(chosen, user.language_code)), chosen is not None)


async def language_command(update: Update, context: Context) -> None:
    """/language [uk|it|en|auto]: show the language with a keyboard to change it, or change it."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    args = (message.text or "").split()[1:]
    services = context.bot_data.services
    if not args:
        t = await services.texts(user)
        chosen = await asyncio.to_thread(services.languages.chosen, user.id)
        await message.reply_html(render_current(t, chosen in LANGUAGES), reply_markup=language_keyboard(t))
        return
    done = await _choose(update, context, args[0].lower()) if len(args) == 1 else None
    if done is None:
        t = await services.texts(user)
        await message.reply_html(t._(USAGE, codes="|".join((*LANGUAGES, AUTO))))
        return
    await message.reply_html(done)


async def language_button(update: Update, context: Context) -> None:
    """A tap on /language's keyboard."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or query.data is None:
        return
    await query.answer()
    done = await _choose(update, context, query.data.partition(":")[2])
    if done is not None and chat is not None:
        await context.bot.send_message(chat.id, done)


def register_language(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """/language and its buttons; before `register_handlers`, whose catch-alls take unknown commands and buttons."""
    application.add_handler(CommandHandler("language", language_command, filters=filters.UpdateType.MESSAGE))
    application.add_handler(CallbackQueryHandler(language_button, pattern=rf"^{CALLBACK}:"))
