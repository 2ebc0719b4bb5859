"""Taps on inline buttons: an example question is asked, a rating is stored (only the asker's counts)."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from telegram import Message, Update
from telegram.error import BadRequest

from bot.telegram.examples import find_example
from bot.telegram.feedback import NotTheAsker
from bot.telegram.i18n import N_, Texts
from bot.telegram.keyboards import EXAMPLE, FEEDBACK, rated_keyboard
from bot.telegram.sending import send
from bot.telegram.services import Context
from bot.telegram.subscribers import answer_question

log = logging.getLogger(__name__)

EXAMPLE_GONE = N_("That example is no longer available. Just type your question instead.")
RATED_UNKNOWN = N_("Sorry, I can't find that answer any more.")
NOT_THE_ASKER = N_("Only the person who asked can rate this answer.")
RATED = {1: N_("Thanks! Glad it helped."), -1: N_("Thanks, noted. The newsroom reviews these.")}


async def button(update: Update, context: Context) -> None:
    """Inline buttons: `ex:KEY` asks an example question, `fb:ANSWER:±1` rates an answer."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    kind, _, rest = query.data.partition(":")
    t = await context.bot_data.services.texts(update.effective_user)
    if kind == EXAMPLE:
        await query.answer()
        services = context.bot_data.services
        example = find_example(await services.catalog(), rest, services.settings.example_questions)
        chat = update.effective_chat
        if example is None:
            if chat is not None:
                await send(context.bot, chat.id, t._(EXAMPLE_GONE))
            return
        await answer_question(update, context, example.question, asked=example.shown(t))
    elif kind == FEEDBACK:
        await _rate(update, context, rest, t)
    else:
        await query.answer()


async def _rate(update: Update, context: Context, data: str, t: Texts) -> None:
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    try:
        answer_id_text, rating_text = data.split(":")
        answer_id, rating = int(answer_id_text), int(rating_text)
        if rating not in (-1, 1):
            raise ValueError(rating)
    except ValueError:
        await query.answer()
        return
    rated = await asyncio.to_thread(context.bot_data.services.feedback.rate, answer_id, user.id, rating)
    if rated is None:
        await query.answer(t._(RATED_UNKNOWN))
        return
    if isinstance(rated, NotTheAsker):
        log.info("feedback refused answer=%s user=%s: not the asker", answer_id, user.id)
        await query.answer(t._(NOT_THE_ASKER))
        return
    log.info("feedback answer=%s user=%s rating=%+d", answer_id, user.id, rating)
    await query.answer(t._(RATED[rating]))
    # The buttons show the choice; only the asker's taps count, so this holds in groups too.
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        with suppress(BadRequest):  # "message is not modified" when the same button is tapped again
            await message.edit_reply_markup(rated_keyboard(message.reply_markup, answer_id, rating))
