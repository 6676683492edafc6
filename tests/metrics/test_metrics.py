import subprocess
import sys
import time

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

import skxrd
from skxrd.metrics import (
    AccuracyCoverageDisplay,
    accuracy_at_coverage,
    accuracy_coverage_curve,
    calibration_table,
    expected_calibration_error,
)

# 6 samples, confidences with a tie at 0.8: kept sets of 1, 3, 4 and 6 samples.
Y_TRUE = np.array([0, 1, 1, 0, 2, 2])
Y_PRED = np.array([0, 1, 0, 0, 1, 2])
CONF = np.array([0.95, 0.8, 0.8, 0.7, 0.3, 0.3])


def brute_force_curve(y_true, y_pred, confidence, weight):
    """The definition, one threshold at a time."""
    correct = np.asarray(y_true, dtype=object) == np.asarray(y_pred, dtype=object)
    coverage, accuracy, thresholds = [], [], []
    for t in sorted(set(confidence), reverse=True):
        kept = confidence >= t
        if weight[kept].sum() == 0:
            continue
        coverage.append(weight[kept].sum() / weight.sum())
        accuracy.append(np.average(correct[kept], weights=weight[kept]))
        thresholds.append(t)
    return np.array(coverage), np.array(accuracy), np.array(thresholds)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# accuracy_coverage_curve


def test_curve_hand_example():
    coverage, accuracy, thresholds = accuracy_coverage_curve(Y_TRUE, Y_PRED, CONF)
    assert np.allclose(coverage, [1 / 6, 3 / 6, 4 / 6, 1.0])
    assert np.allclose(accuracy, [1.0, 2 / 3, 3 / 4, 4 / 6])
    assert np.array_equal(thresholds, [0.95, 0.8, 0.7, 0.3])
    assert coverage[-1] == 1.0


def test_curve_is_independent_of_sample_order():
    perm = np.random.default_rng(0).permutation(len(Y_TRUE))
    for a, b in zip(
        accuracy_coverage_curve(Y_TRUE, Y_PRED, CONF),
        accuracy_coverage_curve(Y_TRUE[perm], Y_PRED[perm], CONF[perm]),
    ):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("weighted", [False, True])
def test_curve_matches_definition_on_random_data(weighted):
    rng = np.random.default_rng(1)
    n = 300
    y_true = rng.integers(0, 5, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, 6, n))
    confidence = rng.integers(0, 40, n) / 40  # many ties
    weight = rng.random(n) if weighted else np.ones(n)
    got = accuracy_coverage_curve(
        y_true, y_pred, confidence, sample_weight=weight if weighted else None
    )
    expected = brute_force_curve(y_true, y_pred, confidence, weight)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        assert np.allclose(g, e)
    coverage, accuracy, thresholds = got
    assert np.all(np.diff(coverage) > 0) and coverage[-1] == 1.0
    assert np.all(np.diff(thresholds) < 0)
    assert accuracy[-1] == pytest.approx(np.average(y_true == y_pred, weights=weight))


