"""Query benchmark: warm latency of `runtime.engine.answer(q)` at growing corpus sizes, next to the floor.

For each store mode (embedded Chroma, a `chroma run` server on 127.0.0.1) and each size level (chunks), a
store is built, the engine is warmed up, and real questions are answered one at a time. Per question the
query embedding alone is timed right before the answer (the floor: no answer can be faster than embedding
its question). Prints p50/p95 and where the time goes (the engine's own `answer.timings_ms`), and writes
JSON to bench/out/query.json.

Paths are relative to the repository (run from its root); `var/` there is gitignored and holds the stores
the README's evaluation commands build (`var/evalstore/...`) and the benchmark corpus.

How the levels are built (stated per level in the output): 50k chunks take 20-40 minutes or more to embed
on 2 cores, so the levels come from a benchmark corpus prepared once and frozen out of version control
(`--snapshot`, default var/bench-corpus): real articles with their real chunks and embeddings.
- `--prepare --from-store DIR...` takes the complete articles of stores that `newsbot ingest` built (the
  evaluation stores under var/evalstore, for instance) as they are, embedding nothing; then articles of
  ../shared/corpora/*.corpus.jsonl are chunked by the repo's current chunker and embedded until the
  snapshot holds `--distinct-chunks` (50k). An interrupted prepare keeps what it finished; a smaller
  snapshot (`--distinct-chunks 8000`) serves large levels by repeating its articles.
- each level is a fresh store holding whole articles of the snapshot, written through ArticleStore.commit
  like an ingest; the gold articles of the benchmark questions come first, so every level can answer them.
- a level larger than the snapshot repeats its articles under new ids (`#dup1`, ...) with the same texts
  and embeddings; the output says how many chunks are such copies.
- `--data-dir DIR` benchmarks an existing store as it is (one level, its size).

Usage:
    .venv/bin/python bench/query.py --prepare --from-store var/evalstore/gold2022     # once (long)
    .venv/bin/python bench/query.py                                   # 1k, 10k, 50k; embedded and server
    .venv/bin/python bench/query.py --levels 1000,10000 --modes embedded --questions 50
    .venv/bin/python bench/query.py --data-dir var/evalstore/gold2022     # that store, embedded

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
SNAPSHOT = REPO / "var" / "bench-corpus"
OUT = REPO / "bench" / "out" / "query.json"
P50_GOAL_MS = 50.0
P95_GOAL_MS = 150.0
COMMIT_ARTICLES = 50  # articles per store commit while building a level (~1k chunks, like an ingest)

log = logging.getLogger("bench.query")

import numpy as np  # noqa: E402

from bot.runtime import Runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from vectorstore.models import Article, Chunk  # noqa: E402

# ---- the material: real chunks with their embeddings -------------------------------------------------------


def shown(path: Path) -> str:
    """A path as the output records it: relative to the repository when inside it, never one machine's."""
    resolved = path.resolve()
    return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(path)


@dataclass(frozen=True)
class SourceArticle:
    article: Article
    chunks: tuple[Chunk, ...]
    embeddings: np.ndarray  # one float32 row per chunk
    origin: str = ""  # where the chunks and embeddings came from


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
                f"{settings.data_dir} is being written by pid {holder}; wait for that ingest to finish"
            ) from None
        fcntl.flock(fh, fcntl.LOCK_UN)


def read_store(settings: Settings) -> list[SourceArticle]:
    """Every complete live article of an existing store with its chunks and their stored embeddings."""
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
    origin = f"the store {shown(settings.data_dir)} (built by newsbot ingest)"
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
        vectors = np.vstack([v for _, v in pairs])
        out.append(SourceArticle(article, tuple(c for c, _ in pairs), vectors, origin))
    return out


