"""Sitemaps as followed sources (issue 14): XML sitemaps, Google News sitemaps and sitemap indexes, recognised by
their content, polled politely and incrementally, within their limits. Every page, sitemap and fault is served by
a real HTTP server on 127.0.0.1 and requests are counted there; sources are polled by `poll_due` on a real store
with an injected clock."""

from __future__ import annotations

import gzip
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Route, WebServer
from ingest_support import internal_site, snapshot
from test_polite_fetch import page

from bot.polling import Poller, PollResult, poll_due
from bot.runtime import Runtime
from ingest.registry import new_source

T0 = 1_800_000_000.0
HOUR = 3600.0
NEWS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


@pytest.fixture(autouse=True)
def _test_site(runtime: Runtime) -> None:
    runtime.settings.fetch_timeout_s = 5.0  # ample for 127.0.0.1 even on a busy machine
    runtime.settings.fetch_allow = ["127.0.0.1"]  # the test site; only public addresses are fetched otherwise


def urlset(*entries: tuple[str, str | None], news: bool = False) -> bytes:
    """A sitemap of (path, lastmod) entries on the serving site; `news` makes it a Google News sitemap."""
    items = []
    for path, lastmod in entries:
        stamp = f"<lastmod>{lastmod}</lastmod>" if lastmod and not news else ""
        meta = (
            f"<news:news><news:publication><news:name>The Velmora Ledger</news:name>"
            f"<news:language>en</news:language></news:publication>"
            f"<news:publication_date>{lastmod}</news:publication_date><news:title>Plan {path}</news:title></news:news>"
            if news
            else ""
        )
        items.append(f"<url><loc>{{base}}{path}</loc>{stamp}{meta}</url>")
    spaces = f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" {NEWS if news else ""}'
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {spaces}>{"".join(items)}</urlset>'.encode()


def index(*children: tuple[str, str | None]) -> bytes:
    """A sitemap index of (URL or path, lastmod) children."""
    items = "".join(
        f"<sitemap><loc>{'' if url.startswith('http') else '{base}'}{url}</loc>"
        + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
        + "</sitemap>"
        for url, lastmod in children
    )
    return f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'.encode()


def serve_pages(server: WebServer, count: int, feed: int = 1) -> list[str]:
    paths = [f"/p/{feed}-{e}.html" for e in range(count)]
    for e, path in enumerate(paths):
        server.routes[path] = Route(page(feed, e))
    return paths


def follow(runtime: Runtime, *urls: str) -> None:
    with runtime.writing():
        for url in urls:
            runtime.registry.put(new_source(url, 600, T0))


def poll(runtime: Runtime, server: WebServer, now: float) -> list[PollResult]:
    server.hits.clear()
    server.not_modified.clear()
    return poll_due(runtime, now)


def day(n: int) -> str:
    return f"2024-03-{n:02d}"


def test_an_unchanged_sitemap_polled_twice_fetches_no_page_and_a_dropped_url_deletes_nothing(
    runtime: Runtime, http_server: WebServer
) -> None:
    """The first poll stores every page; the next sends the ETag and gets 304; without ETags the sitemap is read
    again and its stored URLs whose lastmod is not newer are not fetched; a URL dated later is fetched alone and
    replaced; a URL dropped from the sitemap deletes nothing."""
    paths = serve_pages(http_server, 4)
    http_server.routes["/sitemap.xml"] = Route(
        urlset(*((p, day(5 + i)) for i, p in enumerate(paths))), "application/xml", etag=True
    )
    follow(runtime, http_server.url("/sitemap.xml"))

    (first,) = poll(runtime, http_server, T0)
    assert first.ok and first.added == 4 and first.error is None, first.describe()
    assert sorted(http_server.hits) == sorted(["/sitemap.xml", "/robots.txt", *paths])
    before = snapshot(runtime.store)

    (again,) = poll(runtime, http_server, T0 + HOUR)
    assert again.ok and (again.added, again.updated) == (0, 0)
    assert http_server.hits == ["/sitemap.xml"] and http_server.not_modified == ["/sitemap.xml"]

    http_server.routes["/sitemap.xml"].etag = False
    (third,) = poll(runtime, http_server, T0 + 2 * HOUR)
    assert third.ok and http_server.hits == ["/sitemap.xml"] and http_server.not_modified == []
    assert snapshot(runtime.store) == before

    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    http_server.routes["/sitemap.xml"].body = urlset((paths[0], later), *((p, day(1)) for p in paths[1:3]))
    http_server.routes[paths[0]].body = page(1, 0, edition=", after a second vote")
    (fourth,) = poll(runtime, http_server, T0 + 3 * HOUR)
    assert fourth.ok and (fourth.added, fourth.updated) == (0, 1)
    assert sorted(http_server.hits) == sorted(["/sitemap.xml", "/robots.txt", paths[0]])
    assert len(runtime.store.catalog()) == 4  # paths[3] left the sitemap and stays in the archive
    assert "after a second vote" in (runtime.store.article_text(http_server.url(paths[0])) or "")


