"""How chunks and articles are kept in Chroma metadata, and read back: the one mapping between the domain
dataclasses and Chroma's flat records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vectorstore.filters import date_int
from vectorstore.models import Article, Chunk, StoredArticle
from vectorstore.recency import parse_date


def chunk_metadata(chunk: Chunk, written_at: float) -> dict[str, Any]:
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


def live_article(chunk_id: str, catalog: Mapping[str, StoredArticle]) -> StoredArticle | None:
    """The article whose live version a chunk id (`article::version::position`, see `chunk_id`) belongs to;
    None for a chunk of a dead version or of no article."""
    parts = chunk_id.rsplit("::", 2)
    if len(parts) != 3:
        return None
    article_id, version, _position = parts
    live = catalog.get(article_id)
    return live if live is not None and live.version == version else None


def chunk_from(text: str, meta: dict[str, Any]) -> Chunk:
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


def stored_from(article_id: str, meta: dict[str, Any]) -> StoredArticle:
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
        sentences=bool(meta.get("sentences", False)),
    )


def article_metadata(
    article: Article, version: str, chunks: int, ingested_at: str, sentences: bool = False
) -> dict[str, Any]:
    """An article's manifest record: its live version, chunk count, whether its sentence vectors are kept
    (`vectorstore/sentences.py`) and what the catalog shows."""
    meta: dict[str, Any] = {
        "kind": "article",
        "title": article.title,
        "version": version,
        "chunks": chunks,
        "origin": article.origin,
        "ingested_at": ingested_at,
        "from_summary": article.from_summary,  # always sent: an upsert keeps keys it is not given
        "sentences": sentences,  # always sent too: a version written without them must not inherit the flag
    }
    for key in ("url", "date", "source", "author"):
        value = getattr(article, key)
        if value:
            meta[key] = value
    return meta
