"""CoarseLabelClassifier: coarse probabilities are sums of fine ones."""

from __future__ import annotations

import io

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score

pytest.importorskip("torch")
pytest.importorskip("skorch")

from skxrd import crystal  # noqa: E402
from skxrd.estimators import CoarseLabelClassifier  # noqa: E402

TARGETS = (
    "crystal_system",
    "lattice_system",
    "bravais_lattice",
    "point_group",
    "laue_class",
)


def _space_group_data(seed, n_groups=6, n=120):
    """Blobs whose labels are ``n_groups`` random space groups."""
    rng = np.random.default_rng(seed)
    groups = np.sort(rng.choice(np.arange(1, 231), n_groups, replace=False))
    idx = rng.integers(0, n_groups, n)
    X = rng.normal(size=(n, n_groups)) + 1.5 * np.eye(n_groups)[idx]
    return X, groups[idx]


@pytest.mark.parametrize("seed", range(5))
def test_coarse_probabilities_are_sums_over_their_space_groups(seed):
    X, y = _space_group_data(seed)
    X_new = np.random.default_rng(seed + 100).normal(size=(30, X.shape[1]))
    for target in TARGETS:
        clf = CoarseLabelClassifier(LogisticRegression(), target=target).fit(X, y)
        fine = clf.estimator_.predict_proba(X_new)
        coarse_of = np.asarray(
            getattr(crystal, f"to_{target}")(clf.estimator_.classes_)
        ).astype(str)
        # the coarse classes of the space groups seen, sorted as sklearn's
        np.testing.assert_array_equal(clf.classes_, np.unique(coarse_of))
        expected = np.stack(
            [fine[:, coarse_of == c].sum(axis=1) for c in clf.classes_], axis=1
        )
        proba = clf.predict_proba(X_new)
        np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(
            clf.predict(X_new), clf.classes_[proba.argmax(axis=1)]
        )
        # score: the accuracy of the coarse answers, given space groups or
        # the coarse labels themselves
        coarse_y = np.asarray(getattr(crystal, f"to_{target}")(y)).astype(str)
        accuracy = np.mean(clf.predict(X) == coarse_y)
        assert clf.score(X, y) == pytest.approx(accuracy, abs=1e-15)
        assert clf.score(X, coarse_y) == pytest.approx(accuracy, abs=1e-15)


def test_sklearn_contracts():
    X, y = _space_group_data(0)
    clf = CoarseLabelClassifier(LogisticRegression(C=0.5), target="point_group")
    fitted = clf.fit(X, y)
    assert fitted is clf and clf.n_features_in_ == X.shape[1]
    # clone: unfitted, the same (nested) parameters
    copy = clone(clf)
    assert not hasattr(copy, "classes_")
    assert copy.get_params()["estimator__C"] == 0.5
    copy.set_params(estimator__C=2.0, target="crystal_system")
    assert copy.estimator.C == 2.0 and clf.estimator.C == 0.5
    # fit again: the same answers; joblib: the same answers
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(clone(clf).fit(X, y).predict_proba(X), proba)
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict_proba(X), proba)
    # model selection scores the coarse answers
    scores = cross_val_score(clf, X, y, cv=2)
    assert scores.shape == (2,) and np.all(scores > 0.3)
    search = GridSearchCV(clf, {"estimator__C": [0.1, 1.0]}, cv=2).fit(X, y)
    assert search.best_params_["estimator__C"] in (0.1, 1.0)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :-1])


def test_coarse_passes_sample_weight_to_the_estimator():
    # fit(X, y, sample_weight=w) was a TypeError (AbstainingClassifier and
    # EnsembleClassifier pass fit parameters on); weights must reach the
    # space-group classifier as they would without the wrapper
    X, y = _space_group_data(0)
    w = np.random.default_rng(1).uniform(0.1, 3.0, len(y))
    clf = CoarseLabelClassifier(LogisticRegression(max_iter=500))
    clf.fit(X, y, sample_weight=w)
    inner = LogisticRegression(max_iter=500).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(clf.estimator_.coef_, inner.coef_)
    unweighted = LogisticRegression(max_iter=500).fit(X, y)
    assert not np.allclose(clf.estimator_.coef_, unweighted.coef_)


def test_coarse_calibrate_temperature_takes_weights():
    # sample_weight, which the space-group classifier takes, was a TypeError
    from skxrd.estimators import EnsembleClassifier

    X, y = _space_group_data(0)
    fitted = LogisticRegression(max_iter=500).fit(X[:60], y[:60])
    ensemble = EnsembleClassifier.from_fitted([fitted])
    clf = CoarseLabelClassifier.from_fitted(ensemble)
    w = np.random.default_rng(2).uniform(0.0, 3.0, 60)
    clf.calibrate_temperature(X[60:], y[60:], sample_weight=w)
    alone = EnsembleClassifier.from_fitted([fitted])
    alone.calibrate_temperature(X[60:], y[60:], sample_weight=w)
    assert ensemble.temperature_ == pytest.approx(alone.temperature_, rel=1e-12)
    unweighted = EnsembleClassifier.from_fitted([fitted])
    unweighted.calibrate_temperature(X[60:], y[60:])
    assert ensemble.temperature_ != pytest.approx(unweighted.temperature_)
    clf.calibrate_temperature(X[60:], y[60:])  # without weights: as before
    assert ensemble.temperature_ == pytest.approx(unweighted.temperature_)
    # a classifier whose calibrate_temperature takes no weights: said so
    plain = CoarseLabelClassifier.from_fitted(_NoWeights().fit(X, y))
    with pytest.raises(TypeError, match="no sample_weight parameter"):
        plain.calibrate_temperature(X, y, sample_weight=np.ones(len(y)))


class _NoWeights(LogisticRegression):
    def calibrate_temperature(self, X, y):
        return self


def test_coarse_calibrate_temperature_asks_for_space_groups():
    # crystal-system labels, this classifier's own classes, gave "no label of
    # y is in classes_" (the space-group classifier's classes)
    from skxrd.estimators import EnsembleClassifier

    X, y = _space_group_data(0)
    ensemble = EnsembleClassifier.from_fitted([LogisticRegression().fit(X, y)])
    clf = CoarseLabelClassifier.from_fitted(ensemble)
    coarse = np.asarray(crystal.to_crystal_system(y))
    with pytest.raises(ValueError, match="y holds crystal_system labels"):
        clf.calibrate_temperature(X, coarse)
    assert ensemble.temperature_ == 1.0  # refused before any change
    # a space group that is also a point group's name (1) is a space group
    y1 = np.where(y == y[0], 1, 225)
    triclinic = EnsembleClassifier.from_fitted([LogisticRegression().fit(X, y1)])
    group = CoarseLabelClassifier.from_fitted(triclinic, target="point_group")
    assert "1" in group.classes_
    group.calibrate_temperature(X, np.ones(len(y), dtype=int))
    assert triclinic.temperature_ != 1.0
