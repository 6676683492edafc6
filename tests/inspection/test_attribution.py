import copy
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.collections import PolyCollection
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from torch import nn
from torch.nn import functional as F

import skxrd
from skxrd.estimators import ResNetClassifier, UnionClassifier
from skxrd.inspection import (
    AttributionDisplay,
    SaliencyDisplay,
    attentive_response_map,
    guided_backprop,
    integrated_gradients,
    occlusion_map,
    saliency_map,
)
from skxrd.models import (
    CNN1D,
    DenseNet1D,
    DenseNet2D,
    FingerprintCNN,
    MultiStreamDenseNet,
    ResNet1D,
)
from skxrd.preprocessing import PatternNormalizer

N_POINTS = 96
CENTERS = {"Fm-3m": 20.0, "P6_3/mmc": 70.0}  # the planted class-specific peaks
METHODS = {
    "saliency": saliency_map,
    "integrated_gradients": integrated_gradients,
    "occlusion": occlusion_map,
    "guided_backprop": guided_backprop,
    "attentive_response": attentive_response_map,
}


def planted_patterns(n_per_class=20, random_state=0):
    """A shared peak at 45 and one peak per class (at 20 or 70), max-normalized."""
    rng = np.random.default_rng(random_state)
    grid = np.arange(N_POINTS, dtype=np.float64)

    def peak(center):
        return np.exp(-0.5 * ((grid - center - rng.normal(0.0, 1.0)) / 1.5) ** 2)

    X, y = [], []
    for label, center in CENTERS.items():
        for _ in range(n_per_class):
            pattern = rng.uniform(0.6, 1.0) * peak(45.0)
            pattern += rng.uniform(0.6, 1.0) * peak(center)
            pattern += rng.normal(0.0, 0.02, N_POINTS)
            X.append(pattern / pattern.max())
            y.append(label)
    return np.asarray(X, dtype=np.float32), np.asarray(y)


@pytest.fixture(scope="module")
def data():
    return planted_patterns()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    # batch_size=8: a few steps per epoch, enough to learn the planted peaks
    clf = ResNetClassifier(
        depth=2,
        width=8,
        max_epochs=15,
        lr=1e-2,
        batch_size=8,
        validation_fraction=None,
        device="cpu",
        num_threads=1,
        random_state=0,
    )
    clf.fit(X, y)
    assert clf.score(X, y) == 1.0
    return clf


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _seeded(factory, seed=0):
    torch.manual_seed(seed)
    return factory()


