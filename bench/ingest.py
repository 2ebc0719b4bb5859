"""Ingest benchmark: how close an ingest comes to the embedder's own speed; how cheap an unchanged rerun is.

Ingests ../shared/corpora/realtimeqa_ukraine.corpus.jsonl into a fresh store in a temp dir. The ceiling is the
same embedder, in the same process, encoding exactly the texts that ingest embedded (each stored chunk's
embedding text, read back from the store). Then the unchanged corpus is ingested again.

This machine is shared, and other work changes its speed by a factor of two within minutes, so a 20-minute
ingest followed by a 20-minute ceiling run compares two different machines. The corpus is therefore split
into --slices consecutive parts, and each part is ingested and then immediately encoded raw: both figures
see the same load. Each part is one `ingest` run, as an admin feeding newsbot in batches would do; the
re-ingest repeats the same runs (site furniture is detected per run, so the same grouping gives the same
texts). --slices 1 is the plain sequence. Wall-clock and CPU time are both reported.

Usage:
    .venv/bin/python -m bench.ingest              # the whole corpus (10+ minutes on 2 idle cores)
    .venv/bin/python -m bench.ingest --limit 300  # the first 300 articles

Writes bench/out/ingest.json (or ingest-limitN.json for a --limit run). Goals (issue 2): ingest at >= 90% of
the raw embedder throughput; the unchanged re-ingest >= 20x faster than the first.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import REPO, SHARED
from bench.figures import peak_rss_mb

CORPUS = SHARED / "corpora" / "realtimeqa_ukraine.corpus.jsonl"
OUT = REPO / "bench" / "out" / "ingest.json"
RATIO_GOAL = 0.90
SPEEDUP_GOAL = 20.0


@dataclass
class Clock:
    """Wall-clock and process CPU seconds (all threads: torch's and Chroma's too)."""

    wall: float = 0.0
    cpu: float = 0.0

    def add(self, wall: float, cpu: float) -> None:
        self.wall += wall
        self.cpu += cpu


def _timed(clock: Clock, func: Any, *args: Any) -> Any:
    w, c = time.perf_counter(), time.process_time()
    result = func(*args)
    clock.add(time.perf_counter() - w, time.process_time() - c)
    return result


def _split(corpus: Path, limit: int | None, slices: int, directory: Path) -> list[Path]:
    """The first `limit` records in `slices` consecutive temp files (the corpus never enters the repo)."""
    with corpus.open(encoding="utf-8") as src:
        lines = [line for n, line in enumerate(src) if limit is None or n < limit]
    size = -(-len(lines) // slices)
    parts: list[Path] = []
    for i in range(0, len(lines), size):
        part = directory / f"{corpus.stem}.part{len(parts) + 1:02d}.jsonl"
        part.write_text("".join(lines[i : i + size]), encoding="utf-8")
        parts.append(part)
    return parts


def run(corpus: Path, limit: int | None, slices: int) -> dict[str, Any]:
    from bot.runtime import Runtime
    from bot.settings import Settings
    from ingest.pipeline import embedding_text

    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        tmp_dir = Path(tmp)
        parts = _split(corpus, limit, slices, tmp_dir)
        runtime = Runtime(Settings(data_dir=tmp_dir / "data", _env_file=None))
        load_avg_start = os.getloadavg()[0]

        t0 = time.perf_counter()
        embedder = runtime.embedder
        embedder.encode(["warm-up: the first call allocates the model's buffers."])
        load_s = time.perf_counter() - t0

        ingest, raw, reingest = Clock(), Clock(), Clock()
        articles = chunks = embedded_in_ingest = encoded_in_ingest = failed = 0
        embed_s_in_ingest = 0.0
        for n, part in enumerate(parts, 1):
            report = _timed(ingest, runtime.ingest, [str(part)])
            failed += len(report.failed)
            for failure in report.failed[:5]:
                print(f"failed: {failure.item}: {failure.reason}", file=sys.stderr)
            embedded_in_ingest += report.chunks_embedded
            encoded_in_ingest += report.texts_encoded
            embed_s_in_ingest += report.embed_seconds
            # Exactly what this run embedded, read back from the store.
            texts = [embedding_text(c) for aid in report.added for c in runtime.store.chunks_of(aid)]
            articles += len(report.added)
            chunks += len(texts)
            _timed(raw, embedder.encode, texts)
            print(
                f"  part {n}/{len(parts)}: {len(report.added)} articles, {len(texts)} chunks; "
                f"ingest {ingest.wall:.0f} s, raw {raw.wall:.0f} s so far",
                file=sys.stderr,
                flush=True,
            )

        unchanged = embedded_again = 0
        for part in parts:
            again = _timed(reingest, runtime.ingest, [str(part)])
            unchanged += len(again.unchanged)
            embedded_again += again.chunks_embedded

        ingest_rate = chunks / ingest.wall if ingest.wall else 0.0
        raw_rate = chunks / raw.wall if raw.wall else 0.0
        ratio = ingest_rate / raw_rate if raw_rate else 0.0
        cpu_ratio = raw.cpu / ingest.cpu if ingest.cpu else 0.0
        speedup = ingest.wall / reingest.wall if reingest.wall else 0.0
        return {
            "corpus": corpus.name,
            "limit": limit,
            "slices": len(parts),
            "articles": articles,
            "failed": failed,
            "chunks": chunks,
            "chunks_embedded_by_ingest": embedded_in_ingest,
            "distinct_texts_encoded_by_ingest": encoded_in_ingest,  # repeated texts are encoded once
            "model_load_s": round(load_s, 2),
            "ingest_s": round(ingest.wall, 2),
            "ingest_cpu_s": round(ingest.cpu, 2),
            "ingest_embed_s": round(embed_s_in_ingest, 2),
            "ingest_other_s": round(ingest.wall - embed_s_in_ingest, 2),
            "ingest_chunks_per_s": round(ingest_rate, 2),
            "raw_embed_s": round(raw.wall, 2),
            "raw_embed_cpu_s": round(raw.cpu, 2),
            "raw_chunks_per_s": round(raw_rate, 2),
            "ratio": round(ratio, 3),
            "ratio_cpu": round(cpu_ratio, 3),
            "ratio_goal": RATIO_GOAL,
            "reingest_s": round(reingest.wall, 3),
            "reingest_chunks_embedded": embedded_again,
            "reingest_unchanged": unchanged,
            "speedup": round(speedup, 1),
            "speedup_goal": SPEEDUP_GOAL,
            "peak_rss_mb": peak_rss_mb(os.getpid()),
            "goals_met": ratio >= RATIO_GOAL and speedup >= SPEEDUP_GOAL and embedded_again == 0,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_avg_1m_at_start": round(load_avg_start, 2),
                "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
            },
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None, help="ingest only the first N articles")
    parser.add_argument("--slices", type=int, default=None, help="alternate ingest and ceiling in N parts")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="a JSON Lines corpus")
    parser.add_argument("--out", type=Path, default=None, help="where the JSON goes (default bench/out/)")
    args = parser.parse_args()
    if args.out is None:  # a quick run never overwrites the full run's figures
        args.out = OUT if args.limit is None else OUT.with_name(f"ingest-limit{args.limit}.json")
    slices = args.slices or (6 if args.limit is None else max(1, min(6, args.limit // 50)))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    f = run(args.corpus.resolve(), args.limit, slices)
    print(
        f"corpus        {f['corpus']}: {f['articles']} articles, {f['chunks']} chunks, {f['failed']} failed, "
        f"in {f['slices']} ingest runs"
    )
    print(
        f"              the ingest encoded {f['distinct_texts_encoded_by_ingest']} distinct texts for its "
        f"{f['chunks_embedded_by_ingest']} chunks; the ceiling encodes all {f['chunks']}"
    )
    print(
        f"ingest        {f['ingest_s']:.1f} s = {f['ingest_chunks_per_s']:.2f} chunks/s "
        f"(embedding {f['ingest_embed_s']:.1f} s, everything else {f['ingest_other_s']:.1f} s; "
        f"CPU {f['ingest_cpu_s']:.0f} s)"
    )
    print(
        f"raw embedder  {f['raw_embed_s']:.1f} s = {f['raw_chunks_per_s']:.2f} chunks/s, the ceiling "
        f"(CPU {f['raw_embed_cpu_s']:.0f} s)"
    )
    print(
        f"ratio         {f['ratio']:.1%} of the ceiling by wall clock, {f['ratio_cpu']:.1%} by CPU time "
        f"(goal {RATIO_GOAL:.0%})"
    )
    print(
        f"re-ingest     {f['reingest_s']:.2f} s, {f['reingest_chunks_embedded']} chunks embedded, "
        f"{f['speedup']:.0f}x faster (goal {SPEEDUP_GOAL:.0f}x)"
    )
    print(f"peak memory   {f['peak_rss_mb']:.0f} MB (ru_maxrss)")
    machine = f["machine"]
    print(
        f"load average  {machine['load_avg_1m_at_start']} at start, {machine['load_avg_1m_at_end']} at end "
        f"on {machine['cpus']} CPUs"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(f, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
