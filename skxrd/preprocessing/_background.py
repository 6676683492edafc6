"""The :class:`BackgroundSubtractor`: SNIP and rolling-ball backgrounds."""

from __future__ import annotations

import numpy as np

from ..utils._validation import check_bool, check_int, check_real
from ._base import PatternwiseTransformer, validate_patterns
from ._core import BACKGROUND_METHODS as _METHODS
from ._core import SNIP_EDGES as _EDGES
from ._core import background, rolling_ball_background, snip_background  # noqa: F401 (exported)

__all__ = ["BackgroundSubtractor", "rolling_ball_background", "snip_background"]


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
    edges : {"keep", "extend"}, default="keep"
        SNIP only (the rolling ball always extends the pattern): the points
        within ``window`` of an end. ``"keep"`` clips them only at the widths
        that fit, so the background equals the pattern at its first and last
        point, and a line within 0.06° (3 points of 0.02°) of an end loses a
        third or more of its height. ``"extend"`` continues each pattern
        beyond its ends along a straight line fitted to the background of the
        end region (peaks left out), so that every point is clipped at every
        width: end lines keep their height. The shipped models were trained
        with ``"keep"``, and objects saved before this parameter existed load
        with it. See :func:`snip_background`.

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

    A line 0.04° (2 points) from the start survives with ``edges="extend"``:

    >>> end_line = np.exp(-(((x - 10.04) / 0.1) ** 2))
    >>> for edges in ("keep", "extend"):
    ...     sub = BackgroundSubtractor(edges=edges)
    ...     Xt = sub.fit_transform([background + end_line])
    ...     print(edges, round(float(Xt[0, 2]), 2))
    keep 0.16
    extend 1.0
    """

    def __init__(
        self,
        method="snip",
        window=None,
        iterations=1,
        lls=False,
        decreasing=False,
        ball_height=0.05,
        edges="keep",
    ):
        self.method = method
        self.window = window
        self.iterations = iterations
        self.lls = lls
        self.decreasing = decreasing
        self.ball_height = ball_height
        self.edges = edges

    def _check_params(self):
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}")
        check_int(self.window, "window", minimum=1, allow_none=True)
        check_int(self.iterations, "iterations", minimum=1)
        for flag in ("lls", "decreasing"):
            check_bool(getattr(self, flag), flag)
        height = check_real(self.ball_height, "ball_height")
        if not height > 0:
            raise ValueError(f"ball_height must be positive, got {height}")
        if self.edges not in _EDGES:
            raise ValueError(f"edges must be one of {_EDGES}, got {self.edges!r}")

    def __setstate__(self, state):
        # objects pickled before the parameter existed lack it: they keep the
        # SNIP they were made (and their models trained) with
        super().__setstate__({"edges": "keep", **state})

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
        return background(
            X,
            self.method,
            self.window,
            self.iterations,
            self.lls,
            self.decreasing,
            self.ball_height,
            self.edges,
        )

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
