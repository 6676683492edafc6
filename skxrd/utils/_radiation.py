"""Radiation: named X-ray anode lines, arbitrary X-ray wavelengths and neutrons."""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Radiation", "XRAY_LINES", "get_radiation"]

# Kα1, Kα2 wavelengths in Å on the SI scale of International Tables Vol. C
# (3rd ed.), Table 4.2.2.1, and NIST's X-ray transition energies database
# (Deslattes et al., Rev. Mod. Phys. 75, 35 (2003), direct experimental values):
# Cr to Cu from Hölzer et al., Phys. Rev. A 56, 4554 (1997). Bearden's (1967)
# values, which most textbooks quote, are on his Å* scale, 20-30 ppm off (Cu
# Kα1 1.540562, Ag Kα1 0.5594075): a 0.004° shift at 2θ = 100°.
_KALPHA = {
    "Cu": (1.5405929, 1.5444274),
    "Co": (1.7889960, 1.7928350),
    "Mo": (0.70931715, 0.713607),
    "Ag": (0.55942178, 0.5638131),
    "Cr": (2.2897260, 2.2936510),
    "Fe": (1.9360410, 1.9399730),
}
# The conventional Kα2/Kα1 intensity ratio (2p1/2 : 2p3/2 occupancy); measured
# ones lie within a few per cent of it.
_KALPHA2_RATIO = 0.5
# Kβ1 wavelengths in Å (same sources): a β filter passes a few per cent of it
# (PowderSimulator's kbeta). Cross-checked: International Tables Vol. C (2nd
# ed., p. 203, as xrayutilities quotes it) gives Cu Kβ 1.392246(14) Å, and
# Bearden's Å* values (pymatgen's WAVELENGTHS: Cu 1.39222, Mo 0.63229, Cr
# 2.08487, Fe 1.75661, Ag 0.497082) agree to within 5e-5 Å (Co's 1.63079
# there is a misprint: Co Kβ1 is 1.6208 Å), 0.005° of 2θ at 100° or less.
_KBETA = {
    "Cu": 1.3922340,
    "Co": 1.6208260,
    "Mo": 0.632303,
    "Ag": 0.4970817,
    "Cr": 2.0848810,
    "Fe": 1.7566040,
}

#: Named anode lines: ``{name: (wavelengths in Å, relative weights)}`` for
#: ``"CuKa"`` (Kα1 + Kα2, weights 1 and 0.5), ``"CuKa1"``, ``"CuKa2"`` and
#: likewise Co, Mo, Ag, Cr and Fe.
XRAY_LINES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {}
for _anode, (_a1, _a2) in _KALPHA.items():
    XRAY_LINES[f"{_anode}Ka"] = ((_a1, _a2), (1.0, _KALPHA2_RATIO))
    XRAY_LINES[f"{_anode}Ka1"] = ((_a1,), (1.0,))
    XRAY_LINES[f"{_anode}Ka2"] = ((_a2,), (1.0,))

#: Kα1/Kα2 intensity-weighted mean wavelengths (Å) of the anodes, the single
#: "Kα" value many files state for a tube's doublet (Cu 1.5418, Mo 0.7107)
KALPHA_MEANS = {
    anode: (a1 + _KALPHA2_RATIO * a2) / (1 + _KALPHA2_RATIO)
    for anode, (a1, a2) in _KALPHA.items()
}
# a stated mean to 3 decimals (Mo 0.711) is within it; no Kα1 or Kα2 line is
# (the closest, Cu's Kα1, is 1.3e-3 Å from Cu's mean)
_KALPHA_MEAN_TOL = 3e-4


def kalpha_mean_anode(wavelength) -> str | None:
    """The name of the anode doublet (``"CuKa"``) whose Kα1/Kα2 weighted mean
    ``wavelength`` (Å) states, or None.

    Examples
    --------
    >>> from skxrd.utils._radiation import kalpha_mean_anode
    >>> kalpha_mean_anode(1.5418), kalpha_mean_anode(0.71073), kalpha_mean_anode(1.5406)
    ('CuKa', 'MoKa', None)
    """
    if isinstance(wavelength, bool) or not isinstance(wavelength, numbers.Real):
        return None
    for anode, mean in KALPHA_MEANS.items():
        if abs(float(wavelength) - mean) <= _KALPHA_MEAN_TOL:
            return f"{anode}Ka"
    return None


