"""sample_weight in fit and the class_weight parameter of the network classifiers."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from estimator_data import FAST, TINY_RESNET, peaky_patterns, small_store

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402
from sklearn.utils import check_random_state  # noqa: E402
from sklearn.utils.class_weight import (  # noqa: E402
    compute_class_weight,
    compute_sample_weight,
)

from skxrd.estimators import (  # noqa: E402
    CNNClassifier,
    DenseNetClassifier,
    FingerprintCNNClassifier,
    MSDNClassifier,
    ResNetClassifier,
)
from skxrd.estimators._base import _NeuralClassifier  # noqa: E402
from skxrd.estimators._data import _holdout_indices  # noqa: E402


def _resnet(**params):
    return ResNetClassifier(**TINY_RESNET, **{**FAST, "max_epochs": 3, **params})


def _state(clf):
    return {k: v.clone() for k, v in clf.net_.module_.state_dict().items()}


def _same_network(a, b, X):
    sa, sb = _state(a), _state(b)
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def _ambiguous(n_ambiguous=20):
    """Two separable classes (225, 14) and patterns that all look alike,
    half of them labelled each class: where the decision lies on those
    follows the classes' weights."""
    X, y, _ = peaky_patterns(n_per_class=12)
    rng = np.random.default_rng(1)
    grid = np.arange(X.shape[1])
    base = np.exp(-0.5 * ((grid - 48.0) / 2.0) ** 2)
    amb = base + rng.normal(0.0, 0.02, (n_ambiguous, X.shape[1]))
    amb = (amb / amb.max(axis=1, keepdims=True)).astype(np.float32)
    X = np.concatenate([X, amb])
    y = np.concatenate([y, np.tile([225, 14], n_ambiguous // 2)])
    return X, y, amb


# --------------------------------------------------------------------------- #
# the default is the training of before
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "weights",
    [
        {"sample_weight": "ones"},
        {"class_weight": {}},
        {"class_weight": {225: 1.0, 14: 1.0}},
        {"class_weight": "balanced"},  # balanced classes: all 1
    ],
)
def test_unit_weights_train_exactly_the_unweighted_network(data, weights):
    X, y, _ = data
    plain = _resnet(validation_fraction=0.25).fit(X, y)
    if "sample_weight" in weights:
        clf = _resnet(validation_fraction=0.25).fit(X, y, sample_weight=np.ones(40))
    else:
        clf = _resnet(validation_fraction=0.25, **weights).fit(X, y)
    _same_network(clf, plain, X)
    np.testing.assert_array_equal(
        clf.history_[:, "valid_loss"], plain.history_[:, "valid_loss"]
    )
    # class_weight=None and no sample_weight: the unweighted loss
    assert plain.net_.criterion_.reduction == "mean"


def test_class_weight_is_a_parameter_that_clone_carries():
    clf = _resnet(class_weight={225: 2.0})
    assert clf.get_params()["class_weight"] == {225: 2.0}
    assert clone(clf).class_weight == {225: 2.0}
    assert "class_weight" in _resnet().get_params()
    for cls in (
        DenseNetClassifier,
        CNNClassifier,
        MSDNClassifier,
        FingerprintCNNClassifier,
    ):
        assert cls(class_weight="balanced").get_params()["class_weight"] == "balanced"
        assert cls().class_weight is None


def test_an_estimator_pickled_before_class_weight_loads_and_predicts(data):
    X, y, _ = data
    clf = _resnet().fit(X, y)
    expected = clf.predict_proba(X)
    del clf.__dict__["class_weight"]  # as pickled by a version without it
    old = pickle.dumps(clf)
    loaded = pickle.loads(old)
    assert loaded.class_weight is None
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert clone(loaded).get_params()["class_weight"] is None
    loaded.fit(X, y, sample_weight=np.linspace(0.5, 1.5, 40))  # and trains


# --------------------------------------------------------------------------- #
# what the weights do
# --------------------------------------------------------------------------- #
def test_up_weighting_a_class_moves_the_decision():
    X, y, amb = _ambiguous()
    params = {"max_epochs": 15, "batch_size": 16}
    share = {}
    for name, weight in (("225", {225: 5.0}), ("14", {14: 5.0}), ("none", None)):
        clf = _resnet(class_weight=weight, **params).fit(X, y)
        column = list(clf.classes_).index(225)
        share[name] = clf.predict_proba(amb)[:, column].mean()
    assert share["225"] > 0.75 > share["none"] > 0.25 > share["14"]
    # sample_weight does what class_weight does
    w = np.where(y == 225, 5.0, 1.0)
    clf = _resnet(**params).fit(X, y, sample_weight=w)
    ref = _resnet(class_weight={225: 5.0}, **params).fit(X, y)
    _same_network(clf, ref, X)


@pytest.mark.parametrize("augment", [False, True])
def test_zero_weight_is_removing_the_samples(data, augment):
    # the samples of weight zero are left out (batches, BatchNorm statistics,
    # validation split): the network of a fit on the others alone, bit for bit
    X, y, _ = data
    params = {"validation_fraction": 0.25, "early_stopping": True, "patience": 2}
    if augment:
        from skxrd.augmentation import default_augmentation

        params["augment"] = default_augmentation(two_theta=np.linspace(10, 80, 96))
    keep = np.arange(len(y)) % 3 != 0
    weighted = _resnet(**params).fit(X, y, sample_weight=keep.astype(float))
    removed = _resnet(**params).fit(X[keep], y[keep])
    _same_network(weighted, removed, X)
    np.testing.assert_array_equal(
        weighted.history_[:, "valid_loss"], removed.history_[:, "valid_loss"]
    )
    # other weights on the others: the removed samples still do not count
    w = np.where(keep, np.linspace(0.5, 2.0, len(y)), 0.0)
    weighted = _resnet(**params).fit(X, y, sample_weight=w)
    removed = _resnet(**params).fit(X[keep], y[keep], sample_weight=w[keep])
    _same_network(weighted, removed, X)


def test_balanced_is_the_dict_of_compute_class_weight():
    X, y, _ = peaky_patterns(n_per_class=20)
    keep = np.r_[np.arange(20), np.arange(20, 40)[:8]]  # 20 against 8
    X, y = X[keep], y[keep]
    classes = np.unique(y)
    manual = dict(zip(classes, compute_class_weight("balanced", classes=classes, y=y)))
    balanced = _resnet(class_weight="balanced").fit(X, y)
    by_hand = _resnet(class_weight=manual).fit(X, y)
    as_samples = _resnet().fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    _same_network(balanced, by_hand, X)
    _same_network(balanced, as_samples, X)
    assert not np.array_equal(
        balanced.predict_proba(X), _resnet().fit(X, y).predict_proba(X)
    )
    # with sample_weight, the counts are weighted (as LogisticRegression does)
    w = np.linspace(0.5, 2.0, len(y))
    cw = compute_class_weight("balanced", classes=classes, y=y, sample_weight=w)
    _same_network(
        _resnet(class_weight="balanced").fit(X, y, sample_weight=w),
        _resnet().fit(X, y, sample_weight=w * cw[np.searchsorted(classes, y)]),
        X,
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"label_smoothing": 0.1},
        {"coarse_loss": {"crystal_system": 1.0, "bravais_lattice": 0.5}},
    ],
)
def test_each_sample_loss_is_multiplied_by_its_weight(data, params):
    # one batch per epoch and (nearly) no step: the first epoch's training
    # loss is sum(w_i * loss_i) / n at the initial network
    X, y, _ = data
    w = np.linspace(0.0, 3.0, len(y))
    fit = {"max_epochs": 1, "batch_size": 64, "lr": 1e-30, "dropout": 0.0, **params}
    clf = _resnet(**fit).fit(X, y, sample_weight=w)
    twice = _resnet(**fit).fit(X, y, sample_weight=2 * w)
    init = _resnet(**fit).fit(X, y)  # the same initial network
    net = init.net_
    criterion = type(net.criterion_)(
        **{
            k[len("criterion__") :]: v
            for k, v in net.get_params().items()
            if k.startswith("criterion__")
        },
        reduction="none",
    )
    module = net.module_.train()
    # batch statistics of the training step (its 39 samples of weight > 0)
    held = w > 0
    with torch.no_grad():
        out = module(torch.from_numpy(X[held]))
        y_idx = torch.from_numpy(np.searchsorted(init.classes_, y[held]))
        losses = criterion(out, y_idx).numpy()
    expected = (w[held] * losses).sum() / held.sum()
    np.testing.assert_allclose(clf.history_[0, "train_loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(twice.history_[0, "train_loss"], 2 * expected, rtol=1e-5)


def test_the_validation_loss_is_weighted(data):
    X, y, _ = data
    w = np.linspace(0.5, 2.0, len(y))
    clf = _resnet(
        validation_fraction=0.25, early_stopping=False, max_epochs=2, random_state=0
    ).fit(X, y, sample_weight=w)
    seed = int(check_random_state(0).randint(np.iinfo(np.int32).max))
    y_idx = np.searchsorted(clf.classes_, y)
    _, valid = _holdout_indices(y_idx, 0.25, seed)
    # the network validated last is the fitted one
    logits = torch.log(torch.from_numpy(clf.predict_proba(X[valid])))
    losses = torch.nn.functional.nll_loss(
        logits, torch.from_numpy(y_idx[valid]), reduction="none"
    ).numpy()
    expected = (w[valid] * losses).sum() / len(valid)
    np.testing.assert_allclose(clf.history_[-1, "valid_loss"], expected, rtol=1e-4)


def test_the_confidence_head_trains_weighted(data):
    X, y, _ = data
    keep = np.arange(len(y)) % 4 != 0
    params = {"confidence_head": True, "validation_fraction": 0.25}
    weighted = _resnet(**params).fit(X, y, sample_weight=keep * 2.0)
    plain = _resnet(**params).fit(X, y, sample_weight=keep * 1.0)
    assert weighted.net_.criterion_.reduction == "none"
    assert np.isfinite(weighted.history_[:, "train_loss"]).all()
    # doubled weights: a doubled loss (Adam's steps are nearly scale-free)
    np.testing.assert_allclose(
        weighted.history_[0, "train_loss"],
        2 * plain.history_[0, "train_loss"],
        rtol=1e-6,
    )
    conf = weighted.predict_confidence(X)
    assert ((conf > 0) & (conf < 1)).all()


# --------------------------------------------------------------------------- #
# routing through scikit-learn
# --------------------------------------------------------------------------- #
def test_pipeline_routes_sample_weight(data):
    X, y, _ = data
    w = np.where(np.arange(len(y)) % 2 == 0, 3.0, 0.5)
    scale = FunctionTransformer(lambda Z: 2 * Z)
    pipe = make_pipeline(scale, _resnet()).fit(X, y, resnetclassifier__sample_weight=w)
    direct = _resnet().fit(2 * X, y, sample_weight=w)
    _same_network(pipe[-1], direct, 2 * X)
    unweighted = make_pipeline(scale, _resnet()).fit(X, y)
    assert not np.array_equal(unweighted.predict_proba(X), pipe.predict_proba(X))


def test_cross_val_score_routes_sample_weight(data):
    import sklearn

    X, y, _ = data
    w = np.linspace(0.2, 3.0, len(y))
    clf = _resnet(max_epochs=2)
    cv = StratifiedKFold(2)
    expected = [
        clone(clf).fit(X[tr], y[tr], sample_weight=w[tr]).score(X[te], y[te])
        for tr, te in cv.split(X, y)
    ]
    got = cross_val_score(clf, X, y, cv=cv, params={"sample_weight": w})
    np.testing.assert_array_equal(got, expected)
    # with metadata routing, the estimator requests it
    with sklearn.config_context(enable_metadata_routing=True):
        routed = clone(clf).set_fit_request(sample_weight=True)
        routed.set_score_request(sample_weight=False)  # accuracy unweighted
        got = cross_val_score(routed, X, y, cv=cv, params={"sample_weight": w})
    np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------------- #
# with the other training features
# --------------------------------------------------------------------------- #
def test_warm_start_with_weights(data):
    X, y, _ = data
    w = np.linspace(0.5, 2.0, len(y))
    first = _resnet(warm_start=True).fit(X, y)
    again = pickle.loads(pickle.dumps(first))
    first.fit(X, y, sample_weight=w)
    again.fit(X, y)
    assert not np.array_equal(first.predict_proba(X), again.predict_proba(X))
    # y may hold a subset of the classes; class_weight names the fit's classes
    only = y == 225
    first.set_params(class_weight={14: 2.0}).fit(X[only], y[only])
    with pytest.raises(ValueError, match="class_weight names 7, which is not a class"):
        first.set_params(class_weight={7: 2.0}).fit(X, y)
    assert list(first.classes_) == [14, 225]


def test_weighted_fit_resumes_and_keeps_apart_from_the_unweighted(data, tmp_path):
    import test_training as tt

    X, y, _ = data
    w = np.where(np.arange(len(y)) % 5 == 0, 0.0, np.linspace(0.5, 2.0, len(y)))
    params = {"validation_fraction": 0.25}
    whole = tt._resumable(**params).fit(X, y, sample_weight=w)
    with (
        tt._StopAfter(2),
        pytest.warns(UserWarning, match="stopped after epoch 2 of 6"),
    ):
        tt._resumable(checkpoint_dir=tmp_path, **params).fit(X, y, sample_weight=w)
    resumed = tt._resumable(checkpoint_dir=tmp_path, **params).fit(
        X, y, sample_weight=w
    )
    _same_network(resumed, whole, X)
    # the unweighted run and other weights are runs of their own
    plain = tt._resumable(checkpoint_dir=tmp_path, **params).fit(X, y)
    _same_network(plain, tt._resumable(**params).fit(X, y), X)
    other = tt._resumable(checkpoint_dir=tmp_path, **params).fit(
        X, y, sample_weight=w * 2
    )
    assert len(other.history_) == 6
    assert len(list(tmp_path.glob("resume-*.pt"))) == 3
    # class_weight and the same sample weights are one run: the finished run
    # is returned, and no state file is added
    as_samples = tt._resumable(checkpoint_dir=tmp_path, **params).fit(
        X, y, sample_weight=np.where(y == 225, 2.0, 1.0)
    )
    assert len(list(tmp_path.glob("resume-*.pt"))) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_classes = tt._resumable(
            checkpoint_dir=tmp_path, class_weight={225: 2.0}, **params
        ).fit(X, y)
    assert len(list(tmp_path.glob("resume-*.pt"))) == 4
    _same_network(as_classes, as_samples, X)


def test_pattern_store_with_weights(tmp_path):
    from skxrd.datasets import PatternStore

    path = small_store(tmp_path / "train.h5")
    w = np.where(np.arange(32) % 4 == 0, 0.0, np.linspace(0.5, 2.0, 32))
    with PatternStore(path) as store:
        X, y = store.X[:], store.y[:]
        on_disk = _resnet(batch_size=16).fit(store, sample_weight=w)
        in_memory = _resnet(batch_size=16).fit(X, y, sample_weight=w)
        np.testing.assert_array_equal(
            on_disk.predict_proba(store), in_memory.predict_proba(X)
        )
        with pytest.raises(ValueError, match="got 31 weights but the pattern store"):
            _resnet().fit(store, sample_weight=w[:31])


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_weighted_fit_on_cuda(data):
    X, y, _ = data
    w = np.where(np.arange(len(y)) % 3 == 0, 0.0, np.linspace(0.5, 2.0, len(y)))
    params = {"device": "cuda", "validation_fraction": 0.25, "class_weight": {14: 2}}
    clf = _resnet(**params).fit(X, y, sample_weight=w)
    assert next(clf.net_.module_.parameters()).is_cuda
    assert np.isfinite(clf.history_[:, "valid_loss"]).all()
    cpu = _resnet(**{**params, "device": "cpu"}).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(
        clf.history_[0, "train_loss"], cpu.history_[0, "train_loss"], rtol=0.05
    )


# --------------------------------------------------------------------------- #
# bad weights: one clear error each
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("sample_weight", "class_weight", "match"),
    [
        (np.ones(39), None, "got 39 weights but X has 40 samples"),
        (np.ones((40, 2)), None, r"one weight per sample \(1D\)"),
        (np.r_[np.nan, np.ones(39)], None, r"sample_weight must be finite.*index 0"),
        (np.r_[np.inf, np.ones(39)], None, r"sample_weight must be finite.*index 0"),
        (np.r_[np.ones(39), -1.0], None, r"sample_weight must be >= 0.*index 39"),
        (np.zeros(40), None, "sample_weight is all zero"),
        (None, "balance", "class_weight must be None, 'balanced' or a dict"),
        (None, ["balanced"], "class_weight must be None, 'balanced' or a dict"),
        (None, {225: 1.0, 99: 2.0}, "class_weight names 99, which is not a class"),
        (None, {"225": 2.0}, "class_weight names '225', which is not a class"),
        (None, {225: -1.0}, r"class_weight\[225\] must be a finite number >= 0"),
        (None, {225: np.nan}, r"class_weight\[225\] must be a finite number"),
        (None, {225: 0, 14: 0}, "gives every sample weight zero"),
        (None, {225: 0}, r"only 1 class with a weight > 0 \(14\).*at least 2"),
        (np.r_[np.zeros(20), np.ones(20)], None, "only 1 class"),
    ],
)
def test_bad_weights_are_one_clear_error(data, sample_weight, class_weight, match):
    X, y, _ = data
    clf = _resnet(class_weight=class_weight)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y, sample_weight=sample_weight)
    assert not hasattr(clf, "net_")


