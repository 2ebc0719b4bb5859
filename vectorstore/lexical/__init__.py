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

from vectorstore.lexical.index import EXACT_DF_MAX, FORMAT, PER_LANGUAGE_FORMAT, Analysis, LexicalIndex, index_text
from vectorstore.lexical.manager import LexicalIndexManager, Update

__all__ = [
    "EXACT_DF_MAX",
    "FORMAT",
    "PER_LANGUAGE_FORMAT",
    "Analysis",
    "LexicalIndex",
    "LexicalIndexManager",
    "Update",
    "index_text",
]
