"""AbstainingClassifier on pattern pipelines: inputs that are not powder patterns."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skxrd.estimators import AbstainingClassifier
from skxrd.io import Pattern
from skxrd.preprocessing import PatternNormalizer, PatternResampler
from skxrd.pretrained import PatternPipeline

TT = np.arange(10.0, 80.0, 0.02)


def _powder(centres, rng):
    y = sum(np.exp(-0.5 * ((TT - c) / 0.06) ** 2) for c in centres)
    return y + 0.01 + 0.002 * rng.random(TT.size)


@pytest.fixture(scope="module")
def pipeline_and_patterns():
    """A fitted pattern pipeline (resampler first, as the pretrained models),
    its powder patterns and labels, and inputs that are not powder patterns."""
    rng = np.random.default_rng(0)
    centres = {"cubic": (28.4, 47.3, 56.1), "hexagonal": (32.0, 34.4, 36.3)}
    patterns, y = [], []
    for label, cs in centres.items():
        for _ in range(6):
            shifted = np.asarray(cs) + rng.normal(0, 0.05, len(cs))
            patterns.append(Pattern(TT, _powder(shifted, rng), wavelength="CuKa"))
            y.append(label)
    pipe = PatternPipeline(
        [
            ("resample", PatternResampler(two_theta=(10.0, 80.0, 0.1))),
            ("normalize", PatternNormalizer()),
            ("clf", LogisticRegression()),
        ]
    ).fit(patterns, y)
    bad = [
        Pattern(TT, np.sin(np.radians(TT) * 20) + 1, wavelength="CuKa"),  # sine
        Pattern(TT, np.ones_like(TT), wavelength="CuKa"),  # flat
        Pattern(TT, -1.0 - rng.random(TT.size), wavelength="CuKa"),  # negative
        Pattern(TT, rng.poisson(100, TT.size).astype(float), wavelength="CuKa"),
    ]
    return pipe, patterns, np.asarray(y), bad


def test_abstaining_refuses_inputs_that_are_not_powder_patterns(
    pipeline_and_patterns,
):
    # issue 18: a sine curve, a flat line, negative values or noise got the
    # wrapped model's answer whenever its probability passed the threshold
    # (the pretrained crystal-system model: a sine curve "triclinic" at 0.96)
    pipe, patterns, y, bad = pipeline_and_patterns
    assert pipe.screen(patterns) == [None] * len(patterns)
    clf = AbstainingClassifier(FrozenEstimator(pipe), threshold=0.0).fit(patterns, y)
    pred = clf.predict(patterns + bad)
    # the powder patterns keep the model's answers; the others are unknown
    # at any threshold, 0 included, and have confidence 0
    np.testing.assert_array_equal(pred[: len(patterns)], pipe.predict(patterns))
    assert pred[len(patterns) :].tolist() == ["unknown"] * len(bad)
    np.testing.assert_array_equal(clf.predict_confidence(bad), 0.0)
    np.testing.assert_array_equal(
        clf.predict_confidence(patterns), pipe.predict_proba(patterns).max(axis=1)
    )
    # predict_proba stays the model's: columns of classes_, rows summing to 1
    np.testing.assert_array_equal(clf.predict_proba(bad), pipe.predict_proba(bad))
    # a clone and a pickle screen as the original does
    assert clone(clf).get_params()["screen"] == "auto"
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(patterns + bad), pred)
    # the same when the pipeline is fitted by the wrapper itself
    unfrozen = AbstainingClassifier(clone(pipe), threshold=0.0).fit(patterns, y)
    np.testing.assert_array_equal(unfrozen.predict(patterns + bad), pred)


def test_abstaining_screen_parameter(pipeline_and_patterns):
    pipe, patterns, y, bad = pipeline_and_patterns
    off = AbstainingClassifier(FrozenEstimator(pipe), threshold=0.0, screen=False)
    off.fit(patterns, y)
    np.testing.assert_array_equal(off.predict(bad), pipe.predict(bad))
    on = AbstainingClassifier(FrozenEstimator(pipe), threshold=0.0, screen=True)
    assert set(on.fit(patterns, y).predict(bad).tolist()) == {"unknown"}
    # True with an estimator that cannot screen: said at fit
    X = np.random.default_rng(0).normal(size=(20, 3))
    yx = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="screen=True needs an estimator"):
        AbstainingClassifier(LogisticRegression(), screen=True).fit(X, yx)
    # "auto" without one answers as before
    auto = AbstainingClassifier(LogisticRegression(), threshold=0.0).fit(X, yx)
    np.testing.assert_array_equal(
        auto.predict(X), LogisticRegression().fit(X, yx).predict(X)
    )
    for value in ("yes", 1, None):
        with pytest.raises(ValueError, match="screen must be 'auto', True or False"):
            AbstainingClassifier(LogisticRegression(), screen=value).fit(X, yx)


def test_abstaining_old_pickles_screen():
    # a pickle written before the screen parameter existed loads with it
    X = np.random.default_rng(0).normal(size=(20, 3))
    clf = AbstainingClassifier(LogisticRegression()).fit(X, X[:, 0] > 0)
    del clf.__dict__["screen"]
    again = pickle.loads(pickle.dumps(clf))
    assert again.get_params()["screen"] == "auto"
    again.predict(X)
