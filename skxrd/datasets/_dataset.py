"""Pattern datasets (X, y, groups, crystals) for the classification targets."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.utils import Bunch

from ..crystal import (
    BRAVAIS_LATTICES,
    CRYSTAL_SYSTEMS,
    POINT_GROUPS,
    to_bravais_lattice,
    to_crystal_system,
    to_point_group,
)
from ..simulation import PowderSimulator
from ..utils._memo import cache_ignoring_verbose

__all__ = ["SOURCES", "TARGETS", "make_pattern_dataset"]

#: The labels :func:`make_pattern_dataset` can return as ``y``.
TARGETS = (
    "space_group",
    "crystal_system",
    "bravais_lattice",
    "point_group",
    "structure_type",
)

#: The named crystal sources of :func:`make_pattern_dataset`.
SOURCES = (
    "uniform",
    "realistic",
    "realistic_minerals",
    "materials_project",
    "amcsd",
    "structure_types",
)

# named sources that are collections of real structures, and their loaders
_COLLECTIONS = ("materials_project", "amcsd")


def make_pattern_dataset(
    n_crystals: int | None = 1000,
    target: str = "space_group",
    *,
    source=None,
    space_groups=None,
    elements=None,
    n_atoms=(4, 40),
    prototypes=None,
    n_variants: int = 1,
    variants=None,
    instrument=None,
    simulator: PowderSimulator | None = None,
    vacancy_fraction: float = 0.0,
    displacement: float = 0.0,
    groups: str = "auto",
    cache=None,
    random_state=None,
    n_jobs: int | None = None,
    verbose: bool = True,
) -> Bunch:
    """Simulated powder patterns with labels, ready for scikit-learn.

    Crystals come from ``source``: random crystals uniform over the space
    groups (:func:`make_random_crystals`), realistic random crystals
    (:class:`CrystalPrior`), the bundled real structures
    (:func:`load_materials_project`), the user's own crystals, compounds of
    the structure-type library (:func:`make_structure_type_crystals`, for
    ``target="structure_type"``), or a weighted mixture of these. Real
    structures can be turned into many variants each (:func:`make_variants`);
    every pattern can get its own crystallite size, instrument broadening,
    texture and zero shift (``instrument``); optional defects
    (:func:`perturb_crystals`); then the patterns of ``simulator``.

    Parameters
    ----------
    n_crystals : int or None, default=1000
        Number of patterns. For a collection of real structures, None takes
        every structure once (times ``n_variants``); an int draws
        ``ceil(n_crystals / n_variants)`` structures at random (cycling
        through the collection when it has fewer). For ``"structure_type"``,
        the number of compounds per type is ``n_crystals // n_types`` (at
        least one), each with ``n_variants`` variants.
    target : {"space_group", "crystal_system", "bravais_lattice", "point_group", \
"structure_type"}, default="space_group"
    source : str, CrystalPrior, Bunch, sequence of crystals or mapping, optional
        Where the crystals come from:

        - ``"uniform"`` (the default for symmetry targets): random crystals
          balanced over the 230 space groups;
        - ``"realistic"``: a :class:`CrystalPrior` fitted on the bundled
          Materials Project structures (prototypes with at most 200 atoms in
          the conventional cell), or pass a fitted :class:`CrystalPrior`;
        - ``"realistic_minerals"``: a :class:`CrystalPrior` fitted on the
          AMCSD minerals (prototypes with at most 200 atoms in the conventional
          cell: mineral chemistries, arrangements and cell shapes), drawing
          space groups with the COD's frequencies, which are close to those of
          mineral species (the AMCSD subset itself is 32 % cubic and 0.6 %
          triclinic); needs ``larixite`` like ``"amcsd"``;
        - ``"materials_project"``: the bundled real structures;
        - ``"amcsd"``: the mineral structures of the American Mineralogist
          Crystal Structure Database (:func:`load_amcsd`; needs the
          ``larixite`` package, ``pip install "skxrd[amcsd]"``);
        - a collection from :func:`load_materials_project`,
          :func:`read_cif_folder`, :func:`load_structures`, or a sequence of
          crystals (Crystal, pymatgen, ASE, CIF paths), whose space groups
          are found with spglib;
        - ``"structure_types"`` (the default and only choice for
          ``"structure_type"``);
        - a mixture: ``{"realistic": 0.5, "materials_project": 0.5}``, or a
          list of ``(source, weight)`` pairs for sources that are not names.
          The weights are relative (``>= 0``, not all zero; divided by
          their sum, so ``{"uniform": 1, "realistic": 3}`` is a quarter
          uniform); each component gets its share of ``n_crystals`` (largest
          remainders).
    space_groups, elements, n_atoms
        Passed to :func:`make_random_crystals` (``"uniform"``); a
        ``ValueError`` where ``source`` has no ``"uniform"`` part (they would
        be ignored).
    prototypes : optional
        Passed to :func:`make_structure_type_crystals` (``"structure_type"``).
    n_variants : int, default=1
        Variants per real structure (:func:`make_variants`), or strained
        variants per compound (``"structure_type"``).
    variants : dict or False, optional
        Keyword arguments of :func:`make_variants` (``substitution``,
        ``strain``, ``b_iso``, ``partial_occupancy``). By default its defaults
        when ``n_variants > 1``; ``False`` repeats each structure unchanged (the
        patterns then differ only by ``instrument``).
    instrument : InstrumentSampler, dict or "measured_like", optional
        Per-pattern sample and instrument settings
        (:class:`~skxrd.simulation.InstrumentSampler`, or its parameters as a
        dict) simulated with :meth:`PowderSimulator.transform_varied`;
        ``"measured_like"``: the ranges of
        :data:`skxrd.simulation.MEASURED_LIKE`, which match measured laboratory
        patterns (peak widths, counting noise, backgrounds).
    simulator : PowderSimulator, optional
        The simulator; by default ``PowderSimulator()`` (Cu Kα, 5–90° 2θ).
    vacancy_fraction, displacement : float, default=0.0
        Defects applied to every crystal (:func:`perturb_crystals`).
    groups : {"auto", "prototype", "formula", "crystal"}, default="auto"
        What ``groups`` identifies. ``"prototype"``: the structure prototype
        (:func:`~skxrd.crystal.prototype_label`), so that a group-aware split
        holds out whole structure types; ``"formula"``: the reduced formula of
        the source structure; ``"crystal"``: the source crystal (its variants
        share it). ``"auto"`` is ``"prototype"`` for real structures and
        ``"crystal"`` for random ones (each random crystal is its own
        compound).
    cache : str or path-like, optional
        A folder for an on-disk cache (in its ``skxrd-datasets`` subfolder):
        the same call returns the stored dataset without recomputing it. The
        entries are ``.npz`` arrays and JSON read without unpickling, so a
        cache from elsewhere cannot run code; an unreadable entry is rebuilt
        with a warning. With ``random_state=None`` (a fresh draw each call)
        nothing is cached.
    random_state : int, numpy RandomState or Generator, optional
        Seed; the same seed gives the same dataset for any ``n_jobs``, cached
        or not. A RandomState or Generator is drawn from once (it advances).
        A dataset of fewer patterns is not the start of a larger one: the
        space groups, sources and structures are dealt out for all
        ``n_crystals`` together.
    n_jobs : int, optional
        Parallel workers for generation and simulation.
    verbose : bool, default=True
        Progress bars, including those of loading a named collection and
        fitting the prior of ``"realistic"`` sources the first time in a
        process (seconds: 2-20 s each on a CPU for the Materials Project set; a
        minute for the AMCSD).

    Returns
    -------
    Bunch
        ``X`` (n, n_points) float32 patterns; ``y`` labels of the target
        (space-group numbers, or names); ``groups``, an integer id per group
        (see ``groups``) for group-aware splits; ``crystals``; ``space_group``;
        ``source``, the source name of each pattern; ``ids``, the id of each
        pattern's source structure; ``settings``, the per-pattern
        instrument settings (None without ``instrument``); ``two_theta`` (the
        grid); ``target_names``, all classes of the target;
        ``feature_names``; ``DESCR``.

    Examples
    --------
    >>> from skxrd.datasets import make_pattern_dataset
    >>> data = make_pattern_dataset(20, target="crystal_system", random_state=0,
    ...                             verbose=False)
    >>> data.X.shape, data.y[:3].tolist(), len(data.target_names)
    ((20, 4250), ['trigonal', 'orthorhombic', 'tetragonal'], 7)

    Real structures with variants and per-pattern instrument settings, mixed
    with realistic random crystals:

    >>> data = make_pattern_dataset(
    ...     12, source={"materials_project": 0.5, "realistic": 0.5}, n_variants=3,
    ...     instrument={"zero_shift": 0.05}, random_state=0, verbose=False)
    >>> sorted(set(data.source.tolist())), data.ids[:3].tolist()
    (['materials_project', 'realistic'], ['mp-775430', 'mp-775430', 'mp-775430'])
    >>> data.groups[:4].tolist()
    [0, 0, 0, 1]
    """
    from ..utils._validation import check_n_jobs

    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    # checked here, not by the generators: a cached dataset never reached them
    check_n_jobs(n_jobs)
    if n_crystals is not None and (
        isinstance(n_crystals, bool)
        or not isinstance(n_crystals, numbers.Integral)
        or n_crystals < 1
    ):
        raise ValueError(
            f"n_crystals must be a positive integer or None, got {n_crystals!r}"
        )
    simulator = PowderSimulator() if simulator is None else simulator
    if not isinstance(simulator, PowderSimulator):
        raise ValueError(f"simulator must be a PowderSimulator, got {simulator!r}")
    components = _components(source, target)
    if n_crystals is None and any(kind != "collection" for _, kind, _, _ in components):
        raise ValueError(
            "n_crystals=None (every structure once) needs a collection of real "
            "structures as the only source"
        )
    if groups not in ("auto", "prototype", "formula", "crystal"):
        raise ValueError(
            "groups must be 'auto', 'prototype', 'formula' or 'crystal', got "
            f"{groups!r}"
        )
    _check_variant_options(n_variants, variants)
    _check_uniform_options(components, space_groups, elements, n_atoms)
    _warn_unused_variants(components, source, n_variants, variants)
    instrument = _instrument(instrument)
    if random_state is None:
        cache = None  # a fresh draw every call: nothing to read back
    if cache is not None:
        from ._random import _seed_int

        # a RandomState or a Generator keyed by the seed it gives now: a
        # cached call then returns what the same call without cache would
        random_state = _seed_int(random_state)
    args = dict(
        n_crystals=None if n_crystals is None else int(n_crystals),
        target=target,
        space_groups=space_groups,
        elements=elements,
        n_atoms=n_atoms,
        prototypes=prototypes,
        n_variants=n_variants,
        simulator=simulator,
        vacancy_fraction=vacancy_fraction,
        displacement=displacement,
        random_state=random_state,
        n_jobs=n_jobs,
        verbose=verbose,
        source=source,
        variants=variants,
        instrument=instrument,
        groups=groups,
    )
    if cache is None:
        data = _build(**args)
    else:
        data = _cached_build(cache, args, source, target)
    if n_jobs is not None and n_jobs != 1:
        # idle simulation workers would be restarted, with a warning, by the
        # first network fits handed to them (GridSearchCV(n_jobs=...))
        from ..utils._parallel import release_workers

        release_workers()
    return data


def _warn_unused_variants(components, source, n_variants, variants) -> None:
    """Warn where ``n_variants`` or ``variants`` is given for a source that
    has nothing to vary (random crystals only)."""
    if (n_variants > 1 or variants not in (None, False)) and not _takes_variants(
        components
    ):
        import warnings

        from ..utils._warnings import caller_stacklevel

        warnings.warn(
            "n_variants and variants apply to real structures and structure types; "
            f"the source {source if source is not None else 'uniform'!r} has none, "
            "so each crystal is drawn once and unchanged",
            UserWarning,
            # the user's line, also through train_from_config and skxrd train
            stacklevel=caller_stacklevel(),
        )


def _takes_variants(components) -> bool:
    """Whether a source has structures that ``n_variants`` varies (real ones
    or structure types; random crystals are drawn once each)."""
    return any(
        kind in ("collection", "structure_types") for _, kind, _, _ in components
    )


def _prototypes_key(prototypes):
    """``prototypes`` for the cache key: a CIF file by its contents (an
    edited file must not return the dataset of the old one)."""
    import hashlib

    from ._prototypes import STRUCTURE_TYPES

    if prototypes is None:
        return None
    from ._structure_types import one_prototype

    items = [prototypes] if one_prototype(prototypes) else list(prototypes)
    out = []
    for p in items:
        if isinstance(p, (str, os.PathLike)) and not (
            isinstance(p, str) and p in STRUCTURE_TYPES
        ):
            try:
                p = ("file", hashlib.sha256(Path(p).read_bytes()).hexdigest())
            except OSError:
                pass  # not a file: the build says what is wrong
        out.append(p)
    return out


def _cached_build(cache, args, source, target):
    from ._cache import cache_path, cached

    # n_jobs and verbose do not change the result: keep them out of the key.
    # Collections of crystals enter the key as a digest of their contents,
    # not as tens of thousands of crystals.
    keyed = {k: v for k, v in args.items() if k not in ("n_jobs", "verbose", "source")}
    keyed["prototypes"] = _prototypes_key(keyed["prototypes"])
    source_key = _source_key(source, target)
    path = cache_path(cache, {**keyed, "source_key": source_key})
    return cached(_build, path, **args, source_key=source_key)


def _crystals_digest(crystals, space_group=None) -> str:
    """A digest of crystals' contents (cell, atoms, occupancies, B, name)."""
    import hashlib

    h = hashlib.sha256()
    for c in crystals:
        for array in (c.lattice, c.frac_coords, c.occupancies, c.b_iso):
            h.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        h.update("\0".join(c.species).encode())
        h.update(repr((c.space_group, c.name)).encode())
    if space_group is not None:
        h.update(np.asarray(space_group, dtype=np.int64).tobytes())
    return h.hexdigest()


