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
