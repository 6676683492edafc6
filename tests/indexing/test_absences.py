"""Space groups weighed on an indexed cell by their systematic absences."""

import numpy as np
import pytest

from skxrd.datasets import load_example_crystal
from skxrd.indexing import (
    index_powder,
    lattice_merits,
    peak_positions,
    space_group_merits,
)
from skxrd.indexing._absences import _build_family_tables, _family_tables
from skxrd.simulation import PowderSimulator

LAM = 1.540562


def two_theta(q):
    q = np.unique(np.round(np.asarray(q, float), 10))
    q = q[LAM * np.sqrt(q) / 2 < 1]
    return 2 * np.degrees(np.arcsin(LAM * np.sqrt(q) / 2))


def monoclinic_lines(a, b, c, beta, allowed, n=20):
    be = np.radians(beta)
    r = range(-6, 7)
    q = [
        (h * h / a**2 + l * l / c**2 - 2 * h * l * np.cos(be) / (a * c))
        / np.sin(be) ** 2
        + k * k / b**2
        for h in r
        for k in r
        for l in r
        if (h, k, l) != (0, 0, 0) and allowed(h, k, l)
    ]
    return two_theta(q)[:n]


def orthorhombic_lines(a, b, c, allowed, n=20):
    r = range(0, 8)
    q = [
        h * h / a**2 + k * k / b**2 + l * l / c**2
        for h in r
        for k in r
        for l in r
        if h + k + l and allowed(h, k, l)
    ]
    return two_theta(q)[:n]


def p21c(h, k, l):
    """P2₁/c (b unique): h0l with l odd and 0k0 with k odd are absent."""
    return not (k == 0 and l % 2) and not (h == 0 and l == 0 and k % 2)


def pnma(h, k, l):
    """Pnma's conditions: 0kl k + l even, hk0 h even, h00, 0k0, 00l even."""
    if h == 0 and (k + l) % 2:
        return False
    if l == 0 and h % 2:
        return False
    return not (
        (k == 0 and l == 0 and h % 2)
        or (h == 0 and l == 0 and k % 2)
        or (h == 0 and k == 0 and l % 2)
    )


def best(merits):
    top = max(merits.values())
    return {n for n, m in merits.items() if np.isclose(m, top)}


def test_a_primitive_group_without_absences_scores_the_lattices_merit():
    pos = monoclinic_lines(7.3, 9.1, 10.7, 103.0, lambda h, k, l: True)
    sol = index_powder(pos, lattices=("mP",))["mP"]
    merits = space_group_merits(pos, sol)
    assert set(merits) == set(range(3, 16))
    # P2, Pm and P2/m forbid nothing: the lattice's own merit, to the digit
    for number in (3, 6, 10):
        assert merits[number] == pytest.approx(sol.figure_of_merit, rel=1e-12)
    # groups that forbid observed lines score lower
    assert merits[14] < sol.figure_of_merit


def test_a_screw_axis_and_a_glide_are_read_off_the_missing_lines():
    # a cell with the absences of P2₁/c (settings c, n or a are all group 14)
    pos = monoclinic_lines(7.9, 6.1, 9.4, 106.0, p21c)
    sol = index_powder(pos, lattices=("mP",))["mP"]
    merits = space_group_merits(pos, sol)
    assert best(merits) == {14}
    # a group with one of the two conditions scores between
    assert merits[14] > merits[13] > merits[10]
    assert merits[14] > merits[11] > merits[10]


def test_an_orthorhombic_groups_setting_follows_the_sorted_axes():
    # Pnma on a cell whose axes index_powder reorders (a <= b <= c): the
    # group is found in the setting that fits (Pnam here)
    pos = orthorhombic_lines(5.9, 7.7, 5.4, pnma)
    sol = index_powder(pos, lattices=("oP",))["oP"]
    assert (sol.a, sol.b, sol.c) == pytest.approx((5.4, 5.9, 7.7), abs=1e-3)
    merits = space_group_merits(pos, sol)
    assert 62 in best(merits)
    assert merits[62] > 1.4 * merits[47]  # Pmmm: no absences


