"""BM25 over the live chunks (tantivy), kept consistent with Chroma by applying only what changed.

Chroma stays the store of record. The index lives on disk, one per data directory and collection, shared by
every process on the machine: a tantivy index of the live chunks, and beside it a small SQLite file that
records which version of each article the index holds and the store's change token it was brought to. When
the token moves, a process diffs the store's catalog against that record and applies the difference in one
tantivy commit: chunks of removed and replaced articles deleted, those of added and replaced ones read from
Chroma (only theirs) and added. The cost follows the change, not the archive (bench/lexical.py: a 10-article
update at 1M chunks in well under a second, against minutes for a rebuild).

Every process checks the token at most once per `check_interval_s` and keeps answering from its current
searcher (a snapshot) while an update runs in the background; the process that wrote waits for its own
update (`refresh(wait=True)`), so it reads its writes. Updates are serialised across processes by the SQLite
file's write lock; a process that finds another one's update already applied only reloads its searcher.

IDF: tantivy's ranking, like Lucene's, counts a deleted chunk in document frequencies until a segment merge
drops it; when such chunks exceed `max_deleted_share` of the index (10%), the index is rebuilt from Chroma in
the background, so ranking IDF always comes from a collection at most that far from the live one, and is a
fresh build's after the rebuild. `idf()` (the answer engine's term weights) is exact over the live chunks for
terms in up to 1,000 chunks, where one deleted chunk matters; commoner terms are within that same share.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from vectorstore.analysis import terms
from vectorstore.errors import StoreError
from vectorstore.models import Chunk, StoredArticle
from vectorstore.store import ArticleStore, Filters, date_int

log = logging.getLogger(__name__)

FORMAT = "tantivy-1"  # bump when the schema or the analysis changes: the index is then rebuilt
_ALL = "1"  # every document carries it in the `all` field: its document frequency counts deleted ones too
EXACT_DF_MAX = 1000  # idf() counts live chunks exactly up to this frequency (~0.03 ms a term at 1M chunks)
_LOCK_WAIT_S = 3600.0  # how long an update waits for another process's (a first build at 1M: ~10 minutes)
_NO_DATE = -1
_MAX_DATE = 99_991_231


def _date_or_missing(iso: str | None) -> int:
    if not iso:
        return _NO_DATE
    try:
        return date_int(iso)
    except StoreError:
        return _NO_DATE


def index_text(chunk: Chunk) -> str:
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


def _schema() -> tantivy.Schema:
    """Pre-analysed terms (split on spaces: `terms()` did the analysis), filter fields, and the chunk itself."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("article", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("id", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("source", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("all", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("date", indexed=True, fast=True)
    builder.add_bytes_field("chunk", stored=True)
    return builder.build()


def _document(chunk: Chunk) -> tantivy.Document:
    return tantivy.Document(
        terms=" ".join(terms(index_text(chunk))),
        article=chunk.article_id,
        id=chunk.id,
        source=chunk.source or "",
        all=_ALL,
        date=_date_or_missing(chunk.date),
        chunk=json.dumps(asdict(chunk), ensure_ascii=False).encode("utf-8"),
    )


def _open(path: Path) -> tantivy.Index:
    index = tantivy.Index.open(str(path))
    index.config_reader("manual")  # searchers are reloaded when the token says so, not by a file watcher
    return index


class _ChunkLookup(Mapping[str, Chunk]):
    """Chunks of one searcher by id, read on demand (dense search takes texts from here, not from Chroma)."""

    def __init__(self, view: LexicalIndex) -> None:
        self._view = view
        self._cache: dict[str, Chunk | None] = {}

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        if key not in self._cache:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = self._view._chunk_by_id(key)
        found = self._cache[key]
        return default if found is None else found

    def __getitem__(self, key: str) -> Chunk:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return (c.id for c in self._view.chunks)

    def __len__(self) -> int:
        return len(self._view)


