"""The numerical cores of the classifiers, without scikit-learn and skorch.

The estimators of this subpackage are scikit-learn facades over these
functions: which network a classifier builds from which of its parameters, the
forward pass in fixed-size chunks, tempered probabilities, and the
search-match (unit patterns, similarities, the gate between matcher and
network). :mod:`skxrd.pretrained` calls them directly to answer from a model
file without importing scikit-learn (``skxrd predict``, about a second less).
So do the union's cores: its members' views of a pattern and their
combination. The indexing stacker's core is :mod:`._indexing_core`.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "INFER_CHUNK",
    "combine_members",
    "cosine_rows",
    "fit_coarse_temperatures",
    "member_stats",
    "multinomial_proba",
    "find_network",
    "network_logits",
    "network_outputs",
    "router_features",
    "NETWORK_PARAMS",
    "best_per_class",
    "check_finite_outputs",
    "check_label_types",
    "gate_scores",
    "gate_weights",
    "GATES",
    "infer_in_chunks",
    "match_softmax",
    "mixture",
    "network_module",
    "normalized_probabilities",
    "temper_coarse",
    "top_k",
    "top_neighbors",
    "unit_rows",
]

#: The network parameters of each 1D network classifier: the keyword arguments
#: of its :mod:`skxrd.models` module (which it builds with ``n_classes`` first).
NETWORK_PARAMS = {
    "ResNetClassifier": (
        "ResNet1D",
        ("depth", "width", "kernel_size", "dropout", "stem_stride", "confidence_head"),
    ),
    "DenseNetClassifier": (
        "DenseNet1D",
        ("growth_rate", "block_config", "kernel_size", "dropout", "stem_stride"),
    ),
    "CNNClassifier": ("CNN1D", ("channels", "kernel_size", "pool", "dropout")),
}

#: CPU predictions run in chunks of this many patterns (the last padded)
INFER_CHUNK = 16


def network_module(classifier, params, n_classes):
    """The untrained :mod:`skxrd.models` network of a 1D network classifier.

    Parameters
    ----------
    classifier : str
        A key of :data:`NETWORK_PARAMS` (``"ResNetClassifier"``...).
    params : dict
        The classifier's parameters (others than the network's are ignored;
        lists become tuples, as ``GridSearchCV`` may pass lists).
    n_classes : int

    Returns
    -------
    torch.nn.Module
    """
    from .. import models

    module_name, names = NETWORK_PARAMS[classifier]
    kwargs = {}
    for name in names:
        if name in params:
            value = params[name]
            kwargs[name] = tuple(value) if isinstance(value, list) else value
    return getattr(models, module_name)(n_classes, **kwargs)


def infer_in_chunks(forward, x, chunk=INFER_CHUNK):
    """``forward(x)`` computed ``chunk`` patterns at a time, the last padded.

    oneDNN picks convolution kernels by batch size, so a pattern's logits
    would differ in the 7th digit between a batch and a subset of it: every
    forward pass on the CPU takes the same number of patterns, so that
    predictions do not depend on what is predicted with them (a small number:
    one pattern costs a pass over ``chunk``). A tuple output (logits and a
    confidence) is cut and joined part by part.
    """
    import torch

    n = len(x)
    pad = -n % chunk
    if pad:
        x = torch.cat([x, x.new_zeros((pad, *x.shape[1:]))])
    outs = [forward(part) for part in x.split(chunk)]
    if isinstance(outs[0], tuple):
        return tuple(torch.cat(parts)[:n] for parts in zip(*outs))
    return torch.cat(outs)[:n]


def normalized_probabilities(batches):
    """float64 rows summing to one from float32 softmax outputs (numpy or
    torch, batch by batch); a ValueError for rows that are not finite."""
    rows = [b.detach().cpu().numpy() if hasattr(b, "detach") else b for b in batches]
    proba = np.concatenate(rows).astype(np.float64)
    check_finite_outputs(proba)
    proba /= proba.sum(axis=1, keepdims=True)
    return proba


def check_finite_outputs(values, what="probabilities", rows=None):
    """A ValueError naming the patterns whose network outputs are not finite.

    Finite float32 patterns of huge values (1e38) overflow inside the
    network; the NaN probabilities that follow made ``predict`` answer the
    first class for them, silently. ``rows``: the row of ``X`` of each row of
    ``values`` (default: the same).
    """
    bad = ~np.isfinite(np.asarray(values)).all(axis=tuple(range(1, np.ndim(values))))
    if bad.any():
        rows = np.flatnonzero(bad) if rows is None else np.asarray(rows)[bad]
        shown = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
        raise ValueError(
            f"the network's {what} are not finite for {len(rows)} of "
            f"{len(bad)} patterns (rows {shown} of X): their values overflow "
            "float32 inside the network; scale the patterns first (e.g. "
            "skxrd.preprocessing.PatternNormalizer)"
        )


#: how :class:`EnsembleClassifier` may average its members' probabilities
ENSEMBLE_AVERAGES = ("geometric", "arithmetic")


def checked_ensemble_weights(weights, n, average):
    """An ensemble's ``weights`` for ``n`` members, normalized to sum to one
    (equal when None), after checking them and ``average``."""
    if average not in ENSEMBLE_AVERAGES:
        raise ValueError(f"average must be one of {ENSEMBLE_AVERAGES}, got {average!r}")
    if weights is None:
        return np.full(n, 1.0 / n)
    values = np.asarray(weights, dtype=object)
    # numbers only: a bool weighed as 0 or 1, and "ab" failed in float()
    # with a message that named no parameter
    numeric = values.ndim == 1 and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)
        for v in values
    )
    w = values.astype(float) if numeric else None
    if w is None or w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(
            f"weights must be {n} positive numbers, one per estimator, got {weights!r}"
        )
    return w / w.sum()


def average_probabilities(probas, weights, average="geometric", temperature=1.0):
    """The weighted average of members' probabilities (:class:`EnsembleClassifier`).

    ``average="geometric"``: the normalized exponential of the weighted mean
    of their logarithms; ``"arithmetic"``: the weighted mean itself. Then
    tempered, each row to the power ``1 / temperature`` and renormalized.
    ``weights`` sum to one.
    """
    probas = [np.asarray(p, dtype=float) for p in probas]
    if average == "geometric":
        log_p = sum(w * np.log(np.maximum(p, 1e-300)) for w, p in zip(weights, probas))
        log_p = log_p - log_p.max(axis=1, keepdims=True)
        out = np.exp(log_p)
        out /= out.sum(axis=1, keepdims=True)
    else:
        out = sum(w * p for w, p in zip(weights, probas))
        out = out / out.sum(axis=1, keepdims=True)
    return out if float(temperature) == 1.0 else _tempered_rows(out, temperature)


def coarse_membership(fine_classes, target):
    """The coarse labels (``target``: crystal system, Bravais lattice... of
    :class:`CoarseLabelClassifier`) of space-group classes, sorted, and the
    ``(n_fine, n_coarse)`` 0/1 matrix that sums their probabilities."""
    from .. import crystal

    coarse = np.asarray(getattr(crystal, f"to_{target}")(fine_classes)).astype(str)
    classes = np.unique(coarse)
    return classes, (coarse[:, None] == classes[None, :]).astype(float)


def check_label_types(y, name="y"):
    """A ValueError naming the types when the labels ``y`` mix strings with
    other values (numbers, None) in an object array.

    Such labels do not sort: without this check numpy's ``'<' not supported``
    TypeError, or scikit-learn's "Unknown label type", which calls them a
    regression target, was the error.
    """
    y = np.asarray(y)
    if y.dtype.kind != "O" or not y.size:
        return
    values = y.ravel().tolist()
    strings = [isinstance(v, str) for v in values]
    if any(strings) and not all(strings):
        types = sorted({type(v).__name__ for v in values})
        raise ValueError(
            f"{name} mixes label types ({', '.join(types)}): the labels must be "
            "all numbers (such as space-group numbers) or all strings"
        )


def check_same_length(X, y, prefix=""):
    """One error naming both lengths when the patterns ``X`` and the labels
    ``y`` differ in number."""
    if len(X) != len(y):
        raise ValueError(f"{prefix}X has {len(X)} patterns but y has {len(y)} labels")


def find_network(inner):
    """``(module, temperature)`` of a fitted classifier, or None for one
    without a network inside: the lookup of :func:`network_logits`.

    A wrapper's ``_logit_module()`` (tempered already: 1.0), else its
    ``net_.module_`` and ``temperature_`` (1.0 before a calibration).
    """
    if hasattr(inner, "_logit_module"):
        return inner._logit_module(), 1.0
    import torch

    module = getattr(getattr(inner, "net_", None), "module_", None)
    if not isinstance(module, torch.nn.Module):
        return None
    return module, float(getattr(inner, "temperature_", 1.0))


def network_logits(inner, what="the classifier"):
    """``(module, temperature)`` of a fitted classifier for attribution maps:
    its logits divided by ``temperature`` give ``inner.predict_proba``.

    :func:`find_network`, with one ValueError naming ``what`` for a
    classifier without a network inside (a bare AttributeError before).
    """
    found = find_network(inner)
    if found is None:
        raise ValueError(
            f"attribution maps need a network inside; {what} is a "
            f"{type(inner).__name__}"
        )
    return found


def network_outputs(module, n_classes):
    """Which of the ``n_classes`` logits of an attribution module come from a
    network: a bool array, its ``has_output`` record.

    A wrapper's module (``_logit_module()``) that puts classes without a
    network output (a search-match's own classes) in constant columns
    records which columns hold the network's logits; a plain network outputs
    every class.
    """
    mask = getattr(module, "has_output", None)
    if mask is None:
        return np.ones(int(n_classes), dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (int(n_classes),):
        raise ValueError(
            f"the has_output record of {type(module).__name__} has shape "
            f"{mask.shape}, not one value per class ({int(n_classes)})"
        )
    return mask


def _tempered_rows(proba, temperature):
    """Rows of ``proba`` to the power ``1 / temperature``, renormalized
    (zeros stay zero)."""
    log_p = np.log(np.maximum(proba, 1e-300)) / temperature
    log_p[proba <= 0] = -np.inf
    log_p -= np.max(log_p, axis=1, keepdims=True, initial=-1e300, where=proba > 0)
    out = np.exp(log_p)
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-300)


def temper_coarse(proba, membership, coarse_temperature=1.0, fine_temperature=1.0):
    """Fine-class probabilities with their coarse classes' sums tempered by
    ``coarse_temperature`` and each coarse class's shares by
    ``fine_temperature`` (each as ``p ** (1 / T)``, renormalized).

    Neither the top coarse class nor the order within a coarse class
    changes; below 1 a temperature sharpens, above 1 it flattens. Both 1:
    ``proba`` as it is. ``membership`` (n_fine, n_coarse) is 0/1
    (:func:`coarse_membership`)."""
    proba = np.asarray(proba, dtype=float)
    if float(coarse_temperature) == 1.0 and float(fine_temperature) == 1.0:
        return proba
    membership = np.asarray(membership, dtype=float)
    coarse = _tempered_rows(proba @ membership, float(coarse_temperature))
    fine = proba
    if float(fine_temperature) != 1.0:
        # tempered over all columns, then rescaled per coarse class: the
        # same as tempering each coarse class's shares alone
        fine = _tempered_rows(proba, float(fine_temperature))
    within = fine @ membership
    shares = fine / np.maximum(within @ membership.T, 1e-300)
    out = shares * (coarse @ membership.T)
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-300)


def fit_coarse_temperatures(proba, membership, target, sample_weight=None):
    """The ``(coarse_temperature, fine_temperature)`` of :func:`temper_coarse`
    of least (weighted) log-loss of the fine classes ``target`` (column
    indices of ``proba``); each searched in [e^-3, e^3] from 1."""
    from scipy.optimize import minimize

    proba = np.asarray(proba, dtype=float)
    target = np.asarray(target, dtype=int)
    w = (
        np.ones(len(target))
        if sample_weight is None
        else np.asarray(sample_weight, float)
    )
    w = w / w.sum()
    rows = np.arange(len(target))

    def loss(log_t):
        p = temper_coarse(proba, membership, *np.exp(log_t))[rows, target]
        return -float(np.sum(w * np.log(np.maximum(p, 1e-12))))

    res = minimize(loss, np.zeros(2), method="L-BFGS-B", bounds=[(-3.0, 3.0)] * 2)
    best = np.exp(res.x) if res.fun < loss(np.zeros(2)) else np.ones(2)
    return float(best[0]), float(best[1])


# a space group the symmetry model gives less than this counts as this much:
# no class is ruled out by the symmetry model alone
SYMMETRY_FLOOR = 1e-4


def checked_space_groups(mapping, name):
    """``{label: space-group number}`` with every number checked."""
    if not hasattr(mapping, "items"):
        raise TypeError(f"{name} must map labels to space-group numbers")
    out = {}
    for label, group in mapping.items():
        if isinstance(group, (bool, np.bool_)) or not isinstance(
            group, (int, np.integer)
        ):
            raise ValueError(
                f"{name}: the space group of {label!r} must be an integer "
                f"1-230, got {group!r}"
            )
        if not 1 <= int(group) <= 230:
            raise ValueError(
                f"{name}: the space group of {label!r} must be 1-230, got {group}"
            )
        out[label] = int(group)
    return out


def symmetry_columns(class_groups, symmetry_classes):
    """How :func:`symmetry_weighted` reads a symmetry model for each class.

    ``class_groups`` (n_classes,) holds each class's space-group number, 0
    where it is not known; ``symmetry_classes`` the symmetry model's space
    groups. Returns ``(columns, log_prior)``: each class's column of the
    symmetry model's probabilities (-1: a group it never answers; -2: no
    group known) and the log share of its group among the classes' known
    groups (0 for a class without one)."""
    groups = np.asarray(class_groups, dtype=int)
    symmetry_classes = np.asarray(symmetry_classes)
    known = groups > 0
    if not known.any():
        raise ValueError("no class has a known space group")
    where = {int(g): i for i, g in enumerate(symmetry_classes)}
    columns = np.array(
        [where.get(int(g), -1) if g > 0 else -2 for g in groups], dtype=int
    )
    counts = {g: np.sum(groups[known] == g) for g in np.unique(groups[known])}
    share = np.array([counts[g] / known.sum() if g > 0 else 1.0 for g in groups])
    return columns, np.log(share)


def symmetry_log_ratio(symmetry_proba, columns, log_prior):
    """``log(q(g_c) / π(g_c))`` of each class ``c`` (n_samples, n_classes) of
    :func:`symmetry_weighted`: 0 for a class without a known group."""
    symmetry_proba = np.asarray(symmetry_proba, dtype=float)
    columns = np.asarray(columns)
    q = np.full((len(symmetry_proba), len(columns)), SYMMETRY_FLOOR)
    seen = columns >= 0
    q[:, seen] = np.maximum(symmetry_proba[:, columns[seen]], SYMMETRY_FLOOR)
    ratio = np.log(q) - np.asarray(log_prior, dtype=float)
    ratio[:, columns == -2] = 0.0
    return ratio


def symmetry_weighted(proba, symmetry_proba, columns, log_prior, weight):
    """Class probabilities weighed by a symmetry model's space groups.

    ``p(c) ∝ proba(c) · (q(g_c) / π(g_c)) ** weight``: ``q`` the symmetry
    model's probability of class ``c``'s space group (at least
    :data:`SYMMETRY_FLOOR`), ``π`` that group's share among the classes
    (:func:`symmetry_columns`; a class without a known group keeps its
    probability's share). ``weight`` 0 gives ``proba``."""
    proba = np.asarray(proba, dtype=float)
    if float(weight) == 0.0:
        return proba
    ratio = symmetry_log_ratio(symmetry_proba, columns, log_prior)
    log_p = np.log(np.maximum(proba, 1e-300)) + float(weight) * ratio
    log_p[proba <= 0] = -np.inf
    log_p -= np.max(log_p, axis=1, keepdims=True, initial=-1e300, where=proba > 0)
    out = np.exp(log_p)
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-300)


