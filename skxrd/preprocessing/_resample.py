"""The :class:`PatternResampler`: any grid, axis and wavelength onto a model's grid."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ..io._pattern import as_patterns
from ._base import check_not_empty, grid_feature_names, validate_patterns
from ._core import (
    _array_label,
    _covered,
    _interp_shared,
    _Settings,
    resample_patterns,
)

__all__ = ["PatternResampler"]


class PatternResampler(TransformerMixin, BaseEstimator):
    """Resample patterns onto a model's 2θ grid through Q (Bragg's law).

    A measured pattern comes on its own grid, axis (2θ or Q) and wavelength. Each
    position is converted to Q = 4π sin θ / λ with the pattern's wavelength, then
    to 2θ at the model's ``wavelength``, and the intensities are carried onto
    the model grid: where the measurement's steps are finer than the model's
    (a 0.01° scan for a 0.02° model, a synchrotron scan), each model point takes
    the mean of the measured steps across its own step, overlap-weighted
    (``method="average"``), as a detector stepping at the model's step would
    have counted them; elsewhere the intensities are interpolated linearly
    (:func:`numpy.interp`), which is the same mean over one measured step.
    Point-sampling a finer scan (``method="linear"``) drops the counts between
    the model's points: the noise stays as it was, and a line narrower than the
    model's step is caught or missed by where it falls.

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

    A pattern recorded with another anode's Kα1 + Kα2 doublet than the model's
    (a ``"MoKa"`` pattern for a ``"CuKa"`` model, or any doublet for a model of
    one wavelength) has its Kα2 line stripped first (``kalpha2="auto"``,
    Rachinger's correction as :class:`Kalpha2Stripper`): the doublet's split
    grows with the wavelength, and resampled to the model's wavelength the
    Kα2 lines would fall where the model never saw them. The model's own
    doublet is kept. Array input whose ``source_wavelength`` names such a
    doublet is stripped alike.

    A ``source_wavelength`` given as a number within 3e-4 Å of an anode's
    Kα1/Kα2 weighted mean (Cu 1.5418, Mo 0.7107, Co 1.7903, Fe 1.9373, Cr
    2.2910, Ag 0.5609 Å), the single value many files state for a tube's
    doublet, is read as that doublet (``"CuKa"``), as a
    :class:`~skxrd.io.Pattern` of that wavelength is, with one
    :class:`UserWarning` per ``fit`` or ``transform`` of array input: array
    and Pattern input give the same answer. Give ``source_radiation="xray"``
    for a monochromatic beam of that wavelength.

    A pattern of another probe than the model's named radiation (a neutron
    pattern for a ``"CuKa"`` model) is resampled, with a :class:`UserWarning`
    naming it: its relative intensities are not those the model learned.

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
        (strictly increasing, within [0, 180]). A tuple of two numbers, a range
        without its step, is refused.
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
        ``source_axis="q"``. A named doublet other than the model's (``"MoKa"``
        for a ``"CuKa"`` model) has its Kα2 line stripped as ``kalpha2`` says.
        A number that states an anode's Kα1/Kα2 weighted mean (1.5418 Å) is
        read as that anode's doublet (``"CuKa"``), with a :class:`UserWarning`,
        unless ``source_radiation`` is given.
    source_radiation : {"xray", "neutron"} or None, default=None
        The kind of a monochromatic beam whose wavelength ``source_wavelength``
        gives in Å: one line of that wavelength, even at an anode's Kα1/Kα2
        weighted mean (a monochromator tuned to 1.5418 Å, a neutron beam).
        None reads such a number as the anode's doublet. Only with a number
        as ``source_wavelength``.
    out_of_range : {"fill", "error"}, default="fill"
        What to do with model-grid points that the measurement does not cover.
    fill_value : float, default=0.0
        Value of the uncovered points with ``out_of_range="fill"``.
    kalpha2 : {"auto", "keep"}, default="auto"
        Patterns of another Kα1 + Kα2 doublet than the model's: ``"auto"``
        strips their Kα2 line before resampling, ``"keep"`` resamples them as
        measured. Patterns whose radiation was not named (a wavelength only)
        are never stripped. The same holds for array input with a
        ``source_wavelength``.
    method : {"average", "linear"}, default="average"
        How a measurement on a finer grid than the model's is carried onto it:
        ``"average"`` takes each model point's mean over its step,
        ``"linear"`` the linear interpolation at the point. The two agree where
        the measurement's steps are as wide as the model's or wider. Model
        files and pickles written before the parameter existed resample with
        ``"linear"``, as they did.

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

    # pickles written before the parameter existed resampled linearly
    method = "linear"

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
        kalpha2="auto",
        source_radiation=None,
        method="average",
    ):
        self.two_theta = two_theta
        self.wavelength = wavelength
        self.source_grid = source_grid
        self.source_range = source_range
        self.source_axis = source_axis
        self.source_wavelength = source_wavelength
        self.out_of_range = out_of_range
        self.fill_value = fill_value
        self.kalpha2 = kalpha2
        self.source_radiation = source_radiation
        self.method = method

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
        return self._fit(X, warn=True)

    def _fit(self, X, *, warn: bool):
        s = self._settings()
        if X is not None:
            check_not_empty(X)
        patterns = as_patterns(X)
        for attr in ("n_features_in_", "feature_names_in_", "source_two_theta_"):
            if hasattr(self, attr):
                delattr(self, attr)
        if patterns is None and X is not None:
            X = validate_patterns(self, X, reset=True)
            if warn:
                s.warn_source_mean()
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
        return self._transform(X, warn=True)

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Fit, then resample ``X`` onto the model grid.

        The same as ``fit(X).transform(X)``, with one warning, not two, where
        ``source_wavelength`` is read as a Kα1/Kα2 doublet.

        Parameters
        ----------
        X : list of Pattern, Pattern, or array-like of shape (n_samples, n_features)
            See the class description for the array contract.
        y : None
            Ignored.

        Returns
        -------
        ndarray of shape (n_samples, `len(grid_)`)
            float64 for patterns; the input's float dtype for arrays.
        """
        return self._fit(X, warn=True)._transform(X, warn=False)

    def _transform(self, X, *, warn: bool) -> np.ndarray:
        check_is_fitted(self, "grid_")
        s = self._settings()
        check_not_empty(X)
        patterns = as_patterns(X)
        if patterns is not None:
            return self._transform_patterns(s, patterns)
        X = validate_patterns(self, X, reset=False)
        if warn:
            s.warn_source_mean()
        pos = s.source_positions(X.shape[1])
        if s.passthrough:
            return X.copy()
        if s.strip_source:
            X = s.strip_source_kalpha2(X)
        out, covered = _interp_shared(s.grid, pos, X, s.method)
        if not covered.all():
            out[:, ~covered] = s.fill_value
            s.report([(_array_label(len(X)), covered, pos)])
        return out.astype(X.dtype, copy=False)

    def _transform_patterns(self, s, patterns) -> np.ndarray:
        return resample_patterns(s, patterns)

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
