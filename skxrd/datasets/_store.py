"""Pattern datasets larger than memory: resumable HDF5 pattern stores.

:func:`write_pattern_store` simulates random-crystal patterns chunk by chunk
into one HDF5 file; :class:`PatternStore` reads it back a few rows at a time.
The deep classifiers of :mod:`skxrd.estimators` train from a store and predict
on one without loading the patterns into memory::

    store = write_pattern_store("sg.h5", 1_000_000, random_state=0, n_jobs=-1)
    clf = ResNetClassifier().fit(store)   # labels: the store's target

Each chunk of ``chunk_size`` crystals is drawn from its own seed, derived only
from ``random_state`` and the chunk's index (:class:`numpy.random.SeedSequence`
spawning), so the file's content is the same for any ``n_jobs``, on any number
of machines, and however often the writing was interrupted and resumed.

Running on a cluster
--------------------
Crystal generation and simulation go through joblib, so a Dask cluster takes
them over with :func:`joblib.parallel_config`; the result is identical to the
default backend's. Give ``n_jobs`` other than 1 (with ``n_jobs=1`` everything
runs in the calling process) and a ``chunk_size`` of many crystals per worker::

    import joblib
    from dask.distributed import Client, LocalCluster

    from skxrd.datasets import write_pattern_store

    if __name__ == "__main__":  # worker processes re-import the script
        # one machine; on a cluster: Client("tcp://scheduler:8786"), or a
        # dask_jobqueue.SLURMCluster(...) with cluster.scale(jobs=10)
        with (
            LocalCluster(n_workers=16, threads_per_worker=1) as cluster,
            Client(cluster),
            joblib.parallel_config(backend="dask"),
        ):
            store = write_pattern_store(
                "sg-1M.h5", 1_000_000, chunk_size=20_000, random_state=0, n_jobs=-1
            )

The file is written by the calling process only (the workers send back
patterns), so it needs no shared file system. Use ``threads_per_worker=1``:
the work is in Python and numpy, and one thread per process avoids
oversubscribing the cores. When the job is stopped (a wall-time limit, a lost
node), calling :func:`write_pattern_store` again with the same arguments
continues at the first unfinished chunk; ``max_chunks`` bounds the work of one
call, to fit it into a batch job's time limit.
"""

from __future__ import annotations

import json
import numbers
import os
import threading
import warnings
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.utils import Bunch

from ..simulation import PowderSimulator
from ._cache import DATA_REVISION

__all__ = ["PatternStore", "write_pattern_store"]

_FORMAT = "skxrd.pattern_store"
_FORMAT_VERSION = 1
# Size of one HDF5 chunk of X (rows are read in such units).
_CHUNK_BYTES = 1 << 20
# HDF5 chunk cache of an open store: holds the rows the estimators shuffle
# together (a group of 32 MiB of rows, see skxrd.estimators) with room to spare.
_CACHE_BYTES = 64 << 20
# Settings of the simulator that do not change the patterns (max_reflections
# only refuses crystals: a store resumes whatever it was, as before it existed).
_RUNTIME_PARAMS = ("n_jobs", "verbose", "max_reflections")
# Settings compared when a store is resumed, in the order they are reported.
_CONFIG_KEYS = (
    "target",
    "n_crystals",
    "chunk_size",
    "random_state",
    "space_groups",
    "elements",
    "n_atoms",
    "simulator",
    "source",
    "n_variants",
    "variants",
    "instrument",
)
# Values of settings that stores written by older versions do not record.
_CONFIG_DEFAULTS = {
    "source": None,
    "n_variants": 1,
    "variants": None,
    "instrument": None,
}


