"""Model files: a fitted pattern pipeline as parameters plus network weights.

A model file is a :func:`torch.save` dictionary of plain values and tensors, so
that :func:`torch.load` reads it with ``weights_only=True``: loading a model
file never runs code from the file, unlike a pickle. Only the skxrd classes of
``_STEP_CLASSES`` can be named in it. The preprocessing steps are stateless,
so they are rebuilt from their parameters; the classifier is rebuilt from its
parameters and gets the stored weights.
"""

from __future__ import annotations

import numbers
import os
import re
from pathlib import Path

import numpy as np

from ..utils._validation import check_positive

__all__ = ["load_model", "save_model"]

FORMAT = "skxrd-model/1"
VIEW_FORMAT = "skxrd-view/1"  # a JSON file: another model file at coarser labels
_DIGEST = "sha256"  # the payload key of the checksum over everything else


_NETWORKS = ("ResNetClassifier", "DenseNetClassifier", "CNNClassifier")


def _step_classes() -> dict:
    from ..estimators import CNNClassifier, DenseNetClassifier, ResNetClassifier
    from ..preprocessing import (
        BackgroundSubtractor,
        PatternCropper,
        PatternNormalizer,
        PatternResampler,
        PatternSmoother,
    )

    classes = (
        PatternResampler,
        PatternCropper,
        BackgroundSubtractor,
        PatternSmoother,
        PatternNormalizer,
        ResNetClassifier,
        DenseNetClassifier,
        CNNClassifier,
    )
    return {cls.__name__: cls for cls in classes}


