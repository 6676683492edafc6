"""The numerical cores of the classifiers, without scikit-learn and skorch.

The estimators of this subpackage are scikit-learn facades over these
functions: which network a classifier builds from which of its parameters, the
forward pass in fixed-size chunks, tempered probabilities, and the
search-match (unit patterns, similarities, the gate between matcher and
network). :mod:`skxrd.pretrained` calls them directly to answer from a model
file without importing scikit-learn (``skxrd predict``, about a second less).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "INFER_CHUNK",
    "NETWORK_PARAMS",
    "best_per_class",
    "gate_weights",
    "infer_in_chunks",
    "match_softmax",
    "mixture",
    "network_module",
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
