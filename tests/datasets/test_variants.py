"""make_variants: substitution, symmetric strain, B factors, partial occupancy."""

import numpy as np
import pytest

from skxrd.crystal import Crystal
from skxrd.datasets import (
    load_example_crystal,
    load_materials_project,
    make_variants,
    similar_elements,
)


@pytest.fixture(scope="module")
def real():
    mp = load_materials_project()
    rng = np.random.default_rng(0)
    idx = rng.choice(np.flatnonzero(mp.n_atoms <= 30), 40, replace=False)
    return [mp.crystals[i] for i in idx]


def test_variants_keep_the_space_group_and_differ(real):
    variants, source = make_variants(real, 3, partial_occupancy=0.0, random_state=0)
    assert len(variants) == 120 and source.tolist() == np.repeat(range(40), 3).tolist()
    assert all(v.space_group == real[i].space_group for v, i in zip(variants, source))
    # the labels are at the Materials Project's tolerance (0.1 Å), which a
    # rescaled cell of a nearly symmetric structure can cross now and then
    same = [
        v.get_space_group(symprec=0.1) == real[i].space_group
        for v, i in zip(variants, source)
    ]
    assert np.mean(same) > 0.95
    # three distinct cells per crystal
    for k in range(40):
        cells = {round(v.volume, 6) for v in variants[3 * k : 3 * k + 3]}
        assert len(cells) == 3


def test_substitution_stays_in_the_family_and_keeps_elements_distinct(real):
    variants, source = make_variants(
        real, 4, substitution=1.0, strain=0.0, partial_occupancy=0.0, random_state=1
    )
    changed = 0
    for v, i in zip(variants, source):
        old, new = real[i].elements, v.elements
        assert len(set(new)) == len(set(old))
        for a, b in zip(old, new):
            assert b in similar_elements(a)
            changed += a != b
    assert changed > 0.5 * sum(c.n_atoms for c in real) * 4 * 0.5


def test_exact_symmetry_survives_strain_of_a_monoclinic_cell():
    c = Crystal.from_wyckoff(
        14,
        [("Ca", "4e", (0.1, 0.2, 0.3)), ("O", "4e", (0.35, 0.1, 0.12))],
        a=5.1,
        b=6.3,
        c=7.4,
        beta=104.0,
    )
    assert c.get_space_group() == 14
    variants, _ = make_variants([c], 10, strain=0.02, random_state=0)
    assert all(
        v.get_space_group(symprec=1e-4) == 14
        for v in variants
        if np.all(v.occupancies == 1)
    )
    angles = {round(v.lattice_parameters[4], 4) for v in variants}
    assert len(angles) == 10  # beta is strained too


def test_strain_is_symmetric_and_of_the_requested_size():
    nacl = load_example_crystal("NaCl")
    variants, _ = make_variants(
        [nacl],
        50,
        substitution=0.0,
        strain=0.01,
        partial_occupancy=0.0,
        random_state=0,
    )
    params = np.array([v.lattice_parameters for v in variants])
    # a cubic cell only swells: a = b = c, right angles
    np.testing.assert_allclose(params[:, 1], params[:, 0])
    np.testing.assert_allclose(params[:, 2], params[:, 0])
    np.testing.assert_allclose(params[:, 3:], 90.0, atol=1e-8)
    rel = params[:, 0] / nacl.lattice_parameters[0] - 1
    assert 0.002 < rel.std() < 0.02


def test_b_factors_and_partial_occupancy(real):
    variants, source = make_variants(
        real, 5, b_iso=(0.3, 0.9), partial_occupancy=1.0, random_state=2
    )
    for v in variants:
        assert np.all((v.b_iso >= 0.3) & (v.b_iso <= 0.9))
        # B is drawn per element (an element sharing a site takes the site's)
        full = v.occupancies == 1
        for e in set(v.elements):
            assert len(set(v.b_iso[full & (np.array(v.elements) == e)].tolist())) <= 1
    partial = [v for v in variants if np.any(v.occupancies < 1)]
    assert len(partial) == len(variants)
    shared = [v for v in partial if v.n_atoms > real[0].n_atoms and v.n_atoms]
    # mixed sites add atoms at the positions of an orbit, summing to one
    for v, i in zip(variants, source):
        extra = v.n_atoms - real[i].n_atoms
        if extra:
            occ = v.occupancies
            np.testing.assert_allclose(
                occ[-extra:]
                + occ[: real[i].n_atoms][np.flatnonzero(occ[: real[i].n_atoms] < 1)],
                1.0,
            )
    assert shared


def test_same_seed_same_variants_for_any_n_jobs(real):
    a, _ = make_variants(real[:10], 2, random_state=5)
    b, _ = make_variants(real[:10], 2, random_state=5, n_jobs=2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.lattice, y.lattice)
        np.testing.assert_array_equal(x.occupancies, y.occupancies)
        assert x.species == y.species


