"""Training a pattern pipeline from a config (``skxrd train``; the shipped models)."""

from __future__ import annotations

import copy
import functools
import numbers
import os
import time
import warnings
from pathlib import Path

import numpy as np
import tomllib

from ..utils._warnings import caller_stacklevel

__all__ = [
    "add_reference_match",
    "build_pipeline",
    "load_config",
    "prototype_split",
    "subset_collection",
    "train_from_config",
]

_TARGETS = (
    "space_group",
    "crystal_system",
    "bravais_lattice",
    "point_group",
    "structure_type",
)
_NETWORK_TYPES = ("ResNetClassifier", "DenseNetClassifier", "CNNClassifier")
_SECTIONS = {
    "name": str,
    "description": str,
    "target": str,
    "train_target": str,
    "data": dict,
    "test": dict,
    "simulator": dict,
    "preprocessing": dict,
    "classifier": dict,
    "match": dict,
    "indexing": dict,
    "symmetry": dict,
    "save": dict,
}
_SAVE_KEYS = {"union_patterns_per_class", "union_patterns_dtype", "weights_dtype"}
_DATA_KEYS = {
    "n_crystals",
    "n_atoms",
    "elements",
    "space_groups",
    "random_state",
    "source",
    "n_variants",
    "variants",
    "instrument",
    "split",
    "prototypes",
}
_PREPROCESSING_KEYS = {
    "denoise",
    "background",
    "background_window",
    "background_edges",
    "normalize",
    "scale",
}
_MATCH_DEFAULTS = {
    "source": "amcsd",
    "smoothing": 4.0,
    "stride": 8,
    "reference_dtype": "float16",
    "intensity": "linear",
    "max_shift": 0,
    "shift_step": 2,
    "threshold": "auto",
    "gate": "hard",
    "prior": "none",
    "n_tune": 2000,
    "random_state": 5,
}
_INDEXING_DEFAULTS = {
    "C": 0.1,
    "families": "ctho",
    "degree": 2,
    "merit_cap": 100.0,
    "max_zero_shift": 0.1,
    "first_lines": 2,
    "n_tune": 1000,
    "augment": True,
    "augment_seed": 0,
    "kbeta_leak": 0.0,
    "low_angle": 0.0,
    "absences": False,
    "absence_weight": 1.0,
    "absence_min_merit": 40.0,
    "calibrate": False,
    "calibrate_prior": "none",
    "n_calibrate": 1000,
}


def _where(source):
    return f"config {source}" if source else "config"


def load_config(config):
    """Read and check a training config (a TOML file or a dict).

    A config names the target, the synthetic data, the simulator, the
    preprocessing and the classifier; :func:`train_from_config` trains from
    it. The shipped models' configs are in ``skxrd/pretrained/configs/``::

        name = "crystal-system"
        target = "crystal_system"   # or space_group, bravais_lattice, point_group,
                                    # structure_type (a UnionClassifier over the
                                    # types of skxrd.datasets.STRUCTURE_TYPES)
        # train_target = "space_group": the network learns space groups and
        # answers the target by summing their probabilities
        # (CoarseLabelClassifier): one network, consistent answers

        [data]                      # make_pattern_dataset's arguments
        n_crystals = 40000
        source = "uniform"          # or "realistic", "materials_project",
                                    # "amcsd" (mineral structures),
                                    # "realistic_minerals" (random crystals
                                    # learned from them), or a mixture
                                    # {realistic = 0.5, materials_project = 0.5}
        n_atoms = [2, 40]
        random_state = 0
        # n_variants = 2; [data.variants] and [data.instrument] tables:
        # make_variants and InstrumentSampler options (instrument =
        # "measured_like": skxrd.simulation.MEASURED_LIKE)
        # split = "train": only the Materials Project structures of the
        # training part of a split by prototype (80 %; "test": the other 20 %),
        # and the realistic prior fitted on them; "amcsd" is taken whole
        # structure_type: n_crystals compounds of the library's types
        # (prototypes = [...] for some of them), n_variants each

        [test]                      # a held-out draw with another seed
        n_crystals = 4000
        random_state = 1

        [simulator]                 # PowderSimulator parameters
        two_theta_range = [10.0, 80.0]
        two_theta_step = 0.02

        [preprocessing]
        background = "snip"         # or "rolling_ball", or false
        # background_edges = "extend": SNIP continues the pattern beyond its
        # ends instead of leaving the end points unclipped ("keep", the
        # default; BackgroundSubtractor's edges)
        normalize = "max"
        # scale = "sqrt": square roots after normalizing (PatternNormalizer)
        # denoise = 3: a 3-point median filter first, against counting noise
        # (PatternSmoother(method="median"))

        [classifier]
        type = "ResNetClassifier"   # or DenseNetClassifier, CNNClassifier
        depth = 6                   # ... any parameter of the classifier
        augment = "default"         # default_augmentation on the model grid, or
                                    # "sample": sample_augmentation (when the
                                    # [data.instrument] adds noise and background),
                                    # with options joined by "+":
                                    # "sample+scan_range": half the patterns cut
                                    # to shorter scans (ScanRange),
                                    # "sample+stray_lines": Kβ copies (KbetaLeak)
                                    # in half the patterns and a weak line below
                                    # 7.5° in a quarter, "sample+linear": peaks
                                    # found above the counting noise and, with
                                    # scale = "sqrt", changed on the linear
                                    # intensities (LinearIntensities)
        # coarse_loss = {crystal_system = 1.0}: a multi-task loss for space
        # groups (HierarchicalLoss); label_smoothing = 0.1
        # type = "UnionClassifier": its parameters here, the members' in a
        # [classifier.member] table (type = "ResNetClassifier", ...); a tenth
        # of the training compounds fits its temperature
        # class_weight = "balanced", or a table of the labels of train_target:
        # {"225" = 2.0, "14" = 0.5} (space groups: TOML keys are strings, read
        # as the integer labels), {cubic = 2.0} (crystal systems); a key that
        # names no label is an error naming it

        [save]                      # optional: save_model options of skxrd train
        union_patterns_per_class = 2  # a UnionClassifier's file: fewer stored
        union_patterns_dtype = "float16"  # patterns for add_classes, in float16
        weights_dtype = "float16"   # network weights stored in float16

        [match]                     # optional: search-match first
        source = "amcsd"            # references: the AMCSD minerals, simulated
        stride = 8                  # ... smoothed, every 8th point, float16
        intensity = "sqrt"          # or "linear" (PatternMatchClassifier); the
                                    # matcher sees the [preprocessing] output, so
                                    # with scale = "sqrt" take "linear"
        max_shift = 10              # zero shifts tried, in grid points (0: none)
        threshold = "auto"          # tuned on simulated patterns (needs [test])
        gate = "soft"               # or "hard" (MatchFirstClassifier)
        prior = "icsd"              # a space-group network's groups shrunk towards
                                    # a database's shares within each crystal
                                    # system ("icsd", "cod", "materials_project";
                                    # "none" by default), by a weight fitted on
                                    # the tuning patterns

    Paths in a config (a ``[match] source`` folder of CIF files, a
    ``[symmetry] model`` file) are relative to the current working directory,
    as ``skxrd train``'s own paths (``-o``, ``--cache``...) are, not to the
    config file.

    Parameters
    ----------
    config : str, path-like or dict
        A TOML file or an already parsed dict.

    Returns
    -------
    dict
        The config, with TOML arrays of parameters turned into tuples.

    Raises
    ------
    ValueError
        Naming the file and the key that is missing, unknown or wrong.

    Examples
    --------
    >>> from skxrd.pretrained import load_config
    >>> cfg = load_config({"target": "crystal_system", "data": {"n_crystals": 50},
    ...                    "classifier": {"type": "CNNClassifier"}})
    >>> cfg["simulator"]["two_theta_range"], cfg["preprocessing"]["normalize"]
    ((5.0, 90.0), 'max')
    """
    source = None
    if isinstance(config, (str, Path)):
        source = Path(config)
        try:
            with open(source, "rb") as fh:
                config = tomllib.load(fh)
        except FileNotFoundError:
            raise FileNotFoundError(f"config file {source} does not exist") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"config {source} is not valid TOML: {exc}") from None
        except OSError as exc:  # a folder, no permission...
            raise ValueError(
                f"config {source} cannot be read: {exc.strerror or exc}"
            ) from None
    if not isinstance(config, dict):
        raise ValueError(f"a config must be a TOML file or a dict, got {config!r}")
    where = _where(source)
    config = copy.deepcopy(config)
    for key, value in config.items():
        if key not in _SECTIONS:
            raise ValueError(
                f"{where}: unknown key {key!r}; known: {sorted(_SECTIONS)}"
            )
        if not isinstance(value, _SECTIONS[key]):
            raise ValueError(
                f"{where}: {key!r} must be a {_SECTIONS[key].__name__}, got {value!r}"
            )
    for key in ("target", "data", "classifier"):
        if key not in config:
            raise ValueError(f"{where}: missing {key!r}")
    if config["target"] not in _TARGETS:
        raise ValueError(
            f"{where}: target must be one of {_TARGETS}, got {config['target']!r}"
        )
    train_target = config.setdefault("train_target", config["target"])
    if train_target != config["target"] and (
        train_target != "space_group" or config["target"] == "space_group"
    ):
        raise ValueError(
            f"{where}: train_target must be the target or 'space_group' (a "
            f"space-group network answering {config['target']!r}), got "
            f"{train_target!r}"
        )
    if config["target"] == "structure_type":
        _check_structure_type(config, where)
    config.setdefault("name", config["target"].replace("_", "-"))
    config.setdefault("description", "")
    for section, keys in (("data", _DATA_KEYS), ("test", _DATA_KEYS)):
        unknown = set(config.get(section, {})) - keys
        if unknown:
            raise ValueError(
                f"{where}: unknown [{section}] keys {sorted(unknown)}; known: "
                f"{sorted(keys)}"
            )
    unknown = set(config.get("save", {})) - _SAVE_KEYS
    if unknown:
        raise ValueError(
            f"{where}: unknown [save] keys {sorted(unknown)}; known: "
            f"{sorted(_SAVE_KEYS)}"
        )
    # checked now: skxrd train saves only after the training
    from ._store import check_save_options

    try:
        check_save_options(**config.get("save", {}))
    except ValueError as exc:
        raise ValueError(f"{where}: [save] {exc}") from None
    unknown = set(config.get("preprocessing", {})) - _PREPROCESSING_KEYS
    if unknown:
        raise ValueError(
            f"{where}: unknown [preprocessing] keys {sorted(unknown)}; known: "
            f"{sorted(_PREPROCESSING_KEYS)}"
        )
    config["preprocessing"] = {
        "denoise": None,
        "background": "snip",
        "background_window": None,
        "background_edges": "keep",
        "normalize": "max",
        "scale": None,
        **config.get("preprocessing", {}),
    }
    edges = config["preprocessing"]["background_edges"]
    from ..preprocessing._core import SNIP_EDGES

    if edges not in SNIP_EDGES:  # said before any data is simulated
        raise ValueError(
            f"{where}: [preprocessing] background_edges must be one of "
            f"{SNIP_EDGES}, got {edges!r}"
        )
    denoise = config["preprocessing"]["denoise"]
    if denoise is not None and denoise is not False:
        from ..utils._validation import check_int

        what = f"{where}: [preprocessing] denoise (median points)"
        check_int(denoise, what, minimum=1)
        if denoise % 2 == 0:  # PatternSmoother's rule, said before any training
            raise ValueError(f"{what} must be odd (a centred window), got {denoise}")
    config["simulator"] = {
        "two_theta_range": (5.0, 90.0),
        "two_theta_step": 0.02,
        **_tuples(config.get("simulator", {})),
    }
    config["data"] = _tuples(config["data"])
    if "test" in config:
        config["test"] = _tuples(config["test"])
    from ..datasets._dataset import _check_variant_options, _components, _instrument

    for section in ("data", "test"):
        if section not in config:
            continue
        part = config[section]
        if part.get("split", "train") not in ("train", "test"):
            raise ValueError(
                f"{where}: [{section}] split must be 'train' or 'test', got "
                f"{part['split']!r}"
            )
        try:
            _check_data_values(part)
            if "split" in part:
                _check_split_source(part.get("source"))
            _components(part.get("source"), config["target"])
            _check_variant_options(part.get("n_variants", 1), part.get("variants"))
            _instrument(part.get("instrument"))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: [{section}] {exc}") from None
    classifier = _tuples(config["classifier"])
    if isinstance(classifier.get("member"), dict):
        classifier["member"] = _tuples(classifier["member"])
    if "type" not in classifier:
        raise ValueError(f"{where}: [classifier] needs type")
    config["classifier"] = classifier
    _class_weight_labels(config, "[classifier]", classifier, where)
    if isinstance(classifier.get("member"), dict):
        _class_weight_labels(config, "[classifier.member]", classifier["member"], where)
    if "match" in config:
        config["match"] = _check_match(config, where)
    if "indexing" in config:
        config["indexing"] = _check_indexing(config, where)
    if "symmetry" in config:
        config["symmetry"] = _check_symmetry(config, where)
    _check_parameter_keys(config, where)
    # build once so that a wrong parameter fails here, naming the config, and
    # not after the data and the training
    try:
        pipeline = build_pipeline(config)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    try:
        _check_networks(pipeline, len(_simulator(config).get_feature_names_out()))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return config


