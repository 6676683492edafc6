import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from skxrd.preprocessing import PatternCropper, PatternNormalizer, PatternResampler

X = np.arange(20.0).reshape(2, 10)


def test_index_crop():
    crop = PatternCropper(start=2, stop=5).fit(X)
    assert np.array_equal(crop.transform(X), X[:, 2:5])
    assert (crop.start_index_, crop.stop_index_) == (2, 5)
    assert crop.get_feature_names_out().tolist() == ["x2", "x3", "x4"]
    assert np.array_equal(PatternCropper(start=-3).fit_transform(X), X[:, -3:])
    assert np.array_equal(PatternCropper().fit_transform(X), X)
    out = crop.transform(X)
    out[0, 0] = -1
    assert X[0, 2] == 2  # a copy, not a view


def test_two_theta_crop_with_grid():
    grid = np.linspace(10, 19, 10)
    crop = PatternCropper(start=12.0, stop=15.0, grid=grid).fit(X)
    assert np.array_equal(crop.transform(X), X[:, 2:6])
    assert crop.grid_.tolist() == [12.0, 13.0, 14.0, 15.0]
    assert crop.get_feature_names_out()[0] == "two_theta_12.000"
    tuple_grid = PatternCropper(start=10, stop=40, grid=(5, 90, 0.02))
    out = tuple_grid.fit_transform(np.zeros((1, 4250), dtype=np.float32))
    assert out.shape == (1, 1501) and out.dtype == np.float32
    assert tuple_grid.grid_[[0, -1]].round(6).tolist() == [10.0, 40.0]


def test_feature_names_follow_the_pipeline():
    pipe = make_pipeline(
        PatternResampler(),
        PatternCropper(start=10, stop=40, grid=(5, 90, 0.02)),
        PatternNormalizer(),
    ).fit(np.ones((2, 4250)))
    names = pipe.get_feature_names_out()
    assert names[0] == "two_theta_10.000" and names[-1] == "two_theta_40.000"
    df = pd.DataFrame(X, columns=[f"c{i}" for i in range(10)])
    crop = PatternCropper(start=1, stop=3).fit(df)
    assert crop.get_feature_names_out().tolist() == ["c1", "c2"]


def test_errors():
    with pytest.raises(ValueError, match="must be an integer column index"):
        PatternCropper(start=2.5).fit(X)
    with pytest.raises(ValueError, match="keep no column.*n_features = 10"):
        PatternCropper(start=5, stop=5).fit(X)
    with pytest.raises(ValueError, match="grid has 3 points but X has n_features = 10"):
        PatternCropper(grid=[1, 2, 3]).fit(X)
    with pytest.raises(ValueError, match="no grid point lies in"):
        PatternCropper(start=50, grid=np.linspace(10, 19, 10)).fit(X)
    crop = PatternCropper(start=1).fit(X)
    with pytest.raises(ValueError, match="expecting 10 features"):
        crop.transform(X[:, :5])
