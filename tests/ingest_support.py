"""Helpers for the ingest tests: write small source files and look at the store the way a reader does, and
at the raw Chroma collection underneath it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from bot.runtime import Runtime
from vectorstore.store import ArticleStore

Snapshot = dict[str, tuple[str, str | None, list[tuple[int, int, int, str]]]]


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def markdown(article_id: str, title: str, body: str, **fields: str) -> str:
    """A Markdown article with YAML front matter."""
    lines = ["---", f"id: {article_id}", f"title: {title!r}"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "\n".join([*lines, "---", body.strip(), ""])


def snapshot(store: ArticleStore) -> Snapshot:
    """What readers see: per article its live version, text and chunks (position, start, end, text)."""
    return {
        article_id: (
            live.version,
            store.article_text(article_id),
            [(c.position, c.start, c.end, c.text) for c in store.chunks_of(article_id)],
        )
        for article_id, live in sorted(store.catalog().items())
    }


def raw_chunks(runtime: Runtime) -> list[dict[str, Any]]:
    """Metadata of every chunk in the Chroma collection, live or not, read with Chroma's own client."""
    collection = runtime.client.get_collection(runtime.settings.collection)  # type: ignore[attr-defined]
    got = collection.get(include=["metadatas"])
    return list(got["metadatas"] or [])


def versions_by_article(runtime: Runtime) -> dict[str, Counter[str]]:
    """article id -> Counter(version -> chunks) over the raw collection."""
    out: dict[str, Counter[str]] = {}
    for meta in raw_chunks(runtime):
        out.setdefault(meta["article_id"], Counter())[meta["version"]] += 1
    return out


def all_chunk_texts(store: ArticleStore) -> list[str]:
    return [c.text for c in store.live_chunks()]
