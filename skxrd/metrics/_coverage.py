"""Selective classification: accuracy against the fraction of patterns answered."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_array, column_or_1d

from ..utils._torch import host_array
from ..utils._validation import check_real

__all__ = ["accuracy_at_coverage", "accuracy_coverage_curve"]

# Slack when comparing a requested coverage with a cumulative-sum coverage, so
# that 0.3 is reached by 3 of 10 samples even if the weights sum to 0.2999...
_COVERAGE_RTOL = 1e-12


def _check_1d(values, name: str, *, numeric: bool = False) -> np.ndarray:
    """A non-empty 1-D array (a column vector is flattened); finite if numeric."""
    values = host_array(values)
    try:
        if numeric:
            arr = check_array(
                values,
                ensure_2d=False,
                allow_nd=True,
                dtype=np.float64,
                ensure_all_finite=False,
                ensure_min_samples=0,
                input_name=name,
            )
        else:
            arr = np.asarray(values)
    except (TypeError, ValueError) as exc:
        what = "numbers" if numeric else "labels"
        raise ValueError(f"{name} must be a 1-D array of {what}: {exc}") from None
    if not (arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1)):
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    arr = column_or_1d(arr)
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if numeric:
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ValueError(
                f"{name} must be finite; found {bad.size} NaN or infinite "
                f"value(s), the first at index {bad[0]}"
            )
    else:
        # NaN != NaN: a NaN label would never match, not even itself, and
        # every sample holding one would silently count as wrong.
        if arr.dtype.kind == "f":
            bad = np.flatnonzero(np.isnan(arr))
        elif arr.dtype.kind == "O":
            bad = np.flatnonzero(
                [isinstance(v, numbers.Real) and v != v for v in arr.tolist()]
            )
        else:
            bad = ()
        if len(bad):
            raise ValueError(
                f"{name} must not hold NaN labels; found {len(bad)}, the first at "
                f"index {bad[0]}"
            )
    return arr


def _check_same_length(**arrays) -> int:
    """The common length of named arrays; a ValueError naming them otherwise."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        got = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(
            f"{' and '.join(lengths)} must have the same length, got {got}"
        )
    return next(iter(lengths.values()))


def _check_sample_weight(sample_weight, n: int) -> np.ndarray:
    """Non-negative finite weights with a positive sum (ones when None)."""
    if sample_weight is None:
        return np.ones(n)
    w = _check_1d(sample_weight, "sample_weight", numeric=True)
    if np.any(w < 0):
        raise ValueError(
            f"sample_weight must be non-negative, found {w.min()!r} at index "
            f"{int(np.argmin(w))}"
        )
    if not w.sum() > 0:
        raise ValueError("sample_weight must not be all zero")
    return w


def _element_kind(value) -> str | None:
    if isinstance(value, str):  # np.str_ is a str
        return "strings"
    if isinstance(value, numbers.Number):
        return "numbers"
    return None


def _label_kind(y: np.ndarray) -> str | None:
    """The kind of all labels of ``y``: "numbers", "strings", or None if mixed."""
    if y.dtype.kind in "biuf":
        return "numbers"
    if y.dtype.kind in "US":
        return "strings"
    if y.dtype.kind != "O":
        return None
    # Object arrays (a pandas column of strings, say) are judged by their
    # elements; a mix of both kinds (ints and an "unknown" answer) gives None.
    kinds = {_element_kind(v) for v in y.tolist()}
    return kinds.pop() if len(kinds) == 1 else None


def _matches(y_true: np.ndarray, y_pred: np.ndarray, pred_name: str) -> np.ndarray:
    """Elementwise ``y_true == y_pred`` as a bool array, for any label types."""
    kinds = _label_kind(y_true), _label_kind(y_pred)
    # int labels against str labels would silently score every sample wrong.
    if None not in kinds and kinds[0] != kinds[1]:
        raise ValueError(
            f"y_true holds {kinds[0]} but {pred_name} holds {kinds[1]}: no label "
            "could ever match; convert both to the same type"
        )
    eq = np.asarray(y_true == y_pred)
    if eq.shape != y_true.shape or eq.dtype != bool:
        # Object elements whose == is not a plain bool (arrays, say).
        eq = np.fromiter(
            (bool(a == b) for a, b in zip(y_true.tolist(), y_pred.tolist())),
            dtype=bool,
            count=len(y_true),
        )
    return eq


