"""One snapshot of the lexical index: the tantivy schema (pre-analysed terms, filter fields, the chunk itself) and
`LexicalIndex`, BM25 search and IDF over the live chunks it holds."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from vectorstore.analysis import DEFAULT_LANGUAGE, detect_language, terms
from vectorstore.errors import StoreError
from vectorstore.filters import Filters, date_int
from vectorstore.models import Chunk

FORMAT = "tantivy-1"  # bump when the schema or the analysis changes: the index is then rebuilt
# The same with each chunk analysed in its language (NEWSBOT_MULTILINGUAL); bump when that analysis changes. A
# separate name, so that English indexes (the default) are not rebuilt when only the per-language one changes.
PER_LANGUAGE_FORMAT = f"{FORMAT}+languages-1"
_ALL = "1"  # every document carries it in the `all` field: its document frequency counts deleted ones too
EXACT_DF_MAX = 1000  # idf() counts live chunks exactly up to this frequency (~0.03 ms a term at 1M chunks)
_NO_DATE = -1
_MAX_DATE = 99_991_231


def _date_or_missing(iso: str | None) -> int:
    if not iso:
        return _NO_DATE
    try:
        return date_int(iso)
    except StoreError:
        return _NO_DATE


def index_text(chunk: Chunk) -> str:
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


@dataclass(frozen=True)
class Analysis:
    """How the index analyses words (`vectorstore.analysis.terms`): everything as English (the default), or, with
    `per_language` (NEWSBOT_MULTILINGUAL), each chunk in the language it was stored with and a question in the
    one it is written in, so that Italian is stemmed as Italian and its stop words dropped.

    A chunk in another language than English also holds, once each, the English analysis's terms that its own
    lacks: the answer engine weighs a question's words by the index's IDF and still analyses every sentence as
    English, so those terms must keep the document frequencies they had."""

    per_language: bool = False

    @property
    def format(self) -> str:
        """What the index record says it holds: another analysis means a rebuild."""
        return PER_LANGUAGE_FORMAT if self.per_language else FORMAT

    def chunk_terms(self, chunk: Chunk) -> list[str]:
        text = index_text(chunk)
        english = terms(text)
        language = chunk.language or DEFAULT_LANGUAGE
        if not self.per_language or language == DEFAULT_LANGUAGE:
            return english
        own = terms(text, language)
        present = set(own)
        return own + [t for t in dict.fromkeys(english) if t not in present]

    def query_terms(self, query: str) -> list[str]:
        return terms(query, detect_language(query) if self.per_language else DEFAULT_LANGUAGE)


ENGLISH = Analysis()


def schema() -> tantivy.Schema:
    """Pre-analysed terms (split on spaces: `terms()` did the analysis), filter fields, and the chunk itself."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("article", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("id", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("source", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("all", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("date", indexed=True, fast=True)
    builder.add_bytes_field("chunk", stored=True)
    return builder.build()


def document(chunk: Chunk, analysis: Analysis = ENGLISH) -> tantivy.Document:
    return tantivy.Document(
        terms=" ".join(analysis.chunk_terms(chunk)),
        article=chunk.article_id,
        id=chunk.id,
        source=chunk.source or "",
        all=_ALL,
        date=_date_or_missing(chunk.date),
        chunk=json.dumps(asdict(chunk), ensure_ascii=False).encode("utf-8"),
    )


def open_index(path: Path) -> tantivy.Index:
    index = tantivy.Index.open(str(path))
    index.config_reader("manual")  # searchers are reloaded when the token says so, not by a file watcher
    return index


class _ChunkLookup(Mapping[str, Chunk]):
    """Chunks of one searcher by id, read on demand (dense search takes texts from here, not from Chroma)."""

    def __init__(self, view: LexicalIndex) -> None:
        self._view = view
        self._cache: dict[str, Chunk | None] = {}

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        if key not in self._cache:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = self._view._chunk_by_id(key)
        found = self._cache[key]
        return default if found is None else found

    def __getitem__(self, key: str) -> Chunk:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return (c.id for c in self._view.chunks)

    def __len__(self) -> int:
        return len(self._view)


