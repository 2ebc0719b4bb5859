"""Following a story end to end through the emulator: follow (the 🔔 button, /follow), new coverage pushed
once as one message, stop, the daily digest, the admin's pause, and Telegram's 429 and 403.

A bot of its own (its own token and store over the sample coverage) pushes every 0.2 s; each test ingests its
own new articles (copies of tests/data/follow under new ids) in a thread, as a poll or /ingest would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot_harness import ADMIN_ID, RunningBot, start_own_bot
from botapi_emulator import Emulator, EmulatorClient, Reply, User

from bot.telegram.push import Pusher
from bot.telegram.render.follow import FOLLOW_BUTTON

TOKEN = "555666777:AAE-newsbot-follow-tests"
REPO = Path(__file__).resolve().parents[2]
FOLLOW_DATA = REPO / "tests" / "data" / "follow"
AID = "Italy's military aid to Ukraine"


@pytest.fixture(scope="module")
async def follow_bot(
    tmp_path_factory: pytest.TempPathFactory, emulator: Emulator, embedder: object
) -> AsyncIterator[RunningBot]:
    running, report = await start_own_bot(
        tmp_path_factory.mktemp("follow-bot"), TOKEN, emulator.url, embedder, REPO / "data" / "sample",
        admin_ids=[ADMIN_ID], poll_sources=False, follow_tick_s=0.2, follow_max_topics=3,
    )  # fmt: skip
    assert report.ok
    yield running
    await running.stop()


@pytest.fixture
async def client(follow_bot: RunningBot, emulator: Emulator, tg: EmulatorClient) -> AsyncIterator[EmulatorClient]:
    """This bot's users; `tg` checks every message it sends as Telegram would."""
    async with EmulatorClient(emulator.url, TOKEN) as c:
        yield c


def pusher_of(bot: RunningBot) -> Pusher:
    """A second sender beside the bot's own, as another process would be."""
    return Pusher(bot.application.bot, bot.runtime.follows, bot.settings, bot.services.languages)


