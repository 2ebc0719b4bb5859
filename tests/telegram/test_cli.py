"""`newsbot start` and `newsbot serve` as a user runs them: real processes against the emulator, by long
polling and by webhook; and the clean errors when no token is configured."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from botapi_emulator import Emulator, EmulatorClient
from click.testing import CliRunner

from bot.cli import cli

REPO = Path(__file__).resolve().parents[2]
ITALY = "What did Italy pledge?"


def newsbot_command() -> list[str]:
    script = Path(sys.executable).parent / "newsbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def clean_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(settings)
    return env


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh store for each test: a test must not depend on what another one ingested."""
    return tmp_path / "data"


class Served:
    def __init__(self, process: subprocess.Popen[str], log: Path) -> None:
        self.process = process
        self.log = log

    def stop(self) -> str:
        """Ctrl-C, as a user would stop it; returns what it logged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def webhook_settings(port: int, secret: str) -> dict[str, str]:
    """Webhook mode on `port` of 127.0.0.1, as a deployment behind a load balancer sets it."""
    return {
        "NEWSBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "NEWSBOT_WEBHOOK_PORT": str(port),
        "NEWSBOT_WEBHOOK_SECRET": secret,
    }


async def wait_for_webhook(client: EmulatorClient, served: Served, token: str) -> None:
    """Until the bot with `token` has set its webhook at the Bot API; fails at once if the process died."""
    deadline = time.monotonic() + 150
    while not any(c["method"] == "setWebhook" and c["token"] == token for c in await client.calls()):
        assert served.process.poll() is None, served.stop()
        assert time.monotonic() < deadline, "the bot never set its webhook"
        await asyncio.sleep(0.2)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    started: list[Served] = []

    def run(args: list[str], env: dict[str, str]) -> Served:
        log = tmp_path / f"newsbot-{len(started)}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                newsbot_command() + args,
                env=env,
                cwd=tmp_path,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        served = Served(process, log)
        started.append(served)
        return served

    yield run
    for served in started:
        served.stop()


async def test_start_with_a_token_ingests_the_sample_and_serves_by_long_polling(
    emulator: Emulator, data_dir: Path, serve: object
) -> None:
    token = "555000111:AAE-newsbot-cli-polling"
    env = clean_env(
        NEWSBOT_DATA_DIR=str(data_dir), NEWSBOT_TELEGRAM_TOKEN=token, NEWSBOT_TELEGRAM_BASE_URL=emulator.url
    )
    served = serve(["start"], env)  # type: ignore[operator]
    async with EmulatorClient(emulator.url, token) as client:
        ann = client.user(1201, "Ann")
        await ann.command("/start")
        try:
            welcome = await ann.reply(timeout_s=150)  # model load and sample ingest in the new process
            await ann.say(ITALY)
            answer = await ann.reply()
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- newsbot's log ---\n{served.stop()}") from None
    log = served.stop()
    assert "<b>2 articles</b>" in welcome.text, welcome.text
    assert "140 million" in answer.text, answer.text
    assert served.process.returncode == 0, log
    assert "sample coverage: added 2" in log, log
    assert "serving by long polling" in log and "ready: 2 articles" in log, log
    assert token not in log and token.split(":")[1] not in log
    assert ITALY not in log, log


async def test_serve_by_webhook_with_a_secret_token(
    emulator: Emulator, data_dir: Path, serve: object
) -> None:
    token = "555000222:AAE-newsbot-cli-webhook"
    secret = "webhook-secret-0123456789"
    port = free_port()
    env = clean_env(
        NEWSBOT_DATA_DIR=str(data_dir),
        NEWSBOT_TELEGRAM_TOKEN=token,
        NEWSBOT_TELEGRAM_BASE_URL=emulator.url,
        **webhook_settings(port, secret),
    )
    served = serve(["start"], env)  # type: ignore[operator]
    async with EmulatorClient(emulator.url, token) as client:
        await wait_for_webhook(client, served, token)
        hook = next(c for c in await client.calls() if c["method"] == "setWebhook" and c["token"] == token)
        assert hook["params"]["url"] == f"http://127.0.0.1:{port}/telegram"
        assert hook["params"]["secret_token"] == secret
        ann = client.user(1202, "Ann")
        await ann.say(ITALY)  # the emulator posts the update to the bot's webhook, with the secret header
        try:
            answer = await ann.reply(timeout_s=30)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- newsbot's log ---\n{served.stop()}") from None
        assert "140 million" in answer.text, answer.text
    log = served.stop()
    assert "serving by webhook on 127.0.0.1" in log, log
    assert "sample coverage: added 2" in log, log
    assert secret not in log and token.split(":")[1] not in log


def runner_env(data: Path) -> dict[str, str | None]:
    """CliRunner's env: every NEWSBOT_ variable of this shell unset, the store in `data`."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("NEWSBOT_")}
    return {**unset, "NEWSBOT_DATA_DIR": str(data)}


