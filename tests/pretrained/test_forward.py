"""The numpy forward pass of ResNet1D that ``skxrd predict`` runs: torch's
outputs in float32 rounding, for every shape of the network."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from skxrd.models import ConfidenceHead, ResNet1D
from skxrd.pretrained import _forward
from skxrd.pretrained._forward import NumpyResNet1D


def _trained_like(module, seed):
    """Batch-norm statistics and affine parameters away from their initial
    values (a fresh module's would hide a wrong scale or shift)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.3)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.2)
    return module.eval()


@pytest.mark.parametrize(
    "kwargs, length",
    [
        (dict(depth=1, width=4, kernel_size=7), 100),
        (dict(depth=6, width=8, kernel_size=7, stem_stride=4), 4250),
        (dict(depth=4, width=6, kernel_size=15, stem_stride=4), 333),
        (dict(depth=3, width=5, kernel_size=4, stem_stride=3), 97),  # even kernel
        (dict(depth=5, width=4, kernel_size=3, stem_stride=1, n_stages=2), 64),
        (dict(depth=2, width=4, kernel_size=5, confidence_head=True), 1),
        (dict(depth=8, width=4, kernel_size=7, confidence_head=True), 2),
    ],
)
def test_numpy_resnet_equals_the_module(kwargs, length):
    torch.manual_seed(0)
    module = _trained_like(ResNet1D(7, **kwargs), seed=1)
    state = {k: v.numpy() for k, v in module.state_dict().items()}
    net = NumpyResNet1D(state, kwargs.get("stem_stride", 2))
    x = torch.rand(11, length) ** 3  # peaks on a low floor, as normalized inputs
    with torch.no_grad():
        expected = module(x)
    logits, confidence = net.forward(x.numpy())
    if kwargs.get("confidence_head"):
        expected, expected_confidence = expected
        np.testing.assert_allclose(confidence, expected_confidence, atol=1e-6)
    else:
        assert confidence is None
    assert logits.dtype == np.float32 and logits.shape == (11, 7)
    scale = float(expected.abs().max())
    np.testing.assert_allclose(logits, expected.numpy(), rtol=0, atol=2e-6 * scale)
    assert net.has_head == bool(kwargs.get("confidence_head"))
    assert net.n_classes == 7


def test_float16_weights_compute_as_load_state_dict_casts_them():
    torch.manual_seed(2)
    module = _trained_like(ResNet1D(3, depth=2, width=4), seed=3)
    half = {k: v.half() for k, v in module.state_dict().items()}
    module.load_state_dict(half)  # cast back into the float32 parameters
    net = NumpyResNet1D({k: v.numpy() for k, v in half.items()})
    x = torch.rand(4, 50)
    with torch.no_grad():
        expected = module(x).numpy()
    np.testing.assert_allclose(net.forward(x.numpy())[0], expected, atol=1e-5)


def test_an_answer_does_not_depend_on_what_is_predicted_with_it():
    torch.manual_seed(4)
    module = _trained_like(ResNet1D(5, depth=2, width=4), seed=5)
    net = NumpyResNet1D({k: v.numpy() for k, v in module.state_dict().items()})
    X = np.random.default_rng(0).random((_forward.CHUNK * 2 + 3, 80), np.float32)
    together = net.forward(X)[0]
    for i in (0, _forward.CHUNK, len(X) - 1):
        np.testing.assert_array_equal(net.forward(X[i : i + 1])[0][0], together[i])
    assert net.forward(X[:0])[0].shape == (0, 5)


def test_the_defaults_it_assumes_are_the_modules():
    signature = inspect.signature(ResNet1D)
    assert signature.parameters["stem_stride"].default == _forward.STEM_STRIDE
    assert torch.nn.BatchNorm1d(1).eps == _forward.BN_EPS
    assert ConfidenceHead(1).eps == _forward.CONFIDENCE_EPS


def test_a_state_dict_of_another_network_is_refused():
    from skxrd.models import CNN1D

    with pytest.raises(ValueError, match="not a ResNet1D state dict"):
        NumpyResNet1D({k: v.numpy() for k, v in CNN1D(3).state_dict().items()})
    state = {k: v.numpy() for k, v in ResNet1D(3, in_channels=2).state_dict().items()}
    with pytest.raises(ValueError, match="one input channel"):
        NumpyResNet1D(state)
    net = NumpyResNet1D({k: v.numpy() for k, v in ResNet1D(3).state_dict().items()})
    with pytest.raises(ValueError, match="shape"):
        net.forward(np.zeros(10))
