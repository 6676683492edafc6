"""Extensible structure-type union: 100 types, then 10 more with ``add_classes``.

Reproduces the scheme of the structure-type identification study on synthetic
data: compounds of 110 structure types of skxrd's library (a seeded draw),
element substitution plus strained/jittered variants, Cu Kα patterns. A
``StratifiedGroupKFold`` fold holds out a fifth of the compounds of every type
(no compound is in both training and test). A :class:`UnionClassifier` of
ResNets with confidence heads learns the first 100 types; ``add_classes`` then
learns 10 new types without touching the existing members (checked bit for
bit). Members also learn a "none of mine" class from 20 patterns of every
other type (outlier exposure, ``negatives_per_class``). Prints top-1 accuracy
on the held-out compounds before and after, the accuracy of the abstaining
union at several coverages and the expected calibration error before and
after temperature scaling on a validation set.

Usage::

    python experiments/structure_type_union.py [--per-type 60] [--variants 2]
        [--epochs 30] [--negatives 20] [--device auto] [--threads N]
        [--n-jobs N] [--cache ~/.cache/skxrd] [--plot out.png]
"""

from __future__ import annotations

import argparse
import hashlib
import time

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import StratifiedGroupKFold

from skxrd.datasets import STRUCTURE_TYPES, make_pattern_dataset
from skxrd.estimators import AbstainingClassifier, ResNetClassifier, UnionClassifier
from skxrd.metrics import (
    AccuracyCoverageDisplay,
    accuracy_at_coverage,
    expected_calibration_error,
)
from skxrd.preprocessing import PatternNormalizer


