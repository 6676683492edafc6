"""AugmentingSampler: an imbalanced-learn over-sampler that augments with torch."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from imblearn.pipeline import Pipeline  # noqa: E402
from imblearn.utils.estimator_checks import estimator_checks_generator  # noqa: E402
from scipy import sparse  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.utils.estimator_checks import (  # noqa: E402
    parametrize_with_checks as sklearn_parametrize_with_checks,
)

from skxrd.augmentation import (  # noqa: E402
    AugmentingSampler,
    GaussianNoise,
    PeakShift,
    default_two_theta,
)

TT = default_two_theta()


def _patterns(counts=(30, 12, 5), seed=0, dtype=np.float32):
    """Max-normalized patterns, one set of peak positions per class."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for label, n in enumerate(counts):
        centers = rng.uniform(10, 85, 6)
        for _ in range(n):
            heights = rng.uniform(0.2, 1.0, 6)
            x = sum(
                h * np.exp(-4 * math.log(2) * ((TT - c) / 0.1) ** 2)
                for c, h in zip(centers, heights)
            )
            X.append(x / x.max())
            y.append(label)
    return np.asarray(X, dtype=dtype), np.asarray(y)


# An augmentation that needs no 2θ grid, for checks on small feature counts.
CHECKED = AugmentingSampler(augmentation=GaussianNoise(sigma=0.05), random_state=0)


@pytest.mark.parametrize(
    "estimator, check",
    list(estimator_checks_generator(CHECKED, mark="xfail")),
    ids=lambda obj: (
        type(obj).__name__
        if hasattr(obj, "get_params")
        else getattr(getattr(obj, "func", obj), "__name__", None)
    ),
)
def test_imblearn_checks(estimator, check):
    check(estimator)


@sklearn_parametrize_with_checks([CHECKED])
def test_sklearn_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"augmentation": "noise"}, "augmentation must be a callable"),
        ({"target_count": 0}, "target_count must be >= 1"),
        ({"target_count": 2.5}, "target_count must be an integer"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"sampling_strategy": [1, 2]}, "sampling_strategy must be a float"),
        ({"sampling_strategy": 1.5}, r"float sampling_strategy must lie in \(0, 1\]"),
        ({"sampling_strategy": 0}, r"sampling_strategy \(a target count\) must be"),
    ],
)
def test_bad_parameters_are_named(params, message):
    X, y = _patterns()
    for method in ("fit", "fit_resample"):
        sampler = AugmentingSampler(random_state=0, **params)
        with pytest.raises(ValueError, match=message):
            getattr(sampler, method)(X, y)


