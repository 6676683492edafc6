"""Indexing on the cubic, tetragonal, hexagonal, orthorhombic, monoclinic and
(when asked) triclinic lattices.

A lattice of these families has at most four metric parameters: with
``Q = 1 / d²``, ``Q = A (h² + k² + l²)`` (cubic), ``A (h² + k²) + C l²``
(tetragonal), ``A (h² + hk + k²) + C l²`` (hexagonal axes),
``A h² + B k² + C l²`` (orthorhombic) or ``A h² + B k² + C l² + D hl``
(monoclinic, b unique), ``A``, ``B`` and ``C`` the squared reciprocal lengths
and ``D = 2 a* c* cos β*``. Candidates come from the first lines, each one,
two, three or four of them given small indices; each candidate is refined by least
squares on the lines it indexes within the tolerance, with a zero shift of
the 2θ scale (a misaligned instrument, or a Kα1 peak read high where Kα2 is
not resolved, offsets every line; a cell of one or two parameters cannot
follow even a few hundredths of a degree), and scored by de Wolff's
figure of merit ``M = Q_N / (2 ε N_calc)`` (``Q_N`` the last line's Q, ``ε``
the mean Q discrepancy of the lines, ``N_calc`` the distinct lines the cell
allows up to ``Q_N``). A line the cell does not explain within the tolerance
counts with the tolerance as its discrepancy, and a cell that leaves more than
``max_unindexed`` of the lines unexplained (impurities, artefacts) scores 0.
Centred lattices allow fewer lines (``h + k + l`` even for I, ``h, k, l`` all
even or all odd for F, ``h + k`` even for C, ``-h + k + l = 3n`` for R in
hexagonal axes), so a centred cell that indexes the lines scores higher than
the primitive cell of the same metric. A cell of higher symmetry is also one
of lower symmetry (a cubic cell is tetragonal and orthorhombic, a hexagonal
one a C-centred orthorhombic one, any of them a monoclinic one): its lines
score alike in both, and the simplest family is the answer. A cell of four
parameters explains many line lists of a triclinic crystal fairly well too
(de Wolff's merit charges it for its many calculated lines, but not enough to
rule it out), so a monoclinic merit is weaker evidence than the others.

Triclinic cells (``Q = A h² + B k² + C l² + D hk + E hl + F kl``) are found by
zones, as in Ito's method: two of the first lines and a third at their sum
(plus a cross term) span a two-dimensional lattice, the zones that explain the
most lines are combined in pairs that share a line, and the last cross term
puts some line at ``011``. A triclinic crystal has no systematic absences, so
its shortest reciprocal vectors are usually among its first lines; a cell whose
axial lines are absent (a screw axis, a centring) may be missed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ..utils._radiation import get_radiation
from ..utils._validation import check_bool, check_int, check_positive, check_real

__all__ = [
    "ALL_LATTICE_TYPES",
    "LATTICE_TYPES",
    "IndexingSolution",
    "index_powder",
    "lattice_merits",
]

#: The lattice types :func:`index_powder` tries (Pearson symbols' first
#: letters: cubic P, I, F; tetragonal P, I; hexagonal P and rhombohedral R;
#: orthorhombic P, C (any face), I, F; monoclinic P, C)
LATTICE_TYPES = (
    "cP", "cI", "cF", "tP", "tI", "hP", "hR", "oP", "oC", "oI", "oF", "mP", "mC"
)  # fmt: skip

_FAMILY = {
    "c": "cubic",
    "t": "tetragonal",
    "h": "hexagonal",
    "o": "orthorhombic",
    "m": "monoclinic",
    "a": "triclinic",
}
#: :data:`LATTICE_TYPES` and the triclinic ``"aP"``, which
#: :func:`index_powder` tries only when asked (``lattices=...``)
ALL_LATTICE_TYPES = (*LATTICE_TYPES, "aP")
_HMAX = 10  # the search's indices; a finalist's cell may need more (below)
#: indices of the wider tables a refined cell with a long axis is scored on
#: (the 0 0 12 line of LiCoO2, c = 14 Å, at 90° with Cu Kα)
_HMAX_WIDE = 24
_N_LOW = 6  # candidates come from the first lines
_N_LOW_O = 7  # orthorhombic: three of the first seven, one of the first few among them
_MAX_VOLUME = 4000.0  # Å³: larger orthorhombic cells are not tried
_N_KEEP_O = 1500  # orthorhombic candidates scored in full per two first lines tried
_N_LOW_M = 5  # monoclinic: four of the first 5 + first_lines, one of the first few
_N_KEEP_M = 400  # monoclinic candidates scored in full per two first lines tried
_MAX_COS_M = 0.9  # |cos β| of a monoclinic cell tried: β within about 26-154°
_MAX_ANGLE_2 = 3.0  # degrees: a triclinic cell's twofold axes (Le Page)
_CHUNK = 2048
_CHUNK_A = 256  # triclinic candidates scored together (sorted by size)
_N_BASE_A = 8  # triclinic: zones of two of the first eight lines
_N_ZONES_A = 40  # the zones that explain the most lines, combined in pairs


def _hkl(hmax=_HMAX):
    r = np.arange(-hmax, hmax + 1)
    h, k, l = (a.ravel() for a in np.meshgrid(r, r, r, indexing="ij"))
    keep = (h != 0) | (k != 0) | (l != 0)
    return h[keep], k[keep], l[keep]


def _allowed(h, k, l, centring):
    if centring == "I":
        return (h + k + l) % 2 == 0
    if centring == "F":
        return ((h - k) % 2 == 0) & ((k - l) % 2 == 0)
    if centring == "R":
        return (-h + k + l) % 3 == 0
    if centring == "C":
        return (h + k) % 2 == 0
    return np.ones(h.shape, bool)


def _metric(h, k, l, family):
    if family == "c":
        return (h * h + k * k + l * l)[:, None]
    if family == "t":
        return np.stack([h * h + k * k, l * l], 1)
    if family == "o":
        return np.stack([h * h, k * k, l * l], 1)
    if family == "m":  # b unique: the cross term of the ac plane
        return np.stack([h * h, k * k, l * l, h * l], 1)
    if family == "a":  # Q = A h² + B k² + C l² + D hk + E hl + F kl
        return np.stack([h * h, k * k, l * l, h * k, h * l, k * l], 1)
    return np.stack([h * h + h * k + k * k, l * l], 1)


def _radix_key(columns):
    """One int64 per row of integer ``columns`` (most significant first)
    whose order is the rows' lexicographic order, or None where the mixed
    radix would overflow."""
    key, size = None, 1
    for c in columns:
        lo = int(c.min())
        span = int(c.max()) - lo + 1
        size *= span
        if size >= 2**63:
            return None
        key = c - lo if key is None else key * span + (c - lo)
    return key


def _lattice_table(lat, h, k, l):
    """The distinct metric rows of a lattice type's ``h, k, l`` and one hkl
    for each."""
    fam, cen = lat
    ok = _allowed(h, k, l, cen)
    h, k, l = h[ok], k[ok], l[ok]
    rows = _metric(h, k, l, fam)
    hkl = np.stack([h, k, l], 1)
    # the representative of each row: the one that reads best (non-negative,
    # h >= k first). One integer key per row stands for np.lexsort of the
    # columns and np.unique(axis=0): three times quicker on the 117,649 hkl
    # of the wide tables of long axes, built in each process that needs them
    # (0.7 s for the 12 lattice types before).
    ranks = [(hkl < 0).sum(1), -h, -k, -l]
    key = _radix_key(ranks)  # the hkl are distinct: no ties
    order = np.lexsort(ranks[::-1]) if key is None else np.argsort(key)
    rows, hkl = rows[order], hkl[order]
    key = _radix_key(rows.T)
    if key is None:
        uniq, first = np.unique(rows, axis=0, return_index=True)
    else:
        # the first of each in this order, as np.unique's stable sort gives
        _, first = np.unique(key, return_index=True)
        uniq = rows[first]
    return uniq.astype(float), hkl[first]


def _tables():
    """Per lattice type: the distinct metric rows and one hkl for each."""
    h, k, l = _hkl()
    return {lat: _lattice_table(lat, h, k, l) for lat in ALL_LATTICE_TYPES}


@functools.cache
def _wide_table(lat, hmax):
    """:func:`_table` of a lattice type with indices up to ``hmax``."""
    return _lattice_table(lat, *_hkl(hmax))


_TABLES = None


def _table(lat):
    global _TABLES
    if _TABLES is None:
        _TABLES = _tables()
    return _TABLES[lat]


@dataclass(frozen=True)
class IndexingSolution:
    """The best cell of one lattice type for a list of peaks.

    Attributes
    ----------
    lattice : str
        The lattice type (one of :data:`ALL_LATTICE_TYPES`, such as ``"cF"``).
    crystal_family : str
        ``"cubic"``, ``"tetragonal"``, ``"hexagonal"`` (which holds the
        trigonal crystals too), ``"orthorhombic"``, ``"monoclinic"`` or
        ``"triclinic"``.
    a, b, c : float
        Cell lengths in Å (``b == a`` but for an orthorhombic or monoclinic
        cell, ``c == a`` for a cubic one; hexagonal axes for ``hR``;
        ``a <= b <= c`` for ``oP``, ``oI`` and ``oF``, and ``a <= b`` on the
        centred face of ``oC``; b the unique axis of a monoclinic cell, its ac
        plane reduced, with ``a <= c`` for ``mP`` and the centred face ab for
        ``mC``; ``a <= b <= c`` for a reduced triclinic cell).
    figure_of_merit : float
        de Wolff's ``M_N`` over the ``n_lines`` lines: above about 10 a cell is
        likely right, above 20 very likely (for patterns of 20 lines).
    n_lines, n_indexed : int
        Lines given, and lines the cell explains within the tolerance.
    hkl : ndarray of shape (n_lines, 3)
        Indices of each line (one of the symmetry-equivalent ones; -1 -1 -1
        where the line is not indexed).
    two_theta_error : ndarray of shape (n_lines,)
        Observed less calculated 2θ in degrees, after the zero shift (NaN
        where not indexed).
    zero_shift : float
        The zero shift of the 2θ scale refined with the cell, in degrees: the
        lines were observed this much above where the cell puts them.
    beta : float
        The monoclinic angle in degrees (at least 90), or a triclinic cell's
        β; 90 for the other families.
    alpha, gamma : float
        A triclinic cell's α and γ in degrees (its angles all below 90° or
        all at least 90°); γ = 120 for a hexagonal cell (``hP``, and ``hR``
        on hexagonal axes); 90 for the other families. The six parameters
        are the cell's: its metric puts each ``hkl`` on its line.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.indexing import index_powder
    >>> n = np.array([1, 2, 3, 4, 5, 6, 8, 9, 10, 11])   # h² + k² + l²
    >>> tt = 2 * np.degrees(np.arcsin(1.5405929 * np.sqrt(n) / (2 * 3.905)))
    >>> sol = index_powder(tt)["cP"]                     # SrTiO3's cell
    >>> sol.crystal_family, round(sol.a, 3), sol.hkl[:3].tolist()
    ('cubic', 3.905, [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    """

    lattice: str
    crystal_family: str
    a: float
    b: float
    c: float
    figure_of_merit: float
    n_lines: int
    n_indexed: int
    hkl: np.ndarray
    two_theta_error: np.ndarray
    zero_shift: float = 0.0
    beta: float = 90.0
    alpha: float = 90.0
    gamma: float = 90.0


def _q(two_theta, lam):
    return (2 * np.sin(np.radians(two_theta) / 2) / lam) ** 2


def _two_theta(q, lam):
    return 2 * np.degrees(np.arcsin(np.clip(np.sqrt(q) * lam / 2, 0, 1)))


def _merits(params, rows, q, tol_q, floor_q, max_miss):
    """Figures of merit of candidate parameters ``(n, p)`` on ``rows``; ``q``
    the lines' Q, shared ``(n_lines,)`` or one row per candidate (each
    corrected for its own zero shift)."""
    q = np.broadcast_to(q, (len(params), q.shape[-1]))
    if rows.shape[1] != 6:
        return _merits_chunks(params, rows, q, tol_q, floor_q, max_miss, _CHUNK)
    # triclinic: each chunk reaches the rows its largest cell needs, so chunks
    # of cells of like size (by the smallest eigenvalue of the reciprocal
    # metric), and smaller ones, compute far fewer of them
    low = np.linalg.eigvalsh(_reciprocal_metric(params))[:, 0]
    order = np.argsort(low, kind="stable")
    out = np.empty(len(params))
    out[order] = _merits_chunks(
        params[order], rows, q[order], tol_q, floor_q, max_miss, _CHUNK_A, low[order]
    )
    return out


def _merits_chunks(params, rows, q, tol_q, floor_q, max_miss, chunk, low=None):
    """:func:`_merits` in chunks of ``chunk`` candidates; ``low``, for
    triclinic ones, the smallest eigenvalue of each reciprocal metric."""
    q_max = q[:, -1] * 1.001
    out = np.zeros(len(params))
    for s in range(0, len(params), chunk):
        p, qs, top = params[s : s + chunk], q[s : s + chunk], q_max[s : s + chunk]
        # only the rows that can fall below q_max for some candidate here
        if rows.shape[1] == 6:
            # triclinic: Q >= λ_min (h² + k² + l²), λ_min the smallest
            # eigenvalue of the reciprocal metric
            least = max(low[s : s + chunk].min(), 1e-12)
            reach = rows[:, :3].sum(1) * least <= top.max() * 1.02
        elif rows.shape[1] == 4:
            # monoclinic: |D hl| <= r (A h² + C l²), r = |D| / (2 √(AC))
            r = np.abs(p[:, 3]) / (2 * np.sqrt(p[:, 0] * p[:, 2]))
            low = (p[:, :3] * (1 - np.outer(r, [1.0, 0.0, 1.0]))).min(0)
            reach = rows[:, :3] @ low <= top.max() * 1.02
        else:
            reach = np.all(rows * p.min(0) <= top.max() * 1.02, axis=1)
        qc = p @ rows[reach].T
        kept = (qc > 0) & (qc <= top[:, None] * 1.02)
        qc = np.where(kept, qc, 1e9)
        qc.sort(axis=1)
        # past the most values in range any row has, every column is 1e9,
        # which counts no line and is no line's nearest: the work below on
        # those columns (about 40 % of them on RRUFF patterns) is left out
        qc = qc[:, : max(int(np.count_nonzero(kept, axis=1).max()), 1)]
        d = _nearest_distance(qc, qs)
        ok = d <= tol_q
        scored = ok.sum(1) >= qs.shape[1] - max_miss
        if not scored.any():
            continue
        # the calculated lines of the cells scored only (most are not, on
        # measured lines); an integer count, alike for any subset of rows
        n_calc = np.ones(len(p), dtype=np.intp)
        sub, top_sub = qc[scored], top[scored, None]
        below = sub <= top_sub
        # repeated values (distinct rows, equal Q) count once
        dup = np.diff(sub, axis=1) <= 1e-7 * top_sub
        n_calc[scored] = np.sum(below, axis=1) - np.sum(dup & below[:, 1:], axis=1)
        # an unexplained line counts as a discrepancy of the tolerance: a
        # small cell that skips lines must not win by its few calculated ones
        eps = np.mean(np.where(ok, np.maximum(d, floor_q), tol_q), axis=1)
        m = top / (2 * eps * np.maximum(n_calc, 1))
        out[s : s + chunk] = np.where(scored, m, 0.0)
    return out


def _nearest_distance(qc, qs):
    """``d[i, j] = min |qc[i] - qs[i, j]|`` for rows ``qc`` sorted in
    ascending order: from the calculated values either side of each line's
    place in its row, found by one search in all rows laid end to end
    (each shifted past the one before), not by a pass over every calculated
    value per line."""
    n, m = qc.shape
    if m == 0:
        return np.full(qs.shape, np.inf)
    # values above every line (the 1e9 of those out of range) capped just
    # above them, which moves no line's place, and a shift per row larger
    # than the capped rows' span, so that the rows laid end to end stay
    # sorted; the distances are taken from qc itself
    lo = min(float(np.min(qs)), float(np.min(qc[:, 0])))
    cap = float(np.max(qs)) + 1.0
    shift = np.arange(n)[:, None] * (cap - lo + 1.0)
    flat = (np.minimum(qc, cap) + shift).ravel()
    at = np.searchsorted(flat, (qs + shift).ravel()).reshape(qs.shape)
    # the place of each line in its own row, and that row's start in qc
    # laid flat (one take per neighbour: quicker than a 2D gather)
    start = np.arange(0, n * m, m)[:, None]
    at -= start
    values = np.ascontiguousarray(qc).ravel()
    d = None
    for k in (-2, -1, 0, 1):  # the neighbours, with one to spare each way
        i = np.clip(at + k, 0, m - 1)
        i += start
        near = np.abs(values.take(i) - qs)
        d = near if d is None else np.minimum(d, near, out=d)
    return d


def _refine(
    p, rows, q, tol_q, slope, max_zero, z=0.0, iters=3, weight=None, solves=None
):
    """Least squares of the parameters, and of a zero shift of the 2θ scale
    within ``max_zero`` degrees, on the lines they index.

    A line observed at 2θ has its Q at 2θ - z: to first order ``q - z *
    slope`` (``slope`` = dQ/d2θ per degree), linear in the parameters and
    ``z`` (starting from ``z``). With the zero shift, residuals are divided
    by ``weight`` (dQ/d2θ at the tolerance's wavelength; ``slope`` where
    None). Returns the parameters and ``z``.

    ``solves``, a dict shared by the calls on one table ``rows`` with the
    same ``q``, ``slope``, ``weight`` and ``max_zero`` (whatever ``tol_q``),
    keeps each least-squares solution by the assignment it solved: which
    lines were indexed, by which rows. The solution depends on nothing else,
    so a candidate that reaches an assignment another one (or the loose
    refinement before the tight one) solved gets the same parameters, bit
    for bit, without solving again."""
    p, z, _ = _refine_steps(
        p, rows, q, tol_q, slope, max_zero, z, iters, weight, solves
    )
    return p, z


def _refine_steps(
    p, rows, q, tol_q, slope, max_zero, z, iters, weight, solves, key=None
):
    """:func:`_refine`, given and returning also the assignment (``key``)
    whose solution ``p`` and ``z`` are, None where they were given."""
    weight = slope if weight is None else weight
    fit_zero = max_zero > 0
    solves = {} if solves is None else solves
    for _ in range(iters):
        qz = q - z * slope
        qc = rows @ p
        # (method calls rather than numpy's functions: a refinement is small,
        # and runs some 2,000 times per pattern)
        near = ((qc > 0) & (qc <= 1.1 * qz[-1] + tol_q[-1])).nonzero()[0]
        if not len(near):
            break
        j = near[np.abs(qz[:, None] - qc[near][None]).argmin(axis=1)]
        ok = np.abs(qz - qc[j]) <= tol_q
        if np.count_nonzero(ok) < len(p) + 2 + fit_zero:
            break
        j = j[ok]
        found = ok.tobytes() + j.tobytes()
        if found == key:
            # the assignment p and z solve: every later step gives them
            # again (a fixed point)
            break
        if found not in solves:
            solves[found] = _solve(rows[j], q[ok], slope[ok], weight[ok], max_zero)
        sol, z_new = solves[found]
        if sol is None:  # not a valid cell
            break
        p, z, key = sol, z_new, found
    return p, z, key


def _solve(rows, q, slope, weight, max_zero):
    """The least-squares parameters and zero shift of :func:`_refine` on the
    indexed lines (``q``, ``slope``, ``weight``) and their ``rows``; None
    for the parameters where they are not a valid cell."""
    # with a zero shift, residuals in 2θ (Q over dQ/d2θ, at the
    # tolerance's wavelength: the same weights at any wavelength):
    # positions are read to the same precision at every angle, and
    # relative ones let the first lines pull the shift; without,
    # relative residuals (each line alike), as before the shift was
    # refined. The shift itself is in the lines' own 2θ (an instrument's
    # offset), its column slope / weight (exactly 1 where they agree).
    if max_zero > 0:
        n, k = rows.shape
        a = np.empty((n, k + 1))  # the parameters' columns, then the shift's
        np.divide(rows, weight[:, None], out=a[:, :k])
        np.divide(slope, weight, out=a[:, k])
        sol, *_ = np.linalg.lstsq(a, q / weight, rcond=None)
        z_new = float(sol[-1])
        if abs(z_new) > max_zero:  # at the bound: the parameters alone
            z_new = float(np.clip(z_new, -max_zero, max_zero))
            sol, *_ = np.linalg.lstsq(
                a[:, :k], (q - z_new * slope) / weight, rcond=None
            )
        sol = sol[:k]
    else:
        z_new = 0.0
        sol, *_ = np.linalg.lstsq(rows / q[:, None], np.ones(len(q)), rcond=None)
    if not _valid(sol):
        return None, z_new
    sol.setflags(write=False)  # shared by the candidates that reach it
    return sol, z_new


def _valid(p):
    """Positive squared reciprocal lengths (and a monoclinic angle within
    bounds; a positive definite triclinic metric)."""
    if len(p) == 6:
        return bool(np.linalg.eigvalsh(_reciprocal_metric(p[None]))[0, 0] > 0)
    if len(p) == 4:
        return bool(
            p[0] > 0
            and p[1] > 0
            and p[2] > 0
            and p[3] ** 2 < 4 * p[0] * p[2] * _MAX_COS_M**2
        )
    return bool((p > 0).all())


# odd multipliers that mix a row's bit patterns into one 64-bit key
_ROW_MIX = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
        0xC4CEB9FE1A85EC53,
    ],
    dtype=np.uint64,
)


def _unique_rows(a):
    """``np.unique(a, axis=0)`` for a finite float array of up to six columns,
    faster: the search's hundreds of thousands of monoclinic candidates spent
    most of their time in that call's sort of whole rows. Rows are keyed by a
    64-bit mix of their bits, the keys sorted, and the unique rows put back in
    ``np.unique``'s lexicographic order; equal keys of unequal rows (a
    collision) fall back to ``np.unique``."""
    a = np.ascontiguousarray(a, dtype=float) + 0.0  # -0.0 keyed as 0.0
    if len(a) < 2:
        return a
    bits = a.view(np.uint64)
    key = bits[:, 0] * _ROW_MIX[0]
    for j in range(1, a.shape[1]):
        key ^= bits[:, j] * _ROW_MIX[j]
        key ^= key >> np.uint64(29)
    order = np.argsort(key, kind="stable")
    key, a = key[order], a[order]
    same_key = key[1:] == key[:-1]
    same_row = np.all(a[1:] == a[:-1], axis=1)
    if np.any(same_key & ~same_row):
        return np.unique(a, axis=0)
    out = a[np.concatenate([[True], ~same_key])]
    return out[np.lexsort(out.T[::-1])]


def _candidates(q, family):
    """Parameters from the first lines given small indices."""
    lines = q[:_N_LOW]
    rows, _ = _table(family + "P")
    if family == "c":
        n = rows[:20, 0]
        return (lines[:, None] / n[None]).reshape(-1, 1)
    small = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
    small = small[(small[:, 0] <= 12) & (small[:, 1] <= 9)][:25]
    i, j = np.triu_indices(len(lines), 1)
    a = np.repeat(small, len(small), 0)
    b = np.tile(small, (len(small), 1))
    det = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    a, b, det = a[det != 0], b[det != 0], det[det != 0]
    q1, q2 = lines[i][:, None], lines[j][:, None]
    x = (q1 * b[None, :, 1] - q2 * a[None, :, 1]) / det
    z = (a[None, :, 0] * q2 - b[None, :, 0] * q1) / det
    # positive after the rounding: a parameter below 5e-9 (an axis of over
    # 10,000 Å) rounded to 0 made a singular cell, which the long axes' test
    # (a matrix inverse) refused with a LinAlgError
    c = np.round(np.stack([x.ravel(), z.ravel()], 1), 8)
    c = c[np.all(c > 0, axis=1)]
    return _unique_rows(c)


_ORTHO_SYSTEMS = None


def _ortho_systems():
    """Inverses of the 3×3 systems that give three lines small indices: rows
    ``(h², k², l²)`` with ``h, k, l <= 2``, the first line's in canonical order
    (``h >= k >= l``: the axes of an orthorhombic cell are interchangeable)."""
    global _ORTHO_SYSTEMS
    if _ORTHO_SYSTEMS is None:
        r = np.arange(3)
        h, k, l = (a.ravel() for a in np.meshgrid(r, r, r, indexing="ij"))
        small = np.stack([h * h, k * k, l * l], 1)[(h + k + l) > 0].astype(float)
        first = small[(small[:, 0] >= small[:, 1]) & (small[:, 1] >= small[:, 2])]
        m = np.stack(
            np.broadcast_arrays(
                first[:, None, None], small[None, :, None], small[None, None, :]
            ),
            axis=-2,
        ).reshape(-1, 3, 3)
        m = m[np.abs(np.linalg.det(m)) > 0.5]
        _ORTHO_SYSTEMS = np.linalg.inv(m)
    return _ORTHO_SYSTEMS


def _solve_first_lines(lines, inv, first_lines):
    """Parameters from each set of ``n`` of ``lines`` (``n`` the size of the
    systems ``inv``: their inverses, one per choice of small indices), one of
    the first ``first_lines`` lines first among them (stray lines may come
    first); shape ``(n_solutions, n)``, none where there are too few lines."""
    n = inv.shape[-1]
    out = [np.empty((0, n))]
    for i in range(first_lines):
        rest = np.array(list(combinations(range(len(lines) - i - 1), n - 1)), int)
        if not len(rest):
            continue
        rhs = np.column_stack([np.full(len(rest), lines[i]), lines[rest + i + 1]]).T
        out.append(np.einsum("nab,bm->mna", inv, rhs).reshape(-1, n))
    return np.concatenate(out)


def _candidates_ortho(q, loose_q, max_miss, first_lines):
    """Orthorhombic parameters from three of the first lines given small
    indices, kept where they explain the first ten lines but for a few
    (a quick count on small indices), the smallest ``_N_KEEP_O`` per two
    ``first_lines``."""
    p = _solve_first_lines(q[:_N_LOW_O], _ortho_systems(), first_lines)
    p = np.sort(p[np.all(p > 0, axis=1)], axis=1)
    p = p[np.prod(p, axis=1) >= 1.0 / _MAX_VOLUME**2]
    if not len(p):
        return p
    p = _unique_rows(np.round(p / q[0], 5)) * q[0]
    rows = _table("oP")[0]
    rows = rows[np.all(rows <= 25, axis=1)]  # h, k, l <= 5
    count, need = _quick_count(p, rows, q, loose_q, max_miss)
    # the reciprocal cell's volume squared, ABC
    n_keep = _N_KEEP_O * max(1, first_lines // 2)
    return _smallest(p, count >= need, np.prod(p, axis=1), n_keep)


def _smallest(p, ok, inverse_volume, n_keep, count=None):
    """The ``n_keep`` smallest cells among the candidates ``ok`` (those that
    explain the most of the first lines first, where ``count`` is given).
    Orthorhombic candidates are ranked by size alone: at the loose tolerance
    large cells explain all of the first ten lines, and on measured lines (an
    impurity or Kβ line among them, a few hundredths of a degree off) they
    crowded the true cell out; on RRUFF minerals whose cell an AMCSD entry
    gives, ranking by size found the orthorhombic cell for 55 % of them
    against 42 % (``experiments/indexing_gap.py``)."""
    keep = np.flatnonzero(ok)
    if count is None:
        keep = keep[np.argsort(-inverse_volume[keep], kind="stable")[:n_keep]]
    else:
        keep = keep[np.lexsort((-inverse_volume[keep], -count[keep]))[:n_keep]]
    return p[np.sort(keep)]


def _quick_count(p, rows, q, loose_q, max_miss):
    """How many of the first ten lines each candidate explains on ``rows`` at
    the loose tolerance, and how many it must (the unindexed allowance)."""
    n = min(10, len(q))
    count = np.zeros(len(p), int)
    for s in range(0, len(p), 4096):
        qc = p[s : s + 4096] @ rows.T
        # the same arithmetic in two buffers, not three new arrays per line
        dist, hit = np.empty_like(qc), np.empty(qc.shape, bool)
        for j in range(n):
            np.abs(np.subtract(qc, q[j], out=dist), out=dist)
            count[s : s + 4096] += np.less_equal(dist, loose_q[j], out=hit).any(axis=1)
    return count, n - max(1, int(np.floor(max_miss * n / len(q))))


_MONO_SYSTEMS = {}


def _mono_systems(centring):
    """Inverses of the 4×4 systems that give four lines small indices: rows
    ``(h², k², l², hl)`` of ``h, k, l <= 1`` and of 200, 020 and 002 (and for C
    centring 201, -201 and 021), those the centring allows."""
    if centring not in _MONO_SYSTEMS:
        small = [(h, k, l) for h in (-1, 0, 1) for k in (0, 1) for l in (0, 1)]
        small += [(2, 0, 0), (0, 2, 0), (0, 0, 2)]
        if centring == "C":
            small += [(2, 0, 1), (-2, 0, 1), (0, 2, 1)]
        # (h, k, l) and (-h, k, -l) have one Q: l > 0, or h >= 0 where l = 0
        base = np.array([x for x in small if any(x) and (x[2] > 0 or x[0] >= 0)])
        base = base[_allowed(*base.T, centring)]
        rows = _metric(*base.T, "m").astype(float)
        i = np.stack(np.meshgrid(*[np.arange(len(rows))] * 4, indexing="ij"), -1)
        m = rows[i.reshape(-1, 4)]
        m = m[np.abs(np.linalg.det(m)) > 0.5]
        _MONO_SYSTEMS[centring] = np.linalg.inv(m)
    return _MONO_SYSTEMS[centring]


def _candidates_mono(q, loose_q, max_miss, centring, first_lines):
    """Monoclinic parameters ``(A, B, C, D)`` from four of the first lines
    given small indices (``Q = A h² + B k² + C l² + D hl``, b unique), kept
    where they explain the first ten lines but for a few (a quick count on
    small indices), the smallest ``_N_KEEP_M`` per two first lines tried (as
    for the orthorhombic lattices: more first lines make more candidates, and
    a fixed number let small wrong cells crowd out the true one)."""
    p = _solve_first_lines(
        q[: _N_LOW_M + first_lines], _mono_systems(centring), first_lines
    )
    p = _distinct_monoclinic(p, q, centring)
    if not len(p):
        return p
    rows = _table("m" + centring)[0]
    rows = rows[np.all(rows[:, :3] <= 9, axis=1)]  # |h|, k, l <= 3
    count, need = _quick_count(p, rows, q, loose_q, max_miss)
    inverse_volume = p[:, 1] * (p[:, 0] * p[:, 2] - p[:, 3] ** 2 / 4)
    # by the count first: four parameters fit the first lines of many small
    # wrong cells, which the count tells from the true one
    n_keep = _N_KEEP_M * max(1, first_lines // 2)
    return _smallest(p, count >= need, inverse_volume, n_keep, count)


def _distinct_monoclinic(p, q, centring):
    """Monoclinic candidates ``(A, B, C, D)`` in one form (``D >= 0``, and
    ``A <= C`` for a primitive cell), those of a cell within bounds (β within
    about 26-154°, at most ``_MAX_VOLUME``), each once (to 5 digits of the
    first line's ``q``)."""
    # h -> -h flips D; for a primitive cell, a and c are interchangeable
    p[:, 3] = np.abs(p[:, 3])
    if centring == "P":
        p[:, 0], p[:, 2] = np.minimum(p[:, 0], p[:, 2]), np.maximum(p[:, 0], p[:, 2])
    ok = (p[:, :3] > 0).all(1) & (p[:, 3] ** 2 < 4 * p[:, 0] * p[:, 2] * _MAX_COS_M**2)
    p = p[ok]
    # the reciprocal cell's volume squared, B (AC - D²/4), bounds the cell's
    p = p[p[:, 1] * (p[:, 0] * p[:, 2] - p[:, 3] ** 2 / 4) >= 1.0 / _MAX_VOLUME**2]
    if not len(p):
        return p
    return _unique_rows(np.round(p / q[0], 5)) * q[0]


def _reduce_monoclinic(p, centred):
    """The ac plane of monoclinic parameters ``(n, 4)`` reduced, and per row
    the integer matrix that takes indices ``(h, l)`` onto the reduced cell.

    The form ``A h² + D hl + C l²`` is reduced (Lagrange) by the steps
    ``a*' = a* - u c*`` (``A' = A - uD + u²C``, ``D' = D - 2uC``,
    ``l' = l + uh``) and ``c*' = c* - t a*`` (``C' = C - tD + t²A``,
    ``D' = D - 2tA``, ``h' = h + tl``); a ``centred`` (C) cell keeps
    ``h + k`` even through the second step only with ``t`` even."""
    p = np.array(p, float)
    m = np.broadcast_to(np.eye(2), (len(p), 2, 2)).copy()
    for _ in range(100):
        u = np.round(p[:, 3] / (2 * p[:, 2]))
        p[:, 0], p[:, 3] = (
            p[:, 0] - u * p[:, 3] + u * u * p[:, 2],
            p[:, 3] - 2 * u * p[:, 2],
        )
        m[:, 1] += u[:, None] * m[:, 0]
        t = np.round(p[:, 3] / (2 * p[:, 0]))
        if centred:
            t = 2 * np.round(p[:, 3] / (4 * p[:, 0]))
        p[:, 2], p[:, 3] = (
            p[:, 2] - t * p[:, 3] + t * t * p[:, 0],
            p[:, 3] - 2 * t * p[:, 0],
        )
        m[:, 0] += t[:, None] * m[:, 1]
        if not (np.any(u) or np.any(t)):
            break
    return p, np.rint(m).astype(int)


_TWOFOLD = None


def _twofold_settings():
    """Le Page's search for twofold axes, set up once: pairs of a direct
    lattice row ``u`` and a reciprocal one ``h`` (primitive indices of at most
    2, one of each ± pair) with ``|u·h|`` 1 or 2, and per pair the integer
    basis ``(a, u, c)`` of a monoclinic cell whose b axis is ``u`` and whose
    a and c span the lattice plane ``h·x = 0``: primitive where ``u·h = ±1``,
    C-centred (in that setting) where ``u·h = ±2``. Rows of the arrays ``u``,
    ``h``, ``basis`` and ``centred``."""
    global _TWOFOLD
    if _TWOFOLD is None:
        r = np.arange(-2, 3)
        v = np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)
        first = v[np.arange(len(v)), np.argmax(v != 0, axis=1)]
        v = v[(first > 0) & (np.gcd.reduce(np.abs(v), axis=1) == 1)]
        r = np.arange(-3, 4)
        x = np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)
        x = x[np.argsort((x * x).sum(1), kind="stable")][1:]
        out = {"u": [], "h": [], "basis": [], "centred": []}
        for u in v:
            for h in v:
                n = abs(int(u @ h))
                if n not in (1, 2):
                    continue
                # the shortest pair of the plane h·x = 0 that spans it
                plane = x[x @ h == 0]
                a, c = next(
                    (plane[i], plane[j])
                    for i in range(len(plane))
                    for j in range(i + 1, len(plane))
                    if np.array_equal(np.abs(np.cross(plane[i], plane[j])), np.abs(h))
                )
                if n == 2:
                    # the centring vector in the cell (a, u, c): C, A or I;
                    # A and I are put in the C setting
                    t = np.round(np.linalg.inv(np.array([a, u, c]).T) * 2) % 2 / 2
                    kinds = {tuple(col) for col in t.T}
                    if (0.0, 0.5, 0.5) in kinds:
                        a, c = c, a
                    elif (0.5, 0.5, 0.5) in kinds:
                        a = a + c
                out["u"].append(u)
                out["h"].append(h)
                out["basis"].append(np.array([a, u, c]))
                out["centred"].append(n == 2)
        _TWOFOLD = {k: np.array(x_) for k, x_ in out.items()}
    return _TWOFOLD


