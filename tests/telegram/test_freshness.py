"""Subscribers see how fresh the coverage is: /latest lists the newest articles, /sources says when the coverage
was last updated (and shows admins the followed sources' state)."""

from __future__ import annotations

from bot_harness import RunningBot
from botapi_emulator import EmulatorClient
from telegram_html import visible_text


async def test_latest_lists_the_newest_articles_newest_first(tg: EmulatorClient, bot: RunningBot) -> None:
    reader = tg.user(531, "Reader")
    await reader.command("/latest")
    latest = await reader.reply()  # checked by `tg`: valid Telegram HTML within 4,096 characters
    assert latest.text.startswith("🆕 <b>Latest articles</b>\n• ")
    catalog = bot.runtime.store.catalog()
    newest_first = sorted(catalog.values(), key=lambda a: (a.date or "", a.ingested_at, a.id), reverse=True)
    shown = visible_text(latest.text)
    positions = [shown.find(a.title) for a in newest_first]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), shown
    await reader.command("/help")
    assert "/latest" in (await reader.reply()).text
