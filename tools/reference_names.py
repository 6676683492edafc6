"""Rewrite the reference names in search-match model files from their source.

``skxrd predict`` prints the closest reference of a search-match model by the
name that :func:`~skxrd.pretrained.add_reference_match` gave it ("Galena, PbS
(amcsd-0000003)", "LaB6 (amcsd-0014189)"). A model file written before a
change of those names gets the new ones here without a new search-match or
calibration: the references, their order and every number stay as they are,
and the script checks that the file answers exactly as before.

Usage (the shipped crystal-system model is a view of the space-group file, so
it gets the names with it)::

    python tools/reference_names.py skxrd/pretrained/weights/space-group.pt
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np


def reference_id(name: str) -> str:
    """The structure id in a reference name: "Galena (amcsd-0000003)" and
    "amcsd-0000003" both give "amcsd-0000003"."""
    if name.endswith(")") and " (" in name:
        return name.rsplit(" (", 1)[1][:-1]
    return name


def rename(path, check_crystals=None) -> int:
    """Rewrite the names of the file at ``path``; returns how many changed.

    With ``check_crystals``, their patterns on the model's own grid must get
    the same probabilities from the rewritten file as before.
    """
    from skxrd.estimators._match import search_match_of
    from skxrd.pretrained import load_model, save_model
    from skxrd.pretrained._train import _check_match, _reference_collection
    from skxrd.simulation import PowderSimulator

    if str(path).endswith(".json"):
        raise ValueError(f"{path} is a view of another model file: rename that one")
    model = load_model(path, device="cpu")
    hybrid = search_match_of(model)
    if hybrid is None or hybrid.reference_names_ is None:
        raise ValueError(f"{path}: not a search-match model with reference names")
    config = model.metadata_["config"]
    match = _check_match(config, str(path))
    _, names = _reference_collection(match, config)
    by_id = {reference_id(n): n for n in names}
    old = [str(n) for n in hybrid.reference_names_]
    missing = [n for n in old if reference_id(n) not in by_id]
    if missing:
        raise ValueError(
            f"{path}: {len(missing)} references are not in the source "
            f"{match['source']!r} (first: {missing[0]!r})"
        )
    new = [by_id[reference_id(n)] for n in old]
    before = None
    if check_crystals is not None:
        check_patterns = PowderSimulator(**config["simulator"]).transform(
            check_crystals
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            before = model.predict_proba(check_patterns)
    hybrid.reference_names_ = np.asarray(new, dtype=str)
    save_model(model, path, metadata=model.metadata_, overwrite=True)
    if before is not None:
        again = load_model(path, device="cpu")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            after = again.predict_proba(check_patterns)
        if not np.array_equal(before, after):
            raise RuntimeError(f"{path}: the rewritten file answers differently")
    return sum(a != b for a, b in zip(old, new))


def main(argv=None):
    from skxrd.datasets import EXAMPLE_CRYSTALS, load_example_crystal

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="model files, rewritten in place")
    args = parser.parse_args(argv)
    crystals = [load_example_crystal(n) for n in EXAMPLE_CRYSTALS]
    for path in args.files:
        changed = rename(path, crystals)
        print(f"{path}: {changed} reference names rewritten, answers unchanged")


if __name__ == "__main__":
    main()
