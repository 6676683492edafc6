"""Peak finding and indexing on the lattices of the six crystal families."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from skxrd.datasets import load_example_crystal
from skxrd.indexing import (
    ALL_LATTICE_TYPES,
    LATTICE_TYPES,
    IndexingSolution,
    index_powder,
    lattice_merits,
    peak_positions,
    space_group_merits,
)
from skxrd.simulation import PowderSimulator
from skxrd.utils._radiation import get_radiation

LAM = 1.540562


def lines(hkl, metric):
    """2θ (Cu Kα1) of reflections ``hkl`` for a reciprocal metric function."""
    q = np.array([metric(*r) for r in hkl], dtype=float)
    q = q[LAM * np.sqrt(q) / 2 < 1]  # reflections within reach
    return np.sort(2 * np.degrees(np.arcsin(LAM * np.sqrt(q) / 2)))


def gaussians(tt, positions, width=0.05, heights=None):
    heights = np.ones(len(positions)) if heights is None else heights
    return sum(
        h * np.exp(-0.5 * ((tt - p) / width) ** 2) for p, h in zip(positions, heights)
    )


FCC = [
    (1, 1, 1),
    (2, 0, 0),
    (2, 2, 0),
    (3, 1, 1),
    (2, 2, 2),
    (4, 0, 0),
    (3, 3, 1),
    (4, 2, 0),
    (4, 2, 2),
    (5, 1, 1),
]


def rock_salt(a=5.64):
    return lines(FCC, lambda h, k, l: (h * h + k * k + l * l) / a**2)


def tetragonal(a=4.594, c=2.959):
    hkl = {(h, k, l) for h in range(4) for k in range(h + 1) for l in range(4)} - {
        (0, 0, 0)
    }
    pos = lines(sorted(hkl), lambda h, k, l: (h * h + k * k) / a**2 + l * l / c**2)
    return np.unique(np.round(pos, 6))[:20]


def hexagonal(a=3.25, c=5.207):
    hkl = {(h, k, l) for h in range(4) for k in range(h + 1) for l in range(5)} - {
        (0, 0, 0)
    }
    metric = lambda h, k, l: 4 * (h * h + h * k + k * k) / (3 * a**2) + l * l / c**2  # noqa: E731
    return np.unique(np.round(lines(sorted(hkl), metric), 6))[:20]


def orthorhombic(a, b, c, allowed=lambda h, k, l: True, n=20):
    r = range(6)
    hkl = [(h, k, l) for h in r for k in r for l in r if h + k + l and allowed(h, k, l)]
    metric = lambda h, k, l: h * h / a**2 + k * k / b**2 + l * l / c**2  # noqa: E731
    return np.unique(np.round(lines(hkl, metric), 6))[:n]


# peak_positions -------------------------------------------------------------


def test_peak_positions_finds_gaussian_lines_to_a_hundredth_of_a_degree():
    tt = np.arange(10, 80, 0.02)
    true = np.array([21.37, 30.2, 44.93, 61.0])
    found = peak_positions(tt, gaussians(tt, true), radiation="CuKa1")
    np.testing.assert_allclose(found, true, atol=0.01)


def test_peak_positions_drops_kalpha2_ghosts_of_a_doublet():
    tt = np.arange(20, 120, 0.01)
    ka1 = np.array([40.0, 70.0, 110.0])
    ratio = 1.544390 / LAM
    ka2 = 2 * np.degrees(np.arcsin(np.sin(np.radians(ka1 / 2)) * ratio))
    y = gaussians(tt, ka1, 0.03) + gaussians(tt, ka2, 0.03, np.full(3, 0.5))
    np.testing.assert_allclose(peak_positions(tt, y, radiation="CuKa"), ka1, atol=0.01)
    # a single line named: the resolved Kα2 peaks are lines like any other
    assert len(peak_positions(tt, y, radiation="CuKa1")) == 6


def test_peak_positions_drops_kbeta_copies_of_strong_peaks_of_named_anodes():
    tt = np.arange(10, 80, 0.01)
    ka1 = np.array([25.0, 40.0, 61.3])
    kb = 2 * np.degrees(np.arcsin(np.sin(np.radians(ka1 / 2)) * 1.392218 / LAM))
    # Kβ copies at 3 % of their lines; a true line at the third one's Kβ
    # position, half as strong as it, is not a copy
    y = gaussians(tt, ka1, 0.04) + gaussians(tt, kb, 0.04, [0.03, 0.03, 0.5])
    found = peak_positions(tt, y, radiation="CuKa1", drop_kbeta=True)
    np.testing.assert_allclose(found, np.sort([*ka1, kb[2]]), atol=0.01)
    kept = peak_positions(tt, y, radiation="CuKa1")  # off by default
    np.testing.assert_allclose(kept, np.sort([*ka1, *kb]), atol=0.01)
    # a bare wavelength names no anode, hence no Kβ line
    assert len(peak_positions(tt, y, radiation=LAM, drop_kbeta=True)) == 6


def test_peak_positions_ignores_counting_noise_and_keeps_the_first_lines():
    rng = np.random.default_rng(0)
    tt = np.arange(10, 90, 0.02)
    noise_only = rng.poisson(200, tt.size).astype(float)
    assert len(peak_positions(tt, noise_only)) < 8  # too few to index
    true = np.linspace(15, 85, 30)
    y = rng.poisson(50 + 5000 * gaussians(tt, true)).astype(float)
    found = peak_positions(tt, y, radiation="CuKa1", max_peaks=20)
    np.testing.assert_allclose(found, true[:20], atol=0.02)


@pytest.mark.parametrize("distance", [0.04, 0.06, 0.1])
def test_peak_positions_finds_lines_close_to_either_end_of_the_scan(distance):
    # the noise was a median over 1° about each point, padded with the end
    # value: a line within 0.1° of an end filled half its own window with its
    # residual, and its noise estimate rose above its height (all lost)
    rng = np.random.default_rng(0)
    tt = np.arange(10, 60, 0.02)  # 10 to 59.98
    true = np.array([tt[0] + distance, 31.5, 44.0, tt[-1] - distance])
    y = gaussians(tt, true, heights=[0.3, 1.0, 1.0, 0.3])
    np.testing.assert_allclose(
        peak_positions(tt, y, radiation="CuKa1"), true, atol=0.005
    )
    counts = rng.poisson(50 + 5000 * y).astype(float)
    np.testing.assert_allclose(
        peak_positions(tt, counts, radiation="CuKa1"), true, atol=0.02
    )


@pytest.mark.parametrize(
    "background",
    [
        lambda tt: 400 * (tt[-1] - tt) / (tt[-1] - tt[0]),  # falling
        lambda tt: 400 * (tt - tt[0]) / (tt[-1] - tt[0]),  # rising
        lambda tt: 3000 * np.exp(-(tt - tt[0]) / 0.5),  # steep air scatter
        # lines cut by the ends, their centres on or just beyond them: where
        # a line's top lies, the scan does not say
        lambda tt: 3000 * gaussians(tt, [tt[0], tt[-1]]),
        lambda tt: 3000 * gaussians(tt, [tt[0] - 0.04, tt[-1] + 0.06]),
    ],
)
def test_peak_positions_makes_no_lines_at_the_ends_of_the_scan(background):
    tt = np.arange(10, 60, 0.02)
    true = np.array([20.0, 31.5, 44.0])
    for seed in range(10):
        rng = np.random.default_rng(seed)
        lam = 50 + background(tt) + 5000 * gaussians(tt, true)
        found = peak_positions(tt, rng.poisson(lam).astype(float), radiation="CuKa1")
        np.testing.assert_allclose(found, true, atol=0.02)


@pytest.mark.parametrize(
    "tt, y, match",
    [
        (np.arange(20.0), np.arange(19.0), "one intensity per angle"),
        (np.arange(20.0)[::-1], np.arange(20.0), "strictly increasing"),
        (np.arange(20.0), np.r_[np.nan, np.arange(19.0)], "NaN"),
        (np.arange(5.0), np.arange(5.0), "too short"),
        (np.arange(170.0, 190.0), np.arange(20.0), r"lie in \[0, 180\] degrees"),
    ],
)
def test_peak_positions_rejects_bad_patterns(tt, y, match):
    with pytest.raises(ValueError, match=match):
        peak_positions(tt, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"min_snr": float("nan")}, "min_snr must be finite"),
        ({"max_peaks": "a"}, "max_peaks must be an integer"),
        ({"max_peaks": 0}, "max_peaks must be >= 1"),
        ({"min_height": 1.0}, r"min_height must be in \[0, 1\)"),
        # a truthy string turned the Kβ filter on
        ({"drop_kbeta": "no"}, "drop_kbeta must be True or False"),
    ],
)
def test_peak_positions_rejects_bad_settings(kwargs, match):
    tt = np.arange(10, 60, 0.02)
    with pytest.raises(ValueError, match=match):
        peak_positions(tt, np.exp(-0.5 * ((tt - 20) / 0.05) ** 2), **kwargs)


def test_peak_positions_of_a_flat_pattern_is_empty():
    assert peak_positions(np.arange(10, 20, 0.1), np.zeros(100)).size == 0


# index_powder ---------------------------------------------------------------


def test_rock_salt_indexes_face_centred_cubic_with_its_indices():
    found = index_powder(rock_salt())
    sol = found["cF"]
    assert isinstance(sol, IndexingSolution)
    assert sol.crystal_family == "cubic"
    assert sol.a == pytest.approx(5.64, abs=1e-3)
    assert sol.n_indexed == sol.n_lines == 10
    got = [tuple(sorted(np.abs(h))[::-1]) for h in sol.hkl]
    assert got == [tuple(sorted(h)[::-1]) for h in FCC]
    assert np.nanmax(np.abs(sol.two_theta_error)) < 1e-3
    # the F lattice explains the lines with fewer calculated ones than P
    assert sol.figure_of_merit > 2 * found["cP"].figure_of_merit


def test_a_tetragonal_cell_is_found_far_above_any_cubic_one():
    found = index_powder(tetragonal())
    sol = found["tP"]
    assert (sol.a, sol.c) == pytest.approx((4.594, 2.959), abs=2e-3)
    assert sol.n_indexed == 20
    cubic = [found[lat].figure_of_merit for lat in ("cP", "cI", "cF") if found[lat]]
    assert sol.figure_of_merit > 5 * max(cubic, default=1.0)


def test_a_hexagonal_cell_is_found():
    sol = index_powder(hexagonal())["hP"]
    assert sol.crystal_family == "hexagonal"
    assert (sol.a, sol.c) == pytest.approx((3.25, 5.207), abs=2e-3)
    assert sol.figure_of_merit > 20


_CENTRING = {
    "P": lambda h, k, l: True,
    "I": lambda h, k, l: (h + k + l) % 2 == 0,
    "F": lambda h, k, l: h % 2 == k % 2 == l % 2,
    "C": lambda h, k, l: (h + k) % 2 == 0,
    "R": lambda h, k, l: (-h + k + l) % 3 == 0,
}


@pytest.mark.parametrize(
    "lattice, cell",
    [
        ("cF", (5.64, 5.64, 5.64, 90, 90, 90)),
        ("tI", (4.1, 4.1, 9.3, 90, 90, 90)),
        ("hP", (3.25, 3.25, 5.207, 90, 90, 120)),
        ("hR", (4.99, 4.99, 17.06, 90, 90, 120)),
        ("oC", (5.1, 8.3, 6.2, 90, 90, 90)),
        ("mP", (5.3, 7.4, 5.8, 90, 113.9, 90)),
    ],
)
def test_a_solutions_six_parameters_put_its_indices_on_its_lines(lattice, cell):
    # a hexagonal cell was reported with γ = 90: its six parameters made a
    # tetragonal cell, 15 % too large, whose lines are not the indexed ones
    from skxrd.crystal import lattice_from_parameters

    allowed = _CENTRING[lattice[1]]
    r = range(-6, 7)
    hkl = [(h, k, l) for h in r for k in r for l in r if allowed(h, k, l)]
    reciprocal = np.linalg.inv(lattice_from_parameters(*cell)).T
    tt = np.unique(
        np.round(
            lines([x for x in hkl if any(x)], lambda *x: np.sum((x @ reciprocal) ** 2)),
            5,
        )
    )[:20]
    sol = index_powder(tt, lattices=(lattice,), wavelength=LAM)[lattice]
    assert sol.n_indexed == len(tt) >= 12
    found = lattice_from_parameters(sol.a, sol.b, sol.c, sol.alpha, sol.beta, sol.gamma)
    assert abs(np.linalg.det(found)) == pytest.approx(
        abs(np.linalg.det(lattice_from_parameters(*cell))), rel=1e-4
    )
    q = np.sum((sol.hkl @ np.linalg.inv(found).T) ** 2, axis=1)
    np.testing.assert_allclose(
        2 * np.degrees(np.arcsin(LAM * np.sqrt(q) / 2)) + sol.zero_shift,
        tt,
        atol=1e-3,
    )


def test_impurity_lines_within_the_allowance_are_left_unindexed():
    pos = np.sort(np.r_[tetragonal()[:18], 33.33, 47.77])
    sol = index_powder(pos)["tP"]
    assert sol.n_indexed == 18
    assert (sol.a, sol.c) == pytest.approx((4.594, 2.959), abs=2e-3)
    unindexed = pos[np.isnan(sol.two_theta_error)]
    np.testing.assert_allclose(unindexed, [33.33, 47.77])
    assert np.all(sol.hkl[np.isnan(sol.two_theta_error)] == -1)
    # allowing none: only a large cell that explains anything, poorly
    strict = index_powder(pos, max_unindexed=0.0)["tP"]
    assert strict is None or strict.figure_of_merit < sol.figure_of_merit / 5


def garnet_like(a=11.58, n=20):
    """The first lines of a large body-centred cubic cell (a garnet's)."""
    r = range(9)
    hkl = [(h, k, l) for h in r for k in r for l in r if (h + k + l) in range(2, 99, 2)]
    tt = lines(hkl, lambda h, k, l: (h * h + k * k + l * l) / a**2)
    return np.unique(np.round(tt, 6))[:n]


@pytest.mark.parametrize("shift", [0.05, -0.07])
def test_a_zero_shift_of_the_scale_is_refined_with_the_cell(shift):
    pos = garnet_like() + shift
    exact = index_powder(garnet_like(), lattices=("cI",))["cI"]
    sol = index_powder(pos, lattices=("cI",))["cI"]
    assert sol.a == pytest.approx(11.58, abs=1e-3)
    assert sol.zero_shift == pytest.approx(shift, abs=2e-3)
    assert sol.n_indexed == 20
    assert np.nanmax(np.abs(sol.two_theta_error)) < 3e-3
    assert sol.figure_of_merit == pytest.approx(exact.figure_of_merit, rel=0.02)
    # without it, the one-parameter cell cannot follow the offset lines
    fixed = index_powder(pos, lattices=("cI",), max_zero_shift=0.0)["cI"]
    assert fixed is None or (
        fixed.zero_shift == 0.0 and fixed.figure_of_merit < exact.figure_of_merit / 4
    )


def test_exact_lines_refine_no_zero_shift_and_a_large_one_is_not_followed():
    assert index_powder(rock_salt())["cF"].zero_shift == pytest.approx(0, abs=1e-9)
    far = index_powder(garnet_like() + 0.3, lattices=("cP", "cI", "cF"))
    for sol in far.values():  # bounded by max_zero_shift
        assert sol is None or abs(sol.zero_shift) <= 0.1 + 1e-12


def monoclinic(a, b, c, beta, allowed=lambda h, k, l: True, n=20):
    """The first lines of a monoclinic cell (b unique, ``beta`` in degrees)."""
    be = np.radians(beta)
    r = range(-5, 6)
    hkl = [(h, k, l) for h in r for k in r for l in r if (h, k, l) != (0, 0, 0)]
    hkl = [x for x in hkl if allowed(*x)]

    def metric(h, k, l):
        s = np.sin(be) ** 2
        return (h * h / a**2 + l * l / c**2 - 2 * h * l * np.cos(be) / (a * c)) / s + (
            k * k / b**2
        )

    return np.unique(np.round(lines(hkl, metric), 6))[:n]


def monoclinic_q(sol):
    """Q of each indexed line from a solution's cell and indices."""
    h, k, l = sol.hkl.T
    be = np.radians(sol.beta)
    s = np.sin(be) ** 2
    return (
        h * h / sol.a**2 + l * l / sol.c**2 - 2 * h * l * np.cos(be) / (sol.a * sol.c)
    ) / s + k * k / sol.b**2


@pytest.mark.parametrize(
    "lattice, cell, allowed",
    [
        ("mP", (7.3, 9.1, 10.7, 103.0), lambda h, k, l: True),
        ("mP", (5.4, 8.9, 6.2, 112.0), lambda h, k, l: True),
        ("mC", (9.7, 8.9, 5.3, 105.6), lambda h, k, l: (h + k) % 2 == 0),
        ("mC", (8.2, 12.9, 7.1, 116.0), lambda h, k, l: (h + k) % 2 == 0),
    ],
)
def test_monoclinic_cells_are_found_on_their_conventional_axes(lattice, cell, allowed):
    pos = monoclinic(*cell, allowed)
    found = index_powder(pos)
    sol = found[lattice]
    assert sol.crystal_family == "monoclinic"
    assert sol.n_indexed == 20
    # b unique, β >= 90°, the ac plane reduced (a <= c for mP)
    assert (sol.a, sol.b, sol.c, sol.beta) == pytest.approx(cell, abs=2e-3)
    np.testing.assert_allclose(sol.two_theta_error, 0.0, atol=2e-3)
    sin = np.sin(np.radians(pos / 2))
    np.testing.assert_allclose(LAM * np.sqrt(monoclinic_q(sol)) / 2, sin, rtol=1e-4)
    if lattice == "mC":
        assert np.all((sol.hkl[:, 0] + sol.hkl[:, 1]) % 2 == 0)
    assert sol.figure_of_merit > 40
    # no cell of higher symmetry explains these lines
    others = [found[t].figure_of_merit for t in LATTICE_TYPES[:11] if found[t]]
    assert max(others, default=0.0) < 20
    # a C-centred cell beats the primitive reading of its own lines
    other = found["mP" if lattice == "mC" else "mC"]
    assert other is None or other.figure_of_merit < sol.figure_of_merit


def test_a_monoclinic_cell_is_found_from_a_skewed_description_and_a_zero_shift():
    # the same lattice as (7.3, 9.1, 10.7, 103°) on another basis of its ac
    # plane (c' = c + a): the answer is the reduced cell
    a, c, beta = 7.3, 10.7, np.radians(103.0)
    c2 = np.sqrt(a * a + c * c + 2 * a * c * np.cos(beta))
    beta2 = np.degrees(np.arccos((a * a + a * c * np.cos(beta)) / (a * c2)))
    beta2 = max(beta2, 180 - beta2)
    pos = monoclinic(a, 9.1, c2, beta2) + 0.04
    sol = index_powder(pos, lattices=("mP",))["mP"]
    assert (sol.a, sol.b, sol.c, sol.beta) == pytest.approx(
        (7.3, 9.1, 10.7, 103.0), abs=3e-3
    )
    assert sol.zero_shift == pytest.approx(0.04, abs=2e-3)


@pytest.mark.parametrize(
    "centring, cell",
    [("P", (7.3, 9.1, 10.7, 103.0)), ("C", (9.7, 8.9, 5.3, 105.6))],
)
def test_twofold_axes_read_a_monoclinic_cell_off_any_triclinic_basis(centring, cell):
    from skxrd.indexing import _index

    a, b, c, beta = cell
    cos = np.cos(np.radians(beta))
    conventional = np.array(
        [[a * a, 0, a * c * cos], [0, b * b, 0], [a * c * cos, 0, c * c]]
    )
    # the lattice on a primitive basis ((a ± b) / 2 for C), then on skewed ones
    prim = (
        np.eye(3)
        if centring == "P"
        else np.array([[0.5, 0.5, 0], [-0.5, 0.5, 0], [0, 0, 1]])
    )
    g = prim @ conventional @ prim.T
    sin2 = 1 - cos * cos
    true = np.array(
        [1 / (a * a * sin2), 1 / (b * b), 1 / (c * c * sin2), -2 * cos / (a * c * sin2)]
    )

    def canonical(p):
        p, _ = _index._conventional_monoclinic(
            p, np.zeros((1, 3), int), centring == "P"
        )
        return np.array([*sorted(p[[0, 2]]), p[1], abs(p[3])])

    for m in ([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[1, 1, 0], [0, 1, 0], [1, 0, 1]],
              [[0, 1, 1], [1, -1, 0], [0, 0, 1]]):  # fmt: skip
        m = np.array(m, float)
        tric = _index._parameters(np.linalg.inv(m @ g @ m.T)[None])
        found = _index._candidates_twofold(tric, np.array([0.01]), centring)
        assert any(
            np.allclose(canonical(p), canonical(true), rtol=1e-4) for p in found
        ), m.tolist()
        # a primitive cell's axis is no C-centred one's, and the other way
        other = _index._candidates_twofold(
            tric, np.array([0.01]), "CP"[centring == "C"]
        )
        assert not any(
            np.allclose(canonical(p), canonical(true), rtol=1e-3) for p in other
        )


def test_an_orthorhombic_cell_is_a_monoclinic_one_too():
    found = index_powder(orthorhombic(4.21, 5.33, 7.08))
    sol = found["mP"]
    assert sol.beta == pytest.approx(90.0, abs=0.05)
    assert sol.figure_of_merit == pytest.approx(found["oP"].figure_of_merit, rel=0.05)


def best_family_merits(space_groups):
    """Per random crystal of each space group (Cu Kα, 10–120°): its space
    group and the best merit of each lattice family."""
    from skxrd.datasets import make_random_crystals

    crystals = make_random_crystals(
        len(space_groups), space_groups=space_groups, n_atoms=(4, 12), random_state=0
    )
    sim = PowderSimulator(two_theta_range=(10, 120))
    merits = lattice_merits(sim.transform(crystals), sim.two_theta, radiation="CuKa")
    fam = np.array([lat[0] for lat in ALL_LATTICE_TYPES])
    for row, crystal in zip(merits, crystals):
        yield crystal.space_group, {f: row[:-1][fam == f].max() for f in "cthom"}


def test_simulated_monoclinic_crystals_index_as_monoclinic():
    for space_group, best in best_family_merits([14, 15, 11]):
        assert best["m"] > 20, space_group
        assert max(best[f] for f in "ctho") < best["m"] / 2, space_group


@pytest.mark.parametrize(
    "lattice, cell, allowed",
    [
        ("oP", (4.21, 5.33, 7.08), lambda h, k, l: True),
        ("oP", (6.2, 8.7, 11.3), lambda h, k, l: True),
        ("oC", (4.9, 7.9, 5.8), lambda h, k, l: (h + k) % 2 == 0),
        ("oI", (5.1, 6.3, 9.4), lambda h, k, l: (h + k + l) % 2 == 0),
        (
            "oF",
            (5.5, 7.7, 9.9),
            lambda h, k, l: (h - k) % 2 == 0 and (k - l) % 2 == 0,
        ),
    ],
)
def test_orthorhombic_cells_are_found_in_their_centring(lattice, cell, allowed):
    pos = orthorhombic(*cell, allowed)
    found = index_powder(pos)
    sol = found[lattice]
    assert sol.crystal_family == "orthorhombic"
    assert sol.n_indexed == 20
    # conventional order: a <= b <= c, on the centred face for oC
    expected = sorted(cell) if lattice != "oC" else (*sorted(cell[:2]), cell[2])
    assert (sol.a, sol.b, sol.c) == pytest.approx(expected, abs=2e-3)
    np.testing.assert_allclose(sol.two_theta_error, 0.0, atol=2e-3)
    # the indices are the cell's: they give back each line's Q
    q = (sol.hkl**2 / np.array([sol.a, sol.b, sol.c]) ** 2).sum(1)
    sin = np.sin(np.radians(pos / 2))
    np.testing.assert_allclose(LAM * np.sqrt(q) / 2, sin, rtol=1e-4)
    # the right centring beats the others; no cell of higher symmetry fits
    others = [found[t] for t in ("oP", "oC", "oI", "oF") if t != lattice]
    assert all(o is None or o.figure_of_merit < sol.figure_of_merit for o in others)
    assert sol.figure_of_merit > 50
    higher = [found[t].figure_of_merit for t in LATTICE_TYPES[:7] if found[t]]
    assert max(higher, default=0.0) < sol.figure_of_merit / 3


@pytest.mark.parametrize(
    "cell", [(6.2, 8.7, 11.3), (4.21, 5.33, 7.08), (5.1, 6.3, 9.4)]
)
def test_stray_lines_before_the_first_line_are_passed_over(cell):
    # two low-angle artefacts before the cell's first line: the candidates
    # that start from them are wrong cells, those from the third line right
    true = orthorhombic(*cell)[:18]
    pos = np.r_[true[0] - 2.1, true[0] - 1.3, true]
    sol = index_powder(pos, lattices=("oP",))["oP"]
    assert (sol.a, sol.b, sol.c) == pytest.approx(sorted(cell), abs=2e-3)
    assert sol.n_indexed == 18 and sol.figure_of_merit > 100
    old = index_powder(pos, lattices=("oP",), first_lines=2)["oP"]
    assert old.figure_of_merit < sol.figure_of_merit / 2
    assert (old.a, old.b, old.c) != pytest.approx(sorted(cell), abs=0.01)


def test_a_tetragonal_cell_is_an_orthorhombic_one_too():
    found = index_powder(tetragonal())
    assert found["oP"].figure_of_merit == pytest.approx(
        found["tP"].figure_of_merit, rel=0.05
    )
    sol = found["oP"]
    assert (sol.a, sol.b, sol.c) == pytest.approx((2.959, 4.594, 4.594), abs=2e-3)


def test_too_few_lines_give_no_solution():
    assert all(s is None for s in index_powder(rock_salt()[:5]).values())


# the first 20 lines of a random P6_3 crystal (make_random_crystals, group 172,
# seed 172: a = 5.6977, c = 8.5757 Å), whose candidates of two first lines
# included some with C below 5e-9, rounded to 0
P6_LINES = [17.96207529, 20.75176453, 27.53672988, 31.26555094, 31.3745048,
            33.10762874, 36.2899719, 36.38555321, 37.88579627, 37.91652829,
            42.226214, 44.88264741, 46.12590111, 48.71427791, 48.78960574,
            50.0073454, 53.44474572, 53.53869646, 55.85095214, 56.78056259]  # fmt: skip


@pytest.mark.parametrize("lattice", ["hP", "hR"])
@pytest.mark.parametrize("long_axes", [True, False])
def test_no_candidate_of_an_endless_axis_reaches_the_refinement(lattice, long_axes):
    # a candidate whose C rounded to 0 (an endless c axis) made the long axes'
    # test raise LinAlgError ("Singular matrix"), and lattice_merits with it
    found = index_powder(
        P6_LINES, lattices=(lattice,), first_lines=2, long_axes=long_axes
    )[lattice]
    assert found is not None and np.isfinite(found.c)
    if lattice == "hP":
        assert (found.a, found.c) == pytest.approx((5.6977, 8.5757), abs=1e-3)
        assert found.n_indexed == 20


def test_candidates_of_one_and_two_parameters_are_positive():
    from skxrd.indexing._index import _candidates, _q

    q = _q(np.array(P6_LINES), LAM)
    for family in "cth":
        assert np.all(_candidates(q, family) > 0)


def test_lattices_restricts_the_search_and_wavelength_scales_the_cell():
    found = index_powder(rock_salt(), lattices=("cF",))
    assert list(found) == ["cF"]
    # the same angles read at Mo Kα1: a cell smaller by the wavelength ratio
    mo = index_powder(rock_salt(), wavelength="MoKa1", lattices=("cF",))["cF"]
    assert mo.a == pytest.approx(5.64 * 0.709317 / LAM, rel=1e-3)


def test_one_lattice_type_may_be_named_by_its_string():
    # "cF" was taken as the sequence "c", "F": unknown lattice type 'c'
    assert list(index_powder(rock_salt(), lattices="cF")) == ["cF"]
    one = index_powder(rock_salt(), lattices="cF")["cF"]
    assert (
        one.figure_of_merit
        == index_powder(rock_salt(), lattices=("cF",))["cF"].figure_of_merit
    )
    with pytest.raises(ValueError, match="unknown lattice type 'cX'"):
        index_powder(rock_salt(), lattices="cX")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lattices": ("mI",)}, "unknown lattice type 'mI'"),
        ({"max_unindexed": 1.0}, "max_unindexed"),
        ({"tolerance": 0.0}, "tolerance"),
        ({"max_zero_shift": -0.1}, "max_zero_shift"),
        ({"max_zero_shift": 2.0}, "max_zero_shift"),
        ({"max_zero_shift": "wide"}, "max_zero_shift must be a number of degrees"),
        ({"wavelength": "XxKa"}, "XxKa"),
        ({"first_lines": 0}, "first_lines must be between 1 and 6"),
        ({"first_lines": 2.5}, "first_lines must be an integer"),
        ({"twofold_axes": "no"}, "twofold_axes must be True or False"),
        ({"twofold_axes": 1}, "twofold_axes must be True or False"),
        ({"tolerance": "a"}, "tolerance must be a positive number"),
        ({"min_lines": "a"}, "min_lines must be an integer"),
    ],
)
def test_index_powder_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        index_powder(rock_salt(), **kwargs)


