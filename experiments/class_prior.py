"""Label shift: the shipped network's answers moved from its training prior to
the space-group frequencies of a structure database.

A classifier trained on labels drawn with prior ``π_train`` estimates
``p(y | x) ∝ p(x | y) π_train(y)``; where crystals come with another prior
``π`` (the space groups that compounds really have), the Bayes answer is
``p(y | x) π(y) / π_train(y)``, renormalized (Saerens et al., Neural
Computation 14, 2002). The shipped training mix is 40 % larixite's AMCSD subset
(32 % cubic, 12 % monoclinic, 0.6 % triclinic) and 60 % Materials Project and
realistic random crystals, so it sees fewer monoclinic and triclinic crystals
than databases of measured structures hold.

Whether to shift, and to which prior, was to be chosen before any measured
pattern was scored, and only on simulated patterns: the held-out Materials
Project prototypes of the config's ``[test]`` section, each weighted so that
their crystal systems have the target's shares (importance weights; a
simulated stand-in for measured compounds of that prior). The measured sets
only score. Rows: no shift, the shift at the space-group level
(``π(y) / π_train(y)``) and at the crystal-system level (the ratio of the
crystal systems' shares, the same for every space group of a system, less
noisy), each at full strength (``alpha = 1``) and half (``alpha = 0.5``, the
ratio's square root), towards the COD, ICSD and Materials Project frequencies
(``skxrd.datasets.space_group_frequencies``).

No shift beat the unshifted network there, so none is shipped; the table and
what the measured sets say are in ``experiments/README.md``.

Run (the dataset cache holds the training patterns of the config)::

    python experiments/class_prior.py --cache /tmp/skxrd_cache
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

MODEL = ROOT / "skxrd/pretrained/weights/space-group.pt"
CONFIG = ROOT / "skxrd/pretrained/configs/space-group.toml"
MEASURED = ROOT.parent / "shared/data/measured"


class Shifted:
    """A fitted classifier whose probabilities are multiplied by ``weights``
    (one per class) and renormalized."""

    def __init__(self, estimator, weights):
        self.estimator = estimator
        self.weights = np.asarray(weights, dtype=float)
        self.classes_ = estimator.classes_

    def predict_proba(self, X):
        p = np.asarray(self.estimator.predict_proba(X), dtype=float) * self.weights
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def training_prior(config, cache, classes, labels=None):
    """Shares of the network's classes among the training patterns' labels
    (the config's ``[data]`` draw, or a saved array of its space groups)."""
    from skxrd.pretrained._train import _dataset

    if labels is not None:
        sg = np.load(labels)
    else:
        _, _, sg = _dataset(config, "data", cache, 2, False)
    counts = np.array([np.sum(np.asarray(sg) == c) for c in classes], float)
    return counts / counts.sum(), np.asarray(sg)


def shift_weights(classes, train, target, level, alpha):
    """``(π / π_train) ** alpha`` per class, at the space-group or the
    crystal-system level."""
    from skxrd.crystal import to_crystal_system

    if level == "space group":
        ratio = target / np.maximum(train, 1e-12)
    else:
        systems = np.asarray(to_crystal_system(classes)).astype(str)
        ratio = np.ones(len(classes))
        for s in np.unique(systems):
            m = systems == s
            ratio[m] = target[m].sum() / max(train[m].sum(), 1e-12)
    return ratio**alpha


def weighted_scores(proba, classes, sg_true, weights):
    """Weighted crystal-system and space-group top-1 (and top-5)."""
    from measured_training import crystal_system_proba

    from skxrd.crystal import to_crystal_system

    w = weights / weights.sum()
    names, cs_proba = crystal_system_proba(proba, classes)
    cs_true = np.asarray(to_crystal_system(sg_true)).astype(str)
    top = classes[np.argsort(-proba, axis=1)[:, :5]]
    return {
        "cs": float(np.sum(w * (names[cs_proba.argmax(1)] == cs_true))),
        "sg": float(np.sum(w * (top[:, 0] == sg_true))),
        "sg5": float(np.sum(w * (top == sg_true[:, None]).any(1))),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--cache", default=None)
    parser.add_argument("--out", type=Path, default=None, help="JSON of all rows")
    parser.add_argument(
        "--train-labels",
        type=Path,
        default=None,
        help="the training draw's space groups as a .npy file (else from the cache)",
    )
    args = parser.parse_args(argv)

    from pretrained_cards import _split_by_amcsd, held_out_set, measured_sets, score

    from skxrd.crystal import to_crystal_system
    from skxrd.datasets import space_group_frequencies
    from skxrd.pretrained import load_config, load_model
    from skxrd.pretrained._pipeline import PatternPipeline

    config = load_config(args.config)
    model = load_model(args.model, device="cpu")
    last = model.steps[-1][1]
    coarse = getattr(last, "estimator_", None) if hasattr(last, "target") else None
    hybrid = coarse if coarse is not None else last
    if type(hybrid).__name__ == "IndexingClassifier":
        # the shipped file since 2026-12-05: the study shifts the hybrid inside
        hybrid = hybrid.estimator_
    network = hybrid.estimator_
    classes = np.asarray(network.classes_)
    train, train_sg = training_prior(config, args.cache, classes, args.train_labels)
    systems = np.asarray(to_crystal_system(classes)).astype(str)
    train_cs = np.asarray(to_crystal_system(train_sg)).astype(str)
    print(
        "training prior, crystal systems:",
        {s: round(float(np.mean(train_cs == s)), 3) for s in np.unique(systems)},
    )

    targets = {}
    for db in ("cod", "icsd", "materials_project"):
        f = np.asarray(space_group_frequencies(db), float)[classes - 1]
        targets[db] = f / f.sum()
        print(
            db,
            {
                s: round(float(targets[db][systems == s].sum()), 3)
                for s in np.unique(systems)
            },
        )

    X_test, _, sg_test = held_out_set(config, args.cache)
    cs_test = np.asarray(to_crystal_system(sg_test)).astype(str)
    Z_test = model[:-1].transform(X_test)
    test_share = {s: np.mean(cs_test == s) for s in np.unique(cs_test)}
    p_net_test = network.predict_proba(Z_test)

    sets = _split_by_amcsd(measured_sets(MEASURED))
    variants = [("none", None, "", 0.0)]
    for db in ("cod", "icsd", "materials_project"):
        for level in ("crystal system", "space group"):
            for alpha in (0.5, 1.0):
                variants.append((f"{db}, {level}, α={alpha}", db, level, alpha))

    rows = []
    for name, db, level, alpha in variants:
        w = (
            np.ones(len(classes))
            if db is None
            else shift_weights(classes, train, targets[db], level, alpha)
        )
        row = {"variant": name, "dev": {}}
        # the dev estimate: held-out prototypes weighted to each database's
        # crystal-system shares (network alone)
        p = p_net_test * w
        p /= p.sum(axis=1, keepdims=True)
        for dev in ("cod", "icsd"):
            cs_target = {s: targets[dev][systems == s].sum() for s in test_share}
            iw = np.array([cs_target[s] / test_share[s] for s in cs_test])
            row["dev"][dev] = weighted_scores(p, classes, sg_test, iw)
        row["dev"]["unweighted"] = weighted_scores(
            p, classes, sg_test, np.ones(len(sg_test))
        )
        shifted = copy.copy(hybrid)
        shifted.estimator_ = Shifted(network, w)
        final = shifted
        if coarse is not None:
            final = copy.copy(last)
            final.estimator_ = shifted
        pipe = PatternPipeline(list(model.steps[:-1]) + [(model.steps[-1][0], final)])
        row["measured"] = {}
        for key, (X, cs, sg) in sets.items():
            if key == "thinfilms":
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = score(pipe, X, cs, sg)
            c = r["crystal_system"]
            s = r.get("space_group") or {}
            row["measured"][key] = {
                "cs": c["top1"],
                "cs_ece": c["ece"],
                "sg": s.get("top1"),
                "sg5": s.get("top5"),
                "sg_ece": s.get("ece"),
                "per_system": {k: v[0] for k, v in c["per_system"].items()},
            }
        rows.append(row)
        d = row["dev"]
        m = row["measured"]
        print(
            f"{name:38s} dev cod {d['cod']['cs']:.3f}/{d['cod']['sg']:.3f} "
            f"icsd {d['icsd']['cs']:.3f}/{d['icsd']['sg']:.3f} "
            f"unw {d['unweighted']['cs']:.3f}/{d['unweighted']['sg']:.3f} | "
            + " ".join(
                f"{k} {v['cs']:.3f} ({v['cs_ece']:.3f})"
                + (
                    f" {v['sg']:.3f}/{v['sg5']:.3f} ({v['sg_ece']:.3f})"
                    if v["sg"] is not None
                    else ""
                )
                for k, v in m.items()
            ),
            flush=True,
        )
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
