"""Model files, training from a config, the shipped models and their cards."""

from __future__ import annotations

import pickle
import re
from importlib import resources

import numpy as np
import pytest
import torch
from tiny_model import TINY, to_toml

from skxrd.crystal import (
    BRAVAIS_LATTICES,
    CRYSTAL_SYSTEMS,
    to_bravais_lattice,
    to_crystal_system,
)
from skxrd.datasets import load_example_crystal, load_measured_examples
from skxrd.estimators import MatchFirstClassifier
from skxrd.io import Pattern
from skxrd.pretrained import (
    PatternPipeline,
    build_pipeline,
    evaluate_model,
    list_pretrained,
    load_config,
    load_model,
    load_pretrained,
    model_card,
    save_model,
    save_symmetry_view,
    train_from_config,
)
from skxrd.pretrained._train import check_warm_start
from skxrd.simulation import PowderSimulator


def _grid_patterns(pipe, n=3, seed=0):
    grid = pipe.steps[0][1].grid_
    X = np.random.default_rng(seed).random((n, len(grid)))
    return grid, X


# ---------------------------------------------------------------- model files
def test_model_file_round_trip(tiny):
    pipe, report, path = tiny
    again = load_model(path, device="cpu")
    assert isinstance(again, PatternPipeline)
    assert [n for n, _ in again.steps] == [n for n, _ in pipe.steps]
    _, X = _grid_patterns(pipe)
    np.testing.assert_allclose(again.predict_proba(X), pipe.predict_proba(X), atol=1e-6)
    assert list(again.classes_) == list(pipe.classes_)
    assert again.metadata_["test"] == report["test"]
    # training-only settings are not stored
    clf = again.steps[-1][1]
    assert clf.augment is None and clf.num_threads is None


def test_model_file_with_float16_weights(tiny, tmp_path):
    pipe, _, path = tiny
    half = save_model(pipe, tmp_path / "half.pt", weights_dtype="float16")
    state = torch.load(half, weights_only=True)["state_dict"]
    floats = [v for v in state.values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float16 for v in floats)
    assert half.stat().st_size < path.stat().st_size
    again = load_model(half, device="cpu")
    network = again.steps[-1][1].net_.module_
    assert next(network.parameters()).dtype == torch.float32
    _, X = _grid_patterns(pipe)
    np.testing.assert_allclose(again.predict_proba(X), pipe.predict_proba(X), atol=1e-2)
    with pytest.raises(ValueError, match="weights_dtype must be"):
        save_model(pipe, tmp_path / "x.pt", weights_dtype="int8")
    # the union options are checked for every model, not ignored
    with pytest.raises(ValueError, match="union_patterns_dtype must be"):
        save_model(pipe, tmp_path / "x.pt", union_patterns_dtype="int8")
    with pytest.raises(ValueError, match="union_patterns_per_class must be >= 1"):
        save_model(pipe, tmp_path / "x.pt", union_patterns_per_class=0)
    assert not (tmp_path / "x.pt").exists()


def test_model_file_takes_patterns_of_any_axis_and_wavelength(tiny):
    pipe, _, path = tiny
    model = load_model(path, device="cpu")
    grid, X = _grid_patterns(pipe)
    as_q = [Pattern(grid, x, wavelength="CuKa").to_q() for x in X]
    np.testing.assert_allclose(
        model.predict_proba(as_q), model.predict_proba(X), atol=1e-5
    )
    labels, proba = model.predict_top_k(as_q, k=3)
    assert labels.shape == proba.shape == (3, 3)
    assert np.all(np.diff(proba, axis=1) <= 0)
    assert model.predict_confidence(as_q).shape == (3,)


def test_model_file_refuses_to_overwrite_and_writes_atomically(tiny, tmp_path):
    pipe, _, _ = tiny
    target = tmp_path / "keep.pt"
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="keep.pt"):
        save_model(pipe, target)
    assert target.read_bytes() == b"precious"
    save_model(pipe, target, overwrite=True)
    assert not list(tmp_path.glob("*.part"))
    assert load_model(target).predict(_grid_patterns(pipe)[1]).shape == (3,)


def test_truncated_or_foreign_model_files_are_clear_errors(tiny, tmp_path):
    _, _, path = tiny
    cut = tmp_path / "cut.pt"
    cut.write_bytes(path.read_bytes()[:500])
    with pytest.raises(ValueError, match="cut.pt is not a skxrd model file: not a"):
        load_model(cut)
    empty = tmp_path / "empty.pt"
    empty.touch()
    with pytest.raises(ValueError, match="empty.pt is empty"):
        load_model(empty)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(ValueError, match="other.pt is not a skxrd model file"):
        load_model(other)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_model(tmp_path / "missing.pt")


@pytest.mark.filterwarnings("ignore:The number of unique classes")
def test_a_coarse_view_reads_a_space_group_file_at_crystal_systems(tiny, tmp_path):
    import json

    from skxrd.estimators import CoarseLabelClassifier
    from skxrd.pretrained._store import save_coarse_view

    pipe, report = train_from_config({**TINY, "target": "space_group"}, verbose=0)
    base = save_model(pipe, tmp_path / "sg.pt", metadata=report)
    view = save_coarse_view(tmp_path / "cs.json", base, {"name": "cs", "note": [1]})
    model = load_model(view)
    assert isinstance(model.steps[-1][1], CoarseLabelClassifier)
    assert model.metadata_["name"] == "cs" and model.metadata_["note"] == [1]
    assert model.metadata_["n_train"] == report["n_train"]  # the rest: base's
    X = _grid_patterns(pipe, n=5)[1]
    sg_proba = pipe.predict_proba(X)
    systems = np.asarray(to_crystal_system(pipe.classes_))
    expected = np.stack([sg_proba[:, systems == c].sum(1) for c in model.classes_], 1)
    np.testing.assert_allclose(model.predict_proba(X), expected, atol=1e-12)
    # refusals, each naming the file
    with pytest.raises(FileExistsError, match="cs.json exists"):
        save_coarse_view(view, base)
    with pytest.raises(ValueError, match="is not JSON"):
        save_coarse_view(view, base, {"x": np.nan}, overwrite=True)
    other = tmp_path / "sub"
    other.mkdir()
    with pytest.raises(ValueError, match="must be in the folder of its model"):
        save_coarse_view(other / "cs.json", base)
    _, _, cs_file = tiny  # a crystal-system network: no space groups to sum
    with pytest.raises(ValueError, match="cs2.json"):
        save_coarse_view(cs_file.parent / "cs2.json", cs_file)
    assert not (cs_file.parent / "cs2.json").exists()
    assert not (cs_file.parent / "cs2.json.tmp").exists()
    bad = tmp_path / "bad.json"
    for text, message in [
        ("{", "bad.json: not a skxrd model view"),
        (json.dumps({"format": "other"}), "bad.json: not a skxrd model view"),
        (
            json.dumps({"format": "skxrd-view/1", "base": "../sg.pt"}),
            "bad.json: base must name a .pt model file in the same folder",
        ),
        (
            json.dumps(
                {"format": "skxrd-view/1", "base": "gone.pt", "coarse_target": "x"}
            ),
            "bad.json: its model file .*gone.pt does not exist",
        ),
    ]:
        bad.write_text(text)
        with pytest.raises((ValueError, FileNotFoundError), match=message):
            load_model(bad)
    # the view stays valid when the base is rewritten (it names it, no copy)
    assert json.loads(view.read_text())["base"] == "sg.pt"


def test_model_file_names_only_known_classes(tiny, tmp_path):
    _, _, path = tiny
    payload = torch.load(path, weights_only=True)
    payload["steps"][1][1] = "os.system"
    evil = tmp_path / "evil.pt"
    torch.save(payload, evil)  # the stored checksum no longer matches
    with pytest.raises(ValueError, match="evil.pt is damaged or was modified"):
        load_model(evil)
    del payload["sha256"]  # as an older file without a checksum
    torch.save(payload, evil)
    with pytest.raises(ValueError, match="unknown class 'os.system'"):
        load_model(evil)


class _RunsCode:
    def __reduce__(self):
        return (print, ("code from a model file ran",))


def test_model_file_with_code_is_refused_without_torch_advice(tmp_path, capsys):
    evil = tmp_path / "evil.pt"
    torch.save({"format": "skxrd-model/1", "x": _RunsCode()}, evil)
    with pytest.raises(ValueError, match="evil.pt holds objects") as info:
        load_model(evil)
    assert "print" in str(info.value)
    assert "weights_only" not in str(info.value)  # torch's advice to run it
    assert "ran" not in capsys.readouterr().out
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps(_RunsCode()))
    with pytest.raises(ValueError, match="model.pkl is not a skxrd model file"):
        load_model(pickled)
    assert "ran" not in capsys.readouterr().out


def test_a_flipped_bit_in_a_model_file_is_an_error_or_changes_nothing(tiny, tmp_path):
    # Without the CRC check and the checksum, a flip in the weights loads
    # silently. Flips in the archive's padding change nothing and may load.
    pipe, _, path = tiny
    data = path.read_bytes()
    expected = pipe.steps[-1][1].net_.module_.state_dict()
    flipped = tmp_path / "flipped.pt"
    outcomes = {"error": 0, "same": 0}
    for where in np.random.default_rng(0).integers(len(data), size=40):
        damaged = bytearray(data)
        damaged[where] ^= 0x10
        flipped.write_bytes(bytes(damaged))
        try:
            loaded = load_model(flipped)
        except ValueError as exc:
            assert str(exc).startswith(str(flipped))
            outcomes["error"] += 1
            continue
        got = loaded.steps[-1][1].net_.module_.state_dict()
        assert all(torch.equal(got[k], expected[k]) for k in expected), where
        outcomes["same"] += 1
    assert outcomes["error"] >= 20, outcomes


def test_class_weight_is_stored_with_its_labels_in_model_files(tiny, tmp_path):
    # as [label, weight] pairs: a dict's labels would come back as str keys
    # that name no class of a warm start from the file (it was dropped, and
    # such a warm start trained unweighted)
    pipe, _, _ = tiny
    pipe = pickle.loads(pickle.dumps(pipe))  # the fixture's stays as it is
    clf = pipe.steps[-1][1]
    weights = {plain: 2.0 for plain in clf.classes_.tolist()}
    clf.set_params(class_weight=weights)
    path = save_model(pipe, tmp_path / "weighted.pt")
    record = torch.load(path, map_location="cpu", weights_only=True)
    assert [list(p) for p in record["steps"][-1][2]["class_weight"]] == [
        [k, w] for k, w in weights.items()
    ]
    again = load_model(path, device="cpu")
    assert again.steps[-1][1].class_weight == weights
    _, X = _grid_patterns(pipe)
    np.testing.assert_allclose(again.predict_proba(X), pipe.predict_proba(X), atol=1e-6)


def test_save_model_rejects_foreign_steps(tiny, tmp_path):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    pipe, _, _ = tiny
    mixed = Pipeline([("scale", StandardScaler()), pipe.steps[-1]])
    with pytest.raises(TypeError, match="StandardScaler"):
        save_model(mixed, tmp_path / "m.pt")


# ----------------------------------------------------------------- training
def test_train_from_config_report_and_reproducibility(tiny):
    pipe, report, _ = tiny
    assert report["n_train"] == 60 and report["test"]["n"] == 20
    assert set(pipe.classes_) <= set(CRYSTAL_SYSTEMS)
    assert {"top1", "top2", "top3", "top5", "majority_baseline"} <= set(report["test"])
    again, _ = train_from_config(TINY, verbose=0)
    for a, b in zip(
        pipe.steps[-1][1].net_.module_.state_dict().values(),
        again.steps[-1][1].net_.module_.state_dict().values(),
    ):
        assert torch.equal(a, b)


def test_train_from_a_config_with_real_structures_and_variants(tmp_path):
    text = """
target = "crystal_system"
[data]
n_crystals = 24
source = {materials_project = 1.0, realistic = 1.0}
n_variants = 2
random_state = 0
[data.variants]
strain = 0.02
b_iso = [0.5, 1.0]
[data.instrument]
zero_shift = 0.05
texture = 0.5
[simulator]
two_theta_range = [10.0, 40.0]
two_theta_step = 0.1
[classifier]
type = "CNNClassifier"
channels = [4]
max_epochs = 1
random_state = 0
"""
    path = tmp_path / "real.toml"
    path.write_text(text)
    cfg = load_config(path)
    assert cfg["data"]["variants"] == {"strain": 0.02, "b_iso": [0.5, 1.0]}
    pipe, report = train_from_config(path, verbose=0)
    assert report["n_train"] == 24


@pytest.mark.parametrize("denoise", [None, 3])
def test_preprocessing_in_blocks_fits_the_same_network(denoise):
    # train_from_config preprocesses blocks of rows in threads: the same
    # inputs, so the same weights as Pipeline.fit, for every stateless step
    from skxrd.pretrained._train import _fit_pipeline

    cfg = load_config({**TINY, "preprocessing": {"denoise": denoise}})
    grid = build_pipeline(cfg).steps[0][1].fit().grid_
    rng = np.random.default_rng(0)
    X = rng.random((40, len(grid))).astype(np.float32)
    y = rng.choice(["cubic", "triclinic", "hexagonal"], 40)
    plain = build_pipeline(cfg).fit(X, y)
    blocks = _fit_pipeline(build_pipeline(cfg), X, y, n_jobs=2, block=8)
    for a, b in zip(
        plain.steps[-1][1].net_.module_.state_dict().values(),
        blocks.steps[-1][1].net_.module_.state_dict().values(),
    ):
        assert torch.equal(a, b)
    assert np.array_equal(plain.predict_proba(X), blocks.predict_proba(X))


def test_build_pipeline_steps_follow_the_config():
    cfg = load_config({**TINY, "preprocessing": {"background": False}})
    pipe = build_pipeline(cfg)
    assert [n for n, _ in pipe.steps] == ["resample", "normalize", "classifier"]
    resample = pipe.steps[0][1].fit()
    sim = PowderSimulator(two_theta_range=(10.0, 40.0), two_theta_step=0.1)
    np.testing.assert_allclose(resample.grid_, sim.two_theta)
    denoised = build_pipeline(load_config({**TINY, "preprocessing": {"denoise": 3}}))
    names = [n for n, _ in denoised.steps]
    assert names == ["resample", "denoise", "background", "normalize", "classifier"]
    step = denoised.named_steps["denoise"]
    assert (step.method, step.window_length) == ("median", 3)


