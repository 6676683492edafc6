"""Labels, probabilities, top-k, parameters and input validation."""

from __future__ import annotations

import re

import numpy as np
import pytest
from estimator_data import FAST, TINY_RESNET, peaky_patterns
from sklearn.base import clone

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from skxrd.estimators import (  # noqa: E402
    CNNClassifier,
    DenseNetClassifier,
    ResNetClassifier,
)

SMALL = [
    ResNetClassifier(**TINY_RESNET, **FAST),
    DenseNetClassifier(growth_rate=4, block_config=(1, 1), kernel_size=5, **FAST),
    CNNClassifier(channels=(8, 8), kernel_size=5, **FAST),
]
IDS = [type(e).__name__ for e in SMALL]


@pytest.mark.parametrize("estimator", SMALL, ids=IDS)
def test_fit_predict_int_labels(estimator, data):
    X, y, _ = data
    clf = clone(estimator).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [14, 225])
    assert clf.classes_.dtype == y.dtype
    assert clf.n_features_in_ == X.shape[1]
    pred = clf.predict(X)
    assert pred.dtype == y.dtype and set(pred) <= {14, 225}
    assert clf.score(X, y) >= 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba)
    assert 1 <= clf.n_epochs_ <= FAST["max_epochs"]
    assert len(clf.history_) == clf.n_epochs_


@pytest.mark.parametrize(
    "labels",
    [
        ("Fm-3m", "P2_1/c", "P6_3/mmc"),
        (225, 14, 194),
        (-1, 0, 7),
        ("cubic", 3.5, None),  # object labels are rejected by sklearn's checks
    ],
    ids=["str", "space-groups", "negative", "mixed"],
)
def test_label_types(labels):
    X, y_idx, _ = peaky_patterns(labels=(0, 1, 2), n_per_class=12)
    y = np.array(labels, dtype=object)[y_idx]
    clf = ResNetClassifier(**TINY_RESNET, **FAST)
    if labels[-1] is None:
        with pytest.raises((TypeError, ValueError)):
            clf.fit(X, y)
        return
    y = np.array(y.tolist())  # natural dtype: str or int
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    pred = clf.predict(X)
    assert pred.dtype == y.dtype
    assert set(pred) <= set(y.tolist())
    assert clf.score(X, y) > 0.8


def test_predict_top_k(data):
    X, y, _ = peaky_patterns(labels=(1, 2, 3, 4), n_per_class=8)
    clf = ResNetClassifier(**TINY_RESNET, **FAST).fit(X, y)
    proba = clf.predict_proba(X)
    labels, top = clf.predict_top_k(X, k=3)
    assert labels.shape == top.shape == (len(X), 3)
    np.testing.assert_array_equal(labels[:, 0], clf.predict(X))
    assert np.all(np.diff(top, axis=1) <= 0)  # most probable first
    cols = np.searchsorted(clf.classes_, labels)
    np.testing.assert_array_equal(np.take_along_axis(proba, cols, axis=1), top)
    labels_all, top_all = clf.predict_top_k(X, k=10)  # clipped to n_classes
    assert labels_all.shape == (len(X), 4)
    np.testing.assert_allclose(top_all.sum(axis=1), 1.0)
    assert np.all(np.sort(labels_all, axis=1) == clf.classes_)
    with pytest.raises(ValueError, match="k must be"):
        clf.predict_top_k(X, k=0)


def test_network_params_reach_the_module(data):
    X, y, _ = data
    clf = ResNetClassifier(depth=3, width=6, kernel_size=5, **FAST).fit(X, y)
    module = clf.net_.module_
    assert len(module.blocks) == 3
    assert module.stem[0].out_channels == 6
    assert module.stem[0].kernel_size == (5,)
    dense = DenseNetClassifier(
        growth_rate=3, block_config=[1, 2], stem_stride=4, **FAST
    )
    dense.fit(X, y)  # a list (as GridSearchCV may pass) works
    assert dense.get_params()["block_config"] == [1, 2]  # parameter untouched
    assert dense.net_.module_.stem[0].stride == (4,)
    assert DenseNetClassifier(**FAST).fit(X, y).net_.module_.stem[0].stride == (2,)
    with pytest.raises(ValueError, match="stem_stride"):
        DenseNetClassifier(stem_stride=0, **FAST).fit(X, y)
    cnn = CNNClassifier(channels=(5, 7), pool=3, dropout=0.0, **FAST).fit(X, y)
    convs = [m for m in cnn.net_.module_.modules() if isinstance(m, torch.nn.Conv1d)]
    assert [c.out_channels for c in convs] == [5, 7]


