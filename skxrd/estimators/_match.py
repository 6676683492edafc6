"""Search-match: classes of the most similar reference patterns."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._validation import check_int, check_positive, check_real
from ._mixins import _fit_temperature, _known_labels, _ProbabilisticMixin

__all__ = ["PatternMatchClassifier"]


class PatternMatchClassifier(_ProbabilisticMixin, ClassifierMixin, BaseEstimator):
    """Search-match against reference patterns: the class of the most similar.

    What a diffractionist does with a phase database, as a scikit-learn
    classifier: ``fit`` stores reference patterns (simulated patterns of known
    structures, such as the AMCSD minerals of
    :func:`~skxrd.datasets.load_amcsd`) with their labels; a pattern gets the
    label of the reference it correlates with best. Patterns and references are
    smoothed with a Gaussian of ``smoothing`` points (which forgives small peak
    shifts and width differences between a measurement and a simulation),
    centred and scaled to unit length, so the similarity is the Pearson
    correlation of the smoothed patterns, between -1 and 1.

    ``predict_proba`` is a softmax over the classes of their best similarity
    divided by a temperature (``temperature``, or the one that
    :meth:`calibrate_temperature` fits). The similarity itself says whether a
    pattern is in the references at all: :meth:`kneighbors` gives the best
    matches and their similarities, so that a low best similarity can send the
    pattern to a model that generalizes (a network) instead.

    Parameters
    ----------
    smoothing : float, default=4.0
        Standard deviation of the Gaussian smoothing, in grid points (0: none).
    center : bool, default=True
        Subtract each pattern's mean before scaling (a correlation rather than
        a cosine similarity).
    temperature : float, default=0.02
        Softmax temperature of the similarities in ``predict_proba``, until
        :meth:`calibrate_temperature` fits one.
    batch_size : int, default=256
        Patterns compared with all references at once (memory:
        ``batch_size × n_references`` floats).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels of the references, sorted.
    references_ : ndarray of shape (n_references, n_features), float32
        The smoothed, centred unit-length references, sorted by class.
    reference_index_ : ndarray of shape (n_references,)
        Row of ``X`` in ``fit`` of each row of ``references_``.
    temperature_ : float
        Set by :meth:`calibrate_temperature`.
    n_features_in_ : int

    Examples
    --------
    >>> from skxrd.datasets import EXAMPLE_CRYSTALS, load_example_crystal
    >>> from skxrd.estimators import PatternMatchClassifier
    >>> from skxrd.simulation import PowderSimulator
    >>> names = list(EXAMPLE_CRYSTALS)
    >>> crystals = [load_example_crystal(name) for name in names]
    >>> library = PowderSimulator().transform(crystals)
    >>> measured = PowderSimulator(crystallite_size=40).transform(crystals[:3])
    >>> match = PatternMatchClassifier().fit(library, names)
    >>> match.predict(measured).tolist() == names[:3]
    True
    >>> similarity, index = match.kneighbors(measured, n_neighbors=1)
    >>> bool((similarity > 0.8).all()), index[:, 0].tolist()
    (True, [0, 1, 2])
    """

    def __init__(self, smoothing=4.0, center=True, temperature=0.02, batch_size=256):
        self.smoothing = smoothing
        self.center = center
        self.temperature = temperature
        self.batch_size = batch_size

    def _check_params(self):
        check_real(self.smoothing, "smoothing", minimum=0.0)
        if not isinstance(self.center, (bool, np.bool_)):
            raise ValueError(f"center must be True or False, got {self.center!r}")
        check_positive(self.temperature, "temperature")
        check_int(self.batch_size, "batch_size", minimum=1)

    def _unit(self, X):
        """Smoothed, centred, unit-length rows (float32); all-zero rows stay
        zero (similarity 0 to everything)."""
        X = np.asarray(X, dtype=np.float32)
        if self.smoothing > 0 and X.shape[1] > 1:
            from scipy.ndimage import gaussian_filter1d

            X = gaussian_filter1d(X, float(self.smoothing), axis=1, mode="nearest")
        # a row flat to float32 rounding (its norm after centring tiny against
        # its own scale) matches nothing, at any intensity scale
        scale = np.abs(X).max(axis=1, keepdims=True) * np.sqrt(X.shape[1])
        if self.center:
            X = X - X.mean(axis=1, keepdims=True)
        norm = np.linalg.norm(X, axis=1, keepdims=True)
        flat = (norm <= 1e-5 * scale) | (scale == 0)
        return np.divide(X, norm, out=np.zeros_like(X), where=~flat)

    def fit(self, X, y):
        """Store the references and their labels.

        Parameters
        ----------
        X : array-like of shape (n_references, n_features)
            Reference patterns on the grid that queries will have.
        y : array-like of shape (n_references,)
            Their labels.

        Returns
        -------
        self : PatternMatchClassifier
        """
        self._check_params()
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64])
        check_classification_targets(y)
        classes, encoded = np.unique(y, return_inverse=True)
        order = np.argsort(encoded, kind="stable")
        self.classes_ = classes
        self.references_ = self._unit(X[order])
        self.reference_index_ = order
        # where each class's references start, for the per-class maximum
        self._starts = np.searchsorted(encoded[order], np.arange(len(classes)))
        self.__dict__.pop("temperature_", None)
        return self

    def _similarities(self, X):
        """Yield (rows, similarities to every reference) batch by batch."""
        check_is_fitted(self)
        self._check_params()
        # validate_data refuses NaN and infinite values, naming X
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        for start in range(0, len(X), self.batch_size):
            rows = slice(start, start + self.batch_size)
            yield rows, self._unit(X[rows]) @ self.references_.T

    def class_similarities(self, X):
        """Best similarity of each pattern to the references of each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Correlations in [-1, 1], columns in the order of ``classes_``.
        """
        return np.concatenate(
            [
                np.maximum.reduceat(sim, self._starts, axis=1)
                for _, sim in self._similarities(X)
            ]
        )

    def kneighbors(self, X, n_neighbors=5):
        """The most similar references of each pattern, best first.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        n_neighbors : int, default=5

        Returns
        -------
        similarity : ndarray of shape (n_samples, n_neighbors)
        index : ndarray of shape (n_samples, n_neighbors)
            Rows of the ``X`` given to ``fit``.
        """
        k = min(check_int(n_neighbors, "n_neighbors", minimum=1), len(self.references_))
        sims, idx = [], []
        for _, sim in self._similarities(X):
            top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
            val = np.take_along_axis(sim, top, axis=1)
            order = np.argsort(-val, axis=1, kind="stable")
            sims.append(np.take_along_axis(val, order, axis=1))
            idx.append(self.reference_index_[np.take_along_axis(top, order, axis=1)])
        return np.concatenate(sims), np.concatenate(idx)

    def predict_proba(self, X):
        """Class probabilities: a softmax of the best similarity per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        z = self.class_similarities(X).astype(np.float64)
        z /= getattr(self, "temperature_", self.temperature)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def calibrate_temperature(self, X, y):
        """Fit the softmax temperature on labelled patterns (log-loss).

        Use patterns like those to be classified and unlike the references
        (simulated with other instrument settings, or variants of the
        structures), never the test data. Labels that are not in ``classes_``
        are left out.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : PatternMatchClassifier
        """
        check_is_fitted(self)
        y = np.asarray(y)
        idx, known = _known_labels(self.classes_, y)
        z = self.class_similarities(np.asarray(X)[known]).astype(np.float64)
        # searched around the ``temperature`` parameter (the fit's range is
        # e^±3 times the scale of the logits)
        scale = float(self.temperature)
        self.temperature_ = scale * _fit_temperature(z / scale, idx[known])
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
