"""DiffractionImageSimulator: zone-axis spot patterns and diffraction fingerprints."""

from __future__ import annotations

import math

import joblib
import numpy as np
import pytest
from scipy import ndimage
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
)

from skxrd import Crystal
from skxrd.datasets import load_example_crystal, perturb_crystals
from skxrd.simulation import (
    DiffractionImageSimulator,
    neutron_scattering_length,
    xray_form_factor,
)

NACL = load_example_crystal("NaCl")
CU = load_example_crystal("Cu")  # fcc, a = 3.615
FE = load_example_crystal("Fe")  # bcc
MG = load_example_crystal("Mg")  # hcp
RUTILE = load_example_crystal("TiO2-rutile")
CENTER = 127.5  # (256 - 1) / 2


def triclinic(n_atoms=12, seed=0):
    rng = np.random.default_rng(seed)
    elements = ["O", "Si", "Fe", "Ba", "Li"]
    return Crystal(
        (5.1, 6.3, 7.2, 81.0, 95.0, 102.0),
        [elements[i] for i in rng.integers(len(elements), size=n_atoms)],
        rng.random((n_atoms, 3)),
        occupancies=rng.uniform(0.6, 1.0, n_atoms),
        b_iso=rng.uniform(0.2, 1.5, n_atoms),
        name="p1",
    )


def spot_sum(image, row, col, half=6):
    """Sum and intensity-weighted centroid of the pixels around (row, col)."""
    r0, c0 = int(round(row)), int(round(col))
    win = image[r0 - half : r0 + half + 1, c0 - half : c0 + half + 1].astype(float)
    rr, cc = np.mgrid[r0 - half : r0 + half + 1, c0 - half : c0 + half + 1]
    total = win.sum()
    if total == 0:
        return 0.0, (math.nan, math.nan)
    return total, ((win * rr).sum() / total, (win * cc).sum() / total)


# ------------------------------------------------------------------ zone axes
def test_zone_axis_shapes_and_cubic_symmetry():
    sim = DiffractionImageSimulator()
    X = sim.transform([NACL, CU])
    assert X.shape == (2, 3, 256, 256) and X.dtype == np.float32
    assert np.allclose(X.max(axis=(2, 3)), 1.0)
    for images in X:
        # cubic: the three axes look the same, each with a 4-fold axis
        assert np.array_equal(images[0], images[1])
        assert np.array_equal(images[0], images[2])
        assert np.allclose(images[2], np.rot90(images[2]), atol=1e-6)
        assert np.allclose(images[2], images[2][::-1], atol=1e-6)
    # tetragonal rutile: 4-fold along c, only 2-fold along a
    rutile = sim.transform([RUTILE])[0]
    assert np.allclose(rutile[2], np.rot90(rutile[2]), atol=1e-6)
    assert np.abs(rutile[0] - np.rot90(rutile[0])).max() > 0.1
    assert np.allclose(rutile[0], np.rot90(rutile[0], 2), atol=1e-6)
    # a and b: one pattern, turned by 90° (b, then c, is the horizontal axis)
    assert np.abs(rutile[0] - rutile[1]).max() > 0.1
    assert np.allclose(rutile[1], np.rot90(rutile[0]), atol=1e-6)


def test_hexagonal_sixfold_axis():
    sim = DiffractionImageSimulator(axes=["c", "a"], spot_sigma=2.0)
    for images in sim.transform([MG, load_example_crystal("ZnO")]):

        def turned(img, angle):
            return ndimage.rotate(img, angle, reshape=False, order=1)

        along_c = images[0]
        for angle in (60, 120):
            assert np.abs(turned(along_c, angle) - along_c).max() < 0.06
        # the test can fail: not 4-fold, and the a axis is not 6-fold
        assert np.abs(turned(along_c, 90) - along_c).max() > 0.3
        assert np.abs(turned(images[1], 60) - images[1]).max() > 0.3


