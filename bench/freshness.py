"""Freshness benchmark (issue 14): from an article appearing in a followed feed to every running bot answering
from it, on a big store.

A feed on 127.0.0.1 (bench/feedsite.py) is followed with `newsbot sources add FEED --every 1m`; the bots run as
deployed (`newsbot serve`, own processes, talking to the Bot API emulator), each with a token of its own:
- embedded: one `newsbot serve` that polls, plus one answer-only `newsbot serve` (NEWSBOT_POLL_SOURCES=false)
  on the same data dir: the reader docs/scaling.md allows next to the one writer;
- server: a `chroma run --path STORE/chroma` on the store's files, two answer-only `newsbot serve` and one
  `newsbot watch` that polls.
Once every bot answers, articles are published one by one, `--spacing` seconds apart (uniform jitter of a
third), so they land at every phase of the poll interval. Each article names a made-up town found nowhere
else; every bot is asked "What did the council of <town> approve?" every `--probe-every` seconds (a new chat
per article and bot) until its reply cites the article's page. Freshness of an article in a bot: from its
publication to the arrival of that reply. Goal: p95 under the interval + 30 s in every bot.

At the end the memory of each process is read from /proc (VmRSS now, VmHWM peak) after all those answers:
the memory of one whole bot process at the store's size.

Usage (the store as bench/query.py --store built it; modes run one after the other, never both at once):
    .venv/bin/python -m bench.freshness --store var/bench-1m --mode embedded --out bench/out/freshness-embedded.json
    .venv/bin/python -m bench.freshness --store var/bench-1m --mode server --out bench/out/freshness-server.json

The articles it publishes stay in the store (a few dozen chunks; each run's towns are new).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.feedsite import FeedSite, SiteArticle
from bench.figures import command_line, load_avg, machine, peak_rss_mb, percentile, rss_mb
from bench.levels import shown
from bot.telegram.emulator import Emulator, EmulatorClient
from ingest import parse_every
from vectorstore.server_process import ChromaServer, start_chroma_server

TOKENS = ["424242001:AAE-newsbot-fresh-a", "424242002:AAE-newsbot-fresh-b"]
SLACK_S = 30.0  # the goal: p95 under the poll interval plus this
SYLLABLES = "bra cor dun el fen gar hol isk jor kel lun mor nis ost pel quar rin sto tav ulm vor wex yar zel".split()


@dataclass
class Probe:
    article: SiteArticle
    question: str
    published: float  # time.time()
    answered_s: dict[str, float] = field(default_factory=dict)  # bot -> seconds from publication


def town(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize() + rng.choice(["ton", "by", "mere", "wick"])


def article_about(place: str, n: int, published: datetime) -> SiteArticle:
    millions = 10 + n * 7
    body = (
        f"The council of {place} approved a {millions} million euro plan to rebuild the old river bridge, "
        f"the mayor of {place} said on Tuesday.\n\n"
        f"Work on the bridge in {place} is due to start in the spring and to last two years, the council said, "
        "and the crossing will stay open to pedestrians while it is rebuilt."
    )
    title = f"{place} council approves {millions} million euro bridge plan"
    return SiteArticle(f"fresh-{place.lower()}", title, body, published)


# ---- the processes ----------------------------------------------------------------------------------------


def newsbot(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("newsbot")), *args]


def bot_process() -> list[str]:
    """`newsbot serve` with debug logging: each answer's evidence (chunk ids) is logged, so an article a bot
    missed can be told apart as not retrieved or retrieved and declined."""
    return newsbot("-v", "serve")


def base_env(store: Path, chroma_url: str | None, emulator: Emulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        NEWSBOT_DATA_DIR=str(store.resolve()),
        NEWSBOT_COLLECTION="newsbot",
        NEWSBOT_FETCH_ALLOW="127.0.0.1",
        NEWSBOT_RATE_LIMIT_PER_MINUTE="10000",  # the probes ask often; the limit is not what is measured
        NEWSBOT_TELEGRAM_BASE_URL=emulator.url,
        TOKENIZERS_PARALLELISM="false",
    )
    if chroma_url:
        env["NEWSBOT_CHROMA_URL"] = chroma_url
    return env


@contextlib.contextmanager
def processes(commands: dict[str, tuple[list[str], dict[str, str]]], log_dir: Path) -> Iterator[dict[str, int]]:
    """Start named processes (logs in `log_dir`), yield their pids, stop them all (SIGINT, then SIGKILL)."""
    started: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, (cmd, env) in commands.items():
            log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
            started[name] = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=log_dir)
            log.close()
        yield {name: p.pid for name, p in started.items()}
    finally:
        for p in started.values():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in started.values():
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# ---- asking -----------------------------------------------------------------------------------------------


async def answers_with(client: EmulatorClient, chat: int, question: str, cited: str, timeout_s: float) -> bool:
    """Ask in a chat of its own; whether the bot's reply cites `cited` (a page URL)."""
    user = client.user(chat, "Probe")
    await user.say(question)
    try:
        replies = await user.replies(1, timeout_s=timeout_s)
    except AssertionError:
        return False
    return any(cited in r.text or cited in json.dumps(r.raw) for r in replies)


