"""Space groups weighed on an indexed cell by their systematic absences.

Once a cell indexes a pattern, the lines it calculates but the pattern lacks
say which space groups are likely, as a crystallographer reads an extinction
symbol off the indexed lines: a ``2₁`` axis along b removes the ``0k0`` lines
of odd ``k``, a ``c`` glide the ``h0l`` lines of odd ``l``, a centring whole
classes of lines. de Wolff's figure of merit ``M = Q_N / (2 ε N_calc)``
counts the cell's calculated lines ``N_calc``: counted with only the lines a
space group allows, the merit rises for the groups whose absences the
pattern shows, and falls to the tolerance's floor (or 0, past
``max_unindexed``) for the groups that forbid observed lines. Groups of one
extinction class (``P2/m``, ``P2`` and ``Pm``) score alike: intensities,
not positions, tell them apart.

The absences come from each space group's operations (spglib's database):
``hkl`` is absent when some operation ``(R, t)`` has ``hkl R = hkl`` and
``hkl · t`` not an integer. Every setting of a group that keeps the
conventional axes of :func:`~skxrd.indexing.index_powder`'s cells is tried,
and the best counts: the six axis choices of an orthorhombic group (``Pnma``,
``Pbnm``...), the cell choices of a monoclinic one with b unique (``P2₁/c``,
``P2₁/n``, ``P2₁/a``), hexagonal axes for the rhombohedral groups.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from ..utils._radiation import get_radiation

__all__ = ["space_group_merits"]

# the space-group numbers of each crystal family
_FAMILY_GROUPS = {
    "a": (1, 2),
    "m": (3, 15),
    "o": (16, 74),
    "t": (75, 142),
    "h": (143, 194),
    "c": (195, 230),
}
_RHOMBOHEDRAL = (146, 148, 155, 160, 161, 166, 167)


def _setting_kept(spg_type):
    """Settings on the conventional axes of index_powder's cells."""
    n, choice = spg_type.number, spg_type.choice
    if 3 <= n <= 15:
        return choice.lstrip("-").startswith("b")
    if n in _RHOMBOHEDRAL:
        return choice == "H"
    return True


@cache
def _database():
    """``(space-group type, operations)`` of each of spglib's 530 settings."""
    import warnings

    import spglib

    with warnings.catch_warnings():  # spglib 2.x: its error-handling notice
        warnings.simplefilter("ignore", DeprecationWarning)
        return [
            (spglib.get_spacegroup_type(hall), spglib.get_symmetry_from_database(hall))
            for hall in range(1, 531)
        ]


#: the tables of :func:`_build_family_tables`, stored: building them takes
#: about a second, more than ``skxrd predict`` may spend (after a change of
#: the hkl box or the settings, regenerate them with ``python -c "from
#: skxrd.indexing._absences import _store_tables; _store_tables()"``; a test
#: checks the stored tables against a fresh build)
_STORED = Path(__file__).with_name("_absences.npz")


@cache
def _family_tables(family):
    """``(rows, numbers, allowed)`` of a crystal family (as
    :func:`_build_family_tables`), read from the stored tables."""
    if _STORED.exists():
        with np.load(_STORED) as f:
            if f"{family}_rows" in f:
                rows = f[f"{family}_rows"].astype(float)
                allowed = np.unpackbits(f[f"{family}_allowed"], axis=1)
                return (
                    rows,
                    f[f"{family}_numbers"].astype(int),
                    (allowed[:, : len(rows)].astype(bool)),
                )
    return _build_family_tables(family)


def _store_tables(path=_STORED):
    """Write every family's tables to ``path`` (compressed)."""
    arrays = {}
    for family in "mohtc":
        rows, numbers, allowed = _build_family_tables(family)
        arrays[f"{family}_rows"] = rows.astype(np.int16)
        arrays[f"{family}_numbers"] = numbers.astype(np.int16)
        arrays[f"{family}_allowed"] = np.packbits(allowed, axis=1)
    np.savez_compressed(path, **arrays)