def test_curve_only_depends_on_the_order_of_confidences():
    a = accuracy_coverage_curve(Y_TRUE, Y_PRED, CONF)
    b = accuracy_coverage_curve(Y_TRUE, Y_PRED, 10 * np.log(CONF) - 3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_curve_with_perfect_confidence_ranking_is_monotone():
    rng = np.random.default_rng(2)
    correct = rng.random(200) < 0.7
    y_true = np.zeros(200, dtype=int)
    y_pred = np.where(correct, 0, 1)
    confidence = correct + 0.5 * rng.random(200)  # every right one ranks first
    coverage, accuracy, _ = accuracy_coverage_curve(y_true, y_pred, confidence)
    assert np.all(np.diff(accuracy) <= 0)
    assert np.all(accuracy[coverage <= correct.mean()] == 1.0)


def test_integer_weights_equal_repeated_samples():
    weight = np.array([2, 1, 3, 1, 0, 4])
    weighted = accuracy_coverage_curve(Y_TRUE, Y_PRED, CONF, sample_weight=weight)
    repeated = accuracy_coverage_curve(
        np.repeat(Y_TRUE, weight), np.repeat(Y_PRED, weight), np.repeat(CONF, weight)
    )
    for a, b in zip(weighted, repeated):
        assert np.allclose(a, b)


def test_zero_weight_thresholds_at_coverage_zero_are_dropped():
    weight = np.array([0.0, 1, 1, 1, 1, 1])
    coverage, accuracy, thresholds = accuracy_coverage_curve(
        Y_TRUE, Y_PRED, CONF, sample_weight=weight
    )
    assert np.array_equal(thresholds, [0.8, 0.7, 0.3])
    assert np.allclose(coverage, [0.4, 0.6, 1.0])
    assert np.allclose(accuracy, [0.5, 2 / 3, 0.6])
    assert np.all(np.isfinite(accuracy))


def test_unknown_predictions_count_as_wrong():
    y_true = ["cubic", "cubic", "hexagonal", "tetragonal"]
    y_pred = np.array(["cubic", "unknown", "hexagonal", "unknown"], dtype=object)
    coverage, accuracy, _ = accuracy_coverage_curve(
        y_true, y_pred, [0.9, 0.2, 0.8, 0.1]
    )
    assert np.allclose(coverage, [0.25, 0.5, 0.75, 1.0])
    assert np.allclose(accuracy, [1.0, 1.0, 2 / 3, 0.5])
    # Integer labels with an "unknown" answer in an object array.
    y_pred = np.array([0, "unknown", 1], dtype=object)
    _, accuracy, _ = accuracy_coverage_curve([0, 1, 1], y_pred, [0.9, 0.8, 0.7])
    assert np.allclose(accuracy, [1.0, 0.5, 2 / 3])


def test_column_vectors_are_accepted():
    got = accuracy_coverage_curve(Y_TRUE[:, None], Y_PRED, CONF[:, None])
    assert np.allclose(got[1], accuracy_coverage_curve(Y_TRUE, Y_PRED, CONF)[1])


def test_curve_on_a_million_samples_is_fast():
    rng = np.random.default_rng(3)
    n = 1_000_000
    y_true = rng.integers(0, 230, n)
    y_pred = np.where(rng.random(n) < 0.8, y_true, rng.integers(0, 230, n))
    confidence = rng.random(n)
    start = time.perf_counter()
    coverage, accuracy, thresholds = accuracy_coverage_curve(y_true, y_pred, confidence)
    assert time.perf_counter() - start < 5.0
    assert len(coverage) == len(np.unique(confidence))
    assert coverage[-1] == 1.0
    assert accuracy[-1] == pytest.approx(np.mean(y_true == y_pred), abs=1e-12)


# accuracy_at_coverage


@pytest.mark.parametrize(
    "coverage, expected",
    [
        (0.1, 1.0),  # the single most confident sample
        (1 / 6, 1.0),  # exactly one sample
        (0.2, 2 / 3),  # needs 2 samples; the tie at 0.8 brings in a third
        (0.5, 2 / 3),
        (0.6, 3 / 4),
        (2 / 3, 3 / 4),
        (0.7, 4 / 6),
        (1.0, 4 / 6),
    ],
)
def test_accuracy_at_coverage(coverage, expected):
    got = accuracy_at_coverage(Y_TRUE, Y_PRED, CONF, coverage=coverage)
    assert isinstance(got, float)
    assert got == pytest.approx(expected)


def test_accuracy_at_coverage_tolerates_rounding():
    # 0.1 * 3 is 0.30000000000000004 in floating point: 3 of 10 still cover 0.3.
    y_true = np.zeros(10, dtype=int)
    y_pred = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    confidence = np.linspace(1, 0, 10)
    for weight in (None, np.full(10, 0.1), np.full(10, 0.7)):
        got = accuracy_at_coverage(
            y_true, y_pred, confidence, coverage=0.3, sample_weight=weight
        )
        assert got == 1.0


def test_accuracy_at_coverage_weighted():
    weight = np.array([1.0, 1, 1, 1, 1, 5])  # the last, correct, weighs half
    assert accuracy_at_coverage(
        Y_TRUE, Y_PRED, CONF, 1.0, sample_weight=weight
    ) == pytest.approx(8 / 10)
    assert accuracy_at_coverage(
        Y_TRUE, Y_PRED, CONF, 0.4, sample_weight=weight
    ) == pytest.approx(3 / 4)


@pytest.mark.parametrize(
    "coverage, match",
    [
        (0, r"coverage must be in \(0, 1\], got 0.0"),
        (-0.5, r"coverage must be in \(0, 1\]"),
        (1.5, r"coverage must be in \(0, 1\], got 1.5"),
        (np.nan, "coverage must be finite"),
        (True, "coverage must be a number"),
        ("half", "coverage must be a number"),
    ],
)
def test_accuracy_at_coverage_bad_coverage(coverage, match):
    with pytest.raises(ValueError, match=match):
        accuracy_at_coverage(Y_TRUE, Y_PRED, CONF, coverage=coverage)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"y_pred": Y_PRED[:5]},
            "y_true and y_pred and confidence must have the same length, "
            "got y_true=6, y_pred=5, confidence=6",
        ),
        ({"confidence": CONF[:4]}, r"same length, .*confidence=4"),
        ({"sample_weight": np.ones(3)}, r"same length, .*sample_weight=3"),
        (
            {"confidence": [0.9, np.nan, 0.8, 0.7, 0.3, 0.3]},
            "confidence must be finite",
        ),
        ({"confidence": CONF * np.inf}, "confidence must be finite.*first at index 0"),
        ({"confidence": ["a"] * 6}, "confidence must be a 1-D array of numbers"),
        ({"y_true": [], "y_pred": [], "confidence": []}, "y_true is empty"),
        ({"y_pred": np.ones((6, 2))}, r"y_pred must be 1-D, got shape \(6, 2\)"),
        ({"confidence": 0.5}, "confidence must be"),
        ({"sample_weight": [1, 1, -1, 1, 1, 1]}, "sample_weight must be non-negative"),
        ({"sample_weight": np.zeros(6)}, "sample_weight must not be all zero"),
        ({"sample_weight": [1, 1, np.nan, 1, 1, 1]}, "sample_weight must be finite"),
        (
            {"y_pred": Y_PRED.astype(str)},
            "y_true holds numbers but y_pred holds strings",
        ),
    ],
)
def test_curve_bad_input(kwargs, match):
    args = {"y_true": Y_TRUE, "y_pred": Y_PRED, "confidence": CONF, **kwargs}
    with pytest.raises(ValueError, match=match):
        accuracy_coverage_curve(**args)
    with pytest.raises(ValueError, match=match):
        accuracy_at_coverage(**args, coverage=0.5)


