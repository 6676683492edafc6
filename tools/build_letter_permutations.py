"""Build the table of Wyckoff-letter permutations that ``prototype_label`` reads.

For each of the 230 space groups, the permutations of its Wyckoff letters
induced by the group's affine normalizer
(:func:`skxrd.crystal._prototype.computed_letter_permutations`), written to
``skxrd/crystal/letter_permutations.json``. The search takes 16-24 s for all
groups, which every process paid again before the table was bundled.

    .venv/bin/python tools/build_letter_permutations.py
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from skxrd.crystal._prototype import _PERMUTATIONS_FILE, computed_letter_permutations


def table() -> dict:
    """``{"number": {"letters": "ab...", "perms": ["ab...", ...]}}``, sorted."""
    out = {}
    for number in range(1, 231):
        perms = computed_letter_permutations(number)
        letters = "".join(perms[0])
        if len(letters) != len(perms[0]):  # one character per Wyckoff letter
            raise SystemExit(f"group {number}: letters {list(perms[0])}")
        out[str(number)] = {
            "letters": letters,
            "perms": sorted("".join(p[x] for x in letters) for p in perms),
        }
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=_PERMUTATIONS_FILE)
    args = parser.parse_args()
    t0 = time.perf_counter()
    data = table()
    args.output.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    n = sum(len(v["perms"]) for v in data.values())
    print(
        f"{n} permutations of 230 groups -> {args.output} in "
        f"{time.perf_counter() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
