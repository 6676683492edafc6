"""Many compounds per structure type: substitution, strain and coordinate jitter."""

from __future__ import annotations

import numbers
import os
import warnings
from functools import cache

import numpy as np
from tqdm.auto import tqdm

from ..crystal import (
    Crystal,
    default_setting,
    lattice_from_parameters,
    parse_species,
    to_crystal_system,
    wyckoff_sites,
)
from ..utils._parallel import parallel_map
from ._random import _spawn, _volume_scale, covalent_radius

__all__ = ["SUBSTITUTION_FAMILIES", "make_structure_type_crystals", "similar_elements"]

# Elements that replace each other in the same crystal sites: periodic-table
# groups, the lanthanides, 3d metals, and common cation families.
#: Families of elements that replace each other in the same crystal sites
#: (periodic-table groups, lanthanides, 3d metals, common cation families).
SUBSTITUTION_FAMILIES: tuple[tuple[str, ...], ...] = tuple(
    tuple(f.split())
    for f in (
        "Li Na K Rb Cs",
        "Be Mg Ca Sr Ba",
        "Mg Mn Fe Co Ni Cu Zn Cd",
        "Sc Y La Ce Pr Nd Sm Eu Gd Tb Dy Ho Er Tm Yb Lu",
        "Ti Zr Hf",
        "V Nb Ta",
        "Cr Mo W",
        "Mn Re",
        "Fe Ru Os",
        "Co Rh Ir",
        "Ni Pd Pt",
        "Cu Ag Au",
        "Zn Cd Hg",
        "Ti V Cr Mn Fe Co Ni",
        "Al Ga In Sc Cr Fe",
        "B Al Ga In Tl",
        "C Si Ge Sn Pb",
        "Si Ge Ti Sn Zr",
        "N P As Sb Bi",
        "O S Se Te",
        "F Cl Br I",
    )
)


@cache
def similar_elements(element: str) -> tuple[str, ...]:
    """Elements that can take the place of ``element`` (itself included).

    Examples
    --------
    >>> similar_elements("Cl")
    ('Br', 'Cl', 'F', 'I')
    """
    out = {element}
    for family in SUBSTITUTION_FAMILIES:
        if element in family:
            out.update(family)
    return tuple(sorted(out))


def _independent_parameters(crystal_system: str, params):
    """Strain the lattice parameters that the crystal system leaves free."""
    a, b, c, al, be, ga = params
    return {
        "cubic": lambda s, t: (a * s[0], a * s[0], a * s[0], al, be, ga),
        "tetragonal": lambda s, t: (a * s[0], a * s[0], c * s[2], al, be, ga),
        "hexagonal": lambda s, t: (a * s[0], a * s[0], c * s[2], al, be, ga),
        "trigonal": lambda s, t: (a * s[0], b * s[0], c * s[2], al, be, ga),
        "rhombohedral": lambda s, t: (
            a * s[0],
            a * s[0],
            a * s[0],
            al + t[0],
            al + t[0],
            al + t[0],
        ),
        "orthorhombic": lambda s, t: (a * s[0], b * s[1], c * s[2], al, be, ga),
        "monoclinic": lambda s, t: (
            a * s[0],
            b * s[1],
            c * s[2],
            al if abs(al - 90) < 1e-6 else al + t[0],
            be if abs(be - 90) < 1e-6 else be + t[1],
            ga if abs(ga - 90) < 1e-6 else ga + t[2],
        ),
        "triclinic": lambda s, t: (
            a * s[0],
            b * s[1],
            c * s[2],
            al + t[0],
            be + t[1],
            ga + t[2],
        ),
    }[crystal_system]


