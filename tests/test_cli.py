import numpy as np
import pytest

from skxrd.cli import main
from skxrd.datasets import load_example_crystal


@pytest.fixture
def cifs(tmp_path):
    paths = []
    for name in ("Si", "NaCl"):
        path = tmp_path / f"{name}.cif"
        load_example_crystal(name).to_cif(path)
        paths.append(str(path))
    return paths


def test_simulate_npz_and_csv(tmp_path, cifs, capsys):
    out = tmp_path / "p.npz"
    assert (
        main(["simulate", *cifs, "-o", str(out), "--quiet", "--radiation", "MoKa"]) == 0
    )
    data = np.load(out)
    assert data["X"].shape == (2, 4250) and list(data["names"]) == ["Si", "NaCl"]
    csv = tmp_path / "p.csv"
    assert (
        main(
            [
                "simulate",
                *cifs,
                "-o",
                str(csv),
                "--quiet",
                "--radiation",
                "neutron",
                "--wavelength",
                "1.8",
            ]
        )
        == 0
    )
    table = np.loadtxt(csv, delimiter=",", skiprows=1)
    assert table.shape == (4250, 3) and table[:, 1:].max() == pytest.approx(1)
    assert "wrote 2 patterns" in capsys.readouterr().out


def test_simulate_refuses_to_overwrite(tmp_path, cifs):
    out = tmp_path / "keep.csv"
    out.write_text("precious")
    with pytest.raises(SystemExit, match="exists"):
        main(["simulate", cifs[0], "-o", str(out)])
    assert out.read_text() == "precious"
    assert main(["simulate", cifs[0], "-o", str(out), "--force", "--quiet"]) == 0


def test_simulate_bad_inputs(tmp_path, cifs, capsys):
    broken = tmp_path / "broken.cif"
    broken.write_text("data_x\n_cell_length_a 5\n")
    with pytest.raises(SystemExit, match="broken.cif"):
        main(["simulate", str(broken), "-o", str(tmp_path / "o.npz")])
    with pytest.raises(SystemExit, match=r"\.csv or \.npz"):
        main(["simulate", cifs[0], "-o", str(tmp_path / "o.txt")])
    assert (
        main(
            ["simulate", cifs[0], "-o", str(tmp_path / "o.npz"), "--radiation", "XyKa"]
        )
        == 2
    )
    assert "unknown radiation" in capsys.readouterr().err


def test_demo_writes_figures(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path)]) == 0
    for name in ("powder_patterns.png", "radiations.png", "broadening.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    assert "patterns/s" in capsys.readouterr().out