async def wait_ready(clients: dict[str, EmulatorClient], pids: dict[str, int], timeout_s: float) -> dict[str, float]:
    """Until every bot answers a question (the first one loads the store's indexes); seconds per bot."""
    started = time.monotonic()
    ready: dict[str, float] = {}
    chat = 900_000
    for name, client in clients.items():
        while name not in ready:
            chat += 1
            user = client.user(chat, "Warm")
            await user.say("What did the council approve?")
            try:
                await user.replies(1, timeout_s=60)
                ready[name] = round(time.monotonic() - started, 1)
            except AssertionError:
                if time.monotonic() - started > timeout_s:
                    raise SystemExit(f"{name} did not answer within {timeout_s:.0f} s; see its log") from None
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pids[name], 0)
    return ready


async def measure(
    args: argparse.Namespace, site: FeedSite, clients: dict[str, EmulatorClient], rng: random.Random
) -> list[Probe]:
    probes: list[Probe] = []
    deadline_s = args.interval_s + args.timeout_extra_s
    done = asyncio.Event()

    async def prober(name: str, client: EmulatorClient, first_chat: int) -> None:
        chat = first_chat
        while not (done.is_set() and all(name in p.answered_s or _expired(p, deadline_s) for p in probes)):
            for p in list(probes):
                if name in p.answered_s or _expired(p, deadline_s):
                    continue
                chat += 1
                cited = await answers_with(client, chat, p.question, site.page_url(p.article.id), timeout_s=60)
                if cited:
                    p.answered_s[name] = round(time.time() - p.published, 1)
            await asyncio.sleep(args.probe_every)

    tasks = [asyncio.create_task(prober(n, c, 1_000_000 * (i + 1))) for i, (n, c) in enumerate(clients.items())]
    for n in range(args.articles):
        place = town(rng)
        article = article_about(place, n, datetime.now(UTC))
        site.publish("news", article)
        probes.append(Probe(article, f"What did the council of {place} approve?", time.time()))
        print(f"published {article.id}", flush=True)
        if n < args.articles - 1:
            await asyncio.sleep(args.spacing * rng.uniform(2 / 3, 4 / 3))
    done.set()
    await asyncio.gather(*tasks)
    return probes


def _expired(p: Probe, deadline_s: float) -> bool:
    return time.time() - p.published > deadline_s


# ---- main -------------------------------------------------------------------------------------------------


