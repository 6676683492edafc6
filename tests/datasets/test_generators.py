import collections
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from skxrd.crystal import Crystal, space_group_info, to_crystal_system
from skxrd.datasets import (
    DEFAULT_ELEMENTS,
    STRUCTURE_TYPES,
    covalent_radius,
    load_example_crystal,
    make_pattern_dataset,
    make_random_crystals,
    make_structure_type_crystals,
    perturb_crystals,
    similar_elements,
)

IMAGES = np.array(
    [(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], dtype=float
)


def min_distance_ratio(crystal):
    """Brute force: nearest distance over covalent-radius sum, 125 images."""
    images = np.array(
        [(i, j, k) for i in range(-2, 3) for j in range(-2, 3) for k in range(-2, 3)],
        dtype=float,
    )
    frac = crystal.frac_coords
    d = frac[:, None, :] - frac[None, :, :]
    cart = (d[:, :, None, :] + images) @ crystal.lattice
    dist = np.linalg.norm(cart, axis=-1)
    n = len(frac)
    dist[np.arange(n), np.arange(n), len(images) // 2] = np.inf
    r = np.array([covalent_radius(e) for e in crystal.elements])
    return (dist.min(-1) / (r[:, None] + r[None, :])).min()


@pytest.fixture(scope="module")
def all_groups():
    return make_random_crystals(460, random_state=0)


def test_every_space_group_round_trips_through_spglib(all_groups):
    counts = collections.Counter(c.space_group for c in all_groups)
    assert set(counts) == set(range(1, 231))
    assert set(counts.values()) == {2}  # balanced
    # exactly the label, and no supergroup within 0.01 Å (3 of these 460 were:
    # P6_322 as P6_3/mmc, P-3 as P-3m1, P4_2/n as P4_2/nmc)
    mismatches = [
        (c.space_group, symprec, found)
        for c in all_groups
        for symprec in (1e-3, 1e-2)
        if (found := c.get_space_group(symprec=symprec)) != c.space_group
    ]
    assert not mismatches


@pytest.mark.filterwarnings("ignore:Set OLD_ERROR_HANDLING:DeprecationWarning")
@pytest.mark.parametrize("seed, index, supergroup", [(9, 14, 183), (11, 12, 223)])
def test_no_crystal_is_within_a_hundredth_of_an_angstrom_of_a_supergroup(
    seed, index, supergroup
):
    # These draws held a crystal exact at 1e-3 Å but within 0.01 Å of a
    # supergroup (seed 11: 6 Nd on 6f of Pm-3 at x = 0.74986, 1.1 mÅ from
    # Pm-3n, whose pattern it has to 1e-6): a wrong label. Now redrawn.
    crystals = make_random_crystals(20, n_atoms=(2, 6), random_state=seed)
    for c in crystals:
        assert c.get_space_group(symprec=1e-3) == c.space_group
        assert c.get_space_group(symprec=1e-2) == c.space_group, (c.name, supergroup)


def test_minimum_distance_respected(all_groups):
    worst = min(min_distance_ratio(c) for c in all_groups)
    assert worst >= 0.75 - 1e-9
    sizes = [c.n_atoms for c in all_groups]
    assert 4 <= np.median(sizes) <= 40
    assert {c.elements[0] for c in all_groups} <= set(DEFAULT_ELEMENTS)


def test_atom_counts_reach_the_minimum_where_an_orbit_allows():
    # orbits were drawn only up to the drawn count: where none fitted in what
    # was left, the crystal stopped short (41 of these 230 had 6-9 atoms: S6
    # in P6_4, whose only orbit has 6, for a drawn 10); now one orbit may
    # pass the drawn count within n_atoms (S12). Groups whose orbits cannot
    # make 10-12 atoms (Fd-3m: 8, 16, 32 ...) still fall short.
    crystals = make_random_crystals(230, n_atoms=(10, 12), random_state=0)
    below = [c.space_group for c in crystals if c.n_atoms < 10]
    assert len(below) <= 10, below
    # the default range: no crystal under 4 atoms
    crystals = make_random_crystals(690, random_state=5)
    assert min(c.n_atoms for c in crystals) >= 4


def test_many_atoms_are_not_cut_to_64_orbits():
    # orbits were drawn 64 times at most: P1 (one orbit of one atom) asked
    # for 100-120 atoms gave 64, P-1 and Pm stopped short too
    for group in (1, 2, 6):
        crystals = make_random_crystals(
            2, space_groups=group, n_atoms=(100, 120), random_state=0
        )
        assert all(100 <= c.n_atoms <= 120 for c in crystals), [
            c.n_atoms for c in crystals
        ]
        assert all(c.get_space_group() == group for c in crystals)


def test_many_atoms_fit_where_special_orbits_crowd_their_lines():
    # P2's four 1-fold orbits and P222's twelve 2-fold ones lie on the 2-fold
    # axes: drawn as often as the general position and repeated, they put
    # more atoms on an axis than fit, and every attempt failed (RuntimeError
    # for 36-40 atoms; 49 of the 230 groups at 100-120)
    for group in (3, 16):
        crystals = make_random_crystals(
            5, space_groups=group, n_atoms=(36, 40), random_state=0
        )
        assert all(36 <= c.n_atoms <= 40 for c in crystals)
        assert all(c.get_space_group() == group for c in crystals)
        assert min(min_distance_ratio(c) for c in crystals) >= 0.75 - 1e-9


def test_lattices_match_crystal_systems(all_groups):
    for c in all_groups:
        a, b, cc, al, be, ga = c.lattice_parameters
        system = str(to_crystal_system(c.space_group))
        if system == "cubic":
            assert np.allclose([a, b], cc) and np.allclose([al, be, ga], 90)
        elif system in ("hexagonal", "trigonal"):
            assert np.isclose(a, b) and np.isclose(ga, 120)
        elif system == "tetragonal":
            assert np.isclose(a, b) and np.allclose([al, be, ga], 90)
        elif system == "orthorhombic":
            assert np.allclose([al, be, ga], 90)


def test_deterministic_and_independent_of_n_jobs():
    a = make_random_crystals(12, random_state=7)
    b = make_random_crystals(12, random_state=7, n_jobs=2)
    c = make_random_crystals(12, random_state=8)
    for x, y in zip(a, b):
        assert x.species == y.species and np.array_equal(x.frac_coords, y.frac_coords)
        assert np.array_equal(x.lattice, y.lattice)
    assert any(x.species != y.species for x, y in zip(a, c))


def test_space_group_choices_and_prior():
    cubic = make_random_crystals(10, space_groups="cubic", random_state=0)
    assert all(195 <= c.space_group <= 230 for c in cubic)
    prior = make_random_crystals(
        60, space_groups={14: 0.9, 62: 0.1}, random_state=0, check_symmetry=False
    )
    counts = collections.Counter(c.space_group for c in prior)
    assert set(counts) == {14, 62} and counts[14] > 40
    fixed = make_random_crystals(
        3, space_groups=194, elements=["Mg", "Zn"], n_atoms=(2, 8), random_state=0
    )
    assert all(set(c.elements) <= {"Mg", "Zn"} for c in fixed)


def test_a_group_listed_twice_counts_once():
    # dealt out as listed, 225 came three times for 62's once: not balanced
    kwargs = dict(n_atoms=(2, 8), check_symmetry=False, random_state=0)
    twice = make_random_crystals(4, space_groups=[225, 62, 225, 225], **kwargs)
    counts = collections.Counter(c.space_group for c in twice)
    assert counts == {225: 2, 62: 2}
    once = make_random_crystals(4, space_groups=[225, 62], **kwargs)
    for a, b in zip(twice, once):
        np.testing.assert_array_equal(a.frac_coords, b.frac_coords)


def test_one_element_as_a_string_is_one_element():
    # "Fe" was split into "F" and "e"
    [c] = make_random_crystals(1, space_groups=[229], elements="Fe", random_state=0)
    assert set(c.elements) == {"Fe"}


def test_groups_needing_more_atoms_get_a_characteristic_orbit():
    # Every orbit of Fd-3 (203) below 96 atoms also has Fd-3m symmetry
    [c] = make_random_crystals(1, space_groups=[203], n_atoms=(4, 20), random_state=0)
    assert c.get_space_group() == 203 and c.n_atoms >= 96


@pytest.mark.parametrize("group, atoms", [(41, 12), (45, 12), (106, 12), (184, 14)])
def test_groups_without_a_characteristic_orbit_get_a_combination(group, atoms):
    # no lone orbit of these groups has only their symmetry, and no orbits of
    # at most 10 atoms together do: each crystal got the smallest combination
    # that does (it failed after 200 attempts for every seed)
    crystals = make_random_crystals(
        4, space_groups=[group], n_atoms=(2, 10), random_state=0
    )
    assert [c.get_space_group() for c in crystals] == [group] * 4
    assert {c.n_atoms for c in crystals} == {atoms}


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_atoms=(2, 10)),
        dict(n_atoms=(1, 4)),
        dict(n_atoms=(1, 4), elements=["Si"]),  # one element: larger combinations
    ],
    ids=["2-10", "1-4", "1-4 Si"],
)
def test_every_space_group_with_few_atoms(kwargs):
    # 53 groups have no characteristic orbit; 37 of them failed with
    # n_atoms=(1, 4), 5 with (2, 10)
    crystals = make_random_crystals(230, random_state=0, **kwargs)
    assert sorted(c.space_group for c in crystals) == list(range(1, 231))
    found = [c.get_space_group(symprec=1e-3) for c in crystals]
    mismatches = [
        (c.space_group, f) for c, f in zip(crystals, found) if f != c.space_group
    ]
    assert len(mismatches) <= 2, mismatches


