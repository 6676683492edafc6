"""Shared machinery of the batch transforms: base class, random draws, grid, resampling.

All transforms work on torch tensors of shape ``(batch, n_points)`` and are
vectorized over the batch. Internally they compute in float32 (float64 for
float64 input) and return the input's dtype, so that bfloat16 and float16
batches are augmented with float32 physics.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np
from sklearn.base import BaseEstimator

try:
    import torch
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "skxrd.augmentation needs PyTorch: pip install skxrd[torch]"
    ) from exc

__all__ = ["BatchTransform", "default_two_theta"]

# Tolerance (in grid points) for a resampled position to count as inside the grid.
_INSIDE_TOL = 1e-3


@functools.lru_cache(maxsize=1)
def _default_grid() -> np.ndarray:
    from ..simulation import PowderSimulator

    grid = PowderSimulator().two_theta
    grid.flags.writeable = False
    return grid


def default_two_theta() -> np.ndarray:
    """The standard 2θ grid of skxrd: 5° to 90° (exclusive) in 0.02° steps.

    This is :attr:`skxrd.PowderSimulator().two_theta <skxrd.PowderSimulator>`,
    the grid every transform assumes when its ``two_theta`` is None.

    Returns
    -------
    ndarray of shape (4250,)
        A new array of 2θ values in degrees.

    Examples
    --------
    >>> from skxrd.augmentation import default_two_theta
    >>> tt = default_two_theta()
    >>> tt.shape, float(tt[0]), float(tt[-1])
    ((4250,), 5.0, 89.98)
    """
    return _default_grid().copy()


class _Grid:
    """A validated 2θ grid (degrees) with fast position -> index conversion."""

    def __init__(self, two_theta, n_points: int):
        if two_theta is None:
            values = _default_grid()
        else:
            values = np.asarray(two_theta, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(f"two_theta must be 1D, got shape {values.shape}")
        if len(values) != n_points:
            where = "two_theta has" if two_theta is not None else "the default grid has"
            raise ValueError(
                f"the patterns have {n_points} points but {where} {len(values)}; "
                "pass the patterns' 2θ grid as two_theta"
            )
        if n_points < 2:
            raise ValueError("this transform needs a grid of at least 2 points")
        if not np.all(np.isfinite(values)):
            raise ValueError("two_theta must be finite")
        diff = np.diff(values)
        if not np.all(diff > 0):
            raise ValueError("two_theta must be strictly increasing")
        if values[0] <= 0 or values[-1] >= 180:
            raise ValueError("two_theta must lie within (0, 180) degrees")
        self.values = values
        self.n = n_points
        self.start = float(values[0])
        self.step = float((values[-1] - values[0]) / (n_points - 1))
        self.uniform = bool(np.allclose(diff, self.step, rtol=1e-6, atol=0.0))

    def tensor(self, device, dtype) -> torch.Tensor:
        return torch.tensor(self.values, dtype=dtype, device=device)

    def index_of(self, pos: torch.Tensor) -> torch.Tensor:
        """Fractional grid index of 2θ positions ``pos`` (any shape, degrees)."""
        if self.uniform:
            return (pos - self.start) / self.step
        grid = self.tensor(pos.device, pos.dtype)
        i = torch.searchsorted(grid, pos.contiguous(), right=True) - 1
        i = i.clamp_(0, self.n - 2)
        g0 = grid[i]
        return i.to(pos.dtype) + (pos - g0) / (grid[i + 1] - g0)


def _interp(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Values of the rows of ``x`` at fractional indices ``idx``; 0 outside the grid.

    ``idx`` has shape ``(n,)`` (the same positions for every row) or ``(batch, n)``.
    Linear interpolation; vectorized gather, no loop over rows.
    """
    n_in = x.shape[1]
    valid = (idx >= -_INSIDE_TOL) & (idx <= n_in - 1 + _INSIDE_TOL)
    i0 = idx.floor().clamp_(0, n_in - 2)
    w = (idx - i0).clamp_(0.0, 1.0)
    i0 = i0.long()
    if idx.ndim == 1:
        a, b = x[:, i0], x[:, i0 + 1]
    else:
        a, b = x.gather(1, i0), x.gather(1, i0 + 1)
    out = torch.lerp(a, b, w.to(x.dtype))
    return out.masked_fill_(~valid, 0.0)


