"""Defective crystals: random vacancies and Gaussian displacements."""

from __future__ import annotations

import numbers

import numpy as np

from ..crystal import Crystal, as_crystals
from ..crystal._crystal import _close_pairs
from ._random import _spawn

__all__ = ["perturb_crystals"]


def _sites(crystal: Crystal) -> np.ndarray:
    """The site of each atom, numbered in the order of their first atoms.

    Atoms closer than 0.01 Å share one site, as :class:`Crystal` defines it (a
    mixed site Cu0.5Ni0.5 is two atoms at one position); in an ordered crystal
    each atom is its own site, numbered as the atoms.
    """
    n = crystal.n_atoms
    pairs = _close_pairs(np.asarray(crystal.lattice), np.asarray(crystal.frac_coords))
    if not len(pairs):
        return np.arange(n)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), (n, n))
    _, labels = connected_components(graph, directed=False)
    # components numbered by their lowest atom, whatever scipy's numbering
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(len(first), dtype=int)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[labels]


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
        Fraction of the sites emptied at random in each crystal: exactly
        ``round(vacancy_fraction * n_sites)`` sites, keeping at least one. A
        site is a position: the atoms that share it (closer than 0.01 Å, as
        :class:`~skxrd.crystal.Crystal` defines a mixed site such as
        Cu0.5Ni0.5) leave together, so a vacancy never turns a mixed site into
        a half-empty site of one of its elements. In an ordered crystal the
        sites are the atoms.
    displacement : float, default=0.0
        Standard deviation (Å) of Gaussian displacements of every site along
        each Cartesian axis. The atoms of a shared site move as one (one site,
        one displacement): moved apart, the halves of Cu0.5Ni0.5 would be two
        half-occupied sites, which scatter differently.
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
        site = _sites(crystal)
        n = int(site.max()) + 1
        # drawn per site: an ordered crystal (one atom per site) draws as before
        n_remove = min(int(round(vacancy_fraction * n)), n - 1)
        kept_sites = np.sort(rng.permutation(n)[n_remove:])
        row = np.full(n, -1)
        row[kept_sites] = np.arange(len(kept_sites))
        keep = np.flatnonzero(row[site] >= 0)
        frac = crystal.frac_coords[keep]
        if displacement > 0:
            shift = rng.normal(0.0, displacement, size=(len(kept_sites), 3))
            shift = shift[row[site[keep]]]
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
