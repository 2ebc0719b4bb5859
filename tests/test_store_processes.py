"""Several processes on one store, with the real `newsbot` command line in subprocesses.

- Server mode: an ingest worker (a `newsbot ingest` subprocess) runs while this process answers a stream of
  questions from two threads; every question is answered, nothing is lost, the final counts are right, and
  this process sees the worker's articles after it finishes without restarting (the change token).
- Embedded mode: a second writer is refused with the writer lock's message while an ingest runs.
- Both modes: an ingest killed with SIGKILL after its first commit leaves every article complete and once,
  and a rerun completes the job.

Subprocess ingests load the model (several seconds each), so there are four of them in this file. Their
articles are chunked small (NEWSBOT_CHUNK_CHARS=200) so a few hundred chunks embed quickly and span several
commits (the pipeline commits every 512 chunks).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from store_checks import article_record, assert_store_consistent, codeword, newsbot, write_jsonl

from bot.answer.models import Answer
from bot.runtime import Runtime
from bot.settings import Settings
from ingest.chunking import chunk_article
from ingest.pipeline import IngestOptions, collect
from vectorstore.embedder import Embedder

if TYPE_CHECKING:
    from chroma_server import ChromaServer

pytest_plugins = ["chroma_server"]

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "sample"
SMALL_CHUNKS = {"chunk_chars": 200, "chunk_overlap_chars": 50}


def expected_chunks(path: Path, settings: Settings) -> dict[str, int]:
    """Chunks per article that an ingest of `path` must store, computed without any store."""
    articles, _ = collect([str(path)], IngestOptions())
    return {
        a.id: len(chunk_article(a, a.content_hash(), settings.chunk_chars, settings.chunk_overlap_chars))
        for a in articles
    }


def runtime_for(settings: Settings, embedder: Embedder) -> Runtime:
    runtime = Runtime(settings)
    runtime.__dict__["embedder"] = embedder
    return runtime


def lexical_ids(runtime: Runtime, query: str) -> set[str]:
    """Articles the lexical side of the retriever found for `query` (a codeword: exactly its article)."""
    return {p.chunk.article_id for p in runtime.retriever.search(query, k=10) if p.lexical_rank is not None}


def wait_for(predicate: object, timeout_s: float, what: str, interval_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


# ---- server mode: an ingest worker and a stream of questions at once ---------------------------------------


class RebuildCounter(logging.Handler):
    """Counts the times the lexical index was brought up to date (rebuilt, or updated by the change)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.rebuilds = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "lexical index rebuilt" in message or "lexical index updated" in message:
            self.rebuilds += 1


@dataclass
class Asked:
    question: str
    answer: Answer | None = None
    error: BaseException | None = None
    during_ingest: bool = True


@dataclass
class Scenario:
    runtime: Runtime
    worker_rc: int
    worker_stdout: str
    worker_log: str
    expected: dict[str, int]
    token_before: str
    asked: list[Asked] = field(default_factory=list)
    rebuilds: int = 0
    caught_up_after_s: float = 0.0


WORKER_ARTICLES = 160


