"""What an admin or a subscriber is told when something fails: a named reason for the failures we know, a fixed
apology for the rest; never the exception's text."""

from __future__ import annotations

import errno
import logging
import sqlite3

from telegram import Update
from telegram.error import TelegramError

from bot.telegram.i18n import DEFAULT_LANGUAGE, N_, Texts, texts
from bot.telegram.services import Context
from vectorstore.errors import ModelMismatchError, StoreError, StoreLockedError

log = logging.getLogger(__name__)

APOLOGY = N_("Sorry, something went wrong on my side. Please try again in a moment.")
# The reasons below are for admins, whose texts stay in English.
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


async def _texts(update: Update, context: Context) -> Texts:
    """The user's texts; English if their language cannot be read (the failure may be the database's)."""
    try:
        return await context.bot_data.services.texts(update.effective_user)
    except sqlite3.Error:
        return texts(DEFAULT_LANGUAGE)


async def on_error(update: object, context: Context) -> None:
    """Log with the exception attached and apologise with fixed text; the bot keeps running."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("unhandled error in update=%s", update_id, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, (await _texts(update, context))._(APOLOGY))
        except TelegramError as exc:
            log.warning("could not apologise in chat=%s: %s", update.effective_chat.id, type(exc).__name__)

