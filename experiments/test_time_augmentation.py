"""Test-time augmentation of the shipped network, measured.

Does averaging the network's probabilities over slightly altered copies of
each measured pattern lift its accuracy or calibration? Each variant below is
applied to the pattern as the model's resampler returns it (model grid, before
the background subtraction and normalization), and the space-group
probabilities of the copies are averaged:

- ``shift``: the pattern moved by ±1 and ±2 grid points (±0.02°, ±0.04°: a
  sample-height or zero error);
- ``strain``: the 2θ axis stretched as a lattice 0.3 % larger or smaller
  (every d-spacing scaled, ``sin θ`` divided by 1 ± 0.003);
- ``broaden``: the pattern convolved with a Gaussian of σ = 1 grid point;
- ``gamma``: intensities raised to the powers 0.8 and 1.25 (texture and
  intensity-scale errors);
- two single-copy diagnostics of what the broadening does: a 3-point median
  filter (counting noise removed, peak shapes kept) and the Kα2 line
  stripped (Rachinger, :class:`~skxrd.preprocessing.Kalpha2Stripper`).

Scored on the network alone (the shipped temperature) and on the whole
hybrid (search-match in front, which answers the patterns whose AMCSD match
is close as before), on the RRUFF minerals split as the model cards split
them (close: an AMCSD pattern at correlation >= 0.8), the SSRL powders and
the held-out Materials Project prototypes of the config's ``[test]`` section.
RRUFF is only scored, nothing is fitted on it.

Usage::

    python experiments/test_time_augmentation.py --cache /tmp/skxrd_cache

Needs ``pip install -e ".[amcsd]"`` (larixite) for the close/far split.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "experiments"))
CONFIG = ROOT / "skxrd/pretrained/configs/space-group.toml"


def _systems(y):
    from skxrd.crystal import to_crystal_system

    return np.asarray(to_crystal_system(np.asarray(y, int))).astype(str)


def _shift(R, s):
    out = np.roll(R, s, axis=1)
    if s > 0:
        out[:, :s] = R[:, :1]
    elif s < 0:
        out[:, s:] = R[:, -1:]
    return out


def _strain(R, grid, factor):
    """The rows as measured from a lattice ``factor`` times larger."""
    # a peak at θ moves to arcsin(sin θ / factor): read the row there
    theta = np.radians(grid / 2)
    source = 2 * np.degrees(np.arcsin(np.clip(np.sin(theta) * factor, 0, 1)))
    return np.stack([np.interp(source, grid, r) for r in R])


VARIANTS = {
    "none": lambda R, g: [R],
    "shift ±1": lambda R, g: [R, _shift(R, 1), _shift(R, -1)],
    "shift ±1 ±2": lambda R, g: [R] + [_shift(R, s) for s in (1, -1, 2, -2)],
    "strain ±0.3 %": lambda R, g: [R, _strain(R, g, 1.003), _strain(R, g, 0.997)],
    "broaden σ=1": lambda R, g: [_broaden(R)],
    "none + broaden": lambda R, g: [R, _broaden(R)],
    "gamma 0.8 / 1.25": lambda R, g: [R, _power(R, 0.8), _power(R, 1.25)],
    "median 3": lambda R, g: [_median(R)],
    "Kα2 stripped": lambda R, g: [_strip(R, g)],
}


def _median(R):
    from scipy.ndimage import median_filter

    return median_filter(R, size=(1, 3), mode="nearest")


def _strip(R, grid):
    from skxrd.preprocessing import Kalpha2Stripper

    out = Kalpha2Stripper(radiation="CuKa", two_theta=grid).fit_transform(R)
    return np.maximum(out, 0.0)


def _power(R, gamma):
    return np.maximum(R, 0) ** gamma


def _broaden(R):
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(R, 1.0, axis=1, mode="nearest")


def _ece(proba, right, bins=10):
    conf = proba.max(axis=1)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(right[m].mean() - conf[m].mean())
    return total


def scores(pipe, resampled, sg, variant):
    """(space-group proba, crystal-system names and proba) of the network, and
    of the hybrid, averaged over the variant's copies."""
    from measured_training import crystal_system_proba

    from skxrd.estimators._match import search_match_of

    grid = pipe.steps[0][1].grid_
    rest = pipe[1:-1]  # background, normalize
    hybrid = search_match_of(pipe)  # inside the indexing stacker
    net = hybrid.estimator_
    copies = VARIANTS[variant](resampled, grid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        Xs = [rest.transform(c) for c in copies]
        p_net = np.mean([net.predict_proba(X) for X in Xs], axis=0)
        # the hybrid: the match on the unaltered copy, the averaged network
        sims = hybrid.matcher_.class_similarities(Xs[0])
        weight = hybrid._weights(sims)
        p_hyb = hybrid._mixture(sims, p_net, weight)
    classes = np.asarray(net.classes_).astype(int)
    out = {}
    for name, p, cls in (
        ("network", p_net, classes),
        ("hybrid", p_hyb, np.asarray(hybrid.classes_).astype(int)),
    ):
        names, cs = crystal_system_proba(p, cls)
        top5 = np.argsort(-p, axis=1)[:, :5]
        sg_right = cls[p.argmax(1)] == sg
        cs_right = names[cs.argmax(1)] == _systems(sg)
        out[name] = (sg_right, np.any(cls[top5] == sg[:, None], axis=1), cs_right, cs)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="space-group")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--cache", default=None)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    args = parser.parse_args(argv)
    from amcsd_overlap import nearest_amcsd
    from measured_training import rruff_patterns

    from skxrd.pretrained import load_config, load_model, load_pretrained
    from skxrd.pretrained._train import _dataset

    pipe = (
        load_pretrained(args.model, device="cpu")
        if not Path(args.model).is_file()
        else load_model(args.model, device="cpu")
    )
    config = load_config(args.config)
    patterns, sg = rruff_patterns()
    close = nearest_amcsd(patterns)[0] >= 0.8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        resampled = pipe.steps[0][1].transform(patterns)
    Xt, _, sgt = _dataset(config, "test", args.cache, 2, True)
    sgt = np.asarray(sgt, int)
    sets = {"RRUFF": (resampled, sg), "MP held-out": (np.asarray(Xt, float), sgt)}
    print(
        f"RRUFF: {close.sum()} close, {(~close).sum()} far. Cells: space group "
        "top-1 / top-5, crystal system top-1 (ECE)"
    )
    print(
        "\n| variant | part | RRUFF all | close | far | MP held-out (network) |"
        "\n|---|---|---:|---:|---:|---:|"
    )
    for variant in args.variants:
        res = {k: scores(pipe, X, y, variant) for k, (X, y) in sets.items()}
        for part in ("network", "hybrid"):
            cells = []
            sg1, sg5, cs1, csp = res["RRUFF"][part]
            for m in (np.ones(len(sg), bool), close, ~close):
                cells.append(
                    f"{sg1[m].mean():.3f} / {sg5[m].mean():.3f}, {cs1[m].mean():.3f}"
                    f" ({_ece(csp[m], cs1[m]):.3f})"
                )
            h1, h5, hc, hp = res["MP held-out"]["network"]
            mp = f"{h1.mean():.3f} / {h5.mean():.3f}, {hc.mean():.3f}"
            mp += f" ({_ece(hp, hc):.3f})"
            row = f"| {variant} | {part} | " + " | ".join(cells) + f" | {mp} |"
            print(row, flush=True)


if __name__ == "__main__":
    main()
