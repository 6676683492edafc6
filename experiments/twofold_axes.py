"""How many more measured cells do the twofold-axis monoclinic candidates find?

:func:`skxrd.indexing.index_powder` takes monoclinic candidates from four of
the first lines given small indices and, with ``twofold_axes`` (the default),
also from the triclinic zone search's cells that have a twofold axis (Le
Page). This indexes the peak lists (:func:`skxrd.indexing.peak_positions`) of
the RRUFF monoclinic, triclinic and orthorhombic minerals on the monoclinic
lattices (mP, mC) with and without them, and prints per crystal system the
share with a monoclinic cell at M > 20, the median merit, the time per pattern
and how many merits rose or fell. The 456 RRUFF patterns are only looked at;
nothing is fitted to them.

Usage::

    python experiments/twofold_axes.py [--first-lines 4] [--n-jobs 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
SYSTEMS = ("monoclinic", "triclinic", "orthorhombic")


def one(tt, x, first_lines):
    """(best monoclinic merit, seconds) without and with the twofold axes."""
    from skxrd.indexing import index_powder, peak_positions

    pos = peak_positions(tt, x, radiation="CuKa")
    out = []
    for twofold in (False, True):
        start = time.perf_counter()
        found = index_powder(
            pos,
            wavelength="CuKa",
            lattices=("mP", "mC"),
            first_lines=first_lines,
            twofold_axes=twofold,
        )
        merit = max([0.0] + [s.figure_of_merit for s in found.values() if s])
        out += [merit, time.perf_counter() - start]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first-lines", type=int, default=4)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)

    from measured_training import rruff_patterns

    from skxrd.crystal import to_crystal_system
    from skxrd.utils._parallel import parallel_map

    patterns, sg = rruff_patterns()
    system = np.asarray(to_crystal_system(sg)).astype(str)
    keep = np.flatnonzero(np.isin(system, SYSTEMS))
    stats = np.array(
        parallel_map(
            one,
            [
                (patterns[i].two_theta, patterns[i].intensity, args.first_lines)
                for i in keep
            ],
            n_jobs=args.n_jobs,
            verbose=True,
            desc="patterns",
        ),
        float,
    )
    print(
        "| crystal system | patterns | monoclinic M > 20, without → with | "
        "median M | s per pattern | merits raised / lowered |\n"
        "|---|---:|---:|---:|---:|---:|"
    )
    for s in SYSTEMS:
        st = stats[system[keep] == s]
        print(
            f"| {s} | {len(st)} | {np.mean(st[:, 0] > 20):.3f} → "
            f"{np.mean(st[:, 2] > 20):.3f} ({np.sum(st[:, 0] > 20)} → "
            f"{np.sum(st[:, 2] > 20)}) | {np.median(st[:, 0]):.1f} → "
            f"{np.median(st[:, 2]):.1f} | {np.mean(st[:, 1]):.2f} → "
            f"{np.mean(st[:, 3]):.2f} | {np.sum(st[:, 2] > st[:, 0] + 1e-9)} / "
            f"{np.sum(st[:, 2] < st[:, 0] - 1e-9)} |"
        )


if __name__ == "__main__":
    main()
