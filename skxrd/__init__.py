"""skxrd: diffraction patterns to crystal symmetry, the scikit-learn way."""

from . import crystal, simulation
from .crystal import Crystal
from .simulation import PowderSimulator

__version__ = "0.1.0.dev0"

__all__ = ["Crystal", "PowderSimulator", "__version__", "crystal", "simulation"]
