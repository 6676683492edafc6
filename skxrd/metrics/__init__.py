"""Scores and plots for classifiers of diffraction patterns.

Selective classification, for models that may abstain on uncertain patterns:
:func:`accuracy_coverage_curve`, :func:`accuracy_at_coverage` and its plot
:class:`AccuracyCoverageDisplay`. Calibration of predicted probabilities:
:func:`expected_calibration_error` and the per-bin :func:`calibration_table`.
Confusion between crystal systems: :class:`CrystalSystemConfusionDisplay`, from
crystal-system or space-group labels.
"""

from ._calibration import calibration_table, expected_calibration_error
from ._confusion import CrystalSystemConfusionDisplay
from ._coverage import accuracy_at_coverage, accuracy_coverage_curve
from ._display import AccuracyCoverageDisplay

__all__ = [
    "AccuracyCoverageDisplay",
    "CrystalSystemConfusionDisplay",
    "accuracy_at_coverage",
    "accuracy_coverage_curve",
    "calibration_table",
    "expected_calibration_error",
]
