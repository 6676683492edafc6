"""Kα2 stripping: simulated doublets become the Kα1 pattern."""

from __future__ import annotations

import numpy as np
import pytest

from skxrd.datasets import load_example_crystal
from skxrd.io import Pattern
from skxrd.preprocessing import Kalpha2Stripper, PatternResampler
from skxrd.simulation import PowderSimulator, get_radiation

GRID = dict(two_theta_range=(10.0, 90.0), two_theta_step=0.01)
CRYSTALS = ["NaCl", "Si", "TiO2-rutile", "Al2O3", "LiCoO2"]


def _patterns(radiation, names=CRYSTALS):
    sim = PowderSimulator(radiation=radiation, normalize="max", **GRID)
    return sim.two_theta, sim.transform([load_example_crystal(n) for n in names])


def _corr(a, b):
    return np.corrcoef(a, b)[0, 1]


@pytest.mark.parametrize("anode", ["Cu", "Mo", "Co"])
def test_stripping_a_simulated_doublet_gives_the_kalpha1_pattern(anode):
    two_theta, doublet = _patterns(f"{anode}Ka")
    _, single = _patterns(f"{anode}Ka1")
    stripped = Kalpha2Stripper(radiation=f"{anode}Ka", two_theta=(10.0, 90.0, 0.01))
    out = stripped.fit_transform(doublet)
    assert out.shape == doublet.shape and out.dtype == doublet.dtype
    for x, d, s in zip(out, doublet, single):
        x, s = x / x.max(), s / s.max()
        # the doublet alone is much further from Kα1 than the stripped pattern
        assert np.abs(x - s).max() < 0.01  # of the highest peak
        assert np.abs(d / d.max() - s).max() > 0.3
        assert _corr(x, s) > 0.9999


def test_patterns_use_their_own_radiation_and_come_back_at_kalpha1():
    two_theta, doublet = _patterns("MoKa", ["NaCl"])
    _, single = _patterns("MoKa1", ["NaCl"])
    p = Pattern(
        two_theta, doublet[0], wavelength="MoKa", name="nacl", metadata={"a": 1}
    )
    (out,) = Kalpha2Stripper().transform([p])
    assert out.radiation.name == "MoKa1" and out.wavelength == pytest.approx(0.7093171)
    assert out.name == "nacl" and out.metadata == {"a": 1, "kalpha2_stripped": True}
    np.testing.assert_array_equal(out.x, p.x)
    assert _corr(out.intensity, single[0]) > 0.999
    assert p.metadata == {"a": 1}  # the input is untouched
    # the same pattern on a Q axis strips the same way
    (on_q,) = Kalpha2Stripper().transform(p.to_q())
    assert on_q.axis == "q"
    np.testing.assert_allclose(on_q.intensity, out.intensity, atol=1e-9)
    # a pattern given by wavelength only takes the radiation parameter
    bare = Pattern(two_theta, doublet[0], wavelength=0.7093)
    (out2,) = Kalpha2Stripper(radiation="MoKa").transform(bare)
    np.testing.assert_allclose(out2.intensity, out.intensity)


def test_single_line_patterns_pass_unchanged():
    p = Pattern([10.0, 20.0, 30.0], [1.0, 2.0, 3.0], wavelength="CuKa1")
    assert Kalpha2Stripper(radiation="CuKa").transform([p])[0] is p


def test_stripped_mo_patterns_resample_like_kalpha1_ones():
    """The use case: a Mo Kα1 + Kα2 measurement for a Cu Kα1 model grid."""
    two_theta, doublet = _patterns("MoKa", ["TiO2-rutile"])
    _, single = _patterns("MoKa1", ["TiO2-rutile"])
    resampler = PatternResampler(two_theta=(25.0, 60.0, 0.02), wavelength="CuKa1")
    stripped = Kalpha2Stripper().transform(
        Pattern(two_theta, doublet[0], wavelength="MoKa")
    )
    on_cu = resampler.fit_transform(stripped)[0]
    reference = resampler.transform(Pattern(two_theta, single[0], wavelength="MoKa1"))[
        0
    ]
    measured = Pattern(two_theta, doublet[0], wavelength="MoKa")
    raw = resampler.set_params(kalpha2="keep").transform(measured)[0]
    assert _corr(on_cu, reference) > 0.999 > _corr(raw, reference)
    # by default the resampler strips the other anode's Kα2 line itself
    auto = resampler.set_params(kalpha2="auto").transform(measured)[0]
    np.testing.assert_allclose(auto, on_cu, rtol=0, atol=1e-12)


