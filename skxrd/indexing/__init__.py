"""Powder indexing: peak positions, lattices that explain them, figures of merit.

Indexing finds a unit cell whose reflections fall on a pattern's peaks, the
classical first step of a structure determination. This subpackage indexes on
the thirteen Bravais lattices of the cubic, tetragonal, hexagonal,
orthorhombic and monoclinic families (``cP cI cF tP tI hP hR oP oC oI oF mP
mC``: :data:`LATTICE_TYPES`), and on the triclinic ``aP`` when asked
(:data:`ALL_LATTICE_TYPES`), and scores each with de Wolff's figure of merit.
The merits are evidence that a network trained on simulated patterns lacks on
measured ones: a pattern of a tetragonal or hexagonal crystal is explained by
a cell of one or two parameters, an orthorhombic one by a cell of three, a
monoclinic one by a cell of four, and a triclinic one by none of them but a
cell of six, which also explains many peak lists of other families fairly
well. The tolerances are windows in Q, degrees of 2θ at Cu Kα1 whatever the
wavelength of the lines (capped at Cu Kα1's widest, that at 90°, for lines
it would see beyond): one crystal indexes alike at any wavelength, its merits
within a fraction of a per cent.

- :func:`peak_positions`: the 2θ of a pattern's peaks, counting noise and Kα2
  ghosts left out;
- :func:`index_powder`: the best cell per lattice type for a list of peaks,
  each refined with a zero shift of the 2θ scale;
- :func:`lattice_merits`: the figures of merit of many patterns, the features
  of :class:`~skxrd.estimators.IndexingClassifier`;
- :func:`space_group_merits`: an indexed cell's merit with each space group's
  systematic absences, which ranks the space groups by their extinctions.
"""

from ._absences import space_group_merits
from ._index import (
    ALL_LATTICE_TYPES,
    LATTICE_TYPES,
    IndexingSolution,
    index_powder,
    lattice_merits,
)
from ._peaks import peak_positions

__all__ = [
    "ALL_LATTICE_TYPES",
    "LATTICE_TYPES",
    "IndexingSolution",
    "index_powder",
    "lattice_merits",
    "peak_positions",
    "space_group_merits",
]