def test_spot_positions_absences_and_structure_factors():
    sim = DiffractionImageSimulator(axes=["c"], normalize=False)
    px = sim.pixel_size
    assert px == pytest.approx(1.5 / 128)
    image = sim.transform([NACL])[0, 0]
    a = 5.64
    sigma2 = 2 * math.pi  # sum of a unit Gaussian spot of sigma 1 pixel

    def f_squared(h, k, scattering="xray"):
        g = math.hypot(h, k) / a
        if scattering == "neutron":
            f = neutron_scattering_length("Na") + neutron_scattering_length("Cl")
        else:
            f = xray_form_factor("Na", g / 2) + xray_form_factor("Cl", g / 2)
        return (4 * f) ** 2

    # e1 = a (columns, to the right), e2 = b (up, decreasing rows)
    for h, k in [(2, 0), (0, 2), (-2, 0), (2, 2), (4, 0), (4, 2)]:
        total, (row, col) = spot_sum(image, CENTER - k / a / px, CENTER + h / a / px)
        assert row == pytest.approx(CENTER - k / a / px, abs=0.01)
        assert col == pytest.approx(CENTER + h / a / px, abs=0.01)
        assert total == pytest.approx(sigma2 * f_squared(h, k), rel=1e-4)
    beam, _ = spot_sum(image, CENTER, CENTER)
    assert beam == pytest.approx(sigma2 * f_squared(0, 0), rel=1e-4)
    # face-centred: mixed-parity hkl are absent
    for h, k in [(1, 0), (0, 1), (1, 1), (2, 1), (3, 0)]:
        total, _ = spot_sum(image, CENTER - k / a / px, CENTER + h / a / px, half=2)
        assert total < 1e-6 * beam
    # Debye-Waller: exp(-2 B s^2) on the intensity
    hot = Crystal(NACL.lattice, NACL.species, NACL.frac_coords, b_iso=1.5)
    warm = sim.transform([hot])[0, 0]
    total, _ = spot_sum(warm, CENTER, CENTER + 4 / a / px)
    s2 = (4 / a / 2) ** 2
    assert total == pytest.approx(
        sigma2 * f_squared(4, 0) * math.exp(-2 * 1.5 * s2), rel=1e-4
    )
    neutron = DiffractionImageSimulator(
        axes=["c"], normalize=False, scattering="neutron"
    )
    total, _ = spot_sum(neutron.transform([NACL])[0, 0], CENTER, CENTER + 2 / a / px)
    assert total == pytest.approx(sigma2 * f_squared(2, 0, "neutron"), rel=1e-4)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_oblique_zone_matches_a_direct_kinematic_computation(backend):
    """Monoclinic cell along its unique axis b: the zero-order zone (h0l) is
    an oblique net; general positions, partial occupancy and per-atom B.

    Each spot is compared with ``g = h a* + l c*`` projected on the detector
    (e1 along c, the lattice vector perpendicular to the beam; e2 = n × e1)
    and with ``|F|² = |Σ occ f(s) exp(-B s²) exp(2πi (hx + lz))|²`` written out
    here, ``s = |g| / 2``.
    """
    if backend == "torch":
        pytest.importorskip("torch")
    crystal = Crystal(
        (5.1, 6.3, 7.2, 90.0, 103.7, 90.0),
        ["Fe", "O", "S", "Ba"],
        [[0.137, 0.271, 0.414], [0.312, 0.083, 0.169], [0.771, 0.392, 0.055],
         [0.5, 0.0, 0.5]],
        occupancies=[1.0, 0.9, 1.0, 0.6],
        b_iso=[0.4, 1.1, 0.7, 0.9],
    )  # fmt: skip
    extra = {"device": "cpu"} if backend == "torch" else {}
    sim = DiffractionImageSimulator(
        axes=["b"], normalize=False, backend=backend, **extra
    )
    image = sim.transform([crystal])[0, 0].astype(float)
    px = sim.pixel_size
    lattice = crystal.lattice
    recip = np.linalg.inv(lattice).T
    n = lattice[1] / np.linalg.norm(lattice[1])
    e1 = lattice[2] / np.linalg.norm(lattice[2])  # c is perpendicular to b
    e2 = np.cross(n, e1)
    checked = 0
    for h in range(-6, 7):
        for l in range(-8, 9):
            g = h * recip[0] + l * recip[2]
            if (h, l) == (0, 0) or np.linalg.norm(g) > 1.1:
                continue
            s = np.linalg.norm(g) / 2
            f = [
                occ * xray_form_factor(sp, s) * math.exp(-b * s * s)
                for sp, occ, b in zip(
                    crystal.species, crystal.occupancies, crystal.b_iso
                )
            ]
            x, z = crystal.frac_coords[:, 0], crystal.frac_coords[:, 2]
            phase = 2 * np.pi * (h * x + l * z)
            f_squared = abs(np.sum(np.array(f) * np.exp(1j * phase))) ** 2
            row, col = CENTER - g @ e2 / px, CENTER + g @ e1 / px
            total, (r, c) = spot_sum(image, row, col, half=4)
            assert total == pytest.approx(2 * math.pi * f_squared, rel=2e-4), (h, l)
            assert (r, c) == pytest.approx((row, col), abs=0.01), (h, l)
            checked += 1
    assert checked > 100


