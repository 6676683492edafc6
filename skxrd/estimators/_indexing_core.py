"""The numerical core of :class:`~skxrd.estimators.IndexingClassifier`,
without scikit-learn: the indexing merits of patterns, the stacker's features
and probabilities, the space groups weighed by their absences, and the checks
of its settings. :mod:`skxrd.pretrained` runs a model file's stacker with them
(``skxrd predict``). Cached merits are keyed by this module's source (with the
indexing's), so that an edit elsewhere in the estimators keeps them.
"""

from __future__ import annotations

import numpy as np

from ..indexing._index import check_first_lines, check_max_zero_shift
from ..utils._validation import check_bool

__all__ = [
    "INDEXING_ABSENCE_MIN_MERIT",
    "INDEXING_ABSENCE_WEIGHT",
    "INDEXING_DEGREE",
    "INDEXING_FAMILIES",
    "INDEXING_FIRST_LINES",
    "INDEXING_MAX_ZERO_SHIFT",
    "INDEXING_MERIT_CAP",
    "INDEXING_MIN_LINES",
    "absence_settings",
    "best_cell",
    "check_absences",
    "check_degree",
    "check_families",
    "check_first_lines",
    "check_max_zero_shift",
    "check_merit_cap",
    "family_lattices",
    "indexable",
    "indexing_cells",
    "indexing_features",
    "indexing_merits",
    "indexing_settings",
    "reweight_coarse",
    "stack_coarse",
    "stack_proba",
    "weigh_absences",
]


_INDEXING_FLOOR = 1e-6  # smallest probability whose logarithm the stacker sees


#: fewer peaks than this cannot be indexed (:func:`skxrd.indexing.index_powder`)
INDEXING_MIN_LINES = 8


#: the lattice families an IndexingClassifier weighs by default, and the
#: powers of log(1 + M) its stacker sees (model files written before the
#: orthorhombic lattices weigh "cth" at degree 1: they lack these keys)
INDEXING_FAMILIES = "ctho"
INDEXING_DEGREE = 2
#: the figure of merit the stacker sees at most: de Wolff's M20 is sure from
#: about 20 on; hundreds come only from exact positions (simulated or very
#: clean synchrotron patterns), which the stacker rarely saw fitting, and
#: the square of log(1 + M) must not run off there (files written before
#: the cap have none: inf)
INDEXING_MERIT_CAP = 100.0
#: the zero shift of the 2θ scale (degrees) the indexing refines with each
#: cell (:func:`skxrd.indexing.index_powder`); files written before it
#: refine none: 0
INDEXING_MAX_ZERO_SHIFT = 0.1
#: how many of the first lines the orthorhombic and monoclinic candidates may
#: start from (:func:`skxrd.indexing.index_powder`, whose own default is 4):
#: the shipped stackers were fitted with 2, the search before December 2026,
#: and files that lack the key were too
INDEXING_FIRST_LINES = 2
#: the power of a space group's merit ratio (its merit with its absences over
#: the best group's of the crystal system) its share is weighed by, and the
#: family merit a cell needs for it: the lowest log-loss of the space groups
#: of simulated tuning patterns (experiments/README.md, ``absences.py``)
INDEXING_ABSENCE_WEIGHT = 1.0
INDEXING_ABSENCE_MIN_MERIT = 40.0
#: a group's merit ratio counts at least exp(-3): an impurity line or a wrong
#: cell must not rule out the classifier's answer
_ABSENCE_FLOOR = 3.0


def check_families(families):
    """``families`` as a string of distinct letters of ``"cthoma"`` (cubic,
    tetragonal, hexagonal, orthorhombic, monoclinic, triclinic), or an error
    naming it."""
    if (
        not isinstance(families, str)
        or not families
        or len(set(families)) != len(families)
        or not set(families) <= set("cthoma")
    ):
        raise ValueError(
            "families must be distinct letters of 'cthoma' (cubic, tetragonal, "
            "hexagonal, orthorhombic, monoclinic, triclinic), such as 'ctho' or "
            f"'cthoa'; got {families!r}"
        )
    return families


def check_also(also):
    """``also`` (families searched beyond a model's: ``""``, or letters as
    :func:`check_families` takes them), or an error naming it."""
    if isinstance(also, str) and also == "":
        return also
    try:
        return check_families(also)
    except ValueError as exc:  # named as the caller wrote it
        raise ValueError(str(exc).replace("families", "also", 1)) from None


def check_degree(degree):
    """``degree`` (1 or 2: the powers of ``log(1 + M)``), or an error."""
    if isinstance(degree, bool) or degree not in (1, 2):
        raise ValueError(f"degree must be 1 or 2, got {degree!r}")
    return int(degree)


