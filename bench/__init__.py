"""Benchmarks: each runs from the repository's root as `python -m bench.NAME` (see bench/RESULTS.md).

Their material outside the repository (../shared: corpora, question sets) is never used by tests.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
