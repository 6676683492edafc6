"""The Predictor behind ``skxrd predict``: a pipeline's answers without
scikit-learn or torch, equal to the pipeline's (the probabilities in float32
rounding: the ResNets run in numpy)."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
import warnings
from importlib import resources

import numpy as np
import pytest
from tiny_model import TINY

from skxrd.cli import _best_matches, _indexed_cells, _screen
from skxrd.datasets import load_example_crystal, load_measured_examples
from skxrd.io import Pattern
from skxrd.preprocessing import PatternSmoother
from skxrd.pretrained import _weights_file, load_model, load_pretrained, save_model
from skxrd.pretrained._runtime import Predictor, load_predictor
from skxrd.pretrained._train import train_from_config
from skxrd.simulation import PowderSimulator


def _patterns():
    """The ten bundled measured patterns, a simulated one that covers part of
    the model range (a warning), a flat line and a sine (screened out)."""
    patterns = list(load_measured_examples().patterns)
    mo = PowderSimulator(radiation="MoKa", two_theta_range=(4, 20), two_theta_step=0.01)
    nacl = mo.transform([load_example_crystal("NaCl")])[0]
    patterns.append(Pattern(mo.two_theta, nacl, wavelength="MoKa", name="NaCl"))
    x = np.linspace(5, 90, 4000)
    patterns.append(Pattern(x, np.ones_like(x), wavelength="CuKa", name="flat"))
    patterns.append(Pattern(x, 2 + np.sin(x / 3), wavelength="CuKa", name="sine"))
    return patterns


def _assert_same_proba(light, full):
    """The numpy network's probabilities: torch's in float32 rounding."""
    np.testing.assert_allclose(light, full, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(light.argmax(1), full.argmax(1))


def _assert_same_ranking(light, full, classes, atol=1e-5):
    """The top-k labels in the same order, but for near-ties: two classes
    whose probabilities agree within float32 rounding may come in either
    order on the two paths (a tiny trained model can make such a tie)."""
    index = {c: k for k, c in enumerate(classes)}
    for i, (a, b) in enumerate(zip(light["labels"], full["labels"])):
        for j in np.flatnonzero(a != b):
            pa = full["proba"][i, index[a[j]]]
            pb = full["proba"][i, index[b[j]]]
            assert abs(pa - pb) <= 2 * atol, (i, j, a[j], b[j], pa, pb)


def _answers(model, patterns):
    """Everything ``skxrd predict`` reads from a model, with the warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        proba = model.predict_proba(patterns)
        labels, top = model.predict_top_k(patterns, k=5)
    return {
        "proba": proba,
        "labels": labels,
        "top": top,
        "warnings": sorted({str(w.message) for w in caught}),
        "screen": _screen(model, patterns),
        "matches": _best_matches(model, patterns),
        "cells": _cell_values(_indexed_cells(model, patterns)),
    }


def _cell_values(found):
    """Per pattern the peak count and, per lattice type, None or the cell's
    merit, lengths, angles, lines and zero shift (comparable with ==)."""
    if found is None:
        return None
    keys = ("figure_of_merit", "a", "b", "c", "alpha", "beta", "gamma", "zero_shift")
    return [
        (
            n,
            {
                lat: None
                if sol is None
                else (*(round(getattr(sol, k), 6) for k in keys), sol.n_indexed)
                for lat, sol in cells.items()
            },
        )
        for n, cells in found
    ]


def _resample_pipeline():
    """A tiny fitted pipeline: resampling onto 10-58° in 1° steps, max
    normalization and a one-epoch CNN."""
    from skxrd.estimators import CNNClassifier
    from skxrd.preprocessing import PatternNormalizer, PatternResampler
    from skxrd.pretrained import PatternPipeline

    rng = np.random.default_rng(0)
    X, y = rng.random((12, 48)), np.repeat([225, 14], 6)
    pipe = PatternPipeline(
        [
            ("resample", PatternResampler(two_theta=(10.0, 58.0, 1.0))),
            ("normalize", PatternNormalizer()),
            ("classifier", CNNClassifier(max_epochs=1, num_threads=1, random_state=0)),
        ]
    ).fit(X, y)
    return pipe


def _edit_model_file(path, edit):
    """Change a saved model file's payload in place (``edit(payload)``), with
    its digest made anew: a file as another version would have written it."""
    import torch

    from skxrd.pretrained._store import _DIGEST, _digest

    payload = torch.load(path, weights_only=True)
    edit(payload)
    payload.pop(_DIGEST)
    payload[_DIGEST] = _digest(payload)
    torch.save(payload, path)


@pytest.mark.parametrize(
    "name", ["crystal-system", "bravais-lattice", "space-group", "structure-type"]
)
def test_predictor_answers_as_the_shipped_pipeline(name):
    with resources.as_file(_weights_file(name)) as file:
        predictor = load_predictor(file)
    assert isinstance(predictor, Predictor)
    pipeline = load_pretrained(name, device="cpu")
    patterns = _patterns()
    light, full = _answers(predictor, patterns), _answers(pipeline, patterns)
    _assert_same_proba(light["proba"], full["proba"])
    np.testing.assert_array_equal(light["labels"], full["labels"])
    np.testing.assert_allclose(light["top"], full["top"], rtol=0, atol=1e-5)
    assert light["warnings"] == full["warnings"] and "NaCl" in light["warnings"][0]
    assert light["screen"] == full["screen"]
    assert light["screen"][-2:] != [None, None]  # the flat line and the sine
    assert light["matches"] == full["matches"]
    # the cells the indexing found, through the Predictor and through the
    # IndexingClassifier inside the pipeline's wrappers
    assert light["cells"] == full["cells"]
    if name == "structure-type":  # weighed by a model that indexes; none itself
        assert light["cells"] is None
    else:
        assert len(light["cells"]) == len(patterns)
        assert any(sol for _, cells in light["cells"] for sol in cells.values())
    if name != "structure-type":
        assert any(m["answered_by"] == "search-match" for m in light["matches"])
        assert any(m["answered_by"] == "network" for m in light["matches"])
    else:
        # the union has no search-match: the space-group model that weighs
        # it has, and its references are the ones shown (they were none)
        assert all(m["answered_by"] == "network" for m in light["matches"])
        assert any(m["weighed_by"] == "search-match" for m in light["matches"])
        closest = _best_matches(predictor, patterns, k=3)
        assert closest == _best_matches(pipeline, patterns, k=3)
        assert all(len(m["closest"]) == 3 for m in closest)
    np.testing.assert_array_equal(predictor.classes_, pipeline.classes_)
    assert predictor.metadata_ == pipeline.metadata_
    np.testing.assert_array_equal(
        predictor.transform_patterns(patterns[:3]),
        pipeline.transform_patterns(patterns[:3]),
    )


