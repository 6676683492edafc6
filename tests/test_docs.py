"""The documentation: docstrings with examples, a complete API page, a clean build.

* Every public class and function (the names of each subpackage's ``__all__``)
  has a numpydoc ``Examples`` section; the examples themselves run as doctests
  (``pytest skxrd`` collects them, see ``[tool.pytest.ini_options]``).
* ``docs/api/<subpackage>.rst`` lists every public name of its subpackage.
* The Sphinx site builds with warnings as errors. The gallery examples are not
  run here (``-D plot_gallery=0``; ``make docs`` runs them), so the build takes
  seconds. It is skipped when Sphinx is not installed; the ``test`` extra
  installs it, so it runs in CI.
"""

from __future__ import annotations

import importlib
import inspect
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# The modules whose ``__all__`` is the public API (``skxrd.utils`` itself has
# none: its helpers are private, its ``estimator_checks`` module is public).
PUBLIC_MODULES = [
    "skxrd.augmentation",
    "skxrd.crystal",
    "skxrd.datasets",
    "skxrd.dedup",
    "skxrd.estimators",
    "skxrd.indexing",
    "skxrd.inspection",
    "skxrd.io",
    "skxrd.metrics",
    "skxrd.models",
    "skxrd.preprocessing",
    "skxrd.pretrained",
    "skxrd.simulation",
    "skxrd.utils.estimator_checks",
]

_EXAMPLES = re.compile(r"^Examples\n-{8,}\n", re.MULTILINE)


def _public(module_name):
    module = importlib.import_module(module_name)
    for name in module.__all__:
        yield name, getattr(module, name)


def _is_documentable(obj):
    return inspect.isclass(obj) or inspect.isroutine(obj)


def test_public_modules_are_all_subpackages():
    import skxrd

    subpackages = {f"skxrd.{name}" for name in skxrd._SUBPACKAGES} - {"skxrd.utils"}
    assert subpackages <= set(PUBLIC_MODULES)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_names_have_examples(module_name):
    missing = [
        name
        for name, obj in _public(module_name)
        if _is_documentable(obj) and not _EXAMPLES.search(inspect.getdoc(obj) or "")
    ]
    assert not missing, f"{module_name}: no Examples section in {missing}"


def _api_page_names():
    """``{module: set of names}`` listed by autosummary in docs/api/*.rst."""
    listed: dict[str, set[str]] = {}
    module = None
    in_autosummary = False
    pages = sorted((DOCS / "api").glob("*.rst"))
    text = "\n".join(page.read_text(encoding="utf-8") for page in pages)
    for line in text.splitlines():
        if m := re.match(r"\.\. currentmodule:: (\S+)", line):
            module, in_autosummary = m.group(1), False
        elif line.startswith(".. autosummary::"):
            in_autosummary = True
        elif in_autosummary and line.strip() and not line.strip().startswith(":"):
            if not line.startswith("   "):
                in_autosummary = False
            else:
                listed.setdefault(module, set()).add(line.strip())
    return listed


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_api_page_lists_every_public_name(module_name):
    listed = _api_page_names().get(module_name, set())
    public = {name for name, _ in _public(module_name)}
    assert public - listed == set(), f"missing from docs/api/: {public - listed}"
    assert listed - public == set(), f"not public, in docs/api/: {listed - public}"


