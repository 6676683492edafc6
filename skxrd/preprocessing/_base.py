"""Helpers shared by the pattern transformers."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import validate_data

from ..utils._validation import check_real

FLOAT_DTYPES = (np.float64, np.float32)


def check_finite(X: np.ndarray, what: str = "X") -> None:
    """Raise a ValueError naming the first sample with a NaN or an infinity."""
    finite = np.isfinite(X)
    if finite.all():
        return
    i, j = (int(v) for v in np.argwhere(~finite)[0])
    kind = "NaN" if np.isnan(X[i, j]) else "inf"
    n_bad = int(np.count_nonzero(~finite.all(axis=1)))
    more = f" ({n_bad} samples have non-finite values)" if n_bad > 1 else ""
    raise ValueError(
        f"Input {what} contains {kind} in sample {i} at column {j}{more}; "
        "patterns must be finite"
    )


def validate_patterns(est, X, *, reset: bool) -> np.ndarray:
    """``validate_data`` for 2D float patterns, with finiteness checked per sample.

    float32 and float64 are kept; other dtypes become float64.
    """
    X = validate_data(est, X, reset=reset, dtype=FLOAT_DTYPES, ensure_all_finite=False)
    check_finite(X)
    return X


def make_grid(spec, what: str = "two_theta", *, upper: float | None = 180.0):
    """A strictly increasing grid from ``(start, stop, step)`` or explicit values.

    A tuple of three numbers is a range: ``start + step * arange(n)`` with
    ``n = round((stop - start) / step)`` points, the convention of
    :class:`~skxrd.simulation.PowderSimulator` (the stop is excluded). Anything
    else (a list or an array) lists the grid points.

    Examples
    --------
    >>> make_grid((5, 90, 0.02)).shape
    (4250,)
    >>> make_grid([10, 20, 30]).tolist()
    [10.0, 20.0, 30.0]
    """
    if isinstance(spec, tuple) and len(spec) == 3:
        start, stop, step = (check_real(v, what) for v in spec)
        if not step > 0 or not stop > start:
            raise ValueError(
                f"{what}=(start, stop, step) needs start < stop and step > 0, "
                f"got {spec!r}"
            )
        n = int(round((stop - start) / step))
        if n < 2:
            raise ValueError(f"{what}={spec!r} has fewer than 2 points")
        if n > 10_000_000:
            raise ValueError(f"{what}={spec!r} would have {n} points")
        grid = start + step * np.arange(n)
    else:
        try:
            grid = np.array(spec, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                f"{what} must be (start, stop, step) or an array of positions, "
                f"got {spec!r}"
            ) from None
        if grid.ndim != 1 or grid.size < 1:
            raise ValueError(f"{what} must be a non-empty 1D array, got {spec!r}")
        bad = np.flatnonzero(~np.isfinite(grid))
        if bad.size:
            raise ValueError(f"{what} has a non-finite value at index {bad[0]}")
        dec = np.flatnonzero(np.diff(grid) <= 0)
        if dec.size:
            raise ValueError(
                f"{what} must be strictly increasing; index {dec[0] + 1} "
                f"({grid[dec[0] + 1]}) does not exceed the one before"
            )
    if grid[0] < 0 or (upper is not None and grid[-1] > upper):
        limit = "" if upper is None else f", {upper:g}"
        raise ValueError(f"{what} must lie in [0{limit}], got {grid[0]}..{grid[-1]}")
    return grid


def grid_feature_names(grid: np.ndarray, prefix: str = "two_theta") -> np.ndarray:
    """Names such as ``two_theta_5.000``: 3 decimals, more when needed to differ.

    Examples
    --------
    >>> grid_feature_names(np.array([5.0, 5.02])).tolist()
    ['two_theta_5.000', 'two_theta_5.020']
    >>> grid_feature_names(np.array([5.0, 5.0001])).tolist()
    ['two_theta_5.0000', 'two_theta_5.0001']
    """
    for decimals in range(3, 10):
        names = [f"{prefix}_{x:.{decimals}f}" for x in grid]
        if len(set(names)) == len(names):
            break
    return np.asarray(names, dtype=object)


class PatternwiseTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Base of the stateless transformers that act on each pattern alone.

    Subclasses define ``_check_params`` and ``transform``; ``fit`` only checks
    the parameters and records the number of features.
    """

    def _check_params(self):  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def fit(self, X, y=None):
        """Check the parameters and record the number of features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._check_params()
        validate_patterns(self, X, reset=True)
        return self
