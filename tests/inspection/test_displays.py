import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex
from sklearn.pipeline import Pipeline

from skxrd.crystal import CRYSTAL_SYSTEMS
from skxrd.estimators import CNNClassifier
from skxrd.inspection import (
    AttributionDisplay,
    PatternDisplay,
    SaliencyDisplay,
    attentive_response_map,
    guided_backprop,
    integrated_gradients,
    occlusion_map,
    saliency_map,
)
from skxrd.io import Pattern
from skxrd.metrics import CrystalSystemConfusionDisplay
from skxrd.preprocessing import PatternResampler
from skxrd.simulation import PeakList

CU = 1.5406
MO = 0.7293


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def gaussian(x, center, width=0.1):
    return np.exp(-0.5 * ((x - center) / width) ** 2)


def bragg(two_theta, from_wavelength, to_wavelength):
    """2θ (degrees) at ``to_wavelength`` of the same d-spacing."""
    s = np.sin(np.radians(two_theta) / 2) * to_wavelength / from_wavelength
    return np.degrees(2 * np.arcsin(s))


def tick_segments(collection):
    """(x, y_low, y_high) of each vertical tick of a LineCollection."""
    return np.array([[s[0, 0], s[0, 1], s[1, 1]] for s in collection.get_segments()])


# --------------------------------------------------------------------------- #
# PatternDisplay
# --------------------------------------------------------------------------- #
def test_pattern_display_single_array():
    y = np.array([1.0, 4.0, 2.0, 0.5])
    display = PatternDisplay(y).plot()
    assert len(display.lines_) == 1
    line = display.lines_[0]
    np.testing.assert_array_equal(line.get_xdata(), np.arange(4))
    np.testing.assert_allclose(line.get_ydata(), y / 4)
    assert display.offsets_.tolist() == [0.0]
    assert display.ax_.get_xlabel() == "Point index"
    assert display.ax_.get_ylabel() == "Normalized intensity"
    assert display.figure_ is display.ax_.figure
    assert display.ax_.get_legend() is None


def test_pattern_display_stacked_rows_default_and_given_offset():
    X = np.random.default_rng(0).random((3, 20)) * [[1.0], [5.0], [2.0]]
    x = np.linspace(10, 29, 20)
    display = PatternDisplay(X, x_axis=x).plot()
    assert len(display.lines_) == 3
    np.testing.assert_allclose(display.offsets_, [0.0, 1.1, 2.2])
    for i, line in enumerate(display.lines_):
        np.testing.assert_array_equal(line.get_xdata(), x)
        np.testing.assert_allclose(line.get_ydata(), X[i] / X[i].max() + 1.1 * i)
    assert display.ax_.get_xlim() == (10.0, 29.0)
    assert display.ax_.get_xlabel() == "2θ (degrees)"

    raw = PatternDisplay(X, x_axis=x).plot(normalize=False)
    np.testing.assert_allclose(raw.offsets_, 1.1 * X.max() * np.arange(3))
    np.testing.assert_allclose(raw.lines_[2].get_ydata(), X[2] + 2.2 * X.max())
    assert raw.ax_.get_ylabel() == "Intensity"

    given = PatternDisplay(X, offset=0.5).plot()
    np.testing.assert_allclose(given.offsets_, [0.0, 0.5, 1.0])


def test_pattern_display_array_axis_labels():
    x = np.linspace(1, 5, 10)
    y = np.ones(10)
    q = PatternDisplay(y, x_axis=x, axis="q").plot()
    assert q.ax_.get_xlabel() == "Q (Å⁻¹)"
    tt = PatternDisplay(y, x_axis=x, wavelength="CuKa").plot()
    assert tt.ax_.get_xlabel() == "2θ (degrees, λ = 1.5406 Å)"


def test_pattern_display_patterns_names_and_label():
    tt = np.linspace(10, 50, 401)
    a = Pattern(tt, gaussian(tt, 20), wavelength=CU, name="A")
    b = Pattern(tt, 3 * gaussian(tt, 30), wavelength=CU, name="B")
    display = PatternDisplay([a, b]).plot(title="two")
    assert display.ax_.get_xlabel() == "2θ (degrees, λ = 1.5406 Å)"
    assert display.ax_.get_title() == "two"
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend == ["A", "B"]
    np.testing.assert_allclose(display.lines_[1].get_xdata(), tt)
    np.testing.assert_allclose(
        display.lines_[1].get_ydata(), gaussian(tt, 30) + 1.1, atol=1e-12
    )
    relabelled = PatternDisplay([a, b], labels=["x", "y"]).plot()
    legend = [t.get_text() for t in relabelled.ax_.get_legend().get_texts()]
    assert legend == ["x", "y"]


