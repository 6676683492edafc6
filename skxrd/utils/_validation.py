"""Parameter checks shared by the subpackages."""

from __future__ import annotations

import math
import numbers

__all__ = ["check_int", "check_real"]


def check_int(value, what: str, *, minimum: int | None = None, allow_none=False):
    """An integer parameter (bools rejected), optionally bounded below."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value!r}")
    return int(value)


def check_real(value, what: str, *, allow_none=False) -> float | None:
    """A finite real parameter (bools rejected)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return float(value)
