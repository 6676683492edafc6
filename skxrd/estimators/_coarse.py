"""Coarser symmetry labels from a space-group classifier, consistently."""

from __future__ import annotations

from inspect import signature

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ..crystal._spacegroups import _COARSE_TARGETS as _TARGETS
from ._core import coarse_membership, network_logits, network_outputs
from ._mixins import _ProbabilisticMixin

__all__ = ["CoarseLabelClassifier"]


class CoarseLabelClassifier(
    _ProbabilisticMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator
):
    """A space-group classifier that answers crystal systems (or another coarser label).

    The wrapped classifier learns space-group numbers; the probability of a
    crystal system (Bravais lattice, point group...) is the sum of the
    probabilities of its space groups. So one network gives answers at every
    level that never contradict each other: the most probable crystal system
    is the one whose space groups together are most probable, and a calibrated
    space-group model gives calibrated crystal systems. The shipped
    ``"crystal-system"`` model is the ``"space-group"`` network wrapped this
    way.

    Parameters
    ----------
    estimator : classifier
        A classifier of space-group numbers (1–230) with ``predict_proba``,
        such as :class:`ResNetClassifier`; cloned and fitted by :meth:`fit`.
    target : {"crystal_system", "lattice_system", "bravais_lattice", \
"point_group", "laue_class"}, default="crystal_system"
        The coarser label (see :mod:`skxrd.crystal`'s ``to_*`` functions).

    Attributes
    ----------
    estimator_ : classifier
        The fitted space-group classifier.
    classes_ : ndarray of str
        The coarser labels of its space groups, sorted.
    n_features_in_ : int
        Number of features seen in ``fit`` (when the estimator records it).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skxrd.estimators import CoarseLabelClassifier
    >>> X = np.array([[0.0], [0.2], [1.0], [1.2], [3.0], [3.2]])
    >>> y = np.array([225, 225, 221, 221, 14, 14])    # space groups
    >>> clf = CoarseLabelClassifier(LogisticRegression()).fit(X, y)
    >>> clf.classes_.tolist()
    ['cubic', 'monoclinic']
    >>> clf.predict([[0.5], [3.1]]).tolist()
    ['cubic', 'monoclinic']
    >>> clf.predict_proba([[0.5]]).sum().round(6)
    np.float64(1.0)
    """

    def __init__(self, estimator, *, target="crystal_system"):
        self.estimator = estimator
        self.target = target

    def _mapping(self):
        from .. import crystal

        if self.target not in _TARGETS:
            raise ValueError(f"target must be one of {_TARGETS}, got {self.target!r}")
        return getattr(crystal, f"to_{self.target}")

    def fit(self, X, y, **fit_params):
        """Fit the space-group classifier on patterns ``X`` and space groups ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Space-group numbers.
        **fit_params : dict
            Passed to the estimator's ``fit`` (``sample_weight``...), as
            :class:`AbstainingClassifier` and :class:`EnsembleClassifier` do.

        Returns
        -------
        self : object
        """
        mapping = self._mapping()
        mapping(np.asarray(y))  # an error naming a bad space group, before training
        return self._wrap(clone(self.estimator).fit(X, y, **fit_params))

    @classmethod
    def from_fitted(cls, estimator, target="crystal_system"):
        """Wrap an already fitted space-group classifier without training it.

        Parameters
        ----------
        estimator : fitted classifier of space-group numbers
        target : str, default="crystal_system"

        Returns
        -------
        CoarseLabelClassifier
            Fitted; ``estimator_`` is ``estimator`` itself.
        """
        check_is_fitted(estimator)
        return cls(estimator, target=target)._wrap(estimator)

    def _wrap(self, fitted):
        self._mapping()  # an error naming a bad target
        self.estimator_ = fitted
        # (n_fine, n_coarse) 0/1: a space group's probability goes to its class
        self.classes_, self._membership = coarse_membership(
            np.asarray(fitted.classes_), self.target
        )
        if hasattr(fitted, "n_features_in_"):
            self.n_features_in_ = fitted.n_features_in_
        return self

    def predict_proba(self, X):
        """Probabilities of the coarser classes (sums over their space groups).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return np.asarray(self.estimator_.predict_proba(X), float) @ self._membership

    def score(self, X, y, sample_weight=None):
        """Accuracy of the coarser answers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Space groups, as :meth:`fit` takes them (numbers or symbols,
            mapped to the coarser labels here), or the coarser labels
            themselves.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        float
            The share of patterns whose coarser label is right, so that
            ``cross_val_score`` and ``GridSearchCV`` score this classifier on
            the labels it answers.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skxrd.estimators import CoarseLabelClassifier
        >>> X = np.array([[0.0], [0.2], [1.0], [1.2], [3.0], [3.2]])
        >>> y = np.array([225, 225, 221, 221, 14, 14])
        >>> clf = CoarseLabelClassifier(LogisticRegression()).fit(X, y)
        >>> float(clf.score(X, y)), float(clf.score(X, clf.predict(X)))
        (1.0, 1.0)
        """
        from sklearn.metrics import accuracy_score

        y = np.asarray(y)
        # the coarser labels themselves, else space groups in any form fit
        # takes (numbers or Hermann-Mauguin symbols, which had scored 0.0)
        if not np.isin(y, self.classes_).all():
            y = np.asarray(self._mapping()(y))
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)

    def _logit_module(self):
        """A torch module whose logits' softmax is :meth:`predict_proba`.

        For attribution maps (:mod:`skxrd.inspection`): the logit of a coarser
        class is the log-sum-exp of its space groups' (tempered) logits.
        """
        check_is_fitted(self)
        module, temperature = network_logits(self.estimator_)
        return _CoarseLogits(module, self._membership, temperature)

    def calibrate_temperature(self, X, y, sample_weight=None):
        """Calibrate the space-group classifier (``y``: space-group numbers).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Space groups, as the wrapped classifier takes them; the coarser
            labels (``classes_``) are refused with an error that says so.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns in the log-loss, given to the wrapped
            classifier's ``calibrate_temperature``, which must then take
            ``sample_weight`` (else a TypeError names it). None: all 1.

        Returns
        -------
        self : object
        """
        check_is_fitted(self)
        labels = np.asarray(y)
        # the coarser labels are this classifier's classes_, but not the
        # wrapped one's: the error was "no label of y is in classes_". (A
        # point group "1" is also space group 1: only labels that are no
        # space groups are refused.)
        if labels.size and np.isin(labels.astype(str), self.classes_).all():
            try:
                self._mapping()(labels)
            except ValueError:
                names = np.unique(labels.astype(str))
                shown = ", ".join(repr(v) for v in names[:3])
                raise ValueError(
                    f"calibrate_temperature: y holds {self.target} labels "
                    f"({shown}{', ...' if names.size > 3 else ''}); the "
                    "temperature is the space-group classifier's: give the "
                    "patterns' space groups"
                ) from None
        method = self.estimator_.calibrate_temperature
        if sample_weight is None:
            method(X, y)
        elif "sample_weight" not in signature(method).parameters:
            raise TypeError(
                "calibrate_temperature got sample_weight, but the estimator "
                f"({type(self.estimator_).__name__}) cannot take it: its "
                "calibrate_temperature has no sample_weight parameter"
            )
        else:
            method(X, y, sample_weight=sample_weight)
        return self


class _CoarseLogits(torch.nn.Module):
    """Coarse-class logits from a space-group network (log-sum-exp per class)."""

    def __init__(self, module, membership, temperature):
        super().__init__()
        self.module = module
        self.temperature = float(temperature)
        mask = torch.log(torch.as_tensor(membership, dtype=torch.float32))
        self.register_buffer("log_membership", mask)  # -inf off the class
        # a coarse class has a network output when one of its space groups has
        fine = network_outputs(module, np.shape(membership)[0])
        self.has_output = (np.asarray(membership)[fine] > 0).any(axis=0)

    def forward(self, x):
        out = self.module(x)
        if isinstance(out, tuple):  # (logits, confidence) of a confidence head
            out = out[0]
        z = out / self.temperature
        mask = self.log_membership.to(z.device, z.dtype)
        return torch.logsumexp(z[:, :, None] + mask[None], dim=1)


def _scattered_logits(estimator, columns, n_classes):
    """A network classifier's tempered logits placed in ``columns`` of
    ``n_classes`` (the others far below: never the answer)."""
    module, temperature = network_logits(estimator)
    return _ScatteredLogits(module, columns, n_classes, temperature)


class _ScatteredLogits(torch.nn.Module):
    """A network's tempered logits in ``columns`` of ``n_classes``, the other
    columns -1e4; ``has_output`` records which columns hold the network's
    (for attribution maps: the others have none to explain)."""

    def __init__(self, module, columns, n_classes, temperature):
        super().__init__()
        self.module = module
        self.temperature = float(temperature)
        self.n_classes = int(n_classes)
        columns = np.asarray(columns)
        self.register_buffer("columns", torch.as_tensor(columns).long())
        self.has_output = np.zeros(self.n_classes, dtype=bool)
        # the wrapped module may itself hold constant columns
        self.has_output[columns] = network_outputs(module, len(columns))

    def forward(self, x):
        out = self.module(x)
        if isinstance(out, tuple):
            out = out[0]
        z = out / self.temperature
        full = torch.full(
            (z.shape[0], self.n_classes), -1e4, dtype=z.dtype, device=z.device
        )
        return full.index_copy(1, self.columns.to(z.device), z)


class _AveragedLogits(torch.nn.Module):
    """:meth:`EnsembleClassifier._logit_module`: the members' tempered
    log-probabilities, averaged (geometric: their weighted mean; arithmetic:
    the log of the weighted mean of the probabilities), over the ensemble's
    temperature."""

    def __init__(self, modules, temperatures, weights, average, temperature):
        super().__init__()
        self.members = torch.nn.ModuleList(modules)
        self.temperatures = [float(t) for t in temperatures]
        self.weights = [float(w) for w in weights]
        self.average = average
        self.temperature = float(temperature)
        # a class has a network output when some member's network outputs it
        # (the members share the classes; without records, every class has)
        masks = [getattr(m, "has_output", None) for m in self.members]
        n_classes = next((len(m) for m in masks if m is not None), None)
        if n_classes is not None:
            self.has_output = np.logical_or.reduce(
                [network_outputs(m, n_classes) for m in self.members]
            )

    def forward(self, x):
        logs = []
        for module, t in zip(self.members, self.temperatures):
            out = module(x)
            if isinstance(out, tuple):  # (logits, confidence) of a head
                out = out[0]
            logs.append(torch.log_softmax(out.float() / t, dim=1))
        if self.average == "geometric":
            z = sum(w * lp for w, lp in zip(self.weights, logs))
        else:
            z = torch.logsumexp(
                torch.stack([lp + np.log(w) for w, lp in zip(self.weights, logs)]), 0
            )
        return z / self.temperature
