"""
Zone-axis images, shaped, and diffraction fingerprints
======================================================

Two kinds of 2D diffraction image from
:class:`~skxrd.simulation.DiffractionImageSimulator`:

* kinematic **zone-axis** spot patterns along the lattice vectors a, b and c
  (as in electron diffraction), and the "shaped" images that
  :class:`~skxrd.preprocessing.SpotMeshShaper` makes of them: neighbouring
  spots joined by a line mesh, one RGB image per axis, the input of
  :class:`~skxrd.estimators.MSDNClassifier`;
* rotation-averaged **fingerprints** (R, G, B = rotations about x, y, z), the
  input of :class:`~skxrd.estimators.FingerprintCNNClassifier`.
"""

# %%
# Zone-axis images of a tetragonal crystal
# ----------------------------------------
# Rutile (TiO2, P4_2/mnm) is tetragonal: the images along a and b are one
# pattern turned by 90° (the detector's horizontal axis follows b in the image
# along a and c in the one along b), the one along c (the four-fold axis) is
# square.
import matplotlib.pyplot as plt
import numpy as np

from skxrd.datasets import load_example_crystal
from skxrd.preprocessing import SpotMeshShaper
from skxrd.simulation import DiffractionImageSimulator

rutile = load_example_crystal("TiO2-rutile")
sim = DiffractionImageSimulator(image_size=128, max_g=1.0)
images = sim.transform([rutile])  # (1, 3, 128, 128): one image per axis
print(images.shape, f"pixel size {sim.pixel_size:.4f} 1/Å")

# %%
# Shaping: the central beam is blanked, spots brighter than ``spot_threshold``
# (of 255) are joined when closer than ``mesh_factor`` times the shortest spot
# distance. With ``output="rgb"``, axis ``i`` becomes a colour image whose
# channel ``i`` holds the mesh and whose other channels hold the plain spots.
shaper = SpotMeshShaper(spot_threshold=50, mesh_factor=1.7)
shaped = shaper.fit_transform(images)  # (1, 3 axes, 3 channels, 128, 128)
print(shaped.shape)

fig, axes = plt.subplots(2, 3, figsize=(9, 6.2), layout="constrained")
for i, axis in enumerate("abc"):
    axes[0, i].imshow(np.sqrt(images[0, i]), cmap="gray_r")
    axes[0, i].set_title(f"along {axis}")
    axes[1, i].imshow(np.moveaxis(shaped[0, i], 0, -1))
    axes[1, i].set_title(f"along {axis}, shaped")
for ax in axes.flat:
    ax.set_axis_off()
fig.suptitle("Rutile: zone-axis images (square-root scale) and shaped images")

# %%
# Symmetry in the images
# ----------------------
# The same three axes for a cubic, a hexagonal and a trigonal crystal. Cubic
# crystals give three identical images; the c axis of hexagonal ZnO (wurtzite)
# and of corundum shows six-fold spot nets.
names = ["NaCl", "ZnO", "Al2O3"]
crystals = [load_example_crystal(name) for name in names]
images = sim.transform(crystals)
fig, axes = plt.subplots(3, 3, figsize=(8, 8), layout="constrained")
for row, name in enumerate(names):
    for col, axis in enumerate("abc"):
        axes[row, col].imshow(np.sqrt(images[row, col]), cmap="gray_r")
        axes[row, col].set_title(f"{name} along {axis}", fontsize=9)
        axes[row, col].set_axis_off()

# %%
# Diffraction fingerprints
# ------------------------
# A cluster of the crystal, in units of its mean nearest-neighbour distance,
# rotated by ±45° about x, y and z; each pair of rotations gives one colour
# channel. The fingerprint does not depend on the lattice constant, so it
# tells structure types apart rather than compounds.
fingerprints = DiffractionImageSimulator(mode="fingerprint").transform(
    [load_example_crystal(name) for name in ("Cu", "Fe", "Mg", "NaCl")]
)
fig, axes = plt.subplots(1, 4, figsize=(10, 2.8), layout="constrained")
for ax, image, label in zip(
    axes, fingerprints, ["Cu (fcc)", "Fe (bcc)", "Mg (hcp)", "NaCl (rock salt)"]
):
    ax.imshow(np.moveaxis(np.sqrt(image), 0, -1))
    ax.set_title(label)
    ax.set_axis_off()
plt.show()
