"""The :class:`Crystal` record: lattice, species, coordinates, occupancy, B."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import numbers
import os
import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ..utils._files import check_new_file, write_text
from ..utils._validation import check_positive
from ._symmetry import default_setting, general_position, parse_xyz, wyckoff_sites

__all__ = ["Crystal", "as_crystal", "as_crystals", "lattice_from_parameters"]

_SPECIES_RE = re.compile(r"^([A-Z][a-z]?)(?:(\d*)([+-])|([+-])(\d*))?$")

# Atoms closer than this (in Å) after symmetry expansion are the same atom.
_MERGE_TOL = 0.01
# Atoms that close share one site, whose occupancies may sum to 1 plus this:
# refined mixed sites of measured structures add up to 1.01-1.1 (AMCSD).
_SITE_OCC_SLACK = 0.1


@cache
def _element_symbols() -> frozenset[str]:
    import periodictable

    symbols = {el.symbol for el in periodictable.elements if el.number > 0}
    return frozenset(symbols | {"D", "T"})


@cache
def parse_species(species: str) -> tuple[str, int]:
    """Split a species label such as ``'Fe3+'`` into element and charge.

    Examples
    --------
    >>> parse_species("Fe3+"), parse_species("O2-"), parse_species("Na")
    (('Fe', 3), ('O', -2), ('Na', 0))
    """
    m = _SPECIES_RE.match(str(species).strip())
    if m is None or m.group(1) not in _element_symbols():
        raise ValueError(f"unknown element {species!r}")
    if m.group(3):
        charge = int(m.group(2) or 1) * (1 if m.group(3) == "+" else -1)
    elif m.group(4):
        charge = int(m.group(5) or 1) * (1 if m.group(4) == "+" else -1)
    else:
        charge = 0
    return m.group(1), charge


def check_symprec(symprec) -> float:
    """``symprec`` as a float, or an error naming it.

    spglib's C code crashes the interpreter (segmentation fault) for a negative
    or NaN tolerance, and would take a bool or a str without a word: those
    are a TypeError, the rest is the package's rule for positive parameters.
    """
    if isinstance(symprec, (bool, np.bool_)) or not isinstance(symprec, numbers.Real):
        raise TypeError(f"symprec must be a positive number of Å, not {symprec!r}")
    return check_positive(symprec, "symprec")


def lattice_from_parameters(a, b, c, alpha, beta, gamma) -> np.ndarray:
    """Lattice vectors (rows, Å) from cell lengths (Å) and angles (degrees).

    The convention puts **a** along x and **b** in the xy plane.

    Examples
    --------
    >>> lattice_from_parameters(3, 3, 5, 90, 90, 120).round(3)
    array([[ 3.   ,  0.   ,  0.   ],
           [-1.5  ,  2.598,  0.   ],
           [ 0.   ,  0.   ,  5.   ]])
    """
    # plain floats and the math module: the generators build a lattice per
    # attempt, and numpy's per-call cost on six scalars was most of the time
    try:
        values = [float(v) for v in (a, b, c, alpha, beta, gamma)]
    except (TypeError, ValueError):
        raise ValueError(
            f"lattice parameters {[a, b, c, alpha, beta, gamma]} are not numbers"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"lattice parameters {values} are not finite")
    a, b, c, alpha, beta, gamma = values
    if min(a, b, c) <= 0:
        raise ValueError(f"lattice lengths {values[:3]} must be positive")
    if not all(0 < angle < 180 for angle in values[3:]):
        raise ValueError(f"lattice angles {values[3:]} must be in (0, 180)")
    ca, cb, cg = (math.cos(math.radians(angle)) for angle in values[3:])
    sg = math.sin(math.radians(gamma))
    cy = (ca - cb * cg) / sg
    cz2 = 1.0 - cb**2 - cy**2
    if cz2 <= 1e-10:
        raise ValueError(
            f"lattice angles {values[3:]} do not form a 3D cell (degenerate)"
        )
    return np.array(
        [
            [a, 0.0, 0.0],
            [b * cg, b * sg, 0.0],
            [c * cb, c * cy, c * math.sqrt(cz2)],
        ]
    )


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array)  # a copy: the user's arrays are never aliased
    array.flags.writeable = False
    return array


def _close_pairs(lattice, coords) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of atoms closer than ``_MERGE_TOL`` Å
    (periodic images included), as an (n_pairs, 2) int array."""
    n = len(coords)
    if n < 2:
        return np.empty((0, 2), dtype=int)
    if n <= 48:
        # all pairs: cheaper than a tree for the typical few dozen atoms
        d = (coords[:, None, :] - coords).reshape(-1, 3)
        d -= np.rint(d)
        d = np.dot(d, lattice)
        close = np.einsum("ij,ij->i", d, d).reshape(n, n) < _MERGE_TOL**2
        if np.count_nonzero(close) == n:  # only the diagonal
            return np.empty((0, 2), dtype=int)
        return np.argwhere(np.triu(close, 1))
    from scipy.spatial import cKDTree

    # candidates in periodic fractional space, then the distance in Å: a
    # Cartesian step r is at most r * ||L^-1||_F in fractional units
    frac = np.mod(coords, 1.0)
    frac[frac >= 1.0] = 0.0
    reach = _MERGE_TOL * np.sqrt(np.sum(np.linalg.inv(lattice) ** 2))
    pairs = cKDTree(frac, boxsize=1.0).query_pairs(
        min(reach, 0.49), output_type="ndarray"
    )
    if not len(pairs):
        return np.empty((0, 2), dtype=int)
    d = frac[pairs[:, 0]] - frac[pairs[:, 1]]
    d -= np.rint(d)
    return np.sort(pairs[np.linalg.norm(d @ lattice, axis=1) < _MERGE_TOL], axis=1)


def _check_shared_sites(lattice, coords, occ, species, who) -> None:
    """Refuse atoms closer than ``_MERGE_TOL`` Å whose occupancies sum past 1.

    Two fully occupied atoms on one spot would scatter twice; a mixed or
    partially occupied site (Fe 0.5 + Co 0.5) is fine.
    """
    pairs = _close_pairs(lattice, coords)
    if not len(pairs):
        return
    total = occ.copy()
    np.add.at(total, pairs[:, 0], occ[pairs[:, 1]])
    np.add.at(total, pairs[:, 1], occ[pairs[:, 0]])
    if np.any(total > 1.0 + _SITE_OCC_SLACK):
        i = int(np.argmax(total > 1.0 + _SITE_OCC_SLACK))
        others = sorted(
            set(pairs[pairs[:, 0] == i, 1].tolist())
            | set(pairs[pairs[:, 1] == i, 0].tolist())
        )
        names = ", ".join(f"{j} ({species[j]})" for j in [i, *others])
        raise ValueError(
            f"{who}: atoms {names} are at the same position (closer than "
            f"{_MERGE_TOL} Å) with occupancies summing to {total[i]:.4g} > 1; a "
            "shared (mixed or split) site needs occupancies that add up to 1 "
            "at most"
        )


def trusted_crystal(lattice, species, frac_coords, *, space_group=None, name=None):
    """A :class:`Crystal` of arrays that the package built valid, unchecked.

    For the random-crystal generators, which make hundreds of crystals a
    second: the checks and copies of ``Crystal(...)`` cost about as much as
    placing the atoms. The caller guarantees what ``Crystal`` would check: a
    (3, 3) float lattice of a non-degenerate cell, known element symbols, finite
    (n, 3) fractional coordinates, a space group in 1..230, and arrays that
    nothing else holds (they are made read-only, not copied). Full occupancy,
    B = 0. Never for user input.
    """
    crystal = object.__new__(Crystal)
    set_ = object.__setattr__
    lattice = np.asarray(lattice, dtype=float)
    coords = np.asarray(frac_coords, dtype=float)
    lattice.flags.writeable = False
    coords.flags.writeable = False
    n = len(coords)
    for field, value in (
        ("lattice", lattice),
        ("species", tuple(str(s) for s in species)),  # not numpy's str_
        ("frac_coords", coords),
        ("occupancies", _frozen(np.ones(n))),
        ("b_iso", _frozen(np.zeros(n))),
        ("space_group", space_group),
        ("name", name),
        ("labels", None),
    ):
        set_(crystal, field, value)
    return crystal


