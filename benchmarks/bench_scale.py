"""Out-of-core scale: write, resume and train from a pattern store larger than memory.

1. Writes ``--n`` random-crystal patterns (10–80° 2θ at 0.05°: 1400 points,
   5.6 kB each in float32, 5.6 GB for the default million) into an HDF5
   pattern store with :func:`skxrd.datasets.write_pattern_store`: first only
   ``--stop-after-chunks`` chunks (as if the job had been stopped), then the
   rest by calling it again with the same arguments (resume).
   Peer: the in-memory :func:`make_pattern_dataset` on a sample of
   ``--peer-n`` patterns with the same settings, measured in this run (after
   the store, so that both find warm workers); the ratio is the cost of
   writing to disk.
2. Trains a small ``ResNetClassifier`` (depth 2, width 8) for ``--epochs``
   from the store, reading it a batch at a time. Peer: the same network
   trained on the in-memory sample (patterns/s of training).
3. Scores it on a held-out store (``--test-n`` patterns, another seed),
   predicted in streamed batches.

Memory: the peak resident memory of this process and its workers (sampled
every 0.1 s with psutil, or ``ru_maxrss`` without it) during each phase,
against the size of the store.

Usage::

    python benchmarks/bench_scale.py                       # 1,000,000 patterns
    python benchmarks/bench_scale.py --n 20000 --chunk-size 5000 --n-jobs 1
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from skxrd.datasets import make_pattern_dataset, write_pattern_store
from skxrd.simulation import PowderSimulator


class PeakMemory:
    """Peak resident memory (bytes) of this process and its children in a block."""

    def __init__(self, interval=0.1):
        self.interval = interval
        self.peak = 0

    def _rss(self):
        try:
            import psutil
        except ImportError:  # the process's lifetime peak
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self._rss())

    def __enter__(self):
        self._stop = threading.Event()
        self.peak = self._rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def gb(n_bytes):
    return f"{n_bytes / 1e9:.2f} GB"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="patterns")
    parser.add_argument("--chunk-size", type=int, default=10_000)
    parser.add_argument(
        "--stop-after-chunks",
        type=int,
        default=2,
        help="chunks of the first (interrupted) run; the second run resumes",
    )
    parser.add_argument(
        "--path",
        default=os.path.join(tempfile.gettempdir(), "skxrd_bench_scale.h5"),
        help="the store (removed first unless --resume-existing)",
    )
    parser.add_argument("--resume-existing", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the stores")
    parser.add_argument("--target", default="crystal_system")
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--peer-n", type=int, default=None, help="default: a chunk")
    parser.add_argument("--test-n", type=int, default=None, help="default: n / 50")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    from skxrd.estimators import ResNetClassifier

    sim = PowderSimulator(two_theta_range=(10.0, 80.0), two_theta_step=0.05)
    n_points = len(sim.two_theta)
    settings = dict(
        target=args.target,
        simulator=sim,
        chunk_size=args.chunk_size,
        n_jobs=args.n_jobs,
        verbose=True,
    )
    path = Path(args.path)
    test_path = path.with_name(path.stem + "_test" + path.suffix)
    if not args.resume_existing:
        for p in (path, test_path):
            p.unlink(missing_ok=True)
    peer_n = min(args.n, args.peer_n or args.chunk_size)
    test_n = args.test_n or max(1000, args.n // 50)
    size = args.n * n_points * 4
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"{args.n} patterns x {n_points} points = {gb(size)} of float32 "
        f"in {path}; chunks of {args.chunk_size}, n_jobs={args.n_jobs}"
    )

    baseline = PeakMemory()._rss()
    # warm the per-space-group tables and form factors of this process
    make_pattern_dataset(230, target=args.target, simulator=sim, verbose=False)

    # ---------------------------------------------------------------- write
    with PeakMemory() as mem_write:
        t = time.perf_counter()
        store = write_pattern_store(
            path,
            args.n,
            random_state=args.seed,
            max_chunks=args.stop_after_chunks,
            **settings,
        )
        first = time.perf_counter() - t
        n_first = len(store)
        print(
            f"first run stopped after {store._n_complete_chunks} chunks: "
            f"{n_first} of {args.n} patterns, complete={store.is_complete}"
        )
        store.close()
        t = time.perf_counter()
        store = write_pattern_store(path, args.n, random_state=args.seed, **settings)
        second = time.perf_counter() - t
        assert store.is_complete
    write_rate = args.n / (first + second)
    resumed_rate = (args.n - n_first) / second if args.n > n_first else float("nan")
    test = write_pattern_store(
        test_path, test_n, random_state=args.seed + 2, **settings
    )
    disk = path.stat().st_size

    # ------------------------------------------- peer (after: warm workers)
    with PeakMemory() as mem_peer:
        t = time.perf_counter()
        sample = make_pattern_dataset(
            peer_n,
            target=args.target,
            simulator=sim,
            random_state=args.seed + 1,
            n_jobs=args.n_jobs,
            verbose=False,
        )
        peer_rate = peer_n / (time.perf_counter() - t)

    # ---------------------------------------------------------------- train
    def make_clf():
        return ResNetClassifier(
            depth=2,
            width=8,
            max_epochs=args.epochs,
            batch_size=args.batch_size,
            lr=3e-3,
            device=args.device,
            num_threads=args.threads,
            random_state=args.seed,
        )

    # warm torch up (first-call costs) before timing
    make_clf().set_params(validation_fraction=None).fit(sample.X[:64], sample.y[:64])
    with PeakMemory() as mem_peer_train:
        t = time.perf_counter()
        make_clf().fit(sample.X, sample.y)
        peer_train = args.epochs * peer_n / (time.perf_counter() - t)
    del sample

    with PeakMemory() as mem_train:
        t = time.perf_counter()
        clf = make_clf().fit(store)
        train_time = time.perf_counter() - t
    train_rate = args.epochs * len(store) / train_time
    with PeakMemory() as mem_predict:
        t = time.perf_counter()
        accuracy = clf.score(test, test.y)
        predict_rate = len(test) / (time.perf_counter() - t)
    chance = np.bincount(np.unique(test.y, return_inverse=True)[1]).max() / len(test)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    # ---------------------------------------------------------------- report
    print()
    print(f"{'step':58s} {'patterns/s':>11s} {'vs peer':>8s} {'peak RSS':>10s}")
    rows = [
        ("make_pattern_dataset, in memory (peer)", peer_rate, peer_rate, mem_peer),
        ("write_pattern_store to HDF5, both runs", write_rate, peer_rate, mem_write),
        ("  the resumed run alone", resumed_rate, peer_rate, None),
        (
            "fit ResNet on the in-memory sample (peer)",
            peer_train,
            peer_train,
            mem_peer_train,
        ),
        ("fit ResNet from the store", train_rate, peer_train, mem_train),
        ("predict the held-out store, streamed", predict_rate, None, mem_predict),
    ]
    for name, rate, peer, mem in rows:
        print(
            f"{name:58s} {rate:11.1f} "
            + (f"{rate / peer:7.2f}x" if peer else f"{'':8s}")
            + (f" {gb(mem.peak):>10s}" if mem is not None else "")
        )
    print()
    print(
        f"baseline RSS after the imports {gb(baseline)}; "
        f"store: {gb(disk)} on disk ({gb(size)} of patterns); peak RSS while "
        f"writing {gb(mem_write.peak)} ({mem_write.peak / disk:.1%} of the store), "
        f"while training {gb(mem_train.peak)} ({mem_train.peak / disk:.1%}); "
        f"ru_maxrss of the process {gb(maxrss)}"
    )
    print(
        f"held-out accuracy ({args.target}, {len(test)} patterns, "
        f"{args.epochs} epoch(s)): {accuracy:.3f} (majority class {chance:.3f})"
    )
    store.close()
    test.close()
    if not args.keep:
        path.unlink()
        test_path.unlink()


if __name__ == "__main__":
    main()
