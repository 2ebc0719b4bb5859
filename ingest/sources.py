"""Resolve what an admin names (a file, a directory, an article URL, a feed URL) into articles.

Every failure is an ItemError naming the item, so one bad page or file never stops the rest of a run.
"""

from __future__ import annotations

import calendar
import logging
import os
import re
import stat
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

import httpx

from ingest.errors import ItemError
from ingest.fetch_policy import AllowList, FetchRefused, check_url, guarded_client
from ingest.readers import TEXT_SUFFIXES, clean_id, decode_page, make_article, parse_html, read_file
from ingest.robots import Robots
from vectorstore.models import Article

log = logging.getLogger(__name__)

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")


@dataclass(frozen=True)
class FetchOptions:
    max_bytes: int = 10_000_000
    timeout_s: float = 15.0
    concurrency: int = 4
    per_host: int = 2  # of those, at most this many to one host (NEWSBOT_FETCH_PER_HOST)
    user_agent: str = "newsbot/0.1"
    allow: AllowList = AllowList()  # what may be fetched although not public (NEWSBOT_FETCH_ALLOW)
    # When a feed entry's page cannot be had, its summary is stored instead: see Settings.feed_summary_fallback.
    summary_fallback: Literal["on-failure", "always", "never"] = "on-failure"


