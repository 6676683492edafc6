"""Write the small instrument-format fixtures that tests/io/test_readers.py reads.

Run ``python tests/io/data/make_fixtures.py`` to regenerate them; the output is
deterministic (the tests check that the committed files match these builders).
The builders are also imported by the tests to make variants (truncated files,
other record sizes, unsupported versions).

The binary layouts follow the published descriptions of Bruker DIFFRAC RAW
files (versions 3 "RAW1.01" and 4 "RAW4.00", little-endian) as read by xylib
and GSAS-II; only the fields the reader uses are filled, the rest are zero.
"""

from __future__ import annotations

import struct
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

# One peak on a flat background: 21 points, 10.0–12.0° 2θ.
TWO_THETA = np.round(10.0 + 0.1 * np.arange(21), 10)
COUNTS = np.round(100 + 900 * np.exp(-(((TWO_THETA - 11.0) / 0.2) ** 2)))
# Rigaku and XRDML files store an attenuation factor per point
ATTENUATION = np.where(COUNTS > 500, 10.0, 1.0)
STORED = np.round(COUNTS / ATTENUATION, 4)  # what an attenuated detector counts

CU_KA1, CU_KA2, CU_KB, CU_RATIO = 1.540598, 1.544426, 1.392250, 0.5
RIGAKU_KA1, RIGAKU_KA2 = 1.540593, 1.544414


# ----------------------------------------------------------------------- XRDML
def xrdml(
    *, counts=STORED, atten=ATTENUATION, start=10.0, end=12.0, version="1.5"
) -> bytes:
    ns = f"http://www.xrdml.com/XRDMeasurement/{version}"
    values = " ".join(f"{v:g}" for v in counts)
    factors = " ".join(f"{v:g}" for v in atten)
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<xrdMeasurements xmlns="{ns}" status="Completed">
  <sample type="To be analyzed">
    <id>fixture-1</id>
    <name>tiny peak</name>
  </sample>
  <xrdMeasurement measurementType="Scan" status="Completed">
    <usedWavelength intended="K-Alpha">
      <kAlpha1 unit="Angstrom">{CU_KA1}</kAlpha1>
      <kAlpha2 unit="Angstrom">{CU_KA2}</kAlpha2>
      <kBeta unit="Angstrom">{CU_KB}</kBeta>
      <ratioKAlpha2KAlpha1 unit="none">{CU_RATIO}</ratioKAlpha2KAlpha1>
    </usedWavelength>
    <incidentBeamPath>
      <xRayTube id="1" name="Cu LFF">
        <tension unit="kV">40</tension>
        <current unit="mA">40</current>
        <anodeMaterial>Cu</anodeMaterial>
      </xRayTube>
    </incidentBeamPath>
    <scan appendNumber="0" mode="Continuous" scanAxis="Gonio" status="Completed">
      <dataPoints>
        <positions axis="2Theta" unit="deg">
          <startPosition>{start}</startPosition>
          <endPosition>{end}</endPosition>
        </positions>
        <positions axis="Omega" unit="deg">
          <startPosition>{start / 2}</startPosition>
          <endPosition>{end / 2}</endPosition>
        </positions>
        <commonCountingTime unit="seconds">0.50</commonCountingTime>
        <counts unit="counts">{values}</counts>
        <beamAttenuationFactors>{factors}</beamAttenuationFactors>
      </dataPoints>
    </scan>
  </xrdMeasurement>