def _candidates_twofold(tric, q, centring):
    """Monoclinic parameters ``(A, B, C, D)`` of the triclinic candidates
    ``tric`` (the zone search's, :func:`_candidates_tric`, on the lines'
    ``q``) that have a twofold axis, as Le Page's method finds it: a direct
    lattice row ``u`` within ``_MAX_ANGLE_2`` degrees of a reciprocal one
    ``h`` (``|u·h|`` 1 for a primitive monoclinic cell, 2 for a C-centred
    one). The triclinic metric is taken onto the monoclinic cell
    ``(a, u, c)`` and its two cross terms with b dropped; the ac plane is
    reduced (:func:`_reduce_monoclinic`, as for the reported cell).

    Ito's zones find the lattice from lines whatever their indices, so this
    reaches monoclinic cells whose first lines have indices larger than
    :func:`_candidates_mono`'s (a long axis, a C-centred cell with few h0l
    lines among the first)."""
    if not len(tric):
        return np.empty((0, 4))
    two = _twofold_settings()
    u, h, basis = two["u"], two["h"], two["basis"].astype(float)
    pick = two["centred"] == (centring == "C")
    u, h, basis = u[pick], h[pick], basis[pick]
    gs = _reciprocal_metric(tric)
    gd = np.linalg.inv(gs)
    # cos² of the angle between u and h: (u·h)² / (u'Gu h'G*h)
    uu = (u[:, :, None] * u[:, None, :]).reshape(-1, 9).T.astype(float)
    hh = (h[:, :, None] * h[:, None, :]).reshape(-1, 9).T.astype(float)
    cos2 = np.cos(np.radians(_MAX_ANGLE_2)) ** 2
    bound = (np.einsum("pi,pi->p", u, h) ** 2 / cos2)[None]
    found = []
    for s in range(0, len(gs), 1024):  # chunks: (candidates × pairs) floats
        x = (gd[s : s + 1024].reshape(-1, 9) @ uu) * (
            gs[s : s + 1024].reshape(-1, 9) @ hh
        )
        i, j = np.nonzero(x <= bound)
        found.append((i + s, j))
    i = np.concatenate([f[0] for f in found])
    j = np.concatenate([f[1] for f in found])
    if not len(i):
        return np.empty((0, 4))
    inv = np.linalg.inv(basis[j])  # reciprocal metric on the new basis
    g = inv.transpose(0, 2, 1) @ gs[i] @ inv
    p = np.stack([g[:, 0, 0], g[:, 1, 1], g[:, 2, 2], 2 * g[:, 0, 2]], 1)
    return _distinct_monoclinic(_reduce_monoclinic(p, centring == "C")[0], q, centring)


