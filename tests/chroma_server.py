"""A real `chroma run` server for the tests, and Settings for each store mode.

A pytest plugin module: test files that need it say `pytest_plugins = ["chroma_server"]`.

- `chroma_server` (session): one `chroma run --path <tmp> --host 127.0.0.1 --port <free>` for the whole
  session, ready once its heartbeat answers, terminated (then killed) at the end. The process itself is
  started by `vectorstore/server_process.py`, which the benchmarks use too.
- `mode_settings` (parametrised `embedded` / `server`): Settings for a fresh store in either mode. Server-mode
  tests share the one server, so each test gets its own collection name and drops it afterwards.

Test modules use these through fixtures only (importing this module as well would keep pytest from
rewriting its asserts): `chroma_server_factory` starts private servers a test may stop, `collection_name` is
unique per test.

A test module runs its store tests in both modes by overriding the shared `settings` fixture:

    pytest_plugins = ["chroma_server"]

    @pytest.fixture
    def settings(mode_settings: Settings) -> Settings:
        return mode_settings
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from vectorstore.server_process import ChromaServer, start_chroma_server

if TYPE_CHECKING:
    from bot.settings import Settings

STORE_MODES = ["embedded", pytest.param("server", marks=pytest.mark.server)]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One real Chroma server on 127.0.0.1 for the whole session."""
    root = tmp_path_factory.mktemp("chroma-server")
    server = start_chroma_server(root / "db")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root / "db", ignore_errors=True)


@pytest.fixture
def chroma_server_factory(tmp_path: Path) -> Iterator[Callable[[], ChromaServer]]:
    """Starts private servers (for tests that stop one); all are stopped at the end of the test."""
    started: list[ChromaServer] = []

    def start() -> ChromaServer:
        server = start_chroma_server(tmp_path / f"private-chroma-{len(started)}")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def collection_name(request: pytest.FixtureRequest) -> str:
    """A collection name no other test uses (for tests on the shared server)."""
    return unique_collection(request)


def unique_collection(request: pytest.FixtureRequest) -> str:
    """A short collection name unique to this test (Chroma wants 3-512 chars of [a-zA-Z0-9._-])."""
    stem = "".join(ch if ch.isalnum() else "-" for ch in request.node.name)[:40].strip("-")
    return f"t-{stem}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=STORE_MODES)
def mode_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh store: embedded Chroma in `tmp_path`, or a fresh collection on the test server.

    The data dir is in `tmp_path` in both modes: it holds the embedded store and the saved lexical index.
    """
    yield from _fresh_store_settings(request, tmp_path, request.param)


@pytest.fixture
def server_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh collection on the test server (for modules that only add server mode)."""
    yield from _fresh_store_settings(request, tmp_path, "server")


def _fresh_store_settings(request: pytest.FixtureRequest, tmp_path: Path, mode: str) -> Iterator[Settings]:
    from bot.settings import Settings

    if mode == "embedded":
        yield Settings(data_dir=tmp_path / "data", chroma_url=None, collection="newsbot", _env_file=None)
        return
    server: ChromaServer = request.getfixturevalue("chroma_server")
    collection = unique_collection(request)
    yield Settings(data_dir=tmp_path / "data", chroma_url=server.url, collection=collection, _env_file=None)
    drop_collections(server.url, collection)


def drop_collections(url: str, collection: str) -> None:
    """Delete a test's collections from the shared server (what `ArticleStore.drop` deletes)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    host, port = url.removeprefix("http://").split(":")
    client = chromadb.HttpClient(
        host=host, port=int(port), settings=ChromaSettings(anonymized_telemetry=False)
    )
    existing = {c.name for c in client.list_collections()}
    suffixes = ("", "-articles", "-journal", "-sources", "-sentences")
    for name in (f"{collection}{suffix}" for suffix in suffixes):
        if name in existing:
            client.delete_collection(name)


# ---- an authenticating proxy in front of the server --------------------------------------------------------


@dataclass
class AuthProxy:
    """What a deployment puts in front of `chroma run` (which has no auth of its own): a reverse proxy on
    127.0.0.1 that forwards only requests carrying `header: value` and answers 401 to the rest."""

    url: str
    header: str
    value: str
    seen: list[tuple[str, bool]]  # (path, authorised) per request


@pytest.fixture
def auth_proxy(chroma_server: ChromaServer) -> Iterator[AuthProxy]:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    upstream = httpx.Client(base_url=chroma_server.url, timeout=30)
    box: dict[str, AuthProxy] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            proxy = box["proxy"]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            authorised = self.headers.get(proxy.header) == proxy.value
            proxy.seen.append((self.path, authorised))
            if not authorised:
                status, headers, content = (
                    401,
                    {"Content-Type": "application/json"},
                    b'{"error":"Unauthorized"}',
                )
            else:
                forward = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                reply = upstream.request(self.command, self.path, content=body, headers=forward)
                status, content = reply.status_code, reply.content
                headers = {"Content-Type": reply.headers.get("Content-Type", "application/json")}
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward  # noqa: N815 (the stdlib's names)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    host, port = httpd.server_address[:2]
    box["proxy"] = AuthProxy(f"http://{host}:{port}", "X-Chroma-Token", "s3cret-for-tests", [])
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield box["proxy"]
    finally:
        httpd.shutdown()
        httpd.server_close()
        upstream.close()
