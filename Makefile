VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: test demo bench setup

setup:
	bash scripts/setup_env.sh

test: setup
	$(PY) -m pytest -q -p no:cacheprovider tests

demo: setup
	$(PY) -m tkeras.demo

bench: setup
	$(PY) bench/run_all.py