def fit_symmetry_weight(
    proba, symmetry_proba, columns, log_prior, target, sample_weight=None
):
    """The weight of :func:`symmetry_weighted` of least log-loss of the
    classes ``target`` (column indices of ``proba``), searched in [0, 4];
    ``sample_weight`` (of a positive sum, or None) weighs each row's loss."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(target))
    target = np.asarray(target, dtype=int)

    def loss(w):
        p = symmetry_weighted(proba, symmetry_proba, columns, log_prior, w)
        log_p = np.log(np.maximum(p[rows, target], 1e-12))
        return -float(np.average(log_p, weights=sample_weight))  # None: the mean

    res = minimize_scalar(loss, bounds=(0.0, 4.0), method="bounded")
    return float(res.x) if res.fun < loss(0.0) else 0.0


def top_k(proba, classes, k):
    """The ``k`` most probable of ``classes`` per row, most probable first
    (ties in the order of ``classes``), and their probabilities."""
    k = min(int(k), proba.shape[1])
    order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    return np.asarray(classes)[order], np.take_along_axis(proba, order, axis=1)


# --------------------------------------------------------------------------- #
# search-match
# --------------------------------------------------------------------------- #
def unit_rows(X, intensity="linear", smoothing=0.0, stride=1, center=True):
    """Smoothed, centred, unit-length rows (float32), as a
    :class:`PatternMatchClassifier` with these parameters compares them;
    all-zero rows stay zero (similarity 0 to everything)."""
    X = np.asarray(X, dtype=np.float32)
    if intensity == "sqrt":
        X = np.sqrt(np.maximum(X, 0.0))
    if smoothing > 0 and X.shape[1] > 1:
        from scipy.ndimage import gaussian_filter1d

        X = gaussian_filter1d(X, float(smoothing), axis=1, mode="nearest")
    X = X[:, ::stride]
    # a row flat to float32 rounding (its norm after centring tiny against
    # its own scale) matches nothing, at any intensity scale
    scale = np.abs(X).max(axis=1, keepdims=True) * np.sqrt(X.shape[1])
    if center:
        X = X - X.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(X, axis=1, keepdims=True)
    flat = (norm <= 1e-5 * scale) | (scale == 0)
    return np.divide(X, norm, out=np.zeros_like(X), where=~flat)


# leading and trailing runs of at least this many zeros (0.5 deg on a 0.02 deg
# grid) are points a measurement did not cover: the resampler fills them with
# 0, while measured patterns end in a few zeros at most (the 456 RRUFF
# patterns in at most 10, after the SNIP background subtraction)
UNMEASURED_RUN = 25


def measured_span(X, min_run):
    """``(start, stop)`` of each row: the points between its leading and
    trailing runs of at least ``min_run`` zeros (shorter runs are kept)."""
    nonzero = np.asarray(X) != 0
    n = nonzero.shape[1]
    any_ = nonzero.any(axis=1)
    lead = np.where(any_, nonzero.argmax(axis=1), 0)
    trail = np.where(any_, nonzero[:, ::-1].argmax(axis=1), 0)
    start = np.where(lead >= min_run, lead, 0)
    stop = n - np.where(trail >= min_run, trail, 0)
    return start, stop


# above this many rows with a span, the references' running sums pay for
# themselves (about 0.1 s for the shipped references, then 0.1 ms a row
# instead of 10)
_FEW_SPANS = 10


def span_similarities(
    X,
    references,
    intensity,
    smoothing,
    stride,
    center,
    min_run,
    max_shift=0,
    shift_step=1,
):
    """Similarities of rows ``X`` to unit ``references`` (:func:`unit_rows`
    of the same parameters), each row over its measured span
    (:func:`measured_span`; ``min_run`` 0: the whole row), the best over zero
    shifts of the rows by up to ``max_shift`` grid points in steps of
    ``shift_step`` (0: none).

    A row whose ends were not measured is compared with the references over
    the points it has: the Pearson correlation (cosine, with ``center``
    false) of the row's span and the references' points there.
    """
    X = np.asarray(X)
    steps = int(max_shift) // int(shift_step) if max_shift else 0
    cache = {}
    best = None
    for k in range(-steps, steps + 1):
        sims = _span_similarities(
            _shifted(X, k * int(shift_step)),
            references,
            intensity,
            smoothing,
            stride,
            center,
            min_run,
            cache,
        )
        best = sims if best is None else np.maximum(best, sims, out=best)
    return best


# a matcher's settings that span_similarities takes, in its order: the
# attributes of PatternMatchClassifier and of the light predictor's matcher
MATCH_SETTINGS = (
    "intensity",
    "smoothing",
    "stride",
    "center",
    "unmeasured_run",
    "max_shift",
    "shift_step",
)


def batched_similarities(matcher, X, references):
    """Yield ``(rows, similarities)`` of ``X`` to ``references``,
    ``matcher.batch_size`` rows at a time, with ``matcher``'s settings
    (:data:`MATCH_SETTINGS`)."""
    settings = [getattr(matcher, name) for name in MATCH_SETTINGS]
    # float64 products: float32 ones depend on how many rows a batch holds
    # (BLAS blocks a matrix product otherwise than one row's), and a pattern's
    # answer on whether it came alone or with others (2e-6 apart, moved by a
    # low temperature)
    references = np.asarray(references, dtype=np.float64)
    for start in range(0, len(X), matcher.batch_size):
        rows = slice(start, start + matcher.batch_size)
        yield rows, span_similarities(X[rows], references, *settings)


def _shifted(X, shift):
    """Rows moved by ``shift`` points (to higher angles when positive), the
    points they leave filled with 0."""
    if shift == 0:
        return X
    out = np.zeros_like(X)
    if shift > 0:
        out[:, shift:] = X[:, :-shift]
    else:
        out[:, :shift] = X[:, -shift:]
    return out


def _span_similarities(
    X, references, intensity, smoothing, stride, center, min_run, cache
):
    """:func:`span_similarities` of one shift (``cache``: the references'
    running sums, once computed)."""
    sims = unit_rows(X, intensity, smoothing, stride, center) @ references.T
    if not min_run or X.shape[1] == 0:
        return sims
    # square roots take negative values as 0: so does the span
    start, stop = measured_span(np.maximum(X, 0) if intensity == "sqrt" else X, min_run)
    spans = np.flatnonzero((start > 0) | (stop < X.shape[1]))
    sums = None
    if len(spans) > _FEW_SPANS:  # computed once for all the shifts
        if "sums" not in cache:
            cache["sums"] = _running_sums(references)
        sums = cache["sums"]
    for i in spans:
        first = -(-int(start[i]) // stride) * stride  # a point the references keep
        if stop[i] - first <= stride:
            sims[i] = 0.0  # under two points to compare
            continue
        row = unit_rows(
            X[i : i + 1, first : stop[i]], intensity, smoothing, stride, center
        )
        col, width = first // stride, row.shape[1]
        ref = references[:, col : col + width]
        # the references' norms over the span (centred there with ``center``);
        # the row is centred, so its dot with a centred reference is its dot
        # with the reference itself
        if sums is None:
            part = ref - ref.mean(axis=1, keepdims=True) if center else ref
            sq = np.einsum("ij,ij->i", part, part, dtype=np.float64)
            energy = sq if not center else sq + width * ref.mean(axis=1) ** 2
        else:
            total, squares = (c[:, col + width] - c[:, col] for c in sums)
            energy = squares
            sq = squares - total**2 / width if center else squares
        # a reference flat over the span matches nothing
        varied = sq > 1e-10 * np.maximum(energy, 1e-30)
        norm = np.sqrt(np.where(varied, sq, 1.0))
        dot = ref @ row[0].astype(ref.dtype, copy=False)
        sims[i] = np.where(varied, dot / norm, 0.0)
    return sims


def _running_sums(references):
    """Running sums of the references and of their squares along the points
    (float64, a leading zero column): any span's sums in two lookups."""
    n = references.shape[0]
    total = np.zeros((n, references.shape[1] + 1))
    squares = np.zeros_like(total)
    np.cumsum(references, axis=1, dtype=np.float64, out=total[:, 1:])
    np.cumsum(np.square(references, dtype=np.float64), axis=1, out=squares[:, 1:])
    return total, squares


