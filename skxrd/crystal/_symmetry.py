"""Symmetry operations and Wyckoff orbits parsed from xrayutilities' tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = [
    "WyckoffSite",
    "default_setting",
    "parse_xyz",
    "wyckoff_sites",
]

# Only these characters may appear in a symmetry-operation string: it is evaluated
# as arithmetic, and CIF files are untrusted input.
_XYZ_ALLOWED = re.compile(r"^[xyzXYZ0-9+\-*/.\s]*$")
_IMPLICIT_MUL = re.compile(r"(\d|\))\s*([xyz(])")


@cache
def parse_xyz(expr: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse a symmetry operation such as ``'-y+1/2, x-y, z+1/3'``.

    Parameters
    ----------
    expr : str
        Three comma-separated affine expressions of ``x``, ``y`` and ``z``,
        optionally in parentheses or quotes.

    Returns
    -------
    rotation : ndarray of shape (3, 3)
        Integer-valued matrix ``W`` with ``new = W @ xyz + t``.
    translation : ndarray of shape (3,)

    Examples
    --------
    >>> W, t = parse_xyz("-y+1/2, x-y, z+1/3")
    >>> W.astype(int).tolist(), t.round(4).tolist()
    ([[0, -1, 0], [1, -1, 0], [0, 0, 1]], [0.5, 0.0, 0.3333])
    """
    text = expr.strip().strip("'\"").strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    parts = [p.strip().lower() for p in text.split(",")]
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"symmetry operation {expr!r} does not have three parts")
    W = np.zeros((3, 3))
    t = np.zeros(3)
    basis = [(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)]
    for row, part in enumerate(parts):
        if not _XYZ_ALLOWED.match(part):
            raise ValueError(f"symmetry operation {expr!r} has invalid characters")
        code = _IMPLICIT_MUL.sub(r"\1*\2", part)
        try:
            values = [
                float(eval(code, {"__builtins__": {}}, dict(zip("xyz", b))))  # noqa: S307
                for b in basis
            ]
        except Exception as exc:  # SyntaxError, ZeroDivisionError, ...
            raise ValueError(f"symmetry operation {expr!r} cannot be parsed") from exc
        t[row] = values[0]
        W[row] = np.asarray(values[1:]) - values[0]
    return W, t


@dataclass(frozen=True)
class WyckoffSite:
    """One Wyckoff position of a space-group setting.

    Attributes
    ----------
    label : str
        Multiplicity and letter, e.g. ``"4c"``.
    multiplicity : int
        Number of positions in the conventional cell.
    free : tuple of bool
        Which of x, y, z are free parameters.
    rotations : ndarray of shape (multiplicity, 3, 3)
    translations : ndarray of shape (multiplicity, 3)
        The orbit is ``rotations @ (x, y, z) + translations`` (mod 1).

    See Also
    --------
    wyckoff_sites : The Wyckoff positions of a space-group setting.

    Examples
    --------
    >>> from skxrd.crystal import wyckoff_sites
    >>> site = wyckoff_sites(225)["8c"]          # Fm-3m, the fluorite F site
    >>> site.multiplicity, site.free, site.letter
    (8, (False, False, False), 'c')
    >>> site.positions().shape
    (8, 3)
    """

    label: str
    multiplicity: int
    free: tuple[bool, bool, bool]
    rotations: np.ndarray
    translations: np.ndarray

    @property
    def letter(self) -> str:
        return self.label.lstrip("0123456789")

    def positions(self, xyz=(0.0, 0.0, 0.0)) -> np.ndarray:
        """Fractional coordinates of the orbit for the free parameters ``xyz``.

        Examples
        --------
        >>> site = wyckoff_sites("62")["4c"]
        >>> site.positions((0.1, 0.0, 0.3)).round(2).tolist()[1]
        [0.4, 0.75, 0.8]
        """
        xyz = np.asarray(xyz, dtype=float)
        return np.mod(self.rotations @ xyz + self.translations, 1.0)


def _available_settings() -> dict:
    from xrayutilities.materials.wyckpos import wp

    return wp


def default_setting(space_group: int | str) -> str:
    """The xrayutilities setting key used for a space-group number.

    The ITA standard choice: unique axis b for monoclinic groups, origin choice 2
    where two origins exist, hexagonal axes for rhombohedral groups. A key that
    already names a setting (``"227:1"``) is returned unchanged.

    Examples
    --------
    >>> default_setting(227), default_setting(166), default_setting(14)
    ('227:2', '166:H', '14:b')
    """
    table = _available_settings()
    key = str(space_group).strip()
    if key in table:
        return key
    for suffix in (":2", ":H", ":b"):
        if key + suffix in table:
            return key + suffix
    raise ValueError(
        f"unknown space-group setting {space_group!r}; expected a number 1..230 "
        "or an xrayutilities setting key such as '227:1'"
    )


@cache
def wyckoff_sites(setting: int | str) -> dict[str, WyckoffSite]:
    """All Wyckoff positions of a space-group setting, keyed by label.

    Parameters
    ----------
    setting : int or str
        Space-group number (standard setting) or setting key such as ``"227:1"``.

    Returns
    -------
    dict of str to WyckoffSite
        Ordered from the most special position to the general position.

    Examples
    --------
    >>> sites = wyckoff_sites(225)
    >>> list(sites)[:3], sites["192l"].multiplicity
    (['4a', '4b', '8c'], 192)
    """
    key = default_setting(setting)
    out = {}
    for label, (mask, exprs, _cond) in _available_settings()[key].items():
        ops = [parse_xyz(e) for e in exprs]
        out[label] = WyckoffSite(
            label=label,
            multiplicity=len(ops),
            free=(bool(mask & 1), bool(mask & 2), bool(mask & 4)),
            rotations=np.stack([W for W, _ in ops]),
            translations=np.stack([t for _, t in ops]),
        )
    return out


def general_position(setting: int | str) -> WyckoffSite:
    """The general Wyckoff position, whose orbit lists every symmetry operation."""
    return max(wyckoff_sites(setting).values(), key=lambda s: s.multiplicity)