def test_every_group_without_a_characteristic_orbit_has_a_combination():
    from skxrd.datasets._random import _characteristic_sites, _pinning_combinations

    groups = [g for g in range(1, 231) if not _characteristic_sites(g)]
    assert len(groups) == 53
    for g in groups:
        for n_elements in (1, 2):
            atoms, partitions = _pinning_combinations(g, n_elements)
            assert atoms is not None and partitions, (g, n_elements)
    assert _pinning_combinations(41, 2)[0] == 12  # 4a + 8b
    assert _pinning_combinations(1, 1)[0] == 3  # two like atoms: P-1


def test_stored_fewest_pinning_atoms_are_the_search_s():
    from skxrd.datasets._random import (
        _FEWEST_PINNING_ATOMS,
        _characteristic_sites,
        _pinning_combinations,
    )

    groups = [g for g in range(1, 231) if not _characteristic_sites(g)]
    assert sorted(_FEWEST_PINNING_ATOMS) == groups
    assert _FEWEST_PINNING_ATOMS == {
        g: tuple(_pinning_combinations(g, n)[0] for n in (1, 2)) for g in groups
    }


def test_groups_without_a_characteristic_orbit_search_no_combination_up_front():
    """Free draws come first where n_atoms allows the smallest combination:
    the search for combinations (moyo probes, 0.3 s for the 53 groups in each
    fresh process) waits until a combination is forced."""
    from skxrd.datasets import _random

    _random._pinning_combinations.cache_clear()
    crystals = make_random_crystals(4, space_groups=[41, 184, 1, 143], random_state=0)
    assert sorted(c.space_group for c in crystals) == [1, 41, 143, 184]
    assert _random._pinning_combinations.cache_info().currsize == 0
    # a combination forced from the first attempt: the search runs
    crystals = make_random_crystals(2, space_groups=41, n_atoms=(2, 8), random_state=0)
    assert [c.space_group for c in crystals] == [41, 41]
    assert _random._pinning_combinations.cache_info().currsize > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(space_groups=[231]), "not a number 1..230"),
        (dict(space_groups="cubicc"), "crystal system"),
        (dict(space_groups={14: -1}), "weights"),
        (dict(elements=["Xx"]), "unknown element 'Xx'"),
        (dict(elements=[]), "elements is empty"),
        (dict(n_atoms=(10, 5)), "n_atoms"),
        (dict(packing=(0.5, 1.5)), "packing"),
        # binary crystals without a word
        (dict(n_elements=3, elements=["Fe", "O"]), "n_elements=3 at least"),
        # a bare TypeError from `<` that named nothing; True passed as 1.0
        (dict(distance_tolerance="0.5"), "distance_tolerance must be a number"),
        (dict(distance_tolerance=None), "distance_tolerance must be a number"),
        (dict(distance_tolerance=True), "distance_tolerance must be a number"),
        (dict(distance_tolerance=float("nan")), "distance_tolerance must be finite"),
        (dict(packing=(0.1, 0.2, 0.3)), r"packing must be \(min, max\)"),
        (dict(space_groups=225.0), "space group 225.0 is not a number"),
        (dict(space_groups={225: "x"}), "weights must be numbers"),
        (dict(space_groups=object()), "space_groups must be numbers"),
        # cut to (4, 8), 0 attempts, "no" read as on, Fe drawn as two elements
        (dict(n_atoms=(4.7, 8.2)), r"n_atoms must be an int or \(min, max\) of ints"),
        (dict(n_elements=(1.5, 2)), "n_elements must be an int"),
        (dict(n_atoms=True), "n_atoms must be an int"),
        (dict(max_attempts=0), "max_attempts must be >= 1"),
        (dict(max_attempts=2.5), "max_attempts must be an integer"),
        (dict(check_symmetry="no"), "check_symmetry must be True or False"),
        (dict(elements=["Fe", "O", "Fe"]), r"elements: \['Fe'\] appear more than once"),
    ],
)
def test_random_crystal_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_random_crystals(2, **kwargs)