@pytest.mark.parametrize(
    "name, group, below",
    # d glides; P6₃mc's 6₃ axis and c glide (000l, hh2̄hl with l odd absent)
    [("Si", 227, 225), ("ZnO", 186, 183)],
)
def test_simulated_crystals_rank_their_own_group_first(name, group, below):
    sim = PowderSimulator(two_theta_range=(10, 120))
    crystal = load_example_crystal(name)
    y = sim.transform([crystal])
    merits, groups = lattice_merits(
        y, sim.two_theta, radiation="CuKa", space_groups=True
    )
    assert merits.shape == (1, 15) and groups.shape == (1, 230)
    family = (195, 230) if group > 194 else (143, 194)
    g = np.zeros(230)
    g[family[0] - 1 : family[1]] = groups[0, family[0] - 1 : family[1]]
    assert g[group - 1] == pytest.approx(g.max())
    assert g[group - 1] > g[below - 1] > 0
    # the same from the peak list
    pos = peak_positions(sim.two_theta, y[0], radiation="CuKa")
    found = [s for s in index_powder(pos).values() if s is not None]
    letter = "c" if group > 194 else "h"
    cell = max(
        (s for s in found if s.lattice[0] == letter), key=lambda s: s.figure_of_merit
    )
    assert space_group_merits(pos, cell)[group] == pytest.approx(g[group - 1])


def test_lattice_merits_with_space_groups_leave_other_families_at_zero():
    sim = PowderSimulator(two_theta_range=(10, 120))
    y = sim.transform([load_example_crystal("TiO2-rutile")])
    merits, groups = lattice_merits(
        y, sim.two_theta, lattices=("tP", "tI"), space_groups=True
    )
    np.testing.assert_array_equal(
        merits, lattice_merits(y, sim.two_theta, lattices=("tP", "tI"))
    )
    assert groups[0, 74:142].max() > 20  # tetragonal groups 75-142
    assert np.all(groups[0, :74] == 0) and np.all(groups[0, 142:] == 0)
    # rutile, P4₂/mnm: 0kl with k + l odd absent
    assert groups[0, 136 - 1] == pytest.approx(groups[0, 74:142].max())
    parallel = lattice_merits(
        y, sim.two_theta, lattices=("tP", "tI"), space_groups=True, n_jobs=2
    )
    np.testing.assert_array_equal(parallel[1], groups)


def test_a_triclinic_cell_scores_both_of_its_groups_alike():
    sol = type("S", (), {})()
    pos = monoclinic_lines(7.3, 9.1, 10.7, 103.0, lambda h, k, l: True)
    tric = index_powder(pos, lattices=("aP",))["aP"]
    assert space_group_merits(pos, tric) == {
        1: tric.figure_of_merit,
        2: tric.figure_of_merit,
    }
    with pytest.raises(ValueError, match="IndexingSolution"):
        space_group_merits(pos, sol)


def test_every_setting_is_on_the_cells_axes_and_each_group_is_tabled():
    numbers = np.concatenate([_family_tables(f)[1] for f in "mohtc"])
    assert set(numbers.tolist()) == set(range(3, 231))
    # the six axis choices of Pnma are six absence patterns; P2₁/c's three
    # cell choices (c, n, a glides) three
    assert np.sum(_family_tables("o")[1] == 62) == 6
    assert np.sum(_family_tables("m")[1] == 14) == 3
    # the rhombohedral groups on hexagonal axes only: R3 allows -h + k + l = 3n
    rows, numbers, allowed = _family_tables("h")
    assert np.sum(numbers == 146) == 1


@pytest.mark.parametrize(
    "positions, kwargs, match",
    [
        ([20.0, 30.0], {}, "positions must hold the solution's"),
        (None, {"tolerance": 0}, "tolerance must be a positive number"),
        (None, {"max_unindexed": 1.0}, r"max_unindexed must be in \[0, 1\)"),
        (None, {"wavelength": "XxKa"}, "XxKa"),
    ],
)
def test_bad_inputs_are_named(positions, kwargs, match):
    pos = monoclinic_lines(7.3, 9.1, 10.7, 103.0, lambda h, k, l: True)
    sol = index_powder(pos, lattices=("mP",))["mP"]
    with pytest.raises(ValueError, match=match):
        space_group_merits(pos if positions is None else positions, sol, **kwargs)
    bad = pos.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        space_group_merits(bad, sol)
    # out of order, every group scored 0: the last line was taken for Q_N
    bad = pos.copy()
    bad[[0, -1]] = bad[[-1, 0]]
    with pytest.raises(ValueError, match="strictly increasing"):
        space_group_merits(bad, sol)


