"""MSDNClassifier and FingerprintCNNClassifier: image layouts and training."""

from __future__ import annotations

import io

import joblib
import numpy as np
import pytest
from estimator_data import FAST
from sklearn.base import clone

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from skxrd.estimators import FingerprintCNNClassifier, MSDNClassifier  # noqa: E402
from skxrd.models import FingerprintCNN, MultiStreamDenseNet  # noqa: E402

IMAGE_FAST = {**FAST, "batch_size": 4}
MSDN = MSDNClassifier(growth_rate=4, block_config=(1,), **IMAGE_FAST)
FINGERPRINT = FingerprintCNNClassifier(channels=(8, 8), **IMAGE_FAST)


def _spots(shape, n_per_class=10, seed=0):
    """Two classes of noisy images; class "b" has a bright 2x2 spot at (4, 4)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(["a", "b"], n_per_class)
    X = (rng.random((len(y),) + shape) * 0.1).astype(np.float32)
    X[y == "b", ..., 4:6, 4:6] += 1.0
    return X, y


def test_msdn_streams_and_channels_from_data():
    X, y = _spots((3, 2, 12, 10))
    clf = clone(MSDN).fit(X, y)
    assert clf.input_shape_ == (3, 2, 12, 10)
    assert clf.n_features_in_ == 3 * 2 * 12 * 10
    module = clf.net_.module_
    assert isinstance(module, MultiStreamDenseNet)
    assert len(module.streams) == 3
    assert clf.score(X, y) == 1.0
    # flattened images give the same probabilities
    np.testing.assert_array_equal(
        clf.predict_proba(X.reshape(len(X), -1)), clf.predict_proba(X)
    )
    # a missing channel axis means one channel
    X1, y1 = _spots((3, 12, 12))
    assert clone(MSDN).fit(X1, y1).input_shape_ == (3, 1, 12, 12)


def test_fingerprint_channels_and_input_shape():
    X, y = _spots((3, 16, 16))
    clf = clone(FINGERPRINT).fit(X, y)
    assert isinstance(clf.net_.module_, FingerprintCNN)
    assert clf.input_shape_ == (3, 16, 16)
    assert clf.score(X, y) == 1.0
    flat = clone(FINGERPRINT).set_params(input_shape=(3, 16, 16))
    flat.fit(X.reshape(len(X), -1), y)
    assert flat.input_shape_ == (3, 16, 16)
    np.testing.assert_array_equal(flat.predict(X), clf.predict(X))
    # survives pickling
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(
        joblib.load(buffer).predict_proba(X), clf.predict_proba(X)
    )


def test_image_input_errors():
    X, y = _spots((3, 16, 16))
    clf = clone(FINGERPRINT).fit(X, y)
    with pytest.raises(ValueError, match="fitted on samples of shape"):
        clf.predict(X[:, :, :8, :8])
    with pytest.raises(ValueError, match="features"):
        clf.predict(X.reshape(len(X), -1)[:, :100])
    shaped = clone(FINGERPRINT).set_params(input_shape=(3, 16, 16))
    with pytest.raises(ValueError, match=r"input_shape=\(3, 16, 16\) holds 768"):
        shaped.fit(np.zeros((len(X), 700), np.float32), y)
    with pytest.raises(ValueError, match="one sample as"):
        clone(FINGERPRINT).fit(np.zeros((len(X), 2, 3, 4, 5), np.float32), y)
    with pytest.raises(ValueError, match="augment='default' is the augmentation"):
        clone(FINGERPRINT).set_params(augment="default").fit(X, y)
    bad = X.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clone(FINGERPRINT).fit(bad, y)
    # nested lists are array-like; an empty X and a bad input_shape are named
    np.testing.assert_array_equal(clf.predict(X.tolist()), clf.predict(X))
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        clf.predict(X[:0])
    with pytest.raises(ValueError, match="input_shape must describe one sample"):
        clone(FINGERPRINT).set_params(input_shape="16x16").fit(X.reshape(len(X), -1), y)
    with pytest.raises(ValueError, match="block_config must be a sequence"):
        MSDNClassifier(block_config=3, max_epochs=1).fit(X[:, None], y)


@pytest.mark.parametrize("shape", [(3, 16, 16.5), (3, 16.0, 16), ("3", "16", "16")])
def test_input_shape_of_non_integers_is_refused(shape):
    # int() truncated 16.5 to 16 and read "16" as 16: a wrong shape was taken
    X, y = _spots((3, 16, 16))
    clf = clone(FINGERPRINT).set_params(input_shape=shape)
    with pytest.raises(ValueError, match=r"input_shape must describe .* integers"):
        clf.fit(X.reshape(len(X), -1), y)
    # numpy integers are integers
    shape = tuple(np.int64(n) for n in (3, 16, 16))
    clf.set_params(input_shape=shape).fit(X.reshape(len(X), -1), y)
    assert clf.input_shape_ == (3, 16, 16)


@pytest.mark.parametrize(
    "random_state", [np.random.default_rng(0), 1.5, -1, 2**32, True, "0"]
)
def test_a_bad_random_state_is_named(random_state):
    # scikit-learn's check_random_state said "Generator(PCG64) at 0x... cannot
    # be used to seed a numpy.random.RandomState instance", naming no
    # parameter, and seeded with True as 1
    X, y = _spots((3, 16, 16))
    clf = clone(MSDN).set_params(random_state=random_state)
    with pytest.raises(ValueError, match=r"random_state must be None, an int in"):
        clf.fit(X[:, None], y)
    assert not hasattr(clf, "net_")


def test_random_state_int_or_randomstate_gives_the_same_model():
    X, y = _spots((3, 16, 16))
    seeded = [
        clone(FINGERPRINT).set_params(random_state=rs).fit(X, y).predict_proba(X)
        for rs in (7, np.int64(7), np.random.RandomState(7))
    ]
    np.testing.assert_array_equal(seeded[0], seeded[1])
    # a RandomState is drawn from: its first draw, as sklearn's check_random_state
    np.testing.assert_array_equal(seeded[0], seeded[2])