def _plain(value, where):
    """``value`` as plain Python (tuples, lists, dicts, str, numbers, None)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v, where) for v in value)
    if isinstance(value, np.ndarray):
        return [_plain(v, where) for v in value.tolist()]
    if isinstance(value, dict):
        return {str(k): _plain(v, where) for k, v in value.items()}
    raise TypeError(f"{where} = {value!r} cannot be stored in a model file")


def _digest(payload) -> str:
    """SHA-256 over a payload's contents, in a canonical order.

    Stored in the file and checked on loading, so that a damaged or edited
    file (a flipped bit in the weights loads silently otherwise) is an error.
    Tuples and lists hash alike: the unpickler may return either.
    """
    import hashlib
    import sys

    from ._archive import TORCH_DTYPE_NAMES

    # no tensor exists where torch was never imported (read_archive's payloads)
    torch = sys.modules.get("torch")
    h = hashlib.sha256()

    def walk(v):
        if torch is not None and isinstance(v, torch.Tensor):
            t = v.detach().cpu().contiguous()
            h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
            # the bytes in place, not a copy of them (12 MB of weights)
            h.update(memoryview(t.reshape(-1).view(torch.uint8).numpy()))
        elif isinstance(v, np.ndarray):  # a tensor as read_archive reads it
            a = v if v.flags.c_contiguous else v.copy(order="C")  # 0-d stays 0-d
            h.update(f"T{TORCH_DTYPE_NAMES[a.dtype]}{a.shape}".encode())
            h.update(memoryview(a.reshape(-1).view(np.uint8)))
        elif isinstance(v, dict):
            keys = sorted((k for k in v if k != _DIGEST), key=str)
            h.update(f"D{len(keys)}".encode())
            for k in keys:
                walk(str(k))
                walk(v[k])
        elif isinstance(v, (list, tuple)):
            h.update(f"L{len(v)}".encode())
            for item in v:
                walk(item)
        elif isinstance(v, str):
            h.update(b"S" + str(len(v)).encode() + b":" + v.encode())
        elif v is None or isinstance(v, (bool, np.bool_)):
            h.update(f"B{v};".encode())
        elif isinstance(v, numbers.Integral):
            h.update(f"I{int(v)};".encode())
        elif isinstance(v, numbers.Real):  # numpy floats too: stored as float
            h.update(f"F{float(v).hex()};".encode())
        else:
            raise TypeError(f"{type(v).__name__} cannot be part of a model file")

    walk(payload)
    return h.hexdigest()


def check_save_options(
    union_patterns_per_class=None,
    union_patterns_dtype="float32",
    weights_dtype="float32",
):
    """:func:`save_model`'s storage options checked (the ``[save]`` section of
    a training config is checked with it before the training); returns
    ``union_patterns_per_class`` as an int (or None)."""
    from ..utils._validation import check_int

    for what, dtype in (
        ("weights_dtype", weights_dtype),
        ("union_patterns_dtype", union_patterns_dtype),
    ):
        if dtype not in ("float32", "float16"):
            raise ValueError(f"{what} must be 'float32' or 'float16', got {dtype!r}")
    if union_patterns_per_class is not None:
        union_patterns_per_class = check_int(
            union_patterns_per_class, "union_patterns_per_class", minimum=1
        )
    return union_patterns_per_class


def save_model(
    pipeline,
    path,
    *,
    metadata=None,
    overwrite=False,
    union_patterns_per_class=None,
    union_patterns_dtype="float32",
    weights_dtype="float32",
):
    """Write a fitted pattern pipeline to a model file (weights and parameters).

    The file holds the steps' classes and parameters, the classifier's classes
    and network weights, and ``metadata``; :func:`load_model` rebuilds the
    pipeline from it on any device, without unpickling code. The classifier's
    ``augment``, ``checkpoint_dir``, ``num_threads`` and ``verbose`` apply to
    training only and are not stored; its ``class_weight`` is (a dict with
    its labels' types, so that a warm start from the file trains as weighted
    as the model was), and so are a union's weights of its kept negative and
    held-out patterns (``add_classes``).

    Parameters
    ----------
    pipeline : PatternPipeline or Pipeline
        Fitted; its steps are skxrd preprocessing transformers (stateless)
        followed by a :class:`~skxrd.estimators.ResNetClassifier`,
        :class:`~skxrd.estimators.DenseNetClassifier` or
        :class:`~skxrd.estimators.CNNClassifier` (or an
        :class:`~skxrd.estimators.EnsembleClassifier` of them), one of them
        wrapped in a
        :class:`~skxrd.estimators.CoarseLabelClassifier`, an
        :class:`~skxrd.estimators.IndexingClassifier` (its stacker and
        settings) and/or a :class:`~skxrd.estimators.MatchFirstClassifier` (its
        references are stored as they are, float16 ones in float16), in that
        order from the outside, or a
        :class:`~skxrd.estimators.UnionClassifier` of them (its members,
        class means, negatives, held-out patterns and router, so that the
        loaded union can still ``add_classes``). A temperature fitted with
        ``calibrate_temperature`` is kept.
    path : str or path-like
        The file to write (``.pt`` by convention).
    metadata : dict, optional
        Plain values (str, numbers, lists, dicts) kept with the model: training
        settings, accuracies...
    overwrite : bool, default=False
        Replace an existing file; otherwise an existing file is an error.
    union_patterns_per_class : int, optional
        For a union: keep at most this many of its negative and held-out
        patterns per class (the first ones), which ``add_classes`` trains new
        members against and refits the router on. A smaller file (the shipped
        structure-type model keeps 2); None keeps them all.
    union_patterns_dtype : {"float32", "float16"}, default="float32"
        For a union: how those patterns and its class-mean patterns are stored
        (float16 halves them; they are read back as float32).
    weights_dtype : {"float32", "float16"}, default="float32"
        How the networks' floating-point weights are stored: float16 halves
        the file (the shipped structure-type model's 17 members); they are read
        back into float32 networks, so the loaded model's probabilities differ
        from the saved one's by the rounding (up to 0.008 for the shipped
        union, one answer in 1,700 changed): score the loaded model.

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from skxrd.estimators import CNNClassifier
    >>> from skxrd.preprocessing import PatternNormalizer
    >>> from skxrd.pretrained import PatternPipeline, save_model, load_model
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.random((40, 64)), np.repeat([1, 2], 20)
    >>> pipe = PatternPipeline([("normalize", PatternNormalizer()),
    ...                         ("classifier", CNNClassifier(channels=(4,),
    ...                          max_epochs=2, random_state=0))]).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_model(pipe, f"{tmp}/model.pt", metadata={"note": "demo"})
    ...     again = load_model(path)
    >>> bool(np.allclose(again.predict_proba(X), pipe.predict_proba(X)))
    True
    >>> again.metadata_["note"]
    'demo'
    """
    import torch
    from sklearn.utils.validation import check_is_fitted

    known = _step_classes()
    union_patterns_per_class = check_save_options(
        union_patterns_per_class, union_patterns_dtype, weights_dtype
    )
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    from sklearn.frozen import FrozenEstimator

    from ..estimators import (
        CoarseLabelClassifier,
        IndexingClassifier,
        MatchFirstClassifier,
        SymmetryWeightedClassifier,
        UnionClassifier,
    )

    coarse_target = None
    union = None
    match = None
    last_name, last = pipeline.steps[-1]
    if isinstance(last, SymmetryWeightedClassifier):
        raise TypeError(
            "a SymmetryWeightedClassifier is stored as a view of two model files: "
            "save the pipeline with its estimator_ as the last step, then pair it "
            "with its space-group model by save_symmetry_view"
        )
    pipe_steps = list(pipeline.steps)
    if isinstance(last, CoarseLabelClassifier):
        check_is_fitted(last)
        # the network is stored; loading wraps it again
        coarse_target = last.target
        pipe_steps[-1] = (last_name, last.estimator_)
    indexing = None
    if isinstance(pipe_steps[-1][1], IndexingClassifier):
        # the stacker is stored; loading wraps the classifier in it again
        check_is_fitted(pipe_steps[-1][1])
        indexing = _indexing_record(pipe_steps[-1][1])
        inner = pipe_steps[-1][1].estimator_
        if isinstance(inner, FrozenEstimator):
            inner = inner.estimator
        pipe_steps[-1] = (last_name, inner)
    if isinstance(pipe_steps[-1][1], MatchFirstClassifier):
        # the references and the network are stored; loading combines them
        hybrid = pipe_steps[-1][1]
        check_is_fitted(hybrid)
        match = _match_record(hybrid)
        pipe_steps[-1] = (last_name, hybrid.estimator_)
    elif isinstance(last, UnionClassifier):
        check_is_fitted(last)
        union = _union_record(
            last, known, union_patterns_per_class, union_patterns_dtype, weights_dtype
        )
    steps = []
    for name, step in pipe_steps[:-1]:
        cls = type(step).__name__
        if known.get(cls) is not type(step):
            raise TypeError(
                f"step {name!r} is a {cls}; a model file can hold only {sorted(known)}"
            )
        params = step.get_params(deep=False)
        n_in = getattr(step, "n_features_in_", None)
        steps.append(
            [name, cls, _plain(params, f"{name} parameters"), _plain(n_in, name)]
        )
    name, clf = pipe_steps[-1]
    if union is not None:
        steps.append([name, "UnionClassifier", {}, int(last.n_features_in_)])
        payload = {"format": FORMAT, "steps": steps, "union": union}
    else:
        record = _network_record(clf, known, name, weights_dtype)
        steps.append([name, record["class"], record["params"], record["n_features_in"]])
        payload = {
            "format": FORMAT,
            "steps": steps,
            "classes": record["classes"],
            "n_features_in": record["n_features_in"],
            "temperature": record["temperature"],
            "coarse_target": coarse_target,
        }
        # one network's weights, or an ensemble's networks
        for key in ("state_dict", "members"):
            if key in record:
                payload[key] = record[key]
        if match is not None:
            payload["match"] = match
        if indexing is not None:
            payload["indexing"] = indexing
    payload["metadata"] = _plain(dict(metadata or {}), "metadata")
    payload[_DIGEST] = _digest(payload)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    torch.save(payload, tmp)
    os.replace(tmp, path)  # never a half-written model file
    return path


_TRAINING_ONLY = ("augment", "checkpoint_dir", "num_threads", "verbose")


def _stored_params(estimator, where):
    """A network classifier's parameters for a model file: plain values, no
    training-only ones, ``class_weight`` kept as it was given.

    A ``class_weight`` dict is stored as a list of ``[label, weight]`` pairs:
    as a dict its keys would become strings (:func:`_plain`), which name no
    integer class (space groups), and a warm start from the file would train
    unweighted or fail on a "not a class" error."""
    from collections.abc import Mapping

    from ..utils._validation import plain_scalar

    params = {
        k: v
        for k, v in estimator.get_params(deep=False).items()
        if k not in _TRAINING_ONLY
    }
    class_weight = params.get("class_weight")
    if isinstance(class_weight, Mapping):
        params["class_weight"] = [
            [plain_scalar(label), weight] for label, weight in class_weight.items()
        ]
    return _plain(params, where)


def _restored_params(params, where):
    """The constructor parameters of stored ones (:func:`_stored_params`):
    ``class_weight``'s ``[label, weight]`` pairs as the dict they were
    (files written before it have none: None, as they trained)."""
    class_weight = params.get("class_weight")
    if isinstance(class_weight, (list, tuple)):
        if not all(
            isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in class_weight
        ):
            raise ValueError(
                f"{where}: class_weight must be stored as [label, weight] pairs, "
                f"got {class_weight!r}"
            )
        params = {**params, "class_weight": {k: w for k, w in class_weight}}
    return params


def _network_record(clf, known, where, dtype="float32"):
    """A fitted network classifier as plain values and tensors (floating-point
    weights as ``dtype``)."""
    import torch
    from sklearn.utils.validation import check_is_fitted

    def stored(t):
        t = t.detach().cpu().clone()
        return (
            t.to(torch.float16) if dtype == "float16" and t.is_floating_point() else t
        )

    from ..estimators import EnsembleClassifier

    if isinstance(clf, EnsembleClassifier):
        return _ensemble_record(clf, known, where, dtype)
    cls = type(clf).__name__
    if known.get(cls) is not type(clf) or not hasattr(clf, "net_"):
        raise TypeError(
            f"{where} must be a network classifier ({sorted(_NETWORKS)}), maybe "
            "inside a CoarseLabelClassifier, an IndexingClassifier and a "
            f"MatchFirstClassifier (in that order), or a UnionClassifier, got {cls}"
        )
    check_is_fitted(clf)
    return {
        "class": cls,
        "params": _stored_params(clf, f"{where} parameters"),
        "classes": _plain(clf.classes_, "classes_"),
        "n_features_in": int(clf.n_features_in_),
        "state_dict": {k: stored(v) for k, v in clf.net_.module_.state_dict().items()},
        "temperature": float(getattr(clf, "temperature_", 1.0)),
    }


def _ensemble_record(clf, known, where, dtype):
    """A fitted :class:`~skxrd.estimators.EnsembleClassifier` of network
    classifiers: each member's :func:`_network_record`, the weights, the
    average and the ensemble's temperature."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(clf)
    members = []
    for i, member in enumerate(clf.estimators_):
        rec = _network_record(member, known, f"{where}: ensemble member {i}", dtype)
        if "members" in rec:
            raise TypeError(f"{where}: an ensemble inside an ensemble is not stored")
        members.append(rec)
    weights = clf._checked_weights(len(members))
    return {
        "class": "EnsembleClassifier",
        "params": {"weights": [float(w) for w in weights], "average": clf.average},
        "classes": _plain(clf.classes_, "classes_"),
        "n_features_in": int(members[0]["n_features_in"]),
        "members": members,
        "temperature": float(clf.temperature_),
    }