def test_background_edges_key_reaches_the_snip_step(tmp_path):
    # [preprocessing] background_edges: BackgroundSubtractor's edges, "keep"
    # (the shipped models' SNIP) unless the config says otherwise
    step = build_pipeline(load_config(TINY)).named_steps["background"]
    assert step.edges == "keep"
    path = tmp_path / "edges.toml"
    path.write_text(to_toml({**TINY, "preprocessing": {"background_edges": "extend"}}))
    cfg = load_config(path)
    assert cfg["preprocessing"]["background_edges"] == "extend"
    assert build_pipeline(cfg).named_steps["background"].edges == "extend"
    assert load_config(cfg) == cfg  # a loaded config loads as itself


@pytest.mark.parametrize(
    "change, message",
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"target": "mood"}, "target must be one of"),
        ({"data": {"random_state": 0}}, r"\[data\] needs n_crystals"),
        ({"data": {"n_crystals": 5, "size": 3}}, r"unknown \[data\] keys \['size'\]"),
        ({"classifier": {"depth": 2}}, r"\[classifier\] needs type"),
        ({"classifier": {"type": "SVC"}}, "type must be ResNetClassifier"),
        ({"classifier": {"type": "CNNClassifier", "depht": 2}}, "depht"),
        ({"preprocessing": {"smooth": 3}}, r"unknown \[preprocessing\] keys"),
        ({"preprocessing": {"denoise": 0}}, r"\[preprocessing\] denoise .* >= 1"),
        ({"preprocessing": {"denoise": 4}}, r"\[preprocessing\] denoise .* odd"),
        (
            {"preprocessing": {"background_edges": "mirror"}},
            r"\[preprocessing\] background_edges must be one of \('keep', "
            r"'extend'\), got 'mirror'",
        ),
        ({"data": {"n_crystals": 5, "source": "icsd"}}, r"\[data\] unknown source"),
        ({"data": {"n_crystals": 5, "n_variants": 0}}, r"\[data\] n_variants"),
        ({"match": {"stride": 0}}, r"\[match\] stride must be >= 1"),
        ({"match": {"sources": "amcsd"}}, r"unknown \[match\] keys \['sources'\]"),
        ({"match": {"source": "icsd"}}, r"\[match\] source must be 'amcsd'"),
        ({"match": {"threshold": 1.2}}, r"\[match\] threshold must be <= 1"),
        ({"match": {"reference_dtype": "int8"}}, r"\[match\] reference_dtype"),
        (
            {"match": {"gate": "fuzzy"}},
            r"\[match\] gate must be one of 'hard', 'soft', 'margin', got 'fuzzy'",
        ),
        ({"match": {"prior": "pdf"}}, r"\[match\] prior must be 'none' or one of icsd"),
        # TINY's network learns crystal systems: no space groups to shrink
        ({"match": {"prior": "icsd"}}, r"\[match\] prior .* train_target"),
        (
            {
                "train_target": "space_group",
                "match": {"prior": "cod", "threshold": 0.8},
            },
            r"\[match\] prior's weight is fitted .* threshold = \"auto\"",
        ),
        ({"save": {"compress": True}}, r"unknown \[save\] keys \['compress'\]"),
        # values found only after the training before: checked on loading
        ({"test": {"random_state": 1}}, r"\[test\] needs n_crystals"),
        ({"test": {"n_crystals": -5}}, r"\[test\] n_crystals must be >= 1"),
        ({"test": {"n_crystals": 5, "random_state": "one"}}, r"\[test\] random_state"),
        ({"test": {"n_crystals": 5, "split": "test"}}, r"\[test\] split needs source"),
        ({"data": {"n_crystals": 5, "elements": 5}}, r"\[data\] elements must be"),
        ({"data": {"n_crystals": 5, "n_atoms": [1, 2, 3]}}, r"\[data\] n_atoms"),
        ({"save": {"weights_dtype": "float64"}}, r"\[save\] weights_dtype must be"),
        ({"save": {"union_patterns_per_class": 0}}, r"\[save\] union_patterns_per"),
        (
            {"classifier": {**TINY["classifier"], "max_epochs": "x"}},
            r"\[classifier\] max_epochs must be an integer",
        ),
        ({"classifier": {**TINY["classifier"], "lr": -1.0}}, r"\[classifier\] lr"),
        (
            {"classifier": {"type": "CNNClassifier", "channels": 4}},
            r"\[classifier\] .*channels|\[classifier\] .*iterable",
        ),
        (
            {"classifier": {**TINY["classifier"], "augment": "bogus"}},
            r"\[classifier\] augment must be",
        ),
    ],
)
def test_bad_configs_name_the_file_and_key(tmp_path, change, message):
    import tomllib  # noqa: F401  (the reader the configs use)

    cfg = {**TINY, **change}
    path = tmp_path / "bad.toml"
    path.write_text(to_toml(cfg))
    with pytest.raises(ValueError, match=message) as info:
        load_config(path)
    assert "bad.toml" in str(info.value)


def test_checking_a_config_leaves_the_global_seed_alone():
    # the network built to check its parameters draws its weights from
    # torch's generator: a seed set before load_config still seeds what follows
    import torch

    torch.manual_seed(0)
    load_config(TINY)
    after = torch.rand(1)
    torch.manual_seed(0)
    assert torch.equal(after, torch.rand(1))


def test_an_auto_threshold_needs_a_test_section():
    cfg = {k: v for k, v in TINY.items() if k != "test"}
    with pytest.raises(ValueError, match=r"\[match\] threshold 'auto' is tuned"):
        load_config({**cfg, "match": {}})
    assert load_config({**cfg, "match": {"threshold": 0.9}})["match"]["stride"] == 8


