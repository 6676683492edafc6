"""Instrument text formats of fixed layout: Bruker UXD, GSAS raw banks
(``STD``, ``ESD``, ``ALT``, ``FXY``) and Philips UDF.

:mod:`._readers` recognises them (:func:`sniff`) and calls the readers here;
each returns a :class:`._readers._Found`. Format facts: the Bruker DIFFRAC-AT
/ DIFFRAC plus UXD manuals, the GSAS manual (Larson & Von Dreele, LAUR
86-748, "GSAS Standard Powder Data File") and the Philips PC-APD file
description, as summarised by xylib and GSAS-II.

GSAS ``FXYE`` banks stay with the text-column reader, which has read them
all along.
"""

from __future__ import annotations

import math
import re
from array import array
from itertools import repeat
from typing import Any

import numpy as np

from ..utils._radiation import XRAY_LINES, get_radiation
from ._readers import (
    _COMMA_NUMBER,
    _LINE_BREAK,
    PatternFormatError,
    _bad_wavelength,
    _cut_last_number,
    _decode,
    _Found,
    _header_float,
    _iter_lines,
    _last_line_number,
    _merge_ranges,
    _numbers,
    _ordered,
    _radiation_from_lines,
    _record_lines,
    _wavelength_from_header,
)

__all__ = ["read_gsas", "read_udf", "read_uxd", "sniff"]

_UXD_KEY = re.compile(r"^_([A-Za-z0-9][\w\-]*)\s*=\s*(.*?)\s*$")
_UDF_KEY = re.compile(r"^[A-Za-z][\w\-]*\s*,.*/\s*$")
_GSAS_BANK_LINE = re.compile(r"^BANK\s+\d+\s+\d+")
_NUMBER_SPLIT = re.compile(r"[\s,]+")
# a data line of numbers each with at most one comma inside, none after a
# space, and no point: decimal commas or comma-separated numbers, which the
# line alone does not tell (_resolve_commas asks the rest of its range)
_COMMA_INSIDE = re.compile(rf"{_COMMA_NUMBER}(?:\s+{_COMMA_NUMBER})*")