@pytest.mark.parametrize(
    "positions, match",
    [
        ([[20.0, 30.0]], "1D"),
        ([20.0, np.nan, 40.0], "NaN"),
        ([30.0, 20.0, 40.0], "increasing"),
        ([20.0, 200.0], "between 0 and 180"),
    ],
)
def test_index_powder_rejects_bad_positions(positions, match):
    with pytest.raises(ValueError, match=match):
        index_powder(positions)


# lattice_merits on simulated patterns ---------------------------------------


@pytest.mark.parametrize(
    "name, family",
    [("NaCl", "c"), ("Si", "c"), ("TiO2-rutile", "t"), ("ZnO", "h"), ("Al2O3", "h")],
)
def test_simulated_patterns_index_in_their_own_family(name, family):
    sim = PowderSimulator(two_theta_range=(10, 120))  # Cu Kα1 + Kα2
    y = sim.transform([load_example_crystal(name)])
    merits = lattice_merits(y, sim.two_theta, radiation="CuKa")
    assert merits.shape == (1, len(ALL_LATTICE_TYPES) + 1)
    fam = np.array([lat[0] for lat in ALL_LATTICE_TYPES])
    best = {f: merits[0, :-1][fam == f].max() for f in "ctho"}
    assert best[family] > 20
    # cubic cells are tetragonal and rhombohedral ones too, not the reverse
    if family != "c":
        assert best["c"] == 0.0
    # and all three families' cells are orthorhombic ones (hexagonal: oC;
    # a rhombohedral cell only with the lines R forbids, so lower)
    assert best["o"] > 20


