import csv
import importlib.util
import re
import struct
import warnings
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest

from skxrd.io import Pattern, PatternFormatError, read_pattern, write_pattern
from skxrd.simulation import get_radiation

DATA = Path(__file__).parent / "data"
MEASURED = (Path(__file__).parents[2] / ".." / "shared" / "data" / "measured").resolve()
THIN = MEASURED / "thinfilms-oviedo2019"
SSRL = MEASURED / "synchrotron-ssrl"
needs_measured = pytest.mark.skipif(
    not MEASURED.is_dir(), reason=f"measured data not found at {MEASURED}"
)
READER_KEYS = {"source", "format", "file_wavelength", "wavelength_from"}

_spec = importlib.util.spec_from_file_location(
    "skxrd_io_fixtures", DATA / "make_fixtures.py"
)
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)


def _rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _ssrl_wavelengths():
    return {
        r["Material"]: float(r["Wavelength"]) for r in _rows(SSRL / "ssrl_labels.csv")
    }


def _measured_files():
    if not MEASURED.is_dir():
        return []
    return sorted(p for p in MEASURED.rglob("*") if p.suffix == ".xy")


def _write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


# ------------------------------------------------------------ measured data
@needs_measured
@pytest.mark.parametrize("path", _measured_files(), ids=lambda p: p.name)
def test_every_measured_file_reads(path):
    lam = _ssrl_wavelengths().get(path.stem, "CuKa") if SSRL in path.parents else "CuKa"
    p = read_pattern(path, lam)
    assert isinstance(p, Pattern) and len(p) >= 100
    assert np.all(np.isfinite(p.x)) and np.all(np.isfinite(p.intensity))
    assert np.all(np.diff(p.x) > 0)
    assert p.axis == "two_theta" and p.name == path.stem
    assert p.metadata["source"] == str(path) and p.metadata["format"] == "text"


@needs_measured
def test_measured_folder_has_the_documented_files():
    assert len(list(THIN.rglob("*.xy"))) == 88
    assert len(list(SSRL.rglob("*.xy"))) == 15


@needs_measured
def test_thin_films_match_the_summary_table():
    # files_summary.csv was made by a whitespace parser that drops fused lines
    for row in _rows(THIN / "files_summary.csv"):
        path = THIN / "Experimental" / row["folder_label"] / row["file"]
        p = read_pattern(path, "CuKa")
        fused = int(row["n_malformed_lines"])
        assert len(p.metadata.get("fixed_width_split_lines", [])) == fused, path
        assert len(p) == int(row["n_points"]) + fused, path
        assert p.x[0] == pytest.approx(float(row["2theta_min"])), path
        if not fused:
            assert p.x[-1] == pytest.approx(float(row["2theta_max"])), path
            assert p.intensity.min() == float(row["I_min"]), path
            assert p.intensity.max() == float(row["I_max"]), path


@needs_measured
@pytest.mark.parametrize(
    "name, n_split, checks",
    [
        # (line, 2θ, counts) read by hand from the file
        ("15%", 1, [(1, 10.0, 90), (84, 14.1185, 1260), (1412, 80.014, 10)]),
        ("50%", 5, [(1, 10.0, 95), (83, 14.0688, 1993), (373, 28.4587, 2251)]),
        ("85%", 419, [(1, 10.0, 115), (1411, 79.9643, 5), (1412, 80.014, 9)]),
        (
            "100%",
            407,
            [
                (84, 14.1185, 1697),  # "14.1185 1697 "
                (85, 14.1681, 10228),  # "14.168110228 "
                (86, 14.2177, 13906),  # "14.217713906 "
                (1000, 59.5705, 7),  # "59.57057 "
                (1004, 59.769, 8),  # " 59.7698 "
                (1412, 80.014, 7),  # " 80.0147 "
            ],
        ),
    ],
)
def test_fused_fixed_width_columns(name, n_split, checks):
    path = (
        THIN
        / "Experimental"
        / "I4Imcm"
        / f"{name} SnPerovskite at 0.5M 4to1 dmftodmso.xy"
    )
    p = read_pattern(path, "CuKa")
    assert len(p) == 1412  # one point per line
    assert len(p.metadata["fixed_width_split_lines"]) == n_split
    steps = np.diff(p.x)
    assert steps.min() > 0.0490 and steps.max() < 0.0500  # a 0.0496° scan
    for line, tt, counts in checks:
        assert p.x[line - 1] == pytest.approx(tt, abs=1e-9)
        assert p.intensity[line - 1] == counts


@needs_measured
def test_ssrl_wavelengths_points_and_ranges():
    lams = _ssrl_wavelengths()
    expected = {
        "BL21Robot_0001": (22946, 2.0, 116.725, 0.7295684),
        "BL21Robot_0106": (22915, 2.0, 116.57, 0.7295684),  # 32 tab-only lines
        "BL21Robot_0112": (13119, 2.0, 67.59, 0.7291367),
        "JK21_scraped": (14201, 4.0, 75.0, 0.9913),
    }
    for stem, (n, lo, hi, lam) in expected.items():
        path = SSRL / "XYdata" / f"{stem}.xy"
        assert lams[stem] == lam
        p = read_pattern(path, lams[stem])
        assert (len(p), p.x[0], p.x[-1]) == (n, lo, pytest.approx(hi))
        assert p.wavelength == lam and p.metadata["wavelength_from"] == "argument"
        assert np.allclose(np.diff(p.x), 0.005)
        assert p.intensity.min() < 0  # background-subtracted, kept as is
    with pytest.raises(PatternFormatError, match="states no wavelength") as info:
        read_pattern(SSRL / "XYdata" / "JK21_scraped.xy")
    assert "JK21_scraped.xy" in str(info.value)


@needs_measured
def test_partial_single_peak_scans():
    for conc in ("0.65M", "0.80M", "1.00M"):
        p = read_pattern(
            THIN / "Experimental" / "pm-3m" / f"{conc} DT perovskite 14 deg peak.xy",
            1.5406,
        )
        assert len(p) == 137 and p.x[0] == 13.75 and p.x[-1] == pytest.approx(14.3989)


# ----------------------------------------------------- instrument fixtures
def test_committed_fixtures_match_their_builders():
    for name, build in fx.FIXTURES.items():
        data = (DATA / name).read_bytes()
        assert len(data) < 20_000
        if name.endswith((".rasx", ".brml")):  # deflate output may vary with zlib
            with (
                zipfile.ZipFile(DATA / name) as a,
                zipfile.ZipFile(BytesIO(build())) as b,
            ):
                assert a.namelist() == b.namelist()
                assert all(a.read(n) == b.read(n) for n in a.namelist())
        else:
            assert data == build(), name


def test_xrdml_fixture():
    p = read_pattern(DATA / "tiny.xrdml")
    np.testing.assert_allclose(p.x, fx.TWO_THETA, atol=1e-12)
    np.testing.assert_allclose(
        p.intensity, fx.COUNTS, rtol=1e-12
    )  # counts × attenuation
    assert p.radiation.wavelengths == (fx.CU_KA1, fx.CU_KA2)
    assert p.radiation.weights == (1.0, fx.CU_RATIO)
    assert p.wavelength == fx.CU_KA1
    m = p.metadata
    assert m["format"] == "xrdml" and m["counting_time_s"] == 0.5
    assert (
        m["attenuation_applied"]
        and m["anode"] == "Cu"
        and m["sample_id"] == "fixture-1"
    )


def _xrdml_variant(body, ns="http://www.xrdml.com/XRDMeasurement/1.0"):
    xmlns = f' xmlns="{ns}"' if ns else ""
    return f"""<?xml version="1.0"?>
<xrdMeasurements{xmlns}><xrdMeasurement>
<usedWavelength intended="K-Alpha 1"><kAlpha1>1.5406</kAlpha1>
<kAlpha2>1.5444</kAlpha2><ratioKAlpha2KAlpha1>0.5</ratioKAlpha2KAlpha1>
</usedWavelength><scan scanAxis="Gonio"><dataPoints>{body}</dataPoints></scan>
</xrdMeasurement></xrdMeasurements>"""


@pytest.mark.parametrize("ns", [None, "http://www.xrdml.com/XRDMeasurement/1.0"])
def test_xrdml_list_positions_intensities_and_namespaces(tmp_path, ns):
    body = (
        '<positions axis="2Theta"><listPositions>30 20 10</listPositions></positions>'
        "<intensities>3 2 1</intensities>"
        "<beamAttenuationFactors>5 5 5</beamAttenuationFactors>"
    )
    p = read_pattern(_write(tmp_path, "a.xrdml", _xrdml_variant(body, ns)))
    assert p.x.tolist() == [10.0, 20.0, 30.0]
    assert p.intensity.tolist() == [1.0, 2.0, 3.0]  # intensities: already corrected
    assert p.metadata["reversed"] is True
    assert p.radiation is None and p.wavelength == 1.5406  # "K-Alpha 1": one line


@pytest.mark.parametrize(
    "body, match",
    [
        (
            '<positions axis="Omega"><startPosition>1</startPosition>'
            "<endPosition>2</endPosition></positions><counts>1 2</counts>",
            "no 2θ positions",
        ),
        (
            '<positions axis="2Theta"><listPositions>1 2 3</listPositions></positions>'
            "<counts>1 2</counts>",
            "3 positions for 2 intensities",
        ),
        (
            '<positions axis="2Theta"><listPositions>1 2</listPositions></positions>'
            "<counts>1 x</counts>",
            r"<counts>: 'x' is not a number",
        ),
        (
            '<positions axis="2Theta"><commonPosition>20</commonPosition></positions>'
            "<counts>1 2</counts>",
            "2θ does not move",
        ),
        (
            '<positions axis="2Theta"><listPositions>1 2</listPositions></positions>',
            "neither <intensities> nor <counts>",
        ),
    ],
)
def test_xrdml_errors_name_the_element(tmp_path, body, match):
    path = _write(tmp_path, "bad.xrdml", _xrdml_variant(body))
    with pytest.raises(PatternFormatError, match=match) as info:
        read_pattern(path)
    assert str(path) in str(info.value) and "<" in str(info.value)


def test_ras_fixture():
    p = read_pattern(DATA / "tiny.ras")
    np.testing.assert_allclose(p.x, fx.TWO_THETA, atol=1e-12)
    np.testing.assert_allclose(p.intensity, fx.COUNTS, rtol=1e-12)
    assert p.wavelength == fx.RIGAKU_KA1 and p.metadata["kAlpha2"] == fx.RIGAKU_KA2
    assert p.metadata["comment"] == "試料A: 日本語のコメント"  # Shift-JIS decoded
    assert p.metadata["scan_axis"] == "TwoThetaTheta" and p.metadata["format"] == "ras"


def test_ras_errors(tmp_path):
    with pytest.raises(PatternFormatError, match=r"line \d+: .*truncated"):
        read_pattern(_write(tmp_path, "a.ras", fx.ras(end_marker=False)))
    with pytest.raises(PatternFormatError, match="MEAS_DATA_COUNT says 30 points"):
        read_pattern(_write(tmp_path, "b.ras", fx.ras(count=30)))
    with pytest.raises(PatternFormatError, match="scan axis is 'Omega'"):
        read_pattern(_write(tmp_path, "c.ras", fx.ras(axis="Omega")))
    text = fx.ras().decode("cp932").replace("10.1000 ", "10.1000x ")
    with pytest.raises(PatternFormatError, match=r"c2\.ras, line 19: .*10\.1000x"):
        read_pattern(_write(tmp_path, "c2.ras", text.encode("cp932")))


def test_rasx_fixture(tmp_path):
    p = read_pattern(DATA / "tiny.rasx")
    np.testing.assert_allclose(p.x, fx.TWO_THETA, atol=1e-12)
    np.testing.assert_allclose(p.intensity, fx.COUNTS, rtol=1e-12)
    assert p.wavelength == fx.RIGAKU_KA1 and p.metadata["anode"] == "Cu"
    with pytest.raises(PatternFormatError, match="MesurementConditions0.xml.*'Omega'"):
        read_pattern(_write(tmp_path, "o.rasx", fx.rasx(axis="Omega")))


def test_bruker_raw_v3_fixture_two_ranges():
    p = read_pattern(DATA / "tiny_v3.raw")
    np.testing.assert_allclose(p.x, np.r_[fx.TWO_THETA, fx.RANGE2_TWO_THETA], atol=1e-9)
    np.testing.assert_array_equal(p.intensity, np.r_[fx.COUNTS, fx.RANGE2_COUNTS])
    assert p.radiation.wavelengths == (fx.CU_KA1, fx.CU_KA2)
    m = p.metadata
    assert m["format"] == "bruker_raw_v3" and m["sample_id"] == "tiny peak"
    assert [r["points"] for r in m["ranges"]] == [21, 5]


def test_bruker_raw_v4_fixture():
    p = read_pattern(DATA / "tiny_v4.raw")
    np.testing.assert_allclose(p.x, fx.TWO_THETA, atol=1e-9)
    np.testing.assert_array_equal(p.intensity, fx.COUNTS)
    assert p.wavelength == fx.CU_KA1 and p.radiation.weights == (1.0, 0.5)
    assert p.metadata["scan_type"] == "Locked Coupled"
    assert (
        p.metadata["sample_id"] == "tiny peak" and p.metadata["time_per_step_s"] == 1.0
    )


@pytest.mark.parametrize("build", [fx.raw_v3, fx.raw_v4])
def test_bruker_raw_record_stride_and_multiple_ranges(tmp_path, build):
    ranges = [(40.0, -0.5, [4.0, 3.0, 2.0]), (10.0, 0.1, fx.COUNTS)]  # one descending
    p = read_pattern(_write(tmp_path, "a.raw", build(ranges=ranges, datum=8)))
    np.testing.assert_allclose(p.x, np.r_[fx.TWO_THETA, [39.0, 39.5, 40.0]], atol=1e-9)
    np.testing.assert_array_equal(p.intensity, np.r_[fx.COUNTS, [2.0, 3.0, 4.0]])
    assert p.metadata["reversed"] is True
    overlapping = [(10.0, 0.1, fx.COUNTS), (11.0, 0.1, [1.0, 2.0])]
    with pytest.raises(PatternFormatError, match="ranges 1 .* and 2 .* overlap"):
        read_pattern(_write(tmp_path, "b.raw", build(ranges=overlapping)))


def test_bruker_raw_v4_scan_types(tmp_path):
    det = read_pattern(
        _write(
            tmp_path,
            "d.raw",
            fx.raw_v4(scan_type="Detector Scan", two_theta_drive=False),
        )
    )
    assert len(det) == 21
    with pytest.raises(
        PatternFormatError, match="'Rocking Curve' scan without a 2θ drive"
    ):
        read_pattern(
            _write(
                tmp_path,
                "r.raw",
                fx.raw_v4(scan_type="Rocking Curve", two_theta_drive=False),
            )
        )
    data = bytearray(fx.raw_v4(scan_type="Omega Scan"))
    at = data.index(b"2Theta") - 12  # the drive record of 2θ; move it off the start
    struct.pack_into("<d", data, at + 56, 25.0)
    with pytest.raises(PatternFormatError, match=r"byte \d+: .*does not step 2θ"):
        read_pattern(_write(tmp_path, "o.raw", bytes(data)))


@pytest.mark.parametrize(
    "magic, match",
    [
        (b"RAW2", "version 2 .* not supported"),
        (b"RAW ", "version 1 .* not supported"),
        (b"RAW9.99", "unknown Bruker RAW signature"),
    ],
)
def test_bruker_raw_unsupported_versions(tmp_path, magic, match):
    data = magic + bytes(2000)
    with pytest.raises(PatternFormatError, match=match) as info:
        read_pattern(_write(tmp_path, "old.raw", data))
    assert "old.raw, byte 0" in str(info.value)


@pytest.mark.parametrize("name", sorted(fx.FIXTURES))
@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_truncated_fixtures_fail_clearly(tmp_path, name, fraction):
    data = (DATA / name).read_bytes()
    path = _write(tmp_path, name, data[: int(len(data) * fraction)])
    with pytest.raises(PatternFormatError) as info:
        read_pattern(path)
    msg = str(info.value)
    assert msg.startswith(str(path))
    assert any(w in msg for w in ("truncated", "not well-formed", "zip")), msg
    assert any(w in msg for w in (", line ", ", byte ", "<")), msg


# ----------------------------------------------------------------- text files
def test_text_header_comments_delimiters_crlf_and_uncertainty(tmp_path):
    text = (
        "; exported by some program\r\n"
        "Sample: quartz\r\n"
        "! lambda: 1.5406 A\r\n"
        "\r\n"
        "2theta;intensity;sigma\r\n"
        "10,0;100;10\r\n"
        "\r\n"
        "10,5;121;11\r\n"
        "11,0;144;12 # a trailing comment\r\n"
    )
    p = read_pattern(_write(tmp_path, "a.dat", text))
    assert p.x.tolist() == [10.0, 10.5, 11.0]
    assert p.intensity.tolist() == [100.0, 121.0, 144.0]
    assert p.uncertainty.tolist() == [10.0, 11.0, 12.0]
    assert p.wavelength == 1.5406 and p.metadata["decimal_comma"]
    assert p.metadata["header"][0] == "; exported by some program"
    for sep in (",", "\t", "  ", ", "):
        body = "# wavelength = 0.7293\n" + "\n".join(
            f"{a}{sep}{b}" for a, b in [(1, 2), (3, 4)]
        )
        p = read_pattern(_write(tmp_path, "b.csv", body))
        assert (p.x.tolist(), p.intensity.tolist(), p.wavelength) == (
            [1, 3],
            [2, 4],
            0.7293,
        )


