"""Pipelines, grid search over network parameters, grouped cross-validation."""

from __future__ import annotations

import numpy as np
import pytest
from estimator_data import FAST

pytest.importorskip("torch")
pytest.importorskip("skorch")

from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    StratifiedGroupKFold,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline  # noqa: E402

from skxrd import PowderSimulator  # noqa: E402
from skxrd.datasets import make_random_crystals  # noqa: E402
from skxrd.estimators import DenseNetClassifier, ResNetClassifier  # noqa: E402
from skxrd.preprocessing import PatternNormalizer  # noqa: E402


@pytest.fixture(scope="module")
def simulated():
    """Patterns of 8 random crystals (space groups 225 and 14), 5 each.

    Each crystal is simulated with five crystallite sizes (broadening): its five
    patterns form one group, which grouped CV keeps together.
    """
    crystals = make_random_crystals(
        8, space_groups=[225, 14], n_atoms=(4, 12), random_state=0
    )
    X, y, groups = [], [], []
    for size in (8.0, 15.0, 30.0, 60.0, None):
        sim = PowderSimulator(two_theta_step=0.5, crystallite_size=size)
        X.append(sim.transform(crystals))
        y.append([c.space_group for c in crystals])
        groups.append(np.arange(len(crystals)))
    return np.vstack(X), np.concatenate(y), np.concatenate(groups)


def test_grid_search_over_network_params_with_groups(simulated):
    X, y, groups = simulated
    assert X.shape == (40, 170) and set(y) == {14, 225}
    pipe = make_pipeline(
        PatternNormalizer(scale="sqrt"),
        ResNetClassifier(width=4, kernel_size=5, **FAST),
    )
    grid = {"resnetclassifier__depth": [1, 2], "resnetclassifier__lr": [1e-2]}
    search = GridSearchCV(pipe, grid, cv=StratifiedGroupKFold(n_splits=2))
    search.fit(X, y, groups=groups)
    assert search.best_params_["resnetclassifier__depth"] in (1, 2)
    assert len(search.cv_results_["mean_test_score"]) == 2
    best = search.best_estimator_[-1]
    assert (
        len(best.net_.module_.blocks) == search.best_params_["resnetclassifier__depth"]
    )
    pred = search.predict(X)
    assert pred.dtype == y.dtype and set(pred) <= {14, 225}
    normalizer, clf = search.best_estimator_
    labels, proba = clf.predict_top_k(normalizer.transform(X[:3]), k=2)
    assert labels.shape == (3, 2) and np.all(proba[:, 0] >= proba[:, 1])


def test_cross_val_score_of_a_tuple_parameter(simulated):
    X, y, groups = simulated
    pipe = make_pipeline(
        PatternNormalizer(),
        DenseNetClassifier(growth_rate=4, block_config=(1, 1), **FAST),
    )
    scores = cross_val_score(
        pipe, X, y, groups=groups, cv=StratifiedGroupKFold(n_splits=2)
    )
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))
    small = sum(p.numel() for p in pipe.fit(X, y)[-1].net_.module_.parameters())
    pipe.set_params(densenetclassifier__block_config=(2, 2))
    large = sum(p.numel() for p in pipe.fit(X, y)[-1].net_.module_.parameters())
    assert large > small