</xrdMeasurements>
"""
    return text.encode("utf-8")


# ------------------------------------------------------------------ Rigaku RAS
def ras(
    *,
    axis="TwoThetaTheta",
    count=None,
    end_marker=True,
    target="Cu",
    ka1=RIGAKU_KA1,
    ka2=RIGAKU_KA2,
    wave_type=None,
) -> bytes:
    n = len(TWO_THETA) if count is None else count
    head = [
        "*RAS_DATA_START",
        "*RAS_HEADER_START",
        '*FILE_COMMENT "試料A: 日本語のコメント"',
        '*FILE_SAMPLE "tiny peak"',
        f'*HW_XG_TARGET_NAME "{target}"',
        f'*HW_XG_WAVE_LENGTH_ALPHA1 "{ka1}"',
        f'*HW_XG_WAVE_LENGTH_ALPHA2 "{ka2}"',
        '*HW_XG_WAVE_LENGTH_BETA "1.392250"',
    ]
    if wave_type is not None:
        head.append(f'*MEAS_COND_XG_WAVE_TYPE "{wave_type}"')
    head += [
        '*MEAS_COND_AXIS_NAME-0 "TwoTheta"',
        f'*MEAS_SCAN_AXIS_X "{axis}"',
        '*MEAS_SCAN_START "10.0000"',
        '*MEAS_SCAN_STEP "0.1000"',
        '*MEAS_SCAN_STOP "12.0000"',
        '*MEAS_SCAN_UNIT_Y "counts"',
        f'*MEAS_DATA_COUNT "{n}"',
        "*RAS_HEADER_END",
        "*RAS_INT_START",
    ]
    rows = [f"{t:.4f} {c:g} {a:.4f}" for t, c, a in zip(TWO_THETA, STORED, ATTENUATION)]
    tail = ["*RAS_INT_END", "*RAS_DATA_END"] if end_marker else []
    # Rigaku writes CRLF and Shift-JIS (cp932) headers
    return ("\r\n".join(head + rows + tail) + "\r\n").encode("cp932")


# ----------------------------------------------------------------- Rigaku RASX
def rasx(
    *,
    axis="TwoThetaTheta",
    target="Cu",
    ka1=RIGAKU_KA1,
    ka2=RIGAKU_KA2,
    wave_type="Ka",
) -> bytes:
    profile = "\ufeff" + "".join(
        f"{t:.4f}\t{c:g}\t{a:.4f}\r\n"
        for t, c, a in zip(TWO_THETA, STORED, ATTENUATION)
    )
    conditions = f"""<?xml version="1.0" encoding="utf-8"?>
<MeasurementConditions xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <GeneralInformation><SampleName>tiny peak</SampleName></GeneralInformation>
  <HWConfigurations>
    <XrayGenerator>
      <TargetName>{target}</TargetName>
      <WaveType>{wave_type}</WaveType>
      <WavelengthKalpha1>{ka1}</WavelengthKalpha1>
      <WavelengthKalpha2>{ka2}</WavelengthKalpha2>
      <WavelengthKbeta>1.392250</WavelengthKbeta>
    </XrayGenerator>
  </HWConfigurations>
  <ScanInformation>
    <AxisName>{axis}</AxisName>
    <IntensityUnit>counts</IntensityUnit>
  </ScanInformation>
