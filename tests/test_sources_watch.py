"""`newsbot watch` as a real process: it polls, ends cleanly on SIGTERM and Ctrl-C, and in server mode holds a
lease in the store that a poller killed with SIGKILL leaves to expire."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from store_checks import NEWSBOT, article_record, assert_store_consistent, settings_env, wait_for, write_jsonl

from bot.polling import Poller, poll_due
from bot.runtime import Runtime
from bot.settings import Settings
from ingest.registry import Outcome, after_poll, new_source
from vectorstore.embedder import Embedder

pytest_plugins = ["chroma_server"]


def start_watch(settings: Settings, tick_s: float, lease_s: float = 300.0) -> subprocess.Popen[str]:
    """`newsbot watch` on the store of `settings`, looking for due sources every `tick_s`."""
    env = settings_env(settings)
    env.update({"NEWSBOT_POLL_TICK_S": str(tick_s), "NEWSBOT_POLL_LEASE_S": str(lease_s)})
    return subprocess.Popen(
        [str(NEWSBOT), "watch"], env=env, text=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_watch_polls_and_ends_cleanly_on_a_signal(settings: Settings, tmp_path: Path, signum: int) -> None:
    # An empty directory is a source that fails (nothing to ingest): cheap, and its outcome is recorded.
    empty = tmp_path / "empty-share"
    empty.mkdir()
    reader = Runtime(settings)
    source = new_source(str(empty), 60, time.time())
    with reader.writing():
        reader.registry.put(source)
    process = start_watch(settings, tick_s=0.2)
    try:

        def polled() -> bool:
            state = reader.registry.get(source.id)
            return state is not None and state.last_check is not None

        wait_for(polled, 60, "the watcher's first poll")
        state = reader.registry.get(source.id)
        assert state is not None and state.failures == 1 and "nothing to ingest" in (state.last_error or "")
        process.send_signal(signum)
        out, err = process.communicate(timeout=30)
    finally:
        stop(process)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert f"failed: {source.id} {empty}" in out
    poller = Poller(reader)  # the poller lock went with it
    assert poller.claim(time.time())
    poller.release()


@pytest.mark.server
def test_a_killed_pollers_lease_expires_and_another_takes_over(server_settings: Settings) -> None:
    # Long enough that a watcher starved of CPU on a loaded machine still renews it in time (it renews every tick);
    # the test's cost is one lease after the kill.
    lease_s = 12.0
    process = start_watch(server_settings, tick_s=0.2, lease_s=lease_s)
    runtime = Runtime(server_settings.model_copy(update={"poll_lease_s": lease_s}))
    try:

        def leased() -> bool:
            lease = runtime.registry.lease()
            return lease is not None and f":{process.pid}:" in lease.holder

        wait_for(leased, 60, "the watcher's lease")
        standby = Poller(runtime, settle_s=0.1)
        assert standby.cycle() is None  # it waits while the lease is valid (the watcher renews it)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        killed_at = time.time()
        dead = runtime.registry.lease()
        assert dead is not None and f":{process.pid}:" in dead.holder  # nobody released it
        wait_for(lambda: standby.cycle() is not None, lease_s + 60, "the killed poller's lease to expire")
        assert time.time() >= dead.expires_at and time.time() - killed_at < lease_s + 60
        lease = runtime.registry.lease()
        assert lease is not None and lease.holder == standby.holder
        standby.release()
        assert runtime.registry.lease() is None
    finally:
        stop(process)


@pytest.mark.server
def test_the_registry_in_server_mode_keeps_state_and_clears_an_old_error(server_settings: Settings) -> None:
    runtime = Runtime(server_settings)
    source = new_source("https://news.example/feed.xml", 60, 1000.0)
    with runtime.writing():
        runtime.registry.put(after_poll(source, 1000.0, Outcome(error="HTTP 500", failed=True)))
    failed = runtime.registry.get(source.id)
    assert failed is not None and (failed.failures, failed.last_error, failed.next_due) == (1, "HTTP 500", 1120.0)
    runtime.registry.put(after_poll(failed, 1200.0, Outcome(added=3)))
    # Another process (a fresh client) reads the same state, the error gone.
    [seen] = Runtime(server_settings).registry.all()
    assert (seen.failures, seen.last_error, seen.added, seen.last_success) == (0, None, 3, 1200.0)
    assert runtime.registry.remove(source.id) and Runtime(server_settings).registry.all() == []


@pytest.mark.server
def test_two_pollers_started_at_once_in_server_mode_one_wins(server_settings: Settings) -> None:
    import threading

    runtimes = [Runtime(server_settings), Runtime(server_settings)]
    pollers = [Poller(r, holder=f"poller-{i}") for i, r in enumerate(runtimes)]
    for runtime in runtimes:
        runtime.registry.all()  # connected and the collection there before the race starts
    barrier = threading.Barrier(2)
    claims: dict[str, bool] = {}

    def claim(poller: Poller) -> None:
        barrier.wait()
        claims[poller.holder] = poller.claim(time.time())

    threads = [threading.Thread(target=claim, args=(p,)) for p in pollers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(claims.values()) == [False, True], claims
    lease = runtimes[0].registry.lease()
    assert lease is not None and claims[lease.holder]


CRASH_ARTICLES = 220  # 3 chunks each at 200 characters: a first commit of 512+ chunks, then more while it is killed


@pytest.mark.slow
def test_a_watcher_killed_mid_poll_leaves_the_store_consistent_and_the_source_due(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"chunk_chars": 200, "chunk_overlap_chars": 50})
    corpus = write_jsonl(tmp_path / "export.jsonl", [article_record(i, "crash", 3) for i in range(CRASH_ARTICLES)])
    runtime = Runtime(settings)
    runtime.__dict__["embedder"] = embedder
    source = new_source(str(corpus), 60, time.time())
    with runtime.writing():
        runtime.registry.put(source)

    env = settings_env(settings)
    env["NEWSBOT_POLL_TICK_S"] = "0.2"
    log_path = tmp_path / "watch.log"
    with open(log_path, "w") as log:
        victim = subprocess.Popen(
            [str(NEWSBOT), "-v", "watch"], env=env, text=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        try:
            wait_for(lambda: "committed" in log_path.read_text() or victim.poll() is not None, 240, "a commit")
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=30)
        finally:
            stop(victim)
    assert victim.returncode == -signal.SIGKILL, log_path.read_text()[-3000:]

    survived = assert_store_consistent(runtime)  # every article complete, once
    assert 0 < len(survived) < CRASH_ARTICLES, f"{len(survived)} articles: the kill missed the middle"
    assert runtime.registry.get(source.id) == source  # its poll was never recorded: still due
    [result] = poll_due(runtime, time.time())  # the next poller (the locks died with the process) finishes it
    assert result.ok and result.added == CRASH_ARTICLES - len(survived)
    assert len(assert_store_consistent(runtime)) == CRASH_ARTICLES
    state = runtime.registry.get(source.id)
    assert state is not None and state.failures == 0 and state.added == result.added


@pytest.mark.server
def test_watch_in_server_mode_waits_on_a_valid_lease(server_settings: Settings) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    holder = Poller(Runtime(server_settings), holder="newsroom-host:4242:abc123")
    assert holder.claim(time.time())
    second = Runtime(server_settings)
    result = CliRunner().invoke(cli, ["watch", "--once"], obj={"runtime": second})
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("waiting: the sources are polled by newsroom-host:4242:abc123 until ")
    holder.release()
    result = CliRunner().invoke(cli, ["watch", "--once"], obj={"runtime": second})
    assert result.exit_code == 0 and result.stderr == "" and second.registry.lease() is None  # polled, released
