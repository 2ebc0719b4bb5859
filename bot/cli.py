"""The `newsbot` command line: ingest and manage coverage, ask questions, chat, evaluate, serve the bot."""

from __future__ import annotations

import errno
import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.errors import ConfigError
from bot.settings import Settings, load_settings
from vectorstore.errors import StoreError, StoreLockedError, describe_os_error

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"
# What /start offers on the sample coverage (NEWSBOT_EXAMPLE_QUESTIONS overrides).
SAMPLE_QUESTIONS = ("What did Italy pledge?", "What did Zelensky and Meloni discuss?", "What is Zbroiari?")


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs request lines, and the Bot API puts the token in the URL path.
    for noisy in ("httpx", "httpcore", "chromadb", "sentence_transformers", "urllib3", "trafilatura", "htmldate"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class ProblemsError(click.ClickException):
    """One `Error: ...` line per problem (a message may hold several, one per line), exit code 1."""

    def show(self, file: Any = None) -> None:
        for line in self.message.splitlines():
            click.echo(f"Error: {line}", err=True)


def friendly_errors(func: F) -> F:
    """User errors become one clean line each and exit code 1, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (StoreError, ConfigError) as exc:
            log.debug("%s", type(exc).__name__, exc_info=True)
            raise ProblemsError(str(exc)) from None
        except OSError as exc:  # the file system's own failures (a full disk, an unwritable --out, ...)
            if exc.errno == errno.EPIPE:  # `newsbot articles | head`: click exits quietly on a closed pipe
                raise
            log.debug("%s", type(exc).__name__, exc_info=True)
            ctx = click.get_current_context(silent=True)
            settings = (ctx.obj or {}).get("settings") if ctx is not None else None
            raise ProblemsError(describe_os_error(exc, settings.data_dir if settings else None)) from None

    return wrapper  # type: ignore[return-value]


def settings_from(ctx: click.Context) -> Settings:
    """The one settings object, read on first use so `COMMAND --help` works whatever the environment."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        obj["settings"] = obj["runtime"].settings if "runtime" in obj else load_settings()
    settings: Settings = obj["settings"]
    return settings


def runtime_from(ctx: click.Context, create_store: bool = True) -> Any:
    """The command's Runtime; read-only commands pass `create_store=False` and never leave an empty store."""
    from bot.runtime import Runtime

    obj = ctx.ensure_object(dict)
    if "runtime" not in obj:
        obj["runtime"] = Runtime(settings_from(ctx), create_store=create_store)
    return obj["runtime"]


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """newsbot: answers questions about a news outlet's coverage, every claim cited.

    Settings come from NEWSBOT_* environment variables and a .env file (see the README).
    """
    _configure_logging(verbose)
    ctx.ensure_object(dict)


@cli.command("ingest")
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


@cli.command("articles")
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


@cli.command("remove")
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


@cli.command("stats")
@click.pass_context
@friendly_errors
def stats_cmd(ctx: click.Context) -> None:
    """Articles and chunks in the store, and where it lives."""
    runtime = runtime_from(ctx, create_store=False)
    settings: Settings = runtime.settings
    catalog = runtime.store.catalog()
    dates = sorted(a.date for a in catalog.values() if a.date)
    where = settings.chroma_url or str(settings.store_path)
    click.echo(f"store: {where} (collection {settings.collection})")
    click.echo(f"articles: {len(catalog)}")
    click.echo(f"chunks: {sum(a.chunks for a in catalog.values())}")
    if dates:
        click.echo(f"dates: {dates[0]} to {dates[-1]}")


# ---- sources newsbot follows (ingest/registry.py) and their poller (bot/polling.py) ----------------------------


def _when(ts: float | None) -> str:
    if not ts:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _registered_sources(settings: Settings) -> list[Any]:
    """What the registry holds, read without creating a store or a collection."""
    from ingest import SourceRegistry
    from vectorstore.client import connect

    config = settings.chroma_config()
    if config.embedded and not settings.store_path.exists():
        return []
    registry = SourceRegistry.open_existing(connect(config), settings.collection)
    return registry.all() if registry is not None else []


@cli.group("sources", invoke_without_command=True)
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
    for s in registered:
        next_check = _when(s.next_due) if s.next_due else "at the next poll"
        row = [s.id, s.location, format_every(s.every_s), _when(s.last_check), _when(s.last_success),
               s.last_error or "-", f"{s.added}/{s.updated}", next_check]  # fmt: skip
        click.echo("\t".join(row))
    for s in pending:
        pending_note = "from NEWSBOT_SOURCES, at the next poll"
        row = [s.id, s.location, format_every(s.every_s), "-", "-", "-", "0/0", pending_note]
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


@cli.command("watch")
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
    settings: Settings = runtime.settings
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


def format_answer(answer: Any) -> str:
    """Plain text for the terminal: the answer with [n] markers, then the numbered sources."""
    if answer.declined:
        return answer.text
    text = f"{answer.as_of_note}: {answer.text}" if answer.as_of_note else answer.text
    lines = [text, *([answer.language_note] if answer.language_note else []), "", "Sources:"]
    for c in answer.citations:
        details = ", ".join(x for x in (c.source, c.date) if x)
        lines.append(f"[{c.number}] {c.title}" + (f" ({details})" if details else "") + (f" {c.url}" if c.url else ""))
    return "\n".join(lines)


def question_problem(question: str) -> str | None:
    """Why a question cannot be asked (empty, or longer than the bot accepts), or None."""
    from bot.answer.engine import MAX_QUESTION_CHARS

    if not question.strip():
        return "the question is empty"
    if len(question.strip()) > MAX_QUESTION_CHARS:
        return f"the question is too long: {len(question.strip())} characters, at most {MAX_QUESTION_CHARS}"
    return None


class DayParam(click.ParamType):
    """A calendar day as YYYY-MM-DD (2026-1-5 is read as 2026-01-05), passed on normalised; anything else,
    or a day that does not exist (2024-02-30), is a usage error."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from vectorstore.recency import parse_date

        text = str(value).strip()
        day = parse_date(text) if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text) else None
        if day is None:
            self.fail(f"{value!r} is not a date: expected YYYY-MM-DD, e.g. 2026-01-05", param, ctx)
        return day.isoformat()


DAY = DayParam()


def _filters(source: str | None, since: str | None, until: str | None) -> Any:
    from vectorstore.store import Filters

    return Filters(source=source, date_from=since, date_to=until)


@cli.command("ask")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the structured answer (text, citations, spans).")
@click.option("--source", help="Only articles from this outlet.")
@click.option("--since", type=DAY, help="Only articles on or after this date (YYYY-MM-DD).")
@click.option("--until", type=DAY, help="As the coverage stood on this date (YYYY-MM-DD), recent articles preferred.")
@click.pass_context
@friendly_errors
def ask_cmd(
    ctx: click.Context, question: str, as_json: bool, source: str | None, since: str | None, until: str | None
) -> None:
    """Answer one question from the stored coverage, with sources.

    \b
    Example:
      newsbot ask "What did Italy pledge?"
      newsbot ask --json --since 2024-01-01 "What did Italy pledge?"
    """
    problem = question_problem(question)
    if problem:
        raise click.ClickException(problem)
    filters = _filters(source, since, until)
    answer = runtime_from(ctx, create_store=False).engine.answer(question.strip(), filters=filters)
    click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) if as_json else format_answer(answer))


@cli.command("chat")
@click.pass_context
@friendly_errors
def chat_cmd(ctx: click.Context) -> None:
    """Talk to newsbot in the terminal; follow-up questions are understood in context. Ctrl-D quits."""
    runtime = runtime_from(ctx, create_store=False)
    catalog = runtime.store.catalog()
    click.echo(f"newsbot: {len(catalog)} articles loaded. Ask about the coverage; Ctrl-D or 'quit' to leave.")
    runtime.retriever.refresh()
    history: list[str] = []
    while True:
        try:
            question = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if question.lower() in {"quit", "exit", ":q"}:
            return
        if not question:
            continue
        problem = question_problem(question)
        if problem:
            click.echo(problem + "\n")
            continue
        answer = runtime.engine.answer(question, history=history[-3:])
        history.append(question)
        click.echo(format_answer(answer) + "\n")


@cli.command("eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--corpus", multiple=True, help="Ingest this first (incremental; skipped when unchanged).")
@click.option("--answer-in-gold", is_flag=True, help="Keep answerable questions whose answer is in the gold article.")
@click.option("--limit", type=int, help="Only the first N questions.")
@click.option(
    "--baseline",
    "baselines",
    multiple=True,
    type=click.Choice(["bm25", "dense", "none"]),
    default=("bm25", "dense"),
    show_default=True,
    help="Baselines to run beside newsbot (dense embeds the corpus again, once, in its own collection).",
)
@click.option(
    "--as-of-question-date",
    is_flag=True,
    help="Ask each question on its `date`: every system sees only the coverage published by then.",
)
@click.option(
    "--languages",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Also ask the set in other languages: a folder of translations by question id and declines per language "
    "(data/eval/multilingual); prints newsbot's figures per language.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the figures as JSON here.")
@click.pass_context
@friendly_errors
def eval_cmd(
    ctx: click.Context,
    questions: Path,
    corpus: tuple[str, ...],
    answer_in_gold: bool,
    limit: int | None,
    baselines: tuple[str, ...],
    as_of_question_date: bool,
    languages: Path | None,
    out: Path | None,
) -> None:
    """Measure newsbot on a question set (JSON Lines: question, answers, doc_id) against the store.

    \b
    Examples:
      newsbot eval ../shared/eval/seed_dev_qa.jsonl --corpus data/sample
      NEWSBOT_MULTILINGUAL=true newsbot eval ../shared/eval/seed_dev_qa.jsonl --languages data/eval/multilingual
    Prints doc hit@1/@5, MRR, answer hit, citation precision and correct declines for newsbot and the
    baselines (BM25 alone; LangChain's 1000/200 dense top-4 recipe, built once in its own collection).
    """
    from bot import evaluation as ev

    runtime = runtime_from(ctx, create_store=bool(corpus))  # without a corpus it only reads
    if corpus:
        report = runtime.ingest(list(corpus))
        click.echo(f"corpus: {report.summary()}", err=True)
    runtime.retriever.refresh()
    items = ev.load_questions(questions, answer_in_gold=answer_in_gold, limit=limit)
    dated = as_of_question_date
    tally, rows = ev.evaluate_newsbot(runtime.engine, runtime.store, items, as_of_date=dated)
    results = [tally.as_dict()]
    if "bm25" in baselines:
        bm25 = ev.bm25_baseline(runtime.retriever.lexical)
        results.append(ev.evaluate_passages("bm25", bm25, items, as_of_date=dated).as_dict())
    if "dense" in baselines:
        dense = ev.LangChainDenseBaseline(
            runtime.client, f"{runtime.settings.collection}-baseline-lc1000", runtime.embedder
        )
        with runtime.writing():  # it writes its own collection: one writer per embedded store
            dense.build(runtime.store, progress=lambda m: click.echo(m, err=True))
        results.append(ev.evaluate_passages("langchain-dense", dense.search, items, as_of_date=dated).as_dict())
    click.echo(f"{questions.name}: {len(items)} questions")
    click.echo(ev.format_table(results))
    if languages:
        results = [{**r, "language": "all"} for r in results] + _eval_languages(runtime, items, languages, dated)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"questions": str(questions), "results": results, "rows": rows}, indent=2))


def _eval_languages(runtime: Any, items: list[Any], folder: Path, dated: bool) -> list[dict[str, Any]]:
    """newsbot's figures on the set's questions in each language of `folder` (eval --languages)."""
    from bot import eval_languages as el
    from bot import evaluation as ev

    rows = []
    for language in el.languages(folder):
        asked = el.in_language(items, folder, language)
        tally, _ = ev.evaluate_newsbot(runtime.engine, runtime.store, asked, as_of_date=dated)
        rows.append({**tally.as_dict(), "language": language})
    click.echo(el.format_languages(rows))
    return rows


# ---- the Telegram bot (bot/telegram) --------------------------------------------------------------------


@cli.command("serve")
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


@cli.command("start")
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
    chat = cli.get_command(ctx, "chat")
    if chat is None:
        raise click.ClickException("no `chat` command in this build")
    ctx.invoke(chat)


def _telegram_token(settings: Settings) -> str | None:
    try:
        return settings.telegram_token_value()
    except OSError as exc:
        raise click.ClickException(f"cannot read NEWSBOT_TELEGRAM_TOKEN_FILE ({exc.strerror})") from None


def main() -> None:
    cli(prog_name="newsbot")


if __name__ == "__main__":
    main()
