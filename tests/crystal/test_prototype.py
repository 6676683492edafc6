"""Prototype labels and structure descriptions."""

import numpy as np
import pytest

from skxrd.crystal import Crystal, describe_structure, prototype_label
from skxrd.datasets import load_example_crystal


def rocksalt(a_el, b_el, a):
    return Crystal.from_wyckoff(225, [(a_el, "4a"), (b_el, "4b")], a=a)


def test_substituted_and_strained_compounds_share_the_label():
    nacl = rocksalt("Na", "Cl", 5.64)
    mgo = rocksalt("Mg", "O", 4.21)
    strained = nacl.replace(lattice=np.asarray(nacl.lattice) * 1.03)
    labels = {prototype_label(c) for c in (nacl, mgo, strained)}
    assert labels == {"AB_225_a_b"}


def test_polymorphs_and_other_stoichiometries_differ():
    zincblende = Crystal.from_wyckoff(216, [("Zn", "4a"), ("S", "4c")], a=5.41)
    wurtzite = Crystal.from_wyckoff(
        186,
        [("Zn", "2b", (1 / 3, 2 / 3, 0.0)), ("S", "2b", (1 / 3, 2 / 3, 0.375))],
        a=3.82,
        c=6.26,
    )
    fluorite = Crystal.from_wyckoff(225, [("Ca", "4a"), ("F", "8c")], a=5.46)
    labels = [prototype_label(c) for c in (zincblende, wurtzite, fluorite)]
    # zincblende: 4a + 4c of F-43m (4a + 4b would be rocksalt's positions)
    # wurtzite: both on 2b (1/3, 2/3, z), not on the 6_3 axis (2a)
    assert labels == ["AB_216_a_c", "AB_186_b_b", "AB2_225_a_c"]