def _min_distance_ratio(crystal: Crystal) -> float:
    """Smallest interatomic distance over the sum of covalent radii."""
    frac = crystal.frac_coords
    d = frac[:, None, :] - frac[None, :, :]
    d -= np.rint(d)
    images = np.array(
        [(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)],
        dtype=float,
    )
    cart = (d[:, :, None, :] + images) @ crystal.lattice
    dist = np.sqrt(np.einsum("ijkl,ijkl->ijk", cart, cart))
    n = len(frac)
    dist[np.arange(n), np.arange(n), 13] = np.inf
    dist = dist.min(-1)
    # partially occupied atoms whose occupancies add up to <= 1 are alternatives
    # on one site (disorder), never present together
    occ = crystal.occupancies
    dist[occ[:, None] + occ[None, :] <= 1.0 + 1e-6] = np.inf
    r = np.array([covalent_radius(e) for e in crystal.elements])
    return float((dist / (r[:, None] + r[None, :])).min())


def _standard_cell(crystal: Crystal) -> Crystal:
    """The crystal in spglib's standardized conventional cell (symprec 1e-3
    Å), each site with its own make-up (species, occupancy, B)."""
    import spglib

    positions, numbers, sites = crystal._spglib_sites()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data = spglib.get_symmetry_dataset(
            (np.array(crystal.lattice), positions, numbers), symprec=1e-3
        )
    if data is None:
        raise ValueError(f"{crystal.name!r}: spglib finds no symmetry")
    # every site of a type number has the same make-up
    make_up = {n: members for n, members in zip(numbers, sites)}
    species, frac, occ, b = [], [], [], []
    for position, number in zip(data.std_positions, data.std_types):
        for j in make_up[int(number)]:
            species.append(crystal.species[j])
            frac.append(position)
            occ.append(crystal.occupancies[j])
            b.append(crystal.b_iso[j])
    return Crystal(
        np.asarray(data.std_lattice),
        species,
        np.mod(frac, 1.0),
        occupancies=occ,
        b_iso=b,
        space_group=crystal.space_group,
        name=crystal.name,
    )


def _lattice_system(space_group: int, lattice_parameters) -> str:
    """The crystal system whose free lattice parameters the strain varies,
    ``"rhombohedral"`` for a cell with rhombohedral axes."""
    system = str(to_crystal_system(space_group))
    a, b, c, al, be, ga = lattice_parameters
    if (
        np.allclose([a, b], c, rtol=1e-6)
        and np.allclose([al, be], ga)
        and abs(ga - 90) > 1e-6
    ):
        system = "rhombohedral"  # rhombohedral axes: a = b = c, α free
    return system