def _stored_temperature(record, where):
    """The temperature of a network or ensemble record, checked as the numpy
    predictor checks it (a number, finite and > 0)."""
    return check_positive(record["temperature"], f"{where}: the temperature")


def _restore_ensemble(record, known, device, where):
    """The fitted ensemble of an :func:`_ensemble_record`."""
    from ..estimators import EnsembleClassifier

    members = record.get("members")
    if not isinstance(members, list) or not members:
        raise ValueError(f"{where}: an ensemble without members")
    params = record["params"]
    try:
        fitted = [
            _restore_network(m, known, device, f"{where}: ensemble member {i}")
            for i, m in enumerate(members)
        ]
        weights, average = params["weights"], params["average"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{where}: the ensemble is incomplete: {exc!r}") from None
    try:
        clf = EnsembleClassifier.from_fitted(fitted, weights=weights, average=average)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    if not np.array_equal(clf.classes_, np.asarray(record["classes"])):
        raise ValueError(f"{where}: the ensemble's classes and its members' disagree")
    clf.temperature_ = _stored_temperature(record, where)
    return clf


def _restore_network(record, known, device, where):
    """The fitted network classifier of a :func:`_network_record` (or an
    ensemble of them, :func:`_ensemble_record`)."""
    cls = record["class"]
    if cls == "EnsembleClassifier":
        return _restore_ensemble(record, known, device, where)
    if cls not in _NETWORKS or cls not in known:
        raise ValueError(f"{where} must be a network classifier, got {cls!r}")
    params = _restored_params(record["params"], where)
    clf = known[cls](**{**params, "device": device})
    from ..estimators._base import restore_fitted

    restore_fitted(
        clf, record["classes"], record["n_features_in"], record["state_dict"]
    )
    temperature = _stored_temperature(record, where)
    if temperature != 1.0:
        clf.temperature_ = temperature
    return clf


def _match_record(hybrid):
    """A fitted MatchFirstClassifier's matcher and gate as plain values and
    tensors (its network is stored as the model's)."""
    import torch

    from ..estimators._match import match_state

    state = match_state(hybrid.matcher_)
    names = hybrid.reference_names_
    return {
        "params": _plain(state["params"], "matcher parameters"),
        "classes": _plain(state["classes"], "matcher classes_"),
        "references": torch.from_numpy(np.ascontiguousarray(state["references"])),
        "reference_index": torch.as_tensor(state["reference_index"], dtype=torch.int64),
        "starts": torch.as_tensor(state["starts"], dtype=torch.int64),
        "n_features_in": state["n_features_in"],
        "temperature": _plain(state["temperature"], "matcher temperature"),
        "threshold": float(hybrid.threshold),
        "threshold_in_use": float(hybrid.threshold_),
        "gate": str(hybrid.gate),
        "gate_slope": float(hybrid.gate_slope),
        "gate_slope_in_use": float(hybrid.gate_slope_),
        "gate_margin_in_use": float(hybrid.gate_margin_),
        "names": None if names is None else [str(n) for n in names],
        # the network's space groups shrunk towards a database's shares: the
        # shares travel with the file (the runtime reads no database)
        "prior": hybrid.prior,
        "prior_weight_in_use": float(hybrid.prior_weight_),
        "prior_shares": None if hybrid._prior is None else hybrid._prior[0].tolist(),
        "prior_groups": None if hybrid._prior is None else hybrid._prior[1].tolist(),
    }


def _prior_record(rec, classes, where):
    """The prior weight and ``(shares, groups)`` of a :func:`_match_record`
    (0 and None in files written before the prior), checked against the
    network's classes."""
    from ..estimators._space_group_prior import check_prior
    from ..utils._validation import check_real

    try:
        check_prior(rec.get("prior"))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if (rec.get("prior") is None) != (rec.get("prior_shares") is None):
        raise ValueError(f"{where}: a prior without its shares, or shares without it")
    weight = check_real(
        rec.get("prior_weight_in_use", 0.0),
        f"{where}: prior weight",
        minimum=0.0,
        maximum=1.0,
    )
    if rec.get("prior_shares") is None:
        if weight:
            raise ValueError(f"{where}: a prior weight {weight} without its shares")
        return weight, None
    shares = np.asarray(rec["prior_shares"], dtype=float)
    groups = np.asarray(rec["prior_groups"], dtype=np.intp)
    if (
        shares.shape != (len(classes),)
        or groups.shape != shares.shape
        or not np.all(np.isfinite(shares))
        or np.any(shares <= 0)
        or np.any(groups < 0)
    ):
        raise ValueError(
            f"{where}: the prior's shares do not fit the network's classes"
        )
    return weight, (shares, groups)


def _restore_match_first(rec, network, path):
    """The MatchFirstClassifier of a :func:`_match_record` around ``network``."""
    from ..estimators import MatchFirstClassifier
    from ..estimators._match import restore_match

    where = f"{path}: the search-match references"
    try:
        state = {
            **rec,
            "references": rec["references"].numpy(),
            "reference_index": rec["reference_index"].numpy(),
            "starts": rec["starts"].numpy(),
        }
        matcher = restore_match(state, where)
        hybrid = MatchFirstClassifier.from_fitted(
            network,
            matcher,
            rec["threshold"],
            reference_names=rec["names"],
            gate=rec["gate"],
            gate_slope=rec["gate_slope"],
        )
        # the file's shares, not the database's again (files written before
        # the prior have none)
        hybrid.prior_weight_, hybrid._prior = _prior_record(
            rec, network.classes_, where
        )
        hybrid.set_params(prior=rec.get("prior"))
    except (KeyError, AttributeError, TypeError) as exc:
        raise ValueError(f"{where} are incomplete or damaged: {exc!r}") from None
    except ValueError as exc:
        message = str(exc)
        if not message.startswith(str(path)):
            message = f"{path}: {message}"
        raise ValueError(message) from None
    gate = _gate_record(rec, where)
    hybrid.threshold_, hybrid.gate_slope_, hybrid.gate_margin_ = gate
    return hybrid


def _gate_record(rec, where):
    """The threshold, slope and margin in use of a :func:`_match_record`
    (margin 0 in files written before the margin gate), checked."""
    from ..estimators._core import GATES
    from ..utils._validation import check_positive, check_real

    if rec["gate"] not in GATES:
        raise ValueError(f"{where}: gate {rec['gate']!r} is not one of {GATES}")
    margin = check_real(
        rec.get("gate_margin_in_use", 0.0), f"{where}: gate margin", minimum=0.0
    )
    if margin and rec["gate"] != "margin":
        raise ValueError(f"{where}: a gate margin {margin} with a {rec['gate']} gate")
    threshold = check_real(
        rec["threshold_in_use"],
        f"{where}: threshold",
        minimum=-1.0,
        maximum=1.0 + 2.0 * margin,
    )
    slope = check_positive(rec["gate_slope_in_use"], f"{where}: gate slope")
    return threshold, slope, margin


def _indexing_record(clf):
    """A fitted IndexingClassifier's settings and stacker as plain values and
    tensors (its classifier is stored as the model's)."""
    import torch

    stacker = clf.stacker_
    return {
        "two_theta": torch.as_tensor(np.asarray(clf.two_theta, dtype=np.float64)),
        "radiation": _plain(clf.radiation, "indexing radiation"),
        "scale": str(clf.scale),
        "C": float(clf.C),
        "families": str(clf.families),
        "degree": int(clf.degree),
        "merit_cap": float(clf.merit_cap),
        "max_zero_shift": float(clf.max_zero_shift),
        "first_lines": int(clf.first_lines),
        "absences": bool(clf.absences),
        "absence_weight": float(clf.absence_weight),
        "absence_min_merit": float(clf.absence_min_merit),
        "classes": [str(c) for c in stacker.classes_],
        "coef": torch.as_tensor(np.asarray(stacker.coef_, dtype=np.float64)),
        "intercept": torch.as_tensor(np.asarray(stacker.intercept_, dtype=np.float64)),
        "system_temperature": float(getattr(clf, "system_temperature_", 1.0)),
        "group_temperature": float(getattr(clf, "group_temperature_", 1.0)),
    }


def _indexing_temperatures(rec):
    """``(system_temperature, group_temperature)`` of an indexing record,
    checked; files written before them have neither (1.0)."""
    return tuple(
        check_positive(rec.get(key, 1.0), key)
        for key in ("system_temperature", "group_temperature")
    )


def _indexing_stacker(rec):
    """The LogisticRegression of an :func:`_indexing_record` (arrays given as
    numpy arrays)."""
    from sklearn.linear_model import LogisticRegression

    stacker = LogisticRegression(C=float(rec["C"]), max_iter=5000)
    stacker.classes_ = np.asarray(rec["classes"])
    stacker.coef_ = np.asarray(rec["coef"], dtype=np.float64)
    stacker.intercept_ = np.asarray(rec["intercept"], dtype=np.float64)
    stacker.n_features_in_ = stacker.coef_.shape[1]
    stacker.n_iter_ = np.zeros(1, dtype=np.int32)
    return stacker


def _restore_indexing(rec, clf, path):
    """The IndexingClassifier of an :func:`_indexing_record` around ``clf``."""
    from ..estimators import IndexingClassifier
    from ..estimators._indexing_core import absence_settings, indexing_settings

    where = f"{path}: the indexing stacker"
    try:
        families, degree, merit_cap, max_zero_shift, first_lines = indexing_settings(
            rec
        )
        absences, absence_weight, absence_min_merit = absence_settings(rec)
        system_temperature, group_temperature = _indexing_temperatures(rec)
        arrays = {k: rec[k].numpy() for k in ("two_theta", "coef", "intercept")}
        return IndexingClassifier.from_fitted(
            clf,
            _indexing_stacker({**rec, **arrays}),
            two_theta=arrays["two_theta"],
            radiation=rec["radiation"],
            scale=rec["scale"],
            families=families,
            degree=degree,
            merit_cap=merit_cap,
            max_zero_shift=max_zero_shift,
            first_lines=first_lines,
            absences=absences,
            absence_weight=absence_weight,
            absence_min_merit=absence_min_merit,
            system_temperature=system_temperature,
            group_temperature=group_temperature,
        )
    except (KeyError, AttributeError, TypeError) as exc:
        raise ValueError(f"{where} is incomplete or damaged: {exc!r}") from None
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _first_per_class(y, k):
    """Indices of the first ``k`` rows of every label of ``y`` (all: None)."""
    if k is None:
        return np.arange(len(y))
    y = np.asarray(y)
    keep = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        keep[np.flatnonzero(y == label)[:k]] = True
    return np.flatnonzero(keep)


def _union_record(
    union, known, per_class=None, dtype="float32", weights_dtype="float32"
):
    """A fitted UnionClassifier of network members as plain values and tensors,
    its negative and held-out patterns cut to ``per_class`` per label and stored
    as ``dtype`` (both checked by :func:`save_model`)."""
    import torch

    neg = _first_per_class(union.negatives_y_, per_class)
    hold = _first_per_class(union.holdout_y_, per_class)

    template = union.estimator
    if template is not None:
        template = [
            type(template).__name__,
            _stored_params(template, "union member parameters"),
        ]
        if template[0] not in _NETWORKS:
            raise TypeError(
                f"a model file holds unions of network classifiers, not {template[0]}"
            )
    router = union.router_
    return {
        "params": _plain(
            {k: v for k, v in union.get_params(deep=False).items() if k != "estimator"},
            "union parameters",
        ),
        "template": template,
        "members": [
            _network_record(m, known, f"union member {i}", weights_dtype)
            for i, m in enumerate(union.estimators_)
        ],
        "class_subsets": [
            _plain(np.asarray(c), "class_subsets_") for c in union.class_subsets_
        ],
        "classes": _plain(union.classes_, "classes_"),
        "class_means": torch.as_tensor(np.asarray(union.class_means_, dtype)),
        "negatives_X": torch.as_tensor(np.asarray(union.negatives_X_[neg], dtype)),
        "negatives_y": _plain(np.asarray(union.negatives_y_)[neg], "negatives_y_"),
        "holdout_X": torch.as_tensor(np.asarray(union.holdout_X_[hold], dtype)),
        "holdout_y": _plain(np.asarray(union.holdout_y_)[hold], "holdout_y_"),
        # the sample weights fit gave them (None: all 1), which add_classes
        # trains its new members and refits the router with
        "negatives_weight": _kept_weights(union, "negatives_weight_", neg),
        "holdout_weight": _kept_weights(union, "holdout_weight_", hold),
        "router": None
        if router is None
        else {
            "classes": _plain(router.classes_, "router classes"),
            "coef": torch.as_tensor(router.coef_),
            "intercept": torch.as_tensor(router.intercept_),
        },
        "combiner": union.combiner_,
        "temperature": float(getattr(union, "temperature_", 1.0)),
        "seed": int(union._seed_),
        "n_features_in": int(union.n_features_in_),
    }


def _kept_weights(union, name, rows):
    """The ``rows`` of a union's kept weights ``name`` as a float64 tensor,
    or None (unweighted, or a union pickled before them)."""
    import torch

    weight = getattr(union, name, None)
    if weight is None:
        return None
    return torch.as_tensor(np.asarray(weight, dtype=np.float64)[rows])


def _restored_weights(rec, key, n, path):
    """A union's stored kept weights ``key`` (None in files written before
    them: all 1), checked to be ``n`` weights."""
    weight = rec.get(key)
    if weight is None:
        return None
    weight = weight.double().numpy()
    if weight.shape != (n,):
        raise ValueError(
            f"{path}: the union's {key} holds {weight.shape} weights for {n} patterns"
        )
    return weight


def _restore_union(rec, known, device, path):
    """The fitted UnionClassifier of a :func:`_union_record`."""
    from sklearn.linear_model import LogisticRegression

    from ..estimators import UnionClassifier

    template = None
    if rec["template"] is not None:
        cls, params = rec["template"]
        if cls not in _NETWORKS or cls not in known:
            raise ValueError(f"{path}: a union member must be a network, got {cls!r}")
        params = _restored_params(params, f"{path}: the union's member template")
        template = known[cls](**{**params, "device": device})
    union = UnionClassifier(template, **rec["params"])
    union.estimators_ = [
        _restore_network(m, known, device, f"{path}: union member {i}")
        for i, m in enumerate(rec["members"])
    ]
    union.class_subsets_ = [np.asarray(c) for c in rec["class_subsets"]]
    union.classes_ = np.asarray(rec["classes"])
    union.class_means_ = rec["class_means"].float().numpy()
    # float16 in compact files: the members compute in float32
    union.negatives_X_ = rec["negatives_X"].float().numpy()
    union.negatives_y_ = np.asarray(rec["negatives_y"], dtype=union.classes_.dtype)
    union.holdout_X_ = rec["holdout_X"].float().numpy()
    union.holdout_y_ = np.asarray(rec["holdout_y"], dtype=union.classes_.dtype)
    union.negatives_weight_ = _restored_weights(
        rec, "negatives_weight", len(union.negatives_y_), path
    )
    union.holdout_weight_ = _restored_weights(
        rec, "holdout_weight", len(union.holdout_y_), path
    )
    router = rec["router"]
    union.router_ = None
    if router is not None:
        lr = LogisticRegression(C=1.0, max_iter=2000)
        lr.classes_ = np.asarray(router["classes"])
        lr.coef_ = router["coef"].numpy()
        lr.intercept_ = router["intercept"].numpy()
        lr.n_features_in_ = lr.coef_.shape[1]
        lr.n_iter_ = np.zeros(1, dtype=np.int32)
        union.router_ = lr
    union.combiner_ = rec["combiner"]
    # older files have none
    union.temperature_ = _stored_temperature({"temperature": 1.0, **rec}, path)
    union._seed_ = rec["seed"]
    union.n_features_in_ = rec["n_features_in"]
    return union


def _read_payload(path, *, arrays=False):
    """The checked dictionary of a model file, or one clear error; with
    ``arrays``, read without torch and with numpy arrays for the tensors
    (:func:`._archive.read_archive`)."""
    import io
    import pickle
    import zipfile
    import zlib

    try:
        data = io.BytesIO(Path(path).read_bytes())  # read once, checked twice
    except OSError as exc:
        raise ValueError(
            f"{path} is not a readable skxrd model file: "
            f"{exc.strerror or type(exc).__name__}"
        ) from None
    if not data.getbuffer().nbytes:
        raise ValueError(f"{path} is empty, not a skxrd model file")
    try:
        is_zip = zipfile.is_zipfile(data)
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        # a zip whose end records are damaged (a flipped disk number...)
        raise ValueError(f"{path} is damaged: {exc}") from None
    if not is_zip:
        raise ValueError(
            f"{path} is not a skxrd model file: not a torch archive (truncated, "
            "or another format such as a pickle, which skxrd does not load "
            "from model files because unpickling can run code)"
        )
    try:
        with zipfile.ZipFile(data) as archive:
            damaged = archive.testzip()  # the CRC of every entry
    except (
        zipfile.BadZipFile,
        NotImplementedError,
        RuntimeError,
        ValueError,
        EOFError,
        OSError,
        zlib.error,
    ) as exc:
        raise ValueError(f"{path} is damaged: {exc}") from None
    if damaged is not None:
        raise ValueError(f"{path} is damaged: its entry {damaged!r} fails its CRC")
    try:
        data.seek(0)
        if arrays:
            from ._archive import read_archive

            payload = read_archive(data)
        else:
            import torch

            payload = torch.load(data, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's text advises weights_only=False, i.e. running the file's
        # code: name what was refused instead
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        what = f"a reference to {found.group(1)}" if found else "not plain data"
        raise ValueError(
            f"{path} holds objects that a skxrd model file may not hold "
            f"({what}); it was refused "
            "because loading it could run code"
        ) from None
    except (
        RuntimeError,
        EOFError,
        OSError,
        ValueError,
        KeyError,
        TypeError,
        IndexError,
        zipfile.BadZipFile,
    ) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"{path} is not a readable skxrd model file (truncated or damaged): "
            f"{first[:200]}"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a skxrd model file (format {FORMAT})")
    stored = payload.get(_DIGEST)
    if stored is not None and stored != _digest(payload):
        raise ValueError(
            f"{path} is damaged or was modified after saving: its contents do not "
            "match the checksum stored with them"
        )
    _check_layout(payload, path)
    return payload


def _check_layout(payload, path):
    """The parts every model file has, of the kinds :func:`save_model` writes
    (a file with a valid checksum can still have been written otherwise)."""
    steps = payload.get("steps")
    if (
        not isinstance(steps, (list, tuple))
        or not steps
        or not all(
            isinstance(step, (list, tuple))
            and len(step) == 4
            and isinstance(step[0], str)
            and isinstance(step[1], str)
            and isinstance(step[2], dict)
            for step in steps
        )
    ):
        raise ValueError(
            f"{path} is not a skxrd model file: its 'steps' are not a list of "
            "(name, class, parameters, n_features) steps"
        )
    if not isinstance(payload.get("metadata"), dict):
        raise ValueError(f"{path} is not a skxrd model file: it has no metadata table")


def load_model(path, *, device="auto"):
    """Read a model file written by :func:`save_model` into a fitted pipeline.

    Parameters
    ----------
    path : str or path-like
        The model file, or a view of one (a ``.json`` file of
        :func:`save_coarse_view`, such as the shipped crystal-system model: the
        space-group model's file read at crystal-system labels; or of
        :func:`save_symmetry_view`, such as the shipped structure-type model:
        the structure-type union weighed by the space-group model).
    device : str, default="auto"
        Where the network runs: ``"auto"`` (the GPU when CUDA is available),
        ``"cpu"``, ``"cuda"``...

    Returns
    -------
    PatternPipeline
        Fitted; its ``metadata_`` attribute holds the stored metadata.

    Raises
    ------
    ValueError
        When the file is not a skxrd model file, is truncated, or names a
        class that a model file may not hold.

    Examples
    --------
    See :func:`save_model`.
    """
    from ._pipeline import PatternPipeline

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    if path.suffix == ".json":
        return _load_view(path, device)
    payload = _read_payload(path)
    known = _step_classes()
    steps = []
    for name, cls, params, n_in in payload["steps"][:-1]:
        if cls not in known:
            raise ValueError(f"{path}: step {name!r} names an unknown class {cls!r}")
        if cls == "PatternResampler":
            # files written before the parameter existed resampled linearly
            params = {"method": "linear", **params}
        try:
            step = known[cls](**params)
            # preprocessing steps are stateless: fitting records the input size
            step.fit(None if n_in is None else np.zeros((1, n_in)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: step {name!r} ({cls}): {exc}") from None
        steps.append((name, step))
    name, cls, params, _ = payload["steps"][-1]
    if "union" in payload:
        steps.append((name, _restore_union(payload["union"], known, device, path)))
    else:
        record = {
            "class": cls,
            "params": params,
            "classes": payload["classes"],
            "n_features_in": payload["n_features_in"],
            "temperature": payload.get("temperature", 1.0),  # older files: none
        }
        where = f"{path}: the last step {name!r}"
        # one network's weights, or an ensemble's networks
        key = "members" if cls == "EnsembleClassifier" else "state_dict"
        try:
            record[key] = payload[key]
        except KeyError as exc:
            raise ValueError(f"{where}: the file has no {exc}") from None
        clf = _restore_network(record, known, device, where)
        if "match" in payload:
            clf = _restore_match_first(payload["match"], clf, path)
        if "indexing" in payload:
            clf = _restore_indexing(payload["indexing"], clf, path)
        coarse = payload.get("coarse_target")
        if coarse is not None:
            from ..estimators import CoarseLabelClassifier

            try:
                clf = CoarseLabelClassifier.from_fitted(clf, coarse)
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}") from None
        steps.append((name, clf))
    pipe = PatternPipeline(steps)
    pipe.metadata_ = payload["metadata"]
    return pipe


def save_coarse_view(
    path, base, metadata=None, *, target="crystal_system", overwrite=False
):
    """Write a view of a space-group model file at coarser labels.

    The view is a small JSON file beside ``base`` that :func:`load_model`
    reads as ``base``'s pipeline with its last step wrapped in a
    :class:`~skxrd.estimators.CoarseLabelClassifier` (space-group
    probabilities summed per crystal system, ``target``), and ``metadata``
    over ``base``'s. The shipped crystal-system model is such a view of the
    space-group model: one network and one set of references on disk instead
    of two copies of them.

    Parameters
    ----------
    path : str or path-like
        The view, a ``.json`` file in the folder of ``base``.
    base : str or path-like
        A model file of :func:`save_model` whose classifier answers space-group
        numbers.
    metadata : dict, optional
        JSON values that replace ``base``'s metadata keys in the view.
    target : str, default="crystal_system"
        The coarse label (see :class:`~skxrd.estimators.CoarseLabelClassifier`).
    overwrite : bool, default=False
        Replace an existing ``path``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skxrd.pretrained import load_model, train_from_config
    >>> from skxrd.pretrained import save_model
    >>> from skxrd.pretrained._store import save_coarse_view
    >>> cfg = {"target": "space_group",
    ...        "data": {"n_crystals": 40, "random_state": 0,
    ...                 "space_groups": [2, 14, 62, 139, 166, 194, 225]},
    ...        "simulator": {"two_theta_range": [10.0, 60.0],
    ...                      "two_theta_step": 0.05},
    ...        "classifier": {"type": "CNNClassifier", "channels": [4],
    ...                       "max_epochs": 1, "random_state": 0}}
    >>> pipe, report = train_from_config(cfg, verbose=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     base = save_model(pipe, Path(folder) / "sg.pt", metadata=report)
    ...     view = save_coarse_view(Path(folder) / "cs.json", base,
    ...                             {"name": "my crystal systems"})
    ...     model = load_model(view)
    >>> set(model.classes_) <= {"cubic", "hexagonal", "monoclinic",
    ...     "orthorhombic", "tetragonal", "triclinic", "trigonal"}
    True
    >>> model.metadata_["name"]
    'my crystal systems'
    """
    path, base = _checked_view_paths(path, base, overwrite)
    tmp, _ = _write_view(
        path, base, {"coarse_target": str(target)}, metadata, "metadata"
    )
    os.replace(tmp, path)
    return path


def _checked_view_paths(path, base, overwrite):
    """``(path, base)`` of a view to write: a .json file in its model's folder."""
    path, base = Path(path), Path(base)
    if path.suffix != ".json":
        raise ValueError(f"a model view is a .json file, got {path}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    if not base.is_file():
        raise FileNotFoundError(f"model file {base} does not exist")
    if base.resolve().parent != path.resolve().parent:
        raise ValueError(f"the view {path} must be in the folder of its model {base}")
    return path, base


def _write_view(path, base, fields, metadata, what):
    """Write a view with ``fields`` to ``path``'s temporary file and load it,
    refusing a view that breaks (the temporary file removed); ``(temporary
    file, pipeline)``, the file for the caller to move into place. ``what``
    names the JSON values in the error."""
    import json

    try:
        text = json.dumps(
            {
                "format": VIEW_FORMAT,
                "base": base.name,
                **fields,
                "metadata": dict(metadata or {}),
            },
            indent=1,
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} of {path} is not JSON: {exc}") from None
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    try:
        return tmp, _load_view(tmp, "cpu", base_folder=path.parent)
    except Exception:
        tmp.unlink(missing_ok=True)
        raise


def _read_view(path, base_folder=None):
    """``(model file, coarse target, metadata, symmetry)`` of a view file
    (:func:`save_coarse_view`, :func:`save_symmetry_view`), checked; the
    model files are looked for in ``base_folder`` (by default the view's own
    folder). A view has a coarse target or a symmetry record
    (``{"path", "weight", "class_space_groups"}``), the other is None."""
    import json

    try:
        view = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: not a skxrd model view ({exc})") from None
    if not isinstance(view, dict) or view.get("format") != VIEW_FORMAT:
        raise ValueError(f"{path}: not a skxrd model view (format {VIEW_FORMAT!r})")
    base, target = view.get("base"), view.get("coarse_target")
    symmetry = view.get("symmetry")
    metadata = view.get("metadata", {})
    folder = Path(base_folder or path.parent)
    base_path = _view_member(path, base, folder, "base")
    if (target is None) == (symmetry is None):
        raise ValueError(f"{path}: a view has a coarse_target or a symmetry record")
    if target is not None and not isinstance(target, str):
        raise ValueError(f"{path}: coarse_target is broken: {target!r}")
    if not isinstance(metadata, dict):
        raise ValueError(f"{path}: metadata is missing or broken")
    if symmetry is not None:
        symmetry = _read_symmetry(path, symmetry, folder)
    return base_path, target, metadata, symmetry


def _view_member(path, name, folder, key):
    """The model file a view names under ``key``: a .pt file in its folder."""
    if (
        not isinstance(name, str)
        or Path(name).name != name
        or Path(name).suffix != ".pt"
    ):
        raise ValueError(
            f"{path}: {key} must name a .pt model file in the same folder, got {name!r}"
        )
    file = folder / name
    if not file.is_file():
        raise FileNotFoundError(f"{path}: its model file {file} does not exist")
    return file


def _read_symmetry(path, record, folder):
    """The checked symmetry record of a :func:`save_symmetry_view` file."""
    from ..estimators._core import checked_space_groups

    if not isinstance(record, dict):
        raise ValueError(f"{path}: the symmetry record is broken: {record!r}")
    model = record.get("model")
    if isinstance(model, str) and not model.endswith(".pt"):
        from . import _MODELS, _weights_file

        if model not in _MODELS:
            raise ValueError(
                f"{path}: symmetry model {model!r} is neither a .pt file nor a "
                f"shipped model ({sorted(_MODELS)})"
            )
        file = Path(str(_weights_file(model)))
        if file.suffix != ".pt":
            raise ValueError(
                f"{path}: the shipped model {model!r} is a view, "
                "not a space-group model"
            )
    else:
        file = _view_member(path, model, folder, "the symmetry model")
    weight = record.get("weight")
    if (
        isinstance(weight, bool)
        or not isinstance(weight, (int, float))
        or not np.isfinite(weight)
        or weight < 0
    ):
        raise ValueError(f"{path}: the symmetry weight must be >= 0, got {weight!r}")
    try:
        groups = checked_space_groups(
            {label: group for label, group in record.get("class_space_groups")},
            "class_space_groups",
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{path}: the symmetry record's class_space_groups: {exc}"
        ) from None
    return {"path": file, "weight": float(weight), "class_space_groups": groups}


def _load_view(path, device, base_folder=None):
    """The pipeline of a :func:`save_coarse_view` or :func:`save_symmetry_view`
    file."""
    from ..estimators import CoarseLabelClassifier
    from ._pipeline import PatternPipeline

    base_path, target, metadata, symmetry = _read_view(path, base_folder)
    base = base_path.name
    model = load_model(base_path, device=device)
    name, final = model.steps[-1]
    if symmetry is not None:
        final = _symmetry_weighted(path, model, symmetry, device)
    else:
        if isinstance(final, CoarseLabelClassifier):
            raise ValueError(f"{path}: its model {base} already answers coarse labels")
        try:
            final = CoarseLabelClassifier.from_fitted(final, target)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None
    out = PatternPipeline(list(model.steps[:-1]) + [(name, final)])
    out.metadata_ = {**(getattr(model, "metadata_", None) or {}), **metadata}
    return out


def _same_preprocessing(steps_a, steps_b):
    """Whether two pipelines' steps before their classifiers are alike."""
    if len(steps_a) != len(steps_b):
        return False
    return all(
        type(a) is type(b) and a.get_params() == b.get_params()
        for (_, a), (_, b) in zip(steps_a, steps_b)
    )


def _symmetry_weighted(path, model, symmetry, device):
    """``model``'s classifier weighed by the view's space-group model."""
    from ..estimators import SymmetryWeightedClassifier

    other = load_model(symmetry["path"], device=device)
    if not _same_preprocessing(model.steps[:-1], other.steps[:-1]):
        raise ValueError(
            f"{path}: its symmetry model {symmetry['path'].name} does not read "
            "patterns as its base model does (other preprocessing steps)"
        )
    listed = symmetry["class_space_groups"]
    try:
        weighed = SymmetryWeightedClassifier.from_fitted(
            model.steps[-1][1],
            other.steps[-1][1],
            class_space_groups=listed,
            weight=symmetry["weight"],
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    # a view is read without skxrd's structure-type library too (skxrd
    # predict): a group the library would add is one that reader lacks
    keys = [c.item() if isinstance(c, np.generic) else c for c in weighed.classes_]
    unlisted = [
        k
        for k, g in zip(keys, weighed.class_space_groups_)
        if g > 0 and k not in listed
    ]
    if unlisted:
        raise ValueError(
            f"{path}: the symmetry record lists no space group for {unlisted[:5]}"
            f"{' ...' if len(unlisted) > 5 else ''} (types of skxrd's library); "
            "a view lists the group of every class that has one, as "
            "save_symmetry_view writes it"
        )
    return weighed


def save_symmetry_view(
    path,
    base,
    symmetry,
    *,
    weight,
    class_space_groups=None,
    metadata=None,
    overwrite=False,
):
    """Write a view that weighs a model file's classes by a space-group model.

    The view is a small JSON file beside ``base`` that :func:`load_model`
    reads as ``base``'s pipeline with its last step wrapped in a
    :class:`~skxrd.estimators.SymmetryWeightedClassifier` around the
    space-group model ``symmetry``. The shipped structure-type model is such a
    view: its structure-type union weighed by the shipped space-group model,
    each stored once.

    Parameters
    ----------
    path : str or path-like
        The view, a ``.json`` file in the folder of ``base``.
    base : str or path-like
        A model file of :func:`save_model` whose classes have space groups
        (structure types, phases).
    symmetry : str or path-like
        A space-group model file of :func:`save_model` in the same folder,
        or the name of a shipped model (``"space-group"``).
    weight : float
        The ``weight`` of :class:`~skxrd.estimators.SymmetryWeightedClassifier`
        (its ``weight_`` after ``calibrate_weight``).
    class_space_groups : dict, optional
        ``{label: space-group number}`` beyond the structure-type library's.
    metadata : dict, optional
        JSON values that replace ``base``'s metadata keys in the view.
    overwrite : bool, default=False
        Replace an existing ``path``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skxrd.pretrained import load_model, save_model, train_from_config
    >>> from skxrd.pretrained import save_symmetry_view
    >>> sim = {"two_theta_range": [10.0, 60.0], "two_theta_step": 0.05}
    >>> net = {"type": "CNNClassifier", "channels": [4], "max_epochs": 1,
    ...        "random_state": 0}
    >>> types = {"target": "structure_type", "simulator": sim,
    ...          "data": {"n_crystals": 12, "random_state": 0,
    ...                   "prototypes": ["rocksalt", "fluorite", "rutile"]},
    ...          "classifier": {"type": "UnionClassifier", "random_state": 0,
    ...                         "max_classes_per_member": 2,
    ...                         "holdout_per_class": 1, "member": net}}
    >>> groups = {"target": "space_group", "simulator": sim, "classifier": net,
    ...           "data": {"n_crystals": 30, "random_state": 0,
    ...                    "space_groups": [136, 225]}}
    >>> st, _ = train_from_config(types, verbose=0)
    >>> sg, _ = train_from_config(groups, verbose=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     base = save_model(st, Path(folder) / "types.pt")
    ...     _ = save_model(sg, Path(folder) / "groups.pt")
    ...     view = save_symmetry_view(Path(folder) / "weighted.json", base,
    ...                               "groups.pt", weight=0.75)
    ...     model = load_model(view)
    >>> type(model[-1]).__name__, model[-1].class_space_groups_.tolist()
    ('SymmetryWeightedClassifier', [225, 225, 136])
    """
    path, base = _checked_view_paths(path, base, overwrite)
    symmetry = str(symmetry)
    if symmetry.endswith(".pt"):
        file = Path(symmetry)
        if file.parent != Path(".") and file.resolve().parent != path.resolve().parent:
            raise ValueError(
                f"the view {path} must be in the folder of its symmetry model {file}"
            )
        symmetry = file.name
    from ..estimators._core import checked_space_groups

    groups = {}
    if class_space_groups is not None:
        groups = checked_space_groups(class_space_groups, "class_space_groups")

    def write(pairs):
        record = {
            "model": symmetry,
            "weight": float(weight),
            "class_space_groups": [
                [k.item() if isinstance(k, np.generic) else k, int(v)] for k, v in pairs
            ],
        }
        return _write_view(
            path, base, {"symmetry": record}, metadata, "metadata or labels"
        )

    # the view stores every class's space group (the library's too), so
    # that skxrd predict reads them without the structure-type library
    from ..estimators._symmetry import _library_groups

    classes = load_model(base, device="cpu").steps[-1][1].classes_
    pairs = []
    for c, g in zip(classes, _library_groups(classes)):
        key = c.item() if isinstance(c, np.generic) else c
        group = groups.get(key, g)  # given, else the library's (0: none)
        if group > 0:
            pairs.append((key, group))
    tmp, _ = write(pairs)
    os.replace(tmp, path)
    return path