def test_primitive_and_conventional_cells_give_the_same_description():
    nacl = rocksalt("Na", "Cl", 5.64)
    prim = Crystal(
        np.array([[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]) * 5.64,
        ["Na", "Cl"],
        [[0, 0, 0], [0.5, 0.5, 0.5]],
    )
    a, b = describe_structure(nacl), describe_structure(prim)
    assert a.prototype == b.prototype
    assert a.n_conventional == b.n_conventional == 8
    np.testing.assert_allclose(a.conventional_parameters, b.conventional_parameters)


def test_element_order_follows_the_letters():
    caf2 = Crystal.from_wyckoff(225, [("F", "8c"), ("Ca", "4a")], a=5.46)
    d = describe_structure(caf2)
    assert d.elements == ("Ca", "F") and d.wyckoff == ("a", "c")


def test_repeated_orbits_are_listed():
    assert prototype_label(load_example_crystal("Si")) == "A_227_a"
    # perovskite CaTiO3, Pnma: O on 4c and 8d
    c = Crystal.from_wyckoff(
        62,
        [
            ("Ca", "4c", (0.03, 0.25, 0.99)),
            ("Ti", "4b"),
            ("O", "4c", (0.48, 0.25, 0.08)),
            ("O", "8d", (0.29, 0.04, 0.71)),
        ],
        a=5.44,
        b=7.64,
        c=5.38,
    )
    # Ti on 4b: renamed 4a, the same kind of position (inversion centres)
    assert prototype_label(c) == "ABC3_62_a_c_cd"
    d = describe_structure(c)
    assert d.wyckoff[d.elements.index("O")] == "cd"


def test_partial_occupancy_counts_the_majority_species():
    nacl = rocksalt("Na", "Cl", 5.64)
    n = nacl.n_atoms
    # K shares the Na sites (20 %)
    na = [i for i, e in enumerate(nacl.elements) if e == "Na"]
    mixed = Crystal(
        nacl.lattice,
        list(nacl.species) + ["K"] * len(na),
        np.concatenate([nacl.frac_coords, nacl.frac_coords[na]]),
        occupancies=np.r_[
            np.where(np.isin(np.arange(n), na), 0.8, 1.0), np.full(len(na), 0.2)
        ],
    )
    assert prototype_label(mixed) == "AB_225_a_b"


def test_the_label_does_not_depend_on_the_origin():
    si = load_example_crystal("Si")
    shifted = si.replace(frac_coords=(si.frac_coords + 0.25) % 1.0)
    # spglib puts the atoms on 8b for one origin and on 8a for the other
    assert describe_structure(si).wyckoff != describe_structure(shifted).wyckoff
    assert prototype_label(si) == prototype_label(shifted) == "A_227_a"
    nacl = rocksalt("Na", "Cl", 5.64)
    for shift in ([0.5, 0, 0], [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]):
        moved = nacl.replace(frac_coords=(nacl.frac_coords + shift) % 1.0)
        assert prototype_label(moved) == "AB_225_a_b"


def test_positions_of_one_kind_that_no_origin_relates_stay_apart():
    # Cu3Au (L1_2) and ReO3 (D0_9): 1a + 3c against 1a + 3d of Pm-3m. 3c and 3d
    # have the same site symmetry, but only the shift by (1/2, 1/2, 1/2), which
    # also moves 1a to 1b, maps one onto the other.
    cu3au = Crystal.from_wyckoff(221, [("Au", "1a"), ("Cu", "3c")], a=3.75)
    reo3 = Crystal.from_wyckoff(221, [("Re", "1a"), ("O", "3d")], a=3.75)
    assert prototype_label(cu3au) != prototype_label(reo3)
    for c in (cu3au, reo3):
        moved = c.replace(frac_coords=(c.frac_coords + 0.5) % 1.0)
        assert prototype_label(moved) == prototype_label(c)
    # CaB6 written with Ca on 1b and B on 6e is CaB6 (1a + 6f)
    cab6 = Crystal.from_wyckoff(
        221, [("Ca", "1a"), ("B", "6f", (0.2, 0.5, 0.5))], a=4.1
    )
    other = Crystal.from_wyckoff(221, [("Ca", "1b"), ("B", "6e", (0.3, 0, 0))], a=4.1)
    assert prototype_label(cab6) == prototype_label(other) == "AB6_221_a_f"


def test_a_supercell_has_the_label_of_its_cell():
    cu3au = Crystal.from_wyckoff(221, [("Au", "1a"), ("Cu", "3c")], a=3.75)
    frac = np.concatenate([(cu3au.frac_coords + [0, k, 0]) / [1, 2, 1] for k in (0, 1)])
    double = Crystal(
        np.diag([1.0, 2.0, 1.0]) @ cu3au.lattice, list(cu3au.species) * 2, frac
    )
    # spglib's equivalent_atoms splits 3c into two orbits of the doubled cell
    assert prototype_label(double) == prototype_label(cu3au) == "AB3_221_a_c"


def test_the_label_does_not_depend_on_the_element_names():
    # LiGaGe type (P6_3mc: 2a + 2b + 2b); the names sort in another order
    # when Li becomes Al, which must not rename the positions
    def ligage(a_el, b_el, c_el):
        return Crystal.from_wyckoff(
            186,
            [
                (a_el, "2a", (0, 0, 0.0)),
                (b_el, "2b", (1 / 3, 2 / 3, 0.2)),
                (c_el, "2b", (1 / 3, 2 / 3, 0.8)),
            ],
            a=4.2,
            c=6.8,
        )

    labels = {prototype_label(ligage(*e.split())) for e in ("Li Ga Ge", "Al Ga Ge")}
    assert labels == {"ABC_186_a_b_b"}


def test_the_label_is_invariant_under_changes_of_description():
    # origin shift, atom order and a unimodular change of basis, on a few
    # structure types of different crystal families
    from skxrd.datasets import load_structure_type

    rng = np.random.default_rng(0)
    basis = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    for name in ("spinel", "corundum", "olivine", "chalcopyrite", "cab6"):
        c = load_structure_type(name).crystal()
        label = prototype_label(c)
        order = rng.permutation(c.n_atoms)
        moved = Crystal(
            basis @ c.lattice,
            [c.species[i] for i in order],
            (c.frac_coords[order] @ np.linalg.inv(basis) + rng.random(3)) % 1.0,
        )
        assert prototype_label(moved) == label, name


def test_a_label_tries_each_renaming_of_the_letters_in_use_once(monkeypatch):
    # P-1's normalizer permutes its 9 letters in 1344 ways; the label depends
    # on where the letters in use go (here a: to one of the 8 inversion
    # centres), not on the others: one candidate each, not 1344
    from skxrd.crystal import _prototype

    c = Crystal.from_wyckoff(
        2,
        [("Cu", "1b"), ("O", "2i", (0.1, 0.2, 0.3))],
        a=4.0,
        b=5.0,
        c=6.0,
        alpha=80.0,
        beta=95.0,
        gamma=100.0,
    )
    calls = []
    anonymous = _prototype._anonymous
    monkeypatch.setattr(
        _prototype, "_anonymous", lambda counts: calls.append(1) or anonymous(counts)
    )
    assert prototype_label(c) == "AB2_2_a_i"
    assert 1 <= len(calls) <= 8


@pytest.mark.parametrize(
    "number", [1, 2, 14, 47, 62, 148, 166, 186, 194, 216, 221, 227]
)
def test_the_bundled_letter_permutations_are_the_computed_ones(number):
    # prototype_label reads the normalizer's letter permutations from a table
    # (tools/build_letter_permutations.py): the search cost 16-24 s over the
    # 230 groups in every process; the table must be what the search finds
    from skxrd.crystal._prototype import (
        _letter_permutations,
        computed_letter_permutations,
    )

    def as_set(perms):
        return {tuple(sorted(p.items())) for p in perms}

    assert as_set(_letter_permutations(number)) == as_set(
        computed_letter_permutations(number)
    )


def test_labels_need_no_normalizer_search(monkeypatch):
    from skxrd.crystal import _prototype

    def search(number):
        raise AssertionError(f"searched the normalizer of group {number}")

    monkeypatch.setattr(_prototype, "computed_letter_permutations", search)
    _prototype._letter_permutations.cache_clear()
    try:
        cu3au = Crystal.from_wyckoff(221, [("Au", "1a"), ("Cu", "3c")], a=3.75)
        assert prototype_label(cu3au) == "AB3_221_a_c"
    finally:
        _prototype._letter_permutations.cache_clear()
