"""Large files: bounded memory, a size limit the caller can lift, zip bombs."""

import tracemalloc
import zipfile
from io import BytesIO

import numpy as np
import pytest

from skxrd.io import PatternFormatError, read_pattern
from skxrd.io._readers import MAX_PATTERN_BYTES


def _big_text(path, n):
    x = np.linspace(5, 90, n)
    counts = np.random.default_rng(0).poisson(1000, n)
    with open(path, "w") as fh:
        fh.write("# wavelength = 1.5406\n")
        np.savetxt(fh, np.c_[x, counts], fmt=["%.7f", "%d"])
    return x, counts


def test_text_is_read_in_a_few_times_its_size(tmp_path):
    # 200,000 lines (~4 MB). The line-list reader peaked near 40 times the file.
    path = tmp_path / "long.xy"
    x, counts = _big_text(path, 200_000)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        p = read_pattern(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(p.x, x, atol=1e-7)
    np.testing.assert_array_equal(p.intensity, counts)
    assert peak < 8 * size, f"peak {peak / size:.1f} times the file"


def test_files_past_the_limit_are_refused_unless_the_caller_lifts_it(tmp_path):
    path = tmp_path / "scan.xy"
    _big_text(path, 1000)
    size = path.stat().st_size
    with pytest.raises(PatternFormatError, match=r"scan.xy.*max_bytes=None") as info:
        read_pattern(path, max_bytes=size - 1)
    assert "more than a diffractometer writes" in str(info.value)
    assert len(read_pattern(path, max_bytes=None)) == 1000
    assert len(read_pattern(path, max_bytes=size)) == 1000
    assert MAX_PATTERN_BYTES >= 50e6  # real scans are far below: never in the way
    with pytest.raises(ValueError, match="max_bytes"):
        read_pattern(path, max_bytes=0)


def _rasx(profile: bytes) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Data0/Profile0.txt", profile)
    return out.getvalue()


def test_a_rasx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    # 50 MB of one repeated line packs into ~50 kB
    bomb = tmp_path / "bomb.rasx"
    bomb.write_bytes(_rasx(b"10.0\t5\t1.0\r\n" * 4_000_000))
    assert bomb.stat().st_size < 1e6
    tracemalloc.start()
    try:
        with pytest.raises(PatternFormatError, match="unpacked archive is 48.0 MB"):
            read_pattern(bomb, max_bytes=10_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5e6


def test_a_rasx_member_larger_than_it_says_is_an_error(tmp_path):
    # the headers state the sizes that the check above trusts; a forged one
    # lies, and zipfile reads no more than it states, then fails its CRC
    data = bytearray(_rasx(b"10.0\t5\t1.0\r\n" * 400_000))
    with zipfile.ZipFile(BytesIO(bytes(data))) as zf:
        info = zf.getinfo("Data0/Profile0.txt")
    real = info.file_size
    for pos in range(len(data) - 4):  # both headers: local and central
        if int.from_bytes(data[pos : pos + 4], "little") == real:
            data[pos : pos + 4] = (100).to_bytes(4, "little")
    forged = tmp_path / "forged.rasx"
    forged.write_bytes(bytes(data))
    with pytest.raises(PatternFormatError, match="forged.rasx.*cannot read.*CRC"):
        read_pattern(forged, max_bytes=1_000_000)
