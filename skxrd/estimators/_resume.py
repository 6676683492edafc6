"""Resuming an interrupted training run at its last finished epoch.

With ``checkpoint_dir``, a deep classifier's ``fit`` writes the whole training
state to ``checkpoint_dir/resume-<run>.pt`` at the end of every epoch: the
network and optimizer, the learning-rate schedule, early stopping's best
epoch and weights, the history, and the random generators that shuffle, drop
out and augment. A later ``fit`` of the same estimator on the same data (the
*fingerprint*: the training parameters, the labels, the data's shape and the
weights a warm start begins from; and the patterns, compared to within
float32 rounding) reads it and runs only the epochs that are left, so a run
stopped by a closed session, a lost machine or Ctrl-C ends with the network
it would have had (bit for bit on the same CPU with the same threads). A
finished run is kept too: fitting it again returns its network without
training (``skxrd train`` goes on from there to the steps after the network,
such as the search-match). Like Keras' ``BackupAndRestore`` callback, but
with one file per run (``<run>`` is the fingerprint's and the patterns'
digests), so fits of other parameters or data that share the folder never
resume each other; the best epoch's files of skorch's ``Checkpoint`` carry
the run's name too (``<run>-params.pt``, ``<run>-optimizer.pt``,
``<run>-history.json``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import numbers
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping, LRScheduler
from skorch.history import History

from ._net import _uncompiled

_FORMAT = "skxrd-resume/1"
#: parameters that change where or how visibly a run trains, not what it learns
_RUNTIME_PARAMS = ("checkpoint_dir", "device", "num_threads", "verbose")
#: not fingerprinted either: class_weight acts through the samples' weights,
#: fingerprinted as such (an unweighted fit keeps its fingerprint of before)
_UNHASHED_PARAMS = (*_RUNTIME_PARAMS, "class_weight")


def _param_repr(value, depth=0):
    """A stable text of a parameter that tells different settings apart.

    Objects without a stable repr (functions, lambdas, objects with the
    default repr) by their type or name, and what sets them apart: a
    partial's arguments, a function's code, an object's attributes. A random
    generator by its type: the seed a fit draws from it is fingerprinted
    apart (:func:`fingerprint`)."""
    if depth > 4:  # nested deep (or in a cycle): the type says enough
        return type(value).__qualname__
    inner = functools.partial(_param_repr, depth=depth + 1)
    if isinstance(value, functools.partial):
        args = [inner(a) for a in value.args]
        kwargs = {k: inner(v) for k, v in sorted(value.keywords.items())}
        return f"partial({inner(value.func)}, {args}, {kwargs})"
    if isinstance(value, (np.random.RandomState, np.random.Generator)):
        return type(value).__qualname__
    text = repr(value)
    if " at 0x" in text:  # functions, lambdas, objects with the default repr
        kind = type(value)
        name = getattr(value, "__qualname__", kind.__qualname__)
        out = f"{getattr(value, '__module__', kind.__module__)}.{name}"
        code = getattr(value, "__code__", None)
        if code is not None:  # two lambdas share a name, not their code
            body = code.co_code + repr(code.co_consts).encode()
            out += ":" + hashlib.sha256(body).hexdigest()[:16]
        elif hasattr(value, "__dict__"):
            attrs = {k: inner(v) for k, v in sorted(vars(value).items())}
            out += repr(attrs)
        return out
    return text


def fingerprint(
    estimator, y, shape, classes, module=None, seed=None, sample_weight=None
):
    """What a resumed run must share with the interrupted one (a hex digest).

    The training parameters (all but where and how visibly it runs: device,
    threads, verbosity, the checkpoint folder), the classes, the labels and
    the data's shape; with ``module``, its parameters (those a warm start
    begins from; random initial weights follow from ``random_state``). The
    patterns themselves are compared apart (:func:`sample_rows`), with a
    tolerance: the same config simulated on another machine may differ in
    the last bits. ``sample_weight``: the weights of the training samples
    (None: unweighted, the fingerprint of a fit before weights existed).
    """
    h = hashlib.sha256()
    params = estimator.get_params(deep=False)
    for name in sorted(params):
        if name not in _UNHASHED_PARAMS:
            h.update(f"{name}={_param_repr(params[name])};".encode())
    if not isinstance(params.get("random_state"), numbers.Integral):
        # None or a generator: the seed this fit drew (its split, its
        # weights) makes it a run of its own, which no other fit resumes
        h.update(f"seed={seed};".encode())
    h.update(type(estimator).__qualname__.encode())
    h.update(repr(np.asarray(classes).tolist()).encode())
    h.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    h.update(repr(tuple(int(n) for n in shape)).encode())
    if sample_weight is not None:
        weights = np.ascontiguousarray(sample_weight, dtype=np.float32)
        h.update(b"sample_weight=" + weights.tobytes())
    if module is not None:
        _hash_module(h, module)
    return h.hexdigest()


def _hash_module(h, module):
    for name, tensor in _uncompiled(module).state_dict().items():
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())


def weights_digest(module):
    """A hex digest of the parameters and buffers of ``module``."""
    h = hashlib.sha256()
    _hash_module(h, module)
    return h.hexdigest()


def sample_rows(X, n=64):
    """``n`` rows spread over the patterns ``X`` (float32), to compare runs."""
    rows = np.unique(np.linspace(0, len(X) - 1, min(len(X), n)).astype(int))
    return torch.from_numpy(np.asarray(X[rows], dtype=np.float32).copy())


def run_key(digest, rows):
    """The name of the run ``digest`` on the patterns ``rows``
    (:func:`sample_rows`): the fingerprint's digest and the patterns' (16 and
    8 hex digits)."""
    patterns = hashlib.sha256(rows.numpy().tobytes()).hexdigest()
    return f"{digest[:16]}-{patterns[:8]}"


def state_path(checkpoint_dir, key):
    """The state file of the run ``key`` (:func:`run_key`) in
    ``checkpoint_dir``: one per run, so that the fits of a grid search or of
    cross-validation that share the folder keep apart."""
    return Path(checkpoint_dir) / f"resume-{key}.pt"


def check_dir(checkpoint_dir):
    """Create ``checkpoint_dir`` and check that files can be written in it.

    A fit writes there only after its first epoch (hours, on large data): a
    folder that is a file, or that cannot be written, is said when the fit
    starts rather than after that epoch.

    Raises
    ------
    ValueError
        Naming ``checkpoint_dir`` and what is wrong with it.
    """
    path = Path(checkpoint_dir)
    where = f"checkpoint_dir={os.fspath(checkpoint_dir)!r}"
    if path.exists() and not path.is_dir():
        raise ValueError(f"{where} is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):  # leaves no file behind
            pass
    except OSError as exc:
        raise ValueError(
            f"{where} is not a directory that training states can be written "
            f"in: {type(exc).__name__}: {exc.strerror or exc}"
        ) from exc


def _load_state(path, digest):
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(
            f"{path} is not a readable training state ({type(exc).__name__}: {exc}); "
            "remove it to train afresh"
        ) from exc
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise ValueError(f"{path} is not a training state of skxrd ({_FORMAT})")
    if state["fingerprint"] != digest:
        raise ValueError(
            f"{path} holds the training state of another fit; remove it to train afresh"
        )
    return state


def _same_rows(saved, rows):
    return saved.shape == rows.shape and torch.allclose(
        saved, rows, rtol=1e-4, atol=1e-6
    )


def find_state(checkpoint_dir, digest, rows):
    """The run ``digest`` on the patterns ``rows`` in ``checkpoint_dir``.

    Returns ``(key, state)``: the run's name (:func:`run_key`) and its saved
    state, None when there is none. The patterns must match the saved ones
    to within float32 rounding (the same config simulated on another machine
    may differ in the last bits): a run of the same parameters and labels on
    other patterns is another run, in a file of its own. A ValueError names a
    damaged file of the fingerprint, and two runs that both match.
    """
    key = run_key(digest, rows)
    path = state_path(checkpoint_dir, key)
    if path.exists():
        state = _load_state(path, digest)
        if not _same_rows(state["rows"], rows):  # the 8 digits collide
            raise ValueError(
                f"{path} holds a run of the same parameters and labels on other "
                "patterns; remove it (or choose another checkpoint_dir) to train "
                "on these"
            )
        return key, state
    # patterns within rounding of a run's but not bit for bit (another
    # machine's simulation); also the older files, named by the digest alone
    found = []
    for other in sorted(Path(checkpoint_dir).glob(f"resume-{digest[:16]}*.pt")):
        state = _load_state(other, digest)
        if _same_rows(state["rows"], rows):
            found.append((other, state))
    if len(found) > 1:
        names = ", ".join(other.name for other, _ in found)
        raise ValueError(
            f"{checkpoint_dir} holds {len(found)} runs of the same parameters and "
            f"labels on patterns that all match these ({names}); remove the ones "
            "not to resume"
        )
    if found:
        other, state = found[0]
        return other.name[len("resume-") : -len(".pt")], state
    return key, None


def _callback(net, kind):
    for _, callback in net.callbacks_:
        if isinstance(callback, kind):
            return callback
    return None


def _generator_state(generator):
    if generator is None:
        return None
    return {"device": generator.device.type, "state": generator.get_state()}


def _rng_state(net):
    """torch's generators that the next epoch of ``net`` draws from."""
    device = torch.device(net.device) if net.device else None
    cuda = device is not None and device.type == "cuda"
    return {
        "cpu": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state(device) if cuda else None,
        "augment": _generator_state(getattr(net, "_augment_generator", None)),
    }


