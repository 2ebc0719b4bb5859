"""What keeping the sentence vectors (`vectorstore/sentences.py`) adds to an ingest.

The same articles are ingested into two fresh embedded stores in a temp dir: with the default configuration (no
sentence vectors) and with NEWSBOT_LEARNED_RANKER (which keeps them). This machine is shared and its speed moves
by a factor of two within minutes, so a JSON Lines corpus is split into --slices parts and each part is ingested
into both stores, one right after the other (the order alternating), so both see the same load. Prints, per
configuration, chunks per second of ingest (`IngestReport.seconds`), the sentences kept and encoded, and the
store's size on disk.

    python -m bench.sentence_vectors --corpus data/sample
    python -m bench.sentence_vectors --corpus var/evalstore/rtqa2024/pools/realtimeqa_2024.qa.k3.n60.jsonl --slices 4
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.runtime import Runtime
from bot.settings import Settings


@dataclass
class Totals:
    seconds: float = 0.0
    chunks: int = 0
    sentences_encoded: int = 0


def _slices(corpus: Path, slices: int, directory: Path) -> list[Path]:
    """A directory as it is; a JSON Lines corpus in `slices` consecutive temp files (never in the repository)."""
    if corpus.is_dir() or slices <= 1:
        return [corpus]
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
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
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsbot-sentences-") as tmp:
        root = Path(tmp)
        runtimes = {
            kept: Runtime(Settings(data_dir=root / name, learned_ranker=kept, _env_file=None))
            for kept, name in ((False, "default"), (True, "kept"))
        }
        runtimes[True].__dict__["embedder"] = runtimes[False].embedder  # one model, loaded once
        totals = {kept: Totals() for kept in runtimes}
        for i, part in enumerate(_slices(args.corpus, args.slices, root)):
            for kept in (False, True) if i % 2 == 0 else (True, False):
                report = runtimes[kept].ingest([str(part)])
                assert report.ok, report.failed
                totals[kept].seconds += report.seconds
                totals[kept].chunks += report.chunks_embedded
                totals[kept].sentences_encoded += report.sentences_encoded
        articles = len(runtimes[False].store.catalog())
        print(f"{args.corpus}: {articles} articles, {totals[False].chunks} chunks, {args.slices} slice(s)")
        for kept, runtime in runtimes.items():
            t = totals[kept]
            print(
                f"{'with sentence vectors' if kept else 'default':>22}: {t.seconds:7.1f} s, "
                f"{t.chunks / t.seconds:6.2f} chunks/s, {runtime.store.sentence_count()} sentences kept "
                f"({t.sentences_encoded} encoded), {_disk_mb(runtime.settings.store_path):.1f} MB on disk"
            )
        print(f"ingest time with them: x{totals[True].seconds / totals[False].seconds:.2f}")


if __name__ == "__main__":
    main()
