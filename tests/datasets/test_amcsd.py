"""The AMCSD reader: a small database in larixite's schema, and the real one."""

from __future__ import annotations

import base64
import importlib.util
import json
import sqlite3
import warnings
from fractions import Fraction

import numpy as np
import pytest

from skxrd.crystal._symmetry import general_position
from skxrd.datasets._amcsd import load_amcsd
from skxrd.datasets._collections import CollectionWarning

# The tables of larixite's amcsd_utils.schema that the reader touches.
SCHEMA = """
CREATE TABLE elements (id integer not null, z INTEGER NOT NULL, name VARCHAR(40),
    symbol VARCHAR(2) NOT NULL primary key);
CREATE TABLE spacegroups (id INTEGER primary key,
    hm_notation VARCHAR(16) not null unique, symmetry_xyz text NOT NULL,
    category text);
CREATE TABLE minerals (id INTEGER not null primary key, name text not null unique);
CREATE TABLE cif (id integer not null primary key, mineral_id INTEGER,
    spacegroup_id INTEGER, publication_id INTEGER, formula text, compound text,
    pub_title text, formula_title text, a text, b text, c text, alpha text,
    beta text, gamma text, cell_volume text, crystal_density text,
    atoms_sites text, atoms_x text, atoms_y text, atoms_z text,
    atoms_occupancy text, atoms_u_iso text, atoms_aniso_label text,
    atoms_aniso_u11 text, atoms_aniso_u22 text, atoms_aniso_u33 text,
    atoms_aniso_u12 text, atoms_aniso_u13 text, atoms_aniso_u23 text,
    qdat text, amcsd_url text);
CREATE TABLE cif_elements (cif_id text not null, element VARCHAR(2) not null);
"""


def farray(values):
    """larixite's encode_farray: '?' -> 2, '.' -> 3, base64 of int32(v * 4e6)."""
    coded = [{"?": 2.0, ".": 3.0}.get(v, v) for v in values]
    scaled = (4e6 * np.asarray(coded, dtype=float)).round().astype(np.int32)
    return base64.b64encode(scaled.tobytes()).decode("ascii")


def xyz_strings(number):
    """Symmetry operations of a space group as CIF xyz strings."""
    site = general_position(number)
    ops = []
    for W, t in zip(site.rotations, site.translations):
        parts = []
        for row, shift in zip(np.asarray(W), np.asarray(t)):
            text = "".join(
                f"{'+' if c > 0 else '-'}{v}" for c, v in zip(row, "xyz") if c
            ).lstrip("+")
            frac = Fraction(float(shift) % 1).limit_denominator(12)
            parts.append(f"{frac}+{text}" if frac else text)
        ops.append(",".join(parts))
    return ops


def column(values):
    """A per-site column: '0' when the CIF has none, else encoded (None is '?')."""
    if all(v is None for v in values):
        return "0"
    return farray(["?" if v is None else v for v in values])


CUBIC = ("5.64(1)", "5.64(1)", "5.64(1)", "90", "90", "90")
# id, spacegroups row, minerals row, cif_elements, cell,
# sites as (label, x, y, z, occupancy, U_iso); None is a missing value
ENTRIES = [
    # rock salt with the full Fm-3m operation list
    (1, 1, 1, "Na Cl", CUBIC,
     [("Na1", 0, 0, 0, None, 0.01), ("Cl1", 0.5, 0.5, 0.5, None, 0.02)]),
    # a mixed Mg/Fe site, comma decimals in the cell, U of O unknown
    (2, 1, 2, "Mg Fe O", ("4,21", "4,21", "4,21", "90", "90", "90"),
     [("MgM", 0, 0, 0, 0.7, 0.005), ("FeM", 0, 0, 0, 0.3, 0.005),
      ("O1", 0.5, 0.5, 0.5, 1.0, None)]),
    # angles that make no 3D cell
    (3, 2, 1, "Na Cl", ("5", "5", "5", "90", "90", "200"),
     [("Na1", 0, 0, 0, None, None)]),
    # a site label that names no element of the entry
    (4, 2, 1, "Fe O", CUBIC,
     [("M1", 0, 0, 0, None, None), ("O1", 0.5, 0.5, 0.5, None, None)]),
    # unknown coordinates
    (5, 2, 1, "Fe O", CUBIC,
     [("Fe1", None, 0, 0, None, None), ("O1", 0.5, 0.5, 0.5, None, None)]),
    # water oxygen and deuterium (AMCSD lists D as H), no mineral name
    (6, 2, 3, "O H", ("4", "5", "6", "90", "90", "90"),
     [("Wat1", 0, 0, 0, None, None), ("D1", 0.1, 0, 0.1, None, None),
      ("D2", 0.9, 0, 0.1, None, None)]),
]  # fmt: skip


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("amcsd") / "mini_amcsd.db"
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.executemany(
        "INSERT INTO spacegroups (id, hm_notation, symmetry_xyz) VALUES (?,?,?)",
        [(1, "F m -3 m", json.dumps(xyz_strings(225))), (2, "P 1", '["x,y,z"]')],
    )
    con.executemany(
        "INSERT INTO minerals VALUES (?, ?)",
        [(1, "Halite"), (2, "Ferropericlase"), (3, "<missing>")],
    )
    for cid, sg_id, mineral_id, elements, cell, sites in ENTRIES:
        labels, *columns = zip(*sites)
        con.execute(
            "INSERT INTO cif (id, mineral_id, spacegroup_id, formula, a, b, c,"
            " alpha, beta, gamma, atoms_sites, atoms_x, atoms_y, atoms_z,"
            " atoms_occupancy, atoms_u_iso, atoms_aniso_label)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [cid, mineral_id, sg_id, elements, *cell, json.dumps(labels)]
            + [column(c) for c in columns]
            + ['"<missing>"'],
        )
        con.executemany(
            "INSERT INTO cif_elements VALUES (?, ?)",
            [(str(cid), e) for e in elements.split()],
        )
    con.commit()
    con.close()
    return path


@pytest.fixture(scope="module")
def data(db):
    with pytest.warns(CollectionWarning, match="3 of 6 entries"):
        return load_amcsd(db, as_frame=True)


def test_the_unusable_entries_warning_names_the_callers_line(db):
    with pytest.warns(CollectionWarning, match="3 of 6 entries") as rec:
        load_amcsd(db)
    assert len(rec) == 1 and rec[0].filename == __file__


def test_good_entries_load_with_their_space_groups(data):
    assert data.ids.tolist() == ["amcsd-0000001", "amcsd-0000002", "amcsd-0000006"]
    assert data.space_group.tolist()[:2] == [225, 225]
    assert data.n_atoms.tolist() == [8, 12, 3]
    assert data.mineral.tolist() == ["Halite", "Ferropericlase", ""]
    assert [c.name for c in data.crystals] == data.ids.tolist()
    assert data.crystals[0].formula == "NaCl"
    assert data.crystals[2].species == ("O", "D", "D")
    np.testing.assert_allclose(data.crystals[0].lattice, 5.64 * np.eye(3), atol=1e-9)
    assert data.frame["mineral"].tolist() == data.mineral.tolist()
    assert "American Mineralogist" in data.DESCR


def test_b_from_u_and_occupancies_kept(data):
    nacl, mixed = data.crystals[:2]
    b = dict(zip(nacl.species, nacl.b_iso))
    assert b["Na"] == pytest.approx(8 * np.pi**2 * 0.01, rel=1e-6)
    assert b["Cl"] == pytest.approx(8 * np.pi**2 * 0.02, rel=1e-6)
    occ = {
        s: set(np.round(mixed.occupancies[np.array(mixed.species) == s], 6))
        for s in ("Mg", "Fe", "O")
    }
    assert occ == {"Mg": {0.7}, "Fe": {0.3}, "O": {1.0}}
    assert set(mixed.b_iso[np.array(mixed.species) == "O"]) == {0.0}  # U was '?'
    assert mixed.labels[0] == "MgM"


