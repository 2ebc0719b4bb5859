"""robots.txt for the pages newsbot crawls from feeds (not for a URL an admin names: that one was asked for).

Each host's robots.txt is read once per source read, through the same guarded client as the pages (so the fetch
policy applies to it too), and interpreted by the standard library's `urllib.robotparser`. As that parser does:
401/403 disallow everything, any other 4xx allows everything. A robots.txt that cannot be had (a 5xx, a timeout,
a refused address) allows everything, so a flaky robots.txt never hides a site's news; the page fetch itself
then fails or succeeds on its own.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlparse
from urllib.robotparser import RobotFileParser

import httpx

from ingest.fetch_policy import FetchRefused, check_url

log = logging.getLogger(__name__)

MAX_ROBOTS_BYTES = 512_000  # what Google reads of a robots.txt


class Robots:
    """Whether `user_agent` may fetch a URL, per its host's robots.txt, cached per scheme and host."""

    def __init__(self, client: httpx.Client, user_agent: str, timeout_s: float) -> None:
        self._client = client
        self._user_agent = user_agent
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._hosts: dict[str, RobotFileParser] = {}
        self._host_locks: dict[str, threading.Lock] = {}

    def allows(self, url: str) -> bool:
        try:
            parsed = urlparse(url)
        except ValueError:
            return True  # a malformed link is refused by the fetch itself, with its reason
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            return True
        key = f"{parsed.scheme}://{parsed.netloc.lower()}"
        with self._lock:
            host_lock = self._host_locks.setdefault(key, threading.Lock())
        with host_lock:  # one fetch of a host's robots.txt, however many threads want it
            parser = self._hosts.get(key)
            if parser is None:
                parser = self._hosts[key] = self._read(key)
        return parser.can_fetch(self._user_agent, url)

    def _read(self, base: str) -> RobotFileParser:
        parser = RobotFileParser(f"{base}/robots.txt")
        status, text = self._fetch(f"{base}/robots.txt")
        if status in (401, 403):
            parser.parse(["User-agent: *", "Disallow: /"])
        else:
            parser.parse(text.splitlines())  # nothing (any other status) allows everything
        return parser

    def _fetch(self, url: str) -> tuple[int, str]:
        """(status, text); status 0 when it could not be had."""
        try:
            target = httpx.URL(url)
            check_url(target)
            with self._client.stream("GET", target) as response:
                if response.status_code != 200:
                    return response.status_code, ""
                body = bytearray()
                deadline = time.monotonic() + self._timeout_s
                for part in response.iter_bytes():
                    body.extend(part)
                    if len(body) > MAX_ROBOTS_BYTES or time.monotonic() > deadline:
                        break  # what was read is used, as crawlers do with an oversized robots.txt
                return 200, bytes(body[:MAX_ROBOTS_BYTES]).decode("utf-8", errors="replace")
        except (FetchRefused, httpx.HTTPError, httpx.StreamError, ValueError) as exc:
            log.info("robots.txt not read (%s); its host's pages are fetched", type(exc).__name__)
            return 0, ""
