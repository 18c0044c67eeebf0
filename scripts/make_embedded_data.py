"""Regenerate the embedded labelled sets ``data/ofa_mbv3.parquet`` and ``data/ofa_pn.parquet``.

    nice -n 10 .venv/bin/python scripts/make_embedded_data.py --shared-data ../shared/data

Samples ``--n`` architectures per space with ``space.sample(n, seed)``, labels them with every
back end of :mod:`autobuild.evaluators` (the authors' predictors, OFA's accuracy predictor and
Note10 tables, FLOPs/params of the ofa-built subnet, and its latency measured here), checks the
authors' MBv3 accuracy predictor against OFA's (rank correlation) and against OFA's specialized
networks, and writes each set atomically with its provenance in the parquet metadata.
The slow per-architecture part (build, count, time) is checkpointed to ``<out>.partial.csv``
so an interrupted run resumes where it stopped.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import json
import platform
import subprocess
import sys
from pathlib import Path

import pandas as pd
import torch
from scipy.stats import spearmanr
from tqdm import tqdm

from autobuild import _paths
from autobuild.evaluators import authors, released_net
from autobuild.evaluators import ofa_tables
from autobuild.evaluators import routing
from autobuild.evaluators import subnet
from autobuild.spaces.ofa import architecture_from_net_config
from autobuild.data.labelled import LabelledSet
from autobuild.data.parquet import write_parquet
from autobuild.spaces.ofa import MBV3, OFASpace
from autobuild.spaces.registry import get_space

DEFAULT_SEED = 2024
COLUMNS = {  # label column -> kind, in file order
    "acc": "estimate", "latency_gpu": "estimate", "latency_cpu": "estimate", "latency_npu": "estimate",
    "acc_ofa": "estimate", "latency_note10": "estimate",
    "latency_cpu_measured": "measurement", "flops": "count", "n_params": "count",
}
_PARTIAL_FIELDS = ["index", "arch", "flops", "n_params", "latency_cpu_measured"]


def machine_description(threads: int) -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        info = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
        cpu = f"{info.get('Model name', '?').strip()}, {info.get('CPU(s)', '?').strip()} logical CPU(s)"
        if "Hypervisor vendor" in info:
            cpu += f" ({info['Hypervisor vendor'].strip()} virtual machine)"
    except (OSError, subprocess.CalledProcessError):
        cpu = platform.processor() or "unknown CPU"
    return (f"{cpu}; {platform.system()} {platform.release()}; torch {torch.__version__}; "
            f"{threads} torch thread(s)")


def measure_all(space: OFASpace, archs, partial: Path, threads: int, warmup: int, repeats: int,
                clock: str) -> pd.DataFrame:
    """flops, n_params (millions) and measured CPU latency (ms) per architecture, resumable."""
    strings = [space.to_string(a) for a in archs]
    done: dict[int, dict] = {}
    if partial.exists():
        with open(partial, newline="") as fh:
            for row in csv.DictReader(fh):
                i = int(row["index"])
                if i >= len(strings) or row["arch"] != strings[i]:
                    raise SystemExit(f"{partial} belongs to another run (row {i} differs); delete it to start over")
                done[i] = {k: float(row[k]) for k in _PARTIAL_FIELDS[2:]}
    builder = subnet.SubnetBuilder()
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    new_file = not partial.exists()
    try:
        with open(partial, "a", newline="") as fh:
            writer = csv.DictWriter(fh, _PARTIAL_FIELDS)
            if new_file:
                writer.writeheader()
            todo = [i for i in range(len(archs)) if i not in done]
            for i in tqdm(todo, desc=f"{space.name}: build, count, time", initial=len(done), total=len(archs)):
                net = builder.build(archs[i])
                macs, params = subnet.count_complexity(net, archs[i].resolution)  # also a warm-up pass
                lat = subnet.measure_latency(net, archs[i].resolution, "cpu", warmup, repeats, clock)
                done[i] = {"flops": macs / 1e6, "n_params": params / 1e6, "latency_cpu_measured": lat}
                writer.writerow({"index": i, "arch": strings[i], **done[i]})
                fh.flush()
    finally:
        torch.set_num_threads(old_threads)
    return pd.DataFrame([done[i] for i in range(len(archs))])


def specialized_check(shared: Path) -> tuple[list[dict], dict[str, int]]:
    """Authors' MBv3 acc estimate vs the printed top-1 of OFA's specialized nets (in %).

    Returns rows for the OFA-MBv3 w1.2 nets (``fits``: resolution in the space; the others are
    evaluated at their own resolution, which the predictor reads as a continuous feature) and
    a count of the nets skipped, by reason.
    """
    backend = authors.AuthorsPredictors(shared)
    ofa_acc = ofa_tables.OFAAccuracy(shared)
    rows, skipped = [], {}
    for folder in sorted((shared / "ofa" / "specialized").glob("*/net.config")):
        name = folder.parent.name
        net_config = json.loads(folder.read_text())
        size = int(json.loads((folder.parent / "run.config").read_text())["image_size"])
        top1 = float(name.split("top1-")[1].split("_")[0])
        try:
            arch = architecture_from_net_config(net_config, size)
        except ValueError as exc:
            skipped[str(exc)] = skipped.get(str(exc), 0) + 1
            continue
        fits = size in MBV3.resolutions
        est = 100 * released_net.predict(backend.model("mbv3", "acc"), [arch], any_resolution=True)[0]
        ofa = round(100 * float(ofa_acc.predictor.predict_accuracy([MBV3.to_ofa_config(arch)])[0, 0]), 2) \
            if size < 240 else None  # OFA's predictor one-hot covers 112..239 px
        rows.append({"net": name, "resolution": size, "fits": fits, "top1": top1, "acc_estimate": round(est, 2),
                     "difference": round(est - top1, 2), "acc_ofa": ofa})
    return rows, skipped


def provenance(space: OFASpace, shared: Path, args, machine: str) -> dict:
    models = shared / "autobuild_l1_models"
    stem = {t: released_net.checkpoint_paths(models, space.name, t)[0].name for t in released_net.TARGETS}
    text = {t: f"ESTIMATE by the AutoBuild authors' published predictor {stem[t]} "
               f"({released_net.TARGETS[t]})" for t in released_net.TARGETS}
    text.update({
        "acc_ofa": "ESTIMATE by OFA's accuracy predictor (ofa.tutorial.AccuracyPredictor, acc_predictor.pth); "
                   "ImageNet top-1 (fraction)",
        "latency_note10": "ESTIMATE from OFA's Samsung Note10 per-operator latency lookup tables "
                          "(ofa.tutorial LatencyEstimator); ms",
        "latency_cpu_measured": f"MEASURED: ms per batch-1 forward of the ofa-built {space.ofa_net} subnet "
                                f"(random weights), median {args.clock}-clock time of {args.repeats} timed runs "
                                f"after {args.warmup} warm-up run(s) plus one counting pass, on {machine}, "
                                "shared with other jobs",
        "flops": f"COUNTED: millions of multiply-accumulates of conv and linear layers of the ofa-built "
                 f"{space.ofa_net} subnet at the architecture's resolution, batch 1 (OFA's 'FLOPs')",
        "n_params": f"COUNTED: millions of parameters of the ofa-built {space.ofa_net} subnet (incl. classifier)",
    })
    return {c: text[c] for c in COLUMNS if c in text}


def build_space(name: str, args) -> Path:
    space = get_space(name)
    shared = _paths.shared_data_dir(args.shared_data)
    archs = space.sample(args.n, seed=args.seed)
    evaluators = [authors.AuthorsPredictors(shared), ofa_tables.OFAAccuracy(shared), ofa_tables.Note10Latency(shared)]
    fast = [c for c in COLUMNS if COLUMNS[c] == "estimate" and any(c in e.metrics(name) for e in evaluators)]
    print(f"{name}: estimating {fast} for {len(archs)} architectures", file=sys.stderr)
    labels = {m: e.values for m, e in routing.evaluate(archs, fast, evaluators).items()}
    out = Path(args.out_dir) / f"ofa_{name}.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    measured = measure_all(space, archs, out.with_suffix(".partial.csv"), args.threads, args.warmup, args.repeats,
                           args.clock)
    labels.update({c: measured[c].to_numpy() for c in measured})
    columns = [c for c in COLUMNS if c in labels]
    machine = machine_description(args.threads)
    meta = {
        "space": name, "ofa_net": space.ofa_net, "n": args.n, "seed": args.seed,
        "sampler": f"autobuild.spaces.get_space({name!r}).sample({args.n}, seed={args.seed})",
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python scripts/make_embedded_data.py", *args.argv]),
        "machine": machine, "ofa_version": _version("ofa"),
        "kinds": {c: COLUMNS[c] for c in columns},
    }
    if "acc_ofa" in labels:
        meta["srcc_acc_vs_acc_ofa"] = round(float(spearmanr(labels["acc"], labels["acc_ofa"]).statistic), 4)
        meta["specialized_nets"], meta["specialized_skipped"] = specialized_check(shared)
        print(f"{name}: SRCC(acc, acc_ofa) = {meta['srcc_acc_vs_acc_ofa']}", file=sys.stderr)
        print(pd.DataFrame(meta["specialized_nets"]).to_string(index=False), file=sys.stderr)
        print(f"skipped: {meta['specialized_skipped']}", file=sys.stderr)
    dataset = LabelledSet(space, archs, pd.DataFrame({c: labels[c] for c in columns}),
                          provenance(space, shared, args, machine), str(out))
    write_parquet(dataset, out, {k: v for k, v in meta.items() if k != "space"}, dtype="float32")
    out.with_suffix(".partial.csv").unlink()
    print(f"{name}: wrote {out} ({len(dataset)} rows)", file=sys.stderr)
    return out


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spaces", nargs="+", default=["mbv3", "pn"], choices=["mbv3", "pn"])
    parser.add_argument("--n", type=int, default=3000, help="architectures per space")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--shared-data", default=None,
                        help=f"third-party data directory (default ${_paths.SHARED_ENV}, else ../shared/data)")
    parser.add_argument("--out-dir", default=str(Path(__file__).resolve().parents[1] / "data"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the latency measurement")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before timing (after the counting pass)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the median is stored")
    parser.add_argument("--clock", choices=["thread", "wall"], default="thread",
                        help="'thread': CPU time of the one torch thread (robust on a shared machine; "
                             "needs --threads 1); 'wall': wall-clock time")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"--n must be positive, got {args.n}")
    if args.clock == "thread" and args.threads != 1:
        parser.error("--clock thread times one thread: use --threads 1 or --clock wall")
    args.argv = argv
    try:
        for name in args.spaces:
            build_space(name, args)
    except (FileNotFoundError, ValueError) as exc:  # missing or unreadable third-party files
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
