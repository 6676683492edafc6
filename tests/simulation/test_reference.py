"""The powder simulator against independent references.

* pymatgen's ``XRDCalculator`` and ``NDCalculator`` (a test-only dependency),
* xrayutilities' ``PowderDiffraction`` line list,
* systematic absences derived from the reflection conditions of International
  Tables A, checked against a brute-force enumeration of the powder lines.

Conventions are aligned before comparing: the same single wavelength (no Kα2),
the same 2θ range, intensities scaled to a maximum of 100. pymatgen drops lines
weaker than 1e-3 (of 100) and bins lines on a 1e-5° grid, while skxrd merges
reflections whose 1/d agree to 1e-6 (~1e-4°); so every reference line is matched
to the nearest skxrd line and the reference intensities are summed per skxrd line
before correlating.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from skxrd.crystal import Crystal
from skxrd.simulation import PowderSimulator
from skxrd.simulation._scattering import neutron_scattering_length

pytestmark = pytest.mark.filterwarnings("ignore:.*OLD_ERROR_HANDLING")

WAVELENGTH = 1.54056  # Cu Kα1 as pymatgen has it (skxrd's "CuKa1" is 1.540562)
XRD_RANGE = (5.0, 90.0)
NEUTRON_WAVELENGTH = 1.54
NEUTRON_RANGE = (5.0, 120.0)
POSITION_TOL = 0.005  # degrees 2θ
MIN_CORRELATION = 0.999
STRONG = 0.5  # skxrd lines above this (of 100) need a reference partner
# pymatgen's X-ray form factors are its own fit f(s) = Z - 41.78214 s² Σ a_i
# exp(-b_i s²); skxrd uses the International Tables 4-Gaussian coefficients.
# The tables differ by up to a few % of the strongest line (2.4 measured on
# rand4 of the random set, a 20.3° line of La beside Li, C and N; 1.1 before the
# set dropped its crystals with atoms on one spot), so this bound is loose;
# against xrayutilities (same tables) the agreement is ~1e-5.
PYMATGEN_MAX_ABS_DIFF = 3.0
N_RANDOM = 24


# ----------------------------------------------------------------------- helpers
def compare_lines(peaks, ref_two_theta, ref_intensity):
    """Match reference lines to skxrd lines; return the agreement statistics.

    Returns a dict with ``max_dtt`` (largest |Δ2θ| of a reference line to its
    nearest skxrd line), ``unmatched_strong`` (2θ of skxrd lines stronger than
    ``STRONG`` without a reference line within ``POSITION_TOL``), ``corr`` (Pearson
    correlation of the relative intensities, the reference summed per nearest
    skxrd line, 0 where none), ``max_abs_diff`` (largest intensity difference,
    of 100) and ``nearest`` (the skxrd index of each reference line).
    """
    tt, rel = np.asarray(peaks.two_theta), np.asarray(peaks.relative_intensity)
    ref_tt = np.asarray(ref_two_theta, dtype=float)
    ref_i = np.asarray(ref_intensity, dtype=float)
    assert len(tt) > 0 and len(ref_tt) > 0
    assert np.all(np.diff(tt) >= 0) and np.all(np.diff(ref_tt) >= 0)
    j = np.searchsorted(tt, ref_tt).clip(1, max(len(tt) - 1, 1))
    if len(tt) == 1:
        j = np.zeros(len(ref_tt), dtype=int)
    else:
        j = np.where(np.abs(tt[j - 1] - ref_tt) <= np.abs(tt[j] - ref_tt), j - 1, j)
    dtt = np.abs(tt[j] - ref_tt)
    k = np.searchsorted(ref_tt, tt).clip(0, len(ref_tt) - 1)
    back = np.minimum(np.abs(ref_tt[k] - tt), np.abs(ref_tt[(k - 1).clip(0)] - tt))
    summed = np.bincount(j, weights=ref_i, minlength=len(tt))
    corr = np.corrcoef(rel, summed)[0, 1] if len(tt) > 1 else 1.0
    return dict(
        max_dtt=float(dtt.max()),
        unmatched_strong=tt[(back > POSITION_TOL) & (rel > STRONG)].tolist(),
        corr=float(corr),
        max_abs_diff=float(np.abs(rel - summed).max()),
        nearest=j,
    )


def assert_agrees(stats, max_abs_diff=None):
    assert stats["max_dtt"] < POSITION_TOL, stats["max_dtt"]
    assert stats["unmatched_strong"] == [], stats["unmatched_strong"]
    assert stats["corr"] >= MIN_CORRELATION, stats["corr"]
    if max_abs_diff is not None:
        assert stats["max_abs_diff"] < max_abs_diff, stats["max_abs_diff"]


@cache
def random_set():
    root = Path(__file__).resolve().parents[2] / "benchmarks"
    sys.path.insert(0, str(root))
    try:
        from _crystals import random_crystals
    finally:
        sys.path.remove(str(root))
    return tuple(random_crystals(N_RANDOM, mean_atoms=20, seed=1))


def xray_sim(**kwargs):
    return PowderSimulator(radiation=WAVELENGTH, two_theta_range=XRD_RANGE, **kwargs)


def neutron_sim():
    return PowderSimulator(
        radiation="neutron",
        wavelength=NEUTRON_WAVELENGTH,
        two_theta_range=NEUTRON_RANGE,
    )


# ---------------------------------------------------------------------- pymatgen
@cache
def pymatgen_structures():
    """Reference structures built with pymatgen's own space-group expansion.

    Treat as read-only: the dict is shared between the tests.
    """
    core = pytest.importorskip("pymatgen.core")
    Lattice, Structure = core.Lattice, core.Structure
    sg = Structure.from_spacegroup
    return {
        "Si": sg("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]]),
        "NaCl": sg(
            "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
        ),
        "corundum": sg(
            "R-3c",
            Lattice.hexagonal(4.759, 12.99),
            ["Al", "O"],
            [[0, 0, 0.352], [0.306, 0, 0.25]],
        ),
        "LiCoO2": sg(
            "R-3m",
            Lattice.hexagonal(2.816, 14.05),
            ["Li", "Co", "O"],
            [[0, 0, 0.5], [0, 0, 0], [0, 0, 0.2396]],
        ),
        "SrTiO3": sg(
            "Pm-3m",
            Lattice.cubic(3.905),
            ["Sr", "Ti", "O"],
            [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0]],
        ),
        # brucite Mg(OH)2: hydrogen has a negative neutron scattering length
        "brucite": sg(
            "P-3m1",
            Lattice.hexagonal(3.142, 4.766),
            ["Mg", "O", "H"],
            [[0, 0, 0], [1 / 3, 2 / 3, 0.2216], [1 / 3, 2 / 3, 0.4303]],
        ),
        # substitutional disorder and a vacancy: occupancies < 1
        "(Na,K)Cl0.9": sg(
            "Fm-3m",
            Lattice.cubic(5.9),
            [{"Na": 0.5, "K": 0.5}, {"Cl": 0.9}],
            [[0, 0, 0], [0.5, 0.5, 0.5]],
        ),
    }


def pymatgen_xrd(structure, **kwargs):
    xrd = pytest.importorskip("pymatgen.analysis.diffraction.xrd")
    calc = xrd.XRDCalculator(wavelength=WAVELENGTH, **kwargs)
    return calc.get_pattern(structure, scaled=True, two_theta_range=XRD_RANGE)


def pymatgen_nd(structure, **kwargs):
    nd = pytest.importorskip("pymatgen.analysis.diffraction.neutron")
    calc = nd.NDCalculator(wavelength=NEUTRON_WAVELENGTH, **kwargs)
    return calc.get_pattern(structure, scaled=True, two_theta_range=NEUTRON_RANGE)


@pytest.mark.parametrize("name", ["Si", "NaCl", "corundum", "LiCoO2", "(Na,K)Cl0.9"])
def test_xrd_matches_pymatgen(name):
    structure = pymatgen_structures()[name]
    crystal = Crystal.from_pymatgen(structure)
    peaks = xray_sim().peaks([crystal])[0]
    pattern = pymatgen_xrd(structure)
    stats = compare_lines(peaks, pattern.x, pattern.y)
    assert_agrees(stats, PYMATGEN_MAX_ABS_DIFF)
    # No accidental coincidences here: the lines correspond one to one, and the
    # multiplicities (reflections per line, Friedel mates included) agree.
    assert len(peaks) == len(pattern.x)
    np.testing.assert_allclose(peaks.d, pattern.d_hkls, rtol=1e-9)
    multiplicity = [sum(f["multiplicity"] for f in fams) for fams in pattern.hkls]
    np.testing.assert_array_equal(peaks.multiplicity, multiplicity)


def test_random_set_is_varied():
    crystals = random_set()
    assert len(crystals) >= 20
    assert len({c.space_group for c in crystals}) >= 15
    assert len({len(set(c.elements)) for c in crystals}) >= 2


@pytest.mark.parametrize("index", range(N_RANDOM))
def test_xrd_random_crystals_match_pymatgen(index):
    pytest.importorskip("pymatgen")
    crystal = random_set()[index]
    peaks = xray_sim().peaks([crystal])[0]
    pattern = pymatgen_xrd(crystal.to_pymatgen())
    assert_agrees(compare_lines(peaks, pattern.x, pattern.y), PYMATGEN_MAX_ABS_DIFF)


def _with_element_b(crystal, b_of):
    return crystal.replace(b_iso=[b_of[el] for el in crystal.elements])


@pytest.mark.parametrize("which", ["corundum", 0, 9, 15])
def test_xrd_debye_waller_matches_pymatgen(which):
    """Per-element B in pymatgen against skxrd's per-atom ``b_iso``."""
    if which == "corundum":
        crystal = Crystal.from_pymatgen(pymatgen_structures()["corundum"])
    else:
        pytest.importorskip("pymatgen")
        crystal = random_set()[which]
    elements = sorted(set(crystal.elements))
    # B from 0.5 to 2 Å²: exp(-2 B s²) reaches ~0.4 at 90° 2θ
    b_of = {
        el: 0.5 + 1.5 * i / max(len(elements) - 1, 1) for i, el in enumerate(elements)
    }
    hot = _with_element_b(crystal, b_of)
    peaks = xray_sim().peaks([hot])[0]
    pattern = pymatgen_xrd(crystal.to_pymatgen(), debye_waller_factors=b_of)
    stats = compare_lines(peaks, pattern.x, pattern.y)
    assert_agrees(stats, PYMATGEN_MAX_ABS_DIFF)
    # the comparison is sensitive to B: the cold crystal matches clearly worse
    cold = compare_lines(xray_sim().peaks([crystal])[0], pattern.x, pattern.y)
    assert 1 - cold["corr"] > 3 * (1 - stats["corr"])


