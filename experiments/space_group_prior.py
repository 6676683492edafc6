"""Should the network's space groups be shrunk towards a database's shares?

Within a crystal system the shipped network is often sure of the wrong space
group for a new compound: P2_1/m or C2/c answered P2_1/c, C2/m answered P-1.
A structure database knows how often each group occurs. This shrinks the
network's probabilities within each crystal system towards a database's
shares (``MatchFirstClassifier(prior=...)``)::

    p' = (1 - w) p + w P(crystal system) * share(space group | crystal system)

so the crystal systems' probabilities, and with them the indexing stacker's
answers, are unchanged. The weight ``w`` of each database (ICSD, COD,
Materials Project: :func:`skxrd.datasets.space_group_frequencies`) is the one
of least log-loss on the simulated tuning patterns the network answers (below
the threshold of highest accuracy), as ``calibrate_temperature`` fits it in the
ship run; the database is chosen by that simulated log-loss too. The 456 RRUFF
minerals are only scored: the shipped model's answers with the shrink put in
(the stacker's crystal systems kept, each space group its shrunk share).
Two richer shrinks towards the ICSD are fitted and scored the same way: a
weight per crystal system, and a geometric one (``p^(1/T) share^a`` within
each crystal system).

Usage::

    python experiments/space_group_prior.py --cache /tmp/skxrd_cache \\
        [--model MODEL.pt] [--n-jobs 2]

``--model`` is a space-group model file with the search-match and the
stacker (by default the shipped one); a prior it carries is set aside for the
comparison.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
CONFIG = ROOT / "skxrd/pretrained/configs/space-group.toml"
PRIORS = ("icsd", "cod", "materials_project")


def log_loss(proba, classes, y):
    """Mean negative log-probability of the labels that are among ``classes``."""
    idx = np.searchsorted(classes, y)
    known = classes[np.clip(idx, 0, len(classes) - 1)] == y
    p = proba[np.flatnonzero(known), idx[known]]
    return float(-np.mean(np.log(np.maximum(p, 1e-300))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="default: the shipped model")
    parser.add_argument("--cache", default=None)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)

    from measured_training import rruff_patterns

    from skxrd.crystal import to_crystal_system
    from skxrd.estimators._core import coarse_membership
    from skxrd.estimators._indexing_core import reweight_coarse
    from skxrd.estimators._match import search_match_of
    from skxrd.estimators._space_group_prior import prior_shares, shrink_to_prior
    from skxrd.pretrained import _weights_file, load_config, load_model
    from skxrd.pretrained._train import _reference_collection, _tuning_draws

    path = args.model or _weights_file("space-group")
    model = load_model(path, device="cpu")
    prefix, hybrid = model[:-1], search_match_of(model)
    net = hybrid.estimator_
    config = load_config(CONFIG)
    match = config["match"]
    collection, _ = _reference_collection(match, config)
    Xk, yk, Xn, yn = _tuning_draws(
        config, match, collection, args.cache, args.n_jobs, True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        X = prefix.transform(np.concatenate([Xk, Xn]))
        patterns, sg = rruff_patterns()
        Xr = prefix.transform(patterns)
    y = np.concatenate([yk, yn])
    # the patterns the network answers, as calibrate_temperature splits them
    # in the ship run: by the threshold of highest accuracy (tune_threshold),
    # before the soft gate moves it
    split = (model.metadata_.get("match") or {}).get(
        "accuracy_threshold", hybrid.threshold_
    )
    rest = hybrid.matcher_.class_similarities(X).max(axis=1) < split
    net_proba = np.asarray(net.predict_proba(X[rest]), float)
    # RRUFF: the hybrid's parts and the shipped model's crystal systems
    saved = hybrid.prior_weight_
    hybrid.prior_weight_ = 0.0
    try:
        sims = hybrid.matcher_.class_similarities(Xr)
        weight = hybrid._weights(sims)
        net_r = np.asarray(net.predict_proba(Xr), float)
        final = np.asarray(model.predict_proba(patterns), float)
    finally:
        hybrid.prior_weight_ = saved
    classes = np.asarray(hybrid.classes_)
    names, membership = coarse_membership(classes, "crystal_system")
    systems = final @ membership  # the stacker's: no shrink changes them

    def rruff(shrunk):
        proba = reweight_coarse(
            hybrid._mixture(sims, shrunk, weight), membership, systems
        )
        order = np.argsort(-proba, axis=1)
        top1 = int(np.sum(classes[order[:, 0]] == sg))
        top5 = int(np.sum((classes[order[:, :5]] == sg[:, None]).any(axis=1)))
        return top1, top5, log_loss(proba, classes, sg)

    right = names[np.argmax(systems, axis=1)] == np.asarray(to_crystal_system(sg))
    print(
        f"{path}: {int(rest.sum())} of {len(y)} tuning patterns answered by the "
        f"network (similarity below {split}); RRUFF crystal systems right: "
        f"{int(right.sum())} (any prior)"
    )
    print(
        "| prior | weight | simulated log-loss (network's patterns) | RRUFF space "
        "group top-1 / top-5 (right) | RRUFF log-loss |\n|---|---:|---:|---:|---:|"
    )
    top1, top5, ll = rruff(net_r)
    base = log_loss(net_proba, net.classes_, y[rest])
    print(f"| none | 0 | {base:.4f} | {top1} / {top5} | {ll:.4f} |")
    from scipy.optimize import minimize_scalar

    for prior in PRIORS:
        shares = prior_shares(net.classes_, prior)

        def loss(w, shares=shares):
            return log_loss(
                shrink_to_prior(net_proba, w, shares), net.classes_, y[rest]
            )

        best = minimize_scalar(loss, bounds=(0.0, 0.99), method="bounded")
        top1, top5, ll = rruff(shrink_to_prior(net_r, best.x, shares))
        print(
            f"| {prior} | {best.x:.3f} | {best.fun:.4f} | {top1} / {top5} | {ll:.4f} |"
        )
    variants(net_proba, net.classes_, y[rest], net_r, rruff)


def tempered(proba, power, temperature, shares, groups):
    """Within each crystal system ``p^(1/temperature) share^power``,
    renormalized to the crystal system's probability (a geometric shrink)."""
    member = (groups[:, None] == np.arange(groups.max() + 1)).astype(float)
    logq = np.log(np.maximum(proba, 1e-300)) / temperature + power * np.log(shares)
    q = np.exp(logq - logq.max(axis=1, keepdims=True))
    ratio = (proba @ member) / np.maximum(q @ member, 1e-300)
    return q * (ratio @ member.T)


