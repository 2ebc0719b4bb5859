"""Cost of a change at scale (issue 14): a running process's lexical index and catalog after a 10-article write.

Opens the store as a bot does (embedded), brings its catalog and lexical index up to date, then ingests
`--articles` made-up articles through `Runtime.ingest`, which applies the change to the lexical index before it
returns, and removes them again. Reported: the full catalog read at start, and each change's lexical update
(seconds, which include reading what changed in the catalog; articles and chunks applied; whether it rebuilt),
and the process's memory.
Goal: the update under 2 s at 1M chunks, no rebuild.

Usage (the store as bench/query.py --store built it; nothing else may use it meanwhile):
    .venv/bin/python -m bench.change_cost --store var/bench-1m --out bench/out/change-cost.json

The articles it writes are removed at the end (their tombstones stay in the manifest).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.figures import command_line, load_avg, machine, peak_rss_mb, rss_mb
from bench.levels import shown
from bot.runtime import Runtime
from bot.settings import Settings
from vectorstore.lexical.manager import Update


def made_up_articles(n: int, tag: str) -> list[dict[str, Any]]:
    """Short articles about made-up harbours, each a few chunks, none like the store's texts."""
    body = (
        "The port authority of {place} approved a {n} million euro plan to dredge the northern basin on Monday. "
        "Dredging in {place} is due to start in March and to last eighteen months, the authority said, and the "
        "ferry terminal will stay open while the work goes on. "
    )
    return [
        {
            "id": f"change-{tag}-{i}",
            "title": f"Harbour {tag}{i} approves dredging plan",
            "text": (body.format(place=f"Harbour {tag}{i}", n=10 + i) * 6).strip(),
            "date": time.strftime("%Y-%m-%d"),
        }
        for i in range(n)
    ]


def _update(runtime: Runtime) -> dict[str, Any]:
    update: Update | None = runtime.retriever.lexical.last_update
    if update is None:
        return {}
    return {
        "seconds": update.seconds, "added": update.added, "replaced": update.replaced, "removed": update.removed,
        "chunks_read": update.chunks_fetched, "rebuilt": update.rebuilt,
    }  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(data_dir=args.store, chroma_url=None, collection="newsbot", _env_file=None)
    runtime = Runtime(settings)
    load_at_start = load_avg()
    started = time.perf_counter()
    articles = len(runtime.store.catalog())
    full_catalog_s = round(time.perf_counter() - started, 3)
    runtime.retriever.lexical.refresh(wait=True)  # as a bot's first question would
    ready_s = round(time.perf_counter() - started, 1)
    tag = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "change.jsonl"
        path.write_text("\n".join(json.dumps(a) for a in made_up_articles(args.articles, tag)) + "\n")
        report = runtime.ingest([str(path)])
    added = _update(runtime)
    runtime.remove(report.added)
    removed = _update(runtime)
    return {
        "store": shown(args.store),
        "store_articles": articles,
        "full_catalog_read_s": full_catalog_s,
        "index_ready_s": ready_s,
        "articles_written": len(report.added),
        "chunks_written": report.chunks_embedded,
        "lexical_update_after_add": added,
        "lexical_update_after_remove": removed,
        "process_rss_mb": rss_mb(os.getpid()),
        "process_peak_mb": peak_rss_mb(os.getpid()),
        "command": command_line(),
        "machine": machine(),
        "load_avg_1m": {"start": load_at_start, "end": load_avg()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True, help="a data dir built by bench/query.py --store")
    parser.add_argument("--articles", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
