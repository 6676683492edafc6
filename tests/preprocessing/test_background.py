import numpy as np
import pytest

from skxrd.preprocessing import (
    BackgroundSubtractor,
    rolling_ball_background,
    snip_background,
)

TT = np.arange(5, 90, 0.02)


def synthetic(seed=0, n_peaks=25):
    """Peaks of 0.1-0.3° FWHM on a cubic background with a broad amorphous hump."""
    rng = np.random.default_rng(seed)
    u = (TT - 47.5) / 42.5
    background = (
        0.3
        + 0.15 * u
        - 0.1 * u**2
        + 0.05 * u**3
        + 0.25 * np.exp(-(((TT - 22) / 6) ** 2))
    )
    centres = rng.uniform(8, 87, n_peaks)
    heights = rng.uniform(0.1, 1.0, n_peaks)
    fwhm = 0.1 + 0.002 * centres
    peaks = sum(
        h * np.exp(-4 * np.log(2) * ((TT - c) / w) ** 2)
        for c, h, w in zip(centres, heights, fwhm)
    )
    return background, peaks


@pytest.mark.parametrize(
    "params",
    [
        dict(method="snip"),
        dict(method="snip", decreasing=True),
        dict(method="snip", lls=True),
        dict(method="rolling_ball"),
        dict(method="rolling_ball", window=80, ball_height=0.1),
    ],
)
@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_recovers_peaks_on_a_known_background(params, scale):
    pairs = [synthetic(seed) for seed in range(3)]
    X = scale * np.array([b + p for b, p in pairs])
    sub = BackgroundSubtractor(**params)
    Xt = sub.fit_transform(X)
    bg = sub.estimate_background(X)
    assert np.allclose(Xt + bg, X)
    for i, (background, peaks) in enumerate(pairs):
        height = scale * peaks.max()
        rms = np.sqrt(np.mean((bg[i] - scale * background) ** 2))
        assert rms < 0.02 * height
        assert np.abs(Xt[i] - scale * peaks).max() < 0.1 * height
    assert Xt.min() >= 0.0  # the background never exceeds the data


@pytest.mark.parametrize("method", ["snip", "rolling_ball"])
def test_noisy_pattern_never_strongly_negative(method):
    background, peaks = synthetic(1)
    rng = np.random.default_rng(1)
    X = (background + peaks + rng.normal(0, 0.01, TT.size))[None]
    Xt = BackgroundSubtractor(method=method).fit_transform(X)
    assert Xt.min() >= 0.0
    rms = np.sqrt(np.mean((X - Xt - background) ** 2))
    assert rms < 0.05 * peaks.max()


@pytest.mark.parametrize("method", ["snip", "rolling_ball"])
def test_vectorized_rows_are_independent(method):
    X = np.array([sum(synthetic(s)) for s in range(4)])
    sub = BackgroundSubtractor(method=method)
    rows = np.vstack([sub.transform(X[i : i + 1]) for i in range(4)])
    assert np.allclose(sub.transform(X), rows)


@pytest.mark.parametrize("lls", [False, True])
def test_snip_in_row_blocks_matches_row_by_row(lls):
    # more rows than one cache-sized block (64): the blocks give the same numbers
    rng = np.random.default_rng(3)
    X = np.array([sum(synthetic(s % 5)) for s in range(150)])
    X *= rng.uniform(0.5, 2.0, (150, 1))
    whole = snip_background(X, window=20, lls=lls)
    rows = np.vstack([snip_background(x[None], window=20, lls=lls) for x in X])
    assert whole.shape == X.shape
    assert np.array_equal(whole, rows)


def test_linear_background_is_exact_for_snip():
    x = np.arange(400.0)
    line = 2.0 + 0.01 * x
    y = line + 5 * np.exp(-(((x - 200) / 3) ** 2))
    assert np.allclose(snip_background(y[None], 20)[0], line)


