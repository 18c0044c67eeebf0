"""Labelled architecture sets, whichever their source: embedded, the paper's caches, or a file.

``load_dataset("mbv3")`` reads the project's embedded set ``data/ofa_mbv3.parquet``;
``source="paper"`` reads the paper's downloaded cache (``autobuild data fetch``); a path
reads a ``.parquet`` file in the embedded schema or a ``.pkl`` in the paper's sequence format.
All give a :class:`LabelledSet`. :func:`load_ir_dataset` gives the op-level IR sets of Fig. 3
(:class:`IRSet`), traced from OFA subnets or read from the paper's ONNX-IR cache.

Embedded parquet schema (as ``scripts/make_embedded_data.py`` and :func:`write_parquet` write
it): a string column ``arch`` (``space.to_string``) and float label columns, each column's
provenance in its field metadata ``description``, and JSON under the schema metadata key
``autobuild`` (``{"space": ..., "seed": ..., "command": ...}``). Missing labels are NaN:
``target`` refuses them, ``defined`` drops them with a warning.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from autobuild.data import paper_caches
from autobuild._paths import EMBEDDED_FILES, data_dir
from autobuild.data.labelled import IRSet, LabelledSet
from autobuild.data.parquet import _regenerate_hint, read_parquet
from autobuild.spaces.registry import get_space


@functools.lru_cache(maxsize=32)
def _load_cached(kind: str, path: str, space_name: str, stamp: tuple) -> LabelledSet:
    space = get_space(space_name)
    if kind == "parquet":
        return read_parquet(path, space)
    archs, labels, provenance = paper_caches.read_sequence_cache(path, space)
    return LabelledSet(space, archs, labels, provenance, path)


def _load_file(kind: str, path: Path, space_name: str) -> LabelledSet:
    if not path.is_file():
        raise FileNotFoundError(f"data set {path} does not exist{_regenerate_hint(path)}")
    st = path.stat()
    return _load_cached(kind, str(path.resolve()), space_name, (st.st_mtime_ns, st.st_size)).copy()


def load_dataset(space_name: str, source: str | os.PathLike = "embedded", task: str = "classification") -> LabelledSet:
    """The labelled set of ``space_name`` from ``source``: ``"embedded"``, ``"paper"`` or a path.

    ``task="pan_seg"`` selects the paper's panoptic-segmentation cache (``source="paper"``).
    Results are cached per process; each call returns an independent copy.
    """
    space = get_space(space_name)
    if task not in ("classification", "pan_seg"):
        raise ValueError(f"unknown task {task!r}; use 'classification' or 'pan_seg'")
    if source == "embedded":
        if task != "classification":
            raise ValueError("the embedded sets are classification sets; use source='paper' for pan_seg")
        if space.name not in EMBEDDED_FILES:
            raise ValueError(f"no embedded set for space {space.name!r}; embedded: {sorted(EMBEDDED_FILES)}")
        return _load_file("parquet", data_dir() / EMBEDDED_FILES[space.name], space.name)
    if source == "paper":
        key = space.name if task == "classification" else f"{space.name}_pan_seg"
        return _load_file("pickle", paper_caches.paper_cache_path(key), space.name)
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _load_file("parquet", path, space.name)
    if suffix in (".pkl", ".pickle"):
        return _load_file("pickle", path, space.name)
    raise ValueError(f"unknown data source {str(source)!r}: use 'embedded', 'paper', or a path to a .parquet "
                     "file (embedded schema) or a .pkl file (paper sequence format)")


def ir_set_from_labelled(datasets: Sequence[LabelledSet], progress: bool = True) -> IRSet:
    """Trace the IR graph of every architecture of ``datasets``; labels are the shared columns."""
    from tqdm.auto import tqdm

    from autobuild.graphs.ofa_ir import ofa_ir_graph
    if not datasets:
        raise ValueError("no data sets given")
    shared = [c for c in datasets[0].columns if all(c in d.columns for d in datasets[1:])]
    if not shared:
        raise ValueError("the data sets share no label column")
    families, graphs = [], []
    for d in datasets:
        families += [d.space.name] * len(d)
        graphs += [ofa_ir_graph(d.space, a) for a in tqdm(d.archs, desc=f"IR graphs ({d.space.name})",
                                                         disable=not progress)]
    labels = pd.concat([d.labels[shared] for d in datasets], ignore_index=True)
    provenance = {c: "; ".join(f"{d.space.name}: {d.provenance[c]}" for d in datasets) for c in shared}
    source = " + ".join(d.source for d in datasets) + " (IR traced from ofa subnets)"
    return IRSet(families, graphs, labels, provenance, source)


def load_ir_dataset(source: str | os.PathLike = "embedded", n_per_space: int | None = None, seed: int = 0,
                    progress: bool = True) -> IRSet:
    """Op-level IR graphs of MBv3 and PN together (Fig. 3).

    ``"embedded"``: IR graphs traced from the embedded sets' architectures (``n_per_space``
    drawn at random with ``seed``, or all). ``"paper"`` or a path: the paper's ONNX-IR cache.
    """
    if source == "embedded":
        sets = []
        for name in ("mbv3", "pn"):
            d = load_dataset(name, "embedded")
            if n_per_space is not None and n_per_space < len(d):
                d = d.subset(np.sort(np.random.default_rng(seed).choice(len(d), n_per_space, replace=False)))
            sets.append(d)
        return ir_set_from_labelled(sets, progress)
    path = paper_caches.paper_cache_path("mbv3_pn_onnx_ir") if source == "paper" else Path(source)
    families, graphs, labels, provenance = paper_caches.read_onnx_ir_cache(path, progress)
    ir = IRSet(families, graphs, labels, provenance, str(path))
    if n_per_space is not None:
        rng = np.random.default_rng(seed)
        fam = np.asarray(families)
        idx = [np.sort(rng.choice(np.flatnonzero(fam == f), min(n_per_space, int((fam == f).sum())), replace=False))
               for f in ("mbv3", "pn") if (fam == f).any()]
        ir = ir.subset(np.concatenate(idx))
    return ir
