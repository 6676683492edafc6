"""How best to combine the AMCSD search-match with the network on measured minerals.

The shipped models put a search-match against the simulated AMCSD minerals in front
of the network (``MatchFirstClassifier``, ``add_reference_match``). This study
compares ways to do it. Every choice (threshold, gate, temperatures, weights) is made
on simulated patterns only: 2,000 AMCSD entries with the config's measured-like
instrument settings (known compounds measured on another instrument) and 2,000
patterns of held-out Materials Project prototypes (``[test]`` with seed 5: compounds
that are mostly not references), as ``add_reference_match`` does. The 456 measured
RRUFF patterns only score the result.

- **hard gate**: the matcher's probabilities from the threshold of highest accuracy
  on, the network's below; each part's temperature fitted on the patterns it answers.
- **linear or square-root intensities** compared by the search-match
  (``PatternMatchClassifier(intensity=...)``).
- **soft gate**: a mixture weighted by a logistic function of the best similarity;
  threshold, slope and temperatures fitted together (log-loss).
- **strain-tolerant match** (linear intensities): the best similarity over
  uniform strains of the query (d-spacings scaled by 1 ± ε, exact in 2θ), which
  lets isostructural compounds with other lattice parameters match; hard gate.
- **fusion below the threshold** (linear intensities): the network's
  log-probabilities plus ``w`` times the matcher's tempered similarities for the
  patterns under the threshold, ``w`` chosen on the simulated patterns.

Crystal systems are the sums of the space-group probabilities
(``CoarseLabelClassifier``, as the shipped crystal-system model answers) and, in
brackets, the crystal system of the top space group.

Usage::

    python experiments/match_variants.py \\
        --model skxrd/pretrained/weights/space-group.pt --cache CACHE
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from measured_training import rruff_patterns  # noqa: E402


def tuning_data(pipe, config, cache):
    """The simulated patterns add_reference_match tunes on, preprocessed."""
    from skxrd.datasets import make_pattern_dataset
    from skxrd.datasets._dataset import _load_named
    from skxrd.pretrained._train import _dataset, _simulator

    seed = config["match"]["random_state"]
    known = make_pattern_dataset(
        config["match"]["n_tune"],
        source=_load_named("amcsd"),
        variants=False,
        instrument=config["data"].get("instrument"),
        simulator=_simulator(config),
        cache=cache,
        random_state=seed,
        n_jobs=2,
        verbose=False,
    )
    test = {
        **config,
        "test": {
            **config["test"],
            "n_crystals": config["match"]["n_tune"],
            "random_state": seed,
        },
    }
    Xn, yn, _ = _dataset(test, "test", cache, 2, False)
    X = pipe[:-1].transform(np.concatenate([known.X, Xn]))
    return X, np.concatenate([known.space_group, yn]).astype(int)


def strained(matcher, X, grid, strains):
    """Per class, the best similarity over the query's uniform strains."""
    theta = np.radians(grid / 2)
    best = None
    for eps in strains:
        if eps:
            # the query's intensity where its peaks would be with d / (1 + eps)
            src = 2 * np.degrees(np.arcsin(np.clip(np.sin(theta) / (1 + eps), -1, 1)))
            Xe = np.stack([np.interp(src, grid, x, left=0, right=0) for x in X])
        else:
            Xe = X
        s = matcher.class_similarities(Xe)
        best = s if best is None else np.maximum(best, s)
    return best


