"""Random sample and instrument settings, one per simulated pattern."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["InstrumentSampler"]

# Texture axes drawn for preferred orientation: the low-index directions along
# which platelets and needles of real powders lie.
_PO_AXES = np.array(
    [(0, 0, 1), (0, 1, 0), (1, 0, 0), (1, 1, 0), (1, 0, 1), (0, 1, 1), (1, 1, 1)],
    dtype=float,
)


class InstrumentSampler(BaseEstimator):
    """Draws per-pattern sample and instrument settings for
    :meth:`PowderSimulator.transform_varied`.

    Measured patterns of one compound differ by crystallite size (Scherrer
    broadening), by the instrument's resolution, by texture and by the zero
    error of the goniometer. Each draw picks:

    - a crystallite size, log-uniform in ``crystallite_size`` (nm);
    - a factor on the simulator's instrumental peak widths, log-uniform in
      ``width_scale``;
    - with probability ``texture``, a March–Dollase texture along a random
      low-index axis (001, 010, 100, 110, 101, 011 or 111) with ``march_r``
      uniform in its range (< 1: platelets);
    - a zero shift, uniform in ``±zero_shift`` degrees 2θ.

    Parameters
    ----------
    crystallite_size : (float, float), float or None, default=(30.0, 1000.0)
        Range of crystallite sizes (nm); None leaves the simulator's.
    width_scale : (float, float) or float, default=(0.5, 2.0)
        Range of the factor on the instrumental FWHM.
    texture : float, default=0.3
        Probability that a pattern has preferred orientation.
    march_r : (float, float), default=(0.6, 0.95)
        Range of the March–Dollase parameter of textured patterns.
    zero_shift : float, default=0.0
        Largest zero error (degrees 2θ).

    Examples
    --------
    >>> from skxrd.simulation import InstrumentSampler, PowderSimulator
    >>> from skxrd.datasets import load_example_crystal
    >>> settings = InstrumentSampler(zero_shift=0.05).sample(3, random_state=0)
    >>> sorted(settings[0])
    ['crystallite_size', 'march_r', 'preferred_orientation', 'width_scale', \
'zero_shift']
    >>> X = PowderSimulator().transform_varied(
    ...     [load_example_crystal("NaCl")] * 3, settings)
    >>> X.shape
    (3, 4250)
    """

    def __init__(
        self,
        crystallite_size=(30.0, 1000.0),
        width_scale=(0.5, 2.0),
        texture=0.3,
        march_r=(0.6, 0.95),
        zero_shift=0.0,
    ):
        self.crystallite_size = crystallite_size
        self.width_scale = width_scale
        self.texture = texture
        self.march_r = march_r
        self.zero_shift = zero_shift

    def sample(self, n: int, random_state=None) -> list[dict]:
        """``n`` settings dicts, one per pattern.

        Parameters
        ----------
        n : int
        random_state : int, numpy Generator or RandomState, optional

        Returns
        -------
        list of dict
            Keys ``crystallite_size``, ``width_scale``,
            ``preferred_orientation``, ``march_r``, ``zero_shift``.
        """
        from ..utils._validation import check_int, check_range, check_real

        n = check_int(n, "n", minimum=0)
        size = check_range(
            self.crystallite_size,
            "crystallite_size",
            allow_scalar=True,
            allow_none=True,
        )
        if size is not None and size[0] <= 0:
            raise ValueError(f"crystallite_size must be > 0, got {size}")
        scale = check_range(self.width_scale, "width_scale", allow_scalar=True)
        if scale[0] <= 0:
            raise ValueError(f"width_scale must be > 0, got {scale}")
        p = check_real(self.texture, "texture", minimum=0.0, maximum=1.0)
        march = check_range(self.march_r, "march_r", allow_scalar=True)
        if march[0] <= 0:
            raise ValueError(f"march_r must be > 0, got {march}")
        shift = check_real(self.zero_shift, "zero_shift", minimum=0.0, maximum=5.0)
        rng = (
            random_state
            if isinstance(random_state, np.random.Generator)
            else np.random.default_rng(
                random_state.randint(2**31)
                if isinstance(random_state, np.random.RandomState)
                else random_state
            )
        )
        sizes = (
            np.exp(rng.uniform(np.log(size[0]), np.log(size[1]), n))
            if size is not None
            else [None] * n
        )
        scales = np.exp(rng.uniform(np.log(scale[0]), np.log(scale[1]), n))
        textured = rng.random(n) < p
        axes = _PO_AXES[rng.integers(len(_PO_AXES), size=n)]
        r = rng.uniform(march[0], march[1], n)
        shifts = rng.uniform(-shift, shift, n)
        return [
            {
                "crystallite_size": None if sizes[i] is None else float(sizes[i]),
                "width_scale": float(scales[i]),
                "preferred_orientation": tuple(axes[i].astype(int).tolist())
                if textured[i]
                else None,
                "march_r": float(r[i]) if textured[i] else 1.0,
                "zero_shift": float(shifts[i]),
            }
            for i in range(n)
        ]
