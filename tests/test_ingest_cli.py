"""The admin commands through click's CliRunner: `newsbot ingest`, `articles`, `remove`, `stats`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import SAMPLE_DIR, WebServer
from ingest_support import markdown, snapshot, write

from bot.cli import cli
from bot.runtime import Runtime

GOOD = "The Chernihiv theatre reopened on Saturday. Its basement served as a shelter for a year."


def invoke(runtime: Runtime, *args: str) -> Result:
    """Run the real CLI on the test's runtime (its store, and the session's model)."""
    env = {"NEWSBOT_DATA_DIR": str(runtime.settings.data_dir)}
    return CliRunner().invoke(cli, list(args), obj={"runtime": runtime}, env=env)


def failure_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("failed:")]


def test_ingest_exits_zero_when_everything_is_ingested(runtime: Runtime) -> None:
    result = invoke(runtime, "ingest", str(SAMPLE_DIR))
    assert result.exit_code == 0, result.output
    assert "added 2, updated 0, unchanged 0, removed 0, failed 0" in result.stdout
    assert failure_lines(result) == []
    again = invoke(runtime, "ingest", str(SAMPLE_DIR))
    assert again.exit_code == 0 and "added 0, updated 0, unchanged 2" in again.stdout
    assert "(0 chunks embedded" in again.stdout


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("scan.txt", b"\x00\x01\x02binary\x00" * 10, "binary file, not text"),
        ("noise.txt", bytes(range(0x80, 0x100)) * 8, "not text in UTF-8 or a known legacy encoding"),
        ("broken.html", b"<html><body><div><<<</p></span>", "no article text"),
        ("big.txt", b"Too long a sentence. " * 300, "too large"),
    ],
)
def test_ingest_reports_one_line_per_failure_and_exits_nonzero(
    runtime: Runtime, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    runtime.settings.max_source_bytes = 5_000
    kept = write(tmp_path / "kept.md", markdown("kept", "Kept", GOOD))
    assert invoke(runtime, "ingest", str(kept)).exit_code == 0
    before = snapshot(runtime.store)

    bad = write(tmp_path / name, content)
    good = write(tmp_path / "good.md", markdown("good", "Good", GOOD.replace("Saturday", "Sunday")))
    result = invoke(runtime, "ingest", str(bad), str(good), str(kept), "--prune")
    assert result.exit_code == 1
    lines = failure_lines(result)
    assert len(lines) == 1 and lines[0].startswith(f"failed: {bad}: ") and reason in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert "added 1, updated 0, unchanged 1, removed 0, failed 1" in result.stdout
    after = snapshot(runtime.store)
    assert after["kept"] == before["kept"] and set(after) == {"kept", "good"}


def test_jsonl_with_a_broken_line_names_the_line(runtime: Runtime, tmp_path: Path) -> None:
    path = write(
        tmp_path / "records.jsonl",
        json.dumps({"id": "r1", "text": GOOD})
        + "\n{oops\n"
        + json.dumps({"id": "r3", "text": GOOD + " More."})
        + "\n",
    )
    result = invoke(runtime, "ingest", str(path))
    assert result.exit_code == 1
    assert [line.split(": invalid JSON")[0] for line in failure_lines(result)] == [f"failed: {path}:2"]
    assert set(runtime.store.catalog()) == {"r1", "r3"}


def test_ingest_of_web_sources_reports_http_failures(runtime: Runtime, http_server: WebServer) -> None:
    runtime.settings.fetch_timeout_s = 1.0  # ample for 127.0.0.1 even on a busy machine
    runtime.settings.fetch_allow = ["127.0.0.1"]  # the test site; only public addresses are fetched otherwise
    missing, slow = http_server.url("/status/404"), http_server.url("/slow.html")
    result = invoke(runtime, "ingest", missing, slow, http_server.url("/feed.atom"))
    assert result.exit_code == 1
    assert sorted(failure_lines(result)) == sorted(
        [f"failed: {missing}: HTTP 404 Not Found", f"failed: {slow}: timed out after 1 s"]
    )
    assert "added 2" in result.stdout


def test_articles_remove_and_stats(runtime: Runtime, tmp_path: Path) -> None:
    assert invoke(runtime, "ingest", str(SAMPLE_DIR)).exit_code == 0

    listed = invoke(runtime, "articles")
    assert listed.exit_code == 0
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert {r[0] for r in rows} == {"000_17fa544b3ee55eda", "004_47dad2c8b746e476"}
    titles = {r[0]: r[3] for r in rows}
    assert (
        titles["000_17fa544b3ee55eda"] == "Five Italian companies join Ukraine’s Defense Industries Alliance"
    )
    chunks = {r[0]: int(r[2]) for r in rows}
    as_json = [json.loads(line) for line in invoke(runtime, "articles", "--json").stdout.splitlines()]
    assert {a["id"]: a["chunks"] for a in as_json} == chunks

    stats = invoke(runtime, "stats")
    assert stats.exit_code == 0
    assert "articles: 2" in stats.stdout and f"chunks: {sum(chunks.values())}" in stats.stdout

    removed = invoke(runtime, "remove", "004_47dad2c8b746e476", "no-such-article")
    assert removed.exit_code == 1
    assert "removed 1" in removed.stdout and "not found: no-such-article" in removed.stderr
    assert set(runtime.store.catalog()) == {"000_17fa544b3ee55eda"}
    assert runtime.store.chunks_of("004_47dad2c8b746e476") == []


def test_cli_uses_newsbot_data_dir(tmp_path: Path) -> None:
    """Without a prepared runtime the CLI builds its own from NEWSBOT_* (no model is needed for these)."""
    data_dir = tmp_path / "elsewhere"
    env = {"NEWSBOT_DATA_DIR": str(data_dir)}
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", str(write(tmp_path / "empty.md", b""))], env=env)
    assert result.exit_code == 1 and failure_lines(result) == [f"failed: {tmp_path / 'empty.md'}: empty"]
    stats = runner.invoke(cli, ["stats"], env=env)
    assert stats.exit_code == 0 and "articles: 0" in stats.stdout
    assert str(data_dir / "chroma") in stats.stdout
    assert (data_dir / "chroma").is_dir()
