"""Where a structure-type union goes wrong: the answering member, or its answer.

The first ``n_types`` types of the 100-type dataset of
``structure_type_union.py`` (same seeded draw, data and split), a
:class:`UnionClassifier` of members with ten types each, trained with
``negatives_per_class`` patterns of every other type as "none of mine"
(0: the original scheme). Prints the union's held-out top-1, how often the
right member answers (by reliability, confidence or similarity alone), how
often the right member's own answer is right, and the mean confidence and
similarity of the right member against all members.

Usage::

    python experiments/union_diagnostics.py [--n-types 30] [--negatives 20]
        [--epochs 40] [--cache ~/.cache/skxrd] [--threads N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from structure_type_union import _split

from skxrd.datasets import STRUCTURE_TYPES, make_pattern_dataset
from skxrd.estimators import ResNetClassifier, UnionClassifier
from skxrd.preprocessing import PatternNormalizer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-types", type=int, default=30)
    parser.add_argument("--negatives", type=int, default=20, help="per class")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--cache", default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    args = parser.parse_args(argv)

    names = np.random.default_rng(0).permutation(list(STRUCTURE_TYPES))[:100]
    data = make_pattern_dataset(
        100 * 40,
        target="structure_type",
        prototypes=names.tolist(),
        n_variants=2,
        cache=args.cache,
        random_state=0,
        verbose=False,
    )
    X = PatternNormalizer(scale="sqrt").fit_transform(data.X).astype(np.float32)
    fit, _, test = _split(data, 0)
    types = names[: args.n_types]
    in_fit, in_test = np.isin(data.y[fit], types), np.isin(data.y[test], types)
    member = ResNetClassifier(
        depth=4,
        width=16,
        kernel_size=15,
        stem_stride=4,
        confidence_head=True,
        max_epochs=args.epochs,
        batch_size=32,
        lr=5e-3,
        early_stopping=False,
        validation_fraction=None,
        num_threads=args.threads,
    )
    union = UnionClassifier(
        member, negatives_per_class=args.negatives, random_state=0, verbose=1
    )
    t0 = time.perf_counter()
    union.fit(X[fit][in_fit], data.y[fit][in_fit])
    print(
        f"{args.n_types} types, {len(union.estimators_)} members, "
        f"{args.negatives} negatives per class, {time.perf_counter() - t0:.0f} s"
    )
    X_test, y_test = X[test][in_test], data.y[test][in_test]
    details = union.reliability(X_test)
    owner = {c: m for m, subset in enumerate(union.class_subsets_) for c in subset}
    true_member = np.array([owner[c] for c in y_test])
    rows = np.arange(len(y_test))
    print(f"  union top-1 {union.score(X_test, y_test):.4f}")
    print(
        "  right member's own answer right "
        f"{np.mean(details.label[rows, true_member] == y_test):.4f}"
    )
    for name in ("reliability", "confidence", "similarity"):
        picks = details[name].argmax(axis=1) == true_member
        print(f"  right member picked by {name}: {picks.mean():.4f}")
    for name in ("confidence", "similarity"):
        print(
            f"  mean {name}: right member {details[name][rows, true_member].mean():.3f}"
            f", all members {details[name].mean():.3f}"
        )


if __name__ == "__main__":
    main()