def best_per_class(similarities, starts):
    """The best similarity to each class's references (``starts``: where each
    class's references begin, the references sorted by class)."""
    return np.maximum.reduceat(similarities, starts, axis=1)


def top_neighbors(similarities, k, reference_index):
    """The ``k`` best similarities of each row, best first, and the indices
    (``reference_index`` of the columns) of those references."""
    top = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
    val = np.take_along_axis(similarities, top, axis=1)
    order = np.argsort(-val, axis=1, kind="stable")
    index = reference_index[np.take_along_axis(top, order, axis=1)]
    return np.take_along_axis(val, order, axis=1), index


def reference_labels(index, classes, starts, reference_index):
    """The labels of references by their rows ``index`` (any shape): a
    matcher keeps its references sorted by class, ``reference_index`` the row
    of each and ``starts`` where each class's run begins."""
    index = np.asarray(index, dtype=np.intp)
    position = np.empty_like(np.asarray(reference_index, dtype=np.intp))
    position[np.asarray(reference_index, dtype=np.intp)] = np.arange(len(position))
    run = np.searchsorted(np.asarray(starts), position[index], side="right") - 1
    return np.asarray(classes)[run]


def match_softmax(similarities, temperature):
    """The matcher's probabilities: a softmax of the best similarity per class."""
    from scipy.special import softmax

    return softmax(np.asarray(similarities, dtype=np.float64) / temperature, axis=1)


