"""Resolve what an admin names (a file, a directory, an article URL, a feed or sitemap URL) into articles.

What a URL is, is found from what it serves: a sitemap or sitemap index (ingest/sitemaps.py), an RSS/Atom feed
(ingest/feeds.py) or an article page (ingest/pages.py); a path is read by ingest/local_files.py. Every failure
is an ItemError naming the item, so one bad page or file never stops the rest of a run.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx

from ingest.errors import ItemError
from ingest.feeds import looks_like_feed, read_feed
from ingest.fetching import Fetched, FetchOptions, Validators, capped, client_for, stream
from ingest.local_files import read_path
from ingest.pages import Crawl, read_page
from ingest.sitemaps import names_sitemap, read_sitemap, sitemap_kind, sniff
from ingest.source_result import SourceResult, StoredAt

log = logging.getLogger(__name__)

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
    request; with `stored_at`, a feed entry or sitemap URL already stored and not updated since is not fetched
    again."""
    origin = origin_of(source)
    result = SourceResult(source=source, origin=origin)
    try:
        if is_url(source):
            _read_web(source, result, options, client, validators, stored_at)
        else:
            read_path(Path(source).expanduser(), origin, options.max_bytes, result)
    except ItemError as exc:
        result.errors.append(exc)
        result.complete = False
    return result


def _read_web(
    url: str,
    result: SourceResult,
    options: FetchOptions,
    client: httpx.Client | None,
    validators: Validators | None,
    stored_at: StoredAt | None,
) -> None:
    own = client is None
    http = client or client_for(options)
    try:
        _read_url(url, result, Crawl.start(http, options), validators, stored_at)
    except ItemError:
        raise
    except Exception as exc:  # a library's surprise costs this source, never the run
        log.warning("unexpected %s reading a web source", type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
        raise ItemError(url, f"unexpected error ({type(exc).__name__})") from None
    finally:
        if own:
            http.close()


def _read_url(
    url: str, result: SourceResult, crawl: Crawl, validators: Validators | None, stored_at: StoredAt | None
) -> None:
    """Fetch the URL (conditionally) and read it as what its first bytes say it is. A sitemap is read as it
    streams, up to its own byte limit; anything else is read whole, up to NEWSBOT_MAX_SOURCE_BYTES."""
    options = crawl.options
    with stream(url, crawl.client, options, validators) as got:
        result.validators = got.validators
        if got.not_modified:  # unchanged since the last poll: nothing to parse, no page to fetch
            result.not_modified = True
            return
        head, body = sniff(got.chunks)  # each kind's limit then counts these bytes too
        if sitemap_kind(head) is not None:
            read_sitemap(
                url, capped(body, url, options.sitemaps.max_bytes, got.declared_length), result, crawl, stored_at
            )
            return
        whole = b"".join(capped(body, url, options.max_bytes, got.declared_length))
        fetched = Fetched(whole, got.content_type, got.charset, got.url, got.validators)
    ctype = fetched.content_type
    if looks_like_feed(fetched.body, ctype) or ctype in ("application/xml", "text/xml"):
        read_feed(url, fetched.body, result, crawl, stored_at)
        return
    if names_sitemap(url):  # an HTML error page at /sitemap.xml is no article
        raise ItemError(url, f"not a sitemap or feed (the server sent {ctype or 'no content type'})")
    if ctype and "html" not in ctype and not ctype.startswith("text/"):
        raise ItemError(url, f"not an article page or feed (content type {ctype})")
    read_page(url, fetched, result)
