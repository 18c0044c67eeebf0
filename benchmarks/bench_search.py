"""Time one 250-architecture evolutionary search per baseline space, with predictor back ends.

Target: one search of 250 evaluated architectures under 30 s on a CPU, so that
AutoBuild-NAS and its baselines are interactive. Objectives come from the paper authors'
published predictors (``autobuild.evaluators.AuthorsPredictors``: ImageNet top-1 and the
latency of the chosen device); the AutoBuild-NAS space needs trained predictors and is
timed by the notebook instead, but its search loop is the same as Stage-Full's over fewer
candidates.

    .venv/bin/python benchmarks/bench_search.py [--space mbv3] [--device gpu] [--seed 0]
"""
from __future__ import annotations

import argparse
import time

import torch

from autobuild import search
from autobuild.search.pareto import nadir_reference
from autobuild.spaces.registry import get_space


class Timed:
    """Wraps an evaluate callable and adds up the time spent inside it."""

    def __init__(self, evaluate):
        self.evaluate, self.seconds, self.calls = evaluate, 0.0, 0

    @property
    def backends(self):
        return self.evaluate.backends

    def __call__(self, archs):
        start = time.perf_counter()
        try:
            return self.evaluate(archs)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="mbv3", choices=("mbv3", "pn"))
    parser.add_argument("--device", default="gpu", choices=("gpu", "cpu", "npu"),
                        help="whose latency the search minimises (the authors' predictor for it)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    space = get_space(args.space)
    objectives = search.Objectives("acc", f"latency_{args.device}")
    start = time.perf_counter()
    ref_archs = space.sample(500, seed=12345)
    ref = nadir_reference(*objectives(ref_archs))  # also loads the two predictors once
    print(f"predictors loaded and 500 reference architectures scored in {time.perf_counter() - start:.2f} s")
    print(f"hypervolume reference: acc {ref.perf:.4f}, latency {ref.cost:.3f} ms (nadir of 500 random architectures)")
    print(f"objective back ends: {objectives.backends}")

    makers = {"Stage-Full": search.stage_full, "Layer-Full": search.layer_full,
              "Layer-Insight": lambda s: search.layer_insight(s, args.device)}
    print(f"\n{'method':<14}{'build s':>9}{'search s':>10}{'eval s':>8}{'evaluated':>11}{'front':>7}{'HV':>10}")
    worst = 0.0
    for name, make in makers.items():
        t0 = time.perf_counter()
        cspace = make(space)
        t1 = time.perf_counter()
        timed = Timed(objectives)
        res = search.evolutionary_search(cspace, timed, budget=250, seed=args.seed, method=name, progress=False)
        t2 = time.perf_counter()
        worst = max(worst, t2 - t0)
        print(f"{name:<14}{t1 - t0:9.2f}{t2 - t1:10.2f}{timed.seconds:8.2f}{res.n_evaluated:11d}"
              f"{len(res.front()):7d}{res.hypervolume(ref):10.4f}")
    verdict = "meets" if worst < 30 else "MISSES"
    print(f"\nslowest space build + 250-architecture search: {worst:.2f} s on "
          f"{torch.get_num_threads()} CPU thread(s) -- {verdict} the 30 s target")


if __name__ == "__main__":
    main()
