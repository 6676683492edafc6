"""Why do measured low-symmetry patterns index less often than simulated ones?

The stacker's indexing study found a monoclinic cell (M > 20) for 32 % of the
RRUFF monoclinic minerals against 58 % of the simulated monoclinic tuning
patterns, and an orthorhombic one for 51 % against 63 %. This asks where the
measured patterns are lost: in the peak list (lines the true cell does not
explain), in the figure of merit (the true cell explains the lines but scores
low), or in the search (the true cell scores high and is not found).

The true cell comes from the reference database, not from the labels: each
RRUFF pattern's nearest AMCSD pattern under the shipped search-match (cosine
similarity at least ``--min-similarity``, by default the gate's threshold
above which the shipped model answers with the match, and of the same crystal
system as the label) gives a cell; the entries are other samples of the
mineral, so their cells differ from the measured sample's by a little, which
the refinement (with a zero shift, from the reference cell at the loose
tolerance) takes up.
For each such orthorhombic or monoclinic pattern, with the 20 first peaks of
:func:`skxrd.indexing.peak_positions`:

- ``explained``: the share of the peaks within 0.05° of a line of the
  reference lattice (any hkl), at the best zero shift and isotropic scale of
  the cell (a grid: ±0.15°, ±1 %);
- ``true M``: de Wolff's merit of the reference cell refined on the peaks, on
  its family's lattices (``index_powder`` with its candidates replaced by the
  reference cell);
- ``found M``: the merit the search finds (the best of the family);

and the same for the reference entry's own simulated pattern (Cu Kα, the
package's default instrument), where the lines are exact. The 456 RRUFF
patterns are only looked at here; nothing is fitted to them.

Usage::

    python experiments/indexing_gap.py [--min-similarity S] [--n-jobs 2] \
        [--first-lines 4] [--drop-kbeta] [--out F.npz]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

LAM = 1.540562  # Cu Kα1


def lattice_two_theta(params, hmax=12):
    """2θ (Cu Kα1) of every lattice line of a cell ``(a, b, c, α, β, γ)``."""
    from skxrd.crystal import lattice_from_parameters

    lat = np.asarray(lattice_from_parameters(*params), float)
    rec = np.linalg.inv(lat).T  # rows: reciprocal vectors (no 2π)
    r = np.arange(-hmax, hmax + 1)
    hkl = np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)
    hkl = hkl[np.any(hkl != 0, axis=1)]
    d_inv = np.linalg.norm(hkl @ rec, axis=1)
    s = LAM * d_inv / 2
    return np.unique(np.round(2 * np.degrees(np.arcsin(s[s < 1])), 4))


def explained(peaks, lines, tol=0.05):
    """Best share of ``peaks`` within ``tol`` of ``lines`` over a grid of zero
    shifts and isotropic cell scales."""
    best = 0.0
    sin_lines = np.sin(np.radians(lines / 2))
    for scale in np.linspace(0.99, 1.01, 41):
        scaled = 2 * np.degrees(np.arcsin(np.clip(sin_lines / scale, 0, 1)))
        for shift in np.arange(-0.15, 0.1501, 0.01):
            j = np.searchsorted(scaled, peaks - shift)
            lo = np.abs(peaks - shift - scaled[np.clip(j - 1, 0, len(scaled) - 1)])
            hi = np.abs(peaks - shift - scaled[np.clip(j, 0, len(scaled) - 1)])
            best = max(best, float(np.mean(np.minimum(lo, hi) <= tol)))
    return best


def family_params(system, params):
    """The reference cell as :func:`index_powder`'s parameters of its family
    (orthorhombic ``(A, B, C)`` sorted; monoclinic ``(A, B, C, D)``, b unique),
    or None where the setting does not fit (a monoclinic cell not b unique)."""
    a, b, c, al, be, ga = params
    if system == "orthorhombic":
        return np.sort(1 / np.array([a, b, c]) ** 2)
    if not (abs(al - 90) < 1e-3 and abs(ga - 90) < 1e-3):
        return None
    s = np.sin(np.radians(be)) ** 2
    cos = np.cos(np.radians(be))
    return np.array(
        [1 / (a * a * s), 1 / (b * b), 1 / (c * c * s), abs(2 * cos / (a * c * s))]
    )


def family_lattices(system):
    """The lattice types :func:`index_powder` searches for ``system``."""
    from skxrd.indexing import _index as ix

    fam = "o" if system == "orthorhombic" else "m"
    return tuple(t for t in ix.LATTICE_TYPES if t[0] == fam)


def reference_solution(peaks, system, true_p, centring):
    """The best solution of the family's lattices with the reference cell as
    the only candidate (scaled by ±1 %: the sample's cell is not the
    entry's), refined on ``peaks``; None where it indexes too few lines."""
    from skxrd.indexing import _index as ix

    cand = true_p[None] * np.linspace(0.98, 1.02, 41)[:, None]  # Q ∝ 1 / d²
    saved = ix._candidates_ortho, ix._candidates_mono
    try:
        ix._candidates_ortho = lambda q, loose_q, max_miss, first: cand
        ix._candidates_mono = lambda q, loose_q, max_miss, cen, first: (
            cand if cen == centring else np.empty((0, 4))
        )
        found = ix.index_powder(peaks, lattices=family_lattices(system))
    finally:
        ix._candidates_ortho, ix._candidates_mono = saved
    found = [s for s in found.values() if s]
    return max(found, key=lambda s: s.figure_of_merit) if found else None


def merits(peaks, system, true_p, centring, first_lines=4):
    """(true M, found M): the family's best merit with the reference cell as
    the only candidate (:func:`reference_solution`), and with the search's
    own candidates."""
    from skxrd.indexing import _index as ix

    found = ix.index_powder(
        peaks, lattices=family_lattices(system), first_lines=first_lines
    )
    found_m = max([0.0] + [s.figure_of_merit for s in found.values() if s])
    true = reference_solution(peaks, system, true_p, centring)
    return (0.0 if true is None else true.figure_of_merit), found_m


def one(tt, x, crystal, params, system, first_lines=4, drop_kbeta=False):
    """The statistics of one RRUFF pattern and its reference entry."""
    from skxrd.crystal import to_bravais_lattice
    from skxrd.indexing import peak_positions
    from skxrd.simulation import PowderSimulator

    out = []
    sim = PowderSimulator(two_theta_range=(5, 90))
    y = sim.transform([crystal])[0]
    lines = lattice_two_theta(params)
    p = family_params(system, params)
    centring = str(to_bravais_lattice(crystal.space_group))[1]
    for grid, pattern in ((tt, x), (sim.two_theta, y)):
        peaks = peak_positions(grid, pattern, radiation="CuKa", drop_kbeta=drop_kbeta)
        peaks = peaks[:20]
        if len(peaks) < 8 or p is None:
            out += [np.nan, np.nan, np.nan]
            continue
        out += [
            explained(peaks, lines),
            *merits(peaks, system, p, centring, first_lines),
        ]
    return out


def reference_cases(min_similarity=None, systems=("orthorhombic", "monoclinic")):
    """The RRUFF patterns whose nearest AMCSD pattern under the shipped
    search-match is at least ``min_similarity`` similar (by default the
    gate's threshold) and of the label's crystal system, one of ``systems``
    (by default orthorhombic or monoclinic, the families
    :func:`reference_solution` refines; None: every system):
    dicts of the RRUFF ``index``, its ``two_theta`` and ``intensity``, the
    reference ``crystal``, its conventional ``parameters`` and ``system``.
    Prints how many patterns each condition keeps."""
    from measured_training import rruff_patterns

    from skxrd import load_pretrained
    from skxrd.crystal import to_crystal_system
    from skxrd.datasets import load_amcsd
    from skxrd.estimators._match import search_match_of

    patterns, sg = rruff_patterns()
    system = np.asarray(to_crystal_system(sg)).astype(str)
    model = load_pretrained("space-group")
    hybrid = search_match_of(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = model[:-1].transform(patterns)
        amcsd = load_amcsd()
    similarity, index = hybrid.kneighbors(rows, n_neighbors=1)
    if min_similarity is None:
        min_similarity = hybrid.threshold_
    names = hybrid.reference_names_[index[:, 0]]
    where = {i: k for k, i in enumerate(amcsd.ids)}
    cases = []
    counts = dict.fromkeys(("close", "same system", "kept"), 0)
    for i, (sim, name) in enumerate(zip(similarity[:, 0], names)):
        ident = name[name.rfind("(") + 1 : -1]
        k = where.get(ident)
        if k is None or sim < min_similarity:
            continue
        counts["close"] += 1
        ref_system = str(to_crystal_system(int(amcsd.space_group[k])))
        if ref_system != system[i]:
            continue
        counts["same system"] += 1
        if systems is not None and ref_system not in systems:
            continue
        counts["kept"] += 1
        cases.append(
            {
                "index": i,
                "two_theta": patterns[i].two_theta,
                "intensity": patterns[i].intensity,
                "crystal": amcsd.crystals[k],
                "parameters": amcsd.conventional_parameters[k],
                "system": ref_system,
            }
        )
    print(
        f"threshold {min_similarity:.3f}; nearest AMCSD similarity: quartiles "
        f"{np.round(np.percentile(similarity[:, 0], [25, 50, 75]), 3).tolist()}; "
        f"patterns with a close one: {counts['close']}, of the label's crystal "
        f"system: {counts['same system']}, "
        f"{'any system' if systems is None else ' or '.join(systems)}: "
        f"{counts['kept']}; e.g. {names[:3].tolist()}"
    )
    return cases


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--min-similarity",
        type=float,
        default=None,
        help="default: the shipped search-match's gate threshold",
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument(
        "--first-lines",
        type=int,
        default=4,
        help="index_powder's first_lines (2: the search the stackers were fitted on)",
    )
    parser.add_argument(
        "--drop-kbeta",
        action="store_true",
        help="drop the Kβ copies of strong peaks from the peak lists",
    )
    parser.add_argument(
        "--out", default=None, help="an .npz file for the per-pattern statistics"
    )
    args = parser.parse_args(argv)

    from skxrd.utils._parallel import parallel_map

    refs = reference_cases(args.min_similarity)
    cases = [
        (
            r["two_theta"],
            r["intensity"],
            r["crystal"],
            r["parameters"],
            r["system"],
            args.first_lines,
            args.drop_kbeta,
        )
        for r in refs
    ]
    kept = [r["index"] for r in refs]
    stats = np.array(
        parallel_map(one, cases, n_jobs=args.n_jobs, verbose=True, desc="patterns"),
        float,
    )
    kept_system = np.array([r["system"] for r in refs])
    print(
        "| crystal system | patterns | source | explained (median) | true M > 20 | "
        "found M > 20 | true M > 20, found M <= 20 |\n"
        "|---|---:|---|---:|---:|---:|---:|"
    )
    for s in ("orthorhombic", "monoclinic"):
        for src, cols in (("measured", slice(0, 3)), ("simulated", slice(3, 6))):
            st = stats[kept_system == s][:, cols]
            st = st[~np.isnan(st).any(axis=1)]
            if not len(st):
                continue
            print(
                f"| {s} | {len(st)} | {src} | {np.median(st[:, 0]):.2f} | "
                f"{np.mean(st[:, 1] > 20):.2f} | {np.mean(st[:, 2] > 20):.2f} | "
                f"{np.mean((st[:, 1] > 20) & (st[:, 2] <= 20)):.2f} |"
            )
    if args.out:
        np.savez(args.out, stats=stats, kept=kept, system=kept_system)


if __name__ == "__main__":
    main()
