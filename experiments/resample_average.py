"""Measured scans on finer steps than the model's: point-sampled or averaged.

The RRUFF patterns come on 0.01° steps; the shipped models read 0.02°.
``PatternResampler(method="linear")`` (what the shipped files do) takes the
measured point at each model point and drops the one between;
``method="average"`` (the default since) takes the mean of the measured steps
across each model step. This script reports, on the 456 RRUFF patterns:

- the noise level of the resampled patterns (the robust spread of the
  point-to-point differences, over the pattern's maximum), both ways;
- the shipped space-group model's scores (``measured_training.score``, as the
  model cards) with its resampler set to each method, and how many answers
  move.

Only scores: nothing is fitted to the measured patterns.

    .venv/bin/python experiments/resample_average.py     # about 13 minutes on 2 cores
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from measured_training import crystal_system_proba, rruff_patterns, score  # noqa: E402

from skxrd import load_pretrained  # noqa: E402
from skxrd.preprocessing import PatternResampler  # noqa: E402


def noise_level(X):
    """Per row: the robust SD of the point-to-point differences over √2, over
    the row's maximum."""
    d = np.diff(X, axis=1)
    mad = np.median(np.abs(d - np.median(d, axis=1, keepdims=True)), axis=1)
    return 1.4826 * mad / np.sqrt(2) / np.maximum(X.max(axis=1), 1e-300)


def main():
    patterns, sg = rruff_patterns()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        X = {
            m: PatternResampler(method=m).fit().transform(patterns)
            for m in ("linear", "average")
        }
    ratio = noise_level(X["average"]) / np.maximum(noise_level(X["linear"]), 1e-300)
    print(
        "noise level, averaged over point-sampled: median "
        f"{np.median(ratio):.3f}, 10th-90th percentile "
        f"{np.percentile(ratio, 10):.3f}-{np.percentile(ratio, 90):.3f}"
    )
    model = load_pretrained("space-group", device="cpu")
    answers = {}
    for method in ("linear", "average"):
        model.set_params(resample__method=method)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            proba = model.predict_proba(patterns)
        classes = np.asarray(model.classes_).astype(int)
        names, cs = crystal_system_proba(proba, classes)
        answers[method] = (classes[proba.argmax(1)], names[cs.argmax(1)])
        # scored on the answers at hand (score asks for predict_proba)
        done = SimpleNamespace(
            classes_=model.classes_, predict_proba=lambda _, p=proba: p
        )
        print(method, json.dumps(score(done, patterns, sg)))
    moved_sg = int(np.sum(answers["linear"][0] != answers["average"][0]))
    moved_cs = int(np.sum(answers["linear"][1] != answers["average"][1]))
    print(f"answers moved: {moved_sg} space groups, {moved_cs} crystal systems")


if __name__ == "__main__":
    main()