@pytest.mark.parametrize(
    "group, composition",
    [
        (1, {"C": 3}),
        (62, {"Mg": 4, "Al": 8, "O": 16}),
        (152, {"Si": 3, "O": 6}),
        (225, {"Na": 4, "Cl": 4}),
        (227, {"Mg": 8, "Al": 16, "O": 32}),
    ],
)
def test_fixed_composition_exact_counts_and_group(group, composition):
    crystals = make_random_crystals(
        3, space_groups=group, composition=composition, random_state=0
    )
    for c in crystals:
        assert collections.Counter(c.elements) == composition
        assert c.get_space_group() == c.space_group == group
        assert list(dict.fromkeys(c.elements)) == list(composition)  # its order
    again = make_random_crystals(
        3, space_groups=group, composition=composition, random_state=0, n_jobs=2
    )
    for a, b in zip(crystals, again):
        np.testing.assert_array_equal(a.frac_coords, b.frac_coords)
    # different draws (rock salt has no free coordinate: its cell still varies)
    assert len({c.lattice.tobytes() + c.frac_coords.tobytes() for c in crystals}) == 3


def test_fixed_composition_with_many_atoms():
    # counts of hundreds: no recursion limit in the feasibility check or the draw
    from skxrd.datasets._random import _composition_possible

    assert _composition_possible(1, (("C", 3000),))
    assert _composition_possible(229, (("C", 1200),))
    assert not _composition_possible(229, (("C", 1201),))  # all multiplicities even
    [c] = make_random_crystals(
        1, space_groups=229, composition={"Fe": 96, "Al": 48}, random_state=0
    )
    assert c.n_atoms == 144 and c.get_space_group() == 229
    # more atoms than 400 draws of orbits: every attempt failed, with advice
    # about symmetry, where P1's general position holds any count
    [c] = make_random_crystals(
        1, space_groups=1, composition={"Si": 150, "O": 300}, random_state=0
    )
    assert collections.Counter(c.elements) == {"Si": 150, "O": 300}
    assert c.get_space_group() == 1


def test_fixed_composition_errors():
    with pytest.raises(ValueError, match=r"225 \(Fm-3m\)"):
        make_random_crystals(2, space_groups=[225, 62], composition={"Si": 3, "O": 6})
    for bad, message in [
        ({}, "non-empty"),
        ({"Xx": 2}, "unknown element 'Xx'"),
        ({"Si": 0}, "must be >= 1"),
        ({"Si": 1.5}, "positive integer"),
        ([("Si", 1)], "dict"),
    ]:
        with pytest.raises(ValueError, match=message):
            make_random_crystals(1, space_groups=1, composition=bad)
    # orbits exist, but all of them have more symmetry than the group
    with pytest.raises(RuntimeError, match="more symmetry than the group"):
        make_random_crystals(
            1, space_groups=1, composition={"C": 1}, max_attempts=5, random_state=0
        )


@pytest.mark.filterwarnings("ignore:Set OLD_ERROR_HANDLING:DeprecationWarning")
def test_symmetry_check_never_accepts_what_spglib_rejects():
    from skxrd.datasets._random import _has_space_group, _space_group_number

    rock_salt = load_example_crystal("NaCl")
    numbers = [1 if e == "Na" else 2 for e in rock_salt.species]
    assert _space_group_number(rock_salt.lattice, rock_salt.frac_coords, numbers) == 225
    # two atoms on one spot: moyo's search fails, and the crystal is not kept
    coincident = ([[0, 0, 0], [0, 0, 0]], [1, 2])
    assert _space_group_number(np.eye(3) * 4, *coincident) is None
    assert not _has_space_group(np.eye(3) * 4, coincident[0], ["Na", "Cl"], 221)
    # unchecked random crystals, 61 of 460 with more symmetry than their group:
    # what the check keeps, spglib confirms at the same tolerance
    crystals = make_random_crystals(460, check_symmetry=False, random_state=4)
    kept = [
        c
        for c in crystals
        if _has_space_group(c.lattice, c.frac_coords, c.species, c.space_group)
    ]
    assert 0.6 * len(crystals) < len(kept) < len(crystals)
    assert all(c.get_space_group(symprec=1e-3) == c.space_group for c in kept)


