"""The numerical cores of the classifiers, without scikit-learn and skorch.

The estimators of this subpackage are scikit-learn facades over these
functions: which network a classifier builds from which of its parameters, the
forward pass in fixed-size chunks, tempered probabilities, and the
search-match (unit patterns, similarities, the gate between matcher and
network). :mod:`skxrd.pretrained` calls them directly to answer from a model
file without importing scikit-learn (``skxrd predict``, about a second less).
So do the union's cores: its members' views of a pattern and their
combination.
"""

from __future__ import annotations

import numpy as np

from ..indexing._index import check_first_lines, check_max_zero_shift

__all__ = [
    "INFER_CHUNK",
    "combine_members",
    "cosine_rows",
    "member_stats",
    "multinomial_proba",
    "router_features",
    "NETWORK_PARAMS",
    "best_per_class",
    "gate_weights",
    "indexable",
    "indexing_merits",
    "indexing_settings",
    "absence_settings",
    "weigh_absences",
    "check_absences",
    "INDEXING_ABSENCE_WEIGHT",
    "INDEXING_ABSENCE_MIN_MERIT",
    "INDEXING_DEGREE",
    "INDEXING_FAMILIES",
    "INDEXING_MERIT_CAP",
    "INDEXING_MAX_ZERO_SHIFT",
    "INDEXING_FIRST_LINES",
    "check_degree",
    "check_families",
    "check_merit_cap",
    "check_first_lines",
    "check_max_zero_shift",
    "family_lattices",
    "indexing_features",
    "infer_in_chunks",
    "match_softmax",
    "mixture",
    "network_module",
    "reweight_coarse",
    "stack_coarse",
    "stack_proba",
    "normalized_probabilities",
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
        ("growth_rate", "block_config", "kernel_size", "dropout"),
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
    torch, batch by batch)."""
    rows = [b.detach().cpu().numpy() if hasattr(b, "detach") else b for b in batches]
    proba = np.concatenate(rows).astype(np.float64)
    proba /= proba.sum(axis=1, keepdims=True)
    return proba


def coarse_membership(fine_classes, target):
    """The coarse labels (``target``: crystal system, Bravais lattice... of
    :class:`CoarseLabelClassifier`) of space-group classes, sorted, and the
    ``(n_fine, n_coarse)`` 0/1 matrix that sums their probabilities."""
    from .. import crystal

    coarse = np.asarray(getattr(crystal, f"to_{target}")(fine_classes)).astype(str)
    classes = np.unique(coarse)
    return classes, (coarse[:, None] == classes[None, :]).astype(float)


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


def match_softmax(similarities, temperature):
    """The matcher's probabilities: a softmax of the best similarity per class."""
    from scipy.special import softmax

    return softmax(np.asarray(similarities, dtype=np.float64) / temperature, axis=1)


def gate_weights(similarities, gate, threshold, slope):
    """The matcher's weight per pattern from its best similarity to a class:
    0 or 1 with the hard gate, a logistic of ``slope × (best − threshold)``
    with the soft one."""
    best = similarities.max(axis=1)
    if gate == "hard":
        return (best >= threshold).astype(float)
    from scipy.special import expit

    return expit(slope * (best - threshold))


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


_INDEXING_FLOOR = 1e-6  # smallest probability whose logarithm the stacker sees


#: fewer peaks than this cannot be indexed (:func:`skxrd.indexing.index_powder`)
INDEXING_MIN_LINES = 8