def test_errors():
    si = load_example_crystal("Si")
    for kwargs, match in (
        ({"n_variants": 0}, "n_variants"),
        ({"substitution": 1.5}, "substitution"),
        ({"strain": -0.1}, "strain"),
        ({"b_iso": (2.0, 1.0)}, "b_iso"),
        ({"partial_occupancy": 2}, "partial_occupancy"),
    ):
        with pytest.raises(ValueError, match=match):
            make_variants([si], **kwargs)
    with pytest.raises(TypeError, match="crystal 0"):
        make_variants([42])
    # a crystal's own B factors are kept with b_iso=None
    hot = si.replace(b_iso=np.full(si.n_atoms, 2.5))
    [v], _ = make_variants([hot], 1, b_iso=None, random_state=0)
    np.testing.assert_allclose(v.b_iso, 2.5)
    assert isinstance(v, Crystal)


def test_atoms_kept_keep_their_ions():
    # an unsubstituted Na+ stays Na+ (its form factor), a substituted one is
    # the new neutral element
    from skxrd import Crystal

    ionic = Crystal.from_wyckoff(225, [("Na+", "4a"), ("Cl-", "4b")], a=5.64)
    kept, _ = make_variants(
        [ionic], 2, substitution=0.0, strain=0.0, b_iso=None, partial_occupancy=0.0,
        random_state=0,
    )  # fmt: skip
    assert all(v.species == ionic.species for v in kept)
    swapped, _ = make_variants(
        [ionic], 4, substitution=1.0, strain=0.0, b_iso=None, partial_occupancy=0.0,
        random_state=0,
    )  # fmt: skip
    for v in swapped:
        for old, new, element in zip(ionic.species, v.species, v.elements):
            assert new == old or new == element


def test_a_supercell_keeps_the_symmetry_of_its_crystal():
    # SrTiO3 given as a 1x2x1 supercell: its own lattice has only the
    # tetragonal rotations, the crystal has the cubic ones
    cell = Crystal.from_wyckoff(221, [("Sr", "1a"), ("Ti", "1b"), ("O", "3c")], a=3.9)
    frac = np.concatenate([(cell.frac_coords + [0, k, 0]) / [1, 2, 1] for k in (0, 1)])
    double = Crystal(
        np.diag([1.0, 2.0, 1.0]) @ cell.lattice, list(cell.species) * 2, frac
    )
    for partial in (0.0, 1.0):
        variants, _ = make_variants(
            [double], 6, substitution=0.0, partial_occupancy=partial, random_state=0
        )
        assert [v.get_space_group(symprec=1e-3) for v in variants] == [221] * 6


def test_the_strain_keeps_the_symmetry_of_a_rotated_cell():
    # the point group is found in the cell's own Cartesian frame
    from scipy.spatial.transform import Rotation

    nacl = load_example_crystal("NaCl")
    turn = Rotation.from_euler("xyz", [20, 35, 50], degrees=True).as_matrix()
    turned = nacl.replace(lattice=np.asarray(nacl.lattice) @ turn.T)
    variants, _ = make_variants([turned], 4, strain=0.03, random_state=0)
    assert [v.get_space_group(symprec=1e-3) for v in variants] == [225] * 4


def test_one_symmetry_search_per_crystal(monkeypatch):
    # the standardized cell's rotations come from spglib's tables for the
    # found setting: a second search on that cell doubled make_variants' time
    import spglib

    calls = []
    search = spglib.get_symmetry_dataset

    def counted(*args, **kwargs):
        calls.append(1)
        return search(*args, **kwargs)

    monkeypatch.setattr(spglib, "get_symmetry_dataset", counted)
    crystals = [load_example_crystal(name) for name in ("NaCl", "Si", "Cu")]
    variants, _ = make_variants(crystals, 2, random_state=0)
    assert len(calls) == len(crystals)
    # and the strain still keeps the cubic cells cubic
    assert {v.get_space_group(symprec=1e-3) for v in variants[:2]} == {225}


def test_partial_occupancy_of_a_partly_occupied_site_never_fills_it():
    # Na half occupied (a vacancy, or one of a split pair in a mineral): its
    # variants were set to 0.6-0.95, or shared 1 - x + x, so the half-empty
    # site came out nearly or wholly full
    nacl = Crystal.from_wyckoff(
        225,
        [{"species": "Na", "wyckoff": "4a", "occupancy": 0.5}, ("Cl", "4b")],
        a=5.64,
    )
    variants, _ = make_variants(
        [nacl], 12, substitution=0.0, partial_occupancy=1.0, random_state=0
    )
    na_sites = nacl.frac_coords[:4]
    touched = set()
    for v in variants:
        same = np.isclose(v.frac_coords[:, None], na_sites).all(-1).any(1)
        na_total = v.occupancies[same].sum() / 4  # per Na site, all species
        cl_total = v.occupancies[~same].sum() / 4
        assert na_total <= 0.5 + 1e-9, (v.species, v.occupancies)
        assert cl_total <= 1.0 + 1e-9
        touched.add("Na" if v.occupancies[0] < 0.5 - 1e-9 else "Cl")
    assert touched == {"Na", "Cl"}  # both orbits were drawn


@pytest.mark.parametrize("bad", ["2", 1.5, 0, True])
def test_a_bad_n_jobs_is_named(bad):
    # "2" went to joblib (whose error names no parameter); for one crystal it
    # was never looked at
    nacl = load_example_crystal("NaCl")
    for crystals in ([nacl], [nacl, nacl]):
        with pytest.raises(ValueError, match="n_jobs must be None or a non-zero"):
            make_variants(crystals, 2, random_state=0, n_jobs=bad)
