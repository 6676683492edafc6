"""Torch helpers shared by the simulators and the estimators: one home for
importing torch with a clear message and for turning a ``device`` setting into
a :class:`torch.device`."""

from __future__ import annotations

import contextlib


def import_torch(who: str = "this feature"):
    """``torch``, or an ImportError that says what needs it and how to install."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"{who} needs PyTorch: pip install skxrd[torch]") from exc
    return torch


def host_array(values):
    """The values of a torch tensor as a numpy array, anything else as it is.

    numpy refuses a tensor that requires grad (``model(x).softmax(1)``
    outside ``torch.no_grad()``) or lies on a GPU, and has no bfloat16: such
    a tensor is detached, moved to the CPU and, if bfloat16, made float32.
    A tensor is told by its type's module, so torch is not imported for
    other input.

    Examples
    --------
    >>> import torch
    >>> from skxrd.utils._torch import host_array
    >>> host_array(torch.ones(2, dtype=torch.bfloat16, requires_grad=True)).dtype
    dtype('float32')
    >>> host_array([1, 2])
    [1, 2]
    """
    if type(values).__module__.split(".")[0] == "torch" and hasattr(values, "detach"):
        values = values.detach().cpu()
        if str(values.dtype) == "torch.bfloat16":
            values = values.float()
        return values.numpy()
    return values


def cuda_may_be_available() -> bool:
    """False where no CUDA device can be present, found without importing
    torch (1.4-1.8 s on a CPU): no NVIDIA driver on Linux or Windows, or a
    Mac. True where torch has to be asked (:func:`resolve_device`).

    Examples
    --------
    >>> from skxrd.utils._torch import cuda_may_be_available
    >>> isinstance(cuda_may_be_available(), bool)
    True
    """
    import os
    import sys

    if "torch" in sys.modules:  # asking it costs nothing now
        return bool(sys.modules["torch"].cuda.is_available())
    if sys.platform == "darwin":
        return False
    if sys.platform.startswith("linux"):
        return os.path.exists("/proc/driver/nvidia/version") or os.path.exists(
            "/dev/nvidiactl"
        )
    if sys.platform == "win32":
        root = os.environ.get("SystemRoot", r"C:\Windows")
        return os.path.exists(os.path.join(root, "System32", "nvcuda.dll"))
    return True


def resolve_device(device="auto", *, kinds=("cpu", "cuda")):
    """The torch device for a ``device`` setting.

    Parameters
    ----------
    device : str, torch.device or None, default="auto"
        ``"auto"`` or None (CUDA when available, else the CPU), ``"cpu"``,
        ``"cuda"``, ``"cuda:1"`` or a :class:`torch.device`.
    kinds : tuple of str, default=("cpu", "cuda")
        The device types the caller supports.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the device is unknown, of a type not in ``kinds``, or CUDA (or the
        CUDA device with that index) is requested but not available.

    Examples
    --------
    >>> from skxrd.utils._torch import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    torch = import_torch("a torch device")
    if device is None or (isinstance(device, str) and device.strip().lower() == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    choices = (
        "'auto', "
        + ", ".join(f"'{k}'" for k in kinds)
        + ", 'cuda:N'" * ("cuda" in kinds)
    )
    try:
        dev = torch.device(device.strip() if isinstance(device, str) else device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"unknown torch device {device!r}; use {choices} or a torch.device"
        ) from None
    if dev.type not in kinds:
        raise ValueError(f"device {device!r} is not supported here; use {choices}")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but CUDA is not available")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {device!r} requested but only {torch.cuda.device_count()} "
                "CUDA device(s) are available"
            )
    return dev


@contextlib.contextmanager
def kept_modes(modules):
    """Every given torch module's training flag restored afterwards.

    skorch's evaluation step and the attribution maps switch modules to eval
    mode; a network the user left in training mode must come back so.
    """
    modes = [(m, m.training) for m in modules]
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode
