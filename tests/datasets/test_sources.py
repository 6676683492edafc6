"""make_pattern_dataset from any source; pattern stores from named sources."""

import warnings

import numpy as np
import pytest

from skxrd.crystal import CRYSTAL_SYSTEMS
from skxrd.datasets import (
    CrystalPrior,
    PatternStore,
    load_example_crystal,
    load_materials_project,
    load_structures,
    make_pattern_dataset,
    write_pattern_store,
)
from skxrd.simulation import InstrumentSampler, PowderSimulator

SIM = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.1)


@pytest.fixture(scope="module")
def small_mp():
    mp = load_materials_project()
    idx = np.flatnonzero(mp.n_atoms <= 8)[:300]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_structures([mp.crystals[i] for i in idx])


@pytest.fixture(scope="module")
def small_prior(small_mp):
    return CrystalPrior().fit(small_mp)


def test_real_structures_with_variants(small_mp):
    data = make_pattern_dataset(
        30,
        source=small_mp,
        n_variants=3,
        simulator=SIM,
        random_state=0,
        verbose=False,
    )
    assert data.X.shape == (30, 500)
    assert set(data.source) == {"collection"}
    # ten structures, three variants each, grouped by prototype
    ids = data.ids.reshape(10, 3)
    assert np.all(ids == ids[:, :1]) and len(set(ids[:, 0])) == 10
    assert np.all(data.groups.reshape(10, 3) == data.groups.reshape(10, 3)[:, :1])
    by_id = dict(zip(small_mp.ids, small_mp.prototype))
    protos = [by_id[i] for i in data.ids]
    for g in set(data.groups):
        assert len({p for p, gg in zip(protos, data.groups) if gg == g}) == 1
    # labels come with the structures
    sg = dict(zip(small_mp.ids, small_mp.space_group))
    assert data.y.tolist() == [sg[i] for i in data.ids]
    # variants differ from each other
    assert not np.allclose(data.X[0], data.X[1])


def test_every_structure_once_and_groups_by_formula(small_mp):
    data = make_pattern_dataset(
        None,
        source=small_mp,
        groups="formula",
        simulator=SIM,
        random_state=0,
        verbose=False,
    )
    assert len(data.y) == len(small_mp.crystals)
    assert sorted(data.ids) == sorted(small_mp.ids)
    formulas = [c.formula for c in data.crystals]
    assert len(set(data.groups)) == len(set(formulas))


def test_materials_project_by_name_and_the_default_prior():
    data = make_pattern_dataset(
        6,
        target="crystal_system",
        source="materials_project",
        simulator=SIM,
        random_state=1,
        verbose=False,
    )
    assert all(i.startswith("mp-") for i in data.ids)
    assert set(data.y) <= set(CRYSTAL_SYSTEMS)


def test_mixture_shares_and_seeds(small_mp, small_prior):
    source = [(small_prior, 2.0), (small_mp, 1.0), ("uniform", 1.0)]
    data = make_pattern_dataset(
        20, source=source, simulator=SIM, random_state=0, verbose=False
    )
    names, counts = np.unique(data.source, return_counts=True)
    assert dict(zip(names, counts)) == {
        "realistic-0": 10,
        "collection-1": 5,
        "uniform": 5,
    }
    again = make_pattern_dataset(
        20, source=source, simulator=SIM, random_state=0, verbose=False, n_jobs=2
    )
    np.testing.assert_array_equal(data.X, again.X)
    np.testing.assert_array_equal(data.groups, again.groups)
    other = make_pattern_dataset(
        20, source=source, simulator=SIM, random_state=1, verbose=False
    )
    assert not np.array_equal(data.X, other.X)
    # random crystals are their own groups; groups never mix sources
    for g in set(data.groups):
        assert len(set(data.source[data.groups == g])) == 1
    assert len(set(data.groups[data.source == "uniform"])) == 5


def test_a_single_source_keeps_the_seed_of_older_datasets():
    a = make_pattern_dataset(8, simulator=SIM, random_state=3, verbose=False)
    b = make_pattern_dataset(
        8, source="uniform", simulator=SIM, random_state=3, verbose=False
    )
    np.testing.assert_array_equal(a.X, b.X)
    assert a.groups.tolist() == list(range(8))