GATES = ("hard", "soft", "margin")


def gate_scores(similarities, margin=0.0):
    """What the gate compares with its threshold: the best similarity to a
    class, plus ``margin`` times its lead over the next class's best (a
    pattern of a reference's own compound resembles that reference far more
    than any of another class; a new compound resembles several alike)."""
    similarities = np.asarray(similarities)
    best = similarities.max(axis=1)
    if not margin or similarities.shape[1] < 2:
        return best
    second = np.partition(similarities, -2, axis=1)[:, -2]
    return best + margin * (best - second)


def gate_weights(similarities, gate, threshold, slope, margin=0.0):
    """The matcher's weight per pattern from :func:`gate_scores`: 0 or 1 with
    the hard gate, a logistic of ``slope × (score − threshold)`` with the
    soft and margin ones."""
    score = gate_scores(similarities, margin)
    if gate == "hard":
        return (score >= threshold).astype(float)
    from scipy.special import expit

    return expit(slope * (score - threshold))


def mixture(match_proba, model_proba, weight, match_columns, model_columns, n_classes):
    """``weight`` × the matcher's probabilities + the rest × the model's, in
    ``n_classes`` columns (``match_proba`` is read only where ``weight > 0``,
    ``model_proba`` only where ``weight < 1``: a callable of the row mask each
    may be given instead, so that the part not needed is not computed)."""
    proba = np.zeros((len(weight), n_classes))
    some = weight > 0
    if some.any():
        p = match_proba(some) if callable(match_proba) else match_proba[some]
        proba[np.ix_(some, match_columns)] = weight[some, None] * p
    rest = weight < 1
    if rest.any():
        p = model_proba(rest) if callable(model_proba) else model_proba[rest]
        proba[np.ix_(rest, model_columns)] += (1.0 - weight[rest, None]) * p
    return proba