def _source_key(source, target):
    """What identifies ``source`` in the cache key, cheaply."""
    import joblib

    out = []
    for name, kind, obj, weight in _components(source, target):
        if obj is None:
            key = _named_source_version(name)
        elif kind == "realistic":
            key = joblib.hash(obj)
        elif isinstance(obj, Bunch):
            # the fields the build reads besides the crystals (groups come
            # from prototype and formula)
            key = [
                _crystals_digest(obj.crystals, obj.get("space_group")),
                *(
                    joblib.hash(np.asarray(obj[field]).tolist())
                    for field in ("prototype", "formula", "ids")
                    if obj.get(field) is not None
                ),
            ]
        else:
            from ..crystal import as_crystals

            key = _crystals_digest(as_crystals(obj))
        out.append((name, kind, key, weight))
    return out


def _check_uniform_options(components, space_groups, elements, n_atoms):
    """Refuse ``space_groups``, ``elements`` or ``n_atoms`` where no component
    of ``source`` is ``"uniform"``: only :func:`make_random_crystals` reads
    them, and a dataset of every space group where ``space_groups=[225]`` was
    asked would be a silent wrong answer."""
    if any(kind == "uniform" for _, kind, _, _ in components):
        from ._random import _MAX_ATOMS, _resolve_range

        # n_atoms=10**6 refused now, before any other source is built
        _resolve_range(n_atoms, "n_atoms", high=_MAX_ATOMS)
        return
    try:
        default_atoms = tuple(int(v) for v in n_atoms) == (4, 40)
    except (TypeError, ValueError):
        default_atoms = False
    given = [
        name
        for name, unset in (
            ("space_groups", space_groups is None),
            ("elements", elements is None),
            ("n_atoms", default_atoms),
        )
        if not unset
    ]
    if given:
        names = [name for name, *_ in components]
        raise ValueError(
            f"{', '.join(given)} apply to the random crystals of source='uniform' "
            f"only; the source ({', '.join(names)}) has no uniform part and would "
            "ignore them (add 'uniform' to a mixture, or leave them out)"
        )


