"""The :class:`Kalpha2Stripper`: remove the Kα2 line of a Kα1 + Kα2 pattern."""

from __future__ import annotations

import functools

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin

from ..io._pattern import Pattern, as_patterns
from ..utils._validation import check_real
from ._base import check_not_empty, make_grid, validate_patterns
from ._core import (
    WAVELENGTH_TOL,
    kalpha_doublet,
    rachinger_strip,
    stripped_intensity,
)

__all__ = ["Kalpha2Stripper"]


class Kalpha2Stripper(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Remove the Kα2 line from Kα1 + Kα2 patterns (Rachinger correction).

    Laboratory diffractometers without a monochromator record every reflection
    twice: the Kα1 line and, at slightly higher angle and half the intensity,
    the Kα2 line. A model trained on one anode's doublet reads another
    anode's (wider in Q) doublet as peak splitting; stripping Kα2 first leaves
    the Kα1 pattern, which resamples to any wavelength. The Rachinger
    correction works up the pattern, subtracting from each point ``ratio``
    times the Kα1 intensity already found where that point's Kα2 comes from
    (``sin θ1 = λ1 / λ2 · sin θ``). At the start of a scan, where that Kα1
    intensity lies below the first point, it is taken as constant over the
    doublet's split (``1 / (1 + ratio)`` of the measured intensity: exact on a
    smooth background). Negative values that noise leaves behind are kept.

    ``transform`` accepts:

    * a list of :class:`~skxrd.io.Pattern` objects (or one), on a 2θ or Q axis:
      each is stripped with its own radiation when it was given by name (a
      pattern of a single line, such as synchrotron data, is returned
      unchanged), else with ``radiation``, whose Kα1 must be the pattern's
      wavelength. The result is a list of patterns at the Kα1 wavelength
      (``"CuKa1"`` for ``"CuKa"``), ready for
      :class:`PatternResampler` or a pretrained pipeline.
    * a 2D array of patterns on the 2θ grid ``two_theta`` recorded with
      ``radiation``; it returns an array of the same shape and dtype.

    With ``set_output(transform="pandas")`` (or a Pipeline's), arrays come
    back as DataFrames and patterns stay a list of patterns, for the next
    step (such as :class:`PatternResampler`) to put on a grid.

    Parameters
    ----------
    radiation : str or Radiation, default=None
        The Kα1 + Kα2 radiation (``"CuKa"``, ``"MoKa"``, ``"CoKa"``...). Needed
        for array input and for patterns whose radiation was not named.
    ratio : float, default=None
        Intensity of Kα2 relative to Kα1; None: the radiation's (0.5).
    two_theta : tuple or array-like, default=None
        The 2θ grid (degrees) of array input: ``(start, stop, step)`` as in
        :class:`~skxrd.simulation.PowderSimulator`, ``(first, last)`` for
        evenly spaced columns from ``first`` to ``last`` inclusive (any
        number of them), or the positions.

    Attributes
    ----------
    n_features_in_ : int
        Number of points of array input seen in ``fit`` (not set by a fit on
        patterns).

    See Also
    --------
    PatternResampler : Put stripped patterns on a model's grid.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.datasets import load_example_crystal
    >>> from skxrd.io import Pattern
    >>> from skxrd.preprocessing import Kalpha2Stripper
    >>> from skxrd.simulation import PowderSimulator
    >>> nacl = load_example_crystal("NaCl")
    >>> grid = dict(two_theta_range=(20, 80), two_theta_step=0.01)
    >>> doublet = PowderSimulator(radiation="MoKa", **grid).transform([nacl])[0]
    >>> measured = Pattern(
    ...     PowderSimulator(**grid).two_theta, doublet, wavelength="MoKa"
    ... )
    >>> stripped = Kalpha2Stripper().transform([measured])[0]
    >>> stripped.radiation.name
    'MoKa1'
    >>> single = PowderSimulator(radiation="MoKa1", **grid).transform([nacl])[0]
    >>> bool(np.corrcoef(stripped.intensity, single)[0, 1] > 0.99)
    True
    """

    def __init__(self, radiation=None, ratio=None, two_theta=None):
        self.radiation = radiation
        self.ratio = ratio
        self.two_theta = two_theta

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: those of the input.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input feature names; None: ``x0, x1, ...`` for array input.

        Returns
        -------
        ndarray of str objects
            For a fit on patterns (each on a grid of its own, no columns):
            ``input_features`` as given, or none, so that a Pipeline's names
            come from the step that puts them on a grid.
        """
        if not hasattr(self, "n_features_in_"):
            if input_features is None:
                return np.asarray([], dtype=object)
            return np.asarray(input_features, dtype=object)
        return super().get_feature_names_out(input_features)

    def _ratio(self, default: float) -> float:
        if self.ratio is None:
            return default
        ratio = check_real(self.ratio, "ratio")
        if not 0 < ratio < 1:
            raise ValueError(f"ratio must be in (0, 1), got {self.ratio!r}")
        return ratio

    def _array_settings(self, n_features: int):
        if self.radiation is None:
            raise ValueError(
                "Kalpha2Stripper needs radiation= (e.g. 'CuKa') for array input"
            )
        if self.two_theta is None:
            raise ValueError(
                "Kalpha2Stripper needs two_theta= (the 2θ grid of the columns) for "
                "array input"
            )
        l1, l2, ratio, _ = kalpha_doublet(self.radiation, "radiation")
        spec = self.two_theta
        if isinstance(spec, tuple) and len(spec) == 2:
            first, last = (check_real(v, "two_theta") for v in spec)
            if not 0 < first < last <= 180:
                raise ValueError(
                    "two_theta=(first, last) needs 0 < first < last <= 180, "
                    f"got {spec!r}"
                )
            grid = np.linspace(first, last, n_features)
        else:
            grid = make_grid(spec, "two_theta")
            if grid[0] <= 0:
                raise ValueError("two_theta must be > 0 for Kα2 stripping")
            if n_features != len(grid):
                raise ValueError(
                    f"X has {n_features} points per pattern but two_theta has "
                    f"{len(grid)}"
                )
        return grid, l1 / l2, self._ratio(ratio)

    def fit(self, X=None, y=None):
        """Check the parameters (and the width of array input).

        Parameters
        ----------
        X : list of Pattern or array-like of shape (n_samples, n_features)
            Patterns; nothing is learned from them.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if self.ratio is not None:
            self._ratio(0.5)
        if self.radiation is not None:
            kalpha_doublet(self.radiation, "radiation")
        if X is not None:
            check_not_empty(X)
        if X is not None and as_patterns(X) is None:
            X = validate_patterns(self, X, reset=True)
            self._array_settings(X.shape[1])
        return self

    def transform(self, X):
        """Strip Kα2 from each pattern.

        Parameters
        ----------
        X : list of Pattern, Pattern, or array-like of shape (n_samples, n_features)
            Patterns (see the class description).

        Returns
        -------
        list of Pattern or ndarray of shape (n_samples, n_features)
            Kα1 patterns: a list for Pattern input (a list of one for a single
            Pattern), else an array of the input's shape and dtype.
        """
        check_not_empty(X)
        patterns = as_patterns(X)
        if patterns is not None:
            return [self._strip_pattern(p, i) for i, p in enumerate(patterns)]
        X = validate_patterns(self, X, reset=not hasattr(self, "n_features_in_"))
        grid, factor, ratio = self._array_settings(X.shape[1])
        u = np.sin(np.radians(grid) / 2)
        return rachinger_strip(u, X, factor, ratio)

    def _strip_pattern(self, pattern: Pattern, index: int) -> Pattern:
        label = f"pattern {index}" + (f" ({pattern.name!r})" if pattern.name else "")
        own = pattern.radiation
        if own is not None and len(own.wavelengths) == 1:
            return pattern  # one line: nothing to strip
        if own is not None:
            l1, l2, ratio, name = kalpha_doublet(own, f"{label} radiation")
        elif self.radiation is None:
            raise ValueError(
                f"{label} has no named radiation (wavelength "
                f"{pattern.wavelength} Å): give Kalpha2Stripper(radiation=...)"
            )
        else:
            l1, l2, ratio, name = kalpha_doublet(self.radiation, "radiation")
            if pattern.wavelength is not None and not (
                abs(pattern.wavelength - l1) <= WAVELENGTH_TOL
            ):
                raise ValueError(
                    f"{label} has wavelength {pattern.wavelength} Å, not the Kα1 "
                    f"line of radiation={self.radiation!r} ({l1} Å)"
                )
        intensity = stripped_intensity(pattern, l1, l2, self._ratio(ratio))
        metadata = {**pattern.metadata, "kalpha2_stripped": True}
        return pattern._replace(
            intensity=intensity,
            wavelength=name or l1,
            metadata=metadata,
        )


def _patterns_stay_patterns(wrapped):
    """``transform`` (``fit_transform``) as scikit-learn's ``set_output``
    wraps it, but for Pattern input: a list of patterns is no table, and a
    DataFrame of it failed (a Pipeline of the stripper and a resampler with
    pandas output)."""
    plain = wrapped.__wrapped__  # functools.wraps in sklearn's wrapper

    @functools.wraps(plain)
    def method(self, X, *args, **kwargs):
        if as_patterns(X) is not None:
            return plain(self, X, *args, **kwargs)
        return wrapped(self, X, *args, **kwargs)

    return method


Kalpha2Stripper.transform = _patterns_stay_patterns(Kalpha2Stripper.transform)
Kalpha2Stripper.fit_transform = _patterns_stay_patterns(Kalpha2Stripper.fit_transform)