# ---------------------------------------------------------------- recognising
def sniff(text: str, strict: bool = True) -> str | None:
    """``"uxd"``, ``"gsas"``, ``"udf"`` or None from a text file's first
    characters (its first 4096 bytes, decoded).

    UXD: the first line that is neither blank nor a ``;`` comment is a
    ``_KEY=value`` line, and the first line of numbers follows a data keyword
    (``_COUNTS``...). UDF: the non-blank lines up to ``RawScan`` are ``Key,
    value, /`` lines. Files that fail these are read as text columns, as they
    were before these formats were read; with ``strict=False`` (a ``.uxd`` or
    ``.udf`` file) the first line alone decides, so that the reader names
    what is wrong.
    GSAS: a title line, an optional ``Instrument parameter`` line and ``#``
    comments, then a ``BANK n nchan ...`` line whose type is not ``FXYE``
    (FXYE banks are columns, which the text reader reads).
    """
    text = text.removeprefix("\ufeff").removeprefix("ï»¿")  # byte-order marks
    lines = _LINE_BREAK.split(text)
    if len(lines) > 1 and len(text) >= 2048:
        lines = lines[:-1]  # the last may be cut where the 4096-byte head ends
    significant = [s.strip() for s in lines if s.strip()]
    if not significant:
        return None
    first_uxd = next((s for s in significant if not s.startswith(";")), "")
    if _UXD_KEY.match(first_uxd):
        return "uxd" if not strict or _uxd_layout(significant) else None
    if _UDF_KEY.match(significant[0]):
        return "udf" if not strict or _udf_layout(significant) else None
    for i, raw in enumerate(lines[1:], 1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if i == 1 and s[:4].lower() == "inst":
            continue
        if s.startswith("TIME_MAP"):
            return "gsas"  # time of flight: the GSAS reader says it is not read
        if _GSAS_BANK_LINE.match(s):
            words = s.split()
            return None if words[-1].upper() == "FXYE" else "gsas"
        return None
    return None


def _uxd_layout(significant) -> bool:
    """Whether the head is laid out as UXD: up to the first line of numbers,
    ``_KEY=value`` lines and ``;`` comments, and a data keyword right before
    the numbers. A text-columns file whose header opens with a line such as
    ``_wavelength = 1.5406`` (or holds ``_2theta intensity``) is not UXD."""
    keyword = False  # the last line read was a data keyword
    for s in significant:
        if s.startswith(";"):
            continue
        if not s.startswith("_"):
            return keyword  # the first numbers: UXD opens them with a keyword
        if _UXD_KEY.match(s):
            keyword = False
        elif len(s.split()) == 1:
            keyword = True  # a data keyword (an unknown one the reader names)
        else:
            return False  # '_2theta intensity': a column header
    return True  # a header longer than the head


def _udf_layout(significant) -> bool:
    """Whether every line before ``RawScan`` is a ``Key, value, /`` line: a
    text-columns file headed ``x, y, /`` is not UDF."""
    for s in significant:
        if s.lower() == "rawscan":
            return True
        if not _UDF_KEY.match(s):
            return False
    return True  # a header longer than the head


def _err(path):
    def make(message, **where):
        return PatternFormatError(path, message, **where)

    return make


def _number(err, text, what, no, decimal_comma=True):
    """One finite float of a header field, or the error naming the line.

    Read by :func:`._readers._header_float`: ``1,5406`` is 1.5406 unless
    ``decimal_comma=False`` (a count of points)."""
    try:
        value = _header_float(text, decimal_comma=decimal_comma)
    except ValueError:
        raise err(f"{what} {text!r} is not a number", line=no) from None
    if not math.isfinite(value):
        raise err(f"{what} {text!r}: NaN and infinite values are not data", line=no)
    return value


def _check_last_line(err, text, line, **how):
    """Refuse a file whose last line, data without a line break, shows that
    the file was cut short (see :func:`._readers._cut_last_number`).

    Instrument software ends every line, but files edited by hand or
    written by Windows tools often lack the final break, and xylib reads
    them: the missing break alone is no evidence."""
    why = _cut_last_number(text, **how)
    if why is not None:
        raise err(
            f"the last line has no line break and {why}: the file is "
            "truncated (cut inside its last number)",
            line=line,
        )


def _check_step(err, start, step, what, no):
    if step is None:
        raise err(f"{what} states no step size", line=no)
    if start is None:
        raise err(f"{what} states no start angle", line=no)
    if not step > 0:
        raise err(f"{what} has a step of {step:g}; it must be positive", line=no)


def _anode_radiation(anode: str):
    """The Kα doublet of a named anode (``"Cu"``), or None."""
    name = f"{anode.strip().strip(chr(39)).capitalize()}Ka"
    return get_radiation(name) if name in XRAY_LINES else None


# ------------------------------------------------------------------ Bruker UXD
# A 2θ scan: coupled θ/2θ, 2θ alone (detector scan) or unlocked coupled
_UXD_TWO_THETA = {
    "coupled",
    "unlocked",
    "unlockedcoupled",
    "2theta",
    "twotheta",
    "detector",
    "theta2theta",
    "2thetatheta",
    "thetatheta",
    "2thetaomega",
    "omega2theta",
}
_UXD_SINGLE = ("COUNTS", "CPS")  # intensities only, x from start and step
_UXD_PAIRS = ("2THETACOUNTS", "2THETACPS")  # x, intensity pairs
# x, counts, counting time (s) triples: the counts of a scan whose time per
# step varies (xylib names the keyword; no layout but the name's is known)
_UXD_TRIPLES = ("2THETACOUNTSTIME",)
_UXD_KEYWORDS = "_COUNTS, _CPS, _2THETACOUNTS, _2THETACPS or _2THETACOUNTSTIME"
# data keywords that files carry but no description found (the Bruker manuals
# as xylib, GSAS-II and others summarise them) lays out: refused by name
_UXD_UNDESCRIBED = ("2THETACPSTIME",)
_UXD_PEAKS = ("D-I", "2THETA-I")  # a peak list, not a scan


def read_uxd(path, data, axis) -> _Found:
    """A Bruker DIFFRAC-AT / DIFFRAC plus UXD file.

    ``;`` lines are comments; ``_KEY=value`` lines are the file header (before
    the first ``_DRIVE``) or the header of a range; ``_COUNTS`` / ``_CPS``
    open intensities on the grid ``_START + i * _STEPSIZE``, ``_2THETACOUNTS``
    / ``_2THETACPS`` (x, intensity) pairs and ``_2THETACOUNTSTIME`` (x,
    counts, counting time) triples. Several ranges are joined when disjoint,
    as for RAW, XRDML and RAS files. Commas separate numbers; a line whose
    commas could be decimal commas (``1048,1162``) is read as the rest of
    its range shows (:func:`_resolve_commas`).
    """
    err = _err(path)
    text = _decode(data).rstrip("\x1a")
    # before the numbers are read: a cut "1e" is then named as a cut
    _check_last_line(err, text, _last_line_number(text))
    file_keys: dict[str, str] = {}
    ranges: list[dict[str, Any]] = []  # {"keys", "line", "kind", "values", ...}
    current: dict[str, Any] | None = None  # the range being read
    peak_list = False
    last_data = no = 0
    for no, raw in enumerate(_iter_lines(text), 1):
        s = raw.strip()
        if not s or s.startswith(";"):
            continue
        if s.startswith("_"):
            m = _UXD_KEY.match(s)
            word = (s[1:].split() or [""])[0].upper() if m is None else None
            if word in _UXD_SINGLE or word in _UXD_PAIRS or word in _UXD_TRIPLES:
                if current is None or current.get("kind"):
                    # data without a _DRIVE of its own: a range of the file header
                    current = {"keys": {}, "line": no, "kind": None}
                    ranges.append(current)
                current["kind"] = (
                    "single"
                    if word in _UXD_SINGLE
                    else "pairs"
                    if word in _UXD_PAIRS
                    else "triples"
                )
                current["data_line"] = no
                current["unit"] = "cps" if word.endswith("CPS") else "counts"
                # flat arrays: a 100 MB file holds millions of numbers
                current["values"], current["lines"] = array("d"), array("q")
                current["decimals"] = array("b")
                peak_list = False
                continue
            if word in _UXD_PEAKS:
                peak_list = True
                if current is not None and not current.get("kind"):
                    current["peak_list"] = True
                continue
            if word in _UXD_UNDESCRIBED:
                raise err(
                    f"_{word}: a data keyword that no UXD description we know "
                    "lays out (which columns, count rates or counts, the time "
                    f"unit); not read rather than guessed; read are {_UXD_KEYWORDS}",
                    line=no,
                )
            if m is None:
                raise err(
                    f"{s!r} is neither a _KEY=value line nor a data keyword "
                    f"({_UXD_KEYWORDS})",
                    line=no,
                )
            key, value = m.group(1).upper(), m.group(2).strip().strip("'\"")
            peak_list = False
            if key == "DRIVE" or (current is not None and current.get("kind")):
                # a range's header starts (at _DRIVE, or after the last data)
                current = {"keys": {}, "line": no, "kind": None}
                ranges.append(current)
            target = file_keys if current is None else current["keys"]
            target[key] = (value, no)
            continue
        if peak_list:
            continue
        if current is None or not current.get("kind"):
            raise err(
                f"{s!r}: numbers before a data keyword ({_UXD_KEYWORDS})",
                line=no,
            )
        tokens = [t for t in _NUMBER_SPLIT.split(s) if t]
        values = _numbers(tokens, err, no)
        if "," in s and _COMMA_INSIDE.fullmatch(s):
            # "1048,1162" or "10,00 123,0": numbers separated by a comma
            # alone, or decimal commas? Read with commas between numbers, as
            # UXD readers do, and decided when the range is read, from what
            # the rest of it says (_resolve_commas)
            current.setdefault("ambiguous", []).append(
                (no, len(current["values"]), len(tokens), s)
            )
        elif "," in s:
            # "1048,1162,973", "1048, 1162", "10.00,1048": commas that
            # separate numbers, as this file writes them
            current.setdefault("comma_line", no)
        if "." in s:
            current.setdefault("point_line", no)  # decimals written with points
        current["values"].extend(values)
        current["lines"].extend(repeat(no, len(values)))
        if current["kind"] != "single":  # how finely each 2θ is printed
            current["decimals"].extend(_decimals(t) for t in tokens)
        last_data = no
    if last_data and last_data == no and current.get("kind") == "single":
        # _COUNTS / _CPS rows: fields of one width, which show a cut count
        _check_last_line(err, text, no, same_width=True)
    meta: dict[str, Any] = {}
    # a range that is only a peak list (_D-I, _2THETA-I) is passed over
    lists = [r for r in ranges if not r.get("kind") and r.get("peak_list")]
    ranges = [r for r in ranges if r.get("kind") or not r.get("peak_list")]
    if lists:
        meta["peak_lists_passed_over"] = [r["line"] for r in lists]
    if not ranges:
        raise err(
            f"no scan: no {_UXD_KEYWORDS} block"
            + (
                " (the file holds a peak list, not a scan)"
                if peak_list or lists
                else ""
            )
        )
    found = [
        _uxd_range(path, rng, file_keys, k, len(ranges), meta)
        for k, rng in enumerate(ranges, 1)
    ]
    if any(r.get("times") is not None for r in ranges):
        found = _uxd_times(found, ranges, meta)
    units = {rng["unit"] for rng in ranges}
    if len(units) > 1:
        raise err(
            "the ranges mix counts (_COUNTS, _2THETACOUNTS, _2THETACOUNTSTIME "
            "of one counting time) and count rates (_CPS, _2THETACPS, "
            "_2THETACOUNTSTIME of varying times)"
        )
    x, y, _ = _merge_ranges(path, found, meta)
    meta["intensity_unit"] = units.pop()
    keys = {k: v for k, (v, _) in file_keys.items()}
    for key, name in (("SAMPLE", "sample_name"), ("ANODE", "anode")):
        if keys.get(key):
            meta[name] = keys[key]
    meta["uxd_header"] = keys

    def wavelength(key):
        for where in (file_keys, ranges[0]["keys"]):
            if key in where:
                value, no = where[key]
                return _number(err, value, f"_{key}", no)
        return None

    unit = keys.get("WL_UNIT", "A").strip().lower()
    scale = {"a": 1.0, "å": 1.0, "angstrom": 1.0, "nm": 10.0}.get(unit)
    if scale is None:
        no = file_keys["WL_UNIT"][1]
        raise err(f"_WL_UNIT={unit!r}: a wavelength unit of Å or nm", line=no)
    a1, a2, ratio = wavelength("WL1"), wavelength("WL2"), wavelength("WLRATIO")
    a1 = None if a1 is None else a1 * scale
    a2 = None if a2 is None else a2 * scale
    radiation, lam = _radiation_from_lines(a1, a2, ratio, keys.get("ANODE", ""))
    # an error only if the caller gives no wavelength either
    lam_error = _bad_wavelength(
        path,
        a1,
        "_WL1",
        line=file_keys.get("WL1", ranges[0]["keys"].get("WL1", (0, None)))[1],
    )
    if radiation is None and lam is None and (a1 is None or a1 == 0):
        # no Kα1, or 0 in its place: the range's own line or the anode's
        used = wavelength("RANGE_WL")  # the range's own statement
        if used is not None and 0.01 < used * scale < 20:
            lam = used * scale
        elif keys.get("ANODE"):
            radiation = _anode_radiation(keys["ANODE"])
            if radiation is not None:
                meta["wavelength_statement"] = f"_ANODE={keys['ANODE']}"
        if radiation is not None or lam is not None:
            lam_error = None
    _record_lines(meta, a1, a2, ratio)
    return _Found(
        "bruker_uxd",
        x,
        y,
        wavelength=lam,
        radiation=radiation,
        metadata=meta,
        wavelength_error=lam_error,
    )


def _uxd_range(path, rng, file_keys, k, n, meta):
    """(x, y, None, reversed) of one UXD range."""
    err = _err(path)
    label = f"range {k} of {n}" if n > 1 else "the scan"
    if not rng.get("kind"):
        raise err(
            f"{label} (header from line {rng['line']}) has no data keyword "
            f"({_UXD_KEYWORDS}): the file is truncated",
            line=rng["line"],
        )

    def get(key):
        return rng["keys"].get(key) or file_keys.get(key)

    stated = get("STEPCOUNT") or get("STEPS")
    if rng.get("ambiguous"):
        count = None
        if stated is not None:
            count = _number(
                err, stated[0], "the step count", stated[1], decimal_comma=False
            )
        _resolve_commas(err, rng, count, meta)
    drive = get("DRIVE")
    if drive is not None:
        norm = re.sub(r"[^a-z0-9]", "", drive[0].lower())
        if norm not in _UXD_TWO_THETA:
            raise err(
                f"{label} drives {drive[0]!r}, not 2θ: not a powder scan",
                line=drive[1],
            )
        meta.setdefault("scan_type", drive[0])
    steptime = get("STEPTIME")
    if steptime is not None:
        meta.setdefault(
            "time_per_step_s", _number(err, steptime[0], "_STEPTIME", steptime[1])
        )
    values = np.frombuffer(rng["values"], dtype=np.float64)
    lines = np.frombuffer(rng["lines"], dtype=np.int64)
    data_line = rng["data_line"]
    if values.size == 0:
        raise err(
            f"{label}: no numbers after the data keyword: the file is truncated",
            line=data_line,
        )
    if rng["kind"] != "single":
        size = 2 if rng["kind"] == "pairs" else 3
        if len(values) % size:
            what = "intensity" if size == 2 else "counts and counting time"
            raise err(
                f"{label}: an x without its {what} ({len(values)} numbers in "
                f"x, {what} {'pairs' if size == 2 else 'triples'}): the data "
                "are truncated",
                line=int(lines[-1]),
            )
        x, y = values[0::size].copy(), values[1::size].copy()
        where_lines = lines[0::size]
        if size == 3:
            t = values[2::size].copy()
            bad = np.flatnonzero(~(t > 0))
            if bad.size:
                raise err(
                    f"{label}: a counting time of {t[bad[0]]:g} s; it must be positive",
                    line=int(where_lines[bad[0]]),
                )
            rng["times"] = t
        grid = _printed_grid(get("START"), get("STEPSIZE"), x, rng, size)
        if grid is not None:
            x = grid
            meta["x_from_grid"] = (
                "2θ from _START + i × _STEPSIZE: the printed 2θ are that grid, rounded"
            )
    else:
        start, step = get("START"), get("STEPSIZE")
        start_v = None if start is None else _number(err, start[0], "_START", start[1])
        step_v = None if step is None else _number(err, step[0], "_STEPSIZE", step[1])
        _check_step(err, start_v, step_v, label, step[1] if step else data_line)
        y = values.copy()
        x = start_v + step_v * np.arange(len(y))
        where_lines = lines
    if stated is not None:
        count = _number(
            err, stated[0], "the step count", stated[1], decimal_comma=False
        )
        if count != len(y):
            raise err(
                f"{label}: the header says {count:g} points, the data hold "
                f"{len(y)}: the file is truncated or damaged",
                line=int(lines[-1]),
            )
    x, (y, _), rev = _ordered(
        path, x, [y, None], lambda i: {"line": int(where_lines[i])}
    )
    if rev and rng.get("times") is not None:
        rng["times"] = rng["times"][::-1]
    _check_two_theta(err, x, where_lines, rev)
    return x, y, None, rev


def _resolve_commas(err, rng, count, meta):
    """Read the range's lines of numbers with a comma inside and no point
    (``1048,1162``, ``10,00 123,0``) as the rest of the range says: commas
    between numbers, or decimal commas.

    They were read with commas between numbers; where that is the file's
    own way (another line separates numbers with commas, or writes decimal
    points) they stay so. Otherwise the stated number of points ``count``
    (``_STEPCOUNT`` / ``_STEPS``) and, for (2θ, intensity) pairs, 2θ that
    rise or fall step by step decide between the two readings. Where
    neither or both fit, the first such line is named: its numbers are not
    guessed (split at its commas, 10,00 123,0 had been four numbers)."""
    size = {"single": 1, "pairs": 2, "triples": 3}[rng["kind"]]
    ambiguous = rng["ambiguous"]
    separated = (
        np.frombuffer(rng["values"], dtype=np.float64),
        np.frombuffer(rng["lines"], dtype=np.int64),
        np.frombuffer(rng["decimals"], dtype=np.int8),
    )
    # with decimal commas each comma joins two numbers into one ("123,5")
    sizes = {
        "separating commas": len(separated[0]),
        "decimal commas": len(separated[0]) - sum(a[3].count(",") for a in ambiguous),
    }
    built = {"separating commas": separated}

    def reading(name):
        if name not in built:  # built only where needed: a file may be large
            built[name] = _decimal_reading(separated, ambiguous, size)
        return built[name]

    # a scan has two points at least, each of ``size`` numbers ("1048,1162"
    # alone: two counts, not one)
    fits = {r for r, n in sizes.items() if n >= 2 * size and not n % size}
    why = []
    seen = rng.get("comma_line") or rng.get("point_line")
    if seen is not None:
        fits &= {"separating commas"}
        how = "separates numbers with commas" if rng.get("comma_line") else None
        why.append(f"line {seen} {how or 'writes decimal points'}")
    if count is not None:
        fits &= {r for r, n in sizes.items() if n == count * size}
        why.append(f"the header states {count:g} points")
    if size > 1:
        # pairs or triples of a scan: 2θ rising (or falling) step by step
        fits = {r for r in fits if _a_scan(reading(r)[0], size)}
    first, text = ambiguous[0][0], ambiguous[0][3]
    if len(fits) != 1:
        if fits:
            said = "nothing else in the range tells which"
        elif why:
            said = f"{'; '.join(why)}, which fits neither reading"
        else:
            said = "neither reading gives a scan"
        token = next(t for t in text.split() if "," in t)
        raise err(
            f"{text!r}: a comma inside numbers and no decimal point on the line: "
            f"decimal commas ({token.replace(',', '.')}) or numbers separated by "
            f"commas ({token.replace(',', ' and ')})? "
            f"{said[0].upper()}{said[1:]} (what would: commas between numbers or "
            "a decimal point on another line of the range, or its number of "
            "points in _STEPCOUNT): write decimal points, or a space after each "
            "separating comma",
            line=first,
        )
    (chosen,) = fits
    rng["values"], rng["lines"], rng["decimals"] = reading(chosen)
    where = ", ".join(str(a[0]) for a in ambiguous[:5]) + (
        ", ..." if len(ambiguous) > 5 else ""
    )
    because = "; ".join(why) if why else "only that reading gives a scan"
    meta.setdefault("uxd_commas", []).append(
        f"line(s) {where} read with {chosen} ({because})"
    )


def _decimal_reading(separated, ambiguous, size):
    """(values, lines, decimals) of a range with the commas of its
    ``ambiguous`` lines read as decimal commas ("123,5" is 123.5), from the
    same arrays ``separated`` read with commas between numbers."""
    pieces: list[list[np.ndarray]] = [[], [], []]
    done = 0
    for no, start, n, text in ambiguous:
        for piece, column in zip(pieces, separated):
            piece.append(column[done:start])
        tokens = [t.replace(",", ".") for t in text.split()]
        pieces[0].append(np.array([float(t) for t in tokens]))
        pieces[1].append(np.full(len(tokens), no, dtype=np.int64))
        pieces[2].append(np.array([_decimals(t) for t in tokens], dtype=np.int8))
        done = start + n
    for piece, column in zip(pieces, separated):
        piece.append(column[done:])
    values, lines, decimals = (np.concatenate(p) for p in pieces)
    if size == 1:  # the decimals are recorded for the 2θ of pairs only
        decimals = separated[2]
    return values, lines, decimals


def _a_scan(values, size) -> bool:
    """Whether ``values`` are (2θ, ...) tuples of ``size`` whose 2θ, within
    [0, 180], rise or fall strictly from point to point."""
    if len(values) % size or len(values) < 2 * size:
        return False
    x = values[0::size]
    d = np.diff(x)
    inside = bool(np.all((x >= 0) & (x <= 180)))
    return inside and bool(np.all(d > 0) or np.all(d < 0))


def _uxd_times(found, ranges, meta):
    """The ranges of ``_2THETACOUNTSTIME`` (x, counts, time) triples as the
    pattern holds them, and their counting times recorded in ``meta``.

    Counts of one counting time stay counts, as those of ``_COUNTS`` do
    (``time_per_step_s`` says the time). Counts of varying times (a
    variable-counting-time scan, longer at high angles) are on no one
    scale: read as counts, the pattern would rise with the time. They
    become count rates, counts / time, as ``_CPS`` data are, with the times
    listed point by point in ``counting_time_s``."""
    timed = [r["times"] for r in ranges if r.get("times") is not None]
    first = timed[0][0]
    if all(np.all(t == first) for t in timed):
        meta["time_per_step_s"] = float(first)
        return found
    out, points = [], []
    for (x, y, sigma, rev), rng in zip(found, ranges):
        t = rng.get("times")
        if t is not None:
            y = y / t
            rng["unit"] = "cps"
        out.append((x, y, sigma, rev))
        # None for the points of a range that states no times
        points += zip(x.tolist(), [None] * len(x) if t is None else t.tolist())
    # in the order of the joined pattern's points (the ranges are disjoint)
    meta["counting_time_s"] = [t for _, t in sorted(points, key=lambda p: p[0])]
    meta["intensity_converted"] = (
        "_2THETACOUNTSTIME counts of varying counting times divided by their "
        "times: counts per second"
    )
    meta.pop("time_per_step_s", None)  # a _STEPTIME is not every point's time
    return out


def _decimals(token: str) -> int:
    """Digits printed after the decimal point (15 for exponent notation,
    which is read as exact)."""
    if "e" in token or "E" in token:
        return 15
    point = token.find(".")
    return 0 if point < 0 else min(len(token) - point - 1, 15)


def _printed_grid(start, step, x, rng, size=2):
    """The scan's grid ``_START + i × _STEPSIZE`` where every printed 2θ of a
    pairs block is that grid rounded to its printed digits, else None.

    DIFFRAC plus prints 2θ with four significant digits (``10.02``,
    ``100.0``): with a step of 0.0156° the printed values jitter by up to
    half a step below 100° and repeat above it, while the header states the
    exact grid. Values that leave the grid by more than their rounding (a
    scan of other steps) are kept as printed."""
    if start is None or step is None or len(x) < 2:
        return None
    try:
        start_v, step_v = _header_float(start[0]), _header_float(step[0])
    except ValueError:
        return None
    if not (math.isfinite(start_v) and math.isfinite(step_v) and step_v > 0):
        return None
    grid = start_v + step_v * np.arange(len(x))
    # every number's: a pair may be split over lines
    decimals = np.frombuffer(rng["decimals"], dtype=np.int8)[0::size].astype(float)
    tol = 0.5 * 10.0**-decimals + 1e-9 * np.maximum(1.0, np.abs(x))
    return grid if bool(np.all(np.abs(x - grid) <= tol)) else None


def _check_two_theta(err, x, lines, reversed_):
    bad = np.flatnonzero((x < 0) | (x > 180))
    if bad.size:
        i = int(bad[0])
        no = lines[len(lines) - 1 - i] if reversed_ else lines[i]
        raise err(f"2θ = {x[i]:g} is outside [0, 180] degrees", line=int(no))


# ------------------------------------------------------------------ GSAS raw
_GSAS_CW = ("CONS", "CONST")  # constant-wavelength binning: 2θ start and step
_GSAS_TYPES = ("STD", "ESD", "ALT", "FXY")
# points per 80-character record, and the width of one point's fields
_GSAS_LAYOUT = {"STD": (10, 8), "ESD": (5, 16), "ALT": (4, 20)}


def read_gsas(path, data, axis) -> _Found:
    """A GSAS raw data file of constant-wavelength ``STD``, ``ESD``, ``ALT``
    or ``FXY`` banks.

    Line 1 is a title, line 2 may name the instrument parameter file, ``#``
    lines are comments; each bank is a line ``BANK n nchan nrec CONS start
    step 0 0 type`` (start and step in centidegrees; no type means ``STD``)
    followed by its records. ``STD``: ``10(I2,F6.0)``, a count with the
    number of counters averaged into it (blank: 1); ``ESD``: ``10F8.0``,
    five (intensity, esd) pairs; ``ALT``: ``4(F8.0,F7.4,F5.4)``, (2θ in
    centidegrees × 32, intensity, esd), without a decimal point the last four
    digits are decimals; ``FXY``: free-format 2θ in centidegrees and
    intensity. Several banks are joined when disjoint.
    """
    err = _err(path)
    text = _decode(data).rstrip("\x1a")
    lines = list(enumerate(_iter_lines(text), 1))
    meta: dict[str, Any] = {"title": lines[0][1].strip()}
    header: list[tuple[int, str]] = [(1, lines[0][1].strip())]
    banks: list[dict[str, Any]] = []
    for i, (no, raw) in enumerate(lines[1:], 1):
        s = raw.strip()
        if i == 1 and s[:4].lower() == "inst":
            meta["instrument_parameter_file"] = s.split(":", 1)[-1].strip(" []")
            continue
        if not s:
            continue
        if s.startswith("#"):
            if not banks or not banks[-1]["records"]:
                header.append((no, s))
            continue
        if s.startswith("BANK"):
            banks.append(_gsas_bank(err, s, no))
            continue
        if s.startswith("TIME_MAP"):
            raise err(
                "a TIME_MAP: time-of-flight data, not read (x is no angle); "
                "read are constant-wavelength banks (BANK ... CONS ...)",
                line=no,
            )
        if not banks:
            raise err(f"{s!r} before the first BANK line", line=no)
        banks[-1]["records"].append((no, raw.rstrip("\r\n")))
    if not banks:
        raise err("no BANK line")
    banks[-1]["ends_file"], banks[-1]["text"] = True, text
    found, sigmas = [], []
    for bank in banks:
        label = f"bank {bank['number']}" if len(banks) > 1 else "the bank"
        x, y, sigma, where_lines = _gsas_points(err, bank, label)
        x, (y, sigma), rev = _ordered(
            path, x, [y, sigma], lambda i, wl=where_lines: {"line": int(wl[i])}
        )
        _check_two_theta(err, x, where_lines, rev)
        found.append((x, y, sigma, rev))
        sigmas.append(sigma is not None)
    if any(sigmas) and not all(sigmas):
        # STD banks are counts (blank counter fields: one counter): beside
        # banks with esds they get σ = √count; an FXY bank states none, and
        # then no bank's σ is kept rather than half a pattern's
        for k, bank in enumerate(banks):
            x, y, sigma, rev = found[k]
            if sigma is None and bank["type"] == "STD" and not np.any(y < 0):
                found[k] = (x, y, np.sqrt(y), rev)
                bank["counters"] = True
        if any(s is None for _, _, s, _ in found):
            none = [b["number"] for b, f in zip(banks, found) if f[2] is None]
            meta["uncertainty_dropped"] = (
                f"bank(s) {', '.join(map(str, none))} state no uncertainty"
            )
            found = [(x, y, None, rev) for x, y, _, rev in found]
            for bank in banks:
                bank.pop("counters", None)
    x, y, sigma = _merge_ranges(path, found, meta, "bank")
    types = sorted({b["type"] for b in banks})
    meta["gsas_type"] = types[0] if len(types) == 1 else types
    if types == ["STD"]:
        # the manual's STD data are counts (ESD, ALT and FXY: any scale)
        meta["intensity_unit"] = "counts"
    meta["gsas_banks"] = [b["line_text"] for b in banks]
    meta["header"] = [h for _, h in header]
    if any(b.get("counters") for b in banks):
        meta["uncertainty_converted"] = (
            "σ = √(counts / counters) from the STD counter numbers (blank: 1)"
        )
    try:
        lam, how = _wavelength_from_header(path, header)
        lam_error = None
    except PatternFormatError as exc:
        lam, how, lam_error = None, None, exc
    if how:
        meta["wavelength_statement"] = how
    return _Found(
        "gsas_raw",
        x,
        y,
        uncertainty=sigma,
        wavelength=lam,
        metadata=meta,
        wavelength_error=lam_error,
    )


def _gsas_bank(err, s, no):
    words = s.split()
    try:
        number, nchan, nrec = int(words[1]), int(words[2]), int(words[3])
    except (IndexError, ValueError):
        raise err(f"{s!r}: a BANK line needs BANK n nchan nrec", line=no) from None
    if len(words) < 5:
        raise err(f"{s!r}: the BANK line states no binning (CONS)", line=no)
    binning = words[4].upper()
    last = words[-1].upper()
    fmt = last if not _is_number(last) and len(words) > 5 else "STD"
    if binning not in _GSAS_CW:
        raise err(
            f"a GSAS bank of {binning} {fmt} data (time of flight or energy "
            "dispersive: x is no angle); read are constant-wavelength banks "
            "(BANK ... CONS start step ... STD|ESD|ALT|FXY|FXYE), 2θ in "
            "centidegrees",
            line=no,
        )
    if fmt not in _GSAS_TYPES:
        raise err(
            f"a GSAS bank of {fmt} data; read are the STD, ESD, ALT, FXY and "
            "FXYE types",
            line=no,
        )
    coef = words[5:-1] if fmt != "STD" or not _is_number(last) else words[5:]
    if len(coef) < 2:
        raise err(f"{s!r}: a CONS bank needs the start and step", line=no)
    start = _number(err, coef[0], "the bank's start", no) / 100
    step = _number(err, coef[1], "the bank's step", no) / 100
    if fmt != "FXY" and fmt != "ALT":
        _check_step(err, start, step, f"bank {number}", no)
    if not 1 <= nchan <= 10**8:
        raise err(f"the bank declares {nchan} points", line=no)
    return {
        "number": number,
        "nchan": nchan,
        "nrec": nrec,
        "type": fmt,
        "start": start,
        "step": step,
        "line": no,
        "line_text": s,
        "records": [],
    }


def _is_number(text) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _gsas_points(err, bank, label):
    """x (degrees), y, sigma or None, and the line of each point."""
    fmt, nchan, records = bank["type"], bank["nchan"], bank["records"]
    if not records:
        raise err(
            f"{label} has no data records: the file is truncated", line=bank["line"]
        )
    if fmt == "FXY":
        vals, where = [], []
        for no, raw in records:
            toks = raw.split()
            if len(toks) != 2:
                raise err(
                    f"{len(toks)} fields; an FXY record holds 2θ (centidegrees) "
                    "and intensity",
                    line=no,
                )
            vals.append(_numbers(toks, err, no))
            where.append(no)
        if bank.get("ends_file"):
            _check_last_line(err, bank["text"], records[-1][0], separators=" \t")
        table = np.asarray(vals)
        if len(table) != nchan:
            raise err(
                f"{label} declares {nchan} points, its records hold "
                f"{len(table)}: the file is truncated or damaged",
                line=records[-1][0],
            )
        return table[:, 0] / 100, table[:, 1], None, where
    per_line, width = _GSAS_LAYOUT[fmt]
    # flat arrays of the points' values (1 for STD, 2 for ESD, 3 for ALT)
    size = {"STD": 1, "ESD": 2, "ALT": 3}[fmt]
    fields, counters, where = array("d"), array("d"), array("q")
    npoints = 0
    # one layout a bank: fixed fields, or (as some converters write) numbers
    # separated by spaces, which the first record shows
    first_no, first = records[0]
    fixed = _gsas_fixed(fmt, first, min(per_line, nchan), width) is not None
    bank["layout"] = "fixed" if fixed else "free"
    for no, raw in records:
        if npoints >= nchan:
            raise err(
                f"{label} declares {nchan} points; this record is one more",
                line=no,
            )
        wanted = min(per_line, nchan - npoints)
        if fixed:
            got = _gsas_fixed(fmt, raw, wanted, width)
        else:
            got = _gsas_free(fmt, raw, wanted)
        if got is None:
            raise err(
                f"{raw.strip()!r} is not a {fmt} record of {wanted} point(s) "
                f"({_GSAS_FORMAT[fmt]}); {label} declares {nchan} points, "
                f"{npoints} read before this line",
                line=no,
            )
        for point in got:
            bad = [t for t in point if not math.isfinite(t)]
            if bad:
                raise err("NaN and infinite values are not data", line=no)
        if fmt == "STD":
            counters.extend(p[0] for p in got)
            fields.extend(p[1] for p in got)
        else:
            for p in got:
                fields.extend(p)
        where.extend(repeat(no, len(got)))
        npoints += len(got)
    if bank["layout"] == "free" and bank.get("ends_file"):
        # fixed fields show a cut record by its length; free ones do not
        _check_last_line(err, bank["text"], records[-1][0], separators=" \t")
    if npoints < nchan:
        raise err(
            f"{label} declares {nchan} points, its records hold {npoints}: "
            "the file is truncated",
            line=records[-1][0],
        )
    n = np.arange(nchan)
    table = np.frombuffer(fields, dtype=np.float64).reshape(-1, size).copy()
    where = np.frombuffer(where, dtype=np.int64)
    if fmt == "STD":
        y = table[:, 0]
        x = bank["start"] + bank["step"] * n
        sigma = None
        c = np.frombuffer(counters, dtype=np.float64)
        if np.any(c > 0):
            # a count averaged over c counters has variance count / c
            c = np.maximum(c, 1)
            neg = np.flatnonzero(y < 0)
            if neg.size:
                raise err(f"a negative count {y[neg[0]]:g}", line=where[int(neg[0])])
            sigma = np.sqrt(y / c)
            bank["counters"] = True
        return x, y, sigma, where
    if fmt == "ESD":
        x = bank["start"] + bank["step"] * n
        y, sigma = table[:, 0], table[:, 1]
    else:  # ALT: 2θ in centidegrees × 32
        x, y, sigma = table[:, 0] / 3200, table[:, 1], table[:, 2]
        start, step = bank["start"], bank["step"]
        if (start or step) and abs(x[0] - start) > max(2 * abs(step), 0.05):
            # the one check that x is read in the unit it was written in
            raise err(
                f"{label}: the first 2θ, {table[0, 0]:g} / 3200 = {x[0]:g}°, is "
                f"not the bank's start {start:g}° (ALT 2θ is in centidegrees "
                "× 32)",
                line=int(where[0]),
            )
    neg = np.flatnonzero(sigma < 0)
    if neg.size:
        raise err(f"a negative esd {sigma[neg[0]]:g}", line=where[int(neg[0])])
    return x, y, sigma, where


_GSAS_FORMAT = {
    "STD": "10(I2,F6.0): counters and count in fields of 8 characters",
    "ESD": "10F8.0: five intensity, esd pairs in fields of 8 characters",
    "ALT": "4(F8.0,F7.4,F5.4): four 2θ × 32, intensity, esd triples",
}
_ALT_FIELDS = ((0, 8, 0), (8, 15, 4), (15, 20, 4))  # start, end, implied decimals


def _fortran_float(field: str, decimals: int) -> float | None:
    """A Fortran ``Fw.d`` input field: blank is 0; without a decimal point
    (or exponent) the last ``d`` digits are decimals."""
    s = field.strip()
    if not s:
        return 0.0
    try:
        v = float(s)
    except ValueError:
        return None
    if decimals and "." not in s and "e" not in s.lower():
        v /= 10**decimals
    return v


def _gsas_fixed(fmt, raw, wanted, width):
    """The ``wanted`` points of a fixed-field record, or None if it is not one."""
    line = raw.rstrip()
    if len(line) < wanted * width:
        # numbers are right-justified in their fields: a record that stops
        # short of its last field is cut (or not in fixed fields at all)
        return None
    if line[wanted * width :].strip(" 0."):
        return None  # more than the record's points (zeros pad a last record)
    line = line[: wanted * width]
    points = []
    for k in range(wanted):
        field = line[k * width : (k + 1) * width]
        if fmt == "STD":
            counters, count = field[:2].strip(), field[2:].strip()
            if not count:
                return None
            try:
                c = int(counters) if counters else 0
            except ValueError:
                return None
            v = _fortran_float(count, 0)
            if v is None or c < 0:
                return None
            points.append((float(c), v))
        elif fmt == "ESD":
            a, b = field[:8].strip(), field[8:].strip()
            if not a or not b:
                return None
            va, vb = _fortran_float(a, 0), _fortran_float(b, 0)
            if va is None or vb is None:
                return None
            points.append((va, vb))
        else:
            if not field[:8].strip():
                return None
            vals = [_fortran_float(field[i:j], d) for i, j, d in _ALT_FIELDS]
            if any(v is None for v in vals):
                return None
            points.append(tuple(vals))
    return points


def _gsas_free(fmt, raw, wanted):
    """The points of a record written with spaces instead of fixed fields
    (``20 21 26 ...``, as some converters write), or None."""
    if fmt == "ALT":
        return None  # implied decimals need the fields
    toks = raw.split()
    size = 1 if fmt == "STD" else 2
    if len(toks) != wanted * size:
        return None
    try:
        vals = [float(t) for t in toks]
    except ValueError:
        return None
    if fmt == "STD":
        return [(0.0, v) for v in vals]
    return list(zip(vals[0::2], vals[1::2]))


# ----------------------------------------------------------------- Philips UDF
# how many numbers each numeric header key states
_UDF_NUMBERS = {
    "DataAngleRange": 2,
    "ScanStepSize": 1,
    "ScanStepTime": 1,
    "LabdaAlpha1": 1,
    "LabdaAlpha2": 1,
    "RatioAlpha21": 1,
}
_DIGITS = re.compile(r"[-+]?\d+")


def _udf_values(err, key, parts, no):
    """The values of a numeric header key, its decimal commas read.

    Commas separate a UDF line's fields, so ``LabdaAlpha1, 1,5406, /`` (a
    European-locale PC) splits into ``1`` and ``5406``: read as its first
    value, that was a wavelength of 1 Å. A key of n numbers with 2n fields
    of digits alone is n numbers written with decimal commas; another count
    of fields than n, none with a decimal point, is refused. Fields with a
    point are read as they were (a field past the n-th passed over)."""
    wanted = _UDF_NUMBERS.get(key)
    if wanted is None or len(parts) == wanted or any("." in p for p in parts):
        return parts
    if len(parts) == 2 * wanted and all(
        _DIGITS.fullmatch(p) and (k % 2 == 0 or p.isdigit())
        for k, p in enumerate(parts)
    ):
        return [f"{a}.{b}" for a, b in zip(parts[0::2], parts[1::2])]
    raise err(
        f"{key} states {len(parts)} values ({', '.join(parts)}) where "
        f"{wanted} number{'s belong' if wanted > 1 else ' belongs'}: not read",
        line=no,
    )


def read_udf(path, data, axis) -> _Found:
    """A Philips UDF file: ``Key, value[, value], /`` header lines, then
    ``RawScan`` and the comma-separated counts, the last followed by ``/``;
    2θ runs from the first ``DataAngleRange`` value in ``ScanStepSize`` steps.
    """
    err = _err(path)
    text = _decode(data).rstrip("\x1a")
    keys: dict[str, tuple[list[str], int]] = {}
    values, lines = array("d"), array("q")
    state = "header"
    raw_line = end_line = None
    no = 0
    for line_no, raw in enumerate(_iter_lines(text), 1):
        s = raw.strip()
        if not s:
            continue
        no = line_no  # the last line that is not blank
        if state == "header":
            if s.lower() == "rawscan":
                state, raw_line = "data", no
                continue
            parts = [p.strip() for p in s.split(",")]
            if len(parts) < 2 or parts[-1] != "/":
                raise err(
                    f"{s!r} is not a 'Key, value, /' header line (or RawScan)",
                    line=no,
                )
            keys.setdefault(parts[0], (parts[1:-1], no))
            continue
        if state == "done":
            continue  # after the closing '/'
        body, slash, _ = s.partition("/")
        toks = [t for t in _NUMBER_SPLIT.split(body) if t]
        got = _numbers(toks, err, no)
        values.extend(got)
        lines.extend(repeat(no, len(got)))
        if slash:
            state, end_line = "done", no
    if raw_line is None:
        raise err(
            "no RawScan line after the header: the file is truncated or not a UDF scan",
            line=no,
        )
    if state != "done":
        raise err(
            "the counts after RawScan do not end with '/': the file is truncated",
            line=lines[-1] if lines else raw_line,
        )
    if not values:
        raise err("no counts after RawScan", line=raw_line)

    def field(key, index=0):
        if key not in keys:
            return None
        parts, no = keys[key]
        parts = _udf_values(err, key, parts, no)
        if index >= len(parts):
            raise err(f"{key} has {len(parts)} value(s)", line=no)
        return _number(err, parts[index], key, no)

    start = field("DataAngleRange")
    stop = field("DataAngleRange", 1) if start is not None else None
    step = field("ScanStepSize")
    no = keys.get("ScanStepSize", keys.get("DataAngleRange", (None, raw_line)))[1]
    _check_step(err, start, step, "the header", no)
    y = np.frombuffer(values, dtype=np.float64).copy()
    expected = (stop - start) / step + 1
    if abs(expected - len(y)) > 0.5:
        raise err(
            f"DataAngleRange {start:g}–{stop:g} in steps of {step:g} is "
            f"{expected:.0f} points, RawScan holds {len(y)}: the file is "
            "truncated or damaged",
            line=end_line,
        )
    x = start + step * np.arange(len(y))
    x, (y, _), rev = _ordered(path, x, [y, None], lambda i: {"line": int(lines[i])})
    _check_two_theta(err, x, lines, rev)
    meta: dict[str, Any] = {
        "udf_header": {k: v for k, (v, _) in keys.items()},
        "intensity_unit": "counts",  # RawScan: the raw counts of each step
    }
    for key, name in (
        ("SampleIdent", "sample_name"),
        ("DiffrType", "diffractometer"),
        ("Anode", "anode"),
        ("ScanType", "scan_type"),
    ):
        if keys.get(key) and keys[key][0]:
            meta[name] = ", ".join(keys[key][0])
    if "ScanStepTime" in keys:
        meta["time_per_step_s"] = field("ScanStepTime")
    a1, a2 = field("LabdaAlpha1"), field("LabdaAlpha2")
    ratio = field("RatioAlpha21")
    radiation, lam = _radiation_from_lines(a1, a2, ratio, meta.get("anode", ""))
    # an error only if the caller gives no wavelength either
    lam_error = _bad_wavelength(
        path, a1, "LabdaAlpha1", line=keys.get("LabdaAlpha1", (0, None))[1]
    )
    if radiation is None and lam is None and (a1 is None or a1 == 0):
        # no Kα1, or 0 in its place: the anode's Kα doublet
        radiation = _anode_radiation(meta.get("anode", ""))
        if radiation is not None:
            lam_error = None
    _record_lines(meta, a1, a2, ratio)
    return _Found(
        "philips_udf",
        x,
        y,
        wavelength=lam,
        radiation=radiation,
        metadata=meta,
        wavelength_error=lam_error,
    )
