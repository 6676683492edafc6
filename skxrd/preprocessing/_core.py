"""The numerical cores of the pattern transformers, without scikit-learn.

The transformers of this subpackage are thin scikit-learn facades over these
functions; :mod:`skxrd.pretrained` also calls them directly where a prediction
must not pay for importing scikit-learn (``skxrd predict``).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from ..io._pattern import AXES, q_to_two_theta, resolve_wavelength
from ..io._pattern import two_theta_to_q as _tt_to_q
from ..utils._grid import grid_feature_names  # noqa: F401 (re-exported)
from ..utils._radiation import Radiation, get_radiation, kalpha_mean_anode
from ..utils._validation import check_int, check_real
from ..utils._warnings import caller_stacklevel

FLOAT_DTYPES = (np.float64, np.float32)
BACKGROUND_METHODS = ("snip", "rolling_ball")
#: what SNIP does at the ends of a pattern (``edges`` of :func:`snip_background`)
SNIP_EDGES = ("keep", "extend")
NORMALIZE_METHODS = ("max", "area", "l2", "minmax")
NORMALIZE_SCALES = (None, "sqrt", "log")
SMOOTH_METHODS = ("savgol", "median")

# Model-grid points this close (degrees 2θ) to the measured range count as covered,
# so that the round trip 2θ -> Q -> 2θ does not report spurious gaps.
_TOL = 1e-6
_MAX_LISTED = 10


def check_finite(X: np.ndarray, what: str = "X") -> None:
    """Raise a ValueError naming the first sample with a NaN or an infinity."""
    finite = np.isfinite(X)
    if finite.all():
        return
    i, j = (int(v) for v in np.argwhere(~finite)[0])
    kind = "NaN" if np.isnan(X[i, j]) else "inf"
    n_bad = int(np.count_nonzero(~finite.all(axis=1)))
    more = f" ({n_bad} samples have non-finite values)" if n_bad > 1 else ""
    raise ValueError(
        f"Input {what} contains {kind} in sample {i} at column {j}{more}; "
        "patterns must be finite"
    )


def make_grid(spec, what: str = "two_theta", *, upper: float | None = 180.0):
    """A strictly increasing grid from ``(start, stop, step)`` or explicit values.

    A tuple of three numbers is a range: ``start + step * arange(n)`` with
    ``n = round((stop - start) / step)`` points, the convention of
    :class:`~skxrd.simulation.PowderSimulator` (the stop is excluded). A
    tuple of two numbers is an error (a range without its step). Anything
    else (a list or an array) lists the grid points.

    Examples
    --------
    >>> make_grid((5, 90, 0.02)).shape
    (4250,)
    >>> make_grid([10, 20, 30]).tolist()
    [10.0, 20.0, 30.0]
    """
    if isinstance(spec, tuple) and len(spec) == 3:
        start, stop, step = (check_real(v, what) for v in spec)
        if not step > 0 or not stop > start:
            raise ValueError(
                f"{what}=(start, stop, step) needs start < stop and step > 0, "
                f"got {spec!r}"
            )
        n = int(round((stop - start) / step))
        if n < 2:
            raise ValueError(f"{what}={spec!r} has fewer than 2 points")
        if n > 10_000_000:
            raise ValueError(f"{what}={spec!r} would have {n} points")
        grid = start + step * np.arange(n)
    elif isinstance(spec, tuple) and len(spec) == 2:
        # (5, 90) reads as a range to most users (Kalpha2Stripper's first and
        # last columns): as listed points it was a grid of two, and a model
        # fed two points answers without a word
        raise ValueError(
            f"{what}={spec!r} is a tuple of two numbers: a range needs a step, "
            f"({spec[0]!r}, {spec[1]!r}, 0.02) for example; list the points "
            "([...] or an array) for a grid of two"
        )
    else:
        try:
            grid = np.array(spec, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                f"{what} must be (start, stop, step) or an array of positions, "
                f"got {spec!r}"
            ) from None
        if grid.ndim != 1 or grid.size < 1:
            raise ValueError(f"{what} must be a non-empty 1D array, got {spec!r}")
        bad = np.flatnonzero(~np.isfinite(grid))
        if bad.size:
            raise ValueError(f"{what} has a non-finite value at index {bad[0]}")
        dec = np.flatnonzero(np.diff(grid) <= 0)
        if dec.size:
            raise ValueError(
                f"{what} must be strictly increasing; index {dec[0] + 1} "
                f"({grid[dec[0] + 1]}) does not exceed the one before"
            )
    if grid[0] < 0 or (upper is not None and grid[-1] > upper):
        limit = "" if upper is None else f", {upper:g}"
        raise ValueError(f"{what} must lie in [0{limit}], got {grid[0]}..{grid[-1]}")
    return grid


# rows of a block of snip_background: 64 x 4250 float64 values is 2 MB
_SNIP_ROWS = 64


def _rows(X, what):
    """``X`` as float64 rows, and whether it was one pattern (1-D); one
    clear error for another shape or a non-finite value."""
    Y = np.asarray(X, dtype=np.float64)
    if Y.ndim not in (1, 2):
        raise ValueError(
            f"{what}: X must be one pattern (1-D) or one per row (2-D), "
            f"got shape {Y.shape}"
        )
    one = Y.ndim == 1
    Y = Y[None] if one else Y
    if Y.shape[1] == 0:
        # the rolling ball failed in a numpy reduction that named neither
        raise ValueError(f"{what}: X has no points (shape {Y.shape})")
    check_finite(Y)
    return Y, one


def snip_background(
    X,
    window: int = 20,
    iterations: int = 1,
    lls: bool = False,
    decreasing=False,
    *,
    edges: str = "keep",
) -> np.ndarray:
    """SNIP background of each row of ``X`` (float64).

    Statistics-sensitive Non-linear Iterative Peak-clipping (Ryan et al. 1988,
    Morháč et al. 1997): for each half-width ``p`` up to ``window``, every point
    is replaced by the mean of its neighbours at ``±p`` when that is lower.
    With ``lls`` the clipping works on ``log(log(sqrt(y + 1) + 1) + 1)``, which
    compresses the peaks of spectra with a large dynamic range (patterns with
    negative values are shifted up first); without it a linear background is
    kept exactly (with either ``edges``). The background never exceeds the data.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_points) or (n_points,)
        Patterns, one per row (or one pattern), finite.
    window : int, default=20
        Largest clipping half-width in points (>= 1): about the full width of
        the broadest peak at its base.
    iterations : int, default=1
        Number of sweeps over the half-widths (>= 1).
    lls : bool, default=False
        Apply the log-log-sqrt transform.
    decreasing : bool, default=False
        Sweep the half-width from ``window`` down to 1 instead of up.
    edges : {"keep", "extend"}, default="keep"
        The points closer than ``p`` to an end have no neighbour at ``-p`` (or
        ``+p``). ``"keep"``: they are not clipped at that width, so the
        background equals the data at the first and last point and a line
        within ``window`` points of an end is partly or wholly taken for
        background (with the default window, a line 1 point from the end keeps
        5-17 % of its height, 3 points from it 40-69 %). ``"extend"``: each
        row is extended by ``window`` points at each end along a straight line
        fitted to the background of its ``2 window + 1`` end points (points
        more than twice the noise above the line, the peaks, are left out of
        the fit), clipped, and cut back: end lines keep their height, and a
        curved background is followed to within its bend over ``window``
        points. ``"keep"`` is what the shipped models were trained with.

    Returns
    -------
    ndarray of shape (n_samples, n_points) or (n_points,)
        As ``X``.

    Examples
    --------
    >>> x = np.arange(200.0)
    >>> y = 0.01 * x + 5 * np.exp(-(((x - 100) / 3) ** 2))
    >>> float(abs(snip_background(y[None], window=20)[0] - 0.01 * x).max()) < 0.05
    True
    >>> snip_background(y, window=20).shape  # one pattern
    (200,)

    A line 2 points from the end is background to ``"keep"``, not to
    ``"extend"``:

    >>> y = 0.01 * x + 5 * np.exp(-(((x - 2) / 3) ** 2))
    >>> for edges in ("keep", "extend"):
    ...     peak = (y - snip_background(y, window=20, edges=edges))[2]
    ...     print(edges, round(float(peak), 2))
    keep 1.82
    extend 5.0
    """
    Y, one = _rows(X, "snip_background")
    # window 0 or below (or no sweep) clipped nothing: the data came back as
    # their own background, and a float window was silently truncated
    window = check_int(window, "snip_background: window", minimum=1)
    iterations = check_int(iterations, "snip_background: iterations", minimum=1)
    if edges not in SNIP_EDGES:
        raise ValueError(f"edges must be one of {SNIP_EDGES}, got {edges!r}")
    out = _snip(Y, window, iterations, lls, decreasing, edges)
    return out[0] if one else out


def _snip(Y, window, iterations, lls, decreasing, edges="keep"):
    """:func:`snip_background` of checked rows ``Y``."""
    if len(Y) > _SNIP_ROWS:
        # rows in blocks that stay in the CPU cache: 4-8x faster on large
        # sets, the same numbers (each row is clipped on its own)
        return np.concatenate(
            [
                _snip(Y[i : i + _SNIP_ROWS], window, iterations, lls, decreasing, edges)
                for i in range(0, len(Y), _SNIP_ROWS)
            ]
        )
    V = Y
    if lls:
        offset = np.minimum(Y.min(axis=1, keepdims=True), 0.0)
        V = np.log(np.log(np.sqrt(V - offset + 1.0) + 1.0) + 1.0)
    n = Y.shape[1]
    pad = 0
    if edges == "extend" and n > 1:
        # every point gets its neighbours at +-p for all p up to the window
        pad = max(int(window), 1)
        V = np.concatenate(
            [_end_line(V, pad, left=True), V, _end_line(V, pad, left=False)], axis=1
        )
    elif not lls:
        V = Y.copy()  # clipped in place
    n_all = V.shape[1]
    p_max = min(int(window), (n_all - 1) // 2)
    widths = range(p_max, 0, -1) if decreasing else range(1, p_max + 1)
    for _ in range(int(iterations)):
        for p in widths:
            mean = 0.5 * (V[:, : n_all - 2 * p] + V[:, 2 * p :])
            mid = V[:, p : n_all - p]
            np.minimum(mid, mean, out=mid)
    V = V[:, pad : pad + n]
    if lls:
        V = (np.exp(np.exp(V) - 1.0) - 1.0) ** 2 - 1.0 + offset
    return np.minimum(V, Y)


# refits of the end line with the points near or below it: from a start below
# the background the fit rises to it in 3-4 (counting noise), the rest guards
_END_FITS = 6


def _end_line(V, pad, left):
    """``pad`` points beyond one end of each row of ``V`` on a straight line
    fitted to the background of the row's ``2 pad + 1`` end points.

    The line starts through the lowest point of each half of the end region
    (below the background by about twice the noise, and below any line that
    covers less than half of it), then is refitted by least squares to the
    points at most twice the noise above it (the noise from second
    differences, which a smooth background hardly enters): it rises to the
    background, and the peaks stay out. A plain least-squares start let a
    line at the end tilt the fit so far that the refits kept the wrong
    points; a mirror image of the data (about the end point or its value)
    would carry a peak at the end into the extension, where it holds the end
    up as ``edges="keep"`` does.
    """
    m = min(2 * pad + 1, V.shape[1])
    E = V[:, :m] if left else V[:, : -m - 1 : -1]  # the end first
    t = np.arange(m, dtype=np.float64)
    rows = np.arange(len(E))
    h = m // 2
    i1 = E[:, :h].argmin(axis=1)
    i2 = h + E[:, h:].argmin(axis=1)
    slope = (E[rows, i2] - E[rows, i1]) / (i2 - i1)
    level = E[rows, i1] - slope * i1
    if m >= 3:
        d2 = E[:, 2:] - 2.0 * E[:, 1:-1] + E[:, :-2]
        # 1.4826 median|d| is the standard deviation of normal noise; a
        # second difference has sqrt(6) times the noise of one point
        noise = 1.4826 / np.sqrt(6.0) * np.median(np.abs(d2), axis=1)
        # a rounding's allowance, so that an exact line keeps its points
        span = E.max(axis=1) - E.min(axis=1)
        limit = (2.0 * noise + 1e-9 * span)[:, None]
        for _ in range(_END_FITS):
            w = E - (level[:, None] + slope[:, None] * t) <= limit
            # at least 3 points (any 2 fit exactly); else the line so far
            ok = w.sum(axis=1) >= 3
            w = w.astype(np.float64)
            sw, st, stt = w.sum(axis=1), (w * t).sum(axis=1), (w * t * t).sum(axis=1)
            wy = w * E
            sy, sty = wy.sum(axis=1), (wy * t).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                new_slope = (sw * sty - st * sy) / (sw * stt - st * st)
                new_level = (sy - new_slope * st) / sw
            slope = np.where(ok, new_slope, slope)
            level = np.where(ok, new_level, level)
    beyond = level[:, None] + slope[:, None] * np.arange(-pad, 0.0)
    return beyond if left else beyond[:, ::-1]


def rolling_ball_background(X, window: int = 50, ball_height=0.05) -> np.ndarray:
    """Rolling-ball background of each row of ``X`` (float64).

    The morphological opening (:func:`scipy.ndimage.grey_opening`) with a
    non-flat, ball-shaped structuring element: the upper half of an ellipse of
    half-width ``window`` points and height ``ball_height`` times the pattern's
    intensity range (max − min), rolled under the pattern. Scaling the ball with
    the range makes the result independent of the intensity units. The
    background never exceeds the data.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_points) or (n_points,)
        Patterns, one per row (or one pattern), finite.
    window : int, default=50
        Ball half-width (radius) in points (>= 1): wider than the peaks,
        narrower than the background's features.
    ball_height : float, default=0.05
        Ball height (> 0) as a fraction of each pattern's intensity range. Near 0 the
        ball is flat (a plain min/max opening); larger balls follow tighter
        background curvature but reach further into the peaks' feet.

    Returns
    -------
    ndarray of shape (n_samples, n_points) or (n_points,)
        As ``X``.

    Examples
    --------
    >>> x = np.arange(200.0)
    >>> y = 0.01 * x + 5 * np.exp(-(((x - 100) / 3) ** 2))
    >>> bg = rolling_ball_background(y, window=20)
    >>> float(abs(bg - 0.01 * x).max()) < 0.1  # 2% of the peak height
    True
    """
    Y, one = _rows(X, "rolling_ball_background")
    # a negative window failed deep in scipy, a float one was truncated, and a
    # ball of height 0 or below is no ball
    window = check_int(window, "rolling_ball_background: window", minimum=1)
    ball_height = check_real(
        ball_height,
        "rolling_ball_background: ball_height",
        minimum=0.0,
        include_min=False,
    )
    lo = Y.min(axis=1, keepdims=True)
    span = Y.max(axis=1, keepdims=True) - lo
    span = np.where(span > 0, span, 1.0)
    k = np.arange(-int(window), int(window) + 1) / max(int(window), 1)
    ball = float(ball_height) * np.sqrt(np.clip(1.0 - k**2, 0.0, None))
    scaled = (Y - lo) / span
    # Extend each pattern by an odd reflection (a linear continuation of its
    # ends) so that the ball follows a sloping background up to the edges. The
    # full window on each side, also where it exceeds the pattern (numpy
    # repeats the odd reflection): a shorter extension left the wide ball to
    # the flat "nearest" values beyond it, and a ramp shorter than the window
    # got a background far below its minimum (subtracting it raised the
    # pattern).
    r = int(window) if Y.shape[1] > 1 else 0
    if r > 0:
        scaled = np.pad(scaled, ((0, 0), (r, r)), mode="reflect", reflect_type="odd")
    from scipy import ndimage

    opened = ndimage.grey_opening(scaled, structure=ball[None, :], mode="nearest")
    opened = opened[:, r : opened.shape[1] - r]
    out = np.minimum(opened * span + lo, Y)
    return out[0] if one else out


def background(
    X,
    method="snip",
    window=None,
    iterations=1,
    lls=False,
    decreasing=False,
    ball_height=0.05,
    edges="keep",
):
    """The background of each row of ``X`` (the parameters of
    :class:`BackgroundSubtractor`, checked by it), in the dtype of ``X``."""
    if method == "snip":
        window = 20 if window is None else window
        bg = snip_background(X, window, iterations, lls, decreasing, edges=edges)
    else:
        window = 50 if window is None else window
        bg = rolling_ball_background(X, window, ball_height)
    return np.minimum(bg.astype(X.dtype, copy=False), X)


def normalize(X, method="max", scale=None):
    """Each row of ``X`` scaled as :class:`PatternNormalizer` does (its
    parameters, checked by it); a new array of the dtype of ``X``."""
    out = np.array(X, dtype=X.dtype, copy=True)
    if scale is not None:
        np.maximum(out, 0, out=out)
        if scale == "sqrt":
            np.sqrt(out, out=out)
        else:
            np.log1p(out, out=out)
    if method == "max":
        # unchanged, bit for bit: the shipped models read max-normalized input
        norm = np.abs(out).max(axis=1, keepdims=True)
    else:
        # Each row first divided by its largest absolute value, so that the
        # sums, squares and differences below work on values in [-1, 1]: a
        # difference past the dtype's largest number became inf (minmax: NaN),
        # and squares past it or below its smallest number (float64 rows near
        # 1e155 or 1e-162) made the norm inf or 0: the pattern silently came
        # back as all zeros. Sums and squares in float64 for float32 rows.
        top = np.abs(out).max(axis=1, keepdims=True)
        np.divide(out, np.where(top == 0, 1, top), out=out)
        if method == "minmax":
            lo = out.min(axis=1, keepdims=True)
            out -= lo
            norm = out.max(axis=1, keepdims=True)
        elif method == "area":
            norm = np.abs(out).sum(axis=1, keepdims=True, dtype=np.float64)
        else:
            norm = np.sqrt(np.einsum("ij,ij->i", out, out, dtype=np.float64))[:, None]
    zero = norm == 0
    np.divide(out, np.where(zero, 1, norm), out=out)
    out[zero[:, 0]] = 0
    return out


def smooth(X, window_length=11, polyorder=3, method="savgol"):
    """Each row of ``X`` smoothed as :class:`PatternSmoother` does (its
    parameters, checked by it), in the dtype of ``X``."""
    if method == "median":
        from scipy.ndimage import median_filter

        out = median_filter(X, size=(1, int(window_length)), mode="nearest")
    else:
        from scipy.signal import savgol_filter

        out = savgol_filter(X, window_length, polyorder, axis=1)
    return out.astype(X.dtype, copy=False)


def kalpha_doublet(radiation, what: str) -> tuple[float, float, float, str]:
    """(λ1, λ2, Kα2/Kα1 ratio, name of the Kα1 line) of a two-line radiation."""
    rad = radiation if isinstance(radiation, Radiation) else get_radiation(radiation)
    if len(rad.wavelengths) != 2:
        raise ValueError(
            f"{what}={rad.name!r} has {len(rad.wavelengths)} line(s): Kα2 stripping "
            "needs a Kα1 + Kα2 doublet such as 'CuKa' or 'MoKa'"
        )
    (l1, l2), (w1, w2) = rad.wavelengths, rad.weights
    if not l2 > l1:
        raise ValueError(f"{what}={rad.name!r}: the second line must be the longer")
    name = rad.name + "1" if rad.name.endswith("Ka") else None
    return l1, l2, w2 / w1, name


def rachinger_strip(u, intensity, factor, ratio):
    """Rachinger's Kα2 stripping on positions ``u`` proportional to sin θ.

    A Kα1 line at ``u1`` brings a Kα2 line ``ratio`` times as strong at
    ``u1 / factor`` (``factor = λ1 / λ2 < 1`` for ``u = sin θ`` or ``u = Q``
    computed with λ1). Working up the pattern, the Kα1 intensity at ``u`` is
    the measured one less ``ratio`` times the Kα1 intensity already found at
    ``factor * u`` (linear interpolation; at low angles, where the doublet is
    less than a grid step apart, the interpolation involves the point itself
    and is solved for it). Points whose source lies below the first point
    (and a point at 2θ = 0, where both lines fall) become ``1 / (1 + ratio)``
    of their intensity: the Kα1 intensity is taken
    as constant over the doublet's split there, which is exact on the smooth
    background where scans begin.

    ``intensity`` is (n_points,) or (n_rows, n_points) on the shared ``u``;
    the result has its shape and dtype (computed in float64).
    """
    u = np.asarray(u, dtype=float)
    values = np.array(intensity, dtype=np.float64, ndmin=2, copy=True)
    if len(u) < 2:  # one point: its Kα2 source lies below it, nothing to strip
        dtype = getattr(intensity, "dtype", np.float64)
        return values.reshape(np.shape(intensity)).astype(
            dtype if dtype in FLOAT_DTYPES else np.float64, copy=False
        )
    source = u * factor
    j = np.searchsorted(u, source, side="right") - 1  # u[j] <= source < u[j + 1]
    valid = (j >= 0) & (source < u)  # u = 0 (2θ = 0) is its own source
    jc = np.clip(j, 0, len(u) - 2)
    t = np.where(valid, (source - u[jc]) / (u[jc + 1] - u[jc]), 0.0)
    n = len(u)
    # Kα2 from below the scan: keeping these points' intensity kept their Kα2
    # (1.5 times a flat background), and the points that take their Kα2 from
    # them then swung around the background (0.75, 1.125, ... times it) for
    # up to 0.3° 2θ, the largest error of most stripped patterns
    # (and a point at 2θ = 0, its own source: both lines fall on it)
    below = (source < u[0]) | (source >= u)
    values[:, below] /= 1.0 + ratio
    i0 = int(np.argmax(valid)) if valid.any() else n
    while i0 < n:
        # points whose sources lie wholly before i0 are final: one vector step
        i1 = int(np.searchsorted(j, i0 - 1, side="left"))
        if i1 > i0:
            js, ts = jc[i0:i1], t[i0:i1]
            values[:, i0:i1] -= ratio * (
                (1 - ts) * values[:, js] + ts * values[:, js + 1]
            )
            i0 = i1
        else:  # the source interval ends at i0 itself: solve for it
            values[:, i0] = (
                values[:, i0] - ratio * (1 - t[i0]) * values[:, jc[i0]]
            ) / (1 + ratio * t[i0])
            i0 += 1
    out = values.reshape(np.shape(intensity))
    dtype = getattr(intensity, "dtype", np.float64)
    return out.astype(dtype if dtype in FLOAT_DTYPES else np.float64, copy=False)


def resample_patterns(s, patterns) -> np.ndarray:
    """:class:`~skxrd.io.Pattern` objects on the grid of ``s`` (a
    :class:`_Settings`), float64; uncovered points reported as ``s`` says."""
    out = np.empty((len(patterns), len(s.grid)))
    gaps = []
    _warn_other_probe(s, patterns)
    for i, p in enumerate(patterns):
        pos = p.two_theta_at(s.wavelength)
        ok = np.isfinite(pos)
        y = p.intensity
        if s.kalpha2 == "auto" and _foreign_doublet(p.radiation, s.lines):
            y = _stripped(p)
        xs, ys = pos[ok], y[ok]
        covered = _covered(s.grid, pos)
        if xs.size:
            out[i] = np.interp(s.grid, xs, ys)
            if s.method == "average":
                _average_finer(s.grid, xs, ys[None], out[i : i + 1])
        if not covered.all():
            out[i, ~covered] = s.fill_value
            label = f"pattern {i}" + (f" ({p.name!r})" if p.name else "")
            gaps.append((label, covered, pos))
    if gaps:
        s.report(gaps)
    return out


def _warn_other_probe(s, patterns) -> None:
    """A UserWarning naming the patterns of another probe than the model's
    (neutron patterns for a model of a named X-ray line such as ``"CuKa"``).

    Their peaks fall where the model expects them, but their intensities do
    not (no form-factor fall-off, other scattering lengths, no polarization):
    the model answers them, and the answer may be wrong. Said only where both
    kinds are known: a model of a bare wavelength may be either.
    """
    kind = getattr(s, "kind", None)
    if kind is None:
        return
    other = [
        f"pattern {i}" + (f" ({p.name!r})" if p.name else "")
        for i, p in enumerate(patterns)
        if p.radiation is not None and p.radiation.kind != kind
    ]
    if not other:
        return
    shown = ", ".join(other[:_MAX_LISTED])
    if len(other) > _MAX_LISTED:
        shown += f" and {len(other) - _MAX_LISTED} more"
    probe = {"xray": "X-ray", "neutron": "neutron"}
    theirs = "neutron" if kind == "xray" else "X-ray"
    warnings.warn(
        f"{shown}: {theirs} pattern(s) given to a model of {probe[kind]} patterns "
        f"({s.radiation_name}); their peak positions are converted, but their relative "
        "intensities differ from what the model was trained on, so its answer "
        "may be wrong",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


#: how closely (Å) two wavelengths must agree to be one line: a pattern's and
#: a named radiation's Kα1, or a pattern's doublet and the model's
WAVELENGTH_TOL = 1e-4


def _foreign_doublet(radiation, lines) -> bool:
    """Whether a pattern of ``radiation`` (a Radiation or None) is a Kα1 + Kα2
    doublet other than the model's ``lines`` (its wavelengths in Å)."""
    if radiation is None or len(radiation.wavelengths) != 2:
        return False
    own = np.asarray(radiation.wavelengths, dtype=float)
    return len(lines) != 2 or not np.allclose(own, lines, rtol=0, atol=WAVELENGTH_TOL)


