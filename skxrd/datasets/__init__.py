"""Datasets: random crystals for any space group, structure-type compounds,
defects, pattern datasets for scikit-learn, example crystals and measured
example patterns (bundled with their licences), and resumable on-disk pattern
stores larger than memory."""

from ._dataset import TARGETS, make_pattern_dataset
from ._defects import perturb_crystals
from ._examples import EXAMPLE_CRYSTALS, load_example_crystal
from ._measured import load_measured_examples
from ._prototypes import (
    STRUCTURE_TYPES,
    StructureType,
    load_structure_type,
    structure_type_names,
)
from ._random import DEFAULT_ELEMENTS, covalent_radius, make_random_crystals
from ._store import PatternStore, write_pattern_store
from ._structure_types import (
    SUBSTITUTION_FAMILIES,
    make_structure_type_crystals,
    similar_elements,
)

__all__ = [
    "DEFAULT_ELEMENTS",
    "EXAMPLE_CRYSTALS",
    "PatternStore",
    "STRUCTURE_TYPES",
    "SUBSTITUTION_FAMILIES",
    "TARGETS",
    "StructureType",
    "covalent_radius",
    "load_example_crystal",
    "load_measured_examples",
    "load_structure_type",
    "make_pattern_dataset",
    "make_random_crystals",
    "make_structure_type_crystals",
    "perturb_crystals",
    "similar_elements",
    "structure_type_names",
    "write_pattern_store",
]
