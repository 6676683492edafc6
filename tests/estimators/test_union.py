"""Confidence heads, the extensible union, abstention and calibration."""

from __future__ import annotations

import copy
import io
import pickle

import joblib
import numpy as np
import pytest
from estimator_data import FAST, TINY_RESNET, WeightRecorder, peaky_patterns, rows_of
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from skxrd.estimators import (  # noqa: E402
    AbstainingClassifier,
    ResNetClassifier,
    UnionClassifier,
)
from skxrd.metrics import expected_calibration_error  # noqa: E402
from skxrd.models import ConfidenceLoss  # noqa: E402

MEMBER = ResNetClassifier(**TINY_RESNET, **FAST, confidence_head=True)
LABELS = ("A", "B", "C", "D", "E", "F")


@pytest.fixture(scope="module")
def six():
    """(X, y): 6 classes of peaky patterns, 16 each."""
    X, y, _ = peaky_patterns(LABELS, n_per_class=16, random_state=3)
    return X, y


def _state(member):
    return {k: v.clone() for k, v in member.net_.module_.state_dict().items()}


# --------------------------------------------------------------------------- #
# confidence head
# --------------------------------------------------------------------------- #
def test_confidence_head_outputs(data):
    X, y, _ = data
    clf = clone(MEMBER).fit(X, y)
    confidence = clf.predict_confidence(X)
    assert confidence.shape == (len(X),)
    assert np.all((confidence > 0) & (confidence < 1))
    # the head, not the highest probability
    assert not np.allclose(confidence, clf.predict_proba(X).max(axis=1))
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert clf.score(X, y) >= 0.9
    assert isinstance(clf.net_.criterion_, ConfidenceLoss)
    # survives pickling with identical outputs
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    np.testing.assert_array_equal(loaded.predict_confidence(X), confidence)


def test_without_head_confidence_is_max_probability(data):
    X, y, _ = data
    clf = ResNetClassifier(**TINY_RESNET, **FAST).fit(X, y)
    np.testing.assert_array_equal(
        clf.predict_confidence(X), clf.predict_proba(X).max(axis=1)
    )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"confidence_head": "yes"}, "confidence_head must be True or False"),
        ({"confidence_budget": 0.0}, "confidence_budget must be"),
        ({"stem_stride": 0}, "stem_stride"),
    ],
)
def test_confidence_parameters_validated(data, params, match):
    X, y, _ = data
    with pytest.raises(ValueError, match=match):
        clone(MEMBER).set_params(**params).fit(X, y)


def test_confidence_loss_budget_adapts():
    loss = ConfidenceLoss(budget=0.3, lmbda=0.1)
    logits, target = torch.zeros(8, 3), torch.zeros(8, dtype=torch.long)
    for _ in range(10):  # -log(0.5) = 0.69 > budget: the penalty grows
        loss((logits, torch.full((8,), 0.5)), target)
    assert loss.lmbda == pytest.approx(0.1 / 0.99**10)
    for _ in range(5):  # -log(0.99) < budget: it shrinks
        loss((logits, torch.full((8,), 0.99)), target)
    assert loss.lmbda == pytest.approx(0.1 / 0.99**10 / 1.01**5)
    with pytest.raises(ValueError, match="logits, confidence"):
        loss(logits, target)
    with pytest.raises(ValueError, match="budget"):
        ConfidenceLoss(budget=-1)


# --------------------------------------------------------------------------- #
# UnionClassifier
# --------------------------------------------------------------------------- #
def test_union_fit_predict_and_reliability(six):
    X, y = six
    union = UnionClassifier(
        MEMBER,
        class_subsets=[["A", "B", "C"], ["D", "E", "F"]],
        combiner="reliability",
        random_state=0,
    ).fit(X, y)
    assert union.router_ is None and union.combiner_ == "reliability"
    assert len(union.holdout_y_) == 0
    assert [s.tolist() for s in union.class_subsets_] == [
        ["A", "B", "C"],
        ["D", "E", "F"],
    ]
    np.testing.assert_array_equal(union.classes_, LABELS)
    assert union.class_means_.shape == (6, X.shape[1])
    assert union.score(X, y) >= 0.9
    proba = union.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    pred = union.predict(X)
    np.testing.assert_array_equal(union.classes_[proba.argmax(axis=1)], pred)

    details = union.reliability(X)
    assert details.reliability.shape == (len(X), 2)
    rows = np.arange(len(X))
    # the answer is the most reliable member's own prediction
    np.testing.assert_array_equal(details.member, details.reliability.argmax(axis=1))
    np.testing.assert_array_equal(details.label[rows, details.member], pred)
    # r = 0.3 c + 0.7 s, with s = 0.5 + 0.5 cos in [0.5, 1] for patterns >= 0
    np.testing.assert_allclose(
        details.reliability, 0.3 * details.confidence + 0.7 * details.similarity
    )
    np.testing.assert_allclose(
        union.predict_confidence(X), details.reliability[rows, details.member]
    )
    # members learn a "none of mine" class from the other members' classes;
    # their confidence is the head's times the probability of "mine"
    member0 = union.estimators_[0]
    np.testing.assert_array_equal(member0.classes_, ["<other>", "A", "B", "C"])
    assert set(union.negatives_y_) == set(LABELS)
    p_mine = 1 - member0.predict_proba(X)[:, 0]
    np.testing.assert_allclose(
        details.confidence[:, 0], member0.predict_confidence(X) * p_mine, rtol=1e-9
    )
    # the similarity is measured against the mean pattern of the member's class
    k = details.label[0, 1]
    mean = union.class_means_[union.classes_ == k][0]
    cos = X[0] @ mean / (np.linalg.norm(X[0]) * np.linalg.norm(mean))
    assert details.similarity[0, 1] == pytest.approx(0.5 + 0.5 * cos, rel=1e-5)


