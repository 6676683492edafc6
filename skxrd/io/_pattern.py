"""The :class:`Pattern`: one measured or simulated 1D powder pattern."""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..utils._radiation import Radiation, get_radiation, kalpha_mean_anode
from ..utils._validation import check_positive
from ..utils._warnings import caller_stacklevel

__all__ = ["AXES", "Pattern", "q_to_two_theta", "two_theta_to_q"]

AXES = ("two_theta", "q")


def _checked_wavelength(wavelength) -> float:
    """``wavelength`` as a float of Å; anything but a finite positive number
    is an error (0 gave inf, a negative one mirrored angles, NaN gave NaN).
    The package's rule (:func:`check_positive`), after the ``float`` the
    conversions always took (a one-element array, say)."""
    if not isinstance(wavelength, (bool, str)):
        try:
            wavelength = float(wavelength)
        except (TypeError, ValueError):
            pass  # named as it was given
    return check_positive(wavelength, "wavelength")


def two_theta_to_q(two_theta, wavelength: float) -> np.ndarray:
    """Convert 2θ (degrees) to Q = 4π sin θ / λ (Å⁻¹) by Bragg's law.

    Values of 2θ beyond ±180° give NaN (sin θ would fold them back onto the
    Q of 360° − 2θ).

    Parameters
    ----------
    two_theta : array-like
        Angles in degrees.
    wavelength : float
        Wavelength in Å, a finite positive number.

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        If ``wavelength`` is not a finite positive number.

    Examples
    --------
    >>> round(float(two_theta_to_q(180.0, 2 * np.pi)), 12)
    2.0
    >>> two_theta_to_q([90.0, 200.0], 2 * np.pi).round(6).tolist()
    [1.414214, nan]
    """
    lam = _checked_wavelength(wavelength)
    tt = np.asarray(two_theta, dtype=float)
    q = 4.0 * np.pi * np.sin(np.radians(tt) / 2.0) / lam
    return np.where(np.abs(tt) <= 180.0, q, np.nan)


def q_to_two_theta(q, wavelength: float) -> np.ndarray:
    """Convert Q (Å⁻¹) to 2θ (degrees) at ``wavelength`` (Å) by Bragg's law.

    Values of Q beyond the reach of the wavelength (Q λ / 4π > 1, that is 2θ
    beyond 180°) give NaN.

    Parameters
    ----------
    q : array-like
        Q in Å⁻¹.
    wavelength : float
        Wavelength in Å, a finite positive number.

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        If ``wavelength`` is not a finite positive number.

    Examples
    --------
    >>> q_to_two_theta([2.0, 3.0], 2 * np.pi).round(6).tolist()
    [180.0, nan]
    """
    lam = _checked_wavelength(wavelength)
    s = np.asarray(q, dtype=float) * lam / (4.0 * np.pi)
    out = np.full(s.shape, np.nan)
    ok = np.abs(s) <= 1.0 + 1e-12  # tolerate rounding at 2θ = 180°
    out[ok] = np.degrees(2.0 * np.arcsin(np.clip(s[ok], -1.0, 1.0)))
    return out


def as_patterns(X, what="X", error=TypeError) -> list[Pattern] | None:
    """The patterns in ``X``, or None for array-like input (for the package:
    preprocessing, inspection and pipelines take patterns or arrays).

    A sequence that mixes Pattern objects with other items raises ``error``,
    naming the input ``what``.
    """
    if isinstance(X, Pattern):
        return [X]
    is_seq = isinstance(X, (list, tuple)) or (
        isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1
    )
    if not is_seq or not any(isinstance(p, Pattern) for p in X):
        return None
    for i, p in enumerate(X):
        if not isinstance(p, Pattern):
            raise error(
                f"{what} mixes Pattern objects with other items: item {i} is a "
                f"{type(p).__name__}"
            )
    return list(X)


