"""A writer lock next to an embedded store: Chroma's embedded client is not safe for two writing processes."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vectorstore.errors import StoreLockedError


@contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive, non-blocking flock; the kernel releases it if the process dies, even on SIGKILL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            raise StoreLockedError(
                f"another newsbot process (pid {holder}) is writing to this store; wait for it to finish, "
                "or run Chroma as a server (NEWSBOT_CHROMA_URL) to ingest from several processes"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
