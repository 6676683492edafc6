"""Answers from a model file without scikit-learn or torch: what ``skxrd
predict`` runs.

A model file (:func:`~skxrd.pretrained.save_model`) holds plain parameters and
weights. :func:`load_predictor` reads one into a :class:`Predictor` that
computes what the :class:`~skxrd.pretrained.PatternPipeline` of
:func:`~skxrd.pretrained.load_model` computes for lists of
:class:`~skxrd.io.Pattern` objects (the same functions do the work: the cores
of :mod:`skxrd.preprocessing` and :mod:`skxrd.estimators`), but imports only
numpy and scipy: scikit-learn, skorch and pandas cost a second or more of
every command-line call on a CPU, and torch 1.4-1.8 s, for no part of the
answer. The file is read by :func:`._archive.read_archive` (which checks it as
the full loader does) and the ResNets run in numpy
(:class:`._forward.NumpyResNet1D`): the probabilities equal the pipeline's in
float32 rounding, not bit for bit. Other networks are run by torch.

It covers what the shipped models hold: a resampler, smoothing, background
subtraction and normalization, then a network classifier with a search-match
in front of it, its crystal systems weighed against powder indexing, and
crystal-system views of it (crystal system, space group),
or a union of networks with a learned router (structure type). For anything
else (a cropper, a binary router, a GPU) :func:`load_predictor` returns None,
and the caller loads the full pipeline.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

__all__ = ["Predictor", "load_predictor"]

# the step classes whose cores a predictor runs and their parameters (a model
# file stores all of them; a missing one is a file of another version, an
# unknown one a file written otherwise: the full loader, which says so). A
# test keeps the names equal to the classes' get_params.
_STEP_PARAMS = {
    "PatternResampler": frozenset(
        {
            "fill_value",
            "kalpha2",
            "method",
            "out_of_range",
            "source_axis",
            "source_grid",
            "source_radiation",
            "source_range",
            "source_wavelength",
            "two_theta",
            "wavelength",
        }
    ),  # fmt: skip
    "PatternSmoother": frozenset({"method", "polyorder", "window_length"}),
    "BackgroundSubtractor": frozenset(
        {"ball_height", "decreasing", "edges", "iterations", "lls", "method", "window"}
    ),
    "PatternNormalizer": frozenset({"method", "scale"}),
}
_STEPS = tuple(_STEP_PARAMS)


def load_predictor(path, *, device="cpu"):
    """A :class:`Predictor` for a model file or view, or None when it holds
    something a predictor does not run (the full pipeline does).

    Parameters
    ----------
    path : str or path-like
        A ``.pt`` model file or a ``.json`` view of one.
    device : str, default="cpu"
        Where the network would run; anything but the CPU gives None.

    Returns
    -------
    Predictor or None

    Raises
    ------
    ValueError, FileNotFoundError
        As :func:`~skxrd.pretrained.load_model` for a missing, damaged or
        foreign file.
    """
    from ..utils._torch import cuda_may_be_available, resolve_device
    from ._store import _read_payload, _read_view

    # the CPU only ("auto" where CUDA is missing); any other device, named or
    # found, is the pipeline's (which knows more kinds of them). Torch is
    # asked only where a driver shows that CUDA may be there.
    if str(device) not in ("cpu", "auto"):
        return None
    if str(device) == "auto" and cuda_may_be_available():
        if resolve_device("auto").type != "cpu":
            return None
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    target, metadata, symmetry = None, {}, None
    if path.suffix == ".json":
        path, target, metadata, symmetry = _read_view(path)
    from ._archive import UnsupportedDtype

    try:
        payload = _read_payload(path, arrays=True)  # numpy arrays, without torch
    except UnsupportedDtype:
        return None  # a tensor numpy cannot hold: torch reads the file
    if target is not None and payload.get("coarse_target") is not None:
        return None  # a view of a coarse model: the full loader says why not
    target = target or payload.get("coarse_target")
    from ..crystal._spacegroups import _COARSE_TARGETS

    if target not in (None, *_COARSE_TARGETS) or (target and "union" in payload):
        return None
    if any(cls not in _STEPS for _, cls, _, _ in payload["steps"][:-1]):
        return None
    try:
        predictor = Predictor(payload, target, {**payload["metadata"], **metadata})
    except (KeyError, TypeError, ValueError, RuntimeError):
        return None  # the full loader reports what is wrong, in its words
    if symmetry is not None:
        other = load_predictor(symmetry["path"], device=device)
        if other is None or not predictor._weigh_by(other, symmetry):
            return None  # the full loader runs it, or says what is wrong
    return predictor


class Predictor:
    """The answers of a model file's pipeline, computed without scikit-learn.

    Made by :func:`load_predictor`; has the methods of a fitted
    :class:`~skxrd.pretrained.PatternPipeline` that ``skxrd predict`` and
    ``skxrd watch`` call, for lists of :class:`~skxrd.io.Pattern` objects.

    Attributes
    ----------
    classes_ : ndarray
    metadata_ : dict
    """

    def __init__(self, payload, coarse_target, metadata):
        from ..preprocessing._core import _Settings

        steps = payload["steps"]
        first = steps[0]
        if first[1] != "PatternResampler":
            raise ValueError("the first step is not a PatternResampler")
        for _, cls, params, _ in steps[:-1]:
            if not set(params) <= _STEP_PARAMS[cls]:
                raise ValueError(f"{cls} has unknown parameters")
        self._resampler = SimpleNamespace(**first[2])
        self._settings = _Settings(self._resampler)
        self._steps = [(cls, dict(params)) for _, cls, params, _ in steps[1:-1]]
        for cls, params in self._steps:
            if cls == "BackgroundSubtractor":
                # files written before the parameter existed: the SNIP they
                # were trained with (BackgroundSubtractor's default)
                params.setdefault("edges", "keep")
        for cls, params in self._steps:
            _check_step(cls, params)
        n_in = steps[-1][3]
        if n_in != len(self._settings.grid):
            raise ValueError("the classifier does not read the resampler's grid")
        self._union = self._network = self._match = None
        if "union" in payload:
            self._union = _Union(payload["union"])
            out_classes = self._union.classes
        else:
            _, cls, params, _ = steps[-1]
            record = {
                "class": cls,
                "params": params,
                "classes": payload["classes"],
                "temperature": payload.get("temperature", 1.0),
            }
            if cls == "EnsembleClassifier":
                self._network = _Ensemble({**record, "members": payload["members"]})
            else:
                self._network = _Network(
                    {**record, "state_dict": payload["state_dict"]}
                )
            out_classes = self._network.classes
            if "match" in payload:
                self._match = _Match(payload["match"], out_classes, n_in)
                out_classes = self._match.classes
        self._indexing = None
        if "indexing" in payload:
            self._indexing = _Indexing(payload["indexing"], out_classes, n_in)
        self._membership = None
        if coarse_target is not None:  # sums per crystal system, Bravais lattice...
            from ..estimators._core import coarse_membership

            out_classes, self._membership = coarse_membership(
                out_classes, coarse_target
            )
        self.classes_ = out_classes
        self.metadata_ = metadata
        self._symmetry = None

    def _weigh_by(self, other, symmetry):
        """Weigh the classes by the space-group Predictor ``other``
        (:class:`~skxrd.estimators.SymmetryWeightedClassifier`); False where
        it reads patterns otherwise or the record does not fit."""
        from ..estimators._core import symmetry_columns

        def resampling(p):
            # model files written before kalpha2 and method existed lack
            # them: "auto" and "linear"
            return {"kalpha2": "auto", "method": "linear", **vars(p._resampler)}

        if (
            resampling(self) != resampling(other)
            or self._steps != other._steps
            or self._membership is not None
            or other._membership is not None
        ):
            return False
        groups = symmetry["class_space_groups"]
        if any(c.item() not in groups for c in self.classes_):
            # a class without a listed group may be a library type, whose
            # group only the full loader knows (or refuses to guess)
            return False
        class_groups = [groups[c.item()] for c in self.classes_]
        try:
            columns, log_prior = symmetry_columns(class_groups, other.classes_)
        except ValueError:
            return False
        self._symmetry = (other, columns, log_prior, symmetry["weight"])
        return True

    # ------------------------------------------------------------------ #
    def transform_patterns(self, patterns):
        """The patterns as the classifier sees them (model grid, background
        subtracted, normalized): ``PatternPipeline.transform_patterns``."""
        from ..preprocessing._core import (
            background,
            check_finite,
            normalize,
            resample_patterns,
            smooth,
        )

        patterns = _as_patterns(patterns)
        X = resample_patterns(self._settings, patterns)
        for cls, p in self._steps:
            check_finite(X)
            if cls == "BackgroundSubtractor":
                X = X - background(
                    X,
                    p["method"],
                    p["window"],
                    p["iterations"],
                    p["lls"],
                    p["decreasing"],
                    p["ball_height"],
                    p["edges"],
                )
            elif cls == "PatternSmoother":
                X = smooth(X, p["window_length"], p["polyorder"], p["method"])
            else:
                X = normalize(X, p["method"], p["scale"])
        return X

    def predict_proba(self, patterns):
        """Class probabilities, columns in the order of ``classes_``."""
        return self._proba_rows(self.transform_patterns(patterns))

    def _proba_rows(self, X):
        """:meth:`predict_proba` of rows already on the model grid, preprocessed."""
        from ..estimators._core import mixture

        if self._union is not None:
            proba = self._union.proba(X)
        elif self._match is None:
            proba = self._network.proba_confidence(X)[0]
        else:
            m = self._match
            sims = m.class_similarities(X)
            proba = mixture(
                lambda rows: m.softmax(sims[rows]),
                lambda rows: m.shrink(self._network.proba_confidence(X[rows])[0]),
                m.weights(sims),
                m.match_columns,
                m.model_columns,
                len(m.classes),
            )
        if self._indexing is not None:
            proba = self._indexing.proba(X, np.asarray(proba, float))
        if self._membership is not None:
            proba = np.asarray(proba, float) @ self._membership
        if self._symmetry is not None:
            from ..estimators._core import symmetry_weighted

            other, columns, log_prior, weight = self._symmetry
            proba = symmetry_weighted(
                proba, other._proba_rows(X), columns, log_prior, weight
            )
        return proba

    def predict(self, patterns):
        """The most probable class of each pattern."""
        return self.classes_[np.argmax(self.predict_proba(patterns), axis=1)]

    def predict_top_k(self, patterns, k=5):
        """The ``k`` most probable classes of each pattern and their probabilities
        (``PatternPipeline.predict_top_k``)."""
        from ..estimators._core import top_k
        from ..utils._validation import check_int

        k = check_int(k, "k", minimum=1)
        return top_k(self.predict_proba(patterns), self.classes_, k)

    def screen(self, patterns, **kwargs):
        """Why each pattern is not a powder pattern, None where it is one
        (``PatternPipeline.screen``)."""
        from ..preprocessing._screen import screen_patterns

        grid = self._settings.grid
        return screen_patterns(
            _as_patterns(patterns),
            wavelength=self._resampler.wavelength,
            model_range=(float(grid[0]), float(grid[-1])),
            **kwargs,
        )

    def cells(self, patterns, return_n_peaks=False, also=""):
        """The cells the model's indexing found, as
        :meth:`~skxrd.estimators.IndexingClassifier.cells` computes them.

        The same peaks and settings as the merits the stacker weighed; the
        patterns :meth:`predict_proba` answered lately are not indexed again.

        Parameters
        ----------
        patterns : list of Pattern
        return_n_peaks : bool, default=False
            Also return the number of peaks indexed per pattern.
        also : str, default=""
            Letters of more families to search on the same peaks (``"m"``).

        Returns
        -------
        cells : list of dict or None
            Per pattern, lattice type -> IndexingSolution or None; None for a
            model that indexes nothing.
        n_peaks : ndarray of shape (n_patterns,)
            Only with ``return_n_peaks`` (and a model that indexes).
        """
        from ..estimators._indexing_core import check_also
        from ..utils._validation import check_bool

        # as IndexingClassifier.cells checks them: also="M" searched nothing
        return_n_peaks = check_bool(return_n_peaks, "return_n_peaks")
        check_also(also)
        if self._indexing is None:
            return None
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # noted with the answers
            X = self.transform_patterns(patterns)
        found = self._indexing.cells(X, also)
        cells = [c for _, c in found]
        if return_n_peaks:
            return cells, np.array([n for n, _ in found], dtype=int)
        return cells

    def best_matches(self, patterns, k=1):
        """Per pattern ``(similarity, reference index, gate score, threshold,
        reference names, reference labels)`` of the ``k`` closest search-match
        references, best first (similarity, index and labels of shape
        ``(n_patterns, k)``; the gate's score,
        :func:`~skxrd.estimators._core.gate_scores`, is what the threshold is
        compared with); None without one."""
        from ..utils._validation import check_int

        # as MatchFirstClassifier.kneighbors checks it: k=-1 gave all but one
        k = check_int(k, "k", minimum=1)
        if self._match is None:
            return None
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # noted with the answers
            X = self.transform_patterns(patterns)
        from ..estimators._core import gate_scores

        m = self._match
        similarity, index = m.kneighbors(X, min(k, len(m.references)))
        score = gate_scores(m.class_similarities(X), m.margin)
        return similarity, index, score, m.threshold, m.names, m.labels(index)


class _Indexing:
    """The crystal-system stacker of an IndexingClassifier
    (:meth:`~skxrd.estimators.IndexingClassifier.predict_proba` on the cores)."""

    def __init__(self, rec, classes, n_in):
        from ..estimators._core import coarse_membership
        from ..estimators._indexing_core import absence_settings, indexing_settings
        from ._store import _indexing_temperatures

        (
            self.families,
            self.degree,
            self.merit_cap,
            self.max_zero_shift,
            self.first_lines,
        ) = indexing_settings(rec)
        self.absences, self.absence_weight, self.absence_min_merit = absence_settings(
            rec
        )
        self.temperatures = _indexing_temperatures(rec)
        self.classes = np.asarray(classes)
        self.two_theta = np.asarray(rec["two_theta"], dtype=float)
        if len(self.two_theta) != n_in:
            raise ValueError("the indexing grid is not the classifier's")
        self.radiation, self.scale = rec["radiation"], rec["scale"]
        self.coef = np.asarray(rec["coef"], dtype=float)
        self.intercept = np.asarray(rec["intercept"], dtype=float)
        systems, self.membership = coarse_membership(classes, "crystal_system")
        self.columns = np.searchsorted(systems, np.asarray(rec["classes"]))
        n_in = len(systems) + self.degree * len(self.families)
        if self.coef.shape != (len(self.columns), n_in):
            raise ValueError("the indexing stacker does not fit the classifier")

    def _search(self):
        """The grid and search settings of both :meth:`cells` and the merits
        of :meth:`_stacked`: one tuple, so that the cells shown are those
        whose merits were weighed."""
        return (
            self.two_theta,
            self.radiation,
            self.scale,
            self.families,
            self.max_zero_shift,
            self.first_lines,
        )

    def cells(self, X, also=""):
        """:func:`~skxrd.estimators._indexing_core.indexing_cells` of rows on
        the grid, with the settings :meth:`_stacked` indexes with (and the
        families ``also``)."""
        from ..estimators._indexing_core import indexing_cells

        return indexing_cells(X, *self._search(), also=also)

    def proba(self, X, proba):
        from ..estimators._core import temper_coarse

        return temper_coarse(
            self._stacked(X, proba), self.membership, *self.temperatures
        )

    def _stacked(self, X, proba):
        from ..estimators._core import multinomial_proba
        from ..estimators._indexing_core import (
            indexing_merits,
            stack_proba,
            weigh_absences,
        )

        merits = indexing_merits(X, *self._search(), absences=self.absences)
        merits, groups = merits if self.absences else (merits, None)
        out = stack_proba(
            proba,
            self.membership,
            merits,
            lambda z: multinomial_proba(z, self.coef, self.intercept),
            self.columns,
            self.families,
            self.degree,
            self.merit_cap,
            groups,
        )
        if groups is None:
            return out
        return weigh_absences(
            out,
            self.classes,
            merits,
            groups,
            self.absence_weight,
            self.absence_min_merit,
        )


class _Network:
    """A network classifier of a model file: ``_predict_proba_confidence`` of
    :class:`~skxrd.estimators.ResNetClassifier` (and its kin) on the cores."""

    def __init__(self, record):
        from ..estimators._core import network_module
        from ..utils._validation import check_positive

        params = record["params"]
        if params.get("precision", "auto") not in ("auto", "float32"):
            # bf16 autocast on the CPU: the classifier's inference, not this one
            raise ValueError(f"precision {params['precision']!r}")
        self.classes = np.asarray(record["classes"])
        self.batch_size = int(params.get("batch_size", 128))
        self.has_head = bool(params.get("confidence_head", False))
        self.temperature = check_positive(
            record.get("temperature", 1.0), "the temperature"
        )
        self.numpy = self.module = None
        if record["class"] == "ResNetClassifier":
            from ._forward import STEM_STRIDE, NumpyResNet1D

            stride = params.get("stem_stride", STEM_STRIDE)
            self.numpy = NumpyResNet1D(record["state_dict"], stride)
            if self.numpy.has_head != self.has_head:
                raise ValueError("the confidence head and the weights disagree")
            if self.numpy.n_classes != len(self.classes):
                raise ValueError("the classes and the weights disagree")
            return
        import torch

        module = network_module(record["class"], params, len(self.classes))
        state = {k: torch.as_tensor(v) for k, v in record["state_dict"].items()}
        module.load_state_dict(state)  # float16 ones are cast
        self.module = module.eval()

    def proba_confidence(self, X):
        """Tempered probabilities and the confidence (a head's, else the top
        probability), in one forward pass."""
        from ..estimators._core import normalized_probabilities

        if self.numpy is not None:
            from scipy.special import softmax

            logits, confidence = self.numpy.forward(X)
            # in float32, as torch.softmax
            z = softmax(logits / np.float32(self.temperature), axis=1)
            proba = normalized_probabilities([z])
            if confidence is None:
                return proba, proba.max(axis=1)
            return proba, confidence.astype(np.float64)
        import torch

        from ..estimators._core import infer_in_chunks

        x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        probas, confidences = [], []
        with torch.no_grad():
            # the batches of the classifier's DataLoader, each in fixed chunks
            for batch in x.split(self.batch_size):
                out = infer_in_chunks(self.module, batch)
                if isinstance(out, tuple):  # (logits, confidence) of a head
                    out, confidence = out
                    confidences.append(confidence.numpy())
                probas.append(torch.softmax(out.float() / self.temperature, dim=-1))
        proba = normalized_probabilities(probas)
        if not confidences:
            return proba, proba.max(axis=1)
        return proba, np.concatenate(confidences).astype(np.float64)


class _Ensemble:
    """An :class:`~skxrd.estimators.EnsembleClassifier` of network classifiers
    of a model file: its members' probabilities averaged, then tempered."""

    def __init__(self, record):
        from ..estimators._core import checked_ensemble_weights
        from ..utils._validation import check_positive

        members = record["members"]
        if not isinstance(members, list) or not members:
            raise ValueError("an ensemble without members")
        self.members = [_Network(m) for m in members]
        self.classes = np.asarray(record["classes"])
        if any(not np.array_equal(m.classes, self.classes) for m in self.members):
            raise ValueError("the ensemble's classes and its members' disagree")
        params = record["params"]
        self.average = params["average"]
        # as the full loader's EnsembleClassifier checks and normalizes them
        self.weights = checked_ensemble_weights(
            params["weights"], len(self.members), self.average
        )
        self.temperature = check_positive(record["temperature"], "temperature")

    def proba_confidence(self, X):
        """Averaged, tempered probabilities and the top one (the ensemble's
        confidence, as :class:`~skxrd.estimators.EnsembleClassifier` has no
        head)."""
        from ..estimators._core import average_probabilities

        probas = [m.proba_confidence(X)[0] for m in self.members]
        proba = average_probabilities(
            probas, self.weights, self.average, self.temperature
        )
        return proba, proba.max(axis=1)


