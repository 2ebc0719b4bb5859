"""Sending to Telegram: retries with backoff, the plain-text fallback for a message Telegram refuses, split
messages in order, and the typing indicator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError

from bot.telegram.render import plain_parts

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 3
TYPING_EVERY_S = 4.5  # Telegram shows "typing…" for 5 s per chat action
# How long an answer that came fast waits for its first chat action, still in flight, to be done: cancelled
# mid-request it may still reach Telegram after the answer, and show "typing…" for 5 s under it.
FIRST_ACTION_WAIT_S = 1.0


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
    """Show "typing…" while the body runs; best effort: a failing chat action never delays an answer, and the
    first one, sent beside the body, is done before the body's answer goes out (at most FIRST_ACTION_WAIT_S)."""
    first_done = asyncio.Event()

    async def keep_typing() -> None:
        while True:
            try:
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
            except Exception as exc:  # noqa: BLE001 (any failure just ends the indicator)
                log.debug("typing indicator for chat=%s failed: %s", chat_id, type(exc).__name__)
                return
            finally:
                first_done.set()
            await asyncio.sleep(TYPING_EVERY_S)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        with suppress(TimeoutError):
            await asyncio.wait_for(first_done.wait(), FIRST_ACTION_WAIT_S)
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
