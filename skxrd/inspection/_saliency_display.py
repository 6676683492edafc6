"""SaliencyDisplay: an attribution map over the 2θ axis of a pattern classifier,
with the most probable classes."""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.pipeline import Pipeline

from ..preprocessing._resample import PatternResampler
from ..utils._validation import plain_scalar
from ._attribution import _as_array, _model_dims, _unwrap
from ._display import AttributionDisplay
from ._pattern_display import _pattern_items, _two_theta_label

__all__ = ["SaliencyDisplay"]


def _format_top_k(pairs) -> str:
    return ", ".join(f"{label} {p:.2f}" for label, p in pairs)


def _one_sample(X, index):
    """``[Pattern]`` or an array ``(1, ...)``: the sample ``index`` of ``X``."""
    items = _pattern_items(X, "X")
    if items is None:
        try:
            arr = _as_array(X)
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
    answer : object, default=None
        The model's answer when the map explains another class (see
        :class:`AttributionDisplay`).

    Attributes
    ----------
    top_k_ : list of (label, float) or None
        The shown classes and probabilities.
    attribution_, target_, answer_, ax_, figure_, lines_, fill_, attribution_ax_
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
        answer=None,
    ):
        super().__init__(
            sample=sample,
            attribution=attribution,
            target=target,
            x_axis=x_axis,
            method=method,
            dims=dims,
            answer=answer,
        )
        self.top_k = top_k

    def _checked_top_k(self):
        if self.top_k is None:
            return None
        try:
            pairs = [(plain_scalar(label), float(p)) for label, p in self.top_k]
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
            Where to draw; a new figure when None. On Axes with an earlier
            map, the same attribution axis (see :meth:`AttributionDisplay.plot`).
        cmap : str, default=None
            Colour of the attribution curve (``"C3"`` when None, then the next
            colours on shared Axes).
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
            The explained class; None: the estimator's answer (its
            ``predict``), as in :meth:`AttributionDisplay.from_estimator`.
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