def _check_variant_options(n_variants, variants):
    from ..utils._validation import check_int

    check_int(n_variants, "n_variants", minimum=1)
    if variants is None or variants is False:
        return
    if not isinstance(variants, Mapping):
        raise ValueError(
            f"variants must be a dict of make_variants options or False, got "
            f"{variants!r}"
        )
    allowed = {"substitution", "strain", "b_iso", "partial_occupancy", "symprec"}
    unknown = set(variants) - allowed
    if unknown:
        raise ValueError(
            f"variants: unknown options {sorted(unknown)}; known: {sorted(allowed)}"
        )


def _instrument(instrument):
    from ..simulation import InstrumentSampler

    if instrument is None or isinstance(instrument, InstrumentSampler):
        return instrument
    if isinstance(instrument, str):
        if instrument != "measured_like":
            raise ValueError(
                f"instrument must be 'measured_like', an InstrumentSampler or a "
                f"dict of its options, got {instrument!r}"
            )
        from ..simulation import MEASURED_LIKE

        return InstrumentSampler(**MEASURED_LIKE)
    if isinstance(instrument, Mapping):
        try:
            sampler = InstrumentSampler(**instrument)
        except TypeError:
            raise ValueError(
                f"instrument: unknown InstrumentSampler options in {dict(instrument)}"
            ) from None
        sampler.sample(1, random_state=0)  # check the values now
        return sampler
    raise ValueError(
        f"instrument must be an InstrumentSampler or a dict of its options, got "
        f"{instrument!r}"
    )


