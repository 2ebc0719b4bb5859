"""`newsbot serve` polls the registered sources on python-telegram-bot's JobQueue: the production Application
from `bot/telegram/app.py`, its JobQueue started on this test's event loop (no Bot API calls are needed)."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.polling import Poller
from bot.runtime import Runtime
from ingest.registry import Source, new_source

pytest.importorskip("apscheduler", reason="python-telegram-bot[job-queue]: bash scripts/bootstrap.sh installs it")

from bot.telegram.app import build_application  # noqa: E402 (needs the job-queue extra checked above)
from bot.telegram.polling import JOB_NAME  # noqa: E402


def register_empty_directory(runtime: Runtime, tmp_path: Path) -> Source:
    """An empty directory is a source that fails (nothing to ingest): cheap, and its outcome is recorded."""
    empty = tmp_path / "empty-share"
    empty.mkdir()
    source = new_source(str(empty), 60, time.time())
    with runtime.writing():
        runtime.registry.put(source)
    return source


async def wait_until(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(predicate):  # type: ignore[arg-type]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def configure(runtime: Runtime) -> None:
    runtime.settings.telegram_token = SecretStr("123456:serve-polling-test")
    runtime.settings.poll_tick_s = 0.2


async def test_serve_polls_due_sources_off_the_event_loop(runtime: Runtime, tmp_path: Path) -> None:
    configure(runtime)
    source = register_empty_directory(runtime, tmp_path)
    application = build_application(runtime.settings, runtime)
    assert application.job_queue is not None
    # One polling job (beside the follow pushes' own job).
    assert [job.name for job in application.job_queue.jobs()].count(JOB_NAME) == 1

    # The event loop stays free while a round runs: a ticker coroutine never waits long for its turn.
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    await application.job_queue.start()
    try:

        def polled() -> bool:
            state = runtime.registry.get(source.id)
            return state is not None and state.last_check is not None

        await wait_until(polled, 30, "the bot's first polling round")
    finally:
        await application.job_queue.stop(wait=True)
        ticking.cancel()
    state = runtime.registry.get(source.id)
    assert state is not None and state.failures >= 1 and "nothing to ingest" in (state.last_error or "")
    assert gaps and max(gaps) < 1.0


async def test_an_answer_only_instance_schedules_no_polling(runtime: Runtime) -> None:
    configure(runtime)
    runtime.settings.poll_sources = False
    application = build_application(runtime.settings, runtime)
    assert application.job_queue is not None and application.job_queue.get_jobs_by_name(JOB_NAME) == ()


async def test_a_bot_beside_another_poller_keeps_answering_and_says_so_once(
    runtime: Runtime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    configure(runtime)
    source = register_empty_directory(runtime, tmp_path)
    watcher = Poller(runtime)
    assert watcher.claim(time.time())  # a `newsbot watch` on the same store, as far as the lock can tell
    application = build_application(runtime.settings, runtime)
    assert application.job_queue is not None
    caplog.set_level(logging.INFO, logger="bot.telegram.polling")
    [job] = application.job_queue.get_jobs_by_name(JOB_NAME)
    runs: set[object] = set()

    def several_rounds_ran() -> bool:
        runs.add(job.next_t)  # moves on after each round
        return len(runs) >= 5

    await application.job_queue.start()
    try:
        await wait_until(several_rounds_ran, 30, "several polling rounds")
    finally:
        await application.job_queue.stop(wait=True)
        watcher.release()
    refusals = [r for r in caplog.records if "this instance only answers" in r.getMessage()]
    assert len(refusals) == 1 and "already polling this store's sources" in refusals[0].getMessage()
    state = runtime.registry.get(source.id)
    assert state is not None and state.last_check is None  # the bot did not poll