def _randomize_offsets(model, seed=0):
    """Non-zero biases and batch-norm statistics: the network is not homogeneous."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen))
            bias = getattr(m, "bias", None)
            if isinstance(bias, torch.Tensor):
                bias.copy_(0.5 * torch.randn(bias.shape, generator=gen))
    return model


def _hooks(model):
    return [
        (name, kind)
        for name, m in model.named_modules()
        for kind in (
            "_forward_hooks",
            "_forward_pre_hooks",
            "_backward_hooks",
            "_backward_pre_hooks",
        )
        if getattr(m, kind)
    ]


# --------------------------------------------------------------------------- #
# saliency
# --------------------------------------------------------------------------- #
def test_saliency_of_a_linear_model_is_the_absolute_weights():
    model = _seeded(lambda: nn.Linear(10, 3))
    X = np.random.default_rng(0).normal(size=(3, 10))
    target = np.array([0, 2, 1])
    weights = model.weight.detach().numpy()
    np.testing.assert_array_equal(
        saliency_map(model, X, target=target), np.abs(weights[target])
    )
    # default: the predicted class
    predicted = model(torch.tensor(X, dtype=torch.float32)).argmax(1).numpy()
    np.testing.assert_array_equal(saliency_map(model, X), np.abs(weights[predicted]))
    assert model.weight.grad is None


def test_saliency_inside_no_grad_and_with_a_confidence_head():
    model = _seeded(lambda: ResNet1D(3, depth=2, width=8, confidence_head=True))
    plain = copy.deepcopy(model)
    plain.confidence = None  # the same logits without the confidence output
    X = np.random.default_rng(0).random((2, 40))
    with torch.no_grad():
        result = saliency_map(model, X, target=1)
        assert not torch.is_grad_enabled()
    assert result.shape == X.shape and result.dtype == np.float32
    assert result.max() > 0
    np.testing.assert_allclose(result, saliency_map(plain, X, target=1), rtol=1e-6)


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_inside_inference_mode(fitted, data, method):
    # the inputs were made inference tensors, which cannot require grad: the
    # gradient methods failed with autograd's "does not require grad"
    X, _ = data
    expected = METHODS[method](fitted, X[:2])
    with torch.inference_mode():
        result = METHODS[method](fitted, torch.as_tensor(X[:2]))
        assert torch.is_inference_mode_enabled()
    np.testing.assert_array_equal(result, expected)


# --------------------------------------------------------------------------- #
# integrated gradients
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("baseline", [None, 1.0])
def test_integrated_gradients_completeness(baseline):
    model = _randomize_offsets(
        _seeded(lambda: CNN1D(3, channels=(8, 8), pooled_length=4))
    )
    X = np.random.default_rng(1).random((4, N_POINTS))
    attribution = integrated_gradients(model, X, target=1, baseline=baseline)
    assert attribution.shape == X.shape
    ref = np.full((1, N_POINTS), 0.0 if baseline is None else baseline)
    with torch.no_grad():
        model.eval()
        gap = model(torch.tensor(X, dtype=torch.float32)) - model(
            torch.tensor(ref, dtype=torch.float32)
        )
    gap = gap[:, 1].numpy()
    assert np.abs(gap).min() > 0.05  # a non-trivial check
    np.testing.assert_allclose(attribution.sum(axis=1), gap, rtol=0.03)
    # attributions are not the gradient times the input at x (the path matters)
    plain = saliency_map(model, X, target=1)
    assert not np.allclose(np.abs(attribution), plain * np.abs(X - ref), rtol=0.05)


def test_integrated_gradients_baseline_of_one_sample_is_broadcast():
    model = _randomize_offsets(
        _seeded(lambda: CNN1D(2, channels=(4,), pooled_length=4))
    )
    X = np.random.default_rng(2).random((3, 30))
    baseline = np.random.default_rng(3).random(30) - 1.0
    a = integrated_gradients(model, X, target=0, baseline=baseline)
    b = integrated_gradients(model, X, target=0, baseline=np.tile(baseline, (3, 1)))
    np.testing.assert_array_equal(a, b)
    c = integrated_gradients(model, X, target=0, baseline=baseline[::-1].copy())
    assert not np.allclose(a, c)


# --------------------------------------------------------------------------- #
# occlusion
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("label", list(CENTERS))
def test_occlusion_highlights_the_planted_peak(fitted, data, label):
    X, y = data
    X = X[y == label][:8]
    occ = occlusion_map(fitted, X, target=label)  # window 6, stride 3
    assert occ.shape == X.shape
    peak = occ.argmax(axis=1)
    assert np.all(np.abs(peak - CENTERS[label]) <= 6), peak
    assert np.all(occ.max(axis=1) > 0.1)
    # the other class's peak carries no evidence for this class
    other = next(c for c in CENTERS.values() if c != CENTERS[label])
    far = occ[:, int(other) - 3 : int(other) + 4]
    assert np.all(far.max(axis=1) < occ.max(axis=1) / 2)


def test_occlusion_2d_window_on_a_linear_model():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12 * 12, 2))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.zero_()
        model[1].weight[0, 5 * 12 + 7] = 4.0  # class 0 looks at pixel (5, 7)
    X = np.ones((1, 1, 12, 12))
    occ = occlusion_map(model, X, target=0, window=(3, 3), stride=3)
    assert occ.shape == X.shape
    expected = np.zeros((12, 12))
    expected[3:6, 6:9] = 1 / (1 + np.exp(-4.0)) - 0.5
    np.testing.assert_allclose(occ[0, 0], expected, atol=1e-6)
    # a stride longer than the window leaves gaps, which get 0
    gaps = occlusion_map(model, X, target=0, window=(1, 1), stride=(5, 7))
    expected = np.zeros((12, 12))
    expected[5, 7] = 1 / (1 + np.exp(-4.0)) - 0.5  # rows 0, 5, 10, 11; cols 0, 7, 11
    np.testing.assert_allclose(gaps[0, 0], expected, atol=1e-6)
    gaps = occlusion_map(model, X, target=0, window=(1, 1), stride=(2, 2))
    np.testing.assert_array_equal(gaps, 0.0)  # row 5 is never occluded


def test_occlusion_matches_the_definition_with_overlapping_windows():
    model = _randomize_offsets(
        _seeded(lambda: CNN1D(3, channels=(4,), pooled_length=4))
    )
    model.eval()
    X = np.random.default_rng(0).random((2, 24))
    occ = occlusion_map(model, X, target=2, window=5, stride=2, fill=-1.0)

    def proba(x):
        with torch.no_grad():
            logits = model(torch.tensor(x, dtype=torch.float32))
        return torch.softmax(logits, 1)[:, 2].numpy()

    total, count = np.zeros_like(X), np.zeros(24)
    for start in [*range(0, 20, 2), 19]:  # a last window ends at the end
        occluded = X.copy()
        occluded[:, start : start + 5] = -1.0
        total[:, start : start + 5] += (proba(X) - proba(occluded))[:, None]
        count[start : start + 5] += 1
    np.testing.assert_allclose(occ, total / count, rtol=1e-5, atol=1e-7)


def test_occlusion_default_window_on_densenet2d_and_fill():
    model = _seeded(lambda: DenseNet2D(3, growth_rate=4, block_config=(1,)))
    X = np.random.default_rng(0).random((2, 1, 16, 16))
    occ = occlusion_map(model, X)
    assert occ.shape == X.shape and np.abs(occ).max() > 0
    # filling with the input's own value changes nothing
    flat = np.full((1, 1, 16, 16), 0.5)
    np.testing.assert_array_equal(occlusion_map(model, flat, fill=0.5), 0.0)


# --------------------------------------------------------------------------- #
# guided back-propagation
# --------------------------------------------------------------------------- #
class _ReferenceGuidedReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = x.clamp(min=0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad.clamp(min=0) * (out > 0)


class _ReferenceReLU(nn.Module):
    def forward(self, x):
        return _ReferenceGuidedReLU.apply(x)


def _reference_guided_backprop(model, X, target):
    ref = copy.deepcopy(model).eval()
    for m in list(ref.modules()):
        for name, child in list(m.named_children()):
            if isinstance(child, nn.ReLU):
                setattr(m, name, _ReferenceReLU())
    x = torch.tensor(X, dtype=torch.float32, requires_grad=True)
    ref(x)[:, target].sum().backward()
    return x.grad.numpy()


def test_guided_backprop_matches_reference_and_restores_the_model():
    model = _randomize_offsets(_seeded(lambda: ResNet1D(3, depth=2, width=8)))
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    assert relus and all(m.inplace for m in relus)
    model.train()
    X = np.random.default_rng(0).random((3, 50))
    x = torch.tensor(X, dtype=torch.float32)
    state = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        before = model.eval()(x)
    model.train()

    result = guided_backprop(model, X, target=2)

    np.testing.assert_allclose(
        result, _reference_guided_backprop(model, X, 2), rtol=1e-5, atol=1e-7
    )
    plain = _reference_plain_gradient(model, X, 2)
    assert np.abs(result - plain).max() > 1e-3 * np.abs(plain).max()
    assert _hooks(model) == []
    assert all(m.inplace for m in model.modules() if isinstance(m, nn.ReLU))
    assert all(m.training for m in model.modules())
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), before, rtol=0, atol=0)


def _reference_plain_gradient(model, X, target):
    model = copy.deepcopy(model).eval()
    x = torch.tensor(X, dtype=torch.float32, requires_grad=True)
    model(x)[:, target].sum().backward()
    return x.grad.numpy()


def test_guided_backprop_removes_hooks_after_an_error():
    model = _seeded(lambda: ResNet1D(3, depth=2, width=8))
    with pytest.raises(ValueError, match="class index in"):
        guided_backprop(model, np.ones((1, 20)), target=7)
    assert _hooks(model) == []


def test_guided_backprop_warns_without_relu_modules():
    model = _seeded(lambda: nn.Linear(5, 2))
    with pytest.warns(UserWarning, match="no torch.nn.ReLU") as record:
        result = guided_backprop(model, np.ones((1, 5)), target=1)
    assert record[0].filename == __file__
    np.testing.assert_array_equal(result[0], model.weight[1].detach().numpy())


# --------------------------------------------------------------------------- #
# attentive response maps
# --------------------------------------------------------------------------- #
def _check_unit_maps(cam, n_samples):
    flat = cam.reshape(n_samples, -1)
    assert flat.min() >= 0 and flat.max() <= 1
    np.testing.assert_allclose(flat.max(axis=1), 1.0)


def test_attentive_response_map_densenet2d():
    model = _seeded(
        lambda: DenseNet2D(3, in_channels=3, growth_rate=4, block_config=(2, 2))
    )
    X = np.random.default_rng(0).random((2, 3, 20, 20))
    cam = attentive_response_map(model, X, target=1)
    assert cam.shape == X.shape
    _check_unit_maps(cam, 2)
    np.testing.assert_array_equal(cam[:, 0], cam[:, 2])  # the same in each channel
    assert cam[0, 0].std() > 0  # not a constant map


def _reference_grad_cam(model, X, target, layer, centres):
    """Grad-CAM of ``layer`` interpolated from the units placed at ``centres``
    (one array per spatial axis, written out by hand from the geometry)."""
    model = copy.deepcopy(model).eval()
    layer = dict(model.named_modules())[layer]
    store = {}
    # a clone goes on: an in-place ReLU after the layer must not change ``a``
    handle = layer.register_forward_hook(
        lambda m, a, out: store.setdefault("a", out).clone()
    )
    logits = model(torch.tensor(X, dtype=torch.float32))
    handle.remove()
    act = store["a"]
    (grad,) = torch.autograd.grad(logits[:, target].sum(), act)
    axes = tuple(range(2, act.ndim))
    cam = torch.relu((grad.mean(axes, keepdim=True) * act).sum(1))
    cam = cam.detach().numpy().astype(np.float64)
    for axis, c in enumerate(centres):  # linear along each axis in turn
        n = X.shape[X.ndim - len(centres) + axis]
        cam = np.apply_along_axis(
            lambda v, c=c, n=n: np.interp(np.arange(n), c, v), axis + 1, cam
        )
    peak = cam.reshape(len(cam), -1).max(1).reshape(-1, *[1] * (cam.ndim - 1))
    return np.where(peak > 0, cam / np.where(peak > 0, peak, 1.0), 0.0)


def test_attentive_response_map_resnet1d_uses_the_last_convolution_run():
    model = _seeded(lambda: ResNet1D(3, depth=2, width=8))
    # registered after conv2 of the last block, but run before it
    assert model.blocks[-1].shortcut is not None
    X = np.random.default_rng(0).random((3, N_POINTS))
    cam = attentive_response_map(model, X, target=0)
    assert cam.shape == X.shape
    _check_unit_maps(cam, 3)
    # stem stride 2, max pool, one stride-2 stage: unit j looks around point 8 j
    reference = _reference_grad_cam(model, X, 0, "blocks.1.conv2", [8 * np.arange(12)])
    np.testing.assert_allclose(cam, reference, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(
        cam, attentive_response_map(model, X, target=0, layer="blocks.1.conv2")
    )
    shortcut = attentive_response_map(
        model, X, target=0, layer=model.blocks[1].shortcut
    )
    assert not np.allclose(cam, shortcut)


def test_attentive_response_map_multi_stream():
    model = _seeded(
        lambda: MultiStreamDenseNet(
            3, n_streams=2, dims=2, growth_rate=4, block_config=(1,)
        )
    )
    X = np.random.default_rng(0).random((2, 2, 1, 12, 12))
    cam = attentive_response_map(model, X)
    assert cam.shape == X.shape
    for s in range(2):  # one map per stream, each normalised
        _check_unit_maps(cam[:, s], 2)


def _isolated_peaks(n_points, positions, width=1.5):
    grid = np.arange(n_points)
    return np.stack([np.exp(-0.5 * ((grid - p) / width) ** 2) for p in positions])


def _even_weights(model):
    """Equal positive weights, no biases, average instead of max pools: each
    unit responds most to what lies at the centre of its receptive field."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv1d | nn.Linear):
                m.weight.fill_(1.0 / m.weight[0].numel())
                if m.bias is not None:
                    m.bias.zero_()
    model.stem[3] = nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False)
    return model.eval()


