"""Reading pickles that nobody here wrote: :class:`RestrictedUnpickler` and :func:`load_pickle`.

``find_class`` admits a short whitelist (containers, numpy scalars/arrays and, for the ONNX-IR
cache, the authors' two graph classes mapped onto our own record classes in
:mod:`autobuild.graphs.onnx_ir`). Anything else, e.g. ``os.system`` or ``builtins.eval``, is
refused before it is imported. Every allocation a pickle can ask for (bytearrays, array shapes,
numpy scalars, memo indices, counted reads) is bounded by the file's size, so a 32-byte file
cannot make the loader allocate gigabytes (:class:`PickleBoundsError`).
"""
from __future__ import annotations

import importlib
import io
import pickle
import struct
from pathlib import Path

import numpy as np

from autobuild.data.equations import shorten
from autobuild.graphs.onnx_ir import OnnxIRGraphRecord, OnnxIRNodeRecord

class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A pickle asked for a global outside the whitelist."""


class CacheFormatError(ValueError):
    """A cache file that is empty, corrupt, or not in the documented schema."""


class PickleBoundsError(CacheFormatError):
    """A pickle that asks for more memory than a file of its size can hold data for."""


def _numpy_global(*candidates: str):
    for dotted in candidates:
        module, _, name = dotted.rpartition(".")
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"none of {candidates} exists in this numpy")


ONNX_IR_CLASSES = {("onnx_ir.graph", "Graph"): OnnxIRGraphRecord, ("onnx_ir.node", "Node"): OnnxIRNodeRecord}


# Restricted unpickling ----------------------------------------------------------------------
#
# Two guards. ``find_class`` admits only a whitelist of globals, so no payload can run code.
# And every allocation a pickle can ask for is bounded relative to the file's size: a pickle
# can only legitimately hold data that is in the file, so a 32-byte file asking for a 3 GB
# ``bytearray``, a ``(10**12,)``-shaped array or memo slot 2**31 is refused with a message.
# To that end unpickling runs on the pure-Python ``pickle._Unpickler`` (its memo is a dict and
# its opcodes can be checked) over the file's bytes in memory (reads never exceed what is there).

#: Bytes a pickle may allocate through constructors (arrays, bytearrays, numpy scalars), in all,
#: beyond what it holds: ``ALLOC_FACTOR`` times the file size, plus ``ALLOC_SLACK``.
ALLOC_FACTOR = 8
ALLOC_SLACK = 1 << 20


class _Budget:
    """The bytes a pickle of ``size`` bytes may still allocate through constructors."""

    def __init__(self, size: int, source: str):
        self.left = ALLOC_FACTOR * size + ALLOC_SLACK
        self.size, self.source = size, source

    def refuse(self, what: str):
        raise PickleBoundsError(f"{self.source}: refusing to unpickle {what}: a {self.size}-byte file cannot "
                                "hold that much data. The file is not a paper cache, or it was tampered with.")

    def charge(self, nbytes: int, what: str) -> None:
        if nbytes > self.left:
            self.refuse(f"{what} ({nbytes:,} bytes)")
        self.left -= nbytes


def _nbytes(shape, dtype, budget: _Budget, what: str) -> int:
    """Bytes of an array of ``shape`` and ``dtype``, computed exactly (no overflow)."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in shape):
        raise CacheFormatError(f"{budget.source}: {what} has a malformed shape {shorten(repr(shape))}")
    if len(shape) > 64 or any(int(d) < 0 for d in shape):
        raise CacheFormatError(f"{budget.source}: {what} has an impossible shape {shorten(repr(shape))}")
    dtype = np.dtype(dtype)
    count = 1
    for d in shape:
        count *= int(d)
    return count * max(dtype.itemsize, 1)


def _as_dtype(spec, budget: _Budget) -> np.dtype:
    try:
        return np.dtype(spec.decode("latin1") if isinstance(spec, bytes) else spec)
    except (TypeError, ValueError, UnicodeDecodeError) as exc:
        raise CacheFormatError(f"{budget.source}: {shorten(repr(spec))} is not a numpy dtype: {shorten(exc)}") from None


