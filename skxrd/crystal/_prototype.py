"""Structure prototypes: what stays the same under substitution and strain."""

from __future__ import annotations

import string
import warnings
from collections import Counter
from dataclasses import dataclass
from functools import cache

import numpy as np

from ._crystal import Crystal, as_crystal

__all__ = ["StructureDescription", "describe_structure", "prototype_label"]

# Partially occupied atoms closer than this (Å) share one site: spglib sees the
# majority species there (it has no notion of occupancy).
_SITE_TOL = 0.05


@dataclass(frozen=True)
class StructureDescription:
    """Symmetry description of a crystal, as spglib finds it.

    Attributes
    ----------
    space_group : int
        Space-group number at the tolerance used.
    prototype : str
        The prototype label (see :func:`prototype_label`).
    elements : tuple of str
        The elements in the order of the label's letters A, B, C, ...
    wyckoff : tuple of str
        Wyckoff letters (as spglib assigns them) of the occupied orbits of each
        element (same order), e.g. ``("a", "b")`` for rocksalt; an element on
        two ``4e`` orbits has ``"ee"``.
    conventional_parameters : tuple of float
        ``(a, b, c, alpha, beta, gamma)`` of spglib's standardized
        conventional cell (Å, degrees).
    n_conventional : int
        Atoms (sites) in the conventional cell.

    Examples
    --------
    >>> from skxrd.crystal import Crystal, describe_structure
    >>> caf2 = Crystal.from_wyckoff(225, [("Ca", "4a"), ("F", "8c")], a=5.46)
    >>> d = describe_structure(caf2)
    >>> d.space_group, d.prototype, d.wyckoff
    (225, 'AB2_225_a_c', ('a', 'c'))
    """

    space_group: int
    prototype: str
    elements: tuple[str, ...]
    wyckoff: tuple[str, ...]
    conventional_parameters: tuple[float, float, float, float, float, float]
    n_conventional: int


def _ordered_cell(crystal: Crystal):
    """spglib cell with one species per site: co-located partial atoms merged
    into the one with the largest occupancy."""
    import periodictable

    frac = np.asarray(crystal.frac_coords)
    elements = crystal.elements
    occ = np.asarray(crystal.occupancies)
    keep = np.ones(len(frac), dtype=bool)
    if np.any(occ < 1.0 - 1e-6):
        partial = np.flatnonzero(occ < 1.0 - 1e-6)
        d = frac[partial][:, None, :] - frac[None, :, :]
        d -= np.rint(d)
        dist = np.linalg.norm(d @ crystal.lattice, axis=-1)
        for row, i in enumerate(partial):
            if not keep[i]:
                continue
            near = np.flatnonzero((dist[row] < _SITE_TOL) & keep)
            if len(near) > 1:
                best = near[np.argmax(occ[near])]
                keep[near] = False
                keep[best] = True
    numbers = [
        1 if el in ("D", "T") else periodictable.elements.symbol(el).number
        for el in elements
    ]
    idx = np.flatnonzero(keep)
    return (
        np.array(crystal.lattice),
        frac[idx],
        [numbers[i] for i in idx],
        [elements[i] for i in idx],
    )


@cache
def _letter_kinds(space_group: int) -> dict:
    """Letter -> kind of Wyckoff position: multiplicity and the (det, trace)
    counts of the site-symmetry rotations, invariant under the normalizer."""
    from ._symmetry import default_setting, general_position, wyckoff_sites

    setting = default_setting(space_group)
    general = general_position(setting)
    rng = np.random.default_rng(0)
    out = {}
    for site in wyckoff_sites(setting).values():
        x0 = site.positions(rng.random(3))[0]
        moved = general.rotations @ x0 + general.translations - x0
        fixes = np.all(np.abs(moved - np.rint(moved)) < 1e-6, axis=1)
        rot = general.rotations[fixes]
        det = np.rint(np.linalg.det(rot)).astype(int)
        trace = np.rint(np.trace(rot, axis1=1, axis2=2)).astype(int)
        invariant = tuple(sorted(Counter(zip(det.tolist(), trace.tolist())).items()))
        out[site.letter] = (site.multiplicity, invariant)
    return out


def _anonymous(counts: list[int]) -> str:
    """``[1, 2] -> 'AB2'``: counts already sorted and reduced."""
    letters = string.ascii_uppercase
    parts = []
    for k, c in enumerate(counts):
        name = letters[k] if k < 26 else f"X{k}"
        parts.append(name if c == 1 else f"{name}{c}")
    return "".join(parts)