class LexicalIndex:
    """BM25 over a snapshot of the live chunks: one tantivy searcher, and the store token it was brought to."""

    def __init__(self, index: tantivy.Index, token: str, generation: str) -> None:
        self.token = token
        self.generation = generation
        self._index = index
        self._schema = index.schema
        self._searcher = index.searcher()
        self._idf: dict[str, float] = {}
        self._lookup: _ChunkLookup | None = None
        self._has_deleted = int(self._searcher.doc_freq("all", _ALL)) != len(self)

    @classmethod
    def build(cls, chunks: Iterable[Chunk], token: str) -> LexicalIndex:
        """An index of these chunks in memory (tests and tools; the manager's live on disk)."""
        index = tantivy.Index(_schema())
        index.config_reader("manual")
        writer = index.writer(heap_size=15_000_000, num_threads=1)
        try:
            for chunk in chunks:
                writer.add_document(_document(chunk))
            writer.commit()
        finally:
            writer.wait_merging_threads()
        index.reload()
        return cls(index, token, "memory")

    def __len__(self) -> int:
        return int(self._searcher.num_docs)

    @property
    def deleted_share(self) -> float:
        """Deleted chunks that segments still hold, as a share of all they hold (they count in ranking IDF)."""
        held = int(self._searcher.doc_freq("all", _ALL))
        return (held - len(self)) / held if held else 0.0

    @property
    def chunk_by_id(self) -> Mapping[str, Chunk]:
        """Every chunk of this snapshot by id; dense search takes texts from here instead of from Chroma."""
        if self._lookup is None:  # a benign race makes two
            self._lookup = _ChunkLookup(self)
        return self._lookup

    @property
    def chunks(self) -> list[Chunk]:
        """Every chunk of this snapshot, by article and position (reads them all: tests and tools only)."""
        n = len(self)
        if n == 0:
            return []
        hits = self._searcher.search(tantivy.Query.all_query(), n).hits
        out = [self._chunk_at(address) for _, address in hits]
        return sorted(out, key=lambda c: (c.article_id, c.position))

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency of an analysed term over the live chunks; unseen terms weigh
        the most. Exact for terms in up to `EXACT_DF_MAX` chunks (counted among live ones when the index holds
        deleted chunks); a commoner term's frequency may include deleted chunks not yet merged away (at most
        `max_deleted_share` of the index), which moves its IDF by about that share at most. O(1) per term:
        the answer engine asks for hundreds per question."""
        cached = self._idf.get(term)
        if cached is not None:
            return cached
        n = len(self)
        df = int(self._searcher.doc_freq("terms", term)) if n else 0
        if 0 < df <= EXACT_DF_MAX and self._has_deleted:
            query = tantivy.Query.term_query(self._schema, "terms", term)
            df = int(self._searcher.search(query, 1, count=True).count)  # type: ignore[attr-defined]
        df = min(df, n)
        value = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        if len(self._idf) > 100_000:
            self._idf.clear()
        self._idf[term] = value
        return value

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]:
        words = list(dict.fromkeys(terms(query)))
        if k <= 0 or not words or len(self) == 0:
            return []
        q = tantivy.Query
        match = q.boolean_query([(tantivy.Occur.Should, q.term_query(self._schema, "terms", w)) for w in words])
        if filters is not None and not filters.empty:
            # Filter clauses score 0, so the BM25 score is the terms' alone.
            clauses = [(tantivy.Occur.Must, match)]
            if filters.source:
                only = q.term_query(self._schema, "source", filters.source)
                clauses.append((tantivy.Occur.Must, q.const_score_query(only, 0.0)))
            if filters.date_from or filters.date_to:  # a chunk without a date is never in a date range
                low = date_int(filters.date_from) if filters.date_from else 0
                high = date_int(filters.date_to) if filters.date_to else _MAX_DATE
                within = q.range_query(self._schema, "date", tantivy.FieldType.Integer, low, high, True, True)
                clauses.append((tantivy.Occur.Must, q.const_score_query(within, 0.0)))
            match = q.boolean_query(clauses)
        hits = self._searcher.search(match, k, count=False).hits  # counting every match costs ~20% at 1M
        return [(self._chunk_at(address), float(score)) for score, address in hits if float(score) > 0.0]

    def _chunk_at(self, address: tantivy.DocAddress) -> Chunk:
        raw = self._searcher.doc(address)["chunk"][0]
        return Chunk(**json.loads(bytes(raw).decode("utf-8")))

    def _chunk_by_id(self, chunk_id: str) -> Chunk | None:
        if len(self) == 0:
            return None
        hits = self._searcher.search(tantivy.Query.term_query(self._schema, "id", chunk_id), 1, count=False).hits
        return self._chunk_at(hits[0][1]) if hits else None

    def article_ids(self) -> set[str]:
        return {c.article_id for c in self.chunks}


@dataclass(frozen=True)
class Update:
    """What one synchronisation did: articles applied, chunks read from Chroma, whether it rebuilt."""

    token: str
    added: int = 0
    replaced: int = 0
    removed: int = 0
    chunks_fetched: int = 0
    rebuilt: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class _State:
    generation: str
    token: str


class _Record:
    """The SQLite file beside the tantivy index: the index's format, generation and token, and the version of
    each article it holds. Its write lock serialises updates across processes; readers never wait (WAL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0.0)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self.db.execute("CREATE TABLE IF NOT EXISTS article (id TEXT PRIMARY KEY, version TEXT NOT NULL)")

    def state(self) -> _State | None:
        meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format") != FORMAT or not meta.get("generation"):
            return None
        return _State(meta["generation"], meta.get("token", ""))

    def begin(self, timeout_s: float) -> bool:
        """Take the write lock; False if another process holds it longer than `timeout_s`."""
        self.db.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return False
            raise
        return True

    def versions(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT id, version FROM article").fetchall())

    def apply(self, gone: Iterable[str], live: Iterable[tuple[str, str]]) -> None:
        self.db.executemany("DELETE FROM article WHERE id = ?", [(a,) for a in gone])
        self.db.executemany("INSERT OR REPLACE INTO article (id, version) VALUES (?, ?)", list(live))

    def replace_all(self, versions: Mapping[str, str], generation: str) -> None:
        self.db.execute("DELETE FROM article")
        self.db.executemany("INSERT INTO article (id, version) VALUES (?, ?)", list(versions.items()))
        self.set(format=FORMAT, generation=generation)

    def claim_compaction(self, expires_s: float = 3600.0) -> bool:
        """True if no other process claimed a compaction within `expires_s` (a killed one's claim expires);
        False too if the record is busy (the next update asks again)."""
        if not self.begin(timeout_s=1.0):
            return False
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'compacting'").fetchone()
            if row and row[0] and time.time() - float(row[0]) < expires_s:
                self.db.execute("ROLLBACK")
                return False
            self.set(compacting=str(time.time()))
            self.db.execute("COMMIT")
            return True
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def set(self, **values: str) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items()))