@pytest.mark.parametrize("model", ["CuKa", "CuKa1", 0.7293])
def test_the_resampler_strips_a_doublet_only_when_it_is_not_the_models(model):
    two_theta, doublet = _patterns("CuKa", ["NaCl"])
    cu = Pattern(two_theta, doublet[0], wavelength="CuKa")
    stripped = Kalpha2Stripper().transform(cu)
    res = PatternResampler(two_theta=(20.0, 80.0, 0.02), wavelength=model).fit()
    keep = res.transform(cu)
    if model == "CuKa":  # the model's own doublet: as measured
        np.testing.assert_array_equal(
            res.set_params(kalpha2="keep").transform(cu), keep
        )
        assert not np.allclose(keep, res.transform(stripped))
    else:  # a model of one line never saw a Kα2 line
        np.testing.assert_allclose(keep, res.transform(stripped), rtol=0, atol=1e-12)
        assert not np.allclose(res.set_params(kalpha2="keep").transform(cu), keep)
    # a pattern of a wavelength only (no named radiation) is never stripped
    bare = Pattern(two_theta, doublet[0], wavelength=1.540562)
    np.testing.assert_array_equal(
        res.set_params(kalpha2="auto").transform(bare),
        res.set_params(kalpha2="keep").transform(bare),
    )


def test_a_bad_kalpha2_mode_is_named():
    with pytest.raises(ValueError, match="kalpha2 must be one of"):
        PatternResampler(kalpha2="strip").fit()


def test_small_grids_and_any_width_range():
    X = np.abs(np.random.default_rng(0).normal(size=(3, 7)))
    out = Kalpha2Stripper(radiation="CuKa", two_theta=(20.0, 21.0)).fit_transform(X)
    assert out.shape == X.shape
    # at 0.17° per column the doublet is less than a column apart: the
    # implicit step is taken, intensities are reduced but not wiped out
    assert (out <= X + 1e-12).all()
    one = Kalpha2Stripper(radiation="CuKa", two_theta=(20.0, 21.0)).fit_transform(
        X[:, :1]
    )
    np.testing.assert_array_equal(one, X[:, :1])


def test_errors_name_the_input():
    X = np.ones((2, 5))
    with pytest.raises(ValueError, match="needs radiation="):
        Kalpha2Stripper(two_theta=(10, 20)).fit_transform(X)
    with pytest.raises(ValueError, match="needs two_theta="):
        Kalpha2Stripper(radiation="CuKa").fit_transform(X)
    with pytest.raises(ValueError, match="has 1 line"):
        Kalpha2Stripper(radiation="CuKa1", two_theta=(10, 20)).fit_transform(X)
    with pytest.raises(ValueError, match="X has 5 points per pattern but two_theta"):
        Kalpha2Stripper(radiation="CuKa", two_theta=(10, 20, 1)).fit_transform(X)
    with pytest.raises(ValueError, match="ratio must be in"):
        Kalpha2Stripper(radiation="CuKa", ratio=1.5, two_theta=(10, 20)).fit(X)
    with pytest.raises(ValueError, match="NaN in sample 1"):
        Kalpha2Stripper(radiation="CuKa", two_theta=(10, 20)).fit_transform(
            np.array([[1.0, 2, 3], [1, np.nan, 2]])
        )
    bare = Pattern([10.0, 20.0], [1.0, 2.0], wavelength=1.0, name="x1")
    with pytest.raises(ValueError, match="pattern 0 \\('x1'\\) has no named radiation"):
        Kalpha2Stripper().transform([bare])
    with pytest.raises(ValueError, match="not the Kα1 line of radiation='CuKa'"):
        Kalpha2Stripper(radiation="CuKa").transform([bare])
    with pytest.raises(TypeError, match="mixes Pattern objects"):
        Kalpha2Stripper(radiation="CuKa").transform([bare, X])


def test_pandas_output_keeps_patterns_as_patterns():
    # set_output wrapped the list of stripped patterns in a DataFrame: a
    # Pipeline of the stripper and a resampler with pandas output failed
    # (NotFittedError from the names), as did a stripper fitted on arrays
    from sklearn.pipeline import make_pipeline

    tt = np.arange(10.0, 60.0, 0.02)
    mo = Pattern(tt, np.exp(-(((tt - 30) / 0.1) ** 2)), wavelength="MoKa")
    pipe = make_pipeline(
        Kalpha2Stripper(), PatternResampler(two_theta=(10, 30, 0.02))
    ).set_output(transform="pandas")
    with pytest.warns(UserWarning, match="does not cover"):
        frame = pipe.fit_transform([mo])
    plain = make_pipeline(Kalpha2Stripper(), PatternResampler(two_theta=(10, 30, 0.02)))
    with pytest.warns(UserWarning, match="does not cover"):
        np.testing.assert_array_equal(frame.to_numpy(), plain.fit_transform([mo]))
    np.testing.assert_array_equal(frame.columns, pipe.get_feature_names_out())
    assert pipe[-1].get_feature_names_out()[0] == frame.columns[0]
    stripper = Kalpha2Stripper(radiation="MoKa", two_theta=(10.0, 59.98))
    stripper.fit(np.zeros((1, len(tt)))).set_output(transform="pandas")
    out = stripper.transform([mo])
    assert isinstance(out, list) and isinstance(out[0], Pattern)
    table = stripper.transform(mo.intensity[None])
    assert list(table.columns[:2]) == ["x0", "x1"] and table.shape == (1, len(tt))
    np.testing.assert_allclose(table.to_numpy()[0], out[0].intensity)
    assert stripper.fit_transform([mo])[0].radiation.name == "MoKa1"