def test_ewald_sphere_limits_the_laue_zone():
    a = 3.615

    def present(image, h, k):
        px = 1.5 / 128
        total, _ = spot_sum(image, CENTER - k / a / px, CENTER + h / a / px, half=3)
        return total > 1e-3

    # the zero-order zone ends near |g| = sqrt(2 s_max / wavelength)
    thin = DiffractionImageSimulator(axes=["c"], excitation_error=0.005)
    image = thin.transform([CU])[0, 0]  # cut-off 0.63 1/Å
    assert present(image, 2, 0) and not present(image, 2, 2)  # 0.553, 0.782
    image = DiffractionImageSimulator(axes=["c"]).transform([CU])[0, 0]  # 1.26 1/Å
    assert present(image, 2, 2) and present(image, 4, 2)  # 0.782, 1.237
    assert not present(image, 4, 4)  # 1.565
    # a longer wavelength curves the sphere more
    long = DiffractionImageSimulator(axes=["c"], wavelength=0.1)
    assert not present(long.transform([CU])[0, 0], 2, 2)  # cut-off 0.63 1/Å


def test_first_order_laue_zone():
    # R-centred: -h + k + l = 3n, so each layer l puts its spots on another
    # third of the (h, k) grid; with c = 30 Å the first layer (l = 1, the zone
    # axis pointing to the source) crosses the Ewald sphere near
    # |g| = sqrt(2 / (c wavelength)) = 1.63 1/Å.
    crystal = Crystal.from_wyckoff(166, [("Cu", "3a")], a=4.0, c=30.0)
    sim = DiffractionImageSimulator(axes=["c"], max_g=2.0, include_direct_beam=False)
    image = sim.transform([crystal])[0, 0]
    px = sim.pixel_size
    recip = np.linalg.inv(crystal.lattice).T
    seen = {0: 0, 1: 0, 2: 0}
    for h in range(-8, 9):
        for k in range(-8, 9):
            g = h * recip[0] + k * recip[1]
            if not 1.35 <= np.hypot(g[0], g[1]) <= 1.9:
                continue  # beyond the zero-order zone, short of the second
            total, _ = spot_sum(image, CENTER - g[1] / px, CENTER + g[0] / px, 2)
            seen[(k - h) % 3] += total > 1e-3
            assert (total > 1e-3) == ((k - h) % 3 == 2)
    assert seen[2] > 20


def test_no_spot_at_all_gives_zero_images_in_both_backends():
    # an empty bincount counted in int64: the numpy backend crashed
    kw = dict(image_size=64, include_direct_beam=False, excitation_error=1e-4)
    for backend in ("numpy", "torch"):
        extra = {"device": "cpu"} if backend == "torch" else {}
        images = DiffractionImageSimulator(backend=backend, **kw, **extra).transform(
            [CU]
        )
        assert images.dtype == np.float32 and not images.any(), backend


def test_a_spot_wider_than_the_image_costs_no_more_than_the_image():
    # the window of a spot of sigma 48 px spanned 385 px on a 64-px image
    # (25 GiB); on the image's pixels only, the images are the same
    big = DiffractionImageSimulator(image_size=64, spot_sigma=48).transform([NACL])
    assert big.shape == (1, 3, 64, 64) and np.isfinite(big).all() and big.max() == 1
    torch_big = DiffractionImageSimulator(
        image_size=64, spot_sigma=48, backend="torch", device="cpu"
    ).transform([NACL])
    np.testing.assert_allclose(big, torch_big, atol=1e-5)


def _wide_spots_of_a_large_cell():
    # a 15 Å cell: about 2,000 spots along c within 256 pixels, each spot's
    # window 81 x 81 pixels at spot_sigma=8 (13 million values in all)
    crystal = Crystal(np.eye(3) * 15.0, ["Cu"], [[0.0, 0.0, 0.0]], name="big")
    return crystal, dict(spot_sigma=8.0, axes=["c"])


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_spot_windows_are_drawn_within_the_memory_budget(backend, monkeypatch):
    # the windows of all spots (numpy) or of 233,000 spots per chunk (torch)
    # were drawn at once: the memory grew as spots x spot_sigma², past the budget
    if backend == "torch":
        pytest.importorskip("torch")
    import skxrd.simulation._images as images_module

    budget = images_module._BUDGET["numpy" if backend == "numpy" else "cpu"]
    window = images_module._spot_window
    largest = []

    def recording(xp, centre, position, w, size, scale):
        pixels, weight = window(xp, centre, position, w, size, scale)
        largest.append(weight.shape[0] * weight.shape[1] ** 2)
        return pixels, weight

    monkeypatch.setattr(images_module, "_spot_window", recording)
    crystal, kw = _wide_spots_of_a_large_cell()
    extra = {"device": "cpu"} if backend == "torch" else {}
    images = DiffractionImageSimulator(backend=backend, **kw, **extra).transform(
        [crystal]
    )
    assert max(largest) <= budget < 13_000_000
    # the same images as drawn in one piece
    monkeypatch.setattr(images_module, "_spot_window", window)
    monkeypatch.setitem(images_module._BUDGET, "numpy", 1 << 30)
    whole = DiffractionImageSimulator(**kw).transform([crystal])
    np.testing.assert_allclose(images, whole, rtol=0, atol=1e-6)


