"""The scripts in tools/ that a session runs as one command."""

import subprocess
import sys
from pathlib import Path

import numpy as np
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
    gpu_check = _tool("gpu_check")
    assert sum(share for _, _, share in gpu_check.STEPS) <= 1.0
    for _, args, _ in gpu_check.STEPS:
        if args[0].endswith(".py"):
            assert (ROOT / args[0]).is_file(), args[0]


def _tool(name):
    """A script of tools/ imported as a module (tools/ is not a package)."""
    import importlib

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "tools"))


def _gpu_train():
    return _tool("gpu_train")


def test_gpu_train_plans_the_epochs_that_fit_the_time_left():
    plan = _gpu_train().plan_epochs
    # the H200 run of the GPU config: 200,000 patterns at ~14,000 per second
    epochs, epoch_s = plan(200_000, 14_000, 30_000, 250.0, 0.05, 40)
    assert epochs * epoch_s <= 250.0 - 200_000 / 30_000 - 20.0
    assert (epochs + 1) * epoch_s > 250.0 - 200_000 / 30_000 - 20.0
    assert plan(200_000, 14_000, 30_000, 1e6, 0.05, 40)[0] == 40  # the cap
    assert plan(200_000, 14_000, 30_000, 10.0, 0.05, 40)[0] == 0  # no time
    # twice the rate, about twice the epochs
    faster, _ = plan(200_000, 28_000, 30_000, 250.0, 0.05, 40)
    assert faster in (2 * epochs, 2 * epochs + 1)


def test_gpu_train_deadline_ends_training_after_the_epoch_past_it():
    import time

    from skxrd.estimators import CNNClassifier

    gpu_train = _gpu_train()
    rng = np.random.default_rng(0)
    X = rng.random((40, 64)).astype(np.float32)
    y = np.repeat([0, 1], 20)

    def fit():
        clf = CNNClassifier(
            channels=[2], max_epochs=4, validation_fraction=None, random_state=0
        )
        return clf.fit(X, y).n_epochs_

    with gpu_train.deadline(time.monotonic() - 1.0):
        assert fit() == 1
    assert fit() == 4  # the callback is gone after the block


def test_gpu_train_refuses_a_structure_type_union(tmp_path, capsys):
    # a union's members train one after another: the planner does not cover it
    config = ROOT / "skxrd/pretrained/configs/gpu/structure-type.toml"
    with pytest.raises(SystemExit):
        _gpu_train().main([str(config), "--out", str(tmp_path), "--device", "cpu"])
    assert "skxrd train CONFIG --device cuda" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


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


