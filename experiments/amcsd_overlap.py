"""How much of a model's RRUFF accuracy comes from minerals its training data holds.

The AMCSD (``load_amcsd``, a training source of the shipped models) holds the
structures of many RRUFF minerals. A model trained on it can recognise those
minerals, as a search-match against the database would, which says little about
a new compound. This study splits the 456 measured RRUFF patterns by how close
their nearest simulated AMCSD pattern is (cosine similarity after SNIP background
removal and a Gaussian smoothing of 4 points that forgives small shifts and
width differences; no labels are used for the split) and scores models on each
part:

- a **nearest-neighbour search-match** on the AMCSD (the space group of the most
  similar simulated pattern): what the database alone gives;
- each model file given (``--models``): crystal-system and space-group top-1,
  space-group top-5.

Usage::

    python experiments/amcsd_overlap.py \\
        --models skxrd/pretrained/weights/space-group.pt \\
        OTHER.pt [--threshold 0.8]
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


def nearest_amcsd(patterns):
    """Per measured pattern: the best cosine to a simulated AMCSD pattern and
    that entry's space group."""
    from scipy.ndimage import gaussian_filter1d

    from skxrd.datasets import load_amcsd
    from skxrd.preprocessing import BackgroundSubtractor, PatternResampler
    from skxrd.simulation import PowderSimulator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        amcsd = load_amcsd()
    sim = PowderSimulator(two_theta_range=(5.0, 90.0), two_theta_step=0.02)
    simulated = sim.transform(amcsd.crystals)
    measured = PatternResampler(two_theta=sim.two_theta).fit_transform(patterns)
    background = BackgroundSubtractor()

    def unit(X):
        X = gaussian_filter1d(background.fit_transform(X), 4.0, axis=1)
        X = X - X.mean(1, keepdims=True)
        return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)

    similarity = unit(measured) @ unit(simulated).T
    best = similarity.argmax(1)
    return similarity.max(1), np.asarray(amcsd.space_group)[best]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", type=Path, default=[])
    parser.add_argument("--threshold", type=float, default=0.8)
    args = parser.parse_args(argv)
    from skxrd.crystal import to_crystal_system
    from skxrd.pretrained import load_model

    patterns, sg = rruff_patterns()
    cos, nn_sg = nearest_amcsd(patterns)
    close = cos >= args.threshold
    parts = {"all": np.ones(len(sg), bool), "close": close, "far": ~close}
    print(
        f"RRUFF patterns with a simulated AMCSD pattern at cosine >= "
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
    for path in args.models:
        pipe = load_model(path, device="cpu")
        for part, mask in parts.items():
            s = score(pipe, [p for p, m in zip(patterns, mask) if m], sg[mask])
            print(
                f"| {path.name} | {part} | {s['n']} | "
                f"{s['crystal_system_top1']:.3f} | {s['space_group_top1']:.3f} | "
                f"{s['space_group_top5']:.3f} |"
            )


if __name__ == "__main__":
    main()
