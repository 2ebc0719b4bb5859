"""Hostile and broken input: the fetch policy (no internal addresses unless allowed), every kind of bad item in
one run, the feed-summary fallback, and text in legacy encodings and UTF-16."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest
from click.testing import CliRunner
from conftest import Route, WebServer
from ingest_support import SECRET, InternalSite, all_chunk_texts, internal_site, markdown, rss, write

from bot.cli import cli
from bot.runtime import Runtime
from bot.settings import Settings
from ingest.fetch_policy import AllowList, not_public, parse_allow_entry

GOOD = "The Chernihiv theatre reopened on Saturday. Its basement served as a shelter for a year."


@pytest.fixture
def internal() -> Iterator[InternalSite]:
    with internal_site() as site:
        yield site


@pytest.fixture(autouse=True)
def _small_limits(runtime: Runtime) -> None:
    runtime.settings.fetch_timeout_s = 1.0  # ample for 127.0.0.1 even on a busy machine
    runtime.settings.fetch_allow = ["127.0.0.1"]  # the test site, and nothing else that is not public


def stored_texts(runtime: Runtime) -> str:
    return "\n".join(runtime.store.article_text(i) or "" for i in runtime.store.catalog()) + "\n".join(
        all_chunk_texts(runtime.store)
    )


# ---- the allow list and what is public ---------------------------------------------------------------------


def test_allow_list_entries_are_hosts_addresses_or_networks() -> None:
    allow = AllowList.parse(["127.0.0.1", "CMS.Internal.", "10.0.0.0/8", "fd00::/8", "::1", "[::ffff:192.168.1.7]"])
    assert allow.hosts == {"cms.internal"}
    ip = ipaddress.ip_address
    assert allow.allows_address(ip("127.0.0.1")) and not allow.allows_address(ip("127.0.0.2"))
    assert allow.allows_address(ip("::ffff:127.0.0.1"))  # the same address, spelt as IPv6
    assert allow.allows_address(ip("10.200.3.4")) and not allow.allows_address(ip("11.0.0.1"))
    assert allow.allows_address(ip("fd12::5")) and not allow.allows_address(ip("fe80::1"))
    assert allow.allows_address(ip("::1")) and not allow.allows_address(ip("::2"))
    assert allow.allows_address(ip("192.168.1.7")) and not allow.allows_address(ip("192.168.1.8"))
    assert allow.allows_host("cms.internal") and allow.allows_host("CMS.internal.")
    assert not allow.allows_host("www.cms.internal") and not allow.allows_host("127.0.0.1")


@pytest.mark.parametrize(
    "entry", ["http://cms.internal", "cms.internal:8080", "10.0.0.0/33", "127.1", "10.0.0.256", "*.example.org", "a b"]
)
def test_a_bad_allow_entry_is_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="not a host name, an IP address or a CIDR network"):
        parse_allow_entry(entry)


def test_a_bad_allow_entry_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW", "127.0.0.1, cms.internal:8080")
    with pytest.raises(pydantic.ValidationError) as caught:
        Settings(_env_file=None)
    assert "fetch_allow" in str(caught.value) and "'cms.internal:8080' is not a host name" in str(caught.value)
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW", "127.0.0.1, cms.internal 10.0.0.0/8,fd00::/8")
    assert Settings(_env_file=None).fetch_allow == ["127.0.0.1", "cms.internal", "10.0.0.0/8", "fd00::/8"]


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata services
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_only_public_addresses_are_public(address: str, kind: str | None) -> None:
    assert not_public(ipaddress.ip_address(address)) == kind


# ---- refusals, end to end ----------------------------------------------------------------------------------


def test_feed_links_to_internal_addresses_are_refused_each_on_its_own_line(
    runtime: Runtime, http_server: WebServer, internal: InternalSite
) -> None:
    """127.0.0.1 is allowed; 127.0.0.2, 0.0.0.0 (which reaches 127.0.0.1 on Linux), a redirect to 127.0.0.2,
    file: and gopher: are not. Each refused entry is one failure, its summary is not stored in its place, and
    the internal server is never contacted."""
    site = http_server
    port = site.base_url.rsplit(":", 1)[1]
    site.routes["/internal/admin.html"] = Route(b"<html><body><p>" + SECRET.encode() + b"</p></body></html>")
    site.routes["/to-internal"] = Route(b"", status=302, headers={"Location": internal.url("/latest/meta-data")})
    refused = {  # the link, as feedparser reports it: the reason
        internal.url("/internal/metadata"): "127.0.0.2 is not a public address (loopback)",
        site.url("/to-internal"): "127.0.0.2 is not a public address (loopback)",
        f"http://0.0.0.0:{port}/internal/admin.html": "0.0.0.0 is not a public address (unspecified)",
        "file://etc/passwd": "file URL is not fetched",  # feedparser's spelling of file:///etc/passwd
        f"gopher://127.0.0.2:{internal.base_url.rsplit(':', 1)[1]}/_GET": "gopher URL is not fetched",
    }
    links = [link.replace("file://", "file:///") for link in refused]
    entries = [(f"Entry {n}", link, f"Summary of refused entry {n}.") for n, link in enumerate(links)]
    entries.append(("Drone factory", "{base}/drone-factory.html", "The drone factory story."))
    site.routes["/feed.rss"] = Route(rss(*entries), content_type="application/rss+xml")

    report = runtime.ingest([site.url("/feed.rss")])

    assert sorted(f.item for f in report.failed) == sorted(refused)
    for failure in report.failed:
        assert failure.reason.startswith("refused: ") and refused[failure.item] in failure.reason, failure
    assert report.added == [site.url("/drone-factory.html")] and report.warnings == []
    assert internal.hits == []
    assert "/internal/admin.html" not in site.hits and "/to-internal" in site.hits
    texts = stored_texts(runtime)
    assert SECRET not in texts and "Summary of refused entry" not in texts


def test_nothing_but_public_addresses_without_an_allowance(
    runtime: Runtime, http_server: WebServer, internal: InternalSite
) -> None:
    runtime.settings.fetch_allow = []
    report = runtime.ingest([http_server.url("/grain-corridor.html"), internal.url("/")])
    assert [f.reason for f in report.failed] == [
        "refused: 127.0.0.1 is not a public address (loopback); NEWSBOT_FETCH_ALLOW can allow it",
        "refused: 127.0.0.2 is not a public address (loopback); NEWSBOT_FETCH_ALLOW can allow it",
    ]
    assert http_server.hits == [] and internal.hits == [] and runtime.store.catalog() == {}


def test_an_allowed_host_name_or_network_is_fetched(
    runtime: Runtime, http_server: WebServer, internal: InternalSite
) -> None:
    """A name is trusted by name (not the address it resolves to); a network allows each of its addresses.
    This also shows the refusals above are the policy's doing: 127.0.0.2 answers when allowed."""
    port = http_server.base_url.rsplit(":", 1)[1]
    by_name, by_address = f"http://localhost:{port}/power-grid.html", http_server.url("/grain-corridor.html")
    runtime.settings.fetch_allow = ["localhost"]
    report = runtime.ingest([by_name, by_address])
    assert [f.item for f in report.failed] == [by_address] and len(report.added) == 1

    runtime.settings.fetch_allow = ["127.0.0.0/8"]
    report = runtime.ingest([internal.url("/metadata.html")])
    assert report.ok and internal.hits == ["/metadata.html"]


