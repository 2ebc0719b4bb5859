"""Telegram handlers: subscribers ask, admins manage.

Small typed async functions over one `Services` object in `context.bot_data`. Answers are computed off the
event loop in the answer workers, so a slow question never holds up other chats. Replies are fixed, friendly
text; exception text never reaches a chat. Logs carry ids, counts and latencies, never message text.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeAlias

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import CallbackContext, ExtBot

from bot.answer.engine import MAX_QUESTION_CHARS
from bot.answer.models import Answer
from bot.telegram.examples import Example, examples, find_example
from bot.telegram.feedback import FeedbackStore, NotTheAsker
from bot.telegram.memory import ChatMemory
from bot.telegram.ratelimit import RateLimiter
from bot.telegram.render import (
    LATEST_ARTICLES,
    MAX_NAME_HTML,
    MAX_TITLE_HTML,
    Coverage,
    byline,
    esc,
    plain_parts,
    render_answer,
    render_help,
    render_latest,
    render_report,
    render_sources,
    render_welcome,
    shorten,
    split_html,
)
from ingest import Source, SourceRegistry, is_url
from vectorstore.errors import ModelMismatchError, StoreError, StoreLockedError

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.settings import Settings

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 3
TYPING_EVERY_S = 4.5  # Telegram shows "typing…" for 5 s per chat action
PROGRESS_EVERY_S = 1.5  # edits of a progress message, at most

APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."
NOT_ALLOWED = "Sorry, you're not allowed to use that command: it is for the newsroom's admins."
NON_TEXT_HINT = (
    "I can only read text. Type your question about the news, for example: <i>What did Italy pledge?</i>"
)
EMPTY_QUESTION = "Ask me a question about the news, for example: <i>What did Italy pledge?</i>"
TOO_LONG = f"That's a long one! Please keep questions under {MAX_QUESTION_CHARS} characters."
EXAMPLE_GONE = "That example is no longer available. Just type your question instead."
RATED_UNKNOWN = "Sorry, I can't find that answer any more."
NOT_THE_ASKER = "Only the person who asked can rate this answer."
RATED = {1: "Thanks! Glad it helped.", -1: "Thanks, noted. The newsroom reviews these."}


@dataclass
class Services:
    """What the handlers share: built once in `build_application`, closed in its post_shutdown."""

    settings: Settings
    runtime: Runtime
    feedback: FeedbackStore
    memory: ChatMemory
    limiter: RateLimiter
    answer_workers: ThreadPoolExecutor
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


class BotData:
    """The application's `bot_data` (see `ContextTypes`): the services, set in `build_application`."""

    services: Services


Context: TypeAlias = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]


# ---- sending --------------------------------------------------------------------------------------------


async def send(bot: Bot, chat_id: int, html: str, **kwargs: Any) -> Message:
    """Send one HTML message; network errors and timeouts are retried with backoff (flood control is
    retried by the application's rate limiter). After a read timeout the message may have arrived already: a
    rare duplicate is better than a lost answer. A message Telegram refuses (HTTP 400: markup it can't parse,
    a message too long) is sent again as plain text, so the reader still gets it."""
    for attempt in range(SEND_ATTEMPTS):
        try:
            return await bot.send_message(chat_id, html, **kwargs)
        except BadRequest as exc:
            if kwargs.get("parse_mode", ParseMode.HTML) is None:
                raise
            log.warning(
                "Telegram refused a message to chat=%s (%s); sending it as plain text", chat_id, exc.message[:80]
            )
            return await send_plain(bot, chat_id, html, **kwargs)
        except NetworkError as exc:
            if attempt == SEND_ATTEMPTS - 1:
                raise
            log.warning("send to chat=%s failed (%s), retrying", chat_id, type(exc).__name__)
            await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


async def send_plain(bot: Bot, chat_id: int, html: str, **kwargs: Any) -> Message:
    """`html` as plain text, in as many messages as it takes: the quote on the first, the keyboard under the
    last; a refusal now is not retried."""
    parts = plain_parts(html) or ["…"]
    sent: Message | None = None
    for i, part in enumerate(parts):
        extra = {k: v for k, v in kwargs.items() if k not in ("reply_markup", "reply_parameters", "parse_mode")}
        if i == 0 and "reply_parameters" in kwargs:
            extra["reply_parameters"] = kwargs["reply_parameters"]
        if i == len(parts) - 1 and "reply_markup" in kwargs:
            extra["reply_markup"] = kwargs["reply_markup"]
        sent = await send(bot, chat_id, part, parse_mode=None, **extra)
    assert sent is not None
    return sent