def _bounds(value, name: str, *, low=None, high=None, integer=False):
    """``(lo, hi)`` from a scalar or a pair, checked against ``[low, high]``."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        lo = hi = value
    else:
        try:
            lo, hi = value
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be a number or a (low, high) pair, got {value!r}"
            ) from None
    kind = numbers.Integral if integer else numbers.Real
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, kind) or not math.isfinite(v):
            what = "integers" if integer else "finite numbers"
            raise ValueError(f"{name} must hold {what}, got {value!r}")
    if lo > hi:
        raise ValueError(f"{name} must satisfy low <= high, got {value!r}")
    if (low is not None and lo < low) or (high is not None and hi > high):
        raise ValueError(f"{name} must lie within [{low}, {high}], got {value!r}")
    return (int(lo), int(hi)) if integer else (float(lo), float(hi))


def _probability(value, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0 <= value <= 1
    ):
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def _rand(shape, generator, device) -> torch.Tensor:
    """Uniform [0, 1) draws, float32 whatever the input (reproducibility)."""
    return torch.rand(shape, generator=generator, device=device, dtype=torch.float32)


def _randn(shape, generator, device) -> torch.Tensor:
    return torch.randn(shape, generator=generator, device=device, dtype=torch.float32)


def _uniform(bounds, shape, generator, device, dtype, *, log=False) -> torch.Tensor:
    """Per-sample parameters uniform (or log-uniform) within ``bounds = (lo, hi)``."""
    lo, hi = bounds
    u = _rand(shape, generator, device).to(dtype)
    if log:
        llo, lhi = math.log(lo), math.log(hi)
        return torch.exp(llo + (lhi - llo) * u)
    return lo + (hi - lo) * u


def _row_max(x: torch.Tensor) -> torch.Tensor:
    """Each row's maximum, shape ``(batch, 1)``."""
    return x.amax(dim=1, keepdim=True)


def _check_input(x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"augmentations work on torch tensors, got {type(x).__name__}; "
            "convert with torch.as_tensor(X, dtype=torch.float32)"
        )
    if x.ndim not in (1, 2):
        raise ValueError(
            f"expected a tensor of shape (batch, n_points), got shape {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise TypeError(f"expected a floating-point tensor, got {x.dtype}")
    return x


def _check_generator(generator, device: torch.device) -> None:
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator, got {type(generator).__name__}"
        )
    if generator.device.type != device.type:
        raise ValueError(
            f"the generator is on {generator.device} but the patterns are on "
            f"{device}; create it with torch.Generator(device=x.device)"
        )


class BatchTransform(BaseEstimator):
    """Base class of the batch augmentations.

    A transform is called on a batch of patterns, a tensor of shape
    ``(batch, n_points)`` (or a single pattern of shape ``(n_points,)``), and
    returns a new tensor of the same shape, dtype and device; the input is never
    modified. Random parameters are drawn per sample from ``generator`` (a
    :class:`torch.Generator` on the input's device, or torch's global generator
    when None), so a seeded generator gives reproducible results. The number of
    draws of :class:`PoissonNoise` (exact Poisson draws at low counts) and of the
    peak transforms (one per detected peak) depends on the data, so results are
    reproducible for the same input and seed, not across inputs.

    Subclasses implement ``_transform(x, generator, grid)`` where ``x`` is a
    float32 (or float64) batch and ``grid`` the validated 2θ grid (None unless
    the class sets ``_needs_grid``), and must not modify ``x`` in place.
    Parameters are plain attributes (scikit-learn style: :func:`sklearn.base.clone`,
    ``get_params`` and ``set_params`` work) and are validated at call time.

    Examples
    --------
    A transform that scales every pattern by a random factor in ``[lo, hi)``:

    >>> import torch
    >>> from skxrd.augmentation import BatchTransform
    >>> class RandomScale(BatchTransform):
    ...     def __init__(self, lo=0.5, hi=2.0):
    ...         self.lo = lo
    ...         self.hi = hi
    ...
    ...     def _transform(self, x, generator, grid):
    ...         u = torch.rand(x.shape[0], 1, generator=generator, device=x.device)
    ...         return x * (self.lo + (self.hi - self.lo) * u.to(x.dtype))
    >>> x = torch.ones(3, 100)
    >>> y = RandomScale()(x, generator=torch.Generator().manual_seed(0))
    >>> y.shape, bool(torch.equal(x, torch.ones(3, 100)))   # x is untouched
    (torch.Size([3, 100]), True)
    >>> bool(((y >= 0.5) & (y < 2.0)).all())
    True
    >>> RandomScale(hi=3.0).get_params()
    {'hi': 3.0, 'lo': 0.5}
    """

    _needs_grid = False

    def __call__(self, x, generator=None):
        """Augment a batch of patterns.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_points) or (n_points,)
            Patterns (floating point, any device).
        generator : torch.Generator, optional
            Source of randomness on ``x.device``; torch's global generator when
            None.

        Returns
        -------
        torch.Tensor
            A new tensor with the shape, dtype and device of ``x``.
        """
        x = _check_input(x)
        _check_generator(generator, x.device)
        single = x.ndim == 1
        batch = x[None] if single else x
        work_dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
        grid = None
        if self._needs_grid:
            grid = _Grid(getattr(self, "two_theta", None), x.shape[-1])
        with torch.no_grad():
            work = batch.detach().to(work_dtype)
            if batch.shape[0] == 0:
                out = work.clone()
            else:
                out = self._transform(work, generator, grid)
            if out.data_ptr() == batch.data_ptr():
                out = out.clone()
            out = out.to(x.dtype)
        return out[0] if single else out

    def _transform(self, x, generator, grid):  # pragma: no cover - abstract
        raise NotImplementedError
