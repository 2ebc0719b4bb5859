"""Sentence vectors kept at ingest (`vectorstore/sentences.py`): written with their chunks,
replaced, removed and collected with them, in both store modes; read by the answer
engine so that a question embeds none of its evidence sentences, and a store without them still answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from store_checks import article_record, assert_sentences_consistent, assert_store_consistent, raw_rows, write_jsonl

from bot.answer.engine import AnswerEngine, EngineConfig
from bot.answer.models import Answer
from bot.runtime import Runtime
from bot.settings import Settings
from vectorstore.embedder import Embedder
from vectorstore.manifest import Manifest
from vectorstore.models import Passage
from vectorstore.sentences import chunk_sentences, distinct_sentences
from vectorstore.store import KeptSentences

pytest_plugins = ["chroma_server"]

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "sample"
ITALY_ARTICLE = "000_17fa544b3ee55eda"


def corpus(path: Path, count: int = 3) -> list[dict]:
    """Articles of two chunks each at the default 600/150 chunking, so a sentence is in both (the overlap)."""
    records = [article_record(i, prefix="kept", sentences=5) for i in range(count)]
    write_jsonl(path, records)
    return records


def encoded_texts(embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the embedder encodes from now on (the session's real embedder, restored after the test)."""
    seen: list[str] = []
    encode = embedder.encode

    def counting(texts: Sequence[str], batch_size: int | None = None) -> list[list[float]]:
        seen.extend(texts)
        return encode(texts, batch_size)

    monkeypatch.setattr(embedder, "encode", counting)
    return seen


def sentence_records(runtime: Runtime) -> dict[str, str]:
    """Sentence id -> version, from the raw `<collection>-sentences` collection."""
    ids, metas = raw_rows(runtime, f"{runtime.settings.collection}-sentences")
    return {i: m["version"] for i, m in zip(ids, metas, strict=True)}


def answer_parts(answer: Answer) -> tuple[bool, list[str], list[tuple[str, int, int]]]:
    return (
        answer.declined,
        [s.text for s in answer.sentences],
        [(c.article_id, c.start, c.end) for c in answer.citations],
    )


# ---- the store: written, replaced, removed and collected with their chunks ----------------------------------


@pytest.fixture
def settings(mode_settings: Settings) -> Settings:
    """Each store mode (embedded, a `chroma run` server)."""
    return mode_settings


