"""Validation split, early stopping, schedules, augmentation, warm start,
checkpoints and reproducibility."""

from __future__ import annotations

import os
import pickle
import re
import shutil
import warnings

import numpy as np
import pytest
from estimator_data import FAST, TINY_RESNET

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from skorch.callbacks import Callback  # noqa: E402

from skxrd.estimators import ResNetClassifier  # noqa: E402
from skxrd.estimators._base import _NeuralClassifier  # noqa: E402
from skxrd.estimators._data import _holdout_indices  # noqa: E402


def _resnet(**params):
    return ResNetClassifier(**TINY_RESNET, **{**FAST, **params})


# --------------------------------------------------------------------------- #
# validation split and early stopping
# --------------------------------------------------------------------------- #
def test_holdout_is_seeded_and_stratified():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    train, valid = _holdout_indices(y, 0.2, seed=3)
    assert len(valid) == 20 and len(train) == 80
    assert np.intersect1d(train, valid).size == 0
    np.testing.assert_array_equal(np.bincount(y[valid]), [10, 6, 4])
    again = _holdout_indices(y, 0.2, seed=3)
    np.testing.assert_array_equal(again[1], valid)
    assert not np.array_equal(_holdout_indices(y, 0.2, seed=4)[1], valid)


def test_holdout_keeps_singletons_in_training_and_gives_up_on_tiny_data():
    y = np.r_[np.repeat([0, 1], 20), 2]  # class 2 has a single sample
    train, valid = _holdout_indices(y, 0.1, seed=0)
    assert 40 in train and 2 not in y[valid]
    assert set(y[valid]) == {0, 1}
    assert _holdout_indices(np.array([0, 1, 0, 1]), 0.1, seed=0) is None
    assert _holdout_indices(np.array([0, 1, 2]), 0.5, seed=0) is None
    assert _holdout_indices(y, None, seed=0) is None
    assert _holdout_indices(y, 0.0, seed=0) is None


def test_validation_scores_and_no_split(data):
    X, y, _ = data
    clf = _resnet(validation_fraction=0.25, max_epochs=3).fit(X, y)
    assert {"train_loss", "valid_loss", "valid_acc"} <= set(clf.history_[-1])
    assert clf.history_[-1, "train_batch_count"] == 4  # 30 of 40, batches of 8
    clf = _resnet(validation_fraction=None, max_epochs=3).fit(X, y)
    assert "valid_loss" not in clf.history_[-1]
    assert clf.history_[-1, "train_batch_count"] == 5  # 40 samples, batches of 8
    # too few samples for a stratified validation set: trains on all of them
    tiny = _resnet(validation_fraction=0.1, max_epochs=2).fit(X[18:22], y[18:22])
    assert "valid_loss" not in tiny.history_[-1]


def test_early_stopping_stops_and_restores_the_best_epoch():
    rng = np.random.default_rng(0)
    X = rng.random((80, 32)).astype(np.float32)
    y = rng.integers(0, 2, 80)  # nothing to learn: the validation loss rises
    clf = _resnet(max_epochs=60, patience=3, validation_fraction=0.25, lr=3e-2)
    clf.fit(X, y)
    assert clf.n_epochs_ < 60
    losses = clf.history_[:, "valid_loss"]
    best = int(np.argmin(losses))
    assert clf.n_epochs_ - 1 - best >= 3
    no_stop = _resnet(max_epochs=8, early_stopping=False, validation_fraction=0.25)
    assert no_stop.fit(X, y).n_epochs_ == 8


@pytest.mark.parametrize("schedule", ["cosine", "plateau", None])
def test_lr_schedules(schedule, data):
    X, y, _ = data
    clf = _resnet(lr_schedule=schedule, max_epochs=6).fit(X, y)
    if schedule is None:
        assert "event_lr" not in clf.history_[-1]
        assert clf.net_.optimizer_.param_groups[0]["lr"] == FAST["lr"]
        return
    lrs = np.array(clf.history_[:, "event_lr"])
    assert lrs[0] == pytest.approx(FAST["lr"])
    assert np.all(np.diff(lrs) <= 0)
    if schedule == "cosine":
        assert lrs[-1] < 0.1 * FAST["lr"]


# --------------------------------------------------------------------------- #
# augmentation
# --------------------------------------------------------------------------- #
class CountingAugment:
    """Adds seeded noise; records the batches it sees."""

    def __init__(self):
        self.shapes = []
        self.generators = []

    def __call__(self, x, generator=None):
        self.shapes.append(tuple(x.shape))
        self.generators.append(generator)
        noise = torch.randn(x.shape, generator=generator, device=x.device)
        return x + 0.01 * noise


