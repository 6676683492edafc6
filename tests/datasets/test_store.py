"""Out-of-core pattern stores: writing, resuming, reading, training from disk."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import types

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from skxrd.datasets import (  # noqa: E402
    PatternStore,
    _store,
    make_pattern_dataset,
    make_random_crystals,
    write_pattern_store,
)
from skxrd.simulation import PowderSimulator  # noqa: E402

SIM = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.1)  # 500 points
SETTINGS = dict(
    target="crystal_system",
    simulator=SIM,
    chunk_size=16,
    space_groups=[2, 14, 62, 139, 194, 221, 225],
    n_atoms=(4, 16),
    random_state=0,
    verbose=False,
)
N = 40  # three chunks: 16, 16, 8


def read_all(path):
    """Everything a store holds, as numpy arrays."""
    with h5py.File(path, "r") as f:
        return {name: f[name][()] for name in f}


def assert_same_content(path, other):
    a, b = read_all(path), read_all(other)
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A complete store of N patterns written in one run with n_jobs=1."""
    path = tmp_path_factory.mktemp("store") / "reference.h5"
    write_pattern_store(path, N, n_jobs=1, **SETTINGS).close()
    return path


def test_chunks_are_make_pattern_dataset_of_their_seed(reference):
    with PatternStore(reference) as store:
        assert store.shape == (N, 500) and store.is_complete
        assert store.target == "crystal_system" and len(store.target_names) == 7
        np.testing.assert_array_equal(store.two_theta, SIM.two_theta)
        meta = store.metadata
        for k, (start, stop) in enumerate([(0, 16), (16, 32), (32, 40)]):
            data = make_pattern_dataset(
                stop - start,
                target="crystal_system",
                simulator=SIM,
                space_groups=SETTINGS["space_groups"],
                n_atoms=(4, 16),
                random_state=_store._chunk_seed(0, k),
                verbose=False,
            )
            np.testing.assert_array_equal(store.X[start:stop], data.X)
            np.testing.assert_array_equal(store.y[start:stop], data.y)
            np.testing.assert_array_equal(
                store.space_group[start:stop], data.space_group
            )
            assert meta.formula[start:stop].tolist() == [
                c.formula for c in data.crystals
            ]
            np.testing.assert_allclose(
                meta.lattice_parameters[start:stop],
                [c.lattice_parameters for c in data.crystals],
            )
            np.testing.assert_array_equal(
                meta.n_atoms[start:stop], [c.n_atoms for c in data.crystals]
            )
        config = store.config
        assert config["chunk_size"] == 16 and config["random_state"] == 0
        assert config["simulator"]["two_theta_step"] == 0.1
        assert "n_jobs" not in config["simulator"]


def test_same_file_content_for_any_n_jobs(reference, tmp_path):
    path = tmp_path / "jobs.h5"
    write_pattern_store(path, N, n_jobs=2, **SETTINGS).close()
    assert_same_content(path, reference)


