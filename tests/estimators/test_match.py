"""PatternMatchClassifier: search-match against reference patterns."""

import numpy as np
import pytest

from skxrd.datasets import EXAMPLE_CRYSTALS, load_example_crystal
from skxrd.estimators import PatternMatchClassifier
from skxrd.simulation import PowderSimulator

NAMES = list(EXAMPLE_CRYSTALS)


@pytest.fixture(scope="module")
def library():
    crystals = [load_example_crystal(n) for n in NAMES]
    return crystals, PowderSimulator().transform(crystals)


def test_finds_each_crystal_from_a_differently_measured_pattern(library):
    crystals, X = library
    # other peak widths, a zero error and counting noise than the references
    measured = PowderSimulator(crystallite_size=60).transform(crystals)
    measured = np.roll(measured, 2, axis=1)
    rng = np.random.default_rng(0)
    measured = rng.poisson(measured * 200 + 5) / 200.0
    match = PatternMatchClassifier().fit(X, NAMES)
    assert match.predict(measured).tolist() == NAMES
    # without smoothing the shifted, narrow-vs-broad peaks correlate less
    sharp = PatternMatchClassifier(smoothing=0.0).fit(X, NAMES)
    s_smooth = match.kneighbors(measured, n_neighbors=1)[0][:, 0]
    s_sharp = sharp.kneighbors(measured, n_neighbors=1)[0][:, 0]
    assert np.all(s_smooth > s_sharp)


def test_kneighbors_index_rows_of_fit_and_agree_with_class_similarities(library):
    _, X = library
    rng = np.random.default_rng(1)
    order = rng.permutation(len(X))
    labels = np.array(NAMES)[order]
    match = PatternMatchClassifier().fit(X[order], labels)
    sim, idx = match.kneighbors(X, n_neighbors=3)
    assert sim.shape == idx.shape == (len(X), 3)
    # each pattern's best match is itself (similarity 1), at its row in fit
    np.testing.assert_allclose(sim[:, 0], 1.0, atol=1e-5)
    assert labels[idx[:, 0]].tolist() == NAMES
    assert np.all(np.diff(sim, axis=1) <= 1e-7)  # best first
    by_class = match.class_similarities(X)
    assert by_class.shape == (len(X), len(match.classes_))
    np.testing.assert_allclose(by_class.max(1), sim[:, 0], atol=1e-6)
    # more neighbours than references: all of them
    assert match.kneighbors(X[:2], n_neighbors=99)[0].shape == (2, len(X))


def test_probabilities_temperature_and_calibration(library):
    crystals, X = library
    match = PatternMatchClassifier(batch_size=3).fit(X, NAMES)
    proba = match.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert match.classes_[proba.argmax(1)].tolist() == NAMES
    hot = PatternMatchClassifier(temperature=1.0).fit(X, NAMES).predict_proba(X)
    assert hot.max(1).mean() < proba.max(1).mean()  # a higher temperature: flatter
    broad = PowderSimulator(crystallite_size=30).transform(crystals)
    labels = NAMES[:-1] + ["not-a-reference"]  # left out of the fit
    match.calibrate_temperature(broad, labels)
    assert match.temperature_ > 0 and match.temperature_ != match.temperature
    assert match.predict(broad)[:-1].tolist() == NAMES[:-1]
    match.fit(X, NAMES)
    assert not hasattr(match, "temperature_")  # refit: back to the parameter
    with pytest.raises(ValueError, match="no label of y"):
        match.calibrate_temperature(broad[:2], ["x", "y"])


def test_flat_patterns_match_nothing(library):
    _, X = library
    match = PatternMatchClassifier().fit(X, NAMES)
    for level in (0.0, 1e-20, 1.0, 3.3e6):
        flat = np.full((1, X.shape[1]), level)
        assert np.all(match.class_similarities(flat) == 0.0)
        np.testing.assert_allclose(match.predict_proba(flat), 1.0 / len(NAMES))
    # a real pattern matches itself at any intensity scale
    for scale in (1e-12, 1e6):
        assert match.predict(X[:3] * scale).tolist() == NAMES[:3]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"smoothing": -1.0}, "smoothing must be >= 0"),
        ({"temperature": 0.0}, "temperature must be a positive number"),
        ({"center": "yes"}, "center must be True or False"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
    ],
)
def test_bad_parameters_are_named(library, params, message):
    _, X = library
    with pytest.raises(ValueError, match=message):
        PatternMatchClassifier(**params).fit(X, NAMES)


def test_bad_input_is_named(library):
    _, X = library
    match = PatternMatchClassifier().fit(X, NAMES)
    bad = X[:2].copy()
    bad[0, 10] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        match.predict(bad)
    with pytest.raises(ValueError, match="features"):
        match.predict(X[:2, :-1])
