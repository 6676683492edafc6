"""A space-group classifier whose crystal systems are weighed against indexing."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted, check_memory

from ..utils._validation import check_positive
from ._core import (
    check_same_length,
    coarse_membership,
    fit_coarse_temperatures,
    temper_coarse,
)
from ._indexing_core import (
    INDEXING_ABSENCE_MIN_MERIT,
    INDEXING_ABSENCE_WEIGHT,
    INDEXING_DEGREE,
    INDEXING_FAMILIES,
    INDEXING_FIRST_LINES,
    INDEXING_MAX_ZERO_SHIFT,
    INDEXING_MERIT_CAP,
    check_absences,
    check_also,
    check_degree,
    check_families,
    check_first_lines,
    check_max_zero_shift,
    check_merit_cap,
    indexable,
    indexing_cells,
    indexing_features,
    indexing_merits,
    stack_proba,
    weigh_absences,
)
from ._mixins import _ProbabilisticMixin
from ._weights import (
    check_weightable,
    checked_sample_weight,
    known_weights,
    weighted_fit,
)

__all__ = ["IndexingClassifier"]

_SCALES = ("linear", "sqrt")
_SEARCH_CODE = None


# the files whose code or data decide the merits (peak finding and its
# find_peaks, the search, radiations, the absences and their table, and
# indexing_merits' module), relative to the package
_SEARCH_SOURCES = (
    "indexing/_index.py",
    "indexing/_peaks.py",
    "utils/_radiation.py",
    "estimators/_indexing_core.py",
    "indexing/_absences.py",
    "utils/_signal.py",
    "indexing/_absences.npz",
)


def _search_code():
    """A digest of the indexing's source (:data:`_SEARCH_SOURCES`): cached
    merits are not reused once the search changes."""
    global _SEARCH_CODE
    if _SEARCH_CODE is None:
        import hashlib
        from pathlib import Path

        root = Path(__file__).resolve().parents[1]
        digest = hashlib.sha1()
        for part in _SEARCH_SOURCES:
            digest.update((root / part).read_bytes())
        _SEARCH_CODE = digest.hexdigest()
    return _SEARCH_CODE


def _cached_merits(X, two_theta, settings, code, n_jobs=None, verbose=False):
    """:func:`indexing_merits` for ``joblib.Memory``: keyed by the rows, the
    grid, the settings (the last: whether the space groups' absences are
    scored) and the search's ``code``."""
    *settings, absences = settings
    return indexing_merits(
        X, two_theta, *settings, n_jobs=n_jobs, verbose=verbose, absences=absences
    )


