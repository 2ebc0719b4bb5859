"""Commands that run the Telegram bot (bot/telegram): serve, and start (the sample coverage, then the bot or a
terminal chat)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from bot.cli.context import friendly_errors, runtime_from, settings_from
from bot.cli.questions import chat_cmd
from bot.settings import Settings

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "sample"
# What /start offers on the sample coverage (NEWSBOT_EXAMPLE_QUESTIONS overrides).
SAMPLE_QUESTIONS = ("What did Italy pledge?", "What did Zelensky and Meloni discuss?", "What is Zbroiari?")


@click.command("serve")
@click.pass_context
@friendly_errors
def serve_cmd(ctx: click.Context) -> None:
    """Run the Telegram bot until interrupted: long polling, or a webhook when NEWSBOT_WEBHOOK_URL is set.

    \b
    Examples:
      NEWSBOT_TELEGRAM_TOKEN=123:abc newsbot serve
      NEWSBOT_TELEGRAM_TOKEN_FILE=/run/secrets/bot newsbot serve
      NEWSBOT_TELEGRAM_BASE_URL=http://127.0.0.1:8081 newsbot serve   # a self-hosted Bot API server
    Admins (NEWSBOT_ADMIN_IDS) get /ingest, /reindex, /remove and /stats in the chat.
    The sources registered with `newsbot sources add` are polled when due, unless NEWSBOT_POLL_SOURCES=false
    (answer-only instances) or another process already polls this store (see `newsbot watch --help`).
    """
    from bot.telegram.app import run

    # A service logs what it does (ids, counts, latencies; never message text): INFO unless -v asked for more.
    root = logging.getLogger()
    root.setLevel(min(root.level, logging.INFO))
    settings = settings_from(ctx)
    if not _telegram_token(settings):
        raise click.ClickException(
            "no Telegram bot token: set NEWSBOT_TELEGRAM_TOKEN or NEWSBOT_TELEGRAM_TOKEN_FILE "
            "(or try `newsbot chat`)"
        )
    run(settings, runtime_from(ctx))


@click.command("start")
@click.pass_context
@friendly_errors
def start_cmd(ctx: click.Context) -> None:
    """Load the sample coverage, then run the Telegram bot if a token is configured, else chat here.

    \b
    Example:
      newsbot start
    The sample is ingested incrementally, so this is quick when nothing changed.
    """
    settings = settings_from(ctx)
    if not settings.example_questions:
        settings.example_questions = list(SAMPLE_QUESTIONS)
    report = runtime_from(ctx).ingest([str(SAMPLE_DIR)])
    click.echo(f"sample coverage: {report.summary()}", err=True)
    if _telegram_token(settings):
        ctx.invoke(serve_cmd)
        return
    click.echo("No NEWSBOT_TELEGRAM_TOKEN configured, so here is the terminal chat.", err=True)
    ctx.invoke(chat_cmd)


def _telegram_token(settings: Settings) -> str | None:
    try:
        return settings.telegram_token_value()
    except OSError as exc:
        raise click.ClickException(
            "NEWSBOT_TELEGRAM_TOKEN_FILE must be a readable file holding the bot token "
            f"(got {settings.telegram_token_file}: {exc.strerror})"
        ) from None