def _build_family_tables(family):
    """``(rows, numbers, allowed)`` of a crystal family: the distinct metric
    rows of the indexing's hkl box, and for each distinct absence pattern of
    the family's groups and settings, the group and which rows it allows (a
    row, one Q for every cell of the family, is allowed when any of its hkl
    is)."""
    from ._index import _hkl, _metric

    h, k, l = _hkl()
    hkl = np.stack([h, k, l], axis=1)
    rows, inverse = np.unique(_metric(h, k, l, family), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    lo, hi = _FAMILY_GROUPS[family]
    settings = [
        (spg, sym)
        for spg, sym in _database()
        if lo <= spg.number <= hi and _setting_kept(spg)
    ]
    # the operations with a translation (the others remove no line), each
    # once: many settings share them
    ops, members = {}, []
    for _, sym in settings:
        mine = []
        for rot, trans in zip(sym["rotations"], np.mod(sym["translations"], 1.0)):
            if np.all((trans < 1e-6) | (trans > 1 - 1e-6)):
                continue
            key = (rot.tobytes(), tuple(np.round(trans * 24).astype(int)))
            mine.append(ops.setdefault(key, (len(ops), rot, trans))[0])
        members.append(mine)
    absent_by_op = np.zeros((len(ops), len(hkl)), bool)
    if ops:
        _, rot, trans = zip(*ops.values())
        # hkl is absent under (R, t) when hkl R = hkl and hkl · t is no integer
        step = np.array(rot, dtype=np.float32) - np.eye(3, dtype=np.float32)
        moved = hkl.astype(np.float32) @ step.transpose(1, 0, 2).reshape(3, -1)
        moved = moved.reshape(len(hkl), len(ops), 3)
        phase = np.array(trans) @ hkl.T
        absent_by_op = ~np.any(moved, axis=2).T & (
            np.abs(phase - np.round(phase)) > 1e-6
        )
    numbers, allowed, seen = [], [], set()
    for (spg, _), mine in zip(settings, members):
        absent = absent_by_op[mine].any(axis=0)
        row_ok = np.bincount(inverse, weights=~absent, minlength=len(rows)) > 0
        key = (spg.number, row_ok.tobytes())
        if key in seen:
            continue
        seen.add(key)
        numbers.append(spg.number)
        allowed.append(row_ok)
    return rows.astype(float), np.array(numbers), np.array(allowed)


def _parameters(solution):
    """The metric parameters of the solution's family (``index_powder``'s
    ``Q = rows @ p``; not triclinic, whose groups have no absences)."""
    fam = solution.lattice[0]
    a, b, c = solution.a, solution.b, solution.c
    if fam == "c":
        return np.array([1 / a**2])
    if fam == "t":
        return np.array([1 / a**2, 1 / c**2])
    if fam == "h":
        return np.array([4 / (3 * a**2), 1 / c**2])
    if fam == "o":
        return np.array([1 / a**2, 1 / b**2, 1 / c**2])
    # monoclinic, b unique: D = 2 a* c* cos β* = -2 cos β / (a c sin² β)
    beta = np.radians(solution.beta)
    s2 = np.sin(beta) ** 2
    return np.array(
        [1 / (a**2 * s2), 1 / b**2, 1 / (c**2 * s2), -2 * np.cos(beta) / (a * c * s2)]
    )


def space_group_merits(
    positions,
    solution,
    *,
    wavelength="CuKa1",
    tolerance=0.05,
    max_unindexed=0.2,
):
    """de Wolff's merit of an indexed cell with each space group's absences.

    The solution's cell (and its zero shift) is scored on the lines as
    :func:`~skxrd.indexing.index_powder` scores it, with ``N_calc`` counting
    only the lines each space group of its crystal family allows (the best
    of the group's settings on the cell's axes). Groups whose absences the
    peaks show score above the lattice's merit; groups that forbid observed
    lines score low, or 0 where more than ``max_unindexed`` of the lines go
    unexplained. A triclinic cell has no absences: both of its groups score
    its merit.

    Parameters
    ----------
    positions : array-like of shape (n_lines,)
        The 2θ (degrees) of the lines the solution was found on (its first
        ``solution.n_lines``).
    solution : IndexingSolution
        A cell of :func:`~skxrd.indexing.index_powder`.
    wavelength : str or float, default="CuKa1"
        The wavelength in Å or a radiation's name (its first line), as given
        to :func:`~skxrd.indexing.index_powder`.
    tolerance, max_unindexed : float, default=0.05, 0.2
        As given to :func:`~skxrd.indexing.index_powder`.

    Returns
    -------
    dict
        Space-group number -> merit, for the groups of the cell's crystal
        family (the trigonal and hexagonal ones for a hexagonal cell).

    Examples
    --------
    The lines of a face-centred cubic cell with the (200), (420)... lines
    of a diamond-type crystal missing (``d`` glides: ``hk0`` with
    ``h + k = 4n + 2`` absent):

    >>> import numpy as np
    >>> from skxrd.indexing import index_powder, space_group_merits
    >>> hkl = {tuple(sorted(t)) for t in np.ndindex(9, 9, 9) if any(t)}
    >>> def allowed(h, k, l):
    ...     fcc = h % 2 == k % 2 == l % 2
    ...     diamond = not (h % 2 == 0 and (h + k + l) % 4 == 2)
    ...     return fcc and diamond
    >>> q = sorted({h * h + k * k + l * l for h, k, l in hkl if allowed(h, k, l)})
    >>> tt = 2 * np.degrees(np.arcsin(1.540562 * np.sqrt(q[:12]) / (2 * 5.431)))
    >>> sol = index_powder(tt, lattices=("cF",))["cF"]   # silicon
    >>> merits = space_group_merits(tt, sol)
    >>> best = max(merits.values())
    >>> sorted(n for n, m in merits.items() if m == best)   # Fd-3m, Fd-3
    [203, 227]
    >>> merits[227] > merits[225] > 0                       # above Fm-3m
    True
    """
    from ._index import _check_scoring, _line_scales, _merits

    fam = getattr(solution, "lattice", "?")[0]
    if fam not in _FAMILY_GROUPS:
        raise ValueError(
            f"solution must be an IndexingSolution of index_powder, got {solution!r}"
        )
    pos = np.asarray(positions, dtype=float).ravel()[: int(solution.n_lines)]
    if len(pos) != int(solution.n_lines) or not np.all(np.isfinite(pos)):
        raise ValueError(
            f"positions must hold the solution's {solution.n_lines} lines (finite "
            f"2θ in degrees), got {np.size(positions)}"
        )
    _check_scoring(tolerance, max_unindexed)
    lam = get_radiation(wavelength).wavelengths[0]
    if fam == "a":
        return {1: float(solution.figure_of_merit), 2: float(solution.figure_of_merit)}
    rows, numbers, allowed = _family_tables(fam)
    # the lines as index_powder scores its refined cells
    q, tol_q, _, floor_q, slope, max_miss = _line_scales(
        pos, lam, float(tolerance), max_unindexed
    )
    q_zero = q - float(solution.zero_shift) * slope
    p = _parameters(solution)[None]
    out = {}
    for number, ok in zip(numbers, allowed):
        merit = float(_merits(p, rows[ok], q_zero, tol_q, floor_q, max_miss)[0])
        out[int(number)] = max(out.get(int(number), 0.0), merit)
    return out