@pytest.fixture(scope="module")
def ingest_while_answering(
    chroma_server: ChromaServer, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    """This process (B) serves questions from two threads while a `newsbot ingest` worker (A) writes to the
    same server; afterwards B keeps answering, unrestarted, until its lexical index has caught up."""
    from chroma_server import drop_collections

    root = tmp_path_factory.mktemp("concurrent")
    collection = f"t-concurrent-{os.getpid()}"
    settings = Settings(data_dir=root / "b-data", chroma_url=chroma_server.url, collection=collection, _env_file=None)
    worker_settings = settings.model_copy(update={**SMALL_CHUNKS, "data_dir": root / "a-data"})
    reader = runtime_for(settings, embedder)
    assert reader.ingest([str(SAMPLE_DIR)]).ok
    assert not reader.engine.answer("What did Italy pledge?").declined  # B's index is built and warm
    token_before = reader.retriever.lexical.current().token

    records = [article_record(i, prefix="worker", sentences=4) for i in range(WORKER_ARTICLES)]
    corpus = write_jsonl(root / "worker.jsonl", records)
    expected = expected_chunks(corpus, worker_settings)
    counter = RebuildCounter()
    logging.getLogger("vectorstore.lexical").addHandler(counter)
    logging.getLogger("vectorstore.lexical").setLevel(logging.INFO)

    questions = ["What did Italy pledge?", "Which Italian companies joined the alliance?"]
    questions += [f"What happened with project {codeword('worker', i)}?" for i in range(0, WORKER_ARTICLES, 7)]
    asked: list[Asked] = []
    asked_lock = threading.Lock()
    done = threading.Event()

    def ask_stream(offset: int) -> None:
        i = offset
        while not done.is_set():
            item = Asked(questions[i % len(questions)])
            try:
                item.answer = reader.engine.answer(item.question)
            except BaseException as exc:  # noqa: BLE001 (the test reports every failure)
                item.error = exc
            with asked_lock:
                asked.append(item)
            i += 2
            time.sleep(0.05)

    log_path = root / "worker.log"
    with open(log_path, "w") as log:
        worker = newsbot(
            worker_settings,
            "-v",
            "ingest",
            "--quiet",
            str(corpus),
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        threads = [threading.Thread(target=ask_stream, args=(n,), daemon=True) for n in range(2)]
        try:
            for thread in threads:
                thread.start()
            stdout, _ = worker.communicate(timeout=300)
        finally:
            done.set()
            for thread in threads:
                thread.join(timeout=60)
            stop(worker)
    scenario = Scenario(
        runtime=reader,
        worker_rc=worker.returncode,
        worker_stdout=stdout,
        worker_log=log_path.read_text(),
        expected=expected,
        token_before=token_before,
        asked=asked,
    )

    # After the worker: B, not restarted, asks about the worker's last article until its index has it.
    finished = time.monotonic()
    last = f"What happened with project {codeword('worker', WORKER_ARTICLES - 1)}?"
    for _ in range(400):
        item = Asked(last, during_ingest=False)
        item.answer = reader.engine.answer(last)
        asked.append(item)
        if f"worker-{WORKER_ARTICLES - 1:04d}" in {c.article_id for c in item.answer.citations}:
            break
        time.sleep(0.05)
    scenario.caught_up_after_s = time.monotonic() - finished
    scenario.rebuilds = counter.rebuilds
    logging.getLogger("vectorstore.lexical").removeHandler(counter)
    yield scenario
    drop_collections(chroma_server.url, collection)


@pytest.mark.server
def test_every_question_is_answered_while_an_ingest_worker_writes(ingest_while_answering: Scenario) -> None:
    s = ingest_while_answering
    assert s.worker_rc == 0, s.worker_log[-3000:]
    assert f"added {WORKER_ARTICLES}, updated 0" in s.worker_stdout
    assert s.worker_log.count("committed") >= 2, "the worker committed once: no reads between commits"
    during = [a for a in s.asked if a.during_ingest]
    assert len(during) >= 10, f"only {len(during)} questions were asked while the worker ran"
    errors = [f"{a.question}: {a.error!r}" for a in s.asked if a.error is not None]
    assert not errors, errors
    assert all(a.answer is not None and a.answer.text for a in s.asked)
    # Nothing the store held before was ever missing while the worker wrote.
    italy = [a.answer for a in during if a.question == "What did Italy pledge?"]
    assert italy and all(not a.declined and "€140 million" in a.text for a in italy if a is not None)


@pytest.mark.server
def test_final_counts_are_exactly_what_was_ingested(ingest_while_answering: Scenario) -> None:
    s = ingest_while_answering
    stored = assert_store_consistent(s.runtime)  # every article complete, once
    worker_articles = {a: n for a, n in stored.items() if a.startswith("worker-")}
    assert worker_articles == s.expected
    assert len(stored) == WORKER_ARTICLES + 2
    assert sum(stored.values()) == sum(s.expected.values()) + 9  # the two sample articles have 9 chunks
    assert len(s.runtime.store.live_chunks()) == sum(stored.values())


@pytest.mark.server
def test_a_reader_process_sees_the_workers_articles_without_restarting(
    ingest_while_answering: Scenario,
) -> None:
    s = ingest_while_answering
    reader = s.runtime
    last_id = f"worker-{WORKER_ARTICLES - 1:04d}"
    final = [a for a in s.asked if not a.during_ingest][-1].answer
    assert final is not None and last_id in {c.article_id for c in final.citations}, (
        f"no catch-up within {s.caught_up_after_s:.1f} s"
    )
    index = reader.retriever.lexical.current()
    assert index.token != s.token_before and index.token == reader.store.token()
    assert {c.article_id for c in index.chunks} >= set(s.expected)
    # Refreshed when the token moved, not per question.
    assert 1 <= s.rebuilds < len(s.asked) / 2, (s.rebuilds, len(s.asked))


# ---- embedded mode: one writer per store -------------------------------------------------------------------


def test_a_second_embedded_writer_is_refused_while_an_ingest_runs(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "data", chroma_url=None, _env_file=None, **SMALL_CHUNKS)
    # The first writer holds the lock while it loads the model (seconds), which is all the second one needs.
    records = [article_record(i, prefix="first", sentences=4) for i in range(40)]
    first_corpus = write_jsonl(tmp_path / "first.jsonl", records)
    second_corpus = write_jsonl(tmp_path / "second.jsonl", [article_record(1, prefix="second", sentences=3)])

    first = newsbot(
        settings,
        "ingest",
        "--quiet",
        str(first_corpus),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(
            lambda: settings.lock_path.exists() and settings.lock_path.read_text().strip() == str(first.pid),
            60,
            "the first ingest to take the writer lock",
        )
        second = newsbot(
            settings,
            "ingest",
            "--quiet",
            str(second_corpus),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = second.communicate(timeout=120)
        assert first.poll() is None, "the first ingest ended before the second tried: the test proved nothing"
        assert second.returncode == 1, (out, err)
        refusal = (
            f"Error: another newsbot process (pid {first.pid}) is writing to this store; "
            "wait for it to finish, or run Chroma as a server (NEWSBOT_CHROMA_URL) "
            "to ingest from several processes"
        )
        assert refusal in err.splitlines() and "Traceback" not in err, err
        first_out, first_err = first.communicate(timeout=300)
    finally:
        stop(first)
    assert first.returncode == 0, first_err[-3000:]
    assert "added 40, updated 0, unchanged 0, removed 0, failed 0" in first_out

    runtime = runtime_for(settings, embedder)
    stored = assert_store_consistent(runtime)
    assert stored == expected_chunks(first_corpus, settings)  # intact, and nothing of the refused writer
    # Once the first writer is done, the second one gets its turn.
    assert runtime.ingest([str(second_corpus)]).added == ["second-0001"]


# ---- crash safety: SIGKILL mid-ingest ----------------------------------------------------------------------


CRASH_ARTICLES = 220  # 3 chunks each: a first commit of 512+ chunks, then ~150 more while it is killed


def test_an_ingest_killed_mid_run_leaves_complete_articles_and_a_rerun_finishes(
    mode_settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    settings = mode_settings.model_copy(update=SMALL_CHUNKS)
    records = [article_record(i, prefix="crash", sentences=3) for i in range(CRASH_ARTICLES)]
    corpus = write_jsonl(tmp_path / "crash.jsonl", records)
    expected = expected_chunks(corpus, settings)
    assert sum(expected.values()) > 512, "the corpus must span at least two commits"

    log_path = tmp_path / "ingest.log"
    with open(log_path, "w") as log:
        victim = newsbot(
            settings,
            "-v",
            "ingest",
            "--quiet",
            str(corpus),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            wait_for(
                lambda: "committed" in log_path.read_text() or victim.poll() is not None,
                240,
                "the first commit",
            )
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=30)
        finally:
            stop(victim)
    assert victim.returncode == -signal.SIGKILL, log_path.read_text()[-3000:]

    runtime = runtime_for(settings, embedder)
    survived = assert_store_consistent(runtime)  # every article complete, once
    assert 0 < len(survived) < CRASH_ARTICLES, f"{len(survived)} articles: the kill missed the middle"
    assert survived == {a: expected[a] for a in survived}
    some = next(iter(survived))
    assert lexical_ids(runtime, codeword("crash", int(some.split("-")[1]))) == {some}

    report = runtime.ingest([str(corpus)])  # the writer lock died with the killed process
    assert report.ok
    assert sorted(report.unchanged) == sorted(survived)
    assert len(report.added) == CRASH_ARTICLES - len(survived)
    assert assert_store_consistent(runtime) == expected
    last = f"crash-{CRASH_ARTICLES - 1:04d}"
    assert lexical_ids(runtime, codeword("crash", CRASH_ARTICLES - 1)) == {last}