def _jsonable(value):
    """``value`` in plain JSON types (tuples and arrays as lists)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray | list | tuple | range):
        return [_jsonable(v) for v in value]
    raise ValueError(f"cannot record the setting {value!r} in a pattern store")


def _chunk_seed(entropy: int, index: int) -> int:
    """Seed of chunk ``index``: child ``index`` of ``SeedSequence(entropy)``.

    A 128-bit integer that depends only on ``entropy`` and ``index``.
    """
    child = np.random.SeedSequence(entropy, spawn_key=(index,))
    words = child.generate_state(4, np.uint32)
    return sum(int(w) << (32 * i) for i, w in enumerate(words))


def _open(path: Path, mode: str, **kwargs):
    """``h5py.File``, with one clear error for unreadable files."""
    import h5py

    if not path.exists():
        raise FileNotFoundError(f"no pattern store at {os.fspath(path)!r}")
    try:
        return h5py.File(path, mode, **kwargs)
    except OSError as exc:
        text = str(exc)
        # HDF5 refuses a file open elsewhere: in this process with other
        # access ("already open"), or locked by another process. Not damage.
        if "already open" in text:
            where = "in this process (an h5py.File not closed?)"
        elif "unable to lock file" in text:
            where = (
                "by another process (HDF5 file locks: a store being written, "
                "or read while it is written)"
            )
        else:
            raise OSError(
                f"cannot read {os.fspath(path)!r} as an HDF5 file (truncated or "
                f"corrupt?): {exc}"
            ) from None
        action = "for reading" if mode == "r" else "for writing"
        raise OSError(
            f"cannot open {os.fspath(path)!r} {action}: it is open {where}; "
            f"close it there first: {exc}"
        ) from None


# The PatternStores of this process that hold their file open. HDF5 does not
# open for writing a file that this process has open for reading, so
# write_pattern_store has them let go of the file while it writes.
_OPEN_STORES: weakref.WeakSet = weakref.WeakSet()
# The files that write_pattern_store is writing (real path -> its thread).
# A store of such a file waits for the write to end before it opens the
# file: read in another thread, it had reopened the file between its release
# and the writer's "r+" open (HDF5: "already open"). _FILE_LOCK guards
# _WRITING and _OPEN_STORES and is held while a store reads, so that the
# writer never closes a file under a read; a read of another file waits for
# no write.
_FILE_LOCK = threading.RLock()
_FILE_WRITTEN = threading.Condition(_FILE_LOCK)
_WRITING: dict[str, int] = {}


def _after_fork_in_child() -> None:
    """Fresh locks and bookkeeping in a forked child (a ``multiprocessing``
    "fork" worker, a DataLoader worker on Linux).

    The child has only the thread that forked: a lock held by another thread
    of the parent (a read, a write) would never be released there, and a write
    in progress in the parent never ends there. The stores' HDF5 handles are
    the parent's: each store drops its own and opens the file again on its
    first use in the child (:meth:`PatternStore._current`); h5py is not called
    here, as its own fork handlers may not have run yet.
    """
    global _FILE_LOCK, _FILE_WRITTEN, _OPEN_STORES, _WRITING
    _FILE_LOCK = threading.RLock()
    _FILE_WRITTEN = threading.Condition(_FILE_LOCK)
    # a new set: the old one may be mid-iteration in a thread that is gone
    _OPEN_STORES = weakref.WeakSet(list(_OPEN_STORES))
    _WRITING = {}


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _file_key(path) -> str:
    return os.path.normcase(os.path.realpath(path))


@contextmanager
def _writing(path: Path):
    """Hold ``path`` for writing: this process's stores of it let go of the
    file (and wait, if read meanwhile) until the block ends, then read it
    again; another write of it waits for this one."""
    key = _file_key(path)
    with _FILE_LOCK:
        while key in _WRITING:
            _FILE_WRITTEN.wait()
        released = _release_stores(path) if path.exists() else []
        _WRITING[key] = threading.get_ident()
    try:
        yield
    finally:
        with _FILE_LOCK:
            del _WRITING[key]
            _FILE_WRITTEN.notify_all()
            for store in released:
                store._reopen_quietly()


def _release_stores(path: Path) -> list:
    """Close the file handles of this process's stores of ``path``; returns the
    stores, which read the file again when next used."""
    released = []
    for store in list(_OPEN_STORES):
        try:
            same = os.path.samefile(store._abspath, path)
        except OSError:  # its file is gone or moved
            same = False
        if same:
            store._release()
            released.append(store)
    return released


def _check_store(f, path: Path):
    if f.attrs.get("format") != _FORMAT:
        f.close()
        raise ValueError(
            f"{os.fspath(path)!r} is an HDF5 file but not a pattern store "
            "(written by skxrd.datasets.write_pattern_store)"
        )
    version = int(f.attrs.get("format_version", 0))
    if version > _FORMAT_VERSION:
        f.close()
        raise ValueError(
            f"{os.fspath(path)!r} is a pattern store of format version {version}; "
            f"this skxrd reads up to version {_FORMAT_VERSION}: upgrade skxrd"
        )


# Parameters of the simulator and the instrument sampler that stores written
# before they existed do not record, at the values those stores were made with
# (without them, such a store could not be resumed).
_PARAM_DEFAULTS = {
    "simulator": {"kbeta": 0.0, "polarization": None},
    "instrument": {"kbeta": None},
}


def _stored_config(f) -> dict:
    config = {
        key: json.loads(f.attrs[key + "_json"])
        if key + "_json" in f.attrs
        else _CONFIG_DEFAULTS[key]  # a store written before the setting existed
        for key in _CONFIG_KEYS
    }
    for key, defaults in _PARAM_DEFAULTS.items():
        if isinstance(config[key], dict):
            config[key] = {**defaults, **config[key]}
    return config


def _chunk_rows(chunk_size: int, n: int, n_points: int) -> int:
    """Rows of one HDF5 chunk of X: about 1 MiB, a divisor of ``chunk_size``
    when one is close (then no HDF5 chunk straddles two written chunks)."""
    limit = int(max(1, min(chunk_size, n, _CHUNK_BYTES // (4 * n_points))))
    for rows in range(limit, limit // 2, -1):
        if chunk_size % rows == 0:
            return rows
    return limit


def _create(path: Path, config: dict, entropy: int, two_theta, target_names, y_int):
    """An empty store with all datasets at their final size, put in place at once.

    Written under a temporary name and renamed, so that an interruption leaves
    either no file or an empty store.
    """
    import h5py

    n, n_points = config["n_crystals"], len(two_theta)
    part = path.with_name(path.name + ".part")
    with h5py.File(part, "w") as f:
        # HDF5 has no journal and checks nothing it reads: a checksum per
        # chunk (fletcher32) turns damaged bytes into a read error instead of
        # wrong patterns or labels
        f.create_dataset(
            "X",
            (n, n_points),
            dtype="f4",
            chunks=(_chunk_rows(config["chunk_size"], n, n_points), n_points),
            fletcher32=True,
        )
        text = h5py.string_dtype("utf-8")
        if y_int:
            f.create_dataset("y", (n,), dtype="i4", fletcher32=True)
        else:
            f.create_dataset("y", (n,), dtype=text)
        f.create_dataset("space_group", (n,), dtype="i2", fletcher32=True)
        f.create_dataset("formula", (n,), dtype=text)
        lattice = f.create_dataset(
            "lattice_parameters", (n, 6), dtype="f8", fletcher32=True
        )
        lattice.attrs["columns"] = "a b c alpha beta gamma"
        lattice.attrs["units"] = "angstrom, degrees"
        f.create_dataset("n_atoms", (n,), dtype="i4", fletcher32=True)
        f.create_dataset("two_theta", data=np.asarray(two_theta, dtype="f8"))
        names = np.asarray(target_names)
        f.create_dataset(
            "target_names",
            data=names if y_int else names.astype(object),
            dtype="i4" if y_int else text,
        )
        from .. import __version__

        f.attrs["format"] = _FORMAT
        f.attrs["format_version"] = _FORMAT_VERSION
        f.attrs["skxrd_version"] = __version__
        # the generator's revision (datasets._cache.DATA_REVISION): the same
        # settings give other crystals under another one, and a resumed store
        # would mix them
        f.attrs["data_revision"] = DATA_REVISION
        f.attrs["target"] = config["target"]
        f.attrs["n_crystals"] = n
        f.attrs["chunk_size"] = config["chunk_size"]
        f.attrs["entropy"] = str(entropy)
        for key in _CONFIG_KEYS:
            value = config.get(key, _CONFIG_DEFAULTS.get(key))
            f.attrs[key + "_json"] = json.dumps(value, sort_keys=True)
        f.attrs["n_complete_chunks"] = 0
    os.replace(part, path)


def _write_rows(f, start: int, data: Bunch):
    """Write one chunk's rows (patterns, labels, crystal metadata) from ``start``."""
    stop = start + len(data.X)
    crystals = data.crystals
    f["X"][start:stop] = data.X
    y = np.asarray(data.y)
    f["y"][start:stop] = y if y.dtype.kind in "iu" else y.astype(object)
    f["space_group"][start:stop] = data.space_group
    f["formula"][start:stop] = np.array([c.formula for c in crystals], dtype=object)
    f["lattice_parameters"][start:stop] = [c.lattice_parameters for c in crystals]
    f["n_atoms"][start:stop] = [c.n_atoms for c in crystals]


