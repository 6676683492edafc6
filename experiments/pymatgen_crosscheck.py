"""Powder lines of real structures against pymatgen's calculators, line by line.

A broad regression check of the simulation physics (form factors, ions,
Debye–Waller factors, partial occupancy, neutron scattering lengths, the 2θ
limits) on a seeded sample of the bundled Materials Project structures:
``--per-system`` of each crystal system, plus actinides, Pu/Np compounds and
hydrides. Each structure is simulated with ``PowderSimulator.peaks`` and with
pymatgen's ``XRDCalculator`` (Cu Kα1, 5–90°; Mo Kα1, 5–60°, for the cells of at
most 24 atoms) or ``NDCalculator`` (1.54 Å, 5–120°).

Conventions aligned: one wavelength (no Kα2), no anomalous terms, the same
Lorentz-polarization factor (no monochromator), no B unless said. The lines of
both lists within 0.002° 2θ of each other are merged (pymatgen bins at 1e-5°
and can split one line over two bins; skxrd merges equal 1/d), both sides are
scaled to 100 after merging, and lines at or below 1e-3 of 100 (pymatgen drops
them) are left out. Per structure: the largest intensity difference (of 100)
and the largest relative one among lines above 1 of 100.

Two comparisons per case:

- ``raw``: each code with its own data. X-ray form factors differ (pymatgen's
  own fit against the International Tables coefficients skxrd reads; pymatgen
  ignores oxidation states); neutron lengths differ (pymatgen: Sears 1992, real;
  skxrd: periodictable's later evaluations, complex at the wavelength for
  absorbers).
- ``aligned``: the same scattering data on both sides, so only the algorithms
  differ. X-rays: pymatgen's ``get_pattern`` with its one form-factor line
  swapped for skxrd's coefficients (its source edited as text; the script
  stops if that line moved). Neutrons: pymatgen's table set to the real parts
  of skxrd's lengths and skxrd without their imaginary parts (pymatgen doubles
  the Friedel half space, right only for real lengths).

The torch backend's patterns (CPU) are compared with the numpy backend's.

Usage::

    python experiments/pymatgen_crosscheck.py [--per-system 38] [--seed 0]
    # about 40 seconds on one core
"""

from __future__ import annotations

import argparse
import inspect
import textwrap
import time
import warnings

import numpy as np

CU, MO, NEUTRON = 1.54056, 0.70930, 1.54
XRAY_RANGE, MO_RANGE, NEUTRON_RANGE = (5.0, 90.0), (5.0, 60.0), (5.0, 120.0)
MERGE_DEG = 0.002
PYMATGEN_CUTOFF = 1.1e-3  # pymatgen drops lines at or below 1e-3 of 100


def sample(per_system, seed, max_atoms=100):
    """Seeded structures: ``per_system`` of each crystal system, then extras."""
    from skxrd.datasets import load_materials_project

    mp = load_materials_project()
    rng = np.random.default_rng(seed)
    n_atoms = np.array([c.n_atoms for c in mp.crystals])
    ok = n_atoms <= max_atoms
    systems = np.asarray(mp.crystal_system)
    pick = []
    for system in sorted(set(systems)):
        pick += list(rng.choice(np.flatnonzero(ok & (systems == system)), per_system))
    elements = [set(c.elements) for c in mp.crystals]
    actinide = {"Ac", "Th", "Pa", "U", "Np", "Pu"}
    for want, k in (
        (lambda e: bool(e & actinide), 16),
        (lambda e: bool(e & {"Pu", "Np"}), 8),
        (lambda e: "H" in e, 12),
    ):
        cand = [i for i in np.flatnonzero(ok) if want(elements[i]) and i not in pick]
        pick += list(rng.choice(cand, min(k, len(cand)), replace=False))
    return [mp.crystals[i] for i in dict.fromkeys(pick)]


# ------------------------------------------------------------------ matching
def compare(tt_s, i_s, tt_p, i_p):
    """Merge both line lists within MERGE_DEG; the disagreement statistics."""
    tt = np.r_[tt_s, tt_p]
    side = np.r_[np.zeros(len(tt_s), int), np.ones(len(tt_p), int)]
    inten = np.r_[i_s, i_p].astype(float)
    order = np.argsort(tt, kind="stable")
    tt, side, inten = tt[order], side[order], inten[order]
    cluster = np.cumsum(np.r_[True, np.diff(tt) > MERGE_DEG]) - 1
    a = np.bincount(cluster, inten * (side == 0))
    b = np.bincount(cluster, inten * (side == 1))
    pos = np.bincount(cluster, tt * inten) / np.bincount(cluster, inten)
    a, b = 100 * a / a.max(), 100 * b / b.max()
    keep = np.maximum(a, b) > PYMATGEN_CUTOFF
    a, b, pos = a[keep], b[keep], pos[keep]
    strong = np.maximum(a, b) > 1.0
    rel = np.abs(a - b) / np.maximum(a, b)
    worst = int(np.argmax(np.abs(a - b)))
    return dict(
        max_abs=float(np.abs(a - b).max()),
        max_rel=float(rel[strong].max()) if strong.any() else 0.0,
        at=float(pos[worst]),
        one_sided=int((strong & ((a == 0) | (b == 0))).sum()),
    )


