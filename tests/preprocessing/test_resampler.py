import math
import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from skxrd import PowderSimulator
from skxrd.io import Pattern
from skxrd.preprocessing import PatternNormalizer, PatternResampler
from skxrd.simulation import get_radiation

CU = get_radiation("CuKa1").wavelength
MO = get_radiation("MoKa1").wavelength
D_SPACINGS = [3.1355, 1.9201, 1.6375, 1.3577]  # Si (111), (220), (311), (400)


def two_theta(d, lam):
    return math.degrees(2 * math.asin(lam / (2 * d)))


def peaks_at(x, centres, width=0.05):
    return sum(np.exp(-(((x - c) / width) ** 2)) for c in centres)


def mo_pattern(start=2.0, stop=45.0, name="si-mo"):
    x = np.arange(start, stop, 0.005)
    y = peaks_at(x, [two_theta(d, MO) for d in D_SPACINGS], width=0.02)
    return Pattern(x, y, wavelength="MoKa1", name=name)


@pytest.fixture(autouse=True)
def _no_unexpected_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        yield


def test_default_grid_matches_simulator_and_arrays_pass_through():
    res = PatternResampler()
    X = np.random.default_rng(0).random((3, 4250)).astype(np.float32)
    Xt = res.fit_transform(X)
    assert Xt.dtype == np.float32 and np.array_equal(Xt, X) and Xt is not X
    assert res.n_features_in_ == 4250
    assert res.grid_[0] == 5.0 and res.grid_[-1] == pytest.approx(89.98)
    assert res.wavelength_ == CU
    names = res.get_feature_names_out()
    assert names[0] == "two_theta_5.000" and names[-1] == "two_theta_89.980"
    sim = PowderSimulator()
    assert np.array_equal(res.grid_, sim.two_theta)
    assert np.array_equal(names, sim.get_feature_names_out())


def test_mo_pattern_lands_at_cu_positions():
    res = PatternResampler(two_theta=(10, 80, 0.01), wavelength="CuKa")
    X = res.fit_transform([mo_pattern()])
    assert X.shape == (1, 7000) and X.dtype == np.float64
    grid = res.grid_
    for d in D_SPACINGS:
        expected = two_theta(d, CU)
        window = np.abs(grid - expected) < 0.5
        found = grid[window][X[0, window].argmax()]
        assert found == pytest.approx(expected, abs=0.011)


def test_q_axis_and_two_theta_axis_agree():
    p = mo_pattern()
    res = PatternResampler(two_theta=(10, 80, 0.02)).fit([p])
    a = res.transform([p])
    b = res.transform([p.to_q()])
    c = res.transform(p)  # a single pattern
    assert np.allclose(a, b, atol=1e-9) and np.array_equal(a, c)


def test_pattern_on_model_grid_is_unchanged():
    res = PatternResampler(two_theta=(5, 90, 0.02)).fit()
    grid = 5 + 0.02 * np.arange(4250)
    y = np.random.default_rng(1).random(4250)
    out = res.transform([Pattern(grid, y, wavelength=CU)])
    assert np.allclose(out[0], y, atol=1e-12)


def test_matches_numpy_interp_through_q():
    rng = np.random.default_rng(2)
    x = np.sort(rng.uniform(3, 50, 500))
    y = rng.random(500)
    p = Pattern(x, y, wavelength=0.8)
    res = PatternResampler(
        two_theta=(10, 60, 0.1), wavelength=1.2, method="linear"
    ).fit([p])
    tt = np.degrees(
        2 * np.arcsin(4 * np.pi * np.sin(np.radians(x) / 2) / 0.8 * 1.2 / (4 * np.pi))
    )
    expected = np.interp(res.grid_, tt, y)
    assert np.allclose(res.transform([p])[0], expected)


def _step_means(grid, x, y, sub=2000):
    """Each grid point's mean, over its own step, of ``y`` held constant over
    each point's step (edges halfway to its neighbours): by brute force."""
    edges = np.r_[
        x[0] - (x[1] - x[0]) / 2, (x[1:] + x[:-1]) / 2, x[-1] + (x[-1] - x[-2]) / 2
    ]
    step = np.gradient(grid)
    out = []
    for g, h in zip(grid, step):
        t = np.linspace(g - h / 2, g + h / 2, sub + 1)
        t = (t[1:] + t[:-1]) / 2
        t = t[(t >= edges[0]) & (t <= edges[-1])]
        out.append(
            y[
                np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(y) - 1)
            ].mean()
        )
    return np.array(out)


def test_a_finer_scan_is_averaged_over_each_model_step():
    # a 0.01° scan onto a 0.02° grid: each model point is the mean over its
    # step (its own measured point and half of each neighbour), not the one
    # measured point at its centre
    rng = np.random.default_rng(0)
    x = np.round(np.arange(10.0, 60.0, 0.01), 10)
    y = rng.poisson(50.0, x.size).astype(float)
    p = Pattern(x, y, wavelength="CuKa")
    out = PatternResampler(two_theta=(20, 50, 0.02)).fit().transform([p])[0]
    point = PatternResampler(two_theta=(20, 50, 0.02), method="linear").fit()
    lin = point.transform([p])[0]
    i = np.searchsorted(x, 20.0) + 2 * np.arange(out.size)
    np.testing.assert_allclose(lin, y[i], atol=1e-9)
    np.testing.assert_allclose(out, 0.25 * y[i - 1] + 0.5 * y[i] + 0.25 * y[i + 1])
    # the counting noise is averaged down (0.61 of its spread for this kernel)
    assert 0.55 < out.std() / lin.std() < 0.67


def test_averaging_on_uneven_grids_and_through_q_matches_brute_force():
    # uneven measured steps, converted through Q to another wavelength: the
    # mean of the measured steps over each model step, where they are finer
    rng = np.random.default_rng(4)
    x = np.cumsum(rng.uniform(0.002, 0.03, 3000)) + 5.0
    y = rng.random(x.size)
    p = Pattern(x, y, wavelength=0.8)
    res = PatternResampler(two_theta=(12, 60, 0.05), wavelength=1.2).fit()
    tt = p.two_theta_at(1.2)
    np.testing.assert_allclose(
        res.transform([p])[0], _step_means(res.grid_, tt, y), atol=2e-3
    )
    # array input with the same source grid gives the same
    arr = PatternResampler(
        two_theta=(12, 60, 0.05), wavelength=1.2, source_grid=x, source_wavelength=0.8
    ).fit(y[None])
    np.testing.assert_allclose(arr.transform(y[None]), res.transform([p]))


@pytest.mark.parametrize("step", [0.02, 0.05])
def test_averaging_changes_nothing_where_the_scan_is_not_finer(step):
    # the model's own step or a coarser one: the linear interpolation, which is
    # the mean over one measured step
    rng = np.random.default_rng(1)
    x = np.arange(10.0, 80.0, step)
    y = rng.random(x.size)
    p = Pattern(x, y, wavelength="CuKa")
    avg = PatternResampler(two_theta=(20, 60, 0.02)).fit().transform([p])
    lin = PatternResampler(two_theta=(20, 60, 0.02), method="linear").fit()
    np.testing.assert_array_equal(avg, lin.transform([p]))
    if step == 0.02:
        np.testing.assert_allclose(avg[0], y[500:2500], atol=1e-9)


def test_averaging_keeps_a_narrow_lines_area_wherever_it_falls():
    # a line narrower than the model's step on a 0.001° scan: averaged, its
    # area on the model grid is the measured one wherever its centre falls;
    # point-sampled, it depends on where the line falls between the points
    x = np.arange(20.0, 40.0, 0.001)
    areas = {"average": [], "linear": []}
    for centre in 30.0 + np.linspace(0.0, 0.02, 9):
        y = np.exp(-0.5 * ((x - centre) / 0.005) ** 2)
        p = Pattern(x, y, wavelength="CuKa")
        for method in areas:
            res = PatternResampler(two_theta=(25, 35, 0.02), method=method).fit()
            areas[method].append(res.transform([p])[0].sum() * 0.02 / (y.sum() * 0.001))
    np.testing.assert_allclose(areas["average"], 1.0, atol=1e-6)
    assert np.ptp(areas["linear"]) > 0.1


def test_method_is_checked_and_old_pickles_resample_linearly():
    with pytest.raises(ValueError, match="method must be one of"):
        PatternResampler(method="cubic").fit()
    res = PatternResampler().fit()
    del res.__dict__["method"]  # as an object pickled before the parameter
    old = pickle.loads(pickle.dumps(res))
    assert old.get_params()["method"] == "linear"
    x = np.arange(0.0, 100.0, 0.01)
    p = Pattern(x, np.random.default_rng(0).random(x.size), wavelength="CuKa")
    lin = PatternResampler(method="linear").fit()
    np.testing.assert_array_equal(old.transform([p]), lin.transform([p]))
    assert not np.allclose(
        res.set_params(method="average").transform([p]), lin.transform([p])
    )


def test_arrays_on_a_source_grid_match_patterns():
    x = np.arange(2.0, 45.0, 0.01)
    rng = np.random.default_rng(3)
    X = rng.random((5, x.size))
    res = PatternResampler(
        two_theta=(10, 80, 0.05), source_grid=x, source_wavelength="MoKa1"
    )
    Xt = res.fit_transform(X)
    patterns = [Pattern(x, row, wavelength=MO) for row in X]
    assert np.allclose(Xt, res.transform(patterns))
    assert res.n_features_in_ == x.size
    assert res.source_two_theta_.shape == x.shape
    assert np.allclose(res.transform(X.astype(np.float32)), Xt, atol=1e-6)
    assert res.transform(X.astype(np.float32)).dtype == np.float32


def test_q_source_grid_and_source_range():
    q = np.linspace(0.5, 6.0, 1200)
    X = np.vstack([np.sin(q), np.cos(q)])
    res = PatternResampler(two_theta=(10, 60, 0.1), source_grid=q, source_axis="q")
    a = res.fit_transform(X)
    b = PatternResampler(
        two_theta=(10, 60, 0.1), source_range=(0.5, 6.0), source_axis="q"
    ).fit_transform(X)
    assert np.allclose(a, b)
    grid_q = 4 * np.pi * np.sin(np.radians(res.grid_) / 2) / CU
    # interpolated, the values of the curve at the grid's Q; averaged over the
    # model's steps (finer source steps here), the curve's means over them
    lin = res.set_params(method="linear").fit_transform(X)
    assert np.allclose(lin[0], np.sin(grid_q), atol=1e-4)
    assert np.allclose(a[0], np.sin(grid_q), atol=2e-3)


def test_source_range_any_length():
    res = PatternResampler(two_theta=(5, 90, 0.02), source_range=(5, 90))
    X = np.tile(np.linspace(5, 90, 8501), (2, 1))  # intensity = 2θ
    Xt = res.fit_transform(X)
    assert Xt.shape == (2, 4250) and np.allclose(Xt[0], res.grid_)
    for bad in ((5, 90, 1), 5):  # not an unpacking error deep inside
        with pytest.raises(ValueError, match=r"source_range must be \(first, last\)"):
            PatternResampler(source_range=bad).fit(X)


def test_source_wavelength_with_a_source_range():
    res = PatternResampler(
        two_theta=(10, 40, 0.1), source_range=(2, 30), source_wavelength="MoKa1"
    )
    x = np.linspace(2, 30, 2801)
    X = peaks_at(x, [15.0], width=0.05)[None]
    Xt = res.fit_transform(X)
    d = MO / (2 * math.sin(math.radians(7.5)))
    assert res.grid_[Xt[0].argmax()] == pytest.approx(two_theta(d, CU), abs=0.1)
    with pytest.raises(ValueError, match="source_wavelength needs source_grid"):
        PatternResampler(source_wavelength="MoKa").fit()


