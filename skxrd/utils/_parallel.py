"""One joblib map with a progress bar, for every joblib backend."""

from __future__ import annotations

from joblib import Parallel, delayed
from joblib.parallel import get_active_backend
from tqdm.auto import tqdm


def parallel_map(
    func, args, *, n_jobs, verbose=False, desc=None, unit="it", batch_size="auto"
):
    """``[func(*a) for a in args]`` on joblib's workers, with a progress bar.

    Results stream back as they finish (``return_as="generator"``, so the bar
    moves) where the active backend can do that: loky (the default),
    threading, Dask. The multiprocessing and Ray backends cannot; there the
    results arrive together at the end. The order of ``args`` is kept either
    way, so the result does not depend on the backend.

    Parameters
    ----------
    func : callable
        Called once per item of ``args``, with the item unpacked.
    args : sequence of tuples
        The arguments of each call.
    n_jobs : int or None
        Workers, as for :class:`joblib.Parallel`.
    verbose : bool, default=False
        Show a tqdm progress bar.
    desc, unit : str
        Label and unit of the progress bar.
    batch_size : int or "auto", default="auto"
        Calls sent to a worker at a time.

    Returns
    -------
    list
        The results, in the order of ``args``.

    Examples
    --------
    >>> from skxrd.utils._parallel import parallel_map
    >>> parallel_map(pow, [(2, 3), (3, 2)], n_jobs=2)
    [8, 9]
    """
    backend, _ = get_active_backend()
    streams = getattr(backend, "supports_return_generator", False)
    parallel = Parallel(
        n_jobs=n_jobs,
        batch_size=batch_size,
        return_as="generator" if streams else "list",
    )
    return list(
        tqdm(
            parallel(delayed(func)(*a) for a in args),
            total=len(args),
            disable=not verbose,
            desc=desc,
            unit=unit,
        )
    )


def release_workers():
    """Shut down joblib's idle loky worker processes, if there are any.

    Workers that ran simulations and then get a network to fit (for example
    from ``GridSearchCV(n_jobs=...)``) grow by more than loky's 300 MB leak
    threshold when their first fit imports torch: loky restarts them and warns
    "A worker stopped while some jobs were given to the executor". Releasing
    the workers after a simulation phase gives the fits fresh ones. Does
    nothing under other backends, or when no loky executor exists.
    """
    backend, _ = get_active_backend()
    if type(backend).__name__ != "LokyBackend":
        return
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)  # None: never started
    if executor is not None:
        executor.shutdown(wait=True)
