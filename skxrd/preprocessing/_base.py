"""Helpers shared by the pattern transformers."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import validate_data

# re-exported: the transformers import them from here
from ._core import FLOAT_DTYPES, check_finite, grid_feature_names, make_grid  # noqa: F401


def validate_patterns(est, X, *, reset: bool) -> np.ndarray:
    """``validate_data`` for 2D float patterns, with finiteness checked per sample.

    float32 and float64 are kept; other dtypes become float64.
    """
    X = validate_data(est, X, reset=reset, dtype=FLOAT_DTYPES, ensure_all_finite=False)
    check_finite(X)
    return X


def check_not_empty(X) -> None:
    """One clear error for an empty list of patterns (scikit-learn would read it
    as a 1D array and advise reshaping it)."""
    if isinstance(X, (list, tuple)) and not len(X):
        raise ValueError(
            f"X is an empty {type(X).__name__}: give at least one Pattern (or a "
            "2D array of patterns)"
        )


class PatternwiseTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Base of the stateless transformers that act on each pattern alone.

    Subclasses define ``_check_params`` and ``transform``; ``fit`` only checks
    the parameters and records the number of features.
    """

    def _check_params(self):  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def fit(self, X, y=None):
        """Check the parameters and record the number of features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._check_params()
        validate_patterns(self, X, reset=True)
        return self