def _reciprocal_metric(p):
    """Triclinic parameters ``(n, 6)`` -> reciprocal metric tensors ``(n, 3, 3)``."""
    p = np.asarray(p, float)
    g = np.empty((len(p), 3, 3))
    for (i, j), col in zip(((0, 0), (1, 1), (2, 2)), range(3)):
        g[:, i, j] = p[:, col]
    for (i, j), col in zip(((0, 1), (0, 2), (1, 2)), range(3, 6)):
        g[:, i, j] = g[:, j, i] = p[:, col] / 2
    return g


def _parameters(g):
    """Reciprocal metric tensors ``(n, 3, 3)`` -> triclinic parameters ``(n, 6)``."""
    return np.stack(
        [
            g[:, 0, 0],
            g[:, 1, 1],
            g[:, 2, 2],
            2 * g[:, 0, 1],
            2 * g[:, 0, 2],
            2 * g[:, 1, 2],
        ],
        1,
    )


def _reduce_metrics(g, iters=12, basis=False):
    """Metric tensors ``(n, 3, 3)`` on short, nearly orthogonal bases (each
    vector made shortest against each other, pairwise, and sorted by
    length): a triclinic cell has endless bases, and the search's table of
    small indices covers the lines of a reduced one. With ``basis``, also the
    integer matrices ``m`` (new basis vectors = ``m`` @ old ones)."""
    g = g.copy()
    n = len(g)
    at = np.arange(n)
    total = np.broadcast_to(np.eye(3), (n, 3, 3)).copy() if basis else None
    for _ in range(iters):
        changed = False
        for i, j in ((0, 1), (0, 2), (1, 2), (1, 0), (2, 0), (2, 1)):
            t = np.round(g[:, i, j] / g[:, i, i])
            if not np.any(t):
                continue
            changed = True
            m = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
            m[:, j, i] = -t  # b_j <- b_j - t b_i
            g = m @ g @ m.transpose(0, 2, 1)
            if basis:
                total = m @ total
        order = np.argsort(np.diagonal(g, axis1=1, axis2=2), axis=1, kind="stable")
        g = g[at[:, None, None], order[:, :, None], order[:, None, :]]
        if basis:
            total = total[at[:, None], order]
        if not changed:
            break
    return (g, total) if basis else g


