"""Physics shared by the numpy and torch backends.

Every function takes the array namespace ``xp`` (``numpy`` or ``torch``) so both
backends evaluate the same formulas.
"""

from __future__ import annotations

import math

__all__ = [
    "PROFILES",
    "fwhm_and_eta",
    "lorentz_polarization",
    "profile_values",
]

PROFILES = ("gaussian", "lorentzian", "pseudo-voigt")
_LN2 = math.log(2.0)


def lorentz_polarization(
    theta,
    xp,
    *,
    neutron: bool,
    monochromator_2theta: float,
    polarization: float | None = None,
):
    """Lorentz-polarization factor of Bragg–Brentano powder geometry.

    ``LP = (1 + cos²2θ cos²2θm) / (sin²θ cosθ (1 + cos²2θm))`` for an
    unpolarized X-ray beam (``polarization=None``) and ``1 / (sin²θ cosθ)`` for
    (unpolarized) neutrons. ``theta`` in radians, ``monochromator_2theta`` in
    degrees.

    With a fraction ``polarization`` = P of the beam polarized perpendicular to
    the diffraction plane (a synchrotron beam, horizontally polarized, with a
    vertical diffraction plane: P near 1), the polarization factor is
    ``P + (1 - P) cos²2θ`` (GSAS-II's ``Polarization(Pola, Tth, Azm=0)``; P = 0.5
    is the unpolarized beam). A monochromator diffracting in the same plane,
    before the sample, passes the perpendicular component whole and the other
    times cos²2θm, so the factor becomes
    ``(P + (1 - P) cos²2θm cos²2θ) / (P + (1 - P) cos²2θm)`` (derived as
    Azároff, Acta Cryst. 8 (1955) 701, does for an unpolarized beam); P = 0.5
    gives the unpolarized formula above.
    """
    sin_t, cos_t = xp.sin(theta), xp.cos(theta)
    lorentz = 1.0 / (sin_t * sin_t * cos_t)
    if neutron:
        return lorentz
    c2m = math.cos(math.radians(monochromator_2theta)) ** 2
    cos_2t = xp.cos(2.0 * theta)
    if polarization is None:
        return lorentz * (1.0 + cos_2t * cos_2t * c2m) / (1.0 + c2m)
    p = float(polarization)
    return lorentz * (p + (1.0 - p) * c2m * cos_2t * cos_2t) / (p + (1.0 - p) * c2m)


def fwhm_and_eta(
    theta,
    xp,
    *,
    profile: str,
    caglioti_uvw,
    lorentzian_xy,
    crystallite_size,
    scherrer_k: float,
    wavelength: float,
    eta,
):
    """FWHM (degrees 2θ) and Lorentzian fraction of each peak.

    Gaussian width from Caglioti, ``H_G² = U tan²θ + V tanθ + W``; Lorentzian width
    ``H_L = X tanθ + Y / cosθ`` plus Scherrer size broadening
    ``K λ / (L cosθ)`` (L = crystallite size). The widths combine as
    Thompson–Cox–Hastings for ``"pseudo-voigt"`` (whose η follows TCH unless
    ``eta`` is given), in quadrature for ``"gaussian"`` and linearly for
    ``"lorentzian"``.
    """
    U, V, W = caglioti_uvw
    X, Y = lorentzian_xy
    tan_t, cos_t = xp.tan(theta), xp.cos(theta)
    hg2 = xp.clip(U * tan_t * tan_t + V * tan_t + W, 1e-12, None)
    hg = xp.sqrt(hg2)
    hl = X * tan_t + Y / cos_t
    if crystallite_size is not None and (
        not isinstance(crystallite_size, (int, float)) or crystallite_size > 0
    ):
        # Scherrer: size in nm, wavelength in Å, width in radians -> degrees.
        # Per-line sizes come as arrays, np.inf where a pattern has none.
        hl = hl + math.degrees(1.0) * scherrer_k * wavelength / (
            10.0 * crystallite_size * cos_t
        )
    if profile == "gaussian":
        return xp.sqrt(hg2 + hl * hl), 0.0 * hg
    if profile == "lorentzian":
        return hg + hl, 0.0 * hg + 1.0
    # Thompson, Cox & Hastings, J. Appl. Cryst. 20 (1987) 79.
    h5 = (
        hg2 * hg2 * hg
        + 2.69269 * hg2 * hg2 * hl
        + 2.42843 * hg2 * hg * hl * hl
        + 4.47163 * hg2 * hl * hl * hl
        + 0.07842 * hg * hl * hl * hl * hl
        + hl * hl * hl * hl * hl
    )
    fwhm = h5**0.2
    if eta is not None:
        return fwhm, 0.0 * hg + eta
    q = hl / fwhm
    return fwhm, 1.36603 * q - 0.47719 * q * q + 0.11116 * q * q * q


def profile_values(x, fwhm, eta, xp):
    """Area-normalized pseudo-Voigt ``η L + (1-η) G`` at offsets ``x`` from centre.

    ``x`` and ``fwhm`` in the same units; the result integrates to 1 over ``x``.
    """
    # In-place steps: this runs on millions of points, temporaries dominate.
    u = 2.0 * x
    u /= fwhm
    u *= u  # (2 x / fwhm)²
    gauss = xp.exp(-_LN2 * u)
    gauss *= (2.0 * math.sqrt(_LN2 / math.pi)) / fwhm
    if not bool((eta != 0).any()):  # Gaussian only: skip the Lorentzian
        return gauss
    u += 1.0
    lorentz = (2.0 / math.pi) / fwhm / u
    lorentz -= gauss
    lorentz *= eta
    lorentz += gauss
    return lorentz
