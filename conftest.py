"""Test-session settings shared by the doctests in skxrd/ and the tests in tests/."""

import builtins
import os

import matplotlib
import pytest

# pytest -n 2 on 2 cores: torch's default thread pool in each worker makes small
# networks 10-50x slower; set before torch is first imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# On CPUs with AMX (and some with AVX-512), oneDNN picks convolution kernels by
# batch size, so a network's probabilities for a pattern differ in the 7th digit
# between a batch and a subset of it; scikit-learn's
# check_methods_subset_invariance allows less. Capping oneDNN at AVX2 (before
# torch is imported) gives the same kernels on every x86-64 CPU.
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")

matplotlib.use("Agg")

# Importing the __main__ module runs the CLI.
collect_ignore = ["skxrd/__main__.py"]


_PRINT = builtins.print


@pytest.fixture(autouse=True)
def _print_stays_builtin():
    """Fail the test that leaves ``builtins.print`` replaced (Ray's driver does
    for its progress bars), not the later ones in the same worker whose skorch
    nets then no longer pickle."""
    yield
    if builtins.print is not _PRINT:
        replaced, builtins.print = builtins.print, _PRINT
        pytest.fail(f"builtins.print was left replaced by {replaced!r}")
