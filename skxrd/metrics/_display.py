"""Plot of the accuracy-coverage curve, in the style of scikit-learn's displays."""

from __future__ import annotations

import numpy as np

from ._coverage import _check_1d, _check_same_length, accuracy_coverage_curve

__all__ = ["AccuracyCoverageDisplay"]

_CONFIDENCE_SOURCES = ("auto", "proba")


def _max_proba(estimator, X) -> np.ndarray:
    if not hasattr(estimator, "predict_proba"):
        raise ValueError(
            f"{type(estimator).__name__} has no predict_proba (nor "
            "predict_confidence); pass confidence=callable(estimator, X)"
        )
    return np.asarray(estimator.predict_proba(X)).max(axis=1)


def _estimator_confidence(estimator, X, confidence) -> np.ndarray:
    """Confidence of ``estimator``'s predictions on ``X`` (see ``from_estimator``)."""
    if callable(confidence):
        return confidence(estimator, X)
    if confidence not in _CONFIDENCE_SOURCES:
        raise ValueError(
            f"confidence must be one of {_CONFIDENCE_SOURCES} or a callable, "
            f"got {confidence!r}"
        )
    if confidence == "auto":
        from ..estimators._mixins import _confidence_source

        source = _confidence_source(estimator)
        if source is not None:
            step, prepare = source
            return step.predict_confidence(X if prepare is None else prepare(X))
    return _max_proba(estimator, X)


