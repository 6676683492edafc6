"""Training through Hugging Face accelerate and with torch.compile (on the CPU).

The multi-GPU path (``accelerate launch --multi_gpu``) is the same code with a
distributed accelerator; here a single-process CPU accelerator checks that the
wiring trains the same model as the plain path and leaves a plain, picklable
estimator behind.
"""

from __future__ import annotations

import pickle
import re
import sys

import numpy as np
import pytest
from estimator_data import FAST, TINY_RESNET, small_store

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from skxrd.estimators import ResNetClassifier  # noqa: E402
from skxrd.estimators._net import _SkxrdNet  # noqa: E402

CPU_ACCELERATOR = {"cpu": True}


@pytest.fixture(autouse=True)
def fresh_accelerator_state():
    """accelerate's state (mixed precision...) is process-wide: reset it."""
    try:
        from accelerate.state import AcceleratorState
    except ImportError:
        yield
        return
    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


def _resnet(**params):
    return ResNetClassifier(**TINY_RESNET, **{**FAST, "max_epochs": 3, **params})


def _accelerated(**params):
    pytest.importorskip("accelerate")
    # the accelerator places the network: device stays "auto"
    return _resnet(**{"device": "auto", "accelerate": CPU_ACCELERATOR, **params})


class NoisyAugment:
    """Adds seeded noise; counts the batches it sees."""

    def __init__(self):
        self.calls = 0

    def __call__(self, x, generator=None):
        self.calls += 1
        return x + 0.05 * torch.randn(x.shape, generator=generator, device=x.device)


def test_accelerate_trains_the_same_model_as_the_plain_path(data):
    X, y, _ = data
    plain = _resnet(validation_fraction=0.25).fit(X, y)
    accelerated = _accelerated(validation_fraction=0.25).fit(X, y)
    np.testing.assert_array_equal(
        accelerated.history_[:, "train_loss"], plain.history_[:, "train_loss"]
    )
    np.testing.assert_array_equal(
        accelerated.history_[:, "valid_loss"], plain.history_[:, "valid_loss"]
    )
    np.testing.assert_array_equal(accelerated.predict_proba(X), plain.predict_proba(X))
    # the fitted estimator holds a plain net: it pickles and predicts the same
    assert type(accelerated.net_) is _SkxrdNet
    assert accelerated.net_.device == "cpu"
    again = pickle.loads(pickle.dumps(accelerated))
    np.testing.assert_array_equal(again.predict_proba(X), plain.predict_proba(X))


def test_accelerate_and_compile_train_the_same_weighted_model(data):
    # the batches carry the weights through the accelerator's data loader and
    # the compiled (per-sample) criterion
    X, y, _ = data
    w = np.where(np.arange(len(y)) % 4 == 0, 0.0, np.linspace(0.5, 2.0, len(y)))
    params = {"validation_fraction": 0.25, "class_weight": {14: 1.5}}
    plain = _resnet(**params).fit(X, y, sample_weight=w)
    for other in (
        _accelerated(**params).fit(X, y, sample_weight=w),
        _resnet(compile={"backend": "eager"}, **params).fit(X, y, sample_weight=w),
    ):
        for name in ("train_loss", "valid_loss"):
            np.testing.assert_array_equal(
                other.history_[:, name], plain.history_[:, name]
            )
        np.testing.assert_array_equal(other.predict_proba(X), plain.predict_proba(X))
    assert not np.array_equal(
        plain.predict_proba(X),
        _resnet(validation_fraction=0.25).fit(X, y).predict_proba(X),
    )


def test_accelerate_augments_training_batches_reproducibly(data):
    X, y, _ = data
    augment = NoisyAugment()
    p1 = _accelerated(augment=augment).fit(X, y).predict_proba(X)
    assert augment.calls == 3 * 5  # 40 patterns in batches of 8, 3 epochs
    p2 = _accelerated(augment=NoisyAugment()).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    plain = _resnet(augment=NoisyAugment()).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, plain)
    assert not np.array_equal(p1, _accelerated().fit(X, y).predict_proba(X))


