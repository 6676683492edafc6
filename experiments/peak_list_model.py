"""Crystal systems from peak lists alone, against the shipped model.

The shipped networks read whole profiles, whose widths, backgrounds and noise
differ between simulation and instrument (``sim_to_real.py``). Peak positions
carry the metric of the lattice and are measured to a few thousandths of a
degree (``line_positions.py``), so a classifier of peak lists might cross the
sim-to-real gap better. This trains one and scores it on RRUFF.

Data: every bundled Materials Project structure and every AMCSD mineral,
simulated once with ``instrument="measured_like"`` (Cu Kα, 5–90°); the first
20 Kα1 peaks of each profile (:func:`skxrd.indexing.peak_positions`, as the
shipped indexing reads measured patterns) and their heights above the
pattern's 10th percentile. A second copy of each list gets the stray lines
measured patterns carry (``indexing_stack.py``, seventh and eighth versions):
Kβ copies of 1–3 strong lines at 1–5 % (half the lists) and one line at
5–7.5° of 2–20 % (a quarter). Features: the peak count; 1/d² of the first two
lines (logs) and of every line over them; the heights; histograms of the
ratios and of the differences (over the first line's) of the first 12 lines'
1/d² in pairs; how many of the first 12 sit on integer multiples of the
first's 1/d² over 1–4. A ``HistGradientBoostingClassifier`` of the crystal
system is fitted on the lists of 80 % of the Materials Project prototypes
(``GroupShuffleSplit`` on the dataset's prototype groups) and all AMCSD
minerals; the other 20 % of the prototypes (lists with stray lines) score it
on simulated patterns. The 456 RRUFF patterns only score (close: correlation
>= 0.8 to a simulated AMCSD pattern, ``amcsd_overlap.nearest_amcsd``), alone
and multiplied into the shipped crystal-system model's probabilities.

Usage::

    python experiments/peak_list_model.py --work /tmp/peak_lists   # 30 minutes

The work folder keeps the lists, the RRUFF answers of the shipped model and
the fitted classifier, so a second run only scores.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "experiments"))

LAM, LAM_KB = 1.5406, 1.39222  # Cu Kα1, Kβ (Å)
N_PEAKS = 20


def peak_lists(two_theta, X):
    """The first ``N_PEAKS`` peaks of each row and their heights over the
    highest of them (NaN where a row has fewer)."""
    from skxrd.indexing import peak_positions

    pos = np.full((len(X), N_PEAKS), np.nan, np.float32)
    height = pos.copy()
    for i, x in enumerate(X):
        p = peak_positions(two_theta, x)
        if len(p):
            at = np.clip(np.searchsorted(two_theta, p), 0, len(two_theta) - 1)
            h = x[at] - np.percentile(x, 10)
            pos[i, : len(p)] = p
            height[i, : len(p)] = h / max(h.max(), 1e-12)
    return pos, height


def simulated_lists(source, path, n_jobs):
    """Peak lists of every structure of ``source``, simulated measured-like."""
    if path.exists():
        return dict(np.load(path))
    from joblib import Parallel, delayed

    from skxrd.datasets import make_pattern_dataset

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = make_pattern_dataset(
            None,
            source=source,
            target="space_group",
            instrument="measured_like",
            random_state=0,
            n_jobs=n_jobs,
            verbose=False,
        )
    chunks = np.array_split(np.arange(len(data.X)), 16)
    found = Parallel(n_jobs=n_jobs)(
        delayed(peak_lists)(data.two_theta, data.X[c]) for c in chunks
    )
    out = {
        "pos": np.concatenate([f[0] for f in found]),
        "height": np.concatenate([f[1] for f in found]),
        "sg": np.asarray(data.space_group),
        "groups": np.asarray(data.groups),
    }
    np.savez(path, **out)
    print(f"{source}: {len(data.X)} lists, {time.perf_counter() - start:.0f} s")
    return out


def rruff_lists(path):
    """RRUFF peak lists, the shipped crystal-system model's probabilities and
    each pattern's best correlation to a simulated AMCSD pattern."""
    if path.exists():
        return dict(np.load(path))
    from amcsd_overlap import nearest_amcsd
    from measured_training import rruff_patterns

    from skxrd.cli import _load_model

    patterns, sg = rruff_patterns()
    pos = np.full((len(patterns), N_PEAKS), np.nan, np.float32)
    height = pos.copy()
    for i, p in enumerate(patterns):
        a, b = peak_lists(np.asarray(p.two_theta), np.asarray(p.intensity)[None])
        pos[i], height[i] = a[0], b[0]
    model = _load_model("crystal-system", "cpu", False, light=True)
    proba = model.predict_proba(patterns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cos, _ = nearest_amcsd(patterns)
    out = {
        "pos": pos,
        "height": height,
        "sg": sg,
        "cos": cos,
        "proba": proba,
        "classes": np.asarray(model.classes_).astype(str),
    }
    np.savez(path, **out)
    return out


def stray_lines(pos, height, rng, kbeta=0.5, low=0.25):
    """Copies of the lists with Kβ copies of strong lines and a low-angle line."""
    pos, height = pos.copy(), height.copy()
    for i in range(len(pos)):
        ok = ~np.isnan(pos[i])
        p, h = pos[i, ok], height[i, ok]
        extra_p, extra_h = [], []
        if len(p) and rng.random() < kbeta:
            top = np.argsort(h)[::-1][: rng.integers(1, 4)]
            s = np.sin(np.radians(p[top] / 2)) * LAM_KB / LAM
            extra_p += list(2 * np.degrees(np.arcsin(s)))
            extra_h += list(h[top] * rng.uniform(0.01, 0.05, len(top)))
        if rng.random() < low:
            extra_p.append(rng.uniform(5.0, 7.5))
            extra_h.append(rng.uniform(0.02, 0.2))
        if extra_p:
            p, h = np.r_[p, extra_p], np.r_[h, extra_h]
            keep = h >= 0.015  # peak_positions' smallest height
            p, h = p[keep], h[keep]
            order = np.argsort(p)[:N_PEAKS]
            p, h = p[order], h[order]
        pos[i], height[i] = np.nan, np.nan
        pos[i, : len(p)], height[i, : len(p)] = p, h
    return pos, height


def features(pos, height, m=12):
    """The fixed-length description of each peak list (see the module's text)."""
    q = (2 * np.sin(np.radians(pos / 2)) / LAM) ** 2  # 1/d²
    n = np.sum(~np.isnan(q), 1)
    q1, q2 = q[:, :1], q[:, 1:2]
    iu = np.triu_indices(m, 1)
    qq = q[:, :m]
    ratios = np.log(qq[:, iu[1]] / qq[:, iu[0]])
    diffs = (qq[:, iu[1]] - qq[:, iu[0]]) / q1
    hist_r = np.stack(
        [
            np.histogram(r[~np.isnan(r)], np.linspace(0, np.log(12), 49))[0]
            for r in ratios
        ]
    )
    hist_d = np.stack(
        [np.histogram(r[~np.isnan(r)], np.linspace(0, 12, 49))[0] for r in diffs]
    )
    on_integers = []
    for k in (1, 2, 3, 4):
        r = qq / q1 * k
        on_integers.append(np.nansum(np.abs(r - np.round(r)) < 0.01 * r, 1)[:, None])
    parts = [n[:, None], np.log(q1), np.log(q2), q[:, 1:] / q1, q[:, 2:] / q2, height]
    return np.hstack(parts + [hist_r, hist_d] + on_integers).astype(np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/peak_lists"))
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)

    import joblib
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import GroupShuffleSplit

    from skxrd.crystal import to_crystal_system

    def systems(sg):
        return np.asarray(to_crystal_system(np.asarray(sg)))

    mp = simulated_lists("materials_project", args.work / "mp.npz", args.n_jobs)
    am = simulated_lists("amcsd", args.work / "amcsd.npz", args.n_jobs)
    rr = rruff_lists(args.work / "rruff.npz")
    train, test = next(
        GroupShuffleSplit(1, test_size=0.2, random_state=0).split(
            mp["pos"], groups=mp["groups"]
        )
    )
    model_path = args.work / "hgb.joblib"
    if model_path.exists():
        clf = joblib.load(model_path)
    else:
        pos = np.concatenate([mp["pos"][train], am["pos"]])
        height = np.concatenate([mp["height"][train], am["height"]])
        y = systems(np.concatenate([mp["sg"][train], am["sg"]]))
        stray = stray_lines(pos, height, np.random.default_rng(0))
        X = np.vstack([features(pos, height), features(*stray)])
        start = time.perf_counter()
        clf = HistGradientBoostingClassifier(
            max_iter=400, max_leaf_nodes=63, early_stopping=True, random_state=0
        ).fit(X, np.r_[y, y])
        print(f"fitted on {len(X)} lists in {time.perf_counter() - start:.0f} s")
        joblib.dump(clf, model_path)
    held = stray_lines(mp["pos"][test], mp["height"][test], np.random.default_rng(1))
    held_acc = np.mean(clf.predict(features(*held)) == systems(mp["sg"][test]))
    print(f"held-out Materials Project prototypes ({len(test)}): {held_acc:.3f}")

    classes = clf.classes_
    assert list(classes) == list(rr["classes"])
    y = systems(rr["sg"])
    close = rr["cos"] >= 0.8
    lists = clf.predict_proba(features(rr["pos"], rr["height"]))
    shipped = rr["proba"]
    rows = [("peak lists", lists), ("shipped model", shipped)]
    for w in (0.3, 1.0):
        rows.append(
            (
                f"shipped × lists^{w:g}",
                np.exp(np.log(shipped + 1e-9) + w * np.log(lists + 1e-9)),
            )
        )
    print(
        f"\nRRUFF crystal system ({len(y)}; close {close.sum()}, far {(~close).sum()})"
    )
    print(
        "| answer | all | close | far | "
        + " | ".join(c for c in classes if (y == c).any())
        + " |"
    )
    for name, p in rows:
        right = classes[p.argmax(1)] == y
        per = " | ".join(
            f"{right[y == c].sum()}/{(y == c).sum()}" for c in classes if (y == c).any()
        )
        print(
            f"| {name} | {right.mean():.3f} | {right[close].mean():.3f} | "
            f"{right[~close].mean():.3f} | {per} |"
        )


if __name__ == "__main__":
    main()