#: the lattice families an IndexingClassifier weighs by default, and the
#: powers of log(1 + M) its stacker sees (model files written before the
#: orthorhombic lattices weigh "cth" at degree 1: they lack these keys)
INDEXING_FAMILIES = "ctho"
INDEXING_DEGREE = 2
#: the figure of merit the stacker sees at most: de Wolff's M20 is sure from
#: about 20 on; hundreds come only from exact positions (simulated or very
#: clean synchrotron patterns), which the stacker rarely saw fitting, and
#: the square of log(1 + M) must not run off there (files written before
#: the cap have none: inf)
INDEXING_MERIT_CAP = 100.0
#: the zero shift of the 2θ scale (degrees) the indexing refines with each
#: cell (:func:`skxrd.indexing.index_powder`); files written before it
#: refine none: 0
INDEXING_MAX_ZERO_SHIFT = 0.1
#: how many of the first lines the orthorhombic and monoclinic candidates may
#: start from (:func:`skxrd.indexing.index_powder`, whose own default is 4):
#: the shipped stackers were fitted with 2, the search before December 2026,
#: and files that lack the key were too
INDEXING_FIRST_LINES = 2
#: the power of a space group's merit ratio (its merit with its absences over
#: the best group's of the crystal system) its share is weighed by, and the
#: family merit a cell needs for it: the lowest log-loss of the space groups
#: of simulated tuning patterns (experiments/README.md, ``absences.py``)
INDEXING_ABSENCE_WEIGHT = 1.0
INDEXING_ABSENCE_MIN_MERIT = 40.0
#: a group's merit ratio counts at least exp(-3): an impurity line or a wrong
#: cell must not rule out the classifier's answer
_ABSENCE_FLOOR = 3.0


def check_families(families):
    """``families`` as a string of distinct letters of ``"cthoma"`` (cubic,
    tetragonal, hexagonal, orthorhombic, monoclinic, triclinic), or an error
    naming it."""
    if (
        not isinstance(families, str)
        or not families
        or len(set(families)) != len(families)
        or not set(families) <= set("cthoma")
    ):
        raise ValueError(
            "families must be distinct letters of 'cthoma' (cubic, tetragonal, "
            "hexagonal, orthorhombic, monoclinic, triclinic), such as 'ctho' or "
            f"'cthoa'; got {families!r}"
        )
    return families


def check_degree(degree):
    """``degree`` (1 or 2: the powers of ``log(1 + M)``), or an error."""
    if isinstance(degree, bool) or degree not in (1, 2):
        raise ValueError(f"degree must be 1 or 2, got {degree!r}")
    return int(degree)


def check_merit_cap(merit_cap):
    """``merit_cap`` (a positive float, ``inf`` for none), or an error."""
    if isinstance(merit_cap, bool):
        raise ValueError(f"merit_cap must be a positive number, got {merit_cap!r}")
    try:
        cap = float(merit_cap)
    except (TypeError, ValueError):
        raise ValueError(
            f"merit_cap must be a positive number, got {merit_cap!r}"
        ) from None
    if not cap > 0:
        raise ValueError(f"merit_cap must be a positive number, got {merit_cap!r}")
    return cap


def check_absences(absences, weight, min_merit):
    """``(absences, absence_weight, absence_min_merit)`` checked: a bool and
    two non-negative finite numbers, or an error naming the bad one."""
    if not isinstance(absences, (bool, np.bool_)):
        raise ValueError(f"absences must be True or False, got {absences!r}")
    out = [bool(absences)]
    for name, value in (("absence_weight", weight), ("absence_min_merit", min_merit)):
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = float("nan")
        if isinstance(value, bool) or not (np.isfinite(v) and v >= 0):
            raise ValueError(
                f"{name} must be a non-negative finite number, got {value!r}"
            )
        out.append(v)
    return tuple(out)


def absence_settings(record):
    """``(absences, absence_weight, absence_min_merit)`` of a model file's
    indexing record, checked; files written before them weigh no absences."""
    return check_absences(
        record.get("absences", False),
        record.get("absence_weight", INDEXING_ABSENCE_WEIGHT),
        record.get("absence_min_merit", INDEXING_ABSENCE_MIN_MERIT),
    )


def _family_of_groups():
    """The crystal-family letter of space groups 1-230 (index 0 is group 1)."""
    from ..indexing._absences import _FAMILY_GROUPS

    out = np.empty(230, dtype="<U1")
    for fam, (lo, hi) in _FAMILY_GROUPS.items():
        out[lo - 1 : hi] = fam
    return out


