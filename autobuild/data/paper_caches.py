"""The paper's own data caches: download from Hugging Face, and read them safely.

The authors publish their caches as the Hugging Face dataset ``kgmills/AutoBuild``
(:data:`PAPER_CACHES`). They are Python pickles, so they are only ever read through
:class:`RestrictedUnpickler`, whose ``find_class`` admits a short whitelist (containers,
numpy scalars/arrays and, for the ONNX-IR cache, the authors' two graph classes mapped onto
our own record classes in :mod:`autobuild.ir`). Anything else, e.g. ``os.system`` or
``builtins.eval``, is refused before it is imported.

Formats (see ``../shared/DATA.md``):

* sequence caches: a list of dicts, ``entry["original config"] = (resolution, [[layer
  strings] per stage])`` plus numeric label keys (``acc``, ``latency_gpu``, ...).
* ONNX-IR cache: a list of dicts with ``entry["graph"]`` (an ``onnx_ir.graph.Graph``) plus labels.

Label policy: a label key that is missing from an entry, or ``None``/NaN there, is kept as
NaN; :meth:`autobuild.datasets.LabelledSet.target` refuses targets with NaN (naming the
count) and ``.defined(...)`` drops those rows with a warning. Structural problems (not a list
of dicts, a missing or malformed ``"original config"``, non-numeric label values, an empty or
truncated file) are refused with an error naming the file and the entry.
"""
from __future__ import annotations

import importlib
import numbers
import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from autobuild._paths import cache_dir
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


def fetch(names=None, dest: Path | None = None, force: bool = False) -> dict[str, Path]:
    """Download paper caches ``names`` (default: all) from ``kgmills/AutoBuild`` into ``dest``."""
    from huggingface_hub import hf_hub_download
    names = list(PAPER_CACHES) if names is None else list(names)
    unknown = [n for n in names if n not in PAPER_CACHES]
    if unknown:
        raise ValueError(f"unknown paper cache(s) {unknown}; known: {sorted(PAPER_CACHES)}")
    dest = Path(dest) if dest is not None else cache_dir()
    dest.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in names:
        filename = PAPER_CACHES[name]
        try:
            path = hf_hub_download(repo_id=HF_REPO_ID, filename=filename, repo_type="dataset",
                                   local_dir=dest, force_download=force)
        except Exception as exc:  # network, auth or missing-file errors all end here
            raise RuntimeError(f"could not download {filename} from the Hugging Face dataset "
                               f"{HF_REPO_ID}: {type(exc).__name__}: {exc}") from exc
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


def _common_globals() -> dict[tuple[str, str], object]:
    scalar = _numpy_global("numpy._core.multiarray.scalar", "numpy.core.multiarray.scalar")
    reconstruct = _numpy_global("numpy._core.multiarray._reconstruct", "numpy.core.multiarray._reconstruct")
    allowed = {
        ("builtins", "set"): set, ("builtins", "frozenset"): frozenset,
        ("builtins", "bytearray"): bytearray, ("builtins", "complex"): complex,
        ("collections", "OrderedDict"): __import__("collections").OrderedDict,
        ("_codecs", "encode"): __import__("codecs").encode,
        ("numpy", "dtype"): np.dtype, ("numpy", "ndarray"): np.ndarray,
    }
    for prefix in ("numpy.core", "numpy._core"):
        allowed[(f"{prefix}.multiarray", "scalar")] = scalar
        allowed[(f"{prefix}.multiarray", "_reconstruct")] = reconstruct
    try:
        allowed[("numpy._core.numeric", "_frombuffer")] = _numpy_global("numpy._core.numeric._frombuffer")
    except ImportError:
        pass
    return allowed


ONNX_IR_CLASSES = {("onnx_ir.graph", "Graph"): OnnxIRGraphRecord, ("onnx_ir.node", "Node"): OnnxIRNodeRecord}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler whose ``find_class`` only returns whitelisted objects.

    ``kind="sequence"``: containers and numpy scalars/arrays. ``kind="onnx_ir"``: also the
    authors' ``onnx_ir.graph.Graph``/``onnx_ir.node.Node``, mapped onto our record classes.
    """

    def __init__(self, file, kind: str = "sequence", source: str = "<pickle>"):
        super().__init__(file)
        if kind not in ("sequence", "onnx_ir"):
            raise ValueError(f"unknown pickle kind {kind!r}; use 'sequence' or 'onnx_ir'")
        self.allowed = _common_globals()
        if kind == "onnx_ir":
            self.allowed.update(ONNX_IR_CLASSES)
        self.source = source

    def find_class(self, module: str, name: str):
        try:
            return self.allowed[(module, name)]
        except KeyError:
            allowed = ", ".join(sorted(f"{m}.{n}" for m, n in self.allowed))
            raise UnsafePickleError(f"{self.source}: refusing to unpickle global '{module}.{name}': only "
                                    f"these are allowed: {allowed}. The file is not a paper cache, or it "
                                    "was tampered with.") from None


def load_pickle(path, kind: str = "sequence"):
    """Unpickle ``path`` with :class:`RestrictedUnpickler`; clear errors for empty/corrupt files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"cache file {path} does not exist")
    if path.stat().st_size == 0:
        raise CacheFormatError(f"cache file {path} is empty (0 bytes); delete it and fetch it again "
                               "(`autobuild data fetch --force`)")
    with open(path, "rb") as f:
        try:
            return RestrictedUnpickler(f, kind, str(path)).load()
        except UnsafePickleError:
            raise
        except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise CacheFormatError(f"cache file {path} is not a readable pickle (truncated or corrupt?): "
                                   f"{type(exc).__name__}: {exc}") from None


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
    return isinstance(v, (numbers.Real, np.number)) and not isinstance(v, (bool, np.bool_))


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
                values[i] = float(v)
                n_numbers += 1
            elif bad is None:
                bad = (i, v)
        if bad is not None and n_numbers:
            i, v = bad
            raise CacheFormatError(f"{path}: label {key!r} of entry {i} is {v!r} ({type(v).__name__}), "
                                   "not a number")
        if bad is None:
            if not isinstance(key, str):
                raise CacheFormatError(f"{path}: label keys must be strings, got {key!r}")
            columns[key] = values
            desc = LABEL_DESCRIPTIONS.get(key, f"label {key!r}")
            provenance[key] = f"{desc}, as stored in {path.name}"
    if not columns:
        raise CacheFormatError(f"{path}: no numeric label keys beside {list(skip)}; expected e.g. "
                               f"{sorted(LABEL_DESCRIPTIONS)}")
    return pd.DataFrame(columns), provenance


def read_sequence_cache(path, space) -> tuple[list, pd.DataFrame, dict[str, str]]:
    """``(archs, labels, provenance)`` of a sequence-format cache of OFA space ``space``."""
    path = Path(path)
    entries = _entries(load_pickle(path, "sequence"), path)
    archs = []
    for i, e in enumerate(entries):
        if CONFIG_KEY not in e:
            raise CacheFormatError(f"{path}: entry {i} has no {CONFIG_KEY!r} key (keys: {sorted(map(str, e))}); "
                                   "not a sequence-format cache")
        try:
            archs.append(space.from_cache_config(e[CONFIG_KEY]))
        except ValueError as exc:
            raise CacheFormatError(f"{path}: entry {i}: {exc}") from None
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
