"""The plain torch networks of skxrd.models: shapes, gradients, streams, training."""

from __future__ import annotations

import re

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from skxrd.models import (  # noqa: E402
    CNN1D,
    ConfidenceHead,
    DenseNet1D,
    DenseNet2D,
    FingerprintCNN,
    HierarchicalLoss,
    MultiStreamDenseNet,
    ResNet1D,
    confidence_loss,
    n_parameters,
)

LENGTHS = [1, 2, 5, 64, 4250]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Small tensors: one thread is as fast and immune to oversubscribed CPUs."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# small versions of the 1D networks (the defaults are tested at a few places only)
SMALL_1D = {
    "resnet": lambda n, c=1, **kw: ResNet1D(n, c, depth=4, width=8, **kw),
    "resnet_conf": lambda n, c=1, **kw: ResNet1D(
        n, c, depth=4, width=8, confidence_head=True, **kw
    ),
    "densenet": lambda n, c=1, **kw: DenseNet1D(
        n, c, growth_rate=4, block_config=(2, 2), **kw
    ),
    "cnn": lambda n, c=1, **kw: CNN1D(n, c, channels=(8, 8, 8), **kw),
}
DEFAULT_1D = {
    "resnet": lambda n, c=1: ResNet1D(n, c),
    "resnet_conf": lambda n, c=1: ResNet1D(n, c, confidence_head=True),
    "densenet": lambda n, c=1: DenseNet1D(n, c),
    "cnn": lambda n, c=1: CNN1D(n, c),
}


def _logits(out):
    return out[0] if isinstance(out, tuple) else out


def _msdn_small(n_classes, n_streams=3, in_channels=1, dims=1, block_config=(2, 2)):
    return MultiStreamDenseNet(
        n_classes,
        n_streams,
        in_channels,
        dims,
        growth_rate=4,
        block_config=block_config,
    )


# ---------------------------------------------------------------- output shapes


@pytest.mark.parametrize("name", sorted(DEFAULT_1D))
@pytest.mark.parametrize("length", LENGTHS)
def test_default_1d_output_shapes(name, length):
    torch.manual_seed(0)
    model = DEFAULT_1D[name](5).eval()
    with torch.no_grad():
        out2 = model(torch.rand(3, length))
        out3 = model(torch.rand(3, 1, length))
    for out in (out2, out3):
        if name == "resnet_conf":
            logits, confidence = out
            assert confidence.shape == (3,)
        else:
            logits = out
        assert logits.shape == (3, 5)
        assert logits.dtype == torch.float32
        assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", sorted(SMALL_1D))
@pytest.mark.parametrize("length", [1, 2, 3, 5, 64])
def test_tiny_lengths_train_and_backward(name, length):
    """Training mode (batch statistics) and a backward pass work for tiny inputs."""
    torch.manual_seed(0)
    model = SMALL_1D[name](4, 2).train()
    out = model(torch.rand(2, 2, length))
    logits = _logits(out)
    assert logits.shape == (2, 4)
    logits.sum().backward()


@pytest.mark.parametrize("name", sorted(SMALL_1D))
@pytest.mark.parametrize("kernel_size", [1, 2, 4, 5])
def test_any_kernel_size(name, kernel_size):
    torch.manual_seed(0)
    model = SMALL_1D[name](3, kernel_size=kernel_size).eval()
    for length in (1, 2, 7, 100):
        assert _logits(model(torch.rand(2, length))).shape == (2, 3)


@pytest.mark.parametrize("name", sorted(SMALL_1D))
def test_channel_layouts_and_errors(name):
    torch.manual_seed(0)
    model = SMALL_1D[name](3, 2).eval()
    assert _logits(model(torch.rand(4, 2, 50))).shape == (4, 3)
    with pytest.raises(ValueError, match="channel"):
        model(torch.rand(4, 50))  # no channel axis but 2 channels expected
    with pytest.raises(ValueError, match="channels"):
        model(torch.rand(4, 3, 50))
    with pytest.raises(ValueError, match="shape"):
        model(torch.rand(4, 1, 2, 50))


@pytest.mark.parametrize("name", sorted(SMALL_1D))
def test_other_dtypes_are_cast(name):
    torch.manual_seed(0)
    model = SMALL_1D[name](3).eval()
    x = torch.rand(2, 40, dtype=torch.float64)
    expected = _logits(model(x.float()))
    torch.testing.assert_close(_logits(model(x)), expected)


