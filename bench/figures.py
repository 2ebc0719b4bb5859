"""What every benchmark measures the same way: percentiles, the machine's state, a process's memory and CPU.

Shared by the benchmarks of bench/.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Warm answer latency goals on 2 cores: (chunks in the store, p50 ms, p95 ms, issue that set them).
LATENCY_GOALS = [(50_000, 50.0, 150.0, 5), (1_000_000, 60.0, 200.0, 14)]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0-1) by linear interpolation between the closest ranks; NaN when there are none."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(values: Sequence[float], digits: int = 2) -> dict[str, float]:
    nan = float("nan")
    return {
        "p50": round(percentile(values, 0.50), digits),
        "p95": round(percentile(values, 0.95), digits),
        "mean": round(statistics.fmean(values), digits) if values else nan,
        "max": round(max(values), digits) if values else nan,
    }


def command_line() -> str:
    """How this benchmark was run, as RESULTS.md shows it (from the repository's root, paths as given)."""
    return " ".join([".venv/bin/python -m", f"bench.{Path(sys.argv[0]).stem}", *sys.argv[1:]])


def machine() -> dict[str, Any]:
    import chromadb

    return {
        "utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "chromadb": chromadb.__version__,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def rss_mb(pid: int) -> float:
    """Resident memory of a process now (VmRSS)."""
    return round(_status_kb(pid, "VmRSS") / 1024, 1)


def peak_rss_mb(pid: int) -> float:
    """The most resident memory a process has had (VmHWM)."""
    return round(_status_kb(pid, "VmHWM") / 1024, 1)


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, quiet_s: float = 3.0, timeout_s: float = 600.0) -> float:
    """Wait until a process has used under 5% of a core for `quiet_s` seconds; returns the seconds waited.

    Chroma indexes newly written vectors in the background after the writes return (in the server, or in the
    writing process when embedded); measuring while it does would time its indexing, not warm queries.
    """
    started = time.monotonic()
    quiet_since = started
    last = cpu_s(pid)
    while time.monotonic() - started < timeout_s:
        time.sleep(0.5)
        now = cpu_s(pid)
        if now - last > 0.025:  # more than 5% of a core in the last half second
            quiet_since = time.monotonic()
        last = now
        if time.monotonic() - quiet_since >= quiet_s:
            break
    return time.monotonic() - started
