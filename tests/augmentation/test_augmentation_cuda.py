"""The batch transforms on a CUDA device (skipped without one)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skxrd import augmentation as A  # noqa: E402

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]

TT = A.default_two_theta()

TRANSFORMS = [
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
    A.Normalize(),
    A.Compose([A.PeakShift(), A.GaussianNoise()], normalize=True),
    A.RandomApply(A.LatticeStrain(), p=0.5),
    A.OneOf([A.PoissonNoise(), A.PolynomialBackground()]),
    A.default_augmentation(),
    A.LinearIntensities(A.sample_augmentation(min_snr=6)),
]
IDS = [type(t).__name__ for t in TRANSFORMS]

# With fixed parameters the result does not depend on the device's generator.
FIXED = [
    A.PeakShift(displacement=0.07, zero_offset=-0.01),
    A.LatticeStrain(strain=0.004),
    A.CrystalliteBroadening(size=20.0),
    A.PolynomialBackground(degree=0, amplitude=0.1),
    A.AmorphousHump(center=30.0, width=5.0, amplitude=0.2),
    A.RandomPeakRemoval(probability=1.0),
    A.RandomPeakScaling(probability=1.0, scale=0.5),
    A.RandomPeakScaling(probability=1.0, scale=0.5, min_snr=6),
    A.PreferredOrientationScaling(max_factor=1.0),
    A.GaussianNoise(sigma=0.0),
    A.Normalize(),
]


def _patterns(n=64, device="cuda"):
    g = torch.Generator().manual_seed(0)
    centers = 6 + 82 * torch.rand(n, 12, generator=g)
    heights = 0.05 + torch.rand(n, 12, generator=g)
    t = torch.as_tensor(TT, dtype=torch.float32)
    x = (
        heights[:, :, None] * torch.exp(-(((t - centers[:, :, None]) / 0.05) ** 2))
    ).sum(1)
    return (x / x.amax(1, keepdim=True)).to(device)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("transform", TRANSFORMS, ids=IDS)
def test_on_cuda(transform, dtype):
    x = _patterns().to(dtype)
    before = x.clone()
    g = torch.Generator(device="cuda")
    y1 = transform(x, generator=g.manual_seed(0))
    y2 = transform(x, generator=g.manual_seed(0))
    assert torch.equal(x, before)
    assert y1.device == x.device and y1.dtype == dtype and y1.shape == x.shape
    assert torch.equal(y1, y2)
    assert torch.isfinite(y1.float()).all()
    assert transform(x).device == x.device  # the device's global generator
    with pytest.raises(ValueError, match="generator"):
        transform(x, generator=torch.Generator())


@pytest.mark.parametrize("transform", FIXED, ids=[type(t).__name__ for t in FIXED])
def test_cuda_matches_cpu(transform):
    x = _patterns(device="cpu")
    cpu = transform(x, generator=torch.Generator().manual_seed(0))
    gpu = transform(x.cuda(), generator=torch.Generator("cuda").manual_seed(0))
    np.testing.assert_allclose(gpu.cpu().numpy(), cpu.numpy(), atol=2e-4)


def test_large_batch_on_cuda():
    x = _patterns(4096)
    y = A.default_augmentation()(x, generator=torch.Generator("cuda").manual_seed(0))
    assert y.shape == x.shape and torch.allclose(y.amax(1), torch.ones(4096).cuda())
