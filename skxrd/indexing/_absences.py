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
``P2₁/n``, ``P2₁/a``), hexagonal axes for the rhombohedral groups. The
lines are those of the indices the cell was scored on: up to 10, or up to 24
for a cell whose lines need more (``long_axes``, as
:func:`~skxrd.indexing.index_powder`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from ..utils._radiation import get_radiation
from ..utils._validation import check_bool

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


#: the tables of :func:`_build_family_tables` on the search's indices and on
#: the wider ones of long axes, stored: building them takes about a second
#: (15 s for the wider ones), more than ``skxrd predict`` may spend (after a
#: change of the hkl boxes or the settings, regenerate them with ``python -c
#: "from skxrd.indexing._absences import _store_tables; _store_tables()"``; a
#: test checks the stored tables against a fresh build)
_STORED = Path(__file__).with_name("_absences.npz")


def _keys(family, hmax):
    """The stored tables' names: the search's indices keep their first
    names, the wider tables' carry their largest index."""
    from ._index import _HMAX

    tail = "" if hmax == _HMAX else f"_{hmax}"
    return (
        f"{family}_rows{tail}",
        f"{family}_numbers{tail}",
        f"{family}_allowed{tail}",
    )


@cache
def _family_tables(family, hmax=None):
    """``(rows, numbers, allowed)`` of a crystal family (as
    :func:`_build_family_tables`) on indices up to ``hmax`` (the search's
    by default), read from the stored tables."""
    from ._index import _HMAX

    hmax = _HMAX if hmax is None else int(hmax)
    rows_key, numbers_key, allowed_key = _keys(family, hmax)
    if _STORED.exists():
        with np.load(_STORED) as f:
            if rows_key in f:
                rows = f[rows_key].astype(float)
                allowed = np.unpackbits(f[allowed_key], axis=1)
                return (
                    rows,
                    f[numbers_key].astype(int),
                    (allowed[:, : len(rows)].astype(bool)),
                )
    return _build_family_tables(family, hmax)


def _store_tables(path=_STORED):
    """Write every family's tables, on the search's indices and on the wider
    ones of long axes, to ``path`` (compressed)."""
    from ._index import _HMAX, _HMAX_WIDE

    arrays = {}
    for hmax in (_HMAX, _HMAX_WIDE):
        for family in "mohtc":
            rows, numbers, allowed = _build_family_tables(family, hmax)
            rows_key, numbers_key, allowed_key = _keys(family, hmax)
            arrays[rows_key] = rows.astype(np.int16)
            arrays[numbers_key] = numbers.astype(np.int16)
            arrays[allowed_key] = np.packbits(allowed, axis=1)
    np.savez_compressed(path, **arrays)


def _build_family_tables(family, hmax=None):
    """``(rows, numbers, allowed)`` of a crystal family: the distinct metric
    rows of the hkl box of indices up to ``hmax`` (the indexing search's by
    default), and for each distinct absence pattern of the family's groups
    and settings, the group and which rows it allows (a row, one Q for every
    cell of the family, is allowed when any of its hkl is)."""
    from ._index import _HMAX, _hkl, _metric

    h, k, l = _hkl(_HMAX if hmax is None else int(hmax))
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
    absent = np.zeros((len(settings), len(hkl)), bool)
    if ops:
        _, rot, trans = zip(*ops.values())
        step = np.array(rot, dtype=np.float32) - np.eye(3, dtype=np.float32)
        step = step.transpose(1, 0, 2).reshape(3, -1)
        trans = np.array(trans)
        # in chunks of hkl: the wide box of long axes (117 648 hkl) against
        # the cubic groups' 678 operations took gigabytes at once
        chunk = max(1, 2**22 // len(ops))
        for s in range(0, len(hkl), chunk):
            part = hkl[s : s + chunk]
            # hkl is absent under (R, t) when hkl R = hkl and hkl · t is no
            # integer
            moved = (part.astype(np.float32) @ step).reshape(len(part), len(ops), 3)
            phase = trans @ part.T
            absent_by_op = ~np.any(moved, axis=2).T & (
                np.abs(phase - np.round(phase)) > 1e-6
            )
            for i, mine in enumerate(members):
                absent[i, s : s + chunk] = absent_by_op[mine].any(axis=0)
    numbers, allowed, seen = [], [], set()
    for (spg, _), gone in zip(settings, absent):
        row_ok = np.bincount(inverse, weights=~gone, minlength=len(rows)) > 0
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
    long_axes=True,
    tolerance_wavelength="CuKa1",
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

    The lines are those of indices up to 10, the search's, or up to 24 for a
    cell whose lines need more (``long_axes``), as
    :func:`~skxrd.indexing.index_powder` scores the cell: on indices up to 10
    alone, a long axis's lines past them (LiCoO2's ``0 0 12``, c = 14 Å)
    went unexplained and uncounted, and every group scored far below the
    lattice's merit, or above it where the missing lines were unobserved.

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
    long_axes : bool, default=True
        As given to :func:`~skxrd.indexing.index_powder`: a cell whose lines
        up to the last need indices over 10 is scored on indices up to 24.
        With False, on indices up to 10 whatever the cell (the features the
        stackers of :class:`~skxrd.estimators.IndexingClassifier` were
        fitted on).
    tolerance_wavelength : str or float, default="CuKa1"
        As given to :func:`~skxrd.indexing.index_powder`: the radiation whose
        2θ ``tolerance`` counts in (the same windows in Q at any wavelength).

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
    >>> tt = 2 * np.degrees(np.arcsin(1.5405929 * np.sqrt(q[:12]) / (2 * 5.431)))
    >>> sol = index_powder(tt, lattices=("cF",))["cF"]   # silicon
    >>> merits = space_group_merits(tt, sol)
    >>> best = max(merits.values())
    >>> sorted(n for n, m in merits.items() if m == best)   # Fd-3m, Fd-3
    [203, 227]
    >>> merits[227] > merits[225] > 0                       # above Fm-3m
    True
    """
    from ._index import (
        _HMAX,
        _HMAX_WIDE,
        _check_positions,
        _check_scoring,
        _line_scales,
        _merits,
        _reach,
        check_tolerance_wavelength,
    )

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
    # in order, as index_powder takes them: out of order, the last was taken
    # for the highest (Q_N) and every group scored 0
    _check_positions(pos)
    _check_scoring(tolerance, max_unindexed)
    check_bool(long_axes, "long_axes")
    lam = get_radiation(wavelength).wavelengths[0]
    ref = check_tolerance_wavelength(tolerance_wavelength)
    if fam == "a":
        return {1: float(solution.figure_of_merit), 2: float(solution.figure_of_merit)}
    # the lines as index_powder scores its refined cells
    q, tol_q, _, floor_q, slope, _, max_miss = _line_scales(
        pos, lam, float(tolerance), max_unindexed, ref
    )
    q_zero = q - float(solution.zero_shift) * slope
    p = _parameters(solution)[None]
    # the wider indices where index_powder's test for them holds (a cell that
    # needs none scores alike on both, and the narrow tables are quicker)
    wide = long_axes and _reach(p, fam, q[-1])[0] > _HMAX
    rows, numbers, allowed = _family_tables(fam, _HMAX_WIDE if wide else _HMAX)
    if wide:
        # the rows within reach of the last line only (a margin over
        # _merits' own cut, which keeps the same ones): the wide tables are
        # ten times the search's, and scoring each group on all of them made
        # a call three times slower
        qc = rows @ p[0]
        near = (qc > 0) & (qc <= q_zero[-1] * 1.001 * 1.02 * 1.01)
        rows, allowed = rows[near], allowed[:, near]
    out = {}
    for number, ok in zip(numbers, allowed):
        merit = float(_merits(p, rows[ok], q_zero, tol_q, floor_q, max_miss)[0])
        out[int(number)] = max(out.get(int(number), 0.0), merit)
    return out
