"""Reflections of one crystal: positions, structure factors, peak lists (numpy)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..crystal import Crystal
from ..utils._radiation import Radiation
from ._physics import lorentz_polarization
from ._scattering import (
    anomalous_terms,
    form_factor_coefficients,
    neutron_scattering_length,
)

__all__ = ["PeakList", "reflections"]

# Reflections whose |g| agree to this relative precision are one powder line:
# symmetry equivalents agree to ~1e-15. In 2θ, 1e-6 of |g| is 2 tanθ · 1e-6 rad:
# 1.1e-4° at 2θ = 90°, 4.3e-4° at 150°, 1.3e-3° at 170°, so that at high
# angles accidental near-coincidences of low-symmetry cells merge into one line
# at their intensity-weighted centroid (far below any peak width).
MERGE_RTOL = 1e-6
# A reflection with |F|² below this fraction of the largest value its atoms could
# give, (Σ occ |f|)², is a systematic absence (float32 phases leave ~1e-12).
ABSENT_RTOL = 1e-9
# Work on at most this many (reflection, atom) pairs at once to bound memory.
_BLOCK = 1 << 20
#: The default of ``PowderSimulator(max_reflections=...)``: the most hkl that
#: one crystal's search box may hold. Screening the box takes about 200 bytes
#: per hkl (numpy and torch backends), 4 GB here. The largest cells of the
#: Materials Project set and the AMCSD (46,000 crystals) need 150,000 with Cu Kα
#: up to 90° 2θ and 8 million with Ag Kα up to 150°.
MAX_REFLECTIONS = 20_000_000


@dataclass(frozen=True)
class PeakList:
    """Powder lines of one crystal, for one primary wavelength.

    Each entry is one powder line: symmetry equivalents, and reflections whose
    ``1/d`` agree to 1e-6 of it (``2 tanθ · 1e-6`` rad in 2θ: 1.1e-4° at
    2θ = 90°, 1.3e-3° at 170°), merged. Profiles can be re-rendered from it
    cheaply with :meth:`PowderSimulator.render`.

    Attributes
    ----------
    d : ndarray of shape (n_lines,)
        Interplanar spacing (Å), descending (the lines of the beam's own
        wavelengths; Kβ rows, see ``is_kbeta``, follow them).
    hkl : ndarray of shape (n_lines, 3)
        A representative Miller index (non-negative where one is).
    multiplicity : ndarray of shape (n_lines,)
        Number of reflections in the line.
    f_squared : ndarray of shape (n_lines,)
        Sum of ``|F|²`` over the line's reflections (Debye–Waller and preferred
        orientation included): the multiplicity-weighted structure intensity.
    two_theta : ndarray of shape (n_lines,)
        Bragg angle 2θ (degrees) at the primary wavelength (of a Kβ row: at
        the anode's Kβ1 wavelength).
    intensity : ndarray of shape (n_lines,)
        Integrated intensity of the primary line, ``f_squared · LP`` (times
        ``exp(-2 B (1/2d)²)`` with the simulator's ``overall_b``); of a Kβ row,
        ``kbeta · f_squared · LP(θβ)`` (times the same factor).
    wavelength : float
        Primary wavelength (Å).
    name : str or None
        Name of the crystal.
    radiation_kind : {"xray", "neutron"} or None, default=None
        Kind of radiation of ``f_squared`` (X-ray form factors or neutron
        scattering lengths). :meth:`PowderSimulator.render` refuses a peak list
        of the other kind. None (hand-made or older peak lists): not known, not
        checked.
    two_theta_limits : (float, float) or None, default=None
        The 2θ range (degrees, primary wavelength) the lines were listed for.
        :meth:`PowderSimulator.render` refuses a grid reaching beyond it (the
        lines there would be missing). None: not known, not checked.
    structure_settings : dict or None, default=None
        The simulator settings that are part of ``f_squared``: ``anomalous``,
        ``debye_waller``, ``preferred_orientation`` (tuple or None) and
        ``march_r``. :meth:`PowderSimulator.render` refuses a simulator whose
        settings differ (they would be silently ignored). None: not checked.
    lorentz_polarization : bool or None, default=None
        Whether ``intensity`` includes the Lorentz-polarization factor.
    monochromator_angle : float or None, default=None
        Monochromator 2θ (degrees) in the polarization factor of ``intensity``.
    overall_b : float or None, default=None
        Overall B (Å²) in ``intensity``.
    polarization : float or None, default=None
        The beam's polarization fraction in the polarization factor of
        ``intensity`` (None: unpolarized, or not known).
    kbeta : float or None, default=None
        The Kβ1/Kα1 intensity ratio of the Kβ rows (None: not known).
    is_kbeta : ndarray of bool of shape (n_lines,) or None, default=None
        Which rows are Kβ lines: the reflections again at the anode's Kβ1
        wavelength, listed after the others where their 2θ lies within
        ``two_theta_limits`` (a simulator's ``kbeta`` > 0). None: no Kβ rows.

    Notes
    -----
    :meth:`PowderSimulator.render` uses ``f_squared`` only: the rendering
    simulator's Lorentz-polarization factor, monochromator angle, overall B,
    profile and wavelength lines (Kα2) apply, whatever ``intensity`` was listed
    with. That is what re-rendering is for.

    Examples
    --------
    >>> from skxrd import Crystal, PowderSimulator
    >>> si = Crystal.from_wyckoff(227, [("Si", "8a")], a=5.431)
    >>> peaks = PowderSimulator(radiation="CuKa1").peaks([si])[0]
    >>> peaks.hkl[:3].tolist(), peaks.two_theta[:3].round(2).tolist()
    ([[1, 1, 1], [2, 2, 0], [3, 1, 1]], [28.44, 47.3, 56.12])
    """

    d: np.ndarray
    hkl: np.ndarray
    multiplicity: np.ndarray
    f_squared: np.ndarray
    two_theta: np.ndarray
    intensity: np.ndarray
    wavelength: float
    name: str | None = None
    # Defaults (class attributes) keep older pickles loadable: their fields
    # read None, "not known", and render checks nothing for them.
    radiation_kind: str | None = None
    two_theta_limits: tuple[float, float] | None = None
    structure_settings: dict | None = None
    lorentz_polarization: bool | None = None
    monochromator_angle: float | None = None
    overall_b: float | None = None
    polarization: float | None = None
    kbeta: float | None = None
    is_kbeta: np.ndarray | None = None

    @property
    def q(self) -> np.ndarray:
        """Scattering vector magnitude 2π/d (Å⁻¹)."""
        return 2.0 * np.pi / self.d

    @property
    def relative_intensity(self) -> np.ndarray:
        """Intensities scaled so that the strongest line is 100."""
        if len(self.intensity) == 0:
            return self.intensity.copy()
        return 100.0 * self.intensity / self.intensity.max()

    def __len__(self) -> int:
        return len(self.d)

    def to_table(self, n: int | None = None) -> str:
        """A text table of the lines (strongest ``n`` if given, in 2θ order);
        Kβ rows (``is_kbeta``) are marked ``Kβ``."""
        order = np.arange(len(self))
        if n is not None:
            order = np.sort(np.argsort(-self.intensity, kind="stable")[:n])
        beta = getattr(self, "is_kbeta", None)  # None in older pickles
        if beta is not None:
            # Kβ rows follow the others: put them in their 2θ places
            order = order[np.argsort(self.two_theta[order], kind="stable")]
        rows = ["   2theta      d (Å)    h   k   l   mult   I/Imax"]
        rel = self.relative_intensity
        for i in order:
            h, k, l = self.hkl[i]
            rows.append(
                f"{self.two_theta[i]:9.4f} {self.d[i]:10.5f} {h:4d}{k:4d}{l:4d} "
                f"{self.multiplicity[i]:6d} {rel[i]:8.2f}"
                + ("  Kβ" if beta is not None and beta[i] else "")
            )
        return "\n".join(rows)


# Bounded for long runs: an entry holds 72 bytes per hkl of its box (up to
# megabytes for large cells), and 4096 entries took over a gigabyte per
# process in a million-pattern run; 1024 keep the hit rate (same speed on
# 10,000 random crystals: 198 vs 190-203 patterns/s).
@lru_cache(maxsize=1024)
def _half_space_hkl(hmax: tuple[int, int, int]) -> np.ndarray:
    """Integer hkl in the box |h_i| <= hmax_i with exactly one of each ±hkl pair."""
    h = np.arange(-hmax[0], hmax[0] + 1)
    k = np.arange(-hmax[1], hmax[1] + 1)
    l = np.arange(0, hmax[2] + 1)
    grid = np.stack(np.meshgrid(h, k, l, indexing="ij"), -1).reshape(-1, 3)
    keep = (grid[:, 2] > 0) | (
        (grid[:, 2] == 0) & ((grid[:, 1] > 0) | ((grid[:, 1] == 0) & (grid[:, 0] > 0)))
    )
    grid = grid[keep].astype(np.float64)
    h, k, l = grid.T
    # |g|² = products @ (M00, M11, M22, M01, M02, M12) for the metric M
    products = np.stack([h * h, k * k, l * l, 2 * h * k, 2 * h * l, 2 * k * l], 1)
    grid.flags.writeable = False
    products.flags.writeable = False
    return grid, products


def cell_text(crystal: Crystal) -> str:
    """The cell parameters of ``crystal`` for an error message."""
    a, b, c, alpha, beta, gamma = crystal.lattice_parameters
    return (
        f"a={a:.6g} b={b:.6g} c={c:.6g} Å, alpha={alpha:.6g} beta={beta:.6g} "
        f"gamma={gamma:.6g}°"
    )


def _memory_text(n_bytes: float) -> str:
    """``n_bytes`` for a message: "40 GB", "133 kB"."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= size:
            return f"{n_bytes / size:.0f} {unit}"
    return f"{n_bytes:.0f} bytes"


def check_hkl_box(
    hmax, g_max: float, crystal: Crystal, max_reflections: int = MAX_REFLECTIONS
) -> None:
    """One clear error, before anything is allocated, for a crystal whose hkl
    box up to ``g_max = 1/d_min`` holds more than ``max_reflections``."""
    h, k, l = (int(x) for x in hmax)
    n = ((2 * h + 1) * (2 * k + 1) * (2 * l + 1) - 1) // 2  # _half_space_hkl's
    if n <= max_reflections:
        return
    raise ValueError(
        f"its cell ({cell_text(crystal)}) would need {n:,} reflections "
        f"(hkl up to ±{h} ±{k} ±{l}, d down to {1.0 / g_max:.4g} Å) where one "
        f"crystal may have {max_reflections:,} (they would take about "
        f"{_memory_text(n * 200)} of memory); simulate a smaller 2θ range (a "
        "lower upper limit) or a longer wavelength, or raise max_reflections "
        f"(PowderSimulator(max_reflections={n})) where that memory is there"
    )


def _reciprocal(rows) -> tuple:
    """Rows a*, b*, c* (no 2π) of a lattice given as rows a, b, c (nested
    lists): the transposed inverse, from cross products in plain floats
    (np.linalg.inv's call overhead is a fifth of a small crystal's lines)."""
    (a1, a2, a3), (b1, b2, b3), (c1, c2, c3) = rows
    bc = (b2 * c3 - b3 * c2, b3 * c1 - b1 * c3, b1 * c2 - b2 * c1)
    ca = (c2 * a3 - c3 * a2, c3 * a1 - c1 * a3, c1 * a2 - c2 * a1)
    ab = (a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1)
    volume = a1 * bc[0] + a2 * bc[1] + a3 * bc[2]
    if volume == 0.0:
        raise np.linalg.LinAlgError("Singular matrix")
    return tuple(tuple(x / volume for x in v) for v in (bc, ca, ab))


def phase_coords(frac_coords: np.ndarray) -> np.ndarray:
    """``2π`` times the fractional coordinates moved by whole cells into
    [-1/2, 1/2], as float32 for the phases of both backends.

    F(hkl) is the same for any whole-cell shift of an atom, but float32 phases
    are not: coordinates are kept as given (unwrapped ones at 100 put errors
    of 1e-2 rad into 2π(hx + ky + lz), enough to turn systematic absences
    into lines). The shift is exact in float64.
    """
    frac = np.asarray(frac_coords, dtype=np.float64)
    return (2.0 * np.pi * (frac - np.rint(frac))).astype(np.float32)


def _scattering_groups(crystal: Crystal, radiation: Radiation, anomalous: bool):
    """Group atoms by (species, B): per group one scattering-strength model.

    Returns the (n_atoms, n_groups) occupancy matrix, each group's B, its
    form-factor coefficients (X-rays) and constant / imaginary parts (neutron
    scattering length or anomalous f', f'').
    """
    has_b = bool(crystal.b_iso.any())
    keys = (
        tuple(zip(crystal.species, crystal.b_iso.tolist()))
        if has_b
        else tuple(crystal.species)
    )
    one_hot, unique = _grouping(keys)
    species = tuple(sp for sp, _ in unique) if has_b else unique
    b_values = np.array([b for _, b in unique]) if has_b else None
    occupancies = crystal.occupancies
    weights = (
        one_hot
        if occupancies.min() == 1.0  # full occupancy, by far the most common
        else one_hot * occupancies[:, None].astype(np.float32)
    )
    coeffs, const, imag = _species_terms(
        species, radiation.kind, radiation.energy_kev, anomalous, radiation.wavelength
    )
    return weights, b_values, coeffs, const, imag


@lru_cache(maxsize=1024)
def _grouping(keys: tuple):
    """(n_atoms, n_groups) one-hot float32 matrix of the atoms' groups and the
    distinct keys in order of first appearance (read-only; cached: a dataset's
    crystals share a few orderings of species)."""
    index: dict = {}
    group = [index.setdefault(k, len(index)) for k in keys]
    one_hot = np.zeros((len(keys), len(index)), dtype=np.float32)
    one_hot[np.arange(len(keys)), group] = 1.0
    one_hot.flags.writeable = False
    return one_hot, tuple(index)


# Smallest imaginary neutron scattering length that makes a crystal's lengths
# complex (fm): Li's 0.02 does, the 1e-4 of most elements' do not (a relative
# |F|² change below 1e-8). Once one is kept, all are: beside an absorber's
# (Gd: -13.8 fm) the others' enter |F|² through their cross terms with it
# (Tl's -0.001 fm moved Tl-Gd lines by 6e-5 of the strongest).
NEUTRON_IMAG_MIN_FM = 0.01


@lru_cache(maxsize=4096)
def _species_terms(
    species: tuple, kind: str, energy_kev, anomalous: bool, wavelength=None
):
    """Form-factor coefficients, constant and imaginary parts of the species
    (read-only; cached: the same few compositions recur across a dataset)."""
    imag = np.zeros(len(species))
    if kind == "neutron":
        coeffs = None
        b = np.array([neutron_scattering_length(sp, wavelength) for sp in species])
        const = b.real.copy()
        # absorbers' imaginary parts (Gd: -13.8 fm) with all the others';
        # without an absorber those (Si: 5e-5 fm) change no intensity and
        # would only cost the complex sums
        absorber = np.any(np.abs(b.imag) > NEUTRON_IMAG_MIN_FM)
        imag = b.imag.copy() if absorber else np.zeros(len(species))
    else:
        coeffs = np.stack([form_factor_coefficients(sp) for sp in species])
        const = coeffs[:, 0].copy()
        if anomalous:
            terms = np.array([anomalous_terms(sp, energy_kev) for sp in species])
            const += terms[:, 0]
            imag = terms[:, 1]
    for array in (coeffs, const, imag):
        if array is not None:
            array.flags.writeable = False
    return coeffs, const, imag


def reflections(
    crystal: Crystal,
    radiation: Radiation,
    g_range: tuple[float, float],
    *,
    anomalous: bool = False,
    debye_waller: bool = True,
    preferred_orientation=None,
    march_r: float = 1.0,
    with_hkl: bool = True,
    max_reflections: int = MAX_REFLECTIONS,
):
    """Powder lines with ``g_min <= 1/d <= g_max``.

    Returns ``(g, hkl, multiplicity, f_squared)`` sorted by increasing ``g = 1/d``,
    systematic absences removed. ``f_squared`` sums ``|F(h)|² + |F(-h)|²`` over
    the half space of Friedel pairs, which stays exact with anomalous scattering.
    A crystal whose hkl box holds more than ``max_reflections`` (default
    :data:`MAX_REFLECTIONS`) is refused (:func:`check_hkl_box`).
    """
    g_min, g_max = g_range
    # The cell's 3×3 quantities in plain floats: numpy's per-call overheads
    # (inv, norm, r_) were a fifth of a small crystal's whole simulation.
    rows = crystal.lattice.tolist()
    recip = _reciprocal(rows)  # rows a*, b*, c*; g = hkl @ recip
    # |h| = |g . a| <= g_max |a|
    hmax = tuple(
        math.floor(g_max * math.sqrt(x * x + y * y + z * z) + 1e-9) for x, y, z in rows
    )
    check_hkl_box(hmax, g_max, crystal, max_reflections)
    hkl, products = _half_space_hkl(hmax)
    p, q, r = recip

    def dot(u, v):
        return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]

    metric = [dot(p, p), dot(q, q), dot(r, r), dot(p, q), dot(p, r), dot(q, r)]
    g2 = products @ np.array(metric)
    keep = np.flatnonzero((g2 <= g_max * g_max) & (g2 >= g_min * g_min))
    hkl, g2 = hkl.take(keep, axis=0), g2.take(keep)
    if len(hkl) == 0:
        empty = np.zeros(0)
        return empty, np.zeros((0, 3), dtype=int), np.zeros(0, dtype=int), empty
    order = np.argsort(g2)
    hkl, g2 = hkl[order], g2[order]
    s2 = 0.25 * g2  # (sin θ / λ)²

    weights, b_values, coeffs, const, imag = _scattering_groups(
        crystal, radiation, anomalous
    )
    n_groups = len(const)
    # Scattering strength of each group at each reflection: (n_hkl, n_groups)
    if coeffs is None:
        fg = np.broadcast_to(const, (len(s2), n_groups)).copy()
    else:
        # All four Gaussians of all groups in one exp, then a weighted sum.
        b = coeffs[:, 2::2].ravel().astype(np.float32)
        terms = np.exp(np.multiply.outer(-s2.astype(np.float32), b))
        terms *= coeffs[:, 1::2].ravel().astype(np.float32)
        # columns are (group, gaussian) pairs, gaussian fastest
        fg = terms[:, 0::4] + terms[:, 1::4] + terms[:, 2::4] + terms[:, 3::4] + const
    # the imaginary parts (anomalous f'') are zero unless asked for: the
    # common case skips their terms
    complex_f = bool(imag.any())
    fi = None
    if debye_waller and b_values is not None:
        dw = np.exp(np.multiply.outer(-s2, b_values))
        fg *= dw
        if complex_f:
            fi = imag * dw
    elif complex_f:
        fi = np.broadcast_to(imag, fg.shape)

    # float32 phases: |hkl| stays below ~100 on any sensible grid, where the
    # rounding error of 2π(hx + ky + lz) is < 1e-4 rad for coordinates in
    # [-1/2, 1/2] (phase_coords).
    coords = phase_coords(crystal.frac_coords).T
    hkl32 = hkl.astype(np.float32)
    occupancy = weights.sum(0, dtype=np.float64)  # per group
    f_squared = np.empty(len(hkl))
    block = max(1, _BLOCK // max(crystal.n_atoms, 1))
    for start in range(0, len(hkl), block):
        sl = slice(start, start + block)
        phase = hkl32[sl] @ coords
        s_re = np.cos(phase) @ weights
        s_im = np.sin(phase) @ weights
        a = fg[sl]
        if complex_f:
            b = fi[sl]
            # F(±h) = Σ_g (a + i b)(s_re ± i s_im)
            re_p = (a * s_re - b * s_im).sum(1)
            im_p = (a * s_im + b * s_re).sum(1)
            re_m = (a * s_re + b * s_im).sum(1)
            im_m = (b * s_re - a * s_im).sum(1)
            f2 = re_p**2 + im_p**2 + re_m**2 + im_m**2
            bound = (np.abs(a) + np.abs(b)) @ occupancy
        else:
            # row-wise dot products (einsum: a third of (a * s).sum(1)'s time
            # on the few columns of a small crystal)
            re_p = np.einsum("ij,ij->i", a, s_re)
            im_p = np.einsum("ij,ij->i", a, s_im)
            f2 = 2.0 * (re_p**2 + im_p**2)
            bound = np.abs(a) @ occupancy
        f_squared[sl] = np.where(f2 > ABSENT_RTOL * 2.0 * bound**2, f2, 0.0)

    if preferred_orientation is not None and march_r != 1.0:
        # March–Dollase: P(α) = (r² cos²α + sin²α / r)^(-3/2), α the angle
        # between the reflection and the preferred-orientation normal.
        recip = np.array(recip)
        gvec = hkl @ recip
        pvec = np.asarray(preferred_orientation, dtype=float) @ recip
        cos2 = (gvec @ pvec) ** 2 / (g2 * (pvec @ pvec))
        f_squared *= (march_r**2 * cos2 + (1.0 - cos2) / march_r) ** -1.5

    g = np.sqrt(g2)
    # One powder line per run of equal |g|.
    new_line = np.empty(len(g), dtype=bool)
    new_line[0] = True
    np.greater(g[1:] - g[:-1], MERGE_RTOL * g[1:], out=new_line[1:])
    starts = np.flatnonzero(new_line)
    f_line = np.add.reduceat(f_squared, starts)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1] = len(g)
    # multiplicity: the reflections at the line's d, as pymatgen counts them;
    # its name: an allowed one (not an absent (300) at the d of (221))
    allowed = f_squared > 0.0
    mult = (ends - starts) * 2
    present = f_line > 0.0
    # A line sits at the intensity-weighted mean 1/d of its reflections: the
    # same to the last bits for symmetry equivalents, but the nearly equal
    # reflections of a pseudo-symmetric cell merge in chains of 1e-6 steps,
    # and at the smallest 1/d the line was off by up to the chain's length
    # (1.6e-4 degrees in one Materials Project cell, 1.5e-3 of the maximum
    # against the torch backend, which renders each reflection where it is).
    g_line = np.add.reduceat(f_squared * g, starts)
    g_line = np.divide(g_line, f_line, out=g[starts].copy(), where=present)
    if not with_hkl:
        return g_line[present], None, mult[present], f_line[present]
    # Representative index: an allowed one, all-non-negative, then the
    # largest h, k, l.
    nonneg = np.all(hkl >= 0, axis=1)
    score = (
        allowed * 1e12 + nonneg * 1e9 + hkl[:, 0] * 1e6 + hkl[:, 1] * 1e3 + hkl[:, 2]
    )
    line_of = np.repeat(np.arange(len(starts)), ends - starts)
    best = np.lexsort((score, line_of))  # sorted by line, then score
    last_in_line = ends - 1
    rep = hkl[best[last_in_line]].astype(int)
    return g_line[present], rep[present], mult[present], f_line[present]


def structure_settings(anomalous, debye_waller, preferred_orientation, march_r):
    """The settings that enter ``f_squared``, as a :class:`PeakList` keeps them.

    Texture is one setting: without effect (no direction, or ``march_r=1``,
    where :func:`reflections` applies none) it reads as no direction and
    ``march_r=1``, so that equal ``f_squared`` means equal settings.
    """
    if preferred_orientation is None or float(march_r) == 1.0:
        po, r = None, 1.0
    else:
        po = tuple(float(v) for v in preferred_orientation)
        r = float(march_r)
    return {
        "anomalous": bool(anomalous),
        "debye_waller": bool(debye_waller),
        "preferred_orientation": po,
        "march_r": r,
    }


def limit_tolerance(lo: float, hi: float) -> float:
    """How far (degrees) a line may lie beyond the 2θ limits ``lo, hi`` and
    still be listed: the rounding of 2θ -> 1/d -> 2θ and of the order of a
    merged line's sum; :meth:`PowderSimulator.render` allows the same."""
    return 1e-9 * max(abs(lo), abs(hi), 1.0)


def make_peak_list(
    crystal,
    radiation,
    g_range,
    two_theta_limits,
    monochromator,
    lorentz_polarization_on=True,
    overall_b=0.0,
    polarization=None,
    kbeta=0.0,
    **kwargs,
) -> PeakList:
    """Peak list of the primary wavelength within ``two_theta_limits`` (degrees).

    ``intensity`` includes the overall Debye–Waller factor of ``overall_b``
    (as the rendered pattern does); ``f_squared`` does not, since
    :meth:`PowderSimulator.render` applies it again. With ``kbeta`` > 0 the
    lines of the anode's Kβ1 wavelength within the limits follow, weighted by
    ``kbeta`` (``g_range`` must reach them)."""
    g, hkl, mult, fsq = reflections(crystal, radiation, g_range, **kwargs)
    settings = structure_settings(
        kwargs.get("anomalous", False),
        kwargs.get("debye_waller", True),
        kwargs.get("preferred_orientation"),
        kwargs.get("march_r", 1.0),
    )
    lo, hi = two_theta_limits
    # limits inclusive to within rounding: a line's 2θ moves by ulps with the
    # order in which its reflections are summed, which depends on the range
    tol = limit_tolerance(lo, hi)

    def rows(lam):
        """Indices into g, 2θ and LP factor of the lines of ``lam`` inside."""
        sin_t = g * lam / 2.0
        ok = sin_t < 1.0
        theta = np.arcsin(sin_t[ok])
        two_theta = np.degrees(2.0 * theta)
        inside = (two_theta >= lo - tol) & (two_theta <= hi + tol)
        lp = (
            lorentz_polarization(
                theta[inside],
                np,
                neutron=radiation.kind == "neutron",
                monochromator_2theta=monochromator,
                polarization=polarization,
            )
            if lorentz_polarization_on
            else np.ones(int(inside.sum()))
        )
        sel = np.flatnonzero(ok)[inside]
        if overall_b:
            lp = lp * np.exp(-2.0 * overall_b * (g[sel] / 2.0) ** 2)
        return sel, two_theta[inside], lp

    sel, two_theta, lp = rows(radiation.wavelength)
    intensity = fsq[sel] * lp
    is_kbeta = None
    if kbeta:
        beta, beta_tt, beta_lp = rows(radiation.kbeta)
        is_kbeta = np.r_[np.zeros(len(sel), bool), np.ones(len(beta), bool)]
        intensity = np.r_[intensity, kbeta * fsq[beta] * beta_lp]
        two_theta = np.r_[two_theta, beta_tt]
        sel = np.r_[sel, beta]
    return PeakList(
        d=1.0 / g[sel],
        hkl=hkl[sel],
        multiplicity=mult[sel],
        f_squared=fsq[sel],
        two_theta=two_theta,
        intensity=intensity,
        wavelength=radiation.wavelength,
        name=crystal.name,
        radiation_kind=radiation.kind,
        two_theta_limits=(float(lo), float(hi)),
        structure_settings=settings,
        lorentz_polarization=bool(lorentz_polarization_on),
        monochromator_angle=float(monochromator),
        overall_b=float(overall_b),
        polarization=None if polarization is None else float(polarization),
        kbeta=float(kbeta),
        is_kbeta=is_kbeta,
    )


def g_range_for(radiation: Radiation, two_theta_lo: float, two_theta_hi: float):
    """Range of 1/d that can land in [lo, hi] degrees for any wavelength line."""
    lams = radiation.wavelengths
    lo = 2.0 * math.sin(math.radians(max(two_theta_lo, 0.0) / 2.0)) / max(lams)
    hi = 2.0 * math.sin(math.radians(min(two_theta_hi, 180.0) / 2.0)) / min(lams)
    return lo, hi
