"""Devices, autocast precision, torch threads and seeding of the estimators."""

from __future__ import annotations

import contextlib

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
