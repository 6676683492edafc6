"""Prototype labels and structure descriptions."""

import numpy as np

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
    assert labels == ["AB_216_a_b", "AB_186_a_a", "AB2_225_a_c"]


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
