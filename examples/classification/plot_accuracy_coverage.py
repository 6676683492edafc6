"""
Abstention: accuracy against coverage, and calibrated probabilities
===================================================================

A classifier that may answer "unknown" trades coverage (the fraction of
patterns it answers) for accuracy on the answers. This example trains a small
:class:`~skxrd.estimators.ResNetClassifier` with a learned confidence head on
the crystal systems of random crystals, a hard task for a model this small,
and shows

* the accuracy-coverage curve (:class:`~skxrd.metrics.AccuracyCoverageDisplay`)
  of its learned confidence and of its highest class probability;
* :class:`~skxrd.estimators.AbstainingClassifier`, which answers ``"unknown"``
  below a confidence threshold;
* temperature scaling with scikit-learn's
  ``CalibratedClassifierCV(FrozenEstimator(clf), method="temperature")`` and the
  expected calibration error before and after.
"""

# %%
# Data: random crystals of all 230 space groups
# ---------------------------------------------
# Three disjoint sets of crystals: training, validation (to choose the
# threshold and the temperature) and test.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split

from skxrd.datasets import make_pattern_dataset
from skxrd.estimators import AbstainingClassifier, ResNetClassifier
from skxrd.metrics import (
    AccuracyCoverageDisplay,
    accuracy_at_coverage,
    expected_calibration_error,
)
from skxrd.simulation import PowderSimulator

simulator = PowderSimulator(two_theta_range=(10, 80), two_theta_step=0.05)
data = make_pattern_dataset(
    2400,
    target="crystal_system",
    n_atoms=(2, 16),
    simulator=simulator,
    random_state=0,
    verbose=False,
)
X, y = np.sqrt(data.X), data.y
# Every random crystal is its own compound: a stratified split keeps the
# rare systems (triclinic: 2 of the 230 space groups) in every set.
train, rest = train_test_split(
    np.arange(len(y)), test_size=1100, stratify=y, random_state=0
)
valid, test = train_test_split(rest, test_size=400, stratify=y[rest], random_state=0)
values, counts = np.unique(y[train], return_counts=True)
print("majority-class baseline:", np.mean(y[test] == values[counts.argmax()]))

# %%
# A network with a learned confidence head
# ----------------------------------------
# ``confidence_head=True`` adds the learned confidence of DeVries & Taylor
# (2018): the network also outputs a number in (0, 1) that it learns to lower
# where its answer is likely wrong; ``predict_confidence`` returns it.
clf = ResNetClassifier(
    depth=4,
    width=16,
    stem_stride=4,
    confidence_head=True,
    max_epochs=20,
    lr=2e-3,
    early_stopping=False,
    num_threads=1,
    random_state=0,
).fit(X[train], y[train])
print(f"test accuracy (answering everything): {clf.score(X[test], y[test]):.3f}")

# %%
# Accuracy against coverage
# -------------------------
# The test patterns are sorted by confidence; answering only the most
# confident ones raises the accuracy. Which confidence ranks the patterns
# better depends on the model and the data: compare them on held-out
# patterns, as here.
fig, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
AccuracyCoverageDisplay.from_estimator(
    clf, X[test], y[test], name="learned confidence", ax=ax
)
AccuracyCoverageDisplay.from_estimator(
    clf, X[test], y[test], confidence="proba", name="highest probability", ax=ax
)
ax.axhline(clf.score(X[test], y[test]), color="gray", ls=":", label="no abstention")
ax.legend()
ax.set_title("Crystal system of random crystals")

y_pred = clf.predict(X[test])
for coverage in (1.0, 0.5, 0.2):
    accuracy = accuracy_at_coverage(
        y[test], y_pred, clf.predict_confidence(X[test]), coverage=coverage
    )
    print(f"accuracy at {coverage:.0%} coverage: {accuracy:.3f}")

# %%
# Saying "unknown"
# ----------------
# :class:`~skxrd.estimators.AbstainingClassifier` wraps the fitted classifier
# (frozen, so that ``fit`` does not retrain it) and refuses the patterns whose
# confidence is below ``threshold``. Here the threshold is the median
# confidence of the validation patterns: about half are answered.
threshold = float(np.median(clf.predict_confidence(X[valid])))
sure = AbstainingClassifier(FrozenEstimator(clf), threshold=threshold)
sure.fit(X[valid], y[valid])
answers = sure.predict(X[test])
answered = answers != "unknown"
print(
    f"threshold {threshold:.3f}: {answered.mean():.0%} answered, "
    f"accuracy on the answers {np.mean(answers[answered] == y[test][answered]):.3f}"
)
print(answers[:8])

# %%
# Temperature scaling
# -------------------
# A network's probabilities are often over- or under-confident. One
# temperature, fitted on the validation patterns, rescales the logits without
# changing the ranking of the classes (the predictions stay the same).
calibrated = CalibratedClassifierCV(FrozenEstimator(clf), method="temperature")
calibrated.fit(X[valid], y[valid])
before = expected_calibration_error(
    y[test], clf.predict_proba(X[test]), labels=clf.classes_
)
after = expected_calibration_error(
    y[test], calibrated.predict_proba(X[test]), labels=calibrated.classes_
)
print(f"expected calibration error: {before:.3f} before, {after:.3f} after")
plt.show()
