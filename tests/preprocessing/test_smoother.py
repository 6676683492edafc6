import numpy as np
import pytest
from scipy.signal import savgol_filter

from skxrd.preprocessing import PatternSmoother


def test_matches_scipy_and_reduces_noise():
    rng = np.random.default_rng(0)
    x = np.linspace(-1, 1, 301)
    clean = np.exp(-((x / 0.2) ** 2))
    X = clean + rng.normal(0, 0.05, (4, x.size))
    out = PatternSmoother().fit_transform(X)
    assert np.allclose(out, savgol_filter(X, 11, 3, axis=1))
    assert np.std(out - clean) < 0.6 * np.std(X - clean)


def test_keeps_polynomials_up_to_polyorder():
    x = np.linspace(0, 1, 50)
    X = np.vstack([1 + 2 * x - 3 * x**2 + x**3, x])
    assert np.allclose(PatternSmoother(7, 3).fit_transform(X), X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(dtype):
    X = np.random.default_rng(0).random((2, 30)).astype(dtype)
    assert PatternSmoother().fit_transform(X).dtype == dtype


def test_window_checks():
    X = np.ones((2, 9))
    with pytest.raises(ValueError, match=r"window_length=11 .*n_features = 9"):
        PatternSmoother().fit_transform(X)
    with pytest.raises(ValueError, match="polyorder must be less than window_length"):
        PatternSmoother(window_length=3, polyorder=3).fit(X)
    with pytest.raises(ValueError, match="window_length must be an integer"):
        PatternSmoother(window_length=5.0).fit(X)
    with pytest.raises(ValueError, match="polyorder must be >= 0"):
        PatternSmoother(polyorder=-1).fit(X)
    assert PatternSmoother(window_length=9).fit_transform(X).shape == (2, 9)


def test_median_filter_removes_spikes_and_keeps_steps():
    from scipy.ndimage import median_filter

    X = np.array([[0.0, 0.0, 5.0, 0.0, 1.0, 1.0, 1.0, 1.0]])
    out = PatternSmoother(window_length=3, method="median").fit_transform(X)
    assert out.tolist() == [[0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]]
    rng = np.random.default_rng(0)
    noisy = rng.poisson(50, (3, 200)).astype(np.float32)
    out = PatternSmoother(window_length=5, method="median").fit_transform(noisy)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(
        out, median_filter(noisy, size=(1, 5), mode="nearest")
    )
    # the polynomial order is the Savitzky–Golay filter's: not checked here
    assert PatternSmoother(3, 5, method="median").fit_transform(X).shape == X.shape


def test_unknown_method():
    with pytest.raises(ValueError, match="method must be one of"):
        PatternSmoother(method="gauss").fit(np.ones((1, 20)))


@pytest.mark.parametrize("method", ["savgol", "median"])
@pytest.mark.parametrize("window", [2, 4, 12])
def test_even_windows_are_refused(method, window):
    # an even window has no centre point: the pattern moved by half a grid
    # step (a peak's centroid by -0.5 points with savgol, +0.5 with the median,
    # and a quadratic was no longer kept by a polyorder-2 Savitzky–Golay filter)
    X = np.ones((1, 50))
    with pytest.raises(ValueError, match=f"window_length must be odd, got {window}"):
        PatternSmoother(window_length=window, polyorder=1, method=method).fit(X)


@pytest.mark.parametrize("method", ["savgol", "median"])
@pytest.mark.parametrize("window", [1, 3, 5, 9])
def test_smoothing_does_not_move_a_peak(method, window):
    t = np.arange(80.0)
    X = np.exp(-0.5 * ((t - 40.3) / 3.0) ** 2)[None]
    out = PatternSmoother(window, min(2, window - 1), method=method).fit_transform(X)
    centroid = (out * t).sum() / out.sum()
    assert abs(centroid - (X * t).sum() / X.sum()) < 0.02
