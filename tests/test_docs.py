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
