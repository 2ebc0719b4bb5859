"""Admins manage coverage from the chat: /ingest, /reindex, /remove, /stats; everyone else is refused.

Web sources come from the real HTTP server of tests/conftest.py (`http_server`). Articles a test adds are
removed again, so the session's store stays the sample for the other tests.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from bot_harness import ADMIN_ID, LogSpy, RunningBot
from botapi_emulator import EmulatorClient, Reply, User

ITALY = "What did Italy pledge?"
SAMPLE_ITALY_ID = "000_17fa544b3ee55eda"


@pytest.fixture
async def restore_catalog(bot: RunningBot) -> AsyncIterator[None]:
    before = set(bot.runtime.store.catalog())
    sources = list(bot.settings.sources)
    yield
    bot.settings.sources = sources
    added = set(bot.runtime.store.catalog()) - before
    if added:
        await asyncio.to_thread(bot.runtime.remove, sorted(added))


async def final_state(
    user: User, status: Reply, done: Callable[[str], bool], timeout_s: float = 90.0
) -> Reply:
    """The progress message once its text says the job is over."""
    deadline = time.monotonic() + timeout_s
    while True:
        now = await user.state(status.message_id)
        if done(now.text):
            return now
        assert time.monotonic() < deadline, f"job not finished: {now.text!r}"
        await asyncio.sleep(0.1)


def finished(text: str) -> bool:
    return text.startswith(("✅", "⚠️", "❌"))


async def test_stats_for_admins(tg: EmulatorClient, bot: RunningBot) -> None:
    editor = tg.user(ADMIN_ID, "Editor")
    await editor.say(ITALY)
    await editor.reply()
    await editor.command("/stats")
    stats = (await editor.reply()).text
    catalog = bot.runtime.store.catalog()
    numbers = bot.services.feedback.stats()
    assert stats.startswith("📊 <b>Stats</b>")
    assert f"Articles: {len(catalog)}\nChunks: {sum(a.chunks for a in catalog.values())}\n" in stats
    assert f"Questions today: {numbers.questions_today}\n" in stats and numbers.questions_today >= 1
    assert f"Declined today: {numbers.declines_today}\n" in stats
    assert f"Feedback: 👍 {numbers.thumbs_up} · 👎 {numbers.thumbs_down}" in stats
    await editor.command("/help")
    assert "/ingest" in (await editor.reply()).text


async def test_non_admins_are_not_allowed_and_the_attempt_is_logged(
    tg: EmulatorClient, bot: RunningBot, log_spy: LogSpy
) -> None:
    mallory = tg.user(801, "Mallory")
    for command in (
        "/stats",
        "/ingest https://example.org/feed.xml",
        "/reindex",
        f"/remove {SAMPLE_ITALY_ID}",
    ):
        await mallory.command(command)
        assert "not allowed" in (await mallory.reply()).text
    lines = log_spy.lines
    for command in ("/stats", "/ingest", "/reindex", "/remove"):
        assert any(f"refused admin command {command} from user=801" in line for line in lines), command
    assert SAMPLE_ITALY_ID in bot.runtime.store.catalog()


async def test_ingest_reports_progress_in_one_message_while_questions_are_answered(
    tg: EmulatorClient, bot: RunningBot, http_server: object, restore_catalog: None
) -> None:
    editor = tg.user(ADMIN_ID, "Editor")
    readers = [tg.user(810 + i, f"Reader{i}") for i in range(4)]
    url = http_server.url("/grain-corridor.html")  # type: ignore[attr-defined]
    since = len(await tg.calls())
    before = set(bot.runtime.store.catalog())

    await editor.command(f"/ingest {url}")
    status = await editor.reply()
    assert status.text.startswith("⏳ Ingest")
    # Subscribers keep getting answers while the ingest runs.
    await asyncio.gather(*(r.say(ITALY) for r in readers))
    for reply in await asyncio.gather(*(r.reply(timeout_s=60) for r in readers)):
        assert "140 million" in reply.text

    final = await final_state(editor, status, finished)
    assert final.text.startswith("✅ <b>Ingest</b> finished")
    assert "added 1 · updated 0" in final.text
    await editor.nothing_more()  # progress went into the one status message
    edits = [
        c for c in await tg.calls(since)
        if c["method"] == "editMessageText" and int(c["params"]["message_id"]) == status.message_id
    ]  # fmt: skip
    assert edits and edits[-1]["params"]["text"] == final.text

    (added,) = set(bot.runtime.store.catalog()) - before
    await editor.command("/sources")  # the newest article first, linked, with outlet and date
    newest = (await editor.reply()).text.split("<b>Newest</b>\n", 1)[1].splitlines()[0]
    link = bot.runtime.store.catalog()[added].url  # the page's canonical URL
    title = "Odesa grain corridor reopens after two-week pause"
    assert newest == f'• <a href="{link}">{title}</a> · The Kyiv Ledger, 5 Mar 2024'
    asker = tg.user(820, "Asker")
    await asker.say("How much wheat did the bulk carrier from Chornomorsk carry?")
    answer = await asker.reply()
    assert "62,000 tonnes" in answer.text

    await editor.command(f"/remove {added} no-such-article")
    removed = (await editor.reply()).text
    assert removed.startswith("🗑 Removed 1 article(s).")
    assert "Not found: <code>no-such-article</code>" in removed
    assert added not in bot.runtime.store.catalog()


async def test_ingest_and_remove_explain_their_usage(tg: EmulatorClient) -> None:
    editor = tg.user(ADMIN_ID, "Editor")
    await editor.command("/ingest")
    assert "Usage: /ingest" in (await editor.reply()).text
    await editor.command("/ingest /etc/passwd")  # files are for the server's CLI, not for the chat
    assert "Usage: /ingest" in (await editor.reply()).text
    await editor.command("/remove")
    assert "Usage: /remove" in (await editor.reply()).text


async def test_reindex_re_ingests_the_configured_sources(
    tg: EmulatorClient, bot: RunningBot, http_server: object, restore_catalog: None
) -> None:
    editor = tg.user(ADMIN_ID, "Editor")
    bot.settings.sources = []
    await editor.command("/reindex")
    assert "No sources are configured" in (await editor.reply()).text

    before = set(bot.runtime.store.catalog())
    dead = http_server.url("/status/404")  # type: ignore[attr-defined]
    bot.settings.sources = [http_server.url("/feed.rss"), dead]  # type: ignore[attr-defined]
    await editor.command("/reindex")
    status = await editor.reply()
    final = await final_state(editor, status, finished)
    added = set(bot.runtime.store.catalog()) - before
    assert len(added) >= 3
    assert final.text.startswith("⚠️ <b>Reindex</b> finished")
    assert f"added {len(added)} · updated 0" in final.text and "failed 1" in final.text
    assert f"<b>Failed</b>\n• <code>{dead}</code>: " in final.text


@pytest.fixture
def store_locked_elsewhere(bot: RunningBot) -> Iterator[None]:
    """Another process holding the embedded store's writer lock, as a `newsbot ingest` would."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(bot.settings.lock_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.stdin.close()  # the holder exits, and the kernel releases its lock
        holder.wait(timeout=30)


