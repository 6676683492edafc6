import warnings

import numpy as np
import pytest

from skxrd.preprocessing import SpotMeshShaper

SHAPE = (129, 129)
ORIGIN = np.array([64.0, 64.0])  # the image centre
SIN60 = np.sqrt(3) / 2


def lattice(v1, v2, *, margin=6, skip=()):
    """Sites ``ORIGIN + i v1 + j v2`` (row, col) inside the image, less ``skip``."""
    v1, v2 = np.asarray(v1, float), np.asarray(v2, float)
    sites = [
        ORIGIN + i * v1 + j * v2
        for i in range(-10, 11)
        for j in range(-10, 11)
        if (i, j) not in skip
    ]
    sites = np.array(sites)
    inside = np.all((sites >= margin) & (sites <= np.array(SHAPE) - 1 - margin), 1)
    return sites[inside]


def spots(centres, heights=None, sigma=1.5):
    """An image of Gaussian spots of peak ``heights`` (default 1) at ``centres``."""
    rows, cols = np.indices(SHAPE)
    img = np.zeros(SHAPE)
    heights = np.ones(len(centres)) if heights is None else heights
    for (r, c), h in zip(centres, heights):
        img += h * np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / (2 * sigma**2))
    return img


def mesh_of(img, **kwargs):
    kwargs = {"center_radius": 0, "output": "mesh", **kwargs}
    return SpotMeshShaper(**kwargs).fit_transform(img[None, None])[0, 0]


def lit(mesh, point):
    """A line pixel (value 1) at or next to ``point``."""
    r, c = np.rint(point).astype(int)
    return bool(mesh[r - 1 : r + 2, c - 1 : c + 2].max() == 1.0)


def dark(mesh, point):
    r, c = np.rint(point).astype(int)
    return bool(mesh[r - 1 : r + 2, c - 1 : c + 2].max() < 0.05)


SQUARE = (np.array([0.0, 20.0]), np.array([20.0, 0.0]))
HEX = (np.array([0.0, 20.0]), np.array([20 * SIN60, 10.0]))


@pytest.mark.parametrize("factor, diagonals", [(1.7, True), (1.3, False)])
def test_square_lattice(factor, diagonals):
    v1, v2 = SQUARE
    mesh = mesh_of(spots(lattice(v1, v2)), mesh_factor=factor)
    for i in (-1, 0, 1):
        for j in (-1, 0, 1):
            site = ORIGIN + i * v1 + j * v2
            # the 4 nearest neighbours (d_min): always joined, the exact pixel lit
            for v in (v1, v2, -v1, -v2):
                r, c = (site + v / 2).astype(int)
                assert mesh[r, c] == 1.0
            # diagonals (√2 d_min) only below the factor
            for v in (v1 + v2, v1 - v2):
                assert lit(mesh, site + v / 2) is diagonals
                assert dark(mesh, site + v / 2) is not diagonals
            # knight's moves (√5 d_min) never: a quarter of the way is off all
            # drawn lines
            for v in (v1 + 2 * v2, 2 * v1 - v2, -v1 - 2 * v2):
                assert dark(mesh, site + v / 4)


@pytest.mark.parametrize("factor, axial_seconds", [(1.7, False), (2.1, True)])
def test_square_lattice_second_neighbours_along_the_axes(factor, axial_seconds):
    # With a vacant site, only the pairs 2 d_min apart across it can cross it.
    v1, v2 = SQUARE
    mesh = mesh_of(spots(lattice(v1, v2, skip={(0, 0)})), mesh_factor=factor)
    for point in (ORIGIN, ORIGIN + v1 / 2, ORIGIN - v2 / 2):
        assert lit(mesh, point) is axial_seconds
        assert dark(mesh, point) is not axial_seconds
    assert lit(mesh, ORIGIN + v1 + v2 / 2)  # the nearest neighbours still joined


@pytest.mark.parametrize("factor, second_shell", [(1.7, False), (1.8, True)])
def test_hexagonal_lattice(factor, second_shell):
    v1, v2 = HEX
    mesh = mesh_of(spots(lattice(v1, v2)), mesh_factor=factor)
    first = [v1, v2, v2 - v1, -v1, -v2, v1 - v2]  # the 6 neighbours, 60° apart
    angles = np.degrees(np.arctan2(*np.array(first).T)) % 360
    assert np.allclose(np.sort(angles), [0, 60, 120, 180, 240, 300])
    for site in (ORIGIN, ORIGIN + v2, ORIGIN - v2):
        for v in first:
            assert lit(mesh, site + v / 2)
        # second shell (√3 d_min ≈ 1.732 d_min): its midpoints lie on first-shell
        # lines, its quarter points do not
        for v in (v1 + v2, 2 * v2 - v1, v2 - 2 * v1, -v1 - v2):
            assert lit(mesh, site + v / 4) is second_shell
            assert dark(mesh, site + v / 4) is not second_shell