def test_symmetry_check_prints_nothing():
    # diamond in a c/a = √2 tetragonal cell: moyo logs a warning about the
    # basis, which Python prints to stderr unless a handler takes it
    code = (
        "from skxrd.datasets._random import _space_group_number\n"
        "a = 4.649\n"
        "lattice = [[a, 0, 0], [0, a, 0], [0, 0, a * 2 ** 0.5]]\n"
        "coords = [[0, 0, 0], [0.5, 0.5, 0.5], [0, 0.5, 0.25], [0.5, 0, 0.75]]\n"
        "print(_space_group_number(lattice, coords, [1, 1, 1, 1]))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "227"
    assert run.stderr == ""


@pytest.mark.filterwarnings("ignore:Set OLD_ERROR_HANDLING:DeprecationWarning")
def test_orbit_combinations_with_more_symmetry_are_skipped(monkeypatch):
    import skxrd.datasets._random as random_module
    from skxrd.datasets._random import _combination_has_group, _orbit_partition

    def _site(group, label):
        return next(
            site for site in random_module._setting_sites(group) if site.label == label
        )

    # C222: Si on 2d with O on 4e always makes Cmmm; on 2b with 4k, C222
    assert not _combination_has_group(21, (("2d",), ("4e",)))
    assert _combination_has_group(21, (("2b",), ("4k",)))
    # the key is which orbits share an element, not the elements' names
    assert _orbit_partition(
        [_site(21, "4k"), _site(21, "2b")], ["O", "Si"]
    ) == _orbit_partition([_site(21, "2b"), _site(21, "4k")], ["C", "N"])
    checks = []
    check = random_module._has_space_group
    monkeypatch.setattr(
        random_module,
        "_has_space_group",
        lambda *args: checks.append(check(*args)) or checks[-1],
    )
    composition = {"Si": 2, "O": 4}
    first = make_random_crystals(
        6, space_groups=21, composition=composition, random_state=3
    )
    # most combinations of this composition have Cmmm symmetry: they are never
    # placed, and spglib checks only crystals that pass
    assert checks == [True] * 6
    assert all(c.get_space_group() == 21 for c in first)
    # the probe is a pure function of the combination: a cold cache, the same
    # crystals
    _combination_has_group.cache_clear()
    again = make_random_crystals(
        6, space_groups=21, composition=composition, random_state=3
    )
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.lattice, b.lattice)
        np.testing.assert_array_equal(a.frac_coords, b.frac_coords)


def test_generation_is_fast():
    make_random_crystals(20, random_state=1)  # warm per-group tables
    t = time.perf_counter()
    make_random_crystals(200, random_state=2)
    # crystals/s: about 370 on an idle 2-vCPU machine (pyxtal: 18 in the same
    # benchmark); 45 was seen with four other jobs on the two cores, so the
    # bound leaves room for a loaded CI machine
    assert 200 / (time.perf_counter() - t) > 25


def test_structure_types_keep_space_group_and_substitute():
    names = ["rocksalt", "spinel", "wurtzite", "rutile", "perovskite", "corundum"]
    crystals, y, groups = make_structure_type_crystals(
        names, n_per_type=4, n_variants=2, random_state=0
    )
    assert len(crystals) == 48 and list(y[:8]) == ["rocksalt"] * 8
    assert np.array_equal(groups, np.repeat(np.arange(24), 2))
    for c, name in zip(crystals, y):
        proto = STRUCTURE_TYPES[name]
        assert c.get_space_group() == c.space_group == proto.space_group_number
        assert min_distance_ratio(c) >= 0.7 - 1e-9
        # every element comes from the substitution family of the prototype's
        assert set(c.elements) <= {
            s for e in proto.crystal().elements for s in similar_elements(e)
        }
    formulas = {c.formula for c in crystals[:8]}
    assert len(formulas) > 1  # substitution happened
    # variants of one compound share its composition but not its cell
    assert crystals[0].formula == crystals[1].formula
    assert not np.allclose(crystals[0].lattice, crystals[1].lattice)


def test_structure_types_from_crystal_prototypes(tmp_path):
    path = tmp_path / "zno.cif"
    load_example_crystal("ZnO").to_cif(path)
    crystals, y, _ = make_structure_type_crystals(
        [str(path)], n_per_type=3, random_state=1
    )
    assert all(c.get_space_group() == 186 for c in crystals)
    assert set(y) == {"zno"}  # the file's stem


def test_structure_types_from_primitive_cells():
    # the Materials Project's primitive cells: fcc BaTe read as rhombohedral
    # axes and a body-centred tetragonal cell (a = b = c) lost their group
    # with every strain of their lattice parameters, and each compound failed
    # after max_attempts ("lower strain/jitter or distance_tolerance")
    from skxrd.datasets import load_materials_project

    mp = load_materials_project()
    bct = next(
        i for i in range(len(mp.ids)) if mp.space_group[i] == 139 and mp.n_atoms[i] <= 4
    )
    for i, group in [(1, 225), (bct, 139)]:
        prototype = mp.crystals[i]
        crystals, y, _ = make_structure_type_crystals(
            [prototype], n_per_type=3, n_variants=2, random_state=0, max_attempts=20
        )
        assert set(y) == {prototype.name}
        assert [c.get_space_group() for c in crystals] == [group] * 6
        assert len({round(c.lattice_parameters[0], 4) for c in crystals}) == 6
    # a cell whose strain keeps its group is varied as it is, as before
    zno = load_example_crystal("ZnO")
    crystals, _, _ = make_structure_type_crystals([zno], n_per_type=2, random_state=0)
    for c in crystals:
        np.testing.assert_array_equal(c.frac_coords, zno.frac_coords)


