"""The :class:`PatternSmoother`: Savitzky–Golay or median smoothing along each
pattern."""

from __future__ import annotations

import numpy as np

from ..utils._validation import check_int
from ._base import PatternwiseTransformer, validate_patterns
from ._core import SMOOTH_METHODS, smooth

__all__ = ["PatternSmoother"]


class PatternSmoother(PatternwiseTransformer):
    """Smooth each pattern with a Savitzky–Golay or a median filter.

    ``method="savgol"``: a least-squares polynomial of degree ``polyorder`` is
    fitted in a moving window of ``window_length`` points
    (:func:`scipy.signal.savgol_filter` along the rows, ``mode="interp"`` at
    the ends). Unlike a moving average it keeps peak heights and widths well
    when the window is narrower than the peaks. ``method="median"``: the
    median of the ``window_length`` points around each one
    (:func:`scipy.ndimage.median_filter`, the end values repeated), which
    removes point-to-point counting noise and spikes and keeps the edges of
    peaks wider than the window (``denoise`` in a training config's
    ``[preprocessing]``). The transformer is stateless.

    Parameters
    ----------
    window_length : int, default=11
        Points in the filter window, centred on each point: an odd number, at
        most the number of points per pattern.
    polyorder : int, default=3
        Degree of the local polynomial; less than ``window_length``. Not used
        by the median filter.
    method : {"savgol", "median"}, default="savgol"
        The filter.

    Attributes
    ----------
    n_features_in_ : int
        Number of points per pattern seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (a DataFrame with string column names).

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.preprocessing import PatternSmoother
    >>> x = np.linspace(-1, 1, 201)
    >>> clean = np.exp(-((x / 0.2) ** 2))
    >>> noisy = clean + np.random.default_rng(0).normal(0, 0.05, x.size)
    >>> smooth = PatternSmoother(window_length=15, polyorder=3).fit_transform([noisy])
    >>> bool(np.abs(smooth[0] - clean).std() < np.abs(noisy - clean).std() / 2)
    True
    >>> PatternSmoother(window_length=3, method="median").fit_transform(
    ...     [[0.0, 0.0, 5.0, 0.0, 1.0, 1.0, 1.0]])  # a spike goes, a step stays
    array([[0., 0., 0., 1., 1., 1., 1.]])
    """

    def __init__(self, window_length=11, polyorder=3, method="savgol"):
        self.window_length = window_length
        self.polyorder = polyorder
        self.method = method

    def _check_params(self, n_features: int | None = None):
        if self.method not in SMOOTH_METHODS:
            raise ValueError(
                f"method must be one of {SMOOTH_METHODS}, got {self.method!r}"
            )
        window = check_int(self.window_length, "window_length", minimum=1)
        if window % 2 == 0:
            # an even window has no centre point: both filters moved the pattern
            # by half a grid step (and the median took the upper middle value)
            raise ValueError(
                f"window_length must be odd, got {window}: an even window has no "
                "centre point, and the smoothed pattern would move by half a "
                f"point; use {window - 1} or {window + 1}"
            )
        order = check_int(self.polyorder, "polyorder", minimum=0)
        if self.method == "savgol" and order >= window:
            raise ValueError(
                f"polyorder must be less than window_length, got polyorder={order} "
                f"and window_length={window}"
            )
        if n_features is not None and window > n_features:
            raise ValueError(
                f"window_length={window} is longer than the patterns "
                f"(n_features = {n_features}); use window_length <= {n_features}"
            )

    def transform(self, X) -> np.ndarray:
        """Smooth each pattern.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)

        Raises
        ------
        ValueError
            If ``window_length`` exceeds ``n_features``.
        """
        X = validate_patterns(self, X, reset=False)
        self._check_params(X.shape[1])
        return smooth(X, self.window_length, self.polyorder, self.method)
