"""Powder simulation speed: skxrd against pymatgen's XRDCalculator + broadening.

Both simulate the same fixed set of random crystals (``_crystals.py``: mean ~35
atoms, all 230 space groups) on 2θ 5–90° in 0.02° steps with Cu Kα1. The peer's
stick pattern is broadened with the same Gaussian FWHM (Caglioti U, V, W) by a
vectorized dense sum, as published pattern-classification codes do. Timings are
medians of several repeats, the peer and skxrd's one-core run alternating so that
drift of a shared machine affects both; the ratio is what to compare across
machines. Run it with ``OMP_NUM_THREADS=1`` for one core each.

Usage::

    python benchmarks/bench_simulation.py [--n 200] [--repeats 3] [--torch]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _crystals import random_crystals  # noqa: E402

from skxrd import PowderSimulator  # noqa: E402

UVW = (0.01, -0.003, 0.005)
# the shared fixed set of 100 small pyxtal crystals (mean 11 atoms), when present
SMALL = (
    os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
    + "/benchmarks/small-random-crystals-100.json"
)


def small_crystals(path=SMALL):
    """The 100 small crystals of the shared benchmark set, or None."""
    import json

    from skxrd.crystal import Crystal

    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    return [Crystal(r["lattice"], r["species"], r["frac"]) for r in raw]


def pymatgen_patterns(structures, grid):
    from pymatgen.analysis.diffraction.xrd import XRDCalculator

    calc = XRDCalculator(wavelength=1.5405929)  # skxrd's Cu Kα1
    out = np.empty((len(structures), len(grid)), dtype=np.float32)
    for i, s in enumerate(structures):
        p = calc.get_pattern(s, two_theta_range=(5, 90))
        x, y = np.asarray(p.x), np.asarray(p.y)
        theta = np.radians(x / 2)
        fwhm = np.sqrt(UVW[0] * np.tan(theta) ** 2 + UVW[1] * np.tan(theta) + UVW[2])
        sigma = fwhm / 2.3548200450309493
        dense = np.exp(-0.5 * ((grid[None, :] - x[:, None]) / sigma[:, None]) ** 2)
        pattern = (y / sigma) @ dense
        out[i] = pattern / pattern.max()
    return out


def timed(func, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def paired(peer, ours, repeats):
    """Peer and skxrd timed alternately, repeat by repeat, so that a machine
    that speeds up or slows down during the run affects both alike: the
    median times and the median of the per-repeat ratios (peer / ours)."""
    t_peer, t_ours, ratios = [], [], []
    for _ in range(repeats):
        a, _ = timed(peer, 1)
        b, _ = timed(ours, 1)
        t_peer.append(a)
        t_ours.append(b)
        ratios.append(a / b)
    return (
        statistics.median(t_peer),
        statistics.median(t_ours),
        statistics.median(ratios),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="number of crystals")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--torch",
        action="store_true",
        help="also time the torch backend (on CUDA when available)",
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")

    crystals = random_crystals(args.n)
    structures = [c.to_pymatgen() for c in crystals]
    print(
        f"{len(crystals)} crystals, mean {np.mean([len(c) for c in crystals]):.1f} "
        f"atoms; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores"
    )

    same = dict(radiation="CuKa1", profile="gaussian", caglioti_uvw=UVW)
    sim = PowderSimulator(**same)
    grid = sim.two_theta
    sim.transform(crystals[:5])  # warm caches (form-factor tables)

    ref = pymatgen_patterns(structures, grid)
    ours = sim.transform(crystals)
    t_peer, t, ratio = paired(
        lambda: pymatgen_patterns(structures, grid),
        lambda: sim.transform(crystals),
        args.repeats,
    )
    rate_peer = len(crystals) / t_peer
    rows = [("pymatgen XRDCalculator + Gaussian broadening", rate_peer)]
    rows.append(("skxrd numpy, same physics, 1 core", len(crystals) / t))
    paired_ratio = {"main": ratio}
    corr = np.mean([np.corrcoef(a, b)[0, 1] for a, b in zip(ours, ref)])
    t, _ = timed(
        lambda: PowderSimulator(**same, n_jobs=-1).transform(crystals), args.repeats
    )
    rows.append(
        (
            f"skxrd numpy, same physics, n_jobs=-1 ({os.cpu_count()} cores)",
            len(crystals) / t,
        )
    )
    t, _ = timed(lambda: PowderSimulator().transform(crystals), args.repeats)
    rows.append(
        ("skxrd numpy, defaults (Kα doublet, pseudo-Voigt), 1 core", len(crystals) / t)
    )
    small = small_crystals()
    if small is not None:
        # the fixed per-pattern cost dominates small cells: their own rows
        small_structures = [c.to_pymatgen() for c in small]
        sim.transform(small[:5])
        t_small_peer, t, paired_ratio["small"] = paired(
            lambda: pymatgen_patterns(small_structures, grid),
            lambda: sim.transform(small),
            args.repeats,
        )
        rate_small_peer = len(small) / t_small_peer
        small_rows = [
            ("pymatgen XRDCalculator + Gaussian broadening", rate_small_peer),
            ("skxrd numpy, same physics, 1 core", len(small) / t),
        ]
    if args.torch:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        tsim = PowderSimulator(**same, backend="torch", device=device, batch_size=1024)
        big = (
            crystals * max(1, 20000 // len(crystals))
            if device == "cuda"
            else (crystals)
        )
        tsim.transform(big[:2048])
        t, _ = timed(lambda: tsim.transform(big), args.repeats)
        name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
        rows.append((f"skxrd torch on {name}", len(big) / t))

    print(f"mean pattern correlation skxrd vs peer: {corr:.5f}")
    print(f"{'simulator':68s} {'patterns/s':>11s} {'vs peer':>8s}")
    for name, rate in rows:
        print(f"{name:68s} {rate:11.1f} {rate / rate_peer:7.1f}x")
    print(
        f"{'  median of the paired per-repeat ratios, 1 core':68s} {'':11s} "
        f"{paired_ratio['main']:7.1f}x"
    )
    if small is not None:
        mean = np.mean([len(c) for c in small])
        print(f"small crystals: the shared set of {len(small)}, mean {mean:.1f} atoms")
        for name, rate in small_rows:
            print(f"{name:68s} {rate:11.1f} {rate / rate_small_peer:7.1f}x")
        print(
            f"{'  median of the paired per-repeat ratios, 1 core':68s} {'':11s} "
            f"{paired_ratio['small']:7.1f}x"
        )


if __name__ == "__main__":
    main()