def test_simulated_orthorhombic_crystals_index_as_orthorhombic_only():
    for space_group, best in best_family_merits([62, 63, 71]):
        assert best["o"] > 20, space_group
        # the cubic, tetragonal and hexagonal cells fall short; an
        # orthorhombic cell is a monoclinic one (β = 90°) too
        assert max(best[f] for f in "cth") < best["o"] / 3, space_group
        assert best["m"] > best["o"] / 2, space_group


def test_lattice_merits_leaves_lattices_not_asked_for_at_zero():
    sim = PowderSimulator(two_theta_range=(10, 120))
    y = sim.transform([load_example_crystal("TiO2-rutile")])
    merits = lattice_merits(y, sim.two_theta, lattices=("tP", "tI"))
    asked = np.isin(ALL_LATTICE_TYPES, ("tP", "tI"))
    assert merits[0, :-1][asked].max() > 20
    assert np.all(merits[0, :-1][~asked] == 0.0)


def test_lattice_merits_is_the_same_in_parallel_and_checks_shapes():
    sim = PowderSimulator(two_theta_range=(10, 120))
    y = sim.transform(
        [load_example_crystal(n) for n in ("NaCl", "ZnO", "TiO2-rutile", "Si")]
    )
    serial = lattice_merits(y, sim.two_theta)
    np.testing.assert_array_equal(lattice_merits(y, sim.two_theta, n_jobs=2), serial)
    with pytest.raises(ValueError, match="columns"):
        lattice_merits(y[:, :-1], sim.two_theta)
    with pytest.raises(ValueError, match="2D"):
        lattice_merits(y[0], sim.two_theta)


