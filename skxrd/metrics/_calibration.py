"""Top-label calibration: does a 90 % confident prediction hold 90 % of the time?"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.utils import Bunch, check_array

from ..utils._torch import host_array
from ..utils._validation import check_int
from ..utils._warnings import caller_stacklevel
from ._coverage import _check_1d, _check_same_length, _check_sample_weight, _matches

__all__ = ["calibration_table", "expected_calibration_error"]

_STRATEGIES = ("uniform", "quantile")

# Rows of y_proba whose sums are further from 1 get a warning. Looser than
# scikit-learn's sqrt(eps): float32 softmax outputs cast to float64 miss 1 by
# up to ~1e-6, and a gap of 1e-4 moves the ECE by at most 1e-4.
_SUM_ATOL = 1e-4


def _check_proba(y_proba) -> np.ndarray:
    """A non-empty 1-D or 2-D float array of finite values in [0, 1]."""
    y_proba = host_array(y_proba)
    try:
        y_proba = check_array(
            y_proba,
            ensure_2d=False,
            allow_nd=True,
            dtype=np.float64,
            ensure_all_finite=False,
            ensure_min_samples=0,
            ensure_min_features=0,
            input_name="y_proba",
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"y_proba must be an array of probabilities: {exc}") from None
    if y_proba.ndim not in (1, 2):
        raise ValueError(
            f"y_proba must be 2-D (n_samples, n_classes), got shape {y_proba.shape}"
        )
    if y_proba.size == 0:
        raise ValueError(f"y_proba is empty (shape {y_proba.shape})")
    bad = np.argwhere(~np.isfinite(y_proba))
    if bad.size:
        raise ValueError(
            f"y_proba must be finite; found {len(bad)} NaN or infinite value(s), "
            f"the first at index {tuple(int(i) for i in bad[0])}"
        )
    bad = np.argwhere((y_proba < 0) | (y_proba > 1))
    if bad.size:
        first = tuple(int(i) for i in bad[0])
        raise ValueError(
            f"y_proba must hold probabilities in [0, 1]; found {len(bad)} value(s) "
            f"outside, the first {y_proba[first]!r} at index {first}"
        )
    return y_proba


def _sum_tolerance(y_proba) -> float:
    """How far from 1 the rows of ``y_proba`` (as given) may sum: ``_SUM_ATOL``,
    or 4 rounding units of a coarser float type. float16 probabilities that
    sum to 1 in float16 miss 1 by up to ~1e-3 in float64 ([0.9, 0.1] sums to
    0.99988), and were said not to be probabilities."""
    if str(getattr(y_proba, "dtype", "")) == "torch.bfloat16":
        return 4.0 * 2.0**-7  # its eps: 8 bits of significand (numpy has none)
    y_proba = host_array(y_proba)
    try:
        dtype = np.asarray(y_proba).dtype if hasattr(y_proba, "dtype") else None
    except (TypeError, ValueError, RuntimeError):  # _check_proba says why
        return _SUM_ATOL
    if dtype is None or dtype.kind != "f":
        return _SUM_ATOL
    return max(_SUM_ATOL, 4.0 * float(np.finfo(dtype).eps))


def _warn_unnormalized(y_proba: np.ndarray, tolerance: float = _SUM_ATOL) -> None:
    """Warn, as scikit-learn's ``log_loss``, when rows do not sum to 1."""
    sums = y_proba.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1) > tolerance)
    if bad.size:
        warnings.warn(
            f"y_proba rows must sum to 1: {bad.size} of {len(sums)} do not, the "
            f"first row {int(bad[0])} sums to {float(sums[bad[0]]):.6g}; its "
            "largest value is taken as the confidence as given (pass "
            "probabilities, e.g. from predict_proba, not scores or logits)",
            UserWarning,
            stacklevel=caller_stacklevel(),  # the user's call
        )


def _distinct(y: np.ndarray) -> list:
    """The distinct values of ``y`` (sorted when they can be)."""
    try:
        return np.unique(y).tolist()
    except TypeError:  # object array mixing, say, ints and strings
        return list(dict.fromkeys(y.tolist()))


def _check_labels(labels, y_true: np.ndarray, n_columns: int, binary: bool):
    """The class labels in column order, consistent with ``y_proba``'s shape."""
    columns = "is 1-D (binary)" if binary else f"has {n_columns} columns"
    if labels is None:
        try:
            labels = np.unique(y_true)
        except TypeError:
            raise ValueError(
                "y_true mixes label types that cannot be sorted; pass labels, the "
                "class labels in the column order of y_proba"
            ) from None
        if len(labels) != n_columns:
            raise ValueError(
                f"y_proba {columns} but y_true has {len(labels)} distinct labels; "
                "pass labels, the class labels in the column order of y_proba"
            )
        return labels
    labels = _check_1d(labels, "labels")
    if len(_distinct(labels)) != len(labels):
        raise ValueError(f"labels must be unique, got {labels.tolist()}")
    if len(labels) != n_columns:
        raise ValueError(f"y_proba {columns} but labels has {len(labels)} entries")
    known = set(labels.tolist())
    missing = [v for v in _distinct(y_true) if v not in known]
    if missing:
        raise ValueError(
            f"y_true has {len(missing)} label(s) not in labels, e.g. {missing[:5]}"
        )
    return labels


