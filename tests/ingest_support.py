"""Helpers for the ingest tests: write small source files and look at the store the way a reader does, and
at the raw Chroma collection underneath it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


# ---- an internal server that ingest must never reach -------------------------------------------------------

SECRET = "The instance metadata password is hunter2-4471"
INTERNAL_PAGE = f"""<html><head><title>Instance metadata</title></head><body><article>
<h1>Instance metadata</h1>
<p>{SECRET}, and it rotates every ninety days on the first Monday of the quarter.</p>
<p>The service account token for the storage bucket is kept in the vault under the newsroom key.</p>
<p>Only the operations team may read these values, and every access to this page is logged.</p>
</article></body></html>""".encode()


@dataclass
class InternalSite:
    """A server on an address the tests do not allow (they allow 127.0.0.1), serving a page with a secret at
    every path. `hits` lists the paths requested: ingest must leave it empty."""

    base_url: str
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path


@contextmanager
def internal_site(host: str = "127.0.0.2") -> Iterator[InternalSite]:
    """Linux routes all of 127.0.0.0/8 to the loopback interface, so 127.0.0.2 needs no setup; being a loopback
    address like the allowed 127.0.0.1, it shows an allowed address allows only itself."""
    box: dict[str, InternalSite] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            box["site"].hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(INTERNAL_PAGE)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(INTERNAL_PAGE)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
            pass

    httpd = ThreadingHTTPServer((host, 0), Handler)
    httpd.daemon_threads = True
    box["site"] = site = InternalSite(f"http://{host}:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def rss(*entries: tuple[str, str, str], title: str = "The Kyiv Ledger") -> bytes:
    """An RSS feed of (title, link, summary) entries; `{base}` in a link becomes the serving site's URL."""
    items = "".join(
        f"<item><title>{t}</title><link>{link}</link><description>{summary}</description>"
        "<pubDate>Sat, 09 Mar 2024 10:00:00 GMT</pubDate></item>"
        for t, link, summary in entries
    )
    head = f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{title}</title>'
    return f"{head}{items}</channel></rss>".encode()


# Two tellings of one story, four months apart: the January article answers the budget question; the May one is
# newer coverage of the same bridge that does not. An answer from January alone is "As of 10 Jan 2024".
BRIDGE_QUESTION = "How much did the Velmora council approve for the harbour bridge?"
BRIDGE_ARTICLES = {
    "velmora-budget": (
        "2024-01-10",
        "Velmora council approves harbour bridge budget",
        "The Velmora harbour council approved 42 million euros for the new harbour bridge on Tuesday. "
        "The money covers the steel deck and two towers. Construction is expected to begin in spring.",
    ),
    "velmora-halted": (
        "2024-05-12",
        "Work on the Velmora harbour bridge halted",
        "Work on the Velmora harbour bridge stopped on Monday after inspectors found cracks in a tower foundation. "
        "The contractor said the opening would slip into next year. Residents gathered at the quay to watch.",
    ),
}


def write_bridge_coverage(folder: Path) -> Path:
    for article_id, (day, title, body) in BRIDGE_ARTICLES.items():
        write(
            folder / f"{article_id}.md",
            markdown(
                article_id, title, body, url=f"https://news.example/{article_id}", date=day, source="The Velmora Ledger"
            ),
        )
    return folder
