"""An extensible union of classifiers, each an expert on a few classes."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import Bunch
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from tqdm.auto import tqdm

from ..utils._validation import check_int, plain_scalar
from ..utils._warnings import caller_stacklevel
from ._core import (
    check_label_types,
    check_same_length,
    combine_members,
    member_stats,
    router_features,
)
from ._device import _draw_seed
from ._mixins import (
    _confidence_source,
    _fit_temperature,
    _known_labels,
    _proba_and_confidence,
    _ProbabilisticMixin,
)
from ._weights import (
    check_weightable,
    checked_sample_weight,
    known_weights,
    weighted_fit,
)

__all__ = ["UnionClassifier"]


def _member_seed(seed: int, index: int) -> int:
    """Seed of member ``index``: independent of how many members exist."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0] >> 1)


def _has_head(member) -> bool:
    """Whether the member's confidence is its own (not its highest probability)."""
    source = _confidence_source(member)
    if source is None:
        return False
    if hasattr(source[0], "_has_confidence_head"):
        return source[0]._has_confidence_head()
    return True


class UnionClassifier(_ProbabilisticMixin, ClassifierMixin, BaseEstimator):
    """Union of classifiers on disjoint class subsets; new classes without retraining.

    The extensible scheme of the structure-type identification study: each
    member is a classifier (by default a :class:`ResNetClassifier` with a
    learned confidence head) trained only on the patterns of its own subset of
    classes. For a pattern ``x``, member ``m`` predicts its class ``k_m`` with
    confidence ``c_m``; its similarity is
    ``s_m = 0.5 + 0.5 cos(x, mean pattern of k_m)`` and its reliability
    ``r_m = (1 - alpha) c_m + alpha s_m``. The member with the highest
    reliability answers. :meth:`add_classes` trains members for new classes
    and leaves every existing member untouched.

    ``predict_proba`` spreads the probability over all classes: each
    member's class probabilities weighted by its share of the confidences,
    with the weights of the members that do not answer capped so that the
    answer is always the most probable class (``predict`` is the argmax of
    ``predict_proba``, as in every scikit-learn classifier).

    Parameters
    ----------
    estimator : classifier, default=None
        The template of the members (cloned for each), a classifier with
        ``predict_proba``; its ``predict_confidence`` is used when it has one,
        else the highest probability. None:
        ``ResNetClassifier(confidence_head=True)``. A ``class_weight`` dict of
        the template reaches each member as the entries of its own classes
        (its negatives, the "none of mine" class, weigh 1; a key that names
        no class is a ValueError before any member trains); ``"balanced"``
        balances each member's own classes.
    class_subsets : sequence of sequences of labels, default=None
        The classes of each member for :meth:`fit` (disjoint, covering every
        class of ``y``, at least 2 classes each). None: chosen automatically
        (see ``max_classes_per_member``).
    max_classes_per_member : int, default=10
        With automatic subsets: the classes are ordered so that classes with
        similar mean patterns are neighbours (average-linkage clustering on
        the cosine distance) and cut into ``ceil(n_classes /
        max_classes_per_member)`` runs of near-equal size, so that the classes
        most easily confused are told apart inside one member. A member never
        gets a single class (then it gets more than the maximum).
    alpha : float, default=0.7
        Weight of the similarity in the reliability (0: confidence only).
    combiner : {"learned", "reliability"}, default="learned"
        How the members' answers are combined. ``"reliability"``: the study's
        rule, the member with the highest ``r_m`` answers. ``"learned"``: a
        multinomial logistic regression (the router, ``router_``) predicts from
        every member's confidence, similarity, top probability and
        "none of mine" probability which member owns the pattern; it is fitted
        on ``holdout_per_class`` patterns per class that the members never
        trained on, and refitted by :meth:`add_classes` (which still trains
        no existing member). ``predict_proba`` is then the mixture of the
        members' probabilities weighted by the router. Falls back to
        ``"reliability"`` (see ``combiner_``) with one member or no held-out
        pattern, and with a warning when the held-out patterns miss a member
        (a class with fewer than three patterns keeps none out): the router
        could never give that member's classes any probability.
    holdout_per_class : int, default=10
        With ``combiner="learned"``: patterns per class kept out of the
        members' training to fit the router (at most a third of each class).
    negatives_per_class : int, default=20
        Outlier exposure: each member also learns an extra "none of mine"
        class from up to this many patterns of every class outside its
        subset, and its confidence is multiplied by ``1 - p(none of mine)``.
        The patterns are kept (``negatives_X_``) so that members added by
        :meth:`add_classes` learn the old classes as negatives too. 0: members
        see only their own classes, as in the original study, where a member
        is often as confident on other members' classes as on its own.
    random_state : int, RandomState instance or None, default=None
        Seeds the members (member ``i`` gets a seed derived from this seed
        and ``i``, so members added later are reproducible too).
    verbose : int, default=0
        1: a progress bar over the members being trained.

    Attributes
    ----------
    estimators_ : list of classifiers
        The fitted members.
    class_subsets_ : list of ndarray
        The classes of each member.
    classes_ : ndarray of shape (n_classes,)
        All classes, sorted.
    class_means_ : ndarray of shape (n_classes, n_features)
        Mean training pattern of each class (rows in the order of
        ``classes_``).
    negatives_X_, negatives_y_ : ndarray
        The patterns kept as negatives (``negatives_per_class`` per class, drawn
        at random) and their labels.
    negatives_weight_ : ndarray or None
        Their sample weights (None: all 1, as without ``sample_weight``); the
        members that :meth:`add_classes` trains learn them with these weights.
    holdout_X_, holdout_y_ : ndarray
        The held-out patterns of the router and their labels (empty with
        ``combiner="reliability"``).
    holdout_weight_ : ndarray or None
        Their sample weights for the router (None: all 1).
    router_ : LogisticRegression or None
        The fitted router (None with the reliability rule).
    combiner_ : str
        The combiner in use: ``"learned"`` or ``"reliability"``.
    n_features_in_ : int
        Number of points per pattern seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (a DataFrame with string column names).

    See Also
    --------
    ResNetClassifier : the default member.
    AbstainingClassifier : refuse answers of low reliability.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.estimators import ResNetClassifier, UnionClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["A", "B", "C", "D"], 15)
    >>> X = rng.random((60, 48)).astype("float32")
    >>> for i, label in enumerate("ABCD"):
    ...     X[y == label, 8 + 10 * i] += 4.0          # a peak per class
    >>> member = ResNetClassifier(depth=2, width=8, max_epochs=15, lr=1e-2,
    ...                           confidence_head=True, validation_fraction=None)
    >>> union = UnionClassifier(member, class_subsets=[["A", "B"], ["C", "D"]],
    ...                         random_state=0).fit(X, y)
    >>> union.score(X, y)
    1.0
    >>> new = np.repeat(["E", "F"], 15)
    >>> X_new = rng.random((30, 48)).astype("float32")
    >>> X_new[new == "E", 3] += 4.0
    >>> X_new[new == "F", 44] += 4.0
    >>> union.add_classes(X_new, new).classes_
    array(['A', 'B', 'C', 'D', 'E', 'F'], dtype='<U1')
    >>> [subset.tolist() for subset in union.class_subsets_]
    [['A', 'B'], ['C', 'D'], ['E', 'F']]
    >>> details = union.reliability(X[:2])
    >>> details.reliability.shape, details.member.tolist()
    ((2, 3), [0, 0])
    """

    def __init__(
        self,
        estimator=None,
        *,
        class_subsets=None,
        max_classes_per_member=10,
        alpha=0.7,
        combiner="learned",
        holdout_per_class=10,
        negatives_per_class=20,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.class_subsets = class_subsets
        self.max_classes_per_member = max_classes_per_member
        self.alpha = alpha
        self.combiner = combiner
        self.holdout_per_class = holdout_per_class
        self.negatives_per_class = negatives_per_class
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ #
    # parameters and class subsets
    # ------------------------------------------------------------------ #
    def _template(self):
        if self.estimator is None:
            from ._classifiers import ResNetClassifier

            return ResNetClassifier(confidence_head=True)
        if not hasattr(self.estimator, "fit") or not hasattr(
            self.estimator, "predict_proba"
        ):
            raise ValueError(
                "estimator must be a classifier with fit and predict_proba, "
                f"got {self.estimator!r}"
            )
        return self.estimator

    def _check_params(self):
        check_int(self.max_classes_per_member, "max_classes_per_member", minimum=2)
        check_int(self.negatives_per_class, "negatives_per_class", minimum=0)
        check_int(self.holdout_per_class, "holdout_per_class", minimum=1)
        if self.combiner not in ("learned", "reliability"):
            raise ValueError(
                f"combiner must be 'learned' or 'reliability', got {self.combiner!r}"
            )
        check_int(self.verbose, "verbose", minimum=0)
        alpha = self.alpha
        if (
            isinstance(alpha, bool)
            or not isinstance(alpha, numbers.Real)
            or not 0 <= alpha <= 1
        ):
            raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")

    def _auto_subsets(self, classes, means):
        """Classes with similar mean patterns as neighbours, cut in even runs."""
        n = len(classes)
        n_members = -(-n // self.max_classes_per_member)
        n_members = max(1, min(n_members, n // 2))  # no single-class member
        if n_members == 1:
            return [classes]
        from scipy.cluster.hierarchy import leaves_list, linkage

        # zero patterns have no direction: give them a tiny constant one
        unit = means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
        unit[np.linalg.norm(means, axis=1) == 0] = 1.0 / np.sqrt(means.shape[1])
        order = leaves_list(linkage(unit, method="average", metric="cosine"))
        return [np.sort(classes[run]) for run in np.array_split(order, n_members)]

    @staticmethod
    def _given_subsets(subsets, classes, what):
        """Validate user subsets: disjoint, >= 2 classes each, covering ``classes``."""
        if isinstance(subsets, str) or not hasattr(subsets, "__iter__"):
            raise ValueError(f"{what} must be a sequence of sequences of labels")
        result, seen = [], set()
        for i, subset in enumerate(subsets):
            if isinstance(subset, str) or not hasattr(subset, "__iter__"):
                raise ValueError(
                    f"{what}[{i}] must be a sequence of labels, got {subset!r}"
                )
            # not cast to classes' dtype: a fixed-width string dtype would cut
            # a longer label down to a known one
            subset = np.asarray(list(subset))
            if len(subset) and _label_kind(subset) != _label_kind(classes):
                raise ValueError(
                    f"{what}[{i}] holds labels of another type ({subset.dtype}) "
                    f"than y ({classes.dtype})"
                )
            subset = np.unique(subset)
            if len(subset) < 2:
                raise ValueError(
                    f"{what}[{i}] has {len(subset)} class; every member needs at "
                    "least 2 classes"
                )
            unknown = subset[~np.isin(subset, classes)]
            if len(unknown):
                raise ValueError(
                    f"{what}[{i}] holds labels absent from y: {unknown.tolist()}"
                )
            twice = [c for c in subset.tolist() if c in seen]
            if twice:
                raise ValueError(
                    f"{what}[{i}] repeats labels of an earlier subset: {twice}"
                )
            seen.update(subset.tolist())
            result.append(subset)
        missing = classes[~np.isin(classes, np.concatenate(result or [classes[:0]]))]
        if len(missing):
            raise ValueError(
                f"{what} leave classes of y without a member: {missing.tolist()}"
            )
        return result

    # ------------------------------------------------------------------ #
    # training
    # ------------------------------------------------------------------ #
    @staticmethod
    def _other_label(classes):
        """A label outside ``classes`` of their type: the "none of mine" class."""
        if classes.dtype.kind in "biuf":
            return classes.min() - 1
        label = "<other>"
        while label in classes:
            label = "<" + label + ">"
        return label

    def _train_members(self, X, y, subsets, first_index, sample_weight, keyword):
        """Fit a clone of the template per subset; ``sample_weight`` (of the
        rows of ``X``, or None) and the kept negatives' weights go to each
        member's fit under ``keyword`` (:func:`check_weightable`)."""
        template = self._template()
        class_weight = self._template_class_weight(template, y)
        negatives = self.negatives_per_class > 0
        negatives_weight = self.negatives_weight_
        members = []
        for i, subset in enumerate(
            tqdm(
                subsets,
                disable=not self.verbose,
                desc="training members",
                unit="member",
            )
        ):
            member = clone(template)
            if "random_state" in member.get_params():
                member.set_params(
                    random_state=_member_seed(self._seed_, first_index + i)
                )
            if class_weight is not None:
                # a member learns its own classes: the weights of the others
                # would name no class of its fit
                own = set(np.asarray(subset).tolist())
                member.set_params(
                    class_weight={
                        k: v for k, v in class_weight.items() if plain_scalar(k) in own
                    }
                )
            mask = np.isin(y, subset)
            Xm, ym = X[mask], y[mask]
            wm = None if sample_weight is None else sample_weight[mask]
            if negatives:
                outside = ~np.isin(self.negatives_y_, subset)
                other = self._other_label(np.concatenate([subset, self.classes_]))
                Xm = np.concatenate([Xm, self.negatives_X_[outside]])
                ym = np.concatenate([ym, np.full(outside.sum(), other, dtype=object)])
                ym = ym.astype(np.result_type(y.dtype, np.asarray(other).dtype))
                # a negative keeps the weight its pattern was given
                wm = _joined_weights(
                    wm,
                    mask.sum(),
                    None if negatives_weight is None else negatives_weight[outside],
                    outside.sum(),
                )
            members.append(weighted_fit(member, Xm, ym, wm, keyword))
        return members

    def _template_class_weight(self, template, y):
        """The member template's ``class_weight`` dict (None when it has
        none, or a string such as ``"balanced"``, which each member applies to
        its own classes), its keys checked against the classes of the union
        and of ``y`` (a ValueError naming one that is neither, before any
        member trains)."""
        from collections.abc import Mapping

        class_weight = template.get_params(deep=False).get("class_weight")
        if not isinstance(class_weight, Mapping):
            return None
        known = set(np.union1d(getattr(self, "classes_", y[:0]), y).tolist())
        for key in class_weight:
            if plain_scalar(key) not in known:
                shown = sorted(known, key=str)[:10]
                raise ValueError(
                    f"the member template's class_weight names {plain_scalar(key)!r}, "
                    f"which is not a class (the classes: {shown}"
                    f"{', ...' if len(known) > 10 else ''})"
                )
        return class_weight

    def _draw_negatives(self, X, y, classes, first_index, sample_weight=None):
        """Up to ``negatives_per_class`` random patterns of each class, their
        labels and weights (None without ``sample_weight``)."""
        rng = np.random.default_rng([self._seed_, first_index, 1])
        n = self.negatives_per_class
        idx = [rng.permutation(np.flatnonzero(y == c))[:n] for c in classes]
        idx = np.sort(np.concatenate(idx)) if idx else np.array([], dtype=np.intp)
        return X[idx], y[idx], None if sample_weight is None else sample_weight[idx]

    def _split_holdout(self, X, y, classes, first_index):
        """(training mask, held-out X, held-out y): the router's unseen patterns."""
        train = np.ones(len(y), dtype=bool)
        if self.combiner != "learned":
            return train, X[:0], y[:0]
        rng = np.random.default_rng([self._seed_, first_index, 2])
        for c in classes:
            idx = np.flatnonzero(y == c)
            n = min(self.holdout_per_class, len(idx) // 3)
            train[rng.permutation(idx)[:n]] = False
        return train, X[~train], y[~train]

    def _owner(self, y):
        """Index of the member that owns each label."""
        owner = np.full(len(y), -1)
        for m, subset in enumerate(self.class_subsets_):
            owner[np.isin(y, subset)] = m
        return owner

    def _fit_router(self):
        """Fit the router on the held-out patterns (or fall back to the rule)."""
        from sklearn.linear_model import LogisticRegression

        self.router_ = None
        self.combiner_ = "reliability"
        if self.combiner != "learned" or len(self.holdout_y_) == 0:
            return
        owner = self._owner(self.holdout_y_)
        if len(self.estimators_) < 2:  # one member: nothing to route
            return
        weight = getattr(self, "holdout_weight_", None)  # older pickles: none
        # a pattern of weight 0 counts as absent (as in scikit-learn)
        shown = owner if weight is None else owner[weight > 0]
        missing = np.setdiff1d(np.arange(len(self.estimators_)), shown)
        if len(missing):
            # a router never shown a member's patterns gives its classes zero
            warnings.warn(
                f"UnionClassifier: the held-out patterns cover no class of "
                f"member(s) {missing.tolist()} (a class needs at least 3 "
                "patterns, and a sample weight above 0 on one kept out), so "
                "the members are combined by the "
                "reliability rule instead of a router (combiner_ = "
                "'reliability')",
                UserWarning,
                # the caller of fit or add_classes, also through a Pipeline
                stacklevel=caller_stacklevel(),
            )
            return
        features = self._router_features(self._member_stats(self.holdout_X_))
        self.router_ = LogisticRegression(C=1.0, max_iter=2000).fit(
            features, owner, sample_weight=weight
        )
        self.combiner_ = "learned"

    @staticmethod
    def _router_features(stats):
        """Per member: confidence, similarity, top probability, P(mine), logits."""
        return router_features(stats)

    @staticmethod
    def _means(X, y, classes, sample_weight=None):
        """Mean pattern of each class (weighted by ``sample_weight``, checked
        by :meth:`_check_class_weights` to weigh above 0 in every class)."""
        if sample_weight is None:
            return np.stack([X[y == c].mean(axis=0, dtype=np.float64) for c in classes])
        return np.stack(
            [
                np.average(
                    X[y == c].astype(np.float64), axis=0, weights=sample_weight[y == c]
                )
                for c in classes
            ]
        )

    @staticmethod
    def _check_class_weights(y, classes, sample_weight):
        """A ValueError naming the classes whose training patterns all weigh 0:
        their member would learn nothing of them, their mean be undefined."""
        if sample_weight is None:
            return
        empty = [c for c in classes if not sample_weight[y == c].sum() > 0]
        if empty:
            raise ValueError(
                "sample_weight is 0 for every training pattern of class(es) "
                f"{[plain_scalar(c) for c in empty][:10]} (the patterns kept "
                "out for the router not counted): give them weight or leave "
                "those classes out"
            )

    def _keyword(self, sample_weight, method="fit"):
        """The member template's weight keyword (None without weights); a
        clear TypeError before any training when it takes none."""
        if sample_weight is None:
            return None
        return check_weightable(
            self._template(), "the member estimator", f"UnionClassifier.{method}"
        )

    def fit(self, X, y, sample_weight=None):
        """Train one member per class subset, each on the patterns of its classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns, one per row.
        y : array-like of shape (n_samples,)
            Class labels of any type; at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns (finite, >= 0, not all 0; None: all 1).
            Each member's fit gets the weights of the patterns it learns
            from (those of its classes and the negatives), the router's fit
            those of the held-out patterns, and the class means
            (``class_means_``) are weighted means. The member template's
            ``fit`` must take ``sample_weight`` (a
            :class:`~sklearn.pipeline.Pipeline`: its last step's); the
            held-out patterns and negatives are drawn as without weights.

        Returns
        -------
        self : object
            The fitted union.
        """
        # a fit refused part-way (class_subsets that do not fit y, a member
        # that fails) leaves a fitted union as it was: validate_data had set
        # n_features_in_ of the refused X over the old members
        before = dict(vars(self))
        try:
            return self._fit(X, y, sample_weight)
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, X, y, sample_weight=None):
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float32)
        sample_weight = checked_sample_weight(sample_weight, len(y))
        keyword = self._keyword(sample_weight)
        check_label_types(y)
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; "
                f"got 1 class ({plain_scalar(classes[0])!r})"
            )
        means = self._means(X, y, classes)
        if self.class_subsets is None:
            subsets = self._auto_subsets(classes, means)
        else:
            subsets = self._given_subsets(self.class_subsets, classes, "class_subsets")
        self._seed_ = _draw_seed(self.random_state)
        self.classes_ = classes
        train, self.holdout_X_, self.holdout_y_ = self._split_holdout(X, y, classes, 0)
        self.holdout_weight_ = None if sample_weight is None else sample_weight[~train]
        X, y = X[train], y[train]
        sample_weight = None if sample_weight is None else sample_weight[train]
        self._check_class_weights(y, classes, sample_weight)
        self.class_means_ = self._means(X, y, classes, sample_weight).astype(np.float32)
        self.negatives_X_, self.negatives_y_, self.negatives_weight_ = (
            self._draw_negatives(X, y, classes, 0, sample_weight)
        )
        self.estimators_ = self._train_members(X, y, subsets, 0, sample_weight, keyword)
        self.class_subsets_ = list(subsets)
        self._fit_router()
        self.temperature_ = 1.0
        return self

    def add_classes(self, X, y, class_subsets=None, *, sample_weight=None):
        """Train new members for new classes; the existing members stay as they are.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns of the new classes only.
        y : array-like of shape (n_samples,)
            Their labels: at least two classes, none of them in ``classes_``
            (of the same type as ``classes_``).
        class_subsets : sequence of sequences of labels, default=None
            How to split the new classes between new members; None: as in
            :meth:`fit` (``max_classes_per_member``).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the new patterns, as in :meth:`fit`: the new members'
            fits get them (and the kept negatives of the old classes the
            weights those were given, 1 if none), the refitted router gets
            those of all held-out patterns, old and new.

        Returns
        -------
        self : object
            The union with the new members appended to ``estimators_``.
        """
        check_is_fitted(self)
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float32, reset=False)
        sample_weight = checked_sample_weight(sample_weight, len(y))
        keyword = self._keyword(sample_weight, "add_classes")
        if keyword is None and getattr(self, "negatives_weight_", None) is not None:
            # the old classes' negatives carry the weights fit was given
            keyword = self._keyword(self.negatives_weight_, "add_classes")
        check_label_types(y)
        check_classification_targets(y)
        y = np.asarray(y)
        if _label_kind(y) != _label_kind(self.classes_):
            raise ValueError(
                f"the new labels ({y.dtype}) must be of the type of classes_ "
                f"({self.classes_.dtype})"
            )
        classes = np.unique(y)
        known = classes[np.isin(classes, self.classes_)]
        if len(known):
            raise ValueError(
                "add_classes takes new classes only; already in classes_: "
                f"{known.tolist()[:10]}"
            )
        if len(classes) < 2:
            raise ValueError(
                "add_classes needs at least 2 new classes (a member cannot learn "
                f"a single class), got {classes.tolist()}"
            )
        means = self._means(X, y, classes)
        if class_subsets is None:
            subsets = self._auto_subsets(classes, means)
        else:
            subsets = self._given_subsets(class_subsets, classes, "class_subsets")
        first = len(self.estimators_)
        train, holdout_X, holdout_y = self._split_holdout(X, y, classes, first)
        holdout_weight = None if sample_weight is None else sample_weight[~train]
        X, y = X[train], y[train]
        sample_weight = None if sample_weight is None else sample_weight[train]
        self._check_class_weights(y, classes, sample_weight)
        means = self._means(X, y, classes, sample_weight)
        self.negatives_weight_ = getattr(self, "negatives_weight_", None)  # pickles
        new = self._train_members(X, y, subsets, first, sample_weight, keyword)
        all_classes = np.concatenate([self.classes_, classes])
        all_means = np.concatenate([self.class_means_, means.astype(np.float32)])
        order = np.argsort(all_classes, kind="stable")
        negatives_X, negatives_y, negatives_weight = self._draw_negatives(
            X, y, classes, first, sample_weight
        )
        self.estimators_ = self.estimators_ + new
        self.class_subsets_ = self.class_subsets_ + list(subsets)
        self.classes_ = all_classes[order]
        self.class_means_ = all_means[order]
        self.negatives_weight_ = _joined_weights(
            self.negatives_weight_,
            len(self.negatives_y_),
            negatives_weight,
            len(negatives_y),
        )
        self.holdout_weight_ = _joined_weights(
            getattr(self, "holdout_weight_", None),  # older pickles: none
            len(self.holdout_y_),
            holdout_weight,
            len(holdout_y),
        )
        self.negatives_X_ = np.concatenate([self.negatives_X_, negatives_X])
        self.negatives_y_ = np.concatenate([self.negatives_y_, negatives_y])
        self.holdout_X_ = np.concatenate([self.holdout_X_, holdout_X])
        self.holdout_y_ = np.concatenate([self.holdout_y_, holdout_y])
        # the router is refitted over all members; no member is retrained
        self._fit_router()
        self.temperature_ = 1.0  # fitted for the old mixture: calibrate again
        return self

    def calibrate_temperature(self, X, y, sample_weight=None):
        """Fit a temperature on held-out patterns so probabilities are calibrated.

        The combined probabilities become ``p ** (1 / T)``, renormalized, with
        ``T`` minimizing the log-loss of ``(X, y)``: the answers stay the same.
        Unlike scikit-learn's ``CalibratedClassifierCV``, ``y`` need not hold
        every class (after :meth:`add_classes`, data of the old classes
        calibrates the whole union); labels that are not in ``classes_`` are
        left out. :meth:`fit` and :meth:`add_classes` reset ``temperature_``
        to 1.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Held-out patterns.
        y : array-like of shape (n_samples,)
            Their labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the patterns in the log-loss (finite, >= 0, not all 0;
            None: all 1).

        Returns
        -------
        self : object
            With ``temperature_`` set.

        Examples
        --------
        >>> import numpy as np
        >>> from skxrd.estimators import CNNClassifier, UnionClassifier
        >>> rng = np.random.default_rng(0)
        >>> X = rng.random((120, 64)).astype(np.float32)
        >>> y = np.repeat(["a", "b", "c"], 40)
        >>> for k, label in enumerate("abc"):
        ...     X[y == label, 10 + 20 * k] += 3.0
        >>> member = CNNClassifier(channels=(4,), max_epochs=5, random_state=0)
        >>> union = UnionClassifier(member, max_classes_per_member=2, random_state=0)
        >>> union = union.fit(X[::2], y[::2]).calibrate_temperature(X[1::2], y[1::2])
        >>> bool(union.temperature_ > 0)
        True
        """
        check_is_fitted(self)
        y = np.asarray(y)
        check_same_length(X, y)
        sample_weight = checked_sample_weight(sample_weight, len(y))
        idx, known = _known_labels(self.classes_, y)
        weight = known_weights(sample_weight, known)  # checked before the reset
        self.temperature_ = 1.0
        log_p = np.log(np.maximum(self.predict_proba(np.asarray(X)[known]), 1e-300))
        self.temperature_ = _fit_temperature(log_p, idx[known], weight)
        return self

    # ------------------------------------------------------------------ #
    # prediction
    # ------------------------------------------------------------------ #
    def _member_stats(self, X):
        """Every member's view of ``X``: arrays of shape (n_samples, n_members).

        ``top`` (index into ``classes_`` of its answer), ``top_proba``,
        ``confidence`` (``c_m``, times P(mine) with negatives), ``p_mine``,
        ``similarity`` (``s_m``), and per member its probabilities over its own
        classes (``proba``) and their columns in ``classes_`` (``columns``).
        """
        views = []
        for member, subset in zip(self.estimators_, self.class_subsets_):
            proba, confidence = _proba_and_confidence(member, X)
            own = np.isin(member.classes_, subset)
            views.append((proba, confidence, member.classes_, own, _has_head(member)))
        return Bunch(**member_stats(X, views, self.classes_, self.class_means_))

    def _combine(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        stats = self._member_stats(X)
        router_proba = None
        if self.router_ is not None:
            router_proba = np.zeros((len(X), len(self.estimators_)))
            router_proba[:, self.router_.classes_] = self.router_.predict_proba(
                self._router_features(stats)
            )
        combined, capped, winner, reliability = combine_members(
            stats,
            self.alpha,
            len(self.classes_),
            router_proba,
            getattr(self, "temperature_", 1.0),  # older pickles: none
        )
        details = Bunch(
            label=self.classes_[stats.top],
            confidence=stats.confidence,
            similarity=stats.similarity,
            reliability=reliability,
            weight=capped,
            member=winner,
        )
        return combined, details

    def predict_proba(self, X):
        """Probabilities over all classes, combined from the members.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns, one per row.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Rows sum to 1; columns in the order of ``classes_``. The most
            probable class is the answer of the most reliable member.
        """
        return self._combine(X)[0]

    def predict_confidence(self, X):
        """Confidence of the answer, in [0, 1].

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns, one per row.

        Returns
        -------
        ndarray of shape (n_samples,)
            With the learned router, the probability of the answer (the
            router's belief in each member times that member's probability);
            with the reliability rule, ``max_m r_m``. Threshold it
            (:class:`AbstainingClassifier`) to refuse patterns of unknown
            structure types.
        """
        return self._predict_proba_confidence(X)[1]

    def _predict_proba_confidence(self, X):
        proba, details = self._combine(X)
        if self.router_ is not None:
            return proba, proba.max(axis=1)
        rows = np.arange(len(details.member))
        return proba, details.reliability[rows, details.member]

    def reliability(self, X):
        """What every member says about each pattern, for inspection.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Patterns, one per row.

        Returns
        -------
        Bunch
            Arrays of shape ``(n_samples, n_members)``, members in the order
            of ``estimators_``: ``label`` (each member's predicted class),
            ``confidence`` (``c_m``), ``similarity`` (``s_m``) and
            ``reliability`` (``r_m``) and ``weight`` (each member's weight in
            ``predict_proba``: the router's probability that the member owns
            the pattern, or the capped confidence share of the reliability
            rule); and ``member`` of shape ``(n_samples,)``: the member with
            the highest weight (learned) or reliability (rule).
        """
        return self._combine(X)[1]

    def _logit_module(self):
        """The union's log-probabilities over ``classes_`` as a torch module
        (for attribution maps), each class through the member that owns it.

        ``log P(k) = log w_m(x) + log P_m(k | mine)`` for the owner ``m`` of
        ``k``: the members' networks carry the gradient; the router's weight
        ``w_m`` is computed from the same input but held fixed, so a map
        explains what made the owner choose ``k``. The argmax is the union's
        answer. Needs network members (with ``net_.module_``).
        """
        check_is_fitted(self)
        for i, member in enumerate(self.estimators_):
            if not hasattr(getattr(member, "net_", None), "module_"):
                raise ValueError(
                    f"attribution maps need network members; member {i} is a "
                    f"{type(member).__name__}"
                )
        return _UnionLogits(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        try:
            inner = self._template().__sklearn_tags__()
        except (AttributeError, ValueError):
            return tags
        tags.non_deterministic = inner.non_deterministic
        return tags


class _UnionLogits(torch.nn.Module):
    """:meth:`UnionClassifier._logit_module`: each class's log-probability
    through its owner member, with the router's weight held fixed."""

    def __init__(self, union):
        super().__init__()
        self._union = union  # a plain attribute: its networks are ``members``
        self.members = torch.nn.ModuleList(m.net_.module_ for m in union.estimators_)
        self.temperatures = [
            float(getattr(m, "temperature_", 1.0)) for m in union.estimators_
        ]
        self.own, self.cols = [], []
        # the classes no member owns keep the constant -1e4 of forward
        self.has_output = np.zeros(len(union.classes_), dtype=bool)
        for member, subset in zip(union.estimators_, union.class_subsets_):
            mine = np.flatnonzero(np.isin(member.classes_, subset))
            cols = np.searchsorted(union.classes_, member.classes_[mine])
            self.own.append(torch.as_tensor(mine, dtype=torch.long))
            self.cols.append(torch.as_tensor(cols, dtype=torch.long))
            self.has_output[cols] = True

    def forward(self, x):
        union = self._union
        flat = x.detach().reshape(len(x), -1).cpu().numpy().astype(np.float32)
        weight = union._combine(flat)[1].weight
        log_w = torch.as_tensor(
            np.log(np.maximum(weight, 1e-300)), dtype=x.dtype, device=x.device
        )
        out = torch.full(
            (len(x), len(union.classes_)), -1e4, dtype=x.dtype, device=x.device
        )
        for m, module in enumerate(self.members):
            z = module(x)
            if isinstance(z, tuple | list):  # (logits, confidence)
                z = z[0]
            z = z[:, self.own[m].to(z.device)] / self.temperatures[m]
            part = log_w[:, m : m + 1] + torch.log_softmax(z, dim=1)
            out = out.index_copy(1, self.cols[m].to(z.device), part)
        return out / float(getattr(union, "temperature_", 1.0))


def _joined_weights(old, n_old, new, n_new):
    """The weights of kept patterns, old then new: None while both are
    unweighted (all 1), else 1 where a part has none."""
    if old is None and new is None:
        return None
    return np.concatenate(
        [np.ones(n_old) if old is None else old, np.ones(n_new) if new is None else new]
    )


def _label_kind(labels):
    """``"number"``, ``"str"`` or the dtype kind: labels of one kind compare.

    Strings may come as numpy's ``U`` dtype or as objects (a pandas column);
    numbers as any integer or float dtype or as Python numbers in an object
    array."""
    labels = np.asarray(labels)
    kind = labels.dtype.kind
    if kind in "iuf":
        return "number"
    if kind in "US":
        return "str"
    if kind == "O" and labels.size:
        values = labels.ravel()
        if all(isinstance(v, str) for v in values):
            return "str"
        if all(
            isinstance(v, (numbers.Real, np.number)) and not isinstance(v, bool)
            for v in values
        ):
            return "number"
    return kind