@pytest.mark.parametrize("flag", ["space_groups", "drop_kbeta"])
def test_lattice_merits_takes_flags_not_truthy_values(flag):
    # space_groups="no" returned the group merits, a tuple, not the merits
    tt = np.arange(10, 60, 0.02)
    y = np.exp(-0.5 * ((tt - 20) / 0.05) ** 2)[None]
    with pytest.raises(ValueError, match=f"{flag} must be True or False"):
        lattice_merits(y, tt, **{flag: "no"})


# measured patterns -------------------------------------------------------------

RRUFF = (
    Path(__file__).resolve().parents[3]
    / "shared/data/measured/rruff-minerals/rruff-minerals.npz"
)


@pytest.mark.skipif(not RRUFF.exists(), reason="the shared measured data is absent")
def test_measured_orthorhombic_minerals_index_on_their_reference_cells():
    # RRUFF patterns whose AMCSD entry (other samples of the mineral) gives
    # the cell; their first lines hold impurity, Kβ and artefact peaks, among
    # which large wrong cells explain as many lines as the true one, so the
    # search must keep the small cells (experiments/indexing_gap.py)
    cells = {
        16: (5.544, 7.760, 7.873),  # andalusite
        128: (5.995, 7.770, 9.209),  # duftite
        132: (6.145, 6.428, 7.399),  # enargite
        200: (4.430, 9.762, 12.201),  # hambergite
        208: (5.499, 9.325, 9.789),  # heklaite
        381: (4.932, 5.557, 11.808),  # stibiocolumbite
        383: (3.831, 11.227, 11.299),  # stibnite
    }
    with np.load(RRUFF) as f:
        X, tt = f["X"][list(cells)], f["two_theta"]
    for x, (i, cell) in zip(X, cells.items()):
        pos = peak_positions(tt, np.maximum(x, 0), radiation="CuKa")
        found = index_powder(pos, wavelength="CuKa", lattices=("oP", "oC", "oI", "oF"))
        best = max((s for s in found.values() if s), key=lambda s: s.figure_of_merit)
        assert best.figure_of_merit > 20, i
        assert sorted((best.a, best.b, best.c)) == pytest.approx(cell, rel=0.01), i


