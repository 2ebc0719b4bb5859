"""Crawling the article pages a feed or sitemap links to: politely (robots.txt, at most NEWSBOT_FETCH_PER_HOST
at once per host), incrementally (a page stored before and not marked updated since is not fetched again), in
a thread pool, one page's failure costing that page alone."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlparse

import httpx

from ingest.articles import clean_id
from ingest.decoding import decode_page
from ingest.errors import ItemError
from ingest.fetching import Fetched, FetchOptions, fetch
from ingest.readers import parse_html
from ingest.robots import Robots
from ingest.source_result import SourceResult, StoredAt

log = logging.getLogger(__name__)

Item = TypeVar("Item")


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
    """What one source read shares among its pages' threads: the client, per-host limits and robots.txt."""

    client: httpx.Client
    options: FetchOptions
    hosts: HostLimits
    robots: Robots

    @classmethod
    def start(cls, client: httpx.Client, options: FetchOptions) -> Crawl:
        robots = Robots(client, options.user_agent, options.timeout_s)
        return cls(client, options, HostLimits(options.per_host), robots)


def stored_state(
    link: str, stamp: datetime | None, stored_at: StoredAt | None
) -> Literal["new", "unchanged", "updated"]:
    """Whether the page at `link` is stored, and if so whether `stamp` (the date the feed or sitemap gives it)
    marks it updated since. A page without a date gives no sign of change: once stored, it is unchanged."""
    since = stored_at(clean_id(link)) if stored_at is not None else None
    if since is None:
        return "new"
    return "unchanged" if stamp is None or stamp <= since else "updated"


def check_stored(link: str, stamp: datetime | None, stored_at: StoredAt | None, out: SourceResult) -> bool:
    """True when the page at `link` is stored and not marked updated since (`stored_state`): it is listed as
    unchanged and not fetched. One marked later is noted in `rechecked`, to be fetched."""
    state = stored_state(link, stamp, stored_at)
    if state == "unchanged":
        out.unchanged.append(clean_id(link))
    elif state == "updated" and stamp is not None:
        out.rechecked[clean_id(link)] = stamp
    return state == "unchanged"


def read_linked_page(link: str, origin: str, crawl: Crawl, out: SourceResult, defaults: Mapping[str, Any]) -> None:
    """Fetch and parse the article page a feed or sitemap links to, into `out`; the link is the article's id
    (the page's canonical URL is its `url`). A page robots.txt disallows is skipped, and the source is then
    partial (a prune spares what it may have been). Raises ItemError when the page cannot be had."""
    if not crawl.robots.allows(link):
        out.skipped.append(ItemError(link, "disallowed by the site's robots.txt"))
        out.partial = True
        return
    with crawl.hosts.slot(link):
        got = fetch(link, crawl.client, crawl.options)
    articles, errors = parse_html(
        decode_page(got.body, link, got.charset), link, "", origin, url=got.url, defaults=defaults
    )
    out.articles.extend(replace(a, id=clean_id(link)) for a in articles)
    out.errors.extend(errors)


def read_page(url: str, got: Fetched, result: SourceResult) -> None:
    """A page named as a source: its canonical URL (or the URL itself) is its id."""
    stem = Path(urlparse(got.url).path).stem or urlparse(got.url).netloc
    articles, errors = parse_html(decode_page(got.body, url, got.charset), url, stem, result.origin, url=got.url)
    result.articles.extend(articles)
    result.errors.extend(errors)


def crawl_each(
    items: Iterable[Item],
    read: Callable[[Item], SourceResult],
    label: Callable[[Item], str],
    result: SourceResult,
    concurrency: int,
) -> None:
    """`read` each item in a thread pool and merge what it yields into `result`, in the items' order whatever
    order they finish in; a library's surprise costs that item, on its own line."""

    def one(item: Item) -> SourceResult:
        try:
            return read(item)
        except Exception as exc:
            log.warning("unexpected %s reading a linked page", type(exc).__name__)
            got = SourceResult(source=result.source, origin=result.origin)
            got.errors.append(ItemError(label(item), f"unexpected error ({type(exc).__name__})"))
            return got

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for got in pool.map(one, items):
            result.merge(got)
