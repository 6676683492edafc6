"""Peak positions of one powder pattern, for indexing."""

from __future__ import annotations

import numpy as np

from ..io._pattern import q_to_two_theta, two_theta_to_q
from ..utils._radiation import get_radiation
from ..utils._validation import check_bool, check_int, check_real

__all__ = ["peak_positions"]


def _grid(two_theta, intensity):
    """``two_theta`` and ``intensity`` as checked float arrays."""
    tt = np.asarray(two_theta, dtype=float)
    y = np.asarray(intensity, dtype=float)
    if tt.ndim != 1 or y.ndim != 1:
        raise ValueError(
            f"two_theta and intensity must be 1D, got shapes {tt.shape} and {y.shape}"
        )
    if len(tt) != len(y):
        raise ValueError(
            f"two_theta has {len(tt)} points and intensity {len(y)}: one "
            "intensity per angle is needed"
        )
    if len(tt) < 16:
        raise ValueError(f"a pattern of {len(tt)} points is too short to index")
    if not np.all(np.isfinite(tt)) or not np.all(np.diff(tt) > 0):
        raise ValueError("two_theta must be finite and strictly increasing")
    if tt[0] < 0 or tt[-1] > 180:
        raise ValueError(
            f"two_theta runs from {tt[0]:g} to {tt[-1]:g}: angles 2θ lie in "
            "[0, 180] degrees (is the axis Q?)"
        )
    if not np.all(np.isfinite(y)):
        raise ValueError(
            f"intensity has {int(np.sum(~np.isfinite(y)))} NaN or infinite values"
        )
    return tt, y


def _window_median(a, window):
    """The median of ``a`` over ``window`` points about each point, the window
    kept inside the data: near an end, the first (or last) whole window.

    Padding would weigh the end points many times: with ``"nearest"``, the
    residual of a line at the end filled half the window, and the line's own
    noise estimate rose above its height (narrow lines within 0.1° of an end
    were dropped); reflecting counted a line's flank twice.
    """
    from scipy.ndimage import median_filter

    n = len(a)
    if n <= window:
        return np.full(n, float(np.median(a)))
    half = window // 2
    out = median_filter(a, size=window, mode="nearest")
    out[:half] = out[half]
    out[n - half :] = out[n - 1 - half]
    return out


