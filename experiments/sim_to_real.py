"""How do measured powder patterns differ from skxrd's simulated ones?

Measures, on the 456 measured RRUFF mineral patterns (validation data, never
trained on) and on patterns skxrd simulates from Materials Project structures
on the same grid (Cu Kα1 + Kα2, 2θ 5–90° in 0.01° steps):

- peak widths (FWHM of isolated strong peaks) against 2θ;
- the Kα2 shoulder: intensity at the Kα2 position of strong high-angle peaks,
  relative to the peak (0.5 when the doublet is resolved, more when it merges);
- the background: the 10th-percentile level and the SNIP background's mean,
  relative to the maximum;
- counting noise: the robust standard deviation of the pattern minus a
  5-point median filter, relative to the maximum, and the number of local
  maxima above 5 % of the maximum;
- the number of strong peaks (prominence > 5 % of the maximum) and the share
  of the intensity in the strongest peak (a texture / intensity-scale proxy).

Simulated patterns are made twice: with the ``InstrumentSampler`` defaults
(what the data issue's table trained on) and with ``--sampler`` settings (by
default ``skxrd.simulation.MEASURED_LIKE``, the ranges this study set). Writes
``OUT/sim_to_real.json`` with the summary statistics and
``OUT/sim_to_real.png`` (measured vs simulated), and prints a table::

    .venv/bin/python experiments/sim_to_real.py --out docs/images --n-sim 456
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RRUFF = ROOT.parent / "shared/data/measured/rruff-minerals/rruff-minerals.npz"
KA1, KA2 = 1.540562, 1.544390


def _median_filter(x, k=5):
    from scipy.ndimage import median_filter

    return median_filter(x, size=k, mode="nearest")


def pattern_statistics(two_theta, y):
    """Peak, background and noise statistics of one pattern (see module doc)."""
    from scipy.signal import find_peaks, peak_widths

    from skxrd.preprocessing import BackgroundSubtractor

    y = np.asarray(y, float)
    y = y - min(0.0, y.min())
    top = y.max()
    if not np.isfinite(top) or top <= 0:
        return None
    y = y / top
    step = float(np.median(np.diff(two_theta)))
    smooth = _median_filter(y)
    resid = y - smooth
    noise = 1.4826 * np.median(np.abs(resid - np.median(resid)))
    # a 1° clipping window: wider than the peaks, narrower than the humps
    sub = BackgroundSubtractor(window=int(round(1.0 / step)))
    background = sub.estimate_background(y[None])[0]
    peaks, props = find_peaks(smooth, prominence=0.05)
    n_maxima = len(find_peaks(y, height=0.05)[0])
    widths = peak_widths(smooth, peaks, rel_height=0.5)[0] * step
    # isolated strong peaks: no other strong peak within 1° (Kα2 aside)
    fwhm = []
    for i, p in enumerate(peaks):
        if props["prominences"][i] < 0.1:
            continue
        others = np.abs(two_theta[peaks] - two_theta[p])
        if np.sum((others > 0) & (others < 1.0)) == 0:
            fwhm.append((float(two_theta[p]), float(widths[i])))
    # Kα2 shoulder of strong peaks above 40°
    ka2 = []
    for i, p in enumerate(peaks):
        tt = two_theta[p]
        if tt < 40 or props["prominences"][i] < 0.1:
            continue
        theta = np.radians(tt / 2)
        d = KA1 / (2 * np.sin(theta))
        s2 = KA2 / (2 * d)
        if s2 >= 1:
            continue
        tt2 = 2 * np.degrees(np.arcsin(s2))
        j = int(round((tt2 - two_theta[0]) / step))
        if 0 <= j < len(y):
            base = background[p]
            ka2.append(float((smooth[j] - base) / max(smooth[p] - base, 1e-9)))
    return {
        "fwhm": fwhm,
        "ka2_ratio": ka2,
        "background_p10": float(np.percentile(y, 10)),
        "background_mean": float(background.mean()),
        "noise": float(noise),
        "n_maxima": int(n_maxima),
        "n_peaks": int(len(peaks)),
        "top_share": float(props["prominences"].max() / props["prominences"].sum())
        if len(peaks)
        else 1.0,
    }


def summarize(stats):
    """Percentiles of each statistic over a set of patterns."""
    out = {}
    fwhm = np.array([w for s in stats for _, w in s["fwhm"]])
    tt = np.array([t for s in stats for t, _ in s["fwhm"]])
    ka2 = np.array([r for s in stats for r in s["ka2_ratio"]])

    def pct(v):
        v = np.asarray(v, float)
        if not len(v):
            return None
        return [round(float(q), 4) for q in np.percentile(v, [10, 50, 90])]

    out["n_patterns"] = len(stats)
    out["fwhm_deg"] = pct(fwhm)
    for lo, hi in ((5, 30), (30, 50), (50, 90)):
        out[f"fwhm_deg_{lo}_{hi}"] = pct(fwhm[(tt >= lo) & (tt < hi)])
    out["ka2_ratio"] = pct(ka2)
    for key in (
        "background_p10",
        "background_mean",
        "noise",
        "n_maxima",
        "n_peaks",
        "top_share",
    ):
        out[key] = pct([s[key] for s in stats])
    out["share_noisy"] = round(float(np.mean([s["n_maxima"] > 200 for s in stats])), 3)
    return out, (tt, fwhm, ka2)


def _simulate(crystals, sampler, seed):
    from skxrd.simulation import PowderSimulator

    sim = PowderSimulator(two_theta_range=(5.0, 90.0), two_theta_step=0.01)
    settings = sampler.sample(len(crystals), random_state=seed)
    return sim.two_theta, sim.transform_varied(crystals, settings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/skxrd_sim_to_real"))
    parser.add_argument("--n-sim", type=int, default=456)
    parser.add_argument(
        "--sampler",
        default=None,
        help="InstrumentSampler options (JSON) of the second simulated set; "
        "default: skxrd.simulation.MEASURED_LIKE",
    )
    args = parser.parse_args()
    if args.sampler is None:
        from skxrd.simulation import MEASURED_LIKE

        args.sampler = json.dumps(MEASURED_LIKE)
    args.out.mkdir(parents=True, exist_ok=True)
    from skxrd.datasets import load_materials_project
    from skxrd.simulation import InstrumentSampler

    with np.load(RRUFF, allow_pickle=False) as f:
        X, tt = f["X"].astype(float), f["two_theta"].astype(float)
    measured = [s for s in (pattern_statistics(tt, x) for x in X) if s]
    mp = load_materials_project()
    rng = np.random.default_rng(0)
    idx = rng.choice(len(mp.crystals), args.n_sim, replace=False)
    crystals = [mp.crystals[i] for i in idx]
    sets = {"measured (RRUFF)": measured}
    samplers = {
        "simulated, InstrumentSampler defaults": InstrumentSampler(),
        "simulated, MEASURED_LIKE": InstrumentSampler(**json.loads(args.sampler)),
    }
    for name, sampler in samplers.items():
        grid, Xs = _simulate(crystals, sampler, seed=1)
        sets[name] = [s for s in (pattern_statistics(grid, x) for x in Xs) if s]
    summary, curves = {}, {}
    for name, stats in sets.items():
        summary[name], curves[name] = summarize(stats)
    summary["study_sampler"] = json.loads(args.sampler)
    with open(args.out / "sim_to_real.json", "w") as fh:
        json.dump(summary, fh, indent=1)
    keys = [k for k in summary["measured (RRUFF)"] if k != "n_patterns"]
    names = list(sets)
    print("| statistic (10th / 50th / 90th percentile) | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for k in keys:
        cells = []
        for n in names:
            v = summary[n][k]
            cells.append(
                "/".join(f"{x:g}" for x in v) if isinstance(v, list) else f"{v}"
            )
        print(f"| {k} | " + " | ".join(cells) + " |")
    _figure(X, tt, sets, curves, crystals, args)


def _figure(X, tt, sets, curves, crystals, args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2, figsize=(11, 7.5))
    colors = ["k", "tab:red", "tab:blue"]
    for (name, (t, w, _)), c in zip(curves.items(), colors):
        bins = np.arange(5, 95, 10)
        mid = 0.5 * (bins[1:] + bins[:-1])
        med = [
            np.median(w[(t >= a) & (t < b)]) if np.any((t >= a) & (t < b)) else np.nan
            for a, b in zip(bins[:-1], bins[1:])
        ]
        ax[0, 0].scatter(t, w, s=2, alpha=0.15, color=c)
        ax[0, 0].plot(mid, med, "-o", color=c, label=name)
    ax[0, 0].set(
        yscale="log",
        xlabel="2θ (°)",
        ylabel="FWHM (°)",
        title="Widths of isolated strong peaks",
    )
    ax[0, 0].legend(fontsize=7)
    for (name, stats), c in zip(sets.items(), colors):
        for key, axis in (("noise", ax[0, 1]), ("background_p10", ax[1, 0])):
            v = np.array([s[key] for s in stats])
            axis.hist(
                np.log10(v + 1e-6),
                bins=40,
                histtype="step",
                color=c,
                label=name,
                density=True,
            )
    ax[0, 1].set(xlabel="log10 noise σ / max", title="Counting noise")
    ax[1, 0].set(xlabel="log10 10th-percentile level / max", title="Background")
    i = int(np.argmax([len(s["fwhm"]) for s in sets["measured (RRUFF)"]][:50]))
    x = X[i] / X[i].max()
    ax[1, 1].plot(tt, x, "k", lw=0.6, label=f"measured RRUFF #{i}")
    from skxrd.simulation import InstrumentSampler, PowderSimulator

    sim = PowderSimulator(two_theta_range=(5.0, 90.0), two_theta_step=0.01)
    s = InstrumentSampler(**json.loads(args.sampler)).sample(1, random_state=2)
    y = sim.transform_varied(crystals[:1], s)[0]
    ax[1, 1].plot(
        sim.two_theta,
        -y / y.max(),
        "tab:blue",
        lw=0.6,
        label=f"simulated {crystals[0].formula} (MEASURED_LIKE), mirrored",
    )
    ax[1, 1].set(xlabel="2θ (°)", title="A measured and a simulated pattern")
    ax[1, 1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out / "sim_to_real.png", dpi=110)
    print(f"wrote {args.out / 'sim_to_real.png'} and {args.out / 'sim_to_real.json'}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    main()
