"""Does powder indexing lift the shipped hybrid's crystal systems on measured minerals?

The shipped space-group model (a search-match in front of a ResNet) is wrapped,
frozen, in an :class:`~skxrd.estimators.IndexingClassifier`: a logistic
regression of the crystal system on the hybrid's log crystal-system
probabilities and the best de Wolff figure of merit of each lattice family
(:func:`skxrd.indexing.lattice_merits`). Its data are
simulated only, as :func:`skxrd.pretrained.add_indexing` draws them: the first
``--n-tune`` patterns of each of the search-match's two tuning draws (AMCSD
entries with measured-like settings, held-out Materials Project prototypes),
with ``sample_augmentation``. The stackers are compared at several ``C``:

- ``control``: the log crystal-system probabilities alone (a recalibration of
  the hybrid's crystal systems, no indexing);
- ``cth, degree 1``: the same plus ``log(1 + M)`` of the cubic, tetragonal and
  hexagonal cells (shipped on 2026-12-05);
- ``ctho, degree 1``: the orthorhombic cells too;
- ``cth, degree 2`` and ``ctho, degree 2``: ``log(1 + M)`` and its square
  (``ctho, degree 2``: the shipped design since the second version);
- ``cthom`` at degrees 1 and 2: the monoclinic cells too (the fifth version;
  not shipped).

Merits above ``--merit-cap`` (default 100, shipped since the third version)
count as the cap; ``--merit-cap inf`` gives the uncapped features of the first
two versions. Since the fourth version the indexing refines a zero shift of
the 2θ scale with each cell (``max_zero_shift``, 0.1°): features computed
before hold merits without it. Since the fifth, the features hold the
monoclinic merits too (14 merit columns): older files must be recomputed.
``--first-lines 4`` indexes with candidates from any of the first four lines
(the sixth version; the shipped stackers' search has 2); ``--kbeta-leak P``
gives that share of the tuning patterns the Kβ copies of a β-filtered tube
(:class:`~skxrd.augmentation.KbetaLeak`, 1–5 %), and ``--low-angle P`` one
weak line below 7.5° (the eighth version), which measured patterns have and
simulated ones lack: ``[indexing]``'s ``kbeta_leak`` and ``low_angle``, the
same augmentation as :func:`~skxrd.pretrained.add_indexing`'s. A features file
keeps these settings and is not reused with others.

``--triclinic F.npz`` adds the best triclinic (``aP``) merit of the same
patterns (kept in ``F.npz``) and the ``cthoa`` and ``cthoma`` stackers (the
ninth version). Features files of 14 merit columns (before the aP column) are
read with an empty one.

``--twofold F.npz`` replaces the monoclinic (``mP``, ``mC``) merits by those
of ``index_powder(twofold_axes=True)``: monoclinic candidates also from the
triclinic zone search's cells with a twofold axis (kept in ``F.npz``; the
tenth version; the features' own search, ``first_lines``, is kept). The
triclinic and twofold files keep ``--kbeta-leak`` and ``--low-angle`` (files
without them were made with 0) and are not paired with features of others.

``C`` is chosen by the simulated cross-validated log-loss, not by RRUFF; the
456 RRUFF patterns are only scored.

Usage::

    python experiments/indexing_stack.py --cache /tmp/skxrd_cache \\
        [--model MODEL.pt] [--features /tmp/indexing_features.npz] \\
        [--merit-cap 100] [--first-lines 2] [--kbeta-leak 0] [--low-angle 0] \\
        [--triclinic /tmp/triclinic_merits.npz] [--twofold /tmp/twofold_merits.npz]

``--model`` (by default the shipped space-group file) holds the hybrid,
alone or inside the indexing stacker (the hybrid is taken from inside).
``--features`` keeps the merits and probabilities (about 22 minutes of indexing
on 2 cores) for a rerun.
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


def inputs(model_path, cache, n_tune, n_jobs, kbeta_leak=0.0, low_angle=0.0):
    """The tuning patterns and RRUFF's as the stacker sees them (through the
    model's preprocessing), their labels, the hybrid and its grid."""
    import torch
    from measured_training import rruff_patterns

    from skxrd.estimators._match import search_match_of
    from skxrd.pretrained import load_config, load_model
    from skxrd.pretrained._train import (
        _indexing_augmentation,
        _reference_collection,
        _tuning_draws,
    )

    config = load_config(CONFIG)
    match = config["match"]
    collection, _ = _reference_collection(match, config)
    Xk, yk, Xn, yn = _tuning_draws(config, match, collection, cache, n_jobs, True)
    X = np.concatenate([Xk[:n_tune], Xn[:n_tune]]).astype(np.float32)
    y = np.concatenate([yk[:n_tune], yn[:n_tune]])
    X = X / np.maximum(X.max(axis=1, keepdims=True), 1e-12)
    # add_indexing's augmentation for these [indexing] shares: the ship run
    # reads these merits back from the cache
    section = {"kbeta_leak": kbeta_leak, "low_angle": low_angle}
    aug = _indexing_augmentation(section, config)
    X = aug(torch.from_numpy(X), generator=torch.Generator().manual_seed(0)).numpy()
    model = load_model(model_path, device="cpu")
    prefix, hybrid = model[:-1], search_match_of(model)
    grid = prefix.steps[0][1].grid_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        Xt = prefix.transform(X)
        patterns, sg_rruff = rruff_patterns()
        Xr = prefix.transform(patterns)
    return Xt, y, Xr, sg_rruff, hybrid, grid