@dataclasses.dataclass(frozen=True, eq=False)
class Crystal:
    """A crystal structure as the full list of atoms in one unit cell.

    Parameters
    ----------
    lattice : array-like of shape (3, 3) or (6,)
        Lattice vectors as rows (Å), or the parameters ``(a, b, c, alpha, beta,
        gamma)`` in Å and degrees.
    species : sequence of str
        Element of each atom, optionally with a charge (``"Fe3+"``); ``"D"`` is
        deuterium.
    frac_coords : array-like of shape (n_atoms, 3)
        Fractional coordinates, kept as given (not wrapped into [0, 1)).
    occupancies : array-like of shape (n_atoms,), default=1
        Site occupancies in (0, 1]. Atoms closer than 0.01 Å share one site
        (a mixed site: Fe 0.5 and Co 0.5), whose occupancies may add up to 1
        (1.1 for the rounding of refined occupancies), no more: two fully
        occupied atoms on one spot are an error.
    b_iso : array-like of shape (n_atoms,) or float, default=0
        Isotropic displacement parameters B (Å²), ``B = 8 pi^2 U``.
    space_group : int, optional
        The intended space-group number (1..230), kept as metadata.
    name : str, optional
        An identifier used in error messages and CIF output.
    labels : sequence of str, optional
        Site labels (e.g. ``"O1"``), kept as metadata.

    Attributes
    ----------
    lattice : ndarray of shape (3, 3)
        Read-only lattice vectors (rows).
    frac_coords, occupancies, b_iso : ndarray
        Read-only per-atom arrays.

    Notes
    -----
    Crystals compare and hash by identity (``a == b`` is ``a is b``): two
    descriptions of one structure differ in cell choice, atom order and
    rounding. Compare structures with :mod:`skxrd.dedup`. Copies and pickles
    keep every field and the read-only arrays.

    Examples
    --------
    >>> from skxrd.crystal import Crystal
    >>> nacl = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=5.64)
    >>> nacl.n_atoms, nacl.formula, round(nacl.volume, 2)
    (8, 'NaCl', 179.41)
    """

    lattice: Any
    species: Any
    frac_coords: Any
    occupancies: Any = None
    b_iso: Any = None
    space_group: int | None = None
    name: str | None = None
    labels: Any = None

    def __post_init__(self):
        who = f"crystal {self.name!r}" if self.name else "crystal"
        set_ = object.__setattr__
        try:
            lattice = np.asarray(self.lattice, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{who}: lattice is not numeric") from exc
        if lattice.shape == (6,):
            try:
                lattice = lattice_from_parameters(*lattice)
            except ValueError as exc:
                raise ValueError(f"{who}: {exc}") from None
        if lattice.shape != (3, 3):
            raise ValueError(
                f"{who}: lattice must be 3x3 vectors or 6 parameters, "
                f"got shape {lattice.shape}"
            )
        if not np.all(np.isfinite(lattice)):
            raise ValueError(f"{who}: lattice contains NaN or inf")
        lengths = np.linalg.norm(lattice, axis=1)
        if np.any(lengths <= 0) or abs(np.linalg.det(lattice)) <= 1e-6 * np.prod(
            lengths
        ):
            raise ValueError(f"{who}: lattice is degenerate (zero or flat cell)")

        species = [self.species] if isinstance(self.species, str) else self.species
        try:
            species = [str(s).strip() for s in species]
        except TypeError:
            raise TypeError(
                f"{who}: species must be a sequence of element symbols such as "
                f"['Na', 'Cl'], got {type(self.species).__name__}"
            ) from None
        if len(species) == 0:
            raise ValueError(f"{who}: has no atoms")
        for s in dict.fromkeys(species):  # each label once: cells repeat them
            try:
                parse_species(s)
            except ValueError:
                i = species.index(s)
                raise ValueError(f"{who}: atom {i} has unknown element {s!r}") from None
        n = len(species)
        try:
            coords = np.asarray(self.frac_coords, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{who}: frac_coords must be numeric with shape ({n}, 3)"
            ) from exc
        if coords.shape == (3,) and n == 1:
            coords = coords.reshape(1, 3)
        if coords.shape != (n, 3):
            raise ValueError(
                f"{who}: frac_coords has shape {coords.shape}, expected ({n}, 3)"
            )
        bad = ~np.all(np.isfinite(coords), axis=1)
        if bad.any():
            raise ValueError(
                f"{who}: atom {int(np.argmax(bad))} has NaN or inf coordinates"
            )
        occ = self._per_atom(self.occupancies, 1.0, n, "occupancies", who)
        bad = ~((occ > 0) & (occ <= 1 + 1e-6))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{who}: atom {i} has occupancy {occ[i]} outside (0, 1]")
        _check_shared_sites(lattice, coords, occ, species, who)
        b_iso = self._per_atom(self.b_iso, 0.0, n, "b_iso", who)
        bad = ~((b_iso >= 0) & np.isfinite(b_iso))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{who}: atom {i} has B = {b_iso[i]}; it must be finite and >= 0"
            )
        sg = self.space_group
        if sg is not None:
            if (
                isinstance(sg, bool)
                or not isinstance(sg, numbers.Real)
                or not float(sg).is_integer()
                or not 1 <= sg <= 230
            ):
                raise ValueError(f"{who}: space_group {sg!r} is not a number 1..230")
            sg = int(sg)
        labels = self.labels
        if labels is not None:
            labels = tuple(str(x) for x in labels)
            if len(labels) != n:
                raise ValueError(f"{who}: {len(labels)} labels for {n} atoms")
        set_(self, "lattice", _frozen(lattice))
        set_(self, "species", tuple(species))
        set_(self, "frac_coords", _frozen(coords))
        set_(self, "occupancies", _frozen(np.minimum(occ, 1.0)))
        set_(self, "b_iso", _frozen(b_iso))
        set_(self, "space_group", sg)
        # a str, as documented: to_cif and the messages format it
        set_(self, "name", None if self.name is None else str(self.name))
        set_(self, "labels", labels)

    @staticmethod
    def _per_atom(values, default, n, what, who) -> np.ndarray:
        if values is None:
            return np.full(n, default)
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{who}: {what} must be numeric") from exc
        if arr.ndim == 0:
            arr = np.full(n, float(arr))
        if arr.shape != (n,):
            raise ValueError(f"{who}: {what} has shape {arr.shape}, expected ({n},)")
        return arr

    # ------------------------------------------------------------------ properties
    @property
    def n_atoms(self) -> int:
        """Number of atoms (sites) in the cell."""
        return len(self.species)

    def __len__(self) -> int:
        return self.n_atoms

    @property
    def elements(self) -> tuple[str, ...]:
        """Element symbol of each atom, charges removed."""
        return tuple(parse_species(s)[0] for s in self.species)

    @property
    def volume(self) -> float:
        """Cell volume in Å³."""
        return float(abs(np.linalg.det(self.lattice)))

    @property
    def lattice_parameters(self) -> tuple[float, float, float, float, float, float]:
        """``(a, b, c, alpha, beta, gamma)`` in Å and degrees."""
        a, b, c = np.linalg.norm(self.lattice, axis=1)
        v = self.lattice

        def angle(x, y):
            cos = np.dot(x, y) / np.linalg.norm(x) / np.linalg.norm(y)
            return float(np.degrees(np.arccos(np.clip(cos, -1, 1))))

        return (
            float(a),
            float(b),
            float(c),
            angle(v[1], v[2]),
            angle(v[0], v[2]),
            angle(v[0], v[1]),
        )

    @property
    def reciprocal_lattice(self) -> np.ndarray:
        """Reciprocal vectors as rows, without the factor 2π (Å⁻¹)."""
        return np.linalg.inv(self.lattice).T

    @property
    def cartesian_coords(self) -> np.ndarray:
        """Cartesian positions (Å)."""
        return self.frac_coords @ self.lattice

    @property
    def composition(self) -> dict[str, float]:
        """Element → number of atoms in the cell, occupancy-weighted."""
        comp: dict[str, float] = {}
        for el, occ in zip(self.elements, self.occupancies):
            comp[el] = comp.get(el, 0.0) + float(occ)
        return comp

    @property
    def formula(self) -> str:
        """Reduced formula, elements in order of first appearance (``'Al2O3'``)."""
        comp = self.composition
        counts = np.array(list(comp.values()))
        if np.allclose(counts, np.round(counts)):
            g = np.gcd.reduce(np.round(counts).astype(int))
            counts = counts / max(int(g), 1)
        parts = []
        for el, x in zip(comp, counts):
            num = "" if np.isclose(x, 1) else f"{x:.4g}"
            parts.append(f"{el}{num}")
        return "".join(parts)

    @property
    def density(self) -> float:
        """Mass density in g/cm³."""
        import periodictable

        mass = sum(
            periodictable.elements.symbol(el).mass * n
            for el, n in self.composition.items()
        )
        return float(mass / 0.602214076 / self.volume)

    def __repr__(self) -> str:
        a, b, c, al, be, ga = self.lattice_parameters
        sg = f", space_group={self.space_group}" if self.space_group else ""
        nm = f"{self.name!r}, " if self.name else ""
        return (
            f"Crystal({nm}{self.formula}, {self.n_atoms} atoms, "
            f"a={a:.4g} b={b:.4g} c={c:.4g} alpha={al:.4g} beta={be:.4g} "
            f"gamma={ga:.4g}{sg})"
        )

    def replace(self, **changes) -> Crystal:
        """A copy with some fields changed (validated again).

        Examples
        --------
        >>> c = Crystal(5.0 * np.eye(3), ["Si"], [[0, 0, 0]])
        >>> c.replace(name="Si-sc").name
        'Si-sc'
        """
        return dataclasses.replace(self, **changes)

    def supercell(self, scaling) -> Crystal:
        """The same crystal described in a cell ``na x nb x nc`` times larger.

        Atoms, occupancies, B factors and labels are repeated; the space-group
        label is kept (the structure is the same). Random defects
        (:func:`skxrd.datasets.perturb_crystals`) in a supercell are no longer
        repeated in every unit cell.

        Parameters
        ----------
        scaling : int or (int, int, int)
            Repetitions along a, b and c (at least 1 each).

        Returns
        -------
        Crystal

        Examples
        --------
        >>> cu = Crystal.from_wyckoff(225, [("Cu", "4a")], a=3.6149)
        >>> big = cu.supercell(3)
        >>> big.n_atoms, round(big.lattice_parameters[0], 4)
        (108, 10.8447)
        >>> cu.supercell((1, 1, 2)).n_atoms
        8
        """
        reps = np.asarray(scaling)
        if reps.ndim == 0:
            reps = np.repeat(reps, 3)
        if reps.shape != (3,) or reps.dtype.kind not in "iu" or np.any(reps < 1):
            raise ValueError(
                f"scaling must be a positive integer or three of them, got {scaling!r}"
            )
        shifts = np.stack(
            np.meshgrid(*[np.arange(n) for n in reps], indexing="ij"), -1
        ).reshape(-1, 3)
        m = len(shifts)
        frac = (self.frac_coords[None] + shifts[:, None]) / reps
        return dataclasses.replace(
            self,
            lattice=self.lattice * reps[:, None],
            species=list(self.species) * m,
            frac_coords=frac.reshape(-1, 3),
            occupancies=np.tile(self.occupancies, m),
            b_iso=np.tile(self.b_iso, m),
            labels=None if self.labels is None else list(self.labels) * m,
        )

    # ------------------------------------------------------------------ symmetry
    def to_spglib_cell(self):
        """``(lattice, positions, numbers)`` as spglib expects.

        spglib knows neither occupancy nor charge nor B, so they go into the
        type numbers: atoms of one element with another charge, occupancy or
        B (rounded to 6 decimals) are another type, else spglib would see a
        symmetry the crystal does not have (iron on 1a and half-occupied
        iron on 1b is CsCl-type Pm-3m, not bcc Im-3m). Partially occupied
        atoms closer than 0.01 Å (a mixed site such as Fe0.5Co0.5) are one
        position, whose type is the whole make-up of the site, so
        ``positions`` can be shorter than :attr:`frac_coords`.

        Returns
        -------
        lattice : ndarray of shape (3, 3)
        positions : ndarray of shape (n_sites, 3)
        numbers : list of int
            The atomic number of the site's element (its largest occupancy on
            a mixed site; 1 for D and T) for the first make-up of that
            element met, plus 1000, 2000, ... for each further one, so that
            ``numbers[i] % 1000`` is always the atomic number.

        Examples
        --------
        >>> fe = Crystal(2.9 * np.eye(3), ["Fe", "Fe"], [[0, 0, 0], [.5, .5, .5]],
        ...              occupancies=[1, 0.5])
        >>> fe.to_spglib_cell()[2], fe.get_space_group()
        ([26, 1026], 221)
        """
        positions, numbers, _ = self._spglib_sites()
        return (np.array(self.lattice), positions, numbers)

    def _spglib_sites(self):
        """(positions, type numbers, atom indices of each site) for spglib;
        see :meth:`to_spglib_cell`."""
        import periodictable

        frac = np.asarray(self.frac_coords)
        occ = np.asarray(self.occupancies)
        sites = [[i] for i in range(self.n_atoms)]
        partial = np.flatnonzero(occ < 1.0 - 1e-6)
        pairs = _close_pairs(self.lattice, frac[partial])
        if len(pairs):
            # only partially occupied atoms can share a position: each joins
            # the site of the first atom it is close to (pairs in order)
            pairs = partial[pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]]
            owner = np.arange(self.n_atoms)
            for a, b in pairs.tolist():
                if owner[b] == b and owner[a] == a:
                    owner[b] = a
            sites = [[] for _ in range(self.n_atoms)]
            for i, o in enumerate(owner.tolist()):
                sites[o].append(i)
            sites = [m for m in sites if m]
        numbers, kinds, used = [], {}, {}
        for members in sites:
            make_up = tuple(
                sorted(
                    (
                        self.species[j],
                        round(float(occ[j]), 6),
                        round(float(self.b_iso[j]), 6),
                    )
                    for j in members
                )
            )
            if make_up not in kinds:
                main = max(members, key=lambda j: occ[j])  # first of a tie
                el = self.elements[main]
                z = 1 if el in ("D", "T") else periodictable.elements.symbol(el).number
                kinds[make_up] = z + 1000 * used.get(z, 0)
                used[z] = used.get(z, 0) + 1
            numbers.append(kinds[make_up])
        positions = np.array([frac[m[0]] for m in sites])
        return positions, numbers, sites

    def get_space_group(self, symprec: float = 1e-3) -> int:
        """The space-group number spglib finds for this crystal.

        Parameters
        ----------
        symprec : float, default=1e-3
            spglib's distance tolerance in Å. Sites are equivalent only with
            the same species, charge, occupancy and B (see
            :meth:`to_spglib_cell`).

        Returns
        -------
        int

        Raises
        ------
        ValueError
            If spglib finds no symmetry (atoms on top of each other, say), or
            ``symprec`` is not positive and finite.
        TypeError
            If ``symprec`` is not a real number (a bool or a str, say).

        Examples
        --------
        >>> nacl = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=5.64)
        >>> nacl.get_space_group()
        225
        """
        import warnings

        import spglib

        symprec = check_symprec(symprec)
        with warnings.catch_warnings():
            # spglib 2.x warns about its legacy error handling on every call
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset = spglib.get_symmetry_dataset(
                self.to_spglib_cell(), symprec=symprec
            )
        if dataset is None:
            raise ValueError(f"spglib found no symmetry for {self!r}")
        return int(dataset.number)

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_wyckoff(
        cls,
        space_group: int | str,
        sites: Iterable,
        *,
        a: float,
        b: float | None = None,
        c: float | None = None,
        alpha: float | None = None,
        beta: float | None = None,
        gamma: float | None = None,
        name: str | None = None,
    ) -> Crystal:
        """Build the full cell from a space group and occupied Wyckoff sites.

        Parameters
        ----------
        space_group : int or str
            Number 1..230 (ITA standard setting: unique axis b, origin choice 2,
            hexagonal axes) or an xrayutilities setting key such as ``"227:1"``,
            ``"166:R"`` or ``"14:c"``. Wyckoff letters and coordinates are
            those of xrayutilities' tables for that setting.
        sites : iterable
            Each site is ``(species, wyckoff)``, ``(species, wyckoff, xyz)`` or a
            dict with keys ``species``, ``wyckoff`` and optionally ``xyz``,
            ``occupancy``, ``b_iso``. ``wyckoff`` is a label (``"4c"``) or letter
            (``"c"``); ``xyz`` gives the free coordinates of the first position
            of the orbit. A component that the site fixes may be given as 0 (a
            placeholder) or as its value there; any other value is an error,
            since the point is not on that Wyckoff position (``(0.3, 0.2, 0)``
            for ``x, x, 0``).
        a, b, c : float
            Cell lengths (Å); those fixed by the crystal system may be omitted.
        alpha, beta, gamma : float, optional
            Cell angles (degrees); those fixed by the crystal system may be omitted.
        name : str, optional

        Returns
        -------
        Crystal

        Examples
        --------
        >>> rutile = Crystal.from_wyckoff(
        ...     136, [("Ti", "2a"), ("O", "4f", (0.305, 0.305, 0))], a=4.594, c=2.959
        ... )
        >>> rutile.formula, rutile.n_atoms, rutile.get_space_group()
        ('TiO2', 6, 136)
        """
        key = default_setting(space_group)
        number = int(key.split(":")[0])
        params = _complete_parameters(key, number, a, b, c, alpha, beta, gamma)
        lattice = lattice_from_parameters(*params)
        table = wyckoff_sites(key)
        by_letter = {site.letter: site for site in table.values()}
        species, coords, occ, biso, labels = [], [], [], [], []
        who = f"crystal {name!r}" if name else f"space group {key}"
        if isinstance(sites, (str, dict)):
            raise TypeError(
                f"{who}: sites must be a list of sites such as [('Na', '4a')], "
                f"got {sites!r}"
            )
        for i, spec in enumerate(sites):
            if isinstance(spec, str):
                # tuple("Na") would be ('N', 'a'): nitrogen on site a
                raise TypeError(
                    f"{who}: site {i} is the string {spec!r}; give "
                    "(species, wyckoff[, xyz]), e.g. ('Na', '4a')"
                )
            if isinstance(spec, dict):
                spec = dict(spec)
                missing = [k for k in ("species", "wyckoff") if k not in spec]
                if missing:
                    raise ValueError(
                        f"{who}: site {i} has no {' or '.join(map(repr, missing))}"
                    )
                sp, wy = spec.pop("species"), str(spec.pop("wyckoff"))
                xyz = spec.pop("xyz", (0.0, 0.0, 0.0))
                o, bb = spec.pop("occupancy", 1.0), spec.pop("b_iso", 0.0)
                if spec:
                    raise ValueError(f"{who}: site {i} has unknown keys {list(spec)}")
            else:
                spec = tuple(spec)
                if len(spec) not in (2, 3):
                    raise ValueError(
                        f"{who}: site {i} must be (species, wyckoff[, xyz]), got {spec}"
                    )
                sp, wy = spec[0], str(spec[1])
                xyz = spec[2] if len(spec) == 3 else (0.0, 0.0, 0.0)
                o, bb = 1.0, 0.0
            site = table.get(wy) or by_letter.get(wy)
            if site is None:
                raise ValueError(
                    f"{who}: site {i} names Wyckoff position {wy!r}, which space "
                    f"group {key} does not have (it has {', '.join(table)})"
                )
            xyz = np.asarray(xyz, dtype=float)
            if xyz.shape != (3,) or not np.all(np.isfinite(xyz)):
                raise ValueError(f"{who}: site {i} xyz must be 3 finite numbers")
            pos = site.positions(xyz)
            fixed = ~np.array(site.free)
            if np.any(xyz[fixed] != 0):
                # not all placeholders: the point must be one of the orbit's
                d = pos - xyz
                d -= np.round(d)
                if np.linalg.norm(d @ lattice, axis=-1).min() > _MERGE_TOL:
                    free = ", ".join(a for a, f in zip("xyz", site.free) if f)
                    raise ValueError(
                        f"{who}: site {i} ({sp} {site.label}) at xyz="
                        f"{xyz.tolist()} is not on Wyckoff position {site.label}, "
                        f"whose first position for these free coordinates is "
                        f"{np.round(pos[0], 6).tolist()}; give the free "
                        f"coordinates ({free or 'none'}) and 0 or the site's "
                        "values for the others"
                    )
            d = pos[:, None, :] - pos[None, :, :]
            d -= np.round(d)
            dist = np.linalg.norm(d @ lattice, axis=-1)
            np.fill_diagonal(dist, np.inf)
            if np.any(dist < _MERGE_TOL):
                raise ValueError(
                    f"{who}: site {i} ({sp} {site.label}) at xyz={xyz.tolist()} "
                    "puts atoms on top of each other: these coordinates belong to a "
                    "more special Wyckoff position"
                )
            species += [sp] * site.multiplicity
            coords.append(pos)
            occ += [o] * site.multiplicity
            biso += [bb] * site.multiplicity
            labels += [f"{sp}{i + 1}"] * site.multiplicity
        if not species:
            raise ValueError(f"{who}: no sites given")
        return cls(
            lattice,
            species,
            np.concatenate(coords),
            occupancies=occ,
            b_iso=biso,
            space_group=number,
            name=name,
            labels=labels,
        )

    @classmethod
    def from_cif(cls, source: str | os.PathLike, dataset: str | None = None) -> Crystal:
        """Read a crystal from a CIF file or from CIF text.

        The symmetry operations of the file are applied to the asymmetric unit
        (xrayutilities parses the file); atoms closer than 0.01 Å after expansion
        are merged, and so are images of one site closer than 0.5 Å whose
        occupancies would add up past 1.1 (a special position written with
        rounded coordinates, ``0.333 0.667``; a split site of occupancy 1/2
        or less is kept). A file without operations gives its group by Hall symbol
        (one of spglib's 530 settings; it names the origin and axes), else by
        Hermann–Mauguin symbol or number; a file with none of these is P1.
        A refined occupancy up to 1.1 (``1.02(3)``) is a full site; one
        above is an error. B is ``_atom_site_B_iso_or_equiv``, or 8π²
        ``_atom_site_U_iso_or_equiv``, or, for a site with neither, the
        equivalent isotropic value of its anisotropic
        ``_atom_site_aniso_U_ij`` (or ``B_ij``), 0 without any. Listed
        operations must form a space group, the one the file names if it
        names one (else it is an error: an operation or the centring
        translations left out give too few atoms); ``space_group`` is then
        the operations' group.
        A type symbol with a charge (``O2-``, ``Fe3+``, ``Fe+3``, ``Cl1-``)
        gives the ion (``O2-``, ``Fe3+``, ``Cl-``); the simulators
        use its X-ray form factor where the tables have one
        (:func:`~skxrd.simulation.form_factor_coefficients`), the neutral
        atom's otherwise, and then say so with a :class:`UserWarning` (as for
        ions from any other source). Without ``_atom_site_type_symbol`` a
        site's element is the letters its label starts with (``Fe3A``: Fe,
        ``C1a``: C, ``Wat``: O); a label in capitals that names two elements
        (``FE1``: Fe or F) is settled by ``_chemical_formula_sum``, else
        refused.

        Parameters
        ----------
        source : str or path-like
            A path to a ``.cif`` file, or the CIF text itself.
        dataset : str, optional
            Name of the ``data_`` block; by default the first one with atoms.
            A named block is read alone: an error in another block of the
            file (one phase of a multi-phase refinement) does not stop it.

        Returns
        -------
        Crystal

        Examples
        --------
        >>> text = '''data_Po
        ... _cell_length_a 3.359
        ... _cell_length_b 3.359
        ... _cell_length_c 3.359
        ... _cell_angle_alpha 90
        ... _cell_angle_beta 90
        ... _cell_angle_gamma 90
        ... _symmetry_space_group_name_H-M 'P m -3 m'
        ... loop_
        ... _atom_site_label
        ... _atom_site_type_symbol
        ... _atom_site_fract_x
        ... _atom_site_fract_y
        ... _atom_site_fract_z
        ... Po1 Po 0 0 0
        ... '''
        >>> Crystal.from_cif(text)
        Crystal('Po', Po, 1 atoms, a=3.359 b=3.359 c=3.359 alpha=90 beta=90 gamma=90,
        space_group=221)
        """
        return _read_cif(source, dataset)

    def to_cif(
        self, path: str | os.PathLike | None = None, *, overwrite: bool = False
    ) -> str:
        """Write the crystal as a CIF with its symmetry; returns the text.

        The symmetry operations spglib finds in this cell (tolerance 1e-3 Å;
        sites count as equal only with the same species, occupancy and
        displacement parameter) are written with one atom per orbit, so that
        reading the file back gives the same atoms, the same cell and the same
        space group. A crystal without symmetry is written in P1.
        Coordinates carry 8 decimals (a special position such as 1/3 stays on
        its site), occupancies and B 6. Ions keep their charge in the type
        symbol (``Fe3+``) and, for other readers, in an ``_atom_type`` loop
        of oxidation numbers. The cell is written as its
        parameters: :meth:`from_cif` rebuilds it with **a** along x (a rotated
        cell reads back rotated, a left-handed one as its mirror image; the
        powder pattern is the same). The data block is named after ``name``
        (whitespace becomes ``_``), or the formula.

        Parameters
        ----------
        path : path-like, optional
            Where to write.
        overwrite : bool, default=False
            Replace ``path`` if it exists; without it an existing file is
            left alone and ``FileExistsError`` says so.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.

        Examples
        --------
        >>> si = Crystal.from_wyckoff(227, [("Si", "8a")], a=5.431, name="Si")
        >>> text = si.to_cif()
        >>> "_symmetry_Int_Tables_number 227" in text
        True
        >>> again = Crystal.from_cif(text)
        >>> again.n_atoms, again.formula, again.space_group
        (8, 'Si', 227)
        """
        a, b, c, al, be, ga = self.lattice_parameters
        name = re.sub(r"\s+", "_", self.name or self.formula)
        number, symbol, ops, sites = self._cif_symmetry()
        lines = [
            f"data_{name}",
            f"_symmetry_space_group_name_H-M '{symbol}'",
            f"_symmetry_Int_Tables_number {number}",
        ]
        for key, val in zip(
            (
                "length_a",
                "length_b",
                "length_c",
                "angle_alpha",
                "angle_beta",
                "angle_gamma",
            ),
            (a, b, c, al, be, ga),
        ):
            lines.append(f"_cell_{key} {val:.8f}")
        lines += ["loop_", "_symmetry_equiv_pos_as_xyz"]
        lines += [f"'{_format_xyz(W, t)}'" for W, t in ops]
        kinds = {sp: parse_species(sp)[1] for sp in self.species}
        if any(kinds.values()):
            # where other readers (pymatgen) look for the charge of "Fe3+"
            lines += ["loop_", "_atom_type_symbol", "_atom_type_oxidation_number"]
            lines += [f"{sp} {q}" for sp, q in kinds.items()]
        lines += [
            "loop_",
            "_atom_site_label",
            "_atom_site_type_symbol",
            "_atom_site_fract_x",
            "_atom_site_fract_y",
            "_atom_site_fract_z",
            "_atom_site_occupancy",
            "_atom_site_B_iso_or_equiv",
        ]
        for i in sites:
            sp, (x, y, z) = self.species[i], self.frac_coords[i]
            o, bb = self.occupancies[i], self.b_iso[i]
            lines.append(
                f"{parse_species(sp)[0]}{i + 1} {sp} {x:.8f} {y:.8f} {z:.8f} "
                f"{o:.6f} {bb:.6f}"
            )
        text = "\n".join(lines) + "\n"
        if path is not None:
            write_text(check_new_file(path, overwrite), text)
        return text

    def _cif_symmetry(self):
        """(number, H-M symbol, operations, atom indices of one site per orbit)."""
        import warnings

        import spglib

        # sites are equivalent only with the same species, occupancy and B
        positions, numbers, sites = self._spglib_sites()
        cell = (np.array(self.lattice), positions, numbers)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                ds = spglib.get_symmetry_dataset(cell, symprec=1e-3)
            except Exception:  # spglib's own errors: write P1
                ds = None
        if ds is None or int(ds.number) == 1:
            return 1, "P 1", [(np.eye(3), np.zeros(3))], range(self.n_atoms)
        ops = list(zip(ds.rotations, ds.translations))
        first = sorted(set(int(i) for i in ds.equivalent_atoms))
        atoms = sorted(j for k in first for j in sites[k])
        return int(ds.number), str(ds.international), ops, atoms

    @classmethod
    def from_pymatgen(cls, structure, name: str | None = None) -> Crystal:
        """Convert a pymatgen ``Structure`` (disordered sites become several atoms).

        A disordered site ``{Fe: 0.5, Mg: 0.5}`` becomes one atom per species
        at its position, each with its occupancy. Species with an integer
        oxidation state become ions (``Species("Fe", 3)`` → ``"Fe3+"``),
        deuterium and tritium stay ``"D"`` and ``"T"`` (pymatgen's
        ``Element("D")`` has the symbol ``"H"``), and the site property
        ``"b_iso"`` gives the B factors (``"b_iso_species"``, where a site has
        it, each species' own), as :meth:`to_pymatgen` writes them. A species
        with a non-integer oxidation state (``Fe2.5+``, from a bond-valence
        analysis) is read as its element, with a :class:`UserWarning` naming
        it.

        Examples
        --------
        >>> from pymatgen.core import Lattice, Species, Structure
        >>> s = Structure(Lattice.cubic(4.2), ["Mg", "O"], [[0, 0, 0], [.5, .5, .5]])
        >>> Crystal.from_pymatgen(s).formula
        'MgO'
        >>> ions = [Species("Mg", 2), Species("O", -2)]
        >>> s = Structure(Lattice.cubic(4.2), ions, [[0, 0, 0], [.5, .5, .5]])
        >>> Crystal.from_pymatgen(s).species
        ('Mg2+', 'O2-')
        """
        species, coords, occ, b_iso, fractional = [], [], [], [], {}
        for site in structure:
            b = float(site.properties.get("b_iso", 0.0) or 0.0)
            # a mixed site whose atoms have B of their own (to_pymatgen)
            own = site.properties.get("b_iso_species") or {}
            for sp, amount in site.species.items():
                b_sp = float(own.get(str(sp), b))
                label, element = _pymatgen_species(sp)
                if element is not None:
                    fractional[label] = element
                    label = element
                species.append(label)
                coords.append(site.frac_coords)
                occ.append(float(amount))
                b_iso.append(b_sp)
        if fractional:
            import warnings

            from ..utils._warnings import caller_stacklevel

            warnings.warn(
                "pymatgen species with a non-integer oxidation state are read as "
                "their elements: "
                + ", ".join(f"{sp} as {el}" for sp, el in fractional.items()),
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        return cls(
            structure.lattice.matrix,
            species,
            coords,
            occupancies=occ,
            b_iso=b_iso,
            name=name or structure.composition.reduced_formula,
        )

    def to_pymatgen(self):
        """Convert to a pymatgen ``Structure`` (needs pymatgen).

        One site per position: the atoms of a mixed or partly occupied site
        (the same fractional position, within 1e-3 Å and modulo lattice
        translations, with occupancies that add up to at most 1) become one
        disordered site whose species maps each of them to its occupancy
        (``{Fe: 0.5, Mg: 0.5}``), as pymatgen's CIF reader, ``is_ordered``,
        ``SpacegroupAnalyzer`` and ``merge_sites`` expect; the site stands at
        its first atom's position, in the order of the first atoms. Atoms
        at one position whose occupancies add up to more than 1, and two
        atoms of one species there with different B, stay separate sites. A
        fully occupied crystal gives one site per atom, in order.

        Ions become pymatgen ``Species`` with their oxidation state
        (``"Fe3+"`` → ``Species("Fe", 3)``), neutral atoms ``Element`` objects
        (deuterium and tritium pymatgen's ``D`` and ``T``). Isotropic B
        values travel as the site property ``"b_iso"``; where the atoms of a
        site have different B (pymatgen keeps one value of a property per
        site), ``"b_iso"`` is their occupancy-weighted mean and the site
        property ``"b_iso_species"`` maps each species (``str``) to its own B
        (None on the other sites; the property is absent when no site needs
        it). :meth:`from_pymatgen` reads all of it back: species,
        occupancies and B factors round-trip, and so does the powder pattern
        (the atoms of a merged site come back one after another).

        Examples
        --------
        >>> c = Crystal(4.0 * np.eye(3), ["Po"], [[0, 0, 0]], b_iso=0.7)
        >>> Crystal.from_pymatgen(c.to_pymatgen()).b_iso.tolist()
        [0.7]
        >>> mgo = Crystal.from_wyckoff(225, [("Mg2+", "4a"), ("O2-", "4b")], a=4.21)
        >>> str(mgo.to_pymatgen()[0].specie)
        'Mg2+'
        >>> mixed = Crystal(4.0 * np.eye(3), ["Fe", "Mg"], [[0, 0, 0]] * 2,
        ...                 occupancies=[0.5, 0.5])
        >>> structure = mixed.to_pymatgen()
        >>> len(structure), structure[0].species.as_dict()
        (1, {'Fe': 0.5, 'Mg': 0.5})
        """
        from pymatgen.core import Element, Lattice, Species, Structure

        def pymatgen_species(label):
            element, charge = parse_species(label)
            # an ion keeps its charge (its X-ray form factor differs)
            return Species(element, charge) if charge else Element(element)

        kinds = {s: pymatgen_species(s) for s in dict.fromkeys(self.species)}
        sites = _shared_sites(self, [kinds[s] for s in self.species])
        species, b_site, b_species = [], [], []
        for members in sites:
            amounts = {}
            for i in members:
                kind = kinds[self.species[i]]
                amounts[kind] = amounts.get(kind, 0.0) + float(self.occupancies[i])
            species.append(amounts)
            b = self.b_iso[members]
            if np.all(b == b[0]):
                b_site.append(float(b[0]))
                b_species.append(None)
            else:  # one value per site: the mean, and each species' own
                occ = self.occupancies[members]
                b_site.append(float(np.dot(occ, b) / occ.sum()))
                b_species.append(
                    {str(kinds[self.species[i]]): float(self.b_iso[i]) for i in members}
                )
        properties = {"b_iso": b_site}
        if any(b is not None for b in b_species):
            properties["b_iso_species"] = b_species
        return Structure(
            Lattice(self.lattice),
            species,
            self.frac_coords[[members[0] for members in sites]],
            site_properties=properties,
        )

    @classmethod
    def from_ase(cls, atoms, name: str | None = None) -> Crystal:
        """Convert ASE ``Atoms`` (needs a 3D periodic cell).

        Occupancies are read as ASE's CIF reader stores them
        (``ase.io.read(..., fractional_occupancies=True)``, its default):
        ``atoms.info["occupancy"]`` maps each site kind (the per-atom array
        ``"spacegroup_kinds"``, or the tags in ASE before 3.23) to
        ``{symbol: occupancy}``; a site with several symbols (a mixed site,
        of which ASE keeps one atom) becomes one atom per symbol, as ASE's CIF
        writer writes them. Integer initial charges give ions (``+3`` on Fe →
        ``"Fe3+"``), other charges (partial charges of a calculation) the
        element; the per-atom array ``"b_iso"`` gives B factors. Hydrogen with
        deuterium's or tritium's mass (ASE has no symbol for them) is read as
        ``"D"`` or ``"T"``. :meth:`to_ase` writes all of these.

        Examples
        --------
        >>> from ase.build import bulk
        >>> Crystal.from_ase(bulk("Cu", "fcc", a=3.6, cubic=True)).n_atoms
        4
        """
        if not all(atoms.pbc):
            raise ValueError("ASE Atoms must be periodic in all three directions")
        cell = np.array(atoms.cell, dtype=float)
        if not np.all(np.isfinite(cell)) or abs(np.linalg.det(cell)) < 1e-6:
            raise ValueError("ASE Atoms cell is degenerate (zero or flat)")
        # ASE's own symbols key its occupancy records ("H" for deuterium)
        ase_symbols = atoms.get_chemical_symbols()
        symbols = list(ase_symbols)
        masses = atoms.get_masses()
        for i, s in enumerate(symbols):
            if s == "H":  # ASE's deuterium and tritium: hydrogen of their mass
                for isotope, mass in _HYDROGEN_ISOTOPES.items():
                    if abs(masses[i] - mass) < 0.01:
                        symbols[i] = isotope
        frac = atoms.get_scaled_positions(wrap=True)
        charges = atoms.get_initial_charges()
        species = [
            f"{el}{abs(int(q)) if abs(q) > 1 else ''}{'+' if q > 0 else '-'}"
            if q != 0 and float(q).is_integer()
            else el
            for el, q in zip(symbols, charges)
        ]
        b = atoms.arrays.get("b_iso")
        b_iso = np.zeros(len(atoms)) if b is None else np.asarray(b, dtype=float)
        occupancies = np.ones(len(atoms))
        occ = atoms.info.get("occupancy")
        if isinstance(occ, dict) and len(atoms):
            kinds = atoms.arrays.get("spacegroup_kinds")
            if kinds is None:  # ASE before 3.23 kept the site kinds as tags
                kinds = atoms.get_tags()
            extra = []
            for i, (el, kind) in enumerate(zip(ase_symbols, kinds)):
                site = occ.get(str(kind))
                if not isinstance(site, dict) or el not in site:
                    raise ValueError(
                        f"ASE Atoms: atom {i} ({el}) is of site kind {kind}, for "
                        f"which info['occupancy'] has no {el} occupancy"
                    )
                occupancies[i] = float(site[el])
                # ASE keeps one atom of a mixed site: the others are here
                extra += [
                    (i, other, float(o)) for other, o in site.items() if other != el
                ]
            if extra:
                at = [i for i, _, _ in extra]
                species += [other for _, other, _ in extra]
                frac = np.concatenate([frac, frac[at]])
                occupancies = np.concatenate([occupancies, [o for _, _, o in extra]])
                b_iso = np.concatenate([b_iso, b_iso[at]])
        return cls(
            cell,
            species,
            frac,
            occupancies=occupancies,
            b_iso=b_iso,
            name=name or atoms.get_chemical_formula(mode="reduce"),
        )

    def to_ase(self):
        """Convert to ASE ``Atoms`` (needs ASE).

        One ASE atom per atom. Ions become initial charges (``"Fe3+"`` → 3),
        B factors (where any is not 0) the per-atom array ``"b_iso"``,
        deuterium and tritium
        hydrogen of their mass. ASE has no partial occupancy: its calculators,
        neighbour lists and viewers take every atom as whole, so the atoms of a
        mixed site stand on top of each other. A crystal with occupancies
        below 1 is converted with a :class:`UserWarning` that says so; its
        occupancies are kept where ASE's CIF reader puts them
        (``info["occupancy"]`` by the per-atom array ``"spacegroup_kinds"``),
        so that ASE's CIF writer writes them. :meth:`from_ase` reads all of it
        back.

        Examples
        --------
        >>> import warnings
        >>> c = Crystal(4.0 * np.eye(3), ["Fe3+"], [[0, 0, 0]], occupancies=0.5)
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")  # no partial occupancy in ASE
        ...     atoms = c.to_ase()
        >>> atoms.info["occupancy"], atoms.get_initial_charges().tolist()
        ({'0': {'Fe': 0.5}}, [3.0])
        >>> Crystal.from_ase(atoms).species, Crystal.from_ase(atoms).occupancies
        (('Fe3+',), array([0.5]))
        """
        from ase import Atoms

        symbols = ["H" if e in _HYDROGEN_ISOTOPES else e for e in self.elements]
        atoms = Atoms(
            symbols=symbols,
            scaled_positions=self.frac_coords,
            cell=self.lattice,
            pbc=True,
            charges=[parse_species(s)[1] for s in self.species],
        )
        isotopes = [i for i, e in enumerate(self.elements) if e in _HYDROGEN_ISOTOPES]
        if isotopes:
            masses = atoms.get_masses()
            masses[isotopes] = [_HYDROGEN_ISOTOPES[self.elements[i]] for i in isotopes]
            atoms.set_masses(masses)
        partial = int(np.sum(self.occupancies < 1.0))
        if partial:
            import warnings

            from ..utils._warnings import caller_stacklevel

            who = f"crystal {self.name!r}" if self.name else "crystal"
            warnings.warn(
                f"{who}: ASE Atoms have no partial occupancy: {partial} of "
                f"{self.n_atoms} atoms have occupancy < 1 and are whole atoms to "
                "ASE (those of a mixed site on top of each other); the "
                "occupancies are kept in atoms.info['occupancy'], which "
                "Crystal.from_ase and ASE's CIF writer read",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
            # ASE's CIF convention (keyed by ASE's symbols): each atom a kind
            # of its own
            atoms.info["occupancy"] = {
                str(i): {el: float(o)}
                for i, (el, o) in enumerate(zip(symbols, self.occupancies))
            }
            atoms.new_array("spacegroup_kinds", np.arange(self.n_atoms))
        if np.any(self.b_iso):
            atoms.new_array("b_iso", np.array(self.b_iso, dtype=float))
        return atoms


# ASE's deuterium and tritium: hydrogen of their mass (u)
_HYDROGEN_ISOTOPES = {"D": 2.01410178, "T": 3.01604928}


# atoms closer than this (Å) share a site in to_pymatgen
_SAME_SITE = 1e-3


def _shared_sites(crystal, kinds) -> list[list[int]]:
    """The atoms of each site, in the order of their first atoms: atoms of
    occupancy < 1 at one position (within ``_SAME_SITE``, modulo lattice
    translations) share a site while their occupancies add up to at most 1
    and no two of them are one kind (``kinds[i]``, the atom's species) with
    different B; every other atom is a site of its own."""
    occ, frac, b = crystal.occupancies, crystal.frac_coords, crystal.b_iso
    owner = np.arange(crystal.n_atoms)  # the first atom of each atom's site
    anchors, members, totals = [], {}, {}
    for i in np.flatnonzero(occ < 1.0):
        if anchors:
            d = frac[anchors] - frac[i]
            d -= np.round(d)  # the nearest lattice translation
            near = np.flatnonzero(
                np.linalg.norm(d @ crystal.lattice, axis=1) < _SAME_SITE
            )
        else:
            near = ()
        for j in near:
            a = anchors[j]
            # pymatgen refuses a site whose occupancies exceed 1 (1e-8 slack)
            fits = totals[a] + occ[i] <= 1.0 + 1e-8
            if fits and all(kinds[k] != kinds[i] or b[k] == b[i] for k in members[a]):
                owner[i] = a
                members[a].append(i)
                totals[a] += occ[i]
                break
        else:
            anchors.append(i)
            members[i], totals[i] = [i], occ[i]
    return [members.get(i, [i]) for i in range(crystal.n_atoms) if owner[i] == i]


def _pymatgen_species(sp) -> tuple[str, str | None]:
    """The skxrd label of a pymatgen ``Element`` or ``Species``, and the
    element that stands in for a non-integer oxidation state (else None)."""
    element = getattr(sp, "element", sp)
    symbol = getattr(element, "symbol", None)
    if symbol is None:  # a DummySpecies ("X0+"): Crystal names it unknown
        return str(sp), None
    # pymatgen's deuterium and tritium have the symbol "H", their own names
    if getattr(element, "name", None) in ("D", "T"):
        symbol = element.name
    oxi = getattr(sp, "oxi_state", None)
    if not oxi:
        return symbol, None
    if not float(oxi).is_integer():
        return str(sp), symbol
    charge = int(oxi)
    sign = "+" if charge > 0 else "-"
    return f"{symbol}{abs(charge) if abs(charge) > 1 else ''}{sign}", None


def _complete_parameters(key, number, a, b, c, alpha, beta, gamma):
    """Fill the lattice parameters that the crystal system fixes, check the rest."""
    given = {"a": a, "b": b, "c": c, "alpha": alpha, "beta": beta, "gamma": gamma}
    if number <= 2:
        fixed, need = {}, ("b", "c", "alpha", "beta", "gamma")
    elif number <= 15:
        if key.endswith(":c"):
            fixed, need = {"alpha": 90, "beta": 90}, ("b", "c", "gamma")
        else:
            fixed, need = {"alpha": 90, "gamma": 90}, ("b", "c", "beta")
    elif number <= 74:
        fixed, need = {"alpha": 90, "beta": 90, "gamma": 90}, ("b", "c")
    elif number <= 142:
        fixed, need = {"b": a, "alpha": 90, "beta": 90, "gamma": 90}, ("c",)
    elif number <= 194 and not key.endswith(":R"):
        fixed, need = {"b": a, "alpha": 90, "beta": 90, "gamma": 120}, ("c",)
    elif number <= 194:
        fixed = {"b": a, "c": a, "beta": alpha, "gamma": alpha}
        need = ("alpha",)
    else:
        fixed, need = {"b": a, "c": a, "alpha": 90, "beta": 90, "gamma": 90}, ()
    for k in need:
        if given[k] is None:
            raise ValueError(f"space group {key} needs lattice parameter {k!r}")
    for k, v in fixed.items():
        if given[k] is None:
            given[k] = v
        elif v is not None and not np.isclose(given[k], v, rtol=1e-6, atol=1e-6):
            raise ValueError(
                f"space group {key}: {k}={given[k]} contradicts its crystal "
                f"system, which fixes {k}={v}"
            )
    return [given[k] for k in ("a", "b", "c", "alpha", "beta", "gamma")]


def _site_orbit(pos, rot, trans, lattice) -> list[np.ndarray]:
    """The distinct images of one site under a list of symmetry operations.

    ``rot`` (n, 3, 3) and ``trans`` (n, 3) are the operations, ``pos`` the
    fractional position; images (wrapped into [0, 1)) closer than
    ``_MERGE_TOL`` Å to an earlier one are the same atom.
    """
    orbit = np.mod(rot @ pos + trans, 1.0)
    d = orbit[:, None, :] - orbit[None, :, :]
    d -= np.round(d)
    d = d @ lattice
    close = np.tril(np.einsum("ijk,ijk->ij", d, d) < _MERGE_TOL**2, -1)
    earlier: list[list[int]] = [[] for _ in range(len(orbit))]
    for i, j in zip(*(a.tolist() for a in np.nonzero(close))):
        earlier[i].append(j)
    kept = [False] * len(orbit)
    for i in range(len(orbit)):  # greedy: an image close to a kept one merges
        kept[i] = not any(kept[j] for j in earlier[i])
    return [p for p, k in zip(orbit, kept) if k]


# Images of one site closer than this (Å) cannot all be atoms when their
# occupancies add up past 1: no two atoms are that close (H2: 0.74 Å)
_ROUNDED_SITE_TOL = 0.5


def _rounded_special_position(orbit, lattice, occupancy) -> list[np.ndarray]:
    """The images of one CIF site, those of a special position written with
    rounded coordinates merged.

    ``0.333 0.667 0.25`` for the 2c site of P6_3/mmc in a 10 Å cell gives
    images 0.01-0.02 Å apart (``0.33`` 0.1 Å), more than the 0.01 Å within
    which :func:`_site_orbit` merges them: the site counted three times.
    Images closer than ``_ROUNDED_SITE_TOL`` whose occupancies add up past
    1 (+ slack) cannot be distinct atoms, and become one at their mean; a
    split site (images of occupancy 1/2 or less, 0.3 Å apart) is kept.
    """
    if len(orbit) < 2 or 2 * occupancy <= 1.0 + _SITE_OCC_SLACK:
        return orbit
    pos = np.asarray(orbit)
    d = pos[:, None, :] - pos[None, :, :]
    d -= np.rint(d)  # d[j, i]: image j seen from image i, nearest translation
    near = np.linalg.norm(d @ lattice, axis=-1) < _ROUNDED_SITE_TOL
    if np.count_nonzero(near) == len(pos):  # only each image itself
        return orbit
    kept, used = [], np.zeros(len(pos), dtype=bool)
    for i in range(len(pos)):
        if used[i]:
            continue
        group = np.flatnonzero(near[:, i] & ~used)
        used[group] = True
        kept.append(np.mod(pos[i] + d[group, i].mean(axis=0), 1.0))
    return kept


@cache
def _checked_cif_file():
    """xrayutilities' CIF parser with the symmetry operators checked first.

    Its ``CIFDataset.SymStruct`` passes each operator of the file to
    ``eval``: a CIF could run code, or hang on ``9**9**9``. Each operator must
    parse as three affine expressions (:func:`parse_xyz`) before it does.
    """
    from xrayutilities.materials import cif as xcif

    class CheckedDataset(xcif.CIFDataset):
        def Parse(self, fid):  # noqa: N802 - xrayutilities' name
            # xrayutilities keeps an element per atom site, not its type
            # symbol: read the block's symbols again for the ions it drops
            start = fid.tell()
            super().Parse(fid)
            end = fid.tell()
            fid.seek(start)
            lines = fid.read(end - start).split(b"\n")
            fid.seek(end)
            lines = [line.decode("ascii", "ignore") for line in lines]
            site_labels: list = []
            symbols = _atom_type_symbols(lines, xcif, site_labels)
            # None where the two readings disagree: xrayutilities' elements
            agree = len(symbols) == len(self.atoms)
            self.type_symbols = symbols if agree else None
            self.site_labels = site_labels if agree else None
            # xrayutilities reads no anisotropic displacements
            self.aniso = _aniso_displacements(lines)
            # xrayutilities reads the symbol from the tag's own line and strips
            # single quotes only: a "double-quoted" symbol was unknown, one on
            # the next line (as CIF allows) empty, and the block read as P1.
            # Read before SymStruct, which looks the symbol up.
            self.hall_symbol = _item_value(lines, _HALL_TAGS)
            name = _item_value(lines, _HM_TAGS)
            if name is not None:
                self.sgrp_name = "".join(name.split())  # as xrayutilities keeps it
            elif hasattr(self, "sgrp_name"):
                del self.sgrp_name  # an empty value, "?" or ".": none given

        def SymStruct(self):  # noqa: N802 - xrayutilities' name
            for op in self.symops:
                W, _ = parse_xyz(op)
                # an affine map, but no symmetry operation ("-y*2/3, x, z"):
                # its images would be atoms where the structure has none
                if not np.allclose(W, np.rint(W)) or not np.isclose(
                    abs(np.linalg.det(W)), 1.0
                ):
                    raise ValueError(
                        f"{op.strip('()')!r} is not a symmetry operation: its "
                        "matrix must be integer with determinant 1 or -1"
                    )
            # the Cambridge database writes "+X,1/2+Y,1/2-Z": xrayutilities
            # evaluates the text with lower-case x, y, z
            self.symops = [op.lower() for op in self.symops]
            super().SymStruct()

    class CheckedFile(xcif.CIFFile):
        def Parse(self, fid):  # noqa: N802 - xrayutilities' name
            # CIFFile.Parse, building CheckedDataset blocks
            while True:
                line = fid.readline()
                if not line:
                    break
                fidpos = fid.tell()
                line = line.decode("ascii", "ignore")
                m = xcif.re_data.match(line)
                if m:
                    fid.seek(fidpos)
                    name = line[m.end() :].strip()
                    self.data[name] = CheckedDataset(fid, name, self.digits)
                    if self.data[name].has_atoms and not self.default_dataset:
                        self.default_dataset = name

    return CheckedFile


# The tags of a data block's Hermann–Mauguin symbol (CIF 1.1 core).
_HM_TAGS = ("_symmetry_space_group_name_H-M", "_space_group_name_H-M_alt")
# and of its Hall symbol, which xrayutilities does not read
_HALL_TAGS = ("_space_group_name_Hall", "_symmetry_space_group_name_Hall")


def _normalized_hall(symbol: str) -> str:
    # Hall symbols separate their parts by spaces ("P 32" is P3_2, "P 3 2"
    # P312): single spaces, not none; case and underscores do not matter
    return " ".join(symbol.replace("_", " ").split()).lower()


@cache
def _hall_numbers() -> dict[str, int]:
    """spglib's Hall number of each of its 530 settings' Hall symbols."""
    import spglib

    numbers: dict[str, int] = {}
    for hall in range(1, 531):
        symbol = _normalized_hall(spglib.get_spacegroup_type(hall).hall_symbol)
        numbers.setdefault(symbol, hall)  # the few repeats are one setting
    return numbers


def _hall_setting(symbol: str):
    """``(operations, space-group number)`` of a Hall symbol, or None for a
    symbol that is none of spglib's 530 settings."""
    import spglib

    hall = _hall_numbers().get(_normalized_hall(symbol))
    if hall is None:
        return None
    ops = spglib.get_symmetry_from_database(hall)
    number = int(spglib.get_spacegroup_type(hall).number)
    return list(zip(ops["rotations"].astype(float), ops["translations"])), number


def _item_value(lines: list[str], tags: Sequence[str]) -> str | None:
    """The value of the first of ``tags`` given in a data block's ``lines``.

    As CIF 1.1 writes a value: on the tag's line or on the next one (after
    blank and comment lines), in single or double quotes, or as a text field
    between lines that start with ``;``. None where no tag has a value, or
    its value is CIF's unknown (``?``) or inapplicable (``.``).
    """
    wanted = tuple(tag.lower() for tag in tags)
    for i, line in enumerate(lines):
        words = line.split(None, 1)
        if not words or words[0].lower() not in wanted:
            continue
        value = words[1].strip() if len(words) > 1 else ""
        if not value:  # the value on a later line
            for j, nxt in enumerate(lines[i + 1 :], start=i + 1):
                text = nxt.strip()
                if not text or text.startswith("#"):
                    continue
                if nxt.startswith(";"):  # a text field, to the line of ";"
                    field = [nxt[1:]]
                    for more in lines[j + 1 :]:
                        if more.startswith(";"):
                            break
                        field.append(more)
                    value = " ".join(" ".join(field).split())
                elif not text.startswith("_") and not text.lower().startswith(
                    ("loop_", "data_")
                ):
                    value = text
                break
        m = re.match(r"""^(['"])(.*?)\1(?:\s|$)""", value)
        if m:
            value = m.group(2)
        elif value.startswith("#"):
            value = ""
        value = value.strip()
        if value and value not in ("?", "."):
            return value
    return None


def _atom_type_symbols(lines: list[str], xcif, site_labels: list | None = None):
    """The type symbol of each atom site of a CIF data block, as
    ``xrayutilities.materials.cif.CIFDataset.Parse`` meets the sites: its
    loop, column and line rules, so that the i-th symbol is its i-th atom.
    None for the sites of a loop without ``_atom_site_type_symbol`` (its
    element read from the label). Each site's ``_atom_site_label`` (None
    without one) is appended to ``site_labels`` if given."""
    symbols: list[str | None] = []
    labels: list[str] = []
    columns: dict[str, int] = {}
    loop_start = symop_loop = atom_loop = typed = False
    for line in lines:
        if xcif.re_comment.match(line):
            continue
        if xcif.re_loop.match(line):
            loop_start, symop_loop, atom_loop = True, False, False
            labels, columns, typed = [], {}, False
        elif xcif.re_labelline.match(line):
            if not loop_start:
                continue
            labels.append(line.strip())
            where = len(labels) - 1
            if xcif.re_symop.match(line):
                symop_loop = True
            elif xcif.re_atom.match(line) or xcif.re_atomtyp.match(line):
                atom_loop = True
                if xcif.re_atom.match(line):
                    columns["label"] = where
                # the type symbol before the label, as there
                if xcif.re_atomtyp.match(line) or not any(
                    xcif.re_atomtyp.match(x) for x in labels
                ):
                    columns["symbol"] = where
                    # a label is no type symbol: "Mg-1" is site 1, not Mg-
                    typed = bool(xcif.re_atomtyp.match(line))
            else:
                for name in ("atomx", "atomy", "atomz"):
                    if getattr(xcif, f"re_{name}").match(line):
                        columns[name] = where
                for name in ("uiso", "biso", "atomocc"):
                    if getattr(xcif, f"re_{name}").match(line) and where:
                        columns[name] = where  # column 0 is not read there
        elif xcif.re_emptyline.match(line):
            loop_start = symop_loop = atom_loop = False
        elif symop_loop:
            loop_start = False
        elif atom_loop:
            loop_start = False
            fields = line.split()
            needed = [columns.get(k) for k in ("symbol", "atomx", "atomy", "atomz")]
            needed += [columns[k] for k in ("uiso", "biso", "atomocc") if k in columns]
            # a site too short for its columns is skipped there too
            if None not in needed and max(needed) < len(fields):
                symbols.append(fields[columns["symbol"]] if typed else None)
                if site_labels is not None:
                    at = columns.get("label")
                    label = fields[at].strip("'\"") if at is not None else None
                    site_labels.append(label)
    return symbols


_ANISO_KEYS = ("11", "22", "33", "12", "13", "23")


def _cif_number(token: str) -> float:
    """A CIF number without its uncertainty (``0.0123(4)``); NaN for ``?``."""
    try:
        return float(re.sub(r"\(\d*\)$", "", token.strip("'\"")))
    except ValueError:
        return math.nan


def _aniso_displacements(lines: list[str]) -> dict[str, tuple[str, np.ndarray]]:
    """The anisotropic displacement parameters of a data block (one loop row
    a line, as :func:`_one_row_a_line` writes them): for each label,
    ``("U" or "B", [X11, X22, X33, X12, X13, X23])``."""
    found: dict[str, tuple[str, np.ndarray]] = {}
    i = 0
    while i < len(lines):
        if not lines[i].strip().lower().startswith("loop_"):
            i += 1
            continue
        tags = []
        i += 1
        while i < len(lines) and lines[i].strip().startswith("_"):
            tags.append(lines[i].strip().lower())
            i += 1
        rows = []
        while (
            i < len(lines)
            and lines[i].strip()
            and not lines[i].strip().startswith(("_", "#"))
        ):
            if not lines[i].strip().lower().startswith(("loop_", "data_")):
                rows.append(_cif_tokens(lines[i]))
            else:
                break
            i += 1
        if "_atom_site_aniso_label" not in tags:
            continue
        at = tags.index("_atom_site_aniso_label")
        for kind in ("U", "B"):
            names = [f"_atom_site_aniso_{kind.lower()}_{k}" for k in _ANISO_KEYS]
            if not all(n in tags for n in names):
                continue
            cols = [tags.index(n) for n in names]
            for row in rows:
                if len(row) != len(tags):
                    continue
                values = np.array([_cif_number(row[c]) for c in cols])
                if np.all(np.isfinite(values)):
                    found.setdefault(row[at].strip("'\""), (kind, values))
    return found


def _equivalent_b(kind: str, values: np.ndarray, lattice: np.ndarray) -> float:
    """The equivalent isotropic B (Å²) of anisotropic U^ij or B^ij.

    ``U_eq = 1/3 Σ_ij U^ij a*_i a*_j (a_i · a_j)`` (Fischer & Tillmanns,
    Acta Cryst. C44 (1988) 775), the trace of the Cartesian tensor over 3;
    ``B = 8 π² U``.
    """
    u11, u22, u33, u12, u13, u23 = values
    tensor = np.array([[u11, u12, u13], [u12, u22, u23], [u13, u23, u33]])
    astar = np.linalg.norm(np.linalg.inv(lattice).T, axis=1)
    metric = lattice @ lattice.T
    eq = float(np.sum(tensor * np.outer(astar, astar) * metric) / 3.0)
    return eq if kind == "B" else 8.0 * np.pi**2 * eq


# A site label that is an ion as xrayutilities reads one ("Fe2+", "O2-",
# "Na+"): its charge is kept, as from a type symbol
_LABEL_ION_RE = re.compile(r"^[A-Z][a-z]?\d*[+-]$")


@cache
def _label_symbols() -> frozenset[str]:
    """The element symbols a site label may start with: none past Cf (98),
    whose two letters read as an element and a site name ("NH3" is the N of
    ammonium, not nihonium)."""
    import periodictable

    symbols = {el.symbol for el in periodictable.elements if 0 < el.number <= 98}
    return frozenset(symbols | {"D", "T"})


def _formula_symbols(formula) -> frozenset[str]:
    """The elements of a formula such as a ``_chemical_formula_sum``
    (``'Fe2 O3'``), D and T as written."""
    found = re.findall(r"[A-Z][a-z]?", str(formula or ""))
    return frozenset(s for s in found if s in _element_symbols())


def _label_element(label: str, formula: frozenset[str] = frozenset()) -> str:
    """The element of an atom site from its label, for a CIF without
    ``_atom_site_type_symbol``.

    The label starts with the element, followed by anything (CIF
    convention): ``Fe3A``, ``MgM1`` and ``Tioct`` are Fe, Mg and Ti, but
    ``C1a``, ``N1b`` and ``H1A`` are C, N and H, not Ca, Nb and Ho (only the
    letters before the first non-letter name the element). ``Wat`` is the O
    of a water molecule (AMCSD); an ion label (``Fe2+``) keeps its charge.
    An upper-case second letter names an element only where the one letter
    does not (``KM``, ``OH``: K, O); where both do (``FE1``: Fe or F,
    ``CO1``: Co or C), the elements of the block's ``formula`` decide, and
    without a decision the label is refused: a guess would be a silently
    wrong structure.
    """
    text = label.strip("'\"")
    if _LABEL_ION_RE.match(text) and text.rstrip("+-0123456789") in (
        _element_symbols()
    ):
        return text
    if text[:3].lower() == "wat":
        return "O"
    run = re.match(r"[A-Za-z]*", text).group()
    one = run[:1].upper()
    two = one + run[1].lower() if len(run) > 1 else ""
    found = [s for s in (two, one) if s and s in _label_symbols()]
    if two in found and run[1].islower():
        return two
    if len(found) == 2:
        inside = [s for s in found if s in formula]
        if len(inside) == 1:
            return inside[0]
        raise ValueError(
            f"site label {label!r} may name {found[0]} or {found[1]}, the site "
            "has no _atom_site_type_symbol and no _chemical_formula_sum tells "
            "them apart: add the site's type symbol"
        )
    if not found:
        raise ValueError(
            f"site label {label!r} names no element and the site has no "
            "_atom_site_type_symbol: add the site's type symbol"
        )
    return found[0]


# The loops whose values skxrd reads: atom sites and symmetry operations
_READ_LOOPS = ("_atom_site_", "_symmetry_equiv_pos_", "_space_group_symop_")


def _is_site_tag(tag: str) -> bool:
    """Whether ``tag`` is one of an atom-site loop's (not the anisotropic)."""
    tag = tag.lower()
    return tag.startswith("_atom_site_") and not tag.startswith("_atom_site_aniso")


# CIF's whitespace within a line (str.isspace would take control characters)
_CIF_BLANK = " \t\r"


def _cif_tokens(line: str) -> list[str]:
    """The CIF 1.1 tokens of one line, quotes kept, a comment dropped.

    A quoted value ends at its quote followed by whitespace (``'O1'``,
    ``'x, y, z'``, ``'P 3 2"'``); ``#`` at the start of a token begins a
    comment.
    """
    tokens: list[str] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in _CIF_BLANK:
            i += 1
        elif c == "#":
            break
        elif c in "'\"":
            j = i + 1
            while j < n and not (
                line[j] == c and (j + 1 == n or line[j + 1] in _CIF_BLANK)
            ):
                j += 1
            tokens.append(line[i : j + 1])
            i = j + 1
        else:
            j = i
            while j < n and line[j] not in _CIF_BLANK:
                j += 1
            tokens.append(line[i:j])
            i = j
    return tokens


def _joined_operations(tokens: list[str]) -> list[str]:
    """A symmetry-operation row's tokens with an unquoted operation written
    with spaces (``1 x, y+1/2, z``) put back together: its parts had counted
    as values of the row ("'(x,)' does not have three parts")."""
    out: list[str] = []
    for token in tokens:
        if (
            out
            and (out[-1].endswith(",") or token.startswith(","))
            and out[-1][:1] not in "'\""
            and token[:1] not in "'\""
        ):
            out[-1] += token
        else:
            out.append(token)
    return out


def _one_row_a_line(text: str) -> str:
    """CIF text in the layout xrayutilities' parser reads.

    Its parser reads one loop row per line, ends a loop at a blank line
    only, and reads a tag's value from the tag's own line: atoms after a
    blank line inside a loop, the rest of a row written over two lines, and
    the second of two rows on one line were dropped without a word, and a
    text field or a value on the line after a tag that followed a loop was
    read as atoms or operations. CIF allows all of these. Here each loop row
    gets a line of its own, a loop ends with a blank line before the next
    tag, ``loop_`` or ``data_``, a text field becomes the two lines
    ``;text`` and ``;``, and a value on the line after its tag joins the tag.
    The atom-site loop gets a first column ``_skxrd_row`` of ``.``: a value
    in column 0 is one that xrayutilities does not read. A loop of atom sites
    or symmetry operations whose values do not make whole rows is a
    ValueError (xrayutilities skipped a short row without a word, and the
    rows after one cannot be told apart).
    """
    # lines end at LF, CR LF or CR (not at str.splitlines' control characters);
    # a new list: parts of a line are put back in
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # each block's formula (index 0: the lines before the first block), which
    # tells an all-capitals label apart: "FE1" is Fe or F
    formulas, start = [], 0
    for k, line in enumerate([*lines, "data_"]):
        if line.strip().lower().startswith("data_"):
            formula = _item_value(lines[start:k], ("_chemical_formula_sum",))
            formulas.append(_formula_symbols(formula))
            start = k + 1
    block = 0
    out: list[str] = []
    state = None  # "header" (a loop's tags), "values" (its rows) or None
    n_tags, row, first_tag, tags = 0, [], "", []
    # the column of the site labels that give the elements (no type symbols
    # in the loop), None otherwise; undecided (-1) before a loop's first row
    label_at = -1

    def site_row(values: list[str]) -> str:
        nonlocal label_at
        if label_at == -1:
            label_at = None
            missing = [
                f"_atom_site_fract_{k}"
                for k in "xyz"
                if f"_atom_site_fract_{k}" not in tags
            ]
            if missing and {"_atom_site_label", "_atom_site_type_symbol"} & set(tags):
                # xrayutilities failed with "list indices must be integers or
                # slices, not NoneType"
                message = (
                    f"the atom-site loop of {first_tag} has no "
                    f"{', '.join(missing)} (fractional coordinates)"
                )
                if any(t.startswith("_atom_site_cartn_") for t in tags):
                    message += "; Cartesian _atom_site_Cartn_* are not read"
                raise ValueError(message)
            if "_atom_site_label" in tags and "_atom_site_type_symbol" not in tags:
                # xrayutilities strips the digits of a label and takes the
                # rest as the element: "C1a" was calcium and "Fe3A" an error.
                # The element as a type-symbol column of its own instead.
                label_at = tags.index("_atom_site_label")
                out.append("_atom_site_type_symbol")
        # xrayutilities splits a row at whitespace, quotes or not: a quoted
        # value with spaces ('Fe 1') shifted the columns after it
        values = ["_".join(v.split()) if v[:1] in "'\"" else v for v in values]
        if label_at is not None:
            values.append(_label_element(values[label_at], formulas[block]))
        elif "_atom_site_type_symbol" in tags:
            at = tags.index("_atom_site_type_symbol")
            if values[at] in ("?", "."):
                # an unknown type symbol had become xrayutilities' "Dummy"
                # element ("unknown element 'Dummy'"): the label names it
                if "_atom_site_label" not in tags:
                    raise ValueError(
                        f"an atom site has type symbol {values[at]!r} and no "
                        "_atom_site_label names its element"
                    )
                label = values[tags.index("_atom_site_label")]
                values[at] = _label_element(label, formulas[block])
        return " ".join(values)

    def end_loop():
        nonlocal state, row
        if row:  # an unfinished last row
            if first_tag.startswith(_READ_LOOPS):
                # a value missing (or one too many) somewhere in the loop:
                # its rows cannot be told apart, and a guess would be silent
                raise ValueError(
                    f"the loop of {first_tag} does not hold whole rows of its "
                    f"{n_tags} values (the last has {len(row)}: "
                    f"{' '.join(row)[:60]!r})"
                )
            out.append(" ".join(row))
            row = []
        if state is not None:
            out.append("")
        state = None

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        lower = stripped.lower()
        if line.startswith(";"):  # a text field, to the line that starts with ";"
            j = i + 1
            while j < len(lines) and not lines[j].startswith(";"):
                j += 1
            body = " ".join(" ".join([line[1:], *lines[i + 1 : j]]).split())
            i = j + 1
            if state is None:
                out += [";" + body, ";"]
            else:  # a value of a loop (of no loop skxrd reads)
                state = "values"
                row.append("?")
            continue
        i += 1
        if not stripped or stripped.startswith("#"):
            if state is None:
                out.append(line)
            continue  # blank lines and comments inside a loop: none
        if lower.startswith("data_"):
            end_loop()
            out.append(stripped)
            block += 1
            continue
        if lower.startswith("loop_"):
            end_loop()
            out.append("loop_")
            state, n_tags, first_tag, tags, label_at = "header", 0, "", [], -1
            if stripped[5:].strip():  # its tags (and rows) on the same line
                lines.insert(i, " " + stripped[5:])  # (a space: no text field)
            continue
        if stripped.startswith("_"):
            tokens = _cif_tokens(stripped)
            if state == "header":  # tags, one a line, and rows that follow
                while tokens and tokens[0].startswith("_"):
                    if not first_tag and _is_site_tag(tokens[0]):
                        # xrayutilities reads no occupancy, U or B from a
                        # loop's first column (its index 0 counts as none):
                        # a column of its own first, "." in each row
                        out.append("_skxrd_row")
                    first_tag = first_tag or tokens[0].lower()
                    tags.append(tokens[0].lower())
                    out.append(tokens.pop(0))
                    n_tags += 1
                if not tokens:
                    continue
                lines.insert(i, " " + " ".join(tokens))
                state = "values"
                continue
            end_loop()  # a tag after a loop's rows ends the loop
            if len(tokens) == 1:  # its value on a later line
                j = i
                while j < len(lines) and (
                    not lines[j].strip() or lines[j].strip().startswith("#")
                ):
                    j += 1
                nxt = lines[j].strip() if j < len(lines) else ""
                value = _cif_tokens(nxt)
                if (
                    len(value) == 1
                    and not lines[j].startswith(";")
                    and not nxt.startswith("_")
                    and not nxt.lower().startswith(("loop_", "data_"))
                ):
                    out.append(f"{stripped} {value[0]}")
                    i = j + 1
                    continue
            out.append(stripped)
            continue
        if state is None:
            out.append(line)
            continue
        state = "values"
        tokens = _cif_tokens(stripped)
        if first_tag.startswith(_READ_LOOPS[1:]):
            tokens = _joined_operations(tokens)
        row += tokens
        while n_tags and len(row) >= n_tags:
            if _is_site_tag(first_tag):
                out.append(". " + site_row(row[:n_tags]))
            elif first_tag.startswith("_atom_site_"):  # anisotropic: its labels
                out.append(site_row(row[:n_tags]))
            else:
                out.append(" ".join(row[:n_tags]))
            row = row[n_tags:]
    end_loop()
    return "\n".join(out) + "\n"


def cif_blocks(text: str) -> list[tuple[str, str]]:
    """The data blocks of CIF text as ``(name, text)``: each ``data_NAME``
    line outside a text field starts one."""
    blocks: list[tuple[str, list[str]]] = []
    in_field = False
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.startswith(";"):
            in_field = not in_field
        elif not in_field and line.strip().lower().startswith("data_"):
            blocks.append((line.strip()[5:].strip(), []))
        if blocks:
            blocks[-1][1].append(line)
    return [(name, "\n".join(lines) + "\n") for name, lines in blocks]


class _NoSuchBlock(ValueError):
    pass


def _cif_block(text: str, dataset: str, where: str) -> tuple[str, str]:
    """The name, as the file spells it, and the text of the block named
    ``dataset`` alone: an error in another block of the file (a multi-phase
    refinement) is not this block's. Block names are case-insensitive (CIF
    1.1), so ``"NaCl"`` finds ``data_NACL``."""
    blocks = cif_blocks(text)
    found = [(name, body) for name, body in blocks if name == dataset]
    if not found:
        found = [(n, b) for n, b in blocks if n.casefold() == dataset.casefold()]
    if len(found) == 1:
        return found[0]
    names = [name for name, _ in blocks]
    if found:
        raise _NoSuchBlock(
            f"{where}: {len(found)} data blocks are named {dataset!r}, which CIF "
            f"does not allow (block names must differ, ignoring case; has {names})"
        )
    raise _NoSuchBlock(f"{where}: no data block {dataset!r} (has {names})")


def _read_cif(source, dataset=None) -> Crystal:
    if isinstance(source, (bytes, bytearray)):  # a CIF's contents as bytes
        source = bytes(source).decode("utf-8", "replace")
    if isinstance(source, str) and not source.strip():
        raise ValueError("Crystal.from_cif: the CIF text is empty")
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(
            f"Crystal.from_cif takes a CIF file's path or text, got "
            f"{type(source).__name__}"
        )
    text_given = isinstance(source, str) and (
        "\n" in source or source.lstrip().startswith("data_")
    )
    if text_given:
        where, raw = "CIF text", source.encode("utf-8", "replace")
    else:
        path = Path(source)
        where = f"CIF file '{path}'"
        if not path.is_file():
            raise FileNotFoundError(f"{where} does not exist")
        raw = path.read_bytes()
    if b"data_" not in raw:
        raise ValueError(f"{where}: no 'data_' block; this is not a CIF")
    try:
        # xrayutilities prints chatter for odd inputs; its parse is what we want.
        with contextlib.redirect_stdout(io.StringIO()):
            # utf-8-sig: a byte-order mark (Windows editors write one) had
            # become "?data_", and the file had no data block
            text = raw.decode("utf-8-sig", "replace")
            if dataset is not None:
                dataset, text = _cif_block(text, dataset, where)
            cif = _checked_cif_file()(
                _one_row_a_line(text.encode("ascii", "replace").decode())
            )
    except _NoSuchBlock as exc:
        raise ValueError(str(exc)) from None
    except Exception as exc:
        raise ValueError(f"{where}: cannot be parsed ({exc})") from exc
    names = list(cif.data)
    if dataset is None:
        dataset = cif.default_dataset
        if dataset is None:
            raise ValueError(f"{where}: no data block with atom sites")
    elif dataset not in cif.data:
        raise ValueError(f"{where}: no data block {dataset!r} (has {names})")
    ds = cif.data[dataset]
    if not getattr(ds, "has_atoms", False) or not ds.atoms:
        raise ValueError(f"{where}: data block {dataset!r} has no atom sites")
    params = np.concatenate([ds.lattice_const, ds.lattice_angles])
    if not np.all(np.isfinite(params)) or np.any(params <= 0):
        raise ValueError(
            f"{where}: cell parameters missing or invalid {params.tolist()}"
        )
    try:
        lattice = lattice_from_parameters(*params)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    rhombohedral_cell = bool(
        np.ptp(params[:3]) < 1e-3 * params[0]
        and np.ptp(params[3:]) < 1e-3
        and abs(params[3] - 90.0) > 1e-3
    )
    name = str(getattr(ds, "sgrp_name", "") or "").strip()
    hall = getattr(ds, "hall_symbol", None)
    sg = getattr(ds, "sgrp_nr", None)
    hall_setting = None if ds.symops or hall is None else _hall_setting(hall)
    if ds.symops:
        ops = [parse_xyz(op) for op in ds.symops]
    elif hall_setting is not None:
        # a Hall symbol names one setting and origin: it settles what a
        # Hermann-Mauguin symbol or a number may leave open
        ops, sg = hall_setting
    elif hall is not None and not (name or getattr(ds, "sgrp", None)):
        raise ValueError(
            f"{where}: Hall symbol {hall!r} is not one skxrd knows, and the CIF "
            "gives neither its symmetry operations (_symmetry_equiv_pos_as_xyz) "
            "nor a Hermann-Mauguin symbol or space-group number"
        )
    elif name or getattr(ds, "sgrp", None):
        # the symbol names the setting (P 1 21/n 1 beside the number 14, whose
        # standard setting is P 1 21/c 1): spglib's 530 settings first;
        # xrayutilities' choice where the symbol leaves the origin open (it
        # tries both on the atoms) or where it knows a symbol spglib does not
        ops = None
        try:
            if name:
                ops = _symbol_operations(name, rhombohedral_cell, where)
        except ValueError:
            if not getattr(ds, "sgrp", None):
                raise
        if ops is None:
            setting = str(ds.sgrp)
            if setting.endswith(":H") and rhombohedral_cell:
                # the symbol says R, the cell is on rhombohedral axes
                setting = setting[:-2] + ":R"
            site = general_position(setting)
            ops = list(zip(site.rotations, site.translations))
    else:  # no symmetry stated at all: the sites are the atoms (P1)
        ops = [(np.eye(3), np.zeros(3))]
    rot = np.stack([W for W, _ in ops])
    trans = np.stack([t for _, t in ops])
    if not sg and name:
        # xrayutilities knows the standard settings' symbols only: the
        # number of "P 1 21/n 1", "Cmca" or "Fd-3mS" from spglib's table
        sg = _symbol_number(name)
    if ds.symops:
        # the listed operations make the atoms: a list that is no group (one
        # missing or mistyped), or the group of another number than the file
        # names (centring translations left out), gave a wrong cell silently
        found = _operations_number(rot, trans, lattice)
        if found is None:
            raise ValueError(
                f"{where}: its {len(ops)} symmetry operations "
                "(_symmetry_equiv_pos_as_xyz or _space_group_symop_operation_xyz) "
                "do not form a space group: one is missing or wrong"
            )
        if sg and int(sg) != found:
            raise ValueError(
                f"{where}: its symmetry operations are those of space group "
                f"{found}, but it names space group {int(sg)}"
                + (f" ({name!r})" if name else "")
                + "; the operations may lack the centring translations"
            )
        sg = found
    symbols = getattr(ds, "type_symbols", None) or [None] * len(ds.atoms)
    site_labels = getattr(ds, "site_labels", None) or [None] * len(ds.atoms)
    aniso = getattr(ds, "aniso", None) or {}
    species, coords, occ, biso = [], [], [], []
    for k, ((element, pos, o, bb), symbol) in enumerate(zip(ds.atoms, symbols)):
        if not bb and site_labels[k] in aniso:
            # a site refined anisotropically, its U_iso_or_equiv not given
            # (as the AMCSD writes them): the equivalent isotropic B, not 0
            bb = _equivalent_b(*aniso[site_labels[k]], lattice)
        # the site as the file names it: errors after the expansion named an
        # atom of the cell ("atom 30"), which the user cannot find in the file
        site = f"atom site {k}" + (f" ({site_labels[k]})" if site_labels[k] else "")
        pos = np.asarray(pos, dtype=float)
        if not np.all(np.isfinite(pos)):
            raise ValueError(f"{where}: {site} has unreadable coordinates")
        keep = _site_orbit(pos, rot, trans, lattice)
        o = 1.0 if o is None or not np.isfinite(o) else float(o)
        keep = _rounded_special_position(keep, lattice, o)
        species += [_cif_species(element, symbol)] * len(keep)
        coords += keep
        if 1.0 < o <= 1.0 + _SITE_OCC_SLACK:
            # a refined occupancy of a full site (1.02(3)), as a mixed site's
            # sum may be: the site is full, not an error
            o = 1.0
        if not 0.0 < o <= 1.0:
            raise ValueError(
                f"{where}: {site} has occupancy {o:g} outside (0, 1] (up to "
                f"{1 + _SITE_OCC_SLACK:g} for a refined full site)"
            )
        bb = 0.0 if bb is None or not np.isfinite(bb) else float(bb)
        if bb < 0.0:
            raise ValueError(
                f"{where}: {site} has a negative displacement parameter "
                f"(B = {bb:.4g} Å², from its B_iso, U_iso or U_ij)"
            )
        occ += [o] * len(keep)
        biso += [bb] * len(keep)
    try:
        return Crystal(
            lattice,
            species,
            np.asarray(coords),
            occupancies=occ,
            b_iso=biso,
            space_group=sg if sg and 1 <= int(sg) <= 230 else None,
            name=dataset,
        )
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _operations_number(rot, trans, lattice) -> int | None:
    """The space-group number of a CIF's symmetry operations (each once: a
    file may list them in two loops), None where they do not form a space
    group."""
    import spglib

    rot = np.rint(rot).astype("intc")
    shift = np.mod(np.asarray(trans, dtype=float), 1.0)

    def same(d):  # translations equal modulo 1, within decimals' rounding
        return np.all(np.abs(d - np.rint(d)) < 1e-3, axis=-1)

    # each operation once, grouped by rotation (a few centring shifts each)
    shifts: dict[bytes, list] = {}
    for w, t in zip(rot, shift):
        known = shifts.setdefault(w.tobytes(), [])
        if not any(same(t - u) for u in known):
            known.append(t)
    rot = np.array(
        [
            np.frombuffer(k, dtype="intc").reshape(3, 3)
            for k, ts in shifts.items()
            for _ in ts
        ]
    )
    shift = np.array([t for ts in shifts.values() for t in ts])
    # closed under composition? spglib names the group of part of a list
    products = np.einsum("aij,bjk->abik", rot, rot).reshape(-1, 3, 3)
    moved = (np.einsum("aij,bj->abi", rot, shift) + shift[:, None, :]).reshape(-1, 3)
    groups: dict[bytes, list[int]] = {}
    for k, w in enumerate(products):
        groups.setdefault(w.tobytes(), []).append(k)
    for key, at in groups.items():
        if key not in shifts:
            return None
        d = moved[at][:, None, :] - np.array(shifts[key])[None]
        if not np.all(np.any(same(d), axis=1)):
            return None
    import warnings

    with warnings.catch_warnings(), contextlib.suppress(Exception):
        # spglib's DeprecationWarning on its error handling; its own errors:
        # no group
        warnings.simplefilter("ignore", DeprecationWarning)
        found = spglib.get_spacegroup_type_from_symmetry(
            rot, shift, lattice, symprec=1e-3
        )
        if found is not None:
            return int(found.number)
    return None


def _format_xyz(W, t) -> str:
    """A symmetry operation as CIF text (``'-y, x-y, z+1/3'``)."""
    from fractions import Fraction

    parts = []
    for row, shift in zip(np.rint(W).astype(int), t):
        text = ""
        for coef, axis in zip(row, "xyz"):
            if coef:
                text += ("-" if coef < 0 else ("+" if text else "")) + (
                    axis if abs(coef) == 1 else f"{abs(coef)}*{axis}"
                )
        # % 1 again: a shift just below 1 (1 - 1e-16) rounds to 1/1
        frac = Fraction(float(shift) % 1.0).limit_denominator(12) % 1
        if frac:
            text += f"+{frac.numerator}/{frac.denominator}"
        parts.append(text or "0")
    return ", ".join(parts)


def as_crystal(obj, index: int | None = None) -> Crystal:
    """Coerce a Crystal, pymatgen Structure, ASE Atoms or CIF path/text.

    Errors name the input's position when ``index`` is given.

    Examples
    --------
    >>> as_crystal(Crystal(4.0 * np.eye(3), ["Po"], [[0, 0, 0]])).formula
    'Po'
    """
    where = f"crystal {index}" if index is not None else "crystal"
    try:
        if isinstance(obj, Crystal):
            return obj
        if isinstance(obj, (str, os.PathLike)):
            return Crystal.from_cif(obj)
        kind = type(obj).__module__.split(".")[0]
        if kind == "pymatgen":
            return Crystal.from_pymatgen(obj)
        if kind == "ase":
            return Crystal.from_ase(obj)
    except (ValueError, FileNotFoundError) as exc:
        # "crystal 'X': problem" becomes "crystal 3 ('X'): problem"
        m = re.match(r"crystal(?: '([^']*)')?: (.*)", str(exc), re.DOTALL)
        if m:
            label = f"{where} ({m.group(1)!r})" if m.group(1) else where
            msg = f"{label}: {m.group(2)}"
        else:
            msg = f"{where}: {exc}"
        raise type(exc)(msg) from None
    raise TypeError(
        f"{where}: expected a skxrd Crystal, pymatgen Structure, ASE Atoms or CIF "
        f"path, got {type(obj).__name__}"
    )


def as_crystals(objs: Sequence | Crystal) -> list[Crystal]:
    """Coerce a sequence of crystal-like objects; see :func:`as_crystal`.

    Examples
    --------
    >>> len(as_crystals([Crystal(4.0 * np.eye(3), ["Po"], [[0, 0, 0]])] * 3))
    3
    """
    if isinstance(objs, (Crystal, str, os.PathLike)) or type(objs).__module__.split(
        "."
    )[0] in ("pymatgen", "ase"):
        objs = [objs]
    return [as_crystal(obj, i) for i, obj in enumerate(objs)]


def _cif_species(element, symbol: str | None = None) -> str:
    """The species of an atom site of a CIF.

    xrayutilities' ``element`` with the charge of the CIF's type ``symbol``
    (``O2-``, ``Fe+3``, ``Na1+`` → ``O2-``, ``Fe3+``, ``Na+``); ``2H`` and
    ``3H`` are ``D`` and ``T``; the element where the symbol has no charge or
    names another element. Without
    ``symbol``, the ion xrayutilities recognised.
    """
    base = element.basename if hasattr(element, "basename") else str(element)
    if symbol is not None and base == "H":
        # the isotopes written by mass number: xrayutilities drops the digit,
        # and deuterium's neutron length (6.67 fm) is not hydrogen's (-3.74)
        isotope = {"2H": "D", "3H": "T"}.get(symbol.strip("'\""))
        if isotope:
            return isotope
    if symbol is None:
        # xrayutilities' name of an ion: "Na1+", "O2-." (a table's estimate)
        symbol = str(getattr(element, "name", base)).rstrip(".")
    try:
        name, charge = parse_species(symbol.strip("'\""))
    except ValueError:  # "Fe2.5+", "Ow", "O(SDS)": the element
        return base
    if name != base or not charge:
        return base
    return f"{name}{abs(charge) if abs(charge) > 1 else ''}{'+' if charge > 0 else '-'}"


def _normalized_symbol(symbol: str) -> str:
    return re.sub(r"[\s_]", "", symbol).lower()


_OLD_E_GLIDE = {
    "cmca": "cmce",
    "cmma": "cmme",
    "ccca": "ccce",
    "abm2": "aem2",
    "aba2": "aea2",
}


def _setting_short(t) -> str | None:
    """The short symbol of a monoclinic or orthorhombic setting (``P 1 2_1/n 1``
    → ``P2_1/n``, ``P 2_1/b 2/c 2_1/n`` → ``Pbcn``); spglib's short symbol is
    the standard setting's for all of them."""
    lattice, *axes = t.international_full.split()
    if 3 <= t.number <= 15:
        unique = [a for a in axes if a != "1"]
        return lattice + unique[0] if len(unique) == 1 else None
    if 16 <= t.number <= 74 and len(axes) == 3:
        return lattice + "".join(a.split("/")[-1] for a in axes)
    return None


@cache
def _symbol_settings(name: str) -> tuple:
    """spglib's settings (``SpacegroupType``) that a Hermann–Mauguin symbol
    names, with its setting choice if it has one; see
    :func:`_symbol_operations`."""
    import spglib

    symbol, _, choice = name.partition(":")
    wanted = _normalized_symbol(symbol)
    # the e-glide groups' former symbols
    wanted = _OLD_E_GLIDE.get(wanted, wanted)
    types = [spglib.get_spacegroup_type(hall) for hall in range(1, 531)]
    names = [
        {
            _normalized_symbol(n)
            for n in (t.international_full, t.international_short, _setting_short(t))
            if n
        }
        for t in types
    ]
    if not choice and not any(wanted in n for n in names) and wanted[-1:] in "szhr":
        # ICSD's suffix, the spaces gone: "Fd-3mS"
        wanted, choice = wanted[:-1], wanted[-1]
    choice = choice.strip().upper()
    choice = {"S": "1", "Z": "2"}.get(choice, choice)
    return tuple(
        t
        for t, n in zip(types, names)
        if wanted in n and (not choice or t.choice.upper() == choice)
    )


def _symbol_number(name: str) -> int | None:
    """The space-group number of a Hermann–Mauguin symbol of any setting
    (``P 1 21/n 1`` → 14), None where spglib knows none."""
    numbers = {int(t.number) for t in _symbol_settings(name)}
    return numbers.pop() if len(numbers) == 1 else None


def _symbol_operations(name: str, rhombohedral_cell: bool, where: str):
    """Symmetry operations of the setting a Hermann–Mauguin symbol names.

    Looked up among spglib's 530 settings by full or short symbol (spaces and
    underscores aside); a setting choice may follow a colon (``:1``, ``:2``,
    ``:H``, ``:R``) or a space as ICSD writes it (``S`` origin choice 1,
    ``Z`` origin choice 2, ``H``, ``R``). R groups take the axes of the cell.
    """
    import spglib

    found = list(_symbol_settings(name))
    if not found:
        raise ValueError(
            f"{where}: space group {name!r} is not a symbol skxrd knows, and the "
            "CIF lists no symmetry operations (_symmetry_equiv_pos_as_xyz)"
        )
    choices = {t.choice.upper() for t in found}
    if choices == {"H", "R"}:
        found = [
            t for t in found if t.choice.upper() == ("R" if rhombohedral_cell else "H")
        ]
    elif choices == {"1", "2"}:
        raise ValueError(
            f"{where}: space group {name!r} has two origin choices and the CIF "
            "says neither (':1' or ':2') nor lists its symmetry operations"
        )
    ops = spglib.get_symmetry_from_database(found[0].hall_number)
    return list(zip(ops["rotations"].astype(float), ops["translations"]))
