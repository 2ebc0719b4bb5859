"""The tests' name for the Bot API emulator harness, which lives in bot/telegram/emulator.py so that bench/
imports the same one."""

from bot.telegram.emulator import (
    BOT_ID,
    BOT_USERNAME,
    Button,
    Emulator,
    EmulatorClient,
    EmulatorUnavailable,
    Reply,
    User,
)

__all__ = ["BOT_ID", "BOT_USERNAME", "Button", "Emulator", "EmulatorClient", "EmulatorUnavailable", "Reply", "User"]
