"""Classes with a known space group, weighed by a space-group classifier."""

from __future__ import annotations

import numbers
from inspect import signature

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils import _safe_indexing
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_X_y

from ..utils._validation import plain_scalar
from ._core import (
    check_label_types,
    check_same_length,
    checked_space_groups,
    fit_symmetry_weight,
    network_logits,
    network_outputs,
    symmetry_columns,
    symmetry_log_ratio,
    symmetry_weighted,
)
from ._mixins import _known_labels, _ProbabilisticMixin
from ._weights import (
    check_weightable,
    checked_rows_weight,
    checked_sample_weight,
    known_weights,
    weighted_fit,
)

__all__ = ["SymmetryWeightedClassifier"]


def _library_groups(classes):
    """The space group of each class that names a type of skxrd's
    structure-type library, 0 for the others."""
    from ..datasets import STRUCTURE_TYPES, load_structure_type

    return np.array(
        [
            load_structure_type(str(c)).space_group if str(c) in STRUCTURE_TYPES else 0
            for c in classes
        ],
        dtype=int,
    )


class SymmetryWeightedClassifier(
    _ProbabilisticMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator
):
    """A classifier whose classes each have a space group, weighed by a
    space-group classifier.

    A structure type, a mineral or a phase has one space group; a space-group
    classifier trained on many more compounds says which space groups a
    pattern's symmetry allows. The probability of each class of
    ``estimator`` is multiplied by the space-group classifier's probability
    of the class's space group over that group's share among the classes, to
    the power ``weight``, and renormalized (a product of experts)::

        p(c) ∝ p_estimator(c) · (p_symmetry(g_c) / share(g_c)) ** weight

    So a fluorite (Fm-3m) pattern that the structure-type union confuses with
    anatase (I4₁/amd) gets its cubic types back; types that share a space
    group stay as the classifier ranks them. A space group the symmetry
    classifier gives less than 1e-4 counts as 1e-4 (no class is ruled out by
    it alone); a class without a known space group keeps its share. The
    shipped ``"structure-type"`` model is the structure-type union weighed by
    the shipped ``"space-group"`` model this way.

    Parameters
    ----------
    estimator : classifier
        Any classifier with ``predict_proba``; cloned and fitted by
        :meth:`fit`.
    symmetry_estimator : classifier
        A classifier of space-group numbers (1–230) with ``predict_proba``,
        reading the same inputs; cloned and fitted by :meth:`fit` on the
        space groups of the labels.
    class_space_groups : dict, optional
        ``{label: space-group number}``. By default the labels that name a
        type of skxrd's structure-type library
        (:data:`~skxrd.datasets.STRUCTURE_TYPES`) get its space group; given,
        it adds to and overrides those.
    weight : float, default=1.0
        The exponent of the symmetry classifier's evidence, until
        :meth:`calibrate_weight` fits one (0: ``estimator`` alone).

    Attributes
    ----------
    estimator_ : classifier
        The fitted classifier.
    symmetry_estimator_ : classifier
        The fitted space-group classifier.
    classes_ : ndarray
        ``estimator_.classes_``.
    class_space_groups_ : ndarray of int
        The space group of each class, 0 where none is known.
    weight_ : float
        The weight in use (``weight``, or the one :meth:`calibrate_weight`
        fitted).
    n_features_in_ : int
        When the estimator records it.
    feature_names_in_ : ndarray of str
        Column names of a DataFrame ``X`` given to ``fit`` (when the estimator
        records them).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skxrd.estimators import SymmetryWeightedClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["rocksalt", "fluorite", "rutile"], 20)
    >>> X = rng.normal(size=(60, 3)) + np.repeat(np.eye(3), 20, axis=0) * 2
    >>> clf = SymmetryWeightedClassifier(LogisticRegression(),
    ...                                  LogisticRegression()).fit(X, y)
    >>> clf.class_space_groups_.tolist()   # from skxrd's structure-type library
    [225, 225, 136]
    >>> clf.predict_proba(X[:1]).sum().round(6)
    np.float64(1.0)
    """

    def __init__(
        self, estimator, symmetry_estimator, *, class_space_groups=None, weight=1.0
    ):
        self.estimator = estimator
        self.symmetry_estimator = symmetry_estimator
        self.class_space_groups = class_space_groups
        self.weight = weight

    def _groups_of(self, classes, added=None):
        groups = _library_groups(classes)
        given = {}
        if self.class_space_groups is not None:
            given = checked_space_groups(self.class_space_groups, "class_space_groups")
        given.update(added or {})
        if given:
            for i, c in enumerate(classes):
                key = c.item() if isinstance(c, np.generic) else c
                if key in given:
                    groups[i] = given[key]
        if not (groups > 0).any():
            raise ValueError(
                "no class has a known space group: give class_space_groups "
                "(labels that name skxrd's structure types get theirs)"
            )
        return groups

    @staticmethod
    def _check_weight(value):
        # numbers only: float() took True (1.0) and the string "1"
        if (
            isinstance(value, bool | np.bool_)
            or not isinstance(value, numbers.Real)
            or not (np.isfinite(value) and value >= 0)
        ):
            raise ValueError(f"weight must be a number >= 0, got {value!r}")
        return float(value)

    def fit(self, X, y, sample_weight=None):
        """Fit the classifier on ``y`` and the space-group classifier on the
        space groups of ``y`` (the patterns of classes with a known one).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns (finite, >= 0, not all 0; None: all 1):
            the classifier's fit gets them all, the space-group classifier's
            those of the patterns it learns from (classes with a known space
            group). Both ``fit`` must take ``sample_weight`` (a
            :class:`~sklearn.pipeline.Pipeline`: its last step's), else a
            TypeError names the one that does not, before any training.

        Returns
        -------
        self : object
        """
        self._check_weight(self.weight)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, "
                "but the target y is None"
            )
        checked, y = check_X_y(X, y, dtype=None)
        # a DataFrame stays one, so that the estimators record its column
        # names and check them at predict time (the array lost them: columns
        # in another order were answered without a word)
        X = X if hasattr(X, "iloc") else checked
        check_label_types(y)
        check_classification_targets(y)
        sample_weight = checked_sample_weight(sample_weight, len(y))
        classes = np.unique(y)
        groups = self._groups_of(classes)
        per_pattern = groups[np.searchsorted(classes, y)]
        rows = per_pattern > 0
        keys = (None, None)
        if sample_weight is not None:
            owner = f"{type(self).__name__}.fit"
            keys = (
                check_weightable(self.estimator, "estimator", owner),
                check_weightable(self.symmetry_estimator, "symmetry_estimator", owner),
            )
        symmetry_weight = checked_rows_weight(
            sample_weight,
            rows,
            "sample_weight is 0 for every pattern of a class with a known space "
            "group: the space-group classifier would learn from nothing",
        )
        estimator = weighted_fit(clone(self.estimator), X, y, sample_weight, keys[0])
        symmetry = weighted_fit(
            clone(self.symmetry_estimator),
            _safe_indexing(X, np.flatnonzero(rows)),
            per_pattern[rows],
            symmetry_weight,
            keys[1],
        )
        return self._wrap(estimator, symmetry)

    @classmethod
    def from_fitted(
        cls, estimator, symmetry_estimator, *, class_space_groups=None, weight=1.0
    ):
        """Combine two already fitted classifiers without training them.

        Parameters
        ----------
        estimator : fitted classifier
        symmetry_estimator : fitted classifier of space-group numbers
        class_space_groups : dict, optional
        weight : float, default=1.0

        Returns
        -------
        SymmetryWeightedClassifier
            Fitted; ``estimator_`` and ``symmetry_estimator_`` are the two
            classifiers themselves.
        """
        check_is_fitted(estimator)
        check_is_fitted(symmetry_estimator)
        out = cls(
            estimator,
            symmetry_estimator,
            class_space_groups=class_space_groups,
            weight=weight,
        )
        return out._wrap(estimator, symmetry_estimator)

    def _wrap(self, estimator, symmetry):
        self.weight_ = self._check_weight(self.weight)
        self.estimator_ = estimator
        self.symmetry_estimator_ = symmetry
        self._update_columns()
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(estimator, name):
                setattr(self, name, getattr(estimator, name))
        return self

    def _update_columns(self):
        self.classes_ = np.asarray(self.estimator_.classes_)
        self.class_space_groups_ = self._groups_of(
            self.classes_, getattr(self, "_added_groups", None)
        )
        self._columns, self._log_prior = symmetry_columns(
            self.class_space_groups_, self.symmetry_estimator_.classes_
        )

    def _both(self, X):
        return (
            self.estimator_.predict_proba(X),
            self.symmetry_estimator_.predict_proba(X),
        )

    def predict_proba(self, X):
        """Class probabilities, weighed by the space groups' probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        proba, symmetry = self._both(X)
        return symmetry_weighted(
            proba, symmetry, self._columns, self._log_prior, self.weight_
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
        """Calibrate on held-out patterns: the classifier's own temperature
        (its ``calibrate_temperature``, where it has one), then ``weight_``
        (:meth:`calibrate_weight`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns that neither classifier was fitted on.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns in the log-losses (finite, >= 0, not all
            0; None: all 1), given to the classifier's
            ``calibrate_temperature`` too, which must then take
            ``sample_weight`` (else a TypeError names it, before anything is
            calibrated).

        Returns
        -------
        self : object
        """
        check_is_fitted(self)
        extra = {}
        if sample_weight is not None:
            y = np.asarray(y)
            check_same_length(X, y, "calibrate_temperature: ")
            sample_weight = checked_sample_weight(sample_weight, len(y))
            # refused before the classifier's temperature changes
            known_weights(sample_weight, _known_labels(self.classes_, y)[1])
            extra = {"sample_weight": sample_weight}
        if hasattr(self.estimator_, "calibrate_temperature"):
            method = self.estimator_.calibrate_temperature
            if extra and "sample_weight" not in signature(method).parameters:
                raise TypeError(
                    "calibrate_temperature got sample_weight, but the estimator "
                    f"({type(self.estimator_).__name__}) cannot take it: its "
                    "calibrate_temperature has no sample_weight parameter"
                )
            method(X, y, **extra)
        return self.calibrate_weight(X, y, sample_weight)

    def calibrate_weight(self, X, y, sample_weight=None):
        """Fit ``weight_``: the exponent of least log-loss on held-out ``(X, y)``.

        Searched in [0, 4]; 0 (the classifier alone) where no weight lowers
        the log-loss. Labels not in ``classes_`` are left out.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns that neither classifier was fitted on.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns in the log-loss (finite, >= 0, not all 0;
            None: all 1).

        Returns
        -------
        self : object
        """
        check_is_fitted(self)
        y = np.asarray(y)
        check_same_length(X, y, "calibrate_weight: ")
        sample_weight = checked_sample_weight(sample_weight, len(y))
        idx, known = _known_labels(self.classes_, y)
        weight = known_weights(sample_weight, known)
        proba, symmetry = self._both(X)
        self.weight_ = fit_symmetry_weight(
            proba[known],
            symmetry[known],
            self._columns,
            self._log_prior,
            idx[known],
            sample_weight=weight,
        )
        return self

    def _logit_module(self):
        """The classifier's logits plus the weighted log-ratios of the space
        groups, as a torch module (for attribution maps,
        :mod:`skxrd.inspection`): its softmax is :meth:`predict_proba`. The
        space-group classifier's answer is computed from the same input but
        held fixed (no gradient reaches a search-match or an indexing), so a
        map shows what drove the classifier itself."""
        check_is_fitted(self)
        module, temperature = network_logits(self.estimator_)
        return _SymmetryLogits(module, self, temperature)

    def add_classes(
        self, X, y, class_subsets=None, *, space_groups=None, sample_weight=None
    ):
        """Teach the classifier new classes (its own ``add_classes``, such as
        :meth:`UnionClassifier.add_classes`), with their space groups.

        Parameters
        ----------
        X, y, class_subsets
            As the classifier's ``add_classes``.
        space_groups : dict, optional
            ``{new label: space-group number}``; a new class without one keeps
            its share of the probabilities (no symmetry evidence).
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the classifier's ``add_classes`` (such as
            :meth:`UnionClassifier.add_classes`); the space-group classifier
            is not refitted.

        Returns
        -------
        self : object

        Raises
        ------
        ValueError
            If a key of ``space_groups`` is not a new label of ``y`` (a typo
            would leave its class without symmetry evidence), or a number is
            not 1-230; nothing is learned then.
        """
        check_is_fitted(self)
        if not hasattr(self.estimator_, "add_classes"):
            raise TypeError(
                f"{type(self.estimator_).__name__} cannot learn new classes "
                "(it has no add_classes)"
            )
        added = dict(getattr(self, "_added_groups", None) or {})
        if space_groups is not None:
            given = checked_space_groups(space_groups, "space_groups")
            known = set(np.asarray(self.classes_).tolist())
            new = [c for c in np.unique(np.asarray(y)).tolist() if c not in known]
            unknown = [plain_scalar(key) for key in given if key not in new]
            if unknown:
                raise ValueError(
                    f"space_groups: {unknown} are not new labels of y; the new "
                    f"labels are {new}"
                )
            added.update(given)
        if sample_weight is None:
            self.estimator_.add_classes(X, y, class_subsets)
        elif "sample_weight" not in signature(self.estimator_.add_classes).parameters:
            raise TypeError(
                f"add_classes got sample_weight, but the estimator "
                f"({type(self.estimator_).__name__}) cannot take it: its "
                "add_classes has no sample_weight parameter"
            )
        else:
            self.estimator_.add_classes(
                X, y, class_subsets, sample_weight=sample_weight
            )
        self._added_groups = added
        self._update_columns()
        return self


class _SymmetryLogits(torch.nn.Module):
    """:meth:`SymmetryWeightedClassifier._logit_module`."""

    def __init__(self, module, clf, temperature=1.0):
        super().__init__()
        self.inner = module
        self._clf = clf  # a plain attribute: its network is ``inner``
        self.temperature = float(temperature)
        # the weights shift the classifier's logits: its record holds
        self.has_output = network_outputs(module, len(clf.classes_))

    def forward(self, x):
        clf = self._clf
        out = self.inner(x)
        if isinstance(out, tuple):  # (logits, confidence) of a confidence head
            out = out[0]
        flat = x.detach().reshape(len(x), -1).cpu().numpy().astype(np.float32)
        ratio = symmetry_log_ratio(
            clf.symmetry_estimator_.predict_proba(flat), clf._columns, clf._log_prior
        )
        shift = torch.as_tensor(clf.weight_ * ratio, dtype=x.dtype, device=x.device)
        return out / self.temperature + shift
