"""The paper's own data caches: download from Hugging Face, and read them safely.

The authors publish their caches as the Hugging Face dataset ``kgmills/AutoBuild``
(:data:`PAPER_CACHES`). They are Python pickles, so they are only ever read through
:class:`RestrictedUnpickler`, whose ``find_class`` admits a short whitelist (containers,
numpy scalars/arrays and, for the ONNX-IR cache, the authors' two graph classes mapped onto
our own record classes in :mod:`autobuild.graphs.onnx_ir`). Anything else, e.g. ``os.system`` or
``builtins.eval``, is refused before it is imported. Every allocation a pickle can ask for
(bytearrays, array shapes, numpy scalars, memo indices, counted reads) is bounded by the
file's size, so a 32-byte file cannot make the loader allocate gigabytes
(:class:`PickleBoundsError`).

Formats (see ``../shared/DATA.md``):

* sequence caches: a list of dicts, ``entry["original config"] = (resolution, [[layer
  strings] per stage])`` plus numeric label keys (``acc``, ``latency_gpu``, ...).
* ONNX-IR cache: a list of dicts with ``entry["graph"]`` (an ``onnx_ir.graph.Graph``) plus labels.

Label policy: a label key that is missing from an entry, or ``None``/NaN there, is kept as
NaN; :meth:`autobuild.data.LabelledSet.target` refuses targets with NaN (naming the
count) and ``.defined(...)`` drops those rows with a warning. Structural problems (not a list
of dicts, a missing or malformed ``"original config"``, non-numeric label values, an empty or
truncated file) are refused with an error naming the file and the entry.
"""
from __future__ import annotations

import importlib
import io
import math
import numbers
import os
import pickle
import struct
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from autobuild._paths import cache_dir
from autobuild.data.equations import shorten
from autobuild.graphs.ir import IRGraph
from autobuild.graphs.onnx_ir import (
    OnnxIRGraphRecord,
    OnnxIRNodeRecord,
    ir_graph_from_onnx_ir,
)

HF_REPO_ID = "kgmills/AutoBuild"


PAPER_CACHES = {
    "mbv3": "ofa_mbv3_custom_cache.pkl",
    "pn": "ofa_pn_custom_cache.pkl",
    "mbv3_pan_seg": "ofa_mbv3_pan_seg_custom_cache.pkl",
    "pn_pan_seg": "ofa_pn_pan_seg_custom_cache.pkl",
    "mbv3_pn_onnx_ir": "ofa_mbv3_pn_onnx_ir_cache.pkl",
}


CACHE_DESCRIPTIONS = {
    "mbv3": "3k OFA-MBv3 architectures, sequence format, acc + GPU/CPU/NPU latency",
    "pn": "3k OFA-PN architectures, sequence format, acc + GPU/CPU/NPU latency",
    "mbv3_pan_seg": "OFA-MBv3 AIO-P pseudo-labelled panoptic segmentation (pan_seg_PQ, flops_pan_seg)",
    "pn_pan_seg": "OFA-PN AIO-P pseudo-labelled panoptic segmentation (pan_seg_PQ, flops_pan_seg)",
    "mbv3_pn_onnx_ir": "3k OFA-MBv3 + 3k OFA-PN architectures as ONNX-IR op graphs",
}


LABEL_DESCRIPTIONS = {
    "acc": "ImageNet top-1 accuracy (decimal)",
    "latency_gpu": "latency on an RTX 2080 Ti GPU (ms)",
    "latency_cpu": "latency on a Threadripper 2990WX CPU (ms)",
    "latency_npu": "latency on a Kirin 9000 NPU (ms)",
    "flops": "FLOPs of the classification network",
    "n_params": "number of parameters",
    "pan_seg_PQ": "panoptic quality, AIO-P pseudo-label",
    "flops_pan_seg": "FLOPs of the panoptic-segmentation network (AIO-P)",
}


