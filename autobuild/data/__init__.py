"""Labelled architecture sets: the embedded parquet sets, the paper's caches, and label equations."""
from __future__ import annotations

from autobuild.data.labelled import LabelledSet, IRSet, MissingLabelError
from autobuild.data.equations import LabelEquation, EquationError
from autobuild.data.parquet import read_parquet, write_parquet
from autobuild.data.load import load_dataset, load_ir_dataset, ir_set_from_labelled
from autobuild.data.paper_caches import CacheFormatError, UnsafePickleError, paper_cache_path, read_sequence_cache

__all__ = ["LabelledSet", "IRSet", "MissingLabelError", "LabelEquation", "EquationError", "read_parquet", "write_parquet", "load_dataset", "load_ir_dataset", "ir_set_from_labelled", "CacheFormatError", "UnsafePickleError", "paper_cache_path", "read_sequence_cache"]