def test_accelerate_with_bf16_and_a_confidence_head(data):
    X, y, _ = data
    _accelerated(max_epochs=1).fit(X, y)
    # the process's accelerator state is set: another precision is refused
    with pytest.raises(ValueError, match="cannot be changed"):
        _accelerated(accelerate={"cpu": True, "mixed_precision": "bf16"}).fit(X, y)
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    clf = _accelerated(
        accelerate={"cpu": True, "mixed_precision": "bf16"},
        confidence_head=True,
        max_epochs=15,
    ).fit(X, y)
    assert np.isfinite(clf.history_[:, "train_loss"]).all()
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    confidence = clf.predict_confidence(X)
    assert ((confidence > 0) & (confidence < 1)).all()
    assert clf.score(X, y) > 0.9
    # bf16 forward passes: close to, not equal to, the float32 model
    float32 = _resnet(confidence_head=True, max_epochs=15).fit(X, y)
    difference = np.abs(proba - float32.predict_proba(X)).max()
    assert 0 < difference < 0.1


def test_accelerate_warm_start_and_quiet_by_default(data, capsys):
    X, y, _ = data
    clf = _accelerated(warm_start=True, max_epochs=1).fit(X, y)
    before = {k: v.clone() for k, v in clf.net_.module_.state_dict().items()}
    clf.fit(X, y)
    after = clf.net_.module_.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert capsys.readouterr().out == ""  # verbose=0
    _accelerated(verbose=1, max_epochs=1).fit(X, y)
    assert "train_loss" in capsys.readouterr().out


def test_accelerate_with_checkpoint_dir_keeps_the_best_epoch(data, tmp_path):
    # no resume state with accelerate (its wrapped optimizer and processes are
    # not covered); the resume callback crashed on the run it had no name for
    X, y, _ = data
    clf = _accelerated(checkpoint_dir=tmp_path, validation_fraction=0.25).fit(X, y)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 3, names
    run = r"[0-9a-f]{16}-[0-9a-f]{8}-"
    for name, kind in zip(names, ("history.json", "optimizer.pt", "params.pt")):
        assert re.fullmatch(run + re.escape(kind), name)
    before = clf.predict_proba(X)
    clf.net_.load_params(f_params=tmp_path / names[2])
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_accelerate_trains_from_a_pattern_store(tmp_path):
    from skxrd.datasets import PatternStore

    path = small_store(tmp_path / "train.h5")
    with PatternStore(path) as store:
        X, y = store.X[:], store.y[:]
        on_disk = _accelerated(batch_size=16).fit(store)
        in_memory = _resnet(batch_size=16).fit(X, y)
        np.testing.assert_array_equal(
            on_disk.predict_proba(store), in_memory.predict_proba(X)
        )


def test_compile_trains_the_same_model_and_keeps_the_plain_network(data):
    X, y, _ = data
    plain = _resnet().fit(X, y)
    # the eager backend checks the wiring without minutes of C++ compilation
    compiled = _resnet(compile={"backend": "eager"}).fit(X, y)
    np.testing.assert_array_equal(compiled.predict_proba(X), plain.predict_proba(X))
    assert type(compiled.net_.module_).__name__ == "ResNet1D"
    assert not compiled.net_.compile
    state = compiled.net_.module_.state_dict()
    assert not any(key.startswith("_orig_mod") for key in state)
    again = pickle.loads(pickle.dumps(compiled))
    np.testing.assert_array_equal(again.predict_proba(X), plain.predict_proba(X))
    # warm start from a compiled fit, into a compiled fit
    compiled.set_params(warm_start=True).fit(X, y)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"compile": "yes"}, "compile must be True, False or a dict"),
        ({"accelerate": "cuda"}, "accelerate must be True, False or a dict"),
        ({"accelerate": True, "device": "cpu"}, "leave device='auto'"),
        (
            {"accelerate": True, "device": "auto", "precision": "bf16"},
            "leave precision='auto'",
        ),
    ],
)
def test_bad_compile_and_accelerate_parameters(data, params, message):
    X, y, _ = data
    with pytest.raises(ValueError, match=message):
        _resnet(**params).fit(X, y)


def test_bad_accelerator_arguments_name_the_parameter(data):
    pytest.importorskip("accelerate")
    X, y, _ = data
    with pytest.raises(ValueError, match=r"accelerate=\{'no_such_option': 1\}"):
        _resnet(device="auto", accelerate={"no_such_option": 1}).fit(X, y)


def test_accelerate_without_the_package_says_how_to_install(data, monkeypatch):
    X, y, _ = data
    monkeypatch.setitem(sys.modules, "accelerate", None)
    with pytest.raises(ImportError, match="pip install accelerate"):
        _resnet(device="auto", accelerate=True).fit(X, y)
