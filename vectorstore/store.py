"""The article store on Chroma: chunks with embeddings, and a manifest that makes replacement atomic.

Chroma has no transactions, so an article's chunks are written under a new *version* id first and the manifest
record that names the live version is flipped afterwards. Readers only see chunks of the live version. A crash
before the flip leaves the old version live; a crash after it leaves the new one; leftover chunks of a dead
version are invisible and are collected later. A change token in the manifest lets every process (and the
lexical index) notice other processes' writes with one cheap read.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import httpx

from vectorstore.errors import InvalidFilterError, ModelMismatchError, StoreError
from vectorstore.models import Article, Chunk, StoredArticle
from vectorstore.recency import parse_date

log = logging.getLogger(__name__)

META_ID = "__newsbot_meta__"
_PAGE = 2000


def _meta_record() -> dict[str, Any]:
    return {"kind": "meta", "token": uuid.uuid4().hex}


_F = TypeVar("_F", bound=Callable[..., Any])


def _guard(func: _F) -> _F:
    """A Chroma server that stops answering becomes a StoreError (one line in the CLI), not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except httpx.TransportError as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise StoreError(f"lost the connection to the Chroma server ({reason}); is it running?") from exc

    return wrapper  # type: ignore[return-value]


class _Guarded:
    """A Chroma collection whose calls raise StoreError when the server is unreachable."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._collection, name)
        return _guard(value) if callable(value) else value


@dataclass(frozen=True)
class Filters:
    """Optional metadata filters. A date may be given as a `datetime.date` or an ISO date string; it is checked
    and kept as 'YYYY-MM-DD' (InvalidFilterError if it names no real day), so every comparison is exact."""

    source: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value: str | date | None = getattr(self, name)
            if value is None or value == "":
                object.__setattr__(self, name, None)
                continue
            day = value if isinstance(value, date) else parse_date(value)
            if day is None:
                raise InvalidFilterError(f"not a date: {value!r} (expected YYYY-MM-DD)")
            object.__setattr__(self, name, day.isoformat())

    def chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.source:
            clauses.append({"source": self.source})
        if self.date_from:
            clauses.append({"date_int": {"$gte": date_int(self.date_from)}})
        if self.date_to:
            clauses.append({"date_int": {"$lte": date_int(self.date_to)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, item: Chunk | StoredArticle) -> bool:
        if self.source and item.source != self.source:
            return False
        if not (self.date_from or self.date_to):
            return True
        day = parse_date(item.date)
        if day is None:  # undated, or a date that names no day: outside every date range
            return False
        iso = day.isoformat()
        if self.date_from and iso < self.date_from:
            return False
        return not (self.date_to and iso > self.date_to)

    @property
    def empty(self) -> bool:
        return not (self.source or self.date_from or self.date_to)


def date_int(iso: str | date) -> int:
    """YYYYMMDD of a real day (the form Chroma filters compare); InvalidFilterError for anything else."""
    day = iso if isinstance(iso, date) else parse_date(iso)
    if day is None:
        raise InvalidFilterError(f"not a date: {iso!r} (expected YYYY-MM-DD)")
    return day.year * 10_000 + day.month * 100 + day.day


def _chunk_metadata(chunk: Chunk, written_at: float) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "article_id": chunk.article_id,
        "version": chunk.version,
        "position": chunk.position,
        "start": chunk.start,
        "end": chunk.end,
        "title": chunk.title,
        "written_at": written_at,
    }
    for key in ("url", "date", "source", "language"):
        value = getattr(chunk, key)
        if value:
            meta[key] = value
    day = parse_date(chunk.date)
    if day is not None:  # a date naming no day is stored but matches no date filter, as in `Filters.accepts`
        meta["date_int"] = date_int(day)
    return meta


def _live_article(chunk_id: str, catalog: Mapping[str, StoredArticle]) -> StoredArticle | None:
    """The article whose live version a chunk id (`article::version::position`, see `chunk_id`) belongs to;
    None for a chunk of a dead version or of no article."""
    parts = chunk_id.rsplit("::", 2)
    if len(parts) != 3:
        return None
    article_id, version, _position = parts
    live = catalog.get(article_id)
    return live if live is not None and live.version == version else None


def _chunk_from(text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        article_id=meta["article_id"],
        version=meta["version"],
        position=int(meta["position"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text,
        title=meta.get("title", ""),
        url=meta.get("url"),
        date=meta.get("date"),
        source=meta.get("source"),
        language=meta.get("language"),
    )


def _stored_from(article_id: str, meta: dict[str, Any]) -> StoredArticle:
    return StoredArticle(
        id=article_id,
        title=meta.get("title", ""),
        version=meta["version"],
        chunks=int(meta.get("chunks", 0)),
        url=meta.get("url"),
        date=meta.get("date"),
        source=meta.get("source"),
        origin=meta.get("origin", ""),
        ingested_at=meta.get("ingested_at", ""),
        from_summary=bool(meta.get("from_summary", False)),
        checked_at=meta.get("checked_at", ""),
    )


class ArticleStore:
    """Chunks and manifest of one collection; thread-safe (Chroma's client is) and cheap to share."""

    def __init__(self, client: Any, collection: str, embedding_model: str, dimension: int) -> None:
        self._client = client
        self.collection_name = collection
        self._chunks = _guard(client.get_or_create_collection)(
            collection,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedding_model": embedding_model, "dimension": dimension},
        )
        stored_model = (self._chunks.metadata or {}).get("embedding_model")
        if stored_model and stored_model != embedding_model:
            raise ModelMismatchError(
                f"collection {collection!r} was built with the embedding model {stored_model!r}, "
                f"but {embedding_model!r} is configured (NEWSBOT_MULTILINGUAL, NEWSBOT_EMBEDDING_MODEL); configure "
                f"that model again, or set NEWSBOT_COLLECTION to a new collection and ingest the coverage there"
            )
        manifest = _guard(client.get_or_create_collection)(f"{collection}-articles", embedding_function=None)
        self._manifest = _Guarded(manifest)
        self._chunks = _Guarded(self._chunks)
        self._max_batch = int(_guard(getattr(client, "get_max_batch_size", lambda: 5000))())
        self._cache_lock = threading.Lock()
        self._catalog: dict[str, StoredArticle] | None = None
        self._catalog_token: str | None = None
        self._catalog_checked_at = 0.0
        self.read_max_age_s = 1.0  # how stale the catalog may be on the question path (dense_search)

    # ---- change detection -------------------------------------------------------------------------------

    def token(self) -> str:
        """Changes on every committed write by any process.

        The meta record's random token moves in the same Chroma call that flips articles live, so a writer
        killed right after a flip cannot leave the flip unannounced; the manifest's record count moves in the
        same call that removes articles, for the same reason.
        """
        got = self._manifest.get(ids=[META_ID], include=["metadatas"])
        metas = got.get("metadatas") or []
        token = str(metas[0].get("token", "")) if metas and metas[0] else ""
        return f"{token}:{self._manifest.count()}"

    def _bump(self) -> None:
        self._manifest.upsert(ids=[META_ID], embeddings=[[1.0]], metadatas=[_meta_record()])

    # ---- manifest -----------------------------------------------------------------------------------------

    def catalog(self, max_age_s: float = 0.0) -> dict[str, StoredArticle]:
        """Every live article by id, cached until the change token moves.

        With `max_age_s`, a cached catalog whose token was checked less than that long ago is returned
        without asking Chroma (the question path: other processes' writes show within that delay, like the
        lexical index's; this process's own writes drop the cache at once).
        """
        with self._cache_lock:
            fresh = time.monotonic() - self._catalog_checked_at < max_age_s
            if self._catalog is not None and fresh:
                return self._catalog
        token = self.token()
        checked_at = time.monotonic()
        with self._cache_lock:
            if self._catalog is not None and token == self._catalog_token:
                self._catalog_checked_at = checked_at
                return self._catalog
        catalog: dict[str, StoredArticle] = {}
        offset = 0
        while True:
            page = self._manifest.get(
                where={"kind": "article"}, include=["metadatas"], limit=_PAGE, offset=offset
            )
            ids = page["ids"]
            for article_id, meta in zip(ids, page["metadatas"] or [], strict=True):
                catalog[article_id] = _stored_from(article_id, meta)
            if len(ids) < _PAGE:
                break
            offset += _PAGE
        with self._cache_lock:
            self._catalog, self._catalog_token, self._catalog_checked_at = catalog, token, checked_at
        return catalog

    def _forget_catalog(self) -> None:
        with self._cache_lock:
            self._catalog, self._catalog_token, self._catalog_checked_at = None, None, 0.0

    def article_text(self, article_id: str) -> str | None:
        got = self._manifest.get(ids=[article_id], include=["documents"])
        docs = got.get("documents") or []
        return docs[0] if docs else None

    # ---- writes -------------------------------------------------------------------------------------------

    def commit(self, items: Sequence[tuple[Article, Sequence[Chunk], Sequence[Sequence[float]]]]) -> None:
        """Write new versions of articles: chunks first, then the manifest flip, then old versions go."""
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
            for chunk, vector in zip(chunks, embeddings, strict=True):
                ids.append(chunk.id)
                docs.append(chunk.text)
                metas.append(_chunk_metadata(chunk, now))
                vectors.append(vector)
        for i in range(0, len(ids), self._max_batch):
            sl = slice(i, i + self._max_batch)
            self._chunks.upsert(ids=ids[sl], documents=docs[sl], metadatas=metas[sl], embeddings=vectors[sl])

        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        m_ids, m_docs, m_metas = [], [], []
        for article, chunks, _ in items:
            version = chunks[0].version if chunks else article.content_hash()
            meta: dict[str, Any] = {
                "kind": "article",
                "title": article.title,
                "version": version,
                "chunks": len(chunks),
                "origin": article.origin,
                "ingested_at": stamp,
                "from_summary": article.from_summary,  # always sent: an upsert keeps keys it is not given
            }
            for key in ("url", "date", "source", "author"):
                value = getattr(article, key)
                if value:
                    meta[key] = value
            m_ids.append(article.id)
            m_docs.append(article.text)
            m_metas.append(meta)
        replaced = self._live_versions(m_ids)
        step = self._max_batch - 1
        for i in range(0, len(m_ids), step):
            sl = slice(i, i + step)
            # The change token rides in the same call as the flip: Chroma applies one call as one log record.
            self._manifest.upsert(
                ids=[*m_ids[sl], META_ID],
                documents=[*m_docs[sl], ""],
                metadatas=[*m_metas[sl], _meta_record()],
                embeddings=[[1.0]] * (len(m_ids[sl]) + 1),
            )
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
            self._chunks.delete(where={"$and": [{"article_id": article_id}, {"version": version}]})
        if stale:
            self._bump()  # a reader that scanned while chunks were deleted rebuilds once more

    def mark_checked(self, stamps: Mapping[str, datetime]) -> None:
        """Record, per live article, the feed's updated date up to which it was fetched again and found unchanged,
        so an entry stamped later than its storing is not fetched on every poll. Metadata only: readers see
        nothing change."""
        ids = [a for a in stamps if a != META_ID]
        for i in range(0, len(ids), self._max_batch):
            sl = ids[i : i + self._max_batch]
            metas = [{"checked_at": stamps[a].astimezone(UTC).isoformat(timespec="seconds")} for a in sl]
            self._manifest.update(ids=sl, metadatas=metas)
        if ids:
            self._forget_catalog()

    def _live_versions(self, article_ids: Sequence[str]) -> dict[str, str]:
        """The live version of each of these articles that has one, read from the manifest now (no cache)."""
        out: dict[str, str] = {}
        for i in range(0, len(article_ids), self._max_batch):
            got = self._manifest.get(ids=list(article_ids[i : i + self._max_batch]), include=["metadatas"])
            for article_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                if meta and meta.get("kind") == "article":
                    out[article_id] = str(meta["version"])
        return out

    def remove(self, article_ids: Sequence[str]) -> int:
        """Remove articles; the manifest goes first, so a crash leaves only invisible chunks behind.

        Only the removed live versions are deleted: chunks another writer is about to flip live stay whole,
        and dead leftovers are collect_garbage()'s job.
        """
        removed = self._live_versions([a for a in dict.fromkeys(article_ids) if a != META_ID])
        if not removed:
            return 0
        self._manifest.delete(ids=list(removed))  # moves the token (the manifest count) in the same call
        self._forget_catalog()
        for article_id, version in removed.items():
            self._chunks.delete(where={"$and": [{"article_id": article_id}, {"version": version}]})
        self._bump()
        return len(removed)

    def collect_garbage(self, grace_seconds: float) -> int:
        """Delete chunks of versions that are not live (left by a crash), older than the grace period.

        The grace period protects chunks another writer has written but not yet committed.
        """
        catalog = self.catalog()
        cutoff = time.time() - grace_seconds
        dead: list[str] = []
        for chunk_id, meta in self._scan(include=["metadatas"]):
            live = catalog.get(meta["article_id"])
            if (live is None or live.version != meta["version"]) and float(meta.get("written_at", 0)) <= cutoff:
                dead.append(chunk_id)
        for i in range(0, len(dead), self._max_batch):
            self._chunks.delete(ids=dead[i : i + self._max_batch])
        return len(dead)

    # ---- reads --------------------------------------------------------------------------------------------

    def _scan(self, include: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        offset = 0
        while True:
            page = self._chunks.get(include=include, limit=_PAGE, offset=offset)
            yield from zip(page["ids"], page["metadatas"] or [], strict=True)
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    def live_chunks(self) -> list[Chunk]:
        """Every chunk of every live article version (for the lexical index).

        Pages by offset, and a delete by another process during the scan shifts the offsets, so a page can
        skip rows. Every article is therefore checked against its manifest chunk count, and an article that
        came up short is read again by a filter, which no concurrent delete can skew.
        """
        catalog = self.catalog()
        found: dict[str, dict[int, Chunk]] = {}
        offset = 0
        while True:
            page = self._chunks.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            for doc, meta in zip(page["documents"] or [], page["metadatas"] or [], strict=True):
                live = catalog.get(meta["article_id"])
                if live is not None and live.version == meta["version"]:
                    found.setdefault(live.id, {})[int(meta["position"])] = _chunk_from(doc, meta)
            if len(page["ids"]) < _PAGE:
                break
            offset += _PAGE
        short = [a for a in catalog.values() if len(found.get(a.id, ())) != a.chunks]
        for article in short:
            found[article.id] = {c.position: c for c in self._chunks_of_version(article.id, article.version)}
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
        return self._chunks_of_version(article_id, live.version)

    def chunks_of_versions(self, versions: Mapping[str, str], batch: int = 100) -> list[Chunk]:
        """The chunks of these article versions (article id -> version), by article and position, read `batch`
        articles at a time: the lexical index reads only what changed, and one read per article would cost a
        round trip each in server mode."""
        ids = list(versions)
        out: list[Chunk] = []
        for i in range(0, len(ids), batch):
            got = self._chunks.get(
                where={"article_id": {"$in": ids[i : i + batch]}}, include=["documents", "metadatas"]
            )
            for doc, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=True):
                if versions.get(meta["article_id"]) == meta["version"]:  # not another version's leftovers
                    out.append(_chunk_from(doc, meta))
        return sorted(out, key=lambda c: (c.article_id, c.position))

    def _chunks_of_version(self, article_id: str, version: str) -> list[Chunk]:
        got = self._chunks.get(
            where={"$and": [{"article_id": article_id}, {"version": version}]},
            include=["documents", "metadatas"],
        )
        chunks = [_chunk_from(d, m) for d, m in zip(got["documents"] or [], got["metadatas"] or [], strict=True)]
        return sorted(chunks, key=lambda c: c.position)

    def dense_search(
        self,
        embedding: Sequence[float],
        k: int,
        filters: Filters | None = None,
        known: Mapping[str, Chunk] | None = None,
    ) -> list[tuple[Chunk, float]]:
        """Nearest live chunks with cosine similarity; over-fetches to skip invisible dead versions.

        Chroma is asked for ids and distances only: a chunk id names its article and version, which is all
        the liveness check needs, and reading metadata and documents for every candidate cost more than the
        vector search itself (~0.2 ms per row in embedded Chroma, 2 ms for the search at 10k chunks). Texts
        come from `known` (the lexical index holds every live chunk; an id is content-addressed, so the
        same id means the same text) and the few it lacks from one `get`. Asking for more results than the
        collection holds is fine (Chroma returns what there is), so there is no count first.
        """
        if k <= 0:
            return []
        catalog = self.catalog(max_age_s=self.read_max_age_s)
        if not catalog:
            return []
        live: list[tuple[str, float]] = []
        if filters is not None and not filters.empty:
            # Chroma's filtered search scans metadata (~300 ms at 73k chunks against ~6 ms unfiltered), so
            # first filter an over-fetched unfiltered result by the catalog, and ask Chroma to filter only
            # when the filter is too selective for that.
            live = self._live_neighbours(embedding, 4 * (k + 8), catalog, filters)[0][:k]
        if len(live) < k:
            where = filters.chroma_where() if filters else None
            n = k + 8
            while True:
                live, returned = self._live_neighbours(embedding, n, catalog, None, where)
                if len(live) >= k or returned < n:
                    break
                n *= 4
            live = live[:k]
        known = known or {}
        fetched: dict[str, Chunk] = {}
        missing = [chunk_id for chunk_id, _ in live if chunk_id not in known]
        if missing:
            got = self._chunks.get(ids=missing, include=["documents", "metadatas"])
            rows = zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
            fetched = {chunk_id: _chunk_from(doc, meta) for chunk_id, doc, meta in rows}
        out = []
        for chunk_id, sim in live:
            chunk = known.get(chunk_id) or fetched.get(chunk_id)
            if chunk is not None:  # None: deleted between the query and the get (replaced meanwhile)
                out.append((chunk, sim))
        return out

    def _live_neighbours(
        self,
        embedding: Sequence[float],
        n: int,
        catalog: Mapping[str, StoredArticle],
        filters: Filters | None,
        where: dict[str, Any] | None = None,
    ) -> tuple[list[tuple[str, float]], int]:
        """The live ones (of articles `filters` accepts, if given) among the `n` nearest chunk ids, with their
        similarities, and how many ids Chroma returned (fewer than `n`: there are no more)."""
        res = self._chunks.query(query_embeddings=[list(embedding)], n_results=n, where=where, include=["distances"])
        ids, distances = res["ids"][0], res["distances"][0]
        live = []
        for chunk_id, dist in zip(ids, distances, strict=True):
            article = _live_article(chunk_id, catalog)
            if article is not None and (filters is None or filters.accepts(article)):
                live.append((chunk_id, 1.0 - float(dist)))
        return live, len(ids)

    def chunk_count(self) -> int:
        return int(self._chunks.count())

    def drop(self) -> None:
        """Delete both collections (tests and `newsbot reset`)."""
        self._client.delete_collection(self.collection_name)
        self._client.delete_collection(f"{self.collection_name}-articles")
