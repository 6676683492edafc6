"""Tables of the 230 space groups and vectorized conversions between label kinds.

The tables are built once, lazily, from spglib's database of the 530 Hall
settings. For every space-group number one *standard* setting is chosen: unique
axis ``b`` with cell choice 1 for monoclinic groups, origin choice 2 where
International Tables give two origins, and hexagonal axes for rhombohedral groups.

The ``to_*`` functions turn arrays of space-group labels (numbers or symbols)
into arrays of coarser labels, e.g. crystal systems or Bravais lattices, with a
lookup table indexed by the space-group number, so that millions of integer
labels convert without a Python loop.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import cache
from numbers import Integral
from typing import Any

import numpy as np

__all__ = [
    "BRAVAIS_LATTICES",
    "CRYSTAL_SYSTEMS",
    "LATTICE_SYSTEMS",
    "LAUE_CLASSES",
    "POINT_GROUPS",
    "SYMMORPHIC_NUMBERS",
    "SpaceGroupInfo",
    "space_group_info",
    "space_group_number",
    "space_group_symbol",
    "space_groups_of",
    "to_bravais_lattice",
    "to_centring",
    "to_crystal_system",
    "to_lattice_system",
    "to_laue_class",
    "to_point_group",
    "to_symbol",
]

N_SPACE_GROUPS = 230
N_HALL_SETTINGS = 530

CRYSTAL_SYSTEMS: tuple[str, ...] = (
    "triclinic",
    "monoclinic",
    "orthorhombic",
    "tetragonal",
    "trigonal",
    "hexagonal",
    "cubic",
)
"""The 7 crystal systems, in order of increasing space-group number."""

LATTICE_SYSTEMS: tuple[str, ...] = (
    "triclinic",
    "monoclinic",
    "orthorhombic",
    "tetragonal",
    "rhombohedral",
    "hexagonal",
    "cubic",
)
"""The 7 lattice systems; trigonal groups with an R lattice are rhombohedral."""

BRAVAIS_LATTICES: tuple[str, ...] = (
    "aP",
    "mP",
    "mC",
    "oP",
    "oC",
    "oI",
    "oF",
    "tP",
    "tI",
    "hR",
    "hP",
    "cP",
    "cI",
    "cF",
)
"""The 14 Bravais lattices as Pearson-style symbols."""

LAUE_CLASSES: tuple[str, ...] = (
    "-1",
    "2/m",
    "mmm",
    "4/m",
    "4/mmm",
    "-3",
    "-3m",
    "6/m",
    "6/mmm",
    "m-3",
    "m-3m",
)
"""The 11 Laue classes (centrosymmetric point groups)."""

POINT_GROUPS: tuple[str, ...] = (
    "1",
    "-1",
    "2",
    "m",
    "2/m",
    "222",
    "mm2",
    "mmm",
    "4",
    "-4",
    "4/m",
    "422",
    "4mm",
    "-42m",
    "4/mmm",
    "3",
    "-3",
    "32",
    "3m",
    "-3m",
    "6",
    "-6",
    "6/m",
    "622",
    "6mm",
    "-6m2",
    "6/mmm",
    "23",
    "m-3",
    "432",
    "-43m",
    "m-3m",
)
"""The 32 crystallographic point groups, in order of first space-group number."""

SYMMORPHIC_NUMBERS: tuple[int, ...] = (
    1, 2, 3, 5, 6, 8, 10, 12, 16, 21, 22, 23, 25, 35, 38, 42, 44, 47, 65, 69, 71,
    75, 79, 81, 82, 83, 87, 89, 97, 99, 107, 111, 115, 119, 121, 123, 139, 143,
    146, 147, 148, 149, 150, 155, 156, 157, 160, 162, 164, 166, 168, 174, 175, 177,
    183, 187, 189, 191, 195, 196, 197, 200, 202, 204, 207, 209, 211, 215, 216, 217,
    221, 225, 229,
)  # fmt: skip
"""Numbers of the 73 symmorphic space groups."""

_LAUE_OF_POINT_GROUP = {
    "1": "-1",
    "-1": "-1",
    "2": "2/m",
    "m": "2/m",
    "2/m": "2/m",
    "222": "mmm",
    "mm2": "mmm",
    "mmm": "mmm",
    "4": "4/m",
    "-4": "4/m",
    "4/m": "4/m",
    "422": "4/mmm",
    "4mm": "4/mmm",
    "-42m": "4/mmm",
    "-4m2": "4/mmm",
    "4/mmm": "4/mmm",
    "3": "-3",
    "-3": "-3",
    "32": "-3m",
    "3m": "-3m",
    "-3m": "-3m",
    "6": "6/m",
    "-6": "6/m",
    "6/m": "6/m",
    "622": "6/mmm",
    "6mm": "6/mmm",
    "-6m2": "6/mmm",
    "-62m": "6/mmm",
    "6/mmm": "6/mmm",
    "23": "m-3",
    "m-3": "m-3",
    "432": "m-3m",
    "-43m": "m-3m",
    "m-3m": "m-3m",
}

# Older symbols of International Tables (before the 'e' glide) that users still
# write; spglib only knows the new ones.
_LEGACY_SYMBOLS = {
    "Abm2": 39,
    "Aba2": 41,
    "Cmca": 64,
    "Cmma": 67,
    "Ccca": 68,
}

_STRIP = re.compile(r"[\s_]+")


@dataclass(frozen=True)
class SpaceGroupInfo:
    """Facts about one space group in its standard setting.

    Attributes
    ----------
    number : int
        International Tables number, 1 to 230.
    symbol : str
        Short Hermann–Mauguin symbol as spglib writes it, e.g. ``"P2_1/c"``.
    full_symbol : str
        Full Hermann–Mauguin symbol, e.g. ``"P 1 2_1/c 1"``.
    hall_symbol : str
        Hall symbol of the standard setting.
    hall_number : int
        spglib's Hall number (1 to 530) of the standard setting.
    crystal_system : str
        One of :data:`CRYSTAL_SYSTEMS`.
    lattice_system : str
        One of :data:`LATTICE_SYSTEMS`.
    centring : str
        Lattice centring, the first letter of the symbol: P, A, B, C, I, F or R.
    bravais_lattice : str
        One of :data:`BRAVAIS_LATTICES`.
    point_group : str
        Hermann–Mauguin symbol of the point group, one of :data:`POINT_GROUPS`.
    laue_class : str
        One of :data:`LAUE_CLASSES`.
    is_centrosymmetric : bool
        Whether the group contains the inversion.
    is_symmorphic : bool
        Whether the group is one of the 73 symmorphic groups.
    order : int
        Number of point-group operations.
    n_operations : int
        Number of operations in the conventional cell, centring translations
        included (192 for ``Fm-3m``).

    See Also
    --------
    space_group_info : The record of a space group given by number or symbol.

    Examples
    --------
    >>> from skxrd.crystal import space_group_info
    >>> info = space_group_info(14)
    >>> info.symbol, info.crystal_system, info.bravais_lattice, info.laue_class
    ('P2_1/c', 'monoclinic', 'mP', '2/m')
    >>> info.is_centrosymmetric, info.is_symmorphic, info.n_operations
    (True, False, 4)
    """

    number: int
    symbol: str
    full_symbol: str
    hall_symbol: str
    hall_number: int
    crystal_system: str
    lattice_system: str
    centring: str
    bravais_lattice: str
    point_group: str
    laue_class: str
    is_centrosymmetric: bool
    is_symmorphic: bool
    order: int
    n_operations: int


def _field(obj: Any, name: str) -> Any:
    """Read ``name`` from a spglib result, an object (spglib >= 2.5) or a dict."""
    if isinstance(obj, dict):
        return obj[name]
    return getattr(obj, name)


def _crystal_system_of(number: int) -> str:
    for upper, system in zip(
        (2, 15, 74, 142, 167, 194, 230), CRYSTAL_SYSTEMS, strict=True
    ):
        if number <= upper:
            return system
    raise AssertionError(number)  # pragma: no cover


def _bravais_of(crystal_system: str, centring: str) -> str:
    if crystal_system == "triclinic":
        return "aP"
    if crystal_system == "monoclinic":
        return "mP" if centring == "P" else "mC"
    if crystal_system == "orthorhombic":
        return "oC" if centring in "ABC" else "o" + centring
    if crystal_system in ("trigonal", "hexagonal"):
        return "hR" if centring == "R" else "hP"
    return crystal_system[0] + centring


def _choose_standard(settings: list[tuple[int, str]]) -> int:
    """Pick the Hall number of the standard setting among ``(hall, choice)``."""
    choices = [choice for _, choice in settings]
    for preferred in ("2", "H", "b", "b1"):
        if preferred in choices:
            return settings[choices.index(preferred)][0]
    return settings[0][0]


@cache
def _spglib_settings() -> tuple[dict[str, Any], ...]:
    """Type and operations of each of spglib's 530 Hall settings."""
    import spglib

    with warnings.catch_warnings():
        # spglib >= 2.5 warns about its own error-handling mode on every call.
        warnings.filterwarnings("ignore", message=".*OLD_ERROR_HANDLING")
        raw = [
            (
                spglib.get_spacegroup_type(hall),
                spglib.get_symmetry_from_database(hall),
            )
            for hall in range(1, N_HALL_SETTINGS + 1)
        ]
    settings = []
    for hall, (sg_type, symmetry) in enumerate(raw, start=1):
        if sg_type is None:  # pragma: no cover - spglib's database is complete
            raise RuntimeError(f"spglib knows no Hall setting {hall}")
        if symmetry is None:  # pragma: no cover
            raise RuntimeError(f"spglib has no operations for Hall setting {hall}")
        names = (
            "number",
            "international_short",
            "international_full",
            "hall_symbol",
            "choice",
            "pointgroup_international",
        )
        entry = {name: _field(sg_type, name) for name in names}
        entry["hall_number"] = hall
        entry["rotations"] = np.asarray(symmetry["rotations"])
        settings.append(entry)
    return tuple(settings)