@pytest.mark.filterwarnings("ignore:The number of unique classes")
def test_reference_names_rewrites_names_and_keeps_the_answers(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    sys.path.insert(0, str(ROOT / "tests" / "pretrained"))
    try:
        import reference_names
        from tiny_model import TINY
    finally:
        sys.path.remove(str(ROOT / "tools"))
        sys.path.remove(str(ROOT / "tests" / "pretrained"))
    import numpy as np

    from skxrd.datasets import load_example_crystal
    from skxrd.estimators._match import search_match_of
    from skxrd.pretrained import load_model, save_model, train_from_config

    assert reference_names.reference_id("Galena, PbS (amcsd-3)") == "amcsd-3"
    assert reference_names.reference_id("amcsd-3") == "amcsd-3"
    with pytest.raises(ValueError, match="view of another model file"):
        reference_names.rename(tmp_path / "crystal-system.json")
    folder = tmp_path / "refs"
    folder.mkdir()
    for name in ("NaCl", "Si", "TiO2-rutile"):
        load_example_crystal(name).to_cif(folder / f"{name}.cif")
    match = {"source": str(folder), "smoothing": 1.0, "stride": 2}
    match.update(n_tune=10, random_state=1)
    config = {**TINY, "train_target": "space_group", "match": match}
    pipe, report = train_from_config(config, verbose=0)
    # a file written with names of another scheme: the bare file names
    hybrid = search_match_of(pipe)
    hybrid.reference_names_ = np.array(
        [reference_names.reference_id(n) for n in hybrid.reference_names_]
    )
    path = save_model(pipe, tmp_path / "old.pt", metadata=report)
    crystals = [load_example_crystal("NaCl"), load_example_crystal("Si")]
    assert reference_names.rename(path, crystals) == 3
    names = search_match_of(load_model(path)).reference_names_.tolist()
    assert sorted(names) == ["NaCl (NaCl.cif)", "Si (Si.cif)", "TiO2 (TiO2-rutile.cif)"]


def test_the_training_cycles_run_the_shipped_config_without_its_stackers(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    from measured_training import curve_config

    from skxrd.pretrained import load_config

    path = ROOT / "skxrd/pretrained/configs/space-group.toml"
    assert {"match", "indexing"} <= set(load_config(path))
    # [indexing] without [match] would not load: both go
    config = curve_config(path)
    assert "match" not in config and "indexing" not in config
    assert config["classifier"] == load_config(path)["classifier"]


@pytest.mark.filterwarnings("ignore:The number of unique classes")
@pytest.mark.parametrize("n_models", [1, 2])
def test_ship_writes_the_coarse_models_as_views(tmp_path, monkeypatch, n_models):
    """One model file shipped, or two whose networks are averaged."""
    import argparse

    import numpy as np

    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "pretrained"))
    from measured_training import ship
    from tiny_model import TINY, to_toml

    from skxrd.pretrained import load_model, save_model, train_from_config

    # one space group per crystal system, in training and test draws alike
    groups = [2, 14, 62, 139, 166, 194, 225]
    data = {**TINY["data"], "space_groups": groups}
    test = {**TINY["test"], "space_groups": groups}
    config = {**TINY, "target": "space_group", "data": data, "test": test}
    models = []
    for seed in range(n_models):
        classifier = {**config["classifier"], "random_state": seed}
        pipe, report = train_from_config(
            {**config, "classifier": classifier}, verbose=0
        )
        path = tmp_path / f"tiny-sg-{seed}.pt"
        models.append(save_model(pipe, path, metadata=report))
    toml = tmp_path / "sg.toml"
    toml.write_text(to_toml({"name": "space-group", **config}))
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "crystal-system.pt").write_bytes(b"an older copy")
    (weights / "bravais-lattice.pt").write_bytes(b"an older copy")
    args = argparse.Namespace(
        config=toml,
        ship_model=models,
        cache=None,
        n_jobs=1,
        weights_dir=weights,
        out=tmp_path,
        ship=None,
        start=None,
    )
    ship(args, tmp_path / "curve.jsonl")
    assert sorted(p.name for p in weights.iterdir()) == [
        "bravais-lattice.json",
        "crystal-system.json",
        "space-group.pt",
    ]
    cs = load_model(weights / "crystal-system.json")
    sg = load_model(weights / "space-group.pt")
    assert cs.metadata_["name"] == "crystal-system"
    assert cs.metadata_["target"] == "crystal_system"
    assert cs.metadata_["calibration"] == sg.metadata_["calibration"]
    if n_models == 2:
        from skxrd.estimators import EnsembleClassifier

        ensemble = sg.steps[-1][1]
        assert isinstance(ensemble, EnsembleClassifier)
        assert len(ensemble.estimators_) == 2
        # one temperature, the ensemble's, fitted by the ship run
        t = sg.metadata_["calibration"]["temperature"]
        assert ensemble.temperature_ == pytest.approx(t, abs=1e-4) and t != 1.0
        assert [m["file"] for m in sg.metadata_["ensemble"]] == list(map(str, models))
        assert [m["classifier"]["random_state"] for m in sg.metadata_["ensemble"]] == [
            0,
            1,
        ]
    X = np.random.default_rng(0).random((4, len(sg.steps[0][1].grid_)))
    np.testing.assert_allclose(cs.predict_proba(X).sum(1), 1.0)
    bl = load_model(weights / "bravais-lattice.json")
    assert bl.metadata_["name"] == "bravais-lattice"
    assert bl.metadata_["config"]["target"] == "bravais_lattice"
    # one lattice per group here (aP mP oP tI hR hP cF): the same answers
    assert bl.classes_.tolist() == ["aP", "cF", "hP", "hR", "mP", "oP", "tI"]
    from skxrd.crystal import to_bravais_lattice

    np.testing.assert_array_equal(bl.predict(X), to_bravais_lattice(sg.predict(X)))
    assert bl.metadata_["test"]["n"] == sg.metadata_["test"]["n"]
    assert 0 <= bl.metadata_["test"]["top1"] <= 1


def test_cards_name_every_indexing_family_a_stacker_may_weigh():
    from skxrd.estimators._indexing_core import check_families

    pretrained_cards = _tool("pretrained_cards")
    names = pretrained_cards._family_names
    assert names("cth") == "cubic, tetragonal and hexagonal"
    assert names("cthoa") == (
        "cubic, tetragonal, hexagonal, orthorhombic and triclinic"
    )
    # every letter the stacker accepts has a name on the card
    assert names(check_families("cthoma")).count(",") == 4


