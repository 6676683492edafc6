"""Search-match: classes of the most similar reference patterns, and a hybrid
that answers by search-match when a reference is close and by a model otherwise."""

from __future__ import annotations

from inspect import signature

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils import _safe_indexing
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

from ..utils._validation import check_bool, check_int, check_positive, check_real
from ._core import (
    GATES,
    UNMEASURED_RUN,
    batched_similarities,
    best_per_class,
    check_same_length,
    gate_scores,
    gate_weights,
    match_softmax,
    mixture,
    top_neighbors,
    unit_rows,
)
from ._mixins import _fit_temperature, _known_labels, _ProbabilisticMixin
from ._space_group_prior import check_prior, prior_shares, shrink_to_prior
from ._weights import (
    check_weightable,
    checked_sample_weight,
    known_weights,
    weighted_fit,
)

__all__ = [
    "MatchFirstClassifier",
    "PatternMatchClassifier",
    "match_state",
    "restore_match",
    "search_match_of",
]


class PatternMatchClassifier(_ProbabilisticMixin, ClassifierMixin, BaseEstimator):
    """Search-match against reference patterns: the class of the most similar.

    What a diffractionist does with a phase database, as a scikit-learn
    classifier: ``fit`` stores reference patterns (simulated patterns of known
    structures, such as the AMCSD minerals of
    :func:`~skxrd.datasets.load_amcsd`) with their labels; a pattern gets the
    label of the reference it correlates with best. Patterns and references are
    smoothed with a Gaussian of ``smoothing`` points (which forgives small peak
    shifts and width differences between a measurement and a simulation),
    centred and scaled to unit length, so the similarity is the Pearson
    correlation of the smoothed patterns, between -1 and 1.

    ``predict_proba`` is a softmax over the classes of their best similarity
    divided by a temperature (``temperature``, or the one that
    :meth:`calibrate_temperature` fits). The similarity itself says whether a
    pattern is in the references at all: :meth:`kneighbors` gives the best
    matches and their similarities, so that a low best similarity can send the
    pattern to a model that generalizes (a network) instead.

    Parameters
    ----------
    smoothing : float, default=4.0
        Standard deviation of the Gaussian smoothing, in grid points (0: none).
    center : bool, default=True
        Subtract each pattern's mean before scaling (a correlation rather than
        a cosine similarity).
    temperature : float, default=0.02
        Softmax temperature of the similarities in ``predict_proba``, until
        :meth:`calibrate_temperature` fits one.
    batch_size : int, default=256
        Patterns compared with all references at once (memory:
        ``batch_size × n_references`` floats).
    stride : int, default=1
        Keep every ``stride``-th point of the smoothed patterns: a compact
        library (smoothing first, so that no peak falls between kept points
        when ``stride`` is at most about twice ``smoothing``).
    reference_dtype : {"float32", "float16"}, default="float32"
        How ``references_`` are stored; ``"float16"`` halves the library's
        memory and file size (similarities change by about 1e-3).
    intensity : {"linear", "sqrt"}, default="linear"
        Compare the intensities as they are, or their square roots (negative
        values count as 0), which gives weak peaks more say and makes a match
        less sensitive to intensity errors such as texture.
    unmeasured_run : int, default=25
        A pattern's leading and trailing runs of at least this many zeros
        (grid points) are taken as outside the measured range and left out:
        such a pattern is compared with the references over the points it
        has (a 10–80° scan on a 5–90° model grid, whose
        :class:`~skxrd.preprocessing.PatternResampler` fills the rest with
        0, correlates over 10–80°). Measured patterns end in a few zeros at
        most (counting noise); a noiseless simulated pattern that is exactly
        0 up to its first peak is compared from there. 0 compares whole
        rows.
    max_shift : int, default=0
        Also compare each pattern moved by up to this many grid points either
        way (in steps of ``shift_step``) and keep its best similarity to each
        reference: a zero-point or sample-displacement error of the
        measurement (10 points: ±0.2° on a 0.02° grid) then costs no match.
        Each shift is one more comparison with every reference.
    shift_step : int, default=2
        The step of those shifts, in grid points (keep it at most about
        ``smoothing``, so that no shift falls between two tried).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels of the references, sorted.
    references_ : ndarray of shape (n_references, n_points)
        The smoothed, centred unit-length references (every ``stride``-th
        point, in ``reference_dtype``), sorted by class.
    reference_index_ : ndarray of shape (n_references,)
        Row of ``X`` in ``fit`` of each row of ``references_``.
    temperature_ : float
        Set by :meth:`calibrate_temperature`.
    n_features_in_ : int

    Examples
    --------
    >>> from skxrd.datasets import EXAMPLE_CRYSTALS, load_example_crystal
    >>> from skxrd.estimators import PatternMatchClassifier
    >>> from skxrd.simulation import PowderSimulator
    >>> names = list(EXAMPLE_CRYSTALS)
    >>> crystals = [load_example_crystal(name) for name in names]
    >>> library = PowderSimulator().transform(crystals)
    >>> measured = PowderSimulator(crystallite_size=40).transform(crystals[:3])
    >>> match = PatternMatchClassifier().fit(library, names)
    >>> match.predict(measured).tolist() == names[:3]
    True
    >>> similarity, index = match.kneighbors(measured, n_neighbors=1)
    >>> bool((similarity > 0.8).all()), index[:, 0].tolist()
    (True, [0, 1, 2])
    """

    def __init__(
        self,
        smoothing=4.0,
        center=True,
        temperature=0.02,
        batch_size=256,
        stride=1,
        reference_dtype="float32",
        intensity="linear",
        unmeasured_run=UNMEASURED_RUN,
        max_shift=0,
        shift_step=2,
    ):
        self.smoothing = smoothing
        self.center = center
        self.temperature = temperature
        self.batch_size = batch_size
        self.stride = stride
        self.reference_dtype = reference_dtype
        self.intensity = intensity
        self.unmeasured_run = unmeasured_run
        self.max_shift = max_shift
        self.shift_step = shift_step

    def _check_params(self):
        check_real(self.smoothing, "smoothing", minimum=0.0)
        check_bool(self.center, "center")
        check_positive(self.temperature, "temperature")
        check_int(self.batch_size, "batch_size", minimum=1)
        check_int(self.stride, "stride", minimum=1)
        check_int(self.unmeasured_run, "unmeasured_run", minimum=0)
        check_int(self.max_shift, "max_shift", minimum=0)
        check_int(self.shift_step, "shift_step", minimum=1)
        if self.intensity not in ("linear", "sqrt"):
            raise ValueError(
                f"intensity must be 'linear' or 'sqrt', got {self.intensity!r}"
            )
        if self.reference_dtype not in ("float32", "float16"):
            raise ValueError(
                "reference_dtype must be 'float32' or 'float16', got "
                f"{self.reference_dtype!r}"
            )

    def _unit(self, X):
        """Smoothed, centred, unit-length rows (float32); all-zero rows stay
        zero (similarity 0 to everything)."""
        return unit_rows(X, self.intensity, self.smoothing, self.stride, self.center)

    def fit(self, X, y, **fit_params):
        """Store the references and their labels.

        Parameters
        ----------
        X : array-like of shape (n_references, n_features)
            Reference patterns on the grid that queries will have.
        y : array-like of shape (n_references,)
            Their labels.
        **fit_params : dict
            None are taken. ``sample_weight`` is refused with a TypeError
            saying why: the references are stored, not learned from, and a
            pattern's class is that of its best match, which no weight of a
            reference would change (like
            :class:`~sklearn.neighbors.KNeighborsClassifier`, which takes none
            either). Leave out the references that should not count instead.

        Returns
        -------
        self : PatternMatchClassifier

        Raises
        ------
        TypeError
            When given ``sample_weight`` or another fit parameter.
        """
        if "sample_weight" in fit_params:
            raise TypeError(
                f"{type(self).__name__}.fit takes no sample_weight: it stores "
                "the references rather than learning from them, and a "
                "pattern's class is that of its best match, which a weight "
                "would not change; leave out the references that should not "
                "count instead"
            )
        if fit_params:
            raise TypeError(
                f"{type(self).__name__}.fit got unexpected keyword argument(s) "
                f"{sorted(fit_params)}"
            )
        self._check_params()
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64])
        check_classification_targets(y)
        classes, encoded = np.unique(y, return_inverse=True)
        order = np.argsort(encoded, kind="stable")
        self.classes_ = classes
        self.references_ = self._unit(X[order]).astype(self.reference_dtype)
        self.reference_index_ = order
        # where each class's references start, for the per-class maximum
        self._starts = np.searchsorted(encoded[order], np.arange(len(classes)))
        self.__dict__.pop("temperature_", None)
        return self

    def _similarities(self, X):
        """Yield (rows, similarities to every reference) batch by batch."""
        check_is_fitted(self)
        self._check_params()
        # validate_data refuses NaN and infinite values, naming X
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        refs = self.references_.astype(np.float32, copy=False)
        if refs.shape[1] != len(range(0, X.shape[1], self.stride)):
            raise ValueError(
                f"the references have {refs.shape[1]} points, not every "
                f"{self.stride}-th of {X.shape[1]} features: stride was changed "
                "after fit; fit again"
            )
        yield from batched_similarities(self, X, refs)

    def class_similarities(self, X):
        """Best similarity of each pattern to the references of each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Correlations in [-1, 1], columns in the order of ``classes_``.
        """
        return np.concatenate(
            [best_per_class(sim, self._starts) for _, sim in self._similarities(X)]
        )

    def kneighbors(self, X, n_neighbors=5):
        """The most similar references of each pattern, best first.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        n_neighbors : int, default=5
            At least 1; more than there are references gives them all.

        Returns
        -------
        similarity : ndarray of shape (n_samples, min(n_neighbors, n_references))
        index : ndarray of shape (n_samples, min(n_neighbors, n_references))
            Rows of the ``X`` given to ``fit``.
        """
        k = min(check_int(n_neighbors, "n_neighbors", minimum=1), len(self.references_))
        sims, idx = [], []
        for _, sim in self._similarities(X):
            val, index = top_neighbors(sim, k, self.reference_index_)
            sims.append(val)
            idx.append(index)
        return np.concatenate(sims), np.concatenate(idx)

    def predict_proba(self, X):
        """Class probabilities: a softmax of the best similarity per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._softmax(self.class_similarities(X))

    def _softmax(self, similarities, temperature=None):
        """``predict_proba`` from the output of :meth:`class_similarities`
        (at ``temperature``, by default the fitted or given one)."""
        if temperature is None:
            temperature = getattr(self, "temperature_", self.temperature)
        return match_softmax(similarities, temperature)

    def calibrate_temperature(self, X, y, sample_weight=None):
        """Fit the softmax temperature on labelled patterns (log-loss).

        Use patterns like those to be classified and unlike the references
        (simulated with other instrument settings, or variants of the
        structures), never the test data. Labels that are not in ``classes_``
        are left out.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns in the log-loss (finite, >= 0, not all 0;
            None: all 1).

        Returns
        -------
        self : PatternMatchClassifier
        """
        check_is_fitted(self)
        y = np.asarray(y)
        check_same_length(X, y)
        sample_weight = checked_sample_weight(sample_weight, len(y))
        return self._calibrate(self.class_similarities(X), y, sample_weight)

    def _calibrate(self, similarities, y, sample_weight=None):
        """:meth:`calibrate_temperature` from :meth:`class_similarities`."""
        idx, known = _known_labels(self.classes_, np.asarray(y))
        weight = known_weights(sample_weight, known)
        z = np.asarray(similarities, dtype=np.float64)[known]
        # searched around the ``temperature`` parameter (the fit's range is
        # e^±3 times the scale of the logits)
        scale = float(self.temperature)
        self.temperature_ = scale * _fit_temperature(z / scale, idx[known], weight)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def wrapped_estimators(model):
    """The classifiers a fitted model answers with, outermost first.

    The model itself (the last step of a pipeline), then each one inside it:
    the ``estimator_`` of a wrapper (:class:`CoarseLabelClassifier`,
    :class:`IndexingClassifier`, :class:`MatchFirstClassifier`...) and the
    estimator a :class:`~sklearn.frozen.FrozenEstimator` holds. Frozen
    estimators are passed through, not yielded: they hand unknown attributes
    to what they hold, so ``estimator_`` on one would skip a level.
    """
    from sklearn.frozen import FrozenEstimator

    est = model.steps[-1][1] if hasattr(model, "steps") else model
    for _ in range(16):  # a few wrappers deep; a cycle would never end
        while isinstance(est, FrozenEstimator):
            est = est.estimator
        if est is None:
            return
        yield est
        est = getattr(est, "estimator_", None)


def search_match_of(model):
    """The :class:`MatchFirstClassifier` a fitted model answers with, or None.

    The model itself, the last step of a pipeline, or the classifier inside
    wrappers of it: a :class:`CoarseLabelClassifier` (the shipped
    crystal-system model), an :class:`IndexingClassifier`, a
    :class:`~sklearn.frozen.FrozenEstimator` (:func:`wrapped_estimators`).
    """
    return next(
        (e for e in wrapped_estimators(model) if isinstance(e, MatchFirstClassifier)),
        None,
    )


def match_state(matcher) -> dict:
    """A fitted :class:`PatternMatchClassifier` as arrays and plain values.

    For model files (:func:`skxrd.pretrained.save_model`);
    :func:`restore_match` is the inverse.
    """
    check_is_fitted(matcher)
    return {
        "params": matcher.get_params(deep=False),
        "classes": matcher.classes_,
        "references": matcher.references_,
        "reference_index": matcher.reference_index_,
        "starts": matcher._starts,
        "n_features_in": int(matcher.n_features_in_),
        "temperature": getattr(matcher, "temperature_", None),
    }


def restore_match(state, where="matcher") -> PatternMatchClassifier:
    """The fitted :class:`PatternMatchClassifier` of a :func:`match_state`.

    Raises ValueError, naming ``where``, when the arrays do not fit together.
    """
    matcher = PatternMatchClassifier(**state["params"])
    try:
        matcher._check_params()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    references = np.asarray(state["references"])
    classes = np.asarray(state["classes"])
    starts = np.asarray(state["starts"], dtype=np.intp)
    index = np.asarray(state["reference_index"], dtype=np.intp)
    n_in = int(state["n_features_in"])
    ok = (
        references.ndim == 2
        and references.dtype == np.dtype(matcher.reference_dtype)
        and references.shape[1] == len(range(0, n_in, matcher.stride))
        and len(index) == len(references)
        and len(starts) == len(classes)
        and len(classes) > 0
        and starts[0] == 0
        and np.all(np.diff(starts) > 0)
        and starts[-1] < len(references)
    )
    if not ok:
        raise ValueError(
            f"{where}: the stored references, classes and sizes do not fit together"
        )
    matcher.classes_ = classes
    matcher.references_ = references
    matcher.reference_index_ = index
    matcher._starts = starts
    matcher.n_features_in_ = n_in
    temperature = state.get("temperature")
    if temperature is not None:
        matcher.temperature_ = check_positive(temperature, f"{where} temperature")
    return matcher


class MatchFirstClassifier(
    _ProbabilisticMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator
):
    """Search-match first; a model for the patterns that match nothing.

    A measured pattern of a known compound is best answered by its reference
    pattern, a new compound by a model that generalizes. This classifier does
    both: a pattern whose best similarity to the references of a
    :class:`PatternMatchClassifier` reaches ``threshold`` gets the matcher's
    probabilities, every other pattern the ``estimator``'s (a network). The
    shipped models (:func:`skxrd.pretrained.load_pretrained`) are such hybrids
    of a ResNet and the simulated AMCSD minerals.

    Choose the threshold on labelled patterns that are not the test data with
    :meth:`tune_threshold`, and calibrate each part on the patterns it answers
    with :meth:`calibrate_temperature`.

    Parameters
    ----------
    estimator : classifier
        Any classifier with ``predict_proba``; cloned and fitted by
        :meth:`fit`.
    matcher : PatternMatchClassifier, optional
        The search-match (default: ``PatternMatchClassifier()``); cloned and
        fitted by :meth:`fit` on the references.
    threshold : float, default=0.8
        The similarity (Pearson correlation of the smoothed patterns) from
        which a pattern is answered by its match (``threshold_``, until
        :meth:`tune_threshold` or :meth:`calibrate_temperature` chooses
        another).
    gate : {"hard", "soft", "margin"}, default="hard"
        ``"hard"``: the matcher's probabilities at or above the threshold, the
        model's below. ``"soft"``: a mixture of both, the matcher weighted by
        ``1 / (1 + exp(-gate_slope_ * (s - threshold_)))`` of the best
        similarity ``s``, so that a pattern just above the threshold does not
        get the matcher's confidence of a perfect match;
        :meth:`calibrate_temperature` fits the threshold and the slope with
        the temperatures. ``"margin"``: the soft gate of
        ``s + gate_margin_ * (s - s2)``, where ``s2`` is the best similarity
        to another class: a pattern of a reference's own compound stands out
        from the other classes' references, a new compound that resembles
        several references does not; :meth:`calibrate_temperature` fits
        ``gate_margin_`` too. ``predict_source`` says ``"match"`` where the
        gate's score reaches the threshold (the soft gates' weight 0.5).
    gate_slope : float, default=50.0
        The soft gate's slope (per unit of correlation), until
        :meth:`calibrate_temperature` fits ``gate_slope_``.
    prior : {None, "icsd", "cod", "materials_project"}, default=None
        For a model of space groups: shrink its space-group probabilities
        within each crystal system towards that database's shares
        (:func:`skxrd.datasets.space_group_frequencies`), by the weight
        ``prior_weight_`` that :meth:`calibrate_temperature` fits (the
        log-loss on the patterns the model answers). A network trained on
        one set of compounds is too sure which of a crystal system's groups
        a new compound takes; the crystal systems' probabilities are not
        changed. The matcher's answers are not shrunk.

    Attributes
    ----------
    estimator_ : classifier
        The fitted model.
    matcher_ : PatternMatchClassifier
        The fitted search-match.
    classes_ : ndarray of shape (n_classes,)
        The labels of either part, sorted.
    threshold_ : float
        The threshold in use: ``threshold`` when fitted, or the one
        :meth:`tune_threshold` or (soft gate) :meth:`calibrate_temperature`
        chose.
    gate_slope_ : float
        The soft gate's slope in use.
    gate_margin_ : float
        The weight of the lead over the next class in the gate's score (0
        unless ``gate="margin"``).
    prior_weight_ : float
        The weight of ``prior`` in the model's probabilities (0 until
        :meth:`calibrate_temperature` fits it, and without a prior).
    reference_names_ : ndarray of str or None
        Names of the references (rows of the ``X_reference`` of :meth:`fit`),
        when given, for :meth:`kneighbors`' indices.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skxrd.datasets import EXAMPLE_CRYSTALS, load_example_crystal
    >>> from skxrd.estimators import MatchFirstClassifier, PatternMatchClassifier
    >>> from skxrd.simulation import PowderSimulator
    >>> names = list(EXAMPLE_CRYSTALS)
    >>> crystals = [load_example_crystal(name) for name in names]
    >>> library = PowderSimulator().transform(crystals)
    >>> labels = [c.space_group for c in crystals]
    >>> clf = MatchFirstClassifier(LogisticRegression(), threshold=0.8)
    >>> clf = clf.fit(library, labels, reference_names=names)
    >>> measured = PowderSimulator(crystallite_size=40).transform(crystals[:2])
    >>> clf.predict(measured).tolist() == labels[:2]
    True
    >>> similarity, index = clf.kneighbors(measured, n_neighbors=1)
    >>> clf.reference_names_[index[:, 0]].tolist() == names[:2]
    True

    A space-group model's answers shrunk towards the ICSD's shares within each
    crystal system, by the weight that calibration fits on the patterns the
    model answers (0 where shrinking does not pay; a threshold of 1: all of
    them here):

    >>> shrunk = MatchFirstClassifier.from_fitted(
    ...     clf.estimator_, clf.matcher_, 1.0, prior="icsd"
    ... ).calibrate_temperature(measured, labels[:2])
    >>> 0.0 <= shrunk.prior_weight_ < 1.0
    True
    """

    def __init__(
        self,
        estimator,
        matcher=None,
        threshold=0.8,
        gate="hard",
        gate_slope=50.0,
        prior=None,
    ):
        self.estimator = estimator
        self.matcher = matcher
        self.threshold = threshold
        self.gate = gate
        self.gate_slope = gate_slope
        self.prior = prior

    def _check_threshold(self):
        if self.gate not in GATES:
            raise ValueError(
                f"gate must be one of {', '.join(map(repr, GATES))}, got {self.gate!r}"
            )
        check_positive(self.gate_slope, "gate_slope")
        check_prior(self.prior)
        return check_real(self.threshold, "threshold", minimum=-1.0, maximum=1.0)

    def fit(
        self,
        X,
        y,
        *,
        X_reference=None,
        y_reference=None,
        reference_names=None,
        sample_weight=None,
    ):
        """Fit the model on ``X, y`` and the matcher on the references.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        X_reference, y_reference : array-like, optional
            The reference patterns and their labels (simulated patterns of
            known structures); by default ``X, y`` themselves.
        reference_names : array-like of str, optional
            A name per reference, kept in ``reference_names_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns ``X`` (finite, >= 0, not all 0; None: all
            1), given to the model's fit, whose ``fit`` must take
            ``sample_weight`` (a :class:`~sklearn.pipeline.Pipeline`: its last
            step's), else a TypeError names it before any training. Not used
            for the references, which the matcher stores rather than learns
            from (a pattern's best match is the same whatever the weight of a
            reference), except that with ``X_reference=None`` the patterns of
            weight 0 count as absent, as in scikit-learn: they are not
            references (nor in ``reference_names_``; :meth:`kneighbors`'
            indices are rows of the references kept). :meth:`fit` fits no
            threshold or temperature: :meth:`tune_threshold` and
            :meth:`calibrate_temperature` take their own patterns.

        Returns
        -------
        self : MatchFirstClassifier
        """
        self._check_threshold()
        if (X_reference is None) != (y_reference is None):
            raise ValueError("give both X_reference and y_reference, or neither")
        matcher = PatternMatchClassifier() if self.matcher is None else self.matcher
        if not isinstance(matcher, PatternMatchClassifier):
            name = type(matcher).__name__
            raise TypeError(f"matcher must be a PatternMatchClassifier, got {name}")
        keyword = None
        if sample_weight is not None:
            sample_weight = checked_sample_weight(sample_weight, _num_samples(X))
            keyword = check_weightable(
                self.estimator, "estimator", "MatchFirstClassifier.fit"
            )
        estimator = weighted_fit(clone(self.estimator), X, y, sample_weight, keyword)
        if X_reference is None:
            X_reference, y_reference = X, y
            if sample_weight is not None and not np.all(sample_weight > 0):
                # weight 0 is an absent pattern (as in scikit-learn): no reference
                kept = np.flatnonzero(sample_weight > 0)
                if reference_names is not None:
                    reference_names = np.asarray(reference_names, dtype=str)
                    if reference_names.shape != (len(sample_weight),):
                        raise ValueError(
                            f"reference_names has {len(reference_names)} names "
                            f"for {len(sample_weight)} patterns of X"
                        )
                    reference_names = reference_names[kept]
                X_reference = _safe_indexing(X, kept)
                y_reference = _safe_indexing(np.asarray(y), kept)
        matcher = clone(matcher).fit(X_reference, y_reference)
        return self._wrap(estimator, matcher, reference_names)

    @classmethod
    def from_fitted(
        cls,
        estimator,
        matcher,
        threshold=0.8,
        reference_names=None,
        *,
        gate="hard",
        gate_slope=50.0,
        prior=None,
    ):
        """Combine an already fitted model and matcher without training.

        Parameters
        ----------
        estimator : fitted classifier
        matcher : fitted PatternMatchClassifier
        threshold : float, default=0.8
        reference_names : array-like of str, optional
        gate : {"hard", "soft", "margin"}, default="hard"
        gate_slope : float, default=50.0
        prior : {None, "icsd", "cod", "materials_project"}, default=None

        Returns
        -------
        MatchFirstClassifier
            Fitted; ``estimator_`` and ``matcher_`` are the objects given.
        """
        check_is_fitted(estimator)
        check_is_fitted(matcher)
        self = cls(
            estimator, matcher, threshold, gate=gate, gate_slope=gate_slope, prior=prior
        )
        self._check_threshold()
        return self._wrap(estimator, matcher, reference_names)

    def _wrap(self, estimator, matcher, names):
        n_in = getattr(estimator, "n_features_in_", matcher.n_features_in_)
        if n_in != matcher.n_features_in_:
            raise ValueError(
                f"the estimator takes {n_in} features, the matcher's references "
                f"have {matcher.n_features_in_}"
            )
        if names is not None:
            names = np.asarray(names, dtype=str)
            if len(names) != len(matcher.reference_index_):
                raise ValueError(
                    f"reference_names has {len(names)} names for "
                    f"{len(matcher.reference_index_)} references"
                )
        self.estimator_ = estimator
        self.matcher_ = matcher
        self.reference_names_ = names
        classes = np.union1d(estimator.classes_, matcher.classes_)
        self.classes_ = classes
        self._model_columns = np.searchsorted(classes, estimator.classes_)
        self._match_columns = np.searchsorted(classes, matcher.classes_)
        self.n_features_in_ = n_in
        self.threshold_ = float(self.threshold)
        self.gate_slope_ = float(self.gate_slope)
        self.gate_margin_ = 0.0
        self.prior_weight_ = 0.0
        self._prior = (
            None if self.prior is None else prior_shares(estimator.classes_, self.prior)
        )
        return self

    def _model_proba(self, X):
        """The model's probabilities, shrunk towards ``prior`` by ``prior_weight_``."""
        return self._shrink(np.asarray(self.estimator_.predict_proba(X), dtype=float))

    def _shrink(self, proba):
        # getattr: a hybrid pickled before the prior existed has neither
        return shrink_to_prior(
            proba, getattr(self, "prior_weight_", 0.0), getattr(self, "_prior", None)
        )

    def _fit_prior_weight(self, X, y, sample_weight=None):
        """``prior_weight_`` of least (weighted) log-loss of the model's
        probabilities on labelled patterns (the model's temperature fitted
        first)."""
        from scipy.optimize import minimize_scalar

        idx, known = _known_labels(self.estimator_.classes_, y)
        proba = np.asarray(self.estimator_.predict_proba(X[known]), dtype=float)
        rows = np.arange(len(proba))
        w = None if sample_weight is None else sample_weight[known]

        def loss(weight):
            p = shrink_to_prior(proba, weight, self._prior)[rows, idx[known]]
            return -np.average(np.log(np.maximum(p, 1e-300)), weights=w)

        best = minimize_scalar(loss, bounds=(0.0, 0.99), method="bounded")
        # the optimizer never returns the bound itself: no shrinkage where none pays
        self.prior_weight_ = float(best.x) if best.fun < loss(0.0) else 0.0

    def _weights(self, sims):
        """The matcher's weight per pattern: 0 or 1 (hard gate) or between."""
        return gate_weights(
            sims, self.gate, self.threshold_, self.gate_slope_, self._margin()
        )

    def _margin(self):
        # a hybrid pickled before the margin gate has none
        return getattr(self, "gate_margin_", 0.0)

    def _mixture(self, sims, model_proba, weight, temperature=None):
        """``weight`` × the matcher's probabilities + the rest × the model's,
        in the columns of ``classes_`` (``model_proba``: one row per pattern;
        rows of weight 1 are not read)."""
        return mixture(
            lambda rows: self.matcher_._softmax(sims[rows], temperature),
            model_proba,
            weight,
            self._match_columns,
            self._model_columns,
            len(self.classes_),
        )

    def _labelled(self, X, y):
        """:meth:`_parts` of ``X`` and ``y`` as an array of as many labels."""
        sims, matched, X = self._parts(X)
        y = np.asarray(y)
        check_same_length(X, y)
        return sims, matched, X, y

    def _parts(self, X):
        """(matcher probabilities or None, matched mask, model rows)."""
        check_is_fitted(self)
        X = np.asarray(X) if not hasattr(X, "iloc") else X.to_numpy()
        sims = self.matcher_.class_similarities(X)
        matched = gate_scores(sims, self._margin()) >= self.threshold_
        return sims, matched, X

    def predict_proba(self, X):
        """The matcher's probabilities where a match is close enough, else the model's.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        sims, _, X = self._parts(X)
        weight = self._weights(sims)
        rest = weight < 1
        model_proba = np.zeros((len(X), len(self._model_columns)))
        if rest.any():
            # the model runs only on the patterns the references do not answer alone
            model_proba[rest] = self._model_proba(X[rest])
        return self._mixture(sims, model_proba, weight)

    def predict_source(self, X):
        """Which part answers each pattern: ``"match"`` or ``"model"``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of str of shape (n_samples,)
        """
        _, matched, _ = self._parts(X)
        return np.where(matched, "match", "model")

    def kneighbors(self, X, n_neighbors=5):
        """The most similar references of each pattern (the matcher's method).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        n_neighbors : int, default=5
            At least 1; more than there are references gives them all.

        Returns
        -------
        similarity : ndarray of shape (n_samples, min(n_neighbors, n_references))
        index : ndarray of shape (n_samples, min(n_neighbors, n_references))
            Rows of the references (names in ``reference_names_``).
        """
        check_is_fitted(self)
        return self.matcher_.kneighbors(X, n_neighbors=n_neighbors)

    def tune_threshold(self, X, y, thresholds=None, sample_weight=None):
        """Set ``threshold_`` to the one of highest accuracy on labelled patterns.

        Use patterns unlike the references and the test data, in the mix the
        model will meet: known compounds measured or simulated with other
        instrument settings, and compounds that are not in the references.
        The threshold is compared with the gate's score: the best similarity
        (with the margin gate, plus ``gate_margin_`` times its lead over the
        next class, 0 until :meth:`calibrate_temperature` fits it).
        The accuracy is that of the hard rule at each threshold (the match's
        class at or above it, the model's below), kept in
        ``threshold_accuracy_``; with the soft and margin gates
        :meth:`predict` mixes both parts near the threshold and can answer
        otherwise, so take this threshold as the start that
        :meth:`calibrate_temperature` refines.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        thresholds : array-like of float, optional
            Candidates; by default 0.50, 0.51, ..., 1.00. Of equally accurate
            ones the lowest is taken.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns in the accuracy (finite, >= 0, not all 0;
            None: all 1).

        Returns
        -------
        self : MatchFirstClassifier
        """
        check_is_fitted(self)
        candidates = (
            np.round(np.arange(0.5, 1.0001, 0.01), 2)
            if thresholds is None
            else np.sort(np.asarray(thresholds, dtype=float).ravel())
        )
        if not len(candidates) or not np.all(np.abs(candidates) <= 1):
            raise ValueError("thresholds must be correlations in [-1, 1]")
        sims, _, X, y = self._labelled(X, y)
        sample_weight = checked_sample_weight(sample_weight, len(y))
        best = gate_scores(sims, self._margin())
        by_match = self.matcher_.classes_[sims.argmax(axis=1)]
        by_model = self.estimator_.classes_[self._model_proba(X).argmax(axis=1)]
        accuracy = [
            np.average(
                np.where(best >= t, by_match, by_model) == y, weights=sample_weight
            )
            for t in candidates
        ]
        self.threshold_ = float(candidates[int(np.argmax(accuracy))])
        self.threshold_accuracy_ = float(np.max(accuracy))
        return self

    def calibrate_temperature(self, X, y, sample_weight=None):
        """Calibrate each part on the labelled patterns it answers.

        The model's temperature (when it has ``calibrate_temperature``) is
        fitted on the patterns below the threshold. With the hard gate the
        matcher's softmax temperature is fitted on the patterns at or above
        it; with the soft gate the matcher's temperature, ``threshold_`` and
        ``gate_slope_`` are fitted together on all of them (the log-loss of
        the mixture), with the margin gate ``gate_margin_`` (at least 0) too.
        Last, with a ``prior``, ``prior_weight_`` on the patterns below the
        threshold (the model's log-loss): fitted after the gate, it leaves
        every crystal system's probability as the gate and the temperatures
        make it. A part with no pattern (or only patterns of weight 0) is left
        as it is.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns in every log-loss (finite, >= 0, not all
            0; None: all 1). The model's ``calibrate_temperature`` gets those
            of its patterns, so it must take ``sample_weight`` (else a
            TypeError names it, before anything is calibrated).

        Returns
        -------
        self : MatchFirstClassifier
        """
        sims, matched, X, y = self._labelled(X, y)
        sample_weight = checked_sample_weight(sample_weight, len(y))
        # a pattern of weight 0 counts as absent, as in scikit-learn
        counted = np.ones(len(y), bool) if sample_weight is None else sample_weight > 0
        if sample_weight is not None and self.gate != "hard":
            # the soft gates' patterns: refused before anything is calibrated
            known_weights(sample_weight, _known_labels(self.classes_, y)[1])
        rest = ~matched
        calibrate_model = (
            hasattr(self.estimator_, "calibrate_temperature")
            and np.isin(y[rest & counted], self.estimator_.classes_).any()
        )
        model_weight = {}
        if calibrate_model and sample_weight is not None:
            method = self.estimator_.calibrate_temperature
            if "sample_weight" not in signature(method).parameters:
                raise TypeError(
                    "MatchFirstClassifier.calibrate_temperature got sample_weight, "
                    f"but the model ({type(self.estimator_).__name__}) cannot "
                    "take it: its calibrate_temperature has no sample_weight "
                    "parameter"
                )
            model_weight = {"sample_weight": sample_weight[rest]}
        if calibrate_model:
            self.estimator_.calibrate_temperature(X[rest], y[rest], **model_weight)
        # the gate on the model's own probabilities, the prior after it: the
        # prior then changes no crystal system's probability
        self.prior_weight_ = 0.0
        if self.gate == "hard":
            if np.isin(y[matched & counted], self.matcher_.classes_).any():
                # from the similarities at hand, not computed again
                self.matcher_._calibrate(
                    sims[matched],
                    y[matched],
                    None if sample_weight is None else sample_weight[matched],
                )
        else:
            idx, known = _known_labels(self.classes_, y)
            weight = known_weights(sample_weight, known)
            self._fit_soft_gate(sims[known], X[known], idx[known], weight)
        if (
            self._prior is not None
            and np.isin(y[rest & counted], self.estimator_.classes_).any()
        ):
            self._fit_prior_weight(
                X[rest],
                y[rest],
                None if sample_weight is None else sample_weight[rest],
            )
        return self

    def _fit_soft_gate(self, sims, X, target, sample_weight=None):
        """Threshold, slope, matcher temperature (and the margin gate's
        margin) of least (weighted) log-loss."""
        from scipy.optimize import minimize

        model_proba = self._model_proba(X)
        rows = np.arange(len(target))
        matcher = self.matcher_
        t0 = getattr(matcher, "temperature_", matcher.temperature)
        margin = self.gate == "margin"

        def loss(theta):
            threshold, log_slope, log_t = theta[:3]
            self.threshold_, self.gate_slope_ = threshold, np.exp(log_slope)
            # a lead over the other classes counts for a match, never against
            self.gate_margin_ = max(float(theta[3]), 0.0) if margin else 0.0
            weight = self._weights(sims)
            proba = self._mixture(sims, model_proba, weight, np.exp(log_t))
            log_p = np.log(proba[rows, target] + 1e-12)
            return -float(np.average(log_p, weights=sample_weight))

        start = [self.threshold_, np.log(self.gate_slope_), np.log(t0)]
        if margin:
            # from 0 the simplex would barely step along the margin
            start.append(self._margin() or 0.5)
        best = minimize(
            loss, start, method="Nelder-Mead", options={"maxiter": 200 * len(start)}
        )
        x = best.x
        if margin and loss([*start[:3], 0.0]) <= best.fun:
            x = [*start[:3], 0.0]  # no margin where none pays
        threshold, log_slope, log_t = x[:3]
        self.gate_margin_ = max(float(x[3]), 0.0) if margin else 0.0
        # the score reaches 1 + 2 * margin at most (correlations are in [-1, 1])
        top = 1.0 + 2.0 * self.gate_margin_
        self.threshold_ = float(np.clip(threshold, -1.0, top))
        self.gate_slope_ = float(np.exp(np.clip(log_slope, -5.0, 10.0)))
        matcher.temperature_ = float(np.exp(np.clip(log_t, -12.0, 3.0)))

    def _logit_module(self):
        """The model's logits over ``classes_`` (for attribution maps): the
        network explains the answers it gives; a match is explained by its
        reference (:meth:`kneighbors`)."""
        from ._coarse import _scattered_logits

        return _scattered_logits(
            self.estimator_, self._model_columns, len(self.classes_)
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
