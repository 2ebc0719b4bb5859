"""Resolve what an admin names (a file, a directory, an article URL, a feed URL) into articles.

Every failure is an ItemError naming the item, so one bad page or file never stops the rest of a run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

import httpx

from ingest.errors import ItemError
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


def is_url(source: str) -> bool:
    return urlparse(source).scheme in ("http", "https")


def origin_of(source: str) -> str:
    return source if is_url(source) else str(Path(source).expanduser().resolve())


def read_source(source: str, options: FetchOptions, client: httpx.Client | None = None) -> SourceResult:
    origin = origin_of(source)
    result = SourceResult(source=source, origin=origin)
    try:
        if is_url(source):
            own = client is None
            http = client or _client(options)
            try:
                parsed = _read_url(source, origin, http, options, result.stand_ins)
            finally:
                if own:
                    http.close()
            result.articles, result.errors = parsed
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


def _client(options: FetchOptions) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(options.timeout_s),
        follow_redirects=True,
        headers={"User-Agent": options.user_agent},
    )


@dataclass(frozen=True)
class Fetched:
    body: bytes
    content_type: str  # lower case, without parameters
    charset: str | None  # as the server declared it
    url: str  # after redirects


def fetch(url: str, client: httpx.Client, options: FetchOptions) -> Fetched:
    """GET with a size limit enforced while streaming.

    httpx's timeout bounds each network read, so a server that trickles bytes would never time out; the
    whole response must also arrive within `timeout_s` of the headers.
    """
    try:
        with client.stream("GET", url) as response:
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
    except httpx.TimeoutException:
        raise ItemError(url, f"timed out after {options.timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise ItemError(url, f"request failed ({type(exc).__name__})") from None


def _looks_like_feed(body: bytes, ctype: str) -> bool:
    if ctype in _FEED_TYPES or ctype.endswith("+xml"):
        return True
    head = body[:1024].lstrip().lower()
    return head.startswith(b"<?xml") and (b"<rss" in head or b"<feed" in head or b"<rdf" in head) or (
        head.startswith(b"<rss") or head.startswith(b"<feed")
    )


def _read_url(
    url: str, origin: str, client: httpx.Client, options: FetchOptions, stand_ins: set[str]
) -> Parsed:
    got = fetch(url, client, options)
    ctype = got.content_type
    if _looks_like_feed(got.body, ctype) or ctype in ("application/xml", "text/xml"):
        return _read_feed(url, got.body, origin, client, options, stand_ins)
    if ctype and "html" not in ctype and not ctype.startswith("text/"):
        raise ItemError(url, f"not an article page or feed (content type {ctype})")
    stem = Path(urlparse(got.url).path).stem or urlparse(got.url).netloc
    return parse_html(decode_page(got.body, url, got.charset), url, stem, origin, url=got.url)


def _read_feed(
    url: str, body: bytes, origin: str, client: httpx.Client, options: FetchOptions, stand_ins: set[str]
) -> Parsed:
    import feedparser

    feed = feedparser.parse(body)
    if not feed.entries:
        reason = "not a feed" if feed.bozo or not feed.get("version") else "the feed has no entries"
        raise ItemError(url, reason)
    site = (feed.feed.get("title") or "").strip() or None

    def one(entry: feedparser.FeedParserDict) -> Parsed:
        return _read_entry(entry, url, site, origin, client, options, stand_ins)

    articles: list[Article] = []
    errors: list[ItemError] = []
    with ThreadPoolExecutor(max_workers=max(1, options.concurrency)) as pool:
        for got, errs in pool.map(one, feed.entries):
            articles.extend(got)
            errors.extend(errs)
    return articles, errors


def _read_entry(
    entry: dict,
    feed_url: str,
    site: str | None,
    origin: str,
    client: httpx.Client,
    options: FetchOptions,
    stand_ins: set[str],
) -> Parsed:
    """The entry's page is the article; the feed's own content is the fallback when the page fails.

    The entry's link is the article's identity either way (the page's canonical URL is its `url`), so a page
    that fails on one run cannot file the same story under a second id, and `stand_ins` tells the pipeline
    not to replace a stored page with the feed's summary.
    """
    link = entry.get("link")
    label = link or f"{feed_url}#{entry.get('id') or entry.get('title') or '?'}"
    published = entry.get("published") or entry.get("updated")
    page_error: ItemError | None = None
    if link:
        author = entry.get("author")
        defaults = {"title": entry.get("title"), "date": published, "source": site, "author": author}
        try:
            got = fetch(link, client, options)
            page = decode_page(got.body, link, got.charset)
            articles, errors = parse_html(page, link, "", origin, url=got.url, defaults=defaults)
            return [replace(a, id=clean_id(link)) for a in articles], errors
        except ItemError as exc:
            page_error = exc
    content = ""
    if entry.get("content"):
        content = entry["content"][0].get("value", "")
    content = content or entry.get("summary", "")
    if not content.strip():
        return [], [page_error or ItemError(label, "feed entry has no link and no content")]
    text = _html_to_text(content)
    fields = {"title": entry.get("title"), "url": link, "date": published, "source": site}
    fields["id"] = clean_id(link) if link else entry.get("id")
    try:
        article = make_article(item=label, text=text, fallback_id=label, origin=origin, fields=fields)
    except ItemError as exc:
        return [], [exc]
    if page_error:
        stand_ins.add(article.id)
        log.info("used feed content for %s (%s)", label, page_error.reason)
    return [article], []


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
