"""Group near-duplicate patterns or structures for leakage-free validation."""

from __future__ import annotations

import itertools
import numbers
import warnings
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix, issparse
from scipy.sparse.csgraph import connected_components
from tqdm.auto import tqdm

from ..utils._validation import check_real, check_seed

__all__ = ["DuplicateReport", "drop_duplicates", "duplicate_groups"]

# Rows per block when streaming over a (possibly memory-mapped) pattern array.
_BLOCK = 8192
# Above this many patterns, "auto" switches from all pairs to LSH candidates.
_EXACT_MAX = 20_000
# Pairs whose float32 cosine is this close below the threshold are verified.
_EXACT_MARGIN = 1e-4


def _check_threshold(threshold):
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or not 0.0 < threshold < 1.0
    ):
        raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
    return float(threshold)


def _validate_patterns(X):
    if issparse(X):
        # patterns are dense anyway (DuplicateRemover densifies them alike)
        X = X.toarray()
    elif not hasattr(X, "shape") or not isinstance(getattr(X, "dtype", None), np.dtype):
        # Arrays with a numpy dtype (a memmap, an HDF5 dataset) are read in
        # blocks as they are; anything else (a list, a DataFrame, a torch
        # tensor, whose torch dtype numpy cannot interpret) becomes an array.
        try:
            X = np.asarray(X)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ValueError(
                f"patterns must be a 2D array of numbers, got {type(X).__name__} "
                f"({exc})"
            ) from None
    if X.ndim != 2:
        raise ValueError(
            f"patterns must be 2D (n_samples, n_points), got shape {X.shape}"
        )
    if not np.issubdtype(X.dtype, np.floating) and not np.issubdtype(
        X.dtype, np.integer
    ):
        raise ValueError(f"patterns must be numeric, got dtype {X.dtype}")
    return X


