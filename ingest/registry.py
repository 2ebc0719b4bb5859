"""The sources newsbot follows, kept in the store so every process (on any machine) sees the same list.

A source is registered once (`newsbot sources add`, or seeded from NEWSBOT_SOURCES) and polled when due. The
registry is a small Chroma collection next to the articles' (`<collection>-sources`): one record per source,
plus one lease record that lets exactly one poller run per store in server mode. The schedule is computed by
pure functions over `Source` values; `SourceRegistry` only reads and writes records.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from vectorstore.guard import GuardedCollection, guard

log = logging.getLogger(__name__)

# ---- the schedule's constants, in one place -------------------------------------------------------------------
MIN_EVERY_S = 60  # nobody's feed needs polling more often than once a minute
DEFAULT_EVERY_S = 600
MAX_BACKOFF_S = 3600  # a failing source is retried at least hourly (or at its own interval, if longer)
ERROR_CHARS = 300  # what a record keeps of an error message

LEASE_ID = "__poller_lease__"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EVERY = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Source:
    """One followed source and its polling state. Times are Unix seconds (wall clock: shared by machines)."""

    id: str
    location: str  # an http(s) URL, or an absolute path (a directory, or a file such as a JSONL export)
    kind: str  # "web" (a feed or a page; which one is found on fetching), "directory" or "file"
    every_s: int = DEFAULT_EVERY_S
    created_at: float = 0.0
    next_due: float = 0.0  # 0: at the first poll
    last_check: float | None = None
    last_success: float | None = None
    last_error: str | None = None
    failures: int = 0  # consecutive failed polls; drives the backoff
    added: int = 0  # articles added by this source's polls, in total
    updated: int = 0  # articles replaced by a newer version, in total
    # What a URL source last answered, sent back so an unchanged feed or page answers 304 Not Modified.
    etag: str | None = None
    last_modified: str | None = None
    # A sitemap index's nested sitemaps' validators, encoded by `Validators.encode_map`.
    nested_validators: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What one poll of a source found: `failed` when nothing could be read from it at all."""

    added: int = 0
    updated: int = 0
    error: str | None = None
    failed: bool = False
    # The source's validators after this poll (a URL source read or answered 304); None: keep the stored ones.
    validators: tuple[str | None, str | None] | None = None
    nested_validators: str | None = None  # with `validators`: the nested sitemaps' (see Source)


@dataclass(frozen=True)
class Lease:
    holder: str
    expires_at: float


# ---- pure functions ---------------------------------------------------------------------------------------


