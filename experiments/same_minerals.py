"""The sim-to-real gap on the same structures: measured minerals against their
own simulated AMCSD entries.

The shipped network was trained on simulated patterns of every AMCSD entry
(with variants). For the RRUFF patterns whose nearest reference of the shipped
search-match has a similarity of at least ``--close`` (the same mineral, for
most), the network alone (``estimator_`` of the shipped
``MatchFirstClassifier``, without the search-match) answers:

- the measured pattern;
- that AMCSD entry simulated as training patterns are (``MEASURED_LIKE``
  instrument settings, ``--draws`` draws each).

What it gets right on the simulated copies and wrong on the measured pattern
is lost to the difference between measurement and simulation, not to an
unknown structure. Per measured pattern, what might explain a loss:

- ``noise``: robust σ of the network input (after the shipped preprocessing:
  SNIP, max-normalization, square roots) minus its 5-point median filter;
- ``shift``: the zero shift (degrees) that best aligns it with its entry's
  clean simulated pattern (up to ±0.3°);
- ``similarity``: to its nearest reference;
- ``peaks``: local maxima of the input above 0.2 (the noise makes many).

Usage::

    python experiments/same_minerals.py [--close 0.8] [--draws 2]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "experiments"))
from measured_training import rruff_patterns  # noqa: E402
from peak_intensities import (  # noqa: E402
    STEP,
    best_shift,
    nearest_references,
    robust_sigma,
)


def noise_sigma(x):
    from scipy.ndimage import median_filter

    return robust_sigma(x - median_filter(x, size=5))


def n_maxima(x, level=0.2):
    inner = x[1:-1]
    return int(np.sum((inner > x[:-2]) & (inner >= x[2:]) & (inner > level)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default=str(ROOT / "skxrd/pretrained/weights/space-group.pt")
    )
    parser.add_argument("--close", type=float, default=0.8)
    parser.add_argument("--draws", type=int, default=2)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    from skxrd.crystal import to_crystal_system
    from skxrd.datasets import load_amcsd
    from skxrd.io import Pattern
    from skxrd.pretrained._store import load_model
    from skxrd.simulation import MEASURED_LIKE, InstrumentSampler, PowderSimulator

    patterns, sg = rruff_patterns()
    similarity, ids = nearest_references(args.model, patterns)
    close = np.flatnonzero(similarity >= args.close)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        amcsd = load_amcsd()
    by_id = dict(zip(amcsd.ids.tolist(), amcsd.crystals))
    entry_sg = dict(zip(amcsd.ids.tolist(), amcsd.space_group.tolist()))
    crystals = [by_id[ids[i]] for i in close]
    same_group = np.array([entry_sg[ids[i]] == sg[i] for i in close])
    print(
        f"{len(close)} RRUFF patterns at similarity >= {args.close}; the entry's "
        f"space group is the label's for {same_group.mean():.3f}"
    )

    pipe = load_model(args.model)
    prep, net = pipe[:-1], pipe[-1].estimator_
    sim = PowderSimulator(two_theta_range=(5.0, 90.0), two_theta_step=STEP)
    grid = sim.two_theta

    measured_in = prep.transform([patterns[i] for i in close])
    measured = net.predict(measured_in)
    simulated = []
    for d in range(args.draws):
        settings = InstrumentSampler(**MEASURED_LIKE).sample(
            len(crystals), random_state=args.random_state + d
        )
        X = sim.transform_varied(crystals, settings)
        inputs = prep.transform([Pattern(grid, x, wavelength="CuKa") for x in X])
        simulated.append(net.predict(inputs))
    simulated = np.array(simulated)
    # labels: the RRUFF label (the entry's group can differ for a few)
    label = sg[close]
    cs = np.vectorize(lambda g: str(to_crystal_system(int(g))))
    m_sg, m_cs = measured == label, cs(measured) == cs(label)
    s_sg = (simulated == label).mean(0)
    s_cs = (cs(simulated) == cs(label)).mean(0)
    print("| answered by the network | space group | crystal system |")
    print("|---|---:|---:|")
    print(f"| measured pattern | {m_sg.mean():.3f} | {m_cs.mean():.3f} |")
    print(
        f"| its AMCSD entry, MEASURED_LIKE ({args.draws} draws) "
        f"| {s_sg.mean():.3f} | {s_cs.mean():.3f} |"
    )
    lost = (s_cs >= 0.5) & ~m_cs
    kept = (s_cs >= 0.5) & m_cs
    print(
        f"crystal system right on the simulated copies: {int((s_cs >= 0.5).sum())}; "
        f"of those wrong when measured: {int(lost.sum())}"
    )

    # per-pattern properties of the measured inputs, lost against kept
    clean = sim.transform(crystals)
    clean_in = prep.transform([Pattern(grid, x, wavelength="CuKa") for x in clean])
    feats = {
        "noise": np.array([noise_sigma(x) for x in measured_in]),
        "peaks": np.array([n_maxima(x) for x in measured_in]),
        "similarity": similarity[close],
        "shift": STEP
        * np.array([best_shift(m, c) for m, c in zip(measured_in, clean_in)]),
    }
    sim_feats = {
        "noise": np.array([noise_sigma(x) for x in clean_in]),
        "peaks": np.array([n_maxima(x) for x in clean_in]),
    }
    print("| property (25 / 50 / 75 %) | lost | kept | clean simulated |")
    print("|---|---:|---:|---:|")
    for name, v in feats.items():

        def q(a):
            return " / ".join(f"{x:.3g}" for x in np.percentile(a, (25, 50, 75)))

        extra = q(sim_feats[name]) if name in sim_feats else ""
        if name == "shift":
            v = np.abs(v)
        print(f"| {name} | {q(v[lost])} | {q(v[kept])} | {extra} |")
    confusions = {}
    for k in np.flatnonzero(lost):
        key = (str(cs(label[k])), str(cs(measured[k])))
        confusions[key] = confusions.get(key, 0) + 1
    print("lost, true -> answered:", sorted(confusions.items(), key=lambda t: -t[1]))


if __name__ == "__main__":
    main()
