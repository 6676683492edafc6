"""The on-disk cache of :func:`make_pattern_dataset`: arrays and JSON, no pickle.

A cache folder may be shared or copied from elsewhere, so reading it must not
run code (a joblib cache unpickles its entries). Each dataset is one ``.npz``
read with ``allow_pickle=False``: numeric and text arrays as they are, the
crystals packed into arrays, everything else (settings, names) as JSON. An
entry that cannot be read or that holds something else is rebuilt, with a
warning, never returned.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..utils._warnings import caller_stacklevel

FORMAT = "skxrd-dataset-cache/1"
# What the same arguments give: raised with every change to the simulation or
# the generators that alters their output (the package version alone stays
# the same between releases, and a cache built before such a change returned
# the old data). 2: International Tables wavelengths, merged lines at their
# centroid, Np/Pu form factors, random crystals checked at 1e-2 Å (2026-12-07).
# 3: prototype labels over the normalizer (the Materials Project groups),
# variants of supercells in their whole group, phases of wrapped coordinates,
# lines at the range limits (2026-12-07). 4: partly occupied orbits of
# variants as fractions of the source's occupancy (2026-12-07). 5: crystal
# prototypes of structure types that strain broke varied in their standard
# conventional cell (2026-12-07). 6: random crystals of more than 64 orbits
# (P1 asked for over 64 atoms, and CrystalPrior's random-site fallback of
# such sizes) no longer cut short at 64 orbits (2026-12-07). 7: structure-type
# compounds of partly occupied prototypes (inverse spinel) scaled by
# occupancy-weighted covalent volumes (2026-12-07). 8: a space group listed
# twice in make_random_crystals' space_groups counts once (2026-12-07). 9:
# CrystalPrior's random-site crystals (groups without a learned prototype)
# take the number of elements with the fitted frequencies (2026-12-07). 10:
# make_random_crystals tries max_attempts more with only the general position
# repeated before its RuntimeError, so a CrystalPrior random-site draw that
# failed is now placed rather than drawn again (2026-12-07). 11: perturb_crystals
# displaces and empties shared (mixed) sites as a whole; make_random_crystals
# deals out space_groups and elements in increasing order, whatever order they
# are listed in (the shipped configs' crystals are unchanged) (2026-12-07).
DATA_REVISION = 11
_FOLDER = "skxrd-datasets"
_CRYSTAL_ARRAYS = ("lattice", "n_atoms", "frac_coords", "occupancies", "b_iso")


def _key_value(value):
    """``value`` in a form whose hash does not depend on lazily filled caches."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        params = value.get_params(deep=False)
        return (type(value).__qualname__, {k: _key_value(v) for k, v in params.items()})
    if isinstance(value, dict):
        return {str(k): _key_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_key_value(v) for v in value]
    return value


def cache_path(location, arguments) -> Path:
    """The cache file of a dataset built from ``arguments``."""
    import joblib

    from .. import __version__

    key = joblib.hash((FORMAT, DATA_REVISION, __version__, _key_value(arguments)))
    return Path(os.path.expanduser(os.fspath(location))) / _FOLDER / f"{key}.npz"


def cached(build, path: Path, **arguments) -> Bunch:
    """``build(**arguments)``, read from ``path`` when it holds it already."""
    if path.is_file():
        try:
            return read(path)
        except (
            OSError,
            ValueError,
            KeyError,
            IndexError,
            TypeError,
            EOFError,
            zipfile.BadZipFile,
        ) as exc:
            warnings.warn(
                f"dataset cache entry {path} cannot be read ({exc}); building the "
                "dataset again and replacing it",
                UserWarning,
                # the user's line, also when train_from_config built the data
                stacklevel=caller_stacklevel(),
            )
    data = build(**arguments)
    write(data, path)
    return data


# ----------------------------------------------------------------- writing
def _to_json(value):
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return {"__array__": _to_json(value.tolist())}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_from_json(v) for v in value["__tuple__"])
        if set(value) == {"__array__"}:
            return np.asarray(_from_json(value["__array__"]))
        return {k: _from_json(v) for k, v in value.items()}
    return value