class _Union:
    """The :class:`~skxrd.estimators.UnionClassifier` of a model file (the
    shipped structure-type model), on the cores it combines its members with."""

    def __init__(self, rec):
        self.members = [_Network(m) for m in rec["members"]]
        self.subsets = [np.asarray(c) for c in rec["class_subsets"]]
        self.classes = np.asarray(rec["classes"])
        # float16 in compact files: the members compute in float32
        self.class_means = np.asarray(rec["class_means"], dtype=np.float32)
        self.alpha = float(rec["params"]["alpha"])
        from ..utils._validation import check_positive

        self.temperature = check_positive(
            rec.get("temperature", 1.0), "the union's temperature"
        )
        self.router = None
        router = rec["router"]
        if router is not None:
            classes = np.asarray(router["classes"])
            if len(classes) < 3:  # a binary router's probabilities differ
                raise ValueError("a router of two members")
            coef = np.asarray(router["coef"])
            intercept = np.asarray(router["intercept"])
            self.router = (classes, coef, intercept)

    def proba(self, X):
        """``UnionClassifier.predict_proba``."""
        from ..estimators._core import (
            combine_members,
            member_stats,
            multinomial_proba,
            router_features,
        )

        X = np.asarray(X, dtype=np.float32)
        views = []
        for member, subset in zip(self.members, self.subsets):
            proba, confidence = member.proba_confidence(X)
            own = np.isin(member.classes, subset)
            views.append((proba, confidence, member.classes, own, member.has_head))
        stats = member_stats(X, views, self.classes, self.class_means)
        router_proba = None
        if self.router is not None:
            classes, coef, intercept = self.router
            router_proba = np.zeros((len(X), len(self.members)))
            router_proba[:, classes] = multinomial_proba(
                router_features(stats), coef, intercept
            )
        return combine_members(
            stats, self.alpha, len(self.classes), router_proba, self.temperature
        )[0]


