"""The CLI's bad-input paths: one `Error:` line and a non-zero exit, never a traceback, and nothing created by a
command that only reads."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.answer.engine import MAX_QUESTION_CHARS
from bot.cli import cli
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


# ---- the data directory's disk: one line, never a traceback --------------------------------------------------


def newsbot(env: dict[str, str], *args: str, wrap: list[str] | None = None, limit_file_bytes: int | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`newsbot ARGS` as a process of its own (optionally under `wrap`, e.g. unshare, or a file size limit)."""

    def limits() -> None:
        if limit_file_bytes is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write over the limit fails with EFBIG instead
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    full_env = {**base, "PYTHONPATH": str(REPO), "TOKENIZERS_PARALLELISM": "false", **env}
    command = [*(wrap or []), sys.executable, "-m", "bot.cli", *args]
    return subprocess.run(
        command, env=full_env, cwd=REPO, capture_output=True, text=True, timeout=timeout, preexec_fn=limits
    )


def error_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return [line for line in done.stderr.splitlines() if line.startswith("Error:")]


def test_a_data_dir_under_a_file_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    data_dir = blocker / "data"
    result = run({"NEWSBOT_DATA_DIR": str(data_dir)}, "ingest", str(REPO / "data" / "sample"))
    assert_one_error_line(
        result,
        f"cannot use {data_dir}: a part of that path is a file, not a directory "
        f"(NEWSBOT_DATA_DIR is {data_dir}; set it to a directory newsbot can write)",
    )


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_data_dir_that_cannot_be_created_is_one_line() -> None:
    result = run({"NEWSBOT_DATA_DIR": "/proc/newsbot-data"}, "ingest", str(REPO / "data" / "sample"))
    assert_one_error_line(
        result,
        "cannot use /proc/newsbot-data: No such file or directory "
        "(NEWSBOT_DATA_DIR is /proc/newsbot-data; set it to a directory newsbot can write)",
    )


def test_a_full_disk_is_one_line(tmp_path: Path) -> None:
    """A file size limit makes every write past it fail (EFBIG), as a full disk would, where Chroma's SQLite
    creates the store."""
    data_dir = tmp_path / "data"
    done = newsbot({"NEWSBOT_DATA_DIR": str(data_dir)}, "ingest", str(REPO / "data" / "sample"),
                   limit_file_bytes=64_000)
    assert done.returncode == 1
    assert error_lines(done) == [
        f"Error: cannot use {data_dir / 'chroma'}: a disk write failed (the disk may be full, over a file size "
        "limit, or failing)"
    ]


def _mount_namespace() -> list[str]:
    """A private mount namespace (unprivileged through a user namespace), or skip where there is none."""
    unshare = shutil.which("unshare")
    wrap = [unshare, "--mount", "--map-root-user"] if unshare else []
    probe = subprocess.run([*wrap, "true"], capture_output=True) if wrap else None
    if probe is None or probe.returncode != 0:
        pytest.skip("needs unshare with user and mount namespaces to mount a read-only or tiny file system")
    return wrap


