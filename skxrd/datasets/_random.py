"""Random crystals for any space group, built from Wyckoff sites."""

from __future__ import annotations

import numbers
import zlib
from collections.abc import Iterable, Mapping, Sequence
from functools import cache

import numpy as np
from tqdm.auto import tqdm

from ..crystal import (
    CRYSTAL_SYSTEMS,
    Crystal,
    default_setting,
    lattice_from_parameters,
    parse_species,
    space_groups_of,
    to_crystal_system,
    wyckoff_sites,
)
from ..crystal._crystal import trusted_crystal
from ..utils._parallel import parallel_map

__all__ = ["DEFAULT_ELEMENTS", "make_random_crystals"]

# Elements of the default pool: H to Bi without noble gases and the radioactive
# Tc and Pm.
#: The element pool of :func:`make_random_crystals`: H to Bi without the noble
#: gases and the radioactive Tc and Pm.
DEFAULT_ELEMENTS: tuple[str, ...] = tuple(
    s
    for s in (
        "H Li Be B C N O F Na Mg Al Si P S Cl K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga "
        "Ge As Se Br Rb Sr Y Zr Nb Mo Ru Rh Pd Ag Cd In Sn Sb Te I Cs Ba La Ce Pr "
        "Nd Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi"
    ).split()
)

# Most atoms in the conventional cell of a generated crystal. The largest real
# cells in reach are far below: 576 atoms (Materials Project set, conventional
# cells), 1,152 (AMCSD, mixed sites counted per atom). Placement grows as the
# square of the atoms (10,000 atoms of P-1: about 30 s a crystal on one core);
# n_atoms=(10**6, 10**6), a typo away from 10**3, ran for days without a word.
_MAX_ATOMS = 10_000

# Failed attempts with freely chosen orbits before a characteristic one is forced.
_ESCALATE = 1

