from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest
import spglib

from skxrd.crystal._spacegroups import (
    BRAVAIS_LATTICES,
    CRYSTAL_SYSTEMS,
    LATTICE_SYSTEMS,
    LAUE_CLASSES,
    POINT_GROUPS,
    SYMMORPHIC_NUMBERS,
    SpaceGroupInfo,
    space_group_info,
    space_group_number,
    space_group_symbol,
    space_groups_of,
    to_bravais_lattice,
    to_centring,
    to_crystal_system,
    to_lattice_system,
    to_laue_class,
    to_point_group,
    to_symbol,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*OLD_ERROR_HANDLING")

ALL = [space_group_info(n) for n in range(1, 231)]

CONVERTERS = {
    "crystal_system": to_crystal_system,
    "lattice_system": to_lattice_system,
    "bravais_lattice": to_bravais_lattice,
    "point_group": to_point_group,
    "laue_class": to_laue_class,
    "centring": to_centring,
    "symbol": to_symbol,
}


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (
            225,
            dict(
                symbol="Fm-3m",
                crystal_system="cubic",
                lattice_system="cubic",
                bravais_lattice="cF",
                point_group="m-3m",
                laue_class="m-3m",
                centring="F",
                is_centrosymmetric=True,
                is_symmorphic=True,
                order=48,
                n_operations=192,
            ),
        ),
        (
            14,
            dict(
                symbol="P2_1/c",
                full_symbol="P 1 2_1/c 1",
                hall_symbol="-P 2ybc",
                crystal_system="monoclinic",
                bravais_lattice="mP",
                point_group="2/m",
                laue_class="2/m",
                is_symmorphic=False,
                order=4,
                n_operations=4,
            ),
        ),
        (
            166,
            dict(
                symbol="R-3m",
                crystal_system="trigonal",
                lattice_system="rhombohedral",
                bravais_lattice="hR",
                point_group="-3m",
                centring="R",
                n_operations=36,
            ),
        ),
        (
            194,
            dict(
                symbol="P6_3/mmc",
                crystal_system="hexagonal",
                lattice_system="hexagonal",
                bravais_lattice="hP",
                point_group="6/mmm",
            ),
        ),
        (62, dict(symbol="Pnma", crystal_system="orthorhombic", bravais_lattice="oP")),
        (38, dict(symbol="Amm2", centring="A", bravais_lattice="oC")),
        (12, dict(symbol="C2/m", bravais_lattice="mC", n_operations=8)),
        (227, dict(symbol="Fd-3m", n_operations=192, is_symmorphic=False)),
        (1, dict(symbol="P1", bravais_lattice="aP", laue_class="-1", order=1)),
        (2, dict(symbol="P-1", is_centrosymmetric=True, point_group="-1")),
        (150, dict(symbol="P321", lattice_system="hexagonal", bravais_lattice="hP")),
        (48, dict(symbol="Pnnn", hall_symbol="-P 2ab 2bc")),  # origin choice 2
        (68, dict(symbol="Ccce", bravais_lattice="oC")),
    ],
)
def test_known_values(number, expected):
    info = space_group_info(number)
    assert isinstance(info, SpaceGroupInfo)
    assert info.number == number
    for field, value in expected.items():
        assert getattr(info, field) == value, field


def test_info_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ALL[0].number = 2


def test_standard_settings():
    for info in ALL:
        sg_type = spglib.get_spacegroup_type(info.hall_number)
        assert sg_type.number == info.number
        assert sg_type.hall_symbol == info.hall_symbol
        assert sg_type.international_short == info.symbol
        if 3 <= info.number <= 15:
            assert sg_type.choice in ("b", "b1")
        if info.centring == "R":
            assert sg_type.choice == "H"
        assert sg_type.choice not in ("1", "R")
    assert [info.number for info in ALL] == list(range(1, 231))
    assert len({info.hall_number for info in ALL}) == 230


