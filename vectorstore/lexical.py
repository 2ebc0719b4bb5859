"""BM25 over the live chunks (bm25s), kept consistent with Chroma through the store's change token.

The index is rebuilt from Chroma when the token moves, never per query: every process checks the token at most
once per `check_interval_s`, keeps serving its current index while a rebuild runs in the background, and the
process that wrote waits for its own rebuild (`refresh(wait=True)`), so it reads its writes. The built index is
saved under the token it was built from, so a restart loads it instead of rebuilding.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import time
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from vectorstore.errors import StoreError
from vectorstore.models import Chunk
from vectorstore.store import ArticleStore, Filters, date_int

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets itself to DEBUG on import

_WORD = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


# Function words beyond bm25s's short English list: question words and pronouns carry no topic.
_MORE_STOPWORDS = """
what which who whom whose when where why how am is are was were be been being do does did doing have has had
having i me my myself we our ours ourselves you your yours he him his she her hers it its they them their theirs
this that these those here there all any both each few more most other some such only own same so than too very
can will just should now also would could may might must shall about above after again against below between
during into through under until upon over off out up down once further whether while within without s t
""".split()


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | frozenset(_MORE_STOPWORDS)


def terms(text: str) -> list[str]:
    """The index's analysis (lowercase, English stopwords out, Snowball stems), for anyone matching words."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _stopwords()]
    return list(_stemmer().stemWords(words))


def _date_or_missing(iso: str | None) -> int:
    if not iso:
        return -1
    try:
        return date_int(iso)
    except StoreError:
        return -1


def index_text(chunk: Chunk) -> str:
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


class LexicalIndex:
    """An immutable BM25 index of a snapshot of the live chunks."""

    def __init__(self, chunks: list[Chunk], token: str, bm25: bm25s.BM25 | None) -> None:
        self.chunks = chunks
        self.token = token
        self._bm25 = bm25
        self._vocab: dict[str, int] = bm25.vocab_dict if bm25 is not None else {}
        # Document frequency per term id: the column lengths of bm25s's CSC score matrix.
        self._df = np.diff(bm25.scores["indptr"]) if bm25 is not None else np.zeros(0)
        self._columns: tuple[np.ndarray, np.ndarray] | None = None  # source and date per chunk, for filters
        self._by_id: dict[str, Chunk] | None = None

    @property
    def chunk_by_id(self) -> dict[str, Chunk]:
        """Every chunk of this snapshot by id; dense search takes texts from here instead of from Chroma."""
        if self._by_id is None:  # built on first use; a benign race builds it twice
            self._by_id = {c.id: c for c in self.chunks}
        return self._by_id

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency of an analysed term; unseen terms weigh the most."""
        n = len(self.chunks)
        i = self._vocab.get(term)
        df = int(self._df[i]) if i is not None and i < len(self._df) else 0
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))

    @classmethod
    def build(cls, chunks: list[Chunk], token: str) -> LexicalIndex:
        if not chunks:
            return cls([], token, None)
        corpus = [terms(index_text(c)) for c in chunks]
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        return cls(chunks, token, bm25)

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]:
        if self._bm25 is None or k <= 0:
            return []
        words = [w for w in terms(query) if w in self._vocab]
        if not words:
            return []
        mask = None
        if filters is not None and not filters.empty:
            mask = self._mask(filters)
            if not mask.any():
                return []
        n = min(k, len(self.chunks))
        docs, scores = self._bm25.retrieve(
            [words], k=n, show_progress=False, n_threads=1, weight_mask=mask
        )
        return [
            (self.chunks[int(i)], float(s)) for i, s in zip(docs[0], scores[0], strict=True) if float(s) > 0.0
        ]

    def _mask(self, filters: Filters) -> np.ndarray:
        """1.0 for the chunks `filters` accepts (`Filters.accepts`, vectorised: a Python loop over 50k chunks
        cost ~200 ms per filtered question)."""
        sources, dates = self._filter_columns()
        keep = np.ones(len(self.chunks), dtype=bool)
        if filters.source:
            keep &= sources == filters.source
        if filters.date_from or filters.date_to:
            keep &= dates >= 0
        if filters.date_from:
            keep &= dates >= date_int(filters.date_from)
        if filters.date_to:
            keep &= dates <= date_int(filters.date_to)
        return keep.astype(np.float32)

    def _filter_columns(self) -> tuple[np.ndarray, np.ndarray]:
        if self._columns is None:  # built on the first filtered search; a benign race builds it twice
            sources = np.array([c.source or "" for c in self.chunks], dtype=object)
            dates = np.array([_date_or_missing(c.date) for c in self.chunks], dtype=np.int64)
            self._columns = (sources, dates)
        return self._columns

    # ---- persistence ----

    def save(self, directory: Path) -> None:
        """Write to a fresh folder and rename it into place, so a reader never loads half an index."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = directory.parent / f".{directory.name}.{time.time_ns()}.tmp"
        tmp.mkdir()
        if self._bm25 is not None:
            self._bm25.save(str(tmp / "bm25"), show_progress=False)
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as fh:
            for chunk in self.chunks:
                fh.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
        (tmp / "token").write_text(self.token, encoding="utf-8")
        old = directory.parent / f".{directory.name}.{time.time_ns()}.old"
        if directory.exists():
            directory.rename(old)
        tmp.rename(directory)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex | None:
        try:
            token = (directory / "token").read_text(encoding="utf-8")
            with open(directory / "chunks.jsonl", encoding="utf-8") as fh:
                chunks = [Chunk(**json.loads(line)) for line in fh]
            bm25 = bm25s.BM25.load(str(directory / "bm25"), show_progress=False) if chunks else None
        except (OSError, ValueError, TypeError) as exc:
            log.info("no usable saved lexical index (%s); rebuilding", type(exc).__name__)
            return None
        return cls(chunks, token, bm25)