def _copy_sources(destination):
    """docs/ and examples/ without build outputs, so that the build leaves
    the source tree alone."""
    ignore = shutil.ignore_patterns(
        "_build", "auto_examples", "generated", "sg_execution_times.rst"
    )
    shutil.copytree(DOCS, destination / "docs", ignore=ignore)
    shutil.copytree(ROOT / "examples", destination / "examples", ignore=ignore)
    return destination / "docs"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_docs_build_without_warnings(tmp_path):
    for package in ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"):
        pytest.importorskip(package)
    source = _copy_sources(tmp_path)
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-b",
        "html",
        "-W",
        "--keep-going",
        "-j",
        "1",
        "-q",
        "-D",
        "plot_gallery=0",
        str(source),
        str(tmp_path / "html"),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=840, cwd=source
    )
    assert result.returncode == 0, result.stderr[-10_000:]
    html = tmp_path / "html"
    assert (html / "index.html").is_file()
    assert (html / "generated" / "skxrd.simulation.PowderSimulator.html").is_file()
    assert (html / "user_guide" / "index.html").is_file()
    # constants show their own documentation and value, not tuple's or dict's
    for name in ("crystal.CRYSTAL_SYSTEMS", "simulation.XRAY_LINES"):
        page = (html / "generated" / f"skxrd.{name}.html").read_text("utf-8")
        assert "Built-in immutable sequence" not in page
        assert "Named anode lines" in page or "The 7 crystal systems" in page
        assert "Value:" in page or "keys:" in page


def _readme_blocks():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.S)


