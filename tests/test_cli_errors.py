"""The CLI's bad-input paths: one `Error:` line and a non-zero exit, never a traceback, and nothing created by a
command that only reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.engine import MAX_QUESTION_CHARS
from bot.runtime import Runtime
from bot.settings import Settings
from vectorstore.client import connect, has_collection

pytest_plugins = ["chroma_server"]

REPO = Path(__file__).resolve().parents[1]
READ_ONLY = [
    ["stats"],
    ["articles"],
    ["ask", "What did Italy pledge?"],
    ["chat"],
    ["remove", "000_17fa544b3ee55eda"],
    ["eval", str(REPO / "tests" / "fixtures" / "no-such-questions.jsonl")],
]


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=stdin)


def assert_one_error_line(result: Result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert [line for line in result.stderr.splitlines() if line.strip()] == [f"Error: {expected}"], result.stderr


# ---- read-only commands never create a store ---------------------------------------------------------------


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: a[0])
def test_read_only_commands_do_not_create_a_store(args: list[str], tmp_path: Path) -> None:
    data_dir = tmp_path / "never-ingested"
    if args[0] == "eval":  # the question file must exist for click; the store is what is missing
        args = ["eval", str(_questions(tmp_path))]
    result = run({"NEWSBOT_DATA_DIR": str(data_dir)}, *args, stdin="")
    assert_one_error_line(result, f"no store at {data_dir} (run newsbot ingest first)")
    assert not data_dir.exists()


def test_read_only_commands_do_not_create_a_collection(runtime: Runtime) -> None:
    """An embedded store that exists, but not with the collection asked for."""
    runtime.store.catalog()  # creates the default collection
    data_dir = runtime.settings.data_dir
    env = {"NEWSBOT_DATA_DIR": str(data_dir), "NEWSBOT_COLLECTION": "other-desk"}
    result = run(env, "stats")
    assert_one_error_line(result, f"no store at {data_dir}, collection other-desk (run newsbot ingest first)")
    assert not has_collection(runtime.client, "other-desk")


@pytest.mark.server
def test_server_mode_missing_collection_is_the_same_message(chroma_server: object, collection_name: str) -> None:
    url: str = chroma_server.url  # type: ignore[attr-defined]
    env = {"NEWSBOT_CHROMA_URL": url, "NEWSBOT_COLLECTION": collection_name}
    for args in (["stats"], ["articles"], ["ask", "What did Italy pledge?"]):
        result = run(env, *args)
        assert_one_error_line(result, f"no store at {url}, collection {collection_name} (run newsbot ingest first)")
    settings = Settings(_env_file=None, chroma_url=url, collection=collection_name)
    assert not has_collection(connect(settings.chroma_config()), collection_name)


def _questions(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text('{"question": "What did Italy pledge?", "answers": ["tanks"], "doc_id": "x"}\n')
    return path


# ---- ask: the same limits as the bot -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("", "the question is empty"),
        ("   \n\t ", "the question is empty"),
        ("Why? " * 250, f"the question is too long: 1249 characters, at most {MAX_QUESTION_CHARS}"),
    ],
)
def test_ask_refuses_an_empty_or_over_long_question(runtime: Runtime, question: str, expected: str) -> None:
    result = CliRunner().invoke(cli, ["ask", question], obj={"runtime": runtime})
    assert_one_error_line(result, expected)
    assert "store" not in runtime.__dict__ and "engine" not in runtime.__dict__  # refused before any work


def test_chat_answers_an_over_long_question_with_the_limit(runtime: Runtime) -> None:
    runtime.ingest([str(REPO / "data" / "sample")])
    result = CliRunner().invoke(cli, ["chat"], obj={"runtime": runtime}, input="x" * 1001 + "\nquit\n")
    assert result.exit_code == 0, result.output
    assert f"the question is too long: 1001 characters, at most {MAX_QUESTION_CHARS}" in result.stdout