def test_get_params_lists_network_and_training_params():
    params = ResNetClassifier().get_params()
    for name in (
        "depth",
        "width",
        "kernel_size",
        "dropout",
        "max_epochs",
        "lr",
        "batch_size",
        "weight_decay",
        "optimizer",
        "lr_schedule",
        "early_stopping",
        "patience",
        "validation_fraction",
        "augment",
        "device",
        "precision",
        "checkpoint_dir",
        "warm_start",
        "random_state",
        "verbose",
        "num_threads",
    ):
        assert name in params
    assert {"growth_rate", "block_config", "stem_stride"} <= set(
        DenseNetClassifier().get_params()
    )
    assert {"channels", "pool"} <= set(CNNClassifier().get_params())


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"optimizer": "adagrad"}, "optimizer"),
        ({"optimizer": object}, "optimizer"),
        ({"lr_schedule": "step"}, "lr_schedule"),
        ({"precision": "fp16"}, "precision"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"patience": 0}, "patience"),
        ({"augment": "strong"}, "augment"),
        ({"augment": 3}, "augment"),
        ({"augment": "default"}, "4250"),
        ({"device": "tpu"}, "device"),
        ({"num_threads": 0}, "num_threads"),
        ({"verbose": -1}, "verbose"),
        ({"checkpoint_dir": 3}, "checkpoint_dir"),
    ],
)
def test_invalid_params(params, match, data):
    X, y, _ = data
    with pytest.raises(ValueError, match=match):
        ResNetClassifier(**TINY_RESNET, **{**FAST, **params}).fit(X, y)


def test_one_class_is_an_error(data):
    X, _, _ = data
    with pytest.raises(ValueError, match="at least 2 classes; got 1 class"):
        ResNetClassifier(**TINY_RESNET, **FAST).fit(X, np.full(len(X), 225))


@pytest.mark.parametrize(
    "labels, types",
    [
        (["x", *[225] * 39], "int, str"),  # numpy: '<' not supported
        ([*[225] * 35, *["a"] * 5], "int, str"),  # sklearn: "Unknown label type"
        ([1.5, *["a"] * 39], "float, str"),
        ([None, *["a"] * 39], "NoneType, str"),
    ],
)
def test_mixed_label_types_are_one_clear_error(labels, types, data):
    from sklearn.linear_model import LogisticRegression

    from skxrd.estimators import SymmetryWeightedClassifier, UnionClassifier

    X, _, _ = data
    y = np.array(labels, dtype=object)
    match = re.escape(f"y mixes label types ({types})")
    for clf in (
        ResNetClassifier(**TINY_RESNET, **FAST),
        UnionClassifier(LogisticRegression()),
        SymmetryWeightedClassifier(LogisticRegression(), LogisticRegression()),
    ):
        with pytest.raises(ValueError, match=match):
            clf.fit(X, y)
    union = UnionClassifier(LogisticRegression(), combiner="reliability")
    union.fit(X, np.repeat(["a", "b"], 20))
    with pytest.raises(ValueError, match=match):
        union.add_classes(X, y)


def test_optimizers_and_precision(data):
    X, y, _ = data
    for optimizer in ("adam", "sgd", torch.optim.RMSprop):
        clf = ResNetClassifier(**TINY_RESNET, **{**FAST, "optimizer": optimizer})
        clf.fit(X, y)
        assert clf.score(X, y) >= 0.9
    sgd = ResNetClassifier(**TINY_RESNET, **{**FAST, "optimizer": "sgd"}).fit(X, y)
    group = sgd.net_.optimizer_.param_groups[0]
    assert group["momentum"] == 0.9 and group["nesterov"]
    # bf16 autocast also runs on CPUs; the probabilities come back as float64
    bf16 = ResNetClassifier(**TINY_RESNET, **{**FAST, "precision": "bf16"})
    proba = bf16.fit(X, y).predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_tags():
    tags = ResNetClassifier(device="cpu").__sklearn_tags__()
    assert tags.estimator_type == "classifier"
    assert not tags.non_deterministic
    assert not tags.input_tags.allow_nan and not tags.input_tags.sparse
    assert not tags.classifier_tags.multi_label


def test_verbose(data, capsys):
    X, y, _ = data
    ResNetClassifier(**TINY_RESNET, **{**FAST, "max_epochs": 2}).fit(X, y)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    verbose = {"max_epochs": 2, "verbose": 1, "validation_fraction": 0.25}
    ResNetClassifier(**TINY_RESNET, **{**FAST, **verbose}).fit(X, y)
    out = capsys.readouterr().out
    assert "epoch" in out and "train_loss" in out and "valid_loss" in out


