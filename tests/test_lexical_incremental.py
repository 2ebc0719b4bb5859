"""The lexical index follows the store by applying what changed, never by rebuilding (issue 14, item 4).

In both store modes: an added, replaced or removed article makes the index read exactly that article's
chunks from Chroma; replaced and removed chunks are never returned; IDF equals a from-scratch build's;
deleted chunks beyond the limit are compacted away so ranking is a fresh build's again; processes on one
machine share the on-disk index (the second one adopts it without work); another process's commit becomes
visible to a running reader within seconds, applied incrementally, and a `newsbot` process on the same data
dir uses the shared index as it is.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from store_checks import article_record, codeword, newsbot, wait_for, write_jsonl

from bot.runtime import Runtime
from bot.settings import Settings
from vectorstore.analysis import terms
from vectorstore.embedder import Embedder
from vectorstore.lexical import LexicalIndex, LexicalIndexManager, index_text

pytest_plugins = ["chroma_server"]

ARTICLES = 20


@pytest.fixture
def settings(mode_settings: Settings) -> Settings:
    return mode_settings


def coverage(tmp_path: Path, count: int = ARTICLES) -> tuple[Path, list[dict]]:
    records = [article_record(i, prefix="inc", sentences=6) for i in range(count)]
    return write_jsonl(tmp_path / "src" / "inc.jsonl", records), records


def edited(path: Path, records: list[dict], i: int, new_word: str) -> None:
    """Article i's codeword becomes `new_word`, in title and text (a new version of the article)."""
    old = codeword("inc", i)
    records[i] = {**records[i], "text": records[i]["text"].replace(old, new_word)}
    records[i]["title"] = records[i]["title"].replace(old, new_word)
    write_jsonl(path, records)


def live(runtime: Runtime) -> dict[str, str]:
    return {c.id: c.text for c in runtime.store.live_chunks()}


def held(index: LexicalIndex) -> dict[str, str]:
    return {c.id: c.text for c in index.chunks}


def hits(index: LexicalIndex, query: str) -> set[str]:
    return {c.article_id for c, _ in index.search(query, k=50)}


def test_each_change_reads_only_its_article_and_dead_chunks_never_return(runtime: Runtime, tmp_path: Path) -> None:
    path, records = coverage(tmp_path)
    runtime.ingest([str(path)])
    manager = runtime.retriever.lexical
    first = manager.current()
    assert manager.last_update is not None and manager.last_update.rebuilt  # the one full build: no index yet
    assert held(first) == live(runtime)

    old_chunks = {c.id for c in runtime.store.chunks_of("inc-0003")}
    edited(path, records, 3, "wharfinger")
    assert runtime.ingest([str(path)]).updated == ["inc-0003"]
    update = manager.last_update
    assert (update.added, update.replaced, update.removed, update.rebuilt) == (0, 1, 0, False)
    assert update.chunks_fetched == runtime.store.catalog()["inc-0003"].chunks
    index = manager.current()
    assert index.token == runtime.store.token()
    assert held(index) == live(runtime)
    assert hits(index, codeword("inc", 3)) == set()
    assert hits(index, "wharfinger") == {"inc-0003"}
    assert not old_chunks & {c.id for c, _ in index.search("wharfinger project schedule", k=500)}
    assert hits(first, codeword("inc", 3)) == {"inc-0003"}  # a searcher is a snapshot: in-flight answers hold

    assert runtime.remove(["inc-0005"]) == 1
    update = manager.last_update
    assert (update.added, update.replaced, update.removed, update.chunks_fetched) == (0, 0, 1, 0)
    assert hits(manager.current(), codeword("inc", 5)) == set()

    extra = write_jsonl(tmp_path / "src" / "late.jsonl", [article_record(40, prefix="inc", sentences=6)])
    assert runtime.ingest([str(extra)]).added == ["inc-0040"]
    update = manager.last_update
    assert (update.added, update.replaced, update.removed, update.rebuilt) == (1, 0, 0, False)
    assert update.chunks_fetched == runtime.store.catalog()["inc-0040"].chunks
    index = manager.current()
    assert held(index) == live(runtime)
    assert hits(index, codeword("inc", 40)) == {"inc-0040"}


