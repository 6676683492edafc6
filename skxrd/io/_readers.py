"""Read measured powder patterns from files, and write them as text columns.

Formats read by :func:`read_pattern` (the content decides, the extension only
has to agree with it):

* text columns (``.xy``, ``.xye``, ``.csv``, ``.dat``, ``.txt`` and any other
  extension holding text): x, intensity and an optional uncertainty;
* PANalytical ``.xrdml`` (XML, any namespace version);
* Rigaku ``.ras`` (text blocks) and ``.rasx`` (a zip archive);
* Bruker ``.raw`` versions 3 (``RAW1.01``) and 4 (``RAW4.00``);
* Bruker DIFFRAC-AT / DIFFRAC plus ``.uxd`` text, GSAS raw data of
  constant-wavelength ``STD``, ``ESD``, ``ALT`` and ``FXY`` banks and Philips
  ``.udf`` text (read in :mod:`._instrument_text`);
* Bruker DIFFRAC.SUITE ``.brml`` (a zip archive of XML; read in ``_brml.py``);
* IUCr powder CIF ``.cif`` (pdCIF, as GSAS-II, TOPAS and databases export
  it; read in ``_pdcif.py``).

The readers are written here with the standard library rather than taken from
``xrayutilities.io``: its ``XRDMLFile`` turns counts into count rates and keeps
no wavelength, and its ``RASFile`` drops the wavelength header and reports bad
lines without their line numbers.
"""

from __future__ import annotations

import io
import json
import math
import numbers
import os
import re
import stat
import struct
import warnings
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..utils._files import check_new_file, write_text
from ..utils._radiation import HC_KEV_ANGSTROM, Radiation, get_radiation
from ..utils._warnings import caller_stacklevel
from ._pattern import AXES, Pattern

__all__ = ["PatternFormatError", "read_pattern", "write_pattern"]

_WRITE_FORMATS = {".xy": "xy", ".xye": "xye", ".csv": "csv", ".dat": "dat"}
_SKXRD_MAGIC = "skxrd pattern"
_COMMENT_CHARS = "#;!'%"


class PatternFormatError(ValueError):
    """A file that cannot be read as a pattern.

    The message names the file, where in it the problem is (a line for text, a
    byte offset for binary files, an element for XML, a member for archives)
    and what is wrong.

    Attributes
    ----------
    path : str
    line, offset : int or None
        1-based line number, or 0-based byte offset.
    element : str or None
        XML element or archive member.

    Examples
    --------
    >>> err = PatternFormatError("a.xy", "'x' is not a number", line=3)
    >>> str(err)
    "a.xy, line 3: 'x' is not a number"
    >>> isinstance(err, ValueError)
    True
    """

    def __init__(
        self,
        path,
        message: str,
        *,
        line: int | None = None,
        offset: int | None = None,
        element: str | None = None,
    ):
        self.path = str(path)
        self.line = line
        self.offset = offset
        self.element = element
        where = ""
        if element is not None:
            where += f", {element}"
        if line is not None:
            where += f", line {line}"
        if offset is not None:
            where += f", byte {offset}"
        super().__init__(f"{self.path}{where}: {message}")


# --------------------------------------------------------------------- public API
#: Files larger than this (bytes) are refused unless ``max_bytes`` says more:
#: 100 MB of text is 4 million points, more than any diffractometer writes.
MAX_PATTERN_BYTES = 100_000_000


def read_pattern(
    path,
    wavelength=None,
    *,
    axis: str | None = None,
    max_bytes: int | None = MAX_PATTERN_BYTES,
    block: str | int | None = None,
) -> Pattern:
    """Read a measured powder pattern from a file.

    The format is recognised from the content (magic bytes, XML root, Rigaku
    block markers, a zip archive's members, a CIF ``data_`` block, the
    ``_KEY=value`` lines of Bruker UXD, the ``BANK`` line of GSAS raw data,
    the ``Key, value, /`` lines of Philips UDF); anything else that is text
    is read as columns, as is text whose header only opens like UXD, UDF or
    CIF (``_wavelength = 1.5406``, ``x, y, /`` or ``data_1`` above the
    numbers; a ``.uxd``, ``.udf`` or ``.cif`` file goes to its reader, which
    names what is wrong). Text may be UTF-8, Latin-1 or UTF-16 with or without
    a byte-order mark. Formats: text columns (and GSAS ``FXYE``), PANalytical
    XRDML, Rigaku RAS and RASX, Bruker RAW (versions 3 and 4), UXD and BRML,
    GSAS raw data, Philips UDF and IUCr powder CIF (pdCIF).

    Parameters
    ----------
    path : str or path-like
        The file.
    wavelength : float or str, optional
        Wavelength in Å (a number, or its text such as ``"1.5406"``) or a
        radiation name such as ``"CuKa"``. It overrides
        the file's own statement (a :class:`UserWarning` says so when they
        differ). Without it the file's wavelength is used: the XRDML, RAS,
        RASX, Bruker RAW and BRML headers, UXD ``_WL1``/``_WL2``/``_WLRATIO``
        (or the Kα doublet of ``_ANODE`` alone), UDF ``LabdaAlpha1``/
        ``LabdaAlpha2``/``RatioAlpha21``, a pdCIF's
        ``_diffrn_radiation_wavelength``, or in a text file (and the title or
        comments of a GSAS file) a header line such as
        ``wavelength = 0.7293``, ``lambda: 1.5406 A``, ``energy 17 keV`` or a
        named line such as ``Cu Ka``.
    axis : {"two_theta", "q"}, optional
        What the first column of a text file holds: 2θ in degrees or Q in Å⁻¹.
        By default the file's header decides (a column named ``q`` or ``2theta``,
        or the ``# axis:`` line that :func:`write_pattern` writes), else 2θ.
        Instrument formats always hold 2θ; ``axis="q"`` is an error for them, as
        it is for a text file whose header says otherwise.
    max_bytes : int or None, default=100_000_000
        The largest file (and, for ``.rasx``, the largest unpacked archive)
        read, and the largest that a ``.rasx`` or ``.brml`` archive unpacks
        to; a larger one is an error, as it is more than a diffractometer
        writes (100 MB of text holds 4 million points). ``None``: no limit.
        Reading takes about 4–5 times the file size in memory.
    block : str or int, optional
        Which pattern of a powder CIF that holds several (banks, temperatures:
        one data block each) to read: the block's name (``"bank2"`` or
        ``"data_bank2"``, any case) or its index among the blocks holding a
        pattern, from 0 in file order (structure blocks do not count). By
        default the file must hold one pattern block; the error for several
        lists their names. Other formats hold one pattern (their ranges,
        scans and banks are joined), so ``block`` is an error for them.

    Returns
    -------
    Pattern
        Sorted by x, named after the file stem. ``metadata`` holds at least
        ``"source"`` (the path) and ``"format"``, plus what the file says
        (``"header"`` lines, ``"file_wavelength"``, counting time, ...) and what
        the reader did (``"reversed"`` for a descending scan,
        ``"fixed_width_split_lines"`` for fused columns).

    Raises
    ------
    PatternFormatError
        A file that cannot be read: missing, a directory, unreadable, empty,
        larger than ``max_bytes``, truncated, not numbers, a wrong number of
        columns, NaN or infinite values, a negative uncertainty, variance or
        weight, a zero weight, repeated or unordered x, a format
        version that is not supported, or a 2θ pattern whose wavelength
        neither the file nor the caller gives (Q conversion needs it; pass
        ``wavelength=``).

    Notes
    -----
    Text columns are separated by spaces, tabs, commas or semicolons (a
    semicolon, tab or space file may use decimal commas: ``10,00 123,0``;
    instrument headers too: ``*HW_XG_WAVE_LENGTH_ALPHA1 "1,5406"`` is
    1.5406 Å, a value that is no one number, ``1.5406,1.5444``, an error);
    lines starting with ``#``,
    ``;``, ``!``, ``'`` or ``%`` are comments and non-numeric lines before the
    data are a header. A third column is the uncertainty of the intensity,
    unless the names row over the columns calls it something else (``Icalc``,
    ``background``: left out, named in ``metadata["ignored_column"]``) or
    names the third the intensity (``Angle,TimePerStep,Intensity``). A
    third column named neither so nor as an uncertainty (``sigma``, ``sd``,
    ``esd``, ``err``, ``sI``...) in the line just over the data, such as
    ``two_theta,corundum,rutile``, is still read as the uncertainty, with a
    :class:`UserWarning`: a file of several patterns must be split, one
    pattern per file. A third column named as a variance (``var``,
    ``variance``, ``sigma^2``, ``σ²``, ``esd^2``, ``s2``) gives σ =
    √variance; one named as a weight 1/σ² (``w``, ``wt``, ``weight``,
    ``1/sigma^2``, ``1/var``, ``1/σ²``) gives σ = 1/√w; ``1/sigma`` gives
    σ = 1/value. These names count under a first column named as the axis
    or ``x`` (``2theta s1 s2`` names two series, not a variance; ``W`` is
    tungsten, not a weight); ``metadata["uncertainty_converted"]`` says
    what was done, and :func:`write_pattern` writes σ. A negative value is
    an error naming the line, as is a zero weight (an excluded point: its σ
    would be infinite, which a :class:`Pattern` cannot hold; remove the
    line). The third column of a GSAS ``FXYE`` bank or an ``.xye`` file is
    σ (ESD); that of Rigaku data is an attenuation factor, multiplied into
    the counts. A header that states several patterns
    (``# patterns: 2``, as ``skxrd simulate`` writes) is an error. A
    unit in brackets belongs to the name before it (``Q (nm^-1) I``: Q in
    nm⁻¹, read in Å⁻¹), and a line over the data may name the first column
    alone (``# Q (1/A)``). A first column named ``theta``, ``omega`` or
    ``chi`` is refused unless ``axis`` says what it holds, as is a names row
    just over the data that starts with Q, d or θ and names one column more
    than the data have (``# Q nm-1 I``). GSAS ``FXYE`` banks of
    constant-wavelength data
    (``BANK ... CONS ... FXYE``: 2θ in centidegrees, intensity, uncertainty)
    are read with 2θ in degrees. A line just before the data that is a
    spoilt data line (``10.0000********``) is an error, not a header.
    Files written with fixed-width columns in which a wide number touches its
    neighbour (``14.11851260`` for 14.1185 and 1260) are split at the column
    boundary that the other lines share; the split lines are listed in
    ``metadata["fixed_width_split_lines"]``.

    x must be strictly monotonic: a descending scan is reversed, but repeated
    or back-and-forth values are an error rather than sorted, because in one
    scan they mean a misread file or scans pasted together. Files holding
    several disjoint ranges (RAW, XRDML, RAS, RASX, BRML, UXD ranges, GSAS
    banks) are joined; overlapping ranges are an error.

    Bruker UXD (DIFFRAC-AT, DIFFRAC plus): ``_COUNTS`` / ``_CPS`` blocks of
    intensities on the grid ``_START`` + i × ``_STEPSIZE``,
    ``_2THETACOUNTS`` / ``_2THETACPS`` (2θ, intensity) pairs (put on the
    ``_START``/``_STEPSIZE`` grid when the printed 2θ are that grid rounded,
    as DIFFRAC plus prints them to four digits), or ``_2THETACOUNTSTIME``
    (2θ, counts, counting time in s) triples: counts when every time is the
    same (``metadata["time_per_step_s"]``), counts per second when they vary
    (a variable-counting-time scan, whose counts rise with the time;
    ``metadata["counting_time_s"]`` lists them point by point); a range whose
    ``_DRIVE`` is not a 2θ scan (``'THETA'``, ``'PHI'``) is an error, and a
    peak list (``_2THETA-I``) is passed over. A UXD line of numbers with a
    comma inside them and no point (``1048,1162``) is read as the rest of its
    range shows (commas or points on its other lines, the ``_STEPCOUNT``, 2θ
    that rise step by step; ``metadata["uxd_commas"]``), and is an error
    naming the line where nothing shows which. GSAS raw data:
    constant-wavelength banks ``BANK n nchan nrec CONS start step 0 0 type``
    (start and step in centidegrees) of type ``STD`` (``10(I2,F6.0)``,
    counts; a count with a number of counters averaged into it gets
    σ = √(count / counters)), ``ESD`` (intensity, esd pairs: σ = esd),
    ``ALT`` (2θ × 32 in centidegrees, intensity, esd) or ``FXY``; beside
    banks with esds an ``STD`` bank without counter fields gets σ = √count,
    and beside an ``FXY`` bank no bank keeps σ (``metadata[
    "uncertainty_dropped"]``). Records written with spaces instead of fixed
    fields are read too. Time-of-flight
    and energy-dispersive banks (``TIME_MAP``, ``SLOG``, ``RALF``...) are an
    error. Philips UDF: the ``RawScan`` counts from ``DataAngleRange`` in
    ``ScanStepSize`` steps. A declared number of points (UXD
    ``_STEPCOUNT``, GSAS ``nchan``, the UDF angle range) that the data do not
    hold is an error naming the line. A ``.raw`` file may be Bruker RAW or
    GSAS raw data, a ``.uxd`` or ``.udf`` file must be what it says.

    A text file (columns, UXD, GSAS, pdCIF) whose last line has no line
    break, as hand-edited files and some Windows tools end, is read as any
    other unless its last number shows a cut: no number (``1e``,
    ``1234(3``), a decimal point its column's numbers do not end in
    (``12.``), fewer digits than every number above it in its column (where
    they print trailing zeros: ``10.00``), or an end off a right-justified
    column (or off the padded fixed-width fields of a UXD ``_COUNTS`` row).
    A count cut between digits in a free layout (``1148`` as ``11``, single
    spaces) leaves no trace that a reader could see; a declared number of
    points is then the check.

    Bruker ``.brml`` (DIFFRAC.SUITE, a zip archive): each
    ``Experiment<N>/RawData<M>.xml`` member is a scan; its ``<Datum>`` lines
    are read in the columns that its ``DataViews`` name (2θ among the moving
    axes, the detector's counts; older files without ``DataViews`` only when
    their third value follows the scan's 2θ start and step), the wavelength
    from the tube's ``WaveLengthAlpha1``/``WaveLengthAlpha2``/
    ``WaveLengthRatio``. A detector frame (several counts per step, as in a
    reciprocal-space map) is an error.

    Powder CIF (``.cif``, as GSAS-II, TOPAS and databases write it): the
    data block that holds a powder pattern is read (a structure block beside
    it is skipped); of several pattern blocks the one ``block`` names (an
    error without it, listing their names), and a structure CIF without
    powder data is an error (:meth:`skxrd.crystal.Crystal.from_cif` reads
    it).
    The intensity is the first of ``_pd_meas_counts_total``,
    ``_pd_meas_intensity_total``, ``_pd_proc_intensity_total``,
    ``_pd_proc_intensity_net`` and, when the block has nothing else,
    ``_pd_calc_intensity_total`` (``metadata["calculated"]``); 2θ is a column
    of its loop (``_pd_meas_2theta_scan``, ``_pd_meas_angle_2theta``,
    ``_pd_proc_2theta_corrected``: measured angles for measured intensities,
    corrected ones for processed) or the block's
    ``_pd_meas_2theta_range_min/_max/_inc`` (``_pd_proc_...``), whose count
    must match the loop's. The uncertainty is the s.u. in parentheses
    (``1234(35)``) when every intensity has one, else an ``..._su`` column,
    else 1/√w of ``_pd_proc_ls_weight`` when no weight is 0. Two
    ``_diffrn_radiation_wavelength`` lines with ``_wt`` weights are the
    Kα1/Kα2 doublet. DDLm names (``_pd_meas.2theta_scan``) are read too; a
    ``.`` or ``?`` (missing value) in the columns read is an error naming the
    line, as is a time-of-flight, d or Q axis.

    Intensities are as stored: counts (RAS/RASX/XRDML ``counts`` multiplied by
    their attenuation factors; BRML counts as DIFFRAC wrote them, its
    absorber factor already applied), count rates (UXD ``_CPS``) or whatever
    unit the file uses. ``metadata["intensity_unit"]`` is ``"counts"`` or
    ``"cps"`` where the format says which (the XRDML, RAS, RASX and UXD
    headers, BRML's ``<Recording><Unit Base=...>``; GSAS ``STD`` banks, UDF
    ``RawScan`` and pdCIF ``_pd_meas_counts_*`` are counts by definition,
    ``_pd_meas_intensity_*`` in the unit ``_pd_meas_units_of_intensity``
    names) and absent where it does not (GSAS ``ESD``/``ALT``/``FXY``,
    processed pdCIF intensities, text columns).

    A stated Kα1 that no X-ray or neutron beam has (0, negative, NaN, 999 Å,
    outside 0.01–20 Å) is an error naming the value and where it stands
    (raised only when ``wavelength`` is not passed); a Kα2 or Kα2/Kα1 ratio
    of 0, as monochromated instruments state them, reads as Kα1 alone. In
    a Bruker RAW header, whose unset fields are 0, a Kα1 of 0 is no
    statement: the first range's own wavelength stands in.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skxrd.io import read_pattern
    >>> path = Path(tempfile.mkdtemp()) / "scan.xy"
    >>> _ = path.write_text("# wavelength = 0.7293 A\\n2theta,counts\\n"
    ...                     "10.0,5\\n10.5,7\\n11.0,6\\n")
    >>> p = read_pattern(path)
    >>> p
    Pattern('scan', 3 points, two_theta 10–11°, λ=0.7293 Å)
    >>> p.intensity.tolist(), p.metadata["format"]
    ([5.0, 7.0, 6.0], 'text')
    """
    path = Path(path)
    if axis is not None and axis not in AXES:
        raise ValueError(f"axis must be 'two_theta', 'q' or None, got {axis!r}")
    if block is not None and (
        isinstance(block, bool) or not isinstance(block, (str, numbers.Integral))
    ):
        raise TypeError(
            f"block must be a data block's name (str) or index (int), got {block!r}"
        )
    wavelength = _wavelength_argument(wavelength)
    if max_bytes is not None:
        from ..utils._validation import check_int

        check_int(max_bytes, "max_bytes", minimum=1)
    try:
        if path.is_dir():
            raise PatternFormatError(path, "is a directory, not a pattern file")
        if not path.exists():
            raise PatternFormatError(path, "no such file")
        mode = path.stat()
        _check_size(path, mode.st_size, max_bytes)
        with open(path, "rb") as fh:
            if max_bytes is None or stat.S_ISREG(mode.st_mode):
                data = fh.read()
            else:  # a pipe or a device states no size: at most the limit
                data = _read_at_most(fh, max_bytes + 1)
    except OSError as exc:  # permissions, a name too long, a broken link...
        raise PatternFormatError(
            path, f"cannot be read: {exc.strerror or type(exc).__name__}"
        ) from None
    _check_size(path, len(data), max_bytes)  # a device, or grown since
    if not data.strip():
        raise PatternFormatError(path, "the file is empty")
    ext = path.suffix.lower()
    kind = _sniff(data)
    if kind == "text" and ext in (".uxd", ".udf", ".cif"):
        # the extension vouches for the format: a damaged file of it is read
        # by its reader, which names the line at fault
        kind = _sniff(data, strict=False)
    expected = {
        ".xrdml": ("xrdml",),
        ".raw": ("raw", "gsas"),  # GSAS names its raw data files .raw too
        ".rasx": ("rasx",),
        ".ras": ("ras",),
        ".uxd": ("uxd",),
        ".udf": ("udf",),
        ".brml": ("brml",),
        ".cif": ("cif",),
    }.get(ext)
    if kind == "badzip":  # a damaged archive: its reader says so
        kind = "brml" if ext == ".brml" else "rasx"
    if expected is not None and kind not in expected:
        raise PatternFormatError(
            path,
            f"the extension {ext} promises a "
            f"{' or '.join(_FORMAT_NAMES[e] for e in expected)} file but "
            f"the content is {_FORMAT_NAMES[kind]}",
            offset=0,
        )
    if kind == "binary":
        raise PatternFormatError(
            path,
            "binary content of an unknown format (not Bruker RAW or BRML, Rigaku "
            "RASX, XRDML or text columns)",
            offset=data.find(b"\0") if b"\0" in data else 0,
        )
    if kind == "zip" or kind == "xml":
        raise PatternFormatError(
            path,
            "a zip archive that is not a Rigaku .rasx or a Bruker .brml"
            if kind == "zip"
            else "XML that is not a PANalytical xrdMeasurements document",
            offset=0,
        )
    if block is not None and kind != "cif":
        raise PatternFormatError(
            path,
            f"block={block!r} chooses a data block of a powder CIF; this file "
            f"is {_FORMAT_NAMES[kind]}, which holds one pattern",
        )
    if kind != "text" and axis == "q":
        raise PatternFormatError(
            path, f"{_FORMAT_NAMES[kind]} files hold 2θ; axis='q' does not apply"
        )
    # the readers in modules of their own import this one: not at the top
    from . import _instrument_text as _it
    from ._brml import read_brml
    from ._pdcif import read_pdcif

    reader = {
        "text": _read_text,
        "xrdml": _read_xrdml,
        "ras": _read_ras,
        "rasx": _read_rasx,
        "raw": _read_bruker_raw,
        "uxd": _it.read_uxd,
        "gsas": _it.read_gsas,
        "udf": _it.read_udf,
        "brml": read_brml,
        "cif": read_pdcif,
    }[kind]
    if kind in ("rasx", "brml"):
        found = reader(path, data, axis, max_bytes)
    elif kind == "cif":
        found = reader(path, data, axis, None if block is None else _index(block))
    else:
        found = reader(path, data, axis)
    return found.build(path, wavelength)


