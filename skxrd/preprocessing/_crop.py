"""The :class:`PatternCropper`: keep a contiguous range of each pattern."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ..utils._validation import check_real
from ._base import grid_feature_names, make_grid, validate_patterns

__all__ = ["PatternCropper"]


class PatternCropper(TransformerMixin, BaseEstimator):
    """Keep a contiguous range of columns: by index, or by 2θ on a grid.

    Parameters
    ----------
    start, stop : int or float, optional
        Without ``grid``: column indices as in Python slicing (``stop``
        excluded, negative values count from the end). With ``grid``: 2θ
        limits in degrees, both included. None keeps that end.
    grid : (float, float, float) or array-like, optional
        The 2θ position (degrees) of each input column, as ``(start, stop,
        step)`` (the :class:`PatternResampler` convention, stop excluded) or
        explicit values; its length must equal ``n_features``.

    Attributes
    ----------
    start_index_, stop_index_ : int
        The kept columns are ``X[:, start_index_:stop_index_]``.
    grid_ : ndarray of shape (n_features_out,)
        2θ of the kept columns (only with ``grid``).
    n_features_in_ : int
        Number of points per pattern seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (a DataFrame with string column names).

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.preprocessing import PatternCropper
    >>> X = np.arange(12.0).reshape(2, 6)
    >>> PatternCropper(start=1, stop=-1).fit_transform(X)
    array([[ 1.,  2.,  3.,  4.],
           [ 7.,  8.,  9., 10.]])
    >>> crop = PatternCropper(start=10, stop=40, grid=(5, 90, 0.02))
    >>> crop.fit_transform(np.zeros((1, 4250))).shape
    (1, 1501)
    >>> crop.get_feature_names_out()[[0, -1]].tolist()
    ['two_theta_10.000', 'two_theta_40.000']
    """

    def __init__(self, start=None, stop=None, grid=None):
        self.start = start
        self.stop = stop
        self.grid = grid

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _bounds(self, n_features: int):
        if self.grid is None:
            for what in ("start", "stop"):
                value = getattr(self, what)
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, numbers.Integral)
                ):
                    raise ValueError(
                        f"{what} must be an integer column index without grid, got "
                        f"{value!r}; pass grid= to crop by 2θ"
                    )
            a, b, _ = slice(self.start, self.stop).indices(n_features)
            if b <= a:
                raise ValueError(
                    f"start={self.start!r}, stop={self.stop!r} keep no column of "
                    f"patterns with n_features = {n_features}"
                )
            return a, b, None
        grid = make_grid(self.grid, "grid")
        if len(grid) != n_features:
            raise ValueError(
                f"grid has {len(grid)} points but X has n_features = {n_features}"
            )
        lo = check_real(self.start, "start", allow_none=True)
        hi = check_real(self.stop, "stop", allow_none=True)
        lo = -np.inf if lo is None else lo
        hi = np.inf if hi is None else hi
        tol = 1e-9 * max(1.0, float(np.abs(grid).max()))
        keep = np.flatnonzero((grid >= lo - tol) & (grid <= hi + tol))
        if keep.size == 0:
            raise ValueError(
                f"no grid point lies in [{self.start}, {self.stop}]°; the grid spans "
                f"{grid[0]:.3f}–{grid[-1]:.3f}°"
            )
        a, b = int(keep[0]), int(keep[-1]) + 1
        return a, b, grid[a:b]

    def fit(self, X, y=None):
        """Find the columns to keep.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self
        """
        X = validate_patterns(self, X, reset=True)
        a, b, grid = self._bounds(X.shape[1])
        self.start_index_, self.stop_index_ = a, b
        if grid is not None:
            self.grid_ = grid
        elif hasattr(self, "grid_"):
            del self.grid_
        return self

    def transform(self, X) -> np.ndarray:
        """Keep the columns found in ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, `stop_index_ - start_index_`)
        """
        check_is_fitted(self)
        X = validate_patterns(self, X, reset=False)
        return X[:, self.start_index_ : self.stop_index_].copy()

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the kept columns.

        The input names (given, seen in ``fit``, or ``x0, x1, ...``) of the kept
        columns; with ``grid`` and no input names, ``two_theta_10.000``-style
        names of the kept grid points (the :class:`PatternResampler` names).

        Parameters
        ----------
        input_features : array-like of str, optional

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self)
        if (
            input_features is None
            and not hasattr(self, "feature_names_in_")
            and hasattr(self, "grid_")
        ):
            return grid_feature_names(self.grid_)
        names = _check_feature_names_in(self, input_features)
        return np.asarray(names[self.start_index_ : self.stop_index_], dtype=object)