REPO = Path(__file__).resolve().parents[2]
LOCKED_FEED = "https://news.example/locked.xml"  # never fetched: following it is refused
HOLD_LOCK = """
import sys
from pathlib import Path
from vectorstore.lock import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


async def test_ingest_and_reindex_while_another_process_writes_say_so(
    tg: EmulatorClient, bot: RunningBot, http_server: object, store_locked_elsewhere: None, restore_catalog: None
) -> None:
    editor = tg.user(ADMIN_ID, "Editor")
    before = set(bot.runtime.store.catalog())
    bot.settings.sources = [http_server.url("/grain-corridor.html")]  # type: ignore[attr-defined]
    for command, what in ((f"/ingest {bot.settings.sources[0]}", "Ingest"), ("/reindex", "Reindex")):
        await editor.command(command)
        status = await editor.reply()
        final = await final_state(editor, status, finished)
        assert final.text == (
            f"❌ <b>{what}</b> failed. Another process is writing to the store; try again when it finishes."
        )
    await editor.command(f"/remove {SAMPLE_ITALY_ID}")
    assert (await editor.reply()).text == (
        "❌ <b>Remove</b> failed. Another process is writing to the store; try again when it finishes."
    )
    assert set(bot.runtime.store.catalog()) == before
    for command, what in ((f"/sources_add {LOCKED_FEED}", "Follow"), ("/sources_remove x", "Unfollow")):
        await editor.command(command)
        assert (await editor.reply()).text == (
            f"❌ <b>{what}</b> failed. Another process is writing to the store; try again when it finishes."
        )


async def test_a_second_admin_job_while_one_runs_is_refused_clearly(
    tg: EmulatorClient, bot: RunningBot, http_server: object, restore_catalog: None
) -> None:
    from conftest import Route

    editor = tg.user(ADMIN_ID, "Editor")
    site = http_server
    page = site.routes["/grain-corridor.html"]  # type: ignore[attr-defined]
    site.routes["/held.html"] = Route(page.body, delay_s=3.0)  # type: ignore[attr-defined]
    bot.settings.sources = [site.url("/grain-corridor.html")]  # type: ignore[attr-defined]
    await editor.command(f"/ingest {site.url('/held.html')}")  # type: ignore[attr-defined]
    status = await editor.reply()
    assert status.text.startswith("⏳ Ingest")
    for command in ("/reindex", f"/ingest {site.url('/grain-corridor.html')}"):  # type: ignore[attr-defined]
        await editor.command(command)
        refusal = await editor.reply()
        assert refusal.text == "Another ingest is running; please try again when it has finished."
    final = await final_state(editor, status, finished)
    assert final.text.startswith("✅ <b>Ingest</b> finished") and "added 1" in final.text
    assert site.hits.count("/grain-corridor.html") == 0  # type: ignore[attr-defined]  # the refused jobs ran nothing


def test_admin_failures_are_named_and_never_show_exception_text(tmp_path: Path) -> None:
    from bot.telegram.failures import DISK_FULL, NOT_WRITABLE, STORE_LOCKED, STORE_UNREACHABLE, failure_reason
    from vectorstore.client import ChromaConfig, connect
    from vectorstore.errors import StoreError
    from vectorstore.lock import writer_lock

    with writer_lock(tmp_path / "lock"), pytest.raises(StoreError) as locked, writer_lock(tmp_path / "lock"):
        pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens there once the socket is closed
    with pytest.raises(StoreError) as unreachable:
        connect(ChromaConfig(path=tmp_path, url=f"http://127.0.0.1:{closed}"))
    db = sqlite3.connect(tmp_path / "full.sqlite3")
    try:
        db.execute("PRAGMA max_page_count = 1")  # a database that cannot grow is how SQLite meets a full disk
        with pytest.raises(sqlite3.OperationalError) as full:
            db.execute("CREATE TABLE t (x TEXT)")
            db.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    finally:
        db.close()
    assert failure_reason(locked.value) == STORE_LOCKED
    assert failure_reason(unreachable.value) == STORE_UNREACHABLE
    assert failure_reason(full.value) == DISK_FULL
    assert failure_reason(OSError(errno.ENOSPC, "No space left on device")) == DISK_FULL
    try:
        try:
            raise OSError(errno.EROFS, "Read-only file system")
        except OSError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert failure_reason(wrapped) == NOT_WRITABLE
    assert failure_reason(ValueError("something else")) is None
