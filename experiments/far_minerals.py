"""Three ideas for the RRUFF minerals without a close AMCSD pattern, measured.

The shipped models answer the 235 RRUFF minerals whose simulated AMCSD pattern
is close (correlation >= 0.8, :func:`amcsd_overlap.nearest_amcsd`, the split
of the model cards) mostly by search-match, and are right on 93 % of their
crystal systems; on the other 221 the network answers and is right on 45 %.
What might lift those, each scored on both parts (RRUFF only scores, nothing is
fitted on it) and, where it applies, on the held-out Materials Project
prototypes of the config's ``[test]`` section:

1. ``ensemble``: snapshot ensembles, the mean probabilities of every subset of
   the networks given (``--models``: warm-restart cycles of one run, or of
   several);
2. ``mp``: the Materials Project structures of the training prototypes as
   search-match references beside the AMCSD (the shipped ``[match]``
   settings): how many minerals have a close one, and how often its space
   group is right;
3. ``knn``: a vote of the nearest AMCSD and Materials Project structures in
   the first network's feature space (its pooled features,
   ``forward_features``; cosine similarity, weights ``exp(s / 0.05)``), for
   structures isotypic with a mineral whose pattern is not close.

Usage::

    python experiments/far_minerals.py --models CYCLE8.pt CYCLE9.pt ... \\
        --cache /tmp/skxrd_cache [--parts ensemble mp knn]

Needs ``pip install -e ".[amcsd]"`` (larixite).
"""

from __future__ import annotations

import argparse
import itertools
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


def accuracies(pred, sg, parts):
    """``"sg / cs"`` top-1 of the space-group answers ``pred`` on each part."""
    cells = []
    for mask in parts.values():
        sg_ok = np.mean(pred[mask] == sg[mask])
        cs_ok = np.mean(_systems(pred[mask]) == _systems(sg[mask]))
        cells.append(f"{sg_ok:.3f} / {cs_ok:.3f}")
    return " | ".join(cells)


def ensembles(models, X, sg, parts, held):
    """Every subset of the networks, their probabilities averaged."""
    from measured_training import crystal_system_proba

    from skxrd.pretrained import load_model

    proba, proba_held, classes = {}, {}, None
    for path in models:
        pipe = load_model(path, device="cpu")
        c = np.asarray(pipe.classes_).astype(int)
        if classes is not None and not np.array_equal(c, classes):
            raise ValueError(f"{path}: other classes than {models[0]}")
        classes = c
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            proba[path] = pipe.predict_proba(X)
            proba_held[path] = pipe.predict_proba(held[0])
    print("\n| networks | " + " | ".join(parts) + " | held-out prototypes |")
    print("|---|" + "---:|" * (len(parts) + 1))
    for r in range(1, len(models) + 1):
        for subset in itertools.combinations(models, r):
            p = np.mean([proba[m] for m in subset], axis=0)
            names, cs_p = crystal_system_proba(p, classes)
            # crystal systems as the shipped model answers: summed probabilities
            sg_pred = classes[p.argmax(1)]
            cells = [
                f"{np.mean(sg_pred[m] == sg[m]):.3f} / "
                f"{np.mean(names[cs_p[m].argmax(1)] == _systems(sg[m])):.3f}"
                for m in parts.values()
            ]
            ph = np.mean([proba_held[m] for m in subset], axis=0)
            names_h, cs_h = crystal_system_proba(ph, classes)
            held_cell = (
                f"{np.mean(classes[ph.argmax(1)] == held[1]):.3f} / "
                f"{np.mean(names_h[cs_h.argmax(1)] == _systems(held[1])):.3f}"
            )
            label = " + ".join(Path(m).parent.name + "/" + Path(m).stem for m in subset)
            print(f"| {label} | " + " | ".join(cells) + f" | {held_cell} |")


def references(source, config, cache):
    """The structures of a ``[match] source`` simulated as the shipped
    references are (``add_reference_match``): one pattern each, no variants."""
    from skxrd.pretrained._train import _reference_patterns

    return _reference_patterns({"source": source}, config, cache, 2, True)[2]


