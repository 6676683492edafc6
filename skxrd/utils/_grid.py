"""Names of the points of a grid, as scikit-learn's feature names."""

from __future__ import annotations

import numpy as np


def grid_feature_names(
    grid: np.ndarray, prefix: str = "two_theta", decimals: int = 3
) -> np.ndarray:
    """Names such as ``two_theta_5.000``: ``decimals`` decimals, more when
    needed for every name to differ (a fine grid).

    Examples
    --------
    >>> grid_feature_names(np.array([5.0, 5.02])).tolist()
    ['two_theta_5.000', 'two_theta_5.020']
    >>> grid_feature_names(np.array([5.0, 5.0001])).tolist()
    ['two_theta_5.0000', 'two_theta_5.0001']
    """
    for digits in range(decimals, 12):
        names = [f"{prefix}_{x:.{digits}f}" for x in grid]
        if len(set(names)) == len(names):
            break
    return np.asarray(names, dtype=object)
