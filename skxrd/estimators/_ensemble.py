"""A small ensemble of classifiers: their probabilities averaged, one temperature."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.validation import _num_samples, check_is_fitted, column_or_1d

from ._core import (
    average_probabilities,
    check_same_length,
    checked_ensemble_weights,
)
from ._mixins import _fit_temperature, _known_labels, _ProbabilisticMixin
from ._weights import (
    check_weightable,
    checked_sample_weight,
    known_weights,
    weighted_fit,
)

__all__ = ["EnsembleClassifier"]


class EnsembleClassifier(
    _ProbabilisticMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator
):
    """Classifiers of the same classes whose probabilities are averaged.

    Networks that differ in architecture or initialization make partly
    different mistakes; averaging their answers is the simplest ensemble
    ("small ensembles if they pay"). The members' probabilities (each with
    its own fitted temperature, if any) are averaged, geometrically by default
    (the mean of their log-probabilities, renormalized: a class any member
    rules out stays unlikely), and the average is tempered by one more
    temperature, ``temperature_``, that :meth:`calibrate_temperature` fits on
    held-out patterns. Use it as the network part of a
    :class:`MatchFirstClassifier` or an :class:`IndexingClassifier`; model
    files (:func:`skxrd.pretrained.save_model`) store ensembles of network
    classifiers.

    Parameters
    ----------
    estimators : list of classifiers
        The members, each with ``predict_proba`` and the same ``classes_``
        once fitted; cloned and fitted by :meth:`fit`.
    weights : array-like of shape (n_estimators,), optional
        The members' weights in the average (positive; normalized to sum to
        one). Equal by default.
    average : {"geometric", "arithmetic"}, default="geometric"
        How the probabilities are averaged: the weighted mean of their
        logarithms (renormalized), or of the probabilities themselves (sklearn's
        soft voting).

    Attributes
    ----------
    estimators_ : list of classifiers
        The fitted members.
    classes_ : ndarray
        Their classes.
    temperature_ : float
        The temperature of the average (1 until :meth:`calibrate_temperature`).
    n_features_in_ : int
        Number of features seen in ``fit`` (when the members record it).

    See Also
    --------
    sklearn.ensemble.VotingClassifier : soft voting, without a temperature.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from skxrd.estimators import EnsembleClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> y = (X[:, 0] + X[:, 1] + 0.5 * rng.normal(size=200) > 0).astype(int)
    >>> clf = EnsembleClassifier([LogisticRegression(), GaussianNB()])
    >>> clf = clf.fit(X[:150], y[:150])
    >>> float(clf.score(X[150:], y[150:]))
    0.92
    >>> clf = clf.calibrate_temperature(X[150:], y[150:])  # held-out patterns
    >>> round(clf.temperature_, 2)
    0.61
    """

    def __init__(self, estimators, *, weights=None, average="geometric"):
        self.estimators = estimators
        self.weights = weights
        self.average = average

    def _checked_weights(self, n):
        return checked_ensemble_weights(self.weights, n, self.average)

    def _members(self):
        members = list(self.estimators) if self.estimators is not None else []
        if not members:
            raise ValueError("estimators must hold at least one classifier")
        return members

    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit a clone of every member on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns (finite, >= 0, not all 0; None: all 1),
            given to every member's fit; each member's ``fit`` must take
            ``sample_weight`` (a :class:`~sklearn.pipeline.Pipeline`: its
            last step's), else a TypeError names it before any training. A
            :class:`~sklearn.frozen.FrozenEstimator` member learns nothing and
            gets none.
        **fit_params
            Passed to every member's ``fit``.

        Returns
        -------
        self : EnsembleClassifier
        """
        members = self._members()
        self._checked_weights(len(members))
        keywords = [None] * len(members)
        if sample_weight is not None:
            sample_weight = checked_sample_weight(sample_weight, _num_samples(X))
            keywords = [
                check_weightable(m, f"estimator {i}", "EnsembleClassifier.fit")
                for i, m in enumerate(members)
            ]
        fitted = [
            weighted_fit(clone(m), X, y, sample_weight, keyword, **fit_params)
            for m, keyword in zip(members, keywords)
        ]
        return self._wrap(fitted)

    @classmethod
    def from_fitted(cls, estimators, *, weights=None, average="geometric"):
        """An ensemble of already fitted classifiers, without training.

        Parameters
        ----------
        estimators : list of fitted classifiers
            With the same ``classes_``.
        weights : array-like of shape (n_estimators,), optional
        average : {"geometric", "arithmetic"}, default="geometric"

        Returns
        -------
        EnsembleClassifier
            Fitted; ``estimators_`` are the objects given.
        """
        self = cls(list(estimators), weights=weights, average=average)
        members = self._members()
        self._checked_weights(len(members))
        for m in members:
            check_is_fitted(m)
        return self._wrap(members)

    def _wrap(self, fitted):
        classes = np.asarray(fitted[0].classes_)
        for i, m in enumerate(fitted[1:], 1):
            if not np.array_equal(np.asarray(m.classes_), classes):
                raise ValueError(
                    f"estimator {i} has other classes than estimator 0: an "
                    "ensemble averages the same classes"
                )
        sizes = {getattr(m, "n_features_in_", None) for m in fitted} - {None}
        if len(sizes) > 1:
            raise ValueError(
                f"the estimators take different numbers of features: {sizes}"
            )
        self.estimators_ = fitted
        self.classes_ = classes
        self.temperature_ = 1.0
        if sizes:
            self.n_features_in_ = sizes.pop()
        return self

    def _member_probas(self, X):
        return [np.asarray(m.predict_proba(X), dtype=float) for m in self.estimators_]

    def predict_proba(self, X):
        """The members' averaged probabilities, tempered by ``temperature_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        w = self._checked_weights(len(self.estimators_))
        return average_probabilities(
            self._member_probas(X), w, self.average, self.temperature_
        )

    def predict_confidence(self, X):
        """The probability of each pattern's answer, in [0, 1].

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Threshold it (:class:`AbstainingClassifier`) to refuse unsure
            answers.
        """
        return self.predict_proba(X).max(axis=1)

    def calibrate_temperature(self, X, y, sample_weight=None):
        """Fit the temperature of the average on held-out patterns.

        The members keep their own temperatures; the average's log-loss on
        ``(X, y)`` is minimized over one more (Guo et al., ICML 2017), which
        leaves every ranking as it is.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels that are not among ``classes_`` are left out.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns in the log-loss (finite, >= 0, not all 0;
            None: all 1).

        Returns
        -------
        self : EnsembleClassifier
            With ``temperature_`` set.
        """
        check_is_fitted(self)
        y = column_or_1d(y, warn=True)
        check_same_length(X, y)
        sample_weight = checked_sample_weight(sample_weight, len(y))
        idx, known = _known_labels(self.classes_, y)
        weight = known_weights(sample_weight, known)
        X = X[known] if hasattr(X, "shape") else [x for x, k in zip(X, known) if k]
        w = self._checked_weights(len(self.estimators_))
        log_p = np.log(
            np.maximum(
                average_probabilities(self._member_probas(X), w, self.average), 1e-300
            )
        )
        self.temperature_ = _fit_temperature(log_p, idx[known], weight)
        return self

    def _logit_module(self):
        """A torch module whose logits' softmax is :meth:`predict_proba`, for
        attribution maps (:mod:`skxrd.inspection`): the members' tempered
        log-probabilities averaged as :meth:`predict_proba` averages them."""
        from ._core import network_logits

        check_is_fitted(self)
        modules, temperatures = [], []
        for i, m in enumerate(self.estimators_):
            module, temperature = network_logits(m, f"estimator {i}")
            modules.append(module)
            temperatures.append(temperature)
        from ._coarse import _AveragedLogits

        w = self._checked_weights(len(modules))
        return _AveragedLogits(
            modules, temperatures, w, self.average, self.temperature_
        )