def test_pattern_display_bragg_conversion_to_cu():
    tt = np.linspace(5, 40, 3501)
    mo = Pattern(tt, gaussian(tt, 14.0, 0.05), wavelength=MO)
    display = PatternDisplay(mo, wavelength=CU).plot()
    line = display.lines_[0]
    np.testing.assert_allclose(line.get_xdata(), bragg(tt, MO, CU))
    peak = line.get_xdata()[line.get_ydata().argmax()]
    assert peak == pytest.approx(bragg(14.0, MO, CU), abs=1e-9)
    assert peak == pytest.approx(29.84, abs=0.01)  # 2 asin(λCu/λMo sin 7°)
    assert display.ax_.get_xlabel() == "2θ (degrees, λ = 1.5406 Å)"
    # points beyond the reach of the longer wavelength are left out
    far = Pattern(np.linspace(60, 100, 41), np.ones(41), wavelength=MO)
    x = PatternDisplay(far, wavelength=CU).plot().lines_[0].get_xdata()
    assert len(x) < 41 and np.isfinite(x).all()


def test_pattern_display_q_axis():
    tt = np.linspace(10, 40, 31)
    cu = Pattern(tt, gaussian(tt, 20, 2), wavelength=CU)
    mo = Pattern(tt, gaussian(tt, 20, 2), wavelength=MO)
    display = PatternDisplay([cu, mo], axis="q").plot()
    assert display.ax_.get_xlabel() == "Q (Å⁻¹)"
    expected = 4 * np.pi * np.sin(np.radians(tt) / 2) / MO
    np.testing.assert_allclose(display.lines_[1].get_xdata(), expected)


def test_pattern_display_wavelength_mismatch():
    tt = np.linspace(10, 40, 31)
    cu = Pattern(tt, np.ones(31), wavelength=CU)
    mo = Pattern(tt, np.ones(31), wavelength=MO)
    with pytest.raises(ValueError, match=r"different wavelengths.*wavelength=.*'q'"):
        PatternDisplay([cu, mo]).plot()
    assert plt.get_fignums() == []  # nothing drawn
    display = PatternDisplay([cu, mo], wavelength=MO).plot()
    np.testing.assert_allclose(display.lines_[1].get_xdata(), tt)


def test_pattern_display_q_pattern_without_wavelength():
    p = Pattern(np.linspace(1, 4, 10), np.ones(10), axis="q", name="Si")
    with pytest.raises(ValueError, match=r"pattern 0 \('Si'\).*wavelength="):
        PatternDisplay(p).plot()
    x = PatternDisplay(p, wavelength=CU).plot().lines_[0].get_xdata()
    np.testing.assert_allclose(
        x, np.degrees(2 * np.arcsin(np.linspace(1, 4, 10) * CU / (4 * np.pi)))
    )


def test_pattern_display_peak_ticks_shared_and_per_pattern():
    X = np.random.default_rng(1).random((2, 30))
    x = np.linspace(10, 39, 30)
    display = PatternDisplay(X, x_axis=x).plot(peaks=[12.0, 25.5, 80.0])
    assert len(display.peak_lines_) == 2
    for base, collection, line in zip(
        display.offsets_, display.peak_lines_, display.lines_
    ):
        seg = tick_segments(collection)
        np.testing.assert_allclose(seg[:, 0], [12.0, 25.5])  # 80 is off the axis
        np.testing.assert_allclose(seg[:, 1], base - 0.08)
        np.testing.assert_allclose(seg[:, 2], base - 0.02)
        assert (seg[:, 2] < line.get_ydata().min()).all()  # under the pattern
    per = PatternDisplay(X, x_axis=x).plot(
        peaks=[np.array([11.0]), None], peak_labels=["ref", None]
    )
    assert len(per.peak_lines_) == 1
    np.testing.assert_allclose(tick_segments(per.peak_lines_[0])[:, 0], [11.0])
    legend = [t.get_text() for t in per.ax_.get_legend().get_texts()]
    assert legend == ["ref"]
    one = PatternDisplay(X, x_axis=x).plot(peaks=[12.0], peak_labels="ref")
    legend = [t.get_text() for t in one.ax_.get_legend().get_texts()]
    assert legend == ["ref"] and len(one.peak_lines_) == 2  # labelled once
    with pytest.raises(ValueError, match="one per pattern"):
        PatternDisplay(X, x_axis=x).plot(peaks=[[11.0], [12.0], [13.0]])
    with pytest.raises(ValueError, match="peak_labels must hold"):
        PatternDisplay(X, x_axis=x).plot(peaks=[12.0], peak_labels=["a"])


