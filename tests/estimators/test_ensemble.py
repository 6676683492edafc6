"""EnsembleClassifier: averaged probabilities, one temperature."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB

from skxrd.estimators import CNNClassifier, EnsembleClassifier


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    y = np.digitize(X[:, 0] + 0.7 * X[:, 1] + 0.6 * rng.normal(size=300), [-0.6, 0.6])
    return X[:200], y[:200], X[200:], y[200:]


def test_the_geometric_average_is_the_renormalized_mean_of_log_probabilities(blobs):
    X, y, Xt, _ = blobs
    members = [LogisticRegression(C=0.1), GaussianNB()]
    ens = EnsembleClassifier(members, weights=[1.0, 3.0]).fit(X, y)
    # the members given are cloned, not fitted
    assert not hasattr(members[0], "coef_")
    p = [m.predict_proba(Xt) for m in ens.estimators_]
    expected = np.exp(0.25 * np.log(p[0]) + 0.75 * np.log(p[1]))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ens.predict_proba(Xt), expected, rtol=1e-10)
    np.testing.assert_array_equal(ens.classes_, [0, 1, 2])
    assert ens.n_features_in_ == 6


def test_the_arithmetic_average_is_soft_voting(blobs):
    X, y, Xt, _ = blobs
    members = [("lr", LogisticRegression(C=0.1)), ("nb", GaussianNB())]
    voting = VotingClassifier(members, voting="soft", weights=[2, 1]).fit(X, y)
    ens = EnsembleClassifier(
        [m for _, m in members], weights=[2, 1], average="arithmetic"
    ).fit(X, y)
    np.testing.assert_allclose(ens.predict_proba(Xt), voting.predict_proba(Xt))
    np.testing.assert_array_equal(ens.predict(Xt), voting.predict(Xt))


@pytest.mark.parametrize("average", ["geometric", "arithmetic"])
def test_the_temperature_lowers_the_log_loss_and_keeps_the_ranking(blobs, average):
    X, y, Xt, yt = blobs
    # an overconfident member: the average needs a temperature above 1
    sharp = LogisticRegression(C=1e4)
    ens = EnsembleClassifier([sharp, GaussianNB()], average=average).fit(X, y)
    before = ens.predict_proba(Xt)
    ens.calibrate_temperature(Xt, yt)
    after = ens.predict_proba(Xt)
    assert ens.temperature_ != 1.0
    assert log_loss(yt, after) < log_loss(yt, before)
    np.testing.assert_array_equal(
        np.argsort(after, axis=1, kind="stable"),
        np.argsort(before, axis=1, kind="stable"),
    )
    np.testing.assert_allclose(after.sum(axis=1), 1.0)


def test_from_fitted_keeps_the_members_and_checks_them(blobs):
    X, y, Xt, _ = blobs
    lr = LogisticRegression().fit(X, y)
    nb = GaussianNB().fit(X, y)
    ens = EnsembleClassifier.from_fitted([lr, nb])
    assert ens.estimators_[0] is lr and ens.estimators_[1] is nb
    assert ens.temperature_ == 1.0
    two = LogisticRegression().fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match="estimator 1 has other classes"):
        EnsembleClassifier.from_fitted([lr, two])
    narrow = LogisticRegression().fit(X[:, :4], y)
    with pytest.raises(ValueError, match="different numbers of features"):
        EnsembleClassifier.from_fitted([lr, narrow])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        EnsembleClassifier.from_fitted([lr, GaussianNB()])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"estimators": []}, "at least one classifier"),
        ({"weights": [1.0]}, "weights must be 2 positive numbers"),
        ({"weights": [1.0, -1.0]}, "weights must be 2 positive numbers"),
        ({"weights": [1.0, np.nan]}, "weights must be 2 positive numbers"),
        # a bool weighed as 1; a string failed in float() unnamed
        ({"weights": [True, 1.0]}, "weights must be 2 positive numbers"),
        ({"weights": "ab"}, "weights must be 2 positive numbers"),
        ({"weights": [[1.0], [2.0]]}, "weights must be 2 positive numbers"),
        ({"average": "median"}, "average must be one of"),
    ],
)
def test_bad_parameters_are_named(blobs, params, message):
    X, y, _, _ = blobs
    ens = EnsembleClassifier([LogisticRegression(), GaussianNB()]).set_params(**params)
    with pytest.raises(ValueError, match=message):
        ens.fit(X, y)


def test_it_is_tuned_in_a_grid_search(blobs):
    X, y, _, _ = blobs
    search = GridSearchCV(
        EnsembleClassifier([LogisticRegression(), GaussianNB()]),
        {"weights": [[1, 1], [1, 4]], "average": ["geometric", "arithmetic"]},
        cv=3,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.6


@pytest.mark.parametrize("average", ["geometric", "arithmetic"])
def test_the_logit_module_gives_its_probabilities(average):
    """Attribution maps differentiate the ensemble: the softmax of its logit
    module is predict_proba, the members' and the ensemble's temperatures
    included."""
    import torch

    rng = np.random.default_rng(1)
    X = rng.random((60, 32)).astype(np.float32)
    y = np.repeat([3, 7, 9], 20)
    X[y == 7, 10] += 2.0
    members = [
        CNNClassifier(channels=(4,), max_epochs=2, random_state=s, num_threads=1)
        for s in (0, 1)
    ]
    ens = EnsembleClassifier(members, weights=[2, 1], average=average).fit(X, y)
    ens.estimators_[0].temperature_ = 1.7
    ens.temperature_ = 0.8
    with torch.no_grad():
        z = ens._logit_module()(torch.from_numpy(X[:8]))
    np.testing.assert_allclose(
        torch.softmax(z, dim=1).numpy(), ens.predict_proba(X[:8]), atol=1e-5
    )
    with pytest.raises(ValueError, match="estimator 1 is a LogisticRegression"):
        EnsembleClassifier.from_fitted(
            [ens.estimators_[0], LogisticRegression().fit(X, y)]
        )._logit_module()


def test_the_logit_module_records_the_classes_its_networks_output():
    """For attribution maps: a class has a network output when some member's
    network outputs it (search-match members' own classes have none)."""
    from skxrd.estimators import MatchFirstClassifier, PatternMatchClassifier

    rng = np.random.default_rng(0)
    X = rng.random((30, 32)).astype(np.float32)
    y = np.repeat([3, 7, 9], 10)

    def hybrid(network_classes, seed=0):
        on = np.isin(y, network_classes)
        net = CNNClassifier(
            channels=(4,), max_epochs=1, random_state=seed, num_threads=1
        ).fit(X[on], y[on])
        matcher = PatternMatchClassifier().fit(X[~on], y[~on])
        return MatchFirstClassifier.from_fitted(net, matcher)

    a, b, c = hybrid([3, 7]), hybrid([3, 7], seed=1), hybrid([7, 9])
    for members, expected in [
        ([a, b], [True, True, False]),
        ([a, c], [True, True, True]),
    ]:
        ens = EnsembleClassifier.from_fitted(members)
        np.testing.assert_array_equal(ens._logit_module().has_output, expected)
    # members without constant columns: no record (every class has an output)
    plain = EnsembleClassifier.from_fitted([a.estimator_, b.estimator_])
    assert not hasattr(plain._logit_module(), "has_output")


def test_it_abstains_on_its_confidence(blobs):
    from skxrd.estimators import AbstainingClassifier

    X, y, Xt, _ = blobs
    ens = EnsembleClassifier([LogisticRegression(), GaussianNB()]).fit(X, y)
    np.testing.assert_array_equal(
        ens.predict_confidence(Xt), ens.predict_proba(Xt).max(axis=1)
    )
    unsure = ens.predict_confidence(Xt) < 0.6
    assert 0 < unsure.sum() < len(Xt)
    abstaining = AbstainingClassifier(ens, threshold=0.6, unknown_label=-1)
    refused = abstaining.fit(X, y).predict(Xt)
    np.testing.assert_array_equal(refused == -1, unsure)


# --------------------------------------------------------------------------- #
# sample weights
# --------------------------------------------------------------------------- #
def test_every_member_gets_the_weights(blobs):
    from estimator_data import WeightRecorder
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, _, _ = blobs
    w = np.random.default_rng(1).uniform(0.2, 3.0, len(y))
    pipe = make_pipeline(StandardScaler(), WeightRecorder())
    clf = EnsembleClassifier([WeightRecorder(), pipe, GaussianNB()])
    clf.fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(clf.estimators_[0].weight_seen_, w)
    np.testing.assert_array_equal(clf.estimators_[1][-1].weight_seen_, w)
    nb = GaussianNB().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(clf.estimators_[2].theta_, nb.theta_)
    # integer weights are repeated patterns (0: left out)
    counts = np.random.default_rng(2).integers(0, 4, len(y))
    lr = EnsembleClassifier([LogisticRegression(), GaussianNB()])
    weighted = lr.fit(X, y, sample_weight=counts).predict_proba(X)
    repeated = clone(lr).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted, repeated.predict_proba(X), rtol=1e-5)


