"""Plot of an attribution map over its input, in scikit-learn's display style."""

from __future__ import annotations

import numbers
import weakref

import numpy as np
from torch import nn

from ..io._pattern import Pattern
from ._attribution import _METHODS, _as_array, _attribute, _model_dims, _numpy

__all__ = ["AttributionDisplay"]

_METHOD_NAMES = {
    "saliency": "Saliency",
    "integrated_gradients": "Integrated gradients",
    "occlusion": "Occlusion",
    "guided_backprop": "Guided backprop",
    "attentive_response": "Attentive response",
}


def _rgb_or_gray(chw):
    """An image ``(C, H, W)`` as RGB in [0, 1] when C == 3, else its first channel."""
    if chw.shape[0] != 3:
        return chw[0], "gray"
    img = np.moveaxis(chw, 0, -1)
    lo, hi = img.min(), img.max()
    return ((img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)), None


# the twin Axes holding the attribution curves of each Axes drawn on, and
# the default colours of its successive curves
_TWINS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FILL_GID = "skxrd-attribution"
_FILL_COLORS = ("C3", "C0", "C2", "C1", "C4", "C5", "C6", "C8", "C9")


def _finite(values, what) -> np.ndarray:
    """``values`` as a float array; a ValueError naming ``what`` for values
    that are not numbers, NaN or infinite (drawn, NaN left silent gaps)."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{what} must hold numbers, got {type(values).__name__}"
        ) from None
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contains NaN or infinity")
    return arr


class AttributionDisplay:
    """An attribution map drawn over the pattern or image it explains.

    Build it with :meth:`from_estimator` (which computes the map with one of
    the functions of :mod:`skxrd.inspection`), or from a sample and its map,
    then call :meth:`plot`.

    - 1D patterns (shape ``(L,)``, or ``(C, L)`` with one line per channel):
      the pattern over ``x_axis``, with the attribution (summed over
      channels) as a filled curve on a twin y-axis behind it.
    - 2D images ``(C, H, W)`` (or ``(H, W)``): the image (RGB when ``C == 3``,
      else its first channel) next to the same image in gray with the map
      (summed over channels) overlaid with transparency; multi-stream images
      ``(S, C, H, W)`` get one such column per stream.

    Parameters
    ----------
    sample : array-like
        One input, without a sample axis.
    attribution : array-like
        Its attribution map, of the same shape.
    target : object, default=None
        The explained class, shown in the title.
    x_axis : array-like of shape (L,), default=None
        Abscissa of a 1D pattern, e.g. 2θ in degrees; the point index when
        None. Not for images.
    method : str, default=None
        Name of the attribution method, for the labels (one of
        ``from_estimator``'s methods, or any string).
    dims : {1, 2} or None, default=None
        Whether ``sample`` is a pattern (1) or an image (2). None: 1 when it
        has at most two axes, else 2.
    answer : object, default=None
        The model's answer when the map explains another class (an answer
        its network has no output for, such as a search-match's own class:
        :meth:`from_estimator` then explains the network's most probable
        class); shown in the title. None: ``target`` is the answer, or was
        chosen.

    Attributes
    ----------
    attribution_ : ndarray
        The plotted attribution, of the shape of ``sample``.
    target_ : object
        The explained class.
    answer_ : object
        ``answer``.
    ax_ : matplotlib Axes or ndarray of Axes
        For patterns, the Axes of the pattern; for images, the axes as
        ``[image, overlay]`` (shape ``(2,)``), or ``(2, S)`` for ``S`` streams
        (first row images, second row overlays).
    figure_ : matplotlib Figure
        The figure.
    lines_ : list of matplotlib Line2D
        Patterns only: the pattern(s).
    fill_ : matplotlib PolyCollection
        Patterns only: the attribution curve.
    attribution_ax_ : matplotlib Axes
        Patterns only: the twin axes of the attribution.
    images_, overlays_ : list of matplotlib AxesImage
        Images only: the input images and the overlaid maps, one per stream.

    See Also
    --------
    saliency_map : Absolute gradients of the class logit.
    integrated_gradients : Path-integrated gradients from a baseline.
    occlusion_map : Probability drops under a sliding window.
    guided_backprop : Gradients guided through the ReLUs.
    attentive_response_map : Grad-CAM maps of a convolutional layer.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from skxrd.inspection import AttributionDisplay
    >>> two_theta = np.linspace(10, 80, 50)
    >>> pattern = np.exp(-0.5 * (two_theta - 40) ** 2)
    >>> display = AttributionDisplay(
    ...     sample=pattern, attribution=pattern**2, target="Fm-3m", x_axis=two_theta,
    ...     method="saliency",
    ... ).plot()
    >>> display.ax_.get_title()
    'Saliency: class Fm-3m'
    >>> len(display.lines_), display.attribution_.shape
    (1, (50,))
    >>> plt.close(display.figure_)
    """

    def __init__(
        self,
        *,
        sample,
        attribution,
        target=None,
        x_axis=None,
        method=None,
        dims=None,
        answer=None,
    ):
        self.sample = sample
        self.attribution = attribution
        self.target = target
        self.x_axis = x_axis
        self.method = method
        self.dims = dims
        self.answer = answer

    def _checked(self):
        sample = _finite(self.sample, "sample")
        attribution = _finite(self.attribution, "attribution")
        if sample.ndim == 0 or sample.size == 0:
            raise ValueError(f"sample must be a non-empty array, got {sample.shape}")
        if attribution.shape != sample.shape:
            raise ValueError(
                f"attribution must have the shape of sample {sample.shape}, "
                f"got {attribution.shape}"
            )
        dims = self.dims
        if dims is None:
            dims = 1 if sample.ndim <= 2 else 2
        if dims not in (1, 2) or isinstance(dims, bool):
            raise ValueError(f"dims must be 1, 2 or None, got {dims!r}")
        if dims == 2:
            if not 2 <= sample.ndim <= 4:
                raise ValueError(
                    "an image sample must have shape (H, W), (C, H, W) or "
                    f"(S, C, H, W), got {sample.shape}"
                )
            if self.x_axis is not None:
                raise ValueError("x_axis is only for 1D patterns, not images")
            shape = (1,) * (4 - sample.ndim) + sample.shape
            return dims, sample.reshape(shape), attribution.reshape(shape)
        return dims, sample, attribution

    def plot(self, ax=None, *, cmap=None, alpha=0.5, xlabel=None):
        """Draw the map over its input.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw: one Axes for a pattern, two for an image (image,
            overlay), ``2 S`` for ``S`` streams (images then overlays); a new
            figure when None. A pattern drawn on Axes that already hold one
            (an earlier plot) shares its attribution axis, so that the maps
            compare, and gets the next colour.
        cmap : str or Colormap, default=None
            Colormap of the overlaid image maps: ``"inferno"`` for
            non-negative maps, ``"RdBu_r"`` centred on 0 for signed ones when
            None. For patterns, the colour of the attribution curve
            (``"C3"`` when None; then ``"C0"``, ``"C2"``... for later curves
            on the same Axes, each pattern in the colour of its curve).
        alpha : float, default=0.5
            Opacity of the overlay (images) or of the filled curve (patterns).
        xlabel : str, default=None
            Label of the x-axis of a pattern: ``"2θ (°)"`` with an ``x_axis``,
            else ``"Point index"``.

        Returns
        -------
        AttributionDisplay
            ``self``, with the attributes set.

        Raises
        ------
        ValueError
            If ``attribution`` and ``sample`` differ in shape, hold NaN,
            infinity or non-numbers, ``x_axis`` does not match the pattern (or
            is not finite), or ``ax`` holds the wrong number of axes.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from skxrd.inspection import AttributionDisplay
        >>> image = np.random.default_rng(0).random((3, 8, 8))
        >>> fig, axes = plt.subplots(1, 2)
        >>> display = AttributionDisplay(sample=image, attribution=image).plot(ax=axes)
        >>> display.ax_.shape, len(display.ax_[1].images)
        ((2,), 2)
        >>> plt.close(fig)
        """
        if (
            isinstance(alpha, bool)  # a Real, which drew True as opaque
            or not isinstance(alpha, numbers.Real)
            or not 0 <= alpha <= 1
        ):
            raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")
        dims, sample, attribution = self._checked()
        name = _METHOD_NAMES.get(self.method, self.method or "Attribution")
        title = name if self.target is None else f"{name}: class {self.target}"
        if self.answer is not None and self.answer != self.target:
            title += f" (the network's; the answer {self.answer} is not its output)"
        if dims == 1:
            self._plot_pattern(
                sample, attribution, ax, name, title, cmap, alpha, xlabel
            )
        else:
            self._plot_images(sample, attribution, ax, name, title, cmap, alpha)
        self.attribution_ = np.asarray(self.attribution)
        self.target_ = self.target
        self.answer_ = self.answer
        return self

    def _plot_pattern(self, sample, attribution, ax, name, title, color, alpha, xlabel):
        import matplotlib.pyplot as plt

        rows = sample.reshape(-1, sample.shape[-1])
        n_points = rows.shape[1]
        if self.x_axis is None:
            x = np.arange(n_points)
        else:
            x = _finite(self.x_axis, "x_axis").reshape(-1)
            if len(x) != n_points:
                raise ValueError(
                    f"x_axis must have one value per point ({n_points}), got {len(x)}"
                )
        if ax is None:
            _, ax = plt.subplots()
        elif not hasattr(ax, "twinx"):
            raise ValueError(
                f"ax must be one matplotlib Axes for a pattern, got {ax!r}"
            )
        values = attribution.reshape(-1, n_points).sum(0)
        # A second map on the same Axes goes on the twin of the first: on a
        # twin of its own it had its own scale, with its ticks drawn over the
        # first's, and the two maps could not be compared
        twin = _TWINS.get(ax)
        earlier = 0
        if twin is not None and twin in ax.figure.axes:
            earlier = sum(1 for c in twin.collections if c.get_gid() == _FILL_GID)
        else:
            twin = _TWINS[ax] = ax.twinx()
        default = _FILL_COLORS[earlier % len(_FILL_COLORS)]
        self.fill_ = twin.fill_between(
            x, 0, values, color=default if color is None else color, alpha=alpha, lw=0
        )
        self.fill_.set_gid(_FILL_GID)
        twin.set_ylabel(name)
        ax.set_zorder(twin.get_zorder() + 1)  # the pattern in front of the fill
        ax.patch.set_visible(False)
        if len(rows) > 1:
            colors = [f"C{i}" for i in range(len(rows))]
        else:  # black alone; on shared Axes, the colour of its map
            colors = ["k" if earlier == 0 else default]
        shown = ax.get_xlim() if earlier else None
        self.lines_ = [
            ax.plot(x, row, color=colors[i % len(colors)], lw=1)[0]
            for i, row in enumerate(rows)
        ]
        if n_points > 1:
            lo, hi = x.min(), x.max()
            if shown is not None:  # keep the earlier plot's range in view
                lo, hi = min(lo, *shown), max(hi, *shown)
            ax.set_xlim(lo, hi)
        if xlabel is None:
            xlabel = "Point index" if self.x_axis is None else "2θ (°)"
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Intensity")
        ax.set_title(title)
        self.attribution_ax_ = twin
        self.ax_ = ax
        self.figure_ = ax.figure

    def _plot_images(self, sample, attribution, ax, name, title, cmap, alpha):
        import matplotlib.pyplot as plt

        n_streams = sample.shape[0]
        shape = (2,) if n_streams == 1 else (2, n_streams)
        if ax is None:
            if n_streams == 1:
                _, axes = plt.subplots(1, 2, figsize=(8, 4))
            else:
                _, axes = plt.subplots(2, n_streams, figsize=(3 * n_streams, 6))
        else:
            axes = np.asarray(ax, dtype=object)
            if axes.size != 2 * n_streams:
                raise ValueError(
                    f"ax must hold {2 * n_streams} axes for {n_streams} stream(s) "
                    f"(image and overlay each), got {axes.size}"
                )
        axes = np.asarray(axes, dtype=object).reshape(shape)
        grid = axes.reshape(2, n_streams)
        self.images_, self.overlays_ = [], []
        for s in range(n_streams):
            image, image_cmap = _rgb_or_gray(sample[s])
            heat = attribution[s].sum(0)
            limit = float(np.abs(heat).max()) or 1.0
            if heat.min() < 0:
                kwargs = {"cmap": cmap or "RdBu_r", "vmin": -limit, "vmax": limit}
            else:
                kwargs = {"cmap": cmap or "inferno", "vmin": 0.0, "vmax": limit}
            top, bottom = grid[0, s], grid[1, s]
            self.images_.append(top.imshow(image, cmap=image_cmap))
            gray = image.mean(-1) if image.ndim == 3 else image
            bottom.imshow(gray, cmap="gray")
            self.overlays_.append(bottom.imshow(heat, alpha=alpha, **kwargs))
            top.set_title("Input" if n_streams == 1 else f"Stream {s}")
            bottom.set_title(title if n_streams == 1 else name)
            for a in (top, bottom):
                a.set_xticks([])
                a.set_yticks([])
        self.ax_ = axes
        self.figure_ = grid[0, 0].figure
        if n_streams > 1:
            self.figure_.suptitle(title)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        method="saliency",
        target=None,
        x_axis=None,
        ax=None,
        **kwargs,
    ) -> AttributionDisplay:
        """Compute the attribution map of one sample and plot it.

        Parameters
        ----------
        estimator : estimator, Pipeline or torch.nn.Module
            A fitted skxrd classifier, a fitted pipeline ending in one (the
            sample goes through the other steps' ``transform``, and the
            transformed sample is plotted), or a plain module (see
            :func:`saliency_map`).
        X : array-like or Pattern
            One sample, without a sample axis: a pattern ``(L,)``, an image
            ``(C, H, W)``, a multi-stream sample ``(S, C, H, W)``... (an image
            estimator also takes it flattened); or one
            :class:`~skxrd.io.Pattern` for a pipeline that takes them (one
            starting with a :class:`~skxrd.preprocessing.PatternResampler`).
        method : {"saliency", "integrated_gradients", "occlusion", \
"guided_backprop", "attentive_response"}, default="saliency"
            The attribution method: :func:`saliency_map`,
            :func:`integrated_gradients`, :func:`occlusion_map`,
            :func:`guided_backprop` or :func:`attentive_response_map`.
        target : class label or None, default=None
            The explained class (a class index for a plain module); None: the
            estimator's answer (its ``predict``; for a plain module the
            argmax), or the network's most probable class where the answer is
            not one of the network's outputs (a search-match's own class; the
            title says so).
        x_axis : array-like of shape (L,), default=None
            Abscissa of a pattern (e.g. 2θ; for a pipeline, the grid of the
            transformed pattern); the point index when None.
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw (see :meth:`plot`).
        **kwargs : dict
            Passed to the attribution function (``n_steps``, ``baseline``,
            ``window``, ``stride``, ``fill``, ``layer``).

        Returns
        -------
        AttributionDisplay
            The display, plotted.

        Raises
        ------
        ValueError
            For an unknown ``method``, and as the attribution functions.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> import torch
        >>> from skxrd.inspection import AttributionDisplay
        >>> from skxrd.models import CNN1D, DenseNet2D
        >>> _ = torch.manual_seed(0)
        >>> pattern = np.random.default_rng(0).random(64)
        >>> model = CNN1D(n_classes=3, channels=(4,), pooled_length=4)
        >>> display = AttributionDisplay.from_estimator(
        ...     model, pattern, method="integrated_gradients", target=2, n_steps=8
        ... )
        >>> display.target_, display.attribution_.shape
        (2, (64,))
        >>> plt.close(display.figure_)
        >>> images = np.random.default_rng(0).random((3, 16, 16))
        >>> net = DenseNet2D(2, in_channels=3, growth_rate=4, block_config=(1,))
        >>> display = AttributionDisplay.from_estimator(
        ...     net, images, method="attentive_response"
        ... )
        >>> display.ax_.shape, len(display.overlays_)
        ((2,), 1)
        >>> plt.close(display.figure_)
        """
        if method not in _METHODS:
            raise ValueError(f"method must be one of {tuple(_METHODS)}, got {method!r}")
        if isinstance(X, Pattern):  # for a pipeline that resamples it
            batch = [X]
        else:
            try:
                sample = _as_array(X)
            except (TypeError, ValueError):
                sample = np.asarray(None)
            if sample.ndim == 0:
                raise ValueError("X must be one sample (an array), got a scalar")
            batch = sample[None]
        inp, attribution, labels = _attribute(
            method, estimator, batch, target, one_sample=True, **kwargs
        )
        x = inp.x[0]
        a = _numpy(attribution[0]).astype(float)
        dims = _model_dims(inp.module)
        streams = getattr(inp.module, "streams", None)
        if (
            dims == 2
            and x.ndim == 3
            and isinstance(streams, nn.ModuleList)
            and len(streams) == x.shape[0]
        ):  # multi-stream images without a channel axis
            x, a = x[:, None], a[:, None]
        label, answer = labels[0], None
        if isinstance(label, np.generic):
            label = label.item()
        if inp.answers is not None:
            answer = inp.answers[0]
            answer = answer.item() if isinstance(answer, np.generic) else answer
            if answer == label:
                answer = None
        display = cls(
            sample=x,
            attribution=a,
            target=label,
            x_axis=x_axis,
            method=method,
            dims=dims,
            answer=answer,
        )
        return display.plot(ax=ax)
