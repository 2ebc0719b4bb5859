"""RSS/Atom feeds (feedparser): each entry's page is the article, the feed's own content its fallback."""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import UTC, datetime

from ingest.articles import clean_id, make_article
from ingest.errors import ItemError
from ingest.fetching import Refused
from ingest.pages import Crawl, check_stored, crawl_each, read_linked_page
from ingest.source_result import SourceResult, StoredAt

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")


def looks_like_feed(body: bytes, ctype: str) -> bool:
    if ctype in _FEED_TYPES or ctype.endswith("+xml"):
        return True
    head = body[:1024].lstrip().lower()
    return (
        head.startswith(b"<?xml")
        and (b"<rss" in head or b"<feed" in head or b"<rdf" in head)
        or (head.startswith(b"<rss") or head.startswith(b"<feed"))
    )


def read_feed(url: str, body: bytes, result: SourceResult, crawl: Crawl, stored_at: StoredAt | None) -> None:
    import feedparser

    feed = feedparser.parse(body)
    if not feed.entries:
        reason = "not a feed" if feed.bozo or not feed.get("version") else "the feed has no entries"
        raise ItemError(url, reason)
    site = (feed.feed.get("title") or "").strip() or None
    crawl_each(
        feed.entries,
        lambda entry: _read_entry(entry, url, site, result.origin, crawl, stored_at),
        lambda entry: _entry_label(entry, url),
        result,
        crawl.options.concurrency,
    )


def _entry_label(entry: dict, feed_url: str) -> str:
    link = entry.get("link")
    return str(link) if link else f"{feed_url}#{entry.get('id') or entry.get('title') or '?'}"


def _read_entry(
    entry: dict, feed_url: str, site: str | None, origin: str, crawl: Crawl, stored_at: StoredAt | None
) -> SourceResult:
    """The entry's page is the article; the feed's own content is the fallback when the page fails (a warning
    says so), and when its link was refused only if `summary_fallback` is "always".

    The entry's link is the article's identity either way (the page's canonical URL is its `url`), so a page
    that fails on one run cannot file the same story under a second id, and `stand_ins` tells the pipeline
    not to replace a stored page with the feed's summary.

    An entry whose article is stored (`stored_at`) and whose updated/published date is not later than that is
    not fetched again, only listed as unchanged (see `check_stored`).
    """
    out = SourceResult(source=feed_url, origin=origin)
    link = entry.get("link")
    if link and check_stored(link, _entry_stamp(entry), stored_at, out):
        return out
    label = _entry_label(entry, feed_url)
    published = entry.get("published") or entry.get("updated")
    page_error: ItemError | None = None
    if link:
        defaults = {"title": entry.get("title"), "date": published, "source": site, "author": entry.get("author")}
        try:
            read_linked_page(link, origin, crawl, out, defaults)
            return out
        except ItemError as exc:
            page_error = exc
    if page_error is not None and not _summary_may_stand_in(page_error, crawl.options.summary_fallback):
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
