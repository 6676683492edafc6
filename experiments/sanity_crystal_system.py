"""Accuracy sanity run: crystal system from synthetic powder patterns.

Random crystals over all 230 space groups (``make_pattern_dataset``), Cu Kα
patterns, a held-out fifth chosen with ``StratifiedGroupKFold`` on the duplicate
groups, a small ResNet trained on the CPU. Prints held-out accuracy and the
majority-class baseline.

Usage::

    python experiments/sanity_crystal_system.py [--n 6000] [--epochs 8]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from skxrd.datasets import make_pattern_dataset
from skxrd.dedup import duplicate_groups
from skxrd.estimators import ResNetClassifier


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--cache", default=None)
    args = parser.parse_args(argv)
    data = make_pattern_dataset(
        args.n, target="crystal_system", random_state=0, cache=args.cache, verbose=False
    )
    groups = duplicate_groups(data.X)
    train, test = next(
        StratifiedGroupKFold(5, shuffle=True, random_state=0).split(
            data.X, data.y, groups
        )
    )
    clf = ResNetClassifier(
        depth=args.depth,
        width=args.width,
        max_epochs=args.epochs,
        lr=2e-3,
        batch_size=64,
        random_state=0,
        verbose=1,
    )
    t = time.perf_counter()
    clf.fit(data.X[train], data.y[train])
    minutes = (time.perf_counter() - t) / 60
    accuracy = clf.score(data.X[test], data.y[test])
    values, counts = np.unique(data.y[train], return_counts=True)
    baseline = np.mean(data.y[test] == values[counts.argmax()])
    top2 = np.mean(
        [
            y in row
            for y, row in zip(data.y[test], clf.predict_top_k(data.X[test], 2)[0])
        ]
    )
    print(
        f"{len(train)} training / {len(test)} held-out patterns "
        f"({len(np.unique(groups))} duplicate groups), {minutes:.1f} min of training"
    )
    print(
        f"held-out accuracy {accuracy:.3f} (top-2 {top2:.3f}); majority-class "
        f"baseline {baseline:.3f}"
    )


if __name__ == "__main__":
    main()