@pytest.mark.parametrize(
    "factory, n_points, stride, first, seed, target",
    [
        (
            lambda: ResNet1D(3, depth=3, width=8, n_stages=3, stem_stride=4),
            300,
            32,
            96,
            0,
            0,
        ),
        (lambda: ResNet1D(3, depth=2, width=8), 100, 8, 24, 0, 0),
        (
            lambda: DenseNet1D(3, growth_rate=4, block_config=(2, 2, 2)),
            298,
            16,
            54,
            2,
            1,
        ),
        # even kernels: 'same' padding puts one more zero on the right
        (
            lambda: ResNet1D(
                3, depth=3, width=8, n_stages=3, stem_stride=4, kernel_size=4
            ),
            300,
            32,
            96,
            0,
            1,
        ),
    ],
    ids=["resnet-stem-stride-4", "resnet", "densenet", "resnet-even-kernel"],
)
def test_attentive_response_map_moves_with_a_shifted_peak(
    factory, n_points, stride, first, seed, target
):
    # Equivariance: a peak shifted by k points (k a multiple of the layer's
    # stride, so that the units see it alike) moves the map's maximum by k.
    # The input length is not a multiple of the stride: stretched evenly, the
    # units were n_points / n_units points apart instead of the stride.
    model = _seeded(factory, seed).eval()
    positions = first + stride * np.arange(5)
    cam = attentive_response_map(model, _isolated_peaks(n_points, positions), target)
    offsets = cam.argmax(axis=1) - positions
    assert (offsets == offsets[0]).all(), offsets


def test_attentive_response_map_peaks_on_an_isolated_peak():
    # A ResNet with stem stride 4 (64 points per unit, as the shipped models),
    # its units all looking evenly at their fields: the map's maximum lies on
    # the peak, exactly where the peak is at a unit's centre (64 j), within
    # half a stride elsewhere. Stretched evenly over 1000 points, unit j sat at
    # 62.5 j + 30.75: 31 points high at the start, 8 points high at the end.
    model = _even_weights(_seeded(lambda: ResNet1D(2, depth=4, width=4, stem_stride=4)))
    # (its fields span 1119 points: two units from either end, a unit whose
    # field the end cuts off responds less than its inner neighbour)
    centres = 64 * np.arange(3, 13)
    cam = attentive_response_map(model, _isolated_peaks(1000, centres), 0)
    np.testing.assert_array_equal(cam.argmax(axis=1), centres)
    between = np.array([230, 301, 470, 555, 700, 779])
    cam = attentive_response_map(model, _isolated_peaks(1000, between), 0)
    assert np.abs(cam.argmax(axis=1) - between).max() <= 32


