"""Train a config on one GPU within a fixed time (issue 18's GPU recipe).

A machine lent for minutes has to end with a model file, not a run cut off
mid-way. This script runs the path of ``skxrd train CONFIG --device cuda``
(:func:`skxrd.pretrained.train_from_config`, the same data, pipeline, schedule
and model file) and only chooses ``max_epochs`` so that training ends by
``--budget`` seconds after the start:

1. a short probe fits the config's network on random patterns of the right
   shape on the device and measures its training rate (patterns per second);
2. the config's training and test draws are simulated on the CPU cores
   (``--n-jobs``) into ``--cache``, where ``train_from_config`` reads them;
3. the number of whole cosine cycles' epochs that fit the time left is set
   (between ``--min-epochs`` and ``--max-epochs``; the config's ``max_epochs``
   when ``--max-epochs 0``), and ``train_from_config`` trains, with a callback
   that ends training after the epoch that passes the budget in case the
   estimate was short (skorch then keeps the best epoch, as it does on early
   stopping);
4. the model file and a JSON report of the timings go to ``--out``.

The config's ``[match]`` search-match and ``[indexing]`` stacker are left out
by default: their references, tuning patterns and indexing are CPU work, done
afterwards where the model is shipped (``tools/measured_training.py --config
CONFIG --ship-model OUT/model.pt``).

Usage on the GPU machine (Python with torch there; skxrd's other dependencies
on ``PYTHONPATH``, from the zip that ``tools/gpu_bundle.sh`` builds)::

    python tools/gpu_train.py skxrd/pretrained/configs/gpu/space-group.toml \\
        --out OUT --budget 470 --n-jobs 16 --threads 8 --cache /tmp/cache

and on a CPU, to check the script end to end in two or three minutes (most of
them reading the AMCSD)::

    python tools/gpu_train.py skxrd/pretrained/configs/gpu/space-group.toml \\
        --out /tmp/gpu_smoke --device cpu --n-crystals 200 --budget 30 \\
        --probe-batches 1 --n-jobs 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _log(t0, *args):
    print(f"[{time.monotonic() - t0:7.1f} s]", *args, flush=True)


def _environment():
    import sklearn
    import torch

    env = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "cuda": torch.cuda.is_available(),
        "cpus": os.cpu_count(),
    }
    if torch.cuda.is_available():
        env["gpu"] = torch.cuda.get_device_name(0)
    return env


def _probe_rate(config, device, n_batches, threads):
    """Patterns per second of the config's network training on ``device``.

    Three epochs on random patterns of the training shape: the first pays for
    start-up (cuDNN's search, allocations), the median of the others counts.
    """
    from skxrd.pretrained._train import _simulator, build_pipeline

    net = build_pipeline(config).steps[-1][1]
    n_points = len(_simulator(config).two_theta)  # the config's model grid
    n = int(net.batch_size) * n_batches
    rng = np.random.default_rng(0)
    X = rng.random((n, n_points), dtype=np.float32)
    y = rng.integers(0, 230, n)
    net.set_params(
        max_epochs=3,
        validation_fraction=None,
        early_stopping=False,
        device=device,
        num_threads=threads,
        verbose=0,
    )
    net.fit(X, y)
    durations = [row["dur"] for row in net.history_[1:]]
    return n / float(np.median(durations))


def _preprocessing_rate(config, X):
    """Patterns per second of the pipeline's preprocessing (CPU)."""
    from skxrd.pretrained._train import build_pipeline

    pre = build_pipeline(config)[:-1]
    part = X[: min(len(X), 2000)]
    t = time.perf_counter()
    pre.fit_transform(part)
    return len(part) / max(time.perf_counter() - t, 1e-6)


def plan_epochs(n, rate, preprocessing_rate, left_s, validation_fraction, cap):
    """Epochs of ``n`` patterns that fit ``left_s`` seconds, and one epoch's time.

    An epoch is the training steps at ``rate`` patterns per second, the
    validation passes (a third of a step each) and 15 % for what a probe on
    random patterns misses (the loader); before the first epoch the
    preprocessing (``preprocessing_rate`` patterns per second) and 20 s of
    reading the cache and setting up. At most ``cap`` epochs, at least 0.

    >>> plan_epochs(200_000, 14_000, 30_000, 250.0, 0.05, 40)
    (14, 15.9)
    >>> plan_epochs(200_000, 14_000, 30_000, 20.0, 0.05, 40)[0]
    0
    """
    f = float(validation_fraction)
    epoch_s = 1.15 * n * ((1 - f) + f / 3) / rate
    left = left_s - n / preprocessing_rate - 20.0
    epochs = int(min(max(left // epoch_s, 0), cap))
    return epochs, round(epoch_s, 1)


@contextlib.contextmanager
def deadline(at):
    """Within the block, every network's training ends after the epoch that
    passes ``at`` (a ``time.monotonic()`` value); skorch then keeps the best
    epoch, as on early stopping."""
    from skorch.callbacks import Callback

    from skxrd.estimators._base import _NeuralClassifier

    class Deadline(Callback):
        def on_epoch_end(self, net, **kwargs):
            if time.monotonic() > at:
                print("deadline passed: training ends here", flush=True)
                raise KeyboardInterrupt  # skorch's way to end fit() early

    original = _NeuralClassifier._callbacks

    def callbacks(self, has_valid):
        return [*original(self, has_valid), ("deadline", Deadline())]

    _NeuralClassifier._callbacks = callbacks
    try:
        yield
    finally:
        _NeuralClassifier._callbacks = original


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--out", required=True, help="folder for model.pt, report.json")
    parser.add_argument(
        "--budget",
        type=float,
        default=470.0,
        help="seconds from the start by which training ends",
    )
    parser.add_argument("--min-epochs", type=int, default=2)
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=40,
        help="at most this many epochs (0: the config's max_epochs)",
    )
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--cache", default=None, help="data cache (default: a temp folder)"
    )
    parser.add_argument("--device", default="cuda")
    parser.add_argument(
        "--n-crystals",
        type=int,
        default=None,
        help="override [data] n_crystals (smoke tests)",
    )
    parser.add_argument(
        "--keep-match",
        action="store_true",
        help="also build the [match] search-match and [indexing] stacker here",
    )
    parser.add_argument("--probe-batches", type=int, default=24)
    parser.add_argument(
        "--resume",
        default=None,
        metavar="MODEL",
        help="continue from this model file (a fresh cosine cycle)",
    )
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    import torch

    from skxrd.pretrained import load_config, save_model, train_from_config
    from skxrd.pretrained._train import _dataset

    torch.backends.cudnn.benchmark = True  # one input length: pick the fastest kernels
    report = {"environment": _environment(), "budget_s": args.budget}
    _log(t0, json.dumps(report["environment"]))
    config = load_config(args.config)
    if config["classifier"]["type"] == "UnionClassifier":
        # its members train one after another on parts of the data: neither
        # the rate probe nor a deadline after an epoch fits them
        parser.error(
            f"{args.config} trains a structure-type union, which this budget "
            "planner does not cover; run `skxrd train CONFIG --device cuda` "
            "(the config's max_epochs)"
        )
    if not args.keep_match:
        config.pop("match", None)
        config.pop("indexing", None)  # fitted on the search-match's tuning patterns
    if args.n_crystals is not None:
        config["data"]["n_crystals"] = int(args.n_crystals)
    cache = args.cache or tempfile.mkdtemp(prefix="skxrd_gpu_cache_")

    rate = _probe_rate(config, args.device, args.probe_batches, args.threads)
    report["probe_patterns_per_s"] = round(rate, 1)
    _log(t0, f"probe: {rate:.0f} training patterns/s on {args.device}")

    t = time.monotonic()
    X, y, _, _ = _dataset(config, "data", cache, args.n_jobs, True, with_groups=True)
    if "test" in config:
        _dataset(config, "test", cache, args.n_jobs, True)
    report["data_s"] = round(time.monotonic() - t, 1)
    _log(t0, f"data: {len(y)} training patterns in {report['data_s']} s")
    pre_rate = _preprocessing_rate(config, X)
    n = len(y)
    del X, y

    fraction = config["classifier"].get("validation_fraction") or 0.0
    cap = args.max_epochs or int(config["classifier"]["max_epochs"])
    workers = os.cpu_count() if args.n_jobs < 0 else max(args.n_jobs, 1)
    left = args.budget - (time.monotonic() - t0)
    epochs, epoch_s = plan_epochs(n, rate, pre_rate * workers / 2, left, fraction, cap)
    if epochs < args.min_epochs:
        # a cycle cut by the deadline ends at a high learning rate: worse than
        # the model it started from (seen on an H200: 0.371 after one epoch of
        # a resumed cycle, against 0.391 before it)
        _log(
            t0,
            f"warning: the budget holds {epochs} epochs, fewer than "
            f"--min-epochs {args.min_epochs}; the deadline may end the cycle early",
        )
        epochs = args.min_epochs
    config["classifier"]["max_epochs"] = epochs
    report.update(
        estimated_epoch_s=epoch_s,
        preprocessing_patterns_per_s=round(pre_rate, 1),
        max_epochs=epochs,
    )
    _log(t0, f"epoch ~{epoch_s:.1f} s, {left:.0f} s left: max_epochs = {epochs}")

    t = time.monotonic()
    with deadline(t0 + args.budget):
        pipe, train_report = train_from_config(
            config,
            cache=cache,
            n_jobs=args.n_jobs,
            num_threads=args.threads,
            device=args.device,
            warm_start=args.resume,
            verbose=1,
        )
    report["train_s"] = round(time.monotonic() - t, 1)
    save_model(pipe, out / "model.pt", metadata=train_report, overwrite=True)
    report["train"] = {k: v for k, v in train_report.items() if k != "config"}
    report["config"] = config
    report["total_s"] = round(time.monotonic() - t0, 1)
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    _log(t0, json.dumps(report["train"], default=str))
    _log(t0, f"wrote {out / 'model.pt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