def it_xrd_calculator(**kwargs):
    """pymatgen's XRDCalculator with skxrd's form factors (one line swapped)."""
    from pymatgen.analysis.diffraction import xrd

    from skxrd.simulation._scattering import form_factor_coefficients

    src = textwrap.dedent(inspect.getsource(xrd.XRDCalculator.get_pattern))
    line = (
        'fs = grp["z"] - 41.78214 * s2 * np.sum(coeff[:, 0] * '
        "np.exp(-coeff[:, 1] * s2[:, None]), axis=1)"
    )
    if line not in src or '"z": sp.Z,' not in src:
        raise SystemExit("pymatgen's form-factor line moved: update this script")
    src = src.replace(
        line,
        "_c = _ff(grp['symbol']); fs = _c[0] + sum(_c[i] * np.exp(-_c[i + 1] * s2)"
        " for i in (1, 3, 5, 7))",
    ).replace('"z": sp.Z,', '"z": sp.Z, "symbol": sp.symbol,')
    namespace = dict(vars(xrd), _ff=form_factor_coefficients)
    exec(src, namespace)  # noqa: S102 - pymatgen's own source, one line changed
    calc = xrd.XRDCalculator(**kwargs)
    calc.get_pattern = namespace["get_pattern"].__get__(calc)
    return calc


class real_neutron_lengths:
    """skxrd without absorbers' imaginary scattering lengths, within ``with``."""

    def __enter__(self):
        from skxrd.simulation import _peaks

        self.old = _peaks.NEUTRON_IMAG_MIN_FM
        _peaks.NEUTRON_IMAG_MIN_FM = float("inf")
        _peaks._species_terms.cache_clear()

    def __exit__(self, *exc):
        from skxrd.simulation import _peaks

        _peaks.NEUTRON_IMAG_MIN_FM = self.old
        _peaks._species_terms.cache_clear()


