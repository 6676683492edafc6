"""Estimator checks for skxrd's samplers (imbalanced-learn's, plus our own).

imbalanced-learn's generic sampler checks run on a dataset without duplicates or
physics; where one of them assumes something a skxrd sampler by design does not
do, it is listed in :data:`NOT_APPLICABLE` with the reason and the skxrd check
that tests the behaviour instead.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "NOT_APPLICABLE",
    "check_removes_planted_duplicates",
    "parametrize_sampler_checks",
]

#: imbalanced-learn checks that do not apply to a skxrd sampler, with the reason:
#: ``{sampler class name: {check name: reason}}``.
NOT_APPLICABLE: dict[str, dict[str, str]] = {
    "DuplicateRemover": {
        "check_samplers_fit_resample": (
            "asserts that a cleaning sampler removes samples of every non-minority "
            "class of make_classification data, which has no duplicates to remove; "
            "check_removes_planted_duplicates tests removal instead"
        ),
    },
}


def check_removes_planted_duplicates(name, sampler):
    """A duplicate remover drops exactly the planted near-copies, keeps the rest.

    Parameters
    ----------
    name : str
        The sampler's name, for the error message.
    sampler : sampler
        An unfitted sampler with ``fit_resample``.

    Raises
    ------
    AssertionError
        If the sampler keeps a planted copy or drops an original.

    Examples
    --------
    >>> from skxrd.dedup import DuplicateRemover
    >>> from skxrd.utils.estimator_checks import check_removes_planted_duplicates
    >>> check_removes_planted_duplicates("DuplicateRemover", DuplicateRemover())
    """
    rng = np.random.default_rng(0)
    base = rng.random((60, 80))
    source = rng.integers(0, 60, 20)
    X = np.vstack([base, base[source] * 1.001])
    y = np.r_[np.arange(60) % 3, (np.arange(60) % 3)[source]]
    X_res, y_res = sampler.fit_resample(X, y)
    assert len(X_res) == 60, f"{name} kept {len(X_res)} of 80, expected 60"
    assert np.array_equal(X_res, base) and np.array_equal(y_res, y[:60])


_EXTRA = {"DuplicateRemover": [check_removes_planted_duplicates]}


def _check_name(check):
    return getattr(check, "func", check).__name__


def parametrize_sampler_checks(samplers):
    """``pytest.mark.parametrize`` over imbalanced-learn's checks and ours.

    Checks listed in :data:`NOT_APPLICABLE` for a sampler are skipped with their
    reason, so that the report shows them.

    Examples
    --------
    >>> from skxrd.dedup import DuplicateRemover
    >>> mark = parametrize_sampler_checks([DuplicateRemover()])
    >>> mark.name
    'parametrize'
    """
    from functools import partial

    import pytest
    from imblearn.utils.estimator_checks import parametrize_with_checks

    params = []
    for sampler in samplers:
        name = type(sampler).__name__
        skip = NOT_APPLICABLE.get(name, {})
        mark = parametrize_with_checks([sampler])
        for estimator, check in mark.args[1]:
            check_name = _check_name(check)
            marks = (
                [pytest.mark.skip(reason=skip[check_name])]
                if (check_name in skip)
                else []
            )
            params.append(
                pytest.param(estimator, check, marks=marks, id=f"{name}-{check_name}")
            )
        for extra in _EXTRA.get(name, []):
            params.append(
                pytest.param(
                    sampler, partial(extra, name), id=f"{name}-{extra.__name__}"
                )
            )
    return pytest.mark.parametrize("estimator, check", params)
