"""Lexical engine benchmark (issue 14, item 4): which BM25 engine keeps up with a 1M-chunk archive.

Candidates, each fed the repo's own analysis (`vectorstore.lexical.terms`: lowercase, stopwords out, Snowball
stems), so only the engine differs:
- `bm25s`: today's index, in memory, rebuilt whole on every change;
- `fts5`: SQLite FTS5 on disk, `bm25()` ranking, rows inserted and deleted in place;
- `tantivy`: tantivy-py on disk, segments written per commit and merged in the background.

The texts are the chunks of ../shared/corpora/*.corpus.jsonl made by the repo's chunker (600/150 characters),
taken in file order until `--distinct` chunks; a level larger than that repeats them under new article ids
(`#dup1`, ...), as bench/query.py does. Questions: the first `--questions` of realtimeqa_gold.qa.jsonl.
Each (engine, level) runs in its own process, so its memory is its own. Per level: build time (analysis of
the texts is done once, before, and reported apart), RSS after the build, query p50/p95 (top 30, chunk ids
read back); at the largest level the time to apply a 10-article update (3 added, 4 replaced, 3 removed,
analysis of the new texts included) and to see it in search; at 100k the overlap of each engine's top 30
with bm25s's. Writes bench/out/lexical.json.

Usage:
    .venv/bin/python bench/lexical.py                                   # 1k, 100k, 1M; all engines
    .venv/bin/python bench/lexical.py --levels 1000,100000 --engines fts5,bm25s
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.chunking import chunk_article  # noqa: E402
from vectorstore.analysis import terms  # noqa: E402
from vectorstore.models import Article  # noqa: E402

SHARED = REPO.parent / "shared"
CORPORA = sorted((SHARED / "corpora").glob("*.corpus.jsonl"))
QUESTIONS = SHARED / "eval" / "realtimeqa_gold.qa.jsonl"
CACHE = Path.home() / ".cache" / "newsbot" / "lexical-bench"
OUT = REPO / "bench" / "out" / "lexical.json"
K = 30
UPDATE_GOAL_S = 2.0
MEMORY_GOAL_GB = 4.0


@dataclass(frozen=True)
class Doc:
    article_id: str
    chunk_id: str
    text: str
    terms: tuple[str, ...]


# ---- material ---------------------------------------------------------------------------------------------


def distinct_docs(count: int) -> tuple[list[Doc], float]:
    """The first `count` chunks of the corpora, analysed; cached. Returns them and analysis s per 1k chunks."""
    path = CACHE / f"distinct-{count}.pkl"
    if path.exists():
        with open(path, "rb") as fh:
            cached: tuple[list[Doc], float] = pickle.load(fh)
        return cached
    docs: list[Doc] = []
    analysis_s = 0.0
    for corpus in CORPORA:
        with open(corpus, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                if not rec.get("text"):
                    continue
                article = Article(id=str(rec["id"]), title=rec.get("title") or "", text=rec["text"])
                version = article.content_hash()
                for chunk in chunk_article(article, version, 600, 150):
                    started = time.perf_counter()
                    analysed = tuple(terms(f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text))
                    analysis_s += time.perf_counter() - started
                    docs.append(Doc(chunk.article_id, chunk.id, chunk.text, analysed))
                if len(docs) >= count:
                    break
        if len(docs) >= count:
            break
    per_1k = analysis_s / len(docs) * 1000
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump((docs, per_1k), fh, protocol=pickle.HIGHEST_PROTOCOL)
    return docs, per_1k


def level_docs(distinct: Sequence[Doc], n: int) -> Iterator[Doc]:
    """`n` docs: the distinct ones, then copies under new article ids; texts copied too (a real store's are
    distinct objects, and memory must show it)."""
    for i in range(n):
        base = distinct[i % len(distinct)]
        copy = i // len(distinct)
        if copy == 0:
            yield Doc(base.article_id, base.chunk_id, (base.text + " ")[:-1], base.terms)
        else:
            article = f"{base.article_id}#dup{copy}"
            yield Doc(article, f"{article}::{base.chunk_id.split('::', 1)[1]}", (base.text + " ")[:-1], base.terms)


def questions(n: int) -> list[list[str]]:
    out = []
    with open(QUESTIONS, encoding="utf-8") as fh:
        for line in fh:
            analysed = terms(json.loads(line)["question"])
            if analysed:
                out.append(analysed)
            if len(out) >= n:
                break
    return out


def update_batch(distinct: Sequence[Doc], docs_in_index: Sequence[str]) -> tuple[list[str], list[Doc]]:
    """10 articles: 3 removed, 4 replaced (new texts under the same article ids), 3 added. Returns the article
    ids to delete (removed and replaced) and the docs to insert (replacements and additions)."""
    articles = list(dict.fromkeys(docs_in_index))
    removed, replaced = articles[10:13], articles[20:24]
    by_article: dict[str, list[Doc]] = {}
    for d in distinct:
        by_article.setdefault(d.article_id, []).append(d)
    sources = list(by_article.values())
    new: list[Doc] = []
    for n, article in enumerate(replaced):
        for j, d in enumerate(sources[-1 - n]):
            new.append(Doc(article, f"{article}::v2::{j}", d.text, ()))
    for n in range(3):
        article = f"added-{n}"
        for j, d in enumerate(sources[-10 - n]):
            new.append(Doc(article, f"{article}::v1::{j}", d.text, ()))
    return removed + replaced, new


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- engines ----------------------------------------------------------------------------------------------


class Bm25sEngine:
    """Today's design: one bm25s index of every chunk, in memory, built whole."""

    def __init__(self, directory: Path) -> None:
        self.docs: list[Doc] = []

    def build(self, docs: Iterator[Doc]) -> None:
        import bm25s

        self.docs = list(docs)
        self.bm25 = bm25s.BM25()
        self.bm25.index([list(d.terms) for d in self.docs], show_progress=False)
        self.vocab = self.bm25.vocab_dict

    def search(self, words: list[str], k: int) -> list[str]:
        words = [w for w in words if w in self.vocab]
        if not words:
            return []
        ids, scores = self.bm25.retrieve([words], k=k, show_progress=False, n_threads=1)
        return [self.docs[int(i)].chunk_id for i, s in zip(ids[0], scores[0], strict=True) if s > 0]

    def update(self, delete_articles: list[str], add: list[Doc]) -> None:
        raise NotImplementedError("bm25s is rebuilt whole: the update costs a build")