@pytest.mark.parametrize(
    "factory, shape, layer, centres, target",
    [
        # 'same' convolutions, max pool 3/2/1, average pools 2/2 in ceil mode
        (
            lambda: DenseNet1D(3, growth_rate=4, block_config=(2, 2, 2)),
            (2, 298),
            "features.4.layers.1.layers.5",
            [16 * np.arange(19) + 6],
            1,
        ),
        # even kernel (one more zero on the right), max pools 3/3 in ceil mode
        (
            lambda: CNN1D(3, channels=(8, 8), kernel_size=4, pool=3),
            (2, 100),
            "features.3",
            [3 * np.arange(34) + 3],
            1,
        ),
        (
            lambda: DenseNet2D(3, growth_rate=4, block_config=(2, 2)),
            (2, 1, 30, 22),
            "features.2.layers.1.layers.5",
            [8 * np.arange(4) + 2, 8 * np.arange(3) + 2],
            1,
        ),
        (
            lambda: FingerprintCNN(3, in_channels=1, channels=(4,) * 6),
            (2, 1, 18, 14),
            "features.17",
            [4 * np.arange(5) + 1.5, 4 * np.arange(4) + 1.5],
            1,
        ),
        # a deep ResNet on a short input: no unit's field lies inside it
        (
            lambda: ResNet1D(3, depth=8, width=4),
            (2, 40),
            "blocks.7.conv2",
            [np.array([0.0, 32.0])],
            0,
        ),
    ],
    ids=["densenet1d", "cnn-even-kernel", "densenet2d", "fingerprint-cnn", "short"],
)
def test_attentive_response_map_places_units_at_their_field_centres(
    factory, shape, layer, centres, target
):
    model = _seeded(factory).eval()
    X = np.random.default_rng(0).random(shape)
    cam = attentive_response_map(model, X, target=target)
    assert cam.shape == X.shape
    reference = _reference_grad_cam(model, X, target, layer, centres)
    assert reference.max() == 1  # not all zeros
    if X.ndim == 4:
        reference = reference[:, None]
    np.testing.assert_allclose(cam, reference, rtol=1e-5, atol=1e-6)
    assert (cam == attentive_response_map(model, X, target=target)).all()  # cached


@pytest.mark.parametrize("n_points", [1, 2, 17, 36, 64, 100])
def test_attentive_response_map_short_inputs_and_even_kernels(n_points):
    # fields wider than the input; a 4-wide stem with stride 4 never sees the
    # last point of 64 (units cover [4 i - 1, 4 i + 2]): no unit's field
    # reaches the input's end, which the probe must not take for a misfit
    model = _seeded(lambda: ResNet1D(3, depth=3, width=4, stem_stride=4, kernel_size=4))
    X = np.random.default_rng(0).random((2, n_points))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cam = attentive_response_map(model.eval(), X, target=0)
    assert cam.shape == X.shape and np.isfinite(cam).all()
    assert cam.min() >= 0 and cam.max() <= 1


def test_attentive_response_map_adaptive_pool_layer():
    # The 4 units of an adaptive pool over 62 points average the uneven bins
    # [0, 16), [15, 31), [31, 47), [46, 62) of a 7-wide convolution: no line
    # a + s j fits every field, so each unit sits at the centre of mass of its
    # field (cut off by the input's ends).
    model = _seeded(lambda: CNN1D(3, channels=(4,), pool=1, pooled_length=4)).eval()
    X = np.random.default_rng(0).random((2, 62))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cam = attentive_response_map(model, X, target=1, layer="features.2")
    centres = []
    for lo, hi in [(0, 16), (15, 31), (31, 47), (46, 62)]:
        field = np.convolve((np.arange(62) >= lo) & (np.arange(62) < hi), np.ones(7))
        field = field[3:-3]  # 'same': the convolution's centre on each point
        centres.append(field @ np.arange(62) / field.sum())
    assert 7.5 < centres[0] < 8.5 and centres[1] == 22.5  # the first is cut off
    reference = _reference_grad_cam(model, X, 1, "features.2", [np.array(centres)])
    assert reference.max() == 1  # not all zeros
    np.testing.assert_allclose(cam, reference, rtol=1e-5, atol=1e-6)


class _PadRight(nn.Module):
    def forward(self, x):
        return F.pad(x, (0, 3))


def test_attentive_response_map_units_without_a_field_warn():
    # three units past the input's end look at nothing: the map is stretched
    model = _seeded(
        lambda: nn.Sequential(
            nn.Conv1d(1, 2, 3, padding=1),
            _PadRight(),
            nn.Conv1d(2, 2, 1),
            nn.Flatten(),
            nn.Linear(2 * 19, 2),
        )
    )
    X = np.random.default_rng(0).random((2, 1, 16))
    with pytest.warns(
        UserWarning, match="could not locate the receptive fields of layer '2'"
    ) as record:
        cam = attentive_response_map(model, X, target=0)
    assert record[0].filename == __file__
    assert cam.shape == X.shape
    _check_unit_maps(cam, 2)
    # stretched evenly (F.interpolate, align_corners=False): 19 units over 16
    evenly = (np.arange(19) + 0.5) * 16 / 19 - 0.5
    reference = _reference_grad_cam(model, X, 0, "2", [evenly])
    np.testing.assert_allclose(cam, reference[:, None], rtol=1e-5, atol=1e-6)


class _TwoMembers(nn.Module):
    """A union of two networks, run in turn: classes 0, 1 of the first, 2, 3 of
    the second (as a UnionClassifier's logit module)."""

    def __init__(self):
        super().__init__()
        self.members = nn.ModuleList(
            [ResNet1D(2, depth=2, width=8), ResNet1D(2, depth=2, width=8)]
        )

    def forward(self, x):
        return torch.cat([member(x) for member in self.members], 1)


