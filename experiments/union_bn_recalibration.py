"""Diagnostic: a saved structure-type union with recomputed BatchNorm statistics.

Loads a union saved by ``structure_type_union.py --save union.joblib`` (after
``add_classes``; only the first 100 types' members are scored), rebuilds the
same data and split, and prints per member how often its own answer is right
on its types' held-out compounds, then the union's top-1. It then recomputes
every member's BatchNorm running statistics as the plain average over its own
training patterns (its types' training fold, which also holds the router's
10 patterns per type, used here without labels, and its negatives; shuffled
batches of the training size; final weights, no gradient), refits the router
on its held-out patterns and prints the same again. Nothing is written.

Usage::

    python experiments/union_bn_recalibration.py union.joblib [--per-type 60]
        [--cache ~/.cache/skxrd] [--seed 0]
"""

from __future__ import annotations

import argparse

import joblib
import numpy as np
import torch
from structure_type_union import _split

from skxrd.datasets import STRUCTURE_TYPES, make_pattern_dataset
from skxrd.preprocessing import PatternNormalizer


def _own_answers(union, X, y):
    """Per member: own answer right on its types; and the right-member rate."""
    details = union.reliability(X)
    owner = {c: m for m, subset in enumerate(union.class_subsets_) for c in subset}
    true_member = np.array([owner[c] for c in y])
    rows = np.arange(len(y))
    own = [
        float(np.mean(details.label[rows[true_member == m], m] == y[true_member == m]))
        for m in range(len(union.estimators_))
    ]
    return own, float(np.mean(details.member == true_member))


def _report(step, union, X, y):
    own, routed = _own_answers(union, X, y)
    print(
        f"{step}: top-1 {union.score(X, y):.4f}; right member answers "
        f"{routed:.4f}; own answer right per member "
        + " ".join(f"{a:.3f}" for a in own),
        flush=True,
    )


def _recompute_batchnorm(member, X, batch_size, seed):
    """Average BatchNorm statistics of ``member`` over ``X`` (shuffled batches)."""
    net = member.net_.module_
    norms = [
        m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    ]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average instead of the running one
    X = X[np.random.default_rng(seed).permutation(len(X))]
    net.train()
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            net(torch.from_numpy(X[start : start + batch_size]))
    for norm in norms:
        norm.momentum = 0.1
    net.eval()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("union", help="joblib file of structure_type_union.py --save")
    parser.add_argument("--per-type", type=int, default=60)
    parser.add_argument("--variants", type=int, default=2)
    parser.add_argument("--cache", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    names = np.random.default_rng(args.seed).permutation(list(STRUCTURE_TYPES))
    data = make_pattern_dataset(
        100 * args.per_type,
        target="structure_type",
        prototypes=names[:100].tolist(),
        n_variants=args.variants,
        cache=args.cache,
        random_state=args.seed,
        verbose=False,
    )
    data.X = PatternNormalizer(scale="sqrt").fit_transform(data.X).astype(np.float32)
    fit, _, test = _split(data, args.seed)
    union = joblib.load(args.union)
    # keep the members of the first 100 types (add_classes appended the others)
    n = sum(np.isin(s, data.y).all() for s in union.class_subsets_)
    union.estimators_ = union.estimators_[:n]
    union.class_subsets_ = union.class_subsets_[:n]
    keep = np.isin(union.classes_, np.concatenate(union.class_subsets_))
    union.classes_, union.class_means_ = union.classes_[keep], union.class_means_[keep]
    held = np.isin(union.holdout_y_, union.classes_)
    union.holdout_X_, union.holdout_y_ = union.holdout_X_[held], union.holdout_y_[held]
    X, y = data.X[test], data.y[test]

    union._fit_router()
    _report("stored statistics", union, X, y)
    X_fit, y_fit = data.X[fit], data.y[fit]
    for i, (member, subset) in enumerate(zip(union.estimators_, union.class_subsets_)):
        own = np.isin(y_fit, subset)
        negatives = ~np.isin(union.negatives_y_, subset)
        X_member = np.concatenate([X_fit[own], union.negatives_X_[negatives]])
        batch = member.get_params().get("batch_size", 32)
        _recompute_batchnorm(member, X_member, batch, seed=i)
    union._fit_router()
    _report("recomputed statistics", union, X, y)


if __name__ == "__main__":
    main()