@cache
def _table() -> tuple[SpaceGroupInfo, ...]:
    """The 230 :class:`SpaceGroupInfo`, index ``number - 1``."""
    settings = _spglib_settings()
    by_number: dict[int, list[tuple[int, str]]] = {}
    for entry in settings:
        by_number.setdefault(int(entry["number"]), []).append(
            (entry["hall_number"], entry["choice"])
        )
    if sorted(by_number) != list(range(1, N_SPACE_GROUPS + 1)):  # pragma: no cover
        raise RuntimeError("spglib's database does not cover the 230 space groups")
    symmorphic = set(SYMMORPHIC_NUMBERS)
    minus_one = -np.eye(3, dtype=int)
    table = []
    for number in range(1, N_SPACE_GROUPS + 1):
        hall = _choose_standard(by_number[number])
        entry = settings[hall - 1]
        symbol = str(entry["international_short"])
        centring = symbol[0]
        crystal_system = _crystal_system_of(number)
        if crystal_system == "trigonal":
            lattice_system = "rhombohedral" if centring == "R" else "hexagonal"
        else:
            lattice_system = crystal_system
        point_group = str(entry["pointgroup_international"])
        rotations = entry["rotations"]
        table.append(
            SpaceGroupInfo(
                number=number,
                symbol=symbol,
                full_symbol=str(entry["international_full"]),
                hall_symbol=str(entry["hall_symbol"]),
                hall_number=hall,
                crystal_system=crystal_system,
                lattice_system=lattice_system,
                centring=centring,
                bravais_lattice=_bravais_of(crystal_system, centring),
                point_group=point_group,
                laue_class=_LAUE_OF_POINT_GROUP[point_group],
                is_centrosymmetric=bool(
                    np.any(np.all(rotations == minus_one, axis=(1, 2)))
                ),
                is_symmorphic=number in symmorphic,
                order=len(np.unique(rotations.reshape(len(rotations), 9), axis=0)),
                n_operations=len(rotations),
            )
        )
    return tuple(table)