class Fts5Engine:
    """SQLite FTS5 over the analysed terms; a plain table holds the chunk rows (id, article, text)."""

    def __init__(self, directory: Path) -> None:
        self.db = sqlite3.connect(directory / "lexical.sqlite3", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE chunk (row INTEGER PRIMARY KEY, id TEXT UNIQUE, article_id TEXT, text TEXT, terms TEXT)"
        )
        self.db.execute("CREATE INDEX chunk_article ON chunk(article_id)")
        self.db.execute(
            "CREATE VIRTUAL TABLE fts USING fts5(terms, content='chunk', content_rowid='row', "
            "tokenize=\"unicode61 remove_diacritics 0 tokenchars '_'\")"
        )

    def _insert(self, docs: Iterator[Doc] | list[Doc]) -> None:
        for d in docs:
            joined = " ".join(d.terms)
            cur = self.db.execute(
                "INSERT INTO chunk (id, article_id, text, terms) VALUES (?, ?, ?, ?)",
                (d.chunk_id, d.article_id, d.text, joined),
            )
            self.db.execute("INSERT INTO fts (rowid, terms) VALUES (?, ?)", (cur.lastrowid, joined))

    def build(self, docs: Iterator[Doc]) -> None:
        self.db.execute("BEGIN")
        self._insert(docs)
        self.db.execute("COMMIT")
        started = time.perf_counter()
        self.db.execute("INSERT INTO fts (fts) VALUES ('optimize')")
        self.optimize_s = time.perf_counter() - started

    def search(self, words: list[str], k: int) -> list[str]:
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in dict.fromkeys(words))
        rows = self.db.execute(
            "SELECT c.id FROM (SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT ?) AS hit "
            "JOIN chunk c ON c.row = hit.rowid",
            (match, k),
        ).fetchall()
        return [r[0] for r in rows]

    def update(self, delete_articles: list[str], add: list[Doc]) -> None:
        analysed = [Doc(d.article_id, d.chunk_id, d.text, tuple(terms(d.text))) for d in add]
        self.db.execute("BEGIN IMMEDIATE")
        for article in delete_articles:
            for row, joined in self.db.execute("SELECT row, terms FROM chunk WHERE article_id = ?", (article,)):
                self.db.execute("INSERT INTO fts (fts, rowid, terms) VALUES ('delete', ?, ?)", (row, joined))
            self.db.execute("DELETE FROM chunk WHERE article_id = ?", (article,))
        self._insert(analysed)
        self.db.execute("COMMIT")