def test_wide_spots_of_a_large_cell_take_little_memory():
    # 220 MB of numpy arrays before, for one 256-pixel image
    tracemalloc = pytest.importorskip("tracemalloc")
    crystal, kw = _wide_spots_of_a_large_cell()
    sim = DiffractionImageSimulator(**kw)
    sim.transform([CU])  # caches of form factors out of the count
    tracemalloc.start()
    try:
        images = sim.transform([crystal])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert images.shape == (1, 1, 256, 256) and images.max() == 1
    assert peak < 120 * 2**20


def test_zone_axis_uvw_and_direct_beam():
    sim = DiffractionImageSimulator(axes=[(1, 1, 0)], include_direct_beam=False)
    image = sim.transform([CU])[0, 0]
    # [110] of a cube: mirrors along the in-plane [1-10] and [001] directions
    assert np.allclose(image, image[::-1], atol=1e-6)
    assert np.allclose(image, image[:, ::-1], atol=1e-6)
    assert not np.allclose(image, np.rot90(image), atol=0.1)
    px, a = sim.pixel_size, 3.615
    assert image[126:130, 126:130].max() < 1e-6  # no direct beam
    # e1 is along [-110] (b projected), e2 = [110] x e1 along [001]
    for hkl, present in [((0, 0, 2), True), ((1, -1, 1), True), ((0, 0, 1), False)]:
        g = np.asarray(hkl) / a
        col = CENTER + g @ np.array([-1, 1, 0]) / math.sqrt(2) / px
        row = CENTER - g[2] / px
        total, (r, c) = spot_sum(image, row, col, half=3)
        assert (total > 1e-3) == present
        if present:
            assert (r, c) == pytest.approx((row, col), abs=0.01)


# ------------------------------------------------------------------ fingerprints
def test_fingerprint_scale_invariance_and_symmetry():
    sim = DiffractionImageSimulator(mode="fingerprint")
    small = Crystal.from_wyckoff(225, [("Cu", "4a")], a=3.6)
    large = Crystal.from_wyckoff(225, [("Cu", "4a")], a=4.0)
    F = sim.transform([small, large, small.supercell(3), FE])
    assert F.shape == (4, 3, 64, 64) and F.dtype == np.float32
    assert np.allclose(F.max(axis=(2, 3)), 1.0)
    assert np.abs(F[0] - F[1]).max() < 1e-5  # lattice constant scaled out
    assert np.abs(F[0] - F[2]).max() < 1e-5  # same crystal, larger cell
    assert np.abs(F[0] - F[3]).max() > 0.5  # fcc and bcc differ
    for image in (F[0], F[3]):
        # cubic: rotating about y is rotating about x turned by 90° about z
        assert np.allclose(image[1], np.rot90(image[0]), atol=1e-5)
        assert np.allclose(image[2], np.rot90(image[2]), atol=1e-5)
    # the central beam and the corners are cut away
    r = np.hypot(*np.meshgrid(np.arange(64) - 31.5, np.arange(64) - 31.5))
    assert np.all(F[:, :, (r < 10) | (r > 30)] == 0)
    # fcc (111) spots at |q| = 2 pi / d_111 = 7.70 / d_nn: 15.4 pixels
    rows, cols = np.nonzero(F[0, 0] > 0.5)
    radii = np.hypot(rows - 31.5, cols - 31.5)
    q = radii * sim.pixel_size
    assert np.any(np.abs(q - 2 * math.pi * math.sqrt(3 / 2)) < 0.6)
    # beam along the rotation axis: every channel views a cube axis
    along = DiffractionImageSimulator(
        mode="fingerprint", fingerprint_beam="rotation_axis"
    )
    G = along.transform([small])[0]
    assert np.allclose(G[0], G[1], atol=1e-5) and np.allclose(G[0], G[2], atol=1e-5)
    assert np.allclose(G[2], F[0, 2], atol=1e-5)


def test_fingerprint_weights():
    # X-ray weights are f(0) times the occupancy: Cl at occupancy f_Na / f_Cl
    # scatters as Na, and NaCl looks like a simple cubic crystal of one element
    ratio = float(xray_form_factor("Na", 0.0) / xray_form_factor("Cl", 0.0))
    occupancy = np.where(np.array(NACL.species) == "Cl", ratio, 1.0)
    equal = Crystal(NACL.lattice, NACL.species, NACL.frac_coords, occupancy)
    xray = DiffractionImageSimulator(mode="fingerprint")
    uniform = DiffractionImageSimulator(mode="fingerprint", scattering="uniform")
    F = xray.transform([NACL, equal])
    U = uniform.transform([NACL])[0]
    assert np.abs(F[1] - U).max() < 1e-5
    assert np.abs(F[0] - U).max() > 0.03  # the weak (f_Na - f_Cl) spots


