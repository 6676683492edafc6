import math
import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
)

from skxrd import Crystal, PowderSimulator
from skxrd.datasets import load_example_crystal
from skxrd.simulation import get_radiation

SI = load_example_crystal("Si")
NACL = load_example_crystal("NaCl")
LICOO2 = load_example_crystal("LiCoO2")


def two_theta_of(d, lam):
    return math.degrees(2 * math.asin(lam / (2 * d)))


def measured_fwhm(x, y, centre, window=1.0):
    sel = np.abs(x - centre) < window
    xs, ys = x[sel], y[sel]
    half = ys.max() / 2
    above = np.flatnonzero(ys >= half)
    i, j = above[0], above[-1]
    # linear interpolation at both half-maximum crossings
    left = np.interp(half, [ys[i - 1], ys[i]], [xs[i - 1], xs[i]])
    right = np.interp(half, [ys[j + 1], ys[j]], [xs[j + 1], xs[j]])
    return right - left


def test_output_shape_dtype_and_names():
    sim = PowderSimulator()
    X = sim.transform([SI, NACL])
    assert X.shape == (2, 4250) and X.dtype == np.float32
    assert np.allclose(X.max(1), 1.0)
    names = sim.get_feature_names_out()
    assert len(names) == 4250 and names[-1] == "two_theta_89.980"
    assert sim.fit([SI]).n_features_out_ == 4250
    q = PowderSimulator(q_range=(1, 6), q_step=0.01)
    assert q.get_feature_names_out()[0] == "q_1.0000"
    assert len(q.transform([SI])[0]) == 500


def test_sklearn_api():
    sim = PowderSimulator(radiation="MoKa", n_jobs=1)
    check_parameters_default_constructible("PowderSimulator", sim)
    check_no_attributes_set_in_init("PowderSimulator", sim)
    check_get_params_invariance("PowderSimulator", sim)
    assert clone(sim).get_params() == sim.get_params()
    pipe = make_pipeline(sim, FunctionTransformer(np.sqrt))
    assert pipe.fit_transform([SI]).shape == (1, 4250)
    again = pickle.loads(pickle.dumps(sim))
    assert np.array_equal(again.transform([SI]), sim.transform([SI]))


def test_peak_list_si():
    pl = PowderSimulator(radiation="CuKa1").peaks([SI])[0]
    assert pl.hkl[:4].tolist() == [[1, 1, 1], [2, 2, 0], [3, 1, 1], [4, 0, 0]]
    assert pl.multiplicity[:4].tolist() == [8, 12, 24, 6]
    lam = get_radiation("CuKa1").wavelength
    for (h, k, l), tt in zip(pl.hkl, pl.two_theta):
        d = 5.431 / math.sqrt(h * h + k * k + l * l)
        assert tt == pytest.approx(two_theta_of(d, lam), abs=1e-6)
    assert np.allclose(pl.q, 2 * np.pi / pl.d)
    assert pl.relative_intensity.max() == 100
    assert "mult" in pl.to_table(3)


def test_render_matches_transform():
    # (lines just outside the range are not in peak lists: use the full range,
    # where no line lies close outside)
    sim = PowderSimulator(crystallite_size=30)
    peaks = sim.peaks([SI, LICOO2])
    assert np.allclose(sim.render(peaks), sim.transform([SI, LICOO2]), atol=2e-3)
    # re-render with other profile settings from the same peak lists
    other = PowderSimulator(profile="gaussian")
    assert np.allclose(other.render(peaks), other.transform([SI, LICOO2]), atol=2e-3)
    with pytest.raises(ValueError, match="peak list 0 was computed at"):
        PowderSimulator(radiation="MoKa").render(peaks)


def test_kalpha2_doublet():
    sim = PowderSimulator(
        radiation="CuKa",
        caglioti_uvw=(0, 0, 0.0004),
        two_theta_step=0.005,
        profile="gaussian",
    )
    x, y = sim.two_theta, sim.transform([SI])[0]
    d422 = 5.431 / math.sqrt(24)
    t1, t2 = two_theta_of(d422, 1.5405929), two_theta_of(d422, 1.5444274)
    i1 = y[np.abs(x - t1) < 0.01].max()
    i2 = y[np.abs(x - t2) < 0.01].max()
    assert t2 - t1 > 0.2
    assert i2 / i1 == pytest.approx(0.5, rel=0.03)


@pytest.mark.parametrize(
    "name", ["CuKa1", "MoKa1", "AgKa1", "CoKa1", "CrKa1", "FeKa1", 0.7293]
)
def test_wavelengths_move_peaks_by_bragg(name):
    rad = get_radiation(name)
    sim = PowderSimulator(
        radiation=name,
        two_theta_range=(5, 120),
        profile="gaussian",
        two_theta_step=0.01,
    )
    pattern = sim.transform([NACL])[0]
    expected = two_theta_of(5.64 / 2, rad.wavelength)  # (200)
    assert sim.two_theta[pattern.argmax()] == pytest.approx(expected, abs=0.01)


def test_q_grid_positions():
    sim = PowderSimulator(
        radiation="CuKa1", q_range=(1, 5), q_step=0.001, profile="gaussian"
    )
    pattern = sim.transform([NACL])[0]
    assert sim.q[pattern.argmax()] == pytest.approx(2 * np.pi / 2.82, abs=0.001)
    assert np.allclose(
        sim.two_theta, np.degrees(2 * np.arcsin(sim.q * 1.5405929 / (4 * np.pi)))
    )


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_q_range_reaches_4pi_over_the_primary_wavelength(backend):
    """A doublet's Q grid is converted with Kα1, so it reaches 4π/λ(Kα1) as its
    2θ grid reaches 180°; it was refused beyond 4π/λ(Kα2) (8.1366 for Cu Kα,
    2θ = 171.6° of Kα1), while two_theta_range=(5, 180) was accepted."""
    lam = get_radiation("CuKa").wavelength
    q_max = 4 * math.pi / lam
    sim = PowderSimulator(
        radiation="CuKa", q_range=(7.9, 8.15), q_step=0.001, backend=backend
    )
    pattern = sim.transform([SI])[0]
    assert np.all(np.isfinite(pattern)) and pattern.max() == 1.0
    # Si (444) at 158.6° 2θ (Q = 8.016) and its Kα2 line
    assert sim.q[pattern.argmax()] == pytest.approx(
        2 * math.pi / (5.431 / 48**0.5), abs=2e-3
    )
    # the same lines as on the 2θ grid of that range
    tt = PowderSimulator(
        radiation="CuKa", two_theta_range=tuple(sim.two_theta[[0, -1]])
    )
    assert sim.peaks([SI])[0].hkl.tolist() == tt.peaks([SI])[0].hkl.tolist()
    with pytest.raises(ValueError, match=r"q_range .* \[0, 8\.1568\] Å⁻¹ for CuKa"):
        PowderSimulator(
            radiation="CuKa", q_range=(7.9, q_max + 1e-3), q_step=0.001
        ).fit()


def test_profile_area_and_width():
    uvw = (0.02, -0.01, 0.01)
    sim = PowderSimulator(
        radiation="CuKa1",
        profile="gaussian",
        caglioti_uvw=uvw,
        normalize=None,
        two_theta_step=0.002,
    )
    x, y = sim.two_theta, sim.transform([SI])[0]
    peaks = sim.peaks([SI])[0]
    # integrated intensity is preserved by rendering
    assert y.sum() * 0.002 == pytest.approx(peaks.intensity.sum(), rel=1e-3)
    t = peaks.two_theta[0]
    tan = math.tan(math.radians(t / 2))
    expected = math.sqrt(uvw[0] * tan**2 + uvw[1] * tan + uvw[2])
    assert measured_fwhm(x, y, t) == pytest.approx(expected, rel=0.01)


def test_scherrer_and_lorentzian_tails():
    common = dict(
        radiation="CuKa1",
        caglioti_uvw=(0, 0, 1e-6),
        two_theta_step=0.002,
        profile="lorentzian",
        profile_cutoff=50,
    )
    x = PowderSimulator(**common).two_theta
    t = PowderSimulator(radiation="CuKa1").peaks([SI])[0].two_theta[0]
    widths = []
    for size in (50.0, 10.0):
        y = PowderSimulator(**common, crystallite_size=size).transform([SI])[0]
        expected = math.degrees(
            0.9 * 1.5405929 / (10 * size * math.cos(math.radians(t / 2)))
        )
        widths.append(measured_fwhm(x, y, t, window=3))
        assert widths[-1] == pytest.approx(expected + 0.001, rel=0.02)
    assert widths[1] > 4 * widths[0]
    g = PowderSimulator(radiation="CuKa1", profile="gaussian").transform([SI])[0]
    lor = PowderSimulator(radiation="CuKa1", profile="lorentzian").transform([SI])[0]
    sim = PowderSimulator(radiation="CuKa1")
    far = np.abs(sim.two_theta - t)
    tail = (far > 0.5) & (far < 1.0)
    assert lor[tail].mean() > 10 * g[tail].mean()