class ResumeState(Callback):
    """Writes the training state after each epoch; restores ``state`` first.

    Placed after the learning-rate scheduler and early stopping, so that it
    saves their state of the epoch just ended and overrides their fresh start.
    """

    def __init__(
        self, checkpoint_dir, digest=None, rows=None, state=None, key=None, base=None
    ):
        self.checkpoint_dir = checkpoint_dir
        self.digest = digest
        self.rows = rows
        self.state = state
        self.key = key  # the file's name (run_key), kept by a resumed run
        self.base = base  # the fingerprint without warm-start weights

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        state, self.state = self.state, None  # do not hold it through training
        if state is None:
            return
        net.optimizer_.load_state_dict(state["optimizer"])  # the exact lr too
        scheduler = _callback(net, LRScheduler)
        if scheduler is not None and state["scheduler"] is not None:
            scheduler.lr_scheduler_.load_state_dict(state["scheduler"])
        stopping = _callback(net, EarlyStopping)
        if stopping is not None and state["early_stopping"] is not None:
            saved = state["early_stopping"]
            stopping.misses_ = int(saved["misses"])
            stopping.dynamic_threshold_ = float(saved["threshold"])
            stopping.best_epoch_ = int(saved["best_epoch"])
            best = saved["best_weights"]
            if best is not None:
                device = next(net.module_.parameters()).device
                best = {k: v.to(device) for k, v in best.items()}
            stopping.best_model_weights_ = best
        device = torch.device(net.device) if net.device else None
        rng = state["rng"]
        torch.set_rng_state(rng["cpu"])
        if rng["cuda"] is not None and device is not None and device.type == "cuda":
            torch.cuda.set_rng_state(rng["cuda"], device)
        generator = getattr(net, "_augment_generator", None)
        saved = rng["augment"]
        if generator is not None and saved is not None:
            if saved["device"] == generator.device.type:
                generator.set_state(saved["state"])
        if state["complete"] and net.train_split is None:
            # no epoch left: the BatchNorm statistics of the end of training
            # are recomputed over the training patterns, as in the run itself
            net._train_dataset = net.get_dataset(X, y)

    def on_epoch_end(self, net, **kwargs):
        self._rng = _rng_state(net)
        self.save(net, complete=False)

    def save(self, net, complete):
        """Write the state of ``net`` after its last epoch (atomically).

        The random generators are those at the end of the last epoch, also
        for the finished run: the end of training draws from them (the
        BatchNorm statistics of a network with dropout are recomputed), and a
        refit of the finished run repeats that end.
        """
        scheduler = _callback(net, LRScheduler)
        stopping = _callback(net, EarlyStopping)
        early = None
        if stopping is not None and stopping.dynamic_threshold_ is not None:
            best = stopping.best_model_weights_
            early = {
                "misses": int(stopping.misses_),
                "threshold": float(stopping.dynamic_threshold_),
                "best_epoch": int(stopping.best_epoch_),
                "best_weights": (
                    None
                    if best is None
                    else {k: v.detach().cpu() for k, v in best.items()}
                ),
            }
        state = {
            "format": _FORMAT,
            "fingerprint": self.digest,
            "rows": self.rows,
            "complete": bool(complete),
            "module": {
                k: v.detach().cpu()
                for k, v in _uncompiled(net.module_).state_dict().items()
            },
            "optimizer": net.optimizer_.state_dict(),
            # the criterion's own training state (ConfidenceLoss' lmbda)
            "criterion": {
                k: v.detach().cpu() if torch.is_tensor(v) else v
                for k, v in _uncompiled(net.criterion_).state_dict().items()
            },
            "scheduler": (
                None
                if scheduler is None or scheduler.lr_scheduler_ is None
                else scheduler.lr_scheduler_.state_dict()
            ),
            "early_stopping": early,
            "history": json.dumps(net.history.to_list(), default=float),
            "rng": getattr(self, "_rng", None) or _rng_state(net),
        }
        path = state_path(self.checkpoint_dir, self.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        torch.save(state, partial)
        os.replace(partial, path)  # a run killed while writing keeps the last


def restore(net, state):
    """Load the network and history of ``state`` into an initialized ``net``;
    returns the number of epochs that are left (0 for a finished run)."""
    _uncompiled(net.module_).load_state_dict(state["module"])
    criterion = state.get("criterion")  # older states: none
    if criterion is not None:
        _uncompiled(net.criterion_).load_state_dict(criterion)
    # now for the scheduler's initial_lr; again once the scheduler is built
    # (its first step moves the learning rate), in ResumeState.on_train_begin
    net.optimizer_.load_state_dict(state["optimizer"])
    net.history = History(json.loads(state["history"]))
    if state["complete"]:
        return 0
    return max(int(net.max_epochs) - len(net.history), 0)


def finished_epochs(net):
    """The epochs of ``net``'s history that ran to their end.

    An interruption during an epoch leaves a row of its first batches in the
    history, without the duration that the epoch's end records: that epoch
    is not done (its state was not saved, and a resumed run repeats it).
    """
    return sum(1 for row in net.history if "dur" in row)


def finished(net):
    """Whether a fit ended by itself (all epochs, or early stopping), not by an
    interruption (skorch ends ``fit`` quietly on KeyboardInterrupt), also one
    during the last epoch."""
    if finished_epochs(net) >= int(net.max_epochs):
        return True
    stopping = _callback(net, EarlyStopping)
    return stopping is not None and stopping.misses_ >= stopping.patience
