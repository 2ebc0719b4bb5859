"""The typing indicator around an answer (bot/telegram/sending.py), with a stand-in for the Bot API's latency;
the bot showing it through the emulator is in test_subscribers.py."""

from __future__ import annotations

import asyncio

from bot.telegram.sending import FIRST_ACTION_WAIT_S, typing


class _SlowBot:
    """A bot whose chat actions take `latency_s` to reach Telegram, each recorded when it does."""

    def __init__(self, latency_s: float, fail: bool = False) -> None:
        self.latency_s = latency_s
        self.fail = fail
        self.actions: list[str] = []

    async def send_chat_action(self, chat_id: int, action: str) -> None:
        await asyncio.sleep(self.latency_s)
        if self.fail:
            raise ConnectionError("Telegram is unreachable")
        self.actions.append(f"{chat_id}:{action}")


async def test_an_answer_faster_than_the_first_chat_action_still_follows_it() -> None:
    """Cancelled mid-request, the action could reach Telegram after the answer ("typing…" under it)."""
    bot = _SlowBot(latency_s=0.05)
    async with typing(bot, 7):  # type: ignore[arg-type]
        pass  # an answer that came at once
    assert bot.actions == ["7:typing"]


async def test_a_chat_action_that_hangs_or_fails_delays_the_answer_little() -> None:
    for bot in (_SlowBot(latency_s=30.0), _SlowBot(latency_s=0.0, fail=True)):
        started = asyncio.get_running_loop().time()
        async with typing(bot, 7):  # type: ignore[arg-type]
            pass
        assert asyncio.get_running_loop().time() - started < FIRST_ACTION_WAIT_S + 0.5 and bot.actions == []
