#!/usr/bin/env python
"""Both predictor variants (``companion``, ``authors``) on one labelled set, several seeds.

For every variant and seed: train with the paper's defaults (TrainConfig, 200 epochs), record
the test SRCC of the head and of every hop, the MAE in label units and the training time, then
score every stage subgraph with each readout (``SubgraphScorer.from_data``, ``pooled`` and
``root``) and compare the scores of every seed pair per stage: Spearman, top-25 overlap, top-1 agreement.

With ``--authors-code DIR`` (an unpacked copy of github.com/Ascend-Research/AutoBuild, run as in
``shared/peer/README.md``) their own ``train_predictor.py`` runs for the same seeds too (their
split: ``-seed`` also sets it) and its printed test SRCCs are recorded as variant "authors' code".

Writes, row by row as each run finishes (an interrupted run resumes; rows already present
are skipped):

* ``figures/predictor_variants.csv``: variant, seed, head and hop SRCCs, MAE, seconds, date, machine, data file;
* ``figures/predictor_variants_stability.csv``: variant, scorer readout, stage, seed pair, Spearman,
  top-25 overlap, top-1 agreement (and both top-1 subgraphs).

Checkpoints, subgraph scores and the authors' logs go to ``--work-dir`` (default
``_build/compare_predictors``), so the stability table can be rebuilt without training again.

    nice -n 10 .venv/bin/python scripts/compare_predictors.py --authors-code /tmp/authors/code
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from tqdm import tqdm

from autobuild import _paths
from autobuild._io import TableStore, machine_description
from autobuild.data.load import load_dataset
from autobuild.predictor.checkpoint import load_predictor, save_predictor
from autobuild.predictor.scoring import READOUTS, SubgraphScorer
from autobuild.predictor import TrainConfig, train_predictor
from autobuild.predictor.variants import MODEL_KINDS

DEFAULT_DATA = "paper_schema_samples/mbv3_ofaacc_3k_cache.pkl"  # under the shared data folder
AUTHORS_CODE = "authors' code"
TOP_N = 25


def data_label(path: Path) -> str:
    """The data file as recorded: relative to the shared data folder when it lies there."""
    try:
        return str(path.resolve().relative_to(_paths.shared_data_dir().resolve()))
    except ValueError:
        return str(path.resolve())


VARIANT_COLUMNS = ("variant", "seed", "split", "n_train", "n_test", "head_srcc",
                   *(f"hop{h}_srcc" for h in range(5)), "mae", "train_seconds", "train_cpu_seconds",
                   "data_file", "target", "epochs", "date", "machine")
STABILITY_COLUMNS = ("variant", "readout", "stage", "seed_a", "seed_b", "n_subgraphs", "spearman", "top25_overlap",
                     "top1_agree", "top1_a", "top1_b", "data_file", "target", "epochs", "date", "machine")
COMMON_KEYS = ("data_file", "target", "epochs")


def variant_store(path: Path) -> TableStore:
    """One row per (variant, seed) and data set: SRCCs, MAE and training time."""
    return TableStore(path, VARIANT_COLUMNS, keys=("variant", "seed", *COMMON_KEYS))


def stability_store(path: Path) -> TableStore:
    """One row per (variant, readout, stage, seed pair) and data set: agreement of their scores."""
    return TableStore(path, STABILITY_COLUMNS, keys=("variant", "readout", "stage", "seed_a", "seed_b", *COMMON_KEYS))


def add_row(store: TableStore, row: dict) -> None:
    """Store one row; a column the row lacks (the authors' code reports fewer) stays empty."""
    store.add(pd.DataFrame([{c: row.get(c, np.nan) for c in store.columns}]))


# Our two variants ------------------------------------------------------------------------------

def run_variant(variant: str, seed: int, dataset, y, args, work: Path) -> tuple[dict | None, pd.DataFrame]:
    """Train (or reload) one predictor; its result row (None when reloaded) and its subgraph scores."""
    run_dir = work / f"{variant}_s{seed}"
    checkpoint = run_dir / "predictor.pt"
    row = None
    if checkpoint.is_file() and not args.need_row(variant, seed):
        trained, payload = load_predictor(checkpoint, device=args.device)
        scorer = SubgraphScorer(trained, payload["scorer_state"])
    else:
        config = TrainConfig(epochs=args.epochs, seed=seed, device=args.device, model=variant, progress=True)
        wall, cpu = time.perf_counter(), time.process_time()
        trained = train_predictor(dataset.space, dataset.archs, y, config)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        scorer = SubgraphScorer.from_data(trained, dataset.archs, y)
        run_dir.mkdir(parents=True, exist_ok=True)
        save_predictor(trained, checkpoint, equation=args.target, scorer_state=scorer.state,
                       data_source=str(args.data))
        for old in run_dir.glob("scores_*.csv"):  # scores of an earlier checkpoint
            old.unlink()
        m = trained.metrics
        row = {"variant": variant, "seed": seed, "split": "ours (split_indices)", "n_train": len(trained.train_idx),
               "n_test": m["n_test"], "head_srcc": m["srcc"],
               **{f"hop{h}_srcc": v for h, v in enumerate(m["hop_srcc"])},
               "mae": m["mae"], "train_seconds": round(wall, 1), "train_cpu_seconds": round(cpu, 1)}
    scores = {}
    for readout in READOUTS:  # every readout of the same predictor
        scores_file = run_dir / f"scores_{readout}.csv"
        if scores_file.is_file():
            scores[readout] = pd.read_csv(scores_file)
            continue
        by = SubgraphScorer.from_data(trained, dataset.archs, y, readout)
        scores[readout] = by.score_all()[["stage", "index", "subgraph", "n_layers", "score", "rank"]].assign(
            readout=readout)
        scores[readout].to_csv(scores_file, index=False)
    return row, scores


def stability_rows(variant: str, scores: dict[int, pd.DataFrame]):
    """Per stage and seed pair: Spearman of the scores, top-25 overlap, top-1 agreement."""
    for (a, sa), (b, sb) in itertools.combinations(sorted(scores.items()), 2):
        for stage in sorted(sa.stage.unique()):
            x = sa[sa.stage == stage].sort_values("index")
            z = sb[sb.stage == stage].sort_values("index")
            top_x, top_z = set(x.nsmallest(TOP_N, "rank")["index"]), set(z.nsmallest(TOP_N, "rank")["index"])
            best_x, best_z = x.loc[x["rank"] == 1, "subgraph"].iloc[0], z.loc[z["rank"] == 1, "subgraph"].iloc[0]
            yield {"variant": variant, "readout": sa.readout.iloc[0], "stage": int(stage), "seed_a": a, "seed_b": b,
                   "n_subgraphs": len(x),
                   "spearman": spearmanr(x.score.to_numpy(), z.score.to_numpy()).statistic,
                   f"top{TOP_N}_overlap": len(top_x & top_z), "top1_agree": bool(best_x == best_z),
                   "top1_a": best_x, "top1_b": best_z}


# The authors' own code ------------------------------------------------------------------------

def authors_env(code: Path, deps: Path | None) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    if deps is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(deps), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def link_authors_cache(code: Path, data: Path, space: str) -> None:
    """Their loader reads ``cache/ofa_<space>_custom_cache.pkl``: make it the same file as ``data``."""
    link = code / "cache" / f"ofa_{space}_custom_cache.pkl"
    if link.exists() or link.is_symlink():
        if not (link.exists() and os.path.samefile(link, data)):
            sys.exit(f"{link} exists and is not {data}; move it away or point it at the data file")
        return
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(data.resolve())


def parse_authors_log(text: str) -> dict:
    def number(pattern):
        found = re.findall(pattern, text)
        if not found:
            raise ValueError(f"the authors' train_predictor.py printed no line matching {pattern!r}")
        return float(found[-1])
    sigma = number(r"Training data distribution: N\([^,]+, ([-\d.eE+]+)\)")
    hops = {int(h): float(v) for h, v in re.findall(r"Embed (\d+)-hop SRCC: ([-\d.eE+]+)", text)}
    return {"head_srcc": number(r"Test SRCC: ([-\d.eE+]+)"), **{f"hop{h}_srcc": v for h, v in sorted(hops.items())},
            "mae": number(r"Test MAE: ([-\d.eE+]+)") * sigma}  # they print MAE on standardised labels


def run_authors_code(seed: int, n: int, args, work: Path) -> dict:
    code = args.authors_code
    log = work / f"authors_code_s{seed}.log"
    cmd = [sys.executable, "-u", "train_predictor.py", "-families", f"ofa_{args.space}", "-target", args.target,
           "-format", "custom", "-epochs_predictor", str(args.epochs), "-batch_size", "128", "-seed", str(seed),
           "-tag", f"compare{seed}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.run(cmd, cwd=code, env=authors_env(code, args.authors_deps), stdout=out,
                              stderr=subprocess.STDOUT)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        sys.exit(f"the authors' train_predictor.py failed (exit {proc.returncode}); see {log}")
    return {"variant": AUTHORS_CODE, "seed": seed, "split": "theirs (random.shuffle)",
            "n_train": int(0.9 * n), "n_test": n - int(0.9 * n),  # their data_loader.py split
            **parse_authors_log(log.read_text(errors="replace")),
            "train_seconds": round(wall, 1),  # the whole script: loading, 200 epochs, test, moments
            "train_cpu_seconds": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 1)}


