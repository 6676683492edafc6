"""The :class:`DiffractionImageSimulator` transformer: 2D diffraction images."""

from __future__ import annotations

import math
import numbers
from functools import cache

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from ..crystal import as_crystals
from ..utils._parallel import parallel_map
from ..utils._validation import check_bool, check_int, check_positive, check_real
from ._peaks import MAX_REFLECTIONS, cell_text
from ._scattering import (
    form_factor_coefficients,
    neutron_scattering_length,
    warn_xray_stand_ins,
)
from ._simulator import _crystal_error, _effective_jobs

__all__ = ["DiffractionImageSimulator"]

MODES = ("zone_axis", "fingerprint")
SCATTERING = ("xray", "neutron", "uniform")
FINGERPRINT_BEAMS = ("z", "rotation_axis")
_AXIS_NAMES = {"a": (1, 0, 0), "b": (0, 1, 0), "c": (0, 0, 1)}
_DEFAULT_SIZE = {"zone_axis": 256, "fingerprint": 64}
# Spots are drawn out to this many sigma: the Gaussian's mass beyond is < 1e-6.
_SPOT_WINDOW = 5.0
# Closer atoms are one split or partially occupied site, not neighbours (Å).
_MIN_NN = 0.3
# The detector's first axis follows a lattice vector at least this far (degrees)
# from the beam; see _detector_basis.
_MIN_REFERENCE_ANGLE = 30.0
# Largest cluster (atoms) of the fingerprint mode: the cost grows as R^3.
_MAX_CLUSTER = 200_000
# Elements of one intermediate array (numpy) or tensor (torch, per device).
_BUDGET = {"numpy": 1 << 21, "cuda": 1 << 24, "cpu": 1 << 21}
# Default of max_reflections: a zone's box counts both members of each Friedel
# pair, twice the powder simulator's half box for the same memory.
MAX_ZONE_POINTS = 2 * MAX_REFLECTIONS


