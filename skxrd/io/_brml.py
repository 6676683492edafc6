"""Read Bruker DIFFRAC.SUITE ``.brml`` files (a zip archive of XML).

Each ``Experiment<N>/RawData<M>.xml`` member holds one scan: a
``DataRoutes/DataRoute`` with one ``<Datum>`` line of comma-separated values
per step. Which value is which is named by the route's ``DataViews``
(a ``VaryingRawDataView`` lists the moving axes, 2θ among them, a
``RecordedRawDataView`` the detector's counts, ``FixedRawDataView`` the
counting time and absorber factor); their order differs between DIFFRAC
versions, so the columns are looked up, never assumed, except in files
without ``DataViews`` whose 2θ column is checked against the scan's stated
start and step. The tube's ``WaveLengthAlpha1``, ``WaveLengthAlpha2`` and
``WaveLengthRatio`` (``Value`` attributes, in Å) give the radiation.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ._readers import (
    PatternFormatError,
    _all_floats,
    _bad_wavelength,
    _child,
    _float_or_none,
    _Found,
    _is_two_theta,
    _local,
    _merge_ranges,
    _open_archive,
    _ordered,
    _parse_xml,
    _radiation_from_lines,
    _record_lines,
    _zip_member,
)

__all__ = ["read_brml", "RAW_DATA"]

RAW_DATA = re.compile(r"(?:(.*)/)?RawData(\d+)\.xml", re.IGNORECASE)
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_COUNT_NAMES = re.compile(r"counter|count|det", re.IGNORECASE)


def is_brml(names) -> bool:
    """A DIFFRAC archive: a RawData member, or the experiment layout."""
    return any(
        RAW_DATA.fullmatch(n)
        or n.lower() == "experimentcollection.xml"
        or re.fullmatch(r"Experiment\d+/.*", n)
        for n in names
    )


def read_brml(path, data: bytes, axis, max_bytes) -> _Found:
    """A :class:`_Found` of all the scans of a ``.brml`` archive, joined when
    their 2θ ranges are disjoint (see :func:`skxrd.io.read_pattern`)."""
    meta: dict[str, Any] = {}
    with _open_archive(path, data, max_bytes) as zf:
        names = zf.namelist()
        members = sorted(
            (n for n in names if RAW_DATA.fullmatch(n)),
            key=lambda n: (
                RAW_DATA.fullmatch(n).group(1) or "",
                int(RAW_DATA.fullmatch(n).group(2)),
            ),
        )
        if not members:
            raise PatternFormatError(
                path,
                "a DIFFRAC archive without an Experiment0/RawData0.xml member: "
                "it holds no scan",
                offset=0,
            )
        ranges, source = [], None
        for member in members:
            root = _parse_xml(path, _zip_member(path, zf, member, max_bytes), member)
            if _local(root.tag) != "RawData":
                raise PatternFormatError(
                    path,
                    f"the root element is <{_local(root.tag)}>, not <RawData>",
                    element=member,
                )
            for route, label in _routes(path, root, member):
                ranges.append(_route_range(path, route, label, meta))
            if source is None:
                source = _source(path, root, member)
        if source is None:  # older files keep the tube in the experiment's setup
            for member in members:
                folder = RAW_DATA.fullmatch(member).group(1)
                name = f"{folder}/MeasurementContainer.xml" if folder else None
                if name in names:
                    root = _parse_xml(
                        path, _zip_member(path, zf, name, max_bytes), name
                    )
                    source = _source(path, root, name)
                    if source is not None:
                        break
    x, y, _ = _merge_ranges(path, ranges, meta, "scan")
    radiation, lam, lam_error = None, None, None
    if source is not None:
        a1, a2, ratio, anode, where = source
        radiation, lam = _radiation_from_lines(a1, a2, ratio, anode)
        lam_error = _bad_wavelength(
            path, a1, "<WaveLengthAlpha1>", element=f"{where}: <WaveLengthAlpha1>"
        )
        _record_lines(meta, a1, a2, ratio)
        if anode:
            meta["anode"] = anode
    return _Found(
        "bruker_brml",
        x,
        y,
        wavelength=lam,
        radiation=radiation,
        metadata=meta,
        wavelength_error=lam_error,
    )


def _routes(path, root, member):
    """The measured data routes of one RawData document, with labels."""
    routes = [r for r in root.iter() if _local(r.tag) == "DataRoute"]
    with_data = [r for r in routes if any(_local(c.tag) == "Datum" for c in r)]
    if not with_data:
        raise PatternFormatError(
            path,
            "no <DataRoute> with <Datum> lines: the scan holds no data",
            element=member,
        )
    measured = [r for r in with_data if r.get("RouteFlag") == "Measured"]
    chosen = measured or with_data
    for k, route in enumerate(chosen, 1):
        label = member if len(chosen) == 1 else f"{member}: <DataRoute> {k}"
        yield route, label


def _route_range(path, route, label, meta):
    rows = [c for c in route if _local(c.tag) == "Datum"]
    table = []
    width = None
    for k, datum in enumerate(rows, 1):
        fields = (datum.text or "").strip().split(",")
        try:
            values = [float(f) for f in fields]
        except ValueError:
            bad = next(f for f in fields if not _all_floats([f]))
            raise PatternFormatError(
                path,
                f"{bad.strip()[:40]!r} is not a number",
                element=f"{label}: <Datum> {k}",
            ) from None
        if width is None:
            width = len(values)
        elif len(values) != width:
            raise PatternFormatError(
                path,
                f"{len(values)} values where the first <Datum> has {width}: the "
                "file is truncated or damaged",
                element=f"{label}: <Datum> {k}",
            )
        table.append(values)
    arr = np.array(table, dtype=float)
    bad = np.argwhere(~np.isfinite(arr))
    if bad.size:
        raise PatternFormatError(
            path,
            "NaN or infinite values",
            element=f"{label}: <Datum> {int(bad[0][0]) + 1}",
        )
    scan = _child(route, "ScanInformation")
    two_theta, counts, how, unit = _columns(path, route, scan, arr, label)
    meta.setdefault("brml_columns", how)
    if unit is not None:
        meta.setdefault("intensity_unit", unit)
    if scan is not None:
        if scan.get("ScanName"):
            meta.setdefault("scan_name", scan.get("ScanName"))
        step_time = _text_or_value(_child(scan, "TimePerStep"))
        # "0,5" (a decimal comma) is 0.5 s; an unreadable time is left out
        seconds = _float_or_none(step_time)
        if seconds is not None:
            meta.setdefault("time_per_step_s", seconds)
        planned = _text_or_value(_child(scan, "MeasurementPoints"))
        if planned is not None and planned.strip().isdigit():
            if int(planned) != len(rows):
                meta.setdefault("planned_points", int(planned))
    x = arr[:, two_theta]
    y = arr[:, counts]
    x, (y, _), reversed_ = _ordered(
        path, x, [y, None], lambda i: {"element": f"{label}: <Datum> {i + 1}"}
    )
    return x, y, None, reversed_


def _text_or_value(el):
    if el is None:
        return None
    if el.text and el.text.strip():
        return el.text.strip()
    return el.get("Value")


def _columns(path, route, scan, arr, label):
    """(2θ column, counts column, description, intensity unit or None) of a
    route's Datum table."""
    ncols = arr.shape[1]
    views = _child(route, "DataViews")
    if views is None or not len(views):
        return _legacy_columns(path, scan, arr, label)
    two_theta, counts, recorded = None, [], []
    for view in views:
        kind = view.get(_XSI_TYPE) or view.get("type") or ""
        try:
            start = int(view.get("Start", ""))
            length = int(view.get("Length", "1"))
        except ValueError:
            raise PatternFormatError(
                path,
                f"a data view with Start={view.get('Start')!r} "
                f"Length={view.get('Length')!r}",
                element=f"{label}: <DataViews>",
            ) from None
        if "Varying" in kind:
            fields = [e for e in view.iter() if _local(e.tag) == "FieldDefinitions"]
            for i, field in enumerate(fields):
                name = field.get("FieldName") or field.get("AxisId") or ""
                if _is_two_theta(name) and two_theta is None:
                    two_theta = start + i
        elif "Recorded" in kind:
            rec = _child(view, "Recording")
            names = (
                " ".join(
                    rec.get(k) or "" for k in ("LogicName", "Category", "VisibleName")
                )
                if rec is not None
                else ""
            )
            recorded.append((start, length, names, rec))
            if rec is not None and rec.get("Category") == "Count":
                counts.append((start, length, names, rec))
    if two_theta is None:
        raise PatternFormatError(
            path,
            "no 2θ among the scan's moving axes (its <DataViews> name none): not "
            "a powder 2θ scan",
            element=f"{label}: <DataViews>",
        )
    if not counts:  # no view says Category="Count": go by the names
        counts = [r for r in recorded if _COUNT_NAMES.search(r[2])]
    if not counts and len(recorded) == 1:
        counts = recorded
    if len(counts) != 1:
        raise PatternFormatError(
            path,
            f"{len(counts)} detector readings among the <DataViews> "
            f"({'; '.join(c[2] for c in counts) or 'none'}): which is the "
            "pattern is not clear",
            element=f"{label}: <DataViews>",
        )
    start, length, names, rec = counts[0]
    if length != 1:
        raise PatternFormatError(
            path,
            f"the detector reading ({names.strip()}) has {length} values per step: "
            "a frame of a position-sensitive detector (a still exposure or a "
            "reciprocal-space map), not a 2θ scan; not supported",
            element=f"{label}: <DataViews>",
        )
    for col in (two_theta, start):
        if not 0 <= col < ncols:
            raise PatternFormatError(
                path,
                f"the <DataViews> name column {col + 1} but the <Datum> lines hold "
                f"{ncols} values",
                element=f"{label}: <DataViews>",
            )
    return (
        two_theta,
        start,
        f"2θ column {two_theta}, counts column {start} (DataViews)",
        _recorded_unit(rec),
    )