def calibration_table(
    y_true, y_proba, *, labels=None, n_bins=15, strategy="uniform", sample_weight=None
) -> Bunch:
    """Per-bin confidence and accuracy of the top-label predictions.

    The prediction for each sample is the label of its most probable column
    (the first one on ties) and its confidence that largest probability. The
    samples are binned by confidence on [0, 1]; each bin ``(lo, hi]`` (the
    first one also holds 0) gets its mean confidence and its accuracy. A
    calibrated model has accuracy equal to confidence in every bin.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, e.g. from ``predict_proba``, all in [0, 1].
        Rows should sum to 1; a ``UserWarning`` says when they do not (by
        more than 1e-4, or 4 rounding units for float16 and bfloat16 input,
        whose rounding alone misses 1 by up to about 1e-3 and 8e-3), as
        scikit-learn's ``log_loss`` does, and their largest values are then
        used as given. A 1-D array is the
        probability of ``labels[1]`` in a binary problem.
    labels : array-like of shape (n_classes,), default=None
        The class labels in the column order of ``y_proba`` (an estimator's
        ``classes_``). Every label in ``y_true`` must be one of them. By
        default ``np.unique(y_true)``, which then needs ``n_classes`` distinct
        labels in ``y_true``.
    n_bins : int, default=15
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Bins of equal width, with edges ``k / n_bins`` (a confidence of
        exactly ``k / n_bins`` falls in the bin that it closes), or bins
        holding about equal numbers of samples (edges at the quantiles of the
        confidences; ties may leave some bins empty). With ``sample_weight``
        the quantiles are weighted (inverted empirical distribution, so that
        the bins hold about equal weight); equal weights give the unweighted
        edges.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights of the samples, as in scikit-learn's metrics:
        each bin's confidence and accuracy are weighted means and the bins
        are weighed by their total weight. A weight of 0 leaves a sample out;
        integer weights equal repeating samples. None weighs all alike.

    Returns
    -------
    Bunch
        With the keys:

        - ``bin_edges``: ndarray of shape (n_bins + 1,), from 0 to 1.
        - ``bin_index``: ndarray of int, the index of each non-empty bin (bin
          ``i`` spans ``bin_edges[i]`` to ``bin_edges[i + 1]``).
        - ``confidence``: ndarray, the mean confidence in each non-empty bin.
        - ``accuracy``: ndarray, the accuracy in each non-empty bin.
        - ``count``: ndarray of int, the number of samples in each non-empty
          bin.
        - ``weight``: ndarray of float, the total sample weight in each
          non-empty bin (``count`` as floats without ``sample_weight``).
        - ``ece``: float, the expected calibration error
          ``sum(weight / weight.sum() * abs(accuracy - confidence))``.

        A bin is non-empty when it holds a sample of positive weight.

    Raises
    ------
    ValueError
        If ``y_true`` and ``y_proba`` are empty or differ in length; if
        ``y_proba`` has NaN, infinite or out-of-range values or a number of
        columns that does not match the labels; if ``y_true`` or ``labels``
        holds a NaN label, ``labels`` has duplicates or misses a label of
        ``y_true``; if ``n_bins`` is not a positive integer or ``strategy`` is
        unknown.

    Warns
    -----
    UserWarning
        If rows of a 2-D ``y_proba`` do not sum to 1 (see ``y_proba``).

    See Also
    --------
    expected_calibration_error : The ``ece`` alone.
    sklearn.calibration.calibration_curve : Calibration of one binary class.

    Examples
    --------
    >>> from skxrd.metrics import calibration_table
    >>> y_true = ["cubic", "hexagonal", "hexagonal", "cubic"]
    >>> y_proba = [[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.6, 0.4]]
    >>> table = calibration_table(y_true, y_proba, n_bins=5)
    >>> table.bin_edges
    array([0. , 0.2, 0.4, 0.6, 0.8, 1. ])
    >>> table.bin_index, table.count
    (array([2, 3, 4]), array([1, 2, 1]))
    >>> table.confidence, table.accuracy
    (array([0.6 , 0.75, 0.9 ]), array([1. , 0.5, 1. ]))
    >>> round(table.ece, 4)
    0.25
    """
    y_true = _check_1d(y_true, "y_true")
    tolerance = _sum_tolerance(y_proba)  # of the dtype given, before float64
    y_proba = _check_proba(y_proba)
    if sample_weight is not None:
        sample_weight = _check_1d(sample_weight, "sample_weight", numeric=True)
    n = _check_same_length(y_true=y_true, y_proba=y_proba, sample_weight=sample_weight)
    weight = _check_sample_weight(sample_weight, n)
    n_bins = check_int(n_bins, "n_bins", minimum=1)
    if strategy not in _STRATEGIES:
        raise ValueError(f"strategy must be one of {_STRATEGIES}, got {strategy!r}")
    binary = y_proba.ndim == 1
    n_columns = 2 if binary else y_proba.shape[1]
    labels = _check_labels(labels, y_true, n_columns, binary)
    if binary:
        y_proba = np.column_stack([1 - y_proba, y_proba])
    else:
        _warn_unnormalized(y_proba, tolerance)

    top = np.argmax(y_proba, axis=1)
    confidence = y_proba[np.arange(n), top]
    correct = _matches(y_true, labels[top], "labels")

    if strategy == "uniform":
        # k / n_bins, correctly rounded: np.linspace computes k * (1 / n_bins),
        # which can fall one float below k / n_bins (5 / 6, 5 / 12...) and put a
        # confidence of exactly k / n_bins in the next bin.
        bin_edges = np.arange(n_bins + 1) / n_bins
    elif sample_weight is None or np.ptp(weight[weight > 0]) == 0:
        # equal weights: the plain quantiles of the samples that count
        bin_edges = np.quantile(
            confidence[weight > 0], np.linspace(0.0, 1.0, n_bins + 1)
        )
    else:
        bin_edges = np.quantile(
            confidence,
            np.linspace(0.0, 1.0, n_bins + 1),
            weights=weight,
            method="inverted_cdf",  # the one method numpy weighs
        )
    if strategy == "quantile":
        # Guard searchsorted against rounding in the interpolation.
        bin_edges = np.maximum.accumulate(bin_edges)
        bin_edges[0], bin_edges[-1] = 0.0, 1.0
    # side="left" makes the bins (lo, hi], as in Guo et al. (2017).
    bins = np.searchsorted(bin_edges[1:-1], confidence, side="left")
    counts = weight > 0  # a weight of 0 leaves the sample out
    count = np.bincount(bins[counts], minlength=n_bins)
    if sample_weight is None:
        # unweighted sums, as before weights: the same floats to the last bit
        total = count.astype(float)
        sum_confidence = np.bincount(bins, weights=confidence, minlength=n_bins)
        sum_correct = np.bincount(bins, weights=correct, minlength=n_bins)
    else:
        total = np.bincount(bins, weights=weight, minlength=n_bins)
        sum_confidence = np.bincount(
            bins, weights=weight * confidence, minlength=n_bins
        )
        sum_correct = np.bincount(bins, weights=weight * correct, minlength=n_bins)

    bin_index = np.flatnonzero(count)
    count, total = count[bin_index], total[bin_index]
    mean_confidence = sum_confidence[bin_index] / total
    accuracy = sum_correct[bin_index] / total
    denominator = n if sample_weight is None else total.sum()
    ece = float(np.sum(total / denominator * np.abs(accuracy - mean_confidence)))
    return Bunch(
        bin_edges=bin_edges,
        bin_index=bin_index,
        confidence=mean_confidence,
        accuracy=accuracy,
        count=count,
        weight=total,
        ece=ece,
    )


