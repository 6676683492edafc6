"""Model files read with numpy alone: what ``skxrd predict`` loads.

:func:`torch.save` writes a zip archive: ``<name>/data.pkl``, a pickle of the
saved object in which every tensor is a call of
``torch._utils._rebuild_tensor_v2`` on a storage, and one entry
``<name>/data/<key>`` of raw bytes per storage (byte order in
``<name>/byteorder``). A skxrd model file holds only plain values, ordered
dictionaries and tensors (:mod:`._store`), so :func:`read_archive` reads it
into the same dictionary with numpy arrays for the tensors, without importing
torch (1.4-1.8 s of every command-line call on a CPU, more than the rest of
an answer).

Like ``torch.load(weights_only=True)`` it refuses everything else: the
unpickler resolves only the names such a file uses (the storage types of
numpy's dtypes, the tensor rebuilder and :class:`collections.OrderedDict`),
so that loading a file never runs code from it.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile

import numpy as np

__all__ = ["TORCH_DTYPE_NAMES", "UnsupportedDtype", "read_archive"]


class UnsupportedDtype(Exception):
    """A tensor of a dtype numpy lacks (bfloat16...): torch has to read it."""


# torch's storage types and the numpy dtypes of their elements (bfloat16 has
# none: a file with one is the full loader's)
_STORAGES = {
    "DoubleStorage": np.float64,
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}

#: ``str(tensor.dtype)`` of the tensor a numpy array of :func:`read_archive`
#: stands for (the checksum of a model file hashes that name): torch names
#: these dtypes as numpy does
TORCH_DTYPE_NAMES = {
    np.dtype(t): f"torch.{np.dtype(t).name}" for t in _STORAGES.values()
}


class _StorageType:
    """What the pickle's ``torch.FloatStorage`` (and kin) stands for."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)


def _rebuild_tensor(
    storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None
):
    """``torch._utils._rebuild_tensor_v2``: the tensor's elements of its
    storage, as a C-contiguous array of its own."""
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or offset < 0:
        raise pickle.UnpicklingError("a tensor of inconsistent shape")
    if any(n == 0 for n in size):
        return np.zeros(size, storage.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if any(s < 0 for s in stride) or last >= len(storage):
        raise pickle.UnpicklingError("a tensor beyond its storage")
    item = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=size, strides=[s * item for s in stride]
    )
    return np.array(view, copy=True, order="C")


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive, prefix, byteorder):
        super().__init__(file)
        self._archive = archive
        self._prefix = prefix
        self._byteorder = byteorder
        self._storages = {}

    def find_class(self, module, name):
        if module == "torch" and name.endswith("Storage"):
            if name not in _STORAGES:
                raise UnsupportedDtype(f"torch.{name}")
            return _StorageType(_STORAGES[name])
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        # the words of torch's refusal, which the caller quotes
        where = "" if module in ("builtins", "__builtin__") else f"{module}."
        raise pickle.UnpicklingError(f"Unsupported GLOBAL {where}{name}")

    def persistent_load(self, pid):
        if (
            not isinstance(pid, tuple)
            or len(pid) != 5
            or pid[0] != "storage"
            or not isinstance(pid[1], _StorageType)
        ):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r:.80}")
        _, kind, key, _, numel = pid
        if key not in self._storages:
            dtype = kind.dtype.newbyteorder(self._byteorder)
            raw = self._archive.read(f"{self._prefix}/data/{key}")
            if len(raw) != numel * dtype.itemsize:
                raise pickle.UnpicklingError(f"storage {key} has the wrong size")
            self._storages[key] = np.frombuffer(raw, dtype).astype(kind.dtype)
        return self._storages[key]


def read_archive(data):
    """The object of a :func:`torch.save` archive of plain values and tensors,
    with numpy arrays for the tensors.

    Parameters
    ----------
    data : file-like
        The archive's bytes (a :class:`zipfile.ZipFile` can read it).

    Returns
    -------
    object
        What :func:`torch.load` returns with ``weights_only=True``, each
        tensor a C-contiguous :class:`numpy.ndarray` of its dtype.

    Raises
    ------
    pickle.UnpicklingError
        If the archive names anything but plain values, ordered dictionaries
        and tensors, or is inconsistent.
    UnsupportedDtype
        If it holds a tensor of a dtype numpy lacks (bfloat16...).
    ValueError
        If it is not a :func:`torch.save` archive.
    zipfile.BadZipFile, KeyError, EOFError
        If it is damaged.

    Examples
    --------
    >>> import io, torch
    >>> from skxrd.pretrained._archive import read_archive
    >>> buffer = io.BytesIO()
    >>> torch.save({"w": torch.arange(6.0).reshape(2, 3).T, "n": 3}, buffer)
    >>> out = read_archive(buffer)
    >>> out["w"], out["n"]
    (array([[0., 3.],
           [1., 4.],
           [2., 5.]], dtype=float32), 3)
    """
    with zipfile.ZipFile(data) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl")]
        if len(pickles) != 1 or pickles[0].count("/") != 1:
            raise ValueError("not a torch archive: no single <name>/data.pkl")
        prefix = pickles[0][: -len("/data.pkl")]
        byteorder = "little"
        if f"{prefix}/byteorder" in names:
            byteorder = archive.read(f"{prefix}/byteorder").decode().strip()
            if byteorder not in ("little", "big"):
                raise ValueError(f"not a torch archive: byte order {byteorder!r}")
        unpickler = _Unpickler(
            io.BytesIO(archive.read(pickles[0])), archive, prefix, byteorder
        )
        return unpickler.load()
