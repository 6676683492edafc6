"""IndexingClassifier: crystal systems weighed against powder indexing."""

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skxrd.estimators import CoarseLabelClassifier, IndexingClassifier

TT = np.arange(10, 70, 0.05)
LAM = 1.540562


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
