"""Scattering strengths: X-ray form factors and neutron scattering lengths."""

from __future__ import annotations

import math
import re
import threading
import warnings
from collections.abc import Iterable
from functools import cache

import numpy as np

from ..crystal._crystal import parse_species
from ..utils._warnings import caller_stacklevel

__all__ = [
    "anomalous_terms",
    "form_factor_coefficients",
    "neutron_scattering_length",
    "xray_form_factor",
]


# xrayutilities reads its tables through one shared database object
# (``_db.SetMaterial`` then ``_db.f0_params``): two threads interleaving there
# read each other's element, and the cached wrong coefficients would stay for
# the life of the process. All access goes through this lock.
_XU_LOCK = threading.Lock()


def _xu_name(element: str) -> str:
    return "H" if element in ("D", "T") else element


# A key of xrayutilities' f0 table: "3p" (Fe3+), "1m" (Cl-), also "2mdot"
# (O2-, marked as an estimate) and "p4" (Ru4+); a bare "dot" (H., C., Si.) is
# another model of the neutral atom.
_ION_KEY = re.compile(r"(\d*)([pm])(\d*)(dot)?")


def _key_charge(key: str) -> int:
    """The charge of an f0 table key ("default" and "dot" keys are neutral)."""
    m = _ION_KEY.fullmatch(key)
    if not m or (m.group(1) and m.group(3)):
        return 0
    charge = int(m.group(1) or m.group(3) or 1)
    return charge if m.group(2) == "p" else -charge


@cache
def _ion_keys(keys: tuple) -> dict[int, str]:
    """The table key of each charge among an element's f0 ``keys``."""
    out: dict[int, str] = {}
    for key in sorted(keys, key=lambda k: k.endswith("dot")):  # plain keys first
        charge = _key_charge(key)
        if charge:
            out.setdefault(charge, key)
    return out


# The DABAX f0 file that xrayutilities reads (from Lazy-Pulverix) has four rows
# of International Tables C, Table 6.1.1.4, under the wrong labels: its "Np3+"
# row holds Np6+'s coefficients (f0(0) = 87 electrons), "Np4+" Pu's (94),
# "Np6+" Np3+'s (90) and "Pu" Np4+'s (89). Each (element, key) is read from
# the row that holds it, while the table still has them so (_f0_row).
_MISLABELLED_F0_ROWS = {
    ("Np", "3p"): ("Np", "6p"),
    ("Np", "4p"): ("Pu", "default"),
    ("Np", "6p"): ("Np", "3p"),
    ("Pu", "default"): ("Np", "4p"),
}


def _f0_row(db, element: str, key: str) -> np.ndarray:
    """The coefficients of ``element``'s f0 row ``key``, with the mislabelled
    rows of the DABAX table read from where they are (call under _XU_LOCK)."""
    db.SetMaterial(element)
    coeffs = np.array(db.f0_params[key], dtype=float)
    moved = _MISLABELLED_F0_ROWS.get((element, key))
    if moved is None:
        return coeffs
    import periodictable

    # f0(s=0) = c + Σ a_i is the ion's number of electrons: take the other
    # row only where this one is wrong and that one right (a corrected table
    # is read as it is)
    electrons = periodictable.elements.symbol(element).number - _key_charge(key)
    db.SetMaterial(moved[0])
    other = np.array(db.f0_params[moved[1]], dtype=float)
    if abs(coeffs[0] + coeffs[1::2].sum() - electrons) > 0.5 and (
        abs(other[0] + other[1::2].sum() - electrons) < 0.5
    ):
        return other
    return coeffs