def test_pattern_display_peak_list_is_converted():
    d = np.array([3.1356, 1.9201])
    peaks = PeakList(
        d=d,
        hkl=np.array([[1, 1, 1], [2, 2, 0]]),
        multiplicity=np.array([8, 12]),
        f_squared=np.ones(2),
        two_theta=np.degrees(2 * np.arcsin(CU / (2 * d))),
        intensity=np.ones(2),
        wavelength=CU,
    )
    tt = np.linspace(5, 40, 351)
    mo = Pattern(tt, np.ones(351), wavelength=MO)
    display = PatternDisplay(mo).plot(peaks=peaks)  # drawn at Mo wavelength
    np.testing.assert_allclose(
        tick_segments(display.peak_lines_[0])[:, 0],
        np.degrees(2 * np.arcsin(MO / (2 * d))),
    )
    q = PatternDisplay(mo, axis="q").plot(peaks=peaks)
    np.testing.assert_allclose(tick_segments(q.peak_lines_[0])[:, 0], 2 * np.pi / d)


def test_pattern_display_from_patterns_and_ax():
    fig, ax = plt.subplots()
    p = Pattern([10.0, 20.0, 30.0], [1.0, 4.0, 2.0], wavelength=CU)
    display = PatternDisplay.from_patterns(p, ax=ax, normalize=False, lw=3)
    assert display.ax_ is ax and display.figure_ is fig
    assert display.lines_[0].get_linewidth() == 3
    np.testing.assert_allclose(display.lines_[0].get_ydata(), [1.0, 4.0, 2.0])


@pytest.mark.parametrize(
    ("kwargs", "plot_kw", "match"),
    [
        ({"patterns": np.ones(5), "axis": "d"}, {}, "axis must be"),
        ({"patterns": np.ones(5), "x_axis": np.ones(4)}, {}, "x_axis must hold"),
        ({"patterns": np.ones((2, 2, 2))}, {}, "patterns must be"),
        ({"patterns": [np.nan, 1.0]}, {}, "NaN"),
        ({"patterns": np.ones((2, 5)), "labels": ["a"]}, {}, "labels must hold"),
        ({"patterns": np.ones((2, 5)), "offset": "big"}, {}, "offset must be"),
        ({"patterns": np.ones(5), "wavelength": -1.0}, {}, "wavelength must be"),
        ({"patterns": np.ones(5)}, {"peaks": [[1.0, np.inf]]}, "peaks contains"),
    ],
)
def test_pattern_display_errors(kwargs, plot_kw, match):
    with pytest.raises(ValueError, match=match):
        PatternDisplay(**kwargs).plot(**plot_kw)


def test_pattern_display_pattern_errors():
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength=CU)
    with pytest.raises(ValueError, match="x_axis is only for array"):
        PatternDisplay(p, x_axis=[1, 2]).plot()
    with pytest.raises(ValueError, match="item 1 is a ndarray"):
        PatternDisplay([p, np.ones(2)]).plot()


# --------------------------------------------------------------------------- #
# SaliencyDisplay
# --------------------------------------------------------------------------- #
CLASSES = np.array(["cubic", "tetragonal", "hexagonal"])


def tiny_cnn():
    return CNNClassifier(
        channels=(4,),
        max_epochs=2,
        random_state=0,
        device="cpu",
        num_threads=1,
        validation_fraction=None,
    )


@pytest.fixture(scope="module")
def pipeline():
    rng = np.random.default_rng(0)
    X, y = rng.random((12, 20)), np.repeat(CLASSES, 4)
    pipe = Pipeline(
        [("resample", PatternResampler(two_theta=(10, 20, 0.5))), ("cnn", tiny_cnn())]
    )
    return pipe.fit(X, y)