def _fingerprint(member) -> str:
    """SHA-256 of a member's network parameters and buffers."""
    digest = hashlib.sha256()
    for name, tensor in sorted(member.net_.module_.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


def _split(data, seed):
    """(train, valid, test) indices: group-aware, stratified by type."""
    folds = StratifiedGroupKFold(5, shuffle=True, random_state=seed)
    train, test = next(folds.split(data.X, data.y, data.groups))
    inner = StratifiedGroupKFold(10, shuffle=True, random_state=seed)
    fit, valid = next(inner.split(data.X[train], data.y[train], data.groups[train]))
    return train[fit], train[valid], test


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-type", type=int, default=60, help="compounds per type")
    parser.add_argument("--variants", type=int, default=2, help="variants/compound")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--negatives", type=int, default=20, help="per class")
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--kernel-size", type=int, default=15)
    parser.add_argument("--stem-stride", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument(
        "--augment", action="store_true", help="train-time augmentation (default)"
    )
    parser.add_argument("--per-member", type=int, default=10)
    parser.add_argument(
        "--combiner", default="learned", choices=("learned", "reliability")
    )
    parser.add_argument("--holdout", type=int, default=10, help="router patterns/class")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="processes simulating the data"
    )
    parser.add_argument("--cache", default=None)
    parser.add_argument("--plot", default=None, help="accuracy-coverage figure")
    parser.add_argument("--save", default=None, help="joblib file for the union")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    names = np.random.default_rng(args.seed).permutation(list(STRUCTURE_TYPES))
    old_types, new_types = names[:100].tolist(), names[100:110].tolist()
    normalize = PatternNormalizer(scale="sqrt")  # weak peaks matter for types
    sets = {}
    t0 = time.perf_counter()
    for key, types in (("old", old_types), ("new", new_types)):
        data = make_pattern_dataset(
            len(types) * args.per_type,
            target="structure_type",
            prototypes=types,
            n_variants=args.variants,
            cache=args.cache,
            random_state=args.seed + (key == "new"),
            n_jobs=args.n_jobs,
            verbose=False,
        )
        data.X = normalize.fit_transform(data.X).astype(np.float32)
        sets[key] = (data, _split(data, args.seed))
    print(
        f"data: {sum(len(d.X) for d, _ in sets.values())} patterns "
        f"({args.per_type} compounds x {args.variants} variants per type) in "
        f"{time.perf_counter() - t0:.0f} s"
    )

    member = ResNetClassifier(
        depth=args.depth,
        width=args.width,
        kernel_size=args.kernel_size,
        stem_stride=args.stem_stride,
        confidence_head=True,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        early_stopping=False,
        validation_fraction=None,
        augment="default" if args.augment else None,
        device=args.device,
        num_threads=args.threads,
    )
    union = UnionClassifier(
        member,
        max_classes_per_member=args.per_member,
        combiner=args.combiner,
        holdout_per_class=args.holdout,
        negatives_per_class=args.negatives,
        random_state=args.seed,
        verbose=1,
    )
    old, (fit, valid, test) = sets["old"]
    t0 = time.perf_counter()
    union.fit(old.X[fit], old.y[fit])
    minutes = (time.perf_counter() - t0) / 60
    acc_old = union.score(old.X[test], old.y[test])
    print(
        f"100 types: {len(union.estimators_)} members, {len(fit)} training / "
        f"{len(test)} held-out patterns, {minutes:.1f} min; top-1 {acc_old:.4f} "
        f"(combiner {union.combiner_})"
    )

    # abstention: accuracy against coverage, by reliability
    confidence = union.predict_confidence(old.X[test])
    y_pred = union.predict(old.X[test])
    for coverage in (1.0, 0.9, 0.5):
        acc = accuracy_at_coverage(old.y[test], y_pred, confidence, coverage)
        print(f"  accuracy at coverage {coverage:.0%}: {acc:.4f}")
    # where the errors come from: the answering member, or its answer
    details = union.reliability(old.X[test])
    owner = {c: m for m, subset in enumerate(union.class_subsets_) for c in subset}
    true_member = np.array([owner[c] for c in old.y[test]])
    rows = np.arange(len(true_member))
    print(
        f"  right member answers {np.mean(details.member == true_member):.4f}; "
        "the right member's own answer is right "
        f"{np.mean(details.label[rows, true_member] == old.y[test]):.4f}"
    )
    for alpha in (0.0, 0.3, 0.7):
        r = (1 - alpha) * details.confidence + alpha * details.similarity
        label = details.label[rows, r.argmax(axis=1)]
        print(f"  alpha={alpha}: top-1 {np.mean(label == old.y[test]):.4f}")
    # a threshold that keeps 90 % of the validation compounds
    threshold = float(np.quantile(union.predict_confidence(old.X[valid]), 0.1))
    abstaining = AbstainingClassifier(FrozenEstimator(union), threshold=threshold)
    abstaining.fit(old.X[fit], old.y[fit])
    answered = abstaining.predict(old.X[test]) != "unknown"
    print(
        f"  AbstainingClassifier(threshold={threshold:.3f}): answers "
        f"{answered.mean():.1%}, accuracy on them "
        f"{np.mean(y_pred[answered] == old.y[test][answered]):.4f}"
    )

    # calibration: temperature scaling on the validation compounds
    proba = union.predict_proba(old.X[test])
    calibrated = CalibratedClassifierCV(FrozenEstimator(union), method="temperature")
    calibrated.fit(old.X[valid], old.y[valid])
    proba_cal = calibrated.predict_proba(old.X[test])
    ece = expected_calibration_error(old.y[test], proba, labels=union.classes_)
    ece_cal = expected_calibration_error(old.y[test], proba_cal, labels=union.classes_)
    print(f"  expected calibration error: {ece:.4f} -> {ece_cal:.4f} (temperature)")

    # 10 new types, without retraining
    before = [_fingerprint(m) for m in union.estimators_]
    new, (new_fit, _, new_test) = sets["new"]
    t0 = time.perf_counter()
    union.add_classes(new.X[new_fit], new.y[new_fit])
    minutes = (time.perf_counter() - t0) / 60
    after = [_fingerprint(m) for m in union.estimators_[: len(before)]]
    acc_old_after = union.score(old.X[test], old.y[test])
    acc_new = union.score(new.X[new_test], new.y[new_test])
    print(
        f"+10 types in {minutes:.1f} min ({len(union.estimators_) - len(before)} new "
        f"members; old members bit-identical: {before == after})"
    )
    print(
        f"  old types {acc_old:.4f} -> {acc_old_after:.4f} "
        f"({100 * (acc_old_after - acc_old):+.2f} points); new types {acc_new:.4f}"
    )
    # the same members under the study's rule (alpha = 0.7), for comparison
    for key, (X_, y_) in (
        ("old", (old.X[test], old.y[test])),
        ("new", (new.X[new_test], new.y[new_test])),
    ):
        d = union.reliability(X_)
        rule = d.label[np.arange(len(y_)), d.reliability.argmax(axis=1)]
        print(
            f"  reliability rule after add_classes, {key} types: "
            f"{np.mean(rule == y_):.4f}"
        )
    if args.save:
        import joblib

        joblib.dump(union, args.save)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        display = AccuracyCoverageDisplay.from_predictions(
            old.y[test], y_pred, confidence, name=f"union ({union.combiner_})"
        )
        display.figure_.savefig(args.plot, dpi=120, bbox_inches="tight")
        print(f"  figure: {args.plot}")


if __name__ == "__main__":
    main()
