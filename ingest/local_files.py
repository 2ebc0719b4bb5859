"""Local sources: a file (Markdown, text, HTML, JSON, a JSON Lines export) or a directory walked without
following symbolic links."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import ItemError
from ingest.readers import TEXT_SUFFIXES, read_file
from ingest.source_result import SourceResult


def read_path(path: Path, origin: str, max_bytes: int, result: SourceResult) -> None:
    """A file is read as named (through a symbolic link too: the admin chose it). A directory is walked by
    `_list_tree` without following any symbolic link, and a source that yields no article and no failure (an
    empty directory, one of PDFs only) is itself a failure: nothing to ingest is never a silent success."""
    if not path.exists():
        raise ItemError(str(path), "no such file or directory")
    if not path.is_dir():
        if not path.is_file():
            raise ItemError(str(path), f"not a regular file or directory ({_special_kind(path.stat().st_mode)})")
        result.articles, result.errors = read_file(path, max_bytes, origin)
        if not result.articles and not result.errors:
            raise ItemError(str(path), "nothing to ingest: no records in it")
        return
    listing = _list_tree(path)
    result.errors.extend(listing.errors)
    result.skipped.extend(listing.skipped)
    result.partial = listing.partial
    for file in listing.files:
        try:
            articles, problems = read_file(file, max_bytes, origin)
        except ItemError as exc:
            result.errors.append(exc)
            continue
        if not articles and not problems:
            result.skipped.append(ItemError(str(file), "no records"))
        result.articles.extend(articles)
        result.errors.extend(problems)
    if not result.articles and not result.errors:
        what = f"no article in it ({len(result.skipped)} skipped)" if result.skipped else "no supported files in it"
        raise ItemError(str(path), f"nothing to ingest: {what}")


@dataclass
class _Listing:
    files: list[Path] = field(default_factory=list)
    skipped: list[ItemError] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    partial: bool = False  # a symbolic link leaving the tree was not followed


def _list_tree(root: Path) -> _Listing:
    """The supported files under `root`, and what was passed over and why.

    No symbolic link inside the tree is followed, file or directory: one that leaves the tree (or dangles, or
    loops) is reported as skipped and makes the listing partial, since its target may be an article we hold;
    one that stays inside is reported as not followed, as its target is read where it lies. So nothing outside
    the tree is read, nothing is read twice, and a link loop cannot arise. Hidden entries (dot files and
    directories) are ignored without a word, by convention; an empty directory is reported, as it may be a share
    that is not mounted. A directory that cannot be listed is an error of that directory (os.scandir raises;
    pathlib's rglob would swallow it and let a prune delete its articles).
    """
    listing = _Listing()
    real_root = root.resolve()
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            listing.errors.append(ItemError(str(folder), f"cannot list the directory ({exc.strerror or exc})"))
            continue
        visible = [e for e in entries if not e.name.startswith(".")]
        if not visible and folder != root:  # the root's emptiness is the source's failure: nothing to ingest
            reason = "empty directory" if not entries else "empty directory (hidden files only)"
            listing.skipped.append(ItemError(str(folder), reason))
        subfolders = []
        for entry in visible:
            path = folder / entry.name
            try:  # the listing gives each entry's type; only a special file needs a stat, to name its kind
                is_link = entry.is_symlink()
                is_dir = not is_link and entry.is_dir(follow_symlinks=False)
                is_file = not is_link and entry.is_file(follow_symlinks=False)
                mode = 0 if is_link or is_dir or is_file else entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                listing.errors.append(ItemError(str(path), f"cannot read ({exc.strerror or exc})"))
                continue
            if is_dir:
                subfolders.append(path)
            elif is_link:
                reason, leaves = _link_verdict(path, real_root)
                listing.skipped.append(ItemError(str(path), reason))
                listing.partial = listing.partial or leaves
            elif not is_file:
                listing.skipped.append(ItemError(str(path), f"not a regular file ({_special_kind(mode)})"))
            elif path.suffix.lower() not in TEXT_SUFFIXES:
                kind = f"unsupported type {path.suffix.lower()}" if path.suffix else "unsupported type (no extension)"
                listing.skipped.append(ItemError(str(path), kind))
            else:
                listing.files.append(path)
        pending.extend(reversed(subfolders))
    listing.files.sort()
    return listing


def _link_verdict(link: Path, real_root: Path) -> tuple[str, bool]:
    """Why a symbolic link is skipped, and whether its target lies outside what was read."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):  # missing target, or a loop (RuntimeError before Python 3.13)
        return "broken symbolic link (its target is missing or loops)", True
    if not target.is_relative_to(real_root):
        return "symbolic link leaving the ingested tree", True
    return "symbolic link inside the tree, not followed (its target is read where it lies)", False


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"
