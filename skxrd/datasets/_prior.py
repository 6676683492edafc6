"""Random crystals that look like real ones: a prior learned from structures."""

from __future__ import annotations

import csv
import numbers
import warnings
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from ..crystal import (
    Crystal,
    as_crystals,
    default_setting,
    lattice_from_parameters,
    to_bravais_lattice,
    to_crystal_system,
    wyckoff_sites,
)
from ..crystal._crystal import trusted_crystal
from ..crystal._spacegroups import _family_of_bravais
from ..utils._parallel import parallel_map
from ._random import (
    _MAX_ATOMS,
    _has_space_group,
    _one_crystal,
    _place,
    _spawn,
    covalent_radius,
)

__all__ = ["CrystalPrior", "space_group_frequencies", "space_group_sample_weights"]

_STATISTICS = Path(__file__).parent / "data" / "space_group_frequencies.csv"
_SOURCES = ("icsd", "cod", "materials_project")


def space_group_frequencies(database: str = "icsd") -> np.ndarray:
    """Entries per space group (1–230) in a real structure database.

    Aggregated from the de-duplicated tables of the ``dara-xrd`` package (MIT
    licence): ICSD (143,523 entries, 2025), the Crystallography Open Database
    (62,099, 2024) and the Materials Project (132,285).

    Parameters
    ----------
    database : {"icsd", "cod", "materials_project"}, default="icsd"

    Returns
    -------
    ndarray of shape (230,)
        Counts; index ``i`` is space group ``i + 1``.

    Examples
    --------
    >>> from skxrd.datasets import space_group_frequencies
    >>> counts = space_group_frequencies("icsd")
    >>> int(counts.sum()), int(counts.argmax()) + 1   # Pnma is the most common
    (143523, 62)
    """
    if database not in _SOURCES:
        raise ValueError(f"database must be one of {_SOURCES}, got {database!r}")
    return _frequencies()[database].copy()


def space_group_sample_weights(y, database: str = "icsd") -> np.ndarray:
    """Sample weights that give labelled patterns a real database's space groups.

    Importance weights for scoring or calibrating on simulated patterns
    whose space groups were drawn otherwise (a training mix, a uniform
    draw) as if they came from the compounds of a real structure database:
    each pattern weighs ``share_database(g) / share_y(g)`` of its space group
    ``g``, so that weighted, the groups of ``y`` have the database's shares
    among them (counted with one more entry per group: a group the database
    lacks is rare, not impossible). The weights have mean 1.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Space-group numbers (1-230).
    database : {"icsd", "cod", "materials_project"}, default="icsd"
        See :func:`space_group_frequencies`.

    Returns
    -------
    ndarray of shape (n_samples,)

    Examples
    --------
    >>> from skxrd.datasets import space_group_sample_weights
    >>> w = space_group_sample_weights([62, 62, 225, 2])   # Pnma, Pnma, Fm-3m, P-1
    >>> w.round(2).tolist()
    [0.9, 0.9, 1.22, 0.98]
    """
    counts = space_group_frequencies(database) + 1.0
    raw = np.asarray(y)
    try:
        groups = np.asarray(raw, dtype=float)
        ok = np.all((groups == np.round(groups)) & (groups >= 1) & (groups <= 230))
    except (TypeError, ValueError):
        ok = False
    if raw.ndim != 1 or len(raw) == 0 or not ok:
        raise ValueError(
            "y must be a non-empty 1-D array of space-group numbers 1-230, got "
            f"{raw.ravel()[:5].tolist()}"
        )
    groups = groups.astype(int)
    seen = np.bincount(groups - 1, minlength=230).astype(float)
    w = counts[groups - 1] / seen[groups - 1]
    return w / w.mean()