class AccuracyCoverageDisplay:
    """Accuracy-coverage curve of a selective classifier.

    Shows how accuracy rises as the least confident predictions are left
    unanswered. Build it with :meth:`from_estimator` or
    :meth:`from_predictions`, or from the output of
    :func:`~skxrd.metrics.accuracy_coverage_curve` and then call :meth:`plot`.

    Parameters
    ----------
    coverage : ndarray of shape (n_thresholds,)
        Fraction of the samples answered at each threshold.
    accuracy : ndarray of shape (n_thresholds,)
        Accuracy on the answered samples.
    thresholds : ndarray of shape (n_thresholds,), default=None
        Confidence thresholds, kept for reference; not plotted.
    estimator_name : str, default=None
        Name of the estimator, the legend label; no legend when None.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The curve.
    ax_ : matplotlib Axes
        Axes with the curve.
    figure_ : matplotlib Figure
        Figure with the curve.

    See Also
    --------
    accuracy_coverage_curve : The curve's values.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skxrd.metrics import AccuracyCoverageDisplay, accuracy_coverage_curve
    >>> y_true = [0, 1, 1, 0]
    >>> y_pred = [0, 1, 0, 0]
    >>> confidence = [0.9, 0.8, 0.8, 0.6]
    >>> coverage, accuracy, thresholds = accuracy_coverage_curve(
    ...     y_true, y_pred, confidence
    ... )
    >>> display = AccuracyCoverageDisplay(
    ...     coverage=coverage, accuracy=accuracy, estimator_name="my model"
    ... ).plot()
    >>> display.line_.get_xdata()
    array([0.25, 0.75, 1.  ])
    >>> plt.close(display.figure_)
    """

    def __init__(self, *, coverage, accuracy, thresholds=None, estimator_name=None):
        self.coverage = coverage
        self.accuracy = accuracy
        self.thresholds = thresholds
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, name=None, **kwargs) -> AccuracyCoverageDisplay:
        """Draw accuracy (y) against coverage (x).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        name : str, default=None
            Legend label; ``estimator_name`` when None. No legend when both
            are None and ``kwargs`` has no ``label``.
        **kwargs : dict
            Passed to ``matplotlib.axes.Axes.plot``.

        Returns
        -------
        AccuracyCoverageDisplay
            ``self``, with ``line_``, ``ax_`` and ``figure_`` set.

        Raises
        ------
        ValueError
            If ``coverage`` and ``accuracy`` are not 1-D arrays of numbers of
            the same length.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from skxrd.metrics import AccuracyCoverageDisplay
        >>> fig, ax = plt.subplots()
        >>> display = AccuracyCoverageDisplay(coverage=[0.5, 1.0], accuracy=[1.0, 0.8])
        >>> display.plot(ax=ax, name="ResNet", color="k").ax_ is ax
        True
        >>> plt.close(fig)
        """
        import matplotlib.pyplot as plt

        coverage = _check_1d(self.coverage, "coverage", numeric=True)
        accuracy = _check_1d(self.accuracy, "accuracy", numeric=True)
        _check_same_length(coverage=coverage, accuracy=accuracy)
        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        line_kwargs = {} if name is None else {"label": name}
        line_kwargs.update(kwargs)

        (self.line_,) = ax.plot(coverage, accuracy, **line_kwargs)
        ax.set_xlim(0, 1)
        ax.set_xlabel("Coverage (fraction of patterns answered)")
        ax.set_ylabel("Accuracy on answered patterns")
        if line_kwargs.get("label") is not None:
            ax.legend(loc="lower left")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_pred,
        confidence,
        *,
        sample_weight=None,
        name=None,
        ax=None,
        **kwargs,
    ) -> AccuracyCoverageDisplay:
        """Plot the accuracy-coverage curve of given predictions.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_pred : array-like of shape (n_samples,)
            Predicted labels; labels absent from ``y_true`` count as wrong.
        confidence : array-like of shape (n_samples,)
            Confidence of each prediction; higher means more confident.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        name : str, default=None
            Legend label; no legend when None.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        **kwargs : dict
            Passed to ``matplotlib.axes.Axes.plot``.

        Returns
        -------
        AccuracyCoverageDisplay
            The display, plotted.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from skxrd.metrics import AccuracyCoverageDisplay
        >>> display = AccuracyCoverageDisplay.from_predictions(
        ...     [0, 1, 1, 0], [0, 1, 0, 0], [0.9, 0.8, 0.8, 0.6], name="model"
        ... )
        >>> display.accuracy.round(4)
        array([1.    , 0.6667, 0.75  ])
        >>> plt.close(display.figure_)
        """
        coverage, accuracy, thresholds = accuracy_coverage_curve(
            y_true, y_pred, confidence, sample_weight=sample_weight
        )
        display = cls(
            coverage=coverage,
            accuracy=accuracy,
            thresholds=thresholds,
            estimator_name=name,
        )
        return display.plot(ax=ax, name=name, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        confidence="auto",
        sample_weight=None,
        name=None,
        ax=None,
        **kwargs,
    ) -> AccuracyCoverageDisplay:
        """Plot the accuracy-coverage curve of a fitted classifier on ``X, y``.

        Parameters
        ----------
        estimator : fitted classifier
            Predicts the labels with ``predict``.
        X : array-like of shape (n_samples, n_features)
            Input patterns.
        y : array-like of shape (n_samples,)
            True labels.
        confidence : {"auto", "proba"} or callable, default="auto"
            Where the confidences come from: ``"auto"`` uses
            ``estimator.predict_confidence(X)`` when the estimator has that
            method (skxrd's deep classifiers do; in a scikit-learn Pipeline,
            its last step's), else the largest probability
            of ``estimator.predict_proba(X)`` in each row; ``"proba"`` always
            uses the largest probability; a callable is called as
            ``confidence(estimator, X)`` and returns one score per sample.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        name : str, default=None
            Legend label; the estimator's class name when None.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        **kwargs : dict
            Passed to ``matplotlib.axes.Axes.plot``.

        Returns
        -------
        AccuracyCoverageDisplay
            The display, plotted.

        Raises
        ------
        ValueError
            If ``confidence`` is neither ``"auto"``, ``"proba"`` nor a
            callable, or the estimator has no ``predict_proba`` when needed.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skxrd.metrics import AccuracyCoverageDisplay
        >>> X, y = make_classification(n_samples=200, random_state=0)
        >>> clf = LogisticRegression().fit(X, y)
        >>> display = AccuracyCoverageDisplay.from_estimator(clf, X, y)
        >>> display.estimator_name
        'LogisticRegression'
        >>> float(display.coverage[-1])
        1.0
        >>> plt.close(display.figure_)
        """
        y_pred = estimator.predict(X)
        scores = _estimator_confidence(estimator, X, confidence)
        if name is None:
            name = type(estimator).__name__
        return cls.from_predictions(
            y,
            y_pred,
            scores,
            sample_weight=sample_weight,
            name=name,
            ax=ax,
            **kwargs,
        )