def test_resnet_downsampling_and_stages():
    model = ResNet1D(3, depth=8, width=4).eval()
    widths = [b.conv2.out_channels for b in model.blocks]
    assert widths == [4, 4, 8, 8, 16, 16, 32, 32]
    assert model.num_features == 32
    strides = [b.conv1.stride[0] for b in model.blocks]
    assert strides == [1, 1, 2, 1, 2, 1, 2, 1]
    # uneven depth: blocks spread over the stages, at most `depth` stages
    assert len(ResNet1D(3, depth=5, width=4).blocks) == 5
    assert ResNet1D(3, depth=2, width=4).num_features == 8
    # the trunk reduces 4250 points 32 times (stem 4, stages 8) and 1 stays 1
    x = torch.rand(1, 1, 4250)
    trunk = nn.Sequential(model.stem, model.blocks)
    assert trunk(x).shape[-1] == 133  # ceil(4250 / 32)
    assert trunk(torch.rand(1, 1, 1)).shape[-1] == 1


def test_densenet2d_shapes_and_channels_last():
    torch.manual_seed(0)
    model = DenseNet2D(4, growth_rate=4, block_config=(2, 2)).eval()
    for hw in [(1, 1), (1, 5), (3, 2), (40, 33)]:
        assert model(torch.rand(2, *hw)).shape == (2, 4)
        assert model(torch.rand(2, 1, *hw)).shape == (2, 4)
    x = torch.rand(2, 1, 24, 24)
    expected = model(x)
    model = model.to(memory_format=torch.channels_last)
    out = model(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    three = DenseNet2D(4, in_channels=3, growth_rate=4, block_config=(1,)).eval()
    assert three(torch.rand(2, 3, 9, 9)).shape == (2, 4)


# -------------------------------------------------------------- confidence head


def test_confidence_head_range():
    torch.manual_seed(0)
    model = ResNet1D(6, depth=4, width=8, confidence_head=True).eval()
    with torch.no_grad():
        logits, confidence = model(torch.rand(16, 300))
        assert logits.shape == (16, 6)
        assert confidence.shape == (16,)
        assert ((confidence > 0) & (confidence < 1)).all()
        # saturated sigmoid still stays strictly inside (0, 1)
        head = ConfidenceHead(4)
        head.linear.weight.fill_(100.0)
        c = head(torch.stack([torch.full((4,), 10.0), torch.full((4,), -10.0)]))
        assert ((c > 0) & (c < 1)).all()
        assert torch.isfinite(torch.log(c)).all()
        assert torch.isfinite(torch.log1p(-c)).all()


def test_confidence_loss():
    torch.manual_seed(0)
    logits = torch.randn(8, 3, requires_grad=True)
    confidence = torch.rand(8).clamp(0.05, 0.95).requires_grad_(True)
    target = torch.randint(0, 3, (8,))
    # without hints it is the cross entropy plus the confidence penalty
    loss = confidence_loss(logits, confidence, target, lmbda=0.3, hint_probability=0)
    expected = F.cross_entropy(logits, target) + 0.3 * (-confidence.log()).mean()
    torch.testing.assert_close(loss, expected)
    loss = confidence_loss(logits, confidence, target, hint_probability=1.0)
    loss.backward()
    assert logits.grad.abs().sum() > 0
    assert confidence.grad.abs().sum() > 0
    # the random hints are reproducible with a generator
    a = confidence_loss(
        logits, confidence, target, generator=torch.Generator().manual_seed(1)
    )
    b = confidence_loss(
        logits, confidence, target, generator=torch.Generator().manual_seed(1)
    )
    torch.testing.assert_close(a, b)


# ------------------------------------------------------------------- gradients


@pytest.mark.parametrize("name", sorted(SMALL_1D) + ["msdn", "msdn2d", "densenet2d"])
def test_all_parameters_get_gradients(name):
    torch.manual_seed(0)
    if name == "msdn":
        model, x = _msdn_small(4), torch.rand(6, 3, 80)
    elif name == "msdn2d":
        model, x = _msdn_small(4, n_streams=2, dims=2), torch.rand(6, 2, 12, 12)
    elif name == "densenet2d":
        model = DenseNet2D(4, growth_rate=4, block_config=(2, 2))
        x = torch.rand(6, 12, 12)
    else:
        model, x = SMALL_1D[name](4), torch.rand(6, 80)
    model.train()
    out = model(x)
    target = torch.tensor([0, 1, 2, 3, 0, 1])
    if isinstance(out, tuple):
        loss = confidence_loss(*out, target, hint_probability=1.0)
    else:
        loss = F.cross_entropy(out, target)
    loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname


# ------------------------------------------------------------ multi-stream net


def test_msdn_sums_streams_with_separate_weights():
    torch.manual_seed(0)
    model = _msdn_small(5, n_streams=3).eval()
    assert len(model.streams) == 3
    assert all(isinstance(s, DenseNet1D) for s in model.streams)
    # separate weights: distinct tensors with different initial values
    ids = {id(p) for s in model.streams for p in s.parameters()}
    assert len(ids) == 3 * len(list(model.streams[0].parameters()))
    w = [s.fc.weight for s in model.streams]
    assert not torch.equal(w[0], w[1]) and not torch.equal(w[1], w[2])

    x = torch.rand(4, 3, 100)
    with torch.no_grad():
        parts = [s(x[:, i]) for i, s in enumerate(model.streams)]
        total = model(x)
        torch.testing.assert_close(total, sum(parts), atol=1e-5, rtol=1e-5)
        # same with an explicit channel axis and as a list of streams
        torch.testing.assert_close(model(x.unsqueeze(2)), total)
        torch.testing.assert_close(model(list(x.unbind(1))), total)
        # zeroing the last layer of stream 1 removes its share from the sum
        model.streams[1].fc.weight.zero_()
        model.streams[1].fc.bias.zero_()
        torch.testing.assert_close(model(x), parts[0] + parts[2], atol=1e-5, rtol=1e-5)
        # ... and makes the output blind to stream 1
        y = x.clone()
        y[:, 1] = torch.rand(4, 100)
        torch.testing.assert_close(model(y), model(x))
        y[:, 0] = torch.rand(4, 100)
        assert not torch.allclose(model(y), model(x))


def test_msdn_layouts_2d_and_errors():
    torch.manual_seed(0)
    model = _msdn_small(3, n_streams=2, dims=2).eval()
    assert all(isinstance(s, DenseNet2D) for s in model.streams)
    x = torch.rand(2, 2, 16, 12)
    with torch.no_grad():
        out = model(x)
        assert out.shape == (2, 3)
        torch.testing.assert_close(model(x.unsqueeze(2)), out)
        parts = model.streams[0](x[:, 0]) + model.streams[1](x[:, 1])
        torch.testing.assert_close(out, parts, atol=1e-5, rtol=1e-5)
    # streams of different lengths as a list
    one_d = _msdn_small(3, n_streams=2).eval()
    assert one_d([torch.rand(2, 50), torch.rand(2, 1, 7)]).shape == (2, 3)
    for length in (1, 2, 5):
        assert one_d(torch.rand(2, 2, length)).shape == (2, 3)
    multi = _msdn_small(3, n_streams=2, in_channels=2).eval()
    assert multi(torch.rand(2, 2, 2, 30)).shape == (2, 3)
    with pytest.raises(ValueError, match="shape"):
        multi(torch.rand(2, 2, 30))  # channel axis needed with 2 channels
    with pytest.raises(ValueError, match="streams"):
        one_d(torch.rand(2, 3, 30))
    with pytest.raises(ValueError, match="streams"):
        one_d([torch.rand(2, 30)])
    with pytest.raises(ValueError, match="dims"):
        MultiStreamDenseNet(3, dims=3)


# ------------------------------------------------- determinism and the helpers


@pytest.mark.parametrize("name", sorted(SMALL_1D) + ["msdn"])
def test_eval_determinism_and_seeded_init(name):
    def build(seed):
        torch.manual_seed(seed)
        return _msdn_small(3) if name == "msdn" else SMALL_1D[name](3)

    x = torch.rand(5, 3, 120) if name == "msdn" else torch.rand(5, 120)
    a, b, c = build(0), build(0), build(1)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)
    a.eval()
    with torch.no_grad():
        first = _logits(a(x))
        torch.testing.assert_close(_logits(a(x)), first, rtol=0, atol=0)
        torch.testing.assert_close(_logits(b.eval()(x)), first, rtol=0, atol=0)
    # loading the state dict into a differently seeded model gives the same function
    c.load_state_dict(sa)
    with torch.no_grad():
        torch.testing.assert_close(_logits(c.eval()(x)), first, rtol=0, atol=0)


