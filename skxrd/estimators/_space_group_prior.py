"""A space-group classifier's answers shrunk, within each crystal system,
towards a structure database's shares (:class:`MatchFirstClassifier`'s
``prior``): numpy only, for the model files' runtime too."""

from __future__ import annotations

import numpy as np

SPACE_GROUP_PRIORS = ("icsd", "cod", "materials_project")


def check_prior(prior):
    """``prior`` as :class:`MatchFirstClassifier` takes it: None or the name
    of a structure database of :func:`skxrd.datasets.space_group_frequencies`."""
    if prior is not None and prior not in SPACE_GROUP_PRIORS:
        raise ValueError(
            f"prior must be None or one of {', '.join(SPACE_GROUP_PRIORS)}, "
            f"got {prior!r}"
        )
    return prior


def prior_shares(classes, prior):
    """Each space group's share of its crystal system among ``classes`` in a
    database's counts (plus one each: no group is impossible), and the index
    of its crystal system, as ``(shares, groups)``."""
    from ..crystal import to_crystal_system
    from ..datasets import space_group_frequencies

    classes = np.asarray(classes)
    try:
        numbers = np.asarray(classes, dtype=float)
        if not np.all(
            (numbers == np.round(numbers)) & (numbers >= 1) & (numbers <= 230)
        ):
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(
            "a space-group prior needs space-group classes (numbers 1-230), got "
            f"{classes[:5].tolist()}..."
        ) from None
    systems = np.asarray(to_crystal_system(numbers.astype(int))).astype(str)
    _, groups = np.unique(systems, return_inverse=True)
    counts = space_group_frequencies(check_prior(prior))[numbers.astype(int) - 1] + 1.0
    totals = np.bincount(groups, weights=counts)
    return counts / totals[groups], groups


def shrink_to_prior(proba, weight, prior):
    """``(1 - weight)`` × ``proba`` + ``weight`` × each crystal system's
    probability spread over its space groups by their shares: ``prior`` is
    :func:`prior_shares`' ``(shares, groups)``, or None (``proba`` as it is,
    as with a weight of 0). ``weight``: one, or one per class. The crystal
    systems' sums are unchanged."""
    proba = np.asarray(proba, dtype=float)
    if prior is None or not np.any(weight):
        return proba
    shares, groups = prior
    membership = (
        np.asarray(groups)[:, None] == np.arange(int(np.max(groups)) + 1)
    ).astype(float)
    spread = (proba @ membership) @ membership.T * np.asarray(shares)[None, :]
    return (1.0 - weight) * proba + weight * spread
