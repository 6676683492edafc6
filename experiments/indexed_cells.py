"""The indexed cell ``skxrd predict`` prints, against labelled cells.

On the 15 SSRL synchrotron files (``../shared/data/measured/synchrotron-ssrl``,
each with its wavelength and its cell in ``ssrl_labels.csv``): the cell printed
for the top answer of the shipped crystal-system model, and whether its
lengths are the labelled ones within 0.5 % (sorted, so that the axis order of
an orthorhombic cell does not count), or those of a sub- or supercell (the
volume 1/4-4 times the label's, integer ratios or their inverses, within
1 %); with ``--repeat N``, the median wall time of N ``skxrd predict`` calls
per file. On RRUFF mineral patterns (validation only; every ``--rruff-step``
th of the 456, written as .xy files and answered in one call): how often a
cell is printed, and why not.

    .venv/bin/python experiments/indexed_cells.py --repeat 3 --rruff-step 15 \
        --baseline /tmp/skxrd_before    # a worktree of the commit before
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "measured"


def _predict(files, wavelength, *extra, root=ROOT):
    cmd = [sys.executable, "-m", "skxrd", "predict", *map(str, files)]
    cmd += ["--wavelength", str(wavelength), *extra]
    env = {**os.environ, "PYTHONPATH": str(root)}
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return run.stdout


def _compare(cell, label):
    """ "match", "sub/supercell (V x r)" or "other" of a printed cell."""
    got = np.sort([cell["a"], cell["b"], cell["c"]])
    want = np.sort(label[:3])
    if np.all(np.abs(got / want - 1) <= 0.005):
        return "match"
    cos = np.cos(np.radians(label[3:]))
    volume = np.prod(label[:3]) * np.sqrt(1 - (cos**2).sum() + 2 * cos.prod())
    ratio = cell["volume"] / volume
    for n in (2, 3, 4):
        for r in (n, 1 / n):
            if abs(ratio / r - 1) <= 0.01:
                kind = "supercell" if r > 1 else "subcell"
                return f"{kind} (volume x {ratio:.3f})"
    return f"other (volume x {ratio:.3f})"


def ssrl(repeat, baseline=None):
    folder = SHARED / "synchrotron-ssrl"
    with open(folder / "ssrl_labels.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    kinds, times, before = Counter(), [], []
    for row in rows:
        path = folder / "XYdata" / f"{row['Material']}.xy"
        label = np.array([float(row[k]) for k in "a b c alpha beta gamma".split()])
        for _ in range(repeat):
            start = time.perf_counter()
            _predict([path], row["Wavelength"])
            times.append((row["Material"], time.perf_counter() - start))
            if baseline is not None:  # alternated: both under the same load
                start = time.perf_counter()
                _predict([path], row["Wavelength"], root=baseline)
                before.append((row["Material"], time.perf_counter() - start))
        [res] = json.loads(_predict([path], row["Wavelength"], "--json"))
        cell = res.get("cell")
        kind = "no cell" if cell is None else _compare(cell, label)
        kinds[kind.split(" (")[0]] += 1
        shown = (
            res.get("cell_note")
            if cell is None
            else f"{cell['lattice']} {cell['a']:.4f} {cell['b']:.4f} "
            f"{cell['c']:.4f} M{cell['n_lines']}={cell['figure_of_merit']:.0f}"
        )
        print(
            f"{row['Material']:<15} {row['Name']:<14} {row['Crystal System']:<12} "
            f"-> {res['answer']:<12} {shown}: {kind}"
        )
    print("SSRL:", dict(kinds))
    for what, found in (("predict", times), ("baseline", before)):
        if not found:
            continue
        per_file = [
            statistics.median(t for m, t in found if m == name)
            for name in dict.fromkeys(m for m, _ in found)
        ]
        print(
            f"{what} per file, median of {repeat}: median "
            f"{statistics.median(per_file):.3f} s, range "
            f"{min(per_file):.2f}-{max(per_file):.2f} s"
        )


def read_back():
    """In one process: the time to read the cells back after an answer (what
    ``skxrd predict`` adds) and to index the patterns again (without the
    cache), per SSRL file."""
    import warnings
    from importlib import resources

    sys.path.insert(0, str(ROOT))
    import skxrd.indexing._index as search
    from skxrd.cli import _indexed_cells
    from skxrd.io import read_pattern
    from skxrd.pretrained import _weights_file
    from skxrd.pretrained._runtime import load_predictor

    folder = SHARED / "synchrotron-ssrl"
    with open(folder / "ssrl_labels.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    with resources.as_file(_weights_file("crystal-system")) as path:
        model = load_predictor(path)
    back, again = [], []
    for row in rows:
        path = folder / "XYdata" / f"{row['Material']}.xy"
        patterns = [read_pattern(path, wavelength=float(row["Wavelength"]))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.predict_top_k(patterns)
        start = time.perf_counter()
        _indexed_cells(model, patterns)
        back.append(time.perf_counter() - start)
        search._SOLVED.clear()
        start = time.perf_counter()
        _indexed_cells(model, patterns)
        again.append(time.perf_counter() - start)
    print(
        f"cells read back: median {1e3 * statistics.median(back):.1f} ms "
        f"(at most {1e3 * max(back):.1f}); indexed again: median "
        f"{statistics.median(again):.2f} s (at most {max(again):.2f})"
    )


def rruff(step):
    data = np.load(SHARED / "rruff-minerals" / "rruff-minerals.npz")
    index = np.arange(0, len(data["X"]), step)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in index:
            path = Path(tmp) / f"rruff_{i:03d}.xy"
            np.savetxt(path, np.column_stack([data["two_theta"], data["X"][i]]))
            files.append(path)
        results = json.loads(_predict(files, "CuKa", "--json"))
    why = Counter()
    for res in results:
        note = res.get("cell_note") or ""
        if res.get("cell") is not None:
            why["cell printed"] += 1
        elif not res["predictions"]:
            why["not answered (not a powder pattern)"] += 1
        elif "peaks found" in note or "peak found" in note:
            why["too few peaks"] += 1
        elif "indexes no" in note:
            why[f"family not indexed ({res['answer']})"] += 1
        else:
            why["no cell of the family"] += 1
    print(f"RRUFF, {len(index)} patterns (every {step}th):", dict(why))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=0, help="timed calls per file")
    p.add_argument("--rruff-step", type=int, default=15)
    p.add_argument(
        "--baseline",
        default=None,
        help="another checkout (git worktree) whose predict is timed alternately",
    )
    args = p.parse_args()
    ssrl(args.repeat, args.baseline)
    read_back()
    rruff(args.rruff_step)


if __name__ == "__main__":
    main()