def features(
    model_path, cache, n_tune, n_jobs, first_lines, kbeta_leak=0.0, low_angle=0.0
):
    """Merits and hybrid probabilities of the tuning patterns and of RRUFF."""
    from skxrd.estimators import IndexingClassifier
    from skxrd.pretrained._train import merits_memory

    Xt, y, Xr, sg_rruff, hybrid, grid = inputs(
        model_path, cache, n_tune, n_jobs, kbeta_leak, low_angle
    )
    indexer = IndexingClassifier(
        hybrid,
        two_theta=grid,
        radiation="CuKa",
        scale="sqrt",
        families="cthom",
        first_lines=first_lines,
        n_jobs=n_jobs,
        verbose=True,
        memory=merits_memory(cache),  # add_indexing's, for the same settings
    )
    return {
        "merits_tune": indexer.merits(Xt),
        "proba_tune": hybrid.predict_proba(Xt),
        "y_tune": y,
        "merits_rruff": indexer.merits(Xr),
        "proba_rruff": hybrid.predict_proba(Xr),
        "y_rruff": sg_rruff,
        "classes": hybrid.classes_,
        "first_lines": first_lines,
        "kbeta_leak": kbeta_leak,
        "low_angle": low_angle,
    }


def triclinic_merits(model_path, cache, n_tune, n_jobs, kbeta_leak, low_angle):
    """The best triclinic (aP) merit of each tuning pattern and of RRUFF's,
    by the stacker's own indexing (``indexing_merits`` of family ``"a"``)."""
    from skxrd.estimators._indexing_core import indexing_merits

    Xt, _, Xr, _, _, grid = inputs(
        model_path, cache, n_tune, n_jobs, kbeta_leak, low_angle
    )
    merits = indexing_merits(
        np.concatenate([Xt, Xr]), grid, "CuKa", "sqrt", "a", n_jobs=n_jobs, verbose=True
    )[:, -2]  # the aP column
    return {
        "tric_tune": merits[: len(Xt)],
        "tric_rruff": merits[len(Xt) :],
        "kbeta_leak": kbeta_leak,
        "low_angle": low_angle,
    }


def twofold_merits(
    model_path, cache, n_tune, n_jobs, first_lines, kbeta_leak, low_angle
):
    """The monoclinic (mP, mC) merits of each tuning pattern and of RRUFF's
    with the twofold-axis candidates (``index_powder``'s ``twofold_axes``)."""
    from skxrd.estimators._indexing_core import indexing_merits
    from skxrd.indexing import ALL_LATTICE_TYPES

    Xt, _, Xr, _, _, grid = inputs(
        model_path, cache, n_tune, n_jobs, kbeta_leak, low_angle
    )
    merits = indexing_merits(
        np.concatenate([Xt, Xr]),
        grid,
        "CuKa",
        "sqrt",
        "m",
        first_lines=first_lines,
        n_jobs=n_jobs,
        verbose=True,
        twofold_axes=True,
    )[:, [ALL_LATTICE_TYPES.index("mP"), ALL_LATTICE_TYPES.index("mC")]]
    return {
        "mono_tune": merits[: len(Xt)],
        "mono_rruff": merits[len(Xt) :],
        "first_lines": first_lines,
        "kbeta_leak": kbeta_leak,
        "low_angle": low_angle,
    }