CONFIG_KEY = "original config"


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A pickle asked for a global outside the whitelist."""


class CacheFormatError(ValueError):
    """A cache file that is empty, corrupt, or not in the documented schema."""


class PickleBoundsError(CacheFormatError):
    """A pickle that asks for more memory than a file of its size can hold data for."""


class FetchError(RuntimeError):
    """A paper cache that could not be downloaded (offline, unreachable, missing file)."""


def paper_cache_path(name: str, must_exist: bool = True) -> Path:
    """Local path of paper cache ``name`` (a key of :data:`PAPER_CACHES`)."""
    if name not in PAPER_CACHES:
        raise ValueError(f"unknown paper cache {name!r}; known: {sorted(PAPER_CACHES)}")
    path = cache_dir() / PAPER_CACHES[name]
    if must_exist and not path.is_file():
        raise FileNotFoundError(f"paper cache {PAPER_CACHES[name]} is not in {cache_dir()}; download it with "
                                f"`autobuild data fetch --only {name}` (needs network; set AUTOBUILD_CACHE "
                                "to use another folder)")
    return path


def _check_reachable(timeout: float = 5.0) -> None:
    """Refuse at once when the Hugging Face endpoint cannot be reached (``huggingface_hub``
    would retry for ~25 s first). Skipped behind a proxy, which only the library knows to use."""
    import socket
    import urllib.parse

    from huggingface_hub import constants

    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return
    url = urllib.parse.urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
    except OSError as exc:
        raise FetchError(f"cannot reach {constants.ENDPOINT} ({exc.strerror or exc}); are you offline? The paper's "
                         f"caches are downloaded from the Hugging Face dataset {HF_REPO_ID}; the embedded sets "
                         "(--data embedded) need no network") from None


def fetch(names=None, dest: Path | None = None, force: bool = False) -> dict[str, Path]:
    """Download paper caches ``names`` (default: all) from ``kgmills/AutoBuild`` into ``dest``.

    Raises :class:`FetchError` (a ``RuntimeError``) when a download fails; when the endpoint
    cannot be reached at all, at once.
    """
    from huggingface_hub import hf_hub_download
    names = list(PAPER_CACHES) if names is None else list(names)
    unknown = [n for n in names if n not in PAPER_CACHES]
    if unknown:
        raise ValueError(f"unknown paper cache(s) {unknown}; known: {sorted(PAPER_CACHES)}")
    dest = Path(dest) if dest is not None else cache_dir()
    dest.mkdir(parents=True, exist_ok=True)
    present = not force and all((dest / PAPER_CACHES[n]).is_file() for n in names)
    try:
        _check_reachable()
    except FetchError:
        if not present:
            raise
        warnings.warn(f"{HF_REPO_ID} cannot be reached; using the caches already in {dest} unchecked", stacklevel=2)
        return {n: dest / PAPER_CACHES[n] for n in names}
    out = {}
    for name in names:
        filename = PAPER_CACHES[name]
        try:
            path = hf_hub_download(repo_id=HF_REPO_ID, filename=filename, repo_type="dataset",
                                   local_dir=dest, force_download=force)
        except Exception as exc:  # network, auth or missing-file errors all end here
            raise FetchError(f"could not download {filename} from the Hugging Face dataset "
                             f"{HF_REPO_ID}: {type(exc).__name__}: {shorten(exc, 300)}") from exc
        out[name] = Path(path)
    return out


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


def _entries(obj, path: Path) -> list[dict]:
    if not isinstance(obj, (list, tuple)):
        raise CacheFormatError(f"{path}: a cache must be a list of dicts, got {type(obj).__name__}")
    if not obj:
        raise CacheFormatError(f"{path}: the cache holds no entries")
    for i, e in enumerate(obj):
        if not isinstance(e, dict):
            raise CacheFormatError(f"{path}: entry {i} is a {type(e).__name__}, not a dict")
    return list(obj)


def _is_number(v) -> bool:
    return isinstance(v, (numbers.Real, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def label_frame(entries: list[dict], path: Path, skip: tuple[str, ...]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Numeric label columns of ``entries`` (missing/None -> NaN) and their provenance texts.

    Keys whose values are all non-numeric (metadata) are left out; a key mixing numbers with
    other values is a schema error.
    """
    keys = list(dict.fromkeys(k for e in entries for k in e if k not in skip))
    columns, provenance = {}, {}
    for key in keys:
        values = np.full(len(entries), np.nan)
        n_numbers, bad = 0, None
        for i, e in enumerate(entries):
            v = e.get(key)
            if v is None:
                continue
            if _is_number(v):
                try:
                    values[i] = float(v)
                except OverflowError:
                    raise CacheFormatError(f"{path}: label {shorten(repr(key), 60)} of entry {i} is "
                                           f"{shorten(repr(v), 40)}, too large for a float64") from None
                n_numbers += 1
            elif bad is None:
                bad = (i, v)
        if bad is not None and n_numbers:
            i, v = bad
            raise CacheFormatError(f"{path}: label {shorten(repr(key), 60)} of entry {i} is "
                                   f"{shorten(repr(v), 60)} ({type(v).__name__}), not a number")
        if bad is None:
            if not isinstance(key, str):
                raise CacheFormatError(f"{path}: label keys must be strings, got {shorten(repr(key), 60)}")
            columns[key] = values
            desc = LABEL_DESCRIPTIONS.get(key, f"label {key!r}")
            provenance[key] = f"{desc}, as stored in {path.name}"
    if not columns:
        raise CacheFormatError(f"{path}: no numeric label keys beside {list(skip)}; expected e.g. "
                               f"{sorted(LABEL_DESCRIPTIONS)}")
    return pd.DataFrame(columns), provenance