class _Prototype:
    """A structure type to vary: Wyckoff-based (built-in) or a full crystal."""

    def __init__(self, obj, index, strain=0.0, angle_jitter=0.0):
        from ._prototypes import StructureType, load_structure_type

        if isinstance(obj, str) and not os.path.exists(obj) and "\n" not in obj:
            if obj.lower().endswith(".cif") or os.sep in obj:
                # a CIF path that is not there: "unknown structure type" would
                # send the user to the list of type names
                raise ValueError(
                    f"prototype {obj!r}: no such CIF file (a prototype is a "
                    "structure type name, a CIF path or text, or a crystal)"
                )
            obj = load_structure_type(obj)
        self.wyckoff = obj if isinstance(obj, StructureType) else None
        if self.wyckoff is not None:
            self.name = obj.name
            self.crystal = obj.crystal()
            self.space_group = obj.space_group
        else:
            from ..crystal import as_crystal

            crystal = as_crystal(obj, index)
            self.crystal = crystal
            # the symmetry the atoms have (a P1 CIF of the full cell says 1)
            self.space_group = crystal.get_space_group()
            if isinstance(obj, os.PathLike) or isinstance(obj, str) and "\n" not in obj:
                # a CIF file: its stem, as the user named it; the data_ block
                # is often the formula (pymatgen's), the same for polymorphs
                self.name = os.path.splitext(os.path.basename(os.fspath(obj)))[0]
            else:
                self.name = crystal.name or f"prototype-{index}"
        self.space_group = int(str(self.space_group).split(":")[0])
        self.system = _lattice_system(self.space_group, self.crystal.lattice_parameters)
        if self.wyckoff is None and not self._strain_keeps_symmetry(
            strain, angle_jitter
        ):
            # a cell in another setting (a primitive fcc cell, as the Materials
            # Project's, read as rhombohedral axes): a strain of its lattice
            # parameters breaks the symmetry, and every compound failed after
            # max_attempts with advice about strain and distances. Its standard
            # conventional cell is strained as the library's types are.
            self.crystal = _standard_cell(self.crystal)
            self.system = _lattice_system(
                self.space_group, self.crystal.lattice_parameters
            )
        self.elements = list(dict.fromkeys(self.crystal.elements))

    def _strain_keeps_symmetry(self, strain, angle_jitter) -> bool:
        """Whether a typical strain of the free lattice parameters, of the
        size asked, keeps the crystal's group (no random draw: the seeds'
        compounds stay as they were)."""
        params = _independent_parameters(self.system, self.crystal.lattice_parameters)(
            1.0 + strain * np.array([1.0, -0.8, 0.6]),
            angle_jitter * np.array([1.0, -0.8, 0.6]),
        )
        try:
            probe = self.crystal.replace(lattice=lattice_from_parameters(*params))
            return probe.get_space_group(symprec=1e-3) == self.space_group
        except ValueError:
            return False

    def variant(self, rng, mapping, strain, jitter, angle_jitter):
        """One compound: substituted elements, strained cell, jittered coordinates."""
        old = self.crystal
        r_old = np.array([covalent_radius(e) for e in old.elements])
        r_new = np.array([covalent_radius(mapping[e]) for e in old.elements])
        # covalent volumes weighted by occupancy, as make_variants weighs them:
        # the two halves of a shared site (inverse spinel's Mg/Fe on 16d)
        # counted as two full atoms, and the cell came out up to 7 % off
        scale = _volume_scale(r_old, r_new, old.occupancies)
        stretch = scale * (1.0 + rng.normal(0.0, strain, 3))
        turn = rng.normal(0.0, angle_jitter, 3)
        params = _independent_parameters(self.system, old.lattice_parameters)(
            stretch, turn
        )
        if self.wyckoff is None:
            # an atom kept keeps its species (an ion's charge, its form
            # factor); a substituted one becomes the neutral new element
            species = [
                sp if mapping[e] == e else mapping[e]
                for sp, e in zip(old.species, old.elements)
            ]
            return Crystal(
                lattice_from_parameters(*params),
                species,
                old.frac_coords,
                occupancies=old.occupancies,
                b_iso=old.b_iso,
                space_group=old.space_group,
                name=self.name,
            )
        sites = []
        for site in self.wyckoff.sites:
            site = (
                dict(site)
                if isinstance(site, dict)
                else dict(zip(("species", "wyckoff", "xyz"), site))
            )
            # the mapping is by element: an ionic site ("Na+") is substituted
            # too, or kept with its charge
            element = parse_species(site["species"])[0]
            if mapping.get(element, element) != element:
                site["species"] = mapping[element]
            if "xyz" in site and jitter > 0:
                # jitter the free coordinates; the others become from_wyckoff's
                # placeholder 0 (it refuses a point off the site)
                free = _site_free(self.wyckoff.space_group, str(site["wyckoff"]))
                site["xyz"] = np.where(
                    free,
                    np.asarray(site["xyz"], float) + rng.normal(0, jitter, 3),
                    0.0,
                )
            sites.append(site)
        names = ("a", "b", "c", "alpha", "beta", "gamma")
        return Crystal.from_wyckoff(
            self.wyckoff.space_group, sites, **dict(zip(names, params)), name=self.name
        )


@cache
def _site_free(space_group, wyckoff: str) -> tuple[bool, bool, bool]:
    """Which of x, y, z are free on a Wyckoff position (label or letter)."""
    table = wyckoff_sites(default_setting(space_group))
    site = table.get(wyckoff) or {s.letter: s for s in table.values()}[wyckoff]
    return site.free


