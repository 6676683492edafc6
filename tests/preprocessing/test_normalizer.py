import warnings

import numpy as np
import pytest

from skxrd.preprocessing import PatternNormalizer

X = np.array([[0.0, 1.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [2.0, 2.0, 2.0, 2.0]])


@pytest.mark.parametrize(
    "method, expected",
    [
        ("max", [[0, 0.25, 0.75, 1.0], [0, 0, 0, 0], [1, 1, 1, 1]]),
        ("area", [[0, 0.125, 0.375, 0.5], [0, 0, 0, 0], [0.25] * 4]),
        (
            "l2",
            [
                [0, 1 / np.sqrt(26), 3 / np.sqrt(26), 4 / np.sqrt(26)],
                [0] * 4,
                [0.5] * 4,
            ],
        ),
        ("minmax", [[0, 0.25, 0.75, 1.0], [0, 0, 0, 0], [0, 0, 0, 0]]),
    ],
)
def test_methods(method, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division warnings on zero rows
        out = PatternNormalizer(method=method).fit_transform(X)
    assert np.allclose(out, expected) and np.all(np.isfinite(out))


def test_stateless_and_rowwise():
    norm = PatternNormalizer(method="l2")
    assert np.allclose(norm.transform(X), norm.fit(X).transform(X))
    assert np.allclose(norm.transform(X[:1]), norm.transform(X)[:1])
    assert np.allclose(norm.transform(7 * X), norm.transform(X))


def test_scale_before_normalization():
    Y = np.array([[0.0, 1.0, 4.0, 16.0]])
    assert np.allclose(
        PatternNormalizer(scale="sqrt").fit_transform(Y), [[0, 0.25, 0.5, 1.0]]
    )
    out = PatternNormalizer(scale="log").fit_transform(Y)
    assert np.allclose(out, np.log1p(Y) / np.log1p(16.0))
    out = PatternNormalizer(method="area", scale="log").fit_transform(Y)
    assert out.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("scale", ["sqrt", "log"])
def test_negative_values_are_clipped_before_sqrt_and_log(scale):
    Y = np.array([[-4.0, -0.1, 0.0, 9.0], [-1.0, -2.0, -3.0, -4.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = PatternNormalizer(scale=scale).fit_transform(Y)
    assert np.all(out[0, :3] == 0) and out[0, 3] == 1.0
    assert np.all(out[1] == 0)  # all-negative pattern: zero after clipping


def test_negative_values_without_scale():
    Y = np.array([[-2.0, 1.0]])
    assert np.allclose(PatternNormalizer().fit_transform(Y), [[-1.0, 0.5]])
    assert np.allclose(PatternNormalizer(method="minmax").fit_transform(Y), [[0, 1]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(dtype):
    assert PatternNormalizer().fit_transform(X.astype(dtype)).dtype == dtype


def test_bad_parameters_and_input():
    with pytest.raises(ValueError, match="method must be one of"):
        PatternNormalizer(method="sum").fit(X)
    with pytest.raises(ValueError, match="scale must be one of"):
        PatternNormalizer(scale="cbrt").transform(X)
    Y = X.copy()
    Y[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN in sample 1 at column 2"):
        PatternNormalizer().transform(Y)
    norm = PatternNormalizer().fit(X)
    with pytest.raises(ValueError, match="expecting 4 features"):
        norm.transform(X[:, :3])
    assert norm.get_feature_names_out().tolist() == ["x0", "x1", "x2", "x3"]


@pytest.mark.parametrize(
    "method, row",
    [
        ("l2", [1e-30, 2e-30]),  # squares below float32's smallest number
        ("l2", [1e20, 2e20]),  # squares above float32's largest
        ("area", [3e38, 3e38]),  # a sum above float32's largest
    ],
)
def test_float32_norms_do_not_underflow_or_overflow(method, row):
    # the norm of a float32 pattern was computed in float32: it became 0 or
    # inf, and the pattern silently came back as all zeros
    X32 = np.array([row], dtype=np.float32)
    out = PatternNormalizer(method=method).fit_transform(X32)
    expected = PatternNormalizer(method=method).fit_transform(X32.astype(np.float64))
    assert out.dtype == np.float32
    assert np.allclose(out, expected, rtol=1e-6) and out.max() > 0


@pytest.mark.parametrize("method", ["max", "area", "l2", "minmax"])
def test_float32_agrees_with_float64(method):
    rng = np.random.default_rng(0)
    X32 = (rng.random((5, 300)) * 10.0 ** rng.integers(-20, 20, (5, 1))).astype(
        np.float32
    )
    out = PatternNormalizer(method=method).fit_transform(X32)
    expected = PatternNormalizer(method=method).fit_transform(X32.astype(np.float64))
    assert np.allclose(out, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "row, dtype",
    [
        ([1e200, 2e200, 0.0], np.float64),  # squares above float64's largest
        ([1e-200, 2e-200, 0.0], np.float64),  # squares below its smallest
        ([1e-320, 2e-320, 0.0], np.float64),  # subnormal values
        ([1.7e308, -1.7e308, 0.0], np.float64),  # a sum or a range past it
        ([3e38, -3e38, 0.0], np.float32),  # a range past float32's largest
    ],
)
@pytest.mark.parametrize("method", ["area", "l2", "minmax"])
def test_norms_of_extreme_rows_are_scale_free(method, row, dtype):
    # the norms were computed on the raw values: the l2 norm of a float64 row
    # near 1e200 (or 1e-200) overflowed (underflowed) and the row silently
    # came back as all zeros, and minmax of a row whose range exceeds the
    # largest number gave NaN; normalizing is scale-free, so the answer is
    # that of the same row at ordinary magnitudes
    X = np.array([row], dtype=dtype)
    ordinary = X.astype(np.float64) / np.abs(X.astype(np.float64)).max()
    out = PatternNormalizer(method=method).fit_transform(X)
    expected = PatternNormalizer(method=method).fit_transform(ordinary)
    assert out.dtype == dtype and np.all(np.isfinite(out))
    assert np.allclose(out, expected, rtol=1e-6, atol=0)


def test_max_normalization_is_unchanged_bit_for_bit():
    # the shipped models read max-normalized input: the scaling that protects
    # the other norms must not touch it
    rng = np.random.default_rng(1)
    X = rng.random((4, 500)) * 10.0 ** rng.integers(-5, 5, (4, 1))
    for scale in (None, "sqrt"):
        Y = np.maximum(X, 0)
        if scale == "sqrt":
            Y = np.sqrt(Y)
        expected = Y / np.abs(Y).max(axis=1, keepdims=True)
        out = PatternNormalizer(scale=scale).fit_transform(X)
        assert np.array_equal(out, expected)
