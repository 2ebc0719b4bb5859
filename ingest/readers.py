"""Turn the bytes of one source item into articles: text, Markdown with front matter, HTML, JSON records.

Each reader returns a list of articles and per-record problems: an ItemError for a record that was not stored,
an ItemWarning for one stored without a bad field (a date). A problem with the whole item raises ItemError.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from ingest.boilerplate import clean_text
from ingest.errors import ItemError, ItemWarning
from vectorstore.models import Article
from vectorstore.recency import parse_date

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".ndjson"}
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_ID_UNSAFE = re.compile(r"[^\w.:/@-]+")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader, but a date stays text: `date: 2024-13-45` would raise from inside the loader, and
    every date is to go through `iso_date` anyway."""


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)

Parsed = tuple[list[Article], list[ItemError]]


# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Bytes that are control characters in every ASCII-compatible encoding (tab, new lines, form feed and escape
# excepted): text has next to none of them, binary formats have many.
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\v\f\r\x1b") + b"\x7f"
_SAMPLE = 8192


def decode(data: bytes, item: str) -> str:
    """A byte order mark, else strict UTF-8, else the legacy encoding charset-normalizer recognises (cp1252,
    latin-1, cp1251, ...). What none of them reads is refused: mojibake could never be cited correctly."""
    if not data.strip():
        raise ItemError(item, "empty")
    bom = _bom_encoding(data)
    if bom:
        try:
            text = data.decode(bom)
        except UnicodeDecodeError as exc:
            reason = f"not {bom.removesuffix('-sig').upper()} text, as its byte order mark says (offset {exc.start})"
            raise ItemError(item, reason) from None
        if not text.strip():
            raise ItemError(item, "empty")
        return text
    head = data[:_SAMPLE]
    if b"\x00" in head or sum(head.count(c) for c in _CONTROL) * 100 > len(head):
        raise ItemError(item, "binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start
    legacy = _legacy_text(data)
    if legacy is None:
        raise ItemError(item, f"not text in UTF-8 or a known legacy encoding (invalid UTF-8 at offset {offset})")
    return legacy


def _bom_encoding(data: bytes) -> str | None:
    return next((name for bom, name in _BOMS if data.startswith(bom)), None)


def _legacy_text(data: bytes) -> str | None:
    """charset-normalizer tells Cyrillic, Greek, CJK... apart well, but between the Western code pages (cp1252,
    cp1250, mac_roman, cp850) a news text rarely decides it. cp1252, by far the most common of them (and the
    HTML standard's default), wins when it reads the text as well: Latin letters, and no symbol inside a word
    (as "Za¿ó³æ", Polish read as cp1252, has)."""
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return None
    text = str(best)
    if _latin_script(text):
        try:
            western = data.decode("cp1252")
        except UnicodeDecodeError:
            return text
        if _latin_script(western) and not _SYMBOL_IN_WORD.search(western):
            return western
    return text


_SYMBOL_IN_WORD = re.compile(r"[^\W\d_][^\w\s'’‘´\-.,:;!?/&@()\[\]\"“”]+[^\W\d_]")


def _latin_script(text: str) -> bool:
    import unicodedata

    letters = {c for c in text if ord(c) > 127 and c.isalpha()}
    return all(unicodedata.name(c, "").startswith("LATIN") for c in letters)


_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_UTF8_NAMES = ("utf8", "usascii", "ascii")


def decode_page(data: bytes, item: str, charset: str | None = None) -> str:
    """A web page in the charset its byte order mark, its server or its own <meta> declares, in that order (as
    browsers do); undeclared, as `decode` finds it. A declared charset that is no text encoding fails the page."""
    if not data.strip():
        raise ItemError(item, "empty")
    declared = None if _bom_encoding(data) else charset or _meta_charset(data)
    if not declared:
        return decode(data, item)
    codec = text_codec(declared, item)
    if codec.replace("-", "").replace("_", "") in _UTF8_NAMES:
        return decode(data, item)
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        reason = f"not {declared} text, as declared (invalid byte at offset {exc.start})"
        raise ItemError(item, reason) from None


def text_codec(name: str, item: str) -> str:
    """The codec a declared charset names, if it is a text encoding: rot13 and base64 are codecs too."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise ItemError(item, f"declares an unknown charset ({name[:40]!r})") from None
    if not info._is_text_encoding:
        raise ItemError(item, f"declares charset {name[:40]!r}, which is not a text encoding") from None
    return info.name


def _meta_charset(data: bytes) -> str | None:
    """A <meta> that could be read as ASCII cannot truthfully declare UTF-16 or UTF-32; the HTML standard reads
    such a page as UTF-8."""
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    name = match.group(1).decode("ascii")
    return "utf-8" if name.lower().replace("-", "").replace("_", "").startswith(("utf16", "utf32")) else name


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
    clean: bool = True,
    headline_in_text: bool = True,
    problems: list[ItemError] | None = None,
) -> Article:
    """Identity: an explicit id, else the canonical URL, else the fallback (a file name without extension).

    A date that is not a date is left out and reported to `problems` as an ItemWarning.

    A published headline becomes the first line of the text, so it can be cited: it is often the most direct
    statement of the news. A title that is only metadata (Markdown front matter) stays out of the text.
    """
    body = clean_text(text) if clean else text.strip()
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


def parse_text(content: str, item: str, stem: str, origin: str) -> Parsed:
    """Plain text: a short first line followed by more text is the headline."""
    lines = content.strip().split("\n", 1)
    fields: dict[str, Any] = {}
    body = content
    if len(lines) == 2 and 0 < len(lines[0]) <= 200 and lines[1].strip():
        fields["title"] = lines[0].strip()
        body = lines[1]
    problems: list[ItemError] = []
    article = make_article(item=item, text=body, fallback_id=stem, origin=origin, fields=fields, problems=problems)
    return [article], problems


def parse_markdown(content: str, item: str, stem: str, origin: str) -> Parsed:
    fields: dict[str, Any] = {}
    body = content
    match = _FRONT_MATTER.match(content)
    if match:
        try:
            loaded = yaml.load(match.group(1), Loader=_FrontMatterLoader)  # a SafeLoader
        except yaml.YAMLError as exc:
            raise ItemError(item, f"front matter is not valid YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(loaded, dict):
            raise ItemError(item, "front matter must be a YAML mapping")
        fields = loaded
        body = content[match.end() :]
    in_front_matter = "title" in fields
    if not in_front_matter:
        heading = re.match(r"\s*#\s+(.+)\n", body)
        if heading:
            fields["title"] = heading.group(1).strip()
            body = body[heading.end() :]
    problems: list[ItemError] = []
    article = make_article(
        item=item,
        text=body,
        fallback_id=stem,
        origin=origin,
        fields=fields,
        headline_in_text=not in_front_matter,
        problems=problems,
    )
    return [article], problems


def parse_html(
    content: str,
    item: str,
    stem: str,
    origin: str,
    url: str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Parsed:
    """Main text and metadata from trafilatura; its boilerplate removal runs before ours. `defaults` fill the
    metadata the page lacks (a feed entry's title and date for its page)."""
    import trafilatura

    try:
        extracted = trafilatura.bare_extraction(
            content, url=url, with_metadata=True, include_comments=False, include_tables=False
        )
    except Exception as exc:  # lxml and trafilatura raise many kinds on broken markup
        raise ItemError(item, f"could not parse HTML ({type(exc).__name__})") from None
    # A Document (its as_dict= argument is deprecated and will go), or a dict from older versions.
    doc = extracted if extracted is None or isinstance(extracted, dict) else extracted.as_dict()
    if not doc or not (doc.get("text") or "").strip():
        raise ItemError(item, "no article text found in the page")
    fields = {
        "title": doc.get("title"),
        "url": doc.get("url") or url,
        "date": doc.get("date"),
        "author": doc.get("author"),
        "source": doc.get("sitename"),
    }
    if defaults and fields["source"] and fields["source"].lower() in _hosts(fields["url"], url):
        fields["source"] = None  # trafilatura's last resort is the URL's host; the feed's name is better
    for key, value in (defaults or {}).items():
        fields[key] = fields.get(key) or value
    problems: list[ItemError] = []
    article = make_article(
        item=item, text=doc["text"], fallback_id=stem, origin=origin, fields=fields, problems=problems
    )
    return [article], problems


def _hosts(*urls: str | None) -> set[str]:
    hosts = {urlparse(u).netloc.lower() for u in urls if u}
    return hosts | {h.removeprefix("www.") for h in hosts}


def _record_article(record: Any, item: str, fallback_id: str, origin: str, problems: list[ItemError]) -> Article:
    if not isinstance(record, dict):
        raise ItemError(item, "a record must be a JSON object")
    text = record.get("text") or record.get("content") or record.get("body")
    if not isinstance(text, str) or not text.strip():
        raise ItemError(item, "record has no text")
    fields = dict(record)
    if isinstance(fields.get("authors"), list):
        fields["authors"] = ", ".join(str(a) for a in fields["authors"])
    return make_article(item=item, text=text, fallback_id=fallback_id, origin=origin, fields=fields, problems=problems)


def parse_json(content: str, item: str, stem: str, origin: str) -> Parsed:
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ItemError(item, f"invalid JSON (line {exc.lineno}: {exc.msg})") from None
    records = data if isinstance(data, list) else [data]
    articles: list[Article] = []
    errors: list[ItemError] = []
    for n, record in enumerate(records, 1):
        label = f"{item}[{n}]" if len(records) > 1 else item
        fallback = f"{stem}-{n}" if len(records) > 1 else stem
        try:
            articles.append(_record_article(record, label, fallback, origin, errors))
        except ItemError as exc:
            errors.append(exc)
    return articles, errors


def parse_jsonl(content: str, item: str, stem: str, origin: str, max_bytes: int | None = None) -> Parsed:
    """One broken line costs that line only."""
    articles: list[Article] = []
    errors: list[ItemError] = []
    for n, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        label = f"{item}:{n}"
        if max_bytes is not None and len(line) > max_bytes:
            errors.append(ItemError(label, f"record too large ({len(line):,} characters; the limit is {max_bytes:,})"))
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(ItemError(label, f"invalid JSON ({exc.msg})"))
            continue
        try:
            articles.append(_record_article(record, label, f"{stem}-{n}", origin, errors))
        except ItemError as exc:
            errors.append(exc)
    return articles, errors


def parse_bytes(
    data: bytes,
    item: str,
    suffix: str,
    stem: str,
    origin: str,
    url: str | None = None,
    max_bytes: int | None = None,
) -> Parsed:
    content = decode(data, item)
    suffix = suffix.lower()
    if suffix in (".md", ".markdown"):
        return parse_markdown(content, item, stem, origin)
    if suffix in (".html", ".htm"):
        return parse_html(content, item, stem, origin, url=url)
    if suffix == ".json":
        return parse_json(content, item, stem, origin)
    if suffix in (".jsonl", ".ndjson"):
        return parse_jsonl(content, item, stem, origin, max_bytes)
    return parse_text(content, item, stem, origin)


def read_file(path: Path, max_bytes: int, origin: str) -> Parsed:
    item = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ItemError(item, f"cannot read ({exc.strerror})") from None
    # A JSON Lines file is a collection of articles: the limit applies to each record, not to the file.
    is_collection = path.suffix.lower() in (".jsonl", ".ndjson")
    if size > max_bytes and not is_collection:
        raise ItemError(item, f"too large ({size:,} bytes; the limit is {max_bytes:,})")
    if size == 0:
        raise ItemError(item, "empty")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ItemError(item, f"cannot read ({exc.strerror})") from None
    return parse_bytes(data, item, path.suffix, path.stem, origin, max_bytes=max_bytes)
