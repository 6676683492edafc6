"""Validity sweep of the random crystal generators, group by group.

For ``make_random_crystals`` (``--per-group`` crystals of each of the 230 space
groups, default settings, seeded), ``CrystalPrior.sample`` (fitted on the
bundled Materials Project structures) and ``make_variants`` (of real Materials
Project structures and of random crystals), every crystal is checked for:

- its space group: spglib at symprec 1e-3 Å (the generators' documented
  tolerance) must find exactly the label; the groups found at 1e-2 and 0.1 Å are
  counted too (a crystal a few thousandths of an ångström from a supergroup
  gives that supergroup's powder pattern);
- the minimum distance: no two atoms closer than ``distance_tolerance`` times
  their covalent-radius sum (brute force over ±3 images);
- occupancies in (0, 1], a cell with a positive volume and a density within
  0.05-30 g/cm³;
- the atom count within ``n_atoms`` (or the group's documented minimum);
- the same crystals for the same ``random_state`` with ``n_jobs=1`` and
  ``n_jobs=2``.

Prints the failures per class and per group::

    OMP_NUM_THREADS=1 python experiments/generator_sweep.py --per-group 4
"""

from __future__ import annotations

import argparse
import collections
import time
import warnings

import numpy as np

from skxrd.datasets import (
    CrystalPrior,
    covalent_radius,
    load_materials_project,
    make_random_crystals,
    make_variants,
)

_IMAGES = np.array(
    [(i, j, k) for i in range(-3, 4) for j in range(-3, 4) for k in range(-3, 4)],
    dtype=float,
)


def spglib_group(crystal, symprec):
    """spglib's group of the crystal (elements as atomic numbers), or 0."""
    import spglib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data = spglib.get_symmetry_dataset(crystal.to_spglib_cell(), symprec=symprec)
    return 0 if data is None else int(data.number)


def average_group(crystal, symprec=1e-3):
    """spglib's group of the average structure: each site typed by what it
    holds (elements with their occupancies), co-located atoms one site."""
    import spglib

    frac = np.mod(np.asarray(crystal.frac_coords), 1.0)
    occ = np.asarray(crystal.occupancies)
    d = frac[:, None, :] - frac[None, :, :]
    d -= np.rint(d)
    close = np.linalg.norm(d @ crystal.lattice, axis=-1) < 1e-3
    sites, kinds = [], []
    done = np.zeros(len(frac), bool)
    for i in range(len(frac)):
        if done[i]:
            continue
        group = np.flatnonzero(close[i])
        done[group] = True
        sites.append(frac[i])
        kinds.append(
            tuple(sorted((crystal.elements[j], round(float(occ[j]), 4)) for j in group))
        )
    types = {k: n + 1 for n, k in enumerate(dict.fromkeys(kinds))}
    cell = (crystal.lattice, np.array(sites), [types[k] for k in kinds])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data = spglib.get_symmetry_dataset(cell, symprec=symprec)
    return 0 if data is None else int(data.number)