def test_fingerprint_of_a_large_cluster_takes_little_memory():
    # the phase factors of all 47,000 atoms at once: 560 MB of numpy arrays
    tracemalloc = pytest.importorskip("tracemalloc")
    sim = DiffractionImageSimulator(mode="fingerprint", cluster_radius=20)
    first = sim.transform([CU])  # caches out of the count
    tracemalloc.start()
    try:
        images = sim.transform([CU])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(images, first)
    assert images.shape == (1, 3, 64, 64) and images.max() == 1
    assert peak < 250 * 2**20


def test_torch_fingerprint_of_a_large_cluster_stays_within_the_budget(monkeypatch):
    # one crystal's phase factors (6 x 64 x 47,000) were one tensor, 9 times
    # the budget
    torch = pytest.importorskip("torch")
    import skxrd.simulation._images as images_module

    largest = []
    matmul = torch.Tensor.__matmul__

    def recording(a, b):
        largest.append(max(a.numel(), b.numel()))
        return matmul(a, b)

    monkeypatch.setattr(torch.Tensor, "__matmul__", recording)
    kw = dict(mode="fingerprint", cluster_radius=20)
    images = DiffractionImageSimulator(backend="torch", device="cpu", **kw).transform(
        [CU]
    )
    assert largest and max(largest) <= images_module._BUDGET["cpu"]
    monkeypatch.setattr(torch.Tensor, "__matmul__", matmul)
    numpy_images = DiffractionImageSimulator(**kw).transform([CU])
    np.testing.assert_allclose(images, numpy_images, rtol=0, atol=1e-5)


def test_fingerprint_of_defective_crystals():
    pristine = CU.supercell(3)  # 108 atoms: random, not ordered, vacancies
    sim = DiffractionImageSimulator(mode="fingerprint")
    vacancies = perturb_crystals([pristine], vacancy_fraction=0.1, random_state=0)
    both = perturb_crystals(
        [pristine], vacancy_fraction=0.1, displacement=0.05, random_state=0
    )
    displaced = perturb_crystals([pristine], displacement=0.05, random_state=1)
    F = sim.transform([pristine, *vacancies, *both, *displaced])
    main = F[0] > 0.5
    for image in F[1:]:
        assert np.abs(image - F[0]).max() > 1e-3  # changed ...
        assert image[main].min() > 0.3  # ... but the main spots stay
        assert np.corrcoef(image.ravel(), F[0].ravel())[0, 1] > 0.95
    # nearest-neighbour alone: displacements shrink the length unit
    plain = DiffractionImageSimulator(mode="fingerprint", nn_shell=0.0)
    G = plain.transform([pristine, displaced[0]])
    assert np.abs(G[0] - F[0]).max() < 1e-5
    assert np.corrcoef(G[1].ravel(), G[0].ravel())[0, 1] < 0.9
    # a partially occupied site: co-located atoms are not neighbours
    mixed = Crystal(
        CU.lattice, ["Cu", "Ni"] * 4, np.repeat(CU.frac_coords, 2, axis=0), 0.5
    )
    assert sim.transform([mixed])[0] == pytest.approx(F[0], abs=1e-5)


# ------------------------------------------------------------------ backends
def test_torch_backend_matches_numpy():
    pytest.importorskip("torch")
    crystals = [
        NACL,
        MG,
        RUTILE,
        triclinic(),
        perturb_crystals([CU.supercell(2)], vacancy_fraction=0.2)[0],
    ]
    settings = [
        dict(),
        dict(axes=[(1, 1, 0), "c"], scattering="neutron", include_direct_beam=False),
        dict(mode="fingerprint"),
        dict(mode="fingerprint", fingerprint_beam="rotation_axis", image_size=48),
    ]
    for kw in settings:
        expected = DiffractionImageSimulator(**kw).transform(crystals)
        got = DiffractionImageSimulator(
            **kw, backend="torch", device="cpu", batch_size=2
        ).transform(crystals)
        assert got.shape == expected.shape and got.dtype == np.float32
        assert np.abs(got - expected).max() < 1e-4 * expected.max()


def test_parallel_jobs_and_empty_input():
    sim = DiffractionImageSimulator(axes=["c"], image_size=64)
    crystals = [NACL, MG, RUTILE, CU]
    with joblib.parallel_config(backend="threading"):
        parallel = sim.set_params(n_jobs=2).transform(crystals)
    assert np.array_equal(parallel, sim.set_params(n_jobs=1).transform(crystals))
    assert sim.transform([]).shape == (0, 1, 64, 64)


