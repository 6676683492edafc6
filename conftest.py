"""Test-session settings shared by the doctests in skxrd/ and the tests in tests/."""

import os

import matplotlib

# pytest -n 2 on 2 cores: torch's default thread pool in each worker makes small
# networks 10-50x slower; set before torch is first imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")

matplotlib.use("Agg")

# Importing the __main__ module runs the CLI.
collect_ignore = ["skxrd/__main__.py"]