def test_interrupted_and_resumed_equals_straight_run(reference, tmp_path, monkeypatch):
    path = tmp_path / "resumed.h5"
    with write_pattern_store(path, N, max_chunks=1, **SETTINGS) as store:
        assert len(store) == 16 and not store.is_complete and store.n_crystals == N
        assert store.X[:].shape == (16, 500)
        with pytest.raises(IndexError):
            store.X[16]

    # killed in the middle of writing the second chunk: half of it written
    write_rows = _store._write_rows

    def half_then_interrupt(f, start, data):
        half = len(data.X) // 2
        for key in ("X", "y", "space_group", "crystals"):
            data[key] = data[key][:half]
        write_rows(f, start, data)
        raise KeyboardInterrupt

    monkeypatch.setattr(_store, "_write_rows", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_pattern_store(path, N, **SETTINGS)
    with h5py.File(path, "r") as f:
        assert f.attrs["n_complete_chunks"] == 1
    with PatternStore(path) as store:
        assert len(store) == 16

    # resumed: complete chunks are not written again
    starts = []

    def record(f, start, data):
        starts.append(start)
        write_rows(f, start, data)

    monkeypatch.setattr(_store, "_write_rows", record)
    write_pattern_store(path, N, **SETTINGS).close()
    assert starts == [16, 32]
    assert_same_content(path, reference)
    # a complete store: nothing to do
    write_pattern_store(path, N, **SETTINGS).close()
    assert starts == [16, 32]


def test_resume_while_the_returned_store_is_open(reference, tmp_path):
    # the documented pattern: the first store is still referenced (and open)
    # when the second call opens the file for writing; HDF5 refused that
    path = tmp_path / "open.h5"
    store = write_pattern_store(path, N, max_chunks=1, **SETTINGS)
    rows, y = store.X, store.y
    first = rows[:]
    assert len(store) == 16
    store = write_pattern_store(path, N, **SETTINGS)
    assert store.is_complete
    assert_same_content(path, reference)
    # the old store reads the file again and shows the new rows; its row view
    # keeps its 16 rows
    old = rows._store
    assert old is not store and len(old) == N and old.is_complete
    np.testing.assert_array_equal(np.asarray(old.X), read_all(reference)["X"])
    np.testing.assert_array_equal(old.y, store.y)
    np.testing.assert_array_equal(old.y[:16], y)
    assert rows.shape == (16, 500)
    np.testing.assert_array_equal(rows[:], first)
    np.testing.assert_array_equal(rows[[15, 0]], first[[15, 0]])
    # and again, with both stores open
    write_pattern_store(path, N, **SETTINGS).close()
    np.testing.assert_array_equal(old.X[N - 1], store.X[N - 1])
    old.close()
    store.close()
    with pytest.raises(ValueError, match="closed"):
        rows[0]


def test_a_store_open_elsewhere_is_not_called_corrupt(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "busy.h5"
    settings = {**SETTINGS, "chunk_size": 4}
    write_pattern_store(path, 8, max_chunks=1, **settings).close()
    with h5py.File(path, "r"):  # not a PatternStore: not closed for the writer
        with pytest.raises(OSError, match="busy.h5.*open in this process") as info:
            write_pattern_store(path, 8, **settings)
        assert "corrupt" not in str(info.value)
    if os.environ.get("HDF5_USE_FILE_LOCKING", "").upper() == "FALSE":
        return
    # another process reading the store: HDF5's file lock
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, h5py; f = h5py.File(sys.argv[1], 'r'); "
            "print('open', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "open"
        with pytest.raises(OSError, match="busy.h5.*another process") as info:
            write_pattern_store(path, 8, **settings)
        assert "corrupt" not in str(info.value)
    finally:
        reader.communicate("", timeout=60)
    with write_pattern_store(path, 8, **settings) as store:
        assert store.is_complete


def test_a_released_store_finds_its_file_replaced(tmp_path):
    path = tmp_path / "replaced.h5"
    settings = {**SETTINGS, "chunk_size": 4}
    store = write_pattern_store(path, 4, **settings)
    y = store.y
    store._release()  # as write_pattern_store does while it writes
    os.remove(path)
    write_pattern_store(path, 4, **{**settings, "random_state": 1}).close()
    with pytest.raises(ValueError, match="replaced.h5.*replaced by another"):
        store.X  # noqa: B018
    store.close()
    np.testing.assert_array_equal(store.y, y)  # what it read stays


def test_resume_while_another_thread_reads_the_store(tmp_path, monkeypatch):
    # a store read in another thread reopened its file between its release
    # and the writer's "r+" open: "already open" (2 in 40 resumes); the pause
    # after the release makes that window wide enough to be met every time
    import threading
    import time

    path = tmp_path / "threads.h5"
    settings = {**SETTINGS, "chunk_size": 4}
    store = write_pattern_store(path, 20, max_chunks=1, **settings)
    release = _store._release_stores

    def slow_release(p):
        released = release(p)
        time.sleep(0.05)
        return released

    monkeypatch.setattr(_store, "_release_stores", slow_release)
    errors, stop, reads = [], threading.Event(), [0]

    def read():
        while not stop.is_set():
            try:
                # rows may be added between two reads: no count compared
                assert len(store) >= 4 and len(store.y) >= 4
                assert store.X[3].shape == (500,)
                reads[0] += 1
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc))
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(4):
            write_pattern_store(path, 20, resume=True, max_chunks=1, **settings)
    finally:
        stop.set()
        reader.join(60)
    assert errors == [] and reads[0] > 0
    assert len(store) == 20 and store.is_complete
    store.close()


