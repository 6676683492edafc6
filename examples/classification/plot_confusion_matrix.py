"""
Crystal-system confusion matrix of a small classifier
=====================================================

Train a small :class:`~skxrd.estimators.ResNetClassifier` to tell the space
group of new compounds of known structure types, and show its errors as a
confusion matrix over the seven crystal systems with
:class:`~skxrd.metrics.CrystalSystemConfusionDisplay`, which maps
space-group labels to crystal systems on the fly.

The compounds are made by :func:`~skxrd.datasets.make_pattern_dataset` with
``target="structure_type"``: element substitution, strain and coordinate
jitter of structure types from skxrd's library. The test compounds are held
out with :class:`~sklearn.model_selection.StratifiedGroupKFold` on
``data.groups``, so that no compound (nor a strained variant of it) is on both
sides of the split.
"""

# %%
# Data: structure types from every crystal system
# -----------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from skxrd.crystal import CRYSTAL_SYSTEMS, to_crystal_system
from skxrd.datasets import STRUCTURE_TYPES, make_pattern_dataset
from skxrd.estimators import ResNetClassifier
from skxrd.metrics import CrystalSystemConfusionDisplay
from skxrd.simulation import PowderSimulator

rng = np.random.default_rng(0)
names = np.array(sorted(STRUCTURE_TYPES))
systems = to_crystal_system([STRUCTURE_TYPES[name].space_group for name in names])
types = [
    name
    for system in CRYSTAL_SYSTEMS
    for name in rng.permutation(names[systems == system])[:6]
]
print(len(types), "structure types")

# A coarser grid than the default (10-80° in 0.05° steps, 1400 points) keeps
# the training fast on a CPU.
simulator = PowderSimulator(two_theta_range=(10, 80), two_theta_step=0.05)
data = make_pattern_dataset(
    20 * len(types),  # 20 compounds per type ...
    target="structure_type",
    prototypes=types,
    n_variants=2,  # ... and 2 strained variants of each
    simulator=simulator,
    random_state=0,
    verbose=False,
)
X = np.sqrt(data.X)  # a square-root scale shows the weak lines
y = data.space_group  # the label: space-group numbers
print(X.shape, len(np.unique(y)), "space groups")

# %%
# Train on four fifths of the compounds
# -------------------------------------
train, test = next(
    StratifiedGroupKFold(5, shuffle=True, random_state=0).split(X, data.y, data.groups)
)
clf = ResNetClassifier(
    depth=4,
    width=16,
    stem_stride=4,
    max_epochs=30,
    lr=2e-3,
    early_stopping=False,
    num_threads=1,
    random_state=0,
)
clf.fit(X[train], y[train])
print(f"space-group accuracy on held-out compounds: {clf.score(X[test], y[test]):.3f}")

# %%
# The confusion matrix over crystal systems
# -----------------------------------------
# The true labels and the predictions are space-group numbers; the display
# counts a prediction as right when it falls in the true crystal system. The
# rows are normalized: the diagonal is the recall of each system.
fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
display = CrystalSystemConfusionDisplay.from_estimator(clf, X[test], y[test], ax=ax)

# %%
# Space-group mistakes are often right about the crystal system:
y_pred = clf.predict(X[test])
same_system = to_crystal_system(y_pred) == to_crystal_system(y[test])
print(f"space group right: {np.mean(y_pred == y[test]):.3f}")
print(f"crystal system right: {np.mean(same_system):.3f}")
plt.show()
