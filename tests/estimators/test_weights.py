"""Sample weights of the meta-estimators: one check of the weights, one clear
error for an inner estimator that cannot take them, Pipeline routing."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from estimator_data import WeightRecorder
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skxrd.estimators import (
    AbstainingClassifier,
    EnsembleClassifier,
    MatchFirstClassifier,
    SymmetryWeightedClassifier,
    UnionClassifier,
)

LABELS = ("rocksalt", "fluorite", "rutile", "perovskite")


@pytest.fixture(scope="module")
def blobs():
    """(X, y, w): 4 classes of 30 noisy patterns with a peak each, weights."""
    rng = np.random.default_rng(0)
    y = np.repeat(LABELS, 30)
    X = rng.random((len(y), 24))
    for i, label in enumerate(LABELS):
        X[y == label, 3 + 5 * i] += 2.0
    return X, y, rng.uniform(0.2, 3.0, len(y))


def _metas(inner):
    """Each meta-estimator with ``inner`` as every inner learner."""
    return {
        "union": UnionClassifier(
            inner, class_subsets=[LABELS[:2], LABELS[2:]], random_state=0
        ),
        "ensemble": EnsembleClassifier([inner, clone(inner)]),
        "match_first": MatchFirstClassifier(inner),
        "symmetry": SymmetryWeightedClassifier(inner, clone(inner)),
    }


META_NAMES = ("union", "ensemble", "match_first", "symmetry")


@pytest.mark.parametrize(
    "weight, message",
    [
        (np.ones(7), r"shape \(120,\)"),
        (np.ones((120, 2)), r"shape \(120,\)"),
        (np.r_[np.nan, np.ones(119)], "finite.*index 0"),
        (np.r_[np.ones(5), np.inf, np.ones(114)], "finite.*index 5"),
        (np.r_[np.ones(3), -1.0, np.ones(116)], ">= 0.*index 3"),
        (np.zeros(120), "all zero"),
        (np.array(["a"] * 120), "numbers"),
    ],
)
@pytest.mark.parametrize("name", META_NAMES)
def test_bad_weights_get_one_clear_error(blobs, name, weight, message):
    X, y, _ = blobs
    meta = _metas(LogisticRegression())[name]
    with pytest.raises(ValueError, match=f"sample_weight.*{message}|{message}"):
        meta.fit(X, y, sample_weight=weight)
    assert not hasattr(meta, "classes_")  # refused before any training


def test_the_weight_check_keeps_good_weights():
    from skxrd.estimators._weights import checked_sample_weight

    w = checked_sample_weight([1, 0, 2.5], 3)
    assert w.dtype == np.float64 and w.tolist() == [1.0, 0.0, 2.5]
    assert checked_sample_weight(None, 3) is None
    assert checked_sample_weight(2, 3).tolist() == [2.0, 2.0, 2.0]
    pd = pytest.importorskip("pandas")
    assert checked_sample_weight(pd.Series([1.0, 2.0]), 2).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("name", META_NAMES)
def test_an_inner_estimator_without_sample_weight_is_named(blobs, name):
    X, y, w = blobs
    meta = _metas(KNeighborsClassifier())[name]
    with pytest.raises(TypeError, match=r"\(KNeighborsClassifier\) cannot take it"):
        meta.fit(X, y, sample_weight=w)
    # without weights it is a fine inner estimator
    meta.fit(X, y)


@pytest.mark.parametrize("name", META_NAMES)
def test_a_pipeline_routes_the_weights_to_the_meta_estimator(blobs, name):
    X, y, w = blobs
    meta = _metas(LogisticRegression())[name]
    step = type(meta).__name__.lower()
    pipe = make_pipeline(StandardScaler(), clone(meta))
    pipe.fit(X, y, **{f"{step}__sample_weight": w})
    direct = clone(meta).fit(StandardScaler().fit_transform(X), y, sample_weight=w)
    Xt = StandardScaler().fit(X).transform(X)
    np.testing.assert_allclose(pipe.predict_proba(X), direct.predict_proba(Xt))
    # the weights change the answer: they were not dropped on the way (the
    # hybrid answers its own references by search-match: see its model)
    plain = clone(meta).fit(Xt, y)
    if name == "match_first":
        plain, direct = plain.estimator_, direct.estimator_
    assert not np.allclose(plain.predict_proba(Xt), direct.predict_proba(Xt))


@pytest.mark.parametrize("name", META_NAMES)
def test_metadata_routing_reaches_the_meta_estimator(blobs, name):
    X, y, w = blobs
    with sklearn.config_context(enable_metadata_routing=True):
        meta = _metas(LogisticRegression())[name].set_fit_request(sample_weight=True)
        scaler = StandardScaler().set_fit_request(sample_weight=False)
        pipe = make_pipeline(scaler, meta).fit(X, y, sample_weight=w)
        direct = clone(meta).fit(StandardScaler().fit_transform(X), y, sample_weight=w)
    Xt = StandardScaler().fit(X).transform(X)
    np.testing.assert_allclose(pipe.predict_proba(X), direct.predict_proba(Xt))


@pytest.mark.parametrize("name", META_NAMES)
def test_an_inner_pipeline_gets_the_weights_in_its_last_step(blobs, name):
    X, y, w = blobs
    inner = make_pipeline(StandardScaler(), WeightRecorder())
    meta = _metas(inner)[name].fit(X, y, sample_weight=w)
    fitted = {
        "union": lambda m: m.estimators_,
        "ensemble": lambda m: m.estimators_,
        "match_first": lambda m: [m.estimator_],
        "symmetry": lambda m: [m.estimator_, m.symmetry_estimator_],
    }[name](meta)
    for pipe in fitted:
        seen = pipe[-1].weight_seen_
        assert seen is not None and len(seen) == len(pipe[-1].X_seen_)


def test_the_weight_keyword_of_each_kind_of_estimator():
    from skxrd.estimators._weights import weight_keyword

    assert weight_keyword(LogisticRegression()) == "sample_weight"
    assert weight_keyword(KNeighborsClassifier()) is None
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    assert weight_keyword(pipe) == "logisticregression__sample_weight"
    assert weight_keyword(make_pipeline(LogisticRegression(), "passthrough")) is None
    # a frozen estimator learns nothing: nothing to weight
    frozen = FrozenEstimator(LogisticRegression().fit([[0.0], [1.0]], [0, 1]))
    assert weight_keyword(frozen) == ""
    # a wrapper forwarding its fit parameters: its estimator's keyword
    assert weight_keyword(AbstainingClassifier(pipe)) == (
        "logisticregression__sample_weight"
    )
    assert weight_keyword(AbstainingClassifier(KNeighborsClassifier())) is None
    with sklearn.config_context(enable_metadata_routing=True):
        assert weight_keyword(pipe) == "sample_weight"  # routed by the Pipeline


def test_without_weights_nothing_changes(blobs):
    X, y, _ = blobs
    for name, meta in _metas(LogisticRegression()).items():
        a = clone(meta).fit(X, y).predict_proba(X)
        b = clone(meta).fit(X, y, sample_weight=None).predict_proba(X)
        np.testing.assert_array_equal(a, b, err_msg=name)