def test_proxies_from_the_environment_are_ignored(
    runtime: Runtime, http_server: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy would connect on our behalf, where the policy cannot see; the guarded client never uses one."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # the discard port: nothing answers there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    report = runtime.ingest([http_server.url("/grain-corridor.html")])
    assert report.ok, report.failed


@pytest.mark.parametrize("fallback", ["on-failure", "always", "never"])
def test_feed_summary_fallback(
    fallback: str, runtime: Runtime, http_server: WebServer, internal: InternalSite
) -> None:
    """A failed page's entry is stored from the feed's summary with a warning (unless "never"); a refused
    link's entry only with "always", and then too with a warning and without contacting the address."""
    runtime.settings.feed_summary_fallback = fallback  # type: ignore[assignment]
    refused, gone = internal.url("/internal/metadata"), http_server.url("/gone.html")
    http_server.routes["/feed.rss"] = Route(
        rss(
            ("Internal", refused, "Kharkiv metro station becomes a school for a thousand children."),
            ("Gone", "{base}/gone.html", "Crews reconnect 48,000 households in Kharkiv after the strike."),
        ),
        content_type="application/rss+xml",
    )
    report = runtime.ingest([http_server.url("/feed.rss")])

    stored_from_summary = {"on-failure": [gone], "always": [refused, gone], "never": []}[fallback]
    assert sorted(report.added) == sorted(stored_from_summary)
    assert sorted(w.item for w in report.warnings) == sorted(stored_from_summary)
    for warning in report.warnings:
        assert warning.reason.startswith("stored from the feed's summary; the page: ")
    assert sorted(f.item for f in report.failed) == sorted({refused, gone} - set(stored_from_summary))
    assert internal.hits == [] and SECRET not in stored_texts(runtime)


# ---- every kind of bad item in one run ---------------------------------------------------------------------


def _page(meta: str = "") -> bytes:
    return (
        f"<html><head>{meta}<title>Kyiv trams</title></head><body><article><h1>Kyiv trams</h1>"
        "<p>The Kyiv tram depot on Podil repaired its last damaged carriage on Friday.</p>"
        "<p>Twelve carriages are back on the river line, and night service resumes next week.</p>"
        "</article></body></html>"
    ).encode()


def test_every_kind_of_bad_item_fails_alone_in_one_run(
    runtime: Runtime, http_server: WebServer, internal: InternalSite, tmp_path: Path
) -> None:
    site = http_server
    site.routes["/header-foobar.html"] = Route(_page(), content_type="text/html; charset=foobar")
    site.routes["/meta-foobar.html"] = Route(_page('<meta charset="foobar">'), content_type="text/html")
    site.routes["/header-rot13.html"] = Route(_page(), content_type="text/html; charset=rot13")
    site.routes["/meta-base64.html"] = Route(
        _page('<meta http-equiv="Content-Type" content="text/html; charset=base64">'), content_type="text/html"
    )
    site.routes["/loop"] = Route(b"", status=302, headers={"Location": "{base}/loop"})
    site.routes["/html-as-feed.rss"] = Route(_page(), content_type="application/rss+xml")
    site.routes["/mixed.rss"] = Route(
        rss(
            ("Power grid", "{base}/power-grid.html", "Crews reconnect 48,000 households."),
            ("Invalid link", "http://[::1", "Summary of an entry with an invalid link."),
            ("Internal", internal.url("/internal/metadata"), "Summary of an entry with a refused link."),
            ("Gone", "{base}/gone.html", "Kharkiv metro station becomes a school for a thousand children."),
        ),
        content_type="application/rss+xml",
    )
    files = {
        "noise.txt": bytes(range(0x80, 0x100)) * 8,
        "scan.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20,
        "empty.md": b"",
        "records.jsonl": b'{"id": "rec-1", "text": "' + GOOD.encode() + b'"}\n{"id": "rec-2", "text": "cut\n',
        "good.md": markdown("good", "Good", GOOD).encode(),
        "cp1252.txt": "Kyiv’s budget\nThe city set aside €40 million for “safe schools” – shelters first.".encode(
            "cp1252"
        ),
    }
    for name, content in files.items():
        write(tmp_path / name, content)
    bad = [  # (item, the start of its reason)
        (site.url("/header-foobar.html"), "declares an unknown charset ('foobar')"),
        (site.url("/meta-foobar.html"), "declares an unknown charset ('foobar')"),
        (site.url("/header-rot13.html"), "declares charset 'rot13', which is not a text encoding"),
        (site.url("/meta-base64.html"), "declares charset 'base64', which is not a text encoding"),
        (site.url("/status/404"), "HTTP 404 Not Found"),
        (site.url("/loop"), "too many redirects"),
        (site.url("/html-as-feed.rss"), "not a feed"),
        ("http://[::1", "invalid URL"),  # given on the command line
        ("http://[::1", "invalid URL"),  # and as a feed entry's link
        (internal.url("/internal/metadata"), "refused: 127.0.0.2 is not a public address (loopback)"),
        (str(tmp_path / "noise.txt"), "not text in UTF-8 or a known legacy encoding"),
        (str(tmp_path / "scan.txt"), "binary file, not text"),
        (str(tmp_path / "empty.md"), "empty"),
        (f"{tmp_path / 'records.jsonl'}:2", "invalid JSON"),
    ]
    pages = ("/header-foobar.html", "/meta-foobar.html", "/header-rot13.html", "/meta-base64.html", "/status/404")
    web = [site.url(p) for p in (*pages, "/loop", "/html-as-feed.rss", "/mixed.rss", "/grain-corridor.html")]
    web.append("http://[::1")

    env = {"NEWSBOT_DATA_DIR": str(runtime.settings.data_dir)}
    args = ["ingest", *web, *(str(tmp_path / name) for name in files)]
    result = CliRunner().invoke(cli, args, obj={"runtime": runtime}, env=env)

    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    failed = sorted(
        tuple(line.removeprefix("failed: ").split(": ", 1))
        for line in result.stderr.splitlines()
        if line.startswith("failed: ")
    )
    assert [item for item, _ in failed] == sorted(item for item, _ in bad), failed
    for (item, reason), (_, expected) in zip(failed, sorted(bad), strict=True):
        assert reason.startswith(expected), (item, reason)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    fallback = "stored from the feed's summary; the page: HTTP 404 Not Found"
    assert warnings == [f"warning: {site.url('/gone.html')}: {fallback}"]

    catalog = runtime.store.catalog()
    assert set(catalog) == {
        "good", "rec-1", "cp1252", site.url("/power-grid.html"), site.url("/gone.html"),
        "https://kyivledger.example/2024/03/05/grain-corridor",
    }  # fmt: skip
    assert "€40 million for “safe schools” – shelters first." in (runtime.store.article_text("cp1252") or "")
    assert internal.hits == [] and SECRET not in stored_texts(runtime)


# ---- legacy encodings and UTF-16 ---------------------------------------------------------------------------

ENCODED = {
    "cp1252": ("Kyiv’s “safe schools” plan – €40 million", "cp1252"),
    "latin-1": ("Café à Kyiv: près de la gare, l'école rouvre ses portes après l'hiver.", "latin-1"),
    "utf-16-le": ("Київ відбудовує школи: “€40 million” – 300 мільйонів гривень", "utf-16-le"),
    "utf-16-be": ("Київ відбудовує школи: “€40 million” – 300 мільйонів гривень", "utf-16-be"),
    "cp1251": ("Мер Києва заявив, що місто відновило подачу тепла в усі будинки.", "cp1251"),
}


@pytest.mark.parametrize("case", list(ENCODED))
def test_text_in_a_legacy_encoding_or_utf16_is_read(case: str, runtime: Runtime, tmp_path: Path) -> None:
    sentence, codec = ENCODED[case]
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(codec, b"")
    text = f"{sentence}\n{sentence} The council approved it on Tuesday.\n"
    path = write(tmp_path / f"{case}.txt", bom + text.encode(codec))
    report = runtime.ingest([str(path)])
    assert report.ok, report.failed
    assert (runtime.store.article_text(case) or "") == f"{sentence} The council approved it on Tuesday."
    assert runtime.store.catalog()[case].title == sentence
