"""Weigh the structure-type union by the space-group model; write the view.

The shipped ``structure-type`` model is a view (``save_symmetry_view``) of two
model files: the structure-type union (``structure-type-union.pt``, made by
``skxrd train skxrd/pretrained/configs/structure-type.toml``) and the shipped
``space-group.pt``. Each type's probability is multiplied by the space-group
model's probability of the type's space group over that group's share among
the types, to a power (``SymmetryWeightedClassifier``). The power is fitted
here by the log-loss of a fresh draw of compounds of the library's types:
the config's ``[test]`` section with another ``random_state`` (default 2;
the card scores the ``[test]`` draw itself, random_state 1), by
``skxrd.pretrained.add_symmetry``, which ``skxrd train`` runs for a config
with ``[symmetry]``; this script does it for a union trained before. No
measured pattern is used::

    python tools/structure_type_symmetry.py --cache CACHE
        [--weights-dir skxrd/pretrained/weights] [--seed 2]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights-dir", default=str(ROOT / "skxrd" / "pretrained" / "weights")
    )
    parser.add_argument("--base", default="structure-type-union.pt")
    parser.add_argument("--symmetry", default="space-group.pt")
    parser.add_argument("--view", default="structure-type.json")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--cache", default=None, help="make_pattern_dataset cache")
    args = parser.parse_args(argv)

    from skxrd.pretrained import add_symmetry, load_model, save_symmetry_view

    folder = Path(args.weights_dir)
    union = load_model(folder / args.base, device="cpu")
    # the union's own config, with the [symmetry] section skxrd train reads
    config = {
        **union.metadata_["config"],
        "symmetry": {
            "model": str(folder / args.symmetry),
            "calibration_seed": args.seed,
        },
    }
    weighed, report = add_symmetry(union, config, cache=args.cache, n_jobs=2)
    report["symmetry_model"] = args.symmetry
    weight = weighed.steps[-1][1].weight_
    view = save_symmetry_view(
        folder / args.view,
        folder / args.base,
        args.symmetry,
        weight=weight,
        metadata={"symmetry": report},
        overwrite=True,
    )
    print(json.dumps({"view": str(view), **report}, indent=1))


if __name__ == "__main__":
    main()
