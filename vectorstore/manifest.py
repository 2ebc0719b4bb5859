"""The version manifest: one record per live article (which version of its chunks is live, and what the catalog
shows), plus a meta record whose random token moves with every committed write.

Chroma has no transactions, so an article's chunks are written under a new version first and its manifest record
is flipped afterwards (`flip`); readers only see chunks of the version the manifest names. The token rides in
the same Chroma call as each flip and each removal, so a writer killed right after either cannot leave it
unannounced; every process notices other processes' writes with one cheap read (`token`).

Every write stamps the records it touches with `seq` (nanoseconds since the epoch), and a removal leaves a
tombstone record (kind `removed`) instead of deleting: a process that holds a catalog then reads only what
changed since its last read (`changed_since`), a few records, where reading the whole manifest costs 24-40 s at
70k articles (1M chunks) because Chroma pages by offset.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from vectorstore.guard import GuardedCollection
from vectorstore.metadata import stored_from
from vectorstore.models import StoredArticle

META_ID = "__newsbot_meta__"
PAGE = 2000  # rows per read when scanning a collection
ARTICLE, REMOVED = "article", "removed"  # record kinds: a live article, a removed one's tombstone


def _meta_record() -> dict[str, Any]:
    return {"kind": "meta", "token": uuid.uuid4().hex}


class Manifest:
    """The `<collection>-articles` collection: article records and the change token."""

    def __init__(self, collection: GuardedCollection, max_batch: int) -> None:
        self._records = collection
        self._max_batch = max_batch

    def token(self) -> str:
        """Changes on every committed write by any process."""
        got = self._records.get(ids=[META_ID], include=["metadatas"])
        metas = got.get("metadatas") or []
        token = str(metas[0].get("token", "")) if metas and metas[0] else ""
        return f"{token}:{self._records.count()}"

    def bump(self) -> None:
        """Move the token without a flip (after deleting chunks, so a reader that scanned meanwhile reads again)."""
        self._records.upsert(ids=[META_ID], embeddings=[[1.0]], metadatas=[_meta_record()])

    def articles(self) -> dict[str, StoredArticle]:
        """Every live article by id, read now."""
        return {a: stored_from(a, meta) for a, meta in self._rows({"kind": ARTICLE})}

    def changed_since(self, seq: int) -> tuple[dict[str, StoredArticle], set[str]]:
        """The live articles and the removed ones whose records were written at `seq` or later."""
        changed: dict[str, StoredArticle] = {}
        removed: set[str] = set()
        for article_id, meta in self._rows({"seq": {"$gte": seq}}):
            if meta.get("kind") == ARTICLE:
                changed[article_id] = stored_from(article_id, meta)
            elif meta.get("kind") == REMOVED:
                removed.add(article_id)
        return changed, removed

    def _rows(self, where: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The id and metadata of every record `where` selects, read in pages."""
        offset = 0
        while True:
            page = self._records.get(where=where, include=["metadatas"], limit=PAGE, offset=offset)
            ids = page["ids"]
            yield from zip(ids, page["metadatas"] or [], strict=True)
            if len(ids) < PAGE:
                return
            offset += PAGE

    def text(self, article_id: str) -> str | None:
        got = self._records.get(ids=[article_id], include=["documents", "metadatas"])
        docs, metas = got.get("documents") or [], got.get("metadatas") or []
        return docs[0] if docs and metas and (metas[0] or {}).get("kind") == ARTICLE else None

    def live_versions(self, article_ids: Sequence[str]) -> dict[str, str]:
        """The live version of each of these articles that has one, read from the manifest now (no cache)."""
        out: dict[str, str] = {}
        for i in range(0, len(article_ids), self._max_batch):
            got = self._records.get(ids=list(article_ids[i : i + self._max_batch]), include=["metadatas"])
            for article_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                if meta and meta.get("kind") == ARTICLE:
                    out[article_id] = str(meta["version"])
        return out

    def flip(self, ids: Sequence[str], texts: Sequence[str], metas: Sequence[dict[str, Any]]) -> None:
        """Make these article records (each naming its live version) live, with the token in the same call."""
        self._announced_upsert(ids, texts, metas)

    def delete(self, article_ids: Sequence[str]) -> None:
        """Turn these articles' records into tombstones, the token moving in the same call. Tombstones stay: a
        process that last read the catalog before the removal learns of it from them (`changed_since`)."""
        ids = list(article_ids)
        self._announced_upsert(ids, [""] * len(ids), [{"kind": REMOVED}] * len(ids))

    def _announced_upsert(self, ids: Sequence[str], texts: Sequence[str], metas: Sequence[dict[str, Any]]) -> None:
        """Write these records stamped with `seq`, each batch with a new token in the same call: Chroma applies
        one call as one log record, so the change and its announcement move together."""
        step = self._max_batch - 1
        for i in range(0, len(ids), step):
            sl = slice(i, i + step)
            seq = time.time_ns()
            self._records.upsert(
                ids=[*ids[sl], META_ID],
                documents=[*texts[sl], ""],
                metadatas=[*({**meta, "seq": seq} for meta in metas[sl]), _meta_record()],
                embeddings=[[1.0]] * (len(ids[sl]) + 1),
            )

    def mark_sentences(self, article_ids: Sequence[str]) -> None:
        """Record that these articles' live versions have their sentence vectors kept (metadata only, like
        `mark_checked`: readers see nothing change)."""
        ids = [a for a in article_ids if a != META_ID]
        for i in range(0, len(ids), self._max_batch):
            sl = ids[i : i + self._max_batch]
            seq = time.time_ns()
            self._records.update(ids=sl, metadatas=[{"sentences": True, "seq": seq}] * len(sl))

    def mark_checked(self, stamps: Mapping[str, datetime]) -> int:
        """Record, per article, the feed date up to which it was found unchanged; how many were marked."""
        ids = [a for a in stamps if a != META_ID]
        for i in range(0, len(ids), self._max_batch):
            sl = ids[i : i + self._max_batch]
            seq = time.time_ns()  # a catalog reading what changed sees the new checked_at too
            metas = [{"checked_at": stamps[a].astimezone(UTC).isoformat(timespec="seconds"), "seq": seq} for a in sl]
            self._records.update(ids=sl, metadatas=metas)
        return len(ids)
