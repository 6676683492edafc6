"""Structure prototypes: what stays the same under substitution and strain."""

from __future__ import annotations

import json
import string
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from ._crystal import Crystal, as_crystal, check_symprec

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


# Grid (in 1/24) on which the translation parts of all operations and of the
# normalizer's origin shifts lie: eighths (Fd-3m, I4_1/amd), and thirds and
# sixths for the hexagonal family (P3: the shift by (1/3, 2/3, 0)).
_GRID = 24
_SHIFTS = np.arange(8) / 8
_HEX_SHIFTS = np.array([0, 1 / 6, 1 / 4, 1 / 3, 1 / 2, 2 / 3, 3 / 4, 5 / 6])


@cache
def _unimodular() -> np.ndarray:
    """Integer matrices with entries -1, 0, 1 and determinant +-1: the basis
    changes searched for the normalizer (axis permutations, sign changes, the
    hexagonal 60-degree rotation, shears)."""
    import itertools

    m = np.array(list(itertools.product((-1, 0, 1), repeat=9)), float)
    m = m.reshape(-1, 3, 3)
    det = np.rint(np.linalg.det(m))
    return m[np.abs(det) == 1]


def _matrix_codes(mats: np.ndarray) -> np.ndarray:
    """One integer per 3x3 integer matrix (entries in -2..2; others: -1)."""
    r = np.rint(mats).astype(np.int64)
    ok = np.all((r >= -2) & (r <= 2), axis=(-2, -1))
    code = ((r + 2).reshape(*r.shape[:-2], 9) * 5 ** np.arange(9)).sum(-1)
    return np.where(ok, code, -1)


def _site_letter(sites, ops, points: np.ndarray) -> list[str]:
    """Wyckoff letter of each generic point of a site (most special first)."""
    rot, trans = ops
    # every image of every point under the group: (points, ops, 3)
    images = np.einsum("nij,pj->pni", rot, points) + trans
    out = [None] * len(points)
    for site in sites:
        # a form of the orbit written as a projection onto the site's
        # subspace: y lies on it when it is its own projection (mod 1)
        for R, t in zip(site.rotations, site.translations):
            if np.allclose(R @ R, R) and np.allclose(R @ t, np.rint(R @ t)):
                break
        d = np.einsum("ij,pnj->pni", R, images) + t - images
        on = np.all(np.abs(d - np.rint(d)) < 1e-6, axis=-1).any(-1)
        for p in np.flatnonzero(on):
            if out[p] is None:
                out[p] = site.letter
    return out


# The table of _letter_permutations for the 230 groups, as computed by
# computed_letter_permutations (tools/build_letter_permutations.py): the
# search takes 0.02-1.3 s per group, 16-24 s for all, which every process
# (and every worker of n_jobs) paid again.
_PERMUTATIONS_FILE = Path(__file__).with_name("letter_permutations.json")


@cache
def _permutation_table() -> dict:
    with open(_PERMUTATIONS_FILE, encoding="utf-8") as fh:
        return json.load(fh)


@cache
def _letter_permutations(space_group: int) -> tuple[dict[str, str], ...]:
    """:func:`computed_letter_permutations` of ``space_group``, read from the
    bundled table."""
    entry = _permutation_table()[str(int(space_group))]
    letters = entry["letters"]
    return tuple(dict(zip(letters, perm)) for perm in entry["perms"])


