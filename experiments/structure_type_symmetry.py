"""Structure types weighed by a space-group model: which evidence, how strongly.

The shipped structure-type union names one of 170 types; every type has one
space group, which the shipped space-group model reads from far more training
compounds. ``SymmetryWeightedClassifier`` multiplies each type's probability by
``(q(g) / share(g)) ** w``. This script compares, for a grid of ``w``:

- ``sg``: ``q`` the shipped space-group model's probability of the type's group;
- ``cs``: ``q`` its probability of the group's crystal system (``share`` the
  crystal system's share among the types): coarser, so more robust?
- ``sg, no indexing``: the space-group model without its indexing stacker
  (the search-match and network hybrid inside it), which is cheaper;

scored by top-1 / top-5 / log-loss on the structure-type config's ``[test]``
draw (random_state 1, the card's held-out compounds) and on a fresh draw
(random_state 2, on which the shipped ``w`` is fitted), skxrd's 13 example
crystals and the 170 prototypes (clean), and the 9 SSRL powders of library types
(measured; only scored). ``--union`` and ``--symmetry`` name the two model files
(by default the shipped ones)::

    python experiments/structure_type_symmetry.py --cache CACHE
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))


def _sets(config, cache, measured):
    import structure_type_card as card

    from skxrd.pretrained._train import _dataset

    fresh = {**config, "test": {**config["test"], "random_state": 2}}
    X2, _, y2 = _dataset(fresh, "test", cache, 2, False)
    return {
        "held-out (rs 1)": card.held_out(config, cache),
        "fresh draw (rs 2)": (X2, np.asarray(y2)),
        "13 examples": card.examples(config),
        "170 prototypes": card.prototypes(config),
        "9 SSRL powders": card.measured_sets(Path(measured))["ssrl"][:2],
    }


def _scores(P, classes, y):
    idx = np.searchsorted(classes, y)
    order = np.argsort(-P, axis=1)
    top1 = np.mean(order[:, 0] == idx)
    top5 = np.mean([i in o[:5] for i, o in zip(idx, order)])
    ll = -np.mean(np.log(np.maximum(P[np.arange(len(idx)), idx], 1e-12)))
    return top1, top5, ll


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    weights = ROOT / "skxrd" / "pretrained" / "weights"
    parser.add_argument("--union", default=str(weights / "structure-type-union.pt"))
    parser.add_argument("--symmetry", default=str(weights / "space-group.pt"))
    parser.add_argument("--cache", default=None)
    parser.add_argument(
        "--measured", default=str(ROOT / ".." / "shared" / "data" / "measured")
    )
    parser.add_argument(
        "--weights", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1]
    )
    args = parser.parse_args(argv)

    from skxrd.crystal import to_crystal_system
    from skxrd.estimators import SymmetryWeightedClassifier
    from skxrd.estimators._core import (
        fit_symmetry_weight,
        symmetry_columns,
        symmetry_weighted,
    )
    from skxrd.pretrained import load_model
    from skxrd.pretrained._train import merits_memory

    union = load_model(args.union, device="cpu")
    groups = load_model(args.symmetry, device="cpu")
    stack = groups[-1]
    stack.set_params(n_jobs=2, memory=merits_memory(args.cache))
    clf = SymmetryWeightedClassifier.from_fitted(union[-1], stack)
    classes = clf.classes_
    # crystal-system evidence: the same product over crystal systems
    systems = np.asarray(to_crystal_system(stack.classes_)).astype(str)
    names = np.unique(systems)
    member = (systems[:, None] == names[None, :]).astype(float)
    type_cs = np.asarray(to_crystal_system(clf.class_space_groups_)).astype(str)
    cs_columns, cs_prior = symmetry_columns(
        np.searchsorted(names, type_cs) + 1, np.arange(1, len(names) + 1)
    )
    rows = {}
    for name, (X, y) in _sets(
        union.metadata_["config"], args.cache, args.measured
    ).items():
        Xt = union[:-1].transform(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            P = union[-1].predict_proba(Xt)
            Q = stack.predict_proba(Xt)
            H = stack.estimator_.predict_proba(Xt)  # the hybrid, no indexing
        rows[name] = (np.asarray(y), P, Q, H)
        print(f"{name}: {len(y)} patterns", flush=True)

    def row(label, combine):
        cells = []
        for y, P, Q, H in rows.values():
            top1, top5, loss = _scores(combine(P, Q, H), classes, y)
            cells.append(f"{top1:.3f} / {top5:.3f} / {loss:.2f}")
        print(f"| {label} | " + " | ".join(cells) + " |")

    print("\n| weighing (top-1 / top-5 / log-loss) | " + " | ".join(rows) + " |")
    print("|---|" + "---:|" * len(rows))
    row("the union alone", lambda P, Q, H: P)
    for w in args.weights:
        row(
            f"space group, w = {w:g}",
            lambda P, Q, H, w=w: symmetry_weighted(
                P, Q, clf._columns, clf._log_prior, w
            ),
        )
    for w in args.weights:
        row(
            f"crystal system, w = {w:g}",
            lambda P, Q, H, w=w: symmetry_weighted(
                P, Q @ member, cs_columns, cs_prior, w
            ),
        )
    for w in args.weights:
        row(
            f"space group without the indexing, w = {w:g}",
            lambda P, Q, H, w=w: symmetry_weighted(
                P, H, clf._columns, clf._log_prior, w
            ),
        )
    y, P, Q, _ = rows["fresh draw (rs 2)"]
    fitted = fit_symmetry_weight(
        P, Q, clf._columns, clf._log_prior, np.searchsorted(classes, y)
    )
    row(
        f"space group, w = {fitted:.3f} (fitted on the fresh draw: shipped)",
        lambda P, Q, H: symmetry_weighted(P, Q, clf._columns, clf._log_prior, fitted),
    )


if __name__ == "__main__":
    main()