def weigh_absences(proba, classes, merits, group_merits, weight, min_merit):
    """Space-group probabilities whose shares within each crystal system are
    weighed by the groups' systematic absences; no crystal system's sum moves.

    Within a crystal system (not triclinic) whose family's best cell scores at
    least ``min_merit`` (``merits``: :func:`skxrd.indexing.lattice_merits`),
    each group's probability is multiplied by ``(M_g / M_best) ** weight``,
    ``M_g`` its merit with its absences (``group_merits``, columns of groups
    1-230), ``M_best`` the best group's of the system, the ratio at least
    ``exp(-3)``; then the system's probabilities are scaled back to its sum.
    ``classes`` are space-group numbers or symbols."""
    from ..crystal import space_group_number, to_crystal_system
    from ..indexing._index import ALL_LATTICE_TYPES

    proba = np.asarray(proba, dtype=float)
    if float(weight) == 0:
        return proba
    numbers = np.array([space_group_number(c) for c in np.asarray(classes).tolist()])
    systems = np.asarray(to_crystal_system(numbers)).astype(str)
    families = _family_of_groups()[numbers - 1]
    lattice_family = np.array([lat[0] for lat in ALL_LATTICE_TYPES])
    m = np.asarray(merits, dtype=float)
    g = np.asarray(group_merits, dtype=float)[:, numbers - 1]
    out = proba.copy()
    for system in np.unique(systems):
        cols = np.flatnonzero(systems == system)
        fam = families[cols[0]]
        if fam == "a" or len(cols) < 2:
            continue
        rows = m[:, :-1][:, lattice_family == fam].max(axis=1) >= float(min_merit)
        rows &= indexable(m)
        if not rows.any():
            continue
        gm = g[np.ix_(rows, cols)]
        top = gm.max(axis=1, keepdims=True)
        ratio = np.log(np.maximum(gm, 1e-12)) - np.log(np.maximum(top, 1e-12))
        block = proba[np.ix_(rows, cols)] * np.exp(
            float(weight) * np.maximum(ratio, -_ABSENCE_FLOOR)
        )
        mass = proba[np.ix_(rows, cols)].sum(axis=1, keepdims=True)
        out[np.ix_(rows, cols)] = (
            block / np.maximum(block.sum(axis=1, keepdims=True), 1e-300) * mass
        )
    return out


def indexing_settings(record):
    """``(families, degree, merit_cap, max_zero_shift, first_lines)`` of a
    model file's indexing record, checked. Files written before the
    orthorhombic lattices lack them: they weigh "cth" at degree 1, with no cap
    and no zero shift (which came later still); files without
    ``first_lines`` searched from the first two lines."""
    return (
        check_families(record.get("families", "cth")),
        check_degree(record.get("degree", 1)),
        check_merit_cap(record.get("merit_cap", float("inf"))),
        check_max_zero_shift(record.get("max_zero_shift", 0.0)),
        check_first_lines(record.get("first_lines", INDEXING_FIRST_LINES)),
    )


def family_lattices(families):
    """The lattice types of :data:`skxrd.indexing.ALL_LATTICE_TYPES` in
    ``families``."""
    from ..indexing._index import ALL_LATTICE_TYPES

    return tuple(lat for lat in ALL_LATTICE_TYPES if lat[0] in families)


def indexing_features(
    proba_coarse,
    merits,
    families=INDEXING_FAMILIES,
    degree=INDEXING_DEGREE,
    merit_cap=INDEXING_MERIT_CAP,
    group_merits=None,
):
    """The inputs of :class:`IndexingClassifier`'s stacker.

    The log crystal-system probabilities (columns of ``proba_coarse``), then
    ``m = log(1 + M)`` of the best cell of each of ``families`` (letters of
    ``"cthoma"``), from the figures of merit of
    :func:`skxrd.indexing.lattice_merits`, and with ``degree`` 2 also ``m²``
    (a merit of 10 is weak evidence, one of 50 strong: a logistic regression
    sees that bend only through the square). Merits above ``merit_cap`` count
    as ``merit_cap``. With ``group_merits`` (columns of space groups 1-230,
    :func:`skxrd.indexing.lattice_merits` with ``space_groups``), a family's
    merit is its best space group's where that is higher: a cell whose lines
    show a glide or a screw axis is surer than its lattice's merit says.
    """
    from ..indexing._index import ALL_LATTICE_TYPES

    family = np.array([lat[0] for lat in ALL_LATTICE_TYPES])
    m = np.asarray(merits, float)
    best = np.stack([m[:, :-1][:, family == f].max(axis=1) for f in families], axis=1)
    if group_merits is not None:
        g = np.asarray(group_merits, float)
        of_group = _family_of_groups()
        best = np.maximum(
            best, np.stack([g[:, of_group == f].max(axis=1) for f in families], axis=1)
        )
    best = np.log1p(np.minimum(best, float(merit_cap)))
    return np.concatenate(
        [np.log(np.clip(proba_coarse, _INDEXING_FLOOR, 1.0))]
        + [best**power for power in range(1, int(degree) + 1)],
        axis=1,
    )


