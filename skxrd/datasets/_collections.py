"""Collections of real crystal structures: the bundled Materials Project set and
readers for the collections users have (CIF folders, pymatgen / ASE lists, the
American Mineralogist Crystal Structure Database)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from ..crystal import Crystal, as_crystal, describe_structure, to_crystal_system
from ..crystal._crystal import cif_blocks, trusted_crystal
from ..utils._memo import cache_ignoring_verbose
from ..utils._parallel import parallel_map
from ..utils._warnings import caller_stacklevel

__all__ = [
    "MATERIALS_PROJECT_ATTRIBUTION",
    "CollectionWarning",
    "load_materials_project",
    "load_structures",
    "read_cif_folder",
]

_DATA = Path(__file__).parent / "data"

#: The credit the Materials Project's CC BY 4.0 licence asks for wherever its
#: structures, or models trained on them, are shipped.
MATERIALS_PROJECT_ATTRIBUTION = (
    "Materials Project (A. Jain et al., APL Mater. 1, 011002 (2013)), licensed "
    "CC BY 4.0; the 36,737-structure set of T. Xie and J. C. Grossman, "
    "Phys. Rev. Lett. 120, 145301 (2018), as distributed in the repository "
    "kdmsit/crysxpp (MIT licence)."
)


class CollectionWarning(UserWarning):
    """Some entries of a structure collection could not be used.

    The loaders report them (with the reasons) in the result's ``skipped``
    and warn once per call.

    Examples
    --------
    >>> import warnings
    >>> from skxrd.datasets import CollectionWarning, load_structures
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CollectionWarning)
    ...     data = load_structures(["missing.cif"])
    >>> data.skipped[0][0]
    'missing.cif'
    """


def _group_ids(labels) -> np.ndarray:
    """Integer ids 0, 1, ... in order of first appearance of each label."""
    _, first, inverse = np.unique(
        np.asarray(labels), return_index=True, return_inverse=True
    )
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]


def _bunch(
    crystals,
    ids,
    space_group,
    prototype,
    prototype_elements,
    wyckoff,
    conventional,
    n_conventional,
    skipped,
    descr,
    as_frame,
    extra=None,
    formula=None,
):
    space_group = np.asarray(space_group, dtype=int)
    if formula is None:
        formula = np.array([c.formula for c in crystals], dtype=object)
    formula = np.asarray(formula, dtype=object)
    out = Bunch(
        crystals=list(crystals),
        ids=np.asarray(ids, dtype=object),
        formula=formula,
        space_group=space_group,
        crystal_system=np.asarray(to_crystal_system(space_group))
        if len(space_group)
        else np.zeros(0, dtype=object),
        prototype=np.asarray(prototype, dtype=object),
        prototype_elements=_object_array([tuple(e) for e in prototype_elements]),
        wyckoff=_object_array([tuple(w) for w in wyckoff]),
        groups=_group_ids(prototype) if len(prototype) else np.zeros(0, int),
        formula_groups=_group_ids(formula) if len(formula) else np.zeros(0, int),
        n_atoms=np.array([c.n_atoms for c in crystals], dtype=int),
        conventional_parameters=np.asarray(conventional, dtype=float).reshape(-1, 6),
        n_conventional=np.asarray(n_conventional, dtype=int),
        skipped=list(skipped),
        DESCR=descr,
        **(extra or {}),
    )
    if as_frame:
        out.frame = _frame(out)
    return out


def _object_array(items) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _frame(bunch):
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas comes with the test extra
        raise ImportError("as_frame=True needs pandas: pip install pandas") from None
    a, b, c, al, be, ga = bunch.conventional_parameters.T
    return pd.DataFrame(
        {
            "id": bunch.ids,
            "formula": bunch.formula,
            "space_group": bunch.space_group,
            "crystal_system": bunch.crystal_system,
            "prototype": bunch.prototype,
            "group": bunch.groups,
            "n_atoms": bunch.n_atoms,
            "n_conventional": bunch.n_conventional,
            "a": a,
            "b": b,
            "c": c,
            "alpha": al,
            "beta": be,
            "gamma": ga,
            "crystal": bunch.crystals,
        }
    )


# ----------------------------------------------------------- Materials Project
@cache_ignoring_verbose
def _materials_project_arrays(verbose=False):
    import periodictable

    path = _DATA / "materials_project.npz"
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    symbols = {el.number: el.symbol for el in periodictable.elements}
    species = np.array([symbols.get(z, "X") for z in range(max(symbols) + 1)])
    bounds = np.r_[0, np.cumsum(arrays["n_sites"].astype(np.int64))]
    lattice = arrays["lattice"].reshape(-1, 3, 3) * 1e-6
    frac = arrays["frac"] * 1e-6
    sg = arrays["space_group"].astype(int)
    # The package's own checked file (tools/build_materials_project.py; a test
    # checks every record with Crystal's checks): 36,737 checked Crystal
    # records would take 5-10 s on a CPU, most of it the checks.
    crystals = tuple(
        trusted_crystal(
            lattice[i].copy(),
            species[arrays["atomic_number"][bounds[i] : bounds[i + 1]]].tolist(),
            frac[bounds[i] : bounds[i + 1]].copy(),
            space_group=int(sg[i]),
            name=f"mp-{arrays['id'][i]}",
        )
        for i in tqdm(
            range(len(sg)),
            disable=not verbose,
            desc="loading the Materials Project set",
            unit="structure",
        )
    )
    return arrays, crystals


def load_materials_project(*, as_frame: bool = False, verbose: bool = False) -> Bunch:
    """The 36,737 Materials Project structures bundled with skxrd.

    Inorganic crystal structures (1–200 atoms per primitive cell, 212 space
    groups; crystal systems monoclinic 22.5 %, orthorhombic 20.5 %, cubic
    18.2 %, tetragonal 13.5 %, triclinic 8.6 %, hexagonal 8.5 %, trigonal
    8.3 %), as primitive cells. Some are computed, not measured, structures;
    many formulas occur several times as polymorphs. Group by ``groups``
    (structure prototype) or ``formula_groups`` when splitting for validation.

    Licence: CC BY 4.0. Credit :data:`MATERIALS_PROJECT_ATTRIBUTION` wherever
    the data, or models trained on them, are shipped.

    Parameters
    ----------
    as_frame : bool, default=False
        Also return the metadata (and the crystals) as a pandas DataFrame in
        ``frame`` (needs pandas).
    verbose : bool, default=False
        A progress bar while the structures are read, the first time in a
        process (later calls return them from memory).

    Returns
    -------
    Bunch
        ``crystals`` (list of :class:`~skxrd.crystal.Crystal`, named by id, with
        ``space_group`` set); ``ids`` (``"mp-…"``); ``formula`` (reduced);
        ``space_group`` (spglib at 0.1 Å, the Materials Project's tolerance);
        ``space_group_tight`` (at 0.01 Å; differs for 343 entries);
        ``crystal_system``; ``prototype`` (:func:`~skxrd.crystal.prototype_label`)
        with ``prototype_elements`` (the elements in the order of its letters A,
        B, ...), ``wyckoff`` (the Wyckoff letters spglib assigns to each of
        these elements' orbits) and ``groups``, an integer id per prototype for
        group-aware splits; ``split_groups``, the prototype ids the shipped
        models' held-out split was drawn with (labels of an earlier
        :func:`~skxrd.crystal.prototype_label`, 10,527 of them, frozen so that a
        better labelling does not move structures between the shipped models'
        training and test parts; :func:`~skxrd.pretrained.prototype_split`
        uses them); ``formula_groups``; ``n_atoms`` (sites in the primitive cell);
        ``conventional_parameters`` and ``n_conventional`` (spglib's
        conventional cell); ``skipped`` (empty: every entry loads); ``DESCR``;
        ``frame`` with ``as_frame=True``.

    Examples
    --------
    >>> from skxrd.datasets import load_materials_project
    >>> mp = load_materials_project()
    >>> len(mp.crystals), mp.crystals[1].formula, int(mp.space_group[1])
    (36737, 'BaTe', 225)
    >>> mp.prototype[1], len(set(mp.groups))
    ('AB_225_a_b', 10470)
    """
    arrays, crystals = _materials_project_arrays(verbose=verbose)
    return _bunch(
        crystals,
        [f"mp-{i}" for i in arrays["id"]],
        arrays["space_group"],
        arrays["prototype"],
        [e.split() for e in arrays["prototype_elements"]],
        [w.split() for w in arrays["wyckoff"]],
        arrays["conventional"],
        arrays["n_conventional"],
        [],
        (
            f"{len(crystals)} inorganic crystal structures from the Materials "
            f"Project. Credit: {MATERIALS_PROJECT_ATTRIBUTION}"
        ),
        as_frame,
        extra=dict(
            space_group_tight=arrays["space_group_tight"].astype(int),
            split_groups=arrays["split_group"].astype(int),
        ),
        formula=arrays["formula"],
    )


# ------------------------------------------------------------ user collections
def _describe_chunk(items, symprec):
    """``(index, crystal, description)`` or ``(index, None, reason)`` per item."""
    out = []
    for index, crystal in items:
        try:
            out.append((index, crystal, describe_structure(crystal, symprec)))
        except (ValueError, RuntimeError) as exc:
            out.append((index, None, f"no symmetry: {exc}"))
    return out


def _collect(
    entries,
    skipped,
    *,
    symprec,
    n_jobs,
    verbose,
    what,
    as_frame,
    source_descr,
):
    """Describe the crystals that loaded; report the rest; build the Bunch.

    ``entries``: list of (id, Crystal); ``skipped``: list of (id, reason).
    """
    symprec = _check_symprec(symprec)
    items = list(enumerate(c for _, c in entries))
    size = 256
    chunks = [(items[i : i + size], symprec) for i in range(0, len(items), size)]
    if n_jobs in (None, 1) or len(chunks) < 2:
        parts = [
            _describe_chunk(*c)
            for c in tqdm(chunks, disable=not verbose, desc="describing", unit="chunk")
        ]
    else:
        parts = parallel_map(
            _describe_chunk, chunks, n_jobs=n_jobs, verbose=verbose, desc="describing"
        )
    crystals, ids, described = [], [], []
    skipped = list(skipped)
    for index, crystal, d in (r for part in parts for r in part):
        ident = entries[index][0]
        if crystal is None:
            skipped.append((ident, d))
            continue
        ids.append(ident)
        crystals.append(crystal.replace(space_group=d.space_group, name=str(ident)))
        described.append(d)
    if skipped:
        warnings.warn(
            f"{what}: {len(skipped)} of {len(skipped) + len(crystals)} entries could "
            f"not be used (first: {skipped[0][0]}: {skipped[0][1]}); the list is in "
            "the result's 'skipped'",
            CollectionWarning,
            # the caller of load_structures, read_cif_folder or load_amcsd
            stacklevel=caller_stacklevel(),
        )
    return _bunch(
        crystals,
        ids,
        [d.space_group for d in described],
        [d.prototype for d in described],
        [d.elements for d in described],
        [d.wyckoff for d in described],
        [d.conventional_parameters for d in described],
        [d.n_conventional for d in described],
        skipped,
        f"{len(crystals)} crystal structures from {source_descr}; "
        f"{len(skipped)} entries skipped. Space groups and prototypes from spglib "
        f"at symprec={symprec} Å.",
        as_frame,
    )


def _check_symprec(symprec) -> float:
    """``symprec`` checked once for the whole collection: a bad one failed
    every entry's symmetry search, and every entry was reported skipped."""
    from ..utils._validation import check_real

    return check_real(symprec, "symprec", minimum=0.0, include_min=False)


def _check_jobs(n_jobs):
    """``n_jobs`` checked before any file is read (joblib's own error, raised
    only for collections large enough to split, named no parameter)."""
    from ..utils._validation import check_n_jobs

    return check_n_jobs(n_jobs)


def _short_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    text = text[0] if text else type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


def load_structures(
    structures,
    ids=None,
    *,
    symprec: float = 0.1,
    as_frame: bool = False,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> Bunch:
    """A structure collection from a list of crystals of any kind.

    Takes :class:`~skxrd.crystal.Crystal` objects, pymatgen ``Structure``
    objects, ASE ``Atoms`` or CIF paths, and returns the same Bunch as
    :func:`load_materials_project`. An entry that cannot be converted, or in
    which spglib finds no symmetry (overlapping atoms, say), is reported in
    ``skipped`` with the reason and a :class:`CollectionWarning`; the others
    load.

    Parameters
    ----------
    structures : sequence
        The structures.
    ids : sequence of str, optional
        One id per structure; by default the crystal's name (where it has one)
        or its position.
    symprec : float, default=0.1
        spglib's tolerance (Å) for the space groups and prototypes.
    as_frame : bool, default=False
        Add a pandas DataFrame in ``frame``.
    n_jobs : int, optional
        Parallel workers for the symmetry search.
    verbose : bool, default=False
        Progress bar.

    Returns
    -------
    Bunch
        As :func:`load_materials_project`, with ``space_group`` from spglib and
        ``skipped``, a list of ``(id, reason)``.

    Examples
    --------
    >>> from skxrd.crystal import Crystal
    >>> from skxrd.datasets import load_structures
    >>> nacl = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=5.64)
    >>> mgo = Crystal.from_wyckoff(225, [("Mg", "4a"), ("O", "4b")], a=4.21)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True):  # one entry is reported
    ...     data = load_structures([nacl, mgo, "no-such.cif"], ids=["a", "b", "c"])
    >>> data.ids.tolist(), data.groups.tolist(), data.skipped[0][0]
    (['a', 'b'], [0, 0], 'c')
    """
    _check_symprec(symprec)
    _check_jobs(n_jobs)
    if isinstance(structures, (str, bytes, os.PathLike)) or any(
        hasattr(structures, a) for a in ("lattice", "get_cell")
    ):
        # a lone CIF path was read letter by letter (a pymatgen Structure or
        # ASE Atoms site by site), every entry skipped
        raise ValueError(
            f"structures must be a sequence of structures, got {structures!r}; "
            "for one structure pass [structure]"
        )
    structures = list(structures)
    if ids is not None:
        if isinstance(ids, (str, bytes)):
            raise ValueError(f"ids must be a sequence of ids, got {ids!r}")
        ids = [str(i) for i in ids]
        if len(ids) != len(structures):
            raise ValueError(
                f"ids has {len(ids)} entries for {len(structures)} structures"
            )
    entries, skipped = [], []
    for i, obj in enumerate(structures):
        try:
            crystal = as_crystal(obj, i)
        except (ValueError, TypeError, FileNotFoundError, OSError) as exc:
            ident = ids[i] if ids else (str(obj) if isinstance(obj, str) else str(i))
            skipped.append((ident, _short_error(exc)))
            continue
        ident = ids[i] if ids else (crystal.name or str(i))
        entries.append((ident, crystal))
    return _collect(
        entries,
        skipped,
        symprec=symprec,
        n_jobs=n_jobs,
        verbose=verbose,
        what="load_structures",
        as_frame=as_frame,
        source_descr="a list of structures",
    )


def read_cif_folder(
    folder,
    pattern: str = "*.cif",
    *,
    recursive: bool = True,
    symprec: float = 0.1,
    as_frame: bool = False,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> Bunch:
    """Every CIF in a folder as a structure collection.

    Files are read in sorted order; one that cannot be read (not a CIF, no
    atoms, an unknown element, broken cell) is reported in ``skipped`` with
    the reason and a :class:`CollectionWarning` instead of stopping the load.
    A file with several structures (data blocks with atoms, as a multi-phase
    refinement writes) gives each of them, with the id ``path#block``.

    Parameters
    ----------
    folder : str or path-like
        The folder.
    pattern : str, optional
        File-name pattern (glob), by default ``"*.cif"``; matched
        case-insensitively.
    recursive : bool, default=True
        Also read sub-folders.
    symprec : float, default=0.1
        spglib's tolerance (Å) for the space groups and prototypes.
    as_frame : bool, default=False
        Add a pandas DataFrame in ``frame``.
    n_jobs : int, optional
        Parallel workers for the symmetry search.
    verbose : bool, default=False
        Progress bars.

    Returns
    -------
    Bunch
        As :func:`load_materials_project`; ``ids`` are the paths relative to
        ``folder``; ``skipped`` lists ``(path, reason)``.

    Raises
    ------
    FileNotFoundError
        If ``folder`` is not a folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skxrd.datasets import load_example_crystal, read_cif_folder
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = load_example_crystal("NaCl").to_cif(folder / "nacl.cif")
    >>> _ = (folder / "broken.cif").write_text("data_x\\n_cell_length_a 1\\n")
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     data = read_cif_folder(folder)
    >>> print(caught[0].message)
    read_cif_folder('...'): 1 of 2 entries could not be used (first: broken.cif: ...
    >>> data.ids.tolist(), data.space_group.tolist(), data.skipped[0][0]
    (['nacl.cif'], [225], 'broken.cif')
    """
    _check_symprec(symprec)
    _check_jobs(n_jobs)
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"CIF folder '{root}' does not exist or is no folder")
    glob = root.rglob if recursive else root.glob
    paths = sorted(p for p in glob("*") if p.is_file() and _matches(p.name, pattern))
    entries, skipped = [], []
    errors = (ValueError, TypeError, OSError, UnicodeError)
    for path in tqdm(paths, disable=not verbose, desc="reading CIFs", unit="file"):
        ident = path.relative_to(root).as_posix()
        blocks = _cif_block_names(path)
        if len(blocks) < 2:
            try:
                crystal = Crystal.from_cif(path)
            except errors as exc:
                skipped.append((ident, _short_error(exc)))
                continue
            entries.append((ident, crystal))
            continue
        # a file of several structures (a multi-phase refinement, a database
        # export): each block with atoms, not the first one alone
        found, failed = [], []
        for block in blocks:
            try:
                found.append((block, Crystal.from_cif(path, dataset=block)))
            except errors as exc:
                if "has no atom sites" not in str(exc):  # a block of text only
                    failed.append((block, _short_error(exc)))
        if len(found) + len(failed) == 1:  # one structure (and text blocks)
            entries += [(ident, crystal) for _, crystal in found]
            skipped += [(ident, reason) for _, reason in failed]
        elif not found and not failed:
            skipped.append((ident, "ValueError: no data block with atom sites"))
        else:
            entries += [(f"{ident}#{block}", crystal) for block, crystal in found]
            skipped += [(f"{ident}#{block}", reason) for block, reason in failed]
    return _collect(
        entries,
        skipped,
        symprec=symprec,
        n_jobs=n_jobs,
        verbose=verbose,
        what=f"read_cif_folder('{root}')",
        as_frame=as_frame,
        source_descr=f"the CIF files in {os.fspath(root)}",
    )


def _cif_block_names(path: Path) -> list[str]:
    """The names of a CIF's data blocks, [] where the file cannot be read."""
    try:
        text = path.read_bytes().decode("utf-8-sig", "replace")
    except OSError:
        return []
    return [name for name, _ in cif_blocks(text)]


def _matches(name: str, pattern: str) -> bool:
    from fnmatch import fnmatch

    return fnmatch(name.lower(), pattern.lower())