@pytest.fixture(scope="module")
def measured():
    rng = np.random.default_rng(1)
    tt = np.linspace(8, 22, 141)
    mo_tt = np.linspace(3, 11, 161)
    return [
        Pattern(tt, rng.random(141), wavelength="CuKa1", name="cu"),
        Pattern(mo_tt, rng.random(161), wavelength="MoKa1", name="mo"),
    ]


def test_saliency_display_pipeline_with_patterns(pipeline, measured):
    resampler, cnn = pipeline[0], pipeline[-1]
    display = SaliencyDisplay.from_estimator(pipeline, measured, index=1, top_k=2)
    assert isinstance(display, SaliencyDisplay)
    assert isinstance(display, AttributionDisplay)
    transformed = resampler.transform([measured[1]])
    line = display.lines_[0]
    np.testing.assert_array_equal(line.get_xdata(), resampler.grid_)
    np.testing.assert_allclose(line.get_ydata(), transformed[0])
    np.testing.assert_allclose(
        display.attribution_, saliency_map(cnn, transformed)[0], rtol=1e-5
    )
    assert display.ax_.get_xlabel() == "2θ (degrees, λ = 1.5406 Å)"
    assert display.target_ == cnn.predict(transformed)[0]
    assert len(display.top_k_) == 2
    labels = [label for label, _ in display.top_k_]
    proba = np.array([p for _, p in display.top_k_])
    assert labels[0] == display.target_ and set(labels) <= set(CLASSES)
    assert (np.diff(proba) <= 0).all() and 0 < proba.sum() <= 1 + 1e-9
    title = display.ax_.get_title().split("\n")
    assert title[0] == f"Saliency: class {display.target_}"
    assert title[1] == f"{labels[0]} {proba[0]:.2f}, {labels[1]} {proba[1]:.2f}"


def test_saliency_display_single_pattern_and_negative_index(pipeline, measured):
    display = SaliencyDisplay.from_estimator(pipeline, measured[0], top_k=None)
    assert display.top_k_ is None
    assert "\n" not in display.ax_.get_title()
    last = SaliencyDisplay.from_estimator(pipeline, measured, index=-1)
    assert len(last.top_k_) == 3
    np.testing.assert_allclose(
        last.lines_[0].get_ydata(), pipeline[0].transform([measured[1]])[0]
    )


def test_saliency_display_arrays_and_methods(pipeline):
    X = np.random.default_rng(2).random((3, 20))
    display = SaliencyDisplay.from_estimator(
        pipeline, X, index=2, method="integrated_gradients", target="cubic", n_steps=4
    )
    assert display.target_ == "cubic"
    assert display.ax_.get_title().startswith("Integrated gradients: class cubic\n")
    cnn = pipeline[-1]
    plain = SaliencyDisplay.from_estimator(cnn, X, index=0, top_k=1)
    assert plain.ax_.get_xlabel() == "Point index"
    assert len(plain.top_k_) == 1 and plain.top_k_[0][0] == cnn.predict(X[:1])[0]
    x = np.linspace(0, 1, 20)
    given = SaliencyDisplay.from_estimator(pipeline, X, x_axis=x)
    np.testing.assert_array_equal(given.lines_[0].get_xdata(), x)


def test_saliency_display_direct():
    pattern = np.linspace(0, 1, 10)
    display = SaliencyDisplay(
        sample=pattern, attribution=pattern, target=3, top_k=[(3, 0.6), (1, 0.25)]
    ).plot()
    assert display.ax_.get_title() == "Saliency: class 3\n3 0.60, 1 0.25"
    assert display.top_k_ == [(3, 0.6), (1, 0.25)]
    with pytest.raises(ValueError, match="top_k must be"):
        SaliencyDisplay(sample=pattern, attribution=pattern, top_k=[3]).plot()
    image = np.ones((3, 4, 4))
    with pytest.raises(ValueError, match="1D patterns"):
        SaliencyDisplay(sample=image, attribution=image).plot()


def test_saliency_display_errors(pipeline, measured):
    X = np.ones((2, 20))
    with pytest.raises(ValueError, match=r"index must be an integer in \[-2, 2\)"):
        SaliencyDisplay.from_estimator(pipeline, X, index=2)
    with pytest.raises(ValueError, match="X must hold samples"):
        SaliencyDisplay.from_estimator(pipeline, np.ones(20))
    with pytest.raises(ValueError, match="X holds Pattern objects"):
        SaliencyDisplay.from_estimator(pipeline[-1], measured)
    with pytest.raises(ValueError, match="top_k must be"):
        SaliencyDisplay.from_estimator(pipeline, X, top_k=0)
    with pytest.raises(ValueError, match="method must be"):
        SaliencyDisplay.from_estimator(pipeline, X, method="magic")


