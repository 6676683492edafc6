"""Well-known crystal structures built from their space group and Wyckoff sites."""

from __future__ import annotations

from ..crystal import Crystal

__all__ = ["EXAMPLE_CRYSTALS", "load_example_crystal"]

# name: (space group, sites, lattice parameters); room-temperature literature
# values rounded to the precision that matters for powder patterns.
#: The crystals of :func:`load_example_crystal`: ``{name: (space group, Wyckoff
#: sites, lattice parameters)}``, room-temperature literature values.
EXAMPLE_CRYSTALS: dict[str, tuple] = {
    "Si": (227, [("Si", "8a")], dict(a=5.431)),
    "Cu": (225, [("Cu", "4a")], dict(a=3.615)),
    "Fe": (229, [("Fe", "2a")], dict(a=2.8665)),
    "Mg": (194, [("Mg", "2c")], dict(a=3.209, c=5.211)),
    "NaCl": (225, [("Na", "4a"), ("Cl", "4b")], dict(a=5.640)),
    "CsCl": (221, [("Cs", "1a"), ("Cl", "1b")], dict(a=4.123)),
    "ZnS": (216, [("Zn", "4a"), ("S", "4c")], dict(a=5.409)),
    "ZnO": (
        186,
        [("Zn", "2b", (1 / 3, 2 / 3, 0.0)), ("O", "2b", (1 / 3, 2 / 3, 0.3819))],
        dict(a=3.250, c=5.207),
    ),
    "CaF2": (225, [("Ca", "4a"), ("F", "8c")], dict(a=5.463)),
    "TiO2-rutile": (
        136,
        [("Ti", "2a"), ("O", "4f", (0.3048, 0.3048, 0.0))],
        dict(a=4.594, c=2.959),
    ),
    "Al2O3": (
        167,
        [("Al", "12c", (0.0, 0.0, 0.3522)), ("O", "18e", (0.3064, 0.0, 0.25))],
        dict(a=4.759, c=12.991),
    ),
    "SrTiO3": (221, [("Sr", "1a"), ("Ti", "1b"), ("O", "3c")], dict(a=3.905)),
    "LiCoO2": (
        166,
        [("Li", "3a"), ("Co", "3b"), ("O", "6c", (0.0, 0.0, 0.2396))],
        dict(a=2.816, c=14.05),
    ),
}


def load_example_crystal(name: str) -> Crystal:
    """One of a few well-known crystals, for examples and tests.

    Parameters
    ----------
    name : str
        One of ``EXAMPLE_CRYSTALS``: ``"Si"``, ``"Cu"``, ``"Fe"``, ``"Mg"``,
        ``"NaCl"``, ``"CsCl"``, ``"ZnS"``, ``"ZnO"``, ``"CaF2"``, ``"TiO2-rutile"``,
        ``"Al2O3"``, ``"SrTiO3"``, ``"LiCoO2"``.

    Returns
    -------
    Crystal

    Examples
    --------
    >>> from skxrd.datasets import load_example_crystal
    >>> load_example_crystal("Al2O3").n_atoms
    30
    """
    try:
        sg, sites, params = EXAMPLE_CRYSTALS[name]
    except KeyError:
        raise ValueError(
            f"unknown example crystal {name!r}; choose from {list(EXAMPLE_CRYSTALS)}"
        ) from None
    return Crystal.from_wyckoff(sg, sites, **params, name=name)
