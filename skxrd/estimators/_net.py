"""The skorch nets that the estimators build.

Augmentation on the device, bf16 autocast, precise BatchNorm, predictions
that do not depend on the batch; and their accelerate variant.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import numpy as np

try:
    import torch
    from skorch import NeuralNetClassifier
    from skorch.callbacks import LRScheduler
    from skorch.dataset import unpack_data
    from skorch.hf import AccelerateMixin
    from skorch.utils import to_tensor
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "skxrd.estimators needs PyTorch and skorch: pip install skxrd[torch]"
    ) from exc

from ..utils._torch import kept_modes
from ._core import INFER_CHUNK, infer_in_chunks
from ._data import WEIGHT_KEY
from ._device import _autocast_dtype


def _patterns(x):
    """The patterns of a batch's inputs: ``x`` itself, or its ``"X"`` when
    it carries sample weights (:class:`~._data._ArrayDataset`)."""
    if isinstance(x, Mapping) and WEIGHT_KEY in x:
        return x["X"]
    return x


def _batch_weight(x):
    """The sample weights a batch's inputs carry, or None."""
    if isinstance(x, Mapping):
        return x.get(WEIGHT_KEY)
    return None


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
        inputs, yi = unpack_data(batch)
        Xi = to_tensor(_patterns(inputs), device=self._net_device())
        generator = getattr(self, "_augment_generator", None)
        Xa = self.augment(Xi, generator=generator)
        if not isinstance(Xa, torch.Tensor) or Xa.shape != Xi.shape:
            raise ValueError(
                "augment must return a tensor of the batch's shape "
                f"{tuple(Xi.shape)}, got {getattr(Xa, 'shape', type(Xa))}"
            )
        Xa = Xa.to(Xi.dtype)
        if _batch_weight(inputs) is not None:
            Xa = {**inputs, "X": Xa}  # the weights go on to get_loss
        return (Xa, yi)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The batch's loss: skorch's, or with sample weights the mean over
        the batch of weight times loss.

        Weighted fits build the criterion with ``reduction="none"``; the sum
        of the weighted per-sample losses is divided by the batch's size (not
        its weight sum), so that skorch's size-weighted average over the
        batches of an epoch is the weighted sum over all samples divided by
        their number, whatever the batches hold.
        """
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        weight = _batch_weight(X)
        if weight is None:
            # a criterion of a weighted fit asked without weights
            return loss.mean() if loss.ndim else loss
        if loss.shape != (len(weight),):
            raise ValueError(
                "sample_weight needs a criterion that gives one loss per sample "
                f"with reduction='none'; {type(self.criterion_).__name__} gave a "
                f"loss of shape {tuple(loss.shape)} for a batch of {len(weight)}"
            )
        weight = to_tensor(weight, device=loss.device).to(loss.dtype)
        return (weight * loss).sum() / len(weight)

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
        recomputed over up to ``precise_bn_samples`` training patterns in runs
        spread over the set (no augmentation, no gradient): "precise BatchNorm"
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
        # 8 runs of consecutive rows spread over the set: a pattern store on
        # disk reads whole chunks, so rows one by one would read all of it
        n = len(dataset)
        size = min(n, self.precise_bn_samples)
        runs = min(8, size)
        length = size // runs
        starts = np.linspace(0, n - length, runs).astype(int)
        take = np.unique(np.concatenate([np.arange(a, a + length) for a in starts]))
        subset = torch.utils.data.Subset(dataset, take.tolist())
        momenta = [m.momentum for m in norms]
        saved = [{k: v.clone() for k, v in m.state_dict().items()} for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the batches
        training = module.training
        module.train()
        # batches of at least 2 (a batch of one has no variance): with
        # batch_size=1 every batch was passed over, and the statistics reset
        batch_size = self.batch_size
        self.batch_size = max(2, batch_size)
        seen = 0
        try:
            with torch.no_grad():
                for batch in self.get_iterator(subset, training=False):
                    Xi, _ = unpack_data(batch)
                    Xi = _patterns(Xi)
                    if len(Xi) > 1:
                        self.infer(Xi)
                        seen += 1
        finally:
            self.batch_size = batch_size
            for m, momentum, state in zip(norms, momenta, saved):
                m.momentum = momentum
                if not seen:  # no batch: the training's statistics stand
                    m.load_state_dict(state)
            module.train(training)

    #: CPU predictions run in chunks of this many patterns (the last padded)
    infer_chunk = INFER_CHUNK

    def infer(self, x, **fit_params):
        x = _patterns(x)  # the weights of a weighted batch are get_loss's
        if not (
            isinstance(x, torch.Tensor)
            and not self.module_.training
            and len(x) > 0
            and torch.device(self.device).type == "cpu"
        ):
            return self._infer(x, **fit_params)
        # the same number of patterns in every CPU forward pass, so that a
        # pattern's answer does not depend on what is predicted with it
        return infer_in_chunks(
            lambda part: self._infer(part, **fit_params), x, self.infer_chunk
        )

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


@contextlib.contextmanager
def _kept_modes(net):
    """The net's modules and criteria with every submodule's mode restored
    afterwards.

    skorch's evaluation step switches them to eval mode and leaves them
    there, so a network left in training mode changed mode under ``predict``.
    """
    with kept_modes([m for part in net_parts(net) for m in part.modules()]):
        yield


def _set_eval(net):
    """Put a trained net's modules and criteria in eval mode (what predicting
    uses), whether or not training ended with a validation pass."""
    for part in net_parts(net):
        part.eval()


def net_parts(net) -> list:
    """The initialized torch modules and criteria of a skorch net (``module_``,
    ``criterion_``...); none for ``None`` or a net not yet initialized."""
    names = [*(getattr(net, "_modules", None) or ())]
    names += getattr(net, "_criteria", None) or ()
    parts = (getattr(net, name + "_", None) for name in names)
    return [part for part in parts if isinstance(part, torch.nn.Module)]


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
        x = _patterns(x)
        return _as_float32(NeuralNetClassifier.infer(self, x, **fit_params))

    def evaluation_step(self, batch, training=False):
        with self.accelerator.autocast():
            return super().evaluation_step(batch, training=training)
