"""Random-crystal generation speed: skxrd against pyxtal, same tasks, one run.

skxrd's ``make_random_crystals`` draws crystals over all 230 space groups
(balanced). pyxtal's ``from_random`` then gets exactly the same tasks: each
crystal's space group and per-element atom counts in the conventional cell (which
are compatible with the group's Wyckoff multiplicities by construction). Both
count valid crystals per second; skxrd's crystals are all checked with spglib,
pyxtal's are counted when ``valid``. The script also reports generate+simulate
patterns/s (skxrd's PowderSimulator, default settings).

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


def pyxtal_rate(tasks, seed=0):
    from pyxtal import pyxtal

    valid, t = 0, time.perf_counter()
    for sg, counts in tasks:
        crystal = pyxtal()
        try:
            crystal.from_random(
                3, sg, list(counts), list(counts.values()), random_state=seed
            )
            valid += bool(crystal.valid)
        except Exception:  # pyxtal raises when it gives up on a composition
            pass
        seed += 1
    return valid / (time.perf_counter() - t), valid


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
    times, crystals = [], None
    for r in range(args.repeats):
        t = time.perf_counter()
        crystals = make_random_crystals(args.n, random_state=r)
        times.append(time.perf_counter() - t)
    rate = args.n / statistics.median(times)
    atoms = np.mean([c.n_atoms for c in crystals])
    verified = np.mean([c.get_space_group() == c.space_group for c in crystals])

    tasks = [(c.space_group, Counter(c.elements)) for c in crystals[: args.peer_n]]
    peer_rates = [pyxtal_rate(tasks, seed=100 * r)[0] for r in range(args.repeats)]
    peer = statistics.median(peer_rates)

    sim = PowderSimulator()
    t = time.perf_counter()
    sim.transform(make_random_crystals(args.n, random_state=99))
    both = args.n / (time.perf_counter() - t)

    print(f"skxrd crystals: mean {atoms:.1f} atoms, {verified:.1%} verified by spglib")
    print(f"{'generator':52s} {'valid/s':>9s} {'vs peer':>8s}")
    print(
        f"{'pyxtal from_random (same groups and compositions)':52s} {peer:9.1f} "
        f"{1:7.1f}x"
    )
    print(f"{'skxrd make_random_crystals, 1 core':52s} {rate:9.1f} {rate / peer:7.1f}x")
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
    """make_random_crystals(composition=...) against pyxtal on fixed tasks."""
    tasks = fixed_tasks()
    k = args.per_task
    times, crystals = [], []
    for r in range(args.repeats):
        t = time.perf_counter()
        crystals = [
            c
            for i, (group, comp) in enumerate(tasks)
            for c in make_random_crystals(
                k, space_groups=group, composition=comp, random_state=1000 * r + i
            )
        ]
        times.append(time.perf_counter() - t)
    rate = len(crystals) / statistics.median(times)
    verified = np.mean([c.get_space_group() == c.space_group for c in crystals])
    atoms = np.mean([c.n_atoms for c in crystals])
    peer_tasks = [(g, Counter(comp)) for g, comp in tasks for _ in range(k)]
    runs = [pyxtal_rate(peer_tasks, seed=100 * r) for r in range(args.repeats)]
    peer = statistics.median(r for r, _ in runs)
    print(
        f"\nfixed compositions: {len(tasks)} tasks (23 groups x SiO2, MgAl2O4, C "
        f"where the group can hold them) x {k}; mean {atoms:.1f} atoms, "
        f"{verified:.1%} verified by spglib; pyxtal made {runs[0][1]} of "
        f"{len(peer_tasks)} valid"
    )
    print(f"{'generator':52s} {'valid/s':>9s} {'vs peer':>8s}")
    print(
        f"{'pyxtal from_random (same groups and compositions)':52s} {peer:9.1f} "
        f"{1:7.1f}x"
    )
    print(
        f"{'skxrd make_random_crystals(composition=), 1 core':52s} {rate:9.1f} "
        f"{rate / peer:7.1f}x"
    )


def realistic(args):
    """CrystalPrior.sample against pyxtal on the same groups and compositions."""
    prior = CrystalPrior(max_atoms=200).fit(load_materials_project())
    prior.sample(50, random_state=123)  # warm the per-group tables
    times, crystals = [], None
    for r in range(args.repeats):
        t = time.perf_counter()
        crystals = prior.sample(args.n, random_state=r)
        times.append(time.perf_counter() - t)
    rate = args.n / statistics.median(times)
    atoms = np.mean([c.n_atoms for c in crystals])
    verified = np.mean([c.get_space_group() == c.space_group for c in crystals])
    tasks = [(c.space_group, Counter(c.elements)) for c in crystals[: args.peer_n]]
    runs = [pyxtal_rate(tasks, seed=100 * r) for r in range(args.repeats)]
    peer = statistics.median(r for r, _ in runs)
    print(
        f"\nrealistic crystals: mean {atoms:.1f} atoms, {verified:.1%} verified by "
        f"spglib; pyxtal made {runs[0][1]} of {len(tasks)} valid"
    )
    print(f"{'generator':52s} {'valid/s':>9s} {'vs peer':>8s}")
    print(
        f"{'pyxtal from_random (same groups and compositions)':52s} {peer:9.1f} "
        f"{1:7.1f}x"
    )
    print(f"{'skxrd CrystalPrior.sample, 1 core':52s} {rate:9.1f} {rate / peer:7.1f}x")


if __name__ == "__main__":
    main()
