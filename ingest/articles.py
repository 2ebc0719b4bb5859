"""An Article from the fields a source gives: its identity, headline, date, outlet and author.

Files, pages and feed entries all become articles here (and sitemaps name pages by the same `clean_id`), so
an article gets the same id and the same reading of its date whichever way it came in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from ingest.boilerplate import clean_text
from ingest.errors import ItemError, ItemWarning
from vectorstore.models import Article
from vectorstore.recency import parse_date

_ID_UNSAFE = re.compile(r"[^\w.:/@-]+")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(value: Any) -> str | None:
    """Normalise the many date spellings of feeds, pages and records to YYYY-MM-DD; None when there is none.

    One parser per spelling, strict where the spelling is: an ISO date (`2024-03-05`, `2024-03-05T10:00Z`)
    must be a real day (the store's `parse_date`, so ingest and queries agree), RFC 2822 as feeds write it
    (`email.utils`), and dateparser for the rest ("5 March 2024"). Raises ValueError for a value that is
    given but is no date at all, or an impossible one (`2024-13-45`), rather than storing it as is.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    text = str(value).strip()
    if _ISO_DAY.match(text):
        day = parse_date(text[:10])
        if day is None:
            raise ValueError(f"no such day: {text[:10]}")
        return day.isoformat()
    try:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        import dateparser

        parsed = dateparser.parse(text, settings={"PREFER_DAY_OF_MONTH": "first"})
    except Exception:  # dateparser raises assorted errors on junk
        parsed = None
    if parsed is None:
        raise ValueError("not a date")
    return parsed.date().isoformat()


def _checked_date(value: Any, item: str, problems: list[ItemError] | None) -> str | None:
    """A bad date costs the date, not the article: it is left out, with a warning when someone listens."""
    try:
        return iso_date(value)
    except ValueError:
        if problems is not None:
            shown = " ".join(str(value).split())
            shown = shown if len(shown) <= 40 else shown[:39] + "…"
            problems.append(ItemWarning(item, f"date {shown!r} is not a valid date; stored without a date"))
        return None


def clean_id(value: str) -> str:
    return _ID_UNSAFE.sub("_", value.strip())[:200]


def make_article(
    *,
    item: str,
    text: str,
    fallback_id: str,
    origin: str,
    fields: Mapping[str, Any],
    headline_in_text: bool = True,
    problems: list[ItemError] | None = None,
) -> Article:
    """Identity: an explicit id, else the canonical URL, else the fallback (a file name without extension).

    A date that is not a date is left out and reported to `problems` as an ItemWarning.

    A published headline becomes the first line of the text, so it can be cited: it is often the most direct
    statement of the news. A title that is only metadata (Markdown front matter) stays out of the text.
    """
    body = clean_text(text)
    if not body.strip():
        raise ItemError(item, "no article text found")
    url = str(fields.get("url") or "").strip() or None
    explicit = str(fields.get("id") or "").strip()
    article_id = clean_id(explicit or url or fallback_id)
    title = " ".join(str(fields.get("title") or "").split()) or _first_words(body)
    if headline_in_text and fields.get("title") and not body.lstrip().startswith(title):
        body = f"{title}\n{body.strip()}"
    return Article(
        id=article_id,
        title=title,
        text=body,
        url=url,
        date=_checked_date(fields.get("date"), item, problems),
        source=(str(fields.get("source") or fields.get("sitename") or "").strip() or None),
        author=(str(fields.get("author") or fields.get("authors") or "").strip() or None),
        origin=origin,
    )


def _first_words(text: str, n: int = 12) -> str:
    words = text.split()
    return " ".join(words[:n]) + ("…" if len(words) > n else "")
