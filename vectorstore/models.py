"""Domain objects that are stored and retrieved."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """One news article as ingested: clean body text plus what is known about it."""

    id: str
    title: str
    text: str
    url: str | None = None
    date: str | None = None  # ISO 8601 date (YYYY-MM-DD) when known
    source: str | None = None  # outlet or site name
    author: str | None = None
    origin: str = ""  # what it was ingested from (a path or URL); `--prune` works per origin
    # Built from a feed's summary because the entry's page failed: its page is fetched again on the next read.
    from_summary: bool = False

    def content_hash(self) -> str:
        """Hash of everything that ends up in the store, so a metadata edit counts as a change too."""
        h = hashlib.sha256()
        for part in (self.title, self.text, self.url, self.date, self.source, self.author):
            h.update((part or "").encode("utf-8"))
            h.update(b"\x1f")
        return h.hexdigest()[:16]


@dataclass(frozen=True)
class Chunk:
    """A passage of an article; `start`/`end` are character offsets into `Article.text`."""

    article_id: str
    version: str
    position: int
    start: int
    end: int
    text: str
    title: str
    url: str | None = None
    date: str | None = None
    source: str | None = None
    language: str | None = None  # ISO 639-1, detected at ingest (vectorstore.analysis); None in older stores

    @property
    def id(self) -> str:
        return chunk_id(self.article_id, self.version, self.position)


def chunk_id(article_id: str, version: str, position: int) -> str:
    return f"{article_id}::{version}::{position}"


@dataclass(frozen=True)
class StoredArticle:
    """The manifest record of an article: the version that readers see is the one named here."""

    id: str
    title: str
    version: str
    chunks: int
    url: str | None = None
    date: str | None = None
    source: str | None = None
    origin: str = ""
    ingested_at: str = ""
    from_summary: bool = False
    checked_at: str = ""  # a feed's updated date up to which it was found unchanged (see ArticleStore.mark_checked)
    sentences: bool = False  # its sentence vectors are kept (vectorstore/sentences.py); False in older stores


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the evidence of why it was retrieved."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    extra: dict[str, float] = field(default_factory=dict)
