"""Is an input a powder pattern at all? (the "unknown" answers of the models)"""

from __future__ import annotations

import numpy as np

__all__ = ["screen_patterns"]


def screen_patterns(
    X,
    *,
    two_theta=None,
    wavelength="CuKa",
    model_range=None,
    min_coverage=0.25,
    min_span=10.0,
    max_peak_width=1.5,
    min_signal_to_noise=5.0,
    min_peak_to_noise=6.0,
):
    """Say which inputs do not look like powder diffraction patterns.

    A classifier trained on powder patterns answers every input, even a flat
    line or a sine curve, often with high confidence. Screening first lets a
    model say "unknown" instead. An input is refused, with the first reason
    that applies, when it

    - has no finite values, or NaN or infinite ones;
    - spans less than ``min_span`` degrees 2θ, or covers less than
      ``min_coverage`` of ``model_range``;
    - is flat (no intensity above its minimum) or has no positive intensity;
    - has strongly negative intensities (1 % of the points below −10 % of the
      maximum): counts are never negative, and a background subtraction
      leaves only small negative values;
    - has no peak that stands out of its noise (the strongest peak less than
      ``min_signal_to_noise`` noise standard deviations above the median;
      the noise of whole-number counts is measured within their unit step,
      so that pure Poisson noise of a few counts is refused);
    - stands out of its noise less than 1.5 times as far as its own values
      in random order do (the median of five fixed shuffles): heavy-tailed
      white noise (exponential, lognormal, Pareto), whose spikes the robust
      noise level does not count; the lines of a powder pattern do not
      survive shuffling (RRUFF patterns at least 2.35 times their shuffled
      figure, median 16);
    - has no peak narrower than ``max_peak_width`` degrees 2θ (a sine curve,
      an amorphous hump): Bragg peaks of a powder are a fraction of a degree
      wide on laboratory and synchrotron instruments;
    - has no narrow peak whose prominence is ``min_peak_to_noise`` times the
      noise around it (counting noise on a strong background, as from an
      empty sample holder or an amorphous sample, makes narrow wiggles of its
      own: in 200 simulated scans of such backgrounds the best peak reaches
      3.1 at the median and 6.5 at most, in the measured patterns below at
      least 9.7);
    - repeats itself (a correlation of at least 0.8 with itself moved by
      some 2θ, after removing features broader than 2°): a fast sine, a square
      wave or a sawtooth; powder peaks fall at d-spacings, never at equal steps;
    - has ten strongest peaks all within a quarter of the strongest's height:
      a chirp (a sine whose period shrinks) or a comb of equal lines; powder
      lines differ by multiplicities, structure factors and the fall-off with
      angle (the tenth at most 0.49 of the strongest in the measured patterns
      below, 0.53 in 800 simulated ones);
    - drifts: its features narrower than 2° make under 30 % of its range and
      are spread over the scan rather than in peaks (the strongest 5 % of
      points hold under 45 % of them), as on a random walk; a powder's range
      is made by its peaks, and on a strong background its narrow features
      still lie in peaks.

    Screen a measurement on its own points (Pattern objects, or rows on their
    own grid), not after :class:`~skxrd.preprocessing.PatternResampler`: the
    ``fill_value`` it puts beyond a shorter scan's ends reads as data, and the
    steps to it as peaks (a sine curve or a noisy background then passes).

    None of the 456 measured RRUFF mineral patterns, 15 SSRL synchrotron
    patterns and 85 thin-film scans in ``../shared/data/measured`` is refused.

    Parameters
    ----------
    X : list of Pattern, or array-like of shape (n_samples, n_points)
        Patterns (their positions taken as 2θ at ``wavelength``), or rows of
        intensities on the grid ``two_theta``.
    two_theta : array-like of shape (n_points,), optional
        The 2θ grid (degrees) of array input, strictly increasing; required for
        it.
    wavelength : float or str, default="CuKa"
        Wavelength (Å or a radiation name) at which Pattern positions are
        converted to 2θ: the model's, so that widths and spans are in the
        model's degrees.
    model_range : (float, float), optional
        The 2θ range the model reads; inputs covering less than
        ``min_coverage`` of it are refused.
    min_coverage : float, default=0.25
    min_span : float, default=10.0
        Degrees 2θ.
    max_peak_width : float, default=1.5
        Degrees 2θ (full width at half maximum).
    min_signal_to_noise : float, default=5.0
        The strongest feature's height above the median, in robust noise
        standard deviations of the whole scan.
    min_peak_to_noise : float, default=6.0
        The best narrow peak's prominence, in robust noise standard deviations
        of the scan around it.

    Returns
    -------
    list of (str or None)
        Per input, None when it looks like a powder pattern, else why not.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.preprocessing import screen_patterns
    >>> tt = np.arange(10, 80, 0.02)
    >>> powder = np.exp(-0.5 * ((tt[None] - [[28.4], [47.3], [56.1]]) / 0.05) ** 2)
    >>> X = [powder.sum(0), np.ones_like(tt), np.sin(np.radians(tt) * 20) + 1]
    >>> for reason in screen_patterns(X, two_theta=tt):
    ...     print(reason)
    None
    flat: no intensity above its minimum
    no peak narrower than 1.5° 2θ (the narrowest is 9°): not a powder pattern
    """
    from ..io._pattern import as_patterns
    from ..utils._validation import check_range, check_real
    from ._core import _wavelength, make_grid

    min_coverage = check_real(min_coverage, "min_coverage", minimum=0.0, maximum=1.0)
    min_span = check_real(min_span, "min_span", minimum=0.0)
    max_peak_width = check_real(max_peak_width, "max_peak_width", minimum=0.0)
    min_signal_to_noise = check_real(min_signal_to_noise, "min_signal_to_noise")
    min_peak_to_noise = check_real(min_peak_to_noise, "min_peak_to_noise")
    model_range = check_range(model_range, "model_range", allow_none=True)
    patterns = as_patterns(X, what="X", error=ValueError)
    if patterns is not None:
        lam = _wavelength(wavelength, "wavelength")
        items = [(p.two_theta_at(lam), p.intensity) for p in patterns]
    else:
        if two_theta is None:
            raise ValueError("screen_patterns: array input needs its two_theta grid")
        # the grid checked as the other array paths check it (PatternResampler's
        # source_grid): a decreasing or unsorted grid gave a negative or tiny
        # span, and a valid pattern was refused for a wrong reason
        try:
            grid = make_grid(
                list(two_theta) if isinstance(two_theta, tuple) else two_theta,
                "two_theta",
            )
        except ValueError as exc:
            raise ValueError(f"screen_patterns: {exc}") from None
        try:
            rows = np.asarray(X, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                "screen_patterns: X must be Pattern objects or rows of numbers of "
                f"equal length ({exc})"
            ) from None
        if rows.ndim == 1:
            rows = rows[None]
        if rows.ndim != 2 or rows.shape[1] != len(grid):
            raise ValueError(
                f"screen_patterns: X has shape {rows.shape}; rows must have "
                f"{len(grid)} points, one per two_theta value"
            )
        items = [(grid, row) for row in rows]
    return [
        _reason(
            x,
            y,
            model_range,
            min_coverage,
            min_span,
            max_peak_width,
            min_signal_to_noise,
            min_peak_to_noise,
        )
        for x, y in items
    ]


