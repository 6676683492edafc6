"""Shared machinery of the deep classifiers: the sklearn facade and its skorch net.

:class:`_NeuralClassifier` holds the training parameters and builds, inside
``fit``, a :class:`_SkxrdNet` (a :class:`skorch.NeuralNetClassifier` that
augments training batches on the device and runs under bf16 autocast on GPUs).
Subclasses name their network (a class of :mod:`skxrd.models`) and its
parameters.
"""

from __future__ import annotations

import functools
import json
import numbers
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..utils._validation import check_bool, check_int, plain_scalar
from ..utils._warnings import caller_stacklevel
from ._core import (
    check_finite_outputs,
    check_label_types,
    check_same_length,
    normalized_probabilities,
)
from ._data import (
    _ArrayDataset,
    _as_store,
    _collate,
    _HeldRows,
    _holdout_indices,
    _HoldoutSplit,
    _StoreDataset,
    _train_loader,
)
from ._device import _draw_seed, _resolve_device, _seeded, _torch_threads
from ._mixins import _fit_temperature, _known_labels, _ProbabilisticMixin
from ._net import (
    _AcceleratedSkxrdNet,
    _kept_modes,
    _set_eval,
    _silent,
    _SkxrdNet,
    _uncompiled,
)
from ._weights import checked_sample_weight

try:
    import torch
    from skorch.callbacks import Checkpoint, EarlyStopping, LRScheduler, ProgressBar
    from skorch.utils import to_numpy

    from ..models import HierarchicalLoss
    from . import _resume
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "skxrd.estimators needs PyTorch and skorch: pip install skxrd[torch]"
    ) from exc

__all__ = ["_NeuralClassifier"]

_OPTIMIZERS = {
    "adamw": torch.optim.AdamW,
    "adam": torch.optim.Adam,
    "sgd": torch.optim.SGD,
}
_SCHEDULES = ("cosine", "plateau", None)
_PRECISIONS = ("auto", "bf16", "float32")


def restore_fitted(estimator, classes, n_features_in, state_dict):
    """A network classifier made fitted with stored weights, without training.

    The interface of :mod:`skxrd.pretrained` (model files, warm starts) to the
    estimators: the network is built from ``estimator``'s parameters for
    ``len(classes)`` classes and ``n_features_in`` points, on its ``device``,
    and ``state_dict`` is loaded into it; ``history_`` is empty and
    ``n_epochs_`` 0. A ValueError says when the weights do not fit the
    parameters.
    """
    return estimator._restore(classes, n_features_in, state_dict)


def _is_fitted_attr(name: str) -> bool:
    """Whether an attribute name is a fitted one (``classes_``, ``net_``)."""
    return name.endswith("_") and not name.startswith("_")


def _check_nonnegative_float(value, name, *, strict=False):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or value < 0
        or (strict and value == 0)
    ):
        kind = "> 0" if strict else ">= 0"
        raise ValueError(f"{name} must be a finite number {kind}, got {value!r}")
    return float(value)


def _space_group_classes(classes):
    """``classes`` as space-group numbers, or a ValueError naming the first
    class that is not one (``coarse_loss`` groups space groups)."""
    classes = np.asarray(classes)
    for label in classes.tolist():  # Python ints and strs: plain in the message
        if (
            isinstance(label, bool)
            or not isinstance(label, numbers.Integral)
            or not 1 <= label <= 230
        ):
            raise ValueError(
                "coarse_loss groups space groups: the labels must be space-group "
                f"numbers 1-230, got the class {label!r}"
            )
    return classes.astype(int)


