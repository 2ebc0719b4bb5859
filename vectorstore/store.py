"""The article store on Chroma: chunks with embeddings, and a manifest that makes replacement atomic.

Chroma has no transactions, so an article's chunks are written under a new *version* id first and the manifest
record that names the live version is flipped afterwards (`vectorstore/manifest.py`). Readers only see chunks of
the live version. A crash before the flip leaves the old version live; a crash after it leaves the new one;
leftover chunks of a dead version are invisible and are collected later. A change token in the manifest lets
every process (and the lexical index) notice other processes' writes with one cheap read. How records map to
Chroma metadata is `vectorstore/metadata.py`; dense search, `vectorstore/dense.py`. Where the configuration
reads them, the vectors of the chunks' sentences are kept beside them, written and deleted with their version
(`vectorstore/sentences.py`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from vectorstore.dense import dense_search
from vectorstore.errors import ModelMismatchError, StoreError
from vectorstore.filters import Filters
from vectorstore.guard import GuardedCollection, guard
from vectorstore.journal import Entry, Journal
from vectorstore.manifest import META_ID, PAGE, Manifest
from vectorstore.metadata import article_metadata, chunk_from, chunk_metadata
from vectorstore.models import Article, Chunk, StoredArticle, chunk_id
from vectorstore.sentences import SUFFIX as SENTENCES_SUFFIX
from vectorstore.sentences import Sentence, SentenceVectorStore

CATALOG_OVERLAP_NS = 60 * 1_000_000_000  # see `catalog`

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeptSentences:
    """The sentence vectors a commit keeps for its articles (`vectorstore/sentences.py`): every sentence of their
    chunks, each once, with the embedder's vector. Given, even empty, the articles are marked as having them."""

    sentences: Sequence[Sentence]
    vectors: Sequence[Sequence[float]]


def _model_collection(client: Any, name: str, embedding_model: str, dimension: int) -> Any:
    """A collection of this model's vectors, created if need be; ModelMismatchError if another model's."""
    collection = guard(client.get_or_create_collection)(
        name,
        embedding_function=None,
        configuration={"hnsw": {"space": "cosine"}},
        metadata={"embedding_model": embedding_model, "dimension": dimension},
    )
    stored_model = (collection.metadata or {}).get("embedding_model")
    if stored_model and stored_model != embedding_model:
        raise ModelMismatchError(
            f"collection {name!r} was built with the embedding model {stored_model!r}, "
            f"but {embedding_model!r} is configured (NEWSBOT_MULTILINGUAL, NEWSBOT_EMBEDDING_MODEL); configure "
            f"that model again, or set NEWSBOT_COLLECTION to a new collection and ingest the coverage there"
        )
    return collection


class ArticleStore:
    """Chunks and manifest of one collection; thread-safe (Chroma's client is) and cheap to share."""

    def __init__(self, client: Any, collection: str, embedding_model: str, dimension: int) -> None:
        self._client = client
        self.collection_name = collection
        self._chunks = _model_collection(client, collection, embedding_model, dimension)
        # The sentence vectors (vectorstore/sentences.py) are the same model's: never two models' in one collection.
        # Opened after the chunks' check, so a store opened with the wrong model gets no collection of that model.
        sentences = _model_collection(client, f"{collection}{SENTENCES_SUFFIX}", embedding_model, dimension)
        manifest = guard(client.get_or_create_collection)(f"{collection}-articles", embedding_function=None)
        self._chunks = GuardedCollection(self._chunks)
        self._max_batch = int(guard(getattr(client, "get_max_batch_size", lambda: 5000))())
        self._sentences = SentenceVectorStore(GuardedCollection(sentences), self._max_batch)
        self._manifest = Manifest(GuardedCollection(manifest), self._max_batch)
        journal = guard(client.get_or_create_collection)(f"{collection}-journal", embedding_function=None)
        self._journal = Journal(GuardedCollection(journal), self._max_batch)
        self._cache_lock = threading.Lock()
        self._catalog: dict[str, StoredArticle] | None = None
        self._catalog_token: str | None = None
        self._catalog_checked_at = 0.0
        self._catalog_read_at = 0  # time.time_ns() when the cached catalog's records were read
        self.read_max_age_s = 1.0  # how stale the catalog may be on the question path (dense_search)

    # ---- change detection -------------------------------------------------------------------------------

    def token(self) -> str:
        """Changes on every committed write by any process (see `Manifest.token`)."""
        return self._manifest.token()

    # ---- manifest -----------------------------------------------------------------------------------------

    def catalog(self, max_age_s: float = 0.0) -> dict[str, StoredArticle]:
        """Every live article by id, cached until the change token moves, then brought up to date by reading
        only the manifest records written since the last read (`Manifest.changed_since`).

        With `max_age_s`, a cached catalog whose token was checked less than that long ago is returned
        without asking Chroma (the question path: other processes' writes show within that delay, like the
        lexical index's; this process's own writes are read at its next call).
        """
        with self._cache_lock:
            fresh = time.monotonic() - self._catalog_checked_at < max_age_s
            if self._catalog is not None and fresh:
                return self._catalog
        token = self.token()  # before the records: a write landing meanwhile moves it again, so none is missed
        checked_at = time.monotonic()
        with self._cache_lock:
            if self._catalog is not None and token == self._catalog_token:
                self._catalog_checked_at = checked_at
                return self._catalog
            base, read_at = self._catalog, self._catalog_read_at
        started = time.time_ns()
        if base is None:
            catalog = self._manifest.articles()
        else:
            # Records are stamped when written, not when their write commits, and writers may run on other
            # machines: reading back CATALOG_OVERLAP_NS covers a write in flight and clocks that disagree.
            changed, removed = self._manifest.changed_since(read_at - CATALOG_OVERLAP_NS)
            catalog = {a: stored for a, stored in base.items() if a not in removed}
            catalog.update(changed)
        with self._cache_lock:
            self._catalog, self._catalog_token, self._catalog_checked_at = catalog, token, checked_at
            self._catalog_read_at = started
        return catalog

    def _forget_catalog(self) -> None:
        """After this process's own write: the next `catalog` reads what changed, whatever `max_age_s`."""
        with self._cache_lock:
            self._catalog_token, self._catalog_checked_at = None, 0.0

    def article_text(self, article_id: str) -> str | None:
        return self._manifest.text(article_id)

    # ---- writes -------------------------------------------------------------------------------------------

    def commit(
        self,
        items: Sequence[tuple[Article, Sequence[Chunk], Sequence[Sequence[float]]]],
        sentences: KeptSentences | None = None,
    ) -> None:
        """Write new versions of articles: chunks (and `sentences`' vectors) first, then the manifest flip, then old
        versions go, their sentences with them."""
        if not items:
            return
        now = time.time()
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        vectors: list[Sequence[float]] = []
        for _article, chunks, embeddings in items:
            if len(chunks) != len(embeddings):
                raise StoreError("chunks and embeddings differ in number")
        # Opened before the first chunk is written, closed once the replaced chunks are gone (see journal.py).
        entries: list[Entry] = [(a.id, chunks[0].version if chunks else a.content_hash()) for a, chunks, _ in items]
        if sentences is not None and {(s.article_id, s.version) for s in sentences.sentences} - set(entries):
            raise StoreError("sentences of versions this commit does not write")  # the journal would not cover them
        self._journal.open(entries, now)
        for _article, chunks, embeddings in items:
            for chunk, vector in zip(chunks, embeddings, strict=True):
                ids.append(chunk.id)
                docs.append(chunk.text)
                metas.append(chunk_metadata(chunk, now))
                vectors.append(vector)
        for i in range(0, len(ids), self._max_batch):
            sl = slice(i, i + self._max_batch)
            self._chunks.upsert(ids=ids[sl], documents=docs[sl], metadatas=metas[sl], embeddings=vectors[sl])
        if sentences is not None:
            self._sentences.write(sentences.sentences, sentences.vectors, now)

        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        m_ids, m_docs, m_metas = [], [], []
        for article, chunks, _ in items:
            version = chunks[0].version if chunks else article.content_hash()
            m_ids.append(article.id)
            m_docs.append(article.text)
            m_metas.append(article_metadata(article, version, len(chunks), stamp, sentences is not None))
        replaced = self._manifest.live_versions(m_ids)
        self._manifest.flip(m_ids, m_docs, m_metas)
        self._forget_catalog()  # this process reads its own flip at once
        # Delete exactly the versions this commit replaced. Not "every other version": in server mode another
        # writer may have written chunks of a newer version it has not flipped yet, and they must survive.
        # Dead versions left by crashed writers are collect_garbage()'s job.
        stale = [
            (article_id, replaced[article_id])
            for article_id, meta in zip(m_ids, m_metas, strict=True)
            if replaced.get(article_id) not in (None, meta["version"])
        ]
        for article_id, version in stale:
            self._delete_version(article_id, version)
        if stale:
            self._manifest.bump()  # a reader that scanned while chunks were deleted rebuilds once more
        self._journal.close(entries)

    def keep_sentences(self, articles: Sequence[StoredArticle], sentences: KeptSentences) -> list[str]:
        """Add the sentence vectors of live versions stored without them (before they were kept, or by an ingest
        under the default configuration) and mark those articles; the ids marked.

        Journaled like a commit, so a crash leaves nothing `collect_garbage` misses. A version another writer
        replaced or removed meanwhile loses them again at once. Chroma has no compare-and-set: a version flipped
        live between the check and the mark would be marked without them, which costs its questions embedding
        time, never a wrong answer (the reader embeds what it does not find).
        """
        entries: list[Entry] = [(a.id, a.version) for a in articles]
        if {(s.article_id, s.version) for s in sentences.sentences} - set(entries):
            raise StoreError("sentences of versions not being filled")
        if not entries:
            return []
        now = time.time()
        self._journal.open(entries, now)
        self._sentences.write(sentences.sentences, sentences.vectors, now)
        live = self._manifest.live_versions([a.id for a in articles])
        for article in articles:
            if live.get(article.id) != article.version:
                self._sentences.delete_version(article.id, article.version)
        marked = [a.id for a in articles if live.get(a.id) == a.version]
        self._manifest.mark_sentences(marked)
        self._forget_catalog()
        self._journal.close(entries)
        return marked

    def mark_checked(self, stamps: Mapping[str, datetime]) -> None:
        """Record, per live article, the feed's updated date up to which it was fetched again and found unchanged,
        so an entry stamped later than its storing is not fetched on every poll. Metadata only: readers see
        nothing change."""
        if self._manifest.mark_checked(stamps):
            self._forget_catalog()

    def remove(self, article_ids: Sequence[str]) -> int:
        """Remove articles; the manifest goes first, so a crash leaves only invisible chunks behind.

        Only the removed live versions are deleted: chunks another writer is about to flip live stay whole,
        and dead leftovers are collect_garbage()'s job.
        """
        removed = self._manifest.live_versions([a for a in dict.fromkeys(article_ids) if a != META_ID])
        if not removed:
            return 0
        entries = list(removed.items())
        self._journal.open(entries, time.time())
        self._manifest.delete(list(removed))  # moves the token (the manifest count) in the same call
        self._forget_catalog()
        for article_id, version in removed.items():
            self._delete_version(article_id, version)
        self._manifest.bump()
        self._journal.close(entries)
        return len(removed)

    def _delete_version(self, article_id: str, version: str) -> None:
        """A replaced or removed version's chunks, then its sentence vectors (after: a sentence never outlives
        its chunk, and a crash in between leaves the journal entry open for `collect_garbage`)."""
        self._chunks.delete(where={"$and": [{"article_id": article_id}, {"version": version}]})
        self._sentences.delete_version(article_id, version)

    def collect_garbage(self, grace_seconds: float) -> int:
        """Delete what killed writers left: chunks (and sentence vectors) of the articles in their open journal
        entries that are not the live version (all of them for an article no longer live), written before the
        grace period.

        The grace period protects chunks another writer has written but not yet committed. Reads only the
        journal and those articles' chunks, never the whole collection.
        """
        cutoff = time.time() - grace_seconds
        entries = self._journal.opened_before(cutoff)
        if not entries:
            return 0
        articles = sorted({article_id for article_id, _ in entries})
        live = self._manifest.live_versions(articles)
        dead: list[str] = []
        for article_id in articles:
            where: list[dict[str, Any]] = [{"article_id": article_id}, {"written_at": {"$lte": cutoff}}]
            if article_id in live:
                where.append({"version": {"$ne": live[article_id]}})
            dead += self._chunks.get(where={"$and": where}, include=[])["ids"]
        for i in range(0, len(dead), self._max_batch):
            self._chunks.delete(ids=dead[i : i + self._max_batch])
        for article_id in articles:
            self._sentences.delete(self._sentences.dead(article_id, live.get(article_id), cutoff))
        self._journal.close(entries)
        return len(dead)

    # ---- reads --------------------------------------------------------------------------------------------

    def live_chunks(self) -> list[Chunk]:
        """Every chunk of every live article version (for the lexical index).

        Pages by offset, and a delete by another process during the scan shifts the offsets, so a page can
        skip rows. Every article is therefore checked against its manifest chunk count, and an article that
        came up short is read again by its chunk ids, which no concurrent delete can skew.
        """
        catalog = self.catalog()
        found: dict[str, dict[int, Chunk]] = {}
        offset = 0
        while True:
            page = self._chunks.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
            for doc, meta in zip(page["documents"] or [], page["metadatas"] or [], strict=True):
                live = catalog.get(meta["article_id"])
                if live is not None and live.version == meta["version"]:
                    found.setdefault(live.id, {})[int(meta["position"])] = chunk_from(doc, meta)
            if len(page["ids"]) < PAGE:
                break
            offset += PAGE
        short = [a for a in catalog.values() if len(found.get(a.id, ())) != a.chunks]
        for article in short:
            found[article.id] = {c.position: c for c in self.chunks_of_versions([article])}
            if len(found[article.id]) != article.chunks:
                have = len(found[article.id])
                log.warning("article %s has %d of its %d chunks in Chroma", article.id, have, article.chunks)
        out = [chunk for by_position in found.values() for chunk in by_position.values()]
        out.sort(key=lambda c: (c.article_id, c.position))
        return out

    def chunks_of(self, article_id: str) -> list[Chunk]:
        live = self.catalog().get(article_id)
        if live is None:
            return []
        return self.chunks_of_versions([live])

    def chunks_of_versions(self, articles: Sequence[StoredArticle]) -> list[Chunk]:
        """The chunks of these article versions, by article and position, read by id (a chunk id names its
        article, version and position, and the manifest counts each version's chunks). The cost follows the
        articles asked for: a metadata filter instead makes Chroma scan the collection (~5 s for two articles
        at 244k chunks), which every process's lexical update and every follow match would pay."""
        wanted = [chunk_id(a.id, a.version, position) for a in articles for position in range(a.chunks)]
        out: list[Chunk] = []
        for i in range(0, len(wanted), self._max_batch):
            got = self._chunks.get(ids=wanted[i : i + self._max_batch], include=["documents", "metadatas"])
            out.extend(chunk_from(d, m) for d, m in zip(got["documents"] or [], got["metadatas"] or [], strict=True))
        return sorted(out, key=lambda c: (c.article_id, c.position))

    def embeddings_of(self, chunk_ids: Sequence[str], batch: int = 1000) -> dict[str, list[float]]:
        """The stored vectors of these chunks (ids as `Chunk.id`), read in batches: what was just ingested can be
        compared with other vectors (followed topics) without embedding it again."""
        out: dict[str, list[float]] = {}
        for i in range(0, len(chunk_ids), batch):
            got = self._chunks.get(ids=list(chunk_ids[i : i + batch]), include=["embeddings"])
            vectors = got["embeddings"] if got["embeddings"] is not None else []
            for stored_id, vector in zip(got["ids"], vectors, strict=True):
                out[stored_id] = [float(x) for x in vector]
        return out

    def dense_search(
        self,
        embedding: Sequence[float],
        k: int,
        filters: Filters | None = None,
        known: Mapping[str, Chunk] | None = None,
    ) -> list[tuple[Chunk, float]]:
        """Nearest live chunks with cosine similarity (`vectorstore/dense.py`), against a catalog at most
        `read_max_age_s` old."""
        if k <= 0:
            return []
        catalog = self.catalog(max_age_s=self.read_max_age_s)
        return dense_search(self._chunks, embedding, k, catalog, filters, known)

    def sentence_vectors(self, sentence_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The kept vectors of these sentences (ids as `Sentence.id`), those that have one: one read by id."""
        return self._sentences.vectors(sentence_ids) if sentence_ids else {}

    def chunk_count(self) -> int:
        return int(self._chunks.count())

    def sentence_count(self) -> int:
        """Sentence vectors kept, live or not yet collected (tests, benchmarks)."""
        return self._sentences.count()

    def drop(self) -> None:
        """Delete the store's collections (tests and benchmarks start afresh with it; no command offers it)."""
        for suffix in ("", "-articles", "-journal", SENTENCES_SUFFIX):
            self._client.delete_collection(f"{self.collection_name}{suffix}")