class IndexingClassifier(
    _ProbabilisticMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator
):
    """A space-group classifier whose crystal systems are weighed against indexing.

    Powder indexing (:mod:`skxrd.indexing`) asks whether a cubic, tetragonal,
    hexagonal, orthorhombic (or monoclinic) cell explains a pattern's peaks,
    and how well (de Wolff's figure of merit). A network trained on
    simulated patterns carries its errors over to measured ones; the geometry
    of the peak positions does not. This classifier stacks both: a
    multinomial logistic regression of the crystal system on the wrapped
    classifier's log crystal-system
    probabilities and the best figure of merit ``M`` of each family (as
    ``log(1 + M)`` and its square), learned on ``fit``'s patterns. Its
    crystal-system probabilities then replace the wrapped classifier's; each
    space group keeps its share of its
    crystal system, so the space-group answers and the crystal-system sums
    (:class:`CoarseLabelClassifier`) never contradict each other. A pattern
    with fewer than 8 peaks cannot be indexed: finding no cell there says
    nothing, and it keeps the wrapped classifier's answer (such patterns are
    left out of the stacker's training too).

    With ``absences``, the space groups are weighed by their systematic
    absences too (:func:`skxrd.indexing.space_group_merits`): each crystal
    family's best cell is scored with the lines each space group allows. The
    stacker sees each family's best space group's merit (a cell whose
    missing lines are a glide's or a screw axis's scores above its lattice),
    and within each crystal system whose family's cell scores at least
    ``absence_min_merit``, each space group's probability is multiplied by
    its merit over the best group's, to the power ``absence_weight`` (at
    least ``exp(-3)``); the crystal system's sum does not move. Groups of
    one extinction class (``P2/m``, ``P2``, ``Pm``) keep the classifier's
    odds.

    :meth:`calibrate_temperature` fits two temperatures on held-out patterns
    (from then on applied by :meth:`predict_proba`): one of the crystal
    systems' probabilities, one of each crystal system's shares among its
    space groups. Neither changes the top crystal system or the order of the
    space groups within one. (The shipped models' stacked probabilities were
    underconfident on simulated patterns the stacker had not been fitted on.)

    The stacker must learn from predictions on patterns the wrapped
    classifier was not trained on: ``fit`` uses cross-validated predictions
    (``cv``), or pass a classifier trained elsewhere as
    :class:`sklearn.frozen.FrozenEstimator` and fit on held-out patterns (the
    shipped models: a network trained on one simulated set, the stacker on
    another).

    Parameters
    ----------
    estimator : classifier
        A classifier of space groups (numbers 1–230 or Hermann–Mauguin
        symbols) with ``predict_proba``.
    two_theta : array-like of shape (n_features,)
        The 2θ (degrees) of the columns of ``X``.
    radiation : str or float, default="CuKa"
        The patterns' radiation: a name (``"CuKa"`` with its Kα2 line,
        ``"CuKa1"``, ``"MoKa"``...) or a wavelength in Å.
    scale : {"linear", "sqrt"}, default="linear"
        How ``X`` holds intensities: ``"sqrt"`` for square roots (as the
        shipped models' preprocessing), squared back before peak finding.
    C : float, default=0.1
        Inverse regularization strength of the logistic regression.
    families : str, default="ctho"
        The lattice families indexed, one letter each: cubic, tetragonal,
        hexagonal, orthorhombic, monoclinic (the three-parameter orthorhombic
        search takes about a third of the indexing time; without it,
        ``"cth"``, a monoclinic pattern is told from an orthorhombic one by
        the network alone; ``"m"``, four parameters, adds about a third:
        0.19 s against 0.49 s per measured pattern; its cells also explain
        many triclinic and orthorhombic patterns, so it is weak evidence, and
        on measured minerals it did not pay: left out by default), triclinic
        (``"a"``: six parameters, about 0.15 s more per measured pattern, up to
        0.3 s; a triclinic cell of 20 measured lines is found for 42 % of
        triclinic minerals and 30 % of monoclinic ones, but as one more
        feature it lifted the RRUFF crystal systems 344 → 348: the shipped
        models weigh ``"cthoa"``; ``experiments/README.md``).
    degree : {1, 2}, default=2
        The powers of ``log(1 + M)`` the stacker sees: with 2 it can weigh a
        weak cell (``M`` about 10) differently from a sure one (50 and more).
    merit_cap : float, default=100.0
        Merits above it count as ``merit_cap`` (``inf``: no cap). Exact peak
        positions (simulated, or very clean synchrotron patterns) give merits
        of hundreds, further than the stacker was fitted on; a cap keeps its
        square term from running off there.
    max_zero_shift : float, default=0.1
        The largest zero shift of the 2θ scale (degrees) refined with each
        cell (:func:`skxrd.indexing.index_powder`): measured patterns are
        often offset by a few hundredths of a degree, more than a cubic cell
        of one parameter can follow at the indexing tolerance. 0 refines none
        (model files written before it).
    first_lines : int, default=2
        The orthorhombic and monoclinic candidates start from one of the
        first this many lines (:func:`skxrd.indexing.index_powder`), passing
        over stray lines before the cell's first. 4, ``index_powder``'s
        default, finds more cells of measured patterns but takes about twice
        the time; the shipped stackers were fitted with 2.
    absences : bool, default=False
        Weigh the space groups by their systematic absences on each family's
        best cell (see above): about 0.04 s more per pattern (median of 40
        RRUFF patterns, at most 0.26 s).
    absence_weight : float, default=1.0
        The power of a group's merit ratio its probability is multiplied by
        (0: the stacker's features change, the shares within a crystal
        system do not).
    absence_min_merit : float, default=40.0
        The merit a family's best cell needs for its crystal system's shares
        to be weighed (a wrong cell's absences say nothing). 1.0 and 40.0
        gave the lowest space-group log-loss of simulated tuning patterns
        (``experiments/absences.py``).
    cv : int, cross-validation generator or None, default=5
        How ``fit`` gets the wrapped classifier's probabilities for the
        stacker: cross-validated (as :class:`sklearn.ensemble.StackingClassifier`)
        or, with None, its predictions on ``X`` after fitting on it (right for
        a :class:`~sklearn.frozen.FrozenEstimator`).
    n_jobs : int, optional
        Processes for the indexing (about a third of a second per pattern).
    verbose : bool, default=False
        A progress bar over the indexing.
    memory : str, path-like or joblib.Memory, optional
        Where to cache the merits of the patterns (as
        :class:`sklearn.pipeline.Pipeline`'s ``memory``): indexing the same
        rows with the same settings and the same version of the search reads
        them back, as when several models share one set of test patterns.
        None caches nothing. Not saved in model files.

    Attributes
    ----------
    estimator_ : classifier
        The fitted space-group classifier.
    stacker_ : LogisticRegression
        The crystal-system stacker.
    crystal_systems_ : ndarray of str
        The crystal systems of ``classes_``, sorted (the stacker's inputs).
    system_temperature_ : float
        The temperature of the crystal systems' probabilities (1 until
        :meth:`calibrate_temperature`).
    group_temperature_ : float
        The temperature of the space groups' shares within each crystal
        system (1 until :meth:`calibrate_temperature`).
    classes_ : ndarray
        The wrapped classifier's classes.
    n_features_in_ : int
        Number of columns of ``X``.

    See Also
    --------
    skxrd.indexing.lattice_merits : the figures of merit.
    CoarseLabelClassifier : crystal systems from the space groups.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.frozen import FrozenEstimator
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skxrd.estimators import IndexingClassifier
    >>> tt = np.arange(10, 70, 0.05)
    >>> def pattern(lines):
    ...     return sum(np.exp(-0.5 * ((tt - p) / 0.06) ** 2) for p in lines)
    >>> def cubic(a):  # the first lines of a primitive cubic cell
    ...     n = np.array([1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13])
    ...     return 2 * np.degrees(np.arcsin(1.5405929 * np.sqrt(n) / (2 * a)))
    >>> rng = np.random.default_rng(0)
    >>> X = np.array([pattern(cubic(a)) for a in rng.uniform(3.5, 4.5, 6)]
    ...              + [pattern(np.sort(rng.uniform(15, 68, 12))) for _ in range(6)])
    >>> y = np.repeat([221, 14], 6)       # space groups
    >>> sees_nothing = LogisticRegression().fit(np.zeros((2, len(tt))), [221, 14])
    >>> blind = FrozenEstimator(sees_nothing)
    >>> clf = IndexingClassifier(blind, two_theta=tt, radiation="CuKa1", C=1.0, cv=None)
    >>> clf.fit(X, y).predict(X[[0, -1]]).tolist()
    [221, 14]
    """

    def __init__(
        self,
        estimator,
        *,
        two_theta,
        radiation="CuKa",
        scale="linear",
        C=0.1,
        families=INDEXING_FAMILIES,
        degree=INDEXING_DEGREE,
        merit_cap=INDEXING_MERIT_CAP,
        max_zero_shift=INDEXING_MAX_ZERO_SHIFT,
        first_lines=INDEXING_FIRST_LINES,
        absences=False,
        absence_weight=INDEXING_ABSENCE_WEIGHT,
        absence_min_merit=INDEXING_ABSENCE_MIN_MERIT,
        cv=5,
        n_jobs=None,
        verbose=False,
        memory=None,
    ):
        self.estimator = estimator
        self.two_theta = two_theta
        self.radiation = radiation
        self.scale = scale
        self.C = C
        self.families = families
        self.degree = degree
        self.merit_cap = merit_cap
        self.max_zero_shift = max_zero_shift
        self.first_lines = first_lines
        self.absences = absences
        self.absence_weight = absence_weight
        self.absence_min_merit = absence_min_merit
        self.cv = cv
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.memory = memory

    def _check_params(self):
        from ..utils._radiation import get_radiation

        if self.scale not in _SCALES:
            raise ValueError(f"scale must be one of {_SCALES}, got {self.scale!r}")
        if not float(self.C) > 0:
            raise ValueError(f"C must be positive, got {self.C!r}")
        check_families(self.families)
        check_degree(self.degree)
        check_merit_cap(self.merit_cap)
        check_max_zero_shift(self.max_zero_shift)
        check_first_lines(self.first_lines)
        check_absences(self.absences, self.absence_weight, self.absence_min_merit)
        tt = np.asarray(self.two_theta, dtype=float)
        if tt.ndim != 1 or len(tt) < 16 or not np.all(np.diff(tt) > 0):
            raise ValueError(
                "two_theta must be the increasing 2θ grid of the columns of X "
                f"(at least 16 points), got shape {tt.shape}"
            )
        get_radiation(self.radiation)
        return tt

    def _search(self):
        """The grid and the search settings of both :meth:`merits` and
        :meth:`cells`: one tuple, so that the cells are those whose merits
        the stacker weighs."""
        return (
            np.asarray(self.two_theta, dtype=float),
            self.radiation,
            self.scale,
            self.families,
            float(self.max_zero_shift),
            int(self.first_lines),
        )

    def _check_rows(self, X):
        """``X`` as float rows on ``two_theta``, or an error naming it (the
        parameters checked first)."""
        tt = self._check_params()
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != len(tt):
            raise ValueError(
                f"X has shape {X.shape}; {len(tt)} columns (two_theta) are needed"
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("X holds NaN or infinite values")
        return X

    def merits(self, X):
        """Figures of merit of each pattern (:func:`skxrd.indexing.lattice_merits`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        merits : ndarray of shape (n_samples, len(ALL_LATTICE_TYPES) + 1)
            The merit of each lattice type of
            :data:`skxrd.indexing.ALL_LATTICE_TYPES` (0 for those outside
            ``families``), then the number of peaks.
        group_merits : ndarray of shape (n_samples, 230)
            Only with ``absences`` (the two in a tuple): the merit of space
            groups 1-230 on their family's best cell.
        """
        X = self._check_rows(X)
        tt, *settings = self._search()
        settings = (*settings, bool(self.absences))
        if self.memory is None:
            return _cached_merits(
                X, tt, settings, None, n_jobs=self.n_jobs, verbose=self.verbose
            )
        cached = check_memory(self.memory).cache(
            _cached_merits, ignore=["n_jobs", "verbose"]
        )
        return cached(
            X, tt, settings, _search_code(), n_jobs=self.n_jobs, verbose=self.verbose
        )

    def cells(self, X, return_n_peaks=False, also=""):
        """The cells the indexing found: those behind :meth:`merits`.

        Each pattern's peaks are indexed as :meth:`merits` indexes them (the
        same grid, ``radiation``, ``scale``, ``families``, ``max_zero_shift``
        and ``first_lines``), so the cells are those whose figures of merit
        the stacker weighs. Patterns whose merits were computed lately in
        this process (the last 64 patterns, by :meth:`predict_proba` say)
        are not indexed again; those indexed with ``n_jobs`` or read from
        ``memory`` are. Needs no fitting.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns on ``two_theta``, as :meth:`predict_proba` takes them.
        return_n_peaks : bool, default=False
            Also return the number of peaks indexed per pattern (at most
            20; fewer than 8 cannot be indexed, and then every cell is None).
        also : str, default=""
            Letters of families outside ``families`` whose cells to search
            too, on the same peaks with the same settings (``"m"``: the
            monoclinic cells, which the shipped models do not weigh; about
            0.3 s more per pattern). Their merits reach no answer.

        Returns
        -------
        cells : list of dict
            One per pattern: lattice type (of
            :data:`skxrd.indexing.ALL_LATTICE_TYPES`, those of ``families``)
            -> :class:`skxrd.indexing.IndexingSolution`, or None where no
            cell of that type explains the peaks. Its arrays are read-only.
        n_peaks : ndarray of shape (n_samples,)
            Only with ``return_n_peaks``.

        Examples
        --------
        >>> import numpy as np
        >>> from skxrd.estimators import IndexingClassifier
        >>> tt = np.arange(10, 90, 0.02)
        >>> n = np.array([1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13])
        >>> lines = 2 * np.degrees(np.arcsin(1.5405929 * np.sqrt(n) / (2 * 3.905)))
        >>> X = sum(np.exp(-0.5 * ((tt - p) / 0.04) ** 2) for p in lines)[None]
        >>> clf = IndexingClassifier(None, two_theta=tt, radiation="CuKa1")
        >>> cells = clf.cells(X)[0]
        >>> sol = cells["cP"]  # SrTiO3's cell: all 11 lines below 90°
        >>> round(sol.a, 3), sol.n_indexed, sol.n_lines, round(sol.figure_of_merit)
        (3.905, 11, 11, ...)
        """
        from ..utils._validation import check_bool

        check_bool(return_n_peaks, "return_n_peaks")
        check_also(also)
        X = self._check_rows(X)
        found = indexing_cells(X, *self._search(), also=also)
        cells = [c for _, c in found]
        if return_n_peaks:
            return cells, np.array([n for n, _ in found], dtype=int)
        return cells

    def fit(self, X, y, merits=None, sample_weight=None):
        """Fit the classifier, then the crystal-system stacker.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns on ``two_theta``.
        y : array-like of shape (n_samples,)
            Space groups.
        merits : array-like of shape (n_samples, n_lattices + 1), optional
            :meth:`merits` of ``X`` computed already (the indexing is the
            slow part): ``n_lattices`` is ``len(ALL_LATTICE_TYPES)``; with
            ``absences``, the tuple of both arrays.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns (finite, >= 0, not all 0; None: all 1).
            The wrapped classifier's fit gets them all, and so does each of
            its cross-validated fits (``cv``) its rows'; the stacker learns
            the indexable patterns with theirs. A pattern of weight 0 is
            left out of the cross-validation and of the stacker, as if it
            were not in ``X``. The wrapped classifier's ``fit`` must take
            ``sample_weight`` (a :class:`~sklearn.pipeline.Pipeline`: its
            last step's), else a TypeError names it before any indexing; a
            :class:`~sklearn.frozen.FrozenEstimator` learns nothing and gets
            none.

        Returns
        -------
        self : object
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import cross_val_predict

        from ..crystal import to_crystal_system

        self._check_params()
        y = np.asarray(y)
        check_same_length(X, y)  # before the indexing, which is slow
        sample_weight = checked_sample_weight(sample_weight, len(y))
        keyword = None
        if sample_weight is not None:
            keyword = check_weightable(
                self.estimator, "estimator", "IndexingClassifier.fit"
            )
        to_crystal_system(y)  # an error naming a bad space group, before training
        if merits is None:
            merits = self.merits(X)
        merits, groups = self._split(merits, len(y))
        fitted = weighted_fit(clone(self.estimator), X, y, sample_weight, keyword)
        if self.cv is None:
            proba = fitted.predict_proba(X)
        elif sample_weight is None:
            proba = cross_val_predict(
                clone(self.estimator), X, y, cv=self.cv, method="predict_proba"
            )
        else:
            proba = self._weighted_cv_proba(
                X, y, sample_weight, keyword, fitted.classes_
            )
        self._wrap(fitted)
        self.stacker_ = LogisticRegression(C=float(self.C), max_iter=5000)
        target = np.asarray(to_crystal_system(y)).astype(str)
        # only the patterns that could be indexed: the others keep the
        # classifier's answers at predict time
        rows = indexable(merits)
        weighed = ""
        if sample_weight is not None:
            # a pattern of weight 0 is one left out (also of the count of
            # crystal systems below)
            rows &= sample_weight > 0
            weighed = ", weigh above 0"
        if len(np.unique(target[rows])) < 2:
            raise ValueError(
                f"{int(rows.sum())} of the {len(y)} patterns have enough peaks (8) "
                f"to index{weighed}, of fewer than two crystal systems: the "
                "stacker cannot learn (patterns of a wider 2θ range have more "
                "peaks)"
            )
        coarse = np.asarray(proba, float)[rows] @ self._membership
        self.stacker_.fit(
            indexing_features(
                coarse,
                merits[rows],
                self.families,
                self.degree,
                self.merit_cap,
                None if groups is None else groups[rows],
            ),
            target[rows],
            sample_weight=None if sample_weight is None else sample_weight[rows],
        )
        self._stacker_columns = np.searchsorted(
            self.crystal_systems_, self.stacker_.classes_
        )
        self.system_temperature_ = self.group_temperature_ = 1.0
        return self

    def _weighted_cv_proba(self, X, y, sample_weight, keyword, classes):
        """Cross-validated probabilities (columns ``classes``) of the patterns
        of weight above 0, each fold's fit weighted; rows of weight 0 get
        zeros (the stacker leaves them out).

        Only the weighted rows are split, so that the folds, and each fold's
        fit, are those of ``X`` without the patterns of weight 0.
        """
        import sklearn
        from sklearn.model_selection import cross_val_predict
        from sklearn.utils import _safe_indexing

        kept = np.flatnonzero(sample_weight > 0)
        inner = _WeightedFit(clone(self.estimator), keyword)
        if sklearn.get_config().get("enable_metadata_routing", False):
            # cross_val_predict routes the weights only to a fit that asks
            inner.set_fit_request(sample_weight=True)
        part = cross_val_predict(
            inner,
            _safe_indexing(X, kept),
            y[kept],
            cv=self.cv,
            method="predict_proba",
            params={"sample_weight": sample_weight[kept]},
        )
        proba = np.zeros((len(y), len(classes)))
        proba[np.ix_(kept, np.searchsorted(classes, np.unique(y[kept])))] = part
        return proba

    def calibrate_temperature(self, X, y, merits=None, sample_weight=None):
        """Fit the two temperatures on held-out patterns.

        The temperature ``T`` of the crystal systems' probabilities and the
        one of each crystal system's shares among its space groups (each
        applied as ``p ** (1 / T)``, renormalized; searched in [e^-3, e^3])
        of least log-loss of the space groups ``y``; labels outside
        ``classes_`` are left out, and where no temperature lowers the
        log-loss both stay 1. The patterns must be new to the stacker (not
        ``fit``'s) and like the patterns to be classified.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns on ``two_theta``.
        y : array-like of shape (n_samples,)
            Their space groups.
        merits : optional
            :meth:`merits` of ``X`` computed already.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the patterns' log-losses, as
            :func:`skxrd.datasets.space_group_sample_weights` gives to make a
            simulated draw's space groups a real database's.

        Returns
        -------
        self : object
            With ``system_temperature_`` and ``group_temperature_`` set.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.frozen import FrozenEstimator
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skxrd.estimators import IndexingClassifier
        >>> tt = np.arange(10, 70, 0.05)
        >>> rng = np.random.default_rng(0)
        >>> def pattern(lines):
        ...     return sum(np.exp(-0.5 * ((tt - p) / 0.06) ** 2) for p in lines)
        >>> X = np.array([pattern(np.sort(rng.uniform(15, 68, 12))) for _ in range(8)])
        >>> y = np.array([14, 2] * 4)
        >>> guess = FrozenEstimator(LogisticRegression().fit(X[:4], y[:4]))
        >>> clf = IndexingClassifier(guess, two_theta=tt, radiation="CuKa1", cv=None)
        >>> clf = clf.fit(X[:4], y[:4]).calibrate_temperature(X[4:], y[4:])
        >>> bool(clf.system_temperature_ > 0 and clf.group_temperature_ > 0)
        True
        """
        from ._mixins import _known_labels

        check_is_fitted(self)
        y = np.asarray(y)
        n = len(np.asarray(X))
        if len(y) != n:
            raise ValueError(f"X has {n} patterns and y {len(y)} labels")
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=float)
            if (
                sample_weight.shape != (n,)
                or not (
                    np.all(np.isfinite(sample_weight)) and np.all(sample_weight >= 0)
                )
                or not sample_weight.sum() > 0
            ):
                raise ValueError(
                    f"sample_weight must be {n} finite weights >= 0, not all 0"
                )
        # no known label, or none that weighs: say so before indexing
        known_weights(sample_weight, _known_labels(self.classes_, y)[1])
        if merits is None:
            merits = self.merits(X)
        proba = self._stacked(
            np.asarray(self.estimator_.predict_proba(X), float), merits
        )
        return self._fit_temperatures(proba, y, sample_weight)

    def _fit_temperatures(self, stacked, y, sample_weight=None):
        """Set the temperatures of least log-loss of ``y`` from the stacked
        probabilities (:meth:`_stacked`) of their patterns; the inputs are
        checked already (:meth:`calibrate_temperature`)."""
        from ._mixins import _known_labels

        idx, known = _known_labels(self.classes_, np.asarray(y))
        self.system_temperature_, self.group_temperature_ = fit_coarse_temperatures(
            stacked[known],
            self._membership,
            idx[known],
            None if sample_weight is None else np.asarray(sample_weight)[known],
        )
        return self

    @classmethod
    def from_fitted(
        cls,
        estimator,
        stacker,
        *,
        two_theta,
        radiation="CuKa",
        scale="linear",
        families=INDEXING_FAMILIES,
        degree=INDEXING_DEGREE,
        merit_cap=INDEXING_MERIT_CAP,
        max_zero_shift=INDEXING_MAX_ZERO_SHIFT,
        first_lines=INDEXING_FIRST_LINES,
        absences=False,
        absence_weight=INDEXING_ABSENCE_WEIGHT,
        absence_min_merit=INDEXING_ABSENCE_MIN_MERIT,
        system_temperature=1.0,
        group_temperature=1.0,
    ):
        """Combine a fitted space-group classifier and a fitted stacker.

        For model files (:func:`skxrd.pretrained.load_model`): nothing is
        trained.

        Parameters
        ----------
        estimator : fitted classifier of space groups
        stacker : fitted LogisticRegression
            Of :func:`indexing_features` on ``estimator``'s crystal systems.
        two_theta, radiation, scale, families, degree, merit_cap : see the constructor
        max_zero_shift, first_lines : see the constructor
        absences, absence_weight, absence_min_merit : see the constructor
        system_temperature, group_temperature : float, default=1.0
            Those of :meth:`calibrate_temperature`.

        Returns
        -------
        IndexingClassifier
            Fitted; ``estimator_`` and ``stacker_`` are the objects given.
        """
        check_is_fitted(estimator)
        check_is_fitted(stacker)
        self = cls(
            estimator,
            two_theta=two_theta,
            radiation=radiation,
            scale=scale,
            C=float(stacker.C),
            families=families,
            degree=degree,
            merit_cap=merit_cap,
            max_zero_shift=max_zero_shift,
            first_lines=first_lines,
            absences=absences,
            absence_weight=absence_weight,
            absence_min_merit=absence_min_merit,
            cv=None,
        )
        self._check_params()
        self._wrap(estimator)
        known = set(self.crystal_systems_)
        extra = [str(c) for c in stacker.classes_ if str(c) not in known]
        n_in = len(self.crystal_systems_) + int(degree) * len(families)
        if extra or stacker.coef_.shape[-1] != n_in:
            raise ValueError(
                "the stacker does not fit the classifier: it takes "
                f"{stacker.coef_.shape[-1]} features for {n_in}"
                + (
                    f" and knows crystal systems {extra} the classifier lacks"
                    if extra
                    else ""
                )
            )
        self.stacker_ = stacker
        self._stacker_columns = np.searchsorted(self.crystal_systems_, stacker.classes_)
        self.system_temperature_ = check_positive(
            system_temperature, "system_temperature"
        )
        self.group_temperature_ = check_positive(group_temperature, "group_temperature")
        return self

    def _wrap(self, fitted):
        self.estimator_ = fitted
        self.classes_ = np.asarray(fitted.classes_)
        self.crystal_systems_, self._membership = coarse_membership(
            self.classes_, "crystal_system"
        )
        self.n_features_in_ = len(np.asarray(self.two_theta))
        return self

    def predict_proba(self, X):
        """Space-group probabilities, their crystal systems weighed against indexing.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        merits = self.merits(X)
        return self._combine(
            np.asarray(self.estimator_.predict_proba(X), float), merits
        )

    def _split(self, merits, n):
        """``(merits, group_merits or None)`` of :meth:`merits`' output (or
        a user's), checked against ``absences`` and ``n`` rows."""
        from ..indexing import ALL_LATTICE_TYPES

        groups = None
        if self.absences:
            if not (isinstance(merits, tuple) and len(merits) == 2):
                raise ValueError(
                    "with absences, merits must be the tuple (merits, "
                    "group_merits) of IndexingClassifier.merits"
                )
            merits, groups = merits
            groups = np.asarray(groups, dtype=float)
            if groups.shape != (n, 230):
                raise ValueError(
                    f"group_merits has shape {groups.shape}; ({n}, 230) are needed"
                )
        merits = np.asarray(merits, dtype=float)
        n_cols = len(ALL_LATTICE_TYPES) + 1
        if merits.shape != (n, n_cols):
            raise ValueError(
                f"merits has shape {merits.shape}; ({n}, {n_cols}) are "
                "needed (lattice_merits)"
            )
        return merits, groups

    def _combine(self, proba, merits):
        """The answers: :meth:`_stacked`, tempered."""
        return temper_coarse(
            self._stacked(proba, merits),
            self._membership,
            getattr(self, "system_temperature_", 1.0),  # pickles before them
            getattr(self, "group_temperature_", 1.0),
        )

    def _stacked(self, proba, merits):
        """The classifier's probabilities stacked with the merits (and
        weighed by the absences), before the temperatures."""
        merits, groups = self._split(merits, len(proba))
        out = stack_proba(
            proba,
            self._membership,
            merits,
            self.stacker_.predict_proba,
            self._stacker_columns,
            self.families,
            self.degree,
            self.merit_cap,
            groups,
        )
        if groups is None:
            return out
        return weigh_absences(
            out,
            self.classes_,
            merits,
            groups,
            self.absence_weight,
            self.absence_min_merit,
        )

    def _logit_module(self):
        """The wrapped classifier's logits over ``classes_``, for attribution
        maps (:mod:`skxrd.inspection`). The indexing weighs whole crystal
        systems by the peak positions, which no gradient reaches: the maps
        show what drove the wrapped classifier."""
        check_is_fitted(self)
        inner = self.estimator_
        if hasattr(inner, "_logit_module"):
            return inner._logit_module()
        from ._coarse import _scattered_logits  # a ValueError without a network

        return _scattered_logits(
            inner, np.arange(len(self.classes_)), len(self.classes_)
        )

    def predict_crystal_system_proba(self, X):
        """Crystal-system probabilities (columns ``crystal_systems_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_crystal_systems)
        """
        return self.predict_proba(X) @ self._membership


def indexing_classifier_of(model):
    """The :class:`IndexingClassifier` a fitted model answers with, or None:
    the model itself, the last step of a pipeline, or the classifier inside
    wrappers of it (:func:`~skxrd.estimators._match.wrapped_estimators`, as
    :func:`~skxrd.estimators._match.search_match_of` finds a search-match)."""
    from ._match import wrapped_estimators

    return next(
        (e for e in wrapped_estimators(model) if isinstance(e, IndexingClassifier)),
        None,
    )


class _WeightedFit(ClassifierMixin, BaseEstimator):
    """A clone of ``estimator`` fitted with ``sample_weight`` under
    ``keyword`` (:func:`~skxrd.estimators._weights.weighted_fit`): the weights
    of :meth:`IndexingClassifier.fit` reach each cross-validated fit as they
    reach its own fit, with or without scikit-learn's metadata routing."""

    def __init__(self, estimator, keyword):
        self.estimator = estimator
        self.keyword = keyword

    def fit(self, X, y, sample_weight=None):
        self.estimator_ = weighted_fit(
            clone(self.estimator), X, y, sample_weight, self.keyword
        )
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)

    def predict(self, X):
        return self.estimator_.predict(X)
