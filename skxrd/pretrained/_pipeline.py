"""A Pipeline that also forwards ``predict_top_k`` and ``predict_confidence``."""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import available_if

__all__ = ["PatternPipeline"]


def _final_has(name):
    def check(self):
        return hasattr(self._final_estimator, name)

    return check


class PatternPipeline(Pipeline):
    """A :class:`~sklearn.pipeline.Pipeline` for pattern classifiers.

    It behaves as scikit-learn's Pipeline and adds the methods of skxrd
    classifiers that a Pipeline does not forward: :meth:`predict_top_k` and
    :meth:`predict_confidence`, and :meth:`transform_patterns`, the input as
    the final classifier sees it (for plots and attribution maps). The
    pretrained models (:func:`load_pretrained`) are PatternPipelines whose first
    step is a :class:`~skxrd.preprocessing.PatternResampler`, so they accept
    lists of :class:`~skxrd.io.Pattern` objects on any grid and wavelength.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        As in :class:`~sklearn.pipeline.Pipeline`.
    memory, transform_input, verbose
        As in :class:`~sklearn.pipeline.Pipeline`.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.estimators import CNNClassifier
    >>> from skxrd.preprocessing import PatternNormalizer
    >>> from skxrd.pretrained import PatternPipeline
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["cubic", "hexagonal", "monoclinic"], 20)
    >>> X = rng.random((60, 64))
    >>> X[y == "cubic", 30] += 4.0
    >>> X[y == "hexagonal", 10] += 4.0
    >>> pipe = PatternPipeline([
    ...     ("normalize", PatternNormalizer()),
    ...     ("classifier", CNNClassifier(channels=(8,), max_epochs=20, lr=1e-2,
    ...                                  random_state=0)),
    ... ]).fit(X, y)
    >>> labels, probabilities = pipe.predict_top_k(X[:2], k=2)
    >>> labels.tolist()
    [['cubic', 'monoclinic'], ['cubic', 'monoclinic']]
    """

    def transform_patterns(self, X):
        """Apply every step but the last: the input as the classifier sees it.

        Parameters
        ----------
        X : list of Pattern or array-like of shape (n_samples, n_features)
            What :meth:`predict` accepts.

        Returns
        -------
        ndarray of shape (n_samples, `n_features_in_` of the classifier)
        """
        Xt = X
        for _, _, transformer in self._iter(with_final=False):
            Xt = transformer.transform(Xt)
        return Xt

    def screen(self, X, **kwargs):
        """Which inputs do not look like powder patterns, and why.

        :func:`~skxrd.preprocessing.screen_patterns` at the model's wavelength
        and 2θ range (those of the first step, a
        :class:`~skxrd.preprocessing.PatternResampler`): a flat line, negative
        values, a sine curve, noise without peaks or a scan too short for the
        model get a reason; answer "unknown" for them instead of the
        classifier's prediction (``skxrd predict`` does).

        Parameters
        ----------
        X : list of Pattern or array-like of shape (n_samples, n_features)
            What :meth:`predict` accepts.
        **kwargs
            Thresholds of :func:`~skxrd.preprocessing.screen_patterns`.

        Returns
        -------
        list of (str or None)
            None for the inputs that look like powder patterns.
        """
        from ..io._pattern import as_patterns
        from ..preprocessing import PatternResampler, screen_patterns

        first = self.steps[0][1]
        if not isinstance(first, PatternResampler) or not hasattr(first, "grid_"):
            raise ValueError(
                "screen needs a fitted pipeline whose first step is a "
                "PatternResampler (the pretrained models are such pipelines)"
            )
        grid = first.grid_
        model_range = (float(grid[0]), float(grid[-1]))
        patterns = as_patterns(X, error=ValueError)
        if patterns is not None:
            return screen_patterns(
                patterns, wavelength=first.wavelength, model_range=model_range, **kwargs
            )
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # uncovered ranges
            first.transform(X)  # the resampler's checks of the array
        # the rows as measured, on their own columns' 2θ: resampled onto the
        # model grid, a shorter scan got fill_value beyond its ends, and the
        # steps to it read as peaks (a sine or a noisy background passed).
        # The positions from the current source_* parameters, as transform
        # takes them: source_two_theta_ exists only after a fit on an array
        # and is stale after set_params
        rows = np.asarray(X, dtype=float)
        pos = first._settings().source_positions(rows.shape[1])
        cols = np.isfinite(pos)
        rows = rows[:, cols]
        return screen_patterns(
            rows, two_theta=pos[cols], model_range=model_range, **kwargs
        )

    @available_if(_final_has("predict_top_k"))
    def predict_top_k(self, X, k=5):
        """The ``k`` most probable classes of each pattern, most probable first.

        Parameters
        ----------
        X : list of Pattern or array-like of shape (n_samples, n_features)
            What :meth:`predict` accepts.
        k : int, default=5
            Number of classes per pattern (at most the number of classes).

        Returns
        -------
        labels : ndarray of shape (n_samples, k)
            Labels from ``classes_``, by decreasing probability.
        probabilities : ndarray of shape (n_samples, k)
            Their probabilities.
        """
        return self._final_estimator.predict_top_k(self.transform_patterns(X), k=k)

    @available_if(_final_has("calibrate_temperature"))
    def calibrate_temperature(self, X, y, sample_weight=None):
        """Fit the classifier's temperature on held-out patterns (see its method).

        Parameters
        ----------
        X : list of Pattern or array-like of shape (n_samples, n_features)
            What :meth:`predict` accepts; not the training patterns.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns in the log-loss, given to the classifier's
            ``calibrate_temperature`` (which must take it). None: all 1.

        Returns
        -------
        self : PatternPipeline
        """
        # passed only when given: a classifier without the parameter calibrates
        # as before, and one with it gets the weights (they were a TypeError)
        extra = {} if sample_weight is None else {"sample_weight": sample_weight}
        self._final_estimator.calibrate_temperature(
            self.transform_patterns(X), y, **extra
        )
        return self

    @available_if(_final_has("predict_confidence"))
    def predict_confidence(self, X):
        """Confidence of each prediction, in [0, 1] (see the classifier's method).

        Parameters
        ----------
        X : list of Pattern or array-like of shape (n_samples, n_features)
            What :meth:`predict` accepts.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._final_estimator.predict_confidence(self.transform_patterns(X))
