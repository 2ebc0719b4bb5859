"""An answer longer than one Telegram message arrives split in two at a paragraph boundary, every part valid.

A second bot (its own token, store and settings) answers over purpose-written coverage: four articles on one
subject with long headlines and links, and up to 60 answer sentences, so the real engine's answer with its
Sources block runs past 4,096 characters.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot_harness import RunningBot, start_own_bot
from botapi_emulator import Emulator, EmulatorClient
from telegram_html import visible_text

from bot.telegram.render import MAX_MESSAGE_CHARS

TOKEN = "987654321:AAE-newsbot-long-answers"
_WORDS = (
    "engineers residents fishermen officials inspectors divers surveyors councillors farmers volunteers "
    "geologists sailors reported measured documented inspected reinforced questioned celebrated monitored "
    "repaired photographed debated mapped sluice caissons surge marsh currents chambers pumps walls lanes "
    "eels herons oysters sandbanks cranes barges dredgers pilings hinges valves sensors"
)
VOCABULARY = _WORDS.split()


def write_coverage(folder: Path) -> None:
    """Four articles of six distinct sentences on the barrier, with long headlines and links."""
    rng = random.Random(7)

    def words(n: int) -> str:
        return " ".join(rng.choice(VOCABULARY) for _ in range(n))

    for a in range(4):
        sentences = [f"At the Zorvath tidal barrier, {words(14)}." for _ in range(6)]
        title = f"Zorvath tidal barrier, report {a + 1}: {words(50)}"
        slug = words(25).replace(" ", "-")
        (folder / f"zorvath-{a}.md").write_text(
            f'---\nid: zorvath-{a}\ntitle: "{title}"\nurl: https://news.example/zorvath/{a}/{slug}\n'
            f"date: 2024-02-0{a + 1}\nsource: The Coastal Ledger\n---\n" + " ".join(sentences) + "\n",
            encoding="utf-8",
        )


@pytest.fixture(scope="module")
async def long_bot(
    tmp_path_factory: pytest.TempPathFactory, emulator: Emulator, embedder: object
) -> AsyncIterator[RunningBot]:
    folder = tmp_path_factory.mktemp("zorvath")
    write_coverage(folder)
    data_dir = tmp_path_factory.mktemp("long-bot")
    running, report = await start_own_bot(data_dir, TOKEN, emulator.url, embedder, folder, max_answer_sentences=60)
    assert report.ok
    yield running
    await running.stop()


async def test_long_answer_is_split_in_two_at_a_paragraph_boundary(
    long_bot: RunningBot, emulator: Emulator, tg: EmulatorClient
) -> None:
    async with EmulatorClient(emulator.url, TOKEN) as client:
        reader = client.user(750, "Reader")
        await reader.say("What happened at the Zorvath tidal barrier?")
        first, second = await reader.replies(2, timeout_s=30)  # each checked: valid HTML, <= 4,096 characters
        await reader.nothing_more()
        calls = [c for c in await client.calls() if c["method"] == "sendMessage"]
    assert len(first.text) + len(second.text) > MAX_MESSAGE_CHARS
    assert first.buttons == () and [b.text for b in second.buttons[-1]] == ["👍", "👎"]
    # The cut falls between the answer and its Sources block, and the parts read in order.
    assert "[1]" in first.text and "<b>Sources</b>" not in first.text
    assert second.text.startswith('<b>Sources</b>\n[1] <a href="https://news.example/zorvath/')
    assert visible_text(first.text).count("Zorvath tidal barrier") >= 4
    for call in calls:
        assert len(call["params"]["text"]) <= MAX_MESSAGE_CHARS
