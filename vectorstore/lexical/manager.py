"""Keeps a process's view of the lexical index in step with the store: applies what changed (or builds the index
when there is none), shares the on-disk index with the other processes of the machine, and compacts it in the
background when deleted chunks weigh too much in its ranking."""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import tantivy

from vectorstore.errors import StoreError
from vectorstore.lexical.index import LexicalIndex, document, open_index, schema
from vectorstore.lexical.record import IndexRecord, IndexState
from vectorstore.models import StoredArticle
from vectorstore.store import ArticleStore

log = logging.getLogger(__name__)

_LOCK_WAIT_S = 3600.0  # how long an update waits for another process's (a first build at 1M: ~10 minutes)


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
        self._record: IndexRecord | None = None
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

    def _apply(self, record: IndexRecord) -> tuple[Update | None, IndexState]:
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
            update = Update(token, added=len(catalog), chunks_fetched=fetched, rebuilt=True)
            return update, IndexState(generation, token)
        held = record.versions()
        gone = [a for a, version in held.items() if a not in catalog or catalog[a].version != version]
        changed = [a for a in catalog.values() if held.get(a.id) != a.version]
        chunks = self._store.chunks_of_versions(changed) if changed else []
        index = open_index(self._dir / state.generation)
        writer = index.writer(heap_size=50_000_000, num_threads=1)
        try:
            # Delete before adding, for every changed article: applying a change twice (after a crash between
            # the tantivy commit and the record's) leaves one copy.
            for article_id in dict.fromkeys([*gone, *(a.id for a in changed)]):
                writer.delete_documents_by_term("article", article_id)
            for chunk in chunks:
                writer.add_document(document(chunk))
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
        return update, IndexState(state.generation, token)

    def _build(self, catalog: Mapping[str, StoredArticle]) -> tuple[str, int]:
        """A fresh generation of the index from every live chunk; returns its name and the chunks read."""
        generation = f"gen-{time.time_ns()}"
        path = self._dir / generation
        path.mkdir(parents=True)
        index = tantivy.Index(schema(), path=str(path))
        writer = index.writer(heap_size=200_000_000, num_threads=1)
        n = 0
        try:
            for chunk in self._store.live_chunks():
                writer.add_document(document(chunk))
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

    def _adopt(self, state: IndexState) -> LexicalIndex:
        view = self._view
        if view is not None and view.generation == state.generation and view.token == state.token:
            return view
        if view is not None and view.generation == state.generation:
            index = view._index
            index.reload()
        else:
            index = open_index(self._dir / state.generation)
        self._view = LexicalIndex(index, state.token, state.generation)
        return self._view

    def _usable(self, state: IndexState) -> bool:
        """The generation the record names opens (a damaged or deleted one is rebuilt, never fatal)."""
        if self._view is not None and self._view.generation == state.generation:
            return True
        try:
            open_index(self._dir / state.generation)
        except (OSError, ValueError) as exc:
            log.warning("the lexical index at %s is unusable (%s); rebuilding it", self._dir, type(exc).__name__)
            return False
        return True

    def _open_record(self) -> IndexRecord:
        if self._record is None:
            self._remove_legacy_files()
            path = self._dir / "index.sqlite3"
            try:
                self._record = IndexRecord(path)
            except sqlite3.DatabaseError as exc:  # a damaged record costs a rebuild, no more
                log.warning("the lexical index record is unusable (%s); rebuilding the index", exc)
                for stale in self._dir.glob("index.sqlite3*"):
                    stale.unlink(missing_ok=True)
                self._record = IndexRecord(path)
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
