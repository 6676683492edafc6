"""Do triclinic cells tell triclinic minerals from monoclinic ones?

36–38 of the 48 triclinic RRUFF minerals are answered monoclinic by every
indexing stacker so far, and nothing indexed triclinic cells.
``index_powder(lattices=("aP",))`` now does (zones of the first lines, as in
Ito's method). This study asks whether its merit is evidence on measured
patterns: per RRUFF pattern of the three lowest crystal systems, the first
20 peaks of :func:`skxrd.indexing.peak_positions`, indexed on the monoclinic
and orthorhombic lattices (``first_lines=4``) and on ``aP``:

- the best triclinic merit, the best monoclinic and orthorhombic ones;
- the lattice twofold axes of the triclinic cell (Le Page: a direct lattice
  vector ``u`` and a reciprocal one ``h`` with ``|u·h|`` 1 or 2 at most
  ``--obliquity`` degrees apart): none for a triclinic lattice, one for a
  monoclinic one, three or more for higher symmetry. A triclinic cell found
  for a monoclinic crystal should carry its twofold axis.

It prints, per crystal system, the shares of patterns with a triclinic cell of
M > 20, with a triclinic merit some multiple above the monoclinic one, and the
counts of the rule "triclinic M above a bound, no twofold axis". The 456 RRUFF
patterns are only looked at: nothing is fitted to them.

Usage::

    python experiments/triclinic_indexing.py [--n-jobs 2] [--obliquity 1.0] \
        [--out F.npz]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RRUFF = ROOT.parent / "shared/data/measured/rruff-minerals/rruff-minerals.npz"
SYSTEMS = ("triclinic", "monoclinic", "orthorhombic")
_R = np.arange(-2, 3)
_U = np.array([(a, b, c) for a in _R for b in _R for c in _R if (a, b, c) > (0, 0, 0)])


def twofold_axes(sol, obliquity):
    """Le Page's count of lattice twofold axes of a solution's cell."""
    al, be, ga = np.radians([sol.alpha, sol.beta, sol.gamma])
    a, b, c = sol.a, sol.b, sol.c
    direct = np.array(
        [
            [a * a, a * b * np.cos(ga), a * c * np.cos(be)],
            [a * b * np.cos(ga), b * b, b * c * np.cos(al)],
            [a * c * np.cos(be), b * c * np.cos(al), c * c],
        ]
    )
    recip = np.linalg.inv(direct)
    uu = np.einsum("ij,jk,ik->i", _U, direct, _U)
    hh = np.einsum("ij,jk,ik->i", _U, recip, _U)
    dot = np.abs(_U @ _U.T)
    ang = np.degrees(np.arccos(np.clip(dot / np.sqrt(np.outer(uu, hh)), 0, 1)))
    axes = {
        tuple(_U[i] // np.gcd.reduce(_U[i]))
        for i in np.flatnonzero((((dot == 1) | (dot == 2)) & (ang < obliquity)).any(1))
    }
    return len(axes)


def one(x, two_theta, obliquity):
    from skxrd.indexing import index_powder, peak_positions

    pos = peak_positions(two_theta, x, radiation="CuKa")
    found = index_powder(
        pos, wavelength="CuKa", lattices=("oP", "oC", "oI", "oF", "mP", "mC", "aP")
    )

    def best(family):
        return max(
            [s.figure_of_merit for t, s in found.items() if s and t[0] == family]
            or [0.0]
        )

    tric = found.get("aP")
    axes = twofold_axes(tric, obliquity) if tric is not None else -1
    return best("a"), best("m"), best("o"), axes, len(pos)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--obliquity", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    from joblib import Parallel, delayed

    with np.load(RRUFF) as f:
        X, tt, cs = f["X"], f["two_theta"], f["crystal_system"]
    keep = np.flatnonzero(np.isin(cs, SYSTEMS))
    t0 = time.perf_counter()
    rows = np.array(
        Parallel(n_jobs=args.n_jobs)(
            delayed(one)(X[i], tt, args.obliquity) for i in keep
        )
    )
    seconds = (time.perf_counter() - t0) * args.n_jobs / len(keep)
    if args.out:
        np.savez(args.out, index=keep, rows=rows, crystal_system=cs[keep])
    tric, mono, axes = rows[:, 0], rows[:, 1], rows[:, 3]
    cs = cs[keep]
    print(f"{len(keep)} patterns, {seconds:.2f} CPU-s each (seven lattices)")
    print(
        "| crystal system | n | aP M (median) | mono M (median) | aP M > 20 |"
        " aP M > 1.5 × mono | aP M > 2.7 × mono |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for s in SYSTEMS:
        k = cs == s
        ratio = tric[k] / np.maximum(mono[k], 1.0)
        print(
            f"| {s} | {k.sum()} | {np.median(tric[k]):.1f} | {np.median(mono[k]):.1f} "
            f"| {(tric[k] > 20).mean():.2f} | {(ratio > 1.5).mean():.2f} "
            f"| {(ratio > 2.7).mean():.2f} |"
        )
    try:
        from sklearn.metrics import roc_auc_score

        k = np.isin(cs, SYSTEMS[:2])
        ratio = np.log(np.maximum(tric, 1.0)) - np.log(np.maximum(mono, 1.0))
        print(
            f"triclinic against monoclinic, ROC AUC: log(aP M / mono M) "
            f"{roc_auc_score(cs[k] == 'triclinic', ratio[k]):.3f}, aP M "
            f"{roc_auc_score(cs[k] == 'triclinic', tric[k]):.3f}, -mono M "
            f"{roc_auc_score(cs[k] == 'triclinic', -mono[k]):.3f}"
        )
    except ImportError:  # pragma: no cover
        pass
    print(f"twofold axes of the triclinic cell (obliquity < {args.obliquity}°):")
    print(
        "| crystal system | aP M > bound | patterns | no axis | one | three or more |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for bound in (20, 30):
        for s in SYSTEMS:
            k = (cs == s) & (tric > bound)
            n = np.bincount(axes[k].astype(int).clip(0, 3), minlength=4)
            print(f"| {s} | {bound} | {k.sum()} | {n[0]} | {n[1]} | {n[3]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