HC_KEV_ANGSTROM = 12.398419843320026  # h c in keV·Å (CODATA 2018)


@dataclass(frozen=True)
class Radiation:
    """The probe of a diffraction experiment.

    Attributes
    ----------
    kind : {"xray", "neutron"}
    wavelengths : tuple of float
        Wavelengths in Å; the first is the primary line that defines 2θ ↔ d.
    weights : tuple of float
        Relative intensity of each line (1 for the primary line).
    name : str
        A label such as ``"CuKa"`` or ``"neutron 1.54 Å"``.

    Raises
    ------
    ValueError
        If the kind is not ``"xray"`` or ``"neutron"``, a wavelength is not in
        (0, 100) Å, a weight is negative or not finite, the primary (first)
        line's weight is 0, or the wavelengths and weights are not sequences
        of numbers of one length.

    Examples
    --------
    >>> r = get_radiation("CuKa")
    >>> r.wavelengths, r.weights
    ((1.5405929, 1.5444274), (1.0, 0.5))
    >>> round(r.energy_kev, 3)
    8.048
    """

    kind: str
    wavelengths: tuple[float, ...]
    weights: tuple[float, ...]
    name: str

    def __post_init__(self):
        # Checked where it is made, so every path that takes a Radiation (a
        # Pattern, a reader's header, the preprocessing) gets a usable one: one
        # of -1.5 Å gave patterns with negative Q. Lists and numpy values are
        # stored as tuples of float, so equal radiations compare and hash equal.
        try:
            if isinstance(self.wavelengths, str | bytes) or isinstance(
                self.weights, str | bytes
            ):
                raise TypeError  # "2" would be read as the sequence (2.0,)
            lams = tuple(float(v) for v in self.wavelengths)
            weights = tuple(float(v) for v in self.weights)
        except (TypeError, ValueError):
            lams = weights = None
        problem = _radiation_problem(self, lams, weights)
        if problem:
            raise ValueError(
                f"Radiation(kind={self.kind!r}, wavelengths={self.wavelengths!r}, "
                f"weights={self.weights!r}, name={self.name!r}) is not a usable "
                f"radiation: {problem}"
            )
        object.__setattr__(self, "wavelengths", lams)
        object.__setattr__(self, "weights", weights)

    @property
    def wavelength(self) -> float:
        """The primary wavelength (Å)."""
        return self.wavelengths[0]

    @property
    def kbeta(self) -> float | None:
        """The anode's Kβ1 wavelength (Å) for a named anode line, else None.

        A β filter leaves a few per cent of the Kβ line, so measured patterns
        of strong peaks show weak Kβ copies of them; a monochromator removes
        it.

        Examples
        --------
        >>> get_radiation("CuKa").kbeta
        1.392234
        >>> get_radiation(1.5406).kbeta is None
        True
        """
        if self.kind != "xray" or self.name not in XRAY_LINES:
            return None
        return _KBETA[self.name[:2]]

    @property
    def energy_kev(self) -> float:
        """Photon energy of the primary line in keV (X-rays only)."""
        return HC_KEV_ANGSTROM / self.wavelength


def _radiation_problem(rad: Radiation, lams, weights) -> str | None:
    """What makes a :class:`Radiation` unusable, or None."""
    if lams is None:
        return "its wavelengths and weights must be sequences of numbers"
    if rad.kind not in ("xray", "neutron"):
        return f"its kind is {rad.kind!r}, not 'xray' or 'neutron'"
    if not lams or len(weights) != len(lams):
        return "it needs as many weights as wavelengths, at least one"
    if not all(math.isfinite(v) and 0 < v < 100 for v in lams):
        return f"its wavelengths {rad.wavelengths} are not all in (0, 100) Å"
    if not all(math.isfinite(w) and w >= 0 for w in weights):
        return f"its weights {rad.weights} are not all finite and >= 0"
    if weights[0] <= 0:
        # the other lines' intensities are relative to the primary one (Kα2
        # stripping divides by it: a ZeroDivisionError)
        return f"its primary (first) line's weight {rad.weights[0]!r} is not > 0"
    if not isinstance(rad.name, str):
        return f"its name {rad.name!r} is not a str"
    return None


