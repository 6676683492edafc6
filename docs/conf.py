"""Sphinx configuration of the skxrd documentation.

The site builds offline and its pages load nothing from the network: no
intersphinx inventories are fetched, no MathJax (formulas are written as text),
the theme's fonts, icons and scripts ship with pydata-sphinx-theme, the
gallery's timing pages (which load CDN scripts) are not written, and the
gallery examples use bundled data only.

``make docs`` builds it with the examples run (``-W --keep-going``);
``tests/test_docs.py`` builds it without running them (``-D plot_gallery=0``).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

# The examples train tiny networks: one thread each keeps them polite on shared
# machines and their results reproducible.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Progress bars are for terminals: in the gallery's captured output they were
# dozens of lines of partial bars (tqdm reads this when a bar is made).
os.environ.setdefault("TQDM_DISABLE", "1")


def _short_warning(message, category, filename, lineno, line=None):
    """Warnings in the gallery's output without the build machine's paths."""
    return f"{category.__name__}: {message}\n"


warnings.formatwarning = _short_warning

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the source tree, also without `pip install -e`

import skxrd  # noqa: E402

project = "skxrd"
author = "skxrd developers"
copyright = "skxrd developers, GPL-3.0-or-later"
release = skxrd.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_templates", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"
language = "en"

# -- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc's Parameters sections say it, in words
autodoc_default_options = {"inherited-members": True}


def _defined_in(obj):
    """The module that defines a member (a function, property or descriptor)."""
    for candidate in (obj, getattr(obj, "fget", None), getattr(obj, "__func__", None)):
        module = getattr(candidate, "__module__", None)
        if isinstance(module, str):
            return module
    return None


def _skip_foreign_member(app, what, name, obj, skip, options):
    """Members inherited from scikit-learn, imbalanced-learn, torch or Python
    classes are documented there: show only what skxrd defines."""
    if what in ("class", "exception"):
        module = _defined_in(obj)
        if module is not None and not module.startswith("skxrd"):
            return True
    return None


def _constant_source(name, obj):
    """The private module of skxrd that defines the constant ``obj``."""
    import sys

    for module_name, module in sorted(sys.modules.items()):
        if (
            module_name.startswith("skxrd.")
            and module_name.rsplit(".", 1)[-1].startswith("_")
            and getattr(module, name, None) is obj
        ):
            return module_name
    return None


def _value_summary(obj) -> str:
    """A line that shows a constant's value (long ones shortened)."""
    text = repr(obj)
    if len(text) <= 300:
        return f"Value: ``{text}``"
    if isinstance(obj, str):
        return ""
    items = list(obj)
    shown = ", ".join(f"``{v!r}``" for v in items[:8])
    what = "keys" if isinstance(obj, dict) else "items"
    return f"{len(items)} {what}: {shown}, …"


def _document_constant(app, what, name, obj, options, lines):
    """Module constants get their own documentation and a look at their value.

    autodoc reads the ``#:`` comments and docstrings of constants only in the
    module it documents, but skxrd's constants are defined in private modules
    and re-exported: without this, ``CRYSTAL_SYSTEMS`` showed the docstring of
    ``tuple`` and ``XRAY_LINES`` nothing.
    """
    if what != "data":
        return
    from sphinx.pycode import ModuleAnalyzer

    short = name.rsplit(".", 1)[-1]
    source = _constant_source(short, obj)
    doc = []
    if source is not None:
        try:
            docs = ModuleAnalyzer.for_module(source).find_attr_docs()
        except Exception:  # noqa: BLE001 - no source: keep what autodoc found
            docs = {}
        doc = [line for line in docs.get(("", short), []) if line is not None]
    type_doc = (type(obj).__doc__ or "").strip().splitlines()
    if doc or (lines and type_doc and lines[0].strip() == type_doc[0].strip()):
        lines[:] = [line.rstrip("\n") for line in doc]
    summary = _value_summary(obj)
    if summary:
        lines += ["", summary]


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_member)
    app.connect("autodoc-process-docstring", _document_constant)


numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# No intersphinx: the build must not touch the network. References to
# numpy, scikit-learn or torch objects render as plain code.

# -- sphinx-gallery -----------------------------------------------------------
_WEIGHTS = Path(skxrd.__file__).parent / "pretrained" / "weights"
_ignore = r"__init__\.py"
if not all(
    (_WEIGHTS / f"{name}.pt").is_file() or (_WEIGHTS / f"{name}.json").is_file()
    for name in ("crystal-system", "space-group")  # crystal-system: a view
):
    # The shipped models' weights are not in this checkout (they are trained
    # separately): skip the examples that load them rather than fail.
    print(
        "skxrd docs: no pretrained weights in skxrd/pretrained/weights/; "
        "skipping the gallery examples that use them (examples/pretrained/)"
    )
    _ignore = r"(__init__\.py|plot_pretrained_.*\.py)"

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": _ignore,
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skxrd",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skxrd": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 5,
    # The timing pages load their table scripts from CDNs: leave them out.
    "write_computation_times": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    # a 2x version of every figure for high-DPI screens (text stays sharp
    # when the theme shrinks a figure to the column)
    "image_srcset": ["2x"],
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    # a display or an axis label returned by the last line of a block is not
    # output worth showing: its repr was "<...Display object at 0x...>"
    "ignore_repr_types": r"matplotlib\.|Display$|skxrd\..*Display",
}

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skxrd {release}"
html_static_path = ["_static"]
html_css_files = ["skxrd.css"]  # wrap long names in the page panel
html_last_updated_fmt = None
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
    "use_edit_page_button": False,
    "show_version_warning_banner": False,
    "icon_links": [],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "auto"}
