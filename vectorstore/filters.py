"""Filters on outlet and date range, applied alike by Chroma (`chroma_where`), the lexical index and the catalog
(`accepts`); dates are compared as real days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from vectorstore.errors import InvalidFilterError
from vectorstore.models import Chunk, StoredArticle
from vectorstore.recency import parse_date


@dataclass(frozen=True)
class Filters:
    """Optional metadata filters. A date may be given as a `datetime.date` or an ISO date string; it is checked
    and kept as 'YYYY-MM-DD' (InvalidFilterError if it names no real day), so every comparison is exact."""

    source: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value: str | date | None = getattr(self, name)
            if value is None or value == "":
                object.__setattr__(self, name, None)
                continue
            day = value if isinstance(value, date) else parse_date(value)
            if day is None:
                raise InvalidFilterError(f"not a date: {value!r} (expected YYYY-MM-DD)")
            object.__setattr__(self, name, day.isoformat())

    def chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.source:
            clauses.append({"source": self.source})
        if self.date_from:
            clauses.append({"date_int": {"$gte": date_int(self.date_from)}})
        if self.date_to:
            clauses.append({"date_int": {"$lte": date_int(self.date_to)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, item: Chunk | StoredArticle) -> bool:
        if self.source and item.source != self.source:
            return False
        if not (self.date_from or self.date_to):
            return True
        day = parse_date(item.date)
        if day is None:  # undated, or a date that names no day: outside every date range
            return False
        iso = day.isoformat()
        if self.date_from and iso < self.date_from:
            return False
        return not (self.date_to and iso > self.date_to)

    @property
    def empty(self) -> bool:
        return not (self.source or self.date_from or self.date_to)


def date_int(iso: str | date) -> int:
    """YYYYMMDD of a real day (the form Chroma filters compare); InvalidFilterError for anything else."""
    day = iso if isinstance(iso, date) else parse_date(iso)
    if day is None:
        raise InvalidFilterError(f"not a date: {iso!r} (expected YYYY-MM-DD)")
    return day.year * 10_000 + day.month * 100 + day.day
