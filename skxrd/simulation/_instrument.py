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
    - a zero shift, uniform in ``±zero_shift`` degrees 2θ;
    - a flat background, log-uniform in ``background`` (relative to the
      strongest peak), and Poisson counting noise for a strongest peak of
      ``counts`` counts, log-uniform in its range (both off by default);
    - a Kβ1/Kα1 intensity ratio, uniform in ``kbeta`` (off by default: the
      simulator's ``kbeta``).

    ``experiments/sim_to_real.py`` compares patterns simulated with these
    settings with measured ones; :data:`MEASURED_LIKE` holds the ranges it
    found to match 456 measured laboratory patterns of minerals (peak widths,
    Kα2 shoulders, noise and background levels).

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
    background : (float, float), float or None, default=None
        Range of the flat background level, relative to the strongest peak;
        None: no background.
    counts : (float, float), float or None, default=None
        Range of the counts at the top of the strongest peak, for Poisson
        counting noise (fewer counts, more noise); None: no noise.
    kbeta : (float, float), float or None, default=None
        Range of the Kβ1/Kα1 intensity ratio of a β-filtered tube (about 0.01
        to 0.05 with a nickel filter for copper; 0: a monochromator), within
        [0, 1]; the simulator's radiation must be a named anode line. None:
        the simulator's ``kbeta`` (the settings get no ``kbeta`` key, and the
        other settings are drawn as without it).

    Examples
    --------
    >>> from skxrd.simulation import InstrumentSampler, PowderSimulator
    >>> from skxrd.datasets import load_example_crystal
    >>> settings = InstrumentSampler(zero_shift=0.05).sample(3, random_state=0)
    >>> sorted(settings[0])  # doctest: +NORMALIZE_WHITESPACE
    ['background', 'counts', 'crystallite_size', 'march_r', 'noise_seed',
     'preferred_orientation', 'width_scale', 'zero_shift']
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
        background=None,
        counts=None,
        kbeta=None,
    ):
        self.crystallite_size = crystallite_size
        self.width_scale = width_scale
        self.texture = texture
        self.march_r = march_r
        self.zero_shift = zero_shift
        self.background = background
        self.counts = counts
        self.kbeta = kbeta

    def sample(self, n: int, random_state=None) -> list[dict]:
        """``n`` settings dicts, one per pattern.

        Parameters
        ----------
        n : int
        random_state : int, numpy Generator or RandomState, optional
            Seed; the same int gives the same settings. A Generator or
            RandomState is drawn from (the caller's generator advances). Each
            setting is drawn for all ``n`` patterns at once, so the first
            settings of ``sample(10, random_state=0)`` are not those of
            ``sample(5, random_state=0)``.

        Returns
        -------
        list of dict
            Keys ``crystallite_size``, ``width_scale``,
            ``preferred_orientation``, ``march_r``, ``zero_shift``,
            ``background``, ``counts`` and ``noise_seed``; ``kbeta`` where
            a ``kbeta`` range is given.
        """
        from ..utils._validation import check_int, check_range, check_real, check_seed

        n = check_int(n, "n", minimum=0)
        random_state = check_seed(random_state)
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
        levels = []
        for name in ("background", "counts"):
            r = check_range(
                getattr(self, name), name, allow_scalar=True, allow_none=True
            )
            if r is not None and r[0] <= 0:
                raise ValueError(f"{name} must be > 0, got {r}")
            levels.append(r)
        kbeta = check_range(
            self.kbeta, "kbeta", maximum=1.0, allow_scalar=True, allow_none=True
        )
        rng = (
            random_state
            if isinstance(random_state, np.random.Generator)
            else np.random.default_rng(
                random_state.randint(2**31)
                if isinstance(random_state, np.random.RandomState)
                else random_state
            )
        )
        sizes = _log_uniform(rng, size, n) if size is not None else [None] * n
        scales = _log_uniform(rng, scale, n)
        textured = rng.random(n) < p
        axes = _PO_AXES[rng.integers(len(_PO_AXES), size=n)]
        r = rng.uniform(march[0], march[1], n)
        shifts = rng.uniform(-shift, shift, n)
        # drawn after the older settings, so those keep their random streams
        bg, counts = (_log_uniform(rng, r, n) if r else None for r in levels)
        seeds = rng.integers(2**31, size=n) if counts is not None else np.zeros(n)
        # last, so that the settings drawn without it keep their values
        ratios = None if kbeta is None else np.clip(rng.uniform(*kbeta, n), *kbeta)
        settings = [
            {
                "crystallite_size": None if sizes[i] is None else float(sizes[i]),
                "width_scale": float(scales[i]),
                "preferred_orientation": tuple(axes[i].astype(int).tolist())
                if textured[i]
                else None,
                "march_r": float(r[i]) if textured[i] else 1.0,
                "zero_shift": float(shifts[i]),
                "background": 0.0 if bg is None else float(bg[i]),
                "counts": None if counts is None else float(counts[i]),
                "noise_seed": int(seeds[i]),
            }
            for i in range(n)
        ]
        if ratios is not None:
            for v, ratio in zip(settings, ratios):
                v["kbeta"] = float(ratio)
        return settings


def _log_uniform(rng, bounds, n: int) -> np.ndarray:
    """``n`` draws log-uniform in ``bounds``, inside them: exp(log(x)) is not
    always x (a fixed size of 50 nm came back as 49.99999999999999)."""
    lo, hi = bounds
    return np.clip(np.exp(rng.uniform(np.log(lo), np.log(hi), n)), lo, hi)


#: :class:`InstrumentSampler` options that match measured laboratory patterns
#: (Cu Kα, Bragg–Brentano, 456 RRUFF minerals; ``experiments/sim_to_real.py``):
#: FWHM 0.08/0.14/0.26° (10th/50th/90th percentile) against 0.07/0.13/0.26°
#: measured, noise σ and background levels spanning the measured ones.
MEASURED_LIKE = {
    "crystallite_size": (50.0, 3000.0),
    "width_scale": (0.4, 1.4),
    "texture": 0.5,
    "march_r": (0.5, 0.95),
    "zero_shift": 0.1,
    "background": (0.003, 0.08),
    "counts": (100.0, 5e4),
}