def commands_for(args: argparse.Namespace, env: dict[str, str]) -> dict[str, tuple[list[str], dict[str, str]]]:
    bot_a = dict(env, NEWSBOT_TELEGRAM_TOKEN=TOKENS[0])
    bot_b = dict(env, NEWSBOT_TELEGRAM_TOKEN=TOKENS[1], NEWSBOT_POLL_SOURCES="false")
    if args.mode == "embedded":
        return {"bot-polling": (bot_process(), bot_a), "bot-reader": (bot_process(), bot_b)}
    bot_a["NEWSBOT_POLL_SOURCES"] = "false"
    return {
        "bot-a": (bot_process(), bot_a),
        "bot-b": (bot_process(), bot_b),
        "watch": (newsbot("watch"), env),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed if args.seed is not None else time.time_ns())
    log_dir = (args.store / f"freshness-{args.mode}").resolve()
    log_dir.mkdir(parents=True, exist_ok=True)
    stack = contextlib.ExitStack()
    with stack:
        site = FeedSite.start()
        stack.callback(site.stop)
        emulator = Emulator.start()
        stack.callback(emulator.stop)
        server: ChromaServer | None = None
        if args.mode == "server":
            server = start_chroma_server(args.store.resolve() / "chroma", timeout_s=1800)
            stack.callback(server.stop)
        env = base_env(args.store, server.url if server else None, emulator)
        # One older article, so the feed is not empty when it is first followed.
        site.publish("news", article_about(town(rng), 99, datetime.now(UTC)))
        added = subprocess.run(
            newsbot("sources", "add", site.feed_url("news"), "--every", args.every),
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        source_id = added.stdout.split()[1].rstrip(":")  # "added ID: URL (every 1m)"
        stack.callback(subprocess.run, newsbot("sources", "remove", source_id), env=env, capture_output=True)
        load_at_start = load_avg()
        started = time.monotonic()
        with processes(commands_for(args, env), log_dir) as pids:
            result = asyncio.run(_session(args, site, emulator, pids, rng))
            result["memory_mb"] = {name: {"rss": rss_mb(pid), "peak": peak_rss_mb(pid)} for name, pid in pids.items()}
            if server:
                result["memory_mb"]["chroma-server"] = {"rss": rss_mb(server.pid), "peak": peak_rss_mb(server.pid)}
        result.update(
            command=command_line(),
            machine=machine(),
            mode=args.mode,
            store=shown(args.store),
            interval=args.every,
            wall_s=round(time.monotonic() - started, 1),
            load_avg_1m={"start": load_at_start, "end": load_avg()},
            site_requests=_count(site),
        )
        result["store_chunks"] = _chunks(args.store)
        result["lexical_updates"] = lexical_updates(log_dir, pids)
    return result


_UPDATE = re.compile(r"lexical index updated: (\d+) added, (\d+) replaced, (\d+) removed articles .* in ([\d.]+) s")


def lexical_updates(log_dir: Path, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The cost of a change in each running process: its lexical index updates, read from its log (articles
    applied and seconds each; issue 14's goal is under 2 s for a 10-article update at 1M chunks)."""
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        path = log_dir / f"{name}.log"
        found = _UPDATE.findall(path.read_text(errors="replace")) if path.exists() else []
        if not found:
            continue
        seconds = [float(f[3]) for f in found]
        out[name] = {
            "updates": len(found),
            "articles_max": max(int(a) + int(r) + int(d) for a, r, d, _ in found),
            "p50_s": round(percentile(seconds, 0.5), 3),
            "max_s": max(seconds),
        }
    return out


async def _session(
    args: argparse.Namespace, site: FeedSite, emulator: Emulator, pids: dict[str, int], rng: random.Random
) -> dict[str, Any]:
    bots = [name for name in pids if name.startswith("bot")]
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(EmulatorClient(emulator.url, TOKENS[i], timeout_s=120))
            for i, name in enumerate(bots)
        }
        ready = await wait_ready(clients, pids, timeout_s=args.ready_timeout_s)
        print(f"bots ready: {ready}", flush=True)
        probes = await measure(args, site, clients, rng)
    goal_s = args.interval_s + SLACK_S
    per_bot: dict[str, Any] = {}
    for name in bots:
        got = [p.answered_s[name] for p in probes if name in p.answered_s]
        per_bot[name] = {
            "answered": f"{len(got)}/{len(probes)}",
            "p50_s": round(percentile(got, 0.5), 1),
            "p95_s": round(percentile(got, 0.95), 1),
            "max_s": max(got, default=None),
        }
    every_bot = [max(p.answered_s.values()) for p in probes if len(p.answered_s) == len(bots)]
    return {
        "articles": len(probes),
        "ready_s": ready,
        "per_bot": per_bot,
        "all_bots": {
            "answered": f"{len(every_bot)}/{len(probes)}",
            "p50_s": round(percentile(every_bot, 0.5), 1),
            "p95_s": round(percentile(every_bot, 0.95), 1),
            "max_s": max(every_bot, default=None),
        },
        "goal_s": goal_s,
        "goal_met": len(every_bot) == len(probes) and percentile(every_bot, 0.95) < goal_s,
        "probe_every_s": args.probe_every,
        "spacing_s": args.spacing,
        "seconds_by_article": [
            {"article": p.article.id, "published": _utc(p.published), **p.answered_s} for p in probes
        ],
        "feed_reads": [_utc(r.at) for r in site.requests() if r.kind == "feed"],  # when the poller read the feed
    }


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def _count(site: FeedSite) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in site.requests():
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return counts


def _chunks(store: Path) -> int | None:
    marker = store / "bench-level.json"
    return json.loads(marker.read_text())["built"].get("chunks") if marker.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True, help="a data dir built by bench/query.py --store")
    parser.add_argument("--mode", choices=["embedded", "server"], required=True)
    parser.add_argument("--articles", type=int, default=12)
    parser.add_argument("--every", default="1m", help="the feed's poll interval (newsbot sources add --every)")
    parser.add_argument("--spacing", type=float, default=20.0, help="mean seconds between two articles")
    parser.add_argument("--probe-every", type=float, default=2.0, help="seconds between a bot's rounds of questions")
    parser.add_argument(
        "--timeout-extra-s", type=float, default=120.0, help="give up on an article after the interval + this"
    )
    parser.add_argument("--ready-timeout-s", type=float, default=1800.0)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.interval_s = float(parse_every(args.every))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: the processes and servers stop too
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    shown_keys = ("mode", "per_bot", "all_bots", "goal_met", "memory_mb", "lexical_updates")
    print(json.dumps({k: result[k] for k in shown_keys}, indent=2))


if __name__ == "__main__":
    main()