@cache
def _frequencies() -> dict:
    with open(_STATISTICS, newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = {k: np.zeros(230) for k in _SOURCES}
    for row in rows:
        for k in _SOURCES:
            out[k][int(row["space_group"]) - 1] = float(row[k])
    return out


def _packing(crystal: Crystal) -> float:
    """Covalent-sphere volume of the atoms (occupancy-weighted) over the cell's."""
    r = np.array([covalent_radius(e) for e in crystal.elements])
    return float(
        np.sum(crystal.occupancies * 4.0 / 3.0 * np.pi * r**3) / crystal.volume
    )


def _template(space_group: int, wyckoff) -> str:
    """Key of a learned arrangement: ``'225|a|c'`` (letters per element)."""
    return "|".join([str(int(space_group)), *wyckoff])


def _parse_label(label: str):
    """``'225|a|c'`` -> (225, ('a', 'c'))."""
    parts = label.split("|")
    return int(parts[0]), tuple(parts[1:])


@cache
def _letter_sites(space_group: int) -> dict:
    return {s.letter: s for s in wyckoff_sites(default_setting(space_group)).values()}


def _template_sites(label: str):
    """[(WyckoffSite, block)] of a template, or None if a letter is unknown."""
    sg, blocks = _parse_label(label)
    sites = _letter_sites(sg)
    out = []
    for block, letters in enumerate(blocks):
        for letter in letters:
            if letter not in sites:
                return None
            out.append((sites[letter], block))
    return out


class CrystalPrior(BaseEstimator):
    """A generator of random crystals that learns what real crystals look like.

    ``fit`` learns from a collection of real structures (by default use the
    bundled Materials Project set, :func:`load_materials_project`):

    - the space-group frequencies (or takes them from a database's statistics,
      ``space_group_weights="icsd"``, which covers all 230 groups);
    - per space group, the occupied Wyckoff positions together with which
      orbits share an element (each structure's arrangement, as in its
      prototype, :func:`~skxrd.crystal.prototype_label`), weighted by how
      often it occurs;
    - the chemistries: the element sets of real compounds, in the order of their
      abundance in the formula;
    - lattice shapes per Bravais lattice (axis ratios and angles of the
      conventional cells);
    - the packing fraction (covalent-sphere volume over cell volume).

    ``sample`` draws a space group, a prototype of it, a chemistry with as many
    elements (assigned by rank of abundance, so the most abundant element of the
    chemistry goes to the prototype's most populated element), a lattice shape
    of the same Bravais lattice with a small jitter, a packing fraction, and free
    Wyckoff coordinates uniformly at random. Atoms closer than
    ``distance_tolerance`` times the sum of their covalent radii are redrawn;
    when a draw does not fit at the sampled density, the cell is expanded by
    ``expand`` and tried again (so dense prototypes come out slightly less dense
    than real ones). moyo checks every crystal for its intended space group.
    A space group without a learned prototype (possible with
    ``space_group_weights="icsd"``) gets random Wyckoff sites with a learned
    number of atoms and chemistry.

    Parameters
    ----------
    space_group_weights : {"fit", "icsd", "cod", "materials_project"} or dict, \
default="fit"
        Where the space-group distribution comes from: the fitted structures,
        the statistics of a database (:func:`space_group_frequencies`), or a
        ``{space_group: weight}`` mapping.
    max_atoms : int, optional
        Leave out prototypes with more atoms than this in the conventional cell
        (large cells are slow to place and to simulate). Structures of more
        than 10,000 atoms, the limit of :func:`make_random_crystals`, must be
        left out this way: ``fit`` refuses them (real ones have up to about
        1,200).
    lattice_jitter : float, default=0.03
        Standard deviation of the log of each free axis ratio, relative to the
        learned shape.
    angle_jitter : float, default=1.0
        Standard deviation (degrees) of each free cell angle.
    distance_tolerance : float, default=0.75
        Minimum interatomic distance as a fraction of the covalent-radius sum.
    expand : float, default=1.1
        Cell-volume factor applied after each failed placement.
    check_symmetry : bool, default=True
        Redraw crystals for which moyo (symprec 1e-2 Å) finds another group
        (no supergroup within 0.01 Å, as :func:`make_random_crystals`).
    max_attempts : int, default=60
        Attempts per crystal with the group's learned prototypes; where all
        fail, random Wyckoff sites of the learned sizes and chemistries
        (``max_attempts`` and as many with only the general position repeated,
        as :func:`make_random_crystals`, per draw of size and chemistry), and
        only then a ``RuntimeError``.
    symprec : float, default=0.1
        spglib tolerance (Å) for describing the fitted structures (only used
        when they come as crystals, not as a loaded collection).
    n_jobs : int, optional
        Parallel workers for ``fit`` (describing crystals) and ``sample``.
    verbose : bool, default=False
        Progress bars: of ``fit`` (describing crystals, learning from the
        structures) and of ``sample``.

    Attributes
    ----------
    space_groups_ : ndarray of int
        Space groups that ``sample`` draws from.
    space_group_probabilities_ : ndarray of float
        Their probabilities.
    prototypes_ : dict
        Space group -> (arrangements ``"<group>|<letters of element A>|..."``,
        weights).
    chemistries_ : dict
        Number of elements -> (element tuples, weights).
    lattice_shapes_ : dict
        Bravais lattice -> array of (b/a, c/a, alpha, beta, gamma).
    packing_ : ndarray
        Packing fractions of the fitted structures.
    n_conventional_ : ndarray
        Atoms per conventional cell of the fitted structures.
    n_structures_ : int
        Number of structures fitted.

    Examples
    --------
    >>> from skxrd.datasets import CrystalPrior, load_materials_project
    >>> prior = CrystalPrior(max_atoms=60).fit(load_materials_project())
    >>> crystals = prior.sample(4, random_state=0)
    >>> [c.get_space_group() == c.space_group for c in crystals]
    [True, True, True, True]
    """

    def __init__(
        self,
        space_group_weights="fit",
        max_atoms=None,
        lattice_jitter=0.03,
        angle_jitter=1.0,
        distance_tolerance=0.75,
        expand=1.1,
        check_symmetry=True,
        max_attempts=60,
        symprec=0.1,
        n_jobs=None,
        verbose=False,
    ):
        self.space_group_weights = space_group_weights
        self.max_atoms = max_atoms
        self.lattice_jitter = lattice_jitter
        self.angle_jitter = angle_jitter
        self.distance_tolerance = distance_tolerance
        self.expand = expand
        self.check_symmetry = check_symmetry
        self.max_attempts = max_attempts
        self.symprec = symprec
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ----------------------------------------------------------------- fitting
    def _check_params(self):
        from ..utils._validation import (
            check_bool,
            check_int,
            check_n_jobs,
            check_real,
        )

        # "no" would turn the symmetry check on
        check_bool(self.check_symmetry, "check_symmetry")
        if self.max_atoms is not None:
            check_int(self.max_atoms, "max_atoms", minimum=1)
        check_real(self.lattice_jitter, "lattice_jitter", minimum=0.0)
        check_real(self.angle_jitter, "angle_jitter", minimum=0.0)
        check_real(
            self.distance_tolerance,
            "distance_tolerance",
            minimum=0.0,
            maximum=2.0,
            include_min=False,
            include_max=False,
        )
        check_real(self.expand, "expand", minimum=1.0, include_min=False)
        check_int(self.max_attempts, "max_attempts", minimum=1)
        check_real(self.symprec, "symprec", minimum=0.0, include_min=False)
        check_n_jobs(self.n_jobs)

    def fit(self, X, y=None):
        """Learn the prior from real structures.

        Parameters
        ----------
        X : Bunch or sequence of crystals
            A collection from :func:`load_materials_project`,
            :func:`read_cif_folder`, :func:`load_structures` (their symmetry
            descriptions are reused), or crystals of any kind (described with
            spglib at ``symprec``).
        y : ignored

        Returns
        -------
        self
        """
        from ._collections import load_structures

        self._check_params()
        if not isinstance(X, Bunch):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                X = load_structures(
                    as_crystals(X),
                    symprec=self.symprec,
                    n_jobs=self.n_jobs,
                    verbose=self.verbose,
                )
        # all that is read below: a Bunch without the last two raised a bare
        # AttributeError from deep in the loop
        for key in (
            "crystals",
            "space_group",
            "wyckoff",
            "prototype_elements",
            "conventional_parameters",
            "n_conventional",
        ):
            if key not in X:
                raise ValueError(
                    f"CrystalPrior.fit: the collection has no {key!r}; pass crystals "
                    "or a Bunch from load_materials_project / load_structures"
                )
        n = len(X.crystals)
        if n == 0:
            raise ValueError("CrystalPrior.fit: no structures to learn from")
        keep = np.ones(n, dtype=bool)
        if self.max_atoms is not None:
            keep &= np.asarray(X.n_conventional) <= self.max_atoms
        sizes = np.asarray(X.n_conventional)
        over = np.flatnonzero(keep & (sizes > _MAX_ATOMS))
        if len(over):
            # sample() would draw crystals of that size, placed in time that
            # grows as the square of the atoms
            i = int(over[0])
            raise ValueError(
                f"CrystalPrior.fit: {len(over)} structure(s) have more than "
                f"{_MAX_ATOMS:,} atoms in the conventional cell, the limit of a "
                f"generated crystal (the first, {i}, has {int(sizes[i]):,}); set "
                f"max_atoms <= {_MAX_ATOMS:,} to leave them out"
            )
        prototypes = defaultdict(Counter)
        chemistries = defaultdict(Counter)
        shapes = defaultdict(list)
        unknown = 0
        packing = []
        # tens of thousands of structures take seconds (the bundled set: 2-20 s
        # on a CPU): a bar, as for describing crystals above
        for i in tqdm(
            np.flatnonzero(keep),
            disable=not self.verbose,
            desc="learning the prior",
            unit="structure",
        ):
            label = _template(X.space_group[i], X.wyckoff[i])
            if _template_sites(label) is None:
                unknown += 1
                keep[i] = False
                continue
            packing.append(_packing(X.crystals[i]))
            sg, _ = _parse_label(label)
            prototypes[sg][label] += 1
            elements = tuple(X.prototype_elements[i])
            chemistries[len(elements)][elements] += 1
            a, b, c, al, be, ga = X.conventional_parameters[i]
            shapes[str(to_bravais_lattice(sg))].append((b / a, c / a, al, be, ga))
        if not keep.any():
            raise ValueError(
                f"CrystalPrior.fit: none of the {n} structures can be used "
                f"(max_atoms={self.max_atoms})"
            )
        self.prototypes_ = {
            sg: (np.array(list(c)), np.array(list(c.values()), dtype=float))
            for sg, c in sorted(prototypes.items())
        }
        self.chemistries_ = {}
        for k, c in sorted(chemistries.items()):
            tuples = np.empty(len(c), dtype=object)
            tuples[:] = list(c)
            self.chemistries_[k] = (tuples, np.array(list(c.values()), dtype=float))
        self.lattice_shapes_ = {k: np.array(v) for k, v in sorted(shapes.items())}
        self.packing_ = np.array(packing)
        self.n_conventional_ = np.asarray(X.n_conventional)[keep].astype(int)
        self.n_structures_ = int(keep.sum())
        self.space_groups_, self.space_group_probabilities_ = self._group_weights()
        return self

    def _group_weights(self):
        w = self.space_group_weights
        if isinstance(w, str) and w == "fit":
            groups = np.array(sorted(self.prototypes_))
            counts = np.array([self.prototypes_[g][1].sum() for g in groups])
        elif isinstance(w, str):
            if w not in _SOURCES:
                raise ValueError(
                    "space_group_weights must be 'fit', one of "
                    f"{_SOURCES} or a dict, got {w!r}"
                )
            counts = space_group_frequencies(w)
            groups = np.arange(1, 231)
        elif isinstance(w, dict):
            from ._random import _check_group

            try:
                # 225.7 is no space group: not cut down to 225
                groups = np.array([_check_group(g) for g in w])
                counts = np.array([float(v) for v in w.values()])
            except (TypeError, ValueError) as exc:
                raise ValueError(f"space_group_weights: {exc}") from None
            # in group order: the same weights written in another key order
            # drew other crystals from the same random_state
            order = np.argsort(groups, kind="stable")
            groups, counts = groups[order], counts[order]
        else:
            raise ValueError(
                f"space_group_weights must be 'fit', one of {_SOURCES} or a dict, "
                f"got {w!r}"
            )
        if np.any(~np.isfinite(counts)) or np.any(counts < 0) or counts.sum() <= 0:
            raise ValueError("space_group_weights must be >= 0, not all zero")
        keep = counts > 0
        return groups[keep].astype(int), counts[keep] / counts[keep].sum()

    # ---------------------------------------------------------------- sampling
    def sample(self, n: int, random_state=None) -> list[Crystal]:
        """Draw random crystals from the prior.

        Parameters
        ----------
        n : int
            Number of crystals.
        random_state : int, numpy Generator or RandomState, optional
            Seed; the same seed gives the same crystals for any ``n_jobs``.
            A Generator or RandomState is drawn from once (it advances). The
            space groups are drawn for all ``n`` crystals together, so the
            first crystals of ``sample(10, random_state=0)`` are not those of
            ``sample(5, random_state=0)``.

        Returns
        -------
        list of Crystal
            Conventional cells, named ``"prior-<group>-<index>"``, with
            ``space_group`` set to the intended (and, with
            ``check_symmetry``, verified) group.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "prototypes_")
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        self._check_params()
        seeds = _spawn(random_state, n + 1)
        rng = np.random.default_rng(seeds[-1])
        sg = rng.choice(self.space_groups_, size=n, p=self.space_group_probabilities_)
        jobs = [(self, seeds[i], int(sg[i]), i) for i in range(n)]
        if self.n_jobs in (None, 1) or n < 2:
            return [
                _sample_one(*j)
                for j in tqdm(
                    jobs, disable=not self.verbose, desc="crystals", unit="crystal"
                )
            ]
        size = max(1, min(256, -(-n // 8)))
        chunks = [jobs[i : i + size] for i in range(0, n, size)]
        parts = parallel_map(
            _sample_chunk,
            [(c,) for c in chunks],
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            desc="crystals",
            unit="chunk",
        )
        return [c for part in parts for c in part]

    def _draw_shape(self, rng, space_group):
        """(a=1, b, c, alpha, beta, gamma) for the group's Bravais lattice."""
        bravais = str(to_bravais_lattice(space_group))
        system = str(to_crystal_system(space_group))
        table = self.lattice_shapes_.get(bravais)
        if table is None:  # a Bravais lattice never seen: any of its system
            rows = [
                v
                for k, v in self.lattice_shapes_.items()
                # trigonal groups have hP or hR lattices
                if _family_of_bravais(k)
                == ("hexagonal" if system == "trigonal" else system)
            ]
            table = np.concatenate(rows) if rows else None
        if table is None:
            ba, ca, al, be, ga = 1.0, 1.0, 90.0, 90.0, 90.0
            if system in ("orthorhombic", "monoclinic", "triclinic"):
                ba, ca = np.exp(rng.uniform(np.log(0.5), np.log(2.0), 2))
        else:
            ba, ca, al, be, ga = table[int(rng.integers(len(table)))]
        ba, ca = np.array([ba, ca]) * np.exp(rng.normal(0.0, self.lattice_jitter, 2))
        turn = rng.normal(0.0, self.angle_jitter, 3)
        if system == "cubic":
            return 1.0, 1.0, 1.0, 90.0, 90.0, 90.0
        if system == "tetragonal":
            return 1.0, 1.0, ca, 90.0, 90.0, 90.0
        if system in ("hexagonal", "trigonal"):
            return 1.0, 1.0, ca, 90.0, 90.0, 120.0
        if system == "orthorhombic":
            return 1.0, ba, ca, 90.0, 90.0, 90.0
        if system == "monoclinic":
            return 1.0, ba, ca, 90.0, float(be + turn[1]), 90.0
        return (
            1.0,
            ba,
            ca,
            float(al + turn[0]),
            float(be + turn[1]),
            float(ga + turn[2]),
        )

    def _draw_chemistry(self, rng, k):
        """A real element set with ``k`` elements (fewer-element sets padded)."""
        if k in self.chemistries_:
            tuples, w = self.chemistries_[k]
            return list(tuples[_pick(rng, w)])
        # more blocks than any fitted chemistry: extend the largest one with
        # elements from other chemistries
        largest = max(self.chemistries_)
        tuples, w = self.chemistries_[largest]
        out = list(tuples[_pick(rng, w)])
        pool = sorted({e for t in tuples for e in t} - set(out))
        extra = rng.choice(pool, size=min(k - len(out), len(pool)), replace=False)
        return [str(e) for e in extra] + out


_CDFS: dict = {}


def _pick(rng, weights) -> int:
    """``rng.choice(len(weights), p=weights / weights.sum())``, same draw, with
    the cumulative sums of the (read-only, fitted) weights computed once."""
    key = id(weights)
    cached = _CDFS.get(key)
    if cached is None or cached[0] is not weights:
        cdf = np.cumsum(weights / weights.sum())
        cdf /= cdf[-1]
        cached = _CDFS[key] = (weights, cdf)
    return int(cached[1].searchsorted(rng.random(), side="right"))


def _sample_chunk(jobs):
    return [_sample_one(*j) for j in jobs]


_SITE_DRAWS = 8


def _random_sites(prior: CrystalPrior, rng, space_group: int, index: int) -> Crystal:
    """A crystal of random Wyckoff sites with a learned size, chemistry and
    packing: groups without a learned prototype, and the fallback where the
    prototypes of a group fail ``max_attempts`` times.

    One draw of size, chemistry and packing can fail ``max_attempts`` times
    (placement at that density, or orbits with more symmetry than the group:
    13-23 % of the crystals of P4, P-4c2 and P6 with the COD's group weights
    on the AMCSD): up to ``_SITE_DRAWS`` draws before the ``RuntimeError``.
    """
    for draw in range(_SITE_DRAWS):
        n_atoms = int(prior.n_conventional_[rng.integers(len(prior.n_conventional_))])
        # as many elements as the fitted structures have: a uniform choice
        # among the counts seen gave 8-element crystals (1 of 36,478
        # Materials Project structures) an eighth of the time
        counts = list(prior.chemistries_)
        weights = np.array([prior.chemistries_[c][1].sum() for c in counts])
        k = int(counts[int(rng.choice(len(counts), p=weights / weights.sum()))])
        elements = np.array(prior._draw_chemistry(rng, k))
        packing = float(prior.packing_[rng.integers(len(prior.packing_))])
        try:
            crystal = _one_crystal(
                # the first draw keeps the seed of crystals drawn before retries
                rng.bit_generator.seed_seq if draw == 0 else rng,
                space_group,
                elements,
                (n_atoms, n_atoms),
                (len(elements), len(elements)),
                float(prior.distance_tolerance),
                (0.6 * packing, packing),
                bool(prior.check_symmetry),
                int(prior.max_attempts),
                index,
            )
        except RuntimeError:
            if draw == _SITE_DRAWS - 1:
                raise
            continue
        return crystal.replace(name=f"prior-{space_group}-{index}")


def _sample_one(prior: CrystalPrior, seed, space_group: int, index: int) -> Crystal:

    rng = np.random.default_rng(seed)
    tolerance = float(prior.distance_tolerance)
    name = f"prior-{space_group}-{index}"
    if space_group not in prior.prototypes_:
        # no learned prototype: random Wyckoff sites, learned size and chemistry
        return _random_sites(prior, rng, space_group, index)
    labels, weights = prior.prototypes_[space_group]
    for _ in range(int(prior.max_attempts)):
        label = str(labels[_pick(rng, weights)])
        sites = _template_sites(label)
        n_blocks = len(_parse_label(label)[1])
        chemistry = prior._draw_chemistry(rng, n_blocks)
        # blocks of the label are ordered by increasing count, chemistries by
        # increasing abundance: the ranks pair up
        species = [chemistry[block] for _, block in sites]
        chosen = [site for site, _ in sites]
        radii = np.array([covalent_radius(s) for s in species])
        counts = np.array([s.multiplicity for s in chosen])
        atom_volume = float(np.sum(counts * 4.0 / 3.0 * np.pi * radii**3))
        packing = float(prior.packing_[rng.integers(len(prior.packing_))])
        try:
            shape = prior._draw_shape(rng, space_group)
            unit = abs(np.linalg.det(lattice_from_parameters(*shape)))
        except ValueError:  # a degenerate triclinic draw
            continue
        volume = atom_volume / packing
        coords = None
        for _ in range(4):
            scale = (volume / unit) ** (1.0 / 3.0)
            lattice = lattice_from_parameters(
                scale, *(scale * np.asarray(shape[1:3])), *shape[3:]
            )
            if np.linalg.norm(lattice, axis=1).min() >= tolerance * 2 * radii.max():
                coords = _place(rng, chosen, radii, lattice, tolerance)
                if coords is not None:
                    break
            volume *= float(prior.expand)
        if coords is None:
            continue
        atom_species = [
            sp for sp, s in zip(species, chosen) for _ in range(s.multiplicity)
        ]
        if prior.check_symmetry and not _has_space_group(
            lattice, coords, atom_species, space_group
        ):
            continue
        return trusted_crystal(
            lattice, atom_species, coords, space_group=space_group, name=name
        )
    # every drawn prototype failed (placement or symmetry: seen once in 13,500
    # crystals of a training draw, P4): random sites of the group instead, which
    # raise the RuntimeError if they fail too
    return _random_sites(prior, rng, space_group, index)