def _shown(text: str) -> str:
    """``repr`` of a label for an error message, cut short when it is long."""
    shown = repr(text)
    return shown if len(shown) <= 80 else shown[:60] + f"... ({len(text)} characters)"


def _key(text: str) -> str:
    return _STRIP.sub("", text)


def _monoclinic_short(full_symbol: str) -> str:
    """``"P 1 2_1/n 1"`` -> ``"P2_1/n"``: the short form of any monoclinic setting."""
    head, *axes = full_symbol.split()
    return head + "".join(axis for axis in axes if axis != "1")


@cache
def _symbol_maps() -> tuple[dict[str, int], dict[str, int]]:
    """Normalized symbol -> number, without and with the bars removed.

    The first map holds the standard short and full symbols, then any
    unambiguous symbol of a non-standard setting or of older Tables. The second
    map drops the ``-`` as well (``"Fm3m"``), and keeps only keys that name one
    group.
    """
    exact: dict[str, int] = {}
    for info in _table():
        exact.setdefault(_key(info.symbol), info.number)
        exact.setdefault(_key(info.full_symbol), info.number)
    aliases: dict[str, set[int]] = {}
    for entry in _spglib_settings():
        number = int(entry["number"])
        names = [entry["international_short"], entry["international_full"]]
        if 3 <= number <= 15:
            names.append(_monoclinic_short(entry["international_full"]))
        for name in names:
            aliases.setdefault(_key(name), set()).add(number)
    for name, number in _LEGACY_SYMBOLS.items():
        aliases.setdefault(_key(name), set()).add(number)
    for key, numbers in aliases.items():
        if key not in exact and len(numbers) == 1:
            exact[key] = next(iter(numbers))
    barless: dict[str, set[int]] = {}
    for key, number in exact.items():
        barless.setdefault(key.replace("-", ""), set()).add(number)
    no_bars = {
        key: next(iter(numbers))
        for key, numbers in barless.items()
        if len(numbers) == 1
    }
    return exact, no_bars


