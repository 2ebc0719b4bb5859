"""The `newsbot` command line: ingest and manage coverage, follow sources, ask questions, chat, evaluate, serve the
bot. One module per command group; this one assembles them and configures logging."""

from __future__ import annotations

import logging
import sys

import click

from bot.cli.coverage import articles_cmd, ingest_cmd, remove_cmd, stats_cmd
from bot.cli.evaluate import eval_cmd
from bot.cli.questions import ask_cmd, chat_cmd
from bot.cli.serve import serve_cmd, start_cmd
from bot.cli.sources import sources_cmd, watch_cmd


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs request lines, and the Bot API puts the token in the URL path.
    for noisy in ("httpx", "httpcore", "chromadb", "sentence_transformers", "urllib3", "trafilatura", "htmldate"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """newsbot: answers questions about a news outlet's coverage, every claim cited.

    Settings come from NEWSBOT_* environment variables and a .env file (see the README).
    """
    _configure_logging(verbose)
    ctx.ensure_object(dict)


for command in (ingest_cmd, articles_cmd, remove_cmd, stats_cmd, sources_cmd, watch_cmd, ask_cmd, chat_cmd, eval_cmd,
                serve_cmd, start_cmd):  # fmt: skip
    cli.add_command(command)


def main() -> None:
    cli(prog_name="newsbot")
