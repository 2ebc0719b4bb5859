"""Commands for the sources newsbot follows (ingest's registry) and their poller (bot/polling.py): sources,
sources add, sources remove, watch."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from bot.cli.context import friendly_errors, runtime_from, settings_from
from bot.settings import Settings
from vectorstore.errors import StoreError, StoreLockedError

if TYPE_CHECKING:
    from ingest import Source


def _when(ts: float | None) -> str:
    if not ts:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _registered_sources(settings: Settings) -> list[Source]:
    """What the registry holds, read without creating a store or a collection."""
    from ingest import SourceRegistry
    from vectorstore.client import connect

    config = settings.chroma_config()
    if config.embedded and not settings.store_path.exists():
        return []
    registry = SourceRegistry.open_existing(connect(config), settings.collection)
    return registry.all() if registry is not None else []


@click.group("sources", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines (every field of each source).")
@click.pass_context
@friendly_errors
def sources_cmd(ctx: click.Context, as_json: bool) -> None:
    """The sources newsbot follows: list them, `add` one, `remove` one.

    \b
    Examples:
      newsbot sources add https://example.org/feed.xml --every 10m
      newsbot sources add https://example.org/news-sitemap.xml --every 10m
      newsbot sources add ~/exports/site --every 1h
      newsbot sources
      newsbot sources remove 3f2a9c1e
    Sources live in the store, so every newsbot process sees the same list; NEWSBOT_SOURCES adds its entries
    (every 10m) the first time a poller or `sources add` runs. `newsbot watch` (or `newsbot serve`) polls them.
    Columns: id, location, every, last check, last success, last error, articles added/updated in total, next
    check (UTC).
    """
    if ctx.invoked_subcommand is not None:
        return
    import time
    from dataclasses import asdict

    from ingest import DEFAULT_EVERY_S, format_every, pending_seeds

    settings = settings_from(ctx)
    registered = _registered_sources(settings)
    pending = pending_seeds(registered, settings.sources, DEFAULT_EVERY_S, time.time())
    if as_json:
        for source in registered:
            click.echo(json.dumps(asdict(source)))
        for source in pending:
            click.echo(json.dumps({**asdict(source), "pending": True}))
        return
    if not registered and not pending:
        click.echo("no sources; add one with `newsbot sources add URL_OR_PATH`", err=True)
        return
    click.echo("id\tlocation\tevery\tlast check\tlast success\tlast error\tadded/updated\tnext check")
    for source in registered:
        next_check = _when(source.next_due) if source.next_due else "at the next poll"
        row = [source.id, source.location, format_every(source.every_s), _when(source.last_check),
               _when(source.last_success), source.last_error or "-", f"{source.added}/{source.updated}",
               next_check]  # fmt: skip
        click.echo("\t".join(row))
    for source in pending:
        pending_note = "from NEWSBOT_SOURCES, at the next poll"
        row = [source.id, source.location, format_every(source.every_s), "-", "-", "-", "0/0", pending_note]
        click.echo("\t".join(row))


@sources_cmd.command("add")
@click.argument("location")
@click.option("--every", help="Polling interval: 90s, 10m, 2h, 1d (1m at least; default 10m).")
@click.pass_context
@friendly_errors
def sources_add_cmd(ctx: click.Context, location: str, every: str | None) -> None:
    """Follow a feed, a sitemap (or index), a page, a directory or a JSONL export; polled at the poller's next round.

    Adding a source already followed changes its interval (with --every) and keeps its history.
    """
    import time
    from dataclasses import replace

    from ingest import DEFAULT_EVERY_S, format_every, new_source, parse_every

    now = time.time()
    try:
        every_s = parse_every(every) if every is not None else None
        source = new_source(location, every_s or DEFAULT_EVERY_S, now)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    runtime = runtime_from(ctx)
    with runtime.writing():
        runtime.registry.seed(runtime.settings.sources, DEFAULT_EVERY_S, now)
        existing = runtime.registry.get(source.id)
        if existing is None:
            runtime.registry.put(source)
            click.echo(f"added {source.id}: {source.location} (every {format_every(source.every_s)})")
            return
        if every_s is not None and every_s != existing.every_s:
            # The new interval counts from the last check: a shorter one may make the source due at once.
            base = existing.last_check if existing.last_check is not None else now
            existing = replace(existing, every_s=every_s, next_due=min(existing.next_due, base + every_s))
            runtime.registry.put(existing)
            click.echo(f"updated {existing.id}: {existing.location} (every {format_every(existing.every_s)})")
            return
    click.echo(f"already followed: {existing.id}: {existing.location} (every {format_every(existing.every_s)})")


@sources_cmd.command("remove")
@click.argument("source_id")
@click.pass_context
@friendly_errors
def sources_remove_cmd(ctx: click.Context, source_id: str) -> None:
    """Stop following a source (its articles stay; `newsbot remove` removes articles)."""
    from ingest import new_source

    runtime = runtime_from(ctx)
    if not _registered_sources(runtime.settings):
        raise click.ClickException(f"no source {source_id!r}; `newsbot sources` lists them")
    with runtime.writing():
        removed = runtime.registry.remove(source_id)
    if not removed:
        raise click.ClickException(f"no source {source_id!r}; `newsbot sources` lists them")
    click.echo(f"removed {source_id}")
    for location in runtime.settings.sources:
        try:
            seeded = new_source(location, 60, 0.0)
        except ValueError:
            continue
        if seeded.id == source_id:
            click.echo(f"note: {location} is in NEWSBOT_SOURCES and will be added again; remove it there", err=True)


@click.command("watch")
@click.option("--once", is_flag=True, help="Poll what is due now, then exit (for cron and tests).")
@click.pass_context
@friendly_errors
def watch_cmd(ctx: click.Context, once: bool) -> None:
    """Poll the registered sources when due, without the bot, until Ctrl-C or SIGTERM.

    \b
    Examples:
      newsbot watch
      newsbot watch --once
    One poller per store: a second `watch` (or a `serve` polling) on an embedded store is refused; in server
    mode (NEWSBOT_CHROMA_URL) it waits on the lease in the store and takes over when the first one stops.
    Each polled source prints one line (polled/failed/busy). A source that fails is retried later and later
    (its interval doubled per failure, 1h at most) while the others keep going. Other processes keep answering
    from the store meanwhile.
    """
    import signal
    import threading

    from bot.polling import Poller

    runtime = runtime_from(ctx)
    settings = runtime.settings
    poller = Poller(runtime)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()  # the source being polled finishes first; a second Ctrl-C interrupts at once
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    waiting = False
    try:
        if not once:
            click.echo(f"watching the sources of {settings.chroma_url or settings.store_path}; Ctrl-C stops", err=True)
        while not stop.is_set():
            try:
                results = poller.cycle()
            except StoreLockedError:
                raise  # another poller has this store: refused, one line, exit 1
            except StoreError as exc:  # e.g. the Chroma server restarting: try again next round
                click.echo(f"error: {exc}", err=True)
                results = []
            if results is None:
                if not waiting:
                    lease = poller.current_lease()
                    holder = f"{lease.holder} until {_when(lease.expires_at)}" if lease else "another process"
                    click.echo(f"waiting: the sources are polled by {holder}", err=True)
                waiting = True
            else:
                if waiting:
                    click.echo("took over polling", err=True)
                waiting = False
                for result in results:
                    click.echo(result.describe())
            if once:
                break
            stop.wait(settings.poll_tick_s)
    finally:
        poller.release()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