class DiffractionImageSimulator(TransformerMixin, BaseEstimator):
    """Simulate 2D single-crystal diffraction images of crystals.

    Two kinds of image, chosen by ``mode``:

    ``"zone_axis"``
        Kinematic spot patterns with the beam along zone axes of the crystal
        (by default one image along each of the lattice vectors a, b, c), as in
        electron diffraction: the reciprocal-lattice points
        ``g = h a* + k b* + l c*`` whose excitation error (distance from the
        exact Ewald sphere of wavelength ``wavelength``) is at most
        ``excitation_error`` are drawn at the in-plane component of ``g`` as
        Gaussian spots of ``spot_sigma`` pixels with intensity ``|F(g)|²``
        (occupancies, X-ray form factors or neutron scattering lengths, and
        each atom's Debye–Waller factor). Exactly on a zone axis ``[uvw]`` the
        zero-order Laue zone is the set of ``g`` with ``hu + kv + lw = 0``; it
        fades out where the sphere leaves it, near
        ``|g| = sqrt(2 excitation_error / wavelength)``, and higher-order Laue
        zones (``hu + kv + lw = 1, 2, ...``: the zone axis points to the source,
        as in TEM) appear as rings further out. Output ``(n, n_axes, H, W)``.
    ``"fingerprint"``
        The two-dimensional diffraction fingerprint of Ziletti et al. (Nature
        Communications 9, 2775, 2018): a spherical cluster of the crystal with
        coordinates in units of the mean nearest-neighbour distance, rotated by
        -45° and +45° about each Cartesian axis x, y, z; the coherent intensity
        ``I(q) = |Σ_j w_j exp(i q·r_j)|²`` of each rotation on a flat detector
        (short-wavelength limit: ``q`` perpendicular to the beam), the two
        rotations about an axis added into one channel (R, G, B = x, y, z), and
        a ring of the image kept that leaves out the central beam. Scaling by the
        nearest-neighbour distance makes the fingerprint independent of the
        lattice constant; random vacancies and displacements change it little.
        Output ``(n, 3, H, W)``.

    The transformer is stateless: ``transform`` works without ``fit``.

    Parameters
    ----------
    mode : {"zone_axis", "fingerprint"}, default="zone_axis"
        The kind of image.
    axes : sequence of {"a", "b", "c"} or (int, int, int), default=("a", "b", "c")
        Zone axes (``"zone_axis"`` mode): ``"a"`` is the direction of the lattice
        vector a, i.e. ``[100]``; a triple ``(u, v, w)`` is the direction
        ``u a + v b + w c``. One image per axis.
    image_size : int, optional
        Height and width in pixels: by default 256 (``"zone_axis"``) or 64
        (``"fingerprint"``).
    wavelength : float, default=0.0251
        Wavelength in Å (``"zone_axis"``); the default is that of 200 keV
        electrons.
    excitation_error : float, default=0.02
        Largest distance in Å⁻¹ of a drawn reciprocal-lattice point from the
        Ewald sphere (``"zone_axis"``); of the order of the inverse thickness.
    max_g : float, default=1.5
        ``|g|`` in Å⁻¹ (without 2π, ``|g| = 1/d``) at the edge of the image, half
        the image width from its centre (``"zone_axis"``): the pixel size is
        ``max_g / (image_size / 2)``, 0.0117 Å⁻¹ by default, which puts the
        (200) spot of a 4 Å cubic cell 43 pixels from the centre.
    spot_sigma : float, default=1.0
        Standard deviation of the Gaussian spots in pixels (``"zone_axis"``).
        Spot values are ``|F|² exp(-r² / (2 spot_sigma²))``: a spot's sum over
        the pixels is ``2π spot_sigma² |F|²`` (within 0.03 % from
        ``spot_sigma=0.7``; the sums of narrower spots depend on where they lie
        between the pixels, by up to 3 % at 0.5 and 18 % at 0.4).
    include_direct_beam : bool, default=True
        Draw the undiffracted beam (``g = 0``, ``|F(0)|²``) at the centre
        (``"zone_axis"``).
    scattering : {"xray", "neutron", "uniform"}, default="xray"
        Scattering strength of an atom: X-ray form factors, coherent neutron
        scattering lengths, or 1 for every atom; always times the occupancy.
        The fingerprint uses the strength at ``q = 0`` (no Debye–Waller factor),
        so that it does not depend on the length scale.
    debye_waller : bool, default=True
        Apply each atom's isotropic B (``"zone_axis"``).
    cluster_radius : float, default=5.0
        Radius of the cluster in mean nearest-neighbour distances
        (``"fingerprint"``): about 740 atoms for a close-packed metal. Spot widths
        are about ``3.2 / cluster_radius`` in ``q``, 1.3 pixels by default.
    nn_shell : float, default=0.1
        Relative half-width of the first neighbour shell that defines the
        length unit of the fingerprint (``"fingerprint"``): each atom's mean
        distance to the neighbours within ``nn_shell`` of that mean, averaged
        over the atoms; equal to the mean nearest-neighbour distance of ideal
        structures. ``0`` takes each atom's nearest neighbour alone, which
        random displacements bias short (by 4 % for 0.05 Å in copper, against
        0.1 % with the shell).
    max_q : float, default=16.0
        ``|q|`` (``4π sin θ / λ`` times the mean nearest-neighbour distance) at
        the edge of the fingerprint, half the image width from its centre; the
        (111) spots of fcc metals lie at 7.70 (15 pixels), their (220) spots at
        12.6 (25 pixels).
    ring : (float, float), optional
        Radii in pixels between which the fingerprint is kept (the rest is set
        to 0; ``(0, inf)`` keeps all). By default ``(5/32, 15/32)`` times the
        image size, ``(10, 30)`` for 64 pixels, as Ziletti et al.
    fingerprint_beam : {"z", "rotation_axis"}, default="z"
        Beam of the fingerprint: along z for every rotation (Ziletti et al.:
        rotations about x and y tilt the crystal), or along the axis of the
        rotation, which then only turns the pattern in the detector plane.
    normalize : bool, default=True
        Scale each image to a maximum of 1 (all-zero images stay zero).
    backend : {"numpy", "torch"}, default="numpy"
        ``"torch"`` computes structure factors, intensities and spots in batches
        of crystals on ``device``; it equals the numpy backend within float32
        rounding.
    device : str, default="auto"
        Torch device for ``backend="torch"``: ``"auto"`` picks CUDA if available.
    batch_size : int, default=64
        Crystals per torch batch.
    n_jobs : int, optional
        Parallel workers through joblib (numpy backend).
    verbose : bool, default=False
        Show a progress bar.
    max_reflections : int, default=40_000_000
        The most reciprocal-lattice points (the whole ±hkl box, both members of
        each Friedel pair) that the search box of one zone axis may hold
        (``"zone_axis"``). A crystal needing more is refused with an error
        before the box is allocated (about 100 bytes per point: 4 GB at the
        default); raise it where the memory is there.

    See Also
    --------
    skxrd.PowderSimulator : Powder (1D) patterns.

    Notes
    -----
    Image geometry, both modes: the beam is at the array centre
    ``((H - 1) / 2, (W - 1) / 2)`` (between pixels for even sizes, so that
    ``np.rot90`` and flips of an image are images of the rotated or mirrored
    pattern); columns run along the first detector axis ``e1`` and rows
    *against* the second, ``e2 = beam × e1`` (``e2`` points up when the image is
    shown with row 0 at the top).

    Zone axes: ``e1`` is the projection onto the detector plane of the lattice
    vector that follows the axis cyclically (b for a, c for b, a for c; for
    ``[uvw]``, the vector after the largest of ``|u|, |v|, |w|``, the first
    of equal ones: b for [110] and [111], c for [011]), or of the next one if
    that is within 30° of the beam. So for a cubic crystal the three images
    are the same, and along c a crystal in the usual setting (a along x)
    is seen with a to the right and b up. As in TEM, the zone axis points to
    the source (the electrons travel along ``-[uvw]``) and the image is seen
    from the source. Only forward beams are drawn (scattering angle under 90°:
    ``g·n < 1 / wavelength``, ``n`` the unit zone axis); back-scattered beams
    miss a transmission detector (at X-ray wavelengths the sphere is smaller
    than the image and reaches back). Spots are placed at the in-plane
    component of ``g`` (the small-angle geometry of electron diffraction), and
    ``g = 0`` is one of them. Intensities are kinematic, with X-ray form
    factors or neutron lengths: no dynamical scattering, no electron scattering
    factors.

    Fingerprints: the cluster holds all atoms (each with its occupancy) within
    ``cluster_radius`` mean nearest-neighbour distances of the origin of the
    cell (a point of highest site symmetry in standard settings), with the
    crystal in its Cartesian orientation (``Crystal.lattice`` rows). The mean
    nearest-neighbour distance (see ``nn_shell``) is taken over the atoms of the
    cell and their periodic images; atoms closer than 0.3 Å (split or partially
    occupied sites) are not neighbours. With ``fingerprint_beam="z"`` the
    detector axes are (x, y); with ``"rotation_axis"`` they follow the rotation
    axis cyclically: (y, z) for x, (z, x) for y, (x, y) for z.

    Examples
    --------
    >>> from skxrd import Crystal
    >>> from skxrd.simulation import DiffractionImageSimulator
    >>> nacl = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=5.64)
    >>> sim = DiffractionImageSimulator()
    >>> X = sim.transform([nacl])
    >>> X.shape, X.dtype
    ((1, 3, 256, 256), dtype('float32'))
    >>> bool((X[0, 0] == X[0, 2]).all())  # cubic: a, b and c look the same
    True

    The (200) spot lies ``|g| / pixel_size`` pixels right of the centre:

    >>> round((2 / 5.64) / sim.pixel_size, 1)
    30.3
    >>> row, col = np.unravel_index(X[0, 2, 120:136, 150:166].argmax(), (16, 16))
    >>> int(row) + 120, int(col) + 150
    (127, 158)

    Fingerprints do not depend on the lattice constant:

    >>> fp = DiffractionImageSimulator(mode="fingerprint")
    >>> cu = [Crystal.from_wyckoff(225, [("Cu", "4a")], a=a) for a in (3.6, 4.0)]
    >>> F = fp.transform(cu)
    >>> F.shape, bool(np.abs(F[0] - F[1]).max() < 1e-5)
    ((2, 3, 64, 64), True)
    """

    def __init__(
        self,
        mode="zone_axis",
        axes=("a", "b", "c"),
        image_size=None,
        wavelength=0.0251,
        excitation_error=0.02,
        max_g=1.5,
        spot_sigma=1.0,
        include_direct_beam=True,
        scattering="xray",
        debye_waller=True,
        cluster_radius=5.0,
        nn_shell=0.1,
        max_q=16.0,
        ring=None,
        fingerprint_beam="z",
        normalize=True,
        backend="numpy",
        device="auto",
        batch_size=64,
        n_jobs=None,
        verbose=False,
        max_reflections=MAX_ZONE_POINTS,
    ):
        self.mode = mode
        self.axes = axes
        self.image_size = image_size
        self.wavelength = wavelength
        self.excitation_error = excitation_error
        self.max_g = max_g
        self.spot_sigma = spot_sigma
        self.include_direct_beam = include_direct_beam
        self.scattering = scattering
        self.debye_waller = debye_waller
        self.cluster_radius = cluster_radius
        self.nn_shell = nn_shell
        self.max_q = max_q
        self.ring = ring
        self.fingerprint_beam = fingerprint_beam
        self.normalize = normalize
        self.backend = backend
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.max_reflections = max_reflections

    @property
    def pixel_size(self) -> float:
        """Pixel size: Å⁻¹ (``|g|``, zone axes) or ``|q|`` in units of 1/d_nn."""
        return _Settings(self).pixel_size

    def fit(self, X=None, y=None):
        """Check the parameters; the simulator learns nothing from data.

        Returns
        -------
        self
        """
        _Settings(self)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = False
        tags.transformer_tags.preserves_dtype = []
        return tags

    def transform(self, X) -> np.ndarray:
        """Simulate the images of each crystal.

        Parameters
        ----------
        X : sequence of Crystal (or pymatgen Structure, ASE Atoms, CIF paths)

        Returns
        -------
        ndarray of shape (n_crystals, n_images, image_size, image_size), float32
            ``n_images`` is ``len(axes)`` for zone axes and 3 for fingerprints.

        Raises
        ------
        ValueError
            For invalid parameters (naming the parameter), and for an input that
            is not a crystal, a crystal without scattering data or one whose
            zone would need more than ``max_reflections`` points (naming its
            index).

        Warns
        -----
        UserWarning
            With ``scattering="xray"``, once per call, naming the ions without
            an X-ray form factor table of their own (``S2-``) and the neutral
            atoms whose form factors are used instead.
        """
        s = _Settings(self)
        try:
            crystals = as_crystals(X)
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        if s.scattering == "xray":
            warn_xray_stand_ins(crystals, "DiffractionImageSimulator")
        if s.backend == "torch":
            return _simulate_torch(s, crystals, self.device, self.verbose)
        return self._map(s, crystals)

    def _map(self, s, crystals):
        n = len(crystals)
        n_jobs = self.n_jobs if self.n_jobs is not None else 1
        workers = _effective_jobs(n_jobs)
        n_chunks = 1 if n_jobs == 1 else max(1, min(4 * workers, n))
        bounds = np.linspace(0, n, n_chunks + 1).astype(int)
        chunks = [
            (int(a), crystals[a:b]) for a, b in zip(bounds[:-1], bounds[1:]) if b > a
        ]
        if n_jobs == 1:
            parts = [_images_chunk(s, a, chunk, self.verbose) for a, chunk in chunks]
        else:
            parts = parallel_map(
                _images_chunk,
                [(s, a, chunk, False) for a, chunk in chunks],
                n_jobs=n_jobs,
                verbose=self.verbose,
                desc="simulating",
                unit="chunk",
            )
        if not parts:
            return np.zeros((0, *s.shape), dtype=np.float32)
        return np.concatenate(parts)