# expected_calibration_error and calibration_table


def test_ece_of_calibrated_bins_is_zero():
    # Bin (0.6, 0.8]: 4 samples at 0.75, 3 right; bin (0.4, 0.6]: 2 at 0.5, 1 right.
    y_true = np.array([0, 0, 0, 1, 2, 0])
    y_proba = np.array(
        [[0.75, 0.15, 0.1]] * 4 + [[0.2, 0.3, 0.5]] * 2,
    )
    for strategy in ("uniform", "quantile"):
        table = calibration_table(y_true, y_proba, n_bins=5, strategy=strategy)
        assert table.ece == 0.0
        assert expected_calibration_error(y_true, y_proba, strategy=strategy) == 0.0
    table = calibration_table(y_true, y_proba, n_bins=5)
    assert np.array_equal(table.bin_index, [2, 3])
    assert np.array_equal(table.count, [2, 4])
    assert np.allclose(table.confidence, [0.5, 0.75])
    assert np.allclose(table.accuracy, [0.5, 0.75])


def test_ece_of_overconfident_model():
    # 90 % confident but right half of the time: gap 0.4 in every bin.
    y_true = np.array([0, 1, 0, 1])
    y_proba = np.array([[0.9, 0.1]] * 4)
    assert expected_calibration_error(y_true, y_proba) == pytest.approx(0.4)
    # Two bins: 0.9 (2 right of 2) and 0.6 (0 right of 2):
    # ECE = 0.5 * |1 - 0.9| + 0.5 * |0 - 0.6| = 0.35.
    y_proba = np.array([[0.9, 0.1], [0.1, 0.9], [0.4, 0.6], [0.6, 0.4]])
    assert expected_calibration_error(y_true, y_proba, n_bins=10) == pytest.approx(0.35)
    # One bin: |accuracy - mean confidence| = |0.5 - 0.75|.
    assert expected_calibration_error(y_true, y_proba, n_bins=1) == pytest.approx(0.25)


def test_calibration_table_bins_are_right_closed():
    y_true = [0, 0, 0]
    y_proba = [[0.5, 0.5], [0.75, 0.25], [1.0, 0.0]]  # on the edges of 4 bins
    table = calibration_table(y_true, y_proba, labels=[0, 1], n_bins=4)
    assert np.array_equal(table.bin_edges, [0, 0.25, 0.5, 0.75, 1.0])
    assert np.array_equal(table.bin_index, [1, 2, 3])
    assert np.array_equal(table.count, [1, 1, 1])


def test_calibration_table_quantile_bins_have_equal_counts():
    rng = np.random.default_rng(4)
    n = 1000
    y_proba = rng.dirichlet([1, 1, 1], n)
    y_true = rng.integers(0, 3, n)
    table = calibration_table(y_true, y_proba, n_bins=10, strategy="quantile")
    assert np.array_equal(table.count, [100] * 10)
    assert table.bin_edges[0] == 0.0 and table.bin_edges[-1] == 1.0
    assert np.all(np.diff(table.bin_edges) >= 0)
    assert np.all(np.diff(table.confidence) > 0)
    uniform = calibration_table(y_true, y_proba, n_bins=10)
    assert uniform.count.sum() == n
    assert np.allclose(uniform.bin_edges, np.linspace(0, 1, 11))