def test_coarse_loss_and_label_smoothing_change_the_criterion(data):
    from skxrd.models import HierarchicalLoss

    X, _, _ = data
    y = np.repeat([225, 221, 14, 2], len(X) // 4)  # two cubic, two others
    X = X[: len(y)]
    plain = ResNetClassifier(**TINY_RESNET, **FAST).fit(X, y)
    assert type(plain.net_.criterion_) is torch.nn.CrossEntropyLoss
    multi = ResNetClassifier(
        **TINY_RESNET,
        **FAST,
        coarse_loss={"crystal_system": 1.0, "bravais_lattice": 0.5},
        label_smoothing=0.1,
    ).fit(X, y)
    criterion = multi.net_.criterion_
    assert isinstance(criterion, HierarchicalLoss)
    assert criterion.weights == [1.0, 0.5] and criterion.label_smoothing == 0.1
    # classes_ are [2, 14, 221, 225]: triclinic, monoclinic, cubic, cubic
    assert criterion._index_0.tolist() == [2, 1, 0, 0]
    assert not np.allclose(plain.predict_proba(X), multi.predict_proba(X))
    # a zero weight is the plain cross-entropy, bit for bit
    zero = ResNetClassifier(
        **TINY_RESNET, **FAST, coarse_loss={"crystal_system": 0.0}
    ).fit(X, y)
    np.testing.assert_array_equal(zero.predict_proba(X), plain.predict_proba(X))
    # the parameters travel with clone and a model file's get_params
    assert clone(multi).get_params()["coarse_loss"] == multi.coarse_loss


@pytest.mark.parametrize(
    ("params", "labels", "match"),
    [
        ({"coarse_loss": {"crystal": 1.0}}, None, "'crystal' is not one of"),
        ({"coarse_loss": {"crystal_system": -1.0}}, None, "coarse_loss"),
        ({"coarse_loss": [("crystal_system", 1.0)]}, None, "dict of"),
        ({"coarse_loss": {"crystal_system": 1.0}}, ["a", "b"], "space-group numbers"),
        ({"coarse_loss": {"crystal_system": 1.0}}, [231, 14], "class 231"),
        ({"label_smoothing": 1.0}, None, "label_smoothing"),
        ({"label_smoothing": -0.1}, None, "label_smoothing"),
        (
            {"label_smoothing": 0.1, "confidence_head": True},
            None,
            "confidence head",
        ),
    ],
)
def test_coarse_loss_rejects_bad_params(params, labels, match, data):
    X, y, _ = data
    if labels is not None:
        y = np.repeat(labels, len(X) // 2)
    with pytest.raises(ValueError, match=match):
        ResNetClassifier(**TINY_RESNET, **{**FAST, **params}).fit(X, y)


def _modes(clf):
    net = clf.net_
    return [
        m.training for part in (net.module_, net.criterion_) for m in part.modules()
    ]


def test_fitted_network_is_in_eval_mode(data):
    """Without a validation pass, fit (and a restore from stored weights) left
    the network in training mode until the first predict switched it to eval:
    ``net_.module_(x)`` answered with batch statistics and dropout before and
    with the running statistics after a predict."""
    X, y, _ = data
    clf = ResNetClassifier(**TINY_RESNET, **FAST).fit(X, y)  # no validation
    assert not any(_modes(clf))
    restored = ResNetClassifier(**TINY_RESNET, **FAST)._restore(
        clf.classes_, X.shape[1], clf.net_.module_.state_dict()
    )
    assert not any(_modes(restored))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_predict_keeps_the_networks_mode(data):
    """skorch's evaluation step put the network in eval mode and left it there."""
    X, y, _ = data
    clf = ResNetClassifier(**TINY_RESNET, **FAST).fit(X, y)
    expected = clf.predict_proba(X)
    # a network put in training mode: predict answers in eval mode and leaves
    # every module's mode as it was
    clf.net_.module_.train()
    clf.net_.criterion_.train()
    clf.net_.module_.blocks[0].eval()  # a mixed state, kept module by module
    modes = _modes(clf)
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[expected.argmax(1)])
    clf.predict_confidence(X[:3])
    clf.calibrate_temperature(X, y)
    assert _modes(clf) == modes


@pytest.mark.parametrize("estimator", SMALL, ids=IDS)
def test_overflowing_patterns_are_one_clear_error(estimator, data):
    """Finite float32 values that overflow inside the network gave NaN
    probabilities and ``predict`` answered the first class for them, silently."""
    X, y, _ = data
    clf = clone(estimator).set_params(max_epochs=1).fit(X, y)
    Z = X[:5].copy()
    Z[[1, 3]] = 3e38  # finite in float32: validate_data lets them through
    message = re.escape("not finite for 2 of 5 patterns (rows 1, 3 of X)")
    for method in (clf.predict, clf.predict_proba, clf.predict_confidence):
        with pytest.raises(ValueError, match=message):
            method(Z)
    # the rows of X are named, also where unknown labels are left out
    labels = np.array([-1, *y[1:5]])
    with pytest.raises(ValueError, match=re.escape("2 of 4 patterns (rows 1, 3")):
        clf.calibrate_temperature(Z, labels)
    # large but harmless values still get an answer
    assert np.isfinite(clf.predict_proba(X[:5] * 1e6)).all()
