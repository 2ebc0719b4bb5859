"""Coverage a hostile or careless feed could bring: a ~4,500-character link, a 10,000-character headline full of
markup characters, a run-on outlet name. Every message the bot sends about it is still one Telegram accepts.

A second bot (its own token, store and settings) serves this coverage, so the session's sample store is left
as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot_harness import RunningBot, start_own_bot
from botapi_emulator import Emulator, EmulatorClient, Reply
from telegram_html import utf16_len, visible_text

from bot.telegram.render import MAX_MESSAGE_CHARS

TOKEN = "987654322:AAE-newsbot-hostile-coverage"
LONG_URL = "https://news.example/marsh/" + "x" * 4500
TITLE = ("Marsh <b>pumps</b> & sluices 🌊 שלום " * 280).strip()  # ~10,000 characters
OUTLET = "The Very Long Outlet Name & Sons " * 20
FACTS = [
    "Engineers at the Quellmoor marsh station installed four new pumps in March.",
    "The Quellmoor marsh pumps move 12,000 litres of water a minute, the operator said.",
    "Residents near the Quellmoor marsh had asked for the pumps after the floods of 2023.",
]


def write_coverage(folder: Path) -> None:
    for i, fact in enumerate(FACTS):
        record = {
            "id": f"marsh-{i}",
            "title": TITLE,
            "url": LONG_URL + str(i),
            "source": OUTLET,
            "date": f"2024-03-0{i + 1}",
            "text": f"{fact} {fact}",
        }
        (folder / f"marsh-{i}.json").write_text(json.dumps(record), encoding="utf-8")


@pytest.fixture(scope="module")
async def hostile_bot(
    tmp_path_factory: pytest.TempPathFactory, emulator: Emulator, embedder: object
) -> AsyncIterator[RunningBot]:
    folder = tmp_path_factory.mktemp("quellmoor")
    write_coverage(folder)
    data_dir = tmp_path_factory.mktemp("hostile-bot")
    running, report = await start_own_bot(data_dir, TOKEN, emulator.url, embedder, folder)
    assert report.ok and len(report.added) == 3, report.summary()
    yield running
    await running.stop()


def no_stray_fragment(reply: Reply) -> None:
    shown = visible_text(reply.text).strip()
    assert shown not in ("Sources", "Newest") and not re.fullmatch(r"(\[\d+\]\s*)+", shown), reply.text


async def test_answers_and_sources_citing_a_huge_link_and_headline_fit_telegram(
    hostile_bot: RunningBot, emulator: Emulator, tg: EmulatorClient
) -> None:
    async with EmulatorClient(emulator.url, TOKEN) as client:
        reader = client.user(760, "Reader")
        await reader.say("How many pumps were installed at the Quellmoor marsh station?")
        (answer,) = await reader.replies(1)  # checked on arrival: valid Telegram HTML, <= 4,096 characters
        assert "four new pumps" in visible_text(answer.text) and "<b>Sources</b>" in answer.text  # "four" may be bold
        assert 'href="https://news.example/"' in answer.text and "x" * 600 not in answer.text
        assert "Marsh &lt;b&gt;pumps&lt;/b&gt; &amp; sluices" in answer.text  # the headline, escaped and shortened
        assert [b.text for b in answer.buttons[-1]] == ["👍", "👎"]

        await reader.command("/sources")
        (sources,) = await reader.replies(1)
        assert "<b>Newest</b>\n• <a href=" in sources.text
        await reader.command("/start")
        welcome = await reader.reply()
        await reader.tap(welcome, welcome.buttons[0][0].data or "")  # an example about a 10,000-character headline
        example = await reader.reply()
        assert example.text.startswith("❓ <i>Tell me about: Marsh &lt;b&gt;pumps") and "[1]" in example.text
        await reader.nothing_more()
        for reply in (answer, sources, welcome, example):
            no_stray_fragment(reply)
        calls = await client.calls()
    sent = [c["params"]["text"] for c in calls if c["method"] == "sendMessage" and c["token"] == TOKEN]
    assert len(sent) == 5 and all(utf16_len(text) <= MAX_MESSAGE_CHARS for text in sent)
