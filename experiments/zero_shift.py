"""Model files on the measured RRUFF minerals with a zero-point error added.

A diffractometer's zero error or a displaced sample moves every peak; the 456
RRUFF patterns (5–90°, validation only) are given to each model as they are
and moved by ±0.1° and +0.2° 2θ. Cells: crystal system top-1 / space group
top-1, and the share answered by the search-match.

Run::

    python experiments/zero_shift.py skxrd/pretrained/weights/space-group.pt \\
        OTHER/space-group.pt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "experiments"))

SHIFTS = (0.0, 0.1, -0.1, 0.2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path, help="model files")
    args = parser.parse_args(argv)
    from measured_training import rruff_patterns
    from scan_range import scores

    from skxrd.io import Pattern
    from skxrd.pretrained import load_model

    patterns, space_group = rruff_patterns()
    space_group = np.asarray(space_group)
    print("| model | " + " | ".join(f"{d:+.1f}°" for d in SHIFTS) + " |")
    print("|---|" + "---:|" * len(SHIFTS))
    for path in args.models:
        model = load_model(path, device="cpu")
        cells = []
        for d in SHIFTS:
            moved = [
                Pattern(p.two_theta + d, p.intensity, wavelength=p.wavelength)
                for p in patterns
            ]
            cs, sg, _, matched = scores(model, moved, space_group)
            cells.append(f"{cs:.3f} / {sg:.3f} ({matched:.2f})")
        print(f"| {path} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