@pytest.mark.parametrize("b, along_b", [(30.0, True), (40.0, False)])
def test_rectangular_lattice(b, along_b):
    a_vec, b_vec = np.array([0.0, 20.0]), np.array([b, 0.0])
    mesh = mesh_of(spots(lattice(a_vec, b_vec)))
    for site in (ORIGIN, ORIGIN + a_vec, ORIGIN - b_vec):
        assert lit(mesh, site + a_vec / 2) and lit(mesh, site - a_vec / 2)
        assert lit(mesh, site + b_vec / 2) is along_b
        assert dark(mesh, site + b_vec / 2) is not along_b
        # diagonals: √(20² + 30²) = 1.80 × 20, above 1.7
        assert dark(mesh, site + (a_vec + b_vec) / 2)


def test_spots_are_written_over_the_lines_and_line_value():
    v1, v2 = SQUARE
    img = spots(lattice(v1, v2))
    plain = img / img.max()
    mesh = mesh_of(img, line_value=100)
    spot = plain >= 50 / 255
    assert np.allclose(mesh[spot], plain[spot])  # spots kept as they were
    lines = ~np.isclose(mesh, plain, atol=1e-6)
    assert lines.sum() > 1000 and np.allclose(mesh[lines], 100 / 255)
    assert not (lines & spot).any()


def test_faint_spots_below_the_threshold_are_not_spots():
    v1, v2 = SQUARE
    sites = lattice(v1, v2)
    heights = np.ones(len(sites))
    faint = np.flatnonzero(np.all(sites == ORIGIN, axis=1))
    heights[faint] = 0.15  # below 50 / 255 once rescaled
    mesh = mesh_of(spots(sites, heights))
    assert dark(mesh, ORIGIN + v1 / 2) and dark(mesh, ORIGIN - v2 / 2)
    mesh = mesh_of(spots(sites, heights), spot_threshold=30)
    assert lit(mesh, ORIGIN + v1 / 2) and lit(mesh, ORIGIN - v2 / 2)


def test_central_beam_is_removed():
    v1, v2 = SQUARE
    img = spots(lattice(v1, v2, skip={(0, 0)}))
    img += spots([ORIGIN], [50.0], sigma=0.8)  # a direct beam 50 × the spots
    out = SpotMeshShaper(output="mesh").fit_transform(img[None, None])[0, 0]
    rows, cols = np.indices(SHAPE)
    beam = (rows - 64) ** 2 + (cols - 64) ** 2 < 3**2
    assert beam.sum() == 25 and np.all(out[beam] == 0)
    assert dark(out, ORIGIN)  # no spot left there, so no line to it
    peaks = out[24:105:20, 24:105:20].ravel()
    assert out.max() == 1.0 and np.delete(peaks, 12).min() > 0.95  # beam excluded
    assert lit(out, ORIGIN + v1 + v2 / 2)
    kept = mesh_of(img)  # center_radius=0: the beam is the brightest spot
    assert kept[64, 64] == 1.0 and kept[84, 84] < 0.03


def batch():
    """Two samples of three axes: square (20 px), rectangular, square (30 px)."""
    square = spots(lattice(*SQUARE))
    rect = spots(lattice([0.0, 20.0], [40.0, 0.0]))
    wide = spots(lattice([0.0, 30.0], [30.0, 0.0])) * 7.0
    one_spot = spots([ORIGIN + 17])
    return np.stack(
        [np.stack([square, rect, wide]), np.stack([one_spot, np.zeros(SHAPE), rect])]
    )