def test_serve_without_a_token_is_a_clean_one_line_error(tmp_path: Path) -> None:
    runner = CliRunner()
    env = runner_env(tmp_path)
    with runner.isolated_filesystem(temp_dir=tmp_path):  # no .env from the checkout
        result = runner.invoke(cli, ["serve"], env=env)
        assert result.exit_code == 1
        assert result.output.strip().startswith("Error: no Telegram bot token: set NEWSBOT_TELEGRAM_TOKEN")
        assert "Traceback" not in result.output

        missing = str(tmp_path / "no-such-token-file")
        result = runner.invoke(cli, ["serve"], env={**env, "NEWSBOT_TELEGRAM_TOKEN_FILE": missing})
        assert result.exit_code == 1
        assert result.stderr == (
            f"Error: NEWSBOT_TELEGRAM_TOKEN_FILE must be a readable file holding the bot token (got {missing}: "
            "No such file or directory)\n"
        )


def test_start_without_a_token_opens_the_terminal_chat(
    tmp_path: Path, embedder: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.runtime.load_embedder", lambda *args, **kwargs: embedder)  # the session's model
    runner = CliRunner()
    env = runner_env(tmp_path / "data")
    with runner.isolated_filesystem(temp_dir=tmp_path):
        result = runner.invoke(cli, ["start"], env=env, input=f"{ITALY}\nquit\n")
    assert result.exit_code == 0, result.output
    assert "sample coverage: added 2" in result.output
    assert "No NEWSBOT_TELEGRAM_TOKEN configured, so here is the terminal chat." in result.output
    assert "140 million" in result.output


async def test_serve_with_a_token_file_refuses_webhook_posts_with_a_wrong_secret(
    emulator: Emulator, tmp_path: Path, serve: object
) -> None:
    token = "555000333:AAE-newsbot-cli-token-file"
    token_file = tmp_path / "bot-token"
    token_file.write_text(token + "\n", encoding="utf-8")  # as a secrets manager writes it, newline included
    secret = "webhook-secret-9876543210"
    port = free_port()
    env = clean_env(
        NEWSBOT_DATA_DIR=str(tmp_path / "data"),
        NEWSBOT_TELEGRAM_TOKEN_FILE=str(token_file),
        NEWSBOT_TELEGRAM_BASE_URL=emulator.url,
        **webhook_settings(port, secret),
    )
    served = serve(["serve"], env)  # type: ignore[operator]
    async with EmulatorClient(emulator.url, token) as client:
        await wait_for_webhook(client, served, token)  # the token from the file reached the Bot API
        ann = client.user(1203, "Ann")
        forged = {
            "update_id": 990_001,
            "message": {
                "message_id": 1, "date": int(time.time()), "text": "/start",
                "chat": ann.chat, "from": ann.sender,
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }  # fmt: skip
        async with httpx.AsyncClient() as http:
            for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong-secret"}, {}):
                response = await http.post(f"http://127.0.0.1:{port}/telegram", json=forged, headers=headers)
                assert response.status_code == 403, (headers, response.status_code)
        try:
            await ann.nothing_more()  # the probe, through the emulator with the secret, is the first reply
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- newsbot's log ---\n{served.stop()}") from None
    log = served.stop()
    assert served.process.returncode == 0, log
    assert "serving by webhook on 127.0.0.1" in log, log
    assert token.split(":")[1] not in log and secret not in log


def test_a_second_start_finds_the_sample_unchanged(
    tmp_path: Path, embedder: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`start` is cheap when the sample is already stored: the second run ingests nothing."""
    monkeypatch.setattr("bot.runtime.load_embedder", lambda *args, **kwargs: embedder)  # the session's model
    runner = CliRunner()
    env = runner_env(tmp_path / "data")
    with runner.isolated_filesystem(temp_dir=tmp_path):
        first = runner.invoke(cli, ["start"], env=env, input="quit\n")
        second = runner.invoke(cli, ["start"], env=env, input="quit\n")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "sample coverage: added 2, updated 0, unchanged 0" in first.output, first.output
    assert "sample coverage: added 0, updated 0, unchanged 2" in second.output, second.output
