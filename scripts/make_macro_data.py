#!/usr/bin/env python
"""Write the embedded NAS-Bench-Macro set, data/nas_bench_macro/cifar10.parquet, with its licence.

Reads NAS-Bench-Macro's ``nas-bench-macro_cifar10.json`` (checked against its published sha256)
and ``LICENSE`` from ``$AUTOBUILD_SHARED_DATA/nas_bench_macro/`` (default ``../shared/data``), and
writes every value as float64, so the set equals the benchmark exactly.

    .venv/bin/python scripts/make_macro_data.py
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from autobuild._paths import EMBEDDED_FILES, shared_data_dir
from autobuild.data.nas_bench_macro import SHA256, SOURCE, read_benchmark_json
from autobuild.data.parquet import write_parquet

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=None, help="folder holding nas-bench-macro_cifar10.json and LICENSE")
    ap.add_argument("--out", type=Path, default=ROOT / "data" / EMBEDDED_FILES["macro"])
    args = ap.parse_args(argv)
    folder = args.source or shared_data_dir() / "nas_bench_macro"
    data = read_benchmark_json(folder / "nas-bench-macro_cifar10.json")
    write_parquet(data, args.out, {"source": SOURCE, "sha256": SHA256,
                                   "command": "python scripts/make_macro_data.py"}, dtype="float64")
    shutil.copyfile(folder / "LICENSE", args.out.parent / "LICENSE")
    print(f"wrote {args.out} ({len(data)} architectures) and its LICENSE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