def test_attentive_response_map_of_a_union_uses_the_targets_own_member():
    # the last convolution run is the second member's: a class of the first
    # does not depend on it, and its map was zero everywhere
    model = _seeded(_TwoMembers)
    X = np.random.default_rng(0).random((3, N_POINTS))
    for target in range(4):
        member = model.members[target // 2]
        expected = attentive_response_map(member, X, target=target % 2)
        cam = attentive_response_map(model, X, target=target)
        np.testing.assert_array_equal(cam, expected)
    _check_unit_maps(attentive_response_map(model, X, target=0), 3)
    # one target per sample, from either member
    cam = attentive_response_map(model, X, target=[0, 3, 1])
    for i, (m, t) in enumerate([(0, 0), (1, 1), (0, 1)]):
        expected = attentive_response_map(model.members[m], X[i : i + 1], target=t)
        np.testing.assert_allclose(cam[i], expected[0], rtol=1e-5, atol=1e-6)
    assert _hooks(model) == [] and model.training


def test_attentive_response_map_of_a_union_classifier_places_its_units():
    # the union's router predicts with the members inside the forward pass
    # (a call without gradients, which a copy of the model does not make) and
    # takes only its own length: the centres were not found, and the maps
    # stretched evenly, with a warning
    rng = np.random.default_rng(0)
    X = rng.random((40, N_POINTS)).astype(np.float32)
    y = np.repeat(["a", "b", "c", "d"], 10)
    member = ResNetClassifier(
        depth=2, width=8, max_epochs=1, device="cpu", num_threads=1, random_state=0
    )
    union = UnionClassifier(
        member, class_subsets=[["a", "b"], ["c", "d"]], random_state=0
    ).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cam = attentive_response_map(union, X[:3], target="a")
    # by hand: Grad-CAM of member 0's last convolution (its call with
    # gradients), unit j at point 8 j as in a lone ResNet1D of this shape
    module = union._logit_module().eval()
    store = {}

    def keep(m, args, out):
        if torch.is_grad_enabled():
            store["a"] = out
            return out.clone()
        return None

    handle = module.members[0].blocks[1].conv2.register_forward_hook(keep)
    logits = module(torch.tensor(X[:3]))
    handle.remove()
    act = store["a"]
    column = list(union.classes_).index("a")
    (grad,) = torch.autograd.grad(logits[:, column].sum(), act)
    units = torch.relu((grad.mean(2, keepdim=True) * act).sum(1)).detach().numpy()
    reference = np.stack(
        [np.interp(np.arange(N_POINTS), 8 * np.arange(12), u) for u in units]
    )
    reference /= reference.max(1, keepdims=True)
    np.testing.assert_allclose(cam, reference, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- #
# models left as they were, estimators, pipelines, targets
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_leaves_the_model_as_it_was(method):
    model = _seeded(lambda: ResNet1D(3, depth=2, width=8, confidence_head=True))
    model.train()
    model.blocks[0].eval()  # a mixed state, restored module by module
    modes = {name: m.training for name, m in model.named_modules()}
    state = copy.deepcopy(model.state_dict())
    X = np.random.default_rng(0).random((2, 40))
    result = METHODS[method](model, X, target=1)
    assert result.shape == X.shape and np.isfinite(result).all()
    assert {name: m.training for name, m in model.named_modules()} == modes
    assert _hooks(model) == []
    assert all(p.grad is None for p in model.parameters())
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)


def test_estimator_targets_by_label(fitted, data):
    X, y = data
    X = X[::5]
    module = fitted.net_.module_
    by_label = saliency_map(fitted, X, target="P6_3/mmc")
    np.testing.assert_array_equal(by_label, saliency_map(module, X, target=1))
    per_sample = np.where(np.arange(len(X)) % 2, "Fm-3m", "P6_3/mmc")
    mixed = saliency_map(fitted, X, target=per_sample)
    np.testing.assert_array_equal(mixed[1::2], saliency_map(module, X, target=0)[1::2])
    np.testing.assert_array_equal(
        saliency_map(fitted, X), saliency_map(fitted, X, target=fitted.predict(X))
    )
    assert not np.array_equal(by_label, saliency_map(fitted, X, target="Fm-3m"))


def test_pipeline_maps_the_transformed_input(fitted, data):
    X, _ = data
    X = 3.0 * X[:4]  # the normalizer undoes the scaling
    pipe = Pipeline([("norm", PatternNormalizer().fit(X)), ("clf", fitted)])
    transformed = PatternNormalizer().fit_transform(X)
    for method in ("saliency", "integrated_gradients"):
        np.testing.assert_allclose(
            METHODS[method](pipe, X, target="Fm-3m"),
            METHODS[method](fitted, transformed, target="Fm-3m"),
            rtol=1e-6,
        )
    assert not np.allclose(
        saliency_map(pipe, X, target="Fm-3m"), saliency_map(fitted, X, target="Fm-3m")
    )


def _match_first(fitted, X, labels):
    """``fitted`` behind a search-match that always answers (threshold -1),
    with references ``X`` labelled ``labels``."""
    from skxrd.estimators import MatchFirstClassifier, PatternMatchClassifier

    matcher = PatternMatchClassifier().fit(X, labels)
    return MatchFirstClassifier.from_fitted(fitted, matcher, threshold=-1.0)


def test_default_target_is_the_models_answer_not_the_networks(fitted, data):
    # a search-match that overrules the network: the map explains its answer
    X, y = data
    X, y = X[::10], y[::10]
    swapped = np.where(y == "Fm-3m", "P6_3/mmc", "Fm-3m")
    hybrid = _match_first(fitted, X, swapped)
    answers = hybrid.predict(X)
    np.testing.assert_array_equal(answers, swapped)
    assert not np.array_equal(answers, fitted.predict(X))
    for method, attribute in METHODS.items():
        np.testing.assert_array_equal(
            attribute(hybrid, X), attribute(hybrid, X, target=answers), err_msg=method
        )
    display = SaliencyDisplay.from_estimator(hybrid, X, index=0)
    assert display.target_ == answers[0] and display.answer_ is None
    assert display.ax_.get_title().splitlines()[0] == f"Saliency: class {answers[0]}"
    display = AttributionDisplay.from_estimator(hybrid, X[1], method="occlusion")
    assert display.target_ == answers[1]


def test_an_answer_the_network_does_not_output_explains_its_top_class(fitted, data):
    # a search-match's own class has no network output: its map would be 0
    X, _ = data
    X = X[::10]
    hybrid = _match_first(fitted, X, np.where(np.arange(len(X)) % 2, "new1", "new2"))
    network = fitted.predict(X)
    with pytest.warns(UserWarning, match="no output for") as record:
        result = saliency_map(hybrid, X)
    assert len(record) == 1  # one warning, naming each sample
    message = str(record[0].message)
    assert f"sample 0: 'new2' -> '{network[0]}'" in message
    assert f"sample 1: 'new1' -> '{network[1]}'" in message
    assert record[0].filename == __file__
    np.testing.assert_array_equal(result, saliency_map(hybrid, X, target=network))
    assert (result.sum(axis=1) > 0).all()
    with pytest.warns(UserWarning, match="most probable class"):
        display = SaliencyDisplay.from_estimator(hybrid, X, index=0)
    assert (display.target_, display.answer_) == (network[0], "new2")
    assert display.ax_.get_title().splitlines()[0] == (
        f"Saliency: class {network[0]} (the network's; the answer new2 is not "
        "its output)"
    )


def _network_gaps(model, X):
    """Each sample's best logit of the model's logit module minus every other."""
    from skxrd.inspection._attribution import _unwrap

    with torch.no_grad():
        z = _unwrap(model)[0](torch.as_tensor(X)).numpy()
    return z.max(axis=1, keepdims=True) - z


def test_an_answer_far_below_the_networks_best_is_still_explained(fitted, data):
    # a calibrated temperature of 1e-3 spreads the network's logits over
    # thousands: the search-match's answers, network classes far below its
    # best (the old 1e3 logit-gap test took them for classes without an
    # output), are still the classes explained, without a warning
    X, y = data
    X, y = X[::10], y[::10]
    network = copy.deepcopy(fitted)
    network.temperature_ = 1e-3
    swapped = np.where(y == "Fm-3m", "P6_3/mmc", "Fm-3m")
    hybrid = _match_first(network, X, swapped)
    np.testing.assert_array_equal(hybrid.predict(X), swapped)
    columns = np.searchsorted(hybrid.classes_, swapped)
    assert (_network_gaps(hybrid, X)[np.arange(len(X)), columns] > 1e3).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = saliency_map(hybrid, X)
        display = SaliencyDisplay.from_estimator(hybrid, X, index=0)
    np.testing.assert_array_equal(result, saliency_map(hybrid, X, target=swapped))
    assert (result.sum(axis=1) > 0).all()
    assert (display.target_, display.answer_) == (swapped[0], None)
    assert display.ax_.get_title().splitlines()[0] == f"Saliency: class {swapped[0]}"


def test_an_answer_without_output_close_to_the_networks_best_falls_back(fitted, data):
    # network logits shifted to about -99 (the same probabilities) and a
    # temperature of 0.01: the network's best is under 1e3 above the constant
    # -1e4 of the search-match's own classes, which the old logit-gap test
    # took for network outputs (a map of zeros, no warning)
    X, _ = data
    X = X[::10]
    network = copy.deepcopy(fitted)
    head = [m for m in network.net_.module_.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():
        head[-1].bias -= 101.0
    network.temperature_ = 0.01
    expected = fitted.predict(X)
    np.testing.assert_array_equal(network.predict(X), expected)
    answers = np.where(np.arange(len(X)) % 2, "new1", "new2")
    hybrid = _match_first(network, X, answers)
    columns = np.searchsorted(hybrid.classes_, answers)
    assert (_network_gaps(hybrid, X)[np.arange(len(X)), columns] < 1e3).all()
    with pytest.warns(UserWarning, match="no output for") as record:
        result = saliency_map(hybrid, X)
    assert len(record) == 1
    assert f"sample 0: 'new2' -> '{expected[0]}'" in str(record[0].message)
    np.testing.assert_array_equal(result, saliency_map(hybrid, X, target=expected))
    assert (result.sum(axis=1) > 0).all()
    with pytest.warns(UserWarning, match="most probable class"):
        display = SaliencyDisplay.from_estimator(hybrid, X, index=0)
    assert (display.target_, display.answer_) == (expected[0], "new2")
    assert "the answer new2 is not its output" in display.ax_.get_title()


def test_a_target_without_a_network_output_is_said(fitted, data):
    # asked for explicitly, a search-match's own class has a map of zeros:
    # said, not read as "no peak matters"; a class with an output is quiet
    X, _ = data
    X = X[::10]
    answers = np.where(np.arange(len(X)) % 2, "new1", "new2")
    hybrid = _match_first(fitted, X, answers)
    with pytest.warns(UserWarning, match="'new1': the network has no output") as rec:
        result = saliency_map(hybrid, X, target="new1")
    assert len(rec) == 1 and rec[0].filename == __file__
    assert not result.any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert saliency_map(hybrid, X, target=fitted.classes_[0]).any()


def test_lazy_subpackage():
    assert skxrd.inspection.saliency_map is saliency_map


# --------------------------------------------------------------------------- #
# invalid input
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def tiny():
    return _seeded(lambda: ResNet1D(3, depth=2, width=4))


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda est, net: saliency_map(est, np.ones((2, 50))),
            r"shape \(n_samples, 96\)",
        ),
        (lambda est, net: saliency_map(est, np.ones(96)), "sample axis first"),
        (lambda est, net: saliency_map(net, np.ones((0, 96))), "sample axis first"),
        (
            lambda est, net: saliency_map(net, np.ones((2, 2, 96))),
            "does not fit the model",
        ),
        (
            lambda est, net: saliency_map(est, np.full((1, 96), np.nan)),
            "X contains NaN",
        ),
        (lambda est, net: saliency_map(net, [["a", "b"]]), "X must be a numeric array"),
        (
            lambda est, net: saliency_map(est, np.ones((1, 96)), target="Pm-3m"),
            r"target 'Pm-3m' is not a class of the model \(classes_: \['Fm-3m'",
        ),
        (
            lambda est, net: saliency_map(net, np.ones((1, 96)), target=3),
            r"class index in \[0, 3\)",
        ),
        (
            lambda est, net: saliency_map(net, np.ones((2, 96)), target=[0, 1, 2]),
            r"one class or one per sample \(2\)",
        ),
        (lambda est, net: saliency_map("model", np.ones((1, 96))), "fitted skxrd"),
        # what is wrong with an estimator is said: unfitted, or no network
        (
            lambda est, net: saliency_map(ResNetClassifier(), np.ones((1, 96))),
            r"model is an unfitted ResNetClassifier \(no classes_\): fit it",
        ),
        (
            lambda est, net: occlusion_map(
                DummyClassifier().fit(np.ones((2, 96)), [0, 1]), np.ones((1, 96))
            ),
            "model is a DummyClassifier, with no network to take gradients",
        ),
        (
            lambda est, net: saliency_map(
                make_pipeline(PatternNormalizer(), DummyClassifier()).fit(
                    np.ones((2, 96)), [0, 1]
                ),
                np.ones((1, 96)),
            ),
            r"the last step of the Pipeline \('dummyclassifier'\) is a "
            "DummyClassifier, with no network",
        ),
        (
            lambda est, net: saliency_map(ResNetClassifier(), np.ones((1, 96))),
            "fitted skxrd",
        ),
        (
            lambda est, net: integrated_gradients(net, np.ones((2, 96)), baseline=[1]),
            "baseline must be",
        ),
        (
            lambda est, net: integrated_gradients(net, np.ones((1, 96)), n_steps=0),
            "n_steps must be >= 1",
        ),
        (
            lambda est, net: occlusion_map(net, np.ones((1, 96)), window=100),
            r"window \(100,\) is larger",
        ),
        (
            lambda est, net: occlusion_map(net, np.ones((1, 96)), stride=(1, 2)),
            "stride must be an integer or a tuple of 1",
        ),
        (
            lambda est, net: attentive_response_map(
                net, np.ones((1, 96)), layer=nn.Conv1d(1, 1, 1)
            ),
            "layer must be None, a submodule",
        ),
        (
            lambda est, net: attentive_response_map(net, np.ones((1, 96)), layer="x"),
            "layer 'x' is not the name",
        ),
        (
            lambda est, net: AttributionDisplay.from_estimator(
                est, np.ones(96), method="lime"
            ),
            "method must be one of",
        ),
        (
            lambda est, net: AttributionDisplay.from_estimator(
                est, np.ones(96), x_axis=np.arange(10)
            ),
            r"x_axis must have one value per point \(96\)",
        ),
        (
            lambda est, net: AttributionDisplay(
                sample=np.ones((3, 8, 8)), attribution=np.ones((3, 8, 8))
            ).plot(ax=plt.subplots()[1]),
            "ax must hold 2 axes",
        ),
        (
            lambda est, net: AttributionDisplay(
                sample=np.ones(8), attribution=np.ones(7)
            ).plot(),
            "attribution must have the shape of sample",
        ),
    ],
)
def test_invalid_input(fitted, tiny, call, match):
    with pytest.raises(ValueError, match=match):
        call(fitted, tiny)


