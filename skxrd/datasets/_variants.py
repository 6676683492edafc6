"""Many physically plausible variants of each real structure."""

from __future__ import annotations

import warnings

import numpy as np
from tqdm.auto import tqdm

from ..crystal import Crystal, as_crystals, parse_species
from ..crystal._prototype import _ordered_cell
from ..utils._parallel import parallel_map
from ._random import _spawn, _volume_scale, covalent_radius
from ._structure_types import similar_elements

__all__ = ["make_variants"]


def _symmetry(crystal: Crystal, symprec: float):
    """Cartesian point-group rotations and, for an ordered crystal, the orbit of
    each atom (None when sites are shared)."""
    import spglib

    lattice, frac, numbers, _ = _ordered_cell(crystal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data = spglib.get_symmetry_dataset((lattice, frac, numbers), symprec=symprec)
        if data is None:
            return np.eye(3)[None], None
        # the rotations of the standardized cell: those of the input cell miss
        # the ones its own lattice lacks (a cubic crystal given as a 1x2x1
        # supercell keeps only the tetragonal ones, and a strain averaged over
        # them made it tetragonal). Read from spglib's tables for the found
        # setting (hall_number), not by a second search on the standardized
        # cell: that doubled make_variants' time, and its idealized positions
        # can show a higher group than the crystal's (AgGeO3 at 0.1: 55, not 18)
        std_rotations = spglib.get_symmetry_from_database(data.hall_number)["rotations"]
    S = np.asarray(data.std_lattice).T
    # fractional column vectors x, Cartesian r = S x: R = S W S^-1, in the
    # standardized frame; Q turns the input's Cartesian frame into it
    Q = np.asarray(data.std_rotation_matrix)
    rot = np.einsum(
        "ji,jk,nkl,lm,mo->nio",
        Q,
        S,
        np.asarray(std_rotations, dtype=float),
        np.linalg.inv(S),
        Q,
    )
    ordered = len(frac) == crystal.n_atoms
    # orbits under the whole group, also across the cells of a supercell
    return rot, (np.asarray(data.crystallographic_orbits) if ordered else None)


def _symmetric_strain(rng, rotations, strain):
    """A random strain tensor averaged over the point group: it keeps the
    symmetry of any cell (cubic cells only swell, hexagonal ones keep a = b)."""
    eps = rng.normal(0.0, strain, (3, 3))
    eps = 0.5 * (eps + eps.T)
    return np.einsum("nij,jk,nlk->il", rotations, eps, rotations) / len(rotations)


def _variants_of(
    crystal: Crystal,
    seed,
    n_variants,
    substitution,
    strain,
    b_iso,
    partial_occupancy,
    symprec,
    index,
):
    rng = np.random.default_rng(seed)
    rotations, orbits = _symmetry(crystal, symprec)
    elements = list(dict.fromkeys(crystal.elements))
    r_old = np.array([covalent_radius(e) for e in crystal.elements])
    occ0 = np.asarray(crystal.occupancies)
    out = []
    for v in range(n_variants):
        # element substitution within chemical families; distinct stay distinct
        mapping = {e: e for e in elements}
        for e in rng.permutation(elements):
            if rng.random() < substitution:
                options = [x for x in similar_elements(e) if x not in mapping.values()]
                if options:
                    mapping[e] = str(rng.choice(options))
        new_elements = [mapping[e] for e in crystal.elements]
        # an atom kept keeps its species (an ion's charge, its form factor); a
        # substituted one becomes the neutral new element
        species = [
            sp if new == old else new
            for sp, old, new in zip(crystal.species, crystal.elements, new_elements)
        ]
        r_new = np.array([covalent_radius(e) for e in new_elements])
        scale = _volume_scale(r_old, r_new, occ0)
        eps = _symmetric_strain(rng, rotations, strain) if strain > 0 else 0.0
        lattice = scale * np.asarray(crystal.lattice) @ (np.eye(3) + eps)
        frac = np.asarray(crystal.frac_coords)
        occ = occ0.copy()
        if b_iso is None:
            b = np.asarray(crystal.b_iso)
        else:
            per_element = {e: rng.uniform(*b_iso) for e in dict.fromkeys(new_elements)}
            b = np.array([per_element[e] for e in new_elements])
        if orbits is not None and rng.random() < partial_occupancy:
            # one orbit partly vacant, or shared with an element of its family.
            # Fractions of the source's occupancy: a site the source has half
            # empty (a vacancy, one of a split pair) stays at most half full
            # (set to 0.6-0.95, or 1 - x + x, it was filled)
            rep = int(rng.choice(np.unique(orbits)))
            members = np.flatnonzero(orbits == rep)
            element = new_elements[rep]
            partners = [x for x in similar_elements(element) if x != element]
            if partners and rng.random() < 0.5:
                x = float(rng.uniform(0.1, 0.5))
                partner = str(rng.choice(partners))
                occ[members] = occ0[members] * (1.0 - x)
                species = species + [partner] * len(members)
                frac = np.concatenate([frac, frac[members]])
                occ = np.concatenate([occ, occ0[members] * x])
                b = np.concatenate([b, b[members]])
            else:
                occ[members] = occ0[members] * float(rng.uniform(0.6, 0.95))
        name = crystal.name or f"crystal-{index}"
        out.append(
            Crystal(
                lattice,
                species,
                frac,
                occupancies=occ,
                b_iso=b,
                space_group=crystal.space_group,
                name=f"{name}/variant-{v}",
            )
        )
    return out


def _chunk(jobs):
    return [_variants_of(*j) for j in jobs]


def make_variants(
    crystals,
    n_variants: int = 4,
    *,
    substitution: float = 0.3,
    strain: float = 0.01,
    b_iso=(0.2, 1.5),
    partial_occupancy: float = 0.2,
    symprec: float = 0.1,
    random_state=None,
    n_jobs: int | None = None,
    verbose: bool = False,
):
    """Distinct, physically plausible variants of each crystal.

    Each variant of a crystal, independently:

    - replaces each element, with probability ``substitution``, by another of
      its chemical family (:data:`SUBSTITUTION_FAMILIES`; distinct elements
      stay distinct) and rescales the cell by the change of covalent volume;
    - strains the cell by a random strain tensor (entries of standard deviation
      ``strain``) averaged over the crystal's point group, so that it keeps its
      symmetry exactly (a cubic cell only swells);
    - gives each element an isotropic displacement parameter B uniform in
      ``b_iso`` (Å²);
    - with probability ``partial_occupancy``, makes one orbit of an ordered
      crystal partly vacant (0.6–0.95 of its occupancy) or shares it with an
      element of its family (10–50 % of its occupancy): the occupancies of a
      site never add up to more than in the source.

    Crystallite size, instrument broadening, texture and zero shift vary per
    pattern: see :class:`~skxrd.simulation.InstrumentSampler`. The space-group
    label of the source is kept.

    Parameters
    ----------
    crystals : sequence of Crystal (or pymatgen Structure, ASE Atoms, CIF paths)
    n_variants : int, default=4
        Variants per crystal.
    substitution : float, default=0.3
        Probability that an element is replaced.
    strain : float, default=0.01
        Standard deviation of the strain-tensor entries (1 %).
    b_iso : (float, float) or None, default=(0.2, 1.5)
        Range of B (Å²); None keeps the crystals' own.
    partial_occupancy : float, default=0.2
        Probability of a partly occupied orbit.
    symprec : float, default=0.1
        spglib tolerance (Å) for the symmetry that strain and orbits respect.
    random_state : int, numpy Generator or RandomState, optional
        Seed; the same seed gives the same variants for any ``n_jobs``.
    n_jobs : int, optional
        Parallel workers.
    verbose : bool, default=False
        Progress bar.

    Returns
    -------
    variants : list of Crystal
        ``n_variants`` per crystal, in order.
    source : ndarray of int
        Index of each variant's crystal (use it, or the crystals' prototype
        groups, for group-aware splits).

    Examples
    --------
    >>> from skxrd.datasets import load_example_crystal, make_variants
    >>> nacl = load_example_crystal("NaCl")
    >>> variants, source = make_variants([nacl], 3, random_state=0)
    >>> source.tolist(), [v.get_space_group(symprec=1e-3) for v in variants]
    ([0, 0, 0], [225, 225, 225])
    >>> len({round(v.lattice_parameters[0], 3) for v in variants})
    3
    """
    from ..utils._validation import check_int, check_n_jobs, check_range, check_real

    n_variants = check_int(n_variants, "n_variants", minimum=1)
    check_n_jobs(n_jobs)
    substitution = check_real(substitution, "substitution", minimum=0.0, maximum=1.0)
    strain = check_real(strain, "strain", minimum=0.0, maximum=0.2)
    if b_iso is not None:
        b_iso = check_range(b_iso, "b_iso", maximum=20.0)
    partial_occupancy = check_real(
        partial_occupancy, "partial_occupancy", minimum=0.0, maximum=1.0
    )
    symprec = check_real(symprec, "symprec", minimum=0.0, include_min=False)
    crystals = as_crystals(crystals)
    for c in crystals:
        for s in c.species:
            parse_species(s)
    seeds = _spawn(random_state, len(crystals))
    jobs = [
        (
            c,
            seeds[i],
            n_variants,
            substitution,
            strain,
            b_iso,
            partial_occupancy,
            symprec,
            i,
        )
        for i, c in enumerate(crystals)
    ]
    if n_jobs in (None, 1) or len(jobs) < 2:
        parts = [
            _variants_of(*j)
            for j in tqdm(jobs, disable=not verbose, desc="variants", unit="crystal")
        ]
    else:
        size = max(1, min(256, -(-len(jobs) // 8)))
        chunks = [(jobs[i : i + size],) for i in range(0, len(jobs), size)]
        parts = [
            v
            for part in parallel_map(
                _chunk, chunks, n_jobs=n_jobs, verbose=verbose, desc="variants"
            )
            for v in part
        ]
    variants = [v for part in parts for v in part]
    source = np.repeat(np.arange(len(crystals)), n_variants)
    return variants, source
