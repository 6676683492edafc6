"""Reader for the American Mineralogist Crystal Structure Database (AMCSD) copy
that ships inside the ``larixite`` package (a sqlite file, read with the
standard library; larixite itself is never imported)."""

from __future__ import annotations

import base64
import binascii
import importlib.util
import json
import os
import re
import sqlite3
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from ..crystal import Crystal, lattice_from_parameters, parse_xyz
from ..crystal._crystal import _formula_symbols, _site_orbit
from ._collections import _collect

__all__ = ["AMCSD_ATTRIBUTION", "load_amcsd"]

#: The credit owed wherever AMCSD structures, or models trained on them, are
#: shipped.
AMCSD_ATTRIBUTION = (
    "American Mineralogist Crystal Structure Database (R. T. Downs and "
    "M. Hall-Wallace, Am. Mineral. 88, 247-250 (2003)), as distributed in the "
    "larixite package (M. Newville et al., MIT licence)."
)

_DB_NAME = "amcsd_cif1.db"
_TABLES = ("cif", "spacegroups", "minerals", "cif_elements")
# larixite stores per-site numbers as base64 of int32(value * 4e6); the values
# 2 and 3 stand for the CIF's '?' (unknown) and '.' (inapplicable).
_FARRAY_SCALE = 4.0e6
# Refined occupancies up to this much above 1 are read as 1 (within their esd).
_OCC_SLACK = 1.1
_ESD_RE = re.compile(r"\(\s*\d*\s*\)\s*$")
_ELEMENT_RE = re.compile(r"([A-Z])([a-z]?)")
_WATER_RE = re.compile(r"wat", re.IGNORECASE)
_QUERY = """
SELECT cif.id, cif.formula, cif.a, cif.b, cif.c, cif.alpha, cif.beta, cif.gamma,
       cif.atoms_sites, cif.atoms_x, cif.atoms_y, cif.atoms_z,
       cif.atoms_occupancy, cif.atoms_u_iso, cif.spacegroup_id,
       spacegroups.hm_notation, spacegroups.symmetry_xyz, minerals.name AS mineral
FROM cif
LEFT JOIN spacegroups ON spacegroups.id = cif.spacegroup_id
LEFT JOIN minerals ON minerals.id = cif.mineral_id
ORDER BY cif.id
"""


class _Unusable(ValueError):
    """An entry that cannot be turned into a crystal; the message is the reason."""


def _default_path() -> Path:
    spec = importlib.util.find_spec("larixite")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "load_amcsd reads the AMCSD copy shipped with the 'larixite' package, "
            'which is not installed: pip install "skxrd[amcsd]", or pass '
            "path= to an AMCSD sqlite file"
        )
    return Path(list(spec.submodule_search_locations)[0]) / _DB_NAME


