"""Structure collections: the bundled Materials Project set and the readers."""

import gzip
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from skxrd.crystal import to_crystal_system
from skxrd.datasets import (
    MATERIALS_PROJECT_ATTRIBUTION,
    CollectionWarning,
    load_example_crystal,
    load_materials_project,
    load_structures,
    read_cif_folder,
)

SOURCE = (
    Path(__file__).resolve().parents[3]
    / "shared/data/structures/materials-project-36737.jsonl.gz"
)


@pytest.fixture(scope="module")
def mp():
    return load_materials_project()


def test_materials_project_is_complete_and_aligned(mp):
    n = 36737
    assert len(mp.crystals) == n
    for key in (
        "ids",
        "formula",
        "space_group",
        "space_group_tight",
        "crystal_system",
        "prototype",
        "prototype_elements",
        "wyckoff",
        "groups",
        "formula_groups",
        "n_atoms",
        "n_conventional",
    ):
        assert len(mp[key]) == n, key
    assert mp.conventional_parameters.shape == (n, 6)
    assert mp.skipped == []
    assert "CC BY 4.0" in MATERIALS_PROJECT_ATTRIBUTION
    assert MATERIALS_PROJECT_ATTRIBUTION in mp.DESCR
    # the documented shares: a third of the set is not cubic + tetragonal ...
    systems, counts = np.unique(mp.crystal_system, return_counts=True)
    share = dict(zip(systems, counts / n))
    assert share["monoclinic"] == pytest.approx(0.225, abs=0.001)
    assert share["triclinic"] == pytest.approx(0.086, abs=0.001)
    assert len(np.unique(mp.space_group)) == 212
    np.testing.assert_array_equal(mp.crystal_system, to_crystal_system(mp.space_group))
    assert mp.n_atoms.min() == 1 and mp.n_atoms.max() == 200


def test_materials_project_crystals_match_their_labels(mp):
    rng = np.random.default_rng(0)
    for i in rng.choice(len(mp.crystals), 40, replace=False):
        c = mp.crystals[i]
        assert c.name == mp.ids[i]
        assert c.space_group == mp.space_group[i]
        assert c.get_space_group(symprec=0.1) == mp.space_group[i]
        assert c.formula.replace("1", "") != ""  # has a formula
        # groups are the prototypes: same label, same group
    same = mp.prototype == mp.prototype[1]
    assert np.all(mp.groups[same] == mp.groups[1])
    assert np.all(mp.groups[~same] != mp.groups[1])


def test_materials_project_records_pass_crystals_checks(mp):
    # the loader builds its records unchecked (trusted_crystal, for speed): each
    # must be one that Crystal(...) accepts as it is (no overlapping atoms, a
    # cell, known elements), with the same fields
    from skxrd.crystal import Crystal

    for c in mp.crystals:
        checked = Crystal(
            c.lattice, c.species, c.frac_coords, space_group=c.space_group, name=c.name
        )
        for field in ("species", "space_group", "name", "labels"):
            assert getattr(checked, field) == getattr(c, field), (c.name, field)
        for field in ("lattice", "frac_coords", "occupancies", "b_iso"):
            np.testing.assert_array_equal(getattr(checked, field), getattr(c, field))
        assert not c.lattice.flags.writeable and not c.frac_coords.flags.writeable


@pytest.mark.skipif(not SOURCE.exists(), reason="the shared source file is absent")
def test_the_bundle_is_lossless(mp):
    with gzip.open(SOURCE, "rt") as fh:
        rows = [json.loads(line) for _, line in zip(range(500), fh)]
    for r, c, formula in zip(rows, mp.crystals, mp.formula):
        assert c.name == r["id"] and formula == r["formula"]
        np.testing.assert_allclose(c.lattice, r["lattice"], atol=1e-9)
        np.testing.assert_allclose(c.frac_coords, r["frac"], atol=1e-9)
        assert list(c.species) == r["species"]


def test_as_frame(mp):
    pytest.importorskip("pandas")
    data = load_materials_project(as_frame=True)
    frame = data.frame
    assert len(frame) == len(mp.crystals)
    assert {"id", "formula", "space_group", "prototype", "group", "crystal"} <= set(
        frame.columns
    )
    assert frame["id"].iloc[1] == "mp-1000"


def test_load_structures_from_pymatgen_and_ase_reports_bad_entries():
    pytest.importorskip("pymatgen")
    pytest.importorskip("ase")
    nacl = load_example_crystal("NaCl")
    items = [nacl.to_pymatgen(), load_example_crystal("Si").to_ase(), 42, nacl]
    with pytest.warns(CollectionWarning, match="1 of 4 entries") as rec:
        data = load_structures(items, ids=["pmg", "ase", "int", "skxrd"])
    assert rec[0].filename == __file__  # the caller's line
    assert data.ids.tolist() == ["pmg", "ase", "skxrd"]
    assert data.space_group.tolist() == [225, 227, 225]
    assert data.skipped[0][0] == "int" and "TypeError" in data.skipped[0][1]
    assert data.groups[0] == data.groups[2] != data.groups[1]
    assert [c.name for c in data.crystals] == ["pmg", "ase", "skxrd"]


def test_load_structures_checks_ids():
    with pytest.raises(ValueError, match="ids has 1 entries for 2"):
        load_structures([load_example_crystal("Si")] * 2, ids=["a"])


