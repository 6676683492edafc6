"""The scripts in tools/ that a session runs as one command."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
torch = pytest.importorskip("torch")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU machine measures")
def test_gpu_check_reports_that_a_cpu_machine_has_nothing_to_measure(tmp_path):
    out = tmp_path / "report.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools/gpu_check.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.startswith("# GPU check") and "no CUDA device" in text
    assert "Nothing measured" in text


def test_gpu_check_steps_name_existing_scripts_and_fit_the_budget():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import gpu_check
    finally:
        sys.path.remove(str(ROOT / "tools"))
    assert sum(share for _, _, share in gpu_check.STEPS) <= 1.0
    for _, args, _ in gpu_check.STEPS:
        if args[0].endswith(".py"):
            assert (ROOT / args[0]).is_file(), args[0]