@pytest.mark.parametrize("also", ["M", "x", "monoclinic", None])
def test_predictor_cells_refuses_an_also_it_cannot_search(also):
    # Predictor.cells(also="M") searched no monoclinic cell and said nothing
    # ("monoclinic" searched its letters), where IndexingClassifier.cells
    # names the bad value
    with resources.as_file(_weights_file("crystal-system")) as file:
        predictor = load_predictor(file)
    with pytest.raises(ValueError, match=r"also must be distinct letters of 'cthoma'"):
        predictor.cells(_patterns()[:1], also=also)
    with pytest.raises(ValueError, match="return_n_peaks must be True or False"):
        predictor.cells(_patterns()[:1], return_n_peaks="no")


@pytest.mark.parametrize("k", [0, -1, 2.5, True, "3", None])
def test_predictor_best_matches_refuses_a_bad_k(k):
    # k=-1 returned all references but one, k=0 none, k="3" a TypeError
    # from a comparison: MatchFirstClassifier.kneighbors names its bad value
    with resources.as_file(_weights_file("crystal-system")) as file:
        predictor = load_predictor(file)
    with pytest.raises(ValueError, match=r"^k must be"):
        predictor.best_matches(_patterns()[:1], k)


def test_predictor_runs_a_shift_tolerant_search_match_as_the_pipeline(tmp_path):
    from skxrd.estimators._match import search_match_of

    pipeline = load_pretrained("space-group", device="cpu")
    search_match_of(pipeline).matcher_.set_params(max_shift=6, shift_step=3)
    path = save_model(pipeline, tmp_path / "shifts.pt", metadata=pipeline.metadata_)
    predictor = load_predictor(path)
    assert isinstance(predictor, Predictor)
    # the patterns moved by 0.1 deg: a zero error the shifts forgive
    patterns = [
        Pattern(p.two_theta + 0.1, p.intensity, wavelength=p.wavelength, name=p.name)
        for p in _patterns()
    ]
    light, full = _answers(predictor, patterns), _answers(pipeline, patterns)
    _assert_same_proba(light["proba"], full["proba"])
    assert light["matches"] == full["matches"]
    plain = load_pretrained("space-group", device="cpu")
    best = [m["similarity"] for m in full["matches"] if m is not None]
    before = [m["similarity"] for m in _answers(plain, patterns)["matches"] if m]
    assert all(a >= b - 1e-6 for a, b in zip(best, before))
    assert max(a - b for a, b in zip(best, before)) > 0.01


def test_predictor_of_a_trained_model_file(tiny):
    _, _, path = tiny
    predictor, pipeline = load_predictor(path), load_model(path, device="cpu")
    patterns = _patterns()
    light, full = _answers(predictor, patterns), _answers(pipeline, patterns)
    _assert_same_proba(light["proba"], full["proba"])
    _assert_same_ranking(light, full, pipeline.classes_)
    assert light["matches"] == full["matches"] == [None] * len(patterns)
    assert light["screen"] == full["screen"]
    np.testing.assert_array_equal(
        predictor.predict(patterns[:2]), pipeline.predict(patterns[:2])
    )
    with pytest.raises(ValueError, match="k must be"):
        predictor.predict_top_k(patterns[:1], k=0)
    with pytest.raises(TypeError, match="list of Pattern"):
        predictor.predict_proba(np.zeros((1, 300)))


@pytest.mark.parametrize("method", ["median", "savgol"])
def test_predictor_runs_a_smoothing_step_as_the_pipeline(tiny, tmp_path, method):
    pipe, _, _ = tiny
    n = pipe.steps[0][1].grid_.size
    step = PatternSmoother(window_length=5, polyorder=2, method=method)
    smoothed = type(pipe)(
        pipe.steps[:1] + [("denoise", step.fit(np.zeros((1, n))))] + pipe.steps[1:]
    )
    path = save_model(smoothed, tmp_path / f"{method}.pt")
    predictor, pipeline = load_predictor(path), load_model(path, device="cpu")
    assert isinstance(predictor, Predictor)
    patterns = _patterns()
    _assert_same_proba(
        predictor.predict_proba(patterns), pipeline.predict_proba(patterns)
    )


def test_predictor_declines_an_even_smoothing_window(tiny, tmp_path):
    # PatternSmoother refuses an even window_length (no centre point): a model
    # file with one is not run by the predictor either, whose answers would
    # differ from the full loader's error
    pipe, _, _ = tiny
    n = pipe.steps[0][1].grid_.size
    step = PatternSmoother(window_length=5, method="median").fit(np.zeros((1, n)))
    step.set_params(window_length=4)  # as a file written before the rule
    even = type(pipe)(pipe.steps[:1] + [("denoise", step)] + pipe.steps[1:])
    path = save_model(even, tmp_path / "even.pt")
    assert load_predictor(path) is None
    with pytest.raises(ValueError, match="window_length must be odd"):
        load_model(path, device="cpu").predict_proba(_patterns()[:1])


def test_predictor_declines_what_it_does_not_run(tiny, tmp_path):
    pipe, _, _ = tiny
    arrays_only = type(pipe)(pipe.steps[1:])  # no resampler: no Patterns
    path = save_model(arrays_only, tmp_path / "arrays.pt")
    assert load_predictor(path) is None
    n = pipe.steps[0][1].grid_.size
    assert load_model(path, device="cpu").predict(np.zeros((1, n))).shape == (1,)
    bf16 = copy.deepcopy(pipe)
    bf16.steps[-1][1].set_params(precision="bf16")  # autocast on the CPU too
    assert load_predictor(save_model(bf16, tmp_path / "bf16.pt")) is None
    _, _, tiny_path = tiny
    for device in ("cuda", "cuda:1", "mps"):  # the pipeline's (and its errors)
        assert load_predictor(tiny_path, device=device) is None
    assert isinstance(load_predictor(tiny_path, device="cpu"), Predictor)


