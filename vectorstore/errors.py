"""Errors the store raises; the CLI and the bot turn them into one-line messages."""

from __future__ import annotations

import errno
from pathlib import Path


class StoreError(Exception):
    """A store problem the user can act on; the message says what to do."""


class StoreLockedError(StoreError):
    """Another process is writing to the same embedded store."""


class StoreMissingError(StoreError):
    """A read-only command found no store (or no collection) where the settings point: it never creates one."""


class ModelMismatchError(StoreError):
    """The store was built with another embedding model than the one configured."""


class InvalidFilterError(StoreError, ValueError):
    """A search filter names no real day (or is otherwise malformed)."""


# Errno values that mean "this place cannot hold the store", so the hint names the setting to change.
_PLACE_ERRNOS = {errno.ENOTDIR, errno.EROFS, errno.EACCES, errno.EPERM, errno.EEXIST, errno.ENOENT}
_REASONS = {
    errno.ENOTDIR: "a part of that path is a file, not a directory",
    errno.EEXIST: "it exists and is not a directory",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOSPC: "the disk is full; free some space, then run again",
    errno.EDQUOT: "the disk quota is used up; free some space, then run again",
    errno.EFBIG: "a file would exceed the file size limit; free some space or raise the limit, then run again",
    errno.EIO: "a disk write failed (the disk may be full, over a file size limit, or failing)",
}
# What Chroma's SQLite layer says for the same conditions (it raises its own errors, not OSError).
_CHROMA_REASONS = {
    "database or disk is full": errno.ENOSPC,
    "no space left on device": errno.ENOSPC,
    "file too large": errno.EFBIG,
    "disk i/o error": errno.EIO,
    "readonly database": errno.EROFS,
    "read-only file system": errno.EROFS,
    "permission denied": errno.EACCES,
}


def describe_os_error(exc: OSError, data_dir: Path | None = None) -> str:
    """One line for a file system failure (a data dir under a file, a read-only or full disk, ...), by errno;
    when the path is in the data directory, the line says which setting to change."""
    reason = _REASONS.get(exc.errno or 0) or exc.strerror or type(exc).__name__
    if exc.filename is None:
        return f"file system error: {reason}"
    line = f"cannot use {exc.filename}: {reason}"
    if data_dir is not None and exc.errno in _PLACE_ERRNOS and _within(Path(str(exc.filename)), data_dir):
        line += f" (NEWSBOT_DATA_DIR is {data_dir}; set it to a directory newsbot can write)"
    return line


def describe_chroma_error(exc: Exception, path: Path, data_dir: Path | None = None) -> str | None:
    """One line for a Chroma failure that is really the disk's (full, read-only) at `path`, or None."""
    text = str(exc).lower()
    for needle, code in _CHROMA_REASONS.items():
        if needle in text:
            return describe_os_error(OSError(code, _REASONS[code], str(path)), data_dir)
    return None


def _within(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents
