"""Subscribers' handlers: /start, /help, /sources, /latest, and questions (private messages, mentions and
replies in groups, /ask), answered off the event loop in the answer workers so a slow question never holds up
other chats.

Replies are fixed, friendly text; exception text never reaches a chat. Logs carry ids, counts and latencies,
never message text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ChatType

from bot.answer.engine import MAX_QUESTION_CHARS
from bot.telegram.examples import examples
from bot.telegram.i18n import N_
from bot.telegram.keyboards import answer_keyboard, examples_keyboard
from bot.telegram.render import (
    LATEST_ARTICLES,
    Coverage,
    render_answer,
    render_help,
    render_latest,
    render_slow_down,
    render_sources,
    render_welcome,
)
from bot.telegram.sending import send_parts, typing
from bot.telegram.services import Context
from ingest import Source, SourceRegistry
from vectorstore.errors import StoreError

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

NON_TEXT_HINT = N_(
    "I can only read text. Type your question about the news, for example: <i>What did Italy pledge?</i>"
)
EMPTY_QUESTION = N_("Ask me a question about the news, for example: <i>What did Italy pledge?</i>")
TOO_LONG = N_("That's a long one! Please keep questions under %(limit)d characters.")
UNKNOWN_COMMAND = N_("I don't know that command. /help lists what I can do.")


async def start(update: Update, context: Context) -> None:
    """/start: welcome, what is covered, three example questions as buttons."""
    message = update.effective_message
    if message is None:
        return
    catalog = await context.bot_data.services.catalog()
    user = update.effective_user
    t = await context.bot_data.services.texts(user)
    keyboard = examples_keyboard(examples(catalog, context.bot_data.services.settings.example_questions))
    await message.reply_html(
        render_welcome(user.first_name if user else None, Coverage.of(catalog), t),
        reply_markup=InlineKeyboardMarkup(keyboard) if keyboard else None,
    )


async def help_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    user = update.effective_user
    t = await context.bot_data.services.texts(user)
    await message.reply_html(render_help(context.bot_data.services.is_admin(user.id if user else None), t))


def _followed_sources(runtime: Runtime) -> list[Source]:
    """The registry's sources, read without creating its collection (a bot that never polled has none)."""
    registry = SourceRegistry.open_existing(runtime.client, runtime.settings.collection)
    return registry.all() if registry is not None else []


async def sources(update: Update, context: Context) -> None:
    """/sources: article count, outlets, dates, when coverage was last updated (and the sources last checked) and
    the newest articles with links; admins also see each followed source's last check, last success, last error
    and next check."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    services = context.bot_data.services
    catalog = await services.catalog()
    followed: list[Source] = []
    try:
        followed = await asyncio.to_thread(_followed_sources, services.runtime)
    except StoreError as exc:  # the coverage is still worth showing
        log.warning("sources: the registry could not be read: %s", type(exc).__name__)
    admin = services.is_admin(user.id if user else None)
    t = await services.texts(user)
    await send_parts(context.bot, chat.id, render_sources(Coverage.of(catalog), t, followed, time.time(), admin))


async def latest(update: Update, context: Context) -> None:
    """/latest: the newest articles with links."""
    chat = update.effective_chat
    if chat is None:
        return
    catalog = await context.bot_data.services.catalog()
    t = await context.bot_data.services.texts(update.effective_user)
    await send_parts(context.bot, chat.id, render_latest(Coverage.of(catalog, newest=LATEST_ARTICLES), t))


async def ask(update: Update, context: Context) -> None:
    """/ask QUESTION: a question by command, the way to address the bot in a group."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    # Everything after the command word, whatever whitespace follows it: "/ask\nWhat…" is a question too.
    command_and_question = message.text.split(maxsplit=1)
    question = command_and_question[1] if len(command_and_question) == 2 else ""
    await answer_question(update, context, question, quote=_is_group(update))


async def private_text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    await answer_question(update, context, message.text)