def _components(source, target):
    """``[(name, kind, object, weight)]`` of a source specification."""
    from ._prior import CrystalPrior

    if target == "structure_type":
        if source not in (None, "structure_types"):
            raise ValueError(
                "target='structure_type' takes its crystals from the structure-type "
                f"library (source='structure_types'), got source={source!r}"
            )
        return [("structure_types", "structure_types", None, 1.0)]
    if source is None:
        source = "uniform"
    if isinstance(source, str):
        if source == "structure_types":
            raise ValueError(
                "source='structure_types' goes with target='structure_type'"
            )
        if source not in SOURCES:
            raise ValueError(
                f"unknown source {source!r}; give one of {SOURCES}, a fitted "
                "CrystalPrior, a structure collection or a {source: weight} mixture"
            )
        kind = "collection" if source in _COLLECTIONS else source
        return [(source, kind, None, 1.0)]
    if isinstance(source, CrystalPrior):
        return [("realistic", "realistic", source, 1.0)]
    if isinstance(source, Bunch):
        if "crystals" not in source:
            raise ValueError("a source Bunch must have 'crystals' (a collection)")
        return [("collection", "collection", source, 1.0)]
    if isinstance(source, Mapping):
        pairs = list(source.items())
    elif (
        isinstance(source, Sequence)
        and source
        and all(
            isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], numbers.Real)
            for p in source
        )
    ):
        pairs = list(source)
    elif isinstance(source, Sequence):
        if len(source) == 0:
            raise ValueError("source is an empty sequence of crystals")
        return [("collection", "collection", list(source), 1.0)]
    else:
        raise ValueError(f"cannot use {source!r} as a source of crystals")
    if not pairs:
        raise ValueError("the source mixture is empty")
    out = []
    for k, (sub, weight) in enumerate(pairs):
        if (isinstance(sub, Mapping) and not isinstance(sub, Bunch)) or (
            isinstance(sub, Sequence)
            and not isinstance(sub, str)
            and sub
            and isinstance(sub[0], tuple)
        ):
            raise ValueError("a source mixture cannot contain another mixture")
        if (
            isinstance(weight, bool)
            or not isinstance(weight, numbers.Real)
            or not math.isfinite(weight)
            or weight < 0
        ):
            raise ValueError(f"source weight of {sub!r} must be >= 0, got {weight!r}")
        [(name, kind, obj, _)] = _components(sub, target)
        if not isinstance(sub, str):
            name = f"{name}-{k}"
        out.append((name, kind, obj, float(weight)))
    total = sum(w for *_, w in out)
    if total <= 0:
        raise ValueError("the source weights are all zero")
    names = [n for n, *_ in out]
    if len(set(names)) < len(names):
        raise ValueError(f"a source appears twice in the mixture: {names}")
    return [(n, k, o, w / total) for n, k, o, w in out]