def computed_letter_permutations(space_group: int) -> tuple[dict[str, str], ...]:
    """The permutations of the Wyckoff letters of a space group induced by its
    affine normalizer: the changes of origin and basis (with entries -1, 0, 1)
    that map the group onto itself, e.g. the shift by (1/2, 1/2, 1/2) of Pm-3m
    that swaps 1a/1b and 3c/3d. One crystal, described from another origin or
    setting, has its letters permuted by one of these (and only these)."""
    from ._symmetry import default_setting, general_position, wyckoff_sites

    setting = default_setting(space_group)
    general = general_position(setting)
    rot = np.rint(general.rotations)
    trans = general.translations % 1.0
    sites = sorted(wyckoff_sites(setting).values(), key=lambda s: s.multiplicity)
    letters = [s.letter for s in sites]
    if len(letters) == 1:
        return ({letters[0]: letters[0]},)
    rot_codes = _matrix_codes(rot)
    # allowed (rotation, translation mod 1) pairs as one integer each
    t_codes = np.rint(trans * _GRID).astype(np.int64) % _GRID
    t_codes = (t_codes * _GRID ** np.arange(3)).sum(-1)
    allowed = np.unique(rot_codes * _GRID**3 + t_codes)
    # a generating set of operations: one per rotation, and the centrings
    first = np.unique(rot_codes, return_index=True)[1]
    centring = np.flatnonzero(np.all(rot == np.eye(3), axis=(-2, -1)))
    gen = np.union1d(first, centring)
    g_rot, g_trans = rot[gen], trans[gen]
    # basis changes P whose conjugates P^-1 W P keep the rotations
    P = _unimodular()
    Pinv = np.rint(np.linalg.inv(P))
    conj = np.einsum("aij,njk,akl->anil", Pinv, rot[first], P)
    keep = np.all(np.isin(_matrix_codes(conj), rot_codes), axis=1)
    P, Pinv = P[keep], Pinv[keep]
    # W P is P followed by an operation of the group: the same permutation;
    # the identity stays (it carries the pure changes of origin)
    codes = _matrix_codes(np.einsum("nij,ajk->anik", rot[first], P))
    own = _matrix_codes(P)
    canonical = (codes.min(1) == own) | (own == _matrix_codes(np.eye(3)))
    P, Pinv = P[canonical], Pinv[canonical]
    grid = _HEX_SHIFTS if 143 <= space_group <= 194 else _SHIFTS
    shifts = np.stack(np.meshgrid(grid, grid, grid), -1).reshape(-1, 3)
    # W p + w - p of each generating operation for every origin shift p
    moved = np.einsum("nij,sj->sni", g_rot, shifts) + g_trans - shifts[:, None]
    transforms = []  # (P^-1, p): new coordinates x' = P^-1 (x - p)
    batch = max(1, 2_000_000 // moved.size)
    for lo in range(0, len(P), batch):
        Pi, Pm = Pinv[lo : lo + batch], P[lo : lo + batch]
        # the conjugated operation (P^-1 W P, P^-1 (W p + w - p)) must be one
        # of the group's (translation mod 1)
        W = _matrix_codes(np.einsum("aij,njk,akl->anil", Pi, g_rot, Pm))
        t = np.einsum("aij,snj->asni", Pi, moved) * _GRID
        on_grid = np.all(np.abs(t - np.rint(t)) < 1e-6, axis=(-2, -1))
        codes = np.rint(t).astype(np.int64) % _GRID
        codes = (codes * _GRID ** np.arange(3)).sum(-1) + W[:, None] * _GRID**3
        ok = on_grid & np.all(np.isin(codes, allowed), axis=-1)
        for a in np.flatnonzero(ok.any(1)):
            # all shifts for the identity (a pure change of origin); for other
            # basis changes one is enough, the others add a change of origin
            valid = np.flatnonzero(ok[a])
            pure = np.array_equal(Pm[a], np.eye(3))
            transforms.extend(
                (Pi[a], shifts[k]) for k in (valid if pure else valid[:1])
            )
    # one generic point per Wyckoff position, and where each transform sends it
    rng = np.random.default_rng(0)
    points = np.stack([s.positions(rng.random(3))[0] for s in sites])
    images = np.concatenate([(points - p) @ Pi.T for Pi, p in transforms])
    found = _site_letter(sites, (rot, trans), images)
    perms = {tuple(found[k : k + len(sites)]) for k in range(0, len(found), len(sites))}
    perms = [h for h in perms if sorted(h, key=str) == sorted(letters)]
    # the group these generate (the search may miss products of its members)
    index = {ltr: i for i, ltr in enumerate(letters)}
    group = {tuple(letters)}
    gens = []
    for h in perms:
        if h in group:
            continue
        gens.append(h)
        frontier = list(group)
        while frontier:
            new = []
            for g in frontier:
                for k in gens:
                    gk = tuple(k[index[x]] for x in g)
                    if gk not in group:
                        group.add(gk)
                        new.append(gk)
            frontier = new
    return tuple(dict(zip(letters, g)) for g in sorted(group))


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
        If spglib finds no symmetry (overlapping atoms, for example), or
        ``symprec`` is not positive and finite.
    TypeError
        If ``symprec`` is not a real number.

    Examples
    --------
    >>> from skxrd.crystal import Crystal, describe_structure
    >>> nacl = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=5.64)
    >>> d = describe_structure(nacl)
    >>> d.prototype, d.elements, d.n_conventional
    ('AB_225_a_b', ('Cl', 'Na'), 8)
    """
    import spglib

    symprec = check_symprec(symprec)
    crystal = as_crystal(crystal)
    lattice, frac, numbers, elements = _ordered_cell(crystal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data = spglib.get_symmetry_dataset((lattice, frac, numbers), symprec=symprec)
    if data is None:
        who = f"crystal {crystal.name!r}" if crystal.name else "crystal"
        raise ValueError(f"{who}: spglib finds no symmetry at symprec={symprec}")
    # orbits under the whole space group: equivalent_atoms only uses the
    # operations that map the input cell onto itself, and splits an orbit of a
    # supercell (Cu3Au doubled along b has two 3c orbits)
    equivalent = np.asarray(data.crystallographic_orbits)
    letters = list(data.wyckoffs)
    number = int(data.number)
    orbits: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for i, el in enumerate(elements):
        counts[el] = counts.get(el, 0) + 1
        if equivalent[i] == i:
            orbits.setdefault(el, []).append(letters[i])
    g = int(np.gcd.reduce(list(counts.values())))
    formula_counts = {el: counts[el] // g for el in counts}
    # Wyckoff letters depend on the origin and setting spglib happens to choose
    # (diamond Si is on 8a or 8b of Fd-3m). The label is the smallest one over
    # the letter permutations of the group's normalizer, which relate exactly
    # the descriptions of one crystal: Cu3Au (1a + 3c of Pm-3m) and ReO3
    # (1a + 3d) stay apart although 3c and 3d are the same kind of position.
    # Elements are ordered by count, then by their letters, then by name.
    best = None
    # the label depends on the permutation of the letters in use only: one
    # candidate per restriction (P-1 has 1344 permutations of its 9 letters,
    # which made every triclinic crystal 15 times slower to label)
    used = sorted({x for letters_of in orbits.values() for x in letters_of})
    seen = set()
    for perm in _letter_permutations(number):
        restricted = tuple(perm[x] for x in used)
        if restricted in seen:
            continue
        seen.add(restricted)
        mapped = {el: "".join(sorted(perm[x] for x in orbits[el])) for el in counts}
        order = sorted(counts, key=lambda el: (counts[el], mapped[el], el))
        label = "_".join(
            [_anonymous([formula_counts[el] for el in order]), str(number)]
            + [mapped[el] for el in order]
        )
        # equal labels (NaCl's Na on 4a or on 4b): the order of the names
        if best is None or (label, order) < best:
            best = (label, order)
    label, order = best
    wyck = {el: "".join(sorted(orbits[el])) for el in counts}
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