def test_unreadable_config(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("target = \n")
    with pytest.raises(ValueError, match="broken.toml is not valid TOML"):
        load_config(path)
    with pytest.raises(FileNotFoundError, match="nowhere.toml"):
        load_config(tmp_path / "nowhere.toml")
    with pytest.raises(ValueError, match="cannot be read"):
        load_config(tmp_path)  # a folder
    path.write_bytes(b"\xff\xfe target")
    with pytest.raises(ValueError, match="broken.toml is not valid TOML"):
        load_config(path)


@pytest.mark.parametrize(
    ("augment", "cut"), [("sample", False), ("sample+scan_range", True)]
)
def test_config_augmentations_by_name(augment, cut):
    from skxrd.augmentation import Compose, ScanRange

    cfg = load_config(
        {**TINY, "classifier": {**TINY["classifier"], "augment": augment}}
    )
    aug = build_pipeline(cfg).steps[-1][1].augment
    assert isinstance(aug, Compose)
    kinds = [type(getattr(t, "transform", t)) for t in aug.transforms]
    assert (ScanRange in kinds) == cut
    if cut:  # on the config's grid, for half the patterns
        last = aug.transforms[-1]
        assert last.p == 0.5
        lo, hi = cfg["simulator"]["two_theta_range"]
        grid = np.asarray(last.transform.two_theta)
        assert grid[0] == lo and grid[-1] < hi


@pytest.mark.parametrize("augment", ["default", "sample", "sample+scan_range"])
def test_named_augmentations_keep_the_scale_of_patterns_not_max_normalized(augment):
    # the named augmentations max-normalize: with [preprocessing] normalize =
    # "area" the training batches were at a maximum of 1, the validation and
    # measured patterns at their own (about 0.01 of it)
    pre = {"normalize": "area"}
    net = {**TINY["classifier"], "augment": augment}
    cfg = load_config({**TINY, "preprocessing": pre, "classifier": net})
    aug = build_pipeline(cfg).steps[-1][1].augment
    n = len(PowderSimulator(**cfg["simulator"]).two_theta)
    x = torch.rand(4, n, generator=torch.Generator().manual_seed(0))
    x = x / x.sum(dim=1, keepdim=True)
    y = aug(x, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(y.amax(dim=1), x.amax(dim=1), rtol=1e-6, atol=0)
    # max-normalized inputs: the augmentation as it was
    cfg = load_config({**TINY, "classifier": net})
    assert type(build_pipeline(cfg).steps[-1][1].augment).__name__ == "Compose"


def test_config_stray_line_augmentation_and_its_errors():
    from skxrd.augmentation import Compose, ImpurityPeaks, KbetaLeak

    sim = {"two_theta_range": [5.0, 60.0], "two_theta_step": 0.05}
    net = {**TINY["classifier"], "augment": "sample+stray_lines"}
    cfg = load_config({**TINY, "simulator": sim, "classifier": net})
    aug = build_pipeline(cfg).steps[-1][1].augment
    assert isinstance(aug, Compose) and aug.normalize
    leak, low = aug.transforms[1:]
    assert isinstance(leak.transform, KbetaLeak) and leak.p == 0.5
    assert isinstance(low.transform, ImpurityPeaks) and low.p == 0.25
    assert low.transform.position == (5.0, 7.5)
    x = torch.rand(4, len(PowderSimulator(**sim).two_theta))
    y = aug(x, generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape and torch.allclose(y.amax(dim=1), torch.ones(4))
    # a grid above the low-angle lines, a radiation without an anode
    with pytest.raises(ValueError, match="grid starts at 10°"):
        build_pipeline(load_config({**TINY, "classifier": net}))
    mono = {**sim, "radiation": 0.7}
    with pytest.raises(ValueError, match="names none"):
        build_pipeline(load_config({**TINY, "simulator": mono, "classifier": net}))


def _augment_of(classifier, preprocessing=None, simulator=None):
    cfg = {**TINY, "classifier": {**TINY["classifier"], **classifier}}
    if preprocessing is not None:
        cfg["preprocessing"] = preprocessing
    if simulator is not None:
        cfg["simulator"] = simulator
    return build_pipeline(load_config(cfg)).steps[-1][1].augment


def _peak_transforms(compose):
    return compose.transforms[1].transform.transforms


def test_config_sample_linear_augments_linear_intensities_above_the_noise():
    from skxrd.augmentation import Compose, LinearIntensities

    sqrt = {"normalize": "max", "scale": "sqrt"}
    aug = _augment_of({"augment": "sample+linear"}, sqrt)
    # square roots squared back for it, peaks found above the counting noise
    assert isinstance(aug, LinearIntensities) and isinstance(aug.transform, Compose)
    assert [t.min_snr for t in _peak_transforms(aug.transform)] == [6.0] * 3
    # linear inputs: no squaring, the same peak finding
    plain = _augment_of({"augment": "sample+linear"})
    assert isinstance(plain, Compose)
    assert [t.min_snr for t in _peak_transforms(plain)] == [6.0] * 3
    # "sample" as it was
    sample = _augment_of({"augment": "sample"})
    assert [t.min_snr for t in _peak_transforms(sample)] == [None] * 3
    # max-normalized square roots stay max-normalized
    x = torch.rand(4, len(PowderSimulator(**TINY["simulator"]).two_theta))
    y = aug(x, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(y.amax(dim=1), torch.ones(4))


def test_config_sample_options_combine():
    from skxrd.augmentation import KbetaLeak, LinearIntensities, ScanRange

    sim = {"two_theta_range": [5.0, 60.0], "two_theta_step": 0.05}
    sqrt = {"normalize": "max", "scale": "sqrt"}
    aug = _augment_of({"augment": "sample+linear+stray_lines"}, sqrt, sim)
    assert isinstance(aug, LinearIntensities)
    sample, leak, _ = aug.transform.transforms
    assert isinstance(leak.transform, KbetaLeak)
    assert [t.min_snr for t in _peak_transforms(sample)] == [6.0] * 3
    cut = _augment_of({"augment": "sample+scan_range+linear"}, sqrt)
    assert isinstance(cut.transform.transforms[-1].transform, ScanRange)


@pytest.mark.parametrize(
    ("augment", "preprocessing", "match"),
    [
        ("sample+nonsense", None, "the options after 'sample' are linear"),
        ("sample+linear+linear", None, "each at most once"),
        ("sample+scan_range+stray_lines", None, "do not combine"),
        ("sample+linear", {"normalize": "max", "scale": "log"}, "scale = 'log'"),
    ],
)
def test_config_sample_option_errors_name_the_setting(augment, preprocessing, match):
    with pytest.raises(ValueError, match=match) as info:
        _augment_of({"augment": augment}, preprocessing)
    assert f'augment = "{augment}"' in str(info.value)


_WEIGHTED_SPACE_GROUPS = """
target = "space_group"
[data]
n_crystals = 20
n_atoms = [2, 12]
space_groups = [225, 14]
random_state = 0
[simulator]
two_theta_range = [10.0, 40.0]
two_theta_step = 0.1
[classifier]
type = "CNNClassifier"
channels = [4]
max_epochs = 1
num_threads = 1
random_state = 0
class_weight = {"225" = 2.0, 14 = 0.5}
"""


def test_a_toml_class_weight_names_the_integer_space_groups(tmp_path):
    # TOML keys are strings: {"225" = 2.0} named no class of the integer
    # space groups, and the fit said so only after the data were made
    path = tmp_path / "weighted.toml"
    path.write_text(_WEIGHTED_SPACE_GROUPS)
    cfg = load_config(path)
    weights = cfg["classifier"]["class_weight"]
    assert weights == {225: 2.0, 14: 0.5}
    assert all(type(k) is int for k in weights)
    assert load_config(cfg) == cfg  # a loaded config loads as itself
    pipe, _ = train_from_config(path, verbose=0)
    net = pipe.steps[-1][1]
    assert net.class_weight == {225: 2.0, 14: 0.5}
    assert net.classes_.tolist() == [14, 225]
    # the weights act: the same config unweighted trains another network
    plain = _WEIGHTED_SPACE_GROUPS.replace('class_weight = {"225" = 2.0, 14 = 0.5}', "")
    path.write_text(plain)
    other, _ = train_from_config(path, verbose=0)
    assert not all(
        torch.equal(a, b)
        for a, b in zip(
            net.net_.module_.state_dict().values(),
            other.steps[-1][1].net_.module_.state_dict().values(),
        )
    )


def test_resuming_with_other_class_weights_is_said(tmp_path):
    import warnings

    path = tmp_path / "weighted.toml"
    path.write_text(_WEIGHTED_SPACE_GROUPS)
    pipe, _ = train_from_config(path, verbose=0)
    model = load_model(save_model(pipe, tmp_path / "weighted.pt"), device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_warm_start(load_config(path), model, "--resume weighted.pt")
    plain = tmp_path / "plain.toml"
    plain.write_text(
        _WEIGHTED_SPACE_GROUPS.replace('class_weight = {"225" = 2.0, 14 = 0.5}', "")
    )
    with pytest.warns(
        UserWarning,
        match=r"--resume weighted.pt was trained with class_weight=\{225: 2.0, "
        r"14: 0.5\}; the training goes on with the config's None",
    ):
        check_warm_start(load_config(plain), model, "--resume weighted.pt")


@pytest.mark.parametrize(
    "target, table, key",
    [
        ("space_group", '{"Fm-3m" = 2.0}', "'Fm-3m'"),
        ("space_group", '{"231" = 2.0}', "'231'"),
        ("space_group", '{"0" = 2.0}', "'0'"),
        ("crystal_system", "{cubic = 2.0, Cubik = 0.5}", "'Cubik'"),
        ("crystal_system", '{"225" = 2.0}', "'225'"),
        ("bravais_lattice", "{cX = 2.0}", "'cX'"),
    ],
)
def test_a_class_weight_key_that_names_no_label_is_named(tmp_path, target, table, key):
    text = _WEIGHTED_SPACE_GROUPS.replace(
        'target = "space_group"', f'target = "{target}"'
    ).replace('{"225" = 2.0, 14 = 0.5}', table)
    path = tmp_path / "keys.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(f"class_weight key {key}")) as info:
        load_config(path)
    message = str(info.value)
    assert "keys.toml" in message and "[classifier]" in message
    assert f"train_target {target!r}" in message
    # the section of a union's members is named as such
    member = {
        "type": "UnionClassifier",
        "member": {"type": "CNNClassifier", "class_weight": {"nacl": 2.0}},
    }
    cfg = {**TINY, "target": "structure_type", "classifier": member}
    with pytest.raises(ValueError, match=r"\[classifier.member\] class_weight key"):
        load_config(cfg)


def test_a_class_weight_of_a_coarse_target_keeps_its_labels():
    # the network learns crystal systems (str labels) or, with train_target
    # space_group, space groups: the keys of its labels
    net = {**TINY["classifier"], "class_weight": {"cubic": 2.0}}
    cfg = load_config({**TINY, "classifier": net})
    assert cfg["classifier"]["class_weight"] == {"cubic": 2.0}
    groups = {**TINY["classifier"], "class_weight": {"225": 2.0, 14: 1.5}}
    cfg = load_config({**TINY, "train_target": "space_group", "classifier": groups})
    assert cfg["classifier"]["class_weight"] == {225: 2.0, 14: 1.5}
    for other in ("balanced", None):
        net = {**TINY["classifier"], "class_weight": other}
        assert (
            load_config({**TINY, "classifier": net})["classifier"]["class_weight"]
            == other
        )
    # one space group named twice
    twice = {**TINY["classifier"], "class_weight": {"225": 2.0, 225: 1.0}}
    with pytest.raises(ValueError, match="names space group 225 twice"):
        load_config({**TINY, "target": "space_group", "classifier": twice})


def test_shipped_configs_are_valid():
    folder = resources.files("skxrd.pretrained").joinpath("configs")
    for name in list_pretrained():
        cfg = load_config(folder.joinpath(f"{name}.toml"))
        assert cfg["name"] == name
        assert cfg["target"] == name.replace("-", "_")
    # the GPU recipe: the same data and model, scaled up
    gpu = load_config(folder.joinpath("gpu", "space-group.toml"))
    cpu = load_config(folder.joinpath("space-group.toml"))
    assert gpu["data"]["n_crystals"] > cpu["data"]["n_crystals"]
    assert gpu["data"]["source"] == cpu["data"]["source"]
    assert gpu["simulator"] == cpu["simulator"]
    assert gpu["indexing"] == cpu["indexing"] and gpu["match"] == cpu["match"]
    # the coarse models are views of the space-group model: its recipe
    for name in ("crystal-system", "bravais-lattice"):
        view = load_config(folder.joinpath(f"{name}.toml"))
        assert view["match"] == cpu["match"] and view["indexing"] == cpu["indexing"]
    gpu = load_config(folder.joinpath("gpu", "structure-type.toml"))
    cpu = load_config(folder.joinpath("structure-type.toml"))
    assert gpu["data"]["n_crystals"] > cpu["data"]["n_crystals"]
    assert gpu["simulator"] == cpu["simulator"] and gpu["test"] == cpu["test"]


# ------------------------------------------------------------ evaluate_model
def test_evaluate_model_scores_and_levels(tiny):
    pipe, _, _ = tiny
    grid, X = _grid_patterns(pipe, n=6)
    truth = pipe.predict(X)
    report = evaluate_model(pipe, X, truth, k=3)
    assert report["top1"] == 1.0 and report["level"] == "model"
    assert report["predicted"] == truth.tolist()
    with pytest.raises(ValueError, match="not classes of the model: \\['purple'\\]"):
        evaluate_model(pipe, X, ["purple"] * 6)
    with pytest.raises(ValueError, match="6 patterns but y has 2"):
        evaluate_model(pipe, X, truth[:2])


def test_space_group_model_is_scored_on_crystal_systems():
    model = load_pretrained("space-group", device="cpu")
    sim = PowderSimulator(two_theta_range=(5, 90), two_theta_step=0.02)
    crystals = [load_example_crystal(n) for n in ("NaCl", "ZnO", "TiO2-rutile")]
    X = sim.transform(crystals)
    report = evaluate_model(model, X, ["cubic", "hexagonal", "tetragonal"], k=3)
    assert report["level"] == "crystal_system"
    assert set(report["predicted"]) <= set(CRYSTAL_SYSTEMS)
    # ranked distinct systems: top-3 of systems is at least as good as top-1
    assert report["top3"] >= report["top1"]
    numbers = evaluate_model(model, X, ["225", "186", "136"], k=5)
    assert numbers["level"] == "model" and all(
        isinstance(v, int) for v in numbers["predicted"]
    )


@pytest.mark.parametrize(
    ("name", "truth"),
    [
        ("crystal-system", ["cubic", "hexagonal", "tetragonal"]),
        ("bravais-lattice", ["cF", "hP", "tP"]),
    ],
)
def test_coarse_models_are_scored_on_space_group_numbers(name, truth):
    # a table of space groups (as read from a CSV) scores the coarse models
    # at their own labels, as their names would
    model = load_pretrained(name, device="cpu")
    sim = PowderSimulator(two_theta_range=(5, 90), two_theta_step=0.02)
    crystals = [load_example_crystal(n) for n in ("NaCl", "ZnO", "TiO2-rutile")]
    X = sim.transform(crystals)
    by_number = evaluate_model(model, X, ["225", "186", "136"], k=3)
    by_name = evaluate_model(model, X, truth, k=3)
    assert by_number["truth"] == truth == by_name["truth"]
    assert by_number["level"] == "model"
    for key in ("top1", "top3", "predicted"):
        assert by_number[key] == by_name[key]
    # a number that is no space group is named
    with pytest.raises(
        ValueError, match="no space-group numbers \\(1-230\\): \\[231\\]"
    ):
        evaluate_model(model, X, ["225", "186", "231"])


# --------------------------------------------------------- the shipped models
# the crystal system of the Bravais lattices aX, mX, oX, tX and cX
CRYSTAL_SYSTEMS_BY_LETTER = (
    "triclinic",
    "monoclinic",
    "orthorhombic",
    "tetragonal",
    "cubic",
)


def test_shipped_weights_are_small_and_load_on_the_cpu():
    from skxrd.estimators import CoarseLabelClassifier, IndexingClassifier

    folder = resources.files("skxrd.pretrained").joinpath("weights")
    sizes = {f.name: f.stat().st_size for f in folder.iterdir() if f.is_file()}
    assert sum(sizes.values()) <= 50 * 2**20, sizes
    # every shipped model is a file, or a view of one (crystal-system)
    for name in list_pretrained():
        assert f"{name}.pt" in sizes or f"{name}.json" in sizes, name
    assert "crystal-system.pt" not in sizes  # not a second copy of space-group's
    model = load_pretrained("crystal-system", device="cpu")
    assert model.metadata_["name"] == "crystal-system"
    assert model.metadata_["config"]["target"] == "crystal_system"
    assert list(model.classes_) == sorted(CRYSTAL_SYSTEMS)
    final = model.steps[-1][1]
    assert isinstance(final, CoarseLabelClassifier)
    # crystal systems weighed against indexing, around the search-match hybrid
    stacked = final.estimator_
    assert isinstance(stacked, IndexingClassifier)
    assert stacked.scale == "sqrt"
    hybrid = stacked.estimator_
    assert isinstance(hybrid, MatchFirstClassifier)
    network = hybrid.estimator_
    assert next(network.net_.module_.parameters()).device.type == "cpu"
    groups = load_pretrained("space-group", device="cpu")
    assert groups.classes_.dtype.kind == "i" and set(groups.classes_) <= set(
        range(1, 231)
    )
    # the space groups of the real structures it learned: most of the 230
    assert len(groups.classes_) >= 180
    # one network: the crystal-system answer is the space-group answer summed
    grid = groups.steps[0][1].grid_
    X = np.random.default_rng(0).random((3, len(grid)))
    np.testing.assert_allclose(model.predict_proba(X).sum(1), 1.0, atol=1e-6)
    same = groups.steps[-1][1].estimator_
    assert isinstance(same, MatchFirstClassifier)
    sg_proba = groups.predict_proba(X)
    for k, system in enumerate(model.classes_):
        columns = np.asarray(to_crystal_system(groups.classes_)) == system
        np.testing.assert_allclose(
            model.predict_proba(X)[:, k], sg_proba[:, columns].sum(1), atol=1e-9
        )
    assert same.estimator_.temperature_ == network.temperature_
    assert same.threshold_ == hybrid.threshold_
    # the Bravais-lattice model: a view of the same file, at the 14 lattices
    assert "bravais-lattice.pt" not in sizes
    lattices = load_pretrained("bravais-lattice", device="cpu")
    assert lattices.metadata_["name"] == "bravais-lattice"
    assert lattices.metadata_["config"]["target"] == "bravais_lattice"
    assert set(lattices.classes_) <= set(BRAVAIS_LATTICES)
    assert len(lattices.classes_) == 14  # the network knows groups of all of them
    bl_proba = lattices.predict_proba(X)
    for k, lattice in enumerate(lattices.classes_):
        columns = np.asarray(to_bravais_lattice(groups.classes_)) == lattice
        np.testing.assert_allclose(
            bl_proba[:, k], sg_proba[:, columns].sum(1), atol=1e-9
        )
    # never contradicting the crystal-system model: a system's probability is
    # the sum of its lattices' (hP holds the hexagonal and the primitive
    # trigonal groups, so those two systems together are hP + hR)
    cs_proba = dict(zip(model.classes_, model.predict_proba(X).T))
    family = np.array([b[0] for b in lattices.classes_])
    for letter, system in zip("amotc", CRYSTAL_SYSTEMS_BY_LETTER):
        np.testing.assert_allclose(
            cs_proba[system], bl_proba[:, family == letter].sum(1), atol=1e-9
        )
    np.testing.assert_allclose(
        cs_proba["hexagonal"] + cs_proba["trigonal"],
        bl_proba[:, family == "h"].sum(1),
        atol=1e-9,
    )
    # the search-match: the AMCSD minerals, compact and named
    references = same.matcher_.references_
    assert references.dtype == np.float16 and len(references) > 9000
    assert len(same.reference_names_) == len(references)
    assert 0.5 < same.threshold_ < 1.0


def test_pretrained_answers_a_known_mineral_by_its_reference():
    from skxrd.estimators._match import search_match_of

    # rutile (TiO2, P4_2/mnm) measured at another wavelength with broader peaks
    model = load_pretrained("space-group", device="cpu")
    sim = PowderSimulator(
        radiation="xray", wavelength=1.0, two_theta_range=(3, 60), crystallite_size=80
    )
    x = sim.transform([load_example_crystal("TiO2-rutile")])[0]
    pattern = Pattern(sim.two_theta, x, wavelength=1.0)
    rows = model.transform_patterns([pattern])
    hybrid = search_match_of(model)
    assert hybrid.predict_source(rows).tolist() == ["match"]
    assert model.predict([pattern]).tolist() == [136]
    _, index = hybrid.kneighbors(rows, n_neighbors=1)
    assert "rutile" in hybrid.reference_names_[index[0, 0]].lower()


def test_pretrained_takes_patterns_of_any_wavelength():
    model = load_pretrained("crystal-system", device="cpu")
    nacl = load_example_crystal("NaCl")
    cu = PowderSimulator(two_theta_range=(5, 90), two_theta_step=0.02)  # its grid
    on_grid = cu.transform([nacl])
    # the same measurement recorded at Mo Kα1 positions (through Q), and on Q;
    # a bare wavelength: its Kα2 lines are Cu's, not to be stripped as Mo's
    as_cu = Pattern(cu.two_theta, on_grid[0], wavelength="CuKa")
    lam = Pattern(cu.two_theta, on_grid[0], wavelength="MoKa1").wavelength
    as_mo = Pattern(as_cu.two_theta_at("MoKa"), on_grid[0], wavelength=lam)
    p_grid = model.predict_proba(on_grid)[0]
    for pattern in (as_mo, as_cu.to_q()):
        np.testing.assert_allclose(model.predict_proba([pattern])[0], p_grid, atol=1e-4)
    labels, proba = model.predict_top_k([as_mo, as_mo.to_q()], k=5)
    assert labels.shape == (2, 5) and np.all(labels[0] == labels[1])
    assert np.all(proba.sum(axis=1) <= 1 + 1e-9)
    # a pattern simulated at Mo Kα is a different measurement (other peak
    # widths and doublet): it goes through, on the model's grid, its Kα2
    # line stripped (another anode's doublet than the model's)
    mo = PowderSimulator(radiation="MoKa", two_theta_range=(4, 40), two_theta_step=0.01)
    measured = Pattern(mo.two_theta, mo.transform([nacl])[0], wavelength="MoKa")
    with pytest.warns(UserWarning, match="5.000–8.680° 2θ not covered"):
        Xt = model.transform_patterns([measured])  # Mo Kα 4° is Cu Kα 8.7°
    assert Xt.shape == (1, len(cu.two_theta))
    assert model.predict([measured]).tolist() == ["cubic"]


def test_pretrained_unknown_name():
    with pytest.raises(ValueError, match="unknown pretrained model 'bravais'"):
        load_pretrained("bravais")
    with pytest.raises(ValueError, match="available"):
        model_card("bravais")


def test_pretrained_name_of_another_type_is_named():
    # a list had failed the lookup as "unhashable type: 'list'"
    for name in (["space-group"], None, 3):
        for func in (load_pretrained, model_card):
            with pytest.raises(TypeError, match="must be a str.*available"):
                func(name)


def test_load_pretrained_gives_each_caller_its_own_model():
    # nothing is cached: a caller's set_params or in-place change of a model
    # does not reach the model the next caller gets
    from skxrd.estimators._match import search_match_of

    mo = PowderSimulator(radiation="MoKa", two_theta_range=(2, 42))
    pattern = Pattern(
        mo.two_theta,
        mo.transform([load_example_crystal("NaCl")])[0],
        wavelength="MoKa",
    )
    first = load_pretrained("space-group", device="cpu")
    before = first.predict_proba([pattern])
    first.set_params(resample__wavelength=0.5, background__window=3)
    references = search_match_of(first).matcher_.references_
    references[:] = 0
    with pytest.warns(UserWarning, match="not covered"):  # 0.5 Å: 5-90° is 1.6-29°
        assert not np.allclose(first.predict_proba([pattern]), before)
    second = load_pretrained("space-group", device="cpu")
    assert second is not first
    assert second.get_params()["resample__wavelength"] == "CuKa"
    assert np.abs(search_match_of(second).matcher_.references_).max() > 0
    np.testing.assert_array_equal(second.predict_proba([pattern]), before)


@pytest.mark.parametrize("name", sorted(list_pretrained()))
def test_model_cards_state_their_numbers(name):
    card = model_card(name)
    assert card.startswith(f"# Model card: {name}")
    model = load_pretrained(name, device="cpu")
    # the held-out figure in the card is the one stored with the weights
    top1 = model.metadata_["test"]["top1"]
    assert f"{top1:.3f}" in card
    assert re.search(r"CPU-hours", card)
    assert f"skxrd/pretrained/configs/{name}.toml" in card


# ------------------------------------------------------- bundled measured data
def test_bundled_measured_examples():
    data = load_measured_examples()
    assert len(data.patterns) == 10 == len(data.names) == len(data.crystal_system)
    assert all(p.wavelength is not None for p in data.patterns)
    assert set(data.crystal_system) <= set(CRYSTAL_SYSTEMS)
    ssrl = load_measured_examples("ssrl")
    assert len(ssrl.patterns) == 6 and np.all(ssrl.space_group == -1)
    films = load_measured_examples("oviedo2019")
    assert films.space_group.tolist() == [221, 164, 140, 225]
    assert "Apache-2.0" in data.DESCR and "MIT" in data.DESCR
    folder = resources.files("skxrd.datasets").joinpath("data", "measured")
    for sub in ("ssrl", "oviedo2019"):
        assert folder.joinpath(sub, "LICENSE").is_file()
    with pytest.raises(ValueError, match="source must be one of"):
        load_measured_examples("icsd")


def test_warm_start_continues_from_the_weights(tiny):
    pipe, report, path = tiny
    assert report["total_epochs"] == report["n_epochs"] == 2
    again, rep = train_from_config(TINY, warm_start=path, verbose=0)
    assert rep["n_epochs"] == 2 and rep["total_epochs"] == 4
    # it starts from the trained weights: its first epoch is better than the
    # first epoch of the run from random weights
    first = again.steps[-1][1].history_[0]["train_loss"]
    assert first < pipe.steps[-1][1].history_[0]["train_loss"]
    # and from a fitted pipeline as well as from a file
    _, rep = train_from_config(TINY, warm_start=again, verbose=0)
    assert rep["n_epochs"] == 2
    other = {**TINY, "classifier": {**TINY["classifier"], "type": "CNNClassifier"}}
    other["classifier"].pop("depth"), other["classifier"].pop("width")
    with pytest.raises(ValueError, match="cannot start"):
        train_from_config(other, warm_start=path, verbose=0)


def test_warm_start_of_another_grid_or_target_is_said_before_the_data(
    tiny, monkeypatch
):
    import skxrd.pretrained._train as train

    def never(*a, **k):
        raise AssertionError("generated the data")

    monkeypatch.setattr(train, "_dataset", never)
    _, _, path = tiny  # 10-40° in steps of 0.1°: 300 points, crystal systems
    # 300 points too, on another range: it trained on, silently. A warm start
    # may fine-tune on other inputs (square roots after linear intensities):
    # said before the data, not refused (skxrd train --resume refuses it)
    shifted = {
        **TINY,
        "simulator": {"two_theta_range": [20.0, 50.0], "two_theta_step": 0.1},
    }
    for config, message in [
        (shifted, "resample two_theta=(10.0, 40.0, 0.1) (config: (20.0, 50.0, 0.1))"),
        ({**TINY, "preprocessing": {"scale": "sqrt"}}, "scale=None (config: 'sqrt')"),
    ]:
        with pytest.warns(UserWarning) as record, pytest.raises(AssertionError):
            train_from_config(config, warm_start=path, verbose=0)
        texts = [str(w.message) for w in record]
        assert any(
            t.startswith(f"warm_start {path}") and message in t for t in texts
        ), texts
    # a network of another target cannot go on at all
    with pytest.raises(ValueError) as info:
        train_from_config({**TINY, "target": "space_group"}, warm_start=path, verbose=0)
    text = str(info.value)
    assert text.startswith(f"warm_start {path}"), text
    assert "not labels of the config's train_target" in text, text


def test_warm_start_of_another_network_is_said_before_the_data(tiny, monkeypatch):
    # another width or depth failed only after the data (a torch size
    # mismatch in load_state_dict); the model is depth 1, width 4
    import skxrd.pretrained._train as train

    def never(*a, **k):
        raise AssertionError("generated the data")

    monkeypatch.setattr(train, "_dataset", never)
    _, _, path = tiny
    for change, message in [
        ({"width": 8}, "width=4 (config: 8)"),
        ({"depth": 2, "width": 6}, "depth=1 (config: 2); width=4 (config: 6)"),
        ({"confidence_head": True}, "confidence_head=False (config: True)"),
    ]:
        config = {**TINY, "classifier": {**TINY["classifier"], **change}}
        expected = f"its network is not the config's ResNetClassifier: {message}"
        with pytest.raises(ValueError, match=re.escape(expected)):
            train_from_config(config, warm_start=path, verbose=0)
        pipe = load_model(path, device="cpu")
        with pytest.raises(ValueError, match=re.escape(expected)):
            check_warm_start(load_config(config), pipe, "--resume tiny.pt")
    # dropout acts in training only: a warm start may change it
    config = {**TINY, "classifier": {**TINY["classifier"], "dropout": 0.3}}
    with pytest.raises(AssertionError, match="generated the data"):
        train_from_config(config, warm_start=path, verbose=0)


def test_the_training_device_is_checked_before_the_data(monkeypatch):
    import skxrd.pretrained._train as train

    def never(*a, **k):
        raise AssertionError("generated the data despite a bad device")

    monkeypatch.setattr(train, "_dataset", never)
    cuda99 = {**TINY, "classifier": {**TINY["classifier"], "device": "cuda:99"}}
    with pytest.raises(ValueError, match=r"config \[classifier\] device: device"):
        train_from_config(cuda99, verbose=0)
    with pytest.raises(ValueError, match="device: unknown torch device 'gpu'"):
        train_from_config(TINY, device="gpu", verbose=0)


def test_the_checkpoint_dir_is_checked_before_the_data(monkeypatch, tmp_path):
    # a folder under a file was found when the network's fit started, after
    # the data (minutes to hours)
    import skxrd.pretrained._train as train

    def never(*a, **k):
        raise AssertionError("generated the data despite a bad checkpoint_dir")

    monkeypatch.setattr(train, "_dataset", never)
    file = tmp_path / "file"
    file.write_text("not a folder")
    for path, match in (
        (file, "checkpoint_dir='.*file' is a file, not a directory"),
        (file / "sub", "checkpoint_dir='.*sub' is not a directory that"),
        (3, "checkpoint_dir must be None or a path, got 3"),
    ):
        with pytest.raises(ValueError, match=match):
            train_from_config(TINY, checkpoint_dir=path, verbose=0)
    # an unseeded network draws another seed in every sitting: "the same
    # command resumes it" trained afresh
    unseeded = {**TINY, "classifier": dict(TINY["classifier"])}
    del unseeded["classifier"]["random_state"]
    with pytest.raises(ValueError, match="an integer random_state \\(it has None\\)"):
        train_from_config(unseeded, checkpoint_dir=tmp_path / "ckpt", verbose=0)


def test_warm_start_adds_classes_the_model_did_not_know(tmp_path):
    import torch

    from skxrd.pretrained._train import _widen_output

    cfg = {
        "target": "space_group",
        "data": {
            "n_crystals": 24,
            "space_groups": [2, 14],
            "n_atoms": [2, 8],
            "random_state": 0,
        },
        "simulator": {"two_theta_range": [10.0, 40.0], "two_theta_step": 0.1},
        "classifier": {
            "type": "ResNetClassifier",
            "depth": 1,
            "width": 4,
            "max_epochs": 1,
            "num_threads": 1,
            "random_state": 0,
        },
    }
    first, report = train_from_config(cfg, verbose=0)
    assert first.classes_.tolist() == [2, 14]
    save_model(first, tmp_path / "first.pt", metadata=report)
    more = {**cfg, "data": {**cfg["data"], "space_groups": [2, 14, 62]}}
    again, rep = train_from_config(more, warm_start=tmp_path / "first.pt", verbose=0)
    assert again.classes_.tolist() == [2, 14, 62] and rep["total_epochs"] == 2
    # the output rows of known classes are copied, new ones start improbable
    state = first.steps[-1][1].net_.module_.state_dict()
    wide = _widen_output(state, np.array([2, 14]), np.array([2, 14, 62]))
    w, b = list(wide.values())[-2:]
    torch.testing.assert_close(w[:2], list(state.values())[-2])
    assert torch.all(w[2] == 0) and b[2] == b[:2].min()
    with pytest.raises(ValueError, match="output layer"):
        _widen_output({"x": torch.zeros(3)}, np.array([1, 2]), np.array([1, 2, 3]))


def test_warm_start_adds_classes_to_a_network_with_a_confidence_head():
    # the last entries of its state are the confidence head's (one output):
    # "cannot find the output layer", though the output layer is there
    from skxrd.models import ResNet1D
    from skxrd.pretrained._train import _widen_output

    torch.manual_seed(0)
    old = ResNet1D(2, depth=1, width=4, confidence_head=True).eval()
    state = old.state_dict()
    wide = _widen_output(state, np.array([2, 14]), np.array([2, 14, 62]))
    torch.testing.assert_close(
        wide["confidence.linear.weight"], state["confidence.linear.weight"]
    )
    new = ResNet1D(3, depth=1, width=4, confidence_head=True).eval()
    new.load_state_dict(wide)
    x = torch.randn(5, 1, 64)
    with torch.no_grad():
        (z_old, c_old), (z_new, c_new) = old(x), new(x)
    # the known classes keep their logits and the confidence stays; the new
    # class has zero weights and the lowest bias
    torch.testing.assert_close(z_new[:, :2], z_old)
    torch.testing.assert_close(c_new, c_old)
    assert torch.all(wide["fc.weight"][2] == 0)
    assert wide["fc.bias"][2] == state["fc.bias"].min()


def test_the_shipped_models_held_out_split_does_not_move():
    # The shipped models were trained on prototype_split(mp)'s train part and
    # scored on its test part. Relabelling the prototypes (10,527 -> 10,470
    # labels) moved 4,510 of 6,704 "held-out" structures out of the shipped
    # models' training part, so their cards would have been scored on training
    # structures. The split is drawn on the frozen split_groups: these are its
    # held-out ids at shipping.
    import hashlib

    from skxrd.datasets import load_materials_project
    from skxrd.pretrained import prototype_split

    mp = load_materials_project()
    train, test = prototype_split(mp)
    ids = np.sort([int(i.split("-")[1]) for i in mp.ids[test]]).astype("<i8")
    assert len(test) == 6536
    assert (
        hashlib.sha256(ids.tobytes()).hexdigest()
        == "2e7d145b38a44e3e14f64707d13cb3c4a0f15ffdd22b91e2d989590cd252cd99"
    )
    # the frozen groups are as many as the labels at shipping, and a
    # collection without them (a user's own) splits by its prototypes
    assert len(set(mp.split_groups)) == 10527 and len(set(mp.groups)) == 10470
    own = {k: v for k, v in mp.items() if k != "split_groups"}
    from sklearn.utils import Bunch

    train2, test2 = prototype_split(Bunch(**own))
    assert not set(mp.groups[train2]) & set(mp.groups[test2])


def test_prototype_split_and_split_configs():
    from skxrd.datasets import load_materials_project
    from skxrd.pretrained import prototype_split, subset_collection

    mp = load_materials_project()
    train, test = prototype_split(mp)
    assert len(train) + len(test) == len(mp.crystals)
    assert not set(mp.split_groups[train]) & set(mp.split_groups[test])
    assert 0.15 < len(test) / len(mp.crystals) < 0.25
    sub = subset_collection(mp, test[:5])
    assert [c.name for c in sub.crystals] == [mp.crystals[i].name for i in test[:5]]
    assert list(sub.ids) == list(mp.ids[test[:5]])
    from skxrd.pretrained._train import _dataset

    cfg = load_config(
        {
            "target": "space_group",
            "data": {
                "n_crystals": 6,
                "source": "materials_project",
                "split": "test",
                "random_state": 0,
            },
            "simulator": {"two_theta_range": [10.0, 40.0], "two_theta_step": 0.1},
            "classifier": {"type": "CNNClassifier"},
        }
    )
    X, y, _ = _dataset(cfg, "data", None, 1, False)
    assert X.shape == (6, 300)
    with pytest.raises(ValueError, match="split must be"):
        load_config({**cfg, "data": {**cfg["data"], "split": "all"}})
    with pytest.raises(ValueError, match="split needs source"):
        _dataset(
            {**cfg, "data": {**cfg["data"], "source": "uniform"}},
            "data",
            None,
            1,
            False,
        )


def test_pipeline_screen_patterns_and_arrays(tiny):
    pipe, _, _ = tiny
    sim = PowderSimulator(two_theta_range=(10.0, 40.0), two_theta_step=0.02)
    x = sim.transform([load_example_crystal("NaCl")])[0]
    flat = np.ones_like(x)
    patterns = [Pattern(sim.two_theta, y, wavelength="CuKa") for y in (x, flat)]
    assert pipe.screen(patterns)[0] is None and "flat" in pipe.screen(patterns)[1]
    # arrays on the resampler's source grid (here its own grid, 0.1° steps)
    grid = pipe.steps[0][1].grid_
    rows = np.vstack([np.interp(grid, sim.two_theta, x), np.ones_like(grid)])
    reasons = pipe.screen(rows)
    assert reasons[0] is None and "flat" in reasons[1]
    no_resampler = PatternPipeline(pipe.steps[1:])
    with pytest.raises(ValueError, match="PatternResampler"):
        no_resampler.screen(rows)


def test_pipeline_screens_arrays_as_measured_not_as_resampled():
    # arrays on a shorter source grid were resampled onto the model grid
    # first: fill_value beyond the scan's ends, and the steps to it read as
    # peaks, so a sine curve and a noisy background passed as powders
    from skxrd.preprocessing import PatternNormalizer, PatternResampler

    tt = np.linspace(10.0, 80.0, 3501)
    rng = np.random.default_rng(0)
    nacl = PowderSimulator(two_theta_range=(10.0, 80.02), two_theta_step=0.02)
    rows = np.vstack(
        [
            nacl.transform([load_example_crystal("NaCl")])[0],
            np.sin(np.radians(tt) * 20) + 1.0,
            rng.poisson(1000 * np.exp(-tt / 50)).astype(float),
        ]
    )
    resampler = PatternResampler(source_range=(10.0, 80.0)).fit(rows)
    pipe = PatternPipeline([("resample", resampler), ("norm", PatternNormalizer())])
    powder, sine, background = pipe.screen(rows)
    assert powder is None
    assert "no peak narrower" in sine
    assert "noise around it" in background
    # the model's range applies to arrays too, as to patterns
    short = PatternResampler(source_range=(10.0, 25.0)).fit(rows)
    pipe = PatternPipeline([("resample", short), ("norm", PatternNormalizer())])
    assert "covers 18% of the model's" in pipe.screen(rows[:1])[0]


def test_pipeline_screens_arrays_on_the_resamplers_current_grid():
    # the columns' 2θ come from the source_* parameters, as in transform: a
    # resampler fitted without data (as for Pattern lists) gave an IndexError,
    # and one whose source_range was set after its fit screened on the old grid
    from skxrd.preprocessing import PatternNormalizer, PatternResampler

    sim = PowderSimulator(two_theta_range=(10.0, 80.02), two_theta_step=0.02)
    rows = np.vstack([sim.transform([load_example_crystal("NaCl")])[0]])
    rows = np.vstack([rows, np.ones_like(rows)])
    unfitted_on_arrays = PatternResampler(source_range=(10.0, 80.0)).fit()
    pipe = PatternPipeline(
        [("resample", unfitted_on_arrays), ("norm", PatternNormalizer())]
    )
    powder, flat = pipe.screen(rows)
    assert powder is None and "flat" in flat
    stale = PatternResampler(source_range=(10.0, 25.0)).fit(rows)
    pipe = PatternPipeline([("resample", stale), ("norm", PatternNormalizer())])
    assert "covers" in pipe.screen(rows[:1])[0]
    pipe.set_params(resample__source_range=(10.0, 80.0))
    assert pipe.screen(rows[:1]) == [None]


def test_temperature_calibration_is_kept_in_model_files(tiny, tmp_path):
    import copy

    from skxrd.pretrained._train import _dataset

    pipe = copy.deepcopy(tiny[0])  # the fixture is shared
    cfg = load_config(TINY)
    X, y, _ = _dataset(cfg, "test", None, 1, False)
    y, X = y[np.isin(y, pipe.classes_)], X[np.isin(y, pipe.classes_)]
    before = pipe.predict_proba(X)
    pipe.calibrate_temperature(X, y)
    clf = pipe.steps[-1][1]
    assert clf.temperature_ > 0 and clf.temperature_ != 1.0
    after = pipe.predict_proba(X)
    # the ranking is unchanged (the class on top before is on top after, up
    # to float rounding: this barely trained model has exact ties), the
    # log-loss is not worse
    rows = np.arange(len(X))
    assert np.all(after[rows, before.argmax(1)] >= after.max(1) - 1e-6)
    idx = np.searchsorted(pipe.classes_, y)
    nll = [-np.log(p[np.arange(len(y)), idx] + 1e-12).mean() for p in (before, after)]
    assert nll[1] <= nll[0] + 1e-9
    path = save_model(pipe, tmp_path / "calibrated.pt")
    again = load_model(path)
    assert again.steps[-1][1].temperature_ == clf.temperature_
    np.testing.assert_allclose(again.predict_proba(X), after, atol=1e-6)
    # training again forgets the temperature of the old weights
    clf.set_params(warm_start=True, max_epochs=1).fit(pipe.transform_patterns(X), y)
    assert not hasattr(clf, "temperature_")
    with pytest.raises(ValueError, match="no label"):
        clf.calibrate_temperature(pipe.transform_patterns(X), np.full(len(y), "x"))


def test_pipeline_calibrate_temperature_passes_sample_weight():
    # the classifiers' calibrate_temperature take sample_weight (ensembles,
    # the indexing and symmetry weighers of the shipped models); the
    # pipeline's had no such parameter, and the weights were a TypeError
    from sklearn.linear_model import LogisticRegression

    from skxrd.estimators import EnsembleClassifier
    from skxrd.preprocessing import PatternNormalizer

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 120)
    X = rng.random((120, 40)) + 2.0 * np.eye(40)[5 * y]
    pipe = PatternPipeline(
        [
            ("norm", PatternNormalizer()),
            ("clf", EnsembleClassifier([LogisticRegression()])),
        ]
    ).fit(X[:60], y[:60])
    w = rng.uniform(0.0, 3.0, 60)
    pipe.calibrate_temperature(X[60:], y[60:], sample_weight=w)
    alone = EnsembleClassifier.from_fitted(pipe[-1].estimators_)
    alone.calibrate_temperature(pipe[:-1].transform(X[60:]), y[60:], sample_weight=w)
    assert pipe[-1].temperature_ == pytest.approx(alone.temperature_, rel=1e-12)
    before = pipe[-1].temperature_
    pipe.calibrate_temperature(X[60:], y[60:])  # all weights 1, as before
    assert pipe[-1].temperature_ != pytest.approx(before)


def test_loading_a_model_builds_no_optimizer(tiny):
    # the optimizer's construction imports torch._dynamo (seconds of predict's
    # start-up); a loaded model predicts, moves and pickles without one
    import pickle

    _, _, path = tiny
    pipe = load_model(path)
    clf = pipe.steps[-1][1]
    assert not hasattr(clf.net_, "optimizer_")
    grid, X = _grid_patterns(pipe)
    clf.set_device("cpu")
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_allclose(again.predict_proba(X), pipe.predict_proba(X))


@pytest.mark.filterwarnings("ignore:The number of unique classes")
def test_coarse_label_model_files(tmp_path):
    from skxrd.crystal import to_crystal_system
    from skxrd.estimators import CoarseLabelClassifier

    cfg = {**TINY, "target": "space_group"}
    pipe, _ = train_from_config(cfg, verbose=0)
    grid, X = _grid_patterns(pipe, n=4)
    fine = pipe.predict_proba(X)
    coarse = PatternPipeline(
        pipe.steps[:-1]
        + [("classifier", CoarseLabelClassifier.from_fitted(pipe.steps[-1][1]))]
    )
    proba = coarse.predict_proba(X)
    systems = np.asarray(to_crystal_system(pipe.classes_)).astype(str)
    for j, name in enumerate(coarse.classes_):
        np.testing.assert_allclose(proba[:, j], fine[:, systems == name].sum(1))
    labels, _ = coarse.predict_top_k(X, k=2)
    assert set(labels.ravel()) <= set(coarse.classes_)
    path = save_model(coarse, tmp_path / "cs.pt")
    again = load_model(path)
    assert isinstance(again.steps[-1][1], CoarseLabelClassifier)
    np.testing.assert_allclose(again.predict_proba(X), proba, atol=1e-6)
    assert list(again.classes_) == list(coarse.classes_)


@pytest.mark.filterwarnings("ignore:The number of unique classes")
def test_a_space_group_network_answering_crystal_systems(tmp_path):
    from skxrd.estimators import CoarseLabelClassifier

    cfg = {**TINY, "train_target": "space_group"}
    pipe, report = train_from_config(cfg, verbose=0)
    final = pipe.steps[-1][1]
    assert isinstance(final, CoarseLabelClassifier)
    assert set(pipe.classes_) <= set(CRYSTAL_SYSTEMS)
    assert np.asarray(final.estimator_.classes_).dtype.kind in "iu"
    assert report["test"]["n"] == 20 and set(report["test"]) >= {"top1", "top5"}
    path = save_model(pipe, tmp_path / "cs.pt", metadata=report)
    # resuming from the file continues the wrapped network
    again, rep = train_from_config(cfg, warm_start=path, verbose=0)
    assert rep["total_epochs"] == 4
    assert isinstance(again.steps[-1][1], CoarseLabelClassifier)
    assert isinstance(
        build_pipeline(load_config(cfg)).steps[-1][1], CoarseLabelClassifier
    )
    with pytest.raises(ValueError, match="train_target"):
        load_config({**TINY, "train_target": "crystal_system", "target": "space_group"})


@pytest.mark.filterwarnings("ignore:The number of unique classes")
def test_a_config_with_a_multi_task_loss(tmp_path):
    from skxrd.models import HierarchicalLoss

    classifier = {
        **TINY["classifier"],
        "coarse_loss": {"crystal_system": 1.0, "bravais_lattice": 0.5},
        "label_smoothing": 0.1,
    }
    cfg = {**TINY, "target": "space_group", "classifier": classifier}
    pipe, report = train_from_config(cfg, verbose=0)
    net = pipe.steps[-1][1]
    assert isinstance(net.net_.criterion_, HierarchicalLoss)
    assert net.net_.criterion_.weights == [1.0, 0.5]
    path = save_model(pipe, tmp_path / "sg.pt", metadata=report)
    stored = load_model(path, device="cpu").steps[-1][1]
    assert stored.coarse_loss == classifier["coarse_loss"]
    assert stored.label_smoothing == 0.1
    # a warm start from the file trains on with the same loss
    again, rep = train_from_config(cfg, warm_start=path, verbose=0)
    assert rep["total_epochs"] == 4
    assert isinstance(again.steps[-1][1].net_.criterion_, HierarchicalLoss)
    # a crystal-system target has no space groups to group
    with pytest.raises(ValueError, match="space-group numbers"):
        train_from_config({**cfg, "target": "crystal_system"}, verbose=0)


@pytest.mark.filterwarnings("ignore:The number of unique classes")
def test_saliency_of_a_coarse_label_model():
    from skxrd.estimators import CoarseLabelClassifier
    from skxrd.inspection import saliency_map
    from skxrd.inspection._attribution import _logits, _unwrap

    pipe, _ = train_from_config({**TINY, "target": "space_group"}, verbose=0)
    pipe.steps[-1][1].temperature_ = 1.7
    coarse = PatternPipeline(
        pipe.steps[:-1]
        + [("classifier", CoarseLabelClassifier.from_fitted(pipe.steps[-1][1]))]
    )
    grid, X = _grid_patterns(pipe, n=3)
    module, est, _ = _unwrap(coarse)
    with torch.no_grad():
        z = _logits(module, torch.as_tensor(coarse.transform_patterns(X)).float())
    # the softmax of its logits is the model's crystal-system probabilities
    np.testing.assert_allclose(
        torch.softmax(z, 1).numpy(), coarse.predict_proba(X), atol=1e-5
    )
    maps = saliency_map(coarse, X)
    assert maps.shape == X.shape and np.isfinite(maps).all()


def test_union_model_files_round_trip_and_grow(tmp_path):
    from skxrd.estimators import ResNetClassifier, UnionClassifier
    from skxrd.preprocessing import PatternNormalizer

    rng = np.random.default_rng(0)
    y = np.repeat(["A", "B", "C", "D"], 15)
    X = rng.random((60, 48)).astype("float32")
    for i, label in enumerate("ABCD"):
        X[y == label, 8 + 10 * i] += 4.0
    member = ResNetClassifier(
        depth=1,
        width=4,
        max_epochs=5,
        lr=1e-2,
        confidence_head=True,
        validation_fraction=None,
        num_threads=1,
        random_state=0,
    )
    union = UnionClassifier(
        member,
        class_subsets=[["A", "B"], ["C", "D"]],
        holdout_per_class=3,
        random_state=0,
    )
    pipe = PatternPipeline([("normalize", PatternNormalizer()), ("classifier", union)])
    pipe.fit(X, y)
    path = save_model(pipe, tmp_path / "union.pt", metadata={"kind": "union"})
    again = load_model(path, device="cpu")
    loaded = again.steps[-1][1]
    assert isinstance(loaded, UnionClassifier)
    np.testing.assert_allclose(again.predict_proba(X), pipe.predict_proba(X), atol=1e-6)
    assert list(again.predict(X)) == list(pipe.predict(X))
    assert loaded.combiner_ == union.combiner_
    # a loaded union still learns new classes without touching its members
    before = [
        {k: v.clone() for k, v in m.net_.module_.state_dict().items()}
        for m in loaded.estimators_
    ]
    new = np.repeat(["E", "F"], 15)
    X_new = rng.random((30, 48)).astype("float32")
    X_new[new == "E", 3] += 4.0
    X_new[new == "F", 44] += 4.0
    loaded.add_classes(PatternNormalizer().fit_transform(X_new), new)
    assert list(loaded.classes_) == list("ABCDEF")
    assert len(loaded.estimators_) == 3
    for b, m in zip(before, loaded.estimators_):
        after = m.net_.module_.state_dict()
        assert all(torch.equal(v, after[k]) for k, v in b.items())


def _without(path, out, drop):
    """A copy of a model file written as the code before ``class_weight`` and
    the union's kept weights were stored wrote it: ``drop(payload)`` removes
    them, the checksum is that of the rest."""
    from skxrd.pretrained._store import _DIGEST, _digest

    payload = torch.load(path, weights_only=True)
    drop(payload)
    payload[_DIGEST] = _digest(payload)
    torch.save(payload, out)
    return out


def _weighted_network(class_weight, X, y):
    from skxrd.estimators import CNNClassifier
    from skxrd.preprocessing import PatternNormalizer

    net = CNNClassifier(
        channels=(4,),
        max_epochs=2,
        num_threads=1,
        random_state=0,
        device="cpu",
        class_weight=class_weight,
    )
    return PatternPipeline([("normalize", PatternNormalizer()), ("net", net)]).fit(X, y)


@pytest.mark.parametrize(
    "class_weight",
    [{225: 2.0, 14: 0.5}, {"cubic": 3.0}, "balanced", None],
    ids=["int-labels", "str-labels", "balanced", "none"],
)
def test_a_model_file_keeps_the_class_weight(tmp_path, class_weight):
    # a dict's keys became strings (so it was dropped): a warm start from the
    # file trained unweighted, silently
    rng = np.random.default_rng(0)
    labels = [14, 225] if class_weight != {"cubic": 3.0} else ["cubic", "triclinic"]
    y = np.repeat(labels, [12, 28])  # unbalanced: "balanced" weighs them
    X = rng.random((40, 64))
    pipe = _weighted_network(class_weight, X, y)
    path = save_model(pipe, tmp_path / "weighted.pt")
    loaded = load_model(path, device="cpu")
    stored = loaded.steps[-1][1].class_weight
    assert stored == class_weight
    if isinstance(class_weight, dict):
        assert [type(k) for k in stored] == [type(k) for k in class_weight]
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    # a warm start from the file trains as one with the weights given again
    again = load_model(path, device="cpu")
    again.steps[-1][1].set_params(class_weight=class_weight)
    for model in (loaded, again):
        model.steps[-1][1].set_params(warm_start=True, max_epochs=1)
        model.fit(X, y)
    np.testing.assert_array_equal(loaded.predict_proba(X), again.predict_proba(X))
    if class_weight is not None:  # and not as one without them
        plain = load_model(path, device="cpu")
        plain.steps[-1][1].set_params(class_weight=None, warm_start=True, max_epochs=1)
        plain.fit(X, y)
        assert not np.array_equal(plain.predict_proba(X), loaded.predict_proba(X))


def test_a_model_file_without_a_class_weight_loads_unweighted(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([14, 225], 20)
    X = rng.random((40, 64))
    pipe = _weighted_network({225: 2.0}, X, y)
    path = save_model(pipe, tmp_path / "new.pt")

    def drop(payload):
        del payload["steps"][-1][2]["class_weight"]

    old = load_model(_without(path, tmp_path / "old.pt", drop), device="cpu")
    assert old.steps[-1][1].class_weight is None  # as the old file trained
    np.testing.assert_array_equal(old.predict_proba(X), pipe.predict_proba(X))
    # a stored class_weight of another shape is named
    from skxrd.pretrained._store import _restored_params

    with pytest.raises(ValueError, match=r"\[label, weight\] pairs"):
        _restored_params({"class_weight": [[225, 2.0, 1.0]]}, "model.pt")


def test_a_union_model_file_keeps_its_weights(tmp_path):
    from skxrd.estimators import CNNClassifier, UnionClassifier
    from skxrd.preprocessing import PatternNormalizer

    rng = np.random.default_rng(1)
    y = np.repeat(["A", "B", "C", "D"], 12)
    X = rng.random((48, 40)).astype("float32")
    for i, label in enumerate("ABCD"):
        X[y == label, 5 + 8 * i] += 4.0
    w = rng.uniform(0.5, 2.0, len(y))
    member = CNNClassifier(
        channels=(4,),
        max_epochs=2,
        num_threads=1,
        random_state=0,
        device="cpu",
        class_weight="balanced",
    )
    union = UnionClassifier(
        member,
        class_subsets=[["A", "B"], ["C", "D"]],
        holdout_per_class=3,
        negatives_per_class=4,
        random_state=0,
    )
    pipe = PatternPipeline([("normalize", PatternNormalizer()), ("classifier", union)])
    pipe.fit(X, y, classifier__sample_weight=w)
    assert union.negatives_weight_ is not None and union.holdout_weight_ is not None
    for per_class in (None, 2):
        path = save_model(
            pipe, tmp_path / f"union{per_class}.pt", union_patterns_per_class=per_class
        )
        loaded = load_model(path, device="cpu").steps[-1][1]
        for name in ("negatives", "holdout"):
            labels = getattr(union, f"{name}_y_")
            keep = np.concatenate(
                [np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)]
            )
            keep.sort()
            np.testing.assert_array_equal(
                getattr(loaded, f"{name}_weight_"),
                getattr(union, f"{name}_weight_")[keep],
            )
            np.testing.assert_array_equal(getattr(loaded, f"{name}_y_"), labels[keep])
        assert loaded.estimator.class_weight == "balanced"
        assert all(m.class_weight == "balanced" for m in loaded.estimators_)
    # add_classes on the loaded union: its old negatives and held-out patterns
    # keep the weights fit gave them
    loaded = load_model(tmp_path / "unionNone.pt", device="cpu").steps[-1][1]
    new = np.repeat(["E", "F"], 12)
    X_new = rng.random((24, 40)).astype("float32")
    loaded.add_classes(X_new, new)
    n_old = len(union.holdout_y_)
    np.testing.assert_array_equal(loaded.holdout_weight_[:n_old], union.holdout_weight_)
    assert np.all(loaded.holdout_weight_[n_old:] == 1.0)
    # an unweighted union stores none; a file from before the weights loads
    # as unweighted
    path = tmp_path / "unionNone.pt"

    def drop(payload):
        del payload["union"]["negatives_weight"], payload["union"]["holdout_weight"]

    old = load_model(_without(path, tmp_path / "old.pt", drop), device="cpu")
    assert old.steps[-1][1].negatives_weight_ is None
    assert old.steps[-1][1].holdout_weight_ is None
    np.testing.assert_array_equal(
        old.predict_proba(X), load_model(path, device="cpu").predict_proba(X)
    )


def test_evaluate_checks_space_group_labels():
    # 999 and 0 were counted wrong, 225.7 scored as 225, True as group 1
    from skxrd.pretrained._evaluate import _as_model_labels

    classes = np.array([14, 225])
    assert _as_model_labels(["225.0", "14"], classes)[0].tolist() == [225, 14]
    assert _as_model_labels([62, 14], classes)[0].tolist() == [62, 14]  # a miss
    for bad, message in [
        ([999, 14], r"no space-group numbers \(1-230\): \[999\]"),
        ([225.7, 14], "neither whole numbers nor crystal systems"),
        ([True, False], "neither whole numbers nor crystal systems"),
        ([np.nan, 14], "neither whole numbers nor crystal systems"),
    ]:
        with pytest.raises(ValueError, match=message):
            _as_model_labels(bad, classes)


def test_evaluate_reads_space_group_numbers_alike_for_coarse_models():
    # one whole-number test for both kinds of model: a crystal-system model
    # refused "225.0" (a CSV column with a gap) and, in an object column,
    # scored 225.5 as cubic and True as triclinic
    from skxrd.pretrained._evaluate import _as_model_labels

    systems = np.array(["cubic", "monoclinic", "triclinic"])
    for y in (
        [225, 14],
        [225.0, 14.0],
        ["225", "14"],
        ["225.0", "14"],
        np.array([225, 14.0], dtype=object),
    ):
        labels, level = _as_model_labels(y, systems)
        assert labels.tolist() == ["cubic", "monoclinic"] and level == "model"
    assert _as_model_labels(["cubic", "triclinic"], systems)[0].tolist() == [
        "cubic",
        "triclinic",
    ]
    for bad in ([225.5, 14.0], [True, 14], [np.nan, 14]):
        with pytest.raises(ValueError, match="not classes of the model"):
            _as_model_labels(np.array(bad, dtype=object), systems)
    with pytest.raises(ValueError, match=r"no space-group numbers \(1-230\): \[999\]"):
        _as_model_labels(["999.0", "14"], systems)


def test_evaluate_report_orders_space_groups_as_numbers():
    from skxrd.pretrained._evaluate import evaluate_model as evaluate

    class Ranked:  # predicts the true label, ranked first
        classes_ = np.array([1, 7, 10])

        def predict_top_k(self, X, k=5):
            labels = np.array(
                [[v] + [c for c in self.classes_ if c != v][: k - 1] for v in X]
            )
            return labels, np.ones(labels.shape)

    report = evaluate(Ranked(), [1, 7, 10, 10], np.array([1, 7, 10, 10]), k=1)
    rows = [
        line.split()[0]
        for line in report["classification_report"].splitlines()
        if line.strip() and line.split()[0].isdigit()
    ]
    assert rows == ["1", "7", "10"]


def test_coarse_label_classifier_errors():
    from sklearn.linear_model import LogisticRegression

    from skxrd.estimators import CoarseLabelClassifier

    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    with pytest.raises(ValueError, match="target must be one of"):
        CoarseLabelClassifier(LogisticRegression(), target="colour").fit(
            X, [1, 1, 2, 2]
        )
    with pytest.raises(ValueError, match="231"):  # not a space group, before training
        CoarseLabelClassifier(LogisticRegression()).fit(X, [1, 1, 231, 231])


# ------------------------------------------------------------ search-match
@pytest.fixture(scope="module")
def cif_references(tmp_path_factory):
    from skxrd.datasets import EXAMPLE_CRYSTALS

    folder = tmp_path_factory.mktemp("references")
    for name in EXAMPLE_CRYSTALS:
        load_example_crystal(name).to_cif(folder / f"{name}.cif")
    return folder


@pytest.mark.filterwarnings("ignore:The number of unique classes")
def test_a_config_with_a_search_match_of_a_cif_folder(tmp_path, cif_references):
    from skxrd.datasets import EXAMPLE_CRYSTALS
    from skxrd.estimators import CoarseLabelClassifier, MatchFirstClassifier
    from skxrd.inspection import saliency_map

    match = {"source": str(cif_references), "smoothing": 1.0, "stride": 2, "n_tune": 20}
    match["random_state"] = 1  # the [test] seed: a draw that the tiny n_atoms allow
    match["gate"] = "margin"
    match["prior"] = "icsd"
    cfg = {**TINY, "train_target": "space_group", "match": match}
    pipe, report = train_from_config(cfg, verbose=0)
    final = pipe.steps[-1][1]
    assert isinstance(final, CoarseLabelClassifier)
    hybrid = final.estimator_
    assert isinstance(hybrid, MatchFirstClassifier)
    assert report["match"]["n_references"] == len(EXAMPLE_CRYSTALS)
    assert report["match"]["n_tune"] == 40
    assert report["match"]["threshold"] == round(hybrid.threshold_, 4)
    assert hybrid.matcher_.references_.dtype == np.float16
    # rock salt measured with broader peaks: answered by its reference
    sim = PowderSimulator(
        two_theta_range=(10.0, 40.0), two_theta_step=0.1, crystallite_size=80
    )
    X = sim.transform([load_example_crystal("NaCl")])
    rows = pipe.transform_patterns(X)
    if hybrid.kneighbors(rows, 1)[0][0, 0] >= hybrid.threshold_:
        assert hybrid.predict_source(rows).tolist() == ["match"]
        assert pipe.predict(X).tolist() == ["cubic"]
    names = hybrid.reference_names_[hybrid.kneighbors(rows, 1)[1][:, 0]]
    assert "NaCl" in names[0]
    # the model file keeps references, names, threshold and temperatures
    path = save_model(pipe, tmp_path / "hybrid.pt", metadata=report)
    again = load_model(path)
    grid, R = _grid_patterns(pipe, n=4)
    Q = np.concatenate([rows, R])
    np.testing.assert_allclose(again.predict_proba(Q), pipe.predict_proba(Q), atol=1e-6)
    back = again.steps[-1][1].estimator_
    assert back.threshold_ == hybrid.threshold_
    assert back.gate == "margin" and back.gate_slope_ == hybrid.gate_slope_
    assert back.gate_margin_ == hybrid.gate_margin_ >= 0.0
    assert report["match"]["gate_slope"] == round(hybrid.gate_slope_, 2)
    assert report["match"]["gate_margin"] == round(hybrid.gate_margin_, 4)
    # the prior and its fitted weight (the weight of least tuning log-loss)
    assert back.prior == "icsd" and back.prior_weight_ == hybrid.prior_weight_
    assert report["match"]["prior_weight"] == round(hybrid.prior_weight_, 4)
    assert 0.0 <= hybrid.prior_weight_ < 1.0
    assert back.reference_names_.tolist() == hybrid.reference_names_.tolist()
    # a reference is named by its formula and its file
    assert {"NaCl (NaCl.cif)", "TiO2 (TiO2-rutile.cif)"} <= set(back.reference_names_)
    assert back.matcher_.temperature_ == hybrid.matcher_.temperature_
    assert back.matcher_.references_.dtype == np.float16
    assert np.isfinite(saliency_map(again, Q)).all()
    # training resumes from the network inside
    resumed, rep = train_from_config(cfg, warm_start=path, verbose=0)
    assert rep["total_epochs"] == 4
    assert isinstance(resumed.steps[-1][1].estimator_, MatchFirstClassifier)


@pytest.mark.filterwarnings("ignore:The number of unique classes")
def test_a_config_with_indexing_after_the_search_match(tmp_path, cif_references):
    from skxrd.estimators import (
        CoarseLabelClassifier,
        IndexingClassifier,
        MatchFirstClassifier,
    )
    from skxrd.estimators._match import search_match_of
    from skxrd.inspection import saliency_map
    from skxrd.pretrained import add_indexing, add_reference_match

    match = {
        "source": str(cif_references),
        "stride": 2,
        "n_tune": 12,
        "random_state": 1,
    }
    cfg = {
        **TINY,
        "train_target": "space_group",
        # a range with enough peaks to index
        "simulator": {"two_theta_range": [10.0, 90.0], "two_theta_step": 0.05},
        "match": match,
        "indexing": {
            "n_tune": 8,
            "C": 1.0,
            "first_lines": 3,
            "absences": True,
            "calibrate": True,
            "n_calibrate": 4,
            "calibrate_prior": "icsd",
        },
    }
    pipe, report = train_from_config(cfg, verbose=0)
    final = pipe.steps[-1][1]
    assert isinstance(final, CoarseLabelClassifier)
    stacked = final.estimator_
    assert isinstance(stacked, IndexingClassifier)
    assert isinstance(search_match_of(pipe), MatchFirstClassifier)
    assert stacked.scale == "linear" and stacked.C == 1.0
    # the defaults: four families, log(1 + M) and its square
    assert (stacked.families, stacked.degree, stacked.merit_cap) == ("ctho", 2, 100)
    assert stacked.max_zero_shift == 0.1 and stacked.first_lines == 3
    np.testing.assert_allclose(stacked.two_theta, pipe.steps[0][1].grid_)
    rep = report["indexing"]
    assert rep["n_tune"] == 16 and rep["augment"] is True
    assert (rep["families"], rep["degree"], rep["merit_cap"]) == ("ctho", 2, 100)
    assert rep["max_zero_shift"] == 0.1 and rep["first_lines"] == 3
    assert stacked.absences and rep["absences"] is True
    assert (rep["absence_weight"], rep["absence_min_merit"]) == (1.0, 40.0)
    assert 0 <= rep["tune_share_above_cap"] <= 1
    assert 0 <= rep["tune_crystal_system_after"] <= 1
    # the temperatures, fitted on the next 4 patterns of each draw
    assert rep["calibrate"] is True and rep["n_calibrate"] == 8
    assert rep["calibrate_prior"] == "icsd"
    assert rep["system_temperature"] == round(stacked.system_temperature_, 4)
    assert rep["group_temperature"] == round(stacked.group_temperature_, 4)
    assert rep["calibrate_log_loss_after"] <= rep["calibrate_log_loss_before"]
    # the model file keeps the stacker; the loaded model answers alike
    path = save_model(pipe, tmp_path / "indexed.pt", metadata=report)
    again = load_model(path)
    assert isinstance(again.steps[-1][1].estimator_, IndexingClassifier)
    assert again.steps[-1][1].estimator_.max_zero_shift == 0.1
    assert again.steps[-1][1].estimator_.first_lines == 3
    assert again.steps[-1][1].estimator_.absences is True
    for key in ("system_temperature_", "group_temperature_"):
        assert getattr(again.steps[-1][1].estimator_, key) == getattr(stacked, key)
    _, R = _grid_patterns(pipe, n=4)
    np.testing.assert_allclose(again.predict_proba(R), pipe.predict_proba(R), atol=1e-6)
    assert np.isfinite(saliency_map(again, R)).all()
    # fitted again (--ship-model of a shipped file): the stacker and the
    # search-match are replaced, never nested
    restacked, _ = add_indexing(again, cfg, verbose=False)
    inner = restacked.steps[-1][1].estimator_.estimator_
    assert isinstance(inner.estimator, MatchFirstClassifier)
    rematched, _ = add_reference_match(again, cfg, verbose=False)
    hybrid = rematched.steps[-1][1].estimator_
    assert isinstance(hybrid, MatchFirstClassifier)
    assert type(hybrid.estimator_).__name__ == "ResNetClassifier"
    # training resumes from the network inside
    _, rep2 = train_from_config(cfg, warm_start=path, verbose=0)
    assert rep2["total_epochs"] == 4


@pytest.mark.filterwarnings("ignore:The number of unique classes")
def test_indexing_ahead_of_the_network_gives_the_same_model(
    tmp_path, cif_references, monkeypatch
):
    # what a GPU run does (prefetch="auto" there): the references, the tuning
    # patterns and the [test] draw are simulated, and indexed, in a thread
    # while the network trains; the steps after it read them back
    import threading

    from skxrd.datasets import EXAMPLE_CRYSTALS
    from skxrd.estimators import _indexing

    computed = []
    real = _indexing._cached_merits

    def counted(X, two_theta, settings, code, n_jobs=None, verbose=False):
        computed.append((threading.current_thread().name, len(X)))
        return real(X, two_theta, settings, code, n_jobs=n_jobs, verbose=verbose)

    monkeypatch.setattr(_indexing, "_cached_merits", counted)
    cfg = {
        **TINY,
        "train_target": "space_group",
        "simulator": {"two_theta_range": [10.0, 90.0], "two_theta_step": 0.05},
        "match": {"source": str(cif_references), "stride": 2, "n_tune": 12,
                  "random_state": 1},
        "indexing": {"n_tune": 8, "first_lines": 3, "calibrate": True,
                     "n_calibrate": 4, "calibrate_prior": "icsd"},
    }  # fmt: skip
    ahead, report = train_from_config(
        cfg, cache=tmp_path / "ahead", prefetch=True, verbose=0
    )
    # the stacker's 16, the calibration's 8 and the 20 of [test]: all indexed
    # in the thread, none after the network
    assert report["prefetch"]["indexed"] == 16 + 8 + 20
    assert report["prefetch"]["references"] == len(EXAMPLE_CRYSTALS)
    assert sorted(computed) == [("skxrd-prefetch", n) for n in (8, 16, 20)]
    computed.clear()
    after, plain = train_from_config(
        cfg, cache=tmp_path / "after", prefetch=False, verbose=0
    )
    assert "prefetch" not in plain and len(computed) == 3
    assert {name for name, _ in computed} == {"MainThread"}
    assert report["indexing"] == plain["indexing"] and report["test"] == plain["test"]
    _, R = _grid_patterns(after, n=4)
    np.testing.assert_array_equal(ahead.predict_proba(R), after.predict_proba(R))
    with pytest.raises(ValueError, match="prefetch must be 'auto', True or False"):
        train_from_config(cfg, prefetch="yes", cache=tmp_path / "after", verbose=0)
    # "auto" works ahead only where a GPU trains, and only with a cache
    from skxrd.pretrained import _train

    loaded = load_config(cfg)
    net = build_pipeline(loaded).steps[-1][1].estimator.set_params(device="cpu")
    assert _train._start_prefetch(loaded, net, "auto", tmp_path, None) is None
    assert _train._start_prefetch(loaded, net, True, None, None) is None
    # a failure ahead is reported, and the steps after the network do the work

    def broken(config, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(_train, "_prefetch", broken)
    wait = _train._start_prefetch(loaded, net, True, tmp_path, None)
    with pytest.warns(
        RuntimeWarning, match=r"ahead of the network failed \(OSError"
    ) as rec:
        assert wait() == {"error": "OSError: disk full"}
    assert rec[0].filename == __file__  # the caller's line


def test_warnings_of_the_data_and_the_prefetch_name_the_callers_line(
    tmp_path, monkeypatch
):
    # fixed stacklevels pointed into skxrd's _train.py when train_from_config
    # (or skxrd train, or a tool) built the data and waited for the prefetch
    import glob
    import warnings

    from skxrd.pretrained import _train

    def said(record):
        return {str(w.message)[:19]: w.filename for w in record}

    cfg = {**TINY, "data": {**TINY["data"], "n_variants": 2}}
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        train_from_config(cfg, cache=tmp_path, verbose=0)
    assert said(record) == {"n_variants and vari": __file__}
    for entry in glob.glob(str(tmp_path / "**" / "*.npz"), recursive=True):
        with open(entry, "wb") as fh:
            fh.write(b"damaged")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        train_from_config(cfg, cache=tmp_path, verbose=0)
    assert said(record) == {
        "n_variants and vari": __file__,
        "dataset cache entry": __file__,
    }
    assert len(record) == 3  # the [data] and the [test] entries

    def broken(config, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(_train, "_prefetch", broken)
    # (the search-match itself is not what is tested here)
    monkeypatch.setattr(_train, "add_reference_match", lambda pipe, c, **k: (pipe, {}))
    cfg = {**TINY, "match": {"source": str(tmp_path)}}
    with pytest.warns(RuntimeWarning, match="ahead of the network failed") as rec:
        train_from_config(cfg, cache=tmp_path, prefetch=True, verbose=0)
    assert [w.filename for w in rec] == [__file__]


@pytest.mark.parametrize(
    "indexing, match, message",
    [
        ({"n_tune": 10}, False, "add a \\[match\\] section"),
        ({"colour": 1}, True, "unknown \\[indexing\\] keys \\['colour'\\]"),
        ({"n_tune": 50}, True, "n_tune 50 is more than the 20"),
        ({"C": 0, "n_tune": 10}, True, "C must be positive"),
        ({"augment": "yes", "n_tune": 10}, True, "augment must be true or false"),
        ({"families": "ctx", "n_tune": 10}, True, "families must be distinct letters"),
        ({"degree": 3, "n_tune": 10}, True, "degree must be 1 or 2"),
        ({"merit_cap": -1, "n_tune": 10}, True, "merit_cap must be a positive"),
        ({"max_zero_shift": 1.5, "n_tune": 10}, True, "max_zero_shift must be"),
        ({"first_lines": 7, "n_tune": 10}, True, "first_lines must be between"),
        ({"absences": 1, "n_tune": 10}, True, "absences must be True or False"),
        ({"absence_weight": -2, "n_tune": 10}, True, "absence_weight must be"),
        ({"absence_min_merit": "x", "n_tune": 10}, True, "absence_min_merit must"),
        ({"kbeta_leak": 1.5, "n_tune": 10}, True, "kbeta_leak must be"),
        ({"low_angle": "yes", "n_tune": 10}, True, "low_angle must be a number"),
        (
            {"kbeta_leak": 0.5, "augment": False, "n_tune": 10},
            True,
            "kbeta_leak needs augment = true",
        ),
        (
            {"low_angle": 0.5, "augment": False, "n_tune": 10},
            True,
            "low_angle needs augment = true",
        ),
        ({"n_tune": 10}, "crystal_system", 'train_target = "space_group"'),
        ({"calibrate": "yes", "n_tune": 10}, True, "calibrate must be true or false"),
        (
            {"calibrate": True, "calibrate_prior": "pdf4", "n_tune": 10},
            True,
            "calibrate_prior must be 'none' or one of icsd",
        ),
        ({"calibrate_prior": "icsd", "n_tune": 10}, True, "needs calibrate = true"),
        (
            {"calibrate": True, "n_calibrate": 11, "n_tune": 10},
            True,
            "n_tune 10 and n_calibrate 11 are more than the 20",
        ),
        ({"n_calibrate": 0, "n_tune": 10}, True, "n_calibrate must be"),
    ],
)
def test_bad_indexing_sections_are_named(indexing, match, message):
    target = match if isinstance(match, str) else "space_group"
    cfg = {**TINY, "train_target": target, "indexing": indexing}
    if match:
        cfg["match"] = {"source": "amcsd", "n_tune": 20}
    with pytest.raises(ValueError, match=message):
        load_config(cfg)


def test_bad_indexing_augmentation_for_the_simulator_is_named():
    match = {"source": "amcsd", "n_tune": 20}
    late = {**TINY, "train_target": "space_group", "match": match}
    late["simulator"] = {"two_theta_range": [10.0, 90.0]}
    late["indexing"] = {"n_tune": 10, "low_angle": 0.3}
    with pytest.raises(ValueError, match="grid starts at 10°"):
        load_config(late)
    mo = {**TINY, "train_target": "space_group", "match": match}
    mo["simulator"] = {"wavelength": 0.7}
    mo["indexing"] = {"n_tune": 10, "kbeta_leak": 0.3}
    with pytest.raises(ValueError, match="names an anode"):
        load_config(mo)


def test_the_indexing_tuning_augmentation_adds_measured_stray_lines():
    import torch

    from skxrd.augmentation import sample_augmentation
    from skxrd.indexing import peak_positions
    from skxrd.pretrained._train import _indexing_augmentation, _simulator

    cfg = load_config(
        {
            **TINY,
            "train_target": "space_group",
            "simulator": {"two_theta_range": [5.0, 60.0], "two_theta_step": 0.02},
            "match": {"source": "amcsd", "n_tune": 20},
            "indexing": {"n_tune": 10},
        }
    )
    tt = _simulator(cfg).two_theta
    lines = [20.0, 31.0, 44.0, 58.0]
    x = sum(np.exp(-0.5 * ((tt - c) / 0.03) ** 2) for c in lines)
    X = torch.as_tensor(np.tile(x, (6, 1)), dtype=torch.float32)

    KB = 1.392218 / 1.540562  # Cu Kβ1 / Kα1

    def run(kbeta, low):
        section = {**cfg["indexing"], "kbeta_leak": kbeta, "low_angle": low}
        aug = _indexing_augmentation(section, cfg)
        return aug(X, generator=torch.Generator().manual_seed(3)).numpy()

    # no shares: sample_augmentation itself, draw for draw
    plain = sample_augmentation(tt)(X, generator=torch.Generator().manual_seed(3))
    np.testing.assert_array_equal(run(0.0, 0.0), plain.numpy())
    # the same draws first, then the stray lines: Kβ copies at 1-5 % where
    # sin θβ = sin θα λβ / λα, and one line below 7.5° at 2-20 %
    base = plain.numpy()
    kbeta = np.degrees(2 * np.arcsin(np.sin(np.radians(np.array(lines) / 2)) * KB))
    copies = run(1.0, 0.0) - base
    low = run(0.0, 1.0) - base
    for c, l_ in zip(copies, low):
        where = tt[np.argmax(c)]
        assert np.abs(kbeta - where).min() < 0.3  # the sample's shifts move it
        assert 0.005 < c.max() < 0.06
        assert 5.0 <= tt[np.argmax(l_)] <= 7.5 and 0.015 < l_.max() < 0.21
    both = run(1.0, 1.0)
    assert np.allclose(both.max(axis=1), 1.0)
    for row in both:
        assert (peak_positions(tt, row, radiation="CuKa") < 7.5).sum() == 1


def test_a_damaged_search_match_in_a_model_file_is_named(tiny, tmp_path, monkeypatch):
    from skxrd.estimators import MatchFirstClassifier, PatternMatchClassifier
    from skxrd.pretrained import _store

    pipe, _, _ = tiny
    grid, X = _grid_patterns(pipe, n=6)
    rows = pipe.transform_patterns(X)
    net = pipe.steps[-1][1]
    matcher = PatternMatchClassifier().fit(rows, net.predict(rows))
    hybrid = PatternPipeline(
        pipe.steps[:-1]
        + [("classifier", MatchFirstClassifier.from_fitted(net, matcher, 0.9))]
    )
    record = _store._match_record

    def damaged(h):
        rec = record(h)
        rec["references"] = rec["references"][:, :-1]  # a column short
        return rec

    monkeypatch.setattr(_store, "_match_record", damaged)
    path = save_model(hybrid, tmp_path / "damaged.pt")
    with pytest.raises(ValueError, match="damaged.pt: the search-match references"):
        load_model(path)


# ------------------------------------------------------ structure-type configs
_STRUCTURE_TYPE_TOML = """
target = "structure_type"
[data]
n_crystals = 24
prototypes = ["rocksalt", "cscl", "fluorite", "perovskite"]
n_variants = 2
instrument = "measured_like"
random_state = 0
[test]
n_crystals = 8
prototypes = ["rocksalt", "cscl", "fluorite", "perovskite"]
random_state = 1
[simulator]
two_theta_range = [10.0, 60.0]
two_theta_step = 0.1
[preprocessing]
scale = "sqrt"
[classifier]
type = "UnionClassifier"
max_classes_per_member = 2
negatives_per_class = 2
holdout_per_class = 2
random_state = 0
[classifier.member]
type = "CNNClassifier"
channels = [4]
max_epochs = 2
augment = "sample"
random_state = 0
"""


def test_a_structure_type_config_trains_a_calibrated_union(tmp_path):
    from skxrd.estimators import UnionClassifier

    path = tmp_path / "types.toml"
    path.write_text(_STRUCTURE_TYPE_TOML)
    cfg = load_config(path)
    pipe = build_pipeline(cfg)
    assert pipe.steps[-2][1].scale == "sqrt"
    assert isinstance(pipe.steps[-1][1], UnionClassifier)
    with pytest.raises(ValueError, match="checkpoint_dir resumes one network"):
        train_from_config(path, checkpoint_dir=tmp_path / "ckpt", verbose=0)
    pipe, report = train_from_config(path, verbose=0)
    union = pipe.steps[-1][1]
    assert sorted(union.classes_) == ["cscl", "fluorite", "perovskite", "rocksalt"]
    assert len(union.estimators_) == 2
    # a tenth of the compounds (with their variants) fitted the temperature
    assert report["n_train"] + report["n_calibration"] == 48  # 24 compounds x 2
    assert report["n_calibration"] > 0 and report["temperature"] == union.temperature_
    assert report["test"]["n"] == 8 and report["n_epochs"] == 2
    # the model file keeps the union (add_classes on a loaded one: below)
    saved = load_model(save_model(pipe, tmp_path / "types.pt", metadata=report))
    grid = saved.steps[0][1].grid_
    np.testing.assert_allclose(
        saved.predict_proba(np.ones((2, len(grid)))),
        pipe.predict_proba(np.ones((2, len(grid)))),
        atol=1e-6,
    )
    # a compact file: fewer stored patterns for add_classes, in float16
    small = save_model(
        pipe,
        tmp_path / "small.pt",
        union_patterns_per_class=1,
        union_patterns_dtype="float16",
    )
    assert small.stat().st_size < (tmp_path / "types.pt").stat().st_size
    compact = load_model(small).steps[-1][1]
    assert compact.negatives_X_.dtype == np.float32
    for stored in (compact.negatives_y_, compact.holdout_y_):
        assert np.unique(stored, return_counts=True)[1].max() == 1
    np.testing.assert_allclose(
        load_model(small).predict_proba(np.ones((2, len(grid)))),
        pipe.predict_proba(np.ones((2, len(grid)))),
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="union_patterns_dtype must be"):
        save_model(pipe, tmp_path / "x.pt", union_patterns_dtype="int8")
    # a training run cannot continue a union: it grows by add_classes
    with pytest.raises(ValueError, match="not warm-started"):
        train_from_config(path, warm_start=tmp_path / "types.pt", verbose=0)


@pytest.mark.parametrize(
    "change, message",
    [
        ('split = "train"\n[test]', r"\[data\] split is for real structures"),
        ('source = "amcsd"\n[test]', r"\[data\] target='structure_type' takes"),
        ("[match]\nthreshold = 0.9\n[test]", r"\[match\] is for symmetry targets"),
    ],
)
def test_bad_structure_type_configs(tmp_path, change, message):
    path = tmp_path / "types.toml"
    path.write_text(_STRUCTURE_TYPE_TOML.replace("[test]", change, 1))
    with pytest.raises(ValueError, match=message):
        load_config(path)
    network = _STRUCTURE_TYPE_TOML.replace(
        'type = "UnionClassifier"', 'type = "CNNClassifier"'
    )
    path.write_text(network)
    with pytest.raises(ValueError, match="learned by a UnionClassifier"):
        load_config(path)
    # a member's parameter is named in its own section
    path.write_text(_STRUCTURE_TYPE_TOML.replace("max_epochs = 2", 'max_epochs = "x"'))
    with pytest.raises(ValueError, match=r"\[classifier\.member\] max_epochs must be"):
        load_config(path)


def test_skxrd_train_applies_the_save_section(tmp_path, capsys):
    from skxrd.cli import main

    path = tmp_path / "types.toml"
    save = '\n[save]\nunion_patterns_per_class = 2\nunion_patterns_dtype = "float16"\n'
    path.write_text(_STRUCTURE_TYPE_TOML + save)
    out = tmp_path / "types.pt"
    assert main(["train", str(path), "-o", str(out), "--quiet"]) == 0
    payload = torch.load(out, weights_only=True)
    assert payload["union"]["negatives_X"].dtype == torch.float16
    _, counts = np.unique(payload["union"]["holdout_y"], return_counts=True)
    assert counts.max() <= 2
    union = load_model(out).steps[-1][1]
    assert len(union.classes_) == 4 and union.temperature_ != 1.0


def test_shipped_structure_type_model_names_types_and_learns_new_ones(tmp_path):
    from skxrd.datasets import STRUCTURE_TYPES, make_structure_type_crystals
    from skxrd.estimators import (
        IndexingClassifier,
        SymmetryWeightedClassifier,
        UnionClassifier,
    )

    model = load_pretrained("structure-type", device="cpu")
    weighed = model.steps[-1][1]
    # the union, weighed by the shipped space-group model
    assert isinstance(weighed, SymmetryWeightedClassifier)
    union = weighed.estimator_
    assert isinstance(union, UnionClassifier)
    assert isinstance(weighed.symmetry_estimator_, IndexingClassifier)
    assert 0 < weighed.weight_ <= 4
    assert sorted(union.classes_) == sorted(STRUCTURE_TYPES)
    assert (weighed.class_space_groups_ > 0).all()
    # rutile measured at a synchrotron wavelength, on another grid
    sim = PowderSimulator(
        radiation="xray",
        wavelength=0.7293,
        two_theta_range=(2, 40),
        crystallite_size=200,
    )
    x = sim.transform([load_example_crystal("TiO2-rutile")])[0]
    labels, proba = model.predict_top_k(
        [Pattern(sim.two_theta, x, wavelength=0.7293)], k=3
    )
    assert labels[0, 0] == "rutile" and proba[0, 0] > 0.5
    # what the union-ended pipeline had: confidence and recalibration
    pattern = [Pattern(sim.two_theta, x, wavelength=0.7293)]
    assert model.predict_confidence(pattern)[0] == pytest.approx(proba[0, 0])
    assert hasattr(model, "calibrate_temperature")
    # two types of one's own, as in the user guide (few epochs: a test)
    crystals, y, _ = make_structure_type_crystals(
        [load_example_crystal("Al2O3"), load_example_crystal("LiCoO2")],
        12,
        random_state=0,
    )
    y = np.array([f"my-{t}" for t in y])
    grid = PowderSimulator(two_theta_range=(5, 90), two_theta_step=0.02)
    X = model[:-1].transform(grid.transform(crystals))
    before = [
        {k: v.clone() for k, v in m.net_.module_.state_dict().items()}
        for m in union.estimators_
    ]
    union.estimator.set_params(max_epochs=3, num_threads=1)
    weighed.add_classes(X, y, space_groups={"my-Al2O3": 167})
    assert len(union.classes_) == len(STRUCTURE_TYPES) + 2
    groups = dict(zip(weighed.classes_, weighed.class_space_groups_.tolist()))
    assert groups["my-Al2O3"] == 167 and groups["my-LiCoO2"] == 0
    for b, m in zip(before, union.estimators_):
        after = m.net_.module_.state_dict()
        assert all(torch.equal(v, after[k]) for k, v in b.items())
    assert np.isin(union.predict(X), union.classes_).all()
    assert model.predict_proba(grid.transform(crystals)).shape[1] == len(union.classes_)
    # saved as the pretrained-models guide says: the grown union and a view
    # that weighs it by the shipped space-group model
    grown = PatternPipeline(model.steps[:-1] + [("union", weighed.estimator_)])
    save_model(grown, tmp_path / "my-types-union.pt", metadata=model.metadata_)
    groups = {c: g for c, g in zip(weighed.classes_, weighed.class_space_groups_) if g}
    view = save_symmetry_view(
        tmp_path / "my-types.json",
        tmp_path / "my-types-union.pt",
        "space-group",
        weight=weighed.weight_,
        class_space_groups=groups,
    )
    again = load_model(view, device="cpu")
    np.testing.assert_array_equal(
        again[-1].class_space_groups_, weighed.class_space_groups_
    )
    patterns = grid.transform(crystals[:4])
    np.testing.assert_allclose(
        again.predict_proba(patterns), model.predict_proba(patterns), atol=1e-6
    )


@pytest.mark.parametrize(
    "section, message",
    [
        ("[symmetry]\nweight = 1.0", r"unknown \[symmetry\] keys \['weight'\]"),
        ('[symmetry]\nmodel = "nope"', "neither a .pt file nor a shipped model"),
        ("[symmetry]\ncalibration_seed = 1", r"must differ from the \[test\] random_"),
        ("[symmetry]\ncalibration_seed = -2", "an integer >= 0"),
    ],
)
def test_bad_symmetry_sections(tmp_path, section, message):
    path = tmp_path / "types.toml"
    path.write_text(_STRUCTURE_TYPE_TOML + section + "\n")
    with pytest.raises(ValueError, match=message):
        load_config(path)


def test_a_symmetry_section_needs_structure_types_and_a_test_draw(tmp_path):
    path = tmp_path / "types.toml"
    path.write_text(_STRUCTURE_TYPE_TOML + "[symmetry]\n")
    assert load_config(path)["symmetry"] == {
        "model": "space-group",
        "calibration_seed": 2,  # the [test] seed + 1
    }
    no_test = (
        _STRUCTURE_TYPE_TOML.split("[test]")[0]
        + _STRUCTURE_TYPE_TOML.split("random_state = 1\n")[1]
    )
    path.write_text(no_test + "[symmetry]\n")
    with pytest.raises(ValueError, match=r"the config has no \[test\]"):
        load_config(path)
    with pytest.raises(ValueError, match="weighs structure types"):
        load_config({**TINY, "symmetry": {}})


def test_skxrd_train_writes_a_symmetry_weighted_view(tmp_path, capsys):
    """A [symmetry] config: the union as NAME-union.pt, the view at -o."""
    from skxrd.cli import main
    from skxrd.estimators import SymmetryWeightedClassifier

    groups = {
        "target": "space_group",
        "data": {"n_crystals": 40, "random_state": 0, "space_groups": [221, 225]},
        "simulator": {"two_theta_range": [10.0, 60.0], "two_theta_step": 0.1},
        "preprocessing": {"scale": "sqrt"},
        "classifier": {"type": "CNNClassifier", "channels": [4], "max_epochs": 2,
                       "random_state": 0},
    }  # fmt: skip
    sg, _ = train_from_config(groups, verbose=0)
    save_model(sg, tmp_path / "groups.pt")
    path = tmp_path / "types.toml"
    path.write_text(
        _STRUCTURE_TYPE_TOML
        + f'[symmetry]\nmodel = "{tmp_path / "groups.pt"}"\ncalibration_seed = 3\n'
    )
    # errors in what the user gave: exit status 2 and one line, before training
    assert main(["train", str(path), "-o", str(tmp_path / "types.pt"), "--quiet"]) == 2
    assert "-o must be a .json file" in capsys.readouterr().err
    out = tmp_path / "types.json"
    union_file = tmp_path / "types-union.pt"
    union_file.write_bytes(b"mine")  # the union's file, beside -o, is kept too
    assert main(["train", str(path), "-o", str(out), "--quiet"]) == 2
    assert f"{union_file} exists; use --force" in capsys.readouterr().err
    assert union_file.read_bytes() == b"mine" and not out.exists()
    union_file.unlink()
    assert main(["train", str(path), "-o", str(out), "--quiet"]) == 0
    assert (tmp_path / "types-union.pt").is_file()
    model = load_model(out)
    weighed = model.steps[-1][1]
    assert isinstance(weighed, SymmetryWeightedClassifier)
    meta = model.metadata_["symmetry"]
    assert meta["symmetry_calibration_seed"] == 3
    assert weighed.weight_ == meta["symmetry_weight"] >= 0
    # the union file alone keeps its own report, without the weighing
    union = load_model(tmp_path / "types-union.pt")
    assert "symmetry" not in union.metadata_ and "test" in union.metadata_
    # a symmetry model elsewhere than -o's folder is refused before training
    other = tmp_path / "sub"
    other.mkdir()
    capsys.readouterr()
    assert main(["train", str(path), "-o", str(other / "types.json"), "--quiet"]) == 2
    assert "in the folder of -o" in capsys.readouterr().err
