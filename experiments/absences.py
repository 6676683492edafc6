"""Space groups weighed by their systematic absences on the indexed cells.

The shipped stacker weighs each crystal system against the best cell of each
lattice family; within a crystal system, the space groups keep the search-match
hybrid's shares. A crystallographer reads more off an indexed cell: the lines
it calculates and the pattern lacks (an extinction symbol). Here each family's
best cell is scored with each space group's allowed lines
(:func:`skxrd.indexing.space_group_merits`), and two uses are measured:

A. **Shares within a crystal system**: each group's probability times
   ``(M_group / M_best) ** weight`` (the ratio at least ``exp(-3)``) where the
   family's cell scores at least ``min_merit``, on the shipped model's answers
   (its stacker unchanged). The grid is scored by the space-group log-loss of
   simulated tuning patterns the shipped stacker was not fitted on: rows
   1000-1499 of each of the ship run's two tuning draws (``[match]``), with
   the stacker's augmentation (``sample_augmentation`` and its stray lines,
   seed 1). The lowest log-loss picks ``absence_weight`` and
   ``absence_min_merit`` of :class:`~skxrd.estimators.IndexingClassifier`.
B. **The stacker's features**: each family's merit, or its best space group's
   where higher (a cell whose missing lines are a glide's or a screw axis's
   is surer than its lattice's merit says), compared by the 5-fold
   cross-validated log-loss of crystal systems of a stacker (C = 0.1, the
   shipped features) fitted on the same tuning patterns.

The RRUFF columns are only looked at (456 measured minerals, never fitted).

Usage::

    python experiments/absences.py [--cache /tmp/skxrd_cache] [--n-jobs 2]
    # about 15 minutes on 2 cores with the tuning draws cached (the ship run's)
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

WEIGHTS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
MIN_MERITS = (5.0, 10.0, 20.0, 40.0)


def scores(proba, classes, y):
    """Space-group top-1, top-5 and log-loss."""
    at = {c: i for i, c in enumerate(classes.tolist())}
    p_true = np.array(
        [proba[i, at[c]] if c in at else 0.0 for i, c in enumerate(y.tolist())]
    )
    top5 = np.argsort(-proba, axis=1)[:, :5]
    return (
        float(np.mean(classes[proba.argmax(axis=1)] == y)),
        float(np.mean([c in classes[t] for c, t in zip(y, top5)])),
        float(-np.mean(np.log(np.maximum(p_true, 1e-12)))),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default="/tmp/skxrd_cache")
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)

    from measured_training import rruff_patterns
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from skxrd import load_pretrained
    from skxrd.crystal import to_crystal_system
    from skxrd.estimators._indexing_core import (
        indexable,
        indexing_features,
        stack_proba,
        weigh_absences,
    )
    from skxrd.pretrained import load_config
    from skxrd.pretrained._train import _stacker_patterns, merits_memory

    warnings.simplefilter("ignore")
    config = load_config(ROOT / "skxrd/pretrained/configs/space-group.toml")
    model = load_pretrained("space-group")
    prefix, shipped = model[:-1], model[-1]
    if shipped.absences:
        raise SystemExit(
            "the shipped stacker weighs absences already: compare "
            "against the file before it (absences = false)"
        )
    clf = shipped.set_params(
        absences=True,
        memory=merits_memory(args.cache),
        n_jobs=args.n_jobs,
        verbose=True,
    )
    # rows the shipped stacker was not fitted on (it took 0-999), seed 1
    X, y_tune = _stacker_patterns(
        config, rows=slice(1000, 1500), seed=1, cache=args.cache, n_jobs=args.n_jobs
    )
    patterns, y_rruff = rruff_patterns()
    sets = {}
    for name, rows, y in (
        ("tuning", prefix.transform(X), y_tune),
        ("RRUFF", prefix.transform(patterns), y_rruff),
    ):
        merits, groups = clf.merits(rows)
        hybrid = np.asarray(clf.estimator_.predict_proba(rows), float)
        # the shipped stacker, on the lattices' merits as it was fitted
        final = stack_proba(
            hybrid,
            clf._membership,
            merits,
            clf.stacker_.predict_proba,
            clf._stacker_columns,
            clf.families,
            clf.degree,
            clf.merit_cap,
        )
        sets[name] = (y, merits, groups, hybrid, final)
    classes = clf.classes_

    print("\nA. shares within each crystal system (shipped stacker)")
    print("weight  min merit | tuning top-1  top-5  log-loss | RRUFF right  top-5")
    rows_out = []
    for weight in (0.0, *WEIGHTS):
        for min_merit in MIN_MERITS if weight else (0.0,):
            out = []
            for name in ("tuning", "RRUFF"):
                y, merits, groups, _, final = sets[name]
                p = weigh_absences(final, classes, merits, groups, weight, min_merit)
                out.append(scores(p, classes, y))
            rows_out.append((weight, min_merit, *out))
            (t1, t5, tl), (r1, r5, _) = out
            n = len(sets["RRUFF"][0])
            print(
                f"{weight:5.2f}  {min_merit:9.0f} | {t1:12.4f} {t5:6.4f} {tl:9.4f} "
                f"| {round(r1 * n):11d} {round(r5 * n):6d}"
            )
    best = min(rows_out[1:], key=lambda r: r[2][2])
    print(f"lowest tuning log-loss: weight {best[0]}, min merit {best[1]}")

    print("\nB. the stacker's features (fitted on the tuning patterns)")
    for label, use_groups in (("lattice merits", False), ("best space group's", True)):
        feats, targets = {}, {}
        for name in ("tuning", "RRUFF"):
            y, merits, groups, hybrid, _ = sets[name]
            keep = indexable(merits)
            coarse = hybrid[keep] @ clf._membership
            feats[name] = indexing_features(
                coarse,
                merits[keep],
                clf.families,
                clf.degree,
                clf.merit_cap,
                groups[keep] if use_groups else None,
            )
            targets[name] = np.asarray(to_crystal_system(y)).astype(str)
        y_t = targets["tuning"][indexable(sets["tuning"][1])]
        stacker = LogisticRegression(C=0.1, max_iter=5000)
        cv = cross_val_predict(
            stacker,
            feats["tuning"],
            y_t,
            method="predict_proba",
            cv=StratifiedKFold(5, shuffle=True, random_state=0),
        )
        stacker.fit(feats["tuning"], y_t)
        y_r, merits_r, _, hybrid_r, _ = sets["RRUFF"]
        keep = indexable(merits_r)
        systems = clf.crystal_systems_[(hybrid_r @ clf._membership).argmax(axis=1)]
        systems[keep] = stacker.classes_[
            stacker.predict_proba(feats["RRUFF"]).argmax(1)
        ]
        loss = log_loss(y_t, cv, labels=stacker.classes_)
        accuracy = np.mean(stacker.classes_[cv.argmax(1)] == y_t)
        right = int(np.sum(systems == targets["RRUFF"]))
        print(
            f"{label:20s} tuning CV log-loss {loss:.4f}, accuracy {accuracy:.4f}"
            f" | RRUFF crystal systems right {right}"
        )


if __name__ == "__main__":
    main()