def _index(block):
    """``block`` as a str, or as a plain int (a NumPy integer too)."""
    return block if isinstance(block, str) else int(block)


def _wavelength_argument(wavelength):
    """``read_pattern``'s ``wavelength``: None, a radiation (name or object)
    or a number of Å, a numeric string included (``"1.5406"``, as the CLI
    passes it); anything else is the caller's error, not the file's."""
    if wavelength is None or isinstance(wavelength, Radiation):
        return wavelength
    if isinstance(wavelength, str):
        try:
            return float(wavelength)
        except ValueError:
            return wavelength  # a name, checked where it is resolved
    if isinstance(wavelength, bool) or not isinstance(wavelength, numbers.Real):
        raise ValueError(
            f"wavelength must be a number of Å or a radiation name such as "
            f"'CuKa', got {wavelength!r}"
        )
    return float(wavelength)


def _read_at_most(fh, n):
    """Up to ``n`` bytes of ``fh``, in chunks (``read(n)`` would allocate
    ``n`` at once)."""
    chunks, total = [], 0
    while total < n:
        chunk = fh.read(min(1 << 20, n - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _check_size(path, size, max_bytes, what="the file"):
    if max_bytes is not None and size > max_bytes:
        raise PatternFormatError(
            path,
            f"{what} is {size / 1e6:.1f} MB, more than a diffractometer writes "
            f"(limit {max_bytes / 1e6:g} MB); pass max_bytes=None (or a larger "
            "limit) to read it anyway, or --max-file-mb to skxrd predict and "
            "evaluate",
        )


def write_pattern(
    pattern: Pattern, path, *, fmt: str | None = None, overwrite: bool = False
) -> Path:
    """Write a pattern as text columns with a commented header.

    The header records the axis, the wavelength, the radiation, the name and
    the JSON-serialisable metadata, so that :func:`read_pattern` gives the same
    pattern back (x, intensity and uncertainty are written with all the digits
    a float64 needs). NumPy numbers and arrays in the metadata are written as
    JSON numbers and lists (and read back as such); a value JSON cannot hold
    (an object, NaN) is left out with a :class:`UserWarning` naming its key.
    Tuples and non-string dict keys are written as JSON lists and strings
    (and read back as such), with a :class:`UserWarning` naming the key.
    The keys that :func:`read_pattern` sets (``"source"``, ``"format"``...)
    are written too but read back as the new file's.

    Parameters
    ----------
    pattern : Pattern
    path : str or path-like
        The file to write, in an existing folder.
    fmt : {"xy", "xye", "csv", "dat"}, optional
        By default from the extension. ``xy`` and ``dat`` are space separated,
        ``csv`` comma separated with a column-name row, ``xye`` requires an
        uncertainty. The other formats add the uncertainty as a third column
        when the pattern has one.
    overwrite : bool, default=False
        Replace an existing file. Without it an existing file is never touched.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False, or is a broken symbolic
        link.
    IsADirectoryError
        If ``path`` is a folder.
    FileNotFoundError
        If the folder of ``path`` does not exist.
    TypeError
        If ``path`` is not a str or path-like, or ``overwrite`` not a bool.
    ValueError
        For an unknown format, or ``xye`` without uncertainties.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skxrd.io import Pattern, read_pattern, write_pattern
    >>> p = Pattern([10.0, 20.0, 30.0], [1.0, 5.0, 2.0], wavelength="CuKa")
    >>> path = write_pattern(p, Path(tempfile.mkdtemp()) / "p.xy")
    >>> q = read_pattern(path)
    >>> q.x.tolist(), q.intensity.tolist(), q.radiation.name
    ([10.0, 20.0, 30.0], [1.0, 5.0, 2.0], 'CuKa')
    >>> write_pattern(p, path)
    Traceback (most recent call last):
    ...
    FileExistsError: ... exists; pass overwrite=True to replace it
    """
    if not isinstance(pattern, Pattern):
        raise ValueError(f"write_pattern needs a Pattern, got {type(pattern)}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path must be a str or path-like naming a file, got {type(path).__name__}"
        )
    path = Path(path)
    if fmt is None:
        fmt = _WRITE_FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise ValueError(
                f"cannot tell the format from the extension of {path}; use one of "
                f"{', '.join(_WRITE_FORMATS)} or pass fmt="
            )
    if fmt not in _WRITE_FORMATS.values():
        raise ValueError(f"fmt must be one of {sorted(_WRITE_FORMATS.values())}")
    sigma = pattern.uncertainty
    if fmt == "xye" and sigma is None:
        raise ValueError(
            "the xye format has an uncertainty column but the pattern has no "
            "uncertainty; write .xy instead"
        )
    path = check_new_file(path, overwrite)
    write_text(path, _format_text(pattern, fmt))
    return path


# ------------------------------------------------------------------ the result
class _Found:
    """What a reader found, before it becomes a :class:`Pattern`."""

    def __init__(
        self,
        fmt: str,
        x: np.ndarray,
        intensity: np.ndarray,
        *,
        uncertainty: np.ndarray | None = None,
        axis: str = "two_theta",
        wavelength: float | None = None,
        radiation: Radiation | None = None,
        name: str | None = None,
        metadata: dict | None = None,
        wavelength_error: PatternFormatError | None = None,
        keep_name: bool = False,
    ):
        self.fmt = fmt
        self.keep_name = keep_name  # a name None written by write_pattern stays None
        # a header's unusable wavelength matters only if the caller gives none
        self.wavelength_error = wavelength_error
        self.x = x
        self.intensity = intensity
        self.uncertainty = uncertainty
        self.axis = axis
        self.wavelength = wavelength
        self.radiation = radiation
        self.name = name
        self.metadata = dict(metadata or {})

    def build(self, path: Path, wavelength) -> Pattern:
        meta = dict(self.metadata)
        meta["source"] = str(path)
        meta["format"] = self.fmt
        file_lam = None
        if self.radiation is not None:
            file_lam = self.radiation.wavelength
        elif self.wavelength is not None:  # Å, or a line name from a text header
            file_lam = _probe_wavelength(self.wavelength)
        if file_lam is not None:
            meta["file_wavelength"] = file_lam
        kwargs: dict[str, Any] = {}
        if wavelength is not None:
            if isinstance(wavelength, Radiation):
                kwargs["radiation"] = wavelength
                given = wavelength.wavelength
            else:
                kwargs["wavelength"] = wavelength
                given = _probe_wavelength(wavelength)
            if file_lam is not None and not math.isclose(given, file_lam, rel_tol=1e-4):
                warnings.warn(
                    f"{path}: using wavelength={wavelength!r} ({given:g} Å) instead "
                    f"of the file's {file_lam:g} Å",
                    UserWarning,
                    stacklevel=caller_stacklevel(),
                )
            meta["wavelength_from"] = "argument"
        elif self.radiation is not None:
            kwargs["radiation"] = self.radiation
            meta["wavelength_from"] = "file"
        elif self.wavelength is not None:
            kwargs["wavelength"] = self.wavelength
            meta["wavelength_from"] = "file"
        elif self.wavelength_error is not None:
            raise self.wavelength_error
        elif self.axis == "two_theta":
            raise PatternFormatError(
                path,
                "the file states no wavelength, which a 2θ pattern needs (for Q "
                "and d); pass wavelength= in Å or a name such as 'CuKa'",
            )
        try:
            return Pattern(
                self.x,
                self.intensity,
                axis=self.axis,
                uncertainty=self.uncertainty,
                metadata=meta,
                name=self.name if self.keep_name or self.name else path.stem,
                **kwargs,
            )
        except ValueError as exc:
            raise PatternFormatError(path, str(exc)) from None


def _probe_wavelength(wavelength) -> float:
    if isinstance(wavelength, str):
        return get_radiation(wavelength).wavelength
    return get_radiation(float(wavelength)).wavelength


def _radiation_from_lines(a1, a2=None, ratio=None, anode: str = ""):
    """(radiation, wavelength) from a file's Kα1 [, Kα2, ratio] statement."""
    if a1 is None or not (0.01 < a1 < 20):
        return None, None
    anode = (anode or "").strip()
    if a2 is not None and ratio is not None and 0.01 < a2 < 20 and 0 < ratio <= 1:
        label = f"{anode + ' ' if anode else ''}Kα1/Kα2 {a1:g}/{a2:g} Å"
        return Radiation("xray", (float(a1), float(a2)), (1.0, float(ratio)), label), a1
    return None, float(a1)


def _bad_wavelength(path, value, what: str, **where):
    """The error naming a stated wavelength that no X-ray or neutron beam has
    (0, negative, NaN, 999 Å), or None for a usable one or none stated.

    Readers keep it as the :class:`_Found`'s ``wavelength_error``: it is
    raised only when the caller passes no wavelength either. A secondary
    line (Kα2, the Kα2/Kα1 ratio) stated as 0 or out of range is another
    matter: monochromated instruments write 0 there, and the pattern is
    read with Kα1 alone."""
    if value is None or 0.01 < value < 20:
        return None
    return PatternFormatError(
        path,
        f"{what} {value:g} Å is not an X-ray or neutron wavelength (0.01–20 Å); "
        "pass wavelength= to read the pattern with another (--wavelength to "
        "skxrd predict and evaluate)",
        **where,
    )


def _record_lines(meta, a1, a2=None, ratio=None):
    """Record a file's stated Kα1, Kα2 and Kα2/Kα1 ratio in ``meta`` (those
    it states), under the names the XRDML reader uses."""
    for name, value in (
        ("kAlpha1", a1),
        ("kAlpha2", a2),
        ("ratioKAlpha2KAlpha1", ratio),
    ):
        if value is not None:
            meta[name] = value


def _ordered(path, x, columns, where):
    """x strictly increasing: reverse a descending scan, refuse anything else.

    ``where(i)`` gives the keyword arguments of :class:`PatternFormatError`
    that locate point ``i`` (a line, or an offset).
    """
    if len(x) < 2:
        raise PatternFormatError(path, f"{len(x)} data point(s); a pattern needs 2")
    d = np.diff(x)
    reversed_ = False
    if np.all(d < 0):
        x = x[::-1]
        columns = [None if c is None else c[::-1] for c in columns]
        reversed_ = True
    elif not np.all(d > 0):
        i = int(np.flatnonzero(d == 0)[0] if np.any(d == 0) else -1)
        if i >= 0:
            raise PatternFormatError(
                path, f"x = {x[i + 1]:g} repeats the previous point", **where(i + 1)
            )
        rising = d[0] > 0
        i = int(np.flatnonzero((d > 0) != rising)[0])
        raise PatternFormatError(
            path,
            f"x goes from {x[i]:g} to {x[i + 1]:g} after "
            f"{'rising' if rising else 'falling'}: not one monotonic scan (two "
            "scans in one file, or a misread column)",
            **where(i + 1),
        )
    return np.ascontiguousarray(x), columns, reversed_


def _merge_ranges(path, ranges, meta, what="range"):
    """Join scans ``[(x, y, sigma, reversed), ...]`` (each increasing) if disjoint.

    Returns x, y, sigma; records in ``meta`` the ranges (``"ranges"``, for
    more than one) and whether any was reversed (``"reversed"``).
    """
    if any(r[3] for r in ranges):
        meta["reversed"] = True
    if len(ranges) == 1:
        return ranges[0][0], ranges[0][1], ranges[0][2]
    order = sorted(range(len(ranges)), key=lambda k: ranges[k][0][0])
    for a, b in zip(order, order[1:]):
        if ranges[b][0][0] <= ranges[a][0][-1]:
            raise PatternFormatError(
                path,
                f"{what}s {a + 1} ({ranges[a][0][0]:g}–{ranges[a][0][-1]:g}) and "
                f"{b + 1} ({ranges[b][0][0]:g}–{ranges[b][0][-1]:g}) overlap; one "
                "pattern cannot hold both",
            )
    x = np.concatenate([ranges[k][0] for k in order])
    y = np.concatenate([ranges[k][1] for k in order])
    sig = None
    if all(r[2] is not None for r in ranges):
        sig = np.concatenate([ranges[k][2] for k in order])
    meta["ranges"] = [
        {"start": float(r[0][0]), "stop": float(r[0][-1]), "points": len(r[0])}
        for r in ranges
    ]
    return x, y, sig


# --------------------------------------------------------------------- sniffing
_FORMAT_NAMES = {
    "text": "text",
    "xrdml": "PANalytical XRDML",
    "ras": "Rigaku RAS",
    "rasx": "Rigaku RASX",
    "raw": "Bruker RAW",
    "uxd": "Bruker UXD",
    "gsas": "GSAS raw",
    "udf": "Philips UDF",
    "brml": "Bruker BRML",
    "cif": "powder CIF",
    "zip": "a zip archive",
    "xml": "XML",
    "binary": "binary",
}


def _sniff(data: bytes, strict: bool = True) -> str:
    if data.startswith((b"RAW1.01", b"RAW4.00", b"RAW2")) or (
        data.startswith(b"RAW") and b"\0" in data[:1024]  # not a text "RAW..." line
    ):
        return "raw"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
            # a truncated archive loses its central directory, a damaged one
            # may state a zip version that zipfile lacks; say so later
            return "badzip"
        if any(_RASX_PROFILE.fullmatch(n) for n in names):
            return "rasx"
        from ._brml import is_brml

        return "brml" if is_brml(names) else "zip"
    head = data[:4096]
    from ._instrument_text import sniff  # imports this module: not at the top

    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text
        return sniff(head.decode("utf-16", errors="replace"), strict) or "text"
    utf16 = _utf16_without_bom(head)
    if utf16:  # its zero bytes are no binary
        return sniff(head.decode(utf16, errors="replace"), strict) or "text"
    if b"\0" in head:
        return "binary"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        return "xrdml" if b"xrdMeasurement" in data[:20000] else "xml"
    if stripped.startswith(b"*RAS_"):
        return "ras"
    if stripped[:1] in (b"#", b"d", b"D"):
        from ._pdcif import looks_like_cif

        if looks_like_cif(data, strict):
            return "cif"
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 26, 27))
    if controls > max(2, len(head) // 100):
        return "binary"
    return sniff(head.decode("latin-1"), strict) or "text"


def _utf16_without_bom(head: bytes) -> str | None:
    """``'utf-16-le'`` or ``'utf-16-be'`` when ``head`` is UTF-16 text without
    a byte-order mark (Windows tools write such files), else None.

    Text of ASCII and Latin-1 characters has a zero high byte in each pair and
    (almost) no zero low byte; it must also break lines and be (almost) free of
    control characters, so that binary data of small 16-bit numbers stays
    binary.
    """
    n = len(head) - len(head) % 2
    if n < 4:
        return None
    for encoding, high, low in (
        ("utf-16-le", head[1:n:2], head[0:n:2]),
        ("utf-16-be", head[0:n:2], head[1:n:2]),
    ):
        if high.count(0) < 0.9 * len(high) or low.count(0) > len(low) // 100:
            continue
        # "replace": the cut at the end of head may halve a surrogate pair
        text = head[:n].decode(encoding, errors="replace")
        odd = sum(
            1 for c in text if (c < " " and c not in _TEXT_CONTROLS) or c == "\ufffd"
        )
        if ("\n" in text or "\r" in text) and odd <= max(2, len(text) // 100):
            return encoding
    return None


_TEXT_CONTROLS = "\t\n\x0c\r\x1a\x1b"  # as _sniff allows them


def _decode(data: bytes, encodings=("utf-8",)) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    utf16 = _utf16_without_bom(data[:4096])
    if utf16:
        return data.decode(utf16, errors="replace")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for enc in encodings:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")  # never fails; headers only, numbers are ASCII


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


# ------------------------------------------------- a last line without a break
# how far back the lines that show a column's layout are looked for
_LAYOUT_LINES = 50
_LAYOUT_TAIL = 1 << 16
_SU = re.compile(r"\((\d*)\)?$")  # a CIF number's s.u. in parentheses
# a number, or the start of one (a cut one: "1e", "1.2e+", "1234(3")
_NUMBER_START = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d*)?(?:\(\d*\)?)?")


def _token_form(token: str, su: bool):
    """(decimal point?, digits after it, exponent digits or None) of a number
    as printed, or None when it is no number (``1e``, ``1.2e+``)."""
    body = token
    if su:
        m = _SU.search(body)
        if m is not None:
            if not m.group(0).endswith(")") or not m.group(1):
                return None  # "1234(3" or "1234(": cut inside the s.u.
            body = body[: m.start()]
    try:
        float(body)
    except ValueError:
        return None
    mantissa, _, exponent = body.lower().partition("e")
    point = "." in mantissa
    decimals = len(mantissa.partition(".")[2]) if point else 0
    exp_digits = len(exponent.lstrip("+-")) if "e" in body.lower() else None
    return point, decimals, exp_digits


def _trailing_zero(token: str, su: bool) -> bool:
    """Whether a number prints a zero as its last decimal (``5.50``,
    ``1.250e+03``, ``12.30(4)``): its writer keeps a fixed number of
    decimals."""
    if su:
        token = _SU.sub("", token)
    mantissa = token.lower().partition("e")[0]
    return "." in mantissa and mantissa.endswith("0")


def _cut_last_number(
    text: str,
    *,
    separators: str = " \t,",
    su: bool = False,
    comment: str | None = None,
    same_width: bool = False,
) -> str | None:
    """Why the last number of ``text`` looks cut short, or None.

    ``separators`` are the characters between numbers, ``su`` says that
    numbers may carry a CIF s.u. in parentheses, ``comment`` starts a
    comment that ends the line's numbers.

    Only a file whose last line has no line break is looked at (a file cut
    short ends inside a line; one written by hand or by a Windows tool may
    simply lack the final break, which xylib and GSAS-II read). Evidence of a
    cut, from the last number and the same column of the data lines above it
    (up to 50, in the same block of numbers):

    * it is no number (``1e``, ``1.2e+``, ``1234(3``), or ends in a decimal
      point that the column's numbers do not end in (``12.``);
    * every number above it is printed alike (the same decimals, the same
      exponent digits) and it is printed shorter (``10.0`` under ``10.02``);
      fewer decimals count only where some number above ends in a zero
      decimal (``10.00``), which writers that drop trailing zeros (``%g``,
      spreadsheets) never print;
    * the lines above are right-justified (in each column numbers end at
      one character position, and in some column they have several widths,
      as DIFFRAC and Fortran write them) and it ends elsewhere (``      11``
      under ``    1148``);
    * with ``same_width`` (a block whose numbers all have fields of one
      width, as UXD ``_COUNTS`` rows), the numbers before it on its line
      and on the lines above fill padded fields of one width from the
      line's start and it does not (``      100      10``: fields of 9, cut
      at 17; not ``" 1234 1198 987"``, free layout, see
      :func:`_fixed_fields`).

    A count cut between its digits in a column of free layout (``1148`` read
    as ``11``, single spaces between numbers) leaves no trace: a declared
    number of points is then the only check, which the readers make.
    """
    text = text.rstrip("\x1a")
    if not text or text[-1] in "\r\n":
        return None
    # the last line whole, however long (one line of 20,000 UXD counts), and
    # the lines in up to _LAYOUT_TAIL characters before it: str.rfind, not a
    # split of the whole file
    newline = text.rfind("\n")
    start = max(newline, text.rfind("\r", newline + 1)) + 1
    lines = _LINE_BREAK.split(text[max(start - _LAYOUT_TAIL, 0) : start])[:-1]
    if start > _LAYOUT_TAIL:
        lines = lines[1:]  # the first may be a part of a line
    last = text[start:]
    lines.append(last)
    if comment is not None:
        last = last.split(comment, 1)[0]
    if not last.strip() or last[-1] in " \t" + separators:
        return None  # nothing, or a break between numbers: no number is cut

    number = re.compile("[^" + re.escape(separators) + "]+")

    def spans(line):
        return [(m.group(), m.end()) for m in number.finditer(line)]

    final = spans(last)
    if not final or not all(_NUMBER_START.fullmatch(t) for t, _ in final):
        return None  # not a line of numbers: the reader says what it is
    k = len(final) - 1
    token, end = final[-1]
    above = []  # the data lines above, as (token, end) lists
    for line in reversed(lines[:-1][-_LAYOUT_LINES * 4 :]):
        if comment is not None:
            line = line.split(comment, 1)[0]
        if not line.strip():
            continue
        got = spans(line)
        if not got or not all(_token_form(t, su) is not None for t, _ in got):
            break  # a header line or keyword: the block of numbers starts
        above.append(got)
        if len(above) >= _LAYOUT_LINES:
            break
    column = [got[k] for got in above if len(got) > k]
    form = _token_form(token, su)
    width = final[0][1]
    if (
        same_width
        and k >= 1
        and last[0] in " \t"
        and _fixed_fields([final[:-1], *above], width)
        and end != (k + 1) * width
    ):
        return (
            f"its last number {token!r} ends at column {end}, where the "
            f"{width}-character fields of its line end at column {(k + 1) * width}"
        )
    if form is None:
        return f"its last number {token!r} is not a complete number"
    forms = {_token_form(t, su) for t, _ in column}
    # the style of its column, else of the numbers before it on its line
    style = [t for t, _ in column] or [t for t, _ in final[:-1]]
    if token.endswith(".") and not (style and all(t.endswith(".") for t in style)):
        return f"its last number {token!r} ends in a decimal point"
    if len(column) < 2:
        return None
    if len(forms) == 1:
        (shared,) = forms
        # decimals count only where the column prints a trailing zero (or
        # none): writers that drop them (%g, str(round(y, 3)), spreadsheets)
        # print "7597.93" under "1267.466" uncut, one line in ten
        fixed = shared[1] == 0 or any(_trailing_zero(t, su) for t, _ in column)
        if (
            (fixed and shared[0] and not form[0])
            or (fixed and form[1] < shared[1])
            or (shared[2] is not None and (form[2] or 0) < shared[2])
        ):
            return (
                f"its last number {token!r} has fewer digits than the "
                f"{column[0][0]!r} style of the numbers above it"
            )
    ends = {e for _, e in column}
    if len(ends) == 1 and end not in ends and _right_justified(above):
        return (
            f"its last number {token!r} ends at column {end}, where the "
            f"right-justified numbers above it end at column {ends.pop()}"
        )
    return None


def _fixed_fields(lines, width: int) -> bool:
    """Whether ``lines`` (lists of (token, end)) show fields of ``width``
    characters from each line's start: every number ends at a multiple of
    ``width``, and the fields are padded (numbers of several lengths, or one
    with 4 or more characters of padding). Numbers of one length between
    single spaces (``" 1234 1198 1302"``) fill fields of 5 just as well:
    free layout, whose last number may be shorter (``" 1234 1198 987"``)."""
    lengths = set()
    for got in lines:
        if any(e != (j + 1) * width for j, (_, e) in enumerate(got)):
            return False
        lengths.update(len(t) for t, _ in got)
    return len(lengths) > 1 or width - min(lengths) >= 4


def _refuse_cut(path, text: str, **how) -> None:
    """Raise :class:`PatternFormatError` at the last line of ``text`` where
    :func:`_cut_last_number` (with ``how``) finds it cut short."""
    why = _cut_last_number(text, **how)
    if why is not None:
        raise PatternFormatError(
            path,
            f"the last line has no line break and {why}: the file is truncated "
            "(cut inside its last number)",
            line=_last_line_number(text),
        )


def _last_line_number(text: str) -> int:
    """The number of the last line of ``text`` (counted without a list of
    lines)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n") + 1


def _right_justified(lines) -> bool:
    """Whether numbers of several widths end at one position in their
    column, and every column ends at one position, over ``lines`` (lists of
    (token, end)): fixed-width fields, right-justified."""
    if len(lines) < 2:
        return False
    varied = False
    for j in range(max(len(got) for got in lines)):
        cells = [got[j] for got in lines if len(got) > j]
        if len({e for _, e in cells}) > 1:
            return False
        varied = varied or len({len(t) for t, _ in cells}) > 1
    return varied


# ---------------------------------------------------------------- text columns
_GENERIC_SPLIT = re.compile(r"[\s,;]+")
_WS_TOKEN = re.compile(r"\S+")


# numbers separated by whitespace, each with at most one comma inside and no
# point ("10,00 123,0 1,0", as a Rigaku RAS body on a European-locale PC):
# decimal commas, the only reading in which every field is a number
# a whole number, or one with a comma inside and no point ("123,5")
_COMMA_NUMBER = r"[-+]?\d+(?:,\d+)?"
_SPACED_DECIMAL_COMMAS = re.compile(rf"{_COMMA_NUMBER}(?:\s+{_COMMA_NUMBER})+")


def _tokens(s: str, delim: str | None, decimal_comma: bool) -> list[str]:
    if decimal_comma:
        s = s.replace(",", ".")
    if delim is None:
        return s.split()
    parts = [t.strip() for t in s.split(delim)]
    while parts and parts[-1] == "":  # a trailing delimiter adds no column
        parts.pop()
    return parts


# a Fortran field overflowed into asterisks, after or instead of digits
_OVERFLOW = re.compile(r"[-+]?[\d.]*\*{2,}[\d.*]*")
# a number with one stray character in it ("10.0O", "1O.0")
_ONE_STRAY = re.compile(r"[-+]?[\d.]*[^\d.eE+\-\s][\d.]*")


def _damaged_row(text: str, first_row: str) -> bool:
    """Whether a non-numeric line just before the data is a spoilt data line.

    The first data line's number of fields, each a number but one, which is
    an overflowed field (``10.0000********``, ``******** 100``) or a number
    with one stray character (``10.0O 100``). A names row (``2 Theta``,
    ``2th 4001``), a date or a title is none of these."""
    toks = [t for t in _GENERIC_SPLIT.split(text) if t]
    n_data = len([t for t in _GENERIC_SPLIT.split(first_row) if t])
    bad = [t for t in toks if not _all_floats([t])]
    if len(bad) != 1 or not any(c.isdigit() or c == "*" for c in bad[0]):
        return False
    if _OVERFLOW.fullmatch(bad[0]):
        # a field run into the next one by its asterisks: fewer fields
        return len(toks) <= n_data
    return len(toks) == n_data > 1 and bool(_ONE_STRAY.fullmatch(bad[0]))


def _all_floats(tokens) -> bool:
    try:
        for t in tokens:
            float(t)
    except ValueError:
        return False
    return bool(tokens)


def _read_text(path, data, axis, *, encodings=("utf-8",)) -> _Found:
    text = _decode(data, encodings).rstrip("\x1a")  # DOS end-of-file mark
    _check_one_pattern(path, _leading_comments(text))
    _refuse_cut(path, text, separators=" \t,;", comment="#")
    table, header, info = _parse_columns(path, lambda: enumerate(_iter_lines(text), 1))
    ncols = table.shape[1]
    meta: dict[str, Any] = {}
    fields = _header_fields(header)
    skxrd = bool(header) and header[0][1].lstrip("#;!'% ").startswith(_SKXRD_MAGIC)
    lines_of = info.pop("lines")
    named = _column_names(
        path, header, int(lines_of[0]), ncols, info.pop("delimiter"), axis
    )
    file_axis, x_scale = _axis_from_header(path, fields, named, axis)
    if _gsas_fxye(path, header):  # GSAS: 2θ in centidegrees
        file_axis, x_scale = "two_theta", 0.01
        meta["x_converted"] = "GSAS FXYE 2θ in centidegrees divided by 100"
    if axis is not None and file_axis is not None and axis != file_axis:
        raise PatternFormatError(
            path, f"the header says the x column is {file_axis}, not {axis}"
        )
    axis = axis or file_axis or "two_theta"
    x = table[:, 0] * x_scale
    if x_scale == 0.1:
        meta["x_converted"] = "Q in nm⁻¹ divided by 10 to Å⁻¹"
    cols = [table[:, 1], table[:, 2] if ncols == 3 else None]
    kind = "sigma"  # what the uncertainty column holds
    if ncols == 3:
        # the last header line before the data
        over_data = max((no for no, _ in header if no < lines_of[0]), default=-1)
        intensity, error, ignored, kind = _column_roles(path, named, over_data)
        cols = [table[:, intensity], None if error is None else table[:, error]]
        if ignored is not None:
            meta["ignored_column"] = ignored
    x, cols, reversed_ = _ordered(path, x, cols, lambda i: {"line": int(lines_of[i])})
    if reversed_:
        lines_of = lines_of[::-1]
    if cols[1] is not None:
        cols[1], converted = _as_sigma(path, cols[1], kind, named[1], lines_of)
        if converted:
            meta["uncertainty_converted"] = converted
    if axis == "two_theta":
        bad = np.flatnonzero((x < 0) | (x > 180))
        if bad.size:
            raise PatternFormatError(
                path,
                f"2θ = {x[bad[0]]:g} is outside [0, 180] degrees (is the column "
                "Q or d? for Q pass axis='q', or --axis q to skxrd predict and "
                "evaluate)",
                line=int(lines_of[bad[0]]),
            )
    radiation, lam, name, lam_error = None, None, None, None
    if skxrd:
        radiation, lam, name, extra = _skxrd_header(path, fields)
        meta.update(extra)
    else:
        try:
            lam, how = _wavelength_from_header(path, header)
        except PatternFormatError as exc:
            lam, how, lam_error = None, None, exc
        if how:
            meta["wavelength_statement"] = how
        if header:
            meta["header"] = [h for _, h in header]
    if reversed_:
        meta["reversed"] = True
    meta.update(info)
    return _Found(
        "text",
        x,
        cols[0],
        uncertainty=cols[1],
        axis=axis,
        wavelength=lam,
        radiation=radiation,
        name=name,
        metadata=meta,
        wavelength_error=lam_error,
        keep_name=skxrd,
    )


_MAX_HEADER_LINES = 10_000  # comment lines kept in metadata (a file may be all)


def _leading_comments(text: str) -> list[tuple[int, str]]:
    """The comment lines that open ``text``, numbered (a header checked
    before the columns are: their count may be the error it explains)."""
    lead = []
    for no, line in enumerate(_iter_lines(text), 1):
        line = line.strip()
        if not line:
            continue
        if line[0] not in _COMMENT_CHARS or len(lead) >= _MAX_HEADER_LINES:
            break
        lead.append((no, line))
    return lead


def _check_one_pattern(path, header) -> None:
    """Refuse a header that states several patterns (``# patterns: 3``, as
    ``skxrd simulate`` writes one CSV of several)."""
    for no, text in header:
        m = _KEY_VALUE.match(text)
        if m is None or m.group(1).strip().lower() != "patterns":
            continue
        count = re.match(r"\d+", m.group(2))
        if count and int(count.group()) > 1:
            raise PatternFormatError(
                path,
                f"the header says the file holds {int(count.group())} patterns; "
                "read_pattern reads one pattern per file: write each pattern to "
                "a file of its own and read them one by one",
                line=no,
            )


def _iter_lines(text: str):
    """The lines of ``text`` one at a time (a list of millions of lines costs
    ten times the file)."""
    start = 0
    for m in _LINE_BREAK.finditer(text):
        yield text[start : m.start()]
        start = m.end()
    yield text[start:]


def _parse_columns(
    path, numbered_lines, *, member: str | None = None, allow_header: bool = True
):
    """Numbers from ``(line_number, text)`` pairs.

    Returns the table (n_rows, n_cols), the header ``[(line_number, text)]``
    (comments and the non-numeric lines before the data) and a dict with the
    line number of each row and what was repaired.

    ``numbered_lines`` is a sequence, or a function returning a fresh
    iterator: the lines are read once into flat arrays, in memory a small
    multiple of the numbers, and a second time only when some lines have
    another number of columns than the rest.
    """
    from array import array

    err = _error_at(path, member)
    lines = numbered_lines if callable(numbered_lines) else lambda: numbered_lines
    header: list[tuple[int, str]] = []
    # columns per line, capped: any count past 3 is an error anyway
    flat, counts, line_numbers = array("d"), array("H"), array("q")
    delim: str | None = None
    decimal_comma = False
    started = False
    previous = None  # the last header line that is not a comment
    for no, raw in lines():
        s = raw.strip()
        if not s:
            continue
        if s[0] in _COMMENT_CHARS:
            if len(header) < _MAX_HEADER_LINES:
                header.append((no, s))
            continue
        if "#" in s:  # trailing comment
            raw = raw[: raw.index("#")]
            s = raw.strip()
        if not started:
            # empty tokens: a trailing (or leading) delimiter
            if not _all_floats([t for t in _GENERIC_SPLIT.split(s) if t]):
                if not allow_header:
                    raise err(f"{s!r} is not a line of numbers", line=no)
                if len(header) < _MAX_HEADER_LINES:
                    header.append((no, s))
                previous = (no, s)
                continue
            started = True
            if previous is not None and _damaged_row(previous[1], s):
                # not a header: a first data line spoilt, which would go unseen
                raise err(
                    f"{previous[1]!r} is not a line of numbers (a damaged data "
                    "line before the first one read)",
                    line=previous[0],
                )
            if ";" in s:
                delim, decimal_comma = ";", "," in s
            elif "\t" in s and "," in s and "." not in s:
                delim, decimal_comma = None, True
            elif "," in s and _SPACED_DECIMAL_COMMAS.fullmatch(s):
                # "10,00 123,0": as comma-separated fields no number ("00 123")
                delim, decimal_comma = None, True
            elif "," in s:
                delim = ","
        toks = _tokens(s, delim, decimal_comma)
        flat.extend(_numbers(toks, err, no))
        counts.append(min(len(toks), 65535))
        line_numbers.append(no)
    if not counts:
        raise err("no numeric data lines")
    counts_ = np.frombuffer(counts, dtype=np.uint16)
    flat_ = np.frombuffer(flat, dtype=np.float64)  # shares (keeps) flat's memory
    lines_ = np.frombuffer(line_numbers, dtype=np.int64)
    tally = np.bincount(counts_)
    # the most common count; on a tie, the one met first
    ncols = int(counts_[np.argmax(tally[counts_] == tally.max())])
    if ncols not in (2, 3):
        no = int(lines_[np.argmax(counts_ == ncols)])
        raise err(
            f"{ncols} columns; expected 2 or 3 (x, intensity[, uncertainty])",
            line=no,
        )
    info: dict[str, Any] = {}
    odd = np.flatnonzero(counts_ != ncols)
    if odd.size == 0:
        values = flat_.reshape(-1, ncols)
    else:
        starts = np.r_[0, np.cumsum(counts_, dtype=np.int64)[:-1]]
        values = np.empty((len(counts_), ncols))
        good = counts_ == ncols
        for j in range(ncols):
            values[good, j] = flat_[starts[good] + j]
        fixed = _fix_odd_lines(
            lines, lines_, odd, counts_[odd], ncols, delim, decimal_comma, err
        )
        values[odd] = fixed
        info["fixed_width_split_lines"] = lines_[odd].tolist()
    info["lines"] = lines_
    if decimal_comma:
        info["decimal_comma"] = True
    info["delimiter"] = delim
    return values, header, info


def _fix_odd_lines(
    lines, data_lines, odd, odd_counts, ncols, delim, decimal_comma, err
):
    """Values of the lines with a wrong number of columns, split at the column
    boundary of a fixed-width file, or the error naming the first one."""
    odd_numbers = data_lines[odd]
    wanted = set(odd_numbers.tolist())
    first = int(data_lines[0])  # lines before it are the header
    splittable = delim is None and not decimal_comma
    raw_of = {}
    ends: list[Counter] = [Counter() for _ in range(ncols - 1)]
    starts: list[Counter] = [Counter() for _ in range(ncols - 1)]
    n = 0
    for no, raw in lines():
        if no in wanted:
            raw_of[no] = raw[: raw.index("#")] if "#" in raw else raw
        elif splittable and no > first:
            s = raw.strip()
            if not s or s[0] in _COMMENT_CHARS:
                continue
            spans = [m.span() for m in _WS_TOKEN.finditer(raw.split("#", 1)[0])]
            if len(spans) != ncols:
                continue
            n += 1
            for k in range(ncols - 1):
                ends[k][spans[k][1]] += 1
                starts[k][spans[k + 1][0]] += 1
    boundaries = _boundaries(ends, starts, n) if splittable else None
    out = np.empty((len(odd_numbers), ncols))
    for i, (no, count) in enumerate(zip(odd_numbers.tolist(), odd_counts.tolist())):
        raw = raw_of[no]
        fixed = None
        if count == ncols - 1 and boundaries is not None:
            fixed = _split_fused(raw, boundaries)
        if fixed is None:
            raise err(
                f"{count} column(s) where the other lines have {ncols}: "
                f"{raw.strip()!r}",
                line=no,
            )
        out[i] = _numbers(fixed, err, no)
    return out


def _numbers(tokens, err, no) -> list[float]:
    out = []
    for t in tokens:
        try:
            v = float(t)
        except ValueError:
            raise err(f"{t!r} is not a number", line=no) from None
        if not math.isfinite(v):
            raise err(f"{t!r}: NaN and infinite values are not data", line=no)
        out.append(v)
    return out


def _error_at(path, member):
    def make(message, **where):
        return PatternFormatError(path, message, element=member, **where)

    return make


def _boundaries(ends, starts, n, min_share=0.9, min_lines=10):
    """Column boundaries shared by the well-formed lines of a fixed-width file.

    For each boundary k (between columns k and k+1) the candidates are the
    end of column k if it is right-aligned (``ends[k]`` counts where it ends
    over the ``n`` well-formed lines; the same position in at least
    ``min_share`` of them) and the start of column k+1 if that is left-aligned.
    """
    bounds: list[list[int]] = []
    for k in range(len(ends)):
        cands = []
        for counter in (ends[k], starts[k]):
            if n >= min_lines and counter:
                pos, hits = counter.most_common(1)[0]
                if hits >= min_share * n:
                    cands.append(pos)
        bounds.append(cands)
    return bounds


def _split_fused(raw: str, boundaries):
    """Split the one token of ``raw`` that a known column boundary cuts."""
    spans = [m.span() for m in _WS_TOKEN.finditer(raw)]
    found = []
    for j, (a, b) in enumerate(spans):
        if j >= len(boundaries):
            break
        for pos in boundaries[j]:
            if a < pos < b:
                toks = [raw[s:e] for s, e in spans]
                toks[j : j + 1] = [raw[a:pos], raw[pos:b]]
                if _all_floats(toks):
                    found.append(toks)
                break
    return found[0] if len(found) == 1 else None


# ------------------------------------------------------- header interpretation
# words the key, whitespace between them, so that no "\s" can take a run of
# whitespace that another can (200,000 tabs in a line had taken 4 minutes)
_KEY_VALUE = re.compile(
    r"^[#;!'%\s]*([A-Za-z_][\w\-()/.]*(?:\s+[\w\-()/.]+)*?)\s*[:=]\s*(.*\S|)\s*$"
)
# Header lines are matched with their whitespace runs made one space (and cut
# to 2,000 characters): the optional spaces below then cannot backtrack at
# length (a run of 400 tabs took 100 s).
# A value: not the tail of a word or number ("Wavelength1" is a key), nor a
# number before ":" or "=" (an index: "Wavelength 2: ..."); "1,5406" a
# decimal comma, "1.5406,1.5444" a list, "1,5406,1,5444" neither (no value,
# rather than 1 Å).
_VALUE = (
    r"(?<![\w.])(?P<value>\d+,\d+(?![\d.]|,\d)|\d*\.\d+(?:[eE][-+]?\d+)?"
    r"|\d+(?:[eE][-+]?\d+)?(?![\d.])(?!,\d))(?! ?[:=])"
)
# between a key and its value: an optional separator, optional quotes
_SEP = r" ?(?:[\"'] ?)?(?:[:=,;] ?)?(?:[\"'] ?)?"
# after a length key: a unit in brackets, the separator, the value, a unit
_LENGTH_VALUE = (
    r"(?: ?[(\[] ?(?P<unit1>Å|A|angstr[oö]ms?|ang|nm|nanomet(?:er|re)s?|pm"
    r"|picomet(?:er|re)s?|m) ?[)\]])?"
    + _SEP
    + _VALUE
    # the unit after the value: "0.15406 nm", "0.15406 (nm)", "0.15406,nm";
    # not a key after it ("1.5406, m=2": m is no metre)
    + r"[\"']? ?(?:(?:[(\[,;] ?)?(?P<unit2>Å|A\b|angstr[oö]ms?\b|ang\b|nm\b"
    r"|nanomet(?:er|re)s?\b|pm\b|picomet(?:er|re)s?\b|m\b)(?! ?[=:]))?"
)
_LAMBDA = re.compile(
    # the key, with an index (Kα1's 1, or 2: another line's)
    r"(?:\bwave ?-? ?length|\blambda|(?<!Δ)λ)"
    r"(?:s|_?(?P<index1>[12])(?![\d.])| (?P<index2>[12])(?= ?[:=]))?" + _LENGTH_VALUE,
    re.IGNORECASE,
)
_ALPHA1 = re.compile(
    # not Kα1,2 (the doublet: no value), but K-Alpha1,2.28970 (Cr's Kα1)
    r"\b(?:k ?[-_]? ?)?(?:alpha|α) ?[-_]? ?1(?![\d.])(?! ?[,+/&] ?2(?![\d.]))"
    + _LENGTH_VALUE,
    re.IGNORECASE,
)
_ENERGY = re.compile(
    # "energy" as the key, not any word before it ("detector energy window")
    r"\benergy(?: ?[(\[] ?(?P<unit1>kev|ev) ?[)\]])?"
    + _SEP
    + _VALUE
    + r"[\"']? ?(?:(?:[(\[,;] ?)?(?P<unit2>kev|ev)\b(?! ?[=:]))?\b",
    re.IGNORECASE,
)
# the key names another line than Kα1 right before it ("K-Alpha2
# wavelength", "Kbeta lambda"), unless Kα1 is named too ("Ka1/Ka2 ...")
_OTHER_KEY = re.compile(
    r"(?:(?:alpha|α|\bk ?a) ?[-_]? ?2|beta|β|\bk ?b)[ _-]?$", re.IGNORECASE
)
_ALPHA1_WORD = re.compile(r"(?:alpha|α|\bk ?a) ?[-_]? ?1(?!\d)", re.IGNORECASE)
_ANODE_LINE = re.compile(
    r"\b(Cu|Co|Mo|Ag|Cr|Fe)\s*[-_]?\s*K\s*[-_]?\s*(?:α|alpha|a)"
    r"(?:\s*[-_]?\s*(1\s*[,+/&]\s*2|12|[12]))?(?![a-z\d])",
    re.IGNORECASE,
)


def _header_fields(header) -> dict[str, str]:
    fields = {}
    for _, text in header:
        m = _KEY_VALUE.match(text)
        if m:
            key = re.sub(r"\s+", "_", m.group(1).strip().lower())
            fields.setdefault(key, m.group(2))
    return fields


def _wavelength_from_header(path, header):
    """The wavelength (Å) a text header states, and the line saying it.

    The first statement in range wins; one out of range (a bandwidth, a
    detector's window) is passed over, and is the error only when no other
    line states a wavelength. A value in metres (pyFAI's ``7.293e-11``, or
    with the unit ``m``) is read in metres."""
    bad = None
    lines = [(no, text, re.sub(r"\s+", " ", text)[:2000]) for no, text in header]
    for pattern, kind in ((_LAMBDA, "lambda"), (_ALPHA1, "lambda"), (_ENERGY, "e")):
        for no, text, flat in lines:
            m = pattern.search(flat)
            if not m:
                continue
            if pattern is _LAMBDA:
                before = flat[max(0, m.start() - 30) : m.start()]
                if "2" in (m.group("index1"), m.group("index2")) or (
                    _OTHER_KEY.search(before.rstrip())
                    and not _ALPHA1_WORD.search(before)
                ):
                    continue  # "Wavelength2: 1.5444", "K-Alpha2 wavelength,1.54443"
            value = float(m.group("value").replace(",", "."))
            unit = (m.group("unit1") or m.group("unit2") or "").lower()
            unit = {"nano": "nm", "pico": "pm"}.get(unit[:4], unit)
            if kind == "e":
                if not unit:  # an energy without a unit says nothing
                    continue
                value = HC_KEV_ANGSTROM / (value / 1000 if unit == "ev" else value)
            elif unit == "nm":
                value *= 10
            elif unit == "pm":
                value /= 100
            elif unit == "m" or (not unit and value < 1e-6):
                value *= 1e10
            if not 0.01 < value < 20:
                bad = bad or PatternFormatError(
                    path,
                    f"{text!r} states a wavelength of {value:g} Å, which is not an "
                    "X-ray or neutron wavelength",
                    line=no,
                )
                continue
            return value, text
    for _no, text in header:
        m = _ANODE_LINE.search(text)
        if m:
            index = re.sub(r"\D", "", m.group(2) or "")
            # "Ka1,2", "Ka12": the doublet
            name = f"{m.group(1).capitalize()}Ka{index if len(index) == 1 else ''}"
            return get_radiation(name).name, text
    if bad is not None:
        raise bad
    return None, None


_Q_NAMES = re.compile(r"^q(?:\b|_|\(|\[|$)", re.IGNORECASE)
_TT_NAMES = re.compile(
    # 2θ, or a coupled scan's name for it (Omega-2Theta, Theta/2Theta)
    r"^(?:(?:theta|θ|omega|ω)\s*[-/_]?\s*)?"
    r"(?:2\s*-?\s*theta|2θ|two_?theta|tth|2th|angle)(?:\b|_|\(|\[|$)",
    re.IGNORECASE,
)


_ANGLE_NAMES = re.compile(r"^(?:theta|θ|omega|ω|chi|χ)(?:\b|_|\(|\[|$)", re.I)
_D_NAMES = re.compile(r"^d(?:_?spacing)?(?:\b|_|\(|$)", re.IGNORECASE)
# a named third column that is not the uncertainty: a fit's curve, a
# background, a difference, a counting time
_OTHER_NAME = re.compile(
    r"calc|fit|model|sim|back|bkg|bgr|diff|time|step|monitor", re.IGNORECASE
)
# a named third column that is the uncertainty: sigma, sigI, σ(I), esd,
# err, I_err, ErrorBar, error, std, Istd, CountsSD, stdev, sd, unc(ertainty),
# u(I), sqrt(counts), e(y), Ey, sI, dI, dy, s.u., noise ("signal",
# "ferrite" are not). Case matters where a letter is the mark: sI (s or e
# before a capital), Ey, CountsSD; Si, Se, Er and Eu are elements (a
# pattern of silicon, not its uncertainty).
_ERROR_NAME = re.compile(
    r"(?i:sig(?!n)|σ|esd|e\.s\.d|std|stdev|(?<![a-z])dev(?![a-z])"
    r"|err(?:ors?)?(?:bars?)?(?![a-z])|unc|sqrt|±|\+/-|noise"
    r"|^(?:e|su|s\.u\.?|sd|s|u)(?:$|[ _.(\[])"
    r"|^(?:d|δ|Δ|delta)[ _]?(?:i|y|int\w*|counts?)(?:$|[ _(\[]))"
    r"|^[se][A-Z]\w*$|^[sSeE]_?[yY]$|SD$"
)


# A third column that holds the variance σ² or the weight 1/σ² of the
# intensities, not σ: var, variance, Var(I); sigma^2, σ², σ(I)^2, esd^2,
# s**2, and s2, sigma2, esd2; w (lower case: W is tungsten), wt, weight(s);
# 1/ before a variance (1/sigma^2, 1/σ², 1/var). 1/ before σ (1/sigma,
# 1/esd) is the inverse of σ. A unit in brackets or a suffix may follow.
_NAME_END = r"(?:$|[\s_.(\[])"
_SIGMA_STEM = r"(?:sigma|sig|σ|esd|e\.s\.d\.?|s\.u\.?|su|sd|stdev|std|err(?:or)?|s|u|e)"
_BRACKETS = r"(?:\s*[(\[][^()\[\]]*[)\]])?"
_VARIANCE_BODY = (
    rf"(?:var(?:iance)?|{_SIGMA_STEM}{_BRACKETS}\s*(?:\^\s*2|\*\*\s*2|²)"
    r"|(?:sigma|sig|σ|esd|s)2)"
)
_VARIANCE_NAME = re.compile(rf"(?i:^{_VARIANCE_BODY}{_NAME_END})")
_WEIGHT_NAME = re.compile(
    rf"^(?:w|(?i:w(?:eights?|ts?|gt))){_NAME_END}"
    rf"|(?i:^1\s*/\s*{_VARIANCE_BODY}{_NAME_END})"
)
_INVERSE_SIGMA_NAME = re.compile(
    r"(?i:^1\s*/\s*(?:sigma|sig|σ|esd|sd|stdev|std|err(?:or)?)(?!\w))"
)
# a plain "x" names the first column too, for what the third one holds
_X_NAME = re.compile(r"^x(?:$|[\s_(\[])", re.IGNORECASE)
# what a third column of each kind holds, and how σ is made of it
_SIGMA_FROM = {
    "variance": "variances σ²: σ = √(variance)",
    "weight": "weights 1/σ²: σ = 1/√(weight)",
    "inverse_sigma": "inverse uncertainties 1/σ: σ = 1/value",
}


def _uncertainty_kind(names) -> str:
    """What the third of ``names`` holds: ``"variance"``, ``"weight"``,
    ``"inverse_sigma"`` or ``"sigma"`` (any other name: the uncertainty).

    ``s1 s2`` over the columns names two series (two patterns), not σ²."""
    second, third = names[1], names[2]
    if _WEIGHT_NAME.match(third):  # before 1/σ: 1/σ² is a weight
        return "weight"
    if _INVERSE_SIGMA_NAME.match(third):
        return "inverse_sigma"
    if _VARIANCE_NAME.match(third):
        if third.endswith("2") and second.lower() == third[:-1].lower() + "1":
            return "sigma"
        return "variance"
    return "sigma"


def _as_sigma(path, values, kind, names, lines_of):
    """The standard uncertainties σ from a third column that holds ``kind``,
    and a note of the conversion (None for σ itself).

    A negative value, and a weight or inverse σ of zero (a point the file
    excludes: its σ is infinite, which a Pattern does not hold), is an error
    naming the line."""
    what = {"sigma": "uncertainty", "inverse_sigma": "1/σ"}.get(kind, kind)
    column = "" if kind == "sigma" else f" (the third column, {names[2]!r})"

    def refuse(bad, why):
        # the first in the file, whichever way it runs
        i = int(bad[np.argmin(lines_of[bad])])
        raise PatternFormatError(
            path, f"{what} {values[i]:g}{column} is {why}", line=int(lines_of[i])
        )

    neg = np.flatnonzero(values < 0)
    if neg.size:
        refuse(neg, "negative")
    if kind == "sigma":
        return values, None
    note = f"the third column {names[2]!r} holds {_SIGMA_FROM[kind]}"
    if kind == "variance":
        return np.sqrt(values), note
    zero = np.flatnonzero(values == 0)
    if zero.size:
        refuse(
            zero,
            "zero: an excluded point, whose σ would be infinite, which a "
            "pattern cannot hold; remove the line, or give the point a "
            "positive value",
        )
    with np.errstate(over="ignore", divide="ignore"):
        sigma = 1.0 / (np.sqrt(values) if kind == "weight" else values)
    big = np.flatnonzero(~np.isfinite(sigma))
    if big.size:
        refuse(big, "too small: its σ is not a finite number")
    return sigma, note


# the first name of a names row that says the x column is not 2θ
_NOT_2THETA_NAME = re.compile(
    r"^(?:q|d|d[-_ ]?spacing|theta|θ)(?: ?[(\[][^()\[\]]*[)\]])?$", re.IGNORECASE
)
_NAME_SPLIT = re.compile(r"[\s,;]+")
# the names skxrd gives the columns after the axis
_SKXRD_NAMES = ("intensity", "uncertainty")


def _split_names(text, delim):
    """The names of a header row, a unit in brackets kept with its name
    (``Q (nm^-1)``, ``I [counts]``), split at the data's delimiter; over
    whitespace-separated data at whitespace, commas or semicolons."""
    text = text.lstrip(_COMMENT_CHARS).strip()
    parts = text.split(delim) if delim else _NAME_SPLIT.split(text)
    names: list[list[str]] = []
    depth = 0  # brackets left open by the name so far
    for t in parts:
        t = t.strip().strip("\"'")
        if not t:
            continue
        if not delim and names and (t[0] in "([" or depth > 0):
            # "Q (nm^-1) I" is 2 names, not 3: else the row names no columns
            # and a Q axis was read as 2θ
            names[-1].append(t)
        else:
            names.append([t])
            depth = 0
        depth = max(
            0, depth + t.count("(") + t.count("[") - t.count(")") - t.count("]")
        )
    return [" ".join(n) for n in names]


def _column_names(path, header, first_data_line, ncols, delim, axis=None):
    """``(line, names)`` of the header row that names the columns, or
    ``(None, None)``.

    Candidates are the comment lines before the first data line and the last
    other header line before it (a title further up names nothing, nor does a
    comment after the data), with one name per column. The last whose first
    name is a known axis (2θ, Q, d, θ, ω, χ) wins, else the last whose first
    name is a plain ``x`` (``# x y w``), else that last header line (a units
    line such as ``# (1/A) (counts)`` under the names does not).

    The line just over the data may also name the first column alone, as an
    axis name and perhaps a unit in brackets (``# Q (1/A)``): the other
    columns are then named as skxrd writes them. A line just over the data
    whose first name is Q, d or θ but that names one column more than the
    data have (``# Q nm-1 I``), or two over three columns, is an error unless
    ``axis`` is given: read as 2θ, that column would be silently wrong. A
    longer line is a title (``# q vector scan of LaB6``)."""
    before = [(no, text) for no, text in header if no < first_data_line]
    plain = [no for no, text in before if text[0] not in _COMMENT_CHARS]
    last_plain = plain[-1] if plain else None
    rows, miscounted = [], []
    for no, text in before:
        if text[0] not in _COMMENT_CHARS and no != last_plain:
            continue
        names = _split_names(text, delim)
        # names hold no number ("# Omega 12.5" states a setting)
        if not names or any(_all_floats([n]) for n in names):
            continue
        over_data = no == before[-1][0]
        if len(names) == ncols:
            rows.append((no, names))
        elif over_data and _NOT_2THETA_NAME.match(names[0]):
            if len(names) == 1:
                # "# Q (1/A)" over the data names the first column (read as Q
                # before units in brackets were kept with their names)
                rows.append((no, [names[0], *_SKXRD_NAMES[: ncols - 1]]))
            elif len(names) in (ncols + 1, ncols - 1):
                miscounted.append((no, text, names))
    for no, names in reversed(rows):
        first = names[0]
        if any(r.match(first) for r in (_Q_NAMES, _TT_NAMES, _D_NAMES, _ANGLE_NAMES)):
            return no, names
    if miscounted and axis is None:
        # a Q, d or θ column is not 2θ, whatever else the row holds: reading
        # it as 2θ (the default) would be a silent wrong answer
        no, text, names = miscounted[-1]
        raise PatternFormatError(
            path,
            f"the header {text!r} names {len(names)} column(s) where the data "
            f"have {ncols}, and its first, {names[0]!r}, is not 2θ; pass "
            "axis='q' or axis='two_theta' to say what the first column holds "
            "(--axis to skxrd predict and evaluate)",
            line=no,
        )
    # a first name "x" names the columns too, in a comment as in a plain line:
    # "# x y w" was left unread, its weights read silently as σ
    for no, names in reversed(rows):
        if _X_NAME.match(names[0]):
            return no, names
    for no, names in rows:
        if no == last_plain:
            return no, names
    return None, None


def _axis_from_header(path, fields, named, axis):
    """The axis a header states (``# axis: q`` or a column name), and x scale."""
    stated = fields.get("axis", "").strip().lower().replace("-", "_")
    if stated in ("q", "two_theta", "2theta"):
        return ("q" if stated == "q" else "two_theta"), 1.0
    no, names = named
    if names is None:
        return None, 1.0
    first = names[0]
    if _Q_NAMES.match(first):
        return "q", (0.1 if re.search(r"nm", first, re.IGNORECASE) else 1.0)
    if _TT_NAMES.match(first):
        return "two_theta", 1.0
    if _D_NAMES.match(first):
        raise PatternFormatError(
            path, f"the first column is {first!r} (d-spacing), not 2θ or Q", line=no
        )
    if _ANGLE_NAMES.match(first) and axis is None:
        # θ is half of 2θ: read as 2θ, every line would sit at half its angle
        raise PatternFormatError(
            path,
            f"the first column is {first!r}, not 2θ or Q; if it holds 2θ, pass "
            "axis='two_theta' (--axis two_theta to skxrd predict and evaluate)",
            line=no,
        )
    return None, 1.0


_GSAS_BANK = re.compile(r"^BANK\s+\d+\s+\d+\s+\d+\s+(\w+)\b.*?(\w+)\s*$")


def _gsas_fxye(path, header) -> bool:
    """Whether the header has a GSAS ``BANK`` line of constant-wavelength
    FXYE data (x, y, e with x in centidegrees); other GSAS banks are refused
    (time of flight: x is no angle)."""
    for no, text in header:
        m = _GSAS_BANK.match(text)
        if m is None:
            continue
        binning, fmt = m.group(1).upper(), m.group(2).upper()
        if fmt == "FXYE" and binning in ("CONS", "CONST"):
            return True
        raise PatternFormatError(
            path,
            f"a GSAS bank of {binning} {fmt} data; read are constant-wavelength "
            "banks (BANK ... CONS ... FXYE, 2θ in centidegrees; STD, ESD, ALT "
            "and FXY banks in a GSAS raw file: a title line, then the BANK line)",
            line=no,
        )
    return False


def _column_roles(path, named, over_data=None):
    """Columns of the intensity and the uncertainty (None) of a 3-column
    table, from the names row ``(line, names)``; the name of a column left
    unread; and what the uncertainty column holds (see
    :func:`_uncertainty_kind`).

    The third column is the uncertainty unless a names row that names the
    axis (``2theta``, ``q``...) calls it a fit's curve, a background, a
    difference or a counting time (``Icalc``, ``bkg``, ``diff``, ``time``):
    then it is left out, and where the second is such a column and the third
    is not (``Angle,TimePerStep,Intensity``) the third is the intensity. A
    title over the data names no columns. A third name that is no
    uncertainty either (``sigma``, ``sd``, ``err``, ``sI``...) warns when
    the names row is ``over_data``, the line just over the data: it may be a
    second pattern (``two_theta,corundum,rutile``). A third name of a
    variance or weight (``var``, ``sigma^2``, ``w``, ``1/σ²``) says how to
    make σ of it, under a first name of an axis or a plain ``x``."""
    no, names = named
    axis_names = (_Q_NAMES, _TT_NAMES, _ANGLE_NAMES)
    if names is None or len(names) != 3:
        return 1, 2, None, "sigma"
    if not any(r.match(names[0]) for r in axis_names):
        kind = _uncertainty_kind(names) if _X_NAME.match(names[0]) else "sigma"
        return 1, 2, None, kind
    second, third = (bool(_OTHER_NAME.search(n)) for n in names[1:])
    if third and not second:
        return 1, None, names[2], "sigma"
    if second and not third:
        return 2, None, names[1], "sigma"
    kind = _uncertainty_kind(names)
    if kind == "sigma" and no == over_data and not _ERROR_NAME.search(names[2]):
        # read as ever (names of uncertainties are too many to know), but a
        # second pattern read as an uncertainty should not go unsaid; a title
        # further up is no names row to warn of
        warnings.warn(
            f"{path}: the third column {names[2]!r} is read as the uncertainty "
            "of the intensities; a file of several patterns must be split, one "
            "pattern per file",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return 1, 2, None, kind


def _skxrd_header(path, fields):
    """Radiation, wavelength, name and metadata from a header we wrote."""
    extra: dict[str, Any] = {}
    radiation = lam = name = None
    try:
        if "wavelength" in fields:
            lam = float(fields["wavelength"].split()[0])
        if "radiation_name" in fields:
            radiation = Radiation(
                fields["radiation_kind"],
                tuple(float(v) for v in fields["radiation_wavelengths"].split()),
                tuple(float(v) for v in fields["radiation_weights"].split()),
                json.loads(fields["radiation_name"]),
            )
        if "name" in fields:
            name = json.loads(fields["name"])
        if "metadata" in fields:
            extra = json.loads(fields["metadata"])
    except (KeyError, ValueError, TypeError) as exc:
        raise PatternFormatError(path, f"damaged skxrd header: {exc}") from None
    return radiation, lam, name, extra


# ----------------------------------------------------------------------- writer
def _header_lines(axis, wavelength, radiation, writer) -> list[str]:
    """The first lines of a header that :func:`read_pattern` reads back:
    the axis, the wavelength and the radiation (also written by ``skxrd
    simulate``)."""
    unit = "deg" if axis == "two_theta" else "1/Å"
    head = [
        f"# {_SKXRD_MAGIC} (written by {writer})",
        f"# axis: {axis}",
        f"# x_unit: {unit}",
    ]
    if wavelength is not None:
        head.append(f"# wavelength: {wavelength!r} Å")
    rad = radiation
    if rad is not None:
        head += [
            f"# radiation_kind: {rad.kind}",
            f"# radiation_name: {json.dumps(rad.name, ensure_ascii=False)}",
            "# radiation_wavelengths: "
            + " ".join(repr(float(w)) for w in rad.wavelengths),
            "# radiation_weights: " + " ".join(repr(float(w)) for w in rad.weights),
        ]
    return head


def _json_numpy(value):
    """NumPy numbers and arrays as JSON numbers and lists (``json.dumps``
    refuses ``np.int64`` and arrays, which the writer used to drop)."""
    if isinstance(value, (np.generic, np.ndarray)) and value.dtype.kind in "biuf":
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json_change(value, depth: int = 0) -> str | None:
    """What a JSON round trip changes in ``value`` (JSON-serialisable), or None.

    Tuples come back as lists and dict keys as strings, silently; NumPy
    numbers and arrays come back as equal Python numbers and lists, as
    :func:`write_pattern` documents.
    """
    if depth > 64:  # json.dumps refuses deeper nesting before this
        return None
    if isinstance(value, tuple):
        return "a tuple is read back as a list"
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"the key {k!r} is read back as the string {str(k)!r}"
            change = _json_change(v, depth + 1)
            if change is not None:
                return change
    elif isinstance(value, list):
        for v in value:
            change = _json_change(v, depth + 1)
            if change is not None:
                return change
    return None


def _format_text(pattern: Pattern, fmt: str) -> str:
    sep = "," if fmt == "csv" else " "
    cols = [pattern.axis, "intensity"]
    if pattern.uncertainty is not None:
        cols.append("uncertainty")
    head = _header_lines(
        pattern.axis,
        pattern.wavelength,
        pattern.radiation,
        "skxrd.io.write_pattern",
    )
    head.append(f"# name: {json.dumps(pattern.name, ensure_ascii=False)}")
    meta, dropped, changed = {}, [], []
    for key, value in pattern.metadata.items():
        # repr: a key with a line break would start a line of its own, read
        # as data ("note\n5.0 999" added the point 5.0, 999)
        if str(key) in meta:  # 1 and "1": JSON would keep the last alone
            dropped.append(repr(key))
            continue
        try:
            json.dumps(value, allow_nan=False, default=_json_numpy)
            meta[str(key)] = value
        except (TypeError, ValueError):
            dropped.append(repr(key))
            continue
        change = _json_change(value)
        if change is None and not isinstance(key, str):
            change = f"the key {key!r} is read back as the string {str(key)!r}"
        if change is not None:
            changed.append(f"{key!r} ({change})")
    if changed:
        warnings.warn(
            f"write_pattern: metadata {'; '.join(changed)}: JSON has no tuples "
            "and only string keys, so read_pattern will not give these back as "
            "they are",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    if meta:
        text = json.dumps(meta, ensure_ascii=False, default=_json_numpy)
        head.append(f"# metadata: {text}")
    if dropped:
        head.append(f"# metadata not written (not JSON): {', '.join(dropped)}")
        warnings.warn(
            f"write_pattern: metadata {', '.join(dropped)} not written (not "
            "JSON-serialisable, or a key that repeats another as text); "
            "read_pattern will not give it back",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    head.append(f"# columns: {' '.join(cols)}")
    if fmt == "csv":
        head.append(",".join(cols))
    arrays = [pattern.x, pattern.intensity]
    if pattern.uncertainty is not None:
        arrays.append(pattern.uncertainty)
    body = [sep.join(map(repr, row)) for row in zip(*(a.tolist() for a in arrays))]
    return "\n".join(head + body) + "\n"


# ------------------------------------------------------------------------ XRDML
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el, name):
    """The first child of ``el`` named ``name`` (any namespace); None where
    there is none, or no ``el``."""
    if el is None:
        return None
    return next((c for c in el if _local(c.tag) == name), None)


def _children(el, name):
    return [c for c in el if _local(c.tag) == name]


def _xml_numbers(path, el, label, member=None) -> np.ndarray:
    text = (el.text or "").split()
    try:
        arr = np.array([float(t) for t in text])
    except ValueError:
        bad = next(t for t in text if not _all_floats([t]))
        raise PatternFormatError(
            path, f"{bad!r} is not a number", element=_where(label, member)
        ) from None
    if not np.all(np.isfinite(arr)):
        raise PatternFormatError(
            path, "NaN or infinite values", element=_where(label, member)
        )
    return arr


def _where(label, member):
    return f"{member}: {label}" if member else label


def _parse_xml(path, data, member=None):
    try:
        return ET.fromstring(data)
    except LookupError as exc:  # <?xml encoding="..."?> names no codec
        raise PatternFormatError(
            path, f"the XML declares an unknown encoding ({exc})", element=member
        ) from None
    except ET.ParseError as exc:
        line, col = exc.position
        what = re.sub(r":? line \d+, column \d+$", "", str(exc))
        raise PatternFormatError(
            path,
            f"not well-formed XML (truncated?): {what} at column {col}",
            line=line,
            element=member,
        ) from None


# the XRDML schema's wavelength unit (and its spellings); nm is converted
_ANGSTROM = ("", "angstrom", "angstroms", "å", "a")


def _read_xrdml(path, data, axis) -> _Found:
    root = _parse_xml(path, data)
    measurements = [el for el in root.iter() if _local(el.tag) == "xrdMeasurement"]
    if not measurements:
        raise PatternFormatError(path, "no <xrdMeasurement> element", element="root")
    meta: dict[str, Any] = {}
    sample = next((el for el in root.iter() if _local(el.tag) == "sample"), None)
    if sample is not None:
        for key in ("id", "name"):
            c = _child(sample, key)
            if c is not None and (c.text or "").strip():
                meta[f"sample_{key}"] = c.text.strip()
    radiation, lam, lam_error = None, None, None
    ranges = []
    for m_i, meas in enumerate(measurements, 1):
        used = _child(meas, "usedWavelength")
        if used is not None and lam is None:
            intended = used.get("intended", "")
            meta["intended_wavelength"] = intended or None
            # only the lines the beam has are read: a monochromated "K-Alpha 1"
            # file may leave its Kα2 and ratio fields blank or garbled
            if _is_kbeta(intended):
                needed = ("kBeta",)
            elif _is_kalpha1(intended):
                needed = ("kAlpha1",)
            else:
                needed = ("kAlpha1", "kAlpha2", "ratioKAlpha2KAlpha1")
            lines = {}
            for key in ("kAlpha1", "kAlpha2", "kBeta", "ratioKAlpha2KAlpha1"):
                c = _child(used, key)
                if c is None or not (c.text or "").strip():
                    continue
                value, error = _xrdml_line(path, c, key)
                if error is None:
                    lines[key] = value
                elif key in needed:
                    raise error
            anode = ""
            for el in meas.iter():
                if _local(el.tag) == "anodeMaterial" and el.text:
                    anode = el.text.strip()
                    meta["anode"] = anode
                    break
            main = needed[0]  # Kα1, or Kβ for a "K-Beta" beam
            ratio = lines.get("ratioKAlpha2KAlpha1")
            if len(needed) == 1:  # monochromatic
                ratio = None
            radiation, lam = _radiation_from_lines(
                lines.get(main), lines.get("kAlpha2"), ratio, anode
            )
            lam_error = _bad_wavelength(
                path, lines.get(main), f"<{main}>", element="<usedWavelength>"
            )
            meta.update({k: v for k, v in lines.items()})
        for s_i, scan in enumerate(_children(meas, "scan"), 1):
            label = f"<scan> {s_i}" + (f" of <xrdMeasurement> {m_i}" if m_i > 1 else "")
            ranges.append(_xrdml_scan(path, scan, label, meta))
    if not ranges:
        raise PatternFormatError(path, "no <scan> elements", element="xrdMeasurement")
    x, y, _ = _merge_ranges(path, ranges, meta, "scan")
    return _Found(
        "xrdml",
        x,
        y,
        wavelength=lam,
        radiation=radiation,
        metadata=meta,
        wavelength_error=lam_error,
    )


def _xrdml_line(path, el, key):
    """``(value, None)``: the number of a ``<usedWavelength>`` child in Å (a
    ratio as it is), or ``(None, error)`` saying why it cannot be read; the
    error is raised only where the beam uses that line."""
    try:
        value = _header_float(el.text)
    except ValueError:
        return None, PatternFormatError(
            path, f"{el.text!r} is not a number", element=f"<{key}>"
        )
    unit = (el.get("unit") or "").strip()
    if key == "ratioKAlpha2KAlpha1" or unit.lower() in _ANGSTROM:
        return value, None
    if unit.lower() != "nm":
        # 0.15406 in nm had been read as 0.15406 Å, a wavelength
        return None, PatternFormatError(
            path,
            f"a wavelength in {unit!r}; read are Angstrom and nm",
            element=f"<{key}>",
        )
    return value * 10.0, None


def _xrdml_scan(path, scan, label, meta):
    points = _child(scan, "dataPoints")
    if points is None:
        raise PatternFormatError(path, "no <dataPoints>", element=label)
    if scan.get("status"):
        meta.setdefault("scan_status", scan.get("status"))
    if scan.get("scanAxis"):
        meta.setdefault("scan_axis", scan.get("scanAxis"))
    counts_el = _child(points, "counts")
    int_el = _child(points, "intensities")
    if counts_el is None and int_el is None:
        raise PatternFormatError(
            path, "neither <intensities> nor <counts>", element=f"{label} <dataPoints>"
        )
    el = int_el if int_el is not None else counts_el
    if el.get("unit"):
        meta.setdefault("intensity_unit", el.get("unit"))
    y = _xml_numbers(path, el, f"{label} <{_local(el.tag)}>")
    att = _child(points, "beamAttenuationFactors")
    if counts_el is not None and int_el is None and att is not None:
        # <counts> are raw; <intensities> already include the attenuation
        factors = _xml_numbers(path, att, f"{label} <beamAttenuationFactors>")
        if factors.shape != y.shape:
            raise PatternFormatError(
                path,
                f"{len(factors)} attenuation factors for {len(y)} counts",
                element=f"{label} <beamAttenuationFactors>",
            )
        with np.errstate(over="ignore"):
            y = y * factors
        if not np.all(np.isfinite(y)):
            raise PatternFormatError(
                path,
                "counts × attenuation factors are not finite numbers",
                element=f"{label} <beamAttenuationFactors>",
            )
        meta["attenuation_applied"] = True
    t = _child(points, "commonCountingTime")
    if t is not None and (t.text or "").strip():
        seconds = _float_or_none(t.text)
        if seconds is None:
            raise PatternFormatError(
                path,
                f"counting time {t.text.strip()[:40]!r} is not a number",
                element=f"{label} <commonCountingTime>",
            )
        meta.setdefault("counting_time_s", seconds)
    pos = [p for p in _children(points, "positions") if _is_two_theta(p.get("axis"))]
    if not pos:
        axes = [p.get("axis") for p in _children(points, "positions")]
        raise PatternFormatError(
            path,
            f"no 2θ positions (axes: {', '.join(map(str, axes))}): not a 2θ scan",
            element=f"{label} <dataPoints>",
        )
    p = pos[0]
    plabel = f"{label} <positions axis={p.get('axis')!r}>"
    listed = _child(p, "listPositions")
    if listed is not None:
        x = _xml_numbers(path, listed, f"{plabel} <listPositions>")
        if len(x) != len(y):
            raise PatternFormatError(
                path, f"{len(x)} positions for {len(y)} intensities", element=plabel
            )
    else:
        start, end = _child(p, "startPosition"), _child(p, "endPosition")
        if start is None or end is None:
            raise PatternFormatError(
                path,
                "2θ does not move in this scan (no start/end or list of positions)",
                element=plabel,
            )
        a = _xml_position(path, start, f"{plabel} <startPosition>")
        b = _xml_position(path, end, f"{plabel} <endPosition>")
        if a.size != 1 or b.size != 1:
            raise PatternFormatError(
                path, "start/end are not one number", element=plabel
            )
        if len(y) < 2:
            raise PatternFormatError(path, f"{len(y)} intensities", element=label)
        x = np.linspace(a[0], b[0], len(y))
    x, (y, _), reversed_ = _ordered(path, x, [y, None], lambda i: {"element": label})
    return x, y, None, reversed_


def _xml_position(path, el, label) -> np.ndarray:
    """The numbers of a start or end position: one number may be written
    with a decimal comma (``10,0000``), as other header values may."""
    text = (el.text or "").strip()
    if _DECIMAL_COMMA_NUMBER.fullmatch(text):
        return np.array([_header_float(text)])
    return _xml_numbers(path, el, label)


def _is_two_theta(name) -> bool:
    return re.sub(r"[^a-z0-9]", "", str(name).lower()) in ("2theta", "twotheta")


# -------------------------------------------------------------------- Rigaku RAS
_RAS_KEY = re.compile(r'^\*(\S+)\s*(?:"(.*)"|(.*))$')


def _read_ras(path, data, axis) -> _Found:
    text = _decode(data, ("utf-8", "cp932"))
    lines = _LINE_BREAK.split(text)
    meta: dict[str, Any] = {}
    blocks = []
    state = "outside"
    header: dict[str, str] = {}
    header_lines: dict[str, int] = {}  # of the first block's keys
    body: list[tuple[int, str]] = []
    start_line = 0
    for no, raw in enumerate(lines, 1):
        s = raw.strip()
        if not s:
            continue
        if s.startswith("*"):
            m = _RAS_KEY.match(s)
            if m is None:
                raise PatternFormatError(
                    path, f"{s!r} is a '*' line without a key", line=no
                )
            key = m.group(1)
            value = (m.group(2) if m.group(2) is not None else m.group(3)).strip()
            if key == "RAS_HEADER_START":
                if state != "outside":
                    raise PatternFormatError(
                        path, "*RAS_HEADER_START inside another block", line=no
                    )
                state, header, start_line = "header", {}, no
            elif key == "RAS_HEADER_END":
                state = "between"
            elif key == "RAS_INT_START":
                if state not in ("between", "header"):
                    raise PatternFormatError(
                        path, "*RAS_INT_START without a header", line=no
                    )
                state, body = "data", []
            elif key == "RAS_INT_END":
                if state != "data":
                    raise PatternFormatError(
                        path, "*RAS_INT_END without *RAS_INT_START", line=no
                    )
                blocks.append((start_line, header, body))
                state = "outside"
            elif state == "header":
                header[key] = value
                if not blocks:
                    header_lines.setdefault(key, no)
            elif state == "data":
                raise PatternFormatError(
                    path, f"unexpected {s!r} inside the data", line=no
                )
            continue
        if state != "data":
            raise PatternFormatError(
                path, f"{s!r} outside a *RAS_INT_START … *RAS_INT_END block", line=no
            )
        body.append((no, raw))
    if state in ("header", "between", "data"):
        raise PatternFormatError(
            path,
            f"the block started at line {start_line} has no "
            f"{'*RAS_INT_END' if state == 'data' else 'data'}: the file is truncated",
            line=len(lines),
        )
    if not blocks:
        raise PatternFormatError(path, "no *RAS_HEADER_START … *RAS_INT_END block")
    ranges = []
    for start_line, header, body in blocks:
        label = f"block at line {start_line}"
        _check_rigaku_axis(path, header.get("MEAS_SCAN_AXIS_X"), line=start_line)
        table, _, info = _parse_columns(path, body, allow_header=False)
        lines_of = info["lines"]
        n = header.get("MEAS_DATA_COUNT")
        # a count: "1,024" is no decimal
        stated = _float_or_none(n, decimal_comma=False) if n else None
        if stated is not None and stated != len(table):
            raise PatternFormatError(
                path,
                f"*MEAS_DATA_COUNT says {stated:g} points but the {label} has "
                f"{len(table)}: the file is truncated or damaged",
                line=int(lines_of[-1]),
            )
        ranges.append(
            _rigaku_range(path, table, lambda i, lo=lines_of: {"line": int(lo[i])})
        )
    x, y, _ = _merge_ranges(path, ranges, meta, "block")
    first = blocks[0][1]
    a1 = _float_or_none(first.get("HW_XG_WAVE_LENGTH_ALPHA1"))
    a2 = _float_or_none(first.get("HW_XG_WAVE_LENGTH_ALPHA2"))
    wave_type = first.get("MEAS_COND_XG_WAVE_TYPE") or first.get("HW_XG_WAVE_TYPE")
    beta = _float_or_none(first.get("HW_XG_WAVE_LENGTH_BETA"))
    radiation, lam = _rigaku_radiation(
        a1, a2, first.get("HW_XG_TARGET_NAME", ""), wave_type, beta
    )
    key = "HW_XG_WAVE_LENGTH_" + ("BETA" if _is_kbeta(wave_type) else "ALPHA1")
    lam_error = _bad_wavelength(
        path,
        _float_or_none(first.get(key), finite=False),
        f"*{key}",
        line=header_lines.get(key),
    )
    for line_key in _rigaku_beam_lines(wave_type, "ALPHA1", "ALPHA2", "BETA"):
        # a line of the beam stated but unreadable ("1.5406,1.5444"): named,
        # not taken for no wavelength or for a beam without that line
        line_key = f"HW_XG_WAVE_LENGTH_{line_key}"
        unreadable = _unreadable(
            path, first.get(line_key), f"*{line_key}", line=header_lines.get(line_key)
        )
        if unreadable is not None:
            radiation, lam, lam_error = None, None, lam_error or unreadable
            break
    for key, name in (
        ("HW_XG_TARGET_NAME", "anode"),
        ("FILE_SAMPLE", "sample_name"),
        ("FILE_COMMENT", "comment"),
        ("MEAS_SCAN_AXIS_X", "scan_axis"),
        ("MEAS_SCAN_UNIT_Y", "intensity_unit"),
        ("MEAS_SCAN_START_TIME", "start_time"),
    ):
        if first.get(key):
            meta[name] = first[key]
    if a2 is not None:
        meta["kAlpha2"] = a2
    meta["ras_header"] = dict(first)
    return _Found(
        "ras",
        x,
        y,
        wavelength=lam,
        radiation=radiation,
        metadata=meta,
        wavelength_error=lam_error,
    )


def _rigaku_radiation(a1, a2, anode, wave_type, beta=None):
    """(radiation, wavelength) of a Rigaku header: the Kα1/Kα2 doublet at
    the standard 2:1 ratio (the files state none); Kα1 alone when the wave
    type says the beam is monochromated (``Ka1``, not ``Ka1+Ka2``); the Kβ
    line ``beta`` alone, or no wavelength, when it says Kβ (``Kb``)."""
    wave_type = wave_type or ""
    if _is_kbeta(wave_type):
        # a Kβ beam: neither Kα line is its wavelength
        return _radiation_from_lines(beta)
    ratio = None if _is_kalpha1(wave_type) else 0.5
    return _radiation_from_lines(a1, a2, ratio, anode or "")


def _is_kalpha1(wave_type) -> bool:
    """Whether a Rigaku wave type (or an XRDML ``intended`` wavelength, ``K-Alpha
    1``) says the beam is Kα1 alone (``Ka1``: a
    monochromated beam), not Kα1 and Kα2 (``Ka1+Ka2``, ``Kα1,Kα2``,
    ``Ka1/Ka2``, ``Ka12``) nor the doublet (``Ka``)."""
    return bool(
        re.search(
            r"(?:a|alpha|α)\s*1(?!\s*[,+/&]?\s*(?:k\s*[-_]?\s*)?(?:alpha|a|α)?\s*2)",
            wave_type or "",
            re.IGNORECASE,
        )
    )


def _rigaku_beam_lines(wave_type, kalpha1, kalpha2, kbeta) -> tuple[str, ...]:
    """The wavelength fields (of the names given) that a Rigaku beam of
    ``wave_type`` uses: Kβ's, Kα1's alone (a monochromated ``Ka1`` beam), or
    Kα1's and Kα2's. A field of a line the beam lacks is not read: an
    unreadable Kα2 beside ``Ka1`` (left blank or ``-`` by the instrument)
    does not stop the pattern from being read."""
    if _is_kbeta(wave_type):
        return (kbeta,)
    if _is_kalpha1(wave_type):
        return (kalpha1,)
    return (kalpha1, kalpha2)


def _is_kbeta(wave_type) -> bool:
    """Whether a Rigaku wave type (or an XRDML ``intended`` wavelength,
    ``K-Beta``) says the beam is Kβ (``Kb``)."""
    return bool(
        re.search(
            r"\bk\s*[-_]?\s*(?:b|beta)(?![a-z])|β", wave_type or "", re.IGNORECASE
        )
    )


def _check_rigaku_axis(path, name, **where):
    if name is None:
        return
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    if "twotheta" not in key and "2theta" not in key:
        raise PatternFormatError(
            path, f"the scan axis is {name!r}, not 2θ: not a powder scan", **where
        )


def _rigaku_range(path, table, where):
    """(x, intensity × attenuation, None) of one Rigaku data block."""
    x = table[:, 0]
    if table.shape[1] == 3:
        with np.errstate(over="ignore"):
            y = table[:, 1] * table[:, 2]
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise PatternFormatError(
                path,
                f"counts {table[bad[0], 1]:g} × attenuation {table[bad[0], 2]:g} "
                "is not a finite number",
                **where(int(bad[0])),
            )
    else:
        y = table[:, 1]
    x, (y, _), reversed_ = _ordered(path, x, [y, None], where)
    return x, y, None, reversed_


# One number written with a decimal comma and no point ("1,5406", "-0,5"), as
# instruments set to a European locale write them. Not a list ("1.5406,1.5444",
# "1,5406,1,5444") nor a thousands separator beside a point ("1,000.5").
_DECIMAL_COMMA_NUMBER = re.compile(r"[-+]?\d+,\d+")


def _header_float(text, *, decimal_comma: bool = True) -> float:
    """The float that one header value (a key's value, an XML text or
    attribute) states; ValueError when it states none.

    The one parser of header numbers that the instrument readers (RAS, RASX,
    UXD, UDF, BRML, XRDML, pdCIF, GSAS) share. Quotes around the value
    (``"1.5406"``, ``'1.5406'``, as RAS and UXD headers quote values) are
    dropped. With ``decimal_comma`` (the default) one number written with a
    decimal comma and no point (``1,5406``) is that decimal; ``False`` for
    a count of points, where ``1,000`` may be a thousand. Underscores, which
    :func:`float` takes as digit separators (``0_02`` would be 2), are no
    number."""
    s = str(text).strip().strip("'\"").strip()
    if "_" in s:
        raise ValueError(f"{s!r} is not a number")
    if decimal_comma and _DECIMAL_COMMA_NUMBER.fullmatch(s):
        s = s.replace(",", ".")
    return float(s)


def _float_or_none(text, *, finite: bool = True, decimal_comma: bool = True):
    """The number that ``text`` (a header value, an XML text or attribute)
    states, or None for none (missing, or not a number).

    Read by :func:`_header_float` (quotes dropped; ``1,5406`` is 1.5406
    unless ``decimal_comma=False``). With ``finite`` (the default) NaN and
    infinities are None too, as for a value that no line needs; with
    ``finite=False`` they are returned, so that a wavelength stated as NaN
    is named in an error rather than taken for no statement."""
    if text is None:
        return None
    try:
        v = _header_float(text, decimal_comma=decimal_comma)
    except (TypeError, ValueError):
        return None
    return v if not finite or math.isfinite(v) else None


def _unreadable(path, text, what: str, **where):
    """The error naming a stated value that :func:`_header_float` cannot read
    (``1.5406,1.5444``, ``abc``), or None for a number or no statement
    (None, blank). Readers keep it as a wavelength error: without it an
    unreadable wavelength read as "the file states no wavelength", and an
    unreadable Kα2 as a beam of Kα1 alone."""
    if text is None or not str(text).strip().strip("'\"").strip():
        return None
    try:
        _header_float(text)
    except ValueError:
        return PatternFormatError(
            path,
            f"{what} {str(text).strip()[:40]!r} is not a number (one number, with "
            "a decimal point or a decimal comma); pass wavelength= to read the "
            "pattern with another (--wavelength to skxrd predict and evaluate)",
            **where,
        )
    return None


# ------------------------------------------------------------------- Rigaku RASX
_RASX_PROFILE = re.compile(r"Data(\d+)/Profile(\d+)\.txt")


def _open_archive(path, data, max_bytes) -> zipfile.ZipFile:
    """The zip archive of an instrument file (RASX, BRML), refused when it
    cannot be read or unpacks to more than ``max_bytes`` (a zip bomb): the
    size is what the members state, checked before any is unpacked."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise PatternFormatError(
            path, f"not a readable zip archive (truncated?): {exc}", offset=0
        ) from None
    try:
        unpacked = sum(i.file_size for i in zf.infolist())
        _check_size(path, unpacked, max_bytes, "the unpacked archive")
    except BaseException:
        zf.close()
        raise
    return zf


def _read_rasx(path, data, axis, max_bytes=MAX_PATTERN_BYTES) -> _Found:
    meta: dict[str, Any] = {}
    with _open_archive(path, data, max_bytes) as zf:
        names = zf.namelist()
        profiles = sorted(
            (n for n in names if _RASX_PROFILE.fullmatch(n)),
            key=lambda n: tuple(int(g) for g in _RASX_PROFILE.fullmatch(n).groups()),
        )
        if not profiles:
            raise PatternFormatError(path, "no DataN/ProfileM.txt member", offset=0)
        ranges, conditions, conditions_member = [], None, None
        for member in profiles:
            d, m = _RASX_PROFILE.fullmatch(member).groups()
            raw = _zip_member(path, zf, member, max_bytes)
            text = _decode(raw)
            table, _, info = _parse_columns(
                path, lambda t=text: enumerate(_iter_lines(t), 1), member=member
            )
            cond = None
            for cname in (
                f"Data{d}/MesurementConditions{m}.xml",
                f"Data{d}/MeasurementConditions{m}.xml",
            ):
                if cname in names:
                    cond = _parse_xml(
                        path, _zip_member(path, zf, cname, max_bytes), cname
                    )
                    _check_rigaku_axis(path, _xml_text(cond, "AxisName"), element=cname)
                    break
            if conditions is None and cond is not None:
                conditions, conditions_member = cond, cname
            lo = info["lines"]
            ranges.append(
                _rigaku_range(
                    path,
                    table,
                    lambda i, lo=lo, mb=member: {"line": int(lo[i]), "element": mb},
                )
            )
    x, y, _ = _merge_ranges(path, ranges, meta, "profile")
    radiation, lam, lam_error = None, None, None
    if conditions is not None:
        wave_type = _xml_text(conditions, "WaveType")
        radiation, lam = _rigaku_radiation(
            _float_or_none(_xml_text(conditions, "WavelengthKalpha1")),
            _float_or_none(_xml_text(conditions, "WavelengthKalpha2")),
            _xml_text(conditions, "TargetName"),
            wave_type,
            _float_or_none(_xml_text(conditions, "WavelengthKbeta")),
        )
        tag = "WavelengthKbeta" if _is_kbeta(wave_type) else "WavelengthKalpha1"
        lam_error = _bad_wavelength(
            path,
            _float_or_none(_xml_text(conditions, tag), finite=False),
            f"<{tag}>",
            element=conditions_member,
        )
        beam = _rigaku_beam_lines(
            wave_type, "WavelengthKalpha1", "WavelengthKalpha2", "WavelengthKbeta"
        )
        for line in beam:
            # a line of the beam stated but unreadable: named, as in a RAS file
            unreadable = _unreadable(
                path,
                _xml_text(conditions, line),
                f"<{line}>",
                element=conditions_member,
            )
            if unreadable is not None:
                radiation, lam, lam_error = None, None, lam_error or unreadable
                break
        for tag, key in (
            ("WavelengthKalpha2", "kAlpha2"),
            ("TargetName", "anode"),
            ("WaveType", "wave_type"),
            ("AxisName", "scan_axis"),
            ("IntensityUnit", "intensity_unit"),
            ("SampleName", "sample_name"),
        ):
            value = _xml_text(conditions, tag)
            if key == "kAlpha2":
                value = _float_or_none(value)  # as the RAS reader: a number or none
            if value is not None and value != "":
                meta[key] = value
    else:
        meta["conditions"] = "no MesurementConditions XML in the archive"
    return _Found(
        "rasx",
        x,
        y,
        wavelength=lam,
        radiation=radiation,
        metadata=meta,
        wavelength_error=lam_error,
    )


def _zip_member(path, zf, name, max_bytes=None) -> bytes:
    try:
        with zf.open(name) as member:
            # read no more than allowed: the stated size may be a lie
            data = member.read() if max_bytes is None else member.read(max_bytes + 1)
    except (
        zipfile.BadZipFile,
        OSError,
        ValueError,
        EOFError,
        zlib.error,
        NotImplementedError,  # a compression method zipfile lacks
        RuntimeError,  # an encrypted member
    ) as exc:
        raise PatternFormatError(
            path, f"cannot read the archive member (damaged?): {exc}", element=name
        ) from None
    if max_bytes is not None and len(data) > max_bytes:
        _check_size(path, len(data), max_bytes, f"the member {name}")
    return data


def _xml_text(root, tag):
    for el in root.iter():
        if _local(el.tag) == tag:
            if el.text and el.text.strip():
                return el.text.strip()
            if el.get("Value"):
                return el.get("Value")
    return None


# -------------------------------------------------------------------- Bruker RAW
# Layouts from the published descriptions of DIFFRAC^plus RAW files (xylib,
# GSAS-II): version 3 "RAW1.01" and version 4 "RAW4.00"; all little-endian.
_V3_HEADER = 712
_V3_RANGE_MIN = 260  # up to the supplementary-header size at +256
_V4_PREAMBLE = 61
_V4_RANGE_HEADER = 160
_TWO_THETA_SCANS = (
    "lockedcoupled",
    "unlockedcoupled",
    "detectorscan",
    "2theta",
    "twotheta",
    "coupledtwothetatheta",
)


class _Bytes:
    """Bounds-checked little-endian reads that name the file and offset."""

    def __init__(self, path, data: bytes):
        self.path, self.data = path, data

    def unpack(self, fmt: str, at: int, what: str):
        size = struct.calcsize("<" + fmt)
        if at < 0 or at + size > len(self.data):
            raise PatternFormatError(
                self.path,
                f"the file ends inside {what} ({size} bytes needed, "
                f"{max(len(self.data) - at, 0)} left): it is truncated",
                offset=at,
            )
        return struct.unpack_from("<" + fmt, self.data, at)

    def text(self, at: int, size: int) -> str:
        raw = self.data[at : at + size].split(b"\0", 1)[0]
        return raw.decode("latin-1").strip()

    def floats(self, at: int, n: int, stride: int, what: str) -> np.ndarray:
        end = at + n * stride
        if end > len(self.data):
            raise PatternFormatError(
                self.path,
                f"{what}: {n} points of {stride} bytes need {end - at} bytes, the "
                f"file has {len(self.data) - at} left: it is truncated",
                offset=at,
            )
        arr = np.ndarray(
            (n,), dtype="<f4", buffer=self.data, offset=at, strides=(stride,)
        )
        out = arr.astype(float)
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            raise PatternFormatError(
                self.path,
                f"{what}: a NaN or infinite intensity",
                offset=at + int(bad[0]) * stride,
            )
        return out


def _read_bruker_raw(path, data, axis) -> _Found:
    if data.startswith(b"RAW4.00"):
        return _raw_v4(path, _Bytes(path, data))
    if data.startswith(b"RAW1.01"):
        return _raw_v3(path, _Bytes(path, data))
    version = {b"RAW2": "2 ('RAW2')", b"RAW ": "1 ('RAW ')"}.get(data[:4])
    if version:
        raise PatternFormatError(
            path,
            f"Bruker RAW version {version} is not supported (versions 3 'RAW1.01' "
            "and 4 'RAW4.00' are); convert it with DIFFRAC or PowDLL",
            offset=0,
        )
    raise PatternFormatError(
        path, f"unknown Bruker RAW signature {data[:8]!r}", offset=0
    )


def _raw_range_data(b: _Bytes, *, at, steps, datum, start, step, label):
    if steps < 1 or steps > 10**8:
        raise PatternFormatError(b.path, f"{label} declares {steps} points", offset=at)
    if datum < 4 or datum % 4:
        raise PatternFormatError(
            b.path,
            f"{label} declares {datum}-byte data records; supported are multiples "
            "of 4 whose first 4 bytes are the float32 intensity",
            offset=at,
        )
    if not (math.isfinite(start) and math.isfinite(step) and step != 0):
        raise PatternFormatError(
            b.path, f"{label} has start {start!r} and step {step!r}", offset=at
        )
    y = b.floats(at, steps, datum, label)
    x = start + step * np.arange(steps)
    x, (y, _), rev = _ordered(
        b.path, x, [y, None], lambda i: {"offset": at + i * datum}
    )
    return (x, y, None, rev), at + steps * datum


def _raw_v3(path, b: _Bytes) -> _Found:
    (n_ranges,) = b.unpack("I", 12, "the file header")
    b.unpack("4s", _V3_HEADER - 4, "the 712-byte file header")
    a_avg, a1, a2, beta, ratio = b.unpack("5d", 616, "the file header")
    meta: dict[str, Any] = {
        "raw_version": 3,
        "measure_date": b.text(16, 10),
        "measure_time": b.text(26, 10),
        "sample_id": b.text(326, 60),
        "anode": b.text(608, 4),
        "kAlpha_average": a_avg,
        "kAlpha1": a1,
        "kAlpha2": a2,
        "kBeta": beta,
        "ratioKAlpha2KAlpha1": ratio,
    }
    if not 1 <= n_ranges <= 10000:
        raise PatternFormatError(
            path, f"the header declares {n_ranges} ranges", offset=12
        )
    ranges, pos, used = [], _V3_HEADER, None
    offsets = {"a1": 624}  # of Kα1 and of the first range's used wavelength
    for r in range(n_ranges):
        label = f"range {r + 1} of {n_ranges}"
        hlen, steps = b.unpack("Ii", pos, f"the header of {label}")
        if hlen < _V3_RANGE_MIN:
            raise PatternFormatError(
                path,
                f"{label} declares a {hlen}-byte header (expected 304)",
                offset=pos,
            )
        b.unpack(f"{hlen}s", pos, f"the {hlen}-byte header of {label}")
        (start,) = b.unpack("d", pos + 16, label)
        (step,) = b.unpack("d", pos + 176, label)
        (time_step,) = b.unpack("f", pos + 192, label)
        (lam,) = b.unpack("d", pos + 240, label)
        datum, supp = b.unpack("II", pos + 252, label)
        if used is None:
            used, offsets["used"] = lam, pos + 240
        meta.setdefault("time_per_step_s", time_step)
        found, pos = _raw_range_data(
            b,
            at=pos + hlen + supp,
            steps=steps,
            datum=datum or 4,  # older writers leave the record size 0
            start=start,
            step=step,
            label=label,
        )
        ranges.append(found)
    return _raw_result(
        path, ranges, meta, (a1, a2, ratio, used), offsets, pos, len(b.data)
    )


def _raw_v4(path, b: _Bytes) -> _Found:
    b.unpack(f"{_V4_PREAMBLE}s", 0, "the 61-byte file header")
    meta: dict[str, Any] = {
        "raw_version": 4,
        "measure_date": b.text(12, 12),
        "measure_time": b.text(24, 10),
    }
    a1 = a2 = ratio = used = None
    offsets: dict[str, int] = {}
    ranges = []
    pos = _V4_PREAMBLE
    while pos + 4 <= len(b.data):
        (kind,) = b.unpack("I", pos, "a record type")
        if kind in (0, 160):  # not a record: a range header follows
            if used is None:
                offsets["used"] = pos + 112
            found, pos, lam = _raw_v4_range(b, pos, len(ranges) + 1, meta)
            used = used if used is not None else lam
            ranges.append(found)
            continue
        (length,) = b.unpack("I", pos + 4, f"the record of type {kind}")
        if length < 8:
            raise PatternFormatError(
                path, f"a record of type {kind} declares {length} bytes", offset=pos
            )
        b.unpack(f"{length}s", pos, f"the {length}-byte record of type {kind}")
        if kind == 10 and length >= 36:  # key / value
            meta.setdefault("raw_fields", {})[b.text(pos + 12, 24)] = b.text(
                pos + 36, length - 36
            )
        elif kind == 30 and length >= 120:  # X-ray source
            a_avg, a1, a2, beta, ratio = b.unpack("5d", pos + 72, "the source record")
            offsets["a1"] = pos + 80
            meta.update(
                kAlpha_average=a_avg,
                kAlpha1=a1,
                kAlpha2=a2,
                kBeta=beta,
                ratioKAlpha2KAlpha1=ratio,
                anode=b.text(pos + 116, 4),
            )
        pos += length
    if not ranges:
        raise PatternFormatError(
            path,
            "no measurement range (the file is truncated or holds no scan)",
            offset=pos,
        )
    if "SAMPLEID" in meta.get("raw_fields", {}):
        meta["sample_id"] = meta["raw_fields"]["SAMPLEID"]
    return _raw_result(
        path, ranges, meta, (a1, a2, ratio, used), offsets, pos, len(b.data)
    )


def _raw_v4_range(b: _Bytes, at: int, number: int, meta):
    label = f"range {number}"
    b.unpack(f"{_V4_RANGE_HEADER}s", at, f"the 160-byte header of {label}")
    scan_type = b.text(at + 32, 24)
    start, step = b.unpack("dd", at + 72, label)
    steps, time_step = b.unpack("If", at + 88, label)
    (lam,) = b.unpack("d", at + 112, label)
    datum, extra = b.unpack("II", at + 136, label)
    drives, pos, end = {}, at + _V4_RANGE_HEADER, at + _V4_RANGE_HEADER + extra
    b.unpack(f"{extra}s", pos, f"the drive records of {label}")
    while pos < end:
        kind, length = b.unpack("II", pos, f"a drive record of {label}")
        if length < 8 or pos + length > end:
            raise PatternFormatError(
                b.path,
                f"a record of {length} bytes overruns the {extra} bytes of drive "
                f"records that {label} declares",
                offset=pos,
            )
        if kind == 50 and length >= 64:
            drives[b.text(pos + 12, 24)] = b.unpack("d", pos + 56, "a drive record")[0]
        pos += length
    two_theta = next((v for k, v in drives.items() if _is_two_theta(k)), None)
    key = re.sub(r"[^a-z0-9]", "", scan_type.lower())
    if two_theta is not None and not math.isclose(two_theta, start, abs_tol=1e-6):
        raise PatternFormatError(
            b.path,
            f"{label} is a {scan_type!r} scan that does not step 2θ (2θ sits at "
            f"{two_theta:g}°, the scan starts at {start:g}): not supported",
            offset=at,
        )
    if two_theta is None and key not in _TWO_THETA_SCANS:
        raise PatternFormatError(
            b.path,
            f"{label} is a {scan_type!r} scan without a 2θ drive record: not supported",
            offset=at,
        )
    meta.setdefault("scan_type", scan_type)
    meta.setdefault("time_per_step_s", time_step / 1000)  # v4 stores milliseconds
    found, after = _raw_range_data(
        b, at=end, steps=steps, datum=datum, start=start, step=step, label=label
    )
    return found, after, lam


def _raw_result(path, ranges, meta, lines, offsets, end, size) -> _Found:
    """The :class:`_Found` of a RAW file: ``lines`` are the header's Kα1,
    Kα2, ratio and the first range's used wavelength, ``offsets`` where
    Kα1 and that wavelength stand."""
    a1, a2, ratio, used = lines
    x, y, _ = _merge_ranges(path, ranges, meta)
    if end < size:
        meta["trailing_bytes"] = size - end
    radiation, lam = _radiation_from_lines(a1, a2, ratio, meta.get("anode", ""))
    if lam is None and used is not None and 0.01 < used < 20:
        lam = used
    if used is not None:
        meta["used_wavelength"] = used
    lam_error = None
    if radiation is None and lam is None:
        # 0 is a field DIFFRAC left unset, not a statement; another value
        # that no beam has is named (if the caller gives no wavelength)
        for key, value, what in (
            ("a1", a1, "the header's Kα1"),
            ("used", used, "the range's wavelength"),
        ):
            if value is not None and value != 0:
                lam_error = _bad_wavelength(path, value, what, offset=offsets.get(key))
                break
    return _Found(
        f"bruker_raw_v{meta['raw_version']}",
        x,
        y,
        wavelength=lam,
        radiation=radiation,
        metadata=meta,
        wavelength_error=lam_error,
    )
