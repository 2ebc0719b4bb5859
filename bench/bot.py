"""Telegram bot benchmark: simulated subscribers ask the real bot through the Bot API emulator.

Starts the emulator (tests/telegram/emulator.js, as in the tests), ingests the coverage and runs
`newsbot serve` as its own process, exactly as deployed, pointed at the emulator. Then 50 users each ask 5
questions, waiting 5 s after each reply before asking the next (about 10 questions a second offered); users
start spread over the first think time, so the load is steady rather than one burst. Latency runs from
sending a question to receiving the bot's first message to that chat after it.

Prints the answered count, p50/p95 reply latency, throughput, and the bot's own time per answer (from its
answer log); writes everything to bench/out/bot.json.

At scale (`--chunks N`): the store is first built like a level of bench/query.py, from its benchmark corpus
(`--snapshot`, made once by `python -m bench.query --prepare`): whole real articles with their stored embeddings,
repeated under new ids when N exceeds the snapshot's distinct chunks (the JSON says how many). The coverage
is then ingested on top as usual, and the questions are the sample's plus `--level-questions` questions of
bench/query.py's question set whose gold articles the level holds.

Usage:
    .venv/bin/python -m bench.bot                            # 50 users x 5 questions over data/sample
    .venv/bin/python -m bench.bot --users 20 --questions 3   # a quicker run
    .venv/bin/python -m bench.bot --chroma-url http://127.0.0.1:8000   # server mode (a `chroma run`)
    .venv/bin/python -m bench.bot --chunks 50000 --snapshot var/bench-corpus          # 50k chunks, embedded
    .venv/bin/python -m bench.bot --chunks 50000 --snapshot var/bench-corpus --server # the same, server mode
    .venv/bin/python -m bench.bot --coverage data/sample \
        --coverage ../shared/corpora/realtimeqa_ukraine.corpus.jsonl \
        --data-dir var/bench-bot                             # a big store (ingested once, then reused)

Goal (issue 3): every question answered, p95 reply latency under 1 s, on 2 cores.
Needs node and tests/emulator/node_modules (scripts/bootstrap.sh --dev).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench import REPO
from bench.figures import percentile, wait_until_idle
from bench.levels import QUESTIONS as LEVEL_QUESTIONS
from bench.levels import SNAPSHOT, Snapshot, build_level, load_questions, select
from bot.telegram.emulator import Emulator, EmulatorClient, User
from vectorstore.server_process import start_chroma_server

OUT = REPO / "bench" / "out" / "bot.json"
TOKEN = "424242424:AAE-newsbot-bench"
P95_GOAL_S = 1.0
# A follow-up comes second on purpose: it exercises the per-chat memory.
QUESTIONS = [
    "What did Italy pledge?",
    "And what did Canada do?",
    "What did Zelensky and Meloni discuss?",
    "Which Italian companies joined the Defense Industries Alliance?",
    "What is the capital of Australia?",
    "How much does the Zbroiari campaign want to raise?",
    "What did Zelensky say about air defense?",
]


@dataclass
class Tally:
    latencies_s: list[float] = field(default_factory=list)
    unanswered: int = 0
    invalid: list[str] = field(default_factory=list)


def newsbot(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "newsbot"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "bot.cli", *args]


def build_level_store(
    snapshot: Path, chunks: int, data_dir: Path, collection: str, chroma_url: str | None
) -> dict[str, Any]:
    """A store of `chunks` chunks built from the benchmark corpus exactly as bench/query.py builds a level.

    Runs in a child process (see `prebuilt_store`), so that no Chroma client of the benchmark stays open on
    an embedded store that the bot's processes then write and read.
    """
    from bot.settings import Settings

    source = Snapshot(snapshot)
    if not source.articles:
        raise SystemExit(f"no benchmark corpus in {snapshot}: run python -m bench.query --prepare first")
    _, gold = load_questions(LEVEL_QUESTIONS, 0)
    level = select(source.articles, chunks, gold)
    settings = Settings(data_dir=data_dir, collection=collection, chroma_url=chroma_url, _env_file=None)
    build_s = build_level(settings, level)
    # Embedded, Chroma indexes the new vectors in this process after the writes return: let it finish.
    idle_s = 0.0 if chroma_url else wait_until_idle(os.getpid())
    return {
        "target_chunks": chunks,
        "articles": len(level.picks),
        "chunks": level.chunks,
        "copied_chunks": level.copies,
        "distinct_chunks_in_snapshot": source.chunks,
        "built_from": level.provenance(),
        "build_s": round(build_s, 1),
        "indexing_after_build_s": round(idle_s, 1),
    }


def prebuilt_store(
    snapshot: Path, chunks: int, data_dir: Path, collection: str, chroma_url: str | None, server_pid: int | None
) -> dict[str, Any]:
    """The level store in `data_dir` (or the server's `collection`), built unless an earlier run left it."""
    marker = data_dir / f"bench-level-{collection}.json"
    wanted = {"chunks": chunks, "collection": collection, "server": bool(chroma_url), "snapshot": str(snapshot)}
    if marker.exists():
        saved = json.loads(marker.read_text())
        if saved.get("wanted") == wanted:
            print(f"reusing the {chunks}-chunk store built earlier in {data_dir}", flush=True)
            return dict(saved["level"], reused=True)
    print(f"building a {chunks}-chunk store from {snapshot} …", flush=True)
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        level = pool.submit(build_level_store, snapshot, chunks, data_dir, collection, chroma_url).result()
    if server_pid is not None:  # the server indexes the new vectors in the background: let it finish
        level["indexing_after_build_s"] = round(wait_until_idle(server_pid), 1)
    marker.write_text(json.dumps({"wanted": wanted, "level": level}, indent=2) + "\n")
    print(f"built: {level['built_from']}", flush=True)
    return level


@contextlib.contextmanager
def chroma_for(args: argparse.Namespace, data_dir: Path) -> Iterator[tuple[str | None, int | None]]:
    """The server for server mode: `--chroma-url`, or with `--server` a `chroma run` of our own on 127.0.0.1
    (its pid lets the build wait for its background indexing). Embedded: (None, None)."""
    if not args.server:
        yield args.chroma_url, None
        return
    server = start_chroma_server(data_dir / "chroma-server")
    try:
        yield server.url, server.pid
    finally:
        server.stop()


def start_bot(
    emulator: Emulator,
    data_dir: Path,
    coverage: list[str],
    workers: int,
    log_path: Path,
    chroma_url: str | None = None,
    collection: str | None = None,
) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        NEWSBOT_DATA_DIR=str(data_dir),
        NEWSBOT_TELEGRAM_TOKEN=TOKEN,
        NEWSBOT_TELEGRAM_BASE_URL=emulator.url,
        NEWSBOT_ANSWER_WORKERS=str(workers),
        NEWSBOT_RATE_LIMIT_PER_MINUTE="10",
    )
    if collection:
        env.update(NEWSBOT_COLLECTION=collection)
    if chroma_url:  # server mode: a collection of its own, so a shared server's data is not touched
        env.update(NEWSBOT_CHROMA_URL=chroma_url, NEWSBOT_COLLECTION=collection or f"bench-bot-{os.getpid()}")
    print(f"ingesting {', '.join(coverage)} (incremental) …", flush=True)
    subprocess.run(newsbot("ingest", "--quiet", *coverage), env=env, cwd=data_dir, check=True)
    stats = subprocess.run(
        newsbot("stats"), env=env, cwd=data_dir, check=True, capture_output=True, text=True
    )
    store = {
        key: int(value)
        for line in stats.stdout.splitlines()
        for key, _, value in [line.partition(": ")]
        if key in ("articles", "chunks")
    }
    log = log_path.open("w")
    bot = subprocess.Popen(newsbot("serve"), env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT)
    return bot, store


