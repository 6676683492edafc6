"""Sample weights of the meta-estimators: checked once, handed to inner fits.

The meta-estimators (:class:`UnionClassifier`, :class:`EnsembleClassifier`,
:class:`MatchFirstClassifier`, :class:`SymmetryWeightedClassifier`) give each
inner estimator the weights of the rows it learns from. Here: the one check of
the weights and the one way to find the keyword of an inner ``fit`` that takes
them, so that an inner estimator without one is named in a clear error rather
than dropping the weights or failing with Python's generic TypeError.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

__all__ = [
    "check_weightable",
    "checked_rows_weight",
    "checked_sample_weight",
    "known_weights",
    "weight_keyword",
    "weighted_fit",
]


def checked_sample_weight(sample_weight, n_samples: int, where: str = "X"):
    """``sample_weight`` as a new float64 array of shape ``(n_samples,)``, or
    None.

    The one check of the weights of every skxrd estimator that takes them
    (the network classifiers and the meta-estimators). A single number is
    every sample's weight (as in scikit-learn); a pandas Series or a torch
    tensor (on any device) is read as its values. One ValueError naming
    ``sample_weight`` and what is wrong: not numbers, not one weight per
    sample (``where`` names what holds the samples: ``"X"``, ``"the pattern
    store"``), NaN or infinite values, negative values, or all zero (no sample
    would count).
    """
    from ..utils._torch import host_array

    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number) and not isinstance(
        sample_weight, bool
    ):
        sample_weight = np.full(n_samples, sample_weight)
    values = getattr(sample_weight, "to_numpy", None)  # a pandas Series
    try:
        w = np.array(
            host_array(values() if values else sample_weight), dtype=np.float64
        )
    except (TypeError, ValueError):
        raise ValueError(
            "sample_weight must hold numbers, one per sample; got "
            f"{type(sample_weight).__name__}"
        ) from None
    if w.ndim != 1:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per sample "
            f"(1D); got an array of shape {w.shape}"
        )
    if len(w) != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per "
            f"sample; got {len(w)} weights but {where} has {n_samples} samples"
        )
    bad = np.flatnonzero(~np.isfinite(w))
    if bad.size:
        raise ValueError(
            f"sample_weight must be finite; found {bad.size} NaN or infinite "
            f"value(s), the first at index {bad[0]}"
        )
    negative = np.flatnonzero(w < 0)
    if negative.size:
        raise ValueError(
            f"sample_weight must be >= 0; found {w[negative[0]]!r} at index "
            f"{negative[0]} ({negative.size} negative)"
        )
    if not w.sum() > 0:
        raise ValueError("sample_weight is all zero: no sample would count")
    return w


def _routing_enabled() -> bool:
    from sklearn import get_config

    return bool(get_config().get("enable_metadata_routing", False))


def weight_keyword(estimator):
    """The keyword of ``estimator.fit`` that takes the sample weights.

    ``"sample_weight"`` when its ``fit`` has that parameter; for a
    :class:`~sklearn.pipeline.Pipeline` its last step's, as
    ``"<step>__sample_weight"`` (the Pipeline routes it there; with
    scikit-learn's metadata routing enabled, plain ``"sample_weight"``, routed
    to the steps that request it); for a wrapper that forwards its fit
    parameters to an ``estimator`` (:class:`AbstainingClassifier`,
    :class:`CoarseLabelClassifier`), the wrapped estimator's. ``""`` for a
    :class:`~sklearn.frozen.FrozenEstimator`, whose ``fit`` learns nothing
    (nothing to weight). None when the weights cannot reach a fit.
    """
    from sklearn.frozen import FrozenEstimator
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import has_fit_parameter

    if isinstance(estimator, FrozenEstimator):
        return ""
    if has_fit_parameter(estimator, "sample_weight"):
        return "sample_weight"
    if isinstance(estimator, Pipeline):
        if _routing_enabled():
            return "sample_weight"
        name, last = estimator.steps[-1]
        if last is None or (isinstance(last, str) and last == "passthrough"):
            return None
        inner = weight_keyword(last)
        return f"{name}__{inner}" if inner else inner
    fit = getattr(estimator, "fit", None)
    inner = getattr(estimator, "estimator", None)
    if fit is not None and inner is not None and hasattr(inner, "fit"):
        kinds = [p.kind for p in inspect.signature(fit).parameters.values()]
        if inspect.Parameter.VAR_KEYWORD in kinds:
            return weight_keyword(inner)
    return None


def check_weightable(estimator, what: str, owner: str) -> str:
    """:func:`weight_keyword`, or a TypeError naming ``what`` (the inner
    estimator's role) and ``owner`` (the meta-estimator's method, such as
    ``"UnionClassifier.fit"``) when it has none."""
    keyword = weight_keyword(estimator)
    if keyword is None:
        raise TypeError(
            f"{owner} got sample_weight, but {what} "
            f"({type(estimator).__name__}) cannot take it: its fit has no "
            "sample_weight parameter. Use an estimator whose fit takes "
            "sample_weight, or fit without sample_weight"
        )
    return keyword


def weighted_fit(estimator, X, y, sample_weight, keyword, **fit_params):
    """``estimator.fit(X, y, **fit_params)`` with ``sample_weight`` under
    ``keyword`` (from :func:`check_weightable`); without it when the weights
    are None or the keyword is ``""`` (a frozen estimator)."""
    if sample_weight is not None and keyword:
        fit_params[keyword] = sample_weight
    return estimator.fit(X, y, **fit_params)


def checked_rows_weight(sample_weight, rows, message):
    """``sample_weight[rows]``; a ValueError with ``message`` when those rows
    all weigh 0 (their fit would learn from nothing)."""
    if sample_weight is None:
        return None
    w = sample_weight[rows]
    if not w.sum() > 0:
        raise ValueError(message)
    return w


def known_weights(sample_weight, known):
    """The weights of the patterns of known labels for a temperature fit
    (``sample_weight`` checked, or None); a ValueError when they all weigh 0."""
    if sample_weight is None:
        return None
    return checked_rows_weight(
        sample_weight,
        known,
        "calibrate_temperature: sample_weight is 0 for every pattern whose label "
        "is in classes_",
    )
