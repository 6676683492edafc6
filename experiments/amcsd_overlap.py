"""How much of a model's RRUFF accuracy comes from minerals its training data holds.

The AMCSD (``load_amcsd``, a training source of the shipped models) holds the
structures of many RRUFF minerals. A model trained on it can recognise those
minerals, as a search-match against the database would, which says little about
a new compound. This study splits the 456 measured RRUFF patterns by how close
their nearest simulated AMCSD pattern is (``PatternMatchClassifier``: Pearson
correlation after SNIP background removal and a Gaussian smoothing of 4 points
that forgives small shifts and width differences; no labels are used for the
split) and scores models on each
part:

- a **nearest-neighbour search-match** on the AMCSD (the space group of the most
  similar simulated pattern): what the database alone gives;
- each model file given (``--models``): crystal-system and space-group top-1,
  space-group top-5.

With ``--hybrid MODEL``, a search-match that hands over to a network: a pattern
whose best similarity to the AMCSD library reaches a threshold gets the space
group of its best match, the others the network's answer. The threshold is
chosen without RRUFF: on 2,000 simulated patterns of AMCSD entries (structures
in the library, patterns not: ``MEASURED_LIKE`` instrument settings; with
``--n-variants 2`` strained and substituted variants) and 2,000 of held-out
Materials Project prototypes
(the config's ``[test]`` draw: mostly not in the library), as the threshold that
maximizes the hybrid's space-group accuracy on both together.

Usage::

    python experiments/amcsd_overlap.py \\
        --models skxrd/pretrained/weights/space-group.pt \\
        OTHER.pt [--threshold 0.8] [--hybrid MODEL --cache CACHE]
        [--library-steps 1 4 8 16]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from measured_training import rruff_patterns, score  # noqa: E402


def amcsd_matcher():
    """A PatternMatchClassifier on the simulated AMCSD (SNIP background removed,
    as from every query), and the simulator's grid."""
    from sklearn.pipeline import make_pipeline

    from skxrd.datasets import load_amcsd
    from skxrd.estimators import PatternMatchClassifier
    from skxrd.preprocessing import BackgroundSubtractor
    from skxrd.simulation import PowderSimulator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        amcsd = load_amcsd()
    sim = PowderSimulator(two_theta_range=(5.0, 90.0), two_theta_step=0.02)
    match = make_pipeline(BackgroundSubtractor(), PatternMatchClassifier(smoothing=4.0))
    match.fit(sim.transform(amcsd.crystals), np.asarray(amcsd.space_group))
    return match, sim.two_theta


def best_match(match, X):
    """Best similarity and the space group of the best match of each pattern."""
    clf = match[-1]
    sim = clf.class_similarities(match[:-1].transform(X))
    return sim.max(1), clf.classes_[sim.argmax(1)]


def nearest_amcsd(patterns, match=None, grid=None):
    """Per measured pattern: the best similarity to a simulated AMCSD pattern
    and that entry's space group."""
    from skxrd.preprocessing import PatternResampler

    if match is None:
        match, grid = amcsd_matcher()
    measured = PatternResampler(two_theta=grid).fit_transform(patterns)
    return best_match(match, measured)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", type=Path, default=[])
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--hybrid", type=Path, default=None)
    parser.add_argument("--cache", default=None)
    parser.add_argument(
        "--library-steps",
        type=int,
        nargs="*",
        default=[],
        help="also score the search-match with the smoothed library kept at "
        "every k-th grid point in float16 (how small a shipped library can be)",
    )
    parser.add_argument(
        "--n-variants",
        type=int,
        default=1,
        help="AMCSD queries of the hybrid's threshold: 1, the database entries "
        "themselves with measured-like instrument settings (as a measured "
        "mineral is); more: variants (substitution, strain), which move peaks",
    )
    args = parser.parse_args(argv)
    from skxrd.crystal import to_crystal_system
    from skxrd.pretrained import load_model

    patterns, sg = rruff_patterns()
    match, grid = amcsd_matcher()
    cos, nn_sg = nearest_amcsd(patterns, match, grid)
    close = cos >= args.threshold
    parts = {"all": np.ones(len(sg), bool), "close": close, "far": ~close}
    print(
        f"RRUFF patterns with a simulated AMCSD pattern at correlation >= "
        f"{args.threshold}: {close.sum()} of {len(sg)}"
    )
    print(
        "| model | part | n | crystal system top-1 | space group top-1 | "
        "space group top-5 |"
    )
    print("|---|---|---:|---:|---:|---:|")
    cs_true = np.asarray(to_crystal_system(sg)).astype(str)
    cs_nn = np.asarray(to_crystal_system(nn_sg)).astype(str)
    for part, mask in parts.items():
        print(
            f"| AMCSD nearest neighbour | {part} | {mask.sum()} | "
            f"{np.mean(cs_nn[mask] == cs_true[mask]):.3f} | "
            f"{np.mean(nn_sg[mask] == sg[mask]):.3f} | |"
        )
    if args.library_steps:
        library_size(match, grid, patterns, sg, args.library_steps)
    if args.hybrid is not None:
        hybrid(args, match, patterns, sg, cos, nn_sg)
    for path in args.models:
        pipe = load_model(path, device="cpu")
        for part, mask in parts.items():
            s = score(pipe, [p for p, m in zip(patterns, mask) if m], sg[mask])
            print(
                f"| {path.name} | {part} | {s['n']} | "
                f"{s['crystal_system_top1']:.3f} | {s['space_group_top1']:.3f} | "
                f"{s['space_group_top5']:.3f} |"
            )


