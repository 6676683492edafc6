"""A library of crystal structure types (prototypes) written as Wyckoff sites.

Each :class:`StructureType` gives a space group (ITA standard setting, as
:meth:`skxrd.crystal.Crystal.from_wyckoff` reads it: unique axis b, origin choice
2, hexagonal axes for rhombohedral groups), the occupied Wyckoff sites with their
free coordinates, and the lattice parameters of a representative compound, whose
formula is :attr:`StructureType.prototype`. ``xyz`` of a site is the first
position of the orbit in xrayutilities' table, e.g. ``(x, 1/4, z)`` for 4c of
Pnma; coordinates fixed by symmetry are written out for readability and ignored.

Sources and checks
------------------
Most coordinates and cell parameters are literature values (room temperature
where the phase is stable there) as collected in the AFLOW Library of
Crystallographic Prototypes (Mehl et al., Comput. Mater. Sci. 136, S1, 2017; the
copy distributed with pymatgen), re-expressed in the standard setting. Entries
where that copy has an evident misprint (a wrong cell length or coordinate, seen
as impossible bond lengths or densities) were corrected from the original
literature: brookite, cooperite, covellite, skutterudite, FeB, NiTi B19',
tenorite, ullmannite, MgNi2, BC8 Si and indium. The others (wurtzite ZnO, the
perovskites, garnet, olivine, scheelite, pyrochlore, the layered oxides, ...)
follow published refinements, checked against known bond lengths. The test suite
checks every entry: spglib finds the intended space group at ``symprec=1e-3``, no
two atoms are closer than 0.75 times the sum of their covalent radii (nor 1 Å),
the formula is that of the prototype and the density is plausible.

``inverse_spinel`` (MgFe2O4) is the one disordered entry: its 16d site holds Mg
and Fe at half occupancy each, written as two sites at the same position. spglib
ignores occupancy and sees two coincident atoms of different elements on every
16d position; each element still fills the complete 16d orbit, so it finds
Fd-3m (227), the space group of the disordered crystal.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from ..crystal import Crystal, to_crystal_system

__all__ = [
    "STRUCTURE_TYPES",
    "StructureType",
    "load_structure_type",
    "structure_type_names",
]


@dataclass(frozen=True)
class StructureType:
    """A crystal structure type: space group, Wyckoff sites and a cell.

    Parameters
    ----------
    name : str
        Short key, e.g. ``"rocksalt"``.
    prototype : str
        Formula of the representative compound whose coordinates and lattice
        parameters are given, e.g. ``"NaCl"``.
    space_group : int or str
        Space-group number (ITA standard setting) or an xrayutilities setting
        key such as ``"227:1"``.
    sites : tuple
        Wyckoff sites as :meth:`Crystal.from_wyckoff` accepts them:
        ``(element, wyckoff)``, ``(element, wyckoff, xyz)`` or a dict with keys
        ``species``, ``wyckoff`` and optionally ``xyz``, ``occupancy``,
        ``b_iso``.
    lattice : dict
        Lattice parameters of the representative compound (Å, degrees), only
        those the crystal system leaves free, e.g. ``{"a": 4.59, "c": 2.96}``.
    description : str, optional
        Common name and Strukturbericht designation.

    Examples
    --------
    >>> from skxrd.datasets._prototypes import load_structure_type
    >>> rutile = load_structure_type("rutile")
    >>> rutile.prototype, rutile.space_group, rutile.crystal_system
    ('TiO2', 136, 'tetragonal')
    >>> crystal = rutile.crystal()
    >>> crystal.formula, crystal.n_atoms, crystal.get_space_group()
    ('TiO2', 6, 136)
    """

    name: str
    prototype: str
    space_group: int | str
    sites: tuple
    lattice: dict
    description: str = ""

    def __post_init__(self):
        if not self.sites:
            raise ValueError(f"structure type {self.name!r} has no sites")
        object.__setattr__(self, "sites", tuple(self.sites))

    @property
    def space_group_number(self) -> int:
        """The space-group number, also when given as a setting key."""
        return int(str(self.space_group).split(":")[0])

    @property
    def crystal_system(self) -> str:
        """Crystal system of the space group, e.g. ``'cubic'``."""
        return str(to_crystal_system(self.space_group_number))

    def crystal(self) -> Crystal:
        """Build the full conventional cell.

        Returns
        -------
        Crystal
            Named after the structure type, with the space group as metadata.

        Examples
        --------
        >>> nacl = STRUCTURE_TYPES["rocksalt"].crystal()
        >>> nacl.name, nacl.formula, nacl.n_atoms, round(nacl.lattice_parameters[0], 3)
        ('rocksalt', 'NaCl', 8, 5.64)
        """
        sites = [dict(s) if isinstance(s, Mapping) else s for s in self.sites]
        return Crystal.from_wyckoff(
            self.space_group, sites, **self.lattice, name=self.name
        )


# Grouped as elements, AB, AB2, AB3, other binaries, then ternary and more
# complex compounds. Columns: name, prototype, space group, sites, lattice,
# description.
_TYPES: tuple[StructureType, ...] = (
    StructureType(
        "fcc",
        "Cu",
        225,
        (("Cu", "4a"),),
        {"a": 3.6149},
        "face-centred cubic metal, A1",
    ),
    StructureType(
        "bcc", "W", 229, (("W", "2a"),), {"a": 3.165}, "body-centred cubic metal, A2"
    ),
    StructureType(
        "hcp",
        "Mg",
        194,
        (("Mg", "2c"),),
        {"a": 3.2093, "c": 5.2106},
        "hexagonal close packed metal, A3",
    ),
    StructureType(
        "dhcp",
        "La",
        194,
        (("La", "2a"), ("La", "2c")),
        {"a": 3.77, "c": 12.13},
        "double hexagonal close packed alpha-La, A3'",
    ),
    StructureType(
        "sm_type",
        "Sm",
        166,
        (("Sm", "3a"), ("Sm", "6c", (0.0, 0.0, 0.2222))),
        {"a": 3.6204, "c": 26.249},
        "alpha samarium, nine-layer close packing",
    ),
    StructureType("diamond", "C", 227, (("C", "8a"),), {"a": 3.567}, "diamond, A4"),
    StructureType(
        "lonsdaleite",
        "C",
        194,
        (("C", "4f", (1 / 3, 2 / 3, 0.06)),),
        {"a": 2.508, "c": 4.183},
        "hexagonal diamond",
    ),
    StructureType(
        "bc8",
        "Si",
        206,
        (("Si", "16c", (0.1003, 0.1003, 0.1003)),),
        {"a": 6.636},
        "BC8 silicon (metastable Si-III)",
    ),
    StructureType(
        "graphite",
        "C",
        194,
        (("C", "2b"), ("C", "2c")),
        {"a": 2.464, "c": 6.711},
        "hexagonal (2H) graphite, A9",
    ),
    StructureType(
        "alpha_po",
        "Po",
        221,
        (("Po", "1a"),),
        {"a": 3.359},
        "simple cubic alpha polonium, A_h",
    ),
    StructureType(
        "beta_sn",
        "Sn",
        141,
        (("Sn", "4b"),),
        {"a": 5.8318, "c": 3.1819},
        "white tin, A5",
    ),
    StructureType(
        "indium",
        "In",
        139,
        (("In", "2a"),),
        {"a": 3.2523, "c": 4.9461},
        "body-centred tetragonal indium, A6",
    ),
    StructureType(
        "alpha_as",
        "As",
        166,
        (("As", "6c", (0.0, 0.0, 0.2275)),),
        {"a": 3.7595, "c": 10.457},
        "grey arsenic, A7",
    ),
    StructureType(
        "alpha_se",
        "Se",
        152,
        (("Se", "3b", (0.2254, 0.0, 5 / 6)),),
        {"a": 4.3662, "c": 4.9536},
        "trigonal selenium (helical chains), A8",
    ),
    StructureType(
        "alpha_ga",
        "Ga",
        64,
        (("Ga", "8f", (0.0, 0.6549, 0.581)),),
        {"a": 4.523, "b": 7.661, "c": 4.524},
        "alpha gallium, A11",
    ),
    StructureType(
        "alpha_mn",
        "Mn",
        217,
        (
            ("Mn", "2a"),
            ("Mn", "8c", (0.1821, 0.1821, 0.1821)),
            ("Mn", "24g", (0.0896, 0.0896, 0.7181)),
            ("Mn", "24g", (0.3571, 0.3571, 0.9654)),
        ),
        {"a": 8.911},
        "alpha manganese, A12",
    ),
    StructureType(
        "beta_mn",
        "Mn",
        213,
        (
            ("Mn", "8c", (0.0636, 0.0636, 0.0636)),
            ("Mn", "12d", (0.125, 0.2022, 0.4522)),
        ),
        {"a": 6.315},
        "beta manganese, A13",
    ),
    StructureType(
        "iodine",
        "I",
        64,
        (("I", "8f", (0.0, 0.1549, 0.1175)),),
        {"a": 7.1191, "b": 4.66, "c": 9.7956},
        "molecular iodine, A14",
    ),
    StructureType(
        "alpha_s",
        "S",
        70,
        (
            ("S", "32h", (0.6442, 0.0473, 0.5486)),
            ("S", "32h", (0.7928, 0.2269, 0.7541)),
            ("S", "32h", (0.716, 0.2802, 0.8262)),
            ("S", "32h", (0.7141, 0.1576, 0.8795)),
        ),
        {"a": 10.465, "b": 12.866, "c": 24.486},
        "orthorhombic alpha sulfur (S8 rings), A16",
    ),
    StructureType(
        "black_p",
        "P",
        64,
        (("P", "8f", (0.0, 0.6017, 0.5806)),),
        {"a": 3.3136, "b": 10.478, "c": 4.3763},
        "black phosphorus, A17",
    ),
    StructureType(
        "alpha_b",
        "B",
        166,
        (("B", "18h", (0.7844, 0.2156, 0.226)), ("B", "18h", (0.1961, 0.8039, 0.0245))),
        {"a": 4.908, "c": 12.566},
        "alpha rhombohedral boron (B12 icosahedra)",
    ),
    StructureType(
        "rocksalt",
        "NaCl",
        225,
        (("Na", "4a"), ("Cl", "4b")),
        {"a": 5.64},
        "rock salt, B1",
    ),
    StructureType(
        "cscl",
        "CsCl",
        221,
        (("Cs", "1a"), ("Cl", "1b")),
        {"a": 4.123},
        "caesium chloride, B2",
    ),
    StructureType(
        "sphalerite",
        "ZnS",
        216,
        (("S", "4c"), ("Zn", "4a")),
        {"a": 5.4093},
        "zinc blende, B3",
    ),
    StructureType(
        "wurtzite",
        "ZnO",
        186,
        (("Zn", "2b", (1 / 3, 2 / 3, 0.0)), ("O", "2b", (1 / 3, 2 / 3, 0.3819))),
        {"a": 3.2498, "c": 5.2066},
        "wurtzite (zincite), B4",
    ),
    StructureType(
        "nias",
        "NiAs",
        194,
        (("Ni", "2a"), ("As", "2c")),
        {"a": 3.619, "c": 5.044},
        "nickel arsenide, B8_1",
    ),
    StructureType(
        "litharge",
        "PbO",
        129,
        (("Pb", "2c", (0.25, 0.25, 0.2368)), ("O", "2a")),
        {"a": 3.9645, "c": 4.9956},
        "red lead oxide, B10",
    ),
    StructureType(
        "sns",
        "SnS",
        62,
        (("Sn", "4c", (0.6194, 0.25, 0.3806)), ("S", "4c", (0.3507, 0.25, 0.0201))),
        {"a": 11.18, "b": 3.982, "c": 4.329},
        "herzenbergite (distorted rock salt), B29",
    ),
    StructureType(
        "crb",
        "CrB",
        63,
        (("B", "4c", (0.0, 0.436, 0.25)), ("Cr", "4c", (0.0, 0.1453, 0.25))),
        {"a": 2.9782, "b": 7.87, "c": 2.9346},
        "chromium boride, B33",
    ),
    StructureType(
        "feb",
        "FeB",
        62,
        (("Fe", "4c", (0.18, 0.25, 0.125)), ("B", "4c", (0.036, 0.25, 0.61))),
        {"a": 5.495, "b": 2.946, "c": 4.053},
        "iron boride, B27",
    ),
    StructureType(
        "mnp",
        "MnP",
        62,
        (("Mn", "4c", (0.5056, 0.25, 0.6952)), ("P", "4c", (0.6879, 0.25, 0.0696))),
        {"a": 5.2416, "b": 3.1802, "c": 5.9032},
        "manganese phosphide, B31",
    ),
    StructureType(
        "cuau",
        "CuAu",
        123,
        (("Cu", "1d"), ("Au", "1a")),
        {"a": 2.8, "c": 3.67},
        "tetragonal CuAu ordered alloy, L1_0",
    ),
    StructureType(
        "cinnabar",
        "HgS",
        154,
        (("Hg", "3a", (0.7198, 0.0, 2 / 3)), ("S", "3b", (0.4889, 0.0, 1 / 6))),
        {"a": 4.145, "c": 9.496},
        "cinnabar (helical chains), B9",
    ),
    StructureType(
        "wc",
        "WC",
        187,
        (("W", "1a"), ("C", "1f")),
        {"a": 2.9065, "c": 2.8366},
        "tungsten carbide, B_h",
    ),
    StructureType(
        "fesi",
        "FeSi",
        198,
        (
            ("Fe", "4a", (0.1365, 0.1365, 0.1365)),
            ("Si", "4a", (0.8424, 0.8424, 0.8424)),
        ),
        {"a": 4.4869},
        "iron monosilicide, B20",
    ),
    StructureType(
        "natl",
        "NaTl",
        227,
        (("Na", "8a"), ("Tl", "8b")),
        {"a": 7.483},
        "Zintl phase NaTl, B32",
    ),
    StructureType(
        "cuti",
        "CuTi",
        129,
        (("Ti", "2c", (0.25, 0.25, 0.65)), ("Cu", "2c", (0.25, 0.25, 0.1))),
        {"a": 3.107, "c": 5.919},
        "gamma CuTi, B11",
    ),
    StructureType(
        "tlf",
        "TlF",
        69,
        (("F", "4a"), ("Tl", "4b")),
        {"a": 5.18, "b": 5.495, "c": 6.08},
        "thallium fluoride, B24",
    ),
    StructureType(
        "hbn",
        "BN",
        194,
        (("B", "2c"), ("N", "2d")),
        {"a": 2.504, "c": 6.6612},
        "hexagonal boron nitride, B_k",
    ),
    StructureType(
        "millerite",
        "NiS",
        160,
        (("Ni", "9b", (0.0878, 0.9122, 0.912)), ("S", "9b", (0.2209, 0.7791, 0.0503))),
        {"a": 9.619, "c": 3.1499},
        "millerite, B13",
    ),
    StructureType(
        "sic_6h",
        "SiC",
        186,
        (
            ("Si", "2a", (0.0, 0.0, 0.0)),
            ("Si", "2b", (1 / 3, 2 / 3, 0.3333)),
            ("Si", "2b", (1 / 3, 2 / 3, 0.6665)),
            ("C", "2a", (0.0, 0.0, 0.8746)),
            ("C", "2b", (1 / 3, 2 / 3, 0.2079)),
            ("C", "2b", (1 / 3, 2 / 3, 0.5415)),
        ),
        {"a": 3.0813, "c": 15.12},
        "moissanite 6H polytype, B6",
    ),
    StructureType(
        "cooperite",
        "PtS",
        131,
        (("Pt", "2c"), ("S", "2e")),
        {"a": 3.47, "c": 6.11},
        "cooperite, B17",
    ),
    StructureType(
        "covellite",
        "CuS",
        194,
        (
            ("Cu", "2d"),
            ("Cu", "4f", (1 / 3, 2 / 3, 0.1073)),
            ("S", "2c"),
            ("S", "4e", (0.0, 0.0, 0.0634)),
        ),
        {"a": 3.794, "c": 16.341},
        "covellite, B18",
    ),
    StructureType(
        "pds",
        "PdS",
        84,
        (
            ("Pd", "2c"),
            ("Pd", "2e"),
            ("Pd", "4j", (0.4678, 0.2571, 0.0)),
            ("S", "8k", (0.1936, 0.3075, 0.229)),
        ),
        {"a": 6.429, "c": 6.611},
        "vysotskite, B34",
    ),
    StructureType(
        "tenorite",
        "CuO",
        15,
        (("Cu", "4c"), ("O", "4e", (0.0, 0.4184, 0.25))),
        {"a": 4.6837, "b": 3.4226, "c": 5.1288, "beta": 99.54},
        "tenorite, B26",
    ),
    StructureType(
        "aucd",
        "AuCd",
        51,
        (("Cd", "2f", (0.25, 0.5, 0.6875)), ("Au", "2e", (0.25, 0.0, 0.1875))),
        {"a": 4.7549, "b": 3.1476, "c": 4.8546},
        "beta'-AuCd, B19",
    ),
    StructureType(
        "cdsb",
        "CdSb",
        61,
        (("Cd", "8c", (0.136, 0.072, 0.108)), ("Sb", "8c", (0.456, 0.119, 0.872))),
        {"a": 6.471, "b": 8.253, "c": 8.526},
        "cadmium antimonide, B_e",
    ),
    StructureType(
        "mob",
        "MoB",
        141,
        (("B", "8e", (0.0, 0.25, 0.227)), ("Mo", "8e", (0.0, 0.25, 0.071))),
        {"a": 3.108, "c": 16.94},
        "alpha molybdenum boride, B_g",
    ),
    StructureType(
        "tlse",
        "TlSe",
        140,
        (("Se", "4a"), ("Se", "4b"), ("Tl", "8h", (0.679, 0.179, 0.0))),
        {"a": 8.03, "c": 7.01},
        "thallium selenide, B37",
    ),
    StructureType(
        "b19_prime",
        "NiTi",
        11,
        (("Ti", "2e", (0.4176, 0.25, 0.2164)), ("Ni", "2e", (0.0372, 0.25, 0.6752))),
        {"a": 2.898, "b": 4.108, "c": 4.646, "beta": 97.78},
        "monoclinic martensite NiTi, B19'",
    ),
    StructureType(
        "vulcanite",
        "CuTe",
        59,
        (("Cu", "2a", (0.25, 0.25, 0.051)), ("Te", "2b", (0.25, 0.75, 0.277))),
        {"a": 3.15, "b": 4.09, "c": 6.95},
        "vulcanite",
    ),
    StructureType(
        "modderite",
        "CoAs",
        33,
        (("Co", "4a", (0.002, 0.2003, 0.25)), ("As", "4a", (0.1996, 0.5867, 0.2506))),
        {"a": 5.2857, "b": 5.8675, "c": 3.4883},
        "modderite",
    ),
    StructureType(
        "cosn",
        "CoSn",
        191,
        (("Co", "3f"), ("Sn", "1a"), ("Sn", "2d")),
        {"a": 5.279, "c": 4.2597},
        "kagome CoSn, B35",
    ),
    StructureType(
        "nbo",
        "NbO",
        221,
        (("Nb", "3c"), ("O", "3d")),
        {"a": 4.2101},
        "niobium monoxide (ordered defect rock salt)",
    ),
    StructureType(
        "fluorite",
        "CaF2",
        225,
        (("Ca", "4a"), ("F", "8c")),
        {"a": 5.4631},
        "fluorite, C1",
    ),
    StructureType(
        "antifluorite",
        "Li2O",
        225,
        (("O", "4a"), ("Li", "8c")),
        {"a": 4.611},
        "antifluorite, C1 with cations and anions exchanged",
    ),
    StructureType(
        "rutile",
        "TiO2",
        136,
        (("Ti", "2a"), ("O", "4f", (0.305, 0.305, 0.0))),
        {"a": 4.5922, "c": 2.9574},
        "rutile, C4",
    ),
    StructureType(
        "anatase",
        "TiO2",
        141,
        (("O", "8e", (0.0, 0.25, 0.2081)), ("Ti", "4a")),
        {"a": 3.785, "c": 9.514},
        "anatase, C5",
    ),
    StructureType(
        "brookite",
        "TiO2",
        61,
        (
            ("Ti", "8c", (0.1289, 0.0972, 0.8628)),
            ("O", "8c", (0.0095, 0.1491, 0.1835)),
            ("O", "8c", (0.2314, 0.111, 0.5366)),
        ),
        {"a": 9.184, "b": 5.447, "c": 5.145},
        "brookite, C21",
    ),
    StructureType(
        "cuprite", "Cu2O", 224, (("Cu", "4b"), ("O", "2a")), {"a": 4.267}, "cuprite, C3"
    ),
    StructureType(
        "pyrite",
        "FeS2",
        205,
        (("Fe", "4a"), ("S", "8c", (0.3851, 0.3851, 0.3851))),
        {"a": 5.417},
        "pyrite, C2",
    ),
    StructureType(
        "marcasite",
        "FeS2",
        58,
        (("Fe", "2a"), ("S", "4g", (0.2004, 0.3787, 0.0))),
        {"a": 4.4446, "b": 5.4246, "c": 3.3864},
        "marcasite, C18",
    ),
    StructureType(
        "cacl2",
        "CaCl2",
        58,
        (("Ca", "2a"), ("Cl", "4g", (0.275, 0.325, 0.0))),
        {"a": 6.24, "b": 6.43, "c": 4.2},
        "hydrophilite (distorted rutile), C35",
    ),
    StructureType(
        "baddeleyite",
        "ZrO2",
        14,
        (
            ("Zr", "4e", (0.2754, 0.0395, 0.2083)),
            ("O", "4e", (0.07, 0.3317, 0.3447)),
            ("O", "4e", (0.4496, 0.7569, 0.4792)),
        ),
        {"a": 5.1505, "b": 5.2116, "c": 5.3173, "beta": 99.23},
        "monoclinic zirconia, C43",
    ),
    StructureType(
        "alpha_quartz",
        "SiO2",
        152,
        (("Si", "3b", (0.4699, 0.0, 5 / 6)), ("O", "6c", (0.413, 0.2668, 0.714))),
        {"a": 4.914, "c": 5.406},
        "low quartz",
    ),
    StructureType(
        "alpha_cristobalite",
        "SiO2",
        92,
        (("Si", "4a", (0.3047, 0.3047, 0.0)), ("O", "8b", (0.2381, 0.1109, 0.1826))),
        {"a": 4.957, "c": 6.8903},
        "low cristobalite",
    ),
    StructureType(
        "coesite",
        "SiO2",
        15,
        (
            ("O", "4d"),
            ("O", "4e", (0.0, 0.3663, 0.25)),
            ("O", "8f", (0.5759, 0.6266, 0.0599)),
            ("O", "8f", (0.2332, 0.6462, 0.6718)),
            ("O", "8f", (0.789, 0.5383, 0.5218)),
            ("Si", "8f", (0.3181, 0.6417, 0.9277)),
            ("Si", "8f", (0.2161, 0.592, 0.4592)),
        ),
        {"a": 7.1356, "b": 12.369, "c": 7.1179, "beta": 119.56},
        "coesite",
    ),
    StructureType(
        "cotunnite",
        "PbCl2",
        62,
        (
            ("Pb", "4c", (0.7377, 0.25, 0.5959)),
            ("Cl", "4c", (0.625, 0.25, 0.9217)),
            ("Cl", "4c", (0.5202, 0.25, 0.337)),
        ),
        {"a": 7.6204, "b": 4.5342, "c": 9.0452},
        "cotunnite, C23",
    ),
    StructureType(
        "mosi2",
        "MoSi2",
        139,
        (("Mo", "2a"), ("Si", "4e", (0.0, 0.0, 0.3353))),
        {"a": 3.2064, "c": 7.8478},
        "molybdenum disilicide, C11_b",
    ),
    StructureType(
        "alb2",
        "AlB2",
        191,
        (("Al", "1a"), ("B", "2d")),
        {"a": 3.005, "c": 3.2537},
        "aluminium diboride, C32",
    ),
    StructureType(
        "thsi2",
        "ThSi2",
        141,
        (("Th", "4a"), ("Si", "8e", (0.0, 0.25, 0.2915))),
        {"a": 4.126, "c": 14.346},
        "alpha thorium disilicide, C_c",
    ),
    StructureType(
        "cac2",
        "CaC2",
        139,
        (("Ca", "2a"), ("C", "4e", (0.0, 0.0, 0.4067))),
        {"a": 3.89, "c": 6.38},
        "calcium carbide I, C11_a",
    ),
    StructureType(
        "cdi2",
        "CdI2",
        164,
        (("Cd", "1a"), ("I", "2d", (1 / 3, 2 / 3, 0.252))),
        {"a": 4.24, "c": 6.84},
        "cadmium iodide, C6",
    ),
    StructureType(
        "cdcl2",
        "CdCl2",
        166,
        (("Cd", "3a"), ("Cl", "6c", (0.0, 0.0, 0.2543))),
        {"a": 3.854, "c": 17.457},
        "cadmium chloride, C19",
    ),
    StructureType(
        "mos2",
        "MoS2",
        194,
        (("Mo", "2c"), ("S", "4f", (1 / 3, 2 / 3, 0.6275))),
        {"a": 3.161, "c": 12.295},
        "molybdenite 2H, C7",
    ),
    StructureType(
        "c15_laves",
        "MgCu2",
        227,
        (("Cu", "16d"), ("Mg", "8a")),
        {"a": 7.02},
        "cubic Laves phase, C15",
    ),
    StructureType(
        "c14_laves",
        "MgZn2",
        194,
        (
            ("Mg", "4f", (1 / 3, 2 / 3, 0.0629)),
            ("Zn", "2a"),
            ("Zn", "6h", (0.8305, 0.661, 0.25)),
        ),
        {"a": 5.223, "c": 8.566},
        "hexagonal Laves phase, C14",
    ),
    StructureType(
        "c36_laves",
        "MgNi2",
        194,
        (
            ("Mg", "4e", (0.0, 0.0, 0.094)),
            ("Mg", "4f", (1 / 3, 2 / 3, 0.8442)),
            ("Ni", "4f", (1 / 3, 2 / 3, 0.1251)),
            ("Ni", "6g"),
            ("Ni", "6h", (0.1643, 0.3286, 0.25)),
        ),
        {"a": 4.824, "c": 15.826},
        "dihexagonal Laves phase, C36",
    ),
    StructureType(
        "al2cu",
        "Al2Cu",
        140,
        (("Al", "8h", (0.658, 0.158, 0.0)), ("Cu", "4a")),
        {"a": 6.04, "c": 4.86},
        "theta phase Al2Cu, C16",
    ),
    StructureType(
        "crsi2",
        "CrSi2",
        180,
        (("Cr", "3c"), ("Si", "6i", (0.1656, 0.3312, 0.0))),
        {"a": 4.4276, "c": 6.3681},
        "chromium disilicide, C40",
    ),
    StructureType(
        "zrsi2",
        "ZrSi2",
        63,
        (
            ("Si", "4c", (0.0, 0.061, 0.25)),
            ("Si", "4c", (0.0, 0.75, 0.25)),
            ("Zr", "4c", (0.0, 0.396, 0.25)),
        ),
        {"a": 3.73, "b": 14.72, "c": 3.67},
        "zirconium disilicide, C49",
    ),
    StructureType(
        "tisi2",
        "TiSi2",
        70,
        (("Si", "16f", (0.125, 0.4615, 0.125)), ("Ti", "8a")),
        {"a": 4.8, "b": 8.2671, "c": 8.5505},
        "C54 titanium disilicide",
    ),
    StructureType(
        "sis2",
        "SiS2",
        72,
        (("S", "8j", (0.7088, 0.3818, 0.0)), ("Si", "4a")),
        {"a": 5.614, "b": 9.583, "c": 5.547},
        "silicon disulfide (edge-sharing chains), C42",
    ),
    StructureType(
        "hgbr2",
        "HgBr2",
        36,
        (
            ("Br", "4a", (0.0, 0.333, 0.5)),
            ("Br", "4a", (0.0, 0.061, 0.634)),
            ("Hg", "4a", (0.0, 0.395, 0.866)),
        ),
        {"a": 4.624, "b": 6.789, "c": 12.445},
        "mercury bromide, C24",
    ),
    StructureType(
        "calaverite",
        "AuTe2",
        12,
        (("Au", "2a"), ("Te", "4i", (0.6879, 0.0, 0.2889))),
        {"a": 7.189, "b": 4.407, "c": 5.069, "beta": 90.04},
        "calaverite (average structure), C34",
    ),
    StructureType(
        "cu2sb",
        "Cu2Sb",
        129,
        (
            ("Cu", "2a"),
            ("Cu", "2c", (0.25, 0.25, 0.27)),
            ("Sb", "2c", (0.25, 0.25, 0.7)),
        ),
        {"a": 4.0006, "c": 6.1043},
        "copper antimonide, C38",
    ),
    StructureType(
        "fe2p",
        "Fe2P",
        189,
        (
            ("Fe", "3f", (0.256, 0.0, 0.0)),
            ("Fe", "3g", (0.589, 0.0, 0.5)),
            ("P", "1b"),
            ("P", "2c"),
        ),
        {"a": 5.877, "c": 3.437},
        "iron phosphide, C22",
    ),
    StructureType(
        "mopt2",
        "MoPt2",
        71,
        (("Mo", "2a"), ("Pt", "4i", (0.0, 0.0, 0.3533))),
        {"a": 2.7598, "b": 3.9303, "c": 8.2795},
        "MoPt2",
    ),
    StructureType(
        "pdsn2",
        "PdSn2",
        41,
        (
            ("Pd", "4a", (0.0, 0.0, 0.99)),
            ("Pd", "4a", (0.0, 0.0, 0.762)),
            ("Sn", "8b", (0.658, 0.658, 0.375)),
            ("Sn", "8b", (0.75, 0.25, 0.125)),
        ),
        {"a": 6.478, "b": 6.478, "c": 12.155},
        "PdSn2, C_e",
    ),
    StructureType(
        "zeta_agzn",
        "Ag2Zn",
        147,
        (
            ("Zn", "1a"),
            ("Zn", "2d", (1 / 3, 2 / 3, 0.25)),
            ("Ag", "6g", (0.6667, 0.6667, 0.75)),
        ),
        {"a": 7.636, "c": 2.8197},
        "zeta silver zinc, B_b",
    ),
    StructureType(
        "v2n",
        "V2N",
        162,
        (("V", "6k", (0.675, 0.0, 0.272)), ("N", "1a"), ("N", "2d")),
        {"a": 4.917, "c": 4.568},
        "beta vanadium nitride",
    ),
    StructureType(
        "p2i4",
        "PI2",
        2,
        (
            ("P", "2i", (0.397, 0.361, 0.537)),
            ("I", "2i", (0.557, 0.27, 0.835)),
            ("I", "2i", (0.82, 0.197, 0.305)),
        ),
        {"a": 4.56, "b": 7.06, "c": 7.4, "alpha": 80.2, "beta": 73.033, "gamma": 81.8},
        "diphosphorus tetraiodide (triclinic)",
    ),
    StructureType(
        "cenic2",
        "CeNiC2",
        38,
        (
            ("C", "4e", (0.5, 0.345, 0.2086)),
            ("Ce", "2a", (0.0, 0.0, 0.0)),
            ("Ni", "2b", (0.5, 0.0, 0.3856)),
        ),
        {"a": 3.875, "b": 4.552, "c": 6.162},
        "cerium nickel dicarbide",
    ),
    StructureType(
        "cu3au",
        "Cu3Au",
        221,
        (("Cu", "3c"), ("Au", "1a")),
        {"a": 3.7402},
        "ordered Cu3Au, L1_2",
    ),
    StructureType(
        "reo3",
        "ReO3",
        221,
        (("Re", "1a"), ("O", "3d")),
        {"a": 3.734},
        "rhenium trioxide, D0_9",
    ),
    StructureType(
        "a15",
        "Cr3Si",
        223,
        (("Cr", "6c"), ("Si", "2a")),
        {"a": 4.556},
        "A15 (beta-W type), Cr3Si",
    ),
    StructureType(
        "bif3",
        "BiF3",
        225,
        (("Bi", "4a"), ("F", "4b"), ("F", "8c")),
        {"a": 5.853},
        "BiF3 (Fe3Al, Li3Bi type), D0_3",
    ),
    StructureType(
        "ni3sn",
        "Ni3Sn",
        194,
        (("Ni", "6h", (0.8392, 0.6784, 0.25)), ("Sn", "2c")),
        {"a": 5.295, "c": 4.247},
        "hexagonal DO19 Ni3Sn",
    ),
    StructureType(
        "tial3",
        "TiAl3",
        139,
        (("Al", "2b"), ("Al", "4d"), ("Ti", "2a")),
        {"a": 3.8537, "c": 8.5839},
        "D0_22",
    ),
    StructureType(
        "zral3",
        "ZrAl3",
        139,
        (
            ("Al", "4c"),
            ("Al", "4d"),
            ("Al", "4e", (0.0, 0.0, 0.375)),
            ("Zr", "4e", (0.0, 0.0, 0.1189)),
        ),
        {"a": 3.9993, "c": 17.283},
        "D0_23",
    ),
    StructureType(
        "cementite",
        "Fe3C",
        62,
        (
            ("Fe", "4c", (0.036, 0.25, 0.852)),
            ("Fe", "8d", (0.186, 0.063, 0.328)),
            ("C", "4c", (0.39, 0.25, 0.05)),
        ),
        {"a": 5.09, "b": 6.748, "c": 4.523},
        "cementite, D0_11",
    ),
    StructureType(
        "na3as",
        "Na3As",
        194,
        (("Na", "2b"), ("Na", "4f", (1 / 3, 2 / 3, 0.917)), ("As", "2c")),
        {"a": 5.088, "c": 8.982},
        "sodium arsenide, D0_18",
    ),
    StructureType(
        "li3n",
        "Li3N",
        191,
        (("Li", "1b"), ("Li", "2c"), ("N", "1a")),
        {"a": 3.6576, "c": 3.8735},
        "lithium nitride",
    ),
    StructureType(
        "alcl3",
        "AlCl3",
        12,
        (
            ("Al", "4g", (0.0, 0.1662, 0.0)),
            ("Cl", "4i", (0.2147, 0.0, 0.2263)),
            ("Cl", "8j", (0.7518, 0.8213, 0.2248)),
        ),
        {"a": 5.914, "b": 10.234, "c": 6.148, "beta": 108.25},
        "aluminium trichloride (layered), D0_15",
    ),
    StructureType(
        "bii3",
        "BiI3",
        148,
        (("Bi", "6c", (0.0, 0.0, 0.3333)), ("I", "18f", (0.0, 0.667, 0.088))),
        {"a": 7.4963, "c": 20.682},
        "bismuth triiodide, D0_5",
    ),
    StructureType(
        "bas3",
        "BaS3",
        113,
        (
            ("Ba", "2a"),
            ("S", "2c", (0.0, 0.5, 0.794)),
            ("S", "4e", (0.1797, 0.6797, 0.524)),
        ),
        {"a": 6.871, "c": 4.1681},
        "barium trisulfide",
    ),
    StructureType(
        "skutterudite",
        "CoAs3",
        204,
        (("Co", "8c"), ("As", "24g", (0.0, 0.3431, 0.1505))),
        {"a": 8.204},
        "skutterudite, D0_2",
    ),
    StructureType(
        "corundum",
        "Al2O3",
        167,
        (("Al", "12c", (0.0, 0.0, 0.1478)), ("O", "18e", (0.3061, 0.0, 0.25))),
        {"a": 4.7607, "c": 12.995},
        "corundum, D5_1",
    ),
    StructureType(
        "bixbyite",
        "Y2O3",
        206,
        (
            ("Y", "8b"),
            ("Y", "24d", (0.9673, 0.0, 0.25)),
            ("O", "48e", (0.3911, 0.1519, 0.3806)),
        ),
        {"a": 10.604},
        "bixbyite (C-type rare-earth sesquioxide), D5_3",
    ),
    StructureType(
        "beta_ga2o3",
        "Ga2O3",
        12,
        (
            ("Ga", "4i", (0.0905, 0.0, 0.7946)),
            ("Ga", "4i", (0.3414, 0.0, 0.6856)),
            ("O", "4i", (0.1674, 0.0, 0.1011)),
            ("O", "4i", (0.4957, 0.0, 0.2553)),
            ("O", "4i", (0.8279, 0.0, 0.4365)),
        ),
        {"a": 12.214, "b": 3.0371, "c": 5.7981, "beta": 103.83},
        "monoclinic beta gallia",
    ),
    StructureType(
        "valentinite",
        "Sb2O3",
        56,
        (
            ("Sb", "8e", (0.544, 0.628, 0.179)),
            ("O", "4c", (0.25, 0.25, 0.471)),
            ("O", "8e", (0.647, 0.558, 0.861)),
        ),
        {"a": 4.911, "b": 12.464, "c": 5.412},
        "valentinite, D5_11",
    ),
    StructureType(
        "stibnite",
        "Sb2S3",
        62,
        (
            ("Sb", "4c", (0.9706, 0.25, 0.174)),
            ("Sb", "4c", (0.6494, 0.25, 0.964)),
            ("S", "4c", (0.2922, 0.25, 0.1918)),
            ("S", "4c", (0.4504, 0.25, 0.877)),
            ("S", "4c", (0.6246, 0.25, 0.5611)),
        ),
        {"a": 11.282, "b": 3.8296, "c": 11.225},
        "stibnite, D5_8",
    ),
    StructureType(
        "bi2te3",
        "Bi2Te3",
        166,
        (
            ("Bi", "6c", (0.0, 0.0, 0.399)),
            ("Te", "3a"),
            ("Te", "6c", (0.0, 0.0, 0.208)),
        ),
        {"a": 4.3691, "c": 30.423},
        "tetradymite-type Bi2Te3, C33",
    ),
    StructureType(
        "u3si2",
        "U3Si2",
        127,
        (
            ("U", "2a"),
            ("U", "4h", (0.1821, 0.6821, 0.5)),
            ("Si", "4g", (0.3841, 0.8841, 0.0)),
        ),
        {"a": 7.3364, "c": 3.89},
        "U3Si2, D5_a",
    ),
    StructureType(
        "heazlewoodite",
        "Ni3S2",
        155,
        (("Ni", "9e", (0.7449, 0.0, 0.5)), ("S", "6c", (0.0, 0.0, 0.2521))),
        {"a": 5.733, "c": 7.1144},
        "heazlewoodite, D5_e",
    ),
    StructureType(
        "pu2c3",
        "Pu2C3",
        220,
        (("C", "24d", (0.9604, 0.0, 0.25)), ("Pu", "16c", (0.7008, 0.7008, 0.7008))),
        {"a": 8.135},
        "plutonium sesquicarbide, D5_c",
    ),
    StructureType(
        "hausmannite",
        "Mn3O4",
        141,
        (("Mn", "4a"), ("Mn", "8d"), ("O", "16h", (0.0, 0.9722, 0.7411))),
        {"a": 5.765, "c": 9.442},
        "hausmannite (tetragonally distorted spinel)",
    ),
    StructureType(
        "al3ni2",
        "Al3Ni2",
        164,
        (
            ("Al", "1a"),
            ("Al", "2d", (1 / 3, 2 / 3, 0.648)),
            ("Ni", "2d", (1 / 3, 2 / 3, 0.149)),
        ),
        {"a": 4.0282, "c": 4.8906},
        "D5_13",
    ),
    StructureType(
        "gamma_brass",
        "Cu5Zn8",
        217,
        (
            ("Cu", "8c", (0.1723, 0.1723, 0.1723)),
            ("Cu", "12e", (0.3558, 0.0, 0.0)),
            ("Zn", "8c", (0.3922, 0.3922, 0.3922)),
            ("Zn", "24g", (0.3116, 0.3116, 0.9633)),
        ),
        {"a": 8.8664},
        "gamma brass, D8_2",
    ),
    StructureType(
        "mu_phase",
        "Fe7W6",
        166,
        (
            ("Fe", "3a"),
            ("Fe", "18h", (0.8333, 0.1667, 0.2567)),
            ("W", "6c", (0.0, 0.0, 0.167)),
            ("W", "6c", (0.0, 0.0, 0.346)),
            ("W", "6c", (0.0, 0.0, 0.448)),
        ),
        {"a": 4.757, "c": 25.84},
        "Frank-Kasper mu phase, D8_5",
    ),
    StructureType(
        "ni4mo",
        "Ni4Mo",
        87,
        (("Mo", "2a"), ("Ni", "8h", (0.4, 0.8, 0.0))),
        {"a": 5.72, "c": 3.564},
        "D1_a",
    ),
    StructureType(
        "thmn12",
        "ThMn12",
        139,
        (
            ("Mn", "8f"),
            ("Mn", "8i", (0.361, 0.0, 0.0)),
            ("Mn", "8j", (0.278, 0.5, 0.0)),
            ("Th", "2a"),
        ),
        {"a": 8.47, "c": 4.95},
        "D2_b",
    ),
    StructureType(
        "cab6",
        "CaB6",
        221,
        (("Ca", "1a"), ("B", "6f", (0.2117, 0.5, 0.5))),
        {"a": 4.145},
        "calcium hexaboride, D2_1",
    ),
    StructureType(
        "ub12",
        "UB12",
        225,
        (("B", "48i", (0.5, 0.166, 0.166)), ("U", "4a")),
        {"a": 7.468},
        "uranium dodecaboride, D2_f",
    ),
    StructureType(
        "cacu5",
        "CaCu5",
        191,
        (("Ca", "1a"), ("Cu", "2c"), ("Cu", "3g")),
        {"a": 5.405, "c": 4.183},
        "D2_d",
    ),
    StructureType(
        "ga4ni",
        "Ga4Ni",
        197,
        (
            ("Ga", "8c", (0.3332, 0.3332, 0.3332)),
            ("Ga", "12d", (0.3524, 0.0, 0.0)),
            ("Ga", "12e", (0.2484, 0.5, 0.0)),
            ("Ni", "8c", (0.1655, 0.1655, 0.1655)),
        ),
        {"a": 8.4295},
        "Ga4Ni",
    ),
    StructureType(
        "cr23c6",
        "Cr23C6",
        225,
        (
            ("C", "24e", (0.2765, 0.0, 0.0)),
            ("Cr", "4a"),
            ("Cr", "8c"),
            ("Cr", "32f", (0.3809, 0.3809, 0.3809)),
            ("Cr", "48h", (0.0, 0.6699, 0.6699)),
        ),
        {"a": 10.65},
        "D8_4",
    ),
    StructureType(
        "aube5",
        "AuBe5",
        216,
        (("Au", "4a"), ("Be", "4c"), ("Be", "16e", (0.625, 0.625, 0.625))),
        {"a": 6.1},
        "C15_b",
    ),
    StructureType(
        "perovskite",
        "SrTiO3",
        221,
        (("Sr", "1a"), ("Ti", "1b"), ("O", "3c")),
        {"a": 3.905},
        "cubic perovskite, E2_1",
    ),
    StructureType(
        "gdfeo3",
        "CaTiO3",
        62,
        (
            ("Ca", "4c", (0.4877, 0.25, 0.9916)),
            ("Ti", "4a"),
            ("O", "4c", (0.0313, 0.25, 0.0586)),
            ("O", "8d", (0.288, 0.537, 0.213)),
        ),
        {"a": 5.4224, "b": 7.651, "c": 5.4043},
        "orthorhombic GdFeO3-type perovskite",
    ),
    StructureType(
        "batio3",
        "BaTiO3",
        99,
        (
            ("Ba", "1a", (0.0, 0.0, 0.0)),
            ("Ti", "1b", (0.5, 0.5, 0.5135)),
            ("O", "1b", (0.5, 0.5, 0.975)),
            ("O", "2c", (0.5, 0.0, 0.485)),
        ),
        {"a": 3.994, "c": 4.038},
        "tetragonal ferroelectric perovskite",
    ),
    StructureType(
        "ilmenite",
        "FeTiO3",
        148,
        (
            ("Fe", "6c", (0.0, 0.0, 0.3554)),
            ("O", "18f", (0.9767, 0.2941, 0.2451)),
            ("Ti", "6c", (0.0, 0.0, 0.1464)),
        ),
        {"a": 5.0884, "c": 14.086},
        "ilmenite",
    ),
    StructureType(
        "linbo3",
        "LiNbO3",
        161,
        (
            ("Li", "6a", (0.0, 0.0, 0.2875)),
            ("Nb", "6a", (0.0, 0.0, 0.0128)),
            ("O", "18b", (0.6631, 0.7207, 0.0833)),
        ),
        {"a": 5.2542, "c": 13.876},
        "ferroelectric lithium niobate",
    ),
    StructureType(
        "spinel",
        "MgAl2O4",
        227,
        (("Al", "16d"), ("Mg", "8a"), ("O", "32e", (0.2624, 0.2624, 0.2624))),
        {"a": 8.0832},
        "normal spinel, H1_1",
    ),
    StructureType(
        "inverse_spinel",
        "MgFe2O4",
        227,
        (
            ("Fe", "8a"),
            {"species": "Mg", "wyckoff": "16d", "occupancy": 0.5},
            {"species": "Fe", "wyckoff": "16d", "occupancy": 0.5},
            ("O", "32e", (0.2575, 0.2575, 0.2575)),
        ),
        {"a": 8.384},
        "inverse spinel: Fe on 8a, Mg/Fe 50:50 on 16d",
    ),
    StructureType(
        "garnet",
        "Y3Al5O12",
        230,
        (
            ("Y", "24c"),
            ("Al", "16a"),
            ("Al", "24d"),
            ("O", "96h", (0.9694, 0.0512, 0.15)),
        ),
        {"a": 12.01},
        "garnet (YAG), S1_4",
    ),
    StructureType(
        "olivine",
        "Mg2SiO4",
        62,
        (
            ("Mg", "4a"),
            ("Mg", "4c", (0.2774, 0.25, 0.9915)),
            ("Si", "4c", (0.094, 0.25, 0.4262)),
            ("O", "4c", (0.0913, 0.25, 0.7657)),
            ("O", "4c", (0.4474, 0.25, 0.2215)),
            ("O", "8d", (0.1628, 0.0331, 0.2777)),
        ),
        {"a": 10.193, "b": 5.977, "c": 4.752},
        "olivine (forsterite), S1_2",
    ),
    StructureType(
        "pyrochlore",
        "Gd2Ti2O7",
        227,
        (
            ("Gd", "16d"),
            ("Ti", "16c"),
            ("O", "48f", (0.3265, 0.125, 0.125)),
            ("O", "8b"),
        ),
        {"a": 10.185},
        "pyrochlore",
    ),
    StructureType(
        "scheelite",
        "CaWO4",
        88,
        (("Ca", "4b"), ("W", "4a"), ("O", "16f", (0.1504, 0.0086, 0.2106))),
        {"a": 5.243, "c": 11.376},
        "scheelite, H0_4",
    ),
    StructureType(
        "zircon",
        "ZrSiO4",
        141,
        (("O", "16h", (0.0, 0.934, 0.8049)), ("Si", "4b"), ("Zr", "4a")),
        {"a": 6.6042, "c": 5.9796},
        "zircon",
    ),
    StructureType(
        "calcite",
        "CaCO3",
        167,
        (("C", "6a"), ("Ca", "6b"), ("O", "18e", (0.7433, 0.0, 0.25))),
        {"a": 4.988, "c": 17.061},
        "calcite, G0_1",
    ),
    StructureType(
        "k2nif4",
        "K2NiF4",
        139,
        (
            ("K", "4e", (0.0, 0.0, 0.3523)),
            ("Ni", "2a"),
            ("F", "4c"),
            ("F", "4e", (0.0, 0.0, 0.1514)),
        ),
        {"a": 4.006, "c": 13.076},
        "K2NiF4, Ruddlesden-Popper n = 1",
    ),
    StructureType(
        "ruddlesden_popper_n2",
        "Sr3Ti2O7",
        139,
        (
            ("Sr", "2b"),
            ("Sr", "4e", (0.0, 0.0, 0.3177)),
            ("Ti", "4e", (0.0, 0.0, 0.0975)),
            ("O", "2a"),
            ("O", "4e", (0.0, 0.0, 0.1939)),
            ("O", "8g", (0.0, 0.5, 0.0955)),
        ),
        {"a": 3.9026, "c": 20.37},
        "Ruddlesden-Popper n = 2",
    ),
    StructureType(
        "licoo2",
        "LiCoO2",
        166,
        (("Li", "3a"), ("Co", "3b"), ("O", "6c", (0.0, 0.0, 0.2396))),
        {"a": 2.816, "c": 14.05},
        "layered alpha-NaFeO2 type",
    ),
    StructureType(
        "delafossite",
        "CuFeO2",
        166,
        (("Cu", "3a"), ("Fe", "3b"), ("O", "6c", (0.0, 0.0, 0.1066))),
        {"a": 3.035, "c": 17.17},
        "delafossite",
    ),
    StructureType(
        "chalcopyrite",
        "CuFeS2",
        122,
        (("Cu", "4a"), ("Fe", "4b"), ("S", "8d", (0.7426, 0.25, 0.125))),
        {"a": 5.289, "c": 10.423},
        "chalcopyrite, E1_1",
    ),
    StructureType(
        "stannite",
        "Cu2FeSnS4",
        121,
        (("Cu", "4d"), ("Fe", "2a"), ("S", "8i", (0.745, 0.745, 0.368)), ("Sn", "2b")),
        {"a": 5.46, "c": 10.725},
        "stannite, H2_6",
    ),
    StructureType(
        "heusler",
        "Cu2MnAl",
        225,
        (("Al", "4a"), ("Cu", "8c"), ("Mn", "4b")),
        {"a": 5.95},
        "full Heusler, L2_1",
    ),
    StructureType(
        "half_heusler",
        "MgAgAs",
        216,
        (("Ag", "4b"), ("As", "4c"), ("Mg", "4a")),
        {"a": 6.24},
        "half-Heusler, C1_b",
    ),
    StructureType(
        "thcr2si2",
        "ThCr2Si2",
        139,
        (("Th", "2a"), ("Cr", "4d"), ("Si", "4e", (0.0, 0.0, 0.3775))),
        {"a": 4.043, "c": 10.577},
        "ThCr2Si2 (ordered BaAl4, 122 iron-pnictide type)",
    ),
    StructureType(
        "tinisi",
        "TiNiSi",
        62,
        (
            ("Ti", "4c", (0.0215, 0.25, 0.1808)),
            ("Ni", "4c", (0.1432, 0.25, 0.5612)),
            ("Si", "4c", (0.7649, 0.25, 0.6236)),
        ),
        {"a": 6.154, "b": 3.67, "c": 7.018},
        "TiNiSi (ordered Co2Si type)",
    ),
    StructureType(
        "zrcusias",
        "ZrCuSiAs",
        129,
        (
            ("Zr", "2c", (0.25, 0.25, 0.2246)),
            ("Cu", "2b"),
            ("Si", "2a"),
            ("As", "2c", (0.25, 0.25, 0.6793)),
        ),
        {"a": 3.6736, "c": 9.5712},
        "ZrCuSiAs (1111 iron-pnictide parent)",
    ),
    StructureType(
        "matlockite",
        "PbFCl",
        129,
        (
            ("Pb", "2c", (0.25, 0.25, 0.2058)),
            ("Cl", "2c", (0.25, 0.25, 0.6497)),
            ("F", "2a"),
        ),
        {"a": 4.11, "c": 7.246},
        "matlockite, E0_1",
    ),
    StructureType(
        "enargite",
        "Cu3AsS4",
        31,
        (
            ("Cu", "2a", (0.0, 0.8486, 0.5017)),
            ("Cu", "4b", (0.2466, 0.6745, 0.0134)),
            ("As", "2a", (0.0, 0.1732, 0.0)),
            ("S", "2a", (0.0, 0.1774, 0.3546)),
            ("S", "2a", (0.0, 0.8564, 0.8834)),
            ("S", "4b", (0.2598, 0.6636, 0.3816)),
        ),
        {"a": 7.43, "b": 6.46, "c": 6.18},
        "enargite, H2_5",
    ),
    StructureType(
        "sulvanite",
        "Cu3VS4",
        215,
        (("V", "1a"), ("Cu", "3d"), ("S", "4e", (0.2372, 0.2372, 0.2372))),
        {"a": 5.3912},
        "sulvanite, H2_4",
    ),
    StructureType(
        "cdal2s4",
        "CdAl2S4",
        82,
        (("Al", "2b"), ("Al", "2d"), ("Cd", "2a"), ("S", "8g", (0.75, 0.26, 0.13))),
        {"a": 5.55, "c": 10.3},
        "defect chalcopyrite, E3",
    ),
    StructureType(
        "ullmannite",
        "NiSbS",
        198,
        (
            ("Ni", "4a", (0.024, 0.024, 0.024)),
            ("Sb", "4a", (0.3793, 0.3793, 0.3793)),
            ("S", "4a", (0.6172, 0.6172, 0.6172)),
        ),
        {"a": 5.881},
        "ullmannite, F0_1",
    ),
    StructureType(
        "kscn",
        "KSCN",
        57,
        (
            ("K", "4c", (0.208, 0.25, 0.0)),
            ("C", "4d", (0.7704, 0.2129, 0.25)),
            ("S", "4d", (0.605, 0.3913, 0.25)),
            ("N", "4d", (0.889, 0.0846, 0.25)),
        ),
        {"a": 6.707, "b": 6.691, "c": 7.621},
        "potassium thiocyanate, F5_9",
    ),
    StructureType(
        "kclo3",
        "KClO3",
        11,
        (
            ("K", "2e", (0.6445, 0.25, 0.2914)),
            ("Cl", "2e", (0.9465, 0.25, 0.8255)),
            ("O", "2e", (0.2844, 0.25, 0.8835)),
            ("O", "4f", (0.8399, 0.4639, 0.6943)),
        ),
        {"a": 4.63, "b": 5.568, "c": 6.9681, "beta": 108.37},
        "potassium chlorate, G0_6",
    ),
    StructureType(
        "sylvanite",
        "AgAuTe4",
        13,
        (
            ("Ag", "2f", (0.5, 0.5182, 0.25)),
            ("Te", "4g", (0.702, 0.0278, 0.7017)),
            ("Te", "4g", (0.1911, 0.4045, 0.9545)),
            ("Au", "2a"),
        ),
        {"a": 8.8643, "b": 4.478, "c": 10.178, "beta": 124.45},
        "sylvanite, E1_b",
    ),
    StructureType(
        "clinopyroxene",
        "CaFeSi2O6",
        15,
        (
            ("Ca", "4e", (0.0, 0.3082, 0.25)),
            ("Fe", "4e", (0.0, 0.9058, 0.25)),
            ("O", "8f", (0.3888, 0.4123, 0.8659)),
            ("O", "8f", (0.1365, 0.2411, 0.6799)),
            ("O", "8f", (0.1468, 0.4802, 0.0124)),
            ("Si", "8f", (0.2117, 0.4057, 0.7764)),
        ),
        {"a": 9.79, "b": 8.822, "c": 5.37, "beta": 105.81},
        "C2/c clinopyroxene (esseneite/diopside type)",
    ),
    StructureType(
        "apatite",
        "Ca5P3O12F",
        176,
        (
            ("Ca", "4f", (1 / 3, 2 / 3, 0.001)),
            ("Ca", "6h", (0.2416, 0.9929, 0.25)),
            ("P", "6h", (0.3981, 0.3688, 0.25)),
            ("O", "6h", (0.3262, 0.4843, 0.25)),
            ("O", "6h", (0.588, 0.4668, 0.25)),
            ("O", "12i", (0.3416, 0.2568, 0.0704)),
            ("F", "2a"),
        ),
        {"a": 9.367, "c": 6.884},
        "fluorapatite Ca5(PO4)3F",
    ),
    StructureType(
        "max_211",
        "Cr2AlC",
        194,
        (("Al", "2d"), ("Cr", "4f", (1 / 3, 2 / 3, 0.086)), ("C", "2a")),
        {"a": 2.86, "c": 12.82},
        "M2AX MAX phase",
    ),
    StructureType(
        "infinite_layer",
        "CaCuO2",
        123,
        (("Ca", "1d"), ("Cu", "1a"), ("O", "2f")),
        {"a": 3.8611, "c": 3.1995},
        "infinite-layer cuprate",
    ),
    StructureType(
        "hocoga5",
        "HoCoGa5",
        123,
        (("Ho", "1a"), ("Ga", "1c"), ("Ga", "4i", (0.0, 0.5, 0.312)), ("Co", "1b")),
        {"a": 4.207, "c": 6.795},
        "HoCoGa5 (115 heavy fermion type)",
    ),
    StructureType(
        "ybco",
        "YBa2Cu3O7",
        47,
        (
            ("Ba", "2t", (0.5, 0.5, 0.1845)),
            ("Y", "1h"),
            ("Cu", "1a"),
            ("Cu", "2q", (0.0, 0.0, 0.3554)),
            ("O", "1e"),
            ("O", "2q", (0.0, 0.0, 0.1579)),
            ("O", "2r", (0.0, 0.5, 0.3771)),
            ("O", "2s", (0.5, 0.0, 0.3788)),
        ),
        {"a": 3.8187, "b": 3.8833, "c": 11.669},
        "orthorhombic YBa2Cu3O7 (123 cuprate)",
    ),
    StructureType(
        "eta_carbide",
        "Fe3W3C",
        227,
        (
            ("C", "16c"),
            ("Fe", "16d"),
            ("Fe", "32e", (0.2953, 0.2953, 0.2953)),
            ("W", "48f", (0.323, 0.125, 0.125)),
        ),
        {"a": 11.087},
        "eta carbide, E9_3",
    ),
    StructureType(
        "alps4",
        "AlPS4",
        16,
        (
            ("Al", "1a"),
            ("Al", "1g"),
            ("P", "1c"),
            ("P", "1d"),
            ("S", "4u", (0.2, 0.26, 0.125)),
            ("S", "4u", (0.74, 0.8, 0.63)),
        ),
        {"a": 5.61, "b": 5.67, "c": 9.05},
        "aluminium thiophosphate",
    ),
    StructureType(
        "prps4",
        "PrPS4",
        142,
        (
            ("P", "16e", (0.4625, 0.0, 0.25)),
            ("Pr", "8a"),
            ("Pr", "8b"),
            ("S", "32g", (0.2482, 0.3197, 0.4133)),
            ("S", "32g", (0.5923, 0.6117, 0.0025)),
        ),
        {"a": 10.914, "c": 19.361},
        "praseodymium thiophosphate",
    ),
    StructureType(
        "kasse2",
        "KAsSe2",
        1,
        (
            ("K", "1a", (0.0338, 0.0476, 0.2599)),
            ("K", "1a", (0.0831, 0.6072, 0.4974)),
            ("K", "1a", (0.9869, 0.0949, 0.7583)),
            ("K", "1a", (0.5449, 0.1443, 0.9978)),
            ("As", "1a", (0.3267, 0.582, 0.177)),
            ("As", "1a", (0.565, 0.9868, 0.4424)),
            ("As", "1a", (0.5217, 0.3883, 0.6767)),
            ("As", "1a", (0.9256, 0.6254, 0.9426)),
            ("Se", "1a", (0.9789, 0.5213, 0.2073)),
            ("Se", "1a", (0.2907, 0.5956, 0.9817)),
            ("Se", "1a", (0.9384, 0.0602, 0.4998)),
            ("Se", "1a", (0.5068, 0.9825, 0.2448)),
            ("Se", "1a", (0.4596, 0.0397, 0.708)),
            ("Se", "1a", (0.5326, 0.352, 0.4818)),
            ("Se", "1a", (0.0, 0.0, 0.0)),
            ("Se", "1a", (0.922, 0.569, 0.7448)),
        ),
        {
            "a": 6.554,
            "b": 6.558,
            "c": 12.627,
            "alpha": 100.43,
            "beta": 100.46,
            "gamma": 107.53,
        },
        "potassium arsenic selenide (triclinic P1)",
    ),
)

#: All structure types by name, in a fixed order (elements first).
STRUCTURE_TYPES: dict[str, StructureType] = {t.name: t for t in _TYPES}


def structure_type_names() -> list[str]:
    """Names of all structure types in :data:`STRUCTURE_TYPES`, in order.

    Examples
    --------
    >>> names = structure_type_names()
    >>> names[:4]
    ['fcc', 'bcc', 'hcp', 'dhcp']
    >>> "perovskite" in names and len(names) >= 110
    True
    """
    return list(STRUCTURE_TYPES)


def load_structure_type(name: str) -> StructureType:
    """Look up a structure type by name.

    Parameters
    ----------
    name : str
        A key of :data:`STRUCTURE_TYPES`; case, surrounding blanks and ``-`` or
        spaces in place of ``_`` are tolerated (``"Half-Heusler"``).

    Returns
    -------
    StructureType

    Raises
    ------
    ValueError
        For an unknown name, listing the closest known names.

    Examples
    --------
    >>> from skxrd.datasets._prototypes import load_structure_type
    >>> spinel = load_structure_type("spinel")
    >>> spinel.prototype, spinel.crystal().n_atoms
    ('MgAl2O4', 56)
    >>> load_structure_type("Half-Heusler").name
    'half_heusler'
    >>> load_structure_type("perovskit")
    Traceback (most recent call last):
    ...
    ValueError: unknown structure type 'perovskit'; did you mean 'perovskite'? ...
    """
    if not isinstance(name, str):
        raise TypeError(f"structure type name must be a str, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key in STRUCTURE_TYPES:
        return STRUCTURE_TYPES[key]
    close = difflib.get_close_matches(key, STRUCTURE_TYPES, n=5, cutoff=0.6)
    hint = "did you mean " + " or ".join(repr(c) for c in close) + "? " if close else ""
    raise ValueError(
        f"unknown structure type {name!r}; {hint}"
        f"structure_type_names() lists all {len(STRUCTURE_TYPES)}"
    )
