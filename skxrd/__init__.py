"""skxrd: diffraction patterns to crystal symmetry, the scikit-learn way."""

import importlib

from .crystal import Crystal

__version__ = "0.1.0.dev0"

# Subpackages load on first use (``skxrd.dedup``): some pull in torch.
_SUBPACKAGES = (
    "augmentation",
    "crystal",
    "datasets",
    "dedup",
    "estimators",
    "indexing",
    "inspection",
    "io",
    "metrics",
    "models",
    "preprocessing",
    "pretrained",
    "simulation",
    "utils",
)

__all__ = [
    "Crystal",
    "PowderSimulator",
    "__version__",
    "load_pretrained",
    *_SUBPACKAGES,
]


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name == "load_pretrained":  # imports torch: only when asked for
        return importlib.import_module(".pretrained", __name__).load_pretrained
    if name == "PowderSimulator":  # reading a file need not load the simulator
        return importlib.import_module(".simulation", __name__).PowderSimulator
    raise AttributeError(f"module 'skxrd' has no attribute {name!r}")


def __dir__():
    return sorted(
        set(globals()) | set(_SUBPACKAGES) | {"load_pretrained", "PowderSimulator"}
    )
