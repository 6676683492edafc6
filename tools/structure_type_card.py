"""Score the shipped structure-type model and write its card.

Measured patterns whose structure type is known: the SSRL synchrotron powders
of compounds in skxrd's library (rock salt NaCl and KCl, diamond C, wurtzite
ZnO, corundum Fe2O3, calcite CaCO3, alpha-quartz SiO2, bixbyite In2O3, CaB6-type
LaB6) and the Pm-3m thin films of Oviedo et al., which are halide perovskites
(full scans only). The SSRL powders of compounds outside the library (hydrates,
bicarbonates, a tartrate, a hybrid halide) show what the model answers for a
type it does not know. Held-out compounds: the config's ``[test]`` draw (other
compounds of the same types, measured-like settings). Called by
``pretrained_cards.py`` for the ``structure-type`` model; on its own::

    python tools/structure_type_card.py [--measured ../shared/data/measured]
        [--weights skxrd/pretrained/weights/structure-type.json] [--cache CACHE]

The shipped model is a view (``tools/structure_type_symmetry.py``): the
union of ``structure-type-union.pt`` weighed by the shipped space-group model.
The card scores it and, beside it, the union alone.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

# SSRL powders (ssrl_labels.csv "Material") of compounds whose structure type
# is in skxrd's library, by their "Name"
SSRL_TYPES = {
    "NaCl": "rocksalt",
    "KCl": "rocksalt",
    "C": "diamond",
    "ZnO": "wurtzite",
    "Fe2O3": "corundum",
    "CaCO3": "calcite",
    "SiO2": "alpha_quartz",
    "In2O3": "bixbyite",
    "LaB6": "cab6",
}


def measured_sets(measured: Path) -> dict:
    """``{name: (patterns, types or None, names)}`` of the measured sets."""
    from pretrained_cards import film_set, ssrl_set

    rows, patterns = ssrl_set(measured)
    known = [i for i, r in enumerate(rows) if r["Name"] in SSRL_TYPES]
    other = [i for i, r in enumerate(rows) if r["Name"] not in SSRL_TYPES]

    def names(idx):
        return [f"{rows[i]['Name']} ({rows[i]['Material']})" for i in idx]

    sets = {
        "ssrl": (
            [patterns[i] for i in known],
            np.array([SSRL_TYPES[rows[i]["Name"]] for i in known]),
            names(known),
        ),
        "ssrl_other": ([patterns[i] for i in other], None, names(other)),
    }
    rows, patterns = film_set(measured)
    cubic = [
        i for i, r in enumerate(rows) if r["space_group_number_interpreted"] == "221"
    ]
    sets["films"] = (
        [patterns[i] for i in cubic],
        np.array(["perovskite"] * len(cubic)),
        [Path(rows[i]["path"]).name for i in cubic],
    )
    return sets


def score(model, X, y):
    """Top-k, calibration and coverage of the model on ``(X, y)``."""
    from pretrained_cards import _top_label_ece

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # range-not-covered notes
        proba = model.predict_proba(X)
    classes = np.asarray(model.classes_)
    order = np.argsort(-proba, axis=1)
    top = classes[order[:, :5]]
    confidence = proba[np.arange(len(proba)), order[:, 0]]
    out = {
        "n": int(len(top)),
        "answers": top[:, 0].tolist(),
        "confidence": confidence.round(4).tolist(),
    }
    if y is None:
        return out
    y = np.asarray(y)
    right = top[:, 0] == y
    out["top1"] = float(right.mean())
    out["top5"] = float(np.mean([t in row for t, row in zip(y, top)]))
    out["ece"] = _top_label_ece(right, confidence)
    out["rank"] = [
        int(np.flatnonzero(classes[o] == t)[0]) + 1 if t in classes else None
        for o, t in zip(order, y)
    ]
    keep = np.argsort(-confidence, kind="stable")
    for frac in (0.8, 0.5):
        k = max(1, int(round(frac * len(y))))
        out[f"top1_at_{int(frac * 100)}"] = float(right[keep[:k]].mean())
    return out


def held_out(config, cache):
    """The config's ``[test]`` draw: other compounds of the same types."""
    from skxrd.pretrained._train import _dataset

    X, _, y = _dataset(config, "test", cache, 2, False)
    return X, np.asarray(y)


# skxrd's example crystals (load_example_crystal) and their structure types
EXAMPLE_TYPES = {
    "Si": "diamond",
    "Cu": "fcc",
    "Fe": "bcc",
    "Mg": "hcp",
    "NaCl": "rocksalt",
    "CsCl": "cscl",
    "ZnS": "sphalerite",
    "ZnO": "wurtzite",
    "CaF2": "fluorite",
    "TiO2-rutile": "rutile",
    "Al2O3": "corundum",
    "SrTiO3": "perovskite",
    "LiCoO2": "licoo2",
}


