"""Powder indexing time per measured pattern, against another checkout of skxrd.

The indexing stacker of the shipped models runs
:func:`skxrd.indexing.index_powder` on every pattern ``skxrd predict`` answers.
This benchmark indexes the peak lists of measured RRUFF mineral patterns
(every ``--step``-th of the 456, or the first ``--first`` of them; those with
at least 8 peaks) with three searches: the shipped models' (the cubic,
tetragonal, hexagonal, orthorhombic and triclinic lattices, ``first_lines=2``,
a zero shift up to 0.1°, neither twofold-axis candidates nor long axes: the
settings of ``skxrd.estimators._indexing_core._search_settings``), the same
without the triclinic lattice and with long axes (the shipped search before
December 2026), and the widest one (all 13 lattices, ``first_lines=4``).

With ``--baseline DIR`` (a checkout of another version, for example
``git worktree add /tmp/old HEAD~1``) the two versions run ``--repeats`` times
each, taking turns, and it prints the median time per pattern of each, their
ratio and whether both found the same solutions to the last bit (every
field of every :class:`~skxrd.indexing.IndexingSolution`: cells, angles,
merits, zero shifts, indices and errors). Each run is a fresh process (the
first call's tables included), or, with ``--same-process``, one process holds
both versions of ``skxrd/indexing/_index.py`` (the baseline's loaded beside
this checkout's, on this checkout's other modules), builds each one's tables
first, and alternates them on the same peak lists.

Usage::

    python benchmarks/bench_indexing.py [--baseline DIR] [--repeats 3] [--step 8]
    python benchmarks/bench_indexing.py --baseline DIR --first 100 --same-process
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared/data/measured/rruff-minerals/rruff-minerals.npz"
SETTINGS = {
    "shipped models (cthoa, first_lines 2, no long axes)": {
        "families": "cthoa",
        "first_lines": 2,
        "twofold_axes": False,
        "long_axes": False,
    },
    "ctho, first_lines 2": {"families": "ctho", "first_lines": 2},
    "all 13 lattices, first_lines 4": {"families": "cthom", "first_lines": 4},
}

# run in a fresh process with the checkout under test first on sys.path; the
# versions' modules (argv[1]: label -> checkout) take turns, argv[3] repeats
_WORKER = r"""
import hashlib, importlib.util, json, sys, time
import numpy as np
versions, opts = json.loads(sys.argv[1]), json.loads(sys.argv[2])
repeats = int(sys.argv[3])
sys.path.insert(0, next(iter(versions.values())))
import skxrd.indexing._index as first
from skxrd.indexing import peak_positions
modules = {}
for i, (label, path) in enumerate(versions.items()):
    if i == 0:
        modules[label] = first
        continue
    name = f"skxrd.indexing._index_{i}"
    spec = importlib.util.spec_from_file_location(
        name, path + "/skxrd/indexing/_index.py")
    modules[label] = importlib.util.module_from_spec(spec)
    sys.modules[name] = modules[label]
    spec.loader.exec_module(modules[label])
data = np.load(opts["data"])
X = data["X"][: opts["first"]] if opts["first"] else data["X"][:: opts["step"]]
peaks = [peak_positions(data["two_theta"], np.maximum(x, 0), radiation="CuKa")
         for x in X]
peaks = [p for p in peaks if len(p) >= 8]
out = {"n": len(peaks), "runs": {label: [] for label in modules}}
def search(mod, s):
    s = dict(s)
    families = s.pop("families")
    lattices = [lat for lat in mod.ALL_LATTICE_TYPES if lat[0] in families]
    return lattices, dict(wavelength="CuKa", lattices=lattices, max_zero_shift=0.1, **s)
if len(modules) > 1:  # one process: each version's tables built before timing
    for mod in modules.values():
        for s in opts["settings"].values():
            mod.index_powder(peaks[0], **search(mod, s)[1])