# --------------------------------------------------------------------------- #
# CrystalSystemConfusionDisplay
# --------------------------------------------------------------------------- #
# true space groups: cubic, cubic, hexagonal, orthorhombic, monoclinic, monoclinic
Y_TRUE = [225, 221, 194, 62, 14, 14]
Y_PRED = ["cubic", "tetragonal", "hexagonal", "orthorhombic", "monoclinic", "Pnma"]
SYSTEMS = ["monoclinic", "orthorhombic", "tetragonal", "hexagonal", "cubic"]
COUNTS = np.array(
    [
        [1, 1, 0, 0, 0],  # monoclinic: one right, one called orthorhombic
        [0, 1, 0, 0, 0],  # orthorhombic
        [0, 0, 0, 0, 0],  # tetragonal: only predicted
        [0, 0, 0, 1, 0],  # hexagonal
        [0, 0, 1, 0, 1],  # cubic: one called tetragonal
    ]
)


def test_confusion_counts_against_hand_computed_case():
    display = CrystalSystemConfusionDisplay.from_predictions(
        Y_TRUE, Y_PRED, normalize=None
    )
    assert display.display_labels_ == SYSTEMS
    np.testing.assert_array_equal(display.confusion_matrix_, COUNTS)
    assert display.accuracy_ == pytest.approx(4 / 6)
    assert display.ax_.get_title() == "Crystal systems (accuracy 0.67)"
    assert [t.get_text() for t in display.ax_.get_xticklabels()] == SYSTEMS
    assert [t.get_text() for t in display.ax_.get_yticklabels()] == SYSTEMS
    assert display.ax_.get_xlabel() == "Predicted crystal system"
    assert display.ax_.get_ylabel() == "True crystal system"
    np.testing.assert_array_equal(display.im_.get_array(), COUNTS)
    assert display.text_.shape == (5, 5) and display.text_[4, 4].get_text() == "1"
    assert display.figure_ is display.ax_.figure


def test_confusion_normalize():
    true_rows = CrystalSystemConfusionDisplay.from_predictions(Y_TRUE, Y_PRED)
    expected = np.zeros((5, 5))
    for i, row in enumerate(COUNTS):
        if row.sum():
            expected[i] = row / row.sum()
    np.testing.assert_allclose(true_rows.confusion_matrix_, expected)
    assert true_rows.accuracy_ == pytest.approx(4 / 6)  # not the mean recall
    pred = CrystalSystemConfusionDisplay.from_predictions(
        Y_TRUE, Y_PRED, normalize="pred"
    )
    np.testing.assert_allclose(pred.confusion_matrix_, COUNTS / COUNTS.sum(0))
    total = CrystalSystemConfusionDisplay.from_predictions(
        Y_TRUE, Y_PRED, normalize="all"
    )
    np.testing.assert_allclose(total.confusion_matrix_, COUNTS / 6)
    with pytest.raises(ValueError, match="normalize must be"):
        CrystalSystemConfusionDisplay.from_predictions(Y_TRUE, Y_PRED, normalize="row")


def test_confusion_order_is_by_symmetry_not_by_appearance():
    y = ["cubic", "triclinic", "trigonal", "Monoclinic", 230, 1.0]
    display = CrystalSystemConfusionDisplay.from_predictions(y, y[::-1])
    assert display.display_labels_ == ["triclinic", "monoclinic", "trigonal", "cubic"]


def test_confusion_include_missing():
    display = CrystalSystemConfusionDisplay.from_predictions(
        Y_TRUE, Y_PRED, normalize=None, include_missing=True
    )
    assert display.display_labels_ == list(CRYSTAL_SYSTEMS)
    cm = display.confusion_matrix_
    assert cm.shape == (7, 7) and cm.sum() == 6
    for missing in ("triclinic", "trigonal"):
        i = CRYSTAL_SYSTEMS.index(missing)
        assert cm[i].sum() == 0 and cm[:, i].sum() == 0
    keep = [CRYSTAL_SYSTEMS.index(s) for s in SYSTEMS]
    np.testing.assert_array_equal(cm[np.ix_(keep, keep)], COUNTS)