def _blocks(n, size=_BLOCK):
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def _row_norms_and_sketch(X, pool, verbose):
    """Full-row L2 norms and L2-normalized sum-pooled sketches (float32)."""
    n, d = X.shape
    width = -(-d // pool)
    norms = np.empty(n, dtype=np.float64)
    sketch = np.empty((n, width), dtype=np.float32)
    for a, b in tqdm(_blocks(n), disable=not verbose, desc="sketching", unit="block"):
        block = np.asarray(X[a:b], dtype=np.float32)
        if not np.all(np.isfinite(block)):
            bad = a + int(np.flatnonzero(~np.all(np.isfinite(block), axis=1))[0])
            raise ValueError(f"pattern {bad} contains NaN or inf")
        norms[a:b] = np.sqrt(np.einsum("ij,ij->i", block, block, dtype=np.float64))
        pad = width * pool - d
        if pad:
            block = np.pad(block, ((0, 0), (0, pad)))
        pooled = block.reshape(b - a, width, pool).sum(-1)
        length = np.linalg.norm(pooled, axis=1, keepdims=True)
        sketch[a:b] = pooled / np.where(length > 0, length, 1.0)
    return norms, sketch


def _lsh_candidates(sketch, n_tables, n_bits, rng, verbose, max_bucket, rows=None):
    """Pairs (i < j) of ``rows`` (increasing indices; all by default) that
    share a random-hyperplane hash in at least one table."""
    n, width = sketch.shape
    planes = rng.standard_normal((width, n_tables * n_bits)).astype(np.float32)
    weights = 1 << np.arange(n_bits, dtype=np.int64)
    keys = np.empty((n, n_tables), dtype=np.int64)
    for a, b in _blocks(n, 65536):
        bits = (sketch[a:b] @ planes) > 0
        keys[a:b] = bits.reshape(b - a, n_tables, n_bits) @ weights
    rows = np.arange(n) if rows is None else rows
    pairs = []
    for t in tqdm(range(n_tables), disable=not verbose, desc="hashing", unit="table"):
        order = rows[np.argsort(keys[rows, t], kind="stable")]
        sorted_keys = keys[order, t]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        sizes = np.diff(np.r_[starts, len(order)])
        for size in np.unique(sizes[sizes > 1]):
            firsts = starts[sizes == size]
            members = order[firsts[:, None] + np.arange(size)]  # (buckets, size)
            if size > max_bucket:
                # A crowded bucket (many similar patterns): all pairs are still
                # verified, in blocks, further down.
                for row in members:
                    pairs.append(_all_pairs(np.sort(row)))
                continue
            i, j = np.triu_indices(size, 1)
            pairs.append(np.stack([members[:, i].ravel(), members[:, j].ravel()], 1))
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(pairs).astype(np.int64)
    pairs.sort(axis=1)
    code = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([code // n, code % n], 1)


def _all_pairs(index):
    i, j = np.triu_indices(len(index), 1)
    return np.stack([index[i], index[j]], 1)


def _screen(sketch, pairs, minimum):
    """Candidate pairs whose sketch cosine is at least ``minimum``."""
    keep = np.zeros(len(pairs), dtype=bool)
    for a, b in _blocks(len(pairs), 1 << 18):
        i, j = pairs[a:b, 0], pairs[a:b, 1]
        keep[a:b] = np.einsum("ij,ij->i", sketch[i], sketch[j]) >= minimum
    return pairs[keep]


def _verify(X, norms, pairs, threshold, verbose):
    """The candidate pairs whose full-pattern cosine similarity is >= threshold."""
    keep = np.zeros(len(pairs), dtype=bool)
    chunk = max(1, (1 << 24) // max(X.shape[1], 1))
    for a, b in tqdm(
        _blocks(len(pairs), chunk), disable=not verbose, desc="verifying", unit="block"
    ):
        i, j = pairs[a:b, 0], pairs[a:b, 1]
        # rows in increasing order: a memory-mapped array is read sequentially
        rows = np.unique(np.concatenate([i, j]))
        data = np.asarray(X[rows], dtype=np.float32)
        ii, jj = np.searchsorted(rows, i), np.searchsorted(rows, j)
        dots = np.einsum("ij,ij->i", data[ii], data[jj], dtype=np.float64)
        denom = norms[i] * norms[j]
        keep[a:b] = (denom > 0) & (dots >= threshold * denom)
    return pairs[keep]


def _exact_pairs(X, norms, threshold, verbose):
    """All pairs with cosine >= threshold, by blocks of the full Gram matrix."""
    n = X.shape[0]
    unit = np.asarray(X, dtype=np.float32) / np.where(norms > 0, norms, 1.0)[:, None]
    unit = unit.astype(np.float32)
    found, near = [], []
    for a, b in tqdm(
        _blocks(n, 2048), disable=not verbose, desc="comparing", unit="block"
    ):
        sims = unit[a:b] @ unit[a:].T
        i, j = np.nonzero(sims >= threshold - _EXACT_MARGIN)
        close = sims[i, j] < threshold + _EXACT_MARGIN
        j = j + a
        i = i + a
        mask = (i < j) & (norms[i] > 0) & (norms[j] > 0)
        found.append(np.stack([i[mask & ~close], j[mask & ~close]], 1))
        near.append(np.stack([i[mask & close], j[mask & close]], 1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    # float32 products are off by far less than the margin, but not by
    # nothing: pairs within it of the threshold are decided by the float64
    # test of algorithm="lsh", so that both algorithms agree on every pair
    near = _verify(X, norms, np.concatenate(near), threshold, False)
    return np.concatenate([np.concatenate(found), near])


def _components(n, pairs) -> np.ndarray:
    """Group id per sample: connected components, numbered by first appearance."""
    if len(pairs) == 0:
        return np.arange(n)
    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    # renumber so that group ids follow the order of their first member
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse]


def _pattern_groups(
    X, threshold, algorithm, pool, n_tables, n_bits, random_state, verbose
):
    X = _validate_patterns(X)
    n = X.shape[0]
    if algorithm not in ("auto", "exact", "lsh"):
        raise ValueError(
            f"algorithm must be 'auto', 'exact' or 'lsh', got {algorithm!r}"
        )
    if algorithm == "auto":
        algorithm = "exact" if n <= _EXACT_MAX else "lsh"
    norms, sketch = _row_norms_and_sketch(X, pool, verbose)
    if algorithm == "exact":
        pairs = _exact_pairs(X, norms, threshold, verbose)
    else:
        rng = np.random.default_rng(random_state)
        # Empty patterns match nothing (no cosine: _verify needs both norms
        # > 0) and share every hash (a zero sketch has all bits 0): 4,000 of
        # them made one bucket of 8 million pairs per table (140 s, 6 GB).
        candidates = _lsh_candidates(
            sketch,
            n_tables,
            n_bits,
            rng,
            verbose,
            max_bucket=256,
            rows=np.flatnonzero(norms > 0),
        )
        # Cheap screen on the in-memory sketches before reading full patterns:
        # near-duplicates keep their pooled cosine (pooling averages out noise),
        # chance collisions of the hashes mostly do not.
        candidates = _screen(sketch, candidates, 1.0 - 5.0 * (1.0 - threshold))
        pairs = _verify(X, norms, candidates, threshold, verbose)
    return _components(n, pairs)


def _formula_key(crystal) -> str:
    """The reduced formula as a key that neither the order of the atoms nor
    the size of the cell changes: each element's share of the atoms, elements
    sorted. (``Crystal.formula`` lists elements in order of first appearance:
    NaCl with its Cl atoms first reads ``ClNa``.)"""
    composition = crystal.composition
    total = sum(composition.values()) or 1.0
    return " ".join(f"{el}:{n / total:.8f}" for el, n in sorted(composition.items()))


def _cell_parameters(bases):
    """``(a, b, c, alpha, beta, gamma)`` of bases (rows: vectors), in Å and
    degrees; ``bases`` of shape (..., 3, 3)."""
    lengths = np.linalg.norm(bases, axis=-1)

    def angle(i, j):
        cos = np.einsum("...k,...k->...", bases[..., i, :], bases[..., j, :])
        return np.degrees(
            np.arccos(np.clip(cos / lengths[..., i] / lengths[..., j], -1, 1))
        )

    return np.concatenate(
        [lengths, np.stack([angle(1, 2), angle(0, 2), angle(0, 1)], -1)], -1
    )


def _reduced_cell(crystal, symprec):
    """(formula key, space group, Niggli-reduced primitive lattice)."""
    import spglib

    cell = crystal.to_spglib_cell()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data = spglib.get_symmetry_dataset(cell, symprec=symprec)
        # spglib's primitive lattice is an exact rational transform of the
        # input lattice, in its Cartesian frame (not idealized): the atoms'
        # Cartesian positions can be read in it (_site_data)
        lattice = (
            np.asarray(data.primitive_lattice)
            if data is not None
            else (crystal.lattice)
        )
        reduced = spglib.niggli_reduce(lattice)
    reduced = lattice if reduced is None else np.asarray(reduced)
    number = data.number if data is not None else 1
    return _formula_key(crystal), int(number), np.asarray(reduced, dtype=float)


# sums and differences of the reduced vectors: the other bases of a lattice
# that are (nearly) reduced as well are made of these
_COMBINATIONS = np.array(
    [u for u in itertools.product((-1, 0, 1), repeat=3) if any(u)], dtype=float
)


def _near_reduced_bases(reduced, length_tol):
    """Integer matrices ``C`` (det ±1) such that the bases ``C @ reduced`` of
    the lattice of ``reduced`` (a Niggli cell) are made of sums and
    differences of its vectors, each about as long as the reduced vector in
    its place; and the bases' cell parameters.

    A Niggli cell is unique, but not continuous in the lattice: where two
    lengths are nearly equal or an angle is near 90° (or at another boundary
    of the reduction), a strain of 0.1 % can swap two axes or turn an acute
    cell obtuse, and the parameters jump by tens of degrees. One of these
    bases of the strained lattice is then close to the other's Niggli cell.
    They also hold every basis that a symmetry of the lattice maps the
    Niggli cell onto (the 48 of a cubic cell), which the comparison of atomic
    positions needs: the Niggli cells of two copies of one crystal may be
    related by one of them.
    """
    vectors = _COMBINATIONS @ reduced
    lengths = np.linalg.norm(vectors, axis=1)
    target = np.linalg.norm(reduced, axis=1)
    # a basis close to another lattice's reduced cell is within twice the
    # tolerance of this one's reduced lengths (both are successive minima)
    margin = (3.0 * length_tol + 1e-6) * target
    picks = [np.flatnonzero(np.abs(lengths - t) <= m) for t, m in zip(target, margin)]
    triples = np.stack(np.meshgrid(*picks, indexing="ij"), -1).reshape(-1, 3)
    coefficients = _COMBINATIONS[triples]
    # the same lattice: an integer matrix of det ±1 (mirror images included)
    unimodular = np.abs(np.abs(np.linalg.det(coefficients)) - 1.0) <= 1e-6
    coefficients = coefficients[unimodular]
    return coefficients, _cell_parameters(coefficients @ reduced)


def _near_reduced_cells(reduced, length_tol):
    """Distinct cell parameters of :func:`_near_reduced_bases`."""
    _, params = _near_reduced_bases(reduced, length_tol)
    return np.unique(np.round(params, 9), axis=0)


def _cells_match(r, q, length_tol, angle_tol):
    """Whether cell parameters ``r`` (..., 6) and ``q`` agree within the
    tolerances (lengths relative to the longer one)."""
    lengths = np.abs(r[..., :3] - q[..., :3]) <= length_tol * np.maximum(
        r[..., :3], q[..., :3]
    )
    angles = np.abs(r[..., 3:] - q[..., 3:]) <= angle_tol
    return lengths.all(-1) & angles.all(-1)


def _site_labels(crystal):
    """Fractional positions (in the crystal's lattice) and a hashable make-up
    per site: atoms of a mixed or partly occupied site (closer than 0.01 Å,
    as spglib sees them) are one site, whose make-up is its elements with
    their occupancies rounded to 0.01."""
    positions, _, sites = crystal._spglib_sites()
    elements, occupancies = crystal.elements, crystal.occupancies
    labels = [
        tuple(sorted((elements[j], round(float(occupancies[j]), 2)) for j in m))
        for m in sites
    ]
    return np.asarray(positions, dtype=float).reshape(-1, 3), labels


def _site_data(crystal, reduced, symprec, codes):
    """Sites of ``crystal`` in its reduced primitive cell ``reduced``:
    fractional coordinates in [0, 1) and integer label codes (``codes`` maps
    make-ups to integers, shared by all crystals).

    The input cell may be a supercell of the primitive one: its copies of
    one primitive site (within twice ``symprec`` Å or 0.01 Å, the tolerance
    spglib found the translations with) are kept once."""
    positions, labels = _site_labels(crystal)
    lattice = np.asarray(crystal.lattice, dtype=float)
    frac = np.mod(positions @ lattice @ np.linalg.inv(reduced), 1.0)
    label = np.array([codes.setdefault(m, len(codes)) for m in labels], dtype=int)
    copies = abs(np.linalg.det(lattice) / np.linalg.det(reduced))
    if copies > 1.5 and len(frac) > 1:
        metric = reduced @ reduced.T
        tol = max(2.0 * symprec, 0.01)
        keep = np.ones(len(frac), dtype=bool)
        for i in range(len(frac)):
            if not keep[i]:
                continue
            later = np.flatnonzero(keep & (label == label[i]))
            later = later[later > i]
            d = frac[later] - frac[i]
            d -= np.round(d)
            close = np.einsum("ij,jk,ik->i", d, metric, d) <= tol**2
            keep[later[close]] = False
        frac, label = frac[keep], label[keep]
    return frac, label


def _sites_match(site_a, site_b, metric_a, reduced_b, bases, site_tol):
    """Whether the atoms of crystal B, read in one of the bases
    ``bases @ reduced_b`` (integer matrices), can be put on those of A (in
    its reduced cell of metric ``metric_a``) by one translation, each atom
    on one atom of the same make-up, none further than ``site_tol`` times
    (V/n)^(1/3).

    Every translation that puts B's atoms on A's puts some atom of B on A's
    first atom of its rarest make-up: those translations are tried (all the
    origin shifts of the space group, and on a polar axis the shift is then
    refined continuously, as pymatgen's StructureMatcher does, by taking out
    the mean displacement)."""
    from scipy.optimize import linear_sum_assignment

    fa, la = site_a
    fb, lb = site_b
    if len(fa) != len(fb) or not np.array_equal(np.sort(la), np.sort(lb)):
        return False
    n = len(fa)
    kinds, counts = np.unique(la, return_counts=True)
    anchor = kinds[np.argmin(counts)]
    a0 = fa[np.flatnonzero(la == anchor)[0]]
    members = [(np.flatnonzero(la == k), np.flatnonzero(lb == k)) for k in kinds]
    # B's sites in each basis; both cells' metrics averaged (frame-free), as
    # pymatgen averages the two lattices; distances as |d @ chol|
    fbc = np.einsum("ni,kij->knj", fb, np.linalg.inv(bases))
    metric = 0.5 * (
        metric_a + bases @ (reduced_b @ reduced_b.T) @ bases.transpose(0, 2, 1)
    )
    chol = np.linalg.cholesky(metric)
    volume = np.sqrt(np.linalg.det(metric))
    tol2 = (site_tol * np.cbrt(volume / n)) ** 2
    shifts = a0 - fbc[:, lb == anchor]  # (K, T, 3)
    n_shifts = shifts.shape[1]
    largest = max(len(ia) * len(ib) for ia, ib in members)
    step = max(1, (1 << 20) // (n_shifts * largest))
    for start in range(0, len(bases), step):
        part = slice(start, start + step)
        c = chol[part, None, None]
        # the anchor atom sits exactly: the best shift is at most site_tol
        # away, so each atom is within twice the tolerance here
        worst = np.zeros(shifts[part].shape[:2])
        for ia, ib in members:
            d = fa[ia][None, None, :, None] - fbc[part][:, None, None, ib]
            d = d - shifts[part][:, :, None, None]
            d -= np.round(d)
            dist = np.square(d @ c).sum(-1).min(-1).max(-1)
            worst = np.maximum(worst, dist)
        for k, t in zip(*np.nonzero(worst <= 4.0 * tol2[part, None])):
            k = k + start
            moves = []
            for ia, ib in members:
                d = fa[ia][:, None] - fbc[k, ib][None] - shifts[k, t]
                d -= np.round(d)
                cost = np.square(d @ chol[k]).sum(-1)
                pick = np.argmin(cost, axis=1)
                if len(np.unique(pick)) < len(pick):
                    # two atoms nearest to one: the best one-to-one pairing
                    pick = linear_sum_assignment(cost)[1]
                moves.append(d[np.arange(len(ia)), pick])
            moves = np.concatenate(moves)
            moves -= moves.mean(axis=0)  # the best shift of the whole crystal
            if np.square(moves @ chol[k]).sum(-1).max() <= tol2[k]:
                return True
    return False


def _structure_groups(crystals, length_tol, angle_tol, site_tol, symprec, verbose):
    from ..crystal import as_crystals

    crystals = as_crystals(crystals)
    buckets = defaultdict(list)
    cells = []
    for k, c in enumerate(tqdm(crystals, disable=not verbose, desc="reducing")):
        formula, number, reduced = _reduced_cell(c, symprec)
        buckets[(formula, number)].append(k)
        cells.append(reduced)
    pairs = []
    for members in buckets.values():
        if len(members) < 2:
            continue
        m = np.array(members)
        p = _cell_parameters(np.array([cells[k] for k in members]))
        # each member's Niggli cell against every near-reduced basis of the
        # others (its own Niggli cell among them)
        alternatives = [_near_reduced_cells(cells[k], length_tol) for k in members]
        owner = np.repeat(np.arange(len(m)), [len(a) for a in alternatives])
        q = np.concatenate(alternatives)
        step = max(1, (1 << 20) // len(q))  # bounded memory in a large bucket
        for start in range(0, len(m), step):
            r = p[start : start + step, None]
            rows, cols = np.nonzero(_cells_match(r, q, length_tol, angle_tol))
            i, j = rows + start, owner[cols]
            # (i, j): i's Niggli cell matches a basis of j's lattice
            pairs.append(np.stack([m[i[i != j]], m[j[i != j]]], 1))
    if not pairs:
        return _components(len(crystals), np.zeros((0, 2), dtype=np.int64))
    # each pair once (several bases of one cell may match)
    pairs = np.unique(np.sort(np.concatenate(pairs), axis=1), axis=0)
    if site_tol is None:
        return _components(len(crystals), pairs)
    # the cells match; now the atoms. A pair already joined through others
    # needs no comparison (groups are transitive)
    from scipy.cluster.hierarchy import DisjointSet

    union = DisjointSet(range(len(crystals)))
    codes, sites, bases, joined = {}, {}, {}, []
    for i, j in tqdm(pairs.tolist(), disable=not verbose, desc="atoms", unit="pair"):
        if union.connected(i, j):
            continue
        for k in (i, j):
            if k not in sites:
                sites[k] = _site_data(crystals[k], cells[k], symprec, codes)
                bases[k] = _near_reduced_bases(cells[k], length_tol)
        # b's bases that match a's Niggli cell, the closest first. Which of
        # the two is a follows from the cells, not from the order of the
        # input, so that the groups do not depend on it at the tolerance;
        # the other way round where no basis fits that way (the cells were
        # matched one way round)
        p_i, p_j = _cell_parameters(cells[i]), _cell_parameters(cells[j])
        first = (i, j) if tuple(np.round(p_i, 6)) <= tuple(np.round(p_j, 6)) else (j, i)
        for a, b in (first, first[::-1]):
            coefficients, params = bases[b]
            p_a = _cell_parameters(cells[a])
            fit = _cells_match(p_a, params, length_tol, angle_tol)
            if fit.any():
                break
        else:
            continue
        order = np.argsort(np.abs(params[fit] - p_a).sum(axis=1), kind="stable")
        if _sites_match(
            sites[a],
            sites[b],
            cells[a] @ cells[a].T,
            cells[b],
            coefficients[fit][order],
            site_tol,
        ):
            union.merge(i, j)
            joined.append((i, j))
    return _components(len(crystals), np.array(joined, dtype=np.int64).reshape(-1, 2))


def _label_groups(crystals, method, symprec, verbose):
    """Group ids of crystals by reduced formula or by prototype label."""
    from ..crystal import as_crystals, prototype_label
    from ..datasets._collections import _group_ids

    crystals = as_crystals(crystals)
    if not crystals:
        return np.zeros(0, dtype=np.int64)
    if method == "formula":
        keys = [_formula_key(c) for c in crystals]
    else:
        keys = []
        for i, c in enumerate(tqdm(crystals, disable=not verbose, desc="prototypes")):
            try:
                keys.append(prototype_label(c, symprec))
            except ValueError:  # no symmetry found: a group of its own
                keys.append(f"\0{i}")
    return _group_ids(keys)


def _holds_crystals(data) -> bool:
    """Whether ``data`` is a sequence of crystals (or structures, or CIF
    paths) rather than an array of patterns."""
    if (
        isinstance(data, np.ndarray)
        or issparse(data)  # rows are patterns; len() of a sparse array fails
        # a tensor (a GPU one too, whose rows numpy cannot read: it was taken
        # for crystals, "expected a skxrd Crystal ..., got Tensor")
        or (hasattr(data, "shape") and hasattr(data, "dtype"))
        or hasattr(data, "iloc")  # a DataFrame's rows are patterns
        or not hasattr(data, "__len__")
        or not len(data)
    ):
        return False
    first = next(iter(data))
    try:
        return np.asarray(first).dtype.kind not in "biuf"
    except (TypeError, ValueError):
        return True


def _method_for(data, method):
    """``method``, by default ``"pattern"`` for patterns and ``"structure"``
    for crystals; ``"pattern"`` for crystals is an error."""
    if method is None:
        return "structure" if _holds_crystals(data) else "pattern"
    if method == "pattern" and _holds_crystals(data):
        raise ValueError(
            "method='pattern' compares patterns, and data holds crystals: pass "
            "method='structure', 'formula' or 'prototype' (or leave it out)"
        )
    return method


def duplicate_groups(
    data,
    method: str | None = None,
    *,
    threshold: float = 0.99,
    algorithm: str = "auto",
    pool: int = 17,
    n_tables: int = 16,
    n_bits: int = 24,
    length_tol: float = 0.02,
    angle_tol: float = 1.0,
    site_tol: float | None = 0.3,
    symprec: float | None = None,
    random_state=0,
    verbose: bool = False,
) -> np.ndarray:
    """One group id per sample: near-duplicates share a group.

    Use the ids with ``GroupKFold`` / ``StratifiedGroupKFold`` so that copies of
    one compound never sit on both sides of a split.

    Parameters
    ----------
    data : array-like of shape (n_samples, n_points), or sequence of Crystal
        Patterns (``method="pattern"``; a ``numpy.memmap`` works and is read in
        blocks; a sparse matrix or a CPU torch tensor is converted to a
        dense numpy array) or crystals (``method="structure"``).
    method : {"pattern", "structure", "formula", "prototype"}, optional
        By default ``"pattern"`` for patterns and ``"structure"`` for crystals.
        ``"pattern"``: cosine similarity of the patterns ≥ ``threshold``.
        ``"structure"``: same reduced formula, same space group (spglib),
        Niggli-reduced primitive cells within ``length_tol`` / ``angle_tol``
        (one cell against the other's Niggli cell or a nearly reduced basis
        of it, so that a strain across a boundary of the reduction, such as
        two nearly equal lengths trading places, does not split them), and
        atoms that can be put on top of each other within ``site_tol``, as
        pymatgen's ``StructureMatcher`` does: polytypes or orderings of one
        formula with the same space group and cell are different structures.
        Duplicates are joined transitively (connected components).
        ``"formula"``: same reduced formula (polymorphs together). Formulas
        compare by composition, whatever the order of the atoms.
        ``"prototype"``: same structure prototype
        (:func:`~skxrd.crystal.prototype_label`: anonymous formula, space
        group and occupied Wyckoff positions at ``symprec``), so that a split
        holds out whole structure types, substituted compounds included.
    threshold : float, default=0.99
        Cosine similarity at or above which two patterns are duplicates.
    algorithm : {"auto", "exact", "lsh"}, default="auto"
        ``"exact"`` compares all pairs in blocks (quadratic; the default up to
        20,000 patterns). ``"lsh"`` finds candidate pairs with random-hyperplane
        hashes of pooled patterns (``n_tables`` tables of ``n_bits`` bits),
        screens them by the cosine of the pooled patterns (at least
        ``1 - 5 (1 - threshold)``) and keeps those whose exact cosine passes: no
        false duplicates, and a pair with cosine ≥ 0.99 is missed by the hashes
        with probability below 0.2 %.
    pool : int, default=17
        Points summed per bin of the hashed sketch (4250 points → 250 bins).
    n_tables, n_bits : int, default=16, 24
        LSH tables and bits per table.
    length_tol : float, default=0.02
        Relative tolerance of reduced-cell lengths (``"structure"``).
    angle_tol : float, default=1.0
        Tolerance of reduced-cell angles in degrees (``"structure"``).
    site_tol : float or None, default=0.3
        How far atoms may sit apart (``"structure"``), as a fraction of
        (V/n)^(1/3), the edge of the volume per site (about 2 Å in an oxide),
        like the ``stol`` of pymatgen's ``StructureMatcher`` (whose default
        it takes). Two crystals are duplicates when one of the bases of the
        second's primitive lattice that match the first's Niggli cell (all
        the lattice's symmetry-equivalent ones among them, and mirror
        images: the powder patterns of enantiomorphs are the same) and one
        translation (any origin shift, continuous along a polar axis) put
        each site of the second on a site of the first with the same make-up,
        one to one, none further than this after the mean displacement is
        taken out. A site's make-up is its elements (without charge, as the
        formula) with their occupancies rounded to 0.01: partly occupied
        atoms closer than 0.01 Å are one mixed site (Fe0.5Co0.5), which
        matches only the same mix. None compares the cells only (formula,
        space group and cell, as earlier versions did): faster, and blind to
        the atoms.
    symprec : float, optional
        spglib tolerance: 1e-3 Å for ``"structure"``, 0.1 Å (the Materials
        Project's) for ``"prototype"``.
    random_state : int, numpy RandomState or Generator, or None, default=0
        Seed of the hash planes (``algorithm="lsh"`` only): the same int gives
        the same groups; a generator is drawn from (it advances); None draws
        fresh planes.
    verbose : bool, default=False
        Progress bars.

    Returns
    -------
    ndarray of shape (n_samples,)
        Group ids 0, 1, ... in order of the groups' first members.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.dedup import duplicate_groups
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((4, 100))
    >>> X = np.vstack([X, X[1] * 1.01])          # a near-copy of pattern 1
    >>> duplicate_groups(X).tolist()
    [0, 1, 2, 3, 1]
    >>> from skxrd.datasets import load_example_crystal
    >>> nacl = load_example_crystal("NaCl")
    >>> strained = nacl.replace(lattice=nacl.lattice * 1.005)
    >>> duplicate_groups([nacl, strained, load_example_crystal("Si")],
    ...                  method="structure").tolist()
    [0, 0, 1]
    >>> from skxrd.crystal import Crystal
    >>> cu3au = Crystal.from_wyckoff(221, [("Au", "1a"), ("Cu", "3c")], a=3.75)
    >>> other = Crystal.from_wyckoff(221, [("Au", "1a"), ("Cu", "3d")], a=3.75)
    >>> shifted = cu3au.replace(frac_coords=cu3au.frac_coords + [0.1, 0.2, 0.3])
    >>> crystals = [cu3au, other, shifted]  # same formula, space group, cell
    >>> duplicate_groups(crystals, method="structure").tolist()
    [0, 1, 0]
    >>> duplicate_groups(crystals, method="structure", site_tol=None).tolist()
    [0, 0, 0]
    >>> mgo = Crystal.from_wyckoff(225, [("Mg", "4a"), ("O", "4b")], a=4.21)
    >>> duplicate_groups([nacl, mgo, load_example_crystal("Si")],
    ...                  method="prototype").tolist()
    [0, 0, 1]
    """
    threshold = _check_threshold(threshold)
    # numpy's own errors for -1 or 1.5 name neither the parameter nor the value
    random_state = check_seed(random_state)
    method = _method_for(data, method)
    if method == "pattern":
        for value, what in ((pool, "pool"), (n_tables, "n_tables"), (n_bits, "n_bits")):
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Integral)
                or value < 1
            ):
                raise ValueError(f"{what} must be a positive integer, got {value!r}")
        if n_bits > 62:
            raise ValueError(f"n_bits must be <= 62, got {n_bits}")
        return _pattern_groups(
            data,
            threshold,
            algorithm,
            int(pool),
            int(n_tables),
            int(n_bits),
            random_state,
            verbose,
        )
    # spglib crashes the interpreter (a segmentation fault) on symprec <= 0
    # or NaN; a negative tolerance would silently group nothing. The crystal
    # module's rule, so that a bad symprec is the same error everywhere
    from ..crystal._crystal import check_symprec

    if method == "structure":
        symprec = 1e-3 if symprec is None else check_symprec(symprec)
        return _structure_groups(
            data,
            check_real(length_tol, "length_tol", minimum=0.0),
            check_real(angle_tol, "angle_tol", minimum=0.0),
            check_real(
                site_tol,
                "site_tol",
                allow_none=True,
                minimum=0.0,
                include_min=False,
            ),
            symprec,
            verbose,
        )
    if method in ("formula", "prototype"):
        symprec = 0.1 if symprec is None else check_symprec(symprec)
        return _label_groups(data, method, symprec, verbose)
    raise ValueError(
        "method must be 'pattern', 'structure', 'formula' or 'prototype', got "
        f"{method!r}"
    )


@dataclass
class DuplicateReport:
    """What :func:`drop_duplicates` removed.

    Attributes
    ----------
    groups : ndarray
        Group id of every input sample.
    kept : ndarray
        Indices of the samples kept (the first of each group).
    removed : ndarray
        Indices of the samples removed.
    kept_instead : ndarray
        For each removed sample, the index of the kept sample of its group.
    method : str
        How the duplicates were found: the ``method`` of :func:`duplicate_groups`.
    details : dict
        Room for method-specific information (empty by default;
        ``{"site_tol": value}`` where :func:`drop_duplicates` was given one).

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.dedup import drop_duplicates
    >>> X = np.array([[1.0, 0, 0], [0, 1, 0], [1.0, 0.001, 0]])
    >>> X_kept, report = drop_duplicates(X, verbose=False)
    >>> report.kept.tolist(), report.removed.tolist(), report.kept_instead.tolist()
    ([0, 1], [2], [0])
    >>> print(report)
    3 samples, 2 kept, 1 removed as duplicates (pattern cosine similarity); 1 groups
    had more than one member, the largest 2
      removed 2: duplicate of 0
    """

    groups: np.ndarray
    kept: np.ndarray
    removed: np.ndarray
    kept_instead: np.ndarray
    method: str = "pattern"
    details: dict = field(default_factory=dict)

    def __str__(self) -> str:
        n = len(self.groups)
        sizes = np.bincount(self.groups)
        lines = [
            f"{n} samples, {len(self.kept)} kept, {len(self.removed)} removed as "
            f"duplicates ({_method_name(self.method, self.details)}); "
            f"{int((sizes > 1).sum())} groups had more than one member, the "
            f"largest {int(sizes.max()) if n else 0}"
        ]
        for r, k in list(zip(self.removed, self.kept_instead))[:10]:
            lines.append(f"  removed {int(r)}: duplicate of {int(k)}")
        if len(self.removed) > 10:
            lines.append(f"  ... and {len(self.removed) - 10} more")
        return "\n".join(lines)


def _method_name(method, details=None):
    if method == "structure" and (details or {}).get("site_tol", 0.3) is None:
        return "formula, space group and reduced cell"
    return {
        "pattern": "pattern cosine similarity",
        "structure": "formula, space group, reduced cell and atomic positions",
    }.get(method, method)


def drop_duplicates(
    data, *arrays, method: str | None = None, verbose: bool = True, **kwargs
):
    """Keep the first sample of each duplicate group, before any split.

    Parameters
    ----------
    data : array-like or sequence of Crystal
        What duplicates are judged on (see :func:`duplicate_groups`).
    *arrays : array-like
        Arrays (or lists) aligned with ``data`` to filter alike, e.g. ``y``.
    method : {"pattern", "structure", "formula", "prototype"}, optional
        As :func:`duplicate_groups`: by default ``"pattern"`` for patterns and
        ``"structure"`` for crystals.
    verbose : bool, default=True
        Print the report.
    **kwargs
        Passed to :func:`duplicate_groups` (``threshold``, ...).

    Returns
    -------
    data_kept, *arrays_kept : same types as the inputs
        Only the kept samples, in their original order: lists, tuples,
        DataFrames or Series, sparse matrices and torch tensors (on their
        device) stay what they were; other array-likes become arrays.
    report : DuplicateReport
        Which samples were removed, and which kept sample stands for each.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.dedup import drop_duplicates
    >>> X = np.array([[1.0, 0, 0], [0, 1, 0], [1.0, 0.001, 0]])
    >>> X_kept, y_kept, report = drop_duplicates(X, ["a", "b", "a"], verbose=False)
    >>> X_kept.shape, y_kept, report.removed.tolist(), report.kept_instead.tolist()
    ((2, 3), ['a', 'b'], [2], [0])
    """
    method = _method_for(data, method)  # named in the report
    groups = duplicate_groups(data, method, verbose=False, **kwargs)
    n = len(groups)
    for k, arr in enumerate(arrays):
        if _n_samples(arr) != n:
            raise ValueError(f"array {k} has {_n_samples(arr)} samples, data has {n}")
    _, first = np.unique(groups, return_index=True)
    kept = np.sort(first)
    mask = np.zeros(n, dtype=bool)
    mask[kept] = True
    removed = np.flatnonzero(~mask)
    representative = np.empty(groups.max() + 1 if n else 0, dtype=np.int64)
    representative[groups[kept]] = kept
    # site_tol=None compares cells only: the report says so
    details = {"site_tol": kwargs["site_tol"]} if "site_tol" in kwargs else {}
    report = DuplicateReport(
        groups, kept, removed, representative[groups[removed]], method, details
    )
    if verbose:
        print(report)

    return (_take(data, kept), *(_take(a, kept) for a in arrays), report)


def _n_samples(arr) -> int:
    """Rows of ``arr``: ``len`` fails on a sparse matrix."""
    return arr.shape[0] if issparse(arr) else len(arr)


def _take(arr, kept):
    """The rows ``kept`` of ``arr``, in the type of ``arr``."""
    if isinstance(arr, list):
        return [arr[i] for i in kept]
    if isinstance(arr, tuple):
        return tuple(arr[i] for i in kept)
    if hasattr(arr, "iloc"):
        return arr.iloc[kept]
    if issparse(arr):  # COO has no row indexing: through CSR, back to its format
        return arr.tocsr()[kept].asformat(arr.format)
    if type(arr).__module__.split(".")[0] == "torch":
        # a tensor stays a tensor, on its device (np.asarray failed on a GPU)
        return arr[kept.tolist()]
    return np.asarray(arr)[kept]
