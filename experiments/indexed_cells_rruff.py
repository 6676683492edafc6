"""The indexed cell ``skxrd predict`` prints, against the RRUFF minerals' cells.

The RRUFF labels give space groups, not cells; the reference cell is that of
the pattern's nearest AMCSD entry under the shipped search-match
(:func:`indexing_gap.reference_cases`: correlation at least the gate's
threshold, and the label's crystal system; every system here). For each such
pattern, written as an ``.xy`` file with :func:`skxrd.io.write_pattern` and
read back as ``skxrd predict`` reads it, the shipped crystal-system model
(the light Predictor ``skxrd predict`` loads) answers through the CLI's own
``_answers``, so the cell is exactly the printed one. It is compared with the
reference cell:

- ``match``: the same lattice: both cells made primitive (the printed one by
  its centring letter, the reference crystal by spglib), Niggli-reduced
  (spglib), and compared through their seven shortest lattice vectors (the
  reduced a, b, c and the shortest face diagonals: a basis-free form of the
  reduced cell, so that settings and near-90° angles do not count), each
  length within ``--tol`` (1 %);
- ``other centring``: not the same lattice, but the printed conventional cell
  is the reference's (the same test on the conventional cells);
- ``sub/supercell``: the primitive volumes in a ratio 2, 3, 4 or their
  inverses within 1 %;
- ``other``: anything else.

The reference entry is another sample of the mineral (maybe another member
of a solid solution), so a right cell can miss 1 % by a little: the
``near (3 %)`` column counts the cells that match at 3 %.
With ``--repeat N``, the wall time of ``skxrd predict`` per file (median of
N calls) for ``--n-timed`` patterns answered monoclinic (which get the
monoclinic search) and as many answered otherwise. With ``--full-search``,
the monoclinic answers' peaks are also searched with :func:`index_powder`'s
own defaults (four first lines, twofold axes, long axes), against the model's
settings that ``skxrd predict`` uses. The patterns are only looked at here;
nothing is fitted to them.

    nice .venv/bin/python experiments/indexed_cells_rruff.py --repeat 3
    nice .venv/bin/python experiments/indexed_cells_rruff.py --full-search
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "experiments"))

SYSTEMS = (
    "cubic",
    "tetragonal",
    "trigonal",
    "hexagonal",
    "orthorhombic",
    "monoclinic",
    "triclinic",
)
# conventional -> primitive basis (rows: new vectors in the old basis) of the
# printed cell's centring (skxrd.indexing: oC and mC centred on ab, hR on
# hexagonal axes, obverse)
_TO_PRIMITIVE = {
    "P": np.eye(3),
    "C": np.array([[0.5, 0.5, 0], [-0.5, 0.5, 0], [0, 0, 1]]),
    "I": np.array([[-0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.5, 0.5, -0.5]]),
    "F": np.array([[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]),
    "R": np.array([[2, 1, 1], [-1, 1, 1], [-1, -2, 1]]) / 3,
}


def shortest(lattice, n=7):
    """The ``n`` shortest lattice-vector lengths (one of each ±pair) of the
    Niggli-reduced ``lattice`` (rows)."""
    import spglib

    red = spglib.niggli_reduce(np.asarray(lattice, float))
    r = np.arange(-2, 3)
    ijk = np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)
    ijk = ijk[np.any(ijk != 0, axis=1)]
    # one of each ±pair: the first non-zero index positive
    first = ijk[np.arange(len(ijk)), np.argmax(ijk != 0, axis=1)]
    lengths = np.linalg.norm(ijk[first > 0] @ red, axis=1)
    return np.sort(lengths)[:n]


def printed_lattices(cell):
    """(primitive, conventional) lattice vectors of a printed cell record."""
    from skxrd.crystal import lattice_from_parameters

    conv = np.asarray(
        lattice_from_parameters(*(cell[k] for k in "a b c alpha beta gamma".split())),
        float,
    )
    return _TO_PRIMITIVE[cell["lattice"][1]] @ conv, conv


def reference_lattices(crystal, parameters):
    """(primitive, conventional) lattice vectors of the reference crystal:
    spglib's primitive cell, and the conventional parameters' cell."""
    import spglib

    from skxrd.crystal import lattice_from_parameters

    prim = spglib.standardize_cell(
        crystal.to_spglib_cell(), to_primitive=True, symprec=1e-3
    )
    if prim is None:
        prim = (np.asarray(crystal.lattice, float),)
    return np.asarray(prim[0], float), np.asarray(
        lattice_from_parameters(*parameters), float
    )


def compare(cell, ref, tol=0.01):
    """``(kind, primitive volume ratio)``: kind one of "match",
    "other centring", "sub/supercell", "other" (see the module's text)."""
    got_p, got_c = printed_lattices(cell)
    ref_p, ref_c = ref
    ratio = abs(np.linalg.det(got_p) / np.linalg.det(ref_p))
    if np.all(np.abs(shortest(got_p) / shortest(ref_p) - 1) <= tol):
        return "match", ratio
    if np.all(np.abs(shortest(got_c) / shortest(ref_c) - 1) <= tol):
        return "other centring", ratio
    for n in (2, 3, 4):
        for r in (n, 1 / n):
            if abs(ratio / r - 1) <= 0.01:
                return "sub/supercell", ratio
    return "other", ratio


def answer_all(refs, folder):
    """Write each case's pattern as .xy, read the files back as ``skxrd
    predict`` does and answer them with its own code: (files, results)."""
    from skxrd.cli import (
        _answers,
        _load_model,
        _max_bytes,
        _read_files,
        build_parser,
    )
    from skxrd.io import Pattern, write_pattern

    files = []
    for r in refs:
        path = Path(folder) / f"rruff_{r['index']:03d}.xy"
        pattern = Pattern(
            r["two_theta"], r["intensity"], wavelength="CuKa", name=path.stem
        )
        write_pattern(pattern, path, overwrite=True)
        files.append(str(path))
    args = build_parser().parse_args(["predict", *files])
    patterns, _ = _read_files(
        files, args.wavelength, args.axis, _max_bytes(args), args.block
    )
    model = _load_model("crystal-system", "cpu", False, light=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results, _ = _answers(model, files, patterns, args)
    return files, results, model, patterns


def full_search(model, patterns):
    """Per pattern: the best monoclinic cell record of :func:`index_powder`'s
    own defaults (four first lines, the twofold axes' candidates, long axes)
    on the peaks the model indexes, and the seconds it took."""
    from skxrd.cli import _cell_record
    from skxrd.estimators._indexing_core import (
        _indexing_rows,
        _search_settings,
        best_cell,
    )
    from skxrd.indexing import index_powder
    from skxrd.indexing._index import _indexed_rows

    ix = model._indexing
    settings = _search_settings(ix.families, ix.max_zero_shift, ix.first_lines)
    out = []
    for pattern in patterns:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X = model.transform_patterns([pattern])
        [(pos, _)] = _indexed_rows(
            _indexing_rows(X, ix.scale),
            ix.two_theta,
            radiation=ix.radiation,
            drop_kbeta=False,
            **settings,
        )
        start = time.perf_counter()
        found = index_powder(
            pos,
            wavelength=ix.radiation,
            lattices=("mP", "mC"),
            max_zero_shift=ix.max_zero_shift,
        )
        took = time.perf_counter() - start
        sol = best_cell(found, ("mP", "mC"))
        out.append((None if sol is None else _cell_record(sol), took))
    return out


def time_predict(files, repeat):
    """Median wall time of ``repeat`` ``skxrd predict FILE`` calls, per file."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "skxrd", "predict"]
    out = []
    for f in files:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run(cmd + [f], env=env, capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        out.append(statistics.median(times))
    return out


def _quartiles(x):
    if not len(x):
        return "-"
    q = np.percentile(x, [25, 50, 75])
    return f"{q[0]:.1f} / {q[1]:.1f} / {q[2]:.1f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tol", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=0, help="timed calls per file")
    parser.add_argument("--n-timed", type=int, default=10)
    parser.add_argument(
        "--full-search",
        action="store_true",
        help="also search the monoclinic answers with index_powder's defaults",
    )
    args = parser.parse_args(argv)

    from indexing_gap import reference_cases

    refs = reference_cases(systems=None)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files, results, model, patterns = answer_all(refs, tmp)
        for r, res in zip(refs, results):
            cell = res.get("cell")
            row = {
                "index": r["index"],
                "file": res["file"],
                "system": r["system"],
                "answer": res["answer"],
                "cell": cell,
                "note": res.get("cell_note"),
                "kind": "no cell",
                "ratio": np.nan,
                "near": False,
            }
            if cell is not None:
                ref = reference_lattices(r["crystal"], r["parameters"])
                row["kind"], row["ratio"] = compare(cell, ref, args.tol)
                row["near"] = compare(cell, ref, 0.03)[0] == "match"
            rows.append(row)
            c = (
                ""
                if cell is None
                else (
                    f"{cell['lattice']} {cell['a']:.3f} {cell['b']:.3f} "
                    f"{cell['c']:.3f} "
                    f"{cell['beta']:.1f} M={cell['figure_of_merit']:.1f}"
                )
            )
            p = r["parameters"]
            print(
                f"rruff {r['index']:3d} {r['system']:<12} -> {res['answer']:<12} "
                f"ref {p[0]:.3f} {p[1]:.3f} {p[2]:.3f} {p[4]:.1f} | {c or row['note']}"
                f": {row['kind']} (V x {row['ratio']:.3f})"
            )

        print(
            "\n| crystal system | answer | n | cell printed | matches | other "
            "centring | sub/supercell | other | near (3 %) |\n"
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"
        )
        for s in SYSTEMS:
            for right in (True, False):
                sel = [
                    w for w in rows if w["system"] == s and (w["answer"] == s) == right
                ]
                if not sel:
                    continue
                k = Counter(w["kind"] for w in sel)
                near = sum(w["near"] and w["kind"] != "match" for w in sel)
                print(
                    f"| {s} | {'right' if right else 'wrong'} | {len(sel)} | "
                    f"{len(sel) - k['no cell']} | {k['match']} | "
                    f"{k['other centring']} | {k['sub/supercell']} | {k['other']} | "
                    f"{near} |"
                )
        k = Counter(w["kind"] for w in rows)
        print(
            f"| all | | {len(rows)} | {len(rows) - k['no cell']} | {k['match']} | "
            f"{k['other centring']} | {k['sub/supercell']} | {k['other']} | "
            f"{sum(w['near'] and w['kind'] != 'match' for w in rows)} |"
        )

        mono = [w for w in rows if w["answer"] == "monoclinic"]
        labels = dict(Counter(w["system"] for w in mono))
        print(
            f"\nanswered monoclinic: {len(mono)} ({labels})"
            f"; cell printed {sum(w['cell'] is not None for w in mono)}"
        )
        print(
            "| answers | printed cell | n | M min | M quartiles | M < 10 | M < 20 |\n"
            "|---|---|---:|---:|---|---:|---:|"
        )
        for name, sel in (
            ("monoclinic", mono),
            ("otherwise", [w for w in rows if w["answer"] != "monoclinic"]),
        ):
            for what, kinds in (
                ("matches", ("match",)),
                ("other centring, sub/supercell", ("other centring", "sub/supercell")),
                ("other", ("other",)),
            ):
                m = np.array(
                    [w["cell"]["figure_of_merit"] for w in sel if w["kind"] in kinds]
                )
                print(
                    f"| {name} | {what} | {len(m)} | "
                    f"{m.min() if len(m) else float('nan'):.1f} | {_quartiles(m)} | "
                    f"{np.sum(m < 10)} | {np.sum(m < 20)} |"
                )

        if args.full_search:
            at = [i for i, w in enumerate(rows) if w["answer"] == "monoclinic"]
            found = full_search(model, [patterns[i] for i in at])
            kinds, took = Counter(), []
            for i, (cell, t) in zip(at, found):
                took.append(t)
                if cell is None:
                    kinds["no cell"] += 1
                    continue
                ref = reference_lattices(refs[i]["crystal"], refs[i]["parameters"])
                kind = compare(cell, ref, args.tol)[0]
                kinds[kind] += 1
                print(
                    f"full search rruff {rows[i]['index']:3d}: {cell['lattice']} "
                    f"{cell['a']:.3f} {cell['b']:.3f} {cell['c']:.3f} "
                    f"{cell['beta']:.1f} M={cell['figure_of_merit']:.1f}: {kind} "
                    f"(printed: {rows[i]['kind']})"
                )
            print(
                f"monoclinic answers, index_powder's default search: {dict(kinds)}; "
                f"median {statistics.median(took):.2f} s a pattern "
                f"(at most {max(took):.2f})"
            )

        if args.repeat:
            rng = np.random.default_rng(0)
            timed = {}
            for name, sel in (
                (
                    "answered monoclinic",
                    [w for w in rows if w["answer"] == "monoclinic"],
                ),
                (
                    "answered otherwise",
                    [w for w in rows if w["answer"] != "monoclinic"],
                ),
            ):
                pick = rng.choice(len(sel), min(args.n_timed, len(sel)), replace=False)
                timed[name] = time_predict(
                    [sel[i]["file"] for i in sorted(pick)], args.repeat
                )
            print(f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
            for name, t in timed.items():
                print(
                    f"skxrd predict, {name}: {len(t)} files, median of "
                    f"{args.repeat} calls each: median {statistics.median(t):.2f} s,"
                    f" range {min(t):.2f}-{max(t):.2f} s"
                )


if __name__ == "__main__":
    main()
