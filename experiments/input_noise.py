"""Counting noise as the network sees it: measured against simulated inputs.

``sim_to_real.py`` compares raw patterns; the network sees them after the
shipped model's preprocessing (resampling to 0.02°, SNIP background
subtraction, max-normalization and square roots), which amplifies weak
intensities and the noise on them. This script compares the preprocessed
inputs of the 456 measured RRUFF minerals (validation data: only measured,
nothing is fitted to them) with the preprocessed inputs of simulated patterns
of the shipped config's held-out ``[test]`` draw (Materials Project
prototypes), simulated with ``MEASURED_LIKE`` instrument settings whose
``counts`` range (counts at the top of the strongest peak: Poisson noise) is
replaced by each ``--counts`` range given. Per pattern:

- ``noise σ``: the standard deviation of the input minus its 5-point median
  filter, over the half of the points where the 9-point median level is
  lowest (between the peaks, where the noise is most of the signal);
- ``high-frequency share``: the share of the power spectrum of the input
  minus its Gaussian smoothing (σ = 20 points) in the upper half of the
  frequencies (0.5 for white noise; near 0 for peaks without noise);
- ``maxima > 0.2``: local maxima of the input above 0.2 (4 % of the maximum
  before the square root).

Prints their 10th / 25th / 50th / 75th / 90th percentiles::

    .venv/bin/python experiments/input_noise.py --cache /tmp/skxrd_cache \\
        --counts 100,50000 40,5000
"""

from __future__ import annotations

import argparse
import copy
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
CONFIG = ROOT / "skxrd/pretrained/configs/space-group.toml"
QUANTILES = (10, 25, 50, 75, 90)


def input_statistics(X):
    """``noise σ``, ``high-frequency share`` and ``maxima > 0.2`` of each row."""
    from scipy.ndimage import gaussian_filter1d, median_filter

    out = {"noise σ": [], "high-frequency share": [], "maxima > 0.2": []}
    for x in np.asarray(X, float):
        level = median_filter(x, 9, mode="nearest")
        between = level <= np.quantile(level, 0.5)
        residual = x - median_filter(x, 5, mode="nearest")
        out["noise σ"].append(residual[between].std())
        power = np.abs(np.fft.rfft(x - gaussian_filter1d(x, 20))) ** 2
        n = len(power)
        out["high-frequency share"].append(
            power[n // 2 :].sum() / max(power[1:].sum(), 1e-12)
        )
        peaks = (x[1:-1] > x[:-2]) & (x[1:-1] > x[2:]) & (x[1:-1] > 0.2)
        out["maxima > 0.2"].append(int(peaks.sum()))
    return {k: np.asarray(v, float) for k, v in out.items()}


def _counts(text):
    low, high = (float(v) for v in text.split(","))
    if not 0 < low < high:
        raise argparse.ArgumentTypeError(
            f"--counts wants LOW,HIGH with 0 < LOW < HIGH, got {text}"
        )
    return low, high


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="space-group")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--cache", default=None)
    parser.add_argument("--n", type=int, default=456, help="simulated patterns per row")
    parser.add_argument(
        "--counts", type=_counts, nargs="+", default=[(100.0, 5e4), (40.0, 5e3)]
    )
    args = parser.parse_args(argv)
    from measured_training import rruff_patterns

    from skxrd.pretrained import load_config, load_pretrained
    from skxrd.pretrained._train import _dataset
    from skxrd.simulation import MEASURED_LIKE

    pipe = load_pretrained(args.model, device="cpu")
    preprocess = pipe[:-1]
    config = load_config(args.config)
    patterns, _ = rruff_patterns()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rows.append(("measured (RRUFF)", preprocess.transform(patterns)))
        for counts in args.counts:
            test = copy.deepcopy(config)
            test["test"]["instrument"] = dict(MEASURED_LIKE, counts=counts)
            X, _, _ = _dataset(test, "test", args.cache, 2, True)
            X = np.asarray(X, float)[: args.n]
            rows.append(
                (
                    f"simulated, counts {counts[0]:g}–{counts[1]:g}",
                    preprocess[1:].transform(X),
                )
            )
    stats = [(name, input_statistics(X)) for name, X in rows]
    print(f"percentiles {' / '.join(map(str, QUANTILES))}\n")
    print("| inputs | n | " + " | ".join(stats[0][1]) + " |")
    print("|---|---:|" + "---:|" * len(stats[0][1]))
    for (name, X), (_, s) in zip(rows, stats):
        cells = []
        for values in s.values():
            q = np.percentile(values, QUANTILES)
            fmt = "{:.0f}" if values.max() > 5 else "{:.3f}"
            cells.append(" / ".join(fmt.format(v) for v in q))
        print(f"| {name} | {len(X)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