@pytest.mark.parametrize(
    "line, expected",
    [
        ("# wavelength = 0.7293", 0.7293),
        ("# Wavelength (A): 0.9913", 0.9913),
        ("# lambda: 1.5406 A", 1.5406),
        ("# λ = 0.15406 nm", 1.5406),
        ("# K-Alpha1 = 1.540598", 1.540598),
        ("# beam energy: 17.0 keV", 12.398419843320026 / 17.0),
        ("# Radiation: Cu Ka", get_radiation("CuKa").wavelength),
        ("# anode Mo-Kα1", get_radiation("MoKa1").wavelength),
        # an index after the key is not the value; quotes; a unit in brackets
        ('# Id: "Si" Anode: "Cu" Wavelength1: "1.5406"', 1.5406),
        ("# Lambda1='0.7093'", 0.7093),
        ("# Wavelength 1: 1.54056", 1.54056),
        ("# wavelength (nm): 0.15406", 1.5406),
        ("# Wavelength: 1,5406", 1.5406),
        ("# Energy (keV): 17", 12.398419843320026 / 17.0),
        # Kα2's line first, a key-value pair with a comma (HighScore CSV)
        ("K-Alpha2 wavelength,1.54443\nK-Alpha1 wavelength,1.54060", 1.5406),
        ("# Wavelength2: 1.5444\n# Wavelength1: 1.5406", 1.5406),
        # a bandwidth and a detector's energy window are passed over
        ("# Δλ/λ = 2e-4\n# wavelength = 0.7293", 0.7293),
        ("# Detector energy window: 4.5 keV - 9.5 keV\n# Mo Ka1", 0.70931715),
        ("# Cu-K-alpha-1", get_radiation("CuKa1").wavelength),
        ("# Co Ka12", get_radiation("CoKa").wavelength),
        # lists: a comma and a space after a decimal comma, a comma after a dot
        ("# wavelength: 1,54060, 1,54439", 1.5406),
        ("# Wavelength: 1.5406,1.5444", 1.5406),
        # a filter named after the value is not another line's wavelength
        ("# wavelength = 1.5406 (Kbeta filter: Ni)", 1.5406),
        # ... nor one named earlier on the line, away from the key
        ("# Beta filter: Ni, Wavelength: 1.5406", 1.5406),
        ("# Rachinger Ka2 stripping applied, wavelength=1.5406", 1.5406),
        ("# K-Alpha1/K-Alpha2 wavelength: 1.5406/1.5444", 1.5406),
        ("# Radiation: Cu K-alpha2 excluded, wavelength 1.5406", 1.5406),
        ('# Filter: "Ni (K-Beta)" Ka2Stripped: "yes" Wavelength1: "1.5406"', 1.5406),
        # an index 2 with a space is another line's; an index with a comma
        ("# Wavelength 2: 1.54439\n# Wavelength 1: 1.54056", 1.54056),
        ("K-Alpha1,1.54060", 1.5406),
        ("K-Alpha1,2.28970", 2.2897),  # Cr Kα1, not the doublet Kα1,2
        ("Wavelength1,1.5406", 1.5406),
        # metres, as pyFAI writes them
        ("# Wavelength: 7.293e-11", 0.7293),
    ],
)
def test_text_wavelength_statements(tmp_path, line, expected):
    p = read_pattern(_write(tmp_path, "w.xy", f"{line}\n10 1\n11 2\n"))
    assert p.wavelength == pytest.approx(expected, rel=1e-12)
    assert p.metadata["wavelength_from"] == "file"


@pytest.mark.parametrize(
    "line, name",
    [
        ("# Cu-K-alpha-1", "CuKa1"),
        ("# Ag K_alpha_1", "AgKa1"),
        ("# Co Ka12", "CoKa"),
        ("# Cu Kalpha1,2", "CuKa"),
        ("# Cu Ka", "CuKa"),
    ],
)
def test_text_anode_lines_name_the_doublet_or_kalpha1(tmp_path, line, name):
    p = read_pattern(_write(tmp_path, "a.xy", f"{line}\n10 1\n11 2\n"))
    assert p.radiation.name == name


def test_text_column_names_decide_axis_and_columns(tmp_path):
    w = "# wavelength = 1.5406\n"
    # the names row, not a units comment under it or a comment after the data
    for body in ("q intensity\n# (1/A) (counts)\n", "q intensity\n"):
        p = read_pattern(_write(tmp_path, "q.xy", w + body + "0.5 1\n0.6 2\n# end\n"))
        assert p.axis == "q"
    # θ is not 2θ: refused unless the caller says what the column holds
    path = _write(tmp_path, "t.xy", w + "theta intensity\n5 1\n6 2\n")
    with pytest.raises(
        PatternFormatError, match=r"line 2: the first column is 'theta'"
    ):
        read_pattern(path)
    assert read_pattern(path, axis="two_theta").x.tolist() == [5, 6]
    # a named third column is the uncertainty only when named so
    rows = "10 1 2\n11 3 4\n"
    p = read_pattern(_write(tmp_path, "e.xy", w + "2theta counts esd\n" + rows))
    assert p.uncertainty.tolist() == [2, 4] and "ignored_column" not in p.metadata
    p = read_pattern(_write(tmp_path, "c.xy", w + "2theta Iobs Icalc\n" + rows))
    assert p.intensity.tolist() == [1, 3] and p.uncertainty is None
    assert p.metadata["ignored_column"] == "Icalc"
    text = w + "Angle,TimePerStep,Intensity\n10.00,18.0,100\n10.02,18.0,250\n"
    p = read_pattern(_write(tmp_path, "hs.csv", text))
    assert p.intensity.tolist() == [100, 250] and p.uncertainty is None
    assert p.metadata["ignored_column"] == "TimePerStep"
    # unnamed: the third column is the uncertainty, as before
    assert read_pattern(_write(tmp_path, "u.xy", w + rows)).uncertainty.tolist() == [
        2,
        4,
    ]
    # a title further up names nothing (GSAS: x in centidegrees, then y and e)
    text = (
        "Si 11-BM test\nBANK 1 3 3 CONS 1000.0 0.1 0 0 FXYE\n"
        "1000.0 10.0 3.1\n1000.1 12.0 3.4\n1000.2 20.0 4.4\n"
    )
    p = read_pattern(_write(tmp_path, "si.fxye", text), 0.4579)
    assert p.x.tolist() == pytest.approx([10.0, 10.001, 10.002])
    assert p.uncertainty.tolist() == [3.1, 3.4, 4.4]
    text = "T\nBANK 1 2 2 SLOG 1000.0 0.1 0 0 FXYE\n1000 1 1\n1001 2 1\n"
    with pytest.raises(PatternFormatError, match="line 2: a GSAS bank of SLOG"):
        read_pattern(_write(tmp_path, "tof.fxye", text), 1.0)


def test_titles_dates_and_coupled_scan_names_are_not_misread(tmp_path):
    w = "# wavelength = 1.5406\n"
    rows = "10.0 100 10\n10.5 121 11\n11.0 144 12\n"
    # a title of three words over three columns names none of them
    for title in ("Two Theta Counts", "Silicon raw counts", "Corundum NIST SRM676a"):
        p = read_pattern(_write(tmp_path, "t.xye", w + title + "\n" + rows))
        assert p.intensity.tolist() == [100, 121, 144], title
        assert p.uncertainty.tolist() == [10, 11, 12], title
    # error columns of any name stay the uncertainty
    for names in ("2theta I sigI", "2theta y e(y)", "2theta counts sqrt(counts)"):
        p = read_pattern(_write(tmp_path, "e.xye", w + names + "\n" + rows))
        assert p.uncertainty.tolist() == [10, 11, 12], names
    # θ-2θ and ω-2θ scans: their x is 2θ
    for name in ("Omega-2Theta", "Theta/2Theta", "theta_2theta"):
        text = w + f"{name},Intensity\n10.0,100\n10.5,121\n"
        assert read_pattern(_write(tmp_path, "c.csv", text)).axis == "two_theta"
    # a setting in a comment, a date over the data: neither names nor data
    for line in ("# Omega 12.5", "# Theta/2Theta scan", "Sample X\n2021-03-04"):
        p = read_pattern(_write(tmp_path, "s.xy", w + line + "\n10.0 100\n10.5 121\n"))
        assert p.x.tolist() == [10.0, 10.5], line


def test_a_long_run_of_whitespace_in_the_header_reads_at_once(tmp_path):
    import time

    text = "# wavelength" + "\t" * 2000 + "x\n# wavelength = 1.54\n10 1\n11 2\n"
    path = _write(tmp_path, "tabs.xy", text)
    start = time.perf_counter()
    assert read_pattern(path).wavelength == 1.54
    assert time.perf_counter() - start < 2.0  # 100 s at 400 tabs before


def test_text_damaged_first_rows_and_trailing_delimiters(tmp_path):
    w = "# wavelength = 1.5406\n"
    rows = "".join(f"{10 + 0.02 * i:10.4f}{100 + i:10d}\n" for i in range(1, 5))
    for first in ("   10.0000********", "10.0O 100"):
        path = _write(tmp_path, "d.xy", w + first + "\n" + rows)
        with pytest.raises(PatternFormatError, match="line 2: .*a damaged data line"):
            read_pattern(path)
    # a names row is not a damaged line
    assert len(read_pattern(_write(tmp_path, "n.xy", w + "2 Theta\n" + rows))) == 4
    for sep in (",", ";"):
        body = "".join(f"{10 + i / 10}{sep}{100 + i}{sep}\n" for i in range(3))
        p = read_pattern(_write(tmp_path, "t.csv", w + body))
        assert p.intensity.tolist() == [100, 101, 102] and p.uncertainty is None


def test_the_callers_wavelength_is_checked_as_the_callers(tmp_path):
    path = _write(tmp_path, "w.xy", "10 1\n11 2\n12 3\n")
    assert read_pattern(path, "1.5406").wavelength == 1.5406  # as the CLI passes it
    assert read_pattern(path, np.float32(0.5)).wavelength == pytest.approx(0.5)
    for bad in ([1.5], True):
        with pytest.raises(ValueError, match="wavelength must be a number of Å"):
            read_pattern(path, bad)


def test_text_named_radiation_and_caller_override(tmp_path):
    path = _write(tmp_path, "w.xy", "# Cu Ka\n10 1\n11 2\n")
    assert read_pattern(path).radiation.name == "CuKa"
    with pytest.warns(UserWarning, match="instead of the file's 1.54059"):
        p = read_pattern(path, "MoKa")
    assert p.wavelength == get_radiation("MoKa").wavelength
    assert p.metadata["file_wavelength"] == get_radiation("CuKa").wavelength


@pytest.mark.parametrize(
    "text, match",
    [
        (
            "10 1\n11 2 3 4\n12 3\n",
            r"line 2: 4 column\(s\) where the other lines have 2",
        ),
        ("10 1\n11\n12 3\n", r"line 2: 1 column\(s\) where"),
        ("1 2 3 4\n5 6 7 8\n", r"line 1: 4 columns; expected 2 or 3"),
        ("10 1\n11 nan\n12 3\n", r"line 2: 'nan': NaN"),
        ("10 1\n11 inf\n12 3\n", r"line 2: 'inf'"),
        ("10 1\n11 x\n12 3\n", r"line 2: 'x' is not a number"),
        ("10 1\nEND\n", r"line 2: 'END' is not a number"),
        ("10 1\n11 2\n10.5 3\n", r"line 3: x goes from 11 to 10.5"),
        ("10 1\n11 2\n11 3\n", r"line 3: x = 11 repeats"),
        ("10 1 -1\n11 2 1\n", r"line 1: uncertainty -1 is negative"),
        ("200 1\n210 2\n", r"line 1: 2θ = 200 is outside"),
        ("# only a header\n", "no numeric data lines"),
        ("d,intensity\n3.1,5\n2.0,6\n", r"line 1: the first column is 'd'"),
        ("# wavelength = 154.06\n10 1\n11 2\n", r"line 1: .* 154.06 Å"),
        ("10 1\n11 2\n", "states no wavelength"),
        # 1,5406,1,5444 is no value: not read as 1 Å
        ("# wavelength: 1,5406,1,5444\n10 1\n11 2\n", "states no wavelength"),
        ("10 1\n", r"1 data point\(s\)"),
    ],
)
def test_text_errors_name_file_and_line(tmp_path, text, match):
    path = _write(tmp_path, "bad.xy", text)
    with pytest.raises(PatternFormatError, match=match) as info:
        read_pattern(path)
    assert str(info.value).startswith(str(path))


def test_text_encodings_quotes_and_dos_eof(tmp_path):
    text = '# Wellenlänge λ = 1.5406 Å\r\n"2Theta","Counts"\r\n10,1\r\n11,2\r\n'
    for enc in ("utf-16", "utf-8-sig", "latin-1"):
        body = text if enc != "latin-1" else text.replace("λ", "lambda")
        p = read_pattern(_write(tmp_path, "e.csv", body.encode(enc)))
        assert p.wavelength == 1.5406 and p.x.tolist() == [10, 11], enc
    p = read_pattern(_write(tmp_path, "dos.xy", b"10 1\r\n11 2\r\n\x1a"), "CuKa")
    assert len(p) == 2
    # "wavelength_index 2" is not a wavelength statement
    path = _write(tmp_path, "n.xy", "# wavelength_index 2\n10 1\n11 2\n")
    with pytest.raises(PatternFormatError, match="states no wavelength"):
        read_pattern(path)


def test_several_scans_in_one_file(tmp_path):
    scan = (
        '<scan><dataPoints><positions axis="2Theta"><startPosition>{}'
        "</startPosition><endPosition>{}</endPosition></positions>"
        "<intensities>1 2 3</intensities></dataPoints></scan>"
    )
    xml = _xrdml_variant("").replace(
        '<scan scanAxis="Gonio"><dataPoints></dataPoints></scan>',
        scan.format(30, 32) + scan.format(10, 12),
    )
    p = read_pattern(_write(tmp_path, "two.xrdml", xml))
    assert p.x.tolist() == [10, 11, 12, 30, 31, 32]
    assert [r["start"] for r in p.metadata["ranges"]] == [30, 10]
    with pytest.raises(PatternFormatError, match="scans 1 .* and 2 .* overlap"):
        bad = xml.replace(scan.format(10, 12), scan.format(31, 33))
        read_pattern(_write(tmp_path, "overlap.xrdml", bad))
    block = fx.ras().decode("cp932").split("*RAS_DATA_END")[0]
    second = block.split("*RAS_DATA_START\r\n")[1].replace("\r\n1", "\r\n5")
    p = read_pattern(_write(tmp_path, "two.ras", (block + second).encode("cp932")))
    assert len(p) == 42 and p.x[21] == 50.0 and p.intensity[21] == fx.COUNTS[0]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize(
    "header",
    ["", "# Wellenlänge λ = 1.5406 Å\r\n# 2Theta\tCounts\r\n"],
    ids=["columns", "header"],
)
def test_utf16_text_without_byte_order_mark(tmp_path, encoding, header):
    # Windows tools write UTF-16 without a BOM: text, not binary
    x = 10.0 + 0.02 * np.arange(60)
    rows = "".join(f"{a:.2f}\t{100 + i}\r\n" for i, a in enumerate(x))
    wavelength = None if header else "CuKa"
    p = read_pattern(
        _write(tmp_path, "nobom.xy", (header + rows).encode(encoding)), wavelength
    )
    assert p.metadata["format"] == "text"
    np.testing.assert_allclose(p.x, x)
    np.testing.assert_allclose(p.intensity, 100 + np.arange(60))
    with_bom = read_pattern(
        _write(tmp_path, "bom.xy", (header + rows).encode("utf-16")), wavelength
    )
    assert p.wavelength == with_bom.wavelength
    assert p.wavelength == 1.5406 or not header
    np.testing.assert_array_equal(p.x, with_bom.x)


def test_small_16_bit_numbers_stay_binary(tmp_path):
    # zero high bytes alone do not make text: control characters, no line
    # breaks or zero low bytes keep these binary
    rng = np.random.default_rng(0)
    for dtype in ("<u2", ">u2"):
        for values in (
            rng.integers(0, 256, 2000),  # counts below 256
            rng.integers(32, 127, 2000),  # printable, but no line breaks
            np.arange(2000) % 256,
        ):
            path = _write(tmp_path, "counts.bin", values.astype(dtype).tobytes())
            with pytest.raises(PatternFormatError, match="binary content"):
                read_pattern(path, "CuKa")


def test_unusable_header_wavelength_is_an_error_only_without_a_caller_one(tmp_path):
    path = _write(tmp_path, "w.xy", "# wavelength = 154.06\n10 1\n11 2\n")
    with pytest.raises(PatternFormatError, match="154.06"):
        read_pattern(path)
    assert read_pattern(path, "CuKa").wavelength == get_radiation("CuKa").wavelength


def test_empty_binary_and_mismatched_files(tmp_path):
    for content in (b"", b"  \r\n\t\n"):
        with pytest.raises(PatternFormatError, match="empty"):
            read_pattern(_write(tmp_path, "e.xy", content))
    with pytest.raises(PatternFormatError, match="binary content of an unknown format"):
        read_pattern(_write(tmp_path, "blob.xyz", bytes(range(256)) * 4))
    with pytest.raises(PatternFormatError, match="promises a PANalytical XRDML"):
        read_pattern(_write(tmp_path, "t.xrdml", "10 1\n11 2\n"))
    with pytest.raises(PatternFormatError, match="promises a Bruker RAW"):
        read_pattern(_write(tmp_path, "t.raw", "10 1\n11 2\n"))
    with pytest.raises(PatternFormatError, match="zip archive that is not a Rigaku"):
        buf = BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("x.txt", "1 2")
        read_pattern(_write(tmp_path, "z.zip", buf.getvalue()))
    with pytest.raises(PatternFormatError, match="missing.xy: no such file"):
        read_pattern(tmp_path / "missing.xy")
    with pytest.raises(PatternFormatError, match="is a directory"):
        read_pattern(tmp_path)


def test_unknown_extension_is_sniffed(tmp_path):
    p = read_pattern(_write(tmp_path, "scan.custom", "# lambda 1.5406\n10 1\n11 2\n"))
    assert p.metadata["format"] == "text"
    p = read_pattern(
        _write(tmp_path, "raw.txt", "RAW data, lambda 1.5406\n10 1\n11 2\n")
    )
    assert p.metadata["format"] == "text"
    p = read_pattern(_write(tmp_path, "scan.bin", (DATA / "tiny_v4.raw").read_bytes()))
    assert p.metadata["format"] == "bruker_raw_v4"


@pytest.mark.parametrize(
    "name, header, sep",
    [
        ("u.xy", "_wavelength = 1.5406\n", " "),  # a _KEY=value line: not UXD
        ("u2.xy", "_sample=quartz\n_2theta intensity\n", " "),
        ("c.csv", "x, y, /\n", ", "),  # a 'Key, value, /' line: not UDF
        ("c2.txt", "Angle, Intensity, /\n", " "),
        ("d.xy", "data_set1 quartz Cu\n", " "),  # a data_ title: not CIF
        ("d2.xy", "data_1.xy\n", " "),
    ],
)
def test_text_columns_with_a_format_like_header_stay_text(tmp_path, name, header, sep):
    # the sniffers of UXD, UDF and pdCIF looked at the first line alone: these
    # columns, read before those formats were, became errors
    body = "".join(f"{x}{sep}{y}\n" for x, y in ((10, 1), (11, 2), (12, 3)))
    p = read_pattern(_write(tmp_path, name, header + body), "CuKa")
    assert p.metadata["format"] == "text"
    assert p.x.tolist() == [10, 11, 12] and p.intensity.tolist() == [1, 2, 3]


def test_descending_scan_is_reversed(tmp_path):
    p = read_pattern(_write(tmp_path, "d.xy", "12 3\n11 2\n10 1\n"), "CuKa")
    assert p.x.tolist() == [10, 11, 12] and p.intensity.tolist() == [1, 2, 3]
    assert p.metadata["reversed"] is True


def test_q_axis_files(tmp_path):
    p = read_pattern(_write(tmp_path, "q.csv", "q,intensity\n1.0,5\n2.0,6\n"))
    assert p.axis == "q" and p.wavelength is None and p.x.tolist() == [1.0, 2.0]
    p = read_pattern(_write(tmp_path, "qnm.csv", "q (nm^-1),I\n10,5\n20,6\n"))
    assert p.axis == "q" and p.x.tolist() == [1.0, 2.0]
    p = read_pattern(_write(tmp_path, "plain.xy", "1 5\n2 6\n"), axis="q")
    assert p.axis == "q"
    with pytest.raises(PatternFormatError, match="the x column is q, not two_theta"):
        read_pattern(tmp_path / "q.csv", 1.5406, axis="two_theta")
    with pytest.raises(PatternFormatError, match="hold 2θ; axis='q'"):
        read_pattern(DATA / "tiny.xrdml", axis="q")
    with pytest.raises(ValueError, match="axis must be"):
        read_pattern(tmp_path / "q.csv", axis="d")


