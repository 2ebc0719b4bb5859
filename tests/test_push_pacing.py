"""The push queue's pacing (bot/telegram/push.py): Telegram's limits per group, per private chat and overall,
timed on the real clock (each figure is a lower bound the pacer must keep, whatever the machine's load)."""

from __future__ import annotations

import asyncio
import time

from bot.telegram.push import GROUP_CHAT_INTERVAL_S, PRIVATE_CHAT_INTERVAL_S, Pacer


async def _elapsed(pacer: Pacer, chats: list[int]) -> float:
    started = time.monotonic()
    for chat in chats:
        await pacer.wait(chat)
    return time.monotonic() - started


async def test_a_group_gets_a_message_every_three_seconds_and_a_private_chat_one_a_second() -> None:
    pacer = Pacer(per_s=1000)
    assert await _elapsed(pacer, [-1001, -1001]) >= GROUP_CHAT_INTERVAL_S - 0.01
    private = await _elapsed(pacer, [42, 42])
    assert PRIVATE_CHAT_INTERVAL_S - 0.01 <= private < GROUP_CHAT_INTERVAL_S


async def test_different_chats_share_the_overall_rate_and_concurrent_senders_keep_it() -> None:
    pacer = Pacer(per_s=10)
    assert await _elapsed(pacer, list(range(1, 6))) >= 0.4 - 0.01  # five starts, 0.1 s apart
    started = time.monotonic()
    await asyncio.gather(*(pacer.wait(chat) for chat in range(100, 110)))  # ten at once: still 10 a second
    assert time.monotonic() - started >= 0.9 - 0.01
