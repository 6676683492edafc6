# `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.skxrd-installed

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[torch,test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m skxrd demo --output demo_output

test: $(STAMP)
	$(PY) -m pytest -n 2 --timeout 600 skxrd tests

lint: $(STAMP)
	$(VENV)/bin/ruff check skxrd tests benchmarks

bench: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[bench]"
	$(PY) benchmarks/bench_simulation.py
	$(PY) benchmarks/bench_generation.py
	$(PY) benchmarks/bench_training.py

clean:
	rm -rf $(VENV) demo_output build *.egg-info