def test_cif_prototypes_are_labelled_by_their_file_stem(tmp_path):
    # two CIFs of one data_ block name (pymatgen writes the formula, the same
    # for polymorphs): labelled as the user named the files, as the docs do
    for stem, example in [("my_phase_a", "ZnO"), ("my_phase_b", "ZnS")]:
        text = load_example_crystal(example).to_cif()
        (tmp_path / f"{stem}.cif").write_text(
            re.sub(r"^data_\S*", "data_Zn", text, flags=re.M)
        )
    paths = [tmp_path / "my_phase_a.cif", str(tmp_path / "my_phase_b.cif")]
    crystals, y, _ = make_structure_type_crystals(
        paths, n_per_type=1, substitute=False, random_state=0
    )
    assert y.tolist() == ["my_phase_a", "my_phase_b"]
    assert [c.space_group for c in crystals] == [186, 216]
    # a CIF text and a Crystal keep their own names
    text = (tmp_path / "my_phase_a.cif").read_text()
    _, y, _ = make_structure_type_crystals(
        [text, load_example_crystal("CaF2")], n_per_type=1, random_state=0
    )
    assert y.tolist() == ["Zn", "CaF2"]


def test_missing_cif_prototype_is_named_as_a_missing_file(tmp_path):
    # the user guide's "my_phase_a.cif" before the file exists: the error said
    # "unknown structure type 'my_phase_a.cif'" and pointed at the type names
    missing = str(tmp_path / "my_phase_a.cif")
    for prototype in (missing, "my_phase_a.cif", "phases/my_phase_a.CIF"):
        with pytest.raises(ValueError, match="no such CIF file") as info:
            make_structure_type_crystals([prototype], n_per_type=1)
        assert repr(prototype) in str(info.value)
    # a plain name is still a structure type, with its suggestions
    with pytest.raises(ValueError, match="unknown structure type 'perovskit'"):
        make_structure_type_crystals(["perovskit"], n_per_type=1)


def test_structure_types_keep_the_ions_of_their_prototypes(tmp_path):
    # a prototype's Na+ and Cl- (their form factors) were made neutral Na, Cl;
    # a substituted atom is the neutral new element, as in make_variants
    from skxrd.datasets._prototypes import StructureType

    ionic = Crystal.from_wyckoff(
        225, [("Na+", "4a"), ("Cl-", "4b")], a=5.64, name="ionic-salt"
    )
    path = tmp_path / "mgo.cif"
    Crystal.from_wyckoff(
        225, [("Mg2+", "4a"), ("O2-", "4b")], a=4.21, name="periclase"
    ).to_cif(path)
    site_type = StructureType(
        "ionic-type", "NaCl", 225, (("Na+", "4a"), ("Cl-", "4b")), {"a": 5.64}
    )
    kept, y, _ = make_structure_type_crystals(
        [ionic, str(path), site_type], n_per_type=2, substitute=False, random_state=0
    )
    expected = {
        "ionic-salt": {"Na+", "Cl-"},
        "mgo": {"Mg2+", "O2-"},
    }  # a CIF path: its stem
    expected["ionic-type"] = expected["ionic-salt"]
    for c, name in zip(kept, y):
        assert set(c.species) == expected[name], name
    swapped, y, _ = make_structure_type_crystals(
        [ionic, site_type], n_per_type=6, random_state=0
    )
    prototype = dict(zip(ionic.elements, ionic.species))
    for c in swapped:
        for species, element in zip(c.species, c.elements):
            # kept: its ion; substituted: the new neutral element (a site's
            # ion no longer stands for an element it no longer is)
            assert species == prototype.get(element, element), (c.name, species)
    assert any(set(c.elements) != {"Na", "Cl"} for c in swapped)


def test_structure_types_scale_shared_sites_by_their_occupancy():
    # inverse spinel's 16d holds Mg 0.5 + Fe 0.5: both halves counted as full
    # atoms in the covalent volume, and a substituted cell was up to 7 % off
    source = STRUCTURE_TYPES["inverse_spinel"].crystal()
    crystals, _, _ = make_structure_type_crystals(
        ["inverse_spinel"],
        n_per_type=6,
        strain=0.0,
        jitter=0.0,
        angle_jitter=0.0,
        random_state=0,
    )
    occ = source.occupancies
    r_old = np.array([covalent_radius(e) for e in source.elements])
    for c in crystals:
        np.testing.assert_array_equal(c.occupancies, occ)  # the same sites
        r_new = np.array([covalent_radius(e) for e in c.elements])
        scale = (np.sum(occ * r_new**3) / np.sum(occ * r_old**3)) ** (1 / 3)
        assert c.lattice_parameters[0] == pytest.approx(
            scale * source.lattice_parameters[0], rel=1e-9
        )


def test_structure_type_flags_are_bools():
    # "no" substituted the elements, as True
    with pytest.raises(ValueError, match="substitute must be True or False"):
        make_structure_type_crystals(["rocksalt"], 1, substitute="no")
    # True strained the cell by 100 % or set the tolerance to 1
    for name in ("strain", "jitter", "angle_jitter", "distance_tolerance"):
        with pytest.raises(ValueError, match=name):
            make_structure_type_crystals(["rocksalt"], 1, **{name: True})


def test_structure_types_deterministic():
    a, ya, _ = make_structure_type_crystals(["fluorite"], n_per_type=3, random_state=3)
    b, yb, _ = make_structure_type_crystals(
        ["fluorite"], n_per_type=3, random_state=3, n_jobs=2
    )
    assert [c.formula for c in a] == [c.formula for c in b]
    assert all(np.array_equal(x.lattice, z.lattice) for x, z in zip(a, b))
    with pytest.raises(ValueError, match="unknown structure type"):
        make_structure_type_crystals(["not-a-type"])