def mp_references(pipe, config, X, sg, parts, cache):
    """The Materials Project structures of the training prototypes as
    search-match references, beside the shipped AMCSD ones."""
    from skxrd.estimators import PatternMatchClassifier

    match = config["match"]
    refs = references("materials_project", config, cache)
    prefix = pipe[:-1]
    matcher = PatternMatchClassifier(
        smoothing=match["smoothing"],
        stride=match["stride"],
        reference_dtype=match["reference_dtype"],
        intensity=match["intensity"],
    ).fit(prefix.transform(refs.X), refs.space_group.astype(int))
    sims, _ = matcher.kneighbors(prefix.transform(X), 1)
    best = sims[:, 0]
    pred = np.asarray(matcher.predict(prefix.transform(X))).astype(int)
    print(f"\n{len(refs.X)} Materials Project references (training prototypes)")
    print(
        "| best correlation | "
        + " | ".join(f"{k}: n, sg / cs right" for k in parts)
        + " |"
    )
    print("|---|" + "---:|" * len(parts))
    for t in (0.75, 0.8, 0.85):
        cells = []
        for mask in parts.values():
            sel = mask & (best >= t)
            ok = "–"
            if sel.any():
                ok = (
                    f"{np.mean(pred[sel] == sg[sel]):.3f} / "
                    f"{np.mean(_systems(pred[sel]) == _systems(sg[sel])):.3f}"
                )
            cells.append(f"{sel.sum()}, {ok}")
        print(f"| ≥ {t} | " + " | ".join(cells) + " |")


def features(pipe, X, batch=256):
    """The network's pooled features of patterns (after the preprocessing)."""
    import torch

    P = np.asarray(pipe[:-1].transform(X), np.float32)
    module = pipe.steps[-1][1].net_.module_.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(P), batch):
            out.append(
                module.forward_features(torch.from_numpy(P[i : i + batch])).numpy()
            )
    return np.concatenate(out)


def knn(pipe, config, X, sg, parts, cache):
    """A vote of the nearest reference structures in feature space."""
    refs = {}
    for source in ("amcsd", "materials_project"):
        data = references(source, config, cache)
        refs[source] = (features(pipe, data.X), data.space_group.astype(int))
    refs["both"] = tuple(
        np.concatenate([refs["amcsd"][i], refs["materials_project"][i]]) for i in (0, 1)
    )
    query = features(pipe, X)
    own = np.asarray(pipe.classes_).astype(int)[pipe.predict_proba(X).argmax(1)]
    print("\n| answer | " + " | ".join(f"{k}: sg / cs" for k in parts) + " |")
    print("|---|" + "---:|" * len(parts))
    print("| the network itself | " + accuracies(own, sg, parts) + " |")
    unit = lambda F: F / np.linalg.norm(F, axis=1, keepdims=True)  # noqa: E731
    for source, (F, y) in refs.items():
        S = unit(query) @ unit(F).T
        for k in (1, 5, 20):
            top = np.argsort(-S, axis=1)[:, :k]
            pred = []
            for row, s in zip(top, S):
                votes = {}
                for j in row:
                    votes[y[j]] = votes.get(y[j], 0.0) + np.exp(s[j] / 0.05)
                pred.append(max(votes, key=votes.get))
            label = f"{k} nearest, {source.replace('_', ' ')}"
            print(f"| {label} | " + accuracies(np.array(pred), sg, parts) + " |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", type=Path, required=True)
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--cache", default=None)
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["ensemble", "mp", "knn"],
        choices=["ensemble", "mp", "knn"],
    )
    args = parser.parse_args(argv)
    from amcsd_overlap import nearest_amcsd
    from measured_training import rruff_patterns

    from skxrd.pretrained import load_config, load_model
    from skxrd.pretrained._train import _dataset

    config = load_config(args.config)
    X, sg = rruff_patterns()
    close = nearest_amcsd(X)[0] >= 0.8
    parts = {"RRUFF all": np.ones(len(sg), bool), "close": close, "far": ~close}
    print(
        f"RRUFF: {close.sum()} close, {(~close).sum()} far; "
        "columns: space group / crystal system top-1"
    )
    first = load_model(args.models[0], device="cpu")
    if "ensemble" in args.parts:
        Xt, _, sgt = _dataset(config, "test", args.cache, 2, True)
        ensembles(
            [str(m) for m in args.models], X, sg, parts, (Xt, np.asarray(sgt, int))
        )
    if "mp" in args.parts:
        mp_references(first, config, X, sg, parts, args.cache)
    if "knn" in args.parts:
        knn(first, config, X, sg, parts, args.cache)


if __name__ == "__main__":
    main()