def test_union_without_negatives_is_the_original_scheme(six):
    X, y = six
    union = UnionClassifier(
        MEMBER,
        class_subsets=[["A", "B", "C"], ["D", "E", "F"]],
        negatives_per_class=0,
        random_state=0,
    ).fit(X, y)
    member0 = union.estimators_[0]
    np.testing.assert_array_equal(member0.classes_, ["A", "B", "C"])
    assert len(union.negatives_y_) == 0
    np.testing.assert_allclose(
        union.reliability(X).confidence[:, 0], member0.predict_confidence(X)
    )


def test_negatives_drawn_per_class(six):
    X, y = six
    union = UnionClassifier(
        MEMBER,
        class_subsets=[["A", "B", "C"], ["D", "E", "F"]],
        negatives_per_class=3,
        random_state=0,
    ).fit(X, y)
    labels, counts = np.unique(union.negatives_y_, return_counts=True)
    np.testing.assert_array_equal(labels, LABELS)
    assert np.all(counts == 3)
    # every negative is a training pattern of its class
    for pattern, label in zip(union.negatives_X_, union.negatives_y_):
        assert np.any(np.all(X[y == label] == pattern, axis=1))


def test_union_alpha_zero_ranks_by_confidence(six):
    X, y = six
    union = UnionClassifier(
        MEMBER,
        class_subsets=[["A", "B", "C"], ["D", "E", "F"]],
        alpha=0.0,
        random_state=0,
    ).fit(X, y)
    details = union.reliability(X)
    np.testing.assert_array_equal(details.reliability, details.confidence)


def test_add_classes_leaves_members_bit_identical(six):
    X, y = six
    old = np.isin(y, ["A", "B", "C", "D"])
    union = UnionClassifier(MEMBER, max_classes_per_member=2, random_state=0).fit(
        X[old], y[old]
    )
    assert len(union.estimators_) == 2
    states = [_state(m) for m in union.estimators_]
    members = list(union.estimators_)
    blobs = [pickle.dumps(m.net_.module_.state_dict()) for m in members]
    old_outputs = [m.predict_proba(X) for m in members]

    union.add_classes(X[~old], y[~old])
    np.testing.assert_array_equal(union.classes_, LABELS)
    assert len(union.estimators_) == 3
    assert [s.tolist() for s in union.class_subsets_][-1] == ["E", "F"]
    # the new member learned the old classes as "none of mine"
    np.testing.assert_array_equal(union.estimators_[-1].classes_, ["<other>", "E", "F"])
    assert set(union.negatives_y_) == set(LABELS)
    for member, before, state, blob, output in zip(
        union.estimators_, members, states, blobs, old_outputs
    ):
        assert member is before
        after = member.net_.module_.state_dict()
        assert all(torch.equal(state[k], after[k]) for k in state)
        assert pickle.dumps(after) == blob
        np.testing.assert_array_equal(member.predict_proba(X), output)
    # the means of the old classes are unchanged, the new ones added (from
    # the patterns the new member trained on, not the router's held-out ones)
    held_out = np.array([np.any(np.all(x == union.holdout_X_, axis=1)) for x in X])
    np.testing.assert_allclose(
        union.class_means_[union.classes_ == "E"][0],
        X[(y == "E") & ~held_out].mean(axis=0),
        atol=1e-6,
    )
    assert union.score(X[~old], y[~old]) >= 0.9
    assert union.score(X, y) >= 0.85


def test_learned_router(six):
    X, y = six
    union = UnionClassifier(
        MEMBER,
        class_subsets=[["A", "B", "C"], ["D", "E", "F"]],
        holdout_per_class=4,
        random_state=0,
    ).fit(X, y)
    assert union.combiner_ == "learned"
    np.testing.assert_array_equal(union.router_.classes_, [0, 1])
    # 4 patterns per class held out; the members never trained on them
    labels, counts = np.unique(union.holdout_y_, return_counts=True)
    np.testing.assert_array_equal(labels, LABELS)
    assert np.all(counts == 4)
    held_out = np.array([np.any(np.all(x == union.holdout_X_, axis=1)) for x in X])
    assert held_out.sum() == 24
    for pattern in union.negatives_X_:
        assert not np.any(np.all(union.holdout_X_ == pattern, axis=1))
    np.testing.assert_allclose(
        union.class_means_[0], X[(y == "A") & ~held_out].mean(axis=0), atol=1e-6
    )
    # predict_proba is the router-weighted mixture of the members' own classes
    details = union.reliability(X)
    proba = union.predict_proba(X)
    np.testing.assert_allclose(details.weight.sum(axis=1), 1.0)
    mixture = np.zeros_like(proba)
    for m, member in enumerate(union.estimators_):
        p = member.predict_proba(X)[:, 1:]  # without "<other>"
        mixture[:, 3 * m : 3 * m + 3] = (
            details.weight[:, m : m + 1] * p / p.sum(1)[:, None]
        )
    np.testing.assert_allclose(proba, mixture / mixture.sum(1)[:, None], atol=1e-9)
    np.testing.assert_array_equal(details.member, details.weight.argmax(axis=1))
    np.testing.assert_allclose(union.predict_confidence(X), proba.max(axis=1))
    assert union.score(X[~held_out], y[~held_out]) >= 0.9
    # add_classes refits the router over all members, with the new held-out ones
    old = np.isin(y, ["A", "B", "C", "D"])
    union = UnionClassifier(MEMBER, max_classes_per_member=2, random_state=0)
    union.fit(X[old], y[old])
    router = union.router_
    union.add_classes(X[~old], y[~old])
    assert union.router_ is not router
    np.testing.assert_array_equal(union.router_.classes_, [0, 1, 2])
    assert set(union.holdout_y_) == set(LABELS)


