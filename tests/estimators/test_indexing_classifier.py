"""IndexingClassifier: crystal systems weighed against powder indexing."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skxrd.estimators import CoarseLabelClassifier, IndexingClassifier

TT = np.arange(10, 70, 0.05)
LAM = 1.5405929


def pattern(lines):
    return sum(np.exp(-0.5 * ((TT - p) / 0.06) ** 2) for p in lines)


def cubic_lines(a):
    n = np.array([1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13])
    return 2 * np.degrees(np.arcsin(LAM * np.sqrt(n) / (2 * a)))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = np.array(
        [pattern(cubic_lines(a)) for a in rng.uniform(3.5, 4.2, 6)]
        + [pattern(np.sort(rng.uniform(15, 68, 12))) for _ in range(6)]
    )
    # two cubic and two monoclinic space groups
    y = np.array([221, 225] * 3 + [14, 11] * 3)
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    clf = IndexingClassifier(blind(y), two_theta=TT, radiation="CuKa1", C=1.0, cv=None)
    return clf.fit(X, y)


def blind(y):
    """A frozen classifier that sees nothing: the same answer for all."""
    return FrozenEstimator(LogisticRegression().fit(np.zeros((len(y), len(TT))), y))


def test_indexing_lifts_what_the_wrapped_classifier_cannot_see(data, fitted):
    X, y = data
    clf, base = fitted, fitted.estimator_
    cs = np.where(np.isin(y, [221, 225]), "cubic", "monoclinic")
    coarse = CoarseLabelClassifier.from_fitted(clf)
    assert np.mean(coarse.predict(X) == cs) >= 0.9
    assert np.mean(CoarseLabelClassifier.from_fitted(base).predict(X) == cs) == 0.5
    np.testing.assert_array_equal(clf.classes_, [11, 14, 221, 225])
    assert clf.crystal_systems_.tolist() == ["cubic", "monoclinic"]
    assert clf.n_features_in_ == len(TT)


def test_space_groups_keep_their_share_of_their_crystal_system(data):
    X, y = data
    base = FrozenEstimator(LogisticRegression(C=0.01).fit(X, y))
    clf = IndexingClassifier(base, two_theta=TT, radiation="CuKa1", cv=None).fit(X, y)
    p0, p1 = base.predict_proba(X[:4]), clf.predict_proba(X[:4])
    np.testing.assert_allclose(p1.sum(1), 1.0)
    # 221 and 225 are both cubic: their ratio is the wrapped classifier's
    np.testing.assert_allclose(p1[:, 2] / p1[:, 3], p0[:, 2] / p0[:, 3], rtol=1e-9)
    # the crystal-system sums are the stacker's answer
    z = clf.predict_crystal_system_proba(X[:4])
    np.testing.assert_allclose(z[:, 0], p1[:, 2] + p1[:, 3])


def test_cross_validated_fit_clones_and_fits_the_classifier(data):
    X, y = data
    est = LogisticRegression(C=0.01)
    clf = IndexingClassifier(est, two_theta=TT, radiation="CuKa1", cv=2).fit(X, y)
    assert not hasattr(est, "coef_")  # the given estimator is left alone
    assert clf.estimator_.coef_.shape == (4, len(TT))
    assert clf.predict(X[:2]).shape == (2,)


def test_sqrt_scale_squares_the_inputs_back(data):
    X, y = data
    lin = IndexingClassifier(blind(y), two_theta=TT, radiation="CuKa1")
    sq = IndexingClassifier(blind(y), two_theta=TT, radiation="CuKa1", scale="sqrt")
    np.testing.assert_array_equal(lin.merits(X[:2]), sq.merits(np.sqrt(X[:2])))


def test_merits_come_from_the_search_the_stackers_were_fitted_on(data):
    # Kβ copies kept, candidates from the first or second line: the shipped
    # stackers' features do not move with lattice_merits' newer options
    from skxrd.estimators._indexing_core import family_lattices
    from skxrd.indexing import lattice_merits

    X, y = data
    second = cubic_lines(3.8)[1] / 2
    kb = 2 * np.degrees(np.arcsin(np.sin(np.radians(second)) * 1.392234 / LAM))
    strays = pattern(cubic_lines(3.8)) + 0.03 * pattern([kb]) + 0.2 * pattern([11.0])
    rows = np.array([strays, *X[:2]])
    clf = IndexingClassifier(blind(y), two_theta=TT, radiation="CuKa", families="ct")
    lattices = family_lattices("ct")
    fitted_on = lattice_merits(
        rows, TT, radiation="CuKa", lattices=lattices, drop_kbeta=False, first_lines=2
    )
    np.testing.assert_array_equal(clf.merits(rows), fitted_on)
    assert clf.first_lines == 2
    four = IndexingClassifier(
        blind(y), two_theta=TT, radiation="CuKa", families="ct", first_lines=4
    )
    np.testing.assert_array_equal(
        four.merits(rows),
        lattice_merits(rows, TT, radiation="CuKa", lattices=lattices, first_lines=4),
    )
    newer = lattice_merits(
        rows, TT, radiation="CuKa", lattices=lattices, drop_kbeta=True
    )
    assert newer[0, -1] == fitted_on[0, -1] - 1  # the Kβ copy of the 33.3° line


def test_merits_are_read_back_from_memory(data, tmp_path, monkeypatch):
    import skxrd.estimators._indexing as module

    X, y = data
    calls = []
    index = module.indexing_merits

    def counted(*args, **kwargs):
        calls.append(len(args[0]))
        return index(*args, **kwargs)

    monkeypatch.setattr(module, "indexing_merits", counted)
    clf = IndexingClassifier(
        blind(y), two_theta=TT, radiation="CuKa1", memory=str(tmp_path)
    )
    first = clf.merits(X[:3])
    np.testing.assert_array_equal(clone(clf).merits(X[:3]), first)
    assert calls == [3]  # the clone read them back
    plain = IndexingClassifier(blind(y), two_theta=TT, radiation="CuKa1")
    np.testing.assert_array_equal(plain.merits(X[:3]), first)
    assert calls == [3, 3]
    # other rows, or another search, are indexed anew
    clf.merits(X[1:4])
    clf.set_params(first_lines=3).merits(X[:3])
    assert calls == [3, 3, 3, 3]


def test_the_merit_cache_key_covers_the_code_the_search_runs():
    """Every skxrd module that the search's files import is in the digest
    that keys the cached merits, or is named here as not deciding them: a
    change to find_peaks, say, must not reuse merits of the old peaks."""
    import ast
    from pathlib import Path

    import skxrd
    from skxrd.estimators._indexing import _SEARCH_SOURCES

    root = Path(skxrd.__file__).parent
    not_deciding = {
        "utils/_parallel.py",  # which worker indexes which pattern
        "io/_pattern.py",  # 2θ-Q conversions, tested on their own
        "crystal/__init__.py",  # space-group numbers and crystal systems
        "utils/_validation.py",  # parameter checks: an error or the value
    }
    for part in _SEARCH_SOURCES:
        assert (root / part).is_file(), part
        if not part.endswith(".py"):
            continue
        here = Path(part).parent
        for node in ast.walk(ast.parse((root / part).read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = here
            for _ in range(node.level - 1):
                base = base.parent
            target = base.joinpath(*(node.module or "").split("."))
            source = (
                f"{target}/__init__.py" if (root / target).is_dir() else f"{target}.py"
            )
            assert source in _SEARCH_SOURCES or source in not_deciding, (
                f"{part} imports {source}, which the merit cache's key omits"
            )


def test_same_answers_after_joblib_and_clone(data, fitted, tmp_path):
    X, _ = data
    joblib.dump(fitted, tmp_path / "m.joblib")
    again = joblib.load(tmp_path / "m.joblib")
    np.testing.assert_array_equal(
        again.predict_proba(X[:4]), fitted.predict_proba(X[:4])
    )
    assert clone(fitted).get_params()["C"] == 1.0


@pytest.mark.parametrize(
    "params, match",
    [
        ({"scale": "log"}, "scale must be one of"),
        ({"C": 0.0}, "C must be positive"),
        ({"two_theta": TT[::-1]}, "increasing 2θ grid"),
        ({"radiation": "XxKa"}, "XxKa"),
        ({"families": "ctx"}, "families must be distinct letters"),
        ({"families": "cc"}, "families must be distinct letters"),
        ({"families": ""}, "families must be distinct letters"),
        ({"degree": 3}, "degree must be 1 or 2"),
        ({"degree": True}, "degree must be 1 or 2"),
        ({"merit_cap": 0}, "merit_cap must be a positive number"),
        ({"merit_cap": "high"}, "merit_cap must be a positive number"),
        ({"merit_cap": True}, "merit_cap must be a positive number"),
        ({"max_zero_shift": -0.1}, "max_zero_shift must be a number of degrees"),
        ({"max_zero_shift": "x"}, "max_zero_shift must be a number of degrees"),
        ({"max_zero_shift": True}, "max_zero_shift must be a number of degrees"),
        ({"first_lines": 0}, "first_lines must be between 1 and 6"),
        ({"first_lines": 2.0}, "first_lines must be an integer"),
        ({"absences": "yes"}, "absences must be True or False"),
        ({"absence_weight": -1.0}, "absence_weight must be a non-negative"),
        ({"absence_weight": True}, "absence_weight must be a non-negative"),
        ({"absence_min_merit": np.nan}, "absence_min_merit must be a non-negative"),
    ],
)
def test_bad_parameters_are_named(data, params, match):
    X, y = data
    kwargs = {"two_theta": TT, "radiation": "CuKa1", "cv": None, **params}
    with pytest.raises(ValueError, match=match):
        IndexingClassifier(blind(y), **kwargs).fit(X, y)


def test_bad_inputs_are_named(data, fitted):
    X, y = data
    clf = IndexingClassifier(blind(y), two_theta=TT, radiation="CuKa1", cv=None)
    with pytest.raises(ValueError, match="space group"):
        clf.fit(X, np.arange(len(y)) + 300)
    with pytest.raises(ValueError, match="X has 2 patterns but y has 3 labels"):
        clf.fit(X[:2], y[:3])  # before the slow indexing
    with pytest.raises(ValueError, match="columns"):
        fitted.predict(X[:, :-1])
    bad = X[:2].copy()
    bad[0, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(bad)


def test_patterns_too_poor_to_index_keep_the_classifiers_answer(data, fitted):
    X, y = data
    poor = np.array([pattern([20.0, 35.0, 50.0])])  # three peaks: nothing to index
    assert fitted.merits(poor)[0, -1] == 3
    np.testing.assert_allclose(
        fitted.predict_proba(poor), fitted.estimator_.predict_proba(poor), rtol=1e-12
    )
    flat = np.tile(poor, (len(y), 1))
    with pytest.raises(ValueError, match="0 of the 12 patterns have enough peaks"):
        IndexingClassifier(blind(y), two_theta=TT, radiation="CuKa1", cv=None).fit(
            flat, y
        )


@pytest.mark.parametrize(
    "families, degree",
    [("ctho", 2), ("cth", 1), ("o", 2), ("cthom", 2), ("cthoa", 2)],
)
def test_the_stacker_sees_each_family_in_each_power(data, families, degree):
    from skxrd.indexing import ALL_LATTICE_TYPES

    X, y = data
    clf = IndexingClassifier(
        blind(y),
        two_theta=TT,
        radiation="CuKa1",
        cv=None,
        families=families,
        degree=degree,
    ).fit(X, y)
    n_systems = len(clf.crystal_systems_)
    assert clf.stacker_.coef_.shape[-1] == n_systems + degree * len(families)
    # only the families asked for are indexed
    merits = clf.merits(X)
    asked = np.array([lat[0] in families for lat in ALL_LATTICE_TYPES])
    assert np.all(merits[:, :-1][:, ~asked] == 0.0)
    assert merits[:, :-1][:, asked].max() > 0
    again = IndexingClassifier.from_fitted(
        clf.estimator_,
        clf.stacker_,
        two_theta=TT,
        radiation="CuKa1",
        families=families,
        degree=degree,
    )
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    other = "cth" if families != "cth" else "ctho"
    with pytest.raises(ValueError, match="the stacker does not fit the classifier"):
        IndexingClassifier.from_fitted(
            clf.estimator_, clf.stacker_, two_theta=TT, families=other, degree=degree
        )


def test_merits_above_the_cap_count_as_the_cap(data):
    from skxrd.estimators._indexing_core import indexing_features
    from skxrd.indexing import ALL_LATTICE_TYPES

    proba = np.full((3, 7), 1 / 7)
    merits = np.zeros((3, len(ALL_LATTICE_TYPES) + 1))
    merits[:, 2] = [50.0, 100.0, 900.0]  # cF: the cubic family
    z = indexing_features(proba, merits, "ctho", 2, merit_cap=100.0)
    # log(1 + M) of the cubic family, then its square
    np.testing.assert_allclose(z[:, 7], np.log1p([50.0, 100.0, 100.0]))
    np.testing.assert_allclose(z[:, 11], np.log1p([50.0, 100.0, 100.0]) ** 2)
    free = indexing_features(proba, merits, "ctho", 2, merit_cap=np.inf)
    assert free[2, 7] == pytest.approx(np.log1p(900.0))

    # the classifier's answers: a merit of 900 is one of 100 to it
    X, y = data
    clf = IndexingClassifier(blind(y), two_theta=TT, radiation="CuKa1", cv=None)
    clf.fit(X, y)
    assert clf.merit_cap == 100.0
    proba = np.asarray(clf.estimator_.predict_proba(X), float)
    m = clf.merits(X)
    high, capped = m.copy(), m.copy()
    high[:, :-1] = np.where(m[:, :-1] > 0, 900.0, 0.0)
    capped[:, :-1] = np.where(m[:, :-1] > 0, 100.0, 0.0)
    np.testing.assert_array_equal(
        clf._combine(proba, high), clf._combine(proba, capped)
    )
    clf.set_params(merit_cap=np.inf)
    assert not np.allclose(clf._combine(proba, high), clf._combine(proba, capped))


def test_merits_of_the_wrong_shape_are_named(data):
    X, y = data
    clf = IndexingClassifier(blind(y), two_theta=TT, radiation="CuKa1", cv=None)
    with pytest.raises(ValueError, match=r"merits has shape \(12, 8\); \(12, 15\)"):
        clf.fit(X, y, merits=np.zeros((12, 8)))


def test_wrapped_estimators_walks_through_wrappers_and_frozen_ones(fitted):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from skxrd.estimators._match import search_match_of, wrapped_estimators

    inner = fitted.estimator_.estimator  # the frozen LogisticRegression
    assert list(wrapped_estimators(fitted)) == [fitted, inner]
    coarse = CoarseLabelClassifier.from_fitted(fitted)
    pipe = make_pipeline(FunctionTransformer(), coarse)
    assert list(wrapped_estimators(pipe)) == [coarse, fitted, inner]
    assert list(wrapped_estimators(FrozenEstimator(coarse))) == [coarse, fitted, inner]
    assert search_match_of(pipe) is None


def test_absences_weigh_the_groups_within_each_crystal_system(data, tmp_path):
    X, y = data
    base = FrozenEstimator(LogisticRegression(C=0.01).fit(X, y))
    kwargs = {"two_theta": TT, "radiation": "CuKa1", "cv": None, "absences": True}
    weighed = IndexingClassifier(base, **kwargs).fit(X, y)
    plain = IndexingClassifier(base, **kwargs, absence_weight=0.0).fit(X, y)
    merits, groups = weighed.merits(X[:6])
    assert merits.shape == (6, 15) and groups.shape == (6, 230)
    # the patterns of the smallest cells have too few lines below 70° to index
    cell = merits[:, :3].max(axis=1) > 40
    assert cell.sum() >= 2 and np.all(groups[~cell] == 0)
    # the primitive cubic lines: Pm-3m (221) explains them all, Fm-3m (225)
    # forbids most (100, 110, 210...)
    np.testing.assert_allclose(groups[cell, 221 - 1], merits[cell, :3].max(axis=1))
    assert np.all(groups[cell, 225 - 1] == 0)
    p0, p1 = plain.predict_proba(X[:6]), weighed.predict_proba(X[:6])
    np.testing.assert_allclose(p1.sum(axis=1), 1.0)
    # the crystal systems do not move; within cubic, 225 falls by exp(-3)
    np.testing.assert_allclose(
        weighed.predict_crystal_system_proba(X[:6]),
        plain.predict_crystal_system_proba(X[:6]),
        rtol=1e-9,
    )
    ratio = (p1[:, 3] / p1[:, 2]) / (p0[:, 3] / p0[:, 2])
    np.testing.assert_allclose(ratio[cell], np.exp(-3.0), rtol=1e-9)
    np.testing.assert_allclose(ratio[~cell], 1.0, rtol=1e-9)
    # the monoclinic shares are not weighed: no monoclinic cell is searched
    np.testing.assert_allclose(p1[:, 0] / p1[:, 1], p0[:, 0] / p0[:, 1], rtol=1e-9)
    # too weak a cell for its absences to count: the plain answer
    strict = clone(weighed).set_params(absence_min_merit=1e6).fit(X, y)
    np.testing.assert_allclose(strict.predict_proba(X[:6]), p0, rtol=1e-9)
    # without absences, merits are the lattice merits alone (no tuple)
    before = IndexingClassifier(base, **{**kwargs, "absences": False}).fit(X, y)
    assert before.merits(X[:2]).shape == (2, 15)
    joblib.dump(weighed, tmp_path / "m.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "m.joblib").predict_proba(X[:6]), p1
    )


def test_the_stackers_space_groups_are_scored_on_the_search_indices(data):
    # LiCoO2 (c = 14 Å, its 0 0 12 at 86°): lattice_merits now scores its
    # groups on the indices up to 24 its cell was indexed on; the stackers
    # index without them (long_axes=False), and their groups stay on up to 10
    from skxrd.datasets import load_example_crystal
    from skxrd.indexing import lattice_merits
    from skxrd.simulation import PowderSimulator

    _, y = data
    sim = PowderSimulator(radiation="CuKa1", two_theta_range=(5, 90))
    rows = sim.transform([load_example_crystal("LiCoO2")])
    base = LogisticRegression().fit(np.zeros((len(y), len(sim.two_theta))), y)
    clf = IndexingClassifier(
        FrozenEstimator(base),
        two_theta=sim.two_theta,
        radiation="CuKa1",
        families="h",
        absences=True,
    )
    merits, groups = clf.merits(rows)
    kwargs = {"radiation": "CuKa1", "lattices": ("hP", "hR"), "space_groups": True}
    kwargs |= {"drop_kbeta": False, "first_lines": 2, "twofold_axes": False}
    fitted_on = lattice_merits(rows, sim.two_theta, long_axes=False, **kwargs)
    np.testing.assert_array_equal(merits, fitted_on[0])
    np.testing.assert_array_equal(groups, fitted_on[1])
    wide = lattice_merits(rows, sim.two_theta, **kwargs)[1]
    assert wide[0, 166 - 1] > 2 * groups[0, 166 - 1] > 0  # R-3m


def test_merits_without_the_space_groups_are_named_with_absences(data):
    X, y = data
    clf = IndexingClassifier(
        blind(y), two_theta=TT, radiation="CuKa1", cv=None, absences=True
    )
    merits, groups = clf.merits(X)
    with pytest.raises(ValueError, match="the tuple \\(merits, group_merits\\)"):
        clf.fit(X, y, merits=merits)
    with pytest.raises(ValueError, match="group_merits has shape"):
        clf.fit(X, y, merits=(merits, groups[:, :10]))
    clf.fit(X, y, merits=(merits, groups))
    np.testing.assert_allclose(
        clf.predict_proba(X),
        clf._combine(
            np.asarray(clf.estimator_.predict_proba(X), float), (merits, groups)
        ),
    )


def test_tempering_keeps_the_crystal_systems_and_the_order_within_them():
    from skxrd.estimators._core import temper_coarse

    rng = np.random.default_rng(1)
    membership = np.zeros((5, 2))
    membership[:2, 0] = membership[2:, 1] = 1
    p = rng.dirichlet(np.ones(5), 20)
    p[0, 1] = 0.0  # an impossible class stays impossible
    p[0] /= p[0].sum()
    np.testing.assert_array_equal(temper_coarse(p, membership), p)
    for t_sys, t_grp in [(0.5, 1.0), (1.0, 0.5), (2.0, 0.3)]:
        q = temper_coarse(p, membership, t_sys, t_grp)
        np.testing.assert_allclose(q.sum(1), 1.0)
        assert q[0, 1] == 0.0
        np.testing.assert_array_equal(
            (q @ membership).argmax(1), (p @ membership).argmax(1)
        )
        for cols in ([0, 1], [2, 3, 4]):
            np.testing.assert_array_equal(
                np.argsort(q[:, cols], 1, kind="stable"),
                np.argsort(p[:, cols], 1, kind="stable"),
            )
    # each temperature acts on its own level: the coarse sums are
    # p_c^(1/T) renormalized, the shares within one coarse class likewise
    q = temper_coarse(p, membership, 0.5, 1.0)
    c = (p @ membership) ** 2
    np.testing.assert_allclose(q @ membership, c / c.sum(1, keepdims=True))
    np.testing.assert_allclose(
        q[:, 2:] / q[:, 2:].sum(1, keepdims=True),
        p[:, 2:] / p[:, 2:].sum(1, keepdims=True),
    )
    q = temper_coarse(p, membership, 1.0, 0.5)
    np.testing.assert_allclose(q @ membership, p @ membership)
    s = p[:, 2:] ** 2
    np.testing.assert_allclose(
        q[:, 2:] / q[:, 2:].sum(1, keepdims=True), s / s.sum(1, keepdims=True)
    )


def test_the_fitted_temperatures_are_those_the_labels_were_drawn_with():
    from skxrd.estimators._core import fit_coarse_temperatures, temper_coarse

    rng = np.random.default_rng(2)
    membership = np.zeros((6, 3))
    membership[[0, 1], 0] = membership[[2, 3], 1] = membership[[4, 5], 2] = 1
    p = rng.dirichlet(np.full(6, 0.5), 6000)
    truth = temper_coarse(p, membership, 0.6, 1.5)
    y = (truth.cumsum(1) > rng.random((len(p), 1))).argmax(1)
    t_sys, t_grp = fit_coarse_temperatures(p, membership, y)
    assert abs(t_sys - 0.6) < 0.06 and abs(t_grp - 1.5) < 0.15
    # weights count: patterns of one coarse class only, drawn sharper there
    sharp = temper_coarse(p, membership, 1.0, 0.5)
    y2 = (sharp.cumsum(1) > rng.random((len(p), 1))).argmax(1)
    w = np.where(np.isin(y2, [0, 1]), 1.0, 1e-9)
    _, t_w = fit_coarse_temperatures(p, membership, y2, sample_weight=w)
    assert abs(t_w - 0.5) < 0.08
    # already calibrated: left at (about) one, never worse than one
    y3 = (p.cumsum(1) > rng.random((len(p), 1))).argmax(1)
    t3 = fit_coarse_temperatures(p, membership, y3)
    assert np.allclose(t3, 1.0, atol=0.06)


def test_calibrate_temperature_on_held_out_patterns():
    rng = np.random.default_rng(3)
    X = np.array(
        [pattern(cubic_lines(a)) for a in rng.uniform(3.5, 4.2, 12)]
        + [pattern(np.sort(rng.uniform(15, 68, 14))) for _ in range(12)]
    )
    y = np.array([221, 225] * 6 + [14, 11] * 6)
    fit_rows = np.r_[0:6, 12:18]
    held_rows = np.r_[6:12, 18:24]
    base = FrozenEstimator(LogisticRegression(C=0.01).fit(X[fit_rows], y[fit_rows]))
    clf = IndexingClassifier(base, two_theta=TT, radiation="CuKa1", C=1.0, cv=None)
    clf.fit(X[fit_rows], y[fit_rows])
    assert clf.system_temperature_ == clf.group_temperature_ == 1.0
    held, labels = X[held_rows], y[held_rows]
    merits = clf.merits(held)
    before = clf.predict_proba(held)
    assert clf.calibrate_temperature(held, labels, merits=merits) is clf
    after = clf.predict_proba(held)
    idx = np.searchsorted(clf.classes_, labels)
    rows = np.arange(len(labels))
    assert -np.log(after[rows, idx]).mean() <= -np.log(before[rows, idx]).mean() + 1e-9
    np.testing.assert_array_equal(
        clf.predict_crystal_system_proba(held).argmax(1),
        (before @ clf._membership).argmax(1),
    )
    # the merits are computed when not given; a label outside the classes is
    # left out; weights count
    again = clone(clf).fit(X[fit_rows], y[fit_rows])
    odd = labels.copy()
    odd[0] = 2
    again.calibrate_temperature(held, odd, sample_weight=np.ones(len(odd)))
    assert again.system_temperature_ > 0 and again.group_temperature_ > 0
    # refitting forgets them; joblib keeps them
    assert clone(clf).fit(X[fit_rows], y[fit_rows]).system_temperature_ == 1.0
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(held), after)


def test_bad_calibration_inputs_are_named(data, fitted):
    X, y = data
    clf = clone(fitted).fit(X, y)
    with pytest.raises(ValueError, match="X has 12 patterns and y 3 labels"):
        clf.calibrate_temperature(X, y[:3])
    for bad in (np.full(len(y), -1.0), np.zeros(len(y)), np.ones(3)):
        with pytest.raises(ValueError, match="sample_weight must be 12 finite"):
            clf.calibrate_temperature(X, y, sample_weight=bad)
    with pytest.raises(ValueError, match="no label of y is in classes_"):
        clf.calibrate_temperature(X, np.full(len(y), 2))
    # weights only on labels outside the classes: no pattern counts (the
    # log-losses were NaN and both temperatures stayed 1, without an error)
    odd = y.copy()
    odd[0] = 2
    with pytest.raises(ValueError, match="sample_weight is 0 for every pattern"):
        clf.calibrate_temperature(X, odd, sample_weight=np.eye(len(y))[0])
    with pytest.raises(ValueError, match="system_temperature must be a positive"):
        IndexingClassifier.from_fitted(
            fitted.estimator_, fitted.stacker_, two_theta=TT, system_temperature=0.0
        )


def test_coarse_view_scores_its_own_labels(data, fitted):
    # score, cross_val_score and GridSearchCV compare crystal systems with
    # crystal systems: y of space groups is mapped, y of crystal systems kept
    from sklearn.model_selection import cross_val_score

    X, y = data
    coarse = CoarseLabelClassifier.from_fitted(fitted)
    cs = np.where(np.isin(y, [221, 225]), "cubic", "monoclinic")
    expected = np.mean(coarse.predict(X) == cs)
    assert coarse.score(X, y) == coarse.score(X, cs) == expected >= 0.9
    assert coarse.score(X, y.astype(float)) == expected
    with pytest.raises(ValueError, match="space group"):
        coarse.score(X, np.zeros(len(y), dtype=int))
    base = LogisticRegression(C=10.0, max_iter=2000)
    scores = cross_val_score(CoarseLabelClassifier(base), X, y, cv=2)
    assert np.all(np.isfinite(scores)) and np.all(scores >= 0.0)


def test_coarse_score_takes_space_group_symbols_and_maps_need_a_network():
    # fit takes Hermann-Mauguin symbols, score compared them with "cubic" and
    # answered 0.0; a classifier without a network raised an AttributeError
    from sklearn.linear_model import LogisticRegression

    from skxrd.estimators import CoarseLabelClassifier
    from skxrd.inspection import saliency_map

    X = np.array([[0.0], [0.2], [1.0], [1.2], [3.0], [3.2]])
    symbols = np.array(["Fm-3m", "Fm-3m", "Pm-3m", "Pm-3m", "P2_1/c", "P2_1/c"])
    clf = CoarseLabelClassifier(LogisticRegression()).fit(X, symbols)
    assert clf.predict(X).tolist() == ["cubic"] * 4 + ["monoclinic"] * 2
    assert clf.score(X, symbols) == 1.0
    assert clf.score(X, [225, 225, 221, 221, 14, 14]) == 1.0
    assert clf.score(X, clf.predict(X)) == 1.0
    with pytest.raises(ValueError, match="need a network inside; the classifier"):
        saliency_map(clf, X[:2])


@pytest.mark.parametrize(
    "name, lattice, a, c",
    [("NaCl", "cF", 5.640, 5.640), ("TiO2-rutile", "tP", 4.594, 2.959)],
)
def test_cells_of_simulated_patterns_have_the_crystals_lengths(name, lattice, a, c):
    from skxrd.datasets import load_example_crystal
    from skxrd.simulation import PowderSimulator

    sim = PowderSimulator(two_theta_range=(10, 90), two_theta_step=0.02)
    X = sim.transform([load_example_crystal(name)])
    # as the shipped models hold them: square roots, Cu Kα1 + Kα2
    clf = IndexingClassifier(None, two_theta=sim.two_theta, scale="sqrt")
    [cells], n_peaks = clf.cells(np.sqrt(X), return_n_peaks=True)
    assert list(cells) == [
        "cP",
        "cI",
        "cF",
        "tP",
        "tI",
        "hP",
        "hR",
        "oP",
        "oC",
        "oI",
        "oF",
    ]
    assert n_peaks.tolist() == [cells[lattice].n_lines]
    best = max((s for s in cells.values() if s), key=lambda s: s.figure_of_merit)
    assert best.lattice == lattice
    assert best.n_indexed == best.n_lines
    np.testing.assert_allclose([best.a, best.c], [a, c], rtol=1e-3)
    assert abs(best.zero_shift) < 0.01


def test_cells_are_the_ones_behind_the_merits_and_not_searched_again(data, monkeypatch):
    import skxrd.indexing._index as search
    from skxrd.indexing import ALL_LATTICE_TYPES

    X, y = data
    clf = IndexingClassifier(blind(y), two_theta=TT, radiation="CuKa1", families="ct")
    rows = X[[0, 4, 5]]  # the first has 7 peaks: too few to index
    merits = clf.merits(rows)

    def searched(*args, **kwargs):
        raise AssertionError("the rows were indexed again")

    # the merits' cells are read back: predict shows them at no extra cost
    monkeypatch.setattr(search, "index_powder", searched)
    cells, n_peaks = clf.cells(rows, return_n_peaks=True)
    np.testing.assert_array_equal(n_peaks, merits[:, -1])
    assert n_peaks.tolist() == [7, 8, 8] and not any(cells[0].values())
    for row, found in zip(merits, cells):
        assert list(found) == ["cP", "cI", "cF", "tP", "tI"]
        for j, lat in enumerate(ALL_LATTICE_TYPES):
            sol = found.get(lat)
            assert row[j] == (0.0 if sol is None else sol.figure_of_merit)
    a = np.random.default_rng(0).uniform(3.5, 4.2, 6)[4]  # the fixture's
    assert cells[1]["cP"].a == pytest.approx(a, rel=1e-4)
    # the arrays the cache shares are not the caller's to edit
    with pytest.raises(ValueError, match="read-only"):
        cells[1]["cP"].hkl[0] = 0
    # other settings are another search
    with pytest.raises(AssertionError, match="indexed again"):
        clf.set_params(first_lines=3).cells(rows[1:2])


def test_merits_are_the_same_with_the_cells_cached(data):
    # the stackers' inputs do not move: merits of cold rows, of rows whose
    # cells were read, and of lattice_merits itself agree bit for bit
    import skxrd.indexing._index as search
    from skxrd.estimators._indexing_core import family_lattices
    from skxrd.indexing import lattice_merits

    X, y = data
    clf = IndexingClassifier(
        blind(y), two_theta=TT, radiation="CuKa", families="ctho", absences=True
    )
    rows = X[[4, 6]]  # a cubic one, and random lines
    search._SOLVED.clear()
    cold = clf.merits(rows)
    warm = clf.merits(rows)
    clf.cells(rows)
    again = clf.merits(rows)
    search._SOLVED.clear()
    direct = lattice_merits(
        rows,
        TT,
        radiation="CuKa",
        lattices=family_lattices("ctho"),
        first_lines=2,
        long_axes=False,
        twofold_axes=False,
        space_groups=True,
    )
    for other in (warm, again, direct):
        for c, o in zip(cold, other):
            np.testing.assert_array_equal(c, o)


def test_cells_of_too_poor_patterns_and_bad_inputs(data, fitted):
    X, y = data
    flat = np.zeros((1, len(TT)))
    [cells], n_peaks = fitted.cells(flat, return_n_peaks=True)
    assert n_peaks.tolist() == [0] and not any(cells.values())
    with pytest.raises(ValueError, match=r"X has shape \(1, 5\)"):
        fitted.cells(np.zeros((1, 5)))
    with pytest.raises(ValueError, match="return_n_peaks"):
        fitted.cells(X[:1], return_n_peaks="yes")


def test_indexing_classifier_of_finds_it_inside_wrappers(fitted):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from skxrd.estimators._indexing import indexing_classifier_of

    coarse = CoarseLabelClassifier.from_fitted(fitted)
    pipe = make_pipeline(FunctionTransformer(), coarse)
    assert indexing_classifier_of(pipe) is fitted
    assert indexing_classifier_of(FrozenEstimator(coarse)) is fitted
    assert indexing_classifier_of(fitted.estimator_) is None


def test_cells_also_searches_other_families_on_the_same_peaks():
    # the monoclinic cells of a model that weighs none (the shipped ones):
    # searched on the same peaks with the same settings, merits untouched
    from skxrd.datasets import make_random_crystals
    from skxrd.simulation import PowderSimulator

    crystal = make_random_crystals(
        1, space_groups=[14], n_atoms=(4, 8), random_state=1
    )[0]
    sim = PowderSimulator(two_theta_range=(5, 90), two_theta_step=0.02)
    X = sim.transform([crystal])
    clf = IndexingClassifier(None, two_theta=sim.two_theta, radiation="CuKa")
    merits = clf.merits(X)
    [own] = clf.cells(X)
    [more] = clf.cells(X, also="m")
    assert set(more) == set(own) | {"mP", "mC"}
    assert all(more[lat] is own[lat] for lat in own)  # read back, not searched
    best = max(
        (more[lat] for lat in ("mP", "mC") if more[lat]),
        key=lambda s: s.figure_of_merit,
    )
    np.testing.assert_allclose(
        sorted([best.a, best.b, best.c]),
        sorted(np.linalg.norm(crystal.lattice, axis=1)),
        rtol=5e-3,
    )
    np.testing.assert_array_equal(clf.merits(X), merits)
    for bad in ("x", "mm", 3):
        with pytest.raises(ValueError, match="also must be distinct letters"):
            clf.cells(X, also=bad)


# sample weights


@pytest.fixture(scope="module")
def weighed():
    """(X, y, merits, w): 5 patterns of each of 4 space groups (2 cubic, 2
    monoclinic), their merits and weights, two of them 0."""
    rng = np.random.default_rng(0)
    X = np.array(
        [pattern(cubic_lines(a)) for a in rng.uniform(3.5, 4.2, 10)]
        + [pattern(np.sort(rng.uniform(15, 68, 12))) for _ in range(10)]
    )
    y = np.array([221, 225] * 5 + [14, 11] * 5)
    merits = IndexingClassifier(None, two_theta=TT, radiation="CuKa1").merits(X)
    w = rng.uniform(0.5, 2.0, len(y))
    w[[1, 13]] = 0.0
    return X, y, merits, w


def _weighed_clf(cv=2, estimator=None):
    est = LogisticRegression(C=0.01) if estimator is None else estimator
    return IndexingClassifier(est, two_theta=TT, radiation="CuKa1", C=1.0, cv=cv)


@pytest.mark.parametrize("cv", [2, None])
def test_a_weight_of_zero_is_leaving_the_pattern_out(weighed, cv):
    X, y, merits, w = weighed
    keep = w > 0
    a = _weighed_clf(cv).fit(X, y, merits=merits, sample_weight=w)
    b = _weighed_clf(cv).fit(
        X[keep], y[keep], merits=merits[keep], sample_weight=w[keep]
    )
    # the stacker learns the same rows with the same weights: cross-validated,
    # bit for bit (the folds are those of the rows that weigh); with cv=None
    # on the wrapped logistic regression's answers, whose fit sums its zero
    # terms in another order (1e-16)
    if cv is None:
        np.testing.assert_allclose(a.stacker_.coef_, b.stacker_.coef_, atol=1e-12)
    else:
        np.testing.assert_array_equal(a.stacker_.coef_, b.stacker_.coef_)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-12)
    # and the weights count: unweighted, the stacker learns otherwise
    plain = _weighed_clf(cv).fit(X, y, merits=merits)
    assert not np.allclose(plain.stacker_.coef_, a.stacker_.coef_)


@pytest.mark.parametrize("cv", [2, None])
def test_without_weights_or_with_unit_weights_nothing_changes(weighed, cv):
    X, y, merits, _ = weighed
    plain = _weighed_clf(cv).fit(X, y, merits=merits)
    for w in (None, np.ones(len(y)), 1.0):
        again = _weighed_clf(cv).fit(X, y, merits=merits, sample_weight=w)
        np.testing.assert_array_equal(again.predict_proba(X), plain.predict_proba(X))


class _Recorded(LogisticRegression):
    """A logistic regression that writes the weights of each fit to ``seen``."""

    seen = []

    def fit(self, X, y, sample_weight=None):
        _Recorded.seen.append(
            (len(X), None if sample_weight is None else sample_weight)
        )
        return super().fit(X, y, sample_weight=sample_weight)


def test_every_fit_of_the_wrapped_classifier_gets_its_rows_weights(weighed):
    X, y, merits, w = weighed
    _Recorded.seen.clear()
    clf = _weighed_clf(2, _Recorded(C=0.01)).fit(X, y, merits=merits, sample_weight=w)
    full, *folds = _Recorded.seen
    assert full[0] == len(y)
    np.testing.assert_array_equal(full[1], w)
    # two folds of the 18 rows that weigh, each fit with their weights
    assert len(folds) == 2 and sum(n for n, _ in folds) == 18
    kept = np.sort(w[w > 0])
    np.testing.assert_array_equal(np.sort(np.concatenate([f for _, f in folds])), kept)
    np.testing.assert_array_equal(clf.estimator_.coef_.shape, (4, len(TT)))


def test_a_frozen_classifier_gets_no_weights_and_the_stacker_gets_them(weighed):
    X, y, merits, w = weighed
    frozen = FrozenEstimator(LogisticRegression(C=0.01).fit(X, y))
    clf = _weighed_clf(None, frozen).fit(X, y, merits=merits, sample_weight=w)
    plain = _weighed_clf(None, frozen).fit(X, y, merits=merits)
    assert clf.estimator_ is frozen
    assert not np.allclose(clf.stacker_.coef_, plain.stacker_.coef_)


def test_bad_weights_and_an_unweighable_classifier_are_named_before_indexing(
    weighed, monkeypatch
):
    from sklearn.neighbors import KNeighborsClassifier

    import skxrd.estimators._indexing as module

    X, y, _, w = weighed

    def never(*args, **kwargs):
        raise AssertionError("indexed before the weights were checked")

    monkeypatch.setattr(module, "indexing_merits", never)
    for bad, match in (
        (np.ones(3), r"sample_weight must have shape \(20,\)"),
        (-w, "sample_weight must be >= 0"),
        (np.zeros(len(y)), "sample_weight is all zero"),
    ):
        with pytest.raises(ValueError, match=match):
            _weighed_clf().fit(X, y, sample_weight=bad)
    with pytest.raises(
        TypeError, match=r"IndexingClassifier.fit got sample_weight, but estimator"
    ):
        _weighed_clf(2, KNeighborsClassifier()).fit(X, y, sample_weight=w)


def test_the_stacker_needs_weighed_indexable_patterns_of_two_systems(weighed):
    X, y, merits, _ = weighed
    cubic_only = np.isin(y, [221, 225]).astype(float)
    with pytest.raises(ValueError, match="to index, weigh above 0, of fewer than two"):
        _weighed_clf(None).fit(X, y, merits=merits, sample_weight=cubic_only)


def test_a_pipeline_routes_the_weights_to_the_indexing_classifier(weighed):
    import sklearn
    from sklearn.pipeline import make_pipeline

    from skxrd.preprocessing import PatternNormalizer

    X, y, merits, w = weighed
    Xn = PatternNormalizer().fit_transform(X)
    direct = _weighed_clf().fit(Xn, y, sample_weight=w)
    pipe = make_pipeline(PatternNormalizer(), _weighed_clf())
    pipe.fit(X, y, indexingclassifier__sample_weight=w)
    np.testing.assert_array_equal(pipe.predict_proba(X), direct.predict_proba(Xn))
    with sklearn.config_context(enable_metadata_routing=True):
        routed = _weighed_clf().set_fit_request(sample_weight=True, merits=False)
        pipe = make_pipeline(PatternNormalizer(), routed).fit(X, y, sample_weight=w)
        again = _weighed_clf().fit(Xn, y, sample_weight=w)
    np.testing.assert_array_equal(pipe.predict_proba(X), direct.predict_proba(Xn))
    np.testing.assert_array_equal(again.predict_proba(Xn), direct.predict_proba(Xn))


def test_calibration_weights_of_zero_on_every_known_label_are_named(data, fitted):
    X, y = data
    clf = clone(fitted).fit(X, y)
    odd = y.copy()
    odd[0] = 2  # not a class: left out
    w = np.zeros(len(y))
    w[0] = 1.0
    with pytest.raises(ValueError, match="sample_weight is 0 for every pattern"):
        clf.calibrate_temperature(X, odd, sample_weight=w)