def test_idf_is_a_fresh_builds_and_compaction_makes_ranking_one_too(runtime: Runtime, tmp_path: Path) -> None:
    """`idf()` counts live chunks only (exactly, for terms in up to EXACT_DF_MAX chunks: all of them here).
    Ranking counts deleted chunks until merged away; beyond `max_deleted_share` the index is rebuilt in the
    background, after which scores are a fresh build's."""
    path, records = coverage(tmp_path)
    runtime.ingest([str(path)])
    manager = LexicalIndexManager(runtime.store, tmp_path / "lexical", max_deleted_share=0.05)
    manager.refresh()
    for i, word in [(2, "quayside"), (7, "harbourmaster"), (11, "stevedore")]:
        edited(path, records, i, word)
    runtime.ingest([str(path)])
    runtime.remove(["inc-0013"])
    index = manager.refresh()
    assert manager.last_update is not None and not manager.last_update.rebuilt
    fresh = LexicalIndex.build(runtime.store.live_chunks(), "fresh")
    vocabulary = {t for c in runtime.store.live_chunks() for t in terms(index_text(c))}
    vocabulary |= {codeword("inc", 2), codeword("inc", 13), "nosuchterm"}  # now only in deleted chunks, unseen
    assert len(index) == len(fresh)
    for term in vocabulary:
        assert index.idf(term) == pytest.approx(fresh.idf(term), abs=1e-9), term

    assert index.deleted_share > 0.05  # 4 articles' old chunks of ~45: compaction is due
    wait_for(lambda: manager.current().deleted_share == 0.0, 60, "the compaction")
    index = manager.current()
    assert manager.last_update is not None and manager.last_update.rebuilt
    assert index.token == runtime.store.token() and held(index) == live(runtime)
    for query in ["quayside", "crews progress workers", "Odesa grain terminal", codeword("inc", 4)]:
        got = {c.id: round(s, 4) for c, s in index.search(query, k=500)}
        want = {c.id: round(s, 4) for c, s in fresh.search(query, k=500)}
        assert got == want, query


def test_processes_on_one_machine_share_the_index(
    runtime: Runtime, settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    """A second process on the same data dir adopts the index and the first one's updates without any work."""
    path, records = coverage(tmp_path, count=6)
    runtime.ingest([str(path)])
    runtime.retriever.lexical.current()
    other = Runtime(settings)
    other.__dict__["embedder"] = embedder
    manager = other.retriever.lexical
    assert hits(manager.current(), codeword("inc", 2)) == {"inc-0002"}
    assert manager.last_update is None  # loaded as it was: nothing built, nothing read from Chroma

    edited(path, records, 2, "quayside")
    runtime.ingest([str(path)])  # the writer applies its change to the shared index
    wait_for(lambda: hits(manager.current(), "quayside") == {"inc-0002"}, 30, "the other process's view")
    assert manager.last_update is None  # adopted, not applied a second time
    assert manager.current().token == runtime.store.token()


@pytest.mark.parametrize("damage", ["tantivy meta", "record"])
def test_a_damaged_index_is_rebuilt_at_the_next_start(
    runtime: Runtime, settings: Settings, embedder: Embedder, tmp_path: Path, damage: str
) -> None:
    path, _ = coverage(tmp_path, count=4)
    runtime.ingest([str(path)])
    runtime.retriever.lexical.current()
    index_dir = settings.index_dir
    if damage == "record":
        (index_dir / "index.sqlite3").write_bytes(b"not a database" * 100)
        for wal in index_dir.glob("index.sqlite3-*"):
            wal.unlink()
    else:
        for meta in index_dir.glob("gen-*/meta.json"):
            meta.write_text("{not json")
    restarted = Runtime(settings)
    restarted.__dict__["embedder"] = embedder
    assert hits(restarted.retriever.lexical.current(), codeword("inc", 1)) == {"inc-0001"}
    update = restarted.retriever.lexical.last_update
    assert update is not None and update.rebuilt


def test_another_process_commit_is_applied_incrementally_by_a_running_reader(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    """A `newsbot ingest` process commits while this process (a running bot, say) holds its index: the next
    question after about a second sees the article, read alone from Chroma. In server mode the writer has its
    own data dir (another machine); embedded, it shares this one's."""
    reader = Runtime(settings)
    reader.__dict__["embedder"] = embedder
    path, _ = coverage(tmp_path, count=6)
    reader.ingest([str(path)])
    manager = reader.retriever.lexical
    manager.current()

    writer_settings = settings
    if settings.chroma_url:
        writer_settings = settings.model_copy(update={"data_dir": tmp_path / "writer-data"})
    late = article_record(41, prefix="inc", sentences=6)
    worker = newsbot(writer_settings, "ingest", "--quiet", str(write_jsonl(tmp_path / "late.jsonl", [late])))
    assert worker.wait(timeout=300) == 0
    committed = time.monotonic()
    word = codeword("inc", 41)
    wait_for(lambda: hits(manager.current(), word) == {"inc-0041"}, 30, "the other process's article")
    visible_after = time.monotonic() - committed
    assert visible_after < 10, visible_after
    update = manager.last_update
    assert update is not None and (update.added, update.replaced, update.removed, update.rebuilt) == (1, 0, 0, False)
    assert update.chunks_fetched == reader.store.catalog()["inc-0041"].chunks

    # A `newsbot` process on the reader's data dir finds the shared index current and uses it as it is.
    asked = newsbot(settings, "-v", "ask", f"What happened with {word}?", stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)  # fmt: skip
    out, err = asked.communicate(timeout=300)
    assert asked.returncode == 0, err[-2000:]
    assert "lexical index rebuilt" not in err and "lexical index updated" not in err
    assert "inc-0041" in out or late["title"] in out


def test_one_process_compacts_at_a_time(tmp_path: Path) -> None:
    """Processes sharing an index agree through its record that one of them rebuilds it; a killed one's claim
    expires."""
    from vectorstore.lexical import _Record

    first, second = _Record(tmp_path / "index.sqlite3"), _Record(tmp_path / "index.sqlite3")
    assert first.claim_compaction()
    assert not second.claim_compaction()
    assert second.claim_compaction(expires_s=0.0)
