"""The embedder's vectors of evidence sentences, for a question's similarity to each sentence.

Two readers: the learned ranker's `similarity` feature (`bot/answer/features.py`: a news-quiz question paraphrases
its answer sentence, which term coverage misses) and the scoring across languages (`bot/answer/crosslingual.py`:
words cannot match, the similarity stands in for them). The question is never embedded again: retrieval already
embedded it, and its vector is passed in. A sentence's vector comes from this process's recent questions, else
from those ingest kept in the store (`vectorstore/sentences.py`), else the embedder encodes it now: a store
ingested without them answers the same, only slower.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np

from vectorstore.embedder import Embedder
from vectorstore.errors import StoreError
from vectorstore.models import Passage
from vectorstore.sentences import chunk_sentences

log = logging.getLogger(__name__)

# Each text's similarity to the question (cosine: the embedder's vectors are normalised).
Similarity = Callable[[Sequence[str]], list[float]]
# The kept vectors of these sentence ids, those the store has (`ArticleStore.sentence_vectors`).
KeptVectors = Callable[[Sequence[str]], Mapping[str, np.ndarray]]


def kept_sentence_ids(passages: Sequence[Passage], wanted: Collection[str]) -> dict[str, str]:
    """Sentence id -> text, for the sentences of the passages' chunks whose text is `wanted`: split as ingest
    split them (`chunk_sentences`), so a sentence the engine scores is asked for by the id it was stored under."""
    return {s.id: s.text for p in passages for s in chunk_sentences(p.chunk) if s.text in wanted}


class SentenceVectors:
    """The embedder's vectors of evidence sentences, kept by text (least recently used out): the passages of a
    story come back question after question, and a sentence costs as much to embed as a question."""

    def __init__(self, embedder: Embedder, size: int, kept: KeptVectors | None = None) -> None:
        self.embedder = embedder
        self.size = size
        self.kept = kept
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def similarities(
        self, asked: Sequence[float], sentences: Sequence[str], passages: Sequence[Passage] = ()
    ) -> list[float]:
        """Cosine similarity of the question's vector to each sentence (the vectors are normalised); the
        sentences of `passages` that ingest kept vectors of are read from the store, in one read."""
        # The kept vectors are read under the lock before embedding the rest outside it: another question may
        # evict them meanwhile.
        with self._lock:
            known = {t: self._vectors[t] for t in sentences if t in self._vectors}
        todo = [t for t in dict.fromkeys(sentences) if t not in known]
        if todo and passages and self.kept is not None:
            known.update(self._read_kept(passages, todo))
            todo = [t for t in todo if t not in known]
        if todo:
            known.update(zip(todo, np.asarray(self.embedder.encode(todo), dtype=np.float32), strict=True))
        question = np.asarray(asked, dtype=np.float32)
        with self._lock:
            for text in sentences:  # the most recently asked last, kept again if evicted meanwhile
                self._vectors[text] = known[text]
                self._vectors.move_to_end(text)
            vectors = [known[t] for t in sentences]
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return [float(v @ question) for v in vectors]

    def _read_kept(self, passages: Sequence[Passage], todo: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these texts among the passages' sentences. The store failing costs only time:
        the sentences are embedded instead."""
        assert self.kept is not None
        ids = kept_sentence_ids(passages, set(todo))
        try:
            found = self.kept(list(ids))
        except StoreError as exc:
            log.warning("reading the kept sentence vectors failed, embedding them instead: %s", exc)
            return {}
        return {ids[sentence_id]: vector for sentence_id, vector in found.items() if sentence_id in ids}

    def to(self, asked: Sequence[float], passages: Sequence[Passage] = ()) -> Similarity:
        """Each text's similarity to the question whose vector is `asked`; texts of `passages`' sentences may be
        read from the store."""
        return lambda texts: self.similarities(asked, texts, passages)