def test_measured_like_instrument():
    from skxrd.simulation import MEASURED_LIKE

    data = make_pattern_dataset(
        3,
        source=[load_example_crystal("NaCl")],
        n_variants=3,
        variants=False,
        instrument="measured_like",
        simulator=SIM,
        random_state=0,
        verbose=False,
    )
    assert all(
        MEASURED_LIKE["counts"][0] <= s["counts"] <= MEASURED_LIKE["counts"][1]
        for s in data.settings
    )
    assert (data.X > 0).mean() > 0.9  # a background with counting noise


def test_instrument_settings_and_plain_copies():
    nacl = load_example_crystal("NaCl")
    data = make_pattern_dataset(
        4,
        source=[nacl],
        n_variants=4,
        variants=False,
        instrument=InstrumentSampler(zero_shift=0.3, texture=0.0),
        simulator=SIM,
        random_state=0,
        verbose=False,
    )
    assert all(c is data.crystals[0] for c in data.crystals)
    assert len(data.settings) == 4
    peaks = SIM.two_theta[data.X.argmax(axis=1)]
    assert len(set(np.round(peaks, 1))) > 1  # zero shifts moved the patterns
    plain = make_pattern_dataset(
        4,
        source=[nacl],
        n_variants=4,
        variants=False,
        simulator=SIM,
        random_state=0,
        verbose=False,
    )
    assert plain.settings is None
    np.testing.assert_allclose(plain.X, plain.X[:1].repeat(4, 0))


def test_prototype_groups_of_random_crystals():
    data = make_pattern_dataset(
        10,
        space_groups=[225],
        n_atoms=(8, 8),
        groups="prototype",
        simulator=SIM,
        random_state=0,
        verbose=False,
    )
    assert len(set(data.groups)) < 10  # small cubic crystals repeat prototypes


def test_the_cache_works_with_sources(tmp_path, small_prior, small_mp, monkeypatch):
    from skxrd.datasets import _dataset

    source = [(small_prior, 1.0), (small_mp, 1.0), ([load_example_crystal("Si")], 1.0)]
    kw = dict(source=source, simulator=SIM, random_state=0, verbose=False)
    a = make_pattern_dataset(6, cache=tmp_path, **kw)
    calls = []
    monkeypatch.setattr(_dataset, "_collection_part", lambda *a: calls.append(1))
    b = make_pattern_dataset(6, cache=tmp_path, **kw)  # from the cache
    np.testing.assert_array_equal(a.X, b.X)
    assert calls == []
    # another collection is another dataset
    changed = [
        (small_prior, 1.0),
        (small_mp, 1.0),
        ([load_example_crystal("NaCl")], 1.0),
    ]
    monkeypatch.undo()
    c = make_pattern_dataset(6, cache=tmp_path, **{**kw, "source": changed})
    assert not np.array_equal(a.X, c.X)