def _reason(
    x, y, model_range, min_coverage, min_span, max_width, min_snr, min_peak_snr
):

    from ..utils._signal import peak_widths

    x = np.asarray(x, float)
    y = np.asarray(y, float)
    ok = np.isfinite(x)
    x, y = x[ok], y[ok]
    if not len(y):
        return "no points inside the 2θ range of the wavelength"
    if not np.all(np.isfinite(y)):
        return "NaN or infinite intensities"
    span = float(x[-1] - x[0])
    if span < min_span:
        return f"the scan spans only {span:.3g}° 2θ (at least {min_span:g}° needed)"
    if model_range is not None:
        lo, hi = model_range
        covered = max(0.0, min(hi, x[-1]) - max(lo, x[0])) / (hi - lo)
        if covered < min_coverage:
            return (
                f"covers {covered:.0%} of the model's {lo:g}–{hi:g}° 2θ range "
                f"(at least {min_coverage:.0%} needed)"
            )
    top, low = float(y.max()), float(y.min())
    if top <= 0:
        return "no positive intensity"
    if top - low <= 1e-9 * max(abs(top), abs(low), 1e-300):
        return "flat: no intensity above its minimum"
    if np.mean(y < -0.1 * top) > 0.01:
        return (
            f"strongly negative intensities (down to {low / top:.0%} of the "
            "maximum): not counts"
        )
    quantum = _quantum(y)
    smooth, resid, noise, height = _signal_and_noise(y, quantum)
    if height <= 0 or (noise > 0 and height / noise < min_snr):
        return (
            f"no peak stands out of the noise (signal-to-noise "
            f"{height / noise if noise > 0 else 0:.1f}, at least {min_snr:g} needed)"
        )
    if noise > 0:
        # Heavy-tailed white noise (exponential, lognormal: spikes in every
        # few points) has outliers that the robust noise level does not
        # count, so its "peaks" stand out of it. Its values in random order
        # stand out as far: a powder pattern's lines do not survive the
        # shuffling (RRUFF: at least 2.35 times the shuffled figure, median 16;
        # SSRL and thin films at least 4.0; 20 draws each of six kinds of
        # white noise 0.58-1.71, median 0.95: experiments/screen_shuffle.py).
        shuffled = _shuffled_signal_to_noise(y, quantum)
        # no noise left in the shuffled values (most of them equal, as the
        # zeros of a clipped background subtraction): no verdict
        if 0 < shuffled < np.inf and height / noise < _MIN_SHUFFLE_RATIO * shuffled:
            return (
                f"no peak stands out of the noise more than in its own values "
                f"shuffled (signal-to-noise {height / noise:.1f} against "
                f"{shuffled:.1f} shuffled): white noise, not a powder pattern"
            )
    peaks, prom, lb, rb = _peaks(smooth, height)
    if not len(peaks):
        return "no peaks"
    last = len(smooth) - 1
    widths, _, left, right = peak_widths(
        smooth, peaks, rel_height=0.5, prominence_data=(prom, lb, rb)
    )
    cut_left, cut_right = left <= 0, right >= last
    widths = np.where(cut_left, 2 * (right - peaks), widths)
    widths = np.where(cut_right, 2 * (peaks - left), widths)
    widths = np.where(cut_left & cut_right, np.inf, widths)
    # widths in points -> degrees, with the local step of a non-uniform grid
    step = np.gradient(x)[peaks]
    narrowest = float(np.min(widths * step))
    if narrowest > max_width:
        return (
            f"no peak narrower than {max_width:g}° 2θ (the narrowest is "
            f"{narrowest:.2g}°): not a powder pattern"
        )
    # Counting noise grows with the level (Poisson): on a strong background
    # (an empty holder, an amorphous sample) its wiggles pass the tests above.
    # A Bragg peak stands out of the noise around it.
    narrow = widths * step <= max_width
    window = int(np.clip(len(y) // 40, 25, 250))
    local = _local_noise(resid, window, quantum)[peaks[narrow]]
    snr = prom[narrow] / np.maximum(local, 1e-12 * height)
    if local.max() > 0 and snr.max() < min_peak_snr:
        return (
            f"no peak stands out of the noise around it (best peak-to-noise "
            f"{snr.max():.1f}, at least {min_peak_snr:g} needed)"
        )
    period = _repeats(smooth, x)
    if period is not None:
        return (
            f"periodic: it repeats every {period[0]:.3g}° 2θ (correlation "
            f"{period[1]:.2f}), which no powder pattern does"
        )
    # Powder lines differ in height by multiplicities, structure factors and
    # the fall-off with angle: ten of them within a quarter of the strongest
    # is a chirp or a comb (experiments/screen_shapes.py: at most 0.49 in the
    # measured patterns, 0.53 in 800 simulated ones; chirps 0.96-0.98).
    equal = _equal_height(prom)
    if equal >= _MIN_EQUAL_HEIGHT:
        return (
            f"its {_EQUAL_PEAKS} strongest peaks are all within "
            f"{1 - equal:.0%} of the strongest's height, which powder lines "
            "never are (a chirp or a comb)"
        )
    drift = _drift(smooth, x)
    if (
        drift is not None
        and drift[0] < _MAX_DRIFT_PEAK_SHARE
        and drift[1] < _MAX_DRIFT_CONCENTRATION
    ):
        return (
            f"its narrow features are a small part of its range (the highest "
            f"{drift[0]:.0%} of it) and spread over the scan rather than in "
            f"peaks (the strongest 5% of points hold {drift[1]:.0%} of them): "
            "a drifting curve such as a random walk, not a powder pattern"
        )
    return None


# ten peaks (_EQUAL_PEAKS) within this share of the strongest: not a powder
_EQUAL_PEAKS = 10
_MIN_EQUAL_HEIGHT = 0.75
# a drifting curve: its narrow features' highest under this share of its
# range, and the strongest 5 % of points holding under this share of them
_MAX_DRIFT_PEAK_SHARE = 0.3
_MAX_DRIFT_CONCENTRATION = 0.45


# A pattern's signal-to-noise over that of its values in random order
# (median of _N_SHUFFLES orders, fixed seed): below this it is white noise.
_MIN_SHUFFLE_RATIO = 1.5
_N_SHUFFLES = 5


def _shuffled_signal_to_noise(y, quantum):
    """The median signal-to-noise (as :func:`_reason` measures it) of ``y``'s
    values in random orders, with a fixed seed: the same input, the same
    answer."""
    rng = np.random.default_rng(0)
    figures = []
    for _ in range(_N_SHUFFLES):
        _, _, noise, height = _signal_and_noise(rng.permutation(y), quantum)
        figures.append(height / noise if noise > 0 else np.inf)
    return float(np.median(figures))


def _signal_and_noise(y, quantum):
    """``y`` smoothed (a 5-point median), the residual, the residual's robust
    noise level and the smoothed maximum's height above the median."""
    from scipy.ndimage import median_filter

    smooth = median_filter(y, size=5, mode="nearest")
    resid = y - smooth
    noise = _robust_sigma(resid, quantum)
    return smooth, resid, noise, float(smooth.max()) - float(np.median(smooth))


def _quantum(y):
    """The step of the values of ``y`` when they lie on a grid (counts: 1;
    counts scaled by c: c), else about 0: the smallest gap between its
    distinct values."""
    values = np.unique(y)
    return float(np.diff(values).min()) if len(values) > 1 else 0.0


def _robust_sigma(a, quantum=0.0):
    """Standard deviation from the median absolute deviation (Gaussian noise).

    Values on a grid of step ``quantum`` (counts) have absolute deviations on
    that grid too, and their plain median is a whole number of steps: low
    counting noise got 0 or 1 where its own lies between, and pure Poisson
    noise of a few counts passed as peaks standing far out of "no noise".
    The median is then interpolated within its step, as the median of
    grouped data (nothing changes for unquantized values).
    """
    d = np.abs(a - np.median(a))
    mad = float(np.median(d))
    half = 0.5 * quantum
    inside = np.count_nonzero(np.abs(d - mad) <= half)
    if inside:  # none: unquantized values, whose median is between two
        below = np.count_nonzero(d < mad - half)
        lower = max(mad - half, 0.0)
        # the step of the median spans [lower, mad + half]; the middle of the
        # values lies a share of the way into it (deviations start at 0)
        share = np.clip((0.5 * len(d) - below) / inside, 0.0, 1.0)
        mad = lower + (mad + half - lower) * float(share)
    return 1.4826 * mad


def _local_noise(resid, half, quantum=0.0):
    """Robust standard deviation of ``resid`` near each point: over windows of
    ``2 * half`` points every ``half`` points, interpolated between them."""
    n = len(resid)
    starts = np.arange(0, n, half)
    centers, sigmas = [], []
    for a in starts:
        block = resid[max(0, a - half // 2) : min(n, a + half + half // 2)]
        sigmas.append(_robust_sigma(block, quantum))
        centers.append(min(a + half / 2, n - 1))
    return np.interp(np.arange(n), centers, sigmas)


def _repeats(smooth, x, min_correlation=0.8):
    """(period in degrees, correlation) when the pattern repeats itself, else
    None. Powder peaks fall at d-spacings, never at equal steps in 2θ: a sine,
    a square wave or a sawtooth does. Features broader than 2° (backgrounds)
    are removed first, so that only peak-sized structure is compared."""
    n = len(smooth)
    hp = _narrow_part(smooth, x)
    if hp is None:
        return None
    step = float(np.median(np.diff(x)))
    hp = hp - hp.mean()
    power = float(np.dot(hp, hp))
    if power <= 0:
        return None
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(hp, size)
    acf = np.fft.irfft(spectrum * np.conj(spectrum), size)[: n // 4] / power
    # past the central peak: from the first lag where the correlation drops
    # below zero (a Bragg peak's own width, or half a period)
    below = np.flatnonzero(acf < 0)
    if not len(below):
        return None
    lag = int(below[0]) + int(np.argmax(acf[below[0] :]))
    if acf[lag] < min_correlation:
        return None
    return lag * step, float(acf[lag])


def _narrow_part(smooth, x):
    """``smooth`` less its features broader than 2° (a running median), or
    None for a grid too short or not increasing."""
    from scipy.ndimage import median_filter

    step = float(np.median(np.diff(x)))
    if not step > 0 or len(smooth) < 64:
        return None
    wide = max(3, int(round(2.0 / step)) | 1)
    return smooth - median_filter(smooth, size=wide, mode="nearest")


def _peaks(smooth, height):
    """Peaks of ``smooth`` of prominence at least 5 % of ``height``: their
    indices, prominences and bases.

    A hump running off the end of the scan has its prominence set by the
    edge's value, not by its own base: measured from there, a broad hump
    looked narrow (a sine passed). Such a peak's prominence is taken from the
    base inside the scan; its half maximum on the edge's side may then lie
    outside the scan, where its width is twice the half width inside.
    """
    from ..utils._signal import find_peaks

    peaks, props = find_peaks(smooth, prominence=0.05 * height)
    last = len(smooth) - 1
    prom, lb, rb = props["prominences"], props["left_bases"], props["right_bases"]
    edge_r = (rb == last) & (smooth[rb] > smooth[lb])
    edge_l = (lb == 0) & (smooth[lb] > smooth[rb])
    prom = np.where(edge_r, smooth[peaks] - smooth[lb], prom)
    prom = np.where(edge_l, smooth[peaks] - smooth[rb], prom)
    return peaks, prom, lb, rb


def _equal_height(prom):
    """The prominence of the _EQUAL_PEAKS-th strongest peak over the
    strongest's (0 with fewer peaks)."""
    if len(prom) < _EQUAL_PEAKS:
        return 0.0
    strong = np.sort(prom)[::-1]
    return float(strong[_EQUAL_PEAKS - 1] / strong[0])


def _drift(smooth, x):
    """(peak share, concentration): the highest narrow feature over the range,
    and the share of the narrow features' positive part that the strongest
    5 % of points hold; None where not measurable.

    A powder pattern's range is made by its peaks (the highest narrow feature
    at least 0.71 of the range in the RRUFF patterns, 0.78 in simulated
    ones), or, on a strong background, its narrow features lie in peaks (the
    strongest 5 % of points hold at least 0.60 of them in the thin films
    whose peaks are under 0.3 of the range). A random walk wanders: its
    narrow bumps are a small part of its range (at most 0.17) and spread over
    the scan (0.33 at most), as noise is (experiments/screen_shapes.py).
    """
    hp = _narrow_part(smooth, x)
    span = float(np.ptp(smooth))
    if hp is None or span <= 0:
        return None
    share = float(hp.max()) / span
    pos = np.clip(hp, 0.0, None)
    total = float(pos.sum())
    if total <= 0:
        return None
    k = max(1, int(0.05 * len(pos)))
    top = float(np.partition(pos, len(pos) - k)[len(pos) - k :].sum()) / total
    return share, top