def check_merit_cap(merit_cap):
    """``merit_cap`` (a positive float, ``inf`` for none), or an error."""
    if isinstance(merit_cap, bool):
        raise ValueError(f"merit_cap must be a positive number, got {merit_cap!r}")
    try:
        cap = float(merit_cap)
    except (TypeError, ValueError):
        raise ValueError(
            f"merit_cap must be a positive number, got {merit_cap!r}"
        ) from None
    if not cap > 0:
        raise ValueError(f"merit_cap must be a positive number, got {merit_cap!r}")
    return cap


def check_absences(absences, weight, min_merit):
    """``(absences, absence_weight, absence_min_merit)`` checked: a bool and
    two non-negative finite numbers, or an error naming the bad one."""
    check_bool(absences, "absences")
    out = [bool(absences)]
    for name, value in (("absence_weight", weight), ("absence_min_merit", min_merit)):
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = float("nan")
        if isinstance(value, bool) or not (np.isfinite(v) and v >= 0):
            raise ValueError(
                f"{name} must be a non-negative finite number, got {value!r}"
            )
        out.append(v)
    return tuple(out)


def absence_settings(record):
    """``(absences, absence_weight, absence_min_merit)`` of a model file's
    indexing record, checked; files written before them weigh no absences."""
    return check_absences(
        record.get("absences", False),
        record.get("absence_weight", INDEXING_ABSENCE_WEIGHT),
        record.get("absence_min_merit", INDEXING_ABSENCE_MIN_MERIT),
    )


def _family_of_groups():
    """The crystal-family letter of space groups 1-230 (index 0 is group 1)."""
    from ..indexing._absences import _FAMILY_GROUPS

    out = np.empty(230, dtype="<U1")
    for fam, (lo, hi) in _FAMILY_GROUPS.items():
        out[lo - 1 : hi] = fam
    return out


def weigh_absences(proba, classes, merits, group_merits, weight, min_merit):
    """Space-group probabilities whose shares within each crystal system are
    weighed by the groups' systematic absences; no crystal system's sum moves.

    Within a crystal system (not triclinic) whose family's best cell scores at
    least ``min_merit`` (``merits``: :func:`skxrd.indexing.lattice_merits`),
    each group's probability is multiplied by ``(M_g / M_best) ** weight``,
    ``M_g`` its merit with its absences (``group_merits``, columns of groups
    1-230), ``M_best`` the best group's of the system, the ratio at least
    ``exp(-3)``; then the system's probabilities are scaled back to its sum.
    ``classes`` are space-group numbers or symbols."""
    from ..crystal import space_group_number, to_crystal_system
    from ..indexing._index import ALL_LATTICE_TYPES

    proba = np.asarray(proba, dtype=float)
    if float(weight) == 0:
        return proba
    numbers = np.array([space_group_number(c) for c in np.asarray(classes).tolist()])
    systems = np.asarray(to_crystal_system(numbers)).astype(str)
    families = _family_of_groups()[numbers - 1]
    lattice_family = np.array([lat[0] for lat in ALL_LATTICE_TYPES])
    m = np.asarray(merits, dtype=float)
    g = np.asarray(group_merits, dtype=float)[:, numbers - 1]
    out = proba.copy()
    for system in np.unique(systems):
        cols = np.flatnonzero(systems == system)
        fam = families[cols[0]]
        if fam == "a" or len(cols) < 2:
            continue
        rows = m[:, :-1][:, lattice_family == fam].max(axis=1) >= float(min_merit)
        rows &= indexable(m)
        if not rows.any():
            continue
        gm = g[np.ix_(rows, cols)]
        top = gm.max(axis=1, keepdims=True)
        ratio = np.log(np.maximum(gm, 1e-12)) - np.log(np.maximum(top, 1e-12))
        block = proba[np.ix_(rows, cols)] * np.exp(
            float(weight) * np.maximum(ratio, -_ABSENCE_FLOOR)
        )
        mass = proba[np.ix_(rows, cols)].sum(axis=1, keepdims=True)
        out[np.ix_(rows, cols)] = (
            block / np.maximum(block.sum(axis=1, keepdims=True), 1e-300) * mass
        )
    return out