@cache
def _setting_choices() -> dict[int, frozenset[str]]:
    """Setting suffixes each number takes after a colon: spglib's choices
    (``"1"``, ``"2"``, ``"H"``, ``"R"``, ``"b1"``, ``"cab"`` ...) and the
    monoclinic unique axes of xrayutilities' keys (``"14:b"``, ``"14:c"``)."""
    choices: dict[int, set[str]] = {}
    for entry in _spglib_settings():
        if entry["choice"]:
            choices.setdefault(int(entry["number"]), set()).add(str(entry["choice"]))
    for number in range(3, 16):
        choices.setdefault(number, set()).update(("a", "b", "c"))
    return {number: frozenset(found) for number, found in choices.items()}


def _split_setting(text: str) -> tuple[str, str | None]:
    """``"Fd-3m:1"`` -> ``("Fd-3m", "1")``; no colon -> ``(text, None)``."""
    head, colon, choice = text.partition(":")
    return (head.strip(), choice.strip()) if colon else (text, None)


def _number_from_symbol(symbol: str) -> int | None:
    """Number for a symbol or a string of digits, either optionally followed by
    a setting suffix (``"Fd-3m:1"``, ``"166:H"``); None when there is none."""
    text, choice = _split_setting(symbol.strip())
    if choice is not None:
        number = _number_from_symbol(text) if ":" not in text else None
        if number is None or choice not in _setting_choices().get(number, ()):
            return None
        return number
    # isdecimal, not isdigit: int() refuses "³" and "①", which isdigit accepts;
    # and at most 3 digits, as int() refuses strings of over 4300 digits
    if text.isdecimal():
        number = int(text) if len(text) <= 3 else 0
        return number if 1 <= number <= N_SPACE_GROUPS else None
    exact, no_bars = _symbol_maps()
    key = _key(text)
    if key in exact:
        return exact[key]
    return no_bars.get(key.replace("-", ""))