def test_augment_only_on_training_batches(data):
    X, y, _ = data
    augment = CountingAugment()
    clf = _resnet(
        augment=augment, max_epochs=3, early_stopping=False, validation_fraction=0.25
    )
    clf.fit(X, y)
    # 30 training patterns an epoch (10 held out), in batches of 8
    assert augment.shapes == [(8, 96), (8, 96), (8, 96), (6, 96)] * 3
    assert all(isinstance(g, torch.Generator) for g in augment.generators)
    clf.predict_proba(X)
    clf.predict(X)
    clf.score(X, y)
    assert len(augment.shapes) == 12  # never at prediction time
    assert not hasattr(clf.net_, "_augment_generator")


def test_augment_is_reproducible(data):
    X, y, _ = data
    p1 = _resnet(augment=CountingAugment(), max_epochs=3).fit(X, y).predict_proba(X)
    p2 = _resnet(augment=CountingAugment(), max_epochs=3).fit(X, y).predict_proba(X)
    p0 = _resnet(max_epochs=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p0, p1)


def test_augment_must_keep_the_shape(data):
    X, y, _ = data
    clf = _resnet(augment=lambda x, generator=None: x[:, :10])
    with pytest.raises(ValueError, match="augment must return"):
        clf.fit(X, y)


def test_default_augmentation_on_simulated_patterns():
    from skxrd import PowderSimulator
    from skxrd.datasets import make_random_crystals

    crystals = make_random_crystals(
        4, space_groups=[225, 14], n_atoms=(4, 12), random_state=0
    )
    X = PowderSimulator().transform(crystals + crystals)
    y = np.array([c.space_group for c in crystals + crystals])
    assert X.shape == (8, 4250)
    clf = ResNetClassifier(
        depth=1,
        width=2,
        max_epochs=1,
        batch_size=8,
        augment="default",
        num_threads=1,
        random_state=0,
    )
    assert clf.fit(X, y).predict(X).shape == (8,)


def test_default_augmentation_keeps_the_scale_of_the_patterns():
    # default_augmentation max-normalizes: area-normalized training patterns
    # (PatternNormalizer(method="area") before the classifier) were trained
    # at a maximum of 1 and predicted at their own, 10-100 times smaller
    from skxrd.augmentation import default_augmentation

    rng = np.random.default_rng(0)
    t = np.arange(4250.0)
    X = np.stack(
        [
            sum(h * np.exp(-(((t - c) / 5) ** 2)) for c, h in zip(centers, heights))
            for centers, heights in zip(
                rng.uniform(100, 4150, (6, 8)), rng.uniform(0.1, 1, (6, 8))
            )
        ]
    ).astype(np.float32)
    augment = ResNetClassifier(augment="default")._augmentation(4250)
    area = torch.from_numpy(X / X.sum(axis=1, keepdims=True))
    out = augment(area, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(out.amax(dim=1), area.amax(dim=1), rtol=1e-6, atol=0)
    # max-normalized patterns: exactly default_augmentation's output
    peak = torch.from_numpy(X / X.max(axis=1, keepdims=True))
    got = augment(peak, generator=torch.Generator().manual_seed(1))
    plain = default_augmentation()(peak, generator=torch.Generator().manual_seed(1))
    assert torch.equal(got, plain)


# --------------------------------------------------------------------------- #
# reproducibility
# --------------------------------------------------------------------------- #
def test_same_random_state_same_model(data):
    X, y, _ = data
    state = torch.get_rng_state()
    a = _resnet(random_state=7).fit(X, y)
    b = _resnet(random_state=7).fit(X, y)
    c = _resnet(random_state=8).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))
    # fit leaves torch's global generator as it found it
    assert torch.equal(torch.get_rng_state(), state)
    # a RandomState instance is drawn from, as in scikit-learn
    rs = np.random.RandomState(0)
    d = _resnet(random_state=rs).fit(X, y)
    e = _resnet(random_state=rs).fit(X, y)
    assert not np.array_equal(d.predict_proba(X), e.predict_proba(X))


def test_num_threads_is_restored(data):
    X, y, _ = data
    before = torch.get_num_threads()
    _resnet(num_threads=1, max_epochs=1).fit(X, y).predict(X)
    assert torch.get_num_threads() == before


# --------------------------------------------------------------------------- #
# warm start
# --------------------------------------------------------------------------- #
def _weights(clf):
    return {k: v.detach().clone() for k, v in clf.net_.module_.named_parameters()}