def test_cards_name_the_space_group_prior_and_its_weight():
    from skxrd.estimators._space_group_prior import SPACE_GROUP_PRIORS

    pretrained_cards = _tool("pretrained_cards")
    text = pretrained_cards._prior_text
    words = text({"match": {"prior": "icsd"}}, {"prior_weight": 0.1234})
    assert "towards the ICSD's shares" in words and "weight of 0.123" in words
    # no prior, or none fitted (a weight of 0): nothing said
    assert text({"match": {"prior": "none"}}, {"prior_weight": 0.2}) == ""
    assert text({"match": {"prior": "cod"}}, {"prior_weight": 0.0}) == ""
    assert text({"match": {}}, {}) == ""
    # every prior the classifier takes has a name on the card
    for prior in SPACE_GROUP_PRIORS:
        assert pretrained_cards.PRIOR_NAMES[prior] in text(
            {"match": {"prior": prior}}, {"prior_weight": 0.1}
        )


def test_cards_give_the_stacked_probabilities_temperatures():
    pretrained_cards = _tool("pretrained_cards")
    text = pretrained_cards._temperature_text
    report = {
        "calibrate": True,
        "calibrate_prior": "icsd",
        "n_calibrate": 2000,
        "system_temperature": 0.9334,
        "group_temperature": 0.8517,
        "calibrate_log_loss_before": 1.4813,
        "calibrate_log_loss_after": 1.4702,
    }
    icsd = text(report)
    assert "crystal systems' by a temperature of 0.933" in icsd
    assert "space groups by 0.852" in icsd and "2,000 more simulated" in icsd
    assert "weighted to the ICSD's space-group shares" in icsd
    assert "fell from 1.4813 to 1.4702. " in icsd
    assert "weighted" not in text({**report, "calibrate_prior": "none"})
    # a stacker without temperatures (files before them): nothing said
    assert text({"calibrate": False}) == "" and text({}) == ""


def test_cards_say_how_the_gate_combines_the_two_parts():
    pretrained_cards = _tool("pretrained_cards")
    text = pretrained_cards._gate_text
    report = {"threshold": 0.9179, "gate_slope": 13.96, "gate_margin": 0.8198}
    soft = text({**report, "gate": "soft"})
    assert "one half at 0.918, slope 14.0" in soft and "lead" not in soft
    margin = text({**report, "gate": "margin"})
    assert "plus 0.82 times its lead" in margin and "score is 0.918" in margin
    assert "the gate's score" in margin
    hard = text({**report, "gate": "hard"})
    assert hard.startswith("A pattern whose best correlation reaches 0.918")


def test_ship_models_widens_networks_to_the_groups_of_all(tmp_path, monkeypatch):
    """A network that never saw a space group the other knows gets it as a warm
    start adds one (an improbable output); the temperatures its file holds are
    dropped for the ensemble's."""
    import numpy as np

    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "pretrained"))
    from measured_training import ship_models
    from tiny_model import TINY

    from skxrd.estimators import EnsembleClassifier
    from skxrd.pretrained import save_model, train_from_config

    paths = []
    for seed, groups in enumerate([[2, 14, 62, 225], [2, 14, 62]]):
        data = {**TINY["data"], "space_groups": groups}
        test = {**TINY["test"], "space_groups": groups}
        classifier = {**TINY["classifier"], "random_state": seed}
        config = {
            **TINY,
            "target": "space_group",
            "data": data,
            "test": test,
            "classifier": classifier,
        }
        pipe, report = train_from_config(config, verbose=0)
        pipe.steps[-1][1].temperature_ = 2.0
        paths.append(save_model(pipe, tmp_path / f"m{seed}.pt", metadata=report))
    pipe = ship_models(paths)
    ensemble = pipe.steps[-1][1]
    assert isinstance(ensemble, EnsembleClassifier)
    assert ensemble.classes_.tolist() == [2, 14, 62, 225]
    narrow = ensemble.estimators_[1]
    assert narrow.classes_.tolist() == [2, 14, 62, 225]
    assert all(not hasattr(m, "temperature_") for m in ensemble.estimators_)
    X = np.random.default_rng(0).random((6, len(pipe.steps[0][1].grid_)))
    proba = narrow.predict_proba(X)
    # the groups it knows keep their odds (its logits as trained, temperature
    # 1); 225, never seen, gets a constant logit, its lowest bias
    from skxrd.pretrained import load_model

    alone = load_model(paths[1], device="cpu").steps[-1][1]
    del alone.temperature_
    known = proba[:, :3] / proba[:, :3].sum(axis=1, keepdims=True)
    np.testing.assert_allclose(known, alone.predict_proba(X), rtol=1e-5)
    assert np.all(proba[:, 3] < 0.25)
    assert pipe.metadata_["ensemble"][1]["file"] == str(paths[1])
