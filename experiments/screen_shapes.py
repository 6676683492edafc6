"""The screen's tests for chirps and drifting curves, on measured, simulated
and made-up inputs.

``screen_patterns`` refuses an input whose ten strongest peaks are all within
a quarter of the strongest's height (a chirp, a comb), and one whose narrow
features are a small part of its range and spread over the scan rather than
in peaks (a random walk). This prints, per set of inputs, the figures the
screen computes and how many inputs the screen passes:

- the ten-peak ratio: the prominence of the tenth strongest peak over the
  strongest's (refused from 0.75);
- the peak share: the highest feature narrower than 2° over the pattern's
  range, and the concentration: the share of those features' positive part
  held by the strongest 5 % of points (refused when both are low: share
  under 0.3 and concentration under 0.45).

Inputs: the 456 RRUFF patterns, the SSRL and thin-film scans of at least 10°,
400 Materials Project and 400 AMCSD structures simulated with measured-like
settings, 20 random walks each of Gaussian and Poisson steps, chirps
``sin(r (2θ - 5)²)`` of four rates and three phases, and chirps whose height
varies by ±30 %::

    .venv/bin/python experiments/screen_shapes.py     # about 2 minutes
"""

from __future__ import annotations

import glob
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from measured_training import rruff_patterns  # noqa: E402

from skxrd.datasets import make_pattern_dataset  # noqa: E402
from skxrd.io import read_pattern  # noqa: E402
from skxrd.preprocessing import screen_patterns  # noqa: E402
from skxrd.preprocessing._screen import (  # noqa: E402
    _drift,
    _equal_height,
    _peaks,
    _quantum,
    _signal_and_noise,
)
from skxrd.simulation import PowderSimulator  # noqa: E402

MEASURED = ROOT.parent / "shared/data/measured"
SIM = PowderSimulator(two_theta_range=(5.0, 90.0), two_theta_step=0.02)
GRID = SIM.two_theta


def figures(x, y):
    """(ten-peak ratio, peak share, concentration) as the screen computes them."""
    y = np.asarray(y, float)
    smooth, _, _, height = _signal_and_noise(y, _quantum(y))
    _, prom, _, _ = _peaks(smooth, height)
    share, top = _drift(smooth, np.asarray(x, float)) or (np.nan, np.nan)
    return _equal_height(prom), share, top


def row(name, items):
    """One table row: figures over ``items`` of (2θ, intensities)."""
    f = np.array([figures(x, y) for x, y in items])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        passed = sum(screen_patterns([y], two_theta=x)[0] is None for x, y in items)
    low = f[:, 1] < 0.3
    print(
        f"| {name} | {len(items)} | {np.max(f[:, 0]):.2f} | "
        f"{np.min(f[:, 1]):.2f} | {np.min(f[:, 2]):.2f} | "
        f"{np.min(f[low, 2]) if low.any() else float('nan'):.2f} | "
        f"{np.max(f[:, 1]):.2f} | {np.max(f[:, 2]):.2f} | {passed} |"
    )


def main():
    print(
        "| inputs | n | ten-peak ratio, max | peak share, min | concentration, "
        "min | concentration where share < 0.3, min | peak share, max | "
        "concentration, max | passed by the screen |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rruff, _ = rruff_patterns()
    row("RRUFF", [(p.two_theta_at("CuKa"), p.intensity) for p in rruff])
    files = sorted(glob.glob(str(MEASURED / "synchrotron-ssrl/XYdata/*.xy")))
    files += sorted(glob.glob(str(MEASURED / "thinfilms-oviedo2019/Experimental/*/*")))
    other = [read_pattern(f, wavelength="CuKa") for f in files]
    other = [
        (p.two_theta_at("CuKa"), p.intensity)
        for p in other
        if np.ptp(p.two_theta_at("CuKa")) >= 10.0
    ]
    row("SSRL and thin films (scans of 10° or more)", other)
    for source in ("materials_project", "amcsd"):
        data = make_pattern_dataset(
            400,
            source=source,
            n_variants=1,
            random_state=1,
            verbose=False,
            simulator=SIM,
            n_jobs=1,
            instrument="measured_like",
        )
        row(f"simulated, {source}, measured-like", [(GRID, y) for y in data.X])
    for kind in ("Gaussian", "Poisson"):
        walks = []
        for seed in range(20):
            rng = np.random.default_rng(seed)
            steps = (
                rng.normal(0.0, 1.0, GRID.size)
                if kind == "Gaussian"
                else rng.poisson(5.0, GRID.size) - 5.0
            )
            walk = np.cumsum(steps)
            walks.append((GRID, walk - walk.min() + 10.0))
        row(f"random walks, {kind} steps", walks)
    for rate in (0.01, 0.03, 0.1, 0.3):
        rng = np.random.default_rng(0)
        chirps = [
            (
                GRID,
                100.0
                + 50.0 * np.sin(rate * (GRID - 5.0) ** 2 + phase)
                + rng.normal(0.0, 2.0, GRID.size),
            )
            for phase in (0.0, 1.0, 2.0)
        ]
        row(f"chirps, rate {rate}", chirps)
    varied = [
        (
            GRID,
            100.0
            + 50.0
            * np.sin(rate * (GRID - 5.0) ** 2)
            * (1.0 + 0.3 * np.sin(GRID / 7.0)),
        )
        for rate in (0.03, 0.1)
    ]
    row("chirps, height ±30 %", varied)


if __name__ == "__main__":
    main()
