"""Subscribers see how fresh the coverage is: /latest lists the newest articles, /sources says when the coverage
was last updated (and shows admins the followed sources' state), and an answer drawn only from old articles
while newer coverage of the topic exists says "As of" (a second bot over two tellings of one story)."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from bot_harness import ADMIN_ID, RunningBot, start_own_bot
from botapi_emulator import Emulator, EmulatorClient
from ingest_support import BRIDGE_QUESTION, write_bridge_coverage
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
    newest = max(a.ingested_at for a in bot.runtime.store.catalog().values())
    registry = bot.runtime.registry
    with bot.runtime.writing():
        registry.put(failing)
    try:
        editor = tg.user(ADMIN_ID, "Editor")
        await editor.command("/sources")
        admin_view = (await editor.reply()).text
        assert f"🕒 Last updated {format_time(newest)} · sources last checked {format_time(now - 3600)}" in admin_view
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
        subscriber = tg.user(533, "Reader")
        await subscriber.command("/sources")
        public = (await subscriber.reply()).text
        assert f"sources last checked {format_time(now - 3600)}" in public and "Followed sources" not in public
    finally:
        with bot.runtime.writing():
            registry.remove(failing.id)
    registered = [c["params"] for c in await tg.calls() if c["method"] == "setMyCommands"]
    admin = next(p for p in registered if p.get("scope", {}).get("chat_id") == ADMIN_ID)
    assert {"sources_add", "sources_remove", "latest"} <= {c["command"] for c in admin["commands"]}


BRIDGE_TOKEN = "987654322:AAE-newsbot-as-of-answers"


@pytest.fixture(scope="module")
async def bridge_bot(
    tmp_path_factory: pytest.TempPathFactory, emulator: Emulator, embedder: object
) -> AsyncIterator[RunningBot]:
    coverage = write_bridge_coverage(tmp_path_factory.mktemp("velmora"))
    data_dir = tmp_path_factory.mktemp("bridge-bot")
    running, report = await start_own_bot(data_dir, BRIDGE_TOKEN, emulator.url, embedder, coverage)
    assert report.ok
    yield running
    await running.stop()


async def test_an_answer_from_old_articles_only_says_as_of_when_newer_coverage_exists(
    bridge_bot: RunningBot, emulator: Emulator, tg: EmulatorClient
) -> None:
    async with EmulatorClient(emulator.url, BRIDGE_TOKEN) as client:
        reader = client.user(760, "Reader")
        await reader.say(BRIDGE_QUESTION)
        old = await reader.reply()  # checked as it arrives: valid Telegram HTML within 4,096 characters
        await reader.say("Why did work on the Velmora harbour bridge stop?")
        current = await reader.reply()
    assert old.text.startswith("<i>As of 10 Jan 2024:</i> ")  # the answering figure may be bold: read the text
    assert visible_text(old.text).startswith("As of 10 Jan 2024: The Velmora harbour council approved 42 million euros")
    assert "[1] <a href=\"https://news.example/velmora-budget\">" in old.text
    assert "velmora-halted" not in old.text
    assert current.text.startswith("Work on the Velmora harbour bridge stopped") and "As of" not in current.text