def test_learned_router_falls_back_without_held_out_patterns(six):
    X, y = six
    few = np.concatenate([np.flatnonzero(y == c)[:2] for c in LABELS])
    union = UnionClassifier(
        MEMBER, class_subsets=[["A", "B", "C"], ["D", "E", "F"]], random_state=0
    ).fit(X[few], y[few])
    # two patterns per class: none can be spared for the router
    assert union.combiner_ == "reliability" and union.router_ is None
    assert len(union.holdout_y_) == 0
    with pytest.raises(ValueError, match="combiner must be"):
        clone(union).set_params(combiner="vote").fit(X, y)
    with pytest.raises(ValueError, match="holdout_per_class"):
        clone(union).set_params(holdout_per_class=0).fit(X, y)


def test_router_missing_a_member_falls_back_with_a_warning():
    # a member whose classes have too few patterns to keep one out would get
    # no probability from a router never shown it: the rule combines instead
    rng = np.random.default_rng(0)
    y = np.repeat(list("abcd"), 15)
    X = rng.random((60, 30))
    for i, label in enumerate("abcd"):
        X[y == label, 2 + 4 * i] += 5
    base = LogisticRegression(max_iter=1000)
    union = UnionClassifier(base, max_classes_per_member=2, random_state=0).fit(X, y)
    assert union.combiner_ == "learned"
    y_new = np.repeat(["e", "f"], 2)
    X_new = rng.random((4, 30))
    X_new[y_new == "e", 25] += 5
    X_new[y_new == "f", 28] += 5
    with pytest.warns(UserWarning, match=r"cover no class of member\(s\) \[2\]") as rec:
        union.add_classes(X_new, y_new)
    assert rec[0].filename == __file__  # the caller's line
    assert union.combiner_ == "reliability" and union.router_ is None
    np.testing.assert_array_equal(union.predict(X_new), y_new)


def test_router_fallback_warning_names_the_callers_line():
    # a fixed stacklevel pointed into scikit-learn's pipeline.py when a
    # Pipeline called fit, rather than at the line that called the Pipeline
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(0)
    # c and d: too few patterns to keep one out, so the router never sees the
    # second member's classes
    y = np.array(list("a" * 15 + "b" * 15 + "cc" + "dd"))
    X = rng.random((len(y), 30))
    for i, label in enumerate("abcd"):
        X[y == label, 2 + 4 * i] += 5
    union = UnionClassifier(
        LogisticRegression(max_iter=1000),
        class_subsets=[["a", "b"], ["c", "d"]],
        random_state=0,
    )
    for model in (union, make_pipeline(union)):
        with pytest.warns(UserWarning, match=r"cover no class of member") as rec:
            model.fit(X, y)
        assert len(rec) == 1 and rec[0].filename == __file__


def test_label_types_of_subsets_and_new_classes():
    import pandas as pd

    rng = np.random.default_rng(1)
    y = np.repeat(list("abcd"), 6)
    X = rng.random((24, 12))
    for i, label in enumerate("abcd"):
        X[y == label, 2 * i] += 5
    base = LogisticRegression(max_iter=1000)
    # strings in an object column (pandas) and numpy strings are one kind
    union = UnionClassifier(base, max_classes_per_member=2, combiner="reliability")
    union.fit(X, pd.Series(y))
    union.add_classes(X[:12], np.repeat(["x", "z"], 6))
    assert union.classes_.tolist() == ["a", "b", "c", "d", "x", "z"]
    with pytest.raises(ValueError, match="must be of the type of classes_"):
        union.add_classes(X[:4], np.array([7, 7, 8, 8]))
    # a longer label is not cut down to a known one ("bXX" to "b")
    subsets = [["a", "bXX"], ["c", "d"]]
    with pytest.raises(ValueError, match=r"absent from y: \['bXX'\]"):
        UnionClassifier(base, class_subsets=subsets).fit(X, y)
    with pytest.raises(ValueError, match="labels of another type"):
        UnionClassifier(base, class_subsets=[[1, 2], ["c", "d"]]).fit(X, y)


def test_add_classes_reproducible(six):
    X, y = six
    old = np.isin(y, ["A", "B", "C", "D"])
    results = []
    for _ in range(2):
        union = UnionClassifier(MEMBER, max_classes_per_member=2, random_state=7)
        union.fit(X[old], y[old]).add_classes(X[~old], y[~old])
        results.append(union.predict_proba(X))
    np.testing.assert_array_equal(results[0], results[1])


def test_auto_subsets_keep_similar_classes_together():
    # classes A and C share their peaks (they differ by one small peak), as do
    # B and D: the automatic subsets pair them so one member tells them apart
    rng = np.random.default_rng(0)
    grid = np.arange(64)

    def peaks(centres, n):
        out = np.zeros((n, 64))
        for c in centres:
            out += np.exp(-0.5 * ((grid - c - rng.normal(0, 0.3, (n, 1))) / 1.5) ** 2)
        return out / out.max(axis=1, keepdims=True)

    X = np.concatenate(
        [
            peaks([10, 30], 12),
            peaks([45, 55], 12),
            peaks([10, 30, 20], 12),
            peaks([45, 55, 5], 12),
        ]
    ).astype(np.float32)
    y = np.repeat(["A", "B", "C", "D"], 12)
    union = UnionClassifier(MEMBER, max_classes_per_member=2, random_state=0)
    union.fit(X, y)
    subsets = sorted(s.tolist() for s in union.class_subsets_)
    assert subsets == [["A", "C"], ["B", "D"]]