def test_ece_matches_table_and_direct_formula():
    rng = np.random.default_rng(5)
    n = 500
    y_proba = rng.dirichlet([0.5] * 4, n)
    y_true = np.where(
        rng.random(n) < 0.6, y_proba.argmax(axis=1), rng.integers(0, 4, n)
    )
    table = calibration_table(y_true, y_proba)
    confidence = y_proba.max(axis=1)
    correct = y_proba.argmax(axis=1) == y_true
    bins = np.clip(np.ceil(confidence * 15).astype(int) - 1, 0, 14)
    expected = sum(
        np.mean(bins == b)
        * abs(correct[bins == b].mean() - confidence[bins == b].mean())
        for b in np.unique(bins)
    )
    assert table.ece == pytest.approx(expected)
    assert expected_calibration_error(y_true, y_proba) == table.ece
    assert table.count.sum() == n


def test_ece_labels_give_the_column_order():
    y_true = np.array(["hexagonal", "cubic", "cubic", "hexagonal"])
    y_proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.6, 0.4]])
    default = expected_calibration_error(y_true, y_proba)  # cubic, hexagonal
    swapped = expected_calibration_error(
        y_true, y_proba[:, ::-1], labels=["hexagonal", "cubic"]
    )
    assert default == swapped
    # With the wrong order, every prediction flips.
    reversed_ = expected_calibration_error(
        y_true, y_proba, labels=["hexagonal", "cubic"]
    )
    assert reversed_ != default
    # labels may list a class that never occurs in y_true.
    three = np.column_stack([y_proba, np.zeros(4)])
    assert (
        expected_calibration_error(
            y_true, three, labels=["cubic", "hexagonal", "trigonal"]
        )
        == default
    )


def test_ece_binary_1d_proba():
    y_true = np.array([0, 1, 1, 0, 1])
    p1 = np.array([0.1, 0.8, 0.4, 0.3, 0.95])
    assert expected_calibration_error(y_true, p1) == pytest.approx(
        expected_calibration_error(y_true, np.column_stack([1 - p1, p1]))
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"y_proba": np.full((4, 3), 1 / 3)},
            "y_proba has 3 columns but y_true has 2 distinct labels; pass labels",
        ),
        (
            {"y_true": [1, 1, 1, 1], "y_proba": [0.5] * 4},
            r"y_proba is 1-D \(binary\) but y_true has 1 distinct labels",
        ),
        ({"labels": [0, 1, 2]}, "y_proba has 2 columns but labels has 3 entries"),
        ({"labels": [0, 0]}, "labels must be unique"),
        ({"labels": [0, 2]}, r"y_true has 1 label\(s\) not in labels, e.g. \[1\]"),
        ({"labels": ["0", "1"]}, "y_true has 2 label"),
        ({"y_proba": [[0.5, 0.5]] * 3}, "y_true=4, y_proba=3"),
        ({"y_proba": [[0.5, np.nan]] * 4}, r"y_proba must be finite.*index \(0, 1\)"),
        ({"y_proba": [[1.5, -0.5]] * 4}, r"probabilities in \[0, 1\].*1.5"),
        ({"y_proba": [[0.5, -1e-9]] * 4}, r"probabilities in \[0, 1\]"),
        ({"y_proba": np.zeros((4, 2, 1))}, "y_proba must be 2-D"),
        ({"y_proba": [["a", "b"]] * 4}, "y_proba must be an array of probabilities"),
        ({"y_true": [], "y_proba": np.zeros((0, 2))}, "y_true is empty"),
        ({"n_bins": 0}, "n_bins must be >= 1"),
        ({"n_bins": 2.5}, "n_bins must be an integer"),
        ({"n_bins": True}, "n_bins must be an integer"),
        ({"strategy": "equal"}, "strategy must be one of"),
    ],
)
def test_calibration_bad_input(kwargs, match):
    args = {
        "y_true": [0, 1, 1, 0],
        "y_proba": [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1]],
        **kwargs,
    }
    with pytest.raises(ValueError, match=match):
        calibration_table(**args)
    with pytest.raises(ValueError, match=match):
        expected_calibration_error(**args)


# AccuracyCoverageDisplay


def test_display_from_predictions():
    display = AccuracyCoverageDisplay.from_predictions(
        Y_TRUE, Y_PRED, CONF, name="ResNet", color="red"
    )
    coverage, accuracy, thresholds = accuracy_coverage_curve(Y_TRUE, Y_PRED, CONF)
    assert np.array_equal(display.line_.get_xdata(), coverage)
    assert np.array_equal(display.line_.get_ydata(), accuracy)
    assert np.array_equal(display.thresholds, thresholds)
    assert display.line_.get_color() == "red"
    assert display.ax_.get_xlim() == (0, 1)
    assert display.ax_.get_xlabel() == "Coverage (fraction of patterns answered)"
    assert display.ax_.get_ylabel() == "Accuracy on answered patterns"
    assert display.figure_ is display.ax_.figure
    legend = display.ax_.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["ResNet"]


