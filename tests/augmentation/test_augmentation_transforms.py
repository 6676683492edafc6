"""The batch transforms of skxrd.augmentation: physics, determinism, API contract."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from sklearn.base import clone  # noqa: E402

from skxrd import augmentation as A  # noqa: E402

TT = A.default_two_theta()
STEP = 0.02
LAM = 1.5405929  # Cu Kα1


def _gauss(centers, fwhm=0.06, heights=None, tt=TT):
    """Patterns (one row) with Gaussian peaks at ``centers`` (degrees 2θ)."""
    heights = [1.0] * len(centers) if heights is None else heights
    t = torch.as_tensor(tt, dtype=torch.float64)
    x = sum(
        h * torch.exp(-4 * math.log(2) * ((t - c) / fwhm) ** 2)
        for c, h in zip(centers, heights)
    )
    return x[None].float()


def _peaky(n=8, seed=0):
    """A batch of sparse, peaky, max-normalized patterns."""
    g = torch.Generator().manual_seed(seed)
    centers = 6 + 82 * torch.rand(n, 12, generator=g)
    heights = 0.05 + torch.rand(n, 12, generator=g)
    t = torch.as_tensor(TT, dtype=torch.float32)
    x = (
        heights[:, :, None]
        * torch.exp(-4 * math.log(2) * ((t - centers[:, :, None]) / 0.08) ** 2)
    ).sum(1)
    return x / x.amax(1, keepdim=True)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _centroid(y, lo, hi):
    """Centroid (in grid points) of each row within index window [lo, hi)."""
    w = y[:, lo:hi].double()
    idx = torch.arange(lo, hi, dtype=torch.float64)
    return (w * idx).sum(1) / w.sum(1)


def _fwhm(row):
    """FWHM in degrees of the single peak of a 1D pattern (linear interpolation)."""
    y = row.double().numpy()
    i = int(y.argmax())
    half = y[i] / 2
    left = i
    while y[left] > half:
        left -= 1
    right = i
    while y[right] > half:
        right += 1
    xl = left + (half - y[left]) / (y[left + 1] - y[left])
    xr = right - 1 + (y[right - 1] - half) / (y[right - 1] - y[right])
    return (xr - xl) * STEP


ALL = [
    A.PoissonNoise(),
    A.GaussianNoise(),
    A.PolynomialBackground(),
    A.AmorphousHump(),
    A.PeakShift(),
    A.LatticeStrain(),
    A.CrystalliteBroadening(),
    A.PreferredOrientationScaling(),
    A.RandomPeakScaling(),
    A.RandomPeakRemoval(probability=0.3),
    A.ImpurityPeaks(),
    A.KbetaLeak(),
    A.ScanRange(),
    A.Normalize(),
    A.Compose([A.PeakShift(), A.GaussianNoise()], normalize=True),
    A.RandomApply(A.LatticeStrain(), p=0.5),
    A.OneOf([A.PoissonNoise(), A.PolynomialBackground()]),
    A.default_augmentation(),
    A.RandomPeakScaling(min_snr=6),
    A.LinearIntensities(A.sample_augmentation(min_snr=6)),
]
IDS = [type(t).__name__ for t in ALL]
RANDOM = [t for t in ALL if not isinstance(t, A.Normalize)]
RANDOM_IDS = [type(t).__name__ for t in RANDOM]
PARAMETRIC = (
    A.GaussianNoise,
    A.PolynomialBackground,
    A.AmorphousHump,
    A.PeakShift,
    A.LatticeStrain,
    A.CrystalliteBroadening,
    A.ImpurityPeaks,
    A.KbetaLeak,
    A.Normalize,
)


# --------------------------------------------------------------------- contract
@pytest.mark.parametrize("transform", ALL, ids=IDS)
def test_contract(transform):
    x = _peaky(6)
    before = x.clone()
    y = transform(x, generator=_gen())
    assert torch.equal(x, before), "the input was modified"
    assert y.shape == x.shape and y.dtype == x.dtype and y.device == x.device
    assert y.data_ptr() != x.data_ptr()
    assert torch.isfinite(y).all()
    # batch of 1, a single 1D pattern, an empty batch, the global generator
    assert transform(x[:1], generator=_gen()).shape == (1, 4250)
    assert transform(x[0], generator=_gen()).shape == (4250,)
    assert transform(x[:0]).shape == (0, 4250)
    assert transform(x).shape == x.shape
    # pickles (e.g. inside a fitted estimator) and keeps its behaviour
    again = pickle.loads(pickle.dumps(transform))
    assert torch.equal(again(x, generator=_gen()), y)
    # scikit-learn style parameters
    assert clone(transform).get_params().keys() == transform.get_params().keys()
    assert type(transform).__name__ in repr(transform)


@pytest.mark.parametrize("transform", RANDOM, ids=RANDOM_IDS)
def test_determinism(transform):
    x = _peaky(8)
    y1 = transform(x, generator=_gen(1))
    y2 = transform(x, generator=_gen(1))
    y3 = transform(x, generator=_gen(2))
    assert torch.equal(y1, y2)
    assert not torch.equal(y1, y3)


@pytest.mark.parametrize("transform", ALL, ids=IDS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16, torch.float16])
def test_dtypes(transform, dtype):
    x = _peaky(4)
    ref = transform(x, generator=_gen())
    y = transform(x.to(dtype), generator=_gen())
    assert y.dtype == dtype and y.shape == x.shape
    if isinstance(transform, PARAMETRIC):
        # the same random parameters whatever the dtype (where the number of
        # draws does not depend on the data: Poisson draws and peak-level draws
        # do)
        tol = 1e-3 if dtype == torch.float64 else 0.05
        assert torch.allclose(y.float(), ref, atol=tol, rtol=tol)


@pytest.mark.parametrize("transform", ALL, ids=IDS)
def test_large_batch(transform):
    x = _peaky(8).repeat(64, 1)  # 512 patterns
    y = transform(x, generator=_gen())
    assert y.shape == x.shape and torch.isfinite(y).all()
    if transform in RANDOM and not isinstance(transform, A.RandomApply):
        assert not torch.equal(y[0], y[8])  # per-sample parameters


def test_input_validation():
    with pytest.raises(TypeError, match="torch tensors"):
        A.GaussianNoise()(np.zeros((2, 4250)))
    with pytest.raises(TypeError, match="floating-point"):
        A.GaussianNoise()(torch.zeros(2, 4250, dtype=torch.int64))
    with pytest.raises(ValueError, match="shape"):
        A.GaussianNoise()(torch.zeros(2, 3, 4250))
    with pytest.raises(TypeError, match="Generator"):
        A.GaussianNoise()(torch.zeros(2, 4250), generator=0)
    with pytest.raises(ValueError, match="two_theta"):
        A.PeakShift()(torch.zeros(2, 100))
    with pytest.raises(ValueError, match="increasing"):
        A.PeakShift(two_theta=np.linspace(90, 5, 4250))(torch.zeros(2, 4250))
    with pytest.raises(ValueError, match="sigma"):
        A.GaussianNoise(sigma=(0.1, 0.0))(torch.zeros(2, 10))
    with pytest.raises(ValueError, match="counts"):
        A.PoissonNoise(counts=0)(torch.zeros(2, 10))
    with pytest.raises(ValueError, match="probability"):
        A.RandomPeakRemoval(probability=2)(torch.zeros(2, 10))
    with pytest.raises(ValueError, match="strain"):
        A.LatticeStrain(strain=-1.0)(torch.zeros(2, 4250))
    with pytest.raises(ValueError, match="profile"):
        A.CrystalliteBroadening(profile="voigt")(torch.zeros(2, 4250))
    with pytest.raises(ValueError, match="weights"):
        A.OneOf([A.Normalize()], weights=[1, 2])(torch.zeros(2, 10))
    with pytest.raises(TypeError, match="callable"):
        A.Compose([1])(torch.zeros(2, 10))


def test_grid_free_transforms_take_any_length():
    x = torch.rand(3, 17)
    for t in (A.GaussianNoise(), A.PoissonNoise(), A.Normalize()):
        assert t(x, generator=_gen()).shape == (3, 17)
    assert A.find_peaks(x).shape == (3, 17)


# ----------------------------------------------------------------------- noise
def test_poisson_noise_preserves_mean_and_has_poisson_variance():
    x = _peaky(1).repeat(4000, 1)
    x[:, :100] = 0.0
    y = A.PoissonNoise(counts=1000.0)(x, generator=_gen())
    mean, var = y.double().mean(0), y.double().var(0)
    expected_var = x[0].double() / 1000.0  # λ / scale² with scale = 1000 / max
    err = (mean - x[0]).abs() / torch.sqrt(expected_var / 4000 + 1e-12)
    assert float(err.max()) < 6.0  # within 6 standard errors everywhere
    big = x[0] > 0.1
    assert torch.allclose(var[big], expected_var[big], rtol=0.15)
    assert torch.equal(y[:, :100], x[:, :100])  # no counts, no noise
    assert (y >= 0).all()


def test_poisson_noise_low_counts_are_integer_counts():
    x = _peaky(16)
    y = A.PoissonNoise(counts=10.0, gaussian_threshold=20.0)(x, generator=_gen())
    counts = y * 10.0  # max-normalized input: scale = 10
    assert torch.allclose(counts, counts.round(), atol=1e-4)
    s = A.PoissonNoise(counts=1e4, reference="sum")(x, generator=_gen())
    assert torch.allclose(s.sum(1), x.sum(1), rtol=0.05)


def test_gaussian_noise_relative_to_max():
    x = 3.0 * _peaky(1).repeat(200, 1)
    y = A.GaussianNoise(sigma=0.01)(x, generator=_gen())
    assert float((y - x).std()) == pytest.approx(0.03, rel=0.02)
    assert torch.equal(A.GaussianNoise(sigma=0.0)(x, generator=_gen()), x)


# ------------------------------------------------------------------ backgrounds
@pytest.mark.parametrize("degree", [0, 1, 3, 6])
def test_polynomial_background_smooth_nonnegative(degree):
    x = 2.0 * _peaky(32)
    aug = A.PolynomialBackground(degree=degree, amplitude=0.15)
    bg = aug(x, generator=_gen()) - x
    assert (bg >= -1e-6).all()
    assert torch.allclose(bg.amax(1), torch.full((32,), 0.3), rtol=1e-4)
    curvature = bg[:, 2:] - 2 * bg[:, 1:-1] + bg[:, :-2]
    assert float(curvature.abs().max()) < 1e-4  # smooth on the 4250-point grid
    if degree == 0:
        assert torch.allclose(bg, bg[:, :1].expand_as(bg), atol=1e-6)


def test_amorphous_hump_position_width_height():
    x = _peaky(4)
    aug = A.AmorphousHump(center=30.0, width=6.0, amplitude=0.25)
    hump = aug(x, generator=_gen()) - x
    assert (hump >= -1e-7).all()
    assert np.allclose(TT[hump.argmax(1).numpy()], 30.0)
    assert torch.allclose(hump.amax(1), torch.full((4,), 0.25), rtol=1e-4)
    assert _fwhm(hump[0]) == pytest.approx(6.0, rel=0.01)


# ---------------------------------------------------------------- peak movers
def test_peak_shift_zero_offset_moves_argmax_by_points():
    x = _gauss([25.0, 60.0])
    y = A.PeakShift(displacement=0.0, zero_offset=0.2)(x)
    assert x[0, :2500].argmax() + 10 == y[0, :2500].argmax()
    assert x[0, 2500:].argmax() + 10 == y[0, 2500:].argmax()
    y = A.PeakShift(displacement=0.0, zero_offset=-0.1)(x)
    assert x[0, :2500].argmax() - 5 == y[0, :2500].argmax()


def test_peak_shift_displacement_follows_cos_theta():
    x = _gauss([20.0, 80.0])
    d = 0.3
    y = A.PeakShift(displacement=d)(x)
    for c, (lo, hi) in zip([20.0, 80.0], [(600, 900), (3600, 3900)]):
        expected = d * math.cos(math.radians(c / 2)) / STEP  # in grid points
        shift = _centroid(y, lo, hi) - _centroid(x, lo, hi)
        assert float(shift) == pytest.approx(expected, abs=0.02)
    # linear interpolation: heights of 3-point-wide peaks drop by < 10 %
    assert 0.9 < float(y[0].max()) <= 1.0


def test_peak_shift_per_sample_and_zero_outside():
    x = _gauss([40.0]).repeat(64, 1)
    x[:, :5] = 0.5  # something at the low end
    y = A.PeakShift(displacement=(-0.5, 0.5))(x, generator=_gen())
    shifts = (y.argmax(1) - x.argmax(1)).float() * STEP
    bound = 0.5 * math.cos(math.radians(20)) + STEP
    assert shifts.abs().max() <= bound and shifts.std() > 0.1
    z = A.PeakShift(displacement=0.0, zero_offset=1.0)(x)
    assert torch.equal(z[:, :50], torch.zeros(64, 50))  # from outside the grid


@pytest.mark.parametrize("strain", [-0.01, -0.003, 0.004, 0.01])
def test_lattice_strain_moves_peaks_to_bragg_angle(strain):
    centers = [15.0, 45.0, 85.0]
    x = _gauss(centers)
    y = A.LatticeStrain(strain=strain)(x)
    for c in centers:
        new = math.degrees(2 * math.asin(math.sin(math.radians(c / 2)) / (1 + strain)))
        window = (TT > new - 1.5) & (TT < new + 1.5)
        i = np.flatnonzero(window)
        found = TT[i[int(y[0, window].argmax())]]
        assert abs(found - new) <= STEP  # within one grid step
        centroid = float(_centroid(y, i[0], i[-1] + 1)) * STEP + 5.0
        assert centroid == pytest.approx(new, abs=0.002)


def test_lattice_strain_zero_is_identity_and_per_sample():
    x = _peaky(4)
    assert torch.allclose(A.LatticeStrain(strain=0.0)(x), x, atol=1e-3)
    x = _gauss([70.0]).repeat(32, 1)
    y = A.LatticeStrain()(x, generator=_gen())
    assert y.argmax(1).unique().numel() > 10


def _voigt_fwhm(f_l, f_g):
    return 0.5346 * f_l + math.sqrt(0.2166 * f_l**2 + f_g**2)


@pytest.mark.parametrize("profile", ["lorentzian", "gaussian"])
def test_crystallite_broadening_follows_scherrer(profile):
    size, lam, k = 15.0, 1.5406, 0.9
    x = _gauss([30.0, 80.0], fwhm=0.04)
    y = A.CrystalliteBroadening(size=size, profile=profile)(x)
    widths = []
    for c, sl in zip([30.0, 80.0], [slice(0, 2500), slice(2500, 4250)]):
        beta = math.degrees(k * lam / (10 * size * math.cos(math.radians(c / 2))))
        if profile == "lorentzian":
            expected = _voigt_fwhm(beta, 0.04)
        else:
            expected = math.hypot(beta, 0.04)
        widths.append(_fwhm(y[0, sl]))
        assert widths[-1] == pytest.approx(expected, rel=0.03)
        # the peak stays where it was
        assert abs(TT[sl][int(y[0, sl].argmax())] - c) <= STEP
    ratio = math.cos(math.radians(15)) / math.cos(math.radians(40))
    assert widths[1] / widths[0] == pytest.approx(ratio, rel=0.05)
    # integrated intensity kept, nothing negative
    assert float(y.sum()) == pytest.approx(float(x.sum()), rel=0.01)
    assert float(y.min()) > -1e-5


def test_crystallite_broadening_large_crystals_change_little():
    x = _gauss([40.0], fwhm=0.2)
    y = A.CrystalliteBroadening(size=1e5)(x)
    assert torch.allclose(y, x, atol=1e-3)  # (a Lorentzian's tails)
    y = A.CrystalliteBroadening(size=1e5, profile="gaussian")(x)
    assert torch.allclose(y, x, atol=1e-6)
    # smaller crystals: broader peaks
    sizes = [A.CrystalliteBroadening(size=s)(x) for s in (10.0, 30.0, 100.0)]
    widths = [_fwhm(s[0]) for s in sizes]
    assert widths[0] > widths[1] > widths[2] > 0.2


def test_crystallite_broadening_other_grid():
    tt = np.linspace(10, 120, 3000)
    x = _gauss([60.0], fwhm=0.1, tt=tt)
    y = A.CrystalliteBroadening(size=20.0, two_theta=tt)(x)
    beta = math.degrees(0.9 * 1.5406 / (200 * math.cos(math.radians(30))))
    step = tt[1] - tt[0]
    assert _fwhm(y[0]) * step / STEP == pytest.approx(_voigt_fwhm(beta, 0.1), rel=0.05)


# ------------------------------------------------------------------ peak ops
def test_find_peaks():
    x = _gauss([20.0, 20.5, 50.0, 70.0], heights=[1.0, 0.5, 0.2, 0.005])
    peaks = A.find_peaks(x)[0].nonzero()[:, 0].numpy()
    assert np.allclose(TT[peaks], [20.0, 20.5, 50.0])  # 0.005 < threshold
    assert A.find_peaks(x, threshold=0.001)[0].sum() == 4
    assert A.find_peaks(torch.zeros(2, 50)).sum() == 0
    assert A.find_peaks(x[0]).shape == (4250,)


def _background(tt=TT):
    return torch.as_tensor(0.2 + 0.1 * (tt - 5) / 85, dtype=torch.float32)[None]


def test_random_peak_removal_keeps_background():
    bg = _background()
    x = _gauss([20.0, 40.0, 41.0, 70.0]) + bg
    y = A.RandomPeakRemoval(probability=1.0)(x)
    assert torch.allclose(y, bg, atol=2e-3)
    assert torch.equal(A.RandomPeakRemoval(probability=0.0)(x, generator=_gen()), x)


def test_random_peak_scaling_scales_heights_above_background():
    bg = _background()
    x = _gauss([20.0, 45.0, 70.0], heights=[1.0, 0.6, 0.3]) + bg
    y = A.RandomPeakScaling(probability=1.0, scale=0.4)(x)
    assert torch.allclose(y - bg, 0.4 * (x - bg), atol=2e-3)
    # each peak of a batch gets its own factor within the range
    xs = _peaky(64)
    z = A.RandomPeakScaling(probability=1.0, scale=(0.5, 1.5))(xs, generator=_gen())
    peaks = A.find_peaks(xs, threshold=0.05) & (xs > 0.2)
    ratio = z[peaks] / xs[peaks]
    assert ratio.min() > 0.45 and ratio.max() < 1.55 and ratio.std() > 0.2
    # probability: the share of peaks that change
    w = A.RandomPeakScaling(probability=0.3, scale=0.0)(xs, generator=_gen())
    changed = (w[peaks] < 0.5 * xs[peaks]).float().mean()
    assert 0.2 < float(changed) < 0.4


def test_preferred_orientation_scaling_bounds_and_positions():
    x = _peaky(64)
    peaks = A.find_peaks(x, threshold=0.05)
    for m in (1.5, 3.0):
        y = A.PreferredOrientationScaling(max_factor=m)(x, generator=_gen())
        ratio = y[peaks] / x[peaks]
        assert ratio.min() >= m**-2 - 1e-4 and ratio.max() <= m + 1e-4
        assert ratio.std() > 0.05
        assert torch.equal(y[x == 0], x[x == 0])
        assert (y >= 0).all()
        # peaks stay where they were
        assert (A.find_peaks(y, threshold=0.05) <= A.find_peaks(x, threshold=0.0)).all()
    same = A.PreferredOrientationScaling(max_factor=1.0)(x, generator=_gen())
    assert torch.allclose(same, x, atol=1e-6)


def test_impurity_peaks():
    x = _gauss([10.0])
    y = A.ImpurityPeaks(n_peaks=2, intensity=0.05, fwhm=0.05)(
        x.repeat(16, 1), generator=_gen()
    )
    added = y - x
    assert (added >= 0).all()
    n_found = A.find_peaks(added, threshold=0.5).sum(1)
    assert (n_found == 2).float().mean() > 0.8  # (two can overlap)
    assert float(added.amax()) <= 0.05 + 1e-6
    none = A.ImpurityPeaks(n_peaks=0)(x, generator=_gen())
    assert torch.equal(none, x)
    counts = A.find_peaks(
        A.ImpurityPeaks(n_peaks=(0, 3))(x.repeat(200, 1), generator=_gen()) - x,
        threshold=0.5,
    ).sum(1)
    assert set(counts.tolist()) <= {0, 1, 2, 3} and counts.float().mean() > 1.0


def test_impurity_peaks_in_a_two_theta_range():
    x = _gauss([40.0]).repeat(64, 1)
    low = A.ImpurityPeaks(n_peaks=1, intensity=(0.02, 0.15), position=(5.0, 7.5))
    added = low(x, generator=_gen()) - x
    where = torch.as_tensor(TT)[added.argmax(dim=1)]
    assert bool(((where >= 5.0 - 1e-6) & (where <= 7.5 + 1e-6)).all())
    assert float(where.std()) > 0.4  # spread over the range, not one place
    heights = added.amax(dim=1)
    assert float(heights.min()) >= 0.015 and float(heights.max()) <= 0.15 + 1e-6
    # a range reaching past the grid is cut to it; the default is unchanged
    edge = A.ImpurityPeaks(n_peaks=1, intensity=0.05, position=(0.0, 5.5))
    where = torch.as_tensor(TT)[(edge(x, generator=_gen()) - x).argmax(dim=1)]
    assert bool((where <= 5.5 + 1e-6).all())
    whole = A.ImpurityPeaks(n_peaks=2, position=(float(TT[0]), float(TT[-1])))
    assert torch.equal(
        whole(x, generator=_gen()), A.ImpurityPeaks(n_peaks=2)(x, generator=_gen())
    )


@pytest.mark.parametrize(
    "position, match",
    [
        ((95.0, 100.0), "outside the 2θ grid"),
        ((7.5, 5.0), "low <= high"),
        ("low", "pair"),
        ((5.0, float("nan")), "finite numbers"),
    ],
)
def test_impurity_peaks_rejects_a_bad_position(position, match):
    with pytest.raises(ValueError, match=match):
        A.ImpurityPeaks(position=position)(_gauss([30.0]), generator=_gen())


def test_kbeta_leak_adds_the_copies_that_the_indexing_can_drop():
    from skxrd.indexing import peak_positions

    lines = np.array([25.0, 33.3, 47.1, 61.0])
    x = _gauss(lines.tolist())
    y = A.KbetaLeak(ratio=(0.02, 0.04))(x.repeat(8, 1), generator=_gen())
    added = y - x
    assert (added >= 0).all()
    # each line's copy where sin θβ = sin θα · λβ / λα, at 2-4 % of it
    kb = 2 * np.degrees(np.arcsin(np.sin(np.radians(lines / 2)) * 1.392234 / LAM))
    for c in kb:
        window = (TT > c - 0.1) & (TT < c + 0.1)
        at = added[:, window]
        assert np.abs(TT[window][at.argmax(1).numpy()] - c).max() <= 0.02
        assert 0.018 < float(at.amax(1).min()) and float(at.amax(1).max()) <= 0.04
    ratios = added[:, (TT > kb[0] - 0.1) & (TT < kb[0] + 0.1)].amax(1)
    assert float(ratios.std()) > 0.002  # one ratio drawn per pattern
    # nothing else moves: the lines themselves have no copy falling on them
    assert float(added[:, np.abs(TT - 61.0) < 0.2].max()) < 1e-6
    # peak_positions takes the copies out again
    found = peak_positions(TT, y[0].numpy(), radiation="CuKa1", drop_kbeta=True)
    np.testing.assert_allclose(found, lines, atol=0.02)
    assert len(peak_positions(TT, y[0].numpy(), radiation="CuKa1")) == 8
    assert torch.equal(A.KbetaLeak(ratio=0.0)(x, generator=_gen()), x)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"radiation": 1.5406}, "names no anode"),
        ({"radiation": "XxKa"}, "unknown radiation"),
        ({"ratio": 1.5}, "ratio must lie within"),
        ({"ratio": (0.05, 0.01)}, "low <= high"),
    ],
)
def test_kbeta_leak_rejects_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        A.KbetaLeak(**params)(_gauss([30.0]), generator=_gen())


# ----------------------------------------------------------------- combinators
def test_compose_order_and_normalize():
    x = _gauss([30.0])
    shift = A.PeakShift(displacement=0.0, zero_offset=0.1)
    y = A.Compose([shift, shift])(x)
    assert int(y.argmax()) == int(x.argmax()) + 10
    z = A.Compose([A.GaussianNoise(sigma=0.05)], normalize=True)(
        3 * _peaky(8), generator=_gen()
    )
    assert torch.allclose(z.amax(1), torch.ones(8))


@pytest.mark.parametrize("flag", ["no", "False", 0, None, 1.0])
def test_compose_normalize_is_a_flag(flag):
    # a truthy string max-normalized every pattern silently ("no" too)
    make = (
        lambda n: A.Compose([A.GaussianNoise(sigma=0.0)], normalize=n),
        lambda n: A.default_augmentation(normalize=n),
        lambda n: A.sample_augmentation(normalize=n),
    )
    for build in make:
        with pytest.raises(ValueError, match="normalize must be True or False"):
            build(flag)(3 * _peaky(4), generator=_gen())
    y = A.Compose([], normalize=np.bool_(False))(3 * _peaky(4))
    assert torch.equal(y, 3 * _peaky(4))


def test_normalize():
    x = torch.tensor([[0.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, 0.0]])
    y = A.Normalize()(x)
    assert torch.equal(y, torch.tensor([[0.0, 1.0, 0.5], [0, 0, 0], [-1.0, -2.0, 0]]))


def test_random_apply():
    x = _peaky(4).repeat(500, 1)
    noise = A.GaussianNoise(sigma=0.1)
    y = A.RandomApply(noise, p=0.25)(x, generator=_gen())
    changed = (y != x).any(1)
    assert 0.2 < float(changed.float().mean()) < 0.3
    assert torch.equal(y[~changed], x[~changed])
    assert torch.equal(A.RandomApply(noise, p=0.0)(x, generator=_gen()), x)
    assert (A.RandomApply(noise, p=1.0)(x, generator=_gen()) != x).any(1).all()


def test_one_of():
    x = _peaky(4).repeat(100, 1)
    a = A.PeakShift(displacement=0.0, zero_offset=0.2)
    b = A.GaussianNoise(sigma=0.01)
    y = A.OneOf([a, b], weights=[1, 3])(x, generator=_gen())
    shifted = torch.isclose(y[:, 100:], x[:, 90:-10], atol=1e-3).all(1)
    noisy = ~torch.isclose(y, x, atol=1e-3).all(1) & ~shifted
    assert bool((shifted ^ noisy).all())  # exactly one of them
    assert 0.15 < float(shifted.float().mean()) < 0.35
    only_a = A.OneOf([a, b], weights=[1, 0])(x, generator=_gen())
    assert torch.equal(only_a, a(x))


def test_one_of_never_chooses_a_weight_of_zero(monkeypatch):
    # a draw of exactly 0.0 fell on the empty interval of a first weight of 0
    import skxrd.augmentation._compose as compose

    monkeypatch.setattr(compose, "_rand", lambda shape, g, device: torch.zeros(shape))
    x = _peaky(3)
    a = A.PeakShift(displacement=0.0, zero_offset=0.2)
    out = A.OneOf([a, A.GaussianNoise(sigma=0.0)], weights=[0, 1])(x)
    assert torch.equal(out, x)  # the noise of sigma 0, never the shift


def test_default_augmentation():
    x = _peaky(64)
    aug = A.default_augmentation()
    y = aug(x, generator=_gen())
    assert torch.allclose(y.amax(1), torch.ones(64))
    assert torch.equal(y, aug(x, generator=_gen()))
    assert (y != x).any(1).float().mean() > 0.8
    # the patterns stay recognizable: the most similar original of an augmented
    # pattern is mostly its source, and close after smoothing over ~1°
    unit = torch.nn.functional.normalize
    nearest = (unit(y, dim=1) @ unit(x, dim=1).T).argmax(1)
    assert float((nearest == torch.arange(64)).float().mean()) > 0.7
    kernel = torch.exp(-0.5 * (torch.arange(-75, 76.0) / 21) ** 2)[None, None]
    smooth = torch.nn.functional.conv1d(torch.stack([x, y]).view(128, 1, -1), kernel)
    sx, sy = unit(smooth.view(2, 64, -1), dim=2)
    assert float((sx * sy).sum(1).median()) > 0.8
    raw = A.default_augmentation(normalize=False)(3 * x, generator=_gen())
    assert not torch.allclose(raw.amax(1), torch.ones(64))


def test_scan_range_zeroes_the_points_outside_each_patterns_range():
    x = torch.ones(256, len(TT))
    y = A.ScanRange(start=(8.0, 12.0), stop=(70.0, 80.0))(x, generator=_gen())
    kept = y > 0
    first = torch.as_tensor(TT)[kept.float().argmax(1)]
    last = torch.as_tensor(TT)[len(TT) - 1 - kept.flip(1).float().argmax(1)]
    assert first.min() >= 8.0 - 1e-9 and first.max() <= 12.0 + STEP
    assert last.min() >= 70.0 - STEP and last.max() <= 80.0 + 1e-9
    assert first.std() > 0.5 and last.std() > 1.5  # drawn per pattern
    # one contiguous range, the values inside untouched
    for row, a, b in zip(y[:8], first[:8], last[:8]):
        inside = (torch.as_tensor(TT) >= a) & (torch.as_tensor(TT) <= b)
        assert torch.equal(row > 0, inside) and torch.all(row[inside] == 1.0)
    fixed = A.ScanRange(start=10.0, stop=80.0)(x[:1])
    assert int(fixed.sum()) == 3501  # 10.00, 10.02, ..., 80.00
    with pytest.raises(ValueError, match="must lie above start"):
        A.ScanRange(start=(5.0, 50.0), stop=(40.0, 90.0))(x[:1])
    with pytest.raises(ValueError, match="start must"):
        A.ScanRange(start="ten")(x[:1])


def test_sample_augmentation_cuts_shorter_scans_on_request():
    x = _peaky(256) + 0.01  # a baseline: no point is 0 before the cut
    at = 10  # 5.2 deg: past what the shifts and strains move in from outside
    plain = A.sample_augmentation()(x, generator=_gen())
    assert not any(
        isinstance(getattr(t, "transform", t), A.ScanRange)
        for t in A.sample_augmentation().transforms
    )
    assert torch.all(plain[:, at] > 0)
    cut = A.sample_augmentation(scan_range=0.5)(x, generator=_gen())
    assert torch.allclose(cut.amax(1), torch.ones(256))  # normalized after the cut
    # about half the patterns start later (5-15 deg)
    assert 0.35 < float((cut[:, at] == 0).float().mean()) < 0.65


def test_sample_augmentation_adds_no_background_or_noise():
    x = _peaky(64)
    aug = A.sample_augmentation()
    y = aug(x, generator=_gen())
    assert torch.allclose(y.amax(1), torch.ones(64))
    assert torch.equal(y, aug(x, generator=_gen()))
    assert (y != x).any(1).float().mean() > 0.5
    # far from every peak the patterns stay empty, unlike with the default
    # augmentation's backgrounds and noise
    # (2° from any peak: strain and shifts move peaks by less than that)
    near = torch.nn.functional.max_pool1d(x[:, None], 201, 1, padding=100)
    empty = near[:, 0] < 1e-6
    assert float(y[empty].abs().max()) < 0.09  # impurity peaks at most
    z = A.default_augmentation()(x, generator=_gen())
    assert float((z[empty] > 0.005).float().mean()) > 5 * float(
        (y[empty] > 0.005).float().mean()
    )


def test_default_augmentation_other_grid():
    tt = np.arange(10.0, 80.0, 0.05)
    x = _gauss([20.0, 50.0], fwhm=0.2, tt=tt).repeat(8, 1)
    y = A.default_augmentation(two_theta=tt)(x, generator=_gen())
    assert y.shape == x.shape
    with pytest.raises(ValueError, match="two_theta"):
        A.default_augmentation()(x)


def test_non_uniform_grid():
    tt = np.degrees(2 * np.arcsin(np.linspace(0.1, 0.8, 3000)))  # uniform in Q
    x = _gauss([40.0], fwhm=0.1, tt=tt)
    y = A.PeakShift(displacement=0.0, zero_offset=0.3, two_theta=tt)(x)
    assert tt[int(y.argmax())] == pytest.approx(40.3, abs=0.03)
    z = A.LatticeStrain(strain=0.01, two_theta=tt)(x)
    new = math.degrees(2 * math.asin(math.sin(math.radians(20)) / 1.01))
    assert tt[int(z.argmax())] == pytest.approx(new, abs=0.03)


def test_default_two_theta_is_the_simulator_grid():
    from skxrd import PowderSimulator

    tt = A.default_two_theta()
    assert np.array_equal(tt, PowderSimulator().two_theta)
    tt[0] = -1  # a copy
    assert A.default_two_theta()[0] == 5.0


# -------------------------------------------------------------------- relations
@pytest.mark.parametrize("transform", ALL, ids=IDS)
@pytest.mark.parametrize("factor", [3.7, 1e-6, 1e6])
def test_scale_equivariance(transform, factor):
    # every level is relative to each pattern's maximum (counts, heights,
    # peak thresholds): the same seed on a scaled batch gives the scaled result
    x = _peaky(6).double()
    scaled = transform(x * factor, generator=_gen(3))
    expected = transform(x, generator=_gen(3))
    # LinearIntensities: the square roots of what it wraps, as scaled
    inner = getattr(transform, "transform", transform)
    normalizes = isinstance(transform, A.Normalize) or (
        isinstance(inner, A.Compose) and inner.normalize
    )
    if not normalizes:
        expected = expected * factor
    assert torch.allclose(scaled, expected, rtol=1e-9, atol=1e-12 * factor)


@pytest.mark.parametrize(
    "transform",
    [
        A.PeakShift(displacement=0.0, zero_offset=0.0),
        A.LatticeStrain(strain=0.0),
        A.CrystalliteBroadening(size=1e9),
        A.KbetaLeak(ratio=0.0),
        A.PolynomialBackground(amplitude=0.0),
        A.AmorphousHump(amplitude=0.0),
        A.GaussianNoise(sigma=0.0),
        A.ScanRange(start=5.0, stop=89.98),
        A.RandomPeakScaling(probability=1.0, scale=1.0),
        A.RandomPeakRemoval(probability=0.0),
        A.PreferredOrientationScaling(max_factor=1.0),
        A.ImpurityPeaks(n_peaks=0),
        A.RandomApply(A.GaussianNoise(sigma=0.1), p=0.0),
    ],
    ids=lambda t: type(t).__name__,
)
def test_neutral_parameters_change_nothing(transform):
    x = _peaky(4).double()
    assert torch.allclose(transform(x, generator=_gen()), x, rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def simulated():
    """Three example crystals and their Cu Kα1 patterns (unnormalized)."""
    from skxrd import PowderSimulator
    from skxrd.datasets import load_example_crystal

    crystals = [load_example_crystal(n) for n in ("NaCl", "Si", "Al2O3")]
    sim = PowderSimulator(radiation="CuKa1", normalize=None)
    return crystals, sim, torch.tensor(sim.transform(crystals), dtype=torch.float64)


def _strong_peaks(row, n=4):
    """Indices of the ``n`` strongest well-separated peaks of a 1D pattern."""
    mask = A.find_peaks(row[None], threshold=0.05, min_distance=25)[0]
    idx = mask.nonzero()[:, 0]
    return idx[row[idx].argsort(descending=True)[:n]]


@pytest.mark.parametrize("strain", [-0.008, 0.006])
def test_lattice_strain_agrees_with_simulating_the_strained_lattice(simulated, strain):
    import dataclasses

    crystals, sim, X = simulated
    strained = [
        dataclasses.replace(c, lattice=np.asarray(c.lattice) * (1 + strain))
        for c in crystals
    ]
    ref = torch.tensor(sim.transform(strained), dtype=torch.float64)
    y = A.LatticeStrain(strain=strain)(X)
    for row, ref_row in zip(y, ref):
        for i in _strong_peaks(ref_row):
            lo, hi = int(i) - 8, int(i) + 9
            got = _centroid(row[None], lo, hi)[0]
            want = _centroid(ref_row[None], lo, hi)[0]
            assert abs(float(got - want)) < 0.02  # grid points: 0.0004° 2θ


@pytest.mark.parametrize("size", [10.0, 40.0])
def test_crystallite_broadening_agrees_with_the_simulators_size(simulated, size):
    from skxrd import PowderSimulator

    crystals, sim, X = simulated
    ref = PowderSimulator(radiation="CuKa1", normalize=None, crystallite_size=size)
    ref = torch.tensor(ref.transform(crystals), dtype=torch.float64)
    y = A.CrystalliteBroadening(size=size)(X)
    for row, ref_row in zip(y, ref):
        for i in _strong_peaks(ref_row, 3):
            lo, hi = int(i) - 80, int(i) + 81
            assert _fwhm(row[lo:hi]) == pytest.approx(_fwhm(ref_row[lo:hi]), rel=0.05)


# ------------------------------------------------------- peaks above the noise
def _noisy_lines(n=16, counts=500.0, background=100.0, seed=0):
    """Patterns of 12 lines with Poisson counting noise, background subtracted
    (as the shipped recipes' training patterns are), and the noise-free
    patterns (max-normalized)."""
    x = _peaky(n, seed)
    g = _gen(seed + 1)
    noisy = torch.poisson(counts * x + background, generator=g) - background
    return noisy / counts, x


def _near(mask, half):
    return F.max_pool1d(mask[:, None].float(), 2 * half + 1, 1, padding=half)[:, 0] > 0


def test_find_peaks_min_snr_drops_noise_spikes_and_keeps_the_lines():
    noisy, clean = _noisy_lines()
    near_line = _near(A.find_peaks(clean), 3)
    old = A.find_peaks(noisy)
    new = A.find_peaks(noisy, min_snr=6)
    # without it most "peaks" are noise; with it nearly every one is a line
    assert (old & near_line).sum() < 0.5 * old.sum()
    assert (new & near_line).sum() >= 0.85 * new.sum()
    # and the lines above 10 % of the maximum are kept
    strong = A.find_peaks(clean, threshold=0.1)
    assert (strong & _near(new, 3)).sum() >= 0.95 * strong.sum()
    # a subset of the peaks without it
    assert (new <= old).all()


def test_find_peaks_min_snr_changes_nothing_without_noise():
    x = _peaky(8)
    assert torch.equal(A.find_peaks(x, min_snr=6), A.find_peaks(x))
    assert torch.equal(A.find_peaks(x, min_snr=0), A.find_peaks(x))


@pytest.mark.parametrize("min_snr", [-1, True, "6", math.inf, math.nan])
def test_find_peaks_rejects_a_bad_min_snr(min_snr):
    with pytest.raises(ValueError, match="min_snr must be None or a number >= 0"):
        A.find_peaks(torch.zeros(1, 50), min_snr=min_snr)
    with pytest.raises(ValueError, match="min_snr"):
        A.RandomPeakScaling(min_snr=min_snr)(torch.rand(1, 50))


@pytest.mark.parametrize("factor", [0.25, 2.0])
def test_peak_scaling_with_min_snr_scales_the_lines_not_the_noise(factor):
    noisy, clean = _noisy_lines()
    far = ~_near(A.find_peaks(clean, threshold=1e-4), 30)

    def effect(transform):
        y = transform(noisy)
        # how much of the noise-free lines was added (factor - 1 is exact)
        gain = ((y - noisy) * clean).sum(1) / (clean * clean).sum(1)
        changed = (y[far] != noisy[far]).float().mean()
        return float(gain.median()), float(changed)

    gain_new, changed_new = effect(
        A.RandomPeakScaling(probability=1.0, scale=factor, min_snr=6)
    )
    gain_old, changed_old = effect(A.RandomPeakScaling(probability=1.0, scale=factor))
    assert abs(gain_new - (factor - 1)) < 0.15 * abs(factor - 1)
    # the noise away from the lines stays; without min_snr its spikes are
    # peaks and change with the lines
    assert changed_new < 0.03 and changed_old > 0.2


def test_texture_with_min_snr_gives_each_line_one_factor():
    # texture draws one factor per peak: a line whose flanks carry noise
    # spikes got several, its top scaled apart from its sides
    noisy, clean = _noisy_lines(n=32)
    tex = A.PreferredOrientationScaling(max_factor=2.0, min_snr=6)
    y = tex(noisy, generator=_gen())
    lines = A.find_peaks(clean, threshold=0.2)
    rows, cols = lines.nonzero(as_tuple=True)
    spread = []
    for r, c in zip(rows.tolist(), cols.tolist()):
        top = slice(c - 1, c + 2)
        flank = torch.cat([noisy[r, c - 3 : c - 1], noisy[r, c + 2 : c + 4]])
        out_flank = torch.cat([y[r, c - 3 : c - 1], y[r, c + 2 : c + 4]])
        f_top = y[r, top].sum() / noisy[r, top].sum()
        f_flank = out_flank.sum() / flank.sum()
        spread.append(float((f_top - f_flank).abs()))
    assert np.median(spread) < 0.1


def test_linear_intensities_acts_on_the_squares():
    x = _peaky(4)
    s = x.sqrt()
    inner = A.RandomPeakScaling(probability=1.0, scale=0.25)
    y = A.LinearIntensities(inner)(s, generator=_gen())
    torch.testing.assert_close(y**2, inner(x, generator=_gen()), atol=1e-5, rtol=0)
    # signs are kept, the max-normalization too
    neg = torch.tensor([[-0.25, 0.5, 1.0]])
    assert A.LinearIntensities(A.Normalize())(neg).tolist() == [[-0.25, 0.5, 1.0]]
    aug = A.LinearIntensities(A.sample_augmentation(min_snr=6))
    z = aug(s, generator=_gen())
    assert torch.allclose(z.amax(1), torch.ones(4))
    # an impurity line of 4 % of the strongest peak is 4 % in linear intensity
    # (20 % in square roots)
    one = torch.zeros(1, 4250)
    one[0, 100] = 1.0
    imp = A.LinearIntensities(A.ImpurityPeaks(n_peaks=1, intensity=0.04, fwhm=0.2))
    w = imp(one, generator=_gen())
    assert abs(float((w**2 - one**2).max()) - 0.04) < 1e-3


def test_linear_intensities_errors():
    with pytest.raises(ValueError, match="scale must be 'sqrt', got 'log'"):
        A.LinearIntensities(A.Normalize(), scale="log")(torch.rand(2, 10))
    with pytest.raises(TypeError, match="transform must be callable"):
        A.LinearIntensities(3)(torch.rand(2, 10))


def test_sample_augmentation_min_snr_reaches_the_peak_transforms():
    aug = A.sample_augmentation(min_snr=6)
    peaks = aug.transforms[1].transform.transforms
    assert [t.min_snr for t in peaks] == [6, 6, 6]
    # None: the same draws as before the option existed
    x = _peaky(8)
    default = A.sample_augmentation()
    assert [t.min_snr for t in default.transforms[1].transform.transforms] == [None] * 3
    explicit = A.sample_augmentation(min_snr=None)
    assert torch.equal(default(x, generator=_gen()), explicit(x, generator=_gen()))


def test_peak_transforms_pickled_before_min_snr_load_as_they_were():
    old = A.RandomPeakScaling(probability=1.0, scale=0.5)
    del old.__dict__["min_snr"]  # as pickled by an earlier version
    back = pickle.loads(pickle.dumps(old))
    assert back.get_params()["min_snr"] is None
    x = _peaky(4)
    assert torch.equal(back(x), A.RandomPeakScaling(probability=1.0, scale=0.5)(x))
    assert "min_snr" not in repr(back)  # the default, as sklearn prints it