def test_a_pickled_store_opens_its_file_after_a_chdir(tmp_path, monkeypatch):
    # the relative path had been pickled: another file, or none, elsewhere
    monkeypatch.chdir(tmp_path)
    settings = {**SETTINGS, "chunk_size": 4}
    with write_pattern_store("rel.h5", 8, **settings) as store:
        data, rows = pickle.dumps(store), pickle.dumps(store.X)
        y = store.y
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    with pickle.loads(data) as clone:
        assert clone.path == tmp_path / "rel.h5"
        np.testing.assert_array_equal(clone.y, y)
    view = pickle.loads(rows)
    assert view.shape == (8, 500)
    view._store.close()


fork_only = pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(),
    reason="needs the 'fork' start method",
)


def _read_in_child(store, queue):
    """What a forked child reads of ``store`` (and whether it opened the file
    itself rather than reading through the parent's handle)."""
    rows, y = store.X[[5, 1, 39]], store.y[:5]
    queue.put((rows, y, store._pid == os.getpid()))


@contextlib.contextmanager
def _busy_in_another_thread(kind, path):
    """Another thread holds the store's lock (``kind="lock"``: a read) or
    writes ``path`` (``"write"``) until the block ends."""
    import threading

    busy, done = threading.Event(), threading.Event()

    def hold():
        with _store._FILE_LOCK if kind == "lock" else _store._writing(path):
            busy.set()
            done.wait(60)

    thread = threading.Thread(target=hold)
    thread.start()
    busy.wait(60)
    try:
        yield
    finally:
        done.set()
        thread.join(60)


@fork_only
@pytest.mark.parametrize("kind", ["lock", "write"])
def test_a_forked_child_reads_while_another_thread_is_busy(kind, reference, tmp_path):
    # the child inherited the lock held (or the write in progress) with none
    # of the parent's threads to release it: it hung on its first read
    import multiprocessing
    import queue as queues

    path = tmp_path / "fork.h5"
    shutil.copy(reference, path)
    ctx = multiprocessing.get_context("fork")
    with PatternStore(path) as store:
        expected = store.X[[5, 1, 39]], store.y[:5]
        results = ctx.Queue()
        with _busy_in_another_thread(kind, path):
            child = ctx.Process(target=_read_in_child, args=(store, results))
            child.start()  # forked now, while the other thread is busy
        try:
            rows, y, reopened = results.get(timeout=30)
        except queues.Empty:
            pytest.fail(f"a child forked while another thread was busy ({kind}) hung")
        finally:
            child.join(10)
            if child.is_alive():
                child.kill()
                child.join()
        assert child.exitcode == 0
        np.testing.assert_array_equal(rows, expected[0])
        np.testing.assert_array_equal(y, expected[1])
        assert reopened  # its own HDF5 handle, not a copy of the parent's
        # the parent's store is unaffected by the child closing its copy
        np.testing.assert_array_equal(store.X[[5, 1, 39]], expected[0])


@fork_only
def test_dataloader_workers_forked_mid_read_give_the_serial_rows(reference):
    pytest.importorskip("torch")
    pytest.importorskip("skorch")
    from skxrd.estimators._data import _collate, _StoreDataset, _train_loader

    with PatternStore(reference) as store:
        serial = np.asarray(store.X)
        loader = _train_loader(
            _StoreDataset(store.X, store.space_group),
            batch_size=8,
            shuffle=False,
            collate_fn=_collate,
            num_workers=2,
            multiprocessing_context="fork",
            timeout=30,  # a hung worker raises rather than hangs the suite
        )
        with _busy_in_another_thread("lock", reference):
            batches = iter(loader)  # the workers fork here
        X, y = zip(*batches)
        np.testing.assert_array_equal(np.concatenate(X), serial)
        np.testing.assert_array_equal(np.concatenate(y), store.space_group)