def test_output_shape_range_and_rgb_channel_layout():
    X = batch()
    rgb = SpotMeshShaper(center_radius=0).fit_transform(X)
    assert rgb.shape == (2, 3, 3, *SHAPE) and rgb.dtype == np.float32
    assert rgb.min() == 0.0 and rgb.max() == 1.0
    mesh = SpotMeshShaper(center_radius=0, output="mesh").fit_transform(X)
    assert mesh.shape == (2, 3, *SHAPE) and mesh.dtype == np.float32
    peak = X.max(axis=(2, 3), keepdims=True)
    plain = X / np.where(peak == 0, 1, peak)
    for axis in range(3):
        for channel in range(3):
            want = mesh[:, axis] if channel == axis else plain[:, axis]
            assert np.allclose(rgb[:, axis, channel], want, atol=1e-6)
    # lines only in the mesh channel; each image scaled on its own
    assert (rgb[0, 0, 0] > rgb[0, 0, 1] + 0.5).sum() > 1000
    assert np.allclose(rgb[0].max(axis=(1, 2, 3)), 1.0)
    # d_min is per image: the diagonals of the 30 px lattice (42 px) are below
    # 1.7 × 30, not below 1.7 × 20, the shortest distance in the sample
    assert lit(mesh[0, 2], ORIGIN + np.array([0.0, 15.0]))
    assert lit(mesh[0, 2], ORIGIN + np.array([15.0, 15.0]))
    assert dark(mesh[0, 1], ORIGIN + np.array([20.0, 0.0]))  # 40 px: not joined


def test_input_forms_and_flatten():
    X = batch()
    n, h, w = len(X), *SHAPE
    shaper = SpotMeshShaper(output="mesh")
    expected = shaper.fit_transform(X)
    flat = SpotMeshShaper(output="mesh", flatten=True, image_shape=SHAPE)
    out = flat.fit_transform(X.reshape(n, -1))
    assert out.shape == (n, 3 * h * w) and flat.n_features_in_ == 3 * h * w
    assert np.array_equal(out, expected.reshape(n, -1))
    assert np.array_equal(flat.transform(X), out)  # 4D after 2D fit
    assert np.allclose(shaper.transform(X.astype(np.float32)), expected, atol=1e-6)
    rgb = SpotMeshShaper(flatten=True).fit_transform(X)
    assert rgb.shape == (n, 9 * h * w)
    # one axis: (n_samples, H, W)
    single = SpotMeshShaper().fit_transform(X[:, 1])
    assert single.shape == (n, 1, 1, h, w)
    assert np.array_equal(single[:, 0, 0], expected[:, 1])
    # two axes: two channels
    two = SpotMeshShaper().fit_transform(X[:, :2])
    assert two.shape == (n, 2, 2, h, w)
    assert np.array_equal(two[:, 1, 1], expected[:, 1])
    # stateless: transform before fit, samples shaped independently
    assert np.array_equal(SpotMeshShaper(output="mesh").transform(X[1:]), expected[1:])


def test_fewer_than_two_spots_and_blank_images():
    X = batch()[1:]
    X[0, 2] = 0.0
    X[0, 1] = -1.0  # negative values are clipped at 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division warnings on blank images
        out = SpotMeshShaper(center_radius=0).fit_transform(X)
    assert np.all(np.isfinite(out))
    plain = X[0, 0] / X[0, 0].max()
    assert np.allclose(out[0, 0], plain, atol=1e-6)  # one spot: no line at all
    assert np.all(out[0, 1:] == 0)
    # no image of the batch with two spots, though the batch has several
    X = np.zeros((2, 1, 9, 9))
    X[0, 0, 1, 1] = X[1, 0, 7, 7] = 1.0
    out = SpotMeshShaper(output="mesh").fit_transform(X)
    assert np.array_equal(out, X)


def test_huge_float64_values_do_not_overflow():
    X = batch()[:1, :1] * 1e300
    out = SpotMeshShaper(output="mesh").fit_transform(X)
    expected = SpotMeshShaper(output="mesh").fit_transform(batch()[:1, :1])
    assert np.array_equal(out, expected)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"image_shape": (10,)}, r"image_shape must be None or a pair of positive"),
        ({"image_shape": (0, 5)}, r"image_shape must be None or a pair of positive"),
        ({"image_shape": (2.0, 5)}, r"image_shape must be None or a pair"),
        ({"center_radius": -1}, r"center_radius must be >= 0, got -1"),
        ({"center_radius": "3"}, r"center_radius must be a number"),
        ({"max_value": 0}, r"max_value must be > 0"),
        ({"spot_threshold": 0}, r"spot_threshold must lie in \(0, max_value=255\]"),
        ({"spot_threshold": 300}, r"spot_threshold must lie in \(0, max_value=255\]"),
        ({"mesh_factor": -1.0}, r"mesh_factor must be > 0"),
        ({"mesh_factor": np.nan}, r"mesh_factor must be finite"),
        ({"line_value": 256}, r"line_value must be None or lie in \(0, max_value"),
        ({"output": "RGB"}, r"output must be one of \('rgb', 'mesh'\)"),
        ({"flatten": "yes"}, r"flatten must be True or False"),
    ],
)
def test_invalid_parameters(params, match):
    X = np.zeros((2, 3, 10, 5))
    with pytest.raises(ValueError, match=match):
        SpotMeshShaper(**params).fit(X)
    with pytest.raises(ValueError, match=match):
        SpotMeshShaper(**params).transform(X)