def write_pattern_store(
    path: str | os.PathLike,
    n_crystals: int,
    *,
    target: str = "space_group",
    simulator: PowderSimulator | None = None,
    chunk_size: int = 10_000,
    space_groups=None,
    elements=None,
    n_atoms=(4, 40),
    source=None,
    n_variants: int = 1,
    variants=None,
    instrument=None,
    random_state: int | None = None,
    n_jobs: int | None = None,
    verbose: bool = True,
    resume: bool = True,
    max_chunks: int | None = None,
) -> PatternStore:
    """Write simulated patterns into an HDF5 file, chunk by chunk, resumably.

    The out-of-core counterpart of :func:`make_pattern_dataset` (symmetry
    targets): ``chunk_size`` crystals at a time are made, simulated and
    written, so memory holds one chunk whatever ``n_crystals``. Chunk ``k`` is
    drawn from a seed derived only from ``random_state`` and ``k``: the file is
    the same for any ``n_jobs`` and however often writing was interrupted and
    resumed. With the default source, the space groups within a chunk are
    balanced as in :func:`make_random_crystals`; with real structures, each
    chunk draws its structures at random.

    After each chunk is written and flushed, the file's attribute
    ``n_complete_chunks`` is updated; calling the function again with the same
    arguments continues at the first incomplete chunk and never rewrites
    complete ones. HDF5 has no journal: a process killed in the middle of a
    write (not an interruption with Ctrl-C, which closes the file cleanly) can
    leave a file that no longer opens; :class:`PatternStore` then says so.
    The patterns and the numeric labels carry a checksum per HDF5 chunk:
    bytes damaged later make reading them an ``OSError`` that names the file,
    not wrong patterns.

    Parameters
    ----------
    path : str or path-like
        The HDF5 file (``.h5``), created if it does not exist.
    n_crystals : int
        Number of patterns.
    target : {"space_group", "crystal_system", "bravais_lattice", \
"point_group"}, default="space_group"
        The labels stored as ``y``.
    simulator : PowderSimulator, optional
        The simulator; by default ``PowderSimulator()`` (Cu Kα, 5–90° 2θ,
        4250 points: 17 kB per pattern). Its ``n_jobs`` and ``verbose`` are
        ignored.
    chunk_size : int, default=10_000
        Crystals per chunk: the unit of work, of memory and of resumption.
    space_groups, elements, n_atoms
        Passed to :func:`make_random_crystals` (``"uniform"``); a
        ``ValueError`` where ``source`` has no ``"uniform"`` part.
    source : str or dict, optional
        A named source (``"uniform"``, ``"realistic"``,
        ``"realistic_minerals"``, ``"materials_project"``, ``"amcsd"``) or a
        mixture of them ``{name: weight}``, as
        in :func:`make_pattern_dataset` (only names: the store records its
        settings in the file to resume).
    n_variants, variants, instrument
        As in :func:`make_pattern_dataset` (``instrument`` an
        :class:`~skxrd.simulation.InstrumentSampler` or a dict of its
        options).
    random_state : int, optional
        Seed. None draws one, recorded in the file so that resuming continues
        with it.
    n_jobs : int, optional
        Parallel workers (joblib) for generation and simulation within a chunk;
        ``joblib.parallel_config(backend="dask")`` sends them to a Dask cluster
        (see the module's documentation). Does not change the result.
    verbose : bool, default=True
        A progress bar over the chunks.
    resume : bool, default=True
        When ``path`` exists: continue it (True) if it was written with the
        same settings, else raise ``ValueError``; with False raise
        ``FileExistsError`` (an existing file is never overwritten).
    max_chunks : int, optional
        Write at most this many chunks in this call, then return (the store is
        incomplete until a later call finishes it): splits the work across
        batch jobs with a time limit.

    Returns
    -------
    PatternStore
        The store, open for reading (close it, or use it in a ``with`` block).
        Its ``is_complete`` is False when ``max_chunks`` stopped the writing.
        Stores of ``path`` still open in this process (the one a previous
        call returned) stay usable and then show the new rows.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``resume`` is False.
    ValueError
        If ``path`` exists and was written with other settings, or is not a
        pattern store.
    OSError
        If ``path`` exists but cannot be read as HDF5 (truncated or corrupt),
        or is open elsewhere: in another process (HDF5's file locks), or in an
        ``h5py.File`` of this one.

    See Also
    --------
    PatternStore : Read a store.
    make_pattern_dataset : The in-memory dataset.

    Examples
    --------
    >>> import tempfile, os
    >>> from skxrd.datasets import write_pattern_store
    >>> from skxrd.simulation import PowderSimulator
    >>> sim = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.1)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "patterns.h5")
    ...     store = write_pattern_store(
    ...         path, 6, target="crystal_system", simulator=sim, chunk_size=4,
    ...         space_groups=[225, 62], random_state=0, verbose=False,
    ...         max_chunks=1)
    ...     print(len(store), store.is_complete)
    ...     store.close()
    ...     with write_pattern_store(
    ...         path, 6, target="crystal_system", simulator=sim, chunk_size=4,
    ...         space_groups=[225, 62], random_state=0, verbose=False) as store:
    ...         print(store.shape, store.is_complete, sorted(set(store.y.tolist())))
    4 False
    (6, 500) True ['cubic', 'orthorhombic']
    """
    from ..utils._validation import check_n_jobs
    from ._dataset import (
        TARGETS,
        _check_uniform_options,
        _check_variant_options,
        _components,
        _instrument,
        _warn_unused_variants,
    )
    from ._random import make_random_crystals

    check_n_jobs(n_jobs)
    symmetry_targets = tuple(t for t in TARGETS if t != "structure_type")
    if target not in symmetry_targets:
        raise ValueError(
            f"target must be one of {symmetry_targets} for a pattern store, "
            f"got {target!r}"
        )
    for value, name in ((n_crystals, "n_crystals"), (chunk_size, "chunk_size")):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if max_chunks is not None and (
        isinstance(max_chunks, bool)
        or not isinstance(max_chunks, numbers.Integral)
        or max_chunks < 1
    ):
        raise ValueError(f"max_chunks must be None or >= 1, got {max_chunks!r}")
    if random_state is not None and (
        isinstance(random_state, bool)
        or not isinstance(random_state, numbers.Integral)
        or random_state < 0
    ):
        raise ValueError(
            "random_state must be None or a non-negative int (a store is "
            f"resumable only from a recorded seed), got {random_state!r}"
        )
    simulator = PowderSimulator() if simulator is None else simulator
    if not isinstance(simulator, PowderSimulator):
        raise ValueError(f"simulator must be a PowderSimulator, got {simulator!r}")
    # check the generator's arguments now rather than after the first chunk
    make_random_crystals(
        0, space_groups=space_groups, elements=elements, n_atoms=n_atoms
    )
    if not (
        source is None
        or isinstance(source, str)
        or (isinstance(source, Mapping) and all(isinstance(k, str) for k in source))
    ):
        raise ValueError(
            "a pattern store takes a named source or a {name: weight} mixture "
            f"(its settings are recorded in the file), got {source!r}"
        )
    components = _components(source, target)
    _check_uniform_options(components, space_groups, elements, n_atoms)
    _check_variant_options(n_variants, variants)
    # as make_pattern_dataset: n_variants=3 of random crystals was ignored
    # without a word
    _warn_unused_variants(components, source, n_variants, variants)
    instrument = _instrument(instrument)
    sim_params = {
        k: v
        for k, v in simulator.get_params(deep=False).items()
        if k not in _RUNTIME_PARAMS
    }
    config = {
        "target": target,
        "n_crystals": int(n_crystals),
        "chunk_size": int(chunk_size),
        "random_state": None if random_state is None else int(random_state),
        "space_groups": _jsonable(space_groups),
        "elements": _jsonable(elements),
        "n_atoms": _jsonable(n_atoms),
        "simulator": _jsonable(sim_params),
        "source": _jsonable(source),
        "n_variants": int(n_variants),
        "variants": _jsonable(variants),
        "instrument": None
        if instrument is None
        else _jsonable(instrument.get_params(deep=False)),
    }
    # JSON round trip: what a later call compares with
    config = json.loads(json.dumps(config))

    path = Path(path)
    if path.exists() and not resume:
        raise FileExistsError(
            f"{os.fspath(path)!r} exists; pass resume=True to continue writing "
            "it, or choose another path (it is never overwritten)"
        )
    # stores of this file still open here (the one a previous call returned)
    # would keep HDF5 from opening it for writing: they let go of it meanwhile
    # and then read it again, showing the new rows
    with _writing(path):
        _write_chunks(
            path,
            config,
            simulator,
            dict(
                space_groups=space_groups,
                elements=elements,
                n_atoms=n_atoms,
                source=source,
                n_variants=n_variants,
                variants=variants,
                instrument=instrument,
            ),
            n_jobs=n_jobs,
            verbose=verbose,
            max_chunks=max_chunks,
        )
    return PatternStore(path)


