"""skxrd.utils._signal against scipy.signal, which it stands in for where
importing scipy.signal would cost `skxrd predict` a third of its time."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import signal

from skxrd.utils._signal import find_peaks, peak_widths


def _signals():
    rng = np.random.default_rng(0)
    grid = np.linspace(0, 1, 2000)
    for seed in range(12):
        r = np.random.default_rng(seed)
        widths = r.uniform(0.002, 0.02, 30)
        peaks = sum(
            h * np.exp(-0.5 * ((grid - c) / w) ** 2)
            for h, c, w in zip(r.uniform(0.1, 1, 30), r.uniform(0, 1, 30), widths)
        )
        yield peaks + r.normal(0, 0.02, grid.size)  # noisy powder-like
        yield np.round(peaks * 20) / 20  # plateaus and ties
    yield rng.integers(0, 4, 500).astype(float)  # many equal maxima
    for _ in range(4):  # long-range structure: far higher neighbours
        yield np.cumsum(rng.normal(size=3000))
    yield np.sin(np.linspace(0, 40, 3000))  # humps running off both ends
    yield np.r_[np.zeros(5), np.ones(5), np.zeros(5)]  # one plateau
    yield np.r_[1.0, 0.0, 2.0]  # too short for anything but an inner peak
    yield np.zeros(10)
    yield np.arange(50.0)  # monotonic: no peak


@pytest.mark.parametrize("x", list(_signals()))
def test_find_peaks_and_widths_are_scipys(x):
    top = np.ptp(x)
    for kwargs in (
        {"prominence": 0.05 * top},
        {"prominence": 0.0},
        {"prominence": 0.02 * top, "distance": 3},
        {"prominence": 1e-12, "distance": 2.5},
        {"distance": 7},
        {"distance": 60},  # many rounds of the greedy selection
        {"prominence": 0.3 * top, "distance": 25.5},
        {},
    ):
        ours, props = find_peaks(x, **kwargs)
        theirs, expected = signal.find_peaks(x, **kwargs)
        np.testing.assert_array_equal(ours, theirs)
        bases = {"prominences", "left_bases", "right_bases"}
        assert set(props) == set(expected) & bases
        for key, value in props.items():
            np.testing.assert_array_equal(value, expected[key])
    peaks, props = signal.find_peaks(x, prominence=0)
    data = (props["prominences"], props["left_bases"], props["right_bases"])
    for rel in (0.5, 1.0, 0.1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns of peaks of width 0
            expected = signal.peak_widths(
                x, peaks, rel_height=rel, prominence_data=data
            )
        got = peak_widths(x, peaks, rel_height=rel, prominence_data=data)
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(peak_widths(x, peaks, rel_height=rel), expected):
            np.testing.assert_array_equal(a, b)


def test_errors():
    with pytest.raises(ValueError, match="distance must be at least 1"):
        find_peaks(np.zeros(5), distance=0.5)
    with pytest.raises(ValueError, match="1-D"):
        find_peaks(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="rel_height"):
        peak_widths(np.r_[0.0, 1.0, 0.0], [1], rel_height=-1)
    with pytest.raises(ValueError, match="prominence data is invalid for peak 1"):
        peak_widths(np.r_[0.0, 1.0, 0.0], [1], prominence_data=([1.0], [2], [2]))


def test_the_prediction_path_does_not_import_scipy_signal():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from skxrd.preprocessing._screen import screen_patterns\n"
        "from skxrd.indexing import peak_positions\n"
        "tt = np.arange(10, 60, 0.02)\n"
        "y = sum(np.exp(-0.5 * ((tt - p) / 0.05) ** 2) for p in (20.0, 31.5, 44.0))\n"
        "print(peak_positions(tt, y, radiation='CuKa1').round(2).tolist())\n"
        "print(screen_patterns(y[None], two_theta=tt))\n"
        "print('scipy.signal' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "[20.0, 31.5, 44.0]"
    assert out[-2] == "False"