def test_attentive_response_needs_a_convolution():
    with pytest.raises(ValueError, match="runs no torch.nn.Conv1d"):
        attentive_response_map(nn.Linear(4, 2), np.ones((1, 4)))


# --------------------------------------------------------------------------- #
# displays
# --------------------------------------------------------------------------- #
def test_display_1d_from_estimator(fitted, data):
    X, _ = data
    two_theta = np.linspace(10, 80, N_POINTS)
    display = AttributionDisplay.from_estimator(
        fitted, X[0], method="occlusion", x_axis=two_theta
    )
    assert display.target_ == "Fm-3m"
    np.testing.assert_array_equal(
        display.attribution_, occlusion_map(fitted, X[:1], target="Fm-3m")[0]
    )
    (line,) = display.lines_
    np.testing.assert_allclose(line.get_xdata(), two_theta)
    np.testing.assert_allclose(line.get_ydata(), X[0])
    assert line in display.ax_.lines
    assert isinstance(display.fill_, PolyCollection)
    assert display.fill_ in display.attribution_ax_.collections
    assert display.ax_.get_title() == "Occlusion: class Fm-3m"
    assert display.ax_.get_xlabel() == "2θ (°)"
    assert display.attribution_ax_.get_ylabel() == "Occlusion"
    assert display.figure_ is display.ax_.figure