async def publish(bot: RunningBot, folder: Path, *names: str, suffix: str) -> None:
    """New articles: copies of tests/data/follow's under ids ending in `suffix`, ingested as a poll would."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        text = (FOLLOW_DATA / f"{name}.md").read_text(encoding="utf-8")
        (folder / f"{name}-{suffix}.md").write_text(text.replace(f"id: {name}", f"id: {name}-{suffix}"), "utf-8")
    report = await asyncio.to_thread(bot.runtime.ingest, [str(folder)])
    assert report.ok and report.added, report.summary()


async def wait_until(predicate: object, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await asyncio.to_thread(predicate):  # type: ignore[arg-type]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def follow(user: User, topic: str) -> Reply:
    await user.command(f"/follow {topic}")
    reply = await user.reply()
    assert reply.text.startswith("🔔 Following"), reply.text
    return reply


async def test_follow_an_answer_then_its_new_coverage_arrives_once_and_can_be_stopped(
    follow_bot: RunningBot, client: EmulatorClient, tmp_path: Path
) -> None:
    reader = client.user(8101, "Ann")
    await reader.say("What did Italy pledge?")
    answer = await reader.reply()
    assert answer.button(FOLLOW_BUTTON).data == answer.callback_data[0]
    await reader.tap(answer, answer.button(FOLLOW_BUTTON).data or "")
    followed = await reader.reply()
    assert followed.text.startswith("🔔 Following “What did Italy pledge?”")

    await publish(follow_bot, tmp_path, "italy-samp-t", "serie-a-derby", "alpine-rail", suffix="a")
    pushed = await reader.reply()
    # One message: the new headline, linked, with the sentence that matches, cited; not the football result.
    assert "New on “What did Italy pledge?”" in pushed.text
    assert '<a href="https://news.example.org/italy-samp-t">' in pushed.text
    assert "[1]" in pushed.text and "Serie A" not in pushed.text and "Gotthard" not in pushed.text
    assert [b.text for b in pushed.buttons[-1]] == ["👍", "👎"]
    await reader.nothing_more()

    since = len(await client.calls())
    tap = await reader.tap(pushed, pushed.button("👍").data or "")
    assert (await client.callback_answer(tap, since))["text"].startswith("Thanks")
    await reader.tap(pushed, pushed.button("Stop following").data or "")
    assert (await reader.reply()).text.startswith("🔕 Stopped following “What did Italy pledge?”")
    await reader.command("/following")
    assert "don't follow any story" in (await reader.reply()).text

    await publish(follow_bot, tmp_path / "later", "italy-samp-t", suffix="b")  # nobody follows it now
    await reader.nothing_more()
    statuses = follow_bot.runtime.follows.sent_items(8101)
    assert statuses == [("italy-samp-t-a", "sent")]


async def test_follow_command_limit_list_and_unfollow(follow_bot: RunningBot, client: EmulatorClient) -> None:
    user = client.user(8102, "Bo")
    await user.command("/follow")
    assert "Usage: /follow" in (await user.reply()).text
    for topic in ("Gotthard rail tunnel", "Serie A title race", AID):
        await follow(user, topic)
    await user.command("/follow Elections in Portugal")
    assert "3 stories, the most I keep" in (await user.reply()).text
    await user.command("/follow Serie A title race")
    assert (await user.reply()).text.startswith("You already follow")

    await user.command("/following")
    listed = await user.reply()
    assert "1. “Gotthard rail tunnel”" in listed.text and "3. “Italy" in listed.text
    assert [row[0].text for row in listed.buttons][0] == "🔕 Stop: Gotthard rail tunnel"
    await user.command("/unfollow 1")
    assert (await user.reply()).text == "🔕 Stopped following “Gotthard rail tunnel”."
    await user.command("/unfollow all")
    assert (await user.reply()).text.count("🔕 Stopped following") == 2
    assert follow_bot.runtime.follows.topics(8102) == []


async def test_a_digest_waits_for_its_time(follow_bot: RunningBot, client: EmulatorClient, tmp_path: Path) -> None:
    user = client.user(8103, "Cy")
    await follow(user, AID)
    digest_at = time.strftime("%H:%M", time.gmtime(time.time() + 3 * 3600))
    await user.command(f"/digest daily {digest_at} +00:00")
    assert f"One message a day at {digest_at} (UTC+00:00)" in (await user.reply()).text

    await publish(follow_bot, tmp_path, "italy-samp-t", suffix="c")
    follows = follow_bot.runtime.follows
    await wait_until(lambda: follows.sent_items(8103) == [("italy-samp-t-c", "pending")], "the queued notification")
    pusher = pusher_of(follow_bot)
    assert (await pusher.run_once()).sent == 0  # now: it waits for the digest time
    await user.nothing_more()
    tomorrow = await pusher.run_once(now=time.time() + 3 * 3600 + 60)
    assert tomorrow.sent == 1
    assert "New on “Italy" in (await user.reply()).text
    await user.nothing_more()


async def test_flood_control_delays_a_notification_and_it_still_arrives_once(
    follow_bot: RunningBot, client: EmulatorClient, tmp_path: Path
) -> None:
    user = client.user(8104, "Di")
    await follow(user, AID)
    since = len(await client.calls())
    # More 429s than the rate limiter retries: the notification goes back to the queue until Telegram's delay.
    await client.flood_next(5)
    await publish(follow_bot, tmp_path, "italy-samp-t", suffix="d")
    pushed = await user.reply(timeout_s=60)
    assert "New on “Italy" in pushed.text
    await user.nothing_more()
    calls = await client.calls(since)
    sends = [c for c in calls if c["method"] == "sendMessage" and str(c["params"]["chat_id"]) == "8104"]
    assert len(sends) >= 6  # five refused, then the one that arrived (and the probe's answer)
    assert follow_bot.runtime.follows.sent_items(8104) == [("italy-samp-t-d", "sent")]


async def test_a_user_who_blocked_the_bot_is_dropped_and_paused(
    follow_bot: RunningBot, client: EmulatorClient, tmp_path: Path
) -> None:
    user = client.user(8105, "Ed")
    await follow(user, AID)
    await client.block_chats([8105])
    try:
        await publish(follow_bot, tmp_path, "italy-samp-t", suffix="e")
        follows = follow_bot.runtime.follows
        await wait_until(lambda: follows.sent_items(8105) == [("italy-samp-t-e", "dropped")], "the drop")
        assert follows.preferences(8105).paused
        await publish(follow_bot, tmp_path / "more", "italy-samp-t", suffix="f")
        assert follows.sent_items(8105) == [("italy-samp-t-e", "dropped")]  # paused: nothing more is queued
    finally:
        await client.block_chats([])
    await follow(user, "Gotthard rail tunnel")  # following again resumes
    assert not follow_bot.runtime.follows.preferences(8105).paused


async def test_an_admin_pauses_every_push_and_sees_the_counts(
    follow_bot: RunningBot, client: EmulatorClient, tmp_path: Path
) -> None:
    admin = client.user(ADMIN_ID, "Admin")
    reader = client.user(8106, "Flo")
    await reader.command("/pushes off")
    assert "not allowed" in (await reader.reply()).text
    await admin.command("/pushes off")
    assert "paused for everyone" in (await admin.reply()).text
    try:
        await follow(reader, AID)
        await publish(follow_bot, tmp_path, "italy-samp-t", suffix="g")
        follows = follow_bot.runtime.follows
        await wait_until(lambda: follows.sent_items(8106) == [("italy-samp-t-g", "pending")], "the queue")
        pusher = pusher_of(follow_bot)
        assert (await pusher.run_once()).sent == 0
        await reader.nothing_more()
        await admin.command("/stats")
        stats = (await admin.reply()).text
        assert "Followed stories:" in stats and "Notifications:" in stats and "paused" in stats
    finally:
        await admin.command("/pushes on")
        assert "being sent" in (await admin.reply()).text
    assert "New on “Italy" in (await reader.reply()).text


async def test_notifications_come_in_the_followers_language(
    follow_bot: RunningBot, client: EmulatorClient, tmp_path: Path
) -> None:
    """A notification answers no message, so it goes out in the language chosen with /language, else the one
    the user's app had when they followed."""
    giulia = client.user(8107, "Giulia", language_code="it")
    taras = client.user(8108, "Taras", language_code="it")
    await taras.command("/language uk")
    assert (await taras.reply()).text.startswith("🌐 Відтепер")
    for user, followed in ((giulia, "🔔 Segui “"), (taras, "🔔 Стежу за темою “")):
        await user.command(f"/follow {AID}")
        assert (await user.reply()).text.startswith(followed)

    await publish(follow_bot, tmp_path, "italy-samp-t", suffix="i")
    italian, ukrainian = await giulia.reply(), await taras.reply()
    assert italian.text.startswith(f"🔔 <b>Novità su “{AID}”</b>")
    assert italian.buttons[0][0].text.startswith("🔕 Smetti di seguire: ")
    assert ukrainian.text.startswith(f"🔔 <b>Нове на тему “{AID}”</b>")
    assert ukrainian.buttons[0][0].text.startswith("🔕 Не стежити: ")
