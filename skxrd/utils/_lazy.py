"""Lazy re-exports for the subpackages' ``__init__`` (PEP 562).

A subpackage lists its public names and the private modules that define them;
a name's module is imported when the name is first asked for. So importing one
light module of a subpackage (``skxrd.preprocessing._core``, which
``skxrd predict`` needs) does not import all of its siblings and, through
them, scikit-learn and skorch (a second or more on a CPU).
"""

from __future__ import annotations

import importlib


def lazy_exports(package: str, where: dict[str, str]):
    """``(__getattr__, __dir__)`` for a package whose names live in submodules.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    where : dict
        ``{public name: relative module}`` such as
        ``{"PatternNormalizer": "._normalize"}``.

    Returns
    -------
    (callable, callable)
        The module-level ``__getattr__`` and ``__dir__`` of the package.

    Examples
    --------
    >>> getattr_, dir_ = lazy_exports("skxrd.io", {"Pattern": "._pattern"})
    >>> getattr_("Pattern").__name__
    'Pattern'
    """
    import sys

    def __getattr__(name):
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)  # found directly next time
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__
