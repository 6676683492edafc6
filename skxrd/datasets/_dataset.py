"""Pattern datasets (X, y, groups, crystals) for the classification targets."""

from __future__ import annotations

import numbers
import os

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

__all__ = ["TARGETS", "make_pattern_dataset"]

#: The labels :func:`make_pattern_dataset` can return as ``y``.
TARGETS = (
    "space_group",
    "crystal_system",
    "bravais_lattice",
    "point_group",
    "structure_type",
)


def make_pattern_dataset(
    n_crystals: int = 1000,
    target: str = "space_group",
    *,
    space_groups=None,
    elements=None,
    n_atoms=(4, 40),
    prototypes=None,
    n_variants: int = 1,
    simulator: PowderSimulator | None = None,
    vacancy_fraction: float = 0.0,
    displacement: float = 0.0,
    cache=None,
    random_state=None,
    n_jobs: int | None = None,
    verbose: bool = True,
) -> Bunch:
    """Synthetic powder patterns with labels, ready for scikit-learn.

    Random crystals (:func:`make_random_crystals`) for the symmetry targets, or
    compounds of structure types (:func:`make_structure_type_crystals`) for
    ``target="structure_type"``; optional defects (:func:`perturb_crystals`);
    patterns from ``simulator``.

    Parameters
    ----------
    n_crystals : int, default=1000
        Number of crystals. For ``"structure_type"``, the number of compounds
        is ``n_crystals // n_types`` per type (at least one).
    target : {"space_group", "crystal_system", "bravais_lattice", "point_group", \
"structure_type"}, default="space_group"
    space_groups, elements, n_atoms
        Passed to :func:`make_random_crystals` (symmetry targets).
    prototypes : optional
        Passed to :func:`make_structure_type_crystals` (``"structure_type"``).
    n_variants : int, default=1
        Strained variants per compound (``"structure_type"``).
    simulator : PowderSimulator, optional
        The simulator; by default ``PowderSimulator()`` (Cu Kα, 5–90° 2θ).
    vacancy_fraction, displacement : float, default=0.0
        Defects applied to every crystal (:func:`perturb_crystals`).
    cache : str or path-like, optional
        A folder for joblib's on-disk cache: the same call returns the stored
        dataset without recomputing it.
    random_state : int, optional
        Seed; the same seed gives the same dataset for any ``n_jobs``.
    n_jobs : int, optional
        Parallel workers for generation and simulation.
    verbose : bool, default=True
        Progress bars.

    Returns
    -------
    Bunch
        ``X`` (n, n_points) float32 patterns; ``y`` labels of the target
        (space-group numbers, or names); ``groups``, an id per compound for
        group-aware splits (every random crystal is its own compound);
        ``crystals``; ``space_group``; ``two_theta`` (the grid);
        ``target_names``, all classes of the target; ``feature_names``;
        ``DESCR``.

    Examples
    --------
    >>> from skxrd.datasets import make_pattern_dataset
    >>> data = make_pattern_dataset(20, target="crystal_system", random_state=0,
    ...                             verbose=False)
    >>> data.X.shape, data.y[:3].tolist(), len(data.target_names)
    ((20, 4250), ['trigonal', 'orthorhombic', 'tetragonal'], 7)
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    if (
        isinstance(n_crystals, bool)
        or not isinstance(n_crystals, numbers.Integral)
        or n_crystals < 1
    ):
        raise ValueError(f"n_crystals must be a positive integer, got {n_crystals!r}")
    simulator = PowderSimulator() if simulator is None else simulator
    if not isinstance(simulator, PowderSimulator):
        raise ValueError(f"simulator must be a PowderSimulator, got {simulator!r}")
    args = dict(
        n_crystals=int(n_crystals),
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
    )
    if cache is None:
        return _build(**args)
    from joblib import Memory

    # n_jobs and verbose do not change the result: keep them out of the key
    location = os.path.expanduser(cache) if isinstance(cache, str) else cache
    build = Memory(location, verbose=0).cache(_build, ignore=["n_jobs", "verbose"])
    return build(**args)


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
):
    from ._defects import perturb_crystals
    from ._random import _spawn, make_random_crystals
    from ._structure_types import make_structure_type_crystals

    # independent streams for generation, defects and nothing else
    seed_gen, seed_defects = (
        int(s.generate_state(1)[0]) for s in _spawn(random_state, 2)
    )
    if target == "structure_type":
        from ._prototypes import STRUCTURE_TYPES

        n_types = (
            len(STRUCTURE_TYPES)
            if prototypes is None
            else (1 if isinstance(prototypes, str) else len(prototypes))
        )
        crystals, y, groups = make_structure_type_crystals(
            prototypes,
            max(1, n_crystals // n_types),
            n_variants=n_variants,
            random_state=seed_gen,
            n_jobs=n_jobs,
            verbose=verbose,
        )
        target_names = np.array(list(dict.fromkeys(y.tolist())))
    else:
        crystals = make_random_crystals(
            n_crystals,
            space_groups=space_groups,
            elements=elements,
            n_atoms=n_atoms,
            random_state=seed_gen,
            n_jobs=n_jobs,
            verbose=verbose,
        )
        groups = np.arange(len(crystals))
    if vacancy_fraction or displacement:
        crystals = perturb_crystals(
            crystals,
            vacancy_fraction=vacancy_fraction,
            displacement=displacement,
            random_state=seed_defects,
        )
    space_group = np.array([c.space_group for c in crystals])
    if target != "structure_type":
        y, target_names = _symmetry_labels(target, space_group)
    sim = clone(simulator).set_params(verbose=verbose)
    if n_jobs is not None:
        sim.set_params(n_jobs=n_jobs)
    X = sim.transform(crystals)
    return Bunch(
        X=X,
        y=np.asarray(y),
        groups=np.asarray(groups),
        crystals=crystals,
        space_group=space_group,
        two_theta=simulator.two_theta,
        target_names=target_names,
        feature_names=simulator.get_feature_names_out(),
        DESCR=(
            f"{len(crystals)} synthetic powder patterns ({simulator.radiation}, "
            f"{X.shape[1]} points), target {target!r}; crystals from "
            + (
                "structure-type substitution"
                if target == "structure_type"
                else "random Wyckoff-site generation"
            )
            + (
                f"; vacancies {vacancy_fraction}, displacements {displacement} Å"
                if vacancy_fraction or displacement
                else ""
            )
        ),
    )
