#!/usr/bin/env python
"""Fig. 5 (bottom) under notebook 03's full profile, over many paired seeds, stored for the book.

For every seed, recipe and predictor variant (seed-major, so an early stop still leaves every
variant with the same seeds): train every label equation's predictor with that seed, search
AutoBuild-NAS with it, and search the three baselines with it (they do not depend on the
predictors, so each seed's baselines are searched once and reused). Each finished
(seed, recipe, model) is appended at once to figures/fig5_nas_hypervolume_full.csv with its
date, machine and wall time; a rerun skips what is stored (resumable).

Recipes: ``full`` is the profile (200 epochs, lr 1e-4, four equations per device, K=25, budget
250); ``full-15ep`` is the same with the quick profile's training (15 epochs, lr 1e-3).
``--readout`` picks the subgraph readout (the paper's method as published: ``--models authors
--readout root``); ``--models controls`` runs the same-information controls
(:func:`autobuild.experiments.nas_runs.run_controls`) for each seed and recipe.

    nice -n 10 .venv/bin/python scripts/run_full_nas.py --seeds 8 --models companion,authors
    nice -n 10 .venv/bin/python scripts/run_full_nas.py --seeds 8 --recipes full --models authors --readout root
    nice -n 10 .venv/bin/python scripts/run_full_nas.py --seeds 8 --recipes full --models controls

Every argument (seeds, threads, device, the results file's place) is checked before any compute;
a bad one exits 2 with a message naming it.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tqdm import tqdm

from autobuild._paths import stored_results_dir
from autobuild.book.params import check_device
from autobuild.book.profiles import SECTION_SETTINGS
from autobuild.data.load import load_dataset
from autobuild.experiments import nas_runs
from autobuild.predictor.config import use_threads
from autobuild.predictor.scoring import READOUTS
from autobuild.predictor.variants import MODEL_KINDS

SECTION = "03_imagenet_construction_and_nas"
CONTROLS = "controls"
MAX_SEEDS = 1000
MAX_THREADS = 1024


def recipes() -> dict[str, nas_runs.NASRecipe]:
    full, quick = SECTION_SETTINGS[SECTION]["full"], SECTION_SETTINGS[SECTION]["quick"]
    return {"full": nas_runs.NASRecipe.from_settings("full", full),
            "full-15ep": nas_runs.NASRecipe.from_settings("full-15ep", full, epochs=quick["epochs"], lr=quick["lr"])}


def _names(text: str, known, what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise ValueError(f"unknown {what} {bad or text!r}; choose from {sorted(known)}")
    return names


def _check_out(out: Path) -> None:
    """``out`` can be written as a file: not a folder, under folders only, in a writable folder."""
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give the results CSV's file name")
    existing = next((p for p in out.parents if p.exists()), Path("."))
    if not existing.is_dir():
        raise ValueError(f"--out {out} is under {existing}, which is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out}: cannot write in {existing}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=8, help="repeat seeds 0..N-1 (default 8)")
    ap.add_argument("--first-seed", type=int, default=0, help="start at this seed (default 0)")
    ap.add_argument("--models", default="companion,authors",
                    help=f"comma-separated of {MODEL_KINDS} and {CONTROLS!r} (the same-information controls)")
    ap.add_argument("--readout", default="pooled", help=f"subgraph readout of the models' runs, one of {READOUTS}")
    ap.add_argument("--recipes", default="full,full-15ep", help=f"comma-separated of {sorted(recipes())}")
    ap.add_argument("--out", type=Path, default=None,
                    help="results CSV (default: figures/fig5_nas_hypervolume_full.csv of this checkout)")
    ap.add_argument("--device", default="cpu", help="torch device for predictor training (cpu, cuda)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--compile", action="store_true",
                    help="train through torch.compile (equal up to float rounding; whether it pays on this machine: "
                         "benchmarks/bench_training.py --compile)")
    args = ap.parse_args(argv)

    if not 1 <= args.seeds <= MAX_SEEDS or args.first_seed < 0 or args.first_seed + args.seeds > 2**32:
        ap.error(f"--seeds must be in [1, {MAX_SEEDS}] and --first-seed >= 0, with every seed below 2**32 "
                 f"(got --seeds {args.seeds}, --first-seed {args.first_seed})")
    if not 1 <= args.threads <= MAX_THREADS:
        ap.error(f"--threads must be in [1, {MAX_THREADS}], got {args.threads}")
    out = args.out or (stored_results_dir() or Path("figures")) / "fig5_nas_hypervolume_full.csv"
    try:
        models = _names(args.models, (*MODEL_KINDS, CONTROLS), "model(s)")
        if args.readout not in READOUTS:
            raise ValueError(f"unknown --readout {args.readout!r}; choose from {READOUTS}")
        chosen = [recipes()[n] for n in _names(args.recipes, recipes(), "recipe(s)")]
        args.device = check_device(args.device)
        _check_out(out)
        store = nas_runs.NASRunStore(out)
    except (ValueError, OSError) as exc:
        ap.exit(2, f"{ap.prog}: error: {exc}\n")
    use_threads(args.threads)   # predictors trained at once too

    settings = SECTION_SETTINGS[SECTION]["full"]
    datasets = {s: load_dataset(s) for s in settings["spaces"]}
    refs = nas_runs.label_references(datasets, settings["devices"])
    units = [(seed, r, m) for seed in range(args.first_seed, args.first_seed + args.seeds) for r in chosen
             for m in models]
    baselines = {}
    for seed, recipe, model in tqdm(units, desc="seed x recipe x model", file=sys.stdout):
        if model == CONTROLS:
            if all(store.has_seed(recipe.name, m, seed, readout=r) for m, r in nas_runs.CONTROLS.values()):
                continue
            rows = nas_runs.run_controls(datasets, settings["devices"], recipe, seed, refs, device=args.device,
                                         compile=args.compile)
            store.add(rows)
            tqdm.write(f"seed {seed} {recipe.name} controls: {rows.wall_s.iloc[0]:.0f} s; HV "
                       + ", ".join(f"{r.method} {r.space}-{r.device} {r.hv:.4f}" for r in rows.itertuples()),
                       file=sys.stdout)
            continue
        if store.has_seed(recipe.name, model, seed, readout=args.readout):
            continue
        key = (seed, *recipe.search.values())
        known = nas_runs.stored_baselines(store.read(), seed, recipe)
        rows, baselines[key] = nas_runs.run_seed(datasets, settings["devices"], recipe, model, seed, refs,
                                                 baselines=baselines.get(key) if known is None else known,
                                                 device=args.device, readout=args.readout,
                                                 compile=args.compile)
        store.add(rows)
        ab = rows[rows.method == "AutoBuild-NAS"]
        tqdm.write(f"seed {seed} {recipe.name} {model} {args.readout}: {rows.wall_s.iloc[0]:.0f} s; AutoBuild-NAS HV "
                   + ", ".join(f"{r.space}-{r.device} {r.hv:.4f}" for r in ab.itertuples()), file=sys.stdout)
    print(f"stored in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
