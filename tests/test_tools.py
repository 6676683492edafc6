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


def test_shipped_curve_puts_the_earlier_cycles_first(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    from measured_training import history

    before = [{"cycle": 0, "cpu_hours": 0.7}, {"cycle": 1, "cpu_hours": 1.4}]
    rows = [{"cycle": 0, "cpu_hours": 0.9, "epochs": 15}]
    curve = history(rows, before, {"amcsd": 0.4, "materials_project": 0.6})
    assert curve[:2] == before
    assert curve[2] == {
        "cycle": 2,
        "cpu_hours": 2.3,
        "epochs": 15,
        "source": "40% amcsd, 60% materials project",
    }
    # a run from scratch: its own rows, numbered from 0
    assert history(rows, [], "uniform")[0]["cycle"] == 0
    assert history(rows, [], "uniform")[0]["source"] == "uniform"
