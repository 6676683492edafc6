"""Model files read without torch (``skxrd.pretrained._archive``): the same
dictionary as ``torch.load``, and the same refusals as the full loader."""

from __future__ import annotations

import collections
import io
import pickle

import numpy as np
import pytest
import torch

from skxrd.pretrained._archive import UnsupportedDtype, read_archive
from skxrd.pretrained._store import _digest, _read_payload


def _same(got, expected, where="payload"):
    """``got`` (numpy arrays) holds what ``expected`` (tensors) holds."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(got, np.ndarray), where
        assert got.flags.c_contiguous and got.flags.writeable, where
        assert got.shape == tuple(expected.shape), where
        assert got.dtype == expected.numpy().dtype, where
        np.testing.assert_array_equal(got, expected.numpy(), err_msg=where)
    elif isinstance(expected, dict):
        assert type(got) is type(expected) and list(got) == list(expected), where
        for k in expected:
            _same(got[k], expected[k], f"{where}[{k!r}]")
    elif isinstance(expected, (list, tuple)):
        assert type(got) is type(expected) and len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected)):
            _same(g, e, f"{where}[{i}]")
    else:
        assert type(got) is type(expected) and got == expected, where


def _saved(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return buffer


def test_read_archive_reads_what_torch_load_reads():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    state = collections.OrderedDict(
        [("w", torch.randn(3, 2, 5)), ("n", torch.tensor(7))]  # a 0-d tensor
    )
    payload = {
        "format": "x",
        "dtypes": [
            torch.arange(5, dtype=dtype)
            for dtype in (
                torch.float64,
                torch.float32,
                torch.float16,
                torch.int64,
                torch.int32,
                torch.int16,
                torch.int8,
                torch.uint8,
            )
        ]
        + [torch.tensor([True, False])],  # fmt: skip
        "transposed": base.T,  # a strided view
        "sliced": base[1:, ::2],  # an offset into a shared storage
        "whole": base,
        "empty": torch.zeros(0, 3),
        "state": state,
        "plain": (1, 2.5, None, True, "text", [float("inf")], {"k": -1}),
    }
    got = read_archive(_saved(payload))
    _same(got, torch.load(_saved(payload), weights_only=True))
    assert _digest(got) == _digest(payload)  # the checksum reads both alike
    got["whole"][0, 0] = -1.0  # arrays of their own, not views of one storage
    assert got["sliced"][0, 0] == 6.0 and got["transposed"][0, 0] == 0.0


class _RunsCode:
    def __reduce__(self):
        return (print, ("code from a model file ran",))


def test_read_archive_refuses_everything_else(capsys):
    # what weights_only refuses, refused by name; nothing of it runs
    for obj, name in [
        ({"x": np.zeros(3)}, "numpy"),
        ({"x": _RunsCode()}, "print"),
        ({"x": torch.nn.Linear(2, 2)}, "torch.nn"),
    ]:
        with pytest.raises(pickle.UnpicklingError, match=f"GLOBAL {name}"):
            read_archive(_saved(obj))
    assert "ran" not in capsys.readouterr().out
    with pytest.raises(UnsupportedDtype, match="BFloat16Storage"):
        read_archive(_saved({"x": torch.zeros(2, dtype=torch.bfloat16)}))
    with pytest.raises(ValueError, match="no single <name>/data.pkl"):
        import zipfile

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("a.txt", "text")
        read_archive(buffer)


def _write(tmp_path, name, data):
    file = tmp_path / f"{name}.pt"
    file.write_bytes(data)
    return file


def test_read_payload_refuses_as_torch_load_does(tiny, tmp_path, capsys):
    _, _, path = tiny
    data = path.read_bytes()
    payload = torch.load(path, weights_only=True)
    cases = {
        "cut": data[:500],
        "truncated": data[:-100],
        "empty": b"",
        "foreign": _saved({"weights": torch.zeros(3)}).getvalue(),
        "code": _saved({**payload, "x": _RunsCode()}).getvalue(),
        "edited": _saved({**payload, "extra": 1}).getvalue(),  # the checksum
        "not a zip": pickle.dumps({"format": "skxrd-model/1"}),
    }
    # the disk number of the zip64 end locator: zipfile.is_zipfile raises
    at = data.rfind(b"PK\x06\x07") + 4
    cases["end record"] = data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1 :]
    for name, content in cases.items():
        file = _write(tmp_path, name, content)
        with pytest.raises(ValueError) as full:
            _read_payload(file)
        with pytest.raises(ValueError) as light:
            _read_payload(file, arrays=True)
        assert str(light.value) == str(full.value), name
        assert str(light.value).startswith(str(file))
    assert "ran" not in capsys.readouterr().out
    _same(_read_payload(path, arrays=True), _read_payload(path))


def test_a_flipped_bit_never_reads_as_other_contents(tiny, tmp_path):
    """Each flip is an error naming the file, or reads the saved contents:
    the CRCs and the checksum see every changed value. (Python's zip reader
    forgives damage to the central directory that torch's refuses, when the
    contents it reads pass their CRCs.)"""
    _, _, path = tiny
    data = path.read_bytes()
    expected = _read_payload(path)
    errors = 0
    for where in np.random.default_rng(1).integers(len(data), size=40):
        flipped = bytearray(data)
        flipped[where] ^= 0x10
        file = _write(tmp_path, "flipped", bytes(flipped))
        try:
            got = _read_payload(file, arrays=True)
        except ValueError as exc:
            assert str(exc).startswith(str(file))
            errors += 1
            continue
        _same(got, expected, f"flip at {where}")
    assert errors >= 20
