#!/usr/bin/env bash
# Creates .venv (once) and installs tkeras with what the tests, the checks (ruff, mypy) and the
# demo need.
# torch is installed first: a local torch==2.13.0 wheel when the machine has one
# (pip's --find-links, e.g. this project's CI machines), so that nothing pulls
# multi-GB CUDA builds; elsewhere the torch build the platform offers.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip"
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  if $PIP install -q --no-index --no-deps torch==2.13.0 2>/dev/null; then
    $PIP install -q torch==2.13.0          # the local wheel is there: add its dependencies
  else
    $PIP install -q torch                  # elsewhere: the platform's torch
  fi
fi
$PIP install -q -e ".[test,dev]" "$@"
