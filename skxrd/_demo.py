"""``skxrd demo``: the tour of the package, from crystals to measured answers."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

__all__ = ["run_demo"]

_MARKER = ".skxrd-demo"  # marks a folder the demo wrote, so reruns may refresh it


def _say(text=""):
    print(text, flush=True)


def _output_folder(output, force) -> Path:
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--output {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / _MARKER).exists():
        if not force:
            raise ValueError(
                f"--output {out} holds files the demo did not write; choose another "
                "folder or pass --force to write into it"
            )
    out.mkdir(parents=True, exist_ok=True)
    (out / _MARKER).write_text("written by skxrd demo\n")
    return out


def _simulation_figures(out, plt):
    """Simulated patterns of known crystals, three radiations, size broadening."""
    from .datasets import load_example_crystal
    from .simulation import PowderSimulator

    names = ["Si", "NaCl", "ZnO", "TiO2-rutile", "Al2O3", "LiCoO2"]
    crystals = [load_example_crystal(n) for n in names]
    sim = PowderSimulator(radiation="CuKa", verbose=False)
    X = sim.transform(crystals)
    peaks = PowderSimulator(radiation="CuKa1").peaks(crystals)
    _say(f"NaCl, strongest lines (Cu Kα1):\n{peaks[1].to_table(5)}\n")
    fig, ax = plt.subplots(figsize=(10, 7))
    for i, (name, pattern, pl) in enumerate(zip(names, X, peaks)):
        base = 1.15 * i
        ax.plot(sim.two_theta, pattern + base, lw=0.8)
        ax.text(89, base + 0.35, f"{name} ({crystals[i].space_group})", ha="right")
        for j in np.argsort(-pl.intensity)[:3]:
            h, k, l = pl.hkl[j]
            peak = pattern[np.abs(sim.two_theta - pl.two_theta[j]).argmin()]
            ax.annotate(
                f"{h}{k}{l}", (pl.two_theta[j], base + peak), fontsize=7, ha="center"
            )
    ax.set(
        xlabel="2θ (degrees, Cu Kα)",
        ylabel="intensity (offset)",
        yticks=[],
        title="Simulated powder patterns (skxrd)",
        xlim=(5, 90),
    )
    fig.tight_layout()
    fig.savefig(out / "powder_patterns.png", dpi=120)
    plt.close(fig)

    corundum = load_example_crystal("Al2O3")
    fig, ax = plt.subplots(figsize=(10, 4))
    for i, (label, kw) in enumerate(
        [
            ("Cu Kα", dict(radiation="CuKa")),
            ("Mo Kα", dict(radiation="MoKa")),
            ("neutrons 1.54 Å", dict(radiation="neutron", wavelength=1.54)),
        ]
    ):
        s = PowderSimulator(**kw, q_range=(1.0, 6.0), q_step=0.002, verbose=False)
        ax.plot(s.q, s.transform([corundum])[0] + 1.1 * i, lw=0.8, label=label)
    ax.set(xlabel="Q (Å⁻¹)", yticks=[], title="Corundum: X-rays and neutrons")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "radiations.png", dpi=120)
    plt.close(fig)

    si = load_example_crystal("Si")
    fig, ax = plt.subplots(figsize=(10, 4))
    for size in (100, 20, 5):
        s = PowderSimulator(crystallite_size=size, normalize="area", verbose=False)
        ax.plot(s.two_theta, s.transform([si])[0], lw=0.8, label=f"{size} nm")
    ax.set(xlabel="2θ (degrees)", yticks=[], xlim=(25, 60), title="Si: broadening")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "broadening.png", dpi=120)
    plt.close(fig)

    many = crystals * 100
    t = time.perf_counter()
    sim.transform(many)
    dt = time.perf_counter() - t
    _say(
        f"simulated {len(many)} patterns of {len(sim.two_theta)} points in "
        f"{dt:.2f} s ({len(many) / dt:.0f} patterns/s)"
    )


def _learning(out, quick, plt):
    """Dataset, de-duplication, group-aware CV, grid search, joblib round trip."""
    import joblib
    from sklearn.model_selection import (
        GridSearchCV,
        StratifiedGroupKFold,
        cross_val_score,
    )
    from sklearn.pipeline import make_pipeline

    from .datasets import make_pattern_dataset, perturb_crystals
    from .dedup import drop_duplicates, duplicate_groups
    from .estimators import ResNetClassifier
    from .preprocessing import PatternNormalizer
    from .simulation import PowderSimulator
    from .utils._parallel import release_workers

    n = 300 if quick else 2400
    epochs = 2 if quick else 12
    sim = PowderSimulator(two_theta_range=(10, 80), two_theta_step=0.05)
    _say(f"\n[2] {n} random crystals over all 230 space groups, Cu Kα patterns")
    t = time.perf_counter()
    data = make_pattern_dataset(
        n,
        target="crystal_system",
        simulator=sim,
        n_atoms=(2, 24),
        random_state=0,
        n_jobs=2,
        verbose=True,
    )
    _say(
        f"    {data.X.shape[0]} patterns of {data.X.shape[1]} points, "
        f"{time.perf_counter() - t:.0f} s"
    )

    # a database holds re-determinations of the same compound: add some, with
    # atoms moved by 0.01 Å, for de-duplication to find
    rng = np.random.default_rng(0)
    copies = rng.choice(len(data.crystals), size=len(data.crystals) // 6, replace=False)
    again = perturb_crystals(
        [data.crystals[i] for i in copies], displacement=0.01, random_state=1
    )
    X = np.concatenate([data.X, sim.set_params(verbose=False).transform(again)])
    y = np.concatenate([data.y, data.y[copies]])
    _say(f"    + {len(copies)} re-determinations of some of them (atoms moved 0.01 Å)")

    _say("\n[3] De-duplication: identical patterns out, near-duplicates grouped")
    X, y, report = drop_duplicates(X, y, verbose=False)
    _say(f"    {str(report).splitlines()[0]}")
    groups = duplicate_groups(X, threshold=0.95)
    n_groups = len(np.unique(groups))
    _say(f"    {n_groups} groups of near-duplicates (cosine ≥ 0.95) for the splits")

    clf = ResNetClassifier(
        depth=2,
        width=8,
        stem_stride=2,
        max_epochs=epochs,
        lr=3e-3,
        batch_size=64,
        num_threads=1,
        random_state=0,
    )
    pipe = make_pipeline(PatternNormalizer(), clf)
    cv = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0)
    _say("\n[4] 3-fold cross-validation, no group on both sides of a split")
    t = time.perf_counter()
    # make_pattern_dataset released its simulation workers; release any that
    # the steps since started, so the fits (which import torch) get fresh ones
    release_workers()
    scores = cross_val_score(pipe, X, y, groups=groups, cv=cv, n_jobs=2)
    values, counts = np.unique(y, return_counts=True)
    _say(
        f"    accuracy {scores.mean():.3f} ± {scores.std():.3f} (folds "
        f"{np.round(scores, 3).tolist()}); always answering {values[counts.argmax()]}"
        f" would score {counts.max() / counts.sum():.3f}; "
        f"{time.perf_counter() - t:.0f} s"
    )

    _say("\n[5] Grid search over the network width and the learning rate")
    grid = {
        "resnetclassifier__width": [8, 16],
        "resnetclassifier__lr": [1e-3, 3e-3],
    }
    t = time.perf_counter()
    search = GridSearchCV(pipe, grid, cv=cv, n_jobs=2).fit(X, y, groups=groups)
    _say(
        f"    best {search.best_params_} with {search.best_score_:.3f}; "
        f"{time.perf_counter() - t:.0f} s"
    )
    table = search.cv_results_
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for width in grid["resnetclassifier__width"]:
        rows = [
            i
            for i, p in enumerate(table["params"])
            if p["resnetclassifier__width"] == width
        ]
        ax.errorbar(
            [table["params"][i]["resnetclassifier__lr"] for i in rows],
            table["mean_test_score"][rows],
            yerr=table["std_test_score"][rows],
            marker="o",
            capsize=3,
            label=f"width {width}",
        )
    ax.set(xscale="log", xlabel="learning rate", ylabel="CV accuracy")
    ax.set_title("Grid search, group-aware 3-fold CV", fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "grid_search.png", dpi=120)
    plt.close(fig)

    _say("\n[6] Save with joblib, reload, same answers")
    path = out / "crystal_system_pipeline.joblib"
    joblib.dump(search.best_estimator_, path)
    again = joblib.load(path)
    same = np.array_equal(again.predict(X[:50]), search.best_estimator_.predict(X[:50]))
    size = path.stat().st_size / 1e3
    _say(f"    {path} ({size:.0f} kB); identical predictions: {same}")
    if not same:
        raise RuntimeError("the reloaded pipeline predicts differently")


def _measured(out, plt):
    """The shipped models on the bundled measured patterns, with plots."""
    import warnings

    from .datasets import load_measured_examples
    from .inspection import SaliencyDisplay
    from .metrics import CrystalSystemConfusionDisplay
    from .pretrained import evaluate_model, load_pretrained

    data = load_measured_examples()
    _say(
        f"\n[7] Pretrained models on {len(data.patterns)} bundled measured patterns "
        "(synchrotron powders, λ ≈ 0.73 Å; thin films, Cu Kα)"
    )
    from .estimators._match import search_match_of

    systems = load_pretrained("crystal-system", device="cpu")
    groups = load_pretrained("space-group", device="cpu")
    with warnings.catch_warnings():
        # the thin films end at 70-80°: the uncovered end of the grid is zero
        warnings.simplefilter("ignore", UserWarning)
        cs_labels, cs_proba = systems.predict_top_k(data.patterns, k=2)
        sg_labels, sg_proba = groups.predict_top_k(data.patterns, k=3)
        report = evaluate_model(systems, data.patterns, data.crystal_system, k=2)
        # the search-match in front of the network: the closest AMCSD mineral
        hybrid = search_match_of(groups)  # inside the indexing stacker
        rows = groups.transform_patterns(data.patterns)
        similarity, index = hybrid.kneighbors(rows, n_neighbors=1)
        source = hybrid.predict_source(rows)
    _say(
        f"    {'pattern':<22}{'truth':<20}{'crystal system (p)':<38}"
        f"{'space group (p)':<34}closest AMCSD mineral (correlation)"
    )
    for i, name in enumerate(data.names):
        truth = data.crystal_system[i] + (
            f" / {data.space_group[i]}" if data.space_group[i] > 0 else ""
        )
        cs = ", ".join(f"{lab} {p:.2f}" for lab, p in zip(cs_labels[i], cs_proba[i]))
        sg = ", ".join(f"{lab} {p:.2f}" for lab, p in zip(sg_labels[i], sg_proba[i]))
        s = similarity[i, 0]
        mineral = hybrid.reference_names_[index[i, 0]].split(" (")[0]
        used = "answered" if source[i] == "match" else "not used"
        _say(
            f"    {name[:21]:<22}{truth:<20}{cs:<38}{sg:<34}{mineral} ({s:.2f}, {used})"
        )
    _say(
        f"    crystal system right for {round(report['top1'] * report['n'])} of "
        f"{report['n']} (top-2: {round(report['top2'] * report['n'])}); see the "
        "model cards (skxrd.pretrained.model_card) for the full measured sets"
    )
    # the structure-type model: a union of networks over the library's types,
    # each type weighed by the space-group model (its probability of the group)
    types = load_pretrained("structure-type", device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        st_labels, st_proba = types.predict_top_k(data.patterns, k=2)
    _say(
        f"    structure type ({len(types.classes_)} types; known here: LaB6 "
        "cab6, SiO2 alpha_quartz, ZnO wurtzite, NaCl rocksalt, FAPbI3 (Pm-3m) "
        "perovskite; the others are of types outside the library):"
    )
    for i, name in enumerate(data.names):
        st = ", ".join(f"{lab} {p:.2f}" for lab, p in zip(st_labels[i], st_proba[i]))
        _say(f"    {name[:21]:<22}{st}")
    _say(
        "    data: Chitturi et al., J. Appl. Cryst. (2021), MIT; Oviedo et al., "
        "npj Comput. Mater. 5, 60 (2019), Apache-2.0 (licences in "
        "skxrd/datasets/data/measured/)"
    )

    # constrained layout leaves room for the saliency axis on the right of
    # each panel (tight_layout ignores twin axes and overlaps the labels)
    fig, axes = plt.subplots(5, 2, figsize=(14, 13), layout="constrained")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for i, ax in enumerate(axes.T.ravel()):
            SaliencyDisplay.from_estimator(systems, data.patterns, index=i, ax=ax)
            ax.set_title(
                f"{data.names[i]} (true: {data.crystal_system[i]})\n{ax.get_title()}",
                fontsize=8,
            )
    fig.savefig(out / "measured_saliency.png", dpi=100)
    plt.close(fig)

    display = CrystalSystemConfusionDisplay.from_predictions(
        data.crystal_system, report["predicted"], normalize=None
    )
    display.ax_.set_title("Pretrained crystal-system model, bundled measured patterns")
    display.figure_.savefig(
        out / "measured_confusion.png", dpi=110, bbox_inches="tight"
    )
    plt.close(display.figure_)


def run_demo(output="demo_output", *, quick=False, force=False) -> int:
    """Run the tour of skxrd and write its figures to ``output``.

    1. Simulate patterns of known crystals (three radiations, size broadening).
    2. Generate a synthetic crystal-system dataset over all 230 space groups.
    3. De-duplicate it and group near-duplicates.
    4. Cross-validate a small ResNet pipeline with group-aware splits.
    5. Grid-search two parameters.
    6. Save the best pipeline with joblib and reload it.
    7. Classify the bundled measured patterns with the pretrained models, with
       saliency maps and a confusion matrix.

    Parameters
    ----------
    output : str or path-like, default="demo_output"
        Folder for the figures and the saved pipeline.
    quick : bool, default=False
        Small data and few epochs (under a minute), for tests.
    force : bool, default=False
        Write into a non-empty folder the demo did not create.

    Returns
    -------
    int
        0 on success (the exit status of ``skxrd demo``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = time.perf_counter()
    out = _output_folder(output, force)
    _say("skxrd demo\n\n[1] Powder patterns of well-known crystals")
    _simulation_figures(out, plt)
    _learning(out, quick, plt)
    _measured(out, plt)
    figures = sorted(p.name for p in out.glob("*.png"))
    _say(f"\nfigures in {out}/: {', '.join(figures)}")
    _say(f"demo finished in {time.perf_counter() - start:.0f} s")
    return 0