def _as_triclinic(p, family):
    """A family's parameters ``(n, k)`` as triclinic ones ``(n, 6)``
    (``Q = A h² + B k² + C l² + D hk + E hl + F kl``)."""
    p = np.asarray(p, float).reshape(len(p), -1)
    zero = np.zeros(len(p))
    a = p[:, 0]
    if family == "c":
        return np.stack([a, a, a, zero, zero, zero], 1)
    if family == "t":
        return np.stack([a, a, p[:, 1], zero, zero, zero], 1)
    if family == "h":  # A (h² + hk + k²) + C l²
        return np.stack([a, a, p[:, 1], a, zero, zero], 1)
    if family == "o":
        return np.stack([a, p[:, 1], p[:, 2], zero, zero, zero], 1)
    if family == "m":  # the cross term is hl
        return np.stack([a, p[:, 1], p[:, 2], zero, p[:, 3], zero], 1)
    return p


def _reach(p, family, q_max):
    """The largest index each candidate's lines up to ``q_max`` need."""
    direct = np.linalg.inv(_reciprocal_metric(_as_triclinic(p, family)))
    return _direct_reach(direct, q_max)


def _direct_reach(direct, q_max):
    """:func:`_reach` from the direct metrics ``(n, 3, 3)``: |h_i| <= a_i / d
    for a line of spacing d."""
    return np.sqrt(q_max * 1.02 * np.diagonal(direct, axis1=1, axis2=2)).max(1)


def _complete(p, q_max):
    """Whether the table's indices (at most ``_HMAX``) hold every line of
    each triclinic candidate up to ``q_max``, and its cell is at most
    ``_MAX_VOLUME``."""
    direct = np.linalg.inv(_reciprocal_metric(p))  # once, for both tests
    return (_direct_reach(direct, q_max) <= _HMAX) & (
        np.linalg.det(direct) <= _MAX_VOLUME**2
    )


def _zones(q, loose_q):
    """Two-dimensional lattices (zones) of the lines, as Ito's method finds
    them: two of the first lines as ``Q(10)`` and ``Q(01)``, and a third as
    ``Q(11) = Q(10) + Q(01) + R`` (or ``R = 0``); those that explain the most
    lines (``m² Q(10) + n² Q(01) + mn R``, ``m, n`` up to 4), best first, as
    rows ``(i, j, R)``."""
    n = len(q)
    i, j = np.triu_indices(min(_N_BASE_A, n), 1)
    r = q[None, :] - q[i, None] - q[j, None]
    later = np.arange(n)[None, :] > j[:, None]
    # a 2D metric: R² < 4 Q(10) Q(01), the angle kept within about 26-154°
    ok = later & (r**2 < 4 * q[i, None] * q[j, None] * _MAX_COS_M**2)
    z = np.concatenate(
        [
            np.column_stack(
                [
                    np.broadcast_to(i[:, None], r.shape)[ok],
                    np.broadcast_to(j[:, None], r.shape)[ok],
                    r[ok],
                ]
            ),
            np.column_stack([i, j, np.zeros(len(i))]),
        ]
    )
    mn = np.array([(a, b) for a in range(5) for b in range(-4, 5) if a > 0 or b > 0])
    ia, ib = z[:, 0].astype(int), z[:, 1].astype(int)
    qz = (
        mn[:, 0] ** 2 * q[ia, None]
        + mn[:, 1] ** 2 * q[ib, None]
        + (mn[:, 0] * mn[:, 1]) * z[:, 2:3]
    )
    qz.sort(axis=1)
    count = np.sum(_nearest_distance(qz, np.broadcast_to(q, (len(z), n))) <= loose_q, 1)
    order = np.lexsort((q[ia] + q[ib], -count))[:_N_ZONES_A]
    return z[order]


def _candidates_tric(q, loose_q):
    """Triclinic parameters from pairs of zones that share a line: its Q is
    ``A``, the zones' other lines ``B`` and ``C`` with their cross terms
    ``D`` and ``E``; the last cross term ``F`` puts a line at ``011`` or
    ``01-1`` (``F = ±(Q - B - C)``), or is 0. Cells reduced, deduplicated,
    and kept where the table of indices holds their lines."""
    z = _zones(q, loose_q)
    u, v = np.triu_indices(len(z), 1)
    a1, b1, a2, b2 = z[u, 0], z[u, 1], z[v, 0], z[v, 1]
    # the shared line: exactly one of the first zone's two lines in the second
    share_a = (a1 == a2) | (a1 == b2)
    share_b = (b1 == a2) | (b1 == b2)
    ok = share_a ^ share_b
    u, v = u[ok], v[ok]
    a1, b1, a2, b2, share_a = a1[ok], b1[ok], a2[ok], b2[ok], share_a[ok]
    s = np.where(share_a, a1, b1).astype(int)
    t1 = np.where(share_a, b1, a1).astype(int)
    t2 = np.where(a2 == s, b2, a2).astype(int)
    base = np.column_stack([q[s], q[t1], q[t2], z[u, 2], z[v, 2]])
    rest = q[None, :] - q[t1, None] - q[t2, None]
    f = np.concatenate([rest, -rest, np.zeros((len(base), 1))], axis=1)
    p = np.column_stack([np.repeat(base, f.shape[1], 0), f.ravel()])
    if not len(p):
        return p
    g = _reciprocal_metric(p)
    # positive definite, and not nearly singular: an axis 1000 times another
    # (which _complete drops anyway) sends the reduction to 0/0
    eig = np.linalg.eigvalsh(g)
    g = _reduce_metrics(g[eig[:, 0] > 1e-6 * eig[:, -1]])
    p = _parameters(g)
    p = p[_complete(p, q[-1])]
    if not len(p):
        return p
    return _unique_rows(np.round(p / q[0], 6)) * q[0]


def _conventional_triclinic(p, hkl):
    """The reduced direct cell of triclinic parameters and the lines'
    indices on it: a <= b <= c, the angles all below 90° or all at least 90°
    (Niggli's two types)."""
    # the direct cell reduced; the indices go along with its basis
    direct, m = _reduce_metrics(
        np.linalg.inv(_reciprocal_metric(p[None])), iters=100, basis=True
    )
    direct, m = direct[0], m[0]
    # signs: all cosines of one sign (flipping one axis flips two of them)
    off = np.array([direct[1, 2], direct[0, 2], direct[0, 1]])
    sign = 1.0 if np.prod(off) > 0 else -1.0
    for flip in (
        np.ones(3),
        *(np.where(np.arange(3) == k, -1.0, 1.0) for k in range(3)),
    ):
        f = np.outer(flip, flip)
        d = direct * f
        cos = np.array([d[1, 2], d[0, 2], d[0, 1]])
        if np.all(cos * sign >= -1e-12):
            direct, m = d, m * flip[:, None]
            break
    lengths = np.sqrt(np.diag(direct))
    angles = np.degrees(
        np.arccos(
            np.clip(
                [
                    direct[1, 2] / (lengths[1] * lengths[2]),
                    direct[0, 2] / (lengths[0] * lengths[2]),
                    direct[0, 1] / (lengths[0] * lengths[1]),
                ],
                -1,
                1,
            )
        )
    )
    return lengths, angles, np.rint(hkl @ m.T).astype(int)


def check_max_zero_shift(max_zero_shift):
    """``max_zero_shift`` as a float of degrees in [0, 1), or an error naming it
    (:func:`index_powder`, and the settings of
    :class:`~skxrd.estimators.IndexingClassifier` and model files)."""
    try:
        value = float(max_zero_shift)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(max_zero_shift, bool) or not 0 <= value < 1:
        raise ValueError(
            f"max_zero_shift must be a number of degrees in [0, 1), got "
            f"{max_zero_shift!r}"
        )
    return value


def check_first_lines(first_lines):
    """``first_lines`` as an int in [1, 6], or an error naming it
    (:func:`index_powder`, and the settings of
    :class:`~skxrd.estimators.IndexingClassifier` and model files)."""
    if isinstance(first_lines, bool) or not isinstance(first_lines, (int, np.integer)):
        raise ValueError(f"first_lines must be an integer, got {first_lines!r}")
    if not 1 <= first_lines <= 6:
        raise ValueError(f"first_lines must be between 1 and 6, got {first_lines}")
    return int(first_lines)


def _check_positions(positions):
    pos = np.asarray(positions, dtype=float)
    if pos.ndim != 1:
        raise ValueError(f"positions must be 1D, got shape {pos.shape}")
    if not np.all(np.isfinite(pos)):
        raise ValueError("positions hold NaN or infinite values")
    if np.any(pos <= 0) or np.any(pos >= 180):
        raise ValueError("positions must be 2θ in degrees, between 0 and 180")
    if np.any(np.diff(pos) <= 0):
        raise ValueError("positions must be strictly increasing")
    return pos


def _check_scoring(tolerance, max_unindexed):
    """An error naming a bad ``tolerance`` or ``max_unindexed``."""
    if not 0 <= check_real(max_unindexed, "max_unindexed") < 1:
        raise ValueError(f"max_unindexed must be in [0, 1), got {max_unindexed}")
    check_positive(tolerance, "tolerance")


#: the radiation whose 2θ degrees ``tolerance`` counts in by default: the
#: windows in Q (or d) are those of Cu Kα1 whatever the wavelength of the
#: lines, so one crystal indexes alike at any wavelength, and Cu Kα lines
#: are scored as they were before (the shipped stackers' features)
_TOLERANCE_RADIATION = "CuKa1"


def check_tolerance_wavelength(tolerance_wavelength):
    """The wavelength (Å) of ``tolerance_wavelength``'s first line, or an error
    naming it (:func:`index_powder`, :func:`space_group_merits`)."""
    try:
        return get_radiation(tolerance_wavelength).wavelengths[0]
    except ValueError as err:
        raise ValueError(f"tolerance_wavelength: {err}") from None


def _windows(q, pos, lam, ref, widths):
    """Half-widths in Q of windows ``widths`` degrees of 2θ wide at the
    wavelength ``ref`` about lines of Q ``q`` (at 2θ ``pos`` for ``lam``), and
    dQ per degree of 2θ at ``ref`` (a line's weight in the refinement).

    Where ``ref`` is ``lam``, the arithmetic of the windows in the lines' own
    2θ, bit for bit. Otherwise each line is put where ``ref`` would see it,
    ``Q(2θ + w) - Q(2θ) = 4 / λ² · sin(w / 2) · sin(2θ + w / 2)``, up to
    ``ref``'s widest window, that at 2θ = 90° (``4 / λ² · sin(w / 2)``), and
    its widest dQ/d2θ: a line that ``ref`` would see past 90°, or not at all
    (2θ over 180°), gets those. Past 90° the windows at ``ref`` shrink to
    nothing towards 180°, where a ``ref`` pattern reads positions most
    precisely in Q; the lines of a shorter wavelength that fall there lie at
    ordinary angles of their own (the windows at Cu Kα1 of an fcc cell's Mo
    Kα lines read with 0.01° of noise found it in 8 or 9 of 10 trials, capped
    in 9 or 10)."""
    if ref == lam:
        out = [np.abs(_q(pos + w, lam) - q) for w in widths]
        return out, 2 / lam**2 * np.sin(np.radians(pos)) * np.pi / 180
    sin_t = np.sqrt(q) * ref / 2
    far = sin_t >= 1
    two_t = 2 * np.arcsin(np.minimum(sin_t, 1))  # radians
    out = []
    for w in widths:
        half = np.radians(w) / 2
        window = 4 / ref**2 * np.sin(half) * np.abs(np.sin(two_t + half))
        widest = far | (two_t + half >= np.pi / 2)
        out.append(np.where(widest, 4 / ref**2 * np.sin(half), window))
    slope = np.where(far | (two_t >= np.pi / 2), 1.0, np.sin(two_t))
    return out, 2 / ref**2 * slope * np.pi / 180