def test_display_from_estimator_says_the_shape_of_the_one_sample(fitted, data):
    # a batch of one given for one sample: the error named a shape (1, 1, 96)
    # that nobody passed and asked for (n_samples, 96), which it was
    X, _ = data
    with pytest.raises(ValueError, match=r"one pattern of shape \(96,\)") as info:
        AttributionDisplay.from_estimator(fitted, X[:1])
    assert "got shape (1, 96)" in str(info.value)
    assert "n_samples" not in str(info.value) and plt.get_fignums() == []


@pytest.mark.parametrize("method", list(METHODS))
def test_display_every_method_with_given_axes(fitted, data, method):
    X, _ = data
    fig, ax = plt.subplots()
    display = AttributionDisplay.from_estimator(
        fitted, X[-1], method=method, target="P6_3/mmc", ax=ax
    )
    assert display.ax_ is ax and display.figure_ is fig
    assert display.target_ == "P6_3/mmc"
    assert display.attribution_.shape == (N_POINTS,)
    assert "P6_3/mmc" in ax.get_title()
    assert ax.get_xlabel() == "Point index"


def test_display_2d_image():
    model = _seeded(
        lambda: DenseNet2D(2, in_channels=3, growth_rate=4, block_config=(1,))
    )
    image = np.random.default_rng(0).random((3, 12, 12))
    display = AttributionDisplay.from_estimator(model, image, method="saliency")
    assert display.ax_.shape == (2,)
    left, right = display.ax_
    assert len(left.images) == 1 and len(right.images) == 2
    assert left.images[0].get_array().shape == (12, 12, 3)  # RGB
    assert display.overlays_[0] is right.images[1]
    assert display.overlays_[0].get_alpha() == 0.5
    np.testing.assert_allclose(
        display.overlays_[0].get_array(), display.attribution_.sum(0), rtol=1e-6
    )
    assert display.target_ in (0, 1)
    assert right.get_title().startswith("Saliency: class ")


def test_display_multi_stream_one_column_per_stream():
    model = _seeded(
        lambda: MultiStreamDenseNet(
            2, n_streams=3, dims=2, growth_rate=4, block_config=(1,)
        )
    )
    sample = np.random.default_rng(0).random((3, 10, 10))  # (S, H, W), one channel
    display = AttributionDisplay.from_estimator(
        model, sample, method="attentive_response", target=1
    )
    assert display.ax_.shape == (2, 3)
    assert display.attribution_.shape == (3, 1, 10, 10)
    for s in range(3):
        assert len(display.ax_[0, s].images) == 1
        assert display.ax_[0, s].images[0].get_array().shape == (10, 10)  # gray
        assert len(display.ax_[1, s].images) == 2
    assert len(display.images_) == len(display.overlays_) == 3
    assert display.figure_._suptitle.get_text() == "Attentive response: class 1"


# --------------------------------------------------------------------------- #
# wrappers of image classifiers, returned arrays, dtypes, inputs, modes
# --------------------------------------------------------------------------- #
_TINY_FIT = dict(
    max_epochs=1,
    batch_size=8,
    validation_fraction=None,
    device="cpu",
    num_threads=1,
    random_state=0,
)


@pytest.fixture(scope="module")
def image_wrappers():
    from skxrd.estimators import (
        CoarseLabelClassifier,
        EnsembleClassifier,
        FingerprintCNNClassifier,
    )

    X = np.random.default_rng(0).random((12, 3, 6, 5)).astype(np.float32)
    y = np.array([225, 14, 2] * 4)  # space groups, for CoarseLabelClassifier

    def fp(seed=0):
        return FingerprintCNNClassifier(
            channels=(4, 4), **{**_TINY_FIT, "random_state": seed}
        )

    ensemble = EnsembleClassifier([fp(0), fp(1)]).fit(X, y)
    coarse = CoarseLabelClassifier(fp()).fit(X, y)
    return X, {"ensemble": ensemble, "coarse": coarse}


@pytest.mark.parametrize("wrapper", ["ensemble", "coarse"])
def test_maps_of_a_wrapper_around_image_classifiers(image_wrappers, wrapper):
    X, models = image_wrappers
    model = models[wrapper]
    # the sample shape is the wrapped networks' input_shape_, as for a bare one
    assert saliency_map(model, X[:2]).shape == (2, 3, 6, 5)
    assert saliency_map(model, X[:2].reshape(2, -1)).shape == (2, 90)
    display = AttributionDisplay.from_estimator(model, X[0])
    assert display.attribution_.shape == (3, 6, 5)


