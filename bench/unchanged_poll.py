"""Unchanged-poll benchmark (issue 14): 20 followed feeds of 50 entries each, polled again while nothing changed,
must fetch no article page and embed nothing.

A site on 127.0.0.1 (bench/feedsite.py) serves 20 RSS feeds of 50 dated entries, each entry a page of its own.
The feeds are followed (`--every 1m`) in a fresh store, and `newsbot watch --once` polls them: the first poll
reads every feed and page and embeds the 1,000 articles. Once they are due again, a second `newsbot watch
--once` polls them unchanged; the site counts the requests it receives during each poll by kind (feed, page,
robots.txt), and each poll's `python -X importtime` list shows whether sentence-transformers, which newsbot
imports only to embed, was imported at all (the first poll is the check that it shows). Run twice: with a site
answering conditional requests (304 Not Modified), and with one that ignores them and sends every feed whole
(then newsbot must recognise each entry as stored).

Usage:
    .venv/bin/python -m bench.unchanged_poll --out bench/out/unchanged-poll.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.feedsite import FeedSite, SiteArticle
from bench.figures import command_line, load_avg, machine
from bot.runtime import Runtime
from bot.settings import Settings
from ingest import new_source

FEEDS = 20
ENTRIES = 50
MODEL_LOADED = "| sentence_transformers"  # in -X importtime's list: the library that embeds was imported


def publish(site: FeedSite) -> None:
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    for f in range(FEEDS):
        for e in range(ENTRIES):
            n = f * ENTRIES + e
            body = (
                f"Desk {f} reports item {e}: the regional assembly number {n} voted on the harbour budget, "
                f"which sets aside {n + 3} million euros for dredging.\n\n"
                f"The vote on item {e} of desk {f} followed a debate of two days, officials said."
            )
            site.publish(f"desk{f}", SiteArticle(f"d{f}-e{e}", f"Assembly {n} votes on harbour budget", body,
                                                 start + timedelta(minutes=n)))  # fmt: skip


def poll(env: dict[str, str]) -> tuple[float, str, str]:
    """`newsbot watch --once`, its imports listed on stderr (-X importtime): the embedding model's library is
    imported only when something is embedded."""
    cmd = [sys.executable, "-X", "importtime", str(Path(sys.executable).with_name("newsbot")), "watch", "--once"]
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout, done.stderr


def counts(site: FeedSite, since: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in site.requests()[since:]:
        key = f"{r.kind} {r.status}"
        out[key] = out.get(key, 0) + 1
    return out


def run_one(conditional: bool, work: Path) -> dict[str, Any]:
    site = FeedSite.start(conditional=conditional)
    try:
        publish(site)
        settings = Settings(data_dir=work / "data", chroma_url=None, collection="newsbot", _env_file=None)
        runtime = Runtime(settings)
        now = time.time()
        with runtime.writing():
            for f in range(FEEDS):
                runtime.registry.put(new_source(site.feed_url(f"desk{f}"), 60, now))
        del runtime  # the store is closed before the pollers run
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
        env.update(NEWSBOT_DATA_DIR=str(settings.data_dir), NEWSBOT_FETCH_ALLOW="127.0.0.1")
        env["TOKENIZERS_PARALLELISM"] = "false"
        first_s, first_out, first_err = poll(env)
        after_first = len(site.requests())
        first = {"seconds": round(first_s, 1), "requests": counts(site, 0), "model_loaded": MODEL_LOADED in first_err}
        first["polled_lines"] = sum(line.startswith("polled:") for line in first_out.splitlines())
        stats_first = _stats(settings)
        time.sleep(max(0.0, now + 61 - time.time()))  # due again: every 1m
        load = load_avg()
        second_s, second_out, second_err = poll(env)
        lines = second_out.splitlines()
        second = {
            "seconds": round(second_s, 1),
            "requests": counts(site, after_first),
            "model_loaded": MODEL_LOADED in second_err,
            "polled_lines": sum(line.startswith("polled:") for line in lines),
            "added_or_updated": [line for line in lines if not line.endswith("added 0, updated 0")],
            "load_avg_1m": load,
        }
        return {
            "site_answers_conditional_requests": conditional,
            "feeds": FEEDS,
            "entries_per_feed": ENTRIES,
            "first_poll": first,
            "store_after_first": stats_first,
            "second_poll": second,
            "store_after_second": _stats(settings),
        }
    finally:
        site.stop()


def _stats(settings: Settings) -> dict[str, Any]:
    store = Runtime(settings).store
    catalog = store.catalog()
    return {"articles": len(catalog), "chunks": store.chunk_count(), "token": store.token()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("bench/out/unchanged-poll.json"))
    args = parser.parse_args()
    results = []
    for conditional in (True, False):
        with tempfile.TemporaryDirectory(prefix="newsbot-unchanged-poll-") as tmp:
            result = run_one(conditional, Path(tmp))
        results.append(result)
        print(json.dumps({k: result[k] for k in ("site_answers_conditional_requests", "second_poll")}, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figures = {"command": command_line(), "machine": machine(), "runs": results}
    args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
