"""Record dates: parsed strictly by one parser, stored as YYYY-MM-DD, and a date that is no date costs the date
(a warning on that record's line), never the article and never the run."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from ingest_support import markdown, write

from bot.cli import cli
from bot.runtime import Runtime
from ingest.articles import iso_date

BODY = "The Zhytomyr water utility replaced 12 kilometres of pipes this summer. Outages fell by half."


def test_valid_dates_are_normalised_and_bad_ones_are_dropped_with_a_warning(
    runtime: Runtime, tmp_path: Path
) -> None:
    dates = {
        "iso": ("2024-01-05", "2024-01-05"),
        "iso-time": ("2024-01-05T23:30:00+02:00", "2024-01-05"),
        "rfc2822": ("Fri, 05 Jan 2024 10:00:00 +0000", "2024-01-05"),
        "spelled": ("5 January 2024", "2024-01-05"),
        "month": ("2024-13-45", None),
        "feb-30": ("2024-02-30", None),
        "junk": ("sometime soon-ish", None),
        "bad-rfc": ("Fri, 45 Jan 2024 10:00:00 +0000", None),
    }
    records = [{"id": key, "text": f"{BODY} Record {key}.", "date": given} for key, (given, _) in dates.items()]
    path = write(tmp_path / "records.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")

    report = runtime.ingest([str(path)])

    assert report.ok, report.failed  # a bad date is not a failed record
    assert sorted(report.added) == sorted(dates)
    catalog = runtime.store.catalog()
    assert {key: catalog[key].date for key in dates} == {key: stored for key, (_, stored) in dates.items()}
    assert {(w.item, w.reason) for w in report.warnings} == {
        (f"{path}:5", "date '2024-13-45' is not a valid date; stored without a date"),
        (f"{path}:6", "date '2024-02-30' is not a valid date; stored without a date"),
        (f"{path}:7", "date 'sometime soon-ish' is not a valid date; stored without a date"),
        (f"{path}:8", "date 'Fri, 45 Jan 2024 10:00:00 +0000' is not a valid date; stored without a date"),
    }


def test_front_matter_with_an_impossible_date_is_stored_without_it(runtime: Runtime, tmp_path: Path) -> None:
    """YAML itself turns `2024-13-45` into a ValueError from inside its loader; that must not stop the run."""
    root = tmp_path / "coverage"
    bad = write(root / "bad.md", markdown("bad", "Pipes replaced", BODY, date="2024-13-45"))
    write(root / "good.md", markdown("good", "Pipes replaced again", BODY + " Again.", date="2024-02-12"))
    env = {"NEWSBOT_DATA_DIR": str(runtime.settings.data_dir)}

    result = CliRunner().invoke(cli, ["ingest", str(root)], obj={"runtime": runtime}, env=env)

    assert result.exit_code == 0, result.output  # warnings are printed, they do not fail the run
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [f"warning: {bad}: date '2024-13-45' is not a valid date; stored without a date"]
    assert "added 2, updated 0, unchanged 0, removed 0, failed 0, skipped 0, warnings 1" in result.stdout
    catalog = runtime.store.catalog()
    assert catalog["bad"].date is None and catalog["good"].date == "2024-02-12"


def test_a_bad_date_does_not_stop_a_prune(runtime: Runtime, tmp_path: Path) -> None:
    """The article is stored, so its source was read whole: what is gone from it may be pruned."""
    root = tmp_path / "coverage"
    write(root / "a.md", markdown("a", "First", BODY, date="2024-99-99"))
    gone = write(root / "b.md", markdown("b", "Second", BODY + " Second."))
    assert sorted(runtime.ingest([str(root)]).added) == ["a", "b"]
    gone.unlink()
    report = runtime.ingest([str(root)], prune=True)
    assert report.removed == ["b"] and len(report.warnings) == 1 and report.ok


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_every_real_day_is_kept_in_every_spelling(day: date) -> None:
    assert iso_date(day.isoformat()) == day.isoformat()
    assert iso_date(day) == day.isoformat()
    assert iso_date(datetime(day.year, day.month, day.day, 23, 59)) == day.isoformat()
    assert iso_date(day.strftime("%a, %d %b %Y 12:00:00 +0000")) == day.isoformat()


@given(st.integers(1000, 9999), st.integers(0, 99), st.integers(0, 99))
def test_an_impossible_iso_day_is_refused(year: int, month: int, day: int) -> None:
    text = f"{year:04d}-{month:02d}-{day:02d}"
    try:
        real = date(year, month, day).isoformat()
    except ValueError:
        with pytest.raises(ValueError):
            iso_date(text)
    else:
        assert iso_date(text) == real


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_no_date_is_not_a_bad_date(empty: str | None) -> None:
    assert iso_date(empty) is None
