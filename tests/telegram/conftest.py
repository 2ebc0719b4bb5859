"""The Telegram tests' world: the Bot API emulator (node, 127.0.0.1), and the real bot running in-process
against it through NEWSBOT_TELEGRAM_BASE_URL, over the sample coverage in a fresh store.

One bot serves all the Telegram tests (loading the model once); tests keep apart by using their own user and
chat ids. After every test, each message the bot sent or edited is checked as Telegram would check it, and
the logs of the test are checked for the token and for what users said.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from bot_harness import ADMIN_ID, TOKEN, LogSpy, RunningBot, start_bot
from botapi_emulator import Emulator, EmulatorClient, EmulatorUnavailable
from telegram_html import assert_valid

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.settings import Settings
    from vectorstore.embedder import Embedder

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DIR = REPO / "data" / "sample"


def pytest_plugin_registered(plugin: object, manager: pytest.PytestPluginManager) -> None:
    """Keep `from conftest import ...` in tests/*.py meaning tests/conftest.py.

    pytest imports every conftest.py outside a package under the module name `conftest`, so after this one is
    imported the name would point here. When this file is registered, pytest replays the registrations
    before it to this hook, tests/conftest.py among them: the name is pointed back at it.
    """
    root_conftest = Path(__file__).resolve().parents[1] / "conftest.py"
    path = getattr(plugin, "__file__", None)
    if path and Path(path).resolve() == root_conftest:
        sys.modules["conftest"] = plugin  # type: ignore[assignment]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the Telegram tests, and run them last: the bot and the emulator then stop with the session,
    right after them, instead of idling through everyone else's tests."""
    here = Path(__file__).parent
    ours = [item for item in items if here in Path(str(item.path)).parents]
    for item in ours:
        item.add_marker(pytest.mark.telegram)
    others = [item for item in items if here not in Path(str(item.path)).parents]
    items[:] = others + ours


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    try:
        emu = Emulator.start()
    except EmulatorUnavailable as exc:
        if "node is not installed" in str(exc):
            pytest.skip(str(exc))
        raise
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def log_spy() -> Iterator[LogSpy]:
    spy = LogSpy()
    root = logging.getLogger()
    root.handlers.insert(0, spy)  # first: it sees each record before another handler's filter redacts it
    yield spy
    root.removeHandler(spy)


@pytest.fixture(scope="session")
def bot_settings(tmp_path_factory: pytest.TempPathFactory, emulator: Emulator) -> Settings:
    from bot.settings import Settings

    return Settings(
        _env_file=None,
        data_dir=tmp_path_factory.mktemp("telegram-bot"),
        telegram_token=TOKEN,
        telegram_base_url=emulator.url,  # the bot adds /bot itself
        admin_ids=[ADMIN_ID],
        rate_limit_per_minute=10,
        answer_workers=4,
        sources=[],
        fetch_allow=["127.0.0.1"],  # the tests' web server (`http_server`); only public addresses otherwise
        # The session bot answers and runs admin jobs only: a poller of its own would ingest the sources a test
        # registers at moments no test chose, holding the writer lock a test expects free. Polling by `serve`
        # has its own bots (tests/test_sources_serve.py).
        poll_sources=False,
    )


@pytest.fixture(scope="session")
def bot_runtime(bot_settings: Settings, embedder: Embedder) -> Runtime:
    from bot.runtime import Runtime

    runtime = Runtime(bot_settings)
    runtime.__dict__["embedder"] = embedder  # the session's model
    report = runtime.ingest([str(SAMPLE_DIR)])
    assert report.ok and report.added, report.summary()
    return runtime


@pytest.fixture(scope="session")
async def bot(bot_settings: Settings, bot_runtime: Runtime, log_spy: LogSpy) -> AsyncIterator[RunningBot]:
    """The production Application over the sample coverage, started the way run_polling starts it."""
    running = await start_bot(bot_settings, bot_runtime)
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def client(emulator: Emulator) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.url, TOKEN) as c:
        yield c


@pytest.fixture
async def tg(bot: RunningBot, client: EmulatorClient, log_spy: LogSpy) -> AsyncIterator[EmulatorClient]:
    """The emulator's client side, with the running bot behind it.

    Whatever the test does, every message the bot sends or edits must be one Telegram would accept, and the
    logs must hold neither the token nor anything a user wrote.
    """
    since = len(await client.calls())
    logs_before = len(log_spy.lines)
    texts_before = len(client.sent_texts)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)  # what a served bot logs
    try:
        yield client
    finally:
        root.setLevel(level)
    for call in await client.calls(since):
        check_call(call)
    new_logs = "\n".join(log_spy.lines[logs_before:])
    assert TOKEN not in new_logs
    assert TOKEN.split(":")[1] not in new_logs
    for text in client.sent_texts[texts_before:]:
        if len(text) >= 12:  # short texts ("/start") may appear by coincidence
            assert text not in new_logs, f"a user's message reached the logs: {text!r}"


def check_call(call: dict[str, Any]) -> None:
    method, params = call["method"], call["params"]
    if method in ("sendMessage", "editMessageText"):
        assert_valid(str(params.get("text", "")), params.get("parse_mode"), what=f"{method} #{call['seq']}")
    if method == "answerCallbackQuery" and params.get("text"):
        assert len(params["text"]) <= 200, f"callback answer over 200 characters: {params['text']!r}"
    markup = params.get("reply_markup")
    if isinstance(markup, dict):
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None:
                    assert 1 <= len(data.encode()) <= 64, (
                        f"callback data of {len(data.encode())} bytes: {data!r}"
                    )
