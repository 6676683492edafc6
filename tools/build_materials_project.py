"""Build the bundled Materials Project structures (``skxrd/datasets/data/``).

Reads ``materials-project-36737.jsonl.gz`` (see the data README for its
provenance and licence) and writes a compact, pickle-free ``.npz``: lattices and
fractional coordinates as integers in units of 1e-6 (the precision of the
source, so nothing is lost), atomic numbers, ids, formulas, space groups, and
the spglib description of each structure (prototype label, conventional cell)
so that loading and fitting a :class:`~skxrd.datasets.CrystalPrior` need no
symmetry search.

    .venv/bin/python tools/build_materials_project.py \
        ../shared/data/structures/materials-project-36737.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np

from skxrd.crystal import Crystal, parse_species
from skxrd.datasets import load_structures

OUT = Path(__file__).resolve().parents[1] / "skxrd/datasets/data/materials_project.npz"


def main():
    import periodictable

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument(
        "--split-from",
        type=Path,
        default=OUT,
        help="the file whose split_group column is carried over (by id): the "
        "grouping of the shipped models' held-out split, which a change of the "
        "prototype labels must not move (default: the bundled file)",
    )
    args = parser.parse_args()
    with np.load(args.split_from) as previous:
        split_of = dict(zip(previous["id"].tolist(), previous["split_group"].tolist()))
    t0 = time.perf_counter()
    with gzip.open(args.source, "rt") as fh:
        rows = [json.loads(line) for line in fh]
    # the symmetry descriptions the loaders compute for any collection
    described = load_structures(
        [Crystal(r["lattice"], r["species"], r["frac"]) for r in rows],
        ids=[r["id"] for r in rows],
        symprec=0.1,
        n_jobs=args.n_jobs,
        verbose=True,
    )
    if described.skipped:
        raise SystemExit(f"structures without symmetry: {described.skipped[:10]}")
    sg = np.array([r["space_group"] for r in rows])
    if np.any(sg != described.space_group):
        bad = np.flatnonzero(sg != described.space_group)
        raise SystemExit(f"{len(bad)} space groups differ from the source: {bad[:10]}")
    number = {
        s: periodictable.elements.symbol(s).number
        for r in rows
        for s in {parse_species(x)[0] for x in r["species"]}
    }
    n_sites = np.array([len(r["species"]) for r in rows], dtype=np.int16)
    frac = np.concatenate([np.asarray(r["frac"], dtype=float) for r in rows])
    lattice = np.array([r["lattice"] for r in rows], dtype=float).reshape(-1, 9)
    arrays = dict(
        id=np.array([int(r["id"].split("-")[1]) for r in rows], dtype=np.int32),
        formula=np.array([r["formula"] for r in rows]),
        space_group=sg.astype(np.uint8),
        space_group_tight=np.array(
            [r["space_group_tight"] for r in rows], dtype=np.uint8
        ),
        n_sites=n_sites,
        lattice=np.rint(lattice * 1e6).astype(np.int64),
        atomic_number=np.array(
            [number[parse_species(s)[0]] for r in rows for s in r["species"]],
            dtype=np.uint8,
        ),
        frac=np.rint(frac * 1e6).astype(np.int32),
        prototype=described.prototype.astype(str),
        conventional=described.conventional_parameters.astype(np.float32),
        n_conventional=described.n_conventional.astype(np.int16),
        prototype_elements=np.array(
            [" ".join(e) for e in described.prototype_elements]
        ),
        wyckoff=np.array([" ".join(w) for w in described.wyckoff]),
    )
    missing = [i for i in arrays["id"].tolist() if i not in split_of]
    if missing:
        raise SystemExit(f"{len(missing)} ids without a split group: {missing[:10]}")
    arrays["split_group"] = np.array(
        [split_of[i] for i in arrays["id"].tolist()], dtype=np.int32
    )
    np.savez_compressed(args.output, **arrays)
    print(
        f"{len(rows)} structures, {len(set(arrays['prototype']))} prototypes -> "
        f"{args.output} ({args.output.stat().st_size / 1e6:.1f} MB) in "
        f"{time.perf_counter() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
