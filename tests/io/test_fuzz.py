"""Generated corruptions of real files for every reader and for CIFs.

Each corrupted input must give the package's own error (PatternFormatError
for patterns, ValueError for CIFs) or a valid result: never another exception
from deep inside, a hang or a memory blow-up. The corruptions are seeded, so
a failure names a reproducible input. ``outcomes()`` is what the tests count;
``python tests/io/test_fuzz.py`` prints the tally.
"""

from __future__ import annotations

import functools
import math
import re
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from skxrd.crystal import Crystal
from skxrd.datasets import EXAMPLE_CRYSTALS, load_example_crystal
from skxrd.io import Pattern, PatternFormatError, read_pattern

DATA = Path(__file__).parent / "data"
PACKAGED = Path(__file__).parents[2] / "skxrd" / "datasets" / "data" / "measured"
SEED_FILES = {
    "xrdml": DATA / "tiny.xrdml",
    "ras": DATA / "tiny.ras",
    "rasx": DATA / "tiny.rasx",
    "raw3": DATA / "tiny_v3.raw",
    "raw4": DATA / "tiny_v4.raw",
    "uxd": DATA / "tiny.uxd",
    "gsas_std": DATA / "tiny_std.raw",
    "gsas_esd": DATA / "tiny_esd.gsa",
    "gsas_alt": DATA / "tiny_alt.gsa",
    "udf": DATA / "tiny.udf",
    "pdcif": DATA / "tiny.cif",
    "brml": DATA / "tiny.brml",
    "xy": PACKAGED / "oviedo2019" / "Cs3Bi2Br9_2-Theta_Omega.xy",
}
_NUMBER = re.compile(rb"-?\d+\.?\d*(?:[eE][-+]?\d+)?")
_HUGE = [b"1e400", b"-1e400", b"1e308", b"nan", b"inf", b"9" * 400, b"0", b"-0.0"]
_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        b"<!ENTITY %c '%s'>" % (98 + i, b"&%c;" % (97 + i) * 10) for i in range(9)
    )
    + b"]>"
)
_EXTERNAL = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
)