</MeasurementConditions>
"""
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (
            ("root.xml", "<Root/>"),
            ("Data0/Profile0.txt", profile),
            ("Data0/MesurementConditions0.xml", conditions),  # sic, Rigaku's name
        ):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"))
    return out.getvalue()


# ----------------------------------------------------------- Bruker RAW v3/v4
def _put(buf: bytearray, at: int, fmt: str, *values) -> None:
    struct.pack_into("<" + fmt, buf, at, *values)


def _text(buf: bytearray, at: int, size: int, text: str) -> None:
    raw = text.encode("latin-1")[:size]
    buf[at : at + len(raw)] = raw


# Two disjoint ranges: the 21-point peak and 5 points at 30–31°.
RANGE2_TWO_THETA = np.array([30.0, 30.25, 30.5, 30.75, 31.0])
RANGE2_COUNTS = np.array([50.0, 55.0, 60.0, 52.0, 48.0])


def raw_v3(*, ranges=None, datum=4, supplementary=(0, 40), magic=b"RAW1.01") -> bytes:
    """RAW1.01: a 712-byte file header, then per range a 304-byte header,
    optional supplementary headers and the float32 counts."""
    if ranges is None:
        ranges = [(10.0, 0.1, COUNTS), (30.0, 0.25, RANGE2_COUNTS)]
    head = bytearray(712)
    _text(head, 0, 7, magic.decode("latin-1"))
    _put(head, 8, "I", 1)  # status: done
    _put(head, 12, "I", len(ranges))
    _text(head, 16, 10, "01/02/20")
    _text(head, 26, 10, "12:34:56")
    _text(head, 326, 60, "tiny peak")
    _text(head, 608, 4, "Cu")
    avg = (2 * CU_KA1 + CU_KA2) / 3
    _put(head, 616, "5d", avg, CU_KA1, CU_KA2, CU_KB, CU_RATIO)
    out = bytes(head)
    for k, (start, step, counts) in enumerate(ranges):
        rh = bytearray(304)
        supp = supplementary[k % len(supplementary)]
        _put(rh, 0, "Ii", 304, len(counts))
        _put(rh, 8, "dd", start / 2, start)  # θ then 2θ start
        _put(rh, 176, "d", step)
        _put(rh, 192, "f", 1.0)
        _put(rh, 240, "d", CU_KA1)
        _put(rh, 252, "II", datum, supp)
        records = b"".join(
            struct.pack("<f", c) + b"\0" * (datum - 4) for c in np.asarray(counts)
        )
        out += bytes(rh) + b"\xee" * supp + records
    return out


def _v4_record(kind: int, length: int) -> bytearray:
    rec = bytearray(length)
    _put(rec, 0, "II", kind, length)
    return rec


def raw_v4(
    *,
    ranges=None,
    datum=4,
    scan_type="Locked Coupled",
    two_theta_drive=True,
    magic=b"RAW4.00",
) -> bytes:
    """RAW4.00: a 61-byte preamble, records (type, length), and ranges that
    each start with a 160-byte header (its first word 160), followed by drive
    records and the data records (float32 count first)."""
    if ranges is None:
        ranges = [(10.0, 0.1, COUNTS)]
    pre = bytearray(61)
    _text(pre, 0, 7, magic.decode("latin-1"))
    _text(pre, 12, 12, "2020-01-02")
    _text(pre, 24, 10, "12:34:56")
    sample = _v4_record(10, 36 + 24)
    _text(sample, 12, 24, "SAMPLEID")
    _text(sample, 36, 24, "tiny peak")
    source = _v4_record(30, 128)
    avg = (2 * CU_KA1 + CU_KA2) / 3
    _put(source, 72, "5d", avg, CU_KA1, CU_KA2, CU_KB, CU_RATIO)
    _text(source, 116, 4, "Cu")
    other = _v4_record(77, 16)  # an unknown record type is skipped
    meta = bytes(sample + source + other)
    _put(pre, 56, "I", len(meta))
    out = bytes(pre) + meta
    for start, step, counts in ranges:
        drives = b""
        for name, pos in (("Theta", start / 2), ("2Theta", start)):
            if name == "2Theta" and not two_theta_drive:
                continue
            rec = _v4_record(50, 80)
            _put(rec, 8, "I", 1 if name == "2Theta" else 0)
            _text(rec, 12, 24, name)
            _put(rec, 56, "d", pos)
            drives += bytes(rec)
        rh = bytearray(160)
        _put(rh, 0, "I", 160)
        _text(rh, 32, 24, scan_type)
        _put(rh, 72, "ddIf", start, step, len(counts), 1000.0)
        _put(rh, 100, "ff", 40.0, 40.0)
        _put(rh, 112, "d", CU_KA1)
        _put(rh, 136, "II", datum, len(drives))
        records = b"".join(
            struct.pack("<f", c) + struct.pack("<i", 1) * ((datum - 4) // 4)
            for c in np.asarray(counts)
        )
        out += bytes(rh) + drives + records
    return out


# ------------------------------------------------ UXD, GSAS raw and UDF text
def uxd(*, split=11, counts=COUNTS, drive="COUPLED", keyword="_COUNTS") -> bytes:
    """Bruker DIFFRAC plus UXD: a file header, then two ranges, the first of
    intensities on the _START/_STEPSIZE grid (several per line), the second
    of 2θ, count pairs."""
    lines = [
        "; skxrd fixture, after the DIFFRAC plus UXD layout",
        "_FILEVERSION=2",
        "_SAMPLE='tiny peak'",
        "_WL_UNIT='A'",
        f"_WL1={CU_KA1:f}",
        f"_WL2={CU_KA2:f}",
        f"_WL3={CU_KB:f}",
        f"_WLRATIO={CU_RATIO:f}",
        "_ANODE='Cu'",
        "; (Data for Range number 1)",
        f"_DRIVE='{drive}'",
        "_STEPTIME=1.000000",
        "_STEPSIZE=0.100000",
        "_STEPMODE='C'",
        f"_START={TWO_THETA[0]:f}",
        keyword,
    ]
    first = [f"{c:9.0f}" for c in counts[:split]]
    lines += ["".join(first[i : i + 8]) for i in range(0, len(first), 8)]
    lines += [
        "; (Data for Range number 2)",
        f"_DRIVE='{drive}'",
        "_STEPTIME=1.000000",
        "_STEPSIZE=0.100000",
        f"_START={TWO_THETA[split]:f}",
        "_2THETACOUNTS",
    ]
    lines += [f"{t:.3f}\t{c:.0f}" for t, c in zip(TWO_THETA[split:], counts[split:])]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def gsas(*, kind="STD", counts=COUNTS, nchan=None, title="tiny peak") -> bytes:
    """GSAS raw data, one constant-wavelength bank in 80-character records:
    STD ``10(I2,F6.0)`` (every third count averaged over 2 counters), ESD
    ``10F8.0`` (count, √count pairs) or ALT ``4(F8.0,F7.4,F5.4)`` (2θ × 3200,
    count / 100, √count / 100)."""
    n = len(counts) if nchan is None else nchan
    if kind == "STD":
        fields = [
            f"{' 2' if i % 3 == 0 else '  '}{c:6.0f}" for i, c in enumerate(counts)
        ]
        per = 10
    elif kind == "ESD":
        fields = [f"{c:8.1f}{np.sqrt(c):8.2f}" for c in counts]
        per = 5
    else:
        # normalized counts (count / 100) with implied decimals, the esd
        # with its decimal point: both ways a Fortran F field is read
        fields = [
            f"{t * 3200:8.0f}{round(c * 100):7d}{np.sqrt(c) / 100:5.3f}"
            for t, c in zip(TWO_THETA, counts)
        ]
        per = 4
    records = ["".join(fields[i : i + per]) for i in range(0, len(fields), per)]
    bank = f"BANK 1 {n} {len(records)} CONS {TWO_THETA[0] * 100:.1f} 10.0 0 0 {kind}"
    lines = [title, "# wavelength = 1.540598 A", bank]
    return ("\r\n".join(lines + records) + "\r\n").encode("ascii")


def udf(*, counts=COUNTS, stop=None) -> bytes:
    """Philips UDF: ``Key, value, /`` header lines, ``RawScan``, then the
    counts, eight a line, the last followed by ``/``."""
    stop = TWO_THETA[-1] if stop is None else stop
    lines = [
        "SampleIdent,tiny peak ,/",
        "Title1,skxrd fixture ,/",
        "Anode,Cu,/",
        f"LabdaAlpha1,{CU_KA1:11.6f},/",
        f"LabdaAlpha2,{CU_KA2:11.6f},/",
        f"RatioAlpha21,{CU_RATIO:8.5f},/",
        "DiffrType,PW1800,/",
        f"DataAngleRange,{TWO_THETA[0]:9.4f},{stop:9.4f},/",
        "ScanStepSize,    0.100,/",
        "ScanType,CONTINUOUS,/",
        "RawScan",
    ]
    values = [f"{c:8.0f}" for c in counts]
    rows = [",".join(values[i : i + 8]) for i in range(0, len(values), 8)]
    rows[-1] += "/"
    return (
        "\r\n".join(lines + [r + ("" if r.endswith("/") else ",") for r in rows])
        + "\r\n"
    ).encode("ascii")


# ------------------------------------------------------------ powder CIF
def pdcif(*, rows=None, wavelength_loop=True, extra="") -> bytes:
    """A GSAS-II-like pdCIF: a structure block, then the pattern's block
    with 2θ, counts with their s.u. in parentheses, and a Kα1/Kα2 loop."""
    if rows is None:
        rows = "".join(
            f"{t:.3f} {c:g}({max(1, round(np.sqrt(c)))}) {1 / c:.6f}\n"
            for t, c in zip(TWO_THETA, COUNTS)
        )
    if wavelength_loop:
        lam = (
            "loop_\n_diffrn_radiation_wavelength_id\n"
            "_diffrn_radiation_wavelength\n_diffrn_radiation_wavelength_wt\n"
            f"1 {CU_KA1} 1.0\n2 {CU_KA2} {CU_RATIO}\n"
        )
    else:
        lam = f"_diffrn_radiation_wavelength {CU_KA1}\n"
    text = f"""#\\#CIF_1.1