class LexicalIndexManager:
    """Holds the current index of a store and refreshes it when the store changes."""

    def __init__(
        self,
        store: ArticleStore,
        directory: Path | None,
        check_interval_s: float = 1.0,
        rest_factor: float = 2.0,
    ) -> None:
        self._store = store
        self._dir = directory
        self._interval = check_interval_s
        # After a rebuild that took t seconds, background rebuilds wait rest_factor * t: while another
        # process ingests for an hour (a new token every few seconds), a 50k-chunk index is not rebuilt back
        # to back, and answering keeps two thirds of a core. Rebuilds for this process's own writes never wait.
        self._rest_factor = rest_factor
        self._lock = threading.Lock()
        self._index: LexicalIndex | None = None
        self._checked_at = 0.0
        self._next_background_at = 0.0
        self._rebuilding: threading.Thread | None = None

    def current(self) -> LexicalIndex:
        """The index to search now; starts a background rebuild when the store has moved on."""
        index = self._index
        if index is None:
            return self.refresh(wait=True)
        now = time.monotonic()
        if now - self._checked_at >= self._interval and now >= self._next_background_at:
            self._checked_at = now
            if self._store.token() != index.token:
                self._start_rebuild()
        return index

    def refresh(self, wait: bool = True) -> LexicalIndex:
        """Bring the index up to the store's current state; with `wait`, return only when it is."""
        if not wait:
            self._start_rebuild()
            return self._index or self.refresh(wait=True)
        with self._lock:
            token = self._store.token()
            if self._index is not None and self._index.token == token:
                return self._index
            if self._index is None and self._dir is not None:
                saved = LexicalIndex.load(self._dir)
                if saved is not None and saved.token == token:
                    self._index = saved
                    self._checked_at = time.monotonic()
                    return saved
            started = time.perf_counter()
            # The token is read before the chunks: a write landing during the scan moves the token again,
            # so the next check rebuilds; the index can lag a write, never miss one.
            index = LexicalIndex.build(self._store.live_chunks(), token)
            self._index = index
            elapsed = time.perf_counter() - started
            self._checked_at = time.monotonic()
            self._next_background_at = self._checked_at + self._rest_factor * elapsed
            log.info("lexical index rebuilt: %d chunks in %.2f s", len(index.chunks), elapsed)
            if self._dir is not None:
                try:
                    index.save(self._dir)
                except OSError as exc:  # a read-only or full disk costs a rebuild at the next start, no more
                    log.warning("could not save the lexical index: %s", exc)
            return index

    def _start_rebuild(self) -> None:
        if self._rebuilding is not None and self._rebuilding.is_alive():
            return
        self._rebuilding = threading.Thread(target=self._rebuild_quietly, name="lexical-rebuild", daemon=True)
        self._rebuilding.start()

    def _rebuild_quietly(self) -> None:
        try:
            self.refresh(wait=True)
        except Exception:  # a failed background rebuild keeps the old index; the next check tries again
            log.exception("lexical index rebuild failed")
