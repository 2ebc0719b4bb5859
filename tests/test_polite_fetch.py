"""Polite, incremental fetching (issue 14, item 3): conditional requests for followed feeds and pages, and feed
entries already stored and not updated are not fetched again. Requests are counted at a real 127.0.0.1 server;
the sources are polled by `poll_due` on a real store with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import Route, WebServer
from ingest_support import snapshot

from bot.polling import poll_due
from bot.runtime import Runtime
from ingest.registry import new_source

T0 = 1_800_000_000.0  # the poller's clock; every poll below is at T0 + something
FEEDS, ENTRIES = 20, 50
STAMP = "2024-03-06T16:05:00Z"  # every entry's updated date: long before anything is stored
LAST_MODIFIED = "Wed, 06 Mar 2024 16:05:00 GMT"


@pytest.fixture(autouse=True)
def _test_site(runtime: Runtime) -> None:
    runtime.settings.fetch_timeout_s = 5.0  # ample for 127.0.0.1 even on a busy machine
    runtime.settings.fetch_allow = ["127.0.0.1"]  # the test site; only public addresses are fetched otherwise


def page(feed: int, entry: int, edition: str = "") -> bytes:
    """A short article page whose every sentence is its own (repeated paragraphs would be site furniture)."""
    title = f"Council {feed} approves plan {entry}{edition}"
    body = (
        f"<p>The council of district {feed} approved plan number {entry} on Tuesday{edition}.</p>"
        f"<p>Plan {entry} of district {feed} funds {feed * 100 + entry} new school places by next year.</p>"
    )
    article = f"<article><h1>{title}</h1>{body}</article>"
    return f"<html><head><title>{title}</title></head><body>{article}</body></html>".encode()


def atom(feed: int, stamps: dict[int, str] | None = None, entries: int = ENTRIES) -> bytes:
    items = "".join(
        f"<entry><title>Council {feed} approves plan {e}</title><id>urn:f{feed}:e{e}</id>"
        f'<link href="{{base}}/f{feed}/e{e}.html"/><updated>{(stamps or {}).get(e, STAMP)}</updated>'
        f"<summary>Plan {e} of district {feed}.</summary></entry>"
        for e in range(entries)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>District {feed} News</title><id>urn:f{feed}</id><updated>{STAMP}</updated>{items}</feed>"
    ).encode()


def serve_site(server: WebServer, etag: bool, last_modified: str | None = None) -> list[str]:
    """FEEDS feeds of ENTRIES entries each, and their pages; returns the feeds' URLs."""
    for f in range(FEEDS):
        server.routes[f"/feed{f}.atom"] = Route(atom(f), "application/atom+xml", etag=etag, last_modified=last_modified)
        for e in range(ENTRIES):
            server.routes[f"/f{f}/e{e}.html"] = Route(page(f, e))
    return [server.url(f"/feed{f}.atom") for f in range(FEEDS)]


def follow(runtime: Runtime, urls: list[str]) -> None:
    with runtime.writing():
        for url in urls:
            runtime.registry.put(new_source(url, 600, T0))


def poll(runtime: Runtime, server: WebServer, now: float) -> tuple[list[str], list[str], int, int]:
    """Poll everything due at `now`: (paths requested, paths answered 304, articles added, articles updated)."""
    server.hits.clear()
    server.not_modified.clear()
    results = poll_due(runtime, now)
    assert len(results) == FEEDS and all(r.ok and r.error is None for r in results), [r.describe() for r in results]
    return list(server.hits), list(server.not_modified), sum(r.added for r in results), sum(r.updated for r in results)