def test_bad_entries_are_skipped_with_reasons(data):
    reasons = dict(data.skipped)
    assert list(reasons) == ["amcsd-0000003", "amcsd-0000004", "amcsd-0000005"]
    assert "bad cell" in reasons["amcsd-0000003"]
    assert "'M1'" in reasons["amcsd-0000004"]
    assert "unknown coordinates" in reasons["amcsd-0000005"]


def test_not_a_database_names_the_file(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("this is not sqlite\n" * 100)
    with pytest.raises(ValueError, match="notes.db"):
        load_amcsd(path)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ValueError, match="empty.db.*lacks"):
        load_amcsd(empty)
    with pytest.raises(FileNotFoundError, match="missing.db"):
        load_amcsd(tmp_path / "missing.db")


def _fake_find_spec(monkeypatch, spec):
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return spec if name == "larixite" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_without_larixite_and_path_an_import_error(monkeypatch):
    _fake_find_spec(monkeypatch, None)
    with pytest.raises(ImportError, match=r'pip install "skxrd\[amcsd\]"'):
        load_amcsd()


def test_default_path_is_inside_the_larixite_package(monkeypatch, db):
    spec = importlib.util.spec_from_loader("larixite", loader=None, is_package=True)
    spec.submodule_search_locations = [str(db.parent)]
    db.parent.joinpath("amcsd_cif1.db").write_bytes(db.read_bytes())
    _fake_find_spec(monkeypatch, spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollectionWarning)
        assert len(load_amcsd().crystals) == 3


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("larixite") is None, reason="larixite is not installed"
)
def test_the_real_database_mostly_loads():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollectionWarning)
        data = load_amcsd()
    n, skipped = len(data.crystals), len(data.skipped)
    assert n + skipped > 9000
    assert n >= 0.85 * (n + skipped)
    assert len(data.mineral) == n
    assert sum(np.any(c.occupancies < 1) for c in data.crystals) > 2000


@pytest.fixture
def fake_larixite(monkeypatch, db):
    """A larixite package whose database is the small one; the named source's
    per-process cache is emptied before and after."""
    from skxrd.datasets._dataset import _default_prior, _load_named

    spec = importlib.util.spec_from_loader("larixite", loader=None, is_package=True)
    spec.submodule_search_locations = [str(db.parent)]
    db.parent.joinpath("amcsd_cif1.db").write_bytes(db.read_bytes())
    _fake_find_spec(monkeypatch, spec)
    _load_named.cache_clear()
    _default_prior.cache_clear()
    yield
    _load_named.cache_clear()
    _default_prior.cache_clear()


def test_amcsd_is_a_named_source_of_make_pattern_dataset(fake_larixite):
    from skxrd.datasets import SOURCES, make_pattern_dataset
    from skxrd.simulation import PowderSimulator

    assert "amcsd" in SOURCES
    sim = PowderSimulator(two_theta_range=(20.0, 60.0), two_theta_step=0.1)
    data = make_pattern_dataset(None, source="amcsd", simulator=sim, verbose=False)
    assert sorted(data.ids.tolist()) == [
        "amcsd-0000001",
        "amcsd-0000002",
        "amcsd-0000006",
    ]
    assert set(data.source.tolist()) == {"amcsd"}
    by_id = dict(zip(data.ids.tolist(), data.space_group.tolist()))
    assert by_id["amcsd-0000001"] == by_id["amcsd-0000002"] == 225
    # each pattern is its database entry's, simulated
    i = data.ids.tolist().index("amcsd-0000001")
    assert data.crystals[i].formula == "NaCl"
    np.testing.assert_allclose(data.X[i], sim.transform([data.crystals[i]])[0])

    mixed = make_pattern_dataset(
        6,
        source={"amcsd": 0.5, "uniform": 0.5},
        simulator=sim,
        random_state=0,
        verbose=False,
    )
    assert sorted(set(mixed.source.tolist())) == ["amcsd", "uniform"]
    assert (mixed.source == "amcsd").sum() == 3


