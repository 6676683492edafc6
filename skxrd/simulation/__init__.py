"""Diffraction simulation: powder patterns (radiation, scattering factors, peak
lists, profiles) and 2D single-crystal images (zone axes, fingerprints)."""

from ..utils._radiation import XRAY_LINES, Radiation, get_radiation
from ._images import DiffractionImageSimulator
from ._instrument import MEASURED_LIKE, InstrumentSampler
from ._peaks import PeakList
from ._scattering import (
    anomalous_terms,
    form_factor_coefficients,
    neutron_scattering_length,
    xray_form_factor,
)
from ._simulator import PowderSimulator

__all__ = [
    "XRAY_LINES",
    "DiffractionImageSimulator",
    "InstrumentSampler",
    "MEASURED_LIKE",
    "PeakList",
    "PowderSimulator",
    "Radiation",
    "anomalous_terms",
    "form_factor_coefficients",
    "get_radiation",
    "neutron_scattering_length",
    "xray_form_factor",
]