def space_group_number(symbol_or_number: int | str) -> int:
    """Space-group number of a symbol or a number.

    Parameters
    ----------
    symbol_or_number : int or str
        A number from 1 to 230 or a Hermann–Mauguin symbol, short or full, such
        as ``"P2_1/c"``, ``"P21/c"``, ``"P 1 21/n 1"``, ``"Fm-3m"`` or ``"Fm3m"``.
        Spaces and underscores are ignored; letters are case-sensitive. A
        setting suffix after a colon is checked against the group and dropped:
        origin choice (``"Fd-3m:1"``, ``"227:2"``), axes (``"R-3m:H"``,
        ``"166:R"``), spglib's setting names (``"P 1 21/c 1:b1"``,
        ``"Pbnm:cab"``) and xrayutilities' unique axes (``"14:c"``).

    Returns
    -------
    int
        The International Tables number.

    Raises
    ------
    ValueError
        For an unknown symbol, a number outside 1..230, or a setting suffix
        that the group does not have (``"Fm-3m:2"``).
    TypeError
        For anything that is neither an integer nor a string (booleans included).

    Examples
    --------
    >>> space_group_number("Fm-3m"), space_group_number("P21/n")
    (225, 14)
    >>> space_group_number("Pbnm")
    62
    >>> space_group_number("Fd-3m:1"), space_group_number("166:R")
    (227, 166)
    """
    if isinstance(symbol_or_number, (bool, np.bool_)):
        raise TypeError(
            f"space group must be a number or a symbol, not {symbol_or_number!r}"
        )
    if isinstance(symbol_or_number, Integral):
        number = int(symbol_or_number)
        if not 1 <= number <= N_SPACE_GROUPS:
            raise ValueError(f"space group number {number} is outside 1..230")
        return number
    if isinstance(symbol_or_number, (str, np.str_)):
        text = str(symbol_or_number)
        number = _number_from_symbol(text)
        if number is None:
            head, choice = _split_setting(text.strip())
            group = _number_from_symbol(head) if choice is not None else None
            if group is not None:
                known = sorted(_setting_choices().get(group, ()))
                raise ValueError(
                    f"space group {_shown(text)}: group {group} has no setting "
                    f"{choice!r}; "
                    + (
                        f"its settings are {', '.join(map(repr, known))}"
                        if known
                        else "it has a single setting: give no suffix"
                    )
                )
            raise ValueError(f"unknown space group {_shown(text)}")
        return number
    raise TypeError(
        "space group must be a number or a symbol, not "
        f"{type(symbol_or_number).__name__} {symbol_or_number!r}"
    )


def space_group_info(sg: int | str) -> SpaceGroupInfo:
    """Facts about a space group in its standard setting.

    Parameters
    ----------
    sg : int or str
        A number from 1 to 230 (Python or NumPy integer) or a Hermann–Mauguin
        symbol, see :func:`space_group_number`.

    Returns
    -------
    SpaceGroupInfo

    Raises
    ------
    ValueError
        For an unknown symbol or a number outside 1..230.
    TypeError
        For anything that is neither an integer nor a string (booleans included).

    Examples
    --------
    >>> info = space_group_info(225)
    >>> info.symbol, info.crystal_system, info.bravais_lattice, info.point_group
    ('Fm-3m', 'cubic', 'cF', 'm-3m')
    >>> info.order, info.n_operations
    (48, 192)
    >>> space_group_info("P21/c").full_symbol
    'P 1 2_1/c 1'
    """
    return _table()[space_group_number(sg) - 1]


def space_group_symbol(number: int | str) -> str:
    """Short Hermann–Mauguin symbol of the standard setting.

    Parameters
    ----------
    number : int or str
        A number from 1 to 230, or any symbol :func:`space_group_number` reads.

    Returns
    -------
    str
        The short symbol as spglib writes it, with ``_`` before screw-axis
        subscripts.

    Examples
    --------
    >>> space_group_symbol(14), space_group_symbol(194)
    ('P2_1/c', 'P6_3/mmc')
    >>> space_group_symbol("Fm3m")
    'Fm-3m'
    """
    return space_group_info(number).symbol


