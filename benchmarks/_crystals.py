"""A fixed, reproducible set of random crystals for simulation benchmarks.

Random space group (uniform over 1..230), random Wyckoff sites until the cell holds
about ``mean_atoms`` atoms, random free coordinates, a lattice consistent with the
crystal system and ~17 Å³ per atom. Interatomic distances are not checked: the
set measures simulation speed, not chemistry (``skxrd.datasets`` builds physical
crystals).
"""

from __future__ import annotations

import numpy as np

from skxrd.crystal import (
    Crystal,
    default_setting,
    lattice_from_parameters,
    to_crystal_system,
    wyckoff_sites,
)

ELEMENTS = [
    "O",
    "Si",
    "Fe",
    "Na",
    "Mg",
    "Al",
    "Ca",
    "Ti",
    "Ba",
    "La",
    "S",
    "Cl",
    "Cu",
    "Zn",
    "Li",
    "N",
    "C",
    "Mn",
    "Co",
    "Ni",
]


def random_crystals(n: int = 200, mean_atoms: int = 35, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        sg = int(rng.integers(1, 231))
        sites = list(wyckoff_sites(default_setting(sg)).values())
        target = int(rng.integers(mean_atoms // 2, 3 * mean_atoms // 2 + 1))
        chosen, count = [], 0
        for _ in range(50):
            site = sites[int(rng.integers(len(sites)))]
            if count + site.multiplicity > target:
                continue
            # a coordinate the site fixes is 0 (from_wyckoff's placeholder)
            xyz = np.where(site.free, rng.random(3), 0.0)
            chosen.append((str(rng.choice(ELEMENTS)), site.label, xyz))
            count += site.multiplicity
            if count >= target - 1:
                break
        if not chosen:
            continue
        system = str(to_crystal_system(sg))
        volume = 17.0 * count
        a, b, c = rng.uniform(0.8, 1.25, 3)
        angles = dict(alpha=90.0, beta=90.0, gamma=90.0)
        if system == "triclinic":
            angles = dict(zip(("alpha", "beta", "gamma"), rng.uniform(75, 105, 3)))
        elif system == "monoclinic":
            angles["beta"] = rng.uniform(92, 115)
        elif system in ("trigonal", "hexagonal"):
            angles["gamma"] = 120.0
        if system in ("tetragonal", "trigonal", "hexagonal"):
            b = a
        if system == "cubic":
            a = b = c = 1.0
        scale = (
            volume
            / abs(
                np.linalg.det(
                    lattice_from_parameters(
                        a, b, c, angles["alpha"], angles["beta"], angles["gamma"]
                    )
                )
            )
        ) ** (1 / 3)
        kwargs = dict(a=a * scale, b=b * scale, c=c * scale, **angles)
        try:
            crystal = Crystal.from_wyckoff(sg, chosen, **kwargs, name=f"rand{len(out)}")
        except ValueError:  # special coordinates made atoms coincide: draw again
            continue
        out.append(crystal)
    return out
