"""Dense search over live chunks: Chroma's nearest neighbours, of the versions the manifest names only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vectorstore.filters import Filters
from vectorstore.guard import GuardedCollection
from vectorstore.metadata import chunk_from, live_article
from vectorstore.models import Chunk, StoredArticle

OVERFETCH = 8  # extra neighbours asked for, for the dead versions among them
FILTER_OVERFETCH = 4  # how many times k to over-fetch before asking Chroma itself to filter


def dense_search(
    chunks: GuardedCollection,
    embedding: Sequence[float],
    k: int,
    catalog: Mapping[str, StoredArticle],
    filters: Filters | None = None,
    known: Mapping[str, Chunk] | None = None,
) -> list[tuple[Chunk, float]]:
    """The `k` nearest live chunks with cosine similarity; over-fetches to skip invisible dead versions.

    Chroma is asked for ids and distances only: a chunk id names its article and version, which is all the
    liveness check needs, and reading metadata and documents for every candidate cost more than the vector
    search itself (~0.2 ms per row in embedded Chroma, 2 ms for the search at 10k chunks). Texts come from
    `known` (the lexical index holds every live chunk; an id is content-addressed, so the same id means the same
    text) and the few it lacks from one `get`. Asking for more results than the collection holds is fine (Chroma
    returns what there is), so there is no count first.
    """
    if k <= 0 or not catalog:
        return []
    live: list[tuple[str, float]] = []
    if filters is not None and not filters.empty:
        # Chroma's filtered search scans metadata (~300 ms at 73k chunks against ~6 ms unfiltered), so first
        # filter an over-fetched unfiltered result by the catalog, and ask Chroma to filter only when the filter
        # is too selective for that.
        live = _live_neighbours(chunks, embedding, FILTER_OVERFETCH * (k + OVERFETCH), catalog, filters)[0][:k]
    if len(live) < k:
        where = filters.chroma_where() if filters else None
        n = k + OVERFETCH
        while True:
            live, returned = _live_neighbours(chunks, embedding, n, catalog, None, where)
            if len(live) >= k or returned < n:
                break
            n *= 4
        live = live[:k]
    known = known or {}
    fetched: dict[str, Chunk] = {}
    missing = [chunk_id for chunk_id, _ in live if chunk_id not in known]
    if missing:
        got = chunks.get(ids=missing, include=["documents", "metadatas"])
        rows = zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        fetched = {chunk_id: chunk_from(doc, meta) for chunk_id, doc, meta in rows}
    out = []
    for chunk_id, sim in live:
        chunk = known.get(chunk_id) or fetched.get(chunk_id)
        if chunk is not None:  # None: deleted between the query and the get (replaced meanwhile)
            out.append((chunk, sim))
    return out


def _live_neighbours(
    chunks: GuardedCollection,
    embedding: Sequence[float],
    n: int,
    catalog: Mapping[str, StoredArticle],
    filters: Filters | None,
    where: dict[str, Any] | None = None,
) -> tuple[list[tuple[str, float]], int]:
    """The live ones (of articles `filters` accepts, if given) among the `n` nearest chunk ids, with their
    similarities, and how many ids Chroma returned (fewer than `n`: there are no more)."""
    res = chunks.query(query_embeddings=[list(embedding)], n_results=n, where=where, include=["distances"])
    ids, distances = res["ids"][0], res["distances"][0]
    live = []
    for chunk_id, dist in zip(ids, distances, strict=True):
        article = live_article(chunk_id, catalog)
        if article is not None and (filters is None or filters.accepts(article)):
            live.append((chunk_id, 1.0 - float(dist)))
    return live, len(ids)