@pytest.mark.skipif(not RRUFF.exists(), reason="the shared measured data is absent")
def test_measured_monoclinic_minerals_index_by_their_twofold_axes():
    # RRUFF patterns whose AMCSD entry gives the cell (a, b, c, β), which the
    # small-index search misses and the triclinic zones' cells with a twofold
    # axis find (experiments/indexing_gap.py)
    cells = {
        37: (13.124, 7.988, 5.066, 112.25),  # augelite, mC
        152: (4.75, 5.72, 4.97, 90.17),  # ferberite, mP
        197: (6.277, 15.181, 5.672, 114.11),  # gypsum, mC
        217: (4.82, 5.76, 4.97, 90.88),  # hübnerite, mP
        297: (10.865, 4.006, 7.233, 117.24),  # paralaurionite, mC
        377: (9.463, 8.388, 5.219, 110.187),  # spodumene, mC
    }
    with np.load(RRUFF) as f:
        X, tt = f["X"][list(cells)], f["two_theta"]
    for x, (i, cell) in zip(X, cells.items()):
        pos = peak_positions(tt, np.maximum(x, 0), radiation="CuKa")
        best = {}
        for twofold in (False, True):
            found = index_powder(
                pos, wavelength="CuKa", lattices=("mP", "mC"), twofold_axes=twofold
            )
            best[twofold] = max(
                (s for s in found.values() if s), key=lambda s: s.figure_of_merit
            )
        sol = best[True]
        assert sol.figure_of_merit > 20, i
        assert (sol.a, sol.b, sol.c) == pytest.approx(cell[:3], rel=0.01), i
        assert sol.beta == pytest.approx(cell[3], abs=0.5), i
        assert sol.figure_of_merit >= best[False].figure_of_merit, i
        old = best[False]
        # augelite and spodumene: found by the small indices as well, since
        # the monoclinic candidates kept grow with the first lines tried
        found_without = i in (37, 377)
        assert (
            (old.a, old.b, old.c) == pytest.approx(cell[:3], rel=0.01)
        ) is found_without, i


