"""Telegram HTML from untrusted text: escaping, bounded lengths (in UTF-16 units, as Telegram counts), links,
bylines and dates.

Everything from users or articles goes through `esc`; only the tags the renderers write are markup. What articles
bring is bounded before it is rendered (titles, outlet names, links: a hostile feed can make them 10,000 characters
long), so every unit of a message fits in one message.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape as _escape
from urllib.parse import urlparse

from bot.telegram.i18n import DEFAULT_LANGUAGE, Texts, texts

MAX_MESSAGE_CHARS = 4096
# Bounds on what articles and users bring, as escaped HTML (UTF-16 units), so that any unit fits in a message.
MAX_TITLE_HTML = 400
MAX_NAME_HTML = 120  # an outlet's name, a date as the article gave it
MAX_HREF_HTML = 600  # a longer link is replaced by the outlet's page (scheme and host), or not linked
ELLIPSIS = "…"


def esc(text: str) -> str:
    """Escape text for Telegram HTML (`<`, `>`, `&`); quotes only matter inside attributes."""
    return _escape(text, quote=False)


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, max_html: int) -> str:
    """`text` escaped, at most `max_html` UTF-16 units of HTML: cut at a word boundary, with an ellipsis."""
    html = esc(text)
    if utf16_len(html) <= max_html:
        return html
    budget = max_html - len(ELLIPSIS)
    lo, hi = 0, len(text)  # the longest prefix whose escaped form fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if utf16_len(esc(text[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    prefix = text[:lo]
    space = max(prefix.rfind(" "), prefix.rfind("\n"))
    if space > lo // 2:  # a word boundary, unless that would drop more than half
        prefix = prefix[:space]
    return esc(prefix.rstrip()) + ELLIPSIS


def format_date(iso: str | None) -> str:
    """'2024-01-12' -> '12 Jan 2024' (admins' texts are English); anything unparseable is returned as it is."""
    return texts(DEFAULT_LANGUAGE).date(iso)


def href(url: str | None) -> str | None:
    """The escaped link target for a web URL, None for anything else. An over-long URL (Telegram refuses
    them, and one can fill a message) becomes the outlet's page, scheme and host."""
    if not url:
        return None
    try:
        parsed = urlparse(url)
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return None
    target = _escape(url, quote=True)
    if utf16_len(target) <= MAX_HREF_HTML:
        return target
    outlet = _escape(f"{parsed.scheme}://{parsed.netloc}/", quote=True)
    return outlet if utf16_len(outlet) <= MAX_HREF_HTML else None


def link(title: str, url: str | None, t: Texts) -> str:
    """A linked, escaped title of bounded length; only web links are made clickable."""
    text = shorten(" ".join(title.split()) or t._("Untitled"), MAX_TITLE_HTML)
    target = href(url)
    return f'<a href="{target}">{text}</a>' if target else text


def byline(source: str | None, iso_date: str | None, t: Texts) -> str:
    parts = (" ".join((source or "").split()), t.date(iso_date))
    return ", ".join(shorten(part, MAX_NAME_HTML) for part in parts if part)


def markers(numbers: Iterable[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)



def format_time(ts: float | str | None) -> str:
    """A moment (epoch seconds or ISO 8601) as '1 Dec 2026, 16:05 UTC'; '' when unknown or unreadable."""
    return texts(DEFAULT_LANGUAGE).time(ts)