# ------------------------------------------------------------------- writing
def _same(a, b):
    assert a.axis == b.axis and a.name == b.name and a.wavelength == b.wavelength
    assert np.array_equal(a.x, b.x) and np.array_equal(a.intensity, b.intensity)
    assert (a.uncertainty is None) == (b.uncertainty is None)
    if a.uncertainty is not None:
        assert np.array_equal(a.uncertainty, b.uncertainty)
    assert (a.radiation is None) == (b.radiation is None)
    if a.radiation is not None:
        assert a.radiation == b.radiation
    assert {k: v for k, v in b.metadata.items() if k not in READER_KEYS} == a.metadata


@pytest.mark.parametrize("ext", [".xy", ".xye", ".csv", ".dat"])
def test_write_read_round_trip(tmp_path, ext):
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(5, 90, 50))
    y = rng.normal(100, 30, 50)
    p = Pattern(
        x,
        y,
        wavelength="CuKa",
        uncertainty=np.abs(y) ** 0.5,
        name="my scan, #1",
        metadata={"sample": "quartz", "temperature_K": 293.15, "tags": ["a", "b"]},
    )
    path = write_pattern(p, tmp_path / f"p{ext}")
    _same(p, read_pattern(path))


@pytest.mark.parametrize(
    "pattern",
    [
        Pattern([0.5, 1.0, 2.5], [1.0, 2.0, 3.0], axis="q"),
        Pattern([0.5, 1.0], [1.0, 2.0], axis="q", wavelength=0.7293),
        Pattern([10.0, 20.0], [1.0, -2.0], wavelength=0.9913),
        Pattern([10.0, 20.0], [1.0, 2.0], radiation=get_radiation("neutron", 1.594)),
        Pattern([10.0, 20.0], [1.0, 2.0], wavelength="MoKa1", name="β-phase"),
    ],
)
def test_round_trip_axes_and_radiations(tmp_path, pattern):
    path = write_pattern(pattern, tmp_path / "p.xy")
    _same(pattern, read_pattern(path))


def test_round_trip_of_an_instrument_file(tmp_path):
    p = read_pattern(DATA / "tiny.xrdml")
    q = read_pattern(write_pattern(p, tmp_path / "copy.csv"))
    assert np.array_equal(p.x, q.x) and np.array_equal(p.intensity, q.intensity)
    assert q.radiation == p.radiation and q.metadata["kAlpha1"] == fx.CU_KA1
    assert q.metadata["format"] == "text" and q.name == "tiny"


def test_write_refuses_to_overwrite(tmp_path):
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength="CuKa")
    path = tmp_path / "user.xy"
    path.write_text("precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_pattern(p, path)
    assert path.read_text() == "precious"
    assert write_pattern(p, path, overwrite=True) == path
    assert read_pattern(path).intensity.tolist() == [1.0, 2.0]
    assert sorted(f.name for f in tmp_path.iterdir()) == ["user.xy"]  # no temp files


def test_write_format_choices(tmp_path):
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength="CuKa")
    with pytest.raises(ValueError, match="uncertainty"):
        write_pattern(p, tmp_path / "a.xye")
    with pytest.raises(ValueError, match="cannot tell the format"):
        write_pattern(p, tmp_path / "a.out")
    with pytest.raises(ValueError, match="fmt must be one of"):
        write_pattern(p, tmp_path / "a.xy", fmt="cif")
    path = write_pattern(p, tmp_path / "a.out", fmt="csv")
    assert "two_theta,intensity" in path.read_text()
    _same(p, read_pattern(path))
    with pytest.raises(ValueError, match="needs a Pattern"):
        write_pattern([1, 2], tmp_path / "b.xy")


@pytest.mark.parametrize("ext", [".xy", ".xye", ".csv", ".dat"])
def test_write_keeps_every_digit(tmp_path, ext):
    # counts of 1e7, normalized intensities of 1e-6 and below, 0.0001° steps:
    # nothing rounds to a duplicate x or to zero
    x = 10.0 + 1e-4 * np.arange(6)
    y = np.array([1e7, 1e-6, 3e-300, 5e-324, -0.0, 12345678.901234567])
    p = Pattern(x[::-1], y[::-1], wavelength="MoKa", uncertainty=np.full(6, 1e-9))
    q = read_pattern(write_pattern(p, tmp_path / f"p{ext}"))
    _same(p, q)
    assert np.all(np.diff(q.x) > 0) and q.intensity[3] == 5e-324


def test_write_to_a_path_with_spaces_and_unicode(tmp_path):
    p = Pattern([10.0, 20.0], [1.0, 2.0], radiation="CuKa", name="β-phase")
    folder = tmp_path / "my scans é"
    folder.mkdir()
    for path in (folder / "β phase 1.xy", str(folder / "β phase 2.csv")):
        written = write_pattern(p, path)
        assert written == Path(path)
        _same(p, read_pattern(written))


@pytest.mark.parametrize("flag", ["no", "False", 0, 1, None])
def test_write_overwrite_must_be_a_bool(tmp_path, flag):
    # overwrite="no" is truthy: it replaced the user's file
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength="CuKa")
    path = tmp_path / "user.xy"
    path.write_text("precious")
    with pytest.raises(TypeError, match="overwrite must be True or False"):
        write_pattern(p, path, overwrite=flag)
    assert path.read_text() == "precious"
    with pytest.raises(FileExistsError):
        write_pattern(p, path, overwrite=np.bool_(False))
    assert write_pattern(p, path, overwrite=np.bool_(True)) == path


def test_write_names_a_missing_folder(tmp_path):
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength="CuKa")
    missing = tmp_path / "no such folder"
    with pytest.raises(FileNotFoundError, match=r"the folder .*no such folder does"):
        write_pattern(p, missing / "p.xy")
    assert not missing.exists()
    (tmp_path / "a.xy").write_text("precious")
    with pytest.raises(FileNotFoundError, match=r"folder .*a\.xy is not a folder"):
        write_pattern(p, tmp_path / "a.xy" / "p.xy")
    assert (tmp_path / "a.xy").read_text() == "precious"


@pytest.mark.parametrize("overwrite", [False, True])
def test_write_to_a_folder_says_so(tmp_path, overwrite):
    # it said "exists; pass overwrite=True", and with it failed on a temp file
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength="CuKa")
    folder = tmp_path / "scans.xy"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=r"scans\.xy is a folder"):
        write_pattern(p, folder, overwrite=overwrite)
    assert folder.is_dir() and sorted(tmp_path.iterdir()) == [folder]


def test_write_to_a_broken_link_says_so(tmp_path):
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength="CuKa")
    link = tmp_path / "p.xy"
    link.symlink_to(tmp_path / "gone.xy")
    for overwrite in (False, True):
        with pytest.raises(FileExistsError, match="broken symbolic link .*gone.xy"):
            write_pattern(p, link, overwrite=overwrite)
    assert link.is_symlink() and not (tmp_path / "gone.xy").exists()


def test_write_path_must_be_path_like(tmp_path):
    from io import StringIO

    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength="CuKa")
    with pytest.raises(TypeError, match="path must be a str or path-like.*StringIO"):
        write_pattern(p, StringIO(), fmt="xy")


def test_write_keeps_numpy_metadata_and_warns_of_what_it_leaves_out(tmp_path):
    # np.int64 and arrays were left out, with no more than a comment in the file
    meta = {
        "n_scans": np.int64(3),
        "steps": np.array([0.01, 0.02]),
        "counts": np.arange(3, dtype=np.uint16),
        "flag": np.bool_(True),
        "temperature": np.float64(293.15),
        "unknown": float("nan"),
        "sample": object(),
    }
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength="CuKa", metadata=meta)
    with pytest.warns(UserWarning, match=r"metadata 'unknown', 'sample' not written"):
        path = write_pattern(p, tmp_path / "p.xy")
    got = read_pattern(path).metadata
    assert got["n_scans"] == 3 and got["steps"] == [0.01, 0.02]
    assert got["counts"] == [0, 1, 2] and got["flag"] is True
    assert got["temperature"] == 293.15
    assert "unknown" not in got and "sample" not in got


def test_write_names_of_left_out_metadata_add_no_lines(tmp_path):
    # the key was written raw into the header: its second line was a data point
    meta = {"note\n5.0 999": object()}
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength=1.0, metadata=meta)
    with pytest.warns(UserWarning, match=r"'note\\n5.0 999' not written"):
        path = write_pattern(p, tmp_path / "p.xy")
    _same(Pattern([10.0, 20.0], [1.0, 2.0], wavelength=1.0), read_pattern(path))


def test_write_warns_of_keys_that_repeat_as_text(tmp_path):
    # {1: "a", "1": "b"}: the JSON header kept "b" alone, without a word
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength=1.0, metadata={1: "a", "1": "b"})
    with pytest.warns(UserWarning) as record:
        path = write_pattern(p, tmp_path / "p.xy")
    text = " ".join(str(w.message) for w in record)
    assert "metadata '1' not written" in text
    assert "the key 1 is read back as the string '1'" in text
    assert read_pattern(path).metadata["1"] == "a"