def _resolution(value, space, path: Path, i: int) -> int:
    """The resolution of entry ``i``: a finite, integer-valued number in ``space.resolutions``
    (``160``, ``160.0`` or ``np.int64(160)``; not ``160.7``, ``inf``, ``[160]`` or ``"160"``)."""
    if not _is_number(value):
        raise CacheFormatError(f"{path}: entry {i}: the resolution of {CONFIG_KEY!r} is "
                               f"{shorten(repr(value), 40)} ({type(value).__name__}), not a number")
    number = float(value) if not isinstance(value, numbers.Integral) else None
    if number is not None and not (math.isfinite(number) and number.is_integer()):
        raise CacheFormatError(f"{path}: entry {i}: the resolution of {CONFIG_KEY!r} is {shorten(repr(value), 40)}, "
                               "not a finite whole number")
    res = int(value)
    allowed = getattr(space, "resolutions", None)
    if allowed is not None and res not in allowed:
        raise CacheFormatError(f"{path}: entry {i}: resolution {res} is not one of {space.name}'s "
                               f"{tuple(allowed)}")
    return res


def read_sequence_cache(path, space) -> tuple[list, pd.DataFrame, dict[str, str]]:
    """``(archs, labels, provenance)`` of a sequence-format cache of OFA space ``space``."""
    path = Path(path)
    entries = _entries(load_pickle(path, "sequence"), path)
    archs = []
    for i, e in enumerate(entries):
        if CONFIG_KEY not in e:
            keys = shorten(sorted(shorten(str(k), 40) for k in e))
            raise CacheFormatError(f"{path}: entry {i} has no {CONFIG_KEY!r} key (keys: {keys}); "
                                   "not a sequence-format cache")
        config = e[CONFIG_KEY]
        if not isinstance(config, (tuple, list)) or len(config) != 2:
            raise CacheFormatError(f"{path}: entry {i}: malformed {CONFIG_KEY!r} {shorten(repr(config))}: "
                                   "expected (resolution, [[layer strings] per stage])")
        res = _resolution(config[0], space, path, i)
        try:
            archs.append(space.from_cache_config((res, config[1])))
        except (ValueError, TypeError, OverflowError, AttributeError) as exc:
            raise CacheFormatError(f"{path}: entry {i}: {shorten(exc, 300)}") from None
    labels, provenance = label_frame(entries, path, skip=(CONFIG_KEY,))
    return archs, labels, provenance


def ir_family(entry: dict, graph: IRGraph) -> str:
    """``"mbv3"`` or ``"pn"`` for an ONNX-IR cache entry.

    From the block type of ``"original config"`` when the entry has one, otherwise from the
    ops: only MBv3 has h-swish/h-sigmoid (``Div``/``HardSwish``/``HardSigmoid`` nodes).
    """
    config = entry.get(CONFIG_KEY)
    if config is not None:
        text = repr(config)
        if "mbconv3" in text:
            return "mbv3"
        if "mbconv2" in text:
            return "pn"
    ops = graph.op_counts()
    return "mbv3" if ops["Div"] or ops["HardSwish"] or ops["HardSigmoid"] else "pn"


def read_onnx_ir_cache(path, progress: bool = True) -> tuple[list[str], list[IRGraph], pd.DataFrame, dict[str, str]]:
    """``(families, graphs, labels, provenance)`` of the paper's ONNX-IR cache."""
    from tqdm.auto import tqdm
    path = Path(path)
    entries = _entries(load_pickle(path, "onnx_ir"), path)
    families, graphs = [], []
    for i, e in enumerate(tqdm(entries, desc=f"ONNX-IR graphs ({path.name})", disable=not progress)):
        if not isinstance(e.get("graph"), OnnxIRGraphRecord):
            raise CacheFormatError(f"{path}: entry {i} has no onnx_ir graph under 'graph'; not an ONNX-IR cache")
        try:
            graph = ir_graph_from_onnx_ir(e["graph"], {"entry": i})
        except (ValueError, TypeError, KeyError) as exc:
            raise CacheFormatError(f"{path}: entry {i}: malformed ONNX-IR graph: {exc}") from None
        graph.metadata["space"] = ir_family(e, graph)
        families.append(graph.metadata["space"])
        graphs.append(graph)
    labels, provenance = label_frame(entries, path, skip=("graph", CONFIG_KEY))
    return families, graphs, labels, provenance