def test_sklearn_api():
    sim = DiffractionImageSimulator(mode="fingerprint")
    check_parameters_default_constructible("DiffractionImageSimulator", sim)
    check_no_attributes_set_in_init("DiffractionImageSimulator", sim)
    check_get_params_invariance("DiffractionImageSimulator", sim)
    assert clone(sim).get_params() == sim.get_params()
    assert sim.fit([CU]) is sim
    assert sim.pixel_size == 0.5


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "param, value",
    [
        ("mode", "powder"),
        ("axes", []),
        ("axes", ["d"]),
        ("axes", [(0, 0, 0)]),
        ("axes", [(1, 0)]),
        ("axes", [(1.5, 0, 0)]),
        ("image_size", 4),
        ("image_size", 64.0),
        ("wavelength", 0),
        ("excitation_error", -0.1),
        ("max_g", "2"),
        ("spot_sigma", float("nan")),
        ("include_direct_beam", "yes"),
        ("scattering", "electron"),
        ("cluster_radius", 0),
        ("nn_shell", 0.7),
        ("max_q", float("inf")),
        ("ring", (30, 10)),
        ("ring", 5),
        ("fingerprint_beam", "x"),
        ("normalize", None),
        ("backend", "jax"),
        ("batch_size", 0),
        ("n_jobs", 0),
    ],
)
def test_invalid_parameters(param, value):
    sim = DiffractionImageSimulator(**{param: value})
    with pytest.raises(ValueError, match=param):
        sim.fit()
    with pytest.raises(ValueError, match=param):
        sim.transform([CU])


def test_invalid_crystals_name_their_index():
    with pytest.raises(ValueError, match="crystal 1"):
        DiffractionImageSimulator().transform([CU, 42])
    polonium = Crystal(3.35 * np.eye(3), ["Po"], [[0, 0, 0]], name="Po")
    for mode in ("zone_axis", "fingerprint"):
        sim = DiffractionImageSimulator(mode=mode, scattering="neutron")
        with pytest.raises(ValueError, match=r"crystal 2 \('Po'\).*neutron"):
            sim.transform([CU, NACL, polonium])
    pytest.importorskip("torch")
    sim = DiffractionImageSimulator(scattering="neutron", backend="torch", device="cpu")
    with pytest.raises(ValueError, match=r"crystal 1 \('Po'\)"):
        sim.transform([CU, polonium])


def test_a_huge_cell_is_one_clear_error_before_its_zone_is_allocated():
    # a 400 Å cell's zone holds 2.5e8 reciprocal lattice points within the
    # default max_g: allocated until MemoryError, as the powder simulator did
    from skxrd.crystal import Crystal

    big = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=400.0, name="big")
    match = (
        r"crystal 0 \('big'\): zone axis \[1, 0, 0\]: its cell \(a=400 .* would "
        r"need [\d,]+ reciprocal lattice points .* a smaller max_g"
    )
    with pytest.raises(ValueError, match=match):
        DiffractionImageSimulator(image_size=32).transform([big])
    # with a smaller max_g the same cell is imaged
    small = DiffractionImageSimulator(image_size=32, max_g=0.05).transform([big])
    assert small.shape == (1, 3, 32, 32) and small.max() > 0


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("mode", ["zone_axis", "fingerprint"])
def test_ions_without_a_form_factor_table_are_said_once_per_call(backend, mode):
    # S2- has no X-ray form factor table: imaged as S without a word
    import warnings

    if backend == "torch":
        pytest.importorskip("torch")
    zns = Crystal.from_wyckoff(216, [("Zn2+", "4a"), ("S2-", "4c")], a=5.41)
    neutral = Crystal.from_wyckoff(216, [("Zn2+", "4a"), ("S", "4c")], a=5.41)
    sim = DiffractionImageSimulator(
        mode=mode, image_size=32, backend=backend, device="cpu"
    )
    with pytest.warns(UserWarning, match=r"the ion S2-; .* \(S2- as S\)") as record:
        X = sim.transform([zns] * 10)
    said = [w for w in record if "form factor table" in str(w.message)]
    assert len(said) == 1 and said[0].filename == __file__
    np.testing.assert_array_equal(X[0], sim.transform([neutral])[0])
    # ions with tables, neutron lengths and uniform strengths say nothing
    mgo = Crystal.from_wyckoff(225, [("Mg2+", "4a"), ("O2-", "4b")], a=4.21)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim.transform([mgo])
        for scattering in ("neutron", "uniform"):
            sim.set_params(scattering=scattering).transform([zns])


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_max_reflections_of_a_zone_is_a_parameter(backend):
    # the zone's limit was twice a module constant, out of the user's reach
    if backend == "torch":
        pytest.importorskip("torch")
    assert DiffractionImageSimulator().max_reflections == 40_000_000
    extra = {"device": "cpu"} if backend == "torch" else {}
    # NaCl's zone [100] at 32 pixels: hkl up to ±0 ±15 ±15
    small = DiffractionImageSimulator(
        image_size=32, max_reflections=960, backend=backend, **extra
    )
    with pytest.raises(
        ValueError,
        match=r"crystal 0 \('NaCl'\): zone axis \[1, 0, 0\]: .* would need 961 "
        r"reciprocal lattice points .* may have 960; .* a larger max_reflections "
        r"\(DiffractionImageSimulator\(max_reflections=961\)\)",
    ):
        small.transform([NACL])
    enough = small.set_params(max_reflections=961).transform([NACL])
    default = DiffractionImageSimulator(image_size=32, backend=backend, **extra)
    np.testing.assert_array_equal(enough, default.transform([NACL]))
    for bad in (0, -1, 4e7, True, None):
        with pytest.raises(ValueError, match="max_reflections must be"):
            DiffractionImageSimulator(max_reflections=bad).fit()


