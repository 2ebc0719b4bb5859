"""Admins follow and unfollow sources from the chat: /sources_add URL [every], /sources_remove ID."""

from __future__ import annotations

from bot_harness import ADMIN_ID, LogSpy, RunningBot
from botapi_emulator import EmulatorClient

from ingest.registry import new_source

FEED = "https://news.example/newsbot-test-feed.xml"  # never fetched within the test: it is removed again


async def test_admins_add_and_remove_sources(tg: EmulatorClient, bot: RunningBot) -> None:
    editor = tg.user(ADMIN_ID, "Editor")
    source_id = new_source(FEED, 3600, 0.0).id
    await editor.command(f"/sources_add {FEED} 1h")
    added = (await editor.reply()).text
    assert added.startswith(f"✅ Now following <code>{source_id}</code>: {FEED}")
    assert f"<code>{source_id}</code> every 1h: {FEED}\n  last check never · last success never" in added
    state = bot.runtime.registry.get(source_id)
    assert state is not None and state.every_s == 3600

    await editor.command(f"/sources_add {FEED}")
    assert (await editor.reply()).text.startswith(f"Already following <code>{source_id}</code>")

    await editor.command(f"/sources_remove {source_id}")
    removed = (await editor.reply()).text
    assert removed.startswith(f"🗑 Stopped following <code>{source_id}</code>")
    assert bot.runtime.registry.get(source_id) is None
    await editor.command(f"/sources_remove {source_id}")
    assert (await editor.reply()).text.startswith(f"No source <code>{source_id}</code>")


async def test_sources_commands_explain_their_usage(tg: EmulatorClient) -> None:
    editor = tg.user(ADMIN_ID, "Editor")
    for command in ("/sources_add", "/sources_add /etc/passwd", f"/sources_add {FEED} 1 2"):
        await editor.command(command)
        assert "Usage: /sources_add" in (await editor.reply()).text
    await editor.command(f"/sources_add {FEED} 30s")
    assert "interval '30s' is too short: 1m at least" in (await editor.reply()).text
    await editor.command("/sources_remove")
    assert "Usage: /sources_remove" in (await editor.reply()).text


async def test_sources_commands_refuse_non_admins(tg: EmulatorClient, bot: RunningBot, log_spy: LogSpy) -> None:
    # (In a test of its own: the refusal logs the command's name, which a bare "/sources_add" would match.)
    mallory = tg.user(802, "Mallory")
    await mallory.command(f"/sources_add {FEED}")
    assert "not allowed" in (await mallory.reply()).text
    assert any("refused admin command /sources_add from user=802" in line for line in log_spy.lines)
    assert bot.runtime.registry.get(new_source(FEED, 3600, 0.0).id) is None
