"""A `chroma run` server process on 127.0.0.1: what the tests' server-mode fixtures and the benchmarks start.

    server = start_chroma_server(Path("var/chroma"))     # a free port; returns once its heartbeat answers
    settings = Settings(chroma_url=server.url, ...)
    server.stop()

Deployments run `chroma run` themselves (docs/scaling.md); this is the one place that starts it from Python.
The child gets SIGTERM when its parent dies (Linux), so an interrupted test or benchmark leaves no server behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

CHROMA_BIN = Path(sys.executable).with_name("chroma")


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1 (the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ChromaServer:
    """A running `chroma run` process; `url` is what NEWSBOT_CHROMA_URL takes."""

    url: str
    path: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout_s: float = 10.0) -> None:
        """Terminate, and kill if it does not exit in time."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout_s)


def die_with_parent() -> None:
    """In a child (`preexec_fn`): get SIGTERM when the parent dies, so a killed parent leaves no orphan."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def start_chroma_server(path: Path, timeout_s: float = 60.0) -> ChromaServer:
    """Start `chroma run --path PATH` on a free port of 127.0.0.1 and wait for its heartbeat.

    The log goes next to `path` (`<name>.port<N>.log`). A large store takes a while to load: `timeout_s`
    bounds the wait for one attempt; the port may be taken between probing and binding, so up to 3 attempts.
    """
    if not CHROMA_BIN.exists():
        raise RuntimeError(f"the chroma CLI is not installed next to {sys.executable}")
    path.mkdir(parents=True, exist_ok=True)
    last_error = "not started"
    for _attempt in range(3):
        port = free_port()
        log_path = path.parent / f"{path.name}.port{port}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(CHROMA_BIN), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
                preexec_fn=die_with_parent,
            )
        server = ChromaServer(f"http://127.0.0.1:{port}", path, log_path, process)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{server.url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                    return server
            except httpx.TransportError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.1)
        server.stop()
        last_error = f"exit code {process.returncode}; log: {server.log_tail()}"
    raise RuntimeError(f"chroma run did not come up: {last_error}")
