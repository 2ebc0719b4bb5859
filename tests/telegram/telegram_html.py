"""The tests' name for the checker of Telegram's HTML parse mode, bot/telegram/html_check.py (the emulator
harness in bot/telegram/emulator/ checks every reply with it)."""

from bot.telegram.html_check import MAX_CHARS, assert_valid, problems, utf16_len, visible_text

__all__ = ["MAX_CHARS", "assert_valid", "problems", "utf16_len", "visible_text"]
