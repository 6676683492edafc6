"""Abstention: refuse to answer when a classifier is not confident enough."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ..utils._validation import check_real
from ._mixins import _confidence_source, _proba_and_confidence, _ProbabilisticMixin

__all__ = ["AbstainingClassifier"]

_CONFIDENCES = ("auto", "proba", "estimator")


def _screener(estimator):
    """The fitted pipeline whose ``screen`` says which inputs are not powder
    patterns (a :class:`~skxrd.pretrained.PatternPipeline` whose first step is
    a fitted :class:`~skxrd.preprocessing.PatternResampler`, as the pretrained
    models are; also inside a :class:`~sklearn.frozen.FrozenEstimator`), or
    None."""
    from sklearn.frozen import FrozenEstimator

    from ..preprocessing import PatternResampler

    if isinstance(estimator, FrozenEstimator):
        return _screener(estimator.estimator)
    steps = getattr(estimator, "steps", None)
    if not (callable(getattr(estimator, "screen", None)) and steps):
        return None
    first = steps[0][1]
    if isinstance(first, PatternResampler) and hasattr(first, "grid_"):
        return estimator
    return None


def _label_array(labels, unknown_label, n):
    """An empty array able to hold ``labels`` and ``unknown_label`` without loss."""
    unknown = np.asarray(unknown_label)
    # bool classes are not numbers here: beside -1 they became 1 and 0
    numeric = "iuf"
    if (labels.dtype.kind in numeric and unknown.dtype.kind in numeric) or (
        labels.dtype.kind in "US" and unknown.dtype.kind in "US"
    ):
        dtype = np.result_type(labels.dtype, unknown.dtype)
    else:
        dtype = object
    return np.empty(n, dtype=dtype)


class AbstainingClassifier(
    _ProbabilisticMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator
):
    """Wrap a classifier so that it refuses answers of low confidence.

    ``predict`` returns ``unknown_label`` for the patterns whose confidence
    is below ``threshold`` and the wrapped classifier's answer for the
    others; ``predict_proba`` is the wrapped classifier's. Sweep the
    threshold with :func:`skxrd.metrics.accuracy_coverage_curve` to trade
    coverage (the fraction answered) for accuracy on the answers.

    Parameters
    ----------
    estimator : classifier
        Any classifier with ``predict_proba`` (an skxrd classifier, a
        :class:`UnionClassifier`, a
        :class:`~sklearn.calibration.CalibratedClassifierCV`...). It is cloned
        and fitted by :meth:`fit`; wrap a fitted one in
        :class:`~sklearn.frozen.FrozenEstimator` to use it as it is.
    threshold : float, default=0.5
        Patterns with confidence strictly below it are refused; in [0, 1],
        the range of the confidences (0: every pattern that passes the screen
        is answered).
    confidence : {"auto", "proba", "estimator"}, default="auto"
        ``"estimator"``: the estimator's ``predict_confidence`` (the learned
        confidence head of a :class:`ResNetClassifier`, the reliability of a
        :class:`UnionClassifier`; for a :class:`~sklearn.pipeline.Pipeline`,
        its last step's); ``"proba"``: the highest class
        probability; ``"auto"``: ``predict_confidence`` when the estimator
        has it, else the highest probability.
    unknown_label : object, default="auto"
        The label of refused patterns; it must not be one of the classes.
        ``"auto"``: -1 for numeric classes such as space-group numbers (one
        less than the smallest class when -1 is a class), else ``"unknown"``.
        A string with numeric classes (or the reverse) makes ``predict``
        return an object array; so do bool classes (True and False stay
        bools beside -1).
    screen : {"auto", True, False}, default="auto"
        Refuse the inputs that do not look like powder patterns at all (a
        flat line, negative values, a sine curve, noise without peaks, a scan
        too short for the model), whatever the confidence: the estimator's
        ``screen`` (:meth:`skxrd.pretrained.PatternPipeline.screen`, see
        :func:`~skxrd.preprocessing.screen_patterns`) says which. A classifier
        answers such inputs too, often with a high probability. ``"auto"``:
        when the estimator can screen (a PatternPipeline whose first step is
        a :class:`~skxrd.preprocessing.PatternResampler`, such as the
        pretrained models, also in a :class:`~sklearn.frozen.FrozenEstimator`);
        True: it must be able to; False: never.

    Attributes
    ----------
    estimator_ : classifier
        The fitted classifier.
    classes_ : ndarray of shape (n_classes,)
        Its classes (``unknown_label`` is not one of them).
    n_features_in_ : int
        Number of features seen in ``fit`` (when the estimator records it).

    See Also
    --------
    skxrd.metrics.accuracy_coverage_curve : accuracy against coverage.
    skxrd.metrics.AccuracyCoverageDisplay : its plot.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skxrd.estimators import AbstainingClassifier
    >>> X = np.array([[-3.0], [-2.0], [-0.1], [0.1], [2.0], [3.0]])
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> clf = AbstainingClassifier(LogisticRegression(), threshold=0.8).fit(X, y)
    >>> clf.predict([[-3.0], [0.0], [3.0]])
    array([ 0, -1,  1])
    >>> clf.set_params(unknown_label="?").predict([[0.0], [3.0]])
    array(['?', 1], dtype=object)
    """

    def __init__(
        self,
        estimator,
        *,
        threshold=0.5,
        confidence="auto",
        unknown_label="auto",
        screen="auto",
    ):
        self.estimator = estimator
        self.threshold = threshold
        self.confidence = confidence
        self.unknown_label = unknown_label
        self.screen = screen

    def __setstate__(self, state):
        # pickles made before the parameter existed screen as the default does
        state.setdefault("screen", "auto")
        super().__setstate__(state)

    def _check_params(self):
        # every confidence (highest probability, confidence head, union
        # reliability) lies in [0, 1]: a threshold above 1 refused every
        # pattern and one below 0 none, without a word
        check_real(self.threshold, "threshold", minimum=0.0, maximum=1.0)
        if not (isinstance(self.confidence, str) and self.confidence in _CONFIDENCES):
            raise ValueError(
                f"confidence must be one of {_CONFIDENCES}, got {self.confidence!r}"
            )
        screen = self.screen
        # 1 and 0 are not flags here: "yes" or 1 would switch it on unseen
        if not (
            isinstance(screen, (bool, np.bool_))
            or (isinstance(screen, str) and screen == "auto")
        ):
            raise ValueError(
                f"screen must be 'auto', True or False, got {self.screen!r}"
            )

    def _screening(self):
        """The fitted estimator that screens the inputs, or None (``screen``
        False, or "auto" and the estimator cannot)."""
        screen = self.screen
        if not isinstance(screen, str) and not screen:
            return None
        screener = _screener(self.estimator_)
        if screener is None and not isinstance(screen, str):
            raise ValueError(
                "screen=True needs an estimator that screens its inputs (a "
                "fitted PatternPipeline whose first step is a PatternResampler, "
                f"as the pretrained models are); {type(self.estimator_).__name__} "
                "is none"
            )
        return screener

    def fit(self, X, y, **fit_params):
        """Fit a clone of the estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns, one per row.
        y : array-like of shape (n_samples,)
            Class labels.
        **fit_params : dict
            Passed to the estimator's ``fit``.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        self._check_params()
        if not hasattr(self.estimator, "predict_proba"):
            raise ValueError(
                "estimator must be a classifier with predict_proba, got "
                f"{self.estimator!r}"
            )
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self._screening()  # screen=True without a screen: said at once
        self.classes_ = self.estimator_.classes_
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))
        return self

    def predict_proba(self, X):
        """The estimator's class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns, one per row.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    def _proba_confidence(self, X):
        check_is_fitted(self)
        self._check_params()
        estimator = self.estimator_
        has_own = _confidence_source(estimator) is not None
        use_estimator = self.confidence == "estimator" or (
            self.confidence == "auto" and has_own
        )
        if use_estimator and not has_own:
            raise ValueError(
                "confidence='estimator' needs an estimator with predict_confidence "
                f"(or a Pipeline ending in one); {type(estimator).__name__} has none"
            )
        proba, confidence = _proba_and_confidence(
            estimator, X, own_confidence=use_estimator
        )
        screener = self._screening()
        refused = np.zeros(len(proba), dtype=bool)
        if screener is not None:
            refused[:] = [reason is not None for reason in screener.screen(X)]
            # not a powder pattern: no confidence in any answer to it
            confidence = np.where(refused, 0.0, confidence)
        return proba, confidence, refused

    def _unknown_label(self):
        label = self.unknown_label
        if isinstance(label, str) and label == "auto":
            if self.classes_.dtype.kind in "biuf":
                label = -1 if -1 not in self.classes_ else self.classes_.min() - 1
            else:
                label = "unknown"
        try:
            clash = bool(np.any(self.classes_ == label))
        except (TypeError, ValueError):  # labels of incomparable types
            clash = False
        if clash:
            raise ValueError(
                f"unknown_label={label!r} is one of the classes; choose another"
            )
        return label

    def predict_confidence(self, X):
        """Confidence of each prediction (compared with ``threshold``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns, one per row.

        Returns
        -------
        ndarray of shape (n_samples,)
            In [0, 1]; 0 for the inputs the screen refuses (see ``screen``).
        """
        return self._proba_confidence(X)[1]

    def predict(self, X):
        """The estimator's answer, or ``unknown_label`` where it is not confident
        or the input is not a powder pattern (see ``screen``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns, one per row.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``, or ``unknown_label``.
        """
        proba, confidence, refused = self._proba_confidence(X)
        labels = self.classes_[np.argmax(proba, axis=1)]
        unknown = self._unknown_label()
        out = _label_array(self.classes_, unknown, len(labels))
        out[:] = labels
        # refused by the screen at any threshold, 0 included
        out[(confidence < self.threshold) | refused] = unknown
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            inner = self.estimator.__sklearn_tags__()
        except AttributeError:
            return tags
        tags.input_tags = inner.input_tags
        tags.non_deterministic = inner.non_deterministic
        return tags
