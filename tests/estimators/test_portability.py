"""Pickle and joblib round trips, devices, and a model saved on a GPU on a CPU."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
from estimator_data import FAST, TINY_RESNET

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from skorch.exceptions import DeviceWarning  # noqa: E402

from skxrd.estimators import (  # noqa: E402
    CNNClassifier,
    DenseNetClassifier,
    ResNetClassifier,
)


@pytest.mark.parametrize(
    "estimator",
    [
        ResNetClassifier(**TINY_RESNET, **FAST),
        DenseNetClassifier(growth_rate=4, block_config=(1,), **FAST),
        CNNClassifier(channels=(8,), **FAST),
    ],
    ids=["resnet", "densenet", "cnn"],
)
def test_joblib_round_trip(estimator, data, tmp_path):
    X, y, _ = data
    clf = estimator.fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.get_params() == clf.get_params()
    # a loaded model trains on (warm start)
    loaded.set_params(warm_start=True, max_epochs=2).fit(X, y)
    assert loaded.n_epochs_ == 2


class _TensorSpy(pickle.Pickler):
    """Records the tensors, storages and generators pickled in the main stream."""

    def __init__(self, file):
        super().__init__(file)
        self.found = []

    def reducer_override(self, obj):
        if isinstance(obj, torch.Tensor | torch.UntypedStorage | torch.Generator):
            self.found.append(type(obj).__name__)
        elif isinstance(obj, torch.optim.Optimizer | torch.nn.Module):
            self.found.append(type(obj).__name__)
        return NotImplemented


@pytest.mark.parametrize(
    "params", [{}, {"lr_schedule": "plateau"}, {"augment": "counting"}]
)
def test_device_state_lives_where_skorch_maps_it(params, data):
    """Outside skorch's device-mapped attributes (module, optimizer, criterion),
    a pickled model holds no tensor, module, optimizer or generator: a model
    saved on a GPU then loads on a CPU-only machine."""
    X, y, _ = data
    if params.get("augment") == "counting":
        params = {"augment": _noise}
    clf = ResNetClassifier(**TINY_RESNET, **{**FAST, "max_epochs": 3, **params})
    clf.fit(X, y)
    spy = _TensorSpy(io.BytesIO())
    spy.dump(clf)
    assert spy.found == []


def _noise(x, generator=None):
    return x + 0.01 * torch.randn(x.shape, generator=generator, device=x.device)


def test_model_saved_on_cuda_loads_on_cpu(data, monkeypatch):
    """Fake a model saved on a GPU: skorch maps it to the CPU, with a warning."""
    X, y, _ = data
    clf = ResNetClassifier(**TINY_RESNET, **FAST).fit(X, y)
    expected = clf.predict_proba(X)
    clf.net_.device = "cuda"
    blob = pickle.dumps(clf)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning):
        loaded = pickle.loads(blob)
    assert str(loaded.net_.device) == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert not loaded.__sklearn_tags__().non_deterministic


def test_set_device(data):
    X, y, _ = data
    clf = ResNetClassifier(**TINY_RESNET, **FAST).fit(X, y)
    expected = clf.predict_proba(X)
    assert clf.set_device("cpu") is clf
    assert str(clf.net_.device) == "cpu"
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    assert clf.get_params()["device"] == FAST["device"]  # the parameter stays


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_bf16_and_load_on_cpu(data, tmp_path):
    X, y, _ = data
    clf = ResNetClassifier(**TINY_RESNET, **{**FAST, "device": "cuda"})
    clf.fit(X, y)
    assert str(clf.net_.device).startswith("cuda")
    assert next(clf.net_.module_.parameters()).is_cuda
    assert clf.__sklearn_tags__().non_deterministic
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, y) >= 0.9
    # the same seed gives about the same model (GPU kernels are not bit-exact)
    again = ResNetClassifier(**TINY_RESNET, **{**FAST, "device": "cuda"}).fit(X, y)
    assert np.mean(again.predict(X) == clf.predict(X)) >= 0.9
    # default device "auto" picks the GPU, with bf16 autocast
    auto_params = {**FAST, "device": "auto", "augment": _noise}
    auto = ResNetClassifier(**TINY_RESNET, **auto_params).fit(X, y)
    assert str(auto.net_.device).startswith("cuda")
    # a model saved on the GPU loads on a machine without one
    path = tmp_path / "gpu.joblib"
    joblib.dump(clf, path)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "proba.npy", proba)
    script = textwrap.dedent(
        f"""
        import warnings, joblib, numpy as np, torch
        assert not torch.cuda.is_available()
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            clf = joblib.load({str(path)!r})
        assert str(clf.net_.device) == "cpu", clf.net_.device
        X = np.load({str(tmp_path / "X.npy")!r})
        proba = clf.predict_proba(X)
        gpu = np.load({str(tmp_path / "proba.npy")!r})  # bf16 there, float32 here
        assert np.mean(proba.argmax(1) == gpu.argmax(1)) >= 0.9
        np.testing.assert_allclose(proba, gpu, atol=0.1)
        clf.set_params(warm_start=True, max_epochs=1, device="cpu").fit(
            X, clf.predict(X))
        print("ok")
        """
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
    # and moves back to the GPU
    loaded = joblib.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded.set_device("cpu").set_device("cuda")
    np.testing.assert_allclose(loaded.predict_proba(X), proba, atol=1e-3)


def test_simulators_and_estimators_resolve_devices_with_one_function(data):
    # once two functions: the estimators passed "cuda:7" on to torch, the
    # simulator named the missing GPU (issue 20)
    from skxrd.estimators import _device
    from skxrd.simulation import _torch_backend
    from skxrd.utils._torch import resolve_device

    assert _torch_backend.resolve_device is resolve_device
    X, y, _ = data
    for bad, match in (("tpu7", "unknown torch device 'tpu7'"), ("meta", "'meta'")):
        with pytest.raises(ValueError, match=match):
            ResNetClassifier(**TINY_RESNET, **{**FAST, "device": bad}).fit(X, y)
    assert _device._resolve_device(None).type in ("cpu", "cuda")
    gpus = torch.cuda.device_count()
    with pytest.raises(ValueError, match="CUDA"):
        ResNetClassifier(**TINY_RESNET, **{**FAST, "device": f"cuda:{gpus}"}).fit(X, y)