def _check_parameter_keys(config, where):
    """The keys of ``[simulator]``, ``[classifier]`` and
    ``[classifier.member]``, each a parameter of the class it builds: a typo
    is named with its section and the keys it may be (Python's
    "__init__() got an unexpected keyword argument" named neither)."""
    import inspect

    from .. import estimators
    from ..simulation import PowderSimulator

    def parameters(cls):
        return set(inspect.signature(cls).parameters) - {"self", "args", "kwargs"}

    tables = [("simulator", config["simulator"], PowderSimulator, set())]
    classifier = config["classifier"]
    kinds = (*_NETWORK_TYPES, "UnionClassifier")
    if classifier.get("type") in kinds:
        cls = getattr(estimators, classifier["type"])
        extra = {"type"} | ({"member"} if cls is estimators.UnionClassifier else set())
        tables.append(("classifier", classifier, cls, extra))
        member = classifier.get("member")
        if isinstance(member, dict) and member.get("type") in _NETWORK_TYPES:
            cls = getattr(estimators, member["type"])
            tables.append(("classifier.member", member, cls, {"type"}))
    for name, table, cls, extra in tables:
        known = parameters(cls) | extra
        unknown = set(table) - known
        if unknown:
            raise ValueError(
                f"{where}: unknown [{name}] keys {sorted(unknown)} ({cls.__name__} "
                f"has no such parameters); known: {sorted(known)}"
            )


def _class_weight_labels(config, name, section, where):
    """A ``class_weight`` table of a classifier section (``name``) keyed by
    the labels its network learns, in place: TOML keys are strings, and the
    space groups of ``train_target = "space_group"`` are integers, which
    ``{"225" = 2.0}`` would never name (the fit's "not a class" error, after
    the data). A key that names no label of the ``train_target`` is a
    ValueError naming it, the config and the section; a string or None is
    left to the classifier's own check."""
    class_weight = section.get("class_weight")
    if not isinstance(class_weight, dict):
        return
    target = config["train_target"]
    if target == "space_group":
        labels = {}
        for key, weight in class_weight.items():
            label = _space_group_key(key)
            if label is None:
                raise ValueError(
                    f"{where}: {name} class_weight key {key!r} names no label of "
                    "train_target 'space_group' (space-group numbers 1-230, such "
                    'as class_weight = {"225" = 2.0})'
                )
            if label in labels:
                raise ValueError(
                    f"{where}: {name} class_weight names space group {label} twice"
                )
            labels[label] = weight
        section["class_weight"] = labels
        return
    if target == "structure_type":
        if "prototypes" in config["data"]:
            return  # the prototypes' labels: the union's fit checks them
        from ..datasets import STRUCTURE_TYPES

        known = set(STRUCTURE_TYPES)
    else:
        known = {str(x) for x in _labels(target, np.arange(1, 231))}
    for key in class_weight:
        if not isinstance(key, str) or key not in known:
            shown = sorted(known)
            more = ", ..." if len(shown) > 10 else ""
            raise ValueError(
                f"{where}: {name} class_weight key {key!r} names no label of "
                f"train_target {target!r} (the labels: "
                f"{', '.join(shown[:10])}{more})"
            )


def _space_group_key(key):
    """The space-group number (1-230) a ``class_weight`` key names (an
    integer, or its decimal digits as TOML writes keys), or None."""
    if isinstance(key, str) and key.strip().isdecimal():
        key = int(key.strip())
    if isinstance(key, bool) or not isinstance(key, numbers.Integral):
        return None
    return int(key) if 1 <= key <= 230 else None


def _check_data_values(part):
    """The values of a [data] or [test] section that make_pattern_dataset
    would check only when it runs (after the training, for [test])."""
    from ..utils._validation import check_int

    if "n_crystals" not in part:
        raise ValueError("needs n_crystals")
    check_int(part["n_crystals"], "n_crystals", minimum=1)
    if "random_state" in part:
        check_int(part["random_state"], "random_state", minimum=0)
    elements = part.get("elements")
    if elements is not None and (
        isinstance(elements, str)
        or not isinstance(elements, (list, tuple))
        or not all(isinstance(e, str) for e in elements)
    ):
        raise ValueError(
            f"elements must be a list of element symbols, got {elements!r}"
        )
    n_atoms = part.get("n_atoms")
    if n_atoms is not None:
        values = n_atoms if isinstance(n_atoms, (list, tuple)) else (n_atoms,)
        if len(values) not in (1, 2):
            raise ValueError(f"n_atoms must be a number or [min, max], got {n_atoms!r}")
        for value in values:
            check_int(value, "n_atoms", minimum=1)


def _check_networks(pipeline, n_features):
    """Every parameter of the pipeline's networks (a union's member too), as
    ``fit`` would check them, and their torch module built once; an error
    names the section (``[classifier]`` or ``[classifier.member]``)."""
    import torch

    from ..estimators import CoarseLabelClassifier, UnionClassifier

    clf = pipeline.steps[-1][1]
    if isinstance(clf, CoarseLabelClassifier):
        clf = clf.estimator
    section, net = "[classifier]", clf
    try:
        if isinstance(clf, UnionClassifier):
            clf._check_params()
            section, net = "[classifier.member]", clf.estimator
        if not hasattr(net, "_check_schedule_params"):
            return
        net._check_params(n_features)
        # built from the global generator: forked, so that a seed the caller
        # set before loading the config still seeds the training
        with torch.random.fork_rng(devices=[]):
            net._module_class(
                n_classes=2, **net._network_kwargs(), **net._data_module_kwargs()
            )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{section} {exc}") from None


_SYMMETRY_KEYS = {"model", "calibration_seed"}


def _check_symmetry(config, where):
    """The ``[symmetry]`` section with its defaults, checked."""
    section = dict(config["symmetry"])
    unknown = set(section) - _SYMMETRY_KEYS
    if unknown:
        raise ValueError(
            f"{where}: unknown [symmetry] keys {sorted(unknown)}; known: "
            f"{sorted(_SYMMETRY_KEYS)}"
        )
    if config["target"] != "structure_type":
        raise ValueError(
            f"{where}: [symmetry] weighs structure types by their space groups; "
            f"the target is {config['target']!r}"
        )
    if "test" not in config:
        raise ValueError(
            f"{where}: [symmetry] fits its weight on a draw of the [test] section "
            "with another random_state; the config has no [test]"
        )
    test_seed = config["test"].get("random_state")
    section.setdefault("model", "space-group")
    section.setdefault(
        "calibration_seed", (test_seed if isinstance(test_seed, int) else 0) + 1
    )
    model = section["model"]
    if not isinstance(model, str) or not model:
        raise ValueError(
            f"{where}: [symmetry] model must name a shipped model or a .pt file, "
            f"got {model!r}"
        )
    if not model.endswith(".pt"):
        from . import _MODELS

        if model not in _MODELS:
            raise ValueError(
                f"{where}: [symmetry] model {model!r} is neither a .pt file nor a "
                f"shipped model ({sorted(_MODELS)})"
            )
    seed = section["calibration_seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(
            f"{where}: [symmetry] calibration_seed must be an integer >= 0, got "
            f"{seed!r}"
        )
    if seed == test_seed:
        raise ValueError(
            f"{where}: [symmetry] calibration_seed must differ from the [test] "
            f"random_state ({test_seed}), whose draw scores the model"
        )
    return section


def add_symmetry(pipeline, config, *, cache=None, n_jobs=None, verbose=True):
    """Weigh a structure-type pipeline's types by a space-group model.

    The final classifier (a :class:`~skxrd.estimators.UnionClassifier` of
    structure types) is wrapped, with the space-group model that ``[symmetry]
    model`` names (a shipped model, by default ``"space-group"``, or a model
    file), in a :class:`~skxrd.estimators.SymmetryWeightedClassifier`, and its
    weight is fitted by the log-loss of a draw of the ``[test]`` section with
    ``random_state = calibration_seed`` (other compounds of the same types;
    by default the test seed + 1). No measured pattern is used.

    Parameters
    ----------
    pipeline : PatternPipeline
        Fitted, ending in a classifier of structure-type names.
    config : str, path-like or dict
        The config, with ``[test]`` and ``[symmetry]`` sections.
    cache : str or path-like, optional
        Folder for joblib's cache of the simulated patterns, and of the
        space-group model's indexing merits (``indexing-merits`` in it).
    n_jobs : int, optional
        Workers for the simulation and the indexing.
    verbose : bool, default=True
        Progress bars.

    Returns
    -------
    pipeline : PatternPipeline
        A new pipeline (the same preprocessing steps) whose final step is the
        :class:`~skxrd.estimators.SymmetryWeightedClassifier`; store it with
        :func:`save_model` of its ``estimator_``'s pipeline and
        :func:`save_symmetry_view` (``skxrd train`` does both).
    report : dict
        The weight, and the log-loss and top-1 accuracy of the calibration
        draw before and after.

    Examples
    --------
    The shipped structure-type model's settings:

    >>> from importlib import resources
    >>> from skxrd.pretrained import load_config
    >>> path = resources.files("skxrd.pretrained") / "configs/structure-type.toml"
    >>> with resources.as_file(path) as file:
    ...     load_config(file)["symmetry"]
    {'model': 'space-group', 'calibration_seed': 2}
    """
    import warnings

    from ..estimators import SymmetryWeightedClassifier
    from ..estimators._core import fit_symmetry_weight, symmetry_weighted
    from ..estimators._mixins import _known_labels
    from ._pipeline import PatternPipeline
    from ._store import _same_preprocessing, load_model

    config = load_config(config)
    if "symmetry" not in config:
        config = {**config, "symmetry": {}}
        config["symmetry"] = _check_symmetry(config, "config")
    section = config["symmetry"]
    t0 = time.time()
    name = section["model"]
    if name.endswith(".pt"):
        groups = load_model(name, device="cpu")
    else:
        from . import load_pretrained

        groups = load_pretrained(name, device="cpu")
    if not _same_preprocessing(pipeline.steps[:-1], groups.steps[:-1]):
        raise ValueError(
            f"[symmetry] model {name!r} does not read patterns as the pipeline "
            "does (other preprocessing steps or grid)"
        )
    symmetry = groups.steps[-1][1]
    params = symmetry.get_params()
    if "memory" in params and cache is not None:
        symmetry.set_params(memory=merits_memory(cache))
    if "n_jobs" in params and n_jobs is not None:
        symmetry.set_params(n_jobs=n_jobs)
    if "verbose" in params:
        symmetry.set_params(verbose=verbose)
    draw = {
        **config,
        "test": {**config["test"], "random_state": section["calibration_seed"]},
    }
    X, _, labels = _dataset(draw, "test", cache, n_jobs, verbose)
    y = _target_labels(config, labels)
    rows = pipeline[:-1].transform(X)
    clf = SymmetryWeightedClassifier.from_fitted(pipeline.steps[-1][1], symmetry)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        proba, symmetry_proba = clf._both(rows)
    idx, known = _known_labels(clf.classes_, y)
    args = (clf._columns, clf._log_prior)
    # rounded as the view stores it: the model in memory and on disk agree
    weight = round(
        fit_symmetry_weight(proba[known], symmetry_proba[known], *args, idx[known]), 4
    )
    clf.weight = clf.weight_ = weight

    def scores(p):
        return (
            round(_weighted_log_loss(p, clf.classes_, y), 4),
            round(float(np.mean(p[known].argmax(1) == idx[known])), 4),
        )

    before = scores(proba)
    after = scores(symmetry_weighted(proba, symmetry_proba, *args, weight))
    report = {
        "symmetry_model": name,
        "symmetry_weight": weight,
        "symmetry_n_calibration": int(known.sum()),
        "symmetry_calibration_seed": int(section["calibration_seed"]),
        "symmetry_log_loss_before": before[0],
        "symmetry_log_loss_after": after[0],
        "symmetry_top1_before": before[1],
        "symmetry_top1_after": after[1],
        "symmetry_seconds": round(time.time() - t0, 1),
    }
    out = PatternPipeline(list(pipeline.steps[:-1]) + [(pipeline.steps[-1][0], clf)])
    out.metadata_ = getattr(pipeline, "metadata_", None)
    return out, report


