"""Walking a directory: symbolic links are never followed out of it, what is passed over is reported, a part
that cannot be listed is a failure, and `--prune` never removes what it could not see."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ingest_support import all_chunk_texts, markdown, snapshot, write

from bot.cli import cli
from bot.runtime import Runtime
from ingest.errors import ItemError

BODY = "The Lutsk tram depot received six new cars on Tuesday. They run on route 2 from next month."
SUB_BODY = "Rivne opened a second bomb shelter at the central library. It holds 300 people."
SECRET = "The root password of the intranet is swordfish-42, said the internal memo."


def invoke(runtime: Runtime, *args: str) -> Result:
    """The real CLI on the test's runtime (its store, and the session's model)."""
    env = {"NEWSBOT_DATA_DIR": str(runtime.settings.data_dir)}
    return CliRunner().invoke(cli, list(args), obj={"runtime": runtime}, env=env)


def lines(result: Result, label: str) -> list[str]:
    return sorted(line for line in result.stderr.splitlines() if line.startswith(f"{label}: "))


def reasons(items: list[ItemError]) -> dict[str, str]:
    return {item.item: item.reason for item in items}


# ---- symbolic links ----------------------------------------------------------------------------------------


def test_symbolic_links_are_never_followed_and_each_is_reported(runtime: Runtime, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    write(outside / "secret.txt", f"Internal memo\n{SECRET}\n")
    write(outside / "vault" / "secret.md", markdown("vault", "Vault", SECRET))
    root = tmp_path / "coverage"
    write(root / "tram.md", markdown("tram", "Tram cars", BODY))
    (root / "link.txt").symlink_to(outside / "secret.txt")  # a file leaving the tree
    (root / "vault").symlink_to(outside / "vault", target_is_directory=True)  # a directory leaving it
    (root / "relative.md").symlink_to(Path("..") / "elsewhere" / "vault" / "secret.md")
    (root / "again.md").symlink_to(root / "tram.md")  # inside the tree: read where it lies, not twice
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to(root, target_is_directory=True)  # a loop, if it were followed
    (root / "gone.md").symlink_to(tmp_path / "deleted.md")  # dangling
    (root / "self.md").symlink_to(root / "self.md")  # loops on itself

    report = runtime.ingest([str(root)])

    assert report.ok, report.failed
    assert report.added == ["tram"]
    assert not [t for t in all_chunk_texts(runtime.store) if "swordfish" in t]
    leaving = "symbolic link leaving the ingested tree"
    broken = "broken symbolic link (its target is missing or loops)"
    inside = "symbolic link inside the tree, not followed (its target is read where it lies)"
    assert reasons(report.skipped) == {
        str(root / "link.txt"): leaving,
        str(root / "vault"): leaving,
        str(root / "relative.md"): leaving,
        str(root / "again.md"): inside,
        str(root / "sub" / "up"): inside,
        str(root / "gone.md"): broken,
        str(root / "self.md"): broken,
    }

    result = invoke(runtime, "ingest", str(root))
    assert result.exit_code == 0, result.output
    assert f"skipped: {root / 'link.txt'}: {leaving}" in lines(result, "skipped")
    assert "unchanged 1, removed 0, failed 0, skipped 7, warnings 0" in result.stdout


def test_a_named_symbolic_link_is_read_as_named(runtime: Runtime, tmp_path: Path) -> None:
    """The admin chose it: only links met inside a directory are refused."""
    target = write(tmp_path / "exports" / "tram.md", markdown("tram", "Tram cars", BODY))
    link = tmp_path / "today"
    link.symlink_to(target.parent, target_is_directory=True)
    report = runtime.ingest([str(link)])
    assert report.ok and report.added == ["tram"] and report.skipped == []


# ---- --prune never removes what it could not see -----------------------------------------------------------


@pytest.fixture
def site(runtime: Runtime, tmp_path: Path) -> Path:
    root = tmp_path / "site"
    write(root / "tram.md", markdown("tram", "Tram cars", BODY))
    write(root / "rivne" / "shelter.md", markdown("shelter", "Shelter opens", SUB_BODY))
    assert sorted(runtime.ingest([str(root)]).added) == ["shelter", "tram"]
    return root


def _replace_with_link_outside(folder: Path, tmp_path: Path) -> None:
    moved = tmp_path / "moved" / folder.name
    moved.parent.mkdir()
    shutil.move(folder, moved)
    folder.symlink_to(moved, target_is_directory=True)


def _replace_with_dangling_link(folder: Path, tmp_path: Path) -> None:
    shutil.rmtree(folder)
    folder.symlink_to(tmp_path / "unmounted", target_is_directory=True)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_replace_with_link_outside, "symbolic link leaving the ingested tree"),
        (_replace_with_dangling_link, "broken symbolic link (its target is missing or loops)"),
    ],
    ids=["link outside", "dangling link"],
)
def test_a_directory_replaced_by_a_symbolic_link_prunes_nothing(
    runtime: Runtime, site: Path, tmp_path: Path, damage: Callable[[Path, Path], None], reason: str
) -> None:
    before = snapshot(runtime.store)
    damage(site / "rivne", tmp_path)

    result = invoke(runtime, "ingest", "--prune", str(site))

    assert result.exit_code == 0, result.output  # nothing failed; the link was passed over on purpose
    assert lines(result, "skipped") == [f"skipped: {site / 'rivne'}: {reason}"]
    assert lines(result, "warning") == [
        f"warning: {site}: not pruned: kept 1 stored article(s) no longer found, "
        "as part of the source failed or was not read"
    ]
    assert "removed 0, failed 0, skipped 1, warnings 1" in result.stdout
    assert snapshot(runtime.store) == before


def _too_deep_to_list(folder: Path, depth: int = 20) -> Path:
    """Move `folder` down a chain of directories whose full path exceeds PATH_MAX (4,096 bytes on Linux): the
    kernel refuses to list it by that path (ENAMETOOLONG), and to root as much as to anyone, unlike a
    chmod 000. Each rename is given a short path, so building the chain never hits the limit."""
    chain = folder.parent / "deep"
    chain.mkdir()
    for _ in range(depth):
        (chain / "d").mkdir()
        chain = chain / "d"
    folder.rename(chain / folder.name)
    while chain.name == "d":  # deepest first: the paths handed to rename stay short
        chain.rename(chain.with_name("d" * 250))
        chain = chain.parent
    return chain


def test_a_directory_that_cannot_be_listed_fails_and_prunes_nothing(runtime: Runtime, site: Path) -> None:
    before = snapshot(runtime.store)
    deep = _too_deep_to_list(site / "rivne")

    report = runtime.ingest([str(site)], prune=True)

    assert len(report.failed) == 1, report.failed
    failure = report.failed[0]
    assert failure.item.startswith(str(deep)) and failure.reason == "cannot list the directory (File name too long)"
    assert report.removed == [] and report.unchanged == ["tram"]
    assert [w.reason for w in report.warnings] == [
        "not pruned: kept 1 stored article(s) no longer found, as part of the source failed or was not read"
    ]
    assert snapshot(runtime.store) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists a chmod 000 directory anyway (see the test above)")
def test_an_unreadable_directory_fails_and_prunes_nothing(runtime: Runtime, site: Path) -> None:
    before = snapshot(runtime.store)
    (site / "rivne").chmod(0)
    try:
        report = runtime.ingest([str(site)], prune=True)
    finally:
        (site / "rivne").chmod(stat.S_IRWXU)
    assert reasons(report.failed) == {str(site / "rivne"): "cannot list the directory (Permission denied)"}
    assert report.removed == [] and snapshot(runtime.store) == before


def test_an_emptied_directory_prunes_nothing(runtime: Runtime, site: Path) -> None:
    """An unmounted export looks like an empty directory: nothing to ingest is a failure, not 'all gone'."""
    before = snapshot(runtime.store)
    shutil.rmtree(site)
    site.mkdir()
    report = runtime.ingest([str(site)], prune=True)
    assert reasons(report.failed) == {str(site): "nothing to ingest: no supported files in it"}
    assert report.removed == [] and snapshot(runtime.store) == before


# ---- what is passed over is reported -----------------------------------------------------------------------


def test_unsupported_and_special_files_are_reported_as_skipped(runtime: Runtime, tmp_path: Path) -> None:
    root = tmp_path / "coverage"
    write(root / "tram.md", markdown("tram", "Tram cars", BODY))
    write(root / "report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    write(root / "memo.docx", b"PK\x03\x04\x14\x00\x06\x00")
    write(root / "2024" / "blob.bin", b"\x00\x01\x02\x03")
    write(root / "README", "Read me first.")
    write(root / ".hidden.pdf", b"%PDF-1.7\n")  # hidden: ignored without a word
    (root / "empty").mkdir()  # perhaps a share that is not mounted
    write(root / "drafts" / ".wip.md", "# Draft\n\nNot yet.")
    os.mkfifo(root / "pipe.txt")  # a FIFO would block a reader forever
    os.mknod(root / "socket.md", stat.S_IFSOCK | 0o600)
    expected = {
        str(root / "report.pdf"): "unsupported type .pdf",
        str(root / "memo.docx"): "unsupported type .docx",
        str(root / "2024" / "blob.bin"): "unsupported type .bin",
        str(root / "README"): "unsupported type (no extension)",
        str(root / "pipe.txt"): "not a regular file (a FIFO)",
        str(root / "socket.md"): "not a regular file (a socket)",
        str(root / "empty"): "empty directory",
        str(root / "drafts"): "empty directory (hidden files only)",
    }
    try:
        os.mknod(root / "null.txt", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        expected[str(root / "null.txt")] = "not a regular file (a device)"
    except PermissionError:
        pass  # creating a device needs CAP_MKNOD, which a container may lack

    result = invoke(runtime, "ingest", str(root))

    assert result.exit_code == 0, result.output  # skips alone do not fail a run
    assert lines(result, "skipped") == sorted(f"skipped: {item}: {why}" for item, why in expected.items())
    assert lines(result, "failed") == []
    assert f"added 1, updated 0, unchanged 0, removed 0, failed 0, skipped {len(expected)}, warnings 0" in (
        result.stdout
    )
    assert set(runtime.store.catalog()) == {"tram"}


def test_a_named_fifo_fails_without_blocking(runtime: Runtime, tmp_path: Path) -> None:
    fifo = tmp_path / "feed.txt"
    os.mkfifo(fifo)
    report = runtime.ingest([str(fifo)])
    assert reasons(report.failed) == {str(fifo): "not a regular file or directory (a FIFO)"}


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({}, "nothing to ingest: no supported files in it"),
        (
            {"scan.pdf": b"%PDF-1.7\n", ".draft.md": b"# Draft\n\nNot yet."},
            "nothing to ingest: no article in it (1 skipped)",
        ),
        ({"records.json": b"[]"}, "nothing to ingest: no article in it (1 skipped)"),
    ],
    ids=["empty", "only unsupported and hidden", "no records"],
)
def test_a_directory_with_nothing_to_ingest_is_a_failure(
    runtime: Runtime, tmp_path: Path, files: dict[str, bytes], reason: str
) -> None:
    root = tmp_path / "coverage"
    root.mkdir()
    for name, content in files.items():
        write(root / name, content)
    good = write(tmp_path / "good.md", markdown("tram", "Tram cars", BODY))
    result = invoke(runtime, "ingest", str(root), str(good))
    assert result.exit_code == 1, result.output
    assert lines(result, "failed") == [f"failed: {root}: {reason}"]
    assert "added 1" in result.stdout and set(runtime.store.catalog()) == {"tram"}


def test_a_named_file_without_records_is_a_failure(runtime: Runtime, tmp_path: Path) -> None:
    path = write(tmp_path / "records.json", b"[]")
    report = runtime.ingest([str(path)])
    assert reasons(report.failed) == {str(path): "nothing to ingest: no records in it"}


def test_exit_code_rule_failures_fail_skips_and_warnings_do_not(runtime: Runtime, tmp_path: Path) -> None:
    """Exit 1 if any item failed, else 0; every failure, skip and warning is one line on stderr either way."""
    root = tmp_path / "coverage"
    write(root / "tram.md", markdown("tram", "Tram cars", BODY, date="2024-02-31"))
    write(root / "scan.pdf", b"%PDF-1.7\n")
    quiet = invoke(runtime, "ingest", str(root))
    assert quiet.exit_code == 0, quiet.output
    assert [line.split(": ", 1)[0] for line in quiet.stderr.splitlines()] == ["skipped", "warning"]

    write(root / "empty.txt", b"")
    loud = invoke(runtime, "ingest", str(root))
    assert loud.exit_code == 1, loud.output
    assert [line.split(": ", 1)[0] for line in loud.stderr.splitlines()] == ["failed", "skipped", "warning"]
    assert "unchanged 1, removed 0, failed 1, skipped 1, warnings 1" in loud.stdout
