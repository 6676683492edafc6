"""Datasets: real crystal structures (the bundled Materials Project set and
readers for CIF folders, pymatgen / ASE lists and the AMCSD), random crystals
for any space group, realistic random crystals learned from real ones,
variants of real structures, structure-type compounds, defects, pattern
datasets for scikit-learn from any of these sources, example crystals and
measured example patterns (bundled with their licences), and resumable on-disk
pattern stores larger than memory."""

from ._amcsd import AMCSD_ATTRIBUTION, load_amcsd
from ._collections import (
    MATERIALS_PROJECT_ATTRIBUTION,
    CollectionWarning,
    load_materials_project,
    load_structures,
    read_cif_folder,
)
from ._dataset import SOURCES, TARGETS, make_pattern_dataset
from ._defects import perturb_crystals
from ._examples import EXAMPLE_CRYSTALS, load_example_crystal
from ._measured import load_measured_examples
from ._prior import CrystalPrior, space_group_frequencies, space_group_sample_weights
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
from ._variants import make_variants

__all__ = [
    "AMCSD_ATTRIBUTION",
    "DEFAULT_ELEMENTS",
    "EXAMPLE_CRYSTALS",
    "MATERIALS_PROJECT_ATTRIBUTION",
    "SOURCES",
    "STRUCTURE_TYPES",
    "SUBSTITUTION_FAMILIES",
    "TARGETS",
    "CollectionWarning",
    "CrystalPrior",
    "PatternStore",
    "StructureType",
    "covalent_radius",
    "load_amcsd",
    "load_example_crystal",
    "load_materials_project",
    "load_measured_examples",
    "load_structure_type",
    "load_structures",
    "make_pattern_dataset",
    "make_random_crystals",
    "make_structure_type_crystals",
    "make_variants",
    "perturb_crystals",
    "read_cif_folder",
    "similar_elements",
    "space_group_frequencies",
    "space_group_sample_weights",
    "structure_type_names",
    "write_pattern_store",
]
