"""A `newsbot serve` killed mid-batch and started again sends no notification twice: what it had claimed is
never resent, and the rest goes out from the new process."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from botapi_emulator import Emulator, EmulatorClient
from test_cli import clean_env, newsbot_command

from bot.follow.models import Match
from bot.follow.store import Followed, FollowStore
from bot.telegram.push import IN_FLIGHT

TOKEN = "555666888:AAE-newsbot-follow-restart"
USERS = range(8300, 8340)


def queue_news(data_dir: Path) -> None:
    """40 followers, each with one notification queued, as an ingest would leave them."""
    store = FollowStore(data_dir / "feedback.sqlite3")
    for user in USERS:
        topic = store.follow(user, user, "Italy's military aid to Ukraine", [1.0, 0.0], limit=20)
        assert isinstance(topic, Followed)
        sentence = f"Italy delivered battery number {user}."
        match = Match(topic.topic.id, user, user, "samp-t", "SAMP/T", None, None, None, sentence, 0, 9, 1.5, False)
        store.queue([match])
    store.close()


async def sends(client: EmulatorClient) -> list[int]:
    calls = await client.calls()
    return [int(c["params"]["chat_id"]) for c in calls if c["token"] == TOKEN and c["method"] == "sendMessage"]


def statuses(store: FollowStore) -> Counter[str]:
    return Counter(status for user in USERS for _, status in store.sent_items(user))


async def test_a_sender_killed_mid_batch_and_restarted_sends_nothing_twice(emulator: Emulator, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    queue_news(data_dir)
    env = clean_env(
        NEWSBOT_DATA_DIR=str(data_dir), NEWSBOT_TELEGRAM_TOKEN=TOKEN, NEWSBOT_TELEGRAM_BASE_URL=emulator.url,
        NEWSBOT_POLL_SOURCES="false", NEWSBOT_FOLLOW_PUSH_PER_S="4", NEWSBOT_FOLLOW_TICK_S="0.5",
    )  # fmt: skip

    def serve(n: int) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"serve-{n}.log").open("w")
        return subprocess.Popen(newsbot_command() + ["serve"], env=env, cwd=tmp_path, stdout=log, stderr=log)

    async with EmulatorClient(emulator.url, TOKEN) as client:
        first = serve(1)
        try:
            deadline = time.monotonic() + 150  # the model loads in the new process
            while len(await sends(client)) < 5:
                assert first.poll() is None and time.monotonic() < deadline, (tmp_path / "serve-1.log").read_text()
                await asyncio.sleep(0.05)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        before = len(await sends(client))
        assert before < len(USERS)

        second = serve(2)
        store = FollowStore(data_dir / "feedback.sqlite3")
        try:
            deadline = time.monotonic() + 150
            while statuses(store)["pending"]:  # claimed by the killed sender: "sending" for good
                assert second.poll() is None and time.monotonic() < deadline, (tmp_path / "serve-2.log").read_text()
                await asyncio.sleep(0.1)
        finally:
            second.send_signal(signal.SIGINT)
            second.wait(timeout=60)
        chats = Counter(await sends(client))
    final = statuses(store)
    assert max(chats.values()) == 1, chats  # nobody was told twice
    assert final["sent"] + final["sending"] == len(USERS) and final["sent"] >= before
    # Only what the killed sender had claimed (and may or may not have sent) stays unsent: never resent.
    assert final["sending"] <= IN_FLIGHT
    assert len(chats) >= final["sent"] and len(chats) > before
