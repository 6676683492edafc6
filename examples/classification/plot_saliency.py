"""
Which lines a classifier looks at: saliency over 2θ
===================================================

Train a small classifier of six simple structure types (fcc, bcc, hcp,
diamond, rock salt, CsCl) and ask which points of a pattern drive its answer,
with :class:`~skxrd.inspection.SaliencyDisplay`: the absolute gradient of the
class logit with respect to each point of the pattern, drawn under the
pattern, with the most probable classes in the title.
"""

# %%
# Data and a small network
# ------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from skxrd.datasets import make_pattern_dataset
from skxrd.estimators import ResNetClassifier
from skxrd.inspection import SaliencyDisplay, integrated_gradients
from skxrd.simulation import PowderSimulator

types = ["fcc", "bcc", "hcp", "diamond", "rocksalt", "cscl"]
simulator = PowderSimulator(two_theta_range=(10, 80), two_theta_step=0.05)
data = make_pattern_dataset(
    100 * len(types),
    target="structure_type",
    prototypes=types,
    n_variants=2,
    simulator=simulator,
    random_state=0,
    verbose=False,
)
X = np.sqrt(data.X)
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
).fit(X[train], data.y[train])
print(f"held-out accuracy: {clf.score(X[test], data.y[test]):.3f}")

# %%
# Saliency maps of two held-out compounds
# ---------------------------------------
# ``x_axis`` puts the map on the simulator's 2θ grid; ``top_k=3`` lists the
# three most probable structure types under the title.
X_test, y_test = X[test], data.y[test]
examples = [np.flatnonzero(y_test == name)[0] for name in ("bcc", "rocksalt")]
fig, axes = plt.subplots(2, 1, figsize=(9, 6.5), layout="constrained")
for ax, index in zip(axes, examples):
    display = SaliencyDisplay.from_estimator(
        clf, X_test, index=index, x_axis=simulator.two_theta, top_k=3, ax=ax
    )
    ax.set_title(
        f"{data.crystals[test[index]].formula} ({y_test[index]})\n"
        + display.ax_.get_title()
    )

# %%
# Much of the saliency falls *between* the lines: a small change there would
# change the answer, because the absence of a line is evidence too (a line at
# those angles would point to another structure type).
#
# Another attribution method
# --------------------------
# Integrated gradients (from an all-zero pattern to the pattern) add up to the
# change of the logit along that path; with a zero baseline they vanish where
# the pattern is zero, so they show which of the lines that are there count.
# ``method=`` of
# :meth:`~skxrd.inspection.SaliencyDisplay.from_estimator` picks any of the
# methods of :mod:`skxrd.inspection`.
index = examples[1]
fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
display = SaliencyDisplay.from_estimator(
    clf,
    X_test,
    index=index,
    x_axis=simulator.two_theta,
    method="integrated_gradients",
    top_k=3,
    ax=ax,
)

# %%
# The maps are arrays, for any further analysis: the points with the largest
# attribution of the rock salt pattern, in 2θ.
attribution = integrated_gradients(clf, X_test[[index]])[0]
strongest = np.sort(simulator.two_theta[np.argsort(-np.abs(attribution))[:5]])
print("largest attributions at 2θ =", np.round(strongest, 2))
plt.show()