def _line_scales(pos, lam, tolerance, max_unindexed, ref=None):
    """How cells are scored on the lines at 2θ ``pos``: their Q, the Q
    tolerance (and three times it, loose), the precision of a position in Q,
    dQ/d2θ per degree (at ``lam``: the zero shift's), dQ/d2θ per degree at
    the tolerance's wavelength ``ref`` (``lam`` where None; the lines'
    weights), and how many lines may go unexplained.

    The tolerances are degrees of 2θ at ``ref``, the same windows in Q at any
    ``lam``: in the lines' own degrees, the windows of a Mo Kα pattern were
    twice a Cu Kα one's in Q, 7,435 orthorhombic candidates of one crystal
    passed the loose one against 2,977, and the true cell fell past the
    1,500 kept (the 2θ of a Mo Kα pattern that covers a Cu Kα one's Q are
    twice as dense, not less precise)."""
    q = _q(pos, lam)
    ref = lam if ref is None else ref
    # 0.003°: the precision of a position
    (tol_q, loose_q, floor_q), weight = _windows(
        q, pos, lam, ref, (tolerance, 3 * tolerance, 0.003)
    )
    slope = 2 / lam**2 * np.sin(np.radians(pos)) * np.pi / 180  # dQ/d2θ, per degree
    max_miss = int(np.floor(float(max_unindexed) * len(q)))
    return q, tol_q, loose_q, floor_q, slope, weight, max_miss


def index_powder(
    positions,
    *,
    wavelength="CuKa1",
    lattices=LATTICE_TYPES,
    tolerance=0.05,
    max_unindexed=0.2,
    min_lines=8,
    max_zero_shift=0.1,
    first_lines=4,
    twofold_axes=True,
    long_axes=True,
    tolerance_wavelength=_TOLERANCE_RADIATION,
):
    """Index peak positions on the lattices of the six crystal families.

    The cubic, tetragonal, hexagonal, orthorhombic and monoclinic Bravais
    lattices (:data:`LATTICE_TYPES`) by default, and the triclinic ``"aP"``
    when ``lattices`` names it (:data:`ALL_LATTICE_TYPES`: about 0.15 s more
    per pattern of 20 lines). Monoclinic candidates come from four of the
    first 5 + ``first_lines`` lines given indices of at most 1 (or 2 along
    one axis), and from the triclinic zone search's cells with a twofold axis
    (``twofold_axes``); a cell whose first lines have larger indices (a very
    long axis) and whose zones are not among the first lines' may be missed.

    Parameters
    ----------
    positions : array-like of shape (n_lines,)
        Increasing 2θ of the lines in degrees (Kα1 lines; see
        :func:`peak_positions`). The first 20 make de Wolff's M20.
    wavelength : str or float, default="CuKa1"
        The wavelength in Å or a radiation's name (its first line is used).
    lattices : str or sequence of str, default=LATTICE_TYPES
        The lattice types to try, among :data:`ALL_LATTICE_TYPES` (one name
        for one of them, ``"cP"`` as ``("cP",)``). A
        triclinic cell of six parameters explains a measured peak list of
        another crystal family fairly well too (on the RRUFF minerals, a
        triclinic cell with M > 20 was found for 42 % of the triclinic ones
        and 30 % of the monoclinic ones; ``experiments/triclinic_indexing.py``):
        its merit counts as evidence only well above the other families'.
    tolerance : float, default=0.05
        Largest 2θ discrepancy (degrees) of an indexed line, at
        ``tolerance_wavelength``: a window in Q (or d) about each line, the
        same whatever ``wavelength`` the lines were read at.
    max_unindexed : float, default=0.2
        The share of the lines a cell may leave unexplained (impurity lines,
        artefacts) and still be scored.
    min_lines : int, default=8
        Fewer lines than this index too easily: no solution is returned.
    max_zero_shift : float, default=0.1
        Largest zero shift of the 2θ scale (degrees) refined with each cell,
        as indexing programs do: a misaligned diffractometer, or a Kα1 peak
        read a little high where the Kα2 line is not resolved, moves every
        line alike, and a cell of one or two parameters cannot follow. 0
        refines none. In degrees of the lines' own 2θ (at ``wavelength``),
        where an instrument's offset lies whatever its radiation.
    first_lines : int, default=4
        The orthorhombic and monoclinic candidates take one of the first this
        many lines as the cell's first line, so stray lines before it (an
        impurity, a Kβ line, a low-angle artefact of the instrument) are
        passed over. On RRUFF minerals whose cell an AMCSD entry gives, 4
        finds it for 70 % of the orthorhombic and 62 % of the monoclinic
        ones against 55 % and 52 % with 2, the search before December 2026
        (``experiments/indexing_gap.py``), at about one and a half times the
        time (0.70 s against 0.48 s per RRUFF pattern on all 13 lattices).
        The shipped models' stackers were fitted with 2.
    twofold_axes : bool, default=True
        Monoclinic candidates also come from the triclinic zone search's
        cells (Ito's method, as for ``"aP"``) that have a twofold axis
        (Le Page's method: a lattice row within 3° of a reciprocal one). The
        zones find a lattice from lines whatever their indices, so this
        reaches cells whose first lines have larger indices than the
        small-index search tries. With ``first_lines`` 4, of the RRUFF
        monoclinic minerals whose cell an AMCSD entry gives, it finds it for
        76 % against 62 % (``experiments/indexing_gap.py``); of all 161 RRUFF
        monoclinic minerals, a cell with M > 20 for 35 % against 30 %
        (``experiments/twofold_axes.py``). It costs about 0.27 s per pattern
        (0.97 s against 0.70 s on all 13 lattices,
        ``benchmarks/bench_indexing.py``). The stackers of
        :class:`~skxrd.estimators.IndexingClassifier` index without it: their
        features are those they were fitted on.
    long_axes : bool, default=True
        The search gives lines indices of at most 10; a refined cell whose
        lines up to the last need larger ones (an axis longer than about ten
        times the smallest spacing: LiCoO2's c = 14 Å at 90° with Cu Kα, its
        ``0 0 12``) is refined and scored again with indices up to 24. With
        False its lines past 10 go unexplained and a wrong smaller cell may
        win (LiCoO2: an mC cell of merit 358 against hR 215 of 17 of 19
        lines; with it, hR 565 of all 19). The stackers of
        :class:`~skxrd.estimators.IndexingClassifier` index without it, as
        they were fitted (on RRUFF, with it and the stackers unchanged, the
        shipped model's crystal systems stay 348 of 456 right and its space
        groups 278; 11 top space groups change, level within noise).
    tolerance_wavelength : str or float, default="CuKa1"
        The radiation (its first line) or wavelength in Å whose 2θ
        ``tolerance`` counts in (and the 0.003° precision of a position that
        floors a line's discrepancy, and the weights of the lines in the
        refinement). Cu Kα1 by default, whatever ``wavelength``: one crystal
        indexes alike at any wavelength (in the lines' own 2θ, the windows
        of a Mo Kα pattern were twice as wide in Q, its orthorhombic search
        was crowded with wrong cells and missed true ones that Cu Kα found,
        and its merits were half as high), and Cu Kα lines score as they did.
        Lines Cu Kα1 would see past 2θ = 90° (d below 1.09 Å) or cannot
        reach (below 0.77 Å) get its widest window, that at 90°, rather than
        one that narrows towards 180°. Give ``wavelength`` itself to count
        ``tolerance`` in the lines' own 2θ (measured positions of a short
        wavelength, read to the instrument's precision in degrees).

    Returns
    -------
    dict
        Lattice type -> :class:`IndexingSolution`, or None where no cell
        explains enough of the lines. A cubic cell is also a tetragonal, a
        rhombohedral and an orthorhombic one (``cF`` is ``tI`` with
        ``c = a√2``), a hexagonal one an ``oC`` one with ``b = a√3``: those
        lattice types then score as high, and the simplest is the answer.
        Orthorhombic and monoclinic cells larger than 4000 Å³ are not tried.

    Examples
    --------
    The lines of rock salt (cF, a = 5.64 Å) in Cu Kα1:

    >>> import numpy as np
    >>> from skxrd.indexing import index_powder
    >>> hkl = np.array([[1, 1, 1], [2, 0, 0], [2, 2, 0], [3, 1, 1], [2, 2, 2],
    ...                 [4, 0, 0], [3, 3, 1], [4, 2, 0], [4, 2, 2], [5, 1, 1]])
    >>> d = 5.64 / np.sqrt((hkl ** 2).sum(1))
    >>> tt = 2 * np.degrees(np.arcsin(1.5405929 / (2 * d)))
    >>> best = index_powder(tt)
    >>> sol = best["cF"]
    >>> round(sol.a, 3), sol.n_indexed, sol.hkl[0].tolist()
    (5.64, 10, [1, 1, 1])
    >>> sol.figure_of_merit > best["cP"].figure_of_merit  # F explains it better
    True

    The first 20 lines of an orthorhombic cell of three lengths:

    >>> r = range(5)
    >>> hkl = np.array([(h, k, l) for h in r for k in r for l in r if h + k + l])
    >>> d = 1 / np.sqrt(((hkl / [4.96, 7.97, 5.74]) ** 2).sum(1))
    >>> tt = np.unique(np.round(2 * np.degrees(np.arcsin(1.5405929 / (2 * d))), 5))
    >>> sol = index_powder(tt[:20], lattices=("oP",))["oP"]
    >>> sol.crystal_family, [round(x, 3) for x in (sol.a, sol.b, sol.c)]
    ('orthorhombic', [4.96, 5.74, 7.97])

    A monoclinic cell (b unique, β = 103°):

    >>> a, b, c, beta = 7.3, 9.1, 10.7, np.radians(103)
    >>> r = range(-4, 5)
    >>> hkl = np.array([(h, k, l) for h in r for k in r for l in r if h or k or l])
    >>> h, k, l = hkl.T
    >>> q = (h**2 / a**2 + l**2 / c**2 - 2 * h * l * np.cos(beta) / (a * c)
    ...      ) / np.sin(beta)**2 + k**2 / b**2
    >>> tt = 2 * np.degrees(np.arcsin(1.5405929 * np.sqrt(q) / 2))
    >>> sol = index_powder(np.unique(np.round(tt, 5))[:20], lattices=("mP",))["mP"]
    >>> [round(x, 2) for x in (sol.a, sol.b, sol.c, sol.beta)]
    [7.3, 9.1, 10.7, 103.0]

    A triclinic cell, asked for, reported reduced (a <= b <= c, its angles
    all below 90° or all at least 90°):

    >>> g = np.linalg.inv(np.array([[34.81, 10.9946, 5.1936],  # its direct metric
    ...                             [10.9946, 51.84, 12.6277],
    ...                             [5.1936, 12.6277, 102.01]]))
    >>> r = range(-4, 5)
    >>> hkl = np.array([(h, k, l) for h in r for k in r for l in r if h or k or l])
    >>> q = np.einsum("ij,jk,ik->i", hkl, g, hkl)
    >>> tt = 2 * np.degrees(np.arcsin(1.5405929 * np.sqrt(q) / 2))
    >>> sol = index_powder(np.unique(np.round(tt, 5))[:20], lattices=("aP",))["aP"]
    >>> sol.crystal_family, sol.n_indexed
    ('triclinic', 20)
    >>> [round(x, 2) for x in (sol.a, sol.b, sol.c, sol.alpha, sol.beta, sol.gamma)]
    [5.9, 7.2, 10.1, 80.0, 85.0, 75.0]
    """
    lam = get_radiation(wavelength).wavelengths[0]
    pos = _check_positions(positions)
    # one name is one lattice type: tuple("cP") tried "c" and "P", and the
    # error named neither the argument nor the string given
    lattices = (lattices,) if isinstance(lattices, str) else tuple(lattices)
    for lat in lattices:
        if lat not in ALL_LATTICE_TYPES:
            raise ValueError(
                f"unknown lattice type {lat!r}; known: {', '.join(ALL_LATTICE_TYPES)}"
            )
    _check_scoring(tolerance, max_unindexed)
    max_zero = check_max_zero_shift(max_zero_shift)
    first_lines = check_first_lines(first_lines)
    check_bool(twofold_axes, "twofold_axes")
    check_bool(long_axes, "long_axes")
    ref = check_tolerance_wavelength(tolerance_wavelength)
    out = dict.fromkeys(lattices)
    if len(pos) < max(check_int(min_lines, "min_lines", minimum=0), 3):
        return out
    q, tol_q, loose_q, floor_q, slope, weight, max_miss = _line_scales(
        pos, lam, tolerance, max_unindexed, ref
    )
    tric = None  # the zone search's triclinic cells, for "m" and "a"
    for family in "cthoma":
        wanted = [lat for lat in lattices if lat[0] == family]
        if not wanted:
            continue
        if family in "ma" and tric is None and (family == "a" or twofold_axes):
            tric = _candidates_tric(q, loose_q)
        if family != "m":  # monoclinic: candidates per centring, below
            if family == "o":
                cand0 = _candidates_ortho(q, loose_q, max_miss, first_lines)
            elif family == "a":
                cand0 = tric
                if not len(cand0):
                    continue
            else:
                cand0 = _candidates(q, family)
            primitive0 = _merits(
                cand0, _table(family + "P")[0], q, loose_q, floor_q, max_miss
            )
        for lat in wanted:
            rows, hkl = _table(lat)
            n_first = None  # the twofold-axis candidates, after the first
            if family == "m":
                # a C-centred cell's lines are not those of a primitive
                # monoclinic cell of small indices: its own candidates
                cand = _candidates_mono(q, loose_q, max_miss, lat[1], first_lines)
                if twofold_axes:
                    n_first = len(cand)
                    cand = np.concatenate(
                        [cand.reshape(-1, 4), _candidates_twofold(tric, q, lat[1])]
                    )
                if not len(cand):
                    continue
                # the twofold-axis candidates of a C-centred cell are scored on
                # its own lattice only, which saves time; as primitive cells
                # too they found a few more cells (benchmarks/README.md)
                primitive = _merits(
                    cand if lat[1] == "P" else cand[:n_first],
                    _table("mP")[0],
                    q,
                    loose_q,
                    floor_q,
                    max_miss,
                )
            else:
                cand, primitive = cand0, primitive0
            if lat == "oC":  # the centred face may be any of the three
                cand = np.concatenate([cand0, cand0[:, [1, 2, 0]], cand0[:, [2, 0, 1]]])
                primitive = np.tile(primitive0, 3)
            own = (
                primitive
                if lat[1] == "P" and len(primitive) == len(cand)
                else _merits(cand, rows, q, loose_q, floor_q, max_miss)
            )
            primitive = np.concatenate([primitive, own[len(primitive) :]])
            # the best at the loose tolerance, by either lattice, refined (the
            # twofold-axis candidates' best apart: thousands of them crowded
            # the first search's out)
            top = 20 if family in "om" else 40
            groups = [(0, len(cand))] if n_first is None else [
                (0, n_first), (n_first, len(cand))
            ]  # fmt: skip
            pick = np.unique(
                np.concatenate(
                    [
                        start + np.argsort(-score[start:stop])[:top]
                        for start, stop in groups
                        for score in (primitive, own)
                    ]
                )
            )
            pick = pick[np.maximum(primitive[pick], own[pick]) > 0]
            if not len(pick):
                continue
            refined, zero = [], []
            # the least squares of this table by assignment: the candidates
            # picked are often the same cell, and reach the same ones
            solves = {}
            for i in pick:
                pi, zi, key = _refine_steps(
                    cand[i], rows, q, loose_q, slope, max_zero, 0.0, 3, weight, solves
                )
                pi, zi, _ = _refine_steps(
                    pi, rows, q, tol_q, slope, max_zero, zi, 3, weight, solves, key
                )
                refined.append(pi)
                zero.append(zi)
            refined, zero = np.array(refined), np.array(zero)
            q_zero = q[None] - zero[:, None] * slope[None]
            if family == "a":  # refining moves a cell off its reduced basis
                refined = _parameters(_reduce_metrics(_reciprocal_metric(refined)))
            merit = _merits(refined, rows, q_zero, tol_q, floor_q, max_miss)
            wide = np.zeros(len(refined), bool)
            if family == "a":
                merit[~_complete(refined, q[-1])] = 0.0
            elif long_axes:
                # a cell whose lines need indices past the search's: refined
                # and scored again with them, else its 0 0 12 is unexplained
                # and a wrong smaller cell wins
                wide = _reach(refined, family, q[-1]) > _HMAX
            if wide.any():
                rows_w, hkl_w = _wide_table(lat, _HMAX_WIDE)
                solves = {}  # the wide table's own
                for i in np.flatnonzero(wide):
                    refined[i], zero[i] = _refine(
                        refined[i],
                        rows_w,
                        q,
                        tol_q,
                        slope,
                        max_zero,
                        zero[i],
                        weight=weight,
                        solves=solves,
                    )
                q_zero = q[None] - zero[:, None] * slope[None]
                merit[wide] = _merits(
                    refined[wide], rows_w, q_zero[wide], tol_q, floor_q, max_miss
                )
            best = int(np.argmax(merit))
            if merit[best] <= 0:
                continue
            out[lat] = _solution(
                lat,
                refined[best],
                merit[best],
                rows_w if wide[best] else rows,
                hkl_w if wide[best] else hkl,
                q_zero[best],
                pos - zero[best],
                tol_q,
                lam,
                zero[best],
            )
    return out


