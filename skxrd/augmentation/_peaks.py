"""Transforms on peak intensities: texture, random scaling and removal, impurities,
the Kβ copies of a β-filtered tube.

Without a peak list, peaks are found on the pattern itself (:func:`find_peaks`)
and each is given its *basin*: the points from the deepest minimum between it
and its left neighbour to the deepest minimum between it and its right
neighbour (the pattern ends for the outer peaks). A peak is scaled by a factor
``f`` above the straight line joining the two ends of its basin,
``x + (f - 1) · max(x - line, 0)``, which leaves the background, the pattern
outside the basin and the basin's ends untouched (continuous, no steps), and
with ``f = 0`` cuts the peak down to the line. Everything is vectorized over the
batch with cumulative sums, scatter-reductions and gathers.

These transforms should come before backgrounds and noise in a pipeline: on a
noisy pattern, noise spikes above ``threshold`` count as peaks. Where they must
act on noisy patterns (simulated with counting noise, as measured ones are),
``min_snr`` keeps only the peaks that rise that many times the pattern's noise
level above their surroundings: of the 5–90° patterns of Materials Project
structures simulated with :data:`~skxrd.simulation.MEASURED_LIKE` settings and
background-subtracted, a median of 193 points count as peaks without it (a
third of them near a line of the noise-free pattern) and 51 with
``min_snr=6`` (92 % near a line), where the noise-free patterns have 60
(``experiments/peak_detection.py``). With ``min_snr`` a basin spans the noise
between two lines, so its ends are taken at the local mean level (a moving
average over ``2 * min_distance + 1`` points) rather than at a noise low, and
only the points where that average stands more than one noise level above the
line are scaled: the line, not the noise beside it. Scaling every line by 2
then leaves the noise away from the lines as it was (its spread × 1.11, against
× 1.97 without ``min_snr``, where each noise spike is a peak).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F

from ..io._pattern import q_to_two_theta, two_theta_to_q
from ..utils._radiation import get_radiation
from ._base import (
    BatchTransform,
    _bounds,
    _check_input,
    _interp,
    _probability,
    _rand,
    _row_max,
    _uniform,
)

__all__ = [
    "ImpurityPeaks",
    "KbetaLeak",
    "PreferredOrientationScaling",
    "RandomPeakRemoval",
    "RandomPeakScaling",
    "find_peaks",
]


def _check_peak_params(threshold, min_distance, min_snr=None):
    if min_snr is not None and (
        isinstance(min_snr, bool)
        or not isinstance(min_snr, numbers.Real)
        or not 0 <= min_snr < math.inf
    ):
        raise ValueError(f"min_snr must be None or a number >= 0, got {min_snr!r}")
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or not 0 <= threshold < 1
    ):
        raise ValueError(f"threshold must be in [0, 1), got {threshold!r}")
    if (
        isinstance(min_distance, bool)
        or not isinstance(min_distance, numbers.Integral)
        or min_distance < 1
    ):
        raise ValueError(f"min_distance must be an integer >= 1, got {min_distance!r}")
    return (
        float(threshold),
        int(min_distance),
        None if min_snr is None else float(min_snr),
    )


def _noise_level(x: torch.Tensor) -> torch.Tensor:
    """Each row's noise level, ``(batch, 1)``: the robust standard deviation of
    its point-to-point differences over √2 (1.4826 times their median absolute
    value), the noise's own standard deviation where the noise is white and the
    peaks are wider than the grid step. 0 for a pattern without noise."""
    d = (x[:, 1:] - x[:, :-1]).abs()
    return (1.4826 / math.sqrt(2.0)) * d.median(dim=1, keepdim=True).values


def _peak_mask(
    x: torch.Tensor, threshold: float, min_distance: int, min_snr=None, noise=None
) -> torch.Tensor:
    """Boolean mask of the peaks of each row (see :func:`find_peaks`);
    ``noise``: the rows' :func:`_noise_level` where the caller has it."""
    n = x.shape[1]
    k = min(min_distance, (n - 1) // 2)
    if k < 1:
        return torch.zeros_like(x, dtype=torch.bool)
    pooled = F.max_pool1d(x[:, None], 2 * k + 1, stride=1, padding=k)[:, 0]
    mask = x == pooled
    mask[:, 1:] &= x[:, 1:] > x[:, :-1]  # first point of a flat top only
    top = _row_max(x)
    mask &= (x > threshold * top) & (top > 0)
    mask[:, 0] = False
    mask[:, -1] = False
    if min_snr is not None and n > 1:
        # the rise above the lowest point within 5 min_distance on either side
        # (where a measured line of 0.05-0.3° FWHM on a 0.02° grid has fallen
        # to its background), against the noise: a noise spike rises a few
        # noise levels, a line its height
        w = min(5 * min_distance, n - 1)
        low = -F.max_pool1d(-x[:, None], 2 * w + 1, stride=1, padding=w)[:, 0]
        noise = _noise_level(x) if noise is None else noise
        mask &= x - low > min_snr * noise
    return mask


def find_peaks(x, threshold=0.01, min_distance=5, min_snr=None):
    """Find the peaks of a batch of patterns (vectorized over the batch).

    A peak is a point that is the maximum within ``min_distance`` grid points on
    either side (the first point of a flat top), above ``threshold`` times its
    pattern's maximum and not at either end of the grid. With ``min_snr``, it
    must also rise more than ``min_snr`` times the pattern's noise level above
    the lowest point within ``5 * min_distance`` grid points on either side; the
    noise level is the robust standard deviation of the point-to-point
    differences over √2 (0 without noise, when every peak passes).

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_points)
        Patterns.
    threshold : float, default=0.01
        Smallest peak height relative to each pattern's maximum.
    min_distance : int, default=5
        Half-width, in grid points, of the window in which a peak must be the
        maximum.
    min_snr : float, optional
        Smallest rise of a peak above its surroundings, in units of the
        pattern's noise level; None counts every local maximum above
        ``threshold``, noise spikes included.

    Returns
    -------
    torch.Tensor of shape (batch, n_points), bool
        True at the peaks.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import find_peaks
    >>> t = torch.arange(200.0)
    >>> x = torch.exp(-((t - 50) / 3) ** 2) + 0.5 * torch.exp(-((t - 120) / 3) ** 2)
    >>> find_peaks(x[None]).nonzero()[:, 1].tolist()
    [50, 120]

    With counting noise, noise spikes count as peaks unless ``min_snr`` asks
    for a rise above the noise:

    >>> g = torch.Generator().manual_seed(0)
    >>> noisy = torch.poisson(1000 * x + 20, generator=g) - 20
    >>> int(find_peaks(noisy[None]).sum()) > 2
    True
    >>> find_peaks(noisy[None], min_snr=6).nonzero()[:, 1].tolist()
    [50, 120]
    """
    x = _check_input(x)
    threshold, min_distance, min_snr = _check_peak_params(
        threshold, min_distance, min_snr
    )
    if x.ndim == 1:
        return _peak_mask(x[None].float(), threshold, min_distance, min_snr)[0]
    return _peak_mask(x.float(), threshold, min_distance, min_snr)


def _scale_peaks(
    x: torch.Tensor,
    ordinal: torch.Tensor,
    n_peaks: torch.Tensor,
    factors: torch.Tensor,
    ends: torch.Tensor | None = None,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Scale peak ``o`` (1-based, of ``n_peaks`` per row) by ``factors[:, o - 1]``.

    ``ordinal`` is the cumulative count of peaks along each row; each peak is
    scaled in its basin, above the line joining the basin's ends: the values
    of ``ends`` (by default ``x``) at the basin's deepest points.
    """
    b, n = x.shape
    k = factors.shape[1]
    if k == 0:
        return x.clone()
    dev = x.device
    # Gap g (points after peak g, before peak g + 1) ends a basin at its first
    # deepest point.
    gap_min = x.new_full((b, k + 1), math.inf).scatter_reduce(
        1, ordinal, x, "amin", include_self=True
    )
    index = torch.arange(n, device=dev)
    candidate = torch.where(x == gap_min.gather(1, ordinal), index, n)
    bound = torch.full((b, k + 1), n, device=dev, dtype=torch.long).scatter_reduce(
        1, ordinal, candidate, "amin", include_self=True
    )
    # Owner peak of each point: peak g up to the end of gap g's basin, then g + 1;
    # 0 and n_peaks + 1 are "no peak".
    owner = ordinal + (index > bound.gather(1, ordinal))
    # Per-peak tables (peak o spans bound[o - 1] .. bound[o]) indexed by owner.
    left = bound[:, :-1].clamp(max=n - 1)
    right = bound[:, 1:].clamp(max=n - 1)
    at = x if ends is None else ends
    x_left, x_right = at.gather(1, left), at.gather(1, right)
    left_f = left.to(x.dtype)
    inv_len = 1.0 / (right.to(x.dtype) - left_f).clamp(min=1.0)
    real = torch.arange(1, k + 1, device=dev) <= n_peaks[:, None]
    gain = torch.where(real, factors - 1.0, 0.0)
    zero = x.new_zeros((b, 1))
    gain, x_left, x_right, left_f, inv_len = (
        torch.cat([zero, t, zero], dim=1).gather(1, owner)
        for t in (gain, x_left, x_right, left_f, inv_len)
    )
    # The line between the basin's ends (lerp: exact at both ends, between them).
    frac = ((index.to(x.dtype) - left_f) * inv_len).clamp_(0.0, 1.0)
    line = torch.lerp(x_left, x_right, frac)
    excess = (x - line).clamp_(min=0)
    if ends is not None and noise is not None:
        # only where the smoothed pattern stands above the line: the line's
        # own points, not the noise spikes beside it
        excess = torch.where(ends - line > noise, excess, 0.0)
    return torch.addcmul(x, gain, excess)


class _PeakTransform(BatchTransform):
    """Peak transforms: detect peaks, draw a factor per peak, scale in basins."""

    # transforms pickled before min_snr existed (an estimator's augment saved
    # with joblib) read it from here: as they were
    min_snr = None

    def _transform(self, x, generator, grid):
        threshold, min_distance, min_snr = _check_peak_params(
            self.threshold, self.min_distance, self.min_snr
        )
        ends = noise = None
        if min_snr is not None and x.shape[1] > 1:
            # between lines above the noise a basin's deepest point is a noise
            # low, some 3 noise levels under the floor: a line through those
            # would scale the noise of the whole basin with the peak. Its ends
            # at the mean level there instead (a moving average over the
            # peak's window) leave the floor where it is.
            w = min(min_distance, (x.shape[1] - 1) // 2)
            ends = F.avg_pool1d(
                x[:, None], 2 * w + 1, stride=1, padding=w, count_include_pad=False
            )[:, 0]
            noise = _noise_level(x)
        mask = _peak_mask(x, threshold, min_distance, min_snr, noise)
        ordinal = mask.cumsum(dim=1)
        n_peaks = ordinal[:, -1]
        k = int(n_peaks.max())
        factors = self._factors(x, k, generator)
        return _scale_peaks(x, ordinal, n_peaks, factors, ends, noise)

    def _factors(self, x, k, generator):  # pragma: no cover - abstract
        """Factors ``(batch, k)`` of the first ``k`` peaks of each pattern."""
        raise NotImplementedError


class PreferredOrientationScaling(_PeakTransform):
    """Random March–Dollase-like intensity changes of texture (preferred orientation).

    Texture multiplies the intensity of a reflection hkl by the March–Dollase
    factor ``P(α) = (r² cos²α + sin²α / r)^(-3/2)``, where α is the angle between
    the hkl normal and the preferred direction and ``r`` the March parameter
    (< 1 platelets, > 1 needles). Without a peak list, α is unknown: this
    transform approximates texture by drawing one ``r`` per pattern (platelets or
    needles with equal probability, log-uniform up to the value whose strongest
    factor is ``max_factor``) and an independent ``cos α``, uniform in [0, 1]
    (random directions), for each detected peak, then scales the peak by
    ``P(α)`` in its basin (see :func:`find_peaks` and the module notes). Factors
    lie in ``[max_factor⁻², max_factor]``. The correlations of real texture
    between reflections of related hkl are not reproduced.

    Parameters
    ----------
    max_factor : float, default=2.0
        The largest factor a peak can get (>= 1; ``r`` ranges over
        ``[max_factor^(-1/3), max_factor^(2/3)]``).
    threshold : float, default=0.01
        Smallest peak height, relative to the pattern's maximum, to count as a
        peak.
    min_distance : int, default=5
        Half-width in grid points of the window in which a peak is the maximum.
    min_snr : float, optional
        Count only peaks that rise more than this many times the pattern's
        noise level above their surroundings (see :func:`find_peaks`), for
        noisy patterns; None counts noise spikes above ``threshold`` too.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import PreferredOrientationScaling
    >>> t = torch.arange(4250.0)
    >>> x = sum(torch.exp(-(((t - c) / 4) ** 2)) for c in (500, 1500, 3000))[None]
    >>> aug = PreferredOrientationScaling(max_factor=2.0)
    >>> y = aug(x, generator=torch.Generator().manual_seed(0))
    >>> ratio = y[0, [500, 1500, 3000]] / x[0, [500, 1500, 3000]]
    >>> bool(((ratio >= 0.25) & (ratio <= 2.0)).all()), int(y.argmax() % 500)
    (True, 0)
    """

    def __init__(self, max_factor=2.0, threshold=0.01, min_distance=5, min_snr=None):
        self.max_factor = max_factor
        self.threshold = threshold
        self.min_distance = min_distance
        self.min_snr = min_snr

    def _factors(self, x, k, generator):
        m = self.max_factor
        if (
            isinstance(m, bool)
            or not isinstance(m, numbers.Real)
            or not 1 <= m < math.inf
        ):
            raise ValueError(f"max_factor must be a number >= 1, got {m!r}")
        n, dev, dt = x.shape[0], x.device, x.dtype
        draws = _rand((n, 2), generator, dev).to(dt)
        cos_a = _rand((n, k), generator, dev).to(dt)
        # log r in [-log(m)/3, 0] (platelets, P(0) = r^-3 <= m) or in
        # [0, 2 log(m)/3] (needles, P(90°) = r^(3/2) <= m).
        log_m = math.log(m)
        log_r = torch.where(
            draws[:, :1] < 0.5,
            -log_m / 3.0 * draws[:, 1:],
            2.0 * log_m / 3.0 * draws[:, 1:],
        )
        r = torch.exp(log_r)
        cos2 = cos_a * cos_a
        return (r * r * cos2 + (1.0 - cos2) / r) ** -1.5


class RandomPeakScaling(_PeakTransform):
    """Scale randomly chosen peaks by random factors (texture of thin films).

    As in the augmentation of Oviedo et al. (npj Comput. Mater. 5, 60, 2019) for
    thin films, where strong texture changes relative intensities: each detected
    peak is, with probability ``probability``, scaled by a factor drawn
    uniformly from ``scale`` in its basin (see :func:`find_peaks` and the module
    notes); the other peaks are kept.

    Parameters
    ----------
    probability : float, default=0.5
        Probability of each peak being scaled.
    scale : float or (float, float), default=(0, 1.5)
        Range of the factors (0 removes a peak).
    threshold : float, default=0.01
        Smallest peak height, relative to the pattern's maximum, to count as a
        peak.
    min_distance : int, default=5
        Half-width in grid points of the window in which a peak is the maximum.
    min_snr : float, optional
        Count only peaks that rise more than this many times the pattern's
        noise level above their surroundings (see :func:`find_peaks`), for
        noisy patterns; None counts noise spikes above ``threshold`` too.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import RandomPeakScaling
    >>> t = torch.arange(4250.0)
    >>> x = (torch.exp(-(((t - 500) / 4) ** 2)) + torch.exp(-(((t - 900) / 4) ** 2)))
    >>> y = RandomPeakScaling(probability=1.0, scale=0.5)(x[None])
    >>> [round(v, 3) for v in y[0, [500, 900]].tolist()]
    [0.5, 0.5]
    """

    def __init__(
        self,
        probability=0.5,
        scale=(0.0, 1.5),
        threshold=0.01,
        min_distance=5,
        min_snr=None,
    ):
        self.probability = probability
        self.scale = scale
        self.threshold = threshold
        self.min_distance = min_distance
        self.min_snr = min_snr

    def _factors(self, x, k, generator):
        p = _probability(self.probability, "probability")
        lo, hi = _bounds(self.scale, "scale", low=0.0)
        u = _rand((x.shape[0], k), generator, x.device).to(x.dtype)
        # One draw per peak: u < p selects the peak, u / p is then uniform.
        return torch.where(u < p, lo + (hi - lo) * u / max(p, 1e-30), 1.0)


class RandomPeakRemoval(_PeakTransform):
    """Remove randomly chosen peaks (texture of thin films, missing reflections).

    As in the augmentation of Oviedo et al. (npj Comput. Mater. 5, 60, 2019):
    each detected peak is, with probability ``probability``, cut down to the
    straight line between the ends of its basin (see :func:`find_peaks` and the
    module notes), which keeps the background. Equivalent to
    ``RandomPeakScaling(probability, scale=0)``.

    Parameters
    ----------
    probability : float, default=0.1
        Probability of each peak being removed.
    threshold : float, default=0.01
        Smallest peak height, relative to the pattern's maximum, to count as a
        peak.
    min_distance : int, default=5
        Half-width in grid points of the window in which a peak is the maximum.
    min_snr : float, optional
        Count only peaks that rise more than this many times the pattern's
        noise level above their surroundings (see :func:`find_peaks`), for
        noisy patterns; None counts noise spikes above ``threshold`` too.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import RandomPeakRemoval
    >>> t = torch.arange(4250.0)
    >>> x = 0.1 + torch.exp(-(((t - 500) / 4) ** 2))  # a peak on a flat background
    >>> y = RandomPeakRemoval(probability=1.0)(x[None])
    >>> round(float(y.max()), 3), round(float(y.min()), 3)
    (0.1, 0.1)
    """

    def __init__(self, probability=0.1, threshold=0.01, min_distance=5, min_snr=None):
        self.probability = probability
        self.threshold = threshold
        self.min_distance = min_distance
        self.min_snr = min_snr

    def _factors(self, x, k, generator):
        p = _probability(self.probability, "probability")
        u = _rand((x.shape[0], k), generator, x.device).to(x.dtype)
        return (u >= p).to(x.dtype)


_WINDOW_FWHM = 30.0


def _pseudo_voigt(offset, fwhm, eta):
    """Pseudo-Voigt of unit height at ``offset`` from its centre."""
    u = (2.0 * offset / fwhm) ** 2
    return eta / (1.0 + u) + (1.0 - eta) * torch.exp(-math.log(2.0) * u)


class ImpurityPeaks(BatchTransform):
    """Add a few random pseudo-Voigt peaks (an impurity phase, a holder line).

    Per pattern, the number of peaks is drawn uniformly from ``n_peaks``
    (inclusive); each peak gets a position uniform over the grid (or over
    ``position``), a height (relative to the pattern's maximum) uniform in
    ``intensity`` and a full width at half maximum uniform in ``fwhm``.

    With ``position`` the peaks stand for one kind of stray line, such as the
    weak low-angle lines of a beam stop, the direct beam's tail or a sample
    holder: 37 % of the RRUFF mineral patterns have a peak below 7.5° 2θ (at
    2–22 % of their maximum, 10th–90th percentile), where peaks are 2.6 times
    as dense per degree as at 7.5–8.5°.

    Parameters
    ----------
    n_peaks : int or (int, int), default=(0, 3)
        Number of peaks (a fixed value or an inclusive range).
    intensity : float or (float, float), default=(0.01, 0.1)
        Heights relative to the pattern's maximum.
    fwhm : float or (float, float), default=0.1
        Full widths at half maximum in degrees 2θ.
    eta : float, default=0.5
        Lorentzian fraction of the pseudo-Voigt (0 Gaussian, 1 Lorentzian).
    position : (float, float), optional
        The 2θ range in degrees that the peaks' centres are drawn from; by
        default the whole grid. It must overlap the grid.
    two_theta : array-like of shape (n_points,), optional
        The patterns' 2θ grid in degrees; by default the standard 5–90° grid in
        0.02° steps.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import ImpurityPeaks
    >>> x = torch.zeros(4, 4250)
    >>> x[:, 10] = 1.0
    >>> aug = ImpurityPeaks(n_peaks=2, intensity=0.05)
    >>> y = aug(x, generator=torch.Generator().manual_seed(0))
    >>> bool((y >= x).all()), round(float((y - x).max()), 3) <= 0.1
    (True, True)

    One weak line below 7.5° in each pattern:

    >>> low = ImpurityPeaks(n_peaks=1, intensity=(0.02, 0.15), position=(5.0, 7.5))
    >>> y = low(x, generator=torch.Generator().manual_seed(0))
    >>> where = 5.0 + 0.02 * (y - x).argmax(dim=1)
    >>> bool(((where >= 5.0) & (where <= 7.5)).all())
    True
    """

    _needs_grid = True

    def __init__(
        self,
        n_peaks=(0, 3),
        intensity=(0.01, 0.1),
        fwhm=0.1,
        eta=0.5,
        position=None,
        two_theta=None,
    ):
        self.n_peaks = n_peaks
        self.intensity = intensity
        self.fwhm = fwhm
        self.eta = eta
        self.position = position
        self.two_theta = two_theta

    def _transform(self, x, generator, grid):
        k_lo, k_hi = _bounds(self.n_peaks, "n_peaks", low=0, high=1000, integer=True)
        i_bounds = _bounds(self.intensity, "intensity", low=0.0)
        w_bounds = _bounds(self.fwhm, "fwhm")
        if w_bounds[0] <= 0:
            raise ValueError(f"fwhm must be positive, got {self.fwhm!r}")
        eta = self.eta
        if (
            isinstance(eta, bool)
            or not isinstance(eta, numbers.Real)
            or not 0 <= eta <= 1
        ):
            raise ValueError(f"eta must be in [0, 1], got {eta!r}")
        n, dev, dt = x.shape[0], x.device, x.dtype
        count = k_lo + (_rand((n, 1), generator, dev) * (k_hi - k_lo + 1)).long()
        shape = (n, k_hi)
        lo_tt, hi_tt = float(grid.values[0]), float(grid.values[-1])
        if self.position is not None:
            p_lo, p_hi = _bounds(self.position, "position")
            if p_hi < lo_tt or p_lo > hi_tt:
                raise ValueError(
                    f"position {self.position!r} lies outside the 2θ grid "
                    f"({lo_tt:g}–{hi_tt:g}°)"
                )
            lo_tt, hi_tt = max(p_lo, lo_tt), min(p_hi, hi_tt)
        center = _uniform((lo_tt, hi_tt), shape, generator, dev, dt)
        height = _uniform(i_bounds, shape, generator, dev, dt)
        width = _uniform(w_bounds, shape, generator, dev, dt)
        height = height * (torch.arange(k_hi, device=dev) < count).to(dt)
        height = height * _row_max(x).clamp(min=0)
        # Each peak is rendered in a window of ±_WINDOW_FWHM widths (the
        # pseudo-Voigt is below 1e-3 of its height there, 1e-4 of the pattern's
        # maximum for the default intensities), padded so that no index clashes.
        n_pts = grid.n
        half = int(
            math.ceil(_WINDOW_FWHM * w_bounds[1] / float(np.diff(grid.values).min()))
        )
        half = min(half, n_pts)
        offsets = torch.arange(-half, half + 1, device=dev)
        tt = grid.tensor(dev, dt)
        tt_padded = torch.cat(
            [tt[:1].expand(half), tt, tt[-1:].expand(half)]
        )  # ends are masked below
        added = x.new_zeros((n, n_pts + 2 * half))
        nearest = grid.index_of(center).round().long().clamp_(0, n_pts - 1)
        for j in range(k_hi):  # a few peak slots, each vectorized over the batch
            where = nearest[:, j : j + 1] + offsets + half  # in the padded frame
            inside = (where >= half) & (where < n_pts + half)
            profile = _pseudo_voigt(
                tt_padded[where] - center[:, j : j + 1], width[:, j : j + 1], eta
            )
            profile *= height[:, j : j + 1] * inside
            added.scatter_add_(1, where, profile)
        return x + added[:, half : half + n_pts]


class KbetaLeak(BatchTransform):
    """Add the weak Kβ copy of each pattern that a β filter lets through.

    A laboratory tube's Kβ line, weakened by a β filter (nickel for copper)
    to a few per cent of Kα, diffracts from the same planes at a lower angle,
    ``sin θβ = sin θα · λβ / λα``: every strong peak has a weak copy, which a
    simulated pattern lacks and an indexing reads as one more line. Per
    pattern, a ratio is drawn uniformly from ``ratio`` and the pattern,
    carried from each Kα angle to its Kβ angle, is added times that ratio. In
    the RRUFF mineral patterns (Cu, β-filtered) 435 of the 1,368 three
    strongest peaks have such a copy, at 1.9–15.7 % of their height (10th–90th
    percentile; median 2.9 %); a monochromator removes it (``p`` of
    :class:`RandomApply` for the share of instruments with a filter).

    The whole pattern is copied, its Kα2 line too where Kβ has none of its own
    (a difference below the counting noise at these heights), and the copy's
    peaks are a little narrower in 2θ, as the Kβ line's are. Apply it before
    backgrounds and noise.

    Parameters
    ----------
    ratio : float or (float, float), default=(0.01, 0.05)
        The copy's height relative to its Kα peak.
    radiation : str, default="CuKa"
        A named anode line (Cu, Co, Mo, Ag, Cr, Fe) whose Kα1 is the patterns'
        wavelength; its anode's Kβ1 wavelength places the copy.
    two_theta : array-like of shape (n_points,), optional
        The patterns' 2θ grid in degrees; by default the standard 5–90° grid in
        0.02° steps.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skxrd.augmentation import KbetaLeak, default_two_theta
    >>> tt = torch.tensor(default_two_theta())
    >>> x = torch.exp(-0.5 * ((tt - 40.0) / 0.05) ** 2)[None]
    >>> y = KbetaLeak(ratio=0.03)(x, generator=torch.Generator().manual_seed(0))
    >>> where = float(tt[int((y - x)[0].argmax())])
    >>> sin_beta = np.sin(np.radians(20)) * 1.392234 / 1.5405929  # sin θα · λβ / λα
    >>> kbeta = 2 * np.degrees(np.arcsin(sin_beta))
    >>> round(float(kbeta), 2), bool(abs(where - kbeta) < 0.02)
    (36.01, True)
    >>> 0.027 < float((y - x).max()) <= 0.03  # 3 %, sampled on the 0.02° grid
    True
    """

    _needs_grid = True

    def __init__(self, ratio=(0.01, 0.05), radiation="CuKa", two_theta=None):
        self.ratio = ratio
        self.radiation = radiation
        self.two_theta = two_theta

    def _transform(self, x, generator, grid):
        bounds = _bounds(self.ratio, "ratio", low=0.0, high=1.0)
        rad = get_radiation(self.radiation)
        if rad.kbeta is None:
            raise ValueError(
                f"radiation {self.radiation!r} names no anode: its Kβ line is "
                "not known (use a name such as 'CuKa')"
            )
        n, dev, dt = x.shape[0], x.device, x.dtype
        # the Kα angle whose Kβ copy falls on each grid point (same Q; NaN
        # where Kα cannot reach it)
        source = q_to_two_theta(two_theta_to_q(grid.values, rad.kbeta), rad.wavelength)
        idx = grid.index_of(torch.tensor(source, dtype=torch.float64, device=dev))
        idx = idx.nan_to_num(nan=-1.0)  # outside: no copy
        copy = _interp(x, idx.to(dt))
        return x + _uniform(bounds, (n, 1), generator, dev, dt) * copy