def _guarded_globals(budget: _Budget) -> dict[tuple[str, str], object]:
    """The whitelisted globals, the allocating ones wrapped in size checks."""
    scalar = _numpy_global("numpy._core.multiarray.scalar", "numpy.core.multiarray.scalar")
    reconstruct = _numpy_global("numpy._core.multiarray._reconstruct", "numpy.core.multiarray._reconstruct")

    class _NdarrayClass:  # stands for numpy.ndarray: not a type, so NEWOBJ cannot allocate with it
        def __call__(self, shape, dtype=float, *args):
            if args:
                budget.refuse("numpy.ndarray(...) with a buffer")
            dtype = _as_dtype(dtype, budget)
            budget.charge(_nbytes(shape, dtype, budget, "an array"), f"an array of shape {shorten(repr(shape))}")
            return np.ndarray(shape, dtype)

    ndarray = _NdarrayClass()

    def _reconstruct(cls, shape, dtype):
        if cls is not ndarray:
            raise CacheFormatError(f"{budget.source}: _reconstruct of {shorten(repr(cls))}, not numpy.ndarray")
        dtype = _as_dtype(dtype, budget)
        budget.charge(_nbytes(shape, dtype, budget, "an array"), f"an array of shape {shorten(repr(shape))}")
        return reconstruct(np.ndarray, shape, dtype)

    def _bytearray(*args):
        if len(args) == 1 and isinstance(args[0], (int, np.integer)) and not isinstance(args[0], bool):
            n = int(args[0])
            if n < 0:
                raise CacheFormatError(f"{budget.source}: bytearray of negative size {n}")
            budget.charge(n, "a bytearray")
            return bytearray(n)
        if len(args) == 1 and isinstance(args[0], (bytes, bytearray)) \
                or len(args) == 2 and isinstance(args[0], str) and args[1] in ("latin1", "latin-1"):
            return bytearray(*args)
        if not args:
            return bytearray()
        raise CacheFormatError(f"{budget.source}: bytearray{shorten(repr(args), 60)} is not how a pickle "
                               "stores a bytearray")

    def _encode(obj, encoding="utf-8", errors="strict"):
        # protocol 2 stores bytes as ``_codecs.encode(text, 'latin1')``: nothing else is needed
        if not isinstance(obj, str) or encoding not in ("latin1", "latin-1") or errors != "strict":
            raise CacheFormatError(f"{budget.source}: only _codecs.encode(str, 'latin1') is allowed, not "
                                   f"encoding {shorten(repr(encoding), 40)} of a {type(obj).__name__}")
        return obj.encode("latin1")

    def _scalar(dtype, *args):
        if not isinstance(dtype, np.dtype):
            raise CacheFormatError(f"{budget.source}: numpy scalar of {shorten(repr(dtype))}, not of a dtype")
        budget.charge(dtype.itemsize, "a numpy scalar")
        return scalar(dtype, *args)

    def _bytes(*args):  # protocols 0-2 store b"" as bytes(); anything else is _codecs.encode
        if args:
            raise CacheFormatError(f"{budget.source}: bytes{shorten(repr(args), 60)} is not how a pickle "
                                   "stores bytes")
        return b""

    allowed = {
        ("builtins", "bytes"): _bytes, ("builtins", "set"): set, ("builtins", "frozenset"): frozenset,
        ("builtins", "bytearray"): _bytearray, ("builtins", "complex"): complex,
        ("collections", "OrderedDict"): __import__("collections").OrderedDict,
        ("_codecs", "encode"): _encode,
        ("numpy", "dtype"): np.dtype, ("numpy", "ndarray"): ndarray,
    }
    for prefix in ("numpy.core", "numpy._core"):
        allowed[(f"{prefix}.multiarray", "scalar")] = _scalar
        allowed[(f"{prefix}.multiarray", "_reconstruct")] = _reconstruct
    try:
        # ``_frombuffer(buffer, dtype, shape, order)`` views bytes already read from the file
        allowed[("numpy._core.numeric", "_frombuffer")] = _numpy_global("numpy._core.numeric._frombuffer")
    except ImportError:
        pass
    return allowed


class _Dispatch(dict):
    def __missing__(self, key):
        raise pickle.UnpicklingError(f"invalid pickle opcode {bytes([key])!r}")


class _BoundedReader(io.BytesIO):
    """The file's bytes; a read that asks for more than is left is a truncated file."""

    def read(self, n=-1):
        data = super().read(n)
        if n is not None and n > 0 and len(data) < n:
            raise EOFError(f"the pickle asks for {n:,} bytes at offset {self.tell() - len(data):,} but only "
                           f"{len(data):,} are left (truncated file?)")
        return data