def test_array_length_mismatch_errors():
    with pytest.raises(ValueError, match=r"X has 10 features but the model grid"):
        PatternResampler().fit(np.zeros((2, 10)))
    with pytest.raises(ValueError, match=r"X has 3 features but source_grid has 4"):
        PatternResampler(source_grid=[5, 10, 20, 30]).fit(np.zeros((2, 3)))
    res = PatternResampler(source_range=(5, 90)).fit(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="expecting 100 features"):
        res.transform(np.zeros((2, 99)))
    with pytest.raises(ValueError, match="n_features = 1"):
        PatternResampler(source_range=(5, 90)).fit(np.zeros((2, 1)))


def test_non_finite_array_names_sample():
    X = np.zeros((4, 4250))
    X[2, 17] = np.nan
    with pytest.raises(ValueError, match="NaN in sample 2 at column 17"):
        PatternResampler().fit(X)
    res = PatternResampler().fit(np.zeros((1, 4250)))
    X[2, 17] = np.inf
    with pytest.raises(ValueError, match="inf in sample 2"):
        res.transform(X)


def test_partial_overlap_warns_once_with_pattern_and_range():
    res = PatternResampler(two_theta=(5, 90, 0.02), fill_value=-1.0)
    p = Pattern(np.arange(10, 60, 0.01), np.ones(5000), wavelength=CU, name="quartz")
    full = Pattern(np.arange(1, 120, 0.01), np.ones(11900), wavelength=CU)
    with pytest.warns(UserWarning) as record:
        X = res.fit_transform([full, p, p])
    assert len(record) == 1
    msg = str(record[0].message)
    assert "pattern 1 ('quartz')" in msg and "pattern 2 ('quartz')" in msg
    assert "pattern 0" not in msg
    assert "5.000–9.980°" in msg and "60.000–89.980°" in msg and "fill_value=-1" in msg
    np.testing.assert_allclose(X[0], 1.0, rtol=1e-12)  # averaged 0.01° steps
    covered = (res.grid_ >= 10) & (res.grid_ <= 59.99 + 1e-9)
    assert np.allclose(X[1, covered], 1.0) and np.all(X[1, ~covered] == -1.0)


def test_pattern_entirely_outside_is_filled_and_reported():
    res = PatternResampler(two_theta=(10, 40, 0.1)).fit()
    outside = Pattern([50.0, 60.0, 70.0], [1.0, 2.0, 3.0], wavelength=CU, name="far")
    with pytest.warns(UserWarning, match=r"pattern 0 \('far'\): no overlap"):
        X = res.transform([outside])
    assert np.all(X == 0.0)
    # Q beyond the reach of the model wavelength
    beyond = Pattern([8.5, 9.0], [1.0, 1.0], axis="q")
    with pytest.warns(UserWarning, match="beyond the reach"):
        assert np.all(res.transform([beyond]) == 0.0)


def test_many_uncovered_patterns_one_warning():
    res = PatternResampler(two_theta=(10, 40, 0.1)).fit()
    p = Pattern([20.0, 30.0], [1.0, 1.0], wavelength=CU)
    with pytest.warns(UserWarning) as record:
        res.transform([p] * 25)
    # one warning, one line for the 25 patterns with the same gap
    message = str(record[0].message)
    assert len(record) == 1 and "25 patterns (pattern 0, pattern 1, ...)" in message
    assert message.count("not covered (") == 1
    # different gaps: listed up to 10, then counted
    others = [Pattern([20.0 + i, 33.0], [1.0, 1.0], wavelength=CU) for i in range(12)]
    with pytest.warns(UserWarning) as record:
        res.transform(others)
    assert "... and 2 more patterns" in str(record[0].message)


def test_a_pattern_on_the_model_grid_at_a_nearby_wavelength_is_covered():
    import warnings

    res = PatternResampler(two_theta=(5, 90, 0.02), wavelength="CuKa").fit()
    grid = res.grid_
    p = Pattern(grid, np.ones_like(grid), wavelength=1.5406)  # not 1.540562
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = res.transform([p])
    assert out.shape == (1, len(grid)) and np.all(out == 1.0)