def _shares(n: int, weights) -> list[int]:
    """Split ``n`` by ``weights`` (largest remainders)."""
    raw = np.asarray(weights) * n
    counts = np.floor(raw).astype(int)
    rest = n - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:rest]] += 1
    return counts.tolist()


@cache_ignoring_verbose
def _default_prior(kind="realistic", verbose=False):
    """The fitted prior of a named source (fitted once per process; the
    loading and fitting, tens of seconds, with progress bars if ``verbose``).
    """
    from ._prior import CrystalPrior

    if kind == "realistic_minerals":
        # the COD's group frequencies: the AMCSD subset's own are far from
        # those of mineral species (32 % cubic, 0.6 % triclinic)
        prior = CrystalPrior(max_atoms=200, space_group_weights="cod")
        source = "amcsd"
    else:
        prior = CrystalPrior(max_atoms=200)
        source = "materials_project"
    collection = _load_named(source, verbose=verbose)
    # the fitted prior keeps verbose=False: sample() gets the caller's own
    return prior.set_params(verbose=verbose).fit(collection).set_params(verbose=False)


def _named_source_version(name):
    """A named source in the cache key: the AMCSD (and the prior fitted on it)
    with larixite's version, so that a new release of its database does not
    reuse patterns of the old."""
    if name not in ("amcsd", "realistic_minerals"):
        return name
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{name}:{version('larixite')}"
    except PackageNotFoundError:
        return name  # load_amcsd will say that larixite is missing


