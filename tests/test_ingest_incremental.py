"""Incremental and safe: unchanged articles cost nothing, an edit leaves exactly one version, --prune removes
only what a complete source no longer has, and a crash mid-commit leaves the old or the new version whole."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from ingest_support import markdown, raw_chunks, snapshot, versions_by_article, write

from bot.runtime import Runtime
from ingest.pipeline import embedding_text
from vectorstore.journal import Journal
from vectorstore.manifest import Manifest

BODIES = {
    "port": "The port of Izmail reopened on Monday. Ships queued on the Danube for two days. Exports rose.",
    "rail": "Ukrzaliznytsia added a night train from Kyiv to Chelm. Tickets sold out within an hour.",
    "school": "Kharkiv opened a school in a metro station. About 1,000 children now study underground there.",
}


@pytest.fixture
def coverage(tmp_path: Path) -> Path:
    root = tmp_path / "coverage"
    for name, body in BODIES.items():
        write(root / f"{name}.md", markdown(name, f"{name.title()} story", body, date="2024-05-01"))
    write(
        root / "wire.jsonl",
        "\n".join(
            json.dumps(
                {
                    "id": f"wire-{n}",
                    "title": f"Wire {n}",
                    "text": f"Wire report number {n} on the front line.",
                }
            )
            for n in (1, 2)
        )
        + "\n",
    )
    return root


@pytest.fixture
def small_chunks(runtime: Runtime) -> Runtime:
    runtime.settings.chunk_chars = 50
    runtime.settings.chunk_overlap_chars = 25
    return runtime


def test_unchanged_corpus_embeds_nothing(runtime: Runtime, coverage: Path) -> None:
    first = runtime.ingest([str(coverage)])
    assert first.ok and len(first.added) == 5 and first.chunks_embedded > 0
    before = snapshot(runtime.store)
    raw_before = sorted(json.dumps(m, sort_keys=True) for m in raw_chunks(runtime))
    stamps = {a.id: a.ingested_at for a in runtime.store.catalog().values()}

    second = runtime.ingest([str(coverage)])
    assert second.ok and second.chunks_embedded == 0
    assert sorted(second.unchanged) == sorted(first.added)
    assert second.added == second.updated == second.removed == []
    assert snapshot(runtime.store) == before
    assert sorted(json.dumps(m, sort_keys=True) for m in raw_chunks(runtime)) == raw_before
    assert {a.id: a.ingested_at for a in runtime.store.catalog().values()} == stamps


def test_unchanged_corpus_never_loads_the_model(runtime: Runtime, coverage: Path) -> None:
    assert runtime.ingest([str(coverage)]).ok
    fresh = Runtime(runtime.settings)  # another process, say: no model loaded yet
    report = fresh.ingest([str(coverage)])
    assert report.chunks_embedded == 0 and len(report.unchanged) == 5
    assert "embedder" not in fresh.__dict__


def test_edited_article_leaves_exactly_one_version(small_chunks: Runtime, coverage: Path) -> None:
    runtime = small_chunks
    assert runtime.ingest([str(coverage)]).ok
    old = runtime.store.catalog()["port"]
    assert old.chunks >= 3
    untouched = {k: v for k, v in snapshot(runtime.store).items() if k != "port"}

    edited = "The port of Izmail reopened on Tuesday. Ships queued for a day."  # shorter: fewer chunks
    write(coverage / "port.md", markdown("port", "Port story", edited, date="2024-05-02"))
    report = runtime.ingest([str(coverage)])
    assert report.updated == ["port"] and report.added == [] and len(report.unchanged) == 4

    new = runtime.store.catalog()["port"]
    assert new.version != old.version and new.date == "2024-05-02"
    assert runtime.store.article_text("port") == edited
    chunks = runtime.store.chunks_of("port")
    assert report.chunks_embedded == len(chunks) == new.chunks < old.chunks
    versions = versions_by_article(runtime)
    assert versions["port"] == {new.version: new.chunks}  # in Chroma itself: one version, no leftovers
    assert all(len(v) == 1 for v in versions.values())
    assert {k: v for k, v in snapshot(runtime.store).items() if k != "port"} == untouched


def test_metadata_edit_is_an_update(runtime: Runtime, coverage: Path) -> None:
    assert runtime.ingest([str(coverage)]).ok
    write(coverage / "rail.md", markdown("rail", "Night train to Chelm", BODIES["rail"], date="2024-05-01"))
    report = runtime.ingest([str(coverage)])
    assert report.updated == ["rail"]
    assert {c.title for c in runtime.store.chunks_of("rail")} == {"Night train to Chelm"}
    assert len(versions_by_article(runtime)["rail"]) == 1


def test_prune_removes_only_what_a_complete_source_no_longer_has(
    runtime: Runtime, coverage: Path, tmp_path: Path
) -> None:
    other = write(tmp_path / "other" / "elsewhere.md", markdown("elsewhere", "Elsewhere", BODIES["port"]))
    assert runtime.ingest([str(coverage), str(other.parent)]).ok
    (coverage / "school.md").unlink()

    kept = runtime.ingest([str(coverage)])
    assert kept.removed == [] and "school" in runtime.store.catalog()  # no --prune: nothing removed

    pruned = runtime.ingest([str(coverage)], prune=True)
    assert pruned.removed == ["school"] and pruned.ok
    catalog = runtime.store.catalog()
    assert "school" not in catalog and "elsewhere" in catalog  # another source is not touched
    assert "school" not in versions_by_article(runtime)


def test_prune_with_a_failure_in_the_source_removes_nothing(runtime: Runtime, coverage: Path) -> None:
    assert runtime.ingest([str(coverage)]).ok
    before = snapshot(runtime.store)
    (coverage / "school.md").unlink()
    write(coverage / "broken.md", b"")
    report = runtime.ingest([str(coverage)], prune=True)
    assert [f.item for f in report.failed] == [str(coverage / "broken.md")]
    assert report.removed == []
    assert snapshot(runtime.store) == before


def test_prune_of_a_vanished_source_removes_nothing(runtime: Runtime, coverage: Path) -> None:
    assert runtime.ingest([str(coverage)]).ok
    before = snapshot(runtime.store)
    shutil.rmtree(coverage)
    report = runtime.ingest([str(coverage)], prune=True)
    assert [(f.item, f.reason) for f in report.failed] == [(str(coverage), "no such file or directory")]
    assert report.removed == [] and snapshot(runtime.store) == before


def test_broken_jsonl_line_prunes_nothing_from_that_file(runtime: Runtime, coverage: Path) -> None:
    assert runtime.ingest([str(coverage)]).ok
    write(
        coverage / "wire.jsonl",
        json.dumps({"id": "wire-1", "text": "Wire report number 1 on the front line."}) + "\n{not json\n",
    )
    report = runtime.ingest([str(coverage)], prune=True)
    assert [f.item for f in report.failed] == [f"{coverage / 'wire.jsonl'}:2"]
    assert report.removed == [] and "wire-2" in runtime.store.catalog()


# ---- crash safety ------------------------------------------------------------------------------------------


class SimulatedCrash(RuntimeError):
    pass


def _crash(*_args: object, **_kwargs: object) -> None:
    raise SimulatedCrash("the writer died here")


def test_crash_before_the_manifest_flip_keeps_the_old_version(
    small_chunks: Runtime, coverage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of the new version are written, then the writer dies before the flip: readers see only the old
    version (never both, never neither); the rerun completes and nothing dead remains."""
    runtime = small_chunks
    assert runtime.ingest([str(coverage)]).ok
    before = snapshot(runtime.store)
    old_version = runtime.store.catalog()["port"].version
    edited = "Izmail port traffic doubled in June. A second pilot station opened downstream."
    write(coverage / "port.md", markdown("port", "Port story", edited, date="2024-06-01"))
    write(
        coverage / "new.md", markdown("new", "New story", "A brand new article about the Odesa opera house.")
    )

    # The store reads the versions it replaces (from the manifest) after writing the chunks and before the flip.
    monkeypatch.setattr(Manifest, "live_versions", _crash)
    with pytest.raises(SimulatedCrash):
        runtime.ingest([str(coverage)])
    monkeypatch.undo()

    versions = versions_by_article(runtime)
    assert len(versions["port"]) == 2 and "new" in versions  # the new chunks are in Chroma ...
    assert snapshot(runtime.store) == before  # ... but no reader sees them
    store = runtime.store
    assert {c.version for c in store.live_chunks() if c.article_id == "port"} == {old_version}
    probe = runtime.embedder.embed_query(f"Port story\n{edited}")  # nearest to the unflipped chunks
    hits = store.dense_search(probe, 5)
    assert hits and all(c.version == store.catalog()[c.article_id].version for c, _ in hits)
    assert not [c for c, _ in hits if c.article_id == "new" or "Izmail port traffic" in c.text]

    rerun = runtime.ingest([str(coverage)])
    assert rerun.ok and rerun.updated == ["port"] and rerun.added == ["new"]
    assert runtime.store.article_text("port") == edited
    catalog = runtime.store.catalog()
    assert versions_by_article(runtime) == {a.id: {a.version: a.chunks} for a in catalog.values()}