def test_predictor_refuses_a_damaged_file_as_load_model_does(tiny, tmp_path):
    _, _, path = tiny
    broken = tmp_path / "broken.pt"
    shutil.copy(path, broken)
    broken.write_bytes(broken.read_bytes()[:-100])  # truncated
    with pytest.raises(ValueError) as full:
        load_model(broken)
    with pytest.raises(ValueError) as light:
        load_predictor(broken)
    assert str(light.value) == str(full.value) and str(broken) in str(light.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_predictor(tmp_path / "missing.pt")


@pytest.mark.parametrize("name", ["space-group.pt", "structure-type.json"])
def test_predictor_imports_neither_torch_nor_scikit_learn(name):
    """What makes ``skxrd predict`` answer within 2 s on a CPU: importing
    torch takes 1.4-1.8 s there, scikit-learn and skorch a second more."""
    from skxrd.utils._torch import cuda_may_be_available

    # "auto" (the command line's default) asks torch only where a CUDA
    # driver is installed
    device = "cpu" if cuda_may_be_available() else "auto"
    data = load_measured_examples("ssrl")
    files = [(str(f), p.wavelength) for f, p in zip(data.files, data.patterns)]
    code = (
        "import sys, warnings; from importlib import resources; "
        "from skxrd.io import read_pattern; "
        "from skxrd.pretrained._runtime import load_predictor; "
        "p = load_predictor(resources.files('skxrd.pretrained') / "
        f"'weights/{name}', device={device!r}); "
        f"pats = [read_pattern(f, wavelength=w) for f, w in {files!r}]; "
        "warnings.simplefilter('ignore'); p.predict_top_k(pats); p.screen(pats); "
        "p.best_matches(pats); "
        "print([m for m in ('torch', 'sklearn', 'skorch', 'pandas', "
        "'skxrd.estimators._base') if m in sys.modules])"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "combiner, subsets",
    [
        ("reliability", [["A", "B"], ["C", "D", "E", "F"]]),
        ("learned", [["A", "B"], ["C", "D"], ["E", "F"]]),
        ("learned", [["A", "B"], ["C", "D", "E", "F"]]),  # a binary router
    ],
)
def test_predictor_of_a_union_model_file(tmp_path, combiner, subsets):
    from skxrd.estimators import ResNetClassifier, UnionClassifier
    from skxrd.preprocessing import PatternNormalizer, PatternResampler
    from skxrd.pretrained import PatternPipeline

    grid = 10.0 + np.arange(48)
    rng = np.random.default_rng(0)
    y = np.repeat(list("ABCDEF"), 10)
    X = rng.random((60, 48))
    for i, label in enumerate("ABCDEF"):
        X[y == label, 4 + 7 * i] += 4.0
    member = ResNetClassifier(
        depth=1, width=4, max_epochs=3, lr=1e-2, confidence_head=True,
        validation_fraction=None, num_threads=1, random_state=0,
    )  # fmt: skip
    union = UnionClassifier(
        member, class_subsets=subsets, combiner=combiner, holdout_per_class=3,
        random_state=0,
    )  # fmt: skip
    pipe = PatternPipeline(
        [
            ("resample", PatternResampler(two_theta=(10.0, 58.0, 1.0))),
            ("normalize", PatternNormalizer(scale="sqrt")),
            ("classifier", union),
        ]
    ).fit(X, y)
    path = save_model(pipe, tmp_path / "union.pt")
    predictor = load_predictor(path)
    patterns = [Pattern(grid, x, wavelength="CuKa") for x in X[::5]]
    if len(pipe.steps[-1][1].estimators_) == 2 and combiner == "learned":
        assert predictor is None  # the pipeline's LogisticRegression answers
        return
    assert pipe.steps[-1][1].combiner_ == combiner
    _assert_same_proba(
        predictor.predict_proba(patterns),
        load_model(path, device="cpu").predict_proba(patterns),
    )


@pytest.mark.parametrize(
    "network",
    [
        {"type": "CNNClassifier"},
        {
            "type": "DenseNetClassifier",
            "growth_rate": 4,
            "block_config": [1, 1],
            "stem_stride": 4,
        },
    ],
    ids=["cnn", "densenet"],
)
def test_predictor_runs_other_networks_with_torch(tmp_path, network):
    """Only the ResNets run in numpy; a CNN or a DenseNet runs on torch's
    functions, as in the pipeline: equal answers, bit for bit, and the
    network's settings (a DenseNet's stem stride) kept by the file."""
    classifier = {
        k: v for k, v in TINY["classifier"].items() if k not in ("depth", "width")
    }
    config = {**TINY, "classifier": {**classifier, **network}}
    pipe, _ = train_from_config(config, verbose=0)
    path = save_model(pipe, tmp_path / "network.pt")
    predictor = load_predictor(path)
    assert predictor._network.numpy is None and predictor._network.module is not None
    loaded = load_model(path, device="cpu")
    if "stem_stride" in network:
        assert loaded.steps[-1][1].stem_stride == 4
        for module in (predictor._network.module, loaded.steps[-1][1].net_.module_):
            assert module.stem[0].stride == (4,)
    patterns = _patterns()
    np.testing.assert_array_equal(
        predictor.predict_proba(patterns), loaded.predict_proba(patterns)
    )


def test_an_indexing_stacker_is_stored_and_run_by_the_predictor(tmp_path):
    from sklearn.base import clone
    from sklearn.frozen import FrozenEstimator

    from skxrd.datasets import EXAMPLE_CRYSTALS
    from skxrd.estimators import IndexingClassifier
    from skxrd.estimators._match import search_match_of

    pipeline = load_pretrained("space-group", device="cpu")
    # the shipped stacker's hybrid, in a stacker fitted here
    prefix, hybrid = pipeline[:-1], search_match_of(pipeline)
    sim = PowderSimulator(two_theta_range=(5, 90))
    crystals = [load_example_crystal(n) for n in EXAMPLE_CRYSTALS]
    patterns = [
        Pattern(sim.two_theta, y, wavelength="CuKa", name=c.formula)
        for y, c in zip(sim.transform(crystals), crystals)
    ]
    y = np.array([c.space_group for c in crystals])
    grid = prefix.steps[0][1].grid_
    stacked = IndexingClassifier(
        FrozenEstimator(hybrid),
        two_theta=grid,
        scale="sqrt",
        C=1.0,
        cv=None,
        absences=True,
        absence_min_merit=10.0,
    ).fit(prefix.transform(patterns), y)
    untempered = stacked.predict_proba(prefix.transform(patterns))
    # temperatures as calibrate_temperature sets them
    stacked.system_temperature_, stacked.group_temperature_ = 0.7, 1.6
    pipeline.steps[-1] = (pipeline.steps[-1][0], stacked)
    path = save_model(pipeline, tmp_path / "indexed.pt", metadata=pipeline.metadata_)
    again = load_model(path, device="cpu")
    assert isinstance(again.steps[-1][1], IndexingClassifier)
    assert again.steps[-1][1].absences is True
    assert again.steps[-1][1].absence_min_merit == 10.0
    assert again.steps[-1][1].system_temperature_ == 0.7
    assert again.steps[-1][1].group_temperature_ == 1.6
    tempered = stacked.predict_proba(prefix.transform(patterns))
    assert not np.allclose(tempered, untempered)
    np.testing.assert_array_equal(
        (tempered @ stacked._membership).argmax(1),
        (untempered @ stacked._membership).argmax(1),
    )
    predictor = load_predictor(path)
    assert isinstance(predictor, Predictor)
    test = patterns[:4] + _patterns()[:3]
    full = pipeline.predict_proba(test)
    np.testing.assert_allclose(again.predict_proba(test), full, rtol=0, atol=1e-6)
    _assert_same_proba(predictor.predict_proba(test), full)
    # the stacker changed the hybrid's answers: it is not passed over
    assert not np.allclose(full, hybrid.predict_proba(prefix.transform(test)))
    # and the absences moved some space groups within their crystal systems
    plain = clone(stacked).set_params(absence_weight=0.0)
    plain.fit(prefix.transform(patterns), y)
    plain.system_temperature_, plain.group_temperature_ = 0.7, 1.6
    no_weight = plain.predict_proba(prefix.transform(test))
    np.testing.assert_allclose(
        full @ stacked._membership, no_weight @ stacked._membership, atol=1e-9
    )
    assert not np.allclose(full, no_weight)
    # the search-match inside is still found for the closest reference
    assert _best_matches(predictor, test) == _best_matches(pipeline, test)
    closest = _best_matches(predictor, test, k=3)
    assert closest == _best_matches(pipeline, test, k=3)
    assert all(len(m["closest"]) == 3 for m in closest)

    # a file of 2026-12-05 and before: three families at degree 1, no merit
    # cap, no zero shift, and a record without those keys
    # without absences: as before them
    old = IndexingClassifier(
        FrozenEstimator(hybrid),
        two_theta=grid,
        scale="sqrt",
        C=1.0,
        cv=None,
        families="cth",
        degree=1,
        merit_cap=np.inf,
        max_zero_shift=0.0,
    ).fit(prefix.transform(patterns), y)
    pipeline.steps[-1] = (pipeline.steps[-1][0], old)
    path = save_model(pipeline, tmp_path / "old.pt", metadata=pipeline.metadata_)
    newer = (
        "families",
        "degree",
        "merit_cap",
        "max_zero_shift",
        "first_lines",
        "absences",
        "absence_weight",
        "absence_min_merit",
        "system_temperature",
        "group_temperature",
    )
    _edit_model_file(path, lambda p: [p["indexing"].pop(key) for key in newer])
    again = load_model(path, device="cpu").steps[-1][1]
    assert (again.families, again.degree, again.merit_cap) == ("cth", 1, np.inf)
    assert again.max_zero_shift == 0.0 and again.first_lines == 2
    assert again.absences is False
    assert again.system_temperature_ == again.group_temperature_ == 1.0
    full = pipeline.predict_proba(test)
    np.testing.assert_allclose(
        again.predict_proba(prefix.transform(test)), full, rtol=0, atol=1e-6
    )
    _assert_same_proba(load_predictor(path).predict_proba(test), full)

    # a damaged temperature is named by the loader; the predictor leaves
    # the file to it
    _edit_model_file(path, lambda p: p["indexing"].update(group_temperature=-1.0))
    with pytest.raises(ValueError, match="group_temperature must be a positive"):
        load_model(path)
    assert load_predictor(path) is None


def test_the_shipped_model_is_recalibrated_on_a_users_patterns():
    from skxrd.datasets import EXAMPLE_CRYSTALS

    pipeline = load_pretrained("space-group", device="cpu")
    stacked = pipeline.steps[-1][1]
    shipped = (stacked.system_temperature_, stacked.group_temperature_)
    assert all(0 < t < 1 for t in shipped)  # the shipped stack is sharpened
    sim = PowderSimulator(two_theta_range=(5, 90))
    crystals = [load_example_crystal(n) for n in EXAMPLE_CRYSTALS]
    patterns = [
        Pattern(sim.two_theta, y, wavelength="CuKa", name=c.formula)
        for y, c in zip(sim.transform(crystals), crystals)
    ]
    y = np.array([c.space_group for c in crystals])
    before = pipeline.predict_proba(patterns)
    assert pipeline.calibrate_temperature(patterns, y) is pipeline
    after = pipeline.predict_proba(patterns)
    assert (stacked.system_temperature_, stacked.group_temperature_) != shipped
    membership = stacked._membership
    np.testing.assert_array_equal(
        (after @ membership).argmax(1), (before @ membership).argmax(1)
    )
    rows, idx = np.arange(len(y)), np.searchsorted(stacked.classes_, y)
    known = stacked.classes_[np.minimum(idx, len(stacked.classes_) - 1)] == y
    loss = [-np.log(p[rows[known], idx[known]]).mean() for p in (before, after)]
    assert loss[1] <= loss[0] + 1e-9


def test_the_prior_record_of_old_and_damaged_files():
    from skxrd.estimators._space_group_prior import prior_shares
    from skxrd.pretrained._store import _prior_record

    classes = np.array([2, 14, 15, 62, 225])
    # files written before the prior: no shrinkage
    assert _prior_record({}, classes, "f.pt") == (0.0, None)
    shares, groups = prior_shares(classes, "cod")
    rec = {
        "prior": "cod",
        "prior_weight_in_use": 0.12,
        "prior_shares": shares.tolist(),
        "prior_groups": groups.tolist(),
    }
    weight, (s, g) = _prior_record(rec, classes, "f.pt")
    assert weight == 0.12
    np.testing.assert_array_equal(s, shares)
    np.testing.assert_array_equal(g, groups)
    with pytest.raises(ValueError, match="do not fit the network's classes"):
        _prior_record(rec, classes[:4], "f.pt")
    with pytest.raises(ValueError, match="f.pt: prior weight must be <= 1"):
        _prior_record({**rec, "prior_weight_in_use": 3.0}, classes, "f.pt")
    with pytest.raises(ValueError, match="without its shares"):
        _prior_record({"prior_weight_in_use": 0.2}, classes, "f.pt")
    with pytest.raises(ValueError, match="f.pt: a prior without its shares"):
        _prior_record({"prior": "icsd"}, classes, "f.pt")
    with pytest.raises(ValueError, match="f.pt: prior must be None or one of"):
        _prior_record({**rec, "prior": "pdf"}, classes, "f.pt")


def test_predictor_runs_the_margin_gate_as_the_pipeline(tmp_path):
    from skxrd.estimators._match import search_match_of

    pipeline = load_pretrained("space-group", device="cpu")
    hybrid = search_match_of(pipeline)
    # a strong margin and a threshold above 1 only a clear lead reaches
    hybrid.set_params(gate="margin")
    hybrid.gate_margin_, hybrid.threshold_ = 2.0, 1.2
    path = save_model(pipeline, tmp_path / "margin.pt", metadata=pipeline.metadata_)
    predictor = load_predictor(path)
    assert isinstance(predictor, Predictor)
    again = load_model(path, device="cpu")
    back = search_match_of(again)
    assert back.gate == "margin" and back.gate_margin_ == 2.0 and back.threshold_ == 1.2
    patterns = _patterns()
    light, full = _answers(predictor, patterns), _answers(pipeline, patterns)
    _assert_same_proba(light["proba"], full["proba"])
    assert light["matches"] == full["matches"]
    found = [m for m in full["matches"] if m is not None]
    # the score is the similarity plus twice the lead: it decides the part
    assert all(m["score"] >= m["similarity"] for m in found)
    assert all(
        (m["answered_by"] == "search-match") == (m["score"] >= 1.2) for m in found
    )
    plain = _answers(load_pretrained("space-group", device="cpu"), patterns)
    assert not np.allclose(plain["proba"], full["proba"])


def test_the_gate_record_of_old_and_damaged_files():
    from skxrd.pretrained._store import _gate_record

    rec = {"gate": "soft", "threshold_in_use": 0.76, "gate_slope_in_use": 17.0}
    # files written before the margin gate: no margin
    assert _gate_record(rec, "f.pt") == (0.76, 17.0, 0.0)
    margin = {
        **rec,
        "gate": "margin",
        "gate_margin_in_use": 0.8,
        "threshold_in_use": 1.1,
    }
    assert _gate_record(margin, "f.pt") == (1.1, 17.0, 0.8)
    with pytest.raises(ValueError, match="f.pt: a gate margin 0.8 with a soft gate"):
        _gate_record({**margin, "gate": "soft"}, "f.pt")
    with pytest.raises(ValueError, match="f.pt: gate margin must be >= 0"):
        _gate_record({**margin, "gate_margin_in_use": -1.0}, "f.pt")
    with pytest.raises(ValueError, match="f.pt: threshold must be <= 2.6"):
        _gate_record({**margin, "threshold_in_use": 3.0}, "f.pt")
    with pytest.raises(ValueError, match="f.pt: gate 'fuzzy' is not one of"):
        _gate_record({**rec, "gate": "fuzzy"}, "f.pt")
    with pytest.raises(ValueError, match="f.pt: threshold must be <= 1"):
        _gate_record({**rec, "threshold_in_use": 1.1}, "f.pt")


# --------------------------------------------- structure types weighed by symmetry
@pytest.fixture(scope="module")
def symmetry_files(tmp_path_factory):
    """A tiny structure-type union and a tiny space-group model file, side by
    side (the shipped structure-type model's layout)."""
    sim = {"two_theta_range": [10.0, 60.0], "two_theta_step": 0.05}
    net = {"type": "CNNClassifier", "channels": [4], "max_epochs": 2,
           "random_state": 0, "num_threads": 1}  # fmt: skip
    types = {
        "target": "structure_type",
        "simulator": sim,
        "data": {"n_crystals": 12, "random_state": 0,
                 "prototypes": ["rocksalt", "fluorite", "rutile", "anatase"]},
        "classifier": {"type": "UnionClassifier", "max_classes_per_member": 2,
                       "holdout_per_class": 1, "random_state": 0, "member": net},
    }  # fmt: skip
    groups = {
        "target": "space_group",
        "simulator": sim,
        "data": {"n_crystals": 40, "random_state": 0, "space_groups": [136, 141, 225]},
        "classifier": net,
    }
    folder = tmp_path_factory.mktemp("symmetry")
    st, _ = train_from_config(types, verbose=0)
    sg, _ = train_from_config(groups, verbose=0)
    save_model(st, folder / "types.pt", metadata={"name": "tiny types"})
    save_model(sg, folder / "groups.pt")
    return folder, st, sg


def test_a_symmetry_view_weighs_the_types_as_the_classifier_does(symmetry_files):
    from skxrd.estimators import SymmetryWeightedClassifier
    from skxrd.pretrained import save_symmetry_view

    folder, st, sg = symmetry_files
    view = save_symmetry_view(
        folder / "weighted.json",
        folder / "types.pt",
        "groups.pt",
        weight=0.8,
        class_space_groups={"anatase": 141},
        metadata={"note": "weighed"},
        overwrite=True,
    )
    model = load_model(view, device="cpu")
    final = model.steps[-1][1]
    assert isinstance(final, SymmetryWeightedClassifier) and final.weight_ == 0.8
    assert final.class_space_groups_.tolist() == [141, 225, 225, 136]
    assert model.metadata_["name"] == "tiny types"
    assert model.metadata_["note"] == "weighed"
    sim = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.05)
    names = ["NaCl", "CaF2", "TiO2-rutile"]
    patterns = [
        Pattern(sim.two_theta, x, wavelength="CuKa", name=n)
        for n, x in zip(names, sim.transform([load_example_crystal(n) for n in names]))
    ]
    expected = SymmetryWeightedClassifier.from_fitted(
        st.steps[-1][1], sg.steps[-1][1], weight=0.8
    ).predict_proba(st[:-1].transform(patterns))
    np.testing.assert_allclose(model.predict_proba(patterns), expected, atol=1e-6)
    # skxrd predict's reader answers the same, without the structure-type library
    predictor = load_predictor(view)
    assert isinstance(predictor, Predictor)
    light, full = _answers(predictor, patterns), _answers(model, patterns)
    _assert_same_proba(light["proba"], full["proba"])
    np.testing.assert_array_equal(light["labels"], full["labels"])
    assert light["matches"] == full["matches"] == [None] * 3
    assert predictor.metadata_ == model.metadata_
    # a pipeline with the weighing is not one model file
    with pytest.raises(TypeError, match="save_symmetry_view"):
        save_model(model, folder / "both.pt")