@dataclass(frozen=True)
class Validators:
    """A response's cache validators (ETag, Last-Modified), sent back as If-None-Match / If-Modified-Since on
    the next request for the same URL, so a server whose copy is unchanged answers 304 with no body."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        sent = {"If-None-Match": self.etag, "If-Modified-Since": self.last_modified}
        return {name: value for name, value in sent.items() if value}

    @classmethod
    def of(cls, headers: httpx.Headers) -> Validators:
        return cls(headers.get("etag") or None, headers.get("last-modified") or None)


# When the article with this id was stored (None: not stored, or only from a feed's summary). The pipeline
# answers from the store's catalog, so this module needs no store.
StoredAt = Callable[[str], datetime | None]


@dataclass
class SourceResult:
    """What one named source yielded; `complete` is False when the source itself failed (then no pruning)."""

    source: str
    origin: str
    articles: list[Article] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    skipped: list[ItemError] = field(default_factory=list)  # passed over on purpose; see IngestReport.skipped
    warnings: list[ItemError] = field(default_factory=list)  # stored, but not as asked; see IngestReport
    complete: bool = True
    # Some of it was deliberately not read (a symbolic link leaving the tree), so what it no longer lists
    # may still exist: no pruning either.
    partial: bool = False
    # Ids of feed entries whose page failed this time, so their article was built from the feed's content.
    stand_ins: set[str] = field(default_factory=set)
    # The source URL's validators as last answered (to store for the next poll), and whether it answered 304
    # Not Modified to the ones it was sent: then nothing was read and nothing of it changed.
    validators: Validators = Validators()
    not_modified: bool = False
    # Ids of feed entries stored before and not updated since (by the feed's updated/published date): their
    # pages were not fetched.
    unchanged: list[str] = field(default_factory=list)
    # Stored feed entries fetched again because the feed marked them updated: id -> the feed's updated date.
    rechecked: dict[str, datetime] = field(default_factory=dict)

    @property
    def prunable(self) -> bool:
        """Read whole and without a failure: then an article it no longer yields is really gone."""
        return self.complete and not self.partial and not self.errors


_URL = re.compile(r"^https?://", re.IGNORECASE)


def is_url(source: str) -> bool:
    """Meant as a web address, even a malformed one (which then fails as a URL rather than as a file)."""
    return bool(_URL.match(source.strip()))


def origin_of(source: str) -> str:
    return source if is_url(source) else str(Path(source).expanduser().resolve())


def read_source(
    source: str,
    options: FetchOptions,
    client: httpx.Client | None = None,
    validators: Validators | None = None,
    stored_at: StoredAt | None = None,
) -> SourceResult:
    """Read one source. `validators` are what a URL answered last time (see `Validators`), for a conditional
    request; with `stored_at`, a feed entry already stored and not updated since is not fetched again."""
    origin = origin_of(source)
    result = SourceResult(source=source, origin=origin)
    try:
        if is_url(source):
            _read_web(source, result, options, client, validators, stored_at)
        else:
            _read_path(Path(source).expanduser(), origin, options, result)
    except ItemError as exc:
        result.errors.append(exc)
        result.complete = False
    return result


# ---- local files -------------------------------------------------------------------------------------------


def _read_path(path: Path, origin: str, options: FetchOptions, result: SourceResult) -> None:
    """A file is read as named (through a symbolic link too: the admin chose it). A directory is walked by
    `_list_tree` without following any symbolic link, and a source that yields no article and no failure (an
    empty directory, one of PDFs only) is itself a failure: nothing to ingest is never a silent success."""
    if not path.exists():
        raise ItemError(str(path), "no such file or directory")
    if not path.is_dir():
        if not path.is_file():
            raise ItemError(str(path), f"not a regular file or directory ({_special_kind(path.stat().st_mode)})")
        result.articles, result.errors = read_file(path, options.max_bytes, origin)
        if not result.articles and not result.errors:
            raise ItemError(str(path), "nothing to ingest: no records in it")
        return
    listing = _list_tree(path)
    result.errors.extend(listing.errors)
    result.skipped.extend(listing.skipped)
    result.partial = listing.partial
    for file in listing.files:
        try:
            articles, problems = read_file(file, options.max_bytes, origin)
        except ItemError as exc:
            result.errors.append(exc)
            continue
        if not articles and not problems:
            result.skipped.append(ItemError(str(file), "no records"))
        result.articles.extend(articles)
        result.errors.extend(problems)
    if not result.articles and not result.errors:
        what = f"no article in it ({len(result.skipped)} skipped)" if result.skipped else "no supported files in it"
        raise ItemError(str(path), f"nothing to ingest: {what}")


@dataclass
class _Listing:
    files: list[Path] = field(default_factory=list)
    skipped: list[ItemError] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    partial: bool = False  # a symbolic link leaving the tree was not followed


def _list_tree(root: Path) -> _Listing:
    """The supported files under `root`, and what was passed over and why.

    No symbolic link inside the tree is followed, file or directory: one that leaves the tree (or dangles, or
    loops) is reported as skipped and makes the listing partial, since its target may be an article we hold;
    one that stays inside is reported as not followed, as its target is read where it lies. So nothing outside
    the tree is read, nothing is read twice, and a link loop cannot arise. Hidden entries (dot files and
    directories) are ignored without a word, by convention; an empty directory is reported, as it may be a share
    that is not mounted. A directory that cannot be listed is an error of that directory (os.scandir raises;
    pathlib's rglob would swallow it and let a prune delete its articles).
    """
    listing = _Listing()
    real_root = root.resolve()
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            listing.errors.append(ItemError(str(folder), f"cannot list the directory ({exc.strerror or exc})"))
            continue
        visible = [e for e in entries if not e.name.startswith(".")]
        if not visible and folder != root:  # the root's emptiness is the source's failure: nothing to ingest
            reason = "empty directory" if not entries else "empty directory (hidden files only)"
            listing.skipped.append(ItemError(str(folder), reason))
        subfolders = []
        for entry in visible:
            path = folder / entry.name
            try:  # the listing gives each entry's type; only a special file needs a stat, to name its kind
                is_link = entry.is_symlink()
                is_dir = not is_link and entry.is_dir(follow_symlinks=False)
                is_file = not is_link and entry.is_file(follow_symlinks=False)
                mode = 0 if is_link or is_dir or is_file else entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                listing.errors.append(ItemError(str(path), f"cannot read ({exc.strerror or exc})"))
                continue
            if is_dir:
                subfolders.append(path)
            elif is_link:
                reason, leaves = _link_verdict(path, real_root)
                listing.skipped.append(ItemError(str(path), reason))
                listing.partial = listing.partial or leaves
            elif not is_file:
                listing.skipped.append(ItemError(str(path), f"not a regular file ({_special_kind(mode)})"))
            elif path.suffix.lower() not in TEXT_SUFFIXES:
                kind = f"unsupported type {path.suffix.lower()}" if path.suffix else "unsupported type (no extension)"
                listing.skipped.append(ItemError(str(path), kind))
            else:
                listing.files.append(path)
        pending.extend(reversed(subfolders))
    listing.files.sort()
    return listing


def _link_verdict(link: Path, real_root: Path) -> tuple[str, bool]:
    """Why a symbolic link is skipped, and whether its target lies outside what was read."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):  # missing target, or a loop (RuntimeError before Python 3.13)
        return "broken symbolic link (its target is missing or loops)", True
    if not target.is_relative_to(real_root):
        return "symbolic link leaving the ingested tree", True
    return "symbolic link inside the tree, not followed (its target is read where it lies)", False


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


# ---- the web -----------------------------------------------------------------------------------------------


class Refused(ItemError):
    """The fetch policy refused a link (not http(s), not a URL, or not a public address and not allowed)."""


def _client(options: FetchOptions) -> httpx.Client:
    return guarded_client(options.allow, options.timeout_s, options.user_agent)


@dataclass(frozen=True)
class Fetched:
    body: bytes
    content_type: str  # lower case, without parameters
    charset: str | None  # as the server declared it
    url: str  # after redirects
    validators: Validators = Validators()
    not_modified: bool = False  # 304 to a conditional request: `body` is empty


def fetch(url: str, client: httpx.Client, options: FetchOptions, validators: Validators | None = None) -> Fetched:
    """GET with a size limit enforced while streaming, through the fetch policy (`_client`); conditional when
    `validators` are given.

    httpx's timeout bounds each network read, so a server that trickles bytes would never time out; the
    whole response must also arrive within `timeout_s` of the headers.
    """
    try:
        target = httpx.URL(url)
        check_url(target)
        sent = validators or Validators()
        with client.stream("GET", target, headers=sent.headers()) as response:
            if response.status_code == 304 and sent.headers():
                # A 304 may repeat or refresh the validators; where it omits one, the one sent still holds.
                got = Validators.of(response.headers)
                kept = Validators(got.etag or sent.etag, got.last_modified or sent.last_modified)
                return Fetched(b"", "", None, str(response.url), kept, not_modified=True)
            if response.status_code >= 400 or response.status_code == 304:
                raise ItemError(url, f"HTTP {response.status_code} {response.reason_phrase}".strip())
            declared = int(response.headers.get("content-length") or 0)
            if declared > options.max_bytes:
                raise ItemError(url, f"too large ({declared:,} bytes; the limit is {options.max_bytes:,})")
            body = bytearray()
            deadline = time.monotonic() + options.timeout_s
            for part in response.iter_bytes():
                body.extend(part)
                if len(body) > options.max_bytes:
                    raise ItemError(url, f"too large (over the {options.max_bytes:,}-byte limit)")
                if time.monotonic() > deadline:
                    raise ItemError(url, f"timed out after {options.timeout_s:g} s (the body never finished)")
            ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
            return Fetched(
                bytes(body), ctype, response.charset_encoding, str(response.url), Validators.of(response.headers)
            )
    except FetchRefused as exc:
        raise Refused(url, f"refused: {exc.reason}") from None
    except httpx.InvalidURL as exc:
        raise Refused(url, f"invalid URL ({exc})") from None
    except httpx.TooManyRedirects:
        raise ItemError(url, "too many redirects") from None
    except httpx.TimeoutException:
        raise ItemError(url, f"timed out after {options.timeout_s:g} s") from None
    except (httpx.HTTPError, httpx.StreamError) as exc:
        raise ItemError(url, f"request failed ({type(exc).__name__})") from None
    except ValueError as exc:  # a malformed header, e.g. a Content-Length that is not a number
        raise ItemError(url, f"malformed response ({type(exc).__name__})") from None


def _looks_like_feed(body: bytes, ctype: str) -> bool:
    if ctype in _FEED_TYPES or ctype.endswith("+xml"):
        return True
    head = body[:1024].lstrip().lower()
    return head.startswith(b"<?xml") and (b"<rss" in head or b"<feed" in head or b"<rdf" in head) or (
        head.startswith(b"<rss") or head.startswith(b"<feed")
    )


def _read_web(
    url: str,
    result: SourceResult,
    options: FetchOptions,
    client: httpx.Client | None,
    validators: Validators | None,
    stored_at: StoredAt | None,
) -> None:
    own = client is None
    http = client or _client(options)
    try:
        _read_url(url, result, http, options, validators, stored_at)
    except ItemError:
        raise
    except Exception as exc:  # a library's surprise costs this source, never the run
        log.warning("unexpected %s reading a web source", type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
        raise ItemError(url, f"unexpected error ({type(exc).__name__})") from None
    finally:
        if own:
            http.close()


def _read_url(
    url: str,
    result: SourceResult,
    client: httpx.Client,
    options: FetchOptions,
    validators: Validators | None,
    stored_at: StoredAt | None,
) -> None:
    got = fetch(url, client, options, validators)
    result.validators = got.validators
    if got.not_modified:  # unchanged since the last poll: nothing to parse, no entry page to fetch
        result.not_modified = True
        return
    ctype = got.content_type
    if _looks_like_feed(got.body, ctype) or ctype in ("application/xml", "text/xml"):
        _read_feed(url, got.body, result, client, options, stored_at)
        return
    if ctype and "html" not in ctype and not ctype.startswith("text/"):
        raise ItemError(url, f"not an article page or feed (content type {ctype})")
    stem = Path(urlparse(got.url).path).stem or urlparse(got.url).netloc
    articles, errors = parse_html(decode_page(got.body, url, got.charset), url, stem, result.origin, url=got.url)
    result.articles.extend(articles)
    result.errors.extend(errors)


def _read_feed(
    url: str,
    body: bytes,
    result: SourceResult,
    client: httpx.Client,
    options: FetchOptions,
    stored_at: StoredAt | None,
) -> None:
    import feedparser

    feed = feedparser.parse(body)
    if not feed.entries:
        reason = "not a feed" if feed.bozo or not feed.get("version") else "the feed has no entries"
        raise ItemError(url, reason)
    site = (feed.feed.get("title") or "").strip() or None
    crawl = Crawl(HostLimits(options.per_host), Robots(client, options.user_agent, options.timeout_s))

    def one(entry: feedparser.FeedParserDict) -> SourceResult:
        try:
            return _read_entry(entry, url, site, result.origin, client, options, stored_at, crawl)
        except Exception as exc:  # one entry's surprise costs that entry
            log.warning("unexpected %s reading a feed entry", type(exc).__name__)
            got = SourceResult(source=url, origin=result.origin)
            got.errors.append(ItemError(_entry_label(entry, url), f"unexpected error ({type(exc).__name__})"))
            return got

    with ThreadPoolExecutor(max_workers=max(1, options.concurrency)) as pool:
        for got in pool.map(one, feed.entries):  # in feed order, whatever order they finish in
            result.articles.extend(got.articles)
            result.errors.extend(got.errors)
            result.warnings.extend(got.warnings)
            result.stand_ins |= got.stand_ins
            result.unchanged.extend(got.unchanged)
            result.skipped.extend(got.skipped)
            result.partial = result.partial or got.partial
            result.rechecked.update(got.rechecked)


class HostLimits:
    """At most `per_host` pages fetched at once from one host, whatever the thread pool's size: a feed's entries
    usually all live on one site, which should not get the whole pool at once."""

    def __init__(self, per_host: int) -> None:
        self._per_host = max(1, per_host)
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    def slot(self, url: str) -> threading.BoundedSemaphore:
        try:
            host = (urlparse(url).hostname or "").lower()
        except ValueError:  # a malformed link: fetch() refuses it, by name
            host = ""
        with self._lock:
            return self._slots.setdefault(host, threading.BoundedSemaphore(self._per_host))


@dataclass(frozen=True)
class Crawl:
    """What one feed read shares among its entries' threads: per-host limits and robots.txt."""

    hosts: HostLimits
    robots: Robots


def _entry_label(entry: dict, feed_url: str) -> str:
    link = entry.get("link")
    return str(link) if link else f"{feed_url}#{entry.get('id') or entry.get('title') or '?'}"


def _read_entry(
    entry: dict,
    feed_url: str,
    site: str | None,
    origin: str,
    client: httpx.Client,
    options: FetchOptions,
    stored_at: StoredAt | None = None,
    crawl: Crawl | None = None,
) -> SourceResult:
    """The entry's page is the article; the feed's own content is the fallback when the page fails (a warning
    says so), and when its link was refused only if `summary_fallback` is "always".

    The entry's link is the article's identity either way (the page's canonical URL is its `url`), so a page
    that fails on one run cannot file the same story under a second id, and `stand_ins` tells the pipeline
    not to replace a stored page with the feed's summary.

    An entry whose article is stored (`stored_at`) and whose updated/published date is not later than that is
    not fetched again, only listed as unchanged; an entry without a date gives no sign of change, so it is not
    fetched again either.
    """
    out = SourceResult(source=feed_url, origin=origin)
    link = entry.get("link")
    if link and stored_at is not None:
        since = stored_at(clean_id(link))
        if since is not None:
            stamp = _entry_stamp(entry)
            if stamp is None or stamp <= since:
                out.unchanged.append(clean_id(link))
                return out
            out.rechecked[clean_id(link)] = stamp
    label = _entry_label(entry, feed_url)
    published = entry.get("published") or entry.get("updated")
    page_error: ItemError | None = None
    if link:
        author = entry.get("author")
        defaults = {"title": entry.get("title"), "date": published, "source": site, "author": author}
        try:
            if crawl is not None and not crawl.robots.allows(link):
                # Skipped, not failed, and nothing stored in its place; a prune spares what it may have been.
                out.skipped.append(ItemError(link, "disallowed by the site's robots.txt"))
                out.partial = True
                return out
            with (crawl.hosts if crawl else HostLimits(options.per_host)).slot(link):
                got = fetch(link, client, options)
            page = decode_page(got.body, link, got.charset)
            articles, errors = parse_html(page, link, "", origin, url=got.url, defaults=defaults)
            out.articles = [replace(a, id=clean_id(link)) for a in articles]
            out.errors = errors
            return out
        except ItemError as exc:
            page_error = exc
    if page_error is not None and not _summary_may_stand_in(page_error, options.summary_fallback):
        out.errors.append(page_error)
        return out
    content = ""
    if entry.get("content"):
        content = entry["content"][0].get("value", "")
    content = content or entry.get("summary", "")
    if not content.strip():
        out.errors.append(page_error or ItemError(label, "feed entry has no link and no content"))
        return out
    text = _html_to_text(content)
    fields = {"title": entry.get("title"), "url": link, "date": published, "source": site}
    fields["id"] = clean_id(link) if link else entry.get("id")
    try:
        article = make_article(item=label, text=text, fallback_id=label, origin=origin, fields=fields)
    except ItemError as exc:
        out.errors.append(exc)
        return out
    if page_error is not None:
        article = replace(article, from_summary=True)
        out.stand_ins.add(article.id)
    out.articles.append(article)
    if page_error is not None:
        out.warnings.append(ItemError(label, f"stored from the feed's summary; the page: {page_error.reason}"))
    return out


def _entry_stamp(entry: dict) -> datetime | None:
    """When the feed says the entry last changed: the later of its updated and published dates."""
    stamps = [entry.get(key) for key in ("updated_parsed", "published_parsed")]
    seconds = [calendar.timegm(stamp) for stamp in stamps if stamp]  # feedparser's stamps are UTC struct_times
    return datetime.fromtimestamp(max(seconds), UTC) if seconds else None


def _summary_may_stand_in(page_error: ItemError, fallback: str) -> bool:
    if isinstance(page_error, Refused):
        return fallback == "always"  # storing the summary would hide a link that may be an attack
    return fallback != "never"


def _html_to_text(fragment: str) -> str:
    import lxml.html

    if "<" not in fragment:
        return fragment
    try:
        root = lxml.html.fromstring(f"<div>{fragment}</div>")
    except Exception:  # malformed fragments: fall back to the raw text
        return fragment
    for br in root.iter("br", "p", "li", "div"):
        br.tail = "\n" + (br.tail or "")
    return root.text_content()
