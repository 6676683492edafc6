"""
Powder patterns of a few well-known crystals
============================================

Simulate Cu Kα powder patterns (with the Kα2 doublet) and label the strongest lines.
"""

import matplotlib.pyplot as plt
import numpy as np

from skxrd import PowderSimulator
from skxrd.datasets import load_example_crystal

names = ["Si", "NaCl", "TiO2-rutile", "Al2O3"]
crystals = [load_example_crystal(n) for n in names]
sim = PowderSimulator(radiation="CuKa", crystallite_size=80)
X = sim.transform(crystals)
peaks = PowderSimulator(radiation="CuKa1").peaks(crystals)

fig, ax = plt.subplots(figsize=(9, 6))
for i, (name, pattern, pl) in enumerate(zip(names, X, peaks)):
    ax.plot(sim.two_theta, pattern + 1.2 * i, lw=0.8, label=name)
    for j in np.argsort(-pl.intensity)[:2]:
        ax.annotate(
            "".join(map(str, pl.hkl[j])),
            (pl.two_theta[j], 1.2 * i + 1.0),
            ha="center",
            fontsize=8,
        )
ax.set(xlabel="2θ (degrees)", yticks=[], xlim=(10, 90))
ax.legend(loc="upper right")
plt.show()