def test_auto_subsets_never_single_class(six):
    X, y = six
    subset = np.isin(y, ["A", "B", "C"])
    union = UnionClassifier(MEMBER, max_classes_per_member=2, random_state=0)
    union.fit(X[subset], y[subset])
    assert [s.tolist() for s in union.class_subsets_] == [["A", "B", "C"]]


@pytest.mark.parametrize(
    "subsets, match",
    [
        ([["A", "B", "C"], ["D", "E"]], "without a member"),
        ([["A", "B", "C"], ["C", "D", "E", "F"]], "repeats labels"),
        ([["A"], ["B", "C", "D", "E", "F"]], "at least 2 classes"),
        ([["A", "B", "Z"], ["C", "D", "E", "F"]], "absent from y"),
        ("AB", "sequence of sequences"),
    ],
)
def test_union_class_subsets_validated(six, subsets, match):
    X, y = six
    with pytest.raises(ValueError, match=match):
        UnionClassifier(MEMBER, class_subsets=subsets).fit(X, y)


def test_union_bad_input(six):
    X, y = six
    with pytest.raises(ValueError, match="alpha"):
        UnionClassifier(MEMBER, alpha=1.5).fit(X, y)
    with pytest.raises(ValueError, match="max_classes_per_member"):
        UnionClassifier(MEMBER, max_classes_per_member=1).fit(X, y)
    with pytest.raises(ValueError, match="predict_proba"):
        UnionClassifier(object()).fit(X, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        UnionClassifier(MEMBER).fit(X[y == "A"], y[y == "A"])
    old = np.isin(y, ["A", "B", "C", "D"])
    union = UnionClassifier(MEMBER, random_state=0).fit(X[old], y[old])
    with pytest.raises(ValueError, match="already in classes_"):
        union.add_classes(X[~old | (y == "A")], y[~old | (y == "A")])
    with pytest.raises(ValueError, match="at least 2 new classes"):
        union.add_classes(X[y == "E"], y[y == "E"])
    with pytest.raises(ValueError, match="features"):
        union.add_classes(X[~old][:, :50], y[~old])
    with pytest.raises(ValueError, match="type of classes_"):
        union.add_classes(X[~old], np.where(y[~old] == "E", 5, 6))
    with pytest.raises(ValueError, match="NaN"):
        bad = X[:3].copy()
        bad[0, 0] = np.nan
        union.predict(bad)
    # nothing was changed by the refused calls
    assert len(union.estimators_) == 1
    np.testing.assert_array_equal(union.classes_, ["A", "B", "C", "D"])


def test_a_refused_refit_leaves_the_fitted_union_as_it_was(six):
    # validate_data set n_features_in_ of the refused patterns over the old
    # members: the union then refused its own patterns
    X, y = six
    union = UnionClassifier(
        LogisticRegression(), class_subsets=[["A", "B", "C"], ["D", "E", "F"]]
    ).fit(X, y)
    proba = union.predict_proba(X)
    narrow = X[:, :50]
    with pytest.raises(ValueError, match="holds labels absent from y"):
        union.fit(narrow, np.where(y == "F", "G", y))
    with pytest.raises(ValueError, match="at least 2 classes"):
        union.fit(narrow, np.full(len(y), "A"))
    assert union.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(union.predict_proba(X), proba)


# --------------------------------------------------------------------------- #
# sample weights
# --------------------------------------------------------------------------- #
def _row_weights(X_seen, X, w):
    """The weight in ``w`` of each row of ``X_seen`` (a row of ``X``)."""
    return w[rows_of(X_seen, X)]


def test_members_and_router_get_the_weights_of_their_rows(six):
    X, y = six
    w = np.random.default_rng(1).uniform(0.2, 3.0, len(y))
    union = UnionClassifier(
        WeightRecorder(), class_subsets=[["A", "B", "C"], ["D", "E", "F"]]
    ).fit(X, y, sample_weight=w)
    for member in union.estimators_:
        # its own classes' patterns and the negatives, each with its weight
        assert len(member.X_seen_) > 3 * 10
        np.testing.assert_array_equal(
            member.weight_seen_, _row_weights(member.X_seen_, X, w)
        )
    held = rows_of(union.holdout_X_, X)
    np.testing.assert_array_equal(union.holdout_weight_, w[held])
    np.testing.assert_array_equal(
        union.negatives_weight_, _row_weights(union.negatives_X_, X, w)
    )
    # the router is the weighted fit of the held-out patterns
    features = union._router_features(union._member_stats(union.holdout_X_))
    owner = union._owner(union.holdout_y_)
    router = LogisticRegression(C=1.0, max_iter=2000)
    np.testing.assert_allclose(
        union.router_.coef_,
        clone(router).fit(features, owner, sample_weight=w[held]).coef_,
    )
    assert not np.allclose(union.router_.coef_, router.fit(features, owner).coef_)
    # the class means are weighted means of the training patterns
    train = np.setdiff1d(np.arange(len(y)), held)
    a = train[y[train] == "A"]
    np.testing.assert_allclose(
        union.class_means_[0], np.average(X[a], axis=0, weights=w[a]), rtol=1e-5
    )
    # unit weights are no weights
    ones = UnionClassifier(
        LogisticRegression(),
        class_subsets=[["A", "B", "C"], ["D", "E", "F"]],
        random_state=0,
    )
    np.testing.assert_allclose(
        clone(ones).fit(X, y, sample_weight=np.ones(len(y))).predict_proba(X),
        clone(ones).fit(X, y).predict_proba(X),
    )


def test_weights_are_repetitions_up_to_float32(six):
    # no held-out patterns or negatives drawn per row: integer weights are
    # repeated rows (0: left out), to the precision of the float32 patterns
    X, y = six
    w = np.random.default_rng(2).integers(0, 4, len(y))
    w[::16] = 1  # every class keeps a pattern
    union = UnionClassifier(
        LogisticRegression(),
        class_subsets=[["A", "B", "C"], ["D", "E", "F"]],
        combiner="reliability",
        negatives_per_class=0,
    )
    order = np.random.default_rng(3).permutation(int(w.sum()))
    repeated = clone(union).fit(np.repeat(X, w, axis=0)[order], np.repeat(y, w)[order])
    weighted = clone(union).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(weighted.class_means_, repeated.class_means_, atol=1e-6)
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-4
    )
    # and calibrating the temperature with weights is calibrating on repetitions
    t_weighted = copy.deepcopy(weighted).calibrate_temperature(X, y, sample_weight=w)
    t_repeated = copy.deepcopy(weighted).calibrate_temperature(
        np.repeat(X, w, axis=0), np.repeat(y, w)
    )
    assert t_weighted.temperature_ == pytest.approx(t_repeated.temperature_, rel=1e-3)


