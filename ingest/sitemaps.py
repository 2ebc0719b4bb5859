"""Sitemaps as sources: XML sitemaps, Google News sitemaps and sitemap indexes (plain or gzipped), recognised
by their content.

A sitemap is parsed as it streams in (lxml's pull parser, each entry dropped once read), so a large one never
sits in memory; reading stops at NEWSBOT_SITEMAP_MAX_BYTES. An index's sitemaps are read newest first (by the
`lastmod` the index gives them), each fetched through the fetch policy like any page, down to
NEWSBOT_SITEMAP_MAX_DEPTH levels and NEWSBOT_SITEMAP_MAX_SITEMAPS sitemaps per read; one listed twice (a cycle)
is read once. Of the page URLs, one stored before and not dated later since (`lastmod`, or the later
`news:publication_date`) is not fetched again; of the others, the newest NEWSBOT_SITEMAP_MAX_URLS are fetched,
and the rest wait for the next poll. Sitemaps list what is current, not what exists, so a URL dropped from one
deletes nothing: a sitemap source is never pruned.

trafilatura's `sitemaps` module is not used for parsing: it keeps only `<loc>` (no `lastmod`, no news
metadata), tells nested sitemaps from pages by a `.xml` in the link, and fetches through its own downloader,
outside the fetch policy.
"""

from __future__ import annotations

import heapq
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from urllib.parse import urlparse

from lxml import etree

from ingest.articles import clean_id
from ingest.errors import ItemError
from ingest.fetching import Validators, capped, stream
from ingest.pages import Crawl, crawl_each, read_linked_page, stored_state
from ingest.source_result import SourceResult, StoredAt