# --------------------------------------------------------------------------- #
# union of members on class subsets
# --------------------------------------------------------------------------- #
def cosine_rows(X, means):
    """Cosine similarity of each row of ``X`` with the matching row of ``means``."""
    num = np.einsum("ij,ij->i", X, means)
    norms = np.linalg.norm(X, axis=1) * np.linalg.norm(means, axis=1)
    return np.divide(num, norms, out=np.zeros_like(num), where=norms > 0)


def member_stats(X, views, classes, class_means):
    """Every member's view of ``X``, as a :class:`UnionClassifier` weighs them.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32
    views : list of (proba, confidence, member_classes, own, has_head)
        Per member: its probabilities and confidence of ``X``, its classes,
        which of them are its own (the others: "none of mine" learned from
        negatives) and whether its confidence is a head's.
    classes : ndarray
        The union's classes (sorted).
    class_means : ndarray of shape (n_classes, n_features)

    Returns
    -------
    dict
        Arrays of shape (n_samples, n_members): ``top`` (index into
        ``classes`` of each member's answer), ``top_proba``, ``confidence``
        (times P(mine) with negatives), ``p_mine``, ``similarity``; and per
        member its probabilities over its own classes (``proba``) and their
        columns in ``classes`` (``columns``).
    """
    n, n_members = len(X), len(views)
    stats = {
        "top": np.empty((n, n_members), dtype=np.intp),
        "top_proba": np.empty((n, n_members)),
        "confidence": np.empty((n, n_members)),
        "p_mine": np.ones((n, n_members)),
        "similarity": np.empty((n, n_members)),
        "proba": [],
        "columns": [],
    }
    rows = np.arange(n)
    for m, (proba, confidence, member_classes, own, has_head) in enumerate(views):
        if not own.all():  # a "none of mine" class learned from negatives
            p_mine = proba[:, own].sum(axis=1)
            proba = proba[:, own] / np.maximum(p_mine, 1e-300)[:, None]
            if not has_head:
                confidence = proba.max(axis=1)
            confidence = confidence * p_mine
            stats["p_mine"][:, m] = p_mine
        cols = np.searchsorted(classes, member_classes[own])
        best = np.argmax(proba, axis=1)
        stats["top"][:, m] = cols[best]
        stats["top_proba"][:, m] = proba[rows, best]
        stats["confidence"][:, m] = confidence
        stats["similarity"][:, m] = 0.5 + 0.5 * cosine_rows(X, class_means[cols[best]])
        stats["proba"].append(proba)
        stats["columns"].append(cols)
    return stats


