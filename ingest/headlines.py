"""Headlines without the site name that pages and search results append ("… - CNN", "… | CNN Business").

The name is the outlet's branding, not the news: cited as a sentence of an answer it reads "US rents hit a
record high for the 17th month in a row | CNN Business", and as a source's title it repeats the outlet that is
shown beside it. trafilatura already prefers og:title, which has no suffix; records and feeds come as they are.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

# A separator, a short name, and perhaps the ellipsis of a search result's truncated title ("| CNN ...").
_SUFFIX = re.compile(r"\s+[-|–—•·]\s+(?P<name>[^-|–—•·]{2,40}?)\s*(?:\.\.\.|…)?$")
_DOMAIN = re.compile(r"[\w-]+(\.[\w-]+)+")


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _outlet_keys(url: str | None, source: str | None) -> set[str]:
    """"cnn" for https://www.cnn.com/… or a source "cnn.com"; "thekyivledger" for "The Kyiv Ledger"."""
    names = [urlparse(url).netloc] if url else []
    names += [source.strip()] if source else []
    keys = set()
    for name in names:
        name = name.lower().removeprefix("www.")
        keys.add(_squash(name.split(".")[0] if _DOMAIN.fullmatch(name) else name))
    return {key for key in keys if len(key) >= 3}


def without_site_name(title: str, url: str | None, source: str | None) -> str:
    """The title without a trailing outlet name; a suffix naming anything else stays ("… - live updates")."""
    match = _SUFFIX.search(title)
    if not match or len(title[: match.start()].split()) < 2:
        return title
    name = _squash(match.group("name"))
    if len(name) >= 3 and any(key in name or name in key for key in _outlet_keys(url, source)):
        return title[: match.start()].rstrip()
    return title
