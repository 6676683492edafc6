"""SNIP at the ends of a scan: ``edges="keep"`` against ``edges="extend"``.

Two measurements (:func:`~skxrd.preprocessing.snip_background`):

- ``--simulated``: example crystals simulated (Cu Kα, 0.02° steps, 4250
  points: the shipped models' grid length) so that one of their lines lies
  0–1° from the start or the end of the scan, on a flat, a sloped and a
  curved (lab-like: falling steeply over the first degrees) background, with
  Poisson counting noise (5000 counts at the top of the strongest line,
  backgrounds of 150–1650 counts). Prints the height of that line kept after
  subtracting the background (mean over the crystals and noise draws, %),
  and the background's RMS error over the 1° at each end and in the middle
  (per cent of the true background there), for both settings, with the
  shipped models' SNIP window (20 points, 0.4°).
- ``--rruff``: the shipped space-group and crystal-system models on the 456
  measured RRUFF minerals (validation only, nothing is fitted to them), as
  shipped (``"keep"``) and with their SNIP step set to ``"extend"`` (the same
  weights, trained with ``"keep"``): top-1 accuracies and how many answers
  change.

::

    .venv/bin/python experiments/snip_edges.py --simulated
    nice .venv/bin/python experiments/snip_edges.py --rruff
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DISTANCES = (0.0, 0.02, 0.04, 0.06, 0.1, 0.2, 0.4, 0.6, 1.0)
CRYSTALS = ("NaCl", "Si", "TiO2-rutile", "Al2O3")
STEP, N_POINTS, WINDOW = 0.02, 4250, 20


def _backgrounds(u):
    """Flat, sloped and lab-like curved backgrounds (counts) at ``u`` degrees
    from the start of the scan."""
    return {
        "flat": np.full(u.shape, 300.0),
        "sloped": 600.0 - 450.0 * u / u[-1],
        "curved": 150.0 + 1500.0 * np.exp(-u / 2.5) + 0.06 * np.maximum(u - 50, 0) ** 2,
    }


def _line_pattern(crystal, end, distance):
    """A crystal's pattern (max 1) on a scan of ``N_POINTS`` with its strongest
    line that allows it ``distance`` degrees from the start (or the end), and
    the index of that line."""
    from scipy.signal import find_peaks

    from skxrd.simulation import PowderSimulator

    sim = PowderSimulator(two_theta_range=(3.0, 150.0), two_theta_step=STEP)
    full = sim.transform([crystal])[0]
    x = sim.two_theta
    peaks, _ = find_peaks(full, height=0.05)
    span = STEP * (N_POINTS - 1)
    if end == "start":
        starts = x[peaks] - distance
    else:
        starts = x[peaks] + distance - span
    ok = peaks[(starts >= 3.0) & (starts + span <= 149.9)]
    i = ok[np.argmax(full[ok])]
    start = x[i] - distance if end == "start" else x[i] + distance - span
    scan = PowderSimulator(
        two_theta_range=(start, start + STEP * N_POINTS), two_theta_step=STEP
    )
    y = scan.transform([crystal])[0]
    assert len(y) == N_POINTS, len(y)
    k = int(round(distance / STEP))
    return y / y.max(), (k if end == "start" else N_POINTS - 1 - k)


def simulated(n_noise=5, seed=0):
    from skxrd.datasets import load_example_crystal
    from skxrd.preprocessing import snip_background

    rng = np.random.default_rng(seed)
    u = STEP * np.arange(N_POINTS)
    kept = {}  # (background, edges, end, distance) -> heights kept
    err = {}  # (background, edges, region) -> relative RMS errors
    for name in CRYSTALS:
        crystal = load_example_crystal(name)
        for end in ("start", "end"):
            for d in DISTANCES:
                y, c = _line_pattern(crystal, end, d)
                peaks = 5000.0 * y
                for bname, bg in _backgrounds(u).items():
                    clean = bg + peaks
                    X = rng.poisson(np.broadcast_to(clean, (n_noise, N_POINTS)))
                    X = X.astype(float)
                    for edges in ("keep", "extend"):
                        est = snip_background(X, WINDOW, edges=edges)
                        kept.setdefault((bname, edges, end, d), []).extend(
                            (X - est)[:, c] / peaks[c]
                        )
                        rel = (est - bg) / bg
                        for region, cols in (
                            ("start 1°", slice(0, 50)),
                            ("end 1°", slice(N_POINTS - 50, None)),
                            ("middle", slice(1000, 3250)),
                        ):
                            err.setdefault((bname, edges, region), []).append(
                                np.sqrt(np.mean(rel[:, cols] ** 2))
                            )
    print("height of the end line kept (%, mean over crystals and noise draws)")
    print("background edges   end   " + " ".join(f"{d:>5.2f}°" for d in DISTANCES))
    for bname in ("flat", "sloped", "curved"):
        for edges in ("keep", "extend"):
            for end in ("start", "end"):
                row = [100 * np.mean(kept[bname, edges, end, d]) for d in DISTANCES]
                print(
                    f"{bname:10s} {edges:7s} {end:5s} "
                    + " ".join(f"{v:6.0f}" for v in row)
                )
    print("\nbackground RMS error (% of the true background), patterns above")
    for bname in ("flat", "sloped", "curved"):
        for edges in ("keep", "extend"):
            cells = [
                f"{region} {100 * np.mean(err[bname, edges, region]):5.2f}"
                for region in ("start 1°", "middle", "end 1°")
            ]
            print(f"{bname:10s} {edges:7s} " + "   ".join(cells))
    # the background alone, with its noise: what the end setting does to it
    print("\nbackground alone with counting noise (200 draws): mean / RMS error, %")
    for bname, bg in _backgrounds(u).items():
        X = rng.poisson(np.broadcast_to(bg, (200, N_POINTS))).astype(float)
        for edges in ("keep", "extend"):
            rel = (snip_background(X, WINDOW, edges=edges) - bg) / bg
            cells = []
            for region, cols in (
                ("first 0.4°", slice(0, WINDOW)),
                ("middle", slice(1000, 3250)),
                ("last 0.4°", slice(N_POINTS - WINDOW, None)),
            ):
                r = rel[:, cols]
                rms = 100 * np.sqrt(np.mean(r**2))
                cells.append(f"{region} {100 * r.mean():+5.2f} / {rms:4.2f}")
            print(f"{bname:10s} {edges:7s} " + "   ".join(cells))


def rruff():
    sys.path.insert(0, str(ROOT / "tools"))
    from measured_training import rruff_patterns

    import skxrd
    from skxrd.crystal import to_crystal_system

    patterns, sg = rruff_patterns()
    cs_true = np.asarray(to_crystal_system(sg)).astype(str)
    for model in ("space-group", "crystal-system"):
        pipe = skxrd.load_pretrained(model)
        answers = {}
        for edges in ("keep", "extend"):
            for _, step in pipe.steps:
                if type(step).__name__ == "BackgroundSubtractor":
                    step.set_params(edges=edges)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                answers[edges] = np.asarray(pipe.predict(patterns)).astype(str)
        truth = sg.astype(str) if model == "space-group" else cs_true
        for edges, a in answers.items():
            print(f"{model:15s} {edges:7s} top-1 {np.mean(a == truth):.4f}")
        changed = answers["keep"] != answers["extend"]
        gained = np.sum(changed & (answers["extend"] == truth))
        lost = np.sum(changed & (answers["keep"] == truth))
        print(
            f"{model:15s} answers changed: {int(changed.sum())} of {len(truth)} "
            f"(right only with extend {gained}, only with keep {lost})"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--simulated", action="store_true")
    parser.add_argument("--rruff", action="store_true")
    args = parser.parse_args()
    if args.simulated:
        simulated()
    if args.rruff:
        rruff()


if __name__ == "__main__":
    main()
