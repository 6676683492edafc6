"""Powder indexing time per measured pattern, against another checkout of skxrd.

The indexing stacker of the shipped space-group model runs
:func:`skxrd.indexing.index_powder` on every pattern ``skxrd predict`` answers.
This benchmark indexes the peak lists of measured RRUFF mineral patterns
(every ``--step``-th of the 456 with at least 8 peaks) in fresh processes, with
the shipped search (the cubic, tetragonal, hexagonal and orthorhombic lattices,
``first_lines=2``, a zero shift up to 0.1°) and with the widest one (all 13
lattices, ``first_lines=4``). With ``--baseline DIR`` (a checkout of another
version, for example ``git worktree add /tmp/old HEAD~1``) the two versions'
processes alternate, ``--repeats`` times each, and it prints the medians, their
ratio and whether both found the same cells, merits and zero shifts to the
last bit.

Usage::

    python benchmarks/bench_indexing.py [--baseline DIR] [--repeats 3] [--step 8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared/data/measured/rruff-minerals/rruff-minerals.npz"
SETTINGS = {
    "shipped (ctho, first_lines 2)": ("ctho", 2),
    "all 13 lattices, first_lines 4": ("cthom", 4),
}

# run in a fresh process with the checkout under test first on sys.path
_WORKER = r"""
import hashlib, json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from skxrd.indexing import LATTICE_TYPES, index_powder, peak_positions
data = np.load(sys.argv[2])
tt = data["two_theta"]
peaks = [peak_positions(tt, np.maximum(x, 0), radiation="CuKa")
         for x in data["X"][:: int(sys.argv[3])]]
peaks = [p for p in peaks if len(p) >= 8]
out = {"n": len(peaks)}
for name, (families, first_lines) in json.loads(sys.argv[4]).items():
    lattices = [lat for lat in LATTICE_TYPES if lat[0] in families]
    digest = hashlib.sha1()
    start = time.perf_counter()
    for p in peaks:
        found = index_powder(p, wavelength="CuKa", lattices=lattices,
                             first_lines=first_lines, max_zero_shift=0.1)
        for lat in lattices:
            s = found[lat]
            if s is not None:
                digest.update(np.array([s.figure_of_merit, s.zero_shift,
                                        s.a, s.b, s.c, s.beta]).tobytes())
    out[name] = [(time.perf_counter() - start) / len(peaks), digest.hexdigest()]
print(json.dumps(out))
"""


def _run(checkout, step):
    cmd = [
        sys.executable,
        "-c",
        _WORKER,
        str(checkout),
        str(DATA),
        str(step),
        json.dumps(SETTINGS),
    ]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=None, help="another skxrd checkout")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--step", type=int, default=8, help="every step-th pattern")
    args = parser.parse_args(argv)
    if not DATA.is_file():
        sys.exit(f"{DATA} is missing: the RRUFF patterns are in ../shared")
    versions = {"this checkout": ROOT}
    if args.baseline:
        base = Path(args.baseline).resolve()
        if not (base / "skxrd/indexing/_index.py").is_file():
            sys.exit(f"--baseline {base}: not a skxrd checkout")
        versions["baseline"] = base
    runs = {v: [] for v in versions}
    for _ in range(args.repeats):  # alternating, so that drift hits both
        for name, path in versions.items():
            runs[name].append(_run(path, args.step))
    n = runs["this checkout"][0]["n"]
    print(f"{n} RRUFF patterns (every {args.step}th, those with 8 peaks or more);")
    print(f"median of {args.repeats} processes, seconds per pattern\n")
    head = "| search | " + " | ".join(versions) + " |"
    print(head + (" ratio | same solutions |" if args.baseline else ""))
    print("|---|" + "---:|" * (len(versions) + (2 if args.baseline else 0)))
    for setting in SETTINGS:
        times = {v: statistics.median(r[setting][0] for r in runs[v]) for v in runs}
        row = f"| {setting} | " + " | ".join(f"{t:.3f}" for t in times.values())
        if args.baseline:
            same = {r[setting][1] for v in runs for r in runs[v]}
            ratio = times["baseline"] / times["this checkout"]
            row += f" | {ratio:.2f}x | {'yes' if len(same) == 1 else 'NO'}"
        print(row + " |")


if __name__ == "__main__":
    main()