# ------------------------------------------------------------------ settings
class _Settings:
    """Validated, derived settings (picklable, shared by the backends)."""

    def __init__(self, est: DiffractionImageSimulator):
        if est.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {est.mode!r}")
        self.mode = est.mode
        size = check_int(est.image_size, "image_size", minimum=8, allow_none=True)
        self.size = _DEFAULT_SIZE[self.mode] if size is None else size
        if self.size > 4096:
            raise ValueError(f"image_size must be <= 4096, got {self.size}")
        self.center = (self.size - 1) / 2.0
        self.axes = _parse_axes(est.axes)
        self.wavelength = check_positive(est.wavelength, "wavelength")
        self.excitation_error = check_positive(est.excitation_error, "excitation_error")
        self.max_g = check_positive(est.max_g, "max_g")
        self.spot_sigma = check_positive(est.spot_sigma, "spot_sigma")
        if self.spot_sigma > self.size:
            raise ValueError(
                f"spot_sigma must be at most image_size pixels, got {est.spot_sigma}"
            )
        self.window = int(math.ceil(_SPOT_WINDOW * self.spot_sigma))
        self.include_direct_beam = check_bool(
            est.include_direct_beam, "include_direct_beam"
        )
        if est.scattering not in SCATTERING:
            raise ValueError(
                f"scattering must be one of {SCATTERING}, got {est.scattering!r}"
            )
        self.scattering = est.scattering
        self.debye_waller = check_bool(est.debye_waller, "debye_waller")
        self.cluster_radius = check_positive(est.cluster_radius, "cluster_radius")
        self.nn_shell = check_real(est.nn_shell, "nn_shell")
        if not 0 <= self.nn_shell < 0.5:
            raise ValueError(f"nn_shell must be in [0, 0.5), got {est.nn_shell!r}")
        self.max_q = check_positive(est.max_q, "max_q")
        if est.ring is None:
            self.ring = (5.0 / 32.0 * self.size, 15.0 / 32.0 * self.size)
        else:
            try:
                lo, hi = (float(v) for v in est.ring)
            except (TypeError, ValueError):
                raise ValueError(f"ring must be two radii, got {est.ring!r}") from None
            if not (math.isfinite(lo) and 0 <= lo < hi):
                raise ValueError(
                    f"ring must be (r_min, r_max) with 0 <= r_min < r_max, "
                    f"got {est.ring!r}"
                )
            self.ring = (lo, hi)
        if est.fingerprint_beam not in FINGERPRINT_BEAMS:
            raise ValueError(
                f"fingerprint_beam must be one of {FINGERPRINT_BEAMS}, "
                f"got {est.fingerprint_beam!r}"
            )
        self.fingerprint_beam = est.fingerprint_beam
        self.normalize = check_bool(est.normalize, "normalize")
        if est.backend not in ("numpy", "torch"):
            raise ValueError(f"backend must be 'numpy' or 'torch', got {est.backend!r}")
        self.backend = est.backend
        self.batch_size = check_int(est.batch_size, "batch_size", minimum=1)
        n_jobs = check_int(est.n_jobs, "n_jobs", allow_none=True)
        if n_jobs == 0:
            raise ValueError("n_jobs must be a non-zero integer or None, got 0")
        self.max_reflections = check_int(
            est.max_reflections, "max_reflections", minimum=1
        )

        extent = self.max_q if self.mode == "fingerprint" else self.max_g
        self.pixel_size = extent / (self.size / 2.0)
        n_images = len(self.axes) if self.mode == "zone_axis" else 3
        self.shape = (n_images, self.size, self.size)
        # Image coordinates of the pixel centres relative to the beam.
        offsets = np.arange(self.size) - self.center
        self.q_cols = offsets * self.pixel_size
        self.q_rows = -offsets * self.pixel_size
        r2 = offsets[:, None] ** 2 + offsets[None, :] ** 2
        lo, hi = self.ring
        self.ring_mask = (r2 >= lo * lo) & (r2 <= hi * hi)