def _connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only and check that it holds the AMCSD tables."""
    if not path.is_file():
        raise FileNotFoundError(f"AMCSD database '{path}' does not exist")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise ValueError(f"AMCSD database '{path}' cannot be opened: {exc}") from None
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        con.close()
        raise ValueError(
            f"'{path}' is not an AMCSD database (not a sqlite file: {exc})"
        ) from None
    missing = [t for t in _TABLES if t not in tables]
    if missing:
        con.close()
        raise ValueError(
            f"'{path}' is not an AMCSD database: it lacks the table(s) {missing}"
        )
    return con


def _number(text, what: str) -> float:
    """A cell parameter such as ``'5.4321(3)'``, ``'3,2518'`` or ``'6.4235,'``."""
    value = str(text).strip() if text is not None else ""
    value = _ESD_RE.sub("", value).strip().rstrip(",").strip()
    if "," in value and "." not in value:
        value = value.replace(",", ".")
    try:
        number = float(value)
    except ValueError:
        raise _Unusable(f"cell parameter {what} = {text!r} is not a number") from None
    if not np.isfinite(number):
        raise _Unusable(f"cell parameter {what} = {text!r} is not finite")
    return number


def _site_values(blob, n: int, what: str) -> np.ndarray | None:
    """Decode one per-site column; None if absent, NaN where '?' or '.'."""
    if blob in (None, "0", 0, ""):
        return None
    try:
        raw = np.frombuffer(base64.b64decode(blob, validate=True), dtype=np.int32)
    except (binascii.Error, ValueError, TypeError):
        raise _Unusable(f"{what} cannot be decoded") from None
    if raw.shape != (n,):
        raise _Unusable(f"{what} has {raw.size} values for {n} sites")
    values = raw / _FARRAY_SCALE
    values[(raw == 2 * _FARRAY_SCALE) | (raw == 3 * _FARRAY_SCALE)] = np.nan
    return values


def _element(label: str, allowed: frozenset[str]) -> str:
    """The element a site label names, checked against the entry's elements.

    The label starts with the element symbol (CIF convention: ``'Si1'``,
    ``'O2a'``, ``'Fe3+M'``, ``'MgM'``, ``'O-H'``); ``'Wat…'`` is the oxygen of
    a water molecule (AMCSD convention) and ``'D…'`` deuterium (listed as H).
    A two-letter symbol wins over its first letter when both are elements of
    the entry. Anything else is not guessed.
    """
    text = str(label).strip()
    if _WATER_RE.match(text):
        candidates = ["O"]
    else:
        m = _ELEMENT_RE.match(text)
        if m is None:
            raise _Unusable(f"site label {label!r} names no element")
        candidates = [m.group(1) + m.group(2)] if m.group(2) else []
        candidates.append(m.group(1))
    for symbol in candidates:
        if symbol in allowed or (symbol == "D" and "H" in allowed):
            return symbol
    raise _Unusable(
        f"site label {label!r} names no element of the entry "
        f"({', '.join(sorted(allowed))})"
    )


def _formula_elements(formula) -> frozenset[str]:
    """The elements of an entry's formula, D and T as H."""
    found = _formula_symbols(formula)
    return frozenset("H" if s in ("D", "T") else s for s in found)


def _operations(xyz_json, hm) -> tuple[np.ndarray, np.ndarray]:
    """Rotations (n, 3, 3) and translations (n, 3) of a spacegroups row."""
    try:
        ops = json.loads(xyz_json) if xyz_json is not None else None
    except (TypeError, ValueError):
        ops = None
    if not isinstance(ops, list) or not ops:
        raise _Unusable(f"space group {hm!r} has no symmetry operations")
    try:
        parsed = [parse_xyz(str(op)) for op in ops]
    except ValueError as exc:
        raise _Unusable(f"space group {hm!r}: {exc}") from None
    return np.stack([w for w, _ in parsed]), np.stack([t for _, t in parsed])


def _entry_crystal(row, elements, op_cache, ident) -> Crystal:
    """One ``cif`` row as a Crystal; raises _Unusable with the reason."""
    cell = [_number(row[k], k) for k in ("a", "b", "c", "alpha", "beta", "gamma")]
    try:
        lattice = lattice_from_parameters(*cell)
    except ValueError as exc:
        raise _Unusable(f"bad cell: {exc}") from None
    try:
        sites = row["atoms_sites"]
        labels = json.loads(sites) if sites is not None else None
    except (TypeError, ValueError):
        labels = None
    if not isinstance(labels, list) or not labels:
        raise _Unusable("no atom sites")
    n = len(labels)
    coords = [_site_values(row[f"atoms_{k}"], n, f"atoms_{k}") for k in "xyz"]
    if any(v is None for v in coords):
        raise _Unusable("no atom coordinates")
    coords = np.stack(coords, axis=1)
    occ = _site_values(row["atoms_occupancy"], n, "atoms_occupancy")
    occ = np.ones(n) if occ is None else np.where(np.isnan(occ), 1.0, occ)
    u_iso = _site_values(row["atoms_u_iso"], n, "atoms_u_iso")
    u_iso = np.zeros(n) if u_iso is None else np.nan_to_num(u_iso, nan=0.0)
    allowed = elements or _formula_elements(row["formula"])
    if not allowed:
        raise _Unusable("no element list to check the site labels against")
    sg_id = row["spacegroup_id"]
    if sg_id not in op_cache:
        try:
            op_cache[sg_id] = _operations(row["symmetry_xyz"], row["hm_notation"])
        except _Unusable as exc:
            op_cache[sg_id] = exc
    ops = op_cache[sg_id]
    if isinstance(ops, Exception):
        raise ops
    rot, trans = ops
    species, frac, occupancy, b_iso, site_labels = [], [], [], [], []
    for k, label in enumerate(labels):
        symbol = _element(label, allowed)
        if not np.all(np.isfinite(coords[k])):
            raise _Unusable(f"site {label!r} has unknown coordinates ('?' or '.')")
        if not 0 < occ[k] <= _OCC_SLACK:
            raise _Unusable(f"site {label!r} has occupancy {occ[k]:g}")
        keep = _site_orbit(coords[k], rot, trans, lattice)
        species += [symbol] * len(keep)
        frac += keep
        occupancy += [min(occ[k], 1.0)] * len(keep)
        # B = 8 pi^2 U; a negative refined U (a handful of entries) counts as 0.
        b_iso += [8 * np.pi**2 * max(u_iso[k], 0.0)] * len(keep)
        site_labels += [str(label)] * len(keep)
    try:
        return Crystal(
            lattice,
            species,
            np.asarray(frac),
            occupancies=occupancy,
            b_iso=b_iso,
            name=ident,
            labels=site_labels,
        )
    except ValueError as exc:
        raise _Unusable(str(exc).replace(f"crystal {ident!r}: ", "")) from None