NEUTRON_CASES = ["NaCl", "LiCoO2", "SrTiO3", "brucite"]


@pytest.mark.parametrize("name", NEUTRON_CASES)
def test_neutron_matches_pymatgen(name):
    structure = pymatgen_structures()[name]
    crystal = Crystal.from_pymatgen(structure)
    peaks = neutron_sim().peaks([crystal])[0]
    pattern = pymatgen_nd(structure)
    # Scattering lengths come from different tables (skxrd: periodictable,
    # pymatgen: Neutron Data Booklet); Li differs by 1.6 %, hence the bound.
    assert_agrees(compare_lines(peaks, pattern.x, pattern.y), 2.0)
    np.testing.assert_allclose(peaks.d, pattern.d_hkls, rtol=1e-9)


def test_neutron_debye_waller_matches_pymatgen():
    structure = pymatgen_structures()["SrTiO3"]
    b_of = {"Sr": 0.6, "Ti": 0.4, "O": 1.2}
    crystal = _with_element_b(Crystal.from_pymatgen(structure), b_of)
    peaks = neutron_sim().peaks([crystal])[0]
    pattern = pymatgen_nd(structure, debye_waller_factors=b_of)
    assert_agrees(compare_lines(peaks, pattern.x, pattern.y), 2.0)