def test_one_column_passes_without_warnings():
    import warnings

    X = np.array([[2.0], [3.0]], dtype=np.float32)
    # it divided by a zero grid step (a RuntimeWarning, shown once per process)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out = Kalpha2Stripper(radiation="CuKa", two_theta=[30.0]).fit_transform(X)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, X)


def _rachinger_point_by_point(u, y, factor, ratio):
    """The Rachinger correction one point at a time, the textbook way."""
    v = np.array(y, dtype=float)
    for i in range(len(u)):
        s = u[i] * factor
        if s < u[0] or s >= u[i]:  # the Kα2 source lies below the first point
            v[i] /= 1 + ratio  # (or is the point, at 2θ = 0): Kα1 taken as
            continue  # constant over the split
        j = min(int(np.searchsorted(u, s, side="right")) - 1, len(u) - 2)
        t = (s - u[j]) / (u[j + 1] - u[j])
        if j + 1 == i:  # the source interval ends at the point itself
            v[i] = (v[i] - ratio * (1 - t) * v[j]) / (1 + ratio * t)
        else:
            v[i] -= ratio * ((1 - t) * v[j] + t * v[j + 1])
    return v


@pytest.mark.parametrize("seed", range(6))
def test_vectorized_stripping_matches_the_point_by_point_correction(seed):
    from skxrd.preprocessing._core import rachinger_strip

    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    if seed % 2:  # an irregular grid, down to low angles
        tt = np.unique(rng.uniform(0.5, 170.0, n))
    else:
        tt = np.linspace(rng.uniform(1, 20), rng.uniform(30, 160), n)
    u = np.sin(np.radians(tt) / 2)
    y = rng.random(len(u))
    factor = 1.5405929 / 1.5444274
    got = rachinger_strip(u, y, factor, 0.5)
    assert np.allclose(got, _rachinger_point_by_point(u, y, factor, 0.5), atol=1e-12)


def test_a_scan_from_two_theta_zero_is_stripped_at_its_first_point():
    # at 2θ = 0 both lines fall on the point: a flat Kα1 background B is
    # measured as 1.5 B there too, and the first point kept it
    from skxrd.preprocessing._core import rachinger_strip

    tt = np.arange(0.0, 10.0, 0.01)
    u = np.sin(np.radians(tt) / 2)
    out = rachinger_strip(u, np.full(len(u), 1.5), 1.5405929 / 1.5444274, 0.5)
    np.testing.assert_allclose(out, 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "radiation, two_theta", [("CuKa", (20.0, 90.0, 0.01)), ("MoKa", (5.0, 60.0, 0.01))]
)
def test_the_start_of_a_scan_is_stripped_like_the_rest(radiation, two_theta):
    # a flat Kα1 background B is measured as (1 + 0.5) B. The points whose Kα2
    # comes from below the scan kept 1.5 B, and the points after them swung
    # around B (0.75 B, 1.125 B, ...) for up to 0.3° 2θ
    n = int(round((two_theta[1] - two_theta[0]) / two_theta[2]))
    flat = np.full((2, n), 1.5)
    out = Kalpha2Stripper(radiation=radiation, two_theta=two_theta).fit_transform(flat)
    assert np.allclose(out, 1.0, rtol=0, atol=1e-12)
    # a simulated doublet on a sloping background, near the scan's start
    grid = dict(two_theta_range=two_theta[:2], two_theta_step=two_theta[2])
    crystals = [load_example_crystal(n) for n in ("NaCl", "Al2O3")]
    sim = PowderSimulator(radiation=radiation, normalize=None, **grid)
    one = PowderSimulator(radiation=radiation + "1", normalize=None, **grid)
    tt = sim.two_theta
    u = np.sin(np.radians(tt) / 2)
    lam1, lam2 = get_radiation(radiation).wavelengths
    source = np.degrees(2 * np.arcsin(u * lam1 / lam2))  # where Kα2 comes from

    def background(x):
        return 0.2 + 0.1 * np.exp(-(x - tt[0]) / 20.0)

    kalpha1 = one.transform(crystals)
    top = kalpha1.max(axis=1, keepdims=True)
    measured = sim.transform(crystals) + top * (
        background(tt) + 0.5 * background(source)
    )
    out = Kalpha2Stripper(radiation=radiation, two_theta=two_theta).fit_transform(
        measured
    )
    start = tt < tt[0] + 0.5
    truth = kalpha1 + top * background(tt)
    assert np.abs(out - truth)[:, start].max() < 0.01 * top.min()


@pytest.mark.parametrize("method", ["fit", "transform", "fit_transform"])
def test_an_empty_list_is_one_clear_error(method):
    # scikit-learn read [] as a 1D array and advised reshaping it
    stripper = Kalpha2Stripper(radiation="CuKa")
    with pytest.raises(ValueError, match="X is an empty list: give at least one"):
        getattr(stripper, method)([])