def examples(config):
    """skxrd's example crystals (real cells), simulated clean on the model's grid."""
    from skxrd.datasets import load_example_crystal
    from skxrd.pretrained._train import _simulator

    X = _simulator(config).transform([load_example_crystal(n) for n in EXAMPLE_TYPES])
    return X, np.array(list(EXAMPLE_TYPES.values()))


def prototypes(config):
    """The library's prototypes themselves, simulated clean on the model's grid
    (no substitution, strain or instrument variation)."""
    from skxrd.datasets import STRUCTURE_TYPES, load_structure_type
    from skxrd.pretrained._train import _simulator

    names = list(STRUCTURE_TYPES)
    X = _simulator(config).transform([load_structure_type(n).crystal() for n in names])
    return X, np.array(names)


def _f(v):
    return "–" if v is None else f"{v:.3f}"


def card(meta, results, names, weights_mb) -> str:
    """The card's Markdown."""
    cfg = meta["config"]
    sym = meta["symmetry"]
    union, member = dict(cfg["classifier"]), dict(cfg["classifier"]["member"])
    data, sim = cfg["data"], cfg["simulator"]
    n_types = meta["n_classes"]
    cpu_hours = meta["fit_seconds"] * 2 / 3600
    member_text = ", ".join(
        f"`{k}={v}`" for k, v in member.items() if k not in ("type", "random_state")
    )
    lines = [
        "# Model card: structure-type",
        "",
        cfg["description"],
        "",
        'Load it with `skxrd.load_pretrained("structure-type")` or use it with '
        "`skxrd predict FILE --model structure-type`. It returns a fitted "
        "pipeline: resampling through Q onto the model grid (any wavelength and "
        "grid in), SNIP background subtraction, max normalization on a "
        "square-root scale, and a `UnionClassifier`: "
        f"{meta['n_members']} small 1D ResNets, each learning about "
        f"{union['max_classes_per_member']} structure types with similar patterns "
        'plus a "none of mine" class, combined by a learned router. `classes_` '
        "are the names of `skxrd.datasets.STRUCTURE_TYPES` "
        "(`skxrd.datasets.load_structure_type(name)` gives the prototype crystal).",
        "",
        "**Weighed by the space-group model.** Each structure type has one space "
        "group. The union's probability of each type is multiplied by the "
        "shipped space-group model's probability of the type's space group, "
        "over that group's share among the types, to the power "
        f"{sym['symmetry_weight']:.3f}, and renormalized "
        "(`SymmetryWeightedClassifier`, the last step; the union is its "
        "`estimator_`). The space-group model (network, AMCSD search-match, "
        "powder indexing) was trained on far more compounds than the union; a "
        "pattern whose symmetry it reads keeps the types of that symmetry. The "
        "power was fitted on "
        f"{sym['symmetry_n_calibration']:,} simulated patterns of other "
        "compounds of the library's types (the config's [test] section with "
        f"random_state {sym['symmetry_calibration_seed']}; "
        "`tools/structure_type_symmetry.py`), whose log-loss fell from "
        f"{sym['symmetry_log_loss_before']:.3f} to "
        f"{sym['symmetry_log_loss_after']:.3f} and top-1 rose from "
        f"{sym['symmetry_top1_before']:.3f} to {sym['symmetry_top1_after']:.3f}. "
        "The two model files are stored once each: the model is a view "
        "(`structure-type.json`, `skxrd.pretrained.save_symmetry_view`) of "
        "`structure-type-union.pt` and `space-group.pt`. It costs the "
        "space-group model's time per pattern (about half a second, most of "
        "it the indexing).",
        "",
        "**Your own types.** `add_classes` of the last step teaches the union new "
        "types (for example a laboratory's own phases) by training new members "
        "only, with their space groups (`space_groups={name: number}`); the "
        "shipped members stay bit for bit as they are. See the pretrained-models "
        "guide for the few lines it takes and how to save the grown model.",
        "",
        "## Answers",
        "",
        "- **Top-k with calibrated probabilities.** The union's probabilities are "
        f"tempered with T = {meta['temperature']:.3f}, fitted on "
        f"{meta['n_calibration']:,} patterns of a tenth of the training compounds "
        "that no member or router saw.",
        '- **"unknown".** `skxrd predict` answers "unknown" for inputs that are '
        "not powder patterns and, with `--min-confidence P`, when the top "
        "probability is below P. A compound whose type is not among the "
        f"{n_types} still gets the nearest type: see the rows of compounds outside "
        "the library below for how sure the model is then.",
        "",
        "## Training",
        "",
        f"- **Data:** {n_types} structure types × "
        f"{data['n_crystals'] // n_types} compounds (element substitutions of the "
        f"prototype, `make_structure_type_crystals`) × {data.get('n_variants', 1)} "
        "variants (strain, coordinate jitter): "
        f"{meta['n_train'] + meta['n_calibration']:,} "
        f"patterns, {meta['n_calibration']:,} of them held out for the temperature. "
        "Simulated with `PowderSimulator` (Cu Kα1 + Kα2, 2θ "
        f"{sim['two_theta_range'][0]:g}–{sim['two_theta_range'][1]:g}° in "
        f"{sim['two_theta_step']:g}° steps) with per-pattern instrument settings "
        "`MEASURED_LIKE` (peak widths, counting noise, backgrounds of measured "
        "laboratory patterns). No measured pattern and no licensed structure was "
        "used: the prototypes are skxrd's own library.",
        "- **Augmentation during training:** `sample_augmentation`.",
        f"- **Members:** `{member['type']}` with {member_text}; "
        f"`negatives_per_class={union['negatives_per_class']}`, "
        f"`holdout_per_class={union['holdout_per_class']}` (the router's "
        f"patterns); weights {weights_mb:.1f} MB (members' weights "
        f"{cfg.get('save', {}).get('weights_dtype', 'float32')}).",
        f"- **Hardware:** the CPU (2 cores, 2 torch threads; {cpu_hours:.1f} "
        "CPU-hours for the members, router and temperature), because no GPU was "
        "lent to this project when it was trained.",
        "- **Reproduce:** `skxrd train skxrd/pretrained/configs/structure-type.toml "
        "-o skxrd/pretrained/weights/structure-type.json --cache CACHE --n-jobs 2 "
        "--threads 2` (the union, `structure-type-union.pt`, then its weighing by "
        "the shipped space-group model, `[symmetry]`, and the view); the shipped "
        "files were made by training the union alone and then "
        "`python tools/structure_type_symmetry.py --cache CACHE`, the same "
        "weighing; this card: "
        "`python tools/structure_type_card.py --cache CACHE` (also run by "
        "`tools/pretrained_cards.py`). The union's held-out figure that `skxrd "
        "train` reported before its weights were stored in float16 is "
        f"{meta['test']['top1']:.3f}; the rows score the shipped files.",
        "",
        "## Accuracy",
        "",
        "The shipped model, and in brackets the union alone (without the "
        "space-group model's weighing):",
        "",
        "| data | n | top-1 | top-5 | ECE | most confident 80 % "
        "| most confident 50 % |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "held_out": "held-out compounds of the same types (simulated, measured-like)",
        "prototypes": "the library's prototypes themselves (simulated, no "
        "instrument variation)",
        "ssrl": "SSRL synchrotron powders of types in the library (λ ≈ 0.73 Å)",
        "films": "Pm-3m halide-perovskite thin films (lab, textured, Cu Kα assumed)",
    }
    for key, label in labels.items():
        r, u = results[key], results["union"][key]
        cells = " | ".join(
            f"{_f(r[k])} ({_f(u[k])})"
            for k in ("top1", "top5", "ece", "top1_at_80", "top1_at_50")
        )
        lines.append(f"| {label} | {r['n']} | {cells} |")
    lines += [
        "",
        f"Always answering one type would be right on 1/{n_types} of the held-out "
        "compounds. The thin films are strongly textured and hold organic "
        "cations (methylammonium, formamidinium); their cells (a ≈ 6.3 Å) are "
        "far larger than those of the training perovskites, whose elements are "
        "substituted within the oxide and chalcogenide families (a = 3.1–4.6 Å "
        "in 40 drawn compounds): no halide perovskite was trained on.",
        "",
        "### skxrd's example crystals (real cells, simulated without instrument "
        "variation)",
        "",
        "| crystal | structure type | answer | probability | the union alone |",
        "|---|---|---|---:|---|",
        *(
            f"| {name} | {truth} | {answer} | {p:.2f} | {alone} ({q:.2f}) |"
            for name, truth, answer, p, alone, q in zip(
                EXAMPLE_TYPES,
                EXAMPLE_TYPES.values(),
                results["examples"]["answers"],
                results["examples"]["confidence"],
                results["union"]["examples"]["answers"],
                results["union"]["examples"]["confidence"],
            )
        ),
        "",
        "The types of the face-centred cubic family that differ only by "
        "intensities (rock salt, fluorite, sphalerite, half-Heusler, "
        "antifluorite) are the model's main confusion.",
        "",
        "### The SSRL powders, one by one",
        "",
        "| powder | structure type | answer | probability | rank of the right type "
        "| the union alone: answer, rank |",
        "|---|---|---|---:|---:|---|",
    ]
    r, u = results["ssrl"], results["union"]["ssrl"]
    for name, truth, answer, p, rank, alone, alone_rank in zip(
        names["ssrl"],
        results["ssrl_truth"],
        r["answers"],
        r["confidence"],
        r["rank"],
        u["answers"],
        u["rank"],
    ):
        lines.append(
            f"| {name} | {truth} | {answer} | {p:.2f} | {rank} "
            f"| {alone}, {alone_rank} |"
        )
    o = results["ssrl_other"]
    lines += [
        "",
        "K⁺ and Cl⁻ have 18 electrons each and scatter X-rays almost alike, so "
        "the pattern of rock-salt KCl is that of a primitive cubic cell of half "
        "the edge (the alpha-Po type); the structure type is then a question of "
        "chemistry, not of the pattern.",
        "",
        "Compounds outside the library (no right answer exists):",
        "",
        "| powder | answer | probability |",
        "|---|---|---:|",
    ]
    for name, answer, p in zip(names["ssrl_other"], o["answers"], o["confidence"]):
        lines.append(f"| {name} | {answer} | {p:.2f} |")
    inside = np.asarray(r["confidence"])
    outside = np.asarray(o["confidence"])
    u_in = np.asarray(u["confidence"])
    u_out = np.asarray(results["union"]["ssrl_other"]["confidence"])
    lines += [
        "",
        f"Mean top probability: {inside.mean():.2f} on the powders of library "
        f"types, {outside.mean():.2f} on the others (the union alone: "
        f"{u_in.mean():.2f} and {u_out.mean():.2f}). The space-group model's "
        "weighing makes the answers surer, on compounds outside the library too: "
        "a confident answer is not proof that the type is in the library.",
        "",
        "## Sources and licences",
        "",
        "- Structure prototypes: skxrd's own library (`skxrd/datasets`), "
        "GPL-3.0-or-later like the package.",
        "- Measured data for evaluation only (never trained on): the SSRL "
        "synchrotron powders (MIT) and the thin films of Oviedo et al., npj "
        "Comput. Mater. 5, 60 (2019) (Apache-2.0); see "
        "`../shared/data/measured/*/LABELS.md`.",
        "",
    ]
    return "\n".join(lines)


