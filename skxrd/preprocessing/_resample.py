"""The :class:`PatternResampler`: any grid, axis and wavelength onto a model's grid."""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ..io._pattern import AXES, as_patterns, q_to_two_theta, resolve_wavelength
from ..io._pattern import two_theta_to_q as _tt_to_q
from ..utils._validation import check_real
from ._base import grid_feature_names, make_grid, validate_patterns

__all__ = ["PatternResampler"]

# Model-grid points this close (degrees 2θ) to the measured range count as covered,
# so that the round trip 2θ -> Q -> 2θ does not report spurious gaps.
_TOL = 1e-6
_MAX_LISTED = 10


class PatternResampler(TransformerMixin, BaseEstimator):
    """Resample patterns onto a model's 2θ grid through Q (Bragg's law).

    A measured pattern comes on its own grid, axis (2θ or Q) and wavelength. Each
    position is converted to Q = 4π sin θ / λ with the pattern's wavelength, then
    to 2θ at the model's ``wavelength``, and the intensities are interpolated
    linearly (:func:`numpy.interp`) at the model grid.

    ``transform`` accepts two kinds of input:

    * a list of :class:`~skxrd.io.Pattern` objects (or a single one), each on any
      grid, axis and wavelength. The output is float64. ``source_*`` parameters
      do not apply: a pattern carries its own axis and wavelength.
    * a 2D array of shape (n_samples, n_features) whose columns share one
      source grid, described by the ``source_*`` parameters:

      - ``source_grid`` : the column positions, 2θ (degrees) at
        ``source_wavelength``, or Q (Å⁻¹) with ``source_axis="q"``;
        ``n_features`` must equal ``len(source_grid)``;
      - ``source_range=(first, last)`` : columns evenly spaced from ``first`` to
        ``last`` inclusive, any ``n_features >= 2`` (e.g. a data set stored as
        "5–90° with 8501 points");
      - neither : the columns are already on the model grid (2θ at the model's
        wavelength): ``n_features`` must equal the grid length and the array is
        returned unchanged (a copy). Simulated training data pass through, and
        measured :class:`~skxrd.io.Pattern` objects are resampled at predict time
        by the same fitted pipeline.

      float32 and float64 arrays keep their dtype.

    Model-grid points outside the measured range (after conversion) are not
    extrapolated: with ``out_of_range="fill"`` they get ``fill_value`` and one
    :class:`UserWarning` per call lists, for each pattern (index and name), the
    2θ ranges that were not covered; with ``out_of_range="error"`` a
    ``ValueError`` says the same.

    Parameters
    ----------
    two_theta : (float, float, float) or array-like, default=(5.0, 90.0, 0.02)
        The model grid in degrees 2θ: a tuple ``(start, stop, step)`` gives
        ``start + step * arange(round((stop - start) / step))`` points (the
        convention of :class:`~skxrd.simulation.PowderSimulator`: the default is
        its 4250-point grid 5.00–89.98°); a list or an array lists the points
        (strictly increasing, within [0, 180]).
    wavelength : str or float, default="CuKa"
        The model's wavelength: a radiation name (its primary line, Kα1 for
        ``"CuKa"``) or a value in Å.
    source_grid : array-like of shape (n_features,), optional
        Positions of the columns of array input (strictly increasing).
    source_range : (float, float), optional
        First and last position of evenly spaced columns of array input.
        Exclusive with ``source_grid``.
    source_axis : {"two_theta", "q"}, default="two_theta"
        Unit of ``source_grid`` / ``source_range``: 2θ in degrees or Q in Å⁻¹.
    source_wavelength : str or float, optional
        Wavelength (name or Å) of the 2θ positions in ``source_grid`` or
        ``source_range``; by default the model's ``wavelength``. Not used with
        ``source_axis="q"``.
    out_of_range : {"fill", "error"}, default="fill"
        What to do with model-grid points that the measurement does not cover.
    fill_value : float, default=0.0
        Value of the uncovered points with ``out_of_range="fill"``.

    Attributes
    ----------
    grid_ : ndarray of shape (n_points,)
        The model grid in degrees 2θ.
    wavelength_ : float
        The model's wavelength in Å.
    source_two_theta_ : ndarray of shape (`n_features_in_`,)
        Positions of the input columns in 2θ at the model's wavelength (NaN
        beyond its reach); only when fitted on an array.
    n_features_in_ : int
        Number of columns seen in ``fit``; only when fitted on an array.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (a DataFrame with string column names).

    See Also
    --------
    skxrd.io.Pattern : A pattern with its axis and wavelength.
    PatternCropper : Keep part of a grid.

    Examples
    --------
    A Mo Kα measurement resampled onto a Cu Kα model grid:

    >>> import numpy as np
    >>> from skxrd.io import Pattern
    >>> from skxrd.preprocessing import PatternResampler
    >>> tt = np.arange(4.0, 42.0, 0.01)
    >>> mo = Pattern(tt, np.exp(-(((tt - 14.0) / 0.05) ** 2)), wavelength="MoKa",
    ...              name="Si")
    >>> res = PatternResampler(two_theta=(10, 80, 0.02)).fit([mo])
    >>> X = res.transform([mo])
    >>> X.shape, X.dtype
    ((1, 3500), dtype('float64'))
    >>> float(res.grid_[X[0].argmax()].round(2))  # the same d-spacing at Cu Kα
    30.7
    >>> res.get_feature_names_out()[:2].tolist()
    ['two_theta_10.000', 'two_theta_10.020']

    Arrays on another grid: give the grid (or its range) at ``fit`` time.

    >>> X8 = np.random.default_rng(0).random((4, 8501))  # 5-90° with 8501 points
    >>> res = PatternResampler(source_range=(5, 90)).fit(X8)
    >>> res.transform(X8).shape
    (4, 4250)

    Without ``source_*`` an array must already be on the model grid:

    >>> PatternResampler().fit_transform(np.ones((2, 4250))).shape
    (2, 4250)
    """

    def __init__(
        self,
        two_theta=(5.0, 90.0, 0.02),
        wavelength="CuKa",
        source_grid=None,
        source_range=None,
        source_axis="two_theta",
        source_wavelength=None,
        out_of_range="fill",
        fill_value=0.0,
    ):
        self.two_theta = two_theta
        self.wavelength = wavelength
        self.source_grid = source_grid
        self.source_range = source_range
        self.source_axis = source_axis
        self.source_wavelength = source_wavelength
        self.out_of_range = out_of_range
        self.fill_value = fill_value

    # ------------------------------------------------------------------ settings
    def _settings(self) -> _Settings:
        return _Settings(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # ------------------------------------------------------------------ API
    def fit(self, X=None, y=None):
        """Check the parameters and, for an array, the columns' positions.

        Nothing is learned from patterns: ``fit()`` without data prepares the
        resampler for lists of :class:`~skxrd.io.Pattern` objects.

        Parameters
        ----------
        X : list of Pattern, array-like of shape (n_samples, n_features), or None
            Patterns, or an array whose columns follow the ``source_*``
            parameters (this sets ``n_features_in_``).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        s = self._settings()
        patterns = as_patterns(X)
        for attr in ("n_features_in_", "feature_names_in_", "source_two_theta_"):
            if hasattr(self, attr):
                delattr(self, attr)
        if patterns is None and X is not None:
            X = validate_patterns(self, X, reset=True)
            pos = s.source_positions(X.shape[1])
            if s.out_of_range == "error":
                covered = _covered(s.grid, pos)
                if not covered.all():
                    s.report([(_array_label(len(X)), covered, pos)])
            self.source_two_theta_ = pos
        self.grid_ = s.grid
        self.wavelength_ = s.wavelength
        return self

    def transform(self, X) -> np.ndarray:
        """Resample onto the model grid.

        Parameters
        ----------
        X : list of Pattern, Pattern, or array-like of shape (n_samples, n_features)
            See the class description for the array contract.

        Returns
        -------
        ndarray of shape (n_samples, `len(grid_)`)
            float64 for patterns; the input's float dtype for arrays.

        Raises
        ------
        ValueError
            If the input has NaN or infinite values (naming the sample), does not
            match the source grid, or (``out_of_range="error"``) does not cover
            the model grid.
        """
        check_is_fitted(self, "grid_")
        s = self._settings()
        patterns = as_patterns(X)
        if patterns is not None:
            return self._transform_patterns(s, patterns)
        X = validate_patterns(self, X, reset=False)
        pos = s.source_positions(X.shape[1])
        if s.passthrough:
            return X.copy()
        out, covered = _interp_shared(s.grid, pos, X)
        if not covered.all():
            out[:, ~covered] = s.fill_value
            s.report([(_array_label(len(X)), covered, pos)])
        return out.astype(X.dtype, copy=False)

    def _transform_patterns(self, s, patterns) -> np.ndarray:
        out = np.empty((len(patterns), len(s.grid)))
        gaps = []
        for i, p in enumerate(patterns):
            pos = p.two_theta_at(s.wavelength)
            ok = np.isfinite(pos)
            xs, ys = pos[ok], p.intensity[ok]
            covered = _covered(s.grid, pos)
            if xs.size:
                out[i] = np.interp(s.grid, xs, ys)
            if not covered.all():
                out[i, ~covered] = s.fill_value
                label = f"pattern {i}" + (f" ({p.name!r})" if p.name else "")
                gaps.append((label, covered, pos))
        if gaps:
            s.report(gaps)
        return out

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the model-grid columns, such as ``two_theta_5.000``.

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against the names seen in ``fit`` (array input), not used.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self, "grid_")
        if hasattr(self, "n_features_in_"):
            _check_feature_names_in(self, input_features)
        return grid_feature_names(self.grid_)


class _Settings:
    """Validated parameters of a :class:`PatternResampler`."""

    def __init__(self, est: PatternResampler):
        self.grid = make_grid(est.two_theta, "two_theta")
        self.wavelength = _wavelength(est.wavelength, "wavelength")
        if est.out_of_range not in ("fill", "error"):
            raise ValueError(
                f"out_of_range must be 'fill' or 'error', got {est.out_of_range!r}"
            )
        self.out_of_range = est.out_of_range
        self.fill_value = check_real(est.fill_value, "fill_value")
        if est.source_axis not in AXES:
            raise ValueError(
                f"source_axis must be 'two_theta' or 'q', got {est.source_axis!r}"
            )
        self.source_axis = est.source_axis
        is_q = self.source_axis == "q"
        if est.source_grid is not None and est.source_range is not None:
            raise ValueError("give source_grid or source_range, not both")
        if is_q and est.source_wavelength is not None:
            raise ValueError(
                "source_wavelength has no meaning for a Q axis (source_axis='q')"
            )
        no_source = est.source_grid is None and est.source_range is None
        if is_q and no_source:
            raise ValueError("source_axis='q' needs source_grid or source_range")
        if no_source and est.source_wavelength is not None:
            raise ValueError(
                "source_wavelength needs source_grid or source_range (without them "
                "array columns are at the model grid's 2θ at the model's wavelength)"
            )
        self.source_wavelength = (
            self.wavelength
            if est.source_wavelength is None
            else _wavelength(est.source_wavelength, "source_wavelength")
        )
        upper = None if is_q else 180.0
        self.source_grid = None
        if est.source_grid is not None:
            self.source_grid = make_grid(est.source_grid, "source_grid", upper=upper)
        self.source_range = None
        if est.source_range is not None:
            try:
                lo, hi = (check_real(v, "source_range") for v in est.source_range)
            except TypeError:
                raise ValueError(
                    f"source_range must be (first, last), got {est.source_range!r}"
                ) from None
            if not (0 <= lo < hi and (upper is None or hi <= upper)):
                raise ValueError(
                    "source_range must have 0 <= first < last"
                    + ("" if upper is None else " <= 180")
                    + f", got {est.source_range!r}"
                )
            self.source_range = (lo, hi)
        self.passthrough = no_source

    def source_positions(self, n_features: int) -> np.ndarray:
        """Model-wavelength 2θ of ``n_features`` array columns (NaN if unreachable)."""
        if self.source_grid is not None:
            x = self.source_grid
            if n_features != len(x):
                raise ValueError(
                    f"X has {n_features} features but source_grid has {len(x)} points"
                )
        elif self.source_range is not None:
            if n_features < 2:
                raise ValueError(
                    f"source_range needs at least 2 columns, got n_features = "
                    f"{n_features}"
                )
            x = np.linspace(*self.source_range, n_features)
        else:
            x = self.grid
            if n_features != len(x):
                raise ValueError(
                    f"X has {n_features} features but the model grid has {len(x)} "
                    "points (n_features = "
                    f"{n_features}); pass source_grid or source_range to resample "
                    "arrays on another grid, or a list of Pattern objects"
                )
        if self.source_axis == "q":
            return q_to_two_theta(x, self.wavelength)
        if self.source_wavelength == self.wavelength:
            return np.array(x, dtype=float)
        return q_to_two_theta(_tt_to_q(x, self.source_wavelength), self.wavelength)

    def report(self, gaps) -> None:
        """Warn about (or raise for) uncovered model-grid points."""
        # patterns with the same gap are reported together, not one by one
        groups = {}
        for label, covered, pos in gaps:
            groups.setdefault(_describe(self.grid, covered, pos), []).append(label)
        lines = []
        for text, labels in list(groups.items())[:_MAX_LISTED]:
            if len(labels) == 1:
                who = labels[0]
            else:
                shown = ", ".join(labels[:2]) + (", ..." if len(labels) > 2 else "")
                who = f"{len(labels)} patterns ({shown})"
            lines.append(f"{who}: {text}")
        if len(groups) > _MAX_LISTED:
            rest = sum(len(v) for v in list(groups.values())[_MAX_LISTED:])
            lines.append(f"... and {rest} more patterns")
        where = (
            f"the model grid {self.grid[0]:.3f}–{self.grid[-1]:.3f}° 2θ at "
            f"{self.wavelength:g} Å"
        )
        if self.out_of_range == "error":
            raise ValueError(
                f"the measurement does not cover {where} (out_of_range='error'); "
                + "; ".join(lines)
                + ". Measure a wider range, use a smaller model grid, or set "
                "out_of_range='fill'"
            )
        warnings.warn(
            f"the measurement does not cover {where}; points not covered were set "
            f"to fill_value={self.fill_value:g}: " + "; ".join(lines),
            UserWarning,
            stacklevel=_caller_stacklevel(),
        )


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside skxrd and scikit-learn."""
    import sklearn

    import skxrd

    inside = tuple(os.path.dirname(m.__file__) + os.sep for m in (skxrd, sklearn))
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(inside):
        frame, level = frame.f_back, level + 1
    return level


def _wavelength(value, what: str) -> float:
    if value is None:
        raise ValueError(f"{what} is required (a name such as 'CuKa' or Å)")
    try:
        lam, _ = resolve_wavelength(value, None)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    return lam


def _covered(grid: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Which grid points lie within the finite range of ``pos`` (increasing).

    Points less than half a grid step beyond the measured range count as
    covered (they take the end value): a pattern on the model's own grid at a
    slightly different wavelength (1.5406 Å for Cu Kα1's 1.540562 Å) is not
    missing its last point.
    """
    finite = pos[np.isfinite(pos)]
    if finite.size == 0:
        return np.zeros(grid.shape, dtype=bool)
    tol = _TOL
    if len(grid) > 1:
        tol = max(tol, 0.5 * float(np.min(np.abs(np.diff(grid)))))
    return (grid >= finite[0] - tol) & (grid <= finite[-1] + tol)


def _interp_shared(grid, pos, X):
    """Linear interpolation of all rows of ``X`` (columns at ``pos``) at ``grid``."""
    cols = np.flatnonzero(np.isfinite(pos))
    p = pos[cols]
    covered = _covered(grid, pos)
    out = np.empty((X.shape[0], len(grid)))
    if p.size == 0:
        return out, covered
    if p.size == 1:
        out[:] = X[:, cols[:1]]
        return out, covered
    j = np.clip(np.searchsorted(p, grid, side="right") - 1, 0, p.size - 2)
    w = np.clip((grid - p[j]) / (p[j + 1] - p[j]), 0.0, 1.0)
    left, right = X[:, cols[j]], X[:, cols[j + 1]]
    np.multiply(left, 1.0 - w, out=out)
    out += right * w
    return out, covered


def _array_label(n_samples: int) -> str:
    return f"all {n_samples} samples" if n_samples > 1 else "sample 0"


def _describe(grid, covered, pos) -> str:
    """``5.000–9.980° 2θ not covered (measured 10.0–60.0° ...)``."""
    finite = pos[np.isfinite(pos)]
    measured = (
        f"the measurement spans {finite[0]:.3f}–{finite[-1]:.3f}° 2θ at the model "
        "wavelength"
        if finite.size
        else "the measurement lies beyond the reach of the model wavelength"
    )
    if not covered.any():
        return f"no overlap with the model grid ({measured})"
    runs = []
    missing = np.flatnonzero(~covered)
    breaks = np.flatnonzero(np.diff(missing) > 1)
    starts = np.r_[missing[0], missing[breaks + 1]]
    stops = np.r_[missing[breaks], missing[-1]]
    for a, b in zip(starts, stops):
        runs.append(f"{grid[a]:.3f}–{grid[b]:.3f}°")
    return f"{' and '.join(runs)} 2θ not covered ({measured})"
