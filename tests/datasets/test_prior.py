"""CrystalPrior: random crystals with the statistics of real ones."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import Bunch

from skxrd.crystal import CRYSTAL_SYSTEMS, to_crystal_system
from skxrd.datasets import (
    CrystalPrior,
    load_example_crystal,
    load_materials_project,
    space_group_frequencies,
    space_group_sample_weights,
)
from skxrd.datasets._prior import _packing


@pytest.fixture(scope="module")
def mp():
    return load_materials_project()


@pytest.fixture(scope="module")
def prior(mp):
    return CrystalPrior(max_atoms=80).fit(mp)


@pytest.fixture(scope="module")
def sample(prior):
    return prior.sample(300, random_state=0)


def test_every_crystal_has_its_intended_space_group(sample):
    assert len(sample) == 300
    assert all(c.get_space_group(symprec=1e-3) == c.space_group for c in sample)
    # and no supergroup within 0.01 Å (whose pattern it would have)
    assert all(c.get_space_group(symprec=1e-2) == c.space_group for c in sample)
    assert all(type(s) is str for c in sample for s in c.species)
    assert all(c.n_atoms <= 80 for c in sample)


def test_crystal_system_shares_follow_the_fitted_structures(prior, sample):
    fitted = to_crystal_system(np.repeat(prior.space_groups_, 1))
    expected = {
        s: prior.space_group_probabilities_[fitted == s].sum() for s in CRYSTAL_SYSTEMS
    }
    drawn = to_crystal_system([c.space_group for c in sample])
    for s in CRYSTAL_SYSTEMS:
        # 300 draws: a share p has a standard error below 0.03
        assert np.mean(drawn == s) == pytest.approx(expected[s], abs=0.08), s
    # and unlike a uniform draw over the groups, a fifth is monoclinic
    assert np.mean(drawn == "monoclinic") > 0.12


def test_packing_and_sizes_look_like_real_crystals(prior, sample):
    packing = np.array([_packing(c) for c in sample])
    real = prior.packing_
    assert np.median(packing) == pytest.approx(np.median(real), rel=0.25)
    # the uniform generator's default packing is 0.2-0.45
    assert np.percentile(packing, 75) > 0.5
    n = np.array([c.n_atoms for c in sample])
    assert np.median(n) == pytest.approx(np.median(prior.n_conventional_), rel=0.35)


def test_chemistry_comes_from_real_compounds(prior, sample):
    known = {e for tuples, _ in prior.chemistries_.values() for t in tuples for e in t}
    assert all(set(c.elements) <= known for c in sample)
    # oxygen is the most common element of real inorganic crystals
    counts = {}
    for c in sample:
        for e in set(c.elements):
            counts[e] = counts.get(e, 0) + 1
    assert max(counts, key=counts.get) == "O"


def test_same_seed_same_crystals_for_any_n_jobs(prior):
    a = prior.sample(12, random_state=3)
    b = clone(prior).set_params(n_jobs=2)
    b.__dict__.update({k: v for k, v in prior.__dict__.items() if k.endswith("_")})
    b = b.sample(12, random_state=3)
    c = prior.sample(12, random_state=4)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.lattice, y.lattice)
        np.testing.assert_array_equal(x.frac_coords, y.frac_coords)
        assert x.species == y.species
    assert any(not np.array_equal(x.lattice, z.lattice) for x, z in zip(a, c))


def test_fit_on_plain_crystals_and_unfitted_groups(mp):
    crystals = [c for c in mp.crystals[:400] if c.n_atoms <= 12][:60]
    prior = CrystalPrior(space_group_weights={62: 1.0, 14: 1.0}).fit(crystals)
    assert prior.n_structures_ == len(crystals)
    fitted = set(prior.prototypes_)
    # a group without a learned arrangement gets random sites
    assert 62 not in fitted or 14 not in fitted
    out = prior.sample(6, random_state=0)
    assert {c.space_group for c in out} <= {62, 14}
    assert all(c.get_space_group() == c.space_group for c in out)


def test_database_weights():
    icsd = space_group_frequencies("icsd")
    assert icsd.shape == (230,) and icsd.sum() == 143523
    cod = space_group_frequencies("cod")
    assert int(cod.argmax()) + 1 == 14  # P2_1/c in the COD
    with pytest.raises(ValueError, match="database"):
        space_group_frequencies("pdf")
    prior = CrystalPrior(space_group_weights="icsd").fit(
        [load_example_crystal("NaCl"), load_example_crystal("Si")]
    )
    assert len(prior.space_groups_) == int((icsd > 0).sum())
    np.testing.assert_allclose(prior.space_group_probabilities_.sum(), 1.0)


def test_sample_weights_give_a_draw_a_databases_space_groups():
    rng = np.random.default_rng(0)
    y = rng.choice([2, 14, 62, 225, 227], 500)  # a uniform draw of five groups
    for database in ("icsd", "cod", "materials_project"):
        w = space_group_sample_weights(y, database)
        assert w.shape == y.shape and np.isclose(w.mean(), 1.0) and (w > 0).all()
        # weighted, the groups have the database's shares among them
        counts = space_group_frequencies(database)[[1, 13, 61, 224, 226]] + 1
        weighted = np.array([w[y == g].sum() for g in (2, 14, 62, 225, 227)])
        np.testing.assert_allclose(weighted / weighted.sum(), counts / counts.sum())
    # a pattern of a group the draw has often weighs less than one it has rarely
    w = space_group_sample_weights(np.array([14] * 9 + [62]), "icsd")
    assert w[0] < w[-1]
    # labels as numbers of any type, checked
    np.testing.assert_allclose(
        space_group_sample_weights([14.0, 62.0]), space_group_sample_weights([14, 62])
    )
    for bad in ([], [0], [231], [14.5], ["P21/c"], [[14, 62]]):
        with pytest.raises(ValueError, match="space-group numbers 1-230"):
            space_group_sample_weights(bad)
    with pytest.raises(ValueError, match="database"):
        space_group_sample_weights([14], "pdf")


def test_errors(mp):
    with pytest.raises(NotFittedError):
        CrystalPrior().sample(2)
    with pytest.raises(ValueError, match="max_atoms"):
        CrystalPrior(max_atoms=0).fit([load_example_crystal("Si")])
    with pytest.raises(ValueError, match="none of the"):
        CrystalPrior(max_atoms=1).fit([load_example_crystal("Si")])
    with pytest.raises(ValueError, match="space_group_weights"):
        CrystalPrior(space_group_weights="uniform").fit([load_example_crystal("Si")])
    for weights in ({225.7: 1.0}, {"Fm-3m": 1.0}, {231: 1.0}):
        # not cut down to 225, nor a bare int() error
        with pytest.raises(ValueError, match="space_group_weights: space group"):
            CrystalPrior(space_group_weights=weights).fit([load_example_crystal("Si")])
    with pytest.raises(ValueError, match="no structures"):
        CrystalPrior().fit([])
    # a string was read as True
    with pytest.raises(ValueError, match="check_symmetry must be True or False"):
        CrystalPrior(check_symmetry="no").fit([load_example_crystal("Si")])
    prior = CrystalPrior().fit([load_example_crystal("Si")])
    with pytest.raises(ValueError, match="n must be"):
        prior.sample(-1)
    assert prior.sample(0) == []
    # a collection without the lattice shapes or sizes raised a bare
    # AttributeError from inside the loop
    partial = Bunch(
        **{k: mp[k] for k in ("crystals", "space_group", "wyckoff")},
        prototype_elements=mp.prototype_elements,
    )
    with pytest.raises(ValueError, match="no 'conventional_parameters'"):
        CrystalPrior().fit(partial)


def test_groups_whose_prototypes_fail_fall_back_to_random_sites(prior, monkeypatch):
    # a training draw once died on one P4 crystal whose drawn prototypes all
    # failed: such a crystal now comes from random Wyckoff sites of the group
    from skxrd.datasets import _prior

    assert 75 in prior.prototypes_
    monkeypatch.setattr(_prior, "_place", lambda *args: None)  # prototypes fail
    crystals = [_prior._sample_one(prior, seed, 75, i) for i, seed in enumerate([1, 2])]
    assert [c.space_group for c in crystals] == [75, 75]
    assert all(c.get_space_group(symprec=1e-3) == 75 for c in crystals)
    assert [c.name for c in crystals] == ["prior-75-0", "prior-75-1"]
    again = _prior._sample_one(prior, 1, 75, 0)
    assert np.array_equal(again.frac_coords, crystals[0].frac_coords)


def test_random_sites_draw_again_where_one_draw_cannot_be_placed(mp, monkeypatch):
    # one draw of size, chemistry and packing can fail every attempt: 13-23 %
    # of the crystals of groups without a prototype did (the COD's weights on
    # the AMCSD), and one such crystal failed a whole training draw
    from skxrd.datasets import _prior

    crystals = [c for c in mp.crystals[:400] if c.n_atoms <= 12][:60]
    prior = CrystalPrior(space_group_weights={116: 1.0}).fit(crystals)
    assert 116 not in prior.prototypes_
    out = prior.sample(4, random_state=0)
    assert [c.space_group for c in out] == [116] * 4
    assert all(c.get_space_group() == 116 for c in out)
    real = _prior._one_crystal
    calls = []

    def fail_first(*args):
        calls.append(args[3])  # the drawn sizes
        if len(calls) < 3:
            raise RuntimeError("crystal 7: no valid crystal of space group 116")
        return real(*args)

    monkeypatch.setattr(_prior, "_one_crystal", fail_first)
    crystal = _prior._random_sites(prior, np.random.default_rng(0), 116, 7)
    assert len(calls) == 3 and crystal.name == "prior-116-7"
    assert crystal.get_space_group() == 116
    # each retry is a new draw, and the whole is seeded
    calls_before = list(calls)
    calls.clear()
    again = _prior._random_sites(prior, np.random.default_rng(0), 116, 7)
    assert calls == calls_before
    assert np.array_equal(again.frac_coords, crystal.frac_coords)
    monkeypatch.setattr(_prior, "_one_crystal", real)

    def always_fail(*args):
        calls.append(args[3])
        raise RuntimeError("crystal 0: no valid crystal of space group 116")

    calls.clear()
    monkeypatch.setattr(_prior, "_one_crystal", always_fail)
    with pytest.raises(RuntimeError, match="space group 116"):
        _prior._random_sites(prior, np.random.default_rng(0), 116, 0)
    assert len(calls) == _prior._SITE_DRAWS


def test_random_sites_have_as_many_elements_as_real_compounds(prior, monkeypatch):
    # the number of elements was drawn uniformly among the counts seen (1 to
    # 8): 8-element crystals, 1 in 36,478 real ones, an eighth of the time
    from skxrd.datasets import _prior

    drawn = []
    si = load_example_crystal("Si")

    def record(seed, group, elements, *args):
        drawn.append(len(elements))
        return si

    monkeypatch.setattr(_prior, "_one_crystal", record)
    rng = np.random.default_rng(0)
    for i in range(600):
        _prior._random_sites(prior, rng, 196, i)
    counts = sorted(prior.chemistries_)
    real = np.array([prior.chemistries_[k][1].sum() for k in counts])
    real /= real.sum()
    seen = np.array([drawn.count(k) for k in counts]) / len(drawn)
    np.testing.assert_allclose(seen, real, atol=0.05)


def test_fit_shows_a_progress_bar_with_verbose(mp, capsys):
    # learning from the bundled 36,737 structures takes seconds (2-20 s); with
    # verbose=True it had no bar (only describing crystals had one)
    part = {k: v for k, v in mp.items() if k != "frame"}
    n = len(mp.crystals)
    for key, value in part.items():
        if key == "crystals" or (hasattr(value, "__len__") and len(value) == n):
            part[key] = value[:50]
    from sklearn.utils import Bunch

    quiet = CrystalPrior().fit(Bunch(**part))
    assert capsys.readouterr().err == ""
    loud = CrystalPrior(verbose=True).fit(Bunch(**part))
    assert "learning the prior" in capsys.readouterr().err
    np.testing.assert_array_equal(loud.packing_, quiet.packing_)
    assert len(quiet.packing_) == quiet.n_structures_


@pytest.mark.parametrize("bad", ["2", 1.5, 0, True])
def test_a_bad_n_jobs_is_named(prior, bad):
    # "2" went to joblib, whose error names no parameter; for one crystal it
    # was never looked at
    b = clone(prior).set_params(n_jobs=bad)
    b.__dict__.update({k: v for k, v in prior.__dict__.items() if k.endswith("_")})
    for n in (1, 3):
        with pytest.raises(ValueError, match="n_jobs must be None or a non-zero"):
            b.sample(n, random_state=0)


def test_structures_over_the_atom_limit_are_refused_by_fit(mp):
    from skxrd.datasets._random import _MAX_ATOMS

    # the limit never refuses a real structure: the largest conventional cell
    # of the Materials Project set has 576 atoms (of the AMCSD's, 1,056)
    assert np.max(mp.n_conventional) < _MAX_ATOMS / 10
    huge = Bunch(**mp)
    huge.n_conventional = np.array(mp.n_conventional).copy()
    huge.n_conventional[5] = 2 * _MAX_ATOMS
    with pytest.raises(ValueError, match="more than 10,000 atoms.*set max_atoms"):
        CrystalPrior().fit(huge)


def test_the_key_order_of_space_group_weights_does_not_change_the_crystals(mp):
    # {62: 1, 14: 3} and {14: 3, 62: 1} are one prior; they drew other crystals
    crystals = [c for c in mp.crystals[:400] if c.n_atoms <= 12][:60]
    a = CrystalPrior(space_group_weights={62: 1.0, 14: 3.0, 2: 1.0}).fit(crystals)
    b = CrystalPrior(space_group_weights={2: 1.0, 14: 3.0, 62: 1.0}).fit(crystals)
    np.testing.assert_array_equal(a.space_groups_, b.space_groups_)
    x, y = a.sample(6, random_state=0), b.sample(6, random_state=0)
    assert [c.space_group for c in x] == [c.space_group for c in y]
    for u, v in zip(x, y):
        np.testing.assert_array_equal(u.frac_coords, v.frac_coords)
