"""The sources newsbot follows (ingest/registry.py), the CLI that manages them, and their poller (bot/polling.py):
real Chroma in tmp_path, feeds served from 127.0.0.1, `poll_due` called directly with an injected clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import Route, WebServer
from ingest_support import markdown, rss, write

from bot.cli import cli
from bot.polling import Poller, poll_due
from bot.runtime import Runtime
from bot.settings import Settings
from ingest.registry import (
    MAX_BACKOFF_S,
    Outcome,
    Source,
    after_poll,
    delay_s,
    format_every,
    is_due,
    new_source,
    parse_every,
)
from vectorstore.errors import StoreLockedError
from vectorstore.lock import writer_lock

T0 = 1_800_000_000.0  # an arbitrary wall-clock time; every poll below is at T0 + something
POWER = "https://kyivledger.example/2024/03/06/power-grid"


@pytest.fixture(autouse=True)
def _test_site(runtime: Runtime) -> None:
    runtime.settings.fetch_timeout_s = 2.0
    runtime.settings.fetch_allow = ["127.0.0.1"]  # the test site; only public addresses are fetched otherwise


def invoke(runtime: Runtime, *args: str) -> Result:
    """The real CLI on the test's runtime (its store, and the session's model)."""
    env = {"NEWSBOT_DATA_DIR": str(runtime.settings.data_dir)}
    return CliRunner().invoke(cli, list(args), obj={"runtime": runtime}, env=env)


def listed(runtime: Runtime) -> dict[str, dict[str, object]]:
    result = invoke(runtime, "sources", "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return {str(row["location"]): row for row in rows}


def add(runtime: Runtime, location: str, every_s: int = 600, now: float = T0) -> Source:
    source = new_source(location, every_s, now)
    with runtime.writing():
        runtime.registry.put(source)
    return source


# ---- the schedule, as pure functions ---------------------------------------------------------------------------


def test_intervals_parse_and_refuse_less_than_a_minute() -> None:
    assert [parse_every(t) for t in ("60s", "10m", "2h", "1d", "90", " 5M ")] == [60, 600, 7200, 86400, 90, 300]
    for bad in ("30s", "59", "0m", "10 minutes", "-1m", "", "1.5h"):
        with pytest.raises(ValueError):
            parse_every(bad)
    assert [format_every(s) for s in (60, 90, 600, 7200, 86400)] == ["1m", "90s", "10m", "2h", "1d"]


def test_backoff_doubles_per_failure_is_capped_and_success_resets_it() -> None:
    assert [delay_s(60, f) for f in range(8)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert delay_s(86400, 3) == 86400  # never more often than its own interval
    source = new_source("https://news.example/feed.xml", 60, T0)
    for i in range(10):
        source = after_poll(source, T0 + i, Outcome(error="HTTP 500", failed=True))
    assert source.failures == 10 and source.next_due == T0 + 9 + MAX_BACKOFF_S and source.last_success is None
    source = after_poll(source, T0 + 100, Outcome(added=2))
    assert (source.failures, source.last_error, source.next_due, source.last_success) == (0, None, T0 + 160, T0 + 100)


def test_a_clock_moving_backwards_never_stalls_a_source() -> None:
    source = after_poll(new_source("https://news.example/feed.xml", 600, T0), T0, Outcome(added=1))
    assert not is_due(source, T0 + 599) and is_due(source, T0 + 600)
    # The clock was set back a day: the next poll is a day and ten minutes away, more than any delay allows.
    assert is_due(source, T0 - 86400)
    # A failing source waits out its backoff, but not a clock that went back past its last check.
    failing = after_poll(source, T0, Outcome(error="timeout", failed=True))
    assert not is_due(failing, T0 + 1199) and is_due(failing, T0 - 1)


# ---- the CLI ---------------------------------------------------------------------------------------------------


def test_sources_add_list_remove_through_the_cli(runtime: Runtime, tmp_path: Path) -> None:
    exports = write(tmp_path / "exports" / "a.md", markdown("a", "A", "Text of a.")).parent
    added = invoke(runtime, "sources", "add", "https://news.example/feed.xml", "--every", "2h")
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("added ") and "(every 2h)" in added.stdout
    assert invoke(runtime, "sources", "add", str(exports)).exit_code == 0
    rows = listed(runtime)
    assert set(rows) == {"https://news.example/feed.xml", str(exports.resolve())}
    feed = rows["https://news.example/feed.xml"]
    assert (feed["kind"], feed["every_s"], feed["failures"]) == ("web", 7200, 0)
    assert rows[str(exports.resolve())]["kind"] == "directory"

    table = invoke(runtime, "sources")
    header, *lines = table.stdout.splitlines()
    assert header.split("\t") == [
        "id", "location", "every", "last check", "last success", "last error", "added/updated", "next check",
    ]  # fmt: skip
    assert len(lines) == 2 and lines[0].split("\t")[2] == "2h"

    # Adding it again is a no-op that says so; with another interval it changes only the interval.
    again = invoke(runtime, "sources", "add", "https://news.example/feed.xml")
    assert again.exit_code == 0 and again.stdout.startswith("already followed: ")
    changed = invoke(runtime, "sources", "add", "https://news.example/feed.xml", "--every", "1d")
    assert changed.exit_code == 0 and changed.stdout.startswith("updated ")
    assert listed(runtime)["https://news.example/feed.xml"]["every_s"] == 86400

    removed = invoke(runtime, "sources", "remove", str(feed["id"]))
    assert removed.exit_code == 0 and removed.stdout == f"removed {feed['id']}\n"
    assert set(listed(runtime)) == {str(exports.resolve())}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sources", "add", "https://news.example/feed.xml", "--every", "30s"], "interval '30s' is too short"),
        (["sources", "add", "https://news.example/feed.xml", "--every", "often"], "not an interval: 'often'"),
        (["sources", "add", "ftp://news.example/feed.xml"], "only http(s) URLs and local paths"),
        (["sources", "add", "/no/such/export.jsonl"], "no such file or directory"),
        (["sources", "add", "http://"], "not a URL"),
        (["sources", "remove", "nope"], "no source 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(runtime: Runtime, args: list[str], message: str) -> None:
    result = invoke(runtime, *args)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert result.stdout == ""


def test_listing_creates_no_store_and_shows_seeds_to_come(tmp_path: Path) -> None:
    data_dir = tmp_path / "never-created"
    env = {"NEWSBOT_DATA_DIR": str(data_dir), "NEWSBOT_SOURCES": "https://news.example/feed.xml"}
    result = CliRunner().invoke(cli, ["sources"], env=env)
    assert result.exit_code == 0, result.output
    assert "https://news.example/feed.xml" in result.stdout and "from NEWSBOT_SOURCES" in result.stdout
    assert not data_dir.exists()


def test_newsbot_sources_seeds_the_registry_once(runtime: Runtime, tmp_path: Path) -> None:
    runtime.settings.sources = ["https://news.example/feed.xml", str(tmp_path)]
    poller = Poller(runtime)
    poller.seed(T0)
    first = {s.id: s for s in runtime.registry.all()}
    assert len(first) == 2
    Poller(runtime).seed(T0 + 50)  # another poller later: the same two, state untouched
    assert {s.id: s for s in runtime.registry.all()} == first
    poller.release()


# ---- polling ---------------------------------------------------------------------------------------------------


def test_a_due_feed_is_polled_and_its_new_entry_becomes_answerable(runtime: Runtime, http_server: WebServer) -> None:
    http_server.routes["/follow.rss"] = Route(
        rss(("Odesa grain corridor reopens", "{base}/grain-corridor.html", "Ships sail again.")),
        "application/rss+xml",
    )
    feed = add(runtime, http_server.url("/follow.rss"), every_s=600)
    [first] = poll_due(runtime, T0)
    assert first.ok and first.added == 1 and first.source_id == feed.id
    assert poll_due(runtime, T0 + 300) == []  # not due yet: nothing fetched
    hits = len(http_server.hits)

    http_server.routes["/follow.rss"] = Route(
        rss(
            ("Engineers restore power to Kharkiv districts", "{base}/power-grid.html", "Power is back."),
            ("Odesa grain corridor reopens", "{base}/grain-corridor.html", "Ships sail again."),
        ),
        "application/rss+xml",
    )
    [second] = poll_due(runtime, T0 + 600)
    assert len(http_server.hits) > hits
    assert second.ok and (second.added, second.updated) == (1, 0)
    # A feed entry's id is its link; the page's canonical URL is what citations show.
    entries = {http_server.url("/grain-corridor.html"), http_server.url("/power-grid.html")}
    assert set(runtime.store.catalog()) == entries
    answer = runtime.engine.answer("How many households did repair crews reconnect in Kharkiv?")
    assert not answer.declined and "48,000 households" in answer.text
    assert {c.url for c in answer.citations} == {POWER}

    state = runtime.registry.get(feed.id)
    assert state is not None
    assert (state.last_check, state.last_success, state.added, state.failures) == (T0 + 600, T0 + 600, 2, 0)
    assert state.next_due == T0 + 1200


def test_a_failing_source_backs_off_with_its_error_listed_while_another_is_ingested(
    runtime: Runtime, http_server: WebServer, tmp_path: Path
) -> None:
    http_server.routes["/broken.rss"] = Route(b"<html><body>Internal error</body></html>", status=500)
    broken = add(runtime, http_server.url("/broken.rss"), every_s=60)
    exports = tmp_path / "exports"
    write(exports / "theatre.md", markdown("theatre", "Theatre reopens", "The Chernihiv theatre reopened."))
    directory = add(runtime, str(exports), every_s=60)

    results = {r.source_id: r for r in poll_due(runtime, T0)}
    assert results[directory.id].ok and results[directory.id].added == 1
    assert not results[broken.id].ok and "HTTP 500" in (results[broken.id].error or "")
    assert "theatre" in runtime.store.catalog()

    row = listed(runtime)[broken.location]
    assert row["failures"] == 1 and "HTTP 500" in str(row["last_error"]) and row["next_due"] == T0 + 120
    table = invoke(runtime, "sources").stdout
    assert "HTTP 500" in next(line for line in table.splitlines() if line.startswith(broken.id))

    # A minute later only the healthy source is due; the failing one waits twice its interval, then four times.
    write(exports / "bridge.md", markdown("bridge", "Bridge rebuilt", "The Irpin bridge was rebuilt."))
    assert [r.source_id for r in poll_due(runtime, T0 + 60)] == [directory.id]
    assert "bridge" in runtime.store.catalog()
    assert {r.source_id for r in poll_due(runtime, T0 + 120)} == {broken.id, directory.id}
    assert listed(runtime)[broken.location]["next_due"] == T0 + 120 + 240

    # Once it answers, the backoff and the error are gone.
    http_server.routes["/broken.rss"] = Route(
        rss(("Odesa grain corridor reopens", "{base}/grain-corridor.html", "Ships sail again.")),
        "application/rss+xml",
    )
    [recovered] = [r for r in poll_due(runtime, T0 + 360) if r.source_id == broken.id]
    assert recovered.ok and recovered.added == 1
    row = listed(runtime)[broken.location]
    assert row["failures"] == 0 and row["last_error"] is None and row["next_due"] == T0 + 420


def test_a_feed_whose_pages_all_fail_fails_alone_and_stores_nothing(runtime: Runtime, http_server: WebServer) -> None:
    """With NEWSBOT_FEED_SUMMARY_FALLBACK=never nothing of a feed whose every page fails can be stored: its poll
    fails with the first error and a count, and it backs off, while a healthy feed in the same round is stored."""
    runtime.settings.feed_summary_fallback = "never"
    http_server.routes["/dead.rss"] = Route(
        rss(("Gone", "{base}/status/404", "Gone."), ("Broken", "{base}/status/500", "Broken.")), "application/rss+xml"
    )
    http_server.routes["/live.rss"] = Route(
        rss(("Odesa grain corridor reopens", "{base}/grain-corridor.html", "Ships sail again.")), "application/rss+xml"
    )
    dead, live = add(runtime, http_server.url("/dead.rss")), add(runtime, http_server.url("/live.rss"))
    results = {r.source_id: r for r in poll_due(runtime, T0)}
    assert not results[dead.id].ok and results[dead.id].added == 0
    assert results[dead.id].error == f"{http_server.url('/status/404')}: HTTP 404 Not Found (and 1 more)"
    assert results[live.id].ok and results[live.id].added == 1
    assert list(runtime.store.catalog()) == [http_server.url("/grain-corridor.html")]
    state = runtime.registry.get(dead.id)
    assert state is not None and state.failures == 1 and state.next_due == T0 + 1200


def test_a_source_polled_after_the_clock_went_back_is_polled_again(
    runtime: Runtime, http_server: WebServer
) -> None:
    http_server.routes["/follow.rss"] = Route(
        rss(("Odesa grain corridor reopens", "{base}/grain-corridor.html", "Ships sail again.")),
        "application/rss+xml",
    )
    feed = add(runtime, http_server.url("/follow.rss"), every_s=600)
    assert [r.ok for r in poll_due(runtime, T0)] == [True]
    back = T0 - 3 * 86400  # an NTP correction, or a VM restored from a snapshot
    [again] = poll_due(runtime, back)
    assert again.ok and again.source_id == feed.id
    state = runtime.registry.get(feed.id)
    assert state is not None and state.last_check == back and state.next_due == back + 600
    assert poll_due(runtime, back + 1) == []  # and the schedule runs normally from there


def test_a_second_poller_is_refused_while_readers_and_ingest_go_on(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    first = Poller(runtime)
    assert first.cycle(T0) == []
    other = Runtime(settings)
    other.__dict__["embedder"] = runtime.embedder
    with pytest.raises(StoreLockedError, match="already polling this store's sources"):
        Poller(other).cycle(T0)
    refused = invoke(other, "watch", "--once")
    assert refused.exit_code == 1
    assert "is already polling this store's sources" in refused.stderr and refused.stderr.count("\n") == 1
    # Readers and an admin's ingest are not blocked by the poller.
    write(tmp_path / "in" / "a.md", markdown("a", "A", "The Chernihiv theatre reopened on Saturday."))
    assert other.ingest([str(tmp_path / "in")]).added == ["a"]
    assert "a" in runtime.store.catalog()
    first.release()
    second = Poller(other)
    assert second.cycle(T0) == []  # the first one stopped: the store may be polled again
    second.release()


def test_a_source_polled_while_an_admin_ingests_is_left_due_not_failed(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    write(tmp_path / "exports" / "a.md", markdown("a", "A", "The Chernihiv theatre reopened on Saturday."))
    source = add(runtime, str(tmp_path / "exports"), every_s=60)
    with writer_lock(settings.lock_path):  # another process's `newsbot ingest`, as far as the lock can tell
        [busy] = poll_due(runtime, T0)
    assert busy.busy and not busy.ok and "busy" in busy.describe()
    assert runtime.registry.get(source.id) == source  # no failure, no backoff: still due
    [done] = poll_due(runtime, T0 + 1)
    assert done.ok and done.added == 1