def load_amcsd(
    path: str | os.PathLike | None = None,
    *,
    symprec: float = 0.1,
    as_frame: bool = False,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> Bunch:
    """The American Mineralogist Crystal Structure Database as a collection.

    Reads the AMCSD copy that the ``larixite`` package ships (9,275 mineral
    structures from the literature, many with partial occupancies) straight
    from its sqlite file, without importing larixite. Each entry's atom sites
    are expanded with its own list of symmetry operations (the space-group
    symbols come in several settings, so ``space_group`` is what spglib finds
    in the atoms, not the symbol); images closer than 0.01 Å merge, as in
    :meth:`~skxrd.crystal.Crystal.from_cif`.

    The element of a site comes from its label (``'Si1'``, ``'Fe3+M'``,
    ``'MgM'``, ``'O-H'``; ``'Wat…'`` is water oxygen, ``'D…'`` deuterium) and
    must be one of the entry's listed elements; species are neutral. Missing
    occupancies are 1 (refined values up to 1.1 are read as 1); B = 8π²U from
    ``U_iso`` (missing, unknown or negative U: B = 0; anisotropic U are not
    used). An entry that cannot be used (unreadable cell, no atoms, a label
    naming no element of the entry, unknown coordinates, no symmetry found) is
    reported in ``skipped`` with the reason and a
    :class:`~skxrd.datasets.CollectionWarning`.

    Source and licence: R. T. Downs and M. Hall-Wallace, "The American
    Mineralogist Crystal Structure Database", Am. Mineral. 88, 247–250 (2003);
    the sqlite copy is larixite's (MIT licence). Credit
    :data:`AMCSD_ATTRIBUTION` wherever the data, or models trained on them,
    are shipped.

    Parameters
    ----------
    path : str or path-like, optional
        An AMCSD sqlite file in larixite's schema. By default the
        ``amcsd_cif1.db`` inside the installed larixite package
        (``pip install "skxrd[amcsd]"``).
    symprec : float, default=0.1
        spglib's tolerance (Å) for the space groups and prototypes.
    as_frame : bool, default=False
        Add a pandas DataFrame in ``frame`` (with a ``mineral`` column).
    n_jobs : int, optional
        Parallel workers for the symmetry search.
    verbose : bool, default=False
        Progress bars.

    Returns
    -------
    Bunch
        As :func:`~skxrd.datasets.load_structures`; ``ids`` are
        ``"amcsd-<AMCSD code>"`` with the database's seven-digit code
        (``"amcsd-0000003"``), also each crystal's ``name``; ``mineral``, the
        mineral names aligned with ``crystals`` (``""`` where the database has
        none); ``skipped``, a list of ``(id, reason)``.

    Raises
    ------
    ImportError
        If ``path`` is not given and larixite is not installed.
    FileNotFoundError
        If the database file does not exist.
    ValueError
        If the file is not an AMCSD sqlite database.

    Examples
    --------
    The database that larixite ships:

    >>> from skxrd.datasets._amcsd import load_amcsd
    >>> amcsd = load_amcsd()  # doctest: +SKIP
    >>> amcsd.ids[0], amcsd.mineral[0], int(amcsd.space_group[0])  # doctest: +SKIP
    ('amcsd-0000003', 'Galena', 225)

    Any file in its schema, here a one-entry database written on the spot:

    >>> import base64, json, sqlite3, tempfile, pathlib
    >>> import numpy as np
    >>> def farray(values):
    ...     scaled = (np.asarray(values) * 4e6).round().astype(np.int32)
    ...     return base64.b64encode(scaled.tobytes()).decode()
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "mini.db"
    >>> con = sqlite3.connect(db)
    >>> _ = con.executescript(
    ...     "CREATE TABLE spacegroups (id INTEGER, hm_notation TEXT,"
    ...     " symmetry_xyz TEXT);"
    ...     "CREATE TABLE minerals (id INTEGER, name TEXT);"
    ...     "CREATE TABLE cif_elements (cif_id TEXT, element TEXT);"
    ...     "CREATE TABLE cif (id INTEGER, mineral_id INTEGER, spacegroup_id"
    ...     " INTEGER, formula TEXT, a TEXT, b TEXT, c TEXT, alpha TEXT, beta TEXT,"
    ...     " gamma TEXT, atoms_sites TEXT, atoms_x TEXT, atoms_y TEXT,"
    ...     " atoms_z TEXT, atoms_occupancy TEXT, atoms_u_iso TEXT);"
    ...     "INSERT INTO minerals VALUES (1, 'Salammoniac');"
    ...     "INSERT INTO cif_elements VALUES ('7', 'Cs'), ('7', 'Cl');")
    >>> _ = con.execute(
    ...     "INSERT INTO spacegroups VALUES (1, 'P 1', ?)", [json.dumps(["x,y,z"])])
    >>> _ = con.execute(
    ...     "INSERT INTO cif VALUES (7, 1, 1, 'Cs Cl', '4.12(1)', '4.12', '4.12',"
    ...     " '90', '90', '90', ?, ?, ?, ?, '0', ?)",
    ...     [json.dumps(["Cs1", "Cl1"]), farray([0, 0.5]), farray([0, 0.5]),
    ...      farray([0, 0.5]), farray([0.01, 2.0])])  # U of Cl is '?'
    >>> con.commit(); con.close()
    >>> data = load_amcsd(db)
    >>> data.ids.tolist(), data.mineral.tolist(), data.space_group.tolist()
    (['amcsd-0000007'], ['Salammoniac'], [221])
    >>> data.crystals[0].b_iso.round(3).tolist()
    [0.79, 0.0]
    """
    from ..utils._validation import check_n_jobs

    check_n_jobs(n_jobs)  # before a minute of reading the database
    path = _default_path() if path is None else Path(path)
    con = _connect(path)
    try:
        elements: dict[int, set[str]] = {}
        for cif_id, element in con.execute("SELECT cif_id, element FROM cif_elements"):
            try:
                elements.setdefault(int(cif_id), set()).add(str(element).strip())
            except (TypeError, ValueError):
                continue
        con.row_factory = sqlite3.Row
        rows = con.execute(_QUERY).fetchall()
    except sqlite3.Error as exc:
        raise ValueError(f"AMCSD database '{path}' cannot be read: {exc}") from None
    finally:
        con.close()

    entries, skipped, minerals = [], [], {}
    op_cache: dict = {}
    for row in tqdm(rows, disable=not verbose, desc="reading AMCSD", unit="entry"):
        ident = f"amcsd-{int(row['id']):07d}"
        name = row["mineral"]
        minerals[ident] = "" if name in (None, "<missing>") else str(name)
        try:
            crystal = _entry_crystal(
                row, frozenset(elements.get(int(row["id"]), ())), op_cache, ident
            )
        except _Unusable as exc:
            skipped.append((ident, str(exc)))
            continue
        entries.append((ident, crystal))
    out = _collect(
        entries,
        skipped,
        symprec=symprec,
        n_jobs=n_jobs,
        verbose=verbose,
        what=f"load_amcsd('{path}')",
        as_frame=as_frame,
        source_descr=(
            f"the American Mineralogist Crystal Structure Database ({path.name}). "
            f"Credit: {AMCSD_ATTRIBUTION}"
        ),
    )
    out.mineral = np.array([minerals[i] for i in out.ids], dtype=object)
    if as_frame:
        out.frame.insert(2, "mineral", out.mineral)
    return out
