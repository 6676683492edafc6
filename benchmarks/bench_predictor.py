"""The light predictor of ``skxrd predict`` against the pipeline, on a set of
measured patterns: the same answers, and the time of each.

``skxrd predict`` runs the shipped models through
:class:`skxrd.pretrained._runtime.Predictor`, which reads the model file with
numpy and runs the ResNets in numpy; ``load_pretrained`` gives the fitted
pipeline, on torch. For each shipped model this prints the largest difference
of a probability between the two, how many top-1 answers differ, and the
seconds each takes for the whole set in one call (a batch: where torch's
kernels are faster; ``bench_predict.py`` times one file per call). The set is
the 456 measured RRUFF minerals of ``../shared/data/measured`` (only compared
here, never trained on), else 200 simulated patterns; ``--n N`` takes the
first N of them. The whole set takes about nine minutes on 2 vCPUs (most of it
the indexing of the shipped models' stackers); ``--quick`` (the first 10, the
three models) checks the same in under a minute.

Usage::

    python benchmarks/bench_predictor.py [--models space-group ...] [--n N]
    python benchmarks/bench_predictor.py --quick
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from importlib import resources
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RRUFF = ROOT.parent / "shared/data/measured/rruff-minerals/rruff-minerals.npz"


#: the patterns of ``--quick``: the first 10
QUICK_N = 10


def patterns():
    """The measured set (or a simulated one) as Patterns, and its name."""
    from skxrd.io import Pattern

    if RRUFF.is_file():
        sys.path.insert(0, str(ROOT / "tools"))
        from measured_training import rruff_patterns  # as the model cards read it

        return rruff_patterns(RRUFF)[0], "RRUFF minerals"
    from skxrd.datasets import make_random_crystals
    from skxrd.simulation import PowderSimulator

    sim = PowderSimulator(two_theta_range=(5, 90), two_theta_step=0.02)
    X = sim.transform(make_random_crystals(200, random_state=0))
    out = [Pattern(sim.two_theta, x, wavelength="CuKa") for x in X]
    return out, "simulated"


def main(argv=None):
    from skxrd.pretrained import _weights_file, load_pretrained
    from skxrd.pretrained._runtime import load_predictor

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--models",
        nargs="+",
        default=["crystal-system", "space-group", "structure-type"],
    )
    parser.add_argument(
        "--n", type=int, default=None, help="the first N patterns (default: all)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"the first {QUICK_N} patterns (with --n: the smaller of the two)",
    )
    args = parser.parse_args(argv)
    if args.n is not None and args.n < 1:
        parser.error(f"--n must be a positive number of patterns, got {args.n}")
    n = min(x for x in (args.n, QUICK_N if args.quick else None, 10**9) if x)
    data, name = patterns()
    data = data[:n]
    print(f"{len(data)} {name} patterns")
    print("| model | largest probability difference | top-1 answers that differ "
          "| predictor (numpy), s | pipeline (torch), s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|")
    rows = {}
    warnings.simplefilter("ignore", UserWarning)  # range notes, alike in both
    for m in args.models:
        with resources.as_file(_weights_file(m)) as file:
            light = load_predictor(file, device="cpu")
        full = load_pretrained(m, device="cpu")
        start = time.perf_counter()
        a = light.predict_proba(data)
        t_light = time.perf_counter() - start
        start = time.perf_counter()
        b = full.predict_proba(data)
        t_full = time.perf_counter() - start
        diff = float(np.abs(a - b).max())
        n_diff = int(np.sum(a.argmax(1) != b.argmax(1)))
        rows[m] = (diff, n_diff, t_light, t_full)
        print(f"| {m} | {diff:.1e} | {n_diff} | {t_light:.1f} | {t_full:.1f} |")
    return rows


if __name__ == "__main__":
    main()