@contextmanager
def as_before_they_were_kept(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Ingest as newsbot did before it kept sentence vectors, or as another version still may: an older store."""
    options = runtime.ingest_options
    with monkeypatch.context() as patched:
        patched.setattr(runtime, "ingest_options", lambda prune=False: replace(options(prune), sentence_vectors=False))
        yield


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


def test_an_older_store_is_filled_from_its_stored_chunks_on_its_next_ingest(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Articles stored without sentence vectors (before they were kept) get them on the first ingest that keeps
    them, though unchanged, and never again after."""
    path = tmp_path / "src" / "coverage.jsonl"
    corpus(path)
    with as_before_they_were_kept(runtime, monkeypatch):
        runtime.ingest([str(path)])
    assert sentence_records(runtime) == {}

    report = runtime.ingest([str(path)])
    assert report.chunks_embedded == 0 and len(report.unchanged) == 3  # the chunks untouched...
    assert sorted(report.sentences_filled) == ["kept-0000", "kept-0001", "kept-0002"]  # ...their sentences kept
    assert "sentence vectors kept for 3 stored" in report.summary()
    assert len(assert_sentences_consistent(runtime)) == len(distinct_sentences(runtime.store.live_chunks()))
    again = runtime.ingest([str(path)])
    assert again.sentences_filled == [] and again.sentences_encoded == 0


def test_a_version_replaced_while_it_is_filled_keeps_none(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filling reads a version, embeds its sentences and writes them; another writer may replace the version
    meanwhile (and delete its sentences before they were written): they are deleted again, the new version is
    not marked."""
    path = tmp_path / "src" / "coverage.jsonl"
    records = corpus(path, count=2)
    with as_before_they_were_kept(runtime, monkeypatch):
        runtime.ingest([str(path)])
        stale = runtime.store.catalog()["kept-0001"]
        chunks = runtime.store.chunks_of_versions([stale])
        records[1]["text"] += " Late on Friday the council cancelled the project."
        write_jsonl(path, records)
        assert runtime.ingest([str(path)]).updated == ["kept-0001"]  # the other writer, an older version

    sentences = distinct_sentences(chunks)
    kept = KeptSentences(sentences, runtime.embedder.encode([s.text for s in sentences]))
    assert runtime.store.keep_sentences([stale], kept) == []
    assert sentence_records(runtime) == {} and not runtime.store.catalog()["kept-0001"].sentences
    assert_store_consistent(runtime)


# ---- the default configuration ------------------------------------------------------------------------------


def test_the_default_configuration_keeps_them(settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    """Ingest keeps what the engine reads; a question then embeds none of its evidence sentences."""
    default = Settings(  # the fixture's store, nothing else set
        data_dir=settings.data_dir, chroma_url=settings.chroma_url, collection=settings.collection, _env_file=None
    )
    runtime = _runtime(default, embedder)
    corpus(tmp_path / "a" / "coverage.jsonl")
    report = runtime.ingest([str(tmp_path / "a")])
    assert report.ok and report.sentences_encoded > 0 and all(a.sentences for a in runtime.store.catalog().values())
    assert len(assert_sentences_consistent(runtime)) == len(distinct_sentences(runtime.store.live_chunks()))
    assert runtime.engine.sentence_vectors.kept is not None


# ---- the engine reads them ------------------------------------------------------------------------------------


@pytest.fixture
def sample_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None)


def _runtime(settings: Settings, embedder: Embedder) -> Runtime:
    runtime = Runtime(settings)
    runtime.__dict__["embedder"] = embedder
    return runtime


def _embedding_everything(runtime: Runtime) -> Callable[[str], Answer]:
    """The engine as it was before sentence vectors were kept: every sentence embedded when asked."""
    engine = AnswerEngine(runtime.retriever, EngineConfig())
    engine.sentence_vectors.kept = None
    return engine.answer


QUESTIONS = ("What did Italy pledge?", "Which air defense system was Italy prepared to send?")


def test_the_engine_embeds_none_of_the_evidence_sentences_ingest_kept(
    sample_settings: Settings, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _runtime(sample_settings, embedder)
    assert runtime.ingest([str(SAMPLE_DIR)]).ok
    before = [answer_parts(_embedding_everything(runtime)(q)) for q in QUESTIONS]
    engine = AnswerEngine(runtime.retriever, EngineConfig())
    encoded = encoded_texts(embedder, monkeypatch)
    for question, expected in zip(QUESTIONS, before, strict=True):
        encoded.clear()
        answer = engine.answer(question)
        assert answer_parts(answer) == expected and not answer.declined  # the same scores, the same answer
        assert len(encoded) == 1  # the question alone: every sentence the ranker scored was kept
        # Where the ranker's time went (bench/query.py --learned reports it): its parts make up the scoring.
        t = answer.timings_ms
        parts = ("similarity_ms", "features_ms", "trees_ms")
        assert all(t[k] > 0 for k in (*parts, "decline_ms")) and "score_ms" in t
        assert sum(t[k] for k in parts) == pytest.approx(t["score_ms"]) and t["score_ms"] < t["total_ms"]


def test_a_store_without_them_embeds_only_the_sentences_it_lacks(
    sample_settings: Settings, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One article's sentence vectors missing (as in a store written before they were kept, until its next
    ingest fills them), the other's kept: the answer is the same, and only the first article's sentences are
    embedded at question time."""
    runtime = _runtime(sample_settings, embedder)
    assert runtime.ingest([str(SAMPLE_DIR)]).ok
    raw = runtime.client.get_collection(f"{sample_settings.collection}-sentences")  # type: ignore[attr-defined]
    raw.delete(where={"article_id": ITALY_ARTICLE})
    assert {i.split("::")[0] for i in sentence_records(runtime)} == {"004_47dad2c8b746e476"}
    before = answer_parts(_embedding_everything(runtime)(QUESTIONS[0]))

    engine = AnswerEngine(runtime.retriever, EngineConfig())
    passages = runtime.retriever.search(QUESTIONS[0], k=engine.config.evidence_passages)
    assert {p.chunk.article_id for p in passages} == {ITALY_ARTICLE, "004_47dad2c8b746e476"}
    lacking = {s.text for p in passages if p.chunk.article_id == ITALY_ARTICLE for s in chunk_sentences(p.chunk)}
    encoded = encoded_texts(embedder, monkeypatch)
    assert answer_parts(engine.answer(QUESTIONS[0])) == before
    assert set(encoded[1:]) == lacking and len(encoded) == 1 + len(lacking)  # the question, then the older's


def test_a_sentence_split_otherwise_is_embedded_not_read(
    sample_settings: Settings, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader asks the store for a chunk's sentences as ingest split them (`chunk_sentences`); a text the
    engine split otherwise (here two sentences as one) has no record, and its vector is the embedder's now."""
    runtime = _runtime(sample_settings, embedder)
    runtime.ingest([str(SAMPLE_DIR)])
    chunk = runtime.store.chunks_of(ITALY_ARTICLE)[0]
    first, second = chunk_sentences(chunk)[:2]
    joined = chunk.text[first.start - chunk.start : second.end - chunk.start]
    engine = AnswerEngine(runtime.retriever, EngineConfig())
    asked = np.asarray(embedder.embed_query("Which companies joined the alliance?"), dtype=np.float32)
    expected = [float(np.asarray(v, dtype=np.float32) @ asked) for v in embedder.encode([first.text, joined])]
    encoded = encoded_texts(embedder, monkeypatch)
    got = engine.sentence_vectors.similarities(asked.tolist(), [first.text, joined], [Passage(chunk, 1.0)])
    assert got == pytest.approx(expected, abs=1e-5) and encoded == [joined]
