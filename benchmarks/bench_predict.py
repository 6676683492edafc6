"""Wall time of ``skxrd predict`` on one measured file, against its import floor.

A user at the instrument runs ``skxrd predict FILE`` once per pattern: a fresh
Python process that loads the shipped model and answers. Issue 18 asks for at
most 2 s on a CPU, model loading included. This benchmark times, in the same
run and alternating so that drift hits all alike, with several repeats and
the median of each:

- the import floors: ``python -c "import numpy, scipy.ndimage"``, what
  ``skxrd predict`` imports (it reads the model file and runs the ResNets
  in numpy: :mod:`skxrd.pretrained._runtime`); ``import torch``, what any torch
  program pays before its first line of work; and ``import torch,
  sklearn.pipeline``, what a program that also uses scikit-learn pays;
- ``skxrd predict FILE --model M`` for each shipped model;
- ``pipeline M``: the same answer from Python through the fitted pipeline,
  ``load_pretrained(M).predict_top_k([read_pattern(FILE)])``, in a fresh
  process (torch, scikit-learn and skorch imported);

and reports each time and its part beyond its floor (numpy and scipy for
``skxrd predict``, torch and scikit-learn for the pipeline): reading the file,
the model file, preprocessing, the network and the search-match. For a series
of measurements, ``skxrd watch FOLDER`` loads the model once: the last rows are
its answer time per file (from the file's copy into the folder to its answer
line; ``--interval 0.05`` s, so about 0.05-0.1 s of it is the waiting for the
file to stop growing), over ``--repeats`` files. The file is
a measured one from ``../shared/data/measured`` (an SSRL synchrotron powder,
NaCl at 0.7291 Å), else a simulated Cu Kα pattern written as ``.xy``.

Usage::

    python benchmarks/bench_predict.py [--repeats 7] [--models crystal-system ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SSRL = ROOT.parent / "shared/data/measured/synchrotron-ssrl/XYdata/BL21Robot_0114.xy"
FLOORS = {
    "floor": "import numpy, scipy.ndimage",
    "torch": "import torch",
    "torch + sklearn": "import torch, sklearn.pipeline",
}
PIPELINE = (
    "import skxrd, warnings; from skxrd.io import read_pattern; "
    "warnings.simplefilter('ignore'); "
    "m = skxrd.load_pretrained({model!r}, device='cpu'); "
    "print(m.predict_top_k([read_pattern({path!r}, wavelength={wavelength!r})]))"
)


def pattern_file(folder: Path) -> tuple[Path, str]:
    """A measured file and its wavelength (a simulated one if none is here)."""
    if SSRL.is_file():
        return SSRL, "0.7291367"
    import numpy as np

    from skxrd.datasets import load_example_crystal
    from skxrd.simulation import PowderSimulator

    sim = PowderSimulator(two_theta_range=(5, 90), two_theta_step=0.02)
    path = folder / "NaCl.xy"
    np.savetxt(
        path,
        np.column_stack(
            [sim.two_theta, sim.transform([load_example_crystal("NaCl")])[0]]
        ),
    )
    return path, "CuKa"


def wall(cmd: list[str]) -> float:
    """Seconds one command takes, which must succeed."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return seconds


def watch_latency(model: str, path: Path, wavelength: str, n: int) -> list[float]:
    """Seconds from copying ``path`` into a watched folder to its answer, n times."""
    with tempfile.TemporaryDirectory() as folder:
        cmd = [
            sys.executable, "-m", "skxrd", "watch", folder, "--model", model,
            "--wavelength", wavelength, "--json", "--interval", "0.05",
            "--count", str(n),
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            line = proc.stderr.readline()  # "... loaded in ... s; answering ..."
            if "loaded" not in line:
                raise RuntimeError(f"skxrd watch did not start: {line}")
            times = []
            for i in range(n):
                start = time.perf_counter()
                shutil.copy(path, Path(folder) / f"scan{i:03d}{path.suffix}")
                answer = proc.stdout.readline()
                if not answer:
                    raise RuntimeError(f"skxrd watch stopped: {proc.stderr.read()}")
                times.append(time.perf_counter() - start)
        finally:
            proc.kill()
            proc.wait()
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--models",
        nargs="+",
        default=["crystal-system", "bravais-lattice", "space-group", "structure-type"],
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path, wavelength = pattern_file(Path(tmp))
        python = sys.executable
        commands = {name: [python, "-c", code] for name, code in FLOORS.items()}
        for m in args.models:
            commands[m] = [
                python, "-m", "skxrd", "predict", str(path),
                "--wavelength", wavelength, "--model", m,
            ]  # fmt: skip
            try:  # a number in Å for read_pattern, or a radiation name
                lam = float(wavelength)
            except ValueError:
                lam = wavelength
            code = PIPELINE.format(model=m, path=str(path), wavelength=lam)
            commands[f"pipeline {m}"] = [python, "-c", code]
        for cmd in commands.values():  # warm the page cache: not timed
            wall(cmd)
        times = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, cmd in commands.items():
                times[name].append(wall(cmd))
        for m in args.models:
            times[f"watch {m}"] = watch_latency(m, path, wavelength, args.repeats)
    median = {name: statistics.median(t) for name, t in times.items()}
    print(
        f"{platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; file {path.name}; "
        f"median of {args.repeats}"
    )
    print("| command | seconds (median) | min–max | beyond the import floor |")
    print("|---|---:|---:|---:|")
    for name, t in times.items():
        if name in FLOORS:
            label, extra = f"`{FLOORS[name]}`", ""
        elif name.startswith("pipeline "):
            label = f"`load_pretrained({name[9:]!r}).predict_top_k`, fresh process"
            extra = f"{median[name] - median['torch + sklearn']:.2f}"
        elif name.startswith("watch "):
            label = f"`skxrd watch --model {name[6:]}`, per file once loaded"
            extra = ""
        else:
            label = f"`skxrd predict --model {name}`"
            extra = f"{median[name] - median['floor']:.2f}"
        print(f"| {label} | {median[name]:.2f} | {min(t):.2f}–{max(t):.2f} | {extra} |")
    return median


if __name__ == "__main__":
    main()