def _recorded_unit(rec):
    """``"counts"`` or ``"cps"`` where the detector's ``<Recording>`` states
    its ``<Unit Base=...>``, else None (not said, or a unit not known)."""
    unit = _child(rec, "Unit")
    if unit is None:
        return None
    base = re.sub(r"[^a-z]", "", (unit.get("Base") or unit.text or "").lower())
    return {
        "counts": "counts",
        "count": "counts",
        "cps": "cps",
        "countspersecond": "cps",
    }.get(base)


def _legacy_columns(path, scan, arr, label):
    """Files without ``DataViews``: time, absorber, 2θ, θ, counts; taken
    only when the 2θ column follows the scan's stated start and step."""
    start = step = None
    if scan is not None:
        for info in scan.iter():
            if _local(info.tag) != "ScanAxisInfo":
                continue
            name = info.get("AxisId") or info.get("AxisName") or ""
            if _is_two_theta(name):
                start = _float_or_none(_text_or_value(_child(info, "Start")))
                step = _float_or_none(_text_or_value(_child(info, "Increment")))
                ref = _float_or_none(_text_or_value(_child(info, "Reference"))) or 0.0
                if start is not None:
                    start += ref
                break
    if arr.shape[1] >= 5 and start is not None and step:
        expected = start + step * np.arange(len(arr))
        if np.allclose(arr[:, 2], expected, atol=max(abs(step) * 0.01, 1e-6)):
            how = "2θ column 2, counts column 4 (no DataViews; 2θ checked)"
            return 2, 4, how, None
    raise PatternFormatError(
        path,
        "the <Datum> values are not named (no <DataViews>) and do not follow the "
        "layout time, absorber, 2θ, θ, counts with the scan's 2θ start and step",
        element=f"{label}: <DataRoute>",
    )


def _source(path, root, member):
    """(Kα1, Kα2, ratio, anode, member) of the tube, in Å; None when not
    stated."""
    found: dict[str, Any] = {}
    for el in root.iter():
        name = _local(el.tag)
        if name in ("WaveLengthAlpha1", "WaveLengthAlpha2", "WaveLengthRatio"):
            if name in found:
                continue
            value = el.get("Value")
            if value is None:
                value = el.text
            # NaN and infinities kept: named below as no wavelength
            v = _float_or_none(value, finite=False)
            if value is not None and v is None:
                raise PatternFormatError(
                    path,
                    f"{value.strip()[:40]!r} is not a number",
                    element=f"{member}: <{name}>",
                )
            unit = (el.get("Unit") or "").strip().lower()
            if v is not None and name != "WaveLengthRatio" and unit == "nm":
                v *= 10.0
            found[name] = v
        elif name == "TubeMaterial" and "anode" not in found:
            found["anode"] = _text_or_value(el) or ""
    if found.get("WaveLengthAlpha1") is None:
        return None
    return (
        found["WaveLengthAlpha1"],
        found.get("WaveLengthAlpha2"),
        found.get("WaveLengthRatio"),
        found.get("anode", ""),
        member,
    )
