"""``skxrd predict``, ``skxrd evaluate`` and ``skxrd train``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from tiny_model import TINY, to_toml

from skxrd.cli import main
from skxrd.datasets import load_example_crystal
from skxrd.io import Pattern, write_pattern
from skxrd.pretrained import load_model
from skxrd.simulation import PowderSimulator


@pytest.fixture
def files(tmp_path):
    """Two simulated 'measured' files: NaCl at Mo Kα (stated), Si at Cu Kα (not)."""
    mo = PowderSimulator(radiation="MoKa", two_theta_range=(4, 20), two_theta_step=0.01)
    nacl = Pattern(
        mo.two_theta, mo.transform([load_example_crystal("NaCl")])[0], wavelength="MoKa"
    )
    cu = PowderSimulator(two_theta_range=(10, 45), two_theta_step=0.02)
    si = cu.transform([load_example_crystal("Si")])[0]
    a, b = tmp_path / "nacl.xy", tmp_path / "si.xy"
    write_pattern(nacl, a)
    np.savetxt(b, np.column_stack([cu.two_theta, si]))  # no wavelength stated
    return str(a), str(b)


def test_predict_table_and_json(tiny, files, capsys):
    _, _, model = tiny
    assert main(["predict", files[0], "--model", str(model), "--top-k", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("nacl.xy") and len(out) == 4
    probs = [float(line.split()[-1]) for line in out[1:]]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1.0001
    args = ["predict", *files, "--model", str(model), "--json", "--wavelength", "CuKa"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in result] == list(files)
    assert all(len(r["predictions"]) == 5 for r in result)


def test_predict_reports_uncovered_range(tiny, files, capsys):
    _, _, model = tiny
    # the Si file covers 10-45° at Cu Kα; the tiny model's grid is 10-40°: covered.
    # NaCl at Mo Kα 4-20° covers 8.8-44.6° at Cu Kα: the model's 10-40° is covered
    assert (
        main(["predict", files[1], "--model", str(model), "--wavelength", "CuKa"]) == 0
    )
    assert "note" not in capsys.readouterr().err
    short = Pattern(np.linspace(20, 30, 200), np.ones(200), wavelength="CuKa")
    path = files[1].replace("si.xy", "short.xy")
    write_pattern(short, path)
    assert main(["predict", path, "--model", str(model)]) == 0
    assert "does not cover" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "nonexistent", "--wavelength", "CuKa"], "neither a pretrained"),
        (["--model", "MODEL", "--wavelength", "XyKa"], "XyKa"),
        (["--model", "MODEL"], "states no wavelength; pass --wavelength"),
    ],
)
def test_predict_bad_input_is_one_line_and_exit_2(tiny, files, capsys, args, message):
    _, _, model = tiny
    args = [str(model) if a == "MODEL" else a for a in args]
    assert main(["predict", files[1], *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("skxrd predict:") and message in err
    assert len(err.splitlines()) == 1


def test_predict_broken_file(tiny, tmp_path, capsys):
    _, _, model = tiny
    bad = tmp_path / "bad.xy"
    bad.write_text("10.0 5\n10.1 nan\n10.2 7\n")
    assert (
        main(["predict", str(bad), "--model", str(model), "--wavelength", "CuKa"]) == 2
    )
    err = capsys.readouterr().err
    assert "bad.xy" in err and len(err.strip().splitlines()) == 1


def test_predict_plot(tiny, files, tmp_path, capsys):
    _, _, model = tiny
    png = tmp_path / "saliency.png"
    args = ["predict", *files, "--model", str(model), "--wavelength", "MoKa"]
    assert main([*args, "--plot", str(png)]) == 0
    assert png.stat().st_size > 10_000
    png.write_bytes(b"keep")
    assert main([*args, "--plot", str(png)]) == 2
    assert png.read_bytes() == b"keep" and "exists" in capsys.readouterr().err


def test_predict_plot_of_unknown_answers_says_unknown(
    tiny, files, tmp_path, monkeypatch
):
    # the panels agree with the table: no saliency map of an answer not given
    import matplotlib.figure

    _, _, model = tiny
    titles = []

    def record(fig, *a, **k):
        titles.extend(ax.get_title() for ax in fig.axes)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    args = ["predict", *files, "--model", str(model), "--wavelength", "MoKa"]
    png = tmp_path / "unsure.png"
    assert main([*args, "--min-confidence", "1.0", "--plot", str(png)]) == 0
    assert len(titles) == len(files)
    assert all("unknown: the model is unsure" in t for t in titles), titles


def test_predict_plot_explains_the_answer_of_a_shipped_model(
    tmp_path, monkeypatch, capsys
):
    # ZnO: the shipped model answers 186 (search-match, indexing, priors
    # around the network), its network alone prefers another group; the
    # panel's map explains the answer printed in the table
    import matplotlib.figure

    from skxrd.datasets import load_measured_examples

    data = load_measured_examples()
    i = data.names.index("ZnO")
    titles = []
    monkeypatch.setattr(
        matplotlib.figure.Figure,
        "savefig",
        lambda fig, *a, **k: titles.extend(ax.get_title() for ax in fig.axes),
    )
    args = ["predict", str(data.files[i]), "--model", "space-group", "--top-k", "1"]
    args += [
        "--wavelength",
        str(data.patterns[i].wavelength),
        "--plot",
        str(tmp_path / "z.png"),
    ]
    assert main(args) == 0
    answer = capsys.readouterr().out.splitlines()[1].split()[1]
    assert answer == "186"
    name = Path(data.files[i]).stem
    assert titles[0].startswith(f"{name}: Saliency: class {answer}\n"), titles
    # the --top-k answers of the table under the title (always three before)
    assert titles[0].split("\n")[1].startswith("186 ") and "," not in titles[0]


def test_evaluate_labels_csv_and_npz(tiny, files, tmp_path, capsys, monkeypatch):
    pipe, _, model = tiny
    truth = pipe.predict(
        [Pattern(*np.loadtxt(files[0], unpack=True)[:2], wavelength="MoKa")]
    )[0]
    table = tmp_path / "labels.csv"
    table.write_text(
        "file,crystal_system,wavelength\n"
        f"nacl.xy,{truth},MoKa\n"
        "si.xy,,CuKa\n"  # no label: skipped
    )
    assert main(["evaluate", str(table), "--model", str(model), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 1 and report["top1"] == 1.0
    assert report["files"] == [str(tmp_path / "nacl.xy")]
    grid = pipe.steps[0][1].grid_
    X = np.random.default_rng(0).random((4, len(grid)))
    npz = tmp_path / "d.npz"
    np.savez(npz, X=X, y=pipe.predict(X))
    png = tmp_path / "confusion.png"
    args = ["evaluate", str(npz), "--model", str(model), "--plot", str(png)]
    assert main(args) == 0
    assert "4 patterns: top-1 1.000" in capsys.readouterr().out
    assert png.stat().st_size > 5_000
    # an existing figure is refused before the evaluation, and kept
    before = png.read_bytes()
    import skxrd.pretrained._evaluate as evaluate

    def fail(*args, **kwargs):
        raise AssertionError("evaluated before checking --plot")

    monkeypatch.setattr(evaluate, "evaluate_model", fail)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err == f"skxrd evaluate: --plot {png} exists; use --force to replace it\n"
    assert png.read_bytes() == before
    table.write_text("path,label\nnacl.xy,cubic\n")
    assert main(["evaluate", str(table), "--model", str(model)]) == 2
    assert "no column 'file'" in capsys.readouterr().err


def test_train_from_toml(tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text(to_toml(TINY))
    out = tmp_path / "tiny.pt"
    assert main(["train", str(config), "-o", str(out), "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out.rsplit("wrote", 1)[0])
    assert summary["n_train"] == 60 and "top1" in summary["test"]
    # an existing model file: exit status 2 (it was 1), named, and kept
    before = out.read_bytes()
    assert main(["train", str(config), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"skxrd train: -o {out} exists; use --force to replace it\n"
    assert out.read_bytes() == before
    # --resume: another max_epochs epochs from the saved weights
    more = tmp_path / "more.pt"
    args = ["train", str(config), "-o", str(more), "--quiet", "--resume", str(out)]
    assert main(args + ["--device", "cpu"]) == 0
    summary = json.loads(capsys.readouterr().out.rsplit("wrote", 1)[0])
    assert summary["n_epochs"] == 2 and summary["total_epochs"] == 4
    assert load_model(more).metadata_["resumed_from"] == str(out)
    args = ["train", str(config), "-o", str(tmp_path / "m2.pt"), "--resume", "x.pt"]
    assert main(args) == 2
    assert "--resume x.pt: no such model file" in capsys.readouterr().err
    config.write_text("target = 3\n")
    assert main(["train", str(config), "-o", str(tmp_path / "x.pt")]) == 2
    assert "tiny.toml" in capsys.readouterr().err


def test_train_checks_its_options_before_the_work(tmp_path, capsys, monkeypatch):
    # each would have been found only after the data and the training
    import skxrd.pretrained as pretrained

    def never(*a, **k):
        raise AssertionError("trained despite a bad option")

    monkeypatch.setattr(pretrained, "train_from_config", never)
    config = tmp_path / "tiny.toml"
    config.write_text(to_toml(TINY))
    run = ["train", str(config), "--quiet"]
    for out in ("m.json", "m.joblib"):
        assert main([*run, "-o", str(tmp_path / out)]) == 2
        assert "a model file is written" in capsys.readouterr().err
    (tmp_path / "ckpt").write_text("a file")
    for extra, message in [
        (["--threads", "0"], "--threads must be >= 1"),
        (["--n-jobs", "0"], "--n-jobs must be a number of workers"),
        (["--checkpoint-dir", str(tmp_path / "ckpt")], "is a file, not a folder"),
    ]:
        assert main([*run, "-o", str(tmp_path / "m.pt"), *extra]) == 2
        assert message in capsys.readouterr().err
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(b"not a model")
    resume = ["--resume", str(damaged)]
    assert main([*run, "-o", str(tmp_path / "m.pt"), *resume]) == 2
    assert "damaged.pt is not a skxrd model file" in capsys.readouterr().err
    assert main([*run, "-o", str(tmp_path / "m.pt"), "--resume", "crystal-system"]) == 2
    assert "nor a shipped model" in capsys.readouterr().err


def test_help_everywhere(capsys):
    for command in ("predict", "evaluate", "train", "simulate", "demo"):
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
        assert "usage: skxrd" in capsys.readouterr().out


def test_predict_plot_maps_the_stripped_patterns(tiny, files, tmp_path, monkeypatch):
    # --strip-kalpha2 answers the stripped pattern: the map is of it too
    from skxrd.inspection import SaliencyDisplay

    _, _, model = tiny
    mapped = []
    original = SaliencyDisplay.from_estimator.__func__

    def record(cls, estimator, X, **kwargs):
        mapped.append(X[kwargs["index"]].intensity.copy())
        return original(cls, estimator, X, **kwargs)

    monkeypatch.setattr(SaliencyDisplay, "from_estimator", classmethod(record))
    args = ["predict", files[1], "--model", str(model), "--wavelength", "CuKa"]
    assert main([*args, "--plot", str(tmp_path / "raw.png")]) == 0
    assert main([*args, "--strip-kalpha2", "--plot", str(tmp_path / "s.png")]) == 0
    raw, stripped = mapped
    assert not np.allclose(raw, stripped)


def test_predict_and_evaluate_strip_kalpha2(tiny, files, tmp_path, capsys):
    from skxrd.io import read_pattern

    _, _, model = tiny
    assert read_pattern(files[0]).radiation.name == "MoKa"  # the file names it
    args = ["predict", files[0], "--model", str(model), "--json"]
    assert main([*args, "--strip-kalpha2"]) == 0
    stripped = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    raw = json.loads(capsys.readouterr().out)
    # another anode's doublet than the model's (Cu Kα) is stripped on
    # resampling, asked or not; the model's own only when asked
    assert stripped[0]["predictions"] == raw[0]["predictions"]
    cu = ["predict", files[1], "--model", str(model), "--json", "--wavelength", "CuKa"]
    assert main([*cu, "--strip-kalpha2"]) == 0
    cu_stripped = json.loads(capsys.readouterr().out)
    assert main(cu) == 0
    cu_raw = json.loads(capsys.readouterr().out)
    assert cu_stripped[0]["predictions"] != cu_raw[0]["predictions"]
    # files without a wavelength get the named radiation of --wavelength
    args = ["predict", files[1], "--model", str(model), "--strip-kalpha2"]
    assert main([*args, "--wavelength", "CuKa"]) == 0
    assert capsys.readouterr().out.startswith(files[1])
    # a file with a bare wavelength: the error says how to name the radiation
    bare = tmp_path / "bare.xy"
    p = read_pattern(files[0])
    write_pattern(Pattern(p.x, p.intensity, wavelength=0.7093), bare)
    assert main(["predict", str(bare), "--model", str(model), "--strip-kalpha2"]) == 2
    err = capsys.readouterr().err
    assert (
        "--strip-kalpha2" in err
        and "--wavelength" in err
        and len(err.splitlines()) == 1
    )
    table = tmp_path / "labels.csv"
    table.write_text(f"file,crystal_system\n{files[0]},cubic\n")
    assert main(["evaluate", str(table), "--model", str(model), "--strip-kalpha2"]) == 0
    assert "1 patterns" in capsys.readouterr().out


def test_predict_answers_unknown_for_non_patterns(tiny, files, tmp_path, capsys):
    _, _, model = tiny
    tt = np.arange(10.0, 40.0, 0.02)
    inputs = {
        "flat": np.full_like(tt, 5.0),
        "negative": -np.exp(-0.5 * ((tt - 20) / 0.05) ** 2) - 0.2,
        "sine": np.sin(np.radians(tt) * 40) + 1.0,
        "short": None,
    }
    paths = []
    for name, y in inputs.items():
        path = tmp_path / f"{name}.xy"
        if y is None:  # a 2° scan with one peak
            x = np.arange(20.0, 22.0, 0.02)
            y, xs = np.exp(-0.5 * ((x - 21) / 0.05) ** 2), x
        else:
            xs = tt
        np.savetxt(path, np.column_stack([xs, y]))
        paths.append(str(path))
    args = ["predict", files[1], *paths, "--model", str(model), "--wavelength", "CuKa"]
    assert main(args + ["--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result[0]["answer"] != "unknown" and result[0]["reason"] is None
    reasons = {Path(r["file"]).stem: r["reason"] for r in result[1:]}
    assert all(r["answer"] == "unknown" and not r["predictions"] for r in result[1:])
    assert "flat" in reasons["flat"]
    assert "no positive intensity" in reasons["negative"]
    assert "no peak narrower" in reasons["sine"]
    assert "spans only" in reasons["short"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.count("  unknown: ") == 4
    # an unsure model: --min-confidence 1 refuses every answer, with the ranking
    assert main(args[:2] + args[-4:] + ["--min-confidence", "1", "--json"]) == 0
    [res] = json.loads(capsys.readouterr().out)
    assert res["answer"] == "unknown" and "unsure" in res["reason"]
    assert len(res["predictions"]) == 5
    assert main(args + ["--min-confidence", "2"]) == 2
    assert "--min-confidence must lie in [0, 1]" in capsys.readouterr().err


def test_predict_checks_the_plot_and_the_files_before_the_work(
    tiny, files, tmp_path, capsys, monkeypatch
):
    _, _, model = tiny
    plot = tmp_path / "exists.png"
    plot.write_bytes(b"mine")
    import skxrd.cli as cli

    def fail(*args, **kwargs):  # the model must not even be loaded
        raise AssertionError("loaded the model before checking --plot")

    monkeypatch.setattr(cli, "_load_model", fail)
    args = ["predict", files[0], "--model", str(model), "--plot", str(plot)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err == f"skxrd predict: --plot {plot} exists; use --force to replace it\n"
    assert plot.read_bytes() == b"mine"
    # a folder without pattern files: one line naming it, no traceback, and
    # no model loaded first (a folder of patterns is answered file by file)
    (tmp_path / "empty").mkdir()
    assert main(["predict", str(tmp_path / "empty"), "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert "empty is a folder without pattern files" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    # a file that states no wavelength: reported before the model is loaded
    assert main(["predict", files[1], "--model", str(model)]) == 2
    assert "states no wavelength" in capsys.readouterr().err


def test_evaluate_names_the_bad_row_of_a_label_table(tiny, files, tmp_path, capsys):
    _, _, model = tiny
    good = Path(files[0]).name
    (tmp_path / good).write_bytes(Path(files[0]).read_bytes())
    for text, message in [
        (f"label,file\ncubic,{good}\ntrigonal\n", "row 3 of "),
        (f"file,label\n{good},cubic,extra\n", "t.csv has 3 fields"),
        ("file,label\n,cubic\n", "t.csv names no file"),
    ]:
        (tmp_path / "t.csv").write_text(text)
        args = ["evaluate", str(tmp_path / "t.csv"), "--label-column", "label"]
        assert main([*args, "--model", str(model), "--wavelength", "MoKa"]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err


def test_evaluate_takes_the_label_tables_users_have(tiny, tmp_path, capsys):
    _, _, model = tiny
    sim = PowderSimulator(two_theta_range=(10, 45), two_theta_step=0.02)
    names = ["NaCl", "Si", "ZnO"]
    X = sim.transform([load_example_crystal(n) for n in names])
    (tmp_path / "XYdata").mkdir()
    for n, x in zip(names, X):
        np.savetxt(tmp_path / "XYdata" / f"{n}.xy", np.column_stack([sim.two_theta, x]))
    table = tmp_path / "labels.csv"
    table.write_text(
        "Material,Crystal System,Wavelength\n"
        "NaCl,cubic,1.5406\nSi,cubic,1.5406\nZnO,hexagonal,1.5406\n"
    )
    args = [
        "evaluate",
        str(table),
        "--model",
        str(model),
        "--json",
        "--label-column",
        "Crystal System",
        "--wavelength-column",
        "Wavelength",
    ]
    assert main(args + ["--file-template", "XYdata/{Material}.xy"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 3 and report["files"][2].endswith("ZnO.xy")
    assert main(args) == 2  # no 'file' column and no template
    err = capsys.readouterr().err
    assert "no column 'file'" in err and "--file-template" in err
    assert main(args + ["--file-template", "XYdata/{Name}.xy"]) == 2
    assert "does not fit row 2" in capsys.readouterr().err
    # an .npz of measured patterns on their own grid, labels chosen by name
    npz = tmp_path / "measured.npz"
    np.savez(
        npz,
        X=X,
        two_theta=sim.two_theta,
        wavelength=1.5406,
        crystal_system=np.array(["cubic", "cubic", "hexagonal"]),
    )
    assert (
        main(
            [
                "evaluate",
                str(npz),
                "--model",
                str(model),
                "--json",
                "--label-column",
                "crystal_system",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["n"] == 3
    assert main(["evaluate", str(npz), "--model", str(model)]) == 2
    assert "no array 'y'" in capsys.readouterr().err


def test_predict_reads_q_columns_with_axis_q(tiny, tmp_path, capsys):
    _, _, model = tiny
    sim = PowderSimulator(two_theta_range=(10, 45), two_theta_step=0.02)
    x = sim.transform([load_example_crystal("NaCl")])[0]
    q = Pattern(sim.two_theta, x, wavelength="CuKa").to_q()
    path = tmp_path / "q.xy"
    np.savetxt(path, np.column_stack([q.x * 100, x]))  # Q×100 looks like no 2θ
    assert main(["predict", str(path), "--model", str(model)]) == 2
    assert "--axis q" in capsys.readouterr().err
    np.savetxt(path, np.column_stack([q.x, x]))
    args = ["predict", str(path), "--model", str(model), "--axis", "q", "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)[0]["reason"] is None


@pytest.mark.parametrize("chunk", [2, 3, 64])
def test_many_files_are_indexed_once_each(chunk, tmp_path, capsys, monkeypatch):
    # the cells are read back from the indexing the answers did; a call of
    # more files than a cache of the last rows indexed (64) holds indexed
    # every earlier file twice, and so did a pass (the files answered at a
    # time, _ANSWER_CHUNK) longer than that cache: the pass's rows are now
    # held to its end, whatever the cache's size
    from importlib import resources

    import skxrd.cli as cli
    from skxrd.indexing import _index

    monkeypatch.setattr(cli, "_ANSWER_CHUNK", chunk)
    monkeypatch.setattr(_index, "_SOLVED_SIZE", 2)
    _index._SOLVED.clear()
    searches = []
    search = _index.index_powder
    monkeypatch.setattr(
        _index, "index_powder", lambda *a, **k: searches.append(1) or search(*a, **k)
    )
    ssrl = resources.files("skxrd.datasets").joinpath("data", "measured", "ssrl")
    x, y = np.loadtxt(ssrl.joinpath("BL21Robot_0114.xy"), unpack=True)
    rng = np.random.default_rng(0)
    files = []
    for i in range(5):  # five rows that differ: five searches
        files.append(tmp_path / f"nacl{i}.xy")
        np.savetxt(
            files[-1], np.column_stack([x, y + rng.normal(0, 1e-3 * y.max(), len(y))])
        )
    args = ["predict", *map(str, files), "--wavelength", "0.7291367", "--json"]
    assert main(args) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["cell"]["lattice"] for r in results] == ["cF"] * 5
    assert len(searches) == 5
    # the rows held for a pass are dropped after it; the cache keeps its size
    assert getattr(_index._HELD, "rows", None) is None
    assert len(_index._SOLVED) <= 2


def test_a_monoclinic_answer_gets_a_monoclinic_cell_the_model_does_not_weigh():
    # the shipped models index no monoclinic cells: a monoclinic answer (half
    # of the RRUFF minerals' answers) showed "no indexed cell"; its family is
    # now searched on the same peaks, and the cell says it was not weighed
    from skxrd.cli import (
        _add_cells,
        _cells_of_answers,
        _indexed_cells,
        _load_model,
        _weighed_families,
    )
    from skxrd.datasets import make_random_crystals

    model = _load_model("crystal-system", "cpu", False, light=True)
    crystal = make_random_crystals(
        1, space_groups=[14], n_atoms=(4, 8), random_state=1
    )[0]
    sim = PowderSimulator(two_theta_range=(5, 90), two_theta_step=0.02)
    pattern = Pattern(sim.two_theta, sim.transform([crystal])[0], wavelength="CuKa")
    results = [
        {"file": "p.xy", "reason": None, "predictions": [{"label": label}]}
        for label in ("monoclinic", "cubic")
    ]
    found = _indexed_cells(model, [pattern, pattern])
    assert not any(lat.startswith("m") for lat in found[0][1])
    searched = _cells_of_answers(model, [pattern, pattern], results, found)
    assert searched[1] is found[1]  # a cubic answer: nothing more
    _add_cells(results, searched, False, _weighed_families(model))
    cell = results[0]["cell"]
    assert cell["family"] == "monoclinic" and cell["weighed"] is False
    lengths = np.linalg.norm(crystal.lattice, axis=1)
    np.testing.assert_allclose(
        sorted([cell["a"], cell["b"], cell["c"]]), sorted(lengths), rtol=5e-3
    )
    assert cell["figure_of_merit"] > 20
    # a cubic answer keeps the model's own search: no cubic cell fits here
    assert results[1]["cell"] is None
    assert results[1]["cell_note"].startswith("no cubic cell explains the")


def test_predict_and_evaluate_read_a_powder_cif_block_with_block(
    tiny, tmp_path, capsys
):
    # a powder CIF of several patterns could be read from Python (block=) but
    # not from the command line, whose error said to pass block=
    _, _, model = tiny
    sim = PowderSimulator(two_theta_range=(10, 45), two_theta_step=0.05)
    rows = {
        name: sim.transform([load_example_crystal(name)])[0] for name in ("NaCl", "Si")
    }
    text = ""
    for name, y in rows.items():
        text += (
            f"data_{name}\n_diffrn_radiation_wavelength 1.5406\nloop_\n"
            "_pd_meas_2theta_scan\n_pd_meas_intensity_total\n"
            + "".join(f"{t:.2f} {v:.4f}\n" for t, v in zip(sim.two_theta, y))
        )
    path = tmp_path / "two.cif"
    path.write_text(text)
    assert main(["predict", str(path), "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert "2 data blocks hold powder patterns" in err and "--block" in err
    answers = []
    for block in ("Si", "data_si", "1", "NaCl", "0"):
        args = ["predict", str(path), "--model", str(model), "--block", block]
        assert main([*args, "--json"]) == 0
        answers.append(json.loads(capsys.readouterr().out)[0]["predictions"])
    assert answers[0] == answers[1] == answers[2] and answers[3] == answers[4]
    assert answers[0] != answers[3]
    assert main(["predict", str(path), "--model", str(model), "--block", "2"]) == 2
    assert "the file holds 2 pattern block(s)" in capsys.readouterr().err
    labels = tmp_path / "labels.csv"
    labels.write_text("file,crystal_system\ntwo.cif,cubic\n")
    args = ["evaluate", str(labels), "--model", str(model), "--block", "Si", "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 1


class _RunsCode:
    def __reduce__(self):
        return (print, ("code from the pickle ran",))


def test_pickled_models_load_only_with_trust_pickle(tiny, files, tmp_path, capsys):
    import joblib

    pipe, _, _ = tiny
    evil = tmp_path / "evil.joblib"
    joblib.dump(_RunsCode(), evil)
    for command in ("predict", "evaluate"):
        target = files[0] if command == "predict" else str(tmp_path / "none.csv")
        assert main([command, target, "--model", str(evil)]) == 2
        captured = capsys.readouterr()
        assert "ran" not in captured.out
        assert "--trust-pickle" in captured.err and "run any code" in captured.err
    good = tmp_path / "mine.joblib"
    joblib.dump(pipe, good)
    args = ["predict", files[0], "--model", str(good), "--top-k", "2"]
    assert main([*args, "--trust-pickle"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_predict_refuses_files_past_max_file_mb(tiny, files, capsys):
    _, _, model = tiny
    args = ["predict", files[0], "--model", str(model)]
    assert main([*args, "--max-file-mb", "0.001"]) == 2
    err = capsys.readouterr().err
    assert "nacl.xy" in err and "limit 0.001 MB" in err and "Traceback" not in err
    assert main([*args, "--max-file-mb", "0"]) == 0  # no limit
    capsys.readouterr()
    for bad in ("inf", "nan", "-1"):
        assert main([*args, "--max-file-mb", bad]) == 2
        err = capsys.readouterr().err
        assert "--max-file-mb must be a finite number >= 0" in err, bad


def test_predict_names_the_closest_reference_of_a_search_match_model(
    tiny, files, tmp_path, capsys
):
    from skxrd.crystal import to_crystal_system
    from skxrd.datasets import EXAMPLE_CRYSTALS
    from skxrd.estimators import MatchFirstClassifier, PatternMatchClassifier
    from skxrd.pretrained import PatternPipeline, save_model

    pipe, _, _ = tiny
    names = list(EXAMPLE_CRYSTALS)
    crystals = [load_example_crystal(n) for n in names]
    grid = pipe.steps[0][1].grid_
    sim = PowderSimulator(
        two_theta_range=(grid[0], grid[-1] + 0.05), two_theta_step=0.1
    )
    refs = pipe[:-1].transform(sim.transform(crystals)[:, : len(grid)])
    labels = np.asarray(to_crystal_system([c.space_group for c in crystals]))
    matcher = PatternMatchClassifier(smoothing=1.0).fit(refs, labels.astype(str))
    hybrid = MatchFirstClassifier.from_fitted(
        pipe.steps[-1][1], matcher, 0.6, reference_names=names
    )
    path = save_model(
        PatternPipeline(pipe.steps[:-1] + [("classifier", hybrid)]),
        tmp_path / "hybrid.pt",
    )
    args = ["predict", files[1], "--model", str(path), "--wavelength", "CuKa"]
    assert main(args + ["--json"]) == 0
    [res] = json.loads(capsys.readouterr().out)
    assert res["match"]["reference"] == "Si"
    assert res["match"]["similarity"] >= 0.6
    assert res["match"]["answered_by"] == "search-match"
    assert res["answer"] == "cubic"
    assert "symbol" not in res["predictions"][0]  # crystal systems have none
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "answered by search-match; closest reference Si (correlation" in out
    assert "closest references:" not in out
    # --matches K: the K closest references with their own labels (each
    # reference's, not the answer's), best first: the phases it resembles
    label_of = dict(zip(names, labels.astype(str)))
    assert main(args + ["--json", "--matches", "4"]) == 0
    [res] = json.loads(capsys.readouterr().out)
    closest = res["match"]["closest"]
    assert [c["reference"] for c in closest][0] == "Si" and len(closest) == 4
    assert all(c["label"] == label_of[c["reference"]] for c in closest)
    sims = [c["similarity"] for c in closest]
    assert sims == sorted(sims, reverse=True) and sims[0] == res["match"]["similarity"]
    assert all("symbol" not in c for c in closest)  # a model without metadata
    assert main(args + ["--json", "--matches", "1000"]) == 0  # at most all
    [res] = json.loads(capsys.readouterr().out)
    closest = res["match"]["closest"]
    assert len(closest) == len(names)
    assert all(c["label"] == label_of[c["reference"]] for c in closest)
    assert len({c["label"] for c in closest}) > 1  # not all the answer's
    assert main(args + ["--matches", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    at = out.index("  closest references:")
    assert out[at + 1].split()[1:] == ["cubic", "Si"] and len(out) > at + 3
    assert main(args + ["--matches", "0"]) == 2
    assert "--matches must be >= 1, got 0" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore:The number of unique classes")
def test_predict_shows_the_symbols_of_space_group_answers(files, tmp_path, capsys):
    from skxrd.crystal import space_group_symbol
    from skxrd.pretrained import save_model, train_from_config

    config = {**TINY, "target": "space_group"}
    pipe, report = train_from_config(config, verbose=0)
    path = save_model(pipe, tmp_path / "sg.pt", metadata=report)
    args = ["predict", files[1], "--model", str(path), "--wavelength", "CuKa"]
    assert main(args + ["--json", "--top-k", "3"]) == 0
    [res] = json.loads(capsys.readouterr().out)
    for pred in res["predictions"]:
        assert pred["symbol"] == space_group_symbol(pred["label"])
    assert main(args + ["--top-k", "3"]) == 0
    out = capsys.readouterr().out
    first = res["predictions"][0]
    assert f"{first['label']} {first['symbol']}" in out


def test_predict_names_the_bravais_lattices_of_the_shipped_model(files, capsys):
    from skxrd.crystal import BRAVAIS_LATTICES

    args = ["predict", files[1], "--model", "bravais-lattice", "--wavelength", "CuKa"]
    assert main(args + ["--json", "--top-k", "14"]) == 0
    [res] = json.loads(capsys.readouterr().out)
    names = {p["label"]: p["name"] for p in res["predictions"]}
    assert sorted(names) == sorted(BRAVAIS_LATTICES)
    assert names["cF"] == "cubic F" and names["aP"] == "triclinic P"
    assert names["mC"] == "monoclinic C" and names["hR"] == "rhombohedral"
    assert "symbol" not in res["predictions"][0]
    assert main(args) == 0
    out = capsys.readouterr().out
    first = res["predictions"][0]
    assert f"{first['label']} {first['name']}" in out


def test_predict_imports_no_simulator_nor_spglib(tiny, files):
    """skxrd predict loads what predicting needs: not the simulators and
    generators of skxrd.datasets nor spglib's tables (0.3 s of each call),
    nor scikit-learn, skorch and pandas (a second or more: a Predictor
    answers instead of the pipeline)."""
    import subprocess
    import sys

    _, _, model = tiny
    code = (
        "import sys; from skxrd.cli import main; "
        f"rc = main(['predict', {files[0]!r}, '--model', {str(model)!r}, '--json']); "
        "print([m for m in ('skxrd.datasets', 'skxrd.simulation', 'spglib', "
        "'sklearn', 'skorch', 'pandas') if m in sys.modules]); sys.exit(rc)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    answer, imported = run.stdout.strip().rsplit("\n", 1)
    assert json.loads(answer)[0]["file"] == files[0]
    assert imported == "[]"


def test_watch_once_answers_the_files_there_as_predict_does(
    tiny, files, tmp_path, capsys
):
    import shutil

    _, _, model = tiny
    folder = tmp_path / "scans"
    folder.mkdir()
    shutil.copy(files[0], folder / "a_nacl.xy")
    (folder / "b_broken.xy").write_text("2theta intensity\n10 1\n")
    (folder / "notes.log").write_text("not a pattern")  # not a pattern suffix
    args = ["--model", str(model), "--json", "--wavelength", "MoKa"]
    assert main(["watch", str(folder), "--once", *args]) == 2  # one file failed
    out, err = capsys.readouterr()
    [line] = out.splitlines()  # one JSON object per line, per answered file
    answer = json.loads(line)
    assert answer["file"] == str(folder / "a_nacl.xy")
    assert err.count("b_broken.xy") == 1 and "notes.log" not in err + out
    assert main(["predict", str(folder / "a_nacl.xy"), *args]) == 0
    [same] = json.loads(capsys.readouterr().out)
    assert same["predictions"] == answer["predictions"]


def test_watch_answers_powder_cifs_and_passes_over_structure_cifs(
    tiny, tmp_path, capsys
):
    # .cif was not watched unless --suffix .cif, and then every structure CIF
    # of the folder was an error
    import shutil

    _, _, model = tiny
    folder = tmp_path / "cifs"
    folder.mkdir()
    powder = Path(__file__).parents[1] / "io" / "data" / "tiny.cif"
    shutil.copy(powder, folder / "a_powder.cif")
    load_example_crystal("NaCl").to_cif(folder / "b_nacl.cif")
    args = ["--model", str(model), "--json"]
    assert main(["watch", str(folder), "--once", *args]) == 0
    out, err = capsys.readouterr()
    [line] = out.splitlines()
    assert json.loads(line)["file"] == str(folder / "a_powder.cif")
    said = [s for s in err.splitlines() if "b_nacl.cif" in s]
    assert said == [
        f"skxrd watch: {folder / 'b_nacl.cif'}: skipped, a structure CIF "
        "(no _pd_ data loop)"
    ]
    # --suffix .cif reads every .cif: a structure CIF is a file that failed
    assert main(["watch", str(folder), "--once", "--suffix", ".cif", *args]) == 2
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1
    assert "b_nacl.cif" in err and "a CIF of a crystal structure" in err


def test_folder_watch_waits_for_a_file_to_stop_growing_and_sees_rewrites(tmp_path):
    from skxrd.cli import _FolderWatch

    (tmp_path / "old.xy").write_text("10 1\n11 2\n")
    watch = _FolderWatch(tmp_path)
    assert watch.poll() == []  # a file there before the watch is left alone
    new = tmp_path / "new.xy"
    new.write_text("10 1\n")
    assert watch.poll() == []  # seen once: the instrument may still be writing
    with open(new, "a") as fh:
        fh.write("11 2\n")
    assert watch.poll() == []  # it grew
    assert watch.poll() == [new]
    assert watch.poll() == []  # answered
    new.write_text("10 1\n11 2\n12 3\n")  # measured again under the same name
    assert watch.poll() == [] and watch.poll() == [new]
    assert _FolderWatch(tmp_path, ignore_present=False).poll(settle=False) == [
        new,
        tmp_path / "old.xy",
    ]


def test_watch_answers_a_file_that_appears(tiny, files, tmp_path, capsys):
    import shutil
    import threading
    import time

    _, _, model = tiny
    shutil.copy(files[0], tmp_path / "before.xy")
    done = {}

    def run():
        done["rc"] = main(
            ["watch", str(tmp_path), "--model", str(model), "--json"]
            + ["--wavelength", "MoKa", "--interval", "0.05", "--count", "1"]
        )

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.5)
    shutil.copy(files[0], tmp_path / "after.xy")
    thread.join(timeout=120)
    assert done.get("rc") == 0
    out, err = capsys.readouterr()
    [line] = out.splitlines()
    assert json.loads(line)["file"] == str(tmp_path / "after.xy")
    assert "loaded in" in err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--interval", "0"], "--interval must be a finite number > 0"),
        (["--interval", "inf"], "--interval must be a finite number > 0"),
        (["--interval", "nan"], "--interval must be a finite number > 0"),
        (["--suffix", "xy"], "must start with a dot"),
        (["--count", "0"], "--count must be >= 1"),
        # checked once, not blamed on every file the watch sees
        (["--top-k", "0"], "--top-k must be >= 1"),
        (["--wavelength", "abc"], "--wavelength abc: unknown radiation"),
        (["--wavelength", "-3"], "--wavelength -3:"),
        (["--max-file-mb", "-1"], "--max-file-mb must be a finite number >= 0"),
    ],
)
def test_watch_bad_options_are_one_line_and_exit_2(
    tiny, tmp_path, capsys, extra, message
):
    _, _, model = tiny
    assert main(["watch", str(tmp_path), "--model", str(model), *extra]) == 2
    assert message in capsys.readouterr().err
    assert main(["watch", str(tmp_path / "nowhere"), "--model", str(model)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_train_resumes_an_interrupted_run(tmp_path, capsys, monkeypatch):
    from skorch.callbacks import Callback

    from skxrd.estimators._base import _NeuralClassifier

    config = tmp_path / "tiny.toml"
    config.write_text(
        to_toml({**TINY, "classifier": {**TINY["classifier"], "max_epochs": 3}})
    )
    whole = tmp_path / "whole.pt"
    assert main(["train", str(config), "-o", str(whole), "--quiet"]) == 0
    original = _NeuralClassifier._callbacks

    class Stop(Callback):  # Ctrl-C after the first epoch
        def on_epoch_end(self, net, **kwargs):
            raise KeyboardInterrupt

    monkeypatch.setattr(
        _NeuralClassifier,
        "_callbacks",
        lambda est, has_valid: [*original(est, has_valid), ("stop", Stop())],
    )
    out, ckpt = tmp_path / "run.pt", tmp_path / "ckpt"
    args = ["train", str(config), "-o", str(out), "--checkpoint-dir", str(ckpt)]
    with pytest.warns(UserWarning, match="stopped after epoch 1 of 3"):
        assert main(args) == 130
    assert "after epoch 1 of 3" in capsys.readouterr().err
    assert not out.exists()  # no model of fewer epochs
    monkeypatch.setattr(_NeuralClassifier, "_callbacks", original)
    capsys.readouterr()
    assert main(args) == 0
    assert "1 of 3 epochs done" in capsys.readouterr().err  # progress: stderr
    model, reference = load_model(out), load_model(whole)
    net = model.steps[-1][1]
    assert net.checkpoint_dir is None  # the model file keeps no local folder
    assert model.metadata_["n_epochs"] == model.metadata_["total_epochs"] == 3
    crystal = load_example_crystal("NaCl")
    sim = PowderSimulator(two_theta_range=(10.0, 40.0), two_theta_step=0.1)
    X = sim.transform([crystal])
    np.testing.assert_array_equal(model.predict_proba(X), reference.predict_proba(X))
    # a finished network: the rerun trains no epoch, only what follows it
    again = tmp_path / "again.pt"
    assert (
        main(["train", str(config), "-o", str(again), "--checkpoint-dir", str(ckpt)])
        == 0
    )
    assert "3 of 3 epochs done (finished)" in capsys.readouterr().err
    np.testing.assert_array_equal(
        load_model(again).predict_proba(X), reference.predict_proba(X)
    )


def test_train_refuses_a_folder_as_output_before_the_work(
    tmp_path, capsys, monkeypatch
):
    # found only when the model was saved, after the training, which was lost
    import skxrd.pretrained as pretrained

    def never(*a, **k):
        raise AssertionError("trained despite a bad output")

    monkeypatch.setattr(pretrained, "train_from_config", never)
    config = tmp_path / "tiny.toml"
    config.write_text(to_toml(TINY))
    (tmp_path / "m.pt").mkdir()
    args = ["train", str(config), "-o", str(tmp_path / "m.pt"), "--force", "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "m.pt is a folder" in err and "Traceback" not in err


def test_train_resume_of_another_grid_or_target_fails_before_the_data(
    tiny, tmp_path, capsys, monkeypatch
):
    import skxrd.pretrained as pretrained

    def never(*a, **k):
        raise AssertionError("generated the data despite a foreign --resume")

    monkeypatch.setattr(pretrained, "train_from_config", never)
    _, _, model = tiny  # 10-40° in steps of 0.1°, crystal systems
    config = tmp_path / "c.toml"
    for change, message in [
        # the same number of points: it would have trained on, silently
        (
            {"simulator": {"two_theta_range": [20.0, 50.0], "two_theta_step": 0.1}},
            "does not read patterns as the config's pipeline does: resample "
            "two_theta=(10.0, 40.0, 0.1) (config: (20.0, 50.0, 0.1))",
        ),
        ({"target": "space_group"}, "not labels of the config's train_target"),
    ]:
        config.write_text(to_toml({**TINY, **change}))
        args = ["train", str(config), "-o", str(tmp_path / "m.pt"), "--quiet"]
        assert main([*args, "--resume", str(model)]) == 2
        err = capsys.readouterr().err
        assert f"--resume {model}" in err and message in err, err


def test_train_resume_with_other_class_weights_says_so_once(tmp_path, capsys):
    # the CLI's check and the training's own check of the same file each
    # warned: the same warning twice, the second without "--resume"
    weighted, plain = tmp_path / "weighted.toml", tmp_path / "plain.toml"
    net = {**TINY["classifier"], "max_epochs": 1}
    weighted.write_text(
        to_toml({**TINY, "classifier": {**net, "class_weight": "balanced"}})
    )
    plain.write_text(to_toml({**TINY, "classifier": net}))
    model = tmp_path / "m.pt"
    assert main(["train", str(weighted), "-o", str(model), "--quiet"]) == 0
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        args = ["train", str(plain), "-o", str(tmp_path / "m2.pt"), "--quiet"]
        assert main([*args, "--resume", str(model)]) == 0
    capsys.readouterr()
    about = [str(w.message) for w in said if "class_weight" in str(w.message)]
    assert len(about) == 1, about
    assert about[0].startswith(f"--resume {model} was trained with class_weight=")


def test_evaluate_reads_or_refuses_data_files_in_one_line(tiny, tmp_path, capsys):
    pipe, _, model = tiny
    run = ["--model", str(model)]
    X = np.random.default_rng(0).random((3, len(pipe.steps[0][1].grid_)))
    upper = tmp_path / "D.NPZ"  # as some tools name them
    with open(upper, "wb") as fh:
        np.savez(fh, X=X, y=pipe.predict(X))
    assert main(["evaluate", str(upper), *run, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["top1"] == 1.0
    (tmp_path / "text.npz").write_text("file,label\n")
    (tmp_path / "model.csv").write_bytes(Path(model).read_bytes())
    (tmp_path / "unlabelled.csv").write_text("file,crystal_system\nsi.xy,\n")
    objects = tmp_path / "objects.npz"
    np.savez(objects, X=X, y=np.array(["cubic", None, "cubic"], dtype=object))
    for data, message in [
        (tmp_path, "is a folder, not a labels CSV or .npz"),
        (tmp_path / "text.npz", "text.npz is not an .npz file"),
        (tmp_path / "model.csv", "model.csv is not a labels CSV"),
        (tmp_path / "unlabelled.csv", "none of its 1 rows has a label"),
        (objects, "store the labels as strings or numbers"),
    ]:
        assert main(["evaluate", str(data), *run]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
        assert "allow_pickle" not in err.replace("allow_pickle=False", ""), err


def test_top_k_and_plot_are_checked_before_the_work(
    tiny, files, tmp_path, capsys, monkeypatch
):
    pipe, _, model = tiny
    X = np.random.default_rng(0).random((3, len(pipe.steps[0][1].grid_)))
    npz = tmp_path / "d.npz"
    np.savez(npz, X=X, y=pipe.predict(X))
    predict = ["predict", files[0], "--model", str(model)]
    evaluate = ["evaluate", str(npz), "--model", str(model)]
    for args in (predict, evaluate):
        assert main([*args, "--top-k", "0"]) == 2
        assert "--top-k must be >= 1, got 0" in capsys.readouterr().err
    # a plot matplotlib cannot write, or a folder, was found after the work
    (tmp_path / "figs").mkdir()
    import skxrd.pretrained._evaluate as evaluate_module

    real = evaluate_module.evaluate_model

    def never(*a, **k):
        raise AssertionError("evaluated despite a bad --plot")

    monkeypatch.setattr(evaluate_module, "evaluate_model", never)
    for plot, message in [
        ("out.txt", "matplotlib writes no .txt figures"),
        ("figs", "is a folder"),
    ]:
        for args in (predict, evaluate):
            assert main([*args, "--plot", str(tmp_path / plot), "--force"]) == 2
            err = capsys.readouterr().err
            assert message in err and "Traceback" not in err, err
    assert not (tmp_path / "out.txt").exists()
    # a new folder is made for the figure, as for skxrd train's model file
    monkeypatch.setattr(evaluate_module, "evaluate_model", real)
    png = tmp_path / "new" / "confusion.png"
    assert main([*evaluate, "--plot", str(png)]) == 0
    assert png.stat().st_size > 5_000


def test_train_device_is_checked_before_the_data(tmp_path, capsys, monkeypatch):
    # cuda:99: absent with or without CUDA; found after the data before
    import skxrd.pretrained as pretrained

    def never(*a, **k):
        raise AssertionError("generated the data despite a bad --device")

    monkeypatch.setattr(pretrained, "train_from_config", never)
    config = tmp_path / "tiny.toml"
    config.write_text(to_toml(TINY))
    run = ["train", str(config), "-o", str(tmp_path / "m.pt"), "--quiet"]
    for device, message in [("cuda:99", "requested but"), ("gpu", "unknown torch")]:
        assert main([*run, "--device", device]) == 2
        err = capsys.readouterr().err
        assert f"--device {device}: " in err and message in err, err


def test_predict_and_watch_show_the_indexed_cell_of_the_answer(tiny, tmp_path, capsys):
    # NaCl at SSRL (a = 5.6411 Å in its label table): the shipped models
    # index it on their way to the answer; the cell comes with the answer
    from importlib import resources

    folder = tmp_path / "scans"
    folder.mkdir()
    nacl = folder / "nacl.xy"
    ssrl = resources.files("skxrd.datasets").joinpath("data", "measured", "ssrl")
    nacl.write_bytes(ssrl.joinpath("BL21Robot_0114.xy").read_bytes())
    args = ["predict", str(nacl), "--wavelength", "0.7291367", "--top-k", "1"]
    assert main(args) == 0  # crystal-system
    out = capsys.readouterr().out
    assert "  indexed cell cF  a = 5.64" in out and "lines, zero shift" in out
    assert main(args + ["--model", "space-group", "--json", "--cells"]) == 0
    [res] = json.loads(capsys.readouterr().out)
    assert res["predictions"][0]["label"] == 225
    cell = res["cell"]
    assert set(cell) == {
        "lattice", "family", "a", "b", "c", "alpha", "beta", "gamma", "volume",
        "figure_of_merit", "n_indexed", "n_lines", "zero_shift", "weighed",
    }  # fmt: skip
    assert cell["weighed"] is True  # a cubic cell: the model weighs its merit
    assert cell["lattice"] == "cF" and cell["family"] == "cubic"
    assert abs(cell["a"] / 5.6411 - 1) < 0.005 and cell["a"] == cell["c"]
    assert cell["figure_of_merit"] > 20 and cell["n_indexed"] == cell["n_lines"] >= 8
    assert abs(cell["zero_shift"]) <= 0.1
    assert cell["volume"] == pytest.approx(cell["a"] ** 3, rel=1e-4)
    # --cells: every family, the monoclinic one too (searched for --cells:
    # the shipped models weigh no monoclinic merits)
    families = ["cubic", "tetragonal", "hexagonal", "orthorhombic", "monoclinic"]
    assert list(res["cells"]) == [*families, "triclinic"]
    assert res["cells"]["cubic"] == cell
    assert [c["weighed"] for c in res["cells"].values() if c] == [
        f != "monoclinic" for f, c in res["cells"].items() if c
    ]
    # the Bravais-lattice model: the answer's own lattice type
    assert main(args + ["--model", "bravais-lattice", "--json"]) == 0
    [res] = json.loads(capsys.readouterr().out)
    assert res["answer"] == "cF" and res["cell"] == cell and "cells" not in res
    # skxrd watch answers alike
    watch = ["watch", str(folder), "--once", "--json", "--wavelength", "0.7291367"]
    assert main(watch) == 0
    assert json.loads(capsys.readouterr().out)["cell"] == cell
    # a model that indexes nothing shows nothing new, --cells or not
    assert main(args + ["--model", str(tiny[2]), "--json", "--cells"]) == 0
    [res] = json.loads(capsys.readouterr().out)
    assert not {"cell", "cells", "cell_note"} & set(res)


def test_matches_of_the_structure_type_model_are_its_space_group_models(capsys):
    # the structure-type model has no search-match of its own: the
    # space-group model that weighs it has one, and --matches K printed
    # nothing; it lists that search-match's K closest references (the same
    # library, not a second copy), its labels' space-group symbols too
    from skxrd.datasets import load_measured_examples

    data = load_measured_examples()
    picked = [data.names.index("ZnO"), data.names.index("LaB6")]
    files = [str(data.files[i]) for i in picked]
    wavelength = str(data.patterns[picked[0]].wavelength)  # both SSRL, one λ
    args = ["predict", *files, "--wavelength", wavelength, "--matches", "3"]
    assert main([*args, "--model", "space-group", "--json"]) == 0
    space_group = json.loads(capsys.readouterr().out)
    assert main([*args, "--model", "structure-type", "--json"]) == 0
    out, err = capsys.readouterr()
    structure = json.loads(out)
    assert "no search-match" not in err
    for st, sg in zip(structure, space_group):
        match = st["match"]
        assert len(match["closest"]) == 3
        assert match["closest"] == sg["match"]["closest"]
        assert all(c["symbol"] for c in match["closest"])  # space-group labels
        assert match["reference"] == sg["match"]["reference"]
        # the structure type is the union network's answer, weighed by the
        # space-group model (whose own part that answered is named)
        assert match["answered_by"] == "network"
        assert match["weighed_by"] == sg["match"]["answered_by"]
    assert structure[0]["match"]["weighed_by"] == "search-match"  # ZnO
    assert main([*args, "--model", "structure-type"]) == 0
    out = capsys.readouterr().out.splitlines()
    at = out.index("  closest references:")
    assert out[at - 1].startswith(
        "  answered by network, weighed by a space-group model's search-match; "
        "closest reference "
    )
    first = structure[0]["match"]["closest"][0]
    assert out[at + 1].split()[:3] == [
        f"{first['similarity']:.3f}",
        str(first["label"]),
        first["symbol"],
    ]


def test_matches_of_a_model_without_a_search_match_say_so(tiny, files, capsys):
    # --matches K of a model without a search-match printed nothing at all;
    # now one note says why (on stderr: the JSON stays JSON)
    _, _, model = tiny
    args = ["predict", files[0], "--model", str(model)]
    assert main(args) == 0
    assert "search-match" not in capsys.readouterr().err  # not asked: no note
    assert main([*args, "--matches", "3", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "match" not in json.loads(out)[0]
    note = "--matches 3: the model has no search-match against reference patterns"
    assert err.count(note) == 1, err
    two = ["predict", *files, "--model", str(model), "--wavelength", "CuKa"]
    assert main([*two, "--matches", "2"]) == 0
    assert capsys.readouterr().err.count("no search-match") == 1  # once, not per file
    folder = Path(files[0]).parent  # the two files: watch says it once too
    watch = ["watch", str(folder), "--once", "--model", str(model), "--matches", "2"]
    assert main([*watch, "--wavelength", "CuKa"]) == 0
    out, err = capsys.readouterr()
    assert err.count("no search-match") == 1 and "si.xy" in out


def test_predict_answers_the_good_files_of_a_batch_with_a_bad_one(
    tiny, files, tmp_path, capsys, monkeypatch
):
    # a truncated or missing file among many cost every answer: nothing was
    # printed but its error. The others are answered, each bad file is named
    # in one line on stderr, and the exit status is 2
    _, _, model = tiny
    bad = tmp_path / "bad.xy"
    bad.write_text("garbage\n")
    missing = str(tmp_path / "missing.xy")
    run = ["--model", str(model), "--wavelength", "MoKa", "--top-k", "2"]
    assert main(["predict", files[0], str(bad), missing, *run]) == 2
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == files[0] and len(out.splitlines()) == 3
    assert err.splitlines() == [
        f"skxrd predict: {bad}: no numeric data lines",
        f"skxrd predict: {missing}: no such file",
    ]
    # JSON: one entry per file given, in order, a bad one with its error
    assert main(["predict", str(bad), files[0], *run, "--json"]) == 2
    got = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in got] == [str(bad), files[0]]
    assert got[0] == {"file": str(bad), "error": f"{bad}: no numeric data lines"}
    assert "error" not in got[1] and len(got[1]["predictions"]) == 2
    # the same file twice: answered twice
    assert main(["predict", files[0], files[0], *run]) == 0
    assert capsys.readouterr().out.count(files[0]) == 2
    # --strip-kalpha2 of a file of a bare wavelength: that file only
    synchrotron = tmp_path / "synchrotron.xy"
    write_pattern(Pattern(np.linspace(5, 25, 500), np.ones(500), wavelength=0.5),
                  synchrotron)  # fmt: skip
    strip = ["--model", str(model), "--strip-kalpha2", "--top-k", "1"]
    assert main(["predict", str(synchrotron), files[0], *strip]) == 2
    out, err = capsys.readouterr()
    assert out.startswith(files[0]) and "synchrotron" not in out
    assert err.startswith(f"skxrd predict: --strip-kalpha2: {synchrotron} has no")

    # no file readable: no model loaded, and the JSON says why for each
    import skxrd.cli as cli

    def fail(*args, **kwargs):
        raise AssertionError("loaded the model with no file to answer")

    monkeypatch.setattr(cli, "_load_model", fail)
    assert main(["predict", str(bad), missing, *run, "--json"]) == 2
    out, err = capsys.readouterr()
    assert [r["file"] for r in json.loads(out)] == [str(bad), missing]
    assert len(err.splitlines()) == 2


def test_evaluate_names_the_wrong_array_of_an_npz(tiny, tmp_path, capsys):
    # each was a traceback (exit status 1), or a message about another array
    # or none naming the file
    pipe, _, model = tiny
    tt = np.linspace(10, 40, 301)
    X = np.random.default_rng(0).random((3, len(tt))) + np.exp(
        -(((tt - 25) / 0.2) ** 2)
    )
    y = np.array(["cubic", "cubic", "hexagonal"])
    layouts = {
        "wavelengths.npz": (
            {"wavelength": [1.54, 1.54, 1.54]},
            "wavelength must be one",
        ),
        "text.npz": ({"X": np.full(X.shape, "a")}, "X must be a 2-D array of numbers"),
        "row.npz": ({"X": X[0], "y": y[:1]}, "X must be a 2-D array of numbers"),
        "labels.npz": ({"y": y.reshape(3, 1)}, "y must be a 1-D array of one label"),
        "short.npz": ({"y": y[:2]}, "y must be a 1-D array of one label per row"),
        "grid.npz": ({"two_theta": tt[None]}, "two_theta must be a 1-D array"),
        "nan.npz": ({"X": np.where(tt < 11, np.nan, X)}, "row 0 of X: intensity"),
        "name.npz": ({"wavelength": "CuKb"}, "wavelength 'CuKb': unknown radiation"),
    }
    for name, (change, message) in layouts.items():
        arrays = {"X": X, "y": y, "two_theta": tt, "wavelength": 1.5406} | change
        np.savez(tmp_path / name, **arrays)
        assert main(["evaluate", str(tmp_path / name), "--model", str(model)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"skxrd evaluate: {tmp_path / name}"), err
        assert message in err and len(err.splitlines()) == 1, err
    # rows on another grid than the model's, without two_theta: say what to add
    np.savez(tmp_path / "nogrid.npz", X=X, y=y)
    assert main(["evaluate", str(tmp_path / "nogrid.npz"), "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert "has no two_theta array" in err and "grid of 300 points; X has 301" in err, (
        err
    )
    # a radiation's name as the wavelength is read; the readers' warnings are
    # notes of skxrd evaluate, not Python's warnings
    np.savez(tmp_path / "ok.npz", X=X, y=y, two_theta=tt, wavelength="CuKa")
    np.savez(tmp_path / "mean.npz", X=X, y=y, two_theta=tt, wavelength=1.5418)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("ok.npz", "mean.npz"):
            path = str(tmp_path / name)
            assert main(["evaluate", path, "--model", str(model), "--json"]) == 0
            out, err = capsys.readouterr()
            assert json.loads(out)["n"] == 3
    assert "skxrd evaluate: note: wavelength 1.5418" in err


def test_predict_watch_and_evaluate_name_a_bad_device_before_the_work(
    files, tmp_path, capsys, monkeypatch
):
    # the error came from the model's loading, after every file was read,
    # and did not say it was --device's ("device 'gpu' ..." or, with a bad
    # file, the file's error only)
    import skxrd.cli as cli

    def never(*args, **kwargs):
        raise AssertionError("read the files or the model despite a bad --device")

    monkeypatch.setattr(cli, "_read_files", never)
    monkeypatch.setattr(cli, "_load_model", never)
    np.savez(tmp_path / "d.npz", X=np.ones((2, 10)), y=np.array(["cubic", "cubic"]))
    for device in ("gpu", "cuda:99"):  # unknown, and absent with or without CUDA
        for command in (
            ["predict", files[0]],
            ["watch", str(tmp_path), "--once"],
            ["evaluate", str(tmp_path / "d.npz")],
        ):
            assert main([*command, "--device", device]) == 2
            err = capsys.readouterr().err
            assert err.startswith(f"skxrd {command[0]}: --device {device}: "), err
            assert len(err.splitlines()) == 1


def test_predict_answers_the_pattern_files_of_a_folder_or_a_pattern(
    tiny, files, tmp_path, capsys
):
    # a folder was "is a directory, not a pattern file", and '*.xy' (as
    # Windows' shells pass it on) "no such file"
    _, _, model = tiny
    load_example_crystal("Si").to_cif(tmp_path / "si.cif")  # a structure: passed over
    (tmp_path / "notes.md").write_text("not a pattern")  # no pattern suffix
    run = ["--model", str(model), "--wavelength", "MoKa", "--top-k", "1", "--json"]
    assert main(["predict", str(tmp_path), *run]) == 0
    out, err = capsys.readouterr()
    assert [r["file"] for r in json.loads(out)] == list(files)  # in name order
    skipped = f"{tmp_path / 'si.cif'}: skipped, a structure CIF (no _pd_ data loop)"
    assert err.splitlines()[0] == f"skxrd predict: {skipped}"
    pattern = str(tmp_path / "*.xy")
    assert main(["predict", pattern, str(tmp_path / "n*.txt"), *run]) == 2
    out, err = capsys.readouterr()
    got = json.loads(out)
    assert [r["file"] for r in got] == [*files, str(tmp_path / "n*.txt")]
    assert got[2]["error"] == f"{tmp_path / 'n*.txt'}: no file matches"
    assert err.splitlines()[0] == f"skxrd predict: {got[2]['error']}"


def test_train_prints_its_summary_alone_on_stdout(tmp_path, capsys):
    # skorch's epoch table (with colour codes) and "wrote FILE" were on
    # stdout around the JSON summary: skxrd train ... > summary.json wrote
    # a file no JSON reader takes
    config = tmp_path / "tiny.toml"
    config.write_text(to_toml(TINY))
    out = tmp_path / "tiny.pt"
    assert main(["train", str(config), "-o", str(out)]) == 0
    stdout, stderr = capsys.readouterr()
    summary = json.loads(stdout)
    assert summary["n_epochs"] == 2 and "top1" in summary["test"]
    assert "train_loss" in stderr and stderr.rstrip().endswith(f"wrote {out}")


def test_train_names_an_unknown_simulator_or_classifier_key(tmp_path, capsys):
    # a typo in [simulator] or [classifier] was Python's "PowderSimulator.
    # __init__() got an unexpected keyword argument 'two_theta_stp'", naming
    # neither the section nor the keys it could be
    for section, typo, start in [
        ("simulator", "two_theta_stp", "unknown [simulator] keys ['two_theta_stp']"),
        ("classifier", "max_epoch", "unknown [classifier] keys ['max_epoch']"),
    ]:
        config = tmp_path / f"{section}.toml"
        config.write_text(to_toml({**TINY, section: {**TINY[section], typo: 1}}))
        out = tmp_path / "m.pt"
        assert main(["train", str(config), "-o", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"skxrd train: config {config}: {start}"), err
        assert "known: [" in err and len(err.splitlines()) == 1
        assert not out.exists()
    member = {"type": "UnionClassifier", "member": {**TINY["classifier"], "dept": 2}}
    config = tmp_path / "union.toml"
    config.write_text(to_toml({**TINY, "classifier": {"type": "UnionClassifier"}})
                      + "[classifier.member]\n"
                      + "".join(f"{k} = {json.dumps(v)}\n"
                                for k, v in member["member"].items()))  # fmt: skip
    assert main(["train", str(config), "-o", str(tmp_path / "m.pt")]) == 2
    assert "unknown [classifier.member] keys ['dept']" in capsys.readouterr().err


def test_predict_csv_has_a_row_per_file_and_the_same_columns_as_json(
    tiny, files, tmp_path, capsys
):
    # there was no table for spreadsheets: --json only
    import csv
    import io

    _, _, model = tiny
    bad = tmp_path / "bad.xy"
    bad.write_text("garbage\n")
    run = ["predict", files[0], str(bad), files[1], "--model", str(model)]
    run += ["--wavelength", "MoKa", "--top-k", "2"]
    assert main([*run, "--csv"]) == 2
    out, err = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert main([*run, "--json"]) == 2
    answers = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in rows] == [a["file"] for a in answers]
    assert list(rows[0])[:7] == [
        "file", "answer", "reason", "error", "label_1", "name_1", "probability_1"
    ]  # fmt: skip
    assert {"reference", "answered_by", "cell_lattice", "cell_a"} <= set(rows[0])
    for row, answer in zip(rows, answers):
        if "error" in answer:
            assert row["error"] == answer["error"] and row["answer"] == ""
            continue
        assert row["answer"] == answer["answer"] and row["error"] == ""
        for rank, pred in enumerate(answer["predictions"], 1):
            assert row[f"label_{rank}"] == pred["label"]
            assert float(row[f"probability_{rank}"]) == pred["probability"]
        assert row["reference"] == ""  # the tiny model has no search-match
    assert err.splitlines()[0] == f"skxrd predict: {bad}: no numeric data lines"
    with pytest.raises(SystemExit) as info:
        main([*run, "--csv", "--json"])
    assert info.value.code == 2
