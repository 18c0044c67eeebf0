#!/usr/bin/env python
"""Regenerate the SD-mini evaluations under data/sd_mini/ (paper Sec. 5.3, our reconstruction).

Stages, run in the order given (default all):
  random68  the SDv1.4-shaped U-Net + 67 uniformly sampled ones, seed 0
  noise     seed noise: 3 of the 68 (SDv1.4-shaped first) retrained with seeds 1 and 2
  selected  AutoBuild top-4 and Exhaustive-Search top-4 (ensemble of 5 folds x --ensemble-seeds
            shuffles trained on the 68; autobuild.predictor.ensemble), each evaluated with seed 0
  table1    Table 1's seed noise: both top-4 sets (selected as above) and the best of the 68
            retrained with every seed of --extra-seeds (default 1,2,3,4), seed by seed; then,
            while the best of the 68 by seed mean lacks those seeds, it is retrained too
  near_ties each method's near-tied runners-up (ranks 5-8, sd_selection.NEAR_TIES), evaluated
            with seed 0 and every seed of --extra-seeds, seed by seed

Every evaluation is appended to data/sd_mini/results.json (and its kept inpaintings to
samples.npz) atomically as soon as it finishes, so an interrupted run resumes where it stopped.
Every argument (and the scheduler's reachability) is checked before anything is written: a bad
one exits 2 with a message naming it, and leaves no recipe.json behind.

    nice -n 10 .venv/bin/python scripts/run_sd_mini.py
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from autobuild._io import check_writable_dir
from autobuild.book.params import check_device
from autobuild.executor import get_executor
from autobuild.experiments.sd_results import ResultStore
from autobuild.experiments.sd_mini import SDRecipe, evaluate_unet
from autobuild.predictor.config import use_threads
from autobuild.spaces.unet import SD14_UNET

STAGES = ("random68", "noise", "selected", "table1", "near_ties")
MAX_ENSEMBLE_SEEDS = 64  #: shuffles of the selection ensemble (each trains 5 predictors)
MAX_THREADS = 1024


def _count(low: int, high: int):
    """An argparse type: an integer in [low, high]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text[:40]!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be an integer in [{low}, {high}], got {value}")
        return value
    return parse


def random68(space, seed: int = 0) -> list:
    """The SDv1.4-shaped U-Net followed by 67 distinct uniform samples."""
    archs, seen = [space.sdv14()], {space.to_string(space.sdv14())}
    k = 0
    while len(archs) < 68:
        for a in space.sample(68, seed + k):
            if space.to_string(a) not in seen and len(archs) < 68:
                seen.add(space.to_string(a))
                archs.append(a)
        k += 1
    return archs


