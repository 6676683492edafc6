"""Random-crystal generation speed: skxrd against pyxtal, same tasks, one run.

skxrd's ``make_random_crystals`` draws crystals over all 230 space groups
(balanced). pyxtal's ``from_random`` then gets exactly the same tasks: each
crystal's space group and per-element atom counts in the conventional cell (which
are compatible with the group's Wyckoff multiplicities by construction). Both
count valid crystals per second; skxrd's crystals are all checked inside the
timed call (by moyo, symprec 1e-2 Å; 1e-3 Å before the generator audit),
pyxtal's are counted when ``valid``. After
the timing, spglib checks every crystal of both against its intended group:
the "right group" column, and the speed-up in crystals of the intended group
per second. The two generators take turns, repeat by repeat (task by task with
``--fixed``), and the speed-up is the median of the per-repeat ratios, so that
the drifting load of a shared machine falls on both alike. The script also
reports generate+simulate patterns/s (skxrd's PowderSimulator, default
settings).

With ``--realistic``, the same comparison for realistic random crystals: a
:class:`~skxrd.datasets.CrystalPrior` fitted on the bundled Materials Project
structures (prototypes of up to 200 atoms in the conventional cell) samples the
crystals, and pyxtal gets their space groups and compositions.

With ``--fixed``, pyxtal's own kind of task: fixed compositions in given space
groups. 23 space groups (1, 11, 21, ..., 221) × three formulas (SiO2, MgAl2O4,
C), each at the smallest number of formula units (1–8) whose atoms the group's
Wyckoff orbits can hold with exactly the group's symmetry (found once, before
timing); both generators make ``--per-task`` crystals of every task, skxrd
with ``make_random_crystals(composition=...)``.

Usage::

    python benchmarks/bench_generation.py [--n 230] [--peer-n 230] [--repeats 3]
        [--realistic] [--fixed] [--per-task 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings
from collections import Counter

import numpy as np

from skxrd import PowderSimulator
from skxrd.datasets import CrystalPrior, load_materials_project, make_random_crystals


def pyxtal_crystal(group, counts, seed):
    """pyxtal's ``from_random`` for one task: the crystal, or None when it is
    not ``valid`` or pyxtal gives up."""
    from pyxtal import pyxtal

    crystal = pyxtal()
    try:
        crystal.from_random(
            3, group, list(counts), list(counts.values()), random_state=seed
        )
    except Exception:  # pyxtal raises when it gives up on a composition
        return None
    return crystal if crystal.valid else None


def right_group(crystal, group) -> bool:
    """Whether spglib (symprec 1e-3, skxrd's check's tolerance) finds ``group`` in a
    pyxtal crystal; run outside the timed loops."""
    import spglib

    atoms = crystal.to_ase()
    cell = (atoms.cell[:], atoms.get_scaled_positions(), atoms.numbers)
    data = spglib.get_symmetry_dataset(cell, symprec=1e-3)
    return data is not None and data.number == group


def pyxtal_rate(tasks, seed=0):
    """(valid crystals per second, how many valid, how many of them of the
    intended group) for the tasks, one after the other."""
    made, t = [], time.perf_counter()
    for group, counts in tasks:
        made.append((pyxtal_crystal(group, counts, seed), group))
        seed += 1
    elapsed = time.perf_counter() - t
    valid = [(c, g) for c, g in made if c is not None]
    right = sum(right_group(c, g) for c, g in valid)
    return len(valid) / elapsed, len(valid), right


def take_turns(generate, args):
    """skxrd's ``generate(r)`` and pyxtal on the same tasks, repeat by repeat:
    (skxrd's last crystals, its rates, pyxtal's rates, the share of pyxtal's
    valid crystals that have the intended group)."""
    rates, peers, crystals = [], [], None
    for r in range(args.repeats):
        t = time.perf_counter()
        crystals = generate(r)
        rates.append(len(crystals) / (time.perf_counter() - t))
        tasks = [(c.space_group, Counter(c.elements)) for c in crystals[: args.peer_n]]
        peers.append(pyxtal_rate(tasks, seed=100 * r))
    peer_right = sum(p[2] for p in peers) / max(1, sum(p[1] for p in peers))
    return crystals, rates, [p[0] for p in peers], peer_right


def comparison(name, crystals, rates, peer_rates, peer_right):
    """The table of pyxtal and skxrd's generator ``name``: valid crystals per
    second (medians), the share of the intended group, and the speed-up (the
    median of the per-repeat ratios), also in crystals of the intended group."""
    ratio = statistics.median(a / b for a, b in zip(rates, peer_rates))
    verified = np.mean([c.get_space_group() == c.space_group for c in crystals])
    rows = [
        (
            "pyxtal from_random (same groups and compositions)",
            statistics.median(peer_rates),
            peer_right,
            1.0,
            1.0,
        ),
        (
            name,
            statistics.median(rates),
            verified,
            ratio,
            ratio * verified / peer_right,
        ),
    ]
    print(
        f"{'generator':52s} {'valid/s':>9s} {'right group':>12s} {'vs peer':>8s} "
        f"{'(right group)':>14s}"
    )
    for label, rate, right, speedup, right_speedup in rows:
        print(
            f"{label:52s} {rate:9.1f} {right:12.1%} {speedup:7.1f}x "
            f"{right_speedup:13.1f}x"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=230, help="skxrd crystals per run")
    parser.add_argument(
        "--peer-n",
        type=int,
        default=230,
        help="pyxtal tasks (the first of skxrd's crystals)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="also compare realistic random crystals (CrystalPrior)",
    )
    parser.add_argument(
        "--fixed",
        action="store_true",
        help="also compare fixed compositions in 23 space groups",
    )
    parser.add_argument("--per-task", type=int, default=3)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")

    make_random_crystals(230, random_state=123)  # warm the per-group tables
    crystals, rates, peer_rates, peer_right = take_turns(
        lambda r: make_random_crystals(args.n, random_state=r), args
    )

    sim = PowderSimulator()
    t = time.perf_counter()
    sim.transform(make_random_crystals(args.n, random_state=99))
    both = args.n / (time.perf_counter() - t)

    atoms = np.mean([c.n_atoms for c in crystals])
    print(
        f"random crystals, all 230 groups: mean {atoms:.1f} atoms; "
        f"{args.repeats} repeats, the two taking turns"
    )
    comparison(
        "skxrd make_random_crystals, 1 core", crystals, rates, peer_rates, peer_right
    )
    print(f"{'skxrd generate + simulate (4250-point patterns)':52s} {both:9.1f}")
    if args.realistic:
        realistic(args)
    if args.fixed:
        fixed(args)


FORMULAS = ({"Si": 1, "O": 2}, {"Mg": 1, "Al": 2, "O": 4}, {"C": 1})


def fixed_tasks():
    """(space group, composition) pairs: each formula at its smallest number of
    formula units that the group can hold with exactly its symmetry."""
    tasks = []
    for group in range(1, 231, 10):
        for formula in FORMULAS:
            for z in range(1, 9):
                comp = {el: z * k for el, k in formula.items()}
                try:
                    make_random_crystals(
                        2, space_groups=group, composition=comp, random_state=0
                    )
                except (ValueError, RuntimeError):
                    continue
                tasks.append((group, comp))
                break
    return tasks


def fixed(args):
    """make_random_crystals(composition=...) against pyxtal on fixed tasks.

    The two generators take turns task by task and each sums its own time, so
    that the load of a shared machine, which drifts within seconds, falls on
    both alike; the speed-up is the median of the per-repeat ratios.
    """
    tasks = fixed_tasks()
    k = args.per_task
    rates, peer_rates, crystals, valid, right = [], [], [], 0, 0
    for r in range(args.repeats):
        ours, theirs, crystals, made, seed = 0.0, 0.0, [], [], 100 * r
        for i, (group, comp) in enumerate(tasks):
            t = time.perf_counter()
            crystals += make_random_crystals(
                k, space_groups=group, composition=comp, random_state=1000 * r + i
            )
            ours += time.perf_counter() - t
            t = time.perf_counter()
            for j in range(k):
                made.append((pyxtal_crystal(group, Counter(comp), seed + j), group))
            theirs += time.perf_counter() - t
            seed += k
        made = [(c, g) for c, g in made if c is not None]
        valid += len(made)
        right += sum(right_group(c, g) for c, g in made)
        rates.append(len(crystals) / ours)
        peer_rates.append(len(made) / theirs)
    ratios = [a / b for a, b in zip(rates, peer_rates)]
    atoms = np.mean([c.n_atoms for c in crystals])
    print(
        f"\nfixed compositions: {len(tasks)} tasks (23 groups x SiO2, MgAl2O4, C "
        f"where the group can hold them) x {k}; mean {atoms:.1f} atoms; pyxtal made "
        f"{valid} valid of {len(tasks) * k * args.repeats}; {args.repeats} repeats, "
        f"the two taking turns task by task (per-repeat speed-ups "
        f"{', '.join(f'{x:.1f}' for x in ratios)})"
    )
    comparison(
        "skxrd make_random_crystals(composition=), 1 core",
        crystals,
        rates,
        peer_rates,
        right / max(valid, 1),
    )


def realistic(args):
    """CrystalPrior.sample against pyxtal on the same groups and compositions."""
    prior = CrystalPrior(max_atoms=200).fit(load_materials_project())
    prior.sample(50, random_state=123)  # warm the per-group tables
    crystals, rates, peer_rates, peer_right = take_turns(
        lambda r: prior.sample(args.n, random_state=r), args
    )
    print(
        f"\nrealistic crystals: mean {np.mean([c.n_atoms for c in crystals]):.1f} atoms"
    )
    comparison(
        "skxrd CrystalPrior.sample, 1 core", crystals, rates, peer_rates, peer_right
    )


if __name__ == "__main__":
    main()