def test_random_state_none_is_recorded_and_resumed(tmp_path):
    path = tmp_path / "none.h5"
    settings = {**SETTINGS, "random_state": None, "chunk_size": 4}
    write_pattern_store(path, 8, max_chunks=1, **settings).close()
    write_pattern_store(path, 8, **settings).close()
    entropy = int(PatternStore(path)._file.attrs["entropy"])
    straight = tmp_path / "straight.h5"
    write_pattern_store(straight, 8, **{**settings, "random_state": entropy}).close()
    np.testing.assert_array_equal(read_all(path)["X"], read_all(straight)["X"])


@pytest.mark.parametrize(
    "change, setting",
    [
        ({"chunk_size": 8}, "chunk_size"),
        ({"random_state": 1}, "random_state"),
        ({"target": "space_group"}, "target"),
        ({"simulator": PowderSimulator(two_theta_range=(10, 60))}, "simulator"),
        ({"n_atoms": (4, 12)}, "n_atoms"),
    ],
)
def test_other_settings_raise(reference, change, setting):
    before = reference.read_bytes()
    with pytest.raises(ValueError, match=f"reference.h5.*{setting}="):
        write_pattern_store(reference, N, **{**SETTINGS, **change})
    with pytest.raises(ValueError, match="n_crystals=40 in the file, 41 now"):
        write_pattern_store(reference, N + 1, **SETTINGS)
    assert reference.read_bytes() == before


def test_runtime_settings_do_not_count(reference):
    # n_jobs and verbose (of the call or of the simulator) change nothing
    sim = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.1, n_jobs=2)
    settings = {**SETTINGS, "simulator": sim, "verbose": True}
    write_pattern_store(reference, N, n_jobs=3, **settings).close()


def test_max_reflections_does_not_count(reference):
    # it only refuses crystals (the patterns are the same): not recorded, so
    # that stores written before it existed, or with another limit, resume
    sim = PowderSimulator(
        two_theta_range=(10, 60), two_theta_step=0.1, max_reflections=10**8
    )
    write_pattern_store(reference, N, **{**SETTINGS, "simulator": sim}).close()
    with PatternStore(reference) as store:
        assert "max_reflections" not in store.config["simulator"]


def test_existing_file_is_never_overwritten(reference, tmp_path):
    before = reference.read_bytes()
    with pytest.raises(FileExistsError, match="reference.h5"):
        write_pattern_store(reference, N, resume=False, **SETTINGS)
    other = tmp_path / "notes.h5"
    other.write_text("my notes")
    with pytest.raises(OSError, match="notes.h5"):
        write_pattern_store(other, N, **SETTINGS)
    assert reference.read_bytes() == before
    assert other.read_text() == "my notes"


def test_unreadable_files(reference, tmp_path):
    truncated = tmp_path / "truncated.h5"
    shutil.copy(reference, truncated)
    with open(truncated, "r+b") as fh:
        fh.truncate(os.path.getsize(truncated) // 2)
    with pytest.raises(OSError, match="truncated.h5.*truncated or corrupt"):
        PatternStore(truncated)
    with pytest.raises(OSError, match="truncated.h5"):
        write_pattern_store(truncated, N, **SETTINGS)

    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["X"] = np.zeros((2, 3))
    with pytest.raises(ValueError, match="plain.h5.*not a pattern store"):
        PatternStore(plain)
    with pytest.raises(ValueError, match="not a pattern store"):
        write_pattern_store(plain, N, **SETTINGS)
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        PatternStore(tmp_path / "missing.h5")


def test_invalid_arguments(tmp_path):
    path = tmp_path / "bad.h5"
    for kwargs, match in [
        ({"target": "structure_type"}, "target"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"random_state": np.random.default_rng(0)}, "random_state"),
        ({"space_groups": [231]}, "231"),
        ({"max_chunks": 0}, "max_chunks"),
    ]:
        with pytest.raises(ValueError, match=match):
            write_pattern_store(path, 4, **{**SETTINGS, **kwargs})
    assert not path.exists()