@cache_ignoring_verbose
def _load_named(name, verbose=False):
    """A named collection, loaded once per process (the AMCSD takes a minute:
    a [data] and a [test] section, or a mixture, ask for it again), with a
    progress bar if ``verbose``."""
    import warnings

    from ._amcsd import load_amcsd
    from ._collections import CollectionWarning, load_materials_project

    if name == "materials_project":
        return load_materials_project(verbose=verbose)
    with warnings.catch_warnings():
        # the 19 entries it cannot use are listed in its 'skipped'
        warnings.simplefilter("ignore", CollectionWarning)
        return load_amcsd(verbose=verbose)


def _as_collection(obj, name="materials_project", verbose=False):
    """A Bunch with crystals, ids, space groups and prototypes (loading a
    named one, or describing crystals, with a progress bar if ``verbose``)."""
    import warnings

    from ._collections import load_structures

    if obj is None:
        return _load_named(name, verbose=verbose)
    if isinstance(obj, Bunch):
        missing = {"crystals", "ids", "space_group"} - set(obj)
        if missing:
            raise ValueError(
                f"a source collection needs {sorted(missing)}: load it with "
                "load_structures / read_cif_folder"
            )
        return obj
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unusable crystal is an error here
        try:
            return load_structures(obj, verbose=verbose)
        except Warning as exc:
            raise ValueError(f"source: {exc}") from None