def parse_every(text: str) -> int:
    """'30s', '10m', '2h', '1d' or plain seconds -> seconds; below MIN_EVERY_S or malformed -> ValueError."""
    match = _EVERY.match(text)
    if not match:
        raise ValueError(f"not an interval: {text!r} (use e.g. 90s, 10m, 2h or 1d)")
    seconds = int(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
    if seconds < MIN_EVERY_S:
        raise ValueError(f"interval {text!r} is too short: {format_every(MIN_EVERY_S)} at least")
    return seconds


def format_every(seconds: float) -> str:
    """The largest whole unit: 600 -> '10m', 90 -> '90s', 86400 -> '1d'."""
    whole = int(seconds)
    for unit in ("d", "h", "m"):
        if whole and whole % _UNITS[unit] == 0:
            return f"{whole // _UNITS[unit]}{unit}"
    return f"{whole}s"


def normalize_location(location: str) -> tuple[str, str]:
    """(location as stored, kind). URLs are kept as given (their scheme and host lower-cased); a path is made
    absolute, since the poller may run from another working directory."""
    text = location.strip()
    if not text:
        raise ValueError("a source needs a URL or a path")
    parsed = urlparse(text)
    if parsed.scheme.lower() in ("http", "https"):
        if not parsed.hostname:
            raise ValueError(f"not a URL: {text!r}")
        return parsed._replace(scheme=parsed.scheme.lower(), netloc=parsed.netloc.lower()).geturl(), "web"
    if parsed.scheme and len(parsed.scheme) > 1:  # "c:" would be a drive letter, not a scheme
        raise ValueError(f"only http(s) URLs and local paths can be followed, not {parsed.scheme}: URLs")
    path = Path(text).expanduser().resolve()
    if not path.exists():
        raise ValueError(f"no such file or directory: {path}")
    return str(path), "directory" if path.is_dir() else "file"


def source_id(location: str) -> str:
    """A short id that depends only on the normalized location, so seeding the same source twice is a no-op."""
    return hashlib.sha1(location.encode("utf-8")).hexdigest()[:8]


def new_source(location: str, every_s: int, now: float) -> Source:
    """A source ready for its first poll; raises ValueError for a location that cannot be followed."""
    if every_s < MIN_EVERY_S:
        raise ValueError(f"interval {every_s}s is too short: {format_every(MIN_EVERY_S)} at least")
    normalized, kind = normalize_location(location)
    # Microseconds: Chroma's metadata keeps six decimals, so a finer time would read back as another float and the
    # stored source would differ from the one made here.
    created_at = round(now, 6)
    return Source(id=source_id(normalized), location=normalized, kind=kind, every_s=every_s, created_at=created_at)


def delay_s(every_s: int, failures: int) -> float:
    """The wait before the next poll: the interval, doubled per consecutive failure up to MAX_BACKOFF_S (never
    below the interval itself)."""
    if failures <= 0:
        return float(every_s)
    backoff = every_s * 2.0 ** min(failures, 32)
    return float(max(every_s, min(backoff, MAX_BACKOFF_S)))


def is_due(source: Source, now: float) -> bool:
    """Due when its time has come, or when its next poll is further away than its delay could ever make it:
    the wall clock went backwards since the last check, and waiting for it to catch up would stall the source."""
    if now >= source.next_due:
        return True
    return source.next_due - now > delay_s(source.every_s, source.failures)


def after_poll(source: Source, now: float, outcome: Outcome) -> Source:
    """The source's state after a poll at `now`: success resets the backoff, failure doubles the wait."""
    failures = source.failures + 1 if outcome.failed else 0
    etag, last_modified = outcome.validators or (source.etag, source.last_modified)
    nested = outcome.nested_validators if outcome.validators is not None else source.nested_validators
    return replace(
        source,
        last_check=now,
        last_success=source.last_success if outcome.failed else now,
        last_error=outcome.error[:ERROR_CHARS] if outcome.error else None,
        failures=failures,
        added=source.added + outcome.added,
        updated=source.updated + outcome.updated,
        next_due=now + delay_s(source.every_s, failures),
        etag=etag,
        last_modified=last_modified,
        nested_validators=nested,
    )


def lease_available(lease: Lease | None, holder: str, now: float) -> bool:
    return lease is None or lease.holder == holder or lease.expires_at <= now


# ---- persistence ------------------------------------------------------------------------------------------

_FIELDS = {f.name for f in fields(Source)}


def _to_metadata(source: Source) -> dict[str, Any]:
    # Chroma's upsert merges metadata into the stored record, and a None value deletes its key: every field is
    # sent, so an error that was cleared is gone and not left over from the previous poll.
    return {"record": "source", **asdict(source)}


def _from_metadata(meta: dict[str, Any]) -> Source:
    values = {k: v for k, v in meta.items() if k in _FIELDS and v is not None}
    for key in ("every_s", "failures", "added", "updated"):
        if key in values:
            values[key] = int(values[key])
    return Source(**values)


def registry_name(collection: str) -> str:
    return f"{collection}-sources"


class SourceRegistry:
    """The `<collection>-sources` collection. Writes go through the caller's writer lock (embedded Chroma is
    not safe for two writing processes); Chroma's transport errors become StoreError, as in the article store."""

    def __init__(self, collection: Any) -> None:
        self._records = GuardedCollection(collection)

    @classmethod
    def open(cls, client: Any, collection: str) -> SourceRegistry:
        """Open the registry, creating its collection if needed."""
        return cls(guard(client.get_or_create_collection)(registry_name(collection), embedding_function=None))

    @classmethod
    def open_existing(cls, client: Any, collection: str) -> SourceRegistry | None:
        """The registry if it exists, else None: read-only commands create nothing."""
        from chromadb.errors import NotFoundError

        try:
            return cls(guard(client.get_collection)(registry_name(collection), embedding_function=None))
        except (NotFoundError, ValueError):  # older Chroma versions raised ValueError for a missing collection
            return None

    def all(self) -> list[Source]:
        got = self._records.get(where={"record": "source"}, include=["metadatas"])
        sources = [_from_metadata(dict(meta)) for meta in got.get("metadatas") or [] if meta]
        return sorted(sources, key=lambda s: (s.created_at, s.id))

    def get(self, source_id_: str) -> Source | None:
        got = self._records.get(ids=[source_id_], include=["metadatas"])
        metas = got.get("metadatas") or []
        if not metas or not metas[0] or metas[0].get("record") != "source":
            return None
        return _from_metadata(dict(metas[0]))

    def put(self, source: Source) -> None:
        self._records.upsert(
            ids=[source.id], documents=[source.location], metadatas=[_to_metadata(source)], embeddings=[[1.0]]
        )

    def remove(self, source_id_: str) -> bool:
        if self.get(source_id_) is None:
            return False
        self._records.delete(ids=[source_id_])
        return True

    def seed(self, locations: Iterable[str], every_s: int, now: float) -> list[Source]:
        """Register the sources not registered yet (NEWSBOT_SOURCES); those already there keep their state and
        interval. A location that cannot be followed is logged and left out."""
        added: list[Source] = []
        for location in locations:
            try:
                source = new_source(location, every_s, now)
            except ValueError as exc:
                log.warning("NEWSBOT_SOURCES: %s", exc)
                continue
            if self.get(source.id) is None:
                self.put(source)
                added.append(source)
        return added

    # ---- the poller lease (server mode) ----

    def lease(self) -> Lease | None:
        got = self._records.get(ids=[LEASE_ID], include=["metadatas"])
        metas = got.get("metadatas") or []
        if not metas or not metas[0]:
            return None
        return Lease(holder=str(metas[0]["holder"]), expires_at=float(metas[0]["expires_at"]))

    def write_lease(self, lease: Lease) -> None:
        self._records.upsert(
            ids=[LEASE_ID],
            documents=[""],
            metadatas=[{"record": "lease", "holder": lease.holder, "expires_at": lease.expires_at}],
            embeddings=[[1.0]],
        )

    def release_lease(self, holder: str) -> None:
        current = self.lease()
        if current is not None and current.holder == holder:
            self._records.delete(ids=[LEASE_ID])


def pending_seeds(registered: Iterable[Source], locations: Iterable[str], every_s: int, now: float) -> list[Source]:
    """NEWSBOT_SOURCES entries not registered yet, as they will be once a poller or `sources add` seeds them."""
    known = {s.id for s in registered}
    out: list[Source] = []
    for location in locations:
        try:
            source = new_source(location, every_s, now)
        except ValueError:
            continue
        if source.id not in known:
            known.add(source.id)
            out.append(source)
    return out


__all__ = [
    "DEFAULT_EVERY_S",
    "MAX_BACKOFF_S",
    "MIN_EVERY_S",
    "Lease",
    "Outcome",
    "Source",
    "SourceRegistry",
    "after_poll",
    "delay_s",
    "format_every",
    "is_due",
    "lease_available",
    "new_source",
    "parse_every",
    "pending_seeds",
]
