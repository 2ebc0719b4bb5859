"""The tests' name for the Bot API emulator harness, which lives in bot/telegram/emulator/ so that bench/
imports the same one."""

from bot.telegram.emulator import (
    BOT_USERNAME,
    Emulator,
    EmulatorClient,
    EmulatorUnavailable,
    Reply,
    User,
)

__all__ = ["BOT_USERNAME", "Emulator", "EmulatorClient", "EmulatorUnavailable", "Reply", "User"]
