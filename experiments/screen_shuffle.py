"""The screen's shuffle test: measured patterns against white noise.

``screen_patterns`` refuses an input whose strongest feature stands out of its
noise less than 1.5 times as far as its own values in random order do. This
prints that ratio (the input's signal-to-noise over the median of five fixed
shuffles', as the screen computes them) for the 456 RRUFF patterns, the SSRL
and thin-film scans, and 20 draws of six kinds of white noise, and how many
of each the screen passes::

    .venv/bin/python experiments/screen_shuffle.py     # about 10 seconds
"""

from __future__ import annotations

import glob
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from measured_training import rruff_patterns  # noqa: E402

from skxrd.io import read_pattern  # noqa: E402
from skxrd.preprocessing import screen_patterns  # noqa: E402
from skxrd.preprocessing._screen import (  # noqa: E402
    _quantum,
    _shuffled_signal_to_noise,
    _signal_and_noise,
)

MEASURED = ROOT.parent / "shared/data/measured"
GRID = np.arange(5.0, 90.0, 0.02)
NOISE = {
    "exponential": lambda r: r.exponential(100.0, len(GRID)),
    "lognormal, sigma 1": lambda r: r.lognormal(3.0, 1.0, len(GRID)),
    "lognormal, sigma 2": lambda r: r.lognormal(3.0, 2.0, len(GRID)),
    "Pareto": lambda r: r.pareto(2.0, len(GRID)),
    "Poisson, mean 5": lambda r: r.poisson(5.0, len(GRID)).astype(float),
    "Gaussian": lambda r: r.normal(100.0, 10.0, len(GRID)),
}


def ratio(y):
    y = np.asarray(y, float)
    quantum = _quantum(y)
    _, _, noise, height = _signal_and_noise(y, quantum)
    shuffled = _shuffled_signal_to_noise(y, quantum)
    return (height / noise) / shuffled if noise > 0 and shuffled > 0 else np.inf


def row(name, values, passed, n):
    v = np.asarray(values)
    print(
        f"| {name} | {n} | {v.min():.2f} | {np.median(v):.2f} | {v.max():.2f} | "
        f"{passed} |"
    )


def main():
    print("| inputs | n | ratio min | median | max | passed by the screen |")
    print("|---|---:|---:|---:|---:|---:|")
    rruff, _ = rruff_patterns()
    passed = sum(r is None for r in screen_patterns(rruff, model_range=(5.0, 90.0)))
    row("RRUFF", [ratio(p.intensity) for p in rruff], passed, len(rruff))
    files = sorted(glob.glob(str(MEASURED / "synchrotron-ssrl/XYdata/*.xy")))
    files += sorted(glob.glob(str(MEASURED / "thinfilms-oviedo2019/Experimental/*/*")))
    other = [read_pattern(f, wavelength="CuKa") for f in files]
    # the three 0.65° partial film scans are refused as too short, not here
    full = [p for p in other if np.ptp(p.two_theta_at("CuKa")) >= 10.0]
    passed = sum(r is None for r in screen_patterns(full))
    row("SSRL and thin films", [ratio(p.intensity) for p in full], passed, len(full))
    for name, draw in NOISE.items():
        X = [draw(np.random.default_rng(seed)) for seed in range(20)]
        passed = sum(r is None for r in screen_patterns(X, two_theta=GRID))
        row(name, [ratio(x) for x in X], passed, len(X))


if __name__ == "__main__":
    main()
