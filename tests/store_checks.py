"""Helpers for the store tests in both modes: generated articles, the real `newsbot` CLI in a subprocess, and
a consistency check that looks under the store, at the raw Chroma collections."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.answer.models import Answer
from bot.runtime import Runtime
from bot.settings import Settings
from vectorstore.manifest import META_ID
from vectorstore.sentences import distinct_sentences

NEWSBOT = Path(sys.executable).with_name("newsbot")

_PLACES = ["Odesa", "Kharkiv", "Lviv", "Dnipro", "Poltava", "Sumy", "Chernihiv", "Mykolaiv", "Zhytomyr"]
_THINGS = ["grain terminal", "rail depot", "power substation", "water plant", "school shelter", "bridge"]


def article_record(
    i: int, prefix: str = "gen", sentences: int = 10, source: str = "Generated Gazette"
) -> dict[str, Any]:
    """A plain news-like article with a word no other article has (`codeword`), so it can be looked up."""
    place = _PLACES[i % len(_PLACES)]
    thing = _THINGS[i % len(_THINGS)]
    code = codeword(prefix, i)
    lines = [f"Officials in {place} said the {thing} project {code} moved ahead on schedule this week."]
    for s in range(1, sentences):
        lines.append(
            f"Update {s} on {code}: crews in {place} reported steady progress on the {thing}, "
            f"and the regional council approved {s * 3 + i % 7} more workers for the site."
        )
    return {
        "id": f"{prefix}-{i:04d}",
        "title": f"{place} {thing} project {code}",
        "text": " ".join(lines),
        "source": source,
        "date": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
    }


def codeword(prefix: str, i: int) -> str:
    """A made-up word unique to one generated article (letters only, so the analyser keeps it whole)."""
    letters = "bcdfghjklmnpqrstvwxz"
    n, out = i, ""
    for _ in range(4):
        n, r = divmod(n, len(letters))
        out += letters[r]
    return f"{prefix.replace('-', '')}zq{out}"


def write_jsonl(path: Path, records: Sequence[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a `newsbot` subprocess use the same store as `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        {
            "NEWSBOT_DATA_DIR": str(settings.data_dir),
            "NEWSBOT_COLLECTION": settings.collection,
            "NEWSBOT_CHUNK_CHARS": str(settings.chunk_chars),
            "NEWSBOT_CHUNK_OVERLAP_CHARS": str(settings.chunk_overlap_chars),
        }
    )
    if settings.chroma_url:
        env["NEWSBOT_CHROMA_URL"] = settings.chroma_url
    env["TOKENIZERS_PARALLELISM"] = "false"
    return env


def newsbot(settings: Settings, *args: str, cwd: Path | None = None, **popen: Any) -> subprocess.Popen[str]:
    """Start the real `newsbot` command line on the store of `settings`."""
    return subprocess.Popen(
        [str(NEWSBOT), *args],
        env=settings_env(settings),
        cwd=cwd,
        text=True,
        stdin=subprocess.DEVNULL,
        **popen,
    )


def raw_rows(runtime: Runtime, name: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Ids and metadata of every row of a Chroma collection, read with Chroma's own client, paged."""
    collection = runtime.client.get_collection(name)  # type: ignore[attr-defined]
    ids: list[str] = []
    metas: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = collection.get(include=["metadatas"], limit=5000, offset=offset)
        ids += page["ids"]
        metas += [dict(m or {}) for m in page["metadatas"] or []]
        if len(page["ids"]) < 5000:
            return ids, metas
        offset += 5000


def assert_store_consistent(runtime: Runtime) -> dict[str, int]:
    """Every live article complete and present once: its live chunks in Chroma are exactly positions
    0..chunks-1 of the version the manifest names. Returns live chunks per article."""
    name = runtime.settings.collection
    manifest_ids, manifest_metas = raw_rows(runtime, f"{name}-articles")
    article_ids = [i for i, m in zip(manifest_ids, manifest_metas, strict=True) if m.get("kind") == "article"]
    assert len(article_ids) == len(set(article_ids)), "an article is in the manifest twice"
    removed = {i for i, m in zip(manifest_ids, manifest_metas, strict=True) if m.get("kind") == "removed"}
    assert set(manifest_ids) - set(article_ids) - removed <= {META_ID}, "unknown manifest rows"
    live = {i: m for i, m in zip(manifest_ids, manifest_metas, strict=True) if m.get("kind") == "article"}

    chunk_ids, chunk_metas = raw_rows(runtime, name)
    assert len(chunk_ids) == len(set(chunk_ids))
    positions: dict[str, Counter[int]] = {a: Counter() for a in live}
    for meta in chunk_metas:
        article = live.get(meta["article_id"])
        if article is not None and meta["version"] == article["version"]:
            positions[meta["article_id"]][int(meta["position"])] += 1
    for article_id, meta in live.items():
        expected = Counter(range(int(meta["chunks"])))
        assert meta["chunks"] > 0, f"{article_id} is live with no chunks"
        assert positions[article_id] == expected, f"{article_id}: live chunks {dict(positions[article_id])}"

    catalog = runtime.store.catalog()
    assert set(catalog) == set(live)
    assert_sentences_consistent(runtime)
    return {article_id: int(meta["chunks"]) for article_id, meta in live.items()}


def assert_sentences_consistent(runtime: Runtime) -> dict[str, str]:
    """The kept sentence vectors are exactly the sentences of the live chunks of the articles marked as having
    them: none of a dead version, of another article or of no chunk. Returns sentence id -> article id."""
    ids, metas = raw_rows(runtime, f"{runtime.settings.collection}-sentences")
    assert len(ids) == len(set(ids))
    catalog = runtime.store.catalog()
    kept = [a for a in catalog.values() if a.sentences]
    expected = {s.id: s.article_id for s in distinct_sentences(runtime.store.chunks_of_versions(kept))}
    assert dict(zip(ids, (m["article_id"] for m in metas), strict=True)) == expected
    return expected


def assert_grounded(runtime: Runtime, answer: Answer) -> None:
    """Every sentence cites a source whose cited span really contains it, verbatim."""
    assert not answer.declined
    numbers = {c.number for c in answer.citations}
    for sentence in answer.sentences:
        assert sentence.citations, f"uncited sentence: {sentence.text}"
        for n in sentence.citations:
            assert n in numbers
            citation = next(c for c in answer.citations if c.number == n)
            text = runtime.store.article_text(citation.article_id)
            assert text is not None
            span = text[citation.start : citation.end]
            assert sentence.text in span, f"[{n}] does not contain: {sentence.text}"
    for citation in answer.citations:
        source = runtime.store.article_text(citation.article_id) or ""
        for part in citation.quote.split(" … "):
            assert part in source


def wait_for(predicate: Callable[[], object], timeout_s: float, what: str) -> None:
    """Wait on a condition, never a fixed sleep: a loaded machine only makes it take longer."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