def test_perturb_crystals_fraction_and_displacement():
    si = load_example_crystal("Al2O3")  # 30 atoms
    before = si.frac_coords.copy()
    for fraction in (0.1, 0.3, 0.5):
        [d] = perturb_crystals([si], vacancy_fraction=fraction, random_state=0)
        assert d.n_atoms == si.n_atoms - round(fraction * si.n_atoms)
        assert d.space_group == 167
    [shaken] = perturb_crystals([si], displacement=0.1, random_state=0)
    delta = shaken.frac_coords - si.frac_coords
    delta -= np.round(delta)
    rms = np.sqrt(np.mean((delta @ si.lattice) ** 2))
    assert rms == pytest.approx(0.1, rel=0.25)
    assert np.array_equal(si.frac_coords, before)  # input untouched
    a = perturb_crystals([si] * 3, vacancy_fraction=0.2, random_state=5)
    b = perturb_crystals([si] * 3, vacancy_fraction=0.2, random_state=5)
    assert all(x.species == y.species for x, y in zip(a, b))
    with pytest.raises(ValueError, match="vacancy_fraction"):
        perturb_crystals([si], vacancy_fraction=1.0)
    with pytest.raises(ValueError, match="displacement"):
        perturb_crystals([si], displacement=-1)


@pytest.mark.parametrize(
    "target, n_classes",
    [
        ("space_group", 230),
        ("crystal_system", 7),
        ("bravais_lattice", 14),
        ("point_group", 32),
    ],
)
def test_pattern_dataset_targets(target, n_classes):
    data = make_pattern_dataset(12, target=target, random_state=0, verbose=False)
    assert data.X.shape == (12, 4250) and data.X.dtype == np.float32
    assert len(data.target_names) == n_classes
    assert set(data.y) <= set(data.target_names.tolist())
    assert np.array_equal(data.groups, np.arange(12))
    assert len(data.crystals) == 12 and data.two_theta.shape == (4250,)
    if target == "crystal_system":
        expected = [space_group_info(sg).crystal_system for sg in data.space_group]
        assert data.y.tolist() == expected


def test_pattern_dataset_structure_type_and_defects():
    data = make_pattern_dataset(
        6,
        target="structure_type",
        prototypes=["rocksalt", "cscl", "fluorite"],
        n_variants=2,
        vacancy_fraction=0.25,
        random_state=0,
        verbose=False,
    )
    assert data.X.shape == (12, 4250)
    assert list(data.target_names) == ["rocksalt", "cscl", "fluorite"]
    assert len(set(data.groups)) == 6
    assert data.crystals[0].n_atoms == 6  # rock salt: 8 atoms, 2 vacancies
    assert "vacancies 0.25" in data.DESCR


def test_pattern_dataset_cache_and_determinism(tmp_path):
    kw = dict(n_crystals=8, random_state=3, verbose=False, cache=tmp_path)
    first = make_pattern_dataset(**kw)
    t = time.perf_counter()
    second = make_pattern_dataset(**kw)
    assert time.perf_counter() - t < 1.0
    assert np.array_equal(first.X, second.X)
    assert any(tmp_path.iterdir())
    uncached = make_pattern_dataset(8, random_state=3, verbose=False, n_jobs=2)
    assert np.array_equal(first.X, uncached.X)
    with pytest.raises(ValueError, match="target must be"):
        make_pattern_dataset(4, target="lattice")


def test_the_cache_is_not_read_across_data_revisions(tmp_path, monkeypatch):
    # a change that alters what the same arguments give raises DATA_REVISION;
    # the package version alone did not change between such commits, and a
    # cache built before one came back with the old data
    from skxrd.datasets import _cache

    kw = dict(n_crystals=3, random_state=0, verbose=False, cache=tmp_path)
    make_pattern_dataset(**kw)
    folder = tmp_path / "skxrd-datasets"
    first = set(folder.iterdir())
    assert len(first) == 1
    make_pattern_dataset(**kw)
    assert set(folder.iterdir()) == first  # read back
    monkeypatch.setattr(_cache, "DATA_REVISION", _cache.DATA_REVISION + 1)
    make_pattern_dataset(**kw)
    assert len(set(folder.iterdir())) == 2  # built again, under a new key


def test_the_cache_keys_a_random_state_object_by_the_seed_it_gives(tmp_path):
    # keyed before it was used, a RandomState made the first cached call's
    # dataset come back for every later call, unlike the same calls uncached
    from skxrd.simulation import PowderSimulator

    sim = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.1)
    kw = dict(simulator=sim, space_groups=[225, 62, 14], verbose=False)
    runs = []
    for cache in (None, tmp_path, tmp_path):  # uncached, filling, filled
        rs = np.random.RandomState(0)
        runs.append(
            [
                make_pattern_dataset(3, random_state=rs, cache=cache, **kw).X
                for _ in "ab"
            ]
        )
    for run in runs[1:]:
        np.testing.assert_array_equal(run[0], runs[0][0])
        np.testing.assert_array_equal(run[1], runs[0][1])
    assert not np.array_equal(runs[0][0], runs[0][1])
    # None: fresh draws, and nothing cached
    before = set((tmp_path / "skxrd-datasets").iterdir())
    a, b = (make_pattern_dataset(3, cache=tmp_path, **kw).X for _ in "ab")
    assert not np.array_equal(a, b)
    assert set((tmp_path / "skxrd-datasets").iterdir()) == before


def test_the_cache_reads_prototype_files_by_their_contents(tmp_path):
    from skxrd.simulation import PowderSimulator

    sim = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.1)
    cif = tmp_path / "proto.cif"
    kw = dict(
        target="structure_type", prototypes=[cif], cache=tmp_path / "c",
        simulator=sim, random_state=0, verbose=False,
    )  # fmt: skip
    cif.write_text(load_example_crystal("NaCl").to_cif())
    first = make_pattern_dataset(2, **kw)
    cif.write_text(load_example_crystal("CsCl").to_cif())
    second = make_pattern_dataset(2, **kw)
    assert set(first.space_group) == {225} and set(second.space_group) == {221}
    with pytest.raises(ValueError, match="prototypes is empty"):
        make_pattern_dataset(5, target="structure_type", prototypes=[])


def test_variants_of_random_crystals_are_a_warning_not_a_promise():
    from skxrd.simulation import PowderSimulator

    sim = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.1)
    kw = dict(simulator=sim, space_groups=[225], random_state=0, verbose=False)
    with pytest.warns(
        UserWarning, match="n_variants and variants apply to real"
    ) as rec:
        data = make_pattern_dataset(4, n_variants=2, **kw)
    assert len(rec) == 1 and rec[0].filename == __file__  # the caller's line
    assert "variants" not in data.DESCR and len(set(data.groups)) == 4


