"""Classifiers of 2D diffraction images: MSDNClassifier, FingerprintCNNClassifier."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils.validation import validate_data

from ..models import FingerprintCNN, MultiStreamDenseNet
from ._base import _NeuralClassifier
from ._docs import _fill_doc

__all__ = ["FingerprintCNNClassifier", "MSDNClassifier"]

_INPUT_DOC = """\
input_shape : tuple of int or None, default=None
    The shape of one sample, {layout}, used to reshape a 2D ``X`` of
    flattened images (as passed along a scikit-learn pipeline). None: an
    ``X`` with more than two axes gives the shape itself; a 2D ``X`` is taken
    as images of height 1 ({flat})."""


def _input_doc(layout, flat):
    """Class decorator: fill the ``{input_shape}`` section of the docstring."""

    def fill(cls):
        text = _INPUT_DOC.format(layout=layout, flat=flat)
        block = "\n".join("    " + line if line else "" for line in text.splitlines())
        cls.__doc__ = cls.__doc__.replace("    {input_shape}", block)
        return cls

    return fill


class _ImageInputMixin:
    """Images as nd arrays, or flattened to 2D with ``input_shape``.

    ``n_features_in_`` counts the values of one sample; ``input_shape_`` is
    its shape as the network sees it.
    """

    _sample_ndim: int  # axes of one sample: 4 for (S, C, H, W), 3 for (C, H, W)
    _layout: str

    def _flat_shape(self, n_features):
        return (1,) * (self._sample_ndim - 1) + (n_features,)

    def _sample_shape(self, shape, what):
        """``shape`` completed with a channel axis of 1 when it has one axis less."""
        # integers only: int() would truncate 8.5 and parse "8" without a word
        try:
            items = tuple(shape)
        except TypeError:
            items = None
        if items is None or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in items
        ):
            raise ValueError(
                f"{what} must describe one sample as {self._layout} in integers, "
                f"got {shape!r}"
            )
        shape = tuple(int(n) for n in items)
        if len(shape) == self._sample_ndim - 1:
            shape = shape[:-2] + (1,) + shape[-2:]
        if len(shape) != self._sample_ndim or min(shape) < 1:
            raise ValueError(
                f"{what} must describe one sample as {self._layout}, got {shape}"
            )
        return shape

    def _validate_input(self, X, y="no_validation", reset=True):
        # nested lists are array-like too; a DataFrame is a flat table
        arr = None
        if not hasattr(X, "columns"):
            try:
                arr = np.asarray(X)
            except ValueError:  # ragged: validate_data says what is wrong
                arr = None
        nd = arr is not None and arr.ndim > 2
        if nd:
            shape = self._sample_shape(arr.shape[1:], "the shape of X[0]")
            # len(arr) rows: an empty X reaches validate_data, which names it
            flat = arr.reshape(len(arr), int(np.prod(arr.shape[1:])))
            if not reset and shape != getattr(self, "input_shape_", shape):
                raise ValueError(
                    f"X has samples of shape {shape}, but {type(self).__name__} "
                    f"was fitted on samples of shape {self.input_shape_}"
                )
        else:
            flat = X
        no_y = isinstance(y, str) and y == "no_validation"
        if no_y:
            flat = validate_data(self, flat, dtype=np.float32, reset=reset)
        else:
            flat, y = validate_data(self, flat, y, dtype=np.float32, reset=reset)
        n_features = flat.shape[1]
        if reset:
            if nd:
                self.input_shape_ = shape
            elif self.input_shape is not None:
                given = self._sample_shape(self.input_shape, "input_shape")
                if int(np.prod(given)) != n_features:
                    raise ValueError(
                        f"input_shape={tuple(self.input_shape)} holds "
                        f"{int(np.prod(given))} values but X has {n_features} "
                        "features per sample"
                    )
                self.input_shape_ = given
            else:
                self.input_shape_ = self._flat_shape(n_features)
        X = np.ascontiguousarray(flat.reshape((len(flat),) + self.input_shape_))
        return X if no_y else (X, y)

    def _check_params(self, n_features):
        if isinstance(self.augment, str) and self.augment == "default":
            raise ValueError(
                "augment='default' is the augmentation of 1D powder patterns; pass "
                "a callable that transforms a batch of images, or None"
            )
        return super()._check_params(n_features)


@_input_doc("``(n_streams, n_channels, height, width)``", "``(1, 1, 1, n_features)``")
@_fill_doc
class MSDNClassifier(_ImageInputMixin, _NeuralClassifier):
    """Classify sets of diffraction images with a multi-stream DenseNet.

    The network of the shaped zone-axis study: one 2D DenseNet per stream (for
    example the three zone-axis images of a crystal along a, b and c, shaped
    into RGB images by :class:`skxrd.preprocessing.SpotMeshShaper`), the
    streams' logits summed (:class:`skxrd.models.MultiStreamDenseNet`). The
    number of streams and channels follows from the data in ``fit``. Training
    as in :class:`ResNetClassifier`.

    Parameters
    ----------
    growth_rate : int, default=12
        Channels added by each dense layer.
    block_config : tuple of int, default=(4, 4, 4)
        Number of dense layers in each dense block.
    kernel_size : int, default=3
        Convolution kernel size (pixels).
    dropout : float, default=0.1
        Dropout after each dense layer.
    stem_stride : int, default=2
        Stride of each stream's first convolution.
    {input_shape}
    {training_parameters}

    Attributes
    ----------
    input_shape_ : tuple of int
        The shape ``(n_streams, n_channels, height, width)`` of one sample.
    {attributes}

    See Also
    --------
    skxrd.simulation.DiffractionImageSimulator : zone-axis images of crystals.
    skxrd.preprocessing.SpotMeshShaper : the shaping of spot images.
    FingerprintCNNClassifier : a CNN for single fingerprint images.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.estimators import MSDNClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["cubic", "hexagonal"], 12)
    >>> X = rng.random((24, 3, 1, 12, 12)).astype("float32") * 0.1
    >>> X[y == "cubic", :, 0, 6, 6] += 1.0        # a spot in every stream
    >>> clf = MSDNClassifier(growth_rate=4, block_config=(1,), max_epochs=15,
    ...                      lr=1e-2, batch_size=4, validation_fraction=None,
    ...                      random_state=0)
    >>> clf.fit(X, y).input_shape_
    (3, 1, 12, 12)
    >>> clf.score(X, y)
    1.0
    >>> clf.predict(X.reshape(24, -1)[:2])         # flattened images work too
    array(['cubic', 'cubic'], dtype='<U9')
    """

    _module_class = MultiStreamDenseNet
    _network_params = (
        "growth_rate",
        "block_config",
        "kernel_size",
        "dropout",
        "stem_stride",
    )
    _sample_ndim = 4
    _layout = "(n_streams, n_channels, height, width) or (n_streams, height, width)"

    def __init__(
        self,
        *,
        growth_rate=12,
        block_config=(4, 4, 4),
        kernel_size=3,
        dropout=0.1,
        stem_stride=2,
        input_shape=None,
        max_epochs=30,
        batch_size=128,
        lr=1e-3,
        weight_decay=1e-4,
        label_smoothing=0.0,
        coarse_loss=None,
        class_weight=None,
        optimizer="adamw",
        lr_schedule="cosine",
        early_stopping=True,
        patience=5,
        validation_fraction=0.1,
        augment=None,
        device="auto",
        num_threads=None,
        precision="auto",
        compile=False,
        accelerate=False,
        checkpoint_dir=None,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            label_smoothing=label_smoothing,
            coarse_loss=coarse_loss,
            class_weight=class_weight,
            optimizer=optimizer,
            lr_schedule=lr_schedule,
            early_stopping=early_stopping,
            patience=patience,
            validation_fraction=validation_fraction,
            augment=augment,
            device=device,
            num_threads=num_threads,
            precision=precision,
            compile=compile,
            accelerate=accelerate,
            checkpoint_dir=checkpoint_dir,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
        )
        self.growth_rate = growth_rate
        self.block_config = block_config
        self.kernel_size = kernel_size
        self.dropout = dropout
        self.stem_stride = stem_stride
        self.input_shape = input_shape

    def _data_module_kwargs(self):
        n_streams, n_channels = self.input_shape_[:2]
        return {"n_streams": n_streams, "in_channels": n_channels, "dims": 2}


@_input_doc("``(n_channels, height, width)``", "``(1, 1, n_features)``")
@_fill_doc
class FingerprintCNNClassifier(_ImageInputMixin, _NeuralClassifier):
    """Classify diffraction fingerprints (RGB images) with a six-layer CNN.

    The classifier of the defect-robust fingerprint study
    (:class:`skxrd.models.FingerprintCNN`) on images such as those of
    :class:`skxrd.simulation.DiffractionImageSimulator` in ``"fingerprint"``
    mode (R, G, B = the diffraction of a rotated cluster about x, y, z). The
    number of channels follows from the data in ``fit``. Training as in
    :class:`ResNetClassifier`.

    Parameters
    ----------
    channels : tuple of int, default=(32, 32, 64, 64, 128, 128)
        Output channels of the convolutions (a max pool after every second).
    kernel_size : int, default=3
        Convolution kernel size (pixels).
    dropout : float, default=0.25
        Dropout before the classification layer.
    {input_shape}
    {training_parameters}

    Attributes
    ----------
    input_shape_ : tuple of int
        The shape ``(n_channels, height, width)`` of one sample.
    {attributes}

    See Also
    --------
    MSDNClassifier : a multi-stream DenseNet for sets of images.
    skxrd.inspection.attentive_response_map : which pixels drove an answer.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.estimators import FingerprintCNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["bcc", "fcc"], 12)
    >>> X = rng.random((24, 3, 16, 16)).astype("float32") * 0.1
    >>> X[y == "fcc", 1, 4, 4] += 1.0
    >>> clf = FingerprintCNNClassifier(channels=(8, 8), max_epochs=15, lr=1e-2,
    ...                                batch_size=4, validation_fraction=None,
    ...                                random_state=0)
    >>> clf.fit(X, y).input_shape_
    (3, 16, 16)
    >>> clf.score(X, y)
    1.0
    """

    _module_class = FingerprintCNN
    _network_params = ("channels", "kernel_size", "dropout")
    _sample_ndim = 3
    _layout = "(n_channels, height, width) or (height, width)"

    def __init__(
        self,
        *,
        channels=(32, 32, 64, 64, 128, 128),
        kernel_size=3,
        dropout=0.25,
        input_shape=None,
        max_epochs=30,
        batch_size=128,
        lr=1e-3,
        weight_decay=1e-4,
        label_smoothing=0.0,
        coarse_loss=None,
        class_weight=None,
        optimizer="adamw",
        lr_schedule="cosine",
        early_stopping=True,
        patience=5,
        validation_fraction=0.1,
        augment=None,
        device="auto",
        num_threads=None,
        precision="auto",
        compile=False,
        accelerate=False,
        checkpoint_dir=None,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            label_smoothing=label_smoothing,
            coarse_loss=coarse_loss,
            class_weight=class_weight,
            optimizer=optimizer,
            lr_schedule=lr_schedule,
            early_stopping=early_stopping,
            patience=patience,
            validation_fraction=validation_fraction,
            augment=augment,
            device=device,
            num_threads=num_threads,
            precision=precision,
            compile=compile,
            accelerate=accelerate,
            checkpoint_dir=checkpoint_dir,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
        )
        self.channels = channels
        self.kernel_size = kernel_size
        self.dropout = dropout
        self.input_shape = input_shape

    def _data_module_kwargs(self):
        return {"in_channels": self.input_shape_[0]}