def direct_zone_image(crystal, uvw, size, wavelength, excitation_error=0.02):
    """A zone-axis image from first principles, for the comparisons below.

    Every hkl of a box larger than any reflection the image can show; the
    detector axes of the docstring (e1 along the lattice vector after the
    largest of |u|, |v|, |w|, here never within 30° of the beam); the points
    within ``excitation_error`` of the sphere ``|k0 + g| = k`` (``k0 = -k n``)
    that scatter forwards (``g·n < k``) drawn as full unit Gaussians of
    ``|F|²`` at the in-plane component of g.
    """
    lattice = crystal.lattice
    recip = np.linalg.inv(lattice).T
    k = 1.0 / wavelength
    n = np.asarray(uvw, float) @ lattice
    n /= np.linalg.norm(n)
    ref = lattice[(int(np.argmax(np.abs(uvw))) + 1) % 3]
    e1 = ref - (ref @ n) * n
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(n, e1)
    px = 1.5 / (size / 2)  # max_g = 1.5
    # a loose bound of |g|: the image's corner in the plane, and along the
    # beam the forward limit k or, for a flat sphere, 10× its rise there
    corner = (size / 2 + 8) * px * math.sqrt(2)
    rise = min(k, 10 * corner**2 / k + 10 * excitation_error)
    reach = int(math.hypot(corner, rise) * np.linalg.norm(lattice, axis=1).max()) + 2
    box = np.arange(-reach, reach + 1)
    hkl = np.stack(np.meshgrid(box, box, box, indexing="ij"), -1).reshape(-1, 3)
    g = hkl @ recip
    u, v = g @ e1 / px, g @ e2 / px
    on = (np.abs(np.linalg.norm(g - k * n, axis=1) - k) <= excitation_error) & (
        g @ n < k
    )
    on &= (np.abs(u) < size / 2 + 8) & (np.abs(v) < size / 2 + 8)
    hkl, g, u, v = hkl[on], g[on], u[on], v[on]
    s = np.linalg.norm(g, axis=1) / 2
    f = np.stack(
        [
            occ * xray_form_factor(sp, s) * np.exp(-b * s * s)
            for sp, occ, b in zip(crystal.species, crystal.occupancies, crystal.b_iso)
        ],
        axis=1,
    )
    amplitude = (f * np.exp(2j * np.pi * hkl @ crystal.frac_coords.T)).sum(axis=1)
    centre = (size - 1) / 2
    rows, cols = np.mgrid[0:size, 0:size]
    gauss = np.exp(
        -((rows[..., None] - (centre - v)) ** 2 + (cols[..., None] - (centre + u)) ** 2)
        / 2
    )
    return gauss @ np.abs(amplitude) ** 2


@pytest.mark.parametrize("wavelength", [0.0251, 0.4, 1.0])
def test_zone_images_match_a_direct_computation_at_any_wavelength(wavelength):
    # A triclinic crystal along oblique axes, at electron and X-ray
    # wavelengths: at 0.4 Å the sphere rises steeply in the image's corners
    # (the search box's bound along the beam); at 1 Å, with the image wider
    # than the sphere, back-scattered beams were drawn as far as the search
    # box reached.
    crystal = triclinic(n_atoms=5, seed=3)
    axes = [(1, 2, 3), (-2, 0, 1), (0, 1, 0)]
    sim = DiffractionImageSimulator(
        axes=axes, image_size=32, wavelength=wavelength, normalize=False
    )
    images = sim.transform([crystal])[0]
    for image, uvw in zip(images, axes):
        expected = direct_zone_image(crystal, uvw, 32, wavelength)
        assert expected.max() > 0
        np.testing.assert_allclose(image, expected, atol=1e-5 * expected.max())