def indexing_merits(
    X,
    two_theta,
    radiation,
    scale,
    families,
    max_zero_shift=INDEXING_MAX_ZERO_SHIFT,
    first_lines=INDEXING_FIRST_LINES,
    n_jobs=None,
    verbose=False,
    twofold_axes=False,
    absences=False,
):
    """:func:`skxrd.indexing.lattice_merits` of preprocessed rows: squared
    back first where ``scale`` is ``"sqrt"``, the lattices of ``families``
    only, a zero shift up to ``max_zero_shift`` refined, candidates from one
    of the first ``first_lines`` lines. The peak lists keep Kβ lines
    (dropping them found no more measured cells, experiments/README.md).
    The stackers were fitted without ``index_powder``'s twofold-axis
    monoclinic candidates: with them, a ``cthoma`` stacker named no more
    RRUFF crystal systems (``experiments/indexing_stack.py``, the tenth
    version). With ``absences``, ``(merits, group_merits)``: each family's
    best cell scored with every space group's absences too."""
    from ..indexing._index import lattice_merits

    if scale == "sqrt":
        X = np.square(np.maximum(X, 0.0))
    return lattice_merits(
        X,
        two_theta,
        radiation=radiation,
        lattices=family_lattices(families),
        max_zero_shift=float(max_zero_shift),
        drop_kbeta=False,
        first_lines=int(first_lines),
        twofold_axes=bool(twofold_axes),
        space_groups=bool(absences),
        n_jobs=n_jobs,
        verbose=verbose,
    )


def indexable(merits):
    """Which patterns had enough peaks to be indexed: the others keep the
    wrapped classifier's answer (no cell found is no evidence there)."""
    return np.asarray(merits, float)[:, -1] >= INDEXING_MIN_LINES


def stack_coarse(
    coarse,
    merits,
    stacked_proba,
    columns,
    families=INDEXING_FAMILIES,
    degree=INDEXING_DEGREE,
    merit_cap=INDEXING_MERIT_CAP,
    group_merits=None,
):
    """Crystal-system probabilities of the stacker where the patterns were
    indexable, ``coarse`` (the wrapped classifier's) elsewhere.
    ``stacked_proba(features)`` gives the stacker's probabilities of its
    classes, which are the ``columns`` of ``coarse``; its features are
    :func:`indexing_features` of ``families``, ``degree``, ``merit_cap`` and
    ``group_merits``."""
    new = np.array(coarse, dtype=float, copy=True)
    rows = indexable(merits)
    if rows.any():
        new[rows] = 0.0
        new[np.ix_(rows, columns)] = stacked_proba(
            indexing_features(
                coarse[rows],
                np.asarray(merits)[rows],
                families,
                degree,
                merit_cap,
                None if group_merits is None else np.asarray(group_merits)[rows],
            )
        )
    return new


def stack_proba(
    proba,
    membership,
    merits,
    stacked_proba,
    columns,
    families=INDEXING_FAMILIES,
    degree=INDEXING_DEGREE,
    merit_cap=INDEXING_MERIT_CAP,
    group_merits=None,
):
    """Fine-class probabilities whose crystal systems are the stacker's
    (:func:`stack_coarse` of ``proba @ membership``), each fine class keeping
    its share of its crystal system (:func:`reweight_coarse`)."""
    new = stack_coarse(
        proba @ membership,
        merits,
        stacked_proba,
        columns,
        families,
        degree,
        merit_cap,
        group_merits,
    )
    return reweight_coarse(proba, membership, new)


def reweight_coarse(proba, membership, coarse_new):
    """Fine-class probabilities whose coarse sums (``proba @ membership``)
    become ``coarse_new``, each fine class keeping its share of its coarse
    class."""
    coarse = proba @ membership
    ratio = coarse_new / np.maximum(coarse, 1e-12)
    out = proba * (ratio @ membership.T)
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-300)