for r in range(repeats):
    order = list(modules) if r % 2 == 0 else list(modules)[::-1]
    for label in order:
        mod, run = modules[label], {}
        for name, s in opts["settings"].items():
            lattices, kwargs = search(mod, s)
            digest, times = hashlib.sha1(), []
            for p in peaks:
                start = time.perf_counter()
                found = mod.index_powder(p, **kwargs)
                times.append(time.perf_counter() - start)
                for lat in lattices:
                    sol = found[lat]
                    if sol is None:
                        digest.update(lat.encode())
                        continue
                    for value in vars(sol).values():
                        digest.update(np.asarray(value).tobytes())
            run[name] = [times, digest.hexdigest()]
        out["runs"][label].append(run)
print(json.dumps(out))
"""


def _run(versions, opts, repeats):
    """The worker's output for ``versions`` (label -> checkout) in one process."""
    cmd = [
        sys.executable,
        "-c",
        _WORKER,
        json.dumps({k: str(v) for k, v in versions.items()}),
        json.dumps(opts),
        str(repeats),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"the worker failed:\n{done.stderr}")
    return json.loads(done.stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=None, help="another skxrd checkout")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--step", type=int, default=8, help="every step-th pattern")
    parser.add_argument(
        "--first",
        type=int,
        default=None,
        help="the first FIRST patterns instead of every step-th",
    )
    parser.add_argument(
        "--same-process",
        action="store_true",
        help="both versions in one process, alternating (needs --baseline)",
    )
    parser.add_argument(
        "--settings",
        nargs="+",
        type=int,
        default=None,
        help="which searches (0, 1, 2 in the order of the table; all by default)",
    )
    args = parser.parse_args(argv)
    if not DATA.is_file():
        sys.exit(f"{DATA} is missing: the RRUFF patterns are in ../shared")
    versions = {"this checkout": ROOT}
    if args.baseline:
        base = Path(args.baseline).resolve()
        if not (base / "skxrd/indexing/_index.py").is_file():
            sys.exit(f"--baseline {base}: not a skxrd checkout")
        versions["baseline"] = base
    elif args.same_process:
        sys.exit("--same-process compares two versions: give --baseline")
    names = list(SETTINGS)
    chosen = names if args.settings is None else [names[i] for i in args.settings]
    opts = {
        "data": str(DATA),
        "step": args.step,
        "first": args.first,
        "settings": {name: SETTINGS[name] for name in chosen},
    }
    runs = {v: [] for v in versions}
    if args.same_process:
        out = _run(versions, opts, args.repeats)
        n, runs = out["n"], out["runs"]
    else:
        for _ in range(args.repeats):  # alternating, so that drift hits both
            for name, path in versions.items():
                out = _run({name: path}, opts, 1)
                n = out["n"]
                runs[name].append(out["runs"][name][0])
    which = f"the first {args.first}" if args.first else f"every {args.step}th"
    how = "one process" if args.same_process else "fresh processes"
    print(f"{n} RRUFF patterns ({which}, those with 8 peaks or more); {how},")
    print(f"median over {args.repeats} repeats of each pattern's seconds, then")
    print("the median and the mean over the patterns\n")
    head = "| search | " + " | ".join(f"{v} (median / mean)" for v in versions)
    print(head + (" | ratio of means | same solutions |" if args.baseline else " |"))
    print("|---|" + "---:|" * (len(versions) + (2 if args.baseline else 0)))
    for setting in chosen:
        per = {}
        for v in versions:
            times = [r[setting][0] for r in runs[v]]
            per[v] = [statistics.median(t) for t in zip(*times)]
        row = f"| {setting} | " + " | ".join(
            f"{statistics.median(t):.3f} / {statistics.mean(t):.3f}"
            for t in per.values()
        )
        if args.baseline:
            same = {r[setting][1] for v in runs for r in runs[v]}
            ratio = statistics.mean(per["baseline"]) / statistics.mean(
                per["this checkout"]
            )
            row += f" | {ratio:.2f}x | {'yes' if len(same) == 1 else 'NO'}"
        print(row + " |")


if __name__ == "__main__":
    main()
