"""Temperatures of the stacked probabilities: none, fitted plainly, or fitted
for a database's space groups.

The shipped space-group model stacks a search-match, a network, a
space-group prior, an indexing stacker and the absences, each fitted for its
own log-loss. ``IndexingClassifier.calibrate_temperature`` fits two more
numbers on held-out patterns: a temperature of the crystal systems'
probabilities and one of each crystal system's shares among its space groups.
Here they are fitted, as ``[indexing] calibrate`` fits them, on the 2,000
simulated patterns after the stacker's (rows ``n_tune`` to ``n_tune +
n_calibrate`` of each of ``[match]``'s two tuning draws, augmented with seed
``augment_seed + 1``), with no weights or with
``skxrd.datasets.space_group_sample_weights`` of each database. The model's
own temperatures are set aside (its stacked probabilities before them). The
456 RRUFF minerals and the config's held-out Materials Project prototypes are
only scored.

Usage::

    python experiments/stack_temperature.py --cache /tmp/skxrd_cache [--model MODEL.pt]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="default: the shipped model")
    parser.add_argument("--cache", default=None)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)

    from measured_training import rruff_patterns
    from pretrained_cards import _top_label_ece

    from skxrd.crystal import to_crystal_system
    from skxrd.datasets import space_group_sample_weights
    from skxrd.estimators import IndexingClassifier
    from skxrd.estimators._core import fit_coarse_temperatures, temper_coarse
    from skxrd.estimators._mixins import _known_labels
    from skxrd.estimators._space_group_prior import SPACE_GROUP_PRIORS
    from skxrd.pretrained import _weights_file, load_model
    from skxrd.pretrained._train import (
        _INDEXING_DEFAULTS,
        _dataset,
        _stacker_patterns,
        _weighted_log_loss,
        merits_memory,
    )

    warnings.simplefilter("ignore", UserWarning)  # range-not-covered notes
    model = load_model(args.model or _weights_file("space-group"), device="cpu")
    clf = model.steps[-1][1]
    if not isinstance(clf, IndexingClassifier):
        raise SystemExit("the model's last step is not an IndexingClassifier")
    clf.set_params(memory=merits_memory(args.cache), n_jobs=args.n_jobs)
    prefix, config = model[:-1], model.metadata_["config"]
    section = {**_INDEXING_DEFAULTS, **config["indexing"]}
    config = {**config, "indexing": section}
    classes, membership = clf.classes_, clf._membership
    systems = clf.crystal_systems_

    def stacked(X):
        Xt = prefix.transform(X)
        merits = clf.merits(Xt)
        return clf._stacked(np.asarray(clf.estimator_.predict_proba(Xt)), merits)

    start, n = int(section["n_tune"]), int(section["n_calibrate"])
    Xc, yc = _stacker_patterns(
        config,
        rows=slice(start, start + n),
        seed=int(section["augment_seed"]) + 1,
        cache=args.cache,
        n_jobs=args.n_jobs,
    )
    cal = stacked(Xc)
    patterns, y_rruff = rruff_patterns()
    rruff = stacked(patterns)
    Xp, _, y_proto = _dataset(config, "test", args.cache, args.n_jobs, True)
    proto = stacked(Xp)

    idx, known = _known_labels(classes, yc)
    icsd = space_group_sample_weights(yc, "icsd")

    def log_loss(P, w):
        return _weighted_log_loss(P, classes, yc, w)

    def scores(P, y):
        cs_true = np.asarray(to_crystal_system(y)).astype(str)
        Pc = P @ membership
        sg_right = classes[P.argmax(1)] == y
        cs_right = systems[Pc.argmax(1)] == cs_true
        top5 = np.argsort(-P, axis=1)[:, :5]
        in5 = sum(g in classes[t] for g, t in zip(y, top5))
        return (
            f"{int(sg_right.sum())} / {in5} ({_top_label_ece(sg_right, P.max(1)):.3f})",
            f"{int(cs_right.sum())} ({_top_label_ece(cs_right, Pc.max(1)):.3f})",
        )

    rows = [("none", None)] + [("unweighted", np.ones(len(yc)))]
    rows += [(db, space_group_sample_weights(yc, db)) for db in SPACE_GROUP_PRIORS]
    print(
        "| fitted | temperatures (systems, groups) | calibration log-loss, "
        "unweighted / ICSD-weighted | RRUFF space groups right / top-5 (ECE) | "
        "RRUFF crystal systems (ECE) | prototypes space groups (ECE) | "
        "prototypes crystal systems (ECE) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, w in rows:
        t = (
            (1.0, 1.0)
            if w is None
            else fit_coarse_temperatures(cal[known], membership, idx[known], w[known])
        )

        def temper(P, t=t):
            return temper_coarse(P, membership, *t)

        r_sg, r_cs = scores(temper(rruff), y_rruff)
        p_sg, p_cs = scores(temper(proto), y_proto)
        c = temper(cal)
        print(
            f"| {name} | {t[0]:.3f}, {t[1]:.3f} | {log_loss(c, np.ones(len(yc))):.4f}"
            f" / {log_loss(c, icsd):.4f} | {r_sg} | {r_cs} | {p_sg} | {p_cs} |"
        )


if __name__ == "__main__":
    main()