def test_warm_start_continues_from_the_previous_weights(data):
    X, y, _ = data
    clf = _resnet(warm_start=True, max_epochs=5, validation_fraction=None)
    clf.fit(X, y)
    first = _weights(clf)
    first_loss = clf.history_[0, "train_loss"]
    # a learning rate of ~0 keeps the weights: the second fit starts from them
    clf.set_params(lr=1e-12, max_epochs=1)
    clf.fit(X, y)
    for name, value in _weights(clf).items():
        torch.testing.assert_close(value, first[name], rtol=0, atol=1e-6)
    # while a cold start re-initializes
    cold = _resnet(
        warm_start=False,
        max_epochs=1,
        lr=1e-12,
        validation_fraction=None,
        random_state=1,
    ).fit(X, y)
    assert any(not torch.allclose(v, first[k]) for k, v in _weights(cold).items())
    # and continued training starts below the first fit's initial loss
    clf.set_params(lr=1e-2, max_epochs=2).fit(X, y)
    assert clf.history_[0, "train_loss"] < first_loss
    assert clf.n_epochs_ == 2


def test_warm_start_checks_classes_and_architecture(data):
    X, y, _ = data
    clf = _resnet(warm_start=True, max_epochs=2).fit(X, y)
    clf.fit(X[y == 14], y[y == 14])  # a subset of the classes is fine
    np.testing.assert_array_equal(clf.classes_, [14, 225])
    with pytest.raises(ValueError, match="unseen labels"):
        clf.fit(X, np.where(y == 14, 194, y))
    with pytest.raises(ValueError, match="features"):
        clf.fit(X[:, :50], y)
    with pytest.raises(ValueError, match="network parameters"):
        clf.set_params(width=16).fit(X, y)


# --------------------------------------------------------------------------- #
# checkpoints and the working directory
# --------------------------------------------------------------------------- #
def test_checkpoints_only_in_checkpoint_dir(data, tmp_path, monkeypatch):
    X, y, _ = data
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    ckpt = tmp_path / "checkpoints" / "run1"
    clf = _resnet(checkpoint_dir=ckpt, max_epochs=3, validation_fraction=0.25)
    clf.fit(X, y)
    names = sorted(p.name for p in ckpt.iterdir())
    assert len(names) == 4 and re.fullmatch(RUN_FILE, names[3])
    run = names[3][len("resume-") : -len(".pt")]
    assert names[:3] == [
        f"{run}-history.json",
        f"{run}-optimizer.pt",
        f"{run}-params.pt",
    ]
    assert any(clf.history_[:, "event_cp"])
    # the checkpoint holds the weights of an epoch: they load into the net
    before = clf.predict_proba(X)
    clf.net_.load_params(f_params=ckpt / f"{run}-params.pt")
    assert clf.predict_proba(X).shape == before.shape
    assert list(work.iterdir()) == []


def test_best_epoch_files_are_named_after_their_run(data, tmp_path):
    # fits that share the folder (folds, grid-search candidates) each keep
    # their best epoch: fixed names had the last fit's overwrite the others'
    X, y, _ = data
    fits = [
        _resnet(
            checkpoint_dir=tmp_path,
            max_epochs=3,
            validation_fraction=0.25,
            random_state=seed,
        ).fit(X, y)
        for seed in (0, 1)
    ]
    runs = [p.name[len("resume-") : -len(".pt")] for p in tmp_path.glob("resume-*")]
    assert len(runs) == 2
    for clf in fits:
        prefix = dict(clf.net_.callbacks_)["checkpoint"].fn_prefix
        assert prefix[:-1] in runs
        names = ("params.pt", "optimizer.pt", "history.json")
        assert all((tmp_path / f"{prefix}{name}").exists() for name in names)
        # early stopping ended on the best epoch: the one saved under its name
        before = clf.predict_proba(X)
        clf.net_.load_params(f_params=tmp_path / f"{prefix}params.pt")
        np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert len(list(tmp_path.iterdir())) == 2 * 4


#: the state file of a run: the fingerprint's and the patterns' digests
RUN_FILE = r"resume-[0-9a-f]{16}-[0-9a-f]{8}\.pt"


