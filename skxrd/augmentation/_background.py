"""Smooth additive backgrounds: a random polynomial and an amorphous hump."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from ._base import BatchTransform, _bounds, _rand, _row_max, _uniform

__all__ = ["AmorphousHump", "PolynomialBackground"]


def _bernstein(t: np.ndarray, degree: int) -> np.ndarray:
    """Bernstein basis ``C(d, k) t^k (1-t)^(d-k)``, shape ``(len(t), degree + 1)``."""
    k = np.arange(degree + 1)
    binom = np.array([math.comb(degree, int(i)) for i in k], dtype=np.float64)
    return binom * t[:, None] ** k * (1.0 - t[:, None]) ** (degree - k)


class PolynomialBackground(BatchTransform):
    """Add a smooth, non-negative random polynomial background.

    The background is a polynomial of the given degree in the normalized angle
    ``t = (2θ - 2θ_min) / (2θ_max - 2θ_min)`` written in the Bernstein basis with
    non-negative random coefficients, which makes it non-negative over the whole
    grid (rising, falling, bowed or flat), and is scaled so that its maximum is
    ``amplitude`` times the pattern's maximum.

    Parameters
    ----------
    degree : int, default=3
        Polynomial degree (0 gives a constant offset).
    amplitude : float or (float, float), default=(0, 0.2)
        Maximum of the background relative to the pattern's maximum (a fixed
        value or a uniform range).
    two_theta : array-like of shape (n_points,), optional
        The patterns' 2θ grid in degrees; by default the standard 5–90° grid in
        0.02° steps.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import PolynomialBackground
    >>> x = torch.zeros(2, 4250)
    >>> x[:, 2000] = 1.0
    >>> aug = PolynomialBackground(amplitude=0.1)
    >>> y = aug(x, generator=torch.Generator().manual_seed(0))
    >>> background = y - x
    >>> bool((background >= 0).all()), background.amax(dim=1).tolist()
    (True, [0.1, 0.1])
    """

    _needs_grid = True

    def __init__(self, degree=3, amplitude=(0.0, 0.2), two_theta=None):
        self.degree = degree
        self.amplitude = amplitude
        self.two_theta = two_theta

    def _transform(self, x, generator, grid):
        degree = self.degree
        if (
            isinstance(degree, bool)
            or not isinstance(degree, numbers.Integral)
            or not 0 <= degree <= 20
        ):
            raise ValueError(f"degree must be an integer in [0, 20], got {degree!r}")
        bounds = _bounds(self.amplitude, "amplitude", low=0.0)
        n = x.shape[0]
        amplitude = _uniform(bounds, (n, 1), generator, x.device, x.dtype)
        coef = _rand((n, int(degree) + 1), generator, x.device).to(x.dtype)
        t = (grid.values - grid.values[0]) / (grid.values[-1] - grid.values[0])
        basis = torch.as_tensor(_bernstein(t, int(degree)), dtype=x.dtype).to(x.device)
        background = coef @ basis.T
        peak = _row_max(background)
        scale = amplitude * _row_max(x).clamp(min=0) / peak.clamp(min=1e-12)
        return torch.addcmul(x, background, scale)


class AmorphousHump(BatchTransform):
    """Add the broad hump of an amorphous phase (glass, a substrate, a holder).

    A Gaussian in 2θ with a random centre, full width at half maximum and height
    (relative to the pattern's maximum), all drawn uniformly per pattern.

    Parameters
    ----------
    center : float or (float, float), default=(15, 35)
        Centre in degrees 2θ.
    width : float or (float, float), default=(3, 10)
        Full width at half maximum in degrees 2θ.
    amplitude : float or (float, float), default=(0, 0.3)
        Height relative to the pattern's maximum.
    two_theta : array-like of shape (n_points,), optional
        The patterns' 2θ grid in degrees; by default the standard 5–90° grid in
        0.02° steps.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import AmorphousHump, default_two_theta
    >>> x = torch.zeros(1, 4250)
    >>> x[0, 3000] = 1.0
    >>> aug = AmorphousHump(center=25.0, width=8.0, amplitude=0.2)
    >>> hump = aug(x) - x
    >>> float(default_two_theta()[int(hump.argmax())]), round(float(hump.max()), 3)
    (25.0, 0.2)
    """

    _needs_grid = True

    def __init__(
        self,
        center=(15.0, 35.0),
        width=(3.0, 10.0),
        amplitude=(0.0, 0.3),
        two_theta=None,
    ):
        self.center = center
        self.width = width
        self.amplitude = amplitude
        self.two_theta = two_theta

    def _transform(self, x, generator, grid):
        c_bounds = _bounds(self.center, "center")
        w_bounds = _bounds(self.width, "width")
        if w_bounds[0] <= 0:
            raise ValueError(f"width must be positive, got {self.width!r}")
        a_bounds = _bounds(self.amplitude, "amplitude", low=0.0)
        n, dev, dt = x.shape[0], x.device, x.dtype
        center = _uniform(c_bounds, (n, 1), generator, dev, dt)
        width = _uniform(w_bounds, (n, 1), generator, dev, dt)
        height = _uniform(a_bounds, (n, 1), generator, dev, dt)
        u = (grid.tensor(dev, dt) - center) / width
        hump = torch.exp(-4.0 * math.log(2.0) * u * u)
        return torch.addcmul(x, hump, height * _row_max(x).clamp(min=0))
