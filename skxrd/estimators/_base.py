"""Shared machinery of the deep classifiers: the sklearn facade and its skorch net.

:class:`_NeuralClassifier` holds the training parameters and builds, inside
``fit``, a :class:`_SkxrdNet` (a :class:`skorch.NeuralNetClassifier` that
augments training batches on the device and runs under bf16 autocast on GPUs).
Subclasses name their network (a class of :mod:`skxrd.models`) and its
parameters.
"""

from __future__ import annotations

import contextlib
import functools
import numbers
import os
import re
from collections.abc import Mapping

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..utils._torch import resolve_device
from ..utils._validation import check_int
from ._mixins import _ProbabilisticMixin

try:
    import torch
    from skorch import NeuralNetClassifier
    from skorch.callbacks import (
        Checkpoint,
        EarlyStopping,
        LRScheduler,
        ProgressBar,
    )
    from skorch.dataset import unpack_data
    from skorch.hf import AccelerateMixin
    from skorch.utils import to_numpy, to_tensor
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


# --------------------------------------------------------------------------- #
# Devices, precision, seeding
# --------------------------------------------------------------------------- #
def _resolve_device(device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU (see ``utils._torch``)."""
    return resolve_device(device, kinds=("cpu", "cuda", "mps", "xpu"))


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


def _autocast_dtype(precision, device):
    """The autocast dtype for ``precision`` on ``device``; None for float32."""
    dev = torch.device(device)
    if precision == "bf16":
        return torch.bfloat16
    if precision == "auto" and dev.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


@contextlib.contextmanager
def _torch_threads(n_threads):
    """Run with ``n_threads`` torch CPU threads (None: unchanged), then restore."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def _seeded(seed: int, device: torch.device):
    """Seed torch's CPU (and ``device``'s CUDA) generator, restoring them after."""
    cuda = device.type == "cuda"
    index = (
        (device.index if device.index is not None else torch.cuda.current_device())
        if cuda
        else None
    )
    with torch.random.fork_rng(devices=[index] if cuda else []):
        torch.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


# --------------------------------------------------------------------------- #
# Data: batched indexing, tail-merging batches, seeded stratified hold-out
# --------------------------------------------------------------------------- #
class _ArrayDataset(torch.utils.data.Dataset):
    """Rows of a 2D float32 array (and integer targets), fetched a batch at a time.

    ``__getitems__`` gathers a whole batch with one numpy fancy-indexing call
    (no per-sample tensors and collation), which :func:`_collate` passes on.
    """

    def __init__(self, X, y=None, length=None):
        self.X = X
        self.y = None if y is None else np.asarray(y, dtype=np.int64)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.__getitems__([i])

    def __getitems__(self, indices):
        idx = np.asarray(indices, dtype=np.intp)
        xb = torch.from_numpy(np.ascontiguousarray(self.X[idx], dtype=np.float32))
        if self.y is None:
            yb = torch.zeros(len(idx), dtype=torch.int64)
        else:
            yb = torch.from_numpy(self.y[idx])
        return xb, yb


def _collate(batch):
    """The batch is already collated by :meth:`_ArrayDataset.__getitems__`."""
    return batch


# Rows shuffled together when training from a pattern store (the store's HDF5
# chunk cache holds them).
_SHUFFLE_GROUP_BYTES = 32 << 20


class _StoreDataset(_ArrayDataset):
    """Rows of a :class:`skxrd.datasets.PatternStore`, read from disk a batch at a time.

    ``shuffle_blocks`` ``(block_rows, group_rows)`` tells :func:`_train_loader`
    to shuffle the order of blocks of consecutive rows (one HDF5 chunk each)
    and the rows within groups of blocks, so that reads stay within a few
    chunks (held by the store's chunk cache) rather than all over the file.
    """

    def __init__(self, rows, y=None):
        super().__init__(rows, y)
        block = max(1, int(rows.chunks[0]))
        row_bytes = 4 * int(rows.shape[1])
        group = max(1, _SHUFFLE_GROUP_BYTES // (row_bytes * block)) * block
        self.shuffle_blocks = (block, group)


def _as_store(X):
    """``X`` when it is a :class:`skxrd.datasets.PatternStore`, else None."""
    from ..datasets import PatternStore

    return X if isinstance(X, PatternStore) else None


class _BlockShuffleSampler(torch.utils.data.Sampler):
    """A random order of ``range(n)`` that reads rows of a store mostly in order.

    Blocks of ``block_rows`` consecutive indices are taken in random order;
    each run of blocks that together hold ``group_rows`` indices is permuted
    as a whole. Seeded from torch's global generator, like
    :class:`torch.utils.data.RandomSampler`.
    """

    def __init__(self, n, block_rows, group_rows):
        self.n = n
        self.block_rows = block_rows
        self.group_blocks = max(1, group_rows // block_rows)

    def __iter__(self):
        seed = int(torch.empty((), dtype=torch.int64).random_().item())
        rng = np.random.default_rng(seed)
        starts = np.arange(0, self.n, self.block_rows)
        order = starts[rng.permutation(len(starts))]
        for g in range(0, len(order), self.group_blocks):
            group = np.concatenate(
                [
                    np.arange(a, min(a + self.block_rows, self.n))
                    for a in order[g : g + self.group_blocks]
                ]
            )
            yield from rng.permutation(group).tolist()

    def __len__(self):
        return self.n


class _TailMergingBatchSampler(torch.utils.data.Sampler):
    """Batches of ``batch_size`` where a last batch of one sample joins the previous.

    Batch normalization cannot train on a batch of one sample whose feature
    maps have length 1; merging the lone tail avoids that for every data size.
    """

    def __init__(self, sampler, batch_size):
        self.sampler = sampler
        self.batch_size = batch_size

    def __iter__(self):
        indices = list(self.sampler)
        bounds = list(range(0, len(indices), self.batch_size))
        if len(bounds) > 1 and len(indices) - bounds[-1] == 1:
            bounds.pop()
        for i, start in enumerate(bounds):
            stop = bounds[i + 1] if i + 1 < len(bounds) else len(indices)
            yield indices[start:stop]

    def __len__(self):
        n = len(self.sampler)
        n_batches = -(-n // self.batch_size)
        if n_batches > 1 and n % self.batch_size == 1:
            n_batches -= 1
        return n_batches


def _train_loader(dataset, batch_size=128, shuffle=True, **kwargs):
    """skorch's ``iterator_train``: a DataLoader with tail-merging batches.

    Rows of a pattern store (:class:`_StoreDataset`, or a subset of one) more
    than one shuffle group are shuffled by blocks (:class:`_BlockShuffleSampler`).
    """
    base = dataset.dataset if isinstance(dataset, torch.utils.data.Subset) else dataset
    blocks = getattr(base, "shuffle_blocks", None)
    if shuffle and blocks is not None and len(dataset) > blocks[1]:
        sampler = _BlockShuffleSampler(len(dataset), *blocks)
    elif shuffle:
        sampler = torch.utils.data.RandomSampler(dataset)
    else:
        sampler = torch.utils.data.SequentialSampler(dataset)
    return torch.utils.data.DataLoader(
        dataset,
        batch_sampler=_TailMergingBatchSampler(sampler, batch_size),
        **kwargs,
    )


def _holdout_indices(y, fraction, seed):
    """Seeded stratified (train, valid) indices, or None when no split fits.

    Classes with a single sample stay in the training set; the others are split
    in proportion. Returns None when ``fraction`` is falsy or when the data are
    too few for a validation set holding every splittable class.
    """
    if not fraction:
        return None
    y = np.asarray(y)
    n = len(y)
    classes, counts = np.unique(y, return_counts=True)
    splittable = np.isin(y, classes[counts >= 2])
    n_classes = int(np.sum(counts >= 2))
    n_valid = int(np.ceil(fraction * n))
    n_pool = int(splittable.sum())
    if n_classes == 0 or n_valid < n_classes or n_pool - n_valid < n_classes:
        return None
    pool = np.flatnonzero(splittable)
    sss = StratifiedShuffleSplit(n_splits=1, test_size=n_valid, random_state=seed)
    try:
        train, valid = next(sss.split(np.zeros(n_pool), y[pool]))
    except ValueError:
        return None
    train = np.sort(np.concatenate([pool[train], np.flatnonzero(~splittable)]))
    return train, np.sort(pool[valid])


class _HoldoutSplit:
    """skorch ``train_split``: the seeded stratified hold-out of the estimator.

    Holds only the fraction and the seed (the indices are recomputed), so that
    the fitted net does not carry index arrays the size of the training set.
    """

    def __init__(self, fraction, seed):
        self.fraction = fraction
        self.seed = seed

    def __call__(self, dataset, y=None, **fit_params):
        split = _holdout_indices(y, self.fraction, self.seed)
        if split is None:  # pragma: no cover - the estimator checks this first
            raise ValueError("the data are too few for a validation split")
        train, valid = split
        return (
            torch.utils.data.Subset(dataset, train.tolist()),
            torch.utils.data.Subset(dataset, valid.tolist()),
        )


# --------------------------------------------------------------------------- #
# The skorch net
# --------------------------------------------------------------------------- #
class _SkxrdNet(NeuralNetClassifier):
    """NeuralNetClassifier with train-time batch augmentation and bf16 autocast.

    Parameters (besides skorch's)
    -----------------------------
    augment : callable or None
        ``augment(x, generator=g) -> tensor``, applied to training batches on
        the device, never to validation or prediction batches.
    precision : {"auto", "bf16", "float32"}
        Autocast dtype of the forward passes ("auto": bf16 on CUDA); the logits
        are returned in float32.
    """

    def __init__(self, module, *, augment=None, precision="auto", **kwargs):
        super().__init__(module, **kwargs)
        self.augment = augment
        self.precision = precision

    def _net_device(self) -> torch.device:
        """The device the network and the batches are on."""
        return torch.device(self.device)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        if self.augment is not None:
            # drawn from torch's (seeded) global generator: reproducible
            seed = int(torch.randint(0, 2**62, (1,)).item())
            device = self._net_device()
            self._augment_generator = torch.Generator(device=device).manual_seed(seed)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        # without a validation pass the statistics are not recomputed yet (a
        # no-op otherwise: the last pass took the dataset); before callbacks
        # such as early stopping restore the best epoch's parameters
        self._precise_batchnorm()
        super().on_train_end(net, X=X, y=y, **kwargs)
        self.__dict__.pop("_augment_generator", None)
        # The LR scheduler refers to the optimizer (and its device tensors) and
        # is rebuilt at the start of training: drop it so that a net pickled on
        # a GPU holds device tensors only where skorch maps them on loading.
        for _, callback in self.callbacks_:
            if isinstance(callback, LRScheduler):
                callback.lr_scheduler_ = None

    def _augment_batch(self, batch):
        """``batch`` with its patterns augmented on the device (if ``augment``)."""
        if self.augment is None:
            return batch
        Xi, yi = unpack_data(batch)
        Xi = to_tensor(Xi, device=self._net_device())
        generator = getattr(self, "_augment_generator", None)
        Xa = self.augment(Xi, generator=generator)
        if not isinstance(Xa, torch.Tensor) or Xa.shape != Xi.shape:
            raise ValueError(
                "augment must return a tensor of the batch's shape "
                f"{tuple(Xi.shape)}, got {getattr(Xa, 'shape', type(Xa))}"
            )
        return (Xa.to(Xi.dtype), yi)

    def train_step_single(self, batch, **fit_params):
        return super().train_step_single(self._augment_batch(batch), **fit_params)

    #: training patterns whose BatchNorm statistics are averaged (see below)
    precise_bn_samples = 4096

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if training:
            self._train_dataset = getattr(iterator, "dataset", None)
        elif iterator is not None:
            self._precise_batchnorm()
        super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)

    def _precise_batchnorm(self):
        """Set BatchNorm running statistics to averages over training patterns.

        The running averages of training drift from what the final weights
        produce (measured: a network right on 99.6 % of its validation
        patterns with recomputed statistics answered 18 % with the running
        ones, one epoch later), so validation, early stopping and prediction
        would judge a different network than the one trained. Before each
        validation pass and at the end of training, the statistics are
        recomputed over up to ``precise_bn_samples`` training patterns spread
        over the set (no augmentation, no gradient): "precise BatchNorm"
        (Wu & Johnson 2021).
        """
        dataset = self.__dict__.pop("_train_dataset", None)
        module = _uncompiled(self.module_)
        norms = [
            m
            for m in module.modules()
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
        ]
        if dataset is None or not norms or len(dataset) < 2:
            return
        n = len(dataset)
        take = np.unique(
            np.linspace(0, n - 1, min(n, self.precise_bn_samples)).astype(int)
        )
        subset = torch.utils.data.Subset(dataset, take.tolist())
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the batches
        training = module.training
        module.train()
        try:
            with torch.no_grad():
                for batch in self.get_iterator(subset, training=False):
                    Xi, _ = unpack_data(batch)
                    if len(Xi) > 1:
                        self.infer(Xi)
        finally:
            for m, momentum in zip(norms, momenta):
                m.momentum = momentum
            module.train(training)

    def infer(self, x, **fit_params):
        if (
            isinstance(x, torch.Tensor)
            and not self.module_.training
            and 0 < len(x) < self.batch_size
            and torch.device(self.device).type == "cpu"
        ):
            # oneDNN picks convolution kernels by batch size, so a pattern's
            # logits would differ in the 7th digit between a batch and a
            # subset of it; padding every short batch to batch_size makes
            # predictions independent of what else is predicted with them.
            pad = x.new_zeros((self.batch_size - len(x), *x.shape[1:]))
            out = self._infer(torch.cat([x, pad]), **fit_params)
            if isinstance(out, tuple):
                return tuple(o[: len(x)] for o in out)
            return out[: len(x)]
        return self._infer(x, **fit_params)

    def _infer(self, x, **fit_params):
        dtype = _autocast_dtype(self.precision, self.device)
        if dtype is None:
            return super().infer(x, **fit_params)
        with torch.autocast(device_type=torch.device(self.device).type, dtype=dtype):
            return _as_float32(super().infer(x, **fit_params))

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_augment_generator", None)
        state.pop("_train_dataset", None)  # an interrupted fit may leave it
        return state


def _silent(*args, **kwargs):
    """A sink that prints nothing (picklable, unlike a lambda)."""


def _uncompiled(module):
    """The module itself of a :func:`torch.compile` wrapper (else ``module``)."""
    return getattr(module, "_orig_mod", module)


def _as_float32(out):
    """Logits (or a tuple of logits and confidence) in float32."""
    if isinstance(out, tuple):  # (logits, confidence) of a confidence head
        return tuple(o.float() for o in out)
    return out.float()


class _AcceleratedSkxrdNet(AccelerateMixin, _SkxrdNet):
    """:class:`_SkxrdNet` trained through an ``accelerate.Accelerator``.

    The accelerator places the network and the batches and owns the mixed
    precision (its autocast wraps training and evaluation steps); batch
    augmentation happens before its training step. Used for training only:
    the estimator keeps a plain :class:`_SkxrdNet` afterwards (an accelerated
    net does not pickle).
    """

    def _net_device(self) -> torch.device:
        return self.accelerator.device

    def train_step_single(self, batch, **fit_params):
        # AccelerateMixin's step does not call super(): augment here
        return AccelerateMixin.train_step_single(
            self, self._augment_batch(batch), **fit_params
        )

    def infer(self, x, **fit_params):
        return _as_float32(NeuralNetClassifier.infer(self, x, **fit_params))

    def evaluation_step(self, batch, training=False):
        with self.accelerator.autocast():
            return super().evaluation_step(batch, training=training)


# --------------------------------------------------------------------------- #
# The sklearn facade
# --------------------------------------------------------------------------- #
_TRAINING_PARAMETERS_DOC = """\
max_epochs : int, default=30
    Maximum number of passes over the training data (fewer with early
    stopping).
batch_size : int, default=128
    Patterns per training step (and per prediction batch).
lr : float, default=1e-3
    Initial learning rate.
weight_decay : float, default=1e-4
    Weight decay of the optimizer (decoupled for ``"adamw"``).
optimizer : {"adamw", "adam", "sgd"} or torch.optim.Optimizer subclass, \
default="adamw"
    The optimizer; ``"sgd"`` uses Nesterov momentum 0.9.
lr_schedule : {"cosine", "plateau"} or None, default="cosine"
    ``"cosine"``: cosine annealing of the learning rate to 0 over
    ``max_epochs``; ``"plateau"``: divide it by 10 when the validation loss
    (the training loss without a validation split) has not improved for
    ``max(1, patience // 2)`` epochs; None: constant.
early_stopping : bool, default=True
    Stop when the validation loss has not improved for ``patience`` epochs and
    restore the weights of the best epoch. Needs a validation split.
patience : int, default=5
    Epochs without improvement before early stopping.
validation_fraction : float or None, default=0.1
    Fraction of the training data held out (seeded, stratified by class;
    classes with a single sample stay in training) to monitor the validation
    loss and accuracy. None or 0: no split. When the data are too few for a
    validation set holding every class, training uses all of them and
    neither early stopping nor validation scores are available.
augment : None, "default" or callable, default=None
    Train-time augmentation of each training batch, on the device, never of
    validation or prediction batches: a callable ``augment(x, generator=g)``
    on a float tensor of shape ``(batch, n_points)`` that returns a tensor of
    the same shape (for example a transform of :mod:`skxrd.augmentation`);
    ``"default"`` is :func:`skxrd.augmentation.default_augmentation` (for
    patterns on the standard 4250-point 2θ grid).
device : str or torch.device, default="auto"
    ``"auto"``: the GPU when CUDA is available, else the CPU; or ``"cpu"``,
    ``"cuda"``, ``"cuda:1"``...
num_threads : int or None, default=None
    Number of CPU threads torch uses during ``fit`` and prediction (set with
    :func:`torch.set_num_threads` and restored after). None: torch's setting.
    Use 1 when several fits run in parallel (``GridSearchCV(n_jobs=...)``,
    pytest-xdist): tiny networks on oversubscribed cores slow down by orders
    of magnitude.
precision : {"auto", "bf16", "float32"}, default="auto"
    Precision of the forward passes: ``"auto"`` runs them under bfloat16
    autocast on GPUs that support it and in float32 on CPUs; ``"bf16"``
    always uses bfloat16 autocast.
compile : bool or dict, default=False
    Train with the network (and loss) compiled by :func:`torch.compile`
    (through skorch's ``compile``); a dict gives its arguments, e.g.
    ``{"mode": "max-autotune"}``. Worth it on GPUs for long trainings: the
    first batches pay the compilation (tens of seconds). The fitted model
    holds the uncompiled network (same parameters), so it pickles and loads
    anywhere.
accelerate : bool or dict, default=False
    Train through Hugging Face ``accelerate`` (skorch's ``AccelerateMixin``):
    True, or a dict of :class:`accelerate.Accelerator` arguments such as
    ``{"mixed_precision": "bf16"}`` or ``{"cpu": True}``. The accelerator
    places the data and network (``device`` must stay ``"auto"``) and sets
    the mixed precision (``precision`` must stay ``"auto"``). Launched with
    ``accelerate launch --multi_gpu --num_processes N script.py``, every
    process runs ``fit`` on its share of each epoch (distributed data
    parallel) and ends with the same weights. The fitted model holds a plain
    network on the accelerator's device. accelerate's state is process-wide:
    the fits of one process share the mixed precision of the first. Needs
    ``pip install accelerate``.
checkpoint_dir : str or path-like, default=None
    Directory where the parameters, optimizer state and history of the best
    epoch are saved during training (by validation loss, else training
    loss). None: no checkpoints; nothing is ever written to the working
    directory.
warm_start : bool, default=False
    When True and the estimator is fitted, ``fit`` starts from the weights of
    the previous fit (the optimizer and learning-rate schedule start afresh).
    The network parameters, the number of features and the classes must be
    the same (``y`` may hold a subset of ``classes_``).
random_state : int, RandomState instance or None, default=None
    Seeds the weight initialization, the shuffling, dropout, the augmentation
    and the validation split. With an int, fitting twice on the same data
    gives the same model on a CPU (GPU kernels may not be bit-reproducible).
verbose : int, default=0
    0: silent; 1: a table of the losses after each epoch; 2: also a progress
    bar."""

_ATTRIBUTES_DOC = """\
classes_ : ndarray of shape (n_classes,)
    The class labels (any type: space-group numbers, symbols...).
n_features_in_ : int
    Number of points per pattern seen in ``fit``.
feature_names_in_ : ndarray of str
    Column names seen in ``fit`` (a DataFrame with string column names).
net_ : skorch.NeuralNetClassifier
    The trained skorch net (the network is ``net_.module_``).
history_ : skorch.History
    Per-epoch training log of the last ``fit`` (``train_loss``,
    ``valid_loss``, ``valid_acc``, ``dur``...).
n_epochs_ : int
    Number of epochs run by the last ``fit``."""


def _fill_doc(cls):
    """Insert the shared parameter and attribute sections into ``cls.__doc__``."""

    def block(text, indent):
        return "\n".join(indent + line if line else "" for line in text.splitlines())

    doc = cls.__doc__
    for key, text in (
        ("{training_parameters}", _TRAINING_PARAMETERS_DOC),
        ("{attributes}", _ATTRIBUTES_DOC),
    ):
        match = re.search(r"^([ \t]*)" + re.escape(key), doc, flags=re.MULTILINE)
        if match:
            doc = doc.replace(match.group(0), block(text, match.group(1)))
    cls.__doc__ = doc
    return cls


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
        check_int(self.max_epochs, "max_epochs", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_int(self.patience, "patience", minimum=1)
        _check_nonnegative_float(self.lr, "lr", strict=True)
        _check_nonnegative_float(self.weight_decay, "weight_decay")
        if self.validation_fraction is not None:
            fraction = _check_nonnegative_float(
                self.validation_fraction, "validation_fraction"
            )
            if fraction >= 1:
                raise ValueError(
                    "validation_fraction must be in [0, 1), "
                    f"got {self.validation_fraction!r}"
                )
        if isinstance(self.optimizer, str):
            if self.optimizer not in _OPTIMIZERS:
                raise ValueError(
                    f"optimizer must be one of {tuple(_OPTIMIZERS)} or a "
                    f"torch.optim.Optimizer subclass, got {self.optimizer!r}"
                )
            optimizer = _OPTIMIZERS[self.optimizer]
        elif isinstance(self.optimizer, type) and issubclass(
            self.optimizer, torch.optim.Optimizer
        ):
            optimizer = self.optimizer
        else:
            raise ValueError(
                f"optimizer must be one of {tuple(_OPTIMIZERS)} or a "
                f"torch.optim.Optimizer subclass, got {self.optimizer!r}"
            )
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
        augment = self.augment
        if isinstance(augment, str):
            if augment != "default":
                raise ValueError(
                    f"augment must be None, 'default' or a callable, got {augment!r}"
                )
            from ..augmentation import default_augmentation, default_two_theta

            n_grid = len(default_two_theta())
            if n_features != n_grid:
                raise ValueError(
                    f"augment='default' needs patterns on the standard {n_grid}-point "
                    f"2θ grid, got {n_features} points; pass "
                    "augment=default_augmentation(two_theta=your_grid) instead"
                )
            augment = default_augmentation()
        elif augment is not None and not callable(augment):
            raise ValueError(
                f"augment must be None, 'default' or a callable, got {augment!r}"
            )
        return optimizer, augment

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
                    Checkpoint(
                        monitor="valid_loss_best" if has_valid else "train_loss_best",
                        dirname=os.fspath(self.checkpoint_dir),
                        f_criterion=None,
                    ),
                )
            )
        if self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
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

    def _criterion_kwargs(self) -> dict:
        """skorch's ``criterion`` (and ``criterion__*``) arguments."""
        return {"criterion": torch.nn.CrossEntropyLoss}

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
        n_classes,
        optimizer,
        augment,
        split,
        device,
        *,
        compile=False,
        accelerator=None,
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
        pin = device.type == "cuda"
        return net_class(
            self._module_class,
            module__n_classes=n_classes,
            **module_kwargs,
            **self._criterion_kwargs(),
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

    def _plain_net(self, net, n_classes, optimizer, split, device):
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
        plain = self._build_net(n_classes, optimizer, None, split, device)
        plain.initialize()
        plain.module_, plain.criterion_ = module, criterion
        plain.initialize_optimizer()
        plain.history = net.history
        return plain

    def fit(self, X, y=None):
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

        Returns
        -------
        self : object
            The fitted estimator.
        """
        warm = bool(self.warm_start) and hasattr(self, "net_")
        store = _as_store(X)
        if store is not None:
            X, y = self._validate_store(store, y, reset=not warm)
        else:
            X, y = self._validate_input(X, y, reset=not warm)
        check_classification_targets(y)
        optimizer, augment = self._check_params(self.n_features_in_)
        if warm:
            idx = np.clip(np.searchsorted(self.classes_, y), 0, len(self.classes_) - 1)
            unseen = self.classes_[idx] != y
            if np.any(unseen):
                raise ValueError(
                    "with warm_start=True, y must only hold the classes of the "
                    f"previous fit; unseen labels: {np.unique(y[unseen])[:10]}"
                )
            y_encoded = idx
            classes = self.classes_
        else:
            encoder = LabelEncoder()
            y_encoded = encoder.fit_transform(y)
            classes = encoder.classes_
            if len(classes) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes; "
                    f"got 1 class ({classes[0]!r})"
                )
        y_encoded = y_encoded.astype(np.int64)
        accelerator = self._accelerator()
        device = (
            accelerator.device
            if accelerator is not None
            else _resolve_device(self.device)
        )
        seed = int(
            check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        )

        split = None
        fraction = self.validation_fraction
        if fraction and _holdout_indices(y_encoded, fraction, seed) is not None:
            split = _HoldoutSplit(float(fraction), seed)
        with _torch_threads(self.num_threads), _seeded(seed, device):
            net = self._build_net(
                len(classes),
                optimizer,
                augment,
                split,
                device,
                compile=self.compile,
                accelerator=accelerator,
            )
            net.initialize()
            if warm:
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
            if store is not None:  # labels in the dataset, and for the split
                X = _StoreDataset(X, y_encoded)
            net.partial_fit(X, y_encoded)
            net = self._plain_net(net, len(classes), optimizer, split, device)

        self.classes_ = classes
        self.net_ = net
        self.history_ = net.history
        self.n_epochs_ = len(net.history)
        self.__dict__.pop("temperature_", None)  # fitted to the old weights
        return self

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
            net = self._build_net(len(classes), optimizer, None, None, device)
            # net.initialize() but for the optimizer, which prediction does not
            # need and whose construction imports torch._dynamo (2-3 s, most of
            # loading a model); fit builds a new net with one
            net._initialize_virtual_params()
            net._initialize_callbacks()
            net._initialize_module()
            net._initialize_criterion()
            net._initialize_history()
            net.initialized_ = True
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
        with _torch_threads(self.num_threads), torch.random.fork_rng(devices=[]):
            for out in self.net_.forward_iter(X, training=False):
                if isinstance(out, tuple):  # (logits, confidence) of a head
                    out, confidence = out
                    confidences.append(to_numpy(confidence))
                out = out.float() / getattr(self, "temperature_", 1.0)
                probas.append(to_numpy(torch.softmax(out, dim=-1)))
        proba = np.concatenate(probas).astype(np.float64)
        proba /= proba.sum(axis=1, keepdims=True)
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
        from scipy.optimize import minimize_scalar

        check_is_fitted(self)
        y = column_or_1d(y, warn=True)
        X = self._validate_input(X, reset=False)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} patterns but y has {len(y)} labels")
        idx = np.clip(np.searchsorted(self.classes_, y), 0, len(self.classes_) - 1)
        known = self.classes_[idx] == y
        if not known.any():
            raise ValueError("calibrate_temperature: no label of y is in classes_")
        logits = []
        with _torch_threads(self.num_threads), torch.random.fork_rng(devices=[]):
            for out in self.net_.forward_iter(X[known], training=False):
                out = out[0] if isinstance(out, tuple) else out
                logits.append(out.float().cpu())
        z = torch.cat(logits).double()
        target = torch.as_tensor(idx[known])

        def loss(log_t):
            return float(torch.nn.functional.cross_entropy(z / np.exp(log_t), target))

        best = minimize_scalar(loss, bounds=(-3.0, 3.0), method="bounded")
        self.temperature_ = float(np.exp(best.x))
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
