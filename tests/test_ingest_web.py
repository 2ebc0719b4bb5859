"""Article pages, RSS and Atom feeds from a real HTTP server on 127.0.0.1, and every way the web fails."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from conftest import Route, WebServer
from ingest_support import all_chunk_texts, internal_site, markdown, snapshot, write

from bot.runtime import Runtime

GRAIN = "https://kyivledger.example/2024/03/05/grain-corridor"
POWER = "https://kyivledger.example/2024/03/06/power-grid"
DRONES = "https://kyivledger.example/2024/03/07/drone-factory"


@pytest.fixture(autouse=True)
def _small_limits(runtime: Runtime) -> None:
    runtime.settings.fetch_timeout_s = 1.0  # ample for 127.0.0.1 even on a busy machine
    runtime.settings.max_source_bytes = 100_000
    runtime.settings.fetch_allow = ["127.0.0.1"]  # the test site; only public addresses are fetched otherwise


def test_article_page(runtime: Runtime, http_server: WebServer) -> None:
    report = runtime.ingest([http_server.url("/grain-corridor.html")])
    assert report.ok and report.added == [GRAIN]
    stored = runtime.store.catalog()[GRAIN]
    assert (stored.title, stored.date, stored.source, stored.url) == (
        "Odesa grain corridor reopens after two-week pause",
        "2024-03-05",
        "The Kyiv Ledger",
        GRAIN,
    )
    assert stored.origin == http_server.url("/grain-corridor.html")
    chunks = runtime.store.chunks_of(GRAIN)
    assert chunks and all(c.url == GRAIN and c.date == "2024-03-05" for c in chunks)
    assert any("62,000 tonnes of wheat" in c.text for c in chunks)


def test_rss_feed_fetches_each_entry_page_and_falls_back_to_feed_content(
    runtime: Runtime, http_server: WebServer
) -> None:
    report = runtime.ingest([http_server.url("/feed.rss")])
    # An entry's link is its id; /metro-school.html is 404, so the entry's own content is used.
    grain, power, drones, metro = (
        http_server.url(f"/{name}.html")
        for name in ("grain-corridor", "power-grid", "drone-factory", "metro-school")
    )
    assert report.ok, report.failed
    assert sorted(report.added) == sorted([grain, power, drones, metro])
    # The admin is told which entry was stored from the feed's summary, and why.
    assert [(w.item, w.reason) for w in report.warnings] == [
        (metro, "stored from the feed's summary; the page: HTTP 404 Not Found")
    ]
    assert {"/grain-corridor.html", "/power-grid.html", "/drone-factory.html", "/metro-school.html"} <= set(
        http_server.hits
    )
    store = runtime.store
    # Fetched pages: the page's text and canonical URL, not the feed's one-line description.
    assert "eleven more vessels" in (store.article_text(grain) or "")
    assert "three days after a missile strike" in (store.article_text(power) or "")
    assert [store.catalog()[i].url for i in (grain, power, drones)] == [GRAIN, POWER, DRONES]
    assert store.catalog()[power].title == "Engineers restore power to Kharkiv districts"
    fallback = store.catalog()[metro]
    assert fallback.title == "Kharkiv metro station becomes a school"
    assert fallback.date == "2024-03-08" and fallback.source == "The Kyiv Ledger"
    assert "About 1,000 children now attend classes" in (store.article_text(metro) or "")
    # A paragraph on every page of the site is furniture, and site furniture is never indexed.
    texts = all_chunk_texts(store)
    assert texts and not [t for t in texts if "Black Sea Newsroom Fund" in t]
    for furniture in ("Related", "Read more", "Become a patron", "become a member", "newsletter", "Photo by"):
        assert not [t for t in texts if furniture in t], furniture


def test_atom_feed(runtime: Runtime, http_server: WebServer) -> None:
    report = runtime.ingest([http_server.url("/feed.atom")])
    assert report.ok, report.failed
    power, drones = http_server.url("/power-grid.html"), http_server.url("/drone-factory.html")
    assert sorted(report.added) == sorted([power, drones])
    assert runtime.store.catalog()[drones].date == "2024-03-07"
    assert runtime.store.catalog()[drones].url == DRONES


def test_unchanged_feed_is_not_reembedded_and_a_dropped_entry_is_pruned(
    runtime: Runtime, http_server: WebServer
) -> None:
    feed = http_server.url("/feed.atom")
    power, drones = http_server.url("/power-grid.html"), http_server.url("/drone-factory.html")
    assert runtime.ingest([feed]).ok
    again = runtime.ingest([feed], prune=True)
    assert again.chunks_embedded == 0 and sorted(again.unchanged) == sorted([power, drones])
    assert again.removed == []

    atom = http_server.routes["/feed.atom"]
    start = atom.body.index(b"<entry>")
    atom.body = atom.body[:start] + atom.body[atom.body.index(b"</entry>") + len(b"</entry>") :]
    pruned = runtime.ingest([feed], prune=True)
    assert pruned.removed == [power] and pruned.unchanged == [drones]
    assert set(runtime.store.catalog()) == {drones}


def test_failing_feed_prunes_nothing(runtime: Runtime, http_server: WebServer) -> None:
    feed = http_server.url("/feed.atom")
    assert runtime.ingest([feed]).ok
    before = snapshot(runtime.store)
    http_server.routes["/feed.atom"].status = 500
    report = runtime.ingest([feed], prune=True)
    assert [f.item for f in report.failed] == [feed] and report.removed == []
    assert snapshot(runtime.store) == before


def test_feed_entry_whose_page_and_content_both_fail_is_one_failure(
    runtime: Runtime, http_server: WebServer
) -> None:
    """An entry with no content of its own whose page is gone: one failure naming the page, and no pruning.
    (The entry is marked updated, or its stored page would not be fetched again at all.)"""
    feed = http_server.url("/feed.atom")
    assert runtime.ingest([feed]).ok
    before = snapshot(runtime.store)
    atom = http_server.routes["/feed.atom"]
    atom.body = atom.body.replace(b"<summary>Crews reconnect 48,000 households.</summary>", b"")
    atom.body = atom.body.replace(b"2024-03-06T16:05:00Z", b"2999-01-01T00:00:00Z")
    del http_server.routes["/power-grid.html"]
    report = runtime.ingest([feed], prune=True)
    assert [(f.item, f.reason) for f in report.failed] == [
        (http_server.url("/power-grid.html"), "HTTP 404 Not Found")
    ]
    assert report.removed == [] and report.unchanged == [http_server.url("/drone-factory.html")]
    assert snapshot(runtime.store) == before


# ---- bad URLs ----------------------------------------------------------------------------------------------

BAD_URLS: dict[str, tuple[str, str]] = {
    # case: (path, expected reason fragment)
    "404": ("/status/404", "HTTP 404"),
    "500": ("/status/500", "HTTP 500"),
    "timeout": ("/slow.html", "timed out"),
    "never-ending body": ("/drip.html", "timed out"),
    "not a feed": ("/not-a-feed.xml", "not a feed"),
    "no article": ("/no-article.html", "no article text"),
    "oversized": ("/oversized.html", "too large"),
    "oversized without length": ("/oversized-unannounced.html", "too large"),
}


@pytest.mark.parametrize("case", list(BAD_URLS))
def test_bad_url_fails_alone_and_loses_nothing(
    case: str, runtime: Runtime, http_server: WebServer, tmp_path: Path
) -> None:
    kept = write(
        tmp_path / "kept.md", markdown("kept", "Kept", "A stored article about the Dnipro dam. It stays.")
    )
    assert runtime.ingest([str(kept)]).ok
    before = snapshot(runtime.store)

    path, reason = BAD_URLS[case]
    started = time.monotonic()
    report = runtime.ingest(
        [http_server.url(path), http_server.url("/power-grid.html"), str(kept)], prune=True
    )
    elapsed = time.monotonic() - started

    assert [f.item for f in report.failed] == [http_server.url(path)]
    assert reason in report.failed[0].reason
    assert report.added == [POWER] and report.unchanged == ["kept"] and report.removed == []
    after = snapshot(runtime.store)
    assert after["kept"] == before["kept"] and set(after) == {"kept", POWER}
    if reason == "timed out":  # unbounded, /slow.html would take 30 s and /drip.html 3 minutes
        assert elapsed < 15.0


# ---- redirects ---------------------------------------------------------------------------------------------

FERRY_PAGE = (
    b"<html><body><article>"
    b"<p>The night desk confirmed that the ferry across the Dnipro at Kaniv resumed on Saturday.</p>"
    b"<p>It carries forty cars an hour and replaces a bridge that was closed for repairs in January.</p>"
    b"<p>Local drivers said the detour through Cherkasy had added two hours to every trip.</p>"
    b"</article></body></html>"
)


def test_page_reached_through_redirects_is_stored_under_its_final_url(
    runtime: Runtime, http_server: WebServer
) -> None:
    http_server.routes["/ferry.html"] = Route(FERRY_PAGE)  # no canonical link: the URL is its identity
    http_server.routes["/old/ferry"] = Route(b"", status=301, headers={"Location": "/moved/ferry"})
    http_server.routes["/moved/ferry"] = Route(b"", status=302, headers={"Location": "{base}/ferry.html"})
    report = runtime.ingest([http_server.url("/old/ferry")])
    assert report.ok and report.added == [http_server.url("/ferry.html")], report.failed
    assert http_server.hits == ["/old/ferry", "/moved/ferry", "/ferry.html"]
    stored = runtime.store.catalog()[http_server.url("/ferry.html")]
    assert stored.url == http_server.url("/ferry.html") and stored.origin == http_server.url("/old/ferry")


def test_redirect_to_a_refused_address_is_refused(runtime: Runtime, http_server: WebServer) -> None:
    with internal_site() as internal:
        http_server.routes["/to-internal"] = Route(b"", status=302, headers={"Location": internal.url("/metadata")})
        http_server.routes["/to-file"] = Route(b"", status=301, headers={"Location": "file:///etc/passwd"})
        report = runtime.ingest([http_server.url("/to-internal"), http_server.url("/to-file")])
        assert [(f.item, f.reason) for f in report.failed] == [
            (
                http_server.url("/to-internal"),
                "refused: 127.0.0.2 is not a public address (loopback); NEWSBOT_FETCH_ALLOW can allow it",
            ),
            (http_server.url("/to-file"), "refused: file URL is not fetched, only http(s)"),
        ]
        assert internal.hits == [] and runtime.store.catalog() == {}


# ---- encodings and feed metadata ---------------------------------------------------------------------------

KYIV_PAGE = """<!DOCTYPE html><html lang="uk"><head>{meta}<title>Київ відбудовує школи</title></head>
<body><article><h1>Київ відбудовує школи</h1>
<p>Київська міська рада ухвалила бюджет на відбудову шкіл, пошкоджених під час обстрілів минулої зими.</p>
<p>Депутати виділили 300 мільйонів гривень на укриття, вентиляцію та резервне живлення в школах.</p>
<p>Роботи мають завершитися до вересня, щоб діти повернулися до класів на початку навчального року.</p>
</article></body></html>"""
KYIV_SENTENCE = (
    "Депутати виділили 300 мільйонів гривень на укриття, вентиляцію та резервне живлення в школах."
)


@pytest.mark.parametrize(
    ("content_type", "meta"),
    [
        ("text/html; charset=windows-1251", ""),  # declared by the server
        ("text/html", '<meta charset="windows-1251">'),  # declared by the page itself
        ("text/html", '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'),
    ],
)
def test_page_in_a_declared_legacy_charset(
    runtime: Runtime, http_server: WebServer, content_type: str, meta: str
) -> None:
    body = KYIV_PAGE.format(meta=meta).encode("cp1251")
    http_server.routes["/kyiv.html"] = Route(body, content_type=content_type)
    feed = FEED_OF_ONE.format(link="{base}/kyiv.html", title="Kyiv rebuilds schools").encode()
    http_server.routes["/kyiv.rss"] = Route(feed, content_type="application/rss+xml")

    report = runtime.ingest([http_server.url("/kyiv.html")])
    assert report.ok, report.failed
    (article_id,) = report.added
    assert KYIV_SENTENCE in (runtime.store.article_text(article_id) or "")
    assert runtime.store.catalog()[article_id].title == "Київ відбудовує школи"

    runtime.store.remove([article_id])
    through_feed = runtime.ingest([http_server.url("/kyiv.rss")])  # the entry's page, fetched by the feed
    assert through_feed.ok and through_feed.added == [article_id]
    assert KYIV_SENTENCE in (runtime.store.article_text(article_id) or "")


def test_page_whose_meta_claims_utf16_is_read_as_utf8(runtime: Runtime, http_server: WebServer) -> None:
    """A common mistake: the HTML standard reads it as UTF-8, since the <meta> itself was readable as ASCII."""
    body = KYIV_PAGE.format(meta='<meta charset="utf-16">').encode()
    http_server.routes["/kyiv.html"] = Route(body, content_type="text/html")
    report = runtime.ingest([http_server.url("/kyiv.html")])
    assert report.ok, report.failed
    assert KYIV_SENTENCE in (runtime.store.article_text(report.added[0]) or "")


def test_undeclared_legacy_page_is_detected_and_undecodable_bytes_fail(
    runtime: Runtime, http_server: WebServer
) -> None:
    http_server.routes["/kyiv.html"] = Route(
        KYIV_PAGE.format(meta="").encode("cp1251"), content_type="text/html"
    )
    noise = random.Random(13)
    http_server.routes["/noise.html"] = Route(
        bytes(noise.randrange(128, 256) for _ in range(3000)), content_type="text/html"
    )
    report = runtime.ingest([http_server.url("/kyiv.html"), http_server.url("/noise.html")])
    assert [(f.item, f.reason.split(" (")[0]) for f in report.failed] == [
        (http_server.url("/noise.html"), "not text in UTF-8 or a known legacy encoding")
    ]
    (article_id,) = report.added
    assert KYIV_SENTENCE in (runtime.store.article_text(article_id) or "")


FEED_OF_ONE = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>The Kyiv Ledger</title><link>{{base}}/</link>
<item><title>{title}</title><link>{link}</link><pubDate>Sat, 09 Mar 2024 10:00:00 GMT</pubDate>
<author>desk@kyivledger.example (Night Desk)</author></item>
</channel></rss>"""


