"""Do realistic random crystals look like real ones? Distributions compared.

A :class:`~skxrd.datasets.CrystalPrior` is fitted on the bundled Materials
Project structures (prototypes of at most 200 atoms in the conventional cell,
99.3 % of them) and samples ``--n`` crystals; the uniform generator
(:func:`~skxrd.datasets.make_random_crystals`, its defaults) samples as many.
Both are compared with the real structures on crystal-system shares, atoms per
conventional cell, packing fraction (covalent-sphere volume over cell volume),
lattice-parameter ratios and element frequencies: total variation distance
(TV, 0 = same distribution, 1 = disjoint) for the shares and elements, the
Kolmogorov-Smirnov statistic (KS) for the continuous quantities, and medians.
Writes the figure ``docs/images/prior_vs_real.png``.

    .venv/bin/python experiments/prior_distributions.py --n 3000
"""

from __future__ import annotations

import argparse
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _features(crystals, conventional=None, n_conventional=None):
    from skxrd.crystal import to_crystal_system
    from skxrd.datasets._prior import _packing

    if conventional is None:
        conventional = np.array([c.lattice_parameters for c in crystals])
        n_conventional = np.array([c.n_atoms for c in crystals])
    a, b, c = np.sort(conventional[:, :3], axis=1).T  # shape, whatever the axes
    elements = Counter(e for cr in crystals for e in set(cr.elements))
    return {
        "system": np.asarray(to_crystal_system([cr.space_group for cr in crystals])),
        "atoms": np.asarray(n_conventional, dtype=float),
        "packing": np.array([_packing(cr) for cr in crystals]),
        "b/a": b / a,
        "c/a": c / a,
        "elements": elements,
        "n": len(crystals),
    }


def _tv(p: dict, q: dict) -> float:
    keys = set(p) | set(q)
    sp, sq = sum(p.values()), sum(q.values())
    return 0.5 * sum(abs(p.get(k, 0) / sp - q.get(k, 0) / sq) for k in keys)


def main():
    from scipy.stats import ks_2samp

    from skxrd.crystal import CRYSTAL_SYSTEMS
    from skxrd.datasets import (
        CrystalPrior,
        load_materials_project,
        make_random_crystals,
    )

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument(
        "--plot", type=Path, default=ROOT / "docs/images/prior_vs_real.png"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    mp = load_materials_project()
    keep = np.flatnonzero(mp.n_conventional <= 200)
    real = _features(
        [mp.crystals[i] for i in keep],
        mp.conventional_parameters[keep],
        mp.n_conventional[keep],
    )
    prior = CrystalPrior(max_atoms=200, n_jobs=args.n_jobs).fit(mp)
    sets = {
        "real (Materials Project)": real,
        "CrystalPrior": _features(prior.sample(args.n, random_state=0)),
        "uniform (make_random_crystals)": _features(
            make_random_crystals(args.n, random_state=0, n_jobs=args.n_jobs)
        ),
    }

    def shares(f):
        return {s: float(np.mean(f["system"] == s)) for s in CRYSTAL_SYSTEMS}

    print("| quantity | real | CrystalPrior | uniform |\n|---|---:|---:|---:|")
    rows = [(s, [shares(f)[s] for f in sets.values()]) for s in CRYSTAL_SYSTEMS]
    for s, v in rows:
        print(f"| {s} share | " + " | ".join(f"{x:.3f}" for x in v) + " |")
    gen = list(sets.values())[1:]
    tv_sys = [_tv(Counter(real["system"]), Counter(f["system"])) for f in gen]
    print(
        "| crystal systems: TV to real | 0 | "
        + " | ".join(f"{x:.3f}" for x in tv_sys)
        + " |"
    )
    for key in ("atoms", "packing", "b/a", "c/a"):
        med = [np.median(f[key]) for f in sets.values()]
        ks = [ks_2samp(real[key], f[key]).statistic for f in gen]
        print(
            f"| {key}: median | " + " | ".join(f"{x:.3g}" for x in med) + " |\n"
            f"| {key}: KS to real | 0 | " + " | ".join(f"{x:.3f}" for x in ks) + " |"
        )
    tv_el = [_tv(real["elements"], f["elements"]) for f in gen]
    print(
        "| elements: TV to real | 0 | " + " | ".join(f"{x:.3f}" for x in tv_el) + " |"
    )
    top = [e for e, _ in real["elements"].most_common(10)]
    print(
        "| most common elements (share of crystals) | "
        + " | ".join(
            ", ".join(f"{e} {f['elements'][e] / f['n']:.2f}" for e in top[:5])
            for f in sets.values()
        )
        + " |"
    )
    _plot(sets, CRYSTAL_SYSTEMS, args.plot)
    print(f"\nfigure: {args.plot}")


def _plot(sets, systems, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = ["0.3", "tab:blue", "tab:orange"]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7), layout="constrained")
    ax = axes[0, 0]
    width = 0.27
    x = np.arange(len(systems))
    for k, (name, f) in enumerate(sets.items()):
        ax.bar(
            x + (k - 1) * width,
            [np.mean(f["system"] == s) for s in systems],
            width,
            color=colors[k],
            label=name,
        )
    ax.set_xticks(x, [s[:5] for s in systems])
    ax.set_ylabel("share")
    ax.set_title("crystal systems")
    ax.legend(fontsize=8)
    panels = [
        (
            "atoms",
            "atoms per conventional cell",
            np.logspace(0, np.log10(300), 30),
            True,
        ),
        (
            "packing",
            "packing fraction (covalent spheres)",
            np.linspace(0, 1.5, 31),
            False,
        ),
        ("b/a", "b / a (sorted axes)", np.linspace(1, 4, 31), False),
        ("c/a", "c / a (sorted axes)", np.linspace(1, 8, 36), False),
    ]
    for ax, (key, title, bins, log) in zip(axes.flat[1:5], panels):
        for k, (name, f) in enumerate(sets.items()):
            ax.hist(
                np.clip(f[key], bins[0], bins[-1]),
                bins=bins,
                density=True,
                histtype="step" if k else "stepfilled",
                color=colors[k],
                alpha=1.0 if k else 0.35,
                lw=1.5,
                label=name,
            )
        if log:
            ax.set_xscale("log")
        ax.set_title(title)
    ax = axes[1, 2]
    real = list(sets.values())[0]
    top = [e for e, _ in real["elements"].most_common(20)]
    x = np.arange(len(top))
    for k, f in enumerate(sets.values()):
        ax.bar(
            x + (k - 1) * width,
            [f["elements"][e] / f["n"] for e in top],
            width,
            color=colors[k],
        )
    ax.set_xticks(x, top, fontsize=7)
    ax.set_title("share of crystals containing the element")
    fig.suptitle("Realistic random crystals (CrystalPrior) vs real structures")
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