def test_crystals_from_generators_are_ordinary_crystals():
    c = make_random_crystals(1, space_groups=[62], random_state=0)[0]
    assert isinstance(c, Crystal) and c.name.startswith("random-62")


class _RunsCode:
    def __reduce__(self):
        return (print, ("code from the cache ran",))


def test_pattern_dataset_cache_never_unpickles(tmp_path, capsys):
    import pickle

    kw = dict(
        n_crystals=4,
        target="crystal_system",
        instrument="measured_like",
        random_state=1,
        verbose=False,
        cache=tmp_path,
    )
    first = make_pattern_dataset(**kw)
    (entry,) = (tmp_path / "skxrd-datasets").iterdir()
    again = make_pattern_dataset(**kw)
    # every field comes back with its type: settings' tuples, text arrays
    for key, value in first.items():
        if isinstance(value, np.ndarray):
            assert value.dtype == again[key].dtype and np.array_equal(
                value, again[key]
            ), key
        elif key == "crystals":
            assert [c.to_cif() for c in value] == [c.to_cif() for c in again[key]]
            assert [c.name for c in value] == [c.name for c in again[key]]
        else:
            assert value == again[key], key
    # a replaced entry (a pickle that runs code) is not loaded: rebuilt
    entry.write_bytes(pickle.dumps(_RunsCode()))
    with pytest.warns(UserWarning, match="cannot be read.*building the dataset") as rec:
        rebuilt = make_pattern_dataset(**kw)
    assert rec[0].filename == __file__  # the caller's line
    assert "ran" not in capsys.readouterr().out
    assert np.array_equal(rebuilt.X, first.X)
    # a well-formed entry whose X lost rows is no dataset: rebuilt too
    with np.load(entry) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["X"] = arrays["X"][:2]
    with open(entry, "wb") as fh:
        np.savez(fh, **arrays)
    with pytest.warns(UserWarning, match="parts disagree in length"):
        again = make_pattern_dataset(**kw)
    assert np.array_equal(again.X, first.X)
    # a truncated entry likewise, and the rebuilt entry replaces it
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    with pytest.warns(UserWarning, match="cannot be read"):
        make_pattern_dataset(**kw)
    assert np.array_equal(make_pattern_dataset(**kw).X, first.X)


def test_parallel_generation_releases_its_workers():
    # idle simulation workers that later get network fits (GridSearchCV with
    # n_jobs) grow past loky's leak threshold on importing torch: loky
    # restarted them with "A worker stopped while some jobs were given to the
    # executor" (issue 19). make_pattern_dataset shuts them down when done.
    from joblib import Parallel, delayed
    from joblib.externals.loky import reusable_executor

    Parallel(n_jobs=2)(delayed(abs)(i) for i in range(4))  # workers exist
    assert len(reusable_executor._executor._processes) == 2
    data = make_pattern_dataset(6, n_jobs=2, verbose=False, random_state=0)
    executor = reusable_executor._executor
    assert executor is None or not executor._processes
    assert len(data.X) == 6
    assert Parallel(n_jobs=2)(delayed(abs)(-i) for i in range(3)) == [0, 1, 2]


def test_random_crystals_hold_plain_strings_as_species():
    # drawn from a numpy array of elements, kept as str (not numpy.str_),
    # as Crystal(...) keeps them
    for crystal in make_random_crystals(4, n_elements=(2, 3), random_state=5):
        assert all(type(s) is str for s in crystal.species)


@pytest.mark.parametrize("bad", [True, -1, 1.5, "0"])
def test_a_bad_random_state_is_named(bad):
    # True was taken as the seed 1; -1, 1.5 and "0" raised numpy's errors
    # ("expected non-negative integer"), which name neither parameter nor value
    nacl = load_example_crystal("NaCl")
    with pytest.raises(ValueError, match="random_state"):
        make_random_crystals(1, space_groups=[225], random_state=bad)
    with pytest.raises(ValueError, match="random_state"):
        perturb_crystals([nacl], displacement=0.1, random_state=bad)


def test_random_state_semantics_of_the_generators():
    # the same int: the same crystals; a generator: drawn from (it advances);
    # the first crystals depend on n (the groups are dealt out for all n)
    def key(crystals):
        return [(c.space_group, c.formula, c.frac_coords.tobytes()) for c in crystals]

    kw = dict(space_groups=[225, 62, 14], n_atoms=(2, 8))
    a = make_random_crystals(6, random_state=0, **kw)
    assert key(a) == key(make_random_crystals(6, random_state=0, **kw))
    rs = np.random.RandomState(0)
    assert key(make_random_crystals(3, random_state=rs, **kw)) != key(
        make_random_crystals(3, random_state=rs, **kw)
    )
    assert [c.space_group for c in make_random_crystals(3, random_state=0, **kw)] != [
        c.space_group for c in a[:3]
    ]
    nacl = load_example_crystal("NaCl")
    both = perturb_crystals([nacl, nacl], displacement=0.1, random_state=0)
    first = perturb_crystals([nacl], displacement=0.1, random_state=0)
    assert key(first) == key(both[:1])  # one stream per crystal


def _mixed_fcc():
    """Cu0.5Ni0.5 on the four sites of an fcc cell: two atoms per position."""
    fcc = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    return Crystal(
        np.eye(3) * 3.6,
        ["Cu", "Ni"] * 4,
        [p for p in fcc for _ in range(2)],
        occupancies=[0.5] * 8,
        space_group=225,
        name="CuNi",
    )


