"""Displays of patterns, of saliency over 2θ, and of crystal-system confusion.

In scikit-learn's display style: the constructor stores the data, ``plot``
draws it and sets the fitted attributes (``ax_``, ``figure_``, ...), and
class methods build a display from patterns, an estimator or predictions.
matplotlib is imported only when something is drawn.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from sklearn.pipeline import Pipeline

from ..crystal import CRYSTAL_SYSTEMS, to_crystal_system
from ..io._pattern import AXES, Pattern, as_patterns, q_to_two_theta, resolve_wavelength
from ..preprocessing._resample import PatternResampler
from ._attribution import _model_dims, _unwrap
from ._display import AttributionDisplay

__all__ = ["CrystalSystemConfusionDisplay", "PatternDisplay", "SaliencyDisplay"]

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
            Where to draw; a new figure when None.
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


# --------------------------------------------------------------------------- #
# Saliency over 2θ
# --------------------------------------------------------------------------- #
def _python(value):
    return value.item() if isinstance(value, np.generic) else value


def _format_top_k(pairs) -> str:
    return ", ".join(f"{label} {p:.2f}" for label, p in pairs)


def _one_sample(X, index):
    """``[Pattern]`` or an array ``(1, ...)``: the sample ``index`` of ``X``."""
    items = _pattern_items(X, "X")
    if items is None:
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError):
            arr = np.asarray(None)
        if arr.ndim < 2:
            raise ValueError(
                "X must hold samples along its first axis, e.g. patterns "
                f"(n_samples, n_points), or be a list of Pattern; got shape "
                f"{arr.shape} (use X[None] for a single pattern)"
            )
    n = len(X) if items is None else len(items)
    if (
        isinstance(index, bool)
        or not isinstance(index, numbers.Integral)
        or not -n <= index < n
    ):
        raise ValueError(
            f"index must be an integer in [{-n}, {n}) selecting one sample of X, "
            f"got {index!r}"
        )
    return [items[index]] if items is not None else arr[index][None]


class SaliencyDisplay(AttributionDisplay):
    """A saliency map over the 2θ axis of a pattern, with the top predictions.

    An :class:`AttributionDisplay` for 1D pattern classifiers: the pattern and
    its attribution map (saliency by default) over 2θ, and the ``top_k`` most
    probable classes with their probabilities in a second title line
    (``"cubic 0.81, tetragonal 0.10, ..."``). :meth:`from_estimator` takes a
    fitted classifier or pipeline and a batch of patterns, arrays or
    :class:`~skxrd.io.Pattern` objects (through a pipeline starting with a
    :class:`~skxrd.preprocessing.PatternResampler`, whose grid becomes the x
    axis).

    Parameters
    ----------
    sample : array-like of shape (L,) or (C, L)
        One pattern, without a sample axis.
    attribution : array-like
        Its attribution map, of the same shape.
    target : object, default=None
        The explained class, shown in the title.
    x_axis : array-like of shape (L,), default=None
        Abscissa of the pattern, e.g. 2θ in degrees; the point index when
        None.
    method : str, default="saliency"
        Name of the attribution method, for the labels.
    dims : {1, None}, default=None
        Kept for the API of :class:`AttributionDisplay`; the sample must be a
        pattern.
    top_k : list of (label, float), default=None
        The most probable classes and their probabilities, most probable
        first, shown under the title.

    Attributes
    ----------
    top_k_ : list of (label, float) or None
        The shown classes and probabilities.
    attribution_, target_, ax_, figure_, lines_, fill_, attribution_ax_
        As in :class:`AttributionDisplay` for patterns.

    See Also
    --------
    AttributionDisplay : Maps over patterns and images.
    saliency_map : Absolute gradients of the class logit.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from skxrd.estimators import CNNClassifier
    >>> from skxrd.inspection import SaliencyDisplay
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.random((6, 64)), np.array(["cubic", "tetragonal", "hexagonal"] * 2)
    >>> clf = CNNClassifier(channels=(4,), max_epochs=2, random_state=0,
    ...                     device="cpu").fit(X, y)
    >>> display = SaliencyDisplay.from_estimator(
    ...     clf, X, index=1, x_axis=np.linspace(10, 70, 64), top_k=2
    ... )
    >>> len(display.top_k_), display.top_k_[0][0] == display.target_
    (2, True)
    >>> display.ax_.get_title().startswith("Saliency: class ")
    True
    >>> plt.close(display.figure_)
    """

    def __init__(
        self,
        *,
        sample,
        attribution,
        target=None,
        x_axis=None,
        method="saliency",
        dims=None,
        top_k=None,
    ):
        super().__init__(
            sample=sample,
            attribution=attribution,
            target=target,
            x_axis=x_axis,
            method=method,
            dims=dims,
        )
        self.top_k = top_k

    def _checked_top_k(self):
        if self.top_k is None:
            return None
        try:
            pairs = [(_python(label), float(p)) for label, p in self.top_k]
        except (TypeError, ValueError):
            pairs = None
        if pairs is None or not all(math.isfinite(p) for _, p in pairs):
            raise ValueError(
                "top_k must be None or a list of (label, probability) pairs, got "
                f"{self.top_k!r}"
            )
        return pairs

    def _annotate(self):
        self.top_k_ = self._checked_top_k()
        if self.top_k_:
            title = self.ax_.get_title()
            self.ax_.set_title(f"{title}\n{_format_top_k(self.top_k_)}")

    def plot(self, ax=None, *, cmap=None, alpha=0.5, xlabel=None) -> SaliencyDisplay:
        """Draw the map over the pattern, with the top classes under the title.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        cmap : str, default=None
            Colour of the attribution curve (``"C3"`` when None).
        alpha : float, default=0.5
            Opacity of the filled attribution curve.
        xlabel : str, default=None
            Label of the x-axis: ``"2θ (°)"`` with an ``x_axis``, else
            ``"Point index"``.

        Returns
        -------
        SaliencyDisplay
            ``self``, with the attributes set.

        Raises
        ------
        ValueError
            As :meth:`AttributionDisplay.plot`, for an image sample, and for a
            bad ``top_k``.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from skxrd.inspection import SaliencyDisplay
        >>> pattern = np.exp(-0.5 * (np.arange(40.0) - 20) ** 2)
        >>> display = SaliencyDisplay(
        ...     sample=pattern, attribution=pattern, target="cubic",
        ...     top_k=[("cubic", 0.81), ("tetragonal", 0.1)],
        ... ).plot()
        >>> print(display.ax_.get_title())
        Saliency: class cubic
        cubic 0.81, tetragonal 0.10
        >>> plt.close(display.figure_)
        """
        dims, _, _ = self._checked()
        if dims != 1:
            raise ValueError(
                "SaliencyDisplay draws 1D patterns; use AttributionDisplay for images"
            )
        self._checked_top_k()
        super().plot(ax, cmap=cmap, alpha=alpha, xlabel=xlabel)
        self._annotate()
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        index=0,
        method="saliency",
        target=None,
        x_axis=None,
        top_k=3,
        ax=None,
        **kwargs,
    ) -> SaliencyDisplay:
        """Compute the attribution map of one pattern of ``X`` and plot it.

        Parameters
        ----------
        estimator : estimator, Pipeline or torch.nn.Module
            A fitted skxrd pattern classifier, a fitted pipeline ending in one
            (the sample goes through the other steps' ``transform`` and the
            transformed pattern is plotted), or a plain module (see
            :func:`saliency_map`).
        X : array-like of shape (n_samples, ...), or list of Pattern
            The patterns; Pattern objects need a pipeline whose first steps
            turn them into arrays (a
            :class:`~skxrd.preprocessing.PatternResampler`).
        index : int, default=0
            The explained sample of ``X``.
        method : {"saliency", "integrated_gradients", "occlusion", \
"guided_backprop", "attentive_response"}, default="saliency"
            The attribution method (see :meth:`AttributionDisplay.from_estimator`).
        target : class label or None, default=None
            The explained class; None: the predicted class.
        x_axis : array-like of shape (L,), default=None
            Abscissa of the (transformed) pattern. None: the grid ``grid_`` of
            a pipeline's first step when it is a fitted
            :class:`~skxrd.preprocessing.PatternResampler` of the right length
            (2θ at its ``wavelength_``), else the point index.
        top_k : int or None, default=3
            Number of most probable classes shown under the title (when the
            classifier has ``predict_top_k``); None shows none.
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        **kwargs : dict
            Passed to the attribution function (``n_steps``, ``baseline``,
            ``window``, ``stride``, ``fill``, ``layer``).

        Returns
        -------
        SaliencyDisplay
            The display, plotted.

        Raises
        ------
        ValueError
            For a bad ``index`` or ``top_k``, Pattern objects without a
            pipeline, an image classifier, and as
            :meth:`AttributionDisplay.from_estimator`.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from sklearn.pipeline import make_pipeline
        >>> from skxrd.estimators import CNNClassifier
        >>> from skxrd.inspection import SaliencyDisplay
        >>> from skxrd.io import Pattern
        >>> from skxrd.preprocessing import PatternResampler
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.random((6, 64)), np.array(["cubic", "hexagonal"] * 3)
        >>> pipe = make_pipeline(
        ...     PatternResampler(two_theta=(10, 74, 1.0)),
        ...     CNNClassifier(channels=(4,), max_epochs=2, random_state=0,
        ...                   device="cpu"),
        ... ).fit(X, y)
        >>> tt = np.linspace(4, 40, 300)              # measured with Mo Kα
        >>> measured = Pattern(tt, rng.random(300), wavelength="MoKa")
        >>> display = SaliencyDisplay.from_estimator(pipe, [measured])
        >>> display.lines_[0].get_xdata()[[0, -1]].tolist()
        [10.0, 73.0]
        >>> display.ax_.get_xlabel(), len(display.top_k_)
        ('2θ (degrees, λ = 1.5406 Å)', 2)
        >>> plt.close(display.figure_)
        """
        if top_k is not None and (
            isinstance(top_k, bool)
            or not isinstance(top_k, numbers.Integral)
            or top_k < 1
        ):
            raise ValueError(f"top_k must be a positive integer or None, got {top_k!r}")
        final, transformers, grid, grid_wavelength = estimator, None, None, None
        if isinstance(estimator, Pipeline):
            final = estimator.steps[-1][1]
            if len(estimator.steps) > 1:
                transformers = estimator[:-1]
            first = estimator.steps[0][1]
            if isinstance(first, PatternResampler) and hasattr(first, "grid_"):
                grid, grid_wavelength = first.grid_, first.wavelength_
        module = _unwrap(final)[0]
        if _model_dims(module) != 1:
            raise ValueError(
                "SaliencyDisplay is for 1D pattern classifiers; use "
                "AttributionDisplay for image classifiers"
            )
        batch = _one_sample(X, index)
        if transformers is not None:
            batch = transformers.transform(batch)
        elif isinstance(batch, list):
            raise ValueError(
                "X holds Pattern objects: the estimator must be a Pipeline whose "
                "first steps turn them into arrays (e.g. a PatternResampler)"
            )
        batch = np.asarray(batch)
        from_grid = x_axis is None and grid is not None and len(grid) == batch.shape[-1]
        if from_grid:
            x_axis = grid
        display = super().from_estimator(
            final,
            batch[0],
            method=method,
            target=target,
            x_axis=x_axis,
            ax=ax,
            **kwargs,
        )
        if top_k is not None and hasattr(final, "predict_top_k"):
            labels, proba = final.predict_top_k(batch, k=top_k)
            display.top_k = list(zip(labels[0].tolist(), proba[0].tolist()))
        display._annotate()
        if from_grid:
            display.ax_.set_xlabel(_two_theta_label(grid_wavelength))
        return display


# --------------------------------------------------------------------------- #
# Confusion between crystal systems
# --------------------------------------------------------------------------- #
def _crystal_system_of(value) -> str | None:
    """The crystal system of a system name, space-group number or symbol."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, str):
        name = value.strip()
        if name.lower() in CRYSTAL_SYSTEMS:
            return name.lower()
        try:
            return str(to_crystal_system(name))
        except (ValueError, TypeError, KeyError):
            return None
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number) and number == round(number) and 1 <= number <= 230:
            return str(to_crystal_system(int(number)))
    return None


