#!/usr/bin/env python
"""Speed of the data layer: loading labelled sets (target: < 2 s each) and tracing IR graphs.

    python benchmarks/bench_data.py [--ir-archs 1000]

Loads each embedded set (data/ofa_*.parquet) when present, and the real-schema paper sample
(``$AUTOBUILD_SHARED_DATA/paper_schema_samples``) when present, in a fresh cache each time; then
builds ``--ir-archs`` op-level IR graphs per OFA space and prints the rate.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autobuild import _paths  # noqa: E402  (after the path insert)
from autobuild.data import load  # noqa: E402
from autobuild.graphs import ofa_ir as ir  # noqa: E402
from autobuild.spaces.ofa import MBV3, PN  # noqa: E402


def timed_load(space: str, source) -> tuple[float, int]:
    load._load_cached.cache_clear()
    start = time.perf_counter()
    d = load.load_dataset(space, source)
    return time.perf_counter() - start, len(d)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ir-archs", type=int, default=1000, help="IR graphs to build per space")
    args = parser.parse_args()
    shared = Path(os.environ.get("AUTOBUILD_SHARED_DATA", ROOT.parent / "shared" / "data"))
    sources = [(name, "embedded") for name, f in _paths.EMBEDDED_FILES.items() if (_paths.data_dir() / f).is_file()]
    sample = shared / "paper_schema_samples" / "mbv3_ofaacc_3k_cache.pkl"
    if sample.is_file():
        sources.append(("mbv3", sample))
    for space, source in sources:
        seconds, n = timed_load(space, source)
        print(f"load {space:5s} {str(source):60s} {n:5d} archs  {seconds:6.2f} s  (target < 2 s)")
    for space in (MBV3, PN):
        archs = space.sample(args.ir_archs + 1, seed=123)
        ir.ofa_ir_graph(space, archs[0])                    # imports and the supernet, once
        start = time.perf_counter()
        sizes = [len(ir.ofa_ir_graph(space, a)) for a in archs[1:]]
        total = time.perf_counter() - start
        print(f"IR    {space.name:5s} {args.ir_archs} graphs ({sum(sizes) / len(sizes):.0f} nodes on average) in "
              f"{total:.1f} s, {1000 * total / args.ir_archs:.0f} ms each (layer fragments traced on first use)")


if __name__ == "__main__":
    main()