def test_dropout_active_in_train_mode_only():
    torch.manual_seed(0)
    model = ResNet1D(3, depth=2, width=8, dropout=0.5)
    x = torch.rand(4, 64)
    model.train()
    assert not torch.equal(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))


def test_n_parameters():
    model = CNN1D(3, channels=(4, 4), kernel_size=3, pooled_length=2)
    expected = (1 * 4 * 3 + 4) + (4 * 4 * 3 + 4) + (4 * 2 * 3 + 3)
    assert n_parameters(model) == expected
    model.head[-1].requires_grad_(False)
    assert n_parameters(model, trainable_only=True) == expected - (4 * 2 * 3 + 3)
    for m in (ResNet1D(10), DenseNet1D(10), MultiStreamDenseNet(10), CNN1D(10)):
        assert n_parameters(m) == sum(p.numel() for p in m.parameters())
    # MSDN: one DenseNet per stream
    assert n_parameters(MultiStreamDenseNet(10, n_streams=3)) == 3 * n_parameters(
        DenseNet1D(10)
    )


@pytest.mark.parametrize(
    "factory, kwargs",
    [
        (ResNet1D, dict(depth=0)),
        (ResNet1D, dict(width=0)),
        (ResNet1D, dict(dropout=1.0)),
        (ResNet1D, dict(kernel_size=0)),
        (DenseNet1D, dict(block_config=())),
        (DenseNet1D, dict(growth_rate=0)),
        (CNN1D, dict(channels=())),
        (CNN1D, dict(pool=0)),
        (MultiStreamDenseNet, dict(n_streams=0)),
    ],
)
def test_invalid_hyperparameters(factory, kwargs):
    with pytest.raises(ValueError):
        factory(3, **kwargs)