def router_features(stats):
    """Per member: confidence, similarity, top probability, P(mine), logits
    (the features of a union's learned router)."""
    parts = []
    for key in ("confidence", "similarity", "top_proba", "p_mine"):
        v = stats[key]
        parts.append(v)
        if key != "similarity":
            v = np.clip(v, 1e-6, 1 - 1e-6)
            parts.append(np.log(v) - np.log1p(-v))
    return np.concatenate(parts, axis=1)


def multinomial_proba(features, coef, intercept):
    """``LogisticRegression.predict_proba`` of a multinomial model (three or more
    classes) from its coefficients, computed as scikit-learn computes it."""
    z = features @ coef.T + intercept
    z -= z.max(axis=1).reshape((-1, 1))
    np.exp(z, out=z)
    z /= z.sum(axis=1).reshape((-1, 1))
    return z


def combine_members(stats, alpha, n_classes, router_proba=None, temperature=1.0):
    """A union's probabilities from its members' :func:`member_stats`.

    With ``router_proba`` (the router's probability that each member owns each
    pattern, shape (n_samples, n_members)) a mixture of experts; without, the
    reliability rule: the most reliable member answers, the others' weights
    capped below its top class. Returns ``(proba, weight, winner,
    reliability)``.
    """
    n = len(stats["top"])
    rows = np.arange(n)
    confidence, top_proba = stats["confidence"], stats["top_proba"]
    reliability = (1 - alpha) * confidence + alpha * stats["similarity"]
    if router_proba is not None:
        # a mixture of experts: P(k) = sum_m P(member m owns x) P_m(k | mine)
        capped = router_proba
        winner = np.argmax(router_proba, axis=1)
    else:
        # The study's rule: the most reliable member answers. Each member is
        # weighted by its confidence (with negatives, how likely the pattern
        # is one of its classes); the losers' weights are capped below the
        # winner's top class so that the mixture's argmax is its answer.
        winner = np.argmax(reliability, axis=1)
        weight = np.maximum(confidence, 1e-12)
        weight /= weight.sum(axis=1, keepdims=True)
        win_score = weight[rows, winner] * top_proba[rows, winner]
        cap = win_score[:, None] / np.maximum(top_proba, 1e-300) * (1 - 1e-9)
        capped = np.minimum(weight, cap)
        capped[rows, winner] = weight[rows, winner]
    combined = np.zeros((n, n_classes))
    for m, (proba, cols) in enumerate(zip(stats["proba"], stats["columns"])):
        combined[:, cols] += capped[:, m : m + 1] * proba
    combined /= np.maximum(combined.sum(axis=1, keepdims=True), 1e-300)
    if temperature != 1.0:
        z = np.log(np.maximum(combined, 1e-300)) / temperature
        combined = np.exp(z - z.max(axis=1, keepdims=True))
        combined /= combined.sum(axis=1, keepdims=True)
    return combined, capped, winner, reliability
