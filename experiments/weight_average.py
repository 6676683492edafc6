"""Two cycles of one network averaged (a weight "soup"), or their answers averaged.

``soup A B CONFIG OUT``: the network weights of two model files of one
architecture (warm-restart cycles, e.g. the shipped model and one more cycle)
averaged, the output layers first widened to the union of their classes, and
the BatchNorm statistics recomputed over 4,096 training patterns of CONFIG's
cached draw (the estimators' precise BatchNorm), saved as a model file without a
search-match for ``tools/measured_training.py --ship-model OUT``.

``answers A B``: the first file's search-match and gate, its network's
calibrated probabilities replaced by the geometric mean of both networks'
(any two architectures); space group top-1 / top-5 and the crystal system of
the top space group on the RRUFF minerals, those without a close AMCSD
pattern, and the held-out prototypes.

Run (tools/README.md has the numbers)::

    python experiments/weight_average.py soup skxrd/pretrained/weights/space-group.pt \\
        CYCLE9/cycle-0.pt CYCLE9.toml /tmp/soup.pt --cache /tmp/skxrd_cache
    python experiments/weight_average.py answers \\
        skxrd/pretrained/weights/space-group.pt GPU/space-group.pt \\
        --cache /tmp/skxrd_cache
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))


def _network(pipe):
    clf = pipe.steps[-1][1]
    while not hasattr(clf, "net_") and hasattr(clf, "estimator_"):
        clf = clf.estimator_
    return clf


def soup(a, b, config, out, cache):
    import torch

    from skxrd.estimators._base import restore_fitted
    from skxrd.pretrained import load_config, load_model, save_model
    from skxrd.pretrained._train import _dataset, _widen_output

    A, B = load_model(a, device="cpu"), load_model(b, device="cpu")
    na, nb = _network(A), _network(B)
    classes = np.union1d(na.classes_, nb.classes_)

    def widened(net):
        state = net.net_.module_.state_dict()
        if len(classes) > len(net.classes_):
            state = _widen_output(state, net.classes_, classes)
        return state

    sa, sb = widened(na), widened(nb)
    mean = {
        k: (0.5 * (sa[k].float() + sb[k].float())).to(sa[k].dtype)
        if sa[k].is_floating_point()
        else sb[k]
        for k in sb
    }
    restore_fitted(nb, classes, nb.n_features_in_, mean)
    # the averaged weights need their own BatchNorm statistics: the estimators'
    # precise BatchNorm (as at the end of training) over the cached draw
    X, _, _ = _dataset(load_config(config), "data", cache, 2, False)
    Z = B[:-1].transform(X).astype(np.float32)
    nb.net_._train_dataset = nb.net_.get_dataset(Z, np.zeros(len(Z), np.int64))
    torch.manual_seed(0)  # its passes run with dropout on
    nb.net_._precise_batchnorm()
    meta = {**(B.metadata_ or {}), "weight_average": [str(a), str(b)]}
    save_model(B, out, metadata=meta, overwrite=True)
    print(f"wrote {out}: {len(classes)} classes")


def answers(a, b, cache):
    from pretrained_cards import _split_by_amcsd, measured_sets

    from skxrd.crystal import to_crystal_system
    from skxrd.estimators._match import search_match_of
    from skxrd.pretrained import load_config, load_model
    from skxrd.pretrained._train import _dataset

    A, B = load_model(a, device="cpu"), load_model(b, device="cpu")
    ha, hb = search_match_of(A), search_match_of(B)
    sets = _split_by_amcsd(measured_sets(ROOT.parent / "shared/data/measured"))
    cfg = load_config(ROOT / "skxrd/pretrained/configs/space-group.toml")
    Xt, _, sgt = _dataset(cfg, "test", cache, 2, False)
    sets["heldout"] = (Xt, None, sgt)
    classes = ha.estimator_.classes_

    def proba(h, Z):
        out = np.zeros((len(Z), len(classes)))
        keep = np.isin(h.estimator_.classes_, classes)
        cols = np.searchsorted(classes, h.estimator_.classes_[keep])
        out[:, cols] = h.estimator_.predict_proba(Z)[:, keep]
        return out

    for name in ("rruff", "rruff_far", "heldout"):
        X, _, sg = sets[name]
        sg = np.asarray(sg).astype(int)
        Z = A[:-1].transform(X)
        sims, _, _ = ha._parts(Z)
        weight = ha._weights(sims)
        pa, pb = proba(ha, Z), proba(hb, Z)
        geo = np.exp(0.5 * (np.log(pa + 1e-12) + np.log(pb + 1e-12)))
        row = {}
        for label, p in (
            ("A", pa),
            ("B", pb),
            ("geometric mean", geo / geo.sum(1, keepdims=True)),
        ):
            P = ha._mixture(sims, p, weight)
            top = ha.classes_[np.argsort(-P, axis=1)[:, :5]]
            row[label] = (
                round(float(np.mean(top[:, 0] == sg)), 3),
                round(float(np.mean((top == sg[:, None]).any(1))), 3),
                round(
                    float(
                        np.mean(to_crystal_system(top[:, 0]) == to_crystal_system(sg))
                    ),
                    3,
                ),
            )
        print(name, len(sg), row, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("soup")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("config")
    p.add_argument("out")
    p.add_argument("--cache", default=None)
    p = sub.add_parser("answers")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--cache", default=None)
    args = parser.parse_args(argv)
    if args.command == "soup":
        soup(args.a, args.b, args.config, args.out, args.cache)
    else:
        answers(args.a, args.b, args.cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