def test_compiles_in_one_graph():
    """No data-dependent control flow: dynamo traces each model without breaks."""
    torch.manual_seed(0)
    for model, x in [
        (ResNet1D(3, depth=2, width=4, confidence_head=True), torch.rand(2, 50)),
        (_msdn_small(3, n_streams=2, block_config=(1, 1)), torch.rand(2, 2, 50)),
    ]:
        model.eval()
        compiled = torch.compile(model, backend="eager", fullgraph=True)
        expected = model(x)
        out = compiled(x)
        if isinstance(out, tuple):
            torch.testing.assert_close(out[1], expected[1])
        torch.testing.assert_close(_logits(out), _logits(expected))


# ------------------------------------------------------------------ training


def test_resnet_overfits_random_patterns():
    """32 random patterns, 4 classes: 100 % training accuracy within 100 steps."""
    torch.manual_seed(0)
    x = torch.rand(32, 256)
    y = torch.arange(32) % 4
    model = ResNet1D(4, depth=8, width=16)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    accuracy = 0.0
    for step in range(100):
        model.train()
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        if step % 5 == 4:
            model.eval()
            with torch.no_grad():
                accuracy = (model(x).argmax(1) == y).float().mean().item()
            if accuracy == 1.0:
                break
    assert accuracy == 1.0, f"training accuracy {accuracy} after {step + 1} steps"


@pytest.mark.parametrize("name", sorted(SMALL_1D) + ["msdn", "densenet2d"])
def test_pickle_round_trip(name):
    """Estimators pickle the module (joblib, skorch): the copy computes the same."""
    import copy
    import pickle

    torch.manual_seed(0)
    if name == "msdn":
        model, x = _msdn_small(3), torch.rand(2, 3, 40)
    elif name == "densenet2d":
        model = DenseNet2D(3, growth_rate=4, block_config=(1,), kernel_size=4)
        x = torch.rand(2, 9, 9)
    else:
        model, x = SMALL_1D[name](3, kernel_size=4), torch.rand(2, 40)
    model.eval()
    expected = _logits(model(x))
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        torch.testing.assert_close(_logits(clone.eval()(x)), expected)


