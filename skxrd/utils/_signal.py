"""scipy.signal's ``find_peaks`` and ``peak_widths``, for the prediction path.

``skxrd predict`` has 2 s for one file, model loading included, and importing
:mod:`scipy.signal` takes a third of it: its ``__init__`` loads
:mod:`scipy.stats`, :mod:`scipy.interpolate` and :mod:`scipy.optimize` (0.6 s
of a 1.1 s import floor on a 2-core machine, 2026-12-06), of which the input
screening and the powder indexing use two functions. These are the same
algorithms (scipy 1.17's ``_local_maxima_1d``, ``_select_by_peak_distance``,
``_peak_prominences`` and ``_peak_widths``) for the options skxrd passes, in
numpy; the tests compare them with scipy.signal on random, noisy and
plateau-ridden signals, where they agree exactly.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["find_peaks", "peak_widths"]


def _local_maxima(x):
    """Indices of the local maxima of ``x``: the middle (rounded down) of a
    plateau higher than both its neighbours; none at the ends."""
    n = len(x)
    if n < 3:
        return np.zeros(0, np.intp)
    # runs of equal values: [starts[k], ends[k]]
    change = np.flatnonzero(x[1:] != x[:-1]) + 1
    starts = np.r_[0, change]
    ends = np.r_[change - 1, n - 1]
    ok = (starts > 0) & (ends < n - 1)
    starts, ends = starts[ok], ends[ok]
    peak = (x[starts - 1] < x[starts]) & (x[ends + 1] < x[starts])
    return ((starts[peak] + ends[peak]) // 2).astype(np.intp)


class _Blocks:
    """Sparse tables of ``x``: the max, min and position of the min of every
    block ``x[i : i + 2**k]``, for range queries and binary lifting over many
    peaks at once. A measured pattern of 8,500 points has about 2,600 local
    maxima: the peak search and screen of a RRUFF pattern took 40 ms with a
    Python loop over them, 12 ms with these tables (6 ms with scipy's
    compiled loops)."""

    def __init__(self, x):
        self.x = x
        self.n = len(x)
        self.levels = max(int(self.n).bit_length(), 1)
        self._max, self._min, self._left, self._right = [x], [x], None, None

    def _grow(self, tables, combine):
        while len(tables) < self.levels:
            k = len(tables)
            prev, half = tables[-1], 1 << (k - 1)
            tables.append(combine(prev[: len(prev) - half], prev[half:]))
        return tables

    def max(self, k):
        return self._grow(self._max, np.maximum)[k]

    def min(self, k):
        return self._grow(self._min, np.minimum)[k]

    def argmin(self, k, prefer):
        """Position of the min of each block of 2**k, the rightmost or the
        leftmost (``prefer``) among equal ones."""
        name = "_right" if prefer == "right" else "_left"
        if getattr(self, name) is None:
            x = self.x
            if prefer == "right":

                def pick(a, b):
                    return np.where(x[b] <= x[a], b, a)
            else:

                def pick(a, b):
                    return np.where(x[a] <= x[b], a, b)

            setattr(self, name, self._grow([np.arange(self.n)], pick))
        return getattr(self, name)[k]

    def range_argmin(self, lo, hi, prefer):
        """The min's position in each ``x[lo : hi + 1]`` (non-empty)."""
        k = np.floor(np.log2(hi - lo + 1)).astype(int)
        out = np.empty(len(lo), np.intp)
        for level in np.unique(k):
            m = k == level
            table = self.argmin(level, prefer)
            a, b = table[lo[m]], table[hi[m] - (1 << level) + 1]
            x = self.x
            if prefer == "right":
                out[m] = np.where(x[b] <= x[a], b, a)
            else:
                out[m] = np.where(x[a] <= x[b], a, b)
        return out

    def extend_left(self, end, start_min, keep_going):
        """For each query, the smallest ``a >= start_min`` such that
        ``x[a:end]`` is made of blocks that pass ``keep_going(level, block
        starts, query rows)``: binary lifting from ``end`` (exclusive)
        leftwards. ``keep_going`` must hold of a range whenever it holds of
        the blocks that cover it (a max below, or a min above, a bound)."""
        pos = end.copy()
        for k in range(self.levels - 1, -1, -1):
            cand = pos - (1 << k)
            ok = cand >= start_min
            rows = np.flatnonzero(ok)
            if len(rows):
                move = keep_going(k, cand[rows], rows)
                pos[rows[move]] = cand[rows[move]]
        return pos

    def extend_right(self, start, end_max, keep_going):
        """For each query, the largest ``b <= end_max`` such that
        ``x[start:b]`` is made of blocks that pass ``keep_going``: binary
        lifting rightwards."""
        pos = start.copy()
        for k in range(self.levels - 1, -1, -1):
            ok = pos + (1 << k) <= end_max
            rows = np.flatnonzero(ok)
            if len(rows):
                move = keep_going(k, pos[rows], rows)
                pos[rows[move]] += 1 << k
        return pos


