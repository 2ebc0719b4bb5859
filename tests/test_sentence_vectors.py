"""Sentence vectors kept at ingest (`vectorstore/sentences.py`): written with their chunks only when the
configuration reads them, replaced, removed and collected with them, in both store modes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from store_checks import article_record, assert_sentences_consistent, assert_store_consistent, raw_rows, write_jsonl

from bot.runtime import Runtime
from bot.settings import Settings
from vectorstore.manifest import Manifest
from vectorstore.sentences import chunk_sentences, distinct_sentences

pytest_plugins = ["chroma_server"]


def corpus(path: Path, count: int = 3) -> list[dict]:
    """Articles of two chunks each at the default 600/150 chunking, so a sentence is in both (the overlap)."""
    records = [article_record(i, prefix="kept", sentences=5) for i in range(count)]
    write_jsonl(path, records)
    return records


def sentence_records(runtime: Runtime) -> dict[str, str]:
    """Sentence id -> version, from the raw `<collection>-sentences` collection."""
    ids, metas = raw_rows(runtime, f"{runtime.settings.collection}-sentences")
    return {i: m["version"] for i, m in zip(ids, metas, strict=True)}


# ---- the store: written, replaced, removed and collected with their chunks ----------------------------------


@pytest.fixture
def settings(mode_settings: Settings) -> Settings:
    """Each store mode (embedded, a `chroma run` server), configured for the learned ranker."""
    mode_settings.learned_ranker = True
    return mode_settings


def test_each_sentence_is_kept_once_and_goes_with_its_version(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "src" / "coverage.jsonl"
    records = corpus(path)
    report = runtime.ingest([str(path)])
    assert report.ok and len(report.added) == 3
    assert_store_consistent(runtime)  # every live chunk's sentences kept, nothing else
    store = runtime.store
    chunks = store.chunks_of_versions(list(store.catalog().values()))
    per_chunk = [s for c in chunks for s in chunk_sentences(c)]
    kept = distinct_sentences(chunks)
    assert len(per_chunk) > len(kept)  # the overlap: a shared sentence is one record, encoded once
    assert report.sentences_encoded == len({s.text for s in kept}) and all(
        a.sentences for a in store.catalog().values()
    )
    vectors = store.sentence_vectors([s.id for s in kept[:3]])
    fresh = runtime.embedder.encode([s.text for s in kept[:3]])
    for sentence, vector in zip(kept[:3], fresh, strict=True):
        np.testing.assert_allclose(vectors[sentence.id], vector, atol=1e-5)  # the embedder's vector of its text

    old = store.catalog()["kept-0001"].version
    records[1]["text"] = records[1]["text"].replace("moved ahead on schedule", "stalled for a month")
    write_jsonl(path, records)
    assert runtime.ingest([str(path)]).updated == ["kept-0001"]
    new = store.catalog()["kept-0001"].version
    versions = set(sentence_records(runtime).values())
    assert new in versions and old not in versions  # replaced with the chunks, not merely hidden
    assert_store_consistent(runtime)

    assert runtime.remove(["kept-0001"]) == 1
    assert new not in set(sentence_records(runtime).values())
    assert not [i for i in assert_sentences_consistent(runtime) if i.startswith("kept-0001::")]
    assert len(sentence_records(runtime)) == len(distinct_sentences(store.live_chunks()))


def test_a_crashed_writer_s_sentences_are_collected_with_its_chunks(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer killed after writing a version's chunks and sentences, before the flip: the next collection
    deletes both."""
    path = tmp_path / "src" / "coverage.jsonl"
    records = corpus(path, count=2)
    runtime.ingest([str(path)])
    live = runtime.store.catalog()["kept-0000"].version
    records[0]["text"] += " Late on Friday the council cancelled the project."
    write_jsonl(path, records)

    def crash(*_args: object) -> None:
        raise RuntimeError("the writer died here")

    monkeypatch.setattr(Manifest, "live_versions", crash)  # read after writing, before the flip
    with pytest.raises(RuntimeError):
        runtime.ingest([str(path)])
    monkeypatch.undo()
    dead = set(sentence_records(runtime).values()) - {a.version for a in runtime.store.catalog().values()}
    assert len(dead) == 1 and runtime.store.catalog()["kept-0000"].version == live

    assert runtime.store.collect_garbage(grace_seconds=0) > 0
    assert not set(sentence_records(runtime).values()) & dead
    assert_store_consistent(runtime)


# ---- only when the configuration reads them -----------------------------------------------------------------


def test_the_default_configuration_keeps_no_sentence_vectors(runtime: Runtime, tmp_path: Path) -> None:
    runtime.settings.learned_ranker = False
    assert not runtime.settings.keeps_sentence_vectors
    corpus(tmp_path / "a" / "coverage.jsonl")
    report = runtime.ingest([str(tmp_path / "a")])
    assert report.ok and report.sentences_encoded == 0
    assert sentence_records(runtime) == {} and not any(a.sentences for a in runtime.store.catalog().values())

    # The same ingest under NEWSBOT_MULTILINGUAL's reading would keep them (the learned ranker's: above).
    assert Settings(multilingual=True, _env_file=None).keeps_sentence_vectors
    runtime.settings.learned_ranker = True
    write_jsonl(tmp_path / "b" / "more.jsonl", [article_record(7, prefix="more", sentences=3)])
    assert runtime.ingest([str(tmp_path / "b")]).sentences_encoded > 0
    assert {i.split("::")[0] for i in sentence_records(runtime)} == {"more-0007"}
