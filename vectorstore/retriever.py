"""Hybrid retrieval: dense search in Chroma and BM25, fused by weighted reciprocal rank, with a recency prior.

A LangChain `BaseRetriever`, so it composes with LangChain chains; `search()` is the typed entry point that the
answer engine, the bot and the evaluation share.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from vectorstore import recency
from vectorstore.analysis import detect_language
from vectorstore.embedder import Embedder
from vectorstore.filters import Filters
from vectorstore.lexical import Analysis, LexicalIndexManager
from vectorstore.models import Chunk, Passage
from vectorstore.recency import parse_date, recency_credit
from vectorstore.store import ArticleStore


def fuse(
    ranked_lists: Sequence[tuple[Sequence[Chunk], float]], rrf_k: int = 60
) -> list[tuple[Chunk, float, list[int | None]]]:
    """Weighted reciprocal rank fusion: sum of weight / (rrf_k + rank) over the lists a chunk appears in."""
    scores: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    ranks: dict[str, list[int | None]] = {}
    for li, (chunk_list, weight) in enumerate(ranked_lists):
        for rank, chunk in enumerate(chunk_list, 1):
            key = chunk.id
            chunks[key] = chunk
            scores[key] = scores.get(key, 0.0) + weight / (rrf_k + rank)
            ranks.setdefault(key, [None] * len(ranked_lists))[li] = rank
    order = sorted(scores, key=lambda key: scores[key], reverse=True)
    return [(chunks[key], scores[key], ranks[key]) for key in order]


@dataclass(frozen=True)
class Retrieval:
    """What one search found, and where its time went (embed_ms, dense_ms, lexical_ms)."""

    passages: list[Passage]
    timings_ms: dict[str, float] = field(default_factory=dict)
    query_vector: list[float] | None = None  # the question's embedding, for whoever compares it with more text


class HybridRetriever(BaseRetriever):
    """Dense + lexical retrieval over the live chunks of an `ArticleStore`.

    Example:
        retriever = build_retriever(store, embedder, index_dir)
        passages = retriever.search("What did Italy pledge?", k=5)
        docs = retriever.invoke("What did Italy pledge?")  # LangChain Documents
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: ArticleStore
    embedder: Embedder
    lexical: LexicalIndexManager
    k: int = 5
    candidate_k: int = 30
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    recency_weight: float = recency.DEFAULT_WEIGHT  # see vectorstore/recency.py
    recency_half_life_days: float = recency.DEFAULT_HALF_LIFE_DAYS
    filters: Filters | None = Field(default=None, description="default filters for invoke()")
    # NEWSBOT_MULTILINGUAL: a question in another language than the passages dense search found shares no words
    # with them, and the few it shares by accident would only add noise: it is ranked on the dense side alone.
    cross_lingual: bool = False

    def search(
        self, query: str, k: int | None = None, filters: Filters | None = None, as_of: date | None = None
    ) -> list[Passage]:
        """The `k` best passages (see `retrieve`)."""
        return self.retrieve(query, k, filters, as_of).passages

    def retrieve(
        self, query: str, k: int | None = None, filters: Filters | None = None, as_of: date | None = None
    ) -> Retrieval:
        """The `k` best passages, with the time each step took. Recency counts from `as_of`: by default the
        filter's `date_to` (the coverage as it stood that day), else today."""
        k = k or self.k
        filters = filters or self.filters
        as_of = as_of or (parse_date(filters.date_to) if filters else None) or datetime.now(UTC).date()
        t0 = time.perf_counter()
        vector = self.embedder.embed_query(query)
        t1 = time.perf_counter()
        index = self.lexical.current()
        dense = self.store.dense_search(vector, self.candidate_k, filters, known=index.chunk_by_id)
        t2 = time.perf_counter()
        lexical = index.search(query, self.candidate_k, filters)
        if self.cross_lingual and not same_language(query, [c for c, _ in dense]):
            lexical = []
        t3 = time.perf_counter()
        timings = {"embed_ms": (t1 - t0) * 1e3, "dense_ms": (t2 - t1) * 1e3, "lexical_ms": (t3 - t2) * 1e3}
        dense_sim = {c.id: s for c, s in dense}
        lexical_score = {c.id: s for c, s in lexical}
        fused = fuse(
            [([c for c, _ in dense], self.dense_weight), ([c for c, _ in lexical], self.lexical_weight)],
            self.rrf_k,
        )
        fused = self._with_recency(fused, as_of)
        passages = [
            Passage(
                chunk=chunk, score=score, dense_rank=d_rank, lexical_rank=l_rank,
                extra={"dense_sim": dense_sim.get(chunk.id, 0.0), "bm25": lexical_score.get(chunk.id, 0.0)},
            )
            for chunk, score, (d_rank, l_rank) in fused[:k]
        ]  # fmt: skip
        return Retrieval(passages, timings, vector)

    def _with_recency(
        self, fused: list[tuple[Chunk, float, list[int | None]]], as_of: date
    ) -> list[tuple[Chunk, float, list[int | None]]]:
        if self.recency_weight <= 0:
            return fused
        bonus = self.recency_weight / (self.rrf_k + 1)
        rescored = [
            (chunk, score + bonus * recency_credit(chunk.date, as_of, self.recency_half_life_days), ranks)
            for chunk, score, ranks in fused
        ]
        return sorted(rescored, key=lambda item: item[1], reverse=True)

    def term_idf(self) -> Callable[[str], float]:
        """The IDF of analysed terms (`vectorstore.analysis.terms`) over the live chunks, from the lexical index's
        current snapshot: take it once per question, so that all of the question's weights agree."""
        return self.lexical.current().idf

    def refresh(self) -> None:
        """Make this process see the store as it is now (after its own writes)."""
        self.lexical.refresh(wait=True)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        found = self.search(query, kwargs.get("k"), kwargs.get("filters"), kwargs.get("as_of"))
        return [passage_document(p) for p in found]


def passage_document(passage: Passage) -> Document:
    c = passage.chunk
    metadata = {
        "article_id": c.article_id,
        "title": c.title,
        "url": c.url,
        "date": c.date,
        "source": c.source,
        "start": c.start,
        "end": c.end,
        "score": passage.score,
    }
    return Document(page_content=c.text, metadata={k: v for k, v in metadata.items() if v is not None}, id=c.id)


def same_language(query: str, chunks: Sequence[Chunk]) -> bool:
    """Whether the question is in a language of the chunks (those of older stores, of no recorded language, agree)."""
    languages = {c.language for c in chunks if c.language}
    return not languages or detect_language(query) in languages


def build_retriever(
    store: ArticleStore,
    embedder: Embedder,
    index_dir: Path | None,
    candidate_k: int = 30,
    k: int = 5,
    recency_weight: float = recency.DEFAULT_WEIGHT,
    recency_half_life_days: float = recency.DEFAULT_HALF_LIFE_DAYS,
    cross_lingual: bool = False,
) -> HybridRetriever:
    return HybridRetriever(
        store=store,
        embedder=embedder,
        lexical=LexicalIndexManager(store, index_dir, analysis=Analysis(per_language=cross_lingual)),
        candidate_k=candidate_k,
        k=k,
        recency_weight=recency_weight,
        recency_half_life_days=recency_half_life_days,
        cross_lingual=cross_lingual,
    )