async def group_text(update: Update, context: Context) -> None:
    """In groups, only messages that mention the bot or reply to it are questions."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    question = addressed_question(message, context.bot.username, context.bot.id)
    if question is None:
        return
    await answer_question(update, context, question, quote=True)


def addressed_question(message: Message, username: str, bot_id: int) -> str | None:
    """The question if the message mentions or replies to the bot (mentions removed), else None."""
    text = message.text or ""
    replied = message.reply_to_message
    addressed = bool(replied and replied.from_user and replied.from_user.id == bot_id)
    for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        mentions_bot = (entity.type == MessageEntity.MENTION and value.lower() == f"@{username}".lower()) or (
            entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id
        )
        if mentions_bot:
            addressed = True
            text = text.replace(value, " ", 1)
    return " ".join(text.split()) if addressed else None


async def non_text(update: Update, context: Context) -> None:
    """Photos, stickers, voice and the like in a private chat: a hint instead of an error."""
    message = update.effective_message
    if message is not None:
        t = await context.bot_data.services.texts(update.effective_user)
        await message.reply_html(t._(NON_TEXT_HINT))


async def unknown_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is not None:
        t = await context.bot_data.services.texts(update.effective_user)
        await message.reply_html(t._(UNKNOWN_COMMAND))


def _is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


async def answer_question(
    update: Update, context: Context, question: str, *, quote: bool = False, asked: str | None = None
) -> None:
    """Rate-limit, answer off the event loop with the chat's recent questions as context, reply in HTML with
    sources and feedback buttons, and remember the question for follow-ups."""
    services = context.bot_data.services
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or user is None:
        return
    reply_to = message.message_id if quote and message is not None else None
    t = await services.texts(user)
    question = " ".join(question.split())
    if not question:
        await send_parts(context.bot, chat.id, [t._(EMPTY_QUESTION)], reply_to=reply_to)
        return
    if len(question) > MAX_QUESTION_CHARS:
        await send_parts(context.bot, chat.id, [t._(TOO_LONG, limit=MAX_QUESTION_CHARS)], reply_to=reply_to)
        return
    verdict = services.limiter.check(user.id)
    if not verdict.allowed:
        log.info("rate limited user=%s chat=%s retry_after_s=%.0f", user.id, chat.id, verdict.retry_after_s)
        if verdict.first_refusal:
            text = render_slow_down(services.limiter.limit, verdict.retry_after_s, t)
            await send_parts(context.bot, chat.id, [text], reply_to=reply_to)
        return

    history = services.memory.history(chat.id)
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    async with typing(context.bot, chat.id):
        answer, concurrent = await loop.run_in_executor(
            services.answer_workers, partial(services.answer, question, history)
        )
        answer_ms = (time.perf_counter() - started) * 1e3  # waiting for a worker, then the engine
    if not answer.declined:
        services.memory.remember(chat.id, question)

    answer_id = await asyncio.to_thread(
        services.feedback.record_answer,
        chat_id=chat.id,
        user_id=user.id,
        question=question,
        answer=answer.text,
        declined=answer.declined,
        article_ids=[c.article_id for c in answer.citations],
        latency_ms=answer_ms,
    )
    suggestions = examples(await services.catalog(), services.settings.example_questions) if answer.declined else []
    parts = render_answer(answer, t, asked=asked)
    keyboard = answer_keyboard(answer_id, t, suggestions, followable=not answer.declined)
    await send_parts(context.bot, chat.id, parts, keyboard, reply_to)
    log.info(
        "answered answer=%s chat=%s user=%s declined=%s citations=%d history=%d parts=%d "
        "answer_ms=%.0f total_ms=%.0f concurrent=%d",
        answer_id, chat.id, user.id, answer.declined, len(answer.citations), len(history), len(parts),
        answer_ms, (time.perf_counter() - started) * 1e3, concurrent,
    )  # fmt: skip