def _check_structure_type(config, where):
    """What a structure-type config may not have: the union learns the library's
    own compounds, so no split of real structures, no search-match."""
    for section in ("data", "test"):
        if "split" in config.get(section, {}):
            raise ValueError(
                f"{where}: [{section}] split is for real structures; a "
                "structure-type [test] draw is held out by its random_state (other "
                "compounds of the same types)"
            )
    if "match" in config:
        raise ValueError(f"{where}: [match] is for symmetry targets")
    if config["classifier"].get("type") != "UnionClassifier":
        raise ValueError(
            f"{where}: target 'structure_type' is learned by a UnionClassifier "
            "([classifier] type), which can add_classes later"
        )


def _with_defaults(config, name, defaults, where):
    """The config's ``[name]`` section over its ``defaults``; unknown keys are
    an error."""
    section = config[name]
    unknown = set(section) - set(defaults)
    if unknown:
        raise ValueError(
            f"{where}: unknown [{name}] keys {sorted(unknown)}; known: "
            f"{sorted(defaults)}"
        )
    return {**defaults, **section}


def _check_match(config, where):
    """The [match] section with its defaults, checked."""
    from ..estimators import PatternMatchClassifier
    from ..estimators._core import GATES
    from ..estimators._space_group_prior import SPACE_GROUP_PRIORS
    from ..utils._validation import check_int, check_real

    match = _with_defaults(config, "match", _MATCH_DEFAULTS, where)
    try:
        source = match["source"]
        if not isinstance(source, str) or (
            source not in ("amcsd", "materials_project") and not Path(source).is_dir()
        ):
            raise ValueError(
                "source must be 'amcsd', 'materials_project' or a folder of CIF "
                f"files, got {source!r}"
            )
        PatternMatchClassifier(
            smoothing=match["smoothing"],
            stride=match["stride"],
            reference_dtype=match["reference_dtype"],
            intensity=match["intensity"],
            max_shift=match["max_shift"],
            shift_step=match["shift_step"],
        )._check_params()
        if match["gate"] not in GATES:
            raise ValueError(
                f"gate must be one of {', '.join(map(repr, GATES))}, got "
                f"{match['gate']!r}"
            )
        if match["prior"] != "none":
            if match["prior"] not in SPACE_GROUP_PRIORS:
                raise ValueError(
                    "prior must be 'none' or one of "
                    f"{', '.join(SPACE_GROUP_PRIORS)}, got {match['prior']!r}"
                )
            if config.get("train_target", config["target"]) != "space_group":
                raise ValueError(
                    "prior shrinks a space-group network's answers within each "
                    'crystal system: train_target = "space_group"'
                )
            if match["threshold"] != "auto":
                raise ValueError(
                    "prior's weight is fitted on the tuning patterns of "
                    'threshold = "auto"'
                )
        if match["threshold"] != "auto":
            check_real(match["threshold"], "threshold", minimum=-1.0, maximum=1.0)
        elif "test" not in config:
            raise ValueError(
                "threshold 'auto' is tuned on the [test] draw (another seed) and "
                "the references' own compounds: add a [test] section or give a "
                "threshold"
            )
        check_int(match["n_tune"], "n_tune", minimum=1)
        check_int(match["random_state"], "random_state", minimum=0)
    except ValueError as exc:
        raise ValueError(f"{where}: [match] {exc}") from None
    return match


def _check_indexing(config, where):
    """The [indexing] section with its defaults, checked."""
    from ..estimators._indexing_core import (
        check_absences,
        check_degree,
        check_families,
        check_first_lines,
        check_max_zero_shift,
        check_merit_cap,
    )
    from ..estimators._space_group_prior import SPACE_GROUP_PRIORS
    from ..utils._validation import check_int, check_real

    section = _with_defaults(config, "indexing", _INDEXING_DEFAULTS, where)
    if "match" not in config:
        raise ValueError(
            f"{where}: [indexing] is fitted on the tuning patterns of [match]: "
            "add a [match] section"
        )
    if config.get("train_target", config["target"]) != "space_group":
        raise ValueError(
            f"{where}: [indexing] weighs the crystal systems of a space-group "
            'network: train_target = "space_group"'
        )
    try:
        check_real(section["C"], "C", minimum=0.0)
        if not float(section["C"]) > 0:
            raise ValueError(f"C must be positive, got {section['C']}")
        n = check_int(section["n_tune"], "n_tune", minimum=1)
        if n > int(config["match"]["n_tune"]):
            raise ValueError(
                f"n_tune {n} is more than the {config['match']['n_tune']} tuning "
                "patterns per draw of [match]"
            )
        if not isinstance(section["augment"], bool):
            raise ValueError(
                f"augment must be true or false, got {section['augment']!r}"
            )
        check_int(section["augment_seed"], "augment_seed", minimum=0)
        for key in ("kbeta_leak", "low_angle"):
            check_real(section[key], key, minimum=0.0, maximum=1.0)
        for key in ("kbeta_leak", "low_angle"):
            if section[key] and not section["augment"]:
                raise ValueError(f"{key} needs augment = true")
        if section["kbeta_leak"] or section["low_angle"]:
            _check_stray_lines(
                _simulator(config),
                section["kbeta_leak"],
                section["low_angle"],
                ("kbeta_leak", "low_angle"),
            )
        check_families(section["families"])
        check_degree(section["degree"])
        check_merit_cap(section["merit_cap"])
        check_max_zero_shift(section["max_zero_shift"])
        check_first_lines(section["first_lines"])
        check_absences(
            section["absences"], section["absence_weight"], section["absence_min_merit"]
        )
        if not isinstance(section["calibrate"], bool):
            raise ValueError(
                f"calibrate must be true or false, got {section['calibrate']!r}"
            )
        prior = section["calibrate_prior"]
        if prior != "none" and prior not in SPACE_GROUP_PRIORS:
            raise ValueError(
                "calibrate_prior must be 'none' or one of "
                f"{', '.join(SPACE_GROUP_PRIORS)}, got {prior!r}"
            )
        if prior != "none" and not section["calibrate"]:
            raise ValueError("calibrate_prior needs calibrate = true")
        m = check_int(section["n_calibrate"], "n_calibrate", minimum=1)
        if section["calibrate"] and n + m > int(config["match"]["n_tune"]):
            raise ValueError(
                f"n_tune {n} and n_calibrate {m} are more than the "
                f"{config['match']['n_tune']} tuning patterns per draw of [match]"
            )
    except ValueError as exc:
        raise ValueError(f"{where}: [indexing] {exc}") from None
    return section


def _check_stray_lines(sim, kbeta_leak, low_angle, names):
    """An error naming the setting (``names``: of the Kβ share, of the
    low-angle share) whose stray lines the simulator ``sim`` cannot take: Kβ
    copies without an anode to place them, low-angle lines on a grid that
    starts above them."""
    from ..utils._radiation import get_radiation

    if kbeta_leak:
        try:
            kbeta = get_radiation(sim.radiation, sim.wavelength).kbeta
        except (TypeError, ValueError):
            kbeta = None
        if kbeta is None:
            at = "" if sim.wavelength is None else f" at {sim.wavelength} Å"
            raise ValueError(
                f"{names[0]} needs a [simulator] radiation that names an anode "
                f"(such as 'CuKa'), whose Kβ line places the copies: "
                f"{sim.radiation!r}{at} names none"
            )
    start, top = float(sim.two_theta[0]), _LOW_ANGLE["position"][1]
    if low_angle and start >= top:
        raise ValueError(
            f"{names[1]} adds lines below {top}°, but the [simulator] grid "
            f"starts at {start:g}°"
        )


# The weak low-angle lines of measured patterns (a beam stop, the direct beam's
# tail, a holder): 37 % of the RRUFF patterns have a peak below 7.5°, at 2-22 %
# of their maximum (10th-90th percentile), 2.6 times as dense per degree as at
# 7.5-8.5°, so about one pattern in four has one that no cell explains.
_LOW_ANGLE = {
    "n_peaks": 1,
    "intensity": (0.02, 0.2),
    "fwhm": (0.05, 0.2),
    "position": (5.0, 7.5),
}


def _stray_line_augmentation(sim, kbeta_leak, low_angle, min_snr=None):
    """:func:`~skxrd.augmentation.sample_augmentation` on the simulator's grid,
    then in a share ``kbeta_leak`` of the patterns the Kβ copies of a
    β-filtered tube (:class:`~skxrd.augmentation.KbetaLeak`, 1-5 %) and in a
    share ``low_angle`` one weak line below 7.5° (``_LOW_ANGLE``): the stray
    lines of measured patterns. With both shares 0 it is
    ``sample_augmentation`` itself, the same draws for the same seed.
    ``min_snr``: ``sample_augmentation``'s."""
    from ..augmentation import (
        Compose,
        ImpurityPeaks,
        KbetaLeak,
        RandomApply,
        sample_augmentation,
    )

    grid = sim.two_theta
    aug = sample_augmentation(grid, min_snr=min_snr)
    extra = []
    if kbeta_leak:
        leak = KbetaLeak(radiation=sim.radiation, two_theta=grid)
        extra.append(RandomApply(leak, p=float(kbeta_leak)))
    if low_angle:
        low = ImpurityPeaks(**_LOW_ANGLE, two_theta=grid)
        extra.append(RandomApply(low, p=float(low_angle)))
    return Compose([aug, *extra], normalize=True) if extra else aug


def _indexing_augmentation(section, config):
    """The augmentation of the stacker's tuning patterns (``[indexing]``): the
    stray lines the indexing meets in measured peak lists, in the shares
    ``kbeta_leak`` and ``low_angle``."""
    return _stray_line_augmentation(
        _simulator(config), section["kbeta_leak"], section["low_angle"]
    )


def _tuples(section: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}


def _simulator(config):
    from ..simulation import PowderSimulator

    return PowderSimulator(**config["simulator"])


