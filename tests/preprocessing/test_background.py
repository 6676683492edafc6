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
        dict(method="snip", edges="extend"),
        dict(method="snip", edges="extend", decreasing=True),
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


@pytest.mark.parametrize(
    "params",
    [
        dict(method="snip"),
        dict(method="snip", edges="extend"),
        dict(method="rolling_ball"),
    ],
)
def test_backgrounds_are_affine_equivariant_and_mirror_symmetric(params):
    # bg(a x + b) = a bg(x) + b (no intensity unit enters), and a pattern read
    # backwards gets its background backwards (no direction, no shift)
    background, peaks = synthetic(seed=3)
    X = np.vstack([background + peaks, peaks])
    sub = BackgroundSubtractor(**params)
    bg = sub.estimate_background(X)
    scaled = sub.estimate_background(37.5 * X + 2.0)
    assert np.allclose(scaled, 37.5 * bg + 2.0, rtol=1e-12, atol=1e-9)
    mirrored = sub.estimate_background(X[:, ::-1])[:, ::-1]
    assert np.allclose(mirrored, bg, rtol=0, atol=1e-12)


# --- the ends of a scan (edges) -----------------------------------------------


def _old_snip(Y, window, iterations, lls, decreasing):
    """SNIP as it was before ``edges`` (the shipped models' preprocessing)."""
    V = Y.copy()
    if lls:
        offset = np.minimum(Y.min(axis=1, keepdims=True), 0.0)
        V = np.log(np.log(np.sqrt(V - offset + 1.0) + 1.0) + 1.0)
    n = V.shape[1]
    p_max = min(int(window), (n - 1) // 2)
    widths = range(p_max, 0, -1) if decreasing else range(1, p_max + 1)
    for _ in range(int(iterations)):
        for p in widths:
            mean = 0.5 * (V[:, : n - 2 * p] + V[:, 2 * p :])
            mid = V[:, p : n - p]
            np.minimum(mid, mean, out=mid)
    if lls:
        V = (np.exp(np.exp(V) - 1.0) - 1.0) ** 2 - 1.0 + offset
    return np.minimum(V, Y)


def _end_lines(distance, background):
    """Lines of 0.15° FWHM ``distance`` degrees from both ends of the 0.02°
    grid of TT, on a background; the two line positions."""
    lo, hi = TT[0] + distance, TT[-1] - distance
    lines = sum(
        h * np.exp(-4 * np.log(2) * ((TT - c) / 0.15) ** 2)
        for c, h in ((lo, 1.0), (hi, 0.7))
    )
    i, j = np.searchsorted(TT, lo - 1e-9), np.searchsorted(TT, hi - 1e-9)
    return background + lines, lines, (i, j)


_BACKGROUNDS = {
    "flat": np.full(TT.size, 0.3),
    "sloped": 0.6 - 0.4 * (TT - TT[0]) / (TT[-1] - TT[0]),
    # a lab pattern's: falling steeply over the first degrees
    "curved": 0.1 + 1.5 * np.exp(-(TT - TT[0]) / 2.5) + 0.05 * ((TT - 47) / 40) ** 2,
}


@pytest.mark.parametrize("name", list(_BACKGROUNDS))
@pytest.mark.parametrize("distance", [0.0, 0.02, 0.04, 0.06, 0.1, 0.2, 0.4, 1.0])
def test_extend_keeps_the_height_of_lines_at_the_ends(name, distance):
    # "keep" left the points closer than the half-width to an end unclipped:
    # a line 0.02 / 0.04 / 0.06° from an end kept 8-17 / 22-48 / 40-69 % of
    # its height, 0 % at the end point itself
    y, lines, ends = _end_lines(distance, _BACKGROUNDS[name])
    sub = BackgroundSubtractor(edges="extend")
    out = sub.fit_transform(y[None])[0]
    # the steep curve bends below the straight extension by 2 % of itself
    # over the window: its lines gain up to 4 % of their height
    rel = 0.05 if name == "curved" else 0.02
    for i in ends:
        assert out[i] == pytest.approx(lines[i], rel=rel), (i, out[i], lines[i])
    # and the background stays on the true one next to them
    bg = sub.estimate_background(y[None])[0]
    true = _BACKGROUNDS[name]
    assert np.abs(bg - true).max() < rel * max(lines.max(), true.max())


def test_keep_loses_end_lines_and_extend_keeps_them_in_counting_noise():
    rng = np.random.default_rng(7)
    kept = {"keep": [], "extend": []}
    for background in _BACKGROUNDS.values():
        for distance in (0.02, 0.04, 0.06):
            _, lines, ends = _end_lines(distance, background)
            # lines of 4000 and 2800 counts on 300-1600 counts of background
            clean = 1000 * background + 4000 * lines
            X = rng.poisson(np.broadcast_to(clean, (8, TT.size))).astype(float)
            for edges in kept:
                out = X - snip_background(X, 20, edges=edges)
                for i in ends:
                    kept[edges].append(out[:, i].mean() / (4000 * lines[i]))
    assert max(kept["keep"]) < 0.75  # most of each line taken for background
    assert 0.95 < min(kept["extend"]) and max(kept["extend"]) < 1.05


@pytest.mark.parametrize("edges", ["keep", "extend"])
@pytest.mark.parametrize("lls", [False, True])
def test_background_never_exceeds_the_data(edges, lls):
    rng = np.random.default_rng(11)
    for n in (1, 2, 3, 7, 41, 300):
        X = rng.gamma(0.5, 2.0, (6, n)) + rng.normal(0, 3, (6, 1))
        X[3] = 5.0 - 0.3 * np.arange(n)  # a ramp
        for window in (1, 5, 20, 200):
            for decreasing in (False, True):
                bg = snip_background(
                    X, window, 2, lls=lls, decreasing=decreasing, edges=edges
                )
                assert bg.shape == X.shape and np.isfinite(bg).all()
                assert np.all(bg <= X)


@pytest.mark.parametrize("edges", ["keep", "extend"])
def test_linear_background_is_exact_with_either_edges(edges):
    # the docstring's promise, also with lines at both ends and in the middle
    # (their feet, clipped in one sweep, stay within 1e-5 of it)
    x = np.arange(400.0)
    line = 2.0 + 0.01 * x
    np.testing.assert_allclose(
        snip_background(line, 20, edges=edges), line, rtol=0, atol=1e-12
    )
    y = line + 5 * np.exp(-(((x - 200) / 3) ** 2))
    np.testing.assert_allclose(
        snip_background(y[None], 20, edges=edges)[0], line, rtol=1e-5, atol=1e-8
    )
    if edges == "extend":
        y = y + 3 * np.exp(-((x / 3) ** 2)) + 4 * np.exp(-(((x - 398) / 2) ** 2))
        falling = 50.0 - 0.1 * x + (y - line)
        np.testing.assert_allclose(
            snip_background(np.vstack([y, falling]), 20, edges=edges),
            np.vstack([line, 50.0 - 0.1 * x]),
            rtol=0,
            atol=1e-4,  # the end lines' far feet enter the end fit
        )


def test_default_is_bit_identical_to_the_snip_the_shipped_models_use():
    rng = np.random.default_rng(5)
    for n in (2, 3, 10, 101, 4250):
        X = rng.gamma(1.0, 50.0, (70, n)) + np.linspace(300, 100, n)  # 2 blocks
        X[:5] -= 200.0  # partly negative
        for window in (1, 7, 20, 60):
            for iterations, lls, decreasing in [
                (1, False, False),
                (2, False, True),
                (1, True, False),
                (3, True, True),
            ]:
                old = _old_snip(X, window, iterations, lls, decreasing)
                new = snip_background(X, window, iterations, lls, decreasing)
                assert np.array_equal(new, old)
                assert np.array_equal(
                    snip_background(
                        X, window, iterations, lls, decreasing, edges="keep"
                    ),
                    old,
                )
    X32 = X.astype(np.float32)
    sub = BackgroundSubtractor()
    expected = X32 - np.minimum(
        _old_snip(X32.astype(np.float64), 20, 1, False, False).astype(np.float32), X32
    )
    assert np.array_equal(sub.fit_transform(X32), expected)


def test_a_subtractor_pickled_before_edges_existed_keeps_its_snip():
    import pickle

    X = np.array([sum(synthetic(s)) for s in range(3)])
    old = BackgroundSubtractor(window=15).fit(X)
    del old.edges  # the state of an object made before the parameter
    loaded = pickle.loads(pickle.dumps(old))
    assert loaded.edges == "keep"
    assert loaded.get_params()["edges"] == "keep"
    np.testing.assert_array_equal(
        loaded.transform(X), X - _old_snip(X, 15, 1, False, False)
    )


@pytest.mark.parametrize("bad", ["reflect", "Extend", None, True, ("keep",)])
def test_bad_edges_is_one_clear_error(bad):
    X = np.ones((1, 20))
    message = r"edges must be one of \('keep', 'extend'\), got "
    with pytest.raises(ValueError, match=message):
        BackgroundSubtractor(edges=bad).fit(X)
    with pytest.raises(ValueError, match=message):
        BackgroundSubtractor(edges=bad).estimate_background(X)
    with pytest.raises(ValueError, match=message):
        snip_background(X, edges=bad)


def test_extend_in_row_blocks_matches_row_by_row():
    rng = np.random.default_rng(4)
    X = np.array([sum(synthetic(s % 5)) for s in range(150)])
    X *= rng.uniform(0.5, 2.0, (150, 1))
    for lls in (False, True):
        whole = snip_background(X, window=20, lls=lls, edges="extend")
        rows = np.vstack(
            [snip_background(x, window=20, lls=lls, edges="extend") for x in X]
        )
        assert np.array_equal(whole, rows)


@pytest.mark.parametrize(
    "function, kwargs, match",
    [
        (snip_background, dict(window=0), r"window must be >= 1, got 0"),
        (snip_background, dict(window=-3), r"window must be >= 1, got -3"),
        (snip_background, dict(window=2.7), r"window must be an integer, got 2.7"),
        (snip_background, dict(iterations=0), r"iterations must be >= 1, got 0"),
        (rolling_ball_background, dict(window=-1), r"window must be >= 1, got -1"),
        (rolling_ball_background, dict(window=2.5), r"window must be an integer"),
        (rolling_ball_background, dict(ball_height=0.0), r"ball_height must be > 0"),
        (rolling_ball_background, dict(ball_height=np.nan), r"ball_height .* finite"),
    ],
)
def test_background_functions_check_their_parameters(function, kwargs, match):
    # window 0 or below (or iterations 0) made SNIP return the data as their
    # own background, so subtracting it left all zeros; a float window was
    # truncated; the rolling ball failed in scipy ("footprint.ndim") or took
    # a ball of height 0 or below
    y = np.r_[np.zeros(30), 5.0, np.zeros(30)] + 0.01 * np.arange(61)
    with pytest.raises(ValueError, match=match):
        function(y[None], **kwargs)


@pytest.mark.parametrize("function", [snip_background, rolling_ball_background])
def test_background_functions_refuse_patterns_without_points(function):
    # the rolling ball raised numpy's "zero-size array to reduction operation"
    with pytest.raises(ValueError, match=r"X has no points \(shape \(2, 0\)\)"):
        function(np.ones((2, 0)))
