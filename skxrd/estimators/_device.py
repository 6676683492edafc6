"""Devices, autocast precision, torch threads and seeding of the estimators."""

from __future__ import annotations

import contextlib
import numbers

import numpy as np
from sklearn.utils import check_random_state

from ..utils._torch import resolve_device

try:
    import torch
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "skxrd.estimators needs PyTorch and skorch: pip install skxrd[torch]"
    ) from exc


# --------------------------------------------------------------------------- #
# Devices, precision, seeding
# --------------------------------------------------------------------------- #
def _resolve_device(device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU (see ``utils._torch``)."""
    return resolve_device(device, kinds=("cpu", "cuda", "mps", "xpu"))


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


def _draw_seed(random_state) -> int:
    """A seed in ``[0, 2**31 - 1)`` drawn from ``random_state`` (an int, a numpy
    RandomState or None), or a ValueError naming ``random_state``.

    scikit-learn's ``check_random_state`` refuses a numpy Generator, a float or
    a negative int without naming the parameter, and takes ``True`` as 1.
    """
    integer = isinstance(random_state, numbers.Integral) and not isinstance(
        random_state, bool
    )
    if integer and 0 <= random_state < 2**32:
        pass
    elif random_state is not None and not isinstance(
        random_state, np.random.RandomState
    ):
        hint = ""
        if isinstance(random_state, np.random.Generator):
            hint = "; from a numpy Generator pass a seed, int(rng.integers(2**31))"
        raise ValueError(
            "random_state must be None, an int in [0, 2**32) or a numpy "
            f"RandomState, got {random_state!r}{hint}"
        )
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


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