def _canonical(name: str) -> str:
    # "Cu Kα1", "cu-ka", "CUKALPHA" -> "CuKa1"
    text = name.replace("α", "a").replace("alpha", "a").replace("ALPHA", "a")
    text = text.replace("₁", "1").replace("₂", "2")  # "CuKα₁"
    text = re.sub(r"[\s_\-]", "", text)
    m = re.fullmatch(r"([A-Za-z]{2})[Kk][Aa]([12]?)", text)
    if not m:
        return name
    return f"{m.group(1).capitalize()}Ka{m.group(2)}"


def get_radiation(radiation="CuKa", wavelength: float | None = None) -> Radiation:
    """Resolve a radiation specification.

    Parameters
    ----------
    radiation : str or float
        A named anode line (``"CuKa"`` with the Kα2 doublet, ``"CuKa1"`` single
        line; likewise Co, Mo, Ag, Cr, Fe), ``"xray"`` or ``"neutron"`` (then
        ``wavelength`` is required), or an X-ray wavelength in Å.
    wavelength : float, optional
        Wavelength in Å for ``"xray"`` and ``"neutron"``.

    Returns
    -------
    Radiation

    Examples
    --------
    >>> get_radiation("neutron", wavelength=1.594).kind
    'neutron'
    >>> get_radiation(0.7293).wavelengths
    (0.7293,)
    """

    def checked(value, what):
        if isinstance(value, bool | np.bool_):  # True was read as 1 Å
            raise ValueError(f"{what} {value!r} is not a number")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{what} {value!r} is not a number") from None
        if not (value > 0 and value < 100):
            raise ValueError(f"{what} {value!r} Å is not a positive wavelength")
        return value

    if isinstance(radiation, bool):
        raise ValueError(f"unknown radiation {radiation!r}")
    if isinstance(radiation, numbers.Real):  # numpy scalars too
        if wavelength is not None:
            raise ValueError("give the wavelength either as radiation or wavelength")
        lam = checked(radiation, "X-ray wavelength")
        return Radiation("xray", (lam,), (1.0,), f"X-ray {lam:g} Å")
    if not isinstance(radiation, str):
        raise ValueError(f"unknown radiation {radiation!r}")
    key = radiation.strip().lower()
    if key in ("xray", "x-ray", "neutron"):
        if wavelength is None:
            raise ValueError(f"radiation={radiation!r} needs a wavelength in Å")
        lam = checked(wavelength, "wavelength")
        kind = "neutron" if key == "neutron" else "xray"
        label = "neutron" if kind == "neutron" else "X-ray"
        return Radiation(kind, (lam,), (1.0,), f"{label} {lam:g} Å")
    name = _canonical(radiation)
    if name not in XRAY_LINES:
        anode = radiation.strip().capitalize()
        hint = (
            f" ({anode!r} names an anode, not a line: {anode}Ka for Kα1 + Kα2, "
            f"{anode}Ka1 or {anode}Ka2)"
            if anode in _KALPHA
            else ""
        )
        raise ValueError(
            f"unknown radiation {radiation!r}{hint}; use one of "
            f"{', '.join(XRAY_LINES)}, 'xray' or 'neutron' with a wavelength, or a "
            "wavelength in Å"
        )
    if wavelength is not None:
        raise ValueError(
            f"radiation={radiation!r} fixes the wavelength; do not also pass wavelength"
        )
    lams, weights = XRAY_LINES[name]
    return Radiation("xray", lams, weights, name)
