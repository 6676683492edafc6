"""The :class:`PatternNormalizer`: per-pattern intensity scaling."""

from __future__ import annotations

import numpy as np

from ._base import PatternwiseTransformer, validate_patterns
from ._core import NORMALIZE_METHODS as _METHODS
from ._core import NORMALIZE_SCALES as _SCALES
from ._core import normalize

__all__ = ["PatternNormalizer"]


class PatternNormalizer(PatternwiseTransformer):
    """Normalize each pattern (row) on its own, optionally after a sqrt or log.

    The transformer is stateless: ``fit`` only records the number of features,
    and ``transform`` works without it.

    Parameters
    ----------
    method : {"max", "area", "l2", "minmax"}, default="max"
        Divide each pattern by its largest absolute value (``"max"``, which is
        the maximum of a non-negative pattern), by the sum of its absolute
        values (``"area"``: unit area for a non-negative pattern on a uniform
        grid, as ``PowderSimulator(normalize="area")``), or by its Euclidean
        norm (``"l2"``); or map its minimum to 0 and its maximum to 1
        (``"minmax"``).
    scale : {None, "sqrt", "log"}, default=None
        Compress the dynamic range before normalizing: ``sqrt(x)`` or
        ``log1p(x)``. Both need non-negative intensities, so negative values
        (noise after background subtraction, say) are **clipped at 0** first.

    Attributes
    ----------
    n_features_in_ : int
        Number of points per pattern seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (a DataFrame with string column names).

    Notes
    -----
    A pattern whose norm is zero (all zeros, or a constant pattern for
    ``"minmax"``) becomes all zeros, never NaN. float32 input stays float32.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.preprocessing import PatternNormalizer
    >>> X = np.array([[0.0, 2.0, 4.0], [0.0, 0.0, 0.0]])
    >>> PatternNormalizer().fit_transform(X)
    array([[0. , 0.5, 1. ],
           [0. , 0. , 0. ]])
    >>> PatternNormalizer(method="area").fit_transform(X)[0].round(4).tolist()
    [0.0, 0.3333, 0.6667]
    >>> PatternNormalizer(scale="sqrt").fit_transform([[-1.0, 1.0, 4.0]])
    array([[0. , 0.5, 1. ]])
    """

    def __init__(self, method="max", scale=None):
        self.method = method
        self.scale = scale

    def _check_params(self):
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}")
        if self.scale not in _SCALES:
            raise ValueError(f"scale must be one of {_SCALES}, got {self.scale!r}")

    def transform(self, X) -> np.ndarray:
        """Normalize each pattern.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        self._check_params()
        X = validate_patterns(self, X, reset=False)
        return normalize(X, self.method, self.scale)
