"""How well do measured peak positions fit their crystal's cell, against simulated ones?

de Wolff's figure of merit falls as the mean misfit of the lines grows and as
lines go unexplained, so the indexing stackers, fitted on simulated patterns,
read a measured pattern's merits on another scale if its peak positions are
worse. This measures the scale on the cells of known minerals: the RRUFF
orthorhombic and monoclinic patterns with a close AMCSD pattern of their
crystal system (``indexing_gap.reference_cases``: 82 patterns), whose
reference cell is refined on each list of the first 20 peaks
(``indexing_gap.reference_solution``, a zero shift refined with it). For each
source:

- ``measured``: the RRUFF pattern;
- ``simulated, default``: the reference structure through
  ``PowderSimulator(two_theta_range=(5, 90))`` (Cu Kα1 + Kα2, default widths,
  no noise);
- ``simulated, tuning-like``: the same structure with per-pattern
  ``MEASURED_LIKE`` settings (:class:`~skxrd.simulation.InstrumentSampler`,
  seeded), ``sample_augmentation`` (impurity peaks, displacement, texture,
  seeded) and the shipped model's preprocessing, squared back: the patterns
  the indexing stacker is fitted on;
- ``measured, Kα2 stripped``: the RRUFF pattern with the Kα2 half of each
  line removed first (Rachinger's subtraction, intensity ratio 0.5), which
  peak-search programs offer.

The columns: the refined reference cell's merit (median, share above 20),
the misfit ``|Δ2θ|`` of the lines it indexes (median over all lines; the
10th, 50th and 90th percentile of the per-pattern medians), the share of
the 20 lines it leaves unindexed (median, 90th percentile), and the share
of patterns for which the search itself (``first_lines=4``) finds a cell of
the family with M > 20. Then the misfit by 2θ band for the measured and the
tuning-like patterns. The 456 RRUFF patterns are only looked at here.

Usage::

    python experiments/line_positions.py      # about 3 minutes on one core
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
sys.path.insert(0, str(ROOT / "tools"))

KA1, KA2 = 1.540562, 1.544390  # Cu Kα1, Kα2 (Å)


def strip_kalpha2(two_theta, intensity, ratio=0.5):
    """Rachinger's Kα2 subtraction: from low to high angle, each point less
    ``ratio`` times the stripped pattern where its Kα1 line lies (linear
    interpolation; where the doublet's split is under one step the point
    itself is in that sum, solved for)."""
    tt = np.asarray(two_theta, float)
    y = np.asarray(intensity, float)
    y = np.maximum(y - y.min(), 0.0)
    step = float(np.median(np.diff(tt)))
    sin1 = np.clip(KA1 / KA2 * np.sin(np.radians(tt / 2)), -1, 1)
    shift = (tt - 2 * np.degrees(np.arcsin(sin1))) / step  # in steps
    out = np.zeros_like(y)
    for j in range(len(y)):
        k = int(np.floor(shift[j]))
        w = shift[j] - k
        if j - k - 1 < 0:
            out[j] = y[j]
        elif k == 0:
            out[j] = (y[j] - ratio * w * out[j - 1]) / (1 + ratio * (1 - w))
        else:
            out[j] = y[j] - ratio * ((1 - w) * out[j - k] + w * out[j - k - 1])
    return out


def tuning_like(crystals, seed=0):
    """The crystals simulated as the indexing stacker's tuning patterns are:
    ``MEASURED_LIKE`` settings, ``sample_augmentation``, the shipped model's
    preprocessing, squared back to linear intensities; with the grid."""
    import torch

    from skxrd import load_pretrained
    from skxrd.pretrained import load_config
    from skxrd.pretrained._train import _indexing_augmentation, _simulator
    from skxrd.simulation import MEASURED_LIKE, InstrumentSampler

    # the shipped config's simulator and the ship run's own augmentation of
    # the stacker's tuning patterns (add_indexing), so the two stay one
    config = load_config(ROOT / "skxrd/pretrained/configs/space-group.toml")
    sim = _simulator(config)
    sampler = InstrumentSampler(**MEASURED_LIKE)
    settings = sampler.sample(len(crystals), random_state=seed)
    X = sim.transform_varied(crystals, settings).astype(np.float32)
    X = X / np.maximum(X.max(axis=1, keepdims=True), 1e-12)
    aug = _indexing_augmentation(config["indexing"], config)
    X = aug(torch.from_numpy(X), generator=torch.Generator().manual_seed(seed)).numpy()
    prefix = load_pretrained("space-group")[:-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        Xt = prefix.transform(X)
    return prefix.steps[0][1].grid_, np.square(np.maximum(Xt, 0.0))


def fit(two_theta, intensity, case):
    """(reference M, found M, 2θ of the lines, their misfits) of one pattern;
    None with fewer than 8 peaks."""
    from indexing_gap import family_lattices, family_params, reference_solution

    from skxrd.crystal import to_bravais_lattice
    from skxrd.indexing import index_powder, peak_positions

    peaks = peak_positions(two_theta, intensity, radiation="CuKa")[:20]
    params = family_params(case["system"], case["parameters"])
    if len(peaks) < 8 or params is None:
        return None
    centring = str(to_bravais_lattice(case["crystal"].space_group))[1]
    ref = reference_solution(peaks, case["system"], params, centring)
    found = index_powder(peaks, lattices=family_lattices(case["system"]))
    found_m = max([0.0] + [s.figure_of_merit for s in found.values() if s])
    if ref is None:
        return 0.0, found_m, peaks, np.full(len(peaks), np.nan)
    return ref.figure_of_merit, found_m, peaks, ref.two_theta_error


def main():
    from indexing_gap import reference_cases
    from tqdm import tqdm

    from skxrd.simulation import PowderSimulator

    cases = reference_cases()
    default = PowderSimulator(two_theta_range=(5, 90))
    Yd = default.transform([c["crystal"] for c in cases])
    grid, Yt = tuning_like([c["crystal"] for c in cases])
    sources = {
        "measured": [(c["two_theta"], c["intensity"]) for c in cases],
        "simulated, default": [(default.two_theta, y) for y in Yd],
        "simulated, tuning-like": [(grid, y) for y in Yt],
        "measured, Kα2 stripped": [
            (c["two_theta"], strip_kalpha2(c["two_theta"], c["intensity"]))
            for c in cases
        ],
    }
    results = {}
    for name, rows in sources.items():
        out = [fit(tt, y, c) for (tt, y), c in tqdm(list(zip(rows, cases)), desc=name)]
        results[name] = [r for r in out if r is not None]
    print(
        "| source | patterns | reference M (median) | reference M > 20 | "
        "median abs(Δ2θ) of the lines | per-pattern median, 10th / 50th / 90th "
        "percentile | unindexed share, median / 90th percentile | found M > 20 |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    for name, res in results.items():
        m = np.array([r[0] for r in res])
        found = np.array([r[1] for r in res])
        err = [r[3] for r in res if r[0] > 0]
        every = np.abs(np.concatenate(err))
        every = every[np.isfinite(every)]
        per = np.array([np.nanmedian(np.abs(e)) for e in err])
        miss = np.array([np.mean(~np.isfinite(e)) for e in err])
        p10, p50, p90 = np.percentile(per, [10, 50, 90])
        print(
            f"| {name} | {len(res)} | {np.median(m):.1f} | {np.mean(m > 20):.2f} | "
            f"{np.median(every):.4f}° | {p10:.4f} / {p50:.4f} / {p90:.4f}° | "
            f"{np.median(miss):.2f} / {np.percentile(miss, 90):.2f} | "
            f"{np.mean(found > 20):.2f} |"
        )
    bands = [(5, 15), (15, 25), (25, 35), (35, 45), (45, 60), (60, 90)]
    print(
        "\n| 2θ band | measured: lines, mean Δ2θ, median abs(Δ2θ) | "
        "tuning-like: lines, mean Δ2θ, median abs(Δ2θ) |\n|---|---:|---:|"
    )
    for lo, hi in bands:
        cells = []
        for name in ("measured", "simulated, tuning-like"):
            res = [r for r in results[name] if r[0] > 0]
            tt = np.concatenate([r[2] for r in res])
            e = np.concatenate([r[3] for r in res])
            sel = np.isfinite(e) & (tt >= lo) & (tt < hi)
            cells.append(
                f"{sel.sum()}, {e[sel].mean():+.4f}°, {np.median(np.abs(e[sel])):.4f}°"
                if sel.any()
                else "0"
            )
        print(f"| {lo}–{hi}° | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