def _evaluate(job, space, recipe, device):
    """One SD-mini evaluation (a job for :mod:`autobuild.executor`): ``(record, kept samples)``."""
    arch, seed = job
    return evaluate_unet(space, arch, recipe, seed, device=device)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help="results folder (default: the embedded data/sd_mini)")
    ap.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {STAGES}")
    ap.add_argument("--ensemble-seeds", type=_count(1, MAX_ENSEMBLE_SEEDS), default=4,
                    help="shuffles of the 5-fold ensemble (selected)")
    ap.add_argument("--extra-seeds", default="1,2,3,4", help="comma-separated seeds of the table1 and near_ties stages")
    ap.add_argument("--threads", type=_count(1, MAX_THREADS), default=1, help="torch CPU threads")
    ap.add_argument("--device", default="cpu", help="torch device for SD-mini training (cpu, cuda)")
    ap.add_argument("--steps", type=_count(1, 10**6), default=None,
                    help="override the recipe's training steps (tests only)")
    ap.add_argument("--limit", type=_count(1, 68), default=None,
                    help="evaluate at most this many of random68 (tests only)")
    ap.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                    help="train and score the U-Nets on this Dask cluster (default: in this process)")
    args = ap.parse_args(argv)

    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    bad = [s for s in stages if s not in STAGES]
    if bad or not stages:
        ap.error(f"unknown stage(s) {bad}; choose from {STAGES}")
    try:
        extra_seeds = [int(s) for s in args.extra_seeds.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--extra-seeds must be comma-separated integers, got {args.extra_seeds[:80]!r}")
    if not extra_seeds or min(extra_seeds) < 1 or max(extra_seeds) >= 2**32 or len(extra_seeds) > 64:
        ap.error(f"--extra-seeds needs 1 to 64 seeds in [1, 2**32) (seed 0 is the selected stage's), "
                 f"got {args.extra_seeds[:80]!r}")
    if args.threads > (os.cpu_count() or 1) * 4:
        ap.error(f"--threads {args.threads} is more than 4x this machine's {os.cpu_count()} CPUs")
    recipe = SDRecipe() if args.steps is None else SDRecipe(steps=args.steps)
    space = SD14_UNET
    try:
        device = check_device(args.device)
        executor = get_executor(args.scheduler)  # reached (or refused) before anything is written
    except ValueError as exc:
        ap.exit(2, f"{ap.prog}: error: {exc}\n")
    try:
        if args.out is not None:
            check_writable_dir(args.out, "--out")
        results = ResultStore(args.out, recipe)
    except (ValueError, OSError) as exc:
        executor.close()
        ap.exit(2, f"{ap.prog}: error: {exc}\n")
    use_threads(args.threads)   # predictors trained at once too
    with executor:
        results.write_recipe(" ".join(["python", "scripts/run_sd_mini.py"]
                                      + list(argv if argv is not None else sys.argv[1:])))
        _run_stages(stages, space, recipe, results, executor, device, args.limit, args.ensemble_seeds, extra_seeds)
    return 0


def _run_stages(stages, space, recipe, results, executor, device, limit, ensemble_seeds, extra_seeds) -> None:
    """Make every stage's evaluations that ``results`` lacks, in the order given."""

    def reuse(group: str, arch, seed: int) -> bool:
        """Record an evaluation already made for another group; False when it must be made."""
        name = space.to_string(arch)
        done = results.find(name, seed)
        if done is None:
            return False
        results.add(group, {k: v for k, v in done.items() if k != "group"}, results.sample_of(name, seed))
        return True

    def run(stage: str, jobs: list) -> None:
        """Make the evaluations of ``jobs`` that the store lacks, each stored as soon as it arrives."""
        todo = [j for j in jobs if not results.has(j[0], space.to_string(j[1]), j[2])]
        t0 = time.perf_counter()
        new = [j for j in todo if not reuse(*j)]
        bar = tqdm(total=len(new), desc=stage, unit="arch")
        for i, (record, samples) in executor.as_completed(
                functools.partial(_evaluate, space=space, recipe=recipe, device=device),
                [(arch, seed) for _, arch, seed in new]):
            results.add(new[i][0], record, samples)
            bar.update()
        bar.close()
        print(f"{stage}: {len(jobs)} evaluations ({len(todo)} new) in {time.perf_counter() - t0:.0f}s", flush=True)

    sel = None  # the selection, made once for the selected, table1 and near_ties stages
    for stage in stages:
        if stage == "random68":
            run(stage, [("random68", a, 0) for a in random68(space)][:limit])
        elif stage == "noise":
            run(stage, [("seed_noise", a, s) for a in random68(space)[:3] for s in (1, 2)])
        else:
            from autobuild.experiments.sd_selection import best_evaluated, select_from_store

            sel = sel or select_from_store(results, space, seeds=ensemble_seeds)
            if stage == "selected":
                run(stage, [("autobuild", a, 0) for a in sel.autobuild] + [("exhaustive", a, 0) for a in sel.exhaustive])
                continue
            if stage == "near_ties":
                runners_up = sel.autobuild_ranked[sel.k:] + sel.exhaustive_ranked[sel.k:]
                run(stage, list(dict.fromkeys(("near_ties", a, s) for s in [0, *extra_seeds] for a in runners_up)))
                continue
            archs = sel.autobuild + sel.exhaustive + [space.from_string(best_evaluated(results))]
            run(stage, list(dict.fromkeys(("table1_seeds", a, s) for s in extra_seeds for a in archs)))
            while True:  # until the best of the 68 by seed mean has every extra seed
                best = space.from_string(best_evaluated(results))
                jobs = [("table1_seeds", best, s) for s in extra_seeds
                        if results.find(space.to_string(best), s) is None]
                if not jobs:
                    break
                run(f"{stage} (best of the 68)", jobs)


if __name__ == "__main__":
    sys.exit(main())