def test_bad_symmetry_views_are_named(symmetry_files, tmp_path):
    import json

    from skxrd.pretrained import save_symmetry_view

    folder, _, _ = symmetry_files
    good = save_symmetry_view(
        folder / "good.json", folder / "types.pt", "groups.pt", weight=1.0,
        overwrite=True,
    )  # fmt: skip
    record = json.loads(good.read_text())
    assert record["symmetry"]["model"] == "groups.pt"
    # every class's group is written out, the library's too
    assert sorted(map(tuple, record["symmetry"]["class_space_groups"])) == [
        ("anatase", 141), ("fluorite", 225), ("rocksalt", 225), ("rutile", 136),
    ]  # fmt: skip

    def broken(change, name="bad.json"):
        bad = json.loads(good.read_text())
        change(bad)
        path = folder / name
        path.write_text(json.dumps(bad))
        return path

    cases = [
        (lambda v: v["symmetry"].update(weight=-1), r"symmetry weight must be >= 0"),
        (lambda v: v["symmetry"].update(model="nothere.pt"), "does not exist"),
        (lambda v: v["symmetry"].update(model="../groups.pt"), "in the same folder"),
        (lambda v: v["symmetry"].update(model="no-such-model"), "nor a shipped model"),
        (
            lambda v: v["symmetry"].update(class_space_groups=[["rutile", 999]]),
            "must be 1-230",
        ),
        (lambda v: v["symmetry"].pop("class_space_groups"), "class_space_groups"),
        (lambda v: v.update(coarse_target="crystal_system"), "coarse_target or a"),
    ]
    for change, message in cases:
        path = broken(change)
        with pytest.raises((ValueError, FileNotFoundError), match=message):
            load_model(path, device="cpu")
        with pytest.raises((ValueError, FileNotFoundError), match=message):
            load_predictor(path)
    # a hand-written view that leaves out library types' groups: the full
    # loader would take them from the library, skxrd predict's reader cannot;
    # the one refuses it, the other leaves it to the one
    path = broken(lambda v: v["symmetry"].update(class_space_groups=[["anatase", 141]]))
    with pytest.raises(ValueError, match=r"lists no space group for \['fluorite', "):
        load_model(path, device="cpu")
    assert load_predictor(path) is None
    # the shipped space-group model reads patterns on another grid
    with pytest.raises(ValueError, match="does not read patterns as its base"):
        save_symmetry_view(
            folder / "shipped.json", folder / "types.pt", "space-group", weight=1.0
        )
    assert not (folder / "shipped.json").exists()
    assert not (folder / "shipped.json.tmp").exists()
    with pytest.raises(FileExistsError):
        save_symmetry_view(good, folder / "types.pt", "groups.pt", weight=1.0)
    with pytest.raises(ValueError, match="in the folder of its model"):
        save_symmetry_view(tmp_path / "v.json", folder / "types.pt", "groups.pt",
                           weight=1.0)  # fmt: skip


