"""Per-pattern settings: InstrumentSampler and PowderSimulator.transform_varied."""

import numpy as np
import pytest

from skxrd.datasets import load_example_crystal
from skxrd.simulation import InstrumentSampler, PowderSimulator


@pytest.fixture(scope="module")
def crystals():
    return [load_example_crystal(n) for n in ("NaCl", "Si", "Al2O3")]


def _fwhm(x, grid):
    i = int(np.argmax(x))
    half = x[i] / 2
    lo = i
    while x[lo] > half:
        lo -= 1
    hi = i
    while x[hi] > half:
        hi += 1
    return grid[hi] - grid[lo]


def test_empty_settings_give_the_plain_patterns(crystals):
    sim = PowderSimulator(two_theta_step=0.01)
    np.testing.assert_allclose(
        sim.transform_varied(crystals, [{}] * 3), sim.transform(crystals), atol=2e-6
    )


@pytest.mark.parametrize(
    "key, value",
    [
        ("crystallite_size", 20.0),
        ("preferred_orientation", (1, 1, 1)),
    ],
)
def test_a_setting_equals_the_simulator_parameter(crystals, key, value):
    extra = {"march_r": 0.7} if key == "preferred_orientation" else {}
    sim = PowderSimulator()
    varied = sim.transform_varied(crystals, [{key: value, **extra}] * 3)
    plain = PowderSimulator(**{key: value, **extra}).transform(crystals)
    np.testing.assert_allclose(varied, plain, atol=2e-6)


def test_settings_act_on_their_own_pattern_only(crystals):
    si = crystals[1]
    sim = PowderSimulator(radiation="CuKa1", two_theta_step=0.005)
    X = sim.transform_varied(
        [si] * 4,
        [{}, {"width_scale": 2.0}, {"zero_shift": 0.2}, {"crystallite_size": 30.0}],
    )
    grid = sim.two_theta
    w0, w1 = _fwhm(X[0], grid), _fwhm(X[1], grid)
    assert w1 == pytest.approx(2 * w0, rel=0.1)
    assert grid[X[2].argmax()] - grid[X[0].argmax()] == pytest.approx(0.2, abs=0.006)
    assert _fwhm(X[3], grid) > 1.5 * w0
    np.testing.assert_allclose(X[0], sim.transform([si])[0], atol=2e-6)


def test_q_grid_and_neutrons_work(crystals):
    sim = PowderSimulator(q_range=(1.0, 6.0), q_step=0.005)
    X = sim.transform_varied(crystals[:1], [{"zero_shift": 0.1, "width_scale": 0.7}])
    assert X.shape == (1, 1000) and X.max() == pytest.approx(1.0)
    sim = PowderSimulator(radiation="neutron", wavelength=1.5)
    assert sim.transform_varied(crystals[:1], [{"crystallite_size": 50}]).max() > 0


def test_errors(crystals):
    sim = PowderSimulator()
    with pytest.raises(ValueError, match="3 crystals"):
        sim.transform_varied(crystals, [{}])
    for bad, match in (
        ({"color": 1}, "unknown keys"),
        ({"width_scale": 0}, "width_scale"),
        ({"zero_shift": 20}, "zero_shift"),
        ({"preferred_orientation": (0, 0, 0)}, "hkl"),
        ({"crystallite_size": -1}, "size"),
        (3, "must be a dict"),
    ):
        with pytest.raises(ValueError, match=match):
            sim.transform_varied(crystals[:1], [bad])