def test_row_access(reference):
    full = read_all(reference)["X"]
    with PatternStore(reference) as store:
        rows = store.X
        assert rows.shape == (N, 500) and len(rows) == N and rows.dtype == np.float32
        np.testing.assert_array_equal(np.asarray(rows), full)
        np.testing.assert_array_equal(rows[-1], full[-1])
        np.testing.assert_array_equal(rows[3:30:7], full[3:30:7])
        for idx in ([5, 1, 5, 39], [0, 39], np.arange(10)[::-1], []):
            np.testing.assert_array_equal(rows[np.asarray(idx, int)], full[idx])
        mask = np.arange(N) % 3 == 0
        np.testing.assert_array_equal(rows[mask], full[mask])
        np.testing.assert_array_equal(rows[[2, 4], 10:20], full[[2, 4], 10:20])
        with pytest.raises(IndexError):
            rows[[0, N]]
        # two index arrays: numpy pairs them, the store would not; refused
        with pytest.raises(IndexError, match="one index array at a time"):
            rows[np.array([1, 3]), np.array([0, 1])]
        np.testing.assert_array_equal(rows[[1, 3], 0], full[[1, 3], 0])
        chunks = list(store.iter_chunks())
        assert [len(X) for X, _ in chunks] == [16, 16, 8]
        np.testing.assert_array_equal(np.concatenate([y for _, y in chunks]), store.y)
        clone = pickle.loads(pickle.dumps(store))
        np.testing.assert_array_equal(clone.X[:2], full[:2])
        clone.close()
        # rows pickle with their store (to a DataLoader's worker processes)
        rows_clone = pickle.loads(pickle.dumps(rows))
        np.testing.assert_array_equal(rows_clone[[4, 1]], full[[4, 1]])
        rows_clone._store.close()
    with pytest.raises(ValueError, match="closed"):
        store.X  # noqa: B018
    # the small arrays already read stay available, as close() says
    np.testing.assert_array_equal(store.y, np.concatenate([y for _, y in chunks]))
    assert store.target == "crystal_system"


def test_joblib_dask_backend_gives_the_same_result(reference, tmp_path):
    pytest.importorskip("distributed")
    import joblib
    from distributed import Client, LocalCluster

    kwargs = dict(space_groups=[14, 62, 225], n_atoms=(4, 12), random_state=3)
    crystals = make_random_crystals(20, n_jobs=1, **kwargs)
    sim = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.1, n_jobs=2)
    X = sim.set_params(n_jobs=1).transform(crystals)
    path = tmp_path / "dask.h5"
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        on_dask = make_random_crystals(20, n_jobs=2, **kwargs)
        X_dask = sim.set_params(n_jobs=2).transform(crystals)
        write_pattern_store(path, N, n_jobs=2, **SETTINGS).close()
    assert [c.formula for c in on_dask] == [c.formula for c in crystals]
    for a, b in zip(on_dask, crystals):
        np.testing.assert_array_equal(a.frac_coords, b.frac_coords)
        np.testing.assert_array_equal(a.lattice, b.lattice)
    np.testing.assert_array_equal(X_dask, X)
    assert_same_content(path, reference)


@pytest.mark.parametrize("backend", ["multiprocessing", "threading", "ray"])
def test_every_joblib_backend_gives_the_same_result(
    backend, reference, tmp_path, monkeypatch
):
    """Backends that cannot stream results back (multiprocessing, Ray) work too,
    with the same crystals, patterns, images and store as the serial run."""
    import builtins
    import contextlib

    import joblib

    from skxrd.datasets import make_structure_type_crystals
    from skxrd.simulation import DiffractionImageSimulator

    kwargs = dict(space_groups=[14, 62, 225], n_atoms=(4, 12), random_state=3)
    crystals = make_random_crystals(12, n_jobs=1, **kwargs)
    types = dict(prototypes=["rocksalt", "perovskite"], n_per_type=3, random_state=1)
    sim = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.1, n_jobs=1)
    images = DiffractionImageSimulator(image_size=32, n_jobs=1)
    X, I = sim.transform(crystals), images.transform(crystals[:4])
    compounds, y_types, _ = make_structure_type_crystals(n_jobs=1, **types)
    with contextlib.ExitStack() as stack:
        if backend == "ray":
            ray = pytest.importorskip("ray")
            from ray.util.joblib import register_ray

            register_ray()
            # Ray's driver replaces builtins.print for its progress bars the
            # first time a worker's output reaches it, for the rest of the
            # process; skorch nets, whose PrintLog holds the real print, then
            # no longer pickle in this test worker. Keep print as it is, and
            # put it back after the test whatever Ray did.
            monkeypatch.setenv("RAY_TQDM_PATCH_PRINT", "0")
            monkeypatch.setattr(builtins, "print", builtins.print)
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            stack.callback(ray.shutdown)
        stack.enter_context(joblib.parallel_config(backend=backend))
        parallel = make_random_crystals(12, n_jobs=2, **kwargs)
        X_parallel = sim.set_params(n_jobs=2).transform(crystals)
        I_parallel = images.set_params(n_jobs=2).transform(crystals[:4])
        compounds_parallel, y_parallel, _ = make_structure_type_crystals(
            n_jobs=2, **types
        )
        write_pattern_store(tmp_path / "store.h5", N, n_jobs=2, **SETTINGS).close()
    for a, b in zip(parallel + compounds_parallel, crystals + compounds, strict=True):
        assert a.formula == b.formula
        np.testing.assert_array_equal(a.frac_coords, b.frac_coords)
        np.testing.assert_array_equal(a.lattice, b.lattice)
    np.testing.assert_array_equal(y_parallel, y_types)
    np.testing.assert_array_equal(X_parallel, X)
    np.testing.assert_array_equal(I_parallel, I)
    assert_same_content(tmp_path / "store.h5", reference)


