"""Wiring: build the store, embedder, retriever and engine once from the settings, and share them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from bot.follow.queueing import queue_followers
from bot.follow.store import FollowStore
from bot.settings import Settings
from ingest import (
    AllowList,
    FetchOptions,
    IngestOptions,
    IngestReport,
    Progress,
    SitemapLimits,
    SourceRegistry,
    Validators,
    ingest,
)
from vectorstore.client import connect, has_collection, store_exists
from vectorstore.embedder import DEFAULT_MODEL, MULTILINGUAL_MODEL, Embedder, load_embedder
from vectorstore.errors import StoreError, StoreMissingError, describe_chroma_error, describe_os_error
from vectorstore.lock import writer_lock
from vectorstore.store import ArticleStore

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

    from bot.answer.engine import AnswerEngine
    from vectorstore.retriever import HybridRetriever

log = logging.getLogger(__name__)
# The shipped models' sizes, so read-only commands need not load a model to open the store.
_KNOWN_DIMENSIONS = {DEFAULT_MODEL: 384, MULTILINGUAL_MODEL: 384}


@dataclass
class Runtime:
    """Everything a command or the bot needs, built lazily so `newsbot articles` never loads a model."""

    settings: Settings
    # False for read-only commands (stats, ask, ...): where no store exists they fail with StoreMissingError
    # instead of leaving an empty one behind.
    create_store: bool = True
    _write_mutex: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def embedder(self) -> Embedder:
        s = self.settings
        return load_embedder(s.embedding_model, s.embed_batch_size, multilingual=s.multilingual)

    @cached_property
    def client(self) -> ClientAPI:
        config = self.settings.chroma_config()
        if not self.create_store and config.embedded and not store_exists(config.path):
            raise StoreMissingError(f"no store at {self.settings.data_dir} (run newsbot ingest first)")
        with self.disk_errors():
            return connect(config)

    @cached_property
    def store(self) -> ArticleStore:
        settings = self.settings
        with self.disk_errors():
            if not self.create_store and not has_collection(self.client, settings.collection):
                where = settings.chroma_url or settings.data_dir
                raise StoreMissingError(
                    f"no store at {where}, collection {settings.collection} (run newsbot ingest first)"
                )
            return ArticleStore(
                self.client,
                self.settings.collection,
                embedding_model=self.settings.embedder_name,
                dimension=self.embedder_dimension,
            )

    @contextmanager
    def disk_errors(self) -> Iterator[None]:
        """The data directory's failures (under a file, read-only, full disk) as one-line StoreErrors, which the
        CLI prints and the bot reports to the admin, instead of tracebacks."""
        try:
            yield
        except OSError as exc:
            raise StoreError(describe_os_error(exc, self.settings.data_dir)) from exc
        except Exception as exc:
            # Chroma's embedded store reports its SQLite's disk errors as its own exceptions, not OSError.
            is_chroma = type(exc).__module__.startswith("chromadb")
            line = describe_chroma_error(exc, self.settings.store_path, self.settings.data_dir) if is_chroma else None
            if line is None:
                raise
            raise StoreError(line) from exc

    @cached_property
    def registry(self) -> SourceRegistry:
        """The sources this store follows (created on first use; listing uses `SourceRegistry.open_existing`)."""
        return SourceRegistry.open(self.client, self.settings.collection)

    @property
    def embedder_dimension(self) -> int:
        # The store records the dimension for the mismatch check; loading the model only for it would make
        # read-only commands slow, so use the known size of the default and ask the model otherwise.
        if self.settings.embedder_name in _KNOWN_DIMENSIONS:
            return _KNOWN_DIMENSIONS[self.settings.embedder_name]
        return self.embedder.dimension

    @cached_property
    def retriever(self) -> HybridRetriever:
        from vectorstore.retriever import build_retriever

        settings = self.settings
        return build_retriever(
            self.store,
            self.embedder,
            settings.index_dir,
            candidate_k=settings.candidate_k,
            k=settings.top_k,
            recency_weight=settings.recency_weight,
            recency_half_life_days=settings.recency_half_life_days,
            cross_lingual=settings.multilingual,
        )

    @cached_property
    def engine(self) -> AnswerEngine:
        from bot.answer.engine import build_engine

        return build_engine(self.settings, self.retriever)

    def ingest_options(self, prune: bool = False) -> IngestOptions:
        settings = self.settings
        return IngestOptions(
            chunk_chars=settings.chunk_chars,
            chunk_overlap_chars=settings.chunk_overlap_chars,
            prune=prune,
            gc_grace_s=0.0 if settings.chroma_config().embedded else settings.gc_grace_s,
            fetch=FetchOptions(
                max_bytes=settings.max_source_bytes,
                timeout_s=settings.fetch_timeout_s,
                concurrency=settings.fetch_concurrency,
                per_host=settings.fetch_per_host,
                user_agent=settings.user_agent,
                allow=AllowList.parse(settings.fetch_allow),
                summary_fallback=settings.feed_summary_fallback,
                sitemaps=SitemapLimits(
                    max_depth=settings.sitemap_max_depth,
                    max_sitemaps=settings.sitemap_max_sitemaps,
                    max_urls=settings.sitemap_max_urls,
                    max_bytes=settings.sitemap_max_bytes,
                ),
            ),
        )

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One writer per process, and per embedded store one writing process (Chroma is not process-safe)."""
        with self._write_mutex:
            if self.settings.chroma_config().embedded:
                with writer_lock(self.settings.lock_path):
                    yield
            else:
                yield

    def ingest(
        self,
        sources: Sequence[str],
        prune: bool = False,
        progress: Progress | None = None,
        validators: Mapping[str, Validators] | None = None,
    ) -> IngestReport:
        """Ingest under the writer lock; `validators` (by source) make URL fetches conditional (the poller's)."""
        with self.disk_errors():
            with self.writing():
                options = self.ingest_options(prune)
                report = ingest(sources, self.store, lambda: self.embedder, options, progress, validators)
            self._read_own_writes()
        self._queue_followers(report)
        return report

    @cached_property
    def follows(self) -> FollowStore:
        """Followed topics and their notifications, in the SQLite database beside the store."""
        return FollowStore(self.settings.feedback_db)

    def _queue_followers(self, report: IngestReport) -> None:
        """Tell the followers of a story about what this ingest added or updated; a failure here is logged and
        never fails the ingest (the articles are stored)."""
        if not (report.added or report.updated):
            return
        try:
            queue_followers(
                report, self.store, self.follows, lambda: self.retriever.lexical.current().idf,
                self.settings.follow_threshold,
            )  # fmt: skip
        except Exception:  # noqa: BLE001 (the ingest succeeded; only the notifications are lost)
            log.exception("matching new articles against followed topics failed")

    def remove(self, article_ids: Sequence[str]) -> int:
        with self.disk_errors():
            with self.writing():
                removed = self.store.remove(article_ids)
            self._read_own_writes()
        return removed

    def _read_own_writes(self) -> None:
        """The process that wrote answers from its writes at once; others catch up within a second or so."""
        if "retriever" in self.__dict__:  # nothing to refresh if this process never searched
            self.retriever.refresh()