def build_pipeline(config):
    """The unfitted :class:`PatternPipeline` a config describes.

    Steps: a :class:`~skxrd.preprocessing.PatternResampler` onto the
    simulator's grid and wavelength (so that measured patterns of any grid and
    wavelength come in), an optional median filter against counting noise
    (``denoise``), an optional background subtraction, a normalization and the
    classifier.

    Parameters
    ----------
    config : dict
        As returned by :func:`load_config`.

    Returns
    -------
    PatternPipeline

    Examples
    --------
    >>> from skxrd.pretrained import build_pipeline, load_config
    >>> cfg = load_config({"target": "crystal_system", "data": {"n_crystals": 50},
    ...                    "classifier": {"type": "CNNClassifier"}})
    >>> [name for name, _ in build_pipeline(cfg).steps]
    ['resample', 'background', 'normalize', 'classifier']
    """
    from ..preprocessing import (
        BackgroundSubtractor,
        PatternNormalizer,
        PatternResampler,
        PatternSmoother,
    )
    from ._pipeline import PatternPipeline

    sim = _simulator(config)
    lo, hi = sim.two_theta_range
    radiation = sim.radiation if sim.wavelength is None else sim.wavelength
    steps = [
        (
            "resample",
            PatternResampler(
                two_theta=(lo, hi, sim.two_theta_step), wavelength=radiation
            ),
        )
    ]
    pre = config["preprocessing"]
    if pre["denoise"]:
        steps.append(
            (
                "denoise",
                PatternSmoother(window_length=pre["denoise"], method="median"),
            )
        )
    if pre["background"]:
        steps.append(
            (
                "background",
                BackgroundSubtractor(
                    method=pre["background"],
                    window=pre["background_window"],
                    edges=pre["background_edges"],
                ),
            )
        )
    if pre["normalize"]:
        steps.append(
            (
                "normalize",
                PatternNormalizer(method=pre["normalize"], scale=pre["scale"]),
            )
        )
    params = dict(config["classifier"])
    kind = params.pop("type")
    # the named augmentations max-normalize: other inputs keep their scale
    keep_scale = pre["normalize"] != "max"
    if kind == "UnionClassifier":
        from ..estimators import UnionClassifier

        member = params.pop("member", None)
        if not isinstance(member, dict) or member.get("type") not in _NETWORK_TYPES:
            raise ValueError(
                "[classifier] of a UnionClassifier needs a [classifier.member] "
                f"table whose type is one of {_NETWORK_TYPES}, got {member!r}"
            )
        clf = UnionClassifier(_network(member, sim, keep_scale, pre["scale"]), **params)
    else:
        clf = _network(config["classifier"], sim, keep_scale, pre["scale"])
    if config.get("train_target", config["target"]) != config["target"]:
        from ..estimators import CoarseLabelClassifier

        clf = CoarseLabelClassifier(clf, target=config["target"])
    steps.append(("classifier", clf))
    return PatternPipeline(steps)


def _network(section, sim, keep_scale=False, scale=None):
    """The network classifier of a [classifier] (or member) table.

    ``keep_scale``: the named augmentation's max-normalized output is scaled
    back to each pattern's maximum, for inputs that [preprocessing] does not
    max-normalize (``normalize = "area"``, ``"l2"`` or none): their training
    batches were at a maximum of 1 and their validation and measured patterns
    at their own scale. ``scale``: [preprocessing] ``scale``, which
    ``"sample+linear"`` undoes for the augmentation.
    """
    from ._store import _step_classes

    params = dict(section)
    kind = params.pop("type")
    if kind not in _NETWORK_TYPES:
        raise ValueError(
            "[classifier] type must be ResNetClassifier, DenseNetClassifier, "
            f"CNNClassifier or UnionClassifier, got {kind!r}"
        )
    named = isinstance(section.get("augment"), str)
    if named:
        params["augment"] = _named_augmentation(section["augment"], sim, scale)
    if keep_scale and named and callable(params.get("augment")):
        from ..augmentation._compose import _KeepMaximum

        params["augment"] = _KeepMaximum(params["augment"])
    return _step_classes()[kind](**params)


# "sample+linear": the peak transforms count only peaks that rise this many
# noise levels above their surroundings (experiments/peak_detection.py: 92 % of
# what they find is near a line of the noise-free pattern, against a third
# without it, on measured-like simulations)
_SAMPLE_MIN_SNR = 6.0
_SAMPLE_OPTIONS = ("linear", "scan_range", "stray_lines")


def _named_augmentation(name, sim, scale=None):
    """The augmentation a [classifier] ``augment`` string names.

    ``"default"``: :func:`~skxrd.augmentation.default_augmentation` on the
    simulator's grid. ``"sample"``, optionally followed by ``+``-joined
    options: :func:`~skxrd.augmentation.sample_augmentation`, with
    ``scan_range`` half the patterns cut to shorter scans, with
    ``stray_lines`` the measured stray lines (Kβ copies in half, a weak line
    below 7.5° in a quarter), with ``linear`` peaks found above the counting
    noise and, for square-root inputs, on their linear intensities
    (:class:`~skxrd.augmentation.LinearIntensities`). Other strings are
    passed on (the estimator names its own choices).
    """
    from ..augmentation import (
        LinearIntensities,
        default_augmentation,
        sample_augmentation,
    )

    if name == "default":
        return default_augmentation(sim.two_theta)
    base, *options = name.split("+")
    if base != "sample":
        return name
    where = f'[classifier] augment = "{name}"'
    unknown = [o for o in options if o not in _SAMPLE_OPTIONS]
    if unknown or len(set(options)) != len(options):
        raise ValueError(
            f"{where}: the options after 'sample' are {', '.join(_SAMPLE_OPTIONS)}, "
            f"each at most once, joined by '+'; got {name!r}"
        )
    if "scan_range" in options and "stray_lines" in options:
        raise ValueError(f"{where}: scan_range and stray_lines do not combine")
    min_snr = _SAMPLE_MIN_SNR if "linear" in options else None
    if "stray_lines" in options:
        # measured stray lines: Kβ copies in half the patterns (about half of
        # the RRUFF patterns have them), a weak line below 7.5° in a quarter
        _check_stray_lines(sim, 0.5, 0.25, (where, where))
        aug = _stray_line_augmentation(sim, 0.5, 0.25, min_snr=min_snr)
    else:
        # with scan_range, half the patterns cut to shorter scans (ScanRange)
        scan = 0.5 if "scan_range" in options else 0.0
        aug = sample_augmentation(sim.two_theta, scan_range=scan, min_snr=min_snr)
    if "linear" in options and scale == "sqrt":
        aug = LinearIntensities(aug)
    elif "linear" in options and scale is not None:
        raise ValueError(
            f"{where}: the linear intensities of [preprocessing] scale = "
            f"{scale!r} are lost with its maximum; linear needs scale 'sqrt' or none"
        )
    return aug


def _labels(target, space_group):
    from .. import crystal

    if target == "space_group":
        return np.asarray(space_group)
    return np.asarray(getattr(crystal, f"to_{target}")(space_group))


def prototype_split(collection, test_size=0.2, random_state=0):
    """Indices (train, test) of a structure collection split by prototype.

    No prototype has structures on both sides, so a model trained on one part
    is scored on structure types it never saw. The ``split`` key of a config's
    ``[data]`` / ``[test]`` sections uses it on the Materials Project
    structures.

    The groups are ``collection.split_groups`` where the collection has them
    (the Materials Project's: the prototypes the shipped models were split
    by, frozen, so that their held-out part stays held out when the labelling
    improves), else ``collection.groups``. With the labels of today's
    :func:`~skxrd.crystal.prototype_label` a few frozen groups share a label
    (10,470 labels for 10,527 groups).

    Parameters
    ----------
    collection : Bunch
        From :func:`~skxrd.datasets.load_materials_project` or
        :func:`~skxrd.datasets.load_structures`.
    test_size : float, default=0.2
    random_state : int, default=0

    Returns
    -------
    train, test : ndarray of int

    Examples
    --------
    >>> from skxrd.datasets import load_materials_project
    >>> from skxrd.pretrained import prototype_split
    >>> mp = load_materials_project()
    >>> train, test = prototype_split(mp)
    >>> set(mp.split_groups[train]) & set(mp.split_groups[test])
    set()
    >>> len(test)
    6536
    """
    from sklearn.model_selection import GroupShuffleSplit

    n = len(collection.crystals)
    groups = collection.get("split_groups")
    groups = collection.groups if groups is None else groups
    split = GroupShuffleSplit(1, test_size=test_size, random_state=random_state)
    return next(split.split(np.zeros(n), groups=groups))


def subset_collection(collection, idx):
    """The entries ``idx`` of a structure collection, as a collection.

    Parameters
    ----------
    collection : Bunch
        From :func:`~skxrd.datasets.load_materials_project` or
        :func:`~skxrd.datasets.load_structures`.
    idx : array-like of int

    Returns
    -------
    Bunch
        The same fields, with the per-structure arrays and the crystals taken
        at ``idx`` (without ``frame``); a source for
        :func:`~skxrd.datasets.make_pattern_dataset` and
        :class:`~skxrd.datasets.CrystalPrior`.

    Examples
    --------
    >>> from skxrd.datasets import load_materials_project
    >>> from skxrd.pretrained import prototype_split, subset_collection
    >>> mp = load_materials_project()
    >>> train, _ = prototype_split(mp)
    >>> part = subset_collection(mp, train[:3])
    >>> len(part.crystals), list(part.ids) == list(mp.ids[train[:3]])
    (3, True)
    """
    from sklearn.utils import Bunch

    idx = np.asarray(idx)
    n = len(collection.crystals)
    out = Bunch()
    for key, value in collection.items():
        if key == "crystals":
            out[key] = [value[i] for i in idx]
        elif isinstance(value, np.ndarray) and len(value) == n:
            out[key] = value[idx]
        elif key != "frame":
            out[key] = value
    return out


@functools.cache
def _split_part(part):
    """One part of the Materials Project's prototype split (loaded once)."""
    from ..datasets import load_materials_project

    mp = load_materials_project()
    train, test = prototype_split(mp)
    return subset_collection(mp, train if part == "train" else test)


@functools.cache
def _split_prior(part):
    """The realistic prior of one part of the split (fitted once: a [data] and
    a [test] section, and every resumed cycle, ask for it again)."""
    from ..datasets import CrystalPrior

    return CrystalPrior(max_atoms=200).fit(_split_part(part))


def _check_split_source(source):
    """An error where a ``split`` has no Materials Project part to split."""
    if isinstance(source, dict):
        if not {"materials_project", "realistic"} & set(source):
            raise ValueError(
                f"split needs 'materials_project' or 'realistic' in the source "
                f"mixture, got {source!r}"
            )
    elif source not in ("materials_project", "realistic"):
        raise ValueError(
            f"split needs source 'materials_project', 'realistic' or a mixture with "
            f"them, got {source!r}"
        )


def _split_source(source, part):
    """``source`` with the Materials Project replaced by one part of its split."""
    _check_split_source(source)

    def one(name):
        if name == "materials_project":
            return _split_part(part)
        if name == "realistic":
            return _split_prior(part)
        return name

    if isinstance(source, dict):
        return [(one(k), w) for k, w in source.items()]
    return one(source)


def _widen_output(state_dict, classes, new_classes):
    """``state_dict`` with its output layer grown from ``classes`` to the sorted
    ``new_classes`` (a superset): known classes keep their rows, new ones start
    with zero weights and the lowest bias, improbable until trained."""
    import torch

    n = len(classes)
    # the last linear layer of n outputs: not the last entries, which are the
    # confidence head's (one output) in a network with one
    w_key = b_key = None
    for key, w in state_dict.items():
        if not key.endswith(".weight") or w.ndim != 2 or w.shape[0] != n:
            continue
        bias = state_dict.get(key[: -len("weight")] + "bias")
        if bias is not None and tuple(bias.shape) == (n,):
            w_key, b_key = key, key[: -len("weight")] + "bias"
    if w_key is None:
        raise ValueError(
            "cannot find the output layer of the warm-start network to add "
            "classes to: train on the classes it knows"
        )
    w, b = state_dict[w_key], state_dict[b_key]
    rows = torch.as_tensor(np.searchsorted(new_classes, classes))
    w_new = w.new_zeros((len(new_classes), w.shape[1]))
    b_new = b.new_full((len(new_classes),), float(b.min()))
    w_new[rows], b_new[rows] = w, b
    return {**state_dict, w_key: w_new, b_key: b_new}


