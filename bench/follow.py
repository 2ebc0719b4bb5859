"""Following a story at scale: 10k users following 3 topics each, a batch of 50 new articles.

    .venv/bin/python -m bench.follow ../shared/corpora/realtimeqa_2022gold.corpus.jsonl

1. Ingests the 50 newest articles of the corpus into a fresh store (without followers, so the ingest is not
   timed with the matching), and 30,000 topics for 10,000 users: headlines of 1,000 other articles of the corpus,
   as readers would follow them, three per user at random, plus the benchmark's own ten labelled topics.
2. Matching: `queue_followers` for the batch, timed (the topic matrix read, the chunk vectors read, the product,
   the engine's reading of the pairs above the floor, the queueing), and the same for 10 and 25 articles, to see
   that its cost grows with the articles.
3. Sending through the Bot API emulator (tests/telegram/emulator.js) with the production sender (`Pusher`, PTB's
   AIORateLimiter behind it) for the first `--send-users` users with news (the others are paused): the rate at
   the emulator (the most sendMessage calls in any one second, and per chat), then a sender cancelled mid-batch
   and a new one started (a restart), counting the messages each chat got: duplicates must be 0.

Writes bench/out/follow.json. Needs node and tests/emulator/node_modules (scripts/bootstrap.sh --dev).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import REPO
from bot.follow.queueing import queue_followers
from bot.follow.store import FollowStore
from bot.runtime import Runtime
from bot.settings import Settings
from bot.telegram.emulator import Emulator, EmulatorClient
from bot.telegram.push import Pusher
from ingest import IngestReport

OUT = REPO / "bench" / "out" / "follow.json"
LABELS = REPO / "bench" / "data" / "follow_labels.jsonl"
TOKEN = "424242424:AAE-newsbot-follow-bench"


def write_batch(corpus: Path, folder: Path, articles: int, topics_pool: int) -> tuple[Path, list[str]]:
    """The newest `articles` records as one JSONL file, and headlines of `topics_pool` other articles."""
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows.sort(key=lambda r: r.get("date") or "", reverse=True)
    batch, rest = rows[:articles], rows[articles:]
    path = folder / "batch.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in batch), encoding="utf-8")
    rng = random.Random(17)
    titles = [r["title"] for r in rng.sample(rest, topics_pool) if r.get("title")]
    titles += sorted({json.loads(line)["topic"] for line in LABELS.read_text(encoding="utf-8").splitlines()})
    return path, titles


def follow_all(runtime: Runtime, titles: list[str], users: int, per_user: int) -> float:
    started = time.perf_counter()
    vectors = dict(zip(titles, runtime.embedder.encode([t for t in titles]), strict=True))
    rng = random.Random(5)
    for user in range(1, users + 1):
        for text in rng.sample(titles, per_user):
            runtime.follows.follow(user, user, text, vectors[text], limit=per_user)
    return time.perf_counter() - started


def time_matching(runtime: Runtime, report: IngestReport, n: int) -> dict[str, Any]:
    part = IngestReport(added=report.added[:n])
    started = time.perf_counter()
    queued = queue_followers(
        part, runtime.store, runtime.follows, lambda: runtime.retriever.lexical.current().idf,
        runtime.settings.follow_threshold,
    )  # fmt: skip
    timing = {"articles": n, "seconds": round(time.perf_counter() - started, 3), "queued": queued}
    print(f"matching: {timing}", file=sys.stderr, flush=True)
    return timing


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def send(settings: Settings, runtime: Runtime, emulator: Emulator, send_users: int) -> dict[str, Any]:
    from bot.telegram.app import build_application

    follows = runtime.follows
    ready = [p.user_id for p in follows.pending_users(time.time())]
    chosen = set(ready[:send_users])
    for user in ready:
        if user not in chosen:
            follows.pause_user(user)
    app = build_application(settings, runtime)
    await app.initialize()
    languages = app.bot_data.services.languages
    try:
        first = Pusher(app.bot, follows, settings, languages, claimer="bench-first")
        # A restart mid-batch: the first sender is stopped once about half is out, as a kill would stop it.
        task = asyncio.create_task(first.run_once())
        async with EmulatorClient(emulator.url, TOKEN) as client:
            while len([c for c in await client.calls() if c["method"] == "sendMessage"]) < len(chosen) // 2:
                await asyncio.sleep(0.05)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            second = Pusher(app.bot, follows, settings, languages, claimer="bench-second")
            started = time.perf_counter()
            rounds = 0
            while follows.pending_users(time.time()):
                await second.run_once()
                rounds += 1
            calls = [c for c in await client.calls() if c["method"] == "sendMessage" and c["token"] == TOKEN]
    finally:
        await app.shutdown()
    at = [c["at"] / 1000 for c in calls]
    per_chat: dict[str, list[float]] = {}
    for c in calls:
        per_chat.setdefault(str(c["params"]["chat_id"]), []).append(c["at"] / 1000)
    received = Counter(str(c["params"]["chat_id"]) for c in calls)
    statuses = Counter(s for u in chosen for _, s in follows.sent_items(u))
    return {
        "users_sent_to": len(chosen),
        "messages": len(calls),
        "seconds": round(max(at) - min(at), 2) if at else 0.0,
        "rate_per_s": round(len(calls) / (max(at) - min(at)), 1) if len(at) > 1 else 0.0,
        "busiest_second": busiest_second(at),
        "busiest_chat_second": max(busiest_second(v) for v in per_chat.values()) if per_chat else 0,
        "duplicates": sum(n - 1 for n in received.values() if n > 1),
        "unsent_after_restart": statuses["sending"],
        "second_sender_rounds": rounds,
        "second_sender_seconds": round(time.perf_counter() - started, 2),
        "statuses": dict(statuses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--topics-per-user", type=int, default=3)
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--send-users", type=int, default=600)
    args = parser.parse_args()
    emulator = Emulator.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            batch, titles = write_batch(args.corpus, Path(tmp), args.articles, 1_000)
            settings = Settings(
                _env_file=None, data_dir=Path(tmp) / "data", telegram_token=TOKEN,
                telegram_base_url=emulator.url, poll_sources=False,
            )  # fmt: skip
            runtime = Runtime(settings)
            report = runtime.ingest([str(batch)])
            print(f"ingested: {report.summary()}", file=sys.stderr)
            following_s = follow_all(runtime, titles, args.users, args.topics_per_user)
            follows: FollowStore = runtime.follows
            topics = follows.stats().topics
            started = time.perf_counter()
            matrix = follows.topic_matrix()
            matrix_s = time.perf_counter() - started
            matching = [time_matching(runtime, report, n) for n in (10, 25, args.articles)]  # each queues anew
            result = {
                "users": args.users,
                "topics": topics,
                "distinct_topic_texts": len(set(matrix.texts)),
                "articles": len(report.added),
                "setup_follow_s": round(following_s, 1),
                "topic_matrix_read_s": round(matrix_s, 3),
                "matching": matching,
                "pending_users": len(follows.pending_users(time.time())),
                "threshold": settings.follow_threshold,
                "sending": asyncio.run(send(settings, runtime, emulator, args.send_users)),
            }
    finally:
        emulator.stop()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
