"""The recency prior: of two tellings of one story, the newer comes first; the past is seen as it stood."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from store_checks import write_jsonl

from bot.runtime import Runtime
from vectorstore.filters import Filters
from vectorstore.recency import recency_credit


def test_credit_halves_every_half_life_and_ignores_undated_and_future_articles() -> None:
    today = date(2024, 5, 1)
    assert recency_credit("2024-05-01", today, 21) == pytest.approx(1.0)
    assert recency_credit("2024-04-10", today, 21) == pytest.approx(0.5)
    assert recency_credit("2024-03-20T08:00:00", today, 21) == pytest.approx(0.25)
    assert recency_credit("2024-06-30", today, 21) == pytest.approx(1.0)  # a future date buys nothing more
    assert recency_credit(None, today, 21) == 0.0
    assert recency_credit("last week", today, 21) == 0.0
    assert recency_credit("2024-05-01", today, 0) == 0.0


# One story told twice: the March piece matches the question's words more closely, the May piece is newer.
STORY = [
    {
        "id": "ferry-march",
        "title": "Odesa ferry to Izmail resumes",
        "date": "2024-03-04",
        "text": "The Odesa ferry to Izmail resumed service on Monday after the port was repaired. "
        "The Odesa ferry to Izmail carries trucks with grain and passengers twice a day. "
        "Port officials said the ferry schedule would grow in spring.",
    },
    {
        "id": "ferry-may",
        "title": "Izmail crossing busy again",
        "date": "2024-05-06",
        "text": "The crossing between Odesa and Izmail is busy again, with the ferry now sailing four times a "
        "day. Officials said trucks with grain wait less than a day. A second vessel joins in June.",
    },
]
QUESTION = "When does the Odesa ferry to Izmail sail?"


def ranked(runtime: Runtime, **kwargs: object) -> list[str]:
    passages = runtime.retriever.search(QUESTION, k=4, **kwargs)  # type: ignore[arg-type]
    return list(dict.fromkeys(p.chunk.article_id for p in passages))


def test_the_newer_telling_wins_and_the_past_is_seen_as_it_stood(runtime: Runtime, tmp_path: Path) -> None:
    runtime.ingest([str(write_jsonl(tmp_path / "story.jsonl", STORY))])
    may = date(2024, 5, 7)
    # Without the prior, relevance alone puts the March piece first; this is what the prior has to overturn.
    runtime.retriever.recency_weight = 0.0
    assert ranked(runtime, as_of=may)[0] == "ferry-march"
    runtime.retriever.recency_weight = runtime.settings.recency_weight
    assert ranked(runtime, as_of=may)[0] == "ferry-may"
    # Asked in March, only the March piece existed.
    assert ranked(runtime, filters=Filters(date_to="2024-03-05"), as_of=date(2024, 3, 5)) == ["ferry-march"]
    # Years later both are old: the prior fades and relevance decides again.
    assert ranked(runtime, as_of=date(2030, 1, 1))[0] == "ferry-march"


def test_the_engine_answers_until_a_day_as_of_that_day(runtime: Runtime, tmp_path: Path) -> None:
    runtime.ingest([str(write_jsonl(tmp_path / "story.jsonl", STORY))])
    answer = runtime.engine.answer(QUESTION, filters=Filters(date_to="2024-03-05"))
    assert not answer.declined
    assert {c.article_id for c in answer.citations} == {"ferry-march"}
    answer = runtime.engine.answer(QUESTION, filters=Filters(date_to="2024-05-07"))
    assert answer.citations[0].article_id == "ferry-may"
    assert "four times a day" in answer.text
