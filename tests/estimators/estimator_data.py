"""Small synthetic data and fast settings shared by the estimator tests.

(A uniquely named module, not ``conftest``: test modules import from it.)
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

# Tiny networks train in well under a second; one torch thread avoids the
# slowdown of OpenMP spin-waiting on cores shared with pytest-xdist workers. The
# CPU makes results bit-reproducible (the CUDA tests set the device themselves).
FAST = {
    "device": "cpu",
    "max_epochs": 15,
    "lr": 1e-2,
    "batch_size": 8,
    "num_threads": 1,
    "validation_fraction": None,
    "random_state": 0,
}
TINY_RESNET = {"depth": 2, "width": 8, "kernel_size": 5}


def small_store(path):
    """A pattern store of 32 simulated patterns (crystal systems of groups 14
    and 225, 2θ 20–60° in 0.25° steps) written to ``path``, which is returned."""
    from skxrd.datasets import write_pattern_store
    from skxrd.simulation import PowderSimulator

    sim = PowderSimulator(two_theta_range=(20.0, 60.0), two_theta_step=0.25)
    write_pattern_store(
        path,
        32,
        target="crystal_system",
        simulator=sim,
        chunk_size=16,
        space_groups=[14, 225],
        n_atoms=(2, 8),
        random_state=0,
        n_jobs=1,
    ).close()
    return path


def peaky_patterns(
    labels=(225, 14),
    n_per_class=20,
    n_points=96,
    n_groups_per_class=4,
    random_state=0,
):
    """Patterns with class-specific Gaussian peaks; a group shares one peak shift.

    Returns ``X`` (float32, max-normalized), ``y`` and ``groups`` (one group per
    "crystal": its samples differ only by jitter and noise).
    """
    rng = np.random.default_rng(random_state)
    grid = np.arange(n_points, dtype=np.float64)
    X, y, groups = [], [], []
    per_group = n_per_class // n_groups_per_class
    for ci, label in enumerate(labels):
        centers = rng.uniform(8, n_points - 8, size=3)
        for g in range(n_groups_per_class):
            shift = rng.normal(0.0, 1.0)
            for _ in range(per_group):
                pattern = np.zeros(n_points)
                for c in centers:
                    pos = c + shift + rng.normal(0.0, 0.3)
                    pattern += rng.uniform(0.5, 1.0) * np.exp(
                        -0.5 * ((grid - pos) / 1.5) ** 2
                    )
                pattern += rng.normal(0.0, 0.02, n_points)
                X.append(pattern / pattern.max())
                y.append(label)
                groups.append(ci * n_groups_per_class + g)
    return (
        np.asarray(X, dtype=np.float32),
        np.asarray(y),
        np.asarray(groups),
    )


class WeightRecorder(ClassifierMixin, BaseEstimator):
    """A logistic regression that keeps what its ``fit`` was given.

    ``X_seen_`` and ``weight_seen_`` (None without weights) are the rows and
    sample weights of its fit, so that a test can check which weights a
    meta-estimator handed to each inner fit.
    """

    def __init__(self, C=1.0, random_state=None):
        self.C = C
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        from sklearn.linear_model import LogisticRegression

        self.lr_ = LogisticRegression(C=self.C).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.lr_.classes_
        self.n_features_in_ = self.lr_.n_features_in_
        self.X_seen_ = np.array(X, copy=True)
        self.weight_seen_ = None if sample_weight is None else np.array(sample_weight)
        return self

    def predict_proba(self, X):
        return self.lr_.predict_proba(X)

    def predict(self, X):
        return self.lr_.predict(X)


def rows_of(X_seen, X):
    """The row of ``X`` of each row of ``X_seen`` (rows of ``X`` are unique)."""
    X_seen, X = np.asarray(X_seen, dtype=np.float64), np.asarray(X, dtype=np.float64)
    distance = ((X_seen[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    index = distance.argmin(axis=1)
    assert np.allclose(distance[np.arange(len(index)), index], 0.0, atol=1e-6)
    return index