def _conventional_monoclinic(p, hkl, reduce):
    """Monoclinic parameters and indices on the conventional cell: the ac
    plane reduced (the same lines have many bases there), β >= 90°
    (``D >= 0``) and, where ``reduce`` (a primitive cell), ``a <= c``; a
    C-centred cell is reduced only by steps that keep its centring."""
    p, m = _reduce_monoclinic(np.array(p, float)[None], centred=not reduce)
    p, hkl = p[0], np.array(hkl, int)
    hkl[:, [0, 2]] = hkl[:, [0, 2]] @ m[0].T
    if reduce and p[0] < p[2]:  # a <= c
        p[[0, 2]], hkl[:, [0, 2]] = p[[2, 0]], hkl[:, [2, 0]]
    if p[3] < 0:  # h -> -h
        p[3], hkl[:, 0] = -p[3], -hkl[:, 0]
    return p, hkl


def _solution(lat, p, merit, rows, hkl, q, pos, tol_q, lam, zero):
    qc = rows @ p
    j = np.argmin(np.abs(q[:, None] - qc[None]), axis=1)
    ok = np.abs(q - qc[j]) <= tol_q
    hkl = hkl[j]
    if lat[0] == "o":
        # conventional order: a <= b <= c (on the centred face for oC); the
        # lattice's lines are the same under these swaps of the axes
        order = np.argsort(-p) if lat != "oC" else [*np.argsort(-p[:2]), 2]
        p, hkl = p[order], hkl[:, order]
        a, b, c = 1 / np.sqrt(p)
    elif lat[0] == "a":
        (a, b, c), (alpha, beta, gamma), hkl = _conventional_triclinic(p, hkl)
    elif lat[0] == "m":
        p, hkl = _conventional_monoclinic(p, hkl, reduce=lat == "mP")
        cos_beta = -p[3] / (2 * np.sqrt(p[0] * p[2]))
        sin_beta = np.sqrt(1 - cos_beta**2)
        a, b, c = (
            1 / (np.sqrt(p[0]) * sin_beta),
            1 / np.sqrt(p[1]),
            1 / (np.sqrt(p[2]) * sin_beta),
        )
        beta = np.degrees(np.arccos(cos_beta))
    else:
        a = 1 / np.sqrt(p[0])
        if lat[0] == "h":
            a = 2 / np.sqrt(3 * p[0])  # A = 4 / (3 a²) on hexagonal axes
        b = a
        c = a if lat[0] == "c" else 1 / np.sqrt(p[1])
    return IndexingSolution(
        lattice=lat,
        crystal_family=_FAMILY[lat[0]],
        a=float(a),
        b=float(b),
        c=float(c),
        beta=float(beta) if lat[0] in "ma" else 90.0,
        alpha=float(alpha) if lat[0] == "a" else 90.0,
        # 120 on hexagonal axes: with 90, the six parameters described a
        # tetragonal cell whose lines are not the indexed ones
        gamma=float(gamma) if lat[0] == "a" else 120.0 if lat[0] == "h" else 90.0,
        figure_of_merit=float(merit),
        n_lines=len(q),
        n_indexed=int(ok.sum()),
        hkl=np.where(ok[:, None], hkl, -1),
        two_theta_error=np.where(ok, pos - _two_theta(qc[j], lam), np.nan),
        zero_shift=float(zero),
    )


