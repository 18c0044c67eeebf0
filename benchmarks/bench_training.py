"""Time one full training run (3k architectures, 200 epochs, batch 128) and scoring of every
MBv3 stage subgraph; print the figures beside the targets of issue 2.

    .venv/bin/python benchmarks/bench_training.py [--data embedded|PATH] [--device cpu|cuda]

Targets: training <= 60 s on a 2-core CPU (the authors' code: 125 s on the same data and
machine), <= 15 s on one H100; scoring all 5 x 7,371 MBv3 subgraphs <= 2 s on CPU.
Wall-clock timings are only meaningful on an otherwise idle machine: the script prints the
load average, and the process CPU time, which for this single-threaded run is close to the
wall-clock time it would take on an idle machine.
"""
from __future__ import annotations

import argparse
import os
import time

import torch

from autobuild.data.load import load_dataset
from autobuild.predictor.scoring import SubgraphScorer
from autobuild.predictor.training import TrainConfig, train_predictor

TARGETS = {"cpu": 60.0, "cuda": 15.0}
AUTHORS_CPU_SECONDS = 125.0
SCORING_TARGET = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="embedded")
    parser.add_argument("--target", default="acc")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args()

    data = load_dataset("mbv3", source=args.data)
    y = data.target(args.target)
    print(f"data: {len(y)} MBv3 architectures from {data.source}, target {args.target!r}")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; torch {torch.__version__}")

    config = TrainConfig(epochs=args.epochs, device=args.device, progress=False)
    start, cpu_start = time.perf_counter(), time.process_time()
    trained = train_predictor(data.space, data.archs, y, config)
    train_s, train_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    m = trained.metrics
    print(f"training: {train_s:.1f} s for {args.epochs} epochs on {config.device} "
          f"(target {TARGETS['cuda' if config.device.startswith('cuda') else 'cpu']:.0f} s; "
          f"authors' code on CPU {AUTHORS_CPU_SECONDS:.0f} s -> speed-up x{AUTHORS_CPU_SECONDS / train_s:.2f}); "
          f"process CPU time {train_cpu:.1f} s")
    print("test SRCC head {:.3f}; hops 0..4: {}".format(m["srcc"], " ".join(f"{v:.3f}" for v in m["hop_srcc"])))

    start = time.perf_counter()
    scorer = SubgraphScorer.from_data(trained, data.archs, y)
    moments_s = time.perf_counter() - start
    start = time.perf_counter()
    scores = scorer.score_all()
    score_s = time.perf_counter() - start
    print(f"scoring: {len(scores)} stage subgraphs in {score_s:.2f} s (target {SCORING_TARGET:.0f} s, "
          f"ratio {score_s / SCORING_TARGET:.2f}); dataset moments {moments_s:.2f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
