"""The shipped space-group model on measured patterns cut to shorter scans.

Laboratory scans often cover less than the model's 5–90° (10–80° and 15–70°
are common). The model resamples a pattern onto its grid and fills the points
the scan does not cover with 0 (with a warning), so the search-match in front
of the network used to correlate those zeros with the references' peaks there
and find no close mineral. ``PatternMatchClassifier(unmeasured_run=25)`` (the
default) compares a pattern with the references over the range it covers.

The 456 RRUFF patterns (5–90°, validation only) are cut to each range and
given to the shipped model as they are (``unmeasured_run=25``) and with the
search-match over whole rows (``unmeasured_run=0``, as before); cells:
crystal system top-1, space group top-1 / top-5, the share answered by the
search-match (from its threshold on). A broad background hump added to the
whole scan is a control. No parameter was chosen on these patterns: the run
length is the one that no full RRUFF scan reaches (its ends carry at most 10
zeros after the background subtraction).

With ``--cache``, the same on simulated patterns (the second table): 1,000 of
the config's held-out Materials Project prototypes (compounds the references
mostly lack) and 1,000 AMCSD entries (compounds they hold; seed 11, not the
tuning seed), with measured-like settings, their points outside each range set
to 0 as the resampler does.

``--ranges 5-90 7.5-90`` scores other ranges instead (without the hump
control), such as a scan that leaves out the weak low-angle lines that no cell
explains (37 % of the RRUFF patterns have a peak below 7.5°).

Run::

    python experiments/scan_range.py [--cache CACHE] [--ranges LO-HI ...]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

RANGES = ((5, 90), (10, 80), (15, 70), (20, 60), (10, 50))


def crop(pattern, lo, hi):
    """The part of a measured pattern between ``lo`` and ``hi`` degrees 2θ."""
    from skxrd.io import Pattern

    keep = (pattern.two_theta >= lo) & (pattern.two_theta <= hi)
    return Pattern(
        pattern.two_theta[keep], pattern.intensity[keep], wavelength=pattern.wavelength
    )


def hump(pattern, level):
    """The pattern on a broad amorphous hump and a falling background."""
    from skxrd.io import Pattern

    t = pattern.two_theta
    bg = np.exp(-0.5 * ((t - 25) / 8) ** 2) + 0.3 * np.exp(-t / 30)
    intensity = pattern.intensity + level * pattern.intensity.max() * bg
    return Pattern(t, intensity, wavelength=pattern.wavelength)


def scores(model, patterns, space_group):
    """Crystal system top-1, space group top-1 / top-5, share matched."""
    from measured_training import crystal_system_proba

    from skxrd.crystal import to_crystal_system
    from skxrd.estimators._match import search_match_of

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ranges not covered
        proba = model.predict_proba(patterns)
        rows = model.transform_patterns(patterns)
    classes = np.asarray(model.classes_)
    names, cs_proba = crystal_system_proba(proba, classes)
    cs = np.asarray(to_crystal_system(space_group)).astype(str)
    top = classes[np.argsort(-proba, axis=1)[:, :5]]
    matched = search_match_of(model).predict_source(rows) == "match"
    return (
        np.mean(names[cs_proba.argmax(1)] == cs),
        np.mean(top[:, 0] == space_group),
        np.mean((top == space_group[:, None]).any(1)),
        np.mean(matched),
    )


def simulated(model, cache, ranges=RANGES[:3]):
    """Rows of the simulated table: held-out prototypes and AMCSD entries."""
    from pretrained_cards import held_out_set

    from skxrd.datasets import make_pattern_dataset
    from skxrd.estimators._match import search_match_of
    from skxrd.pretrained._train import _reference_collection, _simulator

    config = model.metadata_["config"]
    X, _, sg = held_out_set(config, cache)
    collection, _ = _reference_collection(config["match"], config)
    known = make_pattern_dataset(
        1000,
        source=collection,
        variants=False,
        instrument=config["data"]["instrument"],
        simulator=_simulator(config),
        cache=cache,
        random_state=11,
        n_jobs=2,
        verbose=False,
    )
    sets = {
        "held-out prototypes": (X[:1000], np.asarray(sg[:1000])),
        "AMCSD entries": (known.X, np.asarray(known.space_group)),
    }
    matcher = search_match_of(model).matcher_
    default = matcher.unmeasured_run
    grid = model.steps[0][1].grid_
    print()
    print(
        "| scan | patterns | search-match over | crystal system | "
        "space group top-1 / top-5 | matched |"
    )
    print("|---|---|---|---:|---:|---:|")
    for lo, hi in ranges:
        for name, (X, sg) in sets.items():
            cut = X.copy()
            cut[:, (grid < lo) | (grid > hi)] = 0.0
            for run, over in (
                (0, "whole rows (before)"),
                (default, "the measured range"),
            ):
                matcher.set_params(unmeasured_run=run)
                cs, top1, top5, share = scores(model, cut, sg)
                print(
                    f"| {lo:g}–{hi:g}° | {name} | {over} | {cs:.3f} | {top1:.3f} / "
                    f"{top5:.3f} | {share:.2f} |",
                    flush=True,
                )
    matcher.set_params(unmeasured_run=default)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=None, help="the dataset cache")
    parser.add_argument(
        "--ranges", nargs="+", default=None, help="2θ ranges LO-HI in degrees"
    )
    args = parser.parse_args(argv)
    ranges = RANGES
    if args.ranges:
        try:
            ranges = [tuple(float(v) for v in r.split("-")) for r in args.ranges]
        except ValueError:
            sys.exit(f"--ranges {args.ranges}: each must be LO-HI, such as 7.5-90")
        if any(len(r) != 2 or not r[0] < r[1] for r in ranges):
            sys.exit(f"--ranges {args.ranges}: each must be LO-HI with LO < HI")
    from measured_training import rruff_patterns
    from pretrained_cards import _parallel_indexing

    from skxrd.estimators._match import search_match_of
    from skxrd.pretrained import load_pretrained

    patterns, space_group = rruff_patterns()
    space_group = np.asarray(space_group)
    model = load_pretrained("space-group", device="cpu")
    _parallel_indexing(model)  # the indexing stacker, in two processes
    matcher = search_match_of(model).matcher_
    variants = [
        (f"{lo:g}–{hi:g}°", lambda p, lo=lo, hi=hi: crop(p, lo, hi))
        for lo, hi in ranges
    ]
    if not args.ranges:
        variants.append(
            ("5–90°, background hump (50 % of the top peak)", lambda p: hump(p, 0.5))
        )
    print(
        "| scan | search-match over | crystal system | space group top-1 / top-5 "
        "| matched |"
    )
    print("|---|---|---:|---:|---:|")
    default = matcher.unmeasured_run
    for label, alter in variants:
        altered = [alter(p) for p in patterns]
        for run, over in ((0, "whole rows (before)"), (default, "the measured range")):
            matcher.set_params(unmeasured_run=run)
            cs, sg, sg5, share = scores(model, altered, space_group)
            print(
                f"| {label} | {over} | {cs:.3f} | {sg:.3f} / {sg5:.3f} | {share:.2f} |",
                flush=True,
            )
    matcher.set_params(unmeasured_run=default)
    if args.cache is not None:
        simulated(model, args.cache, ranges if args.ranges else RANGES[:3])


if __name__ == "__main__":
    main()