def test_a_google_news_sitemap_dates_titles_and_names_the_outlet(runtime: Runtime, http_server: WebServer) -> None:
    paths = serve_pages(http_server, 2)
    http_server.routes["/news-sitemap.xml"] = Route(
        urlset((paths[0], "2024-03-07T09:30:00+01:00"), (paths[1], "2024-03-08"), news=True), "text/xml"
    )
    report = runtime.ingest([http_server.url("/news-sitemap.xml")])
    assert report.ok and len(report.added) == 2, report.failed
    stored = runtime.store.catalog()[http_server.url(paths[0])]
    assert (stored.date, stored.source) == ("2024-03-07", "The Velmora Ledger")

    # Stored and not dated later: not fetched again, whatever the sitemap is served as (here gzipped, from an
    # index), and the same article is never stored twice.
    plain = http_server.routes["/news-sitemap.xml"].body.replace(b"{base}", http_server.base_url.encode())
    http_server.routes["/news-sitemap.xml.gz"] = Route(gzip.compress(plain), "application/gzip")
    http_server.routes["/index.xml"] = Route(index(("/news-sitemap.xml.gz", "2024-03-08")), "application/xml")
    http_server.hits.clear()
    again = runtime.ingest([http_server.url("/index.xml")])
    assert again.ok and again.added == [] and len(again.unchanged) == 2
    assert http_server.hits == ["/index.xml", "/news-sitemap.xml.gz"]
    assert len(runtime.store.catalog()) == 2


def test_an_index_is_read_newest_first_within_the_url_limit_and_the_rest_waits(
    runtime: Runtime, http_server: WebServer
) -> None:
    """Of 5 pages due across an index's two sitemaps, the newest 3 (NEWSBOT_SITEMAP_MAX_URLS) are fetched; the
    rest are one skipped line and, since the sitemap is then asked for without validators, fetched next poll."""
    runtime.settings.sitemap_max_urls = 3
    paths = serve_pages(http_server, 5)
    http_server.routes["/old.xml"] = Route(urlset((paths[0], day(1)), (paths[1], day(2))), "application/xml")
    http_server.routes["/new.xml"] = Route(
        urlset((paths[2], day(3)), (paths[3], day(9)), (paths[4], day(4))), "application/xml"
    )
    http_server.routes["/sitemap_index.xml"] = Route(
        index(("/old.xml", day(2)), ("/new.xml", day(9))), "application/xml", etag=True
    )
    follow(runtime, http_server.url("/sitemap_index.xml"))

    (first,) = poll(runtime, http_server, T0)
    assert first.ok and first.added == 3 and first.error is None
    assert sorted(runtime.store.catalog()) == sorted(http_server.url(p) for p in paths[2:])
    assert http_server.hits[:3] == ["/sitemap_index.xml", "/new.xml", "/old.xml"]  # the index's newest first
    (source,) = runtime.registry.all()
    assert source.etag is None  # so the next poll reads the index again rather than getting 304

    (second,) = poll(runtime, http_server, T0 + HOUR)
    assert second.ok and second.added == 2 and len(runtime.store.catalog()) == 5
    assert http_server.not_modified == []
    (source,) = runtime.registry.all()
    assert source.etag  # read whole: the next poll is conditional again


