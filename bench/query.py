"""Query benchmark: warm latency of `runtime.engine.answer(q)` at growing corpus sizes, next to the floor.

For each store mode (embedded Chroma, a `chroma run` server on 127.0.0.1) and each size level (chunks), a
store is built, the engine is warmed up, and real questions are answered one at a time. Per question the
query embedding alone is timed right before the answer (the floor: no answer can be faster than embedding
its question). Prints p50/p95 and where the time goes (the engine's own `answer.timings_ms`), and writes
JSON to bench/out/query.json.

How the levels are built (stated per level in the output): 50k chunks take 20-40 minutes to embed on 2
cores, so the levels reuse embeddings instead of embedding again.
- `--source-data-dir DIR` (default /work/evalstore/gold2022 when it exists): real chunks, texts and
  embeddings read from a store that `newsbot ingest` built (the whole 2022 gold corpus, ~50k chunks). Each
  level is a fresh store holding whole articles of it, written through the normal commit path; the gold
  articles of the benchmark questions come first, so the questions have their answers at every size.
- without a source store: real chunks of ../shared/corpora/*.corpus.jsonl, chunked as newsbot chunks
  them, and embedded once per distinct chunk into a cache outside the repo (`--cache-dir`), reused by every
  level and every later run.
- a level larger than the source repeats its articles under new ids (`#dup1`, ...) with the same texts
  and embeddings; the output says how many chunks are such copies.
- `--data-dir DIR` benchmarks an existing store as it is (one level, its size).

Usage:
    .venv/bin/python bench/query.py                                   # 1k, 10k, 50k; embedded and server
    .venv/bin/python bench/query.py --levels 1000,10000 --modes embedded --questions 50
    .venv/bin/python bench/query.py --data-dir /work/evalstore/gold2022   # that store, embedded

Goal (issue 5): p50 < 50 ms and p95 < 150 ms at 50k chunks on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SHARED = REPO.parent / "shared"
CORPORA = [
    SHARED / "corpora" / "realtimeqa_2022gold.corpus.jsonl",
    SHARED / "corpora" / "realtimeqa_ukraine.corpus.jsonl",
]
QUESTIONS = SHARED / "eval" / "realtimeqa_gold.qa.jsonl"
EVAL_STORE = Path("/work/evalstore/gold2022")
OUT = REPO / "bench" / "out" / "query.json"
P50_GOAL_MS = 50.0
P95_GOAL_MS = 150.0
COMMIT_ARTICLES = 200  # articles per store commit while building a level

log = logging.getLogger("bench.query")

import numpy as np  # noqa: E402

from bot.runtime import Runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from vectorstore.models import Article, Chunk  # noqa: E402

# ---- the material: real chunks with their embeddings -------------------------------------------------------


@dataclass(frozen=True)
class SourceArticle:
    article: Article
    chunks: tuple[Chunk, ...]
    embeddings: np.ndarray  # one float32 row per chunk


def ensure_not_being_written(settings: Settings) -> None:
    """An embedded store must not be opened while an ingest writes it (Chroma is not process-safe)."""
    import fcntl

    if settings.chroma_url or not settings.lock_path.exists():
        return
    with open(settings.lock_path, "rb") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = fh.read().decode(errors="replace").strip() or "unknown"
            raise SystemExit(
                f"{settings.data_dir} is being written by pid {holder}; wait for that ingest to finish, "
                "or pass --no-source to embed the levels from the corpora"
            ) from None
        fcntl.flock(fh, fcntl.LOCK_UN)


def read_store(settings: Settings) -> list[SourceArticle]:
    """Every live article of an existing store with its chunks and their stored embeddings."""
    ensure_not_being_written(settings)
    runtime = Runtime(settings)
    store = runtime.store
    catalog = store.catalog()
    raw = runtime.client.get_collection(settings.collection)  # type: ignore[attr-defined]
    by_article: dict[str, list[tuple[Chunk, np.ndarray]]] = {}
    offset, page = 0, 2000
    while True:
        got = raw.get(include=["documents", "metadatas", "embeddings"], limit=page, offset=offset)
        for doc, meta, vector in zip(got["documents"], got["metadatas"], got["embeddings"], strict=True):
            live = catalog.get(meta["article_id"])
            if live is None or live.version != meta["version"]:
                continue
            chunk = Chunk(
                article_id=meta["article_id"],
                version=meta["version"],
                position=int(meta["position"]),
                start=int(meta["start"]),
                end=int(meta["end"]),
                text=doc,
                title=meta.get("title", ""),
                url=meta.get("url"),
                date=meta.get("date"),
                source=meta.get("source"),
            )
            by_article.setdefault(chunk.article_id, []).append((chunk, np.asarray(vector, dtype=np.float32)))
        if len(got["ids"]) < page:
            break
        offset += page
    out = []
    for article_id, stored in sorted(catalog.items()):
        pairs = sorted(by_article.get(article_id, []), key=lambda p: p[0].position)
        if len(pairs) != stored.chunks:
            log.warning(
                "skipping %s: %d of %d chunks in the source store", article_id, len(pairs), stored.chunks
            )
            continue
        article = Article(
            id=article_id,
            title=stored.title,
            text=store.article_text(article_id) or "",
            url=stored.url,
            date=stored.date,
            source=stored.source,
            origin=stored.origin,
        )
        out.append(SourceArticle(article, tuple(c for c, _ in pairs), np.vstack([v for _, v in pairs])))
    return out


def embed_corpora(
    corpora: Sequence[Path], settings: Settings, cache_dir: Path, first_ids: Sequence[str], max_chunks: int
) -> list[SourceArticle]:
    """Real corpus articles chunked as ingest chunks them, whole articles up to `max_chunks` in the order
    `select` takes them; each distinct chunk is embedded once ever (cached outside the repo)."""
    from ingest.chunking import chunk_article
    from ingest.pipeline import IngestOptions, collect, embedding_text
    from vectorstore.embedder import load_embedder

    articles, _ = collect([str(p) for p in corpora], IngestOptions())
    chunked = []
    total = 0
    for a in in_selection_order(articles, first_ids, key=lambda a: a.id):
        if total >= max_chunks:
            break
        chunks = chunk_article(a, a.content_hash(), settings.chunk_chars, settings.chunk_overlap_chars)
        if chunks:
            chunked.append((a, chunks))
            total += len(chunks)
    cache = EmbeddingCache(cache_dir, settings.embedding_model)
    missing = {
        cache_key(c): embedding_text(c)
        for _, chunks in chunked
        for c in chunks
        if cache_key(c) not in cache.index
    }
    if missing:
        print(f"embedding {len(missing)} chunks not in the cache {cache_dir} (once)", file=sys.stderr)
        embedder = load_embedder(settings.embedding_model, settings.embed_batch_size)
        new_keys = list(missing)
        for start in range(0, len(new_keys), 2048):
            part = new_keys[start : start + 2048]
            cache.add(part, np.asarray(embedder.encode([missing[k] for k in part]), dtype=np.float32))
            print(f"  {len(cache.keys)} cached", file=sys.stderr)
    return [
        SourceArticle(a, tuple(chunks), cache.vectors[[cache.index[cache_key(c)] for c in chunks]])
        for a, chunks in chunked
    ]


def cache_key(chunk: Chunk) -> str:
    """The cache is keyed by exactly what is embedded, so any store chunked the same way can seed it."""
    from ingest.pipeline import embedding_text

    return hashlib.sha256(embedding_text(chunk).encode()).hexdigest()


class EmbeddingCache:
    """Embeddings by the hash of the embedded text, in two files outside the repo (JSON keys, .npy)."""

    def __init__(self, directory: Path, model: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        model_key = hashlib.sha256(model.encode()).hexdigest()[:12]
        self._keys_path = directory / f"keys-{model_key}.json"
        self._vectors_path = directory / f"vectors-{model_key}.npy"
        self.keys: list[str] = json.loads(self._keys_path.read_text()) if self._keys_path.exists() else []
        self.vectors = (
            np.load(self._vectors_path)
            if self._vectors_path.exists()
            else np.zeros((0, 384), dtype=np.float32)
        )
        self.index = {k: i for i, k in enumerate(self.keys)}

    def add(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        fresh = [i for i, k in enumerate(keys) if k not in self.index]
        if not fresh:
            return
        self.vectors = np.vstack([self.vectors, vectors[fresh].astype(np.float32)])
        for i in fresh:
            self.index[keys[i]] = len(self.keys)
            self.keys.append(keys[i])
        np.save(self._vectors_path, self.vectors)
        self._keys_path.write_text(json.dumps(self.keys))


def seed_cache(cache_dir: Path, model: str, store_dir: Path) -> int:
    """Add the embeddings a store built by `newsbot ingest` already holds; returns how many were new."""
    source = read_store(Settings(data_dir=store_dir, collection="newsbot", chroma_url=None, _env_file=None))
    cache = EmbeddingCache(cache_dir, model)
    before = len(cache.keys)
    for s in source:
        cache.add([cache_key(c) for c in s.chunks], s.embeddings)
    return len(cache.keys) - before


T = TypeVar("T")


def in_selection_order(items: Sequence[T], first_ids: Sequence[str], key: Callable[[T], str]) -> list[T]:
    """The `first_ids` first (the gold articles of the questions), then a fixed pseudo-random order."""
    by_id = {key(item): item for item in items}
    ordered = [by_id[i] for i in dict.fromkeys(first_ids) if i in by_id]
    seen = {key(item) for item in ordered}
    rest = [item for item in items if key(item) not in seen]
    return ordered + sorted(rest, key=lambda item: hashlib.md5(key(item).encode()).digest())


def select(
    source: Sequence[SourceArticle], target_chunks: int, first_ids: Sequence[str]
) -> tuple[list[SourceArticle], int]:
    """Whole articles up to `target_chunks` (the `first_ids` first, then a fixed pseudo-random order); when
    the source is too small, copies under new ids. Returns the articles and how many chunks are copies."""
    ordered = in_selection_order(source, first_ids, key=lambda s: s.article.id)
    chosen: list[SourceArticle] = []
    total = copies = 0
    generation = 0
    while total < target_chunks:
        for s in ordered:
            if total >= target_chunks:
                break
            if generation:
                s = duplicate(s, generation)
                copies += len(s.chunks)
            chosen.append(s)
            total += len(s.chunks)
        generation += 1
    return chosen, copies


def duplicate(s: SourceArticle, generation: int) -> SourceArticle:
    new_id = f"{s.article.id}#dup{generation}"
    return SourceArticle(
        replace(s.article, id=new_id),
        tuple(replace(c, article_id=new_id) for c in s.chunks),
        s.embeddings,
    )


# ---- stores ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """A `chroma run` on a free port of 127.0.0.1 for the duration of the benchmark."""
    import httpx

    path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_file = open(path.parent / "chroma-server.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("chroma")),
            "run",
            "--path",
            str(path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not start; see {path.parent / 'chroma-server.log'}")
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()


def level_settings(mode: str, chunks: int, work_dir: Path, server_url: str | None) -> Settings:
    name = f"bench-{chunks}"
    if mode == "embedded":
        return Settings(
            data_dir=work_dir / "embedded" / name, chroma_url=None, collection="newsbot", _env_file=None
        )
    return Settings(
        data_dir=work_dir / "server-client" / name, chroma_url=server_url, collection=name, _env_file=None
    )


def build_level(settings: Settings, articles: Sequence[SourceArticle]) -> float:
    """A fresh store holding `articles`, written through ArticleStore.commit like an ingest writes."""
    runtime = Runtime(settings)
    if settings.chroma_url is None:
        shutil.rmtree(settings.data_dir, ignore_errors=True)
    else:
        shutil.rmtree(settings.index_dir, ignore_errors=True)
        existing = {c.name for c in runtime.client.list_collections()}  # type: ignore[attr-defined]
        for name in (settings.collection, f"{settings.collection}-articles"):
            if name in existing:
                runtime.client.delete_collection(name)  # type: ignore[attr-defined]
        runtime = Runtime(settings)
    t0 = time.perf_counter()
    store = runtime.store
    for start in range(0, len(articles), COMMIT_ARTICLES):
        part = articles[start : start + COMMIT_ARTICLES]
        store.commit([(s.article, list(s.chunks), s.embeddings.tolist()) for s in part])
    return time.perf_counter() - t0


# ---- measuring ---------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 0.50), 2),
        "p95": round(percentile(values, 0.95), 2),
        "mean": round(statistics.fmean(values), 2) if values else float("nan"),
        "max": round(max(values), 2) if values else float("nan"),
    }


def measure(settings: Settings, embedder: Any, questions: Sequence[str], warmup: int) -> dict[str, Any]:
    """Warm latency of engine.answer next to the query embedding alone, question by question."""
    runtime = Runtime(settings)
    runtime.__dict__["embedder"] = embedder
    store = runtime.store
    catalog = store.catalog()
    t0 = time.perf_counter()
    runtime.retriever.refresh()  # loads the saved lexical index, or builds it
    index_s = time.perf_counter() - t0
    for q in questions[:warmup]:
        runtime.engine.answer(q)
    answer_ms: list[float] = []
    floor_ms: list[float] = []
    parts: dict[str, list[float]] = {}
    declined = 0
    for q in questions:
        t0 = time.perf_counter()
        embedder.embed_query(q)
        t1 = time.perf_counter()
        answer = runtime.engine.answer(q)
        t2 = time.perf_counter()
        floor_ms.append((t1 - t0) * 1e3)
        answer_ms.append((t2 - t1) * 1e3)
        declined += int(answer.declined)
        for name, value in answer.timings_ms.items():
            if name.endswith("_ms"):
                parts.setdefault(name, []).append(value)
    return {
        "articles": len(catalog),
        "chunks": sum(a.chunks for a in catalog.values()),
        "lexical_index_ready_s": round(index_s, 2),
        "questions": len(questions),
        "declined": declined,
        "answer_ms": summary(answer_ms),
        "embed_floor_ms": summary(floor_ms),
        "over_floor_p50_ms": round(percentile(answer_ms, 0.5) - percentile(floor_ms, 0.5), 2),
        "timings_p50_ms": {k: round(percentile(v, 0.5), 2) for k, v in sorted(parts.items())},
        "timings_p95_ms": {k: round(percentile(v, 0.95), 2) for k, v in sorted(parts.items())},
    }


def load_questions(path: Path, limit: int) -> tuple[list[str], list[str]]:
    """The first `limit` answerable questions of an eval set, and the gold article ids of all of them (the
    order in which levels take articles must not depend on how many questions are timed)."""
    questions, gold = [], []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            if not item.get("answers"):
                continue
            if len(questions) < limit:
                questions.append(item["question"])
            if item.get("doc_id"):
                gold.append(str(item["doc_id"]))
    return questions, gold


# ---- main --------------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import chromadb

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "chromadb": chromadb.__version__,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from vectorstore.embedder import load_embedder

    questions, gold = load_questions(args.question_file, args.questions)
    base = Settings(_env_file=None, chroma_url=None)
    embedder = load_embedder(base.embedding_model, base.embed_batch_size)
    embedder.embed_query("warm-up")
    results: list[dict[str, Any]] = []
    figures: dict[str, Any] = {
        "goal": {"p50_ms": P50_GOAL_MS, "p95_ms": P95_GOAL_MS, "at_chunks": 50_000},
        "question_set": str(args.question_file.name),
        "warmup": args.warmup,
        "machine_at_start": machine(),
        "levels": results,
    }

    if args.data_dir:  # an existing store, as it is
        settings = Settings(
            data_dir=args.data_dir, collection=args.collection, chroma_url=args.chroma_url, _env_file=None
        )
        mode = "server" if args.chroma_url else "embedded"
        ensure_not_being_written(settings)
        print(f"[{mode}] existing store {args.data_dir}", file=sys.stderr)
        level = {
            "mode": mode,
            "built_from": f"the existing store at {args.data_dir} (collection {args.collection})",
        }
        level.update(measure(settings, embedder, questions, args.warmup))
        results.append(level)
        report(level)
        figures["machine_at_end"] = machine()
        return figures

    if args.source_data_dir:
        t0 = time.perf_counter()
        source = read_store(
            Settings(
                data_dir=args.source_data_dir, collection=args.collection, chroma_url=None, _env_file=None
            )
        )
        origin = (
            f"real chunks and their embeddings read from the store {args.source_data_dir} "
            f"(built by `newsbot ingest`; {len(source)} articles)"
        )
        print(
            f"read {len(source)} articles from {args.source_data_dir} in {time.perf_counter() - t0:.0f} s",
            file=sys.stderr,
        )
    else:
        source = embed_corpora(args.corpus, base, args.cache_dir, gold, args.max_source_chunks)
        origin = (
            f"real chunks of {', '.join(p.name for p in args.corpus)}, chunked like ingest, each distinct "
            f"chunk embedded once (cache {args.cache_dir})"
        )
    source_chunks = sum(len(s.chunks) for s in source)

    with contextmanager_or_none("server" in args.modes, args.work_dir / "server-db", args.chroma_url) as url:
        for chunks in args.levels:
            articles, copies = select(source, chunks, gold)
            for mode in args.modes:
                settings = level_settings(mode, chunks, args.work_dir, url)
                print(f"[{mode}] building {chunks} chunks ({len(articles)} articles)...", file=sys.stderr)
                build_s = build_level(settings, articles)
                built_from = origin
                if copies:
                    built_from += (
                        f"; {copies} of the chunks are copies of source articles under new ids "
                        f"(same texts and embeddings): the source has {source_chunks} chunks"
                    )
                level = {
                    "mode": mode,
                    "target_chunks": chunks,
                    "built_from": built_from,
                    "copied_chunks": copies,
                    "build_s": round(build_s, 1),
                }
                level.update(measure(settings, embedder, questions, args.warmup))
                results.append(level)
                report(level)
                if not args.keep:
                    shutil.rmtree(settings.data_dir, ignore_errors=True)
    figures["machine_at_end"] = machine()
    return figures


@contextmanager
def contextmanager_or_none(needed: bool, path: Path, url: str | None) -> Iterator[str | None]:
    if not needed or url:
        yield url
        return
    with chroma_server(path) as started:
        yield started


def report(level: dict[str, Any]) -> None:
    a, f = level["answer_ms"], level["embed_floor_ms"]
    t = level["timings_p50_ms"]
    parts = ", ".join(f"{k.removesuffix('_ms')} {v:.1f}" for k, v in t.items() if k != "total_ms")
    print(
        f"[{level['mode']:8}] {level['chunks']:>7} chunks: "
        f"answer p50 {a['p50']:.1f} ms, p95 {a['p95']:.1f} ms; "
        f"query embedding alone p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms  (p50 parts: {parts})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--levels", default="1000,10000,50000", help="corpus sizes in chunks, comma-separated"
    )
    parser.add_argument("--modes", default="embedded,server", help="embedded, server or both")
    parser.add_argument("--questions", type=int, default=100, help="questions timed per level")
    parser.add_argument("--warmup", type=int, default=10, help="questions answered first, untimed")
    parser.add_argument("--question-file", type=Path, default=QUESTIONS)
    parser.add_argument(
        "--source-data-dir",
        type=Path,
        default=EVAL_STORE if EVAL_STORE.exists() else None,
        help="reuse the chunks and embeddings of this store (NEWSBOT_DATA_DIR of an ingest)",
    )
    parser.add_argument("--no-source", action="store_true", help="ignore the default source store")
    parser.add_argument(
        "--corpus", type=Path, nargs="+", default=CORPORA, help="corpora when no source store"
    )
    parser.add_argument(
        "--max-source-chunks",
        type=int,
        default=50_000,
        help="distinct chunks to embed from the corpora (larger levels repeat them under new ids)",
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=Path.home() / ".cache" / "newsbot" / "bench-embeddings"
    )
    parser.add_argument(
        "--collection", default="newsbot", help="collection of --data-dir / --source-data-dir"
    )
    parser.add_argument("--data-dir", type=Path, help="benchmark this existing store as it is")
    parser.add_argument("--chroma-url", help="use this server instead of starting one (server mode)")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/newsbot-bench-query"))
    parser.add_argument("--keep", action="store_true", help="keep the level stores in --work-dir")
    parser.add_argument(
        "--seed-cache-from",
        type=Path,
        nargs="+",
        help="stores built by newsbot ingest whose embeddings go into the cache first (nothing re-embedded)",
    )
    parser.add_argument("--prepare", action="store_true", help="only fill the embedding cache, then exit")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.levels = [int(x) for x in args.levels.split(",") if x]
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if args.no_source:
        args.source_data_dir = None
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    if args.seed_cache_from:
        for store_dir in args.seed_cache_from:
            added = seed_cache(args.cache_dir, Settings(_env_file=None).embedding_model, store_dir)
            print(f"{added} embeddings from {store_dir} added to {args.cache_dir}", file=sys.stderr)
    if args.prepare:
        _, gold = load_questions(args.question_file, args.questions)
        settings = Settings(_env_file=None, chroma_url=None)
        source = embed_corpora(args.corpus, settings, args.cache_dir, gold, args.max_source_chunks)
        chunks = sum(len(s.chunks) for s in source)
        print(f"{chunks} chunks of {len(source)} articles are in {args.cache_dir}")
        return
    figures = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