# The peaks and cells of the last rows indexed in this process, keyed by the
# row, the grid and the settings: ``skxrd predict`` shows the cells its
# model's merits came from without indexing the pattern again
# (IndexingClassifier.cells). Rows indexed in joblib workers fill the
# workers' caches, not this one.
_SOLVED = OrderedDict()
_SOLVED_SIZE = 64
_SOLVED_LOCK = threading.Lock()


# The rows indexed in this thread inside a :func:`_holding_indexed` block,
# kept to its end whatever ``_SOLVED_SIZE`` is (None outside one)
_HELD = threading.local()


@contextlib.contextmanager
def _holding_indexed():
    """Within the block, every row this thread indexes (or reads from the
    cache) stays readable until the block ends, not only the last
    ``_SOLVED_SIZE`` rows: ``skxrd predict`` reads back the cells of every
    file it answered in one pass, however many files the pass holds. Nested
    blocks share the outer one's rows; they are dropped when it ends."""
    if getattr(_HELD, "rows", None) is not None:  # nested: the outer one holds
        yield
        return
    _HELD.rows = {}
    try:
        yield
    finally:
        _HELD.rows = None


def _solved_key(two_theta, x, radiation, drop_kbeta, kwargs):
    """The cache key of one row: digests of its bytes and of the grid's, and
    the settings as text (a setting of another type, np.float64 for float,
    is a miss, never a wrong hit)."""
    digest = hashlib.sha1(np.ascontiguousarray(x, dtype=float).tobytes())
    digest.update(np.ascontiguousarray(two_theta, dtype=float).tobytes())
    return (
        digest.hexdigest(),
        repr(radiation),
        bool(drop_kbeta),
        repr(sorted(kwargs.items())),
    )


def _indexed(two_theta, x, radiation, drop_kbeta, kwargs):
    """``(peak positions, index_powder's dict)`` of one row: the computation
    of :func:`lattice_merits`, read back from the cache where the same row
    was indexed with the same settings."""
    from ._peaks import peak_positions

    key = _solved_key(two_theta, x, radiation, drop_kbeta, kwargs)
    held = getattr(_HELD, "rows", None)
    if held is not None and key in held:
        return held[key]
    with _SOLVED_LOCK:
        hit = _SOLVED.get(key)
        if hit is not None:
            _SOLVED.move_to_end(key)
    if hit is not None:
        if held is not None:
            held[key] = hit
        return hit
    pos = peak_positions(two_theta, x, radiation=radiation, drop_kbeta=drop_kbeta)
    found = index_powder(pos, wavelength=radiation, **kwargs)
    # shared by every caller of the cache: a caller's edit must not change
    # what the next one reads
    pos.setflags(write=False)
    for sol in found.values():
        if sol is not None:
            sol.hkl.setflags(write=False)
            sol.two_theta_error.setflags(write=False)
    with _SOLVED_LOCK:
        _SOLVED[key] = (pos, found)
        while len(_SOLVED) > _SOLVED_SIZE:
            _SOLVED.popitem(last=False)
    if held is not None:
        held[key] = (pos, found)
    return pos, found


def _checked_rows(X, two_theta, radiation, drop_kbeta):
    """``(X, two_theta, drop_kbeta)`` checked and converted as
    :func:`lattice_merits` and :func:`_indexed_rows` take them (alike, so
    that the cache keys of one are the other's)."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be 2D (n_samples, n_points), got shape {X.shape}")
    tt = np.asarray(two_theta, dtype=float)
    if tt.shape != (X.shape[1],):
        raise ValueError(f"two_theta has {tt.size} points and X {X.shape[1]} columns")
    get_radiation(radiation)
    return X, tt, check_bool(drop_kbeta, "drop_kbeta")


def _indexed_rows(X, two_theta, *, radiation, drop_kbeta=False, **kwargs):
    """:func:`_indexed` of each row of ``X``, checked as :func:`lattice_merits`
    checks it."""
    X, tt, drop_kbeta = _checked_rows(X, two_theta, radiation, drop_kbeta)
    return [_indexed(tt, x, radiation, drop_kbeta, kwargs) for x in X]


def _merits_of_pattern(two_theta, x, radiation, drop_kbeta, kwargs, groups=False):
    pos, found = _indexed(two_theta, x, radiation, drop_kbeta, kwargs)
    merits = [
        0.0 if found.get(lat) is None else found[lat].figure_of_merit
        for lat in ALL_LATTICE_TYPES
    ]
    row = np.array([*merits, len(pos)], dtype=float)
    if not groups:
        return row
    from ._absences import space_group_merits

    # each family's best cell, scored with its space groups' absences
    per_group = np.zeros(230)
    for family in _FAMILY:
        sols = [s for lat, s in found.items() if s is not None and lat[0] == family]
        if not sols:
            continue
        best = max(sols, key=lambda s: s.figure_of_merit)
        scored = space_group_merits(
            pos,
            best,
            wavelength=radiation,
            tolerance=kwargs.get("tolerance", 0.05),
            max_unindexed=kwargs.get("max_unindexed", 0.2),
            # the indices the cell was indexed on: without, a long axis's
            # cell had its groups scored on the search's indices alone
            long_axes=kwargs.get("long_axes", True),
            tolerance_wavelength=kwargs.get(
                "tolerance_wavelength", _TOLERANCE_RADIATION
            ),
        )
        for number, merit in scored.items():
            per_group[number - 1] = merit
    return np.concatenate([row, per_group])


def lattice_merits(
    X,
    two_theta,
    *,
    radiation="CuKa",
    drop_kbeta=False,
    space_groups=False,
    n_jobs=None,
    verbose=False,
    **kwargs,
):
    """de Wolff's figure of merit of each lattice type, for many patterns.

    Each row's peaks (:func:`peak_positions`) are indexed
    (:func:`index_powder`); the features are the best merit per lattice type
    of :data:`ALL_LATTICE_TYPES` (0 where none indexes, or where the type is
    not among ``lattices``: the triclinic ``aP`` is tried only when
    ``lattices`` names it) and the number of peaks found.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_points)
        Patterns on the grid ``two_theta`` (linear intensities).
    two_theta : array-like of shape (n_points,)
        The grid in degrees.
    radiation : str or float, default="CuKa"
        The patterns' radiation (Kα2 ghosts of a doublet are left out).
    drop_kbeta : bool, default=False
        Leave out the Kβ copies of strong peaks (:func:`peak_positions`).
    space_groups : bool, default=False
        Also score each crystal family's best cell with every space group's
        systematic absences (:func:`space_group_merits`, with the
        ``long_axes`` given to :func:`index_powder`; about 0.04 s more per
        measured pattern, at most about 0.3 s).
    n_jobs : int, optional
        Processes for the rows (joblib); about a third of a second each for
        the cubic to orthorhombic lattices with ``first_lines=2``, about a
        second for all 13 of :data:`LATTICE_TYPES` with the defaults
        (``first_lines`` 4, ``twofold_axes``; ``benchmarks/bench_indexing.py``),
        about 0.15 s more with the triclinic one.
    verbose : bool, default=False
        A progress bar.
    **kwargs
        Passed to :func:`index_powder` (such as ``lattices``,
        ``first_lines`` or ``tolerance_wavelength``); ``tolerance``,
        ``max_unindexed``, ``long_axes`` and ``tolerance_wavelength`` to
        :func:`space_group_merits` too.

    Returns
    -------
    merits : ndarray of shape (n_samples, len(ALL_LATTICE_TYPES) + 1)
        The merits in the order of :data:`ALL_LATTICE_TYPES`, then the peak
        count.
    group_merits : ndarray of shape (n_samples, 230)
        Only with ``space_groups``: the merit of space groups 1–230 on the
        best cell of their crystal family (0 where it has none, or where the
        family's lattices were not searched).

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.indexing import LATTICE_TYPES, lattice_merits
    >>> tt = np.arange(10, 90, 0.02)
    >>> hkl = np.array([[1, 1, 0], [2, 0, 0], [2, 1, 1], [2, 2, 0], [3, 1, 0],
    ...                 [2, 2, 2], [3, 2, 1], [4, 0, 0], [4, 1, 1], [4, 2, 0]])
    >>> d = 5.0 / np.sqrt((hkl ** 2).sum(1))  # a body-centred cubic cell
    >>> lines = 2 * np.degrees(np.arcsin(1.5405929 / (2 * d)))
    >>> y = sum(np.exp(-0.5 * ((tt - p) / 0.04) ** 2) for p in lines)
    >>> merits = lattice_merits(y[None], tt, radiation="CuKa1")
    >>> LATTICE_TYPES[int(np.argmax(merits[0, :3]))], int(merits[0, -1])  # best cubic
    ('cI', 10)
    """
    X, tt, drop_kbeta = _checked_rows(X, two_theta, radiation, drop_kbeta)
    # flags, not truthy values: space_groups="no" returned the group merits
    groups = check_bool(space_groups, "space_groups")
    args = [(tt, x, radiation, drop_kbeta, kwargs, groups) for x in X]
    if n_jobs in (None, 1) and not verbose:
        # no joblib: ``skxrd predict`` imports numpy and scipy only
        out = [_merits_of_pattern(*a) for a in args]
    else:
        from ..utils._parallel import parallel_map

        out = parallel_map(
            _merits_of_pattern,
            args,
            n_jobs=n_jobs,
            verbose=verbose,
            desc="indexing",
            unit="pattern",
        )
    n = len(ALL_LATTICE_TYPES) + 1
    out = np.array(out, dtype=float).reshape(len(X), n + 230 * groups)
    return (out[:, :n], out[:, n:]) if groups else out