@pytest.mark.parametrize("hmax", [10, 24])
@pytest.mark.parametrize("family", list("mohtc"))
def test_the_stored_tables_are_those_spglibs_operations_give(family, hmax):
    # the search's indices and the wider ones of long axes
    stored, built = _family_tables(family, hmax), _build_family_tables(family, hmax)
    for a, b in zip(stored, built):
        np.testing.assert_array_equal(a, b)
    # the first metric term reaches its largest value at the box's corner
    corner = {"t": 2, "h": 3, "c": 3}.get(family, 1) * hmax**2
    assert stored[0][:, 0].max() == corner


def licoo2_lines(two_theta_range=(5, 90)):
    """LiCoO2's peaks (R-3m, c = 14 Å): its 0 0 12 and 0 1 11 at 82-86°."""
    sim = PowderSimulator(radiation="CuKa1", two_theta_range=two_theta_range)
    y = sim.transform([load_example_crystal("LiCoO2")])
    return sim, y, peak_positions(sim.two_theta, y[0], radiation="CuKa1")


@pytest.mark.parametrize("two_theta_range", [(5, 90), (5, 120)])
def test_a_long_axis_is_scored_on_the_indices_it_was_indexed_on(two_theta_range):
    # the cell is scored on indices up to 24 (its lines need 12), its groups
    # were on up to 10: R3, which forbids nothing past the R centring, scored
    # 214.7 against the cell's 565.0, its 0 0 12 and 0 1 11 unexplained
    _, _, pos = licoo2_lines(two_theta_range)
    sol = index_powder(pos, lattices=("hR",))["hR"]
    assert sol.n_indexed == sol.n_lines and sol.hkl.max() > 10
    merits = space_group_merits(pos, sol)
    for number in (146, 148, 160, 166):  # R3, R-3, R3m, R-3m
        assert merits[number] == pytest.approx(sol.figure_of_merit, rel=1e-12)
    assert 166 in best(merits)
    # R-3c forbids the observed 0 0 3 (000l: l = 6n)
    assert merits[167] < sol.figure_of_merit / 2
    # index_powder's long_axes=False: on indices up to 10 both
    short = index_powder(pos, lattices=("hR",), long_axes=False)["hR"]
    merits = space_group_merits(pos, short, long_axes=False)
    assert merits[146] == pytest.approx(short.figure_of_merit, rel=1e-12)
    assert merits[146] < sol.figure_of_merit / 2


def test_lattice_merits_score_space_groups_on_the_search_indices_asked_for():
    sim, y, pos = licoo2_lines()
    merits, groups = lattice_merits(
        y, sim.two_theta, radiation="CuKa1", lattices=("hR",), space_groups=True
    )
    assert groups[0, 166 - 1] == pytest.approx(merits[0, 6], rel=1e-12)  # hR
    assert groups[0, 166 - 1] > 500
    # the stackers' setting (long_axes=False) keeps its features
    merits, groups = lattice_merits(
        y,
        sim.two_theta,
        radiation="CuKa1",
        lattices=("hR",),
        space_groups=True,
        long_axes=False,
    )
    short = index_powder(pos, lattices=("hR",), long_axes=False)["hR"]
    assert merits[0, 6] == short.figure_of_merit
    assert groups[0, 166 - 1] == space_group_merits(pos, short, long_axes=False)[166]
    assert groups[0, 166 - 1] < 300


def test_cells_without_long_axes_score_alike_either_way():
    # lines of indices up to 10: the search's tables, whatever long_axes says
    pos = monoclinic_lines(7.9, 6.1, 9.4, 106.0, p21c)
    sol = index_powder(pos, lattices=("mP",))["mP"]
    assert space_group_merits(pos, sol) == space_group_merits(pos, sol, long_axes=False)
    with pytest.raises(ValueError, match="long_axes must be True or False"):
        space_group_merits(pos, sol, long_axes="no")