def variants(net_proba, classes, y, net_r, rruff):
    """Two richer shrinks towards the ICSD, fitted the same way: a weight per
    crystal system, and a geometric one (a power of the shares and a
    temperature within each crystal system)."""
    from scipy.optimize import minimize

    from skxrd.estimators._space_group_prior import prior_shares, shrink_to_prior

    shares, groups = prior_shares(classes, "icsd")
    n = int(groups.max()) + 1

    def per_system(proba, w):
        # each space group its crystal system's weight
        return shrink_to_prior(proba, np.asarray(w)[groups], (shares, groups))

    fits = {
        "ICSD, a weight per crystal system": (
            lambda p, x: per_system(p, x),
            np.full(n, 0.1),
            [(0.0, 0.99)] * n,
        ),
        "ICSD, geometric (power, temperature)": (
            lambda p, x: tempered(p, x[0], x[1], shares, groups),
            np.array([0.2, 1.0]),
            [(0.0, 2.0), (0.3, 5.0)],
        ),
    }
    for label, (shrink, start, bounds) in fits.items():
        best = minimize(
            lambda x, shrink=shrink: log_loss(shrink(net_proba, x), classes, y),
            start,
            bounds=bounds,
        )
        top1, top5, ll = rruff(shrink(net_r, best.x))
        print(
            f"| {label} | {np.round(best.x, 3).tolist()} | {best.fun:.4f} | "
            f"{top1} / {top5} | {ll:.4f} |"
        )


if __name__ == "__main__":
    main()