@pytest.mark.parametrize(
    "strategy, expected",
    [
        ("auto", {0: 30, 1: 30, 2: 30}),
        ("all", {0: 30, 1: 30, 2: 30}),
        ("minority", {0: 30, 1: 12, 2: 30}),
        ({1: 20, 2: 25}, {0: 30, 1: 20, 2: 25}),
        (40, {0: 40, 1: 40, 2: 40}),
    ],
)
def test_balances_exactly(strategy, expected):
    X, y = _patterns()
    sampler = AugmentingSampler(sampling_strategy=strategy, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert Counter(y_res.tolist()) == expected
    assert X_res.shape == (sum(expected.values()), 4250)


def test_target_count():
    X, y = _patterns()
    X_res, y_res = AugmentingSampler(target_count=50, random_state=0).fit_resample(X, y)
    assert Counter(y_res.tolist()) == {0: 50, 1: 50, 2: 50}
    # a class above the target is kept whole (never under-sampled)
    X_res, y_res = AugmentingSampler(target_count=20, random_state=0).fit_resample(X, y)
    assert Counter(y_res.tolist()) == {0: 30, 1: 20, 2: 20}
    with pytest.raises(ValueError, match="target_count"):
        AugmentingSampler(target_count=20, sampling_strategy="all").fit_resample(X, y)
    with pytest.raises(ValueError, match="once"):
        AugmentingSampler(target_count=20, sampling_strategy=20).fit_resample(X, y)
    with pytest.raises(ValueError, match="class"):
        AugmentingSampler(target_count=20).fit_resample(X, np.zeros(len(X)))


def test_keeps_originals_and_records_sources():
    X, y = _patterns()
    sampler = AugmentingSampler(random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    n = len(X)
    assert np.array_equal(X_res[:n], X) and np.array_equal(y_res[:n], y)
    src = sampler.sample_indices_
    assert np.array_equal(src[:n], np.arange(n))
    assert np.array_equal(y_res, y[src])
    new = X_res[n:]
    assert not np.any(np.all(new == X[src[n:]], axis=1))  # all augmented
    assert np.allclose(new.max(1), 1.0)  # the default augmentation normalizes
    # drawn with replacement from the own class: every member of a small class
    # is used
    assert set(src[n:][y_res[n:] == 2]) == set(np.flatnonzero(y == 2))
    # an augmented copy is closer to its source than to the other classes
    unit = X_res / np.linalg.norm(X_res, axis=1, keepdims=True)
    sims = unit[n:] @ unit[:n].T
    assert np.mean(y[sims.argmax(1)] == y_res[n:]) > 0.9


def test_deterministic():
    X, y = _patterns()
    a = AugmentingSampler(random_state=3).fit_resample(X, y)[0]
    b = AugmentingSampler(random_state=3).fit_resample(X, y)[0]
    c = AugmentingSampler(random_state=4).fit_resample(X, y)[0]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    sampler = AugmentingSampler(random_state=3)
    assert np.array_equal(sampler.fit_resample(X, y)[0], sampler.fit_resample(X, y)[0])
    # small batches give the same rows count and type
    d = AugmentingSampler(random_state=3, batch_size=7).fit_resample(X, y)[0]
    assert d.shape == a.shape and d.dtype == a.dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_containers(dtype):
    X, y = _patterns(dtype=dtype)
    X_res, _ = AugmentingSampler(random_state=0).fit_resample(X, y)
    assert X_res.dtype == dtype
    X_list, y_list = AugmentingSampler(random_state=0).fit_resample(X.tolist(), y)
    assert isinstance(X_list, list)
    Xs, _ = AugmentingSampler(random_state=0).fit_resample(sparse.csr_matrix(X), y)
    assert sparse.issparse(Xs) and Xs.format == "csr"
    assert np.allclose(Xs.toarray(), X_res)


def test_custom_augmentation_and_grid():
    X, y = _patterns()
    shift = PeakShift(displacement=0.0, zero_offset=0.1)
    sampler = AugmentingSampler(augmentation=shift, random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    src = sampler.sample_indices_[len(X) :]
    assert np.allclose(X_res[len(X) :, 5:], X[src, :-5], atol=1e-3)
    # the default augmentation on another grid
    tt = np.linspace(10, 80, 700)
    Xg = np.stack([np.interp(tt, TT, row) for row in X])
    Xg_res, _ = AugmentingSampler(two_theta=tt, random_state=0).fit_resample(Xg, y)
    assert Xg_res.shape == (90, 700)
    with pytest.raises(ValueError, match="two_theta"):
        AugmentingSampler(random_state=0).fit_resample(Xg, y)
    with pytest.raises(ValueError, match="shape"):
        AugmentingSampler(augmentation=lambda x, generator: x[:, :3]).fit_resample(X, y)


def test_in_pipeline_only_at_fit():
    X, y = _patterns()
    X_test, _ = _patterns(counts=(4, 4, 4), seed=0)
    X_test = X_test + np.float32(0.01)
    pipe = Pipeline(
        [
            ("balance", AugmentingSampler(random_state=0)),
            ("clf", LogisticRegression(max_iter=200)),
        ]
    ).fit(X, y)
    # resampling happened in fit: the classifier saw balanced classes
    prior = Pipeline(
        [
            ("balance", AugmentingSampler(random_state=0)),
            ("clf", DummyClassifier(strategy="prior")),
        ]
    ).fit(X, y)
    assert np.allclose(prior[-1].class_prior_, 1 / 3)
    # nothing random at predict time: the pipeline predicts like its classifier
    for method in ("predict", "predict_proba", "decision_function"):
        expected = getattr(pipe[-1], method)(X_test)
        assert np.array_equal(getattr(pipe, method)(X_test), expected)
        assert np.array_equal(getattr(pipe, method)(X_test), expected)
    assert pipe.score(X, y) > 0.9
    # cloning (as in GridSearchCV) keeps the parameters
    assert clone(pipe).get_params()["balance__random_state"] == 0


def test_progress_bar(capsys):
    # tens of thousands of augmented patterns take a minute on a CPU, and the
    # sampler had no way to show progress
    X, y = _patterns()
    quiet = AugmentingSampler(random_state=0, batch_size=8).fit_resample(X, y)[0]
    assert capsys.readouterr().err == ""
    loud = AugmentingSampler(random_state=0, batch_size=8, verbose=True)
    assert np.array_equal(loud.fit_resample(X, y)[0], quiet)
    assert "augmenting" in capsys.readouterr().err
    with pytest.raises(ValueError, match="verbose must be True or False"):
        AugmentingSampler(verbose="yes").fit_resample(X, y)


@pytest.mark.parametrize("scale", [1e3, 1e-2])
def test_default_augmentation_keeps_the_scale_of_the_originals(scale):
    # the default augmentation max-normalizes: copies of patterns in counts
    # (or area-normalized ones) came back with a maximum of 1 while the
    # originals kept theirs, a scale that only the over-sampled classes had
    X, y = _patterns()
    sampler = AugmentingSampler(random_state=0)
    scaled, _ = sampler.fit_resample(X * np.float32(scale), y)
    n = len(X)
    src = sampler.sample_indices_[n:]
    assert np.allclose(scaled[n:].max(axis=1), scale * X[src].max(axis=1), rtol=1e-5)
    assert np.allclose(scaled[:n].max(axis=1), scale, rtol=1e-6)
    # max-normalized patterns: copies with a maximum of 1, as before
    X_res, _ = AugmentingSampler(random_state=0).fit_resample(X, y)
    assert np.allclose(X_res[n:].max(axis=1), 1.0, rtol=1e-6)


def test_given_augmentation_output_is_kept_as_returned():
    X, y = _patterns()
    noise = GaussianNoise(sigma=0.0)
    sampler = AugmentingSampler(augmentation=noise, random_state=0)
    X_res, _ = sampler.fit_resample(X * np.float32(5.0), y)
    src = sampler.sample_indices_[len(X) :]
    assert np.array_equal(X_res[len(X) :], X[src] * np.float32(5.0))