def test_rolling_ball_is_scale_and_shift_invariant():
    X = sum(synthetic(2))[None]
    a = rolling_ball_background(X, 50, 0.05)
    b = rolling_ball_background(3 * X + 7, 50, 0.05)
    assert np.allclose(b, 3 * a + 7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["snip", "rolling_ball"])
def test_dtype_and_short_patterns(dtype, method):
    X = np.random.default_rng(0).random((3, 7)).astype(dtype)
    sub = BackgroundSubtractor(method=method, window=40).fit(X)
    out = sub.transform(X)
    assert out.dtype == dtype and out.shape == X.shape and out.min() >= 0
    assert sub.estimate_background(X).dtype == dtype
    flat = np.full((1, 5), 3.0, dtype=dtype)
    assert np.all(BackgroundSubtractor(method=method).transform(flat) == 0)


def test_negative_values_with_lls():
    X = sum(synthetic(3))[None] - 0.5  # partly negative
    bg = snip_background(X, 20, lls=True)
    assert np.all(bg <= X) and np.all(np.isfinite(bg))


def test_bad_parameters():
    X = np.ones((1, 20))
    for params, match in [
        (dict(method="als"), "method must be one of"),
        (dict(window=0), "window must be >= 1"),
        (dict(window=2.5), "window must be an integer"),
        (dict(iterations=0), "iterations must be >= 1"),
        (dict(lls="yes"), "lls must be True or False"),
        (dict(ball_height=0), "ball_height must be positive"),
    ]:
        with pytest.raises(ValueError, match=match):
            BackgroundSubtractor(**params).fit(X)
    X[0, 3] = np.inf
    with pytest.raises(ValueError, match="inf in sample 0 at column 3"):
        BackgroundSubtractor().transform(X)


@pytest.mark.parametrize("function", [snip_background, rolling_ball_background])
def test_background_functions_check_their_input(function):
    # one 1-D pattern raised an IndexError or AxisError; a NaN spread over
    # most of the background (SNIP) or the whole row (rolling ball) silently
    y = np.r_[np.zeros(50), 1.0, np.zeros(50)] + 0.01 * np.arange(101)
    one = function(y, 10)
    assert one.shape == y.shape
    np.testing.assert_array_equal(one, function(y[None], 10)[0])
    bad = y.copy()
    bad[100] = np.nan
    with pytest.raises(ValueError, match="NaN in sample 0 at column 100"):
        function(bad[None], 10)
    with pytest.raises(ValueError, match=r"one pattern \(1-D\) .* shape \(1, 1, 101\)"):
        function(y[None, None], 10)


@pytest.mark.parametrize("n", [2, 3, 10, 30, 50])
def test_rolling_ball_wider_than_the_pattern_follows_a_ramp(n):
    # a ball (window 50) wider than the pattern had a background far below
    # a ramp's minimum: "subtracting" it raised the pattern (up to 2x)
    ramp = 10.0 + 0.5 * np.arange(n)
    bg = rolling_ball_background(ramp, window=50)
    np.testing.assert_allclose(bg, ramp, atol=1e-9)
    out = BackgroundSubtractor(method="rolling_ball").fit_transform(ramp[None])
    np.testing.assert_allclose(out, 0.0, atol=1e-9)


@pytest.mark.parametrize("method", ["snip", "rolling_ball"])
def test_backgrounds_are_affine_equivariant_and_mirror_symmetric(method):
    # bg(a x + b) = a bg(x) + b (no intensity unit enters), and a pattern read
    # backwards gets its background backwards (no direction, no shift)
    background, peaks = synthetic(seed=3)
    X = np.vstack([background + peaks, peaks])
    sub = BackgroundSubtractor(method=method)
    bg = sub.estimate_background(X)
    scaled = sub.estimate_background(37.5 * X + 2.0)
    assert np.allclose(scaled, 37.5 * bg + 2.0, rtol=1e-12, atol=1e-9)
    mirrored = sub.estimate_background(X[:, ::-1])[:, ::-1]
    assert np.allclose(mirrored, bg, rtol=0, atol=1e-12)