SNIFF_BYTES = 4096  # how much of a body is read to tell a sitemap from a feed or a page
_GZIP_MAGIC = b"\x1f\x8b"
_GUNZIP_STEP = 1 << 16  # decompressed bytes per step: a gzip bomb is counted as it inflates
_FIRST_ELEMENT = re.compile(rb"<(?![?!/])(?:[\w.-]+:)?([\w.-]+)")
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_ROOTS = {b"urlset": "urlset", b"sitemapindex": "sitemapindex"}
_NAMED_SITEMAP = re.compile(r"^sitemap|\.xml(\.gz)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Entry:
    """One `<url>` (a page) or `<sitemap>` (a nested sitemap) of a sitemap, in document `order`."""

    loc: str
    order: int
    stamp: datetime | None = None  # when the sitemap says it last changed: the later of lastmod and news date
    published: str | None = None  # news:publication_date, as given: the article's date
    title: str | None = None  # news:title
    site: str | None = None  # news:publication/news:name


def sniff(chunks: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    """The body's first bytes (at least SNIFF_BYTES unless it is shorter), and the whole body again."""
    head = b""
    for part in chunks:
        head += part
        if len(head) >= SNIFF_BYTES:
            break
    return head, chain([head], chunks)


def sitemap_kind(head: bytes) -> str | None:
    """ "urlset" or "sitemapindex" when the body starting with `head` is a sitemap (gzipped or not), else None."""
    if head.startswith(_GZIP_MAGIC):
        try:
            head = zlib.decompressobj(wbits=47).decompress(head, SNIFF_BYTES)
        except zlib.error:
            return None
    first = _FIRST_ELEMENT.search(_COMMENT.sub(b"", head.lstrip(b"\xef\xbb\xbf")))
    return _ROOTS.get(first.group(1)) if first else None


def names_sitemap(url: str) -> bool:
    """The URL itself says sitemap (or .xml): what it serves, if neither a sitemap nor a feed, is no article."""
    return bool(_NAMED_SITEMAP.search(urlparse(url).path.rsplit("/", 1)[-1]))


def read_sitemap(
    url: str,
    body: Iterator[bytes],
    result: SourceResult,
    crawl: Crawl,
    stored_at: StoredAt | None,
    nested_sent: Mapping[str, Validators] | None = None,
) -> None:
    """Read the sitemap whose body is streaming in, its nested sitemaps (conditionally, with `nested_sent`, what
    each answered last time), then the pages due (see the module)."""
    read = _SitemapRead(url, result, crawl, stored_at, nested_sent or {})
    read.take(url, body, depth=0)
    read.follow_nested()
    read.fetch_pages()


class _SitemapRead:
    """One read of a sitemap source: the sitemaps seen, and the newest page URLs due (a bounded heap)."""

    def __init__(
        self, url: str, result: SourceResult, crawl: Crawl, stored_at: StoredAt | None, sent: Mapping[str, Validators]
    ) -> None:
        self.url = url
        self.sent = sent
        self.answered: dict[str, Validators] = {}  # each nested sitemap's validators, as it answered now
        self.result = result
        self.crawl = crawl
        self.limits = crawl.options.sitemaps
        self.stored_at = stored_at
        self.seen = {url}
        self.nested: list[tuple[Entry, int]] = []  # (nested sitemap, its depth), the newest last
        self.due: list[tuple[tuple[bool, float, int], Entry]] = []  # min-heap of the newest pages due
        self.ids: set[str] = set()
        self.left = 0  # pages due beyond the limit, for the next poll

    def take(self, url: str, body: Iterable[bytes], depth: int) -> None:
        """Parse one sitemap: its pages are offered to the heap, its nested sitemaps queued."""
        for tag, entry in parse_entries(_inflated(body, url, self.limits.max_bytes), url):
            if tag == "sitemap":
                self.nested.append((entry, depth + 1))
            else:
                self._offer(entry)
        self.nested.sort(key=lambda pair: (pair[0].stamp is not None, (pair[0].stamp or _EPOCH), -pair[0].order))

    def _offer(self, entry: Entry) -> None:
        article_id = clean_id(entry.loc)
        if article_id in self.ids:
            return
        self.ids.add(article_id)
        if stored_state(entry.loc, entry.stamp, self.stored_at) == "unchanged":
            self.result.unchanged.append(article_id)
            return
        key = (entry.stamp is not None, entry.stamp.timestamp() if entry.stamp else 0.0, -entry.order)
        if len(self.due) < self.limits.max_urls:
            heapq.heappush(self.due, (key, entry))
        else:
            heapq.heappushpop(self.due, (key, entry))
            self.left += 1

    def follow_nested(self) -> None:
        """Read the nested sitemaps, newest first, within the depth and count limits; each one's failure is its
        own line, and the others are still read."""
        read, over = 1, 0
        while self.nested:
            entry, depth = self.nested.pop()  # the newest of those not read yet
            if entry.loc in self.seen:
                self.result.skipped.append(ItemError(entry.loc, "sitemap listed again (a cycle): read once"))
                continue
            self.seen.add(entry.loc)
            if depth > self.limits.max_depth:
                reason = f"sitemap nested deeper than NEWSBOT_SITEMAP_MAX_DEPTH ({self.limits.max_depth}): not read"
                self.result.skipped.append(ItemError(entry.loc, reason))
                self.result.partial = True
                continue
            if read >= self.limits.max_sitemaps:
                over = 1 + len(self.nested)
                break
            read += 1
            try:
                with stream(entry.loc, self.crawl.client, self.crawl.options, self.sent.get(entry.loc)) as got:
                    self.answered[entry.loc] = got.validators
                    if got.not_modified:  # unchanged since it was last read whole: nothing new in it
                        continue
                    head, body = sniff(capped(got.chunks, entry.loc, self.limits.max_bytes, got.declared_length))
                    if sitemap_kind(head) is None:
                        raise ItemError(entry.loc, f"not a sitemap ({got.content_type or 'no content type'})")
                    self.take(entry.loc, body, depth)
            except ItemError as exc:
                self.result.errors.append(exc)
        if over:
            # Kept as is, the validators let an unchanged index answer 304 next time: the sitemaps not read are
            # the oldest, and they are read once the index changes.
            limit = f"NEWSBOT_SITEMAP_MAX_SITEMAPS ({self.limits.max_sitemaps})"
            self.result.skipped.append(ItemError(self.url, f"{over} older sitemap(s) not read: {limit} per read"))
            self.result.partial = True

    def fetch_pages(self) -> None:
        pages = [entry for _, entry in sorted(self.due, reverse=True)]
        if self.left:
            limit = f"NEWSBOT_SITEMAP_MAX_URLS ({self.limits.max_urls})"
            self.result.skipped.append(
                ItemError(self.url, f"{self.left} older page(s) left for the next poll: {limit}")
            )
            # Not sent next time, so the sitemap is read again (no 304) and the pages left are reached.
            self.result.validators = Validators()
        self.result.partial = True  # a sitemap lists what is current, not all that exists: never pruned
        whole = not self.left and not self.result.errors  # (nothing failed before the pages are fetched)
        crawl_each(pages, self._read_page, lambda entry: entry.loc, self.result, self.crawl.options.concurrency)
        if whole and not self.result.errors:
            self.result.nested_validators = self.answered

    def _read_page(self, entry: Entry) -> SourceResult:
        out = SourceResult(source=self.url, origin=self.result.origin)
        if entry.stamp is not None and stored_state(entry.loc, entry.stamp, self.stored_at) == "updated":
            out.rechecked[clean_id(entry.loc)] = entry.stamp
        defaults = {"title": entry.title, "date": entry.published, "source": entry.site}
        try:
            read_linked_page(entry.loc, self.result.origin, self.crawl, out, defaults)
        except ItemError as exc:
            out.errors.append(exc)
        return out


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _inflated(chunks: Iterable[bytes], url: str, max_bytes: int) -> Iterator[bytes]:
    """The body as is, or gunzipped as it streams when it is gzip (a `.xml.gz` sitemap), at most `max_bytes`
    once inflated."""
    stream_ = iter(chunks)
    first = next(stream_, b"")
    if not first.startswith(_GZIP_MAGIC):
        yield first
        yield from stream_
        return
    inflate = zlib.decompressobj(wbits=47)
    out = 0
    try:
        for part in chain([first], stream_):
            data = inflate.decompress(part, _GUNZIP_STEP)
            while True:
                out += len(data)
                if out > max_bytes:
                    raise ItemError(url, f"too large once uncompressed (over the {max_bytes:,}-byte limit)")
                yield data
                if not inflate.unconsumed_tail:
                    break
                data = inflate.decompress(inflate.unconsumed_tail, _GUNZIP_STEP)
    except zlib.error:
        raise ItemError(url, "not a sitemap (a damaged gzip stream)") from None


def parse_entries(chunks: Iterable[bytes], url: str) -> Iterator[tuple[str, Entry]]:
    """("url" | "sitemap", entry) for each entry, as the body streams in; each element is dropped once read."""
    parser = etree.XMLPullParser(
        events=("end",), tag=("{*}url", "{*}sitemap"), resolve_entities=False, no_network=True, huge_tree=False
    )
    order = 0
    try:
        for part in chunks:
            parser.feed(part)
            for _, element in parser.read_events():
                entry = _entry(element, order)
                order += 1
                tag = element.tag.rpartition("}")[2]
                element.clear()
                while element.getprevious() is not None:  # what was read before it, too
                    del element.getparent()[0]
                if entry is not None:
                    yield tag, entry
        parser.close()
    except etree.XMLSyntaxError as exc:
        raise ItemError(url, f"not a well-formed sitemap ({exc.msg or 'XML error'})") from None


def _entry(element: etree._Element, order: int) -> Entry | None:
    """The entry's own `loc` and `lastmod`, and a Google News entry's `news:news` metadata (an image's or a
    video's `loc` and `title`, nested deeper, are not the page's)."""
    own = _children(element)
    if not own.get("loc"):
        return None  # an entry without a location names nothing
    news: dict[str, str] = {}
    site = None
    if "news" in own:  # only a news entry pays for the lookups below
        news = _children(element.find("{*}news"))
        site = element.findtext("{*}news/{*}publication/{*}name")
    stamps = [s for s in (_stamp(own.get("lastmod")), _stamp(news.get("publication_date"))) if s]
    return Entry(
        loc=own["loc"],
        order=order,
        stamp=max(stamps) if stamps else None,
        published=news.get("publication_date") or None,
        title=news.get("title") or None,
        site=site.strip() if site else None,
    )


def _children(element: etree._Element | None) -> dict[str, str]:
    """Local name -> stripped text of an element's child elements (comments and processing instructions aside)."""
    if element is None:
        return {}
    return {c.tag.rpartition("}")[2]: (c.text or "").strip() for c in element if isinstance(c.tag, str)}


def _stamp(value: str | None) -> datetime | None:
    """A W3C datetime (2024-03-06, 2024-03-06T16:05:00+01:00, ...Z) as an aware UTC time; None if it is none."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
