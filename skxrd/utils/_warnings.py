"""Warnings that point at the user's line, not at skxrd's or scikit-learn's."""

from __future__ import annotations

import os
import sys

__all__ = ["caller_stacklevel"]


def caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside skxrd and scikit-learn,
    for a ``warnings.warn`` in the function that calls this one.

    A transformer's warning then names the user's ``transform`` call, also
    through scikit-learn's output wrappers and Pipelines.
    """
    import skxrd

    # scikit-learn only when it is loaded: it calls the transformers in a Pipeline
    packages = [skxrd] + [m for m in (sys.modules.get("sklearn"),) if m is not None]
    inside = tuple(os.path.dirname(m.__file__) + os.sep for m in packages)
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(inside):
        frame, level = frame.f_back, level + 1
    return level