class LexicalIndexManager:
    """Holds this process's view of a store's lexical index and brings the index up to date when the store
    changes: by applying the change, or by a full build when there is no index yet (or it is due a rebuild)."""

    def __init__(
        self,
        store: ArticleStore,
        directory: Path | None,
        check_interval_s: float = 1.0,
        rest_factor: float = 2.0,
        max_deleted_share: float = 0.1,
    ) -> None:
        self._store = store
        self._dir = directory if directory is not None else Path(tempfile.mkdtemp(prefix="newsbot-lexical-"))
        self._interval = check_interval_s
        # After an update that took t seconds, background updates wait rest_factor * t, so a store written
        # every few seconds does not keep a core busy. Updates for this process's own writes never wait.
        self._rest_factor = rest_factor
        self._max_deleted_share = max_deleted_share
        self._lock = threading.Lock()
        self._record: _Record | None = None
        self._view: LexicalIndex | None = None
        self._checked_at = 0.0
        self._next_background_at = 0.0
        self._background: threading.Thread | None = None
        self._compacting: threading.Thread | None = None
        self.last_update: Update | None = None  # what the last synchronisation in this process did

    def current(self) -> LexicalIndex:
        """The index to search now; starts a background update when the store has moved on."""
        view = self._view
        if view is None:
            return self.refresh(wait=True)
        now = time.monotonic()
        if now - self._checked_at >= self._interval and now >= self._next_background_at:
            self._checked_at = now
            if self._store.token() != view.token:
                self._start_background()
        return view

    def refresh(self, wait: bool = True) -> LexicalIndex:
        """Bring the index up to the store's current state; with `wait`, return only when it is."""
        if not wait:
            self._start_background()
            return self._view or self.refresh(wait=True)
        return self._sync(wait=True)

    # ---- synchronisation ----

    def _sync(self, wait: bool) -> LexicalIndex:
        with self._lock:
            started = time.perf_counter()
            record = self._open_record()
            state = record.state()
            token = self._store.token()
            if state is not None and state.token == token and self._usable(state):
                return self._adopt(state)  # already applied, by this process or another
            # Background updates give way to one running in another process: its result is adopted next check.
            # Another process's first build at 1M chunks takes ~10 minutes; a writer waits that out.
            if not record.begin(timeout_s=_LOCK_WAIT_S if wait else 0.05):
                if self._view is not None:
                    return self._view
                raise StoreError("the lexical index has been locked by another process for over an hour")
            try:
                update, state = self._apply(record)
                record.db.execute("COMMIT")
            except BaseException:
                record.db.execute("ROLLBACK")
                raise
            view = self._adopt(state)
            elapsed = time.perf_counter() - started
            if update is not None:
                self.last_update = update = _with_seconds(update, elapsed)
                self._log(update, len(view))
                self._next_background_at = time.monotonic() + self._rest_factor * elapsed
                if not update.rebuilt and view.deleted_share > self._max_deleted_share and record.claim_compaction():
                    self._start_compaction()
            self._checked_at = time.monotonic()
            return view

    def _apply(self, record: _Record) -> tuple[Update | None, _State]:
        """Under the write lock: bring the index to the store's token; None when another process just did."""
        state = record.state()
        # The token is read before the catalog: a write landing meanwhile moves the token again, so the next
        # check applies it; the index can lag a write, never miss one.
        token = self._store.token()
        if state is not None and state.token == token and self._usable(state):
            return None, state
        catalog = self._store.catalog()
        if state is None or not self._usable(state):
            generation, fetched = self._build(catalog)
            record.replace_all({a.id: a.version for a in catalog.values()}, generation)
            record.set(token=token)
            self._remove_generations(keep={generation})
            return Update(token, added=len(catalog), chunks_fetched=fetched, rebuilt=True), _State(generation, token)
        held = record.versions()
        gone = [a for a, version in held.items() if a not in catalog or catalog[a].version != version]
        changed = [a for a in catalog.values() if held.get(a.id) != a.version]
        chunks = self._store.chunks_of_versions({a.id: a.version for a in changed}) if changed else []
        index = _open(self._dir / state.generation)
        writer = index.writer(heap_size=50_000_000, num_threads=1)
        try:
            # Delete before adding, for every changed article: applying a change twice (after a crash between
            # the tantivy commit and the record's) leaves one copy.
            for article_id in dict.fromkeys([*gone, *(a.id for a in changed)]):
                writer.delete_documents_by_term("article", article_id)
            for chunk in chunks:
                writer.add_document(_document(chunk))
            writer.commit()
        finally:
            writer.wait_merging_threads()  # also frees the writer lock for the next process
        record.apply(gone, [(a.id, a.version) for a in changed])
        record.set(token=token)
        replaced = sum(1 for a in changed if a.id in held)
        update = Update(
            token,
            added=len(changed) - replaced,
            replaced=replaced,
            removed=len([a for a in gone if a not in catalog]),
            chunks_fetched=len(chunks),
        )
        return update, _State(state.generation, token)

    def _build(self, catalog: Mapping[str, StoredArticle]) -> tuple[str, int]:
        """A fresh generation of the index from every live chunk; returns its name and the chunks read."""
        generation = f"gen-{time.time_ns()}"
        path = self._dir / generation
        path.mkdir(parents=True)
        index = tantivy.Index(_schema(), path=str(path))
        writer = index.writer(heap_size=200_000_000, num_threads=1)
        n = 0
        try:
            for chunk in self._store.live_chunks():
                writer.add_document(_document(chunk))
                n += 1
            writer.commit()
        finally:
            writer.wait_merging_threads()
        return generation, n

    def _compact(self) -> None:
        """Rebuild outside the write lock (nobody waits for it), then flip to the new generation under it.
        The caller claimed the compaction in the record, so other processes do not start one too."""
        try:
            started = time.perf_counter()
            token = self._store.token()
            catalog = self._store.catalog()
            generation, fetched = self._build(catalog)
            with self._lock:
                record = self._open_record()
                if not record.begin(timeout_s=_LOCK_WAIT_S):
                    shutil.rmtree(self._dir / generation, ignore_errors=True)
                    return
                try:
                    record.replace_all({a.id: a.version for a in catalog.values()}, generation)
                    record.set(token=token, compacting="")
                    # Writes committed while it was built (and already applied to the old generation, which
                    # this process may have read) are applied to it now, before anyone can see it.
                    _, state = self._apply(record)
                    record.db.execute("COMMIT")
                except BaseException:
                    record.db.execute("ROLLBACK")
                    raise
                previous = self._view.generation if self._view is not None else ""
                self._remove_generations(keep={generation, previous})
                view = self._adopt(state)
                update = Update(token, added=len(catalog), chunks_fetched=fetched, rebuilt=True)
                self.last_update = update = _with_seconds(update, time.perf_counter() - started)
                self._log(update, len(view))
        except Exception:  # the index keeps working uncompacted; the next update may try again
            log.exception("lexical index compaction failed")
            with self._lock, contextlib.suppress(sqlite3.Error):
                self._open_record().set(compacting="")

    def _adopt(self, state: _State) -> LexicalIndex:
        view = self._view
        if view is not None and view.generation == state.generation and view.token == state.token:
            return view
        if view is not None and view.generation == state.generation:
            index = view._index
            index.reload()
        else:
            index = _open(self._dir / state.generation)
        self._view = LexicalIndex(index, state.token, state.generation)
        return self._view

    def _usable(self, state: _State) -> bool:
        """The generation the record names opens (a damaged or deleted one is rebuilt, never fatal)."""
        if self._view is not None and self._view.generation == state.generation:
            return True
        try:
            _open(self._dir / state.generation)
        except (OSError, ValueError) as exc:
            log.warning("the lexical index at %s is unusable (%s); rebuilding it", self._dir, type(exc).__name__)
            return False
        return True

    def _open_record(self) -> _Record:
        if self._record is None:
            self._remove_legacy_files()
            path = self._dir / "index.sqlite3"
            try:
                self._record = _Record(path)
            except sqlite3.DatabaseError as exc:  # a damaged record costs a rebuild, no more
                log.warning("the lexical index record is unusable (%s); rebuilding the index", exc)
                for stale in self._dir.glob("index.sqlite3*"):
                    stale.unlink(missing_ok=True)
                self._record = _Record(path)
        return self._record

    def _remove_generations(self, keep: set[str]) -> None:
        """Generations older than the one before the current: another process may still be reading that one."""
        for path in self._dir.glob("gen-*"):
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    def _remove_legacy_files(self) -> None:
        """The bm25s index this one replaced, saved as whole snapshots in the same directory."""
        for name in ("bm25", "chunks.jsonl", "token"):
            path = self._dir / name
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink(missing_ok=True)

    def _start_background(self) -> None:
        if self._background is not None and self._background.is_alive():
            return
        self._background = threading.Thread(target=self._sync_quietly, name="lexical-update", daemon=True)
        self._background.start()

    def _start_compaction(self) -> None:
        if self._compacting is not None and self._compacting.is_alive():
            return
        self._compacting = threading.Thread(target=self._compact, name="lexical-compaction", daemon=True)
        self._compacting.start()

    def _sync_quietly(self) -> None:
        try:
            self._sync(wait=False)
        except Exception:  # a failed background update keeps the current index; the next check tries again
            log.exception("lexical index update failed")

    @staticmethod
    def _log(update: Update, chunks: int) -> None:
        if update.rebuilt:
            log.info("lexical index rebuilt: %d chunks in %.2f s", chunks, update.seconds)
        else:
            log.info(
                "lexical index updated: %d added, %d replaced, %d removed articles (%d chunks read) in %.2f s",
                update.added, update.replaced, update.removed, update.chunks_fetched, update.seconds,
            )  # fmt: skip


def _with_seconds(update: Update, seconds: float) -> Update:
    return replace(update, seconds=round(seconds, 3))