@pytest.mark.parametrize("method", ["occlusion", "attentive_response"])
def test_maps_spread_over_channels_are_writable_arrays(method):
    model = _seeded(
        lambda: DenseNet2D(2, in_channels=3, growth_rate=4, block_config=(1,))
    )
    result = METHODS[method](model, np.random.default_rng(0).random((2, 3, 8, 8)))
    assert result.flags.c_contiguous and 0 not in result.strides
    before = result[:, 1].copy()
    result[:, 0] = 99.0  # one channel, not all
    np.testing.assert_array_equal(result[:, 1], before)


@pytest.mark.parametrize("method", list(METHODS))
def test_bfloat16_module(method):
    model = _seeded(lambda: CNN1D(3, channels=(4,), pooled_length=4))
    model = model.to(torch.bfloat16)
    X = np.random.default_rng(0).random((2, 16))
    result = METHODS[method](model, X, target=1)
    assert result.shape == X.shape and result.dtype == np.float32
    assert np.isfinite(result).all()


@pytest.mark.parametrize("method", list(METHODS))
def test_a_tensor_that_requires_grad_is_taken_as_its_values(method):
    # numpy refuses such a tensor (and one on a GPU): saliency_map failed
    # with torch's RuntimeError "Can't call numpy() on Tensor that requires
    # grad", the displays likewise
    model = _seeded(lambda: CNN1D(3, channels=(4,), pooled_length=4))
    X = np.random.default_rng(0).random((2, 16))
    given = torch.tensor(X, requires_grad=True)
    expected = METHODS[method](model, X, target=1)
    np.testing.assert_array_equal(METHODS[method](model, given, target=1), expected)
    assert given.grad is None  # the caller's tensor gets no gradient
    display = AttributionDisplay.from_estimator(model, given[1], target=1)
    np.testing.assert_allclose(
        display.attribution_, saliency_map(model, X[1:], target=1)[0], rtol=1e-5
    )
    plt.close(display.figure_)
    display = SaliencyDisplay.from_estimator(model, given, index=1, target=1)
    np.testing.assert_array_equal(display.lines_[0].get_ydata(), X[1])
    plt.close(display.figure_)


@pytest.mark.parametrize("method", list(METHODS))
def test_an_in_place_first_layer_leaves_x_as_given(method):
    if method == "attentive_response":  # needs a convolution
        layers = [nn.ReLU(inplace=True), nn.Unflatten(1, (1, 6)), nn.Conv1d(1, 2, 3)]
        layers += [nn.Flatten(), nn.Linear(8, 2)]
    else:
        layers = [nn.ReLU(inplace=True), nn.Linear(6, 2)]
    model = _seeded(lambda: nn.Sequential(*layers)).double()
    X = np.random.default_rng(0).normal(size=(2, 6))  # float64, negative values
    given = X.copy()
    result = METHODS[method](model, X, target=1)
    np.testing.assert_array_equal(X, given)
    assert result.shape == X.shape and np.isfinite(result).all()
    if method == "saliency":  # |w| where the ReLU passes, 0 where it blocks
        w = model[1].weight[1].detach().numpy()
        np.testing.assert_allclose(result, np.abs(w) * (X > 0))


@pytest.mark.parametrize("method", list(METHODS))
def test_default_target_keeps_the_estimators_training_mode(method):
    from skxrd.estimators import CNNClassifier

    rng = np.random.default_rng(0)
    clf = CNNClassifier(channels=(4,), **_TINY_FIT)
    clf.fit(rng.random((12, 16)).astype(np.float32), np.array([0, 1, 2] * 4))
    clf.net_.module_.train()
    clf.net_.criterion_.train()
    modules = [*clf.net_.module_.modules(), *clf.net_.criterion_.modules()]
    METHODS[method](clf, rng.random((2, 16)))  # target=None: predict is called
    assert all(m.training for m in modules)


@pytest.mark.parametrize(
    "method, desc, kwargs",
    [
        (integrated_gradients, "integrated gradients", {"n_steps": 4}),
        (occlusion_map, "occlusion", {"window": 2}),
    ],
)
def test_the_looping_methods_have_a_progress_bar(method, desc, kwargs, capsys):
    # many forward/backward passes over all of X: minutes for a few hundred
    # patterns on a CPU, with no progress shown before
    model = _seeded(lambda: nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 2)))
    X = np.random.default_rng(0).random((3, 6))
    quiet = method(model, X, target=0, **kwargs)
    assert capsys.readouterr().err == ""
    loud = method(model, X, target=0, verbose=True, **kwargs)
    assert desc in capsys.readouterr().err
    np.testing.assert_array_equal(loud, quiet)
    with pytest.raises(ValueError, match="verbose must be True or False"):
        method(model, X, target=0, verbose="yes", **kwargs)


# --------------------------------------------------------------------------- #
# relations that must hold on any input
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("method", list(METHODS))
def test_the_map_of_a_batch_is_the_maps_of_each_pattern(fitted, data, method):
    # eval mode: a pattern's map does not depend on the others in its batch
    X, _ = data
    X = X[::7]
    kwargs = {"n_steps": 4} if method == "integrated_gradients" else {}
    batch = METHODS[method](fitted, X, **kwargs)
    alone = np.concatenate([METHODS[method](fitted, x[None], **kwargs) for x in X])
    np.testing.assert_allclose(batch, alone, rtol=1e-4, atol=1e-6 * np.abs(batch).max())


def test_integrated_gradients_error_falls_as_n_steps_grows():
    # A ReLU network's path gradient is piecewise constant: Gauss-Legendre
    # converges slowly, but it does converge to the change of the logit.
    model = _randomize_offsets(_seeded(lambda: ResNet1D(3, depth=2, width=8)))
    X = np.random.default_rng(3).random((3, N_POINTS))
    with torch.no_grad():
        model.eval()
        gap = (
            model(torch.tensor(X, dtype=torch.float32))
            - model(torch.zeros(1, N_POINTS))
        )[:, 2].numpy()
    model.train()
    errors = [
        np.abs(integrated_gradients(model, X, target=2, n_steps=n).sum(1) - gap).max()
        for n in (4, 256)
    ]
    assert errors[1] < errors[0] and errors[1] < 0.02 * np.abs(gap).max() + 1e-4


def test_occluding_what_is_already_the_fill_changes_nothing(fitted, data):
    X, _ = data
    X = X[:3].copy()
    X[:, :32] = 0.0
    drop = occlusion_map(fitted, X, window=8, stride=8)
    np.testing.assert_array_equal(drop[:, :32], 0.0)
    assert np.abs(drop[:, 40:]).max() > 0
