"""Datasets: bundled example crystals (synthetic generators come later)."""

from ._examples import EXAMPLE_CRYSTALS, load_example_crystal

__all__ = ["EXAMPLE_CRYSTALS", "load_example_crystal"]