# written by tests/io/data/make_fixtures.py
data_tiny_phase
_cell_length_a 4.0
_cell_length_b 4.0
_cell_length_c 4.0
_symmetry_space_group_name_H-M 'P m -3 m'
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Cu1 0 0 0

data_tiny_pattern
_pd_block_id 'tiny peak|fixture'
_diffrn_radiation_type 'Cu K\\a'
_diffrn_radiation_probe x-ray
{lam}_pd_meas_number_of_points {len(TWO_THETA)}
_pd_proc_info_excluded_regions ?
_pd_proc_ls_profile_function
;
 a text field with a ; inside
and a line that starts with data_ (not a block)
;
{extra}loop_
_pd_meas_2theta_scan
_pd_meas_counts_total
_pd_proc_ls_weight
{rows}"""
    return text.encode("utf-8")


# ---------------------------------------------------------------- Bruker BRML
def brml_raw_data(
    two_theta=TWO_THETA,
    counts=COUNTS,
    *,
    views=True,
    ka1=CU_KA1,
    ka2=CU_KA2,
    ratio=CU_RATIO,
    datum=None,
) -> str:
    """One ``RawData<N>.xml`` of a DIFFRAC.SUITE file: the Datum columns are
    time, absorber, 2θ, θ, counts (the order its DataViews name)."""
    step = float(two_theta[1] - two_theta[0])
    if datum is None:
        datum = "".join(
            f"<Datum>1,1,{t:.4f},{t / 2:.4f},{c:g}</Datum>\n"
            for t, c in zip(two_theta, counts)
        )
    data_views = (
        """<DataViews>
  <RawDataView xsi:type="FixedRawDataView" Start="0" Length="1"
    LogicName="MeasuredTime"/>
  <RawDataView xsi:type="FixedRawDataView" Start="1" Length="1"
    LogicName="AbsorptionFactor"/>
  <RawDataView xsi:type="VaryingRawDataView" Start="2" Length="2"><Varying>
    <FieldDefinitions FieldName="TwoTheta" AxisId="TwoTheta"/>
    <FieldDefinitions FieldName="Theta" AxisId="Theta"/>
  </Varying></RawDataView>
  <RawDataView xsi:type="RecordedRawDataView" Start="4" Length="1">
    <Recording Category="Count" LogicName="ScanCounter" VisibleName="Lynxeye"/>
  </RawDataView>
