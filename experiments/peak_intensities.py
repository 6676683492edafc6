"""Peak intensities of measured minerals against their simulated AMCSD entries.

Texture, grain statistics, absorption and composition differences move the
relative peak intensities of a measured pattern away from those of its
structure. The training patterns imitate that with March–Dollase texture in the
simulation (``MEASURED_LIKE``: half of the patterns, r = 0.5–0.95) and with
random peak scalings at train time (``sample_augmentation``). This study asks
whether the training patterns' intensities wander as far from their
structures' as measured ones do.

For each RRUFF pattern whose nearest reference of the shipped search-match has
a similarity of at least ``--close`` (the same mineral in the AMCSD, for most),
that AMCSD entry is simulated cleanly (``PowderSimulator()``, no texture), and
its isolated peaks (no other peak above 1 % within 0.3°; at least 3 % of the
strongest) are integrated over ±0.12° in both patterns, after SNIP background
removal and after aligning the measured pattern to the simulated one (the
shift up to ±0.3° that maximizes their correlation). Per pattern, the
statistics of the log ratios ``ln(I_measured / I_simulated)`` of its peaks
(the median removed: the scale is arbitrary):

- ``spread``: robust standard deviation (1.4826 × median absolute deviation);
- ``max |log ratio|``: the largest factor by which one peak is off;
- ``strongest kept``: whether the strongest simulated peak is the strongest
  measured one among the isolated peaks.

The same statistics for the same AMCSD entries simulated as the training
patterns are: with the ``MEASURED_LIKE`` instrument settings, and with those
plus ``sample_augmentation`` as the network sees them (applied to the square
roots of the normalized patterns, squared back).

Usage::

    python experiments/peak_intensities.py [--close 0.8] [--out rows.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from measured_training import rruff_patterns  # noqa: E402

STEP = 0.02
HALF = 6  # ±0.12° integration window, in grid points
ISOLATION = 15  # no other peak above 1 % within 0.3°
MAX_SHIFT = 15  # ±0.3° alignment


def nearest_references(model, patterns):
    """Similarity to and AMCSD id of each pattern's nearest reference."""
    from skxrd.pretrained._store import load_model

    pipe = load_model(model)
    clf = pipe[-1]
    sim, index = clf.kneighbors(pipe[:-1].transform(patterns), n_neighbors=1)
    names = clf.reference_names_[index[:, 0]]
    ids = [re.search(r"amcsd-\d+", str(n)).group(0) for n in names]
    return sim[:, 0], ids


def peak_windows(clean):
    """Isolated peaks of a clean simulated pattern: their grid indices."""
    from scipy.signal import find_peaks

    top = clean.max()
    all_peaks, _ = find_peaks(clean, height=0.01 * top)
    strong, _ = find_peaks(clean, height=0.03 * top)
    keep = []
    for p in strong:
        near = all_peaks[(np.abs(all_peaks - p) <= ISOLATION) & (all_peaks != p)]
        if len(near) == 0 and HALF + MAX_SHIFT <= p < len(clean) - HALF - MAX_SHIFT:
            keep.append(p)
    return np.array(keep, dtype=int)


def best_shift(measured, clean):
    """The whole grid shift (at most ``MAX_SHIFT`` points) that best aligns the
    measured pattern with the clean one."""
    from scipy.ndimage import gaussian_filter1d

    a = gaussian_filter1d(measured, 2.0)
    b = gaussian_filter1d(clean, 2.0)
    a = (a - a.mean()) / (a.std() + 1e-12)
    b = (b - b.mean()) / (b.std() + 1e-12)
    return max(
        range(-MAX_SHIFT, MAX_SHIFT + 1),
        key=lambda s: float(np.dot(np.roll(a, s), b)),
    )


def align(measured, clean):
    """The measured pattern shifted (whole grid points) onto the clean one."""
    return np.roll(measured, best_shift(measured, clean))


def robust_sigma(a):
    """Robust standard deviation: 1.4826 × the median absolute deviation."""
    return float(1.4826 * np.median(np.abs(a - np.median(a))))