def _check_revision(f, path: Path, n_chunks: int):
    """Refuse to add chunks to a store whose generator revision differs from
    this version's: under another ``DATA_REVISION`` the same settings
    give other crystals (the order of ``space_groups``, mixed sites), and the
    resumed rows would silently come from another draw than the first ones.
    A complete store is read as it is."""
    if int(f.attrs["n_complete_chunks"]) >= n_chunks:
        return
    revision = f.attrs.get("data_revision")
    if revision is None:
        warnings.warn(
            f"{os.fspath(path)!r} does not record the data revision it was "
            "begun with (stores begun before skxrd recorded it do not): if it "
            "was begun before 2026-12-07, some settings (an "
            "unsorted space_groups or elements list, perturbed mixed sites) now "
            "give other crystals and its resumed chunks differ from a straight "
            "run; write it again if in doubt",
            UserWarning,
            stacklevel=4,
        )
    elif int(revision) != DATA_REVISION:
        f.close()
        raise ValueError(
            f"{os.fspath(path)!r} was begun with data revision {int(revision)} "
            f"and this skxrd generates revision {DATA_REVISION}: the same "
            "settings now give other crystals, so its remaining chunks would "
            "not continue the same draw; write the store again (another path), "
            "or finish it with the skxrd that began it"
        )