def _warm_start(clf, model, y=None, source=None):
    """Give ``clf`` the weights of ``model``; the epochs ``model`` had trained.

    Classes of ``y`` that ``model`` does not know are added to its output
    layer (:func:`_widen_output`), so that a shipped model can continue on
    data with rarer space groups.
    """
    from ._pipeline import PatternPipeline
    from ._store import load_model

    source = model if source is None else source
    if not isinstance(model, PatternPipeline):
        model = load_model(model, device="cpu")
    prev = _warm_start_network(model)
    if type(prev) is not type(clf):
        raise ValueError(
            f"warm_start {source}: a {type(prev).__name__} cannot start the "
            f"config's {type(clf).__name__}"
        )
    from ..estimators._base import restore_fitted

    classes = np.asarray(prev.classes_)
    state = prev.net_.module_.state_dict()
    if y is not None:
        wider = np.union1d(classes, np.unique(y))
        if len(wider) > len(classes):
            state = _widen_output(state, classes, wider)
            classes = wider
    restore_fitted(clf, classes, prev.n_features_in_, state)
    clf.set_params(warm_start=True)
    meta = getattr(model, "metadata_", None) or {}
    report = meta.get("report", meta) if isinstance(meta, dict) else {}
    return int(report.get("total_epochs", report.get("n_epochs", 0)) or 0)


def _check_training_device(config, device):
    """A ValueError, before the data, when the device the network would train
    on is unknown or absent (``device``, else the config's): the network
    would resolve it only once the data are there (minutes to hours)."""
    from ..estimators import CoarseLabelClassifier, UnionClassifier
    from ..estimators._device import _resolve_device

    what = "device"
    if device is None:
        clf = build_pipeline(config).steps[-1][1]
        if isinstance(clf, CoarseLabelClassifier):
            clf = clf.estimator
        section = "[classifier]"
        if isinstance(clf, UnionClassifier):  # its members train
            clf, section = clf.estimator, "[classifier.member]"
        device = getattr(clf, "device", None)
        what = f"config {section} device"
    try:
        _resolve_device(device)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def _check_seeded(config):
    """A ValueError, before the data, when the config's network has no
    integer ``random_state``: every fit of it draws another seed, so a run
    in ``checkpoint_dir`` is never resumed (the next one trains afresh)."""
    from ..estimators import CoarseLabelClassifier

    clf = build_pipeline(config).steps[-1][1]
    if isinstance(clf, CoarseLabelClassifier):
        clf = clf.estimator
    seed = clf.random_state
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(
            "checkpoint_dir resumes the run of a seeded network: give the "
            f"config's [classifier] an integer random_state (it has {seed!r}); "
            "without one every training draws another seed, and a second "
            "sitting would train afresh instead of resuming"
        )


def _warm_start_network(model):
    """The network inside the wrappers of a fitted ``model``
    (CoarseLabelClassifier, IndexingClassifier, MatchFirstClassifier), or its
    last classifier when none has one."""
    from ..estimators._match import wrapped_estimators

    chain = list(wrapped_estimators(model))
    return next((e for e in chain if hasattr(e, "net_")), chain[-1])