class LexicalIndex:
    """BM25 over a snapshot of the live chunks: one tantivy searcher, and the store token it was brought to."""

    def __init__(self, index: tantivy.Index, token: str, generation: str, analysis: Analysis = ENGLISH) -> None:
        self.token = token
        self.generation = generation
        self.analysis = analysis
        self._index = index
        self._schema = index.schema
        self._searcher = index.searcher()
        self._idf: dict[str, float] = {}
        self._lookup: _ChunkLookup | None = None
        self._has_deleted = int(self._searcher.doc_freq("all", _ALL)) != len(self)

    @classmethod
    def build(cls, chunks: Iterable[Chunk], token: str, analysis: Analysis = ENGLISH) -> LexicalIndex:
        """An index of these chunks in memory (tests and tools; the manager's live on disk)."""
        index = tantivy.Index(schema())
        index.config_reader("manual")
        writer = index.writer(heap_size=15_000_000, num_threads=1)
        try:
            for chunk in chunks:
                writer.add_document(document(chunk, analysis))
            writer.commit()
        finally:
            writer.wait_merging_threads()
        index.reload()
        return cls(index, token, "memory", analysis)

    def __len__(self) -> int:
        return int(self._searcher.num_docs)

    @property
    def deleted_share(self) -> float:
        """Deleted chunks that segments still hold, as a share of all they hold (they count in ranking IDF)."""
        held = int(self._searcher.doc_freq("all", _ALL))
        return (held - len(self)) / held if held else 0.0

    @property
    def chunk_by_id(self) -> Mapping[str, Chunk]:
        """Every chunk of this snapshot by id; dense search takes texts from here instead of from Chroma."""
        if self._lookup is None:  # a benign race makes two
            self._lookup = _ChunkLookup(self)
        return self._lookup

    @property
    def chunks(self) -> list[Chunk]:
        """Every chunk of this snapshot, by article and position (reads them all: tests and tools only)."""
        n = len(self)
        if n == 0:
            return []
        hits = self._searcher.search(tantivy.Query.all_query(), n).hits
        out = [self._chunk_at(address) for _, address in hits]
        return sorted(out, key=lambda c: (c.article_id, c.position))

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency of an analysed term over the live chunks; unseen terms weigh
        the most. Exact for terms in up to `EXACT_DF_MAX` chunks (counted among live ones when the index holds
        deleted chunks); a commoner term's frequency may include deleted chunks not yet merged away (at most
        `max_deleted_share` of the index), which moves its IDF by about that share at most. O(1) per term:
        the answer engine asks for hundreds per question."""
        cached = self._idf.get(term)
        if cached is not None:
            return cached
        n = len(self)
        df = int(self._searcher.doc_freq("terms", term)) if n else 0
        if 0 < df <= EXACT_DF_MAX and self._has_deleted:
            query = tantivy.Query.term_query(self._schema, "terms", term)
            df = int(self._searcher.search(query, 1, count=True).count)  # type: ignore[attr-defined]
        df = min(df, n)
        value = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        if len(self._idf) > 100_000:
            self._idf.clear()
        self._idf[term] = value
        return value

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]:
        words = list(dict.fromkeys(self.analysis.query_terms(query)))
        if k <= 0 or not words or len(self) == 0:
            return []
        q = tantivy.Query
        match = q.boolean_query([(tantivy.Occur.Should, q.term_query(self._schema, "terms", w)) for w in words])
        if filters is not None and not filters.empty:
            # Filter clauses score 0, so the BM25 score is the terms' alone.
            clauses = [(tantivy.Occur.Must, match)]
            if filters.source:
                only = q.term_query(self._schema, "source", filters.source)
                clauses.append((tantivy.Occur.Must, q.const_score_query(only, 0.0)))
            if filters.date_from or filters.date_to:  # a chunk without a date is never in a date range
                low = date_int(filters.date_from) if filters.date_from else 0
                high = date_int(filters.date_to) if filters.date_to else _MAX_DATE
                within = q.range_query(self._schema, "date", tantivy.FieldType.Integer, low, high, True, True)
                clauses.append((tantivy.Occur.Must, q.const_score_query(within, 0.0)))
            match = q.boolean_query(clauses)
        hits = self._searcher.search(match, k, count=False).hits  # counting every match costs ~20% at 1M
        return [(self._chunk_at(address), float(score)) for score, address in hits if float(score) > 0.0]

    def _chunk_at(self, address: tantivy.DocAddress) -> Chunk:
        raw = self._searcher.doc(address)["chunk"][0]
        return Chunk(**json.loads(bytes(raw).decode("utf-8")))

    def _chunk_by_id(self, chunk_id: str) -> Chunk | None:
        if len(self) == 0:
            return None
        hits = self._searcher.search(tantivy.Query.term_query(self._schema, "id", chunk_id), 1, count=False).hits
        return self._chunk_at(hits[0][1]) if hits else None

    def article_ids(self) -> set[str]:
        return {c.article_id for c in self.chunks}


