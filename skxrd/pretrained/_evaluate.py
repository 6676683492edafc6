"""Scoring a classifier on labelled patterns (``skxrd evaluate``, model cards)."""

from __future__ import annotations

import numpy as np

from ..utils._validation import plain_scalar

__all__ = ["evaluate_model"]


def _top_k_scores(y_true, labels_top_k) -> dict:
    """Top-1 and top-k accuracy from ranked labels (one row per sample)."""
    hits = labels_top_k == np.asarray(y_true)[:, None]
    out = {"n": int(len(y_true)), "top1": float(hits[:, 0].mean())}
    for k in (2, 3, 5):
        if labels_top_k.shape[1] >= k:
            out[f"top{k}"] = float(hits[:, :k].any(axis=1).mean())
    return out


def _as_model_labels(y, classes):
    """Labels in the type of ``classes``; crystal systems for a space-group model."""
    from ..crystal import CRYSTAL_SYSTEMS

    y = np.asarray(y)
    if np.issubdtype(np.asarray(classes).dtype, np.integer):
        numbers = _integral(y)
        if numbers is None:
            names = {str(v) for v in y}
            if names <= set(CRYSTAL_SYSTEMS):
                return y.astype(str), "crystal_system"
            raise ValueError(
                "the model's classes are numbers; labels that are neither whole "
                "numbers nor crystal systems: "
                f"{sorted(names - set(CRYSTAL_SYSTEMS))[:10]}"
            )
        known = np.asarray(classes)
        if known.size and known.min() >= 1 and known.max() <= 230:
            # a space-group model: a group it lacks is a wrong answer, a
            # number that is no group (0, 999) a wrong label
            unknown = sorted({int(v) for v in numbers if not 1 <= v <= 230})
            what = "no space-group numbers (1-230)"
        else:
            unknown = sorted(set(numbers.tolist()) - set(known.tolist()))
            what = "not classes of the model"
        if unknown:  # counted wrong, they would only lower the score
            raise ValueError(f"labels that are {what}: {unknown[:10]}")
        return numbers, "model"
    y = _coarsened(y, classes)
    unknown = sorted({str(v) for v in y} - {str(c) for c in classes})
    if unknown:
        raise ValueError(
            f"labels that are not classes of the model: {unknown[:10]}; classes: "
            f"{[str(c) for c in classes][:10]}"
        )
    return y, "model"


def _integral(y):
    """``y`` as int64 when every label is a whole number (``225``, ``225.0``,
    ``"225"``, ``"225.0"`` as pandas writes a column with a gap), else None;
    not booleans, fractions or NaN."""
    if y.dtype.kind == "b":
        return None
    try:
        values = y.astype(np.float64)
    except (TypeError, ValueError):
        return None
    if not np.all(np.isfinite(values)) or np.any(values % 1):
        return None
    if y.dtype.kind == "O" and any(isinstance(v, bool) for v in y.ravel()):
        return None
    return values.astype(np.int64)


def _coarsened(y, classes):
    """``y`` as strings; space-group numbers as the coarse labels of a model
    that answers crystal systems, Bravais lattices... (its classes say which)."""
    from .. import crystal
    from ..crystal._spacegroups import _COARSE_TARGETS

    # whole numbers as _as_model_labels reads them for a model of numbers
    # ("225.0" too; not 225.5 or True in an object column, once truncated
    # to groups 225 and 1)
    numbers = _integral(y)
    if numbers is None:
        return y.astype(str)  # not space-group numbers
    names = {str(c) for c in classes}
    every = np.arange(1, 231)
    for target in _COARSE_TARGETS:
        to_coarse = getattr(crystal, f"to_{target}")
        if names and names <= set(np.asarray(to_coarse(every)).astype(str).tolist()):
            bad = sorted({int(v) for v in numbers.ravel() if not 1 <= v <= 230})
            if bad:
                raise ValueError(
                    f"labels that are no space-group numbers (1-230): {bad[:10]}; "
                    f"the model answers {target.replace('_', ' ')}s"
                )
            return np.asarray(to_coarse(numbers)).astype(str)
    return y.astype(str)


def evaluate_model(model, X, y, *, k=5) -> dict:
    """Accuracy of a fitted classifier: top-1, top-k and a per-class report.

    A space-group model can be scored against crystal-system labels: its ranked
    space groups are mapped to crystal systems (keeping the first occurrence of
    each), so the measured examples that carry only a crystal system still count.

    Parameters
    ----------
    model : fitted classifier with ``predict_top_k``
        A skxrd classifier or a :class:`PatternPipeline` (e.g. from
        :func:`load_pretrained`).
    X : list of Pattern or array-like of shape (n_samples, n_features)
        What the model's ``predict`` accepts.
    y : array-like of shape (n_samples,)
        True labels: classes of the model (numbers may come as strings, as
        read from a CSV), crystal-system names for a space-group model, or
        space-group numbers for a model of coarser labels (the crystal-system
        and Bravais-lattice models): they are mapped to its labels.
    k : int, default=5
        The largest k of the top-k accuracies (2, 3 and 5 where k allows).

    Returns
    -------
    dict
        ``n``, ``level`` (``"model"``, or ``"crystal_system"`` when a space-group
        model was scored on crystal systems), ``top1``, ``top2``, ``top3``,
        ``top5`` (as far as ``k`` and the classes allow), ``predicted`` (the top-1
        labels), ``truth``, ``classification_report`` (text, scikit-learn's)
        and ``majority_share`` (the most common true label's share: the
        accuracy of always answering it).

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.estimators import CNNClassifier
    >>> from skxrd.pretrained import evaluate_model
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["cubic", "hexagonal", "monoclinic"], 20)
    >>> X = rng.random((60, 32))
    >>> X[y == "cubic", 5] += 4.0
    >>> clf = CNNClassifier(channels=(4,), max_epochs=10, lr=1e-2,
    ...                     random_state=0).fit(X, y)
    >>> report = evaluate_model(clf, X, y, k=2)
    >>> report["n"], sorted(k for k in report if k.startswith("top"))
    (60, ['top1', 'top2'])
    """
    from sklearn.metrics import classification_report

    from ..crystal import to_crystal_system
    from ..utils._validation import check_int

    k = check_int(k, "k", minimum=1)
    y_model, level = _as_model_labels(y, model.classes_)
    if len(y_model) != (len(X) if isinstance(X, list) else np.shape(X)[0]):
        raise ValueError(f"X has {len(X)} patterns but y has {len(y_model)} labels")
    n_ranked = len(model.classes_) if level != "model" else k
    labels, _ = model.predict_top_k(X, k=n_ranked)
    if level == "crystal_system":
        systems = np.asarray(to_crystal_system(labels.ravel())).reshape(labels.shape)
        # the distinct systems in rank order
        ranked = [list(dict.fromkeys(row.tolist()))[:k] for row in systems]
        width = max(len(r) for r in ranked)
        labels = np.array([r + [""] * (width - len(r)) for r in ranked])
    scores = _top_k_scores(y_model, labels)
    predicted = labels[:, 0]
    values, counts = np.unique(y_model, return_counts=True)
    return {
        **scores,
        "level": level,
        "predicted": [plain_scalar(v) for v in predicted],
        "truth": [plain_scalar(v) for v in y_model],
        "majority_share": float(counts.max() / counts.sum()),
        "classification_report": classification_report(
            *(
                (y_model, predicted)  # numbers in numeric order (1, 7, 10)
                if y_model.dtype.kind in "iu" and predicted.dtype.kind in "iu"
                else (y_model.astype(str), predicted.astype(str))
            ),
            zero_division=0,
        ),
    }
