"""Following a story at scale: 10k users following 3 topics each, a batch of 50 new articles.

    .venv/bin/python -m bench.follow ../shared/corpora/realtimeqa_2022gold.corpus.jsonl

1. A fresh store holds the 50 newest articles of the corpus, ingested before anyone follows (so the ingest is not
   timed with the matching). The topics are headlines of other articles of the corpus, as readers would follow
   them: a pool of 1,000 (plus the ten labelled topics of bench/follow_precision.py) whose popularity follows
   Zipf's law (the k-th most followed is drawn with weight 1/k; a story's popularity is not its date), and 2,000
   unique ones, each followed by one user. Every user follows three distinct topics: users 1 to 2,000 one unique
   topic and two from the pool, the others three from the pool.
2. Matching, timed as an ingest runs it (`queue_followers`: the topic matrix read, the new articles' chunk vectors
   read, the matching, the queueing) for the first 10, 25 and 50 articles of the batch, each time as a new batch,
   to show that the cost grows with the articles.
3. Sending through the Bot API emulator (tests/telegram/emulator.js) by real `newsbot serve` processes with the
   default pacing: the first is SIGKILLed once half the users with news have their message, a second is started
   and sends the rest. At the emulator: the messages, the most sendMessage calls in any one second (overall and
   per chat), and duplicates (a message sent twice, or an article told twice to one chat).

Writes bench/out/follow.json. Needs node and tests/emulator/node_modules (scripts/bootstrap.sh --dev).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from bench import REPO
from bot.follow.queueing import queue_followers
from bot.runtime import Runtime
from bot.settings import Settings
from bot.telegram.emulator import Emulator, EmulatorClient
from ingest import IngestReport

OUT = REPO / "bench" / "out" / "follow.json"
LABELS = REPO / "bench" / "data" / "follow_labels.jsonl"
TOKEN = "424242424:AAE-newsbot-follow-bench"
ZIPF_EXPONENT = 1.0
START_TIMEOUT_S = 600.0  # a `newsbot serve` loads the model before it sends: minutes on a loaded machine


def write_batch(corpus: Path, folder: Path, articles: int) -> tuple[Path, list[str], list[str]]:
    """The newest `articles` records as one JSONL file, their titles, and the other records' titles, shuffled."""
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows.sort(key=lambda r: r.get("date") or "", reverse=True)
    batch, rest = rows[:articles], rows[articles:]
    path = folder / "batch.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in batch), encoding="utf-8")
    others = sorted({r["title"] for r in rest if r.get("title")} - {r.get("title") for r in batch})
    random.Random(17).shuffle(others)
    return path, [r["title"] for r in batch if r.get("title")], others


def topic_mix(others: list[str], pool: int, unique: int, users: int, per_user: int) -> list[list[str]]:
    """Each user's topics: from a pool followed by Zipf's law, and one unique topic for each of the first users."""
    labelled = sorted({json.loads(line)["topic"] for line in LABELS.read_text(encoding="utf-8").splitlines()})
    popular = others[:pool] + labelled
    random.Random(3).shuffle(popular)  # the labelled topics anywhere in the popularity order
    singles = others[pool : pool + unique]
    weights = [1.0 / (k + 1) ** ZIPF_EXPONENT for k in range(len(popular))]
    rng = random.Random(5)
    out = []
    for user in range(users):
        chosen = [singles[user]] if user < len(singles) else []
        while len(chosen) < per_user:
            (text,) = rng.choices(popular, weights)
            if text not in chosen:
                chosen.append(text)
        out.append(chosen)
    return out


def follow_all(runtime: Runtime, topics: list[list[str]]) -> float:
    started = time.perf_counter()
    texts = sorted({t for user in topics for t in user})
    vectors = dict(zip(texts, runtime.embedder.encode(texts), strict=True))
    for user, chosen in enumerate(topics, start=1):
        for text in chosen:
            runtime.follows.follow(user, user, text, vectors[text], limit=len(chosen))
    return time.perf_counter() - started


class MatchingCounts(logging.Handler):
    """The matching's count of its own work, from its INFO line: topics, distinct texts, pairs close, read."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: tuple[Any, ...] = ()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts = tuple(record.args or ())


def time_matching(runtime: Runtime, report: IngestReport, n: int) -> dict[str, Any]:
    part = IngestReport(added=report.added[:n])
    counts = MatchingCounts()
    logger = logging.getLogger("bot.follow.matching")
    logger.setLevel(logging.INFO)
    logger.addHandler(counts)
    started = time.perf_counter()
    queued = queue_followers(
        part, runtime.store, runtime.follows, lambda: runtime.retriever.lexical.current().idf,
        runtime.settings.follow_threshold,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    logger.removeHandler(counts)
    _, _, distinct, close, read = counts.counts
    timing = {
        "articles": n, "seconds": round(seconds, 2), "per_article_s": round(seconds / n, 3), "queued": queued,
        "distinct_topics": distinct, "pairs_above_floor": close, "pairs_read_in_full": read,
    }  # fmt: skip
    print(f"matching: {timing}", file=sys.stderr, flush=True)
    return timing


def busiest_second(times: list[float]) -> int:
    """The most events in any window of one second."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def pace(times: list[float]) -> dict[str, float]:
    """Messages, from the first to the last, their mean rate, and the most in any one second."""
    span = max(times) - min(times) if times else 0.0
    return {
        "messages": len(times), "seconds": round(span, 1), "rate_per_s": round(len(times) / span, 1) if span else 0.0,
        "busiest_second": busiest_second(times),
    }  # fmt: skip


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    """A read of the bot's SQLite (read-only, while the senders write it)."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return db.execute(sql).fetchall()


def statuses(database: Path) -> Counter[str]:
    return Counter(dict(query(database, "SELECT status, COUNT(*) FROM notifications GROUP BY status")))


def users_told(database: Path) -> int:
    return int(query(database, "SELECT COUNT(DISTINCT user_id) FROM notifications WHERE status = 'sent'")[0][0])


def batches(database: Path, senders: dict[int, str]) -> dict[str, int]:
    """Each sender's message batches by outcome (none: claimed and never finished, as a killed sender leaves them)."""
    rows = query(database, "SELECT claimed_by, outcome, COUNT(*) FROM batches GROUP BY claimed_by, outcome")

    def sender(claimer: str) -> str:  # `bot.telegram.push.sender_id`: host:pid
        return senders.get(int(claimer.rsplit(":", 1)[-1]), claimer)

    return {f"{sender(by)} {outcome or 'unfinished'}": int(n) for by, outcome, n in rows}