def indexing_settings(record):
    """``(families, degree, merit_cap, max_zero_shift, first_lines)`` of a
    model file's indexing record, checked. Files written before the
    orthorhombic lattices lack them: they weigh "cth" at degree 1, with no cap
    and no zero shift (which came later still); files without
    ``first_lines`` searched from the first two lines."""
    return (
        check_families(record.get("families", "cth")),
        check_degree(record.get("degree", 1)),
        check_merit_cap(record.get("merit_cap", float("inf"))),
        check_max_zero_shift(record.get("max_zero_shift", 0.0)),
        check_first_lines(record.get("first_lines", INDEXING_FIRST_LINES)),
    )


def family_lattices(families):
    """The lattice types of :data:`skxrd.indexing.ALL_LATTICE_TYPES` in
    ``families``."""
    from ..indexing._index import ALL_LATTICE_TYPES

    return tuple(lat for lat in ALL_LATTICE_TYPES if lat[0] in families)


def indexing_features(
    proba_coarse,
    merits,
    families=INDEXING_FAMILIES,
    degree=INDEXING_DEGREE,
    merit_cap=INDEXING_MERIT_CAP,
    group_merits=None,
):
    """The inputs of :class:`IndexingClassifier`'s stacker.

    The log crystal-system probabilities (columns of ``proba_coarse``), then
    ``m = log(1 + M)`` of the best cell of each of ``families`` (letters of
    ``"cthoma"``), from the figures of merit of
    :func:`skxrd.indexing.lattice_merits`, and with ``degree`` 2 also ``m²``
    (a merit of 10 is weak evidence, one of 50 strong: a logistic regression
    sees that bend only through the square). Merits above ``merit_cap`` count
    as ``merit_cap``. With ``group_merits`` (columns of space groups 1-230,
    :func:`skxrd.indexing.lattice_merits` with ``space_groups``), a family's
    merit is its best space group's where that is higher: a cell whose lines
    show a glide or a screw axis is surer than its lattice's merit says.
    """
    from ..indexing._index import ALL_LATTICE_TYPES

    family = np.array([lat[0] for lat in ALL_LATTICE_TYPES])
    m = np.asarray(merits, float)
    best = np.stack([m[:, :-1][:, family == f].max(axis=1) for f in families], axis=1)
    if group_merits is not None:
        g = np.asarray(group_merits, float)
        of_group = _family_of_groups()
        best = np.maximum(
            best, np.stack([g[:, of_group == f].max(axis=1) for f in families], axis=1)
        )
    best = np.log1p(np.minimum(best, float(merit_cap)))
    return np.concatenate(
        [np.log(np.clip(proba_coarse, _INDEXING_FLOOR, 1.0))]
        + [best**power for power in range(1, int(degree) + 1)],
        axis=1,
    )


def indexing_merits(
    X,
    two_theta,
    radiation,
    scale,
    families,
    max_zero_shift=INDEXING_MAX_ZERO_SHIFT,
    first_lines=INDEXING_FIRST_LINES,
    n_jobs=None,
    verbose=False,
    twofold_axes=False,
    absences=False,
):
    """:func:`skxrd.indexing.lattice_merits` of preprocessed rows: squared
    back first where ``scale`` is ``"sqrt"``, the lattices of ``families``
    only, a zero shift up to ``max_zero_shift`` refined, candidates from one
    of the first ``first_lines`` lines. The peak lists keep Kβ lines
    (dropping them found no more measured cells, experiments/README.md).
    The stackers were fitted without ``index_powder``'s twofold-axis
    monoclinic candidates: with them, a ``cthoma`` stacker named no more
    RRUFF crystal systems (``experiments/indexing_stack.py``, the tenth
    version), and without its cells of long axes scored on larger indices
    (``long_axes``, since fixed: merits of such cells, and of their space
    groups, as they were fitted).
    With ``absences``, ``(merits, group_merits)``: each family's
    best cell scored with every space group's absences too."""
    from ..indexing._index import lattice_merits

    return lattice_merits(
        _indexing_rows(X, scale),
        two_theta,
        radiation=radiation,
        drop_kbeta=False,
        space_groups=bool(absences),
        n_jobs=n_jobs,
        verbose=verbose,
        **_search_settings(families, max_zero_shift, first_lines, twofold_axes),
    )


def _indexing_rows(X, scale):
    """The rows whose peaks are indexed: squared back where ``scale`` is
    ``"sqrt"``."""
    if scale == "sqrt":
        return np.square(np.maximum(X, 0.0))
    return X


def _search_settings(families, max_zero_shift, first_lines, twofold_axes=False):
    """The :func:`skxrd.indexing.index_powder` settings of
    :func:`indexing_merits` (and of :func:`indexing_cells`, which must find
    the same cells)."""
    return {
        "lattices": family_lattices(families),
        "max_zero_shift": float(max_zero_shift),
        "first_lines": int(first_lines),
        "twofold_axes": bool(twofold_axes),
        "long_axes": False,
    }