def accuracy_coverage_curve(
    y_true, y_pred, confidence, *, sample_weight=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accuracy on the most confident predictions against the fraction kept.

    A selective classifier answers only the patterns whose confidence reaches a
    threshold and abstains on the rest. For each distinct confidence value
    ``t``, from the highest down, the samples with ``confidence >= t`` are
    kept: *coverage* is the fraction kept and *accuracy* the accuracy on them.
    Tied confidences are kept or dropped together.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels. Labels that never occur in ``y_true`` (an
        ``"unknown"`` answer, say) simply count as wrong.
    confidence : array-like of shape (n_samples,)
        Confidence of each prediction; higher means more confident. Any finite
        score works (only the order matters), not only values in [0, 1].
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; coverage and accuracy are then weighted
        fractions. Thresholds at which only zero-weight samples are kept
        (coverage 0) are left out.

    Returns
    -------
    coverage : ndarray of shape (n_thresholds,)
        Fraction of the samples kept at each threshold: non-decreasing
        (increasing without zero weights) and ending at exactly 1.0.
    accuracy : ndarray of shape (n_thresholds,)
        Accuracy on the kept samples. The last value is the accuracy on all
        samples.
    thresholds : ndarray of shape (n_thresholds,)
        The distinct confidence values, decreasing.

    Raises
    ------
    ValueError
        If an input is empty, not 1-D, of a different length than the others,
        or has NaN or infinite confidences or weights; if a weight is negative
        or all are zero; if ``y_true`` or ``y_pred`` holds a NaN label; or if
        ``y_true`` holds only numbers and ``y_pred`` only strings (or the
        reverse), whatever their array types (object arrays included).

    See Also
    --------
    accuracy_at_coverage : One point of this curve.
    AccuracyCoverageDisplay : Plot of this curve.

    Examples
    --------
    >>> from skxrd.metrics import accuracy_coverage_curve
    >>> y_true = [0, 1, 1, 0]
    >>> y_pred = [0, 1, 0, 0]
    >>> confidence = [0.9, 0.8, 0.8, 0.6]
    >>> coverage, accuracy, thresholds = accuracy_coverage_curve(
    ...     y_true, y_pred, confidence
    ... )
    >>> coverage
    array([0.25, 0.75, 1.  ])
    >>> accuracy.round(4)
    array([1.    , 0.6667, 0.75  ])
    >>> thresholds
    array([0.9, 0.8, 0.6])
    """
    y_true = _check_1d(y_true, "y_true")
    y_pred = _check_1d(y_pred, "y_pred")
    confidence = _check_1d(confidence, "confidence", numeric=True)
    if sample_weight is not None:
        sample_weight = _check_1d(sample_weight, "sample_weight", numeric=True)
    n = _check_same_length(
        y_true=y_true,
        y_pred=y_pred,
        confidence=confidence,
        sample_weight=sample_weight,
    )
    weight = _check_sample_weight(sample_weight, n)
    correct = _matches(y_true, y_pred, "y_pred")

    order = np.argsort(-confidence, kind="stable")
    confidence = confidence[order]
    weight = weight[order]
    # The last sample of each run of equal confidences closes a threshold.
    ends = np.r_[np.flatnonzero(np.diff(confidence)), n - 1]
    kept = np.cumsum(weight)[ends]
    kept_correct = np.cumsum(weight * correct[order])[ends]
    thresholds = confidence[ends]

    nonzero = kept > 0
    kept, kept_correct, thresholds = (
        kept[nonzero],
        kept_correct[nonzero],
        thresholds[nonzero],
    )
    coverage = kept / kept[-1]
    accuracy = kept_correct / kept
    return coverage, accuracy, thresholds


def accuracy_at_coverage(
    y_true, y_pred, confidence, coverage=0.5, *, sample_weight=None
) -> float:
    """Accuracy on the most confident ``coverage`` fraction of the samples.

    The accuracy at the highest threshold of :func:`accuracy_coverage_curve`
    whose coverage is at least ``coverage`` (up to a relative rounding slack of
    1e-12): the smallest set of most confident samples that covers the
    requested fraction. Tied confidences are kept together, so the set may
    cover more than asked.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels; labels absent from ``y_true`` count as wrong.
    confidence : array-like of shape (n_samples,)
        Confidence of each prediction; higher means more confident.
    coverage : float, default=0.5
        Fraction of the samples to answer, in (0, 1]. ``1.0`` gives the plain
        accuracy.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.

    Returns
    -------
    float
        Accuracy on the kept samples.

    Raises
    ------
    ValueError
        If ``coverage`` is not in (0, 1], or for the invalid inputs listed in
        :func:`accuracy_coverage_curve`.

    Examples
    --------
    >>> from skxrd.metrics import accuracy_at_coverage
    >>> y_true = [0, 1, 1, 0]
    >>> y_pred = [0, 1, 0, 0]
    >>> confidence = [0.9, 0.8, 0.8, 0.6]
    >>> accuracy_at_coverage(y_true, y_pred, confidence, coverage=0.25)
    1.0
    >>> round(accuracy_at_coverage(y_true, y_pred, confidence, coverage=0.5), 4)
    0.6667
    >>> accuracy_at_coverage(y_true, y_pred, confidence, coverage=1.0)
    0.75
    """
    coverage = check_real(coverage, "coverage")
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must be in (0, 1], got {coverage!r}")
    curve_coverage, accuracy, _ = accuracy_coverage_curve(
        y_true, y_pred, confidence, sample_weight=sample_weight
    )
    i = np.searchsorted(curve_coverage, coverage * (1 - _COVERAGE_RTOL), side="left")
    return float(accuracy[min(i, len(accuracy) - 1)])
