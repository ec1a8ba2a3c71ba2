VENV ?= .venv
PY := $(VENV)/bin/python
# what ruff checks
LINT_PATHS := src tests bench scripts

.PHONY: test pytest lint lint-fix typecheck mypy-baseline demo bench setup

setup:
	bash scripts/setup_env.sh

# The README's test command: lint, types (against the baseline), then the tests and doctests.
test: lint typecheck pytest

pytest: setup
	$(PY) -m pytest -q -p no:cacheprovider tests

lint: setup
	$(VENV)/bin/ruff check $(LINT_PATHS)

# Re-applies ruff's automatic fixes (import order, unused noqa), e.g. after a merge.
lint-fix: setup
	$(VENV)/bin/ruff check --fix $(LINT_PATHS)

typecheck: setup
	$(PY) scripts/check_mypy.py

# Rewrites scripts/mypy_baseline.txt with today's counts (after fixing errors, or for new modules).
mypy-baseline: setup
	$(PY) scripts/check_mypy.py --update

demo: setup
	$(PY) -m tkeras.demo

bench: setup
	$(PY) bench/run_all.py