def test_crash_after_the_flip_leaves_the_new_version_and_gc_removes_the_old(
    small_chunks: Runtime, coverage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flip happened but the replaced version's chunks were not deleted: readers see only the new version,
    recent dead chunks survive a collection with a grace period (they might be another writer's), and the
    next ingest collects them."""
    runtime = small_chunks
    assert runtime.ingest([str(coverage)]).ok
    old = runtime.store.catalog()["port"]
    old_texts = [c.text for c in runtime.store.chunks_of("port")]
    edited = "Izmail port traffic doubled in June. A second pilot station opened downstream."
    write(coverage / "port.md", markdown("port", "Port story", edited))

    # Forgetting which version it replaced is what a writer killed right after the flip leaves behind.
    monkeypatch.setattr(Manifest, "live_versions", lambda self, ids: {})
    monkeypatch.setattr(Journal, "close", lambda self, entries: None)  # killed: it never closed its entry
    assert runtime.ingest([str(coverage)]).updated == ["port"]
    monkeypatch.undo()

    store = runtime.store
    new = store.catalog()["port"]
    assert versions_by_article(runtime)["port"] == {old.version: old.chunks, new.version: new.chunks}
    assert store.article_text("port") == edited
    assert {c.version for c in store.chunks_of("port")} == {new.version}
    probe = runtime.embedder.embed_query(f"Port story\n{old_texts[0]}")
    assert not [c for c, _ in store.dense_search(probe, 10) if c.version == old.version]
    assert not [c for c in store.live_chunks() if c.version == old.version]

    assert store.collect_garbage(grace_seconds=3600) == 0
    # An embedded store collects with no grace at the start of a run; a server keeps NEWSBOT_GC_GRACE_S for
    # other writers' commits in flight, and there are none here.
    runtime.settings.gc_grace_s = 0.0
    rerun = runtime.ingest([str(coverage)])
    assert rerun.ok and rerun.chunks_embedded == 0 and "port" in rerun.unchanged
    assert versions_by_article(runtime)["port"] == {new.version: new.chunks}
    assert store.collect_garbage(grace_seconds=0) == 0


def test_new_chunk_settings_reindex_everything_once(runtime: Runtime, coverage: Path) -> None:
    """The version covers how an article is chunked, so a settings change is not 'unchanged' forever."""
    assert runtime.ingest([str(coverage)]).ok
    assert all(a.chunks == 1 for a in runtime.store.catalog().values())
    runtime.settings.chunk_chars = 50
    runtime.settings.chunk_overlap_chars = 0
    report = runtime.ingest([str(coverage)])
    assert sorted(report.updated) == sorted(runtime.store.catalog()) and report.unchanged == []
    catalog = runtime.store.catalog()
    assert catalog["port"].chunks == 3
    assert all(len(c.text) <= 50 for c in runtime.store.live_chunks())
    assert versions_by_article(runtime) == {a.id: {a.version: a.chunks} for a in catalog.values()}
    again = runtime.ingest([str(coverage)])
    assert again.chunks_embedded == 0 and len(again.unchanged) == 5


def test_identical_chunks_in_one_run_are_encoded_once(runtime: Runtime, tmp_path: Path) -> None:
    """The same story filed under two URLs: both are stored, the model encodes its passages once."""
    body = BODIES["port"] + " " + BODIES["rail"]
    records = [
        {"id": "wire-a", "title": "Danube ports busy", "text": body, "url": "https://a.example/ports"},
        {"id": "wire-b", "title": "Danube ports busy", "text": body, "url": "https://b.example/ports"},
        {"id": "own", "title": "Own story", "text": BODIES["school"]},
    ]
    path = write(tmp_path / "wire.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")
    runtime.settings.chunk_chars = 80
    report = runtime.ingest([str(path)])
    store = runtime.store
    a, b, own = (store.chunks_of(i) for i in ("wire-a", "wire-b", "own"))
    assert len(a) == len(b) > 1 and [c.text for c in a] == [c.text for c in b]
    assert report.chunks_embedded == len(a) + len(b) + len(own)
    assert report.texts_encoded == len({embedding_text(c) for c in a + own}) < report.chunks_embedded
    hits = store.dense_search(runtime.embedder.embed_query(f"Danube ports busy\n{a[-1].text}"), 2)
    assert {c.article_id for c, _ in hits} == {"wire-a", "wire-b"}
    assert hits[0][1] == pytest.approx(hits[1][1], abs=1e-6)  # one vector, stored twice