def _parse_axes(axes):
    msg = (
        "axes must be a non-empty sequence of 'a', 'b', 'c' or non-zero integer "
        f"(u, v, w) triples, got {axes!r}"
    )
    if isinstance(axes, str):
        axes = tuple(axes)
    try:
        items = list(axes)
    except TypeError:
        raise ValueError(msg) from None
    if not items:
        raise ValueError(msg)
    out = []
    for item in items:
        if isinstance(item, str):
            if item not in _AXIS_NAMES:
                raise ValueError(msg)
            out.append(_AXIS_NAMES[item])
            continue
        try:
            uvw = tuple(item)
        except TypeError:
            raise ValueError(msg) from None
        if len(uvw) != 3 or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in uvw
        ):
            raise ValueError(msg)
        if not any(uvw):
            raise ValueError(msg)
        out.append(tuple(int(v) for v in uvw))
    return tuple(out)


# ------------------------------------------------------------------ scattering
@cache
def _coefficients(species: str, scattering: str) -> np.ndarray:
    """``(c, a1, b1, ..., a4, b4)`` of ``f(s) = c + Σ a_i exp(-b_i s²)``."""
    if scattering == "xray":
        return form_factor_coefficients(species)
    out = np.zeros(9)
    out[0] = 1.0 if scattering == "uniform" else neutron_scattering_length(species)
    return out


def _atom_coefficients(s, crystal):
    return np.stack([_coefficients(sp, s.scattering) for sp in crystal.species])


def _form_factors(coeff, s2):
    """``f`` of each coefficient row (columns) at each ``s²`` (rows)."""
    s2 = np.asarray(s2)[:, None]
    return coeff[:, 0] + sum(
        coeff[:, i] * np.exp(-coeff[:, i + 1] * s2) for i in (1, 3, 5, 7)
    )


# ------------------------------------------------------------------ zone axes
def _detector_basis(lattice, uvw):
    """Unit beam direction ``n`` and detector axes ``e1``, ``e2 = n × e1``."""
    uvw = np.asarray(uvw, dtype=float)
    n = uvw @ lattice
    n /= np.linalg.norm(n)
    cos = np.abs(lattice @ n) / np.linalg.norm(lattice, axis=1)
    m = int(np.argmax(np.abs(uvw)))
    limit = math.cos(math.radians(_MIN_REFERENCE_ANGLE))
    ref = next(
        (i for i in ((m + 1) % 3, (m + 2) % 3) if cos[i] <= limit),
        int(np.argmin(cos)),
    )
    e1 = lattice[ref] - (lattice[ref] @ n) * n
    e1 /= np.linalg.norm(e1)
    return n, e1, np.cross(n, e1)