def test_add_classes_weighs_the_new_members_and_the_router(six):
    X, y = six
    old = np.isin(y, ["A", "B", "C", "D"])
    rng = np.random.default_rng(4)
    w = rng.uniform(0.2, 3.0, len(y))
    union = UnionClassifier(
        WeightRecorder(), class_subsets=[["A", "B"], ["C", "D"]], random_state=0
    ).fit(X[old], y[old], sample_weight=w[old])
    n_held = len(union.holdout_y_)
    union.add_classes(X[~old], y[~old], sample_weight=w[~old])
    new = union.estimators_[-1]
    # the new classes' patterns and the old negatives, each with its weight
    assert set(new.classes_) >= {"E", "F"} and len(new.X_seen_) > 20
    np.testing.assert_array_equal(new.weight_seen_, _row_weights(new.X_seen_, X, w))
    assert n_held < len(union.holdout_y_)
    np.testing.assert_array_equal(
        union.holdout_weight_, _row_weights(union.holdout_X_, X, w)
    )
    # new classes without weights: the old negatives keep theirs
    again = UnionClassifier(
        WeightRecorder(), class_subsets=[["A", "B"], ["C", "D"]], random_state=0
    ).fit(X[old], y[old], sample_weight=w[old])
    again.add_classes(X[~old], y[~old])
    member = again.estimators_[-1]
    own = np.isin(y[rows_of(member.X_seen_, X)], ["E", "F"])
    np.testing.assert_array_equal(member.weight_seen_[own], 1.0)
    np.testing.assert_array_equal(
        member.weight_seen_[~own], _row_weights(member.X_seen_[~own], X, w)
    )
    # the kept patterns: the new ones of weight 1 beside the old weighted ones
    for kept, weight in [
        (again.negatives_X_, again.negatives_weight_),
        (again.holdout_X_, again.holdout_weight_),
    ]:
        index = rows_of(kept, X)
        np.testing.assert_array_equal(weight, np.where(old[index], w[index], 1.0))
    # no weights anywhere: none are passed (members without sample_weight work)
    plain = UnionClassifier(
        WeightRecorder(), class_subsets=[["A", "B"], ["C", "D"]], random_state=0
    ).fit(X[old], y[old])
    plain.add_classes(X[~old], y[~old])
    assert all(m.weight_seen_ is None for m in plain.estimators_)
    assert plain.negatives_weight_ is None and plain.holdout_weight_ is None


def test_weights_that_leave_a_class_empty_are_refused(six):
    X, y = six
    w = np.where(y == "C", 0.0, 1.0)
    union = UnionClassifier(LogisticRegression(), class_subsets=[["A", "B", "C"]])
    with pytest.raises(ValueError, match=r"sample_weight is 0 .* \['C'\]"):
        union.fit(X[y < "D"], y[y < "D"], sample_weight=w[y < "D"])
    with pytest.raises(ValueError, match="calibrate_temperature: sample_weight is 0"):
        clone(union).fit(X[y < "D"], y[y < "D"]).calibrate_temperature(
            X, y, sample_weight=np.where(y < "D", 0.0, 1.0)
        )


def test_a_member_without_sample_weight_is_named_before_training(six):
    X, y = six
    union = UnionClassifier(KNeighborsClassifier(), class_subsets=[list(LABELS)])
    with pytest.raises(TypeError, match=r"member estimator \(KNeighborsClassifier\)"):
        union.fit(X, y, sample_weight=np.ones(len(y)))
    assert not hasattr(union, "estimators_")
    fitted = union.fit(X, y)
    with pytest.raises(TypeError, match="KNeighborsClassifier"):
        fitted.add_classes(X[:32], np.repeat(["G", "H"], 16), sample_weight=np.ones(32))
    assert len(fitted.estimators_) == 1