def resolve_wavelength(wavelength, radiation) -> tuple[float | None, Radiation | None]:
    """The primary wavelength (Å) and the radiation, if one was named."""
    rad = None
    if (
        isinstance(radiation, str)
        and radiation.strip().lower() in ("xray", "x-ray", "neutron")
        and isinstance(wavelength, numbers.Real)
        and not isinstance(wavelength, bool)
    ):
        # a kind of radiation: the wavelength given is its wavelength
        rad = get_radiation(radiation, wavelength=float(wavelength))
    elif radiation is not None:
        rad = (
            radiation if isinstance(radiation, Radiation) else get_radiation(radiation)
        )
    if isinstance(wavelength, (str, Radiation)):
        named = (
            wavelength
            if isinstance(wavelength, Radiation)
            else get_radiation(wavelength)
        )
        if rad is not None and not math.isclose(
            named.wavelength, rad.wavelength, rel_tol=1e-6
        ):
            raise ValueError(
                f"wavelength={wavelength!r} ({named.wavelength} Å) disagrees with "
                f"radiation={rad.name!r} ({rad.wavelength} Å)"
            )
        rad = rad or named
        wavelength = None
    if wavelength is not None:
        if isinstance(wavelength, numbers.Real) and not isinstance(wavelength, bool):
            wavelength = float(wavelength)  # numpy scalars too
        lam = get_radiation(wavelength).wavelength  # checks a positive number
        if rad is not None and not math.isclose(lam, rad.wavelength, rel_tol=1e-6):
            raise ValueError(
                f"wavelength={wavelength!r} Å disagrees with radiation="
                f"{rad.name!r} ({rad.wavelength} Å)"
            )
        return lam, rad
    if rad is not None:
        return float(rad.wavelength), rad
    return None, None


def _as_1d(values, what: str) -> np.ndarray:
    if np.ma.isMaskedArray(values):
        # np.array drops the mask: masked (invalid) points would be read as data
        masked = np.flatnonzero(np.ma.getmaskarray(values))
        if masked.size:
            raise ValueError(
                f"{what} is a masked array with {masked.size} masked value(s), the "
                f"first at index {int(masked[0])}; drop those points (or fill "
                "them) before building a Pattern"
            )
    try:
        arr = np.array(values, dtype=float)
    except OverflowError:
        raise ValueError(f"{what} holds a number too large for float64") from None
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a 1D array of numbers") from None
    if arr.ndim != 1:
        raise ValueError(f"{what} must be 1D, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{what} contains a non-finite value ({arr[i]}) at index {i}"
            + (f" and {bad.size - 1} more" if bad.size > 1 else "")
        )
    return arr


_ATOMS = (str, bytes, int, float, complex, type(None))


class _NotPlain(Exception):
    pass


def _plain_copy(value, depth: int = 0):
    """A copy of nested dicts, lists and tuples of plain values; _NotPlain
    for anything else (or nesting deeper than 64, such as a list that holds
    itself)."""
    if isinstance(value, _ATOMS):
        return value
    if depth > 64:
        raise _NotPlain
    kind = type(value)
    if kind is dict:
        return {k: _plain_copy(v, depth + 1) for k, v in value.items()}
    if kind is list:
        return [_plain_copy(v, depth + 1) for v in value]
    if kind is tuple:
        return tuple(_plain_copy(v, depth + 1) for v in value)
    raise _NotPlain


def _copy_metadata(metadata: dict) -> dict:
    """A deep copy of ``metadata``, so that no pattern shares a nested list or
    dict with the caller or with the patterns made from it.

    Plain values (a file header of 10,000 lines) are copied directly
    (``copy.deepcopy`` is ten times slower); a value that cannot be copied (a
    lock, an open file) is kept as it is.
    """
    try:
        return _plain_copy(metadata)
    except _NotPlain:
        pass
    try:
        return copy.deepcopy(metadata)
    except Exception:  # any __deepcopy__ or __reduce__ may fail
        out = {}
        for key, value in metadata.items():
            try:
                out[key] = copy.deepcopy(value)
            except Exception:
                out[key] = value
        return out


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(arr)
    arr.flags.writeable = False
    return arr


