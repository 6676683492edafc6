"""Networks alone and their averages on the measured RRUFF minerals.

The networks of two or more model files (cycle files or shipped files: the
network inside the search-match and the stacker), each without the temperature
its file may hold and widened to the union of their space groups, as
``tools/measured_training.py --ship-model A.pt B.pt`` averages them in an
:class:`~skxrd.estimators.EnsembleClassifier`. Printed: each network alone and
their equal-weight geometric and arithmetic means, crystal system (the sums of
the space-group probabilities) / space group top-1 / top-5 on the 456 RRUFF
patterns, which only score.

Run::

    python experiments/network_ensemble.py CYCLE8.pt /tmp/s33/wide/cycle-0.pt
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
    from measured_training import crystal_system_proba, rruff_patterns, ship_models

    from skxrd.crystal import to_crystal_system
    from skxrd.estimators._core import average_probabilities

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if len(args.models) < 2:
        parser.error("give two or more model files")
    pipe = ship_models(args.models)
    ensemble = pipe.steps[-1][1]
    X, sg = rruff_patterns()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # range-not-covered notes
        Xp = pipe[:-1].transform(X)
    probas = [m.predict_proba(Xp) for m in ensemble.estimators_]
    classes = np.asarray(ensemble.classes_).astype(int)
    systems = np.asarray(to_crystal_system(sg)).astype(str)
    weights = np.full(len(probas), 1.0 / len(probas))

    def row(name, proba):
        top = classes[np.argsort(-proba, axis=1)]
        names, cs = crystal_system_proba(proba, classes)
        print(
            f"| {name} | {np.mean(names[cs.argmax(1)] == systems):.3f} / "
            f"{np.mean(top[:, 0] == sg):.3f} / "
            f"{np.mean((top[:, :5] == sg[:, None]).any(1)):.3f} |"
        )

    print("| networks alone | RRUFF crystal system / space group top-1 / top-5 |")
    print("|---|---:|")
    for path, proba in zip(args.models, probas):
        row(str(path), proba)
    for average in ("geometric", "arithmetic"):
        row(f"{average} mean", average_probabilities(probas, weights, average))


if __name__ == "__main__":
    main()
