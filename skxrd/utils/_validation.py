"""Parameter checks shared by the subpackages, and plain scalars for messages."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np

__all__ = [
    "check_int",
    "check_n_jobs",
    "check_positive",
    "check_range",
    "check_real",
    "check_seed",
    "plain_scalar",
]


def check_int(value, what: str, *, minimum: int | None = None, allow_none=False):
    """An integer parameter (bools rejected), optionally bounded below."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value!r}")
    return int(value)


def check_n_jobs(value, what: str = "n_jobs"):
    """Workers for joblib: None, or a non-zero integer (bools rejected); -1 is
    all CPUs, -2 all but one, as joblib defines them. joblib's own errors for
    ``"2"``, ``1.5`` or ``0`` name neither the parameter nor the function, and
    a bad value went unnoticed where the work was too small to split."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{what} must be None or a non-zero integer (-1: all CPUs), got {value!r}"
        )
    if value == 0:
        raise ValueError(
            f"{what} must be None or a non-zero integer (-1: all CPUs), got 0"
        )
    return int(value)


def check_seed(value, what: str = "random_state"):
    """A seed: None, an integer >= 0 (bools rejected), or a numpy
    ``RandomState`` or ``Generator`` (returned as they are: drawing from them
    advances the caller's generator, as in scikit-learn). numpy's own errors
    for ``-1``, ``1.5`` or ``"0"`` name neither the parameter nor the value."""
    if value is None or isinstance(value, (np.random.RandomState, np.random.Generator)):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{what} must be None, an integer >= 0, a numpy RandomState or a "
            f"numpy Generator, got {value!r}"
        )
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value!r}")
    return int(value)


def check_bool(value, what: str) -> bool:
    """A flag: True or False (numpy's too), not a truthy string or number
    ("no" would turn an option on)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{what} must be True or False, got {value!r}")
    return bool(value)


def check_int_sequence(value, what: str, *, minimum: int = 1) -> tuple:
    """A non-empty sequence of integers (channels, blocks), each >= ``minimum``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"{what} must be a sequence of integers, got {value!r}")
    values = tuple(value)
    if not values:
        raise ValueError(f"{what} must hold at least one entry")
    return tuple(check_int(v, f"{what} entries", minimum=minimum) for v in values)


def check_real(
    value,
    what: str,
    *,
    allow_none=False,
    minimum: float | None = None,
    maximum: float | None = None,
    include_min: bool = True,
    include_max: bool = True,
) -> float | None:
    """A finite real parameter (bools rejected), optionally bounded."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    if minimum is not None and (
        value < minimum or (value == minimum and not include_min)
    ):
        op = ">=" if include_min else ">"
        raise ValueError(f"{what} must be {op} {minimum}, got {value!r}")
    if maximum is not None and (
        value > maximum or (value == maximum and not include_max)
    ):
        op = "<=" if include_max else "<"
        raise ValueError(f"{what} must be {op} {maximum}, got {value!r}")
    return float(value)


def check_positive(value, what: str) -> float:
    """A finite real parameter > 0 (bools rejected): one rule for all of them."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not (math.isfinite(value) and value > 0)
    ):
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    return float(value)


def check_range(
    value,
    what: str,
    *,
    minimum: float = 0.0,
    maximum: float = math.inf,
    allow_scalar: bool = False,
    allow_none: bool = False,
) -> tuple[float, float] | None:
    """A finite ``(min, max)`` pair within ``[minimum, maximum]``; with
    ``allow_scalar`` a single number stands for a fixed range."""
    if value is None and allow_none:
        return None
    if allow_scalar and isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = (value, value)
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        form = "a number or (min, max)" if allow_scalar else "(min, max)"
        raise ValueError(f"{what} must be {form}, got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and minimum <= lo <= hi <= maximum):
        bound = "" if maximum == math.inf else f" <= {maximum}"
        raise ValueError(
            f"{what} must satisfy {minimum} <= min <= max{bound}, got {value!r}"
        )
    return lo, hi


def plain_scalar(value):
    """A numpy scalar as the Python scalar it holds (for messages and JSON);
    anything else as it is."""
    return value.item() if isinstance(value, np.generic) else value