def _compound(
    proto: _Prototype,
    seed,
    n_variants,
    substitute,
    strain,
    jitter,
    angle_jitter,
    tolerance,
    max_attempts,
    index,
):
    rng = np.random.default_rng(seed)
    for _ in range(max_attempts):
        if substitute:
            new = [str(rng.choice(similar_elements(e))) for e in proto.elements]
            if len(set(new)) < len(new):  # distinct sites must stay distinct
                continue
            mapping = dict(zip(proto.elements, new))
        else:
            mapping = {e: e for e in proto.elements}
        variants = []
        for _v in range(n_variants):
            try:
                crystal = proto.variant(rng, mapping, strain, jitter, angle_jitter)
            except ValueError:  # jitter put atoms onto a special position
                break
            if _min_distance_ratio(crystal) < tolerance:
                break
            if crystal.get_space_group(symprec=1e-3) != proto.space_group:
                break
            variants.append(
                crystal.replace(
                    space_group=proto.space_group,
                    name=f"{proto.name}/{crystal.formula}/{index}-{len(variants)}",
                )
            )
        if len(variants) == n_variants:
            return variants
    raise RuntimeError(
        f"structure type {proto.name!r}: no valid compound after {max_attempts} "
        "attempts; lower strain/jitter or distance_tolerance"
    )


def one_prototype(prototypes) -> bool:
    """Whether ``prototypes`` is one structure type (a name, a CIF path, a
    Crystal, a StructureType) rather than a sequence of them."""
    from ._prototypes import StructureType

    return isinstance(prototypes, (str, os.PathLike, Crystal, StructureType))