def test_feed_metadata_fills_what_the_page_lacks(runtime: Runtime, http_server: WebServer) -> None:
    """A page with no title, date or site name takes them from its feed entry, not from its first words."""
    page = (
        "<html><body><article>"
        "<p>The night desk confirmed that the ferry across the Dnipro at Kaniv resumed on Saturday.</p>"
        "<p>It carries forty cars an hour and replaces a bridge that was closed for repairs in January.</p>"
        "<p>Local drivers said the detour through Cherkasy had added two hours to every trip.</p>"
        "</article></body></html>"
    )
    http_server.routes["/ferry.html"] = Route(page.encode())
    feed = FEED_OF_ONE.format(link="{base}/ferry.html", title="Kaniv ferry back in service").encode()
    http_server.routes["/ferry.rss"] = Route(feed, content_type="application/rss+xml")

    report = runtime.ingest([http_server.url("/ferry.rss")])
    assert report.ok and report.added == [http_server.url("/ferry.html")]
    stored = runtime.store.catalog()[http_server.url("/ferry.html")]
    assert stored.title == "Kaniv ferry back in service"
    assert (stored.date, stored.source) == ("2024-03-09", "The Kyiv Ledger")


def test_feed_entry_keeps_one_identity_when_its_page_fails_for_a_while(
    runtime: Runtime, http_server: WebServer
) -> None:
    """A page that fails on one run (a timeout, a 500) must neither file its story a second time under
    another id nor replace the full page with the feed's one-line summary; it is back when the page is."""
    feed = http_server.url("/feed.atom")
    assert runtime.ingest([feed], prune=True).ok
    before = snapshot(runtime.store)
    assert len(before) == 2

    http_server.routes["/power-grid.html"].status = 500
    during = runtime.ingest([feed], prune=True)
    assert during.removed == [] and during.added == [] and during.updated == []
    assert snapshot(runtime.store) == before

    http_server.routes["/power-grid.html"].status = 200
    after = runtime.ingest([feed], prune=True)
    assert after.chunks_embedded == 0 and len(after.unchanged) == 2
    assert snapshot(runtime.store) == before


def test_feed_entry_first_seen_while_its_page_fails_is_upgraded_in_place(
    runtime: Runtime, http_server: WebServer
) -> None:
    feed = http_server.url("/feed.atom")
    http_server.routes["/power-grid.html"].status = 500
    first = runtime.ingest([feed], prune=True)
    assert first.ok and len(first.added) == 2  # the feed's summary stands in for the page
    ids = set(runtime.store.catalog())

    http_server.routes["/power-grid.html"].status = 200
    second = runtime.ingest([feed], prune=True)
    assert len(second.updated) == 1 and second.added == [] and second.removed == []
    assert set(runtime.store.catalog()) == ids  # the same story under the same id, now with the page's text
    (updated,) = second.updated
    assert "three days after a missile strike" in (runtime.store.article_text(updated) or "")
