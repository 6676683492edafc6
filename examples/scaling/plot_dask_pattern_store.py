"""
A pattern store written on a Dask cluster, and a classifier trained from it
===========================================================================

Crystal generation and simulation in skxrd go through joblib, so a Dask
cluster takes them over with :func:`joblib.parallel_config`, and the result is
bit-identical to the default (loky) backend's. Here a small local cluster
writes a resumable HDF5 :class:`~skxrd.datasets.PatternStore`, and a
:class:`~skxrd.estimators.ResNetClassifier` trains from the file without
loading it into memory.

On a real cluster, replace the :class:`~dask.distributed.LocalCluster` by
``Client("tcp://scheduler:8786")`` or a ``dask_jobqueue.SLURMCluster`` scaled
to the number of jobs; use one thread per worker process, and put the code
under ``if __name__ == "__main__":`` (worker processes re-import the script).
Only the calling process writes the file, so no shared file system is needed.
"""

# %%
# Write the store on the cluster
# ------------------------------
# ``n_jobs`` other than 1 hands the chunks to joblib's backend (with
# ``n_jobs=1`` everything runs in this process). Each chunk has its own seed
# derived from ``random_state``, so the file is the same for any number of
# workers, and an interrupted run resumes at its first unfinished chunk.
import tempfile
from pathlib import Path

import joblib
import numpy as np
from dask.distributed import Client, LocalCluster

from skxrd.datasets import PatternStore, write_pattern_store
from skxrd.estimators import ResNetClassifier
from skxrd.simulation import PowderSimulator

workdir = Path(tempfile.mkdtemp())
simulator = PowderSimulator(two_theta_range=(10.0, 70.0), two_theta_step=0.1)
settings = dict(
    target="crystal_system",
    simulator=simulator,
    space_groups=[14, 62, 139, 194, 225],  # monoclinic ... cubic
    n_atoms=(2, 12),
    chunk_size=100,
    verbose=False,  # progress bars are for terminals, not for this page
)

# threads keep this page's build light; use processes on a real machine
with (
    LocalCluster(n_workers=2, threads_per_worker=1, processes=False) as cluster,
    Client(cluster),
    joblib.parallel_config(backend="dask"),
):
    write_pattern_store(
        workdir / "train.h5", 1500, random_state=0, n_jobs=-1, **settings
    ).close()
    write_pattern_store(
        workdir / "test.h5", 200, random_state=1, n_jobs=-1, **settings
    ).close()

# %%
# The same file with the default backend
# --------------------------------------
# The store written by the cluster holds exactly the patterns that the
# default backend writes.
write_pattern_store(workdir / "local.h5", 1500, random_state=0, n_jobs=2, **settings)
with PatternStore(workdir / "train.h5") as a, PatternStore(workdir / "local.h5") as b:
    print(len(a), "patterns of", a.shape[1], "points; classes:", np.unique(a.y))
    print("identical to the local backend's:", np.array_equal(a.X[:], b.X[:]))

# %%
# Train from the store, predict a store
# -------------------------------------
# ``fit`` reads blocks of rows in random order (the labels are the store's
# target), and ``predict`` streams the test store batch by batch.
with (
    PatternStore(workdir / "train.h5") as train,
    PatternStore(workdir / "test.h5") as test,
):
    clf = ResNetClassifier(
        depth=3,
        width=16,
        batch_size=32,
        max_epochs=15,
        lr=3e-3,
        num_threads=1,
        random_state=0,
    ).fit(train)
    print(f"held-out accuracy: {clf.score(test, test.y):.2f} (5 classes)")
