"""A message the bot sent, as the emulator recorded it: its text, parse mode, buttons and what it replies to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    text: str
    data: str | None
    url: str | None


@dataclass(frozen=True)
class Reply:
    """A message the bot sent to a chat, as it sent it."""

    message_id: int
    chat_id: int
    text: str
    parse_mode: str | None
    buttons: tuple[tuple[Button, ...], ...]
    reply_to: int | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Reply:
        markup = raw.get("reply_markup") or {}
        rows = tuple(
            tuple(Button(b.get("text", ""), b.get("callback_data"), b.get("url")) for b in row)
            for row in markup.get("inline_keyboard", [])
        )
        reply_to = (raw.get("reply_parameters") or {}).get("message_id") or raw.get("reply_to_message_id")
        return cls(
            message_id=int(raw["message_id"]),
            chat_id=int(raw["chat_id"]),
            text=str(raw.get("text", "")),
            parse_mode=raw.get("parse_mode"),
            buttons=rows,
            reply_to=int(reply_to) if reply_to is not None else None,
            raw=raw,
        )

    def button(self, label_contains: str) -> Button:
        for row in self.buttons:
            for b in row:
                if label_contains in b.text:
                    return b
        raise AssertionError(f"no button with {label_contains!r} in {self.buttons}")

    @property
    def callback_data(self) -> list[str]:
        return [b.data for row in self.buttons for b in row if b.data]