def _slab(k, excitation_error, r_perp):
    """Largest ``|g·n|`` of a drawn point: forward beams within
    ``excitation_error`` of the sphere ``|g - k n| = k``, ``|g_perp| <= r_perp``.

    The inner shell ``|g - k n| = k - excitation_error`` rises highest at the
    edge: ``g·n = k - sqrt((k - excitation_error)² - r_perp²)``, or ``k`` (the
    forward limit) where that shell does not reach ``r_perp``. Below the
    origin, ``g·n >= -excitation_error``.
    """
    inner = k - excitation_error
    if inner > r_perp:
        top = k - math.sqrt((inner - r_perp) * (inner + r_perp))
    else:
        top = k
    return max(top, excitation_error)


def _box(hmax):
    ranges = [np.arange(-h, h + 1) for h in hmax]
    return np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1).reshape(-1, 3)


def _zone_spots(s, crystal):
    """Spots of every zone axis of a crystal, on the image grid.

    Returns image index, row, column (pixels), hkl and ``s² = (|g|/2)²`` of every
    spot whose window touches its image.
    """
    lattice = crystal.lattice
    recip = np.linalg.inv(lattice).T  # rows a*, b*, c* (Å⁻¹, no 2π)
    k = 1.0 / s.wavelength
    px = s.pixel_size
    half = s.size / 2.0 + s.window  # a spot farther out cannot touch the image
    r_perp = half * px * math.sqrt(2.0)
    slab = _slab(k, s.excitation_error, r_perp)
    parts = []
    for index, uvw in enumerate(s.axes):
        n, e1, e2 = _detector_basis(lattice, uvw)
        along = lattice @ n
        across = np.linalg.norm(lattice - np.outer(along, n), axis=1)
        # |h| = |g·a| over the cylinder |g_perp| <= r_perp, |g·n| <= slab
        hmax = np.floor(r_perp * across + slab * np.abs(along) + 1e-9).astype(int)
        n_box = int(np.prod(2 * hmax + 1))
        if n_box > s.max_reflections:  # one error, before the box is allocated
            raise ValueError(
                f"zone axis {list(uvw)}: its cell ({cell_text(crystal)}) would "
                f"need {n_box:,} reciprocal lattice points (hkl up to "
                f"±{hmax[0]} ±{hmax[1]} ±{hmax[2]}) where a zone may have "
                f"{s.max_reflections:,}; a smaller max_g or excitation_error, or "
                f"a larger max_reflections (DiffractionImageSimulator("
                f"max_reflections={n_box})) where the memory is there"
            )
        hkl = _box(hmax)
        g = hkl @ recip
        u, v = g @ e1 / px, g @ e2 / px
        keep = (np.abs(u) <= half) & (np.abs(v) <= half)
        hkl, g, u, v = hkl[keep], g[keep], u[keep], v[keep]
        g2 = np.einsum("ij,ij->i", g, g)
        # The zone axis points to the source (k0 = -k n), as in TEM: the
        # distance |k0 + g| - k from the Ewald sphere, without cancellation.
        gn = -k * (g @ n)
        excitation = (2.0 * gn + g2) / (k + np.sqrt(k * k + 2.0 * gn + g2))
        # Forward beams only (g·n < k, 2θ < 90°): a back-scattered beam never
        # reaches a transmission detector, and its in-plane component would
        # land on the forward spots.
        keep = (np.abs(excitation) <= s.excitation_error) & (g @ n < k)
        if not s.include_direct_beam:
            keep &= np.any(hkl != 0, axis=1)
        parts.append(
            (
                np.full(int(keep.sum()), index),
                s.center - v[keep],
                s.center + u[keep],
                hkl[keep],
                g2[keep] / 4.0,
            )
        )
    return tuple(np.concatenate(p) for p in zip(*parts))


