"""The torch backend of PowderSimulator against the numpy backend."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skxrd import Crystal, PowderSimulator  # noqa: E402
from skxrd.simulation import _torch_backend as tb  # noqa: E402
from skxrd.simulation._peaks import g_range_for, reflections  # noqa: E402
from skxrd.simulation._simulator import line_profiles  # noqa: E402

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def _p1(n_atoms=20, seed=0):
    rng = np.random.default_rng(seed)
    elements = ["O", "Si", "Fe", "Ba", "Li", "Cl"]
    return Crystal(
        (6.1, 7.3, 8.2, 81.0, 95.0, 102.0),
        [elements[i] for i in rng.integers(len(elements), size=n_atoms)],
        rng.random((n_atoms, 3)),
        occupancies=rng.uniform(0.6, 1.0, n_atoms),
        name=f"p1-{n_atoms}",
    )


def _crystals():
    nacl = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=5.64, name="NaCl")
    si = Crystal.from_wyckoff(227, [("Si", "8a")], a=5.431, name="Si")
    rutile = Crystal.from_wyckoff(
        136,
        [("Ti", "2a"), ("O", "4f", (0.305, 0.305, 0))],
        a=4.594,
        c=2.959,
        name="rutile",
    )
    corundum = Crystal.from_wyckoff(
        167,
        [("Al", "12c", (0, 0, 0.352)), ("O", "18e", (0.306, 0, 0.25))],
        a=4.759,
        c=12.99,
        name="corundum",
    )
    # every atom its own B: one scattering group per atom
    b_iso = np.linspace(0.3, 1.8, rutile.n_atoms)
    rutile_b = Crystal(
        rutile.lattice, rutile.species, rutile.frac_coords, b_iso=b_iso, name="rutile-B"
    )
    return [nacl, si, rutile, corundum, _p1(), rutile_b]


CRYSTALS = _crystals()

SETTINGS = [
    {},
    dict(radiation="CuKa1", profile="gaussian"),
    dict(radiation="CuKa1", profile="lorentzian"),
    dict(radiation="neutron", wavelength=1.54),
    dict(q_range=(0.8, 6.0), q_step=0.004),
    dict(
        radiation="neutron",
        wavelength=1.2,
        q_range=(1.0, 8.0),
        q_step=0.01,
        profile="gaussian",
    ),
    dict(crystallite_size=15.0),
    dict(anomalous=True),
    dict(preferred_orientation=(0, 0, 1), march_r=0.6),
    dict(preferred_orientation=(1, 1, 0), march_r=1.4, profile="gaussian"),
    dict(debye_waller=False),
    dict(overall_b=1.5),
    dict(normalize="area"),
    dict(normalize=None),
    dict(monochromator_angle=26.6),
    dict(eta=0.4, lorentzian_xy=(0.02, 0.01)),
    dict(lorentz_polarization=False, radiation="CoKa"),
    dict(radiation="MoKa", two_theta_range=(5.0, 45.0), two_theta_step=0.01),
    dict(kbeta=0.03),
    dict(radiation="MoKa1", kbeta=0.2, two_theta_range=(5.0, 45.0)),
    dict(radiation="CoKa", kbeta=0.02, q_range=(0.8, 6.0), q_step=0.004),
    dict(polarization=0.95),
    dict(polarization=0.0, radiation=0.7293, two_theta_range=(5.0, 60.0)),
    dict(polarization=0.9, monochromator_angle=26.6, kbeta=0.01),
]


def _assert_close(expected, actual, tol=2e-4):
    assert actual.dtype == np.float32
    assert actual.shape == expected.shape
    scale = np.abs(expected).max(axis=1, keepdims=True)
    scale[scale == 0] = 1.0
    err = np.abs(actual - expected) / scale
    assert err.max() < tol, f"max relative deviation {err.max():.3g}"


def _both(crystals, **params):
    numpy_result = PowderSimulator(**params).transform(crystals)
    torch_result = PowderSimulator(backend="torch", device="cpu", **params).transform(
        crystals
    )
    return numpy_result, torch_result


@pytest.mark.parametrize("params", SETTINGS, ids=lambda p: ",".join(p) or "default")
def test_matches_numpy(params):
    expected, actual = _both(CRYSTALS, **params)
    assert np.all(expected.max(axis=1) > 0)
    _assert_close(expected, actual)


@pytest.mark.parametrize("prefetch", [False, True])
def test_batches_restore_order(monkeypatch, prefetch):
    monkeypatch.setitem(tb._PREFETCH, "cpu", prefetch)
    # mixed sizes in an order the size sort changes, several batches
    crystals = [
        CRYSTALS[3],
        CRYSTALS[0],
        _p1(48, seed=1),
        CRYSTALS[1],
        CRYSTALS[4],
        _p1(6, seed=2),
        CRYSTALS[2],
        CRYSTALS[5],
        CRYSTALS[0],
    ]
    order = tb._Sizes.of(crystals, 1.0).order()
    assert not np.array_equal(order, np.arange(len(crystals)))
    expected = PowderSimulator().transform(crystals)
    batched = PowderSimulator(backend="torch", device="cpu", batch_size=2)
    result = batched.transform(crystals)
    _assert_close(expected, result)
    whole = PowderSimulator(backend="torch", device="cpu", batch_size=64)
    np.testing.assert_allclose(whole.transform(crystals), result, atol=1e-6)
    np.testing.assert_allclose(result[1], result[-1], atol=1e-6)  # same crystal


def test_small_memory_budget(monkeypatch):
    # one crystal per sub-batch, reflections in blocks, profiles in many chunks
    monkeypatch.setitem(tb._BUDGET, "cpu", 512)
    monkeypatch.setitem(tb._PREFETCH, "cpu", True)
    expected, actual = _both(CRYSTALS[2:5], radiation="CuKa", eta=0.5)
    _assert_close(expected, actual)


def test_line_positions_match_numpy():
    sim = PowderSimulator(radiation="CuKa", crystallite_size=30.0)
    s = sim._settings()
    g_range = g_range_for(s.radiation, *s.two_theta_window)
    g, _, _, fsq = reflections(CRYSTALS[3], s.radiation, g_range, with_hkl=False)
    expected = line_profiles(s, g, fsq)
    actual = tb._line_profiles(torch, s, torch.tensor(g), torch.tensor(fsq))
    pos, inten, fwhm, eta, which = (a.numpy() for a in actual)
    np.testing.assert_allclose(pos, expected[0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(inten, expected[1], rtol=1e-12)
    np.testing.assert_allclose(fwhm, expected[2], rtol=1e-12)
    np.testing.assert_allclose(eta, expected[3], rtol=1e-12)
    np.testing.assert_array_equal(which, expected[4])


def test_empty_and_out_of_range():
    sim = PowderSimulator(backend="torch", device="cpu")
    assert sim.transform([]).shape == (0, 4250)
    # the first reflection of this cell lies beyond 2θ = 30°
    tiny = Crystal(2.0 * np.eye(3), ["Si"], [[0, 0, 0]])
    params = dict(two_theta_range=(5.0, 30.0))
    expected, actual = _both([tiny, CRYSTALS[3]], **params)
    assert not actual[0].any()
    _assert_close(expected, actual)


@pytest.mark.parametrize("prefetch", [False, True])
def test_error_names_crystal(monkeypatch, prefetch):
    monkeypatch.setitem(tb._PREFETCH, "cpu", prefetch)
    bad = Crystal(5.0 * np.eye(3), ["Og"], [[0, 0, 0]], name="bad")
    crystals = [CRYSTALS[0], CRYSTALS[1], bad, CRYSTALS[2]]
    with pytest.raises(ValueError) as numpy_error:
        PowderSimulator().transform(crystals)
    sim = PowderSimulator(backend="torch", device="cpu", batch_size=2)
    with pytest.raises(ValueError, match=r"crystal 2 \('bad'\)") as torch_error:
        sim.transform(crystals)
    assert str(torch_error.value) == str(numpy_error.value)


def test_device_and_batch_size_checks():
    assert tb.resolve_device("auto").type in ("cpu", "cuda")
    assert tb.resolve_device(torch.device("cpu")).type == "cpu"
    with pytest.raises(ValueError, match="'tpu7'"):
        tb.resolve_device("tpu7")
    with pytest.raises(ValueError, match="'meta'"):
        tb.resolve_device("meta")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            PowderSimulator(backend="torch", device="cuda").transform(CRYSTALS[:1])
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            PowderSimulator(backend="torch", device="cpu", batch_size=bad).transform(
                CRYSTALS[:1]
            )


def test_tf32_setting_untouched_and_verbose(capsys):
    old = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high")
    try:
        sim = PowderSimulator(backend="torch", device="cpu", verbose=True)
        expected = PowderSimulator().transform(CRYSTALS[:2])
        _assert_close(expected, sim.transform(CRYSTALS[:2]))
        assert torch.get_float32_matmul_precision() == "high"
    finally:
        torch.set_float32_matmul_precision(old)
    assert "simulating" in capsys.readouterr().err


@pytest.mark.cuda
@cuda
@pytest.mark.parametrize(
    "params",
    [
        {},
        dict(radiation="CuKa1", profile="gaussian"),
        dict(anomalous=True, normalize="area"),
        dict(radiation="neutron", wavelength=1.54),
        dict(kbeta=0.02, polarization=0.95, monochromator_angle=26.6),
    ],
)
def test_cuda_matches_numpy(params):
    expected = PowderSimulator(**params).transform(CRYSTALS)
    sim = PowderSimulator(backend="torch", device="cuda", batch_size=4, **params)
    _assert_close(expected, sim.transform(CRYSTALS))
