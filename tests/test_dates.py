"""Dates on the question side: the CLI takes real days only, and filters compare days, not padded digits."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from store_checks import write_jsonl

from bot.cli import cli
from bot.runtime import Runtime
from vectorstore.errors import InvalidFilterError, StoreError
from vectorstore.filters import Filters, date_int
from vectorstore.models import Chunk
from vectorstore.recency import parse_date

# One story told three times in 2026: early January, mid January, end of November.
STORY = [
    ("dam-jan-03", "2026-01-03", "monday"),
    ("dam-jan-10", "2026-01-10", "saturday"),
    ("dam-nov-30", "2026-11-30", "sunday"),
]
QUESTION = "When did the Kakhovka dam repairs start?"


def ask(runtime: Runtime, *args: str) -> Result:
    return CliRunner().invoke(cli, ["ask", *args], obj={"runtime": runtime})


def cited(result: Result) -> set[str]:
    assert result.exit_code == 0, result.output
    return {c["article_id"] for c in json.loads(result.stdout)["citations"]}


@pytest.fixture
def story(runtime: Runtime, tmp_path: Path) -> Runtime:
    records = [
        {
            "id": article_id,
            "title": f"Kakhovka dam repairs, {day}",
            "date": day,
            "text": f"The Kakhovka dam repairs started on {weekday}, engineers said. "
            "Crews brought cranes and concrete to the dam.",
        }
        for article_id, day, weekday in STORY
    ]
    assert runtime.ingest([str(write_jsonl(tmp_path / "story.jsonl", records))]).ok
    return runtime


def test_unpadded_cli_dates_filter_by_the_day_they_name(story: Runtime) -> None:
    # --until 2026-1-5 used to become 20261500 and let the November article in; --since excluded January 10.
    assert cited(ask(story, "--json", "--until", "2026-1-5", QUESTION)) == {"dam-jan-03"}
    since = cited(ask(story, "--json", "--since", "2026-1-5", QUESTION))
    assert "dam-jan-10" in since and "dam-jan-03" not in since
    both = cited(ask(story, "--json", "--since", "2026-01-04", "--until", "2026-01-31", QUESTION))
    assert both == {"dam-jan-10"}


@pytest.mark.parametrize("bad", ["2024-99-99", "2024-02-30", "2024-13-01", "2024", "2026-1-5x", "05/01/2026", ""])
@pytest.mark.parametrize("option", ["--since", "--until"])
def test_cli_refuses_a_date_that_names_no_day(runtime: Runtime, option: str, bad: str) -> None:
    result = ask(runtime, option, bad, QUESTION)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    expected = f"Error: Invalid value for '{option}': {bad!r} is not a date: expected YYYY-MM-DD, e.g. 2026-01-05"
    assert errors == [expected]
    assert "Traceback" not in result.output


def test_filters_keep_normalised_days_and_refuse_non_days() -> None:
    assert Filters(date_from="2026-1-5", date_to="2026-11-30T10:00:00Z") == Filters(
        date_from="2026-01-05", date_to="2026-11-30"
    )
    assert Filters(date_to=date(2026, 1, 5)).date_to == "2026-01-05"  # type: ignore[arg-type]
    assert Filters(date_from="").empty
    for bad in ["2024-99-99", "2024-02-30", "2024", "last week"]:
        with pytest.raises(InvalidFilterError):
            Filters(date_from=bad)
        with pytest.raises(StoreError):  # one line in the CLI, like every store error
            Filters(date_to=bad)


def test_accepts_compares_days() -> None:
    def chunk(day: str | None) -> Chunk:
        return Chunk("a", "v", 0, 0, 1, "x", "t", date=day)

    until = Filters(date_to="2026-1-5")
    assert until.accepts(chunk("2026-01-05")) and until.accepts(chunk("2025-12-31T23:00:00"))
    assert not until.accepts(chunk("2026-11-30")) and not until.accepts(chunk("2026-01-06"))
    assert not until.accepts(chunk(None)) and not until.accepts(chunk("2026-13-45"))
    assert Filters(date_from="2026-1-5").accepts(chunk("2026-01-10"))
    assert until.chroma_where() == {"date_int": {"$lte": 20260105}}


def test_parse_date_and_date_int() -> None:
    assert parse_date("2026-1-5") == date(2026, 1, 5)
    assert parse_date("2026-01-05T08:00:00+02:00") == date(2026, 1, 5)
    assert parse_date("20260105") == date(2026, 1, 5)
    for bad in [None, "", "2024-13-45", "2024-02-30", "2026-1-50", "yesterday", "2024"]:
        assert parse_date(bad) is None, bad
    assert date_int("2026-1-5") == date_int(date(2026, 1, 5)) == 20260105
    with pytest.raises(StoreError):
        date_int("2024-99-99")
