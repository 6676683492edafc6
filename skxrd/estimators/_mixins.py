"""Methods shared by every skxrd classifier that has ``predict_proba``."""

from __future__ import annotations

import numpy as np

from ..utils._validation import check_int

__all__ = ["_ProbabilisticMixin", "_confidence_source", "_proba_and_confidence"]


def _known_labels(classes, y):
    """Indices into ``classes`` of the labels of ``y`` and which are known.

    For temperature scaling, which leaves out labels the model does not have
    (and needs at least one it has).
    """
    idx = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
    known = classes[idx] == y
    if not known.any():
        raise ValueError("calibrate_temperature: no label of y is in classes_")
    return idx, known


def _fit_temperature(logits, target, sample_weight=None) -> float:
    """The temperature T minimizing the log-loss of ``softmax(logits / T)``.

    ``logits`` (n, n_classes) are any scores a softmax turns into
    probabilities (log-probabilities too); ``target`` the class indices;
    ``sample_weight`` (checked, with a positive sum, or None) weighs each
    row's log-loss.
    Guo et al., ICML 2017; T is searched in [e^-3, e^3].
    """
    from scipy.optimize import minimize_scalar

    z0 = np.asarray(logits, dtype=np.float64)
    rows = np.arange(len(target))

    def loss(log_t):
        z = z0 / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        log_q = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        # without weights np.average is the plain mean: the same temperatures
        return -float(np.average(log_q[rows, target], weights=sample_weight))

    best = minimize_scalar(loss, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(best.x))


def _confidence_source(estimator):
    """The classifier whose ``predict_confidence`` answers for ``estimator``.

    ``(estimator, None)`` when it has the method itself; for a scikit-learn
    :class:`~sklearn.pipeline.Pipeline` whose last step has it (a plain
    Pipeline forwards only the methods it knows), ``(last step, transform of
    the steps before it)``, also inside a
    :class:`~sklearn.frozen.FrozenEstimator`; None when none has one.
    """
    if hasattr(estimator, "predict_confidence"):
        return estimator, None
    from sklearn.frozen import FrozenEstimator
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, FrozenEstimator):  # it forwards what it wraps
        return _confidence_source(estimator.estimator)
    if isinstance(estimator, Pipeline):
        final = estimator._final_estimator
        if final != "passthrough" and hasattr(final, "predict_confidence"):
            if len(estimator.steps) == 1:  # no step before it to transform X
                return final, None
            return final, estimator[:-1].transform
    return None


def _proba_and_confidence(estimator, X, *, own_confidence=True):
    """``(predict_proba(X), confidence)`` of any fitted classifier, as floats.

    The confidence is the estimator's ``predict_confidence`` when
    ``own_confidence`` and it has one (in the same forward pass for skxrd
    networks; a Pipeline's last step's, see :func:`_confidence_source`), else
    the highest class probability.
    """
    source = _confidence_source(estimator) if own_confidence else None
    if source is not None and source[0] is not estimator:
        # the steps before transform X once, for the probabilities and the
        # confidence alike (what the Pipeline's predict_proba would do)
        step, prepare = source
        estimator, X = step, X if prepare is None else prepare(X)
    if own_confidence and hasattr(estimator, "_predict_proba_confidence"):
        proba, confidence = estimator._predict_proba_confidence(X)
    else:
        proba = np.asarray(estimator.predict_proba(X))
        confidence = (
            estimator.predict_confidence(X)
            if own_confidence and hasattr(estimator, "predict_confidence")
            else proba.max(axis=1)
        )
    return np.asarray(proba, dtype=float), np.asarray(confidence, dtype=float)


class _ProbabilisticMixin:
    """``predict``, ``predict_log_proba`` and ``predict_top_k`` from ``predict_proba``.

    The class defines ``predict_proba`` (columns in the order of
    ``classes_``).
    """

    def predict(self, X):
        """Most probable class of each pattern.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns, one per row.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities of patterns ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns, one per row.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict_top_k(self, X, k=5):
        """The ``k`` most probable classes of each pattern, most probable first.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns, one per row.
        k : int, default=5
            Number of classes per pattern; at most ``len(classes_)`` are
            returned.

        Returns
        -------
        labels : ndarray of shape (n_samples, min(k, n_classes))
            Labels from ``classes_``, by decreasing probability (ties in the
            order of ``classes_``).
        probabilities : ndarray of shape (n_samples, min(k, n_classes))
            Their probabilities.
        """
        from ._core import top_k

        k = check_int(k, "k", minimum=1)
        return top_k(self.predict_proba(X), self.classes_, k)