async def send_parts(
    bot: Bot,
    chat_id: int,
    parts: Sequence[str],
    reply_markup: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
) -> list[Message]:
    """Send a split message in order; the keyboard goes under the last part, the quote on the first."""
    sent = []
    for i, part in enumerate(parts):
        kwargs: dict[str, Any] = {}
        if i == len(parts) - 1 and reply_markup is not None:
            kwargs["reply_markup"] = reply_markup
        if i == 0 and reply_to is not None:
            kwargs["reply_parameters"] = quoting(reply_to)
        sent.append(await send(bot, chat_id, part, **kwargs))
    return sent


def quoting(message_id: int) -> ReplyParameters:
    """Reply to a message, and still send if it was deleted meanwhile."""
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


@asynccontextmanager
async def typing(bot: Bot, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" while the body runs; best effort: a failing chat action never delays an answer."""

    async def keep_typing() -> None:
        while True:
            try:
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
            except Exception as exc:  # noqa: BLE001 (any failure just ends the indicator)
                log.debug("typing indicator for chat=%s failed: %s", chat_id, type(exc).__name__)
                return
            await asyncio.sleep(TYPING_EVERY_S)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


def examples_keyboard(items: Sequence[Example]) -> list[list[InlineKeyboardButton]]:
    return [[InlineKeyboardButton(e.label, callback_data=f"ex:{e.key}")] for e in items]


def feedback_row(answer_id: int, chosen: int | None = None) -> list[InlineKeyboardButton]:
    up = "👍 ✓" if chosen == 1 else "👍"
    down = "👎 ✓" if chosen == -1 else "👎"
    return [
        InlineKeyboardButton(up, callback_data=f"fb:{answer_id}:1"),
        InlineKeyboardButton(down, callback_data=f"fb:{answer_id}:-1"),
    ]


# ---- subscribers ----------------------------------------------------------------------------------------


async def _catalog(s: Services) -> dict[str, Any]:
    return await asyncio.to_thread(s.runtime.store.catalog)


async def start(update: Update, context: Context) -> None:
    """/start: welcome, what is covered, three example questions as buttons."""
    message = update.effective_message
    if message is None:
        return
    catalog = await _catalog(context.bot_data.services)
    user = update.effective_user
    keyboard = examples_keyboard(examples(catalog, context.bot_data.services.settings.example_questions))
    await message.reply_html(
        render_welcome(user.first_name if user else None, Coverage.of(catalog)),
        reply_markup=InlineKeyboardMarkup(keyboard) if keyboard else None,
    )


async def help_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    user = update.effective_user
    await message.reply_html(render_help(context.bot_data.services.is_admin(user.id if user else None)))


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
    s = context.bot_data.services
    catalog = await _catalog(s)
    followed: list[Source] = []
    try:
        followed = await asyncio.to_thread(_followed_sources, s.runtime)
    except StoreError as exc:  # the coverage is still worth showing
        log.warning("sources: the registry could not be read: %s", type(exc).__name__)
    admin = s.is_admin(user.id if user else None)
    await send_parts(context.bot, chat.id, render_sources(Coverage.of(catalog), followed, time.time(), admin))


async def latest(update: Update, context: Context) -> None:
    """/latest: the newest articles with links."""
    chat = update.effective_chat
    if chat is None:
        return
    catalog = await _catalog(context.bot_data.services)
    await send_parts(context.bot, chat.id, render_latest(Coverage.of(catalog, newest=LATEST_ARTICLES)))


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
        await message.reply_html(NON_TEXT_HINT)


async def unknown_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_html("I don't know that command. /help lists what I can do.")


def _is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


async def answer_question(
    update: Update, context: Context, question: str, *, quote: bool = False, asked: str | None = None
) -> None:
    """Rate-limit, answer off the event loop with the chat's recent questions as context, reply in HTML with
    sources and feedback buttons, and remember the question for follow-ups."""
    s = context.bot_data.services
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or user is None:
        return
    reply_to = message.message_id if quote and message is not None else None
    question = " ".join(question.split())
    if not question:
        await send_parts(context.bot, chat.id, [EMPTY_QUESTION], reply_to=reply_to)
        return
    if len(question) > MAX_QUESTION_CHARS:
        await send_parts(context.bot, chat.id, [TOO_LONG], reply_to=reply_to)
        return
    verdict = s.limiter.check(user.id)
    if not verdict.allowed:
        log.info("rate limited user=%s chat=%s retry_after_s=%.0f", user.id, chat.id, verdict.retry_after_s)
        if verdict.first_refusal:
            wait = max(1, round(verdict.retry_after_s))
            text = (
                f"You're asking faster than I can keep up: I take {s.limiter.limit} questions a minute "
                f"per person. Please try again in {wait} seconds."
            )
            await send_parts(context.bot, chat.id, [text], reply_to=reply_to)
        return

    history = s.memory.history(chat.id)
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    async with typing(context.bot, chat.id):
        answer, concurrent = await loop.run_in_executor(s.answer_workers, partial(s.answer, question, history))
    answer_ms = (time.perf_counter() - started) * 1e3  # waiting for a worker, then the engine
    if not answer.declined:
        s.memory.remember(chat.id, question)

    answer_id = await asyncio.to_thread(
        s.feedback.record_answer,
        chat_id=chat.id,
        user_id=user.id,
        question=question,
        answer=answer.text,
        declined=answer.declined,
        article_ids=[c.article_id for c in answer.citations],
        latency_ms=answer_ms,
    )
    rows = [feedback_row(answer_id)]
    if answer.declined:
        rows = examples_keyboard(examples(await _catalog(s), s.settings.example_questions)) + rows
    parts = render_answer(answer, asked=asked)
    await send_parts(context.bot, chat.id, parts, InlineKeyboardMarkup(rows), reply_to)
    log.info(
        "answered answer=%s chat=%s user=%s declined=%s citations=%d history=%d parts=%d "
        "answer_ms=%.0f total_ms=%.0f concurrent=%d",
        answer_id, chat.id, user.id, answer.declined, len(answer.citations), len(history), len(parts),
        answer_ms, (time.perf_counter() - started) * 1e3, concurrent,
    )  # fmt: skip


async def button(update: Update, context: Context) -> None:
    """Inline buttons: `ex:KEY` asks an example question, `fb:ANSWER:±1` rates an answer."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    kind, _, rest = query.data.partition(":")
    if kind == "ex":
        await query.answer()
        services = context.bot_data.services
        example = find_example(await _catalog(services), rest, services.settings.example_questions)
        chat = update.effective_chat
        if example is None:
            if chat is not None:
                await send(context.bot, chat.id, EXAMPLE_GONE)
            return
        await answer_question(update, context, example.question, asked=example.question)
    elif kind == "fb":
        await _rate(update, context, rest)
    else:
        await query.answer()


async def _rate(update: Update, context: Context, data: str) -> None:
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
        await query.answer(RATED_UNKNOWN)
        return
    if isinstance(rated, NotTheAsker):
        log.info("feedback refused answer=%s user=%s: not the asker", answer_id, user.id)
        await query.answer(NOT_THE_ASKER)
        return
    log.info("feedback answer=%s user=%s rating=%+d", answer_id, user.id, rating)
    await query.answer(RATED[rating])
    # The buttons show the choice; only the asker's taps count, so this holds in groups too.
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        rows = [
            feedback_row(answer_id, rating)
            if any(str(b.callback_data).startswith("fb:") for b in row)
            else list(row)
            for row in message.reply_markup.inline_keyboard
        ]
        with suppress(BadRequest):  # "message is not modified" when the same button is tapped again
            await message.edit_reply_markup(InlineKeyboardMarkup(rows))


# ---- admins ---------------------------------------------------------------------------------------------


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
            await message.reply_html(NOT_ALLOWED)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


class _Progress:
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
        text = f"⏳ {esc(self._what)}: embedding {done}/{total} chunks…"
        self._pending = asyncio.run_coroutine_threadsafe(self._edit(text), self._loop)

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


STORE_LOCKED = "Another process is writing to the store; try again when it finishes."
STORE_UNREACHABLE = "The article store can't be reached (is the Chroma server running?); try again later."
MODEL_MISMATCH = "The store was built with another embedding model than the one configured."
DISK_FULL = "The disk is full; free some space on the server, then try again."
NOT_WRITABLE = "The store is not writable (a read-only disk or its permissions)."
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and the ones it was raised from or while handling, innermost last."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def failure_reason(exc: BaseException) -> str | None:
    """What an admin can act on, for the failures we know; None for the rest. Never the exception's text:
    it may hold paths, hosts or credentials, and it reads as a crash."""
    chain = _causes(exc)
    for e in chain:
        if isinstance(e, StoreLockedError):
            return STORE_LOCKED
        if isinstance(e, ModelMismatchError):
            return MODEL_MISMATCH
    for e in chain:
        if isinstance(e, OSError) and e.errno in _DISK_FULL or "disk is full" in str(e).lower():
            return DISK_FULL  # SQLite (Chroma's metadata) says "database or disk is full" with no errno
        if isinstance(e, OSError) and e.errno in _NOT_WRITABLE or "readonly database" in str(e).lower():
            return NOT_WRITABLE
    if any(isinstance(e, StoreError) for e in chain):
        return STORE_UNREACHABLE
    return None


async def _ingest_job(update: Update, context: Context, what: str, ingest_sources: list[str]) -> None:
    s = context.bot_data.services
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    if s.admin_job.locked():
        await message.reply_html("Another ingest is running; please try again when it has finished.")
        return
    async with s.admin_job:
        status = await message.reply_html(f"⏳ {esc(what)}: reading {len(ingest_sources)} source(s)…")
        progress = _Progress(status, asyncio.get_running_loop(), what)
        started = time.perf_counter()
        try:
            report = await asyncio.to_thread(s.runtime.ingest, ingest_sources, False, progress)
        except Exception as exc:
            reason = failure_reason(exc)
            if reason == STORE_LOCKED:  # expected, and the lock's message says who holds it
                log.warning("%s by admin=%s refused: %s", what, user.id if user else None, exc)
            else:
                log.exception("%s by admin=%s failed", what, user.id if user else None)
            reason = reason or "The details are in the bot's log."
            await progress.finish(f"❌ <b>{esc(what)}</b> failed. {esc(reason)}")
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
    s = context.bot_data.services
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    ids = (message.text or "").split()[1:]
    if not ids:
        await message.reply_html("Usage: /remove <i>article id</i> [more…]")
        return
    catalog = await _catalog(s)
    found = [i for i in ids if i in catalog]
    missing = [i for i in ids if i not in catalog]
    try:
        removed = await asyncio.to_thread(s.runtime.remove, found) if found else 0
    except Exception as exc:
        reason = failure_reason(exc)
        if reason is None:
            raise  # the error handler logs it and apologises
        log.warning("remove by admin=%s failed: %s", user.id if user else None, type(exc).__name__)
        await message.reply_html(f"❌ <b>Remove</b> failed. {esc(reason)}")
        return
    lines = [f"🗑 Removed {removed} article(s)."]
    lines += [
        f"• {shorten(catalog[i].title, MAX_TITLE_HTML)} (<code>{shorten(i, MAX_NAME_HTML)}</code>)" for i in found
    ]
    if missing:
        lines.append("Not found: " + ", ".join(f"<code>{esc(i[:100])}</code>" for i in missing))
    await send_parts(context.bot, message.chat_id, split_html("\n".join(lines)))
    log.info("remove by admin=%s: removed=%d missing=%d", user.id if user else None, removed, len(missing))


@admin_only
async def stats(update: Update, context: Context) -> None:
    """/stats: articles, chunks, today's questions and declines, feedback counts."""
    s = context.bot_data.services
    message = update.effective_message
    if message is None:
        return
    catalog = await _catalog(s)
    coverage = Coverage.of(catalog)
    numbers = await asyncio.to_thread(s.feedback.stats)
    median = (
        f"{numbers.median_latency_ms_today:.0f} ms" if numbers.median_latency_ms_today is not None else "–"
    )
    newest = coverage.newest[0] if coverage.newest else None
    lines = [
        "📊 <b>Stats</b>",
        f"Articles: {coverage.articles}",
        f"Chunks: {coverage.chunks}",
        f"Questions today: {numbers.questions_today}",
        f"Declined today: {numbers.declines_today}",
        f"Median answer time today: {median}",
        f"Feedback: 👍 {numbers.thumbs_up} · 👎 {numbers.thumbs_down}",
    ]
    if newest is not None:
        meta = byline(newest.source, newest.date)
        lines.append(
            f"Newest: {shorten(newest.title, MAX_TITLE_HTML)} (<code>{shorten(newest.id, MAX_NAME_HTML)}</code>)"
            + (f" · {meta}" if meta else "")
        )
    await message.reply_html("\n".join(lines))


# ---- errors ---------------------------------------------------------------------------------------------


async def on_error(update: object, context: Context) -> None:
    """Log with the exception attached and apologise with fixed text; the bot keeps running."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("unhandled error in update=%s", update_id, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, APOLOGY)
        except TelegramError as exc:
            log.warning("could not apologise in chat=%s: %s", update.effective_chat.id, type(exc).__name__)