def test_display_plot_on_given_axes_and_without_name():
    _, ax = plt.subplots()
    display = AccuracyCoverageDisplay(coverage=[0.5, 1.0], accuracy=[1.0, 0.75])
    assert display.plot(ax=ax) is display
    assert display.ax_ is ax and display.line_ in ax.lines
    assert ax.get_legend() is None
    display.plot(ax=ax, name="second")  # a second curve on the same axes
    assert len(ax.lines) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["second"]


def test_display_from_estimator_uses_max_proba():
    X, y = make_classification(
        n_samples=300, n_classes=3, n_informative=4, random_state=0
    )
    clf = LogisticRegression(max_iter=1000).fit(X, y)
    display = AccuracyCoverageDisplay.from_estimator(clf, X, y)
    coverage, accuracy, _ = accuracy_coverage_curve(
        y, clf.predict(X), clf.predict_proba(X).max(axis=1)
    )
    assert display.estimator_name == "LogisticRegression"
    assert np.allclose(display.line_.get_xdata(), coverage)
    assert np.allclose(display.line_.get_ydata(), accuracy)
    assert display.accuracy[-1] == pytest.approx(clf.score(X, y))
    legend = display.ax_.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["LogisticRegression"]
    custom = AccuracyCoverageDisplay.from_estimator(
        clf, X, y, confidence=lambda est, X: -est.predict_proba(X).max(axis=1)
    )
    # Least confident first: the thresholds of the default curve, negated.
    assert np.array_equal(custom.thresholds, -display.thresholds[::-1])
    assert custom.accuracy[-1] == display.accuracy[-1]


class ConfidentDummy:
    """Predicts the first feature, with the second as its confidence."""

    def predict(self, X):
        return np.asarray(X)[:, 0].astype(int)

    def predict_confidence(self, X):
        return np.asarray(X)[:, 1]

    def predict_proba(self, X):
        # Reversed ranking, so that using it by mistake changes the curve.
        c = 1 - np.asarray(X)[:, 1]
        return np.column_stack([c, 1 - c])


def test_display_from_estimator_prefers_predict_confidence():
    X = np.array([[0, 0.9], [1, 0.8], [0, 0.4], [1, 0.1]])
    y = np.array([0, 1, 1, 0])
    display = AccuracyCoverageDisplay.from_estimator(
        ConfidentDummy(), X, y, name="dummy"
    )
    assert np.allclose(display.line_.get_xdata(), [0.25, 0.5, 0.75, 1.0])
    assert np.allclose(display.line_.get_ydata(), [1.0, 1.0, 2 / 3, 0.5])
    assert display.estimator_name == "dummy"
    proba = AccuracyCoverageDisplay.from_estimator(
        ConfidentDummy(), X, y, confidence="proba"
    )
    assert proba.estimator_name == "ConfidentDummy"
    # max(c, 1 - c) with c = 1 - confidence: 0.9, 0.8, 0.6, 0.9.
    assert np.allclose(proba.line_.get_xdata(), [0.5, 0.75, 1.0])
    assert np.allclose(proba.line_.get_ydata(), [0.5, 2 / 3, 0.5])


class PredictOnly:
    def predict(self, X):
        return np.zeros(len(X), dtype=int)


def test_display_from_estimator_bad_confidence():
    X, y = np.zeros((3, 2)), np.array([0, 1, 0])
    with pytest.raises(ValueError, match="confidence must be one of"):
        AccuracyCoverageDisplay.from_estimator(ConfidentDummy(), X, y, confidence="x")
    with pytest.raises(ValueError, match="PredictOnly has no predict_proba"):
        AccuracyCoverageDisplay.from_estimator(PredictOnly(), X, y)
    display = AccuracyCoverageDisplay.from_estimator(
        PredictOnly(), X, y, confidence=lambda est, X: np.arange(len(X))
    )
    assert np.allclose(display.accuracy, [1.0, 0.5, 2 / 3])


# Package


def test_lazy_subpackage_and_light_import():
    assert skxrd.metrics.accuracy_coverage_curve is accuracy_coverage_curve
    assert "metrics" in dir(skxrd)
    code = "import sys, skxrd.metrics; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


# Audit of silent wrong answers (metrics-audit)