def _write_chunks(path, config, simulator, options, *, n_jobs, verbose, max_chunks):
    """Create or resume the store at ``path`` (``config``: its recorded
    settings) and write its missing chunks, at most ``max_chunks``; ``options``
    are the generator's arguments as given."""
    from tqdm.auto import tqdm

    from ._dataset import (
        _build,
        _components,
        _default_prior,
        _load_named,
        _symmetry_labels,
    )

    target, n_crystals = config["target"], config["n_crystals"]
    chunk_size, random_state = config["chunk_size"], config["random_state"]
    if path.exists():
        f = _open(path, "r+")
        _check_store(f, path)
        stored = _stored_config(f)
        differ = [key for key in _CONFIG_KEYS if stored[key] != config[key]]
        if differ:
            f.close()
            what = "; ".join(
                f"{key}={stored[key]!r} in the file, {config[key]!r} now"
                for key in differ
            )
            raise ValueError(
                f"{os.fspath(path)!r} was written with other settings ({what}): "
                "call again with the file's settings to resume it, or write to "
                "another path"
            )
        _check_revision(f, path, -(-n_crystals // chunk_size))
        entropy = int(f.attrs["entropy"])
    else:
        entropy = (
            int(np.random.SeedSequence().entropy)
            if random_state is None
            else int(random_state)
        )
        y_int = target == "space_group"
        _create(
            path,
            config,
            entropy,
            simulator.two_theta,
            _symmetry_labels(target, [])[1],
            y_int,
        )
        f = _open(path, "r+")

    with f:
        n_chunks = -(-n_crystals // chunk_size)
        start = int(f.attrs["n_complete_chunks"])
        stop = n_chunks if max_chunks is None else min(n_chunks, start + max_chunks)
        if verbose and start < stop:
            # the chunks are built quietly; a named source's first loading
            # (a minute for the AMCSD, then the prior learned from it) gets
            # its bars here, not under a chunk bar that stands at 0
            for name, kind, obj, _ in _components(options["source"], target):
                if obj is None and kind == "collection":
                    _load_named(name, verbose=True)
                elif obj is None and kind in ("realistic", "realistic_minerals"):
                    _default_prior(kind, verbose=True)
        bar = tqdm(
            range(start, stop),
            initial=start,
            total=n_chunks,
            disable=not verbose,
            desc="pattern store",
            unit="chunk",
        )
        for k in bar:
            first = k * chunk_size
            data = _build(
                n_crystals=min(chunk_size, n_crystals - first),
                target=target,
                prototypes=None,
                simulator=clone(simulator),
                vacancy_fraction=0.0,
                displacement=0.0,
                random_state=_chunk_seed(entropy, k),
                n_jobs=n_jobs,
                verbose=False,
                **options,
            )
            _write_rows(f, first, data)
            f.flush()
            # only now is the chunk complete
            f.attrs["n_complete_chunks"] = k + 1
            f.flush()


@contextmanager
def _damage(path):
    """Name the file when HDF5 cannot read a dataset: a failed checksum of
    bytes damaged after writing."""
    try:
        yield
    except OSError as exc:
        raise OSError(
            f"cannot read {os.fspath(path)!r}: the file is damaged ({exc}); "
            "write it again"
        ) from exc


class _Rows:
    """Read-only row access to the patterns of a store (2D, float32).

    ``rows[i]``, ``rows[a:b]``, ``rows[index_array]`` (any order, repeats
    allowed: read in increasing order, then rearranged) and ``rows[mask]``
    read just those rows. ``np.asarray(rows)`` reads them all.
    """

    def __init__(self, store: PatternStore, n_rows: int):
        # the store, not its HDF5 dataset: the store may close and reopen its
        # file (while write_pattern_store extends it), the first n_rows stay
        self._store = store
        self._n = int(n_rows)
        self._n_points = store._n_points
        self._chunks = store._x_chunks

    @property
    def _dataset(self):
        store = self._store
        # open in this process (the common case): its dataset without the
        # checks of store._x(), a tenth of a row read of a few microseconds
        if store._file is not None and store._pid == os.getpid():
            return store._dataset
        return store._x()

    @property
    def shape(self) -> tuple[int, int]:
        return (self._n, self._n_points)

    @property
    def ndim(self) -> int:
        return 2

    @property
    def dtype(self):
        return np.dtype(np.float32)

    @property
    def chunks(self) -> tuple[int, int]:
        """Rows and columns of one HDF5 chunk: rows read together cheaply."""
        return self._chunks

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        return f"<rows of a pattern store: shape {self.shape}, float32>"

    def __array__(self, dtype=None, copy=None):
        with _FILE_LOCK, _damage(self._store.path):  # not released by a writer mid-read
            out = self._dataset[: self._n]
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getitem__(self, key):
        with _FILE_LOCK, _damage(self._store.path):  # not released by a writer mid-read
            return self._getitem(key)

    def _getitem(self, key):
        if type(key) is int and 0 <= key < self._n:  # one row: the most common
            return self._dataset[key]
        if isinstance(key, tuple):
            if len(key) > 1 and all(
                not isinstance(k, (slice, numbers.Integral, type(Ellipsis), type(None)))
                for k in key[:2]
            ):
                # numpy would pair them point by point, this the outer product
                raise IndexError(
                    "a pattern store takes one index array at a time: index the "
                    "rows, then the columns of what they return (X[rows][:, cols])"
                )
            rows = self[key[0]]
            if np.ndim(rows) == 1:  # one row: its columns
                return rows[key[1:]] if len(key) > 1 else rows
            return rows[(slice(None),) + key[1:]]
        if isinstance(key, slice):
            start, stop, step = key.indices(self._n)
            if step == 1:
                return self._dataset[start:stop] if stop > start else self._take([])
            return self._take(np.arange(start, stop, step))
        if isinstance(key, numbers.Integral) and not isinstance(key, bool):
            i = int(key) + self._n if key < 0 else int(key)
            if not 0 <= i < self._n:
                raise IndexError(f"row {key} out of range for {self._n} rows")
            return self._dataset[i]
        idx = np.asarray(key)
        if idx.dtype == bool:
            if idx.shape != (self._n,):
                raise IndexError(
                    f"boolean index of shape {idx.shape} for {self._n} rows"
                )
            idx = np.flatnonzero(idx)
        if idx.size and idx.dtype.kind not in "iu":
            raise IndexError(f"rows must be indexed by integers, got {idx.dtype}")
        idx = idx.astype(np.intp, copy=False)
        if idx.size and (idx.min() < -self._n or idx.max() >= self._n):
            raise IndexError(f"row index out of range for {self._n} rows")
        return self._take(np.where(idx < 0, idx + self._n, idx))

    def _take(self, idx) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.intp)
        n_points = self.shape[1]
        if idx.size == 0:
            return np.zeros(idx.shape + (n_points,), dtype=np.float32)
        rows, inverse = np.unique(idx.ravel(), return_inverse=True)
        lo, hi = int(rows[0]), int(rows[-1]) + 1
        dataset = self._dataset
        if hi - lo <= 2 * len(rows):  # dense: one sequential read
            block = dataset[lo:hi]
            if hi - lo != len(rows):
                block = block[rows - lo]
        else:  # sparse: per HDF5 chunk, the span of the rows needed in it
            chunk = self._chunks[0]
            splits = np.flatnonzero(np.diff(rows // chunk)) + 1
            block = np.concatenate(
                [
                    dataset[int(part[0]) : int(part[-1]) + 1][part - part[0]]
                    for part in np.split(rows, splits)
                ]
            )
        if len(rows) == idx.size and np.array_equal(rows, idx):
            return block
        return block[inverse].reshape(idx.shape + (n_points,))


class PatternStore:
    """Read-only view of a pattern store written by :func:`write_pattern_store`.

    Patterns are read from the HDF5 file when indexed (``store.X[rows]``), so
    a store larger than memory can be used; the labels and the crystals'
    metadata are small and are read whole. Only complete chunks are visible:
    a store whose writing was interrupted shows the rows written so far.

    The deep classifiers of :mod:`skxrd.estimators` accept a store in place of
    ``X`` in ``fit`` (labels: ``store.y``, or an explicit ``y``),
    ``predict_proba``, ``predict`` and ``score``, reading it a batch at a time.

    When :func:`write_pattern_store` resumes the file in the same process, an
    open store lets go of the file while it is written, then reads it again
    and shows the new rows (row views ``store.X`` taken before keep their
    rows); read in another thread meanwhile, it waits for the write. Another
    process cannot write the file while a store holds it open:
    HDF5's file locks make :func:`write_pattern_store` raise an ``OSError``
    that says so. A pickled store (sent to a worker process) opens the file
    again where it is unpickled; a store inherited by a forked process
    (``multiprocessing``'s "fork" start method, a ``DataLoader`` with
    ``num_workers > 0`` on Linux) opens it again there on its first use, also
    when another thread of the parent was reading or writing at the fork.

    Parameters
    ----------
    path : str or path-like
        The HDF5 file.
    allow_incomplete : bool, default=False
        Allow training on an incomplete store (its complete chunks); by default
        estimators refuse it with a ``ValueError``.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    allow_incomplete : bool
        The parameter.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    OSError
        If the file cannot be read as HDF5 (truncated or corrupt), or is being
        written by another process.
    ValueError
        If the file is HDF5 but not a pattern store.

    See Also
    --------
    write_pattern_store : Write a store.

    Examples
    --------
    >>> import tempfile, os
    >>> from skxrd.datasets import PatternStore, write_pattern_store
    >>> from skxrd.simulation import PowderSimulator
    >>> sim = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.1)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "patterns.h5")
    ...     write_pattern_store(path, 5, simulator=sim, chunk_size=2,
    ...                         space_groups=[225, 62], random_state=0,
    ...                         verbose=False).close()
    ...     with PatternStore(path) as store:
    ...         print(repr(store).replace(tmp, "..."))
    ...         print(store.X[[3, 0]].shape, store.y.tolist())
    ...         print([len(X) for X, y in store.iter_chunks()])
    PatternStore('.../patterns.h5', 5 of 5 patterns, 500 points, target 'space_group')
    (2, 500) [225, 62, 62, 225, 62]
    [2, 2, 1]
    """

    def __init__(self, path: str | os.PathLike, *, allow_incomplete: bool = False):
        self.path = Path(path)
        self.allow_incomplete = bool(allow_incomplete)
        # the same file even if the working directory changes before a reopen
        self._abspath = Path(os.path.abspath(self.path))
        self._file = None
        self._pid = os.getpid()
        self._closed = False
        self._identity = None
        self._open()

    # ------------------------------------------------------------------ file
    def _open(self):
        with _FILE_LOCK:
            key, me = _file_key(self._abspath), threading.get_ident()
            # a write in another thread: wait for it (the writing thread itself
            # cannot, and gets HDF5's "already open" error)
            while _WRITING.get(key, me) != me:
                _FILE_WRITTEN.wait()
            self._open_now()

    def _open_now(self):
        f = _open(self._abspath, "r", rdcc_nbytes=_CACHE_BYTES, rdcc_nslots=10007)
        _check_store(f, self.path)
        try:
            n_complete_chunks = int(f.attrs["n_complete_chunks"])
            # what resuming never changes: another value is another store
            identity = (
                str(f.attrs["entropy"]),
                int(f.attrs["n_crystals"]),
                int(f.attrs["chunk_size"]),
                str(f.attrs["target"]),
            )
            x = f["X"]
            n_points, x_chunks = int(x.shape[1]), tuple(int(c) for c in x.chunks)
        except (KeyError, OSError) as exc:
            f.close()
            raise OSError(
                f"{os.fspath(self.path)!r} is an incomplete or damaged pattern "
                f"store: {exc}"
            ) from None
        if self._identity is not None and identity != self._identity:
            f.close()
            raise ValueError(
                f"{os.fspath(self.path)!r} was replaced by another pattern store "
                "since this PatternStore opened it: open it again"
            )
        if self._identity is None or n_complete_chunks != self._n_complete_chunks:
            # first open, or chunks written meanwhile (write_pattern_store):
            # the small arrays are read again with the new rows
            self._cache = {}
        self._identity = identity
        _, self._n_crystals, self._chunk_size, self._target = identity
        self._n_complete_chunks = n_complete_chunks
        self._n_points, self._x_chunks = n_points, x_chunks
        self._dataset = x
        self._file = f
        self._pid = os.getpid()  # the process whose HDF5 handle this is
        _OPEN_STORES.add(self)

    def _release(self) -> None:
        """Close the file until the store is next read (it stays usable)."""
        with _FILE_LOCK:
            _OPEN_STORES.discard(self)
            if self._file is not None:
                self._file.close()
                self._file = self._dataset = None

    def _reopen_quietly(self) -> None:
        """Reopen a released store now; on failure, leave the error to its
        next read (called in a ``finally`` that must not mask another error)."""
        try:
            self._current()
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        """Close the file (the small arrays already read stay available)."""
        self._closed = True
        self._release()

    def __enter__(self) -> PatternStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self):
        # the absolute path: unpickled after a chdir (or in a worker started
        # elsewhere), a relative one names another file
        return {"path": self._abspath, "allow_incomplete": self.allow_incomplete}

    def __setstate__(self, state):
        self.__init__(state["path"], allow_incomplete=state["allow_incomplete"])

    def _f(self):
        if self._closed:
            raise ValueError(f"the pattern store {os.fspath(self.path)!r} is closed")
        self._current()  # released by write_pattern_store: open again
        return self._file

    def _x(self):
        """The HDF5 dataset of the patterns."""
        self._f()
        return self._dataset

    def _current(self) -> None:
        """Reopen a store released by write_pattern_store (its rows may have
        grown), or inherited from the parent by a forked process; a closed
        store keeps what it read."""
        if self._file is not None and self._pid == os.getpid():
            return  # open in this process: nothing to do
        if self._file is not None:  # open in the parent, before a fork
            with _FILE_LOCK:
                if self._file is not None and self._pid != os.getpid():
                    # forked: the handle is a copy of the parent's HDF5 state
                    # (its metadata cache, its file descriptor), not safe to
                    # read through. Closing the copy leaves the parent's file
                    # and its lock open.
                    _OPEN_STORES.discard(self)
                    file, self._file = self._file, None
                    self._dataset = None
                    file.close()
        if self._file is None and not self._closed:
            self._open()

    def _read(self, name, strings=False, rows=True):
        """A small dataset read whole (its complete rows when ``rows``)."""
        if self._file is not None and self._pid == os.getpid():
            # read already, the file open in this process: no lock to wait
            # for (a reader of rows in another thread holds it; ``store.y[i]``
            # per sample took 3-4 times as long with it). A writer's release
            # from now on does not change what was read before it.
            data = self._cache.get(name)
            if data is not None:
                return data
        with _FILE_LOCK:  # not released by a writer mid-read
            self._current()
            if name not in self._cache:
                ds = self._f()[name]
                with _damage(self.path):
                    data = (ds.asstr() if strings else ds)[
                        : len(self) if rows else None
                    ]
                if strings:
                    data = np.asarray(data, dtype=str)
                self._cache[name] = data
            return self._cache[name]

    def __repr__(self) -> str:
        return (
            f"PatternStore({os.fspath(self.path)!r}, {len(self)} of "
            f"{self._n_crystals} patterns, {self.shape[1]} points, "
            f"target {self.target!r})"
        )

    # ------------------------------------------------------------------ sizes
    def __len__(self) -> int:
        self._current()
        return min(self._n_complete_chunks * self._chunk_size, self._n_crystals)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_patterns, n_points)`` of the complete rows."""
        return (len(self), self._n_points)

    @property
    def n_crystals(self) -> int:
        """Number of patterns of the finished store."""
        return self._n_crystals

    @property
    def chunk_size(self) -> int:
        """Crystals per written chunk."""
        return self._chunk_size

    @property
    def is_complete(self) -> bool:
        """Whether every chunk has been written."""
        return len(self) == self._n_crystals

    # ------------------------------------------------------------------ data
    @property
    def X(self) -> _Rows:
        """The patterns, read when indexed: ``X[i]``, ``X[a:b]``, ``X[rows]``.

        ``np.asarray(store.X)`` reads them all into memory.
        """
        self._f()
        return _Rows(self, len(self))

    @property
    def y(self) -> np.ndarray:
        """Labels of the target (space-group numbers, or names)."""
        if self.target == "space_group":
            return self._read("y").astype(np.int64)
        return self._read("y", strings=True)

    @property
    def space_group(self) -> np.ndarray:
        """Space-group number of each pattern's crystal."""
        return self._read("space_group").astype(np.int64)

    @property
    def two_theta(self) -> np.ndarray:
        """The 2θ grid (degrees) of the patterns."""
        return self._read("two_theta", rows=False).copy()

    @property
    def target(self) -> str:
        """The target of ``y``."""
        return self._target

    @property
    def target_names(self) -> np.ndarray:
        """All classes of the target."""
        if self.target == "space_group":
            return self._read("target_names", rows=False).astype(np.int64)
        return self._read("target_names", strings=True, rows=False).copy()

    @property
    def metadata(self) -> Bunch:
        """The crystals: ``formula``, ``lattice_parameters`` (a, b, c in Å,
        α, β, γ in degrees) and ``n_atoms`` (in the conventional cell)."""
        return Bunch(
            formula=self._read("formula", strings=True),
            lattice_parameters=self._read("lattice_parameters"),
            n_atoms=self._read("n_atoms").astype(np.int64),
        )

    @property
    def config(self) -> dict:
        """The settings the store was written with (``write_pattern_store``'s
        arguments, the simulator's parameters) and the skxrd version."""
        with _FILE_LOCK:
            f = self._f()
            config = _stored_config(f)
            config["skxrd_version"] = str(f.attrs["skxrd_version"])
        return config

    def iter_chunks(self, chunk_size: int | None = None) -> Iterator[tuple]:
        """``(X, y)`` of consecutive blocks of rows, in file order.

        Parameters
        ----------
        chunk_size : int, optional
            Rows per block; by default the store's ``chunk_size``.

        Yields
        ------
        X : ndarray of shape (n_rows, n_points), float32
        y : ndarray of shape (n_rows,)
        """
        size = self._chunk_size if chunk_size is None else int(chunk_size)
        if size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size!r}")
        rows, y = self.X, self.y
        for start in range(0, len(self), size):
            yield rows[start : start + size], y[start : start + size]

    def check_trainable(self) -> None:
        """Raise unless the store is complete or opened with ``allow_incomplete``.

        The estimators call it before training from a store, so that a store
        whose writing stopped half-way is not taken for a whole one.

        Raises
        ------
        ValueError
            Naming the store and how many of its patterns are written.
        """
        self._f()
        if not (self.is_complete or self.allow_incomplete):
            raise ValueError(
                f"the pattern store {os.fspath(self.path)!r} is incomplete "
                f"({len(self)} of {self._n_crystals} patterns written): finish it "
                "with write_pattern_store (same arguments), or open it with "
                "PatternStore(path, allow_incomplete=True) to train on the "
                "written rows"
            )