class _StopAfter:
    """Within the block, every fit ends after epoch ``n`` as Ctrl-C ends it
    (skorch ends ``fit`` quietly on KeyboardInterrupt)."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        n, original = self.n, _NeuralClassifier._callbacks
        self.original = original
        _NeuralClassifier._callbacks = lambda est, has_valid: [
            *original(est, has_valid),
            ("stop", _Stop(n)),
        ]

    def __exit__(self, *exc):
        _NeuralClassifier._callbacks = self.original


class _Stop(Callback):  # at module level: a fitted estimator pickles
    def __init__(self, n):
        self.n = n

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.n:
            raise KeyboardInterrupt


def _resumable(**params):
    from skxrd.augmentation import default_augmentation

    # the augmentation, the shuffling and dropout draw from the generators
    # the state keeps; the schedule and early stopping are in it too
    augment = default_augmentation(two_theta=np.linspace(10.0, 80.0, 96))
    return _resnet(**{"max_epochs": 6, "augment": augment, **params})


@pytest.mark.parametrize(
    "params",
    [
        {"validation_fraction": 0.25},  # early stopping restores the best epoch
        {"validation_fraction": None},  # BatchNorm recomputed at the end
        {"lr_schedule": "plateau", "validation_fraction": 0.25},
    ],
)
def test_an_interrupted_fit_resumes_to_the_uninterrupted_network(
    data, tmp_path, params
):
    X, y, _ = data
    whole = _resumable(**params).fit(X, y)
    with _StopAfter(2), pytest.warns(UserWarning, match="stopped after epoch 2 of 6"):
        cut = _resumable(checkpoint_dir=tmp_path, **params).fit(X, y)
    assert len(cut.history_) == 2
    # another sitting with other threads: the same run, but for the order of
    # the threads' sums
    other = tmp_path / "other"
    shutil.copytree(tmp_path, other)
    resumed = _resumable(checkpoint_dir=other, num_threads=2, **params).fit(X, y)
    np.testing.assert_allclose(
        resumed.predict_proba(X), whole.predict_proba(X), rtol=0, atol=1e-5
    )
    # another sitting as the first: bit for bit the uninterrupted run
    resumed = _resumable(checkpoint_dir=tmp_path, **params).fit(X, y)
    assert len(resumed.history_) == 6
    assert [h["epoch"] for h in resumed.history_] == list(range(1, 7))
    np.testing.assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))
    for name in ("train_loss", "lr") if "lr" in whole.history_[0] else ("train_loss",):
        np.testing.assert_array_equal(
            resumed.history_[:, name], whole.history_[:, name]
        )
    # a finished run returns its network without training an epoch
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and without the interruption warning
        with _StopAfter(0):  # never reached: no epoch runs
            again = _resumable(checkpoint_dir=tmp_path, **params).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), whole.predict_proba(X))
    assert len(list(tmp_path.glob("resume-*.pt"))) == 1


class _StopDuring(_StopAfter):
    """Within the block, every fit ends after the first training batch of
    epoch ``n``: an interruption in the middle of an epoch."""

    def __enter__(self):
        n, original = self.n, _NeuralClassifier._callbacks
        self.original = original
        _NeuralClassifier._callbacks = lambda est, has_valid: [
            *original(est, has_valid),
            ("stop", _StopBatch(n)),
        ]


class _StopBatch(Callback):
    def __init__(self, n):
        self.n = n

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.n:
            raise KeyboardInterrupt


def test_an_interrupted_confidence_head_fit_resumes_to_the_uninterrupted_network(
    data, tmp_path
):
    # ConfidenceLoss adapts its penalty weight lmbda batch by batch: the
    # resumed run restarted it from its initial value (probabilities ~1e-4 off)
    X, y, _ = data
    params = {"confidence_head": True, "max_epochs": 3}
    whole = _resumable(**params).fit(X, y)
    with _StopAfter(1), pytest.warns(UserWarning, match="stopped after epoch 1 of 3"):
        _resumable(checkpoint_dir=tmp_path, **params).fit(X, y)
    resumed = _resumable(checkpoint_dir=tmp_path, **params).fit(X, y)
    np.testing.assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))
    np.testing.assert_array_equal(
        resumed.predict_confidence(X), whole.predict_confidence(X)
    )
    assert resumed.net_.criterion_.lmbda == whole.net_.criterion_.lmbda


def test_an_interruption_during_the_last_epoch_is_resumed(data, tmp_path):
    # Ctrl-C in the last epoch left a history of max_epochs rows, the last
    # one of a few batches: the run counted as finished, its half-trained
    # network was saved as the run's end (no warning) and every later fit
    # returned it
    X, y, _ = data
    whole = _resumable(max_epochs=3).fit(X, y)
    with (
        _StopDuring(3),
        pytest.warns(UserWarning, match="stopped after epoch 2 of 3"),
    ):
        cut = _resumable(checkpoint_dir=tmp_path, max_epochs=3).fit(X, y)
    assert len(cut.history_) == 3  # the interrupted epoch's row is kept
    resumed = _resumable(checkpoint_dir=tmp_path, max_epochs=3).fit(X, y)
    assert [h["epoch"] for h in resumed.history_] == [1, 2, 3]
    np.testing.assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))


def test_an_unseeded_interrupted_fit_says_it_cannot_be_resumed(data, tmp_path):
    # "fit again ... to resume it", but every fit draws another seed: a fit
    # again trained afresh
    X, y, _ = data
    with (
        _StopAfter(1),
        pytest.warns(UserWarning, match="random_state=None it cannot be resumed"),
    ):
        _resnet(max_epochs=3, random_state=None, checkpoint_dir=tmp_path).fit(X, y)


def test_an_interrupted_warm_start_resumes_when_fit_again(data, tmp_path):
    # the warm start's weights are in the fingerprint: the interrupted fit
    # left others in net_, and fitting again started a new run from them
    X, y, _ = data
    start = pickle.dumps(_resumable(max_epochs=2).fit(X, y))

    def warm(**params):
        clf = pickle.loads(start)
        return clf.set_params(warm_start=True, max_epochs=6, **params)

    whole = warm().fit(X, y)
    ckpt = tmp_path / "ckpt"
    clf = warm(checkpoint_dir=ckpt)
    with _StopAfter(2), pytest.warns(UserWarning, match="stopped after epoch 2 of 6"):
        clf.fit(X, y)
    # the process lost: the weights the run began from resume it
    shutil.copytree(ckpt, tmp_path / "copy")
    lost = warm(checkpoint_dir=tmp_path / "copy").fit(X, y)
    np.testing.assert_array_equal(lost.predict_proba(X), whole.predict_proba(X))
    # the same estimator fit again (through joblib's pickling): it resumes too
    clf = pickle.loads(pickle.dumps(clf))
    with _StopAfter(4), pytest.warns(UserWarning, match="stopped after epoch 4"):
        clf.fit(X, y)
    clf.fit(X, y)
    assert [h["epoch"] for h in clf.history_] == list(range(1, 7))
    np.testing.assert_array_equal(clf.predict_proba(X), whole.predict_proba(X))
    assert len(list(ckpt.glob("resume-*.pt"))) == 1
    # a finished run is not resumed: the next warm start goes on from its
    # weights, a run of its own
    clf.fit(X, y)
    assert [h["epoch"] for h in clf.history_] == list(range(1, 7))
    assert not np.array_equal(clf.predict_proba(X), whole.predict_proba(X))
    assert len(list(ckpt.glob("resume-*.pt"))) == 2
    # nor is an interrupted run when the next fit is another (here, another lr)
    clf = warm(checkpoint_dir=tmp_path / "lr")
    with _StopAfter(2), pytest.warns(UserWarning, match="stopped after epoch 2"):
        clf.fit(X, y)
    clf.set_params(lr=0.02).fit(X, y)
    assert len(list((tmp_path / "lr").glob("resume-*.pt"))) == 2


def test_an_interrupted_run_whose_state_file_is_gone_says_so(data, tmp_path):
    # fitting again silently started a new run from the interrupted (partly
    # trained) weights, or from the first epoch
    X, y, _ = data
    start = pickle.dumps(_resumable(max_epochs=2).fit(X, y))
    ckpt = tmp_path / "ckpt"
    clf = pickle.loads(start).set_params(
        warm_start=True, max_epochs=4, checkpoint_dir=ckpt
    )
    with _StopAfter(2), pytest.warns(UserWarning, match="stopped after epoch 2"):
        clf.fit(X, y)
    interrupted = pickle.dumps(clf)
    (state,) = ckpt.glob("resume-*.pt")
    state.unlink()
    with pytest.warns(UserWarning) as record:
        clf.fit(X, y)
    (warning,) = record
    assert re.fullmatch(
        "the interrupted training run cannot be resumed: its state file "
        f"'{re.escape(str(state))}' was deleted; this fit starts a new "
        r"warm-started run from the weights the interruption left \(after epoch "
        r"2\), not from those the run began from, with a fresh optimizer and "
        "learning-rate schedule, for 4 epochs",
        str(warning.message),
    )
    assert warning.filename == __file__  # the caller's line
    # what it said: a warm start from the interrupted weights, a run of its own
    expected = pickle.loads(interrupted).set_params(checkpoint_dir=None).fit(X, y)
    assert [h["epoch"] for h in clf.history_] == list(range(1, 5))
    np.testing.assert_array_equal(clf.predict_proba(X), expected.predict_proba(X))
    assert len(list(ckpt.glob("resume-*.pt"))) == 1

    # not a warm start: it trains from the first epoch, and says so; but other
    # patterns are a run of their own, whose file was never expected
    for patterns, message in ((X + 0.01, None), (X, "trains afresh")):
        plain = _resumable(max_epochs=2, checkpoint_dir=tmp_path / "plain")
        with _StopAfter(1), pytest.warns(UserWarning, match="stopped after epoch 1"):
            plain.fit(X, y)
        shutil.rmtree(tmp_path / "plain")
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            plain.fit(patterns, y)
        messages = [str(w.message) for w in record]
        if message is None:
            assert messages == []
        else:
            assert (
                len(messages) == 1
                and "was deleted; this fit " + message in (messages[0])
            )
        assert [h["epoch"] for h in plain.history_] == [1, 2]


def test_the_moved_state_file_of_an_interrupted_run_is_named(data, tmp_path):
    X, y, _ = data
    clf = _resumable(checkpoint_dir=tmp_path / "a")
    with _StopAfter(1), pytest.warns(UserWarning, match="stopped after epoch 1"):
        clf.fit(X, y)
    clf.set_params(checkpoint_dir=tmp_path / "b")
    with pytest.warns(UserWarning, match="cannot be resumed") as record:
        clf.fit(X, y)
    assert f"its state file is in '{tmp_path / 'a'}', not in checkpoint_dir=" in str(
        record[0].message
    )
    assert "fit with that checkpoint_dir to resume it" in str(record[0].message)


def test_resume_warnings_name_the_callers_line_through_a_pipeline(data, tmp_path):
    # a fixed stacklevel pointed into scikit-learn's pipeline.py (and, from
    # train_from_config, into skxrd) rather than at the line that called fit
    from sklearn.pipeline import Pipeline

    X, y, _ = data
    pipe = Pipeline([("clf", _resumable(checkpoint_dir=tmp_path / "ckpt"))])
    with _StopAfter(1), pytest.warns(UserWarning, match="stopped after") as record:
        pipe.fit(X, y)
    assert [w.filename for w in record] == [__file__]
    for state in (tmp_path / "ckpt").glob("resume-*.pt"):
        state.unlink()
    with pytest.warns(UserWarning, match="cannot be resumed") as record:
        pipe.fit(X, y)
    assert [w.filename for w in record] == [__file__]


def test_a_checkpoint_dir_that_cannot_hold_states_is_refused_first(
    data, tmp_path, monkeypatch
):
    # skorch's Checkpoint said "FileExistsError: File exists" of a file, and a
    # folder that refuses files failed after the first epoch (PermissionError)
    import tempfile

    X, y, _ = data
    file = tmp_path / "file"
    file.write_text("not a folder")
    for path, match in (
        (file, "checkpoint_dir='.*file' is a file, not a directory"),
        (
            file / "sub",
            "checkpoint_dir='.*file/sub' is not a directory that "
            "training states can be written in: NotADirectoryError",
        ),
    ):
        clf = _resumable(checkpoint_dir=path)
        with _StopAfter(0), pytest.raises(ValueError, match=match):
            clf.fit(X, y)
        assert not hasattr(clf, "net_")
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: a folder that refuses files

        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    else:
        locked.chmod(0o500)
    try:
        with pytest.raises(
            ValueError, match="locked' is not a directory .*Permission denied"
        ):
            _resumable(checkpoint_dir=locked).fit(X, y)
    finally:
        locked.chmod(0o700)
    assert list(locked.iterdir()) == []


def test_state_files_that_are_not_this_runs_are_named(data, tmp_path):
    X, y, _ = data
    with _StopAfter(1), pytest.warns(UserWarning, match="stopped after epoch 1"):
        _resumable(checkpoint_dir=tmp_path).fit(X, y)
    (state,) = tmp_path.glob("resume-*.pt")
    # truncated (a copy cut short): named, not trained over
    data_ = state.read_bytes()
    state.write_bytes(data_[: len(data_) // 2])
    with pytest.raises(ValueError, match=f"{state.name} is not a readable"):
        _resumable(checkpoint_dir=tmp_path).fit(X, y)
    # another fit's state under this run's name: named, not resumed
    state.write_bytes(data_)
    other = tmp_path / "other"
    with _StopAfter(1), pytest.warns(UserWarning, match="stopped after epoch 1"):
        _resumable(checkpoint_dir=other, lr=0.02).fit(X, y)
    (foreign,) = other.glob("resume-*.pt")
    shutil.copy(foreign, state)
    with pytest.raises(ValueError, match=f"{state.name} holds the training state"):
        _resumable(checkpoint_dir=tmp_path).fit(X, y)


def test_resuming_keeps_runs_apart_and_says_so(data, tmp_path, capsys):
    X, y, _ = data
    with _StopAfter(1), pytest.warns(UserWarning, match="checkpoint_dir="):
        _resumable(checkpoint_dir=tmp_path).fit(X, y)
    # another seed, other data: runs of their own, from epoch 1, each in a file
    other = _resumable(checkpoint_dir=tmp_path, random_state=1).fit(X, y)
    assert other.history_[0]["epoch"] == 1 and len(other.history_) == 6
    _resumable(checkpoint_dir=tmp_path).fit(X[:30], y[:30])
    assert len(list(tmp_path.glob("resume-*.pt"))) == 3
    capsys.readouterr()
    _resumable(checkpoint_dir=tmp_path, verbose=1, lr=0.02).fit(X, y)
    assert "holds 3 training state(s), none of this run" in capsys.readouterr().out
    # the patterns are compared to within float32 rounding (another machine's
    # simulation of the same config), not bit for bit
    nearly = X * np.float32(1 + 1e-6)
    resumed = _resumable(checkpoint_dir=tmp_path, verbose=1).fit(nearly, y)
    assert f"resuming from {tmp_path}: 1 of 6 epochs done" in capsys.readouterr().out
    assert len(resumed.history_) == 6
    # a damaged state is named, not trained over
    assert len(list(tmp_path.glob("resume-*.pt"))) == 4
    for path in tmp_path.glob("resume-*.pt"):
        path.write_bytes(b"not a state")
    with pytest.raises(ValueError, match=RUN_FILE + " is not a readable"):
        _resumable(checkpoint_dir=tmp_path).fit(X, y)


def test_runs_on_other_patterns_are_runs_of_their_own(data, tmp_path, capsys):
    # the same parameters and labels on other patterns (a grid search over
    # the preprocessing) were refused: "remove it (or choose another
    # checkpoint_dir)"
    X, y, _ = data
    with _StopAfter(1), pytest.warns(UserWarning, match="checkpoint_dir="):
        _resumable(checkpoint_dir=tmp_path).fit(X, y)
    with _StopAfter(2), pytest.warns(UserWarning, match="checkpoint_dir="):
        other = _resumable(checkpoint_dir=tmp_path, verbose=1).fit(X + 0.01, y)
    assert "none of this run" in capsys.readouterr().out
    assert len(other.history_) == 2
    paths = sorted(tmp_path.glob("resume-*.pt"))
    assert len(paths) == 2 and all(re.fullmatch(RUN_FILE, p.name) for p in paths)
    assert paths[0].name[:23] == paths[1].name[:23]  # one fingerprint
    # each resumes its own run
    for data_, done in ((X, 1), (X + 0.01, 2)):
        _resumable(checkpoint_dir=tmp_path, verbose=1).fit(data_, y)
        out = capsys.readouterr().out
        assert f"resuming from {tmp_path}: {done} of 6 epochs done" in out
    assert len(list(tmp_path.glob("resume-*.pt"))) == 2
    whole = _resumable().fit(X, y)
    # a file named by the fingerprint alone (written before the patterns were
    # in the name) still resumes, and stays the run's file
    first = next(p for p in paths if _rows_match(p, X))
    legacy = tmp_path / f"{first.name[:23]}.pt"
    first.rename(legacy)
    again = _resumable(checkpoint_dir=tmp_path, verbose=1).fit(X, y)
    assert "6 of 6 epochs done (finished)" in capsys.readouterr().out
    np.testing.assert_array_equal(again.predict_proba(X), whole.predict_proba(X))
    assert not first.exists() and legacy.exists()
    # two runs that both match patterns within rounding: which is meant is
    # not guessed
    shutil.copy(legacy, tmp_path / f"{legacy.stem}-00000000.pt")
    with pytest.raises(ValueError, match="2 runs of the same parameters"):
        _resumable(checkpoint_dir=tmp_path).fit(X * np.float32(1 + 1e-6), y)


def _rows_match(path, X):
    from skxrd.estimators import _resume

    state = torch.load(path, weights_only=True)
    return torch.equal(state["rows"], _resume.sample_rows(X))


def test_grid_search_over_the_preprocessing_shares_a_checkpoint_dir(data, tmp_path):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    from skxrd.preprocessing import PatternNormalizer

    X, y, _ = data
    pipe = make_pipeline(
        PatternNormalizer(), _resnet(max_epochs=2, checkpoint_dir=tmp_path)
    )
    grid = {"patternnormalizer__scale": [None, "sqrt"]}

    def search():
        return GridSearchCV(pipe, grid, cv=2, error_score="raise").fit(X, y)

    first = search()
    # 2 candidates x 2 folds and the refit: a run each, its best epoch apart
    assert len(list(tmp_path.glob("resume-*.pt"))) == 5
    assert len(list(tmp_path.glob("*-params.pt"))) == 5
    # searched again: every fit returns its finished run
    again = search()
    np.testing.assert_array_equal(
        again.cv_results_["mean_test_score"], first.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(again.predict_proba(X), first.predict_proba(X))
    assert len(list(tmp_path.iterdir())) == 5 * 4


def test_nothing_written_to_the_working_directory(data, tmp_path, monkeypatch, capsys):
    X, y, _ = data
    monkeypatch.chdir(tmp_path)
    for params in ({}, {"verbose": 2}, {"validation_fraction": None}):
        clf = _resnet(max_epochs=2, **params).fit(X, y)
        clf.predict_top_k(X, k=2)
    capsys.readouterr()
    assert list(tmp_path.iterdir()) == []


def test_batchnorm_statistics_are_recomputed_with_the_final_weights():
    # "precise BatchNorm": the running mean of the stem's BatchNorm is the plain
    # average of its inputs over the training patterns, not an exponential
    # average over the epochs (whose lag left a README example at chance)
    rng = np.random.default_rng(0)
    X = rng.random((64, 256)).astype(np.float32)
    y = np.repeat([0, 1], 32)
    X[y == 1, 40:44] += 2.0
    clf = ResNetClassifier(
        depth=2,
        width=8,
        max_epochs=3,
        batch_size=16,
        lr=1e-2,
        early_stopping=False,
        validation_fraction=None,
        num_threads=1,
        random_state=0,
    ).fit(X, y)
    module = clf.net_.module_
    norm = next(m for m in module.modules() if isinstance(m, torch.nn.BatchNorm1d))
    seen = []
    hook = norm.register_forward_pre_hook(lambda m, inputs: seen.append(inputs[0]))
    with torch.no_grad():
        module.eval()
        module(torch.as_tensor(X))
    hook.remove()
    expected = seen[0].mean(dim=(0, 2))
    torch.testing.assert_close(norm.running_mean, expected, atol=1e-5, rtol=1e-4)


def test_batch_size_one_keeps_batchnorm_statistics(data):
    # the statistics pass skipped every batch of one after resetting them:
    # the fitted network predicted with mean 0 and variance 1
    X, y, _ = data
    clf = _resnet(batch_size=1, max_epochs=1).fit(X[:24], y[:24])
    norms = [
        m
        for m in clf.net_.module_.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    ]
    assert norms and all(int(m.num_batches_tracked) > 0 for m in norms)
    assert not torch.allclose(
        norms[0].running_var, torch.ones_like(norms[0].running_var)
    )


def test_a_failed_refit_leaves_the_fitted_estimator_as_it_was(data):
    X, y, _ = data
    clf = _resnet(max_epochs=1).fit(X, y)
    before = clf.predict_proba(X[:3])
    with pytest.raises(ValueError, match=r"got 1 class \(225\)"):
        clf.fit(X[:10, :32], np.full(10, 225))
    assert clf.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(clf.predict_proba(X[:3]), before)


def test_resume_fingerprints_tell_seeds_and_partials_apart():
    import functools

    from skxrd.estimators import _resume

    y, shape, classes = np.array([0, 1]), (2, 8), np.array([0, 1])

    def digest(**params):
        return _resume.fingerprint(_resnet(**params), y, shape, classes, seed=7)

    def aug(x, scale):
        return x * scale

    # a generator's draws are its seed: two generators are two runs
    a = _resume.fingerprint(
        _resnet(random_state=np.random.RandomState(0)), y, shape, classes, seed=1
    )
    b = _resume.fingerprint(
        _resnet(random_state=np.random.RandomState(1)), y, shape, classes, seed=2
    )
    assert a != b
    assert digest(random_state=3) == digest(random_state=3)
    assert digest(augment=functools.partial(aug, scale=0.0)) != digest(
        augment=functools.partial(aug, scale=100.0)
    )
    assert digest(augment=lambda x: x) != digest(augment=lambda x: 2 * x)

    class Cyclic:  # an object that holds itself: a bounded text, no recursion
        def __call__(self, x):
            return x

    cyclic = Cyclic()
    cyclic.me = cyclic
    assert len(_resume._param_repr(cyclic)) < 10_000


def test_calibrate_temperature_names_mixed_labels(data):
    X, y, _ = data
    clf = _resnet(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="y mixes label types"):
        clf.calibrate_temperature(X[:4], np.array([225, "b", 14, 225], dtype=object))