def serve(data_dir: Path, emulator: Emulator, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        NEWSBOT_DATA_DIR=str(data_dir), NEWSBOT_TELEGRAM_TOKEN=TOKEN, NEWSBOT_TELEGRAM_BASE_URL=emulator.url,
        NEWSBOT_POLL_SOURCES="false",
    )  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=data_dir.parent, stdout=out, stderr=out
        )


def wait_for(done: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"newsbot serve stopped or stalled:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def send(data_dir: Path, emulator: Emulator, titles: list[str]) -> dict[str, Any]:
    """Send everything queued through two `newsbot serve` processes, the first killed halfway."""
    database = data_dir / "feedback.sqlite3"
    log = data_dir.parent / "serve.log"
    users = int(query(database, "SELECT COUNT(DISTINCT user_id) FROM notifications")[0][0])
    first = serve(data_dir, emulator, log)
    try:
        wait_for(lambda: users_told(database) >= users // 2, first, log, START_TIMEOUT_S)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    killed_at = time.time()
    at_kill = statuses(database)
    started = time.perf_counter()
    second = serve(data_dir, emulator, log)
    try:
        # What the killed sender had claimed stays "sending" for good (it may have arrived): never resent.
        def done() -> bool:
            now = statuses(database)
            return now["sending"] + now["pending"] == at_kill["sending"]

        wait_for(done, second, log, START_TIMEOUT_S + users)
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(timeout=120)
    restart_s = time.perf_counter() - started

    async def calls() -> list[dict[str, Any]]:
        async with EmulatorClient(emulator.url, TOKEN) as client:
            return [c for c in await client.calls() if c["method"] == "sendMessage" and c["token"] == TOKEN]

    sent = asyncio.run(calls())
    at = [c["at"] / 1000 for c in sent]
    per_chat: dict[str, list[float]] = {}
    told: Counter[tuple[str, str]] = Counter()
    for c in sent:
        chat = str(c["params"]["chat_id"])
        per_chat.setdefault(chat, []).append(c["at"] / 1000)
        text = html.unescape(str(c["params"]["text"]))
        told.update((chat, title) for title in titles if title in text)
    messages = Counter((str(c["params"]["chat_id"]), str(c["params"]["text"])) for c in sent)
    final = statuses(database)
    return {
        "users_with_news": users,
        "messages": len(sent),
        "first_sender": pace([t for t in at if t < killed_at]),
        "second_sender": pace([t for t in at if t >= killed_at]),
        "busiest_second": busiest_second(at),
        "busiest_chat_second": max(busiest_second(v) for v in per_chat.values()) if per_chat else 0,
        "duplicate_messages": sum(n - 1 for n in messages.values()),
        "articles_told_twice": sum(n - 1 for n in told.values()),
        "statuses_at_kill": dict(at_kill),
        "restart_to_done_s": round(restart_s, 1),
        "statuses": dict(final),
        "batches": batches(database, {first.pid: "first", second.pid: "second"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--topics-per-user", type=int, default=3)
    parser.add_argument("--pool", type=int, default=1_000, help="topics followed by Zipf's law")
    parser.add_argument("--unique", type=int, default=2_000, help="topics followed by one user each")
    parser.add_argument("--articles", type=int, default=50)
    args = parser.parse_args()
    emulator = Emulator.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            batch, titles, others = write_batch(args.corpus, Path(tmp), args.articles)
            data_dir = Path(tmp) / "data"
            runtime = Runtime(Settings(_env_file=None, data_dir=data_dir, poll_sources=False))
            report = runtime.ingest([str(batch)])
            print(f"ingested: {report.summary()}", file=sys.stderr)
            topics = topic_mix(others, args.pool, args.unique, args.users, args.topics_per_user)
            following_s = follow_all(runtime, topics)
            popularity = Counter(t for user in topics for t in user)
            sizes = sorted({n for n in (10, 25) if n < args.articles} | {args.articles})
            matching = [time_matching(runtime, report, n) for n in sizes]
            result = {
                "users": args.users,
                "topics": sum(popularity.values()),
                "distinct_topic_texts": len(popularity),
                "most_followed_topic_followers": popularity.most_common(1)[0][1],
                "articles": len(report.added),
                "setup_follow_s": round(following_s, 1),
                "threshold": runtime.settings.follow_threshold,
                "matching": matching,
                "sending": send(data_dir, emulator, titles),
            }
    finally:
        emulator.stop()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