def check_warm_start(config, model, what="warm_start", *, same_inputs=True):
    """A ValueError unless ``model`` can continue the training of ``config``.

    Checked before the data are generated (minutes to hours), where the
    training would otherwise fail only after them, or go on silently from
    weights that read patterns on another grid: its network must be of the
    config's type, with the config's network parameters (``depth``,
    ``width``, ``channels``, ``kernel_size``...; all but ``dropout``), and
    answer labels of the config's ``train_target``, and
    the model must read patterns as the config's pipeline does (the same
    preprocessing steps and parameters: grid, background, normalization).
    Classes of the target that the model lacks are fine: they are added to
    its output layer. A ``class_weight`` stored with the model that is not
    the config's is a :class:`UserWarning` (the training goes on with the
    config's).

    Parameters
    ----------
    config : dict
        A config checked by :func:`load_config`.
    model : PatternPipeline
        The fitted model to continue (a loaded model file).
    what : str, default="warm_start"
        What the error messages call the model (e.g. ``"--resume FILE"``).
    same_inputs : bool, default=True
        Whether other preprocessing is an error (a resumed run) or a
        :class:`UserWarning` (a warm start that fine-tunes the weights on
        other inputs, e.g. square roots of the intensities after linear ones;
        a grid of another length fails in the network then).
    """
    from ..estimators import CoarseLabelClassifier
    from ._store import _same_preprocessing

    if config["classifier"]["type"] == "UnionClassifier":
        return  # not warm-started: train_from_config says so
    pipe = build_pipeline(config)
    clf = pipe.steps[-1][1]
    if isinstance(clf, CoarseLabelClassifier):
        clf = clf.estimator  # trained bare, as train_from_config does
    prev = _warm_start_network(model)
    if type(prev) is not type(clf):
        raise ValueError(
            f"{what}: a {type(prev).__name__} cannot start the config's "
            f"{type(clf).__name__}"
        )
    # another architecture failed only once the data were made (a torch size
    # mismatch), or, where the weights' shapes agree (stem_stride, pool), went
    # on silently with weights learned for another network; dropout acts in
    # training only and may change
    ours, theirs = clf._network_kwargs(), prev._network_kwargs()
    differ = [
        f"{name}={theirs[name]!r} (config: {ours[name]!r})"
        for name in ours
        if name != "dropout" and ours[name] != theirs.get(name)
    ]
    if differ:
        raise ValueError(
            f"{what}: its network is not the config's {type(clf).__name__}: "
            + "; ".join(differ)
        )
    # model files keep class_weight (None in files written before): a run
    # that goes on with other class weights is said, not silent
    stored = getattr(prev, "class_weight", None)
    if stored is not None and stored != clf.class_weight:
        warnings.warn(
            f"{what} was trained with class_weight={stored!r}; the training "
            f"goes on with the config's {clf.class_weight!r}",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    steps = getattr(model, "steps", None)
    if steps is not None:
        ours = pipe.steps[:-1]
        if not _same_preprocessing(ours, steps[:-1]):
            differ = [
                f"{name} {key}={theirs.get_params().get(key)!r} (config: {value!r})"
                for (name, step), (_, theirs) in zip(ours, steps[:-1])
                if type(step) is type(theirs)
                for key, value in step.get_params().items()
                if theirs.get_params().get(key) != value
            ]
            message = (
                f"{what} does not read patterns as the config's pipeline does: "
                + (
                    "; ".join(differ)
                    if differ
                    else "steps "
                    f"{[type(s).__name__ for _, s in steps[:-1]]} (config: "
                    f"{[type(s).__name__ for _, s in ours]})"
                )
            )
            if same_inputs:
                raise ValueError(message)
            warnings.warn(
                message + "; its weights are trained on the config's inputs",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
    target = config["train_target"]
    from ..utils._validation import plain_scalar

    known = {plain_scalar(x) for x in _labels(target, np.arange(1, 231))}
    classes = [plain_scalar(c) for c in np.asarray(prev.classes_)]
    # (True == 1: a boolean is no space group)
    foreign = [c for c in classes if c not in known or isinstance(c, bool)]
    if foreign:
        raise ValueError(
            f"{what} answers {foreign[:5]}{'...' if len(foreign) > 5 else ''}, "
            f"not labels of the config's train_target {target!r}"
        )


def _dataset(config, section, cache, n_jobs, verbose, with_groups=False):
    """``(X, train-target labels, labels)`` of a data section, and ``groups``
    (compound ids) with ``with_groups``; ``labels`` are space groups, or the
    structure types of a structure-type config."""
    from ..datasets import make_pattern_dataset

    data = dict(config[section])
    n = data.pop("n_crystals")
    if "split" in data:
        data["source"] = _split_source(data.get("source"), data.pop("split"))
    types = config["target"] == "structure_type"
    # symmetry targets: always the space-group dataset, so that models of
    # other targets share its cache
    bunch = make_pattern_dataset(
        n,
        target="structure_type" if types else "space_group",
        simulator=_simulator(config),
        cache=cache,
        n_jobs=n_jobs,
        verbose=verbose,
        **data,
    )
    if types:
        out = (bunch.X, bunch.y, bunch.y)
    else:
        out = (
            bunch.X,
            _labels(config["train_target"], bunch.space_group),
            bunch.space_group,
        )
    return (*out, bunch.groups) if with_groups else out


def _target_labels(config, labels):
    """The target's labels from the third value of :func:`_dataset`."""
    if config["target"] == "structure_type":
        return np.asarray(labels)
    return _labels(config["target"], labels)


def _reference_collection(match, config, verbose=False):
    """The structures of the references, and a name for each (a named
    collection loaded with a progress bar if ``verbose``)."""
    from ..datasets._dataset import _load_named

    source = match["source"]
    if source == "materials_project":
        split = config["data"].get("split")
        collection = (
            _split_part(split) if split else _load_named(source, verbose=verbose)
        )
    elif source == "amcsd":
        collection = _load_named(source, verbose=verbose)
    else:
        import warnings

        from ..datasets import CollectionWarning, read_cif_folder

        with warnings.catch_warnings():
            warnings.simplefilter("error", CollectionWarning)
            try:
                collection = read_cif_folder(source)
            except CollectionWarning as exc:  # a reference that cannot be used
                raise ValueError(f"[match] source {source}: {exc}") from None
        if not len(collection.crystals):
            raise ValueError(f"[match] source {source} holds no CIF file")
    # "Galena, PbS (amcsd-0000003)", "LaB6 (amcsd-0014189)": what a user reads
    # as the closest reference of skxrd predict
    ids = [str(i) for i in collection.ids]
    minerals = collection.get("mineral")
    if minerals is None:
        minerals = [""] * len(ids)
    formulas = collection.get("formula")
    if formulas is None:
        formulas = [c.formula for c in collection.crystals]
    names = []
    for mineral, formula, id_ in zip(minerals, formulas, ids):
        what = ", ".join(str(x) for x in (mineral, formula) if x and str(x) != id_)
        names.append(f"{what} ({id_})" if what else id_)
    return collection, names


def add_reference_match(pipeline, config, *, cache=None, n_jobs=None, verbose=True):
    """Put a search-match in front of a trained pipeline's network.

    The references are the structures of the config's ``[match] source``
    (``"amcsd"``: the AMCSD minerals, :func:`~skxrd.datasets.load_amcsd`;
    ``"materials_project"``: the Materials Project structures of the
    ``[data]`` split; or a folder of CIF files, such as a laboratory's own
    phases, :func:`~skxrd.datasets.read_cif_folder`), simulated with the
    config's simulator and preprocessed like the network's input, in a
    :class:`~skxrd.estimators.PatternMatchClassifier` (``smoothing``,
    ``stride``, ``reference_dtype``, ``intensity``). The final step becomes a
    :class:`~skxrd.estimators.MatchFirstClassifier` (inside the
    :class:`~skxrd.estimators.CoarseLabelClassifier` of a coarse target).

    With ``threshold = "auto"`` the threshold is tuned (the one of highest
    accuracy), and then each part calibrated on the patterns it answers (with
    ``gate = "soft"``, the threshold and the slope of the soft gate too, see
    :class:`~skxrd.estimators.MatchFirstClassifier`), on simulated patterns
    only:
    ``n_tune`` patterns of the references' own structures with the
    ``[data]`` instrument settings (a known compound measured on another
    instrument) and ``n_tune`` of the ``[test]`` draw with seed
    ``random_state`` (compounds that are mostly not in the references).
    No measured pattern is used.

    Parameters
    ----------
    pipeline : PatternPipeline
        Fitted, as :func:`train_from_config` returns it (or a model file
        loaded with :func:`load_model`).
    config : str, path-like or dict
        The config, with a ``[match]`` section (defaults: source ``"amcsd"``,
        smoothing 4, stride 8, float16, linear intensities, no zero shifts
        (``max_shift`` 0, ``shift_step`` 2), threshold ``"auto"``, hard gate,
        prior ``"none"``, n_tune 2000, random_state 5). With a ``prior``
        the network's space groups are shrunk towards that database's shares
        within each crystal system, by a weight fitted after the gate and the
        temperatures (:class:`~skxrd.estimators.MatchFirstClassifier`).
    cache : str or path-like, optional
        Folder for joblib's cache of the simulated patterns.
    n_jobs : int, optional
        Workers for the simulations.
    verbose : bool, default=True
        Progress bars.

    Returns
    -------
    pipeline : PatternPipeline
        A new pipeline sharing the preprocessing steps and the network.
    report : dict
        The number of references, the threshold, and on the tuning patterns
        the accuracy and the fraction answered by the search-match.

    Examples
    --------
    A laboratory's own phases (a folder of CIF files) in front of a model:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from skxrd.datasets import EXAMPLE_CRYSTALS, load_example_crystal
    >>> from skxrd.pretrained import add_reference_match, train_from_config
    >>> cfg = {"target": "crystal_system",
    ...        "data": {"n_crystals": 40, "random_state": 0},
    ...        "test": {"n_crystals": 20, "random_state": 1},
    ...        "simulator": {"two_theta_range": [10.0, 60.0],
    ...                      "two_theta_step": 0.05},
    ...        "classifier": {"type": "CNNClassifier", "channels": [4],
    ...                       "max_epochs": 1, "random_state": 0}}
    >>> pipe, _ = train_from_config(cfg, verbose=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for name in EXAMPLE_CRYSTALS:
    ...         _ = load_example_crystal(name).to_cif(Path(folder) / f"{name}.cif")
    ...     cfg["match"] = {"source": folder, "stride": 2, "n_tune": 20}
    ...     hybrid, report = add_reference_match(pipe, cfg, verbose=False)
    >>> report["n_references"], report["n_tune"], type(hybrid[-1]).__name__
    (13, 40, 'MatchFirstClassifier')
    """
    from ..estimators import (
        CoarseLabelClassifier,
        IndexingClassifier,
        MatchFirstClassifier,
        PatternMatchClassifier,
    )
    from ._pipeline import PatternPipeline

    config = load_config(config)
    match = config.get("match") or _check_match({**config, "match": {}}, "config")
    name, last = pipeline.steps[-1]
    coarse = last.target if isinstance(last, CoarseLabelClassifier) else None
    network = last.estimator_ if coarse is not None else last
    # again (new references; a stacker is fitted again after): the network
    network = _inside(network, (MatchFirstClassifier, IndexingClassifier))
    prefix = pipeline[:-1]
    collection, names, refs = _reference_patterns(match, config, cache, n_jobs, verbose)
    # the patterns' order is the dataset's: name each by its structure's id
    by_id = dict(zip((str(i) for i in collection.ids), names))
    names = [by_id[str(i)] for i in refs.ids]
    labels = _labels(config["train_target"], refs.space_group)
    matcher = PatternMatchClassifier(
        smoothing=match["smoothing"],
        stride=match["stride"],
        reference_dtype=match["reference_dtype"],
        intensity=match["intensity"],
        max_shift=match["max_shift"],
        shift_step=match["shift_step"],
    ).fit(prefix.transform(refs.X), labels)
    threshold = 0.8 if match["threshold"] == "auto" else float(match["threshold"])
    hybrid = MatchFirstClassifier.from_fitted(
        network,
        matcher,
        threshold,
        reference_names=names,
        gate=match["gate"],
        prior=None if match["prior"] == "none" else match["prior"],
    )
    report = {"source": match["source"], "n_references": int(len(labels))}
    if match["threshold"] == "auto":
        Xk, yk, Xn, yn = _tuning_draws(
            config, match, collection, cache, n_jobs, verbose
        )
        X = prefix.transform(np.concatenate([Xk, Xn]))
        y = np.concatenate([yk, yn])
        hybrid.tune_threshold(X, y)
        tuned = hybrid.threshold_
        hybrid.calibrate_temperature(X, y)  # the soft gate moves the threshold
        report.update(
            gate=match["gate"],
            # the hard gate's threshold of highest accuracy, and that accuracy
            accuracy_threshold=tuned,
            accuracy_at_threshold=round(hybrid.threshold_accuracy_, 4),
            threshold=round(hybrid.threshold_, 4),
            gate_slope=round(hybrid.gate_slope_, 2)
            if match["gate"] != "hard"
            else None,
            gate_margin=round(hybrid.gate_margin_, 4),
            prior_weight=round(hybrid.prior_weight_, 4),
            tune_accuracy=round(float(np.mean(hybrid.predict(X) == y)), 4),
            tune_model_accuracy=round(float(np.mean(network.predict(X) == y)), 4),
            tune_answered_by_match=round(
                float(np.mean(hybrid.predict_source(X) == "match")), 4
            ),
            n_tune=int(len(y)),
        )
    else:
        report["threshold"] = threshold
    final = (
        hybrid if coarse is None else CoarseLabelClassifier.from_fitted(hybrid, coarse)
    )
    out = PatternPipeline(list(pipeline.steps[:-1]) + [(name, final)])
    if hasattr(pipeline, "metadata_"):
        out.metadata_ = pipeline.metadata_
    return out, report


def _reference_patterns(match, config, cache, n_jobs, verbose):
    """The search-match's references: their collection, names and simulated
    patterns (cached under ``cache``)."""
    from ..datasets import make_pattern_dataset

    collection, names = _reference_collection(match, config, verbose)
    refs = make_pattern_dataset(
        None,
        source=collection,
        variants=False,
        simulator=_simulator(config),
        cache=cache,
        random_state=0,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    return collection, names, refs


def _inside(clf, wrappers):
    """The classifier inside ``wrappers`` (and frozen estimators) around ``clf``."""
    from ..estimators._match import wrapped_estimators

    chain = list(wrapped_estimators(clf))
    return next((e for e in chain if not isinstance(e, wrappers)), chain[-1])


def _tuning_draws(config, match, collection, cache, n_jobs, verbose):
    """The simulated patterns the search-match is tuned on: ``n_tune`` of the
    references' own structures with the ``[data]`` instrument settings, and
    ``n_tune`` of the ``[test]`` draw with seed ``random_state``, as
    ``(X_known, y_known, X_new, y_new)`` (train-target labels)."""
    from ..datasets import make_pattern_dataset

    seed = match["random_state"]
    known = make_pattern_dataset(
        match["n_tune"],
        source=collection,
        variants=False,
        instrument=config["data"].get("instrument"),
        simulator=_simulator(config),
        cache=cache,
        random_state=seed,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    test = {
        **config,
        "test": {**config["test"], "n_crystals": match["n_tune"], "random_state": seed},
    }
    Xn, yn, _ = _dataset(test, "test", cache, n_jobs, verbose)
    yk = _labels(config["train_target"], known.space_group)
    return known.X, yk, Xn, yn


def merits_memory(cache):
    """The ``memory`` of :class:`~skxrd.estimators.IndexingClassifier` under a
    cache folder (``CACHE/indexing-merits``; None without one): the ship run,
    the cards and the indexing study read each other's merits there."""
    return None if cache is None else str(Path(cache) / "indexing-merits")


def _stacker_patterns(
    config, *, rows=None, seed=None, cache=None, n_jobs=None, verbose=True
):
    """The simulated patterns an indexing stacker is fitted on (``add_indexing``).

    ``config`` loaded (:func:`load_config`), with ``[indexing]``: ``rows``
    of each of ``[match]``'s two tuning draws (by default the first
    ``[indexing] n_tune``), with the ``[indexing]`` augmentation seeded by
    ``seed`` (by default ``augment_seed``) unless ``augment = false``: raw
    intensities on the simulator's grid and their space groups. Other rows or
    seeds give patterns the shipped stacker was not fitted on, for studies
    (``experiments/absences.py``)."""
    import torch

    section, match = config["indexing"], config["match"]
    collection, _ = _reference_collection(match, config, verbose)
    Xk, yk, Xn, yn = _tuning_draws(config, match, collection, cache, n_jobs, verbose)
    if rows is None:
        rows = slice(0, int(section["n_tune"]))
    X = np.concatenate([Xk[rows], Xn[rows]]).astype(np.float32)
    y = np.concatenate([yk[rows], yn[rows]])
    if section["augment"]:
        X = X / np.maximum(X.max(axis=1, keepdims=True), 1e-12)
        aug = _indexing_augmentation(section, config)
        seed = int(section["augment_seed"] if seed is None else seed)
        X = aug(torch.from_numpy(X), generator=torch.Generator().manual_seed(seed))
        X = X.numpy()
    return X, y


def _new_stacker(estimator, prefix, section, *, cache, n_jobs, verbose):
    """The :class:`~skxrd.estimators.IndexingClassifier` of ``[indexing]``
    around ``estimator``, on the grid, wavelength and scale of the fitted
    preprocessing ``prefix``; its merits are kept under ``cache``."""
    from ..estimators import IndexingClassifier
    from ..preprocessing import PatternNormalizer, PatternResampler

    resampler = prefix.steps[0][1]
    if not isinstance(resampler, PatternResampler):
        raise ValueError(
            "indexing needs the model's 2θ grid: the first step is not a "
            "PatternResampler"
        )
    scale = "linear"
    for _, step in prefix.steps:
        if isinstance(step, PatternNormalizer) and step.scale is not None:
            scale = step.scale
    if scale not in ("linear", "sqrt"):
        raise ValueError(
            f"[indexing] reads linear or square-root intensities, not {scale!r} "
            "([preprocessing] scale)"
        )
    return IndexingClassifier(
        estimator,
        two_theta=resampler.grid_,
        radiation=resampler.wavelength,
        scale=scale,
        C=float(section["C"]),
        families=section["families"],
        degree=int(section["degree"]),
        merit_cap=float(section["merit_cap"]),
        max_zero_shift=float(section["max_zero_shift"]),
        first_lines=int(section["first_lines"]),
        absences=bool(section["absences"]),
        absence_weight=float(section["absence_weight"]),
        absence_min_merit=float(section["absence_min_merit"]),
        cv=None,
        n_jobs=n_jobs,
        verbose=verbose,
        memory=merits_memory(cache),
    )


def _prefetch(config, *, cache, n_jobs):
    """Simulate, and index, ahead the patterns that the steps after the
    network read, into ``cache`` (the simulations, and ``indexing-merits``)
    where those steps then read them back: the search-match's references and
    tuning draws, and with ``[indexing]`` the stacker's and the calibration's
    tuning patterns and the ``[test]`` draw, indexed. They depend on the
    config alone, not on the network, so a GPU's training and this CPU work
    can run at once (:func:`train_from_config` with ``prefetch``). Returns
    how many patterns were simulated for the references and indexed, and the
    seconds it took."""
    t0 = time.perf_counter()
    match = config["match"]
    quiet = {"cache": cache, "n_jobs": n_jobs, "verbose": False}
    collection, _, refs = _reference_patterns(match, config, cache, n_jobs, False)
    out = {"references": int(len(refs.X)), "indexed": 0}
    _tuning_draws(config, match, collection, cache, n_jobs, False)
    if "indexing" in config:
        section = config["indexing"]
        parts = [_stacker_patterns(config, **quiet)[0]]
        if section["calibrate"]:
            start, n = int(section["n_tune"]), int(section["n_calibrate"])
            rows, seed = slice(start, start + n), int(section["augment_seed"]) + 1
            parts.append(_stacker_patterns(config, rows=rows, seed=seed, **quiet)[0])
        if "test" in config:
            parts.append(_dataset(config, "test", cache, n_jobs, False)[0])
        pre = build_pipeline(config)[:-1]
        pre.fit(parts[0][:2])  # learns nothing from the patterns (_fit_pipeline)
        stacker = _new_stacker(None, pre, section, **quiet)
        for X in parts:
            stacker.merits(pre.transform(X))
        out["indexed"] = int(sum(len(X) for X in parts))
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def add_indexing(pipeline, config, *, cache=None, n_jobs=None, verbose=True):
    """Weigh a trained space-group pipeline's crystal systems against powder indexing.

    The final classifier (the search-match hybrid of
    :func:`add_reference_match`) is wrapped, frozen, in an
    :class:`~skxrd.estimators.IndexingClassifier` whose stacker is fitted on
    simulated patterns only: the first ``n_tune`` patterns of each of the two
    tuning draws of ``[match]`` (the references' own structures, and held-out
    compounds of the ``[test]`` draw), with
    :func:`~skxrd.augmentation.sample_augmentation`
    (impurity peaks, displacement, texture: what measured peak lists have and
    simulated ones lack) unless ``augment = false``, preprocessed like the
    network's input. No measured pattern is used.

    Parameters
    ----------
    pipeline : PatternPipeline
        Fitted, with a search-match (:func:`add_reference_match`) or a network
        as its final step, maybe inside a
        :class:`~skxrd.estimators.CoarseLabelClassifier`; space-group labels.
    config : str, path-like or dict
        The config, with ``[match]`` and ``[indexing]`` sections (defaults:
        C 0.1, families "ctho", degree 2, merit_cap 100.0, max_zero_shift 0.1,
        first_lines 2, absences false, absence_weight 1.0, absence_min_merit
        40.0, n_tune 1000, augment true, augment_seed 0, kbeta_leak 0.0,
        low_angle 0.0, calibrate false, calibrate_prior "none", n_calibrate
        1000; see :class:`~skxrd.estimators.IndexingClassifier`).
        ``kbeta_leak`` and ``low_angle`` are the shares of tuning patterns
        given the Kβ copies of a β-filtered tube and a weak line below 7.5°.
        With ``calibrate``, the stacked probabilities' two temperatures
        (:meth:`~skxrd.estimators.IndexingClassifier.calibrate_temperature`)
        are fitted on the next ``n_calibrate`` patterns of each tuning draw
        (after the stacker's, augmented alike with seed ``augment_seed + 1``),
        weighted to a database's space-group shares
        (:func:`~skxrd.datasets.space_group_sample_weights`) unless
        ``calibrate_prior`` is "none".
    cache : str or path-like, optional
        Folder for joblib's cache of the simulated patterns, and of the
        indexing merits (``indexing-merits`` in it): the returned stacker
        keeps it as its ``memory``, so patterns indexed again with the same
        search are read back.
    n_jobs : int, optional
        Workers for the simulations and the indexing.
    verbose : bool, default=True
        Progress bars.

    Returns
    -------
    pipeline : PatternPipeline
        A new pipeline (the same preprocessing steps) whose final step is the
        :class:`~skxrd.estimators.IndexingClassifier`.
    report : dict
        The stacker's data and its accuracy on them, before and after.

    Examples
    --------
    The shipped space-group model's settings (``--ship`` of
    ``tools/measured_training.py`` calls this function with them):

    >>> from importlib import resources
    >>> from skxrd.pretrained import load_config
    >>> path = resources.files("skxrd.pretrained") / "configs/space-group.toml"
    >>> with resources.as_file(path) as file:
    ...     section = load_config(file)["indexing"]
    >>> section["families"], section["degree"], section["merit_cap"]
    ('cthoa', 2, 100.0)
    """
    from sklearn.frozen import FrozenEstimator

    from ..crystal import to_crystal_system
    from ..estimators import CoarseLabelClassifier, IndexingClassifier
    from ..estimators._indexing_core import indexable
    from ._pipeline import PatternPipeline

    config = load_config(config)
    if "indexing" not in config:
        config = {**config, "indexing": {}}
        config["indexing"] = _check_indexing(config, "config")
    section = config["indexing"]
    name, last = pipeline.steps[-1]
    coarse = last.target if isinstance(last, CoarseLabelClassifier) else None
    inner = last.estimator_ if coarse is not None else last
    inner = _inside(inner, (IndexingClassifier,))  # again: a new stacker
    prefix = pipeline[:-1]
    stacked = _new_stacker(
        FrozenEstimator(inner), prefix, section, cache=cache, n_jobs=n_jobs,
        verbose=verbose,
    )  # fmt: skip
    X, y = _stacker_patterns(config, cache=cache, n_jobs=n_jobs, verbose=verbose)
    Xt = prefix.transform(X)
    merits = stacked.merits(Xt)  # once: for the fit and the report
    stacked.fit(Xt, y, merits=merits)
    calibration = None
    if section["calibrate"]:
        calibration = _calibrate_stacker(
            stacked, prefix, config, cache=cache, n_jobs=n_jobs, verbose=verbose
        )
    final = (
        stacked
        if coarse is None
        else CoarseLabelClassifier.from_fitted(stacked, coarse)
    )
    out = PatternPipeline(list(pipeline.steps[:-1]) + [(name, final)])
    if hasattr(pipeline, "metadata_"):
        out.metadata_ = pipeline.metadata_
    proba = np.asarray(inner.predict_proba(Xt), float)
    before = stacked.classes_[proba.argmax(axis=1)]
    after = stacked.classes_[stacked._combine(proba, merits).argmax(axis=1)]

    cap = float(section["merit_cap"])
    lattice_merits = merits[0] if section["absences"] else merits

    def cs(labels):
        return np.asarray(to_crystal_system(labels)).astype(str)

    report = {
        "n_tune": int(len(y)),
        "C": float(section["C"]),
        "families": section["families"],
        "degree": int(section["degree"]),
        "merit_cap": float(section["merit_cap"]),
        "max_zero_shift": float(section["max_zero_shift"]),
        "first_lines": int(section["first_lines"]),
        "kbeta_leak": float(section["kbeta_leak"]),
        "low_angle": float(section["low_angle"]),
        "absences": bool(section["absences"]),
        "absence_weight": float(section["absence_weight"]),
        "absence_min_merit": float(section["absence_min_merit"]),
        # how often the cap bites on the tuning patterns (indexable ones)
        "tune_share_above_cap": round(
            float(
                np.mean(
                    lattice_merits[indexable(lattice_merits), :-1].max(axis=1) > cap
                )
            ),
            4,
        )
        if indexable(lattice_merits).any()
        else 0.0,
        "augment": bool(section["augment"]),
        "tune_crystal_system_before": round(float(np.mean(cs(before) == cs(y))), 4),
        "tune_crystal_system_after": round(float(np.mean(cs(after) == cs(y))), 4),
        "tune_space_group_before": round(float(np.mean(before == y)), 4),
        "tune_space_group_after": round(float(np.mean(after == y)), 4),
        "calibrate": bool(section["calibrate"]),
    }
    if calibration is not None:
        report.update(calibration)
    return out, report


def _calibrate_stacker(stacked, prefix, config, *, cache, n_jobs, verbose):
    """Fit a fitted stacker's temperatures on the ``[indexing] n_calibrate``
    tuning patterns per draw after its own (``add_indexing``); the report's
    entries: their number, the prior, the temperatures and the (weighted)
    space-group log-loss before and after."""
    from ..datasets import space_group_sample_weights
    from ..estimators._core import temper_coarse

    section = config["indexing"]
    start, n = int(section["n_tune"]), int(section["n_calibrate"])
    X, y = _stacker_patterns(
        config,
        rows=slice(start, start + n),
        seed=int(section["augment_seed"]) + 1,
        cache=cache,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    Xt = prefix.transform(X)
    merits = stacked.merits(Xt)
    prior = section["calibrate_prior"]
    weight = None if prior == "none" else space_group_sample_weights(y, prior)
    # the stacked probabilities once: for the fit and the report
    proba = stacked._stacked(np.asarray(stacked.estimator_.predict_proba(Xt)), merits)
    stacked._fit_temperatures(proba, y, weight)
    before = _weighted_log_loss(proba, stacked.classes_, y, weight)
    after = _weighted_log_loss(
        temper_coarse(
            proba,
            stacked._membership,
            stacked.system_temperature_,
            stacked.group_temperature_,
        ),
        stacked.classes_,
        y,
        weight,
    )
    return {
        "n_calibrate": int(len(y)),
        "calibrate_prior": prior,
        "system_temperature": round(float(stacked.system_temperature_), 4),
        "group_temperature": round(float(stacked.group_temperature_), 4),
        "calibrate_log_loss_before": round(before, 4),
        "calibrate_log_loss_after": round(after, 4),
    }


def _weighted_log_loss(proba, classes, y, weight=None):
    """Mean (weighted) log-loss of the labels ``y`` among ``classes``; labels
    outside them are left out."""
    from ..estimators._mixins import _known_labels

    idx, known = _known_labels(np.asarray(classes), np.asarray(y))
    w = np.ones(len(y)) if weight is None else np.asarray(weight, float)
    p = np.asarray(proba, float)[np.flatnonzero(known), idx[known]]
    return float(-np.sum(w[known] * np.log(np.maximum(p, 1e-12))) / w[known].sum())


def _fit_pipeline(pipe, X, y, n_jobs=None, block=1024):
    """``pipe.fit(X, y)``, the preprocessing run over blocks of rows in threads.

    The preprocessing steps learn nothing from the patterns (each pattern is
    transformed alone), so they are fitted on two rows and applied to blocks
    of ``block`` rows in ``n_jobs`` threads (numpy releases the GIL): the same
    numbers as one pass, several times faster on 10^5 patterns, whose
    preprocessing would otherwise keep a GPU waiting for a minute. Other
    steps, or small inputs: ``pipe.fit`` as it is.
    """
    from joblib import Parallel, delayed

    from ..preprocessing import PatternResampler
    from ..preprocessing._base import PatternwiseTransformer

    pre = pipe[:-1]
    stateless = all(
        step in (None, "passthrough")
        or isinstance(step, (PatternwiseTransformer, PatternResampler))
        for _, step in pre.steps
    )
    if not stateless or not isinstance(X, np.ndarray) or len(X) <= 2 * block:
        return pipe.fit(X, y)
    pre.fit(X[:2], y[:2])
    parts = Parallel(n_jobs=n_jobs or 1, prefer="threads")(
        delayed(pre.transform)(X[i : i + block]) for i in range(0, len(X), block)
    )
    pipe.steps[-1][1].fit(np.concatenate(parts), y)
    return pipe


def _start_prefetch(config, network, prefetch, cache, n_jobs):
    """Start :func:`_prefetch` in a thread where ``prefetch`` asks for it;
    returns a function that waits for it and gives its report (a failure is
    reported, and the steps after the network do the work as usual), or
    None."""
    import threading
    import warnings

    from ..estimators._device import _resolve_device

    if prefetch is False or cache is None or "match" not in config:
        return None
    if prefetch == "auto" and _resolve_device(network.device).type != "cuda":
        return None  # on the CPU the training needs the cores
    out = {}

    def run():
        try:
            out.update(_prefetch(config, cache=cache, n_jobs=n_jobs))
        except Exception as exc:  # the steps after the network do it anyway
            out["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=run, name="skxrd-prefetch", daemon=True)
    thread.start()

    def wait():
        thread.join()
        if "error" in out:
            warnings.warn(
                f"simulating and indexing ahead of the network failed "
                f"({out['error']}); the steps after it do it themselves",
                RuntimeWarning,
                # the caller of train_from_config, also through skxrd train
                stacklevel=caller_stacklevel(),
            )
        return out

    return wait


def train_from_config(
    config,
    *,
    cache=None,
    n_jobs=None,
    num_threads=None,
    warm_start=None,
    device=None,
    checkpoint_dir=None,
    prefetch="auto",
    verbose=1,
):
    """Generate the synthetic data a config describes and train its pipeline.

    Random crystals over the configured space groups are simulated with the
    configured :class:`~skxrd.simulation.PowderSimulator` (cached on disk with
    ``cache``), the pipeline of :func:`build_pipeline` is fitted, and when the
    config has a ``[test]`` section a held-out draw (another seed) is scored.
    A structure-type config trains a
    :class:`~skxrd.estimators.UnionClassifier` on compounds of the library's
    types; a tenth of the compounds (with all their variants) is held out to
    fit its temperature (``calibrate_temperature``), and with a ``[symmetry]``
    section its types are then weighed by a space-group model
    (:func:`add_symmetry`; ``skxrd train`` stores that as a view of two model
    files).

    Parameters
    ----------
    config : str, path-like or dict
        A TOML file or dict (see :func:`load_config`).
    cache : str or path-like, optional
        Folder for joblib's cache of the generated datasets.
    n_jobs : int, optional
        Workers for generation and simulation, and threads for the
        preprocessing of the training patterns (in blocks of rows).
    num_threads : int, optional
        Torch threads for training.
    warm_start : str, path-like or PatternPipeline, optional
        A model of this config trained before (a file of
        :func:`~skxrd.pretrained.save_model`, such as a shipped model, or a
        fitted pipeline): training continues from its weights for another
        ``max_epochs`` epochs, with a fresh learning-rate cycle (a warm
        restart), instead of starting from random weights. The way to resume a
        run over several sittings (``skxrd train CONFIG --resume MODEL``): the
        report's ``total_epochs`` counts the epochs of all of them.
    device : str, optional
        Where to train (``"cpu"``, ``"cuda"``...); by default the classifier's
        ``device`` of the config.
    checkpoint_dir : str or path-like, optional
        Folder for the network's training state, written after every epoch
        (the classifier's ``checkpoint_dir``). Training the same config again
        with it (``skxrd train CONFIG --checkpoint-dir DIR``, best with the
        same ``cache``) resumes an interrupted run at its last finished epoch
        and ends with the network the whole run gives; once the network is
        finished, a rerun goes straight to the steps after it (search-match,
        indexing, test). Device, threads and verbosity may differ between the
        sittings (a run stopped on a GPU can end on a CPU). Not for a
        structure-type union (many small networks). Created, and checked to
        take files, before the data are made: a ValueError names it, and
        says when the ``[classifier]`` has no integer ``random_state`` (each
        sitting would draw another seed: a run of its own, never resumed).
    prefetch : {"auto", True, False}, default="auto"
        With a ``[match]`` section and a ``cache``: simulate, and index, the
        patterns that the steps after the network read (the search-match's
        references and tuning draws; with ``[indexing]``, the stacker's and
        its calibration's tuning patterns and the ``[test]`` draw, indexed)
        on the CPU cores while the network trains, instead of after it. They
        do not depend on the network, and indexing them (about half a
        CPU-second a pattern) is most of those steps. "auto": when the
        network trains on a GPU, whose training leaves the CPU cores free.
        The report's ``prefetch`` gives the patterns and the seconds.
    verbose : int, default=1
        0: silent; 1: progress bars and the table of the epochs.

    Returns
    -------
    pipeline : PatternPipeline
        The fitted pipeline.
    report : dict
        The config, the data sizes, the training time and, with a ``[test]``
        section, the held-out accuracies (``top1``, ``top2``, ``top3``,
        ``top5`` where there are as many classes) and the majority-class
        baseline; for a union, ``n_calibration`` and ``temperature``; with a
        ``[match]`` section, ``match``: the report of
        :func:`add_reference_match`, which puts the search-match in front of
        the trained network before the held-out draw is scored; with an
        ``[indexing]`` section, ``indexing``: the report of
        :func:`add_indexing`, done after the search-match.

    Examples
    --------
    >>> from skxrd.pretrained import train_from_config
    >>> cfg = {"target": "crystal_system",
    ...        "data": {"n_crystals": 60, "random_state": 0},
    ...        "test": {"n_crystals": 20, "random_state": 1},
    ...        "simulator": {"two_theta_range": [10.0, 60.0],
    ...                      "two_theta_step": 0.05},
    ...        "classifier": {"type": "CNNClassifier", "channels": [4],
    ...                       "max_epochs": 2, "random_state": 0}}
    >>> pipe, report = train_from_config(cfg, verbose=0)
    >>> report["n_train"], report["test"]["n"], len(pipe.classes_) <= 7
    (60, 20, True)
    """
    from ..utils._validation import check_int
    from ._evaluate import _top_k_scores

    config = load_config(config)
    verbose = check_int(verbose, "verbose", minimum=0)
    if not any(prefetch is v for v in (True, False)) and prefetch != "auto":
        raise ValueError(f"prefetch must be 'auto', True or False, got {prefetch!r}")
    if checkpoint_dir is not None and config["classifier"]["type"] == "UnionClassifier":
        raise ValueError(
            "checkpoint_dir resumes one network; a UnionClassifier trains many "
            "small ones (one per few structure types)"
        )
    if checkpoint_dir is not None:
        # before the data, not when the network's fit starts (minutes to hours)
        from ..estimators._resume import check_dir

        if not isinstance(checkpoint_dir, str | os.PathLike):
            raise ValueError(
                f"checkpoint_dir must be None or a path, got {checkpoint_dir!r}"
            )
        check_dir(checkpoint_dir)
        _check_seeded(config)
    _check_training_device(config, device)
    if warm_start is not None and config["classifier"]["type"] == "UnionClassifier":
        raise ValueError(
            "a UnionClassifier is not warm-started: it grows by add_classes "
            "(new members for new types), not by more epochs"
        )
    if warm_start is not None:
        from ._pipeline import PatternPipeline
        from ._store import load_model

        # read once, and checked before the data: a model of another grid or
        # target would fail (or, same length, train on) only after them
        warm_source = None  # a pipeline: its repr, as before
        if not isinstance(warm_start, PatternPipeline):
            warm_source = warm_start
            warm_start = load_model(warm_start, device="cpu")
        what = "warm_start" + (f" {warm_source}" if warm_source is not None else "")
        # a warm start may fine-tune on other inputs (said); --resume may not
        check_warm_start(config, warm_start, what, same_inputs=False)
    t0 = time.perf_counter()
    X, y, sg, groups = _dataset(
        config, "data", cache, n_jobs, verbose > 0, with_groups=True
    )
    t_data = time.perf_counter() - t0
    pipe = build_pipeline(config)
    coarse = None
    if config["train_target"] != config["target"]:
        # the network is trained bare (a wrapper would clone away a warm start)
        # and wrapped once fitted
        coarse = pipe.steps[-1][1]
        pipe.steps[-1] = (pipe.steps[-1][0], coarse.estimator)
    clf = pipe.steps[-1][1]
    union = config["classifier"]["type"] == "UnionClassifier"
    # a union's members train: the training options go to its member template
    network = clf.estimator if union else clf
    if device is not None:
        network.set_params(device=device)
    previous_epochs = 0
    if warm_start is not None:
        if union:
            raise ValueError(
                "a UnionClassifier is not warm-started: it grows by add_classes "
                "(new members for new types), not by more epochs"
            )
        previous_epochs = _warm_start(clf, warm_start, y, source=warm_source)
    if checkpoint_dir is not None:
        network.set_params(checkpoint_dir=checkpoint_dir)
    user_verbose = network.verbose
    network.set_params(
        num_threads=num_threads, verbose=max(network.verbose, min(verbose, 1))
    )
    calibration = None
    if union:
        # a tenth of the compounds (all their variants) held out for the
        # union's temperature
        from sklearn.model_selection import GroupShuffleSplit

        fit_idx, calibration = next(
            GroupShuffleSplit(1, test_size=0.1, random_state=0).split(X, y, groups)
        )
        X_fit, y_fit = X[fit_idx], y[fit_idx]
        union_verbose = clf.verbose
        clf.set_params(verbose=max(clf.verbose, min(verbose, 1)))
    else:
        X_fit, y_fit = X, y
    # (a thread: if training fails or is interrupted, it is left to end
    # with the process rather than waited for)
    ahead = _start_prefetch(config, network, prefetch, cache, n_jobs)
    t1 = time.perf_counter()
    _fit_pipeline(pipe, X_fit, y_fit, n_jobs)
    if calibration is not None:
        clf.calibrate_temperature(pipe[:-1].transform(X[calibration]), y[calibration])
    t_fit = time.perf_counter() - t1
    if checkpoint_dir is not None:
        from ..estimators._resume import finished, finished_epochs

        if not finished(clf.net_):
            # skorch ended fit quietly on Ctrl-C: stop here too, rather than
            # go on to a model of fewer epochs
            raise KeyboardInterrupt(
                f"training stopped after epoch {finished_epochs(clf.net_)} of "
                f"{clf.max_epochs}; train again with checkpoint_dir "
                f"{os.fspath(checkpoint_dir)} to resume"
            )
    if union:
        clf.set_params(verbose=union_verbose)
        for member in clf.estimators_:
            member.set_params(num_threads=None, verbose=user_verbose)
        n_epochs = max(int(m.n_epochs_) for m in clf.estimators_)
    else:
        n_epochs = int(clf.n_epochs_)
    # the model file keeps no local folder
    network.set_params(
        num_threads=None, verbose=user_verbose, warm_start=False, checkpoint_dir=None
    )
    if coarse is not None:
        from ..estimators import CoarseLabelClassifier

        pipe.steps[-1] = (
            pipe.steps[-1][0],
            CoarseLabelClassifier.from_fitted(clf, coarse.target),
        )
    prefetched = ahead() if ahead is not None else None
    match_report = indexing_report = None
    if "match" in config:
        pipe, match_report = add_reference_match(
            pipe, config, cache=cache, n_jobs=n_jobs, verbose=verbose > 0
        )
    if "indexing" in config:
        pipe, indexing_report = add_indexing(
            pipe, config, cache=cache, n_jobs=n_jobs, verbose=verbose > 0
        )
    report = {
        "name": config["name"],
        "target": config["target"],
        "n_train": int(len(y)),
        "n_classes": int(len(pipe.classes_)),
        "n_epochs": n_epochs,
        "total_epochs": int(previous_epochs + n_epochs),
        "data_seconds": round(t_data, 1),
        "fit_seconds": round(t_fit, 1),
        "config": {k: v for k, v in config.items()},
    }
    if prefetched is not None:
        report["prefetch"] = prefetched
    if match_report is not None:
        report["match"] = match_report
    if indexing_report is not None:
        report["indexing"] = indexing_report
    if calibration is not None:
        report["n_train"] = int(len(fit_idx))
        report["n_calibration"] = int(len(calibration))
        report["temperature"] = float(clf.temperature_)
    if "test" in config:
        Xt, _, sgt = _dataset(config, "test", cache, n_jobs, verbose > 0)
        yt = _target_labels(config, sgt)
        labels, _ = pipe.predict_top_k(Xt, k=5)
        report["test"] = _top_k_scores(yt, labels)
        train_labels = _target_labels(config, sg)
        values, counts = np.unique(train_labels, return_counts=True)
        report["test"]["majority_baseline"] = float(
            np.mean(yt == values[counts.argmax()])
        )
    if "symmetry" in config:  # after the test: its figure is the union's own
        pipe, report["symmetry"] = add_symmetry(
            pipe, config, cache=cache, n_jobs=n_jobs, verbose=verbose > 0
        )
    return pipe, report