class Pattern:
    """A measured or simulated 1D powder diffraction pattern.

    The positions ``x`` are stored strictly increasing (a decreasing or unsorted
    scan is sorted, together with its intensities). The arrays are copies and
    read-only, so a pattern can be shared safely; build a new one to change it.

    Parameters
    ----------
    x : array-like of shape (n_points,)
        Positions: 2θ in degrees within [0, 180] (``axis="two_theta"``) or
        Q = 4π sin θ / λ ≥ 0 in Å⁻¹ (``axis="q"``). Finite and without
        duplicates; any order (they are sorted).
    intensity : array-like of shape (n_points,)
        Finite intensities (negative values are allowed, e.g. after background
        subtraction).
    axis : {"two_theta", "q"}, default="two_theta"
        The meaning of ``x``.
    wavelength : float or str, optional
        The primary wavelength in Å, or a radiation name such as ``"CuKa"`` or
        ``"MoKa1"`` (its primary line is used). Required for a 2θ axis unless
        ``radiation`` is given; optional for a Q axis. A number within 3e-4 Å
        of an anode's Kα1/Kα2 weighted mean (Cu 1.5418, Mo 0.7107, Co 1.7903,
        Fe 1.9373, Cr 2.2910, Ag 0.5609 Å), the single value files state for a
        tube's doublet, is read as that doublet (``"CuKa"``), with a
        :class:`UserWarning`; give ``radiation="xray"`` too for a monochromatic
        beam of that wavelength.
    radiation : str, float or Radiation, optional
        The radiation, as accepted by :func:`skxrd.simulation.get_radiation`;
        its primary wavelength is the pattern's wavelength. If ``wavelength`` is
        also given, the two must agree.
    uncertainty : array-like of shape (n_points,), optional
        Non-negative standard uncertainties of the intensities.
    metadata : mapping, optional
        Free-form information (instrument, sample, file header); deep-copied,
        so that later changes to the caller's lists and dicts, or to those of
        a pattern made from this one (:meth:`to_q`...), do not reach it.
    name : str, optional
        A label used in messages and reprs.

    Attributes
    ----------
    x, intensity, uncertainty : ndarray
        Read-only float64 arrays (``uncertainty`` may be None).
    axis : str
    wavelength : float or None
        Primary wavelength in Å.
    radiation : Radiation or None
        The radiation, when it was given by name (or as ``radiation``).
    metadata : dict
    name : str or None

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.io import Pattern
    >>> p = Pattern([10.0, 20.0, 30.0], [1.0, 5.0, 2.0], wavelength="CuKa")
    >>> p
    Pattern(3 points, two_theta 10–30°, λ=1.54059 Å (CuKa))
    >>> p.q.round(4).tolist()
    [0.7109, 1.4164, 2.1111]
    >>> p.to_q().two_theta.round(6).tolist()
    [10.0, 20.0, 30.0]
    >>> Pattern([30.0, 20.0, 10.0], [2.0, 5.0, 1.0], wavelength=1.5406).intensity
    array([1., 5., 2.])
    """

    __slots__ = (
        "_x",
        "_intensity",
        "_uncertainty",
        "_axis",
        "_wavelength",
        "_radiation",
        "_metadata",
        "_name",
    )

    def __init__(
        self,
        x,
        intensity,
        *,
        axis: str = "two_theta",
        wavelength: float | str | None = None,
        radiation: str | float | Radiation | None = None,
        uncertainty=None,
        metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
    ):
        if axis not in AXES:
            raise ValueError(f"axis must be 'two_theta' or 'q', got {axis!r}")
        anode = None if radiation is not None else kalpha_mean_anode(wavelength)
        if anode is not None:
            # a tube's doublet stated as one number (RRUFF's 1.5418 Å): read as
            # one line, its resolved peaks were converted 0.08 % off the Kα1
            # positions a Cu Kα model learnt (6 of 456 RRUFF crystal systems)
            warnings.warn(
                f"wavelength {float(wavelength):g} Å is the {anode[:-2]} Kα1/Kα2 "
                f"weighted mean: the pattern is read as the {anode!r} doublet "
                f"(Kα1 {get_radiation(anode).wavelength:.5f} Å); for a "
                "monochromatic beam of that wavelength give radiation='xray'",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
            wavelength = anode
        lam, rad = resolve_wavelength(wavelength, radiation)
        if axis == "two_theta" and lam is None:
            raise ValueError(
                "a pattern on a two_theta axis needs a wavelength (in Å or a name "
                "such as 'CuKa') or a radiation"
            )
        x = _as_1d(x, "x")
        intensity = _as_1d(intensity, "intensity")
        if len(x) < 2:
            raise ValueError(f"a pattern needs at least 2 points, got {len(x)}")
        if intensity.shape != x.shape:
            raise ValueError(
                f"intensity has {len(intensity)} values but x has {len(x)} points"
            )
        if uncertainty is not None:
            uncertainty = _as_1d(uncertainty, "uncertainty")
            if uncertainty.shape != x.shape:
                raise ValueError(
                    f"uncertainty has {len(uncertainty)} values but x has "
                    f"{len(x)} points"
                )
            neg = np.flatnonzero(uncertainty < 0)
            if neg.size:
                raise ValueError(
                    f"uncertainty must be non-negative; index {int(neg[0])} is "
                    f"{uncertainty[neg[0]]}"
                )
        order = None
        steps = np.diff(x)
        if not np.all(steps > 0):
            order = np.argsort(x, kind="stable")
            xs = x[order]
            dup = np.flatnonzero(np.diff(xs) == 0)
            if dup.size:
                i, j = sorted((int(order[dup[0]]), int(order[dup[0] + 1])))
                raise ValueError(
                    f"x has the duplicate value {x[i]} at indices {i} and {j}"
                )
            x = xs
            intensity = intensity[order]
            if uncertainty is not None:
                uncertainty = uncertainty[order]
        if axis == "two_theta":
            bad = np.flatnonzero((x < 0) | (x > 180))
            if bad.size:
                i = int(bad[0] if order is None else order[bad[0]])
                raise ValueError(
                    f"2θ must lie in [0, 180] degrees; x[{i}] is {x[bad[0]]}"
                )
        else:
            bad = np.flatnonzero(x < 0)
            if lam is not None:
                bad = np.flatnonzero((x < 0) | (x * lam / (4 * np.pi) > 1 + 1e-12))
            if bad.size:
                i = int(bad[0] if order is None else order[bad[0]])
                limit = "" if lam is None else f" and 4π/λ = {4 * np.pi / lam:.4f} Å⁻¹"
                raise ValueError(f"Q must lie between 0{limit}; x[{i}] is {x[bad[0]]}")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise ValueError(f"metadata must be a mapping, got {type(metadata)}")
        if name is not None and not isinstance(name, str):
            raise ValueError(f"name must be a string, got {name!r}")
        self._x = _frozen(x)
        self._intensity = _frozen(intensity)
        self._uncertainty = None if uncertainty is None else _frozen(uncertainty)
        self._axis = axis
        self._wavelength = lam
        self._radiation = rad
        self._metadata = _copy_metadata(dict(metadata or {}))
        self._name = name

    # ---------------------------------------------------------------- attributes
    @property
    def x(self) -> np.ndarray:
        """Positions on :attr:`axis` (read-only, strictly increasing)."""
        return self._x

    @property
    def intensity(self) -> np.ndarray:
        """Intensities (read-only)."""
        return self._intensity

    @property
    def uncertainty(self) -> np.ndarray | None:
        """Standard uncertainties of the intensities (read-only), or None."""
        return self._uncertainty

    @property
    def axis(self) -> str:
        """``"two_theta"`` (degrees) or ``"q"`` (Å⁻¹)."""
        return self._axis

    @property
    def wavelength(self) -> float | None:
        """Primary wavelength in Å, or None (Q axis only)."""
        return self._wavelength

    @property
    def radiation(self) -> Radiation | None:
        """The named radiation, or None when only a wavelength was given."""
        return self._radiation

    @property
    def metadata(self) -> dict:
        """Free-form information about the pattern."""
        return self._metadata

    @property
    def name(self) -> str | None:
        """A label used in messages."""
        return self._name

    # ---------------------------------------------------------------- conversions
    @property
    def q(self) -> np.ndarray:
        """Positions in Q = 4π sin θ / λ (Å⁻¹)."""
        if self._axis == "q":
            return self._x.copy()
        return two_theta_to_q(self._x, self._wavelength)

    @property
    def two_theta(self) -> np.ndarray:
        """Positions in 2θ (degrees) at the pattern's own wavelength.

        Raises
        ------
        ValueError
            For a Q-axis pattern without a wavelength.
        """
        if self._axis == "two_theta":
            return self._x.copy()
        if self._wavelength is None:
            raise ValueError(
                f"{self._label()} is on a Q axis without a wavelength; use "
                "two_theta_at(wavelength)"
            )
        return q_to_two_theta(self._x, self._wavelength)

    def two_theta_at(self, wavelength: float | str) -> np.ndarray:
        """Positions converted to 2θ (degrees) at another wavelength.

        The conversion goes through Q (Bragg's law). Points beyond the reach of
        ``wavelength`` (2θ > 180°) are NaN.

        Parameters
        ----------
        wavelength : float or str
            Wavelength in Å or a radiation name such as ``"MoKa"``.

        Returns
        -------
        ndarray of shape (n_points,)

        Examples
        --------
        >>> p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength="MoKa")
        >>> p.two_theta_at("CuKa").round(3).tolist()
        [21.824, 44.315]
        """
        lam, _ = resolve_wavelength(wavelength, None)
        if lam is None:
            raise ValueError("two_theta_at needs a wavelength")
        if self._axis == "two_theta" and lam == self._wavelength:
            return self._x.copy()
        return q_to_two_theta(self.q, lam)

    def to_q(self) -> Pattern:
        """The same pattern on a Q axis (Å⁻¹).

        Returns
        -------
        Pattern

        Examples
        --------
        >>> p = Pattern([20.0, 40.0], [1.0, 2.0], wavelength=1.5406).to_q()
        >>> p.axis, p.x.round(4).tolist()
        ('q', [1.4164, 2.7898])
        """
        if self._axis == "q":
            return self
        q = self.q
        self._check_distinct(q, "Q")
        return self._replace(x=q, axis="q")

    def to_two_theta(self, wavelength: float | str | None = None) -> Pattern:
        """The same pattern on a 2θ axis (degrees).

        Parameters
        ----------
        wavelength : float or str, optional
            Wavelength (Å or a name) of the new axis; by default the pattern's
            own. Only the axis changes: the intensities are still those of the
            radiation they were measured with. So the new pattern keeps its
            radiation at its own wavelength, and at another one names none
            (a Cu Kα pattern on a Mo axis is no Mo Kα1 + Kα2 pattern, whose
            Kα2 line a model would strip): strip a doublet first
            (:class:`~skxrd.preprocessing.Kalpha2Stripper`), or use
            :meth:`to_q`, which keeps the radiation.

        Returns
        -------
        Pattern

        Raises
        ------
        ValueError
            If no wavelength is known, or if some points lie beyond its reach.

        Examples
        --------
        >>> p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength="MoKa")
        >>> p.to_two_theta("CuKa").x.round(3).tolist()
        [21.824, 44.315]
        >>> p.to_two_theta("CuKa").radiation is None
        True
        """
        if wavelength is None:
            if self._axis == "two_theta":
                return self
            x = self.two_theta
            self._check_distinct(x, "2θ")
            return self._replace(x=x, axis="two_theta")
        lam, _ = resolve_wavelength(wavelength, None)
        x = self.two_theta_at(lam)
        bad = np.flatnonzero(np.isnan(x))
        if bad.size:
            raise ValueError(
                f"{self._label()}: points from index {int(bad[0])} (Q = "
                f"{self.q[bad[0]]:.4f} Å⁻¹) are beyond the reach of {lam} Å"
            )
        # the measured radiation, where it is still the axis's; else none
        same = self._wavelength is not None and math.isclose(
            lam, self._wavelength, rel_tol=1e-9
        )
        radiation = self._radiation if same else None
        self._check_distinct(x, "2θ")
        return self._replace(x=x, axis="two_theta", wavelength=lam, radiation=radiation)

    def _check_distinct(self, new_x: np.ndarray, what: str) -> None:
        """One clear error where distinct points fall on one converted position.

        Near 2θ = 180° (Q = 4π/λ), sin θ is flat: points closer than about
        1e-6 degrees there round to the same Q in float64 (and back), which
        the new pattern would refuse as a duplicate of its own ``x``.
        """
        same = np.flatnonzero(np.diff(new_x) <= 0)
        if same.size:
            i = int(same[0])
            raise ValueError(
                f"{self._label()}: the points x[{i}] = {float(self._x[i])!r} and "
                f"x[{i + 1}] = {float(self._x[i + 1])!r} ({self._axis}) both "
                f"convert to {what} = {float(new_x[i])!r} in float64 (the "
                "conversion is flat near 2θ = 180°); drop one of them before "
                "converting"
            )

    def _replace(self, **changes) -> Pattern:
        fields = dict(
            x=self._x,
            intensity=self._intensity,
            axis=self._axis,
            wavelength=self._wavelength,
            radiation=self._radiation,
            uncertainty=self._uncertainty,
            metadata=self._metadata,
            name=self._name,
        )
        fields.update(changes)
        if "wavelength" in changes and "radiation" not in changes:
            fields["radiation"] = None
        return Pattern(fields.pop("x"), fields.pop("intensity"), **fields)

    # ---------------------------------------------------------------- protocols
    def __len__(self) -> int:
        return len(self._x)

    def _label(self) -> str:
        return "pattern" + (f" {self._name!r}" if self._name else "")

    def __repr__(self) -> str:
        parts = []
        if self._name:
            parts.append(f"{self._name!r}")
        unit = "°" if self._axis == "two_theta" else " Å⁻¹"
        parts.append(f"{len(self)} points")
        parts.append(f"{self._axis} {_span(self._x[0], self._x[-1])}{unit}")
        if self._wavelength is not None:
            lam = f"λ={self._wavelength:g} Å"
            if self._radiation is not None:
                lam += f" ({self._radiation.name})"
            parts.append(lam)
        return f"Pattern({', '.join(parts)})"

    def __reduce__(self):
        return (_restore, (self.__getstate__(),))

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setattr__(self, name, value):
        if hasattr(self, "_name"):  # fully constructed
            raise AttributeError("Pattern objects are read-only; build a new one")
        object.__setattr__(self, name, value)


def _span(lo: float, hi: float) -> str:
    """``lo–hi`` with the fewest digits (6 at least) that tell them apart
    (``%g`` wrote a range 10.000001–10.000002 as 10–10)."""
    for digits in range(6, 18):
        a, b = f"{lo:.{digits}g}", f"{hi:.{digits}g}"
        if a != b:
            break
    return f"{a}–{b}"


def _restore(state: dict) -> Pattern:
    new = Pattern.__new__(Pattern)
    for name in Pattern.__slots__:
        value = state[name]
        if isinstance(value, np.ndarray):
            value = _frozen(value.copy())
        elif name == "_metadata":  # copy.copy passes the original's dict
            value = _copy_metadata(dict(value))
        object.__setattr__(new, name, value)
    return new
