"""Exclusive locks next to an embedded store: Chroma's embedded client is not safe for two writing processes,
and exactly one process may poll a store's sources."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vectorstore.errors import StoreLockedError

WRITER_BUSY = (
    "another newsbot process (pid {pid}) is writing to this store; wait for it to finish, "
    "or run Chroma as a server (NEWSBOT_CHROMA_URL) to ingest from several processes"
)


def acquire(path: Path, busy: str) -> int:
    """Take an exclusive, non-blocking flock and return its descriptor (close it to release); the kernel
    releases it if the process dies, even on SIGKILL. `busy` is the StoreLockedError message, `{pid}` the
    holder's pid."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise StoreLockedError(busy.format(pid=holder)) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
    return fd


@contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """Hold the store's writer lock for the block."""
    fd = acquire(path, WRITER_BUSY)
    try:
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
