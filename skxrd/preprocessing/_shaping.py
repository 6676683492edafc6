"""The :class:`SpotMeshShaper`: join the spots of zone-axis images by a mesh."""

from __future__ import annotations

import numbers

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_array
from sklearn.utils.validation import validate_data

from ..utils._validation import check_bool, check_real
from ._base import FLOAT_DTYPES

__all__ = ["SpotMeshShaper"]

_OUTPUTS = ("rgb", "mesh")
# Sampling step along a segment, in pixels: at most half a pixel keeps the
# rounded samples 8-connected, so the drawn line has no gaps.
_STEP = 0.5
# Samples within this many pixels of halfway between two pixels set both.
_TIE = 1e-6
# Spots are 8-connected within an image; stacked images never connect.
_STRUCTURE = np.zeros((3, 3, 3), dtype=bool)
_STRUCTURE[1] = True


class SpotMeshShaper(TransformerMixin, BaseEstimator):
    """Shape zone-axis spot images: join neighbouring spots by a straight-line mesh.

    The "shaped zone-axis pattern" preprocessing of space-group classification
    from single-crystal 2D diffraction (electron or X-ray zone-axis images, one
    per crystal axis a, b, c, fed to a multi-stream DenseNet). Each image is
    treated alone:

    1. the central (direct) beam is blanked: pixels closer than
       ``center_radius`` to the image centre ``((H - 1) / 2, (W - 1) / 2)``
       are set to 0, and negative values are clipped at 0;
    2. the image is rescaled so that its maximum is ``max_value`` (an
       all-zero image stays zero);
    3. spots are the 8-connected groups of pixels ``>= spot_threshold``, each
       placed at its intensity-weighted centroid;
    4. with ``d_min`` the shortest distance between two spots of the image, a
       one-pixel straight line of value ``line_value`` joins every pair of
       spots closer than ``mesh_factor * d_min`` (images with fewer than two
       spots get no line);
    5. the spot pixels (``>= spot_threshold``) are written back on top of the
       lines.

    The rescaled image of step 2 is the *plain* image, that of step 5 the *mesh*
    image. With ``output="rgb"`` each axis becomes a colour image with one
    channel per axis: channel ``i`` of axis ``i`` holds the mesh image of axis
    ``i`` and every other channel the plain image of axis ``i``. With three
    axes, the a-axis image is (mesh, plain, plain) in (R, G, B), the b-axis
    image (plain, mesh, plain) and the c-axis image (plain, plain, mesh).
    Values are divided by ``max_value``, so the output lies in [0, 1].

    The transformer is stateless: ``fit`` only checks the input and records
    the number of features, and ``transform`` works without it.

    Parameters
    ----------
    image_shape : (int, int), optional
        ``(H, W)`` of each image. Required for 2D input ``X`` of shape
        ``(n_samples, n_axes * H * W)`` (each row the axes' images flattened
        in C order, as scikit-learn pipelines pass 2D arrays); with 3D or 4D
        input it is optional and, if given, must match the last two dims.
    center_radius : float, default=3
        Radius in pixels of the central-beam disc set to 0; 0 keeps the beam.
    max_value : float, default=255
        Maximum of each rescaled image: the scale of ``spot_threshold`` and
        ``line_value`` (8-bit images by default).
    spot_threshold : float, default=50
        Pixels at or above it, on the ``0..max_value`` scale, are spot pixels;
        in ``(0, max_value]``.
    mesh_factor : float, default=1.7
        Spots closer than ``mesh_factor`` times the image's shortest spot
        distance are joined. 1.7 joins the nearest neighbours of a square
        lattice and its diagonals (√2), the six neighbours of a hexagonal
        lattice but not its second shell (√3), and both sides of a rectangular
        lattice with axis ratio below 1.7. A value of 1 or less draws no line.
    line_value : float, optional
        Value of the mesh lines, in ``(0, max_value]``; None means
        ``max_value``.
    output : {"rgb", "mesh"}, default="rgb"
        ``"rgb"``: arrays of shape ``(n_samples, n_axes, n_axes, H, W)``, one
        image per axis with one channel per axis, as described above.
        ``"mesh"``: the mesh images alone, ``(n_samples, n_axes, H, W)``.
    flatten : bool, default=False
        Return ``(n_samples, n_outputs)``, the above flattened per sample in C
        order, for 2D estimators in a pipeline.

    Attributes
    ----------
    n_features_in_ : int
        ``n_axes * H * W`` of the images seen in ``fit``.
    image_layout_ : tuple of int
        ``(n_axes, H, W)`` of the images seen in ``fit``; :meth:`transform`
        refuses another layout of as many pixels.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (a DataFrame with string column names).

    Notes
    -----
    ``X`` may be ``(n_samples, n_axes, H, W)``, ``(n_samples, H, W)`` (one axis:
    the output keeps an axis dimension of 1), or 2D with ``image_shape``. The
    output is float32 whatever the input dtype. Lines are drawn by sampling
    each segment every half pixel and rounding to the nearest pixel, without
    anti-aliasing; a sample halfway between two pixels sets both, so that the
    mesh of an image turned by 90°, flipped or shifted is the mesh turned,
    flipped or shifted alike (shifts with ``center_radius=0``: the blanked
    disc stays at the centre).

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.preprocessing import SpotMeshShaper
    >>> X = np.zeros((1, 1, 7, 10))
    >>> X[0, 0, [1, 1, 5, 5], [1, 4, 1, 8]] = [9.0, 9.0, 9.0, 3.0]
    >>> shaper = SpotMeshShaper(center_radius=0, output="mesh")
    >>> mesh = shaper.fit_transform(X)
    >>> mesh.shape, mesh.dtype
    ((1, 1, 7, 10), dtype('float32'))
    >>> (3 * mesh[0, 0]).round(0).astype(int)
    array([[0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
           [0, 3, 3, 3, 3, 0, 0, 0, 0, 0],
           [0, 3, 0, 3, 0, 0, 0, 0, 0, 0],
           [0, 3, 3, 3, 0, 0, 0, 0, 0, 0],
           [0, 3, 3, 0, 0, 0, 0, 0, 0, 0],
           [0, 3, 0, 0, 0, 0, 0, 0, 1, 0],
           [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]])

    The spots 3 pixels apart are joined, and so are those 4 and 5 apart (below
    1.7 × 3 = 5.1); the faint spot, 5.7 or more pixels from the others, is not.
    Three axes give one 3-channel image per axis:

    >>> rgb = SpotMeshShaper(center_radius=0).fit_transform(np.repeat(X, 3, axis=1))
    >>> rgb.shape
    (1, 3, 3, 7, 10)
    >>> bool(np.allclose(rgb[0, 0, 0], mesh[0, 0]))  # R of axis a: mesh
    True
    >>> bool(np.allclose(rgb[0, 0, 1], X[0, 0] / 9))  # G of axis a: plain
    True

    2D input for a pipeline, with 2D output:

    >>> SpotMeshShaper(image_shape=(7, 10), flatten=True).fit_transform(
    ...     np.repeat(X, 3, axis=1).reshape(1, -1)
    ... ).shape
    (1, 630)
    """

    def __init__(
        self,
        image_shape=None,
        center_radius=3.0,
        max_value=255.0,
        spot_threshold=50.0,
        mesh_factor=1.7,
        line_value=None,
        output="rgb",
        flatten=False,
    ):
        self.image_shape = image_shape
        self.center_radius = center_radius
        self.max_value = max_value
        self.spot_threshold = spot_threshold
        self.mesh_factor = mesh_factor
        self.line_value = line_value
        self.output = output
        self.flatten = flatten

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def _check_params(self):
        """The parameters as ``(radius, threshold, factor, line)``, on the 0-1 scale."""
        shape = self.image_shape
        if shape is not None and not (
            isinstance(shape, (tuple, list))
            and len(shape) == 2
            and all(
                isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1
                for v in shape
            )
        ):
            raise ValueError(
                f"image_shape must be None or a pair of positive integers (H, W), "
                f"got {shape!r}"
            )
        radius = check_real(self.center_radius, "center_radius")
        if radius < 0:
            raise ValueError(f"center_radius must be >= 0, got {radius!r}")
        top = check_real(self.max_value, "max_value")
        if not top > 0:
            raise ValueError(f"max_value must be > 0, got {top!r}")
        threshold = check_real(self.spot_threshold, "spot_threshold")
        if not 0 < threshold <= top:
            raise ValueError(
                f"spot_threshold must lie in (0, max_value={top:g}], got {threshold!r}"
            )
        factor = check_real(self.mesh_factor, "mesh_factor")
        if not factor > 0:
            raise ValueError(f"mesh_factor must be > 0, got {factor!r}")
        line = check_real(self.line_value, "line_value", allow_none=True)
        if line is not None and not 0 < line <= top:
            raise ValueError(
                f"line_value must be None or lie in (0, max_value={top:g}], "
                f"got {line!r}"
            )
        if self.output not in _OUTPUTS:
            raise ValueError(f"output must be one of {_OUTPUTS}, got {self.output!r}")
        check_bool(self.flatten, "flatten")
        line = top if line is None else line
        return radius, threshold / top, factor, line / top

    def _validate_images(self, X, *, reset: bool) -> np.ndarray:
        """``X`` as float images of shape (n_samples, n_axes, H, W)."""
        if getattr(X, "ndim", None) is None:
            X = np.asarray(X)
        if X.ndim == 2:
            X = validate_data(
                self, X, reset=reset, dtype=FLOAT_DTYPES, ensure_all_finite=False
            )
            if self.image_shape is None:
                raise ValueError(
                    f"2D X of shape {X.shape} needs image_shape=(H, W) to be read as "
                    "images; or pass X of shape (n_samples, n_axes, H, W) or "
                    "(n_samples, H, W)"
                )
            h, w = self.image_shape
            if X.shape[1] % (h * w):
                raise ValueError(
                    f"X has {X.shape[1]} features, not a multiple of the H * W = "
                    f"{h * w} pixels of image_shape={tuple(self.image_shape)}"
                )
            images = X.reshape(X.shape[0], -1, h, w)
        elif X.ndim in (3, 4):
            X = check_array(
                X, allow_nd=True, dtype=FLOAT_DTYPES, ensure_all_finite=False
            )
            images = X if X.ndim == 4 else X[:, None]
            if self.image_shape is not None and images.shape[2:] != tuple(
                self.image_shape
            ):
                raise ValueError(
                    f"X holds images of shape {images.shape[2:]} but "
                    f"image_shape={tuple(self.image_shape)}"
                )
            # n_features_in_ counts pixels, as for the flattened 2D form
            validate_data(
                self,
                images.reshape(len(images), -1),
                reset=reset,
                dtype=FLOAT_DTYPES,
                ensure_all_finite=False,
            )
        else:
            hint = ""
            if X.ndim == 1:
                hint = " Reshape your data: X.reshape(1, -1) is one flattened sample."
            raise ValueError(
                "X must have shape (n_samples, n_axes, H, W), (n_samples, H, W) or, "
                f"with image_shape, (n_samples, n_axes * H * W); got {X.ndim}D "
                f"shape {X.shape}.{hint}"
            )
        _check_finite_images(images)
        layout = tuple(int(n) for n in images.shape[1:])
        if reset:
            self.image_layout_ = layout
        elif layout != getattr(self, "image_layout_", layout):
            # the same pixel count in another layout (1 x 27 x 9, 3 x 9 x 9)
            raise ValueError(
                f"X holds images of layout (n_axes, H, W) = {layout}, but "
                f"SpotMeshShaper was fitted on {self.image_layout_}"
            )
        return images

    def fit(self, X, y=None):
        """Check the parameters and the images, and record the number of features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_axes, H, W), (n_samples, H, W) \
or (n_samples, n_axes * H * W)
            The last with ``image_shape`` only.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._check_params()
        self._validate_images(X, reset=True)
        return self

    def transform(self, X) -> np.ndarray:
        """Shape each image.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_axes, H, W), (n_samples, H, W) \