def indexing_cells(
    X,
    two_theta,
    radiation,
    scale,
    families,
    max_zero_shift=INDEXING_MAX_ZERO_SHIFT,
    first_lines=INDEXING_FIRST_LINES,
    also="",
):
    """The cells behind :func:`indexing_merits` of the same rows and settings.

    Returns one ``(n_peaks, cells)`` per row: the number of peaks indexed (at
    most 20) and ``{lattice type: IndexingSolution or None}`` over the lattice
    types of ``families``. Rows whose merits were computed in this process
    lately (the last 64 rows, or all those of an enclosing
    ``skxrd.indexing._index._holding_indexed`` block, in the calling process:
    not those of joblib workers) are read back, not indexed again.
    ``also``: letters of more families (``"m"``: monoclinic), whose cells are
    searched on the same peaks with the same settings (the merits never see
    them)."""
    from ..indexing._index import _indexed_rows, index_powder

    lattices = family_lattices(families)
    found = _indexed_rows(
        _indexing_rows(X, scale),
        two_theta,
        radiation=radiation,
        drop_kbeta=False,
        **_search_settings(families, max_zero_shift, first_lines),
    )
    more = tuple(lat for lat in family_lattices(also) if lat not in lattices)
    rows = []
    for pos, cells in found:
        row = {lat: cells.get(lat) for lat in lattices}
        if more:
            extra = index_powder(
                pos,
                wavelength=radiation,
                **{
                    **_search_settings(families, max_zero_shift, first_lines),
                    "lattices": more,
                },
            )
            row.update({lat: extra.get(lat) for lat in more})
        rows.append((len(pos), row))
    return rows


def best_cell(cells, lattices):
    """The :class:`~skxrd.indexing.IndexingSolution` of highest merit among
    ``lattices`` in ``cells`` (one of :func:`indexing_cells`' dicts), the
    first of :data:`~skxrd.indexing.ALL_LATTICE_TYPES` among equals (the
    simplest, as the merits' features take it); None where none was found."""
    best = None
    for lat in lattices:
        sol = cells.get(lat)
        if sol is not None and (
            best is None or sol.figure_of_merit > best.figure_of_merit
        ):
            best = sol
    return best


def indexable(merits):
    """Which patterns had enough peaks to be indexed: the others keep the
    wrapped classifier's answer (no cell found is no evidence there)."""
    return np.asarray(merits, float)[:, -1] >= INDEXING_MIN_LINES


def stack_coarse(
    coarse,
    merits,
    stacked_proba,
    columns,
    families=INDEXING_FAMILIES,
    degree=INDEXING_DEGREE,
    merit_cap=INDEXING_MERIT_CAP,
    group_merits=None,
):
    """Crystal-system probabilities of the stacker where the patterns were
    indexable, ``coarse`` (the wrapped classifier's) elsewhere.
    ``stacked_proba(features)`` gives the stacker's probabilities of its
    classes, which are the ``columns`` of ``coarse``; its features are
    :func:`indexing_features` of ``families``, ``degree``, ``merit_cap`` and
    ``group_merits``."""
    new = np.array(coarse, dtype=float, copy=True)
    rows = indexable(merits)
    if rows.any():
        new[rows] = 0.0
        new[np.ix_(rows, columns)] = stacked_proba(
            indexing_features(
                coarse[rows],
                np.asarray(merits)[rows],
                families,
                degree,
                merit_cap,
                None if group_merits is None else np.asarray(group_merits)[rows],
            )
        )
    return new


def stack_proba(
    proba,
    membership,
    merits,
    stacked_proba,
    columns,
    families=INDEXING_FAMILIES,
    degree=INDEXING_DEGREE,
    merit_cap=INDEXING_MERIT_CAP,
    group_merits=None,
):
    """Fine-class probabilities whose crystal systems are the stacker's
    (:func:`stack_coarse` of ``proba @ membership``), each fine class keeping
    its share of its crystal system (:func:`reweight_coarse`)."""
    new = stack_coarse(
        proba @ membership,
        merits,
        stacked_proba,
        columns,
        families,
        degree,
        merit_cap,
        group_merits,
    )
    return reweight_coarse(proba, membership, new)


def reweight_coarse(proba, membership, coarse_new):
    """Fine-class probabilities whose coarse sums (``proba @ membership``)
    become ``coarse_new``, each fine class keeping its share of its coarse
    class."""
    coarse = proba @ membership
    ratio = coarse_new / np.maximum(coarse, 1e-12)
    out = proba * (ratio @ membership.T)
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-300)