def test_tch_pseudo_voigt_mixing():
    sim = PowderSimulator(radiation="CuKa1", crystallite_size=20)
    from skxrd.simulation._physics import fwhm_and_eta

    s = sim._settings()
    fwhm, eta = fwhm_and_eta(
        np.radians(np.array([14.0, 40.0])), np, **s.width_kwargs(1.5405929)
    )
    assert np.all((eta > 0) & (eta < 1)) and np.all(fwhm > 0)
    fixed = PowderSimulator(radiation="CuKa1", eta=0.3)._settings()
    _, eta = fwhm_and_eta(
        np.radians(np.array([14.0])), np, **fixed.width_kwargs(1.5405929)
    )
    assert eta[0] == pytest.approx(0.3)


def test_debye_waller_exact_ratio():
    sim = PowderSimulator(radiation="CuKa1")
    hot = SI.replace(b_iso=np.full(SI.n_atoms, 1.5))
    cold, warm = sim.peaks([SI, hot])
    s2 = (1 / (2 * cold.d)) ** 2
    assert np.allclose(warm.intensity / cold.intensity, np.exp(-2 * 1.5 * s2))
    overall = PowderSimulator(radiation="CuKa1", overall_b=1.5, normalize=None)
    per_atom = PowderSimulator(radiation="CuKa1", normalize=None)
    assert np.allclose(
        overall.transform([SI]),
        per_atom.transform([hot]),
        rtol=1e-4,
        atol=1e-3 * per_atom.transform([hot]).max(),
    )
    off = PowderSimulator(radiation="CuKa1", debye_waller=False).peaks([hot])[0]
    assert np.allclose(off.intensity, cold.intensity)


def test_lorentz_polarization_and_monochromator():
    plain = PowderSimulator(radiation="CuKa1", lorentz_polarization=False)
    lp = PowderSimulator(radiation="CuKa1")
    mono = PowderSimulator(radiation="CuKa1", monochromator_angle=26.6)
    a, b, c = (s.peaks([SI])[0] for s in (plain, lp, mono))
    th = np.radians(a.two_theta / 2)
    expected = (1 + np.cos(2 * th) ** 2) / (np.sin(th) ** 2 * np.cos(th)) / 2
    assert np.allclose(b.intensity / a.intensity, expected)
    c2m = math.cos(math.radians(26.6)) ** 2
    expected_m = (
        (1 + np.cos(2 * th) ** 2 * c2m) / (np.sin(th) ** 2 * np.cos(th)) / (1 + c2m)
    )
    assert np.allclose(c.intensity / a.intensity, expected_m)
    neutron = PowderSimulator(radiation="neutron", wavelength=1.5405929)
    n_plain = PowderSimulator(
        radiation="neutron", wavelength=1.5405929, lorentz_polarization=False
    )
    nn, np_ = neutron.peaks([SI])[0], n_plain.peaks([SI])[0]
    assert np.allclose(nn.intensity / np_.intensity, 1 / (np.sin(th) ** 2 * np.cos(th)))


def test_neutron_uses_scattering_lengths():
    # Si: one element, so relative intensities differ from X-rays only by f(s)
    xr = PowderSimulator(radiation=1.5405929, lorentz_polarization=False).peaks([SI])[0]
    nr = PowderSimulator(
        radiation="neutron", wavelength=1.5405929, lorentz_polarization=False
    ).peaks([SI])[0]
    # diamond structure: |F|² = 32 b² for odd hkl, 64 b² for h+k+l = 4n
    odd = (nr.hkl % 2 == 1).all(1)
    expected = np.where(odd, 32, 64) * 4.15071**2
    assert np.allclose(nr.f_squared / nr.multiplicity, expected)
    assert not np.allclose(xr.relative_intensity, nr.relative_intensity, atol=1)
    with pytest.raises(ValueError, match="needs a wavelength"):
        PowderSimulator(radiation="neutron").transform([SI])


def test_neutron_absorbers_have_complex_lengths():
    # Sm's tabulated real b_c is 0: a real-only sum made its pattern all zero
    from skxrd.simulation._scattering import neutron_scattering_length

    sm = Crystal.from_wyckoff(229, [("Sm", "2a")], a=4.07)
    gd = Crystal.from_wyckoff(225, [("Gd", "4a"), ("O", "4b")], a=5.0)
    for backend in ("numpy", "torch"):
        sim = PowderSimulator(radiation="neutron", wavelength=1.54, backend=backend)
        assert sim.transform([sm]).max() == pytest.approx(1.0), backend
    b = neutron_scattering_length("Gd", 1.54)
    assert b.real == pytest.approx(7.86, abs=0.01) and b.imag < -13
    # rock salt (h, k, l all even): |F|² = 16 |b_Gd + b_O|², the complex sum
    peaks = PowderSimulator(radiation="neutron", wavelength=1.54).peaks([gd])[0]
    b_o = neutron_scattering_length("O", 1.54).real
    even = (peaks.hkl % 2 == 0).all(1)
    expected = 16 * abs(b + b_o) ** 2
    np.testing.assert_allclose(
        peaks.f_squared[even] / peaks.multiplicity[even], expected, rtol=1e-6
    )
    numpy_, torch_ = (
        PowderSimulator(radiation="neutron", wavelength=1.54, backend=k).transform([gd])
        for k in ("numpy", "torch")
    )
    np.testing.assert_allclose(numpy_, torch_, atol=1e-5)
    # no energy dependence tabulated (Ra): the table's b_c
    assert neutron_scattering_length("Ra", 1.54) == complex(
        neutron_scattering_length("Ra")
    )


def test_peak_list_intensities_include_overall_b():
    # the listed intensities are those the rendered pattern shows
    sim = PowderSimulator(radiation="CuKa1", overall_b=3.0, two_theta_range=(20, 90))
    peaks = sim.peaks([SI])[0]
    plain = PowderSimulator(radiation="CuKa1", two_theta_range=(20, 90)).peaks([SI])[0]
    damping = np.exp(-2.0 * 3.0 * (1 / (2 * peaks.d)) ** 2)
    np.testing.assert_allclose(peaks.intensity, plain.intensity * damping)
    np.testing.assert_array_equal(peaks.f_squared, plain.f_squared)
    np.testing.assert_allclose(sim.render([peaks]), sim.transform([SI]), atol=1e-6)


def test_merged_lines_are_named_by_an_allowed_reflection():
    # P2_13: (300) is absent (h00: h = 2n) and shares its d with (221); the
    # multiplicity counts both forms, as pymatgen's does
    c = Crystal.from_wyckoff(
        198,
        [
            ("Ni", "4a", (0.024,) * 3),
            ("Sb", "4a", (0.621,) * 3),
            ("S", "4a", (0.384,) * 3),
        ],
        a=5.93,
    )
    peaks = PowderSimulator(radiation="CuKa1", two_theta_range=(45, 47)).peaks([c])[0]
    assert peaks.hkl.tolist() == [[2, 2, 1]] and peaks.multiplicity.tolist() == [30]


def test_fine_grids_have_distinct_feature_names():
    names = PowderSimulator(two_theta_step=0.0005).get_feature_names_out()
    assert len(set(names)) == len(names) and names[1] == "two_theta_5.0005"
    assert PowderSimulator().get_feature_names_out()[1] == "two_theta_5.020"


def test_numpy_scalar_wavelengths_are_wavelengths():
    for value in (np.float32(1.5405929), np.float64(1.5405929)):
        x = PowderSimulator(radiation=value).transform([SI])
        ref = PowderSimulator(radiation=1.5405929).transform([SI])
        np.testing.assert_allclose(x, ref, atol=1e-4)