def statistics(pattern, clean, peaks):
    """(spread, max |log ratio|, strongest kept) of one pattern, or None."""
    if len(peaks) < 4:
        return None
    windows = peaks[:, None] + np.arange(-HALF, HALF + 1)[None, :]
    i_sim = clean[windows].sum(1)
    i_obs = np.maximum(pattern[windows], 0.0).sum(1)
    if np.any(i_obs <= 0):
        i_obs = np.maximum(i_obs, 1e-3 * i_obs.max())
    r = np.log(i_obs / i_sim)
    r -= np.median(r)
    spread = robust_sigma(r)
    return spread, float(np.abs(r).max()), bool(i_obs.argmax() == i_sim.argmax())


def summarize(rows):
    rows = [r for r in rows if r is not None]
    spread = np.array([r[0] for r in rows])
    worst = np.array([r[1] for r in rows])
    kept = np.array([r[2] for r in rows])
    pct = (10, 50, 90)
    return {
        "n": len(rows),
        "spread": np.percentile(spread, pct).round(3).tolist(),
        "max_abs_log_ratio": np.percentile(worst, pct).round(3).tolist(),
        "strongest_kept": round(float(kept.mean()), 3),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default=str(ROOT / "skxrd/pretrained/weights/space-group.pt")
    )
    parser.add_argument("--close", type=float, default=0.8)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch

    from skxrd.augmentation import sample_augmentation
    from skxrd.datasets import load_amcsd
    from skxrd.preprocessing import BackgroundSubtractor, PatternResampler
    from skxrd.simulation import MEASURED_LIKE, InstrumentSampler, PowderSimulator

    patterns, _ = rruff_patterns()
    similarity, ids = nearest_references(args.model, patterns)
    close = np.flatnonzero(similarity >= args.close)
    n = len(patterns)
    print(f"{len(close)} of {n} RRUFF patterns at similarity >= {args.close}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        amcsd = load_amcsd()
    by_id = dict(zip(amcsd.ids.tolist(), amcsd.crystals))
    crystals = [by_id[ids[i]] for i in close]

    sim = PowderSimulator(two_theta_range=(5.0, 90.0), two_theta_step=STEP)
    grid = sim.two_theta
    clean = sim.transform(crystals)
    settings = InstrumentSampler(**MEASURED_LIKE).sample(
        len(crystals), random_state=args.random_state
    )
    varied = sim.transform_varied(crystals, settings)
    background = BackgroundSubtractor()
    measured = background.fit_transform(
        PatternResampler(two_theta=grid).fit_transform([patterns[i] for i in close])
    )
    varied = background.fit_transform(varied)
    # as the network sees them: normalized, square roots, augmented, squared back
    roots = np.sqrt(np.maximum(varied, 0.0) / varied.max(1, keepdims=True))
    generator = torch.Generator().manual_seed(args.random_state)
    augmented = (
        sample_augmentation(grid)(torch.as_tensor(roots), generator=generator).numpy()
        ** 2
    )

    parts = {"measured (RRUFF)": [], "MEASURED_LIKE": [], "+ sample_augmentation": []}
    for k in range(len(crystals)):
        peaks = peak_windows(clean[k])
        for name, x in (
            ("measured (RRUFF)", align(measured[k], clean[k])),
            ("MEASURED_LIKE", align(varied[k], clean[k])),
            ("+ sample_augmentation", align(augmented[k], clean[k])),
        ):
            parts[name].append(statistics(x, clean[k], peaks))
    table = {name: summarize(rows) for name, rows in parts.items()}
    print("| patterns | n | spread (10/50/90) | max abs log ratio | strongest kept |")
    print("|---|---:|---:|---:|---:|")
    for name, t in table.items():
        s = " / ".join(f"{v:.2f}" for v in t["spread"])
        w = " / ".join(f"{v:.2f}" for v in t["max_abs_log_ratio"])
        print(f"| {name} | {t['n']} | {s} | {w} | {t['strongest_kept']:.2f} |")
    if args.out:
        args.out.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