# --------------------------------------------------------------------------- #
# training from a store
# --------------------------------------------------------------------------- #
def separable_store(path, n=200, n_points=128, chunk_size=64, seed=0):
    """A store (space-group labels) of three classes of peaks; also the arrays."""
    rng = np.random.default_rng(seed)
    labels = np.array([14, 62, 225])
    y = labels[rng.integers(0, 3, n)]
    grid = np.arange(n_points)
    centers = {14: (20, 70), 62: (40, 100), 225: (60, 90)}
    X = np.zeros((n, n_points), np.float32)
    for i, label in enumerate(y):
        for c in centers[label]:
            X[i] += np.exp(-0.5 * ((grid - c - rng.normal(0, 1)) / 2.0) ** 2)
        X[i] += rng.normal(0, 0.05, n_points)
    config = {
        "target": "space_group",
        "n_crystals": n,
        "chunk_size": chunk_size,
        **{k: None for k in ("random_state", "space_groups", "elements", "n_atoms")},
        "simulator": {},
    }
    _store._create(path, config, 0, np.linspace(10, 80, n_points), labels, True)
    crystal = types.SimpleNamespace(
        formula="Si", lattice_parameters=(5.4, 5.4, 5.4, 90, 90, 90), n_atoms=8
    )
    with h5py.File(path, "r+") as f:
        for k, start in enumerate(range(0, n, chunk_size)):
            rows = slice(start, start + chunk_size)
            data = types.SimpleNamespace(
                X=X[rows], y=y[rows], space_group=y[rows], crystals=[crystal] * 64
            )
            data.crystals = data.crystals[: len(data.X)]
            _store._write_rows(f, start, data)
            f.attrs["n_complete_chunks"] = k + 1
    return X, y