def test_preferred_orientation_enhances_00l():
    random_ = PowderSimulator(radiation="CuKa1").peaks([LICOO2])[0]
    plates = PowderSimulator(
        radiation="CuKa1", preferred_orientation=(0, 0, 1), march_r=0.7
    ).peaks([LICOO2])[0]
    i003 = np.flatnonzero((random_.hkl == [0, 0, 3]).all(1))[0]
    i104 = np.flatnonzero((random_.hkl == [1, 0, 4]).all(1))[0]
    ratio_r = random_.intensity[i003] / random_.intensity[i104]
    ratio_p = plates.intensity[i003] / plates.intensity[i104]
    # March–Dollase: α = 0 for (003); for (104) the angle to c* (all its
    # equivalents share it in R-3m)
    recip = LICOO2.reciprocal_lattice
    g104, c_star = np.array([1, 0, 4]) @ recip, recip[2]
    cos2 = (g104 @ c_star) ** 2 / (g104 @ g104) / (c_star @ c_star)
    p104 = (0.7**2 * cos2 + (1 - cos2) / 0.7) ** -1.5
    assert ratio_p == pytest.approx(ratio_r * 0.7**-3 / p104, rel=1e-6)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_march_r_is_refused_beyond_any_texture(backend):
    """r = 1e-30 or 1e30 overflowed the texture factor r⁻³: all-zero patterns
    (numpy) or NaN (torch), 1e300 an OverflowError; the range's ends work."""
    zno = load_example_crystal("ZnO")
    for r in (1e-30, 1e30, 1e300):
        sim = PowderSimulator(
            preferred_orientation=(0, 0, 1), march_r=r, backend=backend
        )
        with pytest.raises(ValueError, match=r"march_r must be within \[0.001, 1000\]"):
            sim.transform([zno])
    with pytest.raises(ValueError, match=r"settings\[0\] march_r must be within"):
        PowderSimulator().transform_varied(
            [zno], [{"preferred_orientation": (0, 0, 1), "march_r": 1e-30}]
        )
    for r in (1e-3, 1e3):
        sim = PowderSimulator(
            preferred_orientation=(0, 0, 1), march_r=r, backend=backend
        )
        pattern = sim.transform([zno])[0]
        assert np.all(np.isfinite(pattern)) and pattern.max() == 1.0


def test_anomalous_scattering_changes_fe():
    fe = load_example_crystal("Fe")
    a = PowderSimulator(radiation="CuKa1", anomalous=True).peaks([fe])[0]
    b = PowderSimulator(radiation="CuKa1").peaks([fe])[0]
    from skxrd.simulation import anomalous_terms, xray_form_factor

    f1, f2 = anomalous_terms("Fe", get_radiation("CuKa1").energy_kev)
    s = 1 / (2 * a.d)
    f0 = xray_form_factor("Fe", s)
    assert np.allclose(a.intensity / b.intensity, ((f0 + f1) ** 2 + f2**2) / f0**2)
    # a non-centrosymmetric crystal: Friedel pairs summed exactly
    zno = load_example_crystal("ZnO")
    assert np.all(np.isfinite(PowderSimulator(anomalous=True).transform([zno])))


def test_normalize_options():
    raw = PowderSimulator(normalize=None).transform([SI])[0]
    area = PowderSimulator(normalize="area").transform([SI])[0]
    peak = PowderSimulator().transform([SI])[0]
    assert area.sum() == pytest.approx(1, rel=1e-4)
    assert np.allclose(peak, raw / raw.max(), atol=1e-6)


def test_no_reflections_in_range_gives_zeros():
    tiny = Crystal(2.0 * np.eye(3), ["Po"], [[0, 0, 0]])
    assert not PowderSimulator(two_theta_range=(5, 30)).transform([tiny]).any()


def test_ions_read_their_own_form_factor_tables():
    # xrayutilities keys O2- as "2mdot" and Ru4+ as "p4": both were given the
    # neutral atom's form factor (8 and 44 electrons at s = 0)
    from skxrd.simulation import xray_form_factor

    ions = [("O2-", 10), ("O-", 9), ("Ru4+", 40), ("Ru3+", 41)]
    for species, electrons in ions:
        assert xray_form_factor(species, 0.0) == pytest.approx(electrons, abs=0.02)
    # no table for S2-: the neutral atom's
    assert xray_form_factor("S2-", 0.0) == pytest.approx(16, abs=0.02)


def _pseudo_cubic():
    # (100), (010), (001) of a cell strained by 9e-7 per axis: 1/d steps below
    # the merging tolerance (1e-6), so one line of three unequal reflections
    a = 2.2
    lattice = np.diag([a, a * (1 + 9e-7), a * (1 + 1.8e-6)])
    return Crystal(lattice, ["Fe", "O"], [[0, 0, 0], [0.1, 0.2, 0.3]])


def test_nearly_equal_reflections_merge_at_their_centroid():
    # the line sat at the smallest 1/d of the chain, not where its intensity is
    from skxrd.simulation import xray_form_factor

    crystal = _pseudo_cubic()
    peaks = PowderSimulator(radiation="CuKa1").peaks([crystal])[0]
    assert peaks.multiplicity[0] == 6
    g = 1.0 / np.diag(crystal.lattice)
    f_fe, f_o = (xray_form_factor(el, g / 2) for el in ("Fe", "O"))
    weights = np.abs(f_fe + f_o * np.exp(2j * np.pi * np.array([0.1, 0.2, 0.3]))) ** 2
    assert np.ptp(weights) > 0.1 * weights.max()  # unequal reflections
    np.testing.assert_allclose(2 * weights.sum(), peaks.f_squared[0], rtol=1e-5)
    centroid = (weights * g).sum() / weights.sum()
    assert 1.0 / peaks.d[0] == pytest.approx(centroid, rel=1e-11)


def test_nearly_equal_reflections_render_alike_in_both_backends():
    # the torch backend renders each reflection at its own 2θ; the numpy
    # backend's merged lines were off by up to 1.5e-3 of the maximum
    pytest.importorskip("torch")
    crystal = _pseudo_cubic()
    kwargs = dict(radiation="CuKa1", two_theta_range=(30, 150))
    numpy_x = PowderSimulator(**kwargs).transform([crystal])
    torch_x = PowderSimulator(backend="torch", device="cpu", **kwargs).transform(
        [crystal]
    )
    np.testing.assert_allclose(numpy_x, torch_x, atol=2e-5)


def test_every_form_factor_counts_its_electrons():
    # f0(s = 0) = c + Σ a_i is the number of electrons of the atom or ion. The
    # DABAX table read through xrayutilities has Np3+, Np4+, Np6+ and Pu under
    # each other's labels: Pu had 89 electrons, Np4+ 94, Np3+ 87 and Np6+ 90.
    import periodictable
    from xrayutilities.materials.atom import _db

    from skxrd.simulation import _scattering

    wrong = []
    for el in periodictable.elements:
        if not 1 <= el.number <= 98:
            continue
        with _scattering._XU_LOCK:
            _db.SetMaterial(el.symbol)
            keys = tuple(_db.f0_params)
        charges = [0, *_scattering._ion_keys(keys)]
        for charge in charges:
            sign = "+" if charge > 0 else "-"
            species = el.symbol + (f"{abs(charge)}{sign}" if charge else "")
            c = _scattering.form_factor_coefficients(species)
            if abs(c[0] + c[1::2].sum() - (el.number - charge)) > 0.1:
                wrong.append((species, round(c[0] + c[1::2].sum(), 2)))
    assert wrong == []


