"""The :class:`BackgroundSubtractor`: SNIP and rolling-ball backgrounds."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..utils._validation import check_int, check_real
from ._base import PatternwiseTransformer, validate_patterns

__all__ = ["BackgroundSubtractor", "rolling_ball_background", "snip_background"]

_METHODS = ("snip", "rolling_ball")


def snip_background(
    X, window: int = 20, iterations: int = 1, lls: bool = False, decreasing=False
) -> np.ndarray:
    """SNIP background of each row of ``X`` (float64).

    Statistics-sensitive Non-linear Iterative Peak-clipping (Ryan et al. 1988,
    Morháč et al. 1997): for each half-width ``p`` up to ``window``, every point
    is replaced by the mean of its neighbours at ``±p`` when that is lower. The
    points closer than ``p`` to an end are left as they are. With ``lls`` the
    clipping works on ``log(log(sqrt(y + 1) + 1) + 1)``, which compresses the
    peaks of spectra with a large dynamic range (patterns with negative values
    are shifted up first); without it a linear background is kept exactly. The
    background never exceeds the data.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_points)
    window : int
        Largest clipping half-width in points: about the full width of the
        broadest peak at its base.
    iterations : int
        Number of sweeps over the half-widths.
    lls : bool
        Apply the log-log-sqrt transform.
    decreasing : bool
        Sweep the half-width from ``window`` down to 1 instead of up.

    Returns
    -------
    ndarray of shape (n_samples, n_points)

    Examples
    --------
    >>> x = np.arange(200.0)
    >>> y = 0.01 * x + 5 * np.exp(-(((x - 100) / 3) ** 2))
    >>> float(abs(snip_background(y[None], window=20)[0] - 0.01 * x).max()) < 0.05
    True
    """
    Y = np.asarray(X, dtype=np.float64)
    V = Y.copy()
    if lls:
        offset = np.minimum(Y.min(axis=1, keepdims=True), 0.0)
        V = np.log(np.log(np.sqrt(V - offset + 1.0) + 1.0) + 1.0)
    n = V.shape[1]
    p_max = min(int(window), (n - 1) // 2)
    widths = range(p_max, 0, -1) if decreasing else range(1, p_max + 1)
    for _ in range(int(iterations)):
        for p in widths:
            mean = 0.5 * (V[:, : n - 2 * p] + V[:, 2 * p :])
            mid = V[:, p : n - p]
            np.minimum(mid, mean, out=mid)
    if lls:
        V = (np.exp(np.exp(V) - 1.0) - 1.0) ** 2 - 1.0 + offset
    return np.minimum(V, Y)


def rolling_ball_background(X, window: int = 50, ball_height=0.05) -> np.ndarray:
    """Rolling-ball background of each row of ``X`` (float64).

    The morphological opening (:func:`scipy.ndimage.grey_opening`) with a
    non-flat, ball-shaped structuring element: the upper half of an ellipse of
    half-width ``window`` points and height ``ball_height`` times the pattern's
    intensity range (max − min), rolled under the pattern. Scaling the ball with
    the range makes the result independent of the intensity units. The
    background never exceeds the data.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_points)
    window : int
        Ball half-width (radius) in points: wider than the peaks, narrower
        than the background's features.
    ball_height : float
        Ball height as a fraction of each pattern's intensity range. Near 0 the
        ball is flat (a plain min/max opening); larger balls follow tighter
        background curvature but reach further into the peaks' feet.

    Returns
    -------
    ndarray of shape (n_samples, n_points)

    Examples
    --------
    >>> x = np.arange(200.0)
    >>> y = 0.01 * x + 5 * np.exp(-(((x - 100) / 3) ** 2))
    >>> bg = rolling_ball_background(y[None], window=20)[0]
    >>> float(abs(bg - 0.01 * x).max()) < 0.1  # 2% of the peak height
    True
    """
    Y = np.asarray(X, dtype=np.float64)
    lo = Y.min(axis=1, keepdims=True)
    span = Y.max(axis=1, keepdims=True) - lo
    span = np.where(span > 0, span, 1.0)
    k = np.arange(-int(window), int(window) + 1) / max(int(window), 1)
    ball = float(ball_height) * np.sqrt(np.clip(1.0 - k**2, 0.0, None))
    scaled = (Y - lo) / span
    # Extend each pattern by an odd reflection (a linear continuation of its
    # ends) so that the ball follows a sloping background up to the edges.
    r = min(int(window), Y.shape[1] - 1)
    if r > 0:
        scaled = np.pad(scaled, ((0, 0), (r, r)), mode="reflect", reflect_type="odd")
    opened = ndimage.grey_opening(scaled, structure=ball[None, :], mode="nearest")
    opened = opened[:, r : opened.shape[1] - r]
    return np.minimum(opened * span + lo, Y)


class BackgroundSubtractor(PatternwiseTransformer):
    """Subtract a smooth background from each pattern (SNIP or rolling ball).

    The transformer is stateless: ``fit`` only records the number of features.
    Each row is treated on its own; windows are counted in grid points, so a
    window suits one grid step (0.02° for the default model grid, on which the
    default windows are 0.4° for SNIP and 1° for the rolling ball). The
    estimated background never exceeds the pattern, so the result is
    non-negative. Use :meth:`estimate_background` to get the
    background itself.

    Parameters
    ----------
    method : {"snip", "rolling_ball"}, default="snip"
        ``"snip"``: Statistics-sensitive Non-linear Iterative Peak-clipping
        (Morháč et al., NIM A 401, 113 (1997)), vectorized over the samples;
        see :func:`snip_background`. ``"rolling_ball"``: a morphological
        opening with a ball-shaped structuring element; see
        :func:`rolling_ball_background`.
    window : int, optional
        SNIP: the largest clipping half-width; rolling ball: the ball's
        half-width. In points; choose it larger than the peaks' half-width at
        their base and smaller than the background's features. By default 20
        for SNIP and 50 for the rolling ball, which suit peaks of 0.1–0.3° FWHM
        on a 0.02° grid.
    iterations : int, default=1
        SNIP only: number of sweeps over the clipping widths.
    lls : bool, default=False
        SNIP only: clip in the log-log-sqrt domain
        ``log(log(sqrt(y + 1) + 1) + 1)``, which suits counts with a large
        dynamic range; it bends sloping backgrounds, which are then slightly
        underestimated.
    decreasing : bool, default=False
        SNIP only: sweep the clipping width from ``window`` down to 1 (the
        "decreasing window" variant, Morháč 2008) instead of up from 1.
    ball_height : float, default=0.05
        Rolling ball only: the ball's height as a fraction of each pattern's
        intensity range.

    Attributes
    ----------
    n_features_in_ : int
        Number of points per pattern seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (a DataFrame with string column names).

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.preprocessing import BackgroundSubtractor
    >>> x = np.linspace(10, 80, 3501)
    >>> background = 0.2 + 0.002 * (x - 45) ** 2 / 10
    >>> peaks = np.exp(-(((x - 30) / 0.1) ** 2)) + np.exp(-(((x - 55) / 0.2) ** 2))
    >>> sub = BackgroundSubtractor()
    >>> Xt = sub.fit_transform([background + peaks])
    >>> float(np.abs(Xt[0] - peaks).max()) < 0.01
    True
    >>> sub.estimate_background([background + peaks]).shape
    (1, 3501)
    """

    def __init__(
        self,
        method="snip",
        window=None,
        iterations=1,
        lls=False,
        decreasing=False,
        ball_height=0.05,
    ):
        self.method = method
        self.window = window
        self.iterations = iterations
        self.lls = lls
        self.decreasing = decreasing
        self.ball_height = ball_height

    def _check_params(self):
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}")
        check_int(self.window, "window", minimum=1, allow_none=True)
        check_int(self.iterations, "iterations", minimum=1)
        for flag in ("lls", "decreasing"):
            if not isinstance(getattr(self, flag), (bool, np.bool_)):
                raise ValueError(f"{flag} must be True or False")
        height = check_real(self.ball_height, "ball_height")
        if not height > 0:
            raise ValueError(f"ball_height must be positive, got {height}")

    def estimate_background(self, X) -> np.ndarray:
        """The background of each pattern.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            In the dtype of ``X`` (float32 or float64); never above ``X``.
        """
        self._check_params()
        X = validate_patterns(self, X, reset=False)
        return self._background(X)

    def _background(self, X):
        if self.method == "snip":
            window = 20 if self.window is None else self.window
            bg = snip_background(X, window, self.iterations, self.lls, self.decreasing)
        else:
            window = 50 if self.window is None else self.window
            bg = rolling_ball_background(X, window, self.ball_height)
        return np.minimum(bg.astype(X.dtype, copy=False), X)

    def transform(self, X) -> np.ndarray:
        """Subtract the background from each pattern.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            ``X - estimate_background(X)``: non-negative, in the dtype of ``X``.
        """
        self._check_params()
        X = validate_patterns(self, X, reset=False)
        return X - self._background(X)
