"""PatternMatchClassifier: search-match against reference patterns."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import has_fit_parameter

from skxrd.datasets import EXAMPLE_CRYSTALS, load_example_crystal
from skxrd.estimators import PatternMatchClassifier
from skxrd.simulation import PowderSimulator

NAMES = list(EXAMPLE_CRYSTALS)


@pytest.fixture(scope="module")
def library():
    crystals = [load_example_crystal(n) for n in NAMES]
    return crystals, PowderSimulator().transform(crystals)


def test_finds_each_crystal_from_a_differently_measured_pattern(library):
    crystals, X = library
    # other peak widths, a zero error and counting noise than the references
    measured = PowderSimulator(crystallite_size=60).transform(crystals)
    measured = np.roll(measured, 2, axis=1)
    rng = np.random.default_rng(0)
    measured = rng.poisson(measured * 200 + 5) / 200.0
    match = PatternMatchClassifier().fit(X, NAMES)
    assert match.predict(measured).tolist() == NAMES
    # without smoothing the shifted, narrow-vs-broad peaks correlate less
    sharp = PatternMatchClassifier(smoothing=0.0).fit(X, NAMES)
    s_smooth = match.kneighbors(measured, n_neighbors=1)[0][:, 0]
    s_sharp = sharp.kneighbors(measured, n_neighbors=1)[0][:, 0]
    assert np.all(s_smooth > s_sharp)


def test_kneighbors_index_rows_of_fit_and_agree_with_class_similarities(library):
    _, X = library
    rng = np.random.default_rng(1)
    order = rng.permutation(len(X))
    labels = np.array(NAMES)[order]
    match = PatternMatchClassifier().fit(X[order], labels)
    sim, idx = match.kneighbors(X, n_neighbors=3)
    assert sim.shape == idx.shape == (len(X), 3)
    # each pattern's best match is itself (similarity 1), at its row in fit
    np.testing.assert_allclose(sim[:, 0], 1.0, atol=1e-5)
    assert labels[idx[:, 0]].tolist() == NAMES
    assert np.all(np.diff(sim, axis=1) <= 1e-7)  # best first
    by_class = match.class_similarities(X)
    assert by_class.shape == (len(X), len(match.classes_))
    np.testing.assert_allclose(by_class.max(1), sim[:, 0], atol=1e-6)
    # more neighbours than references: all of them
    assert match.kneighbors(X[:2], n_neighbors=99)[0].shape == (2, len(X))


def test_probabilities_temperature_and_calibration(library):
    crystals, X = library
    match = PatternMatchClassifier(batch_size=3).fit(X, NAMES)
    proba = match.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert match.classes_[proba.argmax(1)].tolist() == NAMES
    hot = PatternMatchClassifier(temperature=1.0).fit(X, NAMES).predict_proba(X)
    assert hot.max(1).mean() < proba.max(1).mean()  # a higher temperature: flatter
    broad = PowderSimulator(crystallite_size=30).transform(crystals)
    labels = NAMES[:-1] + ["not-a-reference"]  # left out of the fit
    match.calibrate_temperature(broad, labels)
    assert match.temperature_ > 0 and match.temperature_ != match.temperature
    assert match.predict(broad)[:-1].tolist() == NAMES[:-1]
    match.fit(X, NAMES)
    assert not hasattr(match, "temperature_")  # refit: back to the parameter
    with pytest.raises(ValueError, match="no label of y"):
        match.calibrate_temperature(broad[:2], ["x", "y"])
    with pytest.raises(ValueError, match="X has 2 patterns but y has 3 labels"):
        match.calibrate_temperature(broad[:2], NAMES[:3])


def test_flat_patterns_match_nothing(library):
    _, X = library
    match = PatternMatchClassifier().fit(X, NAMES)
    for level in (0.0, 1e-20, 1.0, 3.3e6):
        flat = np.full((1, X.shape[1]), level)
        assert np.all(match.class_similarities(flat) == 0.0)
        np.testing.assert_allclose(match.predict_proba(flat), 1.0 / len(NAMES))
    # a real pattern matches itself at any intensity scale
    for scale in (1e-12, 1e6):
        assert match.predict(X[:3] * scale).tolist() == NAMES[:3]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"smoothing": -1.0}, "smoothing must be >= 0"),
        ({"temperature": 0.0}, "temperature must be a positive number"),
        ({"center": "yes"}, "center must be True or False"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"unmeasured_run": -1}, "unmeasured_run must be >= 0"),
        ({"max_shift": -2}, "max_shift must be >= 0"),
        ({"shift_step": 0}, "shift_step must be >= 1"),
    ],
)
def test_bad_parameters_are_named(library, params, message):
    _, X = library
    with pytest.raises(ValueError, match=message):
        PatternMatchClassifier(**params).fit(X, NAMES)


def test_bad_input_is_named(library):
    _, X = library
    match = PatternMatchClassifier().fit(X, NAMES)
    bad = X[:2].copy()
    bad[0, 10] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        match.predict(bad)
    with pytest.raises(ValueError, match="features"):
        match.predict(X[:2, :-1])


def test_stride_and_float16_keep_a_compact_library(library):
    crystals, X = library
    measured = PowderSimulator(crystallite_size=60).transform(crystals)
    full = PatternMatchClassifier().fit(X, NAMES)
    compact = PatternMatchClassifier(stride=8, reference_dtype="float16").fit(X, NAMES)
    assert compact.references_.dtype == np.float16
    assert compact.references_.shape == (len(X), len(range(0, X.shape[1], 8)))
    assert compact.references_.nbytes == len(X) * 532 * 2  # vs 4250 * 4 bytes
    assert compact.predict(measured).tolist() == NAMES
    np.testing.assert_allclose(
        compact.class_similarities(measured),
        full.class_similarities(measured),
        atol=0.05,
    )
    compact.set_params(stride=4)  # changed after fit: the references do not fit
    with pytest.raises(ValueError, match="stride was changed after fit"):
        compact.predict(measured)
    with pytest.raises(ValueError, match="reference_dtype"):
        PatternMatchClassifier(reference_dtype="int8").fit(X, NAMES)
    with pytest.raises(ValueError, match="intensity must be 'linear' or 'sqrt'"):
        PatternMatchClassifier(intensity="log").fit(X, NAMES)


def test_square_root_intensities(library):
    crystals, X = library
    # a measurement whose strongest peak is off by a factor of 5 (texture)
    measured = PowderSimulator(crystallite_size=60).transform(crystals)
    top = measured.argmax(axis=1)
    rows = np.arange(len(measured))
    window = np.clip(top[:, None] + np.arange(-15, 16), 0, X.shape[1] - 1)
    measured[rows[:, None], window] *= 5.0
    roots = PatternMatchClassifier(intensity="sqrt").fit(X, NAMES)
    assert roots.predict(measured).tolist() == NAMES
    s_roots = roots.class_similarities(measured)
    # the same as comparing the square roots linearly; negative values count as 0
    again = PatternMatchClassifier().fit(np.sqrt(X), NAMES)
    np.testing.assert_allclose(
        again.class_similarities(np.sqrt(measured)), s_roots, atol=1e-5
    )
    small = measured < 1e-3
    np.testing.assert_allclose(
        roots.class_similarities(np.where(small, -5.0, measured)),
        roots.class_similarities(np.where(small, 0.0, measured)),
        atol=1e-6,
    )


def test_match_state_round_trip_and_damage(library):
    from skxrd.estimators._match import match_state, restore_match

    _, X = library
    match = PatternMatchClassifier(stride=2, reference_dtype="float16").fit(X, NAMES)
    match.calibrate_temperature(X, NAMES)
    again = restore_match(match_state(match))
    np.testing.assert_array_equal(again.predict_proba(X), match.predict_proba(X))
    assert again.temperature_ == match.temperature_
    state = match_state(match)
    state["starts"] = state["starts"][::-1]
    with pytest.raises(ValueError, match="lib.pt: the stored references"):
        restore_match(state, "lib.pt")
    state = match_state(match)
    state["references"] = state["references"].astype(np.float32)  # not float16
    with pytest.raises(ValueError, match="do not fit together"):
        restore_match(state)


@pytest.fixture(scope="module")
def hybrid_data(library):
    """References: the example crystals; queries: the same crystals measured
    otherwise (known) and random crystals that are not references (new)."""
    from skxrd.datasets import make_random_crystals

    crystals, X = library
    labels = np.array([c.space_group for c in crystals])
    known = PowderSimulator(crystallite_size=60).transform(crystals)
    new_crystals = make_random_crystals(
        12, space_groups=[2, 14, 62, 225], n_atoms=(2, 8), random_state=0
    )
    new = PowderSimulator().transform(new_crystals)
    new_labels = np.array([c.space_group for c in new_crystals])
    return X, labels, known, new, new_labels


def test_match_first_answers_known_patterns_by_match_and_new_ones_by_model(
    hybrid_data,
):
    from sklearn.linear_model import LogisticRegression

    from skxrd.estimators import MatchFirstClassifier

    X, labels, known, new, new_labels = hybrid_data
    model = LogisticRegression(max_iter=200).fit(new, new_labels)
    matcher = PatternMatchClassifier().fit(X, labels)
    clf = MatchFirstClassifier.from_fitted(model, matcher, 0.8, reference_names=NAMES)
    assert clf.estimator_ is model and clf.matcher_ is matcher
    assert clf.classes_.tolist() == sorted(set(labels) | set(new_labels))
    queries = np.concatenate([known, new])
    source = clf.predict_source(queries)
    best = matcher.kneighbors(queries, n_neighbors=1)[0][:, 0]
    assert source.tolist() == np.where(best >= 0.8, "match", "model").tolist()
    assert (source[: len(known)] == "match").all()
    proba = clf.predict_proba(queries)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)  # float32 parts
    pred = clf.predict(queries)
    on_match, on_model = source == "match", source == "model"
    assert pred[: len(known)].tolist() == labels.tolist()
    np.testing.assert_array_equal(pred[on_model], model.predict(queries[on_model]))
    np.testing.assert_array_equal(pred[on_match], matcher.predict(queries[on_match]))
    # the parts' probabilities, each in its own classes' columns
    cols = np.searchsorted(clf.classes_, model.classes_)
    np.testing.assert_allclose(
        proba[np.ix_(on_model, cols)], model.predict_proba(queries[on_model])
    )
    sim, idx = clf.kneighbors(known, n_neighbors=1)
    assert clf.reference_names_[idx[:, 0]].tolist() == NAMES
    # found as a model, a pipeline's last step, or inside a CoarseLabelClassifier
    from sklearn.pipeline import make_pipeline

    from skxrd.estimators import CoarseLabelClassifier
    from skxrd.estimators._match import search_match_of

    coarse = CoarseLabelClassifier.from_fitted(clf)
    for wrapped in (clf, make_pipeline(coarse), coarse):
        assert search_match_of(wrapped) is clf
    assert search_match_of(model) is None and search_match_of(matcher) is None
    # a threshold no pattern reaches: the model alone
    never = MatchFirstClassifier.from_fitted(model, matcher, 1.0)
    np.testing.assert_allclose(
        never.predict_proba(new)[:, cols], model.predict_proba(new), atol=1e-12
    )


def test_match_first_tunes_its_threshold_and_calibrates_each_part(hybrid_data):
    from skxrd.estimators import CNNClassifier, MatchFirstClassifier

    X, labels, known, new, new_labels = hybrid_data
    net = CNNClassifier(channels=(4,), max_epochs=2, random_state=0)
    clf = MatchFirstClassifier(net, PatternMatchClassifier(), threshold=0.99)
    clf.fit(new, new_labels, X_reference=X, y_reference=labels)
    assert clf.threshold_ == 0.99
    queries = np.concatenate([known, new])
    truth = np.concatenate([labels, new_labels])
    before = np.mean(clf.predict(queries) == truth)
    clf.tune_threshold(queries, truth)
    assert 0.5 <= clf.threshold_ <= 1.0
    assert clf.threshold_accuracy_ == np.mean(clf.predict(queries) == truth)
    assert clf.threshold_accuracy_ >= before
    clf.calibrate_temperature(queries, truth)
    assert clf.matcher_.temperature_ != clf.matcher_.temperature
    assert hasattr(clf.estimator_, "temperature_")
    # the soft gate: threshold, slope and matcher temperature of least log-loss
    soft = MatchFirstClassifier.from_fitted(
        clf.estimator_, clf.matcher_, clf.threshold_, gate="soft"
    )
    proba = soft.predict_proba(queries)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    assert np.all((proba > 0).sum(1) > 1)  # a mixture: never only one part

    def log_loss(model):
        p = model.predict_proba(queries)
        return -np.mean(
            np.log(
                p[np.arange(len(truth)), np.searchsorted(model.classes_, truth)] + 1e-12
            )
        )

    before = log_loss(soft)
    soft.calibrate_temperature(queries, truth)
    assert log_loss(soft) < before
    assert soft.gate_slope_ != 50.0 and soft.gate_slope_ > 0
    best = soft.kneighbors(queries, 1)[0][:, 0]
    assert (
        soft.predict_source(queries).tolist()
        == np.where(best >= soft.threshold_, "match", "model").tolist()
    )
    # the margin gate: the soft gate of the best similarity plus a fitted
    # weight of its lead over the next class
    from skxrd.estimators._core import gate_scores

    margin = MatchFirstClassifier.from_fitted(
        soft.estimator_,
        soft.matcher_,
        soft.threshold_,
        gate="margin",
        gate_slope=soft.gate_slope_,
    )
    assert margin.gate_margin_ == 0.0  # the soft gate until calibrated
    np.testing.assert_allclose(
        margin.predict_proba(queries), soft.predict_proba(queries), atol=1e-12
    )
    before = log_loss(margin)
    margin.calibrate_temperature(queries, truth)
    # never worse than the soft gate it starts from (here the patterns are far
    # from the threshold on either side: a lead barely changes their weight)
    assert log_loss(margin) <= before + 1e-9 and margin.gate_margin_ >= 0.0
    score = gate_scores(
        margin.matcher_.class_similarities(queries), margin.gate_margin_
    )
    assert (
        margin.predict_source(queries).tolist()
        == np.where(score >= margin.threshold_, "match", "model").tolist()
    )
    with pytest.raises(ValueError, match="thresholds must be correlations"):
        clf.tune_threshold(queries, truth, thresholds=[2.0])
    with pytest.raises(ValueError, match="has 3 labels"):
        clf.tune_threshold(queries, truth[:3])


def test_match_first_errors_name_the_problem(hybrid_data):
    from sklearn.linear_model import LogisticRegression

    from skxrd.estimators import MatchFirstClassifier

    X, labels, known, new, new_labels = hybrid_data
    model = LogisticRegression(max_iter=200).fit(new, new_labels)
    matcher = PatternMatchClassifier().fit(X, labels)
    with pytest.raises(
        ValueError, match="gate must be one of 'hard', 'soft', 'margin'"
    ):
        MatchFirstClassifier(model, gate="fuzzy").fit(new, new_labels)
    with pytest.raises(ValueError, match="gate_slope must be a positive number"):
        MatchFirstClassifier(model, gate_slope=0).fit(new, new_labels)
    with pytest.raises(ValueError, match="threshold must be <= 1"):
        MatchFirstClassifier(model, threshold=1.5).fit(new, new_labels)
    with pytest.raises(TypeError, match="matcher must be a PatternMatchClassifier"):
        MatchFirstClassifier(model, matcher=model).fit(new, new_labels)
    with pytest.raises(ValueError, match="both X_reference and y_reference"):
        MatchFirstClassifier(model).fit(new, new_labels, X_reference=X)
    with pytest.raises(ValueError, match="2 names for"):
        MatchFirstClassifier.from_fitted(model, matcher, reference_names=["a", "b"])
    short = PatternMatchClassifier().fit(X[:, :100], labels)
    with pytest.raises(ValueError, match="the matcher's references have 100"):
        MatchFirstClassifier.from_fitted(model, short)
    clf = MatchFirstClassifier.from_fitted(model, matcher)
    bad = new[:2].copy()
    bad[0, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(bad)


def test_match_first_records_which_classes_its_network_outputs(hybrid_data):
    # attribution maps fall back to the network's class for exactly the
    # classes without a network output (not by a logit gap): the logit
    # modules record them, through a CoarseLabelClassifier too
    from skxrd.crystal import to_crystal_system
    from skxrd.estimators import (
        CNNClassifier,
        CoarseLabelClassifier,
        MatchFirstClassifier,
    )

    X, labels, _, new, new_labels = hybrid_data
    net = CNNClassifier(channels=(4,), max_epochs=1, random_state=0, num_threads=1)
    net.fit(new, new_labels)
    clf = MatchFirstClassifier.from_fitted(net, PatternMatchClassifier().fit(X, labels))
    own = np.isin(clf.classes_, net.classes_)
    assert own.any() and not own.all()
    np.testing.assert_array_equal(clf._logit_module().has_output, own)
    coarse = CoarseLabelClassifier.from_fitted(clf)
    systems = np.asarray(to_crystal_system(clf.classes_)).astype(str)
    expected = np.isin(coarse.classes_.astype(str), systems[own])
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(coarse._logit_module().has_output, expected)


def _pearson_on_span(match, row, reference, start, stop):
    """The correlation a matcher should give: its smoothing of the row's
    measured points, against the reference's points there."""
    from scipy.ndimage import gaussian_filter1d

    stride = match.stride
    first = -(-start // stride) * stride
    q = gaussian_filter1d(row[first:stop], match.smoothing, mode="nearest")[::stride]
    r = gaussian_filter1d(reference, match.smoothing, mode="nearest")[::stride]
    r = r[first // stride : first // stride + len(q)]
    return np.corrcoef(q, r)[0, 1]


@pytest.mark.parametrize("stride", [1, 3])
def test_a_shorter_scan_is_compared_over_the_range_it_covers(library, stride):
    crystals, X = library
    match = PatternMatchClassifier(stride=stride).fit(X, NAMES)
    whole = PatternMatchClassifier(stride=stride, unmeasured_run=0).fit(X, NAMES)
    # the references' own patterns, "measured" over part of the range only
    # (with a flat background: noiseless simulations are exactly 0 up to
    # their first peak); the resampler fills the rest of the grid with zeros
    n = X.shape[1]
    scans = np.zeros_like(X)
    spans = [(int(0.1 * n) + k, int(0.8 * n) - 2 * k) for k in range(len(X))]
    for i, (a, b) in enumerate(spans):
        scans[i, a:b] = X[i, a:b] + 0.01 * X[i].max()
    sim, idx = match.kneighbors(scans, n_neighbors=1)
    assert idx[:, 0].tolist() == list(range(len(X)))
    np.testing.assert_allclose(sim[:, 0], 1.0, atol=1e-4)  # itself, where measured
    # whole rows: the unmeasured ends count against every reference
    whole_sim = whole.kneighbors(scans, n_neighbors=1)[0][:, 0]
    assert np.all(whole_sim < sim[:, 0]) and whole_sim.mean() < 0.995
    # against another reference: the Pearson correlation over the span, the
    # same for a few rows (computed one by one) as for many (running sums)
    by_class = match.class_similarities(scans)
    assert len(scans) > 10
    np.testing.assert_allclose(
        match.class_similarities(scans[:3]), by_class[:3], rtol=0, atol=1e-5
    )
    for i, (a, b) in enumerate(spans[:4]):
        j = (i + 1) % len(X)
        expected = _pearson_on_span(match, scans[i], X[j], a, b)
        column = list(match.classes_).index(NAMES[j])
        assert by_class[i, column] == pytest.approx(expected, abs=2e-4)
    # full rows, and ends shorter than the run, are compared as whole rows
    short = X + 0.01 * X.max(axis=1, keepdims=True)
    short[:, :10] = 0.0
    np.testing.assert_array_equal(
        match.class_similarities(short), whole.class_similarities(short)
    )
    # a scan of a handful of points matches nothing
    tiny = np.zeros((1, n))
    tiny[0, n // 2] = 1.0
    assert np.all(match.class_similarities(tiny) == 0.0)


def test_zero_shifts_are_forgiven_up_to_max_shift(library):
    crystals, X = library
    # the references' own patterns, moved by a zero-point error of 6 points
    moved = np.zeros_like(X)
    moved[:, 6:] = X[:, :-6]
    moved += 0.01 * X.max(axis=1, keepdims=True)  # no 0 runs at the ends
    plain = PatternMatchClassifier(smoothing=1.0).fit(X, NAMES)
    tolerant = PatternMatchClassifier(smoothing=1.0, max_shift=8).fit(X, NAMES)
    s_plain, i_plain = plain.kneighbors(moved, n_neighbors=1)
    s_tol, i_tol = tolerant.kneighbors(moved, n_neighbors=1)
    assert i_tol[:, 0].tolist() == list(range(len(X)))
    # the 6-point shift found (a peak moved off the grid's end costs a little)
    assert np.median(s_tol[:, 0]) > 0.999 and s_tol[:, 0].min() > 0.97
    assert np.all(s_tol[:, 0] > s_plain[:, 0] + 0.05)
    # the best over the shifts: never below the unshifted similarity
    assert np.all(
        tolerant.class_similarities(moved) >= plain.class_similarities(moved) - 1e-6
    )
    # a shift beyond max_shift is not forgiven
    short = PatternMatchClassifier(smoothing=1.0, max_shift=2).fit(X, NAMES)
    assert np.all(short.kneighbors(moved, n_neighbors=1)[0][:, 0] < 0.99)
    # max_shift 0 is the plain matcher
    zero = PatternMatchClassifier(smoothing=1.0, max_shift=0).fit(X, NAMES)
    np.testing.assert_array_equal(
        zero.class_similarities(moved), plain.class_similarities(moved)
    )


def test_match_first_shrinks_the_model_towards_a_space_group_prior(hybrid_data):
    from sklearn.linear_model import LogisticRegression

    from skxrd.crystal import to_crystal_system
    from skxrd.estimators import MatchFirstClassifier
    from skxrd.estimators._core import coarse_membership
    from skxrd.estimators._space_group_prior import prior_shares

    X, labels, known, new, _ = hybrid_data
    # several space groups of one crystal system (monoclinic, cubic)
    new_labels = np.resize([14, 15, 12, 62, 225, 227], len(new))
    model = LogisticRegression(max_iter=200).fit(new, new_labels)
    matcher = PatternMatchClassifier().fit(X, labels)
    # each space group's share of its crystal system: they sum to 1 per system
    shares, groups = prior_shares(np.arange(1, 231), "icsd")
    np.testing.assert_allclose(np.bincount(groups, weights=shares), 1.0)
    assert shares[13] == shares[groups == groups[13]].max()  # P2_1/c: monoclinic
    plain = MatchFirstClassifier.from_fitted(model, matcher, 1.0)  # the model alone
    clf = MatchFirstClassifier.from_fitted(model, matcher, 1.0, prior="icsd")
    assert clf.prior_weight_ == 0.0  # until calibrated: the model as it is
    np.testing.assert_array_equal(clf.predict_proba(new), plain.predict_proba(new))
    clf.prior_weight_ = 0.4
    proba, before = clf.predict_proba(new), plain.predict_proba(new)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)  # float32 parts
    _, membership = coarse_membership(clf.classes_, "crystal_system")
    # the crystal systems' probabilities are the model's; within them, the
    # space groups move towards the database's shares
    np.testing.assert_allclose(proba @ membership, before @ membership, atol=1e-12)
    cols = np.searchsorted(clf.classes_, model.classes_)
    own, systems = prior_shares(model.classes_, "icsd")
    spread = (before[:, cols] @ membership[cols]) @ membership[cols].T * own
    np.testing.assert_allclose(proba[:, cols], 0.6 * before[:, cols] + 0.4 * spread)
    assert not np.allclose(proba, before)
    # calibrated: the weight of least log-loss on the patterns the model answers
    truth = new_labels
    clf.calibrate_temperature(new, truth)
    assert 0.0 <= clf.prior_weight_ < 1.0

    def log_loss(weight):
        clf.prior_weight_ = weight
        p = clf.predict_proba(new)
        rows = np.arange(len(truth))
        return -np.mean(np.log(p[rows, np.searchsorted(clf.classes_, truth)]))

    fitted = clf.prior_weight_
    assert log_loss(fitted) <= min(log_loss(0.0), log_loss(0.5)) + 1e-9
    # with the soft gate: the gate fitted as without a prior, the prior after
    # it, so that no crystal system's probability changes
    import copy

    queries = np.concatenate([known, new])
    # the model sure of the wrong group of the right crystal system: shrinking pays
    moved = {14: 15, 15: 12, 12: 14, 62: 62, 225: 227, 227: 225}
    truth = np.concatenate([labels, [moved[s] for s in new_labels]])
    soft = {
        prior: MatchFirstClassifier.from_fitted(
            model, copy.deepcopy(matcher), 0.8, gate="soft", prior=prior
        ).calibrate_temperature(queries, truth)
        for prior in (None, "icsd")
    }
    assert soft["icsd"].prior_weight_ > 0
    assert soft["icsd"].threshold_ == soft[None].threshold_
    assert soft["icsd"].gate_slope_ == soft[None].gate_slope_
    p_none, p_icsd = (soft[k].predict_proba(queries) for k in (None, "icsd"))
    np.testing.assert_allclose(p_icsd @ membership, p_none @ membership, atol=1e-12)
    assert not np.allclose(p_icsd, p_none)
    # every pattern answered by the matcher: no weight to fit, none used
    matched = MatchFirstClassifier.from_fitted(
        model, copy.deepcopy(matcher), -1.0, prior="icsd"
    ).calibrate_temperature(known, labels)
    assert matched.prior_weight_ == 0.0
    # errors name the problem
    with pytest.raises(ValueError, match="prior must be None or one of icsd"):
        MatchFirstClassifier.from_fitted(model, matcher, prior="pdf")
    coarse = LogisticRegression(max_iter=200).fit(
        new, np.asarray(to_crystal_system(new_labels)).astype(str)
    )
    with pytest.raises(ValueError, match="needs space-group classes"):
        MatchFirstClassifier.from_fitted(coarse, matcher, prior="cod")


def test_gate_scores_add_the_lead_over_the_next_class():
    from skxrd.estimators._core import gate_scores, gate_weights

    sims = np.array([[0.9, 0.5, 0.2], [0.7, 0.68, 0.1], [-0.2, 0.4, 0.3]])
    np.testing.assert_allclose(gate_scores(sims), [0.9, 0.7, 0.4])
    np.testing.assert_allclose(gate_scores(sims, 0.5), [1.1, 0.71, 0.45])
    # one class: no next one to lead
    np.testing.assert_allclose(gate_scores(sims[:, :1], 0.5), [0.9, 0.7, -0.2])
    # the gates: a step at the threshold, a logistic of slope x (score - threshold)
    hard = gate_weights(sims, "hard", 0.7, 10.0, 0.5)
    np.testing.assert_array_equal(hard, [1.0, 1.0, 0.0])
    weights = gate_weights(sims, "margin", 0.71, 10.0, 0.5)
    np.testing.assert_allclose(weights[1], 0.5)
    assert weights[0] > 0.5 > weights[2]


def test_answers_do_not_depend_on_the_order_of_references_or_patterns(library):
    crystals, X = library
    rng = np.random.default_rng(3)
    queries = rng.poisson(PowderSimulator(radiation="CuKa1").transform(crystals) * 300)
    queries = np.roll(queries / 300.0, 3, axis=1)
    queries[::2, :600] = 0.0  # scans that start later: compared over their span
    labels = np.array(NAMES)
    for params in ({}, {"max_shift": 4, "stride": 2}, {"intensity": "sqrt"}):
        match = PatternMatchClassifier(batch_size=4, **params).fit(X, labels)
        proba = match.predict_proba(queries)
        assert match.classes_.tolist() == sorted(NAMES)
        assert match.predict(queries).tolist() == NAMES
        np.testing.assert_array_equal(
            match.predict(queries), match.classes_[proba.argmax(1)]
        )
        _, index = match.kneighbors(queries, n_neighbors=2)
        for _ in range(2):
            order = rng.permutation(len(X))
            again = PatternMatchClassifier(**params).fit(X[order], labels[order])
            np.testing.assert_allclose(again.predict_proba(queries), proba, atol=1e-6)
            # neighbours are rows of the X given to fit: the same references
            _, moved = again.kneighbors(queries, n_neighbors=2)
            np.testing.assert_array_equal(order[moved], index)
            rows = rng.permutation(len(queries))
            np.testing.assert_allclose(
                match.predict_proba(queries[rows]), proba[rows], atol=1e-6
            )


@pytest.mark.parametrize("gate", ["hard", "soft", "margin"])
def test_match_first_at_exactly_the_threshold(hybrid_data, gate):
    from sklearn.linear_model import LogisticRegression

    from skxrd.estimators import MatchFirstClassifier
    from skxrd.estimators._core import gate_scores

    X, labels, known, new, new_labels = hybrid_data
    model = LogisticRegression(max_iter=200).fit(new, new_labels)
    matcher = PatternMatchClassifier().fit(X, labels)
    queries = np.concatenate([known, new])
    sims = matcher.class_similarities(queries)
    margin = 0.5 if gate == "margin" else 0.0
    scores = gate_scores(sims, margin)
    for row in (0, len(known) + 1):
        clf = MatchFirstClassifier.from_fitted(model, matcher, 0.8, gate=gate)
        # as tune_threshold and calibrate_temperature set them (the margin
        # gate's score, and threshold, can pass 1)
        clf.threshold_, clf.gate_margin_ = float(scores[row]), margin
        source = clf.predict_source(queries)
        # a score that reaches the threshold is the match's, one below is not
        assert source[row] == "match"
        assert (
            source.tolist()
            == np.where(scores >= scores[row], "match", "model").tolist()
        )
        proba = clf.predict_proba(queries)
        assert np.all(proba >= 0.0) and np.all(proba <= 1.0 + 1e-6)
        np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)  # float32 weights
        np.testing.assert_array_equal(
            clf.predict(queries), clf.classes_[proba.argmax(1)]
        )
        if gate == "hard":
            np.testing.assert_allclose(
                proba[row, clf._match_columns],
                matcher.predict_proba(queries)[row],
                rtol=1e-6,
                atol=1e-12,
            )
        else:  # the soft gates weigh the match by one half there
            np.testing.assert_allclose(clf._weights(sims[[row]]), 0.5)


# --------------------------------------------------------------------------- #
# sample weights
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def weighted_patterns():
    """(X, y, w): 3 classes of 20 patterns of 64 points with a peak each."""
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b", "c"], 20)
    X = rng.random((60, 64))
    for k, label in enumerate("abc"):
        X[y == label, 10 + 20 * k] += 3.0
    return X, y, rng.uniform(0.5, 2.0, 60)


def test_pattern_match_refuses_weights_and_says_why(weighted_patterns):
    X, y, w = weighted_patterns
    with pytest.raises(TypeError, match="takes no sample_weight: it stores"):
        PatternMatchClassifier().fit(X, y, sample_weight=w)
    with pytest.raises(TypeError, match=r"unexpected keyword.*\['foo'\]"):
        PatternMatchClassifier().fit(X, y, foo=1)
    assert not has_fit_parameter(PatternMatchClassifier(), "sample_weight")


def test_match_first_gives_the_weights_to_its_model(weighted_patterns):
    from estimator_data import WeightRecorder

    from skxrd.estimators import MatchFirstClassifier

    X, y, w = weighted_patterns
    clf = MatchFirstClassifier(WeightRecorder()).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(clf.estimator_.weight_seen_, w)
    # the references are stored as they are: positive weights do not matter
    plain = MatchFirstClassifier(WeightRecorder()).fit(X, y)
    assert plain.estimator_.weight_seen_ is None
    np.testing.assert_array_equal(clf.matcher_.references_, plain.matcher_.references_)
    np.testing.assert_array_equal(
        clf.matcher_.class_similarities(X), plain.matcher_.class_similarities(X)
    )


def test_match_first_leaves_out_references_of_weight_zero(weighted_patterns):
    from skxrd.estimators import MatchFirstClassifier

    X, y, w = weighted_patterns
    w = w.copy()
    w[[0, 5, 30]] = 0.0
    names = np.array([f"p{i}" for i in range(len(y))])
    clf = MatchFirstClassifier(LogisticRegression()).fit(
        X, y, sample_weight=w, reference_names=names
    )
    kept = np.flatnonzero(w > 0)
    assert len(clf.matcher_.references_) == len(kept)
    np.testing.assert_array_equal(clf.reference_names_, names[kept])
    # a pattern of weight 0 is no reference: its best match is another pattern
    _, index = clf.kneighbors(X[[0, 1]], n_neighbors=1)
    assert clf.reference_names_[index[0, 0]] != "p0"
    assert clf.reference_names_[index[1, 0]] == "p1"
    # as if the patterns had not been given at all
    without = MatchFirstClassifier(LogisticRegression()).fit(
        X[kept], y[kept], sample_weight=w[kept]
    )
    np.testing.assert_allclose(clf.predict_proba(X), without.predict_proba(X))
    # given references are all kept, whatever the weights of X
    given = MatchFirstClassifier(LogisticRegression()).fit(
        X, y, X_reference=X, y_reference=y, sample_weight=w
    )
    assert len(given.matcher_.references_) == len(y)
    with pytest.raises(ValueError, match="reference_names has 3 names for 60"):
        MatchFirstClassifier(LogisticRegression()).fit(
            X, y, sample_weight=w, reference_names=names[:3]
        )


def test_match_first_names_a_model_without_sample_weight(weighted_patterns):
    from sklearn.neighbors import KNeighborsClassifier

    from skxrd.estimators import MatchFirstClassifier

    X, y, w = weighted_patterns
    clf = MatchFirstClassifier(KNeighborsClassifier())
    with pytest.raises(TypeError, match=r"estimator \(KNeighborsClassifier\)"):
        clf.fit(X, y, sample_weight=w)
    assert not hasattr(clf, "estimator_")
    with pytest.raises(ValueError, match="sample_weight must be >= 0"):
        MatchFirstClassifier(LogisticRegression()).fit(X, y, sample_weight=-w)


@pytest.mark.parametrize("gate", ["hard", "soft"])
def test_match_first_weighted_tuning_is_tuning_on_repetitions(hybrid_data, gate):
    import copy

    from skxrd.estimators import EnsembleClassifier, MatchFirstClassifier

    X, labels, known, new, new_labels = hybrid_data
    model = EnsembleClassifier([LogisticRegression(max_iter=200)])
    clf = MatchFirstClassifier(model, threshold=0.9, gate=gate, prior="icsd")
    clf.fit(new, new_labels, X_reference=X, y_reference=labels)
    queries = np.concatenate([known, new])
    truth = np.concatenate([labels, new_labels])
    counts = np.random.default_rng(0).integers(0, 4, len(truth))
    counts[[0, len(labels)]] = 1  # a known and a new pattern count
    repeated = np.repeat(queries, counts, axis=0), np.repeat(truth, counts)

    def fitted(model):
        return [
            model.threshold_,
            model.gate_slope_,
            model.prior_weight_,
            model.matcher_.temperature_,
            model.estimator_.temperature_,
        ]

    weighted = copy.deepcopy(clf).calibrate_temperature(
        queries, truth, sample_weight=counts
    )
    again = copy.deepcopy(clf).calibrate_temperature(*repeated)
    np.testing.assert_allclose(fitted(weighted), fitted(again), rtol=1e-6)
    plain = copy.deepcopy(clf).calibrate_temperature(queries, truth)
    assert not np.allclose(fitted(weighted), fitted(plain), rtol=1e-3)
    # the threshold of highest weighted accuracy is that of the repetitions
    weighted.tune_threshold(queries, truth, sample_weight=counts)
    again.tune_threshold(*repeated)
    assert weighted.threshold_ == again.threshold_
    assert weighted.threshold_accuracy_ == pytest.approx(again.threshold_accuracy_)
    # and the matcher alone
    matcher = PatternMatchClassifier().fit(X, labels)
    a = copy.deepcopy(matcher).calibrate_temperature(
        known, labels, counts[: len(labels)]
    )
    b = copy.deepcopy(matcher).calibrate_temperature(
        np.repeat(known, counts[: len(labels)], axis=0),
        np.repeat(labels, counts[: len(labels)]),
    )
    assert a.temperature_ == pytest.approx(b.temperature_, rel=1e-3)


def test_match_first_calibration_names_a_model_that_takes_no_weights(hybrid_data):
    from skxrd.estimators import MatchFirstClassifier

    class Tempered(LogisticRegression):
        def calibrate_temperature(self, X, y):
            self.temperature_ = 2.0
            return self

    X, labels, known, new, new_labels = hybrid_data
    clf = MatchFirstClassifier(Tempered(max_iter=200), threshold=0.9)
    clf.fit(new, new_labels, X_reference=X, y_reference=labels)
    queries = np.concatenate([known, new])
    truth = np.concatenate([labels, new_labels])
    with pytest.raises(TypeError, match=r"model \(Tempered\) cannot take it"):
        clf.calibrate_temperature(queries, truth, sample_weight=np.ones(len(truth)))
    # nothing was calibrated by the refused call
    assert not hasattr(clf.estimator_, "temperature_")
    assert not hasattr(clf.matcher_, "temperature_")
    clf.calibrate_temperature(queries, truth)
    assert clf.estimator_.temperature_ == 2.0