def test_the_cache_keys_a_collection_by_the_fields_the_build_reads(tmp_path, small_mp):
    # groups come from the collection's prototypes: an edited one is another
    # dataset, not the cached one
    from sklearn.utils import Bunch

    coll = Bunch(**{k: small_mp[k] for k in small_mp})
    kw = dict(
        source=coll, groups="prototype", simulator=SIM, random_state=0,
        verbose=False, cache=tmp_path,
    )  # fmt: skip
    a = make_pattern_dataset(6, **kw)
    coll.prototype = np.array(["same"] * len(coll.crystals), dtype=object)
    b = make_pattern_dataset(6, **kw)
    assert len(set(b.groups)) == 1 < len(set(a.groups))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"source": "ICSD"}, "unknown source"),
        ({"source": {"uniform": -1}}, "weight"),
        ({"source": {"uniform": 0}}, "all zero"),
        ({"source": {}}, "empty"),
        ({"source": [], "n_crystals": 2}, "empty"),
        ({"source": 3}, "cannot use"),
        ({"source": "structure_types"}, "structure_type"),
        ({"target": "structure_type", "source": "uniform"}, "structure-type"),
        ({"n_crystals": None}, "collection"),
        ({"groups": "element"}, "groups"),
        ({"variants": {"colour": 1}}, "unknown options"),
        ({"variants": 3}, "variants must"),
        ({"n_variants": 0}, "n_variants"),
        ({"instrument": {"speed": 2}}, "instrument"),
        ({"instrument": "lab"}, "instrument"),
        ({"source": [42]}, "crystal 0"),
        # options of the random crystals that no component reads
        (
            {"source": "materials_project", "space_groups": [225]},
            "space_groups apply to .*'uniform'",
        ),
        ({"source": {"realistic": 1.0}, "elements": ["Na", "Cl"]}, "elements"),
        ({"source": "realistic", "n_atoms": (2, 8)}, "n_atoms"),
    ],
)
def test_errors(kwargs, match):
    kwargs = {"n_crystals": 2, "simulator": SIM, "verbose": False, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        make_pattern_dataset(**kwargs)


def test_pattern_store_from_a_named_source(tmp_path):
    path = tmp_path / "mp.h5"
    kw = dict(
        target="crystal_system",
        simulator=SIM,
        chunk_size=4,
        source={"materials_project": 1.0, "uniform": 1.0},
        n_variants=2,
        instrument={"zero_shift": 0.1},
        random_state=0,
        verbose=False,
    )
    write_pattern_store(path, 6, max_chunks=1, **kw).close()
    with write_pattern_store(path, 6, **kw) as store:
        assert store.shape == (6, 500) and store.is_complete
        first = np.asarray(store.X[:4])
    # the same chunk from scratch is the same
    other = tmp_path / "again.h5"
    with write_pattern_store(other, 6, **kw) as store:
        np.testing.assert_array_equal(np.asarray(store.X[:4]), first)
    with pytest.raises(ValueError, match="other settings.*source"):
        write_pattern_store(path, 6, **{**kw, "source": "uniform"})
    with pytest.raises(ValueError, match="named source"):
        write_pattern_store(tmp_path / "x.h5", 6, **{**kw, "source": [1, 2]})
    with PatternStore(path) as store:
        assert store.is_complete


def test_load_materials_project_has_a_progress_bar(tmp_path, monkeypatch, capsys):
    # reading the 36,737 structures takes seconds, without a bar before;
    # here a three-structure copy of the file, in a cache of its own
    from skxrd.datasets import _collections
    from skxrd.utils._memo import cache_ignoring_verbose

    with np.load(_collections._DATA / "materials_project.npz") as f:
        arrays = {k: f[k] for k in f.files}
    n_sites = int(arrays["n_sites"][:3].sum())
    small = {
        k: v[:n_sites] if k in ("atomic_number", "frac") else v[:3]
        for k, v in arrays.items()
    }
    np.savez(tmp_path / "materials_project.npz", **small)
    monkeypatch.setattr(_collections, "_DATA", tmp_path)
    fresh = cache_ignoring_verbose(_collections._materials_project_arrays.__wrapped__)
    monkeypatch.setattr(_collections, "_materials_project_arrays", fresh)

    quiet = load_materials_project()
    assert capsys.readouterr().err == ""
    fresh.cache_clear()
    loud = load_materials_project(verbose=True)
    assert "loading the Materials Project set" in capsys.readouterr().err
    assert list(loud.ids) == list(quiet.ids) and len(loud.crystals) == 3


def test_random_crystal_options_are_not_ignored(tmp_path, small_mp):
    # a mixture with a uniform part applies them to that part
    data = make_pattern_dataset(
        4,
        source={"uniform": 0.5, "materials_project": 0.5},
        space_groups=[225],
        simulator=SIM,
        random_state=0,
        verbose=False,
    )
    assert data.space_group[data.source == "uniform"].tolist() == [225, 225]
    # without one, they were ignored: every space group of the collection
    # where space_groups=[225] was asked
    with pytest.raises(ValueError, match="space_groups apply"):
        make_pattern_dataset(
            4, source=small_mp, space_groups=[225], simulator=SIM, verbose=False
        )
    with pytest.raises(ValueError, match="n_atoms apply"):
        write_pattern_store(
            tmp_path / "x.h5",
            4,
            source="materials_project",
            n_atoms=(2, 8),
            simulator=SIM,
            verbose=False,
        )
    assert not (tmp_path / "x.h5").exists()


def test_pattern_store_warns_of_variants_it_cannot_make(tmp_path):
    # make_pattern_dataset warned; the store ignored n_variants=3 of random
    # crystals without a word
    with pytest.warns(UserWarning, match="n_variants and variants apply") as rec:
        store = write_pattern_store(
            tmp_path / "u.h5",
            2,
            n_variants=3,
            simulator=SIM,
            random_state=0,
            verbose=False,
        )
    store.close()
    assert rec[0].filename == __file__  # the caller's line