def test_confusion_unknown_labels():
    # figures other tests left open (a -k selection of the suite) are not
    # this test's: it checks that bad labels open none
    plt.close("all")
    with pytest.raises(ValueError, match=r"y_pred has labels.*0, 231, 'cubik'"):
        CrystalSystemConfusionDisplay.from_predictions(
            [1, 2, 3, 4], [0, 231, "cubik", 231]
        )
    with pytest.raises(ValueError, match=r"y_true has labels.*True.*2\.5"):
        CrystalSystemConfusionDisplay.from_predictions([True, 2.5], [1, 2])
    with pytest.raises(ValueError, match="same length"):
        CrystalSystemConfusionDisplay.from_predictions([1, 2], [1])
    with pytest.raises(ValueError, match="no samples"):
        CrystalSystemConfusionDisplay.from_predictions([], [])
    assert plt.get_fignums() == []


def test_confusion_from_estimator_and_ax():
    class Constant:
        def predict(self, X):
            return np.full(len(X), 194)

    fig, ax = plt.subplots()
    display = CrystalSystemConfusionDisplay.from_estimator(
        Constant(), np.zeros((3, 2)), ["P6_3/mmc", 191, 2], ax=ax, colorbar=False
    )
    assert display.ax_ is ax and display.figure_ is fig
    assert display.display_labels_ == ["triclinic", "hexagonal"]
    np.testing.assert_allclose(display.confusion_matrix_, [[0, 1], [0, 1]])
    assert display.accuracy_ == pytest.approx(2 / 3)


def test_confusion_direct_matrix():
    display = CrystalSystemConfusionDisplay(np.eye(7, dtype=int) * 2).plot()
    assert display.display_labels_ == list(CRYSTAL_SYSTEMS)
    assert display.accuracy_ == 1.0
    with pytest.raises(ValueError, match="display_labels must name the 2"):
        CrystalSystemConfusionDisplay(np.eye(2)).plot()
    with pytest.raises(ValueError, match="crystal systems"):
        CrystalSystemConfusionDisplay(np.eye(2), display_labels=["a", "cubic"]).plot()
    with pytest.raises(ValueError, match="square"):
        CrystalSystemConfusionDisplay(np.ones((2, 3))).plot()


def test_the_confusion_display_moved_to_metrics_with_a_warning():
    # displays by purpose (issue 20): scores in skxrd.metrics, maps in inspection
    import skxrd.inspection

    assert "CrystalSystemConfusionDisplay" not in skxrd.inspection.__all__
    with pytest.warns(FutureWarning, match="moved to skxrd.metrics"):
        old = skxrd.inspection.CrystalSystemConfusionDisplay
    assert old is CrystalSystemConfusionDisplay
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        skxrd.inspection.Nothing  # noqa: B018


def test_confusion_matches_sklearn_on_random_space_groups():
    from sklearn.metrics import confusion_matrix

    from skxrd.crystal import to_crystal_system

    rng = np.random.default_rng(0)
    y_true = rng.integers(1, 231, 300)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(1, 231, 300))
    true = [str(to_crystal_system(int(g))) for g in y_true]
    pred = [str(to_crystal_system(int(g))) for g in y_pred]
    for normalize in (None, "true", "pred", "all"):
        display = CrystalSystemConfusionDisplay.from_predictions(
            y_true, y_pred, normalize=normalize, include_missing=True
        )
        expected = confusion_matrix(
            true, pred, labels=list(CRYSTAL_SYSTEMS), normalize=normalize
        )
        np.testing.assert_allclose(display.confusion_matrix_, expected)
        assert display.accuracy_ == pytest.approx(np.mean(np.equal(true, pred)))
        plt.close(display.figure_)