def test_index_limits_cycle_and_refused_addresses_each_cost_their_own_line(
    runtime: Runtime, http_server: WebServer
) -> None:
    """An index listing itself (a cycle), a sitemap on a loopback address not allowed, an HTML page, a 404, an
    index nested deeper than NEWSBOT_SITEMAP_MAX_DEPTH and more sitemaps than NEWSBOT_SITEMAP_MAX_SITEMAPS: each
    is one line, the internal address is never contacted, and the good sitemap's pages are stored."""
    runtime.settings.sitemap_max_depth = 1
    runtime.settings.sitemap_max_sitemaps = 7
    paths = serve_pages(http_server, 2)
    http_server.routes["/good.xml"] = Route(urlset((paths[0], day(5)), (paths[1], day(6))), "application/xml")
    http_server.routes["/deeper.xml"] = Route(index(("/deepest.xml", day(1))), "application/xml")
    http_server.routes["/sitemap-page.xml"] = Route(b"<html><body><p>Our sitemap moved.</p></body></html>")
    for n in range(3):
        http_server.routes[f"/archive-{n}.xml"] = Route(urlset(), "application/xml")
    with internal_site() as internal:
        http_server.routes["/index.xml"] = Route(
            index(
                ("/index.xml", day(9)),
                ("/good.xml", day(8)),
                (internal.url("/sitemap.xml"), day(7)),
                ("/sitemap-page.xml", day(6)),
                ("/status/404", day(5)),
                ("/deeper.xml", day(4)),
                *((f"/archive-{n}.xml", day(1)) for n in range(3)),
            ),
            "application/xml",
        )
        report = runtime.ingest([http_server.url("/index.xml")])
        assert internal.hits == []
    url = http_server.url
    assert sorted(report.added) == sorted(url(p) for p in paths)
    assert [(e.item, e.reason) for e in report.failed] == [
        (internal.url("/sitemap.xml"), "refused: 127.0.0.2 is not a public address (loopback); "
         "NEWSBOT_FETCH_ALLOW can allow it"),
        (url("/sitemap-page.xml"), "not a sitemap (text/html)"),
        (url("/status/404"), "HTTP 404 Not Found"),
    ]  # fmt: skip
    assert [(e.item, e.reason) for e in report.skipped] == [
        (url("/index.xml"), "sitemap listed again (a cycle): read once"),
        (url("/deepest.xml"), "sitemap nested deeper than NEWSBOT_SITEMAP_MAX_DEPTH (1): not read"),
        (url("/index.xml"), "2 older sitemap(s) not read: NEWSBOT_SITEMAP_MAX_SITEMAPS (7) per read"),
    ]
    assert "/archive-0.xml" in http_server.hits and "/archive-1.xml" not in http_server.hits
    assert "/deepest.xml" not in http_server.hits


@pytest.mark.parametrize(
    ("route", "error"),
    [
        (Route(b"gone", status=404), "HTTP 404 Not Found"),
        (
            Route(b"<html><head><title>Home</title></head><body><p>Welcome to our site.</p></body></html>"),
            "not a sitemap or feed (the server sent text/html)",
        ),
        (Route(b"<urlset><url><loc>{base}/p/1-0.html</loc><url></urlset>", "application/xml"), "not a well-formed"),
    ],
    ids=["404", "html", "malformed"],
)
def test_a_sitemap_that_fails_is_one_line_on_that_source_only(
    runtime: Runtime, http_server: WebServer, route: Route, error: str
) -> None:
    """The failing sitemap's poll fails with its error and backs off; a good sitemap polled in the same round is
    stored; nothing stored is lost."""
    paths = serve_pages(http_server, 1)
    http_server.routes["/good.xml"] = Route(urlset((paths[0], day(5))), "application/xml")
    http_server.routes["/sitemap.xml"] = route
    follow(runtime, http_server.url("/sitemap.xml"), http_server.url("/good.xml"))
    results = {r.location: r for r in poll(runtime, http_server, T0)}
    bad, good = results[http_server.url("/sitemap.xml")], results[http_server.url("/good.xml")]
    assert not bad.ok and bad.error is not None and bad.error.startswith(f"{http_server.url('/sitemap.xml')}: {error}")
    assert "\n" not in bad.error
    assert good.ok and good.added == 1
    failing = {s.location: s for s in runtime.registry.all()}[http_server.url("/sitemap.xml")]
    assert failing.failures == 1 and failing.last_error == bad.error and failing.next_due > T0 + 600


def test_a_sitemap_whose_pages_all_fail_fails_with_its_errors_and_stores_nothing(
    runtime: Runtime, http_server: WebServer
) -> None:
    http_server.routes["/sitemap.xml"] = Route(
        urlset(("/status/404", day(5)), ("/status/500", day(6)), ("/missing.html", None)), "application/xml"
    )
    follow(runtime, http_server.url("/sitemap.xml"))
    (result,) = poll(runtime, http_server, T0)
    assert not result.ok and result.added == 0
    assert result.error == f"{http_server.url('/status/500')}: HTTP 500 Internal Server Error (and 2 more)"
    assert runtime.store.catalog() == {}
    (source,) = runtime.registry.all()
    assert source.failures == 1