def space_groups_of(
    crystal_system: str | None = None,
    bravais_lattice: str | None = None,
    point_group: str | None = None,
    laue_class: str | None = None,
) -> np.ndarray:
    """Numbers of the space groups that match every given criterion.

    Parameters
    ----------
    crystal_system : str, optional
        One of :data:`CRYSTAL_SYSTEMS`.
    bravais_lattice : str, optional
        One of :data:`BRAVAIS_LATTICES`.
    point_group : str, optional
        One of :data:`POINT_GROUPS`.
    laue_class : str, optional
        One of :data:`LAUE_CLASSES`.

    Returns
    -------
    ndarray of int
        Increasing space-group numbers; all 230 when no criterion is given.

    Raises
    ------
    ValueError
        For a value that is not one of the allowed labels.

    Examples
    --------
    >>> space_groups_of(bravais_lattice="cF").tolist()
    [196, 202, 203, 209, 210, 216, 219, 225, 226, 227, 228]
    >>> space_groups_of(crystal_system="cubic", point_group="m-3m").tolist()
    [221, 222, 223, 224, 225, 226, 227, 228, 229, 230]
    """
    criteria = {
        "crystal_system": (crystal_system, CRYSTAL_SYSTEMS),
        "bravais_lattice": (bravais_lattice, BRAVAIS_LATTICES),
        "point_group": (point_group, POINT_GROUPS),
        "laue_class": (laue_class, LAUE_CLASSES),
    }
    keep = np.ones(N_SPACE_GROUPS, dtype=bool)
    for field, (value, allowed) in criteria.items():
        if value is None:
            continue
        if value not in allowed:
            raise ValueError(
                f"unknown {field.replace('_', ' ')} {value!r}; expected one of "
                f"{', '.join(allowed)}"
            )
        keep &= _column(field)[1:] == value
    return np.flatnonzero(keep) + 1


@cache
def _column(field: str) -> np.ndarray:
    """Array of ``field`` for numbers 0..230; entry 0 is an empty placeholder."""
    if field == "crystal_system":  # from the numbers alone: no spglib table (0.1 s)
        values = [""] + [_crystal_system_of(n) for n in range(1, N_SPACE_GROUPS + 1)]
    else:
        values = [""] + [getattr(info, field) for info in _table()]
    column = np.array(values)
    column.flags.writeable = False
    return column


def _position(index: int, shape: tuple[int, ...]) -> int | tuple[int, ...]:
    if len(shape) <= 1:
        return index
    return tuple(int(i) for i in np.unravel_index(index, shape))


def _invalid(arr: np.ndarray, bad: np.ndarray) -> ValueError:
    """Error naming the first invalid label of ``arr``, flagged in ``bad``."""
    index = int(np.argmax(bad.ravel()))
    value = arr.ravel()[index]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode()
    if arr.ndim == 0:
        return ValueError(f"invalid space group label {value!r}")
    return ValueError(
        f"invalid space group label {value!r} at position {_position(index, arr.shape)}"
    )


def _object_number(value: Any) -> int:
    """Number of one label of an object array, 0 when it is not valid."""
    if isinstance(value, (bool, np.bool_)):
        return 0
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, Integral):
        number = int(value)
        return number if 1 <= number <= N_SPACE_GROUPS else 0
    if isinstance(value, float | np.floating):
        if np.isfinite(value) and float(value).is_integer():
            number = int(value)
            return number if 1 <= number <= N_SPACE_GROUPS else 0
        return 0
    if isinstance(value, str):
        return _number_from_symbol(value) or 0
    return 0