def test_unchanged_feeds_fetch_no_page_and_embed_nothing(runtime: Runtime, http_server: WebServer) -> None:
    """20 feeds of 50 entries: the second poll sends the stored ETag, every feed answers 304, and no page is
    fetched or embedded; an entry marked updated is fetched (and re-embedded) alone; once the server stops
    sending ETags, feeds answer 200 each time and their stored entries are still not fetched."""
    feeds = serve_site(http_server, etag=True)
    feed_paths = sorted(f"/feed{f}.atom" for f in range(FEEDS))
    follow(runtime, feeds)

    hits, _, added, _ = poll(runtime, http_server, T0)
    assert added == FEEDS * ENTRIES and len(hits) == FEEDS * (ENTRIES + 2)  # each feed, its pages, robots.txt
    assert all(s.etag and s.etag.startswith('"') for s in runtime.registry.all())  # stored after the 200
    before = snapshot(runtime.store)
    stamped = {i: a.ingested_at for i, a in runtime.store.catalog().items()}

    hits, not_modified, added, updated = poll(runtime, http_server, T0 + 3600)
    assert sorted(hits) == feed_paths and sorted(not_modified) == feed_paths  # no article page requested
    assert (added, updated) == (0, 0)
    assert snapshot(runtime.store) == before  # nothing embedded or rewritten: no commit restamped an article
    assert {i: a.ingested_at for i, a in runtime.store.catalog().items()} == stamped
    assert all(s.last_success == T0 + 3600 and s.failures == 0 for s in runtime.registry.all())

    # One entry marked updated (a newer <updated>) with new text: only its page is fetched, and it is replaced.
    # Its stamp is ahead of our clock (a feed's clock may be), so it is also later than the new copy's storing.
    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    http_server.routes["/feed3.atom"].body = atom(3, {7: later})
    http_server.routes["/f3/e7.html"].body = page(3, 7, edition=", after a second vote")
    hits, not_modified, added, updated = poll(runtime, http_server, T0 + 7200)
    assert sorted(hits) == sorted([*feed_paths, "/f3/e7.html", "/robots.txt"])
    assert sorted(not_modified) == sorted(set(feed_paths) - {"/feed3.atom"})
    assert (added, updated) == (0, 1)
    assert "after a second vote" in (runtime.store.article_text(http_server.url("/f3/e7.html")) or "")

    # A server without ETag support: every feed is 200 each time, and the stored entries are skipped anyway. The
    # entry stamped ahead is fetched once more (it is still "later" than our copy), found the same and noted as
    # checked up to its stamp, so it is not fetched again on every poll after.
    for f in range(FEEDS):
        http_server.routes[f"/feed{f}.atom"].etag = False
    after = snapshot(runtime.store)
    hits, not_modified, added, updated = poll(runtime, http_server, T0 + 10_800)
    assert sorted(hits) == sorted([*feed_paths, "/f3/e7.html", "/robots.txt"]) and not_modified == []
    assert (added, updated) == (0, 0) and snapshot(runtime.store) == after
    assert all(s.etag is None for s in runtime.registry.all())  # the 200 carried none: nothing stale is sent
    hits, not_modified, added, updated = poll(runtime, http_server, T0 + 14_400)
    assert sorted(hits) == feed_paths and not_modified == []
    assert (added, updated) == (0, 0) and snapshot(runtime.store) == after


def test_last_modified_alone_makes_the_request_conditional(runtime: Runtime, http_server: WebServer) -> None:
    """A server that sends only Last-Modified gets it back as If-Modified-Since, and its 304 is a success."""
    http_server.routes["/news.atom"] = Route(atom(0), "application/atom+xml", last_modified=LAST_MODIFIED)
    for e in range(ENTRIES):
        http_server.routes[f"/f0/e{e}.html"] = Route(page(0, e))
    url = http_server.url("/news.atom")
    follow(runtime, [url])
    assert poll_due(runtime, T0)[0].added == ENTRIES
    (source,) = runtime.registry.all()
    assert (source.etag, source.last_modified) == (None, LAST_MODIFIED)

    http_server.hits.clear()
    (result,) = poll_due(runtime, T0 + 3600)
    assert result.ok and (result.added, result.updated, result.error) == (0, 0, None)
    assert http_server.hits == ["/news.atom"] and http_server.not_modified == ["/news.atom"]
    (source,) = runtime.registry.all()
    assert source.last_success == T0 + 3600 and source.last_modified == LAST_MODIFIED


def test_a_page_followed_directly_answers_304_and_a_prune_keeps_its_article(
    runtime: Runtime, http_server: WebServer
) -> None:
    """A single page as a source is conditional too; a 304 reads nothing, so a prune removes nothing."""
    http_server.routes["/one.html"] = Route(page(9, 9), etag=True)
    url = http_server.url("/one.html")
    first = runtime.ingest([url], prune=True)
    assert len(first.added) == 1 and url in first.validators
    again = runtime.ingest([url], prune=True, validators=first.validators)
    assert again.ok and again.not_modified == [url] and again.removed == [] and again.added == []
    assert len(runtime.store.catalog()) == 1 and http_server.not_modified == ["/one.html"]


