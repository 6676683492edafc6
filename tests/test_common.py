"""scikit-learn's estimator checks on every skxrd estimator (no expected failures).

Add one instance per estimator to ``ESTIMATORS``, configured so that the checks'
small random arrays (1 to 10 features) are meaningful input.
"""

import numpy as np
from sklearn.utils.estimator_checks import parametrize_with_checks

from skxrd.preprocessing import (
    BackgroundSubtractor,
    PatternCropper,
    PatternNormalizer,
    PatternResampler,
    PatternSmoother,
)

ESTIMATORS = [
    PatternResampler(two_theta=(5.0, 90.0, 1.0), source_range=(5.0, 90.0)),
    PatternResampler(
        two_theta=np.linspace(10, 20, 7),
        source_range=(0.5, 2.0),
        source_axis="q",
        out_of_range="fill",
    ),
    PatternNormalizer(),
    PatternNormalizer(method="minmax", scale="sqrt"),
    BackgroundSubtractor(window=2),
    BackgroundSubtractor(method="rolling_ball", window=2),
    PatternSmoother(window_length=2, polyorder=0),
    PatternCropper(start=1),
]


def expected_failed_checks(estimator):
    return {}  # none: every estimator passes every check


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