def test_an_inner_pipeline_with_metadata_routing_gets_the_weights(blobs):
    import sklearn
    from estimator_data import WeightRecorder
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, _, _ = blobs
    w = np.random.default_rng(3).uniform(0.2, 3.0, len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            WeightRecorder().set_fit_request(sample_weight=True),
        )
        clf = EnsembleClassifier([pipe]).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(clf.estimators_[0][-1].weight_seen_, w)


def test_members_that_cannot_take_weights(blobs):
    from sklearn.frozen import FrozenEstimator
    from sklearn.neighbors import KNeighborsClassifier

    X, y, _, _ = blobs
    w = np.ones(len(y))
    clf = EnsembleClassifier([LogisticRegression(), KNeighborsClassifier()])
    with pytest.raises(TypeError, match=r"estimator 1 \(KNeighborsClassifier\)"):
        clf.fit(X, y, sample_weight=w)
    assert not hasattr(clf, "estimators_")  # refused before any training
    # a frozen member learns nothing: it is left as it is, without the weights
    frozen = FrozenEstimator(KNeighborsClassifier().fit(X, y))
    fitted = EnsembleClassifier([LogisticRegression(), frozen]).fit(
        X, y, sample_weight=w
    )
    assert fitted.estimators_[1].estimator is frozen.estimator
    with pytest.raises(ValueError, match="sample_weight must be finite"):
        clf.fit(X, y, sample_weight=np.full(len(y), np.nan))


def test_the_temperature_of_weights_is_that_of_repetitions(blobs):
    X, y, Xt, yt = blobs
    counts = np.random.default_rng(4).integers(0, 4, len(yt))
    clf = EnsembleClassifier([LogisticRegression(), GaussianNB()]).fit(X, y)
    weighted = clf.calibrate_temperature(Xt, yt, sample_weight=counts).temperature_
    repeated = clf.calibrate_temperature(
        np.repeat(Xt, counts, axis=0), np.repeat(yt, counts)
    ).temperature_
    assert weighted == pytest.approx(repeated, rel=1e-3)
    unweighted = clf.calibrate_temperature(Xt, yt).temperature_
    assert weighted != pytest.approx(unweighted, rel=1e-3)
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        clf.calibrate_temperature(Xt, yt, sample_weight=counts[:3])
