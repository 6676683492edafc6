"""Transforms that move or broaden peaks: displacement, strain, crystallite size."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from scipy.fft import next_fast_len

from ._base import BatchTransform, _bounds, _interp, _uniform

__all__ = ["CrystalliteBroadening", "LatticeStrain", "PeakShift", "ScanRange"]

_DEG_TO_HALF_RAD = math.pi / 360.0  # 2θ in degrees -> θ in radians
# Largest ratio of the widths of neighbouring kernels in CrystalliteBroadening.
_MAX_WIDTH_RATIO = 1.15


class PeakShift(BatchTransform):
    """Shift peaks as a sample-displacement error (plus an optional zero offset).

    In Bragg–Brentano geometry a sample surface displaced by ``s`` from the
    focusing circle of radius ``R`` shifts every peak by
    ``Δ2θ = -2 s cos θ / R`` (radians). Here the displacement is given directly
    as the shift in degrees 2θ at 2θ → 0, ``displacement = -(2 s / R)·180/π``,
    so that a peak at 2θ moves by ``displacement · cos θ`` (e.g. s = 0.1 mm on
    R = 240 mm gives about -0.048°). ``zero_offset`` adds a constant
    zero-point error. The pattern is resampled along 2θ with linear
    interpolation (the same shift law, different shifts per pattern); points that
    come from outside the grid are 0. Linear interpolation smooths a little: a
    peak 3 grid points wide loses up to ~7 % of its height at half-step shifts
    (its area is kept).

    Parameters
    ----------
    displacement : float or (float, float), default=(-0.1, 0.1)
        Shift in degrees 2θ at 2θ → 0 (positive: to higher angles), drawn
        uniformly per pattern.
    zero_offset : float or (float, float), default=0.0
        Constant shift in degrees 2θ (zero-point error), drawn uniformly.
    two_theta : array-like of shape (n_points,), optional
        The patterns' 2θ grid in degrees; by default the standard 5–90° grid in
        0.02° steps.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import PeakShift
    >>> x = torch.zeros(2, 4250)
    >>> x[:, 1000] = 1.0  # a peak at 2θ = 25°
    >>> y = PeakShift(displacement=0.0, zero_offset=0.1)(x)
    >>> y.argmax(dim=1).tolist()  # 0.1° = 5 grid steps
    [1005, 1005]
    """

    _needs_grid = True

    def __init__(self, displacement=(-0.1, 0.1), zero_offset=0.0, two_theta=None):
        self.displacement = displacement
        self.zero_offset = zero_offset
        self.two_theta = two_theta

    def _transform(self, x, generator, grid):
        d_bounds = _bounds(self.displacement, "displacement")
        z_bounds = _bounds(self.zero_offset, "zero_offset")
        n, dev, dt = x.shape[0], x.device, x.dtype
        disp = _uniform(d_bounds, (n, 1), generator, dev, dt)
        zero = _uniform(z_bounds, (n, 1), generator, dev, dt)
        half_theta = grid.tensor(dev, dt) * _DEG_TO_HALF_RAD
        # A peak at s lands at t = s + Δ(s), Δ(s) = zero + disp·cos(s/2). To
        # second order, s = t - Δ(t)·(1 - Δ'(t)) with Δ'(t) = -disp·sin(t/2)·π/360
        # (error ~ Δ·Δ'², below 1e-6 degrees for shifts under 1 degree).
        shift = torch.addcmul(zero, disp, torch.cos(half_theta))
        stretch = torch.addcmul(
            torch.ones_like(disp), disp, torch.sin(half_theta) * _DEG_TO_HALF_RAD
        )
        source = half_theta / _DEG_TO_HALF_RAD - shift * stretch
        return _interp(x, grid.index_of(source))


class ScanRange(BatchTransform):
    """A shorter scan: the points outside a random 2θ range set to 0.

    Measured scans often cover less than a model's grid (10–80° and 15–70°
    are common on a 5–90° grid); :class:`~skxrd.preprocessing.PatternResampler`
    fills the grid points a scan does not cover with 0. This transform shows a
    network such patterns in training: each pattern keeps the points from a
    start drawn uniformly from ``start`` to a stop drawn uniformly from
    ``stop`` (degrees 2θ), the rest become 0. Apply it before
    :class:`Normalize`, as a pattern cut so is normalized at prediction time.

    Parameters
    ----------
    start : float or (float, float), default=(5.0, 15.0)
        The first kept 2θ (degrees), drawn uniformly per pattern.
    stop : float or (float, float), default=(60.0, 90.0)
        The last kept 2θ (degrees), drawn uniformly per pattern; above
        ``start``'s upper bound.
    two_theta : array-like of shape (n_points,), optional
        The patterns' 2θ grid in degrees; by default the standard 5–90° grid in
        0.02° steps.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import ScanRange
    >>> x = torch.ones(1, 4250)  # 5-90 deg in 0.02 deg steps
    >>> y = ScanRange(start=10.0, stop=80.0)(x)
    >>> int(y.sum()), y[0, 249].item(), y[0, 250].item()  # 10 deg is point 250
    (3501, 0.0, 1.0)
    """

    _needs_grid = True

    def __init__(self, start=(5.0, 15.0), stop=(60.0, 90.0), two_theta=None):
        self.start = start
        self.stop = stop
        self.two_theta = two_theta

    def _transform(self, x, generator, grid):
        lo = _bounds(self.start, "start")
        hi = _bounds(self.stop, "stop")
        if not hi[0] > lo[1]:
            raise ValueError(
                f"stop {self.stop!r} must lie above start {self.start!r}: a scan "
                "ends after it begins"
            )
        n, dev, dt = x.shape[0], x.device, x.dtype
        first = _uniform(lo, (n, 1), generator, dev, dt)
        last = _uniform(hi, (n, 1), generator, dev, dt)
        tt = grid.tensor(dev, dt)[None, :]
        # a small tolerance: grid values such as 10.000000001 count as 10
        eps = 1e-6 * max(1.0, float(abs(tt).max()))
        keep = (tt >= first - eps) & (tt <= last + eps)
        return x * keep.to(dt)


class LatticeStrain(BatchTransform):
    """Isotropic lattice strain: every d-spacing scaled by ``1 + ε``.

    A peak at 2θ moves to ``2 asin(sin θ / (1 + ε))`` (Bragg's law), so that
    expansion (ε > 0) moves peaks to lower angles, increasingly with angle.
    Implemented as a non-uniform resampling: each output point at 2θ' reads the
    input at ``2 asin((1 + ε) sin θ')`` with linear interpolation; points that
    come from outside the grid are 0. Peak heights are kept (the widths scale
    with the local stretch, a negligible change for ``|ε|`` of a few percent).

    Parameters
    ----------
    strain : float or (float, float), default=(-0.01, 0.01)
        ε, drawn uniformly per pattern; must be > -1.
    two_theta : array-like of shape (n_points,), optional
        The patterns' 2θ grid in degrees; by default the standard 5–90° grid in
        0.02° steps.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import LatticeStrain, default_two_theta
    >>> x = torch.zeros(1, 4250)
    >>> x[0, 2500] = 1.0  # a peak at 2θ = 55°
    >>> y = LatticeStrain(strain=0.01)(x)
    >>> float(default_two_theta()[int(y.argmax())])  # 2 asin(sin 27.5° / 1.01)
    54.42
    """

    _needs_grid = True

    def __init__(self, strain=(-0.01, 0.01), two_theta=None):
        self.strain = strain
        self.two_theta = two_theta

    def _transform(self, x, generator, grid):
        bounds = _bounds(self.strain, "strain")
        if bounds[0] <= -1:
            raise ValueError(f"strain must be > -1, got {self.strain!r}")
        n, dev, dt = x.shape[0], x.device, x.dtype
        strain = _uniform(bounds, (n, 1), generator, dev, dt)
        tt = grid.tensor(dev, dt)
        arg = torch.sin(tt * _DEG_TO_HALF_RAD) * (1.0 + strain)
        source = torch.asin(arg.clamp(max=1.0)) / _DEG_TO_HALF_RAD
        source = source.masked_fill_(arg > 1.0, 1e6)  # beyond 2θ = 180°: nothing
        return _interp(x, grid.index_of(source))


class CrystalliteBroadening(BatchTransform):
    """Scherrer size broadening: convolve with a kernel of width Kλ / (L cos θ).

    Small crystallites of size L broaden every peak by the full width at half
    maximum ``β = K λ / (L cos θ)`` (radians 2θ), which grows with angle. The
    pattern is convolved (FFT, whole batch at once, per-pattern sizes, edges
    padded with the end values) with area-normalized kernels of the Scherrer
    width at a few angles, chosen so that neighbouring widths differ by at most
    15 % (4 kernels on the standard 5–90° grid), and the results are blended
    linearly in width point by point: a smooth position-dependent width, within
    about 1 % of Scherrer's everywhere, without resampling the pattern. The
    kernel adds to the widths already in the pattern (instrument ⊗ size) and
    conserves the integrated intensity, so peak heights drop; normalize
    afterwards.

    Parameters
    ----------
    size : float or (float, float), default=(5, 100)
        Crystallite size L in nm, drawn log-uniformly per pattern.
    wavelength : float, default=1.5406
        Wavelength in Å (Cu Kα1).
    scherrer_k : float, default=0.9
        Scherrer shape constant K.
    profile : {"lorentzian", "gaussian"}, default="lorentzian"
        Kernel shape (size broadening is Lorentzian-like, as in
        :class:`~skxrd.PowderSimulator`).
    two_theta : array-like of shape (n_points,), optional
        The patterns' 2θ grid in degrees; by default the standard 5–90° grid in
        0.02° steps. A non-uniform grid is handled with the local step.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import CrystalliteBroadening
    >>> x = torch.zeros(1, 4250)
    >>> x[0, 1750] = 1.0  # a sharp line at 2θ = 40°
    >>> y = CrystalliteBroadening(size=20.0, profile="gaussian")(x)
    >>> above = (y[0] >= y.max() / 2).nonzero()
    >>> 0.02 * (above.max() - above.min() + 1).item()  # 0.9·1.5406/(200 Å cos 20°)
    0.42
    >>> round(float(y.sum()), 4)  # the integrated intensity is kept
    1.0
    """

    _needs_grid = True

    def __init__(
        self,
        size=(5.0, 100.0),
        wavelength=1.5406,
        scherrer_k=0.9,
        profile="lorentzian",
        two_theta=None,
    ):
        self.size = size
        self.wavelength = wavelength
        self.scherrer_k = scherrer_k
        self.profile = profile
        self.two_theta = two_theta

    def _transform(self, x, generator, grid):
        bounds = _bounds(self.size, "size")
        if bounds[0] <= 0:
            raise ValueError(f"size must be positive (nm), got {self.size!r}")
        for name in ("wavelength", "scherrer_k"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not 0 < value < math.inf
            ):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if self.profile not in ("lorentzian", "gaussian"):
            raise ValueError(
                f"profile must be 'lorentzian' or 'gaussian', got {self.profile!r}"
            )
        n, dev, dt = x.shape[0], x.device, x.dtype
        size = _uniform(bounds, (n, 1), generator, dev, dt, log=True)

        # Scherrer FWHM in grid points of each grid point for L = 1 nm (λ in Å).
        k_lambda = float(self.scherrer_k) * float(self.wavelength)
        cos_theta = np.cos(np.radians(grid.values) / 2.0)
        unit = np.degrees(k_lambda / (10.0 * cos_theta)) / np.gradient(grid.values)
        lo, hi = float(unit.min()), float(unit.max())
        n_nodes = 1
        if hi > lo * (1 + 1e-9):
            n_nodes += math.ceil(math.log(hi / lo) / math.log(_MAX_WIDTH_RATIO) - 1e-9)
        nodes = np.geomspace(lo, hi, n_nodes)
        # Hat functions: weight of node k at each point, linear in width.
        weights = np.stack(
            [np.interp(unit, nodes, np.eye(n_nodes)[k]) for k in range(n_nodes)]
        )
        weights = torch.as_tensor(weights, dtype=dt).to(dev)

        m = grid.n
        pad = max(8, min(m, int(math.ceil(10.0 * hi / bounds[0]))))
        n_fft = next_fast_len(m + pad, real=True)
        right = (n_fft - m) // 2
        padded = torch.cat(
            [x, x[:, -1:].expand(n, right), x[:, :1].expand(n, n_fft - m - right)],
            dim=1,
        )
        spectrum = torch.fft.rfft(padded, dim=1)
        freq = torch.fft.rfftfreq(n_fft, device=dev, dtype=dt)
        out = torch.zeros_like(x)
        for k in range(n_nodes):
            fwhm = float(nodes[k]) / size  # (batch, 1), in grid points
            if self.profile == "lorentzian":
                kernel = torch.exp(-math.pi * fwhm * freq)
            else:
                sigma = fwhm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
                kernel = torch.exp(-2.0 * (math.pi * sigma * freq) ** 2)
            smooth = torch.fft.irfft(spectrum * kernel, n=n_fft, dim=1)[:, :m]
            out.addcmul_(smooth, weights[k])
        return out
