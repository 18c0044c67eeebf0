"""Training speed: one predictor, N predictors at once, N one after another, and the authors' code.

    .venv/bin/python benchmarks/bench_training.py [--data embedded|PATH] [--device cpu|cuda]
        [--n 20] [--epochs 200] [--threads 1] [--authors-code DIR [--authors-deps DIR]] [--skip-sequential]

Every figure is measured in this run, on the same data (3k MBv3 architectures, target ``acc``,
batch 128): one predictor of each variant (the dense chain path, and PyG's for reference);
``--n`` companion predictors trained at once (seeds 0..n-1) beside the same predictors trained
one after another, with their mean test SRCC; with ``--authors-code`` (an unpacked copy of
github.com/Ascend-Research/AutoBuild, run as in ``shared/peer/README.md``) the authors'
``train_predictor.py`` for the same epochs. The wall time of the full profile of section 03 at 8
seeds is read from the run's own record (``figures/fig5_nas_hypervolume_full.csv``) when one exists.
Then, per variant, where one step of the n at once spends its time (torch.profiler, by kind of
operation) and how many MB of activations one predictor keeps per step for its backward.

Targets, on a 2-core CPU: one predictor <= 12 s; 20 at once <= 60 s with the SRCC of
one by one; on one GPU: 20 at once <= 10 s. Wall-clock figures are meaningful only on an
otherwise idle machine: the load average and process CPU times are printed beside them.
The last line is one JSON object with the keys ``one_predictor_s``, ``authors_s``,
``n_at_once``, ``n_at_once_s``, ``n_sequential_s``, ``device`` (and a few more).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from autobuild import _paths
from autobuild.data.load import load_dataset
from autobuild.experiments import nas_runs
from autobuild.graphs.table import GraphTable
from autobuild.predictor import TrainConfig, get_variant, train_many, train_predictor
from autobuild.predictor.config import cpu_threads
from autobuild.predictor.engines.dense import ChainBatch, stacked_forward
from autobuild.predictor.variants import build_model

TARGETS = {"cpu": {"one": 12.0, "n": 60.0}, "cuda": {"one": None, "n": 10.0}}


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def authors_seconds(code: Path | None, deps: Path | None, data: Path, epochs: int) -> float | None:
    """Wall seconds of the authors' ``train_predictor.py`` on ``data`` (None, with a message, without it)."""
    if code is None or not (code / "train_predictor.py").is_file():
        print("authors' code: skipped (give --authors-code DIR, an unpacked copy of their repository)")
        return None
    link = code / "cache" / "ofa_mbv3_custom_cache.pkl"
    link.parent.mkdir(exist_ok=True)
    if not link.exists():
        link.symlink_to(data.resolve())
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if deps is not None:
        env["PYTHONPATH"] = str(deps)
    cmd = [sys.executable, "-u", "train_predictor.py", "-families", "ofa_mbv3", "-target", "acc", "-format", "custom",
           "-epochs_predictor", str(epochs), "-batch_size", "128", "-seed", "0", "-tag", "bench"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        print(f"authors' code failed (exit {proc.returncode}): {proc.stderr[-500:]}")
        return None
    srcc = re.findall(r"Test SRCC: ([-\d.eE+]+)", proc.stdout)
    print(f"authors' train_predictor.py: {seconds:.1f} s wall (test SRCC {srcc[-1] if srcc else '?'})")
    return seconds


def full_profile_seconds() -> dict | None:
    """Per predictor variant, the summed wall time of the stored full profile of section 03
    (recipe ``full``, Fig. 5 bottom, every stored seed), read from its results file."""
    runs = nas_runs.stored_full_runs()
    full = runs[runs.recipe == "full"].drop_duplicates(["model", "seed"])
    if full.empty:
        print(f"full profile of 03: no stored run ({nas_runs.FULL_RUNS_FILE}) to read its wall time from")
        return None
    out = {}
    for model, part in full.groupby("model"):
        out[model] = {"seeds": int(part.seed.nunique()), "wall_s": round(float(part.wall_s.sum()), 1),
                      "machine": ", ".join(sorted(set(part.machine)))}
        print(f"full profile of 03, {model}: {out[model]['seeds']} seeds in {out[model]['wall_s'] / 60:.1f} min "
              f"({out[model]['machine']})")
    return out


#: torch.profiler op names, by what the time is spent on
OP_KINDS = {"matrix products": ("bmm", "baddbmm", "addmm", "mm", "matmul", "linear"),
            "soft ranks": ("SoftRank", "SoftRankBackward", "sort"),
            "optimiser": ("_fused_adamw_", "Optimizer")}


def profile_step(table: GraphTable, vocab: dict, y: np.ndarray, config: TrainConfig, n: int, steps: int = 5) -> dict:
    """One training step of ``n`` stacked predictors: its ms, the share of each kind of operation,
    and the MB of activations one predictor saves for its backward."""
    from torch.func import stack_module_state
    from torch.profiler import ProfilerActivity, profile

    with cpu_threads(config):
        models = [build_model(config, vocab) for _ in range(n)]
        params, buffers = stack_module_state(models)
        params = {k: v.detach().requires_grad_(True) for k, v in params.items()}
        buffers = {k: v.detach().clone() for k, v in buffers.items()}
        opt = torch.optim.AdamW(list(params.values()), lr=config.lr, fused=True)
        chains, gen = ChainBatch.from_table(table), torch.Generator().manual_seed(0)
        target_all = torch.as_tensor((y - y.mean()) / y.std(), dtype=torch.float32)
        idx = torch.stack([torch.randperm(len(y), generator=gen)[:config.batch_size] for _ in range(n)])
        saved = []

        def step():
            x, mask = chains.gather(idx)
            pred, _, graph_embs = stacked_forward(params, buffers, models[0], x, mask, training=True)
            target = target_all[idx]
            loss = ((pred - target) ** 2).mean(1) + get_variant(config.model).stacked_ranking_term(graph_embs, target, 1.0)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()

        def pack(t):
            saved.append(t.numel() * t.element_size())
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            step()
        for _ in range(2):
            step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        step_ms = (time.perf_counter() - start) / steps * 1e3
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(steps):
                step()
    kinds = dict.fromkeys([*OP_KINDS, "element-wise and copies"], 0.0)
    for event in prof.key_averages():
        if not event.key.startswith("aten::") and not any(event.key.startswith(k) for k in OP_KINDS["soft ranks"]):
            continue
        name = event.key.removeprefix("aten::")
        kind = next((k for k, names in OP_KINDS.items() if name in names), "element-wise and copies")
        kinds[kind] += event.self_cpu_time_total / 1e3 / steps
    total = sum(kinds.values())
    saved_mb = sum(saved) / n / 2**20
    return {"step_ms": round(step_ms, 2), "saved_mb_per_predictor": round(saved_mb, 1),
            "share": {k: round(v / total, 3) for k, v in kinds.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=None, help="default: the real-schema MBv3 cache in the shared data, else embedded")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads for the n at once and one by one")
    ap.add_argument("--authors-code", type=Path, default=None)
    ap.add_argument("--authors-deps", type=Path, default=None)
    ap.add_argument("--skip-sequential", action="store_true", help="do not train the n predictors one by one")
    ap.add_argument("--compile", action="store_true", help="also train the n at once through torch.compile")
    args = ap.parse_args()

    cache = _paths.shared_data_dir() / "paper_schema_samples" / "mbv3_ofaacc_3k_cache.pkl"
    source = args.data or (str(cache) if cache.is_file() else "embedded")
    data = load_dataset("mbv3", source=source)
    y = data.target("acc")
    table = GraphTable.from_architectures(data.space, data.archs)
    device = TrainConfig(device=args.device).device
    print(f"data: {len(y)} MBv3 architectures from {data.source}; {args.epochs} epochs, batch 128, {device}")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; torch {torch.__version__}")

    one = {}
    for model in ("companion", "authors"):
        cfg = TrainConfig(epochs=args.epochs, device=device, model=model, progress=False)
        for path in ("dense", "pyg"):
            t, wall, cpu = timed(lambda: train_predictor(data.space, data.archs, y, cfg, path=path))
            one[(model, path)] = wall
            print(f"one predictor, {model:9s} {path:5s}: {wall:6.1f} s wall, {cpu:6.1f} s CPU, "
                  f"test SRCC {t.metrics['srcc']:.3f}")
    target = TARGETS["cuda" if device.startswith("cuda") else "cpu"]
    if args.epochs != 200:  # the targets are for the paper's 200 epochs
        target = {"one": None, "n": None}
        print(f"  (targets are for 200 epochs; this run trains {args.epochs}: no ratio is printed)")
    if target["one"]:
        print(f"  target {target['one']:.0f} s: ratio {one[('companion', 'dense')] / target['one']:.2f}")

    configs = [TrainConfig(epochs=args.epochs, device=device, seed=s, progress=False, cpu_threads=args.threads)
               for s in range(args.n)]
    many, n_wall, n_cpu = timed(lambda: train_many(table, data.space.feature_vocab, [y] * args.n, configs))
    srcc_many = float(np.mean([t.metrics["srcc"] for t in many]))
    versus = f"; target {target['n']:.0f} s: ratio {n_wall / target['n']:.2f}" if target["n"] else ""
    print(f"{args.n} at once: {n_wall:.1f} s wall, {n_cpu:.1f} s CPU, mean test SRCC {srcc_many:.4f}{versus}")
    compiled_wall = None
    if args.compile:
        fused = [replace(c, compile=True) for c in configs]
        _, compiled_wall, compiled_cpu = timed(lambda: train_many(table, data.space.feature_vocab, [y] * args.n, fused))
        print(f"{args.n} at once, torch.compile (compile included): {compiled_wall:.1f} s wall, {compiled_cpu:.1f} s CPU")
    seq_wall, srcc_seq = None, None
    if not args.skip_sequential:
        seq, seq_wall, seq_cpu = timed(lambda: [train_predictor(data.space, data.archs, y, c) for c in configs])
        srcc_seq = float(np.mean([t.metrics["srcc"] for t in seq]))
        print(f"{args.n} one after another: {seq_wall:.1f} s wall, {seq_cpu:.1f} s CPU, mean test SRCC {srcc_seq:.4f} "
              f"(at once is x{seq_wall / n_wall:.2f} faster; SRCC difference {srcc_many - srcc_seq:+.4f})")

    authors = authors_seconds(args.authors_code, args.authors_deps, Path(source), args.epochs) \
        if source != "embedded" else None
    if authors:
        print(f"  one companion predictor vs the authors' code: x{authors / one[('companion', 'dense')]:.2f} faster")
    full = full_profile_seconds()
    profiles = {}
    for model in ("companion", "authors"):
        profiles[model] = profile_step(table, data.space.feature_vocab, y, replace(configs[0], model=model), args.n)
        p = profiles[model]
        print(f"one step of {args.n} {model} predictors at once: {p['step_ms']:.1f} ms; "
              + ", ".join(f"{k} {v:.0%}" for k, v in p["share"].items())
              + f"; {p['saved_mb_per_predictor']:.1f} MB of activations saved per predictor")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(json.dumps({"one_predictor_s": round(one[("companion", "dense")], 2),
                      "one_predictor_authors_variant_s": round(one[("authors", "dense")], 2),
                      "authors_s": None if authors is None else round(authors, 2),
                      "n_at_once": args.n, "n_at_once_s": round(n_wall, 2),
                      "n_at_once_compiled_s": None if compiled_wall is None else round(compiled_wall, 2),
                      "n_sequential_s": None if seq_wall is None else round(seq_wall, 2),
                      "srcc_at_once": round(srcc_many, 4), "srcc_sequential": None if srcc_seq is None else round(srcc_seq, 4),
                      "full_profile_03_s": full, "step_profile": profiles, "threads": args.threads,
                      "epochs": args.epochs, "device": device}))


if __name__ == "__main__":
    main()
