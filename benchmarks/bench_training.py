"""Training and inference speed of ResNetClassifier against a plain torch loop.

Both train the same network (the default :class:`skxrd.models.ResNet1D`: depth 8,
width 32, kernel 7, 230 classes as for space groups) on the same synthetic
4,250-point patterns with AdamW, cross-entropy and a cosine schedule, and then
predict class probabilities. The estimator is
``ResNetClassifier(validation_fraction=None, early_stopping=False)`` (skorch
inside ``fit``); the reference is the hand-written loop a practitioner would
write: data in (pinned) host memory, a random permutation per epoch, batches
copied with ``non_blocking=True``, no per-batch synchronization.

On CUDA both run with bf16 autocast, pinned memory, a large batch and
``cudnn.benchmark``; the GPU utilization is sampled (``torch.cuda.utilization``,
which needs pynvml, else ``nvidia-smi``) while they train. ``channels_last`` is a
memory format of 4D tensors: it does not apply to the 1D convolutions of these
networks (the 2D :class:`skxrd.models.DenseNet2D` supports it).

Rates are patterns per second over the timed epochs (the first epoch, with
one-off costs such as cuDNN autotuning, is excluded when there are several);
the ratio estimator / plain loop is what to compare across machines.

Usage::

    python benchmarks/bench_training.py [--device auto|cpu|cuda|both]
        [--n-samples N] [--epochs E] [--batch-size B] [--threads T]
        [--compile] [--accelerate] [--precision bf16|float32]

``--compile`` adds a fit with ``compile=True`` (torch.compile, default
inductor backend) and ``--accelerate`` one through Hugging Face accelerate
(``accelerate={"mixed_precision": "bf16"}`` on CUDA), each as a ratio to the
plain loop; their first epoch (compilation, set-up) is not timed.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import torch

from skxrd.estimators import ResNetClassifier
from skxrd.models import ResNet1D

N_POINTS = 4250
N_CLASSES = 230
# --precision: bf16 autocast on CUDA (the default) or float32 throughout
BF16 = True


def synthetic_patterns(n, n_classes, seed=0):
    """Peaky max-normalized patterns (Gaussian peaks on a background), float32."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 0.01, (n, N_POINTS)).astype(np.float32)
    grid = np.arange(N_POINTS, dtype=np.float32)
    y = rng.integers(0, n_classes, n)
    centers = rng.uniform(50, N_POINTS - 50, (n_classes, 12)).astype(np.float32)
    for i in range(n):
        c = centers[y[i]] + rng.normal(0, 2.0, 12).astype(np.float32)
        height = rng.uniform(0.1, 1.0, 12).astype(np.float32)
        for pos, h in zip(c, height):
            lo, hi = int(pos) - 25, int(pos) + 25
            X[i, lo:hi] += h * np.exp(-0.5 * ((grid[lo:hi] - pos) / 4.0) ** 2)
    X /= X.max(axis=1, keepdims=True)
    return X, y