_IMAGES = np.array(
    [(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], dtype=float
)
# the images of each set of oblique axes (a, b, c) and where the zero offset is
_IMAGE_SETS = {
    oblique: (images, int(np.flatnonzero(~images.any(axis=1))[0]))
    for oblique in np.ndindex(2, 2, 2)
    for images in [_IMAGES[np.all(_IMAGES[:, ~np.array(oblique, bool)] == 0, axis=1)]]
}


@cache
def covalent_radius(element: str) -> float:
    """Covalent radius (Å) of an element, from ``periodictable`` (Cordero 2008).

    Examples
    --------
    >>> covalent_radius("Si")
    1.11
    """
    import periodictable

    symbol, _ = parse_species(element)
    if symbol in ("D", "T"):
        symbol = "H"
    radius = getattr(periodictable.elements.symbol(symbol), "covalent_radius", None)
    return float(radius) if radius else 1.5


def _volume_scale(r_old, r_new, occupancies) -> float:
    """The length scale of a cell whose atoms of covalent radii ``r_old``
    become atoms of radii ``r_new``: the cube root of the ratio of their
    covalent volumes, each weighted by its site's occupancy (the two halves
    of a shared site are one atom, not two)."""
    occ = np.asarray(occupancies)
    return float((np.sum(occ * r_new**3) / np.sum(occ * r_old**3)) ** (1 / 3))


@cache
def _setting_sites(space_group: int):
    """Wyckoff sites of the standard setting, in xrayutilities' order.

    That is most special first except for Pmmm (47), whose general position
    8A comes first. Seeded draws pick sites by index, so this keeps the
    order they had before :func:`wyckoff_sites` put 8A last: the same
    arguments give the same crystals.
    """
    from ..crystal._symmetry import _available_settings

    setting = default_setting(space_group)
    table = wyckoff_sites(setting)
    return tuple(table[label] for label in _available_settings()[setting])


def _resolve_space_groups(space_groups):
    """(groups, probabilities or None for balanced) from the user's choice."""
    if space_groups is None:
        return np.arange(1, 231), None
    if isinstance(space_groups, str):
        if space_groups not in CRYSTAL_SYSTEMS:
            raise ValueError(
                f"space_groups={space_groups!r}: give numbers 1..230, a crystal "
                f"system ({', '.join(CRYSTAL_SYSTEMS)}) or a {{group: weight}} prior"
            )
        return space_groups_of(crystal_system=space_groups), None
    if isinstance(space_groups, Mapping):
        groups = np.array([_check_group(g) for g in space_groups])
        try:
            weights = np.array([float(w) for w in space_groups.values()])
        except (TypeError, ValueError):
            raise ValueError(
                f"space-group prior weights must be numbers, got {space_groups!r}"
            ) from None
        if np.any(~np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError("space-group prior weights must be >= 0, not all zero")
        if len(np.unique(groups)) < len(groups):
            # possible in a Mapping other than a dict; a dict's 225 and
            # np.int64(225) are one key
            raise ValueError(f"space-group prior lists a group twice: {space_groups!r}")
        # in group order: the same prior written in another key order drew
        # other crystals from the same random_state
        order = np.argsort(groups, kind="stable")
        return groups[order], weights[order] / weights.sum()
    if isinstance(space_groups, numbers.Number):  # _check_group names a bad one
        return np.array([_check_group(space_groups)]), None
    if not isinstance(space_groups, Iterable):
        raise ValueError(
            f"space_groups must be numbers 1..230, a crystal system or a "
            f"{{group: weight}} prior, got {space_groups!r}"
        )
    groups = np.array([_check_group(g) for g in space_groups])
    if len(groups) == 0:
        raise ValueError("space_groups is empty")
    # each group once: dealt out as listed, [225, 62, 225] drew 225 twice as
    # often as 62, not the balanced draw promised (a {group: weight} prior
    # weighs groups). In increasing order: [225, 62] and [62, 225] drew other
    # crystals from one random_state, though they ask for the same thing.
    return np.unique(groups), None


def _check_composition(composition, groups):
    """``((element, count), ...)`` of a fixed composition, checked against the
    space groups it is asked for."""
    from ..crystal import space_group_symbol

    if not isinstance(composition, Mapping) or not composition:
        raise ValueError(
            f"composition must be a non-empty {{element: count}} dict, got "
            f"{composition!r}"
        )
    pairs = []
    for element, count in composition.items():
        try:
            parse_species(element)
        except (TypeError, ValueError):
            raise ValueError(f"composition: unknown element {element!r}") from None
        if isinstance(count, bool) or not isinstance(count, numbers.Integral):
            raise ValueError(
                f"composition: the count of {element} must be a positive integer, "
                f"got {count!r}"
            )
        if count < 1:
            raise ValueError(
                f"composition: the count of {element} must be >= 1, got {count!r}"
            )
        pairs.append((str(element), int(count)))
    pairs = tuple(pairs)
    total = sum(count for _, count in pairs)
    if total > _MAX_ATOMS:
        # as n_atoms: the exact search over orbits and the placement grow with it
        raise ValueError(
            f"composition has {total:,} atoms in the cell, over the limit of "
            f"{_MAX_ATOMS:,} atoms of a generated crystal"
        )
    bad = [int(g) for g in groups if not _composition_possible(int(g), pairs)]
    if bad:
        names = ", ".join(f"{g} ({space_group_symbol(g)})" for g in bad[:8])
        more = f" and {len(bad) - 8} more" if len(bad) > 8 else ""
        raise ValueError(
            f"composition {dict(pairs)} cannot be made from the Wyckoff orbits of "
            f"space group {names}{more}: no orbits' multiplicities add up to its "
            "counts; drop these groups or change the counts"
        )
    return pairs


def _check_group(g) -> int:
    if isinstance(g, bool) or not isinstance(g, numbers.Integral) or not 1 <= g <= 230:
        raise ValueError(f"space group {g!r} is not a number 1..230")
    return int(g)


def _atomic_number(species) -> int:
    """The atomic number of an element or ion symbol (D and T: 1)."""
    import periodictable

    element = parse_species(species)[0]
    return 1 if element in ("D", "T") else periodictable.elements.symbol(element).number


def _resolve_range(value, what, low=1, high=None):
    def whole(v):
        # int() would cut (4.7, 8.2) down to (4, 8) without a word
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    if whole(value):
        lo = hi = int(value)
    else:
        try:
            lo, hi = value
        except (TypeError, ValueError):
            lo = hi = None
        if not (whole(lo) and whole(hi)):
            raise ValueError(
                f"{what} must be an int or (min, max) of ints, got {value!r}"
            )
        lo, hi = int(lo), int(hi)
    if lo < low or hi < lo:
        raise ValueError(f"{what} must satisfy {low} <= min <= max, got {value!r}")
    if high is not None and hi > high:
        raise ValueError(
            f"{what} must be at most {high:,} (the limit on atoms in the cell of a "
            f"generated crystal; real structures have up to about 1,200), got "
            f"{value!r}"
        )
    return lo, hi


def _seed_int(random_state):
    """The integer seed that ``random_state`` stands for: an int as it is, a
    RandomState's or Generator's next draw, fresh entropy for None. Drawn
    once, it keys a cache and seeds the same results as the object would."""
    from ..utils._validation import check_seed

    random_state = check_seed(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63))
    if random_state is None:
        return int(np.random.SeedSequence().entropy)
    return random_state


def _spawn(random_state, n: int) -> list[np.random.SeedSequence]:
    """One independent seed per crystal: results do not depend on n_jobs."""
    return np.random.SeedSequence(_seed_int(random_state)).spawn(n)


@cache
def _characteristic_sites(space_group: int) -> tuple:
    """Orbits that on their own, filled with one element, have exactly this group.

    Found once per group by probing each Wyckoff site alone
    (:func:`_combination_has_group`). Small orbits of many groups have extra
    symmetry (a lone 8c orbit of Fm-3m is a primitive cubic lattice), so a
    crystal built only from them is another group.
    """
    found = [
        site
        for site in _setting_sites(space_group)
        if _combination_has_group(space_group, ((site.label,),))
    ]
    return tuple(sorted(found, key=lambda s: s.multiplicity))


# Most orbits in a combination that _pinning_combinations probes: the smallest
# that shows a group has 3 at most (three like atoms of P1; see the tests).
_COMBINATION_ORBITS = 4


@cache
def _pinning_combinations(space_group: int, n_elements: int) -> tuple:
    """The smallest combinations of orbits that together, with at most
    ``n_elements`` elements, have exactly this group: ``(atoms, partitions)``.

    For the groups where no single orbit does (:func:`_characteristic_sites`
    is empty): a lone orbit of a polar group can slide along its polar axis
    and gains a mirror or an inversion, one atom of P1 is centrosymmetric.
    Multisets of orbits (fixed positions once) are probed by
    :func:`_combination_has_group` in order of atoms, each with every way to
    give its orbits at most ``n_elements`` elements (an
    :func:`_orbit_partition`); all those of the fewest atoms are returned.
    ``(None, ())`` if no combination of up to ``_COMBINATION_ORBITS`` orbits
    does.
    """
    sites = _setting_sites(space_group)
    multisets = []

    def extend(start, chosen, total):
        if chosen:
            multisets.append((total, tuple(chosen)))
        if len(chosen) < _COMBINATION_ORBITS:
            for i in range(start, len(sites)):
                # a free orbit may repeat, a fixed position is used once
                again = any(sites[i].free)
                extend(
                    i if again else i + 1, chosen + [i], total + sites[i].multiplicity
                )

    extend(0, [], 0)
    multisets.sort()
    found, fewest = [], None
    for total, multiset in multisets:
        if fewest is not None and total > fewest:
            break
        labels = [sites[i].label for i in multiset]
        keys = {
            tuple(sorted(tuple(sorted(labels[i] for i in block)) for block in blocks))
            for blocks in _set_partitions(list(range(len(labels))))
            if len(blocks) <= n_elements
        }
        for key in sorted(keys):
            if _combination_has_group(space_group, key):
                found.append(key)
                fewest = total
    return (fewest, tuple(found)) if found else (None, ())


# The atoms of the smallest combinations of :func:`_pinning_combinations`
# with one and with two elements, for the 53 groups without a characteristic
# orbit (a test checks them against the search). Finding them probes up to
# hundreds of combinations with moyo: 0.3 s in all, paid again in every fresh
# process (and joblib worker) that draws these groups, where the count alone
# decides whether a combination is forced from the first attempt.
_FEWEST_PINNING_ATOMS = {
    1: (3, 2), 3: (3, 2), 4: (4, 4), 5: (6, 4), 6: (3, 2), 7: (4, 4), 8: (6, 4),
    9: (8, 8), 25: (3, 2), 26: (4, 4), 27: (6, 6), 28: (4, 4), 29: (8, 8),
    30: (6, 6), 31: (4, 4), 32: (6, 6), 33: (8, 8), 34: (6, 6), 35: (6, 4),
    36: (8, 8), 37: (8, 8), 38: (6, 4), 39: (8, 8), 40: (8, 8), 41: (12, 12),
    42: (12, 8), 44: (6, 4), 45: (12, 12), 46: (8, 8), 75: (5, 5), 77: (6, 6),
    79: (10, 10), 99: (3, 2), 100: (6, 6), 101: (6, 6), 102: (6, 6),
    103: (10, 10), 104: (10, 10), 105: (4, 4), 106: (12, 12), 107: (6, 4),
    108: (12, 12), 143: (4, 4), 156: (3, 2), 157: (4, 4), 158: (8, 8),
    159: (8, 8), 168: (7, 7), 173: (8, 8), 183: (3, 2), 184: (14, 14),
    185: (8, 8), 186: (4, 4),
}  # fmt: skip


def _fewest_pinning_atoms(space_group: int, n_elements: int):
    """The atoms of :func:`_pinning_combinations` ``(space_group,
    n_elements)``, from the stored table where it has them (``n_elements`` 1
    or 2), else from the search."""
    stored = _FEWEST_PINNING_ATOMS.get(space_group)
    if stored is not None and n_elements in (1, 2):
        return stored[n_elements - 1]
    return _pinning_combinations(space_group, n_elements)[0]


def _set_partitions(items: list):
    """Every partition of ``items`` into non-empty blocks (lists)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for blocks in _set_partitions(rest):
        for i in range(len(blocks)):
            yield blocks[:i] + [[first] + blocks[i]] + blocks[i + 1 :]
        yield [[first]] + blocks


def _orbit_partition(chosen, species) -> tuple:
    """The orbits' labels grouped by element, without the elements' names:
    ``((label, ...), ...)``, sorted. Whether orbits have exactly the group's
    symmetry depends only on which of them share an element (Si on 2a with O on
    4e, or C on 2a with N on 4e), so this is the key of
    :func:`_combination_has_group`."""
    by_element = {}
    for site, element in zip(chosen, species):
        by_element.setdefault(element, []).append(site.label)
    return tuple(sorted(tuple(sorted(labels)) for labels in by_element.values()))


@cache
def _combination_has_group(space_group: int, partition: tuple) -> bool:
    """Whether orbits of one element per group of labels (an
    :func:`_orbit_partition`, ``(("2a", "4e"), ("8c",))``) at random free
    parameters have exactly the group's symmetry.

    Orbits that are not characteristic can together have more symmetry for
    every choice of their parameters (2d + 4e of C222 always make Cmmm), and
    such a combination would be placed and checked over and over. It is
    probed once: moyo (:func:`_space_group_number`) on random coordinates from
    a seed derived from the combination, so the answer never depends on what
    ran before. The probe cell is large (8,000 Å³ per atom: edges of tens of
    Å), so that the 1e-3 Å tolerance is a tiny fraction of it and a draw
    that lands on a more symmetric special value by chance is negligibly rare.
    """
    by_label = {site.label: site for site in _setting_sites(space_group)}
    rng = np.random.default_rng(zlib.crc32(repr((space_group, partition)).encode()))
    system = str(to_crystal_system(space_group))
    sites = [
        (by_label[label], number)
        for number, labels in enumerate(partition, start=1)
        for label in labels
    ]
    volume = 8000.0 * sum(site.multiplicity for site, _ in sites)
    params = None
    while params is None:
        params = _random_lattice(rng, system, volume, default_setting(space_group))
    cell = (
        lattice_from_parameters(*params),
        np.concatenate([site.positions(rng.random(3)) for site, _ in sites]),
        [number for site, number in sites for _ in range(site.multiplicity)],
    )
    return _space_group_number(*cell) == space_group


def _random_lattice(rng, crystal_system: str, volume: float, setting: str):
    """Lattice parameters with the metric of the crystal system and this volume."""

    def ratio(lo, hi):
        return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))

    alpha = beta = gamma = 90.0
    if crystal_system == "cubic":
        b = c = 1.0
    elif crystal_system == "tetragonal":
        b, c = 1.0, ratio(0.4, 2.5)
    elif crystal_system in ("hexagonal", "trigonal"):
        b, c = 1.0, ratio(0.4, 3.0)
        gamma = 120.0
        if setting.endswith(":R"):
            c, b, gamma = 1.0, 1.0, 90.0
            alpha = beta = gamma = float(rng.uniform(50.0, 100.0))
    elif crystal_system == "orthorhombic":
        b, c = ratio(0.5, 2.0), ratio(0.5, 2.0)
    elif crystal_system == "monoclinic":
        b, c = ratio(0.5, 2.0), ratio(0.5, 2.0)
        angle = float(rng.uniform(92.0, 120.0))
        if setting.endswith(":c"):
            gamma = angle
        else:
            beta = angle
    else:
        b, c = ratio(0.5, 2.0), ratio(0.5, 2.0)
        alpha, beta, gamma = (float(x) for x in rng.uniform(70.0, 110.0, 3))
    # volume of the cell with a = 1 (the triple-product formula; the same value
    # as the determinant of lattice_from_parameters, without building it)
    ca, cb, cg = np.cos(np.radians((alpha, beta, gamma)))
    factor = 1.0 - ca * ca - cb * cb - cg * cg + 2.0 * ca * cb * cg
    if factor <= 1e-10:  # a degenerate triclinic draw
        return None
    a = (volume / (b * c * float(np.sqrt(factor)))) ** (1.0 / 3.0)
    return a, a * b, a * c, alpha, beta, gamma


def _image_offsets(lattice: np.ndarray):
    """Cartesian offsets of the neighbouring images to search, twice their
    transpose, their squared lengths and the index of the zero offset (None:
    only the nearest image, which rounding already gives in an orthogonal
    cell).

    Only axes oblique to another axis need their ±1 images: along an axis
    orthogonal to both others, rounding is exact on its own (9 images instead
    of 27 in hexagonal and monoclinic cells).
    """
    (aa, ab, ac), (_, bb, bc), (_, _, cc) = (lattice @ lattice.T).tolist()
    tol = 1e-18  # squared relative tolerance: |cos| > 1e-9
    skew_ab = ab * ab > tol * aa * bb
    skew_ac = ac * ac > tol * aa * cc
    skew_bc = bc * bc > tol * bb * cc
    if not (skew_ab or skew_ac or skew_bc):
        return None
    oblique = (
        int(skew_ab or skew_ac),
        int(skew_ab or skew_bc),
        int(skew_ac or skew_bc),
    )
    images, zero = _IMAGE_SETS[oblique]
    offsets = images @ lattice
    return offsets, 2.0 * offsets.T, np.einsum("ij,ij->i", offsets, offsets), zero


def _too_close(new, placed, lattice, offsets, r_new, r_placed, tolerance) -> bool:
    """True if an atom of ``new`` is too close to another of ``new`` or ``placed``.

    Minimum distance: ``tolerance`` times the sum of covalent radii, to the
    nearest periodic image (the ±1 images along the oblique axes searched, up to
    27 images: exact for cell angles within 60–120°, the generator's range).
    """
    m = len(new)
    others = np.concatenate([placed, new])
    frac = new[:, None, :] - others[None, :, :]
    frac -= np.rint(frac)
    cart = frac @ lattice
    if offsets is None:
        d2 = np.einsum("ijk,ijk->ij", cart, cart)
        d2[np.arange(m), len(placed) + np.arange(m)] = np.inf  # itself
    else:
        # |c + o|² = |c|² + 2 c·o + |o|² for all the image offsets o at once
        _, twice_t, o2, zero = offsets
        d2 = (cart @ twice_t) + o2
        d2 += np.einsum("ijk,ijk->ij", cart, cart)[:, :, None]
        d2[np.arange(m), len(placed) + np.arange(m), zero] = np.inf  # itself
        d2 = d2.min(-1)
    limit = tolerance * (r_new + np.concatenate([r_placed, np.full(m, r_new)]))
    return bool((d2 < limit * limit).any())


def _clashing_tries(new, placed, lattice, offsets, r_new, r_placed, tolerance):
    """:func:`_too_close` for ``T`` candidate orbits at once: (T, m, 3) -> (T,)."""
    T, m, _ = new.shape
    n = len(placed)
    frac = np.concatenate(
        [
            new[:, :, None, :] - placed[None, None, :, :],
            new[:, :, None, :] - new[:, None, :, :],
        ],
        axis=2,
    )
    frac -= np.rint(frac)
    cart = frac @ lattice
    if offsets is None:
        d2 = np.einsum("tijk,tijk->tij", cart, cart)
    else:
        _, twice_t, o2, zero = offsets
        d2 = (cart @ twice_t) + o2
        d2 += np.einsum("tijk,tijk->tij", cart, cart)[..., None]
        d2[:, np.arange(m), n + np.arange(m), zero] = np.inf  # itself
        d2 = d2.min(-1)
    d2[:, np.arange(m), n + np.arange(m)] = np.inf
    limit = tolerance * (r_new + np.concatenate([r_placed, np.full(m, r_new)]))
    return (d2 < limit * limit).any(axis=(1, 2))


def _place(rng, chosen, radii, lattice, tolerance, tries=24):
    """Coordinates of the orbits placed one by one without clashes, or None.

    Fixed positions go first (they cannot move out of each other's way), then
    the most crowding free orbits; an orbit with free parameters that clashes
    is redrawn up to ``tries`` times, the redraws tested in growing batches to
    fail or succeed sooner.
    """
    offsets = _image_offsets(lattice)
    coords, atom_radii = np.zeros((0, 3)), np.zeros(0)
    placed = [None] * len(chosen)
    order = sorted(
        range(len(chosen)),
        key=lambda i: (any(chosen[i].free), -chosen[i].multiplicity * radii[i]),
    )
    for i in order:
        site = chosen[i]
        pos = site.positions(rng.random(3))
        if _too_close(pos, coords, lattice, offsets, radii[i], atom_radii, tolerance):
            if not any(site.free):
                return None
            # redraws in growing batches: most orbits fit within a few
            left, size, pos = tries - 1, 3, None
            while left > 0 and pos is None:
                k = min(size, left)
                xyz = rng.random((k, 3))
                cand = np.einsum("mij,tj->tmi", site.rotations, xyz)
                cand = np.mod(cand + site.translations, 1.0)
                bad = _clashing_tries(
                    cand, coords, lattice, offsets, radii[i], atom_radii, tolerance
                )
                if not bad.all():
                    pos = cand[int(np.argmin(bad))]
                left, size = left - k, 2 * size
            if pos is None:
                return None
        coords = np.concatenate([coords, pos])
        atom_radii = np.concatenate([atom_radii, np.full(len(pos), radii[i])])
        placed[i] = pos
    return np.concatenate(placed)  # in the order of ``chosen``


def _choose_sites(
    rng, sites, target: int, low: int = 0, high: int | None = None, once=False
):
    """Wyckoff orbits whose multiplicities add up to about ``target`` atoms.

    Orbits with free parameters may repeat; fixed positions are used once.
    With ``once``, only the general position repeats: a special orbit
    repeated puts its atoms on one line or plane (twenty on P2's axis 1a),
    where they do not fit.
    Where no orbit fits in what is left of ``target`` while the atoms are
    still fewer than ``low``, one orbit that passes ``target`` but not
    ``high`` is taken (with ``n_atoms=(10, 12)``, 15 % of crystals had stopped
    at 6-9 atoms), so that the count stays within ``low..high`` where it can.
    """
    chosen, total, used = [], 0, set()
    general = max(s.multiplicity for s in sites)

    def repeats(s):
        return s.multiplicity == general if once else any(s.free)

    # No cap on the number of orbits: each adds at least one atom, so this
    # ends within ``target`` draws. A cap of 64 cut P1 crystals asked for
    # 150-200 atoms down to 64 atoms without a word; below 65 atoms it never
    # bound, so those crystals are as they were.
    while True:
        options = [
            s
            for s in sites
            if s.multiplicity <= target - total and (repeats(s) or s.label not in used)
        ]
        if not options and total < low and high is not None:
            # only here: draws elsewhere, and so the crystals, stay as they were
            options = [
                s
                for s in sites
                if target - total < s.multiplicity <= high - total
                and (repeats(s) or s.label not in used)
            ]
        if not options:
            break
        site = options[int(rng.integers(len(options)))]
        chosen.append(site)
        used.add(site.label)
        total += site.multiplicity
        if total >= target:
            break
    if not chosen:  # target below every multiplicity: take the smallest orbit
        chosen = [min(sites, key=lambda s: s.multiplicity)]
    return chosen


def _split_count(rng, space_group, count, used, budget):
    """Random orbits whose multiplicities add up to exactly ``count``.

    Orbits are drawn one at a time among those after which the rest of the
    count can still be made (:func:`_count_possible`), so no search and no
    recursion is needed; fixed positions (no free parameter) are used once,
    across elements (``used`` holds their labels). ``budget`` is a one-element
    list of draws left, shared by the elements of one crystal. Returns a list
    of sites or None.
    """
    chosen, left = [], count
    while left > 0:
        budget[0] -= 1
        if budget[0] < 0:
            return None
        options = _split_options(space_group, left, frozenset(used))
        if not options:
            return None
        site = options[int(rng.integers(len(options)))]
        if not any(site.free):
            used.add(site.label)
        chosen.append(site)
        left -= site.multiplicity
    return chosen


@cache
def _split_options(space_group, left, used):
    """The orbits :func:`_split_count` can draw next: ``left`` atoms still to
    place, the fixed positions ``used`` taken."""
    sites = _setting_sites(space_group)
    free = tuple(sorted({s.multiplicity for s in sites if any(s.free)}))
    open_fixed = [s for s in sites if not any(s.free) and s.label not in used]
    options = []
    for s in sites:
        if s.multiplicity > left or (not any(s.free) and s.label in used):
            continue
        rest_fixed = tuple(
            sorted(f.multiplicity for f in open_fixed if f.label != s.label)
        )
        if _count_possible(left - s.multiplicity, free, rest_fixed):
            options.append(s)
    return tuple(options)


@cache
def _count_possible(n, free, fixed):
    """Whether ``n`` atoms fit exactly on orbits of the repeatable
    multiplicities ``free`` and the once-only multiplicities ``fixed``."""
    return any(_free_sum(n - sum(take), free) for take, _ in _subsets(fixed, n))


def _composition_sites(rng, space_group, composition, pin=None, budget=400):
    """Orbits and their elements for an exact composition, or None.

    ``composition`` is ``((element, count), ...)`` in the conventional cell.
    With ``pin``, one orbit (a characteristic one, which fixes the group's
    symmetry) goes to an element with enough atoms, the rest around it.
    ``budget`` draws of orbits at least, and as many as there are atoms: each
    draw places at least one, and a fixed 400 failed every attempt of a
    composition of more atoms in P1 (Si150O300), with advice about symmetry.
    """
    steps = [max(budget, sum(count for _, count in composition))]
    order = list(rng.permutation(len(composition)))
    chosen, species, used = [], [], set()
    pinned = None
    if pin is not None:
        fits = [i for i in order if composition[i][1] >= pin.multiplicity]
        if not fits:
            return None
        pinned = fits[0]
        if not any(pin.free):
            used.add(pin.label)
        chosen.append(pin)
        species.append(composition[pinned][0])
    for i in order:
        element, count = composition[i]
        if i == pinned:
            count -= pin.multiplicity
        part = _split_count(rng, space_group, count, used, steps)
        if part is None:
            return None
        chosen += part
        species += [element] * len(part)
    # atoms in the order of the composition (the formula reads as given)
    rank = {element: k for k, (element, _) in enumerate(composition)}
    keep = sorted(range(len(chosen)), key=lambda j: rank[species[j]])
    return [chosen[j] for j in keep], [species[j] for j in keep]


@cache
def _composition_possible(space_group: int, composition: tuple) -> bool:
    """Whether the composition can be made of the group's orbits (an exhaustive
    search over multiplicities, fixed positions used once)."""
    sites = _setting_sites(space_group)
    free = tuple(sorted({s.multiplicity for s in sites if any(s.free)}))
    fixed = tuple(sorted(s.multiplicity for s in sites if not any(s.free)))
    counts = sorted((c for _, c in composition), reverse=True)

    @cache
    def fill(i, fixed_left):
        if i == len(counts):
            return True
        # the counts reachable for element i from free orbits alone, then the
        # choices of fixed positions it takes
        return any(
            _free_sum(counts[i] - sum(take), free) and fill(i + 1, rest)
            for take, rest in _subsets(fixed_left, counts[i])
        )

    return fill(0, fixed)


@cache
def _free_sum(n, free):
    """Whether ``n`` is a sum of the (repeatable) multiplicities ``free``
    (a table over 0..n, not a recursion: counts can be large)."""
    if n == 0:
        return True
    reach = bytearray(n + 1)
    reach[0] = 1
    for v in range(1, n + 1):
        reach[v] = any(m <= v and reach[v - m] for m in free)
    return bool(reach[n])


def _subsets(items, limit):
    """(taken, left) splits of the tuple ``items`` with sum(taken) <= limit;
    equal multiplicities are interchangeable, so each multiset once."""
    out = {((), items)}
    for m in items:
        for taken, left in list(out):
            if sum(taken) + m <= limit and m in left:
                rest = list(left)
                rest.remove(m)
                out.add((tuple(sorted((*taken, m))), tuple(rest)))
    return sorted(out)


def _one_crystal(
    seed,
    space_group,
    elements,
    n_atoms,
    n_elements,
    tolerance,
    packing,
    check_symmetry,
    max_attempts,
    index,
    composition=None,
):

    rng = np.random.default_rng(seed)
    setting, system = _setting_and_system(space_group)
    sites = _setting_sites(space_group)
    characteristic = _characteristic_sites(space_group)
    pinning = {site.label for site in characteristic}
    # Some groups cannot show their symmetry with as few atoms as asked (every
    # orbit of Fd-3 below 96 atoms also has Fd-3m symmetry): go straight to an
    # orbit that pins the group.
    escalate = _ESCALATE
    if characteristic and characteristic[0].multiplicity > n_atoms[1]:
        escalate = 0
    elif not characteristic and composition is None:
        # No single orbit shows the group (41, Aea2: 4a or 8b alone has more
        # symmetry, 4a + 8b has not). When its smallest combination of orbits
        # that does is over n_atoms, no free draw can succeed: go straight to
        # it. Otherwise free draws do, if slowly (over 130 attempts with one
        # element): they go first, as before, and a combination is forced
        # only in the second half of the attempts.
        fewest = _fewest_pinning_atoms(
            space_group, min(n_elements[1], len(elements), 2)
        )
        escalate = 0 if fewest > n_atoms[1] else max(_ESCALATE, max_attempts // 2)
    # Where all max_attempts fail, as many again with only the general
    # position repeated (then always with a characteristic orbit or
    # combination): drawn as before, special orbits crowd their lines and
    # planes as the atoms grow (P222 with n_atoms=(30, 40), 49 of the 230
    # groups at (100, 120) failed every attempt). Crystals found within
    # max_attempts are as they were.
    rounds = max_attempts if composition is not None else 2 * max_attempts
    for attempt in range(rounds):
        once = attempt >= max_attempts
        if composition is not None:
            most = max(count for _, count in composition)
            pins = [c for c in characteristic if c.multiplicity <= most]
            pin = None
            if attempt >= escalate and pins:
                pin = pins[int(rng.integers(len(pins)))]
            picked = _composition_sites(rng, space_group, composition, pin)
            if picked is None:
                continue
            chosen, species = picked
            if (
                check_symmetry
                and not any(site.label in pinning for site in chosen)
                and not _combination_has_group(
                    space_group, _orbit_partition(chosen, species)
                )
            ):
                continue  # these orbits always have more symmetry than the group
        else:
            if attempt >= escalate and not characteristic:
                chosen, species = _combination_choice(
                    rng, space_group, sites, n_atoms, n_elements, elements, once
                )
            else:
                chosen, species = _free_choice(
                    rng,
                    sites,
                    characteristic,
                    attempt < escalate,
                    n_atoms,
                    n_elements,
                    elements,
                    once,
                )
        radii = [covalent_radius(s) for s in species]
        atom_volume = _atom_volume(chosen, radii)
        volume = atom_volume / float(rng.uniform(*packing))
        params = _random_lattice(rng, system, volume, setting)
        if params is None:
            continue
        if min(params[:3]) < tolerance * 2 * max(radii):
            continue  # an atom would touch its own image
        lattice = lattice_from_parameters(*params)
        radii = np.array(radii)
        coords = _place(rng, chosen, radii, lattice, tolerance)
        if coords is None:
            continue
        atom_species = [
            sp for sp, site in zip(species, chosen) for _ in range(site.multiplicity)
        ]
        if check_symmetry and not _has_space_group(
            lattice, coords, atom_species, space_group
        ):
            continue
        return trusted_crystal(
            lattice,
            atom_species,
            coords,
            space_group=space_group,
            name=f"random-{space_group}-{index}",
        )
    if composition is not None:
        advice = (
            f"; its orbits for the composition {dict(composition)} may all have "
            "more symmetry than the group (try other counts), or widen packing"
        )
    else:
        advice = (
            f" and {max_attempts} more with only the general position repeated; "
            "widen n_atoms, elements or packing"
        )
    raise RuntimeError(
        f"crystal {index}: no valid crystal of space group {space_group} after "
        f"{max_attempts} attempts{advice}"
    )


@cache
def _setting_and_system(space_group: int) -> tuple[str, str]:
    """The default setting and the crystal system of a group (asked per crystal)."""
    return default_setting(space_group), str(to_crystal_system(space_group))


def _atom_volume(chosen, radii) -> float:
    """Covalent volume (Å³) of the atoms of the orbits ``chosen``, one radius
    per orbit."""
    cubes = sum(site.multiplicity * r**3 for site, r in zip(chosen, radii))
    return 4.0 / 3.0 * np.pi * cubes


def _free_choice(
    rng, sites, characteristic, free, n_atoms, n_elements, elements, once=False
):
    """Orbits adding up to a random atom count, and random elements for them;
    with ``free`` False one orbit is a characteristic one; ``once``: see
    :func:`_choose_sites`."""
    target = int(rng.integers(n_atoms[0], n_atoms[1] + 1))
    if free or not characteristic:
        chosen = _choose_sites(rng, sites, target, *n_atoms, once=once)
    else:
        fits = [c for c in characteristic if c.multiplicity <= target]
        pin = fits[int(rng.integers(len(fits)))] if fits else characteristic[0]
        chosen = [pin]
        if target > pin.multiplicity:
            chosen += _choose_sites(
                rng,
                sites,
                target - pin.multiplicity,
                n_atoms[0] - pin.multiplicity,
                n_atoms[1] - pin.multiplicity,
                once=once,
            )
    k = int(rng.integers(n_elements[0], n_elements[1] + 1))
    pool = rng.choice(elements, size=min(k, len(elements)), replace=False)
    # every chosen element appears when there are enough orbits
    species = list(pool[: len(chosen)])
    species += list(rng.choice(pool, size=len(chosen) - len(species)))
    rng.shuffle(species)
    return chosen, species


def _combination_choice(
    rng, space_group, sites, n_atoms, n_elements, elements, once=False
):
    """Like :func:`_free_choice`, for a group without a characteristic orbit:
    one of its smallest combinations of orbits that together have exactly the
    group (:func:`_pinning_combinations`), each element block of it a distinct
    element, plus random orbits up to a random atom count."""
    target = int(rng.integers(n_atoms[0], n_atoms[1] + 1))
    k = int(rng.integers(n_elements[0], n_elements[1] + 1))
    pool = rng.choice(elements, size=min(k, len(elements)), replace=False)
    # more than two elements never make a smaller combination (checked for
    # all 53 groups)
    _, combinations = _pinning_combinations(space_group, min(len(pool), 2))
    partition = combinations[int(rng.integers(len(combinations)))]
    by_label = {site.label: site for site in sites}
    chosen, species = [], []
    for block, element in zip(partition, rng.permutation(pool)):
        chosen += [by_label[label] for label in block]
        species += [element] * len(block)
    total = sum(site.multiplicity for site in chosen)
    if target > total:
        rest = _choose_sites(
            rng,
            sites,
            target - total,
            n_atoms[0] - total,
            n_atoms[1] - total,
            once=once,
        )
        # every element appears when there are enough orbits
        unused = [e for e in pool if e not in species][: len(rest)]
        extra = unused + list(rng.choice(pool, size=len(rest) - len(unused)))
        rng.shuffle(extra)
        chosen += rest
        species += extra
    return chosen, species


@cache
def _moyopy():
    """moyopy, with a do-nothing handler on its logger: moyo logs a warning
    through Python's logging when a cell's lattice has more symmetry than its
    basis shows (a c/a = √2 tetragonal cell that is really cubic), which
    without any handler Python prints to stderr; such a cell is another group
    and redrawn anyway. Logging configured by the user still receives it."""
    import logging

    import moyopy

    logging.getLogger("moyo").addHandler(logging.NullHandler())
    return moyopy


def _space_group_number(lattice, coords, numbers, symprec=1e-3) -> int | None:
    """The space-group number that moyo finds at ``symprec`` (Å), or None when
    its search fails.

    moyopy rather than spglib for the generators' checks: it finds the same
    groups 2–10 times faster (a 4-atom P1 cell: 24 µs against 0.31 ms; an
    Fm-3m cell: 1.5 ms against 17 ms). Of 4,260 unchecked random crystals the
    two disagreed on 2, where moyo found a higher group that spglib finds from
    symprec 1.5e-3 or 2e-3 on: the check errs on the strict side.
    """
    moyopy = _moyopy()
    cell = moyopy.Cell(
        np.asarray(lattice, dtype=float).tolist(),
        np.asarray(coords, dtype=float).tolist(),
        [int(n) for n in numbers],
    )
    try:
        return moyopy.MoyoDataset(cell, symprec=symprec).number
    except ValueError:  # "symmetry search failed": not a crystal to keep
        return None


# Tolerance (Å) of the generators' check of each crystal. At 1e-3 Å, 0.2 % of
# uniform random crystals (0.6 % with n_atoms=(2, 6)) were within 0.01 Å of a
# supergroup, e.g. 6 Nd on 6f of Pm-3 at x = 0.74986 in a 7.76 Å cell, 1.1 mÅ
# from Pm-3n: its simulated pattern is Pm-3n's to 1e-6 of the maximum (1e-4
# at 0.01 Å off), a wrong label for training. At 1e-2 Å they are redrawn
# (same cost: one search); a crystal on the group's Wyckoff positions with
# exactly the group at 1e-2 Å has it at 1e-3 Å too (spglib confirms: tests).
_SYMPREC = 1e-2


def _has_space_group(lattice, coords, atom_species, space_group: int) -> bool:
    """Whether moyo (symprec ``_SYMPREC``, 1e-2 Å) finds exactly
    ``space_group``: no supergroup within 0.01 Å."""
    # distinct labels per element are enough, not atomic numbers
    labels = {sp: k for k, sp in enumerate(dict.fromkeys(atom_species))}
    numbers = [labels[sp] + 1 for sp in atom_species]
    return _space_group_number(lattice, coords, numbers, _SYMPREC) == space_group


def _chunk(args_list):
    return [_one_crystal(*args) for args in args_list]


def make_random_crystals(
    n: int,
    *,
    space_groups=None,
    elements: Sequence[str] | None = None,
    n_atoms=(4, 40),
    n_elements=(1, 4),
    composition: Mapping[str, int] | None = None,
    distance_tolerance: float = 0.75,
    packing=(0.2, 0.45),
    check_symmetry: bool = True,
    max_attempts: int = 200,
    random_state=None,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> list[Crystal]:
    """Random crystals of chosen space groups, built from Wyckoff sites.

    For each crystal: a space group; Wyckoff orbits (special positions at their
    fixed coordinates, free parameters drawn uniformly) adding up to about the
    requested number of atoms; elements from the pool; lattice parameters with
    the metric of the crystal system and a cell volume from the atoms' covalent
    volumes and a random packing fraction. Orbits are placed one by one and
    redrawn while any two atoms are closer than ``distance_tolerance`` times the
    sum of their covalent radii. A symmetry search (moyo, the successor of
    spglib, at symprec 1e-2 Å) then confirms the space group; a crystal
    whose atoms happen to have more symmetry, or to be within 0.01 Å of a
    supergroup (a pattern cannot tell it from one), is drawn again, then with at least
    one orbit that on its own has exactly the group's symmetry. In the 53
    groups where no orbit does (a lone orbit of a polar group such as Aea2 can
    slide along the polar axis and gains symmetry; one atom of P1 is
    centrosymmetric), the smallest combinations of orbits that together do
    are found once, the same way, and a crystal is built around one of them
    from the second half of ``max_attempts`` on (from the first attempt when
    it has more atoms than ``n_atoms`` allows). With a fixed
    composition, a combination of orbits that has more symmetry whatever its
    coordinates (Si on 2d and O on 4e of C222 always make Cmmm) is recognised
    once, by the same search on random coordinates, and skipped before it is
    placed.

    Parameters
    ----------
    n : int
        Number of crystals.
    space_groups : None, int, sequence of int, str or dict, default=None
        Space groups to draw from: all 230 (None), a list, a crystal-system name
        (``"cubic"``), or a prior ``{space_group: weight}``. Without a prior the
        groups are balanced: their counts differ by at most one (a group listed
        twice counts once). The order in which groups are listed does not
        matter: ``[62, 225]`` and ``[225, 62]`` give the same crystals.
    elements : sequence of str, optional
        Element pool; by default :data:`DEFAULT_ELEMENTS` (H–Bi without noble
        gases, Tc and Pm). Its order does not matter: ``["O", "Fe"]`` and
        ``["Fe", "O"]`` give the same crystals.
    n_atoms : int or (int, int), default=(4, 40)
        Atoms in the conventional cell, at most 10,000 (a ValueError above:
        placement time grows as the square of the atoms; the largest real
        cells, in the AMCSD, have about 1,200). It is a target: orbits come in their
        multiplicities (a count within the range that no orbits reach
        gives fewer or more atoms; where the orbits drawn fall short of the
        minimum, one that passes the drawn count within the range is taken
        first), and a group that cannot show its symmetry with that few
        atoms gets its smallest orbit that does, e.g. 96 atoms for Fd-3, whose
        smaller orbits all also have Fd-3m symmetry, or its smallest
        combination of orbits that does, e.g. 12 atoms (4a + 8b) for Aea2
        (41), 14 for P6cc (184), 3 for P1 with one element.
    n_elements : int or (int, int), default=(1, 4)
        Number of distinct elements per crystal (at most as many as
        ``elements`` has; a minimum above that is a ValueError).
    composition : dict, optional
        A fixed composition: atoms of each element in the conventional cell,
        ``{"Si": 4, "O": 8}``. Every crystal then has exactly these atoms, on
        Wyckoff orbits drawn at random among those whose multiplicities add up
        to each count (as pyxtal's ``from_random``), at most 10,000 atoms in
        all as ``n_atoms``; it replaces ``elements``,
        ``n_atoms`` and ``n_elements``. A ValueError names the space groups
        whose orbits cannot make it.
    distance_tolerance : float, default=0.75
        Minimum interatomic distance as a fraction of the covalent-radius sum.
    packing : (float, float), default=(0.2, 0.45)
        Range of the covalent-sphere packing fraction that sets the volume.
    check_symmetry : bool, default=True
        Redraw crystals for which moyo (symprec 1e-2 Å) finds another group:
        each kept crystal has exactly its group at 1e-2 Å and at 1e-3 Å.
    max_attempts : int, default=200
        Attempts per crystal; where all fail, as many again with only the
        general position repeated (special orbits repeated put many atoms on
        one line or plane, which large ``n_atoms`` of groups such as P222 did
        not fit), then a ``RuntimeError``. A fixed composition gets
        ``max_attempts`` only.
    random_state : int, numpy Generator or RandomState, optional
        Seed; the same seed gives the same crystals for any ``n_jobs``. A
        Generator or RandomState is drawn from once (the caller's generator
        advances); None gives new crystals at each call. The space groups are
        dealt out for all ``n`` crystals together (balanced, then shuffled),
        so the first crystals of ``make_random_crystals(10, random_state=0)``
        are not those of ``make_random_crystals(5, random_state=0)``.
    n_jobs : int, optional
        Parallel workers (joblib): None or 1 for none, -1 for all CPUs, -2 for
        all but one; anything but None or a non-zero integer is a ValueError.
    verbose : bool, default=False
        Progress bar.

    Returns
    -------
    list of Crystal
        Each with ``space_group`` set to its intended (and verified) group.

    Examples
    --------
    >>> from skxrd.datasets import make_random_crystals
    >>> crystals = make_random_crystals(4, space_groups=[225, 62], random_state=0)
    >>> sorted(c.space_group for c in crystals)
    [62, 62, 225, 225]
    >>> all(c.get_space_group() == c.space_group for c in crystals)
    True

    A fixed composition, 3 SiO2 in the cell (as in quartz):

    >>> quartz_like = make_random_crystals(
    ...     2, space_groups=[152, 154], composition={"Si": 3, "O": 6}, random_state=0
    ... )
    >>> [c.formula for c in quartz_like], [c.n_atoms for c in quartz_like]
    (['SiO2', 'SiO2'], [9, 9])
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    groups, prior = _resolve_space_groups(space_groups)
    if composition is not None:
        composition = _check_composition(composition, groups)
        total = sum(count for _, count in composition)
        elements, n_atoms, n_elements = [e for e, _ in composition], total, 1
    if isinstance(elements, str):  # "Fe": one element, not "F" and "e"
        elements = [elements]
    pool = list(DEFAULT_ELEMENTS if elements is None else elements)
    if not pool:
        raise ValueError("elements is empty")
    for el in pool:
        try:
            parse_species(el)
        except ValueError:
            raise ValueError(f"elements: unknown element {el!r}") from None
    repeated = sorted({str(el) for el in pool if pool.count(el) > 1})
    if repeated:
        # a repeat is drawn as another element: n_elements=2 of ["Fe", "Fe"]
        # gave crystals of Fe alone, and a pool with it twice weighs it double
        raise ValueError(f"elements: {repeated} appear more than once")
    if composition is None:
        # by atomic number: ["O", "Fe"] and ["Fe", "O"] drew other crystals
        # from one random_state. DEFAULT_ELEMENTS is in this order already.
        pool.sort(key=lambda el: (_atomic_number(el), str(el)))
    n_atoms = _resolve_range(n_atoms, "n_atoms", high=_MAX_ATOMS)
    n_elements = _resolve_range(n_elements, "n_elements")
    if n_elements[0] > len(pool):
        # drawn as min(k, pool): n_elements=3 of ["Fe", "O"] gave binary
        # crystals without a word (a maximum over the pool is fine: the
        # default (1, 4) with elements="Fe")
        raise ValueError(
            f"n_elements={n_elements[0]} at least, but elements has only "
            f"{len(pool)}: {[str(e) for e in pool]}"
        )
    try:
        lo, hi = (float(p) for p in packing)
    except (TypeError, ValueError):
        raise ValueError(
            f"packing must be (min, max) fractions, got {packing!r}"
        ) from None
    if not 0 < lo <= hi < 1:
        raise ValueError(f"packing must satisfy 0 < min <= max < 1, got {packing!r}")
    from ..utils._validation import check_bool, check_int, check_n_jobs, check_real

    check_n_jobs(n_jobs)
    # range(0) made no attempt and then reported that all had failed
    max_attempts = check_int(max_attempts, "max_attempts", minimum=1)
    check_symmetry = check_bool(check_symmetry, "check_symmetry")
    # "0.5" and None raised a bare TypeError from `<`, True passed as 1.0
    distance_tolerance = check_real(
        distance_tolerance,
        "distance_tolerance",
        minimum=0.0,
        maximum=2.0,
        include_min=False,
        include_max=False,
    )
    seeds = _spawn(random_state, n + 1)
    rng = np.random.default_rng(seeds[-1])
    if prior is None:
        sg = np.resize(rng.permutation(groups), n)
        rng.shuffle(sg)
    else:
        sg = rng.choice(groups, size=n, p=prior)
    pool_arr = np.array(pool)
    args = [
        (
            seeds[i],
            int(sg[i]),
            pool_arr,
            n_atoms,
            n_elements,
            float(distance_tolerance),
            (lo, hi),
            bool(check_symmetry),
            int(max_attempts),
            i,
            composition,
        )
        for i in range(n)
    ]
    if n_jobs in (None, 1) or n < 2:
        return [
            _one_crystal(*a)
            for a in tqdm(args, disable=not verbose, desc="crystals", unit="crystal")
        ]
    size = max(1, min(256, -(-n // 8)))
    chunks = [args[i : i + size] for i in range(0, n, size)]
    parts = parallel_map(
        _chunk,
        [(c,) for c in chunks],
        n_jobs=n_jobs,
        verbose=verbose,
        desc="crystals",
        unit="chunk",
    )
    return [c for part in parts for c in part]
