"""The emulator's node process (tests/telegram/emulator.js) on a free port of 127.0.0.1, started and stopped."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

_LAUNCHER_DIR = Path(__file__).resolve().parents[3] / "tests" / "telegram"
_LAUNCHER = _LAUNCHER_DIR / "emulator.js"
_PACKAGE_DIR = _LAUNCHER_DIR.parent / "emulator"  # telegram-test-api, installed by npm ci


class EmulatorUnavailable(RuntimeError):
    """node or the emulator's npm package is missing (not a source checkout set up with --dev), or it did not
    start."""


@dataclass
class Emulator:
    """The emulator process; `url` is its root, and what NEWSBOT_TELEGRAM_BASE_URL should be (the bot adds /bot)."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, timeout_s: float = 30.0) -> Emulator:
        node = shutil.which("node")
        if node is None:
            raise EmulatorUnavailable("node is not installed")
        if not (_PACKAGE_DIR / "node_modules" / "telegram-test-api").is_dir():
            raise EmulatorUnavailable(
                "telegram-test-api is missing: run scripts/bootstrap.sh --dev (npm ci in tests/emulator)"
            )
        process = subprocess.Popen(
            [node, str(_LAUNCHER), "0"],
            stdout=subprocess.PIPE,
            stderr=None,  # the emulator's complaints go to the test output
            cwd=_LAUNCHER_DIR,
            env={**os.environ, "NODE_ENV": "production"},
        )
        assert process.stdout is not None
        deadline = time.monotonic() + timeout_s
        line = b""
        # poll, not select: after a long test session this process may hold descriptors past select's 1024.
        poller = select.poll()
        poller.register(process.stdout, select.POLLIN | select.POLLHUP)
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            if poller.poll(100):
                chunk = os.read(process.stdout.fileno(), 256)
                if not chunk:
                    break
                line += chunk
        if not line.endswith(b"\n"):
            process.kill()
            raise EmulatorUnavailable(f"the emulator did not start (exit code {process.poll()})")
        return cls(process=process, port=int(json.loads(line)["port"]))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