def _to_numbers(y: Any) -> np.ndarray:
    """Space-group numbers (intp, same shape) of an array-like of labels."""
    arr = np.asarray(y)
    kind = arr.dtype.kind
    if kind in "iu":
        bad = (arr < 1) | (arr > N_SPACE_GROUPS)
        if bad.any():
            raise _invalid(arr, bad)
        return arr.astype(np.intp, copy=False)
    if kind == "f":
        with np.errstate(invalid="ignore"):
            bad = (
                ~np.isfinite(arr)
                | (arr < 1)
                | (arr > N_SPACE_GROUPS)
                | (arr != np.round(arr))
            )
        if bad.any():
            raise _invalid(arr, bad)
        return arr.astype(np.intp)
    if kind in "US":
        flat = arr.ravel()
        uniques, inverse = np.unique(flat, return_inverse=True)
        found = np.array(
            [
                _number_from_symbol(
                    u.decode(errors="replace") if isinstance(u, bytes) else str(u)
                )
                or 0
                for u in uniques.tolist()
            ],
            dtype=np.intp,
        )
        numbers = found[inverse].reshape(arr.shape)
    elif kind == "O":
        cache_: dict[Any, int] = {}
        numbers = np.empty(arr.shape, dtype=np.intp)
        flat_numbers = numbers.reshape(-1)
        for i, value in enumerate(arr.ravel().tolist()):
            try:
                number = cache_[value]
            except (KeyError, TypeError):
                number = _object_number(value)
                try:
                    cache_[value] = number
                except TypeError:
                    pass
            flat_numbers[i] = number
    else:
        raise TypeError(
            f"space group labels must be integers or symbols, not dtype {arr.dtype}"
        )
    bad = numbers == 0
    if bad.any():
        raise _invalid(arr, bad)
    return numbers


def _convert(y: Any, field: str) -> np.ndarray | str:
    numbers = _to_numbers(y)
    out = _column(field)[numbers]
    if out.ndim == 0:
        return str(out)
    return out


def _family_of_bravais(bravais: str) -> str:
    """The lattice family of a Bravais symbol ("cF": "cubic"; "hP" and "hR":
    "hexagonal", the family of the hexagonal and trigonal systems)."""
    return {
        "a": "triclinic",
        "m": "monoclinic",
        "o": "orthorhombic",
        "t": "tetragonal",
        "h": "hexagonal",
        "c": "cubic",
    }[bravais[0]]


# the labels a space group maps to by a ``to_*`` function of this module,
# coarsest first after the crystal system: the targets of CoarseLabelClassifier
_COARSE_TARGETS = (
    "crystal_system",
    "lattice_system",
    "bravais_lattice",
    "point_group",
    "laue_class",
)


def to_crystal_system(y: Any) -> np.ndarray | str:
    """Crystal system of each space-group label.

    Parameters
    ----------
    y : int, str or array-like
        Space-group numbers 1..230 (integers, or floats with integer values) or
        symbols, in any shape.

    Returns
    -------
    ndarray of str or str
        Values from :data:`CRYSTAL_SYSTEMS`, shaped like ``y``; a ``str`` for a
        scalar ``y``.

    Raises
    ------
    ValueError
        Naming the first invalid label (0, 231, NaN, an unknown symbol) and its
        position.

    Examples
    --------
    >>> to_crystal_system([2, 14, 62, 139]).tolist()
    ['triclinic', 'monoclinic', 'orthorhombic', 'tetragonal']
    >>> to_crystal_system(np.array([166, 194, 225]))
    array(['trigonal', 'hexagonal', 'cubic'], dtype='<U12')
    >>> to_crystal_system("Fm-3m")
    'cubic'
    """
    return _convert(y, "crystal_system")


def to_lattice_system(y: Any) -> np.ndarray | str:
    """Lattice system of each space-group label.

    Trigonal groups with an R lattice are ``"rhombohedral"``, the other trigonal
    groups ``"hexagonal"``.

    Parameters
    ----------
    y : int, str or array-like
        Space-group numbers 1..230 or symbols, in any shape.

    Returns
    -------
    ndarray of str or str
        Values from :data:`LATTICE_SYSTEMS`, shaped like ``y``; a ``str`` for a
        scalar ``y``.

    Raises
    ------
    ValueError
        Naming the first invalid label and its position.

    Examples
    --------
    >>> to_lattice_system([150, 166, 194]).tolist()
    ['hexagonal', 'rhombohedral', 'hexagonal']
    """
    return _convert(y, "lattice_system")