def test_counts():
    systems = Counter(info.crystal_system for info in ALL)
    assert tuple(systems) == CRYSTAL_SYSTEMS
    assert [systems[s] for s in CRYSTAL_SYSTEMS] == [2, 13, 59, 68, 25, 27, 36]
    lattices = Counter(info.lattice_system for info in ALL)
    assert set(lattices) == set(LATTICE_SYSTEMS)
    assert lattices["rhombohedral"] == 7
    assert lattices["hexagonal"] == 18 + 27
    bravais = Counter(info.bravais_lattice for info in ALL)
    assert set(bravais) == set(BRAVAIS_LATTICES)
    assert len(BRAVAIS_LATTICES) == 14
    assert bravais["hR"] == 7 and bravais["cF"] == 11 and bravais["aP"] == 2
    point_groups = tuple(dict.fromkeys(info.point_group for info in ALL))
    assert point_groups == POINT_GROUPS
    assert len(POINT_GROUPS) == 32
    laue = tuple(dict.fromkeys(info.laue_class for info in ALL))
    assert laue == LAUE_CLASSES
    assert len(LAUE_CLASSES) == 11
    assert len(SYMMORPHIC_NUMBERS) == 73
    assert sum(info.is_symmorphic for info in ALL) == 73
    assert sum(info.is_centrosymmetric for info in ALL) == 92


def test_derived_fields_consistent():
    for info in ALL:
        assert info.centring == info.symbol[0]
        assert info.centring in "PABCIFR"
        # The Laue class is the point group with the inversion added.
        assert info.is_centrosymmetric == (info.point_group == info.laue_class)
        # Centring multiplies the point-group order by 1, 2, 3 or 4.
        multiplicity = {"P": 1, "A": 2, "B": 2, "C": 2, "I": 2, "R": 3, "F": 4}
        assert info.n_operations == info.order * multiplicity[info.centring]
        assert (
            info.bravais_lattice[0]
            == "amothhc"[CRYSTAL_SYSTEMS.index(info.crystal_system)]
        )
    orders = {info.point_group: info.order for info in ALL}
    assert orders["1"] == 1 and orders["m-3m"] == 48 and orders["6/mmm"] == 24


def test_symmorphic_from_operations():
    """Symmorphic iff every rotation comes with a centring translation.

    This holds with the origin of the standard settings, which lies at a point
    of full site symmetry for the symmorphic groups.
    """
    eye = np.eye(3, dtype=int)
    for info in ALL:
        symmetry = spglib.get_symmetry_from_database(info.hall_number)
        rotations = np.asarray(symmetry["rotations"])
        translations = np.asarray(symmetry["translations"]) % 1
        centring = translations[np.all(rotations == eye, axis=(1, 2))]
        diff = (translations[:, None, :] - centring[None, :, :]) % 1
        diff = np.minimum(diff, 1 - diff)
        pure = np.any(np.all(diff < 1e-6, axis=2), axis=1)
        n_pure = len(np.unique(rotations[pure].reshape(-1, 9), axis=0))
        assert (n_pure == info.order) == info.is_symmorphic, info.number


def test_one_symmorphic_group_per_arithmetic_class():
    classes: dict[int, set[int]] = {}
    for hall in range(1, 531):
        sg_type = spglib.get_spacegroup_type(hall)
        classes.setdefault(sg_type.arithmetic_crystal_class_number, set()).add(
            sg_type.number
        )
    assert len(classes) == 73
    for numbers in classes.values():
        assert len(numbers & set(SYMMORPHIC_NUMBERS)) == 1