@pytest.mark.parametrize(
    "matrix, kwargs, match",
    [
        # two rows of one system: the plot named both rows "hexagonal"
        (np.eye(2), {"display_labels": ["hexagonal", "hexagonal"]}, "each system once"),
        # NaN cells plotted blank, with "accuracy nan" in the title
        (
            [[1.0, np.nan], [0.0, 1.0]],
            {"display_labels": ["hexagonal", "cubic"]},
            r"finite non-negative.*nan at index \(0, 1\)",
        ),
        (
            [[1, -1], [0, 1]],
            {"display_labels": ["hexagonal", "cubic"]},
            r"finite non-negative.*-1 at index \(0, 1\)",
        ),
        # "could not convert string to float" named no input
        (
            np.eye(2),
            {"display_labels": ["hexagonal", "cubic"], "accuracy": "high"},
            "accuracy must be a number",
        ),
        (
            np.eye(2),
            {"display_labels": ["hexagonal", "cubic"], "accuracy": 80},
            "accuracy must be <= 1",
        ),
    ],
)
def test_confusion_direct_matrix_bad_input(matrix, kwargs, match):
    with pytest.raises(ValueError, match=match):
        CrystalSystemConfusionDisplay(np.asarray(matrix), **kwargs).plot()
    assert plt.get_fignums() == []


def test_confusion_non_ascii_labels_and_second_plot_on_same_axes():
    # Hermann-Mauguin symbols with a Unicode minus and subscripts are strings
    # like any other label; unknown ones are named in the error.
    with pytest.raises(ValueError, match="'Fm−3m'"):
        CrystalSystemConfusionDisplay.from_predictions(["Fm−3m"], ["cubic"])
    fig, ax = plt.subplots()
    first = CrystalSystemConfusionDisplay.from_predictions(
        Y_TRUE, Y_PRED, ax=ax, colorbar=False
    )
    second = first.plot(ax=ax, colorbar=False, title="Modèle α")
    assert second is first and first.ax_ is ax
    assert ax.get_title() == "Modèle α"


def test_pattern_display_second_plot_on_same_axes_keeps_the_first_in_view():
    # The second plot set the x range to its own (30-40) and cut off the first.
    fig, ax = plt.subplots()
    y = np.array([1.0, 2.0, 1.0])
    first = PatternDisplay(y, x_axis=[10.0, 15.0, 20.0], labels="Cu Kα").plot(ax=ax)
    second = PatternDisplay(y, x_axis=[30.0, 35.0, 40.0], labels="Mo Kα").plot(ax=ax)
    assert second.ax_ is first.ax_ is ax and len(ax.lines) == 2
    assert ax.get_xlim() == (10.0, 40.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Cu Kα", "Mo Kα"]
    # A fresh Axes still gets the range of its own patterns.
    alone = PatternDisplay(y, x_axis=[30.0, 35.0, 40.0]).plot()
    assert alone.ax_.get_xlim() == (30.0, 40.0)


# --------------------------------------------------------------------------- #
# Maps of Pattern objects, bad display input, maps sharing one Axes
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "method",
    [
        "saliency",
        "integrated_gradients",
        "occlusion",
        "guided_backprop",
        "attentive_response",
    ],
)
def test_maps_of_patterns_through_a_resampling_pipeline(pipeline, measured, method):
    # A pipeline starting with a PatternResampler (a pretrained model) takes
    # Pattern objects; the functions refused them ("X must be a numeric
    # array") although SaliencyDisplay took them.
    func = {
        "saliency": saliency_map,
        "integrated_gradients": integrated_gradients,
        "occlusion": occlusion_map,
        "guided_backprop": guided_backprop,
        "attentive_response": attentive_response_map,
    }[method]
    transformed = pipeline[0].transform(measured)
    maps = func(pipeline, measured, target="cubic")
    assert maps.shape == (2, len(pipeline[0].grid_))
    np.testing.assert_array_equal(maps, func(pipeline[-1], transformed, target="cubic"))
    display = AttributionDisplay.from_estimator(
        pipeline, measured[1], method=method, x_axis=pipeline[0].grid_
    )
    np.testing.assert_array_equal(display.lines_[0].get_xdata(), pipeline[0].grid_)
    np.testing.assert_allclose(display.lines_[0].get_ydata(), transformed[1])
    answer = pipeline.predict(measured[1:])[0]
    np.testing.assert_allclose(
        display.attribution_, func(pipeline[-1], transformed[1:], target=answer)[0]
    )


