"""The write journal: which (article, version) pairs a writer is changing right now.

A writer opens an entry before it writes an article's chunks (or removes its live version) and closes it when the
manifest is flipped and the replaced chunks are gone. A writer killed in between leaves its entries open, and they
are all `ArticleStore.collect_garbage` reads: collecting a crash's leftovers costs what was in flight, not a scan
of every chunk in the archive (183 s at 244k chunks, on every poll, before the journal).
"""

from __future__ import annotations

from collections.abc import Sequence

from vectorstore.guard import GuardedCollection

Entry = tuple[str, str]  # (article id, version)


def _entry_id(entry: Entry) -> str:
    return f"{entry[0]}::{entry[1]}"


class Journal:
    """The `<collection>-journal` collection: one record per open (article, version) entry."""

    def __init__(self, collection: GuardedCollection, max_batch: int) -> None:
        self._records = collection
        self._max_batch = max_batch

    def open(self, entries: Sequence[Entry], now: float) -> None:
        for i in range(0, len(entries), self._max_batch):
            part = entries[i : i + self._max_batch]
            self._records.upsert(
                ids=[_entry_id(e) for e in part],
                metadatas=[{"article_id": a, "version": v, "written_at": now} for a, v in part],
                embeddings=[[1.0]] * len(part),
            )

    def close(self, entries: Sequence[Entry]) -> None:
        for i in range(0, len(entries), self._max_batch):
            self._records.delete(ids=[_entry_id(e) for e in entries[i : i + self._max_batch]])

    def opened_before(self, cutoff: float) -> list[Entry]:
        """Entries opened at or before `cutoff`: a writer still at work opened its own ones later."""
        got = self._records.get(where={"written_at": {"$lte": cutoff}}, include=["metadatas"])
        return [(str(m["article_id"]), str(m["version"])) for m in got["metadatas"] or [] if m]