def _is_crystals(value) -> bool:
    from ..crystal import Crystal

    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(isinstance(c, Crystal) for c in value)
    )


def write(data: Bunch, path: Path) -> None:
    """Store ``data`` in ``path`` (atomically: never a half-written entry)."""
    arrays, kinds = {}, {}
    for key, value in data.items():
        if _is_crystals(value):
            kinds[key] = "crystals"
            lattice = np.stack([c.lattice for c in value])
            arrays[f"{key}.lattice"] = lattice
            arrays[f"{key}.n_atoms"] = np.array([c.n_atoms for c in value])
            for name in ("frac_coords", "occupancies", "b_iso"):
                arrays[f"{key}.{name}"] = np.concatenate(
                    [getattr(c, name) for c in value]
                )
            arrays[f"{key}.species"] = np.array(
                [s for c in value for s in c.species], dtype=str
            )
            meta = [
                [c.space_group, c.name, None if c.labels is None else list(c.labels)]
                for c in value
            ]
            arrays[f"{key}.meta"] = np.array(json.dumps(meta))
        elif isinstance(value, np.ndarray) and value.dtype != object:
            kinds[key] = "array"
            arrays[key] = value
        elif (
            isinstance(value, np.ndarray)
            and value.ndim == 1
            and all(isinstance(v, str) for v in value)
        ):
            kinds[key] = "text"  # object arrays of str come back as such
            arrays[key] = value.astype(str)
        else:
            kinds[key] = "json"
            arrays[key] = np.array(json.dumps(_to_json(value)))
    arrays["__format__"] = np.array(FORMAT)
    arrays["__kinds__"] = np.array(json.dumps(kinds))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


# ----------------------------------------------------------------- reading
# the entries with one row per pattern
_PER_PATTERN = ("X", "y", "groups", "space_group", "crystals", "source", "ids")


def read(path: Path) -> Bunch:
    """The dataset stored in ``path``; ValueError when it is not one."""
    from ..crystal import Crystal

    with np.load(path, allow_pickle=False) as f:
        if "__format__" not in f.files or str(f["__format__"]) != FORMAT:
            raise ValueError(f"not a skxrd dataset cache entry ({FORMAT})")
        kinds = json.loads(str(f["__kinds__"]))
        out = Bunch()
        for key, kind in kinds.items():
            if kind == "array":
                out[key] = f[key]
            elif kind == "text":
                out[key] = f[key].astype(object)
            elif kind == "json":
                out[key] = _from_json(json.loads(str(f[key])))
            elif kind == "crystals":
                parts = {n: f[f"{key}.{n}"] for n in _CRYSTAL_ARRAYS}
                species = f[f"{key}.species"].tolist()
                meta = json.loads(str(f[f"{key}.meta"]))
                ends = np.cumsum(parts["n_atoms"])
                if len(meta) != len(ends) or ends[-1] != len(species):
                    raise ValueError("its crystals' arrays do not agree in length")
                crystals, start = [], 0
                for i, end in enumerate(ends):
                    sg, name, labels = meta[i]
                    crystals.append(
                        Crystal(
                            parts["lattice"][i],
                            species[start:end],
                            parts["frac_coords"][start:end],
                            parts["occupancies"][start:end],
                            parts["b_iso"][start:end],
                            space_group=sg,
                            name=name,
                            labels=labels,
                        )
                    )
                    start = end
                out[key] = crystals
            else:
                raise ValueError(f"unknown entry kind {kind!r}")
    # one row per pattern in every per-pattern part: a damaged entry is not
    # a dataset whose X and y disagree
    rows = {
        key: len(value)
        for key, value in out.items()
        if key in _PER_PATTERN and value is not None
    }
    if len(set(rows.values())) > 1:
        raise ValueError(f"its parts disagree in length: {rows}")
    return out