def _select_by_distance(peaks, priority, distance):
    """Keep the highest peaks first, dropping those closer than ``distance``
    (scipy's greedy order, in rounds: a peak that is the highest of the peaks
    still open within ``distance`` is kept and closes its neighbours)."""
    distance = math.ceil(distance)
    m = len(peaks)
    rank = np.empty(m, np.intp)
    rank[np.argsort(priority)] = np.arange(m)  # scipy's (unstable) order of ties
    lo = np.searchsorted(peaks, peaks - distance, side="right")
    hi = np.searchsorted(peaks, peaks + distance, side="left") - 1
    keep = np.zeros(m, bool)
    open_ = np.ones(m, bool)
    while open_.any():
        blocks = _Blocks(np.where(open_, rank, -1))
        idx = np.flatnonzero(open_)
        k = np.floor(np.log2(hi[idx] - lo[idx] + 1)).astype(int)
        best = np.empty(len(idx), np.intp)
        for level in np.unique(k):
            sel = k == level
            table = blocks.max(level)
            best[sel] = np.maximum(
                table[lo[idx[sel]]], table[hi[idx[sel]] - (1 << level) + 1]
            )
        winners = idx[best == rank[idx]]
        keep[winners] = True
        open_[winners] = False
        # close the open peaks within distance of a winner
        near = np.zeros(m + 1, np.intp)
        np.add.at(near, lo[winners], 1)
        np.add.at(near, hi[winners] + 1, -1)
        open_ &= np.cumsum(near[:m]) == 0
    return keep


def _prominences(x, peaks, blocks=None):
    """Prominences, left and right bases of ``peaks`` (scipy's, wlen=None):
    the lowest point between the peak and the nearest higher one on each side
    (the nearest the peak among equal lows)."""
    peaks = np.asarray(peaks, np.intp)
    if not len(peaks):
        return np.zeros(0), np.zeros(0, np.intp), np.zeros(0, np.intp)
    blocks = blocks or _Blocks(x)
    top = x[peaks]

    def lower(k, start, rows):
        return blocks.max(k)[start] <= top[rows]

    # x[first:peak] and x[peak + 1:last] hold nothing higher than the peak
    first = blocks.extend_left(peaks, 0, lower)
    last = blocks.extend_right(peaks + 1, len(x), lower)
    left = blocks.range_argmin(first, peaks, "right")
    right = blocks.range_argmin(peaks, last - 1, "left")
    prominences = top - np.maximum(x[left], x[right])
    return prominences, left, right


def _as_signal(x):
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"the signal must be 1-D, got shape {x.shape}")
    return x


def find_peaks(x, *, prominence=None, distance=None):
    """Peaks of a 1-D signal: :func:`scipy.signal.find_peaks` with
    ``prominence`` (a minimum) and ``distance`` (in samples, at least 1).

    Returns the peak indices and a dict with ``prominences``, ``left_bases``
    and ``right_bases`` when ``prominence`` is given.

    >>> import numpy as np
    >>> x = np.array([0, 2, 1, 3, 1, 0, 1.5, 0])
    >>> peaks, props = find_peaks(x, prominence=1.0)
    >>> peaks.tolist(), props["prominences"].tolist()
    ([1, 3, 6], [1.0, 3.0, 1.5])
    """
    x = _as_signal(x)
    peaks = _local_maxima(x)
    properties = {}
    if distance is not None:
        if not distance >= 1:
            raise ValueError(f"distance must be at least 1, got {distance!r}")
        peaks = peaks[_select_by_distance(peaks, x[peaks], distance)]
    if prominence is not None:
        prominences, left, right = _prominences(x, peaks)
        keep = prominences >= prominence
        peaks = peaks[keep]
        properties = {
            "prominences": prominences[keep],
            "left_bases": left[keep],
            "right_bases": right[keep],
        }
    return peaks, properties


def peak_widths(x, peaks, rel_height=0.5, prominence_data=None):
    """Widths of ``peaks`` at ``rel_height`` of their prominence:
    :func:`scipy.signal.peak_widths` (``prominence_data`` as it returns them,
    or computed here). Returns widths, their heights and the interpolated left
    and right positions, in samples.

    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 2.0, 1.0, 0.0])
    >>> [v.tolist() for v in peak_widths(x, [2])]
    [[2.0], [1.0], [1.0], [3.0]]
    """
    x = _as_signal(x)
    peaks = np.asarray(peaks, np.intp)
    if rel_height < 0:
        raise ValueError("`rel_height` must be greater or equal to 0.0")
    if prominence_data is None:
        prominences, left_bases, right_bases = _prominences(x, peaks)
    else:
        prominences, left_bases, right_bases = (np.asarray(a) for a in prominence_data)
    n = len(x)
    i_min = np.asarray(left_bases, np.intp)
    i_max = np.asarray(right_bases, np.intp)
    bad = ~((0 <= i_min) & (i_min <= peaks) & (peaks <= i_max) & (i_max < n))
    if bad.any():
        raise ValueError(f"prominence data is invalid for peak {peaks[np.argmax(bad)]}")
    heights = x[peaks] - np.asarray(prominences, np.float64) * rel_height
    if not len(peaks):
        return np.zeros(0), heights, np.zeros(0), np.zeros(0)
    blocks = _Blocks(x)

    def above(k, start, rows):
        return blocks.min(k)[start] > heights[rows]

    # left: the first point from the peak down that is not above the height
    # (i_min if none); right: the same upwards (i_max if none)
    pos = blocks.extend_left(peaks + 1, i_min + 1, above)
    left = np.where(pos - 1 >= i_min + 1, pos - 1, i_min)
    right = blocks.extend_right(peaks, i_max, above)
    with np.errstate(divide="ignore", invalid="ignore"):
        xl, xr = x[left], x[right]
        left_ips = left.astype(np.float64)
        step = xl < heights
        nxt = np.minimum(left + 1, n - 1)
        left_ips[step] += ((heights - xl) / (x[nxt] - xl))[step]
        right_ips = right.astype(np.float64)
        step = xr < heights
        prv = np.maximum(right - 1, 0)
        right_ips[step] -= ((heights - xr) / (x[prv] - xr))[step]
    widths = right_ips - left_ips
    return widths, heights, left_ips, right_ips
