"""Networks at an equal small budget, scored on measured patterns.

Issue 18 asks for the architecture that gives the most measured accuracy per
CPU-hour. This script trains a few networks from scratch on the same data, a
fixed random subset of the shipped space-group recipe's training patterns
(``skxrd/pretrained/configs/space-group.toml``, read from the dataset cache),
for the same number of epochs with the recipe's training settings (batch 128,
lr 0.002 with a cosine schedule, ``sample_augmentation``, 5 % validation), and
scores each network alone (no search-match, uncalibrated) on the 456 RRUFF
measured minerals and on the recipe's 2,000 held-out Materials Project
prototypes (simulated). It appends one JSON line per network to ``--out`` and
prints a table with the CPU-hours each took.

The RRUFF patterns are scored, never trained on.

Usage::

    OMP_NUM_THREADS=2 python experiments/architecture_budget.py \\
        --cache /tmp/skxrd_cache [--n 30000] [--epochs 3] [--only NAME,...] \\
        [--out architecture_budget.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

#: name -> classifier section (the recipe's training settings are added)
NETWORKS = {
    "resnet-d6-w24-k7 (shipped)": {
        "type": "ResNetClassifier",
        "depth": 6,
        "width": 24,
        "stem_stride": 4,
    },
    "resnet-d4-w32-k15": {
        "type": "ResNetClassifier",
        "depth": 4,
        "width": 32,
        "kernel_size": 15,
        "stem_stride": 4,
    },
    "densenet-g12-333": {
        "type": "DenseNetClassifier",
        "growth_rate": 12,
        "block_config": [3, 3, 3],
    },
    "densenet-g24-444-s4": {
        "type": "DenseNetClassifier",
        "growth_rate": 24,
        "block_config": [4, 4, 4],
        "stem_stride": 4,
    },
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", required=True, help="skxrd dataset cache")
    parser.add_argument("--n", type=int, default=30000, help="training patterns")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default=None, help="comma-separated names")
    parser.add_argument("--out", type=Path, default=Path("architecture_budget.jsonl"))
    args = parser.parse_args(argv)

    from measured_training import rruff_patterns, score

    from skxrd.pretrained import build_pipeline, load_config
    from skxrd.pretrained._train import _dataset

    base = load_config(ROOT / "skxrd/pretrained/configs/space-group.toml")
    base.pop("match", None)
    X, y, _ = _dataset(base, "data", args.cache, 2, True)
    keep = np.random.default_rng(0).permutation(len(y))[: args.n]
    X, y = X[keep], y[keep]
    Xt, _, sgt = _dataset(base, "test", args.cache, 2, True)
    rruff_X, rruff_sg = rruff_patterns()
    names = args.only.split(",") if args.only else list(NETWORKS)
    for name in names:
        section = dict(NETWORKS[name])
        for key in ("batch_size", "lr", "augment", "validation_fraction"):
            section[key] = base["classifier"][key]
        section.update(max_epochs=args.epochs, random_state=0, verbose=1)
        config = dict(base, classifier=section)
        pipe = build_pipeline(config)
        pipe.steps[-1][1].set_params(num_threads=args.threads)
        cpu, wall = time.process_time(), time.perf_counter()
        pipe.fit(X, y)
        row = {
            "network": name,
            "classifier": section,
            "n_train": int(len(y)),
            "epochs": int(pipe.steps[-1][1].n_epochs_),
            "cpu_hours": round((time.process_time() - cpu) / 3600, 3),
            "wall_hours": round((time.perf_counter() - wall) / 3600, 3),
            "parameters": int(
                sum(p.numel() for p in pipe.steps[-1][1].net_.module_.parameters())
            ),
            "rruff": score(pipe, rruff_X, rruff_sg),
            "mp_held_out": score(pipe, Xt, sgt),
        }
        with open(args.out, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(
            f"{name}: {row['cpu_hours']:.2f} CPU-h, RRUFF crystal system "
            f"{row['rruff']['crystal_system_top1']:.3f}, space group "
            f"{row['rruff']['space_group_top1']:.3f} / "
            f"{row['rruff']['space_group_top5']:.3f}; held-out "
            f"{row['mp_held_out']['crystal_system_top1']:.3f} / "
            f"{row['mp_held_out']['space_group_top1']:.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