class TantivyEngine:
    """tantivy over the analysed terms (whitespace tokenizer); the chunk row stored as JSON bytes. As in
    vectorstore/lexical.py: a writer is opened per update and closed after its merges, so the lock is free."""

    def __init__(self, directory: Path) -> None:
        import tantivy

        self.tantivy = tantivy
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")
        sb.add_text_field("article", tokenizer_name="raw", index_option="basic")
        sb.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
        sb.add_bytes_field("row", stored=True, indexed=False)
        self.schema = sb.build()
        self.index = tantivy.Index(self.schema, path=str(directory))

    def _insert(self, writer: Any, docs: Iterator[Doc] | list[Doc]) -> None:
        for d in docs:
            row = json.dumps({"id": d.chunk_id, "text": d.text}).encode()
            writer.add_document(
                self.tantivy.Document(terms=" ".join(d.terms), article=d.article_id, id=d.chunk_id, row=row)
            )

    def build(self, docs: Iterator[Doc]) -> None:
        writer = self.index.writer(heap_size=200_000_000, num_threads=1)
        self._insert(writer, docs)
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def search(self, words: list[str], k: int) -> list[str]:
        if not words:
            return []
        t = self.tantivy
        query = t.Query.boolean_query(
            [(t.Occur.Should, t.Query.term_query(self.schema, "terms", w)) for w in dict.fromkeys(words)]
        )
        hits = self.searcher.search(query, k, count=False).hits
        return [json.loads(self.searcher.doc(address)["row"][0])["id"] for _, address in hits]

    def update(self, delete_articles: list[str], add: list[Doc]) -> None:
        analysed = [Doc(d.article_id, d.chunk_id, d.text, tuple(terms(d.text))) for d in add]
        writer = self.index.writer(heap_size=50_000_000, num_threads=1)
        for article in delete_articles:
            writer.delete_documents_by_term("article", article)
        self._insert(writer, analysed)
        writer.commit()
        self.index.reload()
        self.searcher = self.index.searcher()
        self.visible_s = time.perf_counter()
        writer.wait_merging_threads()


Engine = Bm25sEngine | Fts5Engine | TantivyEngine
ENGINES: dict[str, type[Engine]] = {"bm25s": Bm25sEngine, "fts5": Fts5Engine, "tantivy": TantivyEngine}


# ---- one (engine, level) in its own process ----------------------------------------------------------------