def _intensities(s, crystal, hkl, s2):
    """Kinematic ``|F(g)|²`` of the spots (numpy, float64)."""
    coeff, species = np.unique(
        _atom_coefficients(s, crystal), axis=0, return_inverse=True
    )
    frac = crystal.frac_coords
    occ = crystal.occupancies
    b_iso = crystal.b_iso if s.debye_waller else np.zeros(crystal.n_atoms)
    out = np.empty(len(hkl))
    step = max(1, _BUDGET["numpy"] // max(crystal.n_atoms, 1))
    for a in range(0, len(hkl), step):
        f = _form_factors(coeff, s2[a : a + step])[:, species.ravel()]
        f *= occ * np.exp(-np.outer(s2[a : a + step], b_iso))
        phase = 2.0 * np.pi * (hkl[a : a + step] @ frac.T)
        re = np.einsum("ij,ij->i", f, np.cos(phase))
        im = np.einsum("ij,ij->i", f, np.sin(phase))
        out[a : a + step] = re * re + im * im
    return out


def _spot_window(xp, centre, position, w, size, scale):
    """The pixels of one image axis that each spot's window can reach, and
    their Gaussian weights (numpy or torch, ``xp``).

    ``min(2w + 1, size)`` pixels per spot, all on the image: a window wider
    than the image (a large ``spot_sigma``) costs no more than the image;
    pixels beyond ``w`` of the spot's centre weigh 0, as the window cuts."""
    n = min(2 * w + 1, size)
    start = (centre - w).clip(0, size - n)
    if xp is np:
        pixels = start[:, None] + np.arange(n)
    else:
        pixels = start[:, None] + xp.arange(n, device=centre.device)
    weight = xp.exp(scale * (pixels - position[:, None]) ** 2)
    weight = xp.where(abs(pixels - centre[:, None]) > w, 0.0, weight)
    return pixels, weight


def _window_step(s, budget, per_spot=1):
    """Spots per chunk: each takes ``min(2 w + 1, size)²`` window pixels (and
    ``per_spot`` other values), so that a chunk stays within ``budget``."""
    n = min(2 * s.window + 1, s.size)
    return max(1, budget // max(n * n, per_spot))


def _render(s, n_images, image, row, col, intensity):
    """Gaussian spots drawn into ``n_images`` images (numpy, float64)."""
    size, w = s.size, s.window
    scale = -0.5 / s.spot_sigma**2
    out = np.zeros(n_images * size**2)
    # In chunks of spots: the windows of all spots at once grow as the spot
    # count times spot_sigma² (GBs for a 20 Å cell at spot_sigma=8).
    step = _window_step(s, _BUDGET["numpy"])
    for a in range(0, len(row), step):
        r, c = row[a : a + step], col[a : a + step]
        rows, gy = _spot_window(np, np.rint(r).astype(np.intp), r, w, size, scale)
        cols, gx = _spot_window(np, np.rint(c).astype(np.intp), c, w, size, scale)
        values = (intensity[a : a + step, None] * gy)[:, :, None] * gx[:, None, :]
        first = (image[a : a + step, None] * size + rows) * size  # row starts
        index = first[:, :, None] + cols[:, None, :]
        # only the span of pixels that the chunk touches
        lo, hi = int(index.min()), int(index.max()) + 1
        out[lo:hi] += np.bincount(index.ravel() - lo, values.ravel(), minlength=hi - lo)
    return out.reshape(n_images, size, size)


# ------------------------------------------------------------------ fingerprints
def _mean_nn_distance(crystal, shell: float) -> float:
    """Mean over the atoms of the mean distance to their first shell (Å).

    The shell of an atom is the set of neighbours within ``shell`` (relative) of
    the shell's mean distance, found from the nearest neighbour by two
    refinements; ``shell=0`` gives the nearest-neighbour distance itself.
    """
    lattice = crystal.lattice
    cart = (crystal.frac_coords % 1.0) @ lattice
    reach = np.linalg.norm(np.linalg.inv(lattice).T, axis=1)
    # An atom's own image along the shortest cell edge bounds its nearest
    # distance; start from twice the mean spacing, a much smaller cut-off in
    # large cells, and widen it until every shell lies within.
    bound = float(np.linalg.norm(lattice, axis=1).min()) * (1.0 + 3.0 * shell)
    spacing = (crystal.volume / crystal.n_atoms) ** (1.0 / 3.0)
    cutoff = min(2.0 * spacing * (1.0 + 3.0 * shell), bound)
    while True:
        distance, farthest = _shell_distances(cart, lattice, reach, cutoff, shell)
        if farthest <= cutoff or cutoff >= bound:
            break
        cutoff = min(2.0 * cutoff, bound)
    if not np.all(np.isfinite(distance)):
        raise ValueError(f"an atom has no neighbour farther than {_MIN_NN} Å")
    return float(distance.mean())


def _shell_distances(cart, lattice, reach, cutoff, shell):
    """Per-atom shell distances from the neighbours within ``cutoff``, and the
    largest distance that a shell window reached (to check the cut-off)."""
    shifts = _box(np.ceil(cutoff * reach).astype(int) + 1) @ lattice
    n = len(cart)
    step = max(1, _BUDGET["numpy"] // (n * len(shifts)))
    distance = np.empty(n)
    farthest = 0.0
    for a in range(0, n, step):
        diff = (
            cart[None, :, None, :] + shifts[None, None] - cart[a : a + step, None, None]
        )
        d = np.sqrt(np.einsum("...k,...k->...", diff, diff)).reshape(len(diff), -1)
        d[(d < _MIN_NN) | (d > cutoff)] = np.inf
        centre = d.min(axis=1)
        if not np.all(np.isfinite(centre)):
            # no neighbour within the cut-off: widen it (or fail at the bound)
            return centre, math.inf
        if shell > 0:
            # the window is first above the nearest neighbour, then centred on
            # the shell, so that random displacements do not bias the mean short
            top = (1.0 + shell) * centre
            inside = d <= top[:, None]
            for _ in range(3):
                count = inside.sum(axis=1)
                mean = np.sum(d, axis=1, where=inside) / np.maximum(count, 1)
                centre = np.where(count > 0, mean, centre)
                top = np.maximum(top, (1.0 + shell) * centre)
                inside = np.abs(d - centre[:, None]) <= shell * centre[:, None]
            farthest = max(farthest, float(top.max()))
        else:
            farthest = max(farthest, float(centre.max()))
        distance[a : a + step] = centre
    return distance, farthest


def _cluster(s, crystal):
    """Cluster positions in mean nearest-neighbour distances, and atom weights."""
    d_nn = _mean_nn_distance(crystal, s.nn_shell)
    lattice = crystal.lattice
    radius = s.cluster_radius * d_nn
    reach = np.linalg.norm(np.linalg.inv(lattice).T, axis=1)
    n_estimate = 4.0 / 3.0 * math.pi * radius**3 / crystal.volume * crystal.n_atoms
    if n_estimate > _MAX_CLUSTER:
        raise ValueError(
            f"the cluster would have about {n_estimate:.0f} atoms (more than "
            f"{_MAX_CLUSTER}); lower cluster_radius"
        )
    shifts = _box(np.ceil(radius * reach).astype(int) + 1)
    frac = crystal.frac_coords % 1.0
    pos = ((shifts[:, None, :] + frac[None]) @ lattice).reshape(-1, 3) / d_nn
    # the tolerance keeps shells exactly at the radius, whatever the scale
    keep = np.einsum("ij,ij->i", pos, pos) <= (s.cluster_radius + 1e-6) ** 2
    f0 = _atom_coefficients(s, crystal)[:, [0, 1, 3, 5, 7]].sum(axis=1)
    weights = np.tile(f0 * crystal.occupancies, len(shifts))
    return pos[keep], weights[keep]


def _rotation(axis: int, degrees: float) -> np.ndarray:
    c, sn = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    i, j = (axis + 1) % 3, (axis + 2) % 3
    rot = np.eye(3)
    rot[i, i], rot[i, j], rot[j, i], rot[j, j] = c, -sn, sn, c
    return rot


def _projections(s, positions):
    """Detector coordinates (u, v) of the six rotated clusters: (6, 2, n_atoms)."""
    out = np.empty((6, 2, len(positions)))
    for axis in range(3):
        if s.fingerprint_beam == "z":
            plane = [0, 1]
        else:
            plane = [(axis + 1) % 3, (axis + 2) % 3]
        for k, angle in enumerate((-45.0, 45.0)):
            out[2 * axis + k] = (positions @ _rotation(axis, angle).T)[:, plane].T
    return out


def _atom_step(s, budget):
    """Atoms per chunk of a fingerprint: each takes 6 image_size phase factors
    for the columns (and as many for the rows)."""
    return max(1, budget // (6 * s.size))


def _fingerprint(s, uv, weights):
    """Fingerprint images (3, H, W) of one cluster (numpy, float64)."""
    # I(q) = I(-q) for real scattering strengths: compute the top half of the
    # rows and fill the bottom half by the 180° rotation.
    half = (s.size + 1) // 2
    amplitude = np.zeros((6, half, s.size), dtype=complex)
    # In chunks of atoms: the phase factors of a whole large cluster took
    # 6 image_size complex values per atom (560 MB at cluster_radius=20).
    step = _atom_step(s, _BUDGET["numpy"])
    for a in range(0, uv.shape[-1], step):
        u, v = uv[:, 0, None, a : a + step], uv[:, 1, None, a : a + step]
        cols = np.exp(1j * s.q_cols[None, :, None] * u)  # (6, W, atoms)
        rows = np.exp(1j * s.q_rows[None, :half, None] * v) * weights[a : a + step]
        amplitude += rows @ cols.transpose(0, 2, 1)  # (6, half, W)
    top = amplitude.real**2 + amplitude.imag**2
    intensity = np.concatenate([top, top[:, : s.size // 2, ::-1][:, ::-1]], axis=1)
    return intensity.reshape(3, 2, s.size, s.size).sum(axis=1) * s.ring_mask


# ------------------------------------------------------------------ numpy driver
def _prepare(s, start, index, crystal):
    """Per-crystal geometry (numpy, float64), errors naming the crystal."""
    try:
        if s.mode == "zone_axis":
            image, row, col, hkl, s2 = _zone_spots(s, crystal)
            return image, row, col, hkl, s2, _atom_coefficients(s, crystal)
        positions, weights = _cluster(s, crystal)
        return _projections(s, positions), weights
    except ValueError as exc:
        raise _crystal_error(exc, start + index, crystal) from None


def _images_chunk(s, start, crystals, verbose):
    out = np.zeros((len(crystals), *s.shape), dtype=np.float32)
    bar = tqdm(crystals, disable=not verbose, desc="simulating")
    # The products are small: threaded BLAS only adds overhead (and was seen to
    # slow the fingerprint's complex products 100-fold); use n_jobs instead.
    with threadpool_limits(limits=1, user_api="blas"):
        for i, c in enumerate(bar):
            prepared = _prepare(s, start, i, c)
            if s.mode == "zone_axis":
                image, row, col, hkl, s2, _ = prepared
                intensity = _intensities(s, c, hkl, s2)
                images = _render(s, len(s.axes), image, row, col, intensity)
            else:
                images = _fingerprint(s, *prepared)
            out[i] = _normalized(images) if s.normalize else images
    return out


def _normalized(images):
    peak = images.max(axis=(-2, -1), keepdims=True)
    return np.divide(images, peak, out=np.zeros_like(images), where=peak > 0)


# ------------------------------------------------------------------ torch
def _import_torch():
    from ..utils._torch import import_torch

    return import_torch("DiffractionImageSimulator(backend='torch')")


def _simulate_torch(s, crystals, device, verbose):
    """Images of all crystals with torch, in batches of similar size."""
    from ._torch_backend import _full_precision_matmul, resolve_device

    torch = _import_torch()
    dev = resolve_device(device)
    out = np.zeros((len(crystals), *s.shape), dtype=np.float32)
    budget = _BUDGET.get(dev.type, _BUDGET["cuda"])
    # similar atom counts per batch pad little
    order = np.argsort([c.n_atoms for c in crystals], kind="stable")
    bar = tqdm(total=len(crystals), disable=not verbose, desc="simulating")
    with torch.inference_mode(), _full_precision_matmul(torch):
        for b0 in range(0, len(order), s.batch_size):
            index = order[b0 : b0 + s.batch_size]
            batch = [crystals[i] for i in index]
            prepared = [_prepare(s, 0, i, crystals[i]) for i in index]
            if s.mode == "zone_axis":
                images = _zone_torch(torch, dev, s, batch, prepared, budget)
            else:
                images = _fingerprint_torch(torch, dev, s, prepared, budget)
            if s.normalize:
                peak = images.amax(dim=(-2, -1), keepdim=True)
                images = torch.where(peak > 0, images / peak.clamp(min=1e-38), 0.0)
            out[index] = images.cpu().numpy()
            bar.update(len(index))
    bar.close()
    return out


def _padded(torch, dev, arrays, width):
    """Stack per-crystal arrays (n_i, ...) into (n_crystals, width, ...), float32,
    padded with zeros (padding atoms have zero weight)."""
    out = np.zeros((len(arrays), width, *arrays[0].shape[1:]), dtype=np.float32)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = a
    return torch.from_numpy(out).to(dev)


def _zone_torch(torch, dev, s, crystals, prepared, budget):
    n_axes, size, w = len(s.axes), s.size, s.window
    counts = [len(p[0]) for p in prepared]
    images = torch.zeros(
        (len(crystals) * n_axes * size * size,), dtype=torch.float32, device=dev
    )
    if sum(counts) == 0:
        return images.reshape(len(crystals), n_axes, size, size)
    width = max(c.n_atoms for c in crystals)
    frac = _padded(torch, dev, [c.frac_coords % 1.0 for c in crystals], width)
    occ = _padded(torch, dev, [c.occupancies for c in crystals], width)
    b_iso = _padded(
        torch,
        dev,
        [c.b_iso if s.debye_waller else np.zeros(c.n_atoms) for c in crystals],
        width,
    )
    coeff = _padded(torch, dev, [p[5] for p in prepared], width)
    cat = [np.concatenate([p[k] for p in prepared]) for k in range(5)]
    owner = np.repeat(np.arange(len(crystals)), counts)
    image = owner * n_axes + cat[0]

    def put(a, dtype=torch.float32):
        return torch.from_numpy(np.ascontiguousarray(a)).to(dev, dtype)

    row, col, hkl, s2 = put(cat[1]), put(cat[2]), put(cat[3]), put(cat[4])
    owner_t, image_t = put(owner, torch.long), put(image, torch.long)
    scale = -0.5 / s.spot_sigma**2
    # a spot takes 9 coefficients per atom, then its window's pixels
    step = _window_step(s, budget, per_spot=width * 9)
    for a in range(0, len(owner), step):
        sl = slice(a, a + step)
        who, q2 = owner_t[sl], s2[sl, None]
        c = coeff[who]  # (spots, atoms, 9)
        f = c[..., 0] + sum(
            c[..., i] * torch.exp(-c[..., i + 1] * q2) for i in (1, 3, 5, 7)
        )
        f = f * occ[who] * torch.exp(-b_iso[who] * q2)
        turns = (hkl[sl, None, :] * frac[who]).sum(-1)
        phase = 2.0 * math.pi * (turns - torch.round(turns))
        re = (f * torch.cos(phase)).sum(-1)
        im = (f * torch.sin(phase)).sum(-1)
        intensity = re * re + im * im
        # Gaussian windows, as _render
        r, cc = row[sl], col[sl]
        rows, gy = _spot_window(torch, torch.round(r).long(), r, w, size, scale)
        cols, gx = _spot_window(torch, torch.round(cc).long(), cc, w, size, scale)
        values = (intensity[:, None] * gy)[:, :, None] * gx[:, None, :]
        idx = ((image_t[sl, None] * size + rows) * size)[:, :, None] + cols[:, None, :]
        images.index_add_(0, idx.reshape(-1), values.reshape(-1))
    return images.reshape(len(crystals), n_axes, size, size)


def _fingerprint_torch(torch, dev, s, prepared, budget):
    size = s.size
    width = max(len(p[1]) for p in prepared)
    uv = _padded(torch, dev, [p[0].transpose(2, 0, 1) for p in prepared], width)
    weights = _padded(torch, dev, [p[1] for p in prepared], width)
    uv = uv.permute(0, 2, 3, 1)  # (crystals, 6, 2, atoms)
    q_cols = torch.from_numpy(s.q_cols).to(dev, torch.float32)
    q_rows = torch.from_numpy(s.q_rows).to(dev, torch.float32)
    mask = torch.from_numpy(s.ring_mask).to(dev)
    out = torch.empty((len(prepared), 3, size, size), dtype=torch.float32, device=dev)
    # crystals per batch and, in a large cluster, atoms per chunk (as numpy)
    atoms = _atom_step(s, budget)
    step = max(1, budget // (6 * size * min(width, atoms)))
    for a in range(0, len(prepared), step):
        amplitude = 0
        for j in range(0, width, atoms):
            u = uv[a : a + step, :, 0, None, j : j + atoms]  # (b, 6, 1, atoms)
            v = uv[a : a + step, :, 1, None, j : j + atoms]
            pu = q_cols[:, None] * u  # (b, 6, W, atoms)
            pv = q_rows[:, None] * v
            cols = torch.complex(torch.cos(pu), torch.sin(pu))
            wv = weights[a : a + step, None, None, j : j + atoms]
            rows = torch.complex(torch.cos(pv) * wv, torch.sin(pv) * wv)
            amplitude = amplitude + rows @ cols.transpose(-1, -2)
        intensity = amplitude.real**2 + amplitude.imag**2
        b = intensity.shape[0]
        out[a : a + b] = intensity.reshape(b, 3, 2, size, size).sum(2) * mask
    return out