def test_network_members_get_the_weights_once_their_fit_takes_them(six, monkeypatch):
    # the skxrd networks' fit takes no sample_weight yet: one that does
    # (recording what it got) gets each member's weights
    X, y = six
    seen = []
    original = ResNetClassifier.fit

    def fit(self, X, y=None, sample_weight=None):
        seen.append(sample_weight)
        return original(self, X, y)

    monkeypatch.setattr(ResNetClassifier, "fit", fit)
    w = np.random.default_rng(5).uniform(0.5, 2.0, len(y))
    union = UnionClassifier(
        MEMBER, class_subsets=[["A", "B", "C"], ["D", "E", "F"]], random_state=0
    ).fit(X, y, sample_weight=w)
    assert len(seen) == 2 and all(s is not None for s in seen)
    held = len(union.holdout_y_)
    own = [int((w[np.isin(y, s)]).size) for s in union.class_subsets_]
    assert sum(len(s) for s in seen) > sum(own) - held


# --------------------------------------------------------------------------- #
# AbstainingClassifier
# --------------------------------------------------------------------------- #
def test_abstaining_thresholds(data):
    X, y, _ = data
    base = clone(MEMBER).fit(X, y)
    confidence = base.predict_confidence(X)
    threshold = float(np.median(confidence))
    clf = AbstainingClassifier(FrozenEstimator(base), threshold=threshold).fit(X, y)
    pred = clf.predict(X)
    refused = confidence < threshold
    assert refused.any() and not refused.all()
    assert np.all(pred[refused] == -1)  # numeric classes: -1 by default
    np.testing.assert_array_equal(pred[~refused], base.predict(X)[~refused])
    np.testing.assert_array_equal(clf.predict_proba(X), base.predict_proba(X))
    np.testing.assert_array_equal(clf.predict_confidence(X), confidence)
    assert pred.dtype.kind == "i"
    # threshold 0 never refuses; 1 refuses all but certain answers (a
    # threshold above 1 is an error: no confidence passes 1)
    assert np.array_equal(clf.set_params(threshold=0.0).predict(X), base.predict(X))
    np.testing.assert_array_equal(
        clf.set_params(threshold=1.0).predict(X) == -1, confidence < 1.0
    )
    # confidence="proba" uses the highest probability instead of the head
    clf.set_params(threshold=threshold, confidence="proba")
    np.testing.assert_array_equal(
        clf.predict_confidence(X), base.predict_proba(X).max(axis=1)
    )


def test_abstaining_agrees_with_the_accuracy_coverage_curve():
    # at a threshold equal to a confidence, the patterns answered are those of
    # that point of accuracy_coverage_curve (ties kept together), and the
    # pattern whose confidence is the threshold is answered ("strictly below")
    from skxrd.metrics import accuracy_at_coverage, accuracy_coverage_curve

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 150)
    X = rng.normal(size=(150, 3)) + np.eye(3)[y]
    clf = AbstainingClassifier(LogisticRegression()).fit(X[:100], y[:100])
    X_test, y_test = X[100:], y[100:]
    confidence = clf.predict_confidence(X_test)
    answer = clf.classes_[clf.predict_proba(X_test).argmax(axis=1)]
    coverage, accuracy, thresholds = accuracy_coverage_curve(y_test, answer, confidence)
    for cov, acc, threshold in zip(coverage, accuracy, thresholds):
        pred = clf.set_params(threshold=float(threshold)).predict(X_test)
        answered = pred != -1
        np.testing.assert_array_equal(answered, confidence >= threshold)
        np.testing.assert_array_equal(pred[answered], answer[answered])
        assert answered.mean() == pytest.approx(cov, abs=1e-15)
        assert np.mean(pred[answered] == y_test[answered]) == pytest.approx(acc)
        assert accuracy_at_coverage(
            y_test, answer, confidence, coverage=answered.mean()
        ) == pytest.approx(acc)


def test_abstaining_labels_and_errors(six):
    X, y = six
    clf = AbstainingClassifier(LogisticRegression(), threshold=1.0).fit(X, y)
    assert set(clf.predict(X)) == {"unknown"}
    clf.set_params(unknown_label="?")
    assert set(clf.predict(X)) == {"?"}
    clf.set_params(unknown_label="A")
    with pytest.raises(ValueError, match="is one of the classes"):
        clf.predict(X)
    clf.set_params(unknown_label="unknown", confidence="estimator")
    with pytest.raises(ValueError, match="predict_confidence"):
        clf.predict(X)
    with pytest.raises(ValueError, match="confidence must be one of"):
        clf.set_params(confidence="max").predict(X)
    with pytest.raises(ValueError, match="threshold"):
        AbstainingClassifier(LogisticRegression(), threshold=np.nan).fit(X, y)
    with pytest.raises(ValueError, match="predict_proba"):
        AbstainingClassifier(object()).fit(X, y)
    numeric = AbstainingClassifier(LogisticRegression(), threshold=1.0)
    yn = np.where(y == "A", -1, 3)
    assert set(numeric.fit(X, yn).predict(X)) == {-2}  # -1 is a class


@pytest.mark.parametrize("threshold", [-0.1, 1.01, 2.0])
def test_abstaining_threshold_outside_unit_interval_is_refused(six, threshold):
    # every confidence lies in [0, 1]: threshold=2.0 was taken and refused
    # every pattern (-0.1: answered all), without an error
    X, y = six
    clf = AbstainingClassifier(LogisticRegression(), threshold=threshold)
    with pytest.raises(ValueError, match=r"threshold must be (>=|<=)"):
        clf.fit(X, y)
    fitted = AbstainingClassifier(LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="threshold"):
        fitted.set_params(threshold=threshold).predict(X)
    for edge in (0.0, 1.0):  # the ends are allowed
        fitted.set_params(threshold=edge).predict(X)


