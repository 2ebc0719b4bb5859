"""Polling the registered sources: `poll_due` ingests what is due, one source at a time, and `Poller` makes sure
exactly one process per store does it (`newsbot watch`, or `newsbot serve` on its JobQueue).

One poller per store: embedded, an flock next to the store (the kernel drops it when the process dies);
server mode, a lease record in the registry collection that the poller renews each cycle and that expires when
it is killed. Readers (`ask`, a bot answering) take neither and are never blocked.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ingest import Lease, Outcome, Source, Validators, after_poll, is_due, lease_available
from vectorstore.errors import StoreError, StoreLockedError
from vectorstore.lock import acquire

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

POLLER_BUSY = (
    "another newsbot process (pid {pid}) is already polling this store's sources; "
    "stop it first (one poller per store)"
)
LEASE_SETTLE_S = 0.5  # Chroma has no compare-and-set: re-read the lease after this long to see who won


@dataclass(frozen=True)
class PollResult:
    """One source's poll. `busy`: another process held the store's writer lock, so the source was left due."""

    source_id: str
    location: str
    ok: bool
    added: int = 0
    updated: int = 0
    error: str | None = None
    next_due: float = 0.0
    busy: bool = False

    def describe(self) -> str:
        if self.busy:
            return f"busy: {self.source_id} {self.location}: the store is being written by another process"
        if self.ok:
            line = f"polled: {self.source_id} {self.location}: added {self.added}, updated {self.updated}"
            return line + (f" (partly failed: {self.error})" if self.error else "")
        return f"failed: {self.source_id} {self.location}: {self.error}"


def _outcome(report_added: int, report_updated: int, read: int, failures: list[str]) -> Outcome:
    """A poll failed when something failed and nothing at all was read; a feed with one bad entry among good
    ones succeeded (its error is still shown)."""
    error = None
    if failures:
        error = failures[0] + (f" (and {len(failures) - 1} more)" if len(failures) > 1 else "")
    return Outcome(added=report_added, updated=report_updated, error=error, failed=bool(failures) and read == 0)


def poll_source(runtime: Runtime, source: Source, now: float) -> PollResult:
    """Ingest one source through the pipeline and record the outcome; never raises for the source's faults."""
    sent = Validators(source.etag, source.last_modified)
    try:
        report = runtime.ingest([source.location], validators={source.location: sent})
    except StoreLockedError:
        log.info("source %s left due: the store's writer lock is held by another process", source.id)
        return PollResult(source.id, source.location, ok=False, busy=True, next_due=source.next_due)
    except Exception as exc:  # noqa: BLE001 (one source's fault must never stop the others)
        log.warning("source %s: poll failed: %s", source.id, type(exc).__name__, exc_info=True)
        outcome = Outcome(error=f"{type(exc).__name__}: {exc}".splitlines()[0], failed=True)
    else:
        # A 304 read the whole source and found it unchanged: a success with nothing added.
        read = len(report.added) + len(report.updated) + len(report.unchanged) + len(report.not_modified)
        failures = [f"{item.item}: {item.reason}" for item in report.failed]
        outcome = _outcome(len(report.added), len(report.updated), read, failures)
        got = report.validators.get(source.location)
        if got is not None and not outcome.failed:  # after a failure, the stored validators still hold
            outcome = replace(outcome, validators=(got.etag, got.last_modified))
    polled = after_poll(source, now, outcome)
    try:
        with runtime.writing():
            if runtime.registry.get(source.id) is not None:  # removed while it was being polled: stay removed
                runtime.registry.put(polled)
    except StoreLockedError:
        # Another process took the writer lock in between: the source stays due and is polled again next round,
        # which costs little (unchanged articles are skipped without embedding).
        log.info("source %s: outcome not recorded, the store's writer lock is held by another process", source.id)
    log.info(
        "source %s polled: ok=%s added=%d updated=%d failures=%d",
        source.id, not outcome.failed, outcome.added, outcome.updated, polled.failures,
    )  # fmt: skip
    return PollResult(
        source.id, source.location, not outcome.failed, outcome.added, outcome.updated, outcome.error, polled.next_due
    )


def poll_due(runtime: Runtime, now: float, keep_going: Callable[[], bool] | None = None) -> list[PollResult]:
    """Poll every source due at `now`, one at a time (through `Runtime.ingest`, which holds the writer lock
    per source, so readers and admins' ingests interleave); one failing source never stops the others.
    `keep_going` is asked before each source (the poller renews its lease there)."""
    results: list[PollResult] = []
    for source in runtime.registry.all():
        if not is_due(source, now):
            continue
        if keep_going is not None and not keep_going():
            break
        results.append(poll_source(runtime, source, now))
    return results


def poller_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Poller:
    """Claims the right to poll a store, then polls what is due. Claiming is retried each cycle, so a standby
    takes over when the active poller stops (embedded: at once; server mode: when its lease expires)."""

    def __init__(self, runtime: Runtime, holder: str | None = None, settle_s: float = LEASE_SETTLE_S) -> None:
        self.runtime = runtime
        self.holder = holder or poller_id()
        self._settle_s = settle_s
        self._lock_fd: int | None = None
        self._seeded = False

    @property
    def embedded(self) -> bool:
        return self.runtime.settings.chroma_config().embedded

    def claim(self, now: float) -> bool:
        """True when this process may poll now; raises StoreLockedError (embedded) naming the other poller."""
        if self.embedded:
            if self._lock_fd is None:
                self._lock_fd = acquire(self.runtime.settings.poller_lock_path, POLLER_BUSY)
            return True
        return self._renew_lease(now)

    def _renew_lease(self, now: float) -> bool:
        registry = self.runtime.registry
        current = registry.lease()
        if not lease_available(current, self.holder, now):
            return False
        registry.write_lease(Lease(self.holder, now + self.runtime.settings.poll_lease_s))
        if current is not None and current.holder == self.holder:
            return True  # a renewal: nobody else may write while our lease was valid
        time.sleep(self._settle_s)  # two pollers that found it free both wrote; the later write wins
        won = registry.lease()
        return won is not None and won.holder == self.holder

    def current_lease(self) -> Lease | None:
        return None if self.embedded else self.runtime.registry.lease()

    def seed(self, now: float) -> None:
        """Register NEWSBOT_SOURCES (idempotent), once per poller."""
        if self._seeded or not self.runtime.settings.sources:
            self._seeded = True
            return
        from ingest import DEFAULT_EVERY_S

        with self.runtime.writing():
            added = self.runtime.registry.seed(self.runtime.settings.sources, DEFAULT_EVERY_S, now)
        for source in added:
            log.info("source %s registered from NEWSBOT_SOURCES", source.id)
        self._seeded = True

    def cycle(self, now: float | None = None) -> list[PollResult] | None:
        """One round: claim, seed, poll what is due. None when another poller holds the store."""
        now = time.time() if now is None else now
        if not self.claim(now):
            return None
        with contextlib.suppress(StoreLockedError):  # seeded on a later cycle
            self.seed(now)
        if self.embedded:
            return poll_due(self.runtime, now)
        started = time.monotonic()

        def still_ours() -> bool:
            # A long round must not outlive the lease: renew it before each source, on the clock that was given.
            if self._renew_lease(now + time.monotonic() - started):
                return True
            log.warning("lost the poller lease to another process; stopping this round")
            return False

        return poll_due(self.runtime, now, still_ours)

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        if not self.embedded:
            try:
                self.runtime.registry.release_lease(self.holder)
            except StoreError:
                log.warning("could not release the poller lease; it expires by itself")