class _NeuralClassifier(_ProbabilisticMixin, ClassifierMixin, BaseEstimator):
    """Base of the deep classifiers: training parameters, fit and prediction.

    Subclasses set ``_module_class`` (a :mod:`skxrd.models` network taking
    ``n_classes`` first) and ``_network_params`` (the names of their network
    parameters, passed to the network's constructor).
    """

    _module_class = None
    _network_params: tuple[str, ...] = ()

    def __init__(
        self,
        *,
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
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.label_smoothing = label_smoothing
        self.coarse_loss = coarse_loss
        self.class_weight = class_weight
        self.optimizer = optimizer
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.augment = augment
        self.device = device
        self.num_threads = num_threads
        self.precision = precision
        self.compile = compile
        self.accelerate = accelerate
        self.checkpoint_dir = checkpoint_dir
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    def __setstate__(self, state):
        # estimators pickled before class_weight existed trained unweighted
        state.setdefault("class_weight", None)
        super().__setstate__(state)

    # ------------------------------------------------------------------ #
    # parameters
    # ------------------------------------------------------------------ #
    def _network_kwargs(self) -> dict:
        kwargs = {}
        for name in self._network_params:
            value = getattr(self, name)
            if isinstance(value, list):  # GridSearchCV may pass lists
                value = tuple(value)
            kwargs[name] = value
        return kwargs

    def _check_params(self, n_features):
        """Check every parameter; the optimizer class and the augmentation."""
        self._check_schedule_params()
        self._check_runtime_params()
        return self._optimizer_class(), self._augmentation(n_features)

    def _check_schedule_params(self):
        """Epochs, batch size, learning rate, weight decay, validation split."""
        check_int(self.max_epochs, "max_epochs", minimum=1)
        for name in ("early_stopping", "warm_start"):
            check_bool(getattr(self, name), name)  # "no" would turn it on
        check_int(self.batch_size, "batch_size", minimum=1)
        check_int(self.patience, "patience", minimum=1)
        _check_nonnegative_float(self.lr, "lr", strict=True)
        _check_nonnegative_float(self.weight_decay, "weight_decay")
        smoothing = _check_nonnegative_float(self.label_smoothing, "label_smoothing")
        if smoothing >= 1:
            raise ValueError(
                f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}"
            )
        if (smoothing or self._coarse_weights()) and self._has_confidence_head():
            raise ValueError(
                "label_smoothing and coarse_loss change the cross-entropy of a "
                "network without a confidence head; confidence_head=True trains "
                "with ConfidenceLoss"
            )
        self._check_class_weight()
        if self.validation_fraction is not None:
            fraction = _check_nonnegative_float(
                self.validation_fraction, "validation_fraction"
            )
            if fraction >= 1:
                raise ValueError(
                    "validation_fraction must be in [0, 1), "
                    f"got {self.validation_fraction!r}"
                )

    def _check_class_weight(self):
        """``class_weight`` checked for what it can be without the labels:
        None, "balanced" or a dict of finite weights >= 0."""
        class_weight = self.class_weight
        if class_weight is None or (
            isinstance(class_weight, str) and class_weight == "balanced"
        ):
            return class_weight
        if not isinstance(class_weight, Mapping):
            raise ValueError(
                "class_weight must be None, 'balanced' or a dict of {class label: "
                f"weight}}, got {class_weight!r}"
            )
        for label, weight in class_weight.items():
            _check_nonnegative_float(weight, f"class_weight[{plain_scalar(label)!r}]")
        return class_weight

    def _sample_weight(self, sample_weight, y_encoded, classes, n_samples, where):
        """The weight of each training sample: ``sample_weight`` times the
        weight ``class_weight`` gives its class (float64), or None when both
        are None.

        ``where`` names what holds the samples in the length error ("X", "the
        pattern store"). A ValueError names a wrong length or shape, a value
        that is not finite or is negative, a ``class_weight`` key that is not
        a class, and weights that are all zero.
        """
        if sample_weight is None and self.class_weight is None:
            return None
        weight = checked_sample_weight(sample_weight, n_samples, where)
        if weight is None:  # class_weight alone
            weight = np.ones(n_samples)
        per_class = self._class_weights(y_encoded, classes, weight)
        if per_class is not None:
            weight *= per_class[y_encoded]
            if not weight.any():
                raise ValueError(
                    f"class_weight={self.class_weight!r} gives every sample weight "
                    "zero; at least one must be > 0"
                )
        return weight

    def _class_weights(self, y_encoded, classes, sample_weight):
        """The weight of each class of ``classes`` (float64), or None."""
        class_weight = self._check_class_weight()
        if class_weight is None:
            return None
        if isinstance(class_weight, str):  # "balanced"
            # n_samples / (n_classes * count), counts weighted by sample_weight,
            # over the classes in y, as sklearn's compute_class_weight (and
            # LogisticRegression) count them
            counts = np.bincount(
                y_encoded, weights=sample_weight, minlength=len(classes)
            )
            present = counts > 0
            per_class = np.ones(len(classes))
            per_class[present] = counts.sum() / (present.sum() * counts[present])
            return per_class
        index = {label: i for i, label in enumerate(classes.tolist())}
        per_class = np.ones(len(classes))
        for label, weight in class_weight.items():
            i = index.get(plain_scalar(label))
            if i is None:
                shown = [plain_scalar(c) for c in classes[:10]]
                more = ", ..." if len(classes) > 10 else ""
                raise ValueError(
                    f"class_weight names {plain_scalar(label)!r}, which is not a "
                    f"class (the classes: {str(shown)[:-1]}{more}])"
                )
            per_class[i] = float(weight)
        return per_class

    def _optimizer_class(self):
        """The torch optimizer class that ``optimizer`` names."""
        if isinstance(self.optimizer, str):
            if self.optimizer not in _OPTIMIZERS:
                raise ValueError(
                    f"optimizer must be one of {tuple(_OPTIMIZERS)} or a "
                    f"torch.optim.Optimizer subclass, got {self.optimizer!r}"
                )
            return _OPTIMIZERS[self.optimizer]
        elif isinstance(self.optimizer, type) and issubclass(
            self.optimizer, torch.optim.Optimizer
        ):
            return self.optimizer
        else:
            raise ValueError(
                f"optimizer must be one of {tuple(_OPTIMIZERS)} or a "
                f"torch.optim.Optimizer subclass, got {self.optimizer!r}"
            )

    def _check_runtime_params(self):
        """Schedule, precision, compile/accelerate, threads, checkpoints."""
        if self.lr_schedule not in _SCHEDULES:
            raise ValueError(
                f"lr_schedule must be one of {_SCHEDULES}, got {self.lr_schedule!r}"
            )
        if self.precision not in _PRECISIONS:
            raise ValueError(
                f"precision must be one of {_PRECISIONS}, got {self.precision!r}"
            )
        for name in ("compile", "accelerate"):
            if not isinstance(getattr(self, name), bool | Mapping):
                what = {"compile": "torch.compile", "accelerate": "Accelerator"}[name]
                raise ValueError(
                    f"{name} must be True, False or a dict of {what} arguments, "
                    f"got {getattr(self, name)!r}"
                )
        if self.accelerate is not False:
            if not (isinstance(self.device, str) and self.device == "auto"):
                raise ValueError(
                    "with accelerate, the accelerator places the network: leave "
                    f"device='auto' (got {self.device!r}); "
                    "accelerate={'cpu': True} trains on the CPU"
                )
            if self.precision != "auto":
                raise ValueError(
                    "with accelerate, the accelerator sets the mixed precision: "
                    f"leave precision='auto' (got {self.precision!r}); "
                    "accelerate={'mixed_precision': 'bf16'} trains in bf16"
                )
        check_int(self.verbose, "verbose", minimum=0)
        if self.num_threads is not None:
            check_int(self.num_threads, "num_threads", minimum=1)
        if self.checkpoint_dir is not None and not isinstance(
            self.checkpoint_dir, str | os.PathLike
        ):
            raise ValueError(
                f"checkpoint_dir must be None or a path, got {self.checkpoint_dir!r}"
            )

    def _augmentation(self, n_features):
        """The batch augmentation that ``augment`` names (None: none)."""
        augment = self.augment
        if isinstance(augment, str):
            if augment != "default":
                raise ValueError(
                    f"augment must be None, 'default' or a callable, got {augment!r}"
                )
            from ..augmentation import default_augmentation, default_two_theta
            from ..augmentation._compose import _KeepMaximum

            n_grid = len(default_two_theta())
            if n_features != n_grid:
                raise ValueError(
                    f"augment='default' needs patterns on the standard {n_grid}-point "
                    f"2θ grid, got {n_features} points; pass "
                    "augment=default_augmentation(two_theta=your_grid) instead"
                )
            # its output at each pattern's own maximum: max-normalized, the
            # training batches of area-normalized patterns (or counts) were
            # 10-100 times those of validation and prediction
            augment = _KeepMaximum(default_augmentation())
        elif augment is not None and not callable(augment):
            raise ValueError(
                f"augment must be None, 'default' or a callable, got {augment!r}"
            )
        return augment

    # ------------------------------------------------------------------ #
    # fit
    # ------------------------------------------------------------------ #
    def _callbacks(self, has_valid):
        callbacks = []
        if self.lr_schedule == "cosine":
            callbacks.append(
                (
                    "lr_scheduler",
                    LRScheduler(
                        policy=torch.optim.lr_scheduler.CosineAnnealingLR,
                        T_max=self.max_epochs,
                    ),
                )
            )
        elif self.lr_schedule == "plateau":
            callbacks.append(
                (
                    "lr_scheduler",
                    LRScheduler(
                        policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
                        monitor="valid_loss" if has_valid else "train_loss",
                        mode="min",
                        factor=0.1,
                        patience=max(1, self.patience // 2),
                    ),
                )
            )
        if self.early_stopping and has_valid:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.patience,
                        load_best=True,
                    ),
                )
            )
        if self.checkpoint_dir is not None:
            callbacks.append(
                (
                    "checkpoint",
                    # fn_prefix: the run's name, once fit knows it (_resume_state)
                    Checkpoint(
                        monitor="valid_loss_best" if has_valid else "train_loss_best",
                        dirname=os.fspath(self.checkpoint_dir),
                        f_criterion=None,
                    ),
                )
            )
        if self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        if self.checkpoint_dir is not None and self.accelerate is False:
            # last: it saves what the scheduler and early stopping did this epoch
            callbacks.append(("resume", _resume.ResumeState(self.checkpoint_dir)))
        return callbacks

    def _validate_input(self, X, y="no_validation", reset=True):
        """Validated float32 ``X`` (and ``y``) in the layout the network takes."""
        return validate_data(self, X, y, dtype=np.float32, reset=reset)

    def _validate_store(self, store, y=None, reset=True, fit=True):
        """The rows of a pattern store (and its labels when ``fit``).

        The patterns stay on disk; the feature checks of :meth:`_validate_input`
        run on one row of zeros of the store's width.
        """
        if fit:
            store.check_trainable()
        n_features = store.shape[1]
        self._validate_input(np.zeros((1, n_features), np.float32), reset=reset)
        rows = store.X
        if not fit:
            return rows
        if y is None:
            y = store.y
        else:
            y = column_or_1d(y, warn=True)
            if len(y) != len(store):
                raise ValueError(
                    f"y has {len(y)} labels but the pattern store has {len(store)} "
                    "patterns"
                )
        return rows, y

    def _data_module_kwargs(self) -> dict:
        """Network arguments that follow from the data seen in ``fit``."""
        return {}

    def _coarse_weights(self) -> dict:
        """``coarse_loss`` checked: ``{coarse target: weight}``, weights > 0."""
        from ..crystal._spacegroups import _COARSE_TARGETS

        if self.coarse_loss is None:
            return {}
        if not isinstance(self.coarse_loss, Mapping):
            raise ValueError(
                "coarse_loss must be None or a dict of {coarse target: weight}, "
                f"got {self.coarse_loss!r}"
            )
        weights = {}
        for target, weight in self.coarse_loss.items():
            if target not in _COARSE_TARGETS:
                raise ValueError(
                    f"coarse_loss: {target!r} is not one of {_COARSE_TARGETS}"
                )
            weight = _check_nonnegative_float(weight, f"coarse_loss[{target!r}]")
            if weight > 0:
                weights[target] = weight
        return weights

    def _criterion_kwargs(self, classes) -> dict:
        """skorch's ``criterion`` (and ``criterion__*``) arguments for ``classes``."""
        weights = self._coarse_weights()
        if not weights and not self.label_smoothing:
            return {"criterion": torch.nn.CrossEntropyLoss}
        groups = []
        if weights:
            from ._core import coarse_membership

            space_groups = _space_group_classes(classes)
            for target in weights:
                membership = coarse_membership(space_groups, target)[1]
                groups.append(membership.argmax(axis=1).tolist())
        return {
            "criterion": HierarchicalLoss,
            "criterion__groups": groups,
            "criterion__weights": list(weights.values()),
            "criterion__label_smoothing": float(self.label_smoothing),
        }

    def _has_confidence_head(self) -> bool:
        return bool(getattr(self, "confidence_head", False))

    def _accelerator(self):
        """A new ``accelerate.Accelerator`` for ``accelerate`` (None when off)."""
        if self.accelerate is False:
            return None
        try:
            from accelerate import Accelerator
        except ImportError:
            raise ImportError(
                f"{type(self).__name__}(accelerate=...) needs Hugging Face "
                "accelerate: pip install accelerate"
            ) from None
        kwargs = {} if self.accelerate is True else dict(self.accelerate)
        try:
            return Accelerator(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"accelerate={self.accelerate!r}: {exc}") from exc

    def _build_net(
        self,
        classes,
        optimizer,
        augment,
        split,
        device,
        *,
        compile=False,
        accelerator=None,
        weighted=False,
    ):
        optimizer_kwargs = {"optimizer__weight_decay": self.weight_decay}
        if optimizer is torch.optim.SGD:
            optimizer_kwargs.update(optimizer__momentum=0.9, optimizer__nesterov=True)
        module_kwargs = {
            f"module__{name}": value
            for name, value in {
                **self._network_kwargs(),
                **self._data_module_kwargs(),
            }.items()
        }
        extra = {}
        if compile is not False:
            extra["compile"] = True
            if isinstance(compile, Mapping):
                extra.update({f"compile__{k}": v for k, v in compile.items()})
        net_class, net_device = _SkxrdNet, str(device)
        if accelerator is not None:
            net_class, net_device = _AcceleratedSkxrdNet, None
            extra["accelerator"] = accelerator
            # skorch's PrintLog ignores verbose=0 with a sink other than print;
            # accelerator.print prints on the main process only
            extra["callbacks__print_log__sink"] = (
                accelerator.print if self.verbose >= 1 else _silent
            )
        if weighted:
            # one loss per sample, which the net's get_loss weighs
            extra["criterion__reduction"] = "none"
        pin = device.type == "cuda"
        n_classes = len(classes)
        return net_class(
            self._module_class,
            module__n_classes=n_classes,
            **module_kwargs,
            **self._criterion_kwargs(classes),
            # softmax of the logits (the first output of a confidence head)
            predict_nonlinearity=functools.partial(torch.softmax, dim=-1),
            optimizer=optimizer,
            lr=self.lr,
            **optimizer_kwargs,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=split,
            callbacks=self._callbacks(split is not None),
            classes=np.arange(n_classes),
            dataset=_ArrayDataset,
            iterator_train=_train_loader,
            iterator_train__shuffle=True,
            iterator_train__collate_fn=_collate,
            iterator_train__pin_memory=pin,
            iterator_valid__collate_fn=_collate,
            iterator_valid__pin_memory=pin,
            device=net_device,
            augment=augment,
            precision=self.precision,
            verbose=int(self.verbose >= 1),
            **extra,
        )

    def _plain_net(self, net, classes, optimizer, split, device, weighted=False):
        """The trained ``net`` with its uncompiled network, off the accelerator.

        What the fitted estimator keeps: a :class:`_SkxrdNet` that pickles and
        predicts anywhere, sharing the trained parameters (and history).
        """
        if isinstance(net, _AcceleratedSkxrdNet):
            net._unwrap_accelerator()  # no-op after training (unwrap_after_train)
        module, criterion = _uncompiled(net.module_), _uncompiled(net.criterion_)
        if type(net) is _SkxrdNet:
            net.module_, net.criterion_ = module, criterion
            net.compile = False
            return net
        plain = self._build_net(
            classes, optimizer, None, split, device, weighted=weighted
        )
        plain.initialize()
        plain.module_, plain.criterion_ = module, criterion
        plain.initialize_optimizer()
        plain.history = net.history
        return plain

    def fit(self, X, y=None, sample_weight=None):
        """Train the network on patterns ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or PatternStore
            Patterns, one per row (converted to float32); or a
            :class:`skxrd.datasets.PatternStore`, read from disk a batch at a
            time (training batches come from blocks of consecutive rows taken
            in random order, shuffled within groups of 32 MB).
        y : array-like of shape (n_samples,)
            Class labels of any type (ints such as space-group numbers, or
            strings); at least two classes. Optional with a store: by default
            its labels ``X.y``.
        sample_weight : array-like of shape (n_samples,) or float, default=None
            Weight of each sample (finite, >= 0, not all zero; with a store,
            one per pattern of the store), multiplied by the weight
            ``class_weight`` gives its class. Each sample's loss term is
            multiplied by its weight, and a batch's loss is the sum of its
            weighted terms divided by the batch's size (not by its weights'
            sum), so the epoch's training and validation losses are the
            weighted sums over their samples divided by their numbers; the
            accuracy ``valid_acc`` stays unweighted. Samples of weight 0 are
            left out of training (of the batches, the BatchNorm statistics and
            the validation split) as if removed. None, or weights that are
            all 1, trains exactly as without weights.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # a fit that fails part-way (a bad parameter, one class) leaves the
        # estimator as it was: not n_features_in_ of the new X over the old net
        fitted = {k: v for k, v in vars(self).items() if _is_fitted_attr(k)}
        try:
            return self._fit(X, y, sample_weight)
        except Exception:
            for k in [k for k in vars(self) if _is_fitted_attr(k)]:
                delattr(self, k)
            self.__dict__.update(fitted)
            raise

    def _fit(self, X, y, sample_weight=None):
        warm = bool(self.warm_start) and hasattr(self, "net_")
        store = _as_store(X)
        if store is not None:
            X, y = self._validate_store(store, y, reset=not warm)
        else:
            X, y = self._validate_input(X, y, reset=not warm)
        check_label_types(y)
        check_classification_targets(y)
        optimizer, augment = self._check_params(self.n_features_in_)
        classes, y_encoded = self._encode_labels(y, warm)
        weight = self._sample_weight(
            sample_weight,
            y_encoded,
            classes,
            len(y_encoded),
            "X" if store is None else "the pattern store",
        )
        held, weight = self._held_samples(weight, y_encoded, classes, warm)
        if held is not None:  # the samples of weight zero are left out
            y_encoded = y_encoded[held]
        weighted = weight is not None
        if self.checkpoint_dir is not None:  # before the net (skorch) makes it
            _resume.check_dir(self.checkpoint_dir)
        accelerator = self._accelerator()
        device = (
            accelerator.device
            if accelerator is not None
            else _resolve_device(self.device)
        )
        seed = _draw_seed(self.random_state)

        split = None  # stratified on the samples that train (weight > 0)
        fraction = self.validation_fraction
        if fraction and _holdout_indices(y_encoded, fraction, seed) is not None:
            split = _HoldoutSplit(float(fraction), seed)
        with _torch_threads(self.num_threads), _seeded(seed, device):
            net = self._build_net(
                classes,
                optimizer,
                augment,
                split,
                device,
                compile=self.compile,
                accelerator=accelerator,
                weighted=weighted,
            )
            net.initialize()
            if warm:
                self._load_previous_weights(net, accelerator)
            resume = self._resume_state(
                net,
                X if held is None else _HeldRows(X, held),
                y_encoded,
                classes,
                accelerator,
                seed=seed,
                sample_weight=weight,
            )
            if store is not None:  # labels in the dataset, and for the split
                X = _StoreDataset(X, y_encoded, sample_weight=weight, index=held)
            elif weighted or held is not None:  # weights in the batches' inputs
                X = _ArrayDataset(X, y_encoded, sample_weight=weight, index=held)
            epochs = None
            if resume is not None and resume.state is not None:
                epochs = _resume.restore(net, resume.state)
            net.partial_fit(X, y_encoded, epochs=epochs)
            interrupted = resume is not None and self._after_resumable_fit(net, resume)
            net = self._plain_net(
                net, classes, optimizer, split, device, weighted=weighted
            )
        # without a validation pass the last epoch left the network in
        # training mode: `net_.module_(x)` gave batch statistics and dropout
        _set_eval(net)

        self.classes_ = classes
        self.net_ = net
        self.history_ = net.history
        self.n_epochs_ = len(net.history)
        self.__dict__.pop("temperature_", None)  # fitted to the old weights
        if interrupted:
            # a warm start of the next fit begins from these weights, not the
            # run's: this tells it which run to resume (_resume_state)
            self._interrupted_run_ = {
                "digest": resume.digest,
                "base": resume.base,
                "weights": _resume.weights_digest(net.module_),
                # to tell a refit that the run's state file is gone
                "path": os.path.abspath(
                    _resume.state_path(self.checkpoint_dir, resume.key)
                ),
                "patterns": _resume.run_key(resume.digest, resume.rows),
                "epochs": len(net.history),
            }
        else:
            self.__dict__.pop("_interrupted_run_", None)
        return self

    def _resume_state(
        self, net, X, y_encoded, classes, accelerator, seed=None, sample_weight=None
    ):
        """The callback that saves (and restores) the training state in
        ``checkpoint_dir``, holding the state of this run if one was saved;
        None without ``checkpoint_dir`` (or with accelerate, whose wrapped
        optimizer and processes it does not cover). Names the best epoch's
        files of the ``Checkpoint`` callback after the run."""
        if self.checkpoint_dir is None:
            return None
        shape = (len(y_encoded), self.n_features_in_)
        warm = net.module_ if self.warm_start else None
        digest = _resume.fingerprint(
            self,
            y_encoded,
            shape,
            classes,
            warm,
            seed=seed,
            sample_weight=sample_weight,
        )
        rows = _resume.sample_rows(X)
        checkpoint = dict(net.callbacks_)["checkpoint"]
        if accelerator is not None:
            checkpoint.fn_prefix = f"{_resume.run_key(digest, rows)}-"
            return None
        resume = dict(net.callbacks_)["resume"]
        resume.base = _resume.fingerprint(
            self, y_encoded, shape, classes, seed=seed, sample_weight=sample_weight
        )
        resume.digest, resume.rows = digest, rows
        resume.key, resume.state = None, None
        run = getattr(self, "_interrupted_run_", None)
        if (
            run is not None
            and run["base"] == resume.base
            and (
                run["digest"] == digest
                or (warm is not None and run["weights"] == _resume.weights_digest(warm))
            )
        ):
            # "fit again" after an interrupted fit. After a warm start, the
            # weights it left are not those its run began from, so the digest
            # is the run's
            key, state = _resume.find_state(self.checkpoint_dir, run["digest"], rows)
            if state is not None:
                resume.digest, resume.key, resume.state = run["digest"], key, state
            else:
                self._warn_lost_run(run, rows, warm is not None)
        if resume.state is None:
            resume.key, resume.state = _resume.find_state(
                self.checkpoint_dir, digest, rows
            )
        checkpoint.fn_prefix = f"{resume.key}-"
        others = list(Path(self.checkpoint_dir).glob("resume-*.pt"))
        if resume.state is None and others and self.verbose >= 1:
            print(
                f"{os.fspath(self.checkpoint_dir)} holds {len(others)} training "
                "state(s), none of this run (other parameters, labels, patterns "
                "or warm-start weights): training from the first epoch",
                flush=True,
            )
        if resume.state is not None and self.verbose >= 1:
            done = len(json.loads(resume.state["history"]))
            print(
                f"resuming from {os.fspath(self.checkpoint_dir)}: {done} of "
                f"{self.max_epochs} epochs done"
                + (" (finished)" if resume.state["complete"] else ""),
                flush=True,
            )
        return resume

    def _warn_lost_run(self, run, rows, warm):
        """Warn that the interrupted ``run`` (``_interrupted_run_``), fit
        again on its patterns, has no state file to resume in
        ``checkpoint_dir``, and say what the fit does instead."""
        if run.get("patterns") != _resume.run_key(run["digest"], rows):
            return  # other patterns (or an estimator pickled before "path"): a new run
        path, here = Path(run["path"]), os.fspath(self.checkpoint_dir)
        if path.exists():  # checkpoint_dir changed since
            reason = (
                f"its state file is in {os.fspath(path.parent)!r}, not in "
                f"checkpoint_dir={here!r} (fit with that checkpoint_dir to resume it)"
            )
        else:
            reason = f"its state file {os.fspath(path)!r} was deleted"
        if warm:
            instead = (
                "this fit starts a new warm-started run from the weights the "
                f"interruption left (after epoch {run['epochs']}), not from those "
                "the run began from, with a fresh optimizer and learning-rate "
                f"schedule, for {self.max_epochs} epochs"
            )
        else:
            instead = "this fit trains afresh from the first epoch"
        warnings.warn(
            f"the interrupted training run cannot be resumed: {reason}; {instead}",
            UserWarning,
            # the user's line, also through a Pipeline or train_from_config
            stacklevel=caller_stacklevel(),
        )

    def _after_resumable_fit(self, net, resume):
        """Mark a finished run's state as complete; warn of an interrupted one
        (and return True for it)."""
        if _resume.finished(net):
            resume.save(net, complete=True)
            return False
        stopped = (
            f"training stopped after epoch {_resume.finished_epochs(net)} of "
            f"{self.max_epochs}; "
        )
        if isinstance(self.random_state, numbers.Integral) and not isinstance(
            self.random_state, bool
        ):
            advice = (
                f"fit again with checkpoint_dir={os.fspath(self.checkpoint_dir)!r}"
                " and the same data to resume it"
            )
        else:
            # each fit draws its own seed (its split, its initial weights): no
            # later fit is this run, and fitting again trained afresh
            advice = (
                f"with random_state={self.random_state!r} it cannot be resumed "
                "(every fit draws another seed, so a fit again trains from the "
                "first epoch): give an integer random_state to make a run "
                "resumable"
            )
        warnings.warn(stopped + advice, UserWarning, stacklevel=caller_stacklevel())
        return True

    def _held_samples(self, weight, y_encoded, classes, warm):
        """The samples that train and their weights: ``(held, weight)``.

        ``held`` indexes the samples of weight > 0 (None: all of them), and
        ``weight`` gives theirs (None when every one is 1: such a fit trains
        exactly as one without weights). Without a warm start, the held
        samples must hold at least two classes.
        """
        if weight is None:
            return None, None
        held = None
        if not np.all(weight > 0):
            held = np.flatnonzero(weight > 0)
            weight = weight[held]
            present = np.unique(y_encoded[held])
            if not warm and len(present) < 2:
                raise ValueError(
                    "sample_weight and class_weight leave samples of only 1 class "
                    f"with a weight > 0 ({plain_scalar(classes[present[0]])!r}); "
                    f"{type(self).__name__} needs samples of at least 2 classes"
                )
        if np.all(weight == 1):
            weight = None
        return held, weight

    def _encode_labels(self, y, warm):
        """The classes and ``y`` as int64 class indices.

        With a warm start, the classes of the previous fit (``y`` may hold no
        others); otherwise those of ``y``, at least two.
        """
        if warm:
            idx = np.clip(np.searchsorted(self.classes_, y), 0, len(self.classes_) - 1)
            unseen = self.classes_[idx] != y
            if np.any(unseen):
                raise ValueError(
                    "with warm_start=True, y must only hold the classes of the "
                    f"previous fit; unseen labels: {np.unique(y[unseen])[:10]}"
                )
            return self.classes_, idx.astype(np.int64)
        encoder = LabelEncoder()
        y_encoded = encoder.fit_transform(y)
        classes = encoder.classes_
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; "
                f"got 1 class ({plain_scalar(classes[0])!r})"
            )
        return classes, y_encoded.astype(np.int64)

    def _load_previous_weights(self, net, accelerator):
        """Copy the previous fit's parameters into the new net (warm start)."""
        module = net.module_
        if accelerator is not None:  # DDP-wrapped across processes
            module = accelerator.unwrap_model(module)
        module = _uncompiled(module)
        try:
            module.load_state_dict(self.net_.module_.state_dict())
        except RuntimeError as exc:
            raise ValueError(
                "warm_start=True needs the network parameters of the "
                f"previous fit: {exc}"
            ) from exc

    def _restore(self, classes, n_features_in, state_dict):
        """Make this estimator fitted with given network parameters, without training.

        Used to load stored weights (:mod:`skxrd.pretrained`): the network is
        built from the estimator's parameters for ``len(classes)`` classes and
        ``n_features_in`` points, then ``state_dict`` is loaded into it (on
        ``device``). ``history_`` is empty and ``n_epochs_`` is 0.
        """
        classes = np.asarray(classes)
        n_features_in = check_int(n_features_in, "n_features_in", minimum=1)
        # sets n_features_in_ and anything the network's shape follows from
        self._validate_input(np.zeros((1, n_features_in), np.float32), reset=True)
        optimizer, _ = self._check_params(n_features_in)
        device = _resolve_device(self.device)
        with _torch_threads(self.num_threads):
            net = self._build_net(classes, optimizer, None, None, device)
            # net.initialize() but for the optimizer, which prediction does not
            # need and whose construction imports torch._dynamo (2-3 s, most of
            # loading a model); fit builds a new net with one
            net._initialize_virtual_params()
            net._initialize_callbacks()
            net._initialize_module()
            net._initialize_criterion()
            net._initialize_history()
            net.initialized_ = True
            _set_eval(net)  # a fitted network is in eval mode, as after fit
            try:
                net.module_.load_state_dict(state_dict)
            except RuntimeError as exc:
                raise ValueError(
                    f"the stored network parameters do not fit {type(self).__name__}"
                    f" with these parameters: {exc}"
                ) from exc
        self.classes_ = classes
        self.net_ = net
        self.history_ = net.history
        self.n_epochs_ = 0
        self.__dict__.pop("temperature_", None)
        return self

    # ------------------------------------------------------------------ #
    # prediction
    # ------------------------------------------------------------------ #
    def predict_proba(self, X):
        """Class probabilities of patterns ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or PatternStore
            Patterns, one per row; a :class:`skxrd.datasets.PatternStore` is
            read a batch at a time.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities (rows sum to 1), columns in the order of ``classes_``.

        Raises
        ------
        ValueError
            Naming the rows of ``X`` whose network output is not finite
            (values so large that they overflow float32 inside the network).
        """
        return self._predict_proba_confidence(X)[0]

    def _predict_proba_confidence(self, X):
        """Class probabilities and confidence of ``X``, in one forward pass."""
        check_is_fitted(self)
        store = _as_store(X)
        if store is not None:
            X = _StoreDataset(self._validate_store(store, reset=False, fit=False))
        else:
            X = self._validate_input(X, reset=False)
        if self.num_threads is not None:
            check_int(self.num_threads, "num_threads", minimum=1)
        probas, confidences = [], []
        # fork_rng: each DataLoader draws a seed from torch's global generator
        with (
            _torch_threads(self.num_threads),
            torch.random.fork_rng(devices=[]),
            _kept_modes(self.net_),
        ):
            for out in self.net_.forward_iter(X, training=False):
                if isinstance(out, tuple):  # (logits, confidence) of a head
                    out, confidence = out
                    confidences.append(to_numpy(confidence))
                out = out.float() / getattr(self, "temperature_", 1.0)
                probas.append(torch.softmax(out, dim=-1))
        proba = normalized_probabilities(probas)
        if not confidences:
            return proba, proba.max(axis=1)
        return proba, np.concatenate(confidences).astype(np.float64)

    def calibrate_temperature(self, X, y):
        """Fit a temperature on held-out patterns so probabilities are calibrated.

        Temperature scaling (Guo et al., ICML 2017): the logits are divided by
        one number, fitted to minimize the log-loss of ``(X, y)``, so the
        ranking (and accuracy) stays the same while over- or under-confident
        probabilities become calibrated. Use patterns the network was not
        trained on. :meth:`predict_proba` uses ``temperature_`` from then on,
        and model files (:func:`skxrd.pretrained.save_model`) keep it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Held-out patterns.
        y : array-like of shape (n_samples,)
            Their labels; labels that are not among ``classes_`` are left out.

        Returns
        -------
        self : object
            With ``temperature_`` set.

        Examples
        --------
        >>> import numpy as np
        >>> from skxrd.estimators import CNNClassifier
        >>> rng = np.random.default_rng(0)
        >>> X = rng.random((80, 64)); y = np.repeat([0, 1], 40)
        >>> X[y == 1, 20] += 3.0
        >>> clf = CNNClassifier(channels=(4,), max_epochs=5, random_state=0)
        >>> clf = clf.fit(X[::2], y[::2]).calibrate_temperature(X[1::2], y[1::2])
        >>> bool(clf.temperature_ > 0)
        True
        """
        check_is_fitted(self)
        y = column_or_1d(y, warn=True)
        store = _as_store(X)
        if store is not None:  # as predict_proba takes one
            X = self._validate_store(store, reset=False, fit=False)
        else:
            X = self._validate_input(X, reset=False)
        check_same_length(X, y)
        try:
            idx, known = _known_labels(self.classes_, y)
        except TypeError:  # numbers and strings, which do not compare
            raise ValueError(
                f"y mixes label types ({sorted({type(v).__name__ for v in y})}); "
                f"the classes are {self.classes_.dtype}"
            ) from None
        held = X[np.flatnonzero(known)] if store is not None else X[known]
        logits = []
        with (
            _torch_threads(self.num_threads),
            torch.random.fork_rng(devices=[]),
            _kept_modes(self.net_),
        ):
            for out in self.net_.forward_iter(held, training=False):
                out = out[0] if isinstance(out, tuple) else out
                logits.append(out.float().cpu())
        z = torch.cat(logits).double().numpy()
        check_finite_outputs(z, "logits", rows=np.flatnonzero(known))
        self.temperature_ = _fit_temperature(z, idx[known])
        return self

    def predict_confidence(self, X):
        """Confidence of the prediction for each pattern, in [0, 1].

        The output of the learned confidence head when the network has one
        (``confidence_head=True``), else the probability of the predicted
        class. Used by :class:`AbstainingClassifier` to refuse uncertain
        answers and by :class:`UnionClassifier` to rank its members.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns, one per row.

        Returns
        -------
        ndarray of shape (n_samples,)
            Confidence of each prediction.
        """
        return self._predict_proba_confidence(X)[1]

    # ------------------------------------------------------------------ #
    # devices, tags
    # ------------------------------------------------------------------ #
    def set_device(self, device):
        """Move the fitted network (and optimizer state) to another device.

        A model pickled on a GPU loads on a CPU-only machine on the CPU (with
        skorch's ``DeviceWarning``); use this to move it back to a GPU, or to
        a CPU, for prediction or ``warm_start`` training. The ``device``
        parameter is left as it is (it applies to the next ``fit``).

        Parameters
        ----------
        device : str or torch.device
            ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``...

        Returns
        -------
        self : object
            The estimator.
        """
        check_is_fitted(self)
        dev = _resolve_device(device)
        net = self.net_
        net.module_.to(dev)
        net.criterion_.to(dev)
        # reload the optimizer state: torch casts it to the parameters' device
        if hasattr(net, "optimizer_"):  # restored models have none
            net.optimizer_.load_state_dict(net.optimizer_.state_dict())
        net.device = str(dev)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        tags.classifier_tags.multi_label = False
        # bit-reproducible on CPUs; GPU kernels (cuDNN, atomics) need not be
        try:
            device = _resolve_device(self.device)
        except ValueError:
            device = torch.device("cpu")
        tags.non_deterministic = device.type == "cuda"
        return tags
