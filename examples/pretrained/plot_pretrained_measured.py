"""
Pretrained models on measured patterns
======================================

:func:`skxrd.load_pretrained` returns a fitted
:class:`~skxrd.pretrained.PatternPipeline` that takes measured
:class:`~skxrd.io.Pattern` objects of any grid and wavelength: it resamples
them onto its own 2θ grid through Q, subtracts the background, normalizes and
classifies. Here the crystal-system, space-group and structure-type models
classify the ten measured patterns bundled with skxrd
(:func:`~skxrd.datasets.load_measured_examples`: six synchrotron patterns at
λ ≈ 0.73 Å and four Cu Kα scans of thin films).

These patterns are few and some are textured films: they are a sanity check,
not a benchmark. The model cards (:func:`skxrd.pretrained.model_card`) give the
models' accuracy on held-out synthetic patterns and on measured ones, with the
commands that reproduce each figure.
"""

# %%
# The ten measured patterns
# -------------------------
import matplotlib.pyplot as plt
import numpy as np

import skxrd
from skxrd.datasets import load_measured_examples
from skxrd.inspection import SaliencyDisplay
from skxrd.metrics import CrystalSystemConfusionDisplay
from skxrd.pretrained import evaluate_model, list_pretrained

print(list_pretrained())
data = load_measured_examples()
for name, pattern, system in zip(data.names, data.patterns, data.crystal_system):
    print(f"{name:22s} {system:13s} {pattern}")

# %%
# Crystal systems, top 3
# ----------------------
# The pipeline takes the Pattern objects directly; each pattern's own
# wavelength is used to put it on the model's grid. A warning lists the parts
# of the model's 2θ range that a pattern does not cover (they are filled with
# zeros).
model = skxrd.load_pretrained("crystal-system", device="cpu")
labels, proba = model.predict_top_k(data.patterns, k=3)
for name, truth, top, p in zip(data.names, data.crystal_system, labels, proba):
    answers = ", ".join(f"{label} {q:.2f}" for label, q in zip(top, p))
    print(f"{name:22s} true {truth:13s} predicted {answers}")

# %%
# Scores with :func:`~skxrd.pretrained.evaluate_model` (top-k accuracies and
# the share of the most common label, the accuracy of always answering it):
report = evaluate_model(model, data.patterns, data.crystal_system, k=3)
print({key: report[key] for key in ("n", "top1", "top2", "top3", "majority_share")})

fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
CrystalSystemConfusionDisplay.from_predictions(
    data.crystal_system, labels[:, 0], normalize=None, ax=ax
)

# %%
# What the model looked at
# ------------------------
# The saliency map of the NaCl pattern over the model's 2θ grid (the
# resampled pattern is drawn, at the model's wavelength).
index = data.names.index("NaCl")
fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
SaliencyDisplay.from_estimator(model, data.patterns, index=index, top_k=3, ax=ax)

# %%
# Space groups
# ------------
# The space-group model ranks the space groups it learned; scored against the
# crystal-system labels, its ranked space groups are mapped to crystal systems.
sg_model = skxrd.load_pretrained("space-group", device="cpu")
sg_labels, sg_proba = sg_model.predict_top_k(data.patterns, k=5)
for name, top in zip(data.names, sg_labels):
    symbols = skxrd.crystal.to_symbol(np.asarray(top, dtype=int))
    print(f"{name:22s}", " ".join(f"{s}({n})" for s, n in zip(symbols, top)))
report = evaluate_model(sg_model, data.patterns, data.crystal_system)
print(report["level"], {key: report[key] for key in ("top1", "top2", "top3")})

# %%
# Structure types
# ---------------
# The structure-type model is a union of small networks over the 170 types of
# skxrd's library (:data:`~skxrd.datasets.STRUCTURE_TYPES`). Five of the ten
# patterns are of library types: LaB6 (CaB6 type), SiO2 (alpha-quartz), ZnO
# (wurtzite), NaCl (rock salt) and the cubic FAPbI3 film (perovskite); the
# others are of types it does not know, and still get the nearest one. Its
# saliency map comes from the member network that owns the answer.
st_model = skxrd.load_pretrained("structure-type", device="cpu")
st_labels, st_proba = st_model.predict_top_k(data.patterns, k=3)
for name, top, p in zip(data.names, st_labels, st_proba):
    print(f"{name:22s}", ", ".join(f"{t} {q:.2f}" for t, q in zip(top, p)))
fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
SaliencyDisplay.from_estimator(st_model, data.patterns, index=index, top_k=3, ax=ax)
plt.show()
