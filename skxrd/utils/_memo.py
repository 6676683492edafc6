"""A per-process cache whose key leaves out the progress bar."""

from __future__ import annotations

import functools


def cache_ignoring_verbose(func):
    """:func:`functools.cache` for ``func(*args, verbose=False)``, keyed by
    ``args`` only.

    The call that computes a value shows its progress bar when asked to; later
    calls, with or without ``verbose``, return the stored value. With
    ``functools.cache`` a ``verbose`` argument would be part of the key, and a
    load done quietly would be done again, for minutes, just to show a bar.

    Parameters
    ----------
    func : callable
        Takes hashable positional arguments and a keyword ``verbose``.

    Returns
    -------
    callable
        ``func`` with the cache; ``cache_clear()`` empties it, as for
        :func:`functools.cache`.

    Examples
    --------
    >>> from skxrd.utils._memo import cache_ignoring_verbose
    >>> calls = []
    >>> @cache_ignoring_verbose
    ... def square(x, verbose=False):
    ...     calls.append(verbose)
    ...     return x * x
    >>> square(3, verbose=True), square(3), calls
    (9, 9, [True])
    """
    results: dict = {}

    @functools.wraps(func)
    def wrapper(*args, verbose=False):
        try:
            return results[args]
        except KeyError:
            pass
        value = func(*args, verbose=verbose)
        results[args] = value
        return value

    wrapper.cache_clear = results.clear
    return wrapper