def min_distance_ratio(crystal):
    """Nearest distance over covalent-radius sum, brute force over ±3 images;
    atoms whose occupancies add up to at most 1 (alternatives) are skipped."""
    frac = np.asarray(crystal.frac_coords)
    d = frac[:, None, :] - frac[None, :, :]
    d -= np.rint(d)
    cart = (d[:, :, None, :] + _IMAGES) @ crystal.lattice
    dist = np.linalg.norm(cart, axis=-1)
    n = len(frac)
    dist[np.arange(n), np.arange(n), len(_IMAGES) // 2] = np.inf
    dist = dist.min(-1)
    occ = np.asarray(crystal.occupancies)
    dist[occ[:, None] + occ[None, :] <= 1.0 + 1e-6] = np.inf
    r = np.array([covalent_radius(e) for e in crystal.elements])
    return float((dist / (r[:, None] + r[None, :])).min())


def check(crystal, tolerance, n_atoms=None):
    """The failure classes of one crystal (a list of strings) and the groups
    spglib finds at 1e-3, 1e-2 and 0.1 Å."""
    fails = []
    found = [spglib_group(crystal, s) for s in (1e-3, 1e-2, 1e-1)]
    if found[0] != crystal.space_group:
        fails.append("group@1e-3")
    elif found[1] != crystal.space_group:
        fails.append("supergroup within 0.01 Å")
    if min_distance_ratio(crystal) < tolerance - 1e-9:
        fails.append("distance")
    occ = np.asarray(crystal.occupancies)
    if not np.all((occ > 0) & (occ <= 1)):
        fails.append("occupancy")
    if not (crystal.volume > 0 and 0.05 <= crystal.density <= 30):
        fails.append("cell/density")
    if n_atoms is not None and not n_atoms[0] <= crystal.n_atoms <= n_atoms[1]:
        fails.append("n_atoms")
    return fails, found


def same(a, b):
    return (
        a.species == b.species
        and np.array_equal(a.lattice, b.lattice)
        and np.array_equal(a.frac_coords, b.frac_coords)
        and np.array_equal(a.occupancies, b.occupancies)
    )


def report(title, crystals, tolerance, n_atoms=None, seconds=None):
    fails = collections.Counter()
    by_group = collections.defaultdict(collections.Counter)
    near = collections.Counter()
    examples = {}
    for c in crystals:
        f, found = check(c, tolerance, n_atoms)
        for what in f:
            fails[what] += 1
            by_group[c.space_group][what] += 1
            examples.setdefault(what, (c.name, c.space_group, found))
        if found[0] == c.space_group:
            for s, g in zip(("1e-2", "1e-1"), found[1:]):
                if g != c.space_group:
                    near[s] += 1
    rho = [c.density for c in crystals]
    rate = f", {len(crystals) / seconds:.0f} crystals/s" if seconds else ""
    rate += f", density {min(rho):.2f}-{max(rho):.2f} g/cm³"
    print(f"\n== {title}: {len(crystals)} crystals{rate}")
    print(f"failures: {dict(fails) or 'none'}")
    for what, ex in examples.items():
        print(f"  e.g. {what}: {ex[0]} label {ex[1]}, spglib 1e-3/1e-2/0.1: {ex[2]}")
    print(
        "right at 1e-3 Å but another group at 1e-2 Å: "
        f"{near['1e-2']}, at 0.1 Å: {near['1e-1']}"
    )
    if by_group:
        print("per group:", {g: dict(v) for g, v in sorted(by_group.items())})
    return fails


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-group", type=int, default=4)
    parser.add_argument("--prior", type=int, default=460)
    parser.add_argument("--variants", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n = 230 * args.per_group

    t = time.perf_counter()
    uniform = make_random_crystals(n, random_state=args.seed)
    seconds = time.perf_counter() - t
    report("make_random_crystals, all 230 groups", uniform, 0.75, None, seconds)
    again = make_random_crystals(n, random_state=args.seed, n_jobs=2)
    print("same seed, n_jobs=2:", sum(map(same, uniform, again)), "of", n, "equal")
    small = make_random_crystals(n, n_atoms=(2, 6), random_state=args.seed + 1)
    report("make_random_crystals, n_atoms=(2, 6)", small, 0.75)
    for title, crystals, (lo, hi) in (
        ("(4, 40)", uniform, (4, 40)),
        ("(2, 6)", small, (2, 6)),
    ):
        below = collections.Counter(c.space_group for c in crystals if c.n_atoms < lo)
        above = collections.Counter(c.space_group for c in crystals if c.n_atoms > hi)
        print(
            f"n_atoms={title}: below {dict(below)}; above (group minimum) "
            f"{len(above)} groups, e.g. {dict(list(above.items())[:6])}"
        )
    from skxrd.datasets._random import _composition_possible

    pairs = (("Si", 8), ("O", 16))
    possible = [g for g in range(1, 231) if _composition_possible(g, pairs)]
    comp, impossible = [], []
    for g in possible:
        try:
            comp += make_random_crystals(
                1, space_groups=g, composition=dict(pairs), random_state=g
            )
        except RuntimeError:  # every orbit combination has more symmetry
            impossible.append(g)
    print("\nSi8O16: RuntimeError (no orbits with exactly the group) in", impossible)
    bad = [c.name for c in comp if c.composition != {"Si": 8.0, "O": 16.0}]
    report(f"make_random_crystals, Si8O16 in {len(possible)} groups", comp, 0.75)
    print("wrong composition:", bad or "none")

    mp = load_materials_project()
    prior = CrystalPrior(max_atoms=200).fit(mp)
    t = time.perf_counter()
    drawn = prior.sample(args.prior, random_state=args.seed)
    seconds = time.perf_counter() - t
    report("CrystalPrior(max_atoms=200).sample", drawn, 0.75, None, seconds)
    again = prior.sample(args.prior, random_state=args.seed)
    print("same seed again:", sum(map(same, drawn, again)), "of", len(drawn), "equal")

    rng = np.random.default_rng(args.seed)
    # the collection's labels are spglib's at 0.1 Å, make_variants' default
    # symprec: the variants of real structures are checked at 0.1 Å
    pick = rng.choice(len(mp.crystals), args.variants)
    real = [mp.crystals[i].replace(space_group=int(mp.space_group[i])) for i in pick]
    for title, sources, symprec in (
        ("real MP", real, 0.1),
        ("random", uniform[: args.variants], 1e-3),
    ):
        variants, source = make_variants(sources, 2, random_state=args.seed)
        fails = collections.Counter()
        kinds = collections.Counter()
        examples = []
        for v, s in zip(variants, source):
            ordered = np.all(np.asarray(v.occupancies) == 1)
            kind = "ordered" if ordered else "partial"
            kinds[kind] += 1
            if v.space_group != sources[s].space_group:
                fails["label changed"] += 1
            # the average structure (sites typed by element and occupancy)
            # must keep the label exactly
            if average_group(v, symprec) != v.space_group:
                fails[f"{kind}: another group at {symprec} Å"] += 1
                if len(examples) < 3:
                    examples.append((v.name, v.space_group, average_group(v, symprec)))
            occ = np.asarray(v.occupancies)
            if not np.all((occ > 0) & (occ <= 1)):
                fails["occupancy"] += 1
        print(f"\n== make_variants of {len(sources)} {title} crystals: {dict(kinds)}")
        print("failures:", dict(fails) or "none", examples)


if __name__ == "__main__":
    main()
