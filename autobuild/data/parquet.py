"""The embedded parquet schema: a string column ``arch`` (``space.to_string``), float label
columns with their provenance in field metadata, and JSON set metadata.

A file's footer is checked before its data is read: at most :data:`MAX_ROWS` rows and
:data:`MAX_BYTES` uncompressed bytes, so a small dictionary-encoded file cannot expand to
gigabytes in memory.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from autobuild._io import atomic_write
from autobuild._paths import EMBEDDED_FILES
from autobuild.data import paper_caches
from autobuild.data.equations import shorten
from autobuild.data.labelled import LabelledSet
from autobuild.spaces.base import SequenceSpace

METADATA_KEY = "autobuild"
MAX_ROWS = 200_000  #: rows a labelled set may hold (the embedded sets hold 3,000; a row costs about 3 KB in memory)
MAX_BYTES = 2**30  #: uncompressed bytes a labelled set may expand to


DESCRIPTION_KEY = "description"


ARCH_COLUMN = "arch"


ARCH_DESCRIPTION = "canonical architecture string (space.to_string)"


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
    return path


def read_parquet(path, space: SequenceSpace) -> LabelledSet:
    """A :class:`LabelledSet` from a parquet file in the embedded schema."""
    import pyarrow.parquet as pq
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data set {path} does not exist{_regenerate_hint(path)}")
    try:
        footer = pq.ParquetFile(path).metadata
        rows = footer.num_rows
        size = sum(footer.row_group(i).total_byte_size for i in range(footer.num_row_groups))
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise paper_caches.CacheFormatError(f"{path} is not a readable parquet file ({type(exc).__name__}: "
                                            f"{exc}){_regenerate_hint(path)}") from None
    if rows > MAX_ROWS or size > MAX_BYTES:
        raise paper_caches.CacheFormatError(f"{path} declares {rows} rows and {size} uncompressed bytes; a labelled set "
                                            f"may hold at most {MAX_ROWS} rows and {MAX_BYTES} bytes")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise paper_caches.CacheFormatError(f"{path} is not a readable parquet file ({type(exc).__name__}: "
                                            f"{exc}){_regenerate_hint(path)}") from None
    raw = (table.schema.metadata or {}).get(METADATA_KEY.encode(), b"{}")
    try:
        meta = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise paper_caches.CacheFormatError(f"{path}: the schema metadata {METADATA_KEY!r} is not valid JSON "
                                            f"({shorten(exc)})") from None
    if not isinstance(meta, dict):
        raise paper_caches.CacheFormatError(f"{path}: the schema metadata {METADATA_KEY!r} must be a JSON object, "
                                            f"got a {type(meta).__name__} ({shorten(raw.decode('utf-8', 'replace'))})")
    if meta.get("space", space.name) != space.name:
        raise paper_caches.CacheFormatError(f"{path} holds space {shorten(repr(meta['space']), 40)}, "
                                            f"not {space.name!r}")
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
    strings = tuple(frame[ARCH_COLUMN])
    for i, s in enumerate(strings):
        if not isinstance(s, str):
            raise paper_caches.CacheFormatError(
                f"{path}: row {i}: column {ARCH_COLUMN!r} holds {shorten(repr(s), 40)} ({type(s).__name__}), "
                f"not an architecture string such as '224:e4k5,e6k7|...'")
    try:
        archs = _parse_archs(space, strings)
    except (ValueError, TypeError, OverflowError) as exc:
        raise paper_caches.CacheFormatError(f"{path}: bad architecture string: {shorten(exc, 200)}") from None
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