</DataViews>"""
        if views
        else ""
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<RawData xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<DataRoutes><DataRoute RouteFlag="Measured">
<ScanInformation ScanName="Coupled TwoTheta/Theta">
  <MeasurementPoints>{len(two_theta)}</MeasurementPoints>
  <TimePerStep>1</TimePerStep>
  <ScanAxes><ScanAxisInfo AxisId="TwoTheta" AxisName="TwoTheta">
    <Reference>0</Reference><Start>{two_theta[0]:g}</Start>
    <Stop>{two_theta[-1]:g}</Stop><Increment>{step:g}</Increment>
  </ScanAxisInfo></ScanAxes>
</ScanInformation>
{data_views}
{datum}</DataRoute></DataRoutes>
<FixedInformation><Instrument><PrimaryTracks><TrackInfoData><MountedOptics>
<InfoData xsi:type="TubeMountInfoData"><Tube>
  <TubeMaterial>Cu</TubeMaterial>
  <WaveLengthAlpha1 Value="{ka1}" Unit="Å"/>
  <WaveLengthAlpha2 Value="{ka2}" Unit="Å"/>
  <WaveLengthRatio Value="{ratio}"/>
</Tube></InfoData>
</MountedOptics></TrackInfoData></PrimaryTracks></Instrument></FixedInformation>
</RawData>
"""


def brml(*, members=None) -> bytes:
    """A ``.brml`` zip; ``members`` maps names to XML text (default: one
    scan of the fixture peak)."""
    if members is None:
        members = {"Experiment0/RawData0.xml": brml_raw_data()}
    members = {
        "experimentCollection.xml": "<ExperimentCollection/>",
        "Experiment0/DataContainer.xml": "<DataContainer/>",
        **members,
    }
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"))
    return out.getvalue()


FIXTURES = {
    "tiny.xrdml": xrdml,
    "tiny.ras": ras,
    "tiny.rasx": rasx,
    "tiny_v3.raw": raw_v3,
    "tiny_v4.raw": raw_v4,
    "tiny.uxd": uxd,
    "tiny_std.raw": gsas,
    "tiny_esd.gsa": lambda: gsas(kind="ESD"),
    "tiny_alt.gsa": lambda: gsas(kind="ALT"),
    "tiny.udf": udf,
    "tiny.cif": pdcif,
    "tiny.brml": brml,
}


def main() -> None:
    for name, build in FIXTURES.items():
        (HERE / name).write_bytes(build())


if __name__ == "__main__":
    main()
