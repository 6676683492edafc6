"""Pretrained models, model files and training from a config.

- :func:`load_pretrained` returns a shipped model (crystal system, Bravais
  lattice, space group or structure type), a fitted
  :class:`PatternPipeline` that takes measured :class:`~skxrd.io.Pattern`
  objects of any grid and wavelength (resampled through Q) or arrays on its own
  grid; :func:`list_pretrained` lists them with their model cards.
- :func:`save_model` and :func:`load_model` write and read model files
  (parameters and network weights; loading runs no pickled code);
  :func:`save_symmetry_view` pairs a model file whose classes have space
  groups (structure types) with a space-group model that weighs them.
- :func:`evaluate_model` scores a model on labelled patterns (top-k, per
  class; a space-group model also on crystal-system labels, a crystal-system
  or Bravais-lattice model also on space-group numbers).
- :func:`train_from_config` generates synthetic data and trains the pipeline a
  TOML config describes (``skxrd train``); the shipped models were made so,
  from the configs in ``skxrd/pretrained/configs/``.
- :func:`add_reference_match` puts a search-match against simulated reference
  structures (the AMCSD minerals) in front of a trained network: the shipped
  models answer a pattern that closely matches a known mineral with that
  mineral's symmetry, and the others with the network.
- :func:`add_indexing` weighs a trained model's crystal systems against
  powder indexing (:mod:`skxrd.indexing`), with a stacker fitted on simulated
  patterns.

The weights are in the package: nothing is downloaded.

Examples
--------
>>> from skxrd.pretrained import list_pretrained
>>> sorted(list_pretrained())
['bravais-lattice', 'crystal-system', 'space-group', 'structure-type']
"""

from __future__ import annotations

from importlib import resources

from ..utils._lazy import lazy_exports
from ._store import load_model, save_model, save_symmetry_view

# imported when first used: the pipeline class and training import
# scikit-learn, which a prediction from the command line does not need
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "evaluate_model": "._evaluate",
        "PatternPipeline": "._pipeline",
        "add_indexing": "._train",
        "add_reference_match": "._train",
        "add_symmetry": "._train",
        "build_pipeline": "._train",
        "load_config": "._train",
        "prototype_split": "._train",
        "subset_collection": "._train",
        "train_from_config": "._train",
    },
)

__all__ = [
    "PatternPipeline",
    "add_indexing",
    "add_reference_match",
    "add_symmetry",
    "build_pipeline",
    "evaluate_model",
    "list_pretrained",
    "load_config",
    "load_model",
    "load_pretrained",
    "model_card",
    "prototype_split",
    "save_model",
    "save_symmetry_view",
    "subset_collection",
    "train_from_config",
]

_MODELS = {
    "bravais-lattice": (
        "Bravais lattice (14 classes: aP, mP, mC, oP, oC, oF, oI, tP, tI, hR, hP, "
        "cP, cF, cI) from a powder pattern."
    ),
    "crystal-system": "Crystal system (7 classes) from a powder pattern.",
    "space-group": "Space group (230 classes, numbers 1-230) from a powder pattern.",
    "structure-type": (
        "Structure type (the 170 types of skxrd.datasets.STRUCTURE_TYPES) from a "
        "powder pattern; add_classes learns your own."
    ),
}


def _check_name(name):
    if not isinstance(name, str):
        # a list would fail the lookup as "unhashable type", naming nothing
        raise TypeError(
            f"the pretrained model name must be a str, got {type(name).__name__}"
            f" {name!r:.60}; available: {sorted(_MODELS)}"
        )
    if name not in _MODELS:
        raise ValueError(
            f"unknown pretrained model {name!r}; available: {sorted(_MODELS)}"
        )
    return name


def list_pretrained() -> dict:
    """Names and one-line descriptions of the shipped models.

    Returns
    -------
    dict
        ``{name: description}``.

    Examples
    --------
    >>> from skxrd.pretrained import list_pretrained
    >>> list_pretrained()["crystal-system"]
    'Crystal system (7 classes) from a powder pattern.'
    """
    return dict(_MODELS)


