#!/usr/bin/env bash
# Set up .venv for newsbot on a fresh machine. `--dev` adds the test tools and the Bot API emulator.
# torch goes first and pinned: left to pip, sentence-transformers pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
dev=0
[ "${1:-}" = "--dev" ] && dev=1

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip==26.3"
.venv/bin/pip install -q --disable-pip-version-check "torch==2.13.0"
if [ "$dev" = 1 ]; then
  .venv/bin/pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]"
  if [ -f tests/emulator/package.json ]; then
    (cd tests/emulator && npm ci --silent --no-audit --no-fund)
  fi
else
  .venv/bin/pip install -q --disable-pip-version-check -c constraints.txt -e .
fi