def _in_namespace(wrap: list[str], mounts: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Mount (in the private namespace only), then run newsbot there."""
    script = f"{mounts} && exec \"$@\""
    return newsbot(env, *args, wrap=[*wrap, "sh", "-c", script, "sh"])


def test_a_read_only_file_system_is_one_line(runtime: Runtime, tmp_path: Path) -> None:
    wrap = _mount_namespace()
    runtime.store.catalog()  # an existing (empty) store
    data_dir = runtime.settings.data_dir
    ro_mount = f"mount --bind {data_dir} {data_dir} && mount -o remount,bind,ro {data_dir}"
    done = _in_namespace(wrap, ro_mount, {"NEWSBOT_DATA_DIR": str(data_dir)}, "stats")
    assert done.returncode == 1
    assert error_lines(done) == [
        f"Error: cannot use {data_dir / 'chroma'}: read-only file system "
        f"(NEWSBOT_DATA_DIR is {data_dir}; set it to a directory newsbot can write)"
    ]
    empty = tmp_path / "ro"
    empty.mkdir()
    data_dir = empty / "data"
    done = _in_namespace(wrap, f"mount -t tmpfs -o ro tmpfs {empty}", {"NEWSBOT_DATA_DIR": str(data_dir)},
                         "ingest", str(REPO / "data" / "sample"))
    assert done.returncode == 1
    assert error_lines(done) == [
        f"Error: cannot use {data_dir}: read-only file system "
        f"(NEWSBOT_DATA_DIR is {data_dir}; set it to a directory newsbot can write)"
    ]


def test_a_really_full_disk_is_one_line(tmp_path: Path) -> None:
    wrap = _mount_namespace()
    disk = tmp_path / "disk"
    disk.mkdir()
    data_dir = disk / "data"
    done = _in_namespace(wrap, f"mount -t tmpfs -o size=200k tmpfs {disk}", {"NEWSBOT_DATA_DIR": str(data_dir)},
                         "ingest", str(REPO / "data" / "sample"))
    assert done.returncode == 1
    assert error_lines(done) == [
        f"Error: cannot use {data_dir / 'chroma'}: the disk is full; free some space, then run again"
    ]


# ---- serve: a Bot API that cannot be reached or refuses the token --------------------------------------------

TOKEN = "424242:AAE-newsbot-cli-errors-token"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def refusing_bot_api() -> Iterator[str]:
    """A Bot API on 127.0.0.1 that answers every call 401 Unauthorized, as Telegram does for a revoked token."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
def test_serve_against_an_unreachable_bot_api_is_one_line(tmp_path: Path, webhook: bool) -> None:
    port = _closed_port()
    env = {
        "NEWSBOT_DATA_DIR": str(tmp_path / "data"),
        "NEWSBOT_TELEGRAM_TOKEN": TOKEN,
        "NEWSBOT_TELEGRAM_BASE_URL": f"http://127.0.0.1:{port}",
    }
    if webhook:
        env |= {"NEWSBOT_WEBHOOK_URL": "https://bot.example.org/telegram", "NEWSBOT_WEBHOOK_PORT": str(_closed_port())}
    done = newsbot(env, "serve", timeout=120)
    assert done.returncode == 1
    assert error_lines(done) == [
        f"Error: cannot reach the Bot API at 127.0.0.1:{port} (httpx.ConnectError: All connection attempts "
        "failed); check NEWSBOT_TELEGRAM_BASE_URL and the network"
    ]
    assert len(done.stderr.splitlines()) <= 3, done.stderr  # the error and at most the INFO lines of a service
    assert TOKEN not in done.stderr and TOKEN.split(":")[1] not in done.stderr


def test_serve_with_a_refused_token_is_one_line(tmp_path: Path, refusing_bot_api: str) -> None:
    env = {
        "NEWSBOT_DATA_DIR": str(tmp_path / "data"),
        "NEWSBOT_TELEGRAM_TOKEN": TOKEN,
        "NEWSBOT_TELEGRAM_BASE_URL": refusing_bot_api,
    }
    done = newsbot(env, "serve", timeout=120)
    assert done.returncode == 1
    server = refusing_bot_api.removeprefix("http://")
    assert error_lines(done) == [
        f"Error: the Bot API at {server} refused the bot token; check NEWSBOT_TELEGRAM_TOKEN (or _TOKEN_FILE)"
    ]
    assert TOKEN not in done.stderr and TOKEN.split(":")[1] not in done.stderr


def test_os_errors_are_described_by_errno() -> None:
    import errno

    from vectorstore.errors import describe_chroma_error, describe_os_error

    data = Path("/srv/newsbot")
    hint = f" (NEWSBOT_DATA_DIR is {data}; set it to a directory newsbot can write)"
    assert describe_os_error(OSError(errno.EROFS, "x", str(data / "chroma")), data) == (
        f"cannot use {data / 'chroma'}: read-only file system{hint}"
    )
    assert describe_os_error(OSError(errno.EACCES, "x", "/tmp/out.json"), data) == (
        "cannot use /tmp/out.json: permission denied"  # not in the data dir: no hint about it
    )
    assert describe_os_error(OSError(errno.ENOSPC, "x", str(data / "lexical")), data) == (
        f"cannot use {data / 'lexical'}: the disk is full; free some space, then run again"
    )
    assert describe_os_error(OSError(errno.EDQUOT, "Disk quota exceeded"), data) == (
        "file system error: the disk quota is used up; free some space, then run again"
    )
    full = RuntimeError("error returned from database: (code: 13) database or disk is full")
    assert describe_chroma_error(full, data / "chroma", data) == (
        f"cannot use {data / 'chroma'}: the disk is full; free some space, then run again"
    )
    assert describe_chroma_error(RuntimeError("Collection [x] does not exist"), data / "chroma", data) is None