@pytest.fixture
def pymatgen_neutron_table():
    nd = pytest.importorskip("pymatgen.analysis.diffraction.neutron")
    return nd.ATOMIC_SCATTERING_LEN


@pytest.mark.parametrize("name", NEUTRON_CASES)
def test_neutron_matches_pymatgen_with_skxrd_lengths(
    name, pymatgen_neutron_table, monkeypatch
):
    """With pymatgen given skxrd's b_c the two calculations agree closely."""
    structure = pymatgen_structures()[name]
    crystal = Crystal.from_pymatgen(structure)
    for el in set(crystal.elements):
        monkeypatch.setitem(pymatgen_neutron_table, el, neutron_scattering_length(el))
    peaks = neutron_sim().peaks([crystal])[0]
    pattern = pymatgen_nd(structure)
    stats = compare_lines(peaks, pattern.x, pattern.y)
    assert_agrees(stats, 1e-3)
    assert stats["corr"] > 1 - 1e-9


def test_neutron_deuterium_matches_pymatgen(pymatgen_neutron_table, monkeypatch):
    """Deuterated brucite: pymatgen reads "D" as hydrogen, so its H entry is set
    to the literature b_c of the deuteron (6.671 fm, Sears 1992)."""
    structure = pymatgen_structures()["brucite"]
    protonated = Crystal.from_pymatgen(structure)
    deuterated = protonated.replace(
        species=["D" if el == "H" else el for el in protonated.species]
    )
    sim = neutron_sim()
    peaks_d, peaks_h = sim.peaks([deuterated, protonated])
    monkeypatch.setitem(pymatgen_neutron_table, "H", 6.671)
    pattern = pymatgen_nd(structure)
    assert_agrees(compare_lines(peaks_d, pattern.x, pattern.y), 0.05)
    # ... and deuterium is not treated as hydrogen
    assert compare_lines(peaks_h, pattern.x, pattern.y)["max_abs_diff"] > 10


