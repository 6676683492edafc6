"""Datasets: example crystals, random crystals, structure types, defects."""

from ._examples import EXAMPLE_CRYSTALS, load_example_crystal
from ._random import DEFAULT_ELEMENTS, covalent_radius, make_random_crystals

__all__ = [
    "DEFAULT_ELEMENTS",
    "EXAMPLE_CRYSTALS",
    "covalent_radius",
    "load_example_crystal",
    "make_random_crystals",
]
