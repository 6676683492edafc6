"""Which training data makes models that work on measured patterns?

One fixed training recipe (a space-group ResNet, the preprocessing of the
shipped models, the same simulator, per-pattern instrument settings and
train-time augmentation) is trained on each source of crystals:

- ``uniform``: random crystals balanced over the 230 space groups;
- ``realistic``: a :class:`~skxrd.datasets.CrystalPrior` fitted on the
  training part of the Materials Project structures;
- ``real``: the training part of the Materials Project structures, with
  variants (:func:`~skxrd.datasets.make_variants`);
- ``mixture``: half realistic, half real;
- ``real-random-split``: as ``real``, but its structures split from the test
  structures at random instead of by prototype (to show how much a random split
  flatters a model).

and scored on the 456 measured RRUFF mineral patterns (validation only, never
trained on) and on Materials Project structures whose prototypes the training
never saw. The crystal-system accuracy is the space-group model's answer mapped
to crystal systems (:func:`~skxrd.pretrained.evaluate_model`).

Each finished source is written to ``OUT/<source>.json`` (and its model to
``OUT/<source>.pt``); running the script again skips what is done, so a run can
be resumed. ``--report`` prints the table of everything done so far.

    .venv/bin/python experiments/data_sources.py --out /tmp/skxrd_sources \\
        --cache /tmp/skxrd_cache
    .venv/bin/python experiments/data_sources.py --out /tmp/skxrd_sources --report
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("uniform", "realistic", "real", "mixture", "real-random-split")


def _splits(seed=0):
    """MP split by prototype (train, test) and at random (train, test)."""
    from sklearn.model_selection import ShuffleSplit

    from skxrd.datasets import load_materials_project
    from skxrd.pretrained import prototype_split

    mp = load_materials_project()
    n = len(mp.crystals)
    tr, te = prototype_split(mp, test_size=0.2, random_state=seed)
    rtr, rte = next(
        ShuffleSplit(1, test_size=0.2, random_state=seed).split(np.zeros(n))
    )
    return mp, (tr, te), (rtr, rte)


def _config(args):
    return {
        "name": "sources",
        "target": "space_group",
        "data": {"n_crystals": args.n_train},
        "simulator": {"two_theta_range": [10.0, 80.0], "two_theta_step": 0.02},
        "preprocessing": {"background": "snip", "normalize": "max"},
        "classifier": {
            "type": "ResNetClassifier",
            "depth": 6,
            "width": 24,
            "stem_stride": 4,
            "max_epochs": args.epochs,
            "batch_size": 128,
            "lr": 0.002,
            "augment": "default",
            "random_state": 0,
        },
    }


def _score(pipe, X, space_group):
    import warnings

    from skxrd.crystal import to_crystal_system
    from skxrd.pretrained import evaluate_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # range-not-covered notes
        sg = evaluate_model(pipe, X, np.asarray(space_group), k=5)
        cs = evaluate_model(
            pipe, X, np.asarray(to_crystal_system(space_group)).astype(str), k=5
        )
    return {
        "n": sg["n"],
        "space_group_top1": sg["top1"],
        "space_group_top5": sg.get("top5"),
        "space_group_majority": sg["majority_share"],
        "crystal_system_top1": cs["top1"],
        "crystal_system_top2": cs.get("top2"),
        "crystal_system_majority": cs["majority_share"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/skxrd_sources"))
    parser.add_argument("--cache", default=None)
    parser.add_argument("--sources", nargs="*", default=list(SOURCES))
    parser.add_argument("--n-train", type=int, default=30_000)
    parser.add_argument("--n-variants", type=int, default=2)
    parser.add_argument("--n-test", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.report:
        _report(args.out)
        return
    import sys

    import torch

    sys.path.insert(0, str(ROOT / "tools"))  # the shipped models' RRUFF reader
    from measured_training import rruff_patterns

    from skxrd.datasets import CrystalPrior, make_pattern_dataset
    from skxrd.pretrained import (
        build_pipeline,
        load_config,
        save_model,
        subset_collection,
    )
    from skxrd.simulation import InstrumentSampler, PowderSimulator

    torch.set_num_threads(args.threads)
    config = load_config(_config(args))
    sim = PowderSimulator(**config["simulator"])
    instrument = InstrumentSampler()
    mp, (tr, te), (rtr, rte) = _splits()
    data_kw = dict(
        simulator=sim,
        instrument=instrument,
        cache=args.cache,
        n_jobs=args.n_jobs,
        verbose=True,
    )
    rng = np.random.default_rng(1)
    test_sets = {
        "mp_prototype_held_out": subset_collection(
            mp, np.sort(rng.choice(te, min(args.n_test, len(te)), replace=False))
        ),
        "mp_random_held_out": subset_collection(
            mp, np.sort(rng.choice(rte, min(args.n_test, len(rte)), replace=False))
        ),
    }
    rruff_X, rruff_sg = rruff_patterns()
    for name in args.sources:
        result_path = args.out / f"{name}.json"
        if result_path.exists():
            print(f"{name}: done already ({result_path})")
            continue
        t0 = time.perf_counter()
        train = subset_collection(mp, rtr if name == "real-random-split" else tr)
        if name == "uniform":
            source, n_variants = "uniform", 1
        elif name == "realistic":
            source = CrystalPrior(max_atoms=200).fit(train)
            n_variants = 1
        elif name in ("real", "real-random-split"):
            source, n_variants = train, args.n_variants
        elif name == "mixture":
            prior = CrystalPrior(max_atoms=200).fit(train)
            source, n_variants = [(prior, 0.5), (train, 0.5)], args.n_variants
        else:
            raise SystemExit(f"unknown source {name!r}; known: {SOURCES}")
        data = make_pattern_dataset(
            args.n_train,
            target="space_group",
            source=source,
            n_variants=n_variants,
            random_state=0,
            **data_kw,
        )
        t_data = time.perf_counter() - t0
        pipe = build_pipeline(config)
        t1 = time.perf_counter()
        pipe.fit(data.X, data.y)
        t_fit = time.perf_counter() - t1
        result = {
            "source": name,
            "n_train": int(len(data.y)),
            "n_structures": int(len(set(data.ids.tolist()))),
            "n_variants": n_variants,
            "epochs": int(pipe.steps[-1][1].n_epochs_),
            "data_seconds": round(t_data, 1),
            "fit_seconds": round(t_fit, 1),
            "threads": args.threads,
            "train_crystal_systems": {
                k: int(v)
                for k, v in zip(
                    *np.unique(
                        __import__("skxrd").crystal.to_crystal_system(data.space_group),
                        return_counts=True,
                    )
                )
            },
        }
        # the random-split test structures overlap the other models' training
        # structures: only the random-split model is scored on them
        which = (
            ["mp_random_held_out"]
            if name == "real-random-split"
            else ["mp_prototype_held_out"]
        )
        for test in which:
            coll = test_sets[test]
            tdata = make_pattern_dataset(
                None,
                target="space_group",
                source=coll,
                random_state=1,
                **data_kw,
            )
            result[test] = _score(pipe, tdata.X, tdata.space_group)
        result["rruff"] = _score(pipe, rruff_X, rruff_sg)
        save_model(pipe, args.out / f"{name}.pt", metadata=result, overwrite=True)
        with open(result_path, "w") as fh:
            json.dump(result, fh, indent=1)
        print(json.dumps(result, indent=1))
    _report(args.out)


def _report(out: Path):
    rows = []
    for name in SOURCES:
        path = out / f"{name}.json"
        if path.exists():
            with open(path) as fh:
                rows.append(json.load(fh))
    if not rows:
        print("nothing done yet")
        return

    def cell(r, test, key):
        v = r.get(test, {}).get(key)
        return "" if v is None else f"{v:.3f}"

    print(
        "| source | patterns (structures) | data + fit min | RRUFF crystal system "
        "top-1 / top-2 | RRUFF space group top-1 / top-5 | MP held-out structures: "
        "crystal system / space group |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        test = (
            "mp_random_held_out"
            if r["source"] == "real-random-split"
            else "mp_prototype_held_out"
        )
        print(
            f"| {r['source']} | {r['n_train']} ({r['n_structures']}) | "
            f"{(r['data_seconds'] + r['fit_seconds']) / 60:.0f} | "
            f"{cell(r, 'rruff', 'crystal_system_top1')} / "
            f"{cell(r, 'rruff', 'crystal_system_top2')} | "
            f"{cell(r, 'rruff', 'space_group_top1')} / "
            f"{cell(r, 'rruff', 'space_group_top5')} | "
            f"{cell(r, test, 'crystal_system_top1')} / "
            f"{cell(r, test, 'space_group_top1')}"
            + (" (random split)" if test == "mp_random_held_out" else "")
            + " |"
        )
    mp = rows[0]["mp_prototype_held_out"]
    print(
        "\nmajority baselines: MP held-out prototypes crystal system "
        f"{mp['crystal_system_majority']:.3f}, space group "
        f"{mp['space_group_majority']:.3f}"
    )
    r = rows[0]["rruff"]
    print(
        "\nmajority baselines: RRUFF crystal system "
        f"{r['crystal_system_majority']:.3f}, space group "
        f"{r['space_group_majority']:.3f}"
    )


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    main()
