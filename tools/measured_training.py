"""Measured accuracy against CPU-hours of a training config, cycle by cycle.

Trains a config (``skxrd/pretrained/configs/space-group.toml`` by default) in
warm-restart cycles: the first fit, then ``skxrd train --resume``-style
continuations (:func:`~skxrd.pretrained.train_from_config` with
``warm_start``), each a full cosine learning-rate cycle of the config's
``max_epochs``. After every cycle the model is saved (``OUT/cycle-K.pt``) and
scored on

- the 456 measured RRUFF mineral patterns (validation only, never trained on):
  space group top-1 / top-5, crystal system top-1 (the space-group
  probabilities summed per crystal system) and the expected calibration
  errors of both;
- Materials Project structures of the prototypes the training never saw (the
  config's ``[test]`` section; ``split = "test"``);

and a line is appended to ``OUT/curve.jsonl`` with the cumulative CPU time
(process time of this and earlier sittings). Running the script again resumes
after the last finished cycle, so the curve can grow over several sittings::

    OMP_NUM_THREADS=2 nohup .venv/bin/python tools/measured_training.py \\
        --out /tmp/skxrd_measured --cache /tmp/skxrd_cache --cycles 6 \\
        > /tmp/skxrd_measured.log 2>&1 &
    .venv/bin/python tools/measured_training.py --out /tmp/skxrd_measured \\
        --report
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RRUFF = ROOT.parent / "shared/data/measured/rruff-minerals/rruff-minerals.npz"
CONFIG = ROOT / "skxrd/pretrained/configs/space-group.toml"


def rruff_patterns(path=RRUFF):
    """The measured RRUFF patterns as Patterns, with their space groups."""
    from skxrd.io import Pattern

    with np.load(path, allow_pickle=False) as f:
        X, tt, sg = f["X"], f["two_theta"], f["space_group"]
    patterns = [
        Pattern(tt, np.maximum(x, 0.0), wavelength="CuKa", name=f"rruff-{i}")
        for i, x in enumerate(X)
    ]
    return patterns, sg.astype(int)


def curve_config(path):
    """The config that the training cycles run: the network's alone.

    The search-match of ``[match]`` and the indexing stacker of ``[indexing]``
    (fitted on ``[match]``'s tuning patterns) are put around the shipped cycle
    only (``--ship``), so both sections are left out; with ``[indexing]``
    kept alone the config would not load.
    """
    from skxrd.pretrained import load_config

    config = load_config(path)
    config.pop("match", None)
    config.pop("indexing", None)
    return load_config(config)


def coarse_proba(proba, classes, target="crystal_system"):
    """Coarse labels (crystal systems, Bravais lattices...) and their
    probabilities from space-group probabilities.

    The sums that :class:`~skxrd.estimators.CoarseLabelClassifier` computes,
    for probabilities already at hand.
    """
    import skxrd.crystal

    labels = np.asarray(getattr(skxrd.crystal, f"to_{target}")(classes)).astype(str)
    names = np.unique(labels)
    return names, np.stack([proba[:, labels == s].sum(axis=1) for s in names], 1)


def crystal_system_proba(proba, classes):
    """Crystal systems and their probabilities from space-group probabilities."""
    return coarse_proba(proba, classes, "crystal_system")


# the shipped views of the space-group file: (model name, coarse target)
VIEWS = (("crystal-system", "crystal_system"), ("bravais-lattice", "bravais_lattice"))


def score(pipe, X, space_group):
    """Space-group, Bravais-lattice and crystal-system accuracy and
    calibration of ``pipe``."""
    from skxrd.crystal import to_bravais_lattice, to_crystal_system
    from skxrd.metrics import expected_calibration_error

    space_group = np.asarray(space_group).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # range-not-covered notes
        proba = pipe.predict_proba(X)
    classes = np.asarray(pipe.classes_).astype(int)
    order = np.argsort(-proba, axis=1)
    top = classes[order]
    names, cs_proba = crystal_system_proba(proba, classes)
    cs_true = np.asarray(to_crystal_system(space_group)).astype(str)
    cs_pred = names[cs_proba.argmax(axis=1)]
    lattices, bl_proba = coarse_proba(proba, classes, "bravais_lattice")
    bl_true = np.asarray(to_bravais_lattice(space_group)).astype(str)
    known = np.isin(space_group, classes)
    return {
        "n": int(len(space_group)),
        "space_group_top1": float(np.mean(top[:, 0] == space_group)),
        "space_group_top5": float(np.mean((top[:, :5] == space_group[:, None]).any(1))),
        "crystal_system_top1": float(np.mean(cs_pred == cs_true)),
        "bravais_lattice_top1": float(
            np.mean(lattices[bl_proba.argmax(axis=1)] == bl_true)
        ),
        "crystal_system_ece": float(
            expected_calibration_error(cs_true, cs_proba, labels=names)
        ),
        # an ECE over the classes needs every label among them
        "space_group_ece": float(
            expected_calibration_error(space_group, proba, labels=classes)
        )
        if known.all()
        else None,
        "crystal_system_accuracy": {
            s: float(np.mean(cs_pred[cs_true == s] == s)) for s in np.unique(cs_true)
        },
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--out", type=Path, default=Path("/tmp/skxrd_measured"))
    parser.add_argument("--cache", default=None)
    parser.add_argument("--cycles", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--report", action="store_true")
    parser.add_argument(
        "--start",
        type=Path,
        default=None,
        help="a model file (such as the shipped skxrd/pretrained/weights/"
        "space-group.pt) whose weights the first cycle continues from",
    )
    parser.add_argument(
        "--weights-dir",
        type=Path,
        default=ROOT / "skxrd/pretrained/weights",
        help="where --ship writes the model files",
    )
    parser.add_argument(
        "--ship",
        type=int,
        default=None,
        metavar="K",
        help="calibrate cycle K's model (with the config's [match]: put the "
        "search-match in front of it) and write it as the shipped space-group "
        "and crystal-system weights (skxrd/pretrained/weights/)",
    )
    parser.add_argument(
        "--ship-model",
        type=Path,
        nargs="+",
        default=None,
        metavar="MODEL",
        help="as --ship, for the network of a model file (such as the shipped "
        "space-group.pt, to give it new references) instead of a cycle; with "
        "several files, their networks averaged (EnsembleClassifier, "
        "geometric mean, equal weights, their own temperatures dropped for one "
        "of the ensemble)",
    )
    parser.add_argument(
        "--write-views",
        action="store_true",
        help="write the crystal-system and Bravais-lattice views of the "
        "space-group.pt in --weights-dir again (its metadata, and held-out "
        "accuracies on the config's [test] draw), without calibrating anything",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.write_views:
        from pretrained_cards import _parallel_indexing

        from skxrd.pretrained import load_model
        from skxrd.pretrained._train import _dataset

        pipe = load_model(args.weights_dir / "space-group.pt", device="cpu")
        # the held-out draw indexed in processes, its merits read back from (or
        # kept for) the ship run's and the cards' cache
        _parallel_indexing(pipe, n_jobs=args.n_jobs, cache=args.cache)
        Xt, _, sgt = _dataset(pipe.metadata_["config"], "test", args.cache, 2, True)
        write_views(args.weights_dir, pipe.metadata_, score(pipe, Xt, sgt))
        return
    curve = args.out / "curve.jsonl"
    if args.report:
        report(curve)
        return
    if args.ship is not None or args.ship_model is not None:
        ship(args, curve)
        return
    from skxrd.pretrained import save_model, train_from_config
    from skxrd.pretrained._train import _dataset

    config = curve_config(args.config)
    rruff_X, rruff_sg = rruff_patterns()
    done = []
    if curve.exists():
        done = [json.loads(line) for line in curve.read_text().splitlines() if line]
    cpu_before = done[-1]["cpu_hours"] if done else 0.0
    test = None
    for k in range(len(done), args.cycles):
        prev = args.out / f"cycle-{k - 1}.pt" if k else args.start
        t_cpu, t_wall = time.process_time(), time.perf_counter()
        pipe, rep = train_from_config(
            config,
            cache=args.cache,
            n_jobs=args.n_jobs,
            num_threads=args.threads,
            warm_start=prev,
        )
        cpu = (time.process_time() - t_cpu) / 3600
        wall = (time.perf_counter() - t_wall) / 3600
        if test is None and "test" in config:
            Xt, _, sgt = _dataset(config, "test", args.cache, args.n_jobs, True)
            test = (Xt, sgt)
        row = {
            "cycle": k,
            "epochs": rep["total_epochs"],
            "n_train": rep["n_train"],
            "cpu_hours": round(cpu_before + cpu, 3),
            "wall_hours_this_cycle": round(wall, 3),
            "rruff": score(pipe, rruff_X, rruff_sg),
        }
        if test is not None:
            row["mp_held_out"] = score(pipe, *test)
        save_model(pipe, args.out / f"cycle-{k}.pt", metadata=rep, overwrite=True)
        with open(curve, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        cpu_before = row["cpu_hours"]
        print(json.dumps(row, indent=1), flush=True)
    report(curve)


def source_text(source):
    """A config's ``[data] source`` in words: "40% amcsd, 60% materials project"."""
    if isinstance(source, dict):
        return ", ".join(f"{w:.0%} {k.replace('_', ' ')}" for k, w in source.items())
    return str(source)


def history(rows, before, source):
    """The accuracy curve of a shipped model: the cycles of the model it
    continued from (``before``, their own curve) first, then this run's
    ``rows`` renumbered after them, with their CPU-hours added to the earlier
    ones and the training ``source`` of this run named in each."""
    text = source_text(source)
    hours = before[-1]["cpu_hours"] if before else 0.0
    return list(before) + [
        {
            **r,
            "source": text,
            "cycle": len(before) + r["cycle"],
            "cpu_hours": round(r["cpu_hours"] + hours, 3),
        }
        for r in rows
    ]


def ship(args, curve: Path):
    """Calibrate a cycle's model (put the search-match in front of it) and
    write the shipped weights."""
    from skxrd.pretrained import (
        add_indexing,
        add_reference_match,
        load_config,
        load_model,
        save_model,
    )
    from skxrd.pretrained._train import _dataset

    config = load_config(args.config)
    if args.ship_model is not None:
        pipe = ship_models(args.ship_model)
        meta = dict(pipe.metadata_)  # its curve stays
    else:
        pipe = load_model(args.out / f"cycle-{args.ship}.pt", device="cpu")
        rows = [json.loads(line) for line in curve.read_text().splitlines() if line]
        meta = dict(pipe.metadata_)
        before = []
        if args.start is not None:
            # the cycles of the model this run continued from come first
            before = (load_model(args.start).metadata_ or {}).get("curve", [])
        meta["curve"] = history(rows[: args.ship + 1], before, config["data"]["source"])
    meta["config"] = config
    if "match" in config:
        # the references, the threshold and both temperatures: on simulated
        # patterns only (add_reference_match), RRUFF is never used
        pipe, meta["match"] = add_reference_match(
            pipe, config, cache=args.cache, n_jobs=args.n_jobs
        )
        clf = pipe.steps[-1][1]
        meta["calibration"] = {
            "temperature": round(float(clf.estimator_.temperature_), 4),
            "match_temperature": round(float(clf.matcher_.temperature_), 5),
            "data": f"{meta['match']['n_tune']} simulated patterns: AMCSD "
            "entries with measured-like settings and held-out Materials Project "
            "prototypes (the [test] section with random_state "
            f"{config['match']['random_state']}); each part on the patterns it "
            "answers",
        }
    else:
        # temperature scaling on a third draw of the held-out prototypes
        # (seed 2): the [test] draw (seed 1) stays for the model card
        calib = {**config, "test": {**config["test"], "random_state": 2}}
        Xc, _, sgc = _dataset(calib, "test", args.cache, args.n_jobs, True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            pipe.calibrate_temperature(Xc, sgc)
        clf = pipe.steps[-1][1]
        meta["calibration"] = {
            "temperature": round(float(clf.temperature_), 4),
            "data": f"{len(sgc)} patterns of held-out Materials Project prototypes "
            "(the [test] section with random_state 2)",
        }
    if "indexing" in config:
        # the crystal systems weighed against powder indexing, the stacker
        # fitted on simulated patterns only (add_indexing)
        pipe, meta["indexing"] = add_indexing(
            pipe, config, cache=args.cache, n_jobs=args.n_jobs
        )
    # the held-out scores after calibration (which can move crystal-system
    # answers: they sum tempered space-group probabilities)
    Xt, _, sgt = _dataset(config, "test", args.cache, args.n_jobs, True)
    held = score(pipe, Xt, sgt)
    meta["test"] = {
        "n": held["n"],
        "top1": held["space_group_top1"],
        "top5": held["space_group_top5"],
    }
    weights = args.weights_dir
    weights.mkdir(parents=True, exist_ok=True)
    save_model(pipe, weights / "space-group.pt", metadata=meta, overwrite=True)
    write_views(weights, meta, held)
    print(f"calibration {meta['calibration']}; wrote {weights}/space-group.pt, .json")
    if "match" in meta:
        print(f"search-match: {meta['match']}")


def ship_models(paths):
    """The pipeline of one model file, or of several whose networks are
    averaged: an :class:`~skxrd.estimators.EnsembleClassifier` of their
    networks, each without the temperature its file may hold (the ship run
    fits the ensemble's, and the search-match and the stacker around it) and
    each given the space groups only the others know (as a warm start adds
    them: improbable outputs), with the first file's metadata and each
    member's settings in ``metadata_["ensemble"]``."""
    from skxrd.estimators import (
        EnsembleClassifier,
        IndexingClassifier,
        MatchFirstClassifier,
    )
    from skxrd.estimators._base import restore_fitted
    from skxrd.pretrained import PatternPipeline, load_model
    from skxrd.pretrained._store import _same_preprocessing
    from skxrd.pretrained._train import _inside, _widen_output

    pipes = [load_model(p, device="cpu") for p in paths]
    if len(pipes) == 1:
        return pipes[0]
    first = pipes[0]
    for path, pipe in zip(paths[1:], pipes[1:]):
        if not _same_preprocessing(first.steps[:-1], pipe.steps[:-1]):
            raise SystemExit(f"{path} does not preprocess as {paths[0]} does")
    networks = [
        _inside(p.steps[-1][1], (MatchFirstClassifier, IndexingClassifier))
        for p in pipes
    ]
    classes = np.unique(np.concatenate([net.classes_ for net in networks]))
    for net in networks:
        # the logits as trained: one temperature, the ensemble's, is fitted
        # by the ship run (a shipped file's network has its own)
        if hasattr(net, "temperature_"):
            del net.temperature_
        if len(net.classes_) < len(classes):
            # a space group one network never saw: an output of zero weights
            # and its lowest bias, as a warm start adds classes
            state = _widen_output(net.net_.module_.state_dict(), net.classes_, classes)
            restore_fitted(net, classes, net.n_features_in_, state)
    ensemble = EnsembleClassifier.from_fitted(networks)
    out = PatternPipeline(list(first.steps[:-1]) + [(first.steps[-1][0], ensemble)])
    out.metadata_ = {
        **dict(first.metadata_),
        "ensemble": [
            {
                "file": str(path),
                "classifier": dict(
                    ((p.metadata_ or {}).get("config") or {}).get("classifier", {})
                ),
                "total_epochs": (p.metadata_ or {}).get("total_epochs"),
            }
            for path, p in zip(paths, pipes)
        ],
    }
    return out


def write_views(weights: Path, meta: dict, held: dict):
    """The crystal-system and Bravais-lattice models: the space-group file's
    network and references read at coarser labels, as views of that file (not
    second copies), with their configs and held-out accuracies (``held``, the
    space-group model's :func:`score` on the [test] draw)."""
    from skxrd.pretrained import load_config
    from skxrd.pretrained._store import save_coarse_view

    for name, target in VIEWS:
        view_meta = {
            **meta,
            "name": name,
            "target": target,
            "config": load_config(ROOT / f"skxrd/pretrained/configs/{name}.toml"),
            "test": {"n": held["n"], "top1": held[f"{target}_top1"]},
        }
        changed = {k: v for k, v in view_meta.items() if meta.get(k) != v}
        save_coarse_view(
            weights / f"{name}.json",
            weights / "space-group.pt",
            changed,
            target=target,
            overwrite=True,
        )
        (weights / f"{name}.pt").unlink(missing_ok=True)  # an older copy


def report(curve: Path):
    rows = [json.loads(line) for line in curve.read_text().splitlines() if line]
    print(
        "| cycle | epochs | CPU-hours | RRUFF crystal system top-1 (ECE) | RRUFF "
        "space group top-1 / top-5 (ECE) | MP held-out prototypes: crystal system "
        "/ space group |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        a, m = r["rruff"], r.get("mp_held_out", {})
        sg_ece = a["space_group_ece"]
        print(
            f"| {r['cycle']} | {r['epochs']} | {r['cpu_hours']:.2f} | "
            f"{a['crystal_system_top1']:.3f} ({a['crystal_system_ece']:.3f}) | "
            f"{a['space_group_top1']:.3f} / {a['space_group_top5']:.3f}"
            + (f" ({sg_ece:.3f})" if sg_ece is not None else "")
            + " | "
            + (
                f"{m['crystal_system_top1']:.3f} / {m['space_group_top1']:.3f}"
                if m
                else ""
            )
            + " |"
        )


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    main()
