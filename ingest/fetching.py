"""HTTP for ingest: every web request goes through `stream` (or `fetch`, which reads a whole body), on a client
built by the fetch policy, with conditional requests, a size limit enforced while reading and an overall deadline.

Every failure becomes an ItemError naming the URL, so one bad page never stops the rest of a run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

import httpx

from ingest.errors import ItemError
from ingest.fetch_policy import AllowList, FetchRefused, check_url, guarded_client


@dataclass(frozen=True)
class SitemapLimits:
    """How much of a sitemap source one read may take (NEWSBOT_SITEMAP_*): see ingest/sitemaps.py."""

    max_depth: int = 2  # levels of sitemap index followed below the named sitemap
    max_sitemaps: int = 50  # sitemaps read per poll, the named one included
    max_urls: int = 500  # pages fetched per poll, newest first; the rest wait for the next poll
    max_bytes: int = 52_428_800  # largest sitemap read (uncompressed): the sitemap protocol's 50 MiB


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
    sitemaps: SitemapLimits = field(default_factory=SitemapLimits)


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


class Refused(ItemError):
    """The fetch policy refused a link (not http(s), not a URL, or not a public address and not allowed)."""


def client_for(options: FetchOptions) -> httpx.Client:
    return guarded_client(options.allow, options.timeout_s, options.user_agent)


@dataclass(frozen=True)
class Fetched:
    body: bytes
    content_type: str  # lower case, without parameters
    charset: str | None  # as the server declared it
    url: str  # after redirects
    validators: Validators = Validators()
    not_modified: bool = False  # 304 to a conditional request: `body` is empty


@dataclass(frozen=True)
class Opened:
    """A response whose body is still to be read: `chunks` as they arrive (empty after a 304)."""

    chunks: Iterator[bytes]
    content_type: str  # lower case, without parameters
    charset: str | None
    url: str  # after redirects
    declared_length: int  # Content-Length, 0 when not sent
    validators: Validators = Validators()
    not_modified: bool = False


@contextmanager
def stream(
    url: str, client: httpx.Client, options: FetchOptions, validators: Validators | None = None
) -> Iterator[Opened]:
    """GET through the fetch policy, conditional when `validators` are given; the body is read by the caller
    (inside the `with`, so its failures are named too), within `timeout_s` of the headers.

    httpx's timeout bounds each network read, so a server that trickles bytes would never time out: the whole
    body must also arrive by the deadline. The size limit is the reader's (`capped`): it depends on what the
    body turns out to be.
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
                yield Opened(iter(()), "", None, str(response.url), 0, kept, not_modified=True)
                return
            if response.status_code >= 400 or response.status_code == 304:
                raise ItemError(url, f"HTTP {response.status_code} {response.reason_phrase}".strip())
            ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
            declared = int(response.headers.get("content-length") or 0)
            chunks = _by_deadline(response.iter_bytes(), url, options.timeout_s)
            yield Opened(
                chunks, ctype, response.charset_encoding, str(response.url), declared, Validators.of(response.headers)
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


def _by_deadline(chunks: Iterable[bytes], url: str, timeout_s: float) -> Iterator[bytes]:
    deadline = time.monotonic() + timeout_s
    for part in chunks:
        yield part
        if time.monotonic() > deadline:
            raise ItemError(url, f"timed out after {timeout_s:g} s (the body never finished)")


def capped(chunks: Iterable[bytes], url: str, max_bytes: int, declared: int = 0) -> Iterator[bytes]:
    """The body's chunks, failing as soon as it is known to exceed `max_bytes` (as announced by its
    Content-Length, `declared`, or as counted): no more than that is ever read."""
    if declared > max_bytes:
        raise ItemError(url, f"too large ({declared:,} bytes; the limit is {max_bytes:,})")
    read = 0
    for part in chunks:
        read += len(part)
        if read > max_bytes:
            raise ItemError(url, f"too large (over the {max_bytes:,}-byte limit)")
        yield part


def fetch(url: str, client: httpx.Client, options: FetchOptions, validators: Validators | None = None) -> Fetched:
    """The whole body, up to `options.max_bytes` (see `stream`)."""
    with stream(url, client, options, validators) as got:
        body = b"".join(capped(got.chunks, url, options.max_bytes, got.declared_length))
        return Fetched(body, got.content_type, got.charset, got.url, got.validators, got.not_modified)