def test_fingerprint_cnn_images():
    from skxrd.models import FingerprintCNN

    torch.manual_seed(0)
    model = FingerprintCNN(5, channels=(8, 8, 16, 16, 32, 32)).eval()
    assert model(torch.rand(2, 3, 64, 64)).shape == (2, 5)
    assert model(torch.rand(2, 3, 1, 1)).shape == (2, 5)  # any size >= 1
    # three max pools: 64 -> 8 before the global pool
    assert model.features(torch.rand(1, 3, 64, 64)).shape == (1, 32, 8, 8)
    one = FingerprintCNN(2, in_channels=1, channels=(4, 4)).eval()
    assert one(torch.rand(2, 9, 9)).shape == (2, 2)  # channel axis left out
    with pytest.raises(ValueError, match="channels"):
        model(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match="channels must hold"):
        FingerprintCNN(2, channels=())


def test_hierarchical_loss_matches_its_definition():
    torch.manual_seed(0)
    logits, target = torch.randn(6, 5), torch.tensor([0, 1, 2, 3, 4, 0])
    groups = [[0, 0, 1, 1, 2], [0, 1, 1, 1, 0]]
    loss = HierarchicalLoss(groups=groups, weights=[1.0, 0.5], label_smoothing=0.1)
    p = torch.softmax(logits, dim=-1)
    expected = torch.nn.functional.cross_entropy(logits, target, label_smoothing=0.1)
    for group, weight in zip(groups, (1.0, 0.5)):
        member = torch.nn.functional.one_hot(torch.tensor(group)).float()
        p_group = (p @ member)[torch.arange(6), torch.tensor(group)[target]]
        expected = expected + weight * -p_group.log().mean()
    torch.testing.assert_close(loss(logits, target), expected)
    # no groupings and no smoothing: the plain cross-entropy
    torch.testing.assert_close(
        HierarchicalLoss()(logits, target),
        torch.nn.functional.cross_entropy(logits, target),
    )


@pytest.mark.parametrize("weights", [[], [1.0, 0.5]])
def test_hierarchical_loss_reductions(weights):
    # "none" gives the per-sample terms that weighted training weighs; their
    # mean and sum are the other reductions
    torch.manual_seed(0)
    logits, target = torch.randn(6, 5), torch.tensor([0, 1, 2, 3, 4, 0])
    groups = [[0, 0, 1, 1, 2], [0, 1, 1, 1, 0]][: len(weights)]
    kwargs = {"groups": groups, "weights": weights, "label_smoothing": 0.1}
    per_sample = HierarchicalLoss(**kwargs, reduction="none")(logits, target)
    assert per_sample.shape == (6,)
    torch.testing.assert_close(
        per_sample.mean(), HierarchicalLoss(**kwargs)(logits, target)
    )
    total = HierarchicalLoss(**kwargs, reduction="sum")(logits, target)
    torch.testing.assert_close(total, per_sample.sum())
    with pytest.raises(ValueError, match="reduction must be one of"):
        HierarchicalLoss(reduction="avg")


def test_confidence_loss_reductions():
    from skxrd.models import ConfidenceLoss

    torch.manual_seed(0)
    logits, confidence = torch.randn(8, 3), torch.rand(8) * 0.9 + 0.05
    target = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])

    def loss(reduction):
        gen = torch.Generator().manual_seed(1)  # the same hints each time
        return confidence_loss(
            logits, confidence, target, generator=gen, reduction=reduction
        )

    assert loss("none").shape == (8,)
    torch.testing.assert_close(loss("none").mean(), loss("mean"))
    torch.testing.assert_close(loss("none").sum(), loss("sum"))
    # the criterion: lmbda adapts alike whatever the reduction
    mean, none = ConfidenceLoss(), ConfidenceLoss(reduction="none")
    a = mean.eval()((logits, confidence), target)
    b = none.eval()((logits, confidence), target)
    torch.testing.assert_close(b.mean(), a)
    mean.train()((logits, confidence), target)
    none.train()((logits, confidence), target)
    assert mean.lmbda == none.lmbda
    with pytest.raises(ValueError, match="reduction must be one of"):
        ConfidenceLoss(reduction=None)