class _Match:
    """The search-match of a model file (``MatchFirstClassifier`` and its
    ``PatternMatchClassifier``), on the cores they compute with."""

    def __init__(self, rec, network_classes, n_in):
        params = rec["params"]
        self.intensity = params["intensity"]
        self.smoothing = float(params["smoothing"])
        self.stride = int(params["stride"])
        self.center = bool(params["center"])
        self.batch_size = int(params["batch_size"])
        from ..estimators._core import UNMEASURED_RUN

        # files written before the parameter existed: its default
        self.unmeasured_run = int(params.get("unmeasured_run", UNMEASURED_RUN))
        self.max_shift = int(params.get("max_shift", 0))
        self.shift_step = int(params.get("shift_step", 2))
        if self.unmeasured_run < 0 or self.max_shift < 0 or self.shift_step < 1:
            raise ValueError("unmeasured_run, max_shift or shift_step out of range")
        self.references = np.asarray(rec["references"], dtype=np.float32)
        self.reference_index = np.asarray(rec["reference_index"], dtype=np.intp)
        self.starts = np.asarray(rec["starts"], dtype=np.intp)
        match_classes = self.match_classes = np.asarray(rec["classes"])
        if (
            rec["n_features_in"] != n_in
            or self.references.shape[1] != len(range(0, n_in, self.stride))
            or len(self.starts) != len(match_classes)
        ):
            raise ValueError("the search-match references do not fit the network")
        self.temperature = float(
            rec["temperature"]
            if rec["temperature"] is not None
            else params["temperature"]
        )
        from ._store import _gate_record

        self.gate = rec["gate"]
        self.threshold, self.slope, self.margin = _gate_record(rec, "the search-match")
        self.names = rec["names"]
        from ._store import _prior_record

        self.prior_weight, self.prior = _prior_record(
            rec, network_classes, "the search-match"
        )
        self.classes = np.union1d(network_classes, match_classes)
        self.model_columns = np.searchsorted(self.classes, network_classes)
        self.match_columns = np.searchsorted(self.classes, match_classes)

    def _similarities(self, X):
        """Similarities to every reference, a batch of rows at a time."""
        from ..estimators._core import batched_similarities

        for _, sims in batched_similarities(self, X, self.references):
            yield sims

    def class_similarities(self, X):
        from ..estimators._core import best_per_class

        return np.concatenate(
            [best_per_class(sim, self.starts) for sim in self._similarities(X)]
        )

    def labels(self, index):
        """The labels of the references of rows ``index``."""
        from ..estimators._core import reference_labels

        return reference_labels(
            index, self.match_classes, self.starts, self.reference_index
        )

    def kneighbors(self, X, k):
        from ..estimators._core import top_neighbors

        index = self.reference_index
        pairs = [top_neighbors(s, k, index) for s in self._similarities(X)]
        return np.concatenate([p[0] for p in pairs]), np.concatenate(
            [p[1] for p in pairs]
        )

    def softmax(self, similarities):
        from ..estimators._core import match_softmax

        return match_softmax(similarities, self.temperature)

    def shrink(self, proba):
        """The network's probabilities shrunk towards the prior (if any)."""
        from ..estimators._space_group_prior import shrink_to_prior

        return shrink_to_prior(proba, self.prior_weight, self.prior)

    def weights(self, similarities):
        from ..estimators._core import gate_weights

        return gate_weights(
            similarities, self.gate, self.threshold, self.slope, self.margin
        )


