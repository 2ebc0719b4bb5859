"""Resolve what an admin names (a file, a directory, an article URL, a feed URL) into articles.

Every failure is an ItemError naming the item, so one bad page or file never stops the rest of a run.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

import httpx

from ingest.errors import ItemError
from ingest.fetch_policy import AllowList, FetchRefused, check_url, guarded_client
from ingest.readers import TEXT_SUFFIXES, Parsed, clean_id, decode_page, make_article, parse_html, read_file
from vectorstore.models import Article

log = logging.getLogger(__name__)

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")


@dataclass(frozen=True)
class FetchOptions:
    max_bytes: int = 10_000_000
    timeout_s: float = 15.0
    concurrency: int = 4
    user_agent: str = "newsbot/0.1"
    allow: AllowList = AllowList()  # what may be fetched although not public (NEWSBOT_FETCH_ALLOW)
    # When a feed entry's page cannot be had, its summary is stored instead: see Settings.feed_summary_fallback.
    summary_fallback: Literal["on-failure", "always", "never"] = "on-failure"


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
    # Ids of feed entries whose page failed this time, so their article was built from the feed's content.
    stand_ins: set[str] = field(default_factory=set)


_URL = re.compile(r"^https?://", re.IGNORECASE)


def is_url(source: str) -> bool:
    """Meant as a web address, even a malformed one (which then fails as a URL rather than as a file)."""
    return bool(_URL.match(source.strip()))


def origin_of(source: str) -> str:
    return source if is_url(source) else str(Path(source).expanduser().resolve())


def read_source(source: str, options: FetchOptions, client: httpx.Client | None = None) -> SourceResult:
    origin = origin_of(source)
    result = SourceResult(source=source, origin=origin)
    try:
        if is_url(source):
            _read_web(source, result, options, client)
        else:
            for articles, errors in _read_path(Path(source).expanduser(), origin, options):
                result.articles.extend(articles)
                result.errors.extend(errors)
    except ItemError as exc:
        result.errors.append(exc)
        result.complete = False
    return result


# ---- local files -------------------------------------------------------------------------------------------


def _read_path(path: Path, origin: str, options: FetchOptions) -> Iterator[Parsed]:
    if not path.exists():
        raise ItemError(str(path), "no such file or directory")
    if path.is_file():
        yield read_file(path, options.max_bytes, origin)
        return
    files = sorted(
        p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES and not _hidden(p, path)
    )
    for file in files:
        try:
            yield read_file(file, options.max_bytes, origin)
        except ItemError as exc:
            yield [], [exc]


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


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


def fetch(url: str, client: httpx.Client, options: FetchOptions) -> Fetched:
    """GET with a size limit enforced while streaming, through the fetch policy (`_client`).

    httpx's timeout bounds each network read, so a server that trickles bytes would never time out; the
    whole response must also arrive within `timeout_s` of the headers.
    """
    try:
        target = httpx.URL(url)
        check_url(target)
        with client.stream("GET", target) as response:
            if response.status_code >= 400:
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
            return Fetched(bytes(body), ctype, response.charset_encoding, str(response.url))
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


def _read_web(url: str, result: SourceResult, options: FetchOptions, client: httpx.Client | None) -> None:
    own = client is None
    http = client or _client(options)
    try:
        _read_url(url, result, http, options)
    except ItemError:
        raise
    except Exception as exc:  # a library's surprise costs this source, never the run
        log.warning("unexpected %s reading a web source", type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
        raise ItemError(url, f"unexpected error ({type(exc).__name__})") from None
    finally:
        if own:
            http.close()


def _read_url(url: str, result: SourceResult, client: httpx.Client, options: FetchOptions) -> None:
    got = fetch(url, client, options)
    ctype = got.content_type
    if _looks_like_feed(got.body, ctype) or ctype in ("application/xml", "text/xml"):
        _read_feed(url, got.body, result, client, options)
        return
    if ctype and "html" not in ctype and not ctype.startswith("text/"):
        raise ItemError(url, f"not an article page or feed (content type {ctype})")
    stem = Path(urlparse(got.url).path).stem or urlparse(got.url).netloc
    articles, errors = parse_html(decode_page(got.body, url, got.charset), url, stem, result.origin, url=got.url)
    result.articles.extend(articles)
    result.errors.extend(errors)


def _read_feed(url: str, body: bytes, result: SourceResult, client: httpx.Client, options: FetchOptions) -> None:
    import feedparser

    feed = feedparser.parse(body)
    if not feed.entries:
        reason = "not a feed" if feed.bozo or not feed.get("version") else "the feed has no entries"
        raise ItemError(url, reason)
    site = (feed.feed.get("title") or "").strip() or None

    def one(entry: feedparser.FeedParserDict) -> SourceResult:
        try:
            return _read_entry(entry, url, site, result.origin, client, options)
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
) -> SourceResult:
    """The entry's page is the article; the feed's own content is the fallback when the page fails (a warning
    says so), and when its link was refused only if `summary_fallback` is "always".

    The entry's link is the article's identity either way (the page's canonical URL is its `url`), so a page
    that fails on one run cannot file the same story under a second id, and `stand_ins` tells the pipeline
    not to replace a stored page with the feed's summary.
    """
    out = SourceResult(source=feed_url, origin=origin)
    link = entry.get("link")
    label = _entry_label(entry, feed_url)
    published = entry.get("published") or entry.get("updated")
    page_error: ItemError | None = None
    if link:
        author = entry.get("author")
        defaults = {"title": entry.get("title"), "date": published, "source": site, "author": author}
        try:
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
    out.articles.append(article)
    if page_error is not None:
        out.stand_ins.add(article.id)
        out.warnings.append(ItemError(label, f"stored from the feed's summary; the page: {page_error.reason}"))
    return out


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
