import warnings
from pathlib import Path

import numpy as np
import pytest

from skxrd.cli import main
from skxrd.crystal import Crystal
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
    lines = csv.read_text(encoding="utf-8").splitlines()
    names_row = lines.index("two_theta,Si,NaCl")  # under the commented header
    assert all(line.startswith("#") for line in lines[:names_row])
    table = np.loadtxt(csv, delimiter=",", skiprows=names_row + 1)
    assert table.shape == (4250, 3) and table[:, 1:].max() == pytest.approx(1)
    assert "wrote 2 patterns" in capsys.readouterr().out


def test_simulate_refuses_to_overwrite(tmp_path, cifs, capsys):
    # an existing output is an error in what the user gave: exit status 2, as
    # every other (it was 1, from a SystemExit), one line naming the file
    for name in ("keep.csv", "keep.npz"):
        out = tmp_path / name
        out.write_bytes(b"precious\x00\xff")
        assert main(["simulate", cifs[0], "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert err == f"skxrd simulate: -o {out} exists; use --force to replace it\n"
        assert out.read_bytes() == b"precious\x00\xff"
    assert main(["simulate", cifs[0], "-o", str(out), "--force", "--quiet"]) == 0
    assert np.load(out)["X"].shape == (1, 4250)


def test_simulate_refuses_a_broken_link(tmp_path, cifs, capsys):
    # -o naming a link to a missing file wrote the file at the link's target,
    # wherever that was; the command line now checks its outputs with the
    # library's writer check, which refuses it (exit status 2, one line)
    out = tmp_path / "p.npz"
    out.symlink_to(tmp_path / "elsewhere" / "gone.npz")
    assert main(["simulate", cifs[0], "-o", str(out), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skxrd simulate: -o {out} is a broken symbolic link")
    assert not (tmp_path / "elsewhere").exists() and out.is_symlink()


def test_simulate_bad_inputs(tmp_path, cifs, capsys):
    broken = tmp_path / "broken.cif"
    broken.write_text("data_x\n_cell_length_a 5\n")
    # exit status 2 and one line, as for every error in what the user gave
    assert main(["simulate", str(broken), "-o", str(tmp_path / "o.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skxrd simulate: ") and "broken.cif" in err
    assert err.count("\n") == 1
    assert main(["simulate", cifs[0], "-o", str(tmp_path / "o.txt")]) == 2
    assert "o.txt must end in .csv or .npz" in capsys.readouterr().err
    missing = str(tmp_path / "missing.cif")
    assert main(["simulate", missing, "-o", str(tmp_path / "o.npz")]) == 2
    assert "missing.cif" in capsys.readouterr().err
    assert not (tmp_path / "o.npz").exists()
    assert (
        main(
            ["simulate", cifs[0], "-o", str(tmp_path / "o.npz"), "--radiation", "XyKa"]
        )
        == 2
    )
    assert "unknown radiation" in capsys.readouterr().err


def test_demo_quick_writes_figures_and_model(tmp_path, capsys):
    out = tmp_path / "demo"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["demo", "-o", str(out), "--quick"]) == 0
    # loky took the first torch import of reused simulation workers for a leak
    assert not [w for w in caught if "worker stopped" in str(w.message)]
    for name in (
        "powder_patterns.png",
        "radiations.png",
        "broadening.png",
        "grid_search.png",
        "measured_saliency.png",
        "measured_confusion.png",
    ):
        assert (out / name).stat().st_size > 10_000, name
    assert (out / "crystal_system_pipeline.joblib").is_file()
    text = capsys.readouterr().out
    for step in ("[1]", "[2]", "[3]", "[4]", "[5]", "[6]", "[7]"):
        assert step in text
    assert "identical predictions: True" in text and "Apache-2.0" in text
    assert (out / ".skxrd-demo").is_file()  # a rerun may refresh this folder


def test_demo_keeps_out_of_other_folders(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("precious")
    assert main(["demo", "-o", str(tmp_path), "--quick"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "thesis.tex").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.tex"]


def test_simulate_csv_records_the_wavelength_and_reads_back(tmp_path, cifs):
    from skxrd.io import PatternFormatError, read_pattern

    one = tmp_path / "one.csv"
    assert (
        main(["simulate", cifs[0], "-o", str(one), "--quiet", "--radiation", "MoKa"])
        == 0
    )
    p = read_pattern(one)
    assert p.radiation.name == "MoKa" and p.radiation.wavelengths == (
        0.70931715,
        0.713607,
    )
    assert p.axis == "two_theta" and p.name == "Si" and p.uncertainty is None
    assert len(p) == 4250 and p.intensity.max() == pytest.approx(1)
    assert "# patterns" not in one.read_text(encoding="utf-8")
    # two patterns: the header says so, and read_pattern refuses the file
    # rather than read the second pattern as the uncertainty of the first
    two = tmp_path / "two.csv"
    assert main(["simulate", *cifs, "-o", str(two), "--quiet"]) == 0
    assert "# patterns: 2\n" in two.read_text(encoding="utf-8")
    with pytest.raises(
        PatternFormatError, match="holds 2 patterns; read_pattern reads one pattern"
    ) as info:
        read_pattern(two, wavelength="CuKa")
    assert str(two) in str(info.value)
    # three: four columns, refused for the same reason
    three = tmp_path / "three.csv"
    assert main(["simulate", *cifs, cifs[0], "-o", str(three), "--quiet"]) == 0
    with pytest.raises(PatternFormatError, match="holds 3 patterns"):
        read_pattern(three)
    npz = tmp_path / "two.npz"
    assert (
        main(["simulate", *cifs, "-o", str(npz), "--quiet", "--radiation", "MoKa"]) == 0
    )
    with np.load(npz) as data:
        assert (
            float(data["wavelength"]) == 0.70931715 and str(data["radiation"]) == "MoKa"
        )


def test_simulate_csv_quotes_names_with_commas(tmp_path, cifs):
    import csv

    comma = tmp_path / "a,b.cif"
    comma.write_text(open(cifs[0]).read())
    out = tmp_path / "p.csv"
    assert main(["simulate", str(comma), cifs[1], "-o", str(out), "--quiet"]) == 0
    lines = [x for x in out.read_text(encoding="utf-8").splitlines() if x[0] != "#"]
    header, first = next(csv.reader(lines[:1])), lines[1].split(",")
    # one name per column: unquoted, "a,b" shifted NaCl onto a column of its own
    assert header == ["two_theta", "a,b", "NaCl"] and len(first) == 3


def test_simulate_checks_its_output_before_the_work(
    tmp_path, cifs, capsys, monkeypatch
):
    from skxrd.simulation import PowderSimulator

    def never(*a, **k):
        raise AssertionError("simulated despite a bad option")

    monkeypatch.setattr(PowderSimulator, "transform", never)
    (tmp_path / "folder.npz").mkdir()
    (tmp_path / "file").write_text("a file")
    for out, extra, message in [
        (
            "folder.npz",
            ["--force"],
            "-o " + str(tmp_path / "folder.npz") + " is a folder",
        ),
        ("file/p.npz", [], "is a file, not a folder"),
        ("p.npz", ["--n-jobs", "0"], "--n-jobs must be a number of workers"),
    ]:
        assert main(["simulate", cifs[0], "-o", str(tmp_path / out), *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    assert main(["simulate", str(tmp_path), "-o", str(tmp_path / "p.npz")]) == 2
    assert "is a folder, not a CIF file" in capsys.readouterr().err


def test_simulate_makes_the_output_folder(tmp_path, cifs):
    # as skxrd train does for its model file
    out = tmp_path / "new" / "sub" / "p.npz"
    assert main(["simulate", cifs[0], "-o", str(out), "--quiet"]) == 0
    with np.load(out) as data:
        assert data["X"].shape == (1, 4250)


def _solution(lattice, merit, a, c=None, n_lines=20):
    from skxrd.indexing import IndexingSolution
    from skxrd.indexing._index import _FAMILY

    return IndexingSolution(
        lattice=lattice,
        crystal_family=_FAMILY[lattice[0]],
        a=a,
        b=a,
        c=a if c is None else c,
        figure_of_merit=merit,
        n_lines=n_lines,
        n_indexed=n_lines - 1,
        hkl=np.zeros((n_lines, 3), int),
        two_theta_error=np.zeros(n_lines),
        zero_shift=0.0123,
        gamma=120.0 if lattice[0] == "h" else 90.0,
    )


def test_a_centred_cell_gives_way_to_the_primitive_one_that_explains_more_peaks():
    from dataclasses import replace

    from skxrd.cli import _add_cells, _shown_cell

    # RRUFF 90 (Pnma): oC indexes 17 of 20 peaks (M = 63.8), oP with the same
    # lengths 19 (M = 41.5): the two peaks the C centring forbids are there
    oC = replace(_solution("oC", 63.8, 5.1), b=7.2, c=9.3, n_indexed=17)
    oP = replace(_solution("oP", 41.5, 5.1), b=9.3, c=7.2, n_indexed=19)
    cells = {"oP": oP, "oC": oC, "oI": None, "oF": None}
    family = tuple(cells)
    assert _shown_cell(cells, family) is oP
    # the Bravais-lattice model answered oC: its own cell is shown
    assert _shown_cell(cells, ("oC",)) is oC
    # the primitive cell explains one peak more (chance, often), none more,
    # or is another cell: oC stays
    assert _shown_cell({**cells, "oP": replace(oP, n_indexed=18)}, family) is oC
    assert _shown_cell({**cells, "oP": replace(oP, n_indexed=17)}, family) is oC
    assert _shown_cell({**cells, "oP": replace(oP, c=7.3)}, family) is oC
    assert _shown_cell({**cells, "oP": None}, family) is oC
    # tI against tP (RRUFF 336, rutile-like: tI leaves 111 and 210 out)
    tI = replace(_solution("tI", 189.5, 4.6, 2.96, n_lines=15), n_indexed=12)
    tP = replace(_solution("tP", 153.8, 4.6, 2.96, n_lines=15), n_indexed=14)
    results = [
        {"file": "r.xy", "reason": None, "predictions": [{"label": "tetragonal"}]}
    ]
    _add_cells(results, [(15, {"tP": tP, "tI": tI})], every_family=True)
    assert results[0]["cell"]["lattice"] == "tP"
    assert results[0]["cells"]["tetragonal"]["lattice"] == "tP"
    # a primitive cell that wins on merit is shown as before
    assert (
        _shown_cell({"tP": replace(tP, figure_of_merit=200.0), "tI": tI}, ("tP", "tI"))
        is not tI
    )


_RRUFF = (
    Path(__file__).resolve().parents[2]
    / "shared/data/measured/rruff-minerals/rruff-minerals.npz"
)


@pytest.mark.skipif(not _RRUFF.exists(), reason="the shared measured data is absent")
def test_measured_primitive_minerals_are_shown_their_primitive_cells():
    # RRUFF 90 (Pnma, a = 6.141, b = 5.179, c = 8.492 Å in its AMCSD entry) and
    # 336 (P4_2/mnm, a = 4.587, c = 2.954 Å): oC and tI win on merit with the
    # mineral's lengths, oP and tP explain two more peaks
    # (experiments/indexed_cells_rruff.py)
    from skxrd.cli import _load_model, _shown_cell
    from skxrd.io import Pattern

    with np.load(_RRUFF) as f:
        X, tt = f["X"][[90, 336]], f["two_theta"]
    model = _load_model("crystal-system", "cpu", False, light=True)
    patterns = [Pattern(tt, np.maximum(x, 0), wavelength="CuKa") for x in X]
    cells = model.cells(patterns)
    assert cells[0]["oC"].figure_of_merit > cells[0]["oP"].figure_of_merit
    shown = _shown_cell(cells[0], ("oP", "oC", "oI", "oF"))
    assert shown.lattice == "oP"
    assert sorted((shown.a, shown.b, shown.c)) == pytest.approx(
        [5.179, 6.141, 8.492], rel=0.005
    )
    assert cells[1]["tI"].figure_of_merit > cells[1]["tP"].figure_of_merit
    shown = _shown_cell(cells[1], ("tP", "tI"))
    assert shown.lattice == "tP"
    assert (shown.a, shown.c) == pytest.approx((4.587, 2.954), rel=0.005)


def test_the_cell_shown_is_the_answers_familys_or_says_why_not(capsys):
    from skxrd.cli import _add_cells, _print_answer

    # the shipped models' lattice types ("cthoa"): no monoclinic ones
    cells = dict.fromkeys(
        ["cP", "cI", "cF", "tP", "tI", "hP", "hR", "oP", "oC", "oI", "oF", "aP"]
    )
    strong = {**cells, "hP": _solution("hP", 38.2, 4.9, 5.4), "hR": None}
    weak = {**cells, "hR": _solution("hR", 6.0, 5.0, 17.0), "aP": None}
    labels = ["trigonal", "hP", "monoclinic", "orthorhombic", "cubic", 167, "NaCl"]
    found = [(20, strong), (20, strong), (20, strong), (20, strong), (5, cells)]
    found += [(20, weak), (20, weak)]
    results = [
        {
            "file": f"p{i}.xy",
            "reason": None,
            "predictions": [{"label": lab, "probability": 0.9}],
        }
        for i, lab in enumerate(labels)
    ]
    results.append({"file": "flat.xy", "reason": "flat", "predictions": []})
    _add_cells(results, [*found, (0, cells)], every_family=False)
    # trigonal: the hexagonal family's best cell; a Bravais lattice: its own
    assert results[0]["cell"]["lattice"] == "hP" and results[1]["cell"]["a"] == 4.9
    assert results[0]["cell"]["volume"] == round(4.9**2 * 5.4 * 0.75**0.5, 3)
    notes = [res.get("cell_note") for res in results]
    assert notes[2].startswith("the model indexes no monoclinic cells, only cubic")
    assert notes[3] == "no orthorhombic cell explains the 20 peaks"
    assert notes[4] == "5 peaks found; indexing needs 8"
    assert results[5]["cell"]["lattice"] == "hR"  # space group 167, R-3c
    # no crystal family in the answer, or nothing answered: nothing shown
    assert not {"cell", "cell_note"} & (set(results[6]) | set(results[7]))
    for res in results[:6]:
        _print_answer(res)
    out = capsys.readouterr().out.splitlines()
    assert (
        "  indexed cell hP  a = 4.9000, c = 5.4000 Å; M20 = 38.2, 19 of 20 lines, "
        "zero shift +0.012°" in out
    )
    assert "  no indexed cell: 5 peaks found; indexing needs 8" in out
    assert any(
        line.endswith("M20 = 6.0 (weak), 19 of 20 lines, zero shift +0.012°")
        for line in out
    )
    # --cells: the best of every family searched
    _add_cells(results[:1], found[:1], every_family=True)
    assert list(results[0]["cells"]) == [
        "cubic", "tetragonal", "hexagonal", "orthorhombic", "triclinic"
    ]  # fmt: skip
    assert results[0]["cells"]["hexagonal"] == results[0]["cell"]
    _print_answer(results[0])
    out = capsys.readouterr().out
    assert "best indexed cell of each family:\n    cubic         none\n" in out
    # nothing at all for a model that indexes nothing
    results = [{"file": "p.xy", "reason": None, "predictions": [{"label": "cubic"}]}]
    _add_cells(results, None, every_family=True)
    assert set(results[0]) == {"file", "reason", "predictions"}


def test_closest_references_are_distinct_phases():
    # a database holds many entries of one phase: --matches K lists K phases,
    # the best entry of each (a phase: the name without its trailing
    # "(entry id)", and the label: iron's bcc and fcc entries are two phases)
    from skxrd.cli import _distinct_phases

    names = [
        "Quartz, SiO2 (amcsd-1)",
        "Quartz, SiO2 (amcsd-2)",
        "Quartz, SiO2 (amcsd-3)",
        "Iron, Fe (amcsd-4)",
        "Iron, Fe (amcsd-5)",
        "Fluocerite-(La), LaF3 (amcsd-6)",
        "Fluocerite-(La), LaF3 (amcsd-7)",
        "mine",
    ]
    labels = [152, 152, 154, 229, 225, 165, 165, 1]
    sims = np.linspace(0.9, 0.2, len(names))
    kept = _distinct_phases(sims, range(len(names)), labels, names.__getitem__, 10)
    assert [j for _, j, _ in kept] == [0, 2, 3, 4, 5, 7]
    assert [lab for _, _, lab in kept] == [152, 154, 229, 225, 165, 1]
    assert [
        j for _, j, _ in _distinct_phases(sims, range(8), labels, names.__getitem__, 3)
    ] == [0, 2, 3]


def test_closest_references_of_one_mineral_spelt_two_ways_are_one_phase():
    # the AMCSD writes one mineral's formula several ways (aegirine as
    # NaFeSi2O6 and Si2FeNaO6, cooperite in four compositions): --matches 3
    # listed aegirine twice as two phases, on 82 of 228 RRUFF patterns some
    # mineral twice in the top 3
    from skxrd.cli import _distinct_phases

    names = [
        "Aegirine, NaFeSi2O6 (amcsd-0006825)",
        "Aegirine, Si2FeNaO6 (amcsd-0000336)",
        "NaVSi2O6 (amcsd-0004897)",
        "Perovskite (La, Cu, Ti), La4Cu1.92Ti2.08O12 (amcsd-0014369)",
        "Perovskite (La, Cu, Ti), La4Cu2Ti2O12 (amcsd-0014370)",
        "Sample A, batch 2",  # not a formula after the comma: names a phase
        "Sample A, batch 3",
    ]
    labels = [15, 15, 15, 221, 221, 14, 14]
    sims = np.linspace(0.9, 0.2, len(names))
    kept = _distinct_phases(sims, range(len(names)), labels, names.__getitem__, 10)
    assert [j for _, j, _ in kept] == [0, 2, 3, 5, 6]


def test_every_option_has_help_that_shows_its_default():
    # skxrd simulate --help listed --two-theta-min, --two-theta-max, --step,
    # --n-jobs and --quiet with no word, skxrd train --quiet and skxrd demo -o
    # without their defaults: a scientist read the code to learn 5°-90°
    import argparse

    from skxrd.cli import build_parser

    (sub,) = [a for a in build_parser()._actions if isinstance(a.choices, dict)]
    missing = []
    for name, parser in sub.choices.items():
        assert parser.description, f"skxrd {name} --help has no description"
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            default = action.default
            text = f"{default:g}" if isinstance(default, float) else str(default)
            if not action.help or (
                default not in (None, False) and text not in action.help
            ):
                missing.append((name, action.option_strings or action.dest))
    assert not missing, f"options without help or their default: {missing}"


def test_simulate_names_the_option_of_a_bad_setting_before_reading_cifs(
    tmp_path, capsys, monkeypatch
):
    # the simulator's errors named its parameters (two_theta_step, not
    # --step) and came after every CIF was read
    import skxrd.crystal as crystal

    def never(*args, **kwargs):
        raise AssertionError("read a CIF despite a bad option")

    monkeypatch.setattr(crystal.Crystal, "from_cif", never)
    run = ["simulate", "x.cif", "-o", str(tmp_path / "o.npz"), "--quiet"]
    for extra, start in [
        (["--step", "0"], "--step 0: two_theta_step must be a positive number"),
        (["--two-theta-min", "90", "--two-theta-max", "10"],
         "--two-theta-min 90 --two-theta-max 10: two_theta_range must be"),
        (["--crystallite-size", "-5"], "--crystallite-size -5: crystallite_size"),
        (["--radiation", "neutron"], "--radiation neutron: radiation='neutron' needs"),
        (["--wavelength", "1"], "--radiation CuKa --wavelength 1: radiation='CuKa'"),
        (["--radiation", "xray", "--wavelength", "-1"],
         "--radiation xray --wavelength -1: "),
    ]:  # fmt: skip
        assert main([*run, *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"skxrd simulate: {start}"), err
        assert len(err.splitlines()) == 1
    assert not (tmp_path / "o.npz").exists()


def test_simulate_kbeta_and_polarization_options(tmp_path, cifs, capsys):
    from skxrd.simulation import PowderSimulator

    nacl = cifs[1]
    plain, kbeta, polar = (tmp_path / f"{n}.npz" for n in ("plain", "kb", "pol"))
    assert main(["simulate", nacl, "-o", str(plain), "--quiet"]) == 0
    assert main(["simulate", nacl, "-o", str(kbeta), "--quiet", "--kbeta", "0.02"]) == 0
    assert (
        main(["simulate", nacl, "-o", str(polar), "--quiet", "--polarization", "1"])
        == 0
    )
    crystal = Crystal.from_cif(nacl)
    for path, kwargs in ((kbeta, {"kbeta": 0.02}), (polar, {"polarization": 1.0})):
        X = np.load(path)["X"]
        np.testing.assert_allclose(
            X, PowderSimulator(**kwargs).transform([crystal]), rtol=1e-6
        )
        assert not np.allclose(X, np.load(plain)["X"])
    capsys.readouterr()
    assert (
        main(
            ["simulate", nacl, "-o", str(tmp_path / "x.npz"), "--kbeta", "0.02"]
            + ["--radiation", "xray", "--wavelength", "1.54"]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("skxrd simulate: --kbeta 0.02 --radiation xray: ")
    assert "Kβ1" in err
    assert (
        main(["simulate", nacl, "-o", str(tmp_path / "y.npz"), "--polarization", "2"])
        == 2
    )
    assert capsys.readouterr().err.startswith("skxrd simulate: --polarization 2")