def _positions(crystal):
    """Atoms grouped by position: {rounded frac coords: [(element, occ), ...]}."""
    out = collections.defaultdict(list)
    for el, xyz, occ in zip(crystal.elements, crystal.frac_coords, crystal.occupancies):
        key = tuple(np.round(np.mod(xyz, 1.0), 6) % 1.0)
        out[key].append((el, float(occ)))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_perturb_moves_the_atoms_of_a_shared_site_together(seed):
    # a mixed site is one site: displaced, its Cu and Ni halves moved apart into
    # two half-occupied sites (another pattern), each with its own offset
    cuni = _mixed_fcc()
    [shaken] = perturb_crystals([cuni], displacement=0.1, random_state=seed)
    sites = _positions(shaken)
    assert len(sites) == 4
    assert all(sorted(s) == [("Cu", 0.5), ("Ni", 0.5)] for s in sites.values())
    # the sites themselves moved, each by its own offset
    moved = shaken.frac_coords[::2] - cuni.frac_coords[::2]
    moved -= np.round(moved)
    assert np.all(np.abs(moved) > 0) and len(np.unique(moved.round(8), axis=0)) == 4


@pytest.mark.parametrize("seed", range(5))
def test_a_vacancy_empties_a_whole_shared_site(seed):
    # vacancy_fraction counted atoms, and took one half of a mixed site: a
    # Cu0.5Ni0.5 site became a half-empty Ni site
    cuni = _mixed_fcc()
    [d] = perturb_crystals([cuni], vacancy_fraction=0.25, random_state=seed)
    sites = _positions(d)
    assert len(sites) == 3  # round(0.25 * 4 sites) emptied
    assert all(sorted(s) == [("Cu", 0.5), ("Ni", 0.5)] for s in sites.values())
    [both] = perturb_crystals(
        [cuni], vacancy_fraction=0.5, displacement=0.05, random_state=seed
    )
    sites = _positions(both)
    assert len(sites) == 2
    assert all(sorted(s) == [("Cu", 0.5), ("Ni", 0.5)] for s in sites.values())


def test_perturb_draws_ordered_crystals_as_before():
    # one atom per site: the same draws as when atoms were drawn one by one
    from skxrd.datasets._random import _spawn

    al2o3 = load_example_crystal("Al2O3")
    [d] = perturb_crystals(
        [al2o3], vacancy_fraction=0.2, displacement=0.05, random_state=3
    )
    rng = np.random.default_rng(_spawn(3, 1)[0])
    n = al2o3.n_atoms
    keep = np.sort(rng.permutation(n)[round(0.2 * n) :])
    shift = rng.normal(0.0, 0.05, size=(len(keep), 3))
    frac = np.mod(al2o3.frac_coords[keep] + shift @ np.linalg.inv(al2o3.lattice), 1.0)
    np.testing.assert_allclose(d.frac_coords, frac, atol=1e-12)
    assert list(d.species) == [al2o3.species[i] for i in keep]


@pytest.mark.parametrize("bad", ["2", 1.5, 0, True])
def test_a_bad_n_jobs_is_named_by_every_generator(bad):
    # "2" went to joblib, whose error names no parameter; with one crystal it
    # was never looked at
    message = "n_jobs must be None or a non-zero integer"
    for n in (1, 4):
        with pytest.raises(ValueError, match=message):
            make_random_crystals(n, space_groups=[225], n_atoms=(2, 8), n_jobs=bad)
    with pytest.raises(ValueError, match=message):
        make_structure_type_crystals(["rocksalt"], 1, n_jobs=bad)
    with pytest.raises(ValueError, match=message):
        make_pattern_dataset(2, random_state=0, n_jobs=bad)
    with pytest.raises(ValueError, match=message):
        make_pattern_dataset(2, source="uniform", random_state=0, n_jobs=bad)


@pytest.mark.parametrize("good", [None, 1, 2, -1])
def test_n_jobs_as_joblib_defines_it_still_works(good):
    a = make_random_crystals(3, space_groups=[225], n_atoms=(2, 8), random_state=0)
    b = make_random_crystals(
        3, space_groups=[225], n_atoms=(2, 8), random_state=0, n_jobs=good
    )
    assert [c.frac_coords.tobytes() for c in a] == [c.frac_coords.tobytes() for c in b]


def test_n_atoms_has_a_documented_limit():
    # n_atoms=(10**6, 10**6) placed atoms for days, a typo from 10**3
    from skxrd.datasets._random import _MAX_ATOMS

    assert _MAX_ATOMS == 10_000
    for n_atoms in ((10**6, 10**6), (4, 10_001), 10_001):
        with pytest.raises(ValueError, match="n_atoms must be at most 10,000"):
            make_random_crystals(1, n_atoms=n_atoms, random_state=0)
    with pytest.raises(ValueError, match="composition has 1,000,002 atoms"):
        make_random_crystals(1, space_groups=[1], composition={"Si": 10**6, "O": 2})
    # refused before any crystal of another source is drawn
    with pytest.raises(ValueError, match="n_atoms must be at most 10,000"):
        make_pattern_dataset(
            4, source={"uniform": 0.5, "materials_project": 0.5}, n_atoms=(4, 10**6)
        )
    # the limit itself is allowed
    assert make_random_crystals(0, n_atoms=(4, 10_000)) == []


def test_the_order_of_space_groups_and_elements_does_not_change_the_crystals():
    # [62, 225] and [225, 62] ask for the same thing; they drew other crystals
    def key(crystals):
        return [(c.space_group, c.formula, c.frac_coords.tobytes()) for c in crystals]

    kw = dict(n_atoms=(2, 8), random_state=0, check_symmetry=False)
    assert key(make_random_crystals(6, space_groups=[62, 225, 14], **kw)) == key(
        make_random_crystals(6, space_groups=[225, 14, 62], **kw)
    )
    assert key(make_random_crystals(6, space_groups={14: 3, 62: 1}, **kw)) == key(
        make_random_crystals(6, space_groups={62: 1, 14: 3}, **kw)
    )
    kw["space_groups"] = [62]
    assert key(make_random_crystals(4, elements=["O", "Fe", "Mg"], **kw)) == key(
        make_random_crystals(4, elements=["Mg", "Fe", "O"], **kw)
    )
