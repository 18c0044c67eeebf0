"""The formats of the paper's own caches, read into labelled sets.

The caches (:mod:`autobuild.data.fetch` downloads them) are Python pickles, so they are only
ever read through :func:`autobuild.data.safe_pickle.load_pickle`, which runs no code and
allocates no more than the file can hold.

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

import math
import numbers
from pathlib import Path

import numpy as np
import pandas as pd

from autobuild.data.equations import shorten
from autobuild.data.fetch import (  # noqa: F401  (callers find the download here too)
    CACHE_DESCRIPTIONS, HF_REPO_ID, PAPER_CACHES, FetchError, fetch, paper_cache_path)
from autobuild.data.safe_pickle import (  # noqa: F401  (and the errors its readers raise)
    CacheFormatError, PickleBoundsError, RestrictedUnpickler, UnsafePickleError, load_pickle)
from autobuild.graphs.ir import IRGraph
from autobuild.graphs.onnx_ir import OnnxIRGraphRecord, ir_graph_from_onnx_ir


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