@pytest.mark.parametrize("index", range(len(_readme_blocks())))
def test_readme_snippets_compile_and_define_what_they_use(index):
    # each Python block of the README runs on its own as written: no names
    # from elsewhere (the "unknown" snippet once used undefined X_train)
    block = _readme_blocks()[index]
    compile(block, f"README block {index}", "exec")
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff is not installed")
    result = subprocess.run(
        [str(ruff), "check", "--select", "F821", "--output-format", "concise"]
        + ["--stdin-filename", f"readme_block_{index}.py", "-"],
        input=block,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


# ------------------------------------------------------- the user guide's facts
# The user guide shows code and names that the code must keep honouring; these
# tests hold the ones that went stale once (docs-audit).
USER_GUIDE = DOCS / "user_guide"


def _python_blocks(page):
    """The ``.. code-block:: python`` blocks of a user-guide page, dedented."""
    lines = (USER_GUIDE / page).read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        if lines[i].strip() == ".. code-block:: python":
            body, i = [], i + 1
            while i < len(lines) and (not lines[i].strip() or lines[i][:1] == " "):
                body.append(lines[i])
                i += 1
            blocks.append(textwrap.dedent("\n".join(body)).strip("\n"))
        else:
            i += 1
    return blocks


def _block_with(page, text):
    (block,) = [b for b in _python_blocks(page) if text in b]
    return block


def _cli_options():
    """``{subcommand: set of option strings}`` of the ``skxrd`` parser."""
    from skxrd.cli import build_parser

    (sub,) = [a for a in build_parser()._actions if isinstance(a.choices, dict)]
    return {
        name: {o for action in parser._actions for o in action.option_strings}
        for name, parser in sub.choices.items()
    }


def _cli_sections():
    """``{subcommand: text of its section}`` of the command-line page."""
    text = (USER_GUIDE / "cli.rst").read_text(encoding="utf-8")
    parts = re.split(r"^``skxrd (\w+)``\n-+\n", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def test_cli_page_has_a_section_per_subcommand():
    assert set(_cli_sections()) == set(_cli_options())


@pytest.mark.parametrize("command", ["predict", "watch", "evaluate", "train", "demo"])
def test_cli_page_section_describes_every_option(command):
    # every option of a subcommand is described in its own section (evaluate's
    # --strip-kalpha2 was not)
    options = _cli_options()[command] - {"-h", "--help"}
    named = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", _cli_sections()[command]))
    missing = {o for o in options if o.startswith("--") and o not in named}
    assert not missing, f"skxrd {command}: not in docs/user_guide/cli.rst"


def test_cli_page_simulate_section_describes_every_option():
    # -o is shown as "-o patterns.npz", --output nowhere
    options = _cli_options()["simulate"] - {"-h", "--help", "--output"}
    named = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", _cli_sections()["simulate"]))
    assert options <= named


def test_cli_page_names_only_existing_options():
    every = set().union(*_cli_options().values())
    text = (USER_GUIDE / "cli.rst").read_text(encoding="utf-8")
    named = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", text))
    assert named <= every, f"no such options: {named - every}"


def test_cli_commands_in_the_docs_use_existing_options():
    options = _cli_options()
    pages = [*DOCS.rglob("*.rst"), ROOT / "README.md", *ROOT.glob("examples/*/*.py")]
    wrong = []
    for page in pages:
        for line in page.read_text(encoding="utf-8").splitlines():
            for m in re.finditer(rf"skxrd ({'|'.join(options)})\b([^`#\n]*)", line):
                for opt in re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", m.group(2)):
                    if opt not in options[m.group(1)]:
                        wrong.append((page.name, m.group(1), opt))
    assert not wrong


def test_crystals_page_lists_the_example_crystal_names():
    # the bundled crystals are listed by the names load_example_crystal takes
    # (it once said "rutile, corundum", which load_example_crystal refuses)
    from skxrd.datasets import EXAMPLE_CRYSTALS

    text = (USER_GUIDE / "crystals.rst").read_text(encoding="utf-8")
    listed = re.search(r"EXAMPLE_CRYSTALS`: ([^:;)]*)", text).group(1)
    names = [name.strip() for name in " ".join(listed.split()).split(",")]
    assert names == list(EXAMPLE_CRYSTALS)


def test_measured_page_reading_block_runs(tmp_path, monkeypatch):
    # an XRDML file has no uncertainties: the page wrote it back as .xye,
    # which write_pattern refuses
    monkeypatch.chdir(tmp_path)
    shutil.copy(ROOT / "tests" / "io" / "data" / "tiny.xrdml", "sample.xrdml")
    (tmp_path / "beamline.xy").write_text("10 1\n11 5\n12 2\n13 1\n")
    namespace = {}
    exec(_block_with("measured.rst", 'read_pattern("sample.xrdml")'), namespace)
    assert namespace["p"].uncertainty is None
    assert len(list(tmp_path.glob("sample.xy*"))) == 1


def test_preprocessing_page_kalpha2_lines_run():
    # Kalpha2Stripper on arrays needs the radiation and the grid; the page
    # called it without them on arrays
    from skxrd.datasets import load_example_crystal
    from skxrd.io import Pattern
    from skxrd.simulation import PowderSimulator

    sim = PowderSimulator()
    X = sim.transform([load_example_crystal("NaCl")])
    namespace = {
        "cu_patterns": [Pattern(sim.two_theta, X[0], wavelength="CuKa")],
        "X": X,
    }
    block = _block_with("preprocessing.rst", "Kalpha2Stripper")
    lines = [line for line in block.splitlines() if "pipe." not in line]
    exec("\n".join(lines), namespace)
    assert namespace["X_kalpha1"].shape == X.shape
    assert namespace["kalpha1"][0].radiation.name == "CuKa1"


def test_validation_page_prints_the_duplicate_report_once(capsys):
    import numpy as np

    import skxrd

    X = np.random.default_rng(0).random((4, 30))
    X[2] = X[0]
    data = type("Data", (), {"X": X, "y": np.array(["a", "b", "a", "b"])})
    block = _block_with("validation.rst", "drop_duplicates(")
    exec(block, {"skxrd": skxrd, "data": data})
    assert capsys.readouterr().out.count("1 removed as duplicates") == 1


# ------------------------------------------- every Python block of the guide
# Each user-guide page's ``.. code-block:: python`` blocks run in order, in one
# namespace per page, in an empty working directory, as a reader would paste
# them. Three documented kinds of help, nothing silent:
#
# * ``_SETUP``: small stand-ins for what the prose takes as given ("a fitted
#   classifier", "your measured files"), made before the page's first block;
# * ``_SHRINK``: the same call with smaller sizes (crystals, epochs, folds), so
#   that the whole guide runs in about 40 s (37 s in one process on the 2-core
#   project machine, ``pytest --durations``; classifiers.rst 9 s the most);
# * ``_SKIP``: blocks that cannot run here, each with the reason.
#
# ``test_user_guide_run_helpers_match_the_pages`` fails when a page changes so
# that an entry no longer applies.

_PATTERNS = """
import numpy as np
from skxrd.datasets import load_example_crystal, make_structure_type_crystals
from skxrd.simulation import PowderSimulator

_crystals, _y, _groups = make_structure_type_crystals(
    ["rocksalt", "cscl", "fluorite"], n_per_type=8, random_state=0)
_sim = PowderSimulator()
_X = _sim.transform(_crystals)
"""

_SETUP = {
    "measured.rst": """
import shutil
shutil.copy(ROOT / "tests" / "io" / "data" / "tiny.xrdml", "sample.xrdml")
shutil.copy(ROOT / "skxrd/datasets/data/measured/ssrl/BL21Robot_0114.xy",
            "beamline.xy")
""",
    "preprocessing.rst": _PATTERNS
    + """
from skxrd.io import Pattern
data = type("Data", (), {"X": _X, "y": _y})
measured_pattern = Pattern(_sim.two_theta, _X[0], wavelength="CuKa")
two_theta, counts = _sim.two_theta, _X[1]
cu_patterns, X, grid = [measured_pattern], _X, _sim.two_theta
""",
    "training_data.rst": """
from pathlib import Path
from skxrd.datasets import load_example_crystal
Path("my_cifs").mkdir()
load_example_crystal("ZnO").to_cif("my_cifs/zno.cif")
pymatgen_structures = [load_example_crystal("Si").to_pymatgen()]
""",
    "classifiers.rst": _PATTERNS.replace('"fluorite"]', '"wurtzite", "rutile"]')
    + """
from sklearn.model_selection import train_test_split
from skxrd.estimators import PatternMatchClassifier, ResNetClassifier
_y = np.array([c.space_group for c in _crystals])  # space groups, as the page's
X, y, groups = _X, _y, _groups
X_train, X_test, y_train, y_test = train_test_split(
    _X, _y, test_size=0.25, stratify=_y, random_state=0)
X_references, y_references = X_train, y_train
X_measured = X_tune = X_held = X_test
y_tune = y_held = y_test
grid = two_theta = _sim.two_theta
intensity = _X[0]
_names = np.array([f"mineral {i}" for i in range(len(X_train))])
minerals = type("Minerals", (), {"mineral": _names})  # load_amcsd's, skipped
network = resnet = wide_resnet = ResNetClassifier(
    depth=2, width=8, stem_stride=4, max_epochs=1, random_state=0).fit(X_train, y_train)
matcher = PatternMatchClassifier().fit(X_references, y_references)
""",
    "abstention.rst": _PATTERNS.replace("n_per_type=8", "n_per_type=16")
    + """
from sklearn.model_selection import train_test_split
# five or more held-out patterns per class: CalibratedClassifierCV's folds
X_train, X_test, y_train, y_test = train_test_split(
    _X, _y, test_size=0.5, stratify=_y, random_state=0)
X_valid, y_valid, X = X_test, y_test, X_test
_new, _, _ = make_structure_type_crystals(["sphalerite", "wurtzite"], n_per_type=4,
                                          random_state=1)
X_new_types = _sim.transform(_new)
y_new_types = np.repeat(["sphalerite", "wurtzite"], 4)
from skxrd.estimators import ResNetClassifier
clf = ResNetClassifier(depth=2, width=8, stem_stride=4, max_epochs=1,
                       random_state=0).fit(X_train, y_train)
""",
    "images.rst": """
from skxrd.datasets import make_structure_type_crystals
crystals, _y, _ = make_structure_type_crystals(["rocksalt", "cscl"], n_per_type=3,
                                               random_state=0)
space_groups = [c.space_group for c in crystals]
""",
    "pretrained.rst": """
import shutil
from skxrd.datasets import load_example_crystal, make_structure_type_crystals
shutil.copy(ROOT / "tests" / "io" / "data" / "tiny.xrdml", "sample.xrdml")
load_example_crystal("ZnO").to_cif("my_phase_a.cif")
load_example_crystal("ZnS").to_cif("my_phase_b.cif")
from skxrd.estimators import ResNetClassifier
from skxrd.simulation import PowderSimulator
_crystals, y_train, _ = make_structure_type_crystals(
    ["my_phase_a.cif", "my_phase_b.cif"], 6, random_state=0)
X_train = X_held_out = PowderSimulator().transform(_crystals)
y_held_out = y_train
phase_classifier, space_group_classifier = (
    ResNetClassifier(depth=2, width=8, stem_stride=4, max_epochs=1, random_state=0)
    for _ in range(2)
)
""",
}

_CACHE = ('cache="~/.cache/skxrd"', 'cache="cache"')
_SHRINK = {
    "crystals.rst": [
        ("make_random_crystals(1000,", "make_random_crystals(20,"),
        ('(100, space_groups="cubic"', '(5, space_groups="cubic"'),
        ("(100, space_groups=[152, 154, 180]", "(3, space_groups=[152, 154, 180]"),
        ("n_per_type=50, n_variants=2", "n_per_type=3, n_variants=2"),
        ("make_pattern_dataset(20_000,", "make_pattern_dataset(30,"),
        ("make_pattern_dataset(10_000,", "make_pattern_dataset(30,"),
        _CACHE,
    ],
    "training_data.rst": [
        ("prior.sample(10_000,", "prior.sample(10,"),
        ("100_000, target=", "40, target="),
        ("n_jobs=-1, random_state=0", "n_jobs=1, random_state=0"),
        _CACHE,
        # load_amcsd parses 9,275 CIFs: minutes
        ("minerals = load_amcsd()", "pass"),
    ],
    "validation.rst": [
        # 60 patterns cannot stratify 230 space groups: crystal systems
        (
            'make_pattern_dataset(20_000, target="space_group",',
            'make_pattern_dataset(60, target="crystal_system",',
        ),
        ("make_pattern_dataset(10_000,", "make_pattern_dataset(30,"),
        (
            "ResNetClassifier(max_epochs=30)",
            "ResNetClassifier(depth=2, width=8, max_epochs=1)",
        ),
        ('"resnetclassifier__depth": [8, 16]', '"resnetclassifier__depth": [2]'),
        ("StratifiedGroupKFold(5)", "StratifiedGroupKFold(2)"),
    ],
    "preprocessing.rst": [
        (
            "    ResNetClassifier(),\n",
            "    ResNetClassifier(depth=2, width=8, max_epochs=1),\n",
        ),
    ],
    "classifiers.rst": [
        ("depth=8, width=32, max_epochs=30", "depth=2, width=8, max_epochs=1"),
        ("cv=None, n_jobs=2,", "cv=None, n_jobs=1,"),
        ('"resnetclassifier__depth": [4, 8]', '"resnetclassifier__depth": [2]'),
        ('"resnetclassifier__lr": [1e-3, 3e-3]', '"resnetclassifier__lr": [1e-3]'),
        ("cv=StratifiedGroupKFold(5)", "cv=StratifiedGroupKFold(2)"),
        (
            "UnionClassifier(ResNetClassifier(max_epochs=30))",
            "UnionClassifier(ResNetClassifier(depth=2, width=8, max_epochs=1))",
        ),
        (
            '("classifier", ResNetClassifier())',
            '("classifier", ResNetClassifier(max_epochs=1))',
        ),
    ],
    "abstention.rst": [
        ("confidence_head=True)", "confidence_head=True, max_epochs=1)"),
    ],
    "images.rst": [
        (
            "input_shape=(3, 3, 128, 128))",
            "input_shape=(3, 3, 128, 128), max_epochs=1)",
        ),
        ("n_per_type=150", "n_per_type=2"),
        (
            "FingerprintCNNClassifier(max_epochs=40)",
            "FingerprintCNNClassifier(max_epochs=1)",
        ),
    ],
    "pretrained.rst": [
        (
            "evaluate_model(model, data.patterns, data.crystal_system)",
            "evaluate_model(model, data.patterns[:4], data.crystal_system[:4])",
        ),
    ],
    "scaling.rst": [
        (
            "make_pattern_dataset(100_000, random_state=0, n_jobs=-1)",
            "make_pattern_dataset(10, random_state=0, n_jobs=2)",
        ),
    ],
}

# (page, text of the block) -> why it does not run in the test
_SKIP = {
    ("classifiers.rst", "minerals = load_amcsd()"): "load_amcsd parses 9,275 CIFs "
    "(minutes); the setup's references stand in for the blocks after it",
    ("classifiers.rst", 'set_device("cuda")'): "needs a GPU",
    ("pretrained.rst", "weighed.add_classes("): "a minute: the new members "
    "train with the shipped union's settings",
    ("scaling.rst", "register_ray()"): "starts a Ray cluster (6-9 s a call) whose "
    "driver replaces builtins.print",
}

# what the pages' comments say the code gives, checked after the page has run
_CLAIMS = {
    "simulation.rst": ["X.shape == (3, 4250)", "len(peaks) == 3"],
    "crystals.rst": [
        "corundum.formula == 'Al2O3'",
        "load_structure_type('spinel').crystal().n_atoms == 56",
        "list(to_crystal_system([2, 225])) == ['triclinic', 'cubic']",
    ],
    "measured.rst": ["X.shape == (2, 4250)", "reasons[1] is None"],
    "preprocessing.rst": ["round(kept) == 191", "round(extended) == 1000"],
    "images.rst": [  # (n, n_axes, H, W) and (n, 3, H, W)
        "zone.shape == (6, 3, 128, 128)",
        "fingerprints.ndim == 4 and fingerprints.shape[:2] == (6, 3)",
    ],
    "training_data.rst": ["cifs.skipped == []", "len(mp.crystals) == 36_737"],
    "pretrained.rst": [
        "set(hybrid.predict_source(rows)) <= {'match', 'model'}",
        r"re.fullmatch(r'.+ \(amcsd-\d{7}\)', hybrid.reference_names_[index][0, 0])",
        # the comment names the NaCl pattern's closest reference
        "hybrid.reference_names_[index][0, 0]"
        " == 'Cuboargyrite, AgSbS2 (amcsd-0009223)'",
        "model.classes_.dtype.kind in 'iu'",  # space-group numbers
    ],
    "classifiers.rst": ["set(hybrid.predict_source(X_measured)) <= {'match', 'model'}"],
}


def _guide_pages():
    return sorted(p.name for p in USER_GUIDE.glob("*.rst") if _python_blocks(p.name))


def _runnable_blocks(page):
    """``(index, code or None, skip reason)`` of a page, shrunk as listed."""
    for index, block in enumerate(_python_blocks(page)):
        reasons = [
            why for (p, text), why in _SKIP.items() if p == page and text in block
        ]
        for old, new in _SHRINK.get(page, []):
            block = block.replace(old, new)
        yield index, (None if reasons else block), (reasons[0] if reasons else None)


def test_user_guide_run_helpers_match_the_pages():
    # a stale entry would silently run the full-size call or skip nothing
    pages = _guide_pages()
    for page, pairs in _SHRINK.items():
        text = "\n".join(_python_blocks(page))
        assert page in pages
        for old, _ in pairs:
            assert old in text, f"{page}: nothing to shrink at {old!r}"
    for page, text in _SKIP:
        assert sum(text in b for b in _python_blocks(page)) == 1, (page, text)
    assert set(_SETUP) | set(_CLAIMS) <= set(pages)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("page", _guide_pages())
def test_user_guide_blocks_run(page, tmp_path, monkeypatch):
    import warnings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))  # a "~" in a block stays here
    namespace = {"__name__": "user_guide", "ROOT": ROOT}
    with warnings.catch_warnings():
        # coverage and small-data warnings of the shrunk examples
        warnings.simplefilter("ignore")
        exec(_SETUP.get(page, ""), namespace)
        for index, block, _ in _runnable_blocks(page):
            if block is not None:
                exec(compile(block, f"{page}, block {index}", "exec"), namespace)
    namespace["re"] = re
    for claim in _CLAIMS.get(page, []):
        assert eval(claim, namespace), f"{page}: not so: {claim}"