def test_wrong_input_shapes():
    X = np.zeros((2, 3, 10, 5))
    with pytest.raises(ValueError, match=r"2D X of shape \(2, 150\) needs image_shape"):
        SpotMeshShaper().fit(X.reshape(2, -1))
    with pytest.raises(ValueError, match=r"X has 150 features, not a multiple of"):
        SpotMeshShaper(image_shape=(7, 7)).fit(X.reshape(2, -1))
    with pytest.raises(ValueError, match=r"images of shape \(10, 5\) but image_shape"):
        SpotMeshShaper(image_shape=(5, 10)).fit(X)
    with pytest.raises(ValueError, match=r"got 1D shape \(300,\)"):
        SpotMeshShaper().fit(X.ravel())
    with pytest.raises(ValueError, match=r"got 5D shape \(1, 2, 3, 10, 5\)"):
        SpotMeshShaper().fit(X[None])
    shaper = SpotMeshShaper().fit(X)
    with pytest.raises(ValueError, match="expecting 150 features"):
        shaper.transform(X[:, :2])
    # as many pixels in another layout: refused, not shaped as one 1 x 30 x 5 axis
    with pytest.raises(
        ValueError, match=r"layout .* \(1, 30, 5\), but .* \(3, 10, 5\)"
    ):
        shaper.transform(X.reshape(2, 1, 30, 5))


def test_non_finite_input_rejected():
    X = np.zeros((2, 3, 10, 5))
    X[1, 2, 3, 4] = np.nan
    with pytest.raises(ValueError, match=r"NaN in sample 1 \(axis 2, pixel \(3, 4\)\)"):
        SpotMeshShaper().fit_transform(X)
    X[1, 2, 3, 4] = -np.inf
    with pytest.raises(ValueError, match=r"inf in sample 1"):
        SpotMeshShaper(image_shape=(10, 5)).transform(X.reshape(2, -1))


# 1×1 images take any number of columns (one axis per column): the shape of the
# checks' small random 2D arrays.


def test_mesh_follows_flips_rotations_and_shifts_of_the_image():
    # Lines were rounded with np.rint (half to even): a sample halfway between
    # two pixels took the even one, so on an even-sized image the mesh of a
    # flipped, turned or odd-shifted image was not the flipped, turned or
    # shifted mesh, and the mesh of a 4-fold pattern was not 4-fold.
    size, centre = 48, np.array([23.5, 23.5])  # the simulator's even sizes

    def image(v1, v2):
        sites = centre + np.array(
            [i * np.asarray(v1) + j * np.asarray(v2) for i in range(-9, 10)
             for j in range(-9, 10)]
        )  # fmt: skip
        sites = sites[np.all((sites >= 10) & (sites <= size - 11), axis=1)]
        rows, cols = np.indices((size, size))
        d2 = (rows[..., None] - sites[:, 0]) ** 2 + (cols[..., None] - sites[:, 1]) ** 2
        return np.exp(-d2 / 4.5).sum(axis=-1)

    square = image((0, 10), (10, 0))  # 4-fold about the centre
    rectangular, oblique = image((0, 9), (8, 0)), image((0.3, 8.6), (6.1, -4.2))
    X = np.stack([square, rectangular, image((0, 7), (5, 3)), oblique])[:, None]
    shaper = SpotMeshShaper(center_radius=0, output="mesh").fit(X)
    mesh = shaper.transform(X)
    np.testing.assert_array_equal(mesh[0], np.rot90(mesh[0], axes=(-2, -1)))
    for k in range(4):
        for transpose in (False, True):

            def op(a, k=k, transpose=transpose):
                a = np.rot90(a, k, axes=(-2, -1))
                return np.swapaxes(a, -1, -2) if transpose else a

            np.testing.assert_array_equal(shaper.transform(op(X)), op(mesh))
    for dr, dc in [(1, 0), (0, 3), (-1, 2)]:
        shifted = np.roll(X, (dr, dc), axis=(-2, -1))  # the borders are dark
        np.testing.assert_array_equal(
            shaper.transform(shifted), np.roll(mesh, (dr, dc), axis=(-2, -1))
        )
    # and the RGB output with the centre blanked
    rgb = SpotMeshShaper().fit_transform(np.repeat(X, 3, axis=1))
    flipped = SpotMeshShaper().fit_transform(np.repeat(X[..., ::-1], 3, axis=1))
    np.testing.assert_array_equal(flipped, rgb[..., ::-1])