def test_attribution_maps_of_a_symmetry_weighted_model(symmetry_files):
    import torch

    from skxrd.inspection import saliency_map
    from skxrd.pretrained import save_symmetry_view

    folder, _, _ = symmetry_files
    view = save_symmetry_view(
        folder / "maps.json", folder / "types.pt", "groups.pt", weight=0.8,
        overwrite=True,
    )  # fmt: skip
    model = load_model(view, device="cpu")
    sim = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.05)
    X = model[:-1].transform(
        sim.transform([load_example_crystal(n) for n in ("NaCl", "TiO2-rutile")])
    )
    weighed = model[-1]
    logits = weighed._logit_module()(torch.as_tensor(X, dtype=torch.float32))
    # its softmax is the weighed probabilities: the union's times the groups'
    np.testing.assert_allclose(
        torch.softmax(logits, 1).detach().numpy(), weighed.predict_proba(X), atol=1e-5
    )
    maps = saliency_map(weighed, X)
    assert maps.shape == X.shape and np.isfinite(maps).all()
    assert np.abs(maps).sum(axis=1).min() > 0


def test_skxrd_predict_reads_a_symmetry_view(symmetry_files, tmp_path, capsys):
    import json

    from skxrd.cli import main
    from skxrd.io import write_pattern
    from skxrd.pretrained import save_symmetry_view

    folder, _, _ = symmetry_files
    view = save_symmetry_view(
        folder / "cli.json", folder / "types.pt", "groups.pt", weight=0.5,
        overwrite=True,
    )  # fmt: skip
    sim = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.05)
    pattern = Pattern(
        sim.two_theta,
        sim.transform([load_example_crystal("TiO2-rutile")])[0],
        wavelength="CuKa",
    )
    path = tmp_path / "rutile.xy"
    write_pattern(pattern, path)
    assert main(["predict", str(path), "--model", str(view), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)[0]["predictions"]
    labels, proba = load_model(view, device="cpu").predict_top_k([pattern], k=5)
    assert [p["label"] for p in answer] == labels[0].tolist()


def test_an_ensemble_of_networks_is_stored_and_run_by_the_predictor(tmp_path):
    """The shipped hybrid with an ensemble as its network: the shipped ResNet
    and a CNN (another architecture, run by torch in the predictor), averaged
    geometrically with weights and a temperature. The file keeps all of it,
    and the numpy predictor, the loaded pipeline and the pipeline saved agree."""
    from skxrd.estimators import EnsembleClassifier
    from skxrd.estimators._match import search_match_of

    pipeline = load_pretrained("space-group", device="cpu")
    hybrid = search_match_of(pipeline)
    resnet = hybrid.estimator_
    import torch

    from skxrd.estimators import CNNClassifier
    from skxrd.estimators._base import restore_fitted
    from skxrd.estimators._core import network_module

    # a second network of another architecture (its weights drawn, not
    # trained: what is tested is how the two are combined and stored)
    cnn = CNNClassifier(channels=(4, 8), random_state=0)
    torch.manual_seed(0)
    module = network_module("CNNClassifier", cnn.get_params(), len(resnet.classes_))
    restore_fitted(cnn, resnet.classes_, resnet.n_features_in_, module.state_dict())
    fewer = CNNClassifier(channels=(4, 8))
    n = len(resnet.classes_) - 1
    state = network_module("CNNClassifier", fewer.get_params(), n).state_dict()
    restore_fitted(fewer, resnet.classes_[:-1], resnet.n_features_in_, state)
    with pytest.raises(ValueError, match="other classes than estimator 0"):
        EnsembleClassifier.from_fitted([resnet, fewer])
    ensemble = EnsembleClassifier.from_fitted([resnet, cnn], weights=[3.0, 1.0])
    ensemble.temperature_ = 0.9
    hybrid.estimator_ = ensemble
    path = save_model(pipeline, tmp_path / "ensemble.pt", metadata=pipeline.metadata_)
    again = load_model(path, device="cpu")
    back = search_match_of(again).estimator_
    assert isinstance(back, EnsembleClassifier)
    assert back.temperature_ == 0.9 and back.average == "geometric"
    np.testing.assert_allclose(back.weights, [0.75, 0.25])
    assert [type(m).__name__ for m in back.estimators_] == [
        "ResNetClassifier",
        "CNNClassifier",
    ]
    predictor = load_predictor(path)
    assert isinstance(predictor, Predictor)
    patterns = _patterns()
    light, full = _answers(predictor, patterns), _answers(pipeline, patterns)
    _assert_same_proba(light["proba"], full["proba"])
    _assert_same_proba(_answers(again, patterns)["proba"], full["proba"])
    assert light["matches"] == full["matches"]
    # the ensemble is not the shipped network alone
    plain = _answers(load_pretrained("space-group", device="cpu"), patterns)
    assert not np.allclose(plain["proba"], full["proba"], atol=1e-3)
    # attribution maps reach through the hybrid into both members
    from skxrd.inspection import saliency_map

    X = again[:-1].transform(patterns[:2])
    maps = saliency_map(again[-1], X)
    assert maps.shape == X.shape and np.all(np.isfinite(maps))


def test_damaged_ensemble_records_are_named():
    from skxrd.estimators import EnsembleClassifier, ResNetClassifier
    from skxrd.estimators._base import restore_fitted
    from skxrd.estimators._core import network_module
    from skxrd.pretrained._runtime import _Ensemble, _Network
    from skxrd.pretrained._store import _network_record, _restore_network, _step_classes

    known = _step_classes()
    nets = []
    for _ in range(2):
        net = ResNetClassifier(depth=2, width=4)
        module = network_module("ResNetClassifier", net.get_params(), 3)
        restore_fitted(net, np.array([2, 14, 225]), 50, module.state_dict())
        nets.append(net)
    ensemble = EnsembleClassifier.from_fitted(nets, weights=[1, 3])
    record = _network_record(ensemble, known, "f.pt")
    assert record["params"] == {"weights": [0.25, 0.75], "average": "geometric"}
    back = _restore_network(record, known, "cpu", "f.pt")
    X = np.random.default_rng(0).random((3, 50))
    np.testing.assert_allclose(back.predict_proba(X), ensemble.predict_proba(X))
    np.testing.assert_allclose(
        _Ensemble(record).proba_confidence(X)[0], ensemble.predict_proba(X), atol=1e-6
    )
    for damaged, message in [
        ({**record, "members": []}, "an ensemble without members"),
        ({**record, "temperature": -1.0}, "the temperature must be a positive number"),
        (
            {**record, "temperature": np.inf},
            "the temperature must be a positive number",
        ),
        ({**record, "classes": [2, 14, 229]}, "classes and its members' disagree"),
        ({**record, "params": {"weights": [1.0], "average": "geometric"}}, "weights"),
    ]:
        with pytest.raises(ValueError, match=message):
            _restore_network(damaged, known, "cpu", "f.pt")
    # an infinite temperature (uniform answers) is refused by both loaders,
    # for an ensemble and for one network
    single = _network_record(nets[0], known, "f.pt")
    for loader, rec in ((_Ensemble, record), (_Network, single)):
        with pytest.raises(ValueError, match="temperature must be a positive number"):
            loader({**rec, "temperature": np.inf})
    with pytest.raises(ValueError, match="the temperature must be a positive number"):
        _restore_network({**single, "temperature": np.inf}, known, "cpu", "f.pt")
    with pytest.raises(TypeError, match="an ensemble inside an ensemble"):
        _network_record(EnsembleClassifier.from_fitted([ensemble]), known, "f.pt")


def test_a_union_records_temperature_is_checked_by_both_loaders():
    # a zero temperature answered NaN, a negative one inverted the ranking
    from skxrd.estimators import ResNetClassifier, UnionClassifier
    from skxrd.pretrained._runtime import _Union
    from skxrd.pretrained._store import _restore_union, _step_classes, _union_record

    rng = np.random.default_rng(0)
    y = np.repeat(list("ABCD"), 6)
    X = rng.random((24, 48))
    member = ResNetClassifier(
        depth=1, width=4, max_epochs=1, validation_fraction=None, num_threads=1,
        random_state=0,
    )  # fmt: skip
    union = UnionClassifier(member, max_classes_per_member=2, combiner="reliability")
    known = _step_classes()
    record = _union_record(union.fit(X, y), known)
    assert _Union(record).temperature == 1.0
    for bad in (0.0, -1.0, np.inf, "x", "1.2", True):  # as both loaders refuse
        damaged = {**record, "temperature": bad}
        with pytest.raises(ValueError, match="temperature must be a"):
            _Union(damaged)
        with pytest.raises(
            ValueError, match="u.pt: the temperature must be a positive number"
        ):
            _restore_union(damaged, known, "cpu", "u.pt")


def test_the_predictors_step_parameters_are_the_classes():
    from skxrd import preprocessing
    from skxrd.pretrained._runtime import _STEP_PARAMS

    for name, params in _STEP_PARAMS.items():
        assert params == set(getattr(preprocessing, name)().get_params()), name


def test_a_step_parameter_no_class_takes_is_refused_by_both_loaders(tmp_path):
    # the full loader raised a bare TypeError, the predictor ignored it
    import torch

    from skxrd.pretrained._store import _DIGEST, _digest

    pipe = _resample_pipeline()
    path = save_model(pipe, tmp_path / "m.pt")
    assert load_predictor(path) is not None
    payload = torch.load(path, weights_only=True)
    _edit_model_file(path, lambda p: p["steps"][0][2].update(foo=1))
    assert load_predictor(path) is None
    with pytest.raises(ValueError, match="step 'resample' .*unexpected keyword .*foo"):
        load_model(path, device="cpu")
    # the parts every file has: one error each, from both loaders
    for change, message in [
        ({"steps": "x"}, "its 'steps' are not a list"),
        ({"steps": [["resample"]]}, "its 'steps' are not a list"),
        ({"metadata": 5}, "it has no metadata table"),
    ]:
        damaged = {**payload, **change}
        damaged.pop(_DIGEST)
        damaged[_DIGEST] = _digest(damaged)
        torch.save(damaged, path)
        for load in (load_model, load_predictor):
            with pytest.raises(ValueError, match=message):
                load(path)


def _nacl(radiation, wavelength=None, name=None):
    """NaCl's pattern over the tiny model's range (10-40° 2θ at Cu Kα)."""
    sim = PowderSimulator(
        radiation=radiation,
        wavelength=wavelength,
        two_theta_range=(8, 45),
        two_theta_step=0.02,
    )
    x = sim.transform([load_example_crystal("NaCl")])[0]
    if radiation == "neutron":
        return Pattern(sim.two_theta, x, radiation="neutron", wavelength=wavelength)
    return Pattern(sim.two_theta, x, wavelength=radiation, name=name)


def _warned(func, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    return result, [str(w.message) for w in caught if w.category is UserWarning]


def test_a_neutron_pattern_is_answered_with_a_warning_by_both_paths(tiny):
    # the shipped models read X-ray (Cu Kα) intensities: a neutron pattern's
    # peaks fall in place but its intensities are another probe's, which had
    # been answered without a word
    _, _, path = tiny
    neutron = _nacl("neutron", 1.54)
    xray = _nacl("CuKa", name="x")
    q_only = Pattern(xray.q, xray.intensity, axis="q", name="q")  # no probe known
    for model in (load_predictor(path), load_model(path, device="cpu")):
        proba, said = _warned(model.predict_proba, [xray, neutron, q_only])
        assert len(said) == 1, said
        assert said[0].startswith("pattern 1: neutron pattern(s) given to a model")
        assert "X-ray patterns (CuKa)" in said[0]
        assert np.allclose(proba.sum(axis=1), 1)  # still answered
        _, said = _warned(model.predict_top_k, [xray, q_only], k=2)
        assert said == []
    # a model of a bare wavelength may be a neutron model: nothing is said
    from skxrd.preprocessing import PatternResampler

    bare = PatternResampler(two_theta=(10, 40, 0.1), wavelength=1.54).fit()
    _, said = _warned(bare.transform, [neutron])
    assert said == []
    named = PatternResampler(two_theta=(10, 40, 0.1), wavelength="CuKa").fit()
    _, said = _warned(named.transform, [neutron])
    assert len(said) == 1 and "neutron pattern(s)" in said[0]


def test_an_empty_list_of_patterns_is_one_clear_error_on_both_paths(tiny):
    # the pipeline had given scikit-learn's "Expected 2D array, got 1D array
    # instead ... Reshape your data", the predictor a TypeError
    _, _, path = tiny
    for model in (load_predictor(path), load_model(path, device="cpu")):
        for empty in ([], ()):
            with pytest.raises(ValueError, match=r"X is an empty (list|tuple)"):
                model.predict_proba(empty)
            with pytest.raises(ValueError, match="X is an empty list"):
                model.predict_top_k([], k=2)
            with pytest.raises(ValueError, match="X is an empty list"):
                model.screen([])  # the predictor's had asked for a 2θ grid


def test_shipped_files_snip_as_their_networks_were_trained():
    # the shipped files were written before BackgroundSubtractor had
    # ``edges``: both loaders must read them with the SNIP they were trained
    # with ("keep"), not with another default
    from skxrd.pretrained._store import _read_payload

    with resources.as_file(_weights_file("space-group")) as file:
        payload = _read_payload(file, arrays=True)
        predictor = load_predictor(file)
    stored = {cls: params for _, cls, params, _ in payload["steps"][:-1]}
    assert "edges" not in stored["BackgroundSubtractor"]
    assert dict(predictor._steps)["BackgroundSubtractor"]["edges"] == "keep"
    pipeline = load_pretrained("space-group", device="cpu")
    assert pipeline.named_steps["background"].edges == "keep"


def test_snip_edges_travel_in_model_files_and_old_files_keep_theirs(tmp_path):
    from skxrd.estimators import CNNClassifier
    from skxrd.preprocessing import (
        BackgroundSubtractor,
        PatternNormalizer,
        PatternResampler,
    )
    from skxrd.pretrained import PatternPipeline

    rng = np.random.default_rng(0)
    X, y = rng.random((12, 48)), np.repeat([225, 14], 6)

    def pipeline(edges):
        return PatternPipeline(
            [
                ("resample", PatternResampler(two_theta=(10.0, 58.0, 1.0))),
                ("background", BackgroundSubtractor(window=4, edges=edges)),
                ("normalize", PatternNormalizer()),
                (
                    "classifier",
                    CNNClassifier(max_epochs=1, num_threads=1, random_state=0),
                ),
            ]
        ).fit(X, y)

    tt = np.arange(10.0, 58.0, 1.0)
    # lines on the first and last two points, on a slope
    counts = 5.0 - 0.05 * tt + 3 * np.isin(np.arange(48), [0, 1, 46, 47])
    patterns = [Pattern(tt, counts, wavelength="CuKa")]
    keep = pipeline("keep").transform_patterns(patterns)
    extend = pipeline("extend").transform_patterns(patterns)
    assert not np.allclose(keep, extend)
    path = save_model(pipeline("extend"), tmp_path / "extend.pt")
    full, light = load_model(path, device="cpu"), load_predictor(path)
    assert full.named_steps["background"].edges == "extend"
    np.testing.assert_array_equal(full.transform_patterns(patterns), extend)
    np.testing.assert_array_equal(light.transform_patterns(patterns), extend)
    # a file written before the parameter: no "edges" among the step's
    _edit_model_file(path, lambda p: p["steps"][1][2].pop("edges"))
    full, light = load_model(path, device="cpu"), load_predictor(path)
    assert full.named_steps["background"].edges == "keep"
    np.testing.assert_array_equal(full.transform_patterns(patterns), keep)
    np.testing.assert_array_equal(light.transform_patterns(patterns), keep)
    # a value no version wrote: the predictor leaves it to the full loader,
    # which says what is wrong
    _edit_model_file(path, lambda p: p["steps"][1][2].update(edges="mirror"))
    assert load_predictor(path) is None
    with pytest.raises(ValueError, match=r"'background'.*edges must be one of"):
        load_model(path, device="cpu")


def test_resampling_method_travels_in_model_files_and_old_files_interpolate(tmp_path):
    # files written before PatternResampler had ``method`` point-sampled finer
    # scans: both loaders must read them so ("linear"), not with the new
    # default; a file written now keeps its averaging

    pipe = _resample_pipeline()
    rng = np.random.default_rng(0)
    tt = np.arange(9.0, 59.0, 0.25)  # four measured steps to a model step
    patterns = [Pattern(tt, rng.poisson(20.0, tt.size) + 1.0, wavelength="CuKa")]
    average = pipe.transform_patterns(patterns)
    linear = pipe.set_params(resample__method="linear").transform_patterns(patterns)
    assert not np.allclose(average, linear)
    path = save_model(pipe.set_params(resample__method="average"), tmp_path / "m.pt")
    full, light = load_model(path, device="cpu"), load_predictor(path)
    assert full.named_steps["resample"].method == "average"
    np.testing.assert_allclose(full.transform_patterns(patterns), average)
    np.testing.assert_allclose(light.transform_patterns(patterns), average)
    _edit_model_file(path, lambda p: p["steps"][0][2].pop("method"))
    full, light = load_model(path, device="cpu"), load_predictor(path)
    assert full.named_steps["resample"].method == "linear"
    np.testing.assert_allclose(full.transform_patterns(patterns), linear)
    np.testing.assert_allclose(light.transform_patterns(patterns), linear)
    # a value no version wrote: the predictor leaves it to the full loader,
    # which says what is wrong
    _edit_model_file(path, lambda p: p["steps"][0][2].update(method="cubic"))
    assert load_predictor(path) is None
    with pytest.raises(ValueError, match=r"'resample'.*method must be one of"):
        load_model(path, device="cpu")


def test_shipped_files_resample_as_they_were_scored():
    # the shipped files were written before ``method``: both loaders
    # point-sample finer scans, as when their cards were measured
    with resources.as_file(_weights_file("space-group")) as file:
        predictor = load_predictor(file)
    assert predictor._settings.method == "linear"
    pipeline = load_pretrained("space-group", device="cpu")
    assert pipeline.named_steps["resample"].method == "linear"