def test_sampler_ranges_and_seeds():
    sampler = InstrumentSampler(
        crystallite_size=(40, 400),
        width_scale=(0.8, 1.2),
        texture=0.5,
        march_r=(0.7, 0.9),
        zero_shift=0.05,
    )
    s = sampler.sample(400, random_state=0)
    size = np.array([d["crystallite_size"] for d in s])
    assert size.min() >= 40 and size.max() <= 400
    # log-uniform: the median is near the geometric mean
    assert np.median(size) == pytest.approx(np.sqrt(40 * 400), rel=0.2)
    textured = [d for d in s if d["preferred_orientation"] is not None]
    assert 0.4 < len(textured) / 400 < 0.6
    assert all(0.7 <= d["march_r"] <= 0.9 for d in textured)
    assert all(d["march_r"] == 1.0 for d in s if d["preferred_orientation"] is None)
    assert max(abs(d["zero_shift"]) for d in s) <= 0.05
    assert s == sampler.sample(400, random_state=0)
    assert s != sampler.sample(400, random_state=1)
    assert (
        InstrumentSampler(crystallite_size=None).sample(1)[0]["crystallite_size"]
        is None
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"crystallite_size": (0, 10)}, "crystallite_size"),
        ({"width_scale": (2, 1)}, "width_scale"),
        ({"texture": 1.5}, "texture"),
        ({"march_r": "x"}, "march_r"),
        ({"zero_shift": -1}, "zero_shift"),
    ],
)
def test_sampler_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        InstrumentSampler(**kwargs).sample(2)


def test_background_and_counting_noise(crystals):
    sim = PowderSimulator(two_theta_step=0.02)
    plain = sim.transform_varied(crystals[:1], [{}])[0]
    flat = sim.transform_varied(crystals[:1], [{"background": 0.1}])[0]
    # a flat background of 10 % of the strongest peak, then normalized again
    np.testing.assert_allclose(flat, (plain + 0.1) / 1.1, atol=1e-6)
    noisy = sim.transform_varied(
        crystals[:1] * 2,
        [{"background": 0.05, "counts": 200, "noise_seed": 3}] * 2,
    )
    # the same seed, the same noise; counts make the values discrete
    np.testing.assert_array_equal(noisy[0], noisy[1])
    assert noisy.max() == pytest.approx(1.0)
    # whole counts: few distinct levels, not a smooth curve
    assert len(np.unique(noisy[0])) < 300
    # far from the peaks: the background of 0.05 * 200 = 10 counts, with its
    # Poisson scatter sqrt(10) counts, relative to the top (about 210 counts)
    quiet = noisy[0][plain < 1e-4]
    assert quiet.mean() == pytest.approx(10 / 210, rel=0.2)
    assert quiet.std() == pytest.approx(np.sqrt(10) / 210, rel=0.3)
    other = sim.transform_varied(
        crystals[:1], [{"background": 0.05, "counts": 200, "noise_seed": 4}]
    )
    assert not np.array_equal(noisy[0], other[0])


@pytest.mark.parametrize(
    "setting, match",
    [
        ({"background": -0.1}, "background"),
        ({"background": float("nan")}, "background"),
        ({"counts": 0}, "counts"),
        ({"noise_seed": -1}, "noise_seed"),
        ({"noise_seed": 1.5}, "noise_seed"),
    ],
)
def test_noise_setting_errors(crystals, setting, match):
    with pytest.raises(ValueError, match=match):
        PowderSimulator().transform_varied(crystals[:1], [setting])


def test_sampler_noise_draws_keep_the_older_streams():
    old = InstrumentSampler(zero_shift=0.05).sample(50, random_state=0)
    new = InstrumentSampler(
        zero_shift=0.05, background=(0.01, 0.1), counts=(100, 1e4)
    ).sample(50, random_state=0)
    keys = ("crystallite_size", "width_scale", "march_r", "zero_shift")
    assert [[d[k] for k in keys] for d in old] == [[d[k] for k in keys] for d in new]
    bg = np.array([d["background"] for d in new])
    counts = np.array([d["counts"] for d in new])
    assert bg.min() >= 0.01 and bg.max() <= 0.1
    assert counts.min() >= 100 and counts.max() <= 1e4
    assert len({d["noise_seed"] for d in new}) == 50
    assert all(d["counts"] is None and d["background"] == 0.0 for d in old)
    with pytest.raises(ValueError, match="counts"):
        InstrumentSampler(counts=(0, 10)).sample(2)


def test_measured_like_settings_give_measured_like_patterns(crystals):
    from skxrd.simulation import MEASURED_LIKE

    sim = PowderSimulator(two_theta_step=0.01)
    settings = InstrumentSampler(**MEASURED_LIKE).sample(30, random_state=0)
    X = sim.transform_varied(crystals * 10, settings)
    widths = [_fwhm(x, sim.two_theta) for x in X]
    # measured laboratory patterns: median FWHM of about 0.13 deg (sim_to_real)
    assert 0.06 < np.median(widths) < 0.25
    # every pattern has counting noise: many small local maxima
    assert all(np.sum((x[1:-1] > x[:-2]) & (x[1:-1] > x[2:])) > 100 for x in X)