def test_object_arrays_of_strings_against_numbers_are_refused():
    # A pandas column of strings is an object array: against int predictions
    # every sample counted wrong (accuracy 0 at every coverage), silently.
    y_true = np.array(["1", "2", "3"], dtype=object)
    with pytest.raises(ValueError, match="y_true holds strings but y_pred holds"):
        accuracy_coverage_curve(y_true, np.array([1, 2, 3]), [0.9, 0.8, 0.7])
    with pytest.raises(ValueError, match="y_true holds numbers but y_pred holds"):
        accuracy_at_coverage(
            np.array([1, 2, 3], dtype=object), y_true, [0.9, 0.8, 0.7], 1.0
        )
    # Same kinds in object arrays, and ints mixed with an "unknown" answer, work.
    _, accuracy, _ = accuracy_coverage_curve(
        y_true, np.array(["1", "2", "4"]), [0.9, 0.8, 0.7]
    )
    assert np.allclose(accuracy, [1.0, 1.0, 2 / 3])
    mixed = np.array([1, "unknown", 3], dtype=object)
    _, accuracy, _ = accuracy_coverage_curve([1, 2, 3], mixed, [0.9, 0.8, 0.7])
    assert np.allclose(accuracy, [1.0, 0.5, 2 / 3])


@pytest.mark.parametrize(
    "y_true, y_pred, name",
    [
        ([0.0, np.nan, 1.0], [0.0, np.nan, 1.0], "y_true"),
        ([0.0, 1.0, 1.0], np.array([0, np.nan, 1], dtype=object), "y_pred"),
    ],
)
def test_nan_labels_are_refused_by_the_curve(y_true, y_pred, name):
    # NaN == NaN is False: a NaN label would count wrong even against itself
    # (the curve gave accuracy 2/3 for three identical labels).
    with pytest.raises(ValueError, match=f"{name} must not hold NaN labels.*index 1"):
        accuracy_coverage_curve(y_true, y_pred, [0.9, 0.8, 0.7])


def test_nan_labels_are_refused_by_calibration():
    y_proba = [[0.9, 0.1], [0.2, 0.8]]
    with pytest.raises(ValueError, match="y_true must not hold NaN labels"):
        expected_calibration_error([0.0, np.nan], y_proba)
    with pytest.raises(ValueError, match="labels must not hold NaN labels"):
        expected_calibration_error([0.0, 0.0], y_proba, labels=[0.0, np.nan])


@pytest.mark.parametrize("n_bins", range(1, 41))
def test_uniform_bins_hold_a_confidence_of_exactly_k_over_n_bins_below(n_bins):
    # The votes of an ensemble of n_bins members: confidences k / n_bins, one
    # per bin (lo, hi]. np.linspace edges put 5/6 (n_bins=6) in the last bin
    # with the unanimous votes.
    top = np.array([k / n_bins for k in range(1, n_bins + 1)])
    # n_bins + 1 columns: the rest of each row, spread, stays below the top.
    rest = (1 - top[:, None]) / n_bins * np.ones((1, n_bins))
    y_proba = np.column_stack([top, rest])
    y_true = np.zeros(n_bins, dtype=int)
    labels = np.arange(n_bins + 1)
    table = calibration_table(y_true, y_proba, labels=labels, n_bins=n_bins)
    assert table.bin_edges.tolist() == [k / n_bins for k in range(n_bins + 1)]
    # From the definition: bin b holds b / n < c <= (b + 1) / n.
    expected = [
        next(b for b in range(n_bins) if b / n_bins < c <= (b + 1) / n_bins)
        for c in top
    ]
    assert expected == list(range(n_bins))
    assert table.bin_index.tolist() == expected
    assert table.count.tolist() == [1] * n_bins
    # All right: each bin's gap is 1 - its confidence.
    assert table.ece == pytest.approx(np.mean(1 - top), abs=1e-12)


def test_six_votes_in_six_bins():
    # The reproduction: 6 members vote 5 to 1 or 6 to 0.
    y_proba = [[5 / 6, 1 / 6], [1.0, 0.0]]
    table = calibration_table([0, 1], y_proba, labels=[0, 1], n_bins=6)
    assert table.bin_index.tolist() == [4, 5]
    assert table.count.tolist() == [1, 1]
    # bins 5/6 (right) and 1.0 (wrong): ECE = (1/6 + 1) / 2
    assert table.ece == pytest.approx((1 / 6 + 1) / 2)


def test_rows_not_summing_to_one_warn_as_sklearn():
    y_true = [0, 1, 1]
    scores = [[0.9, 0.9], [0.2, 0.8], [0.3, 0.3]]  # sigmoid scores, not probas
    with pytest.warns(UserWarning, match=r"y_proba rows must sum to 1: 2 of 3") as rec:
        ece = expected_calibration_error(y_true, scores)
    assert rec[0].filename == __file__  # the user's line, not skxrd's
    # Used as given (no renormalization): 0.9 and 0.8 right, 0.3 wrong, each
    # in its own bin.
    assert ece == pytest.approx((0.1 + 0.2 + 0.3) / 3)
    with pytest.warns(UserWarning, match="first row 0 sums to 1.8") as rec:
        calibration_table(y_true, scores)
    assert rec[0].filename == __file__