def test_symbol_round_trip():
    for info in ALL:
        assert space_group_number(info.symbol) == info.number
        assert space_group_number(info.full_symbol) == info.number
        assert space_group_symbol(info.number) == info.symbol
        assert space_group_info(info.symbol) is info
    assert to_symbol(np.arange(1, 231)).tolist() == [info.symbol for info in ALL]
    symbols = np.array([info.symbol for info in ALL])
    assert np.array_equal(to_symbol(symbols), symbols)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("P21/c", 14),
        ("P 21/c", 14),
        ("P2_1/c", 14),
        ("P 1 21/c 1", 14),
        ("P21/n", 14),
        ("P 1 21/n 1", 14),
        ("P2_1/a", 14),
        ("C2/c", 15),
        ("I2/a", 15),
        ("Fm3m", 225),
        ("F m -3 m", 225),
        ("F 4/m -3 2/m", 225),
        ("Fd3m", 227),
        ("Ia3d", 230),
        ("Pm3", 200),
        ("P63/mmc", 194),
        ("P 63/m m c", 194),
        ("P6_3/m 2/m 2/c", 194),
        ("R-3m", 166),
        ("R3m", 160),
        ("R-3", 148),
        ("R3", 146),
        ("P1", 1),
        ("P-1", 2),
        ("Pbnm", 62),
        ("Cmca", 64),
        ("Cmce", 64),
        ("Abm2", 39),
        ("  Pnma ", 62),
        ("225", 225),
    ],
)
def test_tolerant_symbols(text, number):
    assert space_group_number(text) == number
    assert space_group_info(text).number == number


def test_numpy_scalars():
    assert space_group_info(np.int64(225)).symbol == "Fm-3m"
    assert space_group_info(np.uint8(14)).symbol == "P2_1/c"
    assert space_group_info(np.str_("Pnma")).number == 62
    assert to_crystal_system(np.int32(225)) == "cubic"
    assert isinstance(to_crystal_system(225), str)
    assert to_symbol(225.0) == "Fm-3m"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (0, "space group number 0 is outside 1..230"),
        (231, "space group number 231 is outside 1..230"),
        (-5, "outside 1..230"),
        ("Xyz", "unknown space group 'Xyz'"),
        ("fm-3m", "unknown space group 'fm-3m'"),
        ("", "unknown space group ''"),
        ("0", "unknown space group '0'"),
        ("P2_1/q", "unknown space group"),
    ],
)
def test_bad_scalar_input(bad, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        space_group_info(bad)
    with pytest.raises(ValueError):
        space_group_number(bad)


@pytest.mark.parametrize("bad", [True, False, np.True_, 14.0, None, [14]])
def test_wrong_scalar_type(bad):
    with pytest.raises(TypeError):
        space_group_info(bad)


def test_vectorized_matches_lookup():
    rng = np.random.default_rng(0)
    y = rng.integers(1, 231, size=100_000)
    for field, convert in CONVERTERS.items():
        out = convert(y)
        assert isinstance(out, np.ndarray)
        assert out.shape == y.shape
        assert out.dtype.kind == "U"
        expected = np.array([getattr(ALL[n - 1], field) for n in y])
        assert np.array_equal(out, expected), field
    # Symbols, floats and other shapes convert the same.
    symbols = np.array([info.symbol for info in ALL])[y[:5000] - 1]
    assert np.array_equal(to_bravais_lattice(symbols), to_bravais_lattice(y[:5000]))
    assert np.array_equal(to_laue_class(y.astype(float)), to_laue_class(y))
    grid = y[:12].reshape(3, 4)
    assert to_point_group(grid).shape == (3, 4)
    assert to_point_group(list(y[:12])).tolist() == to_point_group(y[:12]).tolist()
    mixed = np.array([225, "P21/c", np.int64(62)], dtype=object)
    assert to_symbol(mixed).tolist() == ["Fm-3m", "P2_1/c", "Pnma"]
    assert to_symbol([225, "P21/c"]).tolist() == ["Fm-3m", "P2_1/c"]
    assert to_symbol(np.array([], dtype=int)).shape == (0,)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([1, 2, 0, 231], "invalid space group label 0 at position 2"),
        (np.array([5, 231]), "invalid space group label 231 at position 1"),
        (np.array([5.0, np.nan, 0.0]), "invalid space group label nan at position 1"),
        (np.array([5.0, 6.5]), "invalid space group label 6.5 at position 1"),
        (["Fm-3m", "Xyz", "Qq"], "invalid space group label 'Xyz' at position 1"),
        (
            np.array([[1, 2], [3, 300]]),
            r"invalid space group label 300 at position \(1, 1\)",
        ),
        (
            np.array([1, "Xyz"], dtype=object),
            "invalid space group label 'Xyz' at position 1",
        ),
        (231, "invalid space group label 231$"),
    ],
)
def test_vectorized_errors(labels, message):
    for convert in CONVERTERS.values():
        with pytest.raises(ValueError, match=message):
            convert(labels)


