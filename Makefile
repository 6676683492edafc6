# `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.skxrd-installed

.PHONY: install demo test lint bench gpu-check docs clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[torch,test]"
	# an editable install is not byte-compiled (a regular one is): without
	# this, every `skxrd` command compiles the package first (~1.5 s)
	$(PY) -m compileall -q skxrd > /dev/null
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m skxrd demo --output demo_output

# The linter first (seconds), then the suite: CI runs exactly this.
test: lint
	$(PY) -m pytest -n 2 --timeout 600 skxrd tests

LINTED := skxrd tests benchmarks experiments examples tools docs/conf.py conftest.py
lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

bench: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[bench]"
	$(PY) benchmarks/bench_simulation.py
	$(PY) benchmarks/bench_generation.py
	$(PY) benchmarks/bench_training.py

# On a CUDA machine: the CUDA tests, torch simulator and training throughput
# (fp32, bf16 + compile) in one report, in under 8 minutes on one H100/H200.
GPU_REPORT ?= gpu_report.md
gpu-check: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[bench]"
	$(PY) tools/gpu_check.py --out $(GPU_REPORT)

# The documentation site, with the gallery examples run, into docs/_build/html;
# warnings are errors. No network access needed. SPHINXOPTS="-j 2" etc. to add.
SPHINXOPTS ?=
docs: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[docs]"
	rm -f docs/generated/*.rst  # autosummary pages of names that may have gone
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) -m sphinx -b html -W --keep-going $(SPHINXOPTS) docs docs/_build/html

clean:
	rm -rf $(VENV) demo_output build *.egg-info
	rm -rf docs/_build docs/auto_examples docs/generated docs/sg_execution_times.rst