# Driver ------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=None,
                   help=f"labelled set (default: <shared data>/{DEFAULT_DATA}; $AUTOBUILD_SHARED_DATA)")
    p.add_argument("--space", default="mbv3")
    p.add_argument("--target", default="acc")
    p.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--variants", nargs="+", choices=MODEL_KINDS, default=list(MODEL_KINDS))
    p.add_argument("--device", default="cpu")
    p.add_argument("--authors-code", type=Path, default=None, help="an unpacked copy of the authors' repository")
    p.add_argument("--authors-deps", type=Path, default=None,
                   help="folder of their extra dependencies, put on PYTHONPATH (default: DIR/../deps if present)")
    p.add_argument("--figures-dir", type=Path, default=None, help="default: autobuild._paths.figures_dir()")
    p.add_argument("--work-dir", type=Path, default=Path("_build/compare_predictors"))
    args = p.parse_args(argv)
    args.data = (args.data or _paths.shared_data_dir() / DEFAULT_DATA).resolve()
    if not args.data.is_file():
        p.error(f"no labelled set at {args.data}")
    if args.authors_code is not None:
        args.authors_code = args.authors_code.resolve()
        if not (args.authors_code / "train_predictor.py").is_file():
            p.error(f"--authors-code {args.authors_code} holds no train_predictor.py")
        if args.authors_deps is None and (args.authors_code.parent / "deps").is_dir():
            args.authors_deps = args.authors_code.parent / "deps"
    figures = args.figures_dir or _paths.figures_dir()
    results_csv, stability_csv = figures / "predictor_variants.csv", figures / "predictor_variants_stability.csv"
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    common = {"data_file": data_label(args.data), "target": args.target, "epochs": args.epochs}
    results, stability = variant_store(results_csv), stability_store(stability_csv)
    args.need_row = lambda variant, seed: not results.has(**common, variant=variant, seed=seed)
    host = machine_description(args.device)

    def stamp() -> dict:
        return {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "machine": host}

    dataset = load_dataset(args.space, source=args.data)
    y = dataset.target(args.target)
    jobs = [(v, s) for v in args.variants for s in args.seeds]
    if args.authors_code is not None:
        link_authors_cache(args.authors_code, args.data, args.space)
        jobs += [(AUTHORS_CODE, s) for s in args.seeds]
    scores: dict[tuple[str, str], dict[int, pd.DataFrame]] = {(v, r): {} for v in args.variants for r in READOUTS}
    for variant, seed in tqdm(jobs, desc="predictors", unit="run"):
        if variant == AUTHORS_CODE:
            if args.need_row(variant, seed):
                row = run_authors_code(seed, len(y), args, work)
                add_row(results, {**row, **common, **stamp()})
            continue
        row, by_readout = run_variant(variant, seed, dataset, y, args, work)
        for readout, table in by_readout.items():
            scores[(variant, readout)][seed] = table
        if row is not None:
            add_row(results, {**row, **common, **stamp()})
            tqdm.write(f"{variant} seed {seed}: head {row['head_srcc']:.4f}, MAE {row['mae']:.5f}, "
                       f"{row['train_seconds']} s")

    for (variant, _), by_seed in scores.items():
        for row in stability_rows(variant, by_seed):
            key = {**common, **{k: row[k] for k in ("variant", "readout", "stage", "seed_a", "seed_b")}}
            if not stability.has(**key):
                add_row(stability, {**row, **common, **stamp()})
    print(f"wrote {results_csv} and {stability_csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
