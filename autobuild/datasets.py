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

import argparse
import functools
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from . import paper_caches
from .atomic import atomic_write
from .equations import LabelEquation
from .spaces import SequenceSpace, get_space

EMBEDDED_FILES = {"mbv3": "ofa_mbv3.parquet", "pn": "ofa_pn.parquet"}
METADATA_KEY = "autobuild"
DESCRIPTION_KEY = "description"
ARCH_COLUMN = "arch"
ARCH_DESCRIPTION = "canonical architecture string (space.to_string)"


class MissingLabelError(ValueError):
    """A label equation that is undefined (NaN/missing) for some architectures."""


def data_dir() -> Path:
    """The embedded sets' folder: ``$AUTOBUILD_DATA_DIR`` or the repository's ``data/``."""
    env = os.environ.get("AUTOBUILD_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data"


class _LabelTable:
    """Label columns with provenance, and targets computed from label equations."""

    labels: pd.DataFrame
    provenance: dict[str, str]
    source: str

    def _check_labels(self, n_rows: int) -> None:
        if len(self.labels) != n_rows:
            raise ValueError(f"{self.source}: {n_rows} architectures but {len(self.labels)} label rows")
        missing = [c for c in self.labels.columns if c not in self.provenance]
        if missing:
            raise ValueError(f"{self.source}: no provenance for label column(s) {missing}")
        non_numeric = [c for c in self.labels.columns if not pd.api.types.is_numeric_dtype(self.labels[c])
                       or pd.api.types.is_bool_dtype(self.labels[c])]
        if non_numeric:
            raise ValueError(f"{self.source}: label column(s) {non_numeric} are not numeric")
        self.labels = self.labels.astype(np.float64).reset_index(drop=True)

    @property
    def columns(self) -> list[str]:
        return list(self.labels.columns)

    def _evaluate(self, equation: str) -> tuple[LabelEquation, np.ndarray]:
        eq = LabelEquation(equation, allowed_names=self.columns)
        y = eq.evaluate({n: self.labels[n].to_numpy() for n in eq.names})
        return eq, np.broadcast_to(y, (len(self.labels),)).astype(np.float64)

    def target(self, equation: str) -> np.ndarray:
        """The label equation's value per architecture; refuses NaN/missing values."""
        eq, y = self._evaluate(equation)
        bad = ~np.isfinite(y)
        if bad.any():
            gaps = {n: int(self.labels[n].isna().sum()) for n in eq.names if self.labels[n].isna().any()}
            raise MissingLabelError(
                f"label equation {eq.text!r} is undefined (NaN/inf) for {int(bad.sum())} of {len(y)} "
                f"architectures of {self.source} (missing values per column: {gaps or 'none'}); "
                f"use .defined({eq.text!r}) to keep only the rows where it is defined")
        return y

    def defined(self, equation: str):
        """The rows where ``equation`` is finite; warns when rows are dropped."""
        eq, y = self._evaluate(equation)
        keep = np.flatnonzero(np.isfinite(y))
        if len(keep) == 0:
            raise MissingLabelError(f"label equation {eq.text!r} is undefined for every row of {self.source}")
        if len(keep) < len(y):
            warnings.warn(f"{self.source}: dropped {len(y) - len(keep)} of {len(y)} rows where "
                          f"{eq.text!r} is undefined", stacklevel=2)
        return self.subset(keep)


@dataclass(eq=False)
class LabelledSet(_LabelTable):
    """Architectures of one space with a float label table and each column's provenance."""

    space: SequenceSpace
    archs: list
    labels: pd.DataFrame
    provenance: dict[str, str]
    source: str

    def __post_init__(self):
        if isinstance(self.space, str):
            self.space = get_space(self.space)
        self.archs = list(self.archs)
        self._check_labels(len(self.archs))

    def __len__(self) -> int:
        return len(self.archs)

    def __repr__(self) -> str:
        return f"LabelledSet({self.space.name!r}, {len(self)} archs, labels={self.columns}, source={self.source!r})"

    @property
    def arch_strings(self) -> list[str]:
        return [self.space.to_string(a) for a in self.archs]

    def subset(self, idx) -> "LabelledSet":
        idx = _indices(idx, len(self))
        return LabelledSet(self.space, [self.archs[i] for i in idx], self.labels.iloc[idx].reset_index(drop=True),
                           dict(self.provenance), self.source)

    def copy(self) -> "LabelledSet":
        return LabelledSet(self.space, list(self.archs), self.labels.copy(), dict(self.provenance), self.source)


@dataclass(eq=False)
class IRSet(_LabelTable):
    """Op-level IR graphs (possibly of several spaces, see ``families``) with labels."""

    families: list[str]
    graphs: list
    labels: pd.DataFrame
    provenance: dict[str, str]
    source: str

    def __post_init__(self):
        self.families, self.graphs = list(self.families), list(self.graphs)
        if len(self.families) != len(self.graphs):
            raise ValueError(f"{self.source}: {len(self.graphs)} graphs but {len(self.families)} families")
        self._check_labels(len(self.graphs))

    def __len__(self) -> int:
        return len(self.graphs)

    def __repr__(self) -> str:
        counts = pd.Series(self.families).value_counts().to_dict()
        return f"IRSet({counts}, labels={self.columns}, source={self.source!r})"

    def subset(self, idx) -> "IRSet":
        idx = _indices(idx, len(self))
        return IRSet([self.families[i] for i in idx], [self.graphs[i] for i in idx],
                     self.labels.iloc[idx].reset_index(drop=True), dict(self.provenance), self.source)

    def arrays(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``(xs, edge_indices)`` for ``GraphTable.from_arrays`` (vocabulary: ``ir.ir_feature_vocab``)."""
        from .ir import ir_arrays
        return ir_arrays(self.graphs)


def _indices(idx, n: int) -> np.ndarray:
    idx = np.asarray(idx)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise ValueError(f"boolean mask of shape {idx.shape} for {n} rows")
        return np.flatnonzero(idx)
    idx = idx.astype(np.int64).reshape(-1)
    if len(idx) and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"row index out of range for {n} rows")
    return idx % n if n else idx


# Parquet (the embedded format) ------------------------------------------------------------

def write_parquet(dataset: LabelledSet, path, extra_metadata: dict | None = None, dtype: str = "float64") -> Path:
    """Write ``dataset`` in the embedded schema, atomically (temp file, then rename).

    ``dtype`` is the label columns' type: ``"float64"`` keeps every value exactly;
    ``scripts/make_embedded_data.py`` writes the committed sets as ``"float32"``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    path = Path(path)
    frame = pd.concat([pd.DataFrame({ARCH_COLUMN: dataset.arch_strings}), dataset.labels], axis=1)
    fields = [pa.field(ARCH_COLUMN, pa.string(), metadata={DESCRIPTION_KEY: ARCH_DESCRIPTION})]
    fields += [pa.field(c, pa.from_numpy_dtype(np.dtype(dtype)), metadata={DESCRIPTION_KEY: dataset.provenance[c]})
               for c in dataset.columns]
    meta = {"space": dataset.space.name, **(extra_metadata or {})}
    schema = pa.schema(fields, metadata={METADATA_KEY: json.dumps(meta)})
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    with atomic_write(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
        os.chmod(tmp, 0o644)
    return path


def read_parquet(path, space: SequenceSpace) -> LabelledSet:
    """A :class:`LabelledSet` from a parquet file in the embedded schema."""
    import pyarrow.parquet as pq
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data set {path} does not exist{_regenerate_hint(path)}")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise paper_caches.CacheFormatError(f"{path} is not a readable parquet file ({type(exc).__name__}: "
                                            f"{exc}){_regenerate_hint(path)}") from None
    meta = json.loads((table.schema.metadata or {}).get(METADATA_KEY.encode(), b"{}"))
    if meta.get("space", space.name) != space.name:
        raise paper_caches.CacheFormatError(f"{path} holds space {meta['space']!r}, not {space.name!r}")
    frame = table.to_pandas()
    if ARCH_COLUMN not in frame.columns or len(frame.columns) < 2 or len(frame) == 0:
        raise paper_caches.CacheFormatError(
            f"{path}: expected a string column {ARCH_COLUMN!r} and float label columns with at least one row, "
            f"got columns {list(frame.columns)} and {len(frame)} rows{_regenerate_hint(path)}")
    labels = frame.drop(columns=[ARCH_COLUMN])
    non_numeric = [c for c in labels.columns if not pd.api.types.is_numeric_dtype(labels[c])
                   or pd.api.types.is_bool_dtype(labels[c])]
    if non_numeric:
        raise paper_caches.CacheFormatError(f"{path}: label column(s) {non_numeric} are not numeric")
    labels = labels.astype(np.float64)
    try:
        archs = _parse_archs(space, tuple(frame[ARCH_COLUMN]))
    except (ValueError, TypeError) as exc:
        raise paper_caches.CacheFormatError(f"{path}: bad architecture string: {exc}") from None
    provenance = {}
    for c in labels.columns:
        field_meta = table.schema.field(c).metadata or {}
        text = field_meta.get(DESCRIPTION_KEY.encode())
        provenance[c] = text.decode() if text else f"no provenance recorded in {path.name}"
    return LabelledSet(space, archs, labels, provenance, str(path))


def _parse_archs(space: SequenceSpace, strings: tuple) -> list:
    parsed: dict = {}
    return [parsed[s] if s in parsed else parsed.setdefault(s, space.from_string(s)) for s in strings]


def _regenerate_hint(path: Path) -> str:
    if path.name in EMBEDDED_FILES.values():
        return (f"; the embedded sets ship with the repository under data/ (set AUTOBUILD_DATA_DIR to "
                f"read them elsewhere): restore {path.name} with git, or regenerate it with the command "
                "in data/README.md")
    return ""


# Loading ------------------------------------------------------------------------------------

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
    from .ir import ofa_ir_graph
    from tqdm.auto import tqdm
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


# The ``autobuild data`` command ----------------------------------------------------------------

def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 1024:.0f} KiB"


def _cmd_list(args) -> int:
    print(f"Embedded sets ({data_dir()}):")
    for name, filename in EMBEDDED_FILES.items():
        path = data_dir() / filename
        if not path.is_file():
            print(f"  {name:16s} MISSING {path}{_regenerate_hint(path)}")
            continue
        try:
            d = load_dataset(name, "embedded")
        except (ValueError, OSError) as exc:
            print(f"  {name:16s} UNREADABLE {path}: {exc}")
            continue
        print(f"  {name:16s} {len(d)} archs, {_size(path)}, {path}")
        for c in d.columns:
            print(f"      {c:22s} {d.provenance[c]}")
    print(f"Paper caches (Hugging Face dataset {paper_caches.HF_REPO_ID}, local folder {paper_caches.cache_dir()}):")
    for name, filename in paper_caches.PAPER_CACHES.items():
        path = paper_caches.paper_cache_path(name, must_exist=False)
        state = f"present, {_size(path)}" if path.is_file() else "not downloaded"
        print(f"  {name:16s} {state:22s} {filename}: {paper_caches.CACHE_DESCRIPTIONS[name]}")
    return 0


def _cmd_fetch(args) -> int:
    try:
        paths = paper_caches.fetch(args.only, args.dest, args.force)
    except (RuntimeError, ValueError) as exc:
        print(f"autobuild data fetch: {exc}")
        return 1
    for name, path in paths.items():
        print(f"{name:16s} {path} ({_size(path)})")
    return 0


def register_data_commands(subparsers) -> argparse.ArgumentParser:
    """Add ``autobuild data list|fetch`` to an argparse ``subparsers``; handlers are in ``func``."""
    data = subparsers.add_parser("data", help="list the data sets, or download the paper's caches")
    sub = data.add_subparsers(dest="data_command", required=True)
    lst = sub.add_parser("list", help="what data sets are present and where each comes from")
    lst.set_defaults(func=_cmd_list)
    fetch = sub.add_parser("fetch", help=f"download the paper's caches from {paper_caches.HF_REPO_ID}")
    fetch.add_argument("--only", nargs="+", choices=sorted(paper_caches.PAPER_CACHES), metavar="NAME",
                       help=f"only these caches ({', '.join(paper_caches.PAPER_CACHES)})")
    fetch.add_argument("--dest", type=Path, default=None,
                       help="folder to download into (default: $AUTOBUILD_CACHE or ~/.cache/autobuild)")
    fetch.add_argument("--force", action="store_true", help="download again even when present")
    fetch.set_defaults(func=_cmd_fetch)
    return data