def make_structure_type_crystals(
    prototypes=None,
    n_per_type: int = 10,
    *,
    n_variants: int = 1,
    substitute: bool = True,
    strain: float = 0.02,
    jitter: float = 0.01,
    angle_jitter: float = 0.5,
    distance_tolerance: float = 0.7,
    max_attempts: int = 100,
    random_state=None,
    n_jobs: int | None = None,
    verbose: bool = False,
):
    """Many compounds of each structure type, as in structure-type classification.

    Each compound replaces every element of the prototype by a chemically similar
    one (:data:`SUBSTITUTION_FAMILIES`; distinct elements stay distinct), scales
    the cell with the covalent volumes, and each of its variants strains the free
    lattice parameters and jitters the free coordinates. Every crystal is checked
    to keep the prototype's space group (spglib) and no atoms closer than
    ``distance_tolerance`` times their covalent-radius sum.

    Parameters
    ----------
    prototypes : None or sequence, default=None
        Structure types: names or :class:`StructureType` objects of the built-in
        library (None: all of :data:`STRUCTURE_TYPES`), or crystals (Crystal,
        pymatgen, ASE or CIF path) used as prototypes; their space group is the
        one spglib finds, the lattice is strained but the coordinates are not
        jittered (their free parameters are not known). A cell whose lattice
        parameters cannot be strained without losing its group (a primitive
        cell of a centred lattice, as in the Materials Project) is varied in
        its standard conventional cell (spglib's, at 1e-3 Å).
        A crystal prototype's label is the stem of its CIF file
        (``"my_phase.cif"``: ``"my_phase"``), else its name (a Crystal's
        ``name``, the ``data_`` block of a CIF text), else ``"prototype-<i>"``
        for the ``i``-th prototype; labels must be unique.
    n_per_type : int, default=10
        Compounds per structure type.
    n_variants : int, default=1
        Strained/jittered variants per compound (they share a group id).
    substitute : bool, default=True
        Substitute elements; False keeps the prototype's composition.
    strain : float, default=0.02
        Standard deviation of the relative change of each free lattice length.
    jitter : float, default=0.01
        Standard deviation of the change of each free fractional coordinate.
    angle_jitter : float, default=0.5
        Standard deviation (degrees) of the change of free cell angles.
    distance_tolerance : float, default=0.7
        Minimum interatomic distance as a fraction of the covalent-radius sum.
    max_attempts : int, default=100
        Attempts per compound before a ``RuntimeError``.
    random_state : int, numpy Generator or RandomState, optional
        Seed; the same seed gives the same crystals for any ``n_jobs``. A
        Generator or RandomState is drawn from once (it advances). Compound
        ``k`` of the ``t``-th type has seed number ``t * n_per_type + k``: the
        same compounds for the same prototypes and ``n_per_type``, but another
        ``n_per_type`` changes those of every type after the first.
    n_jobs : int, optional
        Parallel workers (joblib).
    verbose : bool, default=False
        Progress bar.

    Returns
    -------
    crystals : list of Crystal
        ``space_group`` is the prototype's group.
    y : ndarray of str
        The label of each crystal's structure type: the library type's name,
        or the crystal prototype's label (see ``prototypes``).
    groups : ndarray of int
        Compound id of each crystal (variants of a compound share it): use it
        with group-aware splits so that no compound is in train and test.

    Examples
    --------
    >>> from skxrd.datasets import make_structure_type_crystals
    >>> crystals, y, groups = make_structure_type_crystals(
    ...     ["rocksalt", "perovskite"], n_per_type=3, random_state=0)
    >>> y.tolist()
    ['rocksalt', 'rocksalt', 'rocksalt', 'perovskite', 'perovskite', 'perovskite']
    >>> [c.get_space_group() for c in crystals]
    [225, 225, 225, 221, 221, 221]
    """
    from ._prototypes import STRUCTURE_TYPES

    for value, what in ((n_per_type, "n_per_type"), (n_variants, "n_variants")):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral)
            or value < 1
        ):
            raise ValueError(f"{what} must be a positive integer, got {value!r}")
    for value, what in (
        (strain, "strain"),
        (jitter, "jitter"),
        (angle_jitter, "angle_jitter"),
    ):
        if not (
            isinstance(value, numbers.Real)
            and not isinstance(value, bool)  # True is no strain of 1
            and np.isfinite(value)
            and value >= 0
        ):
            raise ValueError(f"{what} must be a number >= 0, got {value!r}")
    if not (
        isinstance(distance_tolerance, numbers.Real)
        and not isinstance(distance_tolerance, bool)
        and np.isfinite(distance_tolerance)
        and distance_tolerance > 0
    ):
        # NaN compared false everywhere: the distance check was silently off
        raise ValueError(
            f"distance_tolerance must be a number > 0, got {distance_tolerance!r}"
        )
    from ..utils._validation import check_bool, check_n_jobs

    # "no" would substitute
    check_bool(substitute, "substitute")
    check_n_jobs(n_jobs)
    if (
        isinstance(max_attempts, bool)
        or not isinstance(max_attempts, numbers.Integral)
        or max_attempts < 1
    ):
        raise ValueError(
            f"max_attempts must be a positive integer, got {max_attempts!r}"
        )
    if prototypes is None:
        prototypes = list(STRUCTURE_TYPES.values())
    elif one_prototype(prototypes):
        prototypes = [prototypes]
    prototypes = list(prototypes)
    if not prototypes:
        raise ValueError("prototypes is empty: give at least one structure type")
    protos = [
        _Prototype(p, i, float(strain), float(angle_jitter))
        for i, p in enumerate(prototypes)
    ]
    names = [p.name for p in protos]
    if len(set(names)) < len(names):
        raise ValueError(f"prototype names must be unique, got {names}")
    seeds = _spawn(random_state, len(protos) * n_per_type)
    jobs = [
        (
            protos[t],
            seeds[t * n_per_type + k],
            int(n_variants),
            bool(substitute),
            float(strain),
            float(jitter),
            float(angle_jitter),
            float(distance_tolerance),
            int(max_attempts),
            t * n_per_type + k,
        )
        for t in range(len(protos))
        for k in range(n_per_type)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # spglib's legacy notice
        if n_jobs in (None, 1):
            results = [
                _compound(*j) for j in tqdm(jobs, disable=not verbose, desc="compounds")
            ]
        else:
            results = parallel_map(
                _compound,
                jobs,
                n_jobs=n_jobs,
                verbose=verbose,
                desc="compounds",
                batch_size=16,
            )
    crystals = [c for variants in results for c in variants]
    y = np.array([j[0].name for j in jobs for _ in range(n_variants)])
    groups = np.repeat(np.arange(len(jobs)), n_variants)
    return crystals, y, groups