def test_vectorized_rejects_booleans():
    with pytest.raises(TypeError):
        to_crystal_system(np.array([True, False]))


def test_space_groups_of():
    assert np.array_equal(space_groups_of(), np.arange(1, 231))
    cubic = space_groups_of(crystal_system="cubic")
    assert cubic.tolist() == list(range(195, 231))
    assert space_groups_of(bravais_lattice="hR").tolist() == [
        146,
        148,
        155,
        160,
        161,
        166,
        167,
    ]
    assert space_groups_of(bravais_lattice="mC").tolist() == [5, 8, 9, 12, 15]
    assert space_groups_of(point_group="m-3m", bravais_lattice="cF").tolist() == [
        225,
        226,
        227,
        228,
    ]
    assert len(space_groups_of(laue_class="-3m")) == 19
    assert len(space_groups_of(crystal_system="cubic", laue_class="mmm")) == 0
    for system in CRYSTAL_SYSTEMS:
        numbers = space_groups_of(crystal_system=system)
        assert set(to_crystal_system(numbers)) == {system}
    with pytest.raises(ValueError, match="unknown crystal system 'cubik'"):
        space_groups_of(crystal_system="cubik")
    with pytest.raises(ValueError, match="unknown point group"):
        space_groups_of(point_group="4/mmmm")


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Fd-3m:1", 227),
        ("F d -3 m :2", 227),
        ("227:2", 227),
        ("R-3m:H", 166),
        ("R -3 m:R", 166),
        ("166:R", 166),
        ("P 1 21/c 1:b1", 14),
        ("14:c", 14),  # xrayutilities' key of unique axis c
        ("Pbnm:cab", 62),
    ],
)
def test_setting_suffixes(text, number):
    # the keys Crystal.from_wyckoff and CIF files use name the group too
    assert space_group_number(text) == number
    assert space_group_info(text).number == number
    assert to_crystal_system([text]).tolist() == [
        space_group_info(number).crystal_system
    ]


def test_every_setting_symbol_with_its_choice():
    for hall in range(1, 531):
        sg_type = spglib.get_spacegroup_type(hall)
        for symbol in (sg_type.international_full, sg_type.international_short):
            text = f"{symbol}:{sg_type.choice}" if sg_type.choice else symbol
            assert space_group_number(text) == sg_type.number, (hall, text)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("Fm-3m:2", "group 225 has no setting '2'; it has a single setting"),
        ("Fd-3m:3", "group 227 has no setting '3'; its settings are '1', '2'"),
        ("14:q", "group 14 has no setting 'q'"),
        ("1:", "group 1 has no setting ''"),
        (":2", "unknown space group ':2'"),
    ],
)
def test_bad_setting_suffix(bad, message):
    with pytest.raises(ValueError, match=message):
        space_group_number(bad)
    with pytest.raises(ValueError, match=f"label '{bad}' at position 1"):
        to_crystal_system(["P1", bad])


@pytest.mark.parametrize("bad", ["³", "①", "9" * 5000])
def test_odd_digit_strings_are_unknown_symbols(bad):
    # str.isdigit accepts these, int() does not (or not over 4300 digits)
    with pytest.raises(ValueError, match="unknown space group") as info:
        space_group_number(bad)
    assert len(str(info.value)) < 200
    with pytest.raises(ValueError, match="invalid space group label .* at position 1"):
        to_crystal_system(["P1", bad])
    assert space_group_number("١٤") == 14  # other decimal digits are digits
