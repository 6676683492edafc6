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
# numbers (12, 0.25, .5, 1e-3), x/y/z and the four operators, nothing else
_XYZ_TOKEN = re.compile(r"\s*(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+|[xyz]|[-+*/])")


def _shown(expr) -> str:
    text = repr(str(expr))
    return text if len(text) <= 80 else text[:60] + f"... ({len(text)} characters)"


def _bad(expr, why: str) -> ValueError:
    return ValueError(f"symmetry operation {_shown(expr)} {why}")


def _affine(part: str, expr: str) -> np.ndarray:
    """``(t, wx, wy, wz)`` of one affine expression such as ``-y+1/2``.

    Parsed, not evaluated: the symmetry operators of a CIF come from whoever
    wrote the file (``eval`` of one runs its code, and ``9**9**9`` never
    ends). A term is a product or quotient of numbers with at most one of
    x, y, z, which may not be a divisor: ``2x``, ``1/2``, ``x*2``, ``-3/4``.
    """
    tokens, pos = [], 0
    while pos < len(part):
        m = _XYZ_TOKEN.match(part, pos)
        if m is None or m.end() == pos:
            if not part[pos:].strip():
                break
            raise _bad(expr, "has invalid characters")
        tokens.append(m.group(1))
        pos = m.end()
    if not tokens or len(tokens) > 64:
        raise _bad(expr, "cannot be parsed")
    out = np.zeros(4)
    i = 0
    while i < len(tokens):
        sign = 1.0
        while i < len(tokens) and tokens[i] in "+-":
            sign = -sign if tokens[i] == "-" else sign
            i += 1
        coef, var, op, seen = sign, 0, "*", False
        while i < len(tokens) and tokens[i] not in "+-":
            tok = tokens[i]
            if tok in "*/":
                if not seen:
                    raise _bad(expr, "cannot be parsed")
                op, seen = tok, False
            elif tok in "xyz":
                if var or op == "/":
                    raise _bad(expr, "is not affine")
                var, op, seen = "xyz".index(tok) + 1, "*", True
            else:
                value = float(tok)
                if op == "/":
                    if value == 0:
                        raise _bad(expr, "divides by 0")
                    coef /= value
                else:
                    coef *= value
                op, seen = "*", True  # "2x": an implicit product
            i += 1
        if not seen:
            raise _bad(expr, "cannot be parsed")
        out[var] += coef
    if not np.all(np.isfinite(out)) or np.any(np.abs(out) > 1e6):
        raise _bad(expr, "has impossible numbers")
    return out


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

    Raises
    ------
    ValueError
        For anything but three affine expressions (the text is parsed, never
        evaluated as code).

    Examples
    --------
    >>> W, t = parse_xyz("-y+1/2, x-y, z+1/3")
    >>> W.astype(int).tolist(), t.round(4).tolist()
    ([[0, -1, 0], [1, -1, 0], [0, 0, 1]], [0.5, 0.0, 0.3333])
    """
    text = str(expr).strip().strip("'\"").strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    parts = [p.strip().lower() for p in text.split(",")]
    if len(parts) != 3 or not all(parts):
        raise _bad(expr, "does not have three parts")
    W = np.zeros((3, 3))
    t = np.zeros(3)
    for row, part in enumerate(parts):
        values = _affine(part, expr)
        t[row] = values[0]
        W[row] = values[1:]
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


def _letter_rank(letter: str) -> tuple[bool, str]:
    """Sort key of a Wyckoff letter in International Tables order: a..z, A."""
    return (letter.isupper(), letter)


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
    # Letters run a..z then A (Pmmm's general position 8A), but xrayutilities
    # lists "8A" first: sort by letter so the general position comes last.
    table = _available_settings()[key]
    for label in sorted(table, key=lambda lab: _letter_rank(lab.lstrip("0123456789"))):
        mask, exprs, _cond = table[label]
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
