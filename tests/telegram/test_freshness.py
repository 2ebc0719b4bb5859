"""Subscribers see how fresh the coverage is: /latest lists the newest articles, /sources says when the coverage
was last updated (and shows admins the followed sources' state)."""

from __future__ import annotations

import re
import time
from dataclasses import replace

from bot_harness import ADMIN_ID, RunningBot
from botapi_emulator import EmulatorClient
from telegram_html import visible_text

from bot.telegram.render import format_time
from ingest.registry import new_source


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


async def test_sources_says_when_the_coverage_was_last_updated(tg: EmulatorClient, bot: RunningBot) -> None:
    reader = tg.user(532, "Reader")
    await reader.command("/sources")
    sources = (await reader.reply()).text
    newest = max(a.ingested_at for a in bot.runtime.store.catalog().values())
    assert f"🕒 Last updated {format_time(newest)}" in sources
    assert re.search(r"Last updated \d{1,2} \w{3} \d{4}, \d\d:\d\d UTC", sources)
    assert "Followed sources" not in sources  # the sources' state is for admins


async def test_admins_see_each_followed_source_s_last_check_success_error_and_next_check(
    tg: EmulatorClient, bot: RunningBot
) -> None:
    now = time.time()
    failing = replace(
        new_source("https://news.example/freshness-feed.xml", 86_400, now - 7200),
        last_check=now - 600, last_success=now - 3600, last_error="HTTP 503 <Service Unavailable> & more",
        failures=1, next_due=now + 3600,  # not due: the session bot's poller leaves it alone
    )  # fmt: skip
    registry = bot.runtime.registry
    with bot.runtime.writing():
        registry.put(failing)
    try:
        editor = tg.user(ADMIN_ID, "Editor")
        await editor.command("/sources")
        admin_view = (await editor.reply()).text
        assert "🕒 Last updated " in admin_view
        assert "<b>Followed sources</b>" in admin_view
        assert f"<code>{failing.id}</code> every 1d: https://news.example/freshness-feed.xml" in admin_view
        assert (
            f"last check {format_time(now - 600)} · last success {format_time(now - 3600)} · "
            f"next check {format_time(now + 3600)}"
        ) in admin_view
        assert "⚠️ HTTP 503 &lt;Service Unavailable&gt; &amp; more" in admin_view
        await editor.command("/help")
        admin_help = (await editor.reply()).text
        assert "/sources_add" in admin_help and "/sources_remove" in admin_help
    finally:
        with bot.runtime.writing():
            registry.remove(failing.id)
    registered = [c["params"] for c in await tg.calls() if c["method"] == "setMyCommands"]
    admin = next(p for p in registered if p.get("scope", {}).get("chat_id") == ADMIN_ID)
    assert {"sources_add", "sources_remove", "latest"} <= {c["command"] for c in admin["commands"]}
