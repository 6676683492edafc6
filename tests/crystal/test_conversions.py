"""Crystal conversions and writers: what goes out comes back, bad input is refused."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

from skxrd.crystal import Crystal
from skxrd.simulation import PowderSimulator


def _quiet_cif(text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Crystal.from_cif(text)


def _same_atoms(a, b, tol=1e-6):
    """Each atom of ``a`` has one of ``b`` with its species, occupancy and B
    at its position (modulo lattice translations)."""
    for sp, x, o, bb in zip(a.species, a.frac_coords, a.occupancies, a.b_iso):
        d = np.asarray(b.frac_coords) - x
        d -= np.round(d)
        hit = (
            (np.abs(d).max(axis=1) < tol)
            & (np.asarray(b.species) == sp)
            & np.isclose(b.occupancies, o)
            & np.isclose(b.b_iso, bb)
        )
        if not hit.any():
            return False
    return True


def _examples():
    rng = np.random.default_rng(1)
    return {
        "ions-occupancy-b": Crystal.from_wyckoff(
            225,
            [
                {"species": "Mg2+", "wyckoff": "4a", "b_iso": 0.5},
                {"species": "O2-", "wyckoff": "4b", "b_iso": 0.7, "occupancy": 0.9},
            ],
            a=4.21,
            name="MgO",
        ),
        "special-thirds": Crystal.from_wyckoff(
            194, [("C", "2b"), ("C", "2c")], a=2.46, c=6.7, name="graphite"
        ),
        "monoclinic": Crystal.from_wyckoff(
            14,
            [("Ti", "4e", (0.1, 0.2, 0.3)), ("O", "4e", (0.305, 0.405, 0.1))],
            a=4.594,
            b=5.0,
            c=6.0,
            beta=100.0,
        ),
        "rhombohedral": Crystal.from_wyckoff(
            166, [("Bi", "6c", (0, 0, 0.4)), ("Te", "3a")], a=4.38, c=30.5
        ),
        "mixed-site": Crystal(
            2.9 * np.eye(3),
            ["Fe", "Co", "Fe"],
            [[0, 0, 0], [0, 0, 0], [0.5, 0.5, 0.5]],
            occupancies=[0.5, 0.5, 1.0],
        ),
        "triclinic-rotated": Crystal(
            rng.normal(size=(3, 3)) + 4 * np.eye(3),
            ["Si", "O", "O"],
            rng.random((3, 3)),
            b_iso=[0.3, 0.5, 0.5],
        ),
    }


@pytest.mark.parametrize("key", list(_examples()))
def test_to_cif_round_trip_gives_the_same_crystal_and_pattern(key):
    crystal = _examples()[key]
    text = crystal.to_cif()
    back = _quiet_cif(text)
    assert back.n_atoms == crystal.n_atoms
    assert back.get_space_group() == crystal.get_space_group() == back.space_group
    np.testing.assert_allclose(
        back.lattice_parameters, crystal.lattice_parameters, atol=1e-6
    )
    if key != "triclinic-rotated":  # from_cif puts a along x: same orientation
        assert _same_atoms(crystal, back) and _same_atoms(back, crystal)
    X = PowderSimulator().fit_transform([crystal, back])
    np.testing.assert_allclose(X[1], X[0], atol=1e-5 * X[0].max())


def test_to_cif_keeps_special_positions_on_their_site():
    graphite = _examples()["special-thirds"]
    back = _quiet_cif(graphite.to_cif())
    thirds = back.frac_coords[np.abs(back.frac_coords[:, 0] - 1 / 3) < 1e-3]
    np.testing.assert_allclose(thirds[:, :2], [[1 / 3, 2 / 3]] * len(thirds), atol=1e-8)


def test_to_cif_writes_translations_in_zero_one():
    # spglib's translations of 1 - 1e-16 came out as '+1/1'
    text = _examples()["special-thirds"].to_cif()
    ops = [
        line.strip("'")
        for line in text.splitlines()
        if line.startswith("'") and "," in line
    ]
    assert ops and not any("1/1" in op for op in ops), ops


def test_to_cif_does_not_overwrite_without_being_asked(tmp_path):
    path = tmp_path / "mine.cif"
    path.write_text("the user's own file\n")
    crystal = _examples()["special-thirds"]
    with pytest.raises(FileExistsError, match=r"mine\.cif exists; pass overwrite=True"):
        crystal.to_cif(path)
    assert path.read_text() == "the user's own file\n"
    text = crystal.to_cif(path, overwrite=True)
    assert path.read_text() == text
    fresh = tmp_path / "new.cif"
    assert crystal.to_cif(fresh) == fresh.read_text()
    # as write_pattern: a truthy string is no permission, and a folder, a
    # missing folder and a broken link are named before anything is written
    with pytest.raises(TypeError, match="overwrite must be True or False"):
        crystal.to_cif(path, overwrite="no")
    assert path.read_text() == text
    with pytest.raises(IsADirectoryError, match="is a folder"):
        crystal.to_cif(tmp_path)
    with pytest.raises(FileNotFoundError, match="the folder .* does not exist"):
        crystal.to_cif(tmp_path / "missing" / "x.cif")
    (tmp_path / "link.cif").symlink_to(tmp_path / "gone.cif")
    with pytest.raises(FileExistsError, match="broken symbolic link"):
        crystal.to_cif(tmp_path / "link.cif", overwrite=True)


@pytest.mark.parametrize("key", ["ions-occupancy-b", "special-thirds", "mixed-site"])
def test_pymatgen_reads_skxrd_cif_as_the_same_structure(key):
    pytest.importorskip("pymatgen")
    from pymatgen.io.cif import CifParser

    crystal = _examples()[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        structure = CifParser(io.StringIO(crystal.to_cif())).parse_structures(
            primitive=False
        )[0]
    back = Crystal.from_pymatgen(structure)
    # pymatgen keeps no B factors: compare without them
    plain = crystal.replace(b_iso=0.0)
    assert _same_atoms(plain, back, 1e-5) and _same_atoms(back, plain, 1e-5)
    assert structure.composition.almost_equals(crystal.to_pymatgen().composition)


@pytest.mark.parametrize("key", ["ions-occupancy-b", "special-thirds", "mixed-site"])
def test_ase_reads_skxrd_cif_as_the_same_structure(key):
    pytest.importorskip("ase")
    import ase.io

    crystal = _examples()[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        atoms = ase.io.read(io.StringIO(crystal.to_cif()), format="cif")
    back = Crystal.from_ase(atoms)
    # ASE's CIF reader keeps neither charges nor B factors
    plain = Crystal(
        crystal.lattice, crystal.elements, crystal.frac_coords, crystal.occupancies
    )
    assert back.n_atoms == crystal.n_atoms
    assert _same_atoms(plain, back, 1e-5) and _same_atoms(back, plain, 1e-5)


def test_from_ase_reads_occupancies_by_site_kind():
    # ASE >= 3.23 keys info["occupancy"] by the array "spacegroup_kinds", not
    # by the tags (all 0): O at 0.9 came back 1.0, and the fully occupied Fe of
    # a crystal with a mixed site came back at the mixed site's 0.5
    pytest.importorskip("ase")
    from ase import Atoms

    atoms = Atoms(
        ["Co", "Fe"],
        scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]],
        cell=2.9 * np.eye(3),
        pbc=True,
    )
    atoms.new_array("spacegroup_kinds", np.array([0, 2]))
    atoms.info["occupancy"] = {
        "0": {"Fe": 0.5, "Co": 0.5},
        "1": {"Co": 0.5, "Fe": 0.5},
        "2": {"Fe": 1.0},
    }
    c = Crystal.from_ase(atoms)
    got = sorted(zip(c.species, c.occupancies.tolist(), c.frac_coords[:, 0].tolist()))
    assert got == [("Co", 0.5, 0.0), ("Fe", 0.5, 0.0), ("Fe", 1.0, 0.5)]
    # ASE's CIF writer writes what to_ase stores, and from_ase reads it back
    atoms.info["occupancy"]["2"] = {"Ni": 1.0}
    with pytest.raises(ValueError, match=r"atom 1 \(Fe\) is of site kind 2"):
        Crystal.from_ase(atoms)


def test_to_ase_keeps_occupancies_ions_and_b():
    pytest.importorskip("ase")
    import ase.io

    for crystal in (_examples()["ions-occupancy-b"], _examples()["mixed-site"]):
        atoms = crystal.to_ase()
        back = Crystal.from_ase(atoms)
        assert back.species == crystal.species
        np.testing.assert_array_equal(back.occupancies, crystal.occupancies)
        np.testing.assert_array_equal(back.b_iso, crystal.b_iso)
        # ASE's own CIF writer finds the occupancies where it looks for them
        buffer = io.BytesIO()
        ase.io.write(buffer, atoms, format="cif")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            again = ase.io.read(io.StringIO(buffer.getvalue().decode()), format="cif")
        np.testing.assert_allclose(
            sorted(Crystal.from_ase(again).occupancies), sorted(crystal.occupancies)
        )


def test_from_ase_integer_charges_are_ions_partial_charges_are_not():
    pytest.importorskip("ase")
    from ase import Atoms

    atoms = Atoms(
        ["Na", "Cl"],
        scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]],
        cell=4.0 * np.eye(3),
        pbc=True,
        charges=[1, -1],
    )
    assert Crystal.from_ase(atoms).species == ("Na+", "Cl-")
    atoms.set_initial_charges([0.83, -0.83])
    assert Crystal.from_ase(atoms).species == ("Na", "Cl")


def _fe(**kwargs):
    return Crystal(2.9 * np.eye(3), **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(species=["Fe", "Fe"], occupancies=[1.0, 0.5]),
        dict(species=["Fe2+", "Fe3+"]),
        dict(species=["H", "D"]),
        dict(species=["Fe", "Fe"], b_iso=[0.1, 0.5]),
    ],
    ids=["occupancy", "charge", "isotope", "b"],
)
def test_get_space_group_keeps_other_kinds_of_one_element_apart(kwargs):
    # spglib saw two Fe on a body-centred cell: Im-3m (229) instead of Pm-3m
    crystal = _fe(frac_coords=[[0, 0, 0], [0.5, 0.5, 0.5]], **kwargs)
    assert crystal.get_space_group() == 221
    _, positions, numbers = crystal.to_spglib_cell()
    assert len(set(numbers)) == 2 and len(positions) == 2
    assert {n % 1000 for n in numbers} == {
        1 if el in ("H", "D") else 26 for el in crystal.elements
    }
    # to_cif agrees with get_space_group
    assert "_symmetry_Int_Tables_number 221\n" in crystal.to_cif()


def test_to_spglib_cell_of_ordered_and_mixed_crystals():
    nacl = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=5.64)
    lattice, positions, numbers = nacl.to_spglib_cell()
    assert numbers == [11] * 4 + [17] * 4
    np.testing.assert_array_equal(positions, nacl.frac_coords)
    # a mixed site is one position whose type is the site's make-up
    mixed = _fe(
        species=["Fe", "Co", "Fe", "Co"],
        frac_coords=[[0, 0, 0], [0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]],
        occupancies=0.5,
    )
    _, positions, numbers = mixed.to_spglib_cell()
    assert len(positions) == 2 and numbers[0] == numbers[1]
    assert mixed.get_space_group() == 229
    ordered_mix = _fe(
        species=["Fe", "Co", "Fe"],
        frac_coords=[[0, 0, 0], [0, 0, 0], [0.5, 0.5, 0.5]],
        occupancies=[0.5, 0.5, 1.0],
    )
    assert ordered_mix.get_space_group() == 221
    # many mixed sites (the pairs come from a tree there), in any atom order
    rng = np.random.default_rng(0)
    spots = np.repeat(rng.random((30, 3)), 3, axis=0)
    species = ["Fe", "Co", "Ni"] * 29 + ["Ni", "Fe", "Co"]
    alloy = Crystal(15.0 * np.eye(3), species, spots, occupancies=1 / 3)
    _, positions, numbers = alloy.to_spglib_cell()
    assert len(positions) == 30 and set(numbers) == {26}


@pytest.mark.parametrize("n_extra", [0, 60], ids=["few-atoms", "many-atoms"])
def test_atoms_on_one_spot_must_share_its_occupancy(n_extra):
    rng = np.random.default_rng(0)
    lattice = np.diag([8.0, 9.0, 10.0])
    # well separated filler atoms on a grid, far from the test spot at 0.5
    grid = np.stack(np.meshgrid(*[np.arange(4) / 4 + 0.1] * 3), -1).reshape(-1, 3)
    filler = grid[rng.permutation(len(grid))[:n_extra]]

    def make(species, coords, occ):
        return Crystal(
            lattice,
            list(species) + ["O"] * len(filler),
            np.concatenate([coords, filler]),
            occupancies=list(occ) + [1.0] * len(filler),
        )

    spot = [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
    with pytest.raises(ValueError, match=r"atoms 0 \(Si\), 1 \(Si\) .* summing to 2"):
        make(["Si", "Si"], spot, [1, 1])
    with pytest.raises(ValueError, match=r"summing to 2 > 1"):  # a lattice vector off
        make(["Si", "Si"], [[0.5, 0.5, 0.5], [1.5, 0.5, -0.5]], [1, 1])
    with pytest.raises(ValueError, match=r"atoms 0 \(Fe\), 1 \(Co\) .* summing to 1.6"):
        make(["Fe", "Co"], spot, [0.8, 0.8])
    # a mixed site, refined occupancies a little over 1, and a split site
    assert make(["Fe", "Co"], spot, [0.5, 0.5]).n_atoms == 2 + n_extra
    assert make(["Fe", "Co"], spot, [0.52, 0.5]).n_atoms == 2 + n_extra
    split = [[0.5, 0.5, 0.5], [0.53, 0.5, 0.5]]
    assert make(["Si", "Si"], split, [1, 1]).n_atoms == 2 + n_extra


def test_from_wyckoff_refuses_two_full_atoms_on_one_site():
    with pytest.raises(ValueError, match=r"atoms 0 \(Na\), 4 \(Cl\) are at the same"):
        Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4a")], a=5.64)
    mixed = Crystal.from_wyckoff(
        225,
        [
            {"species": "Na", "wyckoff": "4a", "occupancy": 0.5},
            {"species": "K", "wyckoff": "4a", "occupancy": 0.5},
            ("Cl", "4b"),
        ],
        a=5.64,
    )
    assert mixed.n_atoms == 12 and mixed.composition == {"Na": 2, "K": 2, "Cl": 4}


def test_from_wyckoff_refuses_a_point_off_the_site():
    # x, x, 0 with y = 0.2 was built at (0.3, 0.3, 0) without a word
    with pytest.raises(
        ValueError, match=r"not on Wyckoff position 4f.*\[0.3, 0.3, 0.0\]"
    ):
        Crystal.from_wyckoff(136, [("O", "4f", (0.3, 0.2, 0.0))], a=4.6, c=3.0)
    with pytest.raises(ValueError, match=r"not on Wyckoff position 4a.*\(none\)"):
        Crystal.from_wyckoff(225, [("Na", "4a", (0.1, 0.2, 0.3))], a=5.0)
    # placeholders (0), the site's own values and another point of the orbit
    for xyz in [(0.3, 0.0, 0.0), (0.3, 0.3, 0.0), (0.7, 0.7, 0.0)]:
        c = Crystal.from_wyckoff(136, [("O", "4f", xyz)], a=4.6, c=3.0)
        assert c.n_atoms == 4
    fcc = Crystal.from_wyckoff(225, [("Cu", "4a", (0, 0.5, 0.5))], a=3.6)
    assert fcc.n_atoms == 4
    pnma = Crystal.from_wyckoff(
        62, [("O", "4c", (0.1, 0.25, 0.3))], a=5.0, b=6.0, c=7.0
    )
    same = Crystal.from_wyckoff(62, [("O", "4c", (0.1, 0.0, 0.3))], a=5.0, b=6.0, c=7.0)
    np.testing.assert_array_equal(pnma.frac_coords, same.frac_coords)


def test_from_wyckoff_refuses_malformed_sites():
    # tuple("Na") is ('N', 'a'): nitrogen on 4a
    with pytest.raises(TypeError, match=r"site 0 is the string 'Na'"):
        Crystal.from_wyckoff(225, ["Na"], a=5.0)
    with pytest.raises(TypeError, match=r"sites must be a list of sites"):
        Crystal.from_wyckoff(225, "Na", a=5.0)
    with pytest.raises(ValueError, match=r"site 0 has no 'wyckoff'"):
        Crystal.from_wyckoff(225, [{"species": "Na"}], a=5.0)


def test_constructor_names_bad_species_and_keeps_name_a_string():
    with pytest.raises(TypeError, match=r"species must be a sequence .* got NoneType"):
        Crystal(4.0 * np.eye(3), None, [[0, 0, 0]])
    c = Crystal(4.0 * np.eye(3), ["Po"], [[0, 0, 0]], name=5)
    assert c.name == "5"
    assert c.to_cif().startswith("data_5\n")
