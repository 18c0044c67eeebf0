"""Rate of Exhaustive Search over the whole SDv1.4 U-Net space (paper Sec. 5.3).

Target: every one of the 839,808 architectures scored by one predictor in well under
2 min / 20 on a CPU (a 20-member ensemble then scores the space in < 2 min), seconds on a GPU.
Prints the rate of ``autobuild.predictor.ensemble.predict_space`` (stage-sum tables, exact) beside
plain batched ``TrainedPredictor.predict`` on a sample, and checks they agree.

    .venv/bin/python benchmarks/bench_exhaustive_search.py [--members 1] [--threads 1]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from autobuild.predictor.ensemble import predict_space
from autobuild.predictor import TrainConfig, train_predictor
from autobuild.spaces.unet import SD14_UNET as S


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=1, help="predictors to time (an ensemble has 20)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sample", type=int, default=20_000, help="architectures for the plain-predict rate")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    archs = S.sample(68, 0)
    y = np.random.default_rng(0).normal(size=68)
    predictor = train_predictor(S, archs, y, TrainConfig(epochs=5, ranking_loss=False, progress=False,
                                                         cpu_threads=args.threads))
    times = []
    for _ in range(args.members):
        t0 = time.perf_counter()
        scores = predict_space(predictor, S, check=0)
        times.append(time.perf_counter() - t0)
    per = float(np.median(times))
    print(f"space size                  : {S.size:,} architectures")
    print(f"predict_space, one predictor: {per:.2f} s  ({S.size / per:,.0f} archs/s, {args.threads} thread(s))")
    print(f"20-member ensemble (est.)   : {20 * per:.0f} s  (target < 120 s)")

    idx = S.all_choice_indices()
    pick = np.random.default_rng(1).choice(S.size, args.sample, replace=False)
    sample = [S.from_indices(idx[i]) for i in pick]
    t0 = time.perf_counter()
    ref = predictor.predict(sample)
    plain = time.perf_counter() - t0
    print(f"plain batched predict       : {args.sample / plain:,.0f} archs/s "
          f"(whole space would take {S.size / args.sample * plain:.0f} s per predictor)")
    print(f"max |difference| on sample  : {np.abs(scores[pick] - ref).max():.2e}")


if __name__ == "__main__":
    main()