def write_card(weights, measured, cards_dir, cache):
    """Score the model of ``weights`` and write ``cards_dir/structure-type.md``."""
    from skxrd.estimators import SymmetryWeightedClassifier
    from skxrd.pretrained import PatternPipeline, load_model
    from skxrd.pretrained._train import merits_memory

    model = load_model(weights, device="cpu")
    name, weighed = model.steps[-1]
    if not isinstance(weighed, SymmetryWeightedClassifier):
        raise SystemExit(
            f"{weights}: the card scores the union weighed by the space-group "
            "model, a view of tools/structure_type_symmetry.py; run that first"
        )
    # the space-group model's indexing merits, kept between runs
    weighed.symmetry_estimator_.set_params(n_jobs=2, memory=merits_memory(cache))
    alone = PatternPipeline(list(model.steps[:-1]) + [(name, weighed.estimator_)])
    meta = {**model.metadata_, "n_members": len(weighed.estimator_.estimators_)}
    sets = measured_sets(Path(measured).resolve())
    sets["held_out"] = (*held_out(meta["config"], cache), None)
    sets["prototypes"] = (*prototypes(meta["config"]), None)
    sets["examples"] = (*examples(meta["config"]), None)
    results, names = {"union": {}}, {}
    for key, (patterns, y, labels) in sets.items():
        results[key] = score(model, patterns, y)
        results["union"][key] = score(alone, patterns, y)
        names[key] = labels
    results["ssrl_truth"] = sets["ssrl"][1].tolist()
    # the view's union file (the space-group model's is shared, not counted)
    union_file = Path(weights).with_name(json.loads(Path(weights).read_text())["base"])
    text = card(meta, results, names, union_file.stat().st_size / 2**20)
    (Path(cards_dir) / "structure-type.md").write_text(text, encoding="utf-8")
    for r in [*results.values(), *results["union"].values()]:
        if isinstance(r, dict) and r.get("n", 0) > 20:  # per-pattern rows: SSRL only
            r.pop("answers"), r.pop("confidence"), r.pop("rank", None)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--measured", default=str(ROOT / ".." / "shared" / "data" / "measured")
    )
    parser.add_argument(
        "--weights",
        default=str(ROOT / "skxrd" / "pretrained" / "weights" / "structure-type.json"),
    )
    parser.add_argument(
        "--cards-dir", default=str(ROOT / "skxrd" / "pretrained" / "cards")
    )
    parser.add_argument("--cache", default=None, help="make_pattern_dataset cache")
    args = parser.parse_args(argv)
    results = write_card(args.weights, args.measured, args.cards_dir, args.cache)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