def library_size(match, grid, patterns, sg, steps):
    """Search-match accuracy on RRUFF with the smoothed, centred library kept at
    every k-th grid point in float16: the size a shipped library needs."""
    from skxrd.preprocessing import PatternResampler

    clf = match[-1]
    queries = clf._unit(
        match[:-1].transform(PatternResampler(two_theta=grid).fit_transform(patterns))
    )
    counts = np.diff(np.append(clf._starts, len(clf.references_)))
    labels = np.repeat(clf.classes_, counts)
    print("\n| library grid | points | float16 MB | RRUFF space group top-1 |")
    print("|---|---:|---:|---:|")
    for k in steps:
        refs = clf.references_[:, ::k].astype(np.float16).astype(np.float32)
        refs /= np.maximum(np.linalg.norm(refs, axis=1, keepdims=True), 1e-12)
        q = queries[:, ::k]
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        best = labels[(q @ refs.T).argmax(1)]
        print(
            f"| every {k} points ({k * (grid[1] - grid[0]):.2f}°) | {refs.shape[1]} | "
            f"{refs.size * 2 / 2**20:.1f} | {np.mean(best == sg):.3f} |"
        )


def _network_answers(pipe, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        proba = pipe.predict_proba(X)
    return np.asarray(pipe.classes_)[proba.argmax(1)].astype(int)


def hybrid(args, match, patterns, sg, cos, nn_sg):
    """Search-match above a threshold chosen on simulated data, else the network."""
    from skxrd.crystal import to_crystal_system
    from skxrd.datasets import make_pattern_dataset
    from skxrd.pretrained import load_config, load_model
    from skxrd.pretrained._train import _dataset, _simulator

    pipe = load_model(args.hybrid, device="cpu")
    config = load_config(ROOT / "skxrd/pretrained/configs/space-group.toml")
    Xmp, _, sg_mp = _dataset(config, "test", args.cache, 2, False)
    variants = make_pattern_dataset(
        2000,
        source="amcsd",
        n_variants=args.n_variants,
        variants=None if args.n_variants > 1 else False,
        instrument="measured_like",
        simulator=_simulator(config),
        cache=args.cache,
        random_state=5,
        n_jobs=2,
        verbose=False,
    )
    X = np.concatenate([Xmp, variants.X])
    truth = np.concatenate([sg_mp, variants.space_group]).astype(int)
    s_cos, s_nn = best_match(match, X)
    s_net = _network_answers(pipe, X)
    grid = np.round(np.arange(0.5, 1.0001, 0.02), 2)
    acc = [np.mean(np.where(s_cos >= t, s_nn, s_net) == truth) for t in grid]
    tau = float(grid[int(np.argmax(acc))])
    print(
        f"\nhybrid: threshold {tau:.2f} from {len(truth)} simulated patterns "
        f"(MP held-out {len(sg_mp)}, AMCSD {len(variants.space_group)}): "
        f"space group {max(acc):.3f} there (network alone "
        f"{np.mean(s_net == truth):.3f}, search-match alone "
        f"{np.mean(s_nn == truth):.3f})"
    )
    net = _network_answers(pipe, patterns)
    answer = np.where(cos >= tau, nn_sg, net)
    cs = np.asarray(to_crystal_system(sg)).astype(str)
    print("| RRUFF | n | crystal system top-1 | space group top-1 |")
    print("|---|---:|---:|---:|")
    for name, pred in (("network", net), ("search-match", nn_sg), ("hybrid", answer)):
        pred_cs = np.asarray(to_crystal_system(pred)).astype(str)
        print(
            f"| {name} | {len(sg)} | {np.mean(pred_cs == cs):.3f} | "
            f"{np.mean(pred == sg):.3f} |"
        )
    print(f"(hybrid: {np.mean(cos >= tau):.0%} of RRUFF answered by search-match)\n")


if __name__ == "__main__":
    main()