def test_out_of_range_error():
    res = PatternResampler(two_theta=(5, 90, 0.02), out_of_range="error").fit()
    p = Pattern(np.arange(10, 60, 0.01), np.ones(5000), wavelength=CU, name="quartz")
    msg = r"pattern 0 \('quartz'\): 5.000–9.980° and 60.000–89.980° 2θ not covered"
    with pytest.raises(ValueError, match=msg):
        res.transform([p])
    with pytest.raises(ValueError, match="all 2 samples"):
        PatternResampler(
            two_theta=(5, 90, 0.02), source_range=(10, 60), out_of_range="error"
        ).fit(np.zeros((2, 100)))


def test_array_source_grid_partial_coverage_warns_in_transform():
    res = PatternResampler(two_theta=(5, 90, 0.5), source_range=(10, 90))
    X = np.ones((3, 50))
    with pytest.warns(UserWarning, match=r"all 3 samples: 5.000–9.500°"):
        Xt = res.fit_transform(X)
    assert np.all(Xt[:, :10] == 0) and np.allclose(Xt[:, 10:], 1.0)


def test_exact_end_points_do_not_warn_after_wavelength_round_trip():
    # A Mo scan that covers exactly the Cu grid (the ends converted through Q)
    grid = np.arange(5, 90, 0.02)
    lo, hi = (
        math.degrees(2 * math.asin(math.sin(math.radians(t / 2)) * MO / CU))
        for t in (grid[0], grid[-1])
    )
    p = Pattern(np.linspace(lo, hi, 3000), np.ones(3000), wavelength=MO)
    X = PatternResampler().fit_transform([p])  # would raise on a UserWarning
    assert np.allclose(X, 1.0)


def test_fitted_on_arrays_then_patterns_in_a_pipeline():
    rng = np.random.default_rng(4)
    pipe = make_pipeline(PatternResampler(), PatternNormalizer())
    pipe.fit(rng.random((4, 4250)))
    out = pipe.transform([mo_pattern(), mo_pattern(name="second")])
    assert out.shape == (2, 4250) and np.allclose(out.max(axis=1), 1.0)
    assert pipe.get_feature_names_out()[0] == "two_theta_5.000"


def test_mixed_input_and_bad_parameters():
    res = PatternResampler().fit()
    with pytest.raises(TypeError, match="item 1 is a list"):
        res.transform([mo_pattern(), [1, 2, 3]])
    bad = [
        (dict(out_of_range="clip"), "out_of_range"),
        (dict(wavelength="XyKa"), "wavelength: unknown radiation"),
        (dict(wavelength=None), "wavelength is required"),
        (dict(source_grid=[1, 2], source_range=(1, 2)), "not both"),
        (dict(source_axis="q"), "needs source_grid or source_range"),
        (dict(source_axis="d"), "source_axis"),
        (dict(source_range=(1, 2), source_axis="q", source_wavelength=1.0), "Q axis"),
        (dict(source_range=(5, 4)), "first < last"),
        (dict(source_grid=[5, 4, 6]), "strictly increasing; index 1"),
        (dict(two_theta=(5, 90, -1)), "step > 0"),
        (dict(two_theta=[5, np.nan]), "non-finite"),
        (dict(two_theta=(0, 200, 1)), r"\[0, 180\]"),
        (dict(fill_value="zero"), "fill_value"),
    ]
    for params, match in bad:
        with pytest.raises(ValueError, match=match):
            PatternResampler(**params).fit(np.zeros((1, 4250)))


def test_unfitted_and_clone_and_pickle():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        PatternResampler().transform([mo_pattern()])
    res = PatternResampler(two_theta=np.array([10.0, 20.0, 30.0])).fit()
    assert clone(res).get_params()["two_theta"].tolist() == [10.0, 20.0, 30.0]
    again = pickle.loads(pickle.dumps(res))
    p = Pattern([5.0, 40.0], [0.0, 1.0], wavelength=CU)
    assert np.array_equal(again.transform([p]), res.transform([p]))
    assert res.get_feature_names_out().tolist() == [
        "two_theta_10.000",
        "two_theta_20.000",
        "two_theta_30.000",
    ]