@cache
def form_factor_coefficients(species: str) -> np.ndarray:
    """International Tables coefficients ``(c, a1, b1, ..., a4, b4)`` of f0(s).

    ``f0(s) = c + sum_i a_i exp(-b_i s^2)`` with ``s = sin(theta)/lambda`` in Å⁻¹,
    read from xrayutilities' database. Ions (``"Fe3+"``) use the ionic
    parametrization where the table has one, else the neutral atom's (``"S2-"``
    gets S's; the simulators say so with a :class:`UserWarning`). The four
    rows of Np and Pu that the database has under the wrong labels (Pu's
    neutral atom with 89 electrons) are read from the rows that hold them.

    Examples
    --------
    >>> form_factor_coefficients("Si").round(3)[:3]
    array([1.141, 6.292, 2.439])
    >>> float(xray_form_factor("Pu", 0.0).round(2))
    94.0
    """
    from xrayutilities.materials.atom import _db

    element, charge = parse_species(species)
    try:
        with _XU_LOCK:
            _db.SetMaterial(_xu_name(element))
            key = _ion_keys(tuple(_db.f0_params)).get(charge, "default")
            coeffs = _f0_row(_db, _xu_name(element), key)
    except Exception:
        raise ValueError(f"no X-ray form factor for element {species!r}") from None
    if coeffs.shape != (9,) or not np.all(np.isfinite(coeffs)):
        raise ValueError(f"no X-ray form factor for element {species!r}")
    coeffs.flags.writeable = False  # cached: shared by every caller
    return coeffs


@cache
def xray_stand_in(species: str) -> str | None:
    """The element whose X-ray form factor stands in for the ion ``species``.

    None for a neutral atom, for an ion that the tables have (``"O2-"``), and
    for an element without any table (the simulators raise their own error).

    Examples
    --------
    >>> xray_stand_in("S2-"), xray_stand_in("O2-"), xray_stand_in("S")
    ('S', None, None)
    """
    from xrayutilities.materials.atom import _db

    element, charge = parse_species(species)
    if not charge:
        return None
    try:
        with _XU_LOCK:
            _db.SetMaterial(_xu_name(element))
            keys = tuple(_db.f0_params)
    except Exception:  # no table at all: form_factor_coefficients raises
        return None
    # the same choice as form_factor_coefficients: no key for the charge means
    # the "default" (neutral) parametrization
    return None if charge in _ion_keys(keys) else element


#: The largest ``s = sin θ / λ`` (Å⁻¹) for which the International Tables
#: four-Gaussian f0 fits (Vol. C, Table 6.1.1.4) hold. Beyond it they level
#: off at their constant ``c``: at 4 Å⁻¹ Si's f0 is 1.14 against 0.56, Pb's
#: 13.4 against 7.1, Fe's 1.09 against 1.21 electrons (Waasmaier & Kirfel's
#: fits, valid to 6 Å⁻¹), so line intensities there are off by up to 4 times.
FORM_FACTOR_S_MAX = 2.0


