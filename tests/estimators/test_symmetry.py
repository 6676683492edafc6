"""SymmetryWeightedClassifier: classes with a space group, weighed by a
space-group classifier."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from skxrd.estimators import SymmetryWeightedClassifier
from skxrd.estimators._core import (
    SYMMETRY_FLOOR,
    fit_symmetry_weight,
    symmetry_columns,
    symmetry_weighted,
)


def test_symmetry_columns_and_prior():
    # four classes: two of 225, one of 136, one without a known group
    columns, log_prior = symmetry_columns([225, 225, 136, 0], [14, 136, 225])
    assert columns.tolist() == [2, 2, 1, -2]
    np.testing.assert_allclose(np.exp(log_prior), [2 / 3, 2 / 3, 1 / 3, 1.0])
    # a group the symmetry model never answers
    columns, _ = symmetry_columns([225, 62], [225])
    assert columns.tolist() == [0, -1]
    with pytest.raises(ValueError, match="no class has a known space group"):
        symmetry_columns([0, 0], [225])


def test_symmetry_weighted_is_a_product_of_experts():
    proba = np.array([[0.5, 0.3, 0.2, 0.0], [0.25, 0.25, 0.25, 0.25]])
    # symmetry model over (14, 136, 225)
    symmetry = np.array([[0.0, 0.9, 0.1], [0.2, 0.2, 0.6]])
    columns, log_prior = symmetry_columns([225, 225, 136, 0], [14, 136, 225])
    np.testing.assert_array_equal(
        symmetry_weighted(proba, symmetry, columns, log_prior, 0.0), proba
    )
    out = symmetry_weighted(proba, symmetry, columns, log_prior, 1.0)
    np.testing.assert_allclose(out.sum(1), 1.0)
    # row 0: 225 is 0.1 over a share of 2/3, 136 is 0.9 over 1/3; a zero stays zero
    expected = np.array([0.5 * 0.1 / (2 / 3), 0.3 * 0.1 / (2 / 3), 0.2 * 0.9 / (1 / 3)])
    np.testing.assert_allclose(out[0, :3], expected / expected.sum())
    assert out[0, 3] == 0.0
    assert out[0].argmax() == 2  # the symmetry model turned the answer
    # row 1: the class without a group keeps its own factor of 1
    raw = np.array([0.25 * 0.6 * 1.5, 0.25 * 0.6 * 1.5, 0.25 * 0.2 * 3, 0.25])
    np.testing.assert_allclose(out[1], raw / raw.sum())
    # a group the symmetry model gives nothing counts as the floor, not zero
    none = np.array([[0.0, 1.0, 0.0]])
    out = symmetry_weighted(proba[:1], none, columns, log_prior, 1.0)
    assert out[0, 0] > 0
    ratio = out[0, 0] / out[0, 2]
    assert ratio == pytest.approx((0.5 * SYMMETRY_FLOOR * 1.5) / (0.2 * 1.0 * 3))


def test_fit_symmetry_weight_recovers_a_useful_weight_and_zero_for_noise():
    rng = np.random.default_rng(0)
    n, groups = 400, np.array([225, 225, 136, 62])
    target = rng.integers(0, 4, n)
    # a vague classifier and a sharp symmetry model over (62, 136, 225)
    proba = np.full((n, 4), 0.1)
    proba[np.arange(n), target] += 0.2
    proba /= proba.sum(1, keepdims=True)
    true_col = np.searchsorted([62, 136, 225], groups[target])
    symmetry = np.full((n, 3), 0.05)
    symmetry[np.arange(n), true_col] = 0.9
    columns, log_prior = symmetry_columns(groups, [62, 136, 225])
    w = fit_symmetry_weight(proba, symmetry, columns, log_prior, target)
    assert w > 0.5
    # a symmetry model that knows nothing: no weight pays
    noise = rng.dirichlet(np.ones(3), n)
    assert fit_symmetry_weight(proba, noise, columns, log_prior, target) < 0.2


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    y = np.repeat(["rocksalt", "fluorite", "rutile", "anatase"], 30)
    centers = {"rocksalt": 0, "fluorite": 1, "rutile": 2, "anatase": 3}
    X = rng.normal(scale=0.8, size=(len(y), 4))
    X[np.arange(len(y)), [centers[t] for t in y]] += 2.0
    return X, y


def test_fit_fits_both_on_labels_and_their_space_groups(toy):
    X, y = toy
    clf = SymmetryWeightedClassifier(LogisticRegression(), LogisticRegression())
    clf.fit(X, y)
    assert clf.classes_.tolist() == ["anatase", "fluorite", "rocksalt", "rutile"]
    assert clf.class_space_groups_.tolist() == [141, 225, 225, 136]
    assert clf.symmetry_estimator_.classes_.tolist() == [136, 141, 225]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert clf.score(X, y) > 0.8
    # weight 0 is the classifier alone
    alone = clone(clf).set_params(weight=0.0).fit(X, y)
    np.testing.assert_allclose(
        alone.predict_proba(X), alone.estimator_.predict_proba(X)
    )
    # pickled, the same answers
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), proba)


def test_given_space_groups_add_to_and_override_the_library(toy):
    X, y = toy
    y = np.where(y == "anatase", "my-phase", y)
    clf = SymmetryWeightedClassifier(
        LogisticRegression(),
        LogisticRegression(),
        class_space_groups={"my-phase": 62, "rutile": 58},
    ).fit(X, y)
    assert dict(zip(clf.classes_, clf.class_space_groups_.tolist())) == {
        "fluorite": 225,
        "my-phase": 62,
        "rocksalt": 225,
        "rutile": 58,
    }
    # a class without any group: neutral, and its patterns not fitted on
    clf = SymmetryWeightedClassifier(LogisticRegression(), LogisticRegression())
    clf.fit(X, y)
    assert clf.class_space_groups_.tolist() == [225, 0, 225, 136]
    assert clf.symmetry_estimator_.classes_.tolist() == [136, 225]


def test_calibrate_weight_lowers_the_log_loss_on_held_out_patterns(toy):
    X, y = toy
    rng = np.random.default_rng(1)
    order = rng.permutation(len(y))
    fit, held = order[:60], order[60:]
    clf = SymmetryWeightedClassifier(
        LogisticRegression(C=0.01), LogisticRegression(), weight=0.0
    ).fit(X[fit], y[fit])

    def loss(model):
        p = model.predict_proba(X[held])
        idx = np.searchsorted(model.classes_, y[held])
        return -np.mean(np.log(p[np.arange(len(idx)), idx]))

    before = loss(clf)
    clf.calibrate_weight(X[held], y[held])
    assert clf.weight_ > 0 and clf.weight == 0.0  # the parameter is kept
    assert loss(clf) < before
    # refitting starts again from the parameter
    assert clone(clf).fit(X[fit], y[fit]).weight_ == 0.0
    with pytest.raises(ValueError, match="3 patterns but y has 2"):
        clf.calibrate_weight(X[:3], y[:2])
    with pytest.raises(ValueError, match="no label of y is in classes_"):
        clf.calibrate_weight(X[:2], np.array(["x", "z"]))


def test_from_fitted_keeps_both_classifiers(toy):
    X, y = toy
    types = LogisticRegression().fit(X, y)
    groups = LogisticRegression().fit(X, np.where(y == "rutile", 136, 225))
    clf = SymmetryWeightedClassifier.from_fitted(types, groups, weight=0.5)
    assert clf.estimator_ is types and clf.symmetry_estimator_ is groups
    assert clf.weight_ == 0.5
    assert clf.predict(X).shape == (len(y),)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"weight": -1.0}, ValueError, r"weight must be a number >= 0, got -1\.0"),
        ({"weight": "a"}, ValueError, "weight must be a number"),
        # float() took them: weight 1
        ({"weight": True}, ValueError, "weight must be a number >= 0, got True"),
        ({"weight": "1"}, ValueError, "weight must be a number >= 0, got '1'"),
        ({"class_space_groups": {"rutile": 231}}, ValueError, "'rutile' must be 1-230"),
        ({"class_space_groups": {"rutile": 2.5}}, ValueError, "must be an integer"),
        ({"class_space_groups": [136]}, TypeError, "must map labels"),
    ],
)
def test_bad_parameters_are_named(toy, kwargs, error, message):
    X, y = toy
    clf = SymmetryWeightedClassifier(LogisticRegression(), LogisticRegression())
    with pytest.raises(error, match=message):
        clf.set_params(**kwargs).fit(X, y)


def test_labels_without_any_space_group_are_refused():
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.repeat(["a", "b"], 10)
    clf = SymmetryWeightedClassifier(LogisticRegression(), LogisticRegression())
    with pytest.raises(ValueError, match="no class has a known space group"):
        clf.fit(X, y)


def test_add_classes_reaches_the_classifier_with_space_groups(toy):
    X, y = toy

    class Growing(LogisticRegression):
        """A classifier that learns new classes by refitting on all of them."""

        def add_classes(self, X_new, y_new, class_subsets=None):
            self._X = np.vstack([self._X, X_new])
            self._y = np.concatenate([self._y, y_new])
            return super().fit(self._X, self._y)

        def fit(self, X, y):
            self._X, self._y = np.asarray(X), np.asarray(y)
            return super().fit(X, y)

    clf = SymmetryWeightedClassifier(Growing(), LogisticRegression()).fit(X, y)
    rng = np.random.default_rng(2)
    X_new = rng.normal(size=(20, 4)) + 4.0
    y_new = np.repeat(["mine-a", "mine-b"], 10)
    with pytest.raises(ValueError, match="must be 1-230"):
        clf.add_classes(X_new, y_new, space_groups={"mine-a": 0})
    assert len(clf.classes_) == 4  # nothing learned from the refused call
    # a key that is no new label (a typo, an old class) is named, not ignored
    for keys, named in [
        ({"mine_a": 62, "mine-b": 14}, "\\['mine_a'\\] are not new labels"),
        ({"mine-a": 62, y[0]: 225}, f"\\[{str(y[0])!r}\\] are not new labels"),
    ]:
        with pytest.raises(ValueError, match=named + ".*'mine-a', 'mine-b'"):
            clf.add_classes(X_new, y_new, space_groups=keys)
        assert len(clf.classes_) == 4
    clf.add_classes(X_new, y_new, space_groups={"mine-a": 62})
    assert dict(zip(clf.classes_, clf.class_space_groups_.tolist()))["mine-a"] == 62
    assert dict(zip(clf.classes_, clf.class_space_groups_.tolist()))["mine-b"] == 0
    assert clf.predict_proba(X_new).shape == (20, 6)
    plain = SymmetryWeightedClassifier(LogisticRegression(), LogisticRegression())
    with pytest.raises(TypeError, match="has no add_classes"):
        plain.fit(X, y).add_classes(X_new, y_new)


def test_confidence_and_temperature_reach_the_classifier(toy):
    X, y = toy

    class Tempered(LogisticRegression):
        """A classifier with a temperature, as the skxrd networks have."""

        def calibrate_temperature(self, X, y):
            self.calibrated_on_ = len(y)
            return self

    clf = SymmetryWeightedClassifier(Tempered(), LogisticRegression()).fit(X, y)
    np.testing.assert_allclose(
        clf.predict_confidence(X[:5]), clf.predict_proba(X[:5]).max(axis=1)
    )
    clf.calibrate_temperature(X[:40], y[:40])
    assert clf.estimator_.calibrated_on_ == 40 and clf.weight_ >= 0
    # a classifier without one: the weight alone
    plain = SymmetryWeightedClassifier(LogisticRegression(), LogisticRegression()).fit(
        X, y
    )
    assert plain.calibrate_temperature(X[:40], y[:40]).weight_ >= 0


@pytest.mark.parametrize("confidence_head", [False, True])
def test_logit_module_is_predict_proba_after_a_temperature(confidence_head):
    # the attribution maps' module: the network's logits divided by its
    # temperature (as its predict_proba divides them), and a confidence
    # head's (logits, confidence) unpacked
    torch = pytest.importorskip("torch")
    from estimator_data import FAST, TINY_RESNET, peaky_patterns

    from skxrd.estimators import ResNetClassifier

    X, y, _ = peaky_patterns(("rocksalt", "fluorite", "rutile"), n_per_class=12)
    net = ResNetClassifier(
        **TINY_RESNET, **{**FAST, "max_epochs": 3}, confidence_head=confidence_head
    )
    clf = SymmetryWeightedClassifier(net, LogisticRegression()).fit(X, y)
    clf.estimator_.temperature_ = 0.05  # as calibrate_temperature could set it
    module = clf._logit_module().eval()  # as the attribution maps run it
    with torch.no_grad():
        logits = module(torch.as_tensor(X))
    np.testing.assert_allclose(
        torch.softmax(logits.double(), dim=1).numpy(),
        clf.predict_proba(X),
        atol=1e-5,
    )


def test_dataframe_column_names_are_kept_and_checked(toy):
    # fit turned a DataFrame into an array: the classifiers knew no column
    # names, warned at each predict on a DataFrame, and answered one whose
    # columns came in another order without an error
    pd = pytest.importorskip("pandas")
    X, y = toy
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = SymmetryWeightedClassifier(LogisticRegression(), LogisticRegression())
    clf.fit(df, y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    assert list(clf.symmetry_estimator_.feature_names_in_) == ["a", "b", "c", "d"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "fitted without feature names"
        proba = clf.predict_proba(df)
    # the same model as on the array
    plain = clone(clf).fit(X, y)
    np.testing.assert_allclose(proba, plain.predict_proba(X))
    with pytest.raises(ValueError, match="feature names"):
        clf.predict_proba(df[["d", "c", "b", "a"]])


# --------------------------------------------------------------------------- #
# sample weights
# --------------------------------------------------------------------------- #
def test_each_classifier_gets_the_weights_of_its_rows(toy):
    from estimator_data import WeightRecorder

    X, y = toy
    # "mystery" has no known space group: the space-group classifier never sees it
    y = np.where(np.arange(len(y)) % 4 == 0, "mystery", y)
    w = np.random.default_rng(1).uniform(0.2, 3.0, len(y))
    clf = SymmetryWeightedClassifier(WeightRecorder(), WeightRecorder())
    clf.fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(clf.estimator_.weight_seen_, w)
    known = y != "mystery"
    np.testing.assert_array_equal(clf.symmetry_estimator_.weight_seen_, w[known])
    np.testing.assert_array_equal(clf.symmetry_estimator_.X_seen_, X[known])
    # integer weights are repeated patterns (0: left out)
    counts = np.random.default_rng(2).integers(0, 3, len(y))
    counts[:8] = 1
    lr = SymmetryWeightedClassifier(LogisticRegression(), LogisticRegression())
    weighted = clone(lr).fit(X, y, sample_weight=counts)
    repeated = clone(lr).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-5, atol=1e-7
    )


def test_weights_the_space_group_classifier_cannot_use_are_refused(toy):
    from sklearn.neighbors import KNeighborsClassifier

    X, y = toy
    y = np.where(np.arange(len(y)) % 4 == 0, "mystery", y)
    w = np.where(y == "mystery", 1.0, 0.0)
    clf = SymmetryWeightedClassifier(LogisticRegression(), LogisticRegression())
    with pytest.raises(ValueError, match="0 for every pattern of a class with a"):
        clf.fit(X, y, sample_weight=w)
    knn = SymmetryWeightedClassifier(LogisticRegression(), KNeighborsClassifier())
    with pytest.raises(
        TypeError, match=r"symmetry_estimator \(KNeighborsClassifier\) cannot take"
    ):
        knn.fit(X, y, sample_weight=np.ones(len(y)))
    assert not hasattr(knn, "estimator_")  # refused before any training


def test_add_classes_passes_the_weights_to_the_classifier(toy):
    from estimator_data import WeightRecorder, rows_of

    from skxrd.estimators import UnionClassifier

    X, y = toy
    union = UnionClassifier(WeightRecorder(), class_subsets=[sorted(set(y))])
    clf = SymmetryWeightedClassifier(union, LogisticRegression()).fit(X, y)
    rng = np.random.default_rng(3)
    X_new = rng.normal(size=(30, 4)) + 4.0
    y_new = np.repeat(["mine-a", "mine-b"], 15)
    w_new = rng.uniform(0.5, 2.0, 30)
    clf.add_classes(X_new, y_new, space_groups={"mine-a": 62}, sample_weight=w_new)
    # the new member: the new patterns with their weights, old negatives with 1
    member = clf.estimator_.estimators_[-1]
    every_X, every_w = np.vstack([X, X_new]), np.r_[np.ones(len(y)), w_new]
    np.testing.assert_array_equal(
        member.weight_seen_, every_w[rows_of(member.X_seen_, every_X)]
    )
    assert clf.predict_proba(X_new).shape == (30, 6)

    class Growing(LogisticRegression):
        def add_classes(self, X_new, y_new, class_subsets=None):
            return self

    plain = SymmetryWeightedClassifier(Growing(), LogisticRegression()).fit(X, y)
    with pytest.raises(TypeError, match="Growing.*add_classes has no sample_weight"):
        plain.add_classes(X_new, y_new, sample_weight=w_new)


def test_weighted_calibration_is_calibration_on_repetitions(toy):
    import copy

    from skxrd.estimators import EnsembleClassifier

    X, y = toy
    inner = EnsembleClassifier([LogisticRegression()])
    clf = SymmetryWeightedClassifier(inner, LogisticRegression()).fit(X[::2], y[::2])
    Xc, yc = X[1::2], y[1::2]
    counts = np.random.default_rng(4).integers(0, 4, len(yc))
    weighted = copy.deepcopy(clf).calibrate_temperature(Xc, yc, sample_weight=counts)
    repeated = copy.deepcopy(clf).calibrate_temperature(
        np.repeat(Xc, counts, axis=0), np.repeat(yc, counts)
    )
    assert weighted.weight_ == pytest.approx(repeated.weight_, rel=1e-4)
    assert weighted.estimator_.temperature_ == pytest.approx(
        repeated.estimator_.temperature_, rel=1e-4
    )
    plain = copy.deepcopy(clf).calibrate_temperature(Xc, yc)
    assert plain.estimator_.temperature_ != pytest.approx(
        weighted.estimator_.temperature_, rel=1e-3
    )
    # weight only on labels it does not know: refused before anything changes
    before = weighted.estimator_.temperature_
    odd = np.where(np.arange(len(yc)) < 5, "unheard-of", yc)
    with pytest.raises(ValueError, match="sample_weight is 0 for every pattern"):
        weighted.calibrate_temperature(
            Xc, odd, sample_weight=(np.arange(len(yc)) < 5).astype(float)
        )
    assert weighted.estimator_.temperature_ == before

    class Tempered(LogisticRegression):
        def calibrate_temperature(self, X, y):
            self.temperature_ = 2.0
            return self

    other = SymmetryWeightedClassifier(Tempered(), LogisticRegression()).fit(X, y)
    with pytest.raises(TypeError, match=r"estimator \(Tempered\) cannot take it"):
        other.calibrate_temperature(Xc, yc, sample_weight=counts)
    assert not hasattr(other.estimator_, "temperature_")
