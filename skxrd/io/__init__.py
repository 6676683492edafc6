"""Diffraction patterns as objects and files.

:class:`Pattern` holds one 1D pattern (2θ or Q axis, intensity, wavelength), with
the axis conversions :func:`two_theta_to_q` and :func:`q_to_two_theta`.
:func:`read_pattern` reads measured patterns (text columns, PANalytical XRDML,
Rigaku RAS/RASX, Bruker RAW v3/v4, UXD and BRML, GSAS raw data, Philips UDF,
IUCr powder CIF) and
:func:`write_pattern` writes text columns that read back to the same pattern;
unreadable files raise :class:`PatternFormatError`.
"""

from ._pattern import Pattern, q_to_two_theta, two_theta_to_q
from ._readers import PatternFormatError, read_pattern, write_pattern

__all__ = [
    "Pattern",
    "PatternFormatError",
    "q_to_two_theta",
    "read_pattern",
    "two_theta_to_q",
    "write_pattern",
]