def kept(path, compute):
    """The arrays kept in ``path`` where it exists, else ``compute()``'s,
    kept there; None without a path."""
    if not path:
        return None
    if Path(path).is_file():
        with np.load(path) as f:
            return dict(f)
    out = compute()
    np.savez(path, **out)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default=str(ROOT / "skxrd/pretrained/weights/space-group.pt")
    )
    parser.add_argument("--cache", default=None)
    parser.add_argument("--n-tune", type=int, default=1000)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--features", default=None, help="npz to keep / reuse")
    parser.add_argument("--C", type=float, nargs="+", default=[0.03, 0.1, 0.3, 1.0])
    parser.add_argument(
        "--merit-cap", type=float, default=100.0, help="inf: no cap (before v3)"
    )
    parser.add_argument(
        "--first-lines",
        type=int,
        default=2,
        help="the indexing's first_lines (2: the shipped stackers' search)",
    )
    parser.add_argument(
        "--kbeta-leak",
        type=float,
        default=0.0,
        help="share of tuning patterns given Kβ copies (KbetaLeak, 1-5 %%)",
    )
    parser.add_argument(
        "--low-angle",
        type=float,
        default=0.0,
        help="share of tuning patterns given a weak line below 7.5 deg",
    )
    parser.add_argument(
        "--triclinic",
        default=None,
        help="npz to keep / reuse the triclinic (aP) merits of the same "
        "patterns; adds stackers with them (ctho+a, cthom+a)",
    )
    parser.add_argument(
        "--twofold",
        default=None,
        help="npz to keep / reuse the monoclinic merits with the twofold-axis "
        "candidates of the same patterns; they replace the features' own",
    )
    args = parser.parse_args(argv)

    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import cross_val_predict

    from skxrd.crystal import to_crystal_system
    from skxrd.estimators._core import coarse_membership
    from skxrd.estimators._indexing_core import (
        indexable,
        indexing_features,
        reweight_coarse,
        stack_coarse,
    )
    from skxrd.metrics import expected_calibration_error

    if args.features and Path(args.features).is_file():
        from skxrd.indexing import ALL_LATTICE_TYPES, LATTICE_TYPES

        with np.load(args.features) as f:
            d = dict(f)
        n_merits = d["merits_tune"].shape[1] - 1
        if n_merits == len(LATTICE_TYPES):  # written before the aP column
            for part in ("merits_tune", "merits_rruff"):
                m = d[part]
                d[part] = np.column_stack([m[:, :-1], np.zeros(len(m)), m[:, -1]])
        elif n_merits != len(ALL_LATTICE_TYPES):
            sys.exit(
                f"{args.features}: {n_merits} merit columns, not "
                f"{len(ALL_LATTICE_TYPES)} (written before the monoclinic "
                "lattices); remove it to compute the features again"
            )
        if float(d.get("kbeta_leak", 0.0)) != args.kbeta_leak:
            sys.exit(f"{args.features}: made with another --kbeta-leak")
        if float(d.get("low_angle", 0.0)) != args.low_angle:
            sys.exit(f"{args.features}: made with another --low-angle")
        if int(d.get("first_lines", 2)) != args.first_lines:
            sys.exit(
                f"{args.features}: indexed with first_lines "
                f"{int(d.get('first_lines', 2))}, not {args.first_lines}"
            )
    else:
        d = features(
            args.model,
            args.cache,
            args.n_tune,
            args.n_jobs,
            args.first_lines,
            args.kbeta_leak,
            args.low_angle,
        )
        if args.features:
            np.savez(args.features, **d)
    tric = kept(
        args.triclinic,
        lambda: triclinic_merits(
            args.model,
            args.cache,
            args.n_tune,
            args.n_jobs,
            args.kbeta_leak,
            args.low_angle,
        ),
    )
    if tric is not None:
        if len(tric["tric_tune"]) != len(d["y_tune"]):
            sys.exit(f"{args.triclinic}: made with another --n-tune")
        d["merits_tune"][:, -2] = tric["tric_tune"]  # the aP column
        d["merits_rruff"][:, -2] = tric["tric_rruff"]
    two = kept(
        args.twofold,
        lambda: twofold_merits(
            args.model,
            args.cache,
            args.n_tune,
            args.n_jobs,
            args.first_lines,
            args.kbeta_leak,
            args.low_angle,
        ),
    )
    for path, extra in ((args.triclinic, tric), (args.twofold, two)):
        # the merits of other tuning patterns would pair silently
        if extra is None:
            continue
        for key in ("kbeta_leak", "low_angle"):
            if float(extra.get(key, 0.0)) != getattr(args, key):
                sys.exit(f"{path}: made with another --{key.replace('_', '-')}")
    if args.twofold:
        if len(two["mono_tune"]) != len(d["y_tune"]):
            sys.exit(f"{args.twofold}: made with another --n-tune")
        if int(two["first_lines"]) != args.first_lines:
            sys.exit(f"{args.twofold}: indexed with another --first-lines")
        from skxrd.indexing import ALL_LATTICE_TYPES

        cols = [ALL_LATTICE_TYPES.index("mP"), ALL_LATTICE_TYPES.index("mC")]
        d["merits_tune"][:, cols] = two["mono_tune"]
        d["merits_rruff"][:, cols] = two["mono_rruff"]
    classes = d["classes"]
    systems, membership = coarse_membership(classes, "crystal_system")

    def cs(labels):
        return np.asarray(to_crystal_system(labels)).astype(str)

    y_tune, y_rruff = cs(d["y_tune"]), cs(d["y_rruff"])

    def scores(proba):
        coarse = proba @ membership
        right_cs = systems[coarse.argmax(1)] == y_rruff
        right_sg = classes[proba.argmax(1)] == d["y_rruff"]
        top5 = np.mean(
            [t in classes[np.argsort(-p)[:5]] for p, t in zip(proba, d["y_rruff"])]
        )
        ece = expected_calibration_error(y_rruff, coarse, labels=systems)
        low = [right_cs[y_rruff == s].sum() for s in ("triclinic", "monoclinic")]
        return (
            f"{right_cs.mean():.3f} ({right_cs.sum()}) | {ece:.3f} | "
            f"{right_sg.mean():.3f} ({right_sg.sum()}) / {top5:.3f} | "
            f"{low[0]} / {low[1]}"
        )

    print(
        "| stacker | simulated CV log-loss | RRUFF crystal system (right) | ECE | "
        "RRUFF space group top-1 (right) / top-5 | triclinic / monoclinic right |"
        "\n|---|---:|---:|---:|---:|---:|"
    )
    print(f"| hybrid alone | | {scores(d['proba_rruff'])} |")
    kinds = [("control", "cth", 1)] + [
        (f"{fam}, degree {deg}", fam, deg)
        for deg in (1, 2)
        for fam in ("cth", "ctho", "cthom")
    ]
    if tric is not None:
        kinds += [(f"{fam}, degree 2", fam, 2) for fam in ("cthoa", "cthoma")]
    for kind, families, degree in kinds:
        for C in args.C:

            def z(proba, merits, kind=kind, families=families, degree=degree):
                out = indexing_features(
                    proba @ membership, merits, families, degree, args.merit_cap
                )
                return out[:, : len(systems)] if kind == "control" else out

            # the shipped design learns from, and changes, only the patterns
            # with enough peaks to index; the control recalibrates them all
            rows = (
                indexable(d["merits_tune"])
                if kind != "control"
                else np.ones(len(y_tune), bool)
            )
            X = z(d["proba_tune"][rows], d["merits_tune"][rows])
            stacker = LogisticRegression(C=C, max_iter=5000)
            cv = cross_val_predict(
                stacker, X, y_tune[rows], cv=5, method="predict_proba"
            )
            stacker.fit(X, y_tune[rows])
            cols = np.searchsorted(systems, stacker.classes_)
            coarse = d["proba_rruff"] @ membership
            if kind != "control":
                new = stack_coarse(
                    coarse,
                    d["merits_rruff"],
                    stacker.predict_proba,
                    cols,
                    families,
                    degree,
                    args.merit_cap,
                )
            else:
                new = np.zeros_like(coarse)
                new[:, cols] = stacker.predict_proba(
                    z(d["proba_rruff"], d["merits_rruff"])
                )
            proba = reweight_coarse(d["proba_rruff"], membership, new)
            loss = log_loss(y_tune[rows], cv, labels=stacker.classes_)
            print(f"| {kind}, C = {C:g} | {loss:.4f} | {scores(proba)} |")


if __name__ == "__main__":
    main()