class Snapshot:
    """Real articles with their chunks and embeddings, frozen outside the repo and reused by every run.

    Append-only parts (`part-NNNN.jsonl` + `.npy`; a part counts once its JSON Lines file is renamed into
    place), so an interrupted `--prepare` keeps what it finished. Frozen on purpose: the chunker may change
    in the repo, and a benchmark of query latency must not re-embed 50k chunks whenever it does.
    """

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.articles: list[SourceArticle] = []
        self._parts = 0
        if not directory.exists():
            return
        for meta_path in sorted(directory.glob("part-*.jsonl")):
            vectors = np.load(meta_path.with_suffix(".npy"))
            row = 0
            with meta_path.open(encoding="utf-8") as fh:
                for line in fh:
                    item = json.loads(line)
                    chunks = tuple(Chunk(**c) for c in item["chunks"])
                    self.articles.append(
                        SourceArticle(
                            Article(**item["article"]),
                            chunks,
                            vectors[row : row + len(chunks)],
                            item["origin"],
                        )
                    )
                    row += len(chunks)
            self._parts += 1

    @property
    def ids(self) -> set[str]:
        return {s.article.id for s in self.articles}

    @property
    def chunks(self) -> int:
        return sum(len(s.chunks) for s in self.articles)

    def add(self, articles: Sequence[SourceArticle]) -> None:
        if not articles:
            return
        from dataclasses import asdict

        self.dir.mkdir(parents=True, exist_ok=True)
        stem = self.dir / f"part-{self._parts:04d}"
        np.save(stem.with_suffix(".npy"), np.vstack([s.embeddings for s in articles]).astype(np.float32))
        tmp = stem.with_suffix(".jsonl.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for s in articles:
                item = {
                    "article": asdict(s.article),
                    "chunks": [asdict(c) for c in s.chunks],
                    "origin": s.origin,
                }
                fh.write(json.dumps(item, ensure_ascii=False) + "\n")
        tmp.rename(stem.with_suffix(".jsonl"))
        self._parts += 1
        self.articles.extend(articles)


def prepare(
    snapshot: Snapshot,
    stores: Sequence[Path],
    corpora: Sequence[Path],
    first_ids: Sequence[str],
    distinct_chunks: int,
) -> None:
    """Fill the snapshot: complete articles of the given stores first (nothing embedded), then corpus articles
    chunked by the repo's current chunker, embedded in batches, until it holds `distinct_chunks`."""
    for store_dir in stores:
        have = snapshot.ids
        found = read_store(
            Settings(data_dir=store_dir, collection="newsbot", chroma_url=None, _env_file=None)
        )
        new = [s for s in found if s.article.id not in have]
        snapshot.add(new)
        print(
            f"{len(new)} articles ({sum(len(s.chunks) for s in new)} chunks) from {store_dir}",
            file=sys.stderr,
        )
    if snapshot.chunks >= distinct_chunks:
        return
    from ingest.chunking import chunk_article
    from ingest.pipeline import IngestOptions, collect, embedding_text
    from vectorstore.embedder import load_embedder

    settings = Settings(_env_file=None, chroma_url=None)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    sha = commit.stdout.strip() or "?"
    origin = f"{{corpus}}, chunked by the chunker at commit {sha} and embedded by bench/query.py"
    articles, _ = collect([str(p) for p in corpora], IngestOptions())
    corpus_of: dict[str, str] = {}
    for path in corpora:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                corpus_of.setdefault(str(json.loads(line).get("id")), path.name)
    have = snapshot.ids
    todo = [a for a in in_selection_order(articles, first_ids, key=lambda a: a.id) if a.id not in have]
    embedder = load_embedder(settings.embedding_model, settings.embed_batch_size)
    batch: list[tuple[Article, list[Chunk]]] = []
    for article in todo:
        if snapshot.chunks >= distinct_chunks:
            break
        chunks = chunk_article(
            article, article.content_hash(), settings.chunk_chars, settings.chunk_overlap_chars
        )
        if chunks:
            batch.append((article, chunks))
        if (
            sum(len(c) for _, c in batch) >= 2048
            or snapshot.chunks + sum(len(c) for _, c in batch) >= distinct_chunks
        ):
            _embed_into(snapshot, batch, embedder, embedding_text, origin, corpus_of)
            batch = []
            print(f"  snapshot: {snapshot.chunks} chunks", file=sys.stderr, flush=True)
    _embed_into(snapshot, batch, embedder, embedding_text, origin, corpus_of)


def _embed_into(
    snapshot: Snapshot,
    batch: list[tuple[Article, list[Chunk]]],
    embedder: Any,
    embedding_text: Any,
    origin: str,
    corpus_of: dict[str, str],
) -> None:
    if not batch:
        return
    vectors = np.asarray(
        embedder.encode([embedding_text(c) for _, chunks in batch for c in chunks]), dtype=np.float32
    )
    out, row = [], 0
    for article, chunks in batch:
        corpus = corpus_of.get(article.id, "the corpora")
        out.append(
            SourceArticle(
                article, tuple(chunks), vectors[row : row + len(chunks)], origin.format(corpus=corpus)
            )
        )
        row += len(chunks)
    snapshot.add(out)


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
        s.origin,
    )


# ---- stores ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: SIGTERM when the benchmark dies, so an interrupted run leaves no server behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


SERVER_PIDS: dict[str, int] = {}  # url -> pid of the servers this process started


