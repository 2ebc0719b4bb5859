"""The embedder's vectors of the live chunks' sentences, kept beside the chunks (`<collection>-sentences`).

A question's similarity to each evidence sentence (the learned ranker's feature and the scoring across languages,
`bot/answer/sentence_vectors.py`) otherwise embeds, while the question waits, every sentence no earlier question
brought: 1.2 s for 32 sentences on a busy 2-core machine, where the latency goal is 50 ms. So ingest embeds each
sentence once instead (`IngestOptions.sentence_vectors`) and every process reads the vectors from Chroma, embedded
on disk or served, like the chunks'.

A record's id names the article, its version and the sentence's offsets into the article text (`sentence_id`).
A version's text never changes (it is content-addressed, `ingest.pipeline.article_version`), so one id always
names one text, and a sentence that overlapping chunks share is one record. Records carry their article and
version as chunks do; `ArticleStore` writes them before the manifest flip and deletes them with their version's
chunks (`commit`, `remove`, `collect_garbage`), so none outlives its chunks. The sentences are those
`sentence_spans` finds in each chunk's text, as the answer engine splits it (`chunk_sentences` serves both);
where the engine's splitting differs from the one at ingest (a store written by another version of the
splitter), the ids differ, nothing is found, and the reader embeds those sentences itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vectorstore.analysis import MIN_SENTENCE_WORDS, sentence_spans
from vectorstore.guard import GuardedCollection
from vectorstore.models import Chunk

SUFFIX = "-sentences"  # the collection beside the chunks': `<collection>-sentences`


def sentence_id(article_id: str, version: str, start: int, end: int) -> str:
    """`article::version::start-end`, the offsets into the article's text (as a chunk id names its position)."""
    return f"{article_id}::{version}::{start}-{end}"


@dataclass(frozen=True)
class Sentence:
    """A sentence of a stored article version; `start`/`end` are offsets into `Article.text`."""

    article_id: str
    version: str
    start: int
    end: int
    text: str

    @property
    def id(self) -> str:
        return sentence_id(self.article_id, self.version, self.start, self.end)


def chunk_sentences(chunk: Chunk) -> list[Sentence]:
    """The sentences of a chunk that the answer engine scores: `sentence_spans` of its text, of at least
    `MIN_SENTENCE_WORDS` words. Ingest stores these, and the reader asks for these, so both split alike."""
    out: list[Sentence] = []
    for start, end in sentence_spans(chunk.text):
        text = chunk.text[start:end]
        if len(text.split()) >= MIN_SENTENCE_WORDS:
            out.append(Sentence(chunk.article_id, chunk.version, chunk.start + start, chunk.start + end, text))
    return out


def distinct_sentences(chunks: Iterable[Chunk]) -> list[Sentence]:
    """The sentences of these chunks, each once: overlapping chunks share sentences."""
    return list({s.id: s for chunk in chunks for s in chunk_sentences(chunk)}.values())


class SentenceVectorStore:
    """The `<collection>-sentences` collection: one record per sentence of a stored version, its vector the
    embedder's and its metadata the article, the version and when it was written (for `collect_garbage`)."""

    def __init__(self, collection: GuardedCollection, max_batch: int) -> None:
        self._records = collection
        self._max_batch = max_batch

    def write(self, sentences: Sequence[Sentence], vectors: Sequence[Sequence[float]], written_at: float) -> None:
        """Upsert these sentences' vectors. No documents: the text is the chunk's, and Chroma would index it
        for full-text search, which nothing here reads."""
        if len(sentences) != len(vectors):
            raise ValueError("sentences and vectors differ in number")
        for i in range(0, len(sentences), self._max_batch):
            part = sentences[i : i + self._max_batch]
            self._records.upsert(
                ids=[s.id for s in part],
                embeddings=[list(v) for v in vectors[i : i + self._max_batch]],
                metadatas=[{"article_id": s.article_id, "version": s.version, "written_at": written_at} for s in part],
            )

    def delete_version(self, article_id: str, version: str) -> None:
        """Delete every sentence of this article version (as its chunks are deleted: by article and version)."""
        self._records.delete(where={"$and": [{"article_id": article_id}, {"version": version}]})

    def dead(self, article_id: str, live_version: str | None, cutoff: float) -> list[str]:
        """The ids of this article's sentences written at or before `cutoff` that are not of its live version."""
        where: list[dict[str, Any]] = [{"article_id": article_id}, {"written_at": {"$lte": cutoff}}]
        if live_version is not None:
            where.append({"version": {"$ne": live_version}})
        return list(self._records.get(where={"$and": where}, include=[])["ids"])

    def delete(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), self._max_batch):
            self._records.delete(ids=list(ids[i : i + self._max_batch]))

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these sentence ids (those that have one), read by id: the cost follows the
        sentences asked for, never the collection's size."""
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(ids), self._max_batch):
            got = self._records.get(ids=list(ids[i : i + self._max_batch]), include=["embeddings"])
            vectors = got["embeddings"] if got["embeddings"] is not None else []
            for stored_id, vector in zip(got["ids"], vectors, strict=True):
                out[stored_id] = np.asarray(vector, dtype=np.float32)
        return out

    def count(self) -> int:
        return int(self._records.count())