def to_bravais_lattice(y: Any) -> np.ndarray | str:
    """Bravais lattice of each space-group label.

    Parameters
    ----------
    y : int, str or array-like
        Space-group numbers 1..230 or symbols, in any shape.

    Returns
    -------
    ndarray of str or str
        Values from :data:`BRAVAIS_LATTICES`, shaped like ``y``; a ``str`` for a
        scalar ``y``.

    Raises
    ------
    ValueError
        Naming the first invalid label and its position.

    Examples
    --------
    >>> to_bravais_lattice([1, 12, 38, 166, 227]).tolist()
    ['aP', 'mC', 'oC', 'hR', 'cF']
    >>> to_bravais_lattice(np.array([[14, 62], [71, 139]])).tolist()
    [['mP', 'oP'], ['oI', 'tI']]
    """
    return _convert(y, "bravais_lattice")


def to_point_group(y: Any) -> np.ndarray | str:
    """Point group of each space-group label.

    Parameters
    ----------
    y : int, str or array-like
        Space-group numbers 1..230 or symbols, in any shape.

    Returns
    -------
    ndarray of str or str
        Values from :data:`POINT_GROUPS`, shaped like ``y``; a ``str`` for a
        scalar ``y``.

    Raises
    ------
    ValueError
        Naming the first invalid label and its position.

    Examples
    --------
    >>> to_point_group(["P2_1/c", "I-42d", "P6_3mc"]).tolist()
    ['2/m', '-42m', '6mm']
    """
    return _convert(y, "point_group")


def to_laue_class(y: Any) -> np.ndarray | str:
    """Laue class of each space-group label.

    Parameters
    ----------
    y : int, str or array-like
        Space-group numbers 1..230 or symbols, in any shape.

    Returns
    -------
    ndarray of str or str
        Values from :data:`LAUE_CLASSES`, shaped like ``y``; a ``str`` for a
        scalar ``y``.

    Raises
    ------
    ValueError
        Naming the first invalid label and its position.

    Examples
    --------
    >>> to_laue_class([4, 36, 216]).tolist()
    ['2/m', 'mmm', 'm-3m']
    """
    return _convert(y, "laue_class")


def to_centring(y: Any) -> np.ndarray | str:
    """Lattice centring letter of each space-group label.

    Parameters
    ----------
    y : int, str or array-like
        Space-group numbers 1..230 or symbols, in any shape.

    Returns
    -------
    ndarray of str or str
        One of ``P, A, B, C, I, F, R`` per label, shaped like ``y``; a ``str``
        for a scalar ``y``.

    Raises
    ------
    ValueError
        Naming the first invalid label and its position.

    Examples
    --------
    >>> to_centring([2, 15, 38, 139, 166, 225]).tolist()
    ['P', 'C', 'A', 'I', 'R', 'F']
    """
    return _convert(y, "centring")


def to_symbol(y: Any) -> np.ndarray | str:
    """Short Hermann–Mauguin symbol of each space-group label.

    Parameters
    ----------
    y : int, str or array-like
        Space-group numbers 1..230 or symbols, in any shape; symbols come back
        in their standard spelling.

    Returns
    -------
    ndarray of str or str
        Symbols of the standard settings, shaped like ``y``; a ``str`` for a
        scalar ``y``.

    Raises
    ------
    ValueError
        Naming the first invalid label and its position.

    Examples
    --------
    >>> to_symbol([14, 62, 225]).tolist()
    ['P2_1/c', 'Pnma', 'Fm-3m']
    >>> to_symbol(np.int64(194))
    'P6_3/mmc'
    >>> to_symbol([1, 231])
    Traceback (most recent call last):
        ...
    ValueError: invalid space group label 231 at position 1
    """
    return _convert(y, "symbol")