def test_feature_names_check_input_features():
    res = PatternResampler(two_theta=(5, 90, 1.0), source_range=(5, 90))
    res.fit(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=re.escape("input_features should have")):
        res.get_feature_names_out(["a", "b"])
    assert len(res.get_feature_names_out([f"x{i}" for i in range(5)])) == 85


def test_resampling_onto_a_finer_grid_and_back_is_the_identity():
    # linear interpolation on a grid that holds the original points: back on
    # the original grid every value is found again
    rng = np.random.default_rng(0)
    grid = 5.0 + 0.02 * np.arange(4250)
    X = rng.random((3, 4250))
    fine = 5.0 + 0.005 * np.arange(4 * 4249 + 1)
    up = PatternResampler(two_theta=fine, source_grid=grid).fit(X)
    F = up.transform(X)
    back = PatternResampler(source_grid=fine, method="linear").fit(F).transform(F)
    assert np.allclose(back, X, rtol=0, atol=1e-12)
    # averaged over the 0.02° steps instead, the way back is the mean of the
    # interpolated line over each step (weights 1/8, 3/4, 1/8 of X's points)
    avg = PatternResampler(source_grid=fine).fit(F).transform(F)
    inner = X[:, :-2] / 8 + 3 / 4 * X[:, 1:-1] + X[:, 2:] / 8
    np.testing.assert_allclose(avg[:, 1:-1], inner, atol=1e-12)
    # and the model grid onto itself, as arrays and as patterns
    own = PatternResampler(source_grid=grid).fit(X).transform(X)
    assert np.array_equal(own, X)
    patterns = [Pattern(grid, x, wavelength="CuKa1") for x in X]
    assert np.array_equal(PatternResampler().fit().transform(patterns), X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_array_of_a_named_foreign_doublet_is_stripped_as_its_patterns(dtype):
    # an array with source_wavelength="MoKa" kept its Kα2 lines (kalpha2="auto"
    # strips them only for Pattern objects): the same Mo Kα1 + Kα2 measurement
    # resampled onto a Cu Kα grid differed by half the peak height as an array
    x = np.arange(4.0, 42.0, 0.005)
    mo1, mo2 = get_radiation("MoKa").wavelengths
    # each line at its Kα1 and, half as strong, at its Kα2 position
    centres1 = [two_theta(d, mo1) for d in D_SPACINGS]
    centres2 = [two_theta(d, mo2) for d in D_SPACINGS]
    y = peaks_at(x, centres1, 0.02) + 0.5 * peaks_at(x, centres2, 0.02) + 0.1
    grid = (10, 80, 0.01)
    patterns = PatternResampler(two_theta=grid).fit()
    expected = patterns.transform([Pattern(x, y, wavelength="MoKa")])[0]
    X = y[None].astype(dtype)
    arrays = PatternResampler(two_theta=grid, source_grid=x, source_wavelength="MoKa")
    got = arrays.fit(X).transform(X)
    assert got.dtype == dtype
    np.testing.assert_allclose(got[0], expected, atol=1e-5)
    # Kα1 alone is left: no line at the Cu Kα grid's image of the Mo Kα2 lines
    kept = clone(arrays).set_params(kalpha2="keep").fit(X).transform(X)
    for d in D_SPACINGS:
        image = two_theta(d * mo1 / mo2, CU)  # where Mo Kα2 lands at Cu Kα1
        i = np.argmin(np.abs(arrays.grid_ - image))
        assert got[0, i] < 0.2 < 0.5 < kept[0, i]  # kept on request
    # the model's own doublet is never stripped
    own = PatternResampler(two_theta=grid, source_grid=x, source_wavelength="MoKa")
    own.set_params(wavelength="MoKa", two_theta=(5, 40, 0.01))
    np.testing.assert_array_equal(
        own.fit(X).transform(X),
        clone(own).set_params(source_wavelength="MoKa1").fit(X).transform(X),
    )


@pytest.mark.parametrize("empty", [[], ()])
def test_fit_on_an_empty_list_is_one_clear_error(empty):
    # transform said so, fit advised reshaping "array=[]" as one feature
    with pytest.raises(ValueError, match="X is an empty (list|tuple): give at least"):
        PatternResampler().fit(empty)


def test_a_grid_tuple_of_two_numbers_is_refused_as_a_range_without_step():
    # (5, 90) was a model grid of two points (answers from two intensities);
    # Kalpha2Stripper reads the same tuple as first and last columns
    from skxrd.preprocessing import PatternCropper

    tt = np.arange(5.0, 90.0, 0.02)
    pattern = Pattern(tt, np.exp(-(((tt - 30.0) / 0.1) ** 2)) + 0.01, wavelength="CuKa")
    with pytest.raises(ValueError, match=r"tuple of two numbers: a range needs a step"):
        PatternResampler(two_theta=(5, 90)).fit([pattern])
    X = np.ones((1, 2))
    with pytest.raises(ValueError, match=r"tuple of two numbers: a range needs a step"):
        PatternCropper(start=5, stop=90, grid=(5, 90)).fit(X)
    # a list of two still lists two points; a three-tuple is a range
    out = PatternResampler(two_theta=[5, 90]).fit([pattern]).transform([pattern])
    assert out.shape == (1, 2)
    out = PatternResampler(two_theta=(5, 90, 0.02)).fit([pattern]).transform([pattern])
    assert out.shape == (1, 4250)


# ------------------------------------------- a stated Kα mean for array input
def _cu_doublet_rows(x):
    cu1, cu2 = get_radiation("CuKa").wavelengths
    y = peaks_at(x, [two_theta(d, cu1) for d in D_SPACINGS], 0.02)
    y = y + 0.5 * peaks_at(x, [two_theta(d, cu2) for d in D_SPACINGS], 0.02)
    return np.vstack([y + 0.1, 2 * y + 0.3])


def _mean_warnings(record):
    return [w for w in record if "Kα1/Kα2 weighted mean" in str(w.message)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("model", ["CuKa", "CuKa1"])
def test_a_stated_kalpha_mean_source_wavelength_is_read_as_the_doublet(dtype, model):
    # source_wavelength=1.5418 (the Cu Kα1/Kα2 mean RRUFF states) was one
    # line of 1.5418 Å for arrays: their peaks were put 0.08 % off the Kα1
    # positions a Cu Kα model learnt, while a Pattern of 1.5418 Å is the Cu
    # doublet; the same measurement gave two answers
    x = np.arange(20.0, 80.0, 0.005)
    X = _cu_doublet_rows(x).astype(dtype)
    grid = (25, 75, 0.01)
    arrays = PatternResampler(
        two_theta=grid, wavelength=model, source_grid=x, source_wavelength=1.5418
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        got = arrays.fit_transform(X)  # one warning for the call, not per row
        assert len(_mean_warnings(record)) == 1
        arrays.fit(X)
        assert len(_mean_warnings(record)) == 2
        assert np.array_equal(arrays.transform(X), got)
        assert len(_mean_warnings(record)) == 3
    message = str(_mean_warnings(record)[0].message)
    assert "source_wavelength 1.5418 Å" in message and "'CuKa'" in message
    assert "source_radiation='xray'" in message
    assert got.dtype == dtype
    # exactly as the named doublet ("CuKa": kept for a Cu Kα model, its Kα2
    # stripped for a Cu Kα1 one)
    named = clone(arrays).set_params(source_wavelength="CuKa")
    assert np.array_equal(got, named.fit_transform(X))
    # and as the Pattern route of the same number
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        patterns = [Pattern(x, row, wavelength=1.5418) for row in X.astype(float)]
    expected = (
        PatternResampler(two_theta=grid, wavelength=model).fit().transform(patterns)
    )
    atol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
    # the peaks at the model's Kα1 positions (read as one 1.5418 Å line they
    # stood 0.02-0.05° higher: a third of their height or less there)
    for d in D_SPACINGS:
        i = np.argmin(np.abs(arrays.grid_ - two_theta(d, CU)))
        assert got[0, i] > 1.0


def test_other_anodes_kalpha_means_are_their_doublets_for_arrays():
    x = np.arange(4.0, 42.0, 0.005)
    X = np.random.default_rng(1).random((2, len(x)))
    grid = (10, 30, 0.01)  # covered at each of these wavelengths
    for stated, anode in [(0.7107, "MoKa"), (0.711, "MoKa"), (1.7903, "CoKa")]:
        res = PatternResampler(two_theta=grid, source_grid=x, source_wavelength=stated)
        with pytest.warns(UserWarning, match=rf"'{anode}' doublet"):
            got = res.fit(X).transform(X)
        named = clone(res).set_params(source_wavelength=anode)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            assert np.array_equal(got, named.fit(X).transform(X))


def test_source_radiation_keeps_a_monochromatic_beam_of_the_stated_mean():
    x = np.arange(20.0, 80.0, 0.005)
    X = _cu_doublet_rows(x)
    res = PatternResampler(
        two_theta=(25, 75, 0.01),
        source_grid=x,
        source_wavelength=1.5418,
        source_radiation="xray",
        method="linear",  # the columns' positions are the point here
    )
    got = res.fit_transform(X)  # no warning (the fixture makes one an error)
    # one line of 1.5418 Å: the columns at its 2θ converted to Cu Kα1
    q = 4 * np.pi * np.sin(np.radians(x) / 2) / 1.5418
    pos = np.degrees(2 * np.arcsin(q * CU / (4 * np.pi)))
    np.testing.assert_allclose(res.source_two_theta_, pos, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got[1], np.interp(res.grid_, pos, X[1]), atol=1e-12)
    neutron = clone(res).set_params(source_radiation="neutron").fit_transform(X)
    assert np.array_equal(neutron, got)


@pytest.mark.parametrize("source", ["CuKa", "CuKa1", 1.5406, 1.5405929, 1.5444, 1.54])
def test_named_lines_and_other_numbers_are_read_as_before(source):
    # no warning (an error here), and the same positions as a Pattern of it
    x = np.arange(20.0, 80.0, 0.01)
    X = _cu_doublet_rows(x)
    res = PatternResampler(two_theta=(25, 75, 0.01), source_grid=x)
    got = res.set_params(source_wavelength=source).fit_transform(X)
    lam = get_radiation(source).wavelength
    q = 4 * np.pi * np.sin(np.radians(x) / 2) / lam
    pos = np.degrees(2 * np.arcsin(q * CU / (4 * np.pi)))
    np.testing.assert_allclose(res.source_two_theta_, pos, rtol=0, atol=1e-10)
    assert got.shape == (2, 5000)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(source_radiation="synchrotron"), "source_radiation must be None"),
        (dict(source_radiation=1), "source_radiation must be None"),
        (
            dict(source_radiation="xray", source_wavelength="CuKa"),
            r"source_radiation='xray' needs source_wavelength in Å",
        ),
        (
            dict(source_radiation="xray", source_wavelength=None),
            r"source_radiation='xray' needs source_wavelength in Å",
        ),
    ],
)
def test_a_bad_source_radiation_is_one_clear_error(params, match):
    x = np.arange(20.0, 80.0, 0.01)
    res = PatternResampler(source_grid=x, source_wavelength=1.5418).set_params(**params)
    with pytest.raises(ValueError, match=match):
        res.fit(np.ones((1, len(x))))


def test_a_stated_kalpha_mean_for_patterns_only_warns_not():
    # source_wavelength is not used for Pattern input: nothing said about it
    x = np.arange(20.0, 80.0, 0.01)
    p = Pattern(x, _cu_doublet_rows(x)[0], wavelength="CuKa")
    res = PatternResampler(two_theta=(25, 75, 0.01), source_grid=x)
    res.set_params(source_wavelength=1.5418).fit([p]).transform([p])