def test_float32_softmax_and_binary_1d_do_not_warn():
    import warnings

    rng = np.random.default_rng(6)
    logits = rng.normal(size=(200, 230)).astype(np.float32)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba = (e / e.sum(axis=1, keepdims=True)).astype(np.float64)
    y_true = rng.integers(0, 230, 200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expected_calibration_error(y_true, proba, labels=np.arange(230))
        expected_calibration_error([0, 1, 1], [0.2, 0.9, 0.4])


def test_half_precision_probabilities_do_not_warn_but_scores_do():
    import warnings

    import torch

    # float16 softmax outputs of a confident 7-class model (crystal systems):
    # the top value alone rounds by up to 2.4e-4 near 0.9, and the rows were
    # said not to sum to 1 ("pass probabilities ..., not scores or logits")
    rng = np.random.default_rng(8)
    logits = torch.tensor(rng.normal(size=(200, 7)) * 4, dtype=torch.float32)
    proba16 = torch.softmax(logits, 1).half()
    assert np.abs(proba16.double().sum(1).numpy() - 1).max() > 1e-4
    y_true = rng.integers(0, 7, 200)
    with pytest.warns(UserWarning, match="rows must sum to 1"):  # in float64
        expected = calibration_table(y_true, proba16.double().numpy(), labels=range(7))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for given in (proba16, proba16.numpy()):
            got = expected_calibration_error(y_true, given, labels=np.arange(7))
            assert got == pytest.approx(expected.ece)
        expected_calibration_error([0, 1], np.array([[0.9, 0.1]] * 2, np.float16))
        # bfloat16, which numpy lacks: "Got unsupported ScalarType BFloat16"
        got = expected_calibration_error(y_true, proba16.bfloat16(), labels=range(7))
        assert got == pytest.approx(expected.ece, abs=0.02)
    with pytest.warns(UserWarning, match="rows must sum to 1"):
        expected_calibration_error([0, 1], np.array([[0.9, 0.9]] * 2, np.float16))
    with pytest.warns(UserWarning, match="rows must sum to 1"):  # float64: as before
        expected_calibration_error([0, 1], [[0.9, 0.1002]] * 2)


def test_tensors_that_require_grad_are_scored_by_their_values():
    import torch

    # probabilities straight from a network outside torch.no_grad(): numpy
    # refuses them, and the metrics failed with torch's RuntimeError
    torch.manual_seed(0)
    net = torch.nn.Linear(5, 3)
    proba = torch.softmax(net(torch.rand(40, 5)), 1)
    assert proba.requires_grad
    y_true = torch.randint(0, 3, (40,))
    values = proba.detach().numpy()
    assert expected_calibration_error(y_true, proba) == pytest.approx(
        expected_calibration_error(y_true.numpy(), values)
    )
    table = calibration_table(y_true, proba.half(), labels=[0, 1, 2], n_bins=4)
    assert table.count.sum() == 40
    confidence, y_pred = proba.max(1)
    got = accuracy_coverage_curve(y_true, y_pred, confidence, sample_weight=confidence)
    expected = accuracy_coverage_curve(
        y_true.numpy(),
        y_pred.numpy(),
        confidence.detach().numpy(),
        sample_weight=confidence.detach().numpy(),
    )
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    assert accuracy_at_coverage(y_true, y_pred, confidence, 0.5) == pytest.approx(
        accuracy_at_coverage(y_true.numpy(), y_pred.numpy(), values.max(1), 0.5)
    )


def test_ece_matches_definition_with_string_labels_and_odd_bins():
    rng = np.random.default_rng(7)
    n, labels = 400, np.array(["cubic", "hexagonal", "trigonal"])
    y_proba = rng.dirichlet([0.7] * 3, n)
    y_proba[:20] = np.eye(3)[rng.integers(0, 3, 20)]  # confidences of exactly 1.0
    y_true = labels[rng.integers(0, 3, n)]
    for n_bins in (1, 7, 12, 15):
        got = expected_calibration_error(y_true, y_proba, labels=labels, n_bins=n_bins)
        confidence = y_proba.max(axis=1)
        correct = labels[y_proba.argmax(axis=1)] == y_true
        bins = [
            max(b for b in range(n_bins) if b / n_bins < c or b == 0)
            for c in confidence
        ]
        bins = np.array(bins)
        expected = sum(
            np.mean(bins == b)
            * abs(correct[bins == b].mean() - confidence[bins == b].mean())
            for b in np.unique(bins)
        )
        assert got == pytest.approx(expected, abs=1e-12)


def test_display_checks_its_own_curve():
    with pytest.raises(ValueError, match="coverage=2, accuracy=1"):
        AccuracyCoverageDisplay(coverage=[0.5, 1.0], accuracy=[1.0]).plot()
    with pytest.raises(ValueError, match="accuracy must be finite"):
        AccuracyCoverageDisplay(coverage=[0.5, 1.0], accuracy=[1.0, np.nan]).plot()
    assert plt.get_fignums() == []


# sample_weight in the calibration metrics


def _dirichlet_sample(seed, n=300, k=4):
    rng = np.random.default_rng(seed)
    y_proba = rng.dirichlet([0.5] * k, n)
    y_true = np.where(
        rng.random(n) < 0.6, y_proba.argmax(axis=1), rng.integers(0, k, n)
    )
    return y_true, y_proba, rng


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_integer_weights_equal_repeated_samples_in_calibration(strategy):
    y_true, y_proba, rng = _dirichlet_sample(11)
    weight = rng.integers(0, 4, len(y_true))
    weight[0] = 0  # a left-out sample
    repeated = np.repeat(np.arange(len(y_true)), weight)
    weighted = calibration_table(
        y_true, y_proba, sample_weight=weight, strategy=strategy, n_bins=10
    )
    plain = calibration_table(
        y_true[repeated], y_proba[repeated], strategy=strategy, n_bins=10
    )
    if strategy == "uniform":  # weighted quantiles differ from interpolated ones
        np.testing.assert_array_equal(weighted.bin_index, plain.bin_index)
        np.testing.assert_allclose(weighted.confidence, plain.confidence)
        np.testing.assert_allclose(weighted.accuracy, plain.accuracy)
        np.testing.assert_allclose(weighted.weight, plain.count)
        assert weighted.ece == pytest.approx(plain.ece)
    # the bins' weights always follow their samples' weights
    top = y_proba.max(axis=1)
    bins = np.searchsorted(weighted.bin_edges[1:-1], top, side="left")
    for b, w in zip(weighted.bin_index, weighted.weight):
        assert w == pytest.approx(weight[bins == b].sum())
    assert expected_calibration_error(
        y_true, y_proba, sample_weight=weight, strategy=strategy, n_bins=10
    ) == pytest.approx(weighted.ece)


def test_weighted_ece_matches_its_definition():
    y_true, y_proba, rng = _dirichlet_sample(12)
    weight = rng.random(len(y_true))
    confidence = y_proba.max(axis=1)
    correct = y_proba.argmax(axis=1) == y_true
    bins = np.clip(np.ceil(confidence * 15).astype(int) - 1, 0, 14)
    expected = sum(
        weight[bins == b].sum()
        / weight.sum()
        * abs(
            np.average(correct[bins == b], weights=weight[bins == b])
            - np.average(confidence[bins == b], weights=weight[bins == b])
        )
        for b in np.unique(bins)
    )
    got = expected_calibration_error(y_true, y_proba, sample_weight=weight)
    assert got == pytest.approx(expected)
    assert got != pytest.approx(expected_calibration_error(y_true, y_proba))


def test_unit_and_equal_weights_give_the_unweighted_table():
    y_true, y_proba, _ = _dirichlet_sample(13)
    for strategy in ("uniform", "quantile"):
        plain = calibration_table(y_true, y_proba, strategy=strategy)
        for weight in (np.ones(len(y_true)), np.full(len(y_true), 2.5)):
            weighted = calibration_table(
                y_true, y_proba, strategy=strategy, sample_weight=weight
            )
            np.testing.assert_array_equal(weighted.bin_edges, plain.bin_edges)
            np.testing.assert_array_equal(weighted.count, plain.count)
            np.testing.assert_allclose(weighted.accuracy, plain.accuracy)
            assert weighted.ece == pytest.approx(plain.ece)
        np.testing.assert_array_equal(plain.weight, plain.count)


def test_zero_weight_samples_are_left_out_of_the_bins():
    y_true = [0, 1, 0, 1]
    y_proba = [[0.9, 0.1], [0.2, 0.8], [0.35, 0.65], [0.6, 0.4]]
    table = calibration_table(y_true, y_proba, n_bins=5, sample_weight=[1, 1, 0, 1])
    kept = calibration_table([0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], n_bins=5)
    np.testing.assert_array_equal(table.bin_index, kept.bin_index)
    np.testing.assert_array_equal(table.count, kept.count)
    assert table.ece == kept.ece


@pytest.mark.parametrize(
    "weight, match",
    [
        (np.ones(3), r"same length"),
        ([1, -1, 1, 1], "sample_weight must be non-negative"),
        (np.zeros(4), "sample_weight must not be all zero"),
        ([1, np.nan, 1, 1], "sample_weight must be finite"),
    ],
)
def test_calibration_bad_sample_weight(weight, match):
    y_proba = [[0.9, 0.1], [0.2, 0.8], [0.35, 0.65], [0.6, 0.4]]
    with pytest.raises(ValueError, match=match):
        expected_calibration_error([0, 1, 0, 1], y_proba, sample_weight=weight)