def test_plutonium_superlattice_lines_match_pymatgen():
    # CsCl-type PuPb: the lines of odd h + k + l have F = f_Pu - f_Pb, so
    # they show Pu's form factor: with Np4+'s 89 electrons for Pu's 94, (100)
    # was 0.33 of 100 against pymatgen's 0.53 (f(0) = Z); now within 10 %.
    core = pytest.importorskip("pymatgen.core")
    xrd = pytest.importorskip("pymatgen.analysis.diffraction.xrd")
    structure = core.Structure(
        core.Lattice.cubic(3.9), ["Pu", "Pb"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    peaks = PowderSimulator(radiation=1.54056).peaks(
        [Crystal.from_pymatgen(structure)]
    )[0]
    pattern = xrd.XRDCalculator(wavelength=1.54056).get_pattern(
        structure, two_theta_range=(5, 90)
    )
    assert len(peaks) == len(pattern.x)
    np.testing.assert_allclose(peaks.two_theta, pattern.x, atol=1e-6)
    odd = peaks.hkl.sum(axis=1) % 2 == 1
    ours, theirs = peaks.relative_intensity, np.asarray(pattern.y)
    np.testing.assert_allclose(ours[odd], theirs[odd], rtol=0.1, atol=0.01)
    np.testing.assert_allclose(ours[~odd], theirs[~odd], atol=1.0)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_ionic_patterns_in_both_backends(backend):
    # MgO's (111) has F = 4 (f_Mg - f_O): O2- instead of O changes it
    if backend == "torch":
        pytest.importorskip("torch")
    sim = PowderSimulator(backend=backend, device="cpu")
    ionic, neutral = (
        Crystal.from_wyckoff(225, [("Mg2+", "4a"), (o, "4b")], a=4.21)
        for o in ("O2-", "O")
    )
    x_ionic, x_neutral = sim.transform([ionic, neutral])
    assert np.abs(x_ionic - x_neutral).max() > 0.01
    np.testing.assert_allclose(
        x_ionic, PowderSimulator(device="cpu").transform([ionic])[0], atol=1e-4
    )


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_a_huge_cell_is_one_clear_error_before_any_allocation(backend):
    # a 400 Å cell with Cu Kα up to 90° has 2e8 hkl in its box: tens of GB,
    # allocated until MemoryError
    if backend == "torch":
        pytest.importorskip("torch")
    huge = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=400.0, name="big")
    sim = PowderSimulator(backend=backend, device="cpu")
    match = (
        r"crystal 1 \('big'\): its cell \(a=400 b=400 c=400 Å, alpha=90 beta=90 "
        r"gamma=90°\) would need 200,157,776 reflections \(hkl up to ±368 ±368 "
        r"±368, d down to 1.085 Å\) where one crystal may have 20,000,000 .* "
        r"smaller 2θ range .* longer wavelength"
    )
    with pytest.raises(ValueError, match=match):
        sim.transform([SI, huge])
    if backend == "numpy":
        with pytest.raises(ValueError, match=r"crystal 0 \('big'\): its cell"):
            sim.peaks([huge])
    # the same cell over a range that needs fewer reflections is simulated
    small = PowderSimulator(backend=backend, device="cpu", two_theta_range=(1, 10))
    assert small.transform([huge]).max() == pytest.approx(1.0)


def _stand_in_warnings(record):
    return [str(w.message) for w in record if "form factor table" in str(w.message)]


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_ions_without_a_form_factor_table_are_said_once_per_call(backend, tmp_path):
    # S2- and Te2- have no X-ray form factor table: they were simulated as S
    # and Te without a word, from every source (the CIF reader said it once,
    # then no more)
    import warnings

    from pymatgen.core import Lattice, Species, Structure

    if backend == "torch":
        pytest.importorskip("torch")
    sim = PowderSimulator(backend=backend, device="cpu")
    sites = [("Zn2+", "4a"), ("S2-", "4c")]
    zns = Crystal.from_wyckoff(216, sites, a=5.41, name="ZnS")
    neutral = Crystal.from_wyckoff(216, [("Zn2+", "4a"), ("S", "4c")], a=5.41)
    cif = tmp_path / "zns.cif"
    cif.write_text(zns.to_cif())
    sources = {
        "wyckoff": zns,
        "constructor": Crystal(zns.lattice, zns.species, zns.frac_coords),
        "cif": Crystal.from_cif(cif),
        "pymatgen": Crystal.from_pymatgen(
            Structure(
                Lattice(zns.lattice),
                [Species("Zn", 2)] * 4 + [Species("S", -2)] * 4,
                zns.frac_coords,
            )
        ),
    }
    expected = "no X-ray form factor table for the ion S2-.* neutral atom's .*S2- as S"
    for source, crystal in sources.items():
        assert "S2-" in crystal.species, source
        with pytest.warns(UserWarning, match=expected) as record:
            X = sim.transform([crystal] * 50)
        assert len(_stand_in_warnings(record)) == 1, source  # not one per pattern
        assert record[0].filename == __file__  # the caller's line
        np.testing.assert_allclose(X[0], sim.transform([neutral])[0], atol=1e-6)
    # several ions: one warning naming each with its atom
    cdte = Crystal.from_wyckoff(216, [("Cd2+", "4a"), ("Te2-", "4c")], a=6.48)
    with pytest.warns(UserWarning) as record:
        sim.transform([zns, cdte] * 20)
    (message,) = _stand_in_warnings(record)
    assert "the ions S2-, Te2-;" in message and "(S2- as S, Te2- as Te)" in message
    # ions with a table of their own (O2-'s "2mdot", "Fe+3" as CIFs write it)
    # and neutrons (scattering lengths are the element's) say nothing
    mgo = Crystal.from_wyckoff(225, [("Mg2+", "4a"), ("O2-", "4b")], a=4.21)
    fe = Crystal(4.0 * np.eye(3), ["Fe+3"], [[0, 0, 0]])
    neutron = PowderSimulator(
        radiation="neutron", wavelength=1.5, backend=backend, device="cpu"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim.transform([mgo, fe])
        neutron.transform([zns])


def test_ion_stand_ins_are_said_by_peaks_transform_varied_and_workers():
    zns = Crystal.from_wyckoff(216, [("Zn2+", "4a"), ("S2-", "4c")], a=5.41)
    calls = {
        "peaks": lambda: PowderSimulator().peaks([zns] * 3),
        "transform_varied": lambda: PowderSimulator().transform_varied(
            [zns] * 3, [{}] * 3
        ),
        "n_jobs": lambda: PowderSimulator(n_jobs=2).transform([zns] * 3),
    }
    for name, call in calls.items():
        with pytest.warns(UserWarning, match="S2- as S") as record:
            call()
        assert len(_stand_in_warnings(record)) == 1, name


@pytest.mark.parametrize(
    "params",
    [
        dict(radiation=0.2, two_theta_range=(5, 60)),  # s up to 2.5 Å⁻¹
        dict(radiation="xray", wavelength=0.2, q_range=(1, 30), q_step=0.01),
        dict(radiation=0.2, two_theta_range=(5, 60), backend="torch"),
    ],
)
def test_grids_beyond_the_form_factor_fits_are_said(params):
    """The four-Gaussian f0 fits hold to sin θ/λ = 2 Å⁻¹; beyond it they level
    off (Si: 1.14 electrons at 4 Å⁻¹ against 0.56), which short wavelengths
    reach without a word."""
    from skxrd.simulation._scattering import xray_form_factor

    assert xray_form_factor("Si", 4.0) == pytest.approx(1.14, abs=0.01)
    sim = PowderSimulator(**params)
    for call in (sim.transform, sim.peaks):
        with pytest.warns(UserWarning, match=r"sin θ/λ = 2\.\d+ Å⁻¹ \(0\.2 Å") as rec:
            call([SI])
        assert len([w for w in rec if "sin θ/λ" in str(w.message)]) == 1
        assert "lines above 2θ = 47.16°" in str(rec[0].message)
        assert rec[0].filename == __file__
    sim = PowderSimulator(**params)
    with pytest.warns(UserWarning, match="sin θ/λ"):
        sim.transform_varied([SI], [{}])


@pytest.mark.parametrize(
    "params",
    [
        dict(radiation="AgKa", two_theta_range=(5, 180)),  # 1.79 Å⁻¹ at most
        dict(radiation=0.5, two_theta_range=(5, 180)),  # 2 Å⁻¹ exactly
        dict(radiation=0.2, two_theta_range=(5, 47)),
        dict(radiation="neutron", wavelength=0.2, two_theta_range=(5, 60)),
    ],
)
def test_grids_within_the_form_factor_fits_say_nothing(params):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PowderSimulator(**params).transform([SI])


def test_max_reflections_is_a_parameter_of_both_backends():
    # the limit was a module constant: a 70 Å cell with Ag Kα up to 150° 2θ
    # needs 56 million hkl and was refused whatever the memory
    from skxrd.simulation._peaks import MAX_REFLECTIONS, check_hkl_box

    assert PowderSimulator().max_reflections == MAX_REFLECTIONS == 20_000_000
    big = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=70.0, name="big")
    sim = PowderSimulator(radiation="AgKa", two_theta_range=(5, 150))
    with pytest.raises(
        ValueError,
        match=r"crystal 0 \('big'\): .* would need 56,\d{3},\d{3} reflections .* "
        r"where one crystal may have 20,000,000 .* raise max_reflections "
        r"\(PowderSimulator\(max_reflections=56\d{6}\)\)",
    ):
        sim.peaks([big])
    # the check that a larger limit lets through (not run: 11 GB of memory)
    check_hkl_box((241, 241, 241), 3.45, big, max_reflections=60_000_000)
    with pytest.raises(ValueError, match="may have 20,000,000"):
        check_hkl_box((241, 241, 241), 3.45, big)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_max_reflections_reaches_the_backends(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    # Si with Cu Kα up to 90° (and the profiles' margin): hkl up to ±5, a
    # half box of 665; a 2 Å cell needs 13
    small = PowderSimulator(backend=backend, device="cpu", max_reflections=600)
    with pytest.raises(
        ValueError,
        match=r"crystal 1 \('Si'\): .* would need 665 reflections .* may have 600 .*"
        r"raise max_reflections \(PowderSimulator\(max_reflections=665\)\)",
    ):
        small.transform([NACL.replace(lattice=2.0 * np.eye(3)), SI])
    enough = PowderSimulator(backend=backend, device="cpu", max_reflections=665)
    np.testing.assert_array_equal(
        enough.transform([SI]),
        PowderSimulator(backend=backend, device="cpu").transform([SI]),
    )
    if backend == "numpy":
        with pytest.raises(ValueError, match="may have 600"):
            small.transform_varied([SI], [{}])
        # peak lists stop at the grid's 90°: hkl up to ±4, 364
        with pytest.raises(ValueError, match="would need 364 .* may have 363"):
            PowderSimulator(max_reflections=363).peaks([SI])
        assert len(small.peaks([SI])[0]) == len(PowderSimulator().peaks([SI])[0])


@pytest.mark.parametrize("bad", [0, -5, 2.5e7, True, "many", None])
def test_max_reflections_must_be_a_positive_integer(bad):
    sim = PowderSimulator(max_reflections=bad)  # checked in fit and transform
    with pytest.raises(ValueError, match="max_reflections must be"):
        sim.fit()
    with pytest.raises(ValueError, match="max_reflections must be"):
        sim.transform([SI])
    assert PowderSimulator(max_reflections=np.int64(10**8)).fit().radiation_


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_only_forbidden_reflections_give_zeros(backend):
    # corundum below 20°: only the forbidden (003)-type positions; rounding noise
    # must not be normalized into a pattern
    if backend == "torch":
        pytest.importorskip("torch")
    sim = PowderSimulator(two_theta_range=(5, 20), backend=backend, device="cpu")
    assert not sim.transform([load_example_crystal("Al2O3")]).any()


def test_parallel_and_repeatable():
    crystals = [load_example_crystal(n) for n in ["Si", "NaCl", "Al2O3", "ZnO"]] * 3
    a = PowderSimulator().transform(crystals)
    b = PowderSimulator(n_jobs=2).transform(crystals)
    assert np.array_equal(a, b)
    assert np.array_equal(a, PowderSimulator().transform(crystals))
    with joblib.parallel_config(backend="threading"):
        c = PowderSimulator(n_jobs=2).transform(crystals)
    assert np.array_equal(a, c)


def test_inputs_from_pymatgen_and_cif(tmp_path):
    pytest.importorskip("pymatgen")
    path = tmp_path / "si.cif"
    SI.to_cif(path)
    X = PowderSimulator().transform([SI, SI.to_pymatgen(), str(path)])
    assert np.allclose(X[0], X[1], atol=1e-5) and np.allclose(X[0], X[2], atol=1e-5)


def test_crystal_errors_name_the_crystal():
    bad = Crystal(4.0 * np.eye(3), ["Es"], [[0, 0, 0]], name="einsteinium")
    with pytest.raises(ValueError, match=r"crystal 1 \('einsteinium'\).*X-ray form"):
        PowderSimulator().transform([SI, bad])
    polonium = Crystal(4.0 * np.eye(3), ["Po"], [[0, 0, 0]])
    with pytest.raises(ValueError, match=r"crystal 2: .*neutron scattering length"):
        PowderSimulator(radiation="neutron", wavelength=1.5).transform(
            [SI, SI, polonium]
        )
    with pytest.raises(TypeError, match="crystal 0"):
        PowderSimulator().transform([np.zeros(3)])


def test_converted_inputs_errors_name_the_crystal():
    ase = pytest.importorskip("ase")
    nan_atoms = ase.Atoms(
        "Si2",
        scaled_positions=[[0, 0, 0], [np.nan, 0, 0]],
        cell=4 * np.eye(3),
        pbc=True,
    )
    with pytest.raises(ValueError, match=r"crystal 1 \('Si2'\): atom 1 has NaN"):
        PowderSimulator().transform([SI, nan_atoms])
    flat = ase.Atoms(
        "Si", positions=[[0, 0, 0]], cell=[[4, 0, 0], [4, 0, 0], [0, 0, 4]], pbc=True
    )
    with pytest.raises(ValueError, match="crystal 1: ASE Atoms cell is degenerate"):
        PowderSimulator().transform([SI, flat])
    empty = ase.Atoms(cell=4 * np.eye(3), pbc=True)
    with pytest.raises(ValueError, match="crystal 0: has no atoms"):
        PowderSimulator().transform([empty])


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(radiation="CuKb"), "unknown radiation"),
        (dict(radiation="CuKa", wavelength=1.5), "fixes the wavelength"),
        (dict(radiation=-1.0), "not a positive wavelength"),
        (dict(two_theta_range=(90, 5)), "start < stop"),
        (dict(two_theta_range=(5, 200)), "must lie in"),
        (dict(two_theta_step=0), "two_theta_step"),
        (dict(q_range=(1, 5)), "needs q_step"),
        (dict(q_range=(1, 50), q_step=0.01), "must lie in"),
        (dict(profile="voigt"), "profile must be"),
        (dict(eta=2), "eta must be"),
        (dict(eta="a"), "eta must be a number"),
        (dict(caglioti_uvw=(0, -1, 0)), "negative or zero"),
        (dict(caglioti_uvw=(1, 2)), "3 finite numbers"),
        (dict(crystallite_size=-5), "crystallite_size"),
        (dict(normalize="l2"), "normalize"),
        (dict(backend="jax"), "backend"),
        (dict(preferred_orientation=(0, 0, 0)), "non-zero hkl"),
        (dict(anomalous=True, radiation="neutron", wavelength=1.5), "anomalous"),
        (dict(overall_b=-1), "overall_b"),
        (dict(overall_b=np.inf), "overall_b must be finite"),
        # a negative Lorentzian width turned the profile negative
        (dict(lorentzian_xy=(0, -0.01)), "lorentzian_xy must be finite and >= 0"),
        (dict(batch_size=0), "batch_size"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        PowderSimulator(**params).transform([SI])


@pytest.mark.parametrize(
    "params, message",
    [
        # bool("no") is True: these turned the option on
        (dict(anomalous="no"), "anomalous must be True or False, got 'no'"),
        (dict(debye_waller="False"), "debye_waller must be True or False"),
        (
            dict(lorentz_polarization="off"),
            "lorentz_polarization must be True or False",
        ),
        # True was read as 1 Å² and 1°
        (dict(overall_b=True), "overall_b must be a number, got True"),
        (dict(monochromator_angle=True), "monochromator_angle must be a number"),
        (dict(monochromator_angle="26.6"), "monochromator_angle must be a number"),
        (dict(monochromator_angle=180), "monochromator_angle must be < 180"),
        # joblib's TypeError and ValueError named neither
        (dict(n_jobs="2"), "n_jobs must be an integer, got '2'"),
        (dict(n_jobs=1.5), "n_jobs must be an integer"),
        (dict(n_jobs=0), "n_jobs must be a non-zero integer"),
    ],
)
def test_flags_and_numbers_are_checked(params, message):
    with pytest.raises(ValueError, match=message):
        PowderSimulator(**params).transform([SI])


def test_numpy_flags_and_numbers_are_accepted():
    sim = PowderSimulator(
        anomalous=np.False_,
        debye_waller=np.True_,
        overall_b=np.float32(0.5),
        monochromator_angle=np.int64(26),
        n_jobs=np.int64(1),
    )
    expected = PowderSimulator(overall_b=0.5, monochromator_angle=26.0)
    np.testing.assert_array_equal(sim.transform([SI]), expected.transform([SI]))


def test_radiation_names():
    assert get_radiation("Cu Kα").wavelengths == (1.5405929, 1.5444274)
    assert get_radiation("mo-ka1").name == "MoKa1"
    assert get_radiation("xray", wavelength=0.5).kind == "xray"
    with pytest.raises(ValueError):
        get_radiation(True)


@pytest.mark.parametrize("flag", [True, np.True_])
def test_a_bool_is_not_a_wavelength(flag):
    """wavelength=True was read as 1 Å (radiation=True was already refused)."""
    with pytest.raises(ValueError, match="wavelength .*True_? is not a number"):
        get_radiation("neutron", wavelength=flag)
    with pytest.raises(ValueError, match="wavelength .*True_? is not a number"):
        PowderSimulator(radiation="xray", wavelength=flag).fit()


def test_scattering_tables_are_thread_safe(monkeypatch):
    """xrayutilities' shared element database must not mix elements up when
    threads (dask threads, joblib's threading backend) fill the caches."""
    from concurrent.futures import ThreadPoolExecutor

    from skxrd.simulation import _scattering

    elements = ["H", "C", "N", "O", "Na", "Si", "S", "Cl", "Ca", "Ti", "Fe", "Cu"]
    elements += ["Zn", "Sr", "Ba", "La", "Pb", "U", "Fe3+", "O2-"]
    serial = {e: _scattering.form_factor_coefficients(e).copy() for e in elements}
    anomalous = {e: _scattering.anomalous_terms(e, 8.048) for e in elements[:8]}
    for _ in range(3):
        _scattering.form_factor_coefficients.cache_clear()
        _scattering.anomalous_terms.cache_clear()
        with ThreadPoolExecutor(8) as pool:
            threaded = dict(
                zip(elements, pool.map(_scattering.form_factor_coefficients, elements))
            )
            threaded_f = dict(
                zip(
                    elements[:8],
                    pool.map(_scattering.anomalous_terms, elements[:8], [8.048] * 8),
                )
            )
        for e in elements:
            np.testing.assert_array_equal(threaded[e], serial[e], err_msg=e)
        assert threaded_f == anomalous
    # the cached arrays are shared: read-only
    with pytest.raises(ValueError, match="read-only"):
        _scattering.form_factor_coefficients("Si")[0] = 0.0


def test_threaded_simulation_equals_serial():
    """Patterns simulated on threads (cold caches) are those of one process."""
    from skxrd.datasets import make_random_crystals
    from skxrd.simulation import _scattering

    crystals = make_random_crystals(
        24, space_groups=[14, 62, 225], n_atoms=(2, 8), random_state=0
    )
    sim = PowderSimulator(two_theta_range=(10, 70), two_theta_step=0.1)
    serial = sim.transform(crystals)
    _scattering.form_factor_coefficients.cache_clear()
    with joblib.parallel_config(backend="threading"):
        threaded = clone(sim).set_params(n_jobs=4).transform(crystals)
    np.testing.assert_array_equal(threaded, serial)


def test_atom_grouping_is_shared_but_occupancies_are_per_crystal():
    # crystals with the same species in the same order share one cached
    # grouping; a partial occupancy must still scale its own atoms only
    from skxrd.simulation._peaks import _grouping, reflections
    from skxrd.utils._radiation import get_radiation

    nacl = load_example_crystal("NaCl")
    half = Crystal(
        nacl.lattice,
        nacl.species,
        nacl.frac_coords,
        occupancies=np.where(np.array(nacl.species) == "Cl", 0.5, 1.0),
    )
    radiation = get_radiation("CuKa1")
    full_before = reflections(nacl, radiation, (0.05, 1.0))[3]
    half_lines = reflections(half, radiation, (0.05, 1.0))[3]
    full_after = reflections(nacl, radiation, (0.05, 1.0))[3]
    np.testing.assert_array_equal(full_before, full_after)
    # (200): F = 4 (f_Na + f_Cl) against 4 (f_Na + f_Cl / 2): weaker, not absent
    assert 0 < half_lines[1] < full_before[1]
    one_hot, unique = _grouping(tuple(nacl.species))
    assert unique == ("Na", "Cl") and not one_hot.flags.writeable
    np.testing.assert_array_equal(one_hot.sum(axis=1), 1.0)


# International Tables Vol. C, Table 4.2.2.1 / NIST X-ray transition energies
# (direct experimental; Cr to Cu from Hölzer et al. 1997): Kα1, Kα2, Kβ1 in Å
HOLZER = {
    "Cu": (1.5405929, 1.5444274, 1.3922340),
    "Mo": (0.70931715, 0.713607, 0.632303),
    "Co": (1.7889960, 1.7928350, 1.6208260),
    "Fe": (1.9360410, 1.9399730, 1.7566040),
    "Cr": (2.2897260, 2.2936510, 2.0848810),
    "Ag": (0.55942178, 0.5638131, 0.4970817),
}


@pytest.mark.parametrize("anode", sorted(HOLZER))
def test_named_lines_are_the_international_tables_wavelengths(anode):
    # the table had Bearden's 1967 values (Cu Kα1 1.5405929, Co Kβ 1.620790):
    # up to 30 ppm off, while it claimed International Tables
    a1, a2, b1 = HOLZER[anode]
    doublet = get_radiation(f"{anode}Ka")
    np.testing.assert_allclose(doublet.wavelengths, (a1, a2), rtol=0, atol=5e-8)
    assert doublet.weights == (1.0, 0.5)
    assert get_radiation(f"{anode}Ka1").wavelengths == doublet.wavelengths[:1]
    assert get_radiation(f"{anode}Ka2").wavelengths == doublet.wavelengths[1:]
    for name in (f"{anode}Ka", f"{anode}Ka1", f"{anode}Ka2"):
        assert get_radiation(name).kbeta == pytest.approx(b1, abs=5e-8)


def test_named_lines_agree_with_xrayutilities():
    xu = pytest.importorskip("xrayutilities")
    en2lam = xu.utilities.en2lam
    # xrayutilities quotes International Tables for these two
    for name in ("CuKa1", "MoKa1"):
        expected = en2lam(xu.utilities.energies[name])
        assert get_radiation(name).wavelength == pytest.approx(expected, abs=1e-6)


def test_radiation_spellings_and_bare_anodes():
    for name in ("CuKα₁", "Cu Kα1", "cu_ka1", "CUKALPHA1"):
        assert get_radiation(name).name == "CuKa1"
    assert get_radiation("MoKα").name == "MoKa"
    # a bare anode is refused with the lines it could mean
    with pytest.raises(ValueError, match=r"'Cu' names an anode.*CuKa for Kα1 \+ Kα2"):
        get_radiation("Cu")
    with pytest.raises(ValueError, match="unknown radiation 'CuKb'"):
        get_radiation("CuKb")


@pytest.mark.parametrize("line", ["CuKa1", "MoKa1", "CoKa1"])
def test_anomalous_terms_are_xrayutilities_at_the_named_lines(line):
    xu = pytest.importorskip("xrayutilities")
    from skxrd.simulation import anomalous_terms

    energy = get_radiation(line).energy_kev
    for element in ("Fe", "Cu", "Mo", "O"):
        atom = getattr(xu.materials.elements, element)
        expected = (atom.f1(energy * 1000), atom.f2(energy * 1000))
        assert anomalous_terms(element, energy) == pytest.approx(expected, abs=1e-9)
    # Fe at Cu Kα lies just above its K edge (7.11 keV): large f''
    if line == "CuKa1":
        f1, f2 = anomalous_terms("Fe", energy)
        assert f1 < -1 and f2 > 3


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_whole_cell_shifts_of_atoms_change_nothing(backend):
    # coordinates are kept as given; F is periodic in them, float32 phases of
    # the unwrapped values were not: at +100 the forbidden (200) of Si showed
    far = SI.replace(frac_coords=SI.frac_coords + [100, -300, 1000])
    sim = PowderSimulator(radiation="CuKa1", two_theta_range=(5, 150), backend=backend)
    np.testing.assert_allclose(sim.transform([far]), sim.transform([SI]), atol=1e-6)
    if backend == "numpy":
        near, shifted = sim.peaks([SI, far])
        np.testing.assert_array_equal(shifted.hkl, near.hkl)
        np.testing.assert_allclose(shifted.intensity, near.intensity, rtol=1e-6)


def test_neutron_lengths_of_all_atoms_are_complex_beside_an_absorber():
    # CsCl-type GdTl: |F|² = |b_Gd ± b_Tl|² per reflection. Tl's imaginary
    # length (-0.001 fm) was dropped as negligible, but its cross term with
    # Gd's (-13.8 fm) moved every line by 6e-5 of itself
    from skxrd.simulation import neutron_scattering_length

    gdtl = Crystal(3.7 * np.eye(3), ["Gd", "Tl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    sim = PowderSimulator(radiation="neutron", wavelength=1.54)
    peaks = sim.peaks([gdtl])[0]
    b_gd = neutron_scattering_length("Gd", 1.54)
    b_tl = neutron_scattering_length("Tl", 1.54)
    assert abs(b_tl.imag) > 1e-4
    even = peaks.hkl.sum(1) % 2 == 0
    expected = np.where(even, abs(b_gd + b_tl) ** 2, abs(b_gd - b_tl) ** 2)
    np.testing.assert_allclose(
        peaks.f_squared / peaks.multiplicity, expected, rtol=1e-7
    )
    numpy_, torch_ = (
        PowderSimulator(radiation="neutron", wavelength=1.54, backend=k).transform(
            [gdtl]
        )
        for k in ("numpy", "torch")
    )
    np.testing.assert_allclose(numpy_, torch_, atol=1e-6)


def test_a_line_at_a_range_limit_is_listed():
    # the limits are inclusive; the 1/d screen before the 2θ test dropped a
    # line at a limit's very 2θ (Si 331 at 76.37...°, 511 at 94.95...°)
    sim = PowderSimulator(radiation="CuKa1", two_theta_range=(5, 179))
    all_lines = sim.peaks([SI])[0]
    for hkl, tt in zip(all_lines.hkl.tolist(), all_lines.two_theta.tolist()):
        for limits in ((tt, tt + 5), (tt - 5, tt)):
            if limits[0] < 0 or limits[1] > 180:
                continue
            sim = PowderSimulator(radiation="CuKa1", two_theta_range=limits)
            listed = sim.peaks([SI])[0].hkl.tolist()
            assert hkl in listed, (hkl, limits)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_patterns_do_not_depend_on_how_the_crystal_is_written(backend):
    # the same structure written another way: shifted origin, other atom
    # order, a 2x1x1 supercell, one atom split into two half atoms
    rng = np.random.default_rng(0)
    c = LICOO2.replace(
        b_iso=rng.uniform(0.2, 2.0, LICOO2.n_atoms),
        occupancies=rng.uniform(0.5, 1.0, LICOO2.n_atoms),
    )
    perm = rng.permutation(c.n_atoms)
    split = c.replace(
        species=[*c.species, c.species[0]],
        frac_coords=np.vstack([c.frac_coords, c.frac_coords[:1]]),
        occupancies=np.r_[
            c.occupancies[0] / 2, c.occupancies[1:], c.occupancies[0] / 2
        ],
        b_iso=np.r_[c.b_iso, c.b_iso[0]],
        labels=None,
    )
    others = [
        c.replace(frac_coords=c.frac_coords + [0.31, -0.27, 0.55]),
        c.replace(
            species=[c.species[i] for i in perm],
            frac_coords=c.frac_coords[perm],
            occupancies=c.occupancies[perm],
            b_iso=c.b_iso[perm],
            labels=None,
        ),
        c.supercell((2, 1, 1)),
        split,
    ]
    for radiation in ("CuKa", "neutron"):
        sim = PowderSimulator(
            radiation=radiation,
            wavelength=1.54 if radiation == "neutron" else None,
            two_theta_range=(10, 120),
            backend=backend,
        )
        X = sim.transform([c, *others])
        np.testing.assert_allclose(X[1:], np.repeat(X[:1], 4, 0), atol=2e-6)


def test_render_refuses_peak_lists_of_the_other_radiation_kind():
    # a neutron peak list rendered by an X-ray simulator at the same wavelength
    # got X-ray polarization on neutron |F|² (35 % of the maximum off)
    xray = PowderSimulator(radiation="xray", wavelength=1.5)
    neutron = PowderSimulator(radiation="neutron", wavelength=1.5)
    with pytest.raises(ValueError, match="peak list 0 was computed for neutron"):
        xray.render(neutron.peaks([NACL]))
    with pytest.raises(ValueError, match="peak list 0 was computed for xray"):
        neutron.render(xray.peaks([NACL]))
    # same kind: the same answer as transform
    np.testing.assert_allclose(
        neutron.render(neutron.peaks([NACL])), neutron.transform([NACL]), atol=1e-6
    )


def test_render_refuses_a_grid_beyond_the_listed_range():
    peaks = PowderSimulator(radiation="CuKa1", two_theta_range=(5, 60)).peaks([SI])
    assert peaks[0].two_theta_limits == (5.0, 60.0)
    with pytest.raises(ValueError, match="lists lines for 2θ 5 to 60°"):
        PowderSimulator(radiation="CuKa1", two_theta_range=(5, 120)).render(peaks)
    # a narrower grid, the Kα2 doublet and other widths are fine
    inner = PowderSimulator(radiation="CuKa", two_theta_range=(20, 50))
    assert inner.render(peaks).shape == (1, 1500)


@pytest.mark.parametrize(
    "setting",
    [
        {"anomalous": True},
        {"debye_waller": False},
        {"preferred_orientation": (1, 1, 1), "march_r": 0.5},
    ],
)
def test_render_refuses_other_structure_factor_settings(setting):
    # these are in f_squared: the renderer's own were silently ignored
    sim = PowderSimulator(radiation="CuKa1")
    other = PowderSimulator(radiation="CuKa1", **setting)
    crystal = LICOO2
    with pytest.raises(ValueError, match="part of f_squared"):
        other.render(sim.peaks([crystal]))
    # with the same settings, render agrees with transform
    np.testing.assert_allclose(
        other.render(other.peaks([crystal])), other.transform([crystal]), atol=2e-3
    )
    # texture without effect (march_r=1) is no texture
    PowderSimulator(radiation="CuKa1", preferred_orientation=(1, 1, 1)).render(
        sim.peaks([crystal])
    )


def test_render_keeps_old_and_hand_made_peak_lists_working():
    # peak lists without the records (hand-made, pickled before) are checked
    # for the wavelength only; the renderer's LP settings apply
    sim = PowderSimulator(radiation="CuKa1")
    pl = sim.peaks([SI])[0]
    bare = type(pl)(
        pl.d,
        pl.hkl,
        pl.multiplicity,
        pl.f_squared,
        pl.two_theta,
        pl.intensity,
        pl.wavelength,
    )
    assert bare.radiation_kind is None and bare.structure_settings is None
    np.testing.assert_array_equal(sim.render([bare]), sim.render([pl]))
    state = dict(vars(pl))
    for key in ("radiation_kind", "two_theta_limits", "structure_settings"):
        del state[key]
    old = object.__new__(type(pl))
    old.__dict__.update(state)  # as unpickling an older PeakList does
    np.testing.assert_array_equal(sim.render([old]), sim.render([pl]))
    assert pickle.loads(pickle.dumps(pl)).radiation_kind == "xray"
    mono = PowderSimulator(radiation="CuKa1", monochromator_angle=26.6)
    np.testing.assert_allclose(mono.render([pl]), mono.transform([SI]), atol=1e-6)
    with pytest.raises(TypeError, match="peak list 0 must be a PeakList"):
        sim.render([pl.f_squared])


# ------------------------------------------------------------------ Kβ lines
CU_KBETA = 1.392234  # Hölzer et al. (1997), as Radiation("CuKa").kbeta


def _lp(two_theta_deg):
    th = np.radians(np.asarray(two_theta_deg) / 2)
    return (1 + np.cos(2 * th) ** 2) / (np.sin(th) ** 2 * np.cos(th)) / 2


@pytest.mark.parametrize("radiation", ["CuKa1", "CuKa"])
def test_kbeta_line_of_nacl_200_at_its_angle_and_ratio(radiation):
    # a Ni-filtered Cu tube: NaCl 200 (d = 2.82 Å) also at the Kβ1 angle
    plain = PowderSimulator(radiation=radiation, normalize=None)
    sim = PowderSimulator(radiation=radiation, kbeta=0.02, normalize=None)
    peaks = sim.peaks([NACL])[0]
    beta = peaks.is_kbeta
    assert beta is not None and beta.any() and peaks.kbeta == 0.02
    alpha_rows = np.flatnonzero(~beta)
    # (the wider search for the Kβ lines sums merged lines in another order)
    np.testing.assert_allclose(
        peaks.d[alpha_rows], plain.peaks([NACL])[0].d, rtol=1e-14
    )
    (a200,) = [i for i in alpha_rows if tuple(peaks.hkl[i]) == (2, 0, 0)]
    (b200,) = [i for i in np.flatnonzero(beta) if tuple(peaks.hkl[i]) == (2, 0, 0)]
    expected_tt = two_theta_of(5.64 / 2, CU_KBETA)
    assert abs(expected_tt - 28.58) < 0.005
    assert peaks.two_theta[b200] == pytest.approx(expected_tt, abs=1e-9)
    assert (
        peaks.d[b200] == peaks.d[a200]
        and peaks.f_squared[b200] == peaks.f_squared[a200]
    )
    ratio = peaks.intensity[b200] / peaks.intensity[a200]
    expected = 0.02 * _lp(expected_tt) / _lp(peaks.two_theta[a200])
    assert ratio == pytest.approx(expected, rel=1e-9)
    assert 0.024 < ratio < 0.026  # the Kβ line's larger LP factor
    # the rendered pattern: the added line sits there with that area
    tt = sim.two_theta
    added = sim.transform([NACL])[0] - plain.transform([NACL])[0]
    assert abs(tt[added.argmax()] - expected_tt) <= 0.01
    near = np.abs(tt - expected_tt) < 1.0
    area = added[near].sum() * sim.two_theta_step
    assert area == pytest.approx(peaks.intensity[b200], rel=0.02)
    assert "Kβ" in peaks.to_table()


def test_kbeta_lines_of_other_anodes_sit_at_their_kbeta1_wavelength():
    for name, lam in [("MoKa1", 0.632303), ("CoKa1", 1.620826)]:
        sim = PowderSimulator(radiation=name, kbeta=0.05, two_theta_range=(5, 120))
        peaks = sim.peaks([SI])[0]
        rows = np.flatnonzero(peaks.is_kbeta)
        assert len(rows) > 3
        expected = [two_theta_of(d, lam) for d in peaks.d[rows]]
        np.testing.assert_allclose(peaks.two_theta[rows], expected, atol=1e-9)


def test_kbeta_defaults_leave_everything_as_it_was():
    # kbeta=0 and polarization=None are the old simulator, bit for bit
    for backend in ("numpy", "torch"):
        kw = {"backend": backend, "device": "cpu"}
        old = PowderSimulator(**kw).transform([SI, NACL, LICOO2])
        new = PowderSimulator(kbeta=0.0, polarization=None, **kw).transform(
            [SI, NACL, LICOO2]
        )
        assert old.tobytes() == new.tobytes()
    a = PowderSimulator().peaks([NACL])[0]
    b = PowderSimulator(kbeta=0, polarization=None).peaks([NACL])[0]
    assert b.is_kbeta is None and b.polarization is None
    for field in ("d", "two_theta", "intensity", "f_squared", "hkl"):
        assert getattr(a, field).tobytes() == getattr(b, field).tobytes()


def test_kbeta_peak_lists_render_their_own_lines_once():
    sim = PowderSimulator(kbeta=0.03)
    peaks = sim.peaks([SI, LICOO2])
    np.testing.assert_allclose(
        sim.render(peaks), sim.transform([SI, LICOO2]), atol=2e-3
    )
    # Si 511/333: Kα1 at 94.95°, beyond the range; its Kβ line at 83.5° is in
    # the pattern, and rendered from the peak list too
    (row,) = np.flatnonzero(np.isclose(peaks[0].two_theta, 83.5, atol=0.1))
    assert peaks[0].is_kbeta[row]
    # a simulator without Kβ renders each reflection once, at its own lines
    plain = PowderSimulator()
    np.testing.assert_allclose(
        plain.render(peaks), plain.transform([SI, LICOO2]), atol=2e-3
    )
    # peak lists without Kβ lines lack the reflections just beyond the range
    with pytest.raises(ValueError, match="peak list 0 was listed without Kβ"):
        sim.render(plain.peaks([SI]))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(radiation=1.5406, kbeta=0.02), "single-wavelength beam"),
        (dict(radiation="xray", wavelength=1.5406, kbeta=0.02), "no Kβ line"),
        (dict(radiation="neutron", wavelength=1.54, kbeta=0.02), "neutrons"),
        (dict(kbeta=-0.01), "kbeta must be >= 0"),
        (dict(kbeta=1.5), "kbeta must be <= 1"),
        (dict(kbeta=True), "kbeta must be a number"),
        (dict(kbeta="0.02"), "kbeta must be a number"),
        (dict(kbeta=float("nan")), "kbeta must be finite"),
    ],
)
def test_kbeta_is_refused_where_it_has_no_meaning(params, match):
    with pytest.raises(ValueError, match=match):
        PowderSimulator(**params).transform([SI])
    # kbeta=0 is the plain beam for any radiation
    PowderSimulator(**{**params, "kbeta": 0.0}).fit()


# ------------------------------------------------------- polarized beams
# primitive cubic, a = 2 λ(Cu Kα1): its 220 line lies at 2θ = 90° exactly
CUBE = Crystal.from_wyckoff(221, [("Cu", "1a")], a=2 * 1.5405929)


@pytest.mark.parametrize("p, factor", [(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)])
def test_polarization_factor_at_90_degrees(p, factor):
    lorentz = PowderSimulator(
        radiation="CuKa1", lorentz_polarization=False, two_theta_range=(20, 120)
    ).peaks([CUBE])[0]
    pol = PowderSimulator(
        radiation="CuKa1", polarization=p, two_theta_range=(20, 120)
    ).peaks([CUBE])[0]
    assert pol.polarization == p
    (i220,) = np.flatnonzero((pol.hkl == (2, 2, 0)).all(1))
    assert pol.two_theta[i220] == pytest.approx(90.0, abs=1e-9)
    th = np.radians(pol.two_theta / 2)
    lorentz_factor = 1 / (np.sin(th) ** 2 * np.cos(th))
    measured = pol.intensity / (lorentz.intensity * lorentz_factor)
    assert measured[i220] == pytest.approx(factor, abs=1e-12)
    # every line: P + (1 - P) cos² 2θ
    np.testing.assert_allclose(
        measured, p + (1 - p) * np.cos(2 * th) ** 2, rtol=1e-12, atol=1e-15
    )


def test_polarization_in_rendered_patterns():
    # P = 0 (the diffraction plane in the plane of polarization) extinguishes
    # the 90° line; P = 1 keeps it at its Lorentz-factor intensity
    kw = dict(radiation="CuKa1", two_theta_range=(20, 120), normalize=None)
    tt = PowderSimulator(**kw).two_theta
    near = np.abs(tt - 90.0) < 1.0
    zero = PowderSimulator(polarization=0.0, **kw).transform([CUBE])[0]
    full = PowderSimulator(polarization=1.0, **kw).transform([CUBE])[0]
    half = PowderSimulator(polarization=0.5, **kw).transform([CUBE])[0]
    assert zero[near].max() < 1e-6 * full[near].max()
    assert half[near].sum() == pytest.approx(0.5 * full[near].sum(), rel=1e-5)


def test_half_polarization_is_the_unpolarized_beam_also_with_a_monochromator():
    for mono in (0.0, 26.6):
        a = PowderSimulator(monochromator_angle=mono).peaks([LICOO2])[0]
        b = PowderSimulator(monochromator_angle=mono, polarization=0.5).peaks([LICOO2])[
            0
        ]
        np.testing.assert_allclose(b.intensity, a.intensity, rtol=1e-12)
    # with a monochromator in the same plane: (P + (1-P) c cos²2θ) / (P + (1-P) c)
    p, mono = 0.9, 26.6
    c = math.cos(math.radians(mono)) ** 2
    pol = PowderSimulator(monochromator_angle=mono, polarization=p).peaks([SI])[0]
    plain = PowderSimulator(lorentz_polarization=False).peaks([SI])[0]
    th = np.radians(pol.two_theta / 2)
    expected = (p + (1 - p) * c * np.cos(2 * th) ** 2) / (p + (1 - p) * c)
    expected /= np.sin(th) ** 2 * np.cos(th)
    np.testing.assert_allclose(pol.intensity / plain.intensity, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(polarization=1.2), "polarization must be <= 1"),
        (dict(polarization=-0.1), "polarization must be >= 0"),
        (dict(polarization=True), "polarization must be a number"),
        (dict(polarization="0.9"), "polarization must be a number"),
        (
            dict(radiation="neutron", wavelength=1.54, polarization=0.9),
            "applies to X-rays",
        ),
        (dict(polarization=0.9, lorentz_polarization=False), "lorentz_polarization"),
        (dict(polarization=0.0, monochromator_angle=90.0), "passes no beam"),
    ],
)
def test_polarization_is_refused_where_it_has_no_meaning(params, match):
    with pytest.raises(ValueError, match=match):
        PowderSimulator(**params).transform([SI])