def test_abstaining_keeps_bool_classes():
    # beside the numeric unknown label -1, True and False were answered as
    # the integers 1 and 0
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X[:, 0] > 0
    inner = LogisticRegression().fit(X, y)
    clf = AbstainingClassifier(LogisticRegression(), threshold=0.0).fit(X, y)
    pred = clf.predict(X)
    assert [type(v) for v in pred.tolist()] == [bool] * len(X)
    np.testing.assert_array_equal(pred.astype(bool), inner.predict(X))
    refusing = clf.set_params(threshold=0.9).predict(X)
    refused = inner.predict_proba(X).max(axis=1) < 0.9
    assert refused.any() and not refused.all()
    assert all(v == -1 for v in refusing[refused].tolist())
    assert refusing[~refused].tolist() == inner.predict(X)[~refused].tolist()
    assert {type(v) for v in refusing[~refused].tolist()} == {bool}


def test_abstaining_union_uses_reliability(six):
    X, y = six
    union = UnionClassifier(
        MEMBER, class_subsets=[["A", "B", "C"], ["D", "E", "F"]], random_state=0
    ).fit(X, y)
    clf = AbstainingClassifier(FrozenEstimator(union), threshold=0.9).fit(X, y)
    np.testing.assert_array_equal(
        clf.predict_confidence(X), union.predict_confidence(X)
    )
    refused = union.predict_confidence(X) < 0.9
    np.testing.assert_array_equal(clf.predict(X) == "unknown", refused)


def test_abstaining_sees_the_confidence_head_inside_a_pipeline(data):
    # a plain scikit-learn Pipeline forwards no predict_confidence: the head of
    # its last step answers, after the steps before it, as without the Pipeline
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from skxrd.metrics import AccuracyCoverageDisplay
    from skxrd.metrics._display import _estimator_confidence

    X, y, _ = data
    pipe = make_pipeline(FunctionTransformer(lambda Z: 2.0 * Z), clone(MEMBER))
    pipe.fit(X, y)
    head = pipe[-1].predict_confidence(2.0 * X)
    assert not np.allclose(head, pipe.predict_proba(X).max(axis=1))
    for confidence in ("auto", "estimator"):
        clf = AbstainingClassifier(
            FrozenEstimator(pipe),
            threshold=float(np.median(head)),
            confidence=confidence,
        ).fit(X, y)
        np.testing.assert_allclose(clf.predict_confidence(X), head, rtol=1e-6)
        np.testing.assert_array_equal(clf.predict_proba(X), pipe.predict_proba(X))
        refused = head < float(np.median(head))
        np.testing.assert_array_equal(clf.predict(X) == -1, refused)
    # the accuracy-coverage display's "auto" confidence too
    np.testing.assert_allclose(_estimator_confidence(pipe, X, "auto"), head, rtol=1e-6)
    assert AccuracyCoverageDisplay.from_estimator(pipe, X, y).accuracy.size
    # a Pipeline of the classifier alone (no step before it to transform X)
    from sklearn.pipeline import Pipeline

    alone = Pipeline([("clf", FrozenEstimator(pipe[-1]))])
    clf = AbstainingClassifier(alone, threshold=0.5).fit(2.0 * X, y)
    np.testing.assert_allclose(clf.predict_confidence(2.0 * X), head, rtol=1e-6)
    # a Pipeline ending in a classifier without one still says so
    other = make_pipeline(FunctionTransformer(), LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="Pipeline ending in one"):
        AbstainingClassifier(FrozenEstimator(other), confidence="estimator").fit(
            X, y
        ).predict(X)


def test_union_of_pipelines_uses_the_members_heads(six):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from skxrd.estimators._union import _has_head

    X, y = six
    member = make_pipeline(FunctionTransformer(), clone(MEMBER))
    assert _has_head(member)
    assert not _has_head(
        make_pipeline(
            FunctionTransformer(), clone(MEMBER).set_params(confidence_head=False)
        )
    )
    union = UnionClassifier(
        member, class_subsets=[["A", "B", "C"], ["D", "E", "F"]], random_state=0
    ).fit(X, y)
    heads = [m[-1].predict_confidence(X) for m in union.estimators_]
    assert not np.allclose(heads[0], union.estimators_[0].predict_proba(X).max(axis=1))
    assert union.predict(X).shape == (len(X),)


# --------------------------------------------------------------------------- #
# calibration with scikit-learn's temperature scaling
# --------------------------------------------------------------------------- #
def test_temperature_scaling_reduces_calibration_error():
    # noisy labels and long training: an overconfident network
    X, y, _ = peaky_patterns(("A", "B", "C"), n_per_class=150, random_state=1)
    rng = np.random.default_rng(0)
    flip = rng.random(len(y)) < 0.4
    y = np.where(flip, rng.choice(["A", "B", "C"], len(y)), y)
    order = rng.permutation(len(y))
    train, valid, test = np.array_split(order, 3)
    params = {**FAST, "max_epochs": 60, "batch_size": 16}
    clf = ResNetClassifier(**TINY_RESNET, **params).fit(X[train], y[train])
    before = expected_calibration_error(y[test], clf.predict_proba(X[test]))
    calibrated = CalibratedClassifierCV(FrozenEstimator(clf), method="temperature")
    calibrated.fit(X[valid], y[valid])
    after = expected_calibration_error(y[test], calibrated.predict_proba(X[test]))
    assert before > 0.1
    # measured: 0.196 -> 0.072, or 0.101 with oneDNN capped at AVX2 (conftest.py)
    assert after < 0.6 * before
    # temperature scaling keeps the predictions
    np.testing.assert_array_equal(calibrated.predict(X[test]), clf.predict(X[test]))