def _package_file(*parts):
    return resources.files(__name__).joinpath(*parts)


def model_card(name) -> str:
    """The model card of a shipped model (Markdown).

    It says how the model was trained, on what data and settings, and how
    accurate it is on held-out synthetic patterns and on measured patterns,
    with the commands that reproduce each figure.

    Parameters
    ----------
    name : str
        A name from :func:`list_pretrained`.

    Returns
    -------
    str

    Examples
    --------
    >>> from skxrd.pretrained import model_card
    >>> model_card("crystal-system").splitlines()[0]
    '# Model card: crystal-system'
    """
    return _package_file("cards", f"{_check_name(name)}.md").read_text(encoding="utf-8")


def load_pretrained(name, *, device="auto"):
    """A shipped, fitted model: a :class:`PatternPipeline` ready to predict.

    The pipeline resamples its input onto the model's 2θ grid through Q
    (``predict`` takes a list of :class:`~skxrd.io.Pattern` objects of any grid
    and wavelength, or an array on the model's grid), subtracts the background,
    normalizes, and classifies: a search-match against the simulated AMCSD
    minerals answers where a mineral is close, the network elsewhere
    (:class:`~skxrd.estimators.MatchFirstClassifier`, the last step of
    ``"space-group"``, inside the
    :class:`~skxrd.estimators.CoarseLabelClassifier` of ``"crystal-system"``).
    ``classes_`` are crystal-system names for ``"crystal-system"``, Bravais
    lattice symbols (``"aP"`` ... ``"cF"``) for ``"bravais-lattice"`` (the same
    network and references, probabilities summed per Bravais lattice) and
    space-group numbers for ``"space-group"``. ``"structure-type"`` ends in a
    :class:`~skxrd.estimators.SymmetryWeightedClassifier`: a
    :class:`~skxrd.estimators.UnionClassifier` whose ``classes_`` are the names
    of :data:`~skxrd.datasets.STRUCTURE_TYPES`, each type weighed by the
    space-group model's probability of its space group; its ``add_classes``
    learns more types without changing the members it has.

    Parameters
    ----------
    name : {"crystal-system", "bravais-lattice", "space-group", "structure-type"}
        The model (see :func:`list_pretrained` and :func:`model_card`).
    device : str, default="auto"
        ``"auto"`` (the GPU when CUDA is available), ``"cpu"``, ``"cuda"``...

    Returns
    -------
    PatternPipeline
        Fitted. ``metadata_`` holds the training report (config, data sizes,
        held-out accuracy).

    Examples
    --------
    >>> from skxrd.datasets import load_example_crystal
    >>> from skxrd.io import Pattern
    >>> from skxrd.pretrained import load_pretrained
    >>> from skxrd.simulation import PowderSimulator
    >>> model = load_pretrained("crystal-system")
    >>> model.classes_.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['cubic', 'hexagonal', 'monoclinic', 'orthorhombic', 'tetragonal',
     'triclinic', 'trigonal']
    >>> sim = PowderSimulator(radiation="xray", wavelength=0.7293,
    ...                       two_theta_range=(2, 40))
    >>> x = sim.transform([load_example_crystal("NaCl")])[0]
    >>> labels, proba = model.predict_top_k(
    ...     [Pattern(sim.two_theta, x, wavelength=0.7293)], k=3)
    >>> labels.shape
    (1, 3)
    """
    with resources.as_file(_weights_file(name)) as file:
        return load_model(file, device=device)


def _weights_file(name):
    """The model file (or view) of a shipped model, as a package resource."""
    name = _check_name(name)
    path = _package_file("weights", f"{name}.pt")
    if not path.is_file():
        # a view of other shipped files (crystal-system: space-group's network
        # and references at crystal-system labels, save_coarse_view;
        # structure-type: the union weighed by space-group, save_symmetry_view)
        path = _package_file("weights", f"{name}.json")
    return path