def test_stored_entries_are_not_fetched_again_unless_stamped_later(runtime: Runtime, http_server: WebServer) -> None:
    """Without validators (an admin's ingest), a stored entry's page is still not requested again; one stamped
    later than our copy is, and when its page turns out the same, its stamp is noted so the next run skips it."""
    feed = http_server.url("/feed.atom")
    power, drones = http_server.url("/power-grid.html"), http_server.url("/drone-factory.html")
    assert sorted(runtime.ingest([feed]).added) == sorted([power, drones])

    http_server.hits.clear()
    again = runtime.ingest([feed], prune=True)
    assert http_server.hits == ["/feed.atom"] and sorted(again.unchanged) == sorted([power, drones])
    assert again.removed == [] and again.chunks_embedded == 0  # skipped entries are still seen by a prune

    ahead = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    route = http_server.routes["/feed.atom"]
    route.body = route.body.replace(b"2024-03-06T16:05:00Z", ahead)
    for expected in (["/feed.atom", "/robots.txt", "/power-grid.html"], ["/feed.atom"]):
        http_server.hits.clear()
        report = runtime.ingest([feed])
        assert http_server.hits == expected and report.chunks_embedded == 0 and report.ok


def test_pages_of_one_host_are_fetched_at_most_per_host_at_once(runtime: Runtime, http_server: WebServer) -> None:
    """A pool of 8 fetches a feed's 8 slow pages, but never more than NEWSBOT_FETCH_PER_HOST (2) at once from
    the one host they are on."""
    runtime.settings.fetch_concurrency = 8
    runtime.settings.fetch_per_host = 2
    http_server.routes["/slow.atom"] = Route(atom(0, entries=8), "application/atom+xml")
    for e in range(8):
        http_server.routes[f"/f0/e{e}.html"] = Route(page(0, e), delay_s=0.3)
    report = runtime.ingest([http_server.url("/slow.atom")])
    assert report.ok and len(report.added) == 8
    assert 1 <= http_server.peak <= 2


def test_robots_txt_is_read_once_per_host_and_a_disallowed_page_is_skipped(
    runtime: Runtime, http_server: WebServer
) -> None:
    """A page of a feed that the site's robots.txt disallows for newsbot is skipped (not fetched, not stored,
    and not pruned); robots.txt itself is requested once for the feed's many pages."""
    http_server.routes["/robots.txt"] = Route(
        b"User-agent: newsbot\nDisallow: /f0/e3.html\n\nUser-agent: *\nDisallow: /\n", "text/plain"
    )
    http_server.routes["/few.atom"] = Route(atom(0, entries=6), "application/atom+xml")
    for e in range(6):
        http_server.routes[f"/f0/e{e}.html"] = Route(page(0, e))
    feed = http_server.url("/few.atom")
    report = runtime.ingest([feed], prune=True)
    skipped = http_server.url("/f0/e3.html")
    assert report.ok and len(report.added) == 5 and skipped not in report.added
    assert [(s.item, s.reason) for s in report.skipped] == [(skipped, "disallowed by the site's robots.txt")]
    assert "/f0/e3.html" not in http_server.hits and http_server.hits.count("/robots.txt") == 1
    assert skipped not in runtime.store.catalog()

    # Allowed once more: fetched and stored; disallowed again later, its stored article is not pruned.
    http_server.routes["/robots.txt"].body = b"User-agent: *\nAllow: /\n"
    assert runtime.ingest([feed], prune=True).added == [skipped]
    http_server.routes["/robots.txt"].body = b"User-agent: *\nDisallow: /f0/\n"
    http_server.routes["/few.atom"].body = atom(0, {3: "2999-01-01T00:00:00Z"}, entries=6)
    again = runtime.ingest([feed], prune=True)
    assert again.removed == [] and [s.item for s in again.skipped] == [skipped] and skipped in runtime.store.catalog()