def test_calibrate_temperature_after_add_classes_on_old_classes_only(six, tmp_path):
    # scikit-learn's CalibratedClassifierCV needs every class in y (it raised
    # an IndexError here); the union's own temperature does not
    from skxrd.pretrained import load_model, save_model
    from skxrd.pretrained._pipeline import PatternPipeline

    X, y = six
    old = np.isin(y, ["A", "B", "C", "D"])
    union = UnionClassifier(MEMBER, max_classes_per_member=2, random_state=0)
    union.fit(X[old], y[old]).add_classes(X[~old], y[~old])
    assert union.temperature_ == 1.0
    before = union.predict_proba(X)
    union.calibrate_temperature(X[old], y[old])
    assert union.temperature_ != 1.0
    after = union.predict_proba(X)
    np.testing.assert_array_equal(after.argmax(1), before.argmax(1))
    np.testing.assert_allclose(after.sum(1), 1.0)
    # the fitted temperature lowers the log-loss it was fitted on
    idx = np.searchsorted(union.classes_, y[old])
    rows = np.arange(old.sum())
    nll = [-np.log(p[old][rows, idx]).mean() for p in (before, after)]
    assert nll[1] < nll[0]
    with pytest.raises(ValueError, match="no label of y is in classes_"):
        union.calibrate_temperature(X[:3], ["Z", "Z", "Z"])
    # model files keep it; add_classes resets it
    path = save_model(PatternPipeline([("clf", union)]), tmp_path / "u.pt")
    np.testing.assert_allclose(load_model(path).predict_proba(X), after, atol=1e-6)
    union.add_classes(X[~old] + 0.5, np.char.add(y[~old], "2"))
    assert union.temperature_ == 1.0


@pytest.mark.parametrize("combiner", ["learned", "reliability"])
def test_attribution_maps_explain_the_union_answer(six, combiner):
    from skxrd.inspection import integrated_gradients, saliency_map

    X, y = six
    union = UnionClassifier(
        MEMBER,
        class_subsets=[["A", "B", "C"], ["D", "E", "F"]],
        combiner=combiner,
        holdout_per_class=4,
        random_state=0,
    ).fit(X, y)
    union.temperature_ = 1.7  # a calibrated union ranks the same way
    logits = union._logit_module()(torch.as_tensor(X[:12]))
    # log-probabilities whose argmax is the union's answer
    np.testing.assert_array_equal(
        union.classes_[logits.argmax(1).numpy()], union.predict(X[:12])
    )
    np.testing.assert_allclose(
        torch.softmax(logits, 1).detach().numpy(),
        union.predict_proba(X[:12]),
        atol=1e-5,
    )
    maps = saliency_map(union, X[:3])
    assert maps.shape == (3, X.shape[1]) and np.isfinite(maps).all()
    assert np.abs(maps).sum(axis=1).min() > 0
    # a map of another class differs: its owner member explains it
    other = saliency_map(union, X[:3], target="F")
    assert not np.allclose(maps, other)
    assert integrated_gradients(union, X[:2], n_steps=4).shape == (2, X.shape[1])


def test_union_names_a_numpy_generator_as_random_state(six):
    # scikit-learn's message named no parameter
    X, y = six
    union = UnionClassifier(MEMBER, random_state=np.random.default_rng(0))
    with pytest.raises(ValueError, match="random_state must be None, an int in"):
        union.fit(X, y)


def test_a_member_class_weight_dict_reaches_each_member_as_its_own_classes(six):
    # each member fitted the template's whole dict: a key of another
    # member's class named no class of its fit (sklearn's and skxrd's
    # networks both refuse that), so a union with one never trained
    X, y = six
    weights = {"A": 3.0, "E": 0.5}
    union = UnionClassifier(
        LogisticRegression(max_iter=1000, class_weight=weights),
        class_subsets=[["A", "B", "C"], ["D", "E", "F"]],
        random_state=0,
    ).fit(X, y)
    assert [m.class_weight for m in union.estimators_] == [{"A": 3.0}, {"E": 0.5}]
    assert union.estimator.class_weight == weights  # the template is left alone
    # the same members as templates given their own entries
    for member, subset, own in zip(
        union.estimators_, union.class_subsets_, ({"A": 3.0}, {"E": 0.5})
    ):
        alone = UnionClassifier(
            LogisticRegression(max_iter=1000, class_weight=own),
            class_subsets=[["A", "B", "C"], ["D", "E", "F"]],
            random_state=0,
        ).fit(X, y)
        i = [list(s) for s in alone.class_subsets_].index(list(subset))
        np.testing.assert_array_equal(member.coef_, alone.estimators_[i].coef_)
    # a network member too (its own "not a class" check)
    net = UnionClassifier(
        clone(MEMBER).set_params(class_weight={"B": 2.0}),
        class_subsets=[["A", "B", "C"], ["D", "E", "F"]],
        random_state=0,
    ).fit(X, y)
    assert [m.class_weight for m in net.estimators_] == [{"B": 2.0}, {}]
    # add_classes: a key of a new class reaches the new member
    union.estimator.set_params(class_weight={"A": 3.0, "G": 2.0})
    Xn, yn, _ = peaky_patterns(("G", "H"), n_per_class=16, random_state=4)
    union.add_classes(Xn, yn)
    assert union.estimators_[-1].class_weight == {"G": 2.0}


def test_a_member_class_weight_key_that_names_no_class_is_named(six):
    X, y = six
    union = UnionClassifier(
        LogisticRegression(class_weight={"Z": 2.0}),
        class_subsets=[["A", "B", "C"], ["D", "E", "F"]],
    )
    with pytest.raises(ValueError, match="class_weight names 'Z', which is not a"):
        union.fit(X, y)
    assert not hasattr(union, "estimators_")
