"""Commands that change or describe the coverage: ingest, articles, remove, stats."""

from __future__ import annotations

import json
import sys

import click

from bot.cli.context import friendly_errors, runtime_from


@click.command("ingest")
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--prune",
    is_flag=True,
    help="Remove articles of these sources that no longer exist there; a source with any failure, or a link "
    "not followed, prunes nothing.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
@friendly_errors
def ingest_cmd(ctx: click.Context, sources: tuple[str, ...], prune: bool, quiet: bool) -> None:
    """Ingest articles from files, directories, article URLs, RSS/Atom feeds or sitemaps.

    \b
    Examples:
      newsbot ingest data/sample
      newsbot ingest articles.jsonl https://example.org/feed.xml --prune

    Unchanged articles are skipped; edited ones are replaced. Directories are read recursively; hidden files and
    directories (names starting with a dot) are ignored without a word. Each problem is one line on stderr:

    \b
      failed: ITEM: REASON   not ingested: unreadable, empty, binary, a broken
                             record, an HTTP error, a directory that cannot be
                             listed, a source with nothing to ingest in it
      skipped: ITEM: REASON  passed over on purpose: an unsupported type (.pdf),
                             a FIFO, device or socket, an empty subdirectory,
                             a symbolic link (never followed in a directory)
      warning: ITEM: REASON  stored, but not quite as given (a date that is no
                             date is left out), or a --prune held back because
                             part of the source failed or was not read

    Exit code: 0 when nothing failed (skips and warnings are printed, but do not fail the run); 1 when any item
    failed. The rest of the run is ingested either way.
    """
    runtime = runtime_from(ctx)
    bar = None
    progress = None
    if not quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=0, unit="chunk", desc="embedding", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

    report = runtime.ingest(list(sources), prune=prune, progress=progress)
    if bar is not None:
        bar.close()
    for label, items in (("failed", report.failed), ("skipped", report.skipped), ("warning", report.warnings)):
        for item in items:
            click.echo(f"{label}: {item.item}: {item.reason}", err=True)
    click.echo(report.summary())
    if not report.ok:
        ctx.exit(1)


@click.command("articles")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines.")
@click.pass_context
@friendly_errors
def articles_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the stored articles: id, date, chunks and title, newest first."""
    catalog = runtime_from(ctx, create_store=False).store.catalog()
    rows = sorted(catalog.values(), key=lambda a: (a.date or "", a.id), reverse=True)
    for a in rows:
        if as_json:
            click.echo(json.dumps({"id": a.id, "title": a.title, "date": a.date, "chunks": a.chunks, "url": a.url}))
        else:
            click.echo(f"{a.id}\t{a.date or '-'}\t{a.chunks}\t{a.title}")


@click.command("remove")
@click.argument("article_ids", nargs=-1, required=True)
@click.pass_context
@friendly_errors
def remove_cmd(ctx: click.Context, article_ids: tuple[str, ...]) -> None:
    """Remove articles by id (see `newsbot articles`)."""
    runtime = runtime_from(ctx, create_store=False)
    missing = [a for a in article_ids if a not in runtime.store.catalog()]
    removed = runtime.remove(list(article_ids))
    for article_id in missing:
        click.echo(f"not found: {article_id}", err=True)
    click.echo(f"removed {removed}")
    if missing:
        ctx.exit(1)


@click.command("stats")
@click.pass_context
@friendly_errors
def stats_cmd(ctx: click.Context) -> None:
    """Articles and chunks in the store, and where it lives."""
    runtime = runtime_from(ctx, create_store=False)
    settings = runtime.settings
    catalog = runtime.store.catalog()
    dates = sorted(a.date for a in catalog.values() if a.date)
    where = settings.chroma_url or str(settings.store_path)
    click.echo(f"store: {where} (collection {settings.collection})")
    click.echo(f"articles: {len(catalog)}")
    click.echo(f"chunks: {sum(a.chunks for a in catalog.values())}")
    if dates:
        click.echo(f"dates: {dates[0]} to {dates[-1]}")