def _mutants(data: bytes, rng: np.random.Generator, n: int):
    """``n`` (kind, bytes) corruptions of ``data``."""
    kinds = ["truncate", "flip", "insert", "delete", "number", "encoding", "repeat"]
    if data.lstrip().startswith(b"<"):
        kinds += ["entities", "external"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        b = bytearray(data)
        if kind == "truncate":
            b = b[: int(rng.integers(0, len(b)))]
        elif kind == "flip":
            for _ in range(int(rng.integers(1, 4))):
                b[int(rng.integers(len(b)))] ^= 1 << int(rng.integers(8))
        elif kind == "insert":
            at = int(rng.integers(len(b)))
            b[at:at] = (
                rng.integers(0, 256, int(rng.integers(1, 16)))
                .astype(np.uint8)
                .tobytes()
            )
        elif kind == "delete":
            at = int(rng.integers(len(b)))
            del b[at : at + int(rng.integers(1, 64))]
        elif kind == "number":
            spans = [m.span() for m in _NUMBER.finditer(data)]
            if spans:
                s, e = spans[int(rng.integers(len(spans)))]
                b[s:e] = _HUGE[int(rng.integers(len(_HUGE)))]
        elif kind == "encoding":
            text = data.decode("latin-1")
            enc = ["utf-16", "utf-32", "cp1252"][int(rng.integers(3))]
            b = bytearray(text.encode(enc, errors="replace"))
        elif kind == "repeat":  # a block pasted twice: unordered x
            s = int(rng.integers(len(b)))
            e = min(len(b), s + int(rng.integers(1, 400)))
            b[e:e] = b[s:e]
        elif kind == "entities":
            body = data.split(b"?>", 1)[-1]
            root = re.search(rb"<(\w+)", body)
            b = bytearray(_LAUGHS + body.replace(root.group(0), root.group(0), 1))
            b = b.replace(b"</xrdMeasurements>", b"&j;</xrdMeasurements>", 1)
        elif kind == "external":
            body = data.split(b"?>", 1)[-1]
            b = bytearray(_EXTERNAL + body)
            b = b.replace(b"</xrdMeasurements>", b"&e;</xrdMeasurements>", 1)
        yield kind, bytes(b)


def _valid_pattern(p) -> bool:
    return (
        isinstance(p, Pattern)
        and len(p) > 0
        and np.all(np.isfinite(p.x))
        and np.all(np.isfinite(p.intensity))
        and np.all(np.diff(p.x) > 0)
        and (p.wavelength is None or (math.isfinite(p.wavelength) and p.wavelength > 0))
    )


def _valid_crystal(c) -> bool:
    return (
        isinstance(c, Crystal)
        and c.n_atoms > 0
        and np.all(np.isfinite(c.lattice))
        and c.volume > 0
        and np.all(np.isfinite(c.frac_coords))
    )


def _try(read, check, what):
    """``("error" | "read", seconds)``; anything else fails the test."""
    t = time.perf_counter()
    try:
        result = read()
    except PatternFormatError:
        return "error", time.perf_counter() - t
    except ValueError as exc:
        if check is _valid_pattern:  # readers raise their own error
            raise AssertionError(f"{what}: a plain ValueError: {exc}") from exc
        return "error", time.perf_counter() - t
    except Exception as exc:
        raise AssertionError(f"{what}: {type(exc).__name__}: {exc}") from exc
    assert check(result), f"{what}: an invalid result {result!r}"
    return "read", time.perf_counter() - t


def _tally_or_raise(tally, key, run, failures):
    try:
        outcome, seconds = run()
    except AssertionError as exc:
        if failures is None:
            raise
        failures.append(str(exc))
        outcome, seconds = "FAILED", 0.0
    tally[key, outcome] += 1
    return seconds


def pattern_outcomes(tmp_path, n_per_file, seed=0, failures=None):
    tally, slowest = Counter(), 0.0
    for fmt, seed_file in SEED_FILES.items():
        rng = np.random.default_rng([seed, len(fmt)])
        data = seed_file.read_bytes()
        path = tmp_path / f"mutant{seed_file.suffix}"
        for i, (kind, mutant) in enumerate(_mutants(data, rng, n_per_file)):
            path.write_bytes(mutant)
            what = f"{fmt} mutant {i} ({kind}, seed {seed})"
            read = functools.partial(read_pattern, path, wavelength=1.5406)
            seconds = _tally_or_raise(
                tally,
                fmt,
                lambda r=read, w=what: _try(r, _valid_pattern, w),
                failures,
            )
            slowest = max(slowest, seconds)
    return tally, slowest


def cif_outcomes(n_per_crystal, seed=0, failures=None):
    tally, slowest = Counter(), 0.0
    for name in EXAMPLE_CRYSTALS:
        rng = np.random.default_rng([seed, len(name)])
        text = load_example_crystal(name).to_cif().encode()
        for i, (kind, mutant) in enumerate(_mutants(text, rng, n_per_crystal)):
            what = f"{name} CIF mutant {i} ({kind}, seed {seed})"
            cif = mutant.decode("latin-1")
            if "data_" not in cif:
                cif = "data_x\n" + cif
            seconds = _tally_or_raise(
                tally,
                "cif",
                lambda c=cif, w=what: _try(
                    lambda: Crystal.from_cif(c), _valid_crystal, w
                ),
                failures,
            )
            slowest = max(slowest, seconds)
    return tally, slowest


@pytest.mark.timeout(300)
@pytest.mark.filterwarnings("error::RuntimeWarning")  # numpy overflow: unhandled
def test_every_reader_survives_corrupted_files(tmp_path):
    tracemalloc.start()
    try:
        tally, slowest = pattern_outcomes(tmp_path, n_per_file=150)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sum(tally.values()) == len(SEED_FILES) * 150
    for fmt in SEED_FILES:  # both outcomes occur: the corruptions bite
        assert tally[fmt, "error"] > 0, tally
    assert slowest < 5.0
    assert peak < 100e6


@pytest.mark.timeout(300)
def test_cif_parser_survives_corrupted_files():
    tally, slowest = cif_outcomes(n_per_crystal=12)
    assert tally["cif", "error"] > 0 and tally["cif", "read"] > 0, tally
    assert slowest < 5.0


def test_xml_entity_tricks_are_errors(tmp_path):
    data = SEED_FILES["xrdml"].read_bytes()
    rng = np.random.default_rng(0)
    tricks = [m for k, m in _mutants(data, rng, 9) if k in ("entities", "external")]
    assert len(tricks) == 2
    for i, trick in enumerate(tricks):
        path = tmp_path / f"trick{i}.xrdml"
        path.write_bytes(trick)
        t = time.perf_counter()
        with pytest.raises(PatternFormatError, match="XML"):
            read_pattern(path)
        assert time.perf_counter() - t < 1.0


if __name__ == "__main__":  # the counts for a closing note
    import tempfile

    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        tally, slowest = pattern_outcomes(Path(tmp), 1000, failures=failed)
    cifs, cif_slowest = cif_outcomes(100, failures=failed)
    tally.update(cifs)
    for key in sorted(tally):
        print(*key, tally[key])
    print("inputs", sum(tally.values()), "slowest", max(slowest, cif_slowest), "s")
    for message in failed:
        print("FAILED", message)