@pytest.mark.parametrize(
    "kwargs, plot_kw, match",
    [
        ({"sample": [1.0, np.nan, 2.0]}, {}, "sample contains NaN or infinity"),
        ({"attribution": [0.0, np.inf, 1.0]}, {}, "attribution contains NaN"),
        ({"x_axis": [10.0, np.nan, 30.0]}, {}, "x_axis contains NaN"),
        ({"sample": ["a", "b", "c"]}, {}, "sample must hold numbers"),
        (
            {"sample": np.full((3, 4, 4), np.nan), "attribution": np.ones((3, 4, 4))},
            {},
            "sample contains NaN",
        ),
        ({}, {"alpha": True}, "alpha must be a number"),
    ],
)
def test_attribution_display_rejects_nan_and_non_numbers(kwargs, plot_kw, match):
    # NaN was drawn as a silent gap, a NaN x_axis failed in matplotlib
    # ("Axis limits cannot be NaN"), alpha=True drew an opaque fill.
    given = {"sample": [1.0, 2.0, 3.0], "attribution": [0.1, 0.2, 0.3]} | kwargs
    for cls in (AttributionDisplay, SaliencyDisplay):
        if cls is SaliencyDisplay and np.ndim(given["sample"]) > 2:
            continue
        with pytest.raises(ValueError, match=match):
            cls(**given).plot(**plot_kw)


def test_second_map_on_the_same_axes_shares_the_attribution_axis():
    # Each plot made its own twin Axes: two independent scales for the maps,
    # their tick labels drawn over each other, the first map cut off by the
    # second's x range, and both patterns black.
    fig, ax = plt.subplots()
    x = np.linspace(0.0, 1.0, 20)
    first = AttributionDisplay(
        sample=x, attribution=x, x_axis=np.linspace(10, 20, 20)
    ).plot(ax=ax)
    second = SaliencyDisplay(
        sample=2 * x, attribution=4 * x, x_axis=np.linspace(15, 30, 20)
    ).plot(ax=ax)
    assert second.attribution_ax_ is first.attribution_ax_
    assert len(fig.axes) == 2 and len(ax.lines) == 2
    twin = first.attribution_ax_
    assert twin.get_ylim()[1] >= 4.0  # both maps in view, on one scale
    assert ax.get_xlim() == (10.0, 30.0)
    assert first.lines_[0].get_color() == "k"
    colors = [
        to_hex(c)
        for c in (second.lines_[0].get_color(), second.fill_.get_facecolor()[0])
    ]
    assert colors[0] == colors[1] != to_hex(first.fill_.get_facecolor()[0])
    # a new Axes gets a twin of its own
    alone = AttributionDisplay(sample=x, attribution=x).plot()
    assert alone.attribution_ax_ is not twin


def test_crystal_system_confusion_sums_sample_weights():
    y_true = [225, 194, 2, 14, 14]
    y_pred = ["cubic", "cubic", "triclinic", "monoclinic", "triclinic"]
    weight = [2.0, 1.0, 0.0, 3.0, 1.0]
    display = CrystalSystemConfusionDisplay.from_predictions(
        y_true, y_pred, normalize=None, sample_weight=weight
    )
    labels = display.display_labels_
    cm = display.confusion_matrix_
    assert cm[labels.index("cubic"), labels.index("cubic")] == 2.0
    assert cm[labels.index("hexagonal"), labels.index("cubic")] == 1.0
    assert cm[labels.index("triclinic"), labels.index("triclinic")] == 0.0
    assert cm[labels.index("monoclinic"), labels.index("triclinic")] == 1.0
    assert cm.sum() == 7.0
    assert display.accuracy_ == pytest.approx(5.0 / 7.0)  # (2 + 0 + 3) / 7
    # integer weights equal repeated samples
    repeated = np.repeat(np.arange(5), np.asarray(weight, dtype=int))
    plain = CrystalSystemConfusionDisplay.from_predictions(
        np.asarray(y_true)[repeated], np.asarray(y_pred)[repeated], normalize="true"
    )
    normalized = CrystalSystemConfusionDisplay.from_predictions(
        y_true, y_pred, normalize="true", sample_weight=weight
    )
    keep = [normalized.display_labels_.index(s) for s in plain.display_labels_]
    np.testing.assert_allclose(
        normalized.confusion_matrix_[np.ix_(keep, keep)], plain.confusion_matrix_
    )
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        CrystalSystemConfusionDisplay.from_predictions(
            y_true, y_pred, sample_weight=[1, 1, -1, 1, 1]
        )
    with pytest.raises(ValueError, match="same length"):
        CrystalSystemConfusionDisplay.from_predictions(
            y_true, y_pred, sample_weight=[1, 1]
        )