# Elements whose tabulated b_c differ by more than rounding, (pymatgen, skxrd):
# pymatgen's table has the Sears (1992) values; periodictable 2.x, which skxrd
# reads, has later ones (Li: Gehlhaar 2025; Ti, Mn: its Rauch 2003 /
# Dawidowski 2013 choices). H, C, O, Si, Cl differ by < 0.003 fm.
KNOWN_B_C_DIFFERENCES = {
    "Li": (-1.90, -1.93),
    "Ti": (-3.438, -3.370),
    "Mn": (-3.73, -3.75),
}


def test_neutron_scattering_lengths_vs_pymatgen_table(pymatgen_neutron_table):
    elements = {
        "H",
        "C",
        "N",
        "O",
        "Na",
        "Mg",
        "Al",
        "Si",
        "S",
        "Cl",
        "Ca",
        "Fe",
        "Co",
        "Ni",
        "Cu",
        "Zn",
        "Sr",
        "Ba",
        "La",
        *KNOWN_B_C_DIFFERENCES,
    }
    for el in sorted(elements):
        ours, theirs = neutron_scattering_length(el), pymatgen_neutron_table[el]
        tol = 0.1 if el in KNOWN_B_C_DIFFERENCES else 0.005
        assert abs(ours - theirs) < tol, (el, ours, theirs)


