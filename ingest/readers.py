"""Turn the bytes of one source item into articles, one reader per format: text, Markdown with front matter,
HTML, JSON and JSON Lines records.

Each reader returns a list of articles and per-record problems: an ItemError for a record that was not stored,
an ItemWarning for one stored without a bad field (a date). A problem with the whole item raises ItemError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from ingest.articles import make_article
from ingest.decoding import decode
from ingest.errors import ItemError
from vectorstore.models import Article

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".ndjson"}
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader, but a date stays text: `date: 2024-13-45` would raise from inside the loader, and
    every date is to go through `iso_date` anyway."""


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)

Parsed = tuple[list[Article], list[ItemError]]


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
    """Markdown: YAML front matter gives the fields (its title stays out of the text), else a leading `# heading`
    is the headline."""
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


def parse_bytes(data: bytes, item: str, suffix: str, stem: str, origin: str, max_bytes: int | None = None) -> Parsed:
    """A local file's bytes, read by the reader its suffix names (plain text for any other)."""
    content = decode(data, item)
    suffix = suffix.lower()
    if suffix in (".md", ".markdown"):
        return parse_markdown(content, item, stem, origin)
    if suffix in (".html", ".htm"):
        return parse_html(content, item, stem, origin)
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
