"""Per-question pools for question sets that list each question's own articles (RealTime QA 2023 and 2024's
`retrieved_ids`, the articles a web search returned at quiz time, best first).

Embedding a whole year's corpus takes hours on a small machine; a question only needs its own articles. The pool
is the first `per_question` retrieved articles of each question kept, written once as JSON Lines under var/ and
ingested incrementally (unchanged articles cost nothing on the next run). A question is kept when its answer is
in one of its pooled articles published by its date, so every kept question is answerable from the pool as it
stood that day; `sample` keeps N of them evenly spread over the year rather than the first weeks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.evaluation import QAItem, contains_answer


def _read_corpus(corpus: Path, wanted: set[str]) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    with open(corpus, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                if rec.get("id") in wanted:
                    records[rec["id"]] = rec
    return records


def _published_by(record: dict[str, Any], day: str | None) -> bool:
    return not day or not record.get("date") or str(record["date"])[:10] <= day


def evenly(items: Sequence[QAItem], n: int | None) -> list[QAItem]:
    """N items spread evenly over the sequence (all of them if N is None or not smaller)."""
    if not n or n >= len(items):
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def select_pool(
    items: Sequence[QAItem], corpus: Path, per_question: int, sample: int | None = None
) -> tuple[list[QAItem], list[dict[str, Any]]]:
    """The questions kept and the corpus records of their pooled articles (in first-seen order)."""
    wanted = {i for item in items for i in item.retrieved_ids[:per_question]}
    records = _read_corpus(corpus, wanted)
    kept = []
    for item in items:
        own = [records[i] for i in item.retrieved_ids[:per_question] if i in records]
        if not item.answerable or any(
            _published_by(r, item.date) and contains_answer(r.get("text") or "", item.answers) for r in own
        ):
            kept.append(item)
    kept = evenly(kept, sample)
    ids = dict.fromkeys(i for item in kept for i in item.retrieved_ids[:per_question] if i in records)
    return kept, [records[i] for i in ids]


def write_pool(records: Sequence[dict[str, Any]], path: Path) -> Path:
    """Write the pool as JSON Lines, leaving an identical file untouched."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path
