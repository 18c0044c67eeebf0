#!/usr/bin/env python
"""Notebook 06's full profile on NAS-Bench-Macro, over many paired seeds, stored for the book.

For every label budget (smallest first) and predictor variant, the seeds not yet stored are
trained at once (one predictor per seed and target); then each seed's scores, built
architectures, reduced spaces and searches are evaluated by lookup in the measured table and
stored at once in figures/macro_{stage_truth,scores,build,nas}.csv, with the recipe, date,
machine and wall time of each (budget, seed, model) in figures/macro_runs.csv. A rerun skips
what is stored (resumable); several processes may share the files.

    nice -n 10 .venv/bin/python scripts/run_measured_truth.py --seeds 20
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from autobuild._paths import stored_results_dir
from autobuild.book.profiles import SECTION_SETTINGS
from autobuild.data.load import load_dataset
from autobuild.experiments import measured_truth as mt
from autobuild.predictor.config import use_threads

SECTION = "06_measured_truth"


def main(argv=None) -> int:
    settings = SECTION_SETTINGS[SECTION]["full"]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20, help="repeat seeds 0..N-1 (default 20)")
    ap.add_argument("--first-seed", type=int, default=0, help="start at this seed (default 0)")
    ap.add_argument("--budgets", default=",".join(map(str, settings["budgets"])),
                    help="comma-separated label budgets (default: the full profile's)")
    ap.add_argument("--methods", default=",".join(mt.METHODS), help=f"comma-separated of {sorted(mt.METHODS)}")
    ap.add_argument("--out", type=Path, default=None, help="results folder (default: figures/ of this checkout)")
    ap.add_argument("--device", default="cpu", help="torch device for predictor training (cpu, cuda)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = ap.parse_args(argv)

    if args.seeds < 2 or args.first_seed < 0:
        ap.error("--seeds must be >= 2 (intervals pair seeds) and --first-seed >= 0")
    recipe = mt.Recipe.from_settings("full", settings)
    try:
        budgets = [int(b) for b in args.budgets.split(",") if b.strip()]
        for b in budgets:
            recipe.epochs_for(b)
    except ValueError as exc:
        ap.error(f"--budgets: {exc}")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods or any(m not in mt.METHODS for m in methods):
        ap.error(f"--methods must name some of {sorted(mt.METHODS)}; got {args.methods!r}")
    folder = args.out or stored_results_dir() or Path("figures")
    store = mt.stores(folder)
    use_threads(args.threads)   # predictors trained at once too

    truth = mt.MacroTruth(load_dataset("macro"))
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for budget in tqdm(budgets, desc="label budgets", file=sys.stdout):
        mt.run_budget(truth, recipe, budget, seeds, store, methods, device=args.device, progress=True)
        runs = mt.read(store["runs"])
        done = runs[runs.budget == budget]
        tqdm.write(f"N={budget}: {len(done)} (seed, model) runs stored, "
                   f"{done.wall_s.sum():.0f} s of wall time", file=sys.stdout)
    print(f"stored in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
