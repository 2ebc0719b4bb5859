"""The benchmark's levels for the learned ranker (bench/levels.py, bench/query.py --learned): a level's store keeps
the sentence vectors as an ingest that keeps them writes them, copies under new ids included, so the learned
engine reads them and embeds none of its evidence sentences while a question waits; otherwise the benchmark
would time an hour of embedding that no real store costs, or a store no ingest writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from store_checks import assert_store_consistent, raw_rows

from bench.levels import Snapshot, build_level, read_store, select, with_sentences
from bot.answer.engine import AnswerEngine, EngineConfig
from bot.runtime import Runtime
from bot.settings import Settings
from vectorstore.embedder import Embedder

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "sample"
TIMES = {"written_at", "ingested_at", "checked_at"}  # when a record was written: never the same twice


def learned_runtime(data_dir: Path, embedder: Embedder) -> Runtime:
    runtime = Runtime(Settings(data_dir=data_dir, _env_file=None))
    runtime.__dict__["embedder"] = embedder
    return runtime


def records(runtime: Runtime, suffix: str) -> dict[str, dict[str, object]]:
    """Id -> metadata (without the times of writing) of a collection of the store."""
    ids, metas = raw_rows(runtime, f"{runtime.settings.collection}{suffix}")
    return {i: {k: v for k, v in m.items() if k not in TIMES} for i, m in zip(ids, metas, strict=True)}


def vectors(runtime: Runtime, ids: Sequence[str]) -> np.ndarray:
    found = runtime.store.sentence_vectors(ids)
    return np.vstack([found[i] for i in ids])


def test_a_level_keeps_the_sentence_vectors_an_ingest_would_have(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingested = learned_runtime(tmp_path / "ingested", embedder)
    assert ingested.ingest([str(SAMPLE_DIR)]).ok
    source = read_store(ingested.settings)  # a store that kept them: its vectors, nothing embedded
    assert len(source) == 2 and all(s.sentences for s in source)

    # --prepare embeds them as ingest did, where the store kept none; the snapshot keeps them across runs.
    bare = [replace(s, sentences=None, sentence_vectors=None) for s in source]
    embedded = with_sentences(bare, embedder.encode, "embedded by bench/ in this test")
    for kept, fresh in zip(source, embedded, strict=True):
        assert [x.id for x in fresh.sentences or ()] == [x.id for x in kept.sentences or ()]
        assert fresh.sentence_vectors is not None and kept.sentence_vectors is not None
        np.testing.assert_allclose(fresh.sentence_vectors, kept.sentence_vectors, atol=1e-5)
    snapshot = Snapshot(tmp_path / "snapshot")
    snapshot.add(bare)
    assert len(snapshot.lacking_sentences) == 2
    snapshot.add_sentences(embedded)
    again = Snapshot(tmp_path / "snapshot")
    assert not again.lacking_sentences
    assert [x.id for s in again.articles for x in s.sentences or ()] == [
        x.id for s in source for x in s.sentences or ()
    ]

    chunks = sum(len(s.chunks) for s in source)
    level = select(again.articles, 2 * chunks, first_ids=[])  # the two articles, then a copy of each
    assert level.chunks == 2 * chunks and level.copies == chunks
    assert "real sentences of those chunks embedded by bench/" in level.provenance()  # which vectors, said
    build_level(Settings(data_dir=tmp_path / "level", _env_file=None), level, sentences=True)
    built = learned_runtime(tmp_path / "level", embedder)
    assert_store_consistent(built)  # every live chunk's sentences kept, nothing else: copies too
    catalog = built.store.catalog()
    assert len(catalog) == 4 and all(a.sentences for a in catalog.values())  # the manifest marks them filled

    # The real articles' records are the ingested store's: the same ids, the same metadata, the same vectors.
    for suffix in ("", "-sentences"):
        real = {i: m for i, m in records(built, suffix).items() if "#dup" not in i}
        assert real == records(ingested, suffix)
    originals = sorted(records(ingested, "-sentences"))
    np.testing.assert_allclose(vectors(built, originals), vectors(ingested, originals), atol=1e-6)
    # A copy's sentences: the copy's ids, the vectors nudged as its chunks' are (cosine ~0.995, not 1).
    copies = [f"{a}#dup1::{rest}" for a, _, rest in (i.partition("::") for i in originals)]
    cosines = np.sum(vectors(built, copies) * vectors(built, originals), axis=1)
    assert np.all(cosines > 0.98) and np.all(cosines < 0.9999)

    # The learned engine reads them: the question (as retrieval phrases it) is all it embeds.
    engine = AnswerEngine(built.retriever, EngineConfig())
    encoded: list[str] = []
    encode = embedder.encode

    def counting(texts: Sequence[str], batch_size: int | None = None) -> list[list[float]]:
        encoded.extend(texts)
        return encode(texts, batch_size)

    monkeypatch.setattr(embedder, "encode", counting)
    answer = engine.answer("What did Italy pledge?")
    assert not answer.declined and "140 million" in answer.text
    assert len(encoded) == 1 and answer.timings_ms["similarity_ms"] > 0  # retrieval's query, no sentence
