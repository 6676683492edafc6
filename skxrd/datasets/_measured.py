"""Measured powder patterns bundled with the package (with their licences)."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_measured_examples"]

_SOURCES = ("ssrl", "oviedo2019")


def load_measured_examples(source=None):
    """Ten measured powder patterns bundled with skxrd, with their labels.

    Six synchrotron powder patterns (SSRL beamline 2-1, λ ≈ 0.73 Å;
    crystal-system labels; MIT licence, Chitturi et al., J. Appl. Cryst. 2021)
    and four laboratory scans of metal-halide thin films (assumed Cu Kα, the
    files state no wavelength; space-group labels of the authors; Apache-2.0,
    Oviedo et al., npj Comput. Mater. 5, 60, 2019). The files are copied
    unchanged; the licences and the full citations are in ``DESCR`` and next to
    the files (``skxrd/datasets/data/measured/``). Use them for examples and
    sanity checks of models trained on synthetic patterns, not as a benchmark:
    they are few, and the thin films are textured.

    Parameters
    ----------
    source : {"ssrl", "oviedo2019"} or None, default=None
        Only the files of one source; None: all ten.

    Returns
    -------
    Bunch
        ``patterns`` (list of :class:`~skxrd.io.Pattern`, each with its
        wavelength), ``files`` (paths), ``names``, ``crystal_system`` (names),
        ``space_group`` (int, -1 where the source gives none), ``source``,
        ``DESCR`` (provenance, licences and citations).

    Examples
    --------
    >>> from skxrd.datasets import load_measured_examples
    >>> data = load_measured_examples()
    >>> len(data.patterns), data.names[0], str(data.crystal_system[0])
    (10, 'LaB6', 'cubic')
    >>> round(data.patterns[0].wavelength, 4), int(data.space_group[-1])
    (0.7296, 225)
    """
    from ..io import read_pattern

    if source is not None and source not in _SOURCES:
        raise ValueError(f"source must be one of {_SOURCES} or None, got {source!r}")
    folder = resources.files(__package__).joinpath("data", "measured")
    with folder.joinpath("labels.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if source in (None, r["source"])]
    patterns, files = [], []
    for row in rows:
        path = folder.joinpath(*row["file"].split("/"))
        with resources.as_file(path) as file:
            wavelength = row["wavelength"]
            try:
                wavelength = float(wavelength)
            except ValueError:
                pass  # a radiation name such as "CuKa"
            patterns.append(read_pattern(file, wavelength=wavelength))
            files.append(str(file))
    return Bunch(
        patterns=patterns,
        files=files,
        names=[r["name"] for r in rows],
        crystal_system=np.array([r["crystal_system"] for r in rows]),
        space_group=np.array([int(r["space_group"] or -1) for r in rows]),
        source=np.array([r["source"] for r in rows]),
        DESCR=folder.joinpath("README.md").read_text(encoding="utf-8"),
    )