def test_back_scattered_beams_are_not_drawn():
    # a 3 Å cubic cell at 1.5 Å: (004) is the 180° back reflection, exactly on
    # the Ewald sphere; it was drawn at the centre of the image (g_perp = 0),
    # with the back-scattered rest of the sphere around it
    crystal = Crystal(3.0 * np.eye(3), ["Cu"], [[0.0, 0.0, 0.0]])
    sim = DiffractionImageSimulator(
        axes=["c"], image_size=32, wavelength=1.5, include_direct_beam=False
    )
    for size in (32, 64):
        image = sim.set_params(image_size=size).transform([crystal])[0, 0]
        assert not image.any()
    # forward beams stay: at 0.1 Å the zero-order zone is there
    assert sim.set_params(wavelength=0.1).transform([crystal]).max() == 1


def test_zone_images_do_not_depend_on_the_description_of_the_crystal():
    # relations checked on hundreds of random and Materials Project crystals
    crystal = triclinic(n_atoms=6, seed=5)
    axes = ["a", "b", "c", (1, -2, 3)]
    sim = DiffractionImageSimulator(axes=axes, image_size=48)
    images = sim.transform([crystal])[0]
    lattice, frac = crystal.lattice, crystal.frac_coords
    occ, b_iso = crystal.occupancies, crystal.b_iso
    order = np.random.default_rng(0).permutation(crystal.n_atoms)
    turn = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    turn *= np.sign(np.linalg.det(turn))  # a proper rotation
    same = [
        Crystal(lattice, crystal.species, frac + [0.31, -0.7, 2.05], occ, b_iso),
        Crystal(
            lattice,
            [crystal.species[i] for i in order],
            frac[order],
            occ[order],
            b_iso[order],
        ),
        Crystal(lattice @ turn.T, crystal.species, frac, occ, b_iso),
    ]
    for other in sim.transform(same):
        np.testing.assert_allclose(other, images, atol=1e-5)
    # a 2 x 1 x 1 supercell: [1, -2, 3] is [1, -4, 6] of the larger cell
    double = sim.set_params(axes=["a", "b", "c", (1, -4, 6)])
    np.testing.assert_allclose(
        double.transform([crystal.supercell((2, 1, 1))])[0], images, atol=1e-5
    )
    # a, b, c relabelled b, c, a: the old a is the new c
    relabelled = Crystal(lattice[[1, 2, 0]], crystal.species, frac[:, [1, 2, 0]])
    plain = Crystal(lattice, crystal.species, frac)
    np.testing.assert_allclose(
        sim.set_params(axes=["c", "a", "b"]).transform([relabelled])[0],
        sim.set_params(axes=["a", "b", "c"]).transform([plain])[0],
        atol=1e-5,
    )
    # fcc Cu: the conventional [001] is [11-1] of the primitive cell
    primitive = Crystal(
        np.array([[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]) @ CU.lattice,
        ["Cu"],
        [[0, 0, 0]],
    )
    np.testing.assert_allclose(
        sim.set_params(axes=[(1, 1, -1)]).transform([primitive])[0, 0],
        sim.set_params(axes=["c"]).transform([CU])[0, 0],
        atol=1e-5,
    )


def test_zone_image_symmetries_and_scaling():
    crystal = triclinic(n_atoms=6, seed=7)
    sim = DiffractionImageSimulator(axes=["a", (-1, 0, 0), (2, 0, 0)], image_size=48)
    zone, opposite, twice = sim.transform([crystal])[0]
    # Friedel's law in the zero-order zone (all of it here): 2-fold about the
    # beam; the opposite zone axis flips e2 = n x e1, a multiple is the same
    np.testing.assert_allclose(zone, zone[::-1, ::-1], atol=1e-5)
    np.testing.assert_allclose(opposite, zone[::-1], atol=1e-5)
    np.testing.assert_allclose(twice, zone, atol=1e-6)
    # every length times s and every reciprocal length over s: the same image
    # (uniform scattering, no Debye-Waller factor: no other length scale)
    kw = dict(axes=["c", (1, -2, 3)], image_size=48, scattering="uniform")
    kw.update(debye_waller=False)
    for wavelength, s in [(0.0251, 2.5), (0.7, 0.6)]:
        scaled = Crystal(
            crystal.lattice * s,
            crystal.species,
            crystal.frac_coords,
            crystal.occupancies,
        )
        a = DiffractionImageSimulator(wavelength=wavelength, **kw).transform([crystal])
        b = DiffractionImageSimulator(
            wavelength=wavelength * s, excitation_error=0.02 / s, max_g=1.5 / s, **kw
        ).transform([scaled])
        assert a.max() == 1
        np.testing.assert_allclose(a, b, atol=1e-5)