class GpuUtilization:
    """Samples the GPU utilization (percent) in a background thread."""

    def __init__(self, device, interval=0.2):
        self.device = device
        self.interval = interval
        self.samples = []
        self._stop = threading.Event()
        self._thread = None
        self.source = None

    def _read(self):
        try:
            return float(torch.cuda.utilization(self.device))
        except Exception:  # noqa: BLE001 - pynvml missing or unsupported
            pass
        if shutil.which("nvidia-smi") is None:
            return None
        index = torch.device(self.device).index or 0
        try:
            out = subprocess.run(
                [
                    "nvidia-smi",
                    f"--id={index}",
                    "--query-gpu=utilization.gpu",
                    "--format=csv,noheader,nounits",
                ],
                capture_output=True,
                text=True,
                timeout=5,
            )
            return float(out.stdout.strip().splitlines()[0])
        except Exception:  # noqa: BLE001
            return None

    def _run(self):
        while not self._stop.is_set():
            value = self._read()
            if value is not None:
                self.samples.append(value)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def summary(self):
        if not self.samples:
            return "n/a"
        return (
            f"{statistics.mean(self.samples):.0f}% mean, {max(self.samples):.0f}% max"
        )


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# --------------------------------------------------------------------------- #
# the plain torch reference
# --------------------------------------------------------------------------- #
def reference_train(X, y, device, epochs, batch_size, lr, seed=0):
    """A plain torch training loop; returns (model, per-epoch seconds)."""
    torch.manual_seed(seed)
    model = ResNet1D(N_CLASSES).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    criterion = torch.nn.CrossEntropyLoss()
    cuda = device.type == "cuda"
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y.astype(np.int64))
    if cuda:
        Xt, yt = Xt.pin_memory(), yt.pin_memory()
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda and BF16)
    times = []
    model.train()
    for _ in range(epochs):
        sync(device)
        start = time.perf_counter()
        order = torch.randperm(len(Xt))
        for i in range(0, len(Xt), batch_size):
            idx = order[i : i + batch_size]
            xb = Xt[idx]
            yb = yt[idx]
            if cuda:
                xb, yb = xb.pin_memory(), yb.pin_memory()
            xb = xb.to(device, non_blocking=True)
            yb = yb.to(device, non_blocking=True)
            with autocast:
                logits = model(xb)
            loss = criterion(logits.float(), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        schedule.step()
        sync(device)
        times.append(time.perf_counter() - start)
    return model, times


def reference_predict(model, X, device, batch_size):
    """Plain batched inference; returns (probabilities, seconds)."""
    cuda = device.type == "cuda"
    Xt = torch.from_numpy(X)
    if cuda:
        Xt = Xt.pin_memory()
    model.eval()
    out = []
    sync(device)
    start = time.perf_counter()
    with (
        torch.inference_mode(),
        torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda and BF16),
    ):
        for i in range(0, len(Xt), batch_size):
            xb = Xt[i : i + batch_size].to(device, non_blocking=True)
            out.append(torch.softmax(model(xb).float(), dim=1).cpu())
    sync(device)
    return torch.cat(out).numpy(), time.perf_counter() - start


# --------------------------------------------------------------------------- #
# the estimator
# --------------------------------------------------------------------------- #
def estimator_train(X, y, device, epochs, batch_size, lr, seed=0, **params):
    if params.get("accelerate", False) is not False:
        device_param = "auto"  # the accelerator places the network
        params["accelerate"] = {
            **({"cpu": True} if device.type == "cpu" else {"mixed_precision": "bf16"}),
            **params["accelerate"],
        }
    else:
        device_param = str(device)
        if device.type == "cuda":
            params.setdefault("precision", "bf16" if BF16 else "float32")
    clf = ResNetClassifier(
        max_epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        validation_fraction=None,
        early_stopping=False,
        device=device_param,
        random_state=seed,
        **params,
    )
    sync(device)
    start = time.perf_counter()
    clf.fit(X, y)
    sync(device)
    wall = time.perf_counter() - start
    return clf, list(clf.history_[:, "dur"]), wall


def estimator_predict(clf, X, device):
    sync(device)
    start = time.perf_counter()
    proba = clf.predict_proba(X)
    sync(device)
    return proba, time.perf_counter() - start


def rate(n, times):
    """Patterns/s over the epochs after the first (all of them if only one)."""
    timed = times[1:] if len(times) > 1 else times
    return n * len(timed) / sum(timed)