# ----------------------------------------------------------------- xrayutilities
def xu_line_list(material, wavelength=WAVELENGTH):
    """xrayutilities' powder lines: 2θ, relative and absolute strengths.

    ``PowderDiffraction.data[hkl]["r"]`` is |F|² summed over the reflections of
    the line (so multiplicity included; F with the atoms' B and with f' + i f''
    at the beam energy), times ``(1 + cos²2θ) / 2 / (sin²θ cos θ)`` (Lorentz-
    polarization without a monochromator) divided by V². skxrd's LP is the same,
    so ``skxrd intensity = r V²``; xrayutilities always includes anomalous
    dispersion, hence ``anomalous=True`` on the skxrd side (without it the
    correlation is still >= 0.9998 but intensities differ by up to 2.9 of 100).
    """
    xu = pytest.importorskip("xrayutilities")
    powder = xu.simpack.PowderDiffraction(
        material, tt_cutoff=XRD_RANGE[1], wl=wavelength
    )
    assert np.isclose(powder.wavelength, wavelength, rtol=1e-12)
    rows = sorted((2.0 * d["ang"], d["r"]) for d in powder.data.values())
    tt, r = np.array(rows).T
    keep = (tt >= XRD_RANGE[0]) & (r > 1e-9 * r.max())
    volume = material.lattice.UnitCellVolume()
    return tt[keep], 100.0 * r[keep] / r[keep].max(), r[keep] * volume**2


def xu_named_crystals():
    xu = pytest.importorskip("xrayutilities")
    SGLattice, el = xu.materials.SGLattice, xu.materials.elements

    def xu_crystal(name, *args, **kwargs):
        return xu.materials.Crystal(name, SGLattice(*args, **kwargs))

    corundum_sites = [("Al", "12c", (0, 0, 0.352)), ("O", "18e", (0.306, 0, 0.25))]
    xu_corundum = dict(atoms=[el.Al, el.O], pos=[("12c", (0.352,)), ("18e", (0.306,))])
    return {
        "Si": (
            xu_crystal("Si", 227, 5.431, atoms=[el.Si], pos=["8a"]),
            Crystal.from_wyckoff(227, [("Si", "8a")], a=5.431),
        ),
        "NaCl": (
            xu_crystal("NaCl", 225, 5.64, atoms=[el.Na, el.Cl], pos=["4a", "4b"]),
            Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=5.64),
        ),
        "corundum": (
            xu_crystal("Al2O3", 167, 4.759, 12.99, **xu_corundum),
            Crystal.from_wyckoff(167, corundum_sites, a=4.759, c=12.99),
        ),
        "corundum+B": (
            xu_crystal("Al2O3", 167, 4.759, 12.99, b=[0.4, 0.9], **xu_corundum),
            Crystal.from_wyckoff(
                167,
                [
                    dict(species=s, wyckoff=w, xyz=xyz, b_iso=b)
                    for (s, w, xyz), b in zip(corundum_sites, (0.4, 0.9))
                ],
                a=4.759,
                c=12.99,
            ),
        ),
    }


def _assert_matches_xu(crystal, material):
    tt, rel, absolute = xu_line_list(material)
    peaks = xray_sim(anomalous=True).peaks([crystal])[0]
    stats = compare_lines(peaks, tt, rel)
    assert_agrees(stats, 1e-3)
    assert stats["corr"] > 1 - 1e-9
    return peaks, stats, tt, absolute


@pytest.mark.parametrize("name", ["Si", "NaCl", "corundum", "corundum+B"])
def test_xrd_matches_xrayutilities(name):
    material, crystal = xu_named_crystals()[name]
    peaks, stats, tt, absolute = _assert_matches_xu(crystal, material)
    # one to one, and the same absolute scale: I = |F|² m LP
    assert len(peaks) == len(tt)
    np.testing.assert_allclose(peaks.two_theta, tt, atol=1e-8)
    np.testing.assert_allclose(peaks.intensity, absolute, rtol=1e-4)


@pytest.mark.parametrize("index", range(N_RANDOM))
def test_xrd_random_crystals_match_xrayutilities(index):
    """The random crystals expanded to P1 for xrayutilities."""
    xu = pytest.importorskip("xrayutilities")
    crystal = random_set()[index]
    lattice = xu.materials.SGLattice(
        1,
        *crystal.lattice_parameters,
        atoms=[getattr(xu.materials.elements, el) for el in crystal.elements],
        pos=[("1a", tuple(p)) for p in crystal.frac_coords],
        occ=list(crystal.occupancies),
    )
    _assert_matches_xu(crystal, xu.materials.Crystal(crystal.name, lattice))