@pytest.mark.parametrize("bad", [True, -1, 1.5, "0"])
def test_sample_names_a_bad_random_state(bad):
    # True was taken as the seed 1; numpy's errors for the others name
    # neither random_state nor the value
    with pytest.raises(ValueError, match="random_state"):
        InstrumentSampler().sample(2, random_state=bad)


def test_sampled_settings_stay_within_their_ranges():
    # log-uniform draws came back outside a fixed value or range by a rounding
    # of exp(log(x)): a crystallite size of 50 nm as 49.99999999999999
    sampler = InstrumentSampler(
        crystallite_size=50.0, width_scale=(0.4, 1.4), background=0.01, counts=300.0
    )
    s = sampler.sample(200, random_state=0)
    assert {d["crystallite_size"] for d in s} == {50.0}
    assert {d["background"] for d in s} == {0.01}
    assert {d["counts"] for d in s} == {300.0}
    assert all(0.4 <= d["width_scale"] <= 1.4 for d in s)
    for lo, hi in [(30.0, 1000.0), (50.0, 3000.0), (0.003, 0.08), (100.0, 5e4)]:
        draws = InstrumentSampler(crystallite_size=(lo, hi)).sample(
            5000, random_state=1
        )
        sizes = [d["crystallite_size"] for d in draws]
        assert lo <= min(sizes) and max(sizes) <= hi


def test_a_kbeta_setting_equals_the_simulator_parameter(crystals):
    plain = PowderSimulator()
    varied = plain.transform_varied(crystals, [{"kbeta": 0.03}] * 3)
    np.testing.assert_allclose(
        varied, PowderSimulator(kbeta=0.03).transform(crystals), atol=2e-6
    )
    # per pattern, and 0 switches the simulator's own Kβ line off
    sim = PowderSimulator(kbeta=0.03)
    X = sim.transform_varied(crystals[:2], [{"kbeta": 0.0}, {}])
    np.testing.assert_allclose(X[0], plain.transform(crystals[:1])[0], atol=2e-6)
    np.testing.assert_allclose(X[1], sim.transform(crystals[1:2])[0], atol=2e-6)
    X = sim.transform_varied(crystals[:1], [{"kbeta": 0.0}])
    np.testing.assert_allclose(X[0], plain.transform(crystals[:1])[0], atol=2e-6)
    with pytest.raises(ValueError, match=r"settings\[0\] kbeta=0.02 needs a named"):
        PowderSimulator(radiation=1.5406).transform_varied(
            crystals[:1], [{"kbeta": 0.02}]
        )
    with pytest.raises(ValueError, match=r"settings\[0\] kbeta must be <= 1"):
        plain.transform_varied(crystals[:1], [{"kbeta": 2.0}])


def test_sampler_kbeta_range_is_optional_and_keeps_the_other_draws(crystals):
    base = InstrumentSampler(background=(0.01, 0.1), counts=(100, 1000))
    plain = base.sample(50, random_state=3)
    assert all("kbeta" not in v for v in plain)  # off by default
    drawn = base.set_params(kbeta=(0.01, 0.05)).sample(50, random_state=3)
    ratios = np.array([v.pop("kbeta") for v in drawn])
    assert drawn == plain
    assert ratios.min() >= 0.01 and ratios.max() <= 0.05 and np.ptp(ratios) > 0.02
    fixed = InstrumentSampler(kbeta=0.02).sample(3, random_state=0)
    assert [v["kbeta"] for v in fixed] == [0.02] * 3
    X = PowderSimulator().transform_varied(crystals, fixed)
    others = [{k: v for k, v in s.items() if k != "kbeta"} for s in fixed]
    np.testing.assert_allclose(
        X, PowderSimulator(kbeta=0.02).transform_varied(crystals, others), atol=2e-6
    )
    for bad in ((0.05, 0.01), (-0.1, 0.1), (0.5, 1.5), "x"):
        with pytest.raises(ValueError, match="kbeta"):
            InstrumentSampler(kbeta=bad).sample(2)