def bench_device(device, args):
    cuda = device.type == "cuda"
    n = args.n_samples or (32768 if cuda else 1024)
    batch = args.batch_size or (512 if cuda else 128)
    epochs = args.epochs
    name = (
        torch.cuda.get_device_name(device)
        if cuda
        else platform.processor() or platform.machine()
    )
    print(f"\n== {device} ({name}, {torch.get_num_threads()} torch threads) ==")
    print(
        f"{n} patterns x {N_POINTS} points, {N_CLASSES} classes, batch {batch}, "
        f"{epochs} epochs = {math.ceil(n / batch)} batches/epoch"
        + (
            f", {'bf16 autocast' if BF16 else 'float32'}, pinned memory, "
            "cudnn.benchmark"
            if cuda
            else ""
        )
    )
    X, y = synthetic_patterns(n, N_CLASSES)
    if cuda:
        torch.backends.cudnn.benchmark = True

    # warm-up: kernels, allocator, autotuning (not timed)
    warm = min(n, 2 * batch)
    reference_train(X[:warm], y[:warm], device, 1, batch, args.lr)
    estimator_train(X[:warm], y[:warm], device, 1, batch, args.lr)

    rows = []
    util_ref = GpuUtilization(device) if cuda else None
    if cuda:
        with util_ref:
            model, ref_times = reference_train(X, y, device, epochs, batch, args.lr)
    else:
        model, ref_times = reference_train(X, y, device, epochs, batch, args.lr)
    util_est = GpuUtilization(device) if cuda else None
    if cuda:
        with util_est:
            clf, est_times, wall = estimator_train(X, y, device, epochs, batch, args.lr)
    else:
        clf, est_times, wall = estimator_train(X, y, device, epochs, batch, args.lr)
    ref_rate, est_rate = rate(n, ref_times), rate(n, est_times)
    rows.append(
        ("train", "plain torch loop", ref_rate, 1.0, util_ref and util_ref.summary())
    )
    rows.append(
        (
            "train",
            "ResNetClassifier.fit",
            est_rate,
            est_rate / ref_rate,
            util_est and util_est.summary(),
        )
    )
    variants = []
    if args.compile:
        variants.append(("ResNetClassifier.fit, compile=True", {"compile": True}))
    if args.accelerate:
        variants.append(("ResNetClassifier.fit, accelerate", {"accelerate": {}}))
    for label, params in variants:
        # the first epoch (compilation, accelerator set-up) is not timed
        _, times, _ = estimator_train(X, y, device, epochs, batch, args.lr, **params)
        r = rate(n, times)
        rows.append(("train", label, r, r / ref_rate, None))

    # inference on the trained networks, same batch size
    ref_proba, ref_s = reference_predict(model, X, device, batch)
    est_proba, est_s = estimator_predict(clf, X, device)
    ref_proba, ref_s = reference_predict(model, X, device, batch)  # 2nd, warm
    est_proba, est_s = estimator_predict(clf, X, device)
    rows.append(("predict", "plain torch loop", n / ref_s, 1.0, None))
    rows.append(
        (
            "predict",
            "ResNetClassifier.predict_proba",
            n / est_s,
            (n / est_s) / (n / ref_s),
            None,
        )
    )

    print("| phase | implementation | patterns/s | vs plain loop | GPU util |")
    print("|---|---|---:|---:|---|")
    for phase, name, r, ratio, util in rows:
        print(f"| {phase} | {name} | {r:,.1f} | {ratio:.2f}x | {util or '-'} |")
    print(
        f"estimator fit wall time {wall:.2f} s for {epochs} epochs "
        f"(per-epoch {', '.join(f'{t:.2f}' for t in est_times)} s); "
        f"plain loop per-epoch {', '.join(f'{t:.2f}' for t in ref_times)} s"
    )
    assert np.allclose(est_proba.sum(axis=1), 1.0, atol=1e-4)
    assert np.allclose(ref_proba.sum(axis=1), 1.0, atol=1e-2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda", "both"],
        help="auto: CUDA when available, else the CPU; both: the CPU and CUDA",
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        default=None,
        help="training patterns (default 1024 on CPU, 32768 on CUDA)",
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="default 128 on CPU, 512 on CUDA"
    )
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--compile", action="store_true", help="also fit with compile=True"
    )
    parser.add_argument(
        "--precision",
        choices=["bf16", "float32"],
        default="bf16",
        help="on CUDA: bf16 autocast (default) or float32, for both the "
        "estimator and the plain loop (the CPU always runs float32)",
    )
    parser.add_argument(
        "--accelerate",
        action="store_true",
        help="also fit through accelerate (bf16 on CUDA; pip install accelerate)",
    )
    args = parser.parse_args(argv)
    global BF16
    BF16 = args.precision == "bf16"
    warnings.filterwarnings("ignore")
    if args.threads:
        torch.set_num_threads(args.threads)

    has_cuda = torch.cuda.is_available()
    if args.device == "auto":
        devices = ["cuda" if has_cuda else "cpu"]
    elif args.device == "both":
        devices = ["cpu"] + (["cuda"] if has_cuda else [])
    else:
        devices = [args.device]
    if "cuda" in devices and not has_cuda:
        sys.exit("CUDA is not available")
    print(
        f"torch {torch.__version__}, {platform.machine()}, {os.cpu_count()} cores"
        + ("" if has_cuda else "; no CUDA device: GPU rows not measured")
    )
    for device in devices:
        bench_device(torch.device(device), args)


if __name__ == "__main__":
    main()