def peak_positions(
    two_theta,
    intensity,
    *,
    radiation="CuKa",
    max_peaks=20,
    min_height=0.015,
    min_snr=6.0,
    drop_kbeta=False,
):
    """The 2θ of the first peaks of a powder pattern, for indexing.

    Peaks are the maxima of the pattern smoothed over one grid point whose
    prominence reaches ``min_height`` times the highest peak and ``min_snr``
    times the local counting noise (the robust spread of the pattern about a
    wider smoothing, in windows of 1°): the many small maxima of a noisy scan
    are not lines. Positions are refined by a parabola through the three top
    points. At the ends of the scan the noise is taken from the first (last)
    whole window. A line whose top is inside the scan is found at its place
    when its drop to the end point, its prominence on that side (the scan
    says no more), passes both tests: a line of 0.05° standard deviation on a
    0.02° grid from two points (0.04°) inside, to 0.002°. A line whose top
    lies on or beyond the end gives nothing: the scan does not place it, and
    its flank is no maximum; nor does a sloping background. With a Kα1 + Kα2
    radiation, a weaker peak where the Kα2 line of a stronger one falls is
    dropped: indexing wants Kα1 lines only. With ``drop_kbeta`` and a named
    anode, so is a peak below a quarter of a stronger one where that one's
    Kβ line falls (within 0.04°): a β filter
    passes a few per cent of Kβ, and in the RRUFF mineral patterns 29 % of
    the three strongest peaks have such a copy (median 3 % of their height;
    3 % at a wrong wavelength, by chance). It is off by default: a true line
    there goes too, and with :func:`index_powder`'s ``first_lines`` passing
    over stray first lines, dropping the copies found no more RRUFF minerals'
    reference cells (``experiments/indexing_gap.py``).

    Parameters
    ----------
    two_theta : array-like of shape (n_points,)
        Increasing 2θ in degrees.
    intensity : array-like of shape (n_points,)
        The pattern (counts or any linear scale; a background that varies
        slowly does not matter).
    radiation : str or float, default="CuKa"
        A name (``"CuKa"`` with its Kα2 line, ``"CuKa1"``, ``"MoKa"``...) or a
        wavelength in Å; a Kα1 + Kα2 doublet names the Kα2 ghosts, an
        anode's name its Kβ line.
    max_peaks : int, default=20
        Keep the first this many (lowest angles), as de Wolff's M20 does.
    min_height : float, default=0.015
        Smallest prominence, a fraction of the highest.
    min_snr : float, default=6.0
        Smallest prominence in units of the local noise.
    drop_kbeta : bool, default=False
        Drop the Kβ copies of stronger peaks (named anodes only; a true line
        that falls there by chance and is that weak goes too).

    Returns
    -------
    ndarray of shape (n_peaks,)
        Increasing 2θ of the peaks (at most ``max_peaks``).

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.indexing import peak_positions
    >>> tt = np.arange(10, 60, 0.02)
    >>> y = sum(np.exp(-0.5 * ((tt - p) / 0.05) ** 2) for p in (20.0, 31.5, 44.0))
    >>> np.round(peak_positions(tt, y, radiation="CuKa1"), 2).tolist()
    [20.0, 31.5, 44.0]
    """
    from scipy.ndimage import gaussian_filter1d

    from ..utils._signal import find_peaks

    tt, y = _grid(two_theta, intensity)
    rad = get_radiation(radiation)
    max_peaks = check_int(max_peaks, "max_peaks", minimum=1)
    min_height = check_real(min_height, "min_height", minimum=0.0, maximum=1.0)
    if min_height == 1.0:
        raise ValueError(f"min_height must be in [0, 1), got {min_height}")
    min_snr = check_real(min_snr, "min_snr", minimum=0.0)
    check_bool(drop_kbeta, "drop_kbeta")  # "no" would turn it on
    y = np.maximum(y - np.min(y), 0.0)
    step = float(np.median(np.diff(tt)))
    smooth = gaussian_filter1d(y, 1.0)
    top = float(smooth.max())
    if top <= 0:
        return np.zeros(0)
    # counting noise: the robust spread about a wider smoothing, per degree
    # (0.55: what is left of white noise after the one-point smoothing)
    resid = np.abs(y - gaussian_filter1d(y, 3.0))
    noise = 1.4826 * 0.55 * _window_median(resid, max(5, int(round(1.0 / step))) | 1)
    idx, props = find_peaks(
        smooth,
        prominence=max(float(min_height) * top, 1e-12 * top),
        distance=max(1, int(round(0.03 / step))),
    )
    keep = (props["prominences"] > float(min_snr) * noise[idx]) & (idx > 0)
    idx = idx[keep & (idx < len(y) - 1)]
    if not len(idx):
        return np.zeros(0)
    a, b, c = smooth[idx - 1], smooth[idx], smooth[idx + 1]
    curv = a - 2 * b + c
    offset = np.where(curv < 0, 0.5 * (a - c) / np.where(curv < 0, curv, -1.0), 0.0)
    pos = np.interp(idx + np.clip(offset, -1, 1), np.arange(len(tt)), tt)
    height = b
    if len(rad.wavelengths) == 2:
        l1, l2 = rad.wavelengths
        sin2 = np.clip(np.sin(np.radians(pos / 2)) * l2 / l1, -1, 1)
        ghost_at = 2 * np.degrees(np.arcsin(sin2))
        drop = np.zeros(len(pos), bool)
        for j in np.argsort(-height):  # strongest first: their ghosts go
            if drop[j]:
                continue
            split = ghost_at[j] - pos[j]
            near = np.abs(pos - ghost_at[j]) < max(2 * step, 0.3 * split)
            near[j] = False
            drop |= near & (height < 0.8 * height[j])
        pos, height = pos[~drop], height[~drop]
    if drop_kbeta and rad.kbeta is not None:
        beta_at = q_to_two_theta(two_theta_to_q(pos, rad.wavelength), rad.kbeta)
        drop = np.zeros(len(pos), bool)
        for j in np.argsort(-height):
            if drop[j]:
                continue
            near = np.abs(pos - beta_at[j]) < max(2 * step, 0.04)
            drop |= near & (height < 0.25 * height[j])
        pos = pos[~drop]
    return pos[: int(max_peaks)]