def stripped_intensity(pattern, l1, l2, ratio) -> np.ndarray:
    """The intensities of a :class:`~skxrd.io.Pattern` with the Kα2 line of
    the doublet ``l1``, ``l2`` (Å; Kα2 ``ratio`` times Kα1) stripped."""
    # Q computed with λ1 is proportional to sin θ: either axis works as is
    u = pattern.x if pattern.axis == "q" else np.sin(np.radians(pattern.x) / 2)
    return rachinger_strip(u, pattern.intensity, l1 / l2, ratio)


def _stripped(pattern) -> np.ndarray:
    """:func:`stripped_intensity` with the pattern's own radiation's doublet."""
    l1, l2, ratio, _ = kalpha_doublet(pattern.radiation, "radiation")
    return stripped_intensity(pattern, l1, l2, ratio)


#: what :class:`PatternResampler` does with the Kα2 line of another doublet
KALPHA2_MODES = ("auto", "keep")
RESAMPLE_METHODS = ("average", "linear")
#: the beams of one wavelength that ``source_radiation`` names
_BEAM_KINDS = ("xray", "x-ray", "neutron")


def _is_number(value) -> bool:
    """A real number (numpy scalars too), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


class _Settings:
    """Validated parameters of a :class:`PatternResampler`."""

    def __init__(self, est):
        self.grid = make_grid(est.two_theta, "two_theta")
        self.wavelength = _wavelength(est.wavelength, "wavelength")
        # the model's lines: its radiation's, or the one wavelength given
        _, rad = resolve_wavelength(est.wavelength, None)
        self.lines = (self.wavelength,) if rad is None else tuple(rad.wavelengths)
        # the model's probe, where a radiation was named ("CuKa": X-ray); a
        # bare wavelength may be a neutron model's (build_pipeline)
        self.kind = None if rad is None else rad.kind
        self.radiation_name = None if rad is None else rad.name
        # model files written before the parameter lack it: "auto"
        self.kalpha2 = getattr(est, "kalpha2", "auto")
        if self.kalpha2 not in KALPHA2_MODES:
            raise ValueError(
                f"kalpha2 must be one of {KALPHA2_MODES}, got {self.kalpha2!r}"
            )
        # model files written before the parameter resampled linearly
        self.method = getattr(est, "method", "linear")
        if self.method not in RESAMPLE_METHODS:
            raise ValueError(
                f"method must be one of {RESAMPLE_METHODS}, got {self.method!r}"
            )
        if est.out_of_range not in ("fill", "error"):
            raise ValueError(
                f"out_of_range must be 'fill' or 'error', got {est.out_of_range!r}"
            )
        self.out_of_range = est.out_of_range
        self.fill_value = check_real(est.fill_value, "fill_value")
        if est.source_axis not in AXES:
            raise ValueError(
                f"source_axis must be 'two_theta' or 'q', got {est.source_axis!r}"
            )
        self.source_axis = est.source_axis
        is_q = self.source_axis == "q"
        if est.source_grid is not None and est.source_range is not None:
            raise ValueError("give source_grid or source_range, not both")
        if is_q and est.source_wavelength is not None:
            raise ValueError(
                "source_wavelength has no meaning for a Q axis (source_axis='q')"
            )
        no_source = est.source_grid is None and est.source_range is None
        if is_q and no_source:
            raise ValueError("source_axis='q' needs source_grid or source_range")
        if no_source and est.source_wavelength is not None:
            raise ValueError(
                "source_wavelength needs source_grid or source_range (without them "
                "array columns are at the model grid's 2θ at the model's wavelength)"
            )
        # model files written before the parameter lack it: None
        kind = getattr(est, "source_radiation", None)
        source = est.source_wavelength
        if kind is not None:
            if not isinstance(kind, str) or kind.strip().lower() not in _BEAM_KINDS:
                raise ValueError(
                    f"source_radiation must be None, 'xray' or 'neutron', got {kind!r}"
                )
            if not _is_number(source):
                raise ValueError(
                    f"source_radiation={kind!r} needs source_wavelength in Å (a "
                    f"number), got source_wavelength={source!r}"
                )
        # a number that states an anode's Kα1/Kα2 weighted mean (1.5418 Å) is
        # that doublet, as a Pattern of that wavelength is (kalpha_mean_anode):
        # read as one line of 1.5418 Å, the columns were put 0.08 % off the
        # Kα1 positions a Cu Kα model learnt, and an array gave another answer
        # than the same measurement as a Pattern
        self.stated_source, self.source_mean_of = source, None
        if kind is None and not is_q:
            self.source_mean_of = kalpha_mean_anode(source)
            if self.source_mean_of is not None:
                source = self.source_mean_of
        self.source_wavelength = (
            self.wavelength
            if source is None
            else _wavelength(source, "source_wavelength")
        )
        # array columns of another named doublet ("MoKa" for a "CuKa" model)
        # get their Kα2 stripped, as patterns of that radiation do: they were
        # resampled with their Kα2 lines, and the same measurement gave
        # another answer as an array than as a Pattern
        source_rad = None
        if source is not None and not is_q:
            _, source_rad = resolve_wavelength(source, kind)
        self.source_radiation = source_rad
        self.strip_source = self.kalpha2 == "auto" and _foreign_doublet(
            source_rad, self.lines
        )
        upper = None if is_q else 180.0
        self.source_grid = None
        if est.source_grid is not None:
            self.source_grid = make_grid(est.source_grid, "source_grid", upper=upper)
        self.source_range = None
        if est.source_range is not None:
            pair = est.source_range
            if isinstance(pair, str) or not hasattr(pair, "__len__") or len(pair) != 2:
                raise ValueError(
                    f"source_range must be (first, last), got {est.source_range!r}"
                )
            lo, hi = (check_real(v, "source_range") for v in pair)
            if not (0 <= lo < hi and (upper is None or hi <= upper)):
                raise ValueError(
                    "source_range must have 0 <= first < last"
                    + ("" if upper is None else " <= 180")
                    + f", got {est.source_range!r}"
                )
            self.source_range = (lo, hi)
        self.passthrough = no_source

    def warn_source_mean(self) -> None:
        """The UserWarning that ``source_wavelength`` (a number) was read as
        the Kα1/Kα2 doublet whose weighted mean it states; nothing otherwise.

        Said once per ``fit`` or ``transform`` of array input (the rows share
        the one source wavelength), as :class:`~skxrd.io.Pattern` says it
        once per pattern."""
        anode = self.source_mean_of
        if anode is None:
            return
        warnings.warn(
            f"source_wavelength {self.stated_source:g} Å is the {anode[:-2]} "
            f"Kα1/Kα2 weighted mean: the array columns are read as the {anode!r} "
            f"doublet (Kα1 {self.source_wavelength:.5f} Å); for a monochromatic "
            "beam of that wavelength give source_radiation='xray'",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )

    def source_positions(self, n_features: int) -> np.ndarray:
        """Model-wavelength 2θ of ``n_features`` array columns (NaN if unreachable)."""
        x = self.source_columns(n_features)
        if self.source_axis == "q":
            return q_to_two_theta(x, self.wavelength)
        if self.source_wavelength == self.wavelength:
            return np.array(x, dtype=float)
        return q_to_two_theta(_tt_to_q(x, self.source_wavelength), self.wavelength)

    def strip_source_kalpha2(self, X: np.ndarray) -> np.ndarray:
        """Rows of ``X`` (columns on the source grid) with the Kα2 line of the
        ``source_wavelength`` doublet stripped (Rachinger), in ``X``'s dtype."""
        x = self.source_columns(X.shape[1])
        l1, l2, ratio, _ = kalpha_doublet(self.source_radiation, "source_wavelength")
        return rachinger_strip(np.sin(np.radians(x) / 2), X, l1 / l2, ratio)

    def source_columns(self, n_features: int) -> np.ndarray:
        """Positions of ``n_features`` array columns on the source axis."""
        if self.source_grid is not None:
            x = self.source_grid
            if n_features != len(x):
                raise ValueError(
                    f"X has {n_features} features but source_grid has {len(x)} points"
                )
        elif self.source_range is not None:
            if n_features < 2:
                raise ValueError(
                    f"source_range needs at least 2 columns, got n_features = "
                    f"{n_features}"
                )
            x = np.linspace(*self.source_range, n_features)
        else:
            x = self.grid
            if n_features != len(x):
                raise ValueError(
                    f"X has {n_features} features but the model grid has {len(x)} "
                    "points (n_features = "
                    f"{n_features}); pass source_grid or source_range to resample "
                    "arrays on another grid, or a list of Pattern objects"
                )
        return x

    def report(self, gaps) -> None:
        """Warn about (or raise for) uncovered model-grid points."""
        # patterns with the same gap are reported together, not one by one
        groups = {}
        for label, covered, pos in gaps:
            groups.setdefault(_describe(self.grid, covered, pos), []).append(label)
        lines = []
        for text, labels in list(groups.items())[:_MAX_LISTED]:
            if len(labels) == 1:
                who = labels[0]
            else:
                shown = ", ".join(labels[:2]) + (", ..." if len(labels) > 2 else "")
                who = f"{len(labels)} patterns ({shown})"
            lines.append(f"{who}: {text}")
        if len(groups) > _MAX_LISTED:
            rest = sum(len(v) for v in list(groups.values())[_MAX_LISTED:])
            lines.append(f"... and {rest} more patterns")
        where = (
            f"the model grid {self.grid[0]:.3f}–{self.grid[-1]:.3f}° 2θ at "
            f"{self.wavelength:g} Å"
        )
        if self.out_of_range == "error":
            raise ValueError(
                f"the measurement does not cover {where} (out_of_range='error'); "
                + "; ".join(lines)
                + ". Measure a wider range, use a smaller model grid, or set "
                "out_of_range='fill'"
            )
        warnings.warn(
            f"the measurement does not cover {where}; points not covered were set "
            f"to fill_value={self.fill_value:g}: " + "; ".join(lines),
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def _wavelength(value, what: str) -> float:
    if value is None:
        raise ValueError(f"{what} is required (a name such as 'CuKa' or Å)")
    try:
        lam, _ = resolve_wavelength(value, None)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    return lam


def _covered(grid: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Which grid points lie within the finite range of ``pos`` (increasing).

    Points less than half a grid step beyond the measured range count as
    covered (they take the end value): a pattern on the model's own grid at a
    slightly different wavelength (1.5406 Å for Cu Kα1's 1.5405929 Å) is not
    missing its last point.
    """
    finite = pos[np.isfinite(pos)]
    if finite.size == 0:
        return np.zeros(grid.shape, dtype=bool)
    tol = _TOL
    if len(grid) > 1:
        tol = max(tol, 0.5 * float(np.min(np.abs(np.diff(grid)))))
    return (grid >= finite[0] - tol) & (grid <= finite[-1] + tol)


def _interp_shared(grid, pos, X, method="linear"):
    """Linear interpolation of all rows of ``X`` (columns at ``pos``) at
    ``grid``; with ``method="average"``, means over the grid's steps where the
    columns are finer (:func:`_average_finer`)."""
    cols = np.flatnonzero(np.isfinite(pos))
    p = pos[cols]
    covered = _covered(grid, pos)
    out = np.empty((X.shape[0], len(grid)))
    if p.size == 0:
        return out, covered
    if p.size == 1:
        out[:] = X[:, cols[:1]]
        return out, covered
    j = np.clip(np.searchsorted(p, grid, side="right") - 1, 0, p.size - 2)
    w = np.clip((grid - p[j]) / (p[j + 1] - p[j]), 0.0, 1.0)
    left, right = X[:, cols[j]], X[:, cols[j + 1]]
    np.multiply(left, 1.0 - w, out=out)
    out += right * w
    if method == "average":
        _average_finer(grid, p, X[:, cols], out)
    return out, covered


# the model's step over the measured one from which a scan counts as finer
_FINER = 1.01


def _average_finer(grid, p, Y, out):
    """Where the measurement's steps are finer than the grid's, put in ``out``
    the mean of the measurement over each grid point's step.

    Each measured point stands for its own step (edges halfway to its
    neighbours), as a detector step records the counts over it; a grid point
    takes the overlap-weighted mean of those steps across its own step (the
    flux-conserving rebinning of spectra). Point-sampling a finer scan used
    one point in two (0.01° onto 0.02°) or three and dropped the counts of
    the others: its noise was not averaged down, and a line narrower than
    the model's step was caught or missed by where it fell. Where the
    measurement's steps are as wide as the grid's or wider, the linear
    interpolation already in ``out`` stays: over one measured step the mean
    is that interpolation.

    Parameters
    ----------
    grid : ndarray of shape (n_grid,)
        Increasing grid positions.
    p : ndarray of shape (n_points,)
        Increasing measured positions (finite), in the grid's unit.
    Y : ndarray of shape (n_samples, n_points)
        Measured values at ``p``.
    out : ndarray of shape (n_samples, n_grid)
        The linear interpolation of ``Y`` at ``grid``, changed in place.
    """
    if p.size < 2 or grid.size < 2:
        return
    mid = 0.5 * (p[1:] + p[:-1])
    edges = np.concatenate(([p[0] - (mid[0] - p[0])], mid, [p[-1] + (p[-1] - mid[-1])]))
    width = np.diff(edges)
    # the grid's step at each point, and the measured step it falls in
    step = np.gradient(grid)
    k = np.clip(np.searchsorted(edges, grid, side="right") - 1, 0, p.size - 1)
    # steps within a per cent of the grid's (the model's own grid at a
    # slightly other wavelength) are not finer: interpolated, as before
    finer = step > _FINER * width[k]
    if not finer.any():
        return
    g = grid[finer]
    # a step that runs past the measured ends is narrowed about its point,
    # so that a slope's value stays that at the point
    half = np.minimum(0.5 * step[finer], np.minimum(g - edges[0], edges[-1] - g))
    keep = half > 0
    cols = np.flatnonzero(finer)[keep]
    a, b = g[keep] - half[keep], g[keep] + half[keep]
    span = b - a
    Y = np.asarray(Y, dtype=float)
    # the integral of the steps from the first edge, at every edge ...
    total = np.zeros((Y.shape[0], p.size + 1))
    np.cumsum(Y * width, axis=1, out=total[:, 1:])

    def integral(x):
        # ... and anywhere between two edges (the step's value times the way in)
        j = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, p.size - 1)
        return total[:, j] + Y[:, j] * (x - edges[j])

    out[:, cols] = (integral(b) - integral(a)) / span


def _array_label(n_samples: int) -> str:
    return f"all {n_samples} samples" if n_samples > 1 else "sample 0"


def _describe(grid, covered, pos) -> str:
    """``5.000–9.980° 2θ not covered (measured 10.0–60.0° ...)``."""
    finite = pos[np.isfinite(pos)]
    measured = (
        f"the measurement spans {finite[0]:.3f}–{finite[-1]:.3f}° 2θ at the model "
        "wavelength"
        if finite.size
        else "the measurement lies beyond the reach of the model wavelength"
    )
    if not covered.any():
        return f"no overlap with the model grid ({measured})"
    runs = []
    missing = np.flatnonzero(~covered)
    breaks = np.flatnonzero(np.diff(missing) > 1)
    starts = np.r_[missing[0], missing[breaks + 1]]
    stops = np.r_[missing[breaks], missing[-1]]
    for a, b in zip(starts, stops):
        runs.append(f"{grid[a]:.3f}–{grid[b]:.3f}°")
    return f"{' and '.join(runs)} 2θ not covered ({measured})"
