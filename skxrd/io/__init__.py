"""Diffraction patterns as objects: :class:`Pattern` and axis conversions.

File readers and writers for measured formats will live here too.
"""

from ._pattern import Pattern, q_to_two_theta, two_theta_to_q

__all__ = ["Pattern", "q_to_two_theta", "two_theta_to_q"]