# ------------------------------------------------------------ systematic absences
ABSENCE_SIM = dict(radiation="MoKa1", two_theta_range=(5.0, 100.0))


def reference_lines(crystal, sim, allowed):
    """Powder lines by brute force: every hkl in range, grouped by |g| = 1/d.

    A line is present when any of its reflections is allowed by ``allowed``
    (a function of integer h, k, l arrays). Returns the 1/d, multiplicity and
    presence of every line, and the reflections with the line index of each.
    """
    lam = sim.fit().radiation_.wavelength
    lo, hi = (2.0 * np.sin(np.radians(t) / 2.0) / lam for t in sim.two_theta_range)
    lattice = np.asarray(crystal.lattice)
    hmax = np.floor(hi * np.linalg.norm(lattice, axis=1)).astype(int)
    axes = [np.arange(-m, m + 1) for m in hmax]
    hkl = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    g = np.linalg.norm(hkl @ np.linalg.inv(lattice).T, axis=1)
    keep = (g >= lo) & (g <= hi)
    hkl, g = hkl[keep], g[keep]
    order = np.argsort(g, kind="stable")
    hkl, g = hkl[order], g[order]
    new = np.r_[True, np.diff(g) > 1e-7 * g[1:]]
    line = np.cumsum(new) - 1
    ok = allowed(*hkl.T)
    present = np.bincount(line, weights=ok) > 0
    multiplicity = np.bincount(line)
    return g[new], multiplicity, present, hkl, line


def assert_absences(crystal, allowed, **sim_kwargs):
    """skxrd's lines are exactly the present lines of the brute-force list."""
    sim = PowderSimulator(**{**ABSENCE_SIM, **sim_kwargs})
    peaks = sim.peaks([crystal])[0]
    g, mult, present, _, _ = reference_lines(crystal, sim, allowed)
    assert (~present).any() and present.any()
    # distinct lines are well apart: grouping by |g| is unambiguous
    assert np.min(np.diff(g) / g[1:]) > 1e-5
    np.testing.assert_allclose(1.0 / peaks.d, g[present], rtol=1e-9)
    np.testing.assert_array_equal(peaks.multiplicity, mult[present])
    assert allowed(*peaks.hkl.T).all(), peaks.hkl[~allowed(*peaks.hkl.T)]
    return peaks


def has_line(peaks, d):
    return bool(np.any(np.isclose(peaks.d, d, rtol=1e-7)))


def _fcc(h, k, l):
    return (h % 2 == k % 2) & (k % 2 == l % 2)


def _bcc(h, k, l):
    return (h + k + l) % 2 == 0


def _diamond(h, k, l):
    return _fcc(h, k, l) & ((h % 2 == 1) | ((h + k + l) % 4 == 0))


CUBIC_CASES = {
    "fcc Cu": (
        Crystal.from_wyckoff(225, [("Cu", "4a")], a=3.615),
        _fcc,
        [(1, 1, 1), (2, 0, 0), (2, 2, 0)],
        [(1, 0, 0), (1, 1, 0), (2, 1, 0)],
    ),
    "bcc W": (
        Crystal.from_wyckoff(229, [("W", "2a")], a=3.165),
        _bcc,
        [(1, 1, 0), (2, 0, 0), (2, 1, 1)],
        [(1, 0, 0), (1, 1, 1), (2, 1, 0)],
    ),
    "diamond Si": (
        Crystal.from_wyckoff(227, [("Si", "8a")], a=5.431),
        _diamond,
        [(1, 1, 1), (2, 2, 0), (4, 0, 0), (3, 3, 1)],
        [(2, 0, 0), (2, 2, 2), (4, 2, 0), (6, 0, 0)],
    ),
}