# ------------------------------------------------------------ search internals
def test_unique_rows_is_numpy_unique_over_rows():
    from skxrd.indexing import _index

    rng = np.random.default_rng(0)
    for shape in [(0, 4), (1, 4), (7, 1), (500, 2), (3000, 3), (20000, 4), (20000, 6)]:
        a = np.round(rng.random(shape) * 3, 2)
        a = np.concatenate([a, a[: len(a) // 2]])  # duplicates, out of order
        np.testing.assert_array_equal(
            _index._unique_rows(a), np.unique(a, axis=0), strict=True
        )
    # -0.0 and 0.0 are one value, as for np.unique
    signed = np.array([[1.0, 0.0], [1.0, -0.0], [0.5, 2.0]])
    np.testing.assert_array_equal(_index._unique_rows(signed), [[0.5, 2.0], [1.0, 0.0]])


def test_unique_rows_falls_back_on_equal_keys_of_unequal_rows(monkeypatch):
    from skxrd.indexing import _index

    # every row gets the key 0: the keys cannot tell the rows apart
    monkeypatch.setattr(_index, "_ROW_MIX", np.zeros(4, np.uint64))
    a = np.array([[2.0, 1.0], [1.0, 3.0], [2.0, 1.0], [1.0, 2.0]])
    np.testing.assert_array_equal(_index._unique_rows(a), np.unique(a, axis=0))


def test_nearest_distance_is_the_distance_to_the_nearest_calculated_line():
    from skxrd.indexing import _index

    rng = np.random.default_rng(1)
    for n, m in [(1, 1), (3, 5), (64, 300), (257, 40)]:
        # sorted rows, values out of range set to 1e9 as the search does
        qc = np.where(rng.random((n, m)) < 0.8, rng.random((n, m)) * 0.5, 1e9)
        qc.sort(axis=1)
        qs = np.sort(rng.random((n, 12)) * 0.45, axis=1)
        qs[0, 0] = qc[0, 0]  # on a calculated line exactly
        qc[-1] = 1e9  # a candidate with no line in range
        full = np.min(np.abs(qc[:, :, None] - qs[:, None, :]), axis=1)
        np.testing.assert_array_equal(_index._nearest_distance(qc, qs), full)
    assert np.isinf(_index._nearest_distance(np.empty((2, 0)), np.ones((2, 3)))).all()


def _counting_lstsq(monkeypatch):
    """Count the least-squares solves of the refinement."""
    calls = []
    real = np.linalg.lstsq

    def lstsq(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(np.linalg, "lstsq", lstsq)
    return calls


def _scales(pos):
    from skxrd.indexing import _index

    return _index._line_scales(pos, LAM, 0.05, 0.2)


def test_refine_stops_at_a_fixed_point_without_solving_again(monkeypatch):
    from skxrd.indexing import _index

    rows, _ = _index._table("oP")
    q, tol_q, _, _, slope, weight, _ = _scales(orthorhombic(4.96, 7.97, 5.74))
    p0 = np.array([4.96, 7.97, 5.74]) ** -2.0 * (1 + 2e-4)
    once = _index._refine(p0, rows, q, tol_q, slope, 0.1, iters=1, weight=weight)
    calls = _counting_lstsq(monkeypatch)
    p, z = _index._refine(p0, rows, q, tol_q, slope, 0.1, weight=weight)
    # the second step indexes the lines with the rows of the first: its
    # solution, and the third step's, are the first's, bit for bit; the
    # search solved them three times (about 40 % of its least squares)
    assert len(calls) == 1
    assert p.tobytes() == once[0].tobytes() and z == once[1]
    assert p == pytest.approx(np.array([4.96, 7.97, 5.74]) ** -2.0, rel=1e-6)


def test_refinements_that_reach_one_assignment_share_its_solution(monkeypatch):
    from skxrd.indexing import _index

    rows, _ = _index._table("tP")
    q, tol_q, loose_q, _, slope, weight, _ = _scales(tetragonal())
    cell = np.array([4.594**-2, 2.959**-2])
    starts = [cell * (1 + 3e-4), cell * (1 - 2e-4), cell * [1 + 1e-4, 1 - 3e-4]]
    alone = [
        _index._refine(p, rows, q, loose_q, slope, 0.1, weight=weight) for p in starts
    ]
    calls = _counting_lstsq(monkeypatch)
    solves = {}
    shared = [
        _index._refine(p, rows, q, loose_q, slope, 0.1, weight=weight, solves=solves)
        for p in starts
    ]
    # one assignment of the lines, solved once for the three candidates, and
    # the same parameters and zero shift as three separate refinements
    assert len(solves) == 1 and len(calls) == 1
    for (p, z), (p_alone, z_alone) in zip(shared, alone):
        assert p.tobytes() == p_alone.tobytes() and z == z_alone
    # the tight refinement after the loose one reads the same solution back
    again = _index._refine(
        shared[0][0],
        rows,
        q,
        tol_q,
        slope,
        0.1,
        shared[0][1],
        weight=weight,
        solves=solves,
    )
    assert len(calls) == 1 and again[0].tobytes() == shared[0][0].tobytes()


@pytest.mark.parametrize("lattice", ["cF", "tP", "oP", "mP", "aP"])
def test_merits_are_de_wolffs_computed_line_by_line(lattice):
    """:func:`_merits`' sorted rows, columns past the values in range left
    out and calculated lines counted only for the cells scored give the
    figure of merit computed directly, for cells that score and cells that
    do not."""
    from skxrd.indexing import _index

    rows, _ = _index._table(lattice)
    # a monoclinic cell (b unique, β = 103°) as Q = A h² + B k² + C l² + D hl
    sin2, cos = np.sin(np.radians(103)) ** 2, np.cos(np.radians(103))
    mono = np.array([1 / 7.3**2 / sin2, 1 / 9.1**2, 1 / 10.7**2 / sin2, 0.0])
    mono[3] = -2 * cos / (7.3 * 10.7 * sin2)
    r = range(-4, 5)
    hkl = np.array([(h, k, l) for h in r for k in r for l in r if h or k or l])
    q_mono = np.column_stack([hkl**2, hkl[:, 0] * hkl[:, 2]]) @ mono
    pos = {
        "c": rock_salt(),
        "t": tetragonal(),
        "o": orthorhombic(4.96, 7.97, 5.74),
        "m": np.unique(
            np.round(2 * np.degrees(np.arcsin(LAM * np.sqrt(q_mono) / 2)), 5)
        )[:20],
    }.get(lattice[0], triclinic(5.9, 7.2, 10.1, 80.0, 85.0, 75.0)[0])
    q, tol_q, _, floor_q, _, _, max_miss = _scales(pos)
    rng = np.random.default_rng(3)
    if lattice[0] in "cto":
        cell = {
            "c": [5.64**-2],
            "t": [4.594**-2, 2.959**-2],
            "o": [4.96**-2, 7.97**-2, 5.74**-2],
        }
        params = np.array(cell[lattice[0]]) * rng.uniform(0.97, 1.03, (300, 1))
        params[::3] = cell[lattice[0]]  # cells that index every line
    elif lattice == "mP":
        params = mono * rng.uniform(0.97, 1.03, (300, 4))
        params[::3] = mono
    else:
        g = np.linalg.inv(triclinic(5.9, 7.2, 10.1, 80.0, 85.0, 75.0)[1])
        exact = _index._parameters(g[None])
        params = exact * rng.uniform(0.995, 1.005, (300, 6))
        params[::3] = exact
    got = _index._merits(params, rows, q, tol_q, floor_q, max_miss)
    assert (got > 0).any() and (got == 0).any()
    q_max = q[-1] * 1.001
    for p, m in zip(params, got):
        qc = np.sort(rows @ p)
        qc = qc[(qc > 0) & (qc <= q_max * 1.02)]
        d = np.min(np.abs(qc[:, None] - q[None]), axis=0)
        ok = d <= tol_q
        if ok.sum() < len(q) - max_miss:
            assert m == 0
            continue
        below = qc[qc <= q_max]
        n_calc = len(below) - np.sum(np.diff(below) <= 1e-7 * q_max)
        eps = np.mean(np.where(ok, np.maximum(d, floor_q), tol_q))
        assert m == pytest.approx(q_max / (2 * eps * max(n_calc, 1)), rel=1e-9)


# triclinic ------------------------------------------------------------------


def triclinic(a, b, c, alpha, beta, gamma, n=20, zero=0.0):
    """The first ``n`` distinct lines (Cu Kα1) of a triclinic cell, moved by
    ``zero`` degrees, and the cell's direct metric."""
    al, be, ga = np.radians([alpha, beta, gamma])
    g = np.array(
        [
            [a * a, a * b * np.cos(ga), a * c * np.cos(be)],
            [a * b * np.cos(ga), b * b, b * c * np.cos(al)],
            [a * c * np.cos(be), b * c * np.cos(al), c * c],
        ]
    )
    r = range(-6, 7)
    hkl = np.array([(h, k, l) for h in r for k in r for l in r if h or k or l])
    q = np.einsum("ij,jk,ik->i", hkl, np.linalg.inv(g), hkl)
    q = q[LAM * np.sqrt(q) / 2 < 1]
    tt = np.unique(np.round(2 * np.degrees(np.arcsin(LAM * np.sqrt(q) / 2)), 6))
    return tt[:n] + zero, g


def cell_metric(sol):
    """The direct metric of a solution's reported cell."""
    al, be, ga = np.radians([sol.alpha, sol.beta, sol.gamma])
    a, b, c = sol.a, sol.b, sol.c
    return np.array(
        [
            [a * a, a * b * np.cos(ga), a * c * np.cos(be)],
            [a * b * np.cos(ga), b * b, b * c * np.cos(al)],
            [a * c * np.cos(be), b * c * np.cos(al), c * c],
        ]
    )


@pytest.mark.parametrize(
    "cell",
    [
        (5.2, 7.1, 8.3, 95.0, 103.0, 88.0),
        (7.9, 12.9, 7.1, 94.0, 116.0, 88.0),
        (5.9, 7.2, 10.1, 80.0, 85.0, 75.0),
    ],
)
def test_triclinic_cells_are_found_reduced_with_their_indices(cell):
    pos, g = triclinic(*cell)
    found = index_powder(pos, lattices=("aP",))
    assert set(found) == {"aP"}
    sol = found["aP"]
    assert sol.crystal_family == "triclinic"
    assert sol.n_indexed == 20 and sol.figure_of_merit > 50
    # the same lattice: the volume, and every line where its indices on the
    # reported (reduced) cell put it
    reported = cell_metric(sol)
    assert np.sqrt(np.linalg.det(reported)) == pytest.approx(
        np.sqrt(np.linalg.det(g)), rel=1e-4
    )
    q = np.einsum("ij,jk,ik->i", sol.hkl, np.linalg.inv(reported), sol.hkl)
    assert np.allclose(2 * np.degrees(np.arcsin(LAM * np.sqrt(q) / 2)), pos, atol=2e-3)
    # reduced: a <= b <= c, no shorter vector from two of them, and the
    # angles all below 90° or all at least 90°
    assert sol.a <= sol.b <= sol.c
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert abs(reported[i, j]) <= reported[i, i] / 2 + 1e-6
    angles = np.array([sol.alpha, sol.beta, sol.gamma])
    assert np.all(angles < 90) or np.all(angles >= 90)
    assert sol.a == pytest.approx(min(cell[:3]), rel=1e-3)


def test_a_triclinic_cell_and_its_zero_shift_are_found_past_an_impurity_line():
    pos, g = triclinic(5.9, 7.2, 10.1, 80.0, 85.0, 75.0, n=19, zero=0.04)
    pos = np.sort(np.append(pos, 21.37))  # a line of no cell
    sol = index_powder(pos, lattices=("aP",))["aP"]
    assert sol.zero_shift == pytest.approx(0.04, abs=0.005)
    assert sol.n_indexed == 19 and sol.hkl[pos == 21.37].tolist() == [[-1, -1, -1]]
    assert np.sqrt(np.linalg.det(cell_metric(sol))) == pytest.approx(
        np.sqrt(np.linalg.det(g)), rel=1e-3
    )


def test_a_monoclinic_cell_is_a_triclinic_one_too():
    pos, _ = triclinic(5.2, 7.1, 8.3, 90.0, 103.0, 90.0)
    found = index_powder(pos, lattices=("mP", "aP"))
    mono, tric = found["mP"], found["aP"]
    assert tric.figure_of_merit > 50
    # its lattice: two right angles and the monoclinic one
    angles = sorted([tric.alpha, tric.beta, tric.gamma], key=lambda x: abs(x - 90))
    assert np.allclose(angles[:2], 90, atol=0.01)
    assert abs(angles[2] - 90) == pytest.approx(abs(mono.beta - 90), abs=0.01)
    # the triclinic cell allows as many lines (two of its reflections fall on
    # one monoclinic line): its merit is no higher
    assert tric.figure_of_merit <= mono.figure_of_merit * 1.001


def test_triclinic_is_tried_only_when_asked_for():
    pos, _ = triclinic(5.9, 7.2, 10.1, 80.0, 85.0, 75.0)
    assert set(index_powder(pos)) == set(LATTICE_TYPES)
    assert ALL_LATTICE_TYPES == (*LATTICE_TYPES, "aP")
    found = index_powder(pos, lattices=ALL_LATTICE_TYPES)
    best = max(
        found, key=lambda t: -1 if found[t] is None else found[t].figure_of_merit
    )
    assert best == "aP"
    assert found["aP"].figure_of_merit > 5 * max(
        s.figure_of_merit for t, s in found.items() if s is not None and t != "aP"
    )


def test_simulated_triclinic_crystals_index_as_triclinic():
    from skxrd.datasets import make_random_crystals

    crystals = make_random_crystals(
        4, space_groups=[2, 2, 2, 2], n_atoms=(4, 12), random_state=0
    )
    sim = PowderSimulator(two_theta_range=(10, 120))
    found = 0
    for x in sim.transform(crystals):
        pos = peak_positions(sim.two_theta, x, radiation="CuKa")
        sol = index_powder(pos, wavelength="CuKa", lattices=ALL_LATTICE_TYPES)
        merit = {t: 0.0 if s is None else s.figure_of_merit for t, s in sol.items()}
        others = max(m for t, m in merit.items() if t != "aP")
        found += merit["aP"] > 20 and merit["aP"] > 2 * others
    assert found >= 3


@pytest.mark.parametrize(
    "name, radiation, two_theta_range",
    [
        ("LiCoO2", "CuKa1", (5, 90)),  # 0 0 12 and 0 1 11 at 82-86°
        ("LiCoO2", "CuKa1", (5, 120)),  # mP had won
    ],
)
def test_long_axes_index_past_the_search_indices(name, radiation, two_theta_range):
    # lines of indices over 10 (the search's table) went unexplained, and a
    # wrong monoclinic cell that indexed them all won (LiCoO2: mC 357.8
    # against hR 214.7 of 17 of 19 lines)
    sim = PowderSimulator(radiation=radiation, two_theta_range=two_theta_range)
    crystal = load_example_crystal(name)
    y = sim.transform([crystal])[0]
    peaks = peak_positions(sim.two_theta, y, radiation=radiation)
    found = index_powder(peaks, wavelength=radiation)
    rhombohedral = found["hR"]
    assert rhombohedral.n_indexed == rhombohedral.n_lines
    best = max((s for s in found.values() if s), key=lambda s: s.figure_of_merit)
    assert best.lattice == "hR"
    c = np.linalg.norm(crystal.lattice, axis=1).max()  # hexagonal axes
    assert rhombohedral.c == pytest.approx(c, rel=2e-3)
    # the search the shipped stackers were fitted on: lines past 10 unexplained
    short = index_powder(peaks, wavelength=radiation, long_axes=False)["hR"]
    assert short.n_indexed < short.n_lines
    assert short.figure_of_merit < rhombohedral.figure_of_merit
    with pytest.raises(ValueError, match="long_axes must be True or False"):
        index_powder(peaks, wavelength=radiation, long_axes="yes")


def test_the_zone_search_warns_nothing_on_exact_lines():
    # nearly singular metrics of the triclinic zones (for the monoclinic
    # twofold axes too) divided 0 by 0 in the reduction: four RuntimeWarnings
    hkl = np.array([[1, 1, 1], [2, 0, 0], [2, 2, 0], [3, 1, 1], [2, 2, 2],
                    [4, 0, 0], [3, 3, 1], [4, 2, 0], [4, 2, 2], [5, 1, 1]])  # fmt: skip
    d = 5.64 / np.sqrt((hkl**2).sum(1))
    tt = 2 * np.degrees(np.arcsin(1.540562 / (2 * d)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = index_powder(tt, lattices=ALL_LATTICE_TYPES)
    assert found["cF"].a == pytest.approx(5.64, abs=1e-3)


@pytest.mark.parametrize("hmax", [10, 24])
def test_lattice_tables_are_those_of_lexsort_and_unique_rows(hmax):
    """The tables keyed by one integer per row (quicker to build in each
    process: the wide ones of long axes took 0.7 s) are np.lexsort's and
    np.unique(axis=0)'s, representatives included."""
    from skxrd.indexing._index import (
        ALL_LATTICE_TYPES,
        _allowed,
        _hkl,
        _lattice_table,
        _metric,
    )

    h, k, l = _hkl(hmax)
    for lat in ALL_LATTICE_TYPES:
        fam, cen = lat
        ok = _allowed(h, k, l, cen)
        rows = _metric(h[ok], k[ok], l[ok], fam)
        hkl = np.stack([h[ok], k[ok], l[ok]], 1)
        order = np.lexsort((-hkl[:, 2], -hkl[:, 1], -hkl[:, 0], (hkl < 0).sum(1)))
        uniq, first = np.unique(rows[order], axis=0, return_index=True)
        got_rows, got_hkl = _lattice_table(lat, h, k, l)
        assert got_rows.dtype == float and np.array_equal(got_rows, uniq), lat
        assert np.array_equal(got_hkl, hkl[order][first]), lat


def test_radix_key_orders_rows_lexicographically_or_declines():
    from skxrd.indexing._index import _radix_key

    rows = np.array([[2, -1, 5], [0, 3, 3], [2, -1, 4], [0, 3, 3], [-7, 9, 0]])
    key = _radix_key(rows.T)
    assert np.array_equal(np.argsort(key, kind="stable"), np.lexsort(rows.T[::-1]))
    assert _radix_key([np.array([0, 2**40]), np.array([0, 2**40])]) is None


# one crystal at any wavelength ----------------------------------------------

CU_KA1 = 1.5405929  # index_powder's "CuKa1"


def read_at(tt, wavelength):
    """Cu Kα1 angles ``tt`` as lines of the same Q read at ``wavelength``."""
    return 2 * np.degrees(np.arcsin(np.sin(np.radians(tt) / 2) * wavelength / CU_KA1))


# the first 20 lines (over 1 % of the strongest) of Y2Ge5Ru3 (mp-620812, Ibam)
Y2GE5RU3_HKL = [
    (0, 0, 2), (0, 2, 0), (1, 1, 2), (0, 1, 3), (1, 2, 1), (0, 0, 4), (2, 0, 0),
    (1, 2, 3), (2, 1, 1), (1, 1, 4), (0, 2, 4), (2, 0, 2), (1, 3, 2), (0, 3, 3),
    (2, 2, 0), (0, 4, 0), (0, 1, 5), (2, 2, 2), (2, 1, 3), (1, 4, 1),
]  # fmt: skip


@pytest.mark.parametrize("wavelength", ["MoKa1", 0.73, 0.5])
def test_an_orthorhombic_cell_found_at_cu_ka_is_found_at_any_wavelength(wavelength):
    # the windows were 2θ degrees of the lines' own wavelength, twice as wide
    # in Q at Mo Kα as at Cu Kα: 9,227 candidates of this crystal passed the
    # loose one against 2,885, the true cell fell past the 1,500 smallest
    # kept, and an oP cell of half its a indexing 16 of 20 lines won (M 10)
    q = np.sort(((np.array(Y2GE5RU3_HKL) / [5.796, 9.897, 12.536]) ** 2).sum(1))
    cu = 2 * np.degrees(np.arcsin(CU_KA1 * np.sqrt(q) / 2))
    lattices = ("oP", "oC", "oI", "oF")
    ref = index_powder(cu, lattices=lattices)["oI"]
    lam = get_radiation(wavelength).wavelengths[0]
    found = index_powder(read_at(cu, lam), wavelength=wavelength, lattices=lattices)
    best = max((s for s in found.values() if s), key=lambda s: s.figure_of_merit)
    assert best.lattice == "oI" and best.n_indexed == 20
    assert (best.a, best.b, best.c) == pytest.approx((5.796, 9.897, 12.536), rel=1e-6)
    assert best.figure_of_merit == pytest.approx(ref.figure_of_merit, rel=1e-6)


def c_centred(h, k, l):
    return (h + k) % 2 == 0


@pytest.mark.parametrize(
    "lattice, lines_cu",
    [
        ("cF", lambda: rock_salt()),
        ("tP", lambda: tetragonal()),
        ("hP", lambda: hexagonal()),
        ("oC", lambda: orthorhombic(6.049, 6.206, 8.668, c_centred)),
        ("mP", lambda: monoclinic(7.3, 9.1, 10.7, 103.0)),
        ("mC", lambda: monoclinic(9.7, 8.9, 5.3, 105.6, c_centred)),
        ("aP", lambda: triclinic(5.9, 7.2, 10.1, 80.0, 85.0, 75.0)[0]),
    ],
)  # fmt: skip
def test_each_family_indexes_alike_at_cu_and_mo_ka(lattice, lines_cu):
    # the same lines (the same Q) read at Mo Kα1: the same cell, indices and
    # merit (de Wolff's merit is one of Q); the merits were half as high. Lines
    # Cu Kα1 sees past 90° keep its widest window at Mo (not Cu's narrowing
    # one), which weighs them a little differently in the refinement
    cu = lines_cu()
    kw = {"lattices": (lattice,), "max_zero_shift": 0.0}
    ref = index_powder(cu, **kw)[lattice]
    sol = index_powder(read_at(cu, 0.70931715), wavelength="MoKa1", **kw)[lattice]
    assert ref.n_indexed == sol.n_indexed == len(cu)
    np.testing.assert_array_equal(sol.hkl, ref.hkl)
    cell = ("a", "b", "c", "alpha", "beta", "gamma")
    assert [getattr(sol, x) for x in cell] == pytest.approx(
        [getattr(ref, x) for x in cell], rel=1e-7
    )
    assert sol.figure_of_merit == pytest.approx(ref.figure_of_merit, rel=2e-3)


def test_the_tolerance_counts_in_degrees_of_its_own_wavelength():
    # a line 0.04° off among Mo Kα1 lines: 0.04° of Mo Kα 2θ there are about
    # 0.085° of Cu Kα 2θ, past the default tolerance (0.05° at Cu Kα1), and
    # within it counted in Mo Kα's own degrees
    mo = read_at(rock_salt(), 0.70931715)
    mo[5] += 0.04
    kw = {"wavelength": "MoKa1", "lattices": ("cF",), "max_zero_shift": 0.0}
    assert index_powder(mo, **kw)["cF"].hkl[5].tolist() == [-1, -1, -1]
    own = index_powder(mo, tolerance_wavelength="MoKa1", **kw)["cF"]
    assert own.hkl[5].tolist() == [4, 0, 0]
    with pytest.raises(ValueError, match="tolerance_wavelength: unknown radiation"):
        index_powder(mo, tolerance_wavelength="XxKa")
    with pytest.raises(ValueError, match="tolerance_wavelength: .*not a positive"):
        index_powder(mo, tolerance_wavelength=-1.0)


def test_lines_past_cu_ka_reach_get_its_widest_window():
    # bcc iron at Ag Kα1 to 2θ = 75°: lines of d below 0.77 Å, which Cu Kα1
    # cannot reach, are scored with its window at 2θ = 90° (not none)
    hkl = [(h, k, l) for h in range(7) for k in range(h + 1) for l in range(k + 1)]
    n = np.unique([h * h + k * k + l * l for h, k, l in hkl if (h + k + l) % 2 == 0])
    d = 2.8665 / np.sqrt(n[n > 0][:12])
    assert d.min() < CU_KA1 / 2
    tt = 2 * np.degrees(np.arcsin(0.55942178 / (2 * d)))
    sol = index_powder(tt, wavelength="AgKa1", lattices=("cI",))["cI"]
    assert sol.n_indexed == 12 and sol.a == pytest.approx(2.8665, rel=1e-6)
    assert sol.figure_of_merit > 100


def test_windows_of_a_shorter_wavelength_never_narrow_with_angle():
    # Mo Kα lines that Cu Kα1 would see past 2θ = 90° lie at ordinary Mo
    # angles: their windows are capped at Cu Kα1's widest, not shrunk towards
    # its 180° (where they were down to a tenth of it)
    from skxrd.indexing._index import _line_scales

    pos = np.linspace(5.0, 60.0, 400)
    q, tol_q, loose_q, floor_q, _, weight, _ = _line_scales(
        pos, 0.70931715, 0.05, 0.2, CU_KA1
    )
    for window in (tol_q, loose_q, floor_q, weight):
        assert np.all(np.diff(window) >= -1e-15)
    assert tol_q.max() == pytest.approx(4 / CU_KA1**2 * np.sin(np.radians(0.025)))
    # at Cu Kα1 itself the windows are those of the lines' own 2θ, unchanged
    cu = _line_scales(pos * 2, CU_KA1, 0.05, 0.2, CU_KA1)
    own = _line_scales(pos * 2, CU_KA1, 0.05, 0.2)
    for a, b in zip(cu, own):
        np.testing.assert_array_equal(a, b)


def test_a_zero_shift_at_mo_ka_is_refined_in_its_own_degrees():
    # a zero error is an offset of the instrument's 2θ scale, whatever its
    # wavelength: refined, and bounded by max_zero_shift, in those degrees
    pos = read_at(garnet_like(), 0.70931715) + 0.05
    sol = index_powder(pos, wavelength="MoKa1", lattices=("cI",))["cI"]
    assert sol.a == pytest.approx(11.58, abs=1e-3)
    assert sol.zero_shift == pytest.approx(0.05, abs=2e-3)
    assert sol.n_indexed == 20
    far = index_powder(pos + 0.3, wavelength="MoKa1", lattices=("cI",))["cI"]
    assert far is None or abs(far.zero_shift) <= 0.1 + 1e-12


def test_lattice_merits_and_space_group_merits_take_the_tolerance_wavelength():
    tt = np.arange(5, 45, 0.01)
    mo = read_at(rock_salt(), 0.70931715)
    y = gaussians(tt, mo, width=0.02)
    kw = {"radiation": "MoKa1", "space_groups": True, "lattices": ("cF",)}
    m_cu, g_cu = lattice_merits(y[None], tt, **kw)
    m_mo, g_mo = lattice_merits(y[None], tt, tolerance_wavelength="MoKa1", **kw)
    cf = ALL_LATTICE_TYPES.index("cF")
    assert m_cu[0, cf] > 1.5 * m_mo[0, cf] > 0
    # the groups are scored with the windows the cell was found with
    pos = peak_positions(tt, y, radiation="MoKa1")
    sol = index_powder(
        pos, wavelength="MoKa1", lattices="cF", tolerance_wavelength="MoKa1"
    )["cF"]
    direct = space_group_merits(
        pos, sol, wavelength="MoKa1", tolerance_wavelength="MoKa1"
    )
    assert g_mo[0, 224] == pytest.approx(direct[225], rel=1e-12)
    assert g_cu[0, 224] > 1.5 * g_mo[0, 224]


@pytest.mark.skipif(not RRUFF.exists(), reason="the shared measured data is absent")
def test_monoclinic_candidates_kept_grow_with_the_first_lines_tried():
    # azurite (RRUFF 45; AMCSD: P2_1/c, 5.01 5.85 10.35 Å, 92.4°) on the
    # peaks the shipped models index: with four first lines the monoclinic
    # search kept 400 candidates, as for two, and small wrong cells crowded
    # the true one out (mP 8.61 6.69 15.88 Å, M = 7.3); the orthorhombic
    # search keeps more per two first lines tried, and so does it now
    from skxrd.cli import _load_model
    from skxrd.estimators._indexing_core import _indexing_rows
    from skxrd.io import Pattern

    with np.load(RRUFF) as f:
        x, tt = f["X"][45], f["two_theta"]
    model = _load_model("crystal-system", "cpu", False, light=True)
    ix = model._indexing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = model.transform_patterns([Pattern(tt, x, wavelength="CuKa")])
    pos = peak_positions(
        ix.two_theta, _indexing_rows(rows, ix.scale)[0], radiation=ix.radiation
    )
    found = index_powder(
        pos, wavelength=ix.radiation, lattices=("mP", "mC"), max_zero_shift=0.1
    )
    best = max((s for s in found.values() if s), key=lambda s: s.figure_of_merit)
    assert best.figure_of_merit > 20
    assert (best.a, best.b, best.c, best.beta) == pytest.approx(
        (5.011, 5.848, 10.346, 92.43), rel=0.005
    )


def test_rows_indexed_in_a_holding_block_are_read_back_past_the_cache(monkeypatch):
    # the cache of recent rows (_SOLVED_SIZE) lost the earlier rows of a
    # longer pass; inside _holding_indexed every row of it is read back
    from skxrd.indexing import _index

    sim = PowderSimulator(two_theta_range=(10, 80), two_theta_step=0.02)
    names = ["NaCl", "Si", "Cu"]
    X = sim.transform([load_example_crystal(n) for n in names])
    monkeypatch.setattr(_index, "_SOLVED_SIZE", 1)
    _index._SOLVED.clear()
    searches = []
    search = _index.index_powder
    monkeypatch.setattr(
        _index, "index_powder", lambda *a, **k: searches.append(1) or search(*a, **k)
    )
    settings = {"radiation": "CuKa", "lattices": ("cP", "cF", "cI")}
    with _index._holding_indexed():
        first = _index._indexed_rows(X, sim.two_theta, **settings)
        with _index._holding_indexed():  # nested: the outer block holds on
            pass
        again = _index._indexed_rows(X, sim.two_theta, **settings)
    assert len(searches) == 3  # each row indexed once, read back after
    assert all(a[1] is b[1] for a, b in zip(first, again))
    assert getattr(_index._HELD, "rows", None) is None  # dropped at the end
    assert len(_index._SOLVED) == 1
    _index._indexed_rows(X[:1], sim.two_theta, **settings)  # past the cache
    assert len(searches) == 4
