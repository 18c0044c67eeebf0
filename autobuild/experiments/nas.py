"""Fig. 5 bottom: every candidate space searched with the same seeds, budget and reference,
summarised as hypervolume per method.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from autobuild.executor import Executor
from autobuild.search.evolution import Evaluate, evolutionary_search


def compare_searches(spaces: dict, evaluate: Evaluate, seeds: Sequence[int], ref, executor: Executor | None = None,
                     **kwargs):
    """Run every candidate space once per seed; return the results and a summary table.

    ``spaces[method]`` is one candidate space, searched with every seed, or a list holding
    one candidate space per seed (a space that itself depends on the seed, e.g. AutoBuild-NAS
    built from predictors trained with that seed). The summary has one row per method: the
    median search-space size over the seeds, mean and standard deviation of the final
    hypervolume (under the one reference point ``ref``) over the seeds, and the number of seeds.
    The searches are independent jobs: ``executor`` (default: in process) may spread them.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("compare_searches needs at least one seed")
    per_seed = {}
    for name, cs in spaces.items():
        if isinstance(cs, (list, tuple)):
            if len(cs) != len(seeds):
                raise ValueError(f"method {name!r} has {len(cs)} candidate spaces for {len(seeds)} seeds")
            per_seed[name] = list(cs)
        else:
            per_seed[name] = [cs] * len(seeds)
    jobs = [_SearchJob(cs, evaluate, s, name, kwargs) for name, spaces_of in per_seed.items()
            for s, cs in zip(seeds, spaces_of)]
    results = (executor or Executor()).map(_run_search, jobs, progress=False)
    rows = pd.DataFrame({"method": [r.method for r in results], "space_size": [r.space_size for r in results],
                         "hv": [r.hypervolume(ref) for r in results]})
    summary = (rows.groupby("method", sort=False)
               .agg(space_size=("space_size", lambda v: int(np.median(np.asarray(v, dtype=float)))),
                    hv_mean=("hv", "mean"),
                    hv_std=("hv", lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0),
                    n_seeds=("hv", "size"))
               .reset_index())
    return results, summary


@dataclass(frozen=True)
class _SearchJob:
    space: object
    evaluate: Evaluate
    seed: int
    method: str
    options: dict


def _run_search(job: _SearchJob):
    return evolutionary_search(job.space, job.evaluate, seed=job.seed, method=job.method, **job.options)
