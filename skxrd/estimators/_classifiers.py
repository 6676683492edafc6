"""The deep classifiers: ResNetClassifier, DenseNetClassifier, CNNClassifier."""

from __future__ import annotations

from ..models import CNN1D, ConfidenceLoss, DenseNet1D, ResNet1D
from ..utils._validation import check_bool
from ._base import _check_nonnegative_float, _NeuralClassifier
from ._core import NETWORK_PARAMS
from ._docs import _fill_doc

__all__ = ["CNNClassifier", "DenseNetClassifier", "ResNetClassifier"]


@_fill_doc
class ResNetClassifier(_NeuralClassifier):
    """Classify diffraction patterns with a 1D residual network.

    A scikit-learn facade: ``fit`` builds a :class:`skorch.NeuralNetClassifier`
    around :class:`skxrd.models.ResNet1D` and trains it with cross-entropy,
    a seeded stratified validation split, early stopping and a learning-rate
    schedule, on the GPU when there is one (bf16 autocast). Labels may be of
    any type; all parameters are reachable by
    :class:`~sklearn.model_selection.GridSearchCV` (``resnetclassifier__depth``
    in a pipeline).

    Parameters
    ----------
    depth : int, default=8
        Number of residual blocks.
    width : int, default=32
        Channels of the first stage.
    kernel_size : int, default=7
        Convolution kernel size (points).
    dropout : float, default=0.1
        Dropout between the two convolutions of each residual block.
    stem_stride : int, default=2
        Stride of the first convolution; 4 halves the cost of the network on
        long patterns (4250 points) at little loss of resolution.
    confidence_head : bool, default=False
        Give the network a learned confidence head (DeVries & Taylor, 2018),
        trained with :class:`skxrd.models.ConfidenceLoss`: ``predict_confidence``
        then returns its output instead of the highest probability. The
        members of :class:`UnionClassifier` use it.
    confidence_budget : float, default=0.3
        With ``confidence_head=True``: the target mean ``-log c`` of a
        training batch, to which the weight of the confidence penalty adapts.
    {training_parameters}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    UnionClassifier : an extensible union of ResNets with confidence heads.
    DenseNetClassifier : the same with a densely connected network.
    CNNClassifier : the same with a plain convolutional network.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.estimators import ResNetClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([225, 14], 20)                  # space-group numbers
    >>> X = rng.random((40, 64)).astype("float32")
    >>> X[y == 225, 20] += 5.0                        # a class-specific peak
    >>> clf = ResNetClassifier(depth=2, width=8, max_epochs=20, lr=1e-2,
    ...                        validation_fraction=None, random_state=0)
    >>> clf.fit(X, y).classes_
    array([ 14, 225])
    >>> clf.score(X, y)
    1.0
    >>> labels, proba = clf.predict_top_k(X[:1], k=2)
    >>> labels
    array([[225,  14]])
    """

    _module_class = ResNet1D
    _network_params = NETWORK_PARAMS["ResNetClassifier"][1]

    def __init__(
        self,
        *,
        depth=8,
        width=32,
        kernel_size=7,
        dropout=0.1,
        stem_stride=2,
        confidence_head=False,
        confidence_budget=0.3,
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
        self.depth = depth
        self.width = width
        self.kernel_size = kernel_size
        self.dropout = dropout
        self.stem_stride = stem_stride
        self.confidence_head = confidence_head
        self.confidence_budget = confidence_budget

    def _check_params(self, n_features):
        checked = super()._check_params(n_features)
        check_bool(self.confidence_head, "confidence_head")
        _check_nonnegative_float(
            self.confidence_budget, "confidence_budget", strict=True
        )
        return checked

    def _criterion_kwargs(self, classes):
        if not self.confidence_head:
            return super()._criterion_kwargs(classes)
        return {
            "criterion": ConfidenceLoss,
            "criterion__budget": float(self.confidence_budget),
        }


@_fill_doc
class DenseNetClassifier(_NeuralClassifier):
    """Classify diffraction patterns with a 1D densely connected network.

    As :class:`ResNetClassifier`, with :class:`skxrd.models.DenseNet1D`.

    Parameters
    ----------
    growth_rate : int, default=16
        Channels added by each dense layer.
    block_config : tuple of int, default=(4, 4, 4)
        Number of dense layers in each dense block.
    kernel_size : int, default=7
        Convolution kernel size (points).
    dropout : float, default=0.1
        Dropout before the classification layer.
    stem_stride : int, default=2
        Stride of the first convolution, as :class:`ResNetClassifier`'s: 4
        halves the cost of the network on long patterns (4250 points).
    {training_parameters}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    ResNetClassifier : the same with a residual network.
    CNNClassifier : the same with a plain convolutional network.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.estimators import DenseNetClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["cubic", "monoclinic"], 20)
    >>> X = rng.random((40, 64)).astype("float32")
    >>> X[y == "cubic", 20] += 5.0
    >>> clf = DenseNetClassifier(growth_rate=4, block_config=(1, 1), max_epochs=20,
    ...                          lr=1e-2, validation_fraction=None, random_state=0)
    >>> clf.fit(X, y).predict(X[:2])
    array(['cubic', 'cubic'], dtype='<U10')
    >>> clf.predict_proba(X[:2]).sum(axis=1)
    array([1., 1.])
    """

    _module_class = DenseNet1D
    _network_params = NETWORK_PARAMS["DenseNetClassifier"][1]

    def __init__(
        self,
        *,
        growth_rate=16,
        block_config=(4, 4, 4),
        kernel_size=7,
        dropout=0.1,
        stem_stride=2,
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


@_fill_doc
class CNNClassifier(_NeuralClassifier):
    """Classify diffraction patterns with a plain 1D convolutional network.

    As :class:`ResNetClassifier`, with :class:`skxrd.models.CNN1D`
    (convolution, ReLU and max-pooling stages, as in the early XRD
    classification papers).

    Parameters
    ----------
    channels : tuple of int, default=(64, 64, 64)
        Channels of each convolution stage.
    kernel_size : int, default=7
        Convolution kernel size (points).
    pool : int, default=2
        Max-pooling size after each stage.
    dropout : float, default=0.1
        Dropout before the classification layer.
    {training_parameters}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    ResNetClassifier : the same with a residual network.
    DenseNetClassifier : the same with a densely connected network.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.estimators import CNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([225, 14], 20)
    >>> X = rng.random((40, 64)).astype("float32")
    >>> X[y == 225, 20] += 5.0
    >>> clf = CNNClassifier(channels=(8, 8), max_epochs=20, lr=1e-2,
    ...                     validation_fraction=None, random_state=0)
    >>> clf.fit(X, y).n_epochs_
    20
    >>> clf.predict(X[:3])
    array([225, 225, 225])
    """

    _module_class = CNN1D
    _network_params = NETWORK_PARAMS["CNNClassifier"][1]

    def __init__(
        self,
        *,
        channels=(64, 64, 64),
        kernel_size=7,
        pool=2,
        dropout=0.1,
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
        self.pool = pool
        self.dropout = dropout
