"""Defective crystals: random vacancies and Gaussian displacements."""

from __future__ import annotations

import numbers

import numpy as np

from ..crystal import Crystal, as_crystals
from ._random import _spawn

__all__ = ["perturb_crystals"]


def perturb_crystals(
    crystals,
    *,
    vacancy_fraction: float = 0.0,
    displacement: float = 0.0,
    random_state=None,
) -> list[Crystal]:
    """Defective copies of crystals: random vacancies and atomic displacements.

    Parameters
    ----------
    crystals : sequence of Crystal (or pymatgen Structure, ASE Atoms, CIF path)
    vacancy_fraction : float, default=0.0
        Fraction of the atoms removed at random from each crystal: exactly
        ``round(vacancy_fraction * n_atoms)`` atoms, keeping at least one.
    displacement : float, default=0.0
        Standard deviation (Å) of Gaussian displacements of every atom along each
        Cartesian axis.
    random_state : int, numpy Generator or RandomState, optional
        Seed; each crystal gets its own stream, so results do not depend on how
        the crystals are batched.

    Returns
    -------
    list of Crystal
        New crystals (the inputs are unchanged). ``space_group`` keeps the label
        of the pristine crystal: defects break the symmetry, the label says what
        the crystal is.

    Examples
    --------
    >>> from skxrd.datasets import load_example_crystal, perturb_crystals
    >>> nacl = load_example_crystal("NaCl")
    >>> [d] = perturb_crystals([nacl], vacancy_fraction=0.25, displacement=0.05,
    ...                        random_state=0)
    >>> nacl.n_atoms, d.n_atoms, d.space_group
    (8, 6, 225)
    """
    for value, what in (
        (vacancy_fraction, "vacancy_fraction"),
        (displacement, "displacement"),
    ):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{what} must be a number, got {value!r}")
    if not 0.0 <= vacancy_fraction < 1.0:
        raise ValueError(f"vacancy_fraction must be in [0, 1), got {vacancy_fraction}")
    if not (np.isfinite(displacement) and displacement >= 0.0):
        raise ValueError(f"displacement must be >= 0 Å, got {displacement}")
    crystals = as_crystals(crystals)
    seeds = _spawn(random_state, len(crystals))
    out = []
    for crystal, seed in zip(crystals, seeds):
        rng = np.random.default_rng(seed)
        n = crystal.n_atoms
        n_remove = min(int(round(vacancy_fraction * n)), n - 1)
        keep = np.sort(rng.permutation(n)[n_remove:])
        frac = crystal.frac_coords[keep]
        if displacement > 0:
            shift = rng.normal(0.0, displacement, size=frac.shape)
            frac = np.mod(frac + shift @ np.linalg.inv(crystal.lattice), 1.0)
        labels = None if crystal.labels is None else [crystal.labels[i] for i in keep]
        out.append(
            Crystal(
                crystal.lattice,
                [crystal.species[i] for i in keep],
                frac,
                occupancies=crystal.occupancies[keep],
                b_iso=crystal.b_iso[keep],
                space_group=crystal.space_group,
                name=f"{crystal.name or 'crystal'}-defective",
                labels=labels,
            )
        )
    return out
