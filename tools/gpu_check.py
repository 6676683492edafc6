"""Every GPU figure from one call: CUDA tests, simulator and training throughput.

For a session that is lent a GPU for a few minutes (``make gpu-check``). Runs,
each with its own time limit so that the whole stays under 8 minutes on one
H100/H200:

1. the tests marked ``cuda`` (torch simulator, augmentation, estimators on the
   GPU, a model saved on a GPU loaded on a CPU);
2. ``benchmarks/bench_simulation.py --torch``: the torch simulator on CUDA
   against pymatgen and the numpy backend;
3. ``benchmarks/bench_training.py --device cuda`` in float32, then in bf16 with
   ``compile=True``: ResNetClassifier training and inference against a plain
   torch loop.

Each step's command, exit status, seconds and output go to one Markdown report
(``--out``). Without a CUDA device nothing is measured and the report says so.

Usage::

    python tools/gpu_check.py [--out gpu_report.md] [--budget 470]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (name, command, share of the time budget)
STEPS = [
    ("CUDA tests", ["-m", "pytest", "-q", "-m", "cuda", "-p", "no:cacheprovider",
                    "tests"], 0.35),
    ("torch simulator", ["benchmarks/bench_simulation.py", "--torch", "--n", "200",
                         "--repeats", "3"], 0.25),
    ("training, float32", ["benchmarks/bench_training.py", "--device", "cuda",
                           "--precision", "float32", "--epochs", "3"], 0.2),
    ("training, bf16 + compile", ["benchmarks/bench_training.py", "--device",
                                  "cuda", "--precision", "bf16", "--compile",
                                  "--epochs", "3"], 0.2),
]  # fmt: skip


def _device_line():
    try:
        import torch
    except ImportError:
        return None, "torch is not installed"
    if not torch.cuda.is_available():
        return None, f"torch {torch.__version__}: no CUDA device"
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return names, f"torch {torch.__version__}, CUDA {torch.version.cuda}: " + ", ".join(
        names
    )


def run_step(name, args, limit):
    """(exit status, seconds, output) of one step, stopped after ``limit`` s."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=limit,
            check=False,
        )
        status, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        out = out.decode(errors="replace") if isinstance(out, bytes) else out
        status, output = "timeout", out + f"\n[stopped after {limit:.0f} s]"
    return status, time.perf_counter() - start, output


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "gpu_report.md")
    parser.add_argument(
        "--budget", type=float, default=470.0, help="seconds for all steps"
    )
    args = parser.parse_args(argv)
    if args.out.exists() and args.out.is_dir():
        sys.exit(f"--out {args.out} is a directory")
    gpus, line = _device_line()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
        text=True, check=False,
    ).stdout.strip()  # fmt: skip
    report = [
        "# GPU check",
        "",
        f"{stamp}, commit {commit or 'unknown'}, {platform.node()}; {line}",
        "",
    ]
    failed = False
    if gpus is None:
        report.append("Nothing measured: this machine has no CUDA device.")
    else:
        for name, step, share in STEPS:
            status, seconds, output = run_step(name, step, share * args.budget)
            failed |= status != 0
            print(f"{name}: exit {status}, {seconds:.0f} s", flush=True)
            tail = "\n".join(output.strip().splitlines()[-40:])
            report += [
                f"## {name}",
                "",
                f"`python {' '.join(step)}`: exit {status}, {seconds:.0f} s",
                "",
                "```",
                tail,
                "```",
                "",
            ]
    args.out.write_text("\n".join(report) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
