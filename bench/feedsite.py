"""A news site on 127.0.0.1 for the polling benchmarks: RSS feeds, article pages, robots.txt, and a request log.

    site = FeedSite.start()
    site.publish("world", SiteArticle("a1", "Title", "Body text.", datetime.now(UTC)))
    url = site.feed_url("world")           # what `newsbot sources add` follows
    site.requests()                        # every request the site received, in order

Feeds answer conditional requests as a CMS behind a cache does (ETag and Last-Modified, 304 when unchanged)
unless `conditional=False`, which makes every poll read the whole feed. newsbot fetches only public addresses:
the polling processes need NEWSBOT_FETCH_ALLOW=127.0.0.1.
"""

from __future__ import annotations

import hashlib
import html
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class SiteArticle:
    id: str
    title: str
    body: str  # paragraphs separated by blank lines
    published: datetime


@dataclass(frozen=True)
class Request:
    kind: str  # feed, page, robots, other
    path: str
    status: int
    at: float  # time.time() when it was answered


class FeedSite:
    """The site and its HTTP server (a daemon thread); `stop()` shuts it down."""

    def __init__(self, conditional: bool = True) -> None:
        self.conditional = conditional
        self._feeds: dict[str, list[SiteArticle]] = {}
        self._pages: dict[str, SiteArticle] = {}
        self._log: list[Request] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @classmethod
    def start(cls, conditional: bool = True) -> FeedSite:
        site = cls(conditional)
        site._thread.start()
        return site

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def feed_url(self, feed: str) -> str:
        return f"{self.url}/feeds/{feed}.xml"

    def page_url(self, article_id: str) -> str:
        return f"{self.url}/articles/{article_id}.html"

    def publish(self, feed: str, article: SiteArticle) -> None:
        """The article's page goes up and it leads its feed (newest first), at once."""
        with self._lock:
            self._pages[article.id] = article
            self._feeds.setdefault(feed, []).insert(0, article)

    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._log)

    # ---- rendering ----

    def feed_xml(self, feed: str) -> bytes:
        with self._lock:
            entries = list(self._feeds.get(feed, []))
        items = "".join(
            f"<item><title>{html.escape(a.title)}</title><link>{self.page_url(a.id)}</link>"
            f'<guid isPermaLink="false">{a.id}</guid><pubDate>{format_datetime(a.published)}</pubDate>'
            f"<description>{html.escape(a.body.split(chr(10))[0])}</description></item>"
            for a in entries
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Bench Ledger: {feed}</title><link>{self.url}/</link><description>bench</description>"
            f"{items}</channel></rss>"
        ).encode()

    def page_html(self, article: SiteArticle) -> bytes:
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in article.body.split("\n\n") if p.strip())
        return (
            f"<!doctype html><html><head><title>{html.escape(article.title)}</title>"
            f'<meta property="article:published_time" content="{article.published.isoformat()}">'
            f'<link rel="canonical" href="{self.page_url(article.id)}"></head>'
            f"<body><article><h1>{html.escape(article.title)}</h1>{paragraphs}</article></body></html>"
        ).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                kind, status, body, headers = site._answer(self.path, dict(self.headers.items()))
                with site._lock:
                    site._log.append(Request(kind, self.path, status, time.time()))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
                pass

        return Handler

    def _answer(self, path: str, headers: dict[str, str]) -> tuple[str, int, bytes, dict[str, str]]:
        if path == "/robots.txt":
            return "robots", 200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"}
        if path.startswith("/feeds/") and path.endswith(".xml"):
            body = self.feed_xml(path.removeprefix("/feeds/").removesuffix(".xml"))
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            with self._lock:
                newest = max((a.published for a in self._feeds.get(path[7:-4], [])), default=None)
            cache = {"ETag": etag, "Content-Type": "application/rss+xml"}
            if newest is not None:
                cache["Last-Modified"] = format_datetime(newest, usegmt=True)
            if self.conditional and headers.get("If-None-Match") == etag:
                return "feed", 304, b"", {"ETag": etag}
            return "feed", 200, body, cache if self.conditional else {"Content-Type": "application/rss+xml"}
        if path.startswith("/articles/") and path.endswith(".html"):
            with self._lock:
                article = self._pages.get(path.removeprefix("/articles/").removesuffix(".html"))
            if article is not None:
                return "page", 200, self.page_html(article), {"Content-Type": "text/html; charset=utf-8"}
        return "other", 404, b"not found", {"Content-Type": "text/plain"}