async def wait_until_serving(client: EmulatorClient, bot: subprocess.Popen[bytes], timeout_s: float) -> float:
    started = time.perf_counter()
    probe = client.user(999_999, "Probe")
    await probe.command("/start")
    while True:
        if bot.poll() is not None:
            raise SystemExit(f"the bot exited with code {bot.returncode}; see its log")
        try:
            await probe.reply(timeout_s=5)
            return time.perf_counter() - started
        except AssertionError:
            if time.perf_counter() - started > timeout_s:
                raise SystemExit("the bot did not answer /start in time") from None


async def simulate(user: User, questions: list[str], think_s: float, delay_s: float, tally: Tally) -> None:
    await asyncio.sleep(delay_s)
    for question in questions:
        sent = time.perf_counter()
        await user.say(question)
        try:
            await user.replies(1, timeout_s=30)  # checked as Telegram would check them
        except AssertionError as exc:
            if "replies within" in str(exc):
                tally.unanswered += 1
                continue
            tally.invalid.append(str(exc)[:300])
            continue
        tally.latencies_s.append(time.perf_counter() - sent)
        await asyncio.sleep(think_s)


def answer_times(data_dir: Path, since: str) -> list[float]:
    """The bot's own time per answer (waiting for a worker, then the engine), from its answer log."""
    db = data_dir / "feedback.sqlite3"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return [
            r[0] / 1000 for r in conn.execute("SELECT latency_ms FROM answers WHERE asked_at >= ?", (since,))
        ]