class CountingRows:
    """An h5py dataset that records how many rows each read returns."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.reads = []

    def __getattr__(self, name):
        return getattr(self.dataset, name)

    def __getitem__(self, key):
        out = self.dataset[key]
        self.reads.append(1 if out.ndim == 1 else len(out))
        return out


@pytest.fixture
def estimators():
    pytest.importorskip("torch")
    pytest.importorskip("skorch")
    from skxrd.estimators import ResNetClassifier

    return ResNetClassifier(
        depth=1,
        width=4,
        kernel_size=5,
        max_epochs=1,
        batch_size=16,
        lr=1e-2,
        device="cpu",
        num_threads=1,
        random_state=0,
    )


def test_fit_on_store_equals_fit_on_arrays(estimators, tmp_path):
    path = tmp_path / "train.h5"
    X, y = separable_store(path)
    clf = estimators.set_params(max_epochs=2)
    with PatternStore(path) as store:
        on_disk = clf.__class__(**clf.get_params()).fit(store)
        in_memory = clf.__class__(**clf.get_params()).fit(X, y)
        np.testing.assert_array_equal(on_disk.classes_, [14, 62, 225])
        assert (
            on_disk.history_[-1, "valid_loss"] == in_memory.history_[-1, "valid_loss"]
        )
        proba = on_disk.predict_proba(store)
        np.testing.assert_array_equal(proba, in_memory.predict_proba(X))
        np.testing.assert_array_equal(proba, on_disk.predict_proba(X))
        np.testing.assert_array_equal(on_disk.predict(store), in_memory.predict(X))
        assert on_disk.score(store, y) == in_memory.score(X, y)
        # explicit labels (strings) instead of the store's
        names = np.array(["a", "b", "c"])[np.searchsorted([14, 62, 225], y)]
        relabelled = clf.__class__(**clf.get_params()).fit(store, names)
        np.testing.assert_array_equal(relabelled.classes_, ["a", "b", "c"])
        with pytest.raises(ValueError, match="199 labels but the pattern store"):
            relabelled.fit(store, names[1:])


def test_training_reads_a_few_rows_at_a_time(estimators, tmp_path, monkeypatch):
    from skxrd.estimators import _data as _base

    # shuffle groups of one 64-row block: the block-shuffling sampler is used
    monkeypatch.setattr(_base, "_SHUFFLE_GROUP_BYTES", 1)
    path = tmp_path / "train.h5"
    X, y = separable_store(path, n=400)
    test_path = tmp_path / "test.h5"
    X_test, y_test = separable_store(test_path, n=100, seed=1)
    clf = estimators.set_params(depth=2, width=8, max_epochs=3)
    with PatternStore(path) as store, PatternStore(test_path) as test:
        assert store.X.chunks == (64, 128)
        loader = _base._train_loader(_base._StoreDataset(store.X, y), batch_size=16)
        assert isinstance(loader.batch_sampler.sampler, _base._BlockShuffleSampler)
        counter = CountingRows(store._dataset)
        store._dataset = counter
        clf.fit(store)
        # a read returns rows of one HDF5 chunk (or two batches), never the
        # store; each epoch reads every row
        assert max(counter.reads) <= max(64, 2 * clf.batch_size) < len(X)
        assert sum(counter.reads) >= 3 * len(X)
        assert clf.score(test, y_test) > 0.8  # chance: about 1/3
        again = clf.__class__(**clf.get_params()).fit(store)
        np.testing.assert_array_equal(
            again.predict_proba(test), clf.predict_proba(test)
        )


def test_sampler_is_a_permutation_read_block_by_block():
    torch = pytest.importorskip("torch")
    from skxrd.estimators._data import _BlockShuffleSampler

    for n in (1000, 1024):
        sampler = _BlockShuffleSampler(n, 64, 128)
        torch.manual_seed(0)
        order = list(sampler)
        assert sorted(order) == list(range(n)) and len(sampler) == n
        assert order != sorted(order)
        torch.manual_seed(0)
        assert list(sampler) == order
    # groups of two whole blocks: each run of 128 indices comes from two blocks
    for start in range(0, 1024, 128):
        assert len({i // 64 for i in order[start : start + 128]}) == 2


def test_incomplete_store_is_refused_for_training(estimators, tmp_path):
    path = tmp_path / "partial.h5"
    write_pattern_store(path, N, max_chunks=1, **SETTINGS).close()
    with PatternStore(path) as store:
        with pytest.raises(ValueError, match="partial.h5.*incomplete.*16 of 40"):
            estimators.fit(store)
    with PatternStore(path, allow_incomplete=True) as store:
        clf = estimators.set_params(validation_fraction=None).fit(store)
        assert clf.predict(store).shape == (16,)
        assert clf.n_features_in_ == 500


def test_labels_read_before_need_no_lock(reference):
    """``store.y`` read again (per sample, in a torch Dataset) does not wait
    for the lock that a row read in another thread holds, and the labels of
    a resumed store are still read anew (the cache is the open file's)."""
    import threading

    with PatternStore(reference) as store:
        first = store.y
        got = []
        with _store._FILE_LOCK:  # as a row read in another thread holds it
            reader = threading.Thread(target=lambda: got.append(store.y))
            reader.start()
            reader.join(timeout=10)
            waited = reader.is_alive()
        reader.join()
        assert not waited
        assert np.array_equal(got[0], first)
        store._release()  # as write_pattern_store lets go of the file
        assert np.array_equal(store.y, first) and store._file is not None


def test_damaged_bytes_are_a_read_error_not_wrong_patterns(reference, tmp_path):
    # bytes overwritten inside the first chunk of X and of y (a bad disk, a
    # copy cut and patched): HDF5 alone reads them as patterns and labels
    path = tmp_path / "damaged.h5"
    shutil.copy(reference, path)

    def offset(dataset):
        if dataset.chunks is None:
            return dataset.id.get_offset()
        return dataset.id.get_chunk_info(0).byte_offset

    with h5py.File(path, "r") as f:
        where = [offset(f["X"]), offset(f["space_group"])]
    with open(path, "r+b") as fh:
        for at in where:
            fh.seek(at + 8)
            fh.write(b"\x7f" * 8)
    with PatternStore(path) as store:
        with pytest.raises(OSError, match="damaged.h5.*damaged"):
            _ = store.X[0]
        with pytest.raises(OSError, match="damaged.h5.*damaged"):
            _ = store.space_group


def test_stores_written_before_kbeta_and_polarization_resume(tmp_path):
    # stores record the simulator's and the instrument sampler's parameters;
    # those of older versions lack kbeta and polarization, which had their
    # default values there
    path = tmp_path / "old.h5"
    settings = {**SETTINGS, "chunk_size": 4, "instrument": {"zero_shift": 0.05}}
    write_pattern_store(path, 8, max_chunks=1, **settings).close()
    with h5py.File(path, "r+") as f:
        for key, new in (
            ("simulator", ("kbeta", "polarization")),
            ("instrument", ("kbeta",)),
        ):
            params = json.loads(f.attrs[key + "_json"])
            assert all(name in params for name in new)
            f.attrs[key + "_json"] = json.dumps(
                {k: v for k, v in params.items() if k not in new}
            )
    write_pattern_store(path, 8, **settings).close()
    straight = tmp_path / "straight.h5"
    write_pattern_store(straight, 8, **settings).close()
    np.testing.assert_array_equal(read_all(path)["X"], read_all(straight)["X"])
    # a store of another Kβ ratio is another store
    sim = PowderSimulator(two_theta_range=(10, 60), two_theta_step=0.1, kbeta=0.02)
    with pytest.raises(ValueError, match="simulator="):
        write_pattern_store(path, 8, **{**settings, "simulator": sim})


@pytest.mark.parametrize("bad", ["2", 1.5, 0, True])
def test_a_bad_n_jobs_is_named_before_writing(bad, tmp_path):
    path = tmp_path / "bad.h5"
    with pytest.raises(ValueError, match="n_jobs must be None or a non-zero"):
        write_pattern_store(path, 4, n_jobs=bad, **SETTINGS)
    assert not path.exists()


def test_a_store_of_another_data_revision_is_not_resumed(tmp_path):
    # the generator's revisions change the crystals of the same settings:
    # chunks added under another one silently came from another draw
    path = tmp_path / "old.h5"
    settings = {**SETTINGS, "chunk_size": 4}
    write_pattern_store(path, 8, max_chunks=1, **settings).close()
    with h5py.File(path, "r") as f:
        assert int(f.attrs["data_revision"]) == _store.DATA_REVISION
    with h5py.File(path, "r+") as f:
        f.attrs["data_revision"] = _store.DATA_REVISION - 1
    with pytest.raises(ValueError, match=r"begun with data revision \d+ and this"):
        write_pattern_store(path, 8, **settings)
    assert read_all(path)["X"].shape[0] == 8  # the file as it was
    # a store begun before the revision was recorded: said, then resumed
    with h5py.File(path, "r+") as f:
        del f.attrs["data_revision"]
    with pytest.warns(UserWarning, match="does not record the data revision"):
        write_pattern_store(path, 8, **settings).close()
    straight = tmp_path / "straight.h5"
    write_pattern_store(straight, 8, **settings).close()
    np.testing.assert_array_equal(read_all(path)["X"], read_all(straight)["X"])
    # a complete store is read whatever its revision
    with h5py.File(straight, "r+") as f:
        f.attrs["data_revision"] = _store.DATA_REVISION - 1
    write_pattern_store(straight, 8, **settings).close()
