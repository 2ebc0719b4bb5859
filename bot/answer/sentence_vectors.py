"""The embedder's vectors of evidence sentences, for a question's similarity to each sentence.

Two readers: the learned ranker's `similarity` feature (`bot/answer/features.py`: a news-quiz question paraphrases
its answer sentence, which term coverage misses) and the scoring across languages (`bot/answer/crosslingual.py`:
words cannot match, the similarity stands in for them). The question is never embedded again: retrieval already
embedded it, and its vector is passed in.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from vectorstore.embedder import Embedder

# Each text's similarity to the question (cosine: the embedder's vectors are normalised).
Similarity = Callable[[Sequence[str]], list[float]]


class SentenceVectors:
    """The embedder's vectors of evidence sentences, kept by text (least recently used out): the passages of a
    story come back question after question, and a sentence costs as much to embed as a question."""

    def __init__(self, embedder: Embedder, size: int) -> None:
        self.embedder = embedder
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def similarities(self, asked: Sequence[float], sentences: Sequence[str]) -> list[float]:
        """Cosine similarity of the question's vector to each sentence (the vectors are normalised)."""
        # The kept vectors are read under the lock before embedding the rest outside it: another question may
        # evict them meanwhile.
        with self._lock:
            known = {t: self._vectors[t] for t in sentences if t in self._vectors}
        todo = [t for t in dict.fromkeys(sentences) if t not in known]
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

    def to(self, asked: Sequence[float]) -> Similarity:
        """Each text's similarity to the question whose vector is `asked`."""
        return lambda texts: self.similarities(asked, texts)
