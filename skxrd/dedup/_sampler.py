"""``DuplicateRemover``: train-only removal of near-duplicate patterns."""

from __future__ import annotations

import numpy as np
from imblearn.under_sampling.base import BaseCleaningSampler
from scipy.sparse import issparse

from ..utils._validation import check_int, check_real
from ._groups import duplicate_groups

__all__ = ["DuplicateRemover"]


class DuplicateRemover(BaseCleaningSampler):
    """Remove near-duplicate patterns from the training data only.

    An imbalanced-learn sampler: inside ``imblearn.pipeline.Pipeline`` it acts in
    ``fit`` and leaves data at predict time untouched. Within each targeted
    class, the first sample of every duplicate group (:func:`duplicate_groups`,
    cosine similarity ≥ ``threshold``) is kept. Duplicates with different labels
    are all kept: that is label noise for the user to look at, not a copy.

    Parameters
    ----------
    sampling_strategy : str, list or callable, default="all"
        Classes to clean (imbalanced-learn's cleaning semantics).
    threshold : float, default=0.99
        Cosine similarity at or above which two patterns are duplicates.
    algorithm : {"auto", "exact", "lsh"}, default="auto"
        See :func:`duplicate_groups`.
    random_state : int, default=0
        Seed of the LSH hash planes (an int: the groups must not change from
        one fit to the next).

    Attributes
    ----------
    sample_indices_ : ndarray
        Indices of the kept samples.
    groups_ : ndarray
        Duplicate group of every training sample.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.dedup import DuplicateRemover
    >>> X = np.array([[1.0, 0, 0], [0, 1, 0], [1.0, 0.001, 0], [0, 0, 1]])
    >>> y = np.array([0, 1, 0, 1])
    >>> X_res, y_res = DuplicateRemover().fit_resample(X, y)
    >>> X_res.shape, y_res.tolist()
    ((3, 3), [0, 1, 1])
    """

    # imbalanced-learn checks its own sampling_strategy; this class's
    # parameters are checked by _check_params (skxrd's checks)
    _parameter_constraints: dict = {**BaseCleaningSampler._parameter_constraints}

    def __init__(
        self,
        *,
        sampling_strategy="all",
        threshold=0.99,
        algorithm="auto",
        random_state=0,
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.threshold = threshold
        self.algorithm = algorithm
        self.random_state = random_state

    def _check_params(self):
        check_real(
            self.threshold,
            "threshold",
            minimum=0.0,
            maximum=1.0,
            include_min=False,
            include_max=False,
        )
        if self.algorithm not in ("auto", "exact", "lsh"):
            raise ValueError(
                f"algorithm must be 'auto', 'exact' or 'lsh', got {self.algorithm!r}"
            )
        return check_int(self.random_state, "random_state", minimum=0)

    def _fit_resample(self, X, y):
        seed = self._check_params()
        dense = X.toarray() if issparse(X) else X  # patterns are dense anyway
        groups = duplicate_groups(
            dense, threshold=self.threshold, algorithm=self.algorithm, random_state=seed
        )
        targeted = np.isin(y, list(self.sampling_strategy_))
        # a sample goes when an earlier sample of its group has the same label
        key = (
            groups.astype(np.int64) * (len(y) + 1)
            + np.unique(y, return_inverse=True)[1]
        )
        _, first = np.unique(key, return_index=True)
        is_first = np.zeros(len(y), dtype=bool)
        is_first[first] = True
        keep = np.flatnonzero(is_first | ~targeted)
        self.groups_ = groups
        self.sample_indices_ = keep
        return X[keep], y[keep]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.sampler_tags.sample_indices = True
        return tags