def warn_form_factor_range(wavelength: float, two_theta_max: float, who: str):
    """One :class:`UserWarning` where X-ray lines up to ``two_theta_max``
    (degrees) at ``wavelength`` (Å) reach beyond :data:`FORM_FACTOR_S_MAX`.

    Only wavelengths below 0.5 Å can (none of the anode lines: Ag Kα reaches
    1.79 Å⁻¹ at 2θ = 180°).
    """
    s_max = math.sin(math.radians(min(two_theta_max, 180.0) / 2.0)) / wavelength
    if s_max <= FORM_FACTOR_S_MAX:
        return
    limit = math.degrees(2.0 * math.asin(FORM_FACTOR_S_MAX * wavelength))
    warnings.warn(
        f"{who}: the grid reaches sin θ/λ = {s_max:.3g} Å⁻¹ ({wavelength:g} Å "
        f"up to 2θ = {two_theta_max:.4g}°), beyond the {FORM_FACTOR_S_MAX:g} "
        "Å⁻¹ for which the X-ray form factors (International Tables "
        "four-Gaussian fits) hold: they level off there instead of falling, "
        f"and the intensities of lines above 2θ = {limit:.4g}° are off (up to "
        "4 times at 4 Å⁻¹)",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def warn_xray_stand_ins(crystals: Iterable, who: str) -> None:
    """One :class:`UserWarning` naming the ions of ``crystals`` that are
    simulated with their neutral atom's X-ray form factor, if there are any.

    Called once per simulation call over all its crystals (not per crystal,
    nor inside the workers), so that a batch of thousands says it once.
    """
    species = set().union(*(c.species for c in crystals))
    # charged species only ("O2-", "Fe+3"): the cached look-up of a few labels
    charged = sorted(sp for sp in species if "+" in sp or "-" in sp)
    used = {sp: xray_stand_in(sp) for sp in charged}
    used = {sp: el for sp, el in used.items() if el is not None}
    if not used:
        return
    listed = ", ".join(f"{sp} as {el}" for sp, el in used.items())
    ions, atoms = (
        ("ions", "atoms' form factors")
        if len(used) > 1
        else ("ion", "atom's form factor")
    )
    warnings.warn(
        f"{who}: no X-ray form factor table for the {ions} {', '.join(used)}; "
        f"simulated with the neutral {atoms} ({listed})",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def xray_form_factor(species: str, s) -> np.ndarray:
    """Atomic form factor f0 at ``s = sin(theta)/lambda`` (Å⁻¹).

    Examples
    --------
    >>> float(xray_form_factor("Si", 0.0).round(2))
    14.0
    """
    c = form_factor_coefficients(species)
    s2 = np.asarray(s, dtype=float) ** 2
    return c[0] + sum(c[i] * np.exp(-c[i + 1] * s2) for i in (1, 3, 5, 7))


@cache
def anomalous_terms(species: str, energy_kev: float) -> tuple[float, float]:
    """Anomalous dispersion corrections ``(f', f'')`` at a photon energy.

    Henke tables through xrayutilities.

    Examples
    --------
    >>> [round(x, 2) for x in anomalous_terms("Fe", 8.048)]
    [-1.09, 3.19]
    """
    import xrayutilities as xu

    element, _ = parse_species(species)
    try:
        with _XU_LOCK:
            atom = getattr(xu.materials.elements, _xu_name(element))
            f1 = float(atom.f1(energy_kev * 1000.0))
            f2 = float(atom.f2(energy_kev * 1000.0))
    except Exception:
        raise ValueError(f"no anomalous scattering data for {species!r}") from None
    if not (np.isfinite(f1) and np.isfinite(f2)):
        raise ValueError(
            f"no anomalous scattering data for {species!r} at {energy_kev} keV"
        )
    return f1, f2


@cache
def neutron_scattering_length(species: str, wavelength: float | None = None):
    """Bound coherent scattering length b_c in fm (natural abundance; D, T isotopes).

    From the `periodictable` package's table (Sears, Neutron News 3, 1992, with
    later evaluations for some elements: Li, Sc, Ti, Mn, Nd, Te, W differ from
    Sears by up to 2 %, Au, Pr by 3 %, He, Xe, Ho by 5 %, V by 16 %, -0.443 fm
    against -0.382 fm, a near-null scatterer either way). Strong absorbers have
    a complex length that depends on the neutron's energy (Sm, Eu, Gd, Cd,
    B...: Sm's real part is 0 at the table's reference and 0.47 fm at 1.54 Å):
    with ``wavelength`` the complex length at that wavelength (periodictable's
    ``scattering_by_wavelength``), which is what the simulator uses.

    Parameters
    ----------
    species : str
        Element or ion (``"Si"``, ``"O2-"``, ``"D"``).
    wavelength : float, optional
        Neutron wavelength in Å.

    Returns
    -------
    float or complex
        The table's real ``b_c``; with ``wavelength``, the complex length.

    Examples
    --------
    >>> neutron_scattering_length("Si"), neutron_scattering_length("H")
    (4.15071, -3.7409)
    >>> b = neutron_scattering_length("Gd", 1.54)
    >>> round(b.real, 2), round(b.imag, 2)
    (7.86, -13.78)
    """
    import periodictable

    element, _ = parse_species(species)
    el = periodictable.elements.symbol(element)
    b = getattr(el.neutron, "b_c", None)
    if b is None or not np.isfinite(b):
        raise ValueError(f"no neutron scattering length for element {species!r}")
    if wavelength is None:
        return float(b)
    at = el.neutron.scattering_by_wavelength(float(wavelength))[0]
    if at is None or not np.isfinite(complex(at)):
        return complex(b)  # no energy dependence tabulated (Ra): the table's b_c
    return complex(at)