def describe_structure(crystal, symprec: float = 0.1) -> StructureDescription:
    """Space group, prototype label and conventional cell of a crystal.

    Parameters
    ----------
    crystal : Crystal, pymatgen Structure, ASE Atoms or CIF path
    symprec : float, default=0.1
        spglib's distance tolerance (Å). 0.1 is the Materials Project's choice;
        co-located partially occupied atoms count as their majority species.

    Returns
    -------
    StructureDescription

    Raises
    ------
    ValueError
        If spglib finds no symmetry (overlapping atoms, for example).

    Examples
    --------
    >>> from skxrd.crystal import Crystal, describe_structure
    >>> nacl = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=5.64)
    >>> d = describe_structure(nacl)
    >>> d.prototype, d.elements, d.n_conventional
    ('AB_225_a_b', ('Cl', 'Na'), 8)
    """
    import spglib

    crystal = as_crystal(crystal)
    lattice, frac, numbers, elements = _ordered_cell(crystal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data = spglib.get_symmetry_dataset((lattice, frac, numbers), symprec=symprec)
    if data is None:
        who = f"crystal {crystal.name!r}" if crystal.name else "crystal"
        raise ValueError(f"{who}: spglib finds no symmetry at symprec={symprec}")
    equivalent = np.asarray(data.equivalent_atoms)
    letters = list(data.wyckoffs)
    number = int(data.number)
    kinds = _letter_kinds(number)
    orbits: dict[str, list[tuple]] = {}
    counts: dict[str, int] = {}
    for i, el in enumerate(elements):
        counts[el] = counts.get(el, 0) + 1
        if equivalent[i] == i:
            orbits.setdefault(el, []).append((kinds.get(letters[i], ()), letters[i]))
    g = int(np.gcd.reduce(list(counts.values())))
    # Wyckoff letters depend on the origin spglib happens to choose (diamond Si
    # is on 8a or 8b of Fd-3m). The label renames them within each kind of
    # position (same multiplicity and site-symmetry type: what the normalizer's
    # origin shifts map onto each other) in order of first use, so it does not
    # depend on the origin. Elements are ordered by count, then by their kinds.
    for el in orbits:
        orbits[el].sort()
    order = sorted(counts, key=lambda el: (counts[el], [k for k, _ in orbits[el]], el))
    pools: dict[tuple, list[str]] = {}
    for letter, kind in kinds.items():
        pools.setdefault(kind, []).append(letter)
    renamed: dict[str, str] = {}
    used: dict[tuple, int] = {}
    canonical = {}
    for el in order:
        new = []
        for kind, letter in orbits[el]:
            if letter not in renamed:
                pool = sorted(pools.get(kind, [letter]))
                k = used.get(kind, 0)
                renamed[letter] = pool[k] if k < len(pool) else letter
                used[kind] = k + 1
            new.append(renamed[letter])
        canonical[el] = "".join(sorted(new))
    label = "_".join(
        [_anonymous([counts[el] // g for el in order]), str(number)]
        + [canonical[el] for el in order]
    )
    wyck = {el: "".join(sorted(ltr for _, ltr in orbits[el])) for el in counts}
    std = np.asarray(data.std_lattice)
    a, b, c = np.linalg.norm(std, axis=1)

    def angle(x, y):
        cos = x @ y / np.linalg.norm(x) / np.linalg.norm(y)
        return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))

    params = (
        float(a),
        float(b),
        float(c),
        angle(std[1], std[2]),
        angle(std[0], std[2]),
        angle(std[0], std[1]),
    )
    return StructureDescription(
        space_group=int(data.number),
        prototype=label,
        elements=tuple(order),
        wyckoff=tuple(wyck[el] for el in order),
        conventional_parameters=params,
        n_conventional=len(data.std_types),
    )


def prototype_label(crystal, symprec: float = 0.1) -> str:
    """A label shared by all crystals of one structure prototype.

    The label joins the anonymous formula (elements renamed A, B, ... in order
    of increasing count), the space-group number and the Wyckoff letters of the
    orbits each element occupies, in the spirit of the AFLOW prototype labels:
    rocksalt NaCl and periclase MgO are both ``AB_225_a_b``; a substituted or
    strained compound keeps its label, a polymorph does not. Use it to hold out
    whole structure types in cross-validation
    (:func:`skxrd.dedup.duplicate_groups` with ``method="prototype"``).

    Parameters
    ----------
    crystal : Crystal, pymatgen Structure, ASE Atoms or CIF path
    symprec : float, default=0.1
        spglib's tolerance (Å).

    Returns
    -------
    str

    Examples
    --------
    >>> from skxrd.crystal import Crystal, prototype_label
    >>> mgo = Crystal.from_wyckoff(225, [("Mg", "4a"), ("O", "4b")], a=4.21)
    >>> caf2 = Crystal.from_wyckoff(225, [("Ca", "4a"), ("F", "8c")], a=5.46)
    >>> prototype_label(mgo), prototype_label(caf2)
    ('AB_225_a_b', 'AB2_225_a_c')
    """
    return describe_structure(crystal, symprec).prototype
