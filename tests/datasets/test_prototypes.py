"""Every built-in structure type must build into a physically sensible crystal."""

from __future__ import annotations

import dataclasses
import itertools
import re
from functools import cache
from math import gcd

import numpy as np
import periodictable
import pytest

from skxrd.crystal import CRYSTAL_SYSTEMS, Crystal, to_crystal_system
from skxrd.datasets._prototypes import (
    _TYPES,
    STRUCTURE_TYPES,
    StructureType,
    load_structure_type,
    structure_type_names,
)

NAMES = structure_type_names()
_SHIFTS = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=float)


@cache
def _crystal(name: str) -> Crystal:
    return STRUCTURE_TYPES[name].crystal()


@cache
def _covalent_radius(element: str) -> float:
    radius = getattr(periodictable.elements.symbol(element), "covalent_radius", None)
    return float(radius) if radius else 1.5


def _parse_formula(formula: str) -> dict[str, int]:
    tokens = re.findall(r"([A-Z][a-z]?)(\d*)", formula)
    assert "".join(el + n for el, n in tokens) == formula, formula
    counts: dict[str, int] = {}
    for el, n in tokens:
        counts[el] = counts.get(el, 0) + (int(n) if n else 1)
    return counts


def _reduced(counts: dict[str, float]) -> dict[str, int]:
    ints = {el: int(round(n)) for el, n in counts.items()}
    assert all(abs(n - ints[el]) < 1e-6 for el, n in counts.items()), counts
    g = 0
    for n in ints.values():
        g = gcd(g, n)
    return {el: n // g for el, n in ints.items()}


def _pair_distances(crystal: Crystal) -> np.ndarray:
    """Shortest distance between atoms i and j (j's images in {-1,0,1}^3 around
    the minimum image); the diagonal holds each atom's distance to its own
    nearest periodic image."""
    f = crystal.frac_coords
    d = f[None, :, :] - f[:, None, :]
    d -= np.round(d)
    cart = (d[:, :, None, :] + _SHIFTS[None, None]) @ crystal.lattice
    r = np.linalg.norm(cart, axis=-1)
    r[r < 1e-9] = np.inf  # an atom and itself, no shift
    return r.min(axis=-1)


# ------------------------------------------------------------------ every entry
@pytest.mark.parametrize("name", NAMES)
def test_space_group_is_the_intended_one(name):
    st = STRUCTURE_TYPES[name]
    crystal = _crystal(name)
    assert crystal.space_group == st.space_group_number
    assert crystal.get_space_group(symprec=1e-3) == st.space_group_number


@pytest.mark.parametrize("name", NAMES)
def test_no_atoms_unphysically_close(name):
    crystal = _crystal(name)
    r = _pair_distances(crystal)
    elements = crystal.elements
    occ = crystal.occupancies
    # Two partially occupied atoms on one position whose occupancies add up to at
    # most 1 are a mixed site, not a clash.
    mixed = (r < 0.01) & (occ[:, None] < 1) & (occ[None, :] + occ[:, None] <= 1 + 1e-6)
    radii = np.array([_covalent_radius(el) for el in elements])
    limit = 0.75 * (radii[:, None] + radii[None, :])
    has_h = np.array([el in ("H", "D", "T") for el in elements])
    limit = np.where(has_h[:, None] | has_h[None, :], limit, np.maximum(limit, 1.0))
    bad = (r < limit) & ~mixed
    if bad.any():
        i, j = np.argwhere(bad)[0]
        pytest.fail(
            f"{name}: {elements[i]}{i} and {elements[j]}{j} are {r[i, j]:.3f} A "
            f"apart, below {limit[i, j]:.3f} A"
        )


@pytest.mark.parametrize("name", NAMES)
def test_formula_and_density(name):
    st = STRUCTURE_TYPES[name]
    crystal = _crystal(name)
    assert _reduced(crystal.composition) == _reduced(_parse_formula(st.prototype))
    assert 1.0 < crystal.density < 25.0, crystal.density


@pytest.mark.parametrize("name", NAMES)
def test_entry_is_well_formed(name):
    st = STRUCTURE_TYPES[name]
    assert st.name == name
    assert re.fullmatch(r"[a-z0-9_]+", name)
    assert isinstance(st.sites, tuple) and st.sites
    assert set(st.lattice) <= {"a", "b", "c", "alpha", "beta", "gamma"}
    assert st.description
    assert st.crystal_system in CRYSTAL_SYSTEMS


# ------------------------------------------------------------------ the library
def test_library_size_and_names_unique():
    assert len(_TYPES) >= 110
    names = [t.name for t in _TYPES]
    assert len(set(names)) == len(names)
    assert names == NAMES == list(STRUCTURE_TYPES)


def test_all_crystal_systems_present():
    systems = to_crystal_system([t.space_group_number for t in _TYPES])
    counts = {s: int(np.sum(systems == s)) for s in CRYSTAL_SYSTEMS}
    assert all(counts.values()), counts


def test_many_space_groups():
    assert len({t.space_group_number for t in _TYPES}) >= 60


# Distinct structure types that share a space group, Wyckoff letters and
# stoichiometry; they differ in the free coordinates or axial ratios and hence in
# coordination (A11/A14/A17, B16-B29/B27/B31, C4-derived C18/C35, C5/C_c,
# C11_b/C11_a, delafossite/alpha-NaFeO2), or in which element takes which site.
_SAME_SITES_DIFFERENT_TYPE = [
    {"alpha_ga", "iodine", "black_p"},
    {"sns", "feb", "mnp"},
    {"fluorite", "antifluorite"},
    {"anatase", "thsi2"},
    {"marcasite", "cacl2"},
    {"mosi2", "cac2"},
    {"licoo2", "delafossite"},
]


def test_each_structure_type_appears_once():
    groups: dict[tuple, set[str]] = {}
    for t in _TYPES:
        letters = sorted(s["wyckoff"] if isinstance(s, dict) else s[1] for s in t.sites)
        stoichiometry = sorted(_reduced(_parse_formula(t.prototype)).values())
        key = (t.space_group_number, tuple(letters), tuple(stoichiometry))
        groups.setdefault(key, set()).add(t.name)
    shared = [names for names in groups.values() if len(names) > 1]
    assert sorted(map(sorted, shared)) == sorted(
        map(sorted, _SAME_SITES_DIFFERENT_TYPE)
    )


@pytest.mark.parametrize(
    "name, prototype, number",
    [
        ("rocksalt", "NaCl", 225),
        ("cscl", "CsCl", 221),
        ("sphalerite", "ZnS", 216),
        ("wurtzite", "ZnO", 186),
        ("fluorite", "CaF2", 225),
        ("antifluorite", "Li2O", 225),
        ("rutile", "TiO2", 136),
        ("anatase", "TiO2", 141),
        ("brookite", "TiO2", 61),
        ("perovskite", "SrTiO3", 221),
        ("gdfeo3", "CaTiO3", 62),
        ("batio3", "BaTiO3", 99),
        ("spinel", "MgAl2O4", 227),
        ("inverse_spinel", "MgFe2O4", 227),
        ("garnet", "Y3Al5O12", 230),
        ("corundum", "Al2O3", 167),
        ("nias", "NiAs", 194),
        ("pyrite", "FeS2", 205),
        ("calcite", "CaCO3", 167),
        ("scheelite", "CaWO4", 88),
        ("zircon", "ZrSiO4", 141),
        ("olivine", "Mg2SiO4", 62),
        ("heusler", "Cu2MnAl", 225),
        ("half_heusler", "MgAgAs", 216),
        ("c15_laves", "MgCu2", 227),
        ("c14_laves", "MgZn2", 194),
        ("a15", "Cr3Si", 223),
        ("bcc", "W", 229),
        ("fcc", "Cu", 225),
        ("hcp", "Mg", 194),
        ("diamond", "C", 227),
        ("graphite", "C", 194),
        ("alpha_po", "Po", 221),
        ("beta_sn", "Sn", 141),
        ("dhcp", "La", 194),
        ("sm_type", "Sm", 166),
        ("cu3au", "Cu3Au", 221),
        ("cuau", "CuAu", 123),
        ("alb2", "AlB2", 191),
        ("thsi2", "ThSi2", 141),
        ("mosi2", "MoSi2", 139),
        ("cac2", "CaC2", 139),
        ("chalcopyrite", "CuFeS2", 122),
        ("reo3", "ReO3", 221),
        ("mos2", "MoS2", 194),
        ("cdi2", "CdI2", 164),
        ("cdcl2", "CdCl2", 166),
        ("crb", "CrB", 63),
        ("feb", "FeB", 62),
        ("tinisi", "TiNiSi", 62),
        ("mnp", "MnP", 62),
        ("cuprite", "Cu2O", 224),
        ("litharge", "PbO", 129),
        ("k2nif4", "K2NiF4", 139),
        ("thcr2si2", "ThCr2Si2", 139),
        ("licoo2", "LiCoO2", 166),
        ("delafossite", "CuFeO2", 166),
        ("ilmenite", "FeTiO3", 148),
        ("linbo3", "LiNbO3", 161),
        ("bixbyite", "Y2O3", 206),
        ("pyrochlore", "Gd2Ti2O7", 227),
        ("baddeleyite", "ZrO2", 14),
        ("beta_ga2o3", "Ga2O3", 12),
        ("tenorite", "CuO", 15),
        ("p2i4", "PI2", 2),
    ],
)
def test_required_structure_types(name, prototype, number):
    st = load_structure_type(name)
    assert _reduced(_parse_formula(st.prototype)) == _reduced(_parse_formula(prototype))
    assert st.space_group_number == number


def test_known_bond_lengths():
    """A few nearest-neighbour distances against textbook values (A)."""

    def shortest(name, a, b):
        crystal = _crystal(name)
        r = _pair_distances(crystal)
        el = np.array(crystal.elements)
        return r[np.ix_(el == a, el == b)].min()

    assert shortest("rocksalt", "Na", "Cl") == pytest.approx(2.82, abs=0.01)
    assert shortest("diamond", "C", "C") == pytest.approx(1.545, abs=0.01)
    assert shortest("perovskite", "Ti", "O") == pytest.approx(1.953, abs=0.01)
    assert shortest("olivine", "Si", "O") == pytest.approx(1.61, abs=0.03)
    assert shortest("garnet", "Al", "O") == pytest.approx(1.76, abs=0.03)
    assert shortest("scheelite", "W", "O") == pytest.approx(1.78, abs=0.03)
    assert shortest("zircon", "Si", "O") == pytest.approx(1.62, abs=0.03)
    assert shortest("calcite", "C", "O") == pytest.approx(1.28, abs=0.02)
    assert shortest("licoo2", "Co", "O") == pytest.approx(1.92, abs=0.03)
    assert shortest("delafossite", "Cu", "O") == pytest.approx(1.83, abs=0.03)


def test_inverse_spinel_mixed_site():
    st = load_structure_type("inverse_spinel")
    crystal = st.crystal()
    assert crystal.n_atoms == 8 + 16 + 16 + 32
    half = crystal.occupancies < 1
    assert half.sum() == 32
    assert set(np.array(crystal.elements)[half]) == {"Mg", "Fe"}
    # spglib sees the coincident Mg and Fe on 16d but still finds Fd-3m
    assert crystal.get_space_group(symprec=1e-3) == 227


# ------------------------------------------------------------------ API
def test_load_structure_type_normalises_the_name():
    assert load_structure_type("rocksalt") is STRUCTURE_TYPES["rocksalt"]
    assert load_structure_type("  Half-Heusler ").name == "half_heusler"
    assert load_structure_type("C15 Laves").name == "c15_laves"


def test_load_structure_type_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="unknown structure type 'rocksalts'") as exc:
        load_structure_type("rocksalts")
    assert "'rocksalt'" in str(exc.value)
    with pytest.raises(ValueError, match="unknown structure type") as exc:
        load_structure_type("zzzzqqq")
    assert "did you mean" not in str(exc.value)
    with pytest.raises(TypeError):
        load_structure_type(225)


def test_structure_type_is_frozen_and_validated():
    st = STRUCTURE_TYPES["fcc"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.name = "other"
    with pytest.raises(ValueError, match="no sites"):
        StructureType("empty", "Cu", 225, (), {"a": 3.6})
    listed = StructureType("cu", "Cu", 225, [("Cu", "4a")], {"a": 3.615})
    assert listed.sites == (("Cu", "4a"),)
    assert listed.crystal().n_atoms == 4


def test_structure_type_names_returns_a_fresh_list():
    names = structure_type_names()
    names.append("nonsense")
    assert "nonsense" not in structure_type_names()