def wait_until_idle(pid: int, quiet_s: float = 3.0, timeout_s: float = 600.0) -> float:
    """Wait until a process has used under 5% of a core for `quiet_s` seconds; returns the seconds waited.

    Chroma's server indexes newly written vectors in the background after the writes return; measuring
    while it does would time its indexing, not warm queries.
    """
    tick = os.sysconf("SC_CLK_TCK")

    def cpu_s() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    started = time.monotonic()
    quiet_since = started
    last = cpu_s()
    while time.monotonic() - started < timeout_s:
        time.sleep(0.5)
        now = cpu_s()
        if now - last > 0.025:  # more than 5% of a core in the last half second
            quiet_since = time.monotonic()
        last = now
        if time.monotonic() - quiet_since >= quiet_s:
            break
    return time.monotonic() - started


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
        preexec_fn=_die_with_parent,
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
        SERVER_PIDS[url] = process.pid
        yield url
    finally:
        SERVER_PIDS.pop(url, None)
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
    questions: list[str] = []
    gold: list[str] = []
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
        level: dict[str, Any] = {
            "mode": mode,
            "built_from": f"the existing store at {shown(args.data_dir)} (collection {args.collection})",
        }
        level.update(measure(settings, embedder, questions, args.warmup))
        results.append(level)
        report(level)
        figures["machine_at_end"] = machine()
        return figures

    snapshot = Snapshot(args.snapshot)
    source = snapshot.articles
    if not source:
        raise SystemExit(f"no benchmark corpus in {args.snapshot}: run with --prepare first (see --help)")
    source_chunks = snapshot.chunks
    figures["snapshot"] = {"dir": shown(args.snapshot), "articles": len(source), "chunks": source_chunks}

    with contextmanager_or_none("server" in args.modes, args.work_dir / "server-db", args.chroma_url) as url:
        for chunks in args.levels:
            articles, copies = select(source, chunks, gold)
            for mode in args.modes:
                settings = level_settings(mode, chunks, args.work_dir, url)
                print(f"[{mode}] building {chunks} chunks ({len(articles)} articles)...", file=sys.stderr)
                build_s = build_level(settings, articles)
                # Chroma indexes new vectors in the background (in the server, or in this process when
                # embedded); warm latency is measured once that is over.
                indexer = SERVER_PIDS.get(url or "") if mode == "server" else os.getpid()
                idle_s = wait_until_idle(indexer) if indexer else 0.0
                built_from = provenance(articles, copies, source_chunks)
                level = {
                    "mode": mode,
                    "target_chunks": chunks,
                    "built_from": built_from,
                    "copied_chunks": copies,
                    "build_s": round(build_s, 1),
                    "indexing_after_build_s": round(idle_s, 1),
                }
                level.update(measure(settings, embedder, questions, args.warmup))
                results.append(level)
                report(level)
                if not args.keep:
                    shutil.rmtree(settings.data_dir, ignore_errors=True)
    figures["machine_at_end"] = machine()
    return figures


def provenance(articles: Sequence[SourceArticle], copies: int, source_chunks: int) -> str:
    """How a level was built, in words: chunks per origin, and the copies."""
    counts: dict[str, int] = {}
    for s in articles:
        if "#dup" not in s.article.id:
            counts[s.origin] = counts.get(s.origin, 0) + len(s.chunks)
    parts = [f"{n:,} real chunks with their embeddings from {origin}" for origin, n in counts.items()]
    text = "; ".join(parts)
    if copies:
        text += (
            f"; {copies:,} chunks are copies of those articles under new ids (same texts and embeddings): "
            f"the benchmark corpus holds {source_chunks:,} distinct chunks"
        )
    return text


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
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT, help="the frozen benchmark corpus")
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="fill the snapshot (from --from-store, then from --corpus), then exit",
    )
    parser.add_argument(
        "--from-store",
        type=Path,
        nargs="*",
        default=[],
        help="with --prepare: stores built by newsbot ingest whose complete articles are taken as they are",
    )
    parser.add_argument("--corpus", type=Path, nargs="+", default=CORPORA, help="with --prepare")
    parser.add_argument(
        "--distinct-chunks", type=int, default=50_000, help="with --prepare: how many distinct chunks to hold"
    )
    parser.add_argument(
        "--collection", default="newsbot", help="collection of --data-dir / --source-data-dir"
    )
    parser.add_argument("--data-dir", type=Path, help="benchmark this existing store as it is")
    parser.add_argument("--chroma-url", help="use this server instead of starting one (server mode)")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/newsbot-bench-query"))
    parser.add_argument("--keep", action="store_true", help="keep the level stores in --work-dir")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.levels = [int(x) for x in args.levels.split(",") if x]
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    if args.prepare:
        _, gold = load_questions(args.question_file, args.questions)
        snapshot = Snapshot(args.snapshot)
        prepare(snapshot, args.from_store, args.corpus, gold, args.distinct_chunks)
        print(f"{snapshot.chunks} chunks of {len(snapshot.articles)} articles in {args.snapshot}")
        return
    figures = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