or (n_samples, n_axes * H * W)
            The last with ``image_shape`` only.

        Returns
        -------
        ndarray of float32
            ``(n_samples, n_axes, n_axes, H, W)`` for ``output="rgb"``,
            ``(n_samples, n_axes, H, W)`` for ``output="mesh"``, or either
            flattened to ``(n_samples, n_outputs)`` with ``flatten=True``.
        """
        radius, threshold, factor, line = self._check_params()
        images = self._validate_images(X, reset=False)
        n, n_axes, h, w = images.shape
        plain = _rescale(images.reshape(-1, h, w), radius)
        mesh = _mesh(plain, threshold, factor, line)
        if self.output == "mesh":
            out = mesh.reshape(n, n_axes, h, w)
        else:
            out = np.empty((n, n_axes, n_axes, h, w), dtype=np.float32)
            out[...] = plain.reshape(n, n_axes, 1, h, w)
            axes = np.arange(n_axes)
            out[:, axes, axes] = mesh.reshape(n, n_axes, h, w)
        return out.reshape(n, -1) if self.flatten else out


def _check_finite_images(images: np.ndarray) -> None:
    """Raise a ValueError naming the first non-finite pixel."""
    finite = np.isfinite(images)
    if finite.all():
        return
    i, a, r, c = (int(v) for v in np.argwhere(~finite)[0])
    kind = "NaN" if np.isnan(images[i, a, r, c]) else "inf"
    n_bad = int(np.count_nonzero(~finite.reshape(len(images), -1).all(axis=1)))
    more = f" ({n_bad} samples have non-finite values)" if n_bad > 1 else ""
    raise ValueError(
        f"Input X contains {kind} in sample {i} (axis {a}, pixel ({r}, {c})){more}; "
        "images must be finite"
    )


def _rescale(images: np.ndarray, radius: float) -> np.ndarray:
    """Blank the central beam, clip at 0 and scale each image to a maximum of 1.

    float32 of shape (n_images, H, W). The division is done in the input dtype,
    so float64 values beyond the float32 range do not overflow.
    """
    _, h, w = images.shape
    rows = np.arange(h) - (h - 1) / 2
    cols = np.arange(w) - (w - 1) / 2
    beam = rows[:, None] ** 2 + cols[None, :] ** 2 < radius**2
    peak = np.max(images, axis=(1, 2), where=~beam, initial=0)
    peak[peak == 0] = 1  # an image with no positive pixel stays zero, not NaN
    plain = np.empty(images.shape, dtype=np.float32)
    np.divide(images, peak[:, None, None], out=plain, casting="same_kind")
    np.maximum(plain, 0, out=plain)
    plain[:, beam] = 0
    return plain


def _mesh(plain: np.ndarray, threshold: float, factor: float, line: float):
    """The mesh images: lines between close spots, spot pixels on top."""
    is_spot = plain >= threshold
    mesh = plain.copy()
    labels, n_spots = ndimage.label(is_spot, structure=_STRUCTURE)
    if n_spots < 2:
        return mesh
    # Intensity-weighted centroids from the spot pixels alone (few, and the
    # labels of one image are consecutive, in raster order).
    k, y, x = np.nonzero(labels)
    lab = labels[k, y, x]
    weight = plain[k, y, x].astype(np.float64)
    total = np.bincount(lab, weight, minlength=n_spots + 1)[1:]
    pos = np.column_stack(
        [
            np.bincount(lab, weight * y, minlength=n_spots + 1)[1:] / total,
            np.bincount(lab, weight * x, minlength=n_spots + 1)[1:] / total,
        ]
    )
    image = np.empty(n_spots, dtype=np.intp)
    image[lab - 1] = k
    first, second = _close_pairs(image, pos, factor, extent=sum(plain.shape[1:]))
    _draw_segments(mesh, image[first], pos[first], pos[second], line)
    np.copyto(mesh, plain, where=is_spot)
    return mesh


def _close_pairs(image, pos, factor: float, extent: float):
    """Pairs of spots of one image closer than ``factor`` × its shortest distance.

    One k-d tree serves the whole batch: the images are stacked along a third
    coordinate, further apart than any two spots of an image can be.
    """
    points = np.column_stack([image * 2.0 * extent, pos])
    dist, nearest = cKDTree(points).query(points, k=2)
    own = image[nearest[:, 1]] == image  # no other spot in the image otherwise
    d_min = np.full(image[-1] + 1, np.inf)
    np.minimum.at(d_min, image, np.where(own, dist[:, 1], np.inf))
    d_min = d_min[image]
    keep = np.flatnonzero(np.isfinite(d_min) & (d_min > 0))
    # In units of its own d_min every image has the same radius, ``factor``.
    scaled = np.column_stack(
        [image[keep] * (2.0 * factor + 1.0), pos[keep] / d_min[keep, None]]
    )
    pairs = cKDTree(scaled).query_pairs(factor * (1 + 1e-9), output_type="ndarray")
    first, second = keep[pairs[:, 0]], keep[pairs[:, 1]]
    length = np.hypot(*(pos[first] - pos[second]).T)
    strict = length < factor * d_min[first]
    return first[strict], second[strict]


def _draw_segments(canvas, image, start, stop, value: float) -> None:
    """Set the pixels of the segments ``start -> stop`` of ``canvas[image]``."""
    if len(image) == 0:
        return
    delta = stop - start
    n = np.ceil(np.hypot(*delta.T) / _STEP).astype(np.intp) + 1
    seg = np.repeat(np.arange(len(n)), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    t = offset / np.maximum(n - 1, 1)[seg]
    points = start[seg] + t[:, None] * delta[seg]
    # Nearest pixel; a sample halfway between two pixels sets both. Any one
    # choice (np.rint's round-half-to-even) would break the symmetry of the
    # mesh under flips, 90° rotations and odd shifts of the image; the
    # tolerance absorbs the rounding of the centroids.
    low = np.floor(points + (0.5 - _TIE)).astype(np.intp)
    high = np.floor(points + (0.5 + _TIE)).astype(np.intp)
    frames = image[seg]
    for rows in (low[:, 0], high[:, 0]):
        for cols in (low[:, 1], high[:, 1]):
            canvas[frames, rows, cols] = value
