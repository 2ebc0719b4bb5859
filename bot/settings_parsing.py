"""How the compound NEWSBOT_ values are read: lists, URLs, paths, tokens and time-zone offsets, as the annotated
types the fields of `Settings` declare.

An environment variable is one string, so each list is split here (NoDecode: not read as JSON). A bad value
raises ValueError with the expected form; the error line puts the variable's name before it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr
from pydantic_settings import NoDecode

from bot.follow.schedule import parse_offset
from ingest import parse_allow_entry

_BOT_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")  # what @BotFather issues: <bot id>:<secret>
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # Telegram's rule for secret_token


def _split(text: str, separators: str, into: str = ",") -> list[str]:
    """`text` split at `into` and at any of `separators`, blanks dropped."""
    for separator in separators:
        text = text.replace(separator, into)
    return [part.strip() for part in text.split(into) if part.strip()]


def _sources(value: object) -> object:
    return _split(value, "\n") if isinstance(value, str) else value


def _allow_entries(value: object) -> object:
    return _split(value, " ") if isinstance(value, str) else value


def _checked_allow(value: list[str]) -> list[str]:
    for entry in value:
        parse_allow_entry(entry)  # its ValueError names the entry and the expected form
    return value


def _questions(value: object) -> object:
    # Questions contain commas, so they are separated by | or new lines.
    return _split(value, "\n", into="|") if isinstance(value, str) else value


def _user_ids(value: object) -> object:
    if isinstance(value, int):
        return [value]
    if not isinstance(value, str):
        return value
    ids = _split(value, " ")
    if not all(re.fullmatch(r"[+-]?\d+", i) for i in ids):
        raise ValueError("must be Telegram user ids (whole numbers) separated by commas")
    return [int(i) for i in ids]


def _directory(value: object) -> object:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("must be a directory path")
        return Path(value.strip()).expanduser()
    return value


def _optional_http_url(value: object) -> object:
    """None for an unset or empty value; otherwise it must be an http(s) URL with a host."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    value = value.strip()
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError("must look like http://host:port or https://host:port")
    try:
        parsed.port  # noqa: B018 (raises on a port that is not a number or out of range)
    except ValueError:
        raise ValueError("must look like http://host:port with a port number from 1 to 65535") from None
    return value


def _empty_is_unset(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _utc_offset(value: str) -> str:
    if parse_offset(value) is None:
        raise ValueError("must be an offset from UTC between -12:00 and +14:00, such as +01:00 or -05:30")
    return value


def _bot_token(value: SecretStr | None) -> SecretStr | None:
    if value is None or not value.get_secret_value().strip():
        return None
    if not _BOT_TOKEN.match(value.get_secret_value().strip()):
        raise ValueError("must be a bot token as @BotFather gives it: digits, a colon, then letters/digits/_/-")
    return value


def _webhook_secret(value: SecretStr | None) -> SecretStr | None:
    if value is not None and not _WEBHOOK_SECRET.match(value.get_secret_value()):
        raise ValueError("must be 1-256 characters of letters, digits, _ or - (Telegram's rule)")
    return value


SourceList = Annotated[list[str], NoDecode, BeforeValidator(_sources)]
"""Comma- or newline-separated sources."""
AllowList = Annotated[list[str], NoDecode, BeforeValidator(_allow_entries), AfterValidator(_checked_allow)]
"""Hosts, addresses or CIDR networks separated by commas or spaces, each checked as the fetch policy reads it."""
QuestionList = Annotated[list[str], NoDecode, BeforeValidator(_questions)]
"""Questions separated by | or new lines."""
UserIds = Annotated[list[Annotated[int, Field(gt=0)]], NoDecode, BeforeValidator(_user_ids)]
"""Telegram user ids separated by commas or spaces."""
Directory = Annotated[Path, BeforeValidator(_directory)]
"""A directory path, `~` expanded."""
OptionalHttpUrl = Annotated[str | None, BeforeValidator(_optional_http_url)]
"""An http(s) URL with a host; empty is unset."""
OptionalText = Annotated[str | None, BeforeValidator(_empty_is_unset)]
"""Any text; empty is unset."""
UtcOffset = Annotated[str, AfterValidator(_utc_offset)]
"""An offset from UTC such as +01:00."""
BotToken = Annotated[SecretStr | None, AfterValidator(_bot_token)]
"""A token as @BotFather issues it; empty is unset."""
WebhookSecret = Annotated[SecretStr | None, AfterValidator(_webhook_secret)]
"""Telegram's form of a webhook's secret_token."""