def test_weights_as_a_tensor_or_a_scalar(data):
    X, y, _ = data
    w = np.linspace(0.5, 2.0, len(y))
    ref = _resnet(max_epochs=2).fit(X, y, sample_weight=w)
    # a tensor (that requires grad, or on a GPU) is read on the host
    tensor = torch.tensor(w, requires_grad=True)
    _same_network(_resnet(max_epochs=2).fit(X, y, sample_weight=tensor), ref, X)
    twos = _resnet(max_epochs=2).fit(X, y, sample_weight=2.0)
    _same_network(
        twos, _resnet(max_epochs=2).fit(X, y, sample_weight=np.full(40, 2)), X
    )
    assert twos.net_.criterion_.reduction == "none"


def test_the_callers_weights_are_left_alone(data):
    X, y, _ = data
    w = np.linspace(0.0, 2.0, len(y))
    before = w.copy()
    _resnet(max_epochs=1, class_weight={225: 3.0}).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(w, before)


def test_a_subclass_criterion_without_per_sample_losses_is_named(data):
    X, y, _ = data

    class MeanOnly(torch.nn.Module):
        def __init__(self, reduction="mean"):
            super().__init__()

        def forward(self, logits, target):
            return torch.nn.functional.cross_entropy(logits, target)

    class Custom(ResNetClassifier):
        def _criterion_kwargs(self, classes):
            return {"criterion": MeanOnly}

    with pytest.raises(ValueError, match="criterion that gives one loss per sample"):
        Custom(**TINY_RESNET, **FAST).fit(X, y, sample_weight=np.linspace(1, 2, 40))
    assert issubclass(Custom, _NeuralClassifier)