def test_reading_files_does_not_load_the_simulator():
    # Radiation lives in skxrd.utils, below both io and simulation (issue 20)
    import subprocess
    import sys

    code = (
        "import sys; from skxrd.io import read_pattern, Pattern; "
        "from skxrd import PowderSimulator, Crystal; "
        "print(sorted(m for m in sys.modules if m.startswith('skxrd.simulation')))"
    )
    lazy = code.replace("from skxrd import PowderSimulator, Crystal; ", "")
    out = subprocess.run([sys.executable, "-c", lazy], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "skxrd.simulation" in out.stdout  # on first use, as before


# ------------------------------------- names with units, wavelength units
@pytest.mark.parametrize(
    "names, rows, axis, x",
    [
        # a unit in brackets after a space belongs to the name before it
        ("# Q (nm^-1) I", "3.5 1\n3.6 2\n", "q", [0.35, 0.36]),
        ("# Q [1/nm]  Intensity", "3.5 1\n3.6 2\n", "q", [0.35, 0.36]),
        ("# q [nm-1] I", "3.5 1\n3.6 2\n", "q", [0.35, 0.36]),
        ("# Q (A^-1) Intensity", "0.35 1\n0.36 2\n", "q", [0.35, 0.36]),
        ("# Q ( 1 / A ) Intensity", "0.35 1\n0.36 2\n", "q", [0.35, 0.36]),
        # names with commas over columns with spaces
        ("# q(1/nm),I", "3.5 1\n3.6 2\n", "q", [0.35, 0.36]),
        ("# q(1/nm), I", "3.5\t1\n3.6\t2\n", "q", [0.35, 0.36]),
        ("# 2Theta (deg) Intensity (counts)", "10 1\n11 2\n", "two_theta", [10, 11]),
    ],
)
def test_column_names_with_a_unit_after_a_space(tmp_path, names, rows, axis, x):
    path = _write(tmp_path, "u.xy", f"# wavelength = 1.5406\n{names}\n{rows}")
    p = read_pattern(path)
    assert p.axis == axis
    np.testing.assert_allclose(p.x, x, rtol=1e-12)


@pytest.mark.parametrize(
    "names, match",
    [
        ("# d (A) Intensity", r"line 2: the first column is 'd \(A\)' \(d-spacing\)"),
        ("# d [Å] I", r"line 2: the first column is 'd \[Å\]' \(d-spacing\)"),
        ("# Theta (deg) Intensity", r"line 2: the first column is 'Theta \(deg\)'"),
    ],
)
def test_d_and_theta_names_with_a_unit_after_a_space_are_refused(
    tmp_path, names, match
):
    path = _write(tmp_path, "t.xy", f"# wavelength = 1.5406\n{names}\n5 1\n6 2\n")
    with pytest.raises(PatternFormatError, match=match) as info:
        read_pattern(path)
    assert str(path) in str(info.value)
    if "Theta" in names:  # θ is read when the caller says what it holds
        assert read_pattern(path, axis="two_theta").x.tolist() == [5, 6]


@pytest.mark.parametrize(
    "names",
    [
        "# Q (1/nm) I sigma",  # three names over two columns
        "# Q I",  # two names over three columns
        "# d (A) I (counts) esd",
        "# Theta I sigma",
        "# theta [deg] I sigma",
    ],
)
def test_a_q_d_or_theta_names_row_of_another_count_is_not_read_as_two_theta(
    tmp_path, names
):
    rows = "5 1\n6 2\n" if names != "# Q I" else "5 1 1\n6 2 1\n"
    path = _write(tmp_path, "n.xy", f"# wavelength = 1.5406\n{names}\n{rows}")
    with pytest.raises(PatternFormatError, match=r"line 2: the header .* is not 2θ"):
        read_pattern(path)
    # the caller's axis is taken
    if not names.startswith("# d"):
        assert read_pattern(path, axis="q").axis == "q"
        assert read_pattern(path, axis="two_theta").x.tolist() == [5, 6]


@pytest.mark.parametrize(
    "names, rows, x, uncertainty",
    [
        ("# Q (1/A)", "0.5 1\n0.6 2\n", [0.5, 0.6], None),
        ("# Q [1/A]", "0.5 1\n0.6 2\n", [0.5, 0.6], None),
        ("# q (1/nm)", "5 1\n6 2\n", [0.5, 0.6], None),
        ("# Q (1/A)", "0.5 1 3\n0.6 2 4\n", [0.5, 0.6], [3, 4]),
    ],
)
def test_a_line_naming_the_axis_alone_names_the_first_column(
    tmp_path, names, rows, x, uncertainty
):
    # refused for a day as naming 1 column of 2 (read as Q before)
    path = _write(tmp_path, "q.xy", f"# wavelength = 1.5406\n{names}\n{rows}")
    p = read_pattern(path)
    assert p.axis == "q" and p.intensity.tolist() == [1, 2]
    np.testing.assert_allclose(p.x, x, rtol=1e-12)
    assert (None if p.uncertainty is None else p.uncertainty.tolist()) == uncertainty


def test_a_title_over_the_data_starting_with_an_axis_name_reads(tmp_path):
    # refused for a day: a line starting with θ or Q over the data was a
    # names row of the wrong count; only one name more than the columns is
    w = "# wavelength = 1.5406\n"
    for line in (
        "# theta 2theta coupled scan",
        "# theta scan at omega=10",
        "# q vector scan of LaB6",
        "# d-spacing list of sample A, B",
    ):
        p = read_pattern(_write(tmp_path, "s.xy", w + line + "\n10 1\n11 2\n"))
        assert p.axis == "two_theta" and p.x.tolist() == [10, 11], line
    path = _write(tmp_path, "n.xy", w + "# Q nm-1 I\n10 1\n11 2\n")
    with pytest.raises(PatternFormatError, match=r"line 2: the header '# Q nm-1 I'"):
        read_pattern(path)


def test_titles_and_settings_starting_like_an_axis_still_read(tmp_path):
    w = "# wavelength = 1.5406\n"
    for line in (
        "# Q-switched source test",
        "# d8 advance, theta-theta",
        "# Theta/2Theta scan",
        "# Omega 12.5",
        "# Q-range: 0.5 to 5",
    ):
        p = read_pattern(_write(tmp_path, "s.xy", w + line + "\n10 1\n11 2\n"))
        assert p.axis == "two_theta" and p.x.tolist() == [10, 11], line
    # a title further up is no names row
    text = "# Theta scan of sample X\n" + w + "10 1\n11 2\n"
    assert read_pattern(_write(tmp_path, "t.xy", text)).x.tolist() == [10, 11]


@pytest.mark.parametrize(
    "line, expected",
    [
        ("# Wavelength: 0.15406 (nm)", 1.5406),
        ("# Wavelength: 0.15406 [nm]", 1.5406),
        ("# Wavelength: 0.15406 (nanometers)", 1.5406),
        ("# Wavelength = 0.15406 nanometres", 1.5406),
        ("Wavelength,0.15406,nm", 1.5406),
        ("Wavelength;0,15406;nm", 1.5406),
        ("# lambda: 154.06 (pm)", 1.5406),
        ("# Wavelength: 1.5406 (Angstrom)", 1.5406),
        ("# Wavelength: 1.5406 (measured)", 1.5406),
        ("# Wavelength = 0.15406 nm", 1.5406),
        # a key after the value, not its unit (m had read as metres: 1.5e10 Å)
        ("# Wavelength = 1.5406, m=2", 1.5406),
        ("# Wavelength: 1.5406; A: 0.5", 1.5406),
        ("# Wavelength: 0.15406, nm", 1.5406),
        ("# Energy: 30 (keV)", 12.398419843320026 / 30.0),
        ("# Energy: 17000 [eV]", 12.398419843320026 / 17.0),
        ("Energy,17,keV", 12.398419843320026 / 17.0),
    ],
)
def test_a_wavelength_unit_in_brackets_or_its_own_field(tmp_path, line, expected):
    p = read_pattern(_write(tmp_path, "w.xy", f"{line}\n10 1\n11 2\n"))
    assert p.wavelength == pytest.approx(expected, rel=1e-12)
    assert p.metadata["wavelength_from"] == "file"


def test_long_whitespace_runs_before_a_unit_read_at_once(tmp_path):
    import time

    for line, lam in (
        ("# Wavelength: 0.15406" + " \t" * 2000 + "(nm)", 1.5406),
        ("Wavelength," + "\t" * 2000 + "0.15406," + " " * 2000 + "nm", 1.5406),
        ("# Energy" + "\t " * 2000 + ": 30" + "\t" * 2000 + "(keV)", 0.41328),
        (
            "# Q" + "\t" * 2000 + "(nm^-1)" + " " * 2000 + "I\n# wavelength 1.5406",
            1.5406,
        ),
    ):
        path = _write(tmp_path, "tabs.xy", line + "\n10 1\n11 2\n")
        start = time.perf_counter()
        p = read_pattern(path)
        assert time.perf_counter() - start < 1.0
        assert p.wavelength == pytest.approx(lam, rel=1e-4)


def test_a_header_line_of_50_000_tabs_reads_at_once(tmp_path):
    import time

    tabs = "\t" * 50_000
    for line in (f"# a{tabs}b", f"# Wavelength{tabs}(nm)", f"# a: 1{tabs}x"):
        path = _write(tmp_path, "t.xy", f"{line}\n# wavelength = 1.5\n10 1\n11 2\n")
        start = time.perf_counter()
        assert read_pattern(path).wavelength == 1.5
        assert time.perf_counter() - start < 1.0  # 15 s before, 4 min at 200,000


# ---------------------------------------------- Rigaku Kα1/Kα2 doublets
@pytest.mark.parametrize(
    "target, ka1, ka2",
    [("Cu", 1.540593, 1.544414), ("Mo", 0.709319, 0.713609)],
)
@pytest.mark.parametrize("ext", ["ras", "rasx"])
def test_rigaku_files_keep_their_kalpha2_line(tmp_path, ext, target, ka1, ka2):
    build = fx.ras if ext == "ras" else fx.rasx
    path = _write(tmp_path, f"a.{ext}", build(target=target, ka1=ka1, ka2=ka2))
    p = read_pattern(path)
    assert p.radiation.wavelengths == (ka1, ka2)
    assert p.radiation.weights == (1.0, 0.5)  # the files state no ratio
    assert p.radiation.name.startswith(f"{target} Kα1/Kα2")
    assert p.wavelength == ka1 and p.metadata["wavelength_from"] == "file"
    # as the XRDML and RAW readers give it
    xrdml = read_pattern(DATA / "tiny.xrdml")
    assert type(p.radiation) is type(xrdml.radiation)
    assert len(xrdml.radiation.wavelengths) == 2
    # a monochromated beam (wave type Kα1): Kα1 alone, as in an XRDML file
    path = _write(
        tmp_path,
        f"m.{ext}",
        build(target=target, ka1=ka1, ka2=ka2, wave_type="Ka1"),
    )
    p = read_pattern(path)
    assert p.radiation is None and p.wavelength == ka1


@pytest.mark.parametrize(
    "wave_type", ["Ka1+Ka2", "Kα1,Kα2", "Ka1/Ka2", "K-Alpha1 + K-Alpha2"]
)
@pytest.mark.parametrize("ext", ["ras", "rasx"])
def test_a_rigaku_wave_type_of_both_kalpha_lines_is_the_doublet(
    tmp_path, ext, wave_type
):
    # "Ka1+Ka2" had been read as a monochromated Kα1 beam
    build = fx.ras if ext == "ras" else fx.rasx
    p = read_pattern(_write(tmp_path, f"d.{ext}", build(wave_type=wave_type)))
    assert p.radiation.wavelengths == (fx.RIGAKU_KA1, fx.RIGAKU_KA2)
    assert p.radiation.weights == (1.0, 0.5)


@pytest.mark.parametrize("wave_type", ["Kb", "Kbeta", "K-beta", "Kβ"])
@pytest.mark.parametrize("ext", ["ras", "rasx"])
def test_a_rigaku_kbeta_wave_type_is_its_kbeta_line(tmp_path, ext, wave_type):
    # not the Kα doublet: the Kβ line the file states, alone
    build = fx.ras if ext == "ras" else fx.rasx
    p = read_pattern(_write(tmp_path, f"b.{ext}", build(wave_type=wave_type)))
    assert p.radiation is None and p.wavelength == 1.39225


# ----------------------------------------- several patterns in one file
@pytest.mark.parametrize("sep", [",", " ", "\t"])
def test_a_third_column_of_another_name_is_read_with_a_warning(tmp_path, sep):
    # it had been refused as several patterns, and with it files whose
    # uncertainty has a name not known (sd, u(I), Noise...); now read as
    # before, with one warning naming the file and the column
    text = "# wavelength = 1.5406\n" + sep.join(["two_theta", "corundum", "rutile"])
    text += "\n" + "\n".join(sep.join(r) for r in (("10", "1", "5"), ("11", "2", "6")))
    path = _write(tmp_path, "two.csv", text + "\n")
    with pytest.warns(UserWarning) as record:
        p = read_pattern(path)
    assert p.intensity.tolist() == [1, 2] and p.uncertainty.tolist() == [5, 6]
    messages = [str(w.message) for w in record if "third column" in str(w.message)]
    assert messages == [
        f"{path}: the third column 'rutile' is read as the uncertainty of the "
        "intensities; a file of several patterns must be split, one pattern per "
        "file"
    ]
    assert record[0].filename == __file__  # the caller's line


@pytest.mark.parametrize(
    "title",
    [
        "# Angle scan data\n# wavelength: 1.5406",
        "# 2theta range 10-80\n# operator: J. Smith",
        "# 2theta scan of quartz\n# wavelength: 1.5406",
    ],
)
def test_a_title_further_up_is_no_names_row_and_warns_nothing(tmp_path, title):
    import warnings

    path = _write(tmp_path, "t.xye", f"{title}\n10 1 5\n11 2 6\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = read_pattern(path, wavelength=1.5406)
    assert p.intensity.tolist() == [1, 2] and p.uncertainty.tolist() == [5, 6]


@pytest.mark.parametrize(
    "title",
    [
        "# Theta-2Theta continuous scan",
        "# 2Theta scan (Cu Ka) quartz",
        "# Sample: quartz\n# 2theta scan, LaB6",
    ],
)
def test_a_title_over_the_data_reads_with_a_warning(tmp_path, title):
    path = _write(tmp_path, "t.xye", f"{title}\n10 1 5\n11 2 6\n")
    with pytest.warns(UserWarning, match="is read as the uncertainty"):
        p = read_pattern(path, wavelength=1.5406)
    assert p.axis == "two_theta" and p.x.tolist() == [10, 11]
    assert p.intensity.tolist() == [1, 2] and p.uncertainty.tolist() == [5, 6]


@pytest.mark.parametrize("count", [2, 3])
def test_a_header_stating_several_patterns_is_refused(tmp_path, count):
    # as skxrd simulate writes one CSV of several CIFs; 3 patterns are 4
    # columns, named as the patterns too rather than as a column count
    names = ",".join(["two_theta"] + [f"p{k}" for k in range(count)])
    rows = "\n".join(",".join([str(x)] + ["1"] * count) for x in (10, 11))
    text = f"# wavelength: 1.5406\n# patterns: {count}\n{names}\n{rows}\n"
    path = _write(tmp_path, "several.csv", text)
    with pytest.raises(PatternFormatError, match="one pattern per file") as info:
        read_pattern(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line 2: the header says the file holds {count}")
    # one pattern, so stated, reads
    one = _write(
        tmp_path, "one.csv", "# patterns: 1\n# wavelength: 1.5406\n10,1\n11,2\n"
    )
    assert read_pattern(one).intensity.tolist() == [1, 2]


@pytest.mark.parametrize(
    "third",
    [
        "sigma",
        "esd",
        "I_err",
        "error",
        "dI",
        "uncertainty",
        "stdev",
        "s(I)",
        "σ(I)",
        "e(y)",
        "sqrt(counts)",
        "err (counts)",
        # refused for a day as not named so
        "sd",
        "SD",
        "u(I)",
        "sI",
        "Ey",
        "CountsSD",
        "Istd",
        "ErrorBar",
        "s",
        "Noise",
        "Counts_error",
    ],
)
def test_a_third_column_named_as_an_uncertainty_is_the_uncertainty(tmp_path, third):
    import warnings

    for sep in (" ", ","):
        names = sep.join(["2theta", "I", third])
        text = f"# wavelength = 1.5406\n{names}\n10{sep}1{sep}5\n11{sep}2{sep}6\n"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # known as an uncertainty: no warning
            p = read_pattern(_write(tmp_path, "e.xye", text))
        assert p.intensity.tolist() == [1, 2] and p.uncertainty.tolist() == [5, 6]


@pytest.mark.parametrize("third", ["Si", "Se", "Er", "Eu", "signal", "ferrite"])
def test_an_element_or_word_is_not_an_uncertainty_name(tmp_path, third):
    # "s" or "e" and a letter name an uncertainty (sI, Ey), not an element
    text = f"# wavelength = 1.5406\n2theta I {third}\n10 1 5\n11 2 6\n"
    with pytest.warns(UserWarning, match=f"third column '{third}'"):
        read_pattern(_write(tmp_path, "e.xye", text))


# ------------------------------------- variances and weights in a third column
def _read_quietly(path, **kwargs):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a known name: no warning
        return read_pattern(path, **kwargs)


@pytest.mark.parametrize(
    "third",
    [
        "var",
        "variance",
        "Var(I)",
        "var [counts^2]",
        "sigma^2",
        "sigma**2",
        "σ²",
        "σ(I)^2",
        "esd^2",
        "s2",
        "sigma2",
    ],
)
@pytest.mark.parametrize("sep", [" ", ","])
def test_a_variance_column_gives_its_square_root(tmp_path, third, sep):
    # it was read as σ itself (a warning for var, nothing for sigma^2)
    names = sep.join(["2theta", "I", third])
    text = f"# wavelength = 1.5406\n{names}\n10{sep}100{sep}4\n11{sep}200{sep}0.25\n"
    p = _read_quietly(_write(tmp_path, "v.xye", text))
    assert p.intensity.tolist() == [100, 200]
    assert p.uncertainty.tolist() == [2.0, 0.5]
    assert p.metadata["uncertainty_converted"] == (
        f"the third column {third!r} holds variances σ²: σ = √(variance)"
    )


@pytest.mark.parametrize(
    "third",
    ["w", "w(I)", "wt", "weight", "Weights", "1/sigma^2", "1/σ²", "1/var", "1/esd**2"],
)
def test_a_weight_column_gives_one_over_its_square_root(tmp_path, third):
    text = f"# wavelength = 1.5406\n2theta I {third}\n10 100 4\n11 200 0.25\n"
    p = _read_quietly(_write(tmp_path, "w.xye", text))
    assert p.uncertainty.tolist() == [0.5, 2.0]
    assert p.metadata["uncertainty_converted"] == (
        f"the third column {third!r} holds weights 1/σ²: σ = 1/√(weight)"
    )


@pytest.mark.parametrize("third", ["1/sigma", "1/esd", "1/σ(I)"])
def test_an_inverse_sigma_column_gives_its_inverse(tmp_path, third):
    text = f"# wavelength = 1.5406\n2theta I {third}\n10 100 4\n11 200 0.25\n"
    p = _read_quietly(_write(tmp_path, "i.xye", text))
    assert p.uncertainty.tolist() == [0.25, 4.0]
    assert "1/σ: σ = 1/value" in p.metadata["uncertainty_converted"]


def test_a_plain_x_names_the_columns_for_a_variance(tmp_path):
    text = "# wavelength = 1.5406\nx,y,var\n10,100,4\n11,200,9\n"
    p = _read_quietly(_write(tmp_path, "x.csv", text))
    assert p.uncertainty.tolist() == [2.0, 3.0]


@pytest.mark.parametrize(
    "names, sep", [("# x y w", " "), ("#x,y,w", ","), ("x y w", " ")]
)
def test_a_plain_x_names_the_columns_also_in_a_comment(tmp_path, names, sep):
    # "x y w" was read as weights, "# x y w" silently as σ itself
    rows = "".join(
        sep.join(r) + "\n" for r in (("10", "100", "4"), ("11", "200", "0.25"))
    )
    text = f"# wavelength = 1.5406\n{names}\n{rows}"
    p = _read_quietly(_write(tmp_path, "x.xy", text))
    assert p.uncertainty.tolist() == [0.5, 2.0]
    assert "weights 1/σ²" in p.metadata["uncertainty_converted"]


@pytest.mark.parametrize("third", ["w", "1/sigma^2", "1/sigma"])
def test_a_zero_weight_is_one_error_naming_file_line_and_value(tmp_path, third):
    # an excluded point: its σ would be infinite, which a Pattern refuses
    text = f"# wavelength = 1.5406\n2theta I {third}\n10 1 4\n11 2 0\n12 3 0\n"
    path = _write(tmp_path, "z.xye", text)
    kind = "1/σ" if third == "1/sigma" else "weight"
    with pytest.raises(PatternFormatError) as info:
        read_pattern(path)
    assert str(info.value) == (
        f"{path}, line 4: {kind} 0 (the third column, {third!r}) is zero: an "
        "excluded point, whose σ would be infinite, which a pattern cannot hold; "
        "remove the line, or give the point a positive value"
    )
    assert info.value.line == 4


@pytest.mark.parametrize(
    "third, kind", [("var", "variance"), ("w", "weight"), ("1/sigma", "1/σ")]
)
def test_a_negative_variance_or_weight_is_refused_naming_the_column(
    tmp_path, third, kind
):
    text = f"# wavelength = 1.5406\n2theta I {third}\n10 1 4\n11 2 -9\n"
    path = _write(tmp_path, "n.xye", text)
    with pytest.raises(PatternFormatError) as info:
        read_pattern(path)
    assert str(info.value) == (
        f"{path}, line 4: {kind} -9 (the third column, {third!r}) is negative"
    )


def test_an_inverse_sigma_too_small_for_a_finite_sigma_is_refused(tmp_path):
    text = "# wavelength = 1.5406\n2theta I 1/sigma\n10 1 4\n11 2 4e-320\n"
    # 1/4e-320 overflows; the value printed is the subnormal float read
    with pytest.raises(PatternFormatError, match=r"line 4: 1/σ \S+ \(the third .* too"):
        read_pattern(_write(tmp_path, "t.xye", text))


def test_a_descending_file_names_its_first_bad_line(tmp_path):
    # the first in the file, not the first after sorting (the last line)
    text = "# wavelength = 1.5406\n12 1 -1\n11 2 1\n10 3 -2\n"
    with pytest.raises(PatternFormatError, match=r"line 2: uncertainty -1 is neg"):
        read_pattern(_write(tmp_path, "d.xye", text))


@pytest.mark.parametrize("names", ["2theta s1 s2", "2theta I W"])
def test_two_series_or_tungsten_are_no_variance_or_weight(tmp_path, names):
    # s1 s2: two patterns; W: tungsten. Read as before, with the warning
    text = f"# wavelength = 1.5406\n{names}\n10 1 4\n11 2 9\n"
    with pytest.warns(UserWarning, match="is read as the uncertainty"):
        p = read_pattern(_write(tmp_path, "s.xye", text))
    assert p.uncertainty.tolist() == [4, 9]
    assert "uncertainty_converted" not in p.metadata


def test_a_converted_uncertainty_is_written_as_sigma_and_reads_back(tmp_path):
    text = "# wavelength = 1.5406\n2theta I var\n10 100 4\n11 200 0.25\n"
    p = read_pattern(_write(tmp_path, "v.xye", text))
    q = read_pattern(write_pattern(p, tmp_path / "out.xye"))
    assert q.uncertainty.tolist() == p.uncertainty.tolist() == [2.0, 0.5]
    assert q.metadata["uncertainty_converted"] == p.metadata["uncertainty_converted"]


def test_write_warns_of_metadata_that_json_changes(tmp_path):
    # tuples came back as lists and int keys as strings, without a word
    meta = {"range": (5.0, 90.0), 7: "seven", "nested": {"a": [{2: None}]}}
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength=1.0, metadata=meta)
    with pytest.warns(UserWarning) as record:
        path = write_pattern(p, tmp_path / "p.xy")
    text = " ".join(str(w.message) for w in record)
    assert "'range' (a tuple is read back as a list)" in text
    assert "7 (the key 7 is read back as the string '7')" in text
    assert "'nested' (the key 2 is read back as the string '2')" in text
    got = read_pattern(path).metadata
    assert got["range"] == [5.0, 90.0] and got["7"] == "seven"
    assert got["nested"] == {"a": [{"2": None}]}
    # what JSON keeps as it is gives no warning
    plain = {"a": [1, 2.5, None, True, "ü\n\"'"], "b": {"c": {}}, "d": 10**30}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = write_pattern(
            Pattern([10.0, 20.0], [1.0, 2.0], wavelength=1.0, metadata=plain),
            tmp_path / "plain.xy",
        )
    assert {k: v for k, v in read_pattern(path).metadata.items() if k in plain} == plain


_ODD_TEXT = [
    "a",
    "ü",
    "名前",
    "x\ny",
    'q"',
    "'s",
    "\u2028",
    "\x85",
    "\x1c",
    "\x0b",
    "\r",
    "# c",
    "\t",
    "",
    " ",
    "\\",
    ",",
    "1e5",
    "🙂",
    "key: v",
]


def _odd_text(rng):
    return "".join(rng.choice(_ODD_TEXT) for _ in range(rng.integers(0, 4)))


def _odd_value(rng, depth=0):
    kind = rng.integers(0, 7 if depth < 3 else 5)
    if kind == 0:
        return _odd_text(rng)
    if kind == 1:
        return [int(rng.integers(-(10**18), 10**18)), 10**30][rng.integers(0, 2)]
    if kind == 2:
        return float(rng.choice([0.1, -0.0, 1e308, 5e-324, 1 / 3, -(2.0**60)]))
    if kind == 3:
        return [True, False, None][rng.integers(0, 3)]
    if kind == 4:
        return {}
    if kind == 5:
        return {_odd_text(rng): _odd_value(rng, depth + 1) for _ in range(2)}
    return [_odd_value(rng, depth + 1) for _ in range(rng.integers(0, 3))]


@pytest.mark.parametrize("seed", range(4))
def test_write_read_round_trip_of_random_patterns(tmp_path, seed):
    # every format, random grids and radiations, float32/float64, huge, tiny
    # and negative intensities, odd names and nested metadata: all come back
    from skxrd.utils._radiation import XRAY_LINES

    rng = np.random.default_rng(seed)
    for trial in range(15):
        axis = ["two_theta", "q"][rng.integers(0, 2)]
        choice = rng.integers(0, 4)
        radiation = [
            lambda: get_radiation(str(rng.choice(list(XRAY_LINES)))),
            lambda: get_radiation("xray", float(rng.uniform(0.1, 5))),
            lambda: get_radiation("neutron", float(rng.uniform(0.5, 5))),
            lambda: None,
        ][choice]()
        lam = radiation.wavelength if radiation else float(rng.uniform(0.1, 5))
        top = 180.0 if axis == "two_theta" else 4 * np.pi / lam
        x = np.unique(rng.uniform(0, top, int(rng.integers(2, 40))))
        scale = float(rng.choice([1e-300, 1e-5, 1.0, 1e5, 1e300]))
        y = rng.normal(size=len(x)) * scale
        if rng.integers(0, 2) and scale < 1e30:
            y = y.astype(np.float32)
        sigma = np.abs(rng.normal(size=len(x))) * scale if rng.integers(0, 2) else None
        p = Pattern(
            x,
            y,
            axis=axis,
            radiation=radiation,
            wavelength=None if radiation else lam,
            uncertainty=sigma,
            name=_odd_text(rng) if rng.integers(0, 3) else None,
            metadata={_odd_text(rng): _odd_value(rng) for _ in range(3)},
        )
        for ext in (".xy", ".xye", ".csv", ".dat"):
            if ext == ".xye" and sigma is None:
                with pytest.raises(ValueError, match="xye format has an uncertainty"):
                    write_pattern(p, tmp_path / f"{trial}{ext}")
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                path = write_pattern(p, tmp_path / f"{trial}{ext}")
            _same(p, read_pattern(path))


# ------------------------------------------------ UXD, GSAS raw and UDF text
_UXD_HEAD = "_FILEVERSION=1\n_WL1=1.540600\n_DRIVE='COUPLED'\n"


def test_uxd_fixture_two_ranges_and_its_wavelengths(tmp_path):
    p = read_pattern(DATA / "tiny.uxd")
    np.testing.assert_allclose(p.x, fx.TWO_THETA, atol=1e-9)
    np.testing.assert_array_equal(p.intensity, fx.COUNTS)
    assert p.uncertainty is None  # counts, as the text reader gives them
    assert p.radiation.wavelengths == (fx.CU_KA1, fx.CU_KA2)
    assert p.radiation.weights == (1.0, fx.CU_RATIO)
    m = p.metadata
    assert m["format"] == "bruker_uxd" and m["sample_name"] == "tiny peak"
    assert [r["points"] for r in m["ranges"]] == [11, 10]
    assert m["intensity_unit"] == "counts" and m["scan_type"] == "COUPLED"
    assert m["uxd_header"]["ANODE"] == "Cu" and m["time_per_step_s"] == 1.0
    # the content decides: a UXD file named .txt is UXD
    q = read_pattern(_write(tmp_path, "scan.txt", (DATA / "tiny.uxd").read_bytes()))
    assert q.metadata["format"] == "bruker_uxd" and len(q) == 21
    # no _DRIVE: the file header holds the scan's start and step
    text = "_WL1=1.5406\n_START=10\n_STEPSIZE=0.5\n_COUNTS\n1 2\n"
    assert read_pattern(_write(tmp_path, "v1.uxd", text)).x.tolist() == [10, 10.5]


@pytest.mark.parametrize(
    "lines, expected",
    [
        ("_WL1=0.709300\n_WL2=0.713590\n_WLRATIO=0.5\n", ((0.7093, 0.71359), 0.5)),
        ("_WL1=1.540600\n_WL2=1.544390\n_WLRATIO=0\n", ((1.5406,), None)),
        ("_ANODE='Mo'\n", (get_radiation("MoKa").wavelengths, 0.5)),
        ("_WL_UNIT='nm'\n_WL1=0.15406\n", ((1.5406,), None)),
    ],
)
def test_uxd_wavelength_lines_ratio_and_anode(tmp_path, lines, expected):
    text = lines + "_DRIVE='2THETA'\n_START=10\n_STEPSIZE=0.5\n_CPS\n1.5 2.5 3.5\n"
    p = read_pattern(_write(tmp_path, "a.uxd", text))
    lines = p.radiation.wavelengths if p.radiation else (p.wavelength,)
    np.testing.assert_allclose(lines, expected[0])
    if expected[1] is not None:
        assert p.radiation.weights == (1.0, expected[1])
    assert p.x.tolist() == [10.0, 10.5, 11.0] and p.intensity.tolist() == [
        1.5,
        2.5,
        3.5,
    ]
    assert p.metadata["intensity_unit"] == "cps"


def test_uxd_peak_list_is_passed_over_and_a_lone_peak_list_is_refused(tmp_path):
    text = _UXD_HEAD + "_START=10\n_STEPSIZE=1\n_COUNTS\n5 6\n_2THETA-I\n10.0 100\n"
    p = read_pattern(_write(tmp_path, "a.uxd", text))
    assert p.intensity.tolist() == [5.0, 6.0]
    text = _UXD_HEAD + "_D-I\n3.5 100\n_DRIVE='COUPLED'\n_START=10\n_STEPSIZE=1\n"
    p = read_pattern(_write(tmp_path, "b.uxd", text + "_COUNTS\n5 6\n"))
    assert len(p) == 2 and p.metadata["peak_lists_passed_over"] == [3]
    with pytest.raises(PatternFormatError, match="no scan.*a peak list, not a scan"):
        read_pattern(_write(tmp_path, "c.uxd", _UXD_HEAD + "_D-I\n3.5 100\n"))


def test_uxd_and_udf_wavelengths_out_of_range_matter_only_without_a_callers(
    tmp_path,
):
    uxd = _write(tmp_path, "w.uxd", fx.uxd().replace(b"_WL1=1.540598", b"_WL1=99"))
    udf = _write(
        tmp_path,
        "w.udf",
        fx.udf().replace(b"LabdaAlpha1,   1.540598", b"LabdaAlpha1,99"),
    )
    for path, line in ((uxd, 5), (udf, 4)):
        with pytest.raises(PatternFormatError, match=f"line {line}: .*99 Å is not an"):
            read_pattern(path)
        assert read_pattern(path, wavelength="CuKa1").wavelength == pytest.approx(
            1.5405929
        )
    # a range's own wavelength stands in for a missing _WL1
    text = "_DRIVE='COUPLED'\n_RANGE_WL=0.7093\n_START=10\n_STEPSIZE=1\n_COUNTS\n1 2\n"
    assert read_pattern(_write(tmp_path, "r.uxd", text)).wavelength == 0.7093


@pytest.mark.parametrize(
    "body, match",
    [
        ("_START=10\n_COUNTS\n1 2 3\n", "line 5: the scan states no step size"),
        ("_STEPSIZE=0.1\n_COUNTS\n1 2 3\n", "line 4: the scan states no start"),
        ("_START=10\n_STEPSIZE=0\n_COUNTS\n1 2\n", "line 5: .*step of 0; it must be"),
        ("_START=10\n_STEPSIZE=-0.1\n_COUNTS\n1 2\n", "line 5: .*step of -0.1"),
        ("_START=10\n_STEPSIZE=abc\n_COUNTS\n1 2\n", "line 5: _STEPSIZE 'abc' is not"),
        ("_START=10\n_STEPSIZE=nan\n_COUNTS\n1 2\n", "line 5: _STEPSIZE 'nan': NaN"),
        ("_START=10\n_STEPSIZE=0.1\n_COUNTS\n1 x2 3\n", "line 7: 'x2' is not a number"),
        ("_START=10\n_STEPSIZE=0.1\n_COUNTS\n1 nan 3\n", "line 7: 'nan': NaN"),
        ("_START=10\n_STEPSIZE=0.1\n_COUNTS\n", "line 6: .*no numbers.*truncated"),
        ("_2THETACOUNTS\n10 1\n10.1 2\n10.2\n", "line 7: .*an x without its intensity"),
        ("_2THETACOUNTS\n10 1\n10 2\n", "line 6: x = 10 repeats"),
        ("_START=10\n_STEPSIZE=1\n_STEPCOUNT=4\n_COUNTS\n1 2 3\n", "line 8: .*says 4"),
        (
            "_2THETACOUNTS\n10.00 100\n10.02 120\n10.0",
            "line 7: .*no line break and its last number '10.0' has fewer digits",
        ),
        ("10 1\n", "line 4: '10 1': numbers before a data keyword"),
        ("_START=10\n_STEPSIZE=1\n", "line 3: the scan .*has no data keyword"),
        (
            "_START=10\n_STEPSIZE=1\n_COUNTS\n1 2\n"
            "_DRIVE='COUPLED'\n_START=10.5\n_STEPSIZE=1\n_COUNTS\n3 4\n",
            "ranges 1 .* and 2 .* overlap",
        ),
        ("_2THETACOUNTS\n179 1\n181 2\n", r"line 6: 2θ = 181 is outside \[0, 180\]"),
        (
            "_START=10\n_STEPSIZE=1\n_TWOCOUNTS\n1 2\n",
            "line 6: '_TWOCOUNTS' is neither",
        ),
    ],
)
def test_uxd_errors_name_file_and_line(tmp_path, body, match):
    path = _write(tmp_path, "bad.uxd", _UXD_HEAD + body)
    with pytest.raises(PatternFormatError, match=match) as info:
        read_pattern(path)
    assert str(info.value).startswith(str(path))


def test_uxd_range_of_another_drive_is_refused(tmp_path):
    with pytest.raises(PatternFormatError, match="line 11: .*drives 'THETA', not 2θ"):
        read_pattern(_write(tmp_path, "t.uxd", fx.uxd(drive="THETA")))
    p = read_pattern(_write(tmp_path, "d.uxd", fx.uxd(drive="DETECTOR")))
    assert len(p) == 21
    with pytest.raises(PatternFormatError, match="2θ; axis='q' does not apply"):
        read_pattern(DATA / "tiny.uxd", axis="q")


def test_uxd_pairs_printed_to_four_digits_lie_on_the_stated_grid(tmp_path):
    # DIFFRAC plus prints the 2θ of _2THETACOUNTS with four significant
    # digits (xylib's sample BT86.UXD: step 0.015592, "10.00", "10.02",
    # "10.03"): the printed steps jitter between 0.01 and 0.02 and, past
    # 100°, repeat ("100.0" twice). The header's _START/_STEPSIZE is the grid.
    step, start = 0.015592, 95.0
    x = start + step * np.arange(600)
    rows = "".join(f"{v:.4g}\t{100 + i % 7}\n" for i, v in enumerate(x))
    head = f"{_UXD_HEAD}_STEPSIZE={step:f}\n_START={start:f}\n_2THETACOUNTS\n"
    p = read_pattern(_write(tmp_path, "g.uxd", head + rows))
    np.testing.assert_allclose(p.x, x, rtol=0, atol=1e-9)
    assert "grid" in p.metadata["x_from_grid"]
    np.testing.assert_array_equal(p.intensity, 100 + np.arange(600) % 7)
    # values that leave the grid by more than their printed rounding are a
    # scan of other steps: kept as printed
    off = x.copy()
    off[10] += 0.004
    rows = "".join(f"{v:.3f}\t{100 + i % 7}\n" for i, v in enumerate(off))
    p = read_pattern(_write(tmp_path, "o.uxd", head + rows))
    np.testing.assert_allclose(p.x, np.round(off, 3), rtol=0, atol=1e-9)
    assert "x_from_grid" not in p.metadata


@pytest.mark.parametrize("name", ["tiny_std.raw", "tiny_esd.gsa", "tiny_alt.gsa"])
def test_gsas_std_esd_and_alt_banks(name):
    p = read_pattern(DATA / name)
    np.testing.assert_allclose(p.x, fx.TWO_THETA, atol=1e-9)
    m = p.metadata
    assert m["format"] == "gsas_raw" and m["title"] == "tiny peak"
    assert p.wavelength == 1.540598 and m["wavelength_from"] == "file"
    if name == "tiny_std.raw":  # every third count averaged over 2 counters
        np.testing.assert_array_equal(p.intensity, fx.COUNTS)
        counters = np.where(np.arange(21) % 3 == 0, 2, 1)
        np.testing.assert_allclose(p.uncertainty, np.sqrt(fx.COUNTS / counters))
        assert m["gsas_type"] == "STD" and "counters" in m["uncertainty_converted"]
    elif name == "tiny_esd.gsa":
        np.testing.assert_array_equal(p.intensity, fx.COUNTS)
        np.testing.assert_allclose(p.uncertainty, np.sqrt(fx.COUNTS), atol=0.006)
    else:  # implied decimals: count / 100 written as count * 100 in F7.4
        np.testing.assert_allclose(p.intensity, fx.COUNTS / 100)
        np.testing.assert_allclose(p.uncertainty, np.sqrt(fx.COUNTS) / 100, atol=6e-4)


def test_gsas_std_plain_counts_free_format_and_no_type(tmp_path):
    fixed = (
        "Si\nBANK 1 12 2 CONS 1000.0 2.0 0 0 STD\n"
        + "".join(f"{c:8d}" for c in range(100, 110))
        + "\n     110     111\n"
    )
    p = read_pattern(_write(tmp_path, "a.gsa", fixed), wavelength="CuKa")
    assert p.uncertainty is None  # plain counts, as the text reader gives them
    np.testing.assert_allclose(p.x, 10 + 0.02 * np.arange(12))
    assert p.intensity.tolist() == list(range(100, 112))
    # whitespace-separated counts, no type (STD), CONST binning
    free = (
        "T  LA= 1.23966\nBANK 1 12 2 CONST 400 1\n"
        + " ".join(str(c) for c in range(20, 30))
        + "\n30 31\n"
    )
    q = read_pattern(_write(tmp_path, "b.gsa", free), wavelength=1.23966)
    np.testing.assert_allclose(q.x, 4 + 0.01 * np.arange(12))
    assert q.intensity.tolist() == list(range(20, 32))
    assert q.metadata["gsas_type"] == "STD"


def test_gsas_raw_may_be_named_raw_and_banks_join(tmp_path):
    two = fx.gsas(counts=fx.COUNTS[:11]).decode() + (
        "BANK 2 3 1 CONS 1200.0 10.0 0 0 ESD\n"
        "    10.0     1.0    20.0     2.0    30.0     3.0\n"
    )
    p = read_pattern(_write(tmp_path, "two.raw", two))
    assert [r["points"] for r in p.metadata["ranges"]] == [11, 3]
    assert p.x[-3:].tolist() == [12.0, 12.1, 12.2]
    with pytest.raises(PatternFormatError, match="promises a Bruker RAW or GSAS raw"):
        read_pattern(_write(tmp_path, "t.raw", "10 1\n11 2\n"))


def test_gsas_banks_with_and_without_uncertainties_join(tmp_path):
    # an STD bank of plain counts (no counter fields) beside an ESD bank was
    # refused ("some banks state uncertainties and others do not"): its
    # counts have σ = √count; an FXY bank states none, so then none is kept
    esd = "BANK 2 3 1 CONS 1200.0 10.0 0 0 ESD\n" + "    10.0     1.0" * 3 + "\n"
    std = "title\nBANK 1 3 1 CONS 1000.0 10.0 0 0 STD\n" + "     100" * 3 + "\n"
    p = read_pattern(_write(tmp_path, "a.gsa", std + esd), wavelength="CuKa1")
    np.testing.assert_allclose(p.uncertainty, [10.0, 10.0, 10.0, 1.0, 1.0, 1.0])
    assert "blank: 1" in p.metadata["uncertainty_converted"]
    fxy = "BANK 3 2 2 CONS 1500.0 10.0 0 0 FXY\n    1500     5.0\n    1510     6.0\n"
    q = read_pattern(_write(tmp_path, "b.gsa", std + esd + fxy), wavelength="CuKa1")
    assert q.uncertainty is None and len(q) == 8
    assert q.metadata["uncertainty_dropped"] == "bank(s) 3 state no uncertainty"
    assert "uncertainty_converted" not in q.metadata


_GSAS_HEAD = "title\n# wavelength 1.5406\n"


@pytest.mark.parametrize(
    "body, match",
    [
        (
            "BANK 1 12 2 CONS 1000 2 0 0 STD\n" + "     100" * 10 + "\n     100\n",
            "line 5: .*not a STD record of 2 point.*12 points, 10 read",
        ),
        (
            "BANK 1 12 2 CONS 1000 2 0 0 STD\n" + "     100" * 10 + "\n",
            "line 4: the bank declares 12 points, its records hold 10.*truncated",
        ),
        (
            "BANK 1 3 1 CONS 1000 2 0 0 STD\n     100     1x0     100\n",
            "line 4: .*not a STD record",
        ),
        (
            "BANK 1 3 1 CONS 1000 2 0 0 STD\n     100     nan     100\n",
            "line 4: NaN and infinite",
        ),
        (
            "BANK 1 3 1 CONS 1000 0 0 0 STD\n     100     100     100\n",
            "line 3: bank 1 has a step of 0",
        ),
        (
            "BANK 1 3 1 CONS 1000\n     100     100     100\n",
            "line 3: .*needs the start and step",
        ),
        (
            "BANK 1 2 1 CONS 1000 2 0 0 ESD\n     100     -10     100      10\n",
            "line 4: a negative esd -10",
        ),
        (
            "BANK 1 3 1 SLOG 1000 2 0 0 STD\n     100     100     100\n",
            "line 3: a GSAS bank of SLOG STD data .*time of flight",
        ),
        ("BANK 1 3 1 RALF 1000 2 0 0 ALT\n", "line 3: a GSAS bank of RALF ALT"),
        (
            "TIME_MAP 1 3 1 TIME_MAP 10\nBANK 1 3 1 TIME_MAP 1 0 0 0 STD\n",
            "line 3: a TIME_MAP: time-of-flight",
        ),
        ("BANK 1 3 1 CONS 1000 2 0 0 XYZ\n", "line 3: a GSAS bank of XYZ data"),
        ("BANK 1 3 1 CONS 1000 2 0 0 STD\n", "line 3: the bank has no data records"),
        ("BANK 1 3 1 CONS 1000 2 0 0 STD\n10 20 3.", "line 4: .*no line break.*'3.'"),
        ("BANK 1 2 2 CONS 1000 2 0 0 FXY\n1000 5\n", "line 4: the bank declares 2"),
        (
            "BANK 1 1 1 CONS 1000 2 0 0 ALT\n    1000  100000.100\n",
            r"line 4: .*first 2θ, 1000 / 3200 = 0.3125°, is not the bank's start 10°",
        ),
    ],
)
def test_gsas_errors_name_file_and_line(tmp_path, body, match):
    path = _write(tmp_path, "bad.gsa", _GSAS_HEAD + body)
    with pytest.raises(PatternFormatError, match=match) as info:
        read_pattern(path)
    assert str(info.value).startswith(str(path))


def test_gsas_fxye_banks_are_still_columns(tmp_path):
    text = "T\nBANK 1 2 2 CONST 1000.0 10.0 0 0 FXYE\n1000 5 1\n1010 6 2\n"
    p = read_pattern(_write(tmp_path, "a.gsa", text), wavelength=1.5406)
    assert p.metadata["format"] == "text" and p.x.tolist() == [10.0, 10.1]
    assert p.uncertainty.tolist() == [1.0, 2.0]


def test_udf_fixture(tmp_path):
    p = read_pattern(DATA / "tiny.udf")
    np.testing.assert_allclose(p.x, fx.TWO_THETA, atol=1e-9)
    np.testing.assert_array_equal(p.intensity, fx.COUNTS)
    assert p.uncertainty is None
    assert p.radiation.wavelengths == (fx.CU_KA1, fx.CU_KA2)
    m = p.metadata
    assert m["format"] == "philips_udf" and m["sample_name"] == "tiny peak"
    assert m["diffractometer"] == "PW1800" and m["anode"] == "Cu"
    q = read_pattern(_write(tmp_path, "scan.dat", (DATA / "tiny.udf").read_bytes()))
    assert q.metadata["format"] == "philips_udf"


@pytest.mark.parametrize(
    "change, match",
    [
        (
            lambda t: t.replace("ScanStepSize,    0.100,/", "ScanStepSize,  0.0,/"),
            "line 9: the header has a step of 0",
        ),
        (
            lambda t: t.replace("ScanStepSize,    0.100,/\r\n", ""),
            "line 8: the header states no step size",
        ),
        (lambda t: t.replace("100/", "100"), "line 14: .*do not end with '/'"),
        (lambda t: t.replace(" 1000,", " 1x00,"), "line 13: '1x00' is not a number"),
        (lambda t: t.replace(" 1000,", " nan,"), "line 13: 'nan': NaN"),
        (
            lambda t: t.replace("  12.0000", "  12.5000"),
            "line 14: .*is 26 points, RawScan holds 21",
        ),
        (
            lambda t: t.replace("Title1,skxrd fixture ,/", "Title1 skxrd"),
            "line 2: 'Title1 skxrd' is not a 'Key, value, /'",
        ),
        (lambda t: t.split("RawScan")[0], "line 10: no RawScan line.*truncated"),
    ],
)
def test_udf_errors_name_file_and_line(tmp_path, change, match):
    text = change(fx.udf().decode())
    path = _write(tmp_path, "bad.udf", text)
    with pytest.raises(PatternFormatError, match=match) as info:
        read_pattern(path)
    assert str(info.value).startswith(str(path))


@pytest.mark.parametrize(
    "name, promised", [("t.uxd", "Bruker UXD"), ("t.udf", "Philips UDF")]
)
def test_uxd_and_udf_extensions_promise_their_format(tmp_path, name, promised):
    with pytest.raises(PatternFormatError, match=f"promises a {promised} file but"):
        read_pattern(_write(tmp_path, name, "10 1\n11 2\n"))
    with pytest.raises(PatternFormatError, match="content is Rigaku RAS"):
        read_pattern(_write(tmp_path, name, (DATA / "tiny.ras").read_bytes()))


def test_uxd_in_utf16_and_with_a_byte_order_mark(tmp_path):
    text = (DATA / "tiny.uxd").read_text()
    for data in (text.encode("utf-16"), b"\xef\xbb\xbf" + text.encode()):
        p = read_pattern(_write(tmp_path, "u.uxd", data))
        assert p.metadata["format"] == "bruker_uxd" and len(p) == 21


# ------------------------------------------------------------- powder CIF
_CIF_HEAD = "data_p\n_diffrn_radiation_wavelength 1.5406\n"


def _cif(loop_tags, rows, head=_CIF_HEAD):
    return head + "loop_\n" + "".join(t + "\n" for t in loop_tags) + rows


def test_pdcif_fixture_structure_and_pattern_blocks():
    p = read_pattern(DATA / "tiny.cif")
    np.testing.assert_allclose(p.x, fx.TWO_THETA, atol=1e-12)
    np.testing.assert_array_equal(p.intensity, fx.COUNTS)
    # the s.u. in parentheses, not 1/√w of the weight column
    np.testing.assert_array_equal(
        p.uncertainty, np.maximum(1, np.round(fx.COUNTS**0.5))
    )
    assert p.radiation.wavelengths == (fx.CU_KA1, fx.CU_KA2)
    assert p.radiation.weights == (1.0, fx.CU_RATIO)
    m = p.metadata
    assert m["format"] == "pdcif" and m["cif_block"] == "tiny_pattern"
    assert m["cif_x"] == "_pd_meas_2theta_scan"
    assert m["cif_intensity"] == "_pd_meas_counts_total"
    assert m["uncertainty_from"] == "s.u. in parentheses"


def test_pdcif_gsas_layout_range_weights_and_missing_values(tmp_path):
    # COD/GSAS layout: 2θ from _pd_meas_2theta_range_*, a '.' in a column
    # that is not read, neutron wavelength, an s.u. with decimals and exponent
    head = (
        "# comment\n#\ndata_1517474\n_diffrn_radiation_probe neutron\n"
        "_diffrn_radiation_wavelength 2.0785(2)\n_pd_instr_location ' ?'\n"
        "_pd_meas_2theta_range_inc 0.05\n_pd_meas_2theta_range_max 1.65\n"
        "_pd_meas_2theta_range_min 1.5\n_pd_proc_2theta_range_min 1.518\n"
        "_pd_proc_2theta_range_max 1.668\n_pd_proc_2theta_range_inc 0.05\n"
    )
    rows = "5540(160) 0.0 .\n4570.5(14) 0.0 829.\n1.2e3(2) 0.0 825.\n900 0.0 821\n"
    text = _cif(
        ["_pd_meas_intensity_total", "_pd_proc_ls_weight", "_pd_calc_intensity_total"],
        rows,
        head,
    )
    p = read_pattern(_write(tmp_path, "gsas.cif", text))
    np.testing.assert_allclose(p.x, [1.5, 1.55, 1.6, 1.65])
    np.testing.assert_array_equal(p.intensity, [5540, 4570.5, 1200, 900])
    assert p.uncertainty is None  # one intensity states no s.u.; weights are 0
    assert p.wavelength == 2.0785 and p.metadata["probe"] == "neutron"
    assert "only 3 of 4" in p.metadata["uncertainty_from"]
    one = _cif(
        ["_pd_meas_intensity_total"], "5540(160)\n4570.5(14)\n1.2e3(2)\n900(30)\n", head
    )
    p = read_pattern(_write(tmp_path, "su.cif", one))
    np.testing.assert_allclose(p.uncertainty, [160, 1.4, 200, 30])
    # processed intensities go with the corrected range
    proc = _cif(["_pd_proc_intensity_total"], "1\n2\n3\n4\n", head)
    p = read_pattern(_write(tmp_path, "proc.cif", proc))
    np.testing.assert_allclose(p.x, [1.518, 1.568, 1.618, 1.668])


def test_pdcif_ddlm_names_su_column_weights_and_calculated_only(tmp_path):
    head = (
        "data_q\nloop_\n_diffrn_radiation_wavelength.id\n"
        "_diffrn_radiation_wavelength.value\n_diffrn_radiation_wavelength.wt\n"
        "a 0.7093 1\nb 0.71359 0.5\n"
    )
    text = _cif(
        [
            "_pd_proc.2theta_corrected",
            "_pd_proc.intensity_total",
            "_pd_proc.intensity_total_su",
        ],
        "12.00 10 1.5\n11.98 20 2.5\n11.96 30 3.5\n",  # descending
        head,
    )
    p = read_pattern(_write(tmp_path, "ddlm.cif", text))
    np.testing.assert_allclose(p.x, [11.96, 11.98, 12.0])
    np.testing.assert_array_equal(p.intensity, [30, 20, 10])
    np.testing.assert_array_equal(p.uncertainty, [3.5, 2.5, 1.5])
    assert p.radiation.wavelengths == (0.7093, 0.71359) and p.metadata["reversed"]
    weights = _cif(
        ["_pd_proc_2theta_corrected", "_pd_proc_intensity_total", "_pd_proc_ls_weight"],
        "10 4 0.25\n11 9 0.04\n",
    )
    p = read_pattern(_write(tmp_path, "w.cif", weights))
    np.testing.assert_allclose(p.uncertainty, [2, 5])
    assert "1/√w" in p.metadata["uncertainty_converted"]
    calc = _cif(
        ["_pd_proc_2theta_corrected", "_pd_calc_intensity_total"], "10 4\n11 9\n"
    )
    p = read_pattern(_write(tmp_path, "calc.cif", calc))
    assert p.metadata["calculated"] and p.intensity.tolist() == [4, 9]
    # content decides: a pdCIF under another extension is still a pdCIF
    assert (
        read_pattern(_write(tmp_path, "calc.txt", calc)).metadata["format"] == "pdcif"
    )


def test_pdcif_wavelength_from_another_block(tmp_path):
    text = (
        "data_instrument\n_diffrn_radiation_wavelength 1.5406\n"
        "data_pattern\nloop_\n_pd_meas_2theta_scan\n_pd_meas_counts_total\n"
        "10 1\n11 2\n"
    )
    p = read_pattern(_write(tmp_path, "two.cif", text))
    assert p.wavelength == 1.5406 and p.metadata["wavelength_block"] == "instrument"
    with pytest.raises(PatternFormatError, match="states no wavelength"):
        read_pattern(_write(tmp_path, "none.cif", text.replace("_diffrn", "_x")))


def test_a_structure_cif_is_no_pattern(tmp_path):
    from skxrd.datasets import EXAMPLE_CRYSTALS, load_example_crystal

    cif = load_example_crystal(sorted(EXAMPLE_CRYSTALS)[0]).to_cif()
    with pytest.raises(
        PatternFormatError,
        match=r"s.cif, line \d+: a CIF of a crystal structure.*"
        r"skxrd.crystal.Crystal.from_cif",
    ):
        read_pattern(_write(tmp_path, "s.cif", cif))


_TT = ["_pd_meas_2theta_scan", "_pd_meas_counts_total"]


@pytest.mark.parametrize(
    "text, match",
    [
        (
            _cif(_TT, "10 1\n11 2\n12\n"),
            r"line 8: the loop .* ends inside a row.*truncated",
        ),
        (
            _cif(_TT, "10 1\n11 x2\n"),
            r"line 7: _pd_meas_counts_total: 'x2' is not a number",
        ),
        (
            _cif(_TT, "10 1\n11 .\n"),
            r"line 7: _pd_meas_counts_total: '.' is a missing value",
        ),
        (
            _cif(_TT, "10 1\n? 3\n"),
            r"line 7: _pd_meas_2theta_scan: '\?' is a missing value",
        ),
        (_cif(_TT, "10 1\n11 nan\n"), r"line 7: .*'nan' is not a number"),
        (_cif(_TT, "10 1\n11 1e999\n"), r"line 7: .*not a finite number"),
        (_cif(_TT, "10 1\n11 '2'\n"), r"line 7: .*'2' is not a number"),
        (_cif(_TT, "10 1\n10 2\n"), r"line 7: x = 10 repeats"),
        (_cif(_TT, "10 1\n"), r"\b1 data point"),
        (
            _cif(["_pd_meas_counts_total"], "1\n2\n"),
            r"line 3: no 2θ for the intensities",
        ),
        (
            _cif(["_pd_meas_time_of_flight", "_pd_meas_counts_total"], "1 1\n2 2\n"),
            r"line 3: the pattern's x is time of flight .* not supported",
        ),
        (
            _CIF_HEAD + "_pd_meas_2theta_range_min 10\n_pd_meas_2theta_range_max 12\n"
            "_pd_meas_2theta_range_inc 1\nloop_\n_pd_meas_counts_total\n1\n2\n",
            r"line 9: .*give 3 points .* holds 2: the file is truncated",
        ),
        (
            _CIF_HEAD + "_pd_meas_2theta_range_min 10\n_pd_meas_2theta_range_max 12\n"
            "_pd_meas_2theta_range_inc 0.7\nloop_\n_pd_meas_counts_total\n1\n2\n",
            r"line 5: .*not a whole number of steps",
        ),
        (
            _CIF_HEAD + "_pd_meas_number_of_points 3\n" + _cif(_TT, "10 1\n11 2\n", ""),
            r"line 8: the block states 3 points .* holds 2: the file is truncated",
        ),
        (
            _CIF_HEAD + "_pd_proc_ls_profile_function\n;\ntext\n",
            r"line 4: the text field .* truncated",
        ),
        (
            _CIF_HEAD + "_title 'no end\n" + _cif(_TT, "10 1\n11 2\n", ""),
            r"line 3: the quoted",
        ),
        (_CIF_HEAD + "_pd_block_id\n", r"line 3: _pd_block_id has no value.*truncated"),
        (
            _cif(_TT, "10 1\n11 2\n") + _cif(_TT, "12 1\n13 2\n", "data_r\n"),
            r"line 8: 2 data blocks hold powder patterns; pass block= to "
            r"read_pattern \(--block to skxrd predict, watch and evaluate\) with a "
            r"name \('p' \(line 1\), 'r' \(line 8\)\) or an index from 0 to 1 to "
            r"choose one",
        ),
        (
            "data_s\n_cell_length_a 4\n_title x\n",
            r"line 1: a CIF of a crystal structure",
        ),
        ("data_s\n_title x\n", r"line 1: a CIF without powder data"),
    ],
)
def test_pdcif_errors_name_file_and_line(tmp_path, text, match):
    with pytest.raises(PatternFormatError, match=r"^.*bad.cif[,:] " + match):
        read_pattern(_write(tmp_path, "bad.cif", text))


def test_a_cif_extension_on_other_content_is_refused(tmp_path):
    with pytest.raises(PatternFormatError, match="promises a powder CIF .* is text"):
        read_pattern(_write(tmp_path, "t.cif", "10 1\n11 2\n"))


# ---------------------------------------------------------------- Bruker BRML
def test_brml_fixture():
    p = read_pattern(DATA / "tiny.brml")
    np.testing.assert_allclose(p.x, fx.TWO_THETA, atol=1e-12)
    np.testing.assert_array_equal(p.intensity, fx.COUNTS)
    assert p.radiation.wavelengths == (fx.CU_KA1, fx.CU_KA2)
    assert p.radiation.weights == (1.0, fx.CU_RATIO)
    m = p.metadata
    assert m["format"] == "bruker_brml" and m["anode"] == "Cu"
    assert m["scan_name"] == "Coupled TwoTheta/Theta" and m["time_per_step_s"] == 1


def _brml_views(raw: str) -> str:
    """The fixture with the counts first and 2θ last (as newer DIFFRAC
    versions order them), the Datum values moved to match."""
    for old, new in (
        ('Start="4" Length="1">', 'Start="0" Length="1">'),
        (
            'Start="0" Length="1"\n    LogicName="M',
            'Start="1" Length="1"\n    LogicName="M',
        ),
        (
            'Start="1" Length="1"\n    LogicName="A',
            'Start="2" Length="1"\n    LogicName="A',
        ),
        ('Start="2" Length="2"', 'Start="3" Length="2"'),
    ):
        assert raw.count(old) == 1
        raw = raw.replace(old, new)

    def move(m):
        t, a, tt, th, c = m.group(1).split(",")
        return f"<Datum>{c},{t},{a},{tt},{th}</Datum>"

    return re.sub(r"<Datum>([^<]*)</Datum>", move, raw)


def test_brml_columns_come_from_the_data_views(tmp_path):
    raw = _brml_views(fx.brml_raw_data())
    assert "<Datum>100,1,1,10.0000,5.0000</Datum>" in raw
    p = read_pattern(
        _write(tmp_path, "new.brml", fx.brml(members={"Experiment0/RawData0.xml": raw}))
    )
    np.testing.assert_allclose(p.x, fx.TWO_THETA, atol=1e-12)
    np.testing.assert_array_equal(p.intensity, fx.COUNTS)
    # a recorded detector temperature beside the counts is not the pattern
    temperature = (
        '<RawDataView xsi:type="RecordedRawDataView" Start="5" Length="1">'
        '<Recording Category="Temperature" LogicName="DetectorTemperature"/>'
        "</RawDataView></DataViews>"
    )
    raw = fx.brml_raw_data().replace("</DataViews>", temperature)
    raw = raw.replace("</Datum>", ",25.5</Datum>")
    p = read_pattern(
        _write(tmp_path, "t.brml", fx.brml(members={"Experiment0/RawData0.xml": raw}))
    )
    np.testing.assert_array_equal(p.intensity, fx.COUNTS)
    with pytest.raises(PatternFormatError, match="2 detector readings .* not clear"):
        read_pattern(
            _write(
                tmp_path,
                "t2.brml",
                fx.brml(
                    members={
                        "Experiment0/RawData0.xml": raw.replace(
                            'Category="Temperature"', 'Category="Count"'
                        )
                    }
                ),
            )
        )
    # without DataViews: the old layout, accepted because 2θ follows the scan
    old = fx.brml_raw_data(views=False)
    p = read_pattern(
        _write(tmp_path, "old.brml", fx.brml(members={"Experiment0/RawData0.xml": old}))
    )
    np.testing.assert_array_equal(p.intensity, fx.COUNTS)
    assert "checked" in p.metadata["brml_columns"]
    shifted = fx.brml_raw_data(views=False).replace(
        "<Start>10</Start>", "<Start>20</Start>"
    )
    with pytest.raises(
        PatternFormatError, match=r"RawData0.xml: <DataRoute>: .*not named"
    ):
        read_pattern(
            _write(
                tmp_path,
                "odd.brml",
                fx.brml(members={"Experiment0/RawData0.xml": shifted}),
            )
        )


def test_brml_several_scans_are_joined_unless_they_overlap(tmp_path):
    second = fx.brml_raw_data(fx.RANGE2_TWO_THETA, fx.RANGE2_COUNTS)
    members = {
        "Experiment0/RawData0.xml": fx.brml_raw_data(),
        "Experiment0/RawData1.xml": second,
    }
    p = read_pattern(_write(tmp_path, "two.brml", fx.brml(members=members)))
    np.testing.assert_allclose(p.x, np.r_[fx.TWO_THETA, fx.RANGE2_TWO_THETA])
    assert [r["points"] for r in p.metadata["ranges"]] == [21, 5]
    members["Experiment0/RawData1.xml"] = fx.brml_raw_data()
    with pytest.raises(PatternFormatError, match="scans 1 .* and 2 .* overlap"):
        read_pattern(_write(tmp_path, "same.brml", fx.brml(members=members)))


_R0 = "Experiment0/RawData0.xml"


@pytest.mark.parametrize(
    "raw, match",
    [
        (
            fx.brml_raw_data().replace("<Datum>1,1,10.1000", "<Datum>1,1,x10.1"),
            _R0 + r": <Datum> 2: 'x10.1' is not a number",
        ),
        (
            fx.brml_raw_data().replace(
                "<Datum>1,1,10.1000,5.0500,100</Datum>", "<Datum>1,1,10.1</Datum>"
            ),
            _R0 + r": <Datum> 2: 3 values where the first <Datum> has 5: .*truncated",
        ),
        (
            fx.brml_raw_data().replace(
                "<Datum>1,1,10.1000,5.0500,100", "<Datum>1,1,10.1,5.05,nan"
            ),
            _R0 + r": <Datum> 2: NaN or infinite",
        ),
        (
            fx.brml_raw_data().replace(
                'FieldName="TwoTheta" AxisId="TwoTheta"', 'FieldName="Chi" AxisId="Chi"'
            ),
            _R0 + r": <DataViews>: no 2θ among the scan's moving axes",
        ),
        (
            fx.brml_raw_data().replace(
                'Start="4" Length="1"', 'Start="4" Length="1280"'
            ),
            _R0 + r": <DataViews>: .* 1280 values per step: a frame of a position-sens",
        ),
        (
            fx.brml_raw_data().replace("<Datum>", "<Datum>").split("<Datum>")[0]
            + "</DataRoute></DataRoutes></RawData>",
            _R0 + r": no <DataRoute> with <Datum> lines",
        ),
        (
            fx.brml_raw_data()[:-300],
            _R0 + r", line \d+: not well-formed XML \(truncated\?\)",
        ),
        ("<Other/>", _R0 + r": the root element is <Other>"),
    ],
)
def test_brml_errors_name_file_member_and_datum(tmp_path, raw, match):
    data = fx.brml(members={_R0: raw})
    with pytest.raises(PatternFormatError, match=r"^.*bad.brml, " + match):
        read_pattern(_write(tmp_path, "bad.brml", data))


def test_brml_archive_errors(tmp_path):
    with pytest.raises(
        PatternFormatError,
        match=r"e.brml, byte 0: .*without an Experiment0/RawData0.xml",
    ):
        read_pattern(_write(tmp_path, "e.brml", fx.brml(members={})))
    data = (DATA / "tiny.brml").read_bytes()
    with pytest.raises(
        PatternFormatError,
        match=r"t.brml, byte 0: not a readable zip archive \(truncated",
    ):
        read_pattern(_write(tmp_path, "t.brml", data[: len(data) // 2]))
    with pytest.raises(
        PatternFormatError, match="promises a Bruker BRML .* Rigaku RASX"
    ):
        read_pattern(_write(tmp_path, "r.brml", (DATA / "tiny.rasx").read_bytes()))
    with pytest.raises(PatternFormatError, match="promises a Bruker BRML .* is text"):
        read_pattern(_write(tmp_path, "x.brml", "10 1\n11 2\n"))
    with pytest.raises(PatternFormatError, match="unpacked archive is .* MB"):
        read_pattern(_write(tmp_path, "big.brml", data), max_bytes=len(data) + 10)
    # content decides: a .brml renamed .zip is read
    assert (
        read_pattern(_write(tmp_path, "b.zip", data)).metadata["format"]
        == "bruker_brml"
    )


@pytest.mark.parametrize("name", ["tiny.rasx", "tiny.brml"])
def test_a_zip_stating_an_unknown_zip_version_is_a_format_error(tmp_path, name):
    # zipfile raises NotImplementedError for it, which is no PatternFormatError
    data = bytearray((DATA / name).read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 6] = 84  # "version needed to extract": 8.4
    with pytest.raises(PatternFormatError, match=r"byte 0: not a readable zip.*8\.4"):
        read_pattern(_write(tmp_path, name, bytes(data)))


def test_pdcif_metadata_numbers_and_a_wavelength_loop_without_weights(tmp_path):
    head = (
        "data_p\n_pd_meas_step_count_time 2.5(1)\nloop_\n"
        "_diffrn_radiation_wavelength\n1.5406\n1.5444\n"
    )
    text = _cif(_TT, "10 1\n11 2\n", head)
    p = read_pattern(_write(tmp_path, "lw.cif", text))
    assert p.metadata["counting_time_s"] == 2.5
    assert p.wavelength == 1.5406 and p.radiation is None
    assert p.metadata["cif_wavelengths"] == [1.5406, 1.5444]


# --------------------------------------------- a last line without a break
@pytest.mark.parametrize(
    "name",
    ["tiny.uxd", "tiny_std.raw", "tiny_esd.gsa", "tiny.udf", "tiny.cif", "tiny.ras"],
)
def test_text_files_without_a_final_line_break_read_alike(tmp_path, name):
    # a UXD file (or a GSAS bank of numbers between spaces) whose last line
    # had no line break was refused as cut short, though hand-edited files
    # and Windows tools often lack the final break and xylib reads them
    whole = read_pattern(DATA / name)
    data = (DATA / name).read_bytes().rstrip(b"\r\n")
    p = read_pattern(_write(tmp_path, name, data))
    np.testing.assert_array_equal(p.x, whole.x)
    np.testing.assert_array_equal(p.intensity, whole.intensity)


@pytest.mark.parametrize(
    "name, text",
    [
        ("plain.uxd", _UXD_HEAD + "_START=10\n_STEPSIZE=1\n_COUNTS\n1 2 3"),
        (
            "fields.uxd",
            _UXD_HEAD + "_START=10\n_STEPSIZE=1\n_COUNTS\n"
            "     1048      1162       973\n      995      1031      1068",
        ),
        (
            "counted.uxd",
            _UXD_HEAD + "_START=10\n_STEPSIZE=1\n_STEPCOUNT=3\n_COUNTS\n1 2 3",
        ),
        ("pairs.uxd", _UXD_HEAD + "_2THETACOUNTS\n10.00 100\n10.02 12\n10.04 1148"),
        # free layout after a leading space: " 1003" fills 5 characters as a
        # fixed field would, but the lines show no padded fields, and 987 is
        # no cut 9876 (refused: a fifth of such files of counts near 1000)
        (
            "spaced.uxd",
            _UXD_HEAD + "_START=10\n_STEPSIZE=1\n_COUNTS\n 1012 1048 1099\n 1003 987",
        ),
        ("free.gsa", _GSAS_HEAD + "BANK 1 3 1 CONS 1000 2 0 0 STD\n10 20 3"),
        ("fxy.gsa", _GSAS_HEAD + "BANK 1 2 2 CONS 1000 2 0 0 FXY\n1000 5\n1002 6"),
        ("a.xy", "# wavelength 1.5406\n10.00  12.50\n10.02  13.25\n10.04  11.75"),
        ("fortran.xy", "# wavelength 1.5406\n10.0 12.\n10.1 13.\n10.2 14."),
        # written without trailing zeros (str(round(y, 3)), %g, spreadsheets):
        # 7597.930 prints as 7597.93, no cut (refused as one: 4 % of such
        # 8-line files, 0.15 % of 200-line ones)
        (
            "rounded.csv",
            "2theta,intensity\n28.64,1288.125\n28.65,1369.201\n"
            "28.66,1267.466\n28.67,7597.93",
        ),
        ("a.cif", _cif(_TT, "10.00 12(3)\n10.02 13(4)\n10.04 14(4)")),
    ],
)
def test_a_whole_last_line_without_a_break_is_read(tmp_path, name, text):
    p = read_pattern(_write(tmp_path, name, text), wavelength="CuKa")
    assert len(p) >= 2


def test_a_last_line_longer_than_the_layout_tail_is_read(tmp_path):
    # a UXD whose 15,000 counts stand on one line (75 kB) without a final
    # break: the cut check looked at the last 64 kB only, found no whole
    # line in it and failed with IndexError: list index out of range
    counts = np.random.default_rng(0).poisson(1000, 15_000)
    row = " ".join(str(c) for c in counts)
    text = _UXD_HEAD + "_START=5\n_STEPSIZE=0.01\n_COUNTS\n" + row
    p = read_pattern(_write(tmp_path, "one_line.uxd", text))
    np.testing.assert_array_equal(p.intensity, counts)
    # and a cut in it is still seen
    with pytest.raises(PatternFormatError, match=r"line 7: .*'1e' is not a comp"):
        read_pattern(_write(tmp_path, "cut.uxd", text + " 1e"))


@pytest.mark.parametrize(
    "name, text, match",
    [
        # right-justified counts: the last one ends short of its field
        (
            "cut.uxd",
            _UXD_HEAD + "_START=10\n_STEPSIZE=1\n_COUNTS\n"
            "     1048      1162       973\n     1000      1031      1068\n      11",
            r"line 9: the last line has no line break and its last number '11' ends "
            r"at column 8, where the right-justified numbers above it end at column "
            r"9: the file is truncated",
        ),
        # the first row of fields of 9, cut inside its second count
        (
            "row.uxd",
            _UXD_HEAD + "_START=10\n_STEPSIZE=1\n_COUNTS\n      100      10",
            r"line 7: .*'10' ends at column 17, where the 9-character fields of its "
            r"line end at column 18",
        ),
        (
            "point.uxd",
            _UXD_HEAD + "_2THETACOUNTS\n10.00 100\n10.02 120\n10.04 12.",
            r"line 7: .*'12.' ends in a decimal point: the file is truncated",
        ),
        (
            "exp.uxd",
            _UXD_HEAD + "_2THETACOUNTS\n10.00 100\n10.02 120\n10.04 1e",
            r"line 7: .*'1e' is not a complete number: the file is truncated",
        ),
        (
            "count.uxd",
            _UXD_HEAD + "_START=10\n_STEPSIZE=1\n_STEPCOUNT=4\n_COUNTS\n1 2 3",
            r"line 8: the scan: the header says 4 points, the data hold 3",
        ),
        (
            "head.uxd",
            _UXD_HEAD + "_START=10\n_STEPSIZE=1\n_COUNTS",
            r"line 6: the scan: no numbers after the data keyword: the file is trunc",
        ),
        (
            "fxy.gsa",
            _GSAS_HEAD
            + "BANK 1 3 3 CONS 1000 2 0 0 FXY\n1000 5.25\n1002 5.50\n1004 6.2",
            r"line 6: .*'6.2' has fewer digits than the '5.50' style",
        ),
        (
            "a.xy",
            "# wavelength 1.5406\n10.00  12.50\n10.02  13.25\n10.04  11.",
            r"line 4: .*'11.' ends in a decimal point",
        ),
        (
            "a.cif",
            _cif(_TT, "10.00 12(3)\n10.02 13(4)\n10.04 14(4"),
            r"line 8: .*'14\(4' is not a complete number",
        ),
    ],
)
def test_a_last_number_cut_short_is_refused(tmp_path, name, text, match):
    path = _write(tmp_path, name, text)
    with pytest.raises(PatternFormatError, match=match) as info:
        read_pattern(path, wavelength="CuKa")
    assert str(info.value).startswith(str(path))


# ----------------------------------------------------- UXD _2THETACOUNTSTIME
def test_uxd_2thetacountstime_of_one_time_are_counts(tmp_path):
    # (2θ, counts, counting time) triples: refused as an unknown keyword
    text = _UXD_HEAD + "_2THETACOUNTSTIME\n10.00 100 2\n10.02 120 2\n10.04 90 2\n"
    p = read_pattern(_write(tmp_path, "t.uxd", text))
    np.testing.assert_allclose(p.x, [10.0, 10.02, 10.04])
    assert p.intensity.tolist() == [100.0, 120.0, 90.0]
    assert p.uncertainty is None  # as for _COUNTS
    m = p.metadata
    assert m["intensity_unit"] == "counts" and m["time_per_step_s"] == 2.0
    assert "counting_time_s" not in m


def test_uxd_2thetacountstime_of_varying_times_are_count_rates(tmp_path):
    # a variable-counting-time scan: as counts, the pattern would rise with
    # the time; per second it is one pattern
    text = (
        _UXD_HEAD + "_STEPTIME=1\n_2THETACOUNTSTIME\n"
        "10.04 360 4\n10.02 240 2\n10.00 100 1\n"  # descending: reversed
    )
    p = read_pattern(_write(tmp_path, "v.uxd", text))
    np.testing.assert_allclose(p.x, [10.0, 10.02, 10.04])
    assert p.intensity.tolist() == [100.0, 120.0, 90.0]
    m = p.metadata
    assert m["intensity_unit"] == "cps" and m["counting_time_s"] == [1.0, 2.0, 4.0]
    assert "divided by their times" in m["intensity_converted"]
    assert "time_per_step_s" not in m
    # beside a _CPS range they join, beside a _COUNTS range they do not
    cps = "_DRIVE='COUPLED'\n_START=11\n_STEPSIZE=1\n_CPS\n5 6\n"
    q = read_pattern(_write(tmp_path, "c.uxd", text + cps))
    assert q.metadata["counting_time_s"] == [1.0, 2.0, 4.0, None, None]
    assert q.intensity.tolist() == [100.0, 120.0, 90.0, 5.0, 6.0]
    with pytest.raises(PatternFormatError, match="the ranges mix counts"):
        read_pattern(_write(tmp_path, "m.uxd", text + cps.replace("_CPS", "_COUNTS")))


@pytest.mark.parametrize(
    "rows, match",
    [
        ("10.00 100 1\n10.02 120\n", r"line 6: .*an x without its counts and count"),
        ("10.00 100 1\n10.02 120 0\n", r"line 6: .*a counting time of 0 s; it must"),
        ("10.00 100 1\n10.02 120 -1\n", r"line 6: .*a counting time of -1 s"),
    ],
)
def test_uxd_2thetacountstime_errors_name_the_line(tmp_path, rows, match):
    path = _write(tmp_path, "e.uxd", _UXD_HEAD + "_2THETACOUNTSTIME\n" + rows)
    with pytest.raises(PatternFormatError, match=match):
        read_pattern(path)


# ------------------------------------------------ pdCIF of several patterns
_BANKS = (
    "data_global\n_pd_block_id x\n"
    + _cif(_TT, "10 1\n11 2\n", "data_Bank1\n_diffrn_radiation_wavelength 1.5406\n")
    + _cif(
        _TT, "12 3\n13 4\n14 5\n", "data_bank2\n_diffrn_radiation_wavelength 0.7093\n"
    )
)


def test_pdcif_block_chooses_a_pattern_of_several(tmp_path):
    # several pattern blocks (banks, temperatures) were refused: "split the file"
    path = _write(tmp_path, "banks.cif", _BANKS)
    for block in ("bank2", "data_BANK2", 1, np.int64(1)):
        p = read_pattern(path, block=block)
        assert p.intensity.tolist() == [3, 4, 5] and p.wavelength == 0.7093
        assert p.metadata["cif_block"] == "bank2"
    p = read_pattern(path, block=0)
    assert p.intensity.tolist() == [1, 2] and p.wavelength == 1.5406
    assert p.metadata["cif_blocks"] == ["global", "Bank1", "bank2"]
    with pytest.raises(
        PatternFormatError,
        match=r"banks.cif, line 10: 2 data blocks hold powder patterns; pass block= "
        r"to read_pattern \(--block to skxrd predict, watch and evaluate\) with a "
        r"name \('Bank1' \(line 3\), 'bank2' \(line 10\)\) or an index from 0 to 1 "
        r"to choose one",
    ):
        read_pattern(path)
    for block, match in (
        ("global", "no pattern block of that name"),
        (2, "the file holds 2 pattern"),
    ):
        with pytest.raises(PatternFormatError, match=f"block={block!r}: {match}"):
            read_pattern(path, block=block)
    # a single-pattern CIF takes its block's name or 0 too
    one = read_pattern(DATA / "tiny.cif", block="tiny_pattern")
    assert len(one) == len(read_pattern(DATA / "tiny.cif", block=0))


def test_block_is_for_powder_cifs_alone(tmp_path):
    with pytest.raises(PatternFormatError, match=r"block=1 chooses a data block of a "):
        read_pattern(DATA / "tiny.uxd", block=1)
    for bad in (True, 1.0, ["a"]):
        with pytest.raises(TypeError, match="block must be a data block's name"):
            read_pattern(DATA / "tiny.cif", block=bad)


# ------------------------------------------------------------ intensity units
def test_intensity_unit_where_the_format_says_it(tmp_path):
    def unit(path, **kw):
        return read_pattern(path, **kw).metadata.get("intensity_unit")

    assert unit(DATA / "tiny_std.raw") == "counts"  # GSAS STD: counts
    assert unit(DATA / "tiny_esd.gsa") is None  # ESD: any scale
    assert unit(DATA / "tiny.udf") == "counts"  # RawScan
    assert unit(DATA / "tiny.cif") == "counts"  # _pd_meas_counts_total
    meas = ["_pd_meas_2theta_scan", "_pd_meas_intensity_total"]
    for stated, expected in (
        ("", None),
        ("_pd_meas_units_of_intensity 'counts per second'\n", "cps"),
        ("_pd_meas_units_of_intensity counts\n", "counts"),
        ("_pd_meas_units_of_intensity 'arbitrary'\n", None),
    ):
        path = _write(tmp_path, "i.cif", _cif(meas, "10 1\n11 2\n", _CIF_HEAD + stated))
        assert unit(path) == expected
    proc = _cif(["_pd_proc_2theta_corrected", "_pd_proc_intensity_total"], "10 1\n")
    assert unit(_write(tmp_path, "p.cif", proc + "11 2\n")) is None
    assert unit(DATA / "tiny.brml") is None  # its <Recording> states no <Unit>
    raw = fx.brml_raw_data().replace(
        'VisibleName="Lynxeye"/>',
        'VisibleName="Lynxeye"><Unit Base="Counts" Prefix="None"/></Recording>',
    )
    path = _write(
        tmp_path, "u.brml", fx.brml(members={"Experiment0/RawData0.xml": raw})
    )
    assert unit(path) == "counts"


# ------------------------------------------------ wavelengths out of range
def _with_ka1(name, value):
    """The fixture ``name`` stating ``value`` as its Kα1 line."""
    if name == "tiny.xrdml":
        return fx.xrdml().replace(
            f">{fx.CU_KA1}</kAlpha1>".encode(), f">{value}</kAlpha1>".encode()
        )
    if name == "tiny.ras":
        return fx.ras(ka1=value)
    if name == "tiny.rasx":
        return fx.rasx(ka1=value)
    if name == "tiny.brml":
        return fx.brml(
            members={"Experiment0/RawData0.xml": fx.brml_raw_data(ka1=value)}
        )
    return fx.pdcif(wavelength_loop=False).replace(
        f"_diffrn_radiation_wavelength {fx.CU_KA1}".encode(),
        f"_diffrn_radiation_wavelength {value}".encode(),
    )


@pytest.mark.parametrize("value", ["0", "-1.5", "nan", "999"])
@pytest.mark.parametrize(
    "name, where",
    [
        ("tiny.xrdml", r"<usedWavelength>: <kAlpha1>"),
        ("tiny.ras", r"line 6: \*HW_XG_WAVE_LENGTH_ALPHA1"),
        ("tiny.rasx", r"Data0/MesurementConditions0.xml: <WavelengthKalpha1>"),
        ("tiny.brml", r"Experiment0/RawData0.xml: <WaveLengthAlpha1>: <WaveLength"),
        ("tiny.cif", r"line 19: _diffrn_radiation_wavelength"),
    ],
)
def test_a_stated_wavelength_out_of_range_is_named(tmp_path, name, where, value):
    # they went through _radiation_from_lines alone and read as "the file
    # states no wavelength", while UXD and UDF named the bad value
    path = _write(tmp_path, name, _with_ka1(name, value))
    if name == "tiny.cif" and value == "nan":
        # no CIF number: an error of its own, whatever the caller passes
        with pytest.raises(PatternFormatError, match="line 19: .*'nan' is not a"):
            read_pattern(path, wavelength="CuKa1")
        return
    shown = f"{float(value):g}"
    with pytest.raises(
        PatternFormatError,
        match=rf"{name}, {where}.* {re.escape(shown)} Å is not an X-ray or neutron "
        r"wavelength \(0.01–20 Å\); pass wavelength=",
    ):
        read_pattern(path)
    assert read_pattern(path, wavelength="CuKa1").wavelength == pytest.approx(1.5405929)


def test_a_zero_kalpha2_is_kalpha1_alone_and_uxd_udf_name_a_zero_kalpha1(tmp_path):
    # monochromated instruments state Kα2 (or the ratio) as 0: Kα1 alone
    raw = fx.brml_raw_data(ka2=0.0)
    p = read_pattern(
        _write(tmp_path, "m.brml", fx.brml(members={"Experiment0/RawData0.xml": raw}))
    )
    assert p.radiation is None and p.wavelength == fx.CU_KA1
    # a Kα1 of 0 with an anode falls back on the anode's doublet; without
    # one it is named, as any other bad value
    text = "_WL1=0\n_DRIVE='COUPLED'\n_START=10\n_STEPSIZE=1\n_COUNTS\n1 2\n"
    with pytest.raises(PatternFormatError, match=r"line 1: _WL1 0 Å is not an X-ray"):
        read_pattern(_write(tmp_path, "z.uxd", text))
    p = read_pattern(_write(tmp_path, "a.uxd", "_ANODE='Cu'\n" + text))
    assert p.radiation.name == "CuKa"
    udf = fx.udf().replace(b"LabdaAlpha1,   1.540598", b"LabdaAlpha1,0")
    p = read_pattern(_write(tmp_path, "z.udf", udf))
    assert p.radiation.name == "CuKa"  # its Anode, Cu


@pytest.mark.parametrize("build", [fx.raw_v3, fx.raw_v4])
def test_bruker_raw_wavelengths_out_of_range_are_named(tmp_path, build):
    ka1 = struct.pack("<d", fx.CU_KA1)
    data = build()
    at = data.find(ka1, 100)  # the header's (source record's) Kα1
    bad = data.replace(ka1, struct.pack("<d", 999.0))
    path = _write(tmp_path, "bad.raw", bad)
    with pytest.raises(
        PatternFormatError, match=rf"bad.raw, byte {at}: the header's Kα1 999 Å is"
    ):
        read_pattern(path)
    assert read_pattern(path, wavelength="CuKa1").wavelength == pytest.approx(1.5405929)
    # Kα1 left 0 (unset): the range's wavelength, named when it is no beam's
    zero = bad[:at] + struct.pack("<d", 0.0) + bad[at + 8 :]
    used = zero.find(struct.pack("<d", 999.0))
    with pytest.raises(
        PatternFormatError, match=rf"byte {used}: the range's wavelength 999 Å is"
    ):
        read_pattern(_write(tmp_path, "zero.raw", zero))
    # both unset: the file states none
    none = zero.replace(struct.pack("<d", 999.0), struct.pack("<d", 0.0))
    with pytest.raises(PatternFormatError, match="states no wavelength"):
        read_pattern(_write(tmp_path, "none.raw", none))


# ------------------------------------------------ decimal commas in headers
@pytest.mark.parametrize(
    "name", ["tiny.xrdml", "tiny.ras", "tiny.rasx", "tiny.brml", "tiny.cif"]
)
def test_a_decimal_comma_wavelength_is_read_in_every_instrument_header(tmp_path, name):
    # a European-locale PC writes "1,5406": RAS and RASX read it as "no
    # wavelength", the others refused it
    p = read_pattern(_write(tmp_path, name, _with_ka1(name, "1,5406")))
    assert p.wavelength == 1.5406 and p.metadata["wavelength_from"] == "file"


@pytest.mark.parametrize("value", ["1,5406,1,5444", "1.5406,1.5444", "1,000.5", "x"])
@pytest.mark.parametrize(
    "name, where",
    [
        ("tiny.ras", r"line 6: \*HW_XG_WAVE_LENGTH_ALPHA1"),
        ("tiny.rasx", r"Data0/MesurementConditions0.xml: <WavelengthKalpha1>"),
    ],
)
def test_a_rigaku_wavelength_that_is_no_one_number_is_named(
    tmp_path, name, where, value
):
    # it read as "the file states no wavelength"; never as one number
    path = _write(tmp_path, name, _with_ka1(name, value))
    with pytest.raises(
        PatternFormatError, match=rf"{name}, {where} '{re.escape(value)}' is not a "
    ):
        read_pattern(path)
    assert read_pattern(path, wavelength="CuKa1").wavelength == pytest.approx(1.5405929)


@pytest.mark.parametrize("ext", ["ras", "rasx"])
def test_a_rigaku_kalpha2_that_is_no_number_is_named_not_dropped(tmp_path, ext):
    # it read as a beam of Kα1 alone
    build = fx.ras if ext == "ras" else fx.rasx
    path = _write(tmp_path, f"a.{ext}", build(ka2="1.5444,1.5406"))
    with pytest.raises(
        PatternFormatError, match="WAVE_LENGTH_ALPHA2|WavelengthKalpha2"
    ):
        read_pattern(path)
    p = read_pattern(_write(tmp_path, f"b.{ext}", build(ka1="1,5406", ka2="1,5444")))
    assert p.radiation.wavelengths == (1.5406, 1.5444)


@pytest.mark.parametrize("ext", ["ras", "rasx"])
@pytest.mark.parametrize("ka2", ["-", "abc", "1.5444,1.5406", "n/a"])
@pytest.mark.parametrize("wave_type", ["Ka1", "Kα1", "K-Alpha1"])
def test_a_kalpha1_only_rigaku_file_reads_past_an_unreadable_kalpha2(
    tmp_path, ext, ka2, wave_type
):
    # a monochromated (Kα1-only) beam has no Kα2: its field, left "-" or
    # garbage by the instrument, stopped the reading with "... ALPHA2 '-' is
    # not a number", though the pattern needs Kα1 alone
    build = fx.ras if ext == "ras" else fx.rasx
    p = read_pattern(_write(tmp_path, f"a.{ext}", build(ka2=ka2, wave_type=wave_type)))
    assert p.wavelength == fx.RIGAKU_KA1 and p.radiation is None
    assert "kAlpha2" not in p.metadata
    np.testing.assert_allclose(p.intensity, fx.COUNTS, rtol=1e-12)
    # the same field where the beam has Kα2 ("Ka", "Ka1+Ka2") is still named
    for both in ("Ka", "Ka1+Ka2"):
        path = _write(tmp_path, f"b.{ext}", build(ka2=ka2, wave_type=both))
        with pytest.raises(
            PatternFormatError, match=r"WAVE_LENGTH_ALPHA2|<WavelengthKalpha2>"
        ):
            read_pattern(path)


def test_a_ras_body_of_decimal_commas_reads_as_with_points(tmp_path):
    # "10,0000 100 1,0000" was refused as "'0000 100 1' is not a number"
    text = fx.ras().decode("cp932")
    head, body = text.split("*RAS_INT_START\r\n")
    rows, tail = body.split("*RAS_INT_END")
    comma = head + "*RAS_INT_START\r\n" + rows.replace(".", ",") + "*RAS_INT_END" + tail
    p = read_pattern(_write(tmp_path, "c.ras", comma.encode("cp932")))
    q = read_pattern(DATA / "tiny.ras")
    np.testing.assert_array_equal(p.x, q.x)
    np.testing.assert_array_equal(p.intensity, q.intensity)


def test_uxd_header_decimal_commas_are_read(tmp_path):
    text = (
        "_WL1=1,5406\n_DRIVE='COUPLED'\n_STEPTIME=1,5\n_START=10,0\n"
        "_STEPSIZE=0,5\n_COUNTS\n1 2 3\n"
    )
    p = read_pattern(_write(tmp_path, "a.uxd", text))
    assert p.wavelength == 1.5406 and p.x.tolist() == [10.0, 10.5, 11.0]
    assert p.metadata["time_per_step_s"] == 1.5
    # a count of points is no decimal: 1,000 may be a thousand
    with pytest.raises(PatternFormatError, match="the step count '3,0' is not a"):
        read_pattern(_write(tmp_path, "b.uxd", "_STEPCOUNT=3,0\n" + text))


@pytest.mark.parametrize(
    "rows, line",
    [
        ("_COUNTS\n123,5 124,0 125,5\n", 6),  # read as 6 counts: 123, 5, 124...
        ("_COUNTS\n123 124\n125,5\n", 7),
        # nothing else in the range tells: no _STEPCOUNT, no other commas
        ("_COUNTS\n1048 1162 973\n1048,1162\n", 7),
        # a step count that fits neither reading (6 or 3 points)
        ("_STEPCOUNT=4\n_COUNTS\n123,5 124,0 125,5\n", 7),
        # points elsewhere (commas separate), but 10, 50, 124 is no pair
        ("_2THETACOUNTS\n10.00 123\n10,50 124\n", 7),
    ],
)
def test_uxd_data_with_commas_inside_numbers_are_refused(tmp_path, rows, line):
    text = "_WL1=1.5406\n_DRIVE='COUPLED'\n_START=10\n_STEPSIZE=0.5\n" + rows
    with pytest.raises(
        PatternFormatError,
        match=rf"line {line}: .*a comma inside numbers and no decimal point",
    ):
        read_pattern(_write(tmp_path, "a.uxd", text))


@pytest.mark.parametrize(
    "rows, counts, why",
    [
        # the range's other lines separate numbers with commas
        (
            "_COUNTS\n1048,1162,973\n995,1031,1068\n1048,1162\n",
            [1048, 1162, 973, 995, 1031, 1068, 1048, 1162],
            "line 6 separates numbers with commas",
        ),
        ("_COUNTS\n1048, 1162\n973,995\n", [1048, 1162, 973, 995], "line 6"),
        # the stated number of points
        (
            "_STEPCOUNT=4\n_COUNTS\n1048,1162\n973,995\n",
            [1048, 1162, 973, 995],
            "the header states 4 points",
        ),
        (
            "_STEPCOUNT=3\n_COUNTS\n123,5 124,0 125,5\n",
            [123.5, 124.0, 125.5],
            "the header states 3 points",
        ),
        (
            "_STEPCOUNT=6\n_COUNTS\n123,5 124,0 125,5\n",
            [123, 5, 124, 0, 125, 5],
            "the header states 6 points",
        ),
        # one count is no scan: two counts
        ("_COUNTS\n1048,1162\n", [1048, 1162], "only that reading gives a scan"),
        # decimal points elsewhere in the range: the commas separate
        ("_CPS\n10.5 11.5\n1048,1162\n", [10.5, 11.5, 1048, 1162], "line 6"),
        # (2θ, counts) pairs: only decimal commas give rising 2θ
        (
            "_2THETACOUNTS\n10,00 123,0\n10,50 124,0\n",
            [123.0, 124.0],
            "only that reading gives a scan",
        ),
    ],
)
def test_uxd_commas_inside_numbers_are_read_as_the_range_shows(
    tmp_path, rows, counts, why
):
    # "1048,1162" was refused as "decimal commas or separated numbers?" even
    # where the rest of the range says which
    text = "_WL1=1.5406\n_DRIVE='COUPLED'\n_START=10\n_STEPSIZE=0.5\n" + rows
    p = read_pattern(_write(tmp_path, "a.uxd", text))
    assert p.intensity.tolist() == counts
    assert p.x.tolist() == [10.0 + 0.5 * i for i in range(len(counts))]
    assert why in p.metadata["uxd_commas"][0]
    # the same without a final line break
    q = read_pattern(_write(tmp_path, "b.uxd", text.rstrip("\n")))
    assert q.intensity.tolist() == counts


@pytest.mark.parametrize(
    "rows", ["123,124,125\n", "123, 124, 125\n", "123.0,124 125\n"]
)
def test_uxd_commas_between_numbers_still_separate_them(tmp_path, rows):
    text = "_WL1=1.5406\n_DRIVE='COUPLED'\n_START=10\n_STEPSIZE=0.5\n_COUNTS\n"
    p = read_pattern(_write(tmp_path, "a.uxd", text + rows))
    assert p.intensity.tolist() == [123.0, 124.0, 125.0]


@pytest.mark.parametrize("key", ["_STEPSIZE=0_5", "_START=1_0", "_WL1=1_5406"])
def test_uxd_header_numbers_with_underscores_are_refused(tmp_path, key):
    # float() reads "0_5" as 5: a step of 5° rather than an error
    text = "_WL1=1.5406\n_DRIVE='COUPLED'\n_START=10\n_STEPSIZE=0.5\n_COUNTS\n1 2\n"
    name = key.split("=")[0]
    text = re.sub(rf"^{name}=.*$", key, text, flags=re.M)
    with pytest.raises(PatternFormatError, match=rf"{name} '.*' is not a number"):
        read_pattern(_write(tmp_path, "a.uxd", text))


def test_udf_header_decimal_commas_are_read_and_ambiguous_ones_refused(tmp_path):
    # "LabdaAlpha1, 1,540598, /" split at its commas: a wavelength of 1 Å
    text = fx.udf().decode()
    comma = (
        text.replace("1.540598", "1,540598")
        .replace("1.544426", "1,544426")
        .replace("0.50000", "0,50000")
        .replace("10.0000,  12.0000", "10,0000,  12,0000")
        .replace("0.100", "0,100")
    )
    p = read_pattern(_write(tmp_path, "c.udf", comma))
    q = read_pattern(DATA / "tiny.udf")
    assert p.radiation.wavelengths == q.radiation.wavelengths
    assert p.radiation.weights == q.radiation.weights
    np.testing.assert_allclose(p.x, q.x)
    one = text.replace("1.540598", "1,540598")
    assert read_pattern(_write(tmp_path, "o.udf", one)).wavelength == fx.CU_KA1
    bad = text.replace("1.540598", "1,5406,1")
    with pytest.raises(
        PatternFormatError, match=r"line 4: LabdaAlpha1 states 3 values \(1, 5406, 1\)"
    ):
        read_pattern(_write(tmp_path, "b.udf", bad))


def test_gsas_bank_start_and_step_with_decimal_commas(tmp_path):
    text = fx.gsas().decode().replace("CONS 1000.0 10.0", "CONS 1000,0 10,0")
    p = read_pattern(_write(tmp_path, "a.gsa", text))
    np.testing.assert_allclose(p.x, fx.TWO_THETA, atol=1e-9)


def test_pdcif_wavelength_and_range_with_decimal_commas(tmp_path):
    text = fx.pdcif().decode().replace(f" {fx.CU_KA1} ", " 1,540598(2) ")
    p = read_pattern(_write(tmp_path, "a.cif", text))
    assert p.radiation.wavelengths == (fx.CU_KA1, fx.CU_KA2)
    # data columns keep refusing a comma: CIF has no such number
    bad = text.replace("\n10.000 ", "\n10,000 ", 1)
    assert bad != text
    with pytest.raises(PatternFormatError, match="'10,000' is not a number"):
        read_pattern(_write(tmp_path, "b.cif", bad))


def test_brml_time_per_step_with_a_decimal_comma(tmp_path):
    # "0,5" was dropped without a word
    raw = fx.brml_raw_data().replace("<TimePerStep>1<", "<TimePerStep>0,5<")
    path = _write(
        tmp_path, "a.brml", fx.brml(members={"Experiment0/RawData0.xml": raw})
    )
    assert read_pattern(path).metadata["time_per_step_s"] == 0.5


def test_xrdml_wavelength_units_positions_and_time_with_decimal_commas(tmp_path):
    text = fx.xrdml().decode()
    # a wavelength in nm had been read as that many Å
    nm = text.replace(
        f'<kAlpha1 unit="Angstrom">{fx.CU_KA1}<',
        f'<kAlpha1 unit="nm">{fx.CU_KA1 / 10}<',
    ).replace(
        f'<kAlpha2 unit="Angstrom">{fx.CU_KA2}<',
        f'<kAlpha2 unit="nm">{fx.CU_KA2 / 10}<',
    )
    p = read_pattern(_write(tmp_path, "nm.xrdml", nm))
    np.testing.assert_allclose(p.radiation.wavelengths, (fx.CU_KA1, fx.CU_KA2))
    pm = text.replace('<kAlpha1 unit="Angstrom">', '<kAlpha1 unit="pm">')
    with pytest.raises(PatternFormatError, match=r"<kAlpha1>: a wavelength in 'pm'"):
        read_pattern(_write(tmp_path, "pm.xrdml", pm))
    comma = (
        text.replace("<startPosition>10.0<", "<startPosition>10,0<")
        .replace("<endPosition>12.0<", "<endPosition>12,0<")
        .replace(">0.50</commonCountingTime>", ">0,50</commonCountingTime>")
    )
    assert comma.count(",0<") == 2
    p = read_pattern(_write(tmp_path, "c.xrdml", comma))
    q = read_pattern(DATA / "tiny.xrdml")
    np.testing.assert_allclose(p.x, q.x)
    assert p.metadata["counting_time_s"] == 0.5


def test_uxd_2thetacpstime_is_refused_by_name(tmp_path):
    # no description of its layout was found: refused, naming the keyword
    text = _UXD_HEAD + "_2THETACPSTIME\n10.00 100 2\n10.02 120 2\n"
    with pytest.raises(
        PatternFormatError,
        match=r"line \d+: _2THETACPSTIME: a data keyword that no UXD description",
    ):
        read_pattern(_write(tmp_path, "t.uxd", text))


# -------------------------------------------- structure CIFs for skxrd watch
def test_is_structure_cif_tells_structures_from_powder_data(tmp_path):
    from skxrd.crystal import Crystal
    from skxrd.datasets import load_example_crystal
    from skxrd.io._pdcif import is_structure_cif

    structure = tmp_path / "nacl.cif"
    load_example_crystal("NaCl").to_cif(structure)
    assert Crystal.from_cif(structure) is not None
    assert is_structure_cif(structure)
    assert not is_structure_cif(DATA / "tiny.cif")  # a structure block, then data
    # DDLm names, tags on the loop_ line, comments and CR line ends
    ddlm = (
        "data_p\r# a comment\r\nloop_ _pd_meas.2theta_scan # x\n"
        "_pd_meas.counts_total\n10 1\n11 2\n"
    )
    assert not is_structure_cif(_write(tmp_path, "ddlm.cif", ddlm))
    # an intensity named as an item, not a loop, is no pattern
    item = "data_s\n_cell_length_a 4\n_pd_meas_counts_total 5\n"
    assert is_structure_cif(_write(tmp_path, "item.cif", item))
    # not CIF, or UTF-16: the reader says what it is
    assert not is_structure_cif(_write(tmp_path, "xy.cif", "10 1\n11 2\n"))
    assert not is_structure_cif(
        _write(tmp_path, "u16.cif", (DATA / "tiny.cif").read_text().encode("utf-16"))
    )


def _xrdml_beam(intended, lines):
    children = "".join(f"<{k}{u}>{v}</{k}>" for k, v, u in lines)
    body = (
        '<positions axis="2Theta"><listPositions>10 20 30</listPositions></positions>'
        "<intensities>1 2 3</intensities>"
    )
    return f"""<?xml version="1.0"?>
<xrdMeasurements><xrdMeasurement>
<usedWavelength intended="{intended}">{children}</usedWavelength>
<scan scanAxis="Gonio"><dataPoints>{body}</dataPoints></scan>
</xrdMeasurement></xrdMeasurements>"""


@pytest.mark.parametrize(
    "bad",
    [
        ("kAlpha2", "-", ""),
        ("kAlpha2", "1.5444", ' unit="keV"'),
        ("ratioKAlpha2KAlpha1", "n/a", ""),
        ("kBeta", "?", ""),
    ],
)
def test_a_kalpha1_xrdml_reads_past_an_unreadable_line_it_does_not_use(tmp_path, bad):
    good = {"kAlpha1": "1.5406", "kAlpha2": "1.5444", "kBeta": "1.3922"}
    good["ratioKAlpha2KAlpha1"] = "0.5"
    lines = [(k, v, "") for k, v in good.items() if k != bad[0]] + [bad]
    p = read_pattern(_write(tmp_path, "a.xrdml", _xrdml_beam("K-Alpha 1", lines)))
    assert p.radiation is None and p.wavelength == 1.5406
    assert bad[0] not in p.metadata
    if bad[0] != "kBeta":  # a doublet beam needs its Kα2 and ratio
        path = _write(tmp_path, "b.xrdml", _xrdml_beam("K-Alpha", lines))
        with pytest.raises(PatternFormatError, match=f"<{bad[0]}>"):
            read_pattern(path)
    else:  # which no beam but a Kβ one reads
        p = read_pattern(_write(tmp_path, "b.xrdml", _xrdml_beam("K-Alpha", lines)))
        assert p.radiation.wavelengths == (1.5406, 1.5444)


def test_a_kbeta_xrdml_is_read_at_its_kbeta_wavelength(tmp_path):
    lines = [
        ("kAlpha1", "1.5406", ""),
        ("kAlpha2", "1.5444", ""),
        ("kBeta", "0.139222", ' unit="nm"'),
        ("ratioKAlpha2KAlpha1", "0.5", ""),
    ]
    p = read_pattern(_write(tmp_path, "b.xrdml", _xrdml_beam("K-Beta", lines)))
    assert p.radiation is None and p.wavelength == pytest.approx(1.39222)
    lines[2] = ("kBeta", "x", "")
    with pytest.raises(PatternFormatError, match="<kBeta>"):
        read_pattern(_write(tmp_path, "c.xrdml", _xrdml_beam("K-Beta", lines)))