def test_realistic_minerals_are_random_crystals_learned_from_the_amcsd(
    fake_larixite, monkeypatch
):
    from skxrd.datasets import SOURCES, make_pattern_dataset
    from skxrd.datasets._dataset import _default_prior, _source_key
    from skxrd.simulation import PowderSimulator

    assert "realistic_minerals" in SOURCES
    sim = PowderSimulator(two_theta_range=(20.0, 60.0), two_theta_step=0.1)

    def draw():
        return make_pattern_dataset(
            8,
            source={"realistic_minerals": 0.5, "amcsd": 0.5},
            target="crystal_system",
            simulator=sim,
            random_state=3,
            verbose=False,
        )

    data = draw()
    prior = _default_prior("realistic_minerals")
    # fitted on the three usable entries, groups drawn with the COD's weights
    assert prior.n_structures_ == 3
    assert prior.space_group_weights == "cod"
    assert len(prior.space_groups_) > 100
    random = np.flatnonzero(data.source == "realistic_minerals")
    assert len(random) == 4
    # new crystals, in the database's chemistries, of their drawn groups
    for i in random:
        c = data.crystals[i]
        assert not c.name.startswith("amcsd-")
        assert set(c.species) <= {"Na", "Cl", "Mg", "Fe", "O", "D", "H"}
        assert c.get_space_group() == data.space_group[i]
    np.testing.assert_array_equal(draw().X, data.X)
    # the cache key changes with the database's version, as for "amcsd"
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "version", lambda name: f"{name}-9.9")
    [(name, kind, key, weight)] = _source_key("realistic_minerals", "space_group")
    assert (name, kind, key) == (
        "realistic_minerals",
        "realistic_minerals",
        "realistic_minerals:larixite-9.9",
    )


def test_amcsd_source_without_larixite_says_how_to_install(monkeypatch):
    from skxrd.datasets import make_pattern_dataset
    from skxrd.datasets._dataset import _load_named

    _fake_find_spec(monkeypatch, None)
    _load_named.cache_clear()
    with pytest.raises(ImportError, match=r'pip install "skxrd\[amcsd\]"'):
        make_pattern_dataset(3, source="amcsd", verbose=False)
    _load_named.cache_clear()


def test_named_sources_show_their_loading_with_verbose(fake_larixite, capsys):
    # the AMCSD's minute of reading, and the prior learned from it, ran without
    # a bar although make_pattern_dataset's verbose (True by default) asks for
    # progress bars
    from skxrd.datasets import make_pattern_dataset
    from skxrd.simulation import PowderSimulator

    sim = PowderSimulator(two_theta_range=(20.0, 60.0), two_theta_step=0.1)
    make_pattern_dataset(
        4,
        source={"amcsd": 0.5, "realistic_minerals": 0.5},
        simulator=sim,
        random_state=0,
        verbose=True,
    )
    err = capsys.readouterr().err
    assert "reading AMCSD" in err
    assert "learning the prior" in err
    # loaded once per process: a quiet call now reads nothing, shows nothing
    make_pattern_dataset(
        2, source="amcsd", simulator=sim, random_state=0, verbose=False
    )
    assert capsys.readouterr().err == ""


def test_pattern_store_shows_a_named_source_loading(fake_larixite, tmp_path, capsys):
    # the chunks are built quietly: the AMCSD's first reading happened under a
    # chunk bar standing at 0, with no bar of its own
    from skxrd.datasets import write_pattern_store
    from skxrd.simulation import PowderSimulator

    sim = PowderSimulator(two_theta_range=(20.0, 60.0), two_theta_step=0.1)
    kw = dict(source="amcsd", simulator=sim, chunk_size=2, random_state=0)
    with write_pattern_store(tmp_path / "a.h5", 3, verbose=True, **kw) as store:
        assert store.is_complete
        X = np.asarray(store.X)
    assert "reading AMCSD" in capsys.readouterr().err
    with write_pattern_store(tmp_path / "b.h5", 3, verbose=False, **kw) as quiet:
        np.testing.assert_array_equal(np.asarray(quiet.X), X)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("bad", ["2", 1.5, 0, True])
def test_a_bad_n_jobs_is_named_before_reading(bad, tmp_path):
    # named before a minute of reading, not by joblib after it
    with pytest.raises(ValueError, match="n_jobs must be None or a non-zero"):
        load_amcsd(tmp_path / "not-read.db", n_jobs=bad)