def fifty_megabytes(base: str) -> Iterator[bytes]:
    """A sitemap of 50 MB, made as it is sent: a few hundred entries, each padded with whitespace."""
    yield b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    padding = b" " * 65_000
    for n in range(770):
        yield f"<url><loc>{base}/p/{n}.html</loc></url>".encode() + padding
    yield b"</urlset>"


def test_a_50_megabyte_sitemap_is_refused_without_taking_the_body_into_memory(
    runtime: Runtime, http_server: WebServer
) -> None:
    """Served as a stream without Content-Length: reading stops at NEWSBOT_SITEMAP_MAX_BYTES (20 MB) with one
    line, no page is fetched, and the reader's memory peak stays far below the bytes it read."""
    http_server.routes["/big-sitemap.xml"] = Route(b"", "application/xml", stream=fifty_megabytes)
    url = http_server.url("/big-sitemap.xml")
    runtime.store.catalog()  # the store is opened before measuring
    tracemalloc.start()
    try:
        report = runtime.ingest([url])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(e.item, e.reason) for e in report.failed] == [(url, "too large (over the 20,000,000-byte limit)")]
    assert peak < 5_000_000, f"peak {peak:,} bytes"
    assert http_server.hits == ["/big-sitemap.xml"] and runtime.store.catalog() == {}


def test_sitemaps_from_newsbot_sources_are_seeded_and_polled(runtime: Runtime, http_server: WebServer) -> None:
    paths = serve_pages(http_server, 2)
    http_server.routes["/sitemap.xml"] = Route(urlset((paths[0], day(5)), (paths[1], None)), "application/xml")
    runtime.settings.sources = [http_server.url("/sitemap.xml")]
    poller = Poller(runtime)
    results = poller.cycle(T0)
    poller.release()
    assert results is not None and [(r.ok, r.added) for r in results] == [(True, 2)]


def test_sitemap_pages_on_refused_addresses_fail_each_on_its_own_line(runtime: Runtime, http_server: WebServer) -> None:
    """Non-http(s), loopback (not allowed), private and link-local pages: each refused by the fetch policy on its
    own line, never contacted, and the good page is stored."""
    paths = serve_pages(http_server, 1)
    with internal_site() as internal:
        refused = {
            "file:///etc/passwd": "refused: file URL is not fetched, only http(s)",
            internal.url("/admin.html"): "refused: 127.0.0.2 is not a public address (loopback); "
            "NEWSBOT_FETCH_ALLOW can allow it",
            "http://10.0.0.7/news.html": "refused: 10.0.0.7 is not a public address (private); "
            "NEWSBOT_FETCH_ALLOW can allow it",
            "http://169.254.169.254/latest/meta-data/": "refused: 169.254.169.254 is not a public address "
            "(link-local); NEWSBOT_FETCH_ALLOW can allow it",
        }
        items = "".join(f"<url><loc>{link}</loc></url>" for link in refused)
        body = urlset((paths[0], day(5))).replace(b"</urlset>", f"{items}</urlset>".encode())
        http_server.routes["/sitemap.xml"] = Route(body, "application/xml")
        report = runtime.ingest([http_server.url("/sitemap.xml")])
        assert internal.hits == []
    assert report.added == [http_server.url(paths[0])]
    assert {e.item: e.reason for e in report.failed} == refused
    assert set(runtime.store.catalog()) == {http_server.url(paths[0])}


def test_sitemap_pages_are_fetched_politely(runtime: Runtime, http_server: WebServer) -> None:
    """At most NEWSBOT_FETCH_PER_HOST pages at once from one host, however large the pool, and none that the
    site's robots.txt disallows (skipped, not failed)."""
    runtime.settings.fetch_concurrency = 8
    http_server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /p/1-5.html\n", "text/plain")
    paths = serve_pages(http_server, 6)
    for path in paths:
        http_server.routes[path].delay_s = 0.3
    http_server.routes["/sitemap.xml"] = Route(urlset(*((p, day(1)) for p in paths)), "application/xml")
    report = runtime.ingest([http_server.url("/sitemap.xml")])
    assert report.ok and len(report.added) == 5 and 1 <= http_server.peak <= 2
    assert [(s.item, s.reason) for s in report.skipped] == [
        (http_server.url(paths[5]), "disallowed by the site's robots.txt")
    ]
    assert paths[5] not in http_server.hits