@pytest.mark.parametrize("symprec", [-1, 0, float("nan"), "0.1"])
def test_a_bad_symprec_is_one_error_not_every_entry_skipped(tmp_path, symprec):
    # it failed each entry's symmetry search: all reported skipped, with a
    # warning, and an empty collection returned
    nacl = load_example_crystal("NaCl")
    with pytest.raises(ValueError, match="symprec must be"):
        load_structures([nacl], symprec=symprec)
    nacl.to_cif(tmp_path / "nacl.cif")
    with pytest.raises(ValueError, match="symprec must be"):
        read_cif_folder(tmp_path, symprec=symprec)


def test_load_structures_wants_a_sequence(tmp_path):
    path = tmp_path / "nacl.cif"
    load_example_crystal("NaCl").to_cif(path)
    # a lone path was read letter by letter, each letter a skipped entry
    for one in (str(path), path, load_example_crystal("NaCl")):
        with pytest.raises(ValueError, match="sequence of structures"):
            load_structures(one)
    with pytest.raises(ValueError, match="ids must be a sequence"):
        load_structures([path, path], ids="ab")
    assert load_structures([str(path)]).space_group.tolist() == [225]


def test_read_cif_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    load_example_crystal("NaCl").to_cif(tmp_path / "a_nacl.cif")
    load_example_crystal("Si").to_cif(tmp_path / "sub" / "b_si.CIF")
    (tmp_path / "c_empty.cif").write_text("")
    (tmp_path / "d_noatoms.cif").write_text("data_x\n_cell_length_a 4\n")
    (tmp_path / "e_binary.cif").write_bytes(b"\x00\xff" * 50)
    text = load_example_crystal("NaCl").to_cif().replace(" Na ", " Xx ")
    (tmp_path / "f_unknown.cif").write_text(text)
    (tmp_path / "notes.txt").write_text("not a cif")
    with pytest.warns(CollectionWarning, match="4 of 6 entries") as rec:
        data = read_cif_folder(tmp_path)
    assert rec[0].filename == __file__  # the caller's line
    assert data.ids.tolist() == ["a_nacl.cif", "sub/b_si.CIF"]
    assert data.space_group.tolist() == [225, 227]
    reasons = dict(data.skipped)
    assert set(reasons) == {
        "c_empty.cif",
        "d_noatoms.cif",
        "e_binary.cif",
        "f_unknown.cif",
    }
    assert "Xx" in reasons["f_unknown.cif"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollectionWarning)
        flat = read_cif_folder(tmp_path, recursive=False)
    assert flat.ids.tolist() == ["a_nacl.cif"]


def test_read_cif_folder_reads_every_structure_of_a_file(tmp_path):
    # a multi-phase CIF gave its first phase alone, without a word
    nacl = load_example_crystal("NaCl").to_cif().replace("data_", "data_p1_", 1)
    si = load_example_crystal("Si").to_cif().replace("data_", "data_p2_", 1)
    # a block that cannot be read is skipped, the others are read
    broken = load_example_crystal("NaCl").to_cif().replace(" Na ", " Xx ")
    broken = broken.replace("data_", "data_p3_", 1)
    text_only = "data_global\n_publ_section_title\n;\ndata_not_a_block\n;\n"
    (tmp_path / "phases.cif").write_text(text_only + nacl + si + broken)
    (tmp_path / "one.cif").write_text(text_only + si)
    with pytest.warns(CollectionWarning, match="1 of 4 entries"):
        data = read_cif_folder(tmp_path)
    nacl_id = "phases.cif#p1_" + load_example_crystal("NaCl").name
    si_id = "phases.cif#p2_" + load_example_crystal("Si").name
    assert data.ids.tolist() == ["one.cif", nacl_id, si_id]
    assert data.space_group.tolist() == [227, 225, 227]
    p3_id = "phases.cif#p3_" + load_example_crystal("NaCl").name
    assert [ident for ident, _ in data.skipped] == [p3_id]


def test_read_cif_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_cif_folder(tmp_path / "missing")
    data = read_cif_folder(tmp_path)  # an empty folder is an empty collection
    assert len(data.crystals) == 0 and data.groups.shape == (0,)


def test_a_crystal_without_symmetry_is_skipped_not_fatal(monkeypatch):
    from skxrd.datasets import _collections

    real = _collections.describe_structure

    def describe(crystal, symprec):
        if crystal.formula == "Si":
            raise ValueError("crystal 'Si': spglib finds no symmetry at symprec=0.1")
        return real(crystal, symprec)

    monkeypatch.setattr(_collections, "describe_structure", describe)
    items = [load_example_crystal("NaCl"), load_example_crystal("Si")]
    with pytest.warns(CollectionWarning, match="1 of 2"):
        data = load_structures(items, ids=["nacl", "si"])
    assert data.ids.tolist() == ["nacl"]
    assert data.skipped == [
        ("si", "no symmetry: crystal 'Si': spglib finds no symmetry at symprec=0.1")
    ]


@pytest.mark.parametrize("bad", ["2", 1.5, 0, True])
def test_a_bad_n_jobs_is_named(bad, tmp_path):
    # "2" went to joblib only for collections of more than one chunk, with an
    # error that names no parameter; below that it was never looked at
    nacl = load_example_crystal("NaCl")
    with pytest.raises(ValueError, match="n_jobs must be None or a non-zero"):
        load_structures([nacl], n_jobs=bad)
    with pytest.raises(ValueError, match="n_jobs must be None or a non-zero"):
        read_cif_folder(tmp_path, n_jobs=bad)
