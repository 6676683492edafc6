"""Weigh the structure-type union by the space-group model; write the view.

The shipped ``structure-type`` model is a view (``save_symmetry_view``) of two
model files: the structure-type union (``structure-type-union.pt``, made by
``skxrd train skxrd/pretrained/configs/structure-type.toml``) and the shipped
``space-group.pt``. Each type's probability is multiplied by the space-group
model's probability of the type's space group over that group's share among
the types, to a power (``SymmetryWeightedClassifier``). The power is fitted
here by the log-loss of a fresh draw of compounds of the library's types:
the config's ``[test]`` section with another ``random_state`` (default 2;
the card scores the ``[test]`` draw itself, random_state 1). No measured
pattern is used::

    python tools/structure_type_symmetry.py --cache CACHE
        [--weights-dir skxrd/pretrained/weights] [--seed 2]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def calibration_draw(config, cache, seed):
    """Patterns and types of the config's ``[test]`` section drawn with ``seed``."""
    from skxrd.pretrained._train import _dataset

    config = {**config, "test": {**config["test"], "random_state": int(seed)}}
    X, _, y = _dataset(config, "test", cache, 2, False)
    return X, np.asarray(y)


def log_loss_and_accuracy(proba, classes, y):
    idx = np.searchsorted(classes, y)
    p = proba[np.arange(len(y)), idx]
    return (
        float(-np.mean(np.log(np.maximum(p, 1e-12)))),
        float(np.mean(classes[proba.argmax(1)] == y)),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights-dir", default=str(ROOT / "skxrd" / "pretrained" / "weights")
    )
    parser.add_argument("--base", default="structure-type-union.pt")
    parser.add_argument("--symmetry", default="space-group.pt")
    parser.add_argument("--view", default="structure-type.json")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--cache", default=None, help="make_pattern_dataset cache")
    parser.add_argument(
        "--indexing-cache",
        default=None,
        help="folder for the space-group model's indexing merits (joblib memory)",
    )
    args = parser.parse_args(argv)

    from skxrd.estimators import SymmetryWeightedClassifier
    from skxrd.pretrained import load_model, save_symmetry_view

    folder = Path(args.weights_dir)
    union = load_model(folder / args.base, device="cpu")
    groups = load_model(folder / args.symmetry, device="cpu")
    if args.indexing_cache:
        groups[-1].set_params(memory=args.indexing_cache, n_jobs=2)
    t0 = time.time()
    X, y = calibration_draw(union.metadata_["config"], args.cache, args.seed)
    rows = union[:-1].transform(X)
    clf = SymmetryWeightedClassifier.from_fitted(union[-1], groups[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        proba, symmetry = clf._both(rows)
    before = log_loss_and_accuracy(proba, clf.classes_, y)
    # the same fit as clf.calibrate_weight(rows, y), without predicting twice
    from skxrd.estimators._core import fit_symmetry_weight, symmetry_weighted

    idx = np.searchsorted(clf.classes_, y)
    weight = fit_symmetry_weight(proba, symmetry, clf._columns, clf._log_prior, idx)
    after = log_loss_and_accuracy(
        symmetry_weighted(proba, symmetry, clf._columns, clf._log_prior, weight),
        clf.classes_,
        y,
    )
    report = {
        "symmetry_model": args.symmetry,
        "symmetry_weight": round(weight, 4),
        "symmetry_n_calibration": int(len(y)),
        "symmetry_calibration_seed": int(args.seed),
        "symmetry_log_loss_before": round(before[0], 4),
        "symmetry_log_loss_after": round(after[0], 4),
        "symmetry_top1_before": round(before[1], 4),
        "symmetry_top1_after": round(after[1], 4),
        "symmetry_seconds": round(time.time() - t0, 1),
    }
    view = save_symmetry_view(
        folder / args.view,
        folder / args.base,
        args.symmetry,
        weight=round(weight, 4),
        metadata={"symmetry": report},
        overwrite=True,
    )
    print(json.dumps({"view": str(view), **report}, indent=1))


if __name__ == "__main__":
    main()