def run_case(label, cases, simulator, calculator, two_theta_range):
    """``cases``: (crystal, pymatgen structure) pairs; prints the distribution."""
    rows, skipped = [], set()
    for crystal, structure in cases:
        try:
            pattern = calculator.get_pattern(
                structure, scaled=False, two_theta_range=two_theta_range
            )
        except ValueError as exc:  # pymatgen has no data for an element
            skipped.add(str(exc).rsplit(" ", 1)[-1])
            continue
        try:
            peaks = simulator.peaks([crystal])[0]
        except ValueError as exc:  # nor skxrd (Ac has no neutron length)
            skipped.add(str(exc).rsplit(" ", 1)[-1])
            continue
        row = compare(peaks.two_theta, peaks.intensity, pattern.x, pattern.y)
        rows.append(dict(row, name=crystal.name, formula=crystal.formula))
    q = [50, 90, 99, 100]
    abs_ = np.percentile([r["max_abs"] for r in rows], q)
    rel = np.percentile([r["max_rel"] for r in rows], q)
    one_sided = sum(r["one_sided"] > 0 for r in rows)
    print(
        f"{label:38s} {len(rows):4d} | max|ΔI| p50/90/99/max "
        + " ".join(f"{v:.2g}" for v in abs_)
        + " | max rel (>1 %) "
        + " ".join(f"{v:.2g}" for v in rel)
        + f" | one-sided lines: {one_sided}"
        + (f" | no data for {sorted(skipped)}" if skipped else "")
    )
    for r in sorted(rows, key=lambda r: -r["max_rel"])[:3]:
        print(
            f"{'':6s}{r['name']:12s} {r['formula']:18s} max|ΔI| {r['max_abs']:.3g}"
            f" at {r['at']:.2f}°, max rel {r['max_rel']:.3g}"
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-system", type=int, default=38)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")  # ion stand-ins, pymatgen's own
    from pymatgen.analysis.diffraction import neutron, xrd

    from skxrd import PowderSimulator
    from skxrd.simulation import neutron_scattering_length

    t0 = time.perf_counter()
    crystals = sample(args.per_system, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    plain = [(c, c.to_pymatgen()) for c in crystals]
    print(f"{len(crystals)} structures (seed {args.seed})")
    cu = PowderSimulator(radiation=CU, two_theta_range=XRAY_RANGE)
    cu_pmg = xrd.XRDCalculator(wavelength=CU)
    run_case("Cu Kα1 raw", plain, cu, cu_pmg, XRAY_RANGE)
    run_case("Cu Kα1 aligned", plain, cu, it_xrd_calculator(wavelength=CU), XRAY_RANGE)

    small = [(c, s) for c, s in plain if c.n_atoms <= 24][:80]
    mo = PowderSimulator(radiation=MO, two_theta_range=MO_RANGE)
    run_case("Mo Kα1 raw", small, mo, xrd.XRDCalculator(wavelength=MO), MO_RANGE)
    run_case("Mo Kα1 aligned", small, mo, it_xrd_calculator(wavelength=MO), MO_RANGE)

    # per-element B (pymatgen's unit) on 40 cells of at most 40 atoms
    hot = []
    for i in rng.choice(len(crystals), 60, replace=False):
        c = crystals[i]
        if c.n_atoms <= 40 and len(hot) < 40:
            b_of = {e: float(rng.uniform(0.3, 2.0)) for e in sorted(set(c.elements))}
            hot.append((c.replace(b_iso=[b_of[e] for e in c.elements]), b_of))
    rows = []
    for c, b_of in hot:
        calc = it_xrd_calculator(wavelength=CU, debye_waller_factors=b_of)
        pattern = calc.get_pattern(
            c.to_pymatgen(), scaled=False, two_theta_range=XRAY_RANGE
        )
        peaks = cu.peaks([c])[0]
        rows.append(compare(peaks.two_theta, peaks.intensity, pattern.x, pattern.y))
    print(
        f"{'Cu Kα1 aligned, B per element':38s} {len(rows):4d} | max|ΔI| max "
        f"{max(r['max_abs'] for r in rows):.2g} | max rel (>1 %) max "
        f"{max(r['max_rel'] for r in rows):.2g}"
    )

    # partial occupancy: one element's sites mixed with another or vacant
    from skxrd import Crystal

    partners = ["Na", "K", "Mg", "Fe", "Sr", "La", "Se", "Br", "Ga", "Zr"]
    mixed = []
    for i in rng.choice(len(crystals), 30, replace=False):
        structure = crystals[i].to_pymatgen()
        elements = sorted(set(crystals[i].elements))
        el = elements[rng.integers(len(elements))]
        other = partners[rng.integers(len(partners))]
        x, vacancy = float(rng.uniform(0.2, 0.8)), bool(rng.integers(2))
        for j, site in enumerate(structure):
            if site.specie.symbol == el:
                species = {el: x} if vacancy or other == el else {el: x, other: 1 - x}
                structure.replace(j, species)
        mixed.append((Crystal.from_pymatgen(structure), structure))
    calc = it_xrd_calculator(wavelength=CU)
    run_case("Cu Kα1 aligned, partial occupancy", mixed, cu, calc, XRAY_RANGE)

    nd = PowderSimulator(
        radiation="neutron", wavelength=NEUTRON, two_theta_range=NEUTRON_RANGE
    )
    nd_pmg = neutron.NDCalculator(wavelength=NEUTRON)
    run_case("neutron raw", plain, nd, nd_pmg, NEUTRON_RANGE)
    table = neutron.ATOMIC_SCATTERING_LEN
    saved = dict(table)
    for c, _ in plain + mixed:
        for el in set(c.elements):
            try:
                table[el] = neutron_scattering_length(el, NEUTRON).real
            except ValueError:  # both codes skip it
                pass
    with real_neutron_lengths():
        run_case("neutron aligned", plain, nd, nd_pmg, NEUTRON_RANGE)
        run_case("neutron aligned, partial occupancy", mixed, nd, nd_pmg, NEUTRON_RANGE)
    table.clear()
    table.update(saved)

    for label, kwargs in (
        ("Cu Kα1 + Kα2", dict(radiation="CuKa")),
        ("neutron", dict(radiation="neutron", wavelength=NEUTRON)),
    ):
        some = [c for c in crystals if "Ac" not in c.elements]  # no neutron length
        a = PowderSimulator(**kwargs).transform(some)
        b = PowderSimulator(backend="torch", device="cpu", **kwargs).transform(some)
        d = np.abs(a - b).max(axis=1)
        print(
            f"torch (CPU) vs numpy, {label}: max |Δ| per pattern (of 1) p50 "
            f"{np.median(d):.1g}, max {d.max():.1g} ({some[int(d.argmax())].name})"
        )
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