def _as_patterns(patterns):
    """The list of :class:`~skxrd.io.Pattern` objects a Predictor takes, or
    one clear error."""
    from ..io._pattern import as_patterns

    if isinstance(patterns, (list, tuple)) and not len(patterns):
        # as the pipeline's PatternResampler says it, not a type error
        raise ValueError(
            f"X is an empty {type(patterns).__name__}: give at least one Pattern"
        )
    found = as_patterns(patterns, error=ValueError)
    if found is None:
        raise TypeError("a Predictor takes a list of Pattern objects")
    return found


def _check_step(cls, params):
    """The parameters of a preprocessing step as its class accepts them, or a
    ValueError (the full loader then names the problem)."""
    from ..preprocessing._core import (
        BACKGROUND_METHODS,
        NORMALIZE_METHODS,
        NORMALIZE_SCALES,
        SMOOTH_METHODS,
        SNIP_EDGES,
    )

    if cls == "BackgroundSubtractor":
        ok = params["method"] in BACKGROUND_METHODS and params["edges"] in SNIP_EDGES
    elif cls == "PatternNormalizer":
        ok = (
            params["method"] in NORMALIZE_METHODS
            and params["scale"] in NORMALIZE_SCALES
        )
    elif cls == "PatternSmoother":
        window, order = params["window_length"], params["polyorder"]
        ok = params["method"] in SMOOTH_METHODS and isinstance(window, int)
        ok = ok and window >= 1 and (params["method"] == "median" or order < window)
        # odd, as PatternSmoother requires: a file with an even window (made
        # before that rule) is left to the full loader, which refuses it
        ok = ok and window % 2 == 1
    else:
        ok = False
    if not ok:
        raise ValueError(f"{cls} parameters {params!r}")