def run_one(engine_name: str, level: int, distinct_count: int, n_questions: int, do_update: bool) -> dict[str, Any]:
    distinct, _ = distinct_docs(distinct_count)
    qs = questions(n_questions)
    gc.collect()
    base_rss = rss_mb()
    directory = Path(tempfile.mkdtemp(prefix=f"lexbench-{engine_name}-"))
    try:
        engine = ENGINES[engine_name](directory)
        started = time.perf_counter()
        engine.build(level_docs(distinct, level))
        build_s = time.perf_counter() - started
        gc.collect()
        after_build = rss_mb()
        for q in qs[:20]:  # warm-up
            engine.search(q, K)
        times, tops = [], []
        for q in qs:
            t0 = time.perf_counter()
            top = engine.search(q, K)
            times.append((time.perf_counter() - t0) * 1e3)
            tops.append(top)
        times.sort()
        out: dict[str, Any] = {
            "engine": engine_name,
            "level": level,
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "build_s": round(build_s, 2),
            "rss_mb": round(after_build, 1),
            "rss_index_mb": round(after_build - base_rss, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "disk_mb": round(sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 2**20, 1),
            "query_p50_ms": round(statistics.median(times), 2),
            "query_p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
            "query_max_ms": round(times[-1], 2),
            "questions": len(qs),
            "tops": tops,
        }
        if isinstance(engine, Fts5Engine):
            out["optimize_s"] = round(engine.optimize_s, 2)
        if do_update:
            if isinstance(engine, Bm25sEngine):
                out["update_s"] = None
                out["update_note"] = "full rebuild: at least build_s, plus reading every chunk from Chroma"
            else:
                articles = [d.article_id for d in level_docs(distinct[:5000], 5000)]
                delete, add = update_batch(distinct, articles)
                probe = list(terms(add[0].text))[:6]
                t0 = time.perf_counter()
                engine.update(delete, add)
                update_s = time.perf_counter() - t0
                if isinstance(engine, TantivyEngine):
                    out["update_visible_after_s"] = round(engine.visible_s - t0, 3)
                visible = any(cid.startswith(add[0].article_id + "::v2") for cid in engine.search(probe, K))
                out["update_s"] = round(update_s, 3)
                out["update_chunks_in"] = len(add)
                out["update_visible"] = visible
                stale = {d.chunk_id for d in level_docs(distinct[:5000], 5000) if d.article_id in set(delete)}
                out["stale_hits_after_update"] = sum(cid in stale for q in qs for cid in engine.search(q, K))
                out["update_note"] = f"{len(delete)} articles' chunks deleted, {len(add)} chunks added"
        return out
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# ---- the driver -------------------------------------------------------------------------------------------


def overlap(a: list[list[str]], b: list[list[str]]) -> float:
    shares = [len(set(x) & set(y)) / max(1, min(len(x), len(y))) for x, y in zip(a, b, strict=True) if x or y]
    return round(statistics.mean(shares), 3) if shares else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1000,100000,1000000")
    parser.add_argument("--engines", default="fts5,tantivy,bm25s")
    parser.add_argument("--distinct", type=int, default=120_000, help="distinct chunks before texts repeat")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--agreement-level", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # engine:level:update, run in a child process
    args = parser.parse_args()
    if args.one:
        engine, level, update = args.one.split(":")
        result = run_one(engine, int(level), args.distinct, args.questions, update == "1")
        print(json.dumps(result))
        return

    levels = [int(x) for x in args.levels.split(",")]
    engines = args.engines.split(",")
    started = time.perf_counter()
    _, analysis_per_1k = distinct_docs(args.distinct)
    print(f"{args.distinct} distinct chunks ready ({analysis_per_1k:.2f} s analysis per 1k chunks)", flush=True)
    results: list[dict[str, Any]] = []
    for level in levels:
        for engine in engines:
            update = "1" if level == max(levels) else "0"
            cmd = [sys.executable, __file__, "--one", f"{engine}:{level}:{update}", "--distinct", str(args.distinct)]
            cmd += ["--questions", str(args.questions)]
            proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
            if proc.returncode != 0:
                print(f"{engine} at {level}: failed\n{proc.stderr[-2000:]}", flush=True)
                results.append({"engine": engine, "level": level, "error": proc.stderr[-500:]})
                continue
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            results.append(result)
            shown = {k: v for k, v in result.items() if k != "tops"}
            print(json.dumps(shown), flush=True)
    by = {(r["engine"], r["level"]): r for r in results if "tops" in r}
    agreement = {}
    ref = by.get(("bm25s", args.agreement_level))
    for engine in engines:
        got = by.get((engine, args.agreement_level))
        if ref is not None and got is not None and engine != "bm25s":
            agreement[engine] = overlap(ref["tops"], got["tops"])
    for r in results:
        r.pop("tops", None)
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "sqlite": sqlite3.sqlite_version},
        "distinct_chunks": args.distinct,
        "analysis_s_per_1k_chunks": round(analysis_per_1k, 3),
        "top30_overlap_with_bm25s": {"level": args.agreement_level, **agreement},
        "goals": {"update_s": UPDATE_GOAL_S, "memory_gb": MEMORY_GOAL_GB},
        "results": results,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    if args.out.exists():  # keep the other levels and engines of earlier runs
        earlier = json.loads(args.out.read_text())
        mine = {(r["engine"], r["level"]) for r in results}
        report["results"] = [r for r in earlier.get("results", []) if (r["engine"], r["level"]) not in mine]
        report["results"] += results
        if not agreement:
            report["top30_overlap_with_bm25s"] = earlier.get("top30_overlap_with_bm25s", {})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "results"}, indent=2))


if __name__ == "__main__":
    main()
