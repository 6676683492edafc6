"""Near-duplicate grouping of 1,000,000 patterns of 4,250 points.

The patterns are synthetic and peaky (12 Gaussian peaks at random positions,
widths and heights per distinct pattern, which is what matters for the cost of
cosine grouping), written block by block into a float32 memory-mapped file
(17 GB). A fraction of them are planted near-copies (intensity scaled by
0.9-1.1 plus Gaussian noise of 0.3 % of the maximum) of earlier patterns, so the
run also measures recall. ``duplicate_groups`` (LSH candidates + exact cosine
check) is timed on the whole set. The reference is exact all-pairs cosine
grouping in blocks (``algorithm="exact"``) timed on the first 20,000 patterns in
the same run and extrapolated quadratically to the full set.

Usage::

    python benchmarks/bench_dedup.py [--n 1000000] [--copies 0.1] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import numpy as np

from skxrd.dedup import duplicate_groups

N_POINTS = 4250


def synthesize(path, n, copy_fraction, seed=0, block=20_000):
    """Write n patterns to a memmap; returns (memmap, copy index, source index)."""
    rng = np.random.default_rng(seed)
    X = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float32, shape=(n, N_POINTS)
    )
    n_copies = int(n * copy_fraction)
    n_base = n - n_copies
    offsets = np.arange(-30, 31)
    for a in range(0, n_base, block):
        b = min(a + block, n_base)
        m = b - a
        centre = rng.integers(0, N_POINTS, (m, 12))
        width = rng.uniform(2.0, 8.0, (m, 12, 1))
        height = rng.random((m, 12, 1))
        vals = height * np.exp(-0.5 * (offsets / width) ** 2)
        idx = centre[:, :, None] + offsets
        ok = (idx >= 0) & (idx < N_POINTS)
        rows = np.broadcast_to(np.arange(m)[:, None, None], idx.shape)
        flat = (rows * N_POINTS + np.clip(idx, 0, N_POINTS - 1))[ok]
        out = np.bincount(flat, weights=vals[ok], minlength=m * N_POINTS)
        X[a:b] = out.reshape(m, N_POINTS)
    copies = np.arange(n_base, n)
    sources = rng.integers(0, n_base, n_copies)
    for a in range(0, n_copies, block):
        src = sources[a : a + block]
        base = np.asarray(X[np.sort(src)])[np.argsort(np.argsort(src))]
        noise = rng.normal(0, 0.003, base.shape) * base.max(1, keepdims=True)
        scale = rng.uniform(0.9, 1.1, (len(src), 1))
        X[copies[a : a + block]] = (base * scale + noise).astype(np.float32)
    X.flush()
    return X, copies, sources


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--copies", type=float, default=0.1)
    parser.add_argument("--exact-n", type=int, default=20_000)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args(argv)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    path = os.path.join(args.dir, "skxrd_bench_dedup.npy")
    t = time.perf_counter()
    X, copies, sources = synthesize(path, args.n, args.copies)
    print(
        f"synthesized {args.n} x {N_POINTS} float32 patterns "
        f"({X.nbytes / 1e9:.1f} GB) in {time.perf_counter() - t:.0f} s"
    )
    try:
        t = time.perf_counter()
        groups = duplicate_groups(X, algorithm="lsh", verbose=True)
        t_lsh = time.perf_counter() - t
        recall = float(np.mean(groups[copies] == groups[sources]))
        n_groups = int(groups.max()) + 1
        expected = args.n - len(copies)

        small = np.asarray(X[: args.exact_n])
        t = time.perf_counter()
        exact = duplicate_groups(small, algorithm="exact")
        t_exact = time.perf_counter() - t
        # same partition of the subset (group ids renumbered by first member)
        sub = groups[: args.exact_n]
        _, first, inverse = np.unique(sub, return_index=True, return_inverse=True)
        rank = np.empty(len(first), dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(first))
        agree = np.array_equal(exact, rank[inverse])
        extrapolated = t_exact * (args.n / args.exact_n) ** 2
        print(
            f"duplicate_groups (LSH + exact check), {args.n} patterns: "
            f"{t_lsh:.1f} s; {n_groups} groups (distinct patterns: {expected}); "
            f"planted copies found: {recall:.2%}"
        )
        print(
            f"exact all pairs, {args.exact_n} patterns: {t_exact:.1f} s "
            f"(extrapolated to {args.n}: {extrapolated / 3600:.1f} h); "
            f"same groups as LSH on that subset: {agree}"
        )
        print(f"speed-up over exact all pairs: {extrapolated / t_lsh:.0f}x")
    finally:
        del X
        os.remove(path)


if __name__ == "__main__":
    main()