def scores(proba, classes, truth):
    from skxrd.crystal import to_crystal_system

    cs_of = np.asarray(to_crystal_system(classes)).astype(str)
    names = np.unique(cs_of)
    cs_proba = proba @ (cs_of[:, None] == names[None]).astype(float)
    cs_true = np.asarray(to_crystal_system(truth)).astype(str)
    top = classes[proba.argmax(1)]
    return (
        float(np.mean(top == truth)),
        float(np.mean(names[cs_proba.argmax(1)] == cs_true)),
        float(np.mean(cs_of[proba.argmax(1)] == cs_true)),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--cache", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", UserWarning)
    from skxrd.estimators import MatchFirstClassifier
    from skxrd.estimators._match import search_match_of
    from skxrd.pretrained import add_reference_match, load_config, load_model

    config = load_config(ROOT / "skxrd/pretrained/configs/space-group.toml")
    model = load_model(args.model, device="cpu")
    matchers = {}
    for intensity in ("linear", "sqrt"):
        config["match"] = {
            **config["match"],
            "threshold": 0.8,
            "gate": "hard",
            "intensity": intensity,
        }
        pipe, _ = add_reference_match(model, config, cache=args.cache, verbose=False)
        base = search_match_of(pipe)
        matchers[intensity] = base.matcher_
    network, matcher = base.estimator_, matchers["linear"]
    Xt, yt = tuning_data(pipe, config, args.cache)
    patterns, sg = rruff_patterns()
    Xr = pipe.transform_patterns(patterns)
    rows = []

    def hybrid(gate, matcher=matcher):
        h = MatchFirstClassifier.from_fitted(network, matcher, 0.8, gate=gate)
        h.tune_threshold(Xt, yt).calibrate_temperature(Xt, yt)
        return h

    for intensity, gate in (
        ("linear", "hard"),
        ("linear", "soft"),
        ("sqrt", "hard"),
        ("sqrt", "soft"),
    ):
        h = hybrid(gate, matchers[intensity])
        sim = scores(h.predict_proba(Xt), h.classes_, yt)
        rr = scores(h.predict_proba(Xr), h.classes_, sg)
        share = np.mean(h.predict_source(Xr) == "match")
        rows.append(
            (
                f"{gate} gate, {intensity} intensities (threshold {h.threshold_:.3f})",
                sim,
                rr,
                share,
            )
        )

    # the strain-tolerant and fused variants: top-1 answers of a hard gate
    net_t = np.asarray(network.predict(Xt)).astype(int)
    net_r = np.asarray(network.predict(Xr)).astype(int)
    grid = pipe.steps[0][1].grid_
    cand = np.round(np.arange(0.5, 1.0001, 0.01), 2)
    for width in (0.01, 0.02):
        strains = np.linspace(-width, width, int(round(width / 0.005)) * 2 + 1)
        St, Sr = (
            strained(matcher, Xt, grid, strains),
            strained(matcher, Xr, grid, strains),
        )
        mt, mr = matcher.classes_[St.argmax(1)], matcher.classes_[Sr.argmax(1)]
        acc = [np.mean(np.where(St.max(1) >= t, mt, net_t) == yt) for t in cand]
        tau = cand[int(np.argmax(acc))]
        ans_r = np.where(Sr.max(1) >= tau, mr, net_r)
        onehot = (ans_r[:, None] == base.classes_[None]).astype(float)
        rr = scores(onehot, base.classes_, sg)
        rows.append(
            (
                f"strain-tolerant ±{width:.0%}, hard gate (threshold {tau:.2f})",
                (float(max(acc)), None, None),
                rr,
                float(np.mean(Sr.max(1) >= tau)),
            )
        )

    # fusion under the threshold of the hard gate
    h = hybrid("hard")
    cols = np.searchsorted(h.classes_, matcher.classes_)

    def fused(X, w):
        S = matcher.class_similarities(X)
        under = S.max(1) < h.threshold_
        logp = np.full((len(X), len(h.classes_)), -30.0)
        logp[:, np.searchsorted(h.classes_, network.classes_)] = np.log(
            np.maximum(network.predict_proba(X), 1e-30)
        )
        z = np.repeat(S.min(1, keepdims=True), len(h.classes_), 1)
        z[:, cols] = S
        logp += w * z / matcher.temperature_
        out = h.predict_proba(X)
        q = np.exp(logp[under] - logp[under].max(1, keepdims=True))
        out[under] = q / q.sum(1, keepdims=True)
        return out

    weights = (0.0, 0.05, 0.1, 0.2, 0.5)
    sim_acc = [scores(fused(Xt, w), h.classes_, yt)[0] for w in weights]
    w = weights[int(np.argmax(sim_acc))]
    rows.append(
        (
            f"hard gate, fusion under the threshold (w = {w})",
            scores(fused(Xt, w), h.classes_, yt),
            scores(fused(Xr, w), h.classes_, sg),
            float(np.mean(h.predict_source(Xr) == "match")),
        )
    )
    net_rr = scores(network.predict_proba(Xr), np.asarray(network.classes_), sg)
    print(
        "| variant | simulated: space group | RRUFF space group | RRUFF crystal "
        "system (of the top space group) | RRUFF answered by the match |"
    )
    print("|---|---:|---:|---:|---:|")
    print(
        f"| network alone | | {net_rr[0]:.3f} | {net_rr[1]:.3f} ({net_rr[2]:.3f}) | 0 |"
    )
    for name, sim, rr, share in rows:
        print(
            f"| {name} | {sim[0]:.3f} | {rr[0]:.3f} | {rr[1]:.3f} ({rr[2]:.3f}) | "
            f"{share:.0%} |"
        )


if __name__ == "__main__":
    main()
