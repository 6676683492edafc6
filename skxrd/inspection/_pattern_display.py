"""PatternDisplay: patterns stacked on a common 2θ or Q axis, with peak ticks.

In scikit-learn's display style: the constructor stores the data, ``plot``
draws it and sets the fitted attributes (``ax_``, ``figure_``, ...), and
class methods build a display from patterns. matplotlib is imported only when
something is drawn.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..io._pattern import AXES, Pattern, as_patterns, q_to_two_theta, resolve_wavelength

__all__ = ["PatternDisplay"]


# peak ticks under a pattern: from -_TICK_LOW to -_TICK_HIGH of the largest
# plotted intensity below the pattern's baseline
_TICK_LOW, _TICK_HIGH = 0.08, 0.02
_Q_LABEL = "Q (Å⁻¹)"


def _two_theta_label(wavelength) -> str:
    if wavelength is None:
        return "2θ (degrees)"
    return f"2θ (degrees, λ = {wavelength:.5g} Å)"


def _checked_wavelength(wavelength, what="wavelength") -> float | None:
    """The wavelength in Å of a value or a radiation name (None stays None)."""
    if wavelength is None:
        return None
    try:
        lam, _ = resolve_wavelength(wavelength, None)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what} must be a wavelength in Å or a radiation name such as "
            f"'CuKa', got {wavelength!r} ({exc})"
        ) from None
    return lam


def _pattern_items(patterns, what="patterns") -> list[Pattern] | None:
    """The Pattern objects of ``patterns``, or None for array-like input."""
    return as_patterns(patterns, what, error=ValueError)


def _is_peak_list(value) -> bool:
    """A :class:`~skxrd.simulation.PeakList` (or anything with d and 2θ)."""
    return hasattr(value, "d") and hasattr(value, "two_theta")


def _peak_positions(value, axis, wavelength) -> np.ndarray:
    """Positions of one set of peaks on the plotted axis."""
    if _is_peak_list(value):
        d = np.asarray(value.d, dtype=float)
        q = 2.0 * np.pi / d
        if axis == "q":
            return q
        if wavelength is None:
            return np.asarray(value.two_theta, dtype=float)
        positions = q_to_two_theta(q, wavelength)
        return positions[np.isfinite(positions)]
    try:
        positions = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            "peaks must hold numbers (positions on the plotted axis) or PeakList "
            f"objects, got {value!r}"
        ) from None
    if positions.ndim > 1:
        raise ValueError(
            f"peaks must be 1D positions for each pattern, got shape {positions.shape}"
        )
    if not np.isfinite(positions).all():
        raise ValueError("peaks contains NaN or infinity")
    return positions.reshape(-1)


def _peak_sets(peaks, n, axis, wavelength) -> list:
    """One array of positions (or None) per pattern."""
    if peaks is None:
        return [None] * n
    per_pattern = (isinstance(peaks, np.ndarray) and peaks.ndim == 2) or (
        isinstance(peaks, list | tuple)
        and len(peaks) > 0
        and all(p is None or _is_peak_list(p) or np.ndim(p) >= 1 for p in peaks)
    )
    if not per_pattern:
        one = _peak_positions(peaks, axis, wavelength)
        return [one] * n
    if len(peaks) != n:
        raise ValueError(
            f"peaks must be one array of positions for all patterns, or a list of "
            f"{n} (one per pattern); got a list of {len(peaks)}"
        )
    return [None if p is None else _peak_positions(p, axis, wavelength) for p in peaks]


def _per_pattern(values, n, what) -> list:
    """``values`` (None, a string, or one item per pattern) as a list of ``n``."""
    if values is None:
        return [None] * n
    if isinstance(values, str):
        values = [values]
    try:
        values = list(values)
    except TypeError:
        values = None
    if values is None or len(values) != n:
        raise ValueError(
            f"{what} must hold one string per pattern ({n}), got {values!r}"
        )
    return [None if v is None else str(v) for v in values]


class PatternDisplay:
    """One or several diffraction patterns, stacked, with optional peak ticks.

    Build it from the patterns and call :meth:`plot`, or use
    :meth:`from_patterns`. :class:`~skxrd.io.Pattern` objects are drawn on a
    common physical axis: 2θ at one wavelength (a pattern measured at another
    wavelength is converted through Q by Bragg's law), or Q. Arrays are drawn
    over ``x_axis`` (the point index when None).

    Parameters
    ----------
    patterns : Pattern, list of Pattern, or array-like of shape (n_points,) \
or (n_patterns, n_points)
        The patterns: Pattern objects (each on its own grid, axis and
        wavelength), or intensities, one row per pattern, on a shared grid.
    x_axis : array-like of shape (n_points,), default=None
        Positions of the columns of array patterns, in the units of ``axis``;
        the point index when None. Not for Pattern objects, which carry their
        own positions.
    labels : str or list of str, default=None
        Legend label of each pattern; by default the patterns' names (no
        legend for unnamed patterns).
    axis : {"two_theta", "q"}, default="two_theta"
        The plotted axis: 2θ in degrees at ``wavelength``, or Q = 4π sin θ / λ
        in Å⁻¹. For arrays, only the meaning of ``x_axis`` (its label).
    wavelength : float or str, default=None
        Wavelength (Å, or a radiation name such as ``"CuKa"``) of the 2θ
        axis. None: the patterns' own wavelength, which must then be the same
        for all of them. For arrays, only shown in the axis label.
    offset : float, default=None
        Vertical offset between stacked patterns (pattern ``i`` is drawn at
        ``i * offset``). None: 0 for one pattern, else 1.1 times the largest
        plotted intensity (1.1 when normalized).

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        The patterns, in input order.
    offsets_ : ndarray of shape (n_patterns,)
        The baseline of each pattern.
    peak_lines_ : list of matplotlib LineCollection
        The peak ticks, one collection per pattern that has peaks.
    ax_ : matplotlib Axes
        The axes.
    figure_ : matplotlib Figure
        The figure.

    See Also
    --------
    skxrd.io.Pattern : A pattern with its axis and wavelength.
    skxrd.simulation.PowderSimulator.peaks : Reference peaks of a structure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from skxrd.inspection import PatternDisplay
    >>> from skxrd.io import Pattern
    >>> tt = np.linspace(10, 60, 501)
    >>> cu = Pattern(tt, np.exp(-(((tt - 30) / 0.2) ** 2)), wavelength="CuKa",
    ...              name="Cu Kα")
    >>> mo = Pattern(tt, np.exp(-(((tt - 14) / 0.1) ** 2)), wavelength="MoKa",
    ...              name="Mo Kα")
    >>> display = PatternDisplay([cu, mo], wavelength="CuKa").plot(peaks=[30.0])
    >>> display.ax_.get_xlabel()
    '2θ (degrees, λ = 1.5406 Å)'
    >>> len(display.lines_), display.offsets_.tolist()
    (2, [0.0, 1.1])
    >>> line = display.lines_[1]          # Mo Kα, converted to Cu Kα
    >>> round(float(line.get_xdata()[line.get_ydata().argmax()]), 1)
    30.7
    >>> plt.close(display.figure_)
    """

    def __init__(
        self,
        patterns,
        *,
        x_axis=None,
        labels=None,
        axis="two_theta",
        wavelength=None,
        offset=None,
    ):
        self.patterns = patterns
        self.x_axis = x_axis
        self.labels = labels
        self.axis = axis
        self.wavelength = wavelength
        self.offset = offset

    def _rows(self):
        """(positions, intensities, names, x label, 2θ wavelength) of each row."""
        if self.axis not in AXES:
            raise ValueError(f"axis must be 'two_theta' or 'q', got {self.axis!r}")
        items = _pattern_items(self.patterns)
        if items is None:
            return self._array_rows()
        if self.x_axis is not None:
            raise ValueError(
                "x_axis is only for array patterns: a Pattern carries its own positions"
            )
        names = [p.name for p in items]
        ys = [np.asarray(p.intensity, dtype=float) for p in items]
        if self.axis == "q":
            xs = [p.q for p in items]
            return xs, ys, names, _Q_LABEL, None
        lam = _checked_wavelength(self.wavelength)
        if lam is None:
            own = [p.wavelength for p in items]
            for i, value in enumerate(own):
                if value is None:
                    name = f" ({items[i].name!r})" if items[i].name else ""
                    raise ValueError(
                        f"pattern {i}{name} is on a Q axis without a wavelength: "
                        "pass wavelength= to plot it in 2θ, or axis='q'"
                    )
            if any(not math.isclose(v, own[0], rel_tol=1e-6) for v in own):
                listed = ", ".join(f"{v:g} Å" for v in sorted(set(own)))
                raise ValueError(
                    f"the patterns have different wavelengths ({listed}): pass "
                    "wavelength= to plot them all in 2θ at one wavelength, or "
                    "axis='q'"
                )
            lam = own[0]
        xs = []
        for i, p in enumerate(items):
            x = p.two_theta_at(lam)
            keep = np.isfinite(x)  # points beyond the reach of the wavelength
            xs.append(x[keep])
            ys[i] = ys[i][keep]
        return xs, ys, names, _two_theta_label(lam), lam

    def _array_rows(self):
        try:
            rows = np.asarray(self.patterns, dtype=float)
        except (TypeError, ValueError):
            rows = None
        if rows is None or rows.ndim not in (1, 2) or rows.size == 0:
            got = type(self.patterns).__name__ if rows is None else rows.shape
            raise ValueError(
                "patterns must be a Pattern, a list of Pattern, or a non-empty 1D "
                f"or 2D array of intensities (one row per pattern); got {got}"
            )
        if not np.isfinite(rows).all():
            raise ValueError("patterns contains NaN or infinity")
        rows = rows.reshape(-1, rows.shape[-1])
        n_points = rows.shape[1]
        if self.x_axis is None:
            x, xlabel = np.arange(n_points, dtype=float), "Point index"
        else:
            try:
                x = np.asarray(self.x_axis, dtype=float)
            except (TypeError, ValueError):
                x = np.asarray([])
            if x.shape != (n_points,) or not np.isfinite(x).all():
                raise ValueError(
                    f"x_axis must hold one finite position per point ({n_points}), "
                    f"got shape {x.shape}"
                )
            xlabel = None
        lam = _checked_wavelength(self.wavelength)
        if xlabel is None:
            xlabel = _Q_LABEL if self.axis == "q" else _two_theta_label(lam)
        names = [None] * len(rows)
        return [x] * len(rows), list(rows), names, xlabel, lam

    def plot(
        self,
        ax=None,
        *,
        normalize=True,
        peaks=None,
        peak_labels=None,
        title=None,
        **line_kw,
    ) -> PatternDisplay:
        """Draw the patterns, stacked with ``offset``, and their peak ticks.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None. On Axes that already hold
            data (an earlier plot) the x range is widened to show both.
        normalize : bool, default=True
            Divide each pattern by its largest absolute intensity. The y ticks
            are hidden when several patterns are stacked with an offset.
        peaks : array-like, PeakList, or list of them, default=None
            Peak positions drawn as short vertical ticks just under each
            pattern, in the units of the plotted axis: one array for all
            patterns, or a list with one array (or None) per pattern, e.g. the
            reference peaks of candidate phases. A
            :class:`~skxrd.simulation.PeakList` is converted to the plotted
            axis through its d-spacings. Ticks outside the plotted range are
            left out.
        peak_labels : str or list of str, default=None
            Legend label of the ticks: one string (for the first set), or one
            per pattern.
        title : str, default=None
            Title of the axes.
        **line_kw : dict
            Passed to :meth:`matplotlib.axes.Axes.plot` for every pattern
            (e.g. ``lw``, ``color``).

        Returns
        -------
        PatternDisplay
            ``self``, with the attributes set.

        Raises
        ------
        ValueError
            For bad patterns, ``axis``, ``x_axis``, ``offset``, ``labels`` or
            ``peaks``, and for Pattern objects of different wavelengths
            plotted in 2θ without ``wavelength``.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from skxrd.inspection import PatternDisplay
        >>> X = np.random.default_rng(0).random((3, 20))
        >>> display = PatternDisplay(X, x_axis=np.arange(10, 30), offset=2).plot(
        ...     peaks=[[12.0, 20.0], None, [15.0]], peak_labels=["A", None, "B"]
        ... )
        >>> display.offsets_.tolist(), len(display.peak_lines_)
        ([0.0, 2.0, 4.0], 2)
        >>> plt.close(display.figure_)
        """
        import matplotlib.pyplot as plt

        xs, ys, names, xlabel, lam = self._rows()
        n = len(ys)
        if normalize:
            scaled = []
            for y in ys:
                top = float(np.max(np.abs(y))) if y.size else 0.0
                scaled.append(y / top if top > 0 else y)
            ys = scaled
        labels = _per_pattern(self.labels, n, "labels")
        if self.labels is None:
            labels = names
        scale = max((float(np.max(np.abs(y))) for y in ys if y.size), default=0.0)
        scale = scale or 1.0
        offset = self.offset
        if offset is None:
            offset = 0.0 if n == 1 else 1.1 * scale
        elif (
            isinstance(offset, bool)
            or not isinstance(offset, numbers.Real)
            or not math.isfinite(offset)
        ):
            raise ValueError(f"offset must be a finite number or None, got {offset!r}")
        peak_sets = _peak_sets(peaks, n, self.axis, lam)
        if isinstance(peak_labels, str):  # one label for the first set of ticks
            tick_labels = [None] * n
            first = next((i for i, p in enumerate(peak_sets) if p is not None), None)
            if first is not None:
                tick_labels[first] = peak_labels
        else:
            tick_labels = _per_pattern(peak_labels, n, "peak_labels")

        if ax is None:
            _, ax = plt.subplots()
        elif not hasattr(ax, "plot"):
            raise ValueError(f"ax must be one matplotlib Axes, got {ax!r}")
        # the x range already shown on a reused Axes, kept below
        shown = ax.get_xlim() if ax.has_data() else None
        self.offsets_ = float(offset) * np.arange(n, dtype=float)
        self.lines_, self.peak_lines_ = [], []
        for i, (x, y) in enumerate(zip(xs, ys)):
            kw = {"lw": 1}
            if n == 1:
                kw["color"] = "k"
            if labels[i] is not None:
                kw["label"] = labels[i]
            kw.update(line_kw)
            (line,) = ax.plot(x, y + self.offsets_[i], **kw)
            self.lines_.append(line)
        finite = [x for x in xs if x.size]
        lo = min((float(x.min()) for x in finite), default=0.0)
        hi = max((float(x.max()) for x in finite), default=1.0)
        for i, positions in enumerate(peak_sets):
            if positions is None:
                continue
            positions = positions[(positions >= lo) & (positions <= hi)]
            base = self.offsets_[i]
            kw = {"colors": self.lines_[i].get_color(), "lw": 1}
            if tick_labels[i] is not None:
                kw["label"] = tick_labels[i]
            self.peak_lines_.append(
                ax.vlines(
                    positions, base - _TICK_LOW * scale, base - _TICK_HIGH * scale, **kw
                )
            )
        if shown is not None:
            # a second plot on the same Axes widens the range: setting it to
            # this plot's alone would cut the first one's patterns off
            lo, hi = min(lo, *shown), max(hi, *shown)
        if hi > lo:
            ax.set_xlim(lo, hi)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Normalized intensity" if normalize else "Intensity")
        if n > 1 and offset:
            ax.set_yticks([])  # offsets make the values meaningless
        if any(label is not None for label in labels + tick_labels):
            ax.legend()
        if title is not None:
            ax.set_title(title)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_patterns(
        cls,
        patterns,
        *,
        x_axis=None,
        labels=None,
        axis="two_theta",
        wavelength=None,
        offset=None,
        ax=None,
        **plot_kw,
    ) -> PatternDisplay:
        """Plot patterns in one call.

        Parameters
        ----------
        patterns : Pattern, list of Pattern, or array-like
            The patterns (see :class:`PatternDisplay`).
        x_axis, labels, axis, wavelength, offset
            As in :class:`PatternDisplay`.
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        **plot_kw : dict
            Passed to :meth:`plot` (``normalize``, ``peaks``, ``peak_labels``,
            ``title``, and line keywords).

        Returns
        -------
        PatternDisplay
            The display, plotted.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from skxrd.inspection import PatternDisplay
        >>> from skxrd.io import Pattern
        >>> p = Pattern([10.0, 20.0, 30.0], [1.0, 4.0, 2.0], wavelength=1.5406)
        >>> display = PatternDisplay.from_patterns(p, axis="q", title="Q")
        >>> display.ax_.get_xlabel(), display.lines_[0].get_ydata().tolist()
        ('Q (Å⁻¹)', [0.25, 1.0, 0.5])
        >>> plt.close(display.figure_)
        """
        display = cls(
            patterns,
            x_axis=x_axis,
            labels=labels,
            axis=axis,
            wavelength=wavelength,
            offset=offset,
        )
        return display.plot(ax=ax, **plot_kw)