def test_hierarchical_loss_gradients_stay_finite():
    # very confident logits in a wrong group: the log-sum-exp over -inf
    # memberships must not turn into NaN
    logits = torch.tensor(
        [[-80.0, 60.0, -80.0], [90.0, -90.0, 0.0]], requires_grad=True
    )
    loss = HierarchicalLoss(groups=[[0, 1, 1]], weights=[2.0])
    value = loss(logits, torch.tensor([0, 2]))
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(logits.grad).all()
    # bf16 logits (autocast on GPUs) are computed in float32
    assert loss(logits.detach().bfloat16(), torch.tensor([0, 2])).dtype == torch.float32


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"groups": [[0, 1]], "weights": []}, "one weight per grouping"),
        ({"groups": [[0, 1]], "weights": [-1.0]}, "weights must be"),
        ({"groups": [[0, 2]], "weights": [1.0]}, "without classes"),
        ({"groups": [[0, 1], [0, 0, 1]], "weights": [1, 1]}, "has 3 classes"),
        ({"groups": [[-1, 0]], "weights": [1.0]}, "group indices"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
    ],
)
def test_hierarchical_loss_rejects_bad_groupings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HierarchicalLoss(**kwargs)


def test_hierarchical_loss_rejects_wrong_outputs():
    loss = HierarchicalLoss(groups=[[0, 0, 1]], weights=[1.0])
    with pytest.raises(ValueError, match="built for 3 classes, got logits of 4"):
        loss(torch.zeros(2, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="confidence head"):
        loss((torch.zeros(2, 3), torch.ones(2)), torch.tensor([0, 1]))


def test_confidence_parameters_are_checked():
    # "no" is truthy (a head was built); eps 0.7 clamped every confidence to
    # 0.3 and eps -1 let log c reach -inf
    with pytest.raises(ValueError, match="confidence_head must be True or False"):
        ResNet1D(3, depth=2, width=4, confidence_head="no")
    # numpy's True, which ResNetClassifier accepts and passes on
    import numpy as np

    assert ResNet1D(3, depth=2, width=4, confidence_head=np.True_).confidence
    for eps, message in [
        (0.7, "eps must be < 0.5, got 0.7"),
        (0.5, "eps must be < 0.5, got 0.5"),
        (0.0, "eps must be > 0.0, got 0.0"),
        (-1.0, "eps must be > 0.0, got -1.0"),
        (True, "eps must be a number, got True"),
        ("a", "eps must be a number, got 'a'"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            ConfidenceHead(4, eps=eps)
    c = ConfidenceHead(4, eps=0.1)(torch.randn(64, 4) * 100)
    assert float(c.min()) == pytest.approx(0.1) or float(c.min()) > 0.1
    assert float(c.max()) <= 0.9 + 1e-7


# ------------------------------------------------ inputs the networks refuse


def _all_small():
    return {
        **{name: (make, 1) for name, make in SMALL_1D.items()},
        "densenet2d": (
            lambda n, c=1: DenseNet2D(n, c, growth_rate=4, block_config=(2, 2)),
            2,
        ),
        "fingerprint": (lambda n, c=1: FingerprintCNN(n, c, channels=(4, 4)), 2),
    }


@pytest.mark.parametrize("name", sorted(_all_small()))
def test_empty_length_is_one_clear_error(name):
    """A length (or side) of 0 gave torch's "Kernel size can't be greater than
    actual input size" (RuntimeError) from deep inside the first convolution."""
    make, dims = _all_small()[name]
    model = make(3).eval()
    shapes = [(2, 1, 0)] if dims == 1 else [(2, 1, 0, 5), (2, 1, 5, 0)]
    what = "length" if dims == 1 else "height and width"
    for shape in shapes:
        with pytest.raises(
            ValueError, match=f"is empty: the model needs a {what} >= 1"
        ):
            model(torch.rand(*shape))
    # an empty batch of non-empty patterns stays an empty answer
    assert _logits(model(torch.rand(0, 1, *([5] * dims)))).shape == (0, 3)


@pytest.mark.parametrize("name", sorted(_all_small()))
def test_complex_input_is_refused(name):
    """The cast to float dropped the imaginary part with only a torch warning."""
    make, dims = _all_small()[name]
    model = make(3).eval()
    x = torch.rand(2, 1, *([9] * dims), dtype=torch.complex64)
    with pytest.raises(TypeError, match="input must be real.*complex64"):
        model(x)


@pytest.mark.parametrize(
    "make, shape, minimum",
    [
        (lambda: ResNet1D(3), (1, 1, 32), "a length >= 33"),
        (
            lambda: ResNet1D(3, depth=2, width=4, n_stages=2, stem_stride=1),
            (1, 4),
            "a length >= 5",
        ),
        (lambda: DenseNet1D(3), (1, 1, 16), "a length >= 17"),
        (
            lambda: DenseNet2D(3, growth_rate=4),
            (1, 1, 16, 9),
            "a height or width >= 17",
        ),
    ],
    ids=["resnet", "resnet-2-stages", "densenet", "densenet2d"],
)
def test_training_batch_of_one_names_the_length_and_the_minimum(make, shape, minimum):
    """Training-mode BatchNorm with one value per channel raised torch's
    "Expected more than 1 value per channel when training, got input size
    torch.Size([1, 8, 1])", naming neither the input's length nor the minimum."""
    torch.manual_seed(0)
    model = make().train()
    size = " x ".join(map(str, shape[2:])) if len(shape) > 3 else str(shape[-1])
    with pytest.raises(ValueError, match=re.escape(minimum)) as info:
        model(torch.rand(*shape))
    assert type(model).__name__ in str(info.value)
    assert (f"length {size}" if len(shape) <= 3 else f"size {size}") in str(info.value)
    assert "batch of 2" in str(info.value) and ".eval()" in str(info.value)
    # one more point, a second pattern or eval mode: it runs
    longer = (*shape[:-1], shape[-1] + 1) if len(shape) <= 3 else (1, 1, 17, 9)
    assert _logits(model(torch.rand(*longer))).shape == (1, 3)
    assert _logits(model(torch.rand(2, *shape[1:]))).shape == (2, 3)
    with torch.no_grad():
        assert _logits(model.eval()(torch.rand(*shape))).shape == (1, 3)


def test_fingerprint_training_batch_of_one_image():
    model = FingerprintCNN(3).train()  # two pools before the last BatchNorm
    with pytest.raises(ValueError, match=r"size 4 x 3 .* a height or width >= 5"):
        model(torch.rand(1, 3, 4, 3))
    assert model(torch.rand(1, 3, 5, 1)).shape == (1, 3)
    assert FingerprintCNN(3, channels=(4,)).train()(torch.rand(1, 3, 1, 2)).shape == (
        1,
        3,
    )


@pytest.mark.parametrize(
    "make, dims",
    [
        (lambda: ResNet1D(2, depth=3, width=4, n_stages=3, stem_stride=3), 1),
        (lambda: DenseNet1D(2, growth_rate=2, block_config=(1, 1, 1)), 1),
        (lambda: DenseNet2D(2, growth_rate=2, block_config=(1, 1)), 2),
        (lambda: FingerprintCNN(2, channels=(4, 4, 4, 4)), 2),
    ],
    ids=["resnet", "densenet", "densenet2d", "fingerprint"],
)
def test_training_batch_of_one_check_matches_batchnorm(make, dims):
    """The check refuses exactly the inputs that training-mode BatchNorm refuses."""
    torch.manual_seed(0)
    model = make().train()
    sizes = [(n,) for n in range(1, 60)]
    if dims == 2:
        sizes = [(h, w) for h in range(1, 12) for w in range(1, 12)]
    for size in sizes:
        x = torch.rand(1, model.in_channels, *size)
        try:
            model(x)
            refused = False
        except ValueError:
            refused = True
        downsampling, model._downsampling = model._downsampling, None
        try:
            model(x)
            torch_refuses = False
        except ValueError as exc:
            assert "Expected more than 1 value per channel" in str(exc)
            torch_refuses = True
        finally:
            model._downsampling = downsampling
        assert refused == torch_refuses, size


def test_msdn_streams_of_different_batch_sizes_are_refused():
    # a list of streams with batch sizes 1 and 4 broadcast to (4, n_classes):
    # the one sample's stream logits were added to all four samples
    model = _msdn_small(3, n_streams=2).eval()
    with pytest.raises(ValueError, match=r"same batch size, got \[1, 4\]"):
        model([torch.rand(1, 50), torch.rand(4, 50)])
    assert model([torch.rand(4, 50), torch.rand(4, 20)]).shape == (4, 3)