def expected_calibration_error(
    y_true, y_proba, *, labels=None, n_bins=15, strategy="uniform", sample_weight=None
) -> float:
    """Top-label expected calibration error (ECE) of predicted probabilities.

    As defined by Guo et al. (2017): the predictions are binned by confidence
    (their largest probability) and the gaps between accuracy and mean
    confidence are averaged over the bins, weighted by the bins' sizes::

        ECE = sum_b (n_b / n) * |accuracy_b - confidence_b|

    0 is perfect calibration; an overconfident or underconfident model scores
    higher. See :func:`calibration_table` for the bins themselves.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities in [0, 1]; 1-D: the probability of
        ``labels[1]`` in a binary problem.
    labels : array-like of shape (n_classes,), default=None
        The class labels in the column order of ``y_proba``; by default
        ``np.unique(y_true)``, which must then have ``n_classes`` labels.
    n_bins : int, default=15
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Bins of equal width on [0, 1], or of about equal numbers of samples.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights: weighted bin means, bins weighed by their
        total weight (see :func:`calibration_table`).

    Returns
    -------
    float
        The ECE, in [0, 1].

    Raises
    ------
    ValueError
        For the invalid inputs listed in :func:`calibration_table`.

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of Modern
    Neural Networks", ICML 2017.

    Examples
    --------
    >>> from skxrd.metrics import expected_calibration_error
    >>> y_true = [0, 0, 0, 1]
    >>> y_proba = [[0.75, 0.25]] * 4  # 75 % confident, 75 % right
    >>> expected_calibration_error(y_true, y_proba)
    0.0
    >>> y_true = [0, 1, 0, 1]  # 75 % confident, 50 % right
    >>> expected_calibration_error(y_true, y_proba)
    0.25
    >>> expected_calibration_error(y_true, [0.25] * 4)  # 1-D: P(labels[1])
    0.25
    >>> w = [1, 0, 1, 1]  # sample 1 left out: 75 % confident, 2 of 3 right
    >>> round(expected_calibration_error(y_true, y_proba, sample_weight=w), 4)
    0.0833
    """
    return calibration_table(
        y_true,
        y_proba,
        labels=labels,
        n_bins=n_bins,
        strategy=strategy,
        sample_weight=sample_weight,
    ).ece
