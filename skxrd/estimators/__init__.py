"""scikit-learn classifiers built on the deep networks of :mod:`skxrd.models`.

Thin facades: hyper-parameters, label encoding, device and training callbacks.
``fit`` builds and trains a :class:`skorch.NeuralNetClassifier` (stored as
``net_``); the estimators work in :class:`~sklearn.pipeline.Pipeline`,
:class:`~sklearn.model_selection.GridSearchCV` and with :mod:`joblib`.

- :class:`ResNetClassifier`: 1D residual network (:class:`skxrd.models.ResNet1D`).
- :class:`DenseNetClassifier`: 1D DenseNet (:class:`skxrd.models.DenseNet1D`).
- :class:`CNNClassifier`: plain 1D CNN (:class:`skxrd.models.CNN1D`).
- :class:`MSDNClassifier`: multi-stream 2D DenseNet for sets of images (e.g.
  shaped zone-axis images along a, b, c).
- :class:`FingerprintCNNClassifier`: six-layer 2D CNN for diffraction
  fingerprints.
- :class:`UnionClassifier`: an extensible union of classifiers on disjoint
  class subsets, ranked by reliability; ``add_classes`` learns new classes
  without touching the existing members.
- :class:`PatternMatchClassifier`: search-match against reference patterns
  (the label of the most similar one), with the similarities to tell whether a
  pattern is in the references at all.
- :class:`MatchFirstClassifier`: search-match for the patterns close to a
  reference, a model (a network) for the others; the shipped models are such
  hybrids.
- :class:`IndexingClassifier`: a space-group classifier whose crystal systems
  are weighed against powder indexing (:mod:`skxrd.indexing`).
- :class:`SymmetryWeightedClassifier`: classes with a known space group (structure
  types, phases) weighed by a space-group classifier's answer.
- :class:`EnsembleClassifier`: classifiers of the same classes whose
  probabilities are averaged, with one temperature.
- :class:`AbstainingClassifier`: wraps any classifier so that ``predict``
  refuses (returns an ``unknown`` label) when its confidence is too low.

Every classifier has ``predict_proba``, ``predict_top_k`` and
``predict_confidence``. For calibrated probabilities use scikit-learn's
temperature scaling on a held-out set:
``CalibratedClassifierCV(FrozenEstimator(clf), method="temperature")``.

Training runs on the GPU when CUDA is available (bf16 autocast), with a seeded
stratified validation split, early stopping, a cosine or plateau learning-rate
schedule, optional checkpoints and train-time augmentation (``augment=``, see
:mod:`skxrd.augmentation`).

Examples
--------
>>> import numpy as np
>>> from sklearn.pipeline import make_pipeline
>>> from skxrd.estimators import CNNClassifier
>>> from skxrd.preprocessing import PatternNormalizer
>>> rng = np.random.default_rng(0)
>>> y = np.repeat(["Fm-3m", "P2_1/c"], 20)
>>> X = rng.random((40, 64))
>>> X[y == "Fm-3m", 30] += 4.0
>>> pipe = make_pipeline(PatternNormalizer(),
...                      CNNClassifier(channels=(8,), max_epochs=20, lr=1e-2,
...                                    random_state=0))
>>> pipe.fit(X, y).score(X, y)
1.0
"""

from ..utils._lazy import lazy_exports

# imported when first used (torch, skorch and scikit-learn take seconds)
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AbstainingClassifier": "._abstain",
        "CNNClassifier": "._classifiers",
        "DenseNetClassifier": "._classifiers",
        "ResNetClassifier": "._classifiers",
        "CoarseLabelClassifier": "._coarse",
        "EnsembleClassifier": "._ensemble",
        "FingerprintCNNClassifier": "._images",
        "IndexingClassifier": "._indexing",
        "MSDNClassifier": "._images",
        "MatchFirstClassifier": "._match",
        "PatternMatchClassifier": "._match",
        "SymmetryWeightedClassifier": "._symmetry",
        "UnionClassifier": "._union",
    },
)

__all__ = [
    "AbstainingClassifier",
    "CNNClassifier",
    "CoarseLabelClassifier",
    "DenseNetClassifier",
    "EnsembleClassifier",
    "FingerprintCNNClassifier",
    "IndexingClassifier",
    "MSDNClassifier",
    "MatchFirstClassifier",
    "PatternMatchClassifier",
    "ResNetClassifier",
    "SymmetryWeightedClassifier",
    "UnionClassifier",
]