def _crystal_systems(y, what) -> np.ndarray:
    """The crystal system of each label of ``y`` (object array of str)."""
    try:
        arr = np.asarray(y, dtype=object)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != 1:
        shape = None if arr is None else arr.shape
        raise ValueError(f"{what} must be a 1D array of labels, got shape {shape}")
    out = np.empty(len(arr), dtype=object)
    cache, bad = {}, []
    for i, value in enumerate(arr.tolist()):
        key = (type(value), value)
        try:
            system = cache[key]
        except (KeyError, TypeError):
            system = _crystal_system_of(value)
            try:
                cache[key] = system
            except TypeError:  # unhashable
                pass
        if system is None and not any(repr(value) == repr(b) for b in bad):
            bad.append(value)
        out[i] = system
    if bad:
        shown = ", ".join(repr(_python(b)) for b in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise ValueError(
            f"{what} has labels that are neither crystal systems "
            f"({', '.join(CRYSTAL_SYSTEMS)}) nor space groups (numbers 1-230 or "
            f"symbols): {shown}{more}"
        )
    return out


class CrystalSystemConfusionDisplay:
    """Confusion matrix over the seven crystal systems.

    The rows (true) and columns (predicted) follow the systems in order of
    increasing symmetry: triclinic, monoclinic, orthorhombic, tetragonal,
    trigonal, hexagonal, cubic, so that confusions between neighbouring
    systems sit next to the diagonal. The labels may be crystal-system names
    or space groups (numbers 1-230 or symbols), mixed freely: a prediction
    counts as right when it falls in the true crystal system. Plotting is
    delegated to :class:`sklearn.metrics.ConfusionMatrixDisplay`.

    Parameters
    ----------
    confusion_matrix : array-like of shape (n_systems, n_systems)
        Counts or fractions; rows true systems, columns predicted ones.
    display_labels : list of str, default=None
        The systems of the rows and columns; None: all seven (then the
        matrix must be 7 by 7).
    accuracy : float, default=None
        Fraction of right predictions, shown in the title; None: the trace of
        the matrix over its sum (the accuracy for a matrix of counts).

    Attributes
    ----------
    confusion_matrix_ : ndarray of shape (n_systems, n_systems)
        The plotted matrix.
    display_labels_ : list of str
        The systems of its rows and columns.
    accuracy_ : float
        Fraction of right predictions.
    im_ : matplotlib AxesImage
        The image of the matrix.
    text_ : ndarray of matplotlib Text or None
        The values, when included.
    ax_ : matplotlib Axes
        The axes.
    figure_ : matplotlib Figure
        The figure.

    See Also
    --------
    sklearn.metrics.ConfusionMatrixDisplay : The general display.
    skxrd.crystal.to_crystal_system : Crystal system of space groups.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skxrd.inspection import CrystalSystemConfusionDisplay
    >>> y_true = [225, 229, 194, 62]                  # space-group numbers
    >>> y_pred = ["cubic", "tetragonal", "hexagonal", "orthorhombic"]
    >>> display = CrystalSystemConfusionDisplay.from_predictions(y_true, y_pred)
    >>> display.display_labels_
    ['orthorhombic', 'tetragonal', 'hexagonal', 'cubic']
    >>> display.confusion_matrix_[-1].tolist(), display.accuracy_
    ([0.0, 0.5, 0.0, 0.5], 0.75)
    >>> plt.close(display.figure_)
    """

    def __init__(self, confusion_matrix, *, display_labels=None, accuracy=None):
        self.confusion_matrix = confusion_matrix
        self.display_labels = display_labels
        self.accuracy = accuracy

    def plot(
        self,
        ax=None,
        *,
        cmap="Blues",
        include_values=True,
        values_format=None,
        xticks_rotation=45,
        colorbar=True,
        title=None,
    ) -> CrystalSystemConfusionDisplay:
        """Draw the matrix with :class:`sklearn.metrics.ConfusionMatrixDisplay`.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        cmap : str or Colormap, default="Blues"
            Colormap of the matrix.
        include_values : bool, default=True
            Write the values in the cells.
        values_format : str, default=None
            Format of the values (scikit-learn's default when None).
        xticks_rotation : {"vertical", "horizontal"} or float, default=45
            Rotation of the predicted systems' labels.
        colorbar : bool, default=True
            Add a colorbar.
        title : str, default=None
            Title; None: ``"Crystal systems (accuracy 0.83)"``.

        Returns
        -------
        CrystalSystemConfusionDisplay
            ``self``, with the attributes set.

        Raises
        ------
        ValueError
            If the matrix is not square, does not match ``display_labels``,
            or the labels are not crystal systems.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from skxrd.inspection import CrystalSystemConfusionDisplay
        >>> cm = np.array([[3, 1], [0, 4]])
        >>> display = CrystalSystemConfusionDisplay(
        ...     cm, display_labels=["hexagonal", "cubic"]
        ... ).plot(colorbar=False)
        >>> display.accuracy_, display.ax_.get_title()
        (0.875, 'Crystal systems (accuracy 0.88)')
        >>> plt.close(display.figure_)
        """
        from sklearn.metrics import ConfusionMatrixDisplay

        cm = np.asarray(self.confusion_matrix)
        if (
            cm.ndim != 2
            or cm.shape[0] != cm.shape[1]
            or cm.size == 0
            or cm.dtype.kind not in "biuf"
        ):
            raise ValueError(
                "confusion_matrix must be a non-empty square array of numbers, got "
                f"shape {cm.shape}"
            )
        labels = self.display_labels
        labels = list(CRYSTAL_SYSTEMS) if labels is None else [str(s) for s in labels]
        if len(labels) != len(cm):
            raise ValueError(
                f"display_labels must name the {len(cm)} systems of the matrix, got "
                f"{len(labels)} (all seven are assumed when None)"
            )
        unknown = [s for s in labels if s not in CRYSTAL_SYSTEMS]
        if unknown:
            raise ValueError(
                f"display_labels must be crystal systems ({', '.join(CRYSTAL_SYSTEMS)})"
                f", got {unknown}"
            )
        if self.accuracy is None:
            total = float(cm.sum())
            accuracy = float(np.trace(cm)) / total if total > 0 else float("nan")
        else:
            accuracy = float(self.accuracy)
        display = ConfusionMatrixDisplay(cm, display_labels=labels).plot(
            ax=ax,
            cmap=cmap,
            include_values=include_values,
            values_format=values_format,
            xticks_rotation=xticks_rotation,
            colorbar=colorbar,
        )
        ax = display.ax_
        ax.set_xlabel("Predicted crystal system")
        ax.set_ylabel("True crystal system")
        ax.set_title(
            f"Crystal systems (accuracy {accuracy:.2f})" if title is None else title
        )
        self.confusion_matrix_ = cm
        self.display_labels_ = labels
        self.accuracy_ = accuracy
        self.im_ = display.im_
        self.text_ = display.text_
        self.ax_ = ax
        self.figure_ = display.figure_
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_pred,
        *,
        normalize="true",
        ax=None,
        cmap="Blues",
        include_missing=False,
        values_format=None,
        colorbar=True,
    ) -> CrystalSystemConfusionDisplay:
        """Plot the crystal-system confusion matrix of predictions.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels: crystal-system names, or space groups (numbers
            1-230 or symbols), mapped with
            :func:`~skxrd.crystal.to_crystal_system`.
        y_pred : array-like of shape (n_samples,)
            Predicted labels, of any of the same kinds (they need not be of
            the kind of ``y_true``).
        normalize : {"true", "pred", "all"} or None, default="true"
            Divide the counts by the row sums (recall per true system), the
            column sums, or the total; None keeps counts. Empty rows or
            columns give zeros.
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        cmap : str or Colormap, default="Blues"
            Colormap of the matrix.
        include_missing : bool, default=False
            Keep the systems absent from both ``y_true`` and ``y_pred`` (all
            seven rows and columns).
        values_format : str, default=None
            Format of the values (scikit-learn's default when None).
        colorbar : bool, default=True
            Add a colorbar.

        Returns
        -------
        CrystalSystemConfusionDisplay
            The display, plotted.

        Raises
        ------
        ValueError
            For labels that are neither crystal systems nor space groups
            (naming them), inputs of different lengths or no samples, and a
            bad ``normalize``.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from skxrd.inspection import CrystalSystemConfusionDisplay
        >>> display = CrystalSystemConfusionDisplay.from_predictions(
        ...     [1, 2, 221], ["triclinic", "monoclinic", "Fm-3m"], normalize=None,
        ...     include_missing=True,
        ... )
        >>> len(display.display_labels_), int(display.confusion_matrix_.sum())
        (7, 3)
        >>> plt.close(display.figure_)
        """
        from sklearn.metrics import confusion_matrix

        if normalize not in ("true", "pred", "all", None):
            raise ValueError(
                f"normalize must be 'true', 'pred', 'all' or None, got {normalize!r}"
            )
        true = _crystal_systems(y_true, "y_true")
        pred = _crystal_systems(y_pred, "y_pred")
        if len(true) != len(pred):
            raise ValueError(
                f"y_true and y_pred must have the same length, got {len(true)} and "
                f"{len(pred)}"
            )
        if len(true) == 0:
            raise ValueError("y_true and y_pred hold no samples")
        if include_missing:
            labels = list(CRYSTAL_SYSTEMS)
        else:
            present = set(true.tolist()) | set(pred.tolist())
            labels = [s for s in CRYSTAL_SYSTEMS if s in present]
        with warnings.catch_warnings():
            # one system only is a valid 1x1 matrix here: the labels are explicit
            warnings.filterwarnings("ignore", "A single label", UserWarning)
            cm = confusion_matrix(true, pred, labels=labels, normalize=normalize)
        display = cls(cm, display_labels=labels, accuracy=float(np.mean(true == pred)))
        return display.plot(
            ax=ax, cmap=cmap, values_format=values_format, colorbar=colorbar
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        normalize="true",
        ax=None,
        cmap="Blues",
        include_missing=False,
        values_format=None,
        colorbar=True,
    ) -> CrystalSystemConfusionDisplay:
        """Predict ``X`` and plot the crystal-system confusion matrix.

        Parameters
        ----------
        estimator : estimator
            A fitted classifier (or pipeline) predicting crystal systems or
            space groups.
        X : array-like or list of Pattern
            Its input.
        y : array-like of shape (n_samples,)
            True labels (see :meth:`from_predictions`).
        normalize, ax, cmap, include_missing, values_format, colorbar
            As in :meth:`from_predictions`.

        Returns
        -------
        CrystalSystemConfusionDisplay
            The display, plotted.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from sklearn.dummy import DummyClassifier
        >>> from skxrd.inspection import CrystalSystemConfusionDisplay
        >>> X, y = np.zeros((4, 2)), np.array([225, 225, 194, 2])
        >>> clf = DummyClassifier().fit(X, y)           # always space group 225
        >>> display = CrystalSystemConfusionDisplay.from_estimator(clf, X, y)
        >>> display.display_labels_, display.accuracy_
        (['triclinic', 'hexagonal', 'cubic'], 0.5)
        >>> plt.close(display.figure_)
        """
        return cls.from_predictions(
            y,
            estimator.predict(X),
            normalize=normalize,
            ax=ax,
            cmap=cmap,
            include_missing=include_missing,
            values_format=values_format,
            colorbar=colorbar,
        )