class RestrictedUnpickler(pickle._Unpickler):
    """An unpickler whose ``find_class`` only returns whitelisted objects, and that bounds
    every allocation a pickle can ask for by the size of the file.

    ``kind="sequence"``: containers and numpy scalars/arrays. ``kind="onnx_ir"``: also the
    authors' ``onnx_ir.graph.Graph``/``onnx_ir.node.Node``, mapped onto our record classes.
    ``file`` is a binary file object; it is read into memory first.
    """

    dispatch = _Dispatch(pickle._Unpickler.dispatch)

    def __init__(self, file, kind: str = "sequence", source: str = "<pickle>"):
        if kind not in ("sequence", "onnx_ir"):
            raise ValueError(f"unknown pickle kind {kind!r}; use 'sequence' or 'onnx_ir'")
        data = file.read() if not isinstance(file, (bytes, bytearray)) else bytes(file)
        super().__init__(_BoundedReader(data))
        self.source = source
        self.budget = _Budget(len(data), source)
        self.allowed = _guarded_globals(self.budget)
        if kind == "onnx_ir":
            self.allowed.update(ONNX_IR_CLASSES)

    def find_class(self, module: str, name: str):
        if self.proto < 3 and (module, name) not in self.allowed:  # Python 2 names, as pickle maps them
            import _compat_pickle
            module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        try:
            return self.allowed[(module, name)]
        except (KeyError, TypeError):
            allowed = ", ".join(sorted(f"{m}.{n}" for m, n in self.allowed))
            raise UnsafePickleError(f"{self.source}: refusing to unpickle global "
                                    f"'{shorten(module, 60)}.{shorten(name, 60)}': only "
                                    f"these are allowed: {allowed}. The file is not a paper cache, or it "
                                    "was tampered with.") from None

    def _memo_index(self, i: int) -> None:
        if i > self.budget.size:
            self.budget.refuse(f"memo index {i:,}")

    def load_long_binput(self):
        i, = struct.unpack("<I", self.read(4))
        self._memo_index(i)
        self.memo[i] = self.stack[-1]

    def load_put(self):
        i = int(self.readline()[:-1])
        if i < 0:
            raise pickle.UnpicklingError("negative PUT argument")
        self._memo_index(i)
        self.memo[i] = self.stack[-1]

    def load_build(self):
        inst, state = self.stack[-2], self.stack[-1]
        if isinstance(inst, np.ndarray):
            self._check_array_state(state)
        super().load_build()

    def _check_array_state(self, state) -> None:
        # numpy's ndarray.__setstate__((version, shape, dtype, is_fortran, data)) allocates the
        # shape before it looks at the data, and crashes on an object array with a short list
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise CacheFormatError(f"{self.source}: malformed numpy array state")
        shape, dtype, data = state[-4], state[-3], state[-1]
        if not isinstance(dtype, np.dtype):
            raise CacheFormatError(f"{self.source}: numpy array state without a dtype")
        nbytes = _nbytes(shape, dtype, self.budget, "an array")
        self.budget.charge(nbytes, f"an array of shape {shorten(repr(shape))}")
        count = nbytes // max(dtype.itemsize, 1)
        if dtype.hasobject:
            if not isinstance(data, list) or len(data) != count:
                raise CacheFormatError(f"{self.source}: an object array of shape {shorten(repr(shape))} whose "
                                       "data is not a list of that many items")
        elif not isinstance(data, (bytes, bytearray, str)) or len(data) != nbytes:
            raise CacheFormatError(f"{self.source}: an array of shape {shorten(repr(shape))} and dtype {dtype} "
                                   f"needs {nbytes:,} bytes of data, the pickle holds "
                                   f"{len(data) if hasattr(data, '__len__') else 'none'}")

    dispatch[pickle.LONG_BINPUT[0]] = load_long_binput
    dispatch[pickle.PUT[0]] = load_put
    dispatch[pickle.BUILD[0]] = load_build


def load_pickle(path, kind: str = "sequence"):
    """Unpickle ``path`` with :class:`RestrictedUnpickler`; clear errors for empty, corrupt,
    truncated or oversized files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"cache file {path} does not exist")
    if path.stat().st_size == 0:
        raise CacheFormatError(f"cache file {path} is empty (0 bytes); delete it and fetch it again "
                               "(`autobuild data fetch --force`)")
    with open(path, "rb") as f:
        unpickler = RestrictedUnpickler(f, kind, str(path))
    try:
        return unpickler.load()
    except (CacheFormatError, UnsafePickleError):  # CacheFormatError includes PickleBoundsError
        raise
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, IndexError, KeyError,
            struct.error, OverflowError, RecursionError, MemoryError) as exc:
        raise CacheFormatError(f"cache file {path} is not a readable pickle (truncated or corrupt?): "
                               f"{type(exc).__name__}: {shorten(exc, 200)}") from None