@pytest.mark.parametrize("name", list(CUBIC_CASES))
def test_cubic_absences(name):
    crystal, allowed, present, absent = CUBIC_CASES[name]
    peaks = assert_absences(crystal, allowed)
    a = crystal.lattice_parameters[0]
    for hkl in present:
        assert has_line(peaks, a / np.linalg.norm(hkl)), hkl
    for hkl in absent:  # for these h² + k² + l² every reflection is absent
        assert not has_line(peaks, a / np.linalg.norm(hkl)), hkl


def _p21c(h, k, l):
    # P 1 21/c 1 (unique axis b): h0l: l = 2n; 0k0: k = 2n (00l: l = 2n follows)
    return ~((k == 0) & (l % 2 == 1)) & ~((h == 0) & (l == 0) & (k % 2 == 1))


def test_monoclinic_glide_and_screw_absences():
    crystal = Crystal.from_wyckoff(
        14,
        [
            ("Fe", "4e", (0.137, 0.271, 0.414)),
            ("O", "4e", (0.312, 0.083, 0.169)),
            ("S", "4e", (0.771, 0.392, 0.055)),
        ],
        a=5.31,
        b=7.07,
        c=8.93,
        beta=103.7,
    )
    assert crystal.n_atoms == 12 and crystal.get_space_group() == 14
    # Cu Kα1 to 90°: ~300 lines, none closer than 2e-5 in 1/d
    sim_kwargs = dict(radiation="CuKa1", two_theta_range=(5.0, 90.0))
    peaks = assert_absences(crystal, _p21c, **sim_kwargs)
    sim = PowderSimulator(**sim_kwargs)
    g, _, present, hkl, line = reference_lines(crystal, sim, _p21c)
    h, k, l = hkl.T
    screw = (h == 0) & (l == 0) & (k % 2 == 1)
    glide = (k == 0) & (l % 2 == 1)
    # The extinct reflections form lines of their own (no accidental overlap
    # with an allowed reflection), so their d-spacings must be missing.
    for extinct in (screw, glide):
        assert extinct.any()
        lines = np.unique(line[extinct])
        assert not present[lines].any()
        for d in 1.0 / g[lines]:
            assert not has_line(peaks, d), d
    assert not has_line(peaks, 7.07) and has_line(peaks, 7.07 / 2)  # (010), (020)
    for hkl_ in [(1, 0, 1), (-1, 0, 1), (0, 0, 1), (2, 0, 3)]:
        gi = np.linalg.norm(np.array(hkl_) @ np.linalg.inv(crystal.lattice).T)
        assert not has_line(peaks, 1.0 / gi), hkl_
    for hkl_ in [(1, 0, 2), (-1, 0, 2), (0, 0, 2), (1, 1, 1)]:
        gi = np.linalg.norm(np.array(hkl_) @ np.linalg.inv(crystal.lattice).T)
        assert has_line(peaks, 1.0 / gi), hkl_


def _hcp(h, k, l):
    # P6_3/mmc 2c: hh-2hl and 00l need l = 2n (6_3 screw, c glide); the site
    # adds hkl: l = 2n or h - k ≠ 3n
    return ~(((h - k) % 3 == 0) & (l % 2 == 1))


def test_hexagonal_screw_absences():
    crystal = Crystal.from_wyckoff(194, [("Mg", "2c")], a=3.21, c=5.21)
    peaks = assert_absences(crystal, _hcp)
    assert not has_line(peaks, 5.21)  # (0001)
    assert has_line(peaks, 5.21 / 2)  # (0002)
    assert not has_line(peaks, 5.21 / 3)  # (0003)

    def d_hkl(h, k, l):
        return 1 / np.sqrt(4 / 3 * (h * h + h * k + k * k) / 3.21**2 + l * l / 5.21**2)

    assert has_line(peaks, d_hkl(1, 0, 1)) and has_line(peaks, d_hkl(1, 0, 0))
    assert not has_line(peaks, d_hkl(1, 1, 1))  # h - k = 3n, l odd
    assert has_line(peaks, d_hkl(1, 1, 2))