def _group_keys(crystals, how, name):
    """One key per crystal for grouping random crystals."""
    if how in ("auto", "crystal"):
        return [f"{name}:{i}" for i in range(len(crystals))]
    if how == "formula":
        return [c.formula for c in crystals]
    return [_prototype_or_own(c) for c in crystals]


def _prototype_or_own(crystal):
    from ..crystal import describe_structure

    try:
        return describe_structure(crystal).prototype
    except ValueError:
        return f"unknown:{crystal.name}"


def _collection_part(
    coll, name, n, n_variants, variants, groups, seed, n_jobs, verbose
):
    from ._variants import make_variants

    rng = np.random.default_rng(seed)
    N = len(coll.crystals)
    if N == 0:
        raise ValueError(f"source {name!r} has no structures")
    n_base = N if n is None else -(-n // n_variants)
    idx = np.resize(rng.permutation(N), n_base)
    base = [coll.crystals[i] for i in idx]
    if variants is False:
        crystals = [c for c in base for _ in range(n_variants)]
    elif variants is None and n_variants == 1:
        crystals = base
    else:
        crystals, _ = make_variants(
            base,
            n_variants,
            **(variants or {}),
            random_state=int(rng.integers(2**63)),
            n_jobs=n_jobs,
            verbose=verbose,
        )
    which = np.repeat(idx, n_variants)
    if n is not None:
        crystals, which = crystals[:n], which[:n]
    if groups == "crystal":
        keys = [f"{name}:{i}" for i in which]
    elif groups == "formula":
        formula = coll.get("formula")
        keys = [
            str(formula[i]) if formula is not None else coll.crystals[i].formula
            for i in which
        ]
    elif "prototype" in coll:
        keys = [str(coll.prototype[i]) for i in which]
    else:
        proto = {i: _prototype_or_own(coll.crystals[i]) for i in set(which.tolist())}
        keys = [proto[i] for i in which]
    space_group = np.asarray(coll.space_group)[which].astype(int)
    ids = [str(coll.ids[i]) for i in which]
    return list(crystals), space_group, keys, ids


def _symmetry_labels(target, space_group):
    """``(y, target_names)`` of a symmetry target for space-group numbers."""
    space_group = np.asarray(space_group, dtype=int)
    if target == "space_group":
        return space_group, np.arange(1, 231)
    if target == "crystal_system":
        return to_crystal_system(space_group), np.array(CRYSTAL_SYSTEMS)
    if target == "bravais_lattice":
        return to_bravais_lattice(space_group), np.array(BRAVAIS_LATTICES)
    if target == "point_group":
        return to_point_group(space_group), np.array(POINT_GROUPS)
    raise ValueError(f"{target!r} is not a symmetry target")


def _build(
    n_crystals,
    target,
    space_groups,
    elements,
    n_atoms,
    prototypes,
    n_variants,
    simulator,
    vacancy_fraction,
    displacement,
    random_state,
    n_jobs,
    verbose,
    source=None,
    variants=None,
    instrument=None,
    groups="auto",
    source_key=None,
):
    # source_key: the cache's digest of ``source`` (see make_pattern_dataset)
    from ._collections import _group_ids
    from ._defects import perturb_crystals
    from ._random import _spawn, make_random_crystals

    # independent streams for generation, defects and instrument settings
    seed_gen, seed_defects, seed_instrument = (
        int(s.generate_state(1)[0]) for s in _spawn(random_state, 3)
    )
    components = _components(source, target)
    counts = (
        [None]
        if n_crystals is None
        else _shares(n_crystals, [w for *_, w in components])
    )
    # one source keeps the generation seed of datasets made before mixtures
    seeds = (
        [seed_gen]
        if len(components) == 1
        else [int(s.generate_state(1)[0]) for s in _spawn(seed_gen, len(components))]
    )
    crystals, space_group, keys, ids, names = [], [], [], [], []
    y = None
    for (name, kind, obj, _), n, seed in zip(components, counts, seeds):
        if n == 0:
            continue
        if kind == "structure_types":
            from ._prototypes import STRUCTURE_TYPES
            from ._structure_types import make_structure_type_crystals, one_prototype

            n_types = (
                len(STRUCTURE_TYPES)
                if prototypes is None
                else (1 if one_prototype(prototypes) else len(prototypes))
            )
            part, y, compound = make_structure_type_crystals(
                prototypes,  # an empty list: its error, not a division by 0
                max(1, n // max(n_types, 1)),
                n_variants=n_variants,
                random_state=seed,
                n_jobs=n_jobs,
                verbose=verbose,
            )
            part_keys = (
                [f"{name}:{g}" for g in compound]
                if groups in ("auto", "crystal")
                else _group_keys(part, groups, name)
            )
            part_ids = [c.name for c in part]
            part_sg = [c.space_group for c in part]
        elif kind == "collection":
            part, part_sg, part_keys, part_ids = _collection_part(
                _as_collection(obj, name, verbose=verbose),
                name,
                n,
                n_variants,
                variants,
                groups,
                seed,
                n_jobs,
                verbose,
            )
        else:
            if kind == "uniform":
                part = make_random_crystals(
                    n,
                    space_groups=space_groups,
                    elements=elements,
                    n_atoms=n_atoms,
                    random_state=seed,
                    n_jobs=n_jobs,
                    verbose=verbose,
                )
            else:
                prior = _default_prior(kind, verbose=verbose) if obj is None else obj
                # this call's n_jobs and progress bar, not the prior's own
                prior = _with_params(
                    prior,
                    n_jobs=prior.n_jobs if n_jobs is None else n_jobs,
                    verbose=verbose,
                )
                part = prior.sample(n, random_state=seed)
            part_sg = [c.space_group for c in part]
            part_keys = _group_keys(part, groups, name)
            part_ids = [c.name for c in part]
        crystals += part
        space_group += list(part_sg)
        keys += part_keys
        ids += part_ids
        names += [name] * len(part)
    if vacancy_fraction or displacement:
        crystals = perturb_crystals(
            crystals,
            vacancy_fraction=vacancy_fraction,
            displacement=displacement,
            random_state=seed_defects,
        )
    space_group = np.array(space_group, dtype=int)
    if target == "structure_type":
        target_names = np.array(list(dict.fromkeys(y.tolist())))
    else:
        y, target_names = _symmetry_labels(target, space_group)
    sim = clone(simulator).set_params(verbose=verbose)
    if n_jobs is not None:
        sim.set_params(n_jobs=n_jobs)
    settings = None
    if instrument is None:
        X = sim.transform(crystals)
    else:
        settings = instrument.sample(len(crystals), random_state=seed_instrument)
        X = sim.transform_varied(crystals, settings)
    origin = ", ".join(dict.fromkeys(names))
    return Bunch(
        X=X,
        y=np.asarray(y),
        groups=_group_ids(keys),
        crystals=crystals,
        space_group=space_group,
        source=np.array(names, dtype=object),
        ids=np.array(ids, dtype=object),
        settings=settings,
        two_theta=simulator.two_theta,
        target_names=target_names,
        feature_names=simulator.get_feature_names_out(),
        DESCR=(
            f"{len(crystals)} simulated powder patterns ({simulator.radiation}, "
            f"{X.shape[1]} points), target {target!r}; crystals from {origin}"
            + (
                f", {n_variants} variants of each real structure"
                if n_variants > 1 and _takes_variants(components)
                else ""
            )
            + ("; per-pattern instrument settings" if instrument is not None else "")
            + (
                f"; vacancies {vacancy_fraction}, displacements {displacement} Å"
                if vacancy_fraction or displacement
                else ""
            )
        ),
    )


def _with_params(estimator, **params):
    """A shallow copy of a fitted estimator with some parameters changed."""
    import copy

    new = copy.copy(estimator)
    for key, value in params.items():
        setattr(new, key, value)
    return new