def shown(source: str) -> str:
    """A coverage path as the JSON records it: relative to the repository when inside it (URLs as they are)."""
    if "://" in source:
        return source
    path = Path(source).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else source


def level_questions(limit: int) -> list[str]:
    """The first `limit` answerable questions of bench/query.py's question set: the level holds their gold
    articles first, whatever its size."""
    questions, _ = load_questions(LEVEL_QUESTIONS, limit)
    return questions


async def run(
    args: argparse.Namespace,
    emulator: Emulator,
    data_dir: Path,
    bot: subprocess.Popen[bytes],
    pool: list[str],
) -> dict[str, Any]:
    rng = random.Random(args.seed)
    async with EmulatorClient(emulator.url, TOKEN, timeout_s=60) as client:
        ready_s = await wait_until_serving(client, bot, timeout_s=900)
        print(
            f"bot serving after {ready_s:.1f} s; {args.users} users x {args.questions} questions …",
            flush=True,
        )
        since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        tally = Tally()
        users = [client.user(10_000 + i, f"User{i}") for i in range(args.users)]
        plans = []
        for _ in users:
            first = rng.randrange(len(pool))
            plan = [pool[(first + k) % len(pool)] for k in range(args.questions)]
            plans.append(plan)
        load_at_start = os.getloadavg()[0]  # other work on the machine shows up in every latency
        started = time.perf_counter()
        await asyncio.gather(
            *(
                simulate(u, plan, args.think, delay_s=args.think * i / max(1, args.users), tally=tally)
                for i, (u, plan) in enumerate(zip(users, plans, strict=True))
            )
        )
        wall_s = time.perf_counter() - started
    asked = args.users * args.questions
    in_bot = answer_times(data_dir, since)
    lat = tally.latencies_s
    return {
        "users": args.users,
        "questions_per_user": args.questions,
        "think_s": args.think,
        "answer_workers": args.workers,
        "coverage": [shown(c) for c in args.coverage],
        "question_pool": len(pool),
        "asked": asked,
        "answered": len(lat),
        "unanswered": tally.unanswered,
        "invalid_messages": tally.invalid,
        "wall_s": round(wall_s, 2),
        "offered_per_s": round(asked / wall_s, 2),
        "throughput_per_s": round(len(lat) / wall_s, 2),
        "latency_s": {
            "p50": round(percentile(lat, 0.50), 3),
            "p95": round(percentile(lat, 0.95), 3),
            "p99": round(percentile(lat, 0.99), 3),
            "max": round(max(lat), 3) if lat else None,
            "mean": round(statistics.fmean(lat), 3) if lat else None,
        },
        "answer_in_bot_s": {
            "p50": round(percentile(in_bot, 0.50), 3),
            "p95": round(percentile(in_bot, 0.95), 3),
        },
        "bot_ready_s": round(ready_s, 1),
        "goal": {
            "all_answered": len(lat) == asked,
            "p95_s": P95_GOAL_S,
            "met": len(lat) == asked and percentile(lat, 0.95) < P95_GOAL_S,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_avg_1m_at_start": round(load_at_start, 2),
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=5, help="questions per user")
    parser.add_argument("--think", type=float, default=5.0, help="seconds a user waits after a reply")
    parser.add_argument("--workers", type=int, default=4, help="NEWSBOT_ANSWER_WORKERS of the bot")
    parser.add_argument(
        "--coverage", action="append", help="what the bot knows (repeatable; default data/sample)"
    )
    parser.add_argument("--data-dir", type=Path, help="reuse this data dir (default: a fresh temp dir)")
    parser.add_argument("--chroma-url", help="server mode: store the coverage in this `chroma run` server")
    parser.add_argument(
        "--server", action="store_true", help="server mode on a `chroma run` of its own (127.0.0.1, in the data dir)"
    )
    parser.add_argument(
        "--chunks", type=int, help="first build a store of this many chunks from the benchmark corpus (see above)"
    )
    parser.add_argument(
        "--snapshot", type=Path, help="with --chunks: the benchmark corpus of bench/query.py (its default)"
    )
    parser.add_argument(
        "--level-questions", type=int, default=20, help="with --chunks: questions of the level's question set"
    )
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.server and args.chroma_url:
        parser.error("--server starts its own Chroma server; --chroma-url uses another: give one of them")
    args.coverage = args.coverage or [str(REPO / "data" / "sample")]
    # Stopped from outside: unwind, so the ingest or bot child and the emulator stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    with tempfile.TemporaryDirectory(prefix="newsbot-bench-bot-") as tmp:
        data_dir = (args.data_dir or Path(tmp) / "data").resolve()  # the bot runs with its data dir as cwd
        data_dir.mkdir(parents=True, exist_ok=True)
        stack = contextlib.ExitStack()
        bot = None
        try:
            chroma_url, server_pid = stack.enter_context(chroma_for(args, data_dir))
            collection = (f"bench-bot-{args.chunks}" if chroma_url else "newsbot") if args.chunks else None
            level = None
            pool = list(QUESTIONS)
            if args.chunks:
                level = prebuilt_store(
                    (args.snapshot or SNAPSHOT).resolve(),
                    args.chunks,
                    data_dir,
                    str(collection),
                    chroma_url,
                    server_pid,
                )
                pool += level_questions(args.level_questions)
            emulator = Emulator.start()
            stack.callback(emulator.stop)
            bot, store = start_bot(
                emulator, data_dir, args.coverage, args.workers, Path(tmp) / "bot.log", chroma_url, collection
            )
            result = asyncio.run(run(args, emulator, data_dir, bot, pool))
            result["store"] = store
            result["level"] = level
            result["mode"] = "server" if chroma_url else "embedded"
        finally:
            if bot is not None and bot.poll() is None:
                bot.send_signal(signal.SIGINT)
                try:
                    bot.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    bot.kill()
            stack.close()
        bot_log = (Path(tmp) / "bot.log").read_text(errors="replace")
    assert TOKEN.split(":")[1] not in bot_log, "the token reached the bot's log"

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    lat = result["latency_s"]
    if result["level"]:
        print(f"level: {result['level']['built_from']}")
    print(
        f"mode: {result['mode']}; store: {result['store'].get('articles')} articles, "
        f"{result['store'].get('chunks')} chunks\n"
        f"answered {result['answered']}/{result['asked']} "
        f"(unanswered {result['unanswered']}, invalid {len(result['invalid_messages'])})\n"
        f"reply latency p50 {lat['p50'] * 1000:.0f} ms, p95 {lat['p95'] * 1000:.0f} ms, "
        f"max {lat['max'] * 1000:.0f} ms\n"
        f"in the bot (worker queue + engine) p50 {result['answer_in_bot_s']['p50'] * 1000:.0f} ms, "
        f"p95 {result['answer_in_bot_s']['p95'] * 1000:.0f} ms\n"
        f"throughput {result['throughput_per_s']:.1f} answers/s "
        f"(offered {result['offered_per_s']:.1f} questions/s) "
        f"over {result['wall_s']:.0f} s\n"
        f"goal (all answered, p95 < {P95_GOAL_S:.0f} s): {'met' if result['goal']['met'] else 'NOT met'}\n"
        f"written to {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}"
    )


if __name__ == "__main__":
    main()
